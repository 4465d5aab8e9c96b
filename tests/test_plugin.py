"""The Claude Code plugin in the repo: /omgml:<command> for every command, each naming a real tool."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from omgml.mcp.prompts import load_prompts
from omgml.mcp.tools import TOOLS
from tests import agent_clis
from tests.conftest import REPO, run_cli

COMMANDS = {"init", "status", "validate", "drift", "baseline", "monitor"}


def test_plugin_manifest_and_marketplace():
    plugin = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    assert plugin["name"] == "omgml"  # commands are named /<plugin name>:<command>
    market = json.loads((REPO / ".claude-plugin" / "marketplace.json").read_text())
    assert market["owner"]["name"] and market["name"]
    assert market["description"]  # `claude plugin validate` warns without it
    [entry] = market["plugins"]
    assert (entry["name"], entry["source"]) == ("omgml", "./")


def test_plugin_mcp_server_launches_omgml_from_the_plugin():
    server = json.loads((REPO / ".mcp.json").read_text())["mcpServers"]["omgml"]
    # Plain ${CLAUDE_PLUGIN_ROOT}: Claude Code expands the ${VAR:-default} form to its default, so `:-.` built
    # omgml from the user's project folder, which has no pyproject.
    assert (server["command"], server["args"]) == ("uvx", ["--from", "${CLAUDE_PLUGIN_ROOT}", "omgml-mcp"])


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
    import anyio
    from mcp import Client, StdioServerParameters

    server = json.loads((REPO / ".mcp.json").read_text())["mcpServers"]["omgml"]
    args = [arg.replace("${CLAUDE_PLUGIN_ROOT}", str(REPO)) for arg in server["args"]]
    env = agent_clis.isolated_env(tmp_path / "home")

    async def list_tools() -> list[str]:
        with anyio.fail_after(600):
            params = StdioServerParameters(command=agent_clis.uvx(), args=args, env=env, cwd=str(tmp_path))
            async with Client(params) as client:
                return [t.name for t in (await client.list_tools()).tools]

    assert anyio.run(list_tools) == [spec.fn.__name__ for spec in TOOLS]


# The real clients, installed by npm (skipped with the reason when npm cannot): their health checks start the server.


@pytest.fixture(scope="session")
def claude() -> Path:
    return agent_clis.npm_cli("@anthropic-ai/claude-code@latest", "claude")


@pytest.fixture(scope="session")
def opencode() -> Path:
    return agent_clis.npm_cli("opencode-ai@latest", "opencode")


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def test_claude_code_installs_the_plugin_and_connects_its_server(claude, home, work, tmp_path):
    env = agent_clis.isolated_env(home)
    plugin = agent_clis.plugin_copy(tmp_path / "omgml-plugin")
    print(agent_clis.run([claude, "--version"], env, work).strip())
    validated = agent_clis.run([claude, "plugin", "validate", plugin], env, work)
    # Manifest warnings ("⚠ Found 1 warning:", e.g. no marketplace description) fail; the catalog's own
    # "plugin directory" advice (an icon) does not change the verdict.
    assert "✔ Validation passed" in validated and not re.search(r"Found \d+ warnings?:", validated), validated
    added = agent_clis.run([claude, "plugin", "marketplace", "add", plugin], env, work)
    assert "Successfully added marketplace: omgml" in added, added
    installed = agent_clis.run([claude, "plugin", "install", "omgml@omgml"], env, work)
    assert "Successfully installed plugin: omgml@omgml" in installed, installed
    listed = agent_clis.run([claude, "mcp", "list"], env, work, timeout=600)
    assert has_line(r"^plugin:omgml:omgml: .*uvx --from \S*omgml-plugin\S* omgml-mcp - ✔ Connected$", listed), listed


def has_line(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.MULTILINE) is not None


def _install(client: str, project: Path, env: dict) -> str:
    # venv: the tests' omgml is an editable checkout, a local source that `auto` keeps out of project files.
    done = run_cli(
        "install", client, "--scope", "project", "--launcher", "venv", "--project-dir", str(project), env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_claude_code_project_install_waits_for_approval_then_connects(claude, home, work):
    env = agent_clis.isolated_env(home)
    shown = _install("claude-code", work, env)
    assert "Claude Code asks once before starting servers from .mcp.json: run `claude` in this folder" in shown
    pending = agent_clis.run([claude, "mcp", "list"], env, work)
    assert has_line(r"^omgml: .*omgml-mcp\s+- ⏸ Pending approval", pending), pending
    (home / ".claude").mkdir(exist_ok=True)
    (home / ".claude" / "settings.json").write_text(json.dumps({"enableAllProjectMcpServers": True}))
    connected = agent_clis.run([claude, "mcp", "list"], env, work)
    assert has_line(r"^omgml: .*omgml-mcp\s+- ✔ Connected$", connected), connected


def test_opencode_project_install_connects(opencode, home, work):
    env = agent_clis.isolated_env(home)
    print("opencode", agent_clis.run([opencode, "--version"], env, work).strip())
    _install("opencode", work, env)
    listed = agent_clis.run([opencode, "mcp", "list"], env, work)
    assert re.search(r"✓ omgml connected", listed), listed
