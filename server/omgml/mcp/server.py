"""Build and run the omgml MCP server (stdio by default, streamable HTTP on 127.0.0.1 on request)."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Self

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage
from mcp.types import EmptyResult, SetLevelRequestParams, ToolAnnotations
from mcp.types import Prompt as MCPPrompt
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from omgml import __version__
from omgml.mcp import preload
from omgml.mcp._common import ToolSpec
from omgml.mcp._progress import set_log_level
from omgml.mcp.prompts import PromptFile, load_prompts
from omgml.mcp.tools import TOOLS

INSTRUCTIONS = """\
omgml gives computed, repeatable answers for building ML systems; prefer its tools over improvising.
- omgml_status first, to see where the project stands (lifecycle stages, readiness, next step).
- omgml_init to start a project: ask for the task (binary, multiclass, regression) and target column.
- omgml_validate_data before training on a table (pass the test set as `against`); save a contract once from trusted data.
- omgml_train_baseline for the first model: cross-validated dummy, linear and boosted trees, logged to MLflow, best registered.
- omgml_check_drift to compare new data with the training data (save a reference profile once with save_reference).
- omgml_monitor_batch on each new batch: validation, drift, champion performance, alert rules from omgml.toml, history.
- omgml_compare_models before moving @champion: champion vs challengers on held-out rows, decision with a CI.
- omgml_promote_model on a compare decision that says promote; omgml_rollback_model to go back to @previous.
Paths are relative to the project root; results are structured, and markdown summaries are short.
"""


class OmgmlServer(MCPServer):
    """``MCPServer`` with what an agent reads kept short: one-line argument errors and lean schemas.

    Both go through the SDK's public overrides (``call_tool``, ``list_tools``); the server still validates
    arguments and results against the full pydantic models, so only what is published and said gets shorter.
    """

    _inputs: dict[str, dict[str, Any]] | None = None  # each tool's full input schema, read on the first call
    _prompts_added = False
    warm_up = False  # serve() turns it on: a client's first listing or call starts omgml.mcp.preload

    def _start_warm_up(self) -> None:
        if self.warm_up:
            preload.start()

    def _add_prompts(self) -> None:
        """Read the prompt files on the first prompts request: initialize answers sooner (Cline allows 3 s)."""
        if not self._prompts_added:
            self._prompts_added = True
            for prompt in load_prompts():
                self.add_prompt(_as_mcp_prompt(prompt))

    async def list_prompts(self) -> list[MCPPrompt]:
        self._add_prompts()
        return await super().list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        self._add_prompts()
        return await super().get_prompt(name, arguments, context)

    async def list_tools(self) -> list[MCPTool]:
        self._start_warm_up()
        tools = await super().list_tools()
        return [
            tool.model_copy(
                update={
                    "description": (tool.description or "").split("\n\n")[0].strip(),
                    "input_schema": lean_input(tool.input_schema),
                    "output_schema": None if tool.output_schema is None else outline(tool.output_schema),
                }
            )
            for tool in tools
        ]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        self._start_warm_up()
        if self._inputs is None:  # argument names and allowed values come from the SDK's full schemas
            self._inputs = {t.name: t.input_schema for t in await super().list_tools()}
        schema = self._inputs.get(name)  # None: an unknown tool, which the SDK reports
        accepted = list(schema.get("properties", {})) if schema is not None else []
        # The SDK drops names it does not know, so a misspelt data_pth would run with data_path unset.
        unknown = [key for key in arguments if schema is not None and key not in accepted]
        if unknown:
            raise ToolError(
                f"{name}: invalid arguments: unknown {_plural(unknown, 'argument')} "
                f"{', '.join(map(_shown, unknown))}; accepted: {', '.join(accepted)}"
            )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc, UnexpectedToolError) and isinstance(exc.__cause__, ValidationError):
                # ``from`` the ValidationError: the SDK logs the rejected field names from it
                raise ToolError(argument_errors(name, exc.__cause__, schema or {})) from exc.__cause__
            raise


def _plural(items: list, word: str) -> str:
    return word if len(items) == 1 else word + "s"


def _shown(value: Any, limit: int = 40) -> str:
    """A value the caller sent, for a one-line message: its repr, cut short."""
    text = repr(value).replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def argument_errors(name: str, error: ValidationError, schema: dict[str, Any]) -> str:
    """Pydantic's errors for a tool's arguments as one line: each argument, what was wrong, what is allowed."""
    parts = []
    for err in error.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "arguments"
        if err["type"] == "missing":
            parts.append(f"'{field}' is required")
            continue
        allowed = _allowed(schema.get("properties", {}).get(str(err["loc"][0]), {})) if err["loc"] else None
        if err["type"] in ("literal_error", "enum") and allowed:
            problem = "must be one of " + ", ".join(repr(v) for v in allowed)
        else:  # "Input should be a valid string" -> "should be a valid string"
            msg = err["msg"]
            head, _, rest = msg.partition(" should ")
            problem = f"should {rest}" if rest and " " not in head else msg[:1].lower() + msg[1:]
        parts.append(f"'{field}' {problem} (got {_shown(err.get('input'))})")
    return f"{name}: invalid arguments: " + "; ".join(parts)


def _allowed(schema: dict[str, Any]) -> list[Any] | None:
    """The values an argument's schema allows, when it lists them (directly, in an array's items, or in anyOf)."""
    for branch in (schema, schema.get("items", {}), *schema.get("anyOf", ())):
        if isinstance(branch, dict) and "enum" in branch:
            return [v for v in branch["enum"] if v is not None]
        if isinstance(branch, dict) and branch.get("items", {}).get("enum"):
            return branch["items"]["enum"]
    return None


_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
# Size guards no agent comes near (a 4096-character path): the server still enforces them, in one line.
_UNPUBLISHED = frozenset({"title", "maxLength", "minLength", "maxItems", "minItems", "pattern"})


def lean_input(schema: Any) -> Any:
    """An input schema without titles or size guards; ``anyOf [X, null]`` is ``X`` when null is the default, else
    ``type: [X, "null"]``.

    Same meaning, fewer bytes: every agent conversation carries ``tools/list`` in its context.
    """
    if isinstance(schema, list):
        return [lean_input(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _UNPUBLISHED or (key == "default" and _empty(value)):  # what "not required" says already
            continue
        out[key] = {n: lean_input(s) for n, s in value.items()} if key in _SCHEMA_MAPS else lean_input(value)
    branches = out.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and {"type": "null"} in branches:
        other = branches[1 - branches.index({"type": "null"})]
        if isinstance(other.get("type"), str):
            del out["anyOf"]
            if schema.get("default") is None:
                # null is what leaving the argument out means already: publish the value's type alone (the
                # server still accepts null, so a caller that sends it is not refused)
                return {**other, **out}
            folded = {**other, "type": [other["type"], "null"]}
            if "enum" in folded:
                folded["enum"] = [*folded["enum"], None]
            out = {**folded, **out}
    return out


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def outline(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema cut to the result's top-level properties and their types.

    Looser than the result on purpose: clients validate ``structuredContent`` against it (the Python and
    TypeScript SDKs do), so nothing here may refuse a real result: no ``additionalProperties: false``, no
    ``$ref`` left pointing at the dropped ``$defs``, no ``required`` (it would only repeat every name, as
    ``model_dump`` writes every field). The server still checks each result against the full model.
    """
    defs = schema.get("$defs", {})
    out: dict[str, Any] = {"type": "object"}
    properties = schema.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {n: _type_only(s, defs) for n, s in properties.items()}
    return out


def _type_only(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """``{"type": ...}`` for one property; ``{}`` (any value) when it cannot be said simply."""
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = defs.get(ref.removeprefix("#/$defs/"), {})
    if "anyOf" in schema:
        types = [_type_only(branch, defs).get("type") for branch in schema["anyOf"]]
        flat = [t for t in types if isinstance(t, str)]
        return {"type": list(dict.fromkeys(flat))} if len(flat) == len(types) else {}
    return {"type": schema["type"]} if "type" in schema else {}


def build_server() -> MCPServer:
    server = OmgmlServer("omgml", title="omgml", instructions=INSTRUCTIONS, version=__version__)
    for spec in TOOLS:
        server.add_tool(
            spec.fn,
            title=spec.title,
            annotations=_annotations(spec),
        )
    # logging/setLevel (handshake-era clients; 2026-07-28 clients opt in per request): the level is kept per
    # connection and bounds the log messages long steps send (omgml.mcp._progress). Private, as run_stdio's.
    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, _set_log_level)
    return server


async def _set_log_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
    set_log_level(ctx, params.level)
    return EmptyResult()


def _annotations(spec: ToolSpec) -> ToolAnnotations:
    """The spec's hints, each only where it differs from the MCP default, as every conversation carries them.

    Defaults: read-only false, destructive true, idempotent false, open-world true; destructive and idempotent
    mean something only for a tool that writes. The title is the tool's own ``title``, not repeated here.
    """
    if spec.read_only:
        return ToolAnnotations(read_only_hint=True, open_world_hint=False)
    return ToolAnnotations(
        destructive_hint=None if spec.destructive else False,
        idempotent_hint=True if spec.idempotent else None,
        open_world_hint=False,
    )


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
    server.warm_up = True  # OMGML_PRELOAD=0 still turns it off (preload.start)
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
