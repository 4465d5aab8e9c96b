"""Every input drift cannot use is refused with a message that says what, why and how to fix it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omgml.drift.service import check_drift
from omgml.errors import OmgmlError


@pytest.fixture
def project(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "data").mkdir()
    pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["x", "y", "z"], 200)}).to_csv(
        tmp_path / "data/ref.csv", index=False
    )
    pd.DataFrame({"a": rng.normal(size=150), "b": rng.choice(["x", "y", "z"], 150)}).to_csv(
        tmp_path / "data/cur.csv", index=False
    )
    return tmp_path


def fails(project, **request) -> str:
    args = {"project_dir": str(project), "reference": "data/ref.csv", "current": "data/cur.csv", **request}
    with pytest.raises(OmgmlError) as info:
        check_drift(args)
    return str(info.value)


def test_no_common_columns(project):
    pd.DataFrame({"c": [1.0] * 10, "d": ["q"] * 10}).to_csv(project / "data/other.csv", index=False)
    assert fails(project, current="data/other.csv") == (
        "The reference and the current data have no column in common. Reference columns: a, b; current columns: c, d. "
        "Fix: compare tables with the same column names (check the header and the delimiter)."
    )


def test_numeric_in_one_file_and_text_in_the_other(project):
    pd.DataFrame({"a": ["ten", "eleven"] * 50, "b": ["x", "y"] * 50}).to_csv(project / "data/text.csv", index=False)
    report = check_drift({"project_dir": str(project), "reference": "data/ref.csv", "current": "data/text.csv"})
    assert report.skipped[0].column == "a"
    assert report.skipped[0].reason == (
        "type changed: numbers in the reference, text (string) in the current data; a few non-numeric values turn "
        "a csv column into text (run a validation to find them)"
    )
    pd.DataFrame({"a": ["ten", "eleven"] * 50}).to_csv(project / "data/only_a.csv", index=False)
    message = fails(project, current="data/only_a.csv")
    assert message.startswith(
        "None of the 1 compared column(s) could be tested. A: type changed: numbers in the "
        "reference, text (string) in the current data"
    )


def test_empty_current_data(project):
    (project / "data/header.csv").write_text("a,b\n")
    assert fails(project, current="data/header.csv") == (
        "The current data data/header.csv has no rows. There is nothing to compare. "
        "Fix: check the file (a csv needs a header and at least one data row)."
    )
    (project / "data/zero.csv").write_text("")
    assert "is empty (0 bytes)" in fails(project, current="data/zero.csv")


def test_one_row(project):
    (project / "data/one.csv").write_text("a,b\n1.5,x\n")
    assert fails(project, current="data/one.csv") == (
        "The current data data/one.csv has 1 row(s). Comparing distributions needs at least 5 rows on each side. "
        "Fix: check more rows at once (for example a day of data instead of one request)."
    )
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "b": ["x"] * 6}).to_parquet(project / "data/six.parquet")
    pd.DataFrame({"a": [1.0], "b": ["x"]}).to_parquet(project / "data/one.parquet")
    assert fails(project, reference="data/one.parquet", current="data/six.parquet").startswith(
        "The reference data/one.parquet has 1 row(s)"
    )


def test_all_null_columns(project):
    frame = pd.DataFrame({"a": [np.nan] * 50, "b": [None] * 50})
    frame.to_csv(project / "data/nulls.csv", index=False)
    message = fails(project, current="data/nulls.csv")
    assert message.startswith(
        "None of the 2 compared column(s) could be tested. A: all 50 values are null in the "
        "current data; b: all 50 values are null in the current data"
    )
    assert message.endswith("Fix: check that both files hold the same data with values in these columns.")
    half = pd.read_csv(project / "data/cur.csv").assign(b=None)
    half.to_csv(project / "data/half.csv", index=False)
    report = check_drift({"project_dir": str(project), "reference": "data/ref.csv", "current": "data/half.csv"})
    assert [(s.column, s.reason) for s in report.skipped] == [("b", "all 150 values are null in the current data")]
    assert next(s for s in report.signals if s.column == "b").alerts == ["null rate rose from 0.0% to 100.0%"]


def test_unknown_test_name_lists_the_valid_ones(project):
    valid = "ks, chi2, z, wasserstein, psi, jensenshannon, hellinger, kl_div, cramer_von_mises, anderson"
    assert fails(project, tests={"a": "t-test"}) == (
        f"Unknown stat test 't-test'. The drift tests are: {valid}. "
        "Fix: use one of those names (see docs/drift.md for what each measures)."
    )
    assert fails(project, thresholds={"bogus": 0.1}).startswith("Unknown stat test 'bogus'. The drift tests are: ks,")


def test_a_test_that_does_not_apply_to_the_column(project):
    assert fails(project, tests={"b": "ks"}) == (
        "The test 'ks' does not apply to column 'b', which is categorical. 'ks' compares numeric columns. "
        "Fix: choose one of: chi2, z, psi, jensenshannon, hellinger, kl_div."
    )
    assert fails(project, tests={"a": "z"}) == (
        "The test 'z' does not apply to column 'a', which is numeric. 'z' compares binary columns. "
        "Fix: choose one of: ks, wasserstein, psi, jensenshannon, hellinger, kl_div, cramer_von_mises, anderson."
    )
    assert fails(project, tests={"nope": "ks"}).startswith(
        "--test names the column 'nope', which is not compared. The compared columns are: a, b"
    )


def test_missing_saved_profile(project):
    assert fails(project, reference="train") == (
        f"No saved reference profile named 'train' ({project}/.omgml/references/train.json does not exist). "
        "This project has no saved reference profiles yet. "
        "Fix: pass a data file as the reference, or save a profile first with --save-reference NAME."
    )
    check_drift({"project_dir": str(project), "reference": "data/ref.csv", "save_reference": "base"})
    assert "Saved profiles: base." in fails(project, reference="train")


@pytest.mark.parametrize(
    "damage,expected",
    [
        (lambda text: text[: len(text) // 2], "is corrupt: it is not readable JSON"),
        (lambda text: json.dumps({"format": "something-else"}), "is corrupt: it is not an omgml drift profile"),
        (lambda text: text.replace('"version":1', '"version":99'), "has version 99. This omgml reads version 1"),
        (
            lambda text: text.replace('"rows":200,"count"', '"rows":-5,"count"', 1),
            "is corrupt: 'columns.a.numeric.rows'",
        ),
        (
            lambda text: text.replace('"categories":["', '"categories":["extra","', 1),
            "Column 'b' has 4 categories but 3 counts",
        ),
    ],
    ids=["truncated", "not-a-profile", "version", "field", "inconsistent"],
)
def test_corrupt_saved_profile(project, damage, expected):
    check_drift({"project_dir": str(project), "reference": "data/ref.csv", "save_reference": "base"})
    path = project / ".omgml/references/base.json"
    path.write_text(damage(path.read_text()))
    message = fails(project, reference="base")
    assert message.startswith(f"The saved reference profile {path}")
    assert expected in message
    assert "Fix: save it again" in message


def test_paths_outside_the_project_root(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "x.csv"
    pd.read_csv(project / "data/cur.csv").to_csv(outside, index=False)
    message = fails(project, current=str(outside))
    assert message.startswith(
        f"The current data '{outside}' resolves to {outside}, outside the project root {project}."
    )
    assert fails(project, reference="../../etc/passwd").startswith("The reference data '../../etc/passwd' resolves to")
    (project / "data/link.csv").symlink_to(outside)
    assert "outside the project root" in fails(project, current="data/link.csv")


def test_request_shape_errors(project):
    assert fails(project, time_column="a").startswith(
        "The drift request is not valid. 'input': Value error, time_column and window go together"
    )
    assert fails(project, current=None).startswith(
        "The drift request is not valid. 'input': Value error, give the current data to check, or save_reference"
    )
    assert "'save_reference': String should match pattern" in fails(project, save_reference="../evil")
    assert "'drift_share': Input should be less than or equal to 1" in fails(project, drift_share=2)
    assert fails(project, columns=["a", "zz"]).startswith("--columns names column(s) not in both tables: zz")
    assert fails(project, target="y").startswith("The target column 'y' is not in both tables")
    assert fails(project, thresholds={"ks": 1.5}) == (
        "The threshold 1.5 for 'ks' is out of range. A p-value threshold is between 0 and 1. Fix: pass for example ks=0.01."
    )
    check_drift({"project_dir": str(project), "reference": "data/ref.csv", "save_reference": "base"})
    assert fails(project, reference="base", save_reference="again").startswith(
        "Cannot save a profile of 'base': it is already a saved profile"
    )
