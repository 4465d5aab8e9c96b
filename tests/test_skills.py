"""The skill pack follows the Agent Skills format, and every link in it resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

SPEC_FIELDS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
SKILLS = [REPO / "SKILL.md", *sorted((REPO / "skills").glob("*/SKILL.md"))]


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
    assert isinstance(meta.get("metadata", {}), dict)
    assert len(path.read_text(encoding="utf-8").splitlines()) < 500
    for link in re.findall(r"\]\(([^)#]+)\)", body):
        if "://" not in link:
            assert (path.parent / link).exists(), f"{path}: link to missing {link}"


def test_every_skill_folder_has_a_skill_file():
    folders = [p for p in (REPO / "skills").iterdir() if p.is_dir()]
    assert folders and all((p / "SKILL.md").is_file() for p in folders)
