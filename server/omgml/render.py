"""The one jinja environment: reports for agents and people, and the project scaffold."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, Literal

import jinja2
from pydantic import BaseModel

from omgml.assets import asset_dir


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(asset_dir("templates"))),
        # Missing variables must fail loudly, not render as blanks that read as "nothing found".
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["table_cell"] = table_cell
    env.filters["quote"] = quote
    return env


def quote(value: Any) -> str:
    """A double-quoted string literal valid in TOML, Python and JSON alike."""
    return json.dumps(str(value), ensure_ascii=False)


def table_cell(value: Any) -> str:
    """Make a value safe inside a markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def template_name(result: BaseModel) -> str:
    """``InitResult`` renders with ``init_result``: the file name follows the result type."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(result).__name__).lower()


def render(result: BaseModel, fmt: Literal["md", "html"] = "md") -> str:
    """Render a result with ``templates/reports/<result type>.<fmt>.j2``."""
    template = environment().get_template(f"reports/{template_name(result)}.{fmt}.j2")
    return template.render(r=result).strip() + "\n"


def render_string(source: str, **context: Any) -> str:
    return environment().from_string(source).render(**context)
