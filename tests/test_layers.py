"""Arrows point down: engines never import a service or a face; nothing below the faces imports the package root.

Read from the source (AST), so a lazy import inside a function counts as much as one at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "omgml"

# The layers, top down. A module's layer is decided by its dotted name's first component under omgml.
FACES = ("mcp", "cli", "demo", "__main__")
SERVICES = ("validation", "drift", "baseline", "project", "install", "monitor", "registry")
ENGINES = (
    "data",
    "workspace",
    "errors",
    "config",
    "tracking",
    "render",
    "plots",
    "images",
    "git",
    "assets",
    "args",
    "_version",
    "progress",
    "spark",
)


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(("omgml", *parts)), path))
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "omgml":
        return None
    if len(parts) == 1:
        return "root"
    for layer, names in (("face", FACES), ("service", SERVICES), ("engine", ENGINES)):
        if parts[1] in names:
            return layer
    return "unclassified"


def _imports(module: str, path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) for every import in the file, relative ones made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((node.lineno, base, [alias.name for alias in node.names]))
    return out


MODULES = _modules()


def test_every_module_has_a_layer():
    unclassified = [name for name, _ in MODULES if _layer(name) == "unclassified"]
    assert not unclassified, f"add these to a layer in tests/test_layers.py: {unclassified}"


def _cases(*layers: str) -> list:
    return [pytest.param(name, path, id=name) for name, path in MODULES if _layer(name) in layers]


@pytest.mark.parametrize(("module", "path"), _cases("engine"))
def test_engines_import_no_service_or_face(module, path):
    upward = []
    for line, target, names in _imports(module, path):
        targets = [target] if target != "omgml" else [f"omgml.{name}" for name in names]
        upward += [f"line {line}: {t}" for t in targets if _layer(t) in ("service", "face")]
    assert not upward, f"{module} imports upward: {upward}"


@pytest.mark.parametrize(("module", "path"), _cases("engine", "service"))
def test_nothing_below_the_faces_imports_the_package_root(module, path):
    root = [f"line {line}" for line, target, _ in _imports(module, path) if target == "omgml"]
    assert not root, f"{module} imports the omgml package root ({root}); import from the module that defines the name"


def test_the_checker_sees_an_upward_arrow(tmp_path):
    # The checker itself must be able to fail: a planted engine importing a service and the root is caught.
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from omgml import __version__\n    from omgml.drift.service import check_drift\n")
    imports = _imports("omgml.data.planted", planted)
    assert [t for _, t, _ in imports] == ["omgml", "omgml.drift.service"]
    assert _layer("omgml.drift.service") == "service"
