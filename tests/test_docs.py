"""The docs keep up with the code: every registry entry is listed where the docs list them, as the code has it.

A check, a stat test, a selection row, a tool or a slash command added to the code and not to the
docs fails here, as datasette's tests/test_docs.py does for its settings and hooks.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO

# Where each registry is listed in full: one table row per entry, in registry order.
CHECK_TABLES = ("skills/data-validation/references/checks.md",)
STAT_TEST_TABLES = ("docs/drift.md", "skills/drift-monitoring/references/stat-tests.md")
KIND_WORDS = {"numeric": "numeric", "categorical": "categorical", "binary": "binary"}
SCORE_WORDS = {"pvalue": "p-value", "distance": "distance"}


def cells(line: str) -> list[str]:
    """A markdown table row's cells, backticks removed (an escaped ``\\|`` stays inside its cell)."""
    return [cell.strip().replace("`", "") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def table(path: str, first: str) -> list[list[str]]:
    """The body rows of the first table in ``path`` whose header's first cell is ``first``."""
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and cells(line)[0] == first:
            rows = []
            for row in lines[i + 2 :]:  # i + 1 is the |---| separator
                if not row.startswith("|"):
                    break
                rows.append(cells(row))
            return rows
    raise AssertionError(f"{path} has no table whose first column is '{first}'")


@pytest.mark.parametrize("path", CHECK_TABLES)
def test_every_check_is_listed_as_the_registry_has_it(path):
    from omgml.validation.checks import CHECKS

    rows = table(path, "check")
    assert [row[0] for row in rows] == [spec.id for spec in CHECKS], f"{path}: the check table is behind CHECKS"
    for row, spec in zip(rows, CHECKS, strict=True):
        group, severity, needs = row[1], row[2], row[3]
        assert (group, severity) == (spec.group, spec.severity), f"{path}: {spec.id}"
        listed = set() if needs == "-" else {need.strip() for need in needs.split(",")}
        assert listed == set(spec.needs), f"{path}: {spec.id} needs {spec.needs}"


def test_every_need_of_a_check_says_when_it_is_skipped():
    from omgml.validation.checks import CHECKS

    needs = {need for spec in CHECKS for need in spec.needs}
    for path in CHECK_TABLES:
        assert {row[0] for row in table(path, "needs")} == needs, f"{path}: the 'skipped when' table"


def test_readme_counts_the_checks():
    from omgml.validation.checks import CHECKS

    [count] = re.findall(r"runs (\d+) checks", (REPO / "README.md").read_text(encoding="utf-8"))
    assert int(count) == len(CHECKS)


@pytest.mark.parametrize("path", STAT_TEST_TABLES)
def test_every_stat_test_is_listed_as_the_registry_has_it(path):
    from omgml.drift.stattests import TESTS

    rows = table(path, "name")
    assert [row[0] for row in rows] == [t.name for t in TESTS], f"{path}: the stat-test table is behind TESTS"
    for row, spec in zip(rows, TESTS, strict=True):
        kinds = set(KIND_WORDS) if row[1] == "all" else {kind.strip() for kind in row[1].split(",")}
        assert kinds == set(spec.kinds), f"{path}: {spec.name} applies to {sorted(spec.kinds)}"
        assert row[2] == SCORE_WORDS[spec.score], f"{path}: {spec.name} is a {spec.score}"
        assert float(row[3]) == spec.threshold, f"{path}: {spec.name}'s default threshold"


@pytest.mark.parametrize("path", STAT_TEST_TABLES)
def test_the_selection_table_is_listed_in_order(path):
    from omgml.drift.selection import ROWS

    rows = table(path, "#")
    assert [int(row[0]) for row in rows] == list(range(1, len(ROWS) + 1)), path
    assert [row[2] for row in rows] == [r.test for r in ROWS], f"{path}: the selection table is behind ROWS"


def test_plugin_version_is_the_package_version():
    import omgml

    plugin = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8"))
    assert plugin["version"] == omgml.__version__


def test_every_tool_is_in_the_readme_table_and_the_server_instructions():
    from omgml.mcp.server import INSTRUCTIONS
    from omgml.mcp.tools import TOOLS

    tools = {spec.fn.__name__ for spec in TOOLS}
    readme_tools = {row[1] for row in table("README.md", "capability") if row[1]}
    assert readme_tools == tools, "README's capability table and the registered tools disagree"
    named = set(re.findall(r"\bomgml_[a-z_]+", INSTRUCTIONS))
    assert named == tools, f"the server instructions name {named - tools} and miss {tools - named}"


def test_every_python_api_name_in_the_readme_exists():
    import omgml

    named = set(re.findall(r"omgml\.([a-z_]+)\(", (REPO / "README.md").read_text(encoding="utf-8")))
    assert named and named <= set(omgml.__all__), f"README names {named - set(omgml.__all__)}"


def test_every_slash_command_is_in_the_readme():
    from omgml.mcp.prompts import load_prompts

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"/omgml:([a-z_]+)", readme))
    assert listed == {prompt.name for prompt in load_prompts()}


def test_every_module_is_in_the_readme_layout():
    """A newcomer finds every room: each subpackage and top-level module (private ones aside) is listed."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    package = REPO / "server" / "omgml"
    rooms = [p.name + "/" for p in package.iterdir() if (p / "__init__.py").is_file()]
    rooms += [p.name for p in package.glob("*.py") if not p.name.startswith("_")]
    missing = sorted(room for room in rooms if not re.search(rf"(^|\s){re.escape(room)}(\s|$)", layout, re.MULTILINE))
    assert not missing, f"README's layout does not list {missing}"


def test_every_client_is_in_the_readme():
    from omgml.install.clients import CLIENT_NAMES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(re.search(rf"\b{re.escape(name)}\b", readme) for name in CLIENT_NAMES)


# The registries docs/architecture.md sends a newcomer to, each named in one section with its file.
REGISTRIES = (
    ("omgml.validation.checks", "CHECKS"),
    ("omgml.drift.stattests", "TESTS"),
    ("omgml.drift.selection", "ROWS"),
    ("omgml.mcp.tools", "TOOLS"),
    ("omgml.install.clients", "CLIENTS"),
    ("omgml.mcp.server", "INSTRUCTIONS"),
)


@pytest.mark.parametrize(("module", "name"), REGISTRIES)
def test_architecture_names_each_registry_where_it_is(module, name):
    import importlib

    assert hasattr(importlib.import_module(module), name)
    path = "server/" + module.replace(".", "/")
    path += "/__init__.py" if (REPO / path).is_dir() else ".py"
    sections = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8").split("\n## ")
    assert any(f"`{name}`" in part and f"`{path}`" in part for part in sections), f"no section names {name} in {path}"


def test_template_overrides_are_documented():
    from omgml.render import OVERRIDES, PACKAGE_PREFIX

    for doc in ("README.md", "docs/architecture.md"):
        text = (REPO / doc).read_text(encoding="utf-8")
        assert f"{OVERRIDES}/" in text and f'{{% extends "{PACKAGE_PREFIX}:' in text, doc
        for name in re.findall(rf'"{PACKAGE_PREFIX}:([a-z_]+\.md\.j2)"', text):
            assert (REPO / "templates" / "reports" / name).is_file(), f"{doc} extends a template that does not exist"
