"""Properties every drift test must have, on generated data (hypothesis).

- identical samples never drift (every test, every decision);
- symmetric tests give the same statistic and p-value with the sides swapped;
- row order does not matter;
- summaries merged from any split of the rows equal the summary of all rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omgml.drift import stattests as T
from omgml.drift.compare import Pair, compare
from omgml.drift.histogram import Histogram
from omgml.drift.summaries import CategoryAccumulator, NumericAccumulator

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Samples with ties and repeats are the hard case for ranks and CDF steps: draw from a small pool too.
samples = st.one_of(
    st.lists(finite, min_size=5, max_size=120),
    st.lists(st.sampled_from([-2.0, 0.0, 0.5, 1.0, 3.0, 7.25]), min_size=5, max_size=120),
).filter(lambda xs: len(set(xs)) >= 2)
counts = st.lists(st.integers(min_value=0, max_value=500), min_size=2, max_size=12).filter(lambda c: sum(c) > 0)
words = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=5, max_size=150)


def numeric_summary(values):
    acc = NumericAccumulator("float", keep="all")
    acc.update(pa.array(np.asarray(values, dtype=np.float64)))
    return acc.finalize()


def category_summary(values):
    acc = CategoryAccumulator("string")
    acc.update(pa.array(values))
    return acc.finalize()


@SETTINGS
@given(samples)
def test_identical_numeric_samples_never_drift(values):
    h = Histogram.from_samples(np.asarray(values))
    for spec in T.TESTS:
        if spec.data != "samples":
            continue
        out = spec.function(h, h)
        if spec.score == "distance":
            assert out.statistic == 0
        else:
            assert out.pvalue >= spec.threshold, (spec.name, out)
    result = compare([Pair("x", "feature", numeric_summary(values), numeric_summary(values))], {})
    assert not any(c.drifted for c in result.columns)
    assert all(c.effect.value == 0 for c in result.columns)


@SETTINGS
@given(counts)
def test_identical_counts_never_drift(cells):
    c = np.asarray(cells)
    for spec in T.TESTS:
        if spec.data != "counts" or (spec.name == "z" and np.count_nonzero(c) > 2):
            continue
        out = spec.function(c, c)
        if spec.score == "distance":
            assert out.statistic == pytest.approx(0, abs=1e-12)
        else:
            assert out.pvalue == pytest.approx(1.0)


@SETTINGS
@given(words)
def test_identical_categorical_columns_never_drift(values):
    result = compare([Pair("c", "feature", category_summary(values), category_summary(values))], {})
    assert not any(c.drifted for c in result.columns)


@SETTINGS
@given(samples, samples)
def test_symmetric_samples_tests_are_symmetric(a, b):
    ha, hb = Histogram.from_samples(np.asarray(a)), Histogram.from_samples(np.asarray(b))
    for spec in T.TESTS:
        if spec.data != "samples" or not spec.symmetric:
            continue
        x, y = spec.function(ha, hb), spec.function(hb, ha)
        assert x.statistic == pytest.approx(y.statistic, rel=1e-9, abs=1e-12), spec.name
        assert x.pvalue == pytest.approx(y.pvalue, rel=1e-9, abs=1e-15), spec.name


@SETTINGS
@given(counts, counts)
def test_symmetric_counts_tests_are_symmetric(a, b):
    size = min(len(a), len(b))
    r, c = np.asarray(a[:size]), np.asarray(b[:size])
    if r.sum() == 0 or c.sum() == 0:
        return
    for spec in T.TESTS:
        if spec.data != "counts" or not spec.symmetric or (spec.name == "z" and size > 2):
            continue
        x, y = spec.function(r, c), spec.function(c, r)
        assert x.statistic == pytest.approx(y.statistic, rel=1e-9, abs=1e-12), spec.name
        if x.pvalue is not None:
            assert x.pvalue == pytest.approx(y.pvalue, rel=1e-9, abs=1e-15), spec.name


def test_asymmetric_specs_are_the_ones_that_say_so():
    # wasserstein is normed by the reference's std and KL(p||q) != KL(q||p): both declare it.
    a, b = np.array([0.0, 1, 2, 3, 4, 5]), np.array([0.0, 0, 10, 20, 30, 40])
    ha, hb = Histogram.from_samples(a), Histogram.from_samples(b)
    assert T.wasserstein(ha, hb).statistic != T.wasserstein(hb, ha).statistic
    assert not T.BY_NAME["wasserstein"].symmetric and not T.BY_NAME["kl_div"].symmetric
    r, c = np.array([80, 15, 5]), np.array([30, 30, 40])
    assert T.kl_div(r, c).statistic != pytest.approx(T.kl_div(c, r).statistic)


@SETTINGS
@given(samples, samples, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(a, b, rnd):
    before = compare([Pair("x", "feature", numeric_summary(a), numeric_summary(b))], {})
    a2, b2 = list(a), list(b)
    rnd.shuffle(a2)
    rnd.shuffle(b2)
    after = compare([Pair("x", "feature", numeric_summary(a2), numeric_summary(b2))], {})
    assert [c.model_dump() for c in before.columns] == [c.model_dump() for c in after.columns]
    assert [s.model_dump() for s in before.signals] == [s.model_dump() for s in after.signals]


@SETTINGS
@given(words, words, st.randoms(use_true_random=False))
def test_row_order_does_not_matter_for_categories(a, b, rnd):
    before = compare([Pair("c", "feature", category_summary(a), category_summary(b))], {})
    a2, b2 = list(a), list(b)
    rnd.shuffle(a2)
    rnd.shuffle(b2)
    after = compare([Pair("c", "feature", category_summary(a2), category_summary(b2))], {})
    assert [c.model_dump() for c in before.columns] == [c.model_dump() for c in after.columns]


@SETTINGS
@given(st.lists(st.one_of(finite, st.just(float("nan"))), min_size=1, max_size=300), st.data())
def test_any_split_merges_to_the_whole(values, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(values)), max_size=5)))
    pieces = [values[i:j] for i, j in zip([0, *cuts], [*cuts, len(values)])]
    for keep, cap in (("all", None), ("distinct", 50), ("rows", 100)):
        whole = NumericAccumulator("float", keep=keep, cap=cap)
        whole.update(pa.array(values, type=pa.float64()))
        merged = NumericAccumulator("float", keep=keep, cap=cap)
        for piece in pieces:
            part = NumericAccumulator("float", keep=keep, cap=cap)
            part.update(pa.array(piece, type=pa.float64()))
            merged.merge(part)
        x, y = whole.finalize(), merged.finalize()
        assert (x.rows, x.count, x.nulls, x.distinct) == (y.rows, y.count, y.nulls, y.distinct)
        assert (x.hist is None) == (y.hist is None)
        if x.hist is not None:
            assert np.array_equal(x.hist.lo, y.hist.lo) and np.array_equal(x.hist.counts, y.hist.counts)
        if x.count:
            assert y.mean == pytest.approx(x.mean, rel=1e-9, abs=1e-6)
