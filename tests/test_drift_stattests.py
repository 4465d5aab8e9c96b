"""Every drift stat test against its reference implementation, on the same data.

Tolerance: 1e-9 relative. Where both sides compute the same formula in float64 the observed
differences are at rounding level (~1e-15); 1e-9 leaves room for a different summation order
(scipy sums over all values, omgml over distinct values with counts) without hiding a wrong
formula, which shows up at 1e-3 or worse. Hand-derived values state their source.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
import scipy.stats as st
from scipy.spatial import distance
from scipy.special import rel_entr

from omgml.drift import stattests as T
from omgml.drift.histogram import Grid, Histogram, bin_counts, quantile_bins
from omgml.drift.histogram import wasserstein as raw_wasserstein
from omgml.errors import OmgmlError

RTOL = 1e-9


def close(ours: float, theirs: float, rtol: float = RTOL, atol: float = 1e-12) -> bool:
    return math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol)


def _samples():
    """Seeded pairs: continuous, heavy ties, exact-size (<= 20), mid, unequal and shifted."""
    rng = np.random.default_rng(20260426)
    yield "continuous", rng.normal(size=300), rng.normal(0.2, 1.1, size=250)
    yield "ties", np.round(rng.normal(size=400) * 2), np.round(rng.normal(0.3, 1, size=380) * 2)
    yield "tiny", rng.normal(size=12), rng.normal(0.5, size=9)
    yield "mid", rng.exponential(size=3_000), rng.exponential(1.1, size=4_500)
    yield "large", rng.normal(size=12_000), rng.normal(0.01, 1, size=11_000)
    yield "same", (same := rng.normal(size=200)), same.copy()


SAMPLES = list(_samples())


@pytest.mark.parametrize("label,a,b", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_ks_equals_scipy(label, a, b):
    ours = T.ks(Histogram.from_samples(a), Histogram.from_samples(b))
    ref = st.ks_2samp(a, b)  # method="auto": exact up to 10,000 per side, as ours
    assert close(ours.statistic, ref.statistic)
    assert close(ours.pvalue, ref.pvalue)
    assert ours.method == ("exact" if max(a.size, b.size) <= 10_000 else "asymptotic")


@pytest.mark.parametrize("label,a,b", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_wasserstein_equals_scipy_normed_by_reference_std(label, a, b):
    ours = T.wasserstein(Histogram.from_samples(a), Histogram.from_samples(b))
    assert close(ours.statistic, st.wasserstein_distance(a, b) / np.std(a))
    assert ours.pvalue is None and ours.bound == 0


@pytest.mark.parametrize("label,a,b", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_cramer_von_mises_equals_scipy(label, a, b):
    ours = T.cramer_von_mises(Histogram.from_samples(a), Histogram.from_samples(b))
    ref = st.cramervonmises_2samp(a, b)
    # T is a difference of two terms that grow like n (U / (k N) and (4k - 1) / (6N)): at 23,000
    # values about 4 of the 16 digits cancel, in scipy's float sum and in our closed form alike.
    assert close(ours.statistic, ref.statistic, rtol=RTOL if a.size < 10_000 else 1e-8)
    assert close(ours.pvalue, ref.pvalue, rtol=RTOL if a.size < 10_000 else 1e-7)


@pytest.mark.parametrize("label,a,b", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_anderson_equals_scipy_midrank(label, a, b):
    ours = T.anderson(Histogram.from_samples(a), Histogram.from_samples(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns when it caps or floors the p-value
        try:
            ref = st.anderson_ksamp([a, b], variant="midrank")
        except TypeError:  # scipy < 1.17 has no `variant`
            ref = st.anderson_ksamp([a, b], midrank=True)
    assert close(ours.statistic, ref.statistic)
    assert close(ours.pvalue, ref.pvalue)


COUNTS = [
    ("uneven", np.array([10, 20, 30, 0, 5]), np.array([12, 18, 25, 3, 0])),
    ("large", np.array([50_000, 30_000, 20_000]), np.array([49_000, 31_500, 19_500])),
    ("same", np.array([5, 7, 9]), np.array([5, 7, 9])),
    ("disjoint", np.array([10, 0]), np.array([0, 10])),
]


@pytest.mark.parametrize("label,r,c", COUNTS, ids=[x[0] for x in COUNTS])
def test_chi2_equals_scipy_contingency_without_correction(label, r, c):
    table = np.vstack([r, c])
    table = table[:, table.sum(axis=0) > 0]
    ref = st.chi2_contingency(table, correction=False)
    ours = T.chi2(r, c)
    assert close(ours.statistic, ref.statistic) and close(ours.pvalue, ref.pvalue)


@pytest.mark.parametrize("r,c", [([30, 70], [45, 55]), ([500, 500], [480, 520]), ([9, 1], [2, 8])])
def test_z_squared_equals_chi2_on_the_2x2_table(r, c):
    ours = T.z(np.array(r), np.array(c))
    ref = st.chi2_contingency(np.vstack([r, c]), correction=False)
    assert close(ours.statistic**2, ref.statistic)
    assert close(ours.pvalue, ref.pvalue)


def test_z_refuses_more_than_two_values():
    with pytest.raises(ValueError, match="more than two values"):
        T.z(np.array([1, 2, 3]), np.array([3, 2, 1]))


@pytest.mark.parametrize("label,r,c", COUNTS, ids=[x[0] for x in COUNTS])
def test_jensenshannon_equals_scipy(label, r, c):
    assert close(T.jensenshannon(r, c).statistic, distance.jensenshannon(r / r.sum(), c / c.sum()))


@pytest.mark.parametrize("label,r,c", COUNTS, ids=[x[0] for x in COUNTS])
def test_kl_div_equals_scipy_entropy_on_the_same_shares(label, r, c):
    p = np.where(r == 0, 1e-4, r / r.sum())
    q = np.where(c == 0, 1e-4, c / c.sum())
    assert close(T.kl_div(r, c).statistic, st.entropy(p, q))


@pytest.mark.parametrize("label,r,c", COUNTS, ids=[x[0] for x in COUNTS])
def test_psi_is_the_jeffreys_divergence(label, r, c):
    # PSI = sum (q - p) ln(q/p) = KL(p||q) + KL(q||p) (Yurdakul 2018, "Statistical properties of
    # the population stability index"); rel_entr keeps the unnormalized 1e-4 cells as PSI does.
    p = np.where(r == 0, 1e-4, r / r.sum())
    q = np.where(c == 0, 1e-4, c / c.sum())
    assert close(T.psi(r, c).statistic, float(np.sum(rel_entr(p, q)) + np.sum(rel_entr(q, p))))


def test_psi_hand_derived():
    # p = (0.5, 0.5), q = (0.25, 0.75):
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5 = 0.274653...
    assert close(T.psi(np.array([50, 50]), np.array([25, 75])).statistic, 0.25 * math.log(2) + 0.25 * math.log(1.5))
    # Siddiqi (2006) decile example shape: identical shares give exactly 0.
    assert T.psi(np.array([10] * 10), np.array([3] * 10)).statistic == 0.0


@pytest.mark.parametrize("label,r,c", COUNTS, ids=[x[0] for x in COUNTS])
def test_hellinger_equals_euclidean_of_square_roots(label, r, c):
    p, q = r / r.sum(), c / c.sum()
    assert close(T.hellinger(r, c).statistic, distance.euclidean(np.sqrt(p), np.sqrt(q)) / math.sqrt(2))


def test_hellinger_hand_derived():
    # Disjoint supports: H = 1 (its maximum). p = (0.5, 0.5), q = (0.25, 0.75):
    # H^2 = 1 - (sqrt(0.125) + sqrt(0.375)) = 1 - 0.353553 - 0.612372 = 0.034074, H = 0.184593...
    assert close(T.hellinger(np.array([1, 0]), np.array([0, 1])).statistic, 1.0)
    expected = math.sqrt(1 - (math.sqrt(0.125) + math.sqrt(0.375)))
    assert close(T.hellinger(np.array([2, 2]), np.array([1, 3])).statistic, expected)


def test_holm_equals_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    # ties (0.5 twice, 0.0 and 1.0) exercise the running maximum and the cap at 1
    p = np.concatenate([rng.uniform(size=25), rng.uniform(0, 1e-4, size=5), [1.0, 0.0, 0.5, 0.5]])
    assert np.allclose(T.holm(list(p)), multipletests(p, method="holm")[1], rtol=RTOL, atol=0)
    assert T.holm([]) == []


# The spec registry: every test has a reference check above; this table names them.
REFERENCE_CHECKS = {
    "ks": test_ks_equals_scipy,
    "chi2": test_chi2_equals_scipy_contingency_without_correction,
    "z": test_z_squared_equals_chi2_on_the_2x2_table,
    "wasserstein": test_wasserstein_equals_scipy_normed_by_reference_std,
    "psi": test_psi_is_the_jeffreys_divergence,
    "jensenshannon": test_jensenshannon_equals_scipy,
    "hellinger": test_hellinger_equals_euclidean_of_square_roots,
    "kl_div": test_kl_div_equals_scipy_entropy_on_the_same_shares,
    "cramer_von_mises": test_cramer_von_mises_equals_scipy,
    "anderson": test_anderson_equals_scipy_midrank,
}


def test_every_spec_has_a_reference_test():
    assert set(T.BY_NAME) == set(REFERENCE_CHECKS), "a stat test without a reference test, or a stale entry"


def test_registry_specs_are_frozen_and_complete():
    required = {
        "ks",
        "chi2",
        "z",
        "wasserstein",
        "psi",
        "jensenshannon",
        "hellinger",
        "kl_div",
        "cramer_von_mises",
        "anderson",
    }
    assert required <= set(T.TEST_NAMES)
    for spec in T.TESTS:
        with pytest.raises(dataclasses.FrozenInstanceError):
            spec.threshold = 1.0  # type: ignore[misc]
        assert spec.score in ("pvalue", "distance") and spec.kinds and spec.reference
        assert spec.decision_rule == ("pvalue_below" if spec.score == "pvalue" else "score_above")
        assert 0 < spec.threshold < 1
        assert T.effect_test(spec).score == "distance"


def test_unknown_test_name_lists_the_valid_ones():
    with pytest.raises(OmgmlError) as info:
        T.get_test("kolmogorov")
    message = str(info.value)
    assert "Unknown stat test 'kolmogorov'" in message
    assert "ks, chi2, z, wasserstein, psi, jensenshannon, hellinger, kl_div, cramer_von_mises, anderson" in message


# ---------------------------------------------------------------------------------------------
# binned histograms (saved profiles): the documented bound holds


def _binned(values: np.ndarray, grid: Grid) -> Histogram:
    from omgml.drift.summaries import NumericAccumulator

    acc = NumericAccumulator("float", keep="none", grid=grid)
    import pyarrow as pa

    for chunk in np.array_split(values, 3):
        acc.update(pa.array(chunk))
    hist = acc.finalize().hist
    return hist


DISTRIBUTIONS = {
    "normal": lambda rng, n, s: rng.normal(s, 1, n),
    "lognormal": lambda rng, n, s: rng.lognormal(s, 1, n),
    "exponential": lambda rng, n, s: rng.exponential(1 + s, n),
    "bimodal": lambda rng, n, s: np.concatenate([rng.normal(-3 + s, 0.5, n // 2), rng.normal(3, 0.5, n - n // 2)]),
    "integers": lambda rng, n, s: rng.integers(0, 1000, n).astype(float) + round(s * 100),
    "offset": lambda rng, n, s: 1e6 + rng.normal(s, 0.01, n),
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
@pytest.mark.parametrize("shift", [0.0, 0.15, 1.0])
def test_binned_statistics_stay_within_their_bound(name, shift):
    rng = np.random.default_rng(hash((name, shift)) % 2**32)
    make = DISTRIBUTIONS[name]
    ref, cur = make(rng, 20_000, 0.0), make(rng, 15_000, shift)
    grid = Grid.for_values(float(ref.mean()), float(ref.std()))
    exact_r, exact_c = Histogram.from_samples(ref), Histogram.from_samples(cur)
    binned_r, binned_c = _binned(ref, grid), _binned(cur, grid)
    for r, c in ((binned_r, exact_c), (binned_r, binned_c), (exact_r, binned_c)):
        w_raw = T.wasserstein(exact_r, exact_c).statistic
        w = T.wasserstein(r, c)
        assert abs(w.statistic - w_raw) <= w.bound + 1e-12
        # Buckets are 1% of a std wide near the reference, 1% of |z| beyond one std: about 0.005 std
        # per side, growing with how far the current values sit (so, with the distance itself).
        assert w.bound <= 0.03 + 0.01 * w.statistic
        k_raw = T.ks(exact_r, exact_c).statistic
        k = T.ks(r, c)
        assert abs(k.statistic - k_raw) <= k.bound + 1e-12


def test_binned_counts_tests_equal_raw_ones_exactly():
    # Quantile bins sit on grid bucket edges, so a value lands in the same bin whether the
    # histogram kept it or only its bucket: psi and friends are identical, not just close.
    rng = np.random.default_rng(11)
    ref, cur = rng.lognormal(size=30_000), rng.lognormal(0.1, size=20_000)
    grid = Grid.for_values(float(ref.mean()), float(ref.std()))
    exact_r, exact_c = Histogram.from_samples(ref), Histogram.from_samples(cur)
    upper = quantile_bins(exact_r, grid)
    assert np.array_equal(upper, quantile_bins(_binned(ref, grid), grid))
    assert np.array_equal(bin_counts(exact_c, grid, upper), bin_counts(_binned(cur, grid), grid, upper))
    shares = bin_counts(exact_r, grid, upper)[1:-1] / ref.size
    assert np.all(np.abs(shares - 0.1) < 0.02)  # deciles, give or take a bucket


def test_wasserstein_on_histograms_with_point_masses_is_exact():
    a = np.array([0.0] * 50 + [1.0] * 30 + [5.0] * 20)
    b = np.array([0.0] * 20 + [1.0] * 60 + [5.0] * 20)
    assert close(raw_wasserstein(Histogram.from_samples(a), Histogram.from_samples(b)), st.wasserstein_distance(a, b))
