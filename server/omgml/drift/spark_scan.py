"""The drift scan on Spark: the local engine's accumulators, run per partition, merged on the driver.

Each partition feeds its Arrow batches to fresh copies of the accumulators the plan made (the same code
``scan.accumulate`` runs locally), and hands back the summaries, never the rows; the driver merges them in
partition order and finalizes them as ``scan.finish`` does. Everything after (tests, findings, verdicts,
saved profiles) is the local engine's code, unchanged. Spark's Arrow types are brought to the local reader's
on the executors: nested columns become their JSON text; strings, decimals and timestamps go through the
accumulators' own conversions, which accept every variant of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omgml.data.tables import RaggedRows
from omgml.spark.session import SparkError, partition_states
from omgml.spark.source import quoted

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from omgml.drift.scan import Partial, Plan, Scan
    from omgml.drift.windows import Window
    from omgml.workspace import Project


@dataclass
class SparkTable:
    """A Spark DataFrame as the drift scan reads it: the schema up front, the summaries computed per partition."""

    frame: DataFrame
    source: str  # how reports name it
    schema: pa.Schema  # as the local reader would show it: nested columns as text
    local_path: Path | None = None
    num_rows: int | None = None  # unknown until scanned: counting would be a job of its own
    ragged: RaggedRows = field(default_factory=RaggedRows)  # Spark reads no text tables, so never any

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def scan(self, plan: Plan, *, time_column: str | None = None, window: Window | None = None) -> Scan:
        """The ``Scan`` the local engine would make of these rows."""
        from omgml.drift.scan import finish

        accumulators = plan(self.schema)
        names = list(accumulators)
        windowed = window is not None and time_column is not None
        read = [*names, time_column] if windowed and time_column not in names else names
        frame = self.frame.select(*[quoted(name) for name in read or self.column_names[:1]])
        work = partial(_summarize, accumulators, time_column if windowed else None, window)
        merged = None
        try:  # merged as each partition's summary arrives: the driver holds one at a time
            for part in partition_states(frame, work, f"the drift summaries of {self.source}"):
                if merged is None:
                    merged = part
                else:
                    merged.merge(part, time_column, window)
        except SparkError as exc:
            if "DATA_TYPE_MISMATCH" not in exc.what:  # Spark reads one file's schema and trips on the others
                raise
            raise SparkError(
                f"The files of {self.source} disagree on a column's type: {exc.what.split(': ', 1)[-1]}",
                "every file (partition) of one table must have the same schema",
                "rewrite the odd files with the common schema, or read a consistent subset of them",
            ) from exc
        if merged is None:
            merged = work(iter(()))
        return finish(merged, self.schema)


def open_spark_table(spark: SparkSession, project: Project, source: Any, what: str) -> SparkTable:
    """``source`` (a Spark DataFrame, ``spark:db.table``, a parquet path, folder or glob) on ``spark``."""
    from omgml.spark.source import arrow_schema, spark_source

    opened = spark_source(spark, project, source, what)
    return SparkTable(opened.frame, opened.shown, drift_schema(arrow_schema(opened.frame)), opened.local_path)


def drift_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` as the summaries see the batches: nested columns as strings (their JSON text)."""
    import pyarrow as pa

    from omgml.data.tables import nested_as_text

    return nested_as_text(pa.RecordBatch.from_pylist([], schema=schema)).schema


def _summarize(
    template: dict, time_column: str | None, window: Window | None, batches: Iterator[pa.RecordBatch]
) -> Partial:
    """One partition's summaries, from fresh copies of the driver's accumulators (runs on an executor)."""
    from omgml.data.tables import nested_as_text
    from omgml.drift.scan import accumulate

    accumulators = {name: acc.fresh() for name, acc in template.items()}
    return accumulate((nested_as_text(batch) for batch in batches), accumulators, time_column, window)
