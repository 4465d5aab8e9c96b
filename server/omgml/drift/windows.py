"""Time windows: cut the current data by a time column into fixed-length windows.

Windows are aligned to the Unix epoch in UTC, so they are the same whichever row comes first
and need one pass: ``1D`` windows are calendar days (UTC midnight to midnight), ``1h`` windows
whole hours, and windows that are a whole number of weeks start on a Monday. Naive timestamps
are read as UTC. Rows without a time are counted in the whole comparison but in no window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from omgml.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

UNITS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "d": 86_400, "w": 604_800}
WINDOW_PATTERN = re.compile(r"^\s*(\d+)\s*(s|sec|min|h|d|w)\s*$", re.IGNORECASE)
MONDAY = 4 * 86_400  # 1970-01-05, the first Monday after the epoch
MAX_WINDOWS = 1_000
NS = 1_000_000_000


@dataclass(frozen=True)
class Window:
    text: str
    seconds: int
    origin: int  # epoch seconds windows are counted from

    def bounds(self, index: int) -> tuple[str, str]:
        """ISO start and end (exclusive) of window ``index``."""
        start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=self.origin + index * self.seconds)
        end = start + timedelta(seconds=self.seconds)
        return _iso(start), _iso(end)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_window(text: str) -> Window:
    """``1D``, ``7D``, ``12h``, ``30min``, ``1W``... as a ``Window``; anything else is an error that shows the form."""
    match = WINDOW_PATTERN.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(
            f"The window '{text}' is not a length omgml understands",
            "a window is a whole number and a unit: s, min, h, D (days) or W (weeks)",
            "pass for example --window 1D, 7D, 12h or 1W",
        )
    seconds = int(match.group(1)) * UNITS[match.group(2).lower()]
    return Window(text=text.strip(), seconds=seconds, origin=MONDAY if seconds % UNITS["w"] == 0 else 0)


def time_values(array: pa.Array, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since the epoch (UTC) of a time column's values, and where a value is present."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    if pa.types.is_dictionary(kind):
        array, kind = array.dictionary_decode(), kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        array = _parse_text_times(array, column)
        kind = array.type
    if pa.types.is_date(kind):
        array = array.cast(pa.timestamp("s")) if pa.types.is_date32(kind) else array.cast(pa.timestamp("ms"))
        kind = array.type
    if not pa.types.is_timestamp(kind):
        raise InvalidInput(
            f"The time column '{column}' holds {kind}, not dates or timestamps",
            "windows are cut by time, so the column must be a date, a timestamp, or ISO 8601 text",
            "pass a date or timestamp column as --time-column",
        )
    from omgml.drift.summaries import numpy_view

    nanos = pc.cast(array, pa.timestamp("ns", kind.tz)).cast(pa.int64())
    missing = np.iinfo(np.int64).min  # not a time any timestamp[ns] column can hold
    values = numpy_view(pc.fill_null(nanos, missing)).copy()
    return values, values != missing


def _parse_text_times(array: pa.Array, column: str) -> pa.Array:
    import pyarrow as pa

    for target in (pa.timestamp("ns"), pa.timestamp("ns", "UTC")):
        try:
            return array.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    sample = next((v for v in array.to_pylist()[:1000] if v is not None), None)
    raise InvalidInput(
        f"The time column '{column}' has text that is not an ISO 8601 time (for example {sample!r})",
        "windows are cut by time, so every value must read as a date or timestamp",
        "write times as 2024-05-01 or 2024-05-01T13:00:00, or pass another --time-column",
    )


def window_index(nanos: np.ndarray, window: Window) -> np.ndarray:
    """The window each time falls in (integer floor division, so times before 1970 work too)."""
    return (nanos - window.origin * NS) // (window.seconds * NS)
