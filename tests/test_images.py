"""PNG charts: drawn from the HTML charts' geometry, small, hostile labels as plain text; sent as MCP image content
on request; logged with the HTML report as artifacts of the baseline's MLflow run."""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import sys
import warnings
from types import SimpleNamespace

import pytest
from PIL import Image

from omgml import images, plots
from omgml.baseline.models import BaselineReport
from omgml.baseline.service import train_baseline
from omgml.drift.models import DriftReport
from omgml.workspace import Store
from tests.test_baseline import mixed_frame, write_table
from tests.test_baseline_mlflow import clean_env, client_for, empty_store, with_store  # noqa: F401 -- fixtures
from tests.test_mcp import write_scenario_data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOSTILE = [
    "<script>alert(1)</script>",
    "a\x00b",  # NUL
    "שלום עולם",  # right to left
    "مرحبا بالعالم",  # joined letters
    "🚀 rocket 👩‍💻",
    "$x^2$ and a lone $",  # would be mathtext
    "line\nbreak\ttab",
    "\u202eevil.exe",  # right-to-left override
    "\ud800 lone surrogate",
    "x" * 10_000,
]


def column(name: str, value: float, threshold: float = 0.1, drifted: bool = False) -> SimpleNamespace:
    """What ``plots.effect_chart`` reads of a drift result's column."""
    effect = SimpleNamespace(value=value, threshold=threshold, measure="wasserstein")
    return SimpleNamespace(column=name, drifted=drifted, effect=effect)


def dimensions(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def dark(rgb: tuple[int, int, int]) -> bool:
    return sum(rgb) < 200


def red(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 150 and rgb[1] < 80 and rgb[2] < 80


def blue(rgb: tuple[int, int, int]) -> bool:
    return rgb[2] > 150 and rgb[0] < 60


def near(rgb: tuple[int, int, int], colour: str) -> bool:
    want = bytes.fromhex(colour.lstrip("#"))
    return all(abs(a - b) <= 12 for a, b in zip(rgb, want, strict=True))


def to_px(units: float, scale: float) -> int:
    return round(units * scale)


# --- the picture --------------------------------------------------------------------------------------------------


def test_the_chart_is_drawn_where_the_geometry_says():
    """Bars in their colours, each threshold tick across its bar, labels left of the axis: the SVG's layout."""
    columns = [column("age", 0.40, 0.10, drifted=True), column("income", 0.25, 0.30), column("city", 0.05, 0.10)]
    chart = plots.effect_chart(columns)
    png = images.chart_png(chart, "Effect size by column")
    width, height = dimensions(png)
    scale = images.MAX_SCALE
    assert (width, height) == (to_px(chart.width, scale), to_px(images.TITLE_BAND + chart.height, scale))
    image = pixels(png)
    for bar in chart.bars:
        middle = to_px(images.TITLE_BAND + bar.y + bar.height / 2, scale)
        inside = image.getpixel((to_px(chart.x0 + 2, scale), middle))
        assert red(inside) if bar.flagged else blue(inside), (bar.label, inside)
        # the threshold tick, 2 units wide, crosses the bar (and is drawn beyond a bar that ends before it)
        assert dark(image.getpixel((to_px(bar.mark, scale), middle))), bar.label
        label_row = [image.getpixel((x, middle)) for x in range(to_px(chart.x0 - 6, scale))]
        assert any(dark(p) for p in label_row), f"no label drawn for {bar.label}"
        tick = range(to_px(bar.mark - 3, scale), to_px(bar.mark + 3, scale))
        after = range(to_px(chart.x0 + bar.width + 3, scale), width)
        assert any(dark(image.getpixel((x, middle))) for x in after if x not in tick), f"no value for {bar.label}"
    assert not dark(image.getpixel((width - 2, height - 2)))  # a white page, not a transparent one
    assert images.chart_png(chart, "Effect size by column") == png  # deterministic: a test can pin it


def test_500_columns_stay_under_200_kb_and_say_how_many_are_not_drawn():
    columns = [column(f"feature_with_a_long_name_{i:03d}", (i * 37 % 101) / 200, 0.1, i % 7 == 0) for i in range(500)]
    chart = plots.effect_chart(columns)
    png = images.chart_png(chart, "Effect size by column")
    width, height = dimensions(png)
    print(f"500 columns: {len(png):,} bytes, {width}x{height} px, {chart.hidden} rows not drawn")
    assert len(png) < images.MAX_BYTES
    assert height <= images.MAX_HEIGHT_PX and chart.hidden == 500 - len(chart.bars)
    # the note below the axis: dark pixels in the band under the chart
    image = pixels(png)
    scale = height / (images.TITLE_BAND + chart.height + images.NOTE_BAND)
    band = range(to_px(images.TITLE_BAND + chart.height + 2, scale), height)
    assert any(sum(image.getpixel((x, y))) < 500 for y in band for x in range(width // 2))


def test_the_longest_chart_a_report_draws_is_scaled_to_fit():
    """``null_chart`` draws 100 rows: the picture gets a finer scale rather than a height clients shrink."""
    summary = [SimpleNamespace(name=f"c{i}", missing_fraction=i / 100) for i in range(100)]
    png = images.chart_png(plots.null_chart(summary), "Missing share by column")
    _, height = dimensions(png)
    assert height <= images.MAX_HEIGHT_PX and len(png) < images.MAX_BYTES


def test_two_series_charts_have_a_legend():
    cells = SimpleNamespace(labels=["red", "green", "blue"], reference=[50, 30, 20], current=[20, 30, 50])
    chart = plots.category_chart(cells)
    image = pixels(images.chart_png(chart, "Reference vs current: colour"))
    scale = images.MAX_SCALE
    legend = [image.getpixel((x, to_px(16, scale))) for x in range(image.width // 2, image.width)]
    assert any(near(p, images.ACCENT) for p in legend) and any(near(p, images.GREY) for p in legend)


@pytest.mark.parametrize("label", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_labels_are_plain_text_and_draw(label):
    chart = plots.effect_chart([column(label, 0.3, drifted=True), column("ok", 0.1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks out: no mathtext error, no glyph warning
        png = images.chart_png(chart, label)
    width, _ = dimensions(png)
    assert width == to_px(chart.width, images.MAX_SCALE) and len(png) < images.MAX_BYTES
    shown = images.plain(label, images.LABEL_CHARS)
    assert len(shown) <= images.LABEL_CHARS and "\n" not in shown and "\x00" not in shown and "\u202e" not in shown


def test_plain_keeps_text_and_cuts_it():
    assert images.plain("a\x00b\nc", 36) == "a\ufffdb\ufffdc"
    assert images.plain("x" * 10_000, 36) == "x" * 35 + "…"
    assert images.plain("שלום", 36) == "שלום"
    assert images.plain("\ud800", 36) == "\ufffd"


def test_importing_images_does_not_import_matplotlib():
    code = "import sys, omgml.images; print(sorted(m for m in ('matplotlib', 'PIL') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_drawing_a_chart_does_not_import_matplotlib():
    """matplotlib's canvas cost a baseline 1.2 s of imports; the chart needs Pillow and DejaVu's file only."""
    code = (
        "import sys; from types import SimpleNamespace as N; from omgml import images, plots\n"
        "effect = N(value=0.3, threshold=0.1, measure='psi')\n"
        "png = images.chart_png(plots.effect_chart([N(column='мир', drifted=True, effect=effect)]), 'Effect')\n"
        "print(png[:4] == b'\\x89PNG', sorted(m for m in ('matplotlib', 'PIL') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True ['PIL']"


# --- MCP image content --------------------------------------------------------------------------------------------


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    write_scenario_data(tmp_path)
    return tmp_path


DRIFT = {"project_dir": "proj", "reference": "data/raw/train.csv", "current": "data/raw/current.csv"}


def image_of(result) -> bytes:
    assert [c.type for c in result.content] == ["text", "image"], result.content
    picture = result.content[1]
    assert picture.mime_type == "image/png"
    png = base64.b64decode(picture.data, validate=True)
    assert png[:8] == PNG_SIGNATURE and len(png) < images.MAX_BYTES
    return png


@pytest.mark.anyio
async def test_drift_sends_its_chart_only_when_asked(root):
    from mcp import Client

    from omgml.mcp.server import build_server

    async with Client(build_server()) as client:
        plain_call = await client.call_tool("omgml_check_drift", DRIFT)
        with_image = await client.call_tool("omgml_check_drift", {**DRIFT, "include_image": True})
        reference_only = await client.call_tool(
            "omgml_check_drift",
            {
                "project_dir": "proj",
                "reference": "data/raw/train.csv",
                "save_reference": "train",
                "include_image": True,
            },
        )
    assert plain_call.is_error is False and [c.type for c in plain_call.content] == ["text"]
    assert with_image.is_error is False
    png = image_of(with_image)
    report = DriftReport.model_validate(with_image.structured_content)
    # the same picture the Python side draws for the same result, so the flag changes nothing else
    assert png == images.effect_png(report)
    assert reference_only.is_error is False, reference_only.content
    assert [c.type for c in reference_only.content] == ["text", "text"]
    assert reference_only.content[1].text.startswith("No image: this call only saved a reference profile")


@pytest.mark.anyio
async def test_a_chart_that_fails_to_draw_costs_the_picture_not_the_result(root, monkeypatch, caplog):
    from mcp import Client

    from omgml.mcp.server import build_server

    def broken(chart, title):
        raise RuntimeError("no canvas\nsecond line")

    monkeypatch.setattr(images, "chart_png", broken)
    async with Client(build_server()) as client:
        result = await client.call_tool("omgml_check_drift", {**DRIFT, "include_image": True})
    assert result.is_error is False
    assert DriftReport.model_validate(result.structured_content).checked
    assert result.content[1].text == ("No image: drawing the chart failed (RuntimeError: no canvas); please report it.")
    assert "drawing the chart of a DriftReport failed" in caplog.text


# --- the baseline: MCP image and MLflow artifacts ---------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory, empty_store, clean_env):  # noqa: F811 -- the fixtures imported above
    """One baseline over MCP with include_image, on a project with a real local MLflow store."""
    import anyio
    from mcp import Client

    from omgml.mcp.server import build_server

    root = tmp_path_factory.mktemp("images")
    project = with_store(root / "churn", empty_store)
    write_table(project, mixed_frame(160, seed=5), "train.parquet")
    arguments = {
        "project_dir": "churn",
        "data_path": "train.parquet",
        "target": "churned",
        "cv": 3,
        "models": ["linear"],
        "include_image": True,
    }

    async def call():
        async with Client(build_server()) as client:
            return await client.call_tool("omgml_train_baseline", arguments)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMGML_PROJECT_DIR", str(root))
        result = anyio.run(call)
    assert result.is_error is False, result.content
    return project, result, BaselineReport.model_validate(result.structured_content)


def test_baseline_sends_the_leaderboard_as_an_image(trained):
    _, result, report = trained
    png = image_of(result)
    assert png == images.leaderboard_png(report)
    assert report.ok and report.tracking.registered_model


def test_the_run_holds_the_saved_html_report_and_the_leaderboard_png(trained):
    project, _, report = trained
    client = client_for(report)
    run = client.get_run(report.tracking.parent_run_id)
    assert run.info.status == "FINISHED"
    listed = {a.path: a.file_size for a in client.list_artifacts(run.info.run_id, "report")}
    assert set(listed) == {"report/baseline_report.html", "report/leaderboard.png"}
    saved_html = (project / report.html_path).read_bytes()
    assert listed["report/baseline_report.html"] == len(saved_html)
    downloaded = client.download_artifacts(run.info.run_id, "report", str(project.parent / "downloaded"))
    with open(f"{downloaded}/baseline_report.html", "rb") as f:
        assert f.read() == saved_html  # the final report: it names the registered version
    assert f"v{report.tracking.model_version}".encode() in saved_html
    with open(f"{downloaded}/leaderboard.png", "rb") as f:
        assert f.read() == images.leaderboard_png(report)
    # the saved JSON is the result the tool returned, written by the same final save
    store = Store(project)
    saved = BaselineReport.model_validate(store.read_json(store.history("baseline")[-1]))
    assert saved == report


def test_an_artifact_store_that_refuses_the_files_keeps_the_report(trained, monkeypatch):
    from mlflow.tracking import MlflowClient

    def refuse(self, run_id, local_dir, artifact_path=None):
        raise PermissionError("artifact store is read-only")

    monkeypatch.setattr(MlflowClient, "log_artifacts", refuse)
    project, _, _ = trained
    report = train_baseline(
        {"project_dir": str(project), "data_path": "train.parquet", "target": "churned", "cv": 3, "models": ["linear"]}
    )
    assert report.ok and report.tracking.registered_model
    assert report.tracking.note.endswith(
        "the run has no report/ artifacts: PermissionError: artifact store is read-only"
    )
    store = Store(project)
    saved = BaselineReport.model_validate(store.read_json(store.history("baseline")[-1]))
    assert saved == report
    assert "artifact store is read-only" in (project / report.html_path).read_text(encoding="utf-8")
    client = client_for(report)
    assert client.get_run(report.tracking.parent_run_id).info.status == "FINISHED"
    assert client.list_artifacts(report.tracking.parent_run_id, "report") == []
