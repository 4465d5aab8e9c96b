"""``validate_data`` through its faces: bad input, contracts, saved reports, markdown, CLI exit codes, MCP, scaffold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omgml.errors import OmgmlError
from omgml.render import render
from omgml.validation.service import validate_data
from omgml.workspace import STAMP_KEYS, Store


def frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50_000, 10_000, rows).round(2),
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "churned": rng.permutation(np.arange(rows) % 2),
        }
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    frame().to_csv(tmp_path / "train.csv", index=False)
    return tmp_path


def check(project: Path, **request):
    return validate_data({"project_dir": str(project), **request})


# ---------------------------------------------------------------- bad input: each a clear error or a finding


def _error(project: Path, **request) -> str:
    with pytest.raises(OmgmlError) as info:
        check(project, **request)
    return str(info.value)


def test_missing_file(project):
    assert _error(project, data="nope.csv").startswith("nope.csv does not exist. There is no file at that path.")


def test_a_directory(project):
    (project / "folder").mkdir()
    assert _error(project, data="folder").startswith("folder is a folder with no table file in it.")


def test_binary_file(project):
    (project / "blob.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    assert "is binary, not csv text" in _error(project, data="blob.csv")


def test_empty_file(project):
    (project / "empty.csv").write_bytes(b"")
    assert "is empty (0 bytes)" in _error(project, data="empty.csv")


def test_header_only_is_an_empty_dataset_finding(project):
    (project / "header.csv").write_text("age,income,churned\n")
    report = check(project, data="header.csv")
    assert not report.passed and report.rows == 0
    assert [f.check for f in report.findings] == ["empty_dataset"]
    assert report.findings[0].message == "header.csv has a header but no data rows"
    skipped = {c.check: c.reason for c in report.checks if c.status == "skipped"}
    assert skipped["duplicate_rows"] == "the table has no data rows"


def test_header_only_cannot_be_a_contract(project):
    (project / "header.csv").write_text("age,income\n")
    assert "Cannot infer a contract from header.csv: it has no rows" in _error(
        project, data="header.csv", save_contract="x"
    )


def test_ragged_rows_are_a_finding_with_line_numbers(project):
    (project / "ragged.csv").write_text("a,b\n" + "".join(f"{i * 0.5},{i % 3}\n" for i in range(40)) + "1,2,3\n")
    report = check(project, data="ragged.csv")
    finding = next(f for f in report.findings if f.check == "ragged_rows")
    assert (finding.count, finding.examples, finding.example_kind) == (1, [42], "lines")
    assert "1 line(s) have a different number of fields than the header and were skipped" in finding.message
    assert report.rows == 40


def test_duplicate_column_names_are_a_finding(project):
    (project / "dup.csv").write_text("a,b,a\n1,x,3\n2,y,4\n")
    report = check(project, data="dup.csv")
    finding = next(f for f in report.findings if f.check == "duplicate_column_names")
    assert finding.message == "The column name 'a' appears 2 times in the header"
    assert [c.name for c in report.column_summary] == ["a", "b"]


def test_latin1_bytes_in_the_sniffed_part_are_read_as_latin1(project):
    (project / "latin.csv").write_bytes("city,n\nSão Paulo,1\nZürich,2\n".encode("latin-1"))
    report = check(project, data="latin.csv")
    assert report.passed
    assert validate_data  # the values decode: the city column has both names
    assert report.column_summary[0].distinct == 2


def test_latin1_bytes_after_a_utf8_start_say_which_encoding_to_pass(project, monkeypatch):
    from omgml.data import csv_table, tables

    monkeypatch.setattr(tables, "SNIFF_BYTES", 1024)
    text = "city,n\n" + "".join(f"Zürich,{i}\n" for i in range(2000))
    (project / "mixed.csv").write_bytes(text.encode("utf-8") + "Genève,1\n".encode("latin-1"))
    message = _error(project, data="mixed.csv")  # the bad bytes are in the first block read
    assert (
        "mixed.csv has bytes that are not valid utf8 in column(s) city" in message and "--encoding latin-1" in message
    )
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 4096)
    monkeypatch.setattr(csv_table, "CSV_BLOCK_BYTES", 8192)
    message = _error(project, data="mixed.csv")  # ... and far past the first blocks
    assert "mixed.csv has bytes that are not valid utf8" in message and "--encoding latin-1" in message
    report = check(project, data="mixed.csv", encoding="latin-1")
    assert report.rows == 2001


def test_one_column_file_points_at_the_delimiter(project):
    (project / "one.csv").write_text("a;b;c\n1;2;3\n4;5;6\n")
    report = check(project, data="one.csv", delimiter=",")
    finding = next(f for f in report.findings if f.check == "single_column")
    assert "whose name contains ';': the delimiter was probably misread" in finding.message
    assert finding.suggestion == "pass the delimiter explicitly: --delimiter ';'"
    assert check(project, data="one.csv").columns == 3  # sniffed correctly without the override


def test_unknown_target_column_lists_the_columns(project):
    message = _error(project, data="train.csv", target="churn")
    assert "The target column 'churn' is not in train.csv" in message
    assert "The columns are: age, income, plan, churned" in message
    assert "Fix: pass --target with one of those names (did you mean 'churned'?)" in message


def test_unknown_key_column(project):
    assert "The key column 'id' is not in train.csv" in _error(project, data="train.csv", keys=["id"])


def test_contract_that_does_not_parse(project):
    contracts = project / ".omgml" / "contracts"
    contracts.mkdir(parents=True)
    (contracts / "broken.json").write_text('{"omgml_version": "0.1.0", "columns": [}')
    message = _error(project, data="train.csv", contract="broken")
    assert "The contract .omgml/contracts/broken.json is not valid JSON" in message and "line 1" in message
    (contracts / "fields.json").write_text(
        '{"omgml_version": "0.1.0", "name": "f", "created_at": "", "columns": [{"name": "a"}]}'
    )
    assert "These are wrong: columns.0.kind: Field required" in _error(project, data="train.csv", contract="fields")
    assert "There is no contract named 'other'" in _error(project, data="train.csv", contract="other")


def test_path_outside_the_project_root(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "x.csv"
    frame().to_csv(outside, index=False)
    message = validate_error_with_root(project, str(outside))
    assert "outside the project root" in message
    assert "outside the project root" in validate_error_with_root(project, "../x.csv")


def validate_error_with_root(project: Path, data: str) -> str:
    with pytest.raises(OmgmlError) as info:
        validate_data({"project_dir": ".", "data": data}, root=project)
    return str(info.value)


def test_request_errors_are_readable(project):
    assert "data must be a file path or a pandas DataFrame, not int" in _error(project, data=5)
    assert "'save_contract'" in _error(project, data="train.csv", save_contract="../escape")


# ---------------------------------------------------------------- contracts


def test_contract_round_trip_is_hand_editable_json(project):
    report = check(project, data="train.csv", save_contract="train", target="churned")
    assert report.contract_saved == ".omgml/contracts/train.json"
    saved = json.loads((project / ".omgml/contracts/train.json").read_text())
    from omgml import __version__

    assert saved["omgml_version"] == __version__ and saved["target"] == "churned"
    columns = {c["name"]: c for c in saved["columns"]}
    age = columns["age"]
    assert age["kind"] == "integer" and age["observed_min"] >= 18 and age["observed_max"] <= 89
    # Inferred bounds extrapolate past the sample's extremes, staying whole and non-negative.
    assert age["bounds"] == "inferred" and 0 <= age["min"] <= age["observed_min"] and age["max"] >= age["observed_max"]
    assert (age["inferred_min"], age["inferred_max"]) == (age["min"], age["max"])
    assert isinstance(age["min"], int) and isinstance(age["max"], int)
    assert columns["plan"]["categories"] == ["basic", "pro", "team"]
    assert columns["income"]["nullable"] is False and columns["income"]["max_null_rate"] == 0.0
    # Edit by hand: tighten a bound, drop a category; new data is then judged by the edited contract.
    columns["age"]["max"] = 60
    columns["plan"]["categories"] = ["basic", "pro"]
    (project / ".omgml/contracts/train.json").write_text(json.dumps(saved, indent=2))
    report = check(project, data="train.csv", contract="train")
    data = frame()
    found = {f.check: f for f in report.findings}
    assert found["out_of_range"].count == int((data["age"] > 60).sum())
    assert found["unseen_category"].count == int((data["plan"] == "team").sum())
    assert found["unseen_category"].examples == ["team"]
    assert report.target == "churned" and "Target 'churned' taken from the contract." in report.notes


def test_saving_does_not_silently_replace_a_contract(project):
    check(project, data="train.csv", save_contract="train")
    assert "A contract named 'train' already exists" in _error(project, data="train.csv", save_contract="train")
    assert check(project, data="train.csv", save_contract="train", replace_contract=True).contract_saved


def test_contract_given_as_a_path(project):
    check(project, data="train.csv", save_contract="train")
    report = check(project, data="train.csv", contract=".omgml/contracts/train.json")
    assert report.passed and report.contract == ".omgml/contracts/train.json"


def test_new_data_against_the_contract(project):
    check(project, data="train.csv", save_contract="train", target="churned")
    new = frame(seed=3).drop(columns="plan").assign(region="north")
    new.loc[:4, "income"] = None
    new.to_parquet(project / "new.parquet")
    report = check(project, data="new.parquet", contract="train")
    found = {(f.check, f.column) for f in report.findings}
    assert {("missing_column", "plan"), ("unexpected_column", "region"), ("null_rate", "income")} <= found
    assert not report.passed


# ---------------------------------------------------------------- report: saved, ranked, rendered


def test_every_run_is_saved_for_status(project):
    report = check(project, data="train.csv", target="churned")
    history = Store(project).history("validation")
    assert len(history) == 1
    saved = Store(project).read_json(history[0])
    assert saved["ok"] is report.passed is True
    assert saved["headline"].startswith("passed: train.csv (200 rows x 4 columns): 0 error(s)")
    assert report.report_path == history[0].relative_to(project).as_posix()
    assert {k: v for k, v in saved.items() if k not in STAMP_KEYS} == report.model_dump(mode="json")


def test_status_shows_the_latest_validation(project):
    from omgml import init_project, project_status

    init_project({"project_dir": str(project), "task": "binary", "target": "churned"})
    check(project, data="train.csv")
    status = project_status({"project_dir": str(project)})
    item = next(i for i in status.readiness if i.practice == "data validated")
    assert item.ok and item.evidence.startswith("passed: train.csv")


def test_findings_are_ranked_and_markdown_is_short(project):
    data = frame(rows=400)
    data["leak"] = data["churned"] * 2
    for i in range(14):
        data[f"const_{i}"] = 1
    data.loc[:9, "churned"] = None
    data.to_csv(project / "bad.csv", index=False)
    report = check(project, data="bad.csv", target="churned")
    severities = [f.severity for f in report.findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert report.counts.error == 2 and report.counts.warning == 14 and not report.passed
    text = render(report)
    assert text.startswith("## omgml validate: FAILED")
    assert "... and 6 more finding(s) (0 error, 6 warning, 0 info) in the JSON result." in text
    assert len(text.splitlines()) < 30


def test_dataframe_input_from_python(project):
    data = frame()
    data.loc[[1, 2], "income"] = np.inf
    report = validate_data({"project_dir": str(project), "data": data, "target": "churned"})
    assert report.source == "<DataFrame>" and report.format == "dataframe"
    assert [(f.check, f.count) for f in report.findings if f.severity == "error"] == [("infinite_values", 2)]


def test_target_defaults_to_the_projects_target(project):
    from omgml import init_project

    init_project({"project_dir": str(project), "task": "binary", "target": "churned"})
    assert check(project, data="train.csv").target == "churned"
    frame().drop(columns="churned").to_csv(project / "unlabelled.csv", index=False)
    report = check(project, data="unlabelled.csv")
    assert report.target is None
    assert any("'churned' from omgml.toml is not in the data" in n for n in report.notes)


# ---------------------------------------------------------------- CLI


def _cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run ``omgml validate`` the way a person would (python -m omgml, the installed entry point)."""
    code = (
        "import sys, typer\n"
        "from omgml import cli\n"
        "from omgml.cli.validation import validate\n"
        "names = {c.name or c.callback.__name__ for c in cli.app.registered_commands}\n"
        "if 'validate' not in names: cli.app.command()(validate)\n"
        "cli.main(sys.argv[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_cli_exit_codes_gate_a_pipeline(project):
    data = frame()
    data.loc[:2, "churned"] = None
    data.to_csv(project / "bad.csv", index=False)
    assert _cli("train.csv", "--target", "churned", cwd=project)[0] == 0
    code, out, _ = _cli("bad.csv", "--target", "churned", cwd=project)
    assert code == 1 and "target_nulls" in out
    code, out, err = _cli("nope.csv", cwd=project)
    assert code == 2 and out == "" and err.startswith("omgml: error: nope.csv does not exist")
    assert len(err.strip().splitlines()) == 1


def test_cli_json_is_the_python_result(project):
    code, out, _ = _cli("train.csv", "--target", "churned", "--key", "age", "--json", cwd=project)
    assert code == 1  # age repeats: duplicate_keys is an error
    python = check(project, data="train.csv", target="churned", keys=["age"]).model_dump(mode="json")
    cli = json.loads(out)
    assert len({d.pop("report_path") for d in (cli, python)}) == 2  # each run saved its own report
    assert len({d.pop("html_path") for d in (cli, python)}) == 2
    assert cli == python


def test_cli_saves_and_uses_a_contract(project):
    assert _cli("train.csv", "--save-contract", "train", cwd=project)[0] == 0
    frame().assign(plan="enterprise").to_csv(project / "new.csv", index=False)
    code, out, _ = _cli("new.csv", "--contract", "train", "--delimiter", ",", cwd=project)
    assert code == 1 and "unseen_category" in out


# ---------------------------------------------------------------- MCP


@pytest.mark.anyio
async def test_mcp_tool_returns_the_python_result(project, monkeypatch):
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    from omgml.mcp.tools.validation import SPECS
    from omgml.validation.models import ValidationReport

    monkeypatch.setenv("OMGML_PROJECT_DIR", str(project))
    server = MCPServer("t")
    for spec in SPECS:
        server.add_tool(spec.fn, title=spec.title)
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        tool = tools["omgml_validate_data"]
        assert tool.output_schema["properties"].keys() == ValidationReport.model_json_schema()["properties"].keys()
        assert tool.input_schema["required"] == ["data"]
        result = await client.call_tool("omgml_validate_data", {"data": "train.csv", "target": "churned"})
        assert not result.is_error
        python = check(project, data="train.csv", target="churned").model_dump(mode="json")
        from_mcp = dict(result.structured_content)
        assert from_mcp.pop("report_path") != python["report_path"]  # each run saved its own report
        assert from_mcp.pop("html_path") != python["html_path"]
        assert from_mcp == {k: v for k, v in python.items() if k not in ("report_path", "html_path")}
        assert result.content[0].text == render(ValidationReport.model_validate(python))
        failed = await client.call_tool("omgml_validate_data", {"data": "../outside.csv"})
        assert failed.is_error and "outside the project root" in failed.content[0].text


def test_tool_and_command_modules_import_no_heavy_library():
    code = (
        "import sys\n"
        "import omgml.mcp.tools.validation, omgml.cli.validation\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'numpy', 'scipy', 'sklearn', 'mlflow') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stderr


def test_validate_prompt_renders():
    from omgml.mcp.prompts import load_prompts

    prompt = next(p for p in load_prompts() if p.name == "validate")
    text = prompt.render({"data": "data/raw/train.csv", "contract": "train"})
    assert "omgml_validate_data" in text and "omgml validate data/raw/train.csv --contract train" in text


# ---------------------------------------------------------------- scaffold


@pytest.mark.slow
def test_scaffold_validates_raw_data_and_its_test_passes(tmp_path):
    import omgml
    from omgml import init_project

    if not hasattr(omgml, "validate_data"):
        pytest.fail("omgml.validate_data is not exported yet (server/omgml/__init__.py)")
    project = tmp_path / "proj"
    init_project({"project_dir": str(project), "name": "Churn", "task": "binary", "target": "churned"})
    assert (project / "src/churn/validate.py").is_file() and (project / "tests/test_validate.py").is_file()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(project / "src")}
    run = lambda *args: subprocess.run(
        [sys.executable, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    empty = run("-m", "churn.validate")
    assert empty.returncode == 0 and "No data tables yet" in empty.stdout
    frame().to_csv(project / "data/raw/train.csv", index=False)
    first = run("-m", "churn.validate")
    assert first.returncode == 0 and "data/raw/train.csv: passed" in first.stdout and "No contract yet" in first.stdout
    tests = run("-m", "pytest", "-q", "tests/test_validate.py")
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_every_format_gives_the_same_findings(project):
    data = frame()
    data.loc[[3, 4], "income"] = np.inf
    data = pd.concat([data, data.iloc[[0, 1]]], ignore_index=True)
    data.to_csv(project / "t.csv", index=False)
    data.to_csv(project / "t.tsv", sep="\t", index=False)
    data.to_parquet(project / "t.parquet", index=False)
    data.to_json(project / "t.jsonl", orient="records", lines=True)
    results = {}
    for name in ("t.csv", "t.tsv", "t.parquet", "t.jsonl"):
        report = check(project, data=name, target="churned")
        results[name] = [(f.check, f.column, f.count) for f in report.findings]
    assert results["t.csv"] == [("infinite_values", "income", 2), ("duplicate_rows", None, 2)]
    assert results["t.tsv"] == results["t.parquet"] == results["t.csv"]
    assert results["t.jsonl"] == [("duplicate_rows", None, 2)]  # JSON has no infinity: pandas wrote null


def test_a_float_label_with_few_values_is_a_class_target(project):
    data = frame(rows=300)
    data["churned"] = (np.arange(300) % 20 == 0).astype(float)  # 15 of 300: 0.0/1.0 as pandas writes labels with gaps
    data.loc[7, "churned"] = np.nan
    data.to_csv(project / "labels.csv", index=False)
    report = check(project, data="labels.csv", target="churned")
    found = {f.check: f for f in report.findings}
    assert found["class_imbalance"].count == 15 and found["target_nulls"].count == 1


# ---------------------------------------------------------------- bounds: what the range chart draws


def test_bounds_count_the_values_outside_the_contract_as_numpy_does(project, monkeypatch):
    from omgml.data import parquet_table

    rng = np.random.default_rng(11)
    n = 5000
    f = rng.normal(size=n) * 3
    f[rng.random(n) < 0.05] = np.nan
    f[rng.random(n) < 0.01] = np.inf
    f[rng.random(n) < 0.01] = -np.inf
    data = pd.DataFrame(
        {
            "f": f,
            "i": rng.integers(-40, 40, n),
            "only_max": rng.exponential(2.0, n),
            "text": rng.choice(["1", "2", "x"], n),
            "free": rng.normal(size=n),
        }
    )
    data.loc[:1199, "f"] = data.loc[:1199, "f"].clip(-1, 1)  # a first batch inside the bounds: skipped, not miscounted
    data.to_parquet(project / "batch.parquet")
    data.assign(text=rng.integers(0, 3, n)).to_parquet(project / "clean.parquet")
    check(project, data="clean.parquet", save_contract="c")
    path = project / ".omgml/contracts/c.json"
    contract = json.loads(path.read_text())
    rules = {c["name"]: c for c in contract["columns"]}
    rules["f"].update(min=-2.5, max=4.0, bounds="exact")
    rules["i"].update(min=-10.5, max=25, bounds="exact")  # a fractional bound on an integer column
    rules["only_max"].update(min=None, max=3.0, bounds="exact")
    rules["free"].update(min=None, max=None)
    path.write_text(json.dumps(contract))
    monkeypatch.setattr(parquet_table, "PARQUET_BATCH_ROWS", 700)  # many batches
    report = check(project, data="batch.parquet", contract="c")

    summary = {c.name: c for c in report.column_summary}
    for name, low, high in (("f", -2.5, 4.0), ("i", -10.5, 25), ("only_max", None, 3.0)):
        values = data[name].to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        bounds = summary[name].bounds
        assert (bounds.min, bounds.max) == (low, high)
        assert bounds.below == (int((finite < low).sum()) if low is not None else 0)
        assert bounds.above == int((finite > high).sum())
        assert (summary[name].min, summary[name].max) == (finite.min(), finite.max())
        finding = next(x for x in report.findings if x.check == "out_of_range" and x.column == name)
        assert finding.count == bounds.below + bounds.above > 0
    assert summary["text"].bounds is None  # read as text: dtype_mismatch speaks, not a zero count
    assert summary["free"].bounds is None
    assert check(project, data="batch.parquet").column_summary[0].bounds is None  # no contract, no bounds
