"""Table files: format by suffix, shape from metadata or a capped count, sha256 with a cache.

A table is one file, or a dataset: a folder of parquet files (hive-partitioned ``key=value`` folders included)
or a glob matching them. ``resolve_data`` is the door every data argument goes through.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from omgml.errors import OmgmlError
from omgml.workspace import Project, Store, is_pattern, project_relative

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


@dataclass(frozen=True)
class DatasetFiles:
    base: Path  # the folder, or the glob's folder part: hive partitions are read below it
    files: list[Path]  # sorted, so rows come in the same order on every read


def resolve_data(project: Project, text: str | os.PathLike[str], what: str) -> Path:
    """``text`` as a table path inside the project: a file, a folder of parquet files, or a glob of them.

    For a folder or a glob every file it holds must resolve inside the project too (a symlink out is a
    ``PathError``), and one that holds no parquet file is a ``DataError`` naming it.
    """
    from omgml.data.tables import DataError

    path = project.resolve(text, what)
    if not path.exists() and is_pattern(os.fspath(text)):
        path = project.resolve_pattern(os.fspath(text), what)
    if is_dataset(path):
        try:
            list_dataset(path, lambda inner: project.resolve(project.rel(inner), what))
        except DataError as exc:  # named as the user named it, relative to the project
            raise DataError(exc.what.replace(str(path), project.rel(path)), exc.why, exc.fix) from exc
    return path


def glob_parts(path: Path) -> tuple[Path, str] | None:
    """(folder, pattern) when ``path`` is a glob: its longest part that exists, and the rest, which holds a
    wildcard (a project folder whose name has a ``[`` is a folder, not a pattern); None for any other path."""
    if path.exists() or path.is_symlink():
        return None
    base = path.parent
    while not base.exists():
        base = base.parent
    rest = path.relative_to(base).as_posix()
    return (base, rest) if is_pattern(rest) else None


def is_dataset(path: Path) -> bool:
    """Whether ``path`` names a dataset (a folder or a glob) rather than one file."""
    return path.is_dir() or glob_parts(path) is not None


def list_dataset(path: Path, confine: Callable[[Path], object] | None = None) -> DatasetFiles:
    """The parquet files of the folder or glob ``path``, sorted; names starting with ``.`` or ``_`` (``_SUCCESS``,
    ``.crc`` files, temporary folders) are skipped, as Spark and pyarrow skip them.

    ``confine`` is called on every match and every symlinked folder before it is entered, and raises for one
    that leads out. A dataset with no file, or with a file that is not parquet, is a ``DataError`` naming it.
    """
    from omgml.data.tables import DataError

    split = glob_parts(path)
    if split is None:
        base, matches = path, [path]
    else:
        base, pattern = split
        matches = [base / match for match in glob.glob(pattern, root_dir=base, recursive=True)]
    files: set[Path] = set()
    for match in matches:
        if _hidden(match, base):
            continue
        if confine is not None:
            confine(match)
        if match.is_dir():
            files.update(_walk(match, confine, set()))
        elif match.is_file():
            files.add(match)
    if not files:
        raise DataError(
            f"{path} matches no file" if split else f"{path} is a folder with no table file in it",
            "a glob or a folder is read as one table made of the parquet files it holds",
            "check the pattern (data/events/*.parquet, data/events/**/*.parquet), or write the files first"
            if split
            else "write the parquet files into it, or name a table file",
        )
    ordered = sorted(files)
    other = next((f for f in ordered if table_format(f) != "parquet"), None)
    if other is not None:
        fmt = table_format(other)
        raise DataError(
            f"{path} holds {other.relative_to(base).as_posix()}, "
            + (f"a {fmt} file" if fmt != "file" else "a file that is not parquet"),
            "a folder or a glob is read as one table only when every file in it is parquet (the types of text "
            "files are inferred file by file, so they could disagree)",
            "name one file, match only the parquet files (data/events/*.parquet), or write the files as parquet",
        )
    return DatasetFiles(base, ordered)


def _hidden(path: Path, base: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(base).parts)


def _walk(folder: Path, confine: Callable[[Path], object] | None, seen: set[str]) -> list[Path]:
    """Every file below ``folder``, skipping hidden names; a folder reached twice (a symlink loop) is read once."""
    real = os.path.realpath(folder)
    if real in seen:
        return []
    seen.add(real)
    found: list[Path] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith((".", "_")):
            continue
        inner = Path(entry.path)
        if confine is not None and entry.is_symlink():
            confine(inner)
        if entry.is_dir():
            found.extend(_walk(inner, confine, seen))
        elif entry.is_file():
            found.append(inner)
    return found


def table_shape(path: Path, cap_bytes: int = COUNT_CAP_BYTES) -> TableShape:
    """Rows and columns without loading the table: parquet (a dataset too) from its footers, text by counting lines."""
    fmt = table_format(path)
    try:
        if is_dataset(path):
            from omgml.data.dataset_table import open_dataset

            table = open_dataset(path)
            return TableShape(table.num_rows, True, len(table.schema))
        if fmt == "parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return TableShape(meta.num_rows, True, meta.num_columns)
        if fmt in ("csv", "tsv"):
            return _delimited_shape(path, "\t" if fmt == "tsv" else None, cap_bytes)
        if fmt == "jsonl":
            return _jsonl_shape(path, cap_bytes)
    except OmgmlError as exc:
        return TableShape(None, False, None, f"unreadable: {exc.what}"[:200])
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
    """``path``'s sha256 (a dataset's: see ``FingerprintCache.sha256``) through the project's cache, which
    status reads too (only omgml projects keep one)."""
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

    def sha256(self, path: Path, key: str) -> str:
        """The file's sha256; a dataset's is the sha256 of its files' paths (below its folder, so a renamed
        partition is a change) and sha256s, one file after another, each file cached under its own path."""
        if not is_dataset(path):
            return self._file(path, key)
        dataset = list_dataset(path)
        digest = hashlib.sha256()
        for file in dataset.files:
            sha = self._file(file, project_relative(file, self.store.project))
            digest.update(f"{file.relative_to(dataset.base).as_posix()}\0{sha}\n".encode())
        return digest.hexdigest()

    def _file(self, file: Path, key: str) -> str:
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
