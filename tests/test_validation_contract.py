"""Contract inference that generalises: tail-extrapolated bounds, closed-set categories, graded severity.

The rule and its false-alarm rates are stated in docs/validation.md; the property tests below check
the stated rates on fresh samples, with a tolerance from the binomial distribution of the number of
false alarms in R repetitions (a test that fails with probability at most 0.1% when the rate holds).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from omgml.validation.checks import range_severity, unseen_mass, unseen_severity
from omgml.validation.column import TAIL_VALUES, ColumnProfile
from omgml.validation.contract import (
    CLOSED_SET_RATE,
    TAIL_FALSE_ALARM,
    _category_rule,
    inferred_range,
    tail_bound,
)
from omgml.validation.models import ContractColumn
from omgml.validation.service import validate_data

# ---------------------------------------------------------------- the bound rule


def _rule(sample: np.ndarray, integer: bool = False) -> ContractColumn:
    """The contract column inference writes for ``sample`` (its tails as the profile keeps them)."""
    ordered = np.sort(sample.astype(np.float64))
    low, high = inferred_range(ordered[:TAIL_VALUES], ordered[::-1][:TAIL_VALUES], len(sample), integer=integer)
    return ContractColumn(
        name="x",
        kind="integer" if integer else "numeric",
        min=low,
        max=high,
        bounds="inferred",
        inferred_min=low,
        inferred_max=high,
        observed_min=float(ordered[0]),
        observed_max=float(ordered[-1]),
        values=len(sample),
    )


def _batch(rule: ContractColumn, batch: np.ndarray) -> ColumnProfile:
    """What the streaming pass counts for ``batch`` against ``rule``."""
    column = ColumnProfile(index=0, name="x", dtype="double", physical="float")
    column.rows = len(batch)
    column.min, column.max = float(batch.min()), float(batch.max())
    column.below = int((batch < rule.min).sum()) if rule.min is not None else 0
    column.above = int((batch > rule.max).sum()) if rule.max is not None else 0
    return column


def _judge(rule: ContractColumn, batch: np.ndarray) -> str | None:
    column = _batch(rule, batch)
    return range_severity(rule, column)[0] if column.below or column.above else None


N = 200
REPS = 300
# Stated in docs/validation.md for samples of 200 (per column, per fresh batch of the same size).
STATED_WARNING = 0.02
STATED_ERROR = 0.002
DISTRIBUTIONS = {
    "normal": (lambda rng, n: rng.normal(50, 10, n), False),
    "lognormal": (lambda rng, n: rng.lognormal(0, 1, n), False),
    "exponential": (lambda rng, n: rng.exponential(3, n), False),
    "uniform": (lambda rng, n: rng.uniform(-1, 1, n), False),
    "poisson": (lambda rng, n: rng.poisson(3, n), True),
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_a_fresh_sample_passes_at_the_stated_rate(name):
    draw, integer = DISTRIBUTIONS[name]
    rng = np.random.default_rng(11)
    verdicts = [_judge(_rule(draw(rng, N), integer), draw(rng, N)) for _ in range(REPS)]
    warnings, errors = verdicts.count("warning"), verdicts.count("error")
    # At most this many alarms in REPS runs when the stated rate holds, but for a 0.1% chance.
    assert errors <= stats.binom.ppf(0.999, REPS, STATED_ERROR), (name, errors)
    assert warnings + errors <= stats.binom.ppf(0.999, REPS, STATED_WARNING), (name, warnings, errors)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_a_value_well_outside_is_an_error(name):
    draw, integer = DISTRIBUTIONS[name]
    rng = np.random.default_rng(12)
    rule = _rule(draw(rng, N), integer)
    width = rule.max - rule.min
    for planted in (rule.max + 1.5 * width, rule.min - 1.5 * width):
        batch = np.append(draw(rng, N), planted).astype(float)
        assert _judge(rule, batch) == "error"


def test_tail_bound_is_the_exponential_tail_quantile():
    """The bound is the threshold plus scipy's exponential quantile at the stated rate, scale fitted by scipy."""
    rng = np.random.default_rng(3)
    sample = np.sort(rng.gamma(2.0, 3.0, 900))[::-1]
    k = 30  # round(sqrt(900))
    excess = sample[:k] - sample[k]
    scale = stats.expon.fit(excess, floc=0)[1]  # the maximum-likelihood scale: the mean excess
    expected = sample[k] + stats.expon.isf(TAIL_FALSE_ALARM / k, scale=scale)
    assert tail_bound(sample[:TAIL_VALUES], 900) == pytest.approx(expected, rel=1e-12)


def test_bounds_keep_the_column_in_its_domain():
    rng = np.random.default_rng(4)
    counts = _rule(rng.poisson(2, 300), integer=True)
    assert isinstance(counts.min, int) and isinstance(counts.max, int) and counts.min == 0
    assert counts.max > counts.observed_max
    shares = _rule(rng.beta(8, 2, 300))
    assert shares.min >= 0 and shares.max == 1.0
    negative = _rule(-rng.exponential(1, 300))
    assert negative.max == 0.0 and negative.min < negative.observed_min
    positive = _rule(rng.normal(100, 1, 300))  # far from zero: extrapolated on both sides
    assert positive.min < positive.observed_min and positive.max > positive.observed_max
    outlier = _rule(np.append(rng.normal(0, 1, 300), 1e6))  # the sample always satisfies its own bounds
    assert outlier.max >= 1e6


def test_severity_scales_with_how_many_and_how_far():
    rng = np.random.default_rng(5)
    rule = _rule(rng.normal(0, 1, 1000))
    width = rule.max - rule.min
    batch = rng.normal(0, 1, 1000)
    just_past = rule.max + 0.01 * width
    assert _judge(rule, np.append(batch, just_past)) == "warning"
    assert _judge(rule, np.append(batch, [just_past] * 3)) == "warning"
    assert _judge(rule, np.append(batch, [just_past] * 40)) == "error"  # far more than 6.6/n of 1,000
    assert _judge(rule, np.append(batch, rule.max + 2 * width)) == "error"


def test_hand_edited_and_exact_bounds_are_checked_exactly():
    rng = np.random.default_rng(6)
    rule = _rule(rng.normal(0, 1, 500))
    batch = np.append(rng.normal(0, 1, 500), rule.max + 0.01)
    assert _judge(rule, batch) == "warning"
    edited = rule.model_copy(update={"max": rule.max})  # the same number: still the inferred bound
    assert _judge(edited, batch) == "warning"
    edited = rule.model_copy(update={"max": round(rule.max, 1) - 0.5})  # written by hand
    assert _judge(edited, np.append(batch, edited.max + 0.01)) == "error"
    exact = rule.model_copy(update={"bounds": "exact"})
    assert _judge(exact, batch) == "error"


def test_unseen_mass_is_the_beta_quantile():
    for n in (10, 300, 100_000):
        assert unseen_mass(n, 1) == pytest.approx(1 - 0.01 ** (1 / n), rel=1e-9)  # Beta(1, n) in closed form
        assert unseen_mass(n, 2) == pytest.approx(stats.beta.ppf(0.99, 2, n - 1), rel=1e-12)


# ---------------------------------------------------------------- categories


def _categorical(values: list) -> ColumnProfile:
    column = ColumnProfile(index=0, name="c", dtype="string", physical="string")
    column.counts = dict(pd.Series(values).value_counts())
    column.kind = "categorical"
    return column


def test_closed_set_rule():
    names = _category_rule(_categorical([f"name {i}" for i in range(16)]))
    assert "categories" not in names and names["new_category_rate"] == 1.0 and len(names["frequencies"]) == 16
    species = _category_rule(_categorical(["setosa", "versicolor", "virginica"] * 25))
    assert species["categories"] == ["setosa", "versicolor", "virginica"] and species["new_category_rate"] == 0
    rare = ["a"] * 600 + ["b"] * 390 + ["c"] * 9 + ["d"]  # one value seen once in 1,000: a closed set
    assert _category_rule(_categorical(rare))["categories"] == ["a", "b", "c", "d"]
    genera = [f"g{i}" for i in range(30)] + ["g0"] * 10  # 29 of 40 seen once: Good-Turing says open
    rule = _category_rule(_categorical(genera))
    assert "categories" not in rule and rule["new_category_rate"] == 29 / 40 and 29 / 40 > CLOSED_SET_RATE


def _unseen(rule: ContractColumn, present: int, unseen: int) -> str:
    column = ColumnProfile(index=0, name="c", dtype="string", physical="string")
    column.rows, column.unseen_total = present, unseen
    return unseen_severity(rule, column)


def test_unseen_category_severity():
    inferred = ContractColumn(
        name="c",
        kind="categorical",
        categories=["a", "b", "c"],
        bounds="inferred",
        values=300,
        frequencies=[("a", 100), ("b", 100), ("c", 100)],
        new_category_rate=0.0,
    )
    assert _unseen(inferred, 300, 2) == "warning"  # rare categories a sample of 300 can miss (up to 4.6/n)
    assert _unseen(inferred, 300, 4) == "warning"
    assert _unseen(inferred, 300, 30) == "error"  # a tenth of the batch
    assert _unseen(inferred.model_copy(update={"bounds": "exact"}), 300, 1) == "error"
    assert _unseen(inferred.model_copy(update={"categories": ["a", "b"]}), 300, 1) == "error"  # edited by hand


# ---------------------------------------------------------------- through validate_data


def _validate(folder: Path, frame: pd.DataFrame, name: str, **request):
    frame.to_csv(folder / name, index=False)
    return validate_data({"project_dir": str(folder), "data": name, **request})


def test_a_saved_contract_passes_a_fresh_half_and_catches_a_planted_value(tmp_path):
    rng = np.random.default_rng(8)

    def table(rows: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "amount": rng.lognormal(3, 1, rows).round(2),
                "visits": rng.poisson(4, rows),
                "score": rng.normal(0, 1, rows),
                "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.6, 0.3, 0.1]),
                "name": [f"customer {i}" for i in rng.permutation(10 * rows)[:rows]],
            }
        )

    _validate(tmp_path, table(400), "first.csv", save_contract="first")
    saved = {c["name"]: c for c in json.loads((tmp_path / ".omgml/contracts/first.json").read_text())["columns"]}
    assert saved["plan"]["categories"] == ["basic", "pro", "team"] and saved["plan"]["bounds"] == "inferred"
    assert saved["name"]["categories"] is None  # names: a frequency profile, no allow-list
    assert saved["visits"]["min"] == 0 and isinstance(saved["visits"]["max"], int)
    assert saved["amount"]["min"] >= 0

    fresh = table(400)
    assert _validate(tmp_path, fresh, "second.csv", contract="first").passed
    planted = fresh.copy()
    planted.loc[7, "score"] = saved["score"]["max"] + 3 * (saved["score"]["max"] - saved["score"]["min"])
    report = _validate(tmp_path, planted, "planted.csv", contract="first")
    errors = [(f.check, f.column) for f in report.findings if f.severity == "error"]
    assert errors == [("out_of_range", "score")]
    # The inferred bounds are long floats: the message prints them to 4 digits, the contract keeps them exact.
    low, high = saved["score"]["min"], saved["score"]["max"]
    message = next(f.message for f in report.findings if f.check == "out_of_range")
    assert f"inferred range [{low:.4g}, {high:.4g}]" in message and str(high) not in message


def test_a_16_row_name_column_is_not_a_category_list(tmp_path):
    frame = pd.DataFrame({"name": [f"car {chr(65 + i)}" for i in range(16)], "mpg": np.linspace(10, 30, 16)})
    _validate(tmp_path, frame, "cars.csv", save_contract="cars")
    saved = json.loads((tmp_path / ".omgml/contracts/cars.json").read_text())["columns"][0]
    # no value repeats in 16 rows: an identifier (omgml.data.kinds), so neither an allow-list nor a frequency profile
    assert (saved["name"], saved["kind"], saved["categories"], saved["unique"]) == ("name", "id_like", None, True)
    other = frame.assign(name=[f"car {chr(97 + i)}" for i in range(16)])
    assert not [f for f in _validate(tmp_path, other, "other.csv", contract="cars").findings if f.severity == "error"]


def test_an_old_contract_keeps_exact_bounds(tmp_path):
    """A contract saved before bounds were inferred: min/max and categories are checked exactly, as before."""
    old = {
        "omgml_version": "0.1.0",
        "name": "old",
        "created_at": "2025-01-01T00:00:00+00:00",
        "source": "train.csv",
        "rows": 100,
        "target": None,
        "keys": [],
        "columns": [
            {"name": "x", "kind": "numeric", "dtype": "double", "nullable": False, "null_rate": 0.0,
             "max_null_rate": 0.0, "min": 0.0, "max": 10.0, "categories": None, "unique": False},
            {"name": "c", "kind": "categorical", "dtype": "string", "nullable": False, "null_rate": 0.0,
             "max_null_rate": 0.0, "min": None, "max": None, "categories": ["a", "b"], "unique": False},
        ],
    }  # fmt: skip
    contracts = tmp_path / ".omgml" / "contracts"
    contracts.mkdir(parents=True)
    (contracts / "old.json").write_text(json.dumps(old))
    frame = pd.DataFrame({"x": np.r_[np.linspace(0, 10, 99), 10.01], "c": ["a", "b"] * 49 + ["a", "z"]})
    report = _validate(tmp_path, frame, "new.csv", contract="old")
    found = {f.check: f for f in report.findings}
    assert found["out_of_range"].severity == "error" and found["out_of_range"].count == 1
    assert "exact range [0.0, 10.0]" in found["out_of_range"].message
    assert found["unseen_category"].severity == "error" and found["unseen_category"].count == 1
    assert not report.passed
