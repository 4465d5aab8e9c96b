"""check_drift end to end on small seeded tables: verdicts, effect size first, signals, skips, report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from statsmodels.stats.multitest import multipletests

from omgml.drift.models import DriftReport
from omgml.drift.service import check_drift
from omgml.render import render


def write(folder, name: str, frame: pd.DataFrame) -> str:
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "data" / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return f"data/{name}"


def frame(n: int, seed: int, *, shift: float = 0.0, cat_flip: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.array([0.5, 0.3, 0.2])
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift * 10, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "visits": rng.poisson(3, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=p[::-1] if cat_flip else p),
            "active": rng.random(n) < 0.7,
        }
    )


def run(tmp_path, ref: pd.DataFrame, cur: pd.DataFrame, **extra) -> DriftReport:
    request = {
        "project_dir": str(tmp_path),
        "reference": write(tmp_path, "ref.parquet", ref),
        "current": write(tmp_path, "cur.parquet", cur),
        **extra,
    }
    return check_drift(request)


def by_column(report: DriftReport) -> dict:
    return {c.column: c for c in report.columns}


def test_same_distribution_does_not_drift(tmp_path):
    report = run(tmp_path, frame(3000, 1), frame(3000, 2))
    assert not report.drifted
    assert report.features_tested == 5 and report.features_drifted == 0
    assert report.verdict.startswith("No dataset drift: 0 of 5 features drifted")
    assert report.skipped == []


def test_shifted_columns_drift_and_are_named_first(tmp_path):
    report = run(tmp_path, frame(3000, 1), frame(3000, 2, shift=1.0, cat_flip=True))
    cols = by_column(report)
    assert cols["age"].drifted and cols["plan"].drifted
    assert not cols["income"].drifted and not cols["visits"].drifted
    assert report.top_columns[:2] == ["age", "plan"]  # ranked by effect / threshold
    assert report.features_drifted == 2 and not report.drifted  # 2/5 = 40% < 50%
    assert run(tmp_path, frame(3000, 1), frame(3000, 2, shift=1.0, cat_flip=True), drift_share=0.4).drifted


def test_large_samples_do_not_flag_negligible_changes(tmp_path):
    # 200,000 rows per side, age shifted by 0.03 std: KS calls it significant (p ~ 1e-17), but the
    # change is a thirtieth of a standard deviation. The distance decides: no drift.
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"age": rng.normal(0, 1, 200_000)})
    cur = pd.DataFrame({"age": rng.normal(0.03, 1, 200_000)})
    assert st.ks_2samp(ref.age, cur.age).pvalue < 1e-10
    report = run(tmp_path, ref, cur)
    col = report.columns[0]
    assert col.test == "wasserstein" and col.decision_rule == "score_above"
    assert 0.02 < col.statistic < 0.04 and not col.drifted
    assert "distance alone decides" in col.why
    # Forcing the KS test gives the p-value the seed's check used, and still no drift: significant,
    # but the effect (the same Wasserstein distance) is below its threshold.
    forced = run(tmp_path, ref, cur, tests={"age": "ks"}).columns[0]
    assert forced.test == "ks" and forced.pvalue < 1e-10 and forced.adjusted_pvalue < 1e-10
    assert forced.effect.value == pytest.approx(col.statistic, rel=1e-12) and not forced.drifted
    assert "significant yet too small to matter" in forced.decision


def test_small_samples_need_significance_and_effect(tmp_path):
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 40), "y": rng.normal(0, 1, 40)})
    cur = pd.DataFrame({"x": rng.normal(1.5, 1, 30), "y": rng.normal(0, 1, 30)})
    report = run(tmp_path, ref, cur)
    x, y = by_column(report)["x"], by_column(report)["y"]
    assert x.test == y.test == "ks" and x.decision_rule == "pvalue_below"
    assert x.drifted and x.effect.measure == "wasserstein" and x.effect.material
    # y: a chance Wasserstein distance at 30 vs 40 rows can exceed 0.1; the KS test keeps it out
    assert not y.drifted
    assert "could reach" in x.why and "Kolmogorov-Smirnov" in x.why
    # raw p-values are those of scipy; adjusted ones are Holm's over the two columns (statsmodels)
    raw = [st.ks_2samp(ref[c], cur[c]).pvalue for c in ("x", "y")]
    assert x.pvalue == pytest.approx(raw[0], rel=1e-9) and y.pvalue == pytest.approx(raw[1], rel=1e-9)
    adjusted = multipletests(raw, method="holm")[1]
    assert x.adjusted_pvalue == pytest.approx(adjusted[0], rel=1e-9)
    assert y.adjusted_pvalue == pytest.approx(adjusted[1], rel=1e-9)


def test_material_but_not_significant_is_explained(tmp_path):
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 12)})
    cur = pd.DataFrame({"x": rng.normal(0.3, 1, 10)})
    col = run(tmp_path, ref, cur).columns[0]
    assert col.test == "ks" and col.effect.material and not col.drifted
    assert "could be chance at this sample size" in col.decision


def test_holm_corrects_across_columns(tmp_path):
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({f"c{i}": rng.normal(size=60) for i in range(20)})
    cur = pd.DataFrame({f"c{i}": rng.normal(size=60) for i in range(20)})
    report = run(tmp_path, ref, cur)
    raw = [c.pvalue for c in report.columns]
    assert all(c.adjusted_pvalue >= c.pvalue for c in report.columns)
    assert [c.adjusted_pvalue for c in report.columns] == pytest.approx(
        list(multipletests(raw, method="holm")[1]), rel=1e-9
    )
    assert not report.drifted


def test_one_real_change_does_not_let_a_chance_one_through(tmp_path):
    # c0 moves by 3 std; c5 is unchanged but its KS p-value is 0.014 by chance. Benjamini-Hochberg
    # (which bounds the expected share of false flags) would flag c5 too once c0 takes the first
    # rank (adjusted 0.043 < 0.05); Holm keeps the chance of flagging any unchanged column at the
    # threshold, so only c0 drifts (c5 adjusted 0.071). Seeded: the p-values are scipy's.
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({f"c{i}": rng.normal(size=40) for i in range(6)})
    cur = pd.DataFrame({f"c{i}": rng.normal(size=40) for i in range(6)})
    cur["c0"] += 3
    raw = [st.ks_2samp(ref[c], cur[c]).pvalue for c in ref]
    assert st.false_discovery_control(raw, method="bh")[5] < 0.05 < multipletests(raw, method="holm")[1][5]
    report = run(tmp_path, ref, cur, thresholds={"ks": 0.05})
    assert [c.column for c in report.columns if c.drifted] == ["c0"]
    assert by_column(report)["c5"].adjusted_pvalue == pytest.approx(multipletests(raw, method="holm")[1][5], rel=1e-9)


def test_target_and_prediction_are_checked_first_and_decide(tmp_path):
    rng = np.random.default_rng(10)
    ref = pd.DataFrame({"f": rng.normal(size=4000), "y": rng.random(4000) < 0.2, "score": rng.random(4000)})
    cur = pd.DataFrame({"f": rng.normal(size=4000), "y": rng.random(4000) < 0.6, "score": rng.random(4000)})
    report = run(tmp_path, ref, cur, target="y", prediction="score")
    assert [c.column for c in report.columns] == ["y", "score", "f"]
    assert [c.role for c in report.columns] == ["target", "prediction", "feature"]
    assert report.columns[0].kind == "binary" and report.columns[0].drifted
    assert report.target_drifted is True and report.prediction_drifted is False
    assert report.drifted and report.features_drifted == 0  # the target alone makes it drift
    assert "the target 'y' drifted" in report.verdict


def test_target_defaults_to_the_project_config(new_project):
    rng = np.random.default_rng(12)
    ref = pd.DataFrame({"f": rng.normal(size=500), "churned": rng.random(500) < 0.3})
    cur = pd.DataFrame({"f": rng.normal(size=500), "churned": rng.random(500) < 0.3})
    report = run(new_project, ref, cur)
    assert report.columns[0].column == "churned" and report.columns[0].role == "target"
    assert "Target column 'churned' from omgml.toml." in report.notes


def test_signals_are_reported_separately(tmp_path):
    rng = np.random.default_rng(13)
    n = 2000
    ref = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["a", "b", "c", "d"], n)})
    x = rng.normal(size=n)
    x[:300] = np.nan
    x[300:360] = 50.0
    city = rng.choice(["a", "b", "c"], n).astype(object)
    city[:100] = "zz-new"
    cur = pd.DataFrame({"x": x, "city": city})
    report = run(tmp_path, ref, cur)
    signals = {s.column: s for s in report.signals}
    sx, sc = signals["x"], signals["city"]
    assert sx.null_rate_reference == 0 and sx.null_rate_current == pytest.approx(0.15)
    assert sx.out_of_range_share == pytest.approx(60 / 1700)
    assert any("null rate rose from 0.0% to 15.0%" in a for a in sx.alerts)
    assert any("outside the reference range" in a for a in sx.alerts)
    assert sc.new_categories == ["zz-new"] and sc.new_category_share == pytest.approx(0.05)
    assert sc.vanished_categories == ["d"] and sc.vanished_category_count == 1
    vanished_share = (ref.city == "d").mean()
    assert sc.alerts == [
        "5.0% of current values are in 1 category the reference lacks, e.g. 'zz-new'",
        f"1 category of the reference ({vanished_share:.1%} of its values) is absent now, e.g. 'd'",
    ]
    assert by_column(report)["x"].rows_current == 1700  # nulls are counted, never silently dropped


def test_untestable_columns_are_skipped_with_reasons(tmp_path):
    rng = np.random.default_rng(14)
    n = 500
    ref = pd.DataFrame(
        {
            "ok": rng.normal(size=n),
            "empty_now": rng.normal(size=n),
            "const": np.ones(n),
            "id": np.arange(n),
            "when": pd.date_range("2024-01-01", periods=n, freq="h"),
            "code": rng.integers(0, 5, n),
        }
    )
    cur = pd.DataFrame(
        {
            "ok": rng.normal(size=n),
            "empty_now": np.full(n, np.nan),
            "const": np.ones(n),
            "id": np.arange(n, 2 * n),
            "when": pd.date_range("2024-03-01", periods=n, freq="h"),
            "code": rng.choice(["x", "y"], n),
        }
    )
    report = run(tmp_path, ref, cur)
    reasons = {s.column: s.reason for s in report.skipped}
    assert set(reasons) == {"empty_now", "const", "id", "when", "code"}
    assert reasons["empty_now"] == "all 500 values are null in the current data"
    assert reasons["const"] == "constant on both sides (every value is 1): nothing varies to compare"
    assert reasons["id"].startswith("an identifier (every value is different, as in an identifier)")
    assert reasons["when"].startswith("a date/time column: time moves on")
    assert reasons["code"].startswith("type changed: numbers in the reference, text (")
    assert [c.column for c in report.columns] == ["ok"]
    assert {s.column for s in report.signals if s.alerts} == {"empty_now"}  # the null rate still alerts


def test_forced_tests_and_thresholds(tmp_path):
    report = run(
        tmp_path,
        frame(2000, 1),
        frame(2000, 2),
        tests={"age": "psi", "plan": "chi2", "active": "z"},
        thresholds={"psi": 0.2},
    )
    cols = by_column(report)
    assert cols["age"].test == "psi" and cols["age"].threshold == 0.2
    assert cols["age"].why == "chosen by the user (--test age=psi)"
    assert cols["plan"].test == "chi2" and cols["plan"].effect.measure == "jensenshannon"
    assert cols["active"].test == "z" and cols["active"].kind == "binary"


def test_report_is_saved_and_status_shows_monitoring(new_project):
    from omgml import project_status

    report = run(new_project, frame(500, 1), frame(500, 2, shift=2.0, cat_flip=True))
    saved = json.loads((new_project / report.report_path).read_text())
    assert report.report_path.startswith(".omgml/reports/drift/")
    assert saved["kind"] == "drift" and saved["headline"] == report.verdict and saved["ok"] is (not report.drifted)
    assert saved["columns"][0]["test"] == report.columns[0].test
    status = project_status({"project_dir": str(new_project)})
    monitoring = next(s for s in status.stages if s.name == "monitoring")
    assert monitoring.state == "done" and report.verdict in monitoring.evidence[0]


def test_markdown_gives_verdict_then_ranked_drifted_columns_capped(tmp_path):
    rng = np.random.default_rng(15)
    ref = pd.DataFrame({f"c{i:02d}": rng.normal(size=3000) for i in range(20)})
    cur = pd.DataFrame({f"c{i:02d}": rng.normal(0.2 + i * 0.05, 1, size=3000) for i in range(20)})
    report = run(tmp_path, ref, cur)
    text = render(report)
    assert text.startswith("# Drift check: DRIFT\n\nDataset drift: 20 of 20 features drifted")
    assert "…and 5 more drifted feature(s)" in text
    table = [line for line in text.splitlines() if line.startswith("| c") and not line.startswith("| column")]
    assert len(table) == 15 and table[0].startswith("| c19 |")  # largest effect first


def test_csv_and_parquet_give_the_same_verdict(tmp_path):
    ref, cur = frame(1000, 1), frame(1000, 2, shift=1.0)
    a = check_drift(
        {
            "project_dir": str(tmp_path),
            "reference": write(tmp_path, "r.csv", ref),
            "current": write(tmp_path, "c.csv", cur),
        }
    )
    b = run(tmp_path, ref, cur)
    assert [(c.column, c.test, c.drifted) for c in a.columns] == [(c.column, c.test, c.drifted) for c in b.columns]


def test_a_type_widened_mid_read_restarts_the_summaries(tmp_path):
    # The table engine widens a csv column's type when a later block does not fit and raises
    # SchemaChanged; the batches already summarized used the old type, so the scan starts over.
    from omgml.data.tables import SchemaChanged, open_table
    from omgml.drift.scan import scan_table
    from omgml.drift.summaries import NumericAccumulator

    frame(1000, 1).to_parquet(tmp_path / "t.parquet")
    real = open_table(tmp_path / "t.parquet")

    class Flaky:
        source, schema, column_names = real.source, real.schema, real.column_names
        raised = False

        def batches(self, columns):
            if not Flaky.raised:
                Flaky.raised = True
                yield from real.batches(columns)
                raise SchemaChanged("a later block did not fit", "read again", "read again")
            yield from real.batches(columns)

    plans = []
    scan = scan_table(Flaky(), lambda schema: plans.append(1) or {"age": NumericAccumulator("float", keep="all")})
    assert len(plans) == 2 and scan.rows == 1000 and scan.columns["age"].count == 1000


def test_alerts_are_ranked_by_severity_in_signals_and_next_steps(tmp_path):
    rng = np.random.default_rng(15)
    n = 1000
    ref = pd.DataFrame({"city": rng.choice(["a", "b", "c"], n), "x": rng.normal(size=n), "y": rng.normal(size=n)})
    city = rng.choice(["a", "b", "c"], n).astype(object)
    city[:50] = "zz-new"  # 5% new
    x = rng.normal(size=n)
    x[:930] = np.nan  # 0% -> 93% null
    y = rng.normal(size=n)
    y[:200] = np.nan  # 0% -> 20% null
    report = run(tmp_path, ref, pd.DataFrame({"city": city, "x": x, "y": y}))
    assert [s.column for s in report.signals] == ["x", "y", "city"]  # column order was city, x, y
    assert [s.severity for s in report.signals] == pytest.approx([0.93, 0.2, 0.05])
    assert "Check the missingness and novelty alerts on x, y, city." in report.next_steps


def test_a_null_rate_change_alerts_only_beyond_chance(tmp_path):
    # 76 rows a side, 30% against 18% null (airquality's Ozone on random halves): the two-proportion
    # z-test gives p = 0.089 (scipy's chi2_contingency on the 2x2 table), so chance; no alert.
    ref = pd.DataFrame({"v": [np.nan] * 23 + list(np.arange(53.0))})
    cur = pd.DataFrame({"v": [np.nan] * 14 + list(np.linspace(0.0, 52.0, 62))})  # inside the reference range
    assert st.chi2_contingency([[53, 23], [62, 14]], correction=False).pvalue == pytest.approx(0.0889, abs=1e-4)
    signal = run(tmp_path, ref, cur).signals[0]
    assert signal.null_rate_change == pytest.approx(14 / 76 - 23 / 76) and signal.alerts == []
    # the same rates on 20 times the rows are no longer chance (p ~ 1e-24)
    signal = run(tmp_path, pd.concat([ref] * 20), pd.concat([cur] * 20)).signals[0]
    assert signal.alerts == ["null rate fell from 30.3% to 18.4%"]
