"""Build and run the omgml MCP server (stdio by default, streamable HTTP on 127.0.0.1 on request)."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Self

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage
from mcp.types import ToolAnnotations

from omgml import __version__
from omgml.mcp.prompts import PromptFile, load_prompts
from omgml.mcp.tools import TOOLS

INSTRUCTIONS = """\
omgml gives computed, repeatable answers for building ML systems; prefer its tools over improvising.
- omgml_status first, to see where the project stands (lifecycle stages, readiness, next step).
- omgml_init to start a project: ask for the task (binary, multiclass, regression) and target column.
- omgml_validate_data before training on a table (pass the test set as `against`); save a contract once from trusted data.
- omgml_train_baseline for the first model: cross-validated dummy, linear and boosted trees, logged to MLflow, best registered.
- omgml_check_drift to compare new data with the training data (save a reference profile once with save_reference).
Paths are relative to the project root; results are structured, and markdown summaries are short.
"""


def build_server() -> MCPServer:
    server = MCPServer("omgml", title="omgml", instructions=INSTRUCTIONS, version=__version__)
    for spec in TOOLS:
        server.add_tool(
            spec.fn,
            title=spec.title,
            annotations=ToolAnnotations(
                title=spec.title,
                read_only_hint=spec.read_only,
                destructive_hint=spec.destructive,
                idempotent_hint=spec.idempotent,
                open_world_hint=False,
            ),
        )
    for prompt in load_prompts():
        server.add_prompt(_as_mcp_prompt(prompt))
    return server


def _as_mcp_prompt(prompt: PromptFile) -> Prompt:
    def render(**values: str) -> list[UserMessage]:
        return [UserMessage(prompt.render(values))]

    return Prompt(
        name=prompt.name,
        title=prompt.title,
        description=prompt.description,
        arguments=[
            PromptArgument(name=a.name, description=a.description, required=a.required) for a in prompt.arguments
        ],
        fn=render,
    )


def serve(http: bool = False, port: int = 8765) -> None:
    """Run the server. Logs go to stderr: on stdio, stdout carries only the protocol."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="omgml-mcp %(levelname)s %(name)s: %(message)s"
    )
    server = build_server()
    if http:
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        import anyio

        anyio.run(run_stdio, server)


async def run_stdio(server: MCPServer) -> None:
    """``MCPServer.run_stdio_async``, with the SDK's read stream behind ``SurrogateSafeStream``."""
    from mcp.server.stdio import stdio_server

    lowlevel = server._lowlevel_server  # private, but the SDK's own run_stdio_async uses it
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(SurrogateSafeStream(read_stream), write_stream, lowlevel.create_initialization_options())


_SURROGATE = re.compile(r"[\ud800-\udfff]")


class SurrogateSafeStream:
    """The stdio read stream, with requests that carry a lone surrogate escape answered instead of dropped.

    ``"\\ud800"`` is legal JSON, but the SDK's parser (pydantic's, whose strings must be valid UTF-8) refuses
    it and yields the error to the session, which drops it: the client waits for a reply that never comes.
    The SDK's stdin reader already decodes invalid UTF-8 bytes with ``errors="replace"``; this does the same
    for the escaped form: a line the SDK refused is parsed with ``json`` (which keeps lone surrogates), each
    one becomes U+FFFD, and the message goes on, so the tool answers (with a path not found, say).
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def last_context(self) -> Any:  # the SDK runs each message in the context it was sent from
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        item = await self._inner.receive()
        return _repaired(item) if isinstance(item, Exception) else item

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _repaired(error: Exception) -> Any:
    """The message the SDK could not parse, with lone surrogates replaced; ``error`` itself when that is not it."""
    import json

    import mcp_types
    from mcp.shared.message import SessionMessage
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return error
    line = next((e.get("input") for e in error.errors() if e.get("type") == "json_invalid"), None)
    if not isinstance(line, str) or "\\u" not in line:
        return error
    try:
        text = json.dumps(_scrub(json.loads(line)))
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(text, by_name=False))
    except (ValueError, RecursionError):  # not JSON, too deep, or still not a message: the SDK's handling stands
        return error


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def main() -> None:
    serve()


if __name__ == "__main__":
    main()
