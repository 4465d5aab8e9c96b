"""Read a table once, batch by batch, into per-column summaries (per time window when asked).

The reader is the only place that touches rows; everything after works on the finalized
summaries. Windows are summarized separately and the whole table is the merge of its windows
and its rows without a time, which exercises the summaries' ``merge`` on every windowed run.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def read() -> Scan:
        accumulators = plan(table.schema)
        if window is None or time_column is None:
            return _scan_whole(table, accumulators)
        return _scan_windows(table, accumulators, time_column, window)

    return read_settled(table, read)


def _update_all(pool: ThreadPoolExecutor, accumulators: dict[str, Accumulator], batch: Any) -> None:
    jobs = [(acc, batch.column(name)) for name, acc in accumulators.items()]
    if len(jobs) < 2:
        for acc, column in jobs:
            acc.update(column)
        return
    for future in [pool.submit(acc.update, column) for acc, column in jobs]:
        future.result()


def _scan_whole(table: Table, accumulators: dict[str, Accumulator]) -> Scan:
    names = list(accumulators)
    rows = 0
    with ThreadPoolExecutor(THREADS) as pool:
        # with nothing to summarize, still read one column: the row count is part of the answer
        for batch in table.batches(names or table.column_names[:1]):
            rows += batch.num_rows
            _update_all(pool, accumulators, batch)
        columns = _finalize_all(pool, accumulators)
    return Scan(rows=rows, columns=columns, schema=table.schema)


def _finalize_all(pool: ThreadPoolExecutor, accumulators: dict[str, Accumulator]) -> dict[str, Summary]:
    futures = {name: pool.submit(acc.finalize) for name, acc in accumulators.items()}
    return {name: future.result() for name, future in futures.items()}


def _scan_windows(table: Table, accumulators: dict[str, Accumulator], time_column: str, window: Window) -> Scan:
    import numpy as np

    names = list(accumulators)
    read = names if time_column in names else [*names, time_column]
    per_window: dict[int, tuple[list[int], dict[str, Accumulator]]] = {}
    untimed = {n: a.fresh() for n, a in accumulators.items()}
    rows = untimed_rows = 0
    with ThreadPoolExecutor(THREADS) as pool:
        for batch in table.batches(read):
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
                    if len(per_window) >= MAX_WINDOWS:
                        raise InvalidInput(
                            f"The window {window.text} cuts '{time_column}' into more than {MAX_WINDOWS} windows",
                            "a table of that many windows is too long to read",
                            "pass a longer --window",
                        )
                    per_window[key] = ([0], {n: a.fresh() for n, a in accumulators.items()})
                counter, accs = per_window[key]
                counter[0] += int(end - start)
                _update_all(pool, accs, ordered.slice(int(start), int(end - start)))
        whole = {n: a.fresh() for n, a in accumulators.items()}
        for name in names:
            for _, accs in per_window.values():
                whole[name].merge(accs[name])
            whole[name].merge(untimed[name])
        windows = [
            WindowScan(index=key, rows=counter[0], columns=_finalize_all(pool, accs))
            for key, (counter, accs) in sorted(per_window.items())
        ]
        columns = _finalize_all(pool, whole)
    return Scan(
        rows=rows,
        columns=columns,
        schema=table.schema,
        windows=windows,
        untimed_rows=untimed_rows,
    )
