"""``init_project``: scaffold a runnable ML project, never overwriting what is there."""

from __future__ import annotations

import hashlib
import keyword
import re
import unicodedata
from pathlib import Path

from omgml.assets import asset_dir
from omgml.config import (
    CONFIG_FILE,
    DEFAULT_METRIC,
    DEFAULT_TRACKING_URI,
    METRICS,
    registered_model_name,
    require_metric,
)
from omgml.errors import InvalidInput, parse_request
from omgml.install.launcher import installed_source
from omgml.project.models import InitRequest, InitResult
from omgml.render import environment
from omgml.workspace import Project, check_writable, resolve_inside, write_all_or_nothing

PACKAGE_PLACEHOLDER = "__package__"


def init_project(request: InitRequest | dict, *, root: Path | None = None) -> InitResult:
    """Scaffold a production ML project into ``request.project_dir``.

    Parameters
    ----------
    request
        What to create; a dict is validated into an ``InitRequest``.
    root
        Folder the project dir must stay inside (the MCP face passes the workspace root);
        None takes the project dir as given, as a person on the shell means it.

    Returns
    -------
    InitResult
        What was created, what was already there, and what conflicts were left alone.
        Files are rendered first and written all-or-nothing; nothing existing is overwritten.
    """
    request = parse_request(InitRequest, request, "init")
    project = Project.open(request.project_dir, root, create=True).root

    name = (request.name if request.name is not None else project.name).strip()
    if not name:
        raise InvalidInput(
            "The project name is empty",
            "the name becomes the Python package and the MLflow experiment, so it needs letters",
            "pass a name such as 'churn-model'",
        )
    _require_text("project name", name, one_line=True)
    _require_text("target", request.target)
    _require_text("description", request.description)
    package, package_note = package_name(name)
    metric, metric_note = choose_metric(request.task, request.metric)
    data_path, data_note = _data_path(project, request.data_path)
    description = request.description.strip()

    # Values only: every template renders them through its language's filter (py, toml, md), never bare.
    context = {
        "name": name,
        "package": package,
        "distribution": package.replace("_", "-"),
        "task": request.task,
        "target": request.target,
        "metric": metric,
        "greater_is_better": METRICS[metric].greater_is_better,
        "description": description,
        # Core metadata's Summary is one header line: a newline there would end it and start another header.
        "summary": " ".join((description or name).split()),
        "data_path": data_path,
        "tracking_uri": DEFAULT_TRACKING_URI,
        "model_name": registered_model_name(name),
        "omgml_version": _version(),
        # The omgml that made this project, as pip takes it: its Makefile installs that one (PEP 610 origin).
        "omgml_requirement": installed_source().requirement,
    }
    rendered = render_scaffold(context)

    targets = {rel: resolve_inside(project, rel, "scaffold file") for rel in rendered}  # a symlinked src/ is refused
    to_write = {targets[rel]: payload for rel, payload in rendered.items() if _absent(targets[rel])}
    if to_write and not request.dry_run:
        if project.exists():
            check_writable(project)
        else:
            check_writable(project.parent)
        made = set(write_all_or_nothing(project, to_write))
    else:
        made = set(to_write)

    # A concurrent init may have created some files first: each file counts as created by exactly one call.
    created, unchanged, conflicts = [], [], []
    for rel, payload in rendered.items():
        if targets[rel] in made:
            created.append(rel)
        elif _holds(targets[rel], payload):
            unchanged.append(rel)
        else:
            conflicts.append(rel)

    return InitResult(
        project_dir=str(project),
        name=name,
        package=package,
        package_note=package_note,
        task=request.task,
        target=request.target,
        metric=metric,
        metric_note=metric_note,
        data_path=data_path,
        data_note=data_note,
        dry_run=request.dry_run,
        changed=bool(created),
        created=created,
        unchanged=unchanged,
        conflicts=conflicts,
        next_steps=_next_steps(bool(conflicts), data_path),
    )


def _absent(path: Path) -> bool:
    return not path.exists() and not path.is_symlink()


def _holds(path: Path, payload: bytes) -> bool:
    """Whether ``path`` is a file with exactly ``payload`` (a file in the way is a conflict, not an error)."""
    try:
        return path.is_file() and path.read_bytes() == payload
    except OSError:
        return False


def package_name(name: str) -> tuple[str, str]:
    """A valid, lower-case ASCII Python package name for ``name``, and a note when it had to change.

    pip and import tooling want ASCII, so only ASCII letters and digits are kept; a name written
    in another script ('中文模型') keeps its text everywhere it is shown and gets the package
    ``project_<hash>``, stable for the name so a second ``init`` finds the same files.
    """
    if not any(c.isalnum() for c in name):
        raise InvalidInput(
            f"The project name '{name}' has no letters or digits",
            "the name becomes the Python package, which needs at least one",
            "pass a name such as 'churn-model'",
        )
    package = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    if not package:
        package = "project_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        return package, (
            f"The name '{name}' has no ASCII letters or digits, so the Python package is '{package}' "
            "(from a hash of the name); the name itself is kept for the README, the app and MLflow."
        )
    if package[0].isdigit():
        package = f"project_{package}"
    if keyword.iskeyword(package):
        package = f"{package}_project"
    note = "" if package == name else f"The name '{name}' became the Python package '{package}'."
    return package, note


def _require_text(what: str, value: str, *, one_line: bool = False) -> None:
    """Refuse what no generated file can hold: a lone surrogate (not Unicode text), and control characters in a name.

    Everything else is data the filters escape; a name is shown as a title, so a NUL or a newline in it is a mistake.
    """
    for index, char in enumerate(value):
        if "\ud800" <= char <= "\udfff":
            raise InvalidInput(
                f"The {what} has a lone surrogate (U+{ord(char):04X}) at character {index + 1}",
                "that is not a character (half of a UTF-16 pair, or a byte of a folder name that is not UTF-8), "
                "so it cannot be written to a UTF-8 file",
                f"pass the {what} as valid Unicode text (a folder whose name is not UTF-8 needs an explicit name)",
            )
        if one_line and unicodedata.category(char) == "Cc":
            raise InvalidInput(
                f"The {what} has a control character (U+{ord(char):04X}) at character {index + 1}",
                f"the {what} is a title in the README, the app and MLflow, so it is one line of visible text",
                f"remove it from the {what}",
            )


def choose_metric(task: str, metric: str | None) -> tuple[str, str]:
    """The success metric for ``task``: the given one when it fits, else the task's default and why."""
    if metric is None or not metric.strip():
        chosen = DEFAULT_METRIC[task]
        return chosen, f"No metric given: chose {chosen} for a {task} task, because {METRICS[chosen].why_default}."
    return require_metric(task, metric, "the success metric decides which model wins"), ""


def render_scaffold(context: dict) -> dict[str, bytes]:
    """Every scaffold file, rendered in memory: relative path -> content."""
    source = asset_dir("templates") / "project"
    env = environment()
    files: dict[str, bytes] = {}
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel_parts = [_scaffold_part(part, context["package"]) for part in path.relative_to(source).parts]
        rel = "/".join(rel_parts)
        if rel.endswith(".j2"):
            template = env.get_template(path.relative_to(source.parent).as_posix())
            files[rel.removesuffix(".j2")] = template.render(**context).encode("utf-8")
        else:
            files[rel] = path.read_bytes()
    return files


def _scaffold_part(part: str, package: str) -> str:
    """``__package__`` becomes the package; ``dot-gitignore`` becomes ``.gitignore`` (wheels may drop dotfiles)."""
    part = part.replace(PACKAGE_PLACEHOLDER, package)
    return "." + part.removeprefix("dot-") if part.startswith("dot-") else part


def _data_path(project: Path, data_path: str | None) -> tuple[str | None, str]:
    if not data_path:
        return None, "No data path given: put the training table in data/raw/ and set [data] train in omgml.toml."
    resolved = Project(project).resolve(data_path, "data path")
    rel = Project(project).rel(resolved)
    if not resolved.is_file():
        return rel, f"{rel} does not exist yet: the project records it; add the file before training."
    return rel, ""


def _next_steps(has_conflicts: bool, data_path: str | None) -> list[str]:
    steps = []
    if has_conflicts:
        steps.append(
            "Compare the conflicting files with a fresh scaffold (`omgml init --dry-run` elsewhere) and merge by hand."
        )
    if data_path is None:
        steps.append("Add the training data under data/raw/ and record it as [data] train in " + CONFIG_FILE + ".")
    steps.append("Run `make test` in the project, then `omgml status` to see the lifecycle checklist.")
    return steps


def _version() -> str:
    from omgml._version import __version__

    return __version__
