"""Build and run the omgml MCP server (stdio by default, streamable HTTP on 127.0.0.1 on request)."""

from __future__ import annotations

import logging
import sys

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
        server.run()


def main() -> None:
    serve()


if __name__ == "__main__":
    main()
