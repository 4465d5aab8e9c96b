"""``make demo``: drive omgml-mcp over stdio the way an agent would, and print what the agent sees.

Runs on embedded defaults in a temporary folder; nothing outside it is touched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters


def _server_command() -> str:
    found = Path(sys.executable).with_name("omgml-mcp")
    return str(found) if found.exists() else (shutil.which("omgml-mcp") or "omgml-mcp")


async def _call(client: Client, tool: str, arguments: dict) -> None:
    print(f"\n>>> agent calls {tool}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})\n")
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    for block in result.content:
        print(getattr(block, "text", block))
    print(f"<<< {'ERROR' if result.is_error else 'ok'} in {time.perf_counter() - started:.2f}s")


async def run(workdir: Path) -> None:
    params = StdioServerParameters(command=_server_command(), cwd=str(workdir), env={**os.environ, "OMGML_PROJECT_DIR": str(workdir)})
    async with Client(params) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        print(f"omgml-mcp over stdio: tools {', '.join(tools)}; prompts {', '.join('/' + p for p in prompts)}")
        await _call(client, "omgml_init", {"project_dir": "churn", "name": "Churn Model", "task": "binary",
                                           "target": "churned", "description": "Which customers leave next month"})
        await _call(client, "omgml_status", {"project_dir": "churn"})


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="omgml-demo-") as workdir:
        print(f"demo project root: {workdir}")
        anyio.run(run, Path(workdir))


if __name__ == "__main__":
    main()
