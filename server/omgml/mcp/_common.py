"""What every MCP tool shares: its spec, the workspace root, and the call that turns a service into a result."""

from __future__ import annotations

import base64
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlparse

import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import BaseModel, Field

from omgml.errors import OmgmlError, PathError, first_line, unexpected_error
from omgml.mcp import preload
from omgml.progress import reporting
from omgml.workspace import ROOT_ENV_VARS, default_root, resolve_inside, too_broad

logger = logging.getLogger("omgml.mcp")

# A presentation option of this face, not a request field: the CLI and the Python API have the HTML report.
IncludeImage = Annotated[bool, Field(description="Add a PNG of the main chart.")]
# What draws a result's main chart: the PNG, or the sentence that says why there is none.
Picture = Callable[[BaseModel], bytes | str]


@dataclass(frozen=True)
class ToolSpec:
    """A tool and its annotations; the server registers every spec in ``omgml.mcp.tools.TOOLS``."""

    fn: Callable[..., Any]
    title: str
    read_only: bool
    destructive: bool = False
    idempotent: bool = False


async def workspace_root(ctx: Context | None) -> Path:
    """The folder every path argument must stay in: env var, else the client's first root, else the cwd.

    A root of ``/``, the home folder (or a folder above it) or a system folder is refused (``too_broad``), on this
    face only: here the root is implicit -- Claude Desktop starts servers in ``/`` -- and confinement to it is the
    agent's only fence. The CLI and the Python API take the cwd a person chose, as they mean it.
    """
    root, source = await _root_and_source(ctx)
    problem = too_broad(root)
    if problem:
        raise PathError(
            f"The workspace root is {root} ({source}): {problem}",
            "every path a tool takes must stay inside the root, and a root this broad confines nothing "
            f"(project_dir 'churn' would be {root / 'churn'})",
            "set OMGML_PROJECT_DIR to the project folder in the server's env, let the client send its roots, "
            "or run `omgml install <client> --project-dir <folder>`",
        )
    return root


async def _root_and_source(ctx: Context | None) -> tuple[Path, str]:
    for var in ROOT_ENV_VARS:
        if os.environ.get(var):
            return default_root(), var
    capabilities = None if ctx is None else ctx.client_capabilities
    if capabilities is not None and capabilities.roots is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # roots are deprecated in 2026-07-28 but older clients offer them
                roots = (await ctx.session.list_roots()).roots
        except Exception:  # noqa: BLE001 -- a client without roots support: the other sources decide
            roots = []
        for root in roots:
            uri = urlparse(str(root.uri))
            if uri.scheme == "file" and Path(unquote(uri.path)).is_dir():
                return Path(unquote(uri.path)).resolve(), "the client's root"
    return default_root(), "the server's working directory"


def request_of(model: type[BaseModel], arguments: dict[str, Any]) -> dict[str, Any]:
    """The tool's own arguments (its ``locals()``) that are ``model``'s fields: the request, as the tool received it.

    A dict, not the model: the service validates it, so a bad value comes back as the service's readable error.
    """
    return {name: arguments[name] for name in model.model_fields}


async def call_service(
    service: Callable[..., BaseModel], request: BaseModel | dict, ctx: Context | None, picture: Picture | None = None
) -> CallToolResult:
    """Run a service off the event loop; return its result as structured content plus rendered markdown.

    With ``picture`` (the tool's ``include_image``), the markdown is followed by the main chart as a PNG image.
    An ``OmgmlError`` becomes a tool error with its text; any other exception is a bug: the agent gets one line
    that says which service failed and asks for a report, and the traceback goes to stderr (the log).
    """
    async with preload.call_turn():  # the warm-up pauses while calls run
        return await _called(service, request, ctx, picture)


async def _called(
    service: Callable[..., BaseModel], request: BaseModel | dict, ctx: Context | None, picture: Picture | None
) -> CallToolResult:
    from omgml.render import render  # jinja2 on the first call, not at server start

    try:
        root = await workspace_root(ctx)
        # The project's .omgml/templates/ may override the report (every request names its project_dir).
        project_dir = request.get("project_dir") if isinstance(request, dict) else getattr(request, "project_dir", None)
        result = await anyio.to_thread.run_sync(_reported, service, request, root, _reporter(ctx))
        text = render(result, "md", resolve_inside(root, project_dir or ".", "project dir"))
        structured = result.model_dump(mode="json")
    except OmgmlError as exc:
        raise ToolError(str(exc)) from exc
    except Exception as exc:
        logger.exception("%s raised an unexpected %s", service.__name__, type(exc).__name__)
        raise ToolError(unexpected_error(service.__name__, exc)) from exc
    content: list[TextContent | ImageContent] = [TextContent(type="text", text=text)]
    if picture is not None:
        content.append(await anyio.to_thread.run_sync(_drawn, picture, result))
    return CallToolResult(content=content, structured_content=structured)


def _drawn(picture: Picture, result: BaseModel) -> TextContent | ImageContent:
    """The chart as image content, or a line saying why there is none.

    A chart that fails to draw is a bug, but the result is computed and saved: the agent gets the result, the
    reason in one line, and the traceback goes to the log.
    """
    try:
        drawn = picture(result)
    except Exception as exc:  # the result above stands without its picture
        logger.exception("drawing the chart of a %s failed", type(result).__name__)
        drawn = f"No image: drawing the chart failed ({type(exc).__name__}: {first_line(exc)}); please report it."
    if isinstance(drawn, str):
        return TextContent(type="text", text=drawn)
    return ImageContent(type="image", data=base64.b64encode(drawn).decode("ascii"), mime_type="image/png")


def _reporter(ctx: Context | None) -> Any:
    """What tells the client how the service is getting on; None outside a request."""
    from omgml.mcp._progress import ClientReporter

    try:
        return ClientReporter(ctx) if ctx is not None else None
    except ValueError:  # a Context outside a request
        return None


def _reported(service: Callable[..., BaseModel], request: BaseModel | dict, root: Path, reporter: Any) -> BaseModel:
    """``service(request)`` in this worker thread, its progress steps sent to ``reporter``."""
    with reporting(reporter):
        try:
            return service(request, root=root)
        finally:
            if reporter is not None:
                reporter.finish()
