"""The counts a drifted column carries for its chart are the test's data: exact, and what numpy/pandas count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omgml import check_drift
from omgml.drift.compare import Pair, cell_counts
from omgml.drift.distribution import MAX_BINS, MAX_CELLS
from omgml.drift.histogram import Histogram
from omgml.drift.summaries import NumericSummary


def write(tmp_path: Path, ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return {"project_dir": str(tmp_path), "reference": "ref.csv", "current": "cur.csv"}


def by_name(report, name):
    return next(c for c in report.columns if c.column == name)


def assert_numpy_counts(distribution, ref: pd.Series, cur: pd.Series) -> None:
    assert len(distribution.edges) == len(distribution.reference) + 1 <= MAX_BINS + 1
    for counts, values in ((distribution.reference, ref), (distribution.current, cur)):
        finite = values.dropna().to_numpy(dtype=float)
        assert sum(counts) == len(values) - values.isna().sum()  # every value the test saw, nothing else
        assert counts == np.histogram(finite, bins=np.array(distribution.edges))[0].tolist()


@pytest.fixture
def shifted(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "heavy": rng.standard_cauchy(n),  # tails far beyond the bulk
            "count": rng.poisson(3, n),
            "plan": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "steady": rng.normal(size=n),
            "y": rng.normal(size=n),
        }
    )
    cur = ref.copy()
    cur["x"] = cur["x"] * 1.5 + 0.7
    cur.loc[:200, "x"] = np.nan
    cur["heavy"] = rng.standard_cauchy(n) + 3
    cur["count"] = rng.poisson(6, n)
    cur["plan"] = rng.choice(["a", "b", "c", "e"], n, p=[0.1, 0.2, 0.3, 0.4])
    cur["steady"] = rng.normal(size=n)
    cur["y"] = rng.normal(size=n)
    return tmp_path, ref, cur


def test_numeric_bins_are_numpy_histograms_of_the_values_the_test_compared(shifted):
    tmp_path, ref, cur = shifted
    report = check_drift({**write(tmp_path, ref, cur), "target": "y"})
    for name in ("x", "heavy"):
        column = by_name(report, name)
        assert column.drifted and column.distribution.kind == "bins"
        assert_numpy_counts(column.distribution, ref[name], cur[name])
    heavy = by_name(report, "heavy").distribution
    # the Cauchy tails sit in one outer bin each, so the bulk keeps the chart's width
    assert heavy.edges[0] == min(ref["heavy"].min(), cur["heavy"].min())
    assert heavy.edges[-1] == max(ref["heavy"].max(), cur["heavy"].max())
    assert heavy.edges[-2] - heavy.edges[1] < 0.1 * (heavy.edges[-1] - heavy.edges[0])
    assert "outer ones" in heavy.note


def test_few_values_get_one_bin_each(shifted):
    tmp_path, ref, cur = shifted
    column = by_name(check_drift(write(tmp_path, ref, cur)), "count")
    d = column.distribution
    assert d.kind == "values"
    values = np.union1d(ref["count"], cur["count"])
    assert d.labels == [f"{v:g}" for v in values]
    assert_numpy_counts(d, ref["count"], cur["count"])
    assert d.reference == [int((ref["count"] == v).sum()) for v in values]  # one value per bin


def test_categories_are_the_tests_cells_and_match_value_counts(shifted):
    tmp_path, ref, cur = shifted
    report = check_drift(write(tmp_path, ref, cur))
    d = by_name(report, "plan").distribution
    assert d.kind == "categories" and d.edges is None
    assert sorted(d.labels) == ["a", "b", "c", "d", "e"]
    assert d.reference == [int(ref["plan"].value_counts().get(v, 0)) for v in d.labels]
    assert d.current == [int(cur["plan"].value_counts().get(v, 0)) for v in d.labels]


def test_only_drifted_columns_and_the_target_carry_counts(shifted):
    tmp_path, ref, cur = shifted
    report = check_drift({**write(tmp_path, ref, cur), "target": "y"})
    steady, target = by_name(report, "steady"), by_name(report, "y")
    assert not steady.drifted and steady.distribution is None
    assert not target.drifted and target.role == "target" and target.distribution is not None
    assert_numpy_counts(target.distribution, ref["y"], cur["y"])
    assert all(c.distribution is not None for c in report.columns if c.drifted)


def test_many_categories_keep_the_largest_by_name_and_pool_the_rest(tmp_path):
    rng = np.random.default_rng(5)
    names = [f"k{i:02d}" for i in range(60)]
    weights = np.linspace(2, 1, 60) / np.linspace(2, 1, 60).sum()
    ref = pd.DataFrame({"k": rng.choice(names, 6000, p=weights)})
    cur = pd.DataFrame({"k": rng.choice(names, 6000, p=weights[::-1])})
    cur.loc[:99, "k"] = None
    d = by_name(check_drift(write(tmp_path, ref, cur)), "k").distribution
    assert len(d.labels) == MAX_CELLS + 1 and d.labels[-1] == f"(other: {60 - MAX_CELLS} cells)"
    assert sum(d.reference) == 6000 and sum(d.current) == 6000 - 100
    named = d.labels[:-1]
    ref_counts, cur_counts = ref["k"].value_counts(), cur["k"].value_counts()
    assert d.reference[:-1] == [int(ref_counts[v]) for v in named]
    assert d.current[:-1] == [int(cur_counts[v]) for v in named]
    assert d.current[-1] == int(cur_counts.drop(named).sum())
    totals = [r + c for r, c in zip(d.reference[:-1], d.current[:-1])]
    assert totals == sorted(totals, reverse=True)
    assert min(totals) >= max((ref_counts + cur_counts).drop(named))  # the largest cells are the named ones


def test_a_forced_binned_test_carries_its_own_cells(shifted):
    tmp_path, ref, cur = shifted
    report = check_drift({**write(tmp_path, ref, cur), "tests": {"x": "psi"}})
    d = by_name(report, "x").distribution
    assert d.kind == "bins" and "deciles" in d.note
    assert_numpy_counts(d, ref["x"], cur["x"])
    # the very cells psi read
    summaries = [
        NumericSummary(
            "float", len(s), int(s.notna().sum()), 0, 0, 0, s.min(), s.max(), s.mean(), s.std(ddof=0), h, None
        )
        for s in (ref["x"], cur["x"])
        for h in [Histogram.from_samples(s.dropna().to_numpy())]
    ]
    rc, cc, _ = cell_counts(Pair("x", "feature", *summaries), "numeric")
    assert d.reference == rc.tolist() and d.current == cc.tolist()


def test_counts_against_a_binned_profile_are_exact_too(tmp_path):
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(size=30_000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1.3, size=20_000)})
    request = write(tmp_path, ref, cur)
    check_drift({**request, "save_reference": "base"})
    report = check_drift({**request, "reference": "base"})
    column = by_name(report, "x")
    assert column.drifted and column.statistic_bound > 0  # both sides binned: the test read buckets
    d = column.distribution
    assert_numpy_counts(d, ref["x"], cur["x"])  # no edge splits a bucket, so the raw values agree
    assert len(d.edges) > 20
