"""The Claude Code plugin in the repo: /omgml:<command> for every command, each naming a real tool."""

from __future__ import annotations

import json
import re

import yaml

from omgml.mcp.prompts import load_prompts
from omgml.mcp.tools import TOOLS
from tests.conftest import REPO

COMMANDS = {"init", "status", "validate", "drift", "baseline"}


def test_plugin_manifest_and_marketplace():
    plugin = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    assert plugin["name"] == "omgml"  # commands are named /<plugin name>:<command>
    market = json.loads((REPO / ".claude-plugin" / "marketplace.json").read_text())
    assert market["owner"]["name"] and market["name"]
    [entry] = market["plugins"]
    assert (entry["name"], entry["source"]) == ("omgml", "./")


def test_plugin_mcp_server_launches_omgml_from_the_plugin():
    server = json.loads((REPO / ".mcp.json").read_text())["mcpServers"]["omgml"]
    assert server["command"] == "uvx"
    assert server["args"][-1] == "omgml-mcp" and "${CLAUDE_PLUGIN_ROOT" in server["args"][1]


def test_every_command_exists_and_names_a_tool_that_exists():
    tools = {spec.fn.__name__ for spec in TOOLS}
    files = {path.stem: path for path in (REPO / "commands").glob("*.md")}
    assert set(files) == COMMANDS
    for name, path in files.items():
        text = path.read_text()
        header, body = text[4:].split("\n---\n", 1)
        meta = yaml.safe_load(header)
        assert set(meta) <= {"description", "argument-hint", "allowed-tools", "model", "disable-model-invocation"}
        assert meta["description"]
        named = set(re.findall(r"`(omgml_[a-z_]+)`", body))
        assert named and named <= tools, f"/omgml:{name} names {named - tools}, which no tool provides"


def test_every_command_is_also_an_mcp_prompt():
    assert COMMANDS <= {prompt.name for prompt in load_prompts()}


def test_every_prompt_keeps_its_steps_on_their_own_lines():
    """A jinja tag ending a line eats its newline (trim_blocks): the next step must not be glued to it."""
    for prompt in load_prompts():
        steps = re.findall(r"^\d+\. ", prompt.body, re.MULTILINE)
        for values in ({}, {arg.name: "x" for arg in prompt.arguments}):
            assert re.findall(r"^\d+\. ", prompt.render(values), re.MULTILINE) == steps, prompt.name


def test_commands_are_generated_from_the_prompts():
    """One source per command: edit prompts/NAME.md, then run `python scripts/gen_commands.py`."""
    from scripts.gen_commands import commands

    wanted = commands()
    assert set(wanted) == set((REPO / "commands").glob("*.md"))
    for path, text in wanted.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is out of date: run scripts/gen_commands.py"


def test_plugin_mcp_command_starts_the_server_through_uvx(tmp_path):
    """The plugin's launch line, run for real: uvx builds omgml from the plugin folder and serves it."""
    import os
    import shutil
    import sys
    from pathlib import Path

    import anyio
    from mcp import Client, StdioServerParameters

    uvx = shutil.which("uvx") or str(Path(sys.executable).with_name("uvx"))
    server = json.loads((REPO / ".mcp.json").read_text())["mcpServers"]["omgml"]
    args = [arg.replace("${CLAUDE_PLUGIN_ROOT:-.}", str(REPO)) for arg in server["args"]]
    env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_SYSTEM_CERTS": "1"}

    async def list_tools() -> list[str]:
        with anyio.fail_after(600):
            async with Client(StdioServerParameters(command=uvx, args=args, env=env, cwd=str(tmp_path))) as client:
                return [t.name for t in (await client.list_tools()).tools]

    assert anyio.run(list_tools) == [spec.fn.__name__ for spec in TOOLS]
