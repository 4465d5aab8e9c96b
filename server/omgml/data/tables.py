"""Open any table (csv, tsv, parquet, jsonl, or a pandas DataFrame) as a stream of Arrow record batches.

Nothing here loads a whole file: callers iterate ``Table.batches()`` and keep running summaries,
so memory stays bounded by the batch size. Problems a user can fix raise ``DataError``; rows
that do not fit the header (ragged rows) are skipped, counted and kept as examples, so a
validation can report them instead of failing the whole read.

``open_table`` is the one door: it checks the path, sniffs the encoding and hands the file to the
reader of its format, each in its own module -- ``csv_table`` (csv and tsv, with the reader that
parses a large file on two threads), ``parquet_table``, ``dataset_table`` (a folder or glob of parquet
files) and ``jsonl_table``; a DataFrame is read here.
A text reader may find, past the rows its types were inferred from, a value of a wider type: it then
widens ``Table.schema`` and raises ``SchemaChanged`` (batches already handed out used the old types),
and ``read_settled`` starts the caller's pass again.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from omgml.data.files import is_dataset, table_format
from omgml.errors import OmgmlError, first_line, listing
from omgml.progress import advance

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

T = TypeVar("T")
SNIFF_BYTES = 4 * 1024 * 1024  # the head read to sniff the encoding (and, for text, the delimiter)
PARQUET_BATCH_ROWS = 256 * 1024  # batches are handed out at about this many rows (text: see csv_table)
MAX_RAGGED_EXAMPLES = 5
MAX_SCHEMA_CHANGES = 64  # each column widens at most twice (integer, float, string)


class DataError(OmgmlError):
    """A data file that cannot be read as a table."""


class SchemaChanged(DataError):
    """A later block did not fit how the table was read: ``Table.schema`` now has a wider type for a
    column, or (a record longer than the read block) the table is now read in larger blocks.

    Batches yielded before this was raised used the old schema: read the table again from the start.
    """


@dataclass
class RaggedRows:
    """Rows skipped because their field count differs from the header's."""

    count: int = 0
    examples: list[int] = field(default_factory=list)  # 1-based line numbers when known

    def merge(self, other: RaggedRows, offset: int) -> None:
        """Add the ragged rows of a later part of the file, whose line numbers start after ``offset``."""
        self.count += other.count
        room = MAX_RAGGED_EXAMPLES - len(self.examples)
        self.examples.extend(number + offset for number in other.examples[: max(room, 0)])


@dataclass
class Table:
    """A readable table: its schema up front, its rows as batches on demand (each format's reader says how)."""

    source: str
    format: str
    schema: pa.Schema
    num_rows: int | None = None  # known without a scan for parquet and DataFrames
    delimiter: str | None = None
    encoding: str | None = None
    ragged: RaggedRows = field(default_factory=RaggedRows)
    _path: Path | None = None
    _native: pa.Schema | None = None  # the schema the reader reads, when ``schema`` shows nested columns as text

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches of the whole table, in order; ragged rows are counted in ``self.ragged``.

        Every batch has ``self.schema`` (or its ``columns``). Raises ``SchemaChanged`` when a csv or
        JSON Lines block does not fit the inferred types: the schema is widened, read again. Any
        other failure of the native reader (a damaged page, a later undecodable block) is a ``DataError``.
        """
        rows = 0
        with reading(self.source, self.format):
            for batch in self._batches(columns):
                rows += batch.num_rows
                advance(f"rows of {self.source}", rows, self.num_rows)
                yield nested_as_text(batch) if self._native is not None else batch

    def _batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError  # every format's reader has its own

    def read_all(self, columns: list[str] | None = None) -> pa.Table:
        """The whole table in memory; only for callers that truly need every row at once."""
        import pyarrow as pa

        return read_settled(
            self, lambda: pa.Table.from_batches(list(self.batches(columns)), schema=select_schema(self.schema, columns))
        )


@dataclass
class FrameTable(Table):
    """A pandas DataFrame, converted to Arrow once."""

    _frame: Any = None

    def _batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        frame = self._frame.select(columns) if columns else self._frame
        yield from frame.to_batches(max_chunksize=PARQUET_BATCH_ROWS)


def open_table(
    source: str | Path | pd.DataFrame,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    repeated_names: bool = False,
) -> Table:
    """Open ``source`` for reading; the file's format comes from its suffix, delimiter and encoding are sniffed.

    A folder of parquet files, or a glob matching them, is read as one table (``dataset_table``).

    Every failure is a ``DataError`` naming the file. A header that repeats a column name is refused
    unless ``repeated_names`` (validation reads such a table to report the repeats; tools that match
    columns by name cannot tell them apart).
    """
    if not isinstance(source, (str, Path)):
        table = _from_frame(source)
    else:
        path = Path(source)
        with reading(str(path), "parquet" if is_dataset(path) else table_format(path)):
            table = _open_file(path, delimiter, encoding)
    if not repeated_names:
        refuse_repeated_names(table)
    text = _nested_shown_as_text(table.schema)
    if text is not None:
        table._native, table.schema = table.schema, text
    return table


def _is_nested(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return pa.types.is_nested(kind) or (pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type))


def _nested_shown_as_text(schema: pa.Schema) -> pa.Schema | None:
    """``schema`` with its nested columns (lists, structs, maps) as strings; None when it has none.

    Every tool sees such a column as its values' JSON text (as the JSON Lines reader reads values of
    mixed kinds): one rule that validation, drift and baseline all handle, instead of a type each
    treats its own way (or, in pandas, cannot hash).
    """
    import pyarrow as pa

    if not any(_is_nested(f.type) for f in schema):
        return None
    return pa.schema([f.with_type(pa.string()) if _is_nested(f.type) else f for f in schema], metadata=schema.metadata)


def nested_as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with each nested column's values replaced by their JSON text (nulls stay null)."""
    arrays = [_json_text(array) if _is_nested(array.type) else array for array in batch.columns]
    return type(batch).from_arrays(arrays, names=batch.schema.names)


def _json_text(array: pa.Array) -> pa.Array:
    """Each value of a nested ``array`` as JSON text: lists of numbers, booleans or strings (tags, the
    common case) by Arrow's kernels, anything else value by value with Python's json."""
    import json

    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([_json_text(chunk) for chunk in array.chunks], type=pa.string())
    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        values = array.values.slice(array.offsets[0].as_py(), array.offsets[-1].as_py() - array.offsets[0].as_py())
        item = values.type
        if pa.types.is_integer(item) or pa.types.is_boolean(item) or pa.types.is_string(item):
            if pa.types.is_string(item):
                for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
                    values = pc.replace_substring(values, raw, escaped)
                values = pc.binary_join_element_wise('"', values, '"', "")
            elif pa.types.is_boolean(item):
                values = pc.if_else(values, "true", "false")
            text = pc.fill_null(pc.cast(values, pa.string()), "null")
            offsets = pc.subtract(array.offsets, array.offsets[0]).cast(
                pa.int32() if pa.types.is_list(kind) else pa.int64()
            )
            lists = type(array).from_arrays(offsets, text)
            joined = pc.binary_join_element_wise("[", pc.binary_join(lists, ", "), "]", "")
            return pc.if_else(array.is_null(), pa.scalar(None, pa.string()), pc.cast(joined, pa.string()))
    return pa.array(
        [None if v is None else json.dumps(v, default=str, ensure_ascii=False) for v in array.to_pylist()],
        type=pa.string(),
    )


def _open_file(path: Path, delimiter: str | None, encoding: str | None) -> Table:
    if path.is_symlink() and not path.exists():
        raise DataError(
            f"{path} is a symbolic link that leads to no file",
            "its target is missing, or the link points (through others) back to itself",
            "point the link at the table file, or pass the file's own path",
        )
    if is_dataset(path):
        from omgml.data.dataset_table import open_dataset

        return open_dataset(path)
    if not path.exists():
        raise DataError(
            f"{path} does not exist",
            "there is no file at that path",
            "check the path (it is relative to the project root)",
        )
    fmt = table_format(path)
    if fmt == "file":
        raise DataError(
            f"{path} has an unsupported file type '{path.suffix}'",
            "omgml reads csv, tsv, parquet and jsonl tables",
            "convert the file, or rename it if it is one of those formats",
        )
    if path.stat().st_size == 0:
        raise DataError(
            f"{path} is empty (0 bytes)", "there is no header and no rows to check", "write the data to the file first"
        )
    if fmt == "parquet":
        from omgml.data.parquet_table import open_parquet

        return open_parquet(path)
    _check_delimiter(delimiter)
    _check_encoding(encoding)
    head = _read_head(path)
    if encoding is None and b"\x00" in head:
        raise DataError(
            f"{path} is binary, not {fmt} text",
            "it contains NUL bytes, which text tables never do"
            + (" (every other byte is NUL, as in UTF-16 text without a byte-order mark)" if _utf16_like(head) else ""),
            "check the file is what its name says (a parquet file needs the .parquet suffix)"
            + ("; for UTF-16 text pass --encoding utf-16-le (or utf-16-be)" if _utf16_like(head) else ""),
        )
    encoding = encoding or _sniff_encoding(head)
    if fmt == "jsonl":
        from omgml.data.jsonl_table import open_jsonl

        return open_jsonl(path, encoding)
    from omgml.data.csv_table import open_csv

    return open_csv(path, fmt, head, delimiter, encoding)


@contextmanager
def reading(source: str, fmt: str) -> Iterator[None]:
    """Turn any failure of a native reader into a ``DataError`` that names ``source``.

    Arrow, the codecs and the OS raise their own types (``ArrowInvalid``, ``OSError`` for a damaged
    parquet page, ``UnicodeError``, ``LookupError``); the tools promise an ``OmgmlError``.
    """
    import pyarrow as pa

    try:
        yield
    except OmgmlError:
        raise
    except UnicodeError as exc:
        raise DataError(
            f"{source} is not text in the encoding it was read with: {first_line(exc)}",
            "the bytes do not decode (UTF-16 needs a byte-order mark, or its byte order named)",
            "pass the file's encoding (for example --encoding latin-1 or utf-16-le), or re-save it as UTF-8",
        ) from exc
    except (pa.ArrowException, OSError, ValueError, LookupError, RecursionError, MemoryError, csv.Error) as exc:
        raise DataError(f"{source} could not be read as {fmt}: {first_line(exc)}", *_READ_ADVICE[fmt]) from exc


_READ_ADVICE = {
    "parquet": (
        "the file is damaged (a page does not decompress) or uses a feature this reader lacks",
        "re-export the file, or check it is parquet and not another format with a .parquet suffix",
    ),
    "jsonl": ("each line must be one JSON object", "fix the named line, or convert the file to csv or parquet"),
    "csv": (
        "the file does not follow one consistent table layout",
        "check the delimiter (or pass --delimiter), the quoting and the encoding (--encoding)",
    ),
    "file": ("omgml reads csv, tsv, parquet and jsonl tables", "convert the file to one of those formats"),
}
_READ_ADVICE["tsv"] = _READ_ADVICE["csv"]
_READ_ADVICE["dataframe"] = ("the DataFrame's values do not convert to Arrow", "convert mixed columns to one type")


def refuse_repeated_names(table: Table) -> None:
    """A ``DataError`` when ``table``'s header names a column more than once."""
    repeated = [name for name, times in Counter(table.column_names).items() if times > 1]
    if repeated:
        raise DataError(
            f"{table.source} names the column(s) {listing([repr(n) for n in repeated], 10)} more than once",
            "columns are matched by name, so two columns of one name cannot be told apart",
            "rename the repeated columns so every name is unique (`omgml validate` lists every repeat)",
        )


def _check_delimiter(delimiter: str | None) -> None:
    if delimiter is not None and (len(delimiter) != 1 or not delimiter.isascii() or delimiter in '\r\n"'):
        raise DataError(
            f"The delimiter {delimiter!r} cannot split a table",
            "the csv reader splits fields on one ASCII character other than a quote or a line break",
            "pass one such character (',', ';', '|' or a tab), or convert the file to use one",
        )


def _check_encoding(encoding: str | None) -> None:
    if encoding is None:
        return
    try:
        info = codecs.lookup(encoding)
    except LookupError as exc:
        raise DataError(
            f"Unknown encoding {encoding!r}",
            "the encoding must be one Python knows",
            "pass a name such as utf-8, latin-1, cp1252 or utf-16-le",
        ) from exc
    if not getattr(info, "_is_text_encoding", True):
        raise DataError(
            f"{encoding!r} is not a text encoding", "it encodes bytes to bytes", "pass a text encoding such as utf-8"
        )


def _utf16_like(head: bytes) -> bool:
    """Whether ``head`` looks like UTF-16 without a BOM: mostly ASCII with a NUL in every other byte."""
    sample = head[:4096]
    return len(sample) >= 4 and (
        sample[0::2].count(0) > 0.8 * len(sample) / 2 or sample[1::2].count(0) > 0.8 * len(sample) / 2
    )


def _from_frame(frame: Any) -> Table:
    import pandas as pd
    import pyarrow as pa

    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"Cannot read a {type(frame).__name__} as a table",
            "omgml reads a file path or a pandas DataFrame",
            "pass a path or a DataFrame",
        )
    names = [str(c) for c in frame.columns]
    arrow = pa.Table.from_arrays([pa.Array.from_pandas(frame.iloc[:, i]) for i in range(frame.shape[1])], names=names)
    return FrameTable(
        source="<DataFrame>", format="dataframe", schema=arrow.schema, num_rows=frame.shape[0], _frame=arrow
    )


def _read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def _sniff_encoding(head: bytes) -> str:
    """UTF-8 (a BOM is dropped) when the sample decodes, else latin-1, which decodes any byte."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf8"


def read_settled(table: Table, read: Callable[[], T]) -> T:
    """``read()``, started again from the top each time the table's schema widens under it."""
    for _ in range(MAX_SCHEMA_CHANGES):
        try:
            return read()
        except SchemaChanged:
            continue
    raise too_many_changes(table.source)


def too_many_changes(source: str) -> DataError:
    return DataError(
        f"{source}: the column types kept changing while reading",
        f"omgml widened column types {MAX_SCHEMA_CHANGES} times and a later block still did not fit",
        "convert the file to parquet with explicit column types",
    )


def rebatch(
    reader: Iterator[pa.RecordBatch], target: int | None = None, first: int | None = None
) -> Iterator[pa.RecordBatch]:
    """Join the small batches of small read blocks into batches of about ``target`` rows (``PARQUET_BATCH_ROWS``).

    The batches grow from ``first`` rows, doubling, so a caller overlapping its work with the parse starts early.
    """
    target = target or PARQUET_BATCH_ROWS
    size = min(first or target, target)
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= size:
            yield _join(pending)
            pending, rows, size = [], 0, min(2 * size, target)
    if pending:
        yield _join(pending)


def _join(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    import pyarrow as pa

    if len(batches) == 1:
        return batches[0]
    joined = pa.Table.from_batches(batches).combine_chunks().to_batches()
    return joined[0] if joined else batches[0]


def select_schema(schema: pa.Schema, columns: list[str] | None) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([schema.field(c) for c in columns]) if columns else schema
