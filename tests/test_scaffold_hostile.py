"""Generated code is data, never code: hostile and awkward values through the whole scaffold.

Every value a caller gives ``init`` (name, description, target) reaches Python, TOML and Markdown
files. Each file's language has one escaping filter (``omgml.render``); these tests render the
scaffold for a corpus of values and read every file back with its own language's parser, so a
value that closes a quote, starts a TOML table or a Markdown link shows up as a changed value.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import omgml
from omgml import init_project
from omgml.assets import asset_dir
from omgml.config import load_config, registered_model_name
from omgml.errors import InvalidInput
from omgml.render import environment, identifier, md_text, py_string, toml_string

MARKER = "PWNED"
# The two exploits of issue 13, made to leave a marker file where they run instead of printing `id`.
DOCSTRING_EXPLOIT = f'x"""\nimport os; os.system("touch {MARKER}")\n"""'
STRING_EXPLOIT = f'x"+__import__("os").system("touch {MARKER}")+"'

CORPUS = {
    "double quotes": 'My "best" model',
    "single quote": "'",
    "triple double quotes": 'x"""',
    "triple single quotes": "x'''",
    "backslashes": "C:\\Users\\new",
    "trailing backslash": "model\\",
    "newline": "first line\nsecond line",
    "carriage return": "a\rb",
    "nul": "a\x00b",
    "del": "a\x7fb",
    "c0 controls": "c" + "".join(map(chr, range(1, 32))),
    "rtl mark": "abc\u200fdef",
    "rtl override": "abc\u202edef",
    "cjk": "中文模型",
    "emoji": "🚀 launch",
    "long": "x" * 1000,
    "jinja": "{{ 7*7 }} {% raw %} {#",
    "shell and make": "${HOME} $(id) `id` $$",
    "docstring exploit": DOCSTRING_EXPLOIT,
    "string exploit": STRING_EXPLOIT,
    "single-quoted exploit": f"x'+__import__('os').system('touch {MARKER}')+'",
    "toml injection": 'x"\n[tracking]\nuri = "sqlite:////tmp/elsewhere.db',
    "markdown and html": "<script>alert(1)</script> [x](javascript:alert(1)) **b** # h &amp;",
    "list start": "- item",
}
PLAIN_NAME = "Corpus Model"


def name_is_acceptable(value: str) -> bool:
    """What ``init`` takes as a project name: up to 100 characters, one line, some letter or digit."""
    return (
        len(value) <= 100
        and not any(unicodedata.category(c) == "Cc" for c in value)
        and any(c.isalnum() for c in value)
    )


def shown(value: str) -> str:
    """The text a Markdown reader shows for ``md_text(value)``: one line, control characters as U+FFFD."""
    return "".join("\ufffd" if c < " " or c == "\x7f" else c for c in " ".join(value.split()))


def constants(path: Path) -> dict[str, object]:
    """A module's top-level ``NAME = <literal>`` assignments, read without running it."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return found


def scaffold(folder: Path, name: str, text: str, task: str = "binary") -> tuple[Path, str]:
    result = init_project({"project_dir": str(folder), "name": name, "task": task, "target": text, "description": text})
    return folder, result.package


def check_scaffold(project: Path, package: str, name: str, target: str, description: str) -> None:
    """Every file parses in its language and holds the values given, unchanged."""
    description = description.strip()
    # Python: compiles, shows no invisible characters (bidi controls would hide what the code does).
    for path in project.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        hidden = [f"U+{ord(c):04X}" for c in source if not (c.isprintable() or c == "\n")]
        assert not hidden, f"{path.name} holds raw {hidden[:3]}"
    # Importing the package runs its __init__: it must be a docstring and literal constants, nothing that calls.
    init = project / "src" / package / "__init__.py"
    body = ast.parse(init.read_text(encoding="utf-8")).body
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    assert all(isinstance(node, ast.Assign) for node in body[1:]), ast.dump(body[1])
    assert constants(init) == {"NAME": name, "DESCRIPTION": description}
    serve = project / "src" / package / "serve.py"
    assert constants(serve)["DEFAULT_MODEL_URI"] == f"models:/{registered_model_name(name)}@champion"
    titles = [
        k.value.value
        for k in ast.walk(ast.parse(serve.read_text(encoding="utf-8")))
        if isinstance(k, ast.keyword) and k.arg == "title"
    ]
    assert titles == [f"{name} model"]
    assert constants(project / "tests" / "test_train.py")["TARGET"] == target
    for test in ("test_validate.py", "test_monitor.py"):
        toml_target = constants(project / "tests" / test)["TARGET_TOML"]
        assert tomllib.loads(f"t = {toml_target}")["t"] == target

    # TOML: the values come back, and nothing else changed (a value cannot open a table or a key).
    config = tomllib.loads((project / "omgml.toml").read_text(encoding="utf-8"))
    assert config["project"] == {
        "name": name,
        "package": package,
        "task": config["project"]["task"],
        "target": target,
        "metric": config["project"]["metric"],
        "description": description,
    }
    assert set(config) == {"project", "data", "tracking"}
    assert config["tracking"] == {"uri": "sqlite:///mlflow.db"}
    loaded = load_config(project)
    assert (loaded.name, loaded.target, loaded.description) == (name, target, description)

    # pyproject.toml: a valid project (normalised name, one-line summary, parseable requirements).
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["name"] == canonicalize_name(pyproject["name"]) == package.replace("_", "-")
    Metadata.from_raw(
        {"metadata_version": "2.3", "name": pyproject["name"], "version": "0.1.0", "summary": pyproject["description"]}
    )
    assert pyproject["description"] == " ".join((description or name).split())
    [Requirement(spec) for spec in pyproject["dependencies"]]

    # README: the name is the heading's plain text, the description a plain paragraph; no markup or HTML.
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().parse((project / "README.md").read_text(encoding="utf-8"))
    assert tokens[0].type == "heading_open"
    assert [(c.type, c.content) for c in tokens[1].children] == [("text", shown(name))]
    if description:
        assert tokens[3].type == "paragraph_open"
        assert [(c.type, c.content) for c in tokens[4].children] == [("text", shown(description))]
    inline = [c for t in tokens if t.children for c in t.children]
    assert not [c for c in inline if c.type in ("html_inline", "link_open", "image", "em_open")]
    assert not [t for t in tokens if t.type == "html_block"]
    assert any(c.content.endswith(f"predicting the column {shown(target)}") for c in inline)


def no_marker(*folders: Path) -> None:
    found = [p for folder in folders for p in folder.rglob(MARKER)]
    assert not found, f"generated code ran: {found}"
    assert not (Path.cwd() / MARKER).exists()


@pytest.mark.parametrize("label", list(CORPUS))
def test_every_file_holds_the_value_as_data(tmp_path, label):
    value = CORPUS[label]
    name = value if name_is_acceptable(value) else PLAIN_NAME
    target = value[:256]  # a column name is at most 256 characters (omgml.args.COLUMN_MAX)
    result = init_project(
        {"project_dir": str(tmp_path / "p"), "name": name, "task": "binary", "target": target, "description": value}
    )
    check_scaffold(tmp_path / "p", result.package, name, target, value)
    no_marker(tmp_path)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("nul", r"The project name has a control character \(U\+0000\) at character 2\. .* Fix: remove it"),
        ("newline", r"The project name has a control character \(U\+000A\) at character 11"),
        ("del", r"The project name has a control character \(U\+007F\)"),
        ("single quote", r"The project name ''' has no letters or digits\. .* Fix: pass a name such as 'churn-model'"),
        ("long", r"'name': String should have at most 100 characters"),
    ],
)
def test_a_name_no_title_can_hold_is_refused_with_the_reason(tmp_path, label, message):
    with pytest.raises(InvalidInput, match=message):
        init_project({"project_dir": str(tmp_path / "p"), "name": CORPUS[label], "task": "binary", "target": "y"})
    assert not (tmp_path / "p").exists()


def test_a_folder_name_that_is_not_utf8_is_refused_with_the_reason(tmp_path):
    # A symlink's target named by raw bytes: the default name, read back, holds a surrogate escape.
    folder = os.fsdecode(bytes(tmp_path) + b"/caf\xe9")
    os.mkdir(folder)
    (tmp_path / "proj").symlink_to(folder)
    with pytest.raises(InvalidInput, match=r"The project name has a lone surrogate \(U\+DCE9\) at character 4.*name"):
        init_project({"project_dir": str(tmp_path / "proj"), "task": "binary", "target": "y"})
    assert os.listdir(folder) == []


def test_a_cjk_name_gets_an_ascii_package_and_keeps_its_text(tmp_path):
    result = init_project({"project_dir": str(tmp_path / "p"), "name": "中文模型", "task": "binary", "target": "标签"})
    assert result.package.startswith("project_") and result.package.isidentifier() and result.package.isascii()
    assert result.package_note == (
        f"The name '中文模型' has no ASCII letters or digits, so the Python package is '{result.package}' "
        "(from a hash of the name); the name itself is kept for the README, the app and MLflow."
    )
    assert init_project(
        {"project_dir": str(tmp_path / "q"), "name": "中文模型", "task": "binary", "target": "y"}
    ).package == (result.package)  # stable: a second init of the same name finds the same files
    assert registered_model_name("中文模型") == "中文模型-model"  # MLflow names may be any Unicode but '/' and ':'
    assert registered_model_name("Churn Model") == "churn-model-model"  # names with ASCII keep the slug they had
    check_scaffold(tmp_path / "p", result.package, "中文模型", "标签", "")


def test_the_makefile_holds_no_user_value(tmp_path):
    # Make expands '$' and ends a command at a newline: keeping values out is the only safe quoting.
    plain, plain_package = scaffold(tmp_path / "a", "plain", "y")
    hostile, package = scaffold(tmp_path / "b", "x $(id) ${HOME}", CORPUS["shell and make"])
    assert (hostile / "Makefile").read_text() == (plain / "Makefile").read_text().replace(plain_package, package)


# The guard: a template value without its language's filter fails here, before it can ship.

ALLOWED_FILTERS = {
    ".py": {"py", "ident"},
    ".toml": {"toml", "ident"},
    ".md": {"md", "ident"},
    "Makefile": {"ident", "make"},
}


def unfiltered(source: str, language: str) -> list[str]:
    """Every ``{{ ... }}`` whose outermost filter is not one of ``language``'s escaping filters."""
    allowed = ALLOWED_FILTERS.get(language, set())
    bad = []
    for output in environment().parse(source).find_all(nodes.Output):
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                continue
            if not (isinstance(node, nodes.Filter) and node.name in allowed):
                bad.append(f"line {node.lineno}: {type(node).__name__} {getattr(node, 'name', '')}".strip())
    return bad


def template_language(path: Path) -> str:
    plain = path.name.removesuffix(".j2")
    return "Makefile" if plain == "Makefile" else Path(plain).suffix


def test_every_scaffold_value_goes_through_its_languages_filter():
    templates = sorted((asset_dir("templates") / "project").rglob("*.j2"))
    assert len(templates) == 18  # a new template is covered too: update the count
    problems = {
        p.name: bad for p in templates if (bad := unfiltered(p.read_text(encoding="utf-8"), template_language(p)))
    }
    assert problems == {}


def test_the_guard_catches_a_bare_or_wrongly_quoted_value():
    assert unfiltered('TITLE = "{{ name }}"\n', ".py") == ["line 1: Name name"]
    assert unfiltered("name = {{ name | toml }}\n", ".py") == ["line 1: Filter toml"]
    assert unfiltered("{{ name | md if name else '' }}\n", ".md") == ["line 1: CondExpr"]
    assert unfiltered("ok = {{ name | py }}\n", ".py") == []


# The filters, on every character class they must survive.

HARD = [*CORPUS.values(), "", "\ud800", "a\udcffb", "\U0001f680", "\\u0041", "\\", '"', "\u2028\u2029\x85\xa0"]


@pytest.mark.parametrize("value", HARD + ["".join(map(chr, range(0x2100)))])
def test_py_string_evaluates_to_the_value(value):
    literal = py_string(value)
    assert eval(compile(literal, "<literal>", "eval")) == value
    assert all(c.isprintable() for c in literal)


@pytest.mark.parametrize("value", [v for v in HARD if not any("\ud800" <= c <= "\udfff" for c in v)])
def test_toml_string_parses_to_the_value(value):
    assert tomllib.loads(f"v = {toml_string(value)}\n")["v"] == value


def test_toml_string_covers_every_code_point_below_0x800():
    value = "".join(map(chr, range(0x800)))
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value
    assert toml_string("\x7f") == '"\\u007F"'  # what json.dumps left raw: invalid TOML


def test_md_text_is_plain_text():
    assert md_text("churn-model v1.2 (beta)") == "churn-model v1.2 (beta)"  # ordinary text reads as typed
    assert md_text("- a\n# b") == "\\- a \\# b"
    assert md_text("1. first") == "1\\. first"
    assert md_text("<b>&amp;</b>") == "\\<b\\>\\&amp;\\</b\\>"


def test_ident_refuses_what_needs_quoting():
    assert identifier("churn_model") == "churn_model"
    for value in ("churn-model", "中文", "x; y", ""):
        with pytest.raises(ValueError, match="is not an ASCII identifier; render it with a quoting filter"):
            identifier(value)


def test_jinja_in_a_value_is_not_rendered(tmp_path):
    project, package = scaffold(tmp_path / "p", "jinja {{ 7*7 }}", "{{ 7*7 }}{% raw %}")
    assert "49" not in (project / "README.md").read_text()
    assert constants(project / "src" / package / "__init__.py")["NAME"] == "jinja {{ 7*7 }}"
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ nothing | py }}").render()  # StrictUndefined: no silent blanks


# A sample runs the generated project's own tests: the values must survive pandas, MLflow and FastAPI too.

SAMPLE = {
    "exploits": (STRING_EXPLOIT, "binary", "y\"\"\"''' C:\\new\\", DOCSTRING_EXPLOIT),
    "cjk and controls": ("中文模型 🚀", "regression", "目标 ${HOME} $(id)\u202e", "{{ 7*7 }}\x7f\x00 line\nbreak"),
}


@pytest.mark.slow
def test_the_generated_projects_tests_pass_and_run_no_value(tmp_path):
    omgml_source = Path(omgml.__file__).resolve().parents[1]  # this checkout's omgml, not another install
    runs = {}
    for label, (name, task, target, description) in SAMPLE.items():
        project = tmp_path / label.replace(" ", "-")
        result = init_project(
            {"project_dir": str(project), "name": name, "task": task, "target": target, "description": description}
        )
        check_scaffold(project, result.package, name, target, description)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env |= {"PYTHONPATH": f"{project / 'src'}{os.pathsep}{omgml_source}", "HOME": str(tmp_path)}
        env["OMP_NUM_THREADS"] = "1"
        # Both projects at once: each run is mostly process start-up and imports, so they overlap well.
        runs[label] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    for label, run in runs.items():
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, f"{label}: {output[-4000:]}"
        assert " passed" in output and "failed" not in output, output[-2000:]
    no_marker(tmp_path)


def test_a_data_path_is_data_too(tmp_path):
    data_path = 'data/raw/my "best"\\ \x7f\nfile\u202e 中文.csv'
    result = init_project(
        {"project_dir": str(tmp_path / "p"), "name": "x", "task": "binary", "target": "y", "data_path": data_path}
    )
    config = tomllib.loads((tmp_path / "p" / "omgml.toml").read_text(encoding="utf-8"))
    assert config["data"]["train"] == result.data_path == data_path
    assert config["tracking"] == {"uri": "sqlite:///mlflow.db"}
