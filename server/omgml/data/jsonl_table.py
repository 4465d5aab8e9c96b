"""The JSON Lines reader. Keys whose values mix kinds (1 and "1") fall back to Python's json, mixed keys as text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omgml.data.tables import DataError, SchemaChanged, Table, rebatch, select_schema
from omgml.errors import first_line

if TYPE_CHECKING:
    import pyarrow as pa

JSON_BLOCK_BYTES = 16 * 1024 * 1024  # a line must fit a block; the types are inferred from the first
JSON_FALLBACK_LINES = 64 * 1024


@dataclass
class JsonlTable(Table):
    """JSON Lines, read by Arrow; by Python's json when Arrow refuses keys whose values mix kinds."""

    _json_fallback: bool = False

    def _batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        if self._json_fallback:
            yield from _python_jsonl_batches(self._path, self.source, self.schema, columns)
        else:
            yield from self._arrow_batches(columns)

    def _arrow_batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.json as pj

        try:
            reader = pj.open_json(
                self._path,
                read_options=pj.ReadOptions(block_size=JSON_BLOCK_BYTES, use_threads=False),  # a line must fit a block
                parse_options=pj.ParseOptions(
                    explicit_schema=self._native or self.schema, unexpected_field_behavior="error"
                ),
            )
            for batch in rebatch(reader):
                yield batch.select(columns) if columns else batch
        except pa.ArrowInvalid as exc:
            if not _json_type_conflict(exc):
                raise _json_error(self.source, exc) from exc
            # A later block mixes kinds of values (or adds keys): Python's json reads what Arrow cannot.
            self.schema, self._native = _python_jsonl_schema(self._path, self.source), None  # nested: text already
            self._json_fallback = True
            raise SchemaChanged(
                f"{self.source}: a later block of JSON Lines does not fit the types of the first",
                f"{first_line(exc)}; the table is now read with Python's json, mixed keys as text",
                "read the table again from the start",
            ) from exc


def open_jsonl(path: Path, encoding: str) -> Table:
    import pyarrow as pa
    import pyarrow.json as pj

    if encoding not in ("utf8", "utf-8-sig"):
        raise DataError(f"{path} is not UTF-8", "JSON Lines must be UTF-8", "re-encode the file as UTF-8")
    _check_lines(path)
    fallback = False
    try:
        schema = pj.open_json(path, read_options=pj.ReadOptions(block_size=JSON_BLOCK_BYTES)).schema
    except pa.ArrowInvalid as exc:
        if not _json_type_conflict(exc):
            raise _json_error(str(path), exc) from exc
        schema, fallback = _python_jsonl_schema(path, str(path)), True
    return JsonlTable(
        source=str(path), format="jsonl", schema=schema, encoding=encoding, _path=path, _json_fallback=fallback
    )


def _check_lines(path: Path) -> None:
    """Refuse a line nested too deep or too long for the readers, before either reads it.

    Arrow's reader recurses per level (seconds at 5,000, the C stack overflows near 20,000: the process
    dies) and Python's json raises at 1,000; a line longer than a block Arrow reads cannot be parsed.
    """
    from omgml.data.jsonscan import MAX_JSON_DEPTH, scan_lines

    deep, long_line = scan_lines(path, MAX_JSON_DEPTH, JSON_BLOCK_BYTES)
    if deep is not None:
        raise DataError(
            f"{path} line {deep.line} nests {deep.depth} levels of lists or objects, more than the {MAX_JSON_DEPTH} omgml reads",
            "a table's values are flat or nest a few levels; deeper nesting is refused before parsing, "
            "as it can exhaust the parser's stack",
            "flatten that line's values (or drop the line), or store the nested part as a JSON string",
        )
    if long_line:
        raise DataError(
            f"{path} line {long_line} is longer than {JSON_BLOCK_BYTES // 2**20} MB",
            "omgml reads JSON Lines in blocks of that size, and one line must fit in a block",
            "split the line's large values out of the table (store a path or a key instead), or convert the file to parquet",
        )


def _json_error(source: str, exc: BaseException) -> DataError:
    return DataError(
        f"{source} is not valid JSON Lines: {first_line(exc)}",
        "each line must be one JSON object",
        "fix the named line, or convert the file to csv or parquet",
    )


def _json_type_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return "changed from" in text or "unexpected field" in text.lower() or "conversion" in text.lower()


def _python_jsonl_records(path: Path, source: str) -> Iterator[tuple[int, dict]]:
    import json

    with path.open("r", encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as exc:  # too deep is refused at open; kept as a last guard
                raise DataError(
                    f"{source} is not valid JSON Lines: line {number}: {exc}",
                    "each line must be one JSON object",
                    "fix the named line, or convert the file to csv or parquet",
                ) from exc
            if not isinstance(record, dict):
                raise DataError(
                    f"{source} is not valid JSON Lines: line {number} is a {type(record).__name__}, not an object",
                    "each line must be one JSON object",
                    "fix the named line",
                )
            yield number, record


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str" if isinstance(value, str) else "nested"


def _python_jsonl_schema(path: Path, source: str) -> pa.Schema:
    """One pass with Python's json: a key whose values are of several kinds (besides int and float) is text."""
    import pyarrow as pa

    kinds: dict[str, set[str]] = {}
    for _, record in _python_jsonl_records(path, source):
        for key, value in record.items():
            kinds.setdefault(key, set()).add(_json_kind(value))
    fields = []
    for key, seen in kinds.items():
        seen = seen - {"null"}
        if not seen:
            kind = pa.null()
        elif seen == {"bool"}:
            kind = pa.bool_()
        elif seen == {"int"}:
            kind = pa.int64()
        elif seen <= {"int", "float"}:
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(key, kind))
    return pa.schema(fields)


def _python_jsonl_batches(
    path: Path, source: str, schema: pa.Schema, columns: list[str] | None
) -> Iterator[pa.RecordBatch]:
    import json

    import pyarrow as pa

    names = list(columns) if columns else list(schema.names)
    types = {name: schema.field(name).type for name in names}

    def convert(value: Any, kind: pa.DataType) -> Any:
        if value is None or not pa.types.is_string(kind):
            return float(value) if pa.types.is_floating(kind) and value is not None else value
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)  # as nested_as_text

    def flush(rows: list[dict]) -> pa.RecordBatch:
        arrays = [pa.array([convert(row.get(name), types[name]) for row in rows], type=types[name]) for name in names]
        return pa.RecordBatch.from_arrays(arrays, schema=select_schema(schema, names))

    rows: list[dict] = []
    for _, record in _python_jsonl_records(path, source):
        rows.append(record)
        if len(rows) >= JSON_FALLBACK_LINES:
            yield flush(rows)
            rows = []
    if rows:
        yield flush(rows)
