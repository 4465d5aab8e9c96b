"""PNG pictures of the report charts: MCP image content for multimodal agents, and MLflow run artifacts.

``chart_png`` rasterises the geometry ``plots`` lays out for the HTML reports' SVG, so the picture an agent sees
is the chart a person sees. It draws with Pillow and the DejaVu Sans that matplotlib ships (Pillow's bundled font
covers Latin only: a Cyrillic or Greek column name would be a row of boxes); Pillow's libraqm lays out
right-to-left and joined scripts. The chart is boxes, lines and text at known places, so matplotlib's figure
machinery is not needed: importing its Agg canvas cost 1.2 s a baseline, Pillow's 0.07 s. Pillow is imported
inside the drawing only, when an image is asked for, never when a face starts
(tests/test_mcp.py: test_faces_do_not_import_heavy_libraries).
"""

from __future__ import annotations

import functools
import io
import unicodedata
from pathlib import Path

from omgml.plots import Chart, effect_chart, leaderboard_chart

MAX_BYTES = 200_000  # what a tool result may carry as an image; the tests hold every chart under it
MAX_SCALE = 1.5  # pixels per SVG unit: 720 units wide is 1080 px, and 11-point labels are 16 px tall
MAX_HEIGHT_PX = 1600  # multimodal clients shrink taller images until the labels blur; a long chart gets a finer scale
TITLE_BAND = 30  # SVG units above the chart for its title and legend
NOTE_BAND = 20  # below it, for the "more not drawn" line
PALETTE = 64  # colours kept (see _palette_png)
LABEL_CHARS = 36  # as the SVG chart truncates its labels
TITLE_CHARS = 90

INK, MUTED, GRID, ALERT, ACCENT, GREY = "#1f2328", "#59636e", "#d0d7de", "#cf222e", "#0969da", "#8c959f"
# Characters a picture cannot show or that would reorder the text around them: control characters, lone surrogates
# (unencodable), and the bidi embeddings, overrides and isolates (a label could otherwise render reversed).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def plain(text: str, limit: int) -> str:
    """``text`` as one line of at most ``limit`` characters, each one a font can draw or U+FFFD in its place."""
    head = str(text)[: limit + 1]  # a 10,000-character name costs no more than a short one
    shown = "".join("\ufffd" if c in _BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Cs") else c for c in head)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def chart_png(chart: Chart, title: str) -> bytes:
    """``chart`` drawn as a PNG under its ``title``: labels, bars, values, threshold ticks, fold-spread whiskers.

    The same units as the SVG (one unit is one point here), at up to ``MAX_SCALE`` pixels a unit and at most
    ``MAX_HEIGHT_PX`` tall; the chart caps its rows (``plots.hbars``' ``limit``), so the file stays small.
    """
    from PIL import Image, ImageDraw

    note = NOTE_BAND if chart.hidden else 0
    height = TITLE_BAND + chart.height + note
    scale = min(MAX_SCALE, MAX_HEIGHT_PX / height)
    image = Image.new("RGB", (round(chart.width * scale), round(height * scale)), "white")
    draw = ImageDraw.Draw(image)
    texts: list[tuple[float, float, str, float, str, str, bool]] = []  # drawn last, over the bars, as in the SVG

    def box(x: float, y: float, width: float, tall: float, colour: str) -> None:
        left, right = round(x * scale), round((x + width) * scale) - 1
        if right >= left:  # a zero-width bar draws nothing
            draw.rectangle((left, round(y * scale), right, round((y + tall) * scale) - 1), fill=colour)

    def line(x0: float, y0: float, x1: float, y1: float, width: float, colour: str) -> None:
        draw.line(((x0 * scale, y0 * scale), (x1 * scale, y1 * scale)), fill=colour, width=max(1, round(width * scale)))

    def text(x: float, y: float, shown: str, size: float, anchor: str = "ls", colour: str = INK, bold: bool = False):
        texts.append((x, y, shown, size, anchor, colour, bold))

    text(8, 20, plain(title, TITLE_CHARS), 13, bold=True)
    x = chart.width - 8
    for index in reversed(range(len(chart.series))):  # the legend, right-aligned in the title band
        name = plain(chart.series[index], 20)
        text(x, 20, name, 11, "rs")
        x -= _font(11 * scale, False).getlength(name) / scale + 18
        box(x, 10, 12, 12, _series_colour(chart, index))
        x -= 8

    top = TITLE_BAND
    for tick_x, label in chart.ticks:
        line(tick_x, top + chart.top - 4, tick_x, top + chart.height - chart.top + 4, 1, GRID)
        text(tick_x, top + chart.height - 6, label, 11, "ms")
    strokes = []  # fold-spread whiskers and threshold ticks, over every bar
    for bar in chart.bars:
        y = top + bar.y
        if bar.series == 0:
            text(chart.x0 - 6, y + 12, plain(bar.label, LABEL_CHARS), 11, "rs")
        box(chart.x0, y, bar.width, bar.height - 1, ALERT if bar.flagged else _series_colour(chart, bar.series))
        end = chart.x0 + bar.width
        if bar.spread:
            strokes.append((bar.spread[0], y + bar.height / 2, bar.spread[1], y + bar.height / 2))
            end = max(end, bar.spread[1])
        if bar.mark is not None:
            strokes.append((bar.mark, y - 1, bar.mark, y + bar.height + 1))
        small = bar.height < 12  # two series share a row: a smaller value keeps inside its own bar's height
        text(end + 4, y + bar.height - (1 if small else 3), bar.text, 8 if small else 11)
    for stroke in strokes:
        line(*stroke, 2, INK)
    if chart.hidden:
        text(
            8, height - 6, f"…and {chart.hidden} more not drawn (all of them are in the JSON result).", 11, colour=MUTED
        )
    for x, y, shown, size, anchor, colour, bold in texts:
        draw.text((x * scale, y * scale), shown, fill=colour, font=_font(size * scale, bold), anchor=anchor)
    return _palette_png(image)


@functools.cache
def _font(pixels: float, bold: bool):
    """DejaVu Sans at ``pixels`` high, from matplotlib's package data: found, not imported (that costs 1 s)."""
    from importlib.util import find_spec

    from PIL import ImageFont

    spec = find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        font = Path(spec.submodule_search_locations[0], "mpl-data", "fonts", "ttf")
        font /= "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        if font.is_file():
            return ImageFont.truetype(str(font), pixels)
    return ImageFont.load_default(pixels)  # no matplotlib (mlflow installs it): Pillow's own font, Latin only


def _palette_png(image) -> bytes:
    """The drawing as a PNG of at most ``PALETTE`` colours: a third of the RGB file's size, the text as sharp.

    A chart is a handful of flat colours plus the anti-aliased edges of its text; Pillow keeps the most used ones,
    and PNG stores a palette pixel in one byte instead of three.
    """
    from PIL import Image

    out = io.BytesIO()
    image.quantize(PALETTE, method=Image.Quantize.MEDIANCUT).save(out, "PNG")
    return out.getvalue()


def _series_colour(chart: Chart, series: int) -> str:
    if not chart.series:
        return ACCENT
    return GREY if series == 0 else ACCENT


def effect_png(report) -> bytes | None:
    """Drift's main chart, the ranked effect sizes with thresholds; None when no column was tested."""
    if not report.columns:
        return None
    return chart_png(effect_chart(report.columns), "Drift: effect size by column (red: drifted; tick: threshold)")


def leaderboard_png(report) -> bytes | None:
    """Baseline's main chart, the leaderboard with fold spread and the dummy ticked; None when nothing scored."""
    if not report.leaderboard:
        return None
    metric = report.metric.value
    return chart_png(
        leaderboard_chart(report.leaderboard, report.candidates),
        f"Baseline leaderboard: {metric}, mean ± std over folds (tick: dummy)",
    )
