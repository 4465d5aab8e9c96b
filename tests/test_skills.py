"""The skill pack follows the Agent Skills format, and every link in it resolves."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

SPEC_FIELDS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
SKILLS = [REPO / "SKILL.md", *sorted((REPO / "skills").glob("*/SKILL.md"))]
SKILL_NAMES = sorted(p.parent.name for p in SKILLS[1:])
# The newest skills CLI that runs on Node 20 (1.7 imports fs/promises' glob, Node >= 22.20).
SKILLS_CLI = "skills@1.5.18"


def frontmatter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path} must start with YAML frontmatter"
    header, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(header), body


@pytest.mark.parametrize("path", SKILLS, ids=lambda p: p.parent.name if p.parent != REPO else "root")
def test_skill_follows_the_spec(path):
    meta, body = frontmatter(path)
    assert set(meta) <= SPEC_FIELDS, f"unknown frontmatter fields: {set(meta) - SPEC_FIELDS}"
    expected_name = "omgml" if path.parent == REPO else path.parent.name
    assert meta["name"] == expected_name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["name"]) and len(meta["name"]) <= 64
    assert 0 < len(meta["description"]) <= 1024
    assert len(meta.get("compatibility", "")) <= 500
    metadata = meta.get("metadata", {})
    assert isinstance(metadata, dict)
    # The spec types metadata as string -> string. One exception, only on the top-level file: the skills CLI
    # hides a skill whose metadata.internal `=== true` (the boolean; the string "true" would not hide it).
    internal = metadata.pop("internal", None)
    assert internal is (True if path.parent == REPO else None)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    assert len(path.read_text(encoding="utf-8").splitlines()) < 500
    for link in re.findall(r"\]\(([^)#]+)\)", body):
        if "://" not in link:
            assert (path.parent / link).exists(), f"{path}: link to missing {link}"


def test_every_skill_folder_has_a_skill_file():
    folders = [p for p in (REPO / "skills").iterdir() if p.is_dir()]
    assert folders and all((p / "SKILL.md").is_file() for p in folders)


def test_the_root_skill_copy_is_generated_from_the_top_level_skill():
    """One source: edit SKILL.md, then run `python scripts/gen_commands.py`."""
    from scripts.gen_commands import ROOT_SKILL_COPY, generated

    copy = REPO / "skills" / "omgml" / "SKILL.md"
    assert ROOT_SKILL_COPY == copy
    assert copy.read_text(encoding="utf-8") == generated()[copy], (
        "skills/omgml/SKILL.md is out of date: run scripts/gen_commands.py"
    )
    (root, root_body), (mine, body) = frontmatter(REPO / "SKILL.md"), frontmatter(copy)
    root["metadata"].pop("internal")
    assert root == mine and body == root_body.replace("](skills/", "](../")


@pytest.mark.parametrize("layout", ["checkout", "wheel"])
def test_skills_install_copies_the_root_skill_once(layout, tmp_path, monkeypatch):
    """The wheel ships the top-level SKILL.md inside skills/: only skills/omgml/ becomes omgml/SKILL.md."""
    from omgml.install import service

    skills = tmp_path / "skills"
    shutil.copytree(REPO / "skills", skills)
    if layout == "wheel":
        shutil.copy(REPO / "SKILL.md", skills / "SKILL.md")
    monkeypatch.setattr(service, "asset_dir", lambda name: skills)
    files = service._skill_files()
    assert sorted({rel.split("/")[0] for rel in files}) == SKILL_NAMES
    assert files["omgml/SKILL.md"] == (REPO / "skills/omgml/SKILL.md").read_bytes()


def _repo_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".venv", ".cache", ".ruff_cache", "__pycache__", "node_modules", "mlruns")
    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def skills_cli(tmp_path_factory) -> Path:
    """The real skills CLI (what `npx skills add` and `cline skill add` run), installed by npm for this test."""
    if not shutil.which("npm"):
        pytest.skip("npm is not installed")
    prefix = tmp_path_factory.mktemp("skills-cli")
    done = subprocess.run(
        ["npm", "i", "--prefix", str(prefix), "--no-audit", "--no-fund", SKILLS_CLI],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        reason = f"npm could not install {SKILLS_CLI}: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
        print(reason)
        pytest.skip(reason)
    return prefix / "node_modules" / ".bin" / "skills"


def test_npx_skills_add_finds_the_seven_skills(skills_cli, tmp_path):
    repo = _repo_copy(tmp_path / "repo")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    env.pop("INSTALL_INTERNAL_SKILLS", None)
    done = subprocess.run(
        [str(skills_cli), "add", str(repo), "--list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", done.stdout + done.stderr)
    assert done.returncode == 0, out
    assert f"Found {len(SKILL_NAMES)} skills" in out, out
    assert len(SKILL_NAMES) == 7
    for name in SKILL_NAMES:
        assert re.search(rf"^\W*{re.escape(name)}\s*$", out, re.MULTILINE), f"{name} not listed:\n{out}"
