"""Table files: format by suffix, shape from metadata or a capped count, sha256 with a cache."""

from __future__ import annotations

import csv
import hashlib
import json
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from omgml.errors import OmgmlError
from omgml.workspace import Project, Store

TABLE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# Counting text rows reads the whole file; past this many bytes the count is estimated from a sample.
COUNT_CAP_BYTES = 64 * 1024 * 1024
SAMPLE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class TableShape:
    rows: int | None
    rows_exact: bool
    columns: int | None
    note: str = ""


def table_format(path: Path) -> str:
    return TABLE_FORMATS.get(path.suffix.lower(), "file")


def table_shape(path: Path, cap_bytes: int = COUNT_CAP_BYTES) -> TableShape:
    """Rows and columns without loading the table: parquet from its footer, text by counting lines."""
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return TableShape(meta.num_rows, True, meta.num_columns)
        if fmt in ("csv", "tsv"):
            return _delimited_shape(path, "\t" if fmt == "tsv" else None, cap_bytes)
        if fmt == "jsonl":
            return _jsonl_shape(path, cap_bytes)
    except Exception as exc:  # noqa: BLE001 -- a damaged file is a finding for status, not a crash
        return TableShape(None, False, None, f"unreadable as {fmt}: {type(exc).__name__}: {exc}"[:200])
    return TableShape(None, False, None)


def _count_lines(path: Path, cap_bytes: int) -> tuple[int, bool]:
    """Line count (a last line without newline counts), exact below the cap, else extrapolated."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size <= cap_bytes:
            lines, last = 0, b""
            while chunk := handle.read(SAMPLE_BYTES):
                lines += chunk.count(b"\n")
                last = chunk
            return lines + (1 if last and not last.endswith(b"\n") else 0), True
        sample = handle.read(SAMPLE_BYTES)
    per_line = len(sample) / max(sample.count(b"\n"), 1)
    return round(size / per_line), False


def _delimited_shape(path: Path, delimiter: str | None, cap_bytes: int) -> TableShape:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        head = handle.read(64 * 1024)
    if not head.strip():
        return TableShape(0, True, 0, "empty file")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(head.splitlines()[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    header = next(csv.reader([head.splitlines()[0]], delimiter=delimiter))
    lines, exact = _count_lines(path, cap_bytes)
    note = "" if exact else f"row count estimated: the file is over {cap_bytes // 2**20} MiB"
    return TableShape(max(lines - 1, 0), exact, len(header), note)


def _jsonl_shape(path: Path, cap_bytes: int) -> TableShape:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        first = next((line for line in handle if line.strip()), "")
    columns = len(json.loads(first)) if first else 0
    lines, exact = _count_lines(path, cap_bytes)
    return TableShape(lines, exact, columns, "" if exact else "row count estimated from a sample")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(project: Project, path: Path, rel: str) -> str:
    """``path``'s sha256 through the project's cache, which status reads too (only omgml projects keep one)."""
    cache = FingerprintCache(project.store)
    digest = cache.sha256(path, rel)
    if project.config is not None:
        cache.save()
    return digest


class FingerprintCache:
    """sha256 per file, reused while (size, mtime) are unchanged; saved only when asked and changed.

    It is a cache: a damaged ``fingerprints.json`` (not JSON, not an object, entries of the wrong shape) is
    ignored and rebuilt, and failing to save it never fails the command that used it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        files = (store.read_json(store.fingerprints) or {}).get("files")
        self.entries: dict[str, dict] = (
            {key: entry for key, entry in files.items() if _valid_entry(entry)} if isinstance(files, dict) else {}
        )
        self.changed = not isinstance(files, dict) or len(self.entries) != len(files)

    def sha256(self, file: Path, key: str) -> str:
        stat = file.stat()
        entry = self.entries.get(key)
        if entry and entry["size"] == stat.st_size and entry["mtime_ns"] == stat.st_mtime_ns:
            return entry["sha256"]
        digest = sha256_file(file)
        self.entries[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        self.changed = True
        return digest

    def save(self) -> None:
        if self.changed:
            with suppress(OmgmlError):  # a cache that cannot be saved is recomputed next time
                self.store.write(self.store.fingerprints, {"files": self.entries})


def _valid_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and type(entry.get("size")) is int
        and type(entry.get("mtime_ns")) is int
        and isinstance(entry.get("sha256"), str)
    )
