"""The target's task for the baseline: the shared rule (``omgml.data.tasks``), a given task checked.

Inference is the data engine's ordered table (``omgml.data.tasks.TASK_RULES``), the same one
validation uses; here the rule's facts are read from the frame, a refusing rule becomes a
message that says what to do instead, and an ambiguous rule becomes a ``task_ambiguous``
finding that says what was assumed and how to override it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omgml.baseline.models import Decision, Finding
from omgml.data.tasks import TASK_RULES, TargetFacts, TaskDecision, decide_task, examples_of
from omgml.errors import InvalidInput


def target_facts(y: pd.Series, name: str) -> TargetFacts:
    values = y.dropna()
    numeric = bool(pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype))
    distinct_values = values.unique()
    whole = contiguous = False
    minimum = None
    if numeric and len(values):
        array = np.asarray(distinct_values, dtype="float64")
        whole = bool(np.all(np.isfinite(array)) and np.all(np.mod(array, 1) == 0))
        contiguous = whole and (array.max() - array.min() + 1 == len(array))
        minimum = float(array.min())
    examples = examples_of(distinct_values[:50])
    return TargetFacts(name, len(values), len(distinct_values), numeric, whole, contiguous, minimum, examples)


def infer_task(facts: TargetFacts) -> tuple[str, str]:
    """(task, reason) from the first rule that holds; a refusing rule raises ``InvalidInput``."""
    decision = _decided(facts)
    return decision.task, decision.reason  # type: ignore[return-value]


def _decided(facts: TargetFacts) -> TaskDecision:
    decision = decide_task(facts)
    if decision.task is None:
        raise _refusal(decision.rule, decision.reason)
    return decision


def choose_task(
    y: pd.Series, name: str, given: str | None = None, source: str = "request"
) -> tuple[Decision, list[Finding]]:
    """The task train_baseline uses: ``given`` (from ``source``) checked against the target, else inferred.

    An inferred task from an ambiguous rule comes with a ``task_ambiguous`` finding.
    """
    facts = target_facts(y, name)
    if given:
        reason = check_task(facts, given, source)
        return Decision(value=given, source=source, reason=reason), []  # type: ignore[arg-type]
    decision = _decided(facts)
    task = decision.task
    findings = []
    if decision.ambiguity:
        other = "regression" if task != "regression" else "multiclass"
        findings.append(
            Finding(
                code="task_ambiguous",
                message=f"Task assumed {task}: {decision.ambiguity}. If that is wrong, pass --task {other} "
                "(or set task in omgml.toml).",
            )
        )
    return Decision(value=task, source="inferred", reason=decision.reason), findings  # type: ignore[arg-type]


def check_task(facts: TargetFacts, task: str, source: str) -> str:
    """Refuse a given task the target cannot support; return a one-line reason for the record."""
    if facts.distinct < 2:
        raise _refusal("constant", TASK_RULES[0].reason(facts))
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


def _refusal(rule: str, reason: str) -> InvalidInput:
    if rule == "constant":
        return InvalidInput(
            f"Cannot train on {reason}",
            "a model needs at least two classes (or varying values) to learn anything",
            "check the target column and whatever filtered this table; a single class usually means the data "
            "is a slice of the whole",
        )
    return InvalidInput(
        f"Refusing to train on {reason}",
        "a model cannot learn to predict a value that names one row; cross-validation would only measure noise",
        "pass the column the model should predict as --target (an identifier belongs in --group-column, or nowhere)",
    )
