"""The validation pass on the Spark engine: the local pass's profiles per partition, merged on the driver.

Each partition runs the local engine's per-column code (``profile.profile_part``) over its Arrow batches and
sends back its small profiles; the driver merges them in partition order (``ColumnProfile.merge``), so counts,
ranges, value counts, sketches, tails and the leakage sample are what one pass gives. Checks that need every
row at once (duplicates, keys, label conflicts, overlap) hash each row with the local engine's hash code in a
second job and group by the hashes in Spark; only counts and a few example rows come back. High-cardinality
integer and text columns have their distinct values counted exactly by Spark (the local pass keeps their
hashes). Columns are renamed by position inside Spark, so any column name (dots, backticks, repeats) is data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from omgml.data.tables import RaggedRows
from omgml.spark.session import partition_states, spark_errors
from omgml.spark.source import arrow_schema, quoted
from omgml.validation.checks import Against, Matches
from omgml.validation.column import MAX_EXAMPLES, jsonable
from omgml.validation.hashing import NULL_HASH, hash_array
from omgml.validation.profile import (
    Layout,
    PassPlan,
    Profile,
    batch_row_hashes,
    column_salts,
    merge_parts,
    profile_part,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

ROW, TARGET, FEATURES, COMMON = "__omgml_row", "__omgml_target", "__omgml_features", "__omgml_common"
SHOWN_COLUMNS = 12  # columns of a matched row shown as its example
SIGNED_NULL = int(NULL_HASH.astype(np.int64))  # a null target's hash, as Spark's signed longs hold it


def key_column(index: int) -> str:
    return f"__omgml_key{index}"


def spark_profile(frame: DataFrame, plan: PassPlan, source: str, fmt: str) -> tuple[Profile, SparkRows]:
    """Profile ``frame`` as ``profile_table`` profiles a table, and hash its rows for the row-level checks."""
    from pyspark.sql import functions as F

    schema = arrow_schema(frame)
    layout = Layout(schema, plan)
    positional = frame.toDF(*[f"c{i}" for i in range(len(layout.names))])
    parts = partition_states(positional, functools.partial(profile_part, schema, plan), f"profiling {source}")
    merged = merge_parts(layout, parts)
    columns = merged.columns
    # Integer and text columns with no repeat seen while counting values: the local pass keeps every row's hash
    # and counts them exactly; here Spark counts their distinct values (nulls left out, as the hashes leave them).
    candidates = [
        i for i, c in enumerate(columns) if c.physical in ("integer", "string") and c.present and not c.dup_seen
    ]
    exact = {i: None for i in candidates}
    unbounded = [i for i in candidates if columns[i].counts is None]
    if unbounded:
        with spark_errors(f"counting the distinct values of {source}"):
            row = positional.agg(*[F.countDistinct(f"c{i}").alias(f"d{i}") for i in unbounded]).collect()[0]
        exact.update({i: int(row[f"d{i}"]) for i in unbounded})
    for i, column in enumerate(columns):
        column.finish(None, exact.get(i))
    key_terms = {idx[0]: k for k, idx in layout.keys if len(idx) == 1}
    ids = sorted({i for i in exact if columns[i].kind == "id_like"} | set(key_terms) - {layout.target})
    if len(ids) == len(columns):
        ids = []
    rows = SparkRows(positional, layout, ids, source)
    sample = merged.sample.result()
    profile = Profile(
        source=source,
        format=fmt,
        names=layout.names,
        rows=merged.rows,
        columns=columns,
        ragged=RaggedRows(),
        row_hashes=None,  # the rows' hashes stay in Spark (SparkRows)
        key_hashes={},
        feature_hashes=None,
        target_hashes=None,
        common_hashes=None,
        sample=sample.rename_columns(layout.names) if sample is not None else None,  # Spark saw c0, c1, ...
        id_columns=[layout.names[i] for i in ids],
        untracked=[],
    )
    return profile, rows


def row_hash_batches(layout: Layout, ids: list[int], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Each batch with its rows' hashes appended: the whole row, each key, the target, the features (the row
    without target, keys and ids) and the columns shared with ``against``, summed as ``_Pass.run`` sums them."""
    import pyarrow as pa

    common = set(layout.common or [])
    for batch in batches:
        n = batch.num_rows
        row = np.zeros(n, dtype=np.uint64)
        keys = [np.zeros(n, dtype=np.uint64) for _ in layout.keys]
        shared = np.zeros(n, dtype=np.uint64)
        ignored = np.zeros(n, dtype=np.uint64)
        target = np.full(n, NULL_HASH, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(batch.num_columns):
                hashes = hash_array(batch.column(i))
                term = hashes * layout.odd_salts[i]
                row += term
                for k, (_, idx) in enumerate(layout.keys):
                    if i in idx:
                        keys[k] += term
                if i in common:
                    shared += term
                if i in ids:
                    ignored += term
                    if i in common:
                        shared -= term
                if i == layout.target:
                    target = hashes
            features = row - ignored
            if layout.target is not None:
                features -= target * layout.odd_salts[layout.target]
        extra = [row, *keys, target, features, shared]
        names = [ROW, *[key_column(k) for k in range(len(keys))], TARGET, FEATURES, COMMON]
        arrays = [*batch.columns, *[pa.array(a.view(np.int64)) for a in extra]]
        yield pa.RecordBatch.from_arrays(arrays, names=[*batch.schema.names, *names])


def other_hash_batches(salts: list[np.uint64], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The other table's rows hashed over the shared columns, salted as the data's columns are."""
    import pyarrow as pa

    for batch in batches:
        yield pa.RecordBatch.from_arrays([pa.array(batch_row_hashes(batch, salts).view(np.int64))], names=["h"])


class SparkRows:
    """The row-level checks' matching on Spark: per-row hashes grouped and joined there, a few rows brought back."""

    def __init__(self, positional: DataFrame, layout: Layout, ids: list[int], source: str) -> None:
        from pyspark import StorageLevel
        from pyspark.sql.types import LongType, StructField, StructType

        self.layout = layout
        self.source = source
        extra = [ROW, *[key_column(k) for k in range(len(layout.keys))], TARGET, FEATURES, COMMON]
        schema = StructType(positional.schema.fields + [StructField(name, LongType(), False) for name in extra])
        with spark_errors(f"hashing the rows of {source}"):
            self.frame = positional.mapInArrow(functools.partial(row_hash_batches, layout, ids), schema)
            self.frame.persist(StorageLevel.MEMORY_AND_DISK)
        self.cached = [self.frame]  # unpersisted by release()

    def _matched(self, groups: DataFrame, on: str, columns: list[int], labels: bool = False) -> Matches:
        """Totals of ``groups`` (a row per hash: ``n`` rows, ``extra`` of them counted, ``shown`` values of one) and
        the values of the first few groups by hash (Spark's rows have no order to pick "the first" by)."""
        from pyspark.sql import functions as F

        total = groups.agg(F.sum("extra").alias("rows"), F.count(F.lit(1)).alias("groups")).collect()[0]
        count = int(total["rows"] or 0)
        if not count:
            return Matches(0, 0)
        names = self.layout.names
        values = []
        for row in groups.orderBy(on).limit(MAX_EXAMPLES).collect():
            shown = {names[i]: jsonable(row["shown"][f"c{i}"]) for i in columns}
            if labels:
                shown[names[self.layout.target]] = [jsonable(v) for v in row["labels"]]
            values.append(shown)
        return Matches(count, int(total["groups"]), values=values)

    def _shown(self, columns: list[int]):
        from pyspark.sql import functions as F

        return F.first(F.struct(*[f"c{i}" for i in columns])).alias("shown")

    def repeats(self, key: tuple[str, ...] | None) -> Matches:
        from pyspark.sql import functions as F

        if key is None:
            on, columns = ROW, list(range(min(len(self.layout.names), SHOWN_COLUMNS)))
        else:
            index = [k for k, _ in self.layout.keys].index(key)
            on, columns = key_column(index), self.layout.keys[index][1]
        with spark_errors(f"counting repeated rows of {self.source}"):
            groups = (
                self.frame.groupBy(on)
                .agg((F.count(F.lit(1)) - 1).alias("extra"), self._shown(columns))
                .where(F.col("extra") > 0)
            )
            return self._matched(groups, on, columns)

    def conflicts(self) -> Matches:
        from pyspark.sql import functions as F

        target = self.layout.target
        if target is None:
            return Matches(0, 0)
        columns = [i for i in range(len(self.layout.names)) if i != target][:SHOWN_COLUMNS]
        with spark_errors(f"comparing the labels of {self.source}"):
            groups = (
                self.frame.where(F.col(TARGET) != F.lit(SIGNED_NULL))
                .groupBy(FEATURES)
                .agg(
                    F.count(F.lit(1)).alias("extra"),
                    F.array_sort(F.collect_set(f"c{target}")).alias("labels"),
                    F.countDistinct(TARGET).alias("distinct_labels"),
                    self._shown(columns),
                )
                .where(F.col("distinct_labels") > 1)
            )
            return self._matched(groups, FEATURES, columns, labels=True)

    def overlap(self, other: Against) -> Matches:
        from pyspark.sql import functions as F

        if self.layout.common is None:
            return Matches(0, 0)
        columns = self.layout.common[:SHOWN_COLUMNS]
        with spark_errors(f"matching the rows of {self.source} with {other.source}"):
            inside = self.frame.join(other.hashes.withColumnRenamed("h", COMMON), COMMON, "left_semi")
            rows = inside.select(COMMON, F.lit(1).alias("extra"), F.struct(*[f"c{i}" for i in columns]).alias("shown"))
            found = self._matched(rows, COMMON, columns)
        return Matches(found.count, found.count, values=found.values)

    def release(self) -> None:
        with spark_errors(f"releasing the cached rows of {self.source}"):
            for frame in self.cached:
                frame.unpersist()


def spark_against(frame: DataFrame, used: list[str], source: str, rows: SparkRows) -> tuple[DataFrame, int]:
    """The other table's distinct row hashes over ``used`` (cached in Spark until ``rows`` is released), and its
    row count."""
    from pyspark.sql.types import LongType, StructField, StructType

    names = list(frame.columns)
    positions = [names.index(name) for name in used]
    picked = frame.select(*[quoted(names[i]) for i in positions]) if used else frame
    picked = picked.toDF(*[f"c{i}" for i in range(len(used))])
    with spark_errors(f"hashing the rows of {source}"):
        hashed = picked.mapInArrow(
            functools.partial(other_hash_batches, column_salts(used)),
            StructType([StructField("h", LongType(), False)]),
        )
        hashed = hashed.distinct().persist()
        rows.cached.append(hashed)
        count = picked.count()
    return hashed, count
