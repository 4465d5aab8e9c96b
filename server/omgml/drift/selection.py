"""Which test a column gets: an ordered table of (condition, test, reason); the first row that holds wins.

The question each row answers is whether the column's distance alone can decide. A distance
(Wasserstein, Jensen-Shannon) measures how much a distribution changed, which is what matters;
but on a small sample it also moves by chance. Its *chance level* is the distance two samples
of this size from one distribution reach rarely (details below). When the chance level is at
or below the distance's threshold, any distance above the threshold is real: the distance
decides alone. Otherwise a significance test runs too, and a column drifts only when the
change is both material (distance at or above its threshold) and significant (p-value below
its threshold after Holm's correction across columns).

Chance levels, with ``n_eff = n_ref * n_cur / (n_ref + n_cur)``:

- Jensen-Shannon over ``k`` cells: under H0, ``8 n_eff JSD`` is about chi-squared with ``k - 1``
  degrees of freedom (second-order expansion of the divergence), so the chance level is
  ``sqrt(q / (8 n_eff))`` with ``q`` Laurent and Massart's bound on the chi-squared quantile
  that is exceeded at most 1 time in 1000 (``chi2_upper_quantile``).
- Wasserstein normed by the std: its chance mean is ``sqrt(2/pi) * integral sqrt(F (1 - F)) dx /
  (std sqrt(n_eff))`` (the Brownian-bridge limit), which is ``1.29 / sqrt(n_eff)`` for a normal
  column; the chance level is 4 times that, above what normal and lognormal samples reached in
  simulation (2 to 3 times the mean).

The table depends only on the column's kind, the row counts and the thresholds, never on how
the data was stored, so a raw reference and its saved profile pick the same test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

WASSERSTEIN_CHANCE_MEAN = 1.29  # sqrt(2/pi) * integral sqrt(Phi (1 - Phi)) dz, normal reference
WASSERSTEIN_CHANCE_FACTOR = 4.0
JS_CHANCE_PROBABILITY = 0.001


@dataclass(frozen=True)
class Facts:
    """What the selection table reads about one column."""

    kind: str  # numeric | categorical | binary
    n_reference: int
    n_current: int
    cells: int  # categories (or 2 for binary) the counts tests compare
    distance_threshold: float  # of the distance that would decide alone

    @property
    def n_effective(self) -> float:
        return self.n_reference * self.n_current / (self.n_reference + self.n_current)

    @property
    def chance_level(self) -> float:
        return chance_level(self.kind, self.n_effective, self.cells)

    @property
    def distance_decides(self) -> bool:
        return self.chance_level <= self.distance_threshold


def chance_level(kind: str, n_effective: float, cells: int) -> float:
    """A distance two samples of this size from one distribution rarely exceed (see the module doc)."""
    if kind == "numeric":
        return WASSERSTEIN_CHANCE_FACTOR * WASSERSTEIN_CHANCE_MEAN / math.sqrt(n_effective)
    return math.sqrt(chi2_upper_quantile(max(cells - 1, 1), JS_CHANCE_PROBABILITY) / (8 * n_effective))


def chi2_upper_quantile(df: int, probability: float) -> float:
    """A value a chi-squared variable with ``df`` degrees of freedom exceeds with at most this probability.

    Laurent and Massart (2000), Lemma 1: ``P(X >= df + 2 sqrt(df x) + 2x) <= exp(-x)``. A closed
    form (no scipy at selection time), a little above the exact quantile: 20.1 against 10.8 for
    one degree of freedom, 99.6 against 85.4 for 49.
    """
    x = -math.log(probability)
    return df + 2 * math.sqrt(df * x) + 2 * x


@dataclass(frozen=True)
class Row:
    condition: str
    holds: Callable[[Facts], bool]
    test: str
    reason: str  # formatted with the facts


def _sizes(f: Facts) -> str:
    return f"{f.n_reference:,} reference and {f.n_current:,} current values"


ROWS: tuple[Row, ...] = (
    Row(
        "two values, small samples",
        lambda f: f.kind == "binary" and not f.distance_decides,
        "z",
        "two values and {sizes}: the Jensen-Shannon distance could reach {chance:.3g} by chance "
        "(threshold {threshold:g}), so the two-proportion z-test must also find the change significant",
    ),
    Row(
        "two values",
        lambda f: f.kind == "binary",
        "jensenshannon",
        "two values and {sizes}: a chance Jensen-Shannon distance stays below {chance:.3g} "
        "(threshold {threshold:g}), so the distance alone decides",
    ),
    Row(
        "categories, small samples",
        lambda f: f.kind == "categorical" and not f.distance_decides,
        "chi2",
        "{cells} categories and {sizes}: the Jensen-Shannon distance could reach {chance:.3g} by chance "
        "(threshold {threshold:g}), so the chi-squared test must also find the change significant",
    ),
    Row(
        "categories",
        lambda f: f.kind == "categorical",
        "jensenshannon",
        "{cells} categories and {sizes}: a chance Jensen-Shannon distance stays below {chance:.3g} "
        "(threshold {threshold:g}), so the distance alone decides",
    ),
    Row(
        "numbers, small samples",
        lambda f: f.kind == "numeric" and not f.distance_decides,
        "ks",
        "numeric with {sizes}: the normed Wasserstein distance could reach {chance:.3g} std by chance "
        "(threshold {threshold:g}), so the Kolmogorov-Smirnov test must also find the change significant",
    ),
    Row(
        "numbers",
        lambda f: f.kind == "numeric",
        "wasserstein",
        "numeric with {sizes}: a chance Wasserstein distance stays below {chance:.3g} std "
        "(threshold {threshold:g}), so the distance alone decides",
    ),
)


def select_test(facts: Facts) -> tuple[str, str]:
    """The test for a column and why, from the first row of ``ROWS`` that holds."""
    for row in ROWS:
        if row.holds(facts):
            reason = row.reason.format(
                sizes=_sizes(facts), chance=facts.chance_level, threshold=facts.distance_threshold, cells=facts.cells
            )
            return row.test, reason
    raise AssertionError(f"no selection row holds for kind {facts.kind!r}")  # pragma: no cover
