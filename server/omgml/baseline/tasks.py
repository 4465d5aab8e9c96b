"""What kind of problem the target makes: binary, multiclass or regression, with the reason.

Inference is an ordered table of (rule, task, reason) rows: the first rule that holds decides.
Targets no model can learn from (constant, or an identifier) are refused with a message that
says what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omgml.baseline.features import ID_LIKE_SHARE  # text this distinct names rows, it does not group them
from omgml.errors import InvalidInput

# Whole numbers are labels when there are few of them: at most this many ...
MAX_WHOLE_NUMBER_CLASSES = 20
# ... and at most this share of the rows (so 0..15 over 40 rows reads as a count, not labels).
MAX_WHOLE_NUMBER_CLASS_SHARE = 0.1


@dataclass(frozen=True)
class TargetFacts:
    """What the rules look at, computed once from the non-null target values."""

    name: str
    rows: int
    distinct: int
    numeric: bool  # a number dtype (booleans are not numbers here)
    whole: bool  # numeric and every value is a whole number
    contiguous: bool  # whole numbers covering min..max with no gap
    examples: tuple[str, ...]

    @property
    def class_limit(self) -> int:
        return int(min(MAX_WHOLE_NUMBER_CLASSES, MAX_WHOLE_NUMBER_CLASS_SHARE * self.rows))


def target_facts(y: pd.Series, name: str) -> TargetFacts:
    values = y.dropna()
    numeric = bool(pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype))
    distinct_values = values.unique()
    whole = contiguous = False
    if numeric and len(values):
        array = np.asarray(distinct_values, dtype="float64")
        whole = bool(np.all(np.isfinite(array)) and np.all(np.mod(array, 1) == 0))
        contiguous = whole and (array.max() - array.min() + 1 == len(array))
    examples = tuple(_label(v) for v in sorted(distinct_values[:50], key=_sort_key)[:5])
    return TargetFacts(name, len(values), len(distinct_values), numeric, whole, contiguous, examples)


@dataclass(frozen=True)
class Rule:
    name: str
    holds: Callable[[TargetFacts], bool]
    task: str | None  # None: refuse
    reason: Callable[[TargetFacts], str]


RULES: tuple[Rule, ...] = (
    Rule(
        "constant",
        lambda f: f.distinct < 2,
        None,
        lambda f: f"the target '{f.name}' has a single value ({', '.join(f.examples)}) in all {f.rows:,} rows",
    ),
    Rule(
        "two values",
        lambda f: f.distinct == 2,
        "binary",
        lambda f: f"'{f.name}' has exactly 2 distinct values ({', '.join(f.examples)})",
    ),
    Rule(
        "id-like text",
        lambda f: not f.numeric and f.distinct > ID_LIKE_SHARE * f.rows,
        None,
        lambda f: (
            f"the target '{f.name}' looks like an identifier or free text: {f.distinct:,} distinct values "
            f"in {f.rows:,} rows"
        ),
    ),
    Rule(
        "text or categories",
        lambda f: not f.numeric,
        "multiclass",
        lambda f: (
            f"'{f.name}' holds text or categories with {f.distinct} distinct values ({', '.join(f.examples)}, ...)"
        ),
    ),
    Rule(
        "id-like whole numbers",
        lambda f: f.whole and f.distinct == f.rows and f.contiguous and f.rows > MAX_WHOLE_NUMBER_CLASSES,
        None,
        lambda f: (
            f"the target '{f.name}' looks like a row identifier: {f.rows:,} distinct whole numbers, "
            "one per row, with no gaps"
        ),
    ),
    Rule(
        "few whole numbers",
        lambda f: f.whole and f.distinct <= f.class_limit,
        "multiclass",
        lambda f: (
            f"'{f.name}' holds whole numbers with only {f.distinct} distinct values in {f.rows:,} rows "
            f"(at most {MAX_WHOLE_NUMBER_CLASSES} and {MAX_WHOLE_NUMBER_CLASS_SHARE:.0%} of rows read as class labels)"
        ),
    ),
    Rule(
        "many whole numbers",
        lambda f: f.whole,
        "regression",
        lambda f: (
            f"'{f.name}' holds whole numbers with {f.distinct:,} distinct values in {f.rows:,} rows, "
            f"too many to be class labels (more than {f.class_limit})"
        ),
    ),
    Rule(
        "numbers",
        lambda f: True,
        "regression",
        lambda f: f"'{f.name}' holds numbers with fractions ({f.distinct:,} distinct values)",
    ),
)


def infer_task(facts: TargetFacts) -> tuple[str, str]:
    """(task, reason) from the first rule that holds; a refusing rule raises ``InvalidInput``."""
    for rule in RULES:
        if rule.holds(facts):
            if rule.task is None:
                raise _refusal(rule, facts)
            return rule.task, rule.reason(facts)
    raise AssertionError("the last rule always holds")  # pragma: no cover


def check_task(facts: TargetFacts, task: str, source: str) -> str:
    """Refuse a given task the target cannot support; return a one-line reason for the record."""
    if facts.distinct < 2:
        raise _refusal(RULES[0], facts)
    where = "omgml.toml says" if source == "omgml.toml" else "the request says"
    if task == "binary" and facts.distinct != 2:
        raise InvalidInput(
            f"{where} the task is binary, but the target '{facts.name}' has {facts.distinct:,} distinct values "
            f"({', '.join(facts.examples)}, ...)",
            "a binary task needs exactly two classes",
            "pass --task multiclass (or regression), or map the target to two classes first",
        )
    if task == "multiclass" and facts.numeric and not facts.whole:
        raise InvalidInput(
            f"{where} the task is multiclass, but the target '{facts.name}' holds fractional numbers "
            f"({', '.join(facts.examples)}, ...)",
            "class labels are text or whole numbers; fractional values are a quantity to predict",
            "pass --task regression, or bin the target into labelled classes first",
        )
    if task == "regression" and not facts.numeric:
        raise InvalidInput(
            f"{where} the task is regression, but the target '{facts.name}' is not numeric "
            f"({', '.join(facts.examples)}, ...)",
            "regression predicts a number",
            "pass --task binary or multiclass, or convert the target to numbers first",
        )
    return f"{where} {task}"


def _refusal(rule: Rule, facts: TargetFacts) -> InvalidInput:
    if rule.name == "constant":
        return InvalidInput(
            f"Cannot train on {rule.reason(facts)}",
            "a model needs at least two classes (or varying values) to learn anything",
            "check the target column and whatever filtered this table; a single class usually means the data "
            "is a slice of the whole",
        )
    return InvalidInput(
        f"Refusing to train on {rule.reason(facts)}",
        "a model cannot learn to predict a value that names one row; cross-validation would only measure noise",
        "pass the column the model should predict as --target (an identifier belongs in --group-column, or nowhere)",
    )


def _sort_key(value: object) -> tuple[int, object]:
    return (0, value) if isinstance(value, (int, float, np.number)) else (1, str(value))


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
