"""The csv (and tsv) reader.

Text formats carry no types, so a csv column's type is inferred from its first rows and checked on
the first 16 MB (widened there as needed, before any caller reads). When a
later row holds a value of another type (text in an integer column), the column is widened
(integer to float, anything else to string) in ``Table.schema`` and ``batches()`` raises
``SchemaChanged``: batches already handed out used the old type, so a caller that keeps running
summaries starts again (``read_all`` does this itself). It happens at most twice per column.

A full read of a large UTF-8 csv is parsed on two threads, segment by segment (see ``csv_split``),
and handed out in order: the same rows, types, ragged rows and line numbers as the sequential reader
-- save where Arrow drops the LF of a quoted CR LF that straddles two read blocks (apache/arrow#51368,
open in pyarrow 25): the split reader parses such a segment as one block; the sequential one cannot.
A record longer than two read blocks, which Arrow refuses, is read again in larger blocks.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omgml.data import csv_split
from omgml.data.csv_split import ordered_map, parse_threads, segments
from omgml.data.tables import (
    MAX_RAGGED_EXAMPLES,
    MAX_SCHEMA_CHANGES,
    DataError,
    RaggedRows,
    SchemaChanged,
    Table,
    rebatch,
    too_many_changes,
)
from omgml.errors import first_line

if TYPE_CHECKING:
    import pyarrow as pa

CSV_BLOCK_BYTES = 16 * 1024 * 1024  # csv types are inferred from the first block of this size
READ_BLOCK_BYTES = 1024 * 1024  # text is parsed in blocks this small (they stay in the CPU cache: 2x faster)
# Text is slow to parse, so callers overlap parsing with their work (see data/prefetch.py): smaller
# batches than parquet's keep both busy from the first batch to the last (the pipeline fills and drains
# in a quarter of the time) for little more per-batch overhead.
CSV_BATCH_ROWS = 64 * 1024
CSV_FIRST_BATCH_ROWS = 8 * 1024  # ... growing from this, so the caller's work starts while the rest is parsed
CSV_SPLIT_MIN_SEGMENTS = 4  # smaller text files are parsed on one thread: splitting would not pay
# Arrow refuses a record spanning more than two read blocks; the blocks grow 16x, up to this size.
# A longer record is nearly always a quote that is never closed (the rest of the file is one value).
MAX_READ_BLOCK_BYTES = 256 * 1024 * 1024


class _SkipRagged:
    """Arrow's invalid-row handler: skip a row whose field count differs from the header's, and count it.

    Remembers the last such row (number, text): a parsed segment's sentinel line must be it.
    """

    def __init__(self, ragged: RaggedRows, offset: int = 0) -> None:
        self.ragged, self.offset = ragged, offset
        self.last: tuple[int | None, str] | None = None

    def __call__(self, row: Any) -> str:
        self.ragged.count += 1
        if len(self.ragged.examples) < MAX_RAGGED_EXAMPLES and row.number is not None:
            self.ragged.examples.append(row.number + self.offset)
        self.last = (row.number, row.text)
        return "skip"


@dataclass
class CsvTable(Table):
    """A csv or tsv file: types inferred and settled at open, rows parsed in small blocks (on two threads when large)."""

    _resume: Any = None  # the first pass's reader, going on from where settling the types stopped
    _block_bytes: int = 0  # the read block, when a long record made it larger than READ_BLOCK_BYTES
    _spare: Any = None  # segment buffers parsed already, for the segment reader to read into again
    _header_lines: int = 1  # physical lines the header record spans (a quoted name may hold a newline)

    def _csv_reader(
        self,
        columns: list[str] | None,
        source: Any = None,
        skip_rows: int | None = None,
        skipped: _SkipRagged | None = None,
    ) -> Any:
        """The raw Arrow reader: small blocks, this schema's types, batches under the names Arrow reads
        (``skip_rows`` None: from the file's start, skipping the header)."""
        import pyarrow.csv as pc

        lines = self._header_lines if skip_rows is None else skip_rows
        read, parse, convert = self._csv_options(columns, lines, skipped or _SkipRagged(self.ragged))
        return pc.open_csv(self._path if source is None else source, read, parse, convert)

    def _csv_names(self, columns: list[str] | None) -> tuple[list[str], list[str] | None, list[str] | None]:
        """The names to read under, the columns to read, and the names to hand batches out under (None: as read).

        Arrow reads under unique names (a header may repeat one); batches go out under the real ones.
        """
        names = list(self.schema.names)
        internal = _dedupe(names)
        wanted = None if columns is None else [internal[names.index(c)] for c in columns]
        rename = None if internal == names and columns is None else (names if columns is None else list(columns))
        return internal, wanted, rename

    def _csv_options(self, columns: list[str] | None, skip_rows: int, skipped: _SkipRagged) -> tuple:
        import pyarrow.csv as pc

        internal, wanted, _ = self._csv_names(columns)
        return (
            pc.ReadOptions(
                encoding=self.encoding or "utf8",
                block_size=self._read_block(),
                use_threads=False,
                column_names=internal,
                skip_rows=skip_rows,
            ),
            pc.ParseOptions(delimiter=self.delimiter or ",", invalid_row_handler=skipped, newlines_in_values=True),
            pc.ConvertOptions(
                column_types={name: self.schema.field(i).type for i, name in enumerate(internal)},
                include_columns=wanted,
                strings_can_be_null=True,
            ),
        )

    def _batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        resume, self._resume = self._resume, None
        rename = self._csv_names(columns)[2]
        try:
            if resume is not None and columns is None:
                # The first full read goes on from where settling the types stopped (no block parsed twice).
                reader, self.ragged = resume
            elif columns is None and self._splittable():
                self.ragged = RaggedRows()
                reader = self._parallel_csv()
            else:
                self.ragged = RaggedRows()
                reader = self._csv_reader(columns)
            for batch in rebatch(reader, CSV_BATCH_ROWS, CSV_FIRST_BATCH_ROWS):
                yield batch if rename is None else pa.RecordBatch.from_arrays(batch.columns, names=rename)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._widen(exc) from exc

    def _splittable(self) -> bool:
        """Whether to parse on two threads: a UTF-8 file (others are decoded holding the GIL) of several segments."""
        return (
            self.encoding == "utf8"
            and parse_threads() > 1
            and self._path.stat().st_size >= CSV_SPLIT_MIN_SEGMENTS * csv_split.SEGMENT_BYTES
        )

    def _parallel_csv(self, resume: tuple[list, Iterator] | None = None) -> Iterator[pa.RecordBatch]:
        """All rows, parsed segment by segment on two threads and handed out in order, with ragged rows
        numbered as the sequential reader numbers them. From the first segment whose cut is not proven,
        the sequential reader reads the rest. ``resume``: segments parsed already, and the rest to cut."""
        import pyarrow as pa

        records = 0  # records (rows, ragged rows, the header) before the current segment
        done, parts = resume or ([], self._segments())
        ahead = ordered_map(self._parse_segment, parts, parse_threads())
        try:
            for offset, piece in itertools.chain(done, ahead):
                if piece is None:
                    ahead.close()  # stop parsing ahead before reading on
                    with pa.OSFile(str(self._path)) as stream:
                        stream.seek(offset)
                        skipped = _SkipRagged(self.ragged, records)
                        yield from self._csv_reader(None, stream, 0 if offset else self._header_lines, skipped)
                    return
                table, ragged, count = piece
                self.ragged.merge(ragged, records)
                records += count
                yield from table.to_batches()
        finally:
            self._spare = None  # the pass is over (or given up): let the spare buffers go

    def _sentinel(self) -> str:
        return (self.delimiter or ",") * len(self.schema)

    def _segments(self) -> Iterator[tuple[int, memoryview | None]]:
        import queue

        self._spare = queue.SimpleQueue()
        return segments(self._path, self._sentinel().encode(), csv_split.SEGMENT_BYTES, self._spare)

    def _settle_pieces(self, limit_bytes: int) -> Iterator[pa.RecordBatch] | None:
        """The first pass's reader, with the first ``limit_bytes`` parsed as segments on threads already, or
        None when a segment did not parse (a column's type does not fit, or a cut is not proven)."""
        parts = self._segments()
        done = list(
            ordered_map(
                self._parse_segment,
                itertools.islice(parts, max(1, limit_bytes // csv_split.SEGMENT_BYTES)),
                parse_threads(),
            )
        )
        if any(piece is None for _, piece in done):
            self._spare = None
            return None
        return self._parallel_csv((done, parts))

    def _parse_segment(self, segment: tuple[int, memoryview | None]) -> tuple:
        """``(offset, (table, ragged rows, records))`` of one segment, or ``(offset, None)`` when its cut is not proven.

        The segment ends with a sentinel line, one field longer than the header. Arrow reports it as
        a ragged row, and as the segment's last record exactly when the cut lies outside quoted
        fields (inside an open one, it becomes part of that field's value).
        """
        import pyarrow as pa
        import pyarrow.csv as pc

        offset, data = segment
        if data is None:
            return offset, None
        sentinel = self._sentinel()
        ragged = RaggedRows()
        skipped = _SkipRagged(ragged)
        read, parse, convert = self._csv_options(None, 0 if offset else self._header_lines, skipped)
        if _crlf_on_block_edge(data, read.block_size):
            read.block_size = len(data) + 1  # one block: no edge for Arrow to drop the LF at
        try:
            table = pc.read_csv(pa.py_buffer(data), read, parse, convert)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return offset, None  # a real error or a cut inside quotes: the sequential reader tells which
        finally:
            if self._spare is not None and isinstance(data.obj, bytearray):
                self._spare.put(data.obj)  # the table holds its own copy of every value
        if (
            skipped.last is None
            or skipped.last[1] != sentinel
            or skipped.last[0] != read.skip_rows + table.num_rows + ragged.count
        ):
            return offset, None
        ragged.count -= 1
        if ragged.examples and ragged.examples[-1] == skipped.last[0]:
            ragged.examples.pop()
        return offset, (table, ragged, skipped.last[0] - 1)

    def _read_block(self) -> int:
        return self._block_bytes or READ_BLOCK_BYTES

    def _widen(self, exc: BaseException) -> DataError:
        """Widen the column a conversion error names, or the read block a long record did not fit
        (a ``SchemaChanged`` to raise), or explain the error."""
        larger = _larger_block(self._read_block(), exc)
        if larger is not None:
            old, self._block_bytes = self._read_block(), larger
            return SchemaChanged(
                f"{self.source}: a record is longer than the {_size(old)} read block",
                f"{first_line(exc)}; it is now read in {_size(larger)} blocks",
                "read the table again from the start",
            )
        widened = _widen_csv(self.schema, str(exc))
        if widened is None:
            return _text_error(self.source, self.encoding, exc)
        self.schema, column, old, new = widened
        return SchemaChanged(
            f"{self.source}: column '{column}' was read as {old} from the first rows, but a later row does not fit",
            f"{first_line(exc)}; it is now read as {new}",
            "read the table again from the start",
        )

    def _settle_types(self, limit_bytes: int) -> None:
        """Read the first ``limit_bytes`` with the inferred types, widening columns until they all fit.

        Types are inferred from the first small block (fast); checking them against the next blocks
        here settles nearly every change of type before any caller starts a pass.
        """
        import pyarrow as pa

        blocks = max(1, limit_bytes // self._read_block())
        for _ in range(MAX_SCHEMA_CHANGES):
            self.ragged = RaggedRows()
            if self._splittable():
                reader = self._settle_pieces(limit_bytes)
                if reader is not None:
                    self._resume = (reader, self.ragged)
                    return
            try:  # the sequential reader settles the types, or names the error
                reader = self._csv_reader(None)
                read = []
                for batch in reader:
                    read.append(batch)
                    if len(read) >= blocks:
                        break
                self._resume = (itertools.chain(read, reader), self.ragged)
                return
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                error = self._widen(exc)
                if not isinstance(error, SchemaChanged):
                    raise error from exc
        raise too_many_changes(self.source)


def open_csv(path: Path, fmt: str, head: bytes, delimiter: str | None, encoding: str) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pc

    text = head.decode(encoding, errors="replace").lstrip("\ufeff")  # sniffed or checked by open_table
    if not text.strip():
        raise DataError(
            f"{path} has only blank lines",
            "there is no header and no rows to check",
            "write the data to the file first",
        )
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(text)
    try:
        # The header as one csv record: a quoted name may hold a newline, and Arrow's skip_rows counts lines.
        records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(records, [""])
        header_lines = max(records.line_num, 1)
    except csv.Error as exc:  # a header field over Python's 128 KB field limit
        raise DataError(
            f"{path} has a header that is not a row of column names: {exc}",
            "the first line is the header, and a column name that long is nearly always data or an unclosed quote",
            "put the column names on the first line, or close the quote that opens there",
        ) from exc
    # Infer types on the first small block, check them on the next blocks up to CSV_BLOCK_BYTES
    # (widening where needed), then read every block with those types, so batches agree.
    block = READ_BLOCK_BYTES
    while True:
        try:
            probe = pc.open_csv(
                path,
                read_options=pc.ReadOptions(encoding=encoding, block_size=block, use_threads=False),
                parse_options=pc.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=lambda row: "skip", newlines_in_values=True
                ),
                convert_options=pc.ConvertOptions(strings_can_be_null=True),
            )
            schema = probe.schema
            break
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                raise DataError(
                    f"{path} is empty", "there is no header and no rows", "write the data to the file first"
                ) from exc
            block = _larger_block(block, exc)
            if block is None:
                raise _text_error(str(path), encoding, exc) from exc
    if len(set(header)) == len(header) == len(schema) and list(schema.names) != header:
        schema = pa.schema([schema.field(i).with_name(name) for i, name in enumerate(header)])
    table = CsvTable(
        source=str(path),
        format=fmt,
        schema=schema,
        delimiter=delimiter,
        encoding=encoding,
        _path=path,
        _block_bytes=block,
        _header_lines=header_lines,
    )
    table._settle_types(CSV_BLOCK_BYTES)
    undecodable = [f.name for f in table.schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    if undecodable:  # Arrow reads text it cannot decode as raw bytes: say so instead of checking bytes
        raise DataError(
            f"{path} has bytes that are not valid {encoding} in column(s) {', '.join(undecodable[:5])}",
            "the file is not in the encoding it was read with (often latin-1 or cp1252 text in a UTF-8 file)",
            "pass the encoding explicitly (for example --encoding latin-1), or re-save the file as UTF-8",
        )
    return table


def _first_lines(text: str, count: int) -> list[str]:
    """The first ``count`` lines of ``text`` (which may hold megabytes), without splitting all of it."""
    return "\n".join(text.split("\n", count)[:count]).splitlines()[:count]


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(_first_lines(text, 50))
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _dedupe(names: list[str]) -> list[str]:
    """Unique names for reading: a repeated ``x`` becomes ``x.1``, ``x.2`` (as pandas does)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 0
        while candidate in seen:
            n += 1
            candidate = f"{name}.{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


_CONVERSION = re.compile(r"In CSV column #(\d+): .*CSV conversion error to ([^:]+): invalid value '(.*)'", re.DOTALL)


def _widen_csv(schema: pa.Schema, message: str) -> tuple[pa.Schema, str, str, str] | None:
    """The schema with the failing column widened (integer to float when the value is a number, else string)."""
    import pyarrow as pa

    match = _CONVERSION.search(message)
    if not match or int(match.group(1)) >= len(schema):
        return None
    index, value = int(match.group(1)), match.group(3)
    old = schema.field(index).type
    if pa.types.is_null(old) and _parses(int, value):
        new = pa.int64()  # a column empty in the first rows: its first value decides
    elif pa.types.is_null(old) and value.strip().lower() in ("true", "false"):
        new = pa.bool_()
    elif _parses(float, value) and (pa.types.is_integer(old) or pa.types.is_null(old)):
        new = pa.float64()
    elif pa.types.is_string(old) or pa.types.is_large_string(old):
        return None  # nothing wider to fall back to
    else:
        new = pa.string()
    widened = schema.set(index, schema.field(index).with_type(new))
    return widened, schema.field(index).name, str(old), str(new)


def _parses(kind: type, value: str) -> bool:
    try:
        kind(value)
    except ValueError:
        return False
    return True


def _crlf_on_block_edge(data: memoryview, block: int) -> bool:
    """Whether a CR LF pair straddles two read blocks of ``data``. Arrow drops the LF when the pair is
    inside a quoted field (apache/arrow#51368, open in pyarrow 25)."""
    return any(data[edge - 1 : edge + 1] == b"\r\n" for edge in range(block, len(data), block))


def _larger_block(block: int, exc: BaseException) -> int | None:
    """A 16x larger read block when Arrow refused a record spanning more than two blocks (None: another error, or the cap)."""
    if "straddl" not in str(exc) or block >= MAX_READ_BLOCK_BYTES:
        return None
    return min(16 * block, MAX_READ_BLOCK_BYTES)


def _size(count: int) -> str:
    return f"{count / 2**20:g} MB" if count >= 2**20 else f"{count} bytes"


def _text_error(source: str, encoding: str | None, exc: BaseException) -> DataError:
    message = first_line(exc)
    if "straddl" in message:
        return DataError(
            f"{source} has a record longer than {_size(MAX_READ_BLOCK_BYTES)}",
            "that is nearly always a quote that opens a field and is never closed, so the rest of the file reads as one value",
            "find the field that opens a quote and never closes it, or pass the right --delimiter",
        )
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
