"""The HTML reports: self-contained, with SVG charts, hostile names as text, saved beside the JSON."""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omgml import check_drift, validate_data
from omgml.plots import CHAR_WIDTH, VALUE_GAP, effect_chart, fmt, hbars, nice_max, stage_strip, tick_values
from omgml.render import render
from tests.conftest import summary_line

HOSTILE = ["<script>alert(1)</script>", '"; DROP', "a|b`c`"]


class Page(HTMLParser):
    """What a browser would act on: tags, and every src/href."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href")]

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """50 columns, three with hostile names; the script-named one and c1 shift, c2 loses values."""
    rng = np.random.default_rng(0)
    n = 400
    ref = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(47)})
    ref[HOSTILE[0]] = rng.normal(size=n)
    ref[HOSTILE[1]] = rng.choice(["a", "b"], n)
    ref[HOSTILE[2]] = rng.normal(size=n)
    cur = ref.copy()
    cur[HOSTILE[0]] += 2
    cur["c1"] += 1
    cur.loc[:60, "c2"] = np.nan
    cur.loc[:30, HOSTILE[1]] = "<img src=x onerror=alert(1)>"  # a hostile new category too
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return tmp_path


def assert_self_contained(text: str) -> Page:
    page = Page(text)
    assert "svg" in page.tags and "rect" in page.tags
    assert "script" not in page.tags and "img" not in page.tags
    assert not [link for link in page.links if "://" in link or link.startswith("//")]
    assert "url(" not in text and "@import" not in text  # nor a stylesheet fetch (URLs shown as text are fine)
    assert len(text.encode()) < 1_000_000
    return page


def test_drift_html_is_saved_beside_the_json_and_draws_the_drifted_columns(tables):
    report = check_drift({"project_dir": str(tables), "reference": "ref.csv", "current": "cur.csv"})
    assert report.html_path and report.html_path.endswith("-drift.html")
    assert Path(report.html_path).stem == Path(report.report_path).stem
    saved = json.loads((tables / report.report_path).read_text())
    assert saved["html_path"] == report.html_path  # the JSON names its HTML
    text = (tables / report.html_path).read_text()
    page = assert_self_contained(text)
    visible = "".join(page.text)
    for name in HOSTILE:
        assert name in visible  # shown as text ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;img src=x" in text  # ... because escaped
    drifted = [c.column for c in report.columns if c.drifted]
    assert HOSTILE[0] in drifted and "c1" in drifted
    # one effect-size chart plus one reference-vs-current chart per drifted column
    assert text.count('<svg viewBox="0 0 720') == 1 + len(drifted)
    assert "Reference vs current: c1" in visible
    assert visible.count(report.verdict) == 2  # the page title and the headline; not repeated under it
    assert text.count('<div class="chart"><svg') == text.count('role="img"')  # each chart scrolls in its own box


def test_validation_html_charts_findings_and_null_rates(tables):
    report = validate_data({"project_dir": str(tables), "data": "cur.csv"})
    text = (tables / report.html_path).read_text()
    page = assert_self_contained(text)
    visible = "".join(page.text)
    assert "Missing values per column" in visible
    assert HOSTILE[0] in visible and "&lt;script&gt;" in text
    assert ("Rows affected, by column and check" in visible) == bool(report.findings)


def test_validation_html_shows_example_values_as_text(tables):
    validate_data({"project_dir": str(tables), "data": "ref.csv", "save_contract": "ref"})
    report = validate_data({"project_dir": str(tables), "data": "cur.csv", "contract": "ref"})
    (unseen,) = [f for f in report.findings if f.check == "unseen_category"]
    assert unseen.examples == ["<img src=x onerror=alert(1)>"]
    text = (tables / report.html_path).read_text()
    assert "<code>&lt;img src=x onerror=alert(1)&gt;</code>" in text  # escaped as HTML, not as JSON (\u003c)
    assert "\\u003c" not in text


def test_rendering_adds_little_time(tables):
    report = check_drift({"project_dir": str(tables), "reference": "ref.csv", "current": "cur.csv"})
    render(report, "html", tables)  # templates compiled once per process
    start = time.perf_counter()
    render(report, "html", tables)
    assert time.perf_counter() - start < 0.2


def test_markdown_table_cells_cannot_close_the_table_or_the_code_span(tables):
    report = check_drift({"project_dir": str(tables), "reference": "ref.csv", "current": "cur.csv"})
    md = render(report, "md")
    row = next(line for line in md.splitlines() if "alert(1)" in line and line.startswith("|"))
    assert row.count("|") - row.count("\\|") == 9  # 8 cells: the name's own '|' is escaped
    assert "<script>" not in md and "\\<script\\>" in md
    validation = render(validate_data({"project_dir": str(tables), "data": "cur.csv"}), "md")
    assert "<script>" not in validation


def test_a_newline_in_a_column_name_stays_in_its_cell(tables):
    report = check_drift({"project_dir": str(tables), "reference": "ref.csv", "current": "cur.csv"})
    report.columns[0].column = "x\n| injected | row |"
    report.columns[0].drifted = True
    report.columns[0].role = "target"
    md = render(report, "md")
    assert "\n| injected" not in md
    html = render(report, "html")
    assert "x\n| injected | row |" in "".join(Page(html).text)


def test_bar_geometry():
    assert [nice_max(v) for v in (0, 0.07, 1, 1.2, 3, 7, 99)] == [1, 0.1, 1, 2, 5, 10, 100]
    chart = hbars([("a", [2.0]), ("b", [1.0]), ("c", [float("nan")])], marks=[1.0, None, None], limit=2)
    a, b = chart.bars
    assert a.width == chart.span and b.width == chart.span / 2  # axis top is nice_max(2) = 2
    assert a.mark == chart.x0 + chart.span / 2 and b.mark is None
    assert chart.hidden == 1 and b.y > a.y
    two = hbars([("m", [0.1, 0.4])], series=("ref", "cur"))
    ref, cur = two.bars
    assert (ref.series, cur.series) == (0, 1) and cur.y == ref.y + ref.height and cur.width == 4 * ref.width
    assert ref.height == a.height  # each series a full bar: two values' text never shares one bar's height
    assert two.height - 2 * two.top == 2 * ref.height + 4 and ref.label_y - 4 == cur.y  # label centred on both


def test_a_value_prints_past_its_bar_threshold_tick_and_spread():
    chart = hbars(
        [("short", [0.05]), ("spread", [0.6]), ("long", [0.9])], marks=[0.1, None, 0.1], errors=[None, 0.2, None]
    )
    short, spread, long = chart.bars
    assert short.text_x == pytest.approx(short.mark + 1 + VALUE_GAP)  # the tick is past the bar's end
    assert spread.text_x == pytest.approx(spread.spread[1] + VALUE_GAP)  # the whisker is
    assert long.text_x == pytest.approx(chart.x0 + long.width + VALUE_GAP)  # the bar is


def test_axis_numbers_are_short_and_ticks_are_round():
    assert [fmt(v) for v in (0, 0.0933, 3.28, 2700, 9450, -2700, 27_000, 27_500, 999_950, 1.5e6, 1e-5)] == [
        "0", "0.0933", "3.28", "2,700", "9,450", "-2,700", "27k", "27.5k", "1M", "1.5M", "1.00e-05",
    ]  # fmt: skip
    assert [round(v, 9) for v in tick_values(0.5)] == [0, 0.1, 0.2, 0.3, 0.4, 0.5]  # not 12 % and 38 %
    assert tick_values(2) == [0, 0.5, 1, 1.5, 2] and tick_values(10) == [0, 2, 4, 6, 8, 10]
    share = hbars([("a", [0.45])], scale=0.5, text=lambda v: f"{v:.0%}")
    assert [label for _, label in share.ticks] == ["0%", "10%", "20%", "30%", "40%", "50%"]


def test_stage_names_wrap_to_two_lines_inside_their_box():
    from types import SimpleNamespace as NS

    names = ["problem definition", "feature engineering", "deployment", "a name far too long to fit two lines"]
    boxes = stage_strip([NS(name=n, state="done") for n in names * 2])
    assert [[t for _, t in b.lines] for b in boxes[:4]] == [
        ["problem", "definition"], ["feature", "engineering"], ["deployment"], ["a name far", "too long…"],
    ]  # fmt: skip
    assert all(len(t) * CHAR_WIDTH <= b.width - 8 for b in boxes for _, t in b.lines)
    (one,), (top, bottom) = boxes[2].lines, boxes[0].lines
    assert top[0] < one[0] < bottom[0] and bottom[0] - top[0] >= 14  # centred, a line apart


def test_effect_chart_ranks_largest_first(tables):
    report = check_drift({"project_dir": str(tables), "reference": "ref.csv", "current": "cur.csv"})
    values = [b.value for b in effect_chart(report.columns).bars]
    assert values == sorted(values, reverse=True)
    assert effect_chart(report.columns).bars[0].label.startswith(HOSTILE[0])


def test_status_html_draws_the_lifecycle_strip(new_project):
    from omgml import project_status

    report = project_status({"project_dir": str(new_project)})
    text = render(report, "html", new_project)
    page = assert_self_contained(text)
    assert text.count('<rect class="st-') == len(report.stages) > 0
    assert all(s.name in "".join(page.text) for s in report.stages)


def test_baseline_html_draws_the_leaderboard_with_spread_and_dummy(tmp_path):
    from omgml import train_baseline
    from tests.test_baseline import mixed_frame, write_table

    frame = mixed_frame(120).rename(columns=lambda c: c if c == "churned" else f"<b>{c}</b>")
    write_table(tmp_path / "proj", frame, "data.csv")
    report = train_baseline({"project_dir": str(tmp_path / "proj"), "data_path": "data.csv", "target": "churned"})
    text = (tmp_path / "proj" / report.html_path).read_text()
    page = assert_self_contained(text)
    assert "b" not in page.tags  # feature names never become markup
    bars = [t for t in page.tags if t == "rect"]
    assert len(bars) >= len(report.leaderboard) > 0
    assert text.count('class="mark"') == 2 * len(report.leaderboard)  # a spread line and a dummy tick per model


def _bounded(name, lo, hi, low, high, below=0, above=0):
    from omgml.validation.models import ColumnBounds, ColumnSummary

    return ColumnSummary(
        name=name,
        kind="numeric",
        kind_reason="",
        dtype="double",
        present=10,
        missing=0,
        missing_fraction=0.0,
        distinct=10,
        distinct_exact=True,
        min=lo,
        max=hi,
        findings=0,
        bounds=ColumnBounds(min=low, max=high, below=below, above=above),
    )


def test_range_geometry_scales_each_row_to_both_ranges_and_puts_violations_first():
    from omgml.plots import RANGE_MARGIN, RANGE_ROW, range_chart
    from omgml.validation.models import Finding

    summary = [
        _bounded("inside", 0, 10, 0, 10),
        _bounded("low", -10, 5, 0, 10, below=3),
        _bounded("open", 0, 2, None, 1.0, above=7),
        _bounded("empty", None, None, 5, 5),
        _bounded("unbounded", 0, 1, 0, 1).model_copy(update={"bounds": None}),
    ]
    warned = Finding(
        check="out_of_range",
        column="low",
        severity="warning",
        count=3,
        fraction=0.3,
        examples=[],
        example_kind="values",
        message="",
        suggestion="",
    )
    chart = range_chart(summary, [warned])
    assert [r.label for r in chart.rows] == ["open", "low", "inside", "empty"]  # most outside first, then table order
    assert [r.y - chart.rows[0].y for r in chart.rows] == [0, RANGE_ROW, 2 * RANGE_ROW, 3 * RANGE_ROW]
    open_, low, inside, empty = chart.rows

    def at(value, lo, hi):  # where a value sits on a track spanning lo..hi plus the margins
        pad = (hi - lo) * RANGE_MARGIN
        return chart.x0 + chart.span * (value - lo + pad) / (hi - lo + 2 * pad)

    assert inside.band == pytest.approx((at(0, 0, 10), at(10, 0, 10))) and inside.observed == inside.band
    assert inside.outside == () and inside.severity is None and inside.text == "all within"
    assert low.band == pytest.approx((at(0, -10, 10), at(10, -10, 10)))
    assert low.observed == pytest.approx((at(-10, -10, 10), at(5, -10, 10)))
    (part,) = low.outside  # only the part below min
    assert part == pytest.approx((at(-10, -10, 10), at(0, -10, 10)))
    assert low.severity == "warning" and low.text == "3 below · 0 above"
    assert open_.open_low and not open_.open_high and open_.band[0] == chart.x0  # no min: the band runs to the end
    (part,) = open_.outside
    assert part == pytest.approx((at(1, 0, 2), at(2, 0, 2))) and open_.severity is None
    assert empty.observed is None and empty.band == pytest.approx((chart.x0 + chart.span / 2,) * 2)  # one value: mid
    capped = range_chart(summary, limit=2)
    assert [r.label for r in capped.rows] == ["open", "low"] and capped.hidden == 2
    assert capped.height < chart.height


def test_validation_html_draws_penguins_against_their_contract(tmp_path):
    """A contract from one half of palmerpenguins, the other half with planted values past its bounds."""
    from omgml.plots import range_chart
    from tests.realdata import _penguins, halves

    train, batch = halves(_penguins())
    planted = {"body_mass_g": [20_000.0] * 3, "flipper_length_mm": [-5.0] * 2, "year": [2030]}
    for column, values in planted.items():
        batch.loc[batch.index[-len(values) :], column] = values
    train.to_parquet(tmp_path / "train.parquet")
    batch.to_parquet(tmp_path / "batch.parquet")
    validate_data({"project_dir": str(tmp_path), "data": "train.parquet", "save_contract": "penguins"})
    contract = json.loads((tmp_path / ".omgml/contracts/penguins.json").read_text())
    report = validate_data({"project_dir": str(tmp_path), "data": "batch.parquet", "contract": "penguins"})

    rules = {c["name"]: c for c in contract["columns"] if c["min"] is not None or c["max"] is not None}
    chart = range_chart(report.column_summary, report.findings)
    assert {r.label for r in chart.rows} == set(rules) >= set(planted)
    assert [r.label for r in chart.rows[:3]] == ["body_mass_g", "flipper_length_mm", "year"]
    for row in chart.rows:
        values = batch[row.label].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        low, high = rules[row.label]["min"], rules[row.label]["max"]
        assert row.below == (int((values < low).sum()) if low is not None else 0), row.label
        assert row.above == (int((values > high).sum()) if high is not None else 0), row.label
    assert (chart.rows[0].above, chart.rows[1].below, chart.rows[2].above) == (3, 2, 1)
    assert all(r.outside for r in chart.rows[:3]) and not any(r.outside for r in chart.rows[3:])
    html = (tmp_path / report.html_path).read_text()
    severities = {f.severity for f in report.findings if f.check == "out_of_range"}
    legend = html[html.index("contract min..max") :]
    legend = legend[: legend.index("</div>")]
    assert ('class="flag"' in legend) == ("error" in severities)  # a swatch for each colour drawn, and only those
    assert ('fill="#bf8700"' in legend) == ("warning" in severities)
    assert "<code>20000.0</code>" in html  # a planted value among the examples, as the data holds it

    text = (tmp_path / report.html_path).read_text()
    visible = "".join(assert_self_contained(text).text)
    assert "Values against the contract's bounds" in visible and "0 below · 3 above" in visible
    assert text.count("<title>body_mass_g: contract [") == 1  # the row's numbers on hover
    clean = validate_data({"project_dir": str(tmp_path), "data": "batch.parquet"})
    assert "Values against the contract" not in (tmp_path / clean.html_path).read_text()  # no contract: no section


def test_range_chart_labels_hostile_column_names_as_text(tables):
    validate_data({"project_dir": str(tables), "data": "ref.csv", "save_contract": "ref"})
    report = validate_data({"project_dir": str(tables), "data": "cur.csv", "contract": "ref"})
    text = (tables / report.html_path).read_text()
    page = assert_self_contained(text)
    assert "Values against the contract's bounds" in "".join(page.text)
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;: contract [" in text


# ---------------------------------------------------------------------------------------------
# drift: reference vs current distributions (issue 15)


def test_histogram_geometry_overlays_shares_bin_by_bin():
    from omgml.drift.models import Distribution
    from omgml.plots import HIST_LEFT, HIST_PLOT, histogram_chart

    d = Distribution(kind="bins", edges=[0, 1, 2, 3], reference=[1, 2, 1], current=[0, 2, 2], note="")
    chart = histogram_chart(d)
    slot = chart.span / 3
    assert [(b.series, round((b.x - HIST_LEFT) / slot)) for b in chart.bars] == [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2)]
    heights = [b.height for b in chart.bars]  # shares 1/4, 1/2, 1/4 and 1/2, 1/2 on an axis up to 50 %
    assert heights == pytest.approx([HIST_PLOT / 2, HIST_PLOT, HIST_PLOT / 2, HIST_PLOT, HIST_PLOT])
    assert all(b.y + b.height == pytest.approx(chart.base) for b in chart.bars)  # bars stand on the axis
    assert [label for _, label, _ in chart.ticks] == ["0", "1", "2", "3"]
    assert [x for x, _, _ in chart.ticks] == pytest.approx([HIST_LEFT + k * slot for k in range(4)])
    # the outer edges' labels stay inside the plot: clear of the 0 % label on the left, not cut at the right
    assert [anchor for _, _, anchor in chart.ticks] == ["start", "middle", "middle", "end"]
    assert [label for _, label in chart.levels] == ["0%", "25%", "50%"]
    assert chart.bars[1].title == "1 to 2: 50% of reference (2)"
    values = Distribution(
        kind="values", edges=[-0.5, 0.5, 1.5], labels=["0", "1"], reference=[3, 1], current=[1, 3], note=""
    )
    chart = histogram_chart(values)
    assert [label for _, label, _ in chart.ticks] == ["0", "1"]  # one bin per value: ticks name the values
    assert [x for x, _, _ in chart.ticks] == pytest.approx([HIST_LEFT + chart.span / 4, HIST_LEFT + 3 * chart.span / 4])
    wide = Distribution(kind="bins", edges=list(range(41)), reference=[1] * 40, current=[1] * 40, note="")
    assert len(histogram_chart(wide).ticks) <= 7


def test_category_chart_puts_both_shares_on_each_row():
    from omgml.drift.models import Distribution
    from omgml.plots import category_chart

    d = Distribution(kind="categories", labels=["a", "b"], reference=[30, 10], current=[5, 15], note="")
    chart = category_chart(d)
    assert [(b.label, b.series, b.value) for b in chart.bars] == [
        ("a", 0, 0.75),
        ("a", 1, 0.25),
        ("b", 0, 0.25),
        ("b", 1, 0.75),
    ]
    assert chart.series == ("reference", "current")


def test_effect_axis_keeps_thresholds_visible_beside_a_huge_effect():
    from types import SimpleNamespace as NS

    columns = [
        NS(column="big", drifted=True, effect=NS(measure="wasserstein", value=500.0, threshold=0.1)),
        NS(column="small", drifted=False, effect=NS(measure="wasserstein", value=0.05, threshold=0.1)),
    ]
    big, small = effect_chart(columns).bars
    assert big.width == pytest.approx(effect_chart(columns).span) and big.text == "500"  # cut at the end, printed
    assert big.mark == pytest.approx(effect_chart(columns).x0 + effect_chart(columns).span / 10)  # axis ends at 1.0
    assert small.width == pytest.approx(big.width / 20)
    modest = [NS(column="m", drifted=True, effect=NS(measure="jensenshannon", value=0.3, threshold=0.1))]
    assert effect_chart(modest).ticks[-1][1] == "0.5"  # no cap needed: the largest value sets the axis


@pytest.fixture
def hostile_categories(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    n = 600
    ref = pd.DataFrame({"x": rng.normal(size=n), HOSTILE[0]: rng.choice(["a", "b", HOSTILE[1]], n)})
    cur = pd.DataFrame({"x": rng.normal(1, 1, size=n), HOSTILE[0]: rng.choice(["a", HOSTILE[0], HOSTILE[2]], n)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return tmp_path


def test_drift_html_draws_each_drifted_columns_distribution_with_hostile_categories_as_text(hostile_categories):
    report = check_drift({"project_dir": str(hostile_categories), "reference": "ref.csv", "current": "cur.csv"})
    assert all(c.drifted for c in report.columns)
    text = (hostile_categories / report.html_path).read_text()
    page = assert_self_contained(text)
    svg = text[text.index("Reference vs current, per drifted column") :]
    assert svg.count('<svg viewBox="0 0 720') == 2  # a histogram for x, category bars for the hostile column
    assert svg.count('fill-opacity="0.5"') >= 10  # the histogram's current bars, over the reference's
    visible = "".join(page.text)
    for name in HOSTILE:
        assert f"{name}: " in visible  # each category's bar hover names it ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "<script>" not in text  # ... escaped
    assert "The values the test compared" in visible and "The test's cells" in visible


@pytest.mark.parametrize(("columns", "limit"), [(50, 1_000_000), (500, 3_000_000)])
def test_drift_html_stays_small_with_every_column_drifted(tmp_path, columns, limit):
    rng = np.random.default_rng(2)
    n = 400
    ref = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(columns)})
    cur = ref + 1.0
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    report = check_drift({"project_dir": str(tmp_path), "reference": "ref.csv", "current": "cur.csv"})
    assert report.features_drifted == columns and all(c.distribution for c in report.columns)
    html = (tmp_path / report.html_path).stat().st_size
    saved = (tmp_path / report.report_path).stat().st_size
    summary_line("drift report sizes", f"{columns} drifted columns: HTML {html:,} bytes, JSON {saved:,} bytes")
    assert html < limit / 4  # well under the bound


# --- the baseline's best model: confusion matrix heat grid and residual plot ------------------------------------


def test_confusion_grid_geometry():
    from types import SimpleNamespace

    from omgml.plots import GRID_MAX_CELL, confusion_grid

    grid = confusion_grid(SimpleNamespace(labels=["a", "b"], counts=[[8, 2], [0, 5]]))
    assert grid.cell == GRID_MAX_CELL and not grid.slanted
    assert [(c.row, c.column, c.count) for c in grid.cells] == [(0, 0, 8), (0, 1, 2), (1, 0, 0), (1, 1, 5)]
    assert [c.share for c in grid.cells] == [0.8, 0.2, 0.0, 1.0]  # shaded by the row's share: recall on the diagonal
    assert [c.dark for c in grid.cells] == [True, False, False, True]
    assert [(c.x, c.y) for c in grid.cells] == [
        (grid.x0 + j * grid.cell, grid.y0 + i * grid.cell) for i in range(2) for j in range(2)
    ]
    assert [(label, total) for _, label, total in grid.rows] == [("a", 10), ("b", 5)]
    assert grid.width == 640 and grid.height == grid.y0 + 2 * grid.cell + 40  # a small grid, centred in 640 units
    assert grid.x0 - 150 == (640 - (150 + 2 * grid.cell + 40)) / 2
    many = [f"segment number {i}" for i in range(20)]
    wide = confusion_grid(SimpleNamespace(labels=many, counts=[[123_456] * 20] * 20))
    assert wide.slanted and wide.cell < 30 and wide.font == 9 and wide.y0 > grid.y0
    assert wide.cells[0].text == "123k" and wide.cells[0].share == pytest.approx(0.05)  # the exact count is in the JSON
    assert wide.x0 + 20 * wide.cell <= 720


def test_nice_ticks():
    from omgml.plots import nice_ticks

    assert nice_ticks(-115, 100) == (-150, 100, (-150, -100, -50, 0, 50, 100))
    assert nice_ticks(0.02, 0.97) == (0, 1, (0, 0.2, 0.4, 0.6, 0.8, 1))
    low, high, ticks = nice_ticks(3, 3)  # one value: an axis around it
    assert low < 3 < high and len(ticks) >= 2


def test_residual_plot_geometry():
    from omgml.baseline.diagnostics import residuals
    from omgml.plots import PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, SIDE_LEFT, SIDE_RIGHT, residual_plot

    rng = np.random.default_rng(1)
    predicted = rng.uniform(0, 100, 3000)
    actual = predicted + rng.normal(scale=1 + predicted / 20, size=3000) + (predicted > 80) * 5  # biased at the top
    summary = residuals(actual, predicted)
    plot = residual_plot(summary)
    assert len(plot.boxes) == len(summary.bins) == 30 and len(plot.side) == 30
    lows = [t for t, _ in plot.y_ticks]
    assert PLOT_TOP <= min(lows) and max(lows) <= PLOT_BOTTOM
    assert min(lows) < plot.zero < max(lows)
    for box, b in zip(plot.boxes, summary.bins):
        top, bottom = box.whisker
        assert top <= box.box[0] <= box.median <= box.box[1] <= bottom  # y grows downwards: p90 above p10
        assert PLOT_LEFT <= box.x0 < box.x1 <= PLOT_RIGHT and box.x0 <= box.x <= box.x1
        assert f"{b.rows:,} rows" in box.text
    assert [b.x for b in plot.boxes] == sorted(b.x for b in plot.boxes)
    biased = [box for box, b in zip(plot.boxes, summary.bins) if b.low >= 80]
    assert biased and all(box.median < plot.zero for box in biased)  # residuals of +5 drawn above the zero line
    largest = max(summary.histogram.counts)
    assert max(s.length for s in plot.side) == SIDE_RIGHT - SIDE_LEFT
    for bar, count in zip(plot.side, summary.histogram.counts):
        assert bar.length == pytest.approx((SIDE_RIGHT - SIDE_LEFT) * count / largest)
    assert plot.below + plot.above + sum(summary.histogram.counts) == 3000


def test_baseline_html_draws_the_confusion_matrix_with_hostile_class_names(tmp_path):
    from omgml import train_baseline
    from tests.test_baseline import mixed_frame, write_table

    frame = mixed_frame(150, task="multiclass")
    frame["segment"] = frame["segment"].map({"low": HOSTILE[0], "mid": HOSTILE[1], "high": HOSTILE[2]})
    write_table(tmp_path / "proj", frame, "data.csv")
    request = {"project_dir": str(tmp_path / "proj"), "data_path": "data.csv", "target": "segment"}
    report = train_baseline({**request, "models": ["linear"], "register_model": False})
    matrix = next(c for c in report.candidates if c.name == report.best).out_of_fold.confusion
    assert sorted(matrix.labels) == sorted(HOSTILE) and sum(map(sum, matrix.counts)) == 150
    text = (tmp_path / "proj" / report.html_path).read_text()
    page = assert_self_contained(text)
    visible = "".join(page.text)
    assert "Confusion matrix: linear, out of fold" in visible
    assert text.count('fill="#0969da" fill-opacity=') == 9  # 3 x 3 cells
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and HOSTILE[0] in visible
    for row in matrix.counts:
        for count in row:
            assert f">{count:,}</text>" in text


def test_baseline_html_draws_the_residuals_of_a_regression(tmp_path):
    from omgml import train_baseline
    from tests.test_baseline import mixed_frame, write_table

    write_table(tmp_path / "proj", mixed_frame(400, task="regression"), "data.csv")
    request = {"project_dir": str(tmp_path / "proj"), "data_path": "data.csv", "target": "spend"}
    report = train_baseline({**request, "models": ["linear"], "register_model": False})
    residuals = next(c for c in report.candidates if c.name == report.best).out_of_fold.residuals
    text = (tmp_path / "proj" / report.html_path).read_text()
    page = assert_self_contained(text)
    assert "Residuals: linear, out of fold" in "".join(page.text)
    assert text.count("<circle") == len(residuals.bins) == 30  # a mean dot per bin of 400 / 30 rows
    assert text.count('fill="#8c959f"><title>residual') == len(residuals.histogram.counts)
    assert "Confusion matrix" not in text
