"""The one error family: every failure a user can fix says what, why, and how to fix it."""

from __future__ import annotations

from typing import TypeVar

M = TypeVar("M")


class OmgmlError(ValueError, TypeError):
    """A failure caused by the input or the environment, not by a bug in omgml.

    Inherits ``ValueError`` and ``TypeError`` so callers catching either keep working.
    The three parts are kept apart so each face can lay them out its own way; ``str()``
    joins them into one line for the CLI and the MCP tool error.
    """

    def __init__(self, what: str, why: str = "", fix: str = "") -> None:
        self.what, self.why, self.fix = what.rstrip("."), why.rstrip("."), fix.rstrip(".")
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.what]
        if self.why:
            parts.append(self.why if self.why.startswith("omgml") else self.why[:1].upper() + self.why[1:])
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return ". ".join(parts) + "."


class InvalidInput(OmgmlError):
    """An argument that cannot be used as given."""


class PathError(OmgmlError):
    """A path that is missing, of the wrong kind, unwritable, or outside the project root."""


class ConfigError(OmgmlError):
    """An ``omgml.toml`` that cannot be read or does not make sense."""


def first_line(value: object) -> str:
    """The first line of ``str(value)`` (its type name when empty), at most 300 characters: an error in one line."""
    text = str(value).strip()
    return (text.splitlines()[0] if text else type(value).__name__)[:300]


def parse_request(model: type[M], request: M | dict | None, what: str) -> M:
    """``request`` as a ``model``; a dict that does not fit raises one readable ``InvalidInput``."""
    if isinstance(request, model):
        return request
    from pydantic import ValidationError

    try:
        return model.model_validate(request or {})
    except ValidationError as exc:
        raise from_validation_error(exc, f"The {what} request is not valid") from exc


def from_validation_error(exc: pydantic.ValidationError, what: str) -> InvalidInput:  # noqa: F821
    """Turn a pydantic validation error into one readable ``InvalidInput``."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "input"
        problems.append(f"'{field}': {err['msg']} (got {err.get('input')!r})")
    return InvalidInput(what, "; ".join(problems), "correct the named field and try again")


def listing(names: list[str], limit: int = 20) -> str:
    """Names for a message: the first ``limit`` of them, then how many more; "(none)" when there are none."""
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def unknown_column(
    what: str,
    name: str,
    names: list[str],
    fix: str,
    *,
    columns: str = "its columns are",
    limit: int = 20,
    hint_first: bool = False,
) -> InvalidInput:
    """The error for a column ``name`` that is not among ``names``: ``what`` says so, the why lists the columns,
    and ``fix`` is followed by the closest names ("(did you mean 'a' or 'b'?)"), or led by them with ``hint_first``."""
    import difflib

    close = " or ".join(repr(c) for c in difflib.get_close_matches(name, names, n=3))
    hint = f"did you mean {close}?" if close else ""
    if hint and hint_first:
        fix = f"{hint} {fix}"
    elif hint:
        fix = f"{fix} ({hint})"
    return InvalidInput(what, f"{columns}: {listing(names, limit)}", fix)


def unexpected_error(what: str, exc: BaseException) -> str:
    """The one line a face shows for an exception that is not an ``OmgmlError``: a bug in omgml, not the input.

    The face logs the traceback to stderr (never stdout: on stdio that is the protocol); this line says what
    failed, how, and where to report it, so the agent or person is not left with a bare "Error executing tool".
    """
    from omgml._version import __version__

    detail = first_line(exc)
    kind = type(exc).__name__
    return (
        f"{what} failed unexpectedly: {kind}: {detail[:200] if detail != kind else '(no message)'}. "
        f"This is a bug in omgml {__version__}; please report it {_issue_tracker()} "
        "with the traceback from stderr."
    )


def _issue_tracker() -> str:
    """Where bugs go: the package's "Issues" project URL when the metadata has one, else its maintainers."""
    from importlib import metadata

    try:
        urls = metadata.metadata("omgml").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"issues", "bug tracker", "bugs"}:
            return f"at {url.strip()}"
    return "to the omgml maintainers"
