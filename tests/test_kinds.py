"""One kind inference and one task rule, the same in every format and every service.

The engines (``omgml.data.kinds``, ``omgml.data.tasks``) are pure functions of counts; these
tests check their tables row by row, then that validation's streaming profile, drift's reference
summaries and baseline's frame give each column of one table the same kind, in csv and in
parquet. The oracle for the sniffers is Python's ``datetime`` parsing of the same strings.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from omgml import check_drift, validate_data
from omgml.baseline.features import column_facts
from omgml.data.kinds import KindStats, date_mask, id_name, infer_kind, stats_of, time_mask
from omgml.data.tables import open_table
from omgml.data.tasks import TASK_RULES, TargetFacts, decide_task
from omgml.validation.profile import PassPlan, profile_table

# ---------------------------------------------------------------- the kind table, row by row


@pytest.mark.parametrize(
    "stats, kind",
    [
        (KindStats("time", 10, 10), "time"),
        (KindStats("string", 40, 40, all_distinct=True, mean_length=5, time_text=40), "time"),
        # unique date strings are dates, not ids: parquet keeps what csv parses as date32
        (KindStats("string", 730, 730, all_distinct=True, mean_length=10, date_text=730), "datetime"),
        # row names with gaps (Wage: 7381..453870) are ids by name; the same values named otherwise are numbers
        (KindStats("integer", 1500, 1500, all_distinct=True, span=446_490, name="rownames"), "id_like"),
        (KindStats("integer", 1500, 1500, all_distinct=True, span=446_490, name="Apps"), "integer"),
        (KindStats("integer", 226, 226, all_distinct=True, span=470, name="id"), "id_like"),
        (KindStats("integer", 300, 250, all_distinct=False, span=470, name="patient_id"), "integer"),  # a group
        (KindStats("float", 300, 300, all_distinct=True, name="id"), "numeric"),  # floats are measurements
        # a 16-row half of mtcars: unique car names
        (KindStats("string", 16, 16, all_distinct=True, mean_length=12, name="rownames"), "id_like"),
        (KindStats("string", 16, 16, all_distinct=True, mean_length=12, name="car"), "id_like"),
        (KindStats("string", 8, 8, all_distinct=True, mean_length=5, name="state"), "categorical"),  # too few rows
        (KindStats("string", 8, 8, all_distinct=True, mean_length=5, name="rownames"), "id_like"),
        (KindStats("string", 4, 4, all_distinct=True, mean_length=5, name="rownames"), "categorical"),
        # car names that repeat now and then (ISLR Auto: 164 distinct in 196 rows) name rows
        (KindStats("string", 196, 164, all_distinct=False, mean_length=15), "text"),
        (KindStats("string", 120, 55, all_distinct=False, mean_length=6), "categorical"),  # under half distinct
        # msleep's genus in a 41-row half: many rare categories, which drift pools; not names
        (KindStats("string", 41, 39, all_distinct=False, mean_length=6), "categorical"),
    ],
)
def test_kind_table_rows(stats, kind):
    got, reason = infer_kind(stats)
    assert (got, bool(reason)) == (kind, True)


@pytest.mark.parametrize(
    "name, hint",
    [
        ("rownames", True),
        ("id", True),
        ("ID", True),
        ("customer_id", True),
        ("customerID", True),
        ("PassengerId", True),
        ("order.key", True),
        ("index", True),
        ("Unnamed: 0", True),
        ("uuid", True),
        ("paid", False),
        ("monkey", False),
        ("idle", False),
        ("name", False),
        ("Make", False),
        ("provnum", False),
        ("", False),
    ],
)
def test_id_name_hint(name, hint):
    assert id_name(name) is hint


def test_time_and_date_sniffers_agree_with_python_parsing():
    texts = ["08:15", "8:15", "23:59:59", "00:00:00.250", "7:05 PM", "24:00", "12:61", "8", "8:5", "2024-02-29", None]
    got = time_mask(pa.array(texts))

    def python_time(text):
        if text is None:
            return False
        for fmt in ("%H:%M", "%H:%M:%S", "%H:%M:%S.%f", "%I:%M %p"):
            try:
                dt.datetime.strptime(text, fmt)
                return len(text.split(":")[1][:2]) == 2  # minutes always written with two digits
            except ValueError:
                continue
        return False

    assert got.tolist() == [python_time(t) for t in texts]
    dates = ["2024-02-29", "2023-02-29", "31/12/2024", "2024-01-01 06:16:41", "08:15", None]
    assert date_mask(pa.array(dates)).tolist() == [True, False, True, True, False, False]


def test_stats_of_counts_like_pandas():
    series = pd.Series(["a", "bb", None, "a", "12:30", "2024-01-05"])
    stats = stats_of(pa.Array.from_pandas(series), "s")
    assert (stats.physical, stats.non_null, stats.distinct, stats.all_distinct) == (
        "string",
        series.notna().sum(),
        series.nunique(),
        False,
    )
    assert stats.mean_length == series.dropna().str.len().mean()
    assert (stats.time_text, stats.date_text, stats.numeric_text) == (1, 1, 0)
    ints = stats_of(pa.array([5, 9, None, 7]), "n")
    assert (ints.span, ints.all_distinct) == (5, True)
    assert stats_of(pa.array([1.5, float("nan"), 1.5])).non_null == 2  # NaN is missing, as in the profile


# ---------------------------------------------------------------- the same kind everywhere


def corpus_like(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """Columns whose kinds went wrong in some service or format before (issue 11)."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 86_400, n)
    days = rng.integers(0, 900, n)
    return pd.DataFrame(
        {
            "rownames": np.sort(rng.choice(np.arange(7381, 453870), n, replace=False)),  # unique, with gaps
            "car": [f"car model {i}" for i in rng.permutation(n)],  # unique names
            "title": [f"title {v}" for v in rng.integers(0, int(n * 1.5), n)],  # names that sometimes repeat
            "clock": [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in seconds],  # time32 in csv
            "hhmm": [f"{s // 3600}:{s % 3600 // 60:02d}" for s in seconds],  # text in csv too
            "day": [str(dt.date(2020, 1, 1) + dt.timedelta(days=int(d))) for d in days],
            "length": rng.normal(10, 2, n),  # all distinct floats: a measurement
            "visits": np.sort(rng.choice(np.arange(0, 20 * n), n, replace=False)),  # unique counts, spread out
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )


EXPECTED = {
    "rownames": "id_like",
    "car": "id_like",
    "title": "text",
    "clock": "time",
    "hhmm": "time",
    "day": "datetime",
    "length": "numeric",
    "visits": "integer",
    "colour": "categorical",
}
UNTESTED_BY_DRIFT = {"rownames": "an identifier", "car": "an identifier", "title": "free text or names"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_service_gives_each_column_the_same_kind(tmp_path, fmt):
    frame = corpus_like()
    path = tmp_path / f"t.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    profile = profile_table(open_table(path), PassPlan())
    assert {c.name: c.kind for c in profile.columns} == EXPECTED
    # baseline reads the file into pandas: csv's time32 becomes datetime.time objects, dates datetime64
    read = open_table(path).read_all().to_pandas()
    assert {name: column_facts(read[name], name).kind for name in read} == EXPECTED

    report = check_drift({"project_dir": str(tmp_path), "reference": path.name, "current": path.name})
    skipped = {s.column: s.reason for s in report.skipped}
    assert set(skipped) == {"rownames", "car", "title", "clock", "hhmm", "day"}
    for name, start in UNTESTED_BY_DRIFT.items():
        assert skipped[name].startswith(start), skipped[name]
    assert skipped["clock"].startswith("a time-of-day column") and skipped["hhmm"].startswith("a time-of-day column")
    assert skipped["day"].startswith("a date/time column")
    assert {c.column for c in report.columns} == {"length", "visits", "colour"}


def test_a_saved_drift_profile_keeps_date_text_a_date(tmp_path):
    """Past the profile's 1,000 kept categories the folded values count as dates when every kept one is."""
    days = [str(dt.date(2000, 1, 1) + dt.timedelta(days=i)) for i in range(3000)]
    frame = pd.DataFrame({"day": days, "x": np.arange(3000) % 7})
    frame.to_parquet(tmp_path / "ref.parquet", index=False)
    check_drift({"project_dir": str(tmp_path), "reference": "ref.parquet", "save_reference": "ref"})
    report = check_drift({"project_dir": str(tmp_path), "reference": "ref", "current": "ref.parquet"})
    reasons = {s.column: s.reason for s in report.skipped}
    assert reasons["day"].startswith("a date/time column (every value is a date stored as text)")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_time_of_day_column_passes_its_own_contract(tmp_path, fmt):
    """Issue 11: HH:MM:SS read as time32 was recorded as text, and every value of a clean file was an error."""
    frame = corpus_like(2000)[["clock", "hhmm", "colour"]]
    first, second = frame.iloc[:1000], frame.iloc[1000:]
    for part, name in ((first, "a"), (second, "b")):
        path = tmp_path / f"{name}.{fmt}"
        part.to_csv(path, index=False) if fmt == "csv" else part.to_parquet(path, index=False)
    saved = validate_data(
        {"project_dir": str(tmp_path), "data": f"a.{fmt}", "save_contract": "day", "replace_contract": True}
    )
    assert {c.name: c.kind for c in saved.column_summary}["clock"] == "time"
    checked = validate_data({"project_dir": str(tmp_path), "data": f"b.{fmt}", "contract": "day"})
    assert not [f for f in checked.findings if f.check == "dtype_mismatch"]
    # a value that is not a time of day is still caught
    bad = second.copy()
    bad.iloc[0, bad.columns.get_loc("hhmm")] = "soon"
    path = tmp_path / f"c.{fmt}"
    bad.to_csv(path, index=False) if fmt == "csv" else bad.to_parquet(path, index=False)
    report = validate_data({"project_dir": str(tmp_path), "data": f"c.{fmt}", "contract": "day"})
    mismatch = [f for f in report.findings if f.check == "dtype_mismatch"]
    assert [(f.column, f.count, f.examples) for f in mismatch] == [("hhmm", 1, ["soon"])]


# ---------------------------------------------------------------- the task table, row by row


def facts(values, name="y") -> TargetFacts:
    from omgml.baseline.tasks import target_facts

    return target_facts(pd.Series(values), name)


@pytest.mark.parametrize(
    "values, rule, task, ambiguous",
    [
        (["a"] * 30, "constant", None, False),
        ([0, 1] * 30, "two values", "binary", False),
        ([f"u{i}" for i in range(60)], "id-like text", None, False),
        (["a", "b", "c"] * 20, "text or categories", "multiclass", False),
        (list(range(100, 160)), "id-like whole numbers", None, False),
        (np.linspace(0, 1, 60), "numbers", "regression", False),
        (list(range(40)) * 2, "many whole numbers", "regression", False),
        # AER Affairs: 0, 1, 2, 3, 7, 12 over 601 rows
        ([0] * 451 + [1] * 34 + [2] * 17 + [3] * 19 + [7] * 42 + [12] * 38, "counts", "regression", False),
        ([1, 2, 3, 4, 5] * 40, "few whole numbers", "multiclass", True),  # ratings or labels?
        ([1, 2, 3, 5, 6, 7] * 40, "few codes", "multiclass", True),  # glass types 1, 2, 3, 5, 6, 7
    ],
)
def test_task_table_rows(values, rule, task, ambiguous):
    decision = decide_task(facts(values))
    assert (decision.rule, decision.task, decision.ambiguity is not None) == (rule, task, ambiguous)
    assert decision.reason


def test_every_task_rule_can_be_reached():
    reached = set()
    for values in ([1] * 9, [0, 1] * 9, list("abcdefghij"), list("aabbcc"), list(range(30)), [0.5, 1.5, 2.5] * 9):
        reached.add(decide_task(facts(values)).rule)
    for values in (list(range(30)) * 9, [0, 0, 1, 5] * 20, [1, 2, 3] * 20, [1, 3, 4] * 20):
        reached.add(decide_task(facts(values)).rule)
    assert reached == {rule.name for rule in TASK_RULES}


@pytest.mark.parametrize(
    "values, baseline, validation",
    [
        ([0] * 451 + [1] * 34 + [2] * 17 + [3] * 19 + [7] * 42 + [12] * 38, "regression", "regression"),
        ([1, 2, 3, 4, 5] * 40, "multiclass", "classification"),
        ([0, 1] * 50, "binary", "classification"),
        (list(np.arange(50) * 1.5), "regression", "regression"),
        (["low", "mid", "high"] * 30, "multiclass", "classification"),
    ],
)
def test_validation_and_baseline_infer_the_same_task(tmp_path, values, baseline, validation):
    from omgml.baseline.tasks import infer_task, target_facts

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": values, "x": rng.normal(size=len(values))})
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert infer_task(target_facts(frame["y"], "y"))[0] == baseline
    report = validate_data({"project_dir": str(tmp_path), "data": "t.csv", "target": "y"})
    runs = {r.check: r for r in report.checks}
    assert (runs["class_imbalance"].status == "ran") is (validation == "classification")
    assert (runs["label_conflict"].status == "ran") is (validation == "classification")
    ambiguous = [n for n in report.notes if n.startswith("Task for 'y' assumed")]
    assert bool(ambiguous) is (values == [1, 2, 3, 4, 5] * 40)
