"""Report templates: a project's ``.omgml/templates/`` overrides omgml's, can extend it, and stays inside the project."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from mcp import Client
from pydantic import BaseModel

from omgml import check_drift, init_project, project_status
from omgml.errors import ConfigError, PathError
from omgml.mcp.server import build_server
from omgml.render import OVERRIDES, render
from tests.conftest import run_cli


def override(project: Path, name: str, source: str) -> Path:
    path = project / OVERRIDES / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def test_an_override_replaces_the_report_for_its_project_only(new_project):
    report = project_status({"project_dir": str(new_project)})
    original = render(report)
    override(new_project, "status_report.md.j2", "Our status: {{ r.headline }}\n")
    assert render(report, project=new_project) == f"Our status: {report.headline}\n"
    assert render(report) == original  # no project: the package's template
    assert render(report, project=new_project.parent) == original  # another folder: no override there


def test_an_override_can_extend_the_original(new_project):
    data = new_project / "data" / "raw"
    (data / "ref.csv").write_text("x,c\n" + "".join(f"{i % 7},{'ab'[i % 2]}\n" for i in range(200)))
    (data / "cur.csv").write_text("x,c\n" + "".join(f"{i % 7 + 3},{'ab'[i % 2]}\n" for i in range(200)))
    report = check_drift(
        {"project_dir": str(new_project), "reference": "data/raw/ref.csv", "current": "data/raw/cur.csv"}
    )
    override(
        new_project,
        "drift_report.md.j2",
        '{% extends "omgml:drift_report.md.j2" %}\n'
        "{% block report %}\n{{ super() }}\nReviewed by the data team ({{ r.columns | length }} columns).\n{% endblock %}\n",
    )
    original = render(report)
    assert "DRIFT" in original  # the shift of 3 in x is caught: the extended report is a real one
    added = f"\nReviewed by the data team ({len(report.columns)} columns).\n"  # after a blank line: a new paragraph
    assert render(report, project=new_project) == original + added


def test_an_override_added_while_the_server_runs_is_used(new_project):
    report = project_status({"project_dir": str(new_project)})
    original = render(report, project=new_project)  # the package's template, now cached
    path = override(new_project, "status_report.md.j2", "first\n")
    assert render(report, project=new_project) == "first\n"
    path.unlink()
    assert render(report, project=new_project) == original


def test_a_missing_variable_still_raises(new_project):
    report = project_status({"project_dir": str(new_project)})
    path = override(new_project, "status_report.md.j2", "{{ r.no_such_field }}\n")
    with pytest.raises(ConfigError, match="no_such_field") as failed:
        render(report, project=new_project)
    assert str(path) in str(failed.value) and 'extends "omgml:status_report.md.j2"' in str(failed.value)

    class StatusReport(BaseModel):  # renders with omgml's status_report.md.j2, which reads fields this lacks
        headline: str

    with pytest.raises(jinja2.UndefinedError, match="next_step"):  # never a blank where a value was expected
        render(StatusReport(headline="h"))


def test_html_is_autoescaped_and_markdown_is_not(tmp_path):
    class StatusReport(BaseModel):
        headline: str

    override(tmp_path, "status_report.html.j2", "<p>{{ r.headline }}</p>")
    override(tmp_path, "status_report.md.j2", "{{ r.headline }}")
    report = StatusReport(headline="<b>x</b> & y")
    assert render(report, "html", project=tmp_path) == "<p>&lt;b&gt;x&lt;/b&gt; &amp; y</p>\n"
    assert render(report, "md", project=tmp_path) == "<b>x</b> & y\n"


@pytest.mark.parametrize("link", ["folder", "file"])
def test_an_override_that_resolves_outside_the_project_is_refused(new_project, tmp_path, link):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "status_report.md.j2").write_text("{{ r.headline }} from outside\n")
    templates = new_project / OVERRIDES
    templates.parent.mkdir(exist_ok=True)
    if link == "folder":
        templates.symlink_to(outside, target_is_directory=True)
    else:
        templates.mkdir(parents=True)
        (templates / "status_report.md.j2").symlink_to(outside / "status_report.md.j2")
    report = project_status({"project_dir": str(new_project)})
    with pytest.raises(PathError, match="outside the project root"):
        render(report, project=new_project)


def test_the_cli_renders_with_the_projects_override(new_project):
    override(new_project, "status_report.md.j2", "CLI sees {{ r.stages | length }} stages\n")
    done = run_cli("status", str(new_project))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "CLI sees 8 stages\n"


@pytest.mark.anyio
async def test_the_mcp_tool_renders_with_the_projects_override(new_project, monkeypatch):
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(new_project.parent))
    override(new_project, "status_report.md.j2", "MCP sees {{ r.readiness | length }} practices\n")
    other = new_project.parent / "other"
    init_project({"project_dir": str(other), "task": "regression", "target": "y"})
    override(other, "status_report.md.j2", "{% if %}")
    async with Client(build_server()) as client:
        result = await client.call_tool("omgml_status", {"project_dir": new_project.name})
        failed = await client.call_tool("omgml_status", {"project_dir": "other"})
    assert result.content[0].text == f"MCP sees {len(result.structured_content['readiness'])} practices\n"
    assert failed.is_error and "status_report.md.j2 failed" in failed.content[0].text


def test_example_values_reach_markdown_as_text_not_json_escapes(tmp_path):
    from omgml import validate_data

    rows = "".join(f"{c},{i}\n" for i in range(40) for c in "ab")
    (tmp_path / "ref.csv").write_text("name,n\n" + rows)
    validate_data({"project_dir": str(tmp_path), "data": "ref.csv", "save_contract": "c"})
    (tmp_path / "t.csv").write_text("name,n\n" + rows + '"<img src=x onerror=alert(2)>",3\n')
    report = validate_data({"project_dir": str(tmp_path), "data": "t.csv", "contract": "c"})
    assert report.findings[0].examples == ["<img src=x onerror=alert(2)>"]
    row = next(line for line in render(report, "md", project=tmp_path).splitlines() if "unseen_category" in line)
    assert '(e.g. "\\<img src=x onerror=alert(2)\\>")' in row and "u003c" not in row, row


@pytest.fixture
def own_template_cache(tmp_path, monkeypatch):
    """A private user cache and no environment built yet: every template is compiled or read from that cache."""
    import omgml.render as render_module

    def fresh() -> None:
        render_module._compiled_templates.cache_clear()
        render_module.report_environment.cache_clear()

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fresh()
    yield fresh
    fresh()


def test_compiled_reports_are_kept_in_the_user_cache_and_read_back(new_project, own_template_cache, monkeypatch):
    report = project_status({"project_dir": str(new_project)})
    expected = render(report, project=new_project)
    assert list((new_project.parent / "cache" / "omgml" / "templates").glob("jinja-*/*.cache"))
    own_template_cache()  # a new process, as far as jinja knows

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again although the cache holds the report")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render(report, project=new_project) == expected


def test_a_damaged_cache_entry_is_compiled_again(new_project, own_template_cache):
    from jinja2.bccache import bc_magic

    report = project_status({"project_dir": str(new_project)})
    expected = render(report)
    entries = list((new_project.parent / "cache" / "omgml" / "templates").glob("jinja-*/*.cache"))
    for entry in entries:
        entry.write_bytes(bc_magic + b"not a pickle")  # past jinja's own magic check: the load itself fails
    own_template_cache()
    assert render(report) == expected


def test_without_a_writable_cache_reports_still_render(new_project, own_template_cache, monkeypatch, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    own_template_cache()
    report = project_status({"project_dir": str(new_project)})
    assert render(report).startswith("## omgml")
    assert blocked.read_text() == "a file where the cache folder would go"


@pytest.mark.parametrize("level", [0, 1, 2])
def test_a_cache_folder_others_can_write_is_not_used(new_project, own_template_cache, tmp_path, level):
    """Its entries run as code: a folder others can write (a shared cache), or one they could swap, is not used."""
    import jinja2 as jinja

    import omgml.render as render_module

    folder = tmp_path / "cache" / "omgml" / "templates" / f"jinja-{jinja.__version__}"
    folder.mkdir(parents=True)
    [folder.parent.parent, folder.parent, folder][level].chmod(0o777)
    own_template_cache()
    assert render_module._compiled_templates() is None
    assert render(project_status({"project_dir": str(new_project)})).startswith("## omgml")
    assert list(folder.iterdir()) == []
