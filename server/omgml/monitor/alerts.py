"""Alert rules against one batch's measurements: fired, quiet, or not evaluated (never fired on a guess)."""

from __future__ import annotations

import operator
from collections.abc import Sequence

from omgml.config import AlertRule
from omgml.monitor.models import AlertResult

COMPARE = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def evaluate(
    rules: Sequence[AlertRule], measured: dict[str, float | None], why_not: dict[str, str]
) -> list[AlertResult]:
    """Each rule against ``measured``; a metric measured as None is 'not evaluated' with ``why_not[metric]``."""
    results = []
    for rule in rules:
        value = measured.get(rule.metric)
        if value is None:
            status, reason = "not_evaluated", why_not.get(rule.metric, f"{rule.metric} was not measured")
        else:
            fired = COMPARE[rule.op](value, rule.threshold)
            status = "fired" if fired else "quiet"
            reason = f"{rule.metric} is {_number(value)}, {'' if fired else 'not '}{rule.op} {_number(rule.threshold)}"
        results.append(
            AlertResult(
                rule=rule.text,
                metric=rule.metric,
                op=rule.op,
                threshold=rule.threshold,
                value=value,
                status=status,  # type: ignore[arg-type]
                reason=reason,
            )
        )
    return results


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.4g}"


def drift_streak(previous: Sequence[bool | None], this: bool | None) -> int | None:
    """How many consecutive batches, ending with this one, had dataset drift; None when this one was not checked.

    A batch whose drift was not checked (None) ends the streak: persistence is claimed only from evidence.
    """
    if this is None:
        return None
    streak = 0
    for drifted in [*previous, this][::-1]:
        if not drifted:
            break
        streak += 1
    return streak
