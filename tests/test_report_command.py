"""``omgml report`` and ``--html PATH``: a saved report shown again equals what its tool printed and saved."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import omgml
from omgml import (
    check_drift,
    compare_models,
    monitor_batch,
    project_status,
    promote_model,
    rollback_model,
    show_report,
    train_baseline,
    validate_data,
)
from omgml.errors import InvalidInput, OmgmlError, PathError
from omgml.project.models import REPORT_KINDS
from omgml.render import render
from omgml.workspace import Report
from tests.conftest import cli_in_process, run_cli
from tests.test_baseline import mixed_frame, write_table

KINDS = tuple(REPORT_KINDS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A project with one real report of every kind, and the result each service returned."""
    from omgml import init_project

    project = tmp_path_factory.mktemp("reports") / "proj"
    init_project({"project_dir": str(project), "task": "binary", "target": "churned"})
    frame = mixed_frame(160)
    write_table(project / "data" / "raw", frame, "train.csv")
    shifted = frame.assign(signal=frame["signal"] + 1.5)
    write_table(project / "data" / "processed", shifted, "current.csv")
    where = {"project_dir": str(project)}
    # a first version (the champion), so compare, promote and roll back have two to work with
    train_baseline({**where, "data_path": "data/raw/train.csv", "cv": 2, "models": ["linear"], "seed": 1})
    results = {
        # first: it validates the batch too, and the validation report of this fixture must be the newest
        "monitor": monitor_batch({**where, "batch": "data/processed/current.csv"}),
        "validation": validate_data({**where, "data": "data/raw/train.csv", "target": "churned"}),
        "drift": check_drift({**where, "reference": "data/raw/train.csv", "current": "data/processed/current.csv"}),
        "baseline": train_baseline(
            {**where, "data_path": "data/raw/train.csv", "cv": 2, "models": ["dummy", "linear"]}
        ),
        "status": project_status(where),
    }
    results["compare"] = compare_models(
        {**where, "challengers": ["2"], "data": "data/processed/current.csv", "resamples": 100}
    )
    results["promote"] = promote_model({**where, "ref": "2", "force": True, "reason": "round trip"})
    results["rollback"] = rollback_model(where)
    return project, results


def one_line_error(done) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips(saved, kind):
    project, results = saved
    result = results[kind]
    assert result.report_path and result.html_path, f"{kind} saved no report"
    as_json = cli_in_process("report", kind, "--json", cwd=project)
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stdout == (project / result.report_path).read_text(encoding="utf-8")
    by_path = cli_in_process("report", result.report_path, "--md", "--project-dir", str(project))
    assert by_path.returncode == 0, by_path.stderr
    assert by_path.stdout == render(result, "md", project)  # what the tool printed when it ran
    as_html = cli_in_process("report", kind, "--html", "-", cwd=project)
    assert as_html.returncode == 0, as_html.stderr
    assert as_html.stdout == (project / result.html_path).read_text(encoding="utf-8")


def test_the_python_api_reads_and_renders_the_same(saved):
    project, results = saved
    drift = results["drift"]
    loaded = omgml.load_report("drift", project_dir=str(project))
    assert type(loaded) is type(drift) and loaded == drift
    assert show_report(drift.report_path, "html", project_dir=str(project)) == (project / drift.html_path).read_text()
    assert show_report("drift", project_dir=str(project)) == render(drift, "md", project)
    newest = max((r for r in results.values()), key=lambda r: r.report_path.rsplit("/", 1)[1])
    assert show_report(None, "json", project_dir=str(project)) == (project / newest.report_path).read_text()
    with pytest.raises(InvalidInput, match="'pdf' is not a report format. A report renders as md, html, json"):
        show_report("drift", "pdf", project_dir=str(project))


@pytest.mark.parametrize("command", ["status", "validate", "drift", "baseline", "monitor", "compare"])
def test_html_path_writes_a_copy_and_never_overwrites_unasked(saved, command, tmp_path):
    project, _ = saved
    args = {
        "status": ["status", str(project)],
        "validate": ["validate", "data/raw/train.csv", "--project-dir", str(project)],
        "drift": ["drift", "data/raw/train.csv", "data/processed/current.csv", "--project-dir", str(project)],
        "baseline": ["baseline", "data/raw/train.csv", "--cv", "2", "--models", "dummy", "--project-dir", str(project)],
        "monitor": ["monitor", "data/processed/current.csv", "--project-dir", str(project)],
        "compare": ["compare", "--challenger", "2", "--data", "data/processed/current.csv", "--resamples", "100"]
        + ["--project-dir", str(project)],
    }[command]
    done = cli_in_process(*args, "--json", "--html", "out/copy.html", cwd=tmp_path.parent)
    assert "does not exist" in one_line_error(done)  # checked before any work: nothing saved
    (tmp_path / "out").mkdir()
    done = cli_in_process(*args, "--json", "--html", "out/copy.html", cwd=tmp_path)  # relative to the current folder
    assert done.returncode in (0, 1), done.stderr  # validate and drift exit 1 on what they found
    result = json.loads(done.stdout)
    copy = tmp_path / "out" / "copy.html"
    assert copy.read_text() == (project / result["html_path"]).read_text()
    copy.write_text("mine")
    again = cli_in_process(*args, "--html", str(copy), cwd=tmp_path)
    assert one_line_error(again).endswith(
        "already exists. omgml replaces a file only when told to, so a mistyped path cannot destroy one. "
        "Fix: add --replace-html, or give another path."
    )
    assert copy.read_text() == "mine"
    if command == "status":  # the quick one: replace, and print instead of the markdown
        replaced = cli_in_process(*args, "--html", str(copy), "--replace-html", "--json", cwd=tmp_path)
        assert copy.read_text() == (project / json.loads(replaced.stdout)["html_path"]).read_text()
        printed = cli_in_process(*args, "--html", "-", cwd=tmp_path)
        assert printed.stdout.startswith("<!doctype html>") and "## omgml status" not in printed.stdout


def test_html_of_a_result_that_was_not_saved_is_rendered(tmp_path):
    """A folder that is not an omgml project gets no saved status, but --html still writes its page."""
    done = cli_in_process("status", ".", "--html", "status.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<svg" in (tmp_path / "status.html").read_text()
    assert not (tmp_path / ".omgml").exists()


def _write(project, name, text):
    (project / name).write_text(text)
    return name


def _incompatible(project, saved_report):
    report = json.loads((project / saved_report).read_text())
    del report["columns"]
    report["omgml_version"] = "0.0.1"
    return _write(project, "old-drift.json", json.dumps(report))


def _damaged(project, saved_report):
    report = json.loads((project / saved_report).read_text())
    report["columns"] = "many"
    return _write(project, "damaged-drift.json", json.dumps(report))


def _foreign_kind(project, saved_report):
    report = json.loads((project / saved_report).read_text())
    return _write(project, "lineage.json", json.dumps({**report, "kind": "lineage"}))


ERRORS = {
    "unknown kind": (
        lambda p, r: "frob",
        (
            "'frob' is neither a kind of report nor the path of one. The kinds are validation, drift, baseline, status, "
            "monitor, compare, promote, rollback; a saved report is a .json file. Fix: give a kind, or the path of a "
            "report"
        ),
    ),
    "missing": (lambda p, r: "missing.json", "No saved report at missing.json. The path names no file."),
    "outside": (lambda p, r: "../outside.json", "The saved report '../outside.json' resolves to "),
    "not json": (
        lambda p, r: _write(p, "notes.json", "not json\n"),
        "notes.json is not a report omgml saved. It is not JSON",
    ),
    "no stamp": (
        lambda p, r: _write(p, "plain.json", '{"kind": "drift"}'),
        (
            "plain.json is not a report omgml saved. Every report omgml saves is a JSON object with kind, omgml_version "
            "and created_at."
        ),
    ),
    "unknown kind in file": (_foreign_kind, "lineage.json is a 'lineage' report, which omgml "),
    "old version": (
        _incompatible,
        (
            "old-drift.json cannot be read as a drift report. It was saved by omgml 0.0.1, whose drift report differs "
            "from "
        ),
    ),
    "damaged": (
        _damaged,
        (
            "damaged-drift.json cannot be read as a drift report. Its fields do not fit a drift report ('columns': "
            "Input should be a valid list); it was edited or damaged. Fix: run `omgml drift REFERENCE CURRENT` again"
        ),
    ),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_say_what_why_and_fix(saved, case):
    project, results = saved
    make, message = ERRORS[case]
    (project.parent / "outside.json").write_text((project / results["drift"].report_path).read_text())
    with pytest.raises(OmgmlError) as raised:
        show_report(make(project, results["drift"].report_path), project_dir=str(project))
    assert str(raised.value).startswith(message)


def test_an_error_is_one_line_on_the_cli_with_exit_2(saved):
    project, results = saved
    done = run_cli("report", _damaged(project, results["drift"].report_path), "--project-dir", str(project))
    assert one_line_error(done).startswith("omgml: error: damaged-drift.json cannot be read as a drift report.")


def test_a_symlink_out_of_the_project_is_refused(saved):
    project, results = saved
    outside = project.parent / "planted.json"
    outside.write_text((project / results["drift"].report_path).read_text())
    (project / "planted.json").symlink_to(outside)
    with pytest.raises(PathError, match="outside the project root"):
        show_report("planted.json", project_dir=str(project))


def test_no_report_saved_yet(new_project):
    line = one_line_error(cli_in_process("report", "drift", cwd=new_project))
    assert line == (
        f"omgml: error: No drift report is saved in {new_project}. omgml saves one under .omgml/reports/drift/ "
        "each time `omgml drift REFERENCE CURRENT` runs. Fix: run `omgml drift REFERENCE CURRENT` first, or name "
        "the project folder it is in."
    )
    line = one_line_error(cli_in_process("report", cwd=new_project))
    assert line.startswith("omgml: error: No report is saved in .omgml/reports of ")
    assert (
        "`omgml validate`, `omgml drift`, `omgml baseline`, `omgml status`, `omgml monitor`, `omgml compare`, "
        "`omgml promote` or `omgml rollback` runs" in line
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--md", "--json"], "--md and --json both print to stdout"),
        (["--json", "--html", "-"], "--html - and --json both print to stdout"),
    ],
)
def test_two_documents_on_stdout_are_refused(new_project, args, message):
    assert one_line_error(cli_in_process("report", "status", *args, cwd=new_project)).startswith(
        f"omgml: error: {message}"
    )


def test_every_saved_kind_of_report_can_be_shown_again():
    """A new result type that ``Store.save`` writes needs its model in REPORT_KINDS, or `omgml report` refuses it."""
    package = importlib.import_module("omgml")
    for info in pkgutil.walk_packages(package.__path__, "omgml."):
        if not info.name.startswith(("omgml.mcp", "omgml.cli", "omgml.demo", "omgml.__main__")):
            importlib.import_module(info.name)
    kinds = {}
    pending = list(Report.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        kinds[model.model_fields["kind"].default] = f"{model.__module__}:{model.__name__}"
    assert kinds == {kind: model for kind, (model, _) in REPORT_KINDS.items()}
