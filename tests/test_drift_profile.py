"""Saved reference profiles: built from mergeable per-batch summaries, same verdicts as raw data.

The documented bound (docs/drift.md): a column the profile keeps exactly (at most 5,000
distinct values) gives the raw statistic to rounding; a binned column gives a statistic within
its ``statistic_bound`` of the raw one, and the same decision unless it is ``near_threshold``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omgml.drift.profile import load_profile, profile_path
from omgml.drift.service import check_drift
from omgml.drift.summaries import EXACT_CAP, MAX_CATEGORIES, CategoryAccumulator, NumericAccumulator


def write(folder, name: str, frame: pd.DataFrame, **kwargs) -> str:
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "data" / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, **kwargs)
    return f"data/{name}"


def scenario(n_ref: int, n_cur: int, seed: int, shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def make(n, s):
        return pd.DataFrame(
            {
                "normal": rng.normal(s, 1, n),
                "skewed": rng.lognormal(s, 1, n),
                "counts": rng.poisson(4 + 4 * s, n).astype("int64"),
                "price": np.round(rng.gamma(2 + s, 10, n), 2),
                "plan": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1] if s == 0 else [0.1, 0.2, 0.3, 0.4]),
                "flag": rng.random(n) < (0.3 + s / 4),
            }
        )

    return make(n_ref, 0.0), make(n_cur, shift)


def compare_modes(tmp_path, ref, cur, **extra):
    project = str(tmp_path)
    r, c = write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.parquet", cur)
    raw = check_drift({"project_dir": project, "reference": r, "current": c, "save_reference": "base", **extra})
    prof = check_drift({"project_dir": project, "reference": "base", "current": c, **extra})
    return raw, prof


CASES = [
    (20_000, 15_000, 1, 0.0),  # binned floats, distances decide
    (20_000, 15_000, 2, 0.3),
    (30_000, 400, 3, 0.5),  # big reference, small current: KS on a binned reference
    (30_000, 400, 4, 0.0),
    (800, 700, 5, 0.4),  # small: the profile is exact
]


@pytest.mark.parametrize("n_ref,n_cur,seed,shift", CASES)
def test_profile_gives_the_raw_verdicts_within_the_bound(tmp_path, n_ref, n_cur, seed, shift):
    raw, prof = compare_modes(tmp_path, *scenario(n_ref, n_cur, seed, shift))
    assert raw.drifted == prof.drifted and raw.verdict.split(". Most")[0] == prof.verdict.split(". Most")[0]
    assert [c.column for c in raw.columns] == [c.column for c in prof.columns]
    for a, b in zip(raw.columns, prof.columns):
        assert (a.test, a.kind, a.rows_reference, a.rows_current) == (b.test, b.kind, b.rows_reference, b.rows_current)
        assert a.statistic_bound == 0
        assert abs(a.statistic - b.statistic) <= b.statistic_bound + 1e-9 * max(1.0, abs(a.statistic))
        assert abs(a.effect.value - b.effect.value) <= 1e-9 + (
            b.statistic_bound if b.score_kind == "distance" else abs(a.effect.value - b.effect.value)
        )
        if not b.near_threshold:
            assert a.drifted == b.drifted, (a.column, a.decision, b.decision)
        if b.statistic_bound == 0:  # exact column: the same numbers
            assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)
            assert (b.pvalue is None) == (a.pvalue is None)
            if a.pvalue is not None:
                assert b.pvalue == pytest.approx(a.pvalue, rel=1e-9, abs=1e-300)
    assert [(s.column, s.alerts) for s in raw.signals] == [(s.column, s.alerts) for s in prof.signals]


def test_small_reference_profiles_are_exact(tmp_path):
    raw, prof = compare_modes(tmp_path, *scenario(3_000, 2_000, 9, 0.2))
    profile = load_profile(tmp_path, "base")
    assert profile.columns["normal"].values is not None and profile.columns["normal"].buckets is None
    assert all(c.statistic_bound == 0 and not c.near_threshold for c in prof.columns)
    for a, b in zip(raw.columns, prof.columns):
        assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-15)


def test_large_reference_profile_is_binned_and_compact(tmp_path):
    raw, prof = compare_modes(tmp_path, *scenario(50_000, 50_000, 10, 0.0))
    profile = load_profile(tmp_path, "base")
    normal = profile.columns["normal"]
    assert normal.values is None and 200 < len(normal.buckets.ids) < 1_500
    assert profile.columns["counts"].values is not None  # few distinct integers stay exact
    assert profile.columns["plan"].categories == ["a", "b", "c", "d"]
    assert profile_path(tmp_path, "base").stat().st_size < 200_000
    assert raw.saved_reference == ".omgml/references/base.json"
    binned = {c.column: c for c in prof.columns if c.statistic_bound > 0}
    assert set(binned) >= {"normal", "skewed"}
    assert all(c.statistic_bound < 0.02 for c in binned.values())
    assert any("compared on binned values" in note for note in prof.notes)


def test_streamed_profile_equals_the_profile_built_during_a_check(tmp_path):
    ref, cur = scenario(20_000, 1_000, 11, 0.0)
    r, c = write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.parquet", cur)
    check_drift({"project_dir": str(tmp_path), "reference": r, "current": c, "save_reference": "during"})
    only = check_drift({"project_dir": str(tmp_path), "reference": r, "save_reference": "streamed"})
    assert only.checked is False and only.columns == [] and only.report_path is None
    assert only.verdict.startswith("Saved the reference profile 'streamed' (20,000 rows, 6 of 6 columns profiled)")
    assert (
        not (tmp_path / ".omgml" / "reports" / "drift").exists()
        or len(list((tmp_path / ".omgml" / "reports" / "drift").glob("*.json"))) == 1
    )
    a = json.loads(profile_path(tmp_path, "during").read_text())
    b = json.loads(profile_path(tmp_path, "streamed").read_text())
    for name in a["columns"]:
        ca, cb = a["columns"][name], b["columns"][name]
        for key in ("mean", "std"):
            if key in ca:
                assert ca.pop(key) == pytest.approx(cb.pop(key), rel=1e-12)
        assert ca == cb, name


def test_profiles_do_not_depend_on_batching(tmp_path):
    ref, _ = scenario(40_000, 10, 12, 0.0)
    write(tmp_path, "one.parquet", ref)
    write(tmp_path, "many.parquet", ref, row_group_size=3_000)
    write(tmp_path, "text.csv", ref)
    for name in ("one.parquet", "many.parquet", "text.csv"):
        check_drift(
            {"project_dir": str(tmp_path), "reference": f"data/{name}", "save_reference": name.replace(".", "_")}
        )
    profiles = [json.loads(profile_path(tmp_path, n).read_text())["columns"] for n in ("one_parquet", "many_parquet")]
    for name in profiles[0]:
        a, b = profiles[0][name], profiles[1][name]
        for key in ("mean", "std"):
            if key in a:
                assert a.pop(key) == pytest.approx(b.pop(key), rel=1e-12)
        assert a == b, name
    csv = json.loads(profile_path(tmp_path, "text_csv").read_text())["columns"]
    assert (
        csv["normal"]["buckets"]
        == json.loads(profile_path(tmp_path, "one_parquet").read_text())["columns"]["normal"]["buckets"]
    )


def test_many_categories_keep_the_most_frequent_and_an_other_bucket(tmp_path):
    rng = np.random.default_rng(13)
    n = 30_000
    codes = np.minimum(rng.zipf(1.3, n), 3_000)
    ref = pd.DataFrame({"code": [f"k{c}" for c in codes], "x": rng.normal(size=n)})
    cur = pd.DataFrame({"code": [f"k{c}" for c in np.minimum(rng.zipf(1.3, n), 3_000)], "x": rng.normal(size=n)})
    raw, prof = compare_modes(tmp_path, ref, cur)
    col = load_profile(tmp_path, "base").columns["code"]
    assert len(col.categories) == MAX_CATEGORIES and col.other_count > 0 and col.other_distinct > 0
    a, b = raw.columns[0], prof.columns[0]
    assert a.column == "code" and a.test == b.test
    assert b.statistic == pytest.approx(a.statistic, rel=1e-9)  # both fold into the same cells


def test_rare_categories_pool_into_the_same_cells_from_a_profile(tmp_path):
    # 400 categories in 1,500 rows, most seen a few times, and current values the reference lacks:
    # the pooled cells (expected count >= 5 a side) are the same from the raw file and the profile.
    rng = np.random.default_rng(15)
    weights = 1.0 / np.arange(1, 401)
    names = np.array([f"g{i}" for i in range(400)])
    ref = pd.DataFrame({"genus": rng.choice(names, 1_500, p=weights / weights.sum()), "x": rng.normal(size=1_500)})
    cur = pd.DataFrame({"genus": rng.choice(names, 1_000, p=weights / weights.sum()), "x": rng.normal(size=1_000)})
    cur.loc[:40, "genus"] = [f"new{i}" for i in range(41)]
    raw, prof = compare_modes(tmp_path, ref, cur)
    a, b = raw.columns[0], prof.columns[0]
    assert a.column == "genus" and a.test == b.test == "chi2" and not a.drifted
    assert (b.statistic, b.pvalue) == pytest.approx((a.statistic, a.pvalue), rel=1e-9)


def test_accumulators_merge_to_the_single_pass_summary():
    rng = np.random.default_rng(14)
    values = np.concatenate([rng.normal(size=9_000), [np.nan, np.inf, -np.inf]])
    arrays = [pa.array(part) for part in np.array_split(values, 7)]
    whole = NumericAccumulator("float", keep="distinct", cap=EXACT_CAP)
    whole.update(pa.array(values))
    parts = []
    for arr in arrays:
        acc = NumericAccumulator("float", keep="distinct", cap=EXACT_CAP)
        acc.update(arr)
        parts.append(acc)
    merged = parts[3]
    for acc in parts[:3] + parts[4:]:
        merged.merge(acc)
    a, b = whole.finalize(), merged.finalize()
    assert (
        (a.count, a.nulls, a.pos_inf, a.neg_inf, a.minimum, a.maximum, a.distinct)
        == (b.count, b.nulls, b.pos_inf, b.neg_inf, b.minimum, b.maximum, b.distinct)
        == (9_000, 1, 1, 1, a.minimum, a.maximum, None)
    )
    assert b.mean == pytest.approx(np.mean(values[:9_000]), rel=1e-12)
    assert b.std == pytest.approx(np.std(values[:9_000]), rel=1e-12)
    cats = pa.array(rng.choice(["x", "y", None, "z"], 5_000).tolist())
    one = CategoryAccumulator("string")
    one.update(cats)
    left, right = CategoryAccumulator("string"), CategoryAccumulator("string")
    left.update(cats.slice(0, 1_234))
    right.update(cats.slice(1_234))
    right.merge(left)
    x, y = one.finalize(), right.finalize()
    assert (x.values, list(x.counts), x.nulls, x.rows) == (y.values, list(y.counts), y.nulls, y.rows)
