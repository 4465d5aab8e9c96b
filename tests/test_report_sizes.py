"""The HTML reports stay small on wide tables: under 1 MB at 50 columns, under 3 MB at 500 (issue 15).

The tables are synthetic but shaped like real ones: 2,400 rows of floats, counts, money with gaps, categories and
flags, and the current batch drifts in the first half of its columns (shifted means, scaled counts, a new category,
more gaps), so the drift report draws a chart per drifted column and the validation report, checked against a
contract saved from the reference, lists findings for them: the large case of each report, not the quiet one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omgml import check_drift, validate_data

ROWS = 2_400
LIMITS = {50: 1_000_000, 500: 3_000_000}
KINDS = ("score", "visits", "amount", "segment", "active")


def column(kind: str, rows: int, rng: np.random.Generator, drifted: bool) -> np.ndarray:
    if kind == "score":
        return rng.normal(0.8 if drifted else 0.0, 1.0, rows)
    if kind == "visits":
        return rng.poisson(6.0 if drifted else 4.0, rows)
    if kind == "amount":
        values = rng.lognormal(3.5 if drifted else 3.0, 0.8, rows).round(2)
        values[rng.random(rows) < (0.2 if drifted else 0.03)] = np.nan
        return values
    if kind == "segment":
        levels = np.array(
            ["retail", "wholesale", "online", "partner", "staff", "trial"] + (["reseller"] if drifted else [])
        )
        weights = np.arange(len(levels), 0, -1, dtype=float) if not drifted else np.ones(len(levels))
        return rng.choice(levels, rows, p=weights / weights.sum())
    return rng.random(rows) < (0.6 if drifted else 0.3)


def tables(folder: Path, width: int) -> None:
    """reference.parquet and current.parquet, ``width`` columns each; the current one drifts in its first half."""
    rng = np.random.default_rng(width)
    names = [f"{KINDS[i % len(KINDS)]}_{i:03d}" for i in range(width)]
    reference = pd.DataFrame({n: column(KINDS[i % len(KINDS)], ROWS, rng, False) for i, n in enumerate(names)})
    current = pd.DataFrame({n: column(KINDS[i % len(KINDS)], ROWS, rng, i < width // 2) for i, n in enumerate(names)})
    reference.to_parquet(folder / "reference.parquet", index=False)
    current.to_parquet(folder / "current.parquet", index=False)


@pytest.mark.parametrize("width", sorted(LIMITS))
def test_drift_and_validation_html_stay_under_the_size_limit(tmp_path, width):
    tables(tmp_path, width)
    project = str(tmp_path)
    drift = check_drift({"project_dir": project, "reference": "reference.parquet", "current": "current.parquet"})
    validate_data({"project_dir": project, "data": "reference.parquet", "save_contract": "wide.yaml"})
    validation = validate_data({"project_dir": project, "data": "current.parquet", "contract": "wide.yaml"})
    # The large case: most drifted columns flagged, a finding on many of them.
    assert sum(c.drifted for c in drift.columns) >= 0.4 * width
    assert len({f.column for f in validation.findings}) >= 0.2 * width
    sizes = {
        kind: (tmp_path / r.html_path).stat().st_size for kind, r in (("drift", drift), ("validation", validation))
    }
    print(f"{width} columns x {ROWS} rows: " + ", ".join(f"{k} HTML {v / 1e6:.3f} MB" for k, v in sizes.items()))
    for kind, size in sizes.items():
        assert size < LIMITS[width], f"{kind} HTML at {width} columns is {size:,} bytes (limit {LIMITS[width]:,})"
