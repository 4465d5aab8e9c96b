"""Which columns drift can compare, and as what: numeric or categorical, or skipped and why.

The storage type (``omgml.data.kinds.physical_of``) decides how a column is read; the column's
kind (``omgml.data.kinds.infer_kind``, from the reference's counts) decides whether comparing
its distribution means anything: identifiers, free text and timestamps are skipped with the
reason, never reported as "no drift".
"""

from __future__ import annotations

from typing import Literal

from omgml.data.kinds import KindStats, infer_kind, text_counts
from omgml.drift.summaries import CategorySummary, NumericSummary, Summary

Reader = Literal["numeric", "categorical"]


def reader_for(physical_type: str) -> Reader | None:
    """How a column of this storage type is summarized; None when drift cannot read it."""
    if physical_type in ("integer", "float"):
        return "numeric"
    if physical_type in ("string", "boolean"):
        return "categorical"
    return None


def unreadable_reason(physical_type: str) -> str:
    """Why drift cannot read a reference column stored as ``physical_type`` (``reader_for`` gave None)."""
    if physical_type == "datetime":
        return (
            "a date/time column: time moves on, so its values always shift; "
            "pass it as --time-column to compare windows instead"
        )
    if physical_type == "time":
        return _TIME_OF_DAY
    if physical_type == "null":
        return "all values are null in the reference (the column has no type)"
    return "values of this type (nested, binary, ...) are neither numbers nor categories"


_TIME_OF_DAY = (
    "a time-of-day column: omgml does not compare clock times (they wrap at midnight); "
    "derive a number from it (minutes since midnight) to compare its distribution"
)


def kind_stats(summary: Summary, name: str = "") -> KindStats:
    """What ``infer_kind`` needs, from a finalized reference summary of column ``name``.

    Text is sniffed on the values the summary keeps by name, weighted by their counts. A saved
    profile folds values past its ``MAX_CATEGORIES`` most frequent into "other": when every kept
    value reads as a date (or a time, or a number) the folded ones are taken to as well, since the
    kept ones are the bulk of the column and the kinds ask for every value.
    """
    if isinstance(summary, CategorySummary):
        present = summary.count
        numbers = dates = times = 0
        if summary.physical == "string" and summary.values:
            import pyarrow as pa

            kept = int(summary.counts.sum())
            numbers, dates, times = (
                n + summary.other_count if n == kept else n
                for n in text_counts(pa.array(summary.values, type=pa.large_string()), summary.counts)
            )
        return KindStats(
            physical=summary.physical,  # type: ignore[arg-type]
            non_null=present,
            distinct=summary.distinct,
            all_distinct=(
                summary.other_count == summary.other_distinct
                and len(summary.values) > 0
                and int(summary.counts.max()) == 1
            )
            if present
            else None,
            mean_length=summary.mean_length,
            numeric_text=numbers,
            date_text=dates,
            time_text=times,
            name=name,
        )
    s: NumericSummary = summary
    present = s.count + s.pos_inf + s.neg_inf
    known = s.distinct is not None
    span = None
    if s.physical == "integer" and s.count:
        span = int(s.maximum - s.minimum) + 1
    return KindStats(
        physical=s.physical,  # type: ignore[arg-type]
        non_null=present,
        distinct=s.distinct if known else present,
        all_distinct=(s.distinct == present) if known else None,
        span=span,
        name=name,
    )


def untestable_kind(summary: Summary, name: str = "") -> str | None:
    """Why column ``name``'s kind makes a drift test meaningless (None when it can be tested)."""
    kind, reason = infer_kind(kind_stats(summary, name))
    if kind == "id_like":
        return f"an identifier ({reason}): new rows bring new ids by design, so their distribution says nothing"
    if kind == "text":
        return (
            f"free text or names ({reason}): omgml compares numbers and categories, "
            "and values that rarely repeat have no distribution to compare"
        )
    if kind == "datetime":
        return f"a date/time column ({reason}): pass it as --time-column to compare windows instead"
    if kind == "time":
        return f"{_TIME_OF_DAY} ({reason})"
    return None
