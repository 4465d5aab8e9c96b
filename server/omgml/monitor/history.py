"""The project's monitoring history: ``.omgml/history/batches.jsonl``, one JSON line per monitored batch.

Append-only lines, not one JSON document: a crash mid-append can cut off at most the last line, which the reader
skips with a note, and every entry before it survives. Each entry is written by a single ``write`` on a file
opened with ``O_APPEND`` under an exclusive ``flock``, so two monitors appending at once never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from omgml.errors import PathError
from omgml.workspace import OMGML_DIR, ensure_folder, project_relative, resolve_inside

HISTORY_FILE = f"{OMGML_DIR}/history/batches.jsonl"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class DriftedColumn(BaseModel):
    column: str
    measure: str = Field(description="the effect size's name, e.g. wasserstein or total_variation")
    effect: float


class Performance(BaseModel):
    """The champion's score on the batch's labels against what cross-validation promised."""

    metric: str
    value: float
    expected: float = Field(description="the champion's cross-validated mean of the metric")
    expected_std: float | None = Field(None, description="its spread across folds")
    drop: float = Field(description="how much worse than expected, in the metric's units (positive = worse)")
    model_version: str
    labelled_rows: int
    batch_std: float | None = Field(None, description="the metric's bootstrap standard error on the batch's rows")
    noise: float | None = Field(None, description="the drop that counts as real: 2 x sqrt(fold std² + batch std²)")
    significant: bool | None = Field(None, description="the drop is beyond noise")


class BatchEntry(BaseModel):
    """One monitored batch. Counts, not reports: the reports it came from are named in ``reports``."""

    time: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    batch: str = Field(description="the batch's path, relative to the project")
    fingerprint: str = Field(description="the batch file's content fingerprint")
    rows: int
    validation_errors: int
    validation_warnings: int
    drifted_share: float | None = Field(None, description="share of tested features that drifted; None: no reference")
    drifted: list[DriftedColumn] = Field(default_factory=list, description="drifted columns, largest effect first")
    dataset_drift: bool | None = Field(None, description="the drift check's dataset verdict; None: not checked")
    performance: Performance | None = None
    alerts: list[str] = Field(default_factory=list, description="the alert rules that fired, as written")
    reports: dict[str, str] = Field(default_factory=dict, description="kind -> saved report path")
    omgml_version: str | None = None


class History(BaseModel):
    entries: list[BatchEntry]
    notes: list[str] = Field(default_factory=list, description="lines that could not be read, and why")


def history_path(project: Path) -> Path:
    return Path(project) / HISTORY_FILE


def append_entry(project: Path, entry: BatchEntry) -> Path:
    """Add ``entry`` as the last line. A torn last line left by a crash is closed first, so the new entry starts a
    line of its own and the torn one stays skippable."""
    from omgml._version import __version__

    root = Path(project).resolve()
    path = resolve_inside(root, HISTORY_FILE, "monitoring history")
    ensure_folder(root, path.parent)
    line = entry.model_copy(update={"omgml_version": entry.omgml_version or __version__}).model_dump_json()
    data = (line + "\n").encode()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o666)
    except OSError as exc:
        raise PathError(
            f"Cannot append to {project_relative(path, root)}",
            f"the operating system refused it ({exc.strerror or exc})",
            "move away whatever is in its place, or fix the folder's permissions",
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return path


def read_history(project: Path, last: int | None = None) -> History:
    """Every readable entry, oldest first (the last ``last`` when given); unreadable lines become notes."""
    from omgml.workspace import read_inside

    root = Path(project).resolve()
    path = root / HISTORY_FILE
    if not path.exists():
        return History(entries=[])
    text = read_inside(root, HISTORY_FILE, "monitoring history").decode("utf-8", errors="replace")
    entries: list[BatchEntry] = []
    notes: list[str] = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        torn = number == len(lines)  # no newline after it: the write was cut off
        try:
            entries.append(BatchEntry.model_validate(json.loads(line)))
        except (ValueError, RecursionError, ValidationError):
            why = "its write was cut off (a crash mid-append)" if torn else "it is not a history entry"
            notes.append(f"{HISTORY_FILE} line {number} skipped: {why}")
    return History(entries=entries[-last:] if last else entries, notes=notes)
