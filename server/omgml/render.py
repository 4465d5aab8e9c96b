"""The one jinja environment: reports for agents and people, and the project scaffold.

A project can override a report: ``<project>/.omgml/templates/<result type>.<fmt>.j2`` is used
before the package's ``templates/reports/`` file of the same name, and ``omgml:<name>`` always
names the package's, so an override can ``{% extends "omgml:drift_report.md.j2" %}`` and add to
its ``report`` block with ``{{ super() }}``.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import suppress
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import BaseModel

from omgml.assets import asset_dir
from omgml.errors import ConfigError, first_line
from omgml.plots import (
    STRIP_HEIGHT,
    category_chart,
    compare_difference_chart,
    compare_scores_chart,
    confusion_grid,
    effect_chart,
    findings_chart,
    fmt,
    histogram_chart,
    leaderboard_chart,
    null_chart,
    percent,
    range_chart,
    recent_drift_chart,
    recent_errors_chart,
    recent_performance_chart,
    residual_plot,
    stage_strip,
)
from omgml.workspace import OMGML_DIR, resolve_inside, user_cache

OVERRIDES = f"{OMGML_DIR}/templates"  # inside a project
PACKAGE_PREFIX = "omgml"  # "omgml:<name>" is the package's report, even where a project overrides it


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept in the user cache: compiling a baseline's three reports costs 0.5 s a process.

    Each entry is checked against its template's source by jinja; one that cannot be read or written only means
    compiling again.
    """

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 -- a damaged entry (any error unpickling it): compile
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


@cache
def _compiled_templates() -> jinja2.BytecodeCache | None:
    """The cache, or None: none writable (a read-only home), or one that another user could write code into."""
    top = user_cache()
    folder = top / "templates" / f"jinja-{jinja2.__version__}"  # code compiled by one jinja version
    levels = [top, top / "templates", folder]
    try:
        for level in levels:
            level.mkdir(mode=0o700, parents=True, exist_ok=True)
        owners = [level.stat() for level in levels]
    except OSError:
        return None
    # Its entries run as code: no other user may write them, nor swap a folder on the way to them.
    if any(owner.st_uid != os.getuid() or owner.st_mode & 0o022 for owner in owners):
        return None
    return _CompiledTemplates(str(folder))


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=_compiled_templates(),
        # Missing variables must fail loudly, not render as blanks that read as "nothing found".
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["table_cell"] = table_cell
    env.filters["literal"] = literal
    # The scaffold's user values are data: each file's language has its filter (tests/test_scaffold_hostile.py
    # fails on a template value without one), so a value can never close a quote and become code.
    env.filters["py"] = py_string
    env.filters["toml"] = toml_string
    env.filters["md"] = md_text
    env.filters["md_prose"] = md_prose
    env.filters["ident"] = identifier
    env.filters["make"] = make_value
    # The HTML reports' charts: geometry computed in Python (omgml.plots), drawn by templates/reports/_charts.html.j2.
    env.globals.update(
        effect_chart=effect_chart,
        category_chart=category_chart,
        histogram_chart=histogram_chart,
        findings_chart=findings_chart,
        null_chart=null_chart,
        stage_strip=stage_strip,
        leaderboard_chart=leaderboard_chart,
        range_chart=range_chart,
        confusion_grid=confusion_grid,
        residual_plot=residual_plot,
        recent_drift_chart=recent_drift_chart,
        recent_errors_chart=recent_errors_chart,
        recent_performance_chart=recent_performance_chart,
        fmt=fmt,
        percent=percent,
        STRIP_HEIGHT=STRIP_HEIGHT,
        compare_scores_chart=compare_scores_chart,
        compare_difference_chart=compare_difference_chart,
    )
    return env


@cache
def environment() -> jinja2.Environment:
    """The package's templates (the scaffold under ``project/``, the reports under ``reports/``)."""
    return _environment(jinja2.FileSystemLoader(str(asset_dir("templates"))))


class _ProjectTemplates(jinja2.FileSystemLoader):
    """``<project>/.omgml/templates/``, refusing a file that resolves outside the project (a symlink out)."""

    def __init__(self, project: Path) -> None:
        self.project = project
        super().__init__(str(project / OVERRIDES))

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        resolve_inside(self.project, filename, "template override")
        return source, filename, uptodate


class _PackageReports(jinja2.FileSystemLoader):
    """The package's reports, stale once the project adds an override of the same name (a long-lived server)."""

    def __init__(self, overrides: Path) -> None:
        self.overrides = overrides
        super().__init__(str(asset_dir("templates") / "reports"))

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        override = self.overrides / template
        return source, filename, lambda: uptodate() and not override.exists()


@lru_cache(maxsize=16)
def report_environment(project: Path | None) -> jinja2.Environment:
    """Reports by file name: the project's override first, then the package's; ``omgml:NAME`` is the package's."""
    package = jinja2.FileSystemLoader(str(asset_dir("templates") / "reports"))
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({PACKAGE_PREFIX: package}, delimiter=":")]
    if project is not None:
        loaders.append(_ProjectTemplates(project))
    loaders.append(package if project is None else _PackageReports(project / OVERRIDES))
    return _environment(jinja2.ChoiceLoader(loaders))


def py_string(value: Any) -> str:
    """A double-quoted Python string literal that evaluates to ``str(value)``, whatever it holds.

    Printable characters stay as they are (CJK and emoji read as themselves); every other one, including
    NUL, newlines, bidi controls such as U+202E and lone surrogates, becomes the escape ``repr`` gives it,
    so the generated source is valid and shows no invisible characters.
    """
    return '"' + "".join(_PY_ESCAPES.get(c) or (c if c.isprintable() else repr(c)[1:-1]) for c in str(value)) + '"'


_PY_ESCAPES = {'"': '\\"', "\\": "\\\\"}


def toml_string(value: Any) -> str:
    """A TOML basic string that parses to ``str(value)``: quote, backslash and every control character escaped.

    TOML 1.0 forbids U+0000-U+001F (tab aside) and U+007F raw in a basic string, so each becomes ``\\uXXXX``
    (json.dumps leaves DEL raw, which is why it is not used here). A lone surrogate has no TOML form: callers
    refuse it first (``omgml.project.init``).
    """
    return (
        '"' + "".join(_TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if _is_control(c) else c) for c in str(value)) + '"'
    )


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _is_control(char: str) -> bool:
    return char < " " or char == "\x7f"


# Characters that start markup anywhere in a line: code, emphasis, links, images, HTML, entities, tables,
# strikethrough, heading closers. The rest of ASCII punctuation is left as typed, so 'churn-model' reads as itself.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&!|~#])")
# ... and what starts a block at the start of a line: a list item ('- ', '+ ', '1. ', '1) ') or a setext line.
_MD_BLOCK_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


def md_text(value: Any) -> str:
    """Plain text inside Markdown: no markup, links or HTML, one line (safe in a heading, a list item, a paragraph).

    Whitespace runs, newlines included, become one space; other control characters become U+FFFD, as
    CommonMark does for NUL. Markup characters are backslash-escaped, which CommonMark allows for any
    ASCII punctuation.
    """
    text = " ".join(str(value).split())
    text = "".join("\ufffd" if _is_control(c) else c for c in text)
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_BLOCK_START.sub(lambda m: "\\" + m[1] if not m[1].isdigit() else m[1] + "\\", text)


_MD_HTML = re.compile(r"([<>&])")


def md_prose(value: Any) -> str:
    """omgml's own sentences, which may quote user values, as one Markdown line that cannot hold raw HTML.

    Backticks and emphasis are kept (the sentences use them for commands), so a quoted name can at worst
    misformat its line; it can neither start a tag nor a new block.
    """
    return _MD_HTML.sub(r"\\\1", " ".join(str(value).split()))


def identifier(value: Any) -> str:
    """``value`` unchanged when it is a Python identifier (safe unquoted in any scaffold file), else a bug."""
    text = str(value)
    if not text.isidentifier() or not text.isascii():
        raise ValueError(f"{text!r} is not an ASCII identifier; render it with a quoting filter (py, toml, md)")
    return text


def make_value(value: Any) -> str:
    """``value`` as the right-hand side of a Makefile assignment: ``$`` and ``#`` escaped, one line, or a bug.

    Recipes must read it from the environment (``export NAME`` then ``"$$NAME"``), so the shell never parses it.
    """
    text = str(value)
    if any(_is_control(c) for c in text) or text != text.strip() or text.endswith("\\"):
        raise ValueError(
            f"{text!r} cannot be a Makefile value: a control character, edge whitespace or a final backslash"
        )
    return text.replace("$", "$$").replace("#", "\\#")


def literal(value: Any) -> str:
    """A data value as JSON text, so "" and " " differ; unlike jinja's ``tojson`` it leaves ``<`` as ``<`` (markdown
    is escaped by ``md`` after it, HTML by autoescape), where ``\\u003c`` would reach an agent as noise."""
    return json.dumps(value, ensure_ascii=False, default=str)


def table_cell(value: Any) -> str:
    """Make a value safe inside a markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def template_name(result: BaseModel) -> str:
    """``InitResult`` renders with ``init_result``: the file name follows the result type."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(result).__name__).lower()


def has_template(result: BaseModel, fmt: Literal["md", "html"], project: Path | None = None) -> bool:
    """Whether ``result`` has a ``fmt`` report: omgml's own, or the project's override."""
    name = f"{template_name(result)}.{fmt}.j2"
    overridden = project is not None and (project / OVERRIDES / name).is_file()
    return overridden or (asset_dir("templates") / "reports" / name).is_file()


def render(
    result: BaseModel,
    fmt: Literal["md", "html"] = "md",
    project: str | Path | None = None,
    created_at: str | None = None,
) -> str:
    """Render a result with ``<result type>.<fmt>.j2``: the ``project``'s override, else ``templates/reports/``'s.

    ``created_at`` is the time the saved copy was stamped with, shown in an HTML report's header.
    """
    root = Path(project).resolve() if project is not None else None
    name = f"{template_name(result)}.{fmt}.j2"
    try:
        text = report_environment(root).get_template(name).render(r=result, created_at=created_at)
    except jinja2.TemplateError as exc:
        override = root / OVERRIDES / name if root is not None else None
        if override is None or not override.exists():
            raise  # omgml's own template is broken: a bug, not the user's to fix
        raise ConfigError(
            f"The report template {override} failed: {first_line(exc)}",
            f"a project's {OVERRIDES}/{name} replaces omgml's report; it must be valid jinja that uses only "
            "the result's fields (r.<field>)",
            f'fix or delete it; {{% extends "{PACKAGE_PREFIX}:{name}" %}} keeps omgml\'s report and adds to it',
        ) from exc
    return text.strip() + "\n"


def render_string(source: str, **context: Any) -> str:
    return environment().from_string(source).render(**context)
