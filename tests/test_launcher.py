"""The launcher omgml writes into agents' configs and the omgml a scaffold installs, both from where omgml came from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from omgml._version import __version__
from omgml.errors import InvalidInput
from omgml.install.clients import CLIENTS
from omgml.install.launcher import choose, installed_source, source_from_direct_url
from omgml.install.service import install_client
from omgml.mcp.tools import TOOLS
from omgml.render import make_value
from tests import agent_clis
from tests.conftest import REPO

SHA = "c712ee2d0f4b6f1a9a5d1e3c0b7a8e9f01234567"
GIT_HTTPS = {"url": "https://github.com/omgml/omgml", "vcs_info": {"vcs": "git", "commit_id": SHA}}

# (direct_url.json as pip or uv writes it, or None for an index install) -> (uvx --from, pip requirement, portable)
SHAPES = {
    "editable checkout": (
        {"dir_info": {"editable": True}, "url": "file:///src/omgml"},
        ("/src/omgml", "omgml @ file:///src/omgml", False),
    ),
    "plain dir": (
        {"url": "file:///tmp/omgml-mkt", "dir_info": {}},
        ("/tmp/omgml-mkt", "omgml @ file:///tmp/omgml-mkt", False),
    ),
    "wheel": (
        {"archive_info": {"hash": "sha256=ab"}, "url": "file:///d/omgml-0.1.0-py3-none-any.whl"},
        ("/d/omgml-0.1.0-py3-none-any.whl", "omgml @ file:///d/omgml-0.1.0-py3-none-any.whl", False),
    ),
    "sdist with a space": (
        {"url": "file:///d/my%20dist/omgml-0.1.0.tar.gz", "archive_info": {}},
        ("/d/my dist/omgml-0.1.0.tar.gz", "omgml @ file:///d/my%20dist/omgml-0.1.0.tar.gz", False),
    ),
    "remote wheel": (
        {"url": "https://example.org/omgml-0.1.0-py3-none-any.whl", "archive_info": {}},
        (
            "https://example.org/omgml-0.1.0-py3-none-any.whl",
            "omgml @ https://example.org/omgml-0.1.0-py3-none-any.whl",
            True,
        ),
    ),
    "git https": (
        GIT_HTTPS,
        (f"git+https://github.com/omgml/omgml@{SHA}", f"omgml @ git+https://github.com/omgml/omgml@{SHA}", True),
    ),
    "git subdirectory": (
        {**GIT_HTTPS, "subdirectory": "py"},
        (
            f"git+https://github.com/omgml/omgml@{SHA}#subdirectory=py",
            f"omgml @ git+https://github.com/omgml/omgml@{SHA}#subdirectory=py",
            True,
        ),
    ),
    "git clone on disk": (
        {"url": "file:///tmp/omgml-mkt", "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": SHA}},
        (f"git+file:///tmp/omgml-mkt@{SHA}", f"omgml @ git+file:///tmp/omgml-mkt@{SHA}", False),
    ),
    "package index": (None, ("omgml==0.1.0", "omgml==0.1.0", True)),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_each_direct_url_shape_becomes_a_uvx_source_and_a_pip_requirement(shape):
    direct_url, expected = SHAPES[shape]
    source = source_from_direct_url(None if direct_url is None else json.dumps(direct_url), "0.1.0")
    assert (source.uvx_from, source.requirement, source.portable) == expected


@pytest.fixture
def installed_as(tmp_path, monkeypatch):
    """Make importlib.metadata find an omgml installed with this direct_url.json (None: from an index) first."""

    def install(direct_url: dict | None) -> None:
        info = tmp_path / "site" / f"omgml-{__version__}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: omgml\nVersion: {__version__}\n")
        if direct_url is not None:
            (info / "direct_url.json").write_text(json.dumps(direct_url))
        monkeypatch.syspath_prepend(str(tmp_path / "site"))

    return install


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("CLINE_MCP_SETTINGS_PATH", raising=False)
    return tmp_path / "home"


@pytest.mark.parametrize("origin", [None, GIT_HTTPS], ids=["index", "git-https"])
@pytest.mark.parametrize("client", [c.name for c in CLIENTS if c.project_file])
def test_project_files_hold_no_path_of_this_machine(client, origin, installed_as, home, tmp_path):
    installed_as(origin)
    project = tmp_path / "proj"
    project.mkdir()
    result = install_client({"client": client, "project_dir": str(project)})
    text = Path(result.path).read_text()
    for local in ("/work", "/tmp", "/root", "/home", str(home), str(tmp_path), sys.prefix, str(Path.home())):
        assert local not in text, f"{client}'s project file names {local}: {text}"
    assert result.launcher == "uvx" and "any machine reaches" in result.launcher_reason
    assert installed_source().uvx_from in text and "omgml-mcp" in text


def test_a_local_source_is_refused_in_project_files_unless_asked(installed_as, home, tmp_path):
    installed_as({"dir_info": {"editable": True}, "url": (tmp_path / "src").as_uri()})
    (tmp_path / "proj").mkdir()
    request = {"client": "cursor", "project_dir": str(tmp_path / "proj"), "dry_run": True}
    with pytest.raises(InvalidInput, match=r"a path only this machine has.*use --scope user"):
        install_client(request)
    asked = install_client({**request, "launcher": "uvx"})
    assert asked.entry == {"command": "uvx", "args": ["--from", str(tmp_path / "src"), "omgml-mcp"]}
    assert asked.launcher_reason.startswith("asked for")
    user = install_client({**request, "scope": "user"})
    assert user.launcher == "venv" and user.entry["command"] == str(Path(sys.executable).with_name("omgml-mcp"))


def test_user_scope_uvx_is_absolute_for_gui_clients(installed_as, home, monkeypatch):
    installed_as(None)
    monkeypatch.setenv("PATH", str(Path(agent_clis.uvx()).parent) + os.pathsep + os.environ["PATH"])
    entry = install_client({"client": "claude-desktop", "launcher": "uvx", "dry_run": True}).entry
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).name == "uvx"
    assert entry["args"] == ["--from", f"omgml=={__version__}", "omgml-mcp"]


def test_a_server_in_uvx_cache_is_not_written_into_user_files(installed_as, home, tmp_path, monkeypatch):
    """`uvx --from omgml omgml install ...` runs from uv's cache, which `uv cache clean` empties: use uvx instead."""
    installed_as(None)
    cache = tmp_path / "uv-cache"
    bin_dir = cache / "archive-v0" / "abc" / "bin"
    bin_dir.mkdir(parents=True)
    (cache / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    (bin_dir / "omgml-mcp").write_text("")
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    result = install_client({"client": "claude-desktop", "dry_run": True})
    assert result.launcher == "uvx" and result.entry["args"] == ["--from", f"omgml=={__version__}", "omgml-mcp"]
    assert "is in a cache that may be emptied" in result.launcher_reason


def test_install_output_says_which_launcher_and_why(installed_as, home, tmp_path):
    from omgml.render import render

    installed_as(GIT_HTTPS)
    (tmp_path / "proj").mkdir()
    shown = render(install_client({"client": "claude-code", "project_dir": str(tmp_path / "proj")}))
    assert "Launcher: uvx, " in shown and "any machine reaches" in shown
    assert "run `claude` in this folder and approve 'omgml' (or use /mcp)" in shown
    cursor = render(install_client({"client": "cursor", "project_dir": str(tmp_path / "proj")}))
    assert "Launcher: uvx" in cursor and "Next:" not in cursor


def test_the_chosen_uvx_command_starts_the_server(home, tmp_path):
    """`uvx --from <this checkout> omgml-mcp`, as `--launcher uvx` writes it for a dev checkout, serves every tool."""
    source = source_from_direct_url(json.dumps({"url": REPO.as_uri(), "dir_info": {}}), __version__)
    launch = choose("uvx", "project", ".mcp.json", source).launch
    env = agent_clis.isolated_env(tmp_path / "client-home")

    async def list_tools() -> list[str]:
        with anyio.fail_after(600):
            params = StdioServerParameters(command=launch.command, args=list(launch.args), env=env, cwd=str(tmp_path))
            async with Client(params) as client:
                return [t.name for t in (await client.list_tools()).tools]

    assert launch.command == "uvx" and launch.args == ("--from", str(REPO), "omgml-mcp")
    assert anyio.run(list_tools) == [spec.fn.__name__ for spec in TOOLS]


# The scaffold: its Makefile installs the omgml that generated it, with no OMGML_SPEC set.


def _make(project: Path, *targets: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMGML_SPEC", "PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        ["make", "-s", *targets],
        cwd=project,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


SHOW_SPEC = ["--eval", 'show-spec: ; @printf "%s\\n" "$$OMGML_SPEC"', "show-spec"]


def test_makefile_default_is_the_requirement_verbatim_whatever_its_characters(installed_as, tmp_path):
    from omgml import init_project

    odd = tmp_path / 'my src #1 $HOME "it\'s"'
    installed_as({"url": odd.as_uri(), "dir_info": {}})
    init_project({"project_dir": str(tmp_path / "proj"), "task": "binary", "target": "y"})
    assert _make(tmp_path / "proj", *SHOW_SPEC).stdout == f"omgml @ {odd.as_uri()}\n"
    overridden = _make(tmp_path / "proj", *SHOW_SPEC, "OMGML_SPEC=omgml==9")
    assert overridden.stdout == "omgml==9\n"
    with pytest.raises(ValueError, match="cannot be a Makefile value"):
        make_value("omgml\n@ x")


@pytest.mark.slow
def test_generated_project_installs_the_omgml_that_made_it(tmp_path):
    """`make install` in a new project, no variable set: pip installs omgml from where this one came from.

    To stay under a minute the project's .venv is made first with the build backend in it, and pip runs without
    dependencies or build isolation (omgml's dependencies are pip's business and take minutes); the Makefile's
    own install recipe, with its default OMGML_SPEC, does the rest.
    """
    from omgml import init_project

    init_project({"project_dir": str(tmp_path / "proj"), "task": "binary", "target": "y"})
    project = tmp_path / "proj"
    wanted = installed_source()
    assert _make(project, *SHOW_SPEC).stdout == wanted.requirement + "\n"
    venv = project / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    backend = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "hatchling", "editables"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert backend.returncode == 0, backend.stderr
    # pip reads a "no-" option from the environment inverted: PIP_NO_BUILD_ISOLATION=0 means --no-build-isolation.
    done = _make(project, "install", env={"PIP_NO_DEPS": "1", "PIP_NO_BUILD_ISOLATION": "0"})
    assert done.returncode == 0, done.stdout + done.stderr
    read = "import importlib.metadata as m; print(m.distribution('omgml').read_text('direct_url.json'))"
    got = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", read], capture_output=True, text=True, check=True
    )
    installed = source_from_direct_url(got.stdout.strip() if got.stdout.strip() != "None" else None, __version__)
    assert installed.requirement == wanted.requirement
