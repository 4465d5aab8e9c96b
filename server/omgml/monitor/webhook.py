"""Post fired alerts to a webhook: one JSON POST per rule, a Slack-compatible ``text`` plus structured fields.

stdlib ``urllib`` only. Each POST has a timeout and is retried twice with backoff when the hook is unreachable
(connection refused, a timeout) or answers 5xx; a 4xx is the hook refusing the payload and is not retried. A
failure is returned as a ``Delivery``, never raised: the batch is already in the history, and an alert that
cannot be posted must not turn a monitoring run into a crash.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from omgml.errors import first_line
from omgml.monitor.models import Delivery

TIMEOUT = 5.0  # seconds per attempt
BACKOFF = (0.5, 1.0)  # seconds before the first and the second retry
USER_AGENT = "omgml-monitor"


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another http(s) URL (urllib alone would also follow one to ftp)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"redirect to a non-http(s) URL refused: {msg}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def shown(url: str) -> str:
    """The hook as reports show it: scheme and host, never the path (a Slack hook's path is its secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def post_all(url: str, payloads: Iterable[tuple[str, dict[str, Any]]]) -> list[Delivery]:
    """POST each ``(rule, payload)`` in turn; one ``Delivery`` per rule.

    Once the hook gave no answer at all (refused, timed out) through every retry, the rules after it are not
    tried: each would wait out the same timeouts, and a cron job must not hang for minutes on a dead hook.
    """
    deliveries: list[Delivery] = []
    for rule, payload in payloads:
        dead = next((d for d in deliveries if not d.delivered and d.status_code is None), None)
        if dead is not None:
            why = f"not tried: the hook did not answer the post of '{dead.rule}'"
            deliveries.append(Delivery(rule=rule, delivered=False, attempts=0, status_code=None, error=why))
            continue
        deliveries.append(post(url, rule, payload))
    return deliveries


def post(url: str, rule: str, payload: dict[str, Any]) -> Delivery:
    body = json.dumps(payload, ensure_ascii=False).encode()
    attempts = 0
    status: int | None = None
    error = ""
    for wait in (None, *BACKOFF):
        if wait is not None:
            time.sleep(wait)
        attempts += 1
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        try:
            with _OPENER.open(request, timeout=TIMEOUT) as response:
                status = response.status
            return Delivery(rule=rule, delivered=True, attempts=attempts, status_code=status, error="")
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500:
                break
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, refused, timeout, a bad reply
            status = None
            reason = getattr(exc, "reason", exc)
            error = (
                f"{type(reason).__name__}: {first_line(reason)}" if isinstance(reason, BaseException) else str(reason)
            )
    return Delivery(rule=rule, delivered=False, attempts=attempts, status_code=status, error=error)


def slack_escape(text: str) -> str:
    """Slack reads ``&``, ``<`` and ``>`` in ``text`` as markup: a column name must stay a name."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
