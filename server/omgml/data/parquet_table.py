"""The parquet reader: the schema and row count from the footer, rows streamed column chunk by column chunk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from omgml.data.tables import PARQUET_BATCH_ROWS, DataError, Table
from omgml.errors import first_line

if TYPE_CHECKING:
    import pyarrow as pa

PARQUET_BUFFER_BYTES = 1024 * 1024


@dataclass
class ParquetTable(Table):
    def _batches(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        # Without pre-buffering, reading streams each column chunk through a small buffer: a tenth
        # of the memory of the default (which holds a whole row group's pages) and faster.
        handle = pq.ParquetFile(self._path, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
        yield from handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns)


def open_parquet(path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise unreadable(path, exc) from exc
    return ParquetTable(
        source=str(path), format="parquet", schema=handle.schema_arrow, num_rows=handle.metadata.num_rows, _path=path
    )


def unreadable(path: Path, exc: Exception) -> DataError:
    return DataError(
        f"{path} is not a readable parquet file: {first_line(exc)}",
        "its footer or magic bytes are missing or damaged",
        "re-export the file, or check it is parquet and not another format with a .parquet suffix",
    )
