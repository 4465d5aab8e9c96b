"""Data contracts: inferred from a table you trust, saved as hand-editable JSON, loaded to check new data.

A contract lives in ``.omgml/contracts/NAME.json``. Per column it records the kind, whether
missing values are allowed and how many, the range of values, the allowed categories and
uniqueness. A sample's extremes are not the population's: a new value exceeds the largest of n
with probability 1/(n+1), so the inferred bounds extrapolate each tail from its top order
statistics (``tail_bound``) to where a batch as large as the sample passes it with probability
``TAIL_FALSE_ALARM``. Categories become an allow-list only when the sample supports a closed set
(Good-Turing: few values seen once); otherwise the contract keeps their frequencies and new values
are not errors. Such rules are marked ``bounds: "inferred"`` and graded when broken (checks.py);
a bound edited by hand is checked exactly. Dates are not bounded by default (new data is always
later); add ``min``/``max`` to bound them. The rule and its false-alarm rates: docs/validation.md.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from omgml.data import jsonscan
from omgml.errors import ConfigError, InvalidInput
from omgml.validation.column import TAIL_VALUES, ColumnProfile, ColumnRules, jsonable
from omgml.validation.models import CONTRACT_NAME_PATTERN, Contract, ContractColumn
from omgml.validation.profile import Profile
from omgml.workspace import read_inside

if TYPE_CHECKING:
    from omgml.workspace import Project

MAX_CATEGORIES = 50  # at most this many categories make an allow-list; frequencies keep the top ones
NULL_RATE_SLACK = 0.02  # allowed missing share = observed + max(slack, half the observed)
TAIL_FALSE_ALARM = 0.001  # chance per side that a batch as large as the sample passes an inferred bound
MIN_BOUND_VALUES = 5  # fewer values cannot show a tail: the column is left unbounded
CLOSED_SET_RATE = 0.05  # Good-Turing share of values seen once at most this: the categories are a closed set


def infer_contract(profile: Profile, *, name: str, source: str, target: str | None, keys: list[str]) -> Contract:
    """A contract that the profiled table satisfies, with the observed bounds, categories and null rates."""
    if profile.rows == 0:
        raise InvalidInput(
            f"Cannot infer a contract from {source}: it has no rows",
            "a contract records what the data looks like, and there is nothing to look at",
            "save the contract from a table with data in it",
        )
    columns = []
    for col in profile.first_columns():  # a repeated name: the first column of that name speaks for it
        rate = col.nulls / col.rows if col.rows else 0.0
        columns.append(
            ContractColumn(
                name=col.name,
                kind=col.kind,  # type: ignore[arg-type]
                dtype=col.dtype,
                nullable=col.nulls > 0,
                null_rate=round(rate, 6),
                max_null_rate=round(min(1.0, rate + max(NULL_RATE_SLACK, rate / 2)), 6) if col.nulls else 0.0,
                unique=col.kind == "id_like" and bool(col.all_distinct),
                bounds="inferred",
                **_numeric_rule(col),
                **_category_rule(col),
            )
        )
    from omgml._version import __version__

    return Contract(
        omgml_version=__version__,
        name=name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        rows=profile.rows,
        target=target,
        keys=keys,
        columns=columns,
    )


def tail_bound(extremes, n: int) -> float:
    """Where one tail reaches, from its most extreme values (``extremes``: the most extreme first, oriented
    so that larger is further out) of a sample of ``n``.

    Above the (k+1)-th most extreme value u an exponential-like tail has P(X > u + t) = (k/n) exp(-t/s),
    and the k excesses over u estimate s by their mean (the spacings of the top order statistics). The
    bound is where that probability is ``TAIL_FALSE_ALARM``/n, so that a batch of n new values passes it
    with probability ``TAIL_FALSE_ALARM``: u + s ln(k / TAIL_FALSE_ALARM). k = sqrt(n), the usual
    balance of the tail estimate's bias and variance, within [2, TAIL_VALUES - 1]. Never inside the sample.
    """
    import numpy as np

    values = np.asarray(extremes, dtype=np.float64)
    k = int(min(TAIL_VALUES - 1, len(values) - 1, max(2, round(math.sqrt(n)))))
    threshold = values[k]
    scale = float(np.mean(values[:k] - threshold))
    return max(float(values[0]), threshold + scale * math.log(k / TAIL_FALSE_ALARM))


def inferred_range(lowest, highest, n: int, *, integer: bool) -> tuple[float | int | None, float | int | None]:
    """The bounds of a numeric column from its smallest values (ascending) and largest (descending) of ``n``.

    Each tail is extrapolated by ``tail_bound``; a positive column's upper tail also on the log scale
    (a multiplicative, lognormal-like tail), keeping the wider. The column stays in its domain: one sign
    (counts, amounts) keeps it, shares in [0, 1] stay there, integers get integer bounds (rounded outward).
    A tail too wide to be a finite number is left unbounded.
    """
    import numpy as np

    lowest, highest = np.asarray(lowest, dtype=np.float64), np.asarray(highest, dtype=np.float64)
    low = -tail_bound(-lowest, n)
    high = tail_bound(highest, n)
    smallest, largest = float(lowest[0]), float(highest[0])
    if smallest > 0:
        with np.errstate(over="ignore"):
            high = max(high, float(np.exp(tail_bound(np.log(highest), n))))
    if smallest >= 0:
        low = max(low, 0.0)
    if largest <= 0:
        high = min(high, 0.0)
    if not integer and smallest >= 0 and largest <= 1:
        high = min(high, 1.0)
    bounds = []
    for value, outward in ((low, math.floor), (high, math.ceil)):
        if not math.isfinite(value) or (integer and abs(value) >= 2**63):
            bounds.append(None)
        else:
            bounds.append(int(outward(value)) if integer else value)
    return bounds[0], bounds[1]


def _numeric_rule(col: ColumnProfile) -> dict:
    """min/max (inferred), and what they were inferred from, for a numeric column; nothing for the others."""
    if col.kind not in ("numeric", "integer") or col.physical not in ("integer", "float") or col.min is None:
        return {}
    integer = col.kind == "integer"
    cast = int if integer else float
    n = col.present - col.inf  # the finite values
    low = high = None
    if n >= MIN_BOUND_VALUES and col.lowest is not None:
        low, high = inferred_range(col.lowest, col.highest, n, integer=integer)
    return {
        "min": low,
        "max": high,
        "inferred_min": low,
        "inferred_max": high,
        "observed_min": cast(col.min),
        "observed_max": cast(col.max),
        "values": n,
    }


def _category_rule(col: ColumnProfile) -> dict:
    """An allow-list when the sample supports a closed set, and the frequencies either way.

    Good-Turing: the share of values seen exactly once estimates the chance that the next value is a
    category not seen yet. At most ``CLOSED_SET_RATE`` (and at most ``MAX_CATEGORIES`` categories), the
    categories are an allow-list; above it (names, rare genera, a 16-row column of distinct values) new
    values are expected, and the contract keeps only the frequencies, which raise nothing.
    """
    if col.kind != "categorical" or not col.counts:
        return {}
    values = sum(col.counts.values())
    rate = sum(1 for count in col.counts.values() if count == 1) / values
    top = sorted(col.counts.items(), key=lambda kv: (-kv[1], str(type(kv[0])), str(kv[0])))[:MAX_CATEGORIES]
    rule: dict = {
        "values": values,
        "new_category_rate": round(rate, 6),
        "frequencies": [(jsonable(v), int(c)) for v, c in top],
    }
    if rate <= CLOSED_SET_RATE and len(col.counts) <= MAX_CATEGORIES:
        rule["categories"] = sorted((jsonable(v) for v in col.counts), key=lambda v: (str(type(v)), str(v)))
    return rule


def save_contract(project: Project, contract: Contract, *, replace: bool = False) -> Path:
    """Save ``contract`` under its name; without ``replace`` only if no contract has that name (of concurrent
    savers exactly one wins, the others get ``contract_exists``)."""
    path = project.store.contracts / f"{contract.name}.json"
    saved = project.store.write(path, contract.model_dump(mode="json"), create=not replace)
    if saved is None:
        raise contract_exists(project, contract.name)
    return saved


def contract_exists(project: Project, name: str) -> InvalidInput:
    """The conflict of saving a contract under a name that is taken."""
    return InvalidInput(
        f"A contract named '{name}' already exists ({project.rel(project.store.contracts / f'{name}.json')})",
        "saving would replace it, and with it any edits made by hand",
        "choose another name, or replace it on purpose (--replace-contract, or replace_contract=true)",
    )


def contract_path(project: Project, ref: str) -> Path:
    """A contract name (``train``) or a path to a .json file, inside the project."""
    if re.fullmatch(CONTRACT_NAME_PATTERN, ref) and not ref.endswith(".json"):
        path = project.resolve(project.store.contracts / f"{ref}.json", "contract")
        if not path.is_file():
            saved = [p.stem for p in project.store.listing(project.store.contracts)]
            raise InvalidInput(
                f"There is no contract named '{ref}' ({project.rel(path)} does not exist)",
                f"saved contracts: {', '.join(saved)}" if saved else "no contract has been saved in this project yet",
                f"save one from data you trust: `omgml validate DATA --save-contract {ref}`",
            )
        return path
    path = project.resolve(ref, "contract")
    if not path.is_file():
        raise InvalidInput(
            f"The contract file {ref} does not exist",
            "a contract is a name in .omgml/contracts/ or a path to a contract .json file",
            "check the path, or save one with --save-contract NAME",
        )
    return path


def load_contract(project: Project, ref: str) -> tuple[Contract, Path]:
    """Read and check a contract; every problem names the file and what to fix."""
    path = contract_path(project, ref)
    rel = project.rel(path)
    try:
        raw = jsonscan.loads(read_inside(project.root, path, "contract").decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The contract {rel} is not UTF-8 text", str(exc), "save it as UTF-8 JSON") from exc
    except jsonscan.JsonTooDeep as exc:
        raise ConfigError(
            f"The contract {rel} is not a contract: its {exc}",
            "a contract nests four levels (columns, their rules, categories); deeper JSON is refused before parsing",
            "save the contract again with --save-contract NAME",
        ) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The contract {rel} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            "a contract is a JSON object written by --save-contract, maybe edited by hand",
            "fix the JSON at that place (a missing comma or quote is the usual cause), or save the contract again",
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(
            f"The contract {rel} is a JSON {type(raw).__name__}, not an object",
            "a contract is a JSON object with 'columns'",
            "save the contract again with --save-contract NAME",
        )
    try:
        contract = Contract.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'contract'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ConfigError(
            f"The contract {rel} does not have the expected fields",
            f"these are wrong: {problems}",
            "correct the named fields (see a freshly saved contract for the format)",
        ) from exc
    repeated = sorted(n for n, times in Counter(c.name for c in contract.columns).items() if times > 1)
    if repeated:
        raise ConfigError(
            f"The contract {rel} lists column(s) {', '.join(repeated)} more than once",
            "each column has one set of expectations",
            "merge the entries into one per column",
        )
    for column in contract.columns:
        if (
            column.min is not None
            and column.max is not None
            and _comparable(column.min, column.max)
            and column.min > column.max
        ):
            raise ConfigError(
                f"The contract {rel} has min {column.min!r} above max {column.max!r} for column '{column.name}'",
                "no value could satisfy it",
                "swap or correct the bounds",
            )
    return contract, path


def rules_from(contract: Contract) -> dict[str, ColumnRules]:
    """What the streaming pass must count for each contract column."""
    return {
        c.name: ColumnRules(
            min=c.min,
            max=c.max,
            categories=tuple(c.categories) if c.categories is not None else None,
            dates=c.kind == "datetime",
            times=c.kind == "time",
        )
        for c in contract.columns
    }


def _comparable(a, b) -> bool:
    return isinstance(a, (int, float)) == isinstance(b, (int, float))
