"""One streaming pass over a table that keeps everything the checks need, in bounded memory.

Per column (``validation/column.py``): missing values, finite min and max, infinities, exact value counts while a column
has at most ``EXACT_DISTINCT_CAP`` distinct values (then a distinct-count sketch), text that
reads as numbers or dates, and the contract's range and category counts. Per row: one 64-bit
hash of the whole row (duplicates, overlap), of the key columns, and of features and target
(label conflicts): 8 bytes a row each. Exact uniqueness of a high-cardinality integer or text
column keeps 8 bytes a row for that column while no duplicate has been seen, within
``UNIQUE_BUDGET_ROWS``. With a target, a sample of rows (keyed by a hash of their content) is kept for the leakage
check. When a contract is to be inferred, each numeric column keeps its ``TAIL_VALUES`` smallest and
largest values (the order statistics its bounds are extrapolated from). Nothing else grows with the table.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omgml.data.kinds import physical_of
from omgml.data.prefetch import prefetch
from omgml.data.tables import RaggedRows, Table, read_settled
from omgml.validation.column import ColumnProfile, ColumnRules, jsonable
from omgml.validation.hashing import NULL_HASH, hash_array, mix

if TYPE_CHECKING:
    import pyarrow as pa

UNIQUE_BUDGET_ROWS = 64_000_000  # 512 MB of hashes over all columns tracked for exact uniqueness
SAMPLE_ROWS = 50_000
SAMPLE_SEED = np.uint64(20240611)  # salts the row hash that orders the leakage sample


@dataclass
class Profile:
    """What one pass learned about a table."""

    source: str
    format: str
    names: list[str]
    rows: int
    columns: list[ColumnProfile]
    ragged: RaggedRows
    row_hashes: np.ndarray | None  # None on the Spark engine, whose hashes stay in Spark (spark_pass.SparkRows)
    key_hashes: dict[tuple[str, ...], np.ndarray]
    feature_hashes: np.ndarray | None
    target_hashes: np.ndarray | None
    common_hashes: np.ndarray | None
    sample: pa.Table | None
    id_columns: list[str]  # id-like and single-column key columns left out of feature and overlap hashes
    untracked: list[str]  # columns whose uniqueness was not tracked (over the memory budget)

    def column(self, name: str) -> ColumnProfile | None:
        """The first column named ``name``, by a dict: a contract of 100,000 columns asks once for each."""
        return self._first_by_name.get(name)

    def first_columns(self) -> list[ColumnProfile]:
        """One profile per distinct column name: the first column of a repeated name speaks for it."""
        return list(self._first_by_name.values())

    @functools.cached_property
    def _first_by_name(self) -> dict[str, ColumnProfile]:  # a profile's columns are set once, by its pass
        by_name: dict[str, ColumnProfile] = {}
        for column in self.columns:
            by_name.setdefault(column.name, column)
        return by_name


@dataclass
class PassPlan:
    """What the pass must compute besides the per-column basics."""

    rules: dict[str, ColumnRules] = field(default_factory=dict)
    keys: list[tuple[str, ...]] = field(default_factory=list)
    target: str | None = None
    common: list[str] | None = None  # columns hashed for an overlap test; None: no overlap test
    sample_rows: int = 0
    tails: bool = False  # keep each numeric column's extreme values (a contract is inferred)


def profile_table(table: Table, plan: PassPlan) -> Profile:
    """Read ``table`` once (again from the start if a csv column had to be widened) and profile it."""
    return read_settled(table, lambda: _Pass(table, plan).run())


def row_hashes_of(table: Table, columns: list[str]) -> np.ndarray:
    """Row hashes over ``columns`` (distinct names) of ``table``, salted as the profile salts the first
    column of each name: the other side of an overlap test."""
    salts = column_salts(columns)

    return read_settled(table, lambda: _concat([batch_row_hashes(batch, salts) for batch in table.batches(columns)]))


def batch_row_hashes(batch: pa.RecordBatch, salts: list[np.uint64]) -> np.ndarray:
    """One hash per row of ``batch``: its columns' hashes, each salted (``salts`` in column order), summed."""
    row = np.zeros(batch.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for arr, salt in zip(batch.columns, salts):
            row += salted(hash_array(arr), salt)
    return row


def fetch_rows(table: Table, rows: list[int], columns: list[str]) -> dict[int, dict[str, Any]]:
    """The values of ``columns`` in the given 0-based rows; reads only as far as the last of them."""
    wanted = sorted(set(rows))
    if not wanted:
        return {}

    def read() -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        offset = 0
        for batch in table.batches(columns):
            for row in wanted:
                if offset <= row < offset + batch.num_rows:
                    found[row] = {
                        name: jsonable(batch.column(i)[row - offset].as_py()) for i, name in enumerate(columns)
                    }
            offset += batch.num_rows
            if offset > wanted[-1]:
                break
        return found

    return read_settled(table, read)


class Layout:
    """Where the pass finds what it needs in a table of this schema: per column its salt and rules, the keys,
    the target and the overlap's columns, by index (the first column of a repeated name speaks for it)."""

    def __init__(self, schema: pa.Schema, plan: PassPlan) -> None:
        self.schema = schema
        self.plan = plan
        self.names = list(schema.names)
        self.first: dict[str, int] = {}
        for i, name in enumerate(self.names):
            self.first.setdefault(name, i)
        self.salts = column_salts(self.names)
        self.odd_salts = [salt | np.uint64(1) for salt in self.salts]
        self.rules = {self.first[n]: r for n, r in plan.rules.items() if n in self.first}
        self.keys = [(k, [self.first[c] for c in k]) for k in plan.keys]
        self.target = self.first.get(plan.target) if plan.target else None
        self.common = [self.first[c] for c in plan.common] if plan.common is not None else None

    def new_columns(self, sniff_all: bool = False) -> list[ColumnProfile]:
        import pyarrow as pa

        columns = []
        for i, name in enumerate(self.names):
            kind = self.schema.field(i).type
            columns.append(
                ColumnProfile(
                    index=i,
                    name=name,
                    dtype=str(kind),
                    physical=physical_of(kind),
                    keep_tails=self.plan.tails,
                    arrow_type=kind.value_type if pa.types.is_dictionary(kind) else kind,
                    sniff_all=sniff_all,
                )
            )
        return columns


class _Pass:
    def __init__(self, table: Table, plan: PassPlan) -> None:
        self.table = table
        self.plan = plan
        self.layout = Layout(table.schema, plan)
        self.names = self.layout.names
        self.columns = self.layout.new_columns()
        self.salts, self.odd_salts = self.layout.salts, self.layout.odd_salts
        self.rules, self.keys, self.target = self.layout.rules, self.layout.keys, self.layout.target
        self.common = self.layout.common
        self.candidates: dict[int, _Rows] | None = None  # columns that may be unique: their hashes
        self.budget = UNIQUE_BUDGET_ROWS
        self.untracked: list[str] = []

    def run(self) -> Profile:
        rows = 0
        total = self.table.num_rows
        row_parts, target_parts, common_parts = _Rows(total), _Rows(total), _Rows(total)
        key_parts: dict[tuple[str, ...], _Rows] = {k: _Rows(total) for k, _ in self.keys}
        sample = _Sample(self.plan.sample_rows)
        members: dict[int, list[tuple[str, ...]]] = {}
        for key, idx in self.keys:
            for i in idx:
                members.setdefault(i, []).append(key)
        common_set = set(self.common or [])
        common_is_all = self.common is not None and len(common_set) == len(self.columns)
        # Text comes in batches a quarter the size of parquet's (tables.CSV_BATCH_ROWS): as many rows may wait.
        depth = 8 if self.table.format in ("csv", "tsv") else 2
        for batch in prefetch(self.table.batches(), depth):
            n = batch.num_rows
            if n == 0:
                continue
            # Row hashes add each column's salted hash, accumulated in place (no per-column arrays kept).
            row = np.zeros(n, dtype=np.uint64)
            term = np.empty(n, dtype=np.uint64)
            keyed = {key: np.zeros(n, dtype=np.uint64) for key, _ in self.keys}
            shared = np.zeros(n, dtype=np.uint64) if self.common is not None and not common_is_all else None
            hashes = []
            for i, column in enumerate(self.columns):
                h = column.update(batch.column(i), self.rules.get(i))
                hashes.append(h)
                with np.errstate(over="ignore"):
                    np.multiply(h, self.odd_salts[i], out=term)
                    row += term
                    for key in members.get(i, ()):
                        keyed[key] += term
                    if shared is not None and i in common_set:
                        shared += term
            row_parts.add(row)
            for key, hashed in keyed.items():
                key_parts[key].add(hashed)
            if self.target is not None:
                target_parts.add(hashes[self.target])
            if self.common is not None and not common_is_all:
                common_parts.add(shared)
            self._keep_candidates(hashes, total)
            sample.add(row, batch)
            rows += n
        candidates = {i: parts.result() for i, parts in (self.candidates or {}).items()}
        self.candidates = None
        for i, column in enumerate(self.columns):
            column.finish(candidates.get(i))
        # Id-like and single-column key columns differ on every row by design: label conflicts and
        # overlap compare rows without them (a key's term is its key hash when the key is one column).
        key_terms = {idx[0]: k for k, idx in self.keys if len(idx) == 1}
        ids = sorted({i for i in candidates if self.columns[i].kind == "id_like"} | set(key_terms) - {self.target})
        if len(ids) == len(self.columns):
            ids = []  # nothing but ids: the whole row is what there is to compare
        keys_total = {k: v.result() for k, v in key_parts.items()}
        row_hashes = row_parts.result()
        common_hashes = None
        if self.common is not None:
            common_hashes = row_hashes.copy() if common_is_all else common_parts.result()
        feature_hashes = target_hashes = None
        if self.target is not None:
            feature_hashes = row_hashes.copy()
            target_hashes = target_parts.result()
        with np.errstate(over="ignore"):
            for i in ids:
                term = keys_total[key_terms[i]] if i in key_terms else salted(candidates[i], self.salts[i])
                if feature_hashes is not None:
                    feature_hashes -= term
                if common_hashes is not None and i in common_set:
                    common_hashes -= term
            if feature_hashes is not None:
                feature_hashes -= salted(target_hashes, self.salts[self.target])
        del candidates
        return Profile(
            source=self.table.source,
            format=self.table.format,
            names=self.names,
            rows=rows,
            columns=self.columns,
            ragged=self.table.ragged,
            row_hashes=row_hashes,
            key_hashes=keys_total,
            feature_hashes=feature_hashes,
            target_hashes=target_hashes,
            common_hashes=common_hashes,
            sample=sample.result(),
            id_columns=[self.names[i] for i in ids],
            untracked=self.untracked,
        )

    def _keep_candidates(self, hashes: list[np.ndarray], total: int | None) -> None:
        """Keep each row's hash of integer and text columns with no repeated value so far (ids, unique keys)."""
        if self.candidates is None:
            self.candidates = {}
            for i, column in enumerate(self.columns):
                if column.physical not in ("integer", "string") or column.present == 0:
                    continue
                if column.counts is None and not column.dup_seen:
                    if column.physical == "integer" and column.max - column.min + 1 < column.present:
                        column.dup_seen = True  # more values than room for distinct ones
                    else:
                        present = np.sort(hashes[i][hashes[i] != NULL_HASH])
                        column.dup_seen = bool((present[1:] == present[:-1]).any())
                if not column.dup_seen:
                    self.candidates[i] = _Rows(total)
        for i in list(self.candidates):
            if self.columns[i].dup_seen:
                del self.candidates[i]
            elif self.budget < len(hashes[i]):
                self.budget += self.candidates.pop(i).n
                self.untracked.append(self.names[i])
            else:
                self.budget -= len(hashes[i])
                self.candidates[i].add(hashes[i])


def column_salts(names: list[str]) -> list[np.uint64]:
    """One salt per column from its name (and its place among columns of the same name)."""
    import pyarrow as pa

    seen: dict[str, int] = {}
    labels = []
    for name in names:
        labels.append(f"{name}\x00{seen.get(name, 0)}")
        seen[name] = seen.get(name, 0) + 1
    return list(hash_array(pa.array(labels, type=pa.string()))) if labels else []


def salted(hashes: np.ndarray, salt: np.uint64) -> np.ndarray:
    """A column's contribution to a row hash; row hashes add contributions, so a column can be taken out.

    Values are already well-mixed 64-bit hashes, so one multiplication by the column's odd salt
    keeps columns apart (swapping two columns' values changes the sum) at a fraction of a mix.
    """
    with np.errstate(over="ignore"):
        return hashes * (salt | np.uint64(1))  # the same term the pass adds


class _Rows:
    """One uint64 per row, filled batch by batch: preallocated when the row count is known (no concat copy)."""

    def __init__(self, total: int | None) -> None:
        self.buffer = np.empty(total, dtype=np.uint64) if total is not None else None
        self.parts: list[np.ndarray] = []
        self.n = 0

    def add(self, values: np.ndarray) -> None:
        if self.buffer is not None and self.n + len(values) <= len(self.buffer) and not self.parts:
            self.buffer[self.n : self.n + len(values)] = values
        else:
            if self.buffer is not None:
                self.parts, self.buffer = [self.buffer[: self.n]], None
            self.parts.append(values)
        self.n += len(values)

    def result(self) -> np.ndarray:
        if self.buffer is not None:
            return self.buffer[: self.n]
        return _concat(self.parts)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)


class _Sample:
    """The ``keep`` rows whose content hashes to the smallest keys, in the order of their keys.

    A uniform sample that does not depend on the order or the partitioning the rows are read in: the local and the
    Spark engine take the same rows, in the same order (the leakage check's folds follow it). Identical rows go in
    or out together, and their order among themselves does not matter.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.parts: list[tuple[np.ndarray, Any]] = []
        self.held = 0
        self.threshold: np.uint64 | None = None

    def add(self, row_hashes: np.ndarray, batch: Any) -> None:
        if not self.keep:
            return
        keys = mix(row_hashes ^ SAMPLE_SEED)
        chosen = np.flatnonzero(keys < self.threshold) if self.threshold is not None else None
        if chosen is not None:
            if not len(chosen):
                return
            keys, batch = keys[chosen], batch.take(chosen)
        self._hold(keys, batch)

    def merge(self, other: _Sample) -> None:
        for keys, rows in other.parts:
            self._hold(keys, rows)

    def _hold(self, keys: np.ndarray, rows: Any) -> None:
        self.parts.append((keys, rows))
        self.held += len(keys)
        if self.held > 2 * self.keep:
            self._shrink()

    def _shrink(self) -> None:
        import pyarrow as pa

        keys = np.concatenate([k for k, _ in self.parts])
        table = pa.concat_tables([_to_table(r) for _, r in self.parts]) if len(self.parts) > 1 else self.parts[0][1]
        order = np.argsort(keys, kind="stable")[: self.keep]
        if len(keys) > self.keep:
            self.threshold = keys[order[-1]]
        self.parts, self.held = [(keys[order], _to_table(table).take(order).combine_chunks())], len(order)

    def result(self) -> pa.Table | None:
        if not self.parts:
            return None
        self._shrink()
        return _to_table(self.parts[0][1])


def _to_table(data: Any) -> pa.Table:
    import pyarrow as pa

    return data if isinstance(data, pa.Table) else pa.Table.from_batches([data])


@dataclass
class PartProfile:
    """What the pass learned about one part of a table (a Spark partition): small, whatever the part's rows."""

    rows: int
    columns: list[ColumnProfile]
    sample: _Sample


def profile_part(schema: pa.Schema, plan: PassPlan, batches: Iterable[pa.RecordBatch]) -> PartProfile:
    """The per-column profiles and the sample of the rows in ``batches``, counted as ``_Pass`` counts them;
    ``merge_parts`` joins the parts (dates and times are counted whatever the part's first values say, and
    decided from the first part's once merged)."""
    layout = Layout(schema, plan)
    columns = layout.new_columns(sniff_all=True)
    sample = _Sample(plan.sample_rows)
    rows = 0
    for batch in batches:
        n = batch.num_rows
        if n == 0:
            continue
        row = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i, column in enumerate(columns):
                row += column.update(batch.column(i), layout.rules.get(i)) * layout.odd_salts[i]
        sample.add(row, batch)
        rows += n
    return PartProfile(rows, columns, sample)


def merge_parts(layout: Layout, parts: Iterable[PartProfile]) -> PartProfile:
    """The parts, in row order, as one: each column's profile merged, the sample re-drawn from the parts'.

    Merged as they come, so a caller streaming parts (the Spark engine) holds one of them at a time.
    """
    parts = iter(parts)
    merged = next(parts, None)
    if merged is None:
        return PartProfile(0, layout.new_columns(), _Sample(layout.plan.sample_rows))
    for part in parts:
        merged.rows += part.rows
        for column, other in zip(merged.columns, part.columns):
            column.merge(other)
        merged.sample.merge(part.sample)
    for column in merged.columns:
        column.settle_sniff()
    return merged
