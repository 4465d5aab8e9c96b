"""The stat tests drift can run: a registry of frozen specs, one function each.

A test takes the reference and the current side of one column and returns an ``Outcome``:
the statistic, the p-value (``None`` for a distance), the method that actually ran, and a bound
on how far the statistic can be from its value on the raw data (0 when both sides are exact).

Two families, by what they read:

- ``samples`` tests (ks, wasserstein, cramer_von_mises, anderson) read two ``Histogram``\\ s of a
  numeric column. On exact histograms they equal scipy's functions on the raw values.
- ``counts`` tests (chi2, z, psi, jensenshannon, hellinger, kl_div) read two aligned count
  vectors: categories of a categorical column, or reference quantile bins of a numeric one.

Adding a test is one function and one ``StatTest`` in ``TESTS``, plus its reference test in
``tests/test_drift_stattests.py`` (a test fails when a spec has none).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from omgml.drift.histogram import Histogram, ks_statistic
from omgml.drift.histogram import wasserstein as _wasserstein_distance
from omgml.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

ScoreKind = Literal["pvalue", "distance"]
DecisionRule = Literal["pvalue_below", "score_above"]
ColumnKind = Literal["numeric", "categorical", "binary"]

KS_EXACT_MAX_N = 10_000  # as scipy's ks_2samp(method="auto"): exact when both samples are this small
CVM_EXACT_MAX_N = 20  # as scipy's cramervonmises_2samp(method="auto")
EMPTY_SHARE = 1e-4  # psi and kl_div: an empty cell counts as this share (Evidently's value), else log(0)
# A p-value test's default threshold, family-wise over a comparison's columns (Holm): a drift check
# runs again on every batch or window, so at most one check in a hundred of unchanged data may
# flag a column (measured on 52 real tables' random halves: 0.5% of checks, 1.8% at 0.05;
# docs/drift.md).
PVALUE_THRESHOLD = 0.01


@dataclass(frozen=True)
class Outcome:
    """What one test computed. ``bound``: largest possible |statistic - statistic on the raw data|."""

    statistic: float
    pvalue: float | None
    method: str
    bound: float = 0.0


@dataclass(frozen=True)
class StatTest:
    """One stat test: what it applies to, how to read its score, and what it is checked against."""

    name: str
    title: str
    kinds: frozenset[str]
    score: ScoreKind
    threshold: float  # p-value: drift when below (after correction); distance: drift when at or above
    function: Callable[..., Outcome]
    data: Literal["samples", "counts"]
    symmetric: bool  # same statistic and p-value with the two sides swapped
    reference: str  # the implementation its test in tests/test_drift_stattests.py compares with
    unit: str = ""
    needs_exact: bool = False  # needs every value (a binned saved profile is not enough)

    @property
    def decision_rule(self) -> DecisionRule:
        return "pvalue_below" if self.score == "pvalue" else "score_above"

    def applies_to(self, kind: str, numeric_base: bool = False) -> bool:
        """Whether the test fits a column kind; a two-valued numeric column also takes numeric tests."""
        return kind in self.kinds or (kind == "binary" and numeric_base and "numeric" in self.kinds)


# ---------------------------------------------------------------------------------------------
# samples tests: two Histograms of a numeric column


def ks(reference: Histogram, current: Histogram) -> Outcome:
    """Two-sample Kolmogorov-Smirnov: H0 both samples come from one continuous distribution.

    Statistic ``D = sup |F_ref - F_cur|``. The p-value is exact (Hodges' lattice-path count, as
    scipy) when both sides are exact and hold at most 10,000 values, else Smirnov's asymptotic
    distribution ``kstwo.sf(D, round(n m / (n + m)))``, as ``scipy.stats.ks_2samp(method="auto")``.
    """
    from scipy.stats import distributions

    d = ks_statistic(reference, current)
    bound = reference.ks_bound() + current.ks_bound()
    n1, n2 = reference.n, current.n
    if reference.exact and current.exact and max(n1, n2) <= KS_EXACT_MAX_N:
        exact = _ks_exact(reference, current)
        if exact is not None:
            return Outcome(exact[0], exact[1], "exact")
        method = "asymptotic (the exact computation overflowed)"
    else:
        method = "asymptotic" if bound == 0 else "asymptotic, on binned values"
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p = float(min(max(distributions.kstwo.sf(d, round(en)), 0.0), 1.0))
    return Outcome(d, p, method, bound)


def _ks_exact(reference: Histogram, current: Histogram) -> tuple[float, float] | None:
    # The exact null distribution has no public scipy function; scipy's ks_2samp computes it
    # (compiled) on samples this small in milliseconds. A fallback to asymptotic is reported.
    from scipy.stats import ks_2samp

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ks_2samp(reference.samples(), current.samples(), method="exact")
    if any(issubclass(w.category, RuntimeWarning) for w in caught):
        return None
    return float(result.statistic), float(result.pvalue)


def wasserstein(reference: Histogram, current: Histogram) -> Outcome:
    """1-Wasserstein distance (earth mover's) divided by the reference's standard deviation.

    The area between the two CDFs, in units of the reference's spread: 0.1 means the current
    values sit a tenth of a standard deviation away on average. Equals
    ``scipy.stats.wasserstein_distance(ref, cur) / np.std(ref)``; the current std stands in when
    the reference is constant. Not symmetric: the reference sets the unit.
    """
    norm, method = _unit(reference, current)
    distance = _wasserstein_distance(reference, current) / norm
    bound = (reference.wasserstein_bound() + current.wasserstein_bound()) / norm
    return Outcome(distance, None, method if bound == 0 else method + ", on binned values", bound)


def _unit(reference: Histogram, current: Histogram) -> tuple[float, str]:
    """The reference std; the current std for a constant reference; the joint range when both stds
    vanish (values so close that their squares underflow)."""
    if reference.std > 0:
        return reference.std, "normed by the reference std"
    if current.std > 0:
        return current.std, "normed by the current std (constant reference)"
    spread = max(reference.maximum, current.maximum) - min(reference.minimum, current.minimum)
    if spread > 0:
        return spread, "normed by the joint range (both stds underflow)"
    raise ValueError("both sides hold one and the same value: the Wasserstein distance has no unit")


def cramer_von_mises(reference: Histogram, current: Histogram) -> Outcome:
    """Two-sample Cramér-von Mises: H0 both samples come from one continuous distribution.

    ``T = U / (n m (n + m)) - (4 n m - 1) / (6 (n + m))`` with midranks for ties (Anderson 1962,
    eq. 9), computed from value counts. The p-value is exact for at most 20 values per side, else
    the limiting distribution (Csörgő and Faraway 1996, eq. 1.2), as ``scipy.stats.cramervonmises_2samp``.
    """
    import numpy as np

    _, cx, cy = aligned_counts(reference, current)
    nx, ny = reference.n, current.n
    total = cx + cy
    midrank = (np.cumsum(total) - total) + (total + 1) / 2.0
    u = nx * _rank_gap_sum(midrank, cx) + ny * _rank_gap_sum(midrank, cy)
    k, big_n = nx * ny, nx + ny
    t = float(u / (k * big_n) - (4 * k - 1) / (6 * big_n))
    if max(nx, ny) <= CVM_EXACT_MAX_N:
        from scipy.stats import cramervonmises_2samp

        p = float(cramervonmises_2samp(reference.samples(), current.samples(), method="exact").pvalue)
        return Outcome(t, p, "exact")
    et = (1 + 1 / big_n) / 6
    vt = (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k)
    vt = vt / (45 * big_n**2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    p = 1.0 if tn < 0.003 else max(1.0 - _cvm_limit_cdf(tn), 0.0)
    return Outcome(t, p, "asymptotic")


def _rank_gap_sum(midrank: np.ndarray, counts: np.ndarray) -> float:
    """``sum_i (r(x_i) - i)^2`` over one sample, grouped by value: ``sum_{t=1..c} (s - t)^2`` in closed form."""
    import numpy as np

    before = np.cumsum(counts) - counts
    s = midrank - before
    c = counts.astype(np.float64)
    return float(np.sum(c * s * s - s * c * (c + 1) + c * (c + 1) * (2 * c + 1) / 6.0))


def _cvm_limit_cdf(x: float) -> float:
    """CDF of the limiting Cramér-von Mises distribution (Csörgő and Faraway 1996, eq. 1.2).

    Terms are added until one is below 1e-7, as scipy does, so the two agree to rounding.
    """
    from scipy.special import gammaln, kv

    total, k = 0.0, 0
    while True:
        u = math.exp(gammaln(k + 0.5) - gammaln(k + 1)) / (math.pi**1.5 * math.sqrt(x))
        y = 4 * k + 1
        q = y**2 / (16 * x)
        term = u * math.sqrt(y) * math.exp(-q) * float(kv(0.25, q))
        total += term
        if abs(term) < 1e-7:
            return total
        k += 1


# Scholz and Stephens (1987), Table 2: interpolation coefficients for the critical values.
_AD_B0 = (0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085)
_AD_B1 = (-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615)
_AD_B2 = (-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154)
_AD_SIG = (0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001)


def anderson(reference: Histogram, current: Histogram) -> Outcome:
    """Anderson-Darling k-sample test (k = 2), midrank version for ties: H0 one common distribution.

    Statistic: the standardized ``A2akN`` of Scholz and Stephens (1987, eq. 7). The p-value is
    interpolated from their Table 2 and, like scipy's, floored at 0.001 and capped at 0.25.
    Equals ``scipy.stats.anderson_ksamp([ref, cur], variant="midrank")``.
    """
    import numpy as np

    values, cx, cy = aligned_counts(reference, current)
    if values.size < 2:
        raise ValueError("anderson needs more than one distinct value")
    n = (reference.n, current.n)
    big_n = n[0] + n[1]
    lj = (cx + cy).astype(np.float64)
    bj = (np.cumsum(lj) - lj) + lj / 2.0
    a2 = 0.0
    for counts, size in ((cx, n[0]), (cy, n[1])):
        mij = np.cumsum(counts).astype(np.float64) - counts / 2.0
        inner = lj / float(big_n) * (big_n * mij - bj * size) ** 2 / (bj * (big_n - bj) - big_n * lj / 4.0)
        a2 += inner.sum() / size
    a2 *= (big_n - 1.0) / big_n
    k = 2
    h_total = (1.0 / np.array(n)).sum()
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, big_n)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_total
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_total - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_total + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * big_n**3 + b * big_n**2 + c * big_n + d) / ((big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0))
    m = k - 1
    statistic = float((a2 - m) / math.sqrt(sigmasq))
    critical = np.array(_AD_B0) + np.array(_AD_B1) / math.sqrt(m) + np.array(_AD_B2) / m
    if statistic < critical.min():
        return Outcome(statistic, max(_AD_SIG), "interpolated (capped at 0.25)")
    if statistic > critical.max():
        return Outcome(statistic, min(_AD_SIG), "interpolated (floored at 0.001)")
    fit = np.polyfit(critical, np.log(np.array(_AD_SIG)), 2)
    return Outcome(statistic, float(math.exp(np.polyval(fit, statistic))), "interpolated")


def aligned_counts(reference: Histogram, current: Histogram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    if not (reference.exact and current.exact):
        raise ValueError("this test needs every value; a binned histogram does not keep them")
    values = np.union1d(reference.lo, current.lo)
    cx = np.zeros(values.size, dtype=np.int64)
    cy = np.zeros(values.size, dtype=np.int64)
    cx[np.searchsorted(values, reference.lo)] = reference.counts
    cy[np.searchsorted(values, current.lo)] = current.counts
    return values, cx, cy


# ---------------------------------------------------------------------------------------------
# counts tests: two aligned count vectors (categories, or quantile bins of a numeric column)


def chi2(reference: np.ndarray, current: np.ndarray) -> Outcome:
    """Pearson's chi-squared test of homogeneity on the 2 x k table (no continuity correction).

    H0: both samples draw categories with the same probabilities. Categories empty on both
    sides are dropped. Equals ``scipy.stats.chi2_contingency(table, correction=False)``.
    """
    import numpy as np
    from scipy.special import chdtrc  # chi2.sf, as scipy.stats computes it

    table = _table(reference, current)
    if table.shape[1] < 2:
        return Outcome(0.0, 1.0, "one category: nothing to compare")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return Outcome(statistic, float(chdtrc(table.shape[1] - 1, statistic)), "asymptotic")


def z(reference: np.ndarray, current: np.ndarray) -> Outcome:
    """Two-proportion z-test (pooled) on a two-valued column; statistic ``|z|``, two-sided p-value.

    H0: the share of the second value is the same on both sides. ``z**2`` and the p-value equal
    ``scipy.stats.chi2_contingency(table, correction=False)`` on the 2 x 2 table.
    """
    from scipy.special import ndtr  # norm.sf(x) is ndtr(-x) in scipy.stats

    table = _table(reference, current)
    if table.shape[1] > 2:
        raise ValueError("the z-test compares two proportions: the column has more than two values")
    if table.shape[1] < 2:
        return Outcome(0.0, 1.0, "one value: nothing to compare")
    n1, n2 = float(table[0].sum()), float(table[1].sum())
    p1, p2 = table[0, 1] / n1, table[1, 1] / n2
    pooled = (table[0, 1] + table[1, 1]) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    statistic = abs(p2 - p1) / se
    return Outcome(float(statistic), float(2 * ndtr(-statistic)), "asymptotic")


def psi(reference: np.ndarray, current: np.ndarray) -> Outcome:
    """Population Stability Index ``sum (q - p) ln(q / p)`` over shares (empty cells count as 1e-4).

    Siddiqi (2006), *Credit Risk Scorecards*, ch. 8; it is the symmetric (Jeffreys) divergence
    ``KL(p||q) + KL(q||p)``. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major.
    """
    import numpy as np

    p, q = _shares(reference, EMPTY_SHARE), _shares(current, EMPTY_SHARE)
    return Outcome(float(np.sum((q - p) * np.log(q / p))), None, "shares, empty cells as 1e-4")


def jensenshannon(reference: np.ndarray, current: np.ndarray) -> Outcome:
    """Jensen-Shannon distance (natural log): ``sqrt((KL(p||m) + KL(q||m)) / 2)``, ``m = (p + q) / 2``.

    Between 0 and sqrt(ln 2) ~ 0.83; symmetric and finite with empty cells. Equals
    ``scipy.spatial.distance.jensenshannon(p, q)``.
    """
    import numpy as np

    p, q = _shares(reference), _shares(current)
    m = (p + q) / 2.0
    divergence = (np.sum(rel_entr(p, m)) + np.sum(rel_entr(q, m))) / 2.0
    return Outcome(float(np.sqrt(max(divergence, 0.0))), None, "shares, natural log")


def hellinger(reference: np.ndarray, current: np.ndarray) -> Outcome:
    """Hellinger distance ``sqrt(sum (sqrt p - sqrt q)^2 / 2)``, between 0 and 1.

    Hellinger (1909); equal to ``sqrt(1 - sum sqrt(p q))``. No scipy function: checked against
    ``scipy.spatial.distance.euclidean(sqrt p, sqrt q) / sqrt 2`` and hand-derived values.
    """
    import numpy as np

    p, q = _shares(reference), _shares(current)
    return Outcome(float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2.0)), None, "shares")


def kl_div(reference: np.ndarray, current: np.ndarray) -> Outcome:
    """Kullback-Leibler divergence ``KL(reference || current)`` (natural log; empty cells as 1e-4).

    Not symmetric. Equals ``scipy.stats.entropy(p, q)`` on the same shares.
    """
    import numpy as np

    p, q = _shares(reference, EMPTY_SHARE), _shares(current, EMPTY_SHARE)
    p, q = p / p.sum(), q / q.sum()
    return Outcome(float(np.sum(rel_entr(p, q))), None, "shares, empty cells as 1e-4, natural log")


def _table(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    import numpy as np

    table = np.vstack((np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)))
    return table[:, table.sum(axis=0) > 0]


def rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementwise ``x log(x / y)`` (0 where x is 0), as ``scipy.special.rel_entr`` on shares."""
    import numpy as np

    out = np.zeros_like(x, dtype=np.float64)
    both = (x > 0) & (y > 0)
    out[both] = x[both] * np.log(x[both] / y[both])
    out[(x > 0) & (y <= 0)] = np.inf
    return out


def _shares(counts: np.ndarray, empty: float = 0.0) -> np.ndarray:
    import numpy as np

    counts = np.asarray(counts, dtype=np.float64)
    shares = counts / counts.sum()
    if empty:
        shares = np.where(shares == 0, empty, shares)
    return shares


# ---------------------------------------------------------------------------------------------

_NUM = frozenset({"numeric"})
_ALL = frozenset({"numeric", "categorical", "binary"})
_CAT = frozenset({"categorical", "binary"})

TESTS: tuple[StatTest, ...] = (
    StatTest("ks", "Kolmogorov-Smirnov", _NUM, "pvalue", PVALUE_THRESHOLD, ks, "samples", True, "scipy.stats.ks_2samp"),
    StatTest(
        "chi2",
        "chi-squared",
        _CAT,
        "pvalue",
        PVALUE_THRESHOLD,
        chi2,
        "counts",
        True,
        "scipy.stats.chi2_contingency(correction=False)",
    ),
    StatTest(
        "z",
        "two-proportion z-test",
        frozenset({"binary"}),
        "pvalue",
        PVALUE_THRESHOLD,
        z,
        "counts",
        True,
        "scipy.stats.chi2_contingency(correction=False) on the 2x2 table",
    ),
    StatTest(
        "wasserstein",
        "Wasserstein distance (normed)",
        _NUM,
        "distance",
        0.1,
        wasserstein,
        "samples",
        False,
        "scipy.stats.wasserstein_distance / numpy.std(reference)",
        unit="reference std",
    ),
    StatTest(
        "psi",
        "Population Stability Index",
        _ALL,
        "distance",
        0.1,
        psi,
        "counts",
        True,
        "hand-derived values (Siddiqi 2006) and scipy.special.rel_entr",
    ),
    StatTest(
        "jensenshannon",
        "Jensen-Shannon distance",
        _ALL,
        "distance",
        0.1,
        jensenshannon,
        "counts",
        True,
        "scipy.spatial.distance.jensenshannon",
    ),
    StatTest(
        "hellinger",
        "Hellinger distance",
        _ALL,
        "distance",
        0.1,
        hellinger,
        "counts",
        True,
        "hand-derived values and scipy.spatial.distance.euclidean",
    ),
    StatTest(
        "kl_div", "Kullback-Leibler divergence", _ALL, "distance", 0.1, kl_div, "counts", False, "scipy.stats.entropy"
    ),
    StatTest(
        "cramer_von_mises",
        "Cramér-von Mises",
        _NUM,
        "pvalue",
        PVALUE_THRESHOLD,
        cramer_von_mises,
        "samples",
        True,
        "scipy.stats.cramervonmises_2samp",
        needs_exact=True,
    ),
    StatTest(
        "anderson",
        "Anderson-Darling (k-sample)",
        _NUM,
        "pvalue",
        PVALUE_THRESHOLD,
        anderson,
        "samples",
        True,
        "scipy.stats.anderson_ksamp(variant='midrank')",
        needs_exact=True,
    ),
)
BY_NAME: dict[str, StatTest] = {t.name: t for t in TESTS}
TEST_NAMES: tuple[str, ...] = tuple(BY_NAME)


def get_test(name: str) -> StatTest:
    """The spec named ``name``; an unknown name is an error that lists the valid ones."""
    spec = BY_NAME.get(name.strip().lower())
    if spec is None:
        raise InvalidInput(
            f"Unknown stat test '{name}'",
            f"the drift tests are: {', '.join(TEST_NAMES)}",
            "use one of those names (see docs/drift.md for what each measures)",
        )
    return spec


def effect_test(spec: StatTest) -> StatTest:
    """The distance that decides whether a change is material: the test itself, or for a p-value
    test the default distance of its data (Wasserstein for samples, Jensen-Shannon for counts)."""
    if spec.score == "distance":
        return spec
    return BY_NAME["wasserstein" if spec.data == "samples" else "jensenshannon"]


def holm(pvalues: list[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values (monotone, at most 1), in the input's order.

    The ``i``-th smallest p-value is multiplied by ``m - i + 1`` and the running maximum taken.
    Rejecting where the adjusted value is below ``alpha`` keeps the chance of flagging *any*
    unchanged column at most ``alpha``, whatever the other columns do and however the columns
    depend on one another (Benjamini-Hochberg bounds only the expected share of false flags, so
    one real change lets chance ones through). Equals
    ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``.
    """
    import numpy as np

    p = np.asarray(pvalues, dtype=np.float64)
    if p.size == 0:
        return []
    order = np.argsort(p, kind="stable")
    ranked = p[order] * (p.size - np.arange(p.size))
    adjusted = np.minimum(np.maximum.accumulate(ranked), 1.0)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return [float(v) for v in out]
