"""Read a table once, batch by batch, into per-column summaries (per time window when asked).

The reader is the only place that touches rows; everything after works on the finalized
summaries. Windows are summarized separately and the whole table is the merge of its windows
and its rows without a time, which exercises the summaries' ``merge`` on every windowed run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from omgml.data.tables import read_settled
from omgml.drift.histogram import run_starts
from omgml.drift.summaries import CategoryAccumulator, NumericAccumulator, Summary, arrow_int64
from omgml.drift.windows import MAX_WINDOWS, Window, time_values, window_index
from omgml.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from omgml.data.tables import Table

Accumulator = NumericAccumulator | CategoryAccumulator
Plan = Callable[["pa.Schema"], dict[str, Accumulator]]
THREADS = 2  # numpy and Arrow release the GIL in the per-column work


@dataclass
class WindowScan:
    index: int
    rows: int
    columns: dict[str, Summary]


@dataclass
class Scan:
    rows: int
    columns: dict[str, Summary]
    schema: pa.Schema
    windows: list[WindowScan] = field(default_factory=list)
    untimed_rows: int = 0


def scan_table(table: Table, plan: Plan, *, time_column: str | None = None, window: Window | None = None) -> Scan:
    """Summarize every planned column of ``table``; ``plan`` is asked again if the engine widens a type."""
    from omgml.drift.spark_scan import SparkTable

    if isinstance(table, SparkTable):  # summarized per partition on the cluster, merged here
        return table.scan(plan, time_column=time_column, window=window)

    def read() -> Scan:
        accumulators = plan(table.schema)
        names = list(accumulators)
        windowed = window is not None and time_column is not None
        read_columns = [*names, time_column] if windowed and time_column not in names else names
        # with nothing to summarize, still read one column: the row count is part of the answer
        batches = table.batches(read_columns or table.column_names[:1])
        part = accumulate(batches, accumulators, time_column if windowed else None, window)
        return finish(part, table.schema)

    return read_settled(table, read)


@dataclass
class Partial:
    """Summaries of some of a table's rows, not finalized yet: a local read's, or one Spark partition's.

    Without a window ``columns`` summarizes every row; with one, ``windows`` holds each window's rows and
    accumulators and ``columns`` the rows without a time.
    """

    rows: int
    columns: dict[str, Accumulator]
    windows: dict[int, tuple[list[int], dict[str, Accumulator]]] | None = None
    untimed_rows: int = 0

    def merge(self, other: Partial, time_column: str | None, window: Window | None) -> None:
        """Fold ``other`` (other rows of the same table, summarized with the same plan) into this one."""
        self.rows += other.rows
        self.untimed_rows += other.untimed_rows
        for name, acc in self.columns.items():
            acc.merge(other.columns[name])
        if self.windows is None or other.windows is None:
            return
        for key, (counter, accs) in other.windows.items():
            mine = self.windows.get(key)
            if mine is None:
                _check_windows(self.windows, time_column, window)
                self.windows[key] = (counter, accs)
                continue
            mine[0][0] += counter[0]
            for name, acc in mine[1].items():
                acc.merge(accs[name])


def accumulate(
    batches: Iterable[Any], accumulators: dict[str, Accumulator], time_column: str | None, window: Window | None
) -> Partial:
    """Feed ``batches`` to ``accumulators`` (fresh copies of them per window when ``time_column`` is given)."""
    with ThreadPoolExecutor(THREADS) as pool:
        if time_column is None or window is None:
            rows = 0
            for batch in batches:
                rows += batch.num_rows
                _update_all(pool, accumulators, batch)
            return Partial(rows=rows, columns=accumulators)
        return _accumulate_windows(pool, batches, accumulators, time_column, window)


def finish(part: Partial, schema: pa.Schema) -> Scan:
    """The finalized summaries of ``part``: the whole table is the merge of its windows and its untimed rows."""
    with ThreadPoolExecutor(THREADS) as pool:
        if part.windows is None:
            return Scan(rows=part.rows, columns=_finalize_all(pool, part.columns), schema=schema)
        whole = {n: a.fresh() for n, a in part.columns.items()}
        for name, acc in whole.items():
            for _, accs in part.windows.values():
                acc.merge(accs[name])
            acc.merge(part.columns[name])
        windows = [
            WindowScan(index=key, rows=counter[0], columns=_finalize_all(pool, accs))
            for key, (counter, accs) in sorted(part.windows.items())
        ]
        columns = _finalize_all(pool, whole)
    return Scan(rows=part.rows, columns=columns, schema=schema, windows=windows, untimed_rows=part.untimed_rows)


def _update_all(pool: ThreadPoolExecutor, accumulators: dict[str, Accumulator], batch: Any) -> None:
    jobs = [(acc, batch.column(name)) for name, acc in accumulators.items()]
    if len(jobs) < 2:
        for acc, column in jobs:
            acc.update(column)
        return
    for future in [pool.submit(acc.update, column) for acc, column in jobs]:
        future.result()


def _finalize_all(pool: ThreadPoolExecutor, accumulators: dict[str, Accumulator]) -> dict[str, Summary]:
    futures = {name: pool.submit(acc.finalize) for name, acc in accumulators.items()}
    return {name: future.result() for name, future in futures.items()}


def _check_windows(windows: dict, time_column: str | None, window: Window | None) -> None:
    """Refuse one window more than ``MAX_WINDOWS``."""
    if len(windows) >= MAX_WINDOWS:
        raise InvalidInput(
            f"The window {window.text if window else ''} cuts '{time_column}' into more than {MAX_WINDOWS} windows",
            "a table of that many windows is too long to read",
            "pass a longer --window",
        )


def _accumulate_windows(
    pool: ThreadPoolExecutor,
    batches: Iterable[Any],
    accumulators: dict[str, Accumulator],
    time_column: str,
    window: Window,
) -> Partial:
    import numpy as np

    per_window: dict[int, tuple[list[int], dict[str, Accumulator]]] = {}
    untimed = {n: a.fresh() for n, a in accumulators.items()}
    rows = untimed_rows = 0
    for batch in batches:
        rows += batch.num_rows
        nanos, present = time_values(batch.column(time_column), time_column)
        index = window_index(nanos, window)
        if not present.all():
            missing = np.flatnonzero(~present)
            untimed_rows += missing.size
            _update_all(pool, untimed, batch.take(arrow_int64(missing)))
        timed = np.flatnonzero(present)
        if timed.size == 0:
            continue
        order = timed[np.argsort(index[timed], kind="stable")]
        ordered = batch.take(arrow_int64(order))
        keys = index[order]
        starts = run_starts(keys)
        ends = np.append(starts[1:], keys.size)
        for start, end in zip(starts, ends):
            key = int(keys[start])
            if key not in per_window:
                _check_windows(per_window, time_column, window)
                per_window[key] = ([0], {n: a.fresh() for n, a in accumulators.items()})
            counter, accs = per_window[key]
            counter[0] += int(end - start)
            _update_all(pool, accs, ordered.slice(int(start), int(end - start)))
    return Partial(rows=rows, columns=untimed, windows=per_window, untimed_rows=untimed_rows)
