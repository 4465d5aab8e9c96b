"""Time windows: the current data cut by a time column, each window compared with the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from omgml.drift.service import check_drift
from omgml.drift.windows import parse_window, time_values, window_index
from omgml.errors import OmgmlError
from omgml.render import render


def write(folder, name, frame):
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "data" / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path, index=False)
    return f"data/{name}"


def days(n_days: int, per_day: int, drift_from: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for d in range(n_days):
        shift = 1.0 if d >= drift_from else 0.0
        frames.append(
            pd.DataFrame(
                {
                    "ts": pd.Timestamp("2024-05-01")
                    + pd.to_timedelta(rng.uniform(0, 86_400, per_day), unit="s")
                    + pd.Timedelta(days=d),
                    "amount": rng.normal(100 + 20 * shift, 20, per_day),
                    "channel": rng.choice(
                        ["web", "app", "store"], per_day, p=[0.2, 0.3, 0.5] if shift else [0.5, 0.3, 0.2]
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed)  # rows out of time order


def reference(n: int = 3000, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"amount": rng.normal(100, 20, n), "channel": rng.choice(["web", "app", "store"], n, p=[0.5, 0.3, 0.2])}
    )


def test_windows_show_when_drift_started(tmp_path):
    current = days(6, 400, drift_from=4)
    report = check_drift(
        {
            "project_dir": str(tmp_path),
            "reference": write(tmp_path, "ref.parquet", reference()),
            "current": write(tmp_path, "cur.parquet", current),
            "time_column": "ts",
            "window": "1D",
        }
    )
    assert [w.start for w in report.windows] == [f"2024-05-0{d}T00:00:00Z" for d in range(1, 7)]
    assert [w.end for w in report.windows][:1] == ["2024-05-02T00:00:00Z"]
    assert [w.status for w in report.windows] == ["no_drift"] * 4 + ["drift"] * 2
    assert report.first_drift_window == "2024-05-05T00:00:00Z"
    assert all(w.rows == 400 for w in report.windows)
    assert set(report.windows[-1].drifted_columns) == {"amount", "channel"}
    assert "ts" not in [c.column for c in report.columns]  # the time column is not a feature
    assert report.rows_current == 2400
    text = render(report)
    assert (
        "## Drift per window (1D of `ts`)" in text and "Drift first appears in the window starting 2024-05-05" in text
    )


def test_whole_comparison_is_the_merge_of_the_windows(tmp_path):
    current = days(3, 300, drift_from=9)
    args = {
        "project_dir": str(tmp_path),
        "reference": write(tmp_path, "ref.parquet", reference()),
        "current": write(tmp_path, "cur.parquet", current),
    }
    plain = check_drift(args)
    windowed = check_drift({**args, "time_column": "ts", "window": "1D"})
    plain_cols = [(c.column, c.test, c.statistic) for c in plain.columns if c.column != "ts"]
    assert [(c.column, c.test, c.statistic) for c in windowed.columns] == plain_cols


def test_rows_without_time_and_small_windows(tmp_path):
    current = days(2, 300, drift_from=9)
    current.loc[current.index[:10], "ts"] = pd.NaT
    extra = pd.DataFrame({"ts": [pd.Timestamp("2024-05-09 10:00")] * 3, "amount": [100.0] * 3, "channel": ["web"] * 3})
    current = pd.concat([current, extra], ignore_index=True)
    report = check_drift(
        {
            "project_dir": str(tmp_path),
            "reference": write(tmp_path, "ref.parquet", reference()),
            "current": write(tmp_path, "cur.csv", current),
            "time_column": "ts",
            "window": "1D",
        }
    )
    last = report.windows[-1]
    assert last.start == "2024-05-09T00:00:00Z" and last.status == "skipped" and last.rows == 3
    assert last.note == "3 row(s): too few to compare (at least 5)"
    assert "10 current row(s) have no 'ts' and are in no window." in report.notes
    assert report.rows_current == 603


def test_week_windows_start_on_monday_and_hours_on_the_hour():
    week = parse_window("1W")
    assert week.seconds == 7 * 86_400 and week.bounds(0)[0] == "1970-01-05T00:00:00Z"
    nanos, _ = time_values(pa.array(pd.to_datetime(["2024-05-01 13:30", "2024-05-06 00:00"])), "ts")
    starts = [week.bounds(int(i))[0] for i in window_index(nanos, week)]
    assert starts == ["2024-04-29T00:00:00Z", "2024-05-06T00:00:00Z"]  # Mondays
    hour = parse_window("2h")
    assert hour.bounds(int(window_index(nanos, hour)[0])) == ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00Z")
    assert parse_window("30min").seconds == 1800 and parse_window("7d").seconds == 604_800


def test_text_times_and_dates_are_read():
    nanos, present = time_values(pa.array(["2024-05-01T10:00:00", None, "2024-05-02"]), "ts")
    assert present.tolist() == [True, False, True]
    day = parse_window("1D")
    assert [day.bounds(int(i))[0] for i in window_index(nanos[present], day)] == [
        "2024-05-01T00:00:00Z",
        "2024-05-02T00:00:00Z",
    ]
    dates = pa.array([pd.Timestamp("1969-12-31").date()], type=pa.date32())
    nanos, _ = time_values(dates, "d")
    assert (
        day.bounds(int(window_index(nanos, day)[0]))[0] == "1969-12-31T00:00:00Z"
    )  # before 1970: floor, not truncation


@pytest.mark.parametrize("text", ["3 months", "1M", "0D", "D", "", "1.5h"])
def test_bad_window_lengths_say_the_valid_form(text):
    with pytest.raises(OmgmlError) as info:
        parse_window(text)
    assert str(info.value) == (
        f"The window '{text}' is not a length omgml understands. A window is a whole number and a unit: s, min, h, "
        "D (days) or W (weeks). Fix: pass for example --window 1D, 7D, 12h or 1W."
    )


def test_time_column_must_hold_times(tmp_path):
    ref = reference()
    cur = reference(seed=3).assign(when=["yesterday"] * 3000)
    with pytest.raises(OmgmlError) as info:
        check_drift(
            {
                "project_dir": str(tmp_path),
                "reference": write(tmp_path, "r.parquet", ref),
                "current": write(tmp_path, "c.parquet", cur),
                "time_column": "when",
                "window": "1D",
            }
        )
    assert "The time column 'when' has text that is not an ISO 8601 time (for example 'yesterday')" in str(info.value)
    with pytest.raises(OmgmlError) as info:
        check_drift(
            {
                "project_dir": str(tmp_path),
                "reference": "data/r.parquet",
                "current": "data/c.parquet",
                "time_column": "amount",
                "window": "1D",
            }
        )
    assert "The time column 'amount' holds double, not dates or timestamps" in str(info.value)
    with pytest.raises(OmgmlError) as info:
        check_drift(
            {
                "project_dir": str(tmp_path),
                "reference": "data/r.parquet",
                "current": "data/c.parquet",
                "time_column": "nope",
                "window": "1D",
            }
        )
    assert str(info.value).startswith(
        "The time column 'nope' is not in the current data. Its columns are: amount, channel, when"
    )
