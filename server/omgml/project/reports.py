"""Saved reports shown again: ``load_report`` reads one back into its result model, ``show_report`` renders it.

A report is found by kind (the newest under ``.omgml/reports/<kind>/``) or by its JSON path inside the
project; it must carry the stamp every saved file has (``omgml_version``, ``created_at``) and fit this
version's result model, or it is refused with what to do instead.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import get_args

from omgml.args import one_of
from omgml.errors import InvalidInput, PathError, first_line, listing
from omgml.project.models import REPORT_KINDS, ReportFormat
from omgml.workspace import SHOWN_TIME, STAMP_KEYS, Project, Report, read_inside


@dataclass(frozen=True)
class SavedCopy:
    """One saved report: the result it was saved from, the file's text and when it was saved."""

    report: Report
    path: Path
    text: str
    created_at: str | None  # as the HTML report's header shows it; None when the stamp holds no readable time


def load_report(kind_or_path: str | None = None, *, project_dir: str = ".", root: Path | None = None) -> Report:
    """The saved report ``kind_or_path`` names, as the result model its tool returned.

    Parameters
    ----------
    kind_or_path
        a kind in project.models.REPORT_KINDS (the newest saved report of that kind), or the path of a saved
        report's JSON relative to the project; None: the newest saved report of any kind.
    project_dir
        The project folder.
    root
        Folder the project dir and the path must stay inside; None takes the project dir as given.
    """
    project = Project.open(project_dir, root)
    return read_report(find_report(kind_or_path, project), project).report


def show_report(
    kind_or_path: str | None = None,
    fmt: ReportFormat = "md",
    *,
    project_dir: str = ".",
    root: Path | None = None,
) -> str:
    """A saved report rendered again: ``md`` (what the tool printed), ``html`` (the page saved beside it, with the
    project's template overrides of today) or ``json`` (the file as saved). Arguments as ``load_report``'s."""
    if fmt not in get_args(ReportFormat):
        formats = list(get_args(ReportFormat))
        raise InvalidInput(
            f"'{fmt}' is not a report format", f"a report renders as {listing(formats)}", "pass one of them"
        )
    project = Project.open(project_dir, root)
    return format_report(read_report(find_report(kind_or_path, project), project), fmt, project)


def find_report(kind_or_path: str | None, project: Project) -> Path:
    """The saved report's file: the newest of a kind, the newest of all, or the path given (inside the project)."""
    store = project.store
    if kind_or_path is None:
        newest = [history[-1] for kind in REPORT_KINDS if (history := store.history(kind))]
        if not newest:
            raise InvalidInput(
                f"No report is saved in {project.rel(store.reports())} of {project.root}",
                f"omgml saves one each time {one_of(_commands())} runs",
                "run one of them first (`omgml status` takes a second), or name the project folder it is in",
            )
        return max(newest, key=lambda path: path.name)  # names start with their UTC time
    if kind_or_path in REPORT_KINDS:
        history = store.history(kind_or_path)
        if not history:
            command = REPORT_KINDS[kind_or_path][1]
            raise InvalidInput(
                f"No {kind_or_path} report is saved in {project.root}",
                f"omgml saves one under {project.rel(store.reports(kind_or_path))}/ each time `{command}` runs",
                f"run `{command}` first, or name the project folder it is in",
            )
        return history[-1]
    if kind_or_path.endswith(".json") or "/" in kind_or_path or "\\" in kind_or_path:
        path = project.resolve(kind_or_path, "saved report")
        if not path.exists():
            raise PathError(
                f"No saved report at {project.rel(path)}",
                "the path names no file",
                f"check it, or give a kind ({one_of(REPORT_KINDS)}) to show the latest of that kind",
            )
        return path
    raise InvalidInput(
        f"'{kind_or_path}' is neither a kind of report nor the path of one",
        f"the kinds are {listing(list(REPORT_KINDS))}; a saved report is a .json file",
        "give a kind, or the path of a report under .omgml/reports/ (e.g. .omgml/reports/drift/<time>-drift.json)",
    )


def read_report(path: Path, project: Project) -> SavedCopy:
    """The saved report at ``path`` read back; a file that is not an omgml report, or not one this version can
    read, raises ``InvalidInput`` saying which."""
    from omgml._version import __version__

    raw = read_inside(project.root, path, "saved report")
    shown = project.rel(path)
    not_a_report = f"{shown} is not a report omgml saved"
    fix = f"give a .json file from .omgml/reports/<kind>/, or a kind ({one_of(REPORT_KINDS)})"
    try:
        text = raw.decode("utf-8")
        saved = json.loads(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidInput(not_a_report, f"it is not JSON ({first_line(exc)})", fix) from None
    if not isinstance(saved, dict) or not all(key in saved for key in (*STAMP_KEYS, "kind")):
        raise InvalidInput(
            not_a_report, "every report omgml saves is a JSON object with kind, omgml_version and created_at", fix
        )
    kind, version = str(saved["kind"]), str(saved["omgml_version"])
    if kind not in REPORT_KINDS:
        raise InvalidInput(
            f"{shown} is a '{kind}' report, which omgml {__version__} cannot show",
            f"it shows {listing(list(REPORT_KINDS))} reports; this one was saved by omgml {version}",
            f"show it with omgml {version}",
        )
    model_name, command = REPORT_KINDS[kind]
    module, name = model_name.split(":")
    model: type[Report] = getattr(importlib.import_module(module), name)
    from pydantic import ValidationError

    try:
        report = model.model_validate({key: value for key, value in saved.items() if key not in STAMP_KEYS})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the report"
        detail = f"'{where}': {problem['msg']}" + (
            f", and {exc.error_count() - 1} more" if exc.error_count() > 1 else ""
        )
        why = (
            f"it was saved by omgml {version}, whose {kind} report differs from {__version__}'s ({detail})"
            if version != __version__
            else f"its fields do not fit a {kind} report ({detail}); it was edited or damaged"
        )
        raise InvalidInput(
            f"{shown} cannot be read as a {kind} report", why, f"run `{command}` again to save a new one"
        ) from None
    return SavedCopy(report=report, path=path, text=text, created_at=_shown_time(saved["created_at"]))


def format_report(saved: SavedCopy, fmt: ReportFormat, project: Project) -> str:
    """``saved`` as ``fmt``: the JSON exactly as saved, or rendered with the project's templates, as when it was
    saved (the HTML header shows the time it was saved, not now)."""
    if fmt == "json":
        return saved.text
    from omgml.render import render

    return render(saved.report, fmt, project.root, created_at=saved.created_at if fmt == "html" else None)


def _commands() -> list[str]:
    """Each kind's command as a user types its name: `omgml validate`."""
    return [f"`{' '.join(command.split()[:2])}`" for _, command in REPORT_KINDS.values()]


def _shown_time(stamp: object) -> str | None:
    try:
        return datetime.fromisoformat(str(stamp)).strftime(SHOWN_TIME)
    except ValueError:
        return None
