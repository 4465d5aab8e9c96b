"""Every HTML report opened in headless Chromium, the way a person opens a saved file.

The results are real: the services run on the Palmer penguins (halves of it, one with a planted shift), and the
saved HTML is loaded from file://. Each page must make no request but for itself (or a data: URI), log no console
error, raise no page error, open no dialog, show its headline, its charts (an <svg role="img"> with a <title>) and
its tables, and fit a desktop and a phone-sized window without sideways scrolling. A layout check measures every
chart label as drawn (cut off, over another, out of its box, struck by a tick). A full-page screenshot of each page
goes to pytest's tmp folder (the path is printed) for a person to look at; nothing is written into the checkout.

Chromium is Debian's (``/usr/bin/chromium``, which ``.ci/run`` installs when missing), driven by playwright's
Python package over CDP; playwright's own browser downloads are never used. Without that binary the tests skip
and say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from omgml import check_drift, init_project, project_status, train_baseline, validate_data
from tests import realdata

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root, where Chromium's sandbox refuses to start. The rest keep it from calling home
# (updates, sync, field trials), so any request a test sees came from the page.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = ["<script>alert(1)</script>", '"; DROP', "a|b\n"]

# Every chart as the browser laid it out: its title, size and shapes, and each label that leaves the drawing,
# covers another label, sits on a box it does not fit in, or has a threshold tick or spread line within 2 px.
CHARTS_JS = """() => [...document.querySelectorAll('svg[role="img"]')].map(svg => {
  const box = svg.getBoundingClientRect();
  const title = svg.querySelector(':scope > title');
  const own = t => [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join('');
  const texts = [...svg.querySelectorAll('text')].map(t => [own(t), t.getBoundingClientRect()]);
  const meet = (a, b, m) => a.left < b.right + m && b.left < a.right + m && a.top < b.bottom + m && b.top < a.bottom + m;
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const rects = [...svg.querySelectorAll('rect')].map(r => r.getBoundingClientRect());
  const marks = [...svg.querySelectorAll('line.mark')].map(l => l.getBoundingClientRect());
  const issues = [];
  texts.forEach(([s, a], i) => {
    if (!inside(a, box)) issues.push(`${s}: outside the drawing`);
    texts.slice(i + 1).filter(([, b]) => meet(a, b, -1)).forEach(([t]) => issues.push(`${s}: over ${t}`));
    const cx = (a.left + a.right) / 2, cy = (a.top + a.bottom) / 2;
    rects.filter(r => cx > r.left && cx < r.right && cy > r.top && cy < r.bottom && !inside(a, r))
         .forEach(() => issues.push(`${s}: wider than its box`));
    if (marks.some(m => meet(a, m, 2))) issues.push(`${s}: a tick or spread line touches it`);
  });
  return {title: title ? title.textContent : null, width: box.width, height: box.height, issues,
          bars: svg.querySelectorAll('rect').length,
          shapes: svg.querySelectorAll('rect, line, path, circle, polygon, polyline').length};
})"""


@dataclass
class Visit:
    """One report as Chromium showed it."""

    page: object
    url: str
    screenshot: Path
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def charts(self) -> list[dict]:
        return self.page.evaluate(CHARTS_JS)

    def text(self) -> str:
        return self.page.inner_text("body")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing and could not be installed (.ci/run runs `apt-get install chromium` as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def open_report(browser, shots):
    """Open a saved HTML file in its own browser context, recording what the page asks for and says; each file is
    opened once per module (tests that look at the same report share the visit)."""
    visits: dict[Path, Visit] = {}

    def visit(html: Path) -> Visit:
        if html in visits:
            return visits[html]
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        # Anything but the file itself or a data: URI is refused, so a page that asks still reaches nothing.
        context.route(re.compile(r"^(?!file:|data:)"), lambda route: route.abort())
        page = context.new_page()
        seen = visits[html] = Visit(page=page, url=html.resolve().as_uri(), screenshot=shots / f"{html.stem}.png")
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and seen.errors.append(message.text))
        page.on("pageerror", lambda error: seen.errors.append(str(error)))

        def on_dialog(dialog) -> None:
            seen.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(seen.url, wait_until="load")
        page.screenshot(path=seen.screenshot, full_page=True)
        print(f"screenshot: {seen.screenshot}")
        return seen

    yield visit
    for seen in visits.values():
        seen.page.context.close()


@dataclass
class Results:
    root: Path
    validation: object
    drift: object
    baseline: object
    status: object

    def html(self, report) -> Path:
        return self.root / report.html_path


@pytest.fixture(scope="module")
def penguins(tmp_path_factory) -> Results:
    """One project, every service run once on real data: a contract from one half of the penguins checked on the
    other half (body mass x1.5, 21 bill lengths blanked), drift between the halves, a 2-fold baseline of the two
    fast candidates on the whole table, then status over the saved reports."""
    root = tmp_path_factory.mktemp("penguins")
    init_project({"project_dir": str(root), "name": "Penguins", "task": "multiclass", "target": "species"})
    frame = realdata._penguins()
    reference, current = realdata.halves(frame)
    current["body_mass_g"] = current["body_mass_g"] * 1.5
    current.loc[:20, "bill_length_mm"] = np.nan
    reference.to_csv(root / "reference.csv", index=False)
    current.to_csv(root / "current.csv", index=False)
    frame.to_csv(root / "penguins.csv", index=False)
    project = str(root)
    validate_data({"project_dir": project, "data": "reference.csv", "target": "species", "save_contract": "c.yaml"})
    validation = validate_data(
        {"project_dir": project, "data": "current.csv", "target": "species", "contract": "c.yaml"}
    )
    drift = check_drift({"project_dir": project, "reference": "reference.csv", "current": "current.csv"})
    baseline = train_baseline(
        {
            "project_dir": project,
            "data_path": "penguins.csv",
            "target": "species",
            "cv": 2,
            "models": ["dummy", "linear"],
        }
    )
    status = project_status({"project_dir": project})
    return Results(root, validation, drift, baseline, status)


def headline(visit: Visit) -> str:
    return visit.page.inner_text("h1")


def assert_clean(visit: Visit) -> None:
    """Nothing left the page, nothing went wrong in it."""
    leaving = [url for url in visit.requests if url != visit.url and not url.startswith("data:")]
    assert not leaving, f"the page requested {leaving}"
    assert visit.requests[:1] == [visit.url]
    assert not visit.errors, f"console or page errors: {visit.errors}"
    assert not visit.dialogs, f"dialogs opened: {visit.dialogs}"


def assert_charts(visit: Visit, *titles: str) -> dict[str, dict]:
    """The page draws at least these charts, and every chart it draws is titled, visible and drawn with shapes."""
    charts = visit.charts()
    assert charts and all(c["title"] for c in charts), charts
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 40 and chart["shapes"] > 0, chart
    by_title = {c["title"]: c for c in charts}
    assert set(titles) <= set(by_title), f"missing charts: {set(titles) - set(by_title)}"
    return by_title


CHART_MIN_WIDTH = 640  # templates/reports/_base.html.j2: narrower, a chart scrolls in its box instead of shrinking


def assert_fits_the_window(visit: Visit) -> None:
    """No sideways scrolling, in a desktop window and in a phone-sized one, where the charts keep readable text."""
    for window in (1024, 420):
        visit.page.set_viewport_size({"width": window, "height": 768})
        width = visit.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= window, f"the page is {width} px wide in a {window} px window"
        charts = [c["width"] for c in visit.charts()]
        assert min(charts) >= CHART_MIN_WIDTH, f"a chart shrinks to {min(charts):.0f} px in a {window} px window"
    visit.page.set_viewport_size({"width": 1024, "height": 768})


def test_validation_report_in_chromium(open_report, penguins):
    report = penguins.validation
    visit = open_report(penguins.html(report))
    assert_clean(visit)
    assert report.headline in headline(visit)
    assert {f.check for f in report.findings} == {"null_rate", "out_of_range"}  # the planted problems, found
    charts = assert_charts(
        visit,
        "Rows affected by column and check",
        "Missing share per column",
        "Observed range against the contract's bounds",
    )
    assert charts["Rows affected by column and check"]["bars"] == len(report.findings)
    assert charts["Missing share per column"]["bars"] == report.columns
    findings = visit.page.locator("table", has_text="severity").locator("tr")
    assert findings.count() == 1 + len(report.findings)
    columns = visit.page.locator("table", has_text="distinct").locator("tr")
    assert columns.count() == 1 + report.columns
    assert_fits_the_window(visit)


def test_drift_report_in_chromium(open_report, penguins):
    report = penguins.drift
    visit = open_report(penguins.html(report))
    assert_clean(visit)
    assert report.headline in headline(visit)
    drifted = [c.column for c in report.columns if c.drifted]
    assert drifted == ["body_mass_g"]  # the planted shift, and only it
    charts = assert_charts(visit, "Effect size by column")
    assert charts["Effect size by column"]["bars"] == len(report.columns)  # one bar per tested column
    assert [t for t in charts if t != "Effect size by column" and "body_mass_g" in t]  # a picture of the drifted one
    tested = visit.page.locator("table", has_text="adjusted p").locator("tr")
    assert tested.count() == 1 + len(drifted)
    assert_fits_the_window(visit)


def test_baseline_report_in_chromium(open_report, penguins):
    report = penguins.baseline
    visit = open_report(penguins.html(report))
    assert_clean(visit)
    assert report.headline in headline(visit)
    charts = assert_charts(visit, "Leaderboard")
    assert charts["Leaderboard"]["bars"] == len(report.leaderboard) == 2
    board = visit.page.locator("table", has_text="lift over dummy").locator("tr")
    assert board.count() == 1 + len(report.leaderboard)
    assert f"{report.best} (best)" in board.nth(1).inner_text()
    assert_fits_the_window(visit)


def test_status_report_in_chromium(open_report, penguins):
    report = penguins.status
    visit = open_report(penguins.html(report))
    assert_clean(visit)
    assert report.headline in headline(visit)
    charts = assert_charts(visit, "Lifecycle stages")
    assert charts["Lifecycle stages"]["bars"] == len(report.stages) == 8
    saved = visit.page.locator("table", has_text="summary").locator("tr")
    assert saved.count() == 1 + len(report.reports) == 4  # a row per kind run: validation (twice), drift, baseline
    assert all(stage.name in visit.text() for stage in report.stages)
    assert_fits_the_window(visit)


@pytest.mark.parametrize("kind", ["validation", "drift", "baseline", "status"])
def test_chart_labels_stay_clear(open_report, penguins, kind):
    """No label is cut off at the drawing's edge, printed over another, spilling out of its box or struck through."""
    visit = open_report(penguins.html(getattr(penguins, kind)))
    assert not label_issues(visit), "\n".join(label_issues(visit))


def label_issues(visit: Visit) -> list[str]:
    return [f"{c['title']}: {issue}" for c in visit.charts() for issue in c["issues"]]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """Penguins whose columns are renamed to script, SQL and table-breaking names; the script-named one shifts and
    the SQL-named one gains a category that is an <img> with an onerror handler."""
    root = tmp_path_factory.mktemp("hostile")
    frame = realdata._penguins().rename(
        columns={"body_mass_g": HOSTILE[0], "island": HOSTILE[1], "bill_depth_mm": HOSTILE[2]}
    )
    reference, current = realdata.halves(frame)
    current[HOSTILE[0]] = current[HOSTILE[0]] * 1.5
    current.loc[:30, HOSTILE[1]] = "<img src=x onerror=alert(2)>"
    # Parquet: a csv header with a quoted newline in a name loses every row (pyarrow's skip_rows counts lines).
    reference.to_parquet(root / "reference.parquet", index=False)
    current.to_parquet(root / "current.parquet", index=False)
    return root


@pytest.mark.parametrize("kind", ["drift", "validation"])
def test_hostile_names_render_as_text_and_run_nothing(open_report, hostile, kind):
    project = str(hostile)
    if kind == "drift":
        report = check_drift({"project_dir": project, "reference": "reference.parquet", "current": "current.parquet"})
        assert HOSTILE[0] in [c.column for c in report.columns if c.drifted]
    else:
        validate_data({"project_dir": project, "data": "reference.parquet", "save_contract": "c.yaml"})
        report = validate_data({"project_dir": project, "data": "current.parquet", "contract": "c.yaml"})
        assert {f.column for f in report.findings} >= {HOSTILE[0], HOSTILE[1]}
    visit = open_report(hostile / report.html_path)
    assert_clean(visit)  # no dialog: neither the script nor the img's onerror ran
    assert visit.page.locator("script, img").count() == 0
    shown = visit.page.evaluate("() => document.body.textContent")
    for name in [*HOSTILE, "<img src=x onerror=alert(2)>"]:
        assert name in shown  # the names appear, as text
    assert_charts(visit)
    assert not label_issues(visit), "\n".join(label_issues(visit))


def test_the_checks_see_what_a_misbehaving_page_does(open_report, tmp_path):
    """The same visit on a page that fetches, logs an error and opens a dialog: each is caught, nothing goes out."""
    page = tmp_path / "misbehaving.html"
    page.write_text(
        "<!doctype html><title>t</title><img src='https://example.invalid/pixel.png'>"
        "<script>console.error('broken'); alert('hi')</script>",
        encoding="utf-8",
    )
    visit = open_report(page)
    assert visit.dialogs == ["hi"]
    assert "broken" in visit.errors
    with pytest.raises(AssertionError, match="example.invalid"):
        assert_clean(visit)
