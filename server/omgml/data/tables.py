"""Open any table (csv, tsv, parquet, jsonl, or a pandas DataFrame) as a stream of Arrow record batches.

Nothing here loads a whole file: callers iterate ``Table.batches()`` and keep running summaries,
so memory stays bounded by the batch size. Problems a user can fix raise ``DataError``; rows
that do not fit the header (ragged rows) are skipped, counted and kept as examples, so a
validation can report them instead of failing the whole read.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omgml.data.files import table_format
from omgml.errors import OmgmlError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SNIFF_BYTES = 4 * 1024 * 1024
CSV_BLOCK_BYTES = 16 * 1024 * 1024
PARQUET_BATCH_ROWS = 256 * 1024
MAX_RAGGED_EXAMPLES = 5


class DataError(OmgmlError):
    """A data file that cannot be read as a table."""


@dataclass
class RaggedRows:
    """Rows skipped because their field count differs from the header's."""

    count: int = 0
    examples: list[int] = field(default_factory=list)  # 1-based line numbers when known


@dataclass
class Table:
    """A readable table: its schema up front, its rows as batches on demand."""

    source: str
    format: str
    schema: "pa.Schema"
    num_rows: int | None = None  # known without a scan for parquet and DataFrames
    delimiter: str | None = None
    encoding: str | None = None
    ragged: RaggedRows = field(default_factory=RaggedRows)
    _path: Path | None = None
    _frame: Any = None

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def batches(self, columns: list[str] | None = None) -> Iterator["pa.RecordBatch"]:
        """Record batches of the whole table, in order; ragged rows are counted in ``self.ragged``."""
        if self.format == "dataframe":
            yield from self._frame.select(columns).to_batches() if columns else self._frame.to_batches()
        elif self.format == "parquet":
            import pyarrow.parquet as pq

            yield from pq.ParquetFile(self._path).iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns)
        elif self.format in ("csv", "tsv"):
            yield from self._csv_batches(columns)
        else:
            yield from self._jsonl_batches(columns)

    def read_all(self, columns: list[str] | None = None) -> "pa.Table":
        """The whole table in memory; only for callers that truly need every row at once."""
        import pyarrow as pa

        return pa.Table.from_batches(list(self.batches(columns)), schema=_select(self.schema, columns))

    def _csv_batches(self, columns: list[str] | None) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa
        import pyarrow.csv as pc

        self.ragged = RaggedRows()

        def on_invalid(row: Any) -> str:
            self.ragged.count += 1
            if len(self.ragged.examples) < MAX_RAGGED_EXAMPLES and row.number is not None:
                self.ragged.examples.append(row.number)
            return "skip"

        reader = pc.open_csv(
            self._path,
            read_options=pc.ReadOptions(encoding=self.encoding or "utf8", block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pc.ParseOptions(delimiter=self.delimiter or ",", invalid_row_handler=on_invalid, newlines_in_values=True),
            convert_options=pc.ConvertOptions(
                column_types=self.schema, include_columns=columns, strings_can_be_null=True
            ) if _unique(self.schema.names) else pc.ConvertOptions(strings_can_be_null=True),
        )
        try:
            for batch in reader:
                yield batch
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _text_error(self.source, self.encoding, exc) from exc

    def _jsonl_batches(self, columns: list[str] | None) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa
        import pyarrow.json as pj

        try:
            reader = pj.open_json(self._path, read_options=pj.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False))
            for batch in reader:
                yield batch.select(columns) if columns else batch
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{self.source} is not valid JSON Lines: {_first_line(exc)}",
                "each line must be one JSON object with the same kinds of values per key",
                "fix the named line, or convert the file to csv or parquet",
            ) from exc


def open_table(
    source: "str | Path | pd.DataFrame", *, delimiter: str | None = None, encoding: str | None = None
) -> Table:
    """Open ``source`` for reading; the file's format comes from its suffix, delimiter and encoding are sniffed."""
    if not isinstance(source, (str, Path)):
        return _from_frame(source)
    path = Path(source)
    if not path.exists():
        raise DataError(f"{path} does not exist", "there is no file at that path", "check the path (it is relative to the project root)")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a table file", "omgml reads one csv, tsv, parquet or jsonl file at a time", "name a file inside it")
    fmt = table_format(path)
    if fmt == "file":
        raise DataError(
            f"{path} has an unsupported file type '{path.suffix}'",
            "omgml reads csv, tsv, parquet and jsonl tables",
            "convert the file, or rename it if it is one of those formats",
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes)", "there is no header and no rows to check", "write the data to the file first")
    if fmt == "parquet":
        return _open_parquet(path)
    head = _read_head(path)
    if b"\x00" in head:
        raise DataError(
            f"{path} is binary, not {fmt} text",
            "it contains NUL bytes, which text tables never do",
            "check the file is what its name says (a parquet file needs the .parquet suffix)",
        )
    encoding = encoding or _sniff_encoding(head)
    if fmt == "jsonl":
        return _open_jsonl(path, encoding)
    return _open_delimited(path, fmt, head, delimiter, encoding)


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
    arrow = pa.Table.from_arrays(
        [pa.Array.from_pandas(frame.iloc[:, i]) for i in range(frame.shape[1])], names=names
    )
    return Table(source="<DataFrame>", format="dataframe", schema=arrow.schema, num_rows=frame.shape[0], _frame=arrow)


def _open_parquet(path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(
            f"{path} is not a readable parquet file: {_first_line(exc)}",
            "its footer or magic bytes are missing or damaged",
            "re-export the file, or check it is parquet and not another format with a .parquet suffix",
        ) from exc
    return Table(source=str(path), format="parquet", schema=handle.schema_arrow, num_rows=handle.metadata.num_rows, _path=path)


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


def _open_delimited(path: Path, fmt: str, head: bytes, delimiter: str | None, encoding: str) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pc

    text = head.decode("latin-1" if encoding == "latin-1" else "utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise DataError(f"{path} has only blank lines", "there is no header and no rows to check", "write the data to the file first")
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(text)
    header = next(csv.reader([text.splitlines()[0]], delimiter=delimiter))
    # Infer types on the first block, then read every block with those types, so batches agree.
    try:
        probe = pc.open_csv(
            path,
            read_options=pc.ReadOptions(encoding=encoding, block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pc.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "skip", newlines_in_values=True),
            convert_options=pc.ConvertOptions(strings_can_be_null=True),
        )
        schema = probe.schema
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise DataError(f"{path} is empty", "there is no header and no rows", "write the data to the file first") from exc
        raise _text_error(str(path), encoding, exc) from exc
    if len(set(header)) == len(header) and list(schema.names) != header:
        schema = pa.schema([schema.field(i).with_name(name) for i, name in enumerate(header)])
    return Table(source=str(path), format=fmt, schema=schema, delimiter=delimiter, encoding=encoding, _path=path)


def _open_jsonl(path: Path, encoding: str) -> Table:
    import pyarrow as pa
    import pyarrow.json as pj

    if encoding not in ("utf8", "utf-8-sig"):
        raise DataError(f"{path} is not UTF-8", "JSON Lines must be UTF-8", "re-encode the file as UTF-8")
    try:
        schema = pj.open_json(path, read_options=pj.ReadOptions(block_size=CSV_BLOCK_BYTES)).schema
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"{path} is not valid JSON Lines: {_first_line(exc)}",
            "each line must be one JSON object",
            "fix the named line, or convert the file to csv or parquet",
        ) from exc
    return Table(source=str(path), format="jsonl", schema=schema, encoding=encoding, _path=path)


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _unique(names: list[str]) -> bool:
    return len(set(names)) == len(names)


def _select(schema: "pa.Schema", columns: list[str] | None) -> "pa.Schema":
    import pyarrow as pa

    return pa.schema([schema.field(c) for c in columns]) if columns else schema


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _text_error(source: str, encoding: str | None, exc: BaseException) -> DataError:
    message = _first_line(exc)
    if "UTF8" in message or "utf-8" in message.lower() or isinstance(exc, UnicodeDecodeError):
        return DataError(
            f"{source} has bytes that are not valid {encoding or 'UTF-8'}: {message}",
            "the start of the file looked like UTF-8, but a later part is in another encoding",
            "pass the encoding explicitly (for example --encoding latin-1)",
        )
    return DataError(
        f"{source} could not be parsed: {message}",
        "the file does not follow one consistent table layout",
        "check the delimiter (or pass --delimiter), quoting and the named row",
    )
