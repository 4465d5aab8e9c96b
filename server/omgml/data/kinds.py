"""Column kinds: what a column holds, decided from a handful of per-column statistics.

``infer_kind`` is a pure function of ``KindStats`` (no data, no I/O), so any pass that keeps
these few counts (validation's profile, drift's reference profile) gets the same answer. The
decision is an ordered table of (condition, kind, reason) rows: the first row that holds wins,
and its reason says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["numeric", "integer", "categorical", "boolean", "datetime", "text", "id_like"]
KINDS: tuple[str, ...] = get_args(Kind)
Physical = Literal["boolean", "integer", "float", "string", "datetime", "null", "other"]

MIN_ROWS_FOR_ID = 20  # fewer distinct values than this can be unique by chance
MAX_ID_LENGTH = 64  # longer unique strings are free text, not identifiers
TEXT_MIN_MEAN_LENGTH = 20  # many distinct strings this long on average are prose
TEXT_MIN_DISTINCT = 50


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
    if pa.types.is_temporal(kind) and not pa.types.is_duration(kind) and not pa.types.is_time(kind):
        return "datetime"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    if pa.types.is_null(kind):
        return "null"
    return "other"


def _is_id(s: KindStats) -> bool:
    if not s.all_distinct or s.non_null < MIN_ROWS_FOR_ID:
        return False
    if s.physical == "string":
        return (s.mean_length or 0) <= MAX_ID_LENGTH
    # Unique integers are an id when they fill a near-continuous range, like a row counter.
    return s.physical == "integer" and s.span is not None and s.span <= 2 * s.non_null


Rule = tuple[Callable[[KindStats], bool], str, str]

RULES: tuple[Rule, ...] = (
    (lambda s: s.physical == "boolean", "boolean", "stored as true/false"),
    (lambda s: s.physical == "datetime", "datetime", "stored as dates or timestamps"),
    (lambda s: s.physical == "null" or s.non_null == 0, "text", "no values at all, so nothing decides a kind"),
    (_is_id, "id_like", "every value is different, as in an identifier"),
    (lambda s: s.physical == "integer", "integer", "stored as whole numbers"),
    (lambda s: s.physical == "float", "numeric", "stored as decimal numbers"),
    (
        lambda s: s.physical == "string" and s.numeric_text == s.non_null,
        "numeric",
        "every value is a number stored as text",
    ),
    (
        lambda s: s.physical == "string" and s.date_text == s.non_null,
        "datetime",
        "every value is a date stored as text",
    ),
    (
        lambda s: (
            s.physical == "string" and s.distinct >= TEXT_MIN_DISTINCT and (s.mean_length or 0) >= TEXT_MIN_MEAN_LENGTH
        ),
        "text",
        f"at least {TEXT_MIN_DISTINCT} distinct values averaging {TEXT_MIN_MEAN_LENGTH}+ characters, as in prose",
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
