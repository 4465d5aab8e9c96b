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
