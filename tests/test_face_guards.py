"""What the faces do when omgml itself fails (a bug) and when a client sends what the SDK cannot parse."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from mcp import Client

from omgml.mcp.server import build_server

# A service that fails the way a bug does: a KeyError, not an OmgmlError.
BROKEN_STATUS = (
    "import omgml.project.status as s\n"
    "def broken(request, *, root=None):\n"
    "    return {}['boom']\n"
    "s.project_status = broken\n"
)


def _initialize(request_id: int = 1) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }


def _exchange(code: str, lines: list[str], cwd, timeout: float = 60) -> tuple[dict[int, dict], str]:
    """Run ``code`` (which serves stdio) in a child; send ``lines`` one by one, waiting up to ``timeout`` s for
    each request's reply (the server may drop an in-flight call at EOF); the replies by id and the stderr."""
    import selectors

    replies: dict[int, dict] = {}
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "OMGML_PROJECT_DIR": str(cwd)},
    ) as server:
        watch = selectors.DefaultSelector()
        watch.register(server.stdout, selectors.EVENT_READ)
        for line in lines:
            server.stdin.write(line.encode() + b"\n")
            server.stdin.flush()
            wanted = json.loads(line).get("id")
            while wanted is not None and wanted not in replies and watch.select(timeout):
                reply = server.stdout.readline()
                if not reply:
                    break
                message = json.loads(reply)  # stdout carries only protocol: anything else fails here
                replies[message.get("id")] = message
            if wanted is not None and wanted not in replies:
                break  # no reply in time: the caller's assertion says which
        server.stdin.close()
        server.wait(timeout=30)
        stderr = server.stderr.read().decode()
    return replies, stderr


def _call(request_id: int, name: str, arguments: dict) -> str:
    message = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call"}
    return json.dumps({**message, "params": {"name": name, "arguments": arguments}})


@pytest.mark.anyio
async def test_a_bug_in_a_service_is_one_readable_line_and_a_logged_traceback(tmp_path, monkeypatch, caplog):
    import omgml.project.status

    def broken(request, *, root=None):
        return {}["boom"]

    monkeypatch.setattr(omgml.project.status, "project_status", broken)
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    with caplog.at_level(logging.ERROR, logger="omgml.mcp"):
        async with Client(build_server()) as client:
            result = await client.call_tool("omgml_status", {})
    text = result.content[0].text
    assert result.is_error is True
    assert text.startswith("Error executing tool omgml_status: broken failed unexpectedly: KeyError: 'boom'. ")
    assert "This is a bug in omgml" in text and "please report it" in text and "traceback from stderr" in text
    assert "\n" not in text and "Traceback" not in text
    [record] = [r for r in caplog.records if r.name == "omgml.mcp"]
    assert record.exc_info[0] is KeyError


def test_the_stdio_server_logs_the_traceback_to_stderr_and_keeps_stdout_protocol(tmp_path):
    code = BROKEN_STATUS + "from omgml.mcp.server import serve\nserve()\n"
    initialized = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    replies, stderr = _exchange(code, [json.dumps(_initialize()), initialized, _call(2, "omgml_status", {})], tmp_path)
    result = replies[2]["result"]
    assert result["isError"] is True
    assert "broken failed unexpectedly: KeyError: 'boom'" in result["content"][0]["text"]
    assert "Traceback (most recent call last)" in stderr and "KeyError: 'boom'" in stderr


def test_the_cli_prints_the_traceback_then_one_line_and_exits_70(tmp_path):
    code = BROKEN_STATUS + "from omgml.cli import main\nmain(['status', '.'])\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False
    )
    assert done.returncode == 70
    assert done.stdout == ""
    assert "Traceback (most recent call last)" in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("omgml: error: omgml status failed unexpectedly: KeyError: 'boom'. This is a bug in omgml")


def test_a_lone_surrogate_in_a_request_is_answered(tmp_path):
    """``"\\ud800"`` is legal JSON the SDK refuses; the request must still get its reply (U+FFFD in its place)."""
    initialized = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    lone = _call(2, "omgml_status", {"project_dir": "p\ud800q"})  # json.dumps escapes it as \ud800
    pair = _call(3, "omgml_status", {"project_dir": "\ud83d\ude00"})  # a valid pair stays as it is
    assert "\\ud800" in lone
    code = "from omgml.mcp.server import serve\nserve()\n"
    replies, _ = _exchange(code, [json.dumps(_initialize()), initialized, lone, pair], tmp_path)
    assert {2, 3} <= set(replies)
    assert replies[2]["result"]["isError"] is True
    assert f"{tmp_path}/p\ufffdq does not exist" in replies[2]["result"]["content"][0]["text"]
    assert f"{tmp_path}/\U0001f600 does not exist" in replies[3]["result"]["content"][0]["text"]
