"""PNG pictures of the report charts: MCP image content for multimodal agents, and MLflow run artifacts.

``chart_png`` rasterises the geometry ``plots`` lays out for the HTML reports' SVG, so the picture an agent sees
is the chart a person sees. It uses matplotlib's Agg backend rather than drawing with Pillow: Pillow's bundled
font covers Latin only (a Cyrillic or Greek column name would be a row of boxes), while matplotlib ships DejaVu
Sans and (from 3.11) lays out right-to-left and joined scripts with libraqm. Importing it costs about 0.7 s, so
it is imported inside the drawing only, when an image is asked for, never when a face starts
(tests/test_mcp.py: test_faces_do_not_import_heavy_libraries).
"""

from __future__ import annotations

import io
import unicodedata
import warnings

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
    with warnings.catch_warnings():
        # "Glyph ... missing from font": a character DejaVu lacks is drawn as a box, which is the honest picture.
        warnings.simplefilter("ignore", UserWarning)
        canvas = _drawn(chart, title)
    return _palette_png(canvas)


def _drawn(chart: Chart, title: str):
    """The chart on an Agg canvas, drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    note = NOTE_BAND if chart.hidden else 0
    height = TITLE_BAND + chart.height + note
    scale = min(MAX_SCALE, MAX_HEIGHT_PX / height)
    figure = Figure(figsize=(chart.width / 72, height / 72), dpi=72 * scale, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, chart.width)
    ax.set_ylim(height, 0)  # y grows downwards, as in the SVG
    ax.set_axis_off()
    # No mathtext, no TeX (a user's matplotlibrc may turn it on): a '$' in a column name is a dollar sign.
    text = {"parse_math": False, "usetex": False, "family": "DejaVu Sans", "color": INK}

    ax.text(8, 20, plain(title, TITLE_CHARS), fontsize=13, fontweight="bold", **text)
    x = chart.width - 8
    for index in reversed(range(len(chart.series))):  # the legend, right-aligned in the title band
        name = ax.text(x, 20, plain(chart.series[index], 20), fontsize=11, ha="right", **text)
        x -= _text_width(canvas, name) + 18
        ax.add_patch(_box(x, 10, 12, 12, _series_colour(chart, index)))
        x -= 8

    top = TITLE_BAND
    ax.vlines(
        [tick for tick, _ in chart.ticks],
        top + chart.top - 4,
        top + chart.height - chart.top + 4,
        colors=GRID,
        linewidth=1,
    )
    for tick_x, label in chart.ticks:
        ax.text(tick_x, top + chart.height - 6, label, fontsize=11, ha="center", **text)
    marks, whiskers = [], []  # drawn in one call each: a call per bar costs as much as its text
    for bar in chart.bars:
        y = top + bar.y
        if bar.series == 0:
            ax.text(chart.x0 - 6, y + 12, plain(bar.label, LABEL_CHARS), fontsize=11, ha="right", **text)
        colour = ALERT if bar.flagged else _series_colour(chart, bar.series)
        ax.add_patch(_box(chart.x0, y, bar.width, bar.height - 1, colour))
        end = chart.x0 + bar.width
        if bar.spread:
            whiskers.append([(bar.spread[0], y + bar.height / 2), (bar.spread[1], y + bar.height / 2)])
            end = max(end, bar.spread[1])
        if bar.mark is not None:
            marks.append([(bar.mark, y - 1), (bar.mark, y + bar.height + 1)])
        small = bar.height < 12  # two series share a row: a smaller value keeps inside its own bar's height
        ax.text(end + 4, y + bar.height - (1 if small else 3), bar.text, fontsize=8 if small else 11, **text)
    ax.add_collection(LineCollection(marks + whiskers, colors=INK, linewidths=2))
    if chart.hidden:
        more = f"…and {chart.hidden} more not drawn (all of them are in the JSON result)."
        ax.text(8, height - 6, more, fontsize=11, **{**text, "color": MUTED})

    canvas.draw()
    return canvas


def _palette_png(canvas) -> bytes:
    """The drawing as a PNG of at most ``PALETTE`` colours: a third of the RGB file's size, the text as sharp.

    A chart is a handful of flat colours plus the anti-aliased edges of its text; Pillow (which matplotlib
    depends on) keeps the most used ones, and PNG stores a palette pixel in one byte instead of four.
    """
    from PIL import Image

    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").quantize(PALETTE, method=Image.Quantize.MEDIANCUT).save(out, "PNG")
    return out.getvalue()


def _series_colour(chart: Chart, series: int) -> str:
    if not chart.series:
        return ACCENT
    return GREY if series == 0 else ACCENT


def _box(x: float, y: float, width: float, height: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), width, height, facecolor=colour, edgecolor="none", linewidth=0)


def _text_width(canvas, artist) -> float:
    """How wide ``artist`` draws, in chart units (the legend is laid out right to left)."""
    box = artist.get_window_extent(renderer=canvas.get_renderer())
    return box.width * 72 / canvas.figure.dpi


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
