"""What kind of problem a target makes: binary, multiclass or regression, with the reason.

One rule for every service: validation (from its one-pass profile) and baseline (from the
frame) both build ``TargetFacts`` and call ``decide_task``. The decision is an ordered table
of (rule, task, reason, ambiguity) rows; the first rule that holds decides:

=====  ======================================  ==========  ================================================
order  rule                                    task        why
=====  ======================================  ==========  ================================================
1      fewer than 2 distinct values            refused     nothing to learn
2      exactly 2 distinct values               binary
3      text, distinct > half the rows          refused     it names rows (an id or free text)
4      text or categories                      multiclass
5      whole numbers, one per row, no gaps,    refused     a row identifier
       more than 20 rows
6      numbers with fractions                  regression
7      whole numbers, more distinct values     regression  too many to be labels
       than ``class_limit``
8      whole numbers from 0 with gaps          regression  counts: 0, 1, 2, 3, 7, 12 skips values in its
       (0, 1, 2, 3, 7, 12)                                 tail, as counts of events do; a set of class
                                                           codes starting at 0 is numbered 0..k-1
9      a few whole numbers with no gaps        multiclass  AMBIGUOUS: labels 0..k-1 or 1..k, but ratings
       (1..5)                                              and small counts look the same
10     a few whole numbers with gaps, not      multiclass  AMBIGUOUS: codes such as 1, 2, 3, 5, 6, 7, or
       from 0                                              a count that never reaches 0
=====  ======================================  ==========  ================================================

``class_limit`` is the smaller of ``MAX_WHOLE_NUMBER_CLASSES`` and ``MAX_WHOLE_NUMBER_CLASS_SHARE``
of the rows. An ambiguous rule still decides (so the same data always gets the same task), and
its ``ambiguity`` text is reported by the caller as a finding that says what was assumed and how
to say otherwise. Pure functions of counts: no data, no service imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# A class target is imbalanced when its majority class has at least this many times the rows of its
# minority class (validation reports it; baseline then scores with the class-balanced metrics).
IMBALANCE_RATIO = 10.0
# Whole numbers are labels when there are few of them: at most this many ...
MAX_WHOLE_NUMBER_CLASSES = 20
# ... and at most this share of the rows (so 0..15 over 40 rows reads as a count, not labels).
MAX_WHOLE_NUMBER_CLASS_SHARE = 0.1
ID_LIKE_SHARE = 0.5  # text this distinct names rows, it does not group them
MIN_ROWS_FOR_ID = 20  # fewer whole numbers than this can be one per row by chance


@dataclass(frozen=True)
class TargetFacts:
    """What the rules look at, computed once from the non-null target values."""

    name: str
    rows: int
    distinct: int
    numeric: bool  # a number type (booleans are not numbers here)
    whole: bool  # numeric and every value is a finite whole number
    contiguous: bool  # whole numbers covering min..max with no gap
    minimum: float | None  # numeric: the smallest value
    examples: tuple[str, ...]  # a few values, smallest first, for messages

    @property
    def class_limit(self) -> int:
        return int(min(MAX_WHOLE_NUMBER_CLASSES, MAX_WHOLE_NUMBER_CLASS_SHARE * self.rows))


@dataclass(frozen=True)
class TaskRule:
    name: str
    holds: Callable[[TargetFacts], bool]
    task: str | None  # None: no task can be learned from this target
    reason: Callable[[TargetFacts], str]
    ambiguity: Callable[[TargetFacts], str] | None = None  # what else the target could be, and how to say so


@dataclass(frozen=True)
class TaskDecision:
    rule: str
    task: str | None
    reason: str
    ambiguity: str | None  # None when the rule is clear-cut


def _values(f: TargetFacts) -> str:
    return ", ".join(f.examples) + (", ..." if f.distinct > len(f.examples) else "")


TASK_RULES: tuple[TaskRule, ...] = (
    TaskRule(
        "constant",
        lambda f: f.distinct < 2,
        None,
        lambda f: f"the target '{f.name}' has a single value ({', '.join(f.examples)}) in all {f.rows:,} rows",
    ),
    TaskRule(
        "two values",
        lambda f: f.distinct == 2,
        "binary",
        lambda f: f"'{f.name}' has exactly 2 distinct values ({', '.join(f.examples)})",
    ),
    TaskRule(
        "id-like text",
        lambda f: not f.numeric and f.distinct > ID_LIKE_SHARE * f.rows,
        None,
        lambda f: (
            f"the target '{f.name}' looks like an identifier or free text: {f.distinct:,} distinct values "
            f"in {f.rows:,} rows"
        ),
    ),
    TaskRule(
        "text or categories",
        lambda f: not f.numeric,
        "multiclass",
        lambda f: (
            f"'{f.name}' holds text or categories with {f.distinct} distinct values ({', '.join(f.examples)}, ...)"
        ),
    ),
    TaskRule(
        "id-like whole numbers",
        lambda f: f.whole and f.distinct == f.rows and f.contiguous and f.rows > MIN_ROWS_FOR_ID,
        None,
        lambda f: (
            f"the target '{f.name}' looks like a row identifier: {f.rows:,} distinct whole numbers, "
            "one per row, with no gaps"
        ),
    ),
    TaskRule(
        "numbers",
        lambda f: not f.whole,
        "regression",
        lambda f: f"'{f.name}' holds numbers with fractions ({f.distinct:,} distinct values)",
    ),
    TaskRule(
        "many whole numbers",
        lambda f: f.distinct > f.class_limit,
        "regression",
        lambda f: (
            f"'{f.name}' holds whole numbers with {f.distinct:,} distinct values in {f.rows:,} rows, "
            f"too many to be class labels (more than {f.class_limit})"
        ),
    ),
    TaskRule(
        "counts",
        lambda f: f.minimum == 0 and not f.contiguous,
        "regression",
        lambda f: (
            f"'{f.name}' holds counts: whole numbers from 0 with gaps ({_values(f)}), as counts skip values "
            "in their tail while class codes from 0 are numbered without gaps"
        ),
    ),
    TaskRule(
        "few whole numbers",
        lambda f: f.contiguous,
        "multiclass",
        lambda f: (
            f"'{f.name}' holds whole numbers with only {f.distinct} distinct values in {f.rows:,} rows "
            f"(at most {MAX_WHOLE_NUMBER_CLASSES} and {MAX_WHOLE_NUMBER_CLASS_SHARE:.0%} of rows read as class labels)"
        ),
        lambda f: f"'{f.name}' could also be a rating or a small count ({_values(f)}); it was taken as class labels",
    ),
    TaskRule(
        "few codes",
        lambda f: True,
        "multiclass",
        lambda f: (
            f"'{f.name}' holds {f.distinct} whole numbers with gaps, not from 0 ({_values(f)}): read as class codes"
        ),
        lambda f: f"'{f.name}' could also be a count or a quantity ({_values(f)}); it was taken as class codes",
    ),
)


def decide_task(facts: TargetFacts) -> TaskDecision:
    """The first rule in ``TASK_RULES`` that holds: its task (None: refused), reason and ambiguity."""
    for rule in TASK_RULES:
        if rule.holds(facts):
            ambiguity = rule.ambiguity(facts) if rule.ambiguity else None
            return TaskDecision(rule.name, rule.task, rule.reason(facts), ambiguity)
    raise AssertionError("the last rule always holds")  # pragma: no cover


def label(value: object) -> str:
    """A target value as text for messages (2.0 reads as 2)."""
    if not isinstance(value, (bool, str)) and getattr(value, "is_integer", lambda: False)():
        return str(int(value))  # type: ignore[call-overload]
    return str(value)


def examples_of(values) -> tuple[str, ...]:
    """The five smallest of some target values as text (numbers before text), for ``TargetFacts.examples``."""
    import numbers

    def order(value: object) -> tuple[int, object]:
        return (0, value) if isinstance(value, numbers.Real) else (1, str(value))

    return tuple(label(v) for v in sorted(values, key=order)[:5])
