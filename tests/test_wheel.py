"""The wheel works on its own: built, installed into a fresh venv, used from a temp dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

LIST_TOOLS = """
import anyio, json, sys
from mcp import Client, StdioServerParameters

async def main():
    async with Client(StdioServerParameters(command=sys.argv[1])) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
    print(json.dumps({"tools": tools, "prompts": prompts}))

anyio.run(main)
"""


def _run(command: list[str], timeout: int = 120, **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **options)


def test_the_license_is_the_apache_2_text_the_metadata_declares():
    import hashlib
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert (project["license"], project["license-files"]) == ("Apache-2.0", ["LICENSE"])
    # md5 of https://www.apache.org/licenses/LICENSE-2.0.txt, verbatim (appendix included): any edit fails here.
    assert hashlib.md5((REPO / "LICENSE").read_bytes()).hexdigest() == "3b83ef96387f14655fc854ddc3c6bd57"


def test_wheel_installs_and_runs_without_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    # No --wheel: build makes the sdist, then the wheel from it, so the sdist is proved to hold what the wheel needs.
    built = _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    [wheel] = dist.glob("omgml-*.whl")
    [sdist] = dist.glob("omgml-*.tar.gz")

    import tarfile
    import zipfile

    license_text = (REPO / "LICENSE").read_bytes()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [licensed] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(licensed) == license_text
        metadata = archive.read(licensed.replace("licenses/LICENSE", "METADATA")).decode()
        assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        assert archive.extractfile(f"{top}/LICENSE").read() == license_text
    for shipped in (
        "omgml/templates/project/omgml.toml.j2",
        "omgml/templates/reports/status_report.md.j2",
        "omgml/prompts/init.md",
        "omgml/skills/ml-project-lifecycle/SKILL.md",
    ):
        assert shipped in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = _run([str(bin_dir / "python"), "-c", "import omgml; print(omgml.__file__)"], cwd=work, env=env)
    assert Path(where.stdout.strip()).is_relative_to(env_dir), "omgml must come from the wheel, not the checkout"

    made = _run(
        [str(bin_dir / "omgml"), "init", "proj", "--task", "binary", "--target", "y", "--json"], cwd=work, env=env
    )
    assert made.returncode == 0, made.stderr
    assert "omgml.toml" in json.loads(made.stdout)["created"]
    assert (work / "proj" / "src" / "proj" / "data.py").is_file()

    listed = _run([str(bin_dir / "python"), "-c", LIST_TOOLS, str(bin_dir / "omgml-mcp")], cwd=work, env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    from omgml.mcp.prompts import load_prompts
    from omgml.mcp.tools import TOOLS

    expected = {"tools": [spec.fn.__name__ for spec in TOOLS], "prompts": [p.name for p in load_prompts()]}
    assert json.loads(listed.stdout) == expected
