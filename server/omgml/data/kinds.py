"""Column kinds: what a column holds, decided from a handful of per-column statistics.

``infer_kind`` is a pure function of ``KindStats`` (no data, no I/O), so every pass that keeps
these few counts gets the same answer: validation's streaming profile, drift's reference
summaries and baseline's in-memory frame (``stats_of``). Values decide, not storage: the same
column is the same kind in csv and parquet, as text or as a typed Arrow column. The text
sniffers (``number_mask``, ``date_mask``, ``time_mask``) live here so every service reads
"this text is a date" the same way.

The decision is an ordered table of (condition, kind, reason) rows: the first row that holds
wins, and its reason says why.

=====  ===========================================================  ==========  =================================
order  condition                                                    kind        why
=====  ===========================================================  ==========  =================================
1      stored as true/false                                         boolean     the storage says so
2      stored as dates or timestamps                                datetime    the storage says so
3      stored as a time of day (Arrow time32/time64)                time        the storage says so
4      no value at all                                              text        nothing decides; nothing to test
5      text, every value a date (ISO 8601 or ``DATE_FORMATS``)      datetime    csv and parquet must agree: Arrow
                                                                                parses ISO dates in csv, parquet
                                                                                keeps them as strings
6      text, every value a time of day (H:MM or HH:MM:SS)           time        Arrow reads HH:MM:SS as time32
                                                                                but HH:MM as text
7      text, every value different, at least                        id_like     no value repeats, so nothing a
       ``MIN_ROWS_FOR_TEXT_ID`` of them, at most ``MAX_ID_LENGTH``              value teaches applies to another
       bytes on average                                                         row; a closed set of k categories
                                                                                drawn n times is all distinct
                                                                                with probability about
                                                                                exp(-n(n-1)/2k), small once
                                                                                n >= 10 unless k is far larger
                                                                                than n (then it is no closed set)
8      integers, every value different, at least                    id_like     a row counter: unique whole
       ``MIN_ROWS_FOR_ID``, filling a near-continuous range                     numbers packed in a range
       (max - min + 1 <= 2 x count)                                             (counts and measurements that
                                                                                happen to be unique spread out)
9      integers or text, every value different, at least            id_like     uniqueness plus a name that says
       ``MIN_ROWS_FOR_NAMED_ID`` of them, and the name says id                  so (``rownames``, ``id``,
       (``id_name``)                                                            ``*_id``, ``index``, ``key``):
                                                                                row names with gaps (7381..453870)
                                                                                or in a 16-row table. The name
                                                                                alone never decides: a repeated
                                                                                ``patient_id`` is a group, not
                                                                                a row name
10     stored as whole numbers                                      integer
11     stored as decimal numbers                                    numeric     floats are measurements, never
                                                                                ids: distinct floats are the norm
12     text, every value a number                                   numeric
13     text, at least ``TEXT_MIN_DISTINCT`` distinct values         text        prose
       averaging ``TEXT_MIN_MEAN_LENGTH``+ bytes
14     text, at least ``NAMES_MIN_DISTINCT`` distinct values and    text        names and titles (car models,
       more than ``NAMES_MIN_SHARE`` of the values distinct                     164 in 196 rows): most values
                                                                                occur once, so there is no
                                                                                closed set of categories to
                                                                                bound, test or learn from
15     text                                                         categorical short values that repeat
16     anything else (nested, binary, durations)                    text
=====  ===========================================================  ==========  =================================

What the kinds mean downstream: drift skips id_like, text, datetime and time columns with the
reason; validation's contract does not bound id_like and text columns; baseline does not use
id_like, text, datetime and time columns as features (each dropped column is a finding).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

Kind = Literal["numeric", "integer", "categorical", "boolean", "datetime", "time", "text", "id_like"]
KINDS: tuple[str, ...] = get_args(Kind)
Physical = Literal["boolean", "integer", "float", "string", "datetime", "time", "null", "other"]

MIN_ROWS_FOR_ID = 20  # unique integers in a packed range: fewer than this can be unique by chance
MIN_ROWS_FOR_NAMED_ID = 5  # a column named like an id: uniqueness over fewer rows says nothing
MIN_ROWS_FOR_TEXT_ID = 10  # unique text: see row 8 of the table
MAX_ID_LENGTH = 64  # longer unique strings are free text, not identifiers
TEXT_MIN_MEAN_LENGTH = 20  # many distinct strings this long on average are prose
TEXT_MIN_DISTINCT = 50
# Text with at least this many distinct values, more than NAMES_MIN_SHARE of its values, names rows.
# Below 50 a column of many rare categories (msleep's genus in 41 rows: 39) stays categorical:
# drift pools its rare cells and tests what is common, and the contract keeps a frequency profile.
NAMES_MIN_DISTINCT = 50
NAMES_MIN_SHARE = 0.5

# Whole names (lower case) and last name parts that say "this column names rows".
ID_NAMES = frozenset({"rownames", "rowname", "row_names", "index", "row", "rowid", "row_id", "key", "uuid", "guid"})
ID_NAME_ENDINGS = frozenset({"id", "ids", "uuid", "guid", "key"})
UNNAMED_INDEX = re.compile(r"^(unnamed: ?\d+|\.\.\.\d+)$")  # pandas' and readr's names for a written index

NUMBER_PATTERN = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
ISO_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y")
# A time of day: H:MM or HH:MM, optional seconds and fraction, optional AM/PM. The pattern alone
# decides (no calendar to check), so 24:00 and 12:61 are not times.
TIME_PATTERN = r"^\s*([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(\s?[AaPp]\.?[Mm]\.?)?\s*$"


@dataclass(frozen=True)
class KindStats:
    """What ``infer_kind`` needs to know about one column."""

    physical: Physical
    non_null: int  # values present (not null, not NaN)
    distinct: int  # distinct present values (exact or estimated)
    all_distinct: bool | None = None  # every present value different; None when not known exactly
    mean_length: float | None = None  # strings: mean length in bytes
    numeric_text: int = 0  # strings: values that read as numbers
    date_text: int = 0  # strings: values that read as dates
    span: int | None = None  # integers: max - min + 1
    time_text: int = 0  # strings: values that read as a time of day
    name: str = ""  # the column's name: a hint that only counts together with uniqueness


def physical_of(kind: pa.DataType) -> Physical:
    """How an Arrow type stores values, in the few families kinds are built from."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "float"
    if pa.types.is_time(kind):
        return "time"
    if pa.types.is_temporal(kind) and not pa.types.is_duration(kind):
        return "datetime"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    if pa.types.is_null(kind):
        return "null"
    return "other"


def id_name(name: str) -> bool:
    """Whether a column's name says it names rows: ``rownames``, ``id``, ``index``, ``key``, ``*_id``, ``PassengerId``."""
    text = name.strip().lower()
    if text in ID_NAMES or text in ID_NAME_ENDINGS or UNNAMED_INDEX.match(text):
        return True
    # split on separators and camelCase humps: customer_id, customerID, PassengerId -> [..., "id"];
    # a one-part name must match whole ("paid" and "monkey" end in "id" and "key" but are one word)
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name.strip())
    return len(parts) > 1 and parts[-1].lower() in ID_NAME_ENDINGS


def _all(s: KindStats, count: int) -> bool:
    return s.physical == "string" and s.non_null > 0 and count == s.non_null


def _named_id(s: KindStats) -> bool:
    return (
        s.physical in ("integer", "string")
        and bool(s.all_distinct)
        and s.non_null >= MIN_ROWS_FOR_NAMED_ID
        and id_name(s.name)
    )


def _text_id(s: KindStats) -> bool:
    return (
        s.physical == "string"
        and bool(s.all_distinct)
        and s.non_null >= MIN_ROWS_FOR_TEXT_ID
        and (s.mean_length or 0) <= MAX_ID_LENGTH
    )


def _row_counter(s: KindStats) -> bool:
    return (
        s.physical == "integer"
        and bool(s.all_distinct)
        and s.non_null >= MIN_ROWS_FOR_ID
        and s.span is not None
        and s.span <= 2 * s.non_null
    )


Rule = tuple[Callable[[KindStats], bool], str, str]

RULES: tuple[Rule, ...] = (
    (lambda s: s.physical == "boolean", "boolean", "stored as true/false"),
    (lambda s: s.physical == "datetime", "datetime", "stored as dates or timestamps"),
    (lambda s: s.physical == "time", "time", "stored as times of day"),
    (lambda s: s.physical == "null" or s.non_null == 0, "text", "no values at all, so nothing decides a kind"),
    (lambda s: _all(s, s.date_text), "datetime", "every value is a date stored as text"),
    (lambda s: _all(s, s.time_text), "time", "every value is a time of day (HH:MM) stored as text"),
    (_text_id, "id_like", "every value is a different short text, as in an identifier or a name"),
    (_row_counter, "id_like", "every value is different, as in an identifier"),
    (_named_id, "id_like", "every value is different, and the name says identifier"),
    (lambda s: s.physical == "integer", "integer", "stored as whole numbers"),
    (lambda s: s.physical == "float", "numeric", "stored as decimal numbers"),
    (lambda s: _all(s, s.numeric_text), "numeric", "every value is a number stored as text"),
    (
        lambda s: (
            s.physical == "string" and s.distinct >= TEXT_MIN_DISTINCT and (s.mean_length or 0) >= TEXT_MIN_MEAN_LENGTH
        ),
        "text",
        f"at least {TEXT_MIN_DISTINCT} distinct values averaging {TEXT_MIN_MEAN_LENGTH}+ characters, as in prose",
    ),
    (
        lambda s: (
            s.physical == "string" and s.distinct >= NAMES_MIN_DISTINCT and s.distinct > NAMES_MIN_SHARE * s.non_null
        ),
        "text",
        (
            f"most values occur once ({NAMES_MIN_DISTINCT}+ distinct, over {NAMES_MIN_SHARE:.0%} of the values), "
            "as in names or titles"
        ),
    ),
    (lambda s: s.physical == "string", "categorical", "short text values that repeat"),
    (lambda s: True, "text", "stored in a type omgml reads as text"),
)


def infer_kind(stats: KindStats) -> tuple[Kind, str]:
    """The column's kind and the reason, from the first rule in ``RULES`` that holds."""
    for condition, kind, reason in RULES:
        if condition(stats):
            return kind, reason  # type: ignore[return-value]
    raise AssertionError("the last rule always holds")  # pragma: no cover


# ---------------------------------------------------------------- text sniffing


def number_mask(values: pa.Array) -> np.ndarray:
    """Which text values read as a number (null: False)."""
    import pyarrow.compute as pc

    return flags(pc.match_substring_regex(values, NUMBER_PATTERN))


def time_mask(values: pa.Array) -> np.ndarray:
    """Which text values read as a time of day (``TIME_PATTERN``; null: False)."""
    import pyarrow.compute as pc

    return flags(pc.match_substring_regex(values, TIME_PATTERN))


def date_mask(values: pa.Array) -> np.ndarray:
    """Which values read as a real calendar date: ISO 8601, or one of ``DATE_FORMATS``.

    Arrow's strptime rolls invalid days over (2024-02-30 becomes March 1), so every parse is
    printed back and compared; the few that differ (invalid, or written without zero padding)
    are decided by Python's strict ``datetime.strptime``.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    stripped = pc.utf8_trim_whitespace(values)
    iso = flags(pc.match_substring_regex(stripped, ISO_PATTERN))
    ok = np.zeros(len(values), dtype=bool)
    if iso.any():
        where = np.flatnonzero(iso)
        ok[where[_parses(pc.utf8_slice_codeunits(stripped.take(pa.array(where)), 0, 10), "%Y-%m-%d")]] = True
    rest = np.flatnonzero(~iso & ~flags(values.is_null()))
    for fmt in DATE_FORMATS:
        if len(rest) == 0:
            break
        hit = _parses(stripped.take(pa.array(rest)), fmt)
        ok[rest[hit]] = True
        rest = rest[~hit]
    return ok


def _parses(texts: pa.Array, fmt: str) -> np.ndarray:
    import numpy as np
    import pyarrow.compute as pc

    parsed = pc.strptime(texts, format=fmt, unit="s", error_is_null=True)
    hit = ~flags(parsed.is_null())
    if not hit.any():
        return hit
    printed = pc.strftime(parsed, format=fmt)
    doubtful = hit & ~flags(pc.equal(printed, texts))
    if doubtful.any():
        unsure = np.flatnonzero(doubtful)
        verdict = {}
        for text in set(texts.take(unsure).to_pylist()):
            try:
                dt.datetime.strptime(text, fmt)
                verdict[text] = True
            except (TypeError, ValueError):
                verdict[text] = False
        hit[unsure] = [verdict[t] for t in texts.take(unsure).to_pylist()]
    return hit


def flags(mask: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    import numpy as np
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def text_counts(values: pa.Array, weights: np.ndarray | None = None) -> tuple[int, int, int]:
    """(numbers, dates, times) among text ``values``; ``weights`` counts each value when they are distinct."""

    def total(mask: np.ndarray) -> int:
        return int(weights[mask].sum()) if weights is not None else int(mask.sum())

    return total(number_mask(values)), total(date_mask(values)), total(time_mask(values))


# ---------------------------------------------------------------- a column in memory


def stats_of(column: pa.Array | pa.ChunkedArray, name: str = "") -> KindStats:
    """``KindStats`` of a whole column held in memory (exact counts), as the streaming profile keeps them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], type=column.type)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    physical = physical_of(column.type)
    present = pc.drop_null(column)
    if physical == "float":
        present = pc.filter(present, pc.invert(pc.is_nan(present)))
    n = len(present)
    if physical in ("null", "other") or n == 0:
        return KindStats(physical=physical, non_null=n, distinct=0, name=name)
    counts = pc.value_counts(present)
    values, weights = counts.field("values"), np.asarray(counts.field("counts").to_numpy())
    distinct = len(values)
    all_distinct = None if physical == "float" else distinct == n  # distinct floats are no evidence of an id
    mean_length = numeric = dates = times = 0
    span = None
    if physical == "string":
        mean_length = float((np.asarray(pc.fill_null(pc.binary_length(values), 0)) * weights).sum() / n)
        numeric, dates, times = text_counts(values, weights)
    elif physical == "integer":
        bounds = pc.min_max(present)
        span = int(bounds["max"].as_py()) - int(bounds["min"].as_py()) + 1
    return KindStats(
        physical=physical,
        non_null=n,
        distinct=distinct,
        all_distinct=all_distinct,
        mean_length=mean_length if physical == "string" else None,
        numeric_text=numeric,
        date_text=dates,
        span=span,
        time_text=times,
        name=name,
    )
