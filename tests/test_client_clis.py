"""The real Codex and Gemini CLIs read what ``omgml install codex|gemini`` wrote (skipped, saying why, without npm).

Codex's ``mcp get`` parses the TOML and prints the entry (``codex mcp list`` does not start servers); Gemini's
``mcp list`` connects, in a folder it trusts.
"""

from __future__ import annotations

import json
import os

import pytest

from omgml.install.service import install_client
from tests.agent_clis import isolated_env, npm_cli, run

CODEX = ("@openai/codex@0.171.0", "codex")
GEMINI = ("@google/gemini-cli@0.61.0", "gemini")


@pytest.fixture
def env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    env = isolated_env(home)
    env["CODEX_HOME"] = str(home / ".codex")
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")  # the server the CLI starts runs this checkout's omgml
    for key in ("HOME", "XDG_CONFIG_HOME", "CODEX_HOME"):
        monkeypatch.setenv(key, env[key])
    return env


def test_codex_reads_the_user_and_the_trusted_project_entry(env, tmp_path):
    codex = npm_cli(*CODEX)
    project = tmp_path / "proj"
    project.mkdir()
    install_client({"client": "codex", "scope": "user"})
    shown = run([codex, "mcp", "get", "omgml"], env, project)
    assert "startup_timeout_sec: 60" in shown and "tool_timeout_sec: 600" in shown, shown
    uninstall = run([codex, "mcp", "remove", "omgml"], env, project)
    assert "omgml" in uninstall
    install_client({"client": "codex", "project_dir": str(project), "launcher": "venv"})
    untrusted = run([codex, "mcp", "list"], env, project)
    assert "omgml" not in untrusted, "Codex reads .codex/config.toml only in a trusted project"
    with open(env["CODEX_HOME"] + "/config.toml", "a", encoding="utf-8") as handle:
        handle.write(f'\n[projects.{json.dumps(str(project))}]\ntrust_level = "trusted"\n')
    trusted = run([codex, "mcp", "list"], env, project)
    assert "omgml" in trusted, trusted


def test_gemini_connects_to_the_project_entry_in_a_trusted_folder(env, tmp_path):
    gemini = npm_cli(*GEMINI)
    project = tmp_path / "proj"
    project.mkdir()
    install_client({"client": "gemini", "project_dir": str(project), "launcher": "venv"})
    untrusted = run([gemini, "mcp", "list"], env, project, timeout=180)
    assert "untrusted" in untrusted, untrusted
    gemini_dir = tmp_path / "home" / ".gemini"
    gemini_dir.mkdir(exist_ok=True)
    (gemini_dir / "trustedFolders.json").write_text(json.dumps({str(project): "TRUST_FOLDER"}))
    listed = run([gemini, "mcp", "list"], env, project, timeout=180)
    assert "✓ omgml" in listed and "Connected" in listed, listed
