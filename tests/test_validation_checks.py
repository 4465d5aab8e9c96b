"""Every registered check: on data made to hold exactly its defect it fires with the exact count, on clean data it is silent.

The clean table has a target, a key, a saved contract and a disjoint test table, so every check
runs. Each defect copies it and breaks one thing; expected counts come from how the defect was
made (and, for duplicates, from pandas on the same frame).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omgml.validation.checks import CHECK_IDS, CHECKS
from omgml.validation.service import validate_data

ROWS = 300


def clean_frame(seed: int = 0, rows: int = ROWS, start_id: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(start_id, start_id + rows),
            "num": rng.normal(size=rows).round(6),
            "count": rng.integers(0, 50, rows),
            "cat": rng.choice(["red", "green", "blue"], rows),
            "flag": rng.choice([True, False], rows),
            "day": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "label": rng.permutation(np.arange(rows) % 2),
        }
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the clean table, its contract ('base') and a disjoint test table."""
    clean_frame().to_csv(tmp_path / "train.csv", index=False)
    clean_frame(seed=1, start_id=10_001).to_csv(tmp_path / "test.csv", index=False)
    validate_data(
        {"project_dir": str(tmp_path), "data": "train.csv", "save_contract": "base", "target": "label", "keys": ["id"]}
    )
    return tmp_path


FULL = {"contract": "base", "target": "label", "keys": ["id"], "against": "test.csv"}
NO_CONTRACT = {"target": "label", "keys": ["id"]}
NO_CONTRACT_NO_KEY = {"target": "label"}


def run(project: Path, frame_or_text, request: dict, name: str = "data.csv"):
    path = project / name
    if isinstance(frame_or_text, pd.DataFrame):
        if name.endswith(".parquet"):
            frame_or_text.to_parquet(path, index=False)
        else:
            frame_or_text.to_csv(path, index=False)
    else:
        path.write_text(frame_or_text, encoding="utf-8")
    return validate_data({"project_dir": str(project), "data": name, **request})


def _set(frame: pd.DataFrame, rows, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    if frame[column].dtype != object and isinstance(value, str):
        frame[column] = frame[column].astype(object)
    frame.loc[rows, column] = value
    return frame


def defect_duplicate_rows():
    frame = clean_frame()
    frame = pd.concat([frame, frame.iloc[[3, 7, 7]]], ignore_index=True)
    expected = int(frame.duplicated().sum())  # the pandas oracle
    assert expected == 3
    return frame, NO_CONTRACT_NO_KEY, "duplicate_rows", None, expected


def defect_label_conflict():
    frame = clean_frame()
    flipped = frame.iloc[[5, 6, 8]].assign(id=[901, 902, 903], label=lambda f: 1 - f["label"])
    return pd.concat([frame, flipped], ignore_index=True), FULL, "label_conflict", "label", 6


def defect_train_test_overlap(project: Path):
    test = pd.concat(
        [clean_frame(seed=1, start_id=10_001), clean_frame().iloc[[0, 10, 20, 30]].assign(id=[1, 2, 3, 4])]
    )
    test.to_csv(project / "test_overlap.csv", index=False)
    return clean_frame(), {**FULL, "against": "test_overlap.csv"}, "train_test_overlap", None, 4


def defect_class_imbalance():
    frame = clean_frame()
    frame["label"] = (np.arange(ROWS) % 25 == 0).astype(int)  # 12 ones, 288 zeros
    return frame, NO_CONTRACT, "class_imbalance", "label", 12


DEFECTS = {
    "empty_dataset": lambda p: ("id,num,label\n", {}, "empty_dataset", None, 0),
    "duplicate_column_names": lambda p: ("a,b,a\n1,2,3\n4,5,6\n", {}, "duplicate_column_names", "a", 2),
    "ragged_rows": lambda p: (
        "a,b\n" + "".join(f"{i * 1.5},{i % 3}\n" for i in range(30)) + "1,2,3\n5,6,7\n",
        {},
        "ragged_rows",
        None,
        2,
    ),
    "missing_column": lambda p: (clean_frame().drop(columns="cat"), FULL, "missing_column", "cat", ROWS),
    "unexpected_column": lambda p: (
        clean_frame().assign(extra=np.arange(ROWS) % 7),
        FULL,
        "unexpected_column",
        "extra",
        ROWS,
    ),
    "dtype_mismatch": lambda p: (
        _set(clean_frame().astype({"count": float}), [1, 2, 3], "count", 2.5),
        FULL,
        "dtype_mismatch",
        "count",
        3,
    ),
    "single_column": lambda p: ("a;b;c\n1;2;3\n4;5;6\n", {"delimiter": ","}, "single_column", "a;b;c", 2),
    "target_nulls": lambda p: (_set(clean_frame(), [0, 4, 9, 16, 25], "label", None), FULL, "target_nulls", "label", 5),
    "all_null_column": lambda p: (clean_frame().assign(empty=None), NO_CONTRACT, "all_null_column", "empty", ROWS),
    "null_rate": lambda p: (_set(clean_frame(), [2, 3, 5], "num", None), FULL, "null_rate", "num", 3),
    "duplicate_keys": lambda p: (_set(clean_frame(), [10, 20], "id", 6), FULL, "duplicate_keys", "id", 2),
    "duplicate_rows": lambda p: defect_duplicate_rows(),
    "infinite_values": lambda p: (_set(clean_frame(), [7, 8], "num", np.inf), FULL, "infinite_values", "num", 2),
    "out_of_range": lambda p: (_set(clean_frame(), [1, 2, 3], "count", 1000), FULL, "out_of_range", "count", 3),
    "unseen_category": lambda p: (  # a tenth of the rows: more than a sample of 300 can miss (a few: a warning)
        _set(clean_frame(), list(range(1, ROWS, 10)), "cat", "purple"),
        FULL,
        "unseen_category",
        "cat",
        ROWS // 10,
    ),
    "mixed_types": lambda p: (
        _set(clean_frame(), [4, 8, 15, 16, 23, 42], "count", "unknown"),
        NO_CONTRACT,
        "mixed_types",
        "count",
        6,
    ),
    "category_variants": lambda p: (
        _set(_set(clean_frame(), [0, 1, 2, 3, 4], "cat", "Red "), [5, 6, 7], "cat", "RED"),
        NO_CONTRACT,
        "category_variants",
        "cat",
        8,
    ),
    "unparseable_dates": lambda p: (
        _set(clean_frame(), [3, 30, 60, 90], "day", "2024-02-30"),
        NO_CONTRACT,
        "unparseable_dates",
        "day",
        4,
    ),
    "constant_column": lambda p: (clean_frame().assign(const=7), NO_CONTRACT, "constant_column", "const", ROWS),
    "id_like_column": lambda p: (clean_frame(), {"target": "label"}, "id_like_column", "id", ROWS),
    "class_imbalance": lambda p: defect_class_imbalance(),
    "label_conflict": lambda p: defect_label_conflict(),
    "target_leakage": lambda p: (
        clean_frame().assign(leak=lambda f: np.where(f["label"] == 1, "yes", "no")),
        NO_CONTRACT,
        "target_leakage",
        "leak",
        None,
    ),
    "train_test_overlap": defect_train_test_overlap,
}


def test_every_check_has_a_defect_test():
    assert set(DEFECTS) == set(CHECK_IDS)
    assert len(CHECK_IDS) == len(set(CHECK_IDS))


def test_every_check_spec_is_complete():
    for spec in CHECKS:
        assert spec.severity in ("error", "warning", "info") and spec.looks_at and spec.group
        assert set(spec.needs) <= {"rows", "contract", "target", "classes", "keys", "against"}


def test_clean_data_is_silent_with_every_check_running(project):
    report = run(project, clean_frame(), FULL)
    assert report.findings == []
    assert report.passed
    assert {c.check for c in report.checks if c.status == "ran"} == set(CHECK_IDS)


def test_clean_data_without_contract_is_silent(project):
    assert run(project, clean_frame(), NO_CONTRACT).findings == []


def test_clean_parquet_is_silent(project):
    frame = clean_frame()
    frame["day"] = pd.to_datetime(frame["day"])
    assert run(project, frame, NO_CONTRACT, name="data.parquet").findings == []


@pytest.mark.parametrize("check", sorted(DEFECTS))
def test_check_finds_exactly_its_defect(project, check):
    data, request, expected_check, column, count = DEFECTS[check](project)
    report = run(project, data, request)
    fired = {f.check for f in report.findings}
    assert fired == {expected_check}, [(f.check, f.column, f.count, f.message) for f in report.findings]
    finding = next(f for f in report.findings if f.check == expected_check)
    assert finding.column == column
    if count is not None:
        assert finding.count == count
    assert finding.message and finding.suggestion and len(finding.examples) <= 5
    spec = next(s for s in CHECKS if s.id == expected_check)
    assert finding.severity == spec.severity
    assert report.passed == (spec.severity != "error")


@pytest.mark.parametrize("null_id", [False, True])
def test_duplicate_counts_match_pandas_beside_a_distinct_column(project, null_id):
    """The shortcut that skips the sort when a column is distinct on every row must not change counts."""
    frame = clean_frame()
    frame["code"] = frame["id"].astype(str)  # distinct on every row...
    frame = pd.concat([frame, frame.iloc[[2, 5]]], ignore_index=True)  # ...until rows repeat
    if null_id:
        frame.loc[[0, 1], "code"] = None
    expected_rows = int(frame.duplicated().sum())
    expected_keys = int(frame["code"].duplicated().sum())  # pandas, like omgml, treats missing keys as equal
    report = run(project, frame, {"target": "label", "keys": ["code"]})
    found = {f.check: f.count for f in report.findings}
    assert found.get("duplicate_rows", 0) == expected_rows == 2
    assert found.get("duplicate_keys", 0) == expected_keys == (3 if null_id else 2)
    distinct = clean_frame()
    distinct["code"] = distinct["id"].astype(str)
    silent = run(project, distinct, {"target": "label", "keys": ["code"]}, name="distinct.csv")
    assert not {"duplicate_rows", "duplicate_keys"} & {f.check for f in silent.findings}


def test_label_conflict_is_for_class_targets_only(project):
    """Issue 11: equal features with different wages are noise, not 11,734 conflicts."""
    frame = clean_frame()
    frame["wage"] = np.random.default_rng(4).normal(100, 20, ROWS).round(2)
    twins = frame.iloc[[5, 6, 8]].assign(id=[901, 902, 903], wage=lambda f: f["wage"] + 1)
    data = pd.concat([frame, twins], ignore_index=True)
    report = run(project, data, {"target": "wage"})
    runs = {r.check: r for r in report.checks}
    assert runs["label_conflict"].status == "skipped"
    assert runs["label_conflict"].reason == (
        f"the target is taken as regression ('wage' holds numbers with fractions ({data['wage'].nunique()} distinct "
        "values)): checks of class labels do not apply"
    )
    assert "label_conflict" not in {f.check for f in report.findings}


def test_an_ambiguous_task_is_a_note_that_says_how_to_override(project):
    frame = clean_frame()
    frame["rating"] = np.arange(ROWS) % 5 + 1
    report = run(project, frame, {"target": "rating"})
    assert report.notes == [
        (
            "Task for 'rating' assumed classification (multiclass): 'rating' could also be a rating or a small count "
            '(1, 2, 3, 4, 5); it was taken as class labels. If that is wrong, set target = "rating" and task = '
            '"regression" in omgml.toml (train_baseline also takes --task regression).'
        )
    ]
    assert {r.check: r.status for r in report.checks}["label_conflict"] == "ran"
