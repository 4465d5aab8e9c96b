"""The dataset reader: a folder of parquet files (hive ``key=value`` folders become columns) or a glob of them.

Every file's footer is read up front: the row count is their sum, and files that disagree on their columns
are refused naming the column, both types and both files, before any row is read. Rows are streamed file by
file through pyarrow.dataset with a small readahead, so memory stays bounded as for one parquet file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from omgml.data.files import list_dataset
from omgml.data.parquet_table import PARQUET_BUFFER_BYTES, unreadable
from omgml.data.tables import PARQUET_BATCH_ROWS, DataError, Table, rebatch
from omgml.errors import first_line

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class DatasetTable(Table):
    _dataset: Any = None  # the pyarrow.dataset.Dataset, its schema fixed to ``schema`` before nested columns

    def _batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        # One file and one batch ahead: more readahead is faster on many small files, but holds more rows.
        scan = self._dataset.to_batches(
            columns=columns, batch_size=PARQUET_BATCH_ROWS, batch_readahead=1, fragment_readahead=1
        )
        yield from rebatch(scan)


def open_dataset(path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.dataset as ds

    layout = list_dataset(path)
    schema, rows = _file_schema(path, layout.base, layout.files)
    _refuse_repeated_keys(path, layout.base, layout.files, schema)
    scan_format = ds.ParquetFileFormat(
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
    )
    try:
        # Discovery infers the partition columns' types from every folder name (a year is int32, as Spark's int).
        found = ds.dataset(
            [str(f) for f in layout.files],
            format=scan_format,
            partitioning="hive",
            partition_base_dir=str(layout.base),
        )
        partitions = pa.schema([f for f in found.schema if f.name not in schema.names])
        # Given the widened schema, the scan casts each file's columns to it (replace_schema would refuse).
        dataset = ds.dataset(
            [str(f) for f in layout.files],
            schema=pa.schema([*schema, *partitions]),
            format=scan_format,
            partitioning=ds.HivePartitioning(partitions),
            partition_base_dir=str(layout.base),
        )
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path} could not be read as a parquet dataset: {first_line(exc)}",
            "its folder names or files do not form one table",
            "check the key=value folder names, or read one file at a time",
        ) from exc
    return DatasetTable(source=str(path), format="parquet", schema=dataset.schema, num_rows=rows, _dataset=dataset)


def _file_schema(path: Path, base: Path, files: list[Path]) -> tuple[pa.Schema, int]:
    """The columns every file shares (a type widened where files differ but Arrow can promote, as int32 and
    int64, or all-null and text), and the total row count, from the footers alone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema: pa.Schema | None = None
    origin: dict[str, str] = {}  # which file each column's current type comes from, for the message
    rows = 0
    for file in files:
        name = file.relative_to(base).as_posix()
        try:
            with pq.ParquetFile(file) as handle:
                own, rows = handle.schema_arrow, rows + handle.metadata.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise unreadable(file, exc) from exc
        if schema is None:
            schema, origin = own.remove_metadata(), dict.fromkeys(own.names, name)
            continue
        missing = [c for c in schema.names if c not in own.names] or [c for c in own.names if c not in schema.names]
        if missing:
            column = missing[0]
            holder, other = (origin[column], name) if column in origin else (name, origin[schema.names[0]])
            raise _disagree(path, f"'{column}' is a column of {holder} but not of {other}")
        fields = []
        for field in schema:
            theirs = own.field(field.name)
            if theirs.type != field.type:
                try:
                    merged = pa.unify_schemas(
                        [pa.schema([field]), pa.schema([theirs])], promote_options="permissive"
                    ).field(0)
                except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
                    raise _disagree(
                        path,
                        f"column '{field.name}' is {field.type} in {origin[field.name]} but {theirs.type} in {name}",
                    ) from exc
                if merged.type != field.type:
                    origin[field.name] = name
                field = merged
            fields.append(field)
        schema = pa.schema(fields)
    assert schema is not None  # list_dataset never returns an empty list
    return schema, rows


def _disagree(path: Path, detail: str) -> DataError:
    return DataError(
        f"The files of {path} disagree: {detail}",
        "a folder or glob is read as one table, so every file must have the same columns with compatible types",
        "rewrite the odd file with the others' schema, or match only the files that agree",
    )


def _refuse_repeated_keys(path: Path, base: Path, files: list[Path], schema: pa.Schema) -> None:
    """A partition folder ``key=value`` whose key is also a column of the files: one name, two sources of values."""
    for file in files:
        for part in file.relative_to(base).parent.parts:
            key = unquote(part.split("=", 1)[0]) if "=" in part else None
            if key is not None and key in schema.names:
                raise DataError(
                    f"{path}: the partition folder {part} names the column '{key}', which its files hold too",
                    "a partition folder's key becomes a column, so the table would have two columns of one name",
                    "drop the column from the files, or rename the partition folders",
                )
