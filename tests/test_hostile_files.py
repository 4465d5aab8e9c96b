"""Hostile files: every reader refuses what it cannot read with an ``OmgmlError`` (what, why, fix),
and nothing a file holds can crash or stall the process.

Each file is generated here, in ``tmp_path``, and handed to the public services (validate, drift,
baseline, status). The nesting that once overflowed the C stack inside Arrow's JSON reader is run in a
child process, so a regression fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omgml import OmgmlError, check_drift, project_status, train_baseline, validate_data
from omgml.data import jsonscan
from omgml.data.tables import DataError
from omgml.errors import ConfigError

GOOD = "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(60))


def _write(root: Path, name: str, content: str | bytes) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return name


def _refusal(call, **request) -> OmgmlError:
    with pytest.raises(OmgmlError) as info:
        call(request)
    return info.value


def _every_tool_refuses(root: Path, name: str, validate: bool = True) -> list[OmgmlError]:
    """The refusal of validate, drift (as reference and as current) and baseline, for the file ``name``."""
    _write(root, "good.csv", GOOD)
    project = {"project_dir": str(root)}
    return [
        *([_refusal(validate_data, **project, data=name)] if validate else []),
        _refusal(check_drift, **project, reference="good.csv", current=name),
        _refusal(check_drift, **project, reference=name, current="good.csv"),
        _refusal(train_baseline, **project, data_path=name, target="y", register_model=False),
    ]


def _nested(depth: int) -> str:
    return '{"a":' + "[" * depth + "]" * depth + ',"y":1}'


# ------------------------------------------------------------------ JSON nesting


@pytest.mark.parametrize("depth", [10_000, 20_000])
def test_deep_json_lines_are_refused_before_arrow_parses_them(tmp_path, depth):
    # Depth 20,000 overflowed the C stack inside Arrow's reader (the process died without a word); 10,000 took
    # ~220 s. A child process with a timeout: a regression fails here, it cannot take pytest down.
    _write(tmp_path, "deep.jsonl", '{"a":1,"y":0}\n' + _nested(depth) + "\n")
    code = (
        "import sys, omgml\n"
        "try:\n"
        "    omgml.validate_data({'project_dir': sys.argv[1], 'data': 'deep.jsonl'})\n"
        "except omgml.OmgmlError as exc:\n"
        "    print(exc)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.startswith(
        f"deep.jsonl line 2 nests {depth + 1} levels of lists or objects, more than the 64 omgml reads. "
    )
    assert "Fix: flatten that line's values" in child.stdout


def test_deep_json_lines_are_refused_by_every_data_tool(tmp_path):
    _write(tmp_path, "deep.jsonl", _nested(20_000) + "\n")
    for error in _every_tool_refuses(tmp_path, "deep.jsonl"):
        assert isinstance(error, DataError)
        assert "deep.jsonl line 1 nests 20001 levels of lists or objects, more than the 64 omgml reads" in str(error)


def test_nesting_up_to_the_limit_is_read(tmp_path):
    lines = [json.dumps({"a": i, "tags": [[i]], "y": i % 2}) for i in range(40)]
    lines[7] = _nested(62)  # 1 (the object) + 62 + 1 ('y' is outside): 63 levels; a string keeps its brackets
    lines[8] = json.dumps({"a": "[[[[" * 100, "y": 0})
    _write(tmp_path, "ok.jsonl", "\n".join(lines) + "\n")
    report = validate_data({"project_dir": str(tmp_path), "data": "ok.jsonl"})
    assert report.rows == 40
    _write(tmp_path, "over.jsonl", "\n".join([*lines[:3], _nested(64)]) + "\n")
    assert "over.jsonl line 4 nests 65 levels" in str(
        _refusal(validate_data, project_dir=str(tmp_path), data="over.jsonl")
    )


@pytest.mark.parametrize(
    ("text", "line", "depth"),
    [
        ('{"a":[[1]]}', 1, 3),
        ('{"a":"[[[["}', 1, 1),  # brackets in a string do not nest
        ('{"a":"\\"[[["}', 1, 1),  # an escaped quote does not end the string
        ('{"a":"\\\\"}\n[[[]]]', 2, 3),  # an escaped backslash does not escape the quote after it
        ('{"a":"\\n[["}', 1, 1),  # an escape letter is not a quote
        ('\n\n{"a":{"b":{}}}\n{}', 3, 3),
        ('{"a":"open\n[[[]]]', 2, 3),  # an unclosed quote spoils only its own line
        ("]]]]\n[[", 2, 2),  # closing brackets do not carry a negative depth to the next line
    ],
)
def test_the_depth_scan_follows_strings_escapes_and_lines(text, line, depth):
    assert jsonscan.deepest(text.encode()) == jsonscan.TooDeep(line, depth)


def test_the_scan_numbers_lines_across_chunks_and_stops_at_a_line_too_long(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("".join('{"a":[1]}\n' for _ in range(500)) + _nested(70) + "\n")
    assert jsonscan.scan_lines(path) == (jsonscan.TooDeep(501, 71), 0)
    chunks = list(jsonscan.line_chunks(path, size=200))
    assert b"".join(chunk for _, chunk in chunks) == path.read_bytes()
    assert len(chunks) > 20 and all(chunk.endswith(b"\n") for _, chunk in chunks)
    assert [before for before, _ in chunks[:3]] == [0, 20, 40]  # 20 lines of 10 bytes in each 200
    path.write_text('{"a":1}\n' * 3 + '{"a":"' + "x" * 500 + '"}\n')
    assert jsonscan.scan_lines(path, longest=100) == (None, 4)


def test_a_json_lines_line_longer_than_a_read_block_is_refused(tmp_path, monkeypatch):
    from omgml.data import jsonl_table

    monkeypatch.setattr(jsonl_table, "JSON_BLOCK_BYTES", 1024)
    _write(tmp_path, "long.jsonl", '{"a":1}\n' + json.dumps({"a": "x" * 4000}) + "\n")
    error = _refusal(validate_data, project_dir=str(tmp_path), data="long.jsonl")
    assert str(error).startswith("long.jsonl line 2 is longer than")
    assert "one line must fit in a block" in str(error)


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_deep_contract_is_refused_before_json_recurses(tmp_path):
    _write(tmp_path, "data.csv", GOOD)
    _write(tmp_path, ".omgml/contracts/deep.json", _deep_json(100_000))
    error = _refusal(validate_data, project_dir=str(tmp_path), data="data.csv", contract="deep")
    assert isinstance(error, ConfigError)
    assert str(error).startswith(
        "The contract .omgml/contracts/deep.json is not a contract: its line 1 nests 100000 levels deep, "
        "more than the 64 omgml reads"
    )
    assert "Fix: save the contract again with --save-contract NAME" in str(error)


def test_a_deep_reference_profile_is_refused_before_json_recurses(tmp_path):
    _write(tmp_path, "data.csv", GOOD)
    _write(tmp_path, ".omgml/references/deep.json", '{"format": ' + _deep_json(100_000) + "}")
    error = _refusal(check_drift, project_dir=str(tmp_path), reference="deep", current="data.csv")
    assert "deep.json is corrupt: it is not readable JSON (line 1 nests 100001 levels deep" in str(error)
    assert "Fix: save it again" in str(error)


def test_deep_json_in_a_cache_reads_as_damaged(tmp_path):
    from omgml.workspace import Store

    _write(tmp_path, ".omgml/f.json", _deep_json(100_000))
    assert Store(tmp_path).read_json(tmp_path / ".omgml" / "f.json") is None
    assert jsonscan.loads('{"a": [[1]]}') == {"a": [[1]]}
    with pytest.raises(jsonscan.JsonTooDeep, match="line 1 nests 100000 levels deep"):
        jsonscan.loads(_deep_json(100_000))


# ------------------------------------------------------------------ encodings and delimiters


def test_an_unknown_encoding_is_named(tmp_path):
    _write(tmp_path, "data.csv", GOOD)
    error = _refusal(validate_data, project_dir=str(tmp_path), data="data.csv", encoding="bogus")
    assert str(error) == (
        "Unknown encoding 'bogus'. The encoding must be one Python knows. "
        "Fix: pass a name such as utf-8, latin-1, cp1252 or utf-16-le."
    )


def test_utf16_without_a_bom_is_named_and_read_when_its_byte_order_is_given(tmp_path):
    _write(tmp_path, "data.csv", GOOD.encode("utf-16-le"))
    sniffed = _refusal(validate_data, project_dir=str(tmp_path), data="data.csv")
    assert "every other byte is NUL, as in UTF-16 text without a byte-order mark" in str(sniffed)
    assert "for UTF-16 text pass --encoding utf-16-le (or utf-16-be)" in str(sniffed)
    wrong = _refusal(validate_data, project_dir=str(tmp_path), data="data.csv", encoding="utf-16")
    assert str(wrong).startswith(
        "data.csv is not text in the encoding it was read with: UTF-16 stream does not start with BOM"
    )
    assert "Fix: pass the file's encoding" in str(wrong)
    report = validate_data({"project_dir": str(tmp_path), "data": "data.csv", "encoding": "utf-16-le"})
    assert report.rows == 60 and [c.name for c in report.column_summary] == ["a", "b", "y"]


@pytest.mark.parametrize("delimiter", ["§", "\n", '"'])
def test_a_delimiter_arrow_cannot_split_on_is_refused(tmp_path, delimiter):
    _write(tmp_path, "data.csv", GOOD.replace(",", "§"))
    error = _refusal(validate_data, project_dir=str(tmp_path), data="data.csv", delimiter=delimiter)
    assert str(error) == (
        f"The delimiter {delimiter!r} cannot split a table. The csv reader splits fields on one ASCII character "
        "other than a quote or a line break. Fix: pass one such character (',', ';', '|' or a tab), "
        "or convert the file to use one."
    )


# ------------------------------------------------------------------ layouts


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_repeated_column_names_are_refused_by_drift_and_baseline_and_reported_by_validate(tmp_path, suffix):
    if suffix == "csv":
        _write(tmp_path, "dup.csv", "a,a,y\n" + "".join(f"{i},{2 * i},{i % 2}\n" for i in range(60)))
    else:
        columns = [pa.array(range(60)), pa.array(range(60)), pa.array([i % 2 for i in range(60)])]
        pq.write_table(pa.table(columns, names=["a", "a", "y"]), tmp_path / "dup.parquet")
    name = f"dup.{suffix}"
    errors = _every_tool_refuses(tmp_path, name, validate=False)  # validate reads it to report the repeat
    for error in errors:
        assert isinstance(error, DataError)
        assert f"{name} names the column(s) 'a' more than once. Columns are matched by name" in str(error)
        assert "Fix: rename the repeated columns so every name is unique" in str(error)
    report = validate_data({"project_dir": str(tmp_path), "data": name})
    assert any("The column name 'a' appears 2 times in the header" in f.message for f in report.findings)


def test_a_header_field_over_128_kb_is_refused_and_a_long_value_is_read(tmp_path):
    long = "x" * 200_000
    _write(tmp_path, "header.csv", f"a,{long},y\n1,2,0\n")
    error = _refusal(validate_data, project_dir=str(tmp_path), data="header.csv")
    assert str(error).startswith("header.csv has a header that is not a row of column names: field larger than")
    _write(tmp_path, "value.csv", "a,b,y\n" + "".join(f"{i},{long if i == 5 else i},{i % 2}\n" for i in range(60)))
    lines = "x,\n" * 70_000  # a quoted value of 210 KB over 70,000 lines
    quoted = "a,b,y\n" + "".join(f'{i},"{lines if i == 5 else i}",{i % 2}\n' for i in range(60))
    _write(tmp_path, "quoted.csv", quoted)
    for name in ("value.csv", "quoted.csv"):
        assert validate_data({"project_dir": str(tmp_path), "data": name}).rows == 60
        assert check_drift({"project_dir": str(tmp_path), "reference": name, "current": name}).rows_current == 60


def test_a_parquet_file_with_corrupt_snappy_pages_is_a_data_error(tmp_path):
    rng = np.random.default_rng(0)
    table = pa.table({"a": np.arange(100_000), "b": rng.random(100_000), "y": np.arange(100_000) % 2})
    pq.write_table(table, tmp_path / "ok.parquet", compression="snappy")
    raw = bytearray((tmp_path / "ok.parquet").read_bytes())
    for i in range(200, len(raw) // 2, 97):  # damage the pages, keep the footer
        raw[i] ^= 0x5A
    _write(tmp_path, "bad.parquet", bytes(raw))
    for error in _every_tool_refuses(tmp_path, "bad.parquet"):
        assert isinstance(error, DataError)
        assert "bad.parquet could not be read as parquet: Corrupt snappy compressed data. The file is damaged" in str(
            error
        )
        assert "Fix: re-export the file" in str(error)


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_nested_columns_are_read_as_json_text_by_every_tool(tmp_path, suffix):
    rows = [{"a": [i % 3, 1], "s": {"x": i % 2, "z": "q"}, "n": i, "y": i % 2} for i in range(80)]
    if suffix == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / "nested.parquet")
    else:
        _write(tmp_path, "nested.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    name = f"nested.{suffix}"
    report = validate_data({"project_dir": str(tmp_path), "data": name})
    assert {c.name: c.dtype for c in report.column_summary}["a"] == "string"
    drift = check_drift({"project_dir": str(tmp_path), "reference": name, "current": name})
    assert drift.rows_current == 80
    from omgml.baseline.prepare import read_table

    frame, _ = read_table(tmp_path / name)
    assert frame["a"].tolist()[:2] == ["[0, 1]", "[1, 1]"] and frame["s"][0] == '{"x": 0, "z": "q"}'


def test_nested_columns_train_a_baseline(tmp_path):
    rows = [{"a": [i % 3, 1], "n": i % 7, "y": i % 2} for i in range(80)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "nested.parquet")
    report = train_baseline(
        {
            "project_dir": str(tmp_path),
            "data_path": "nested.parquet",
            "target": "y",
            "models": ["dummy"],
            "cv": 2,
            "register_model": False,
        }
    )
    assert report.data.rows_read == 80


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv is empty (0 bytes). There is no header and no rows to check"),
        ("empty.parquet", b"", "empty.parquet is empty (0 bytes)"),
        ("blank.jsonl", "\n\n\n", "blank.jsonl is not valid JSON Lines: Empty JSON stream"),
        ("header.csv", "a,b,y", "header.csv is empty. There is no header and no rows"),
        ("garbage.csv", bytes(range(256)) * 20, "garbage.csv is binary, not csv text"),
        ("garbage.parquet", bytes(range(256)) * 20, "garbage.parquet is not a readable parquet file"),
        ("list.jsonl", "[1, 2]\n", "list.jsonl is not valid JSON Lines: line 1 is a list, not an object"),
    ],
)
def test_files_that_hold_no_table_are_refused_by_every_tool(tmp_path, name, content, message):
    _write(tmp_path, name, content)
    for error in _every_tool_refuses(tmp_path, name):
        assert isinstance(error, DataError) and message in str(error) and "Fix: " in str(error)


def test_a_header_without_rows_is_refused_where_rows_are_needed(tmp_path):
    _write(tmp_path, "header.csv", "a,b,y\n")
    assert validate_data({"project_dir": str(tmp_path), "data": "header.csv"}).rows == 0
    error = _refusal(check_drift, project_dir=str(tmp_path), reference="header.csv", current="header.csv")
    assert "header.csv has no rows" in str(error)


def test_a_folder_named_like_a_table_is_refused(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    for error in _every_tool_refuses(tmp_path, "dir.csv"):
        assert "dir.csv is a folder with no table file in it" in str(error) and "or name a table file" in str(error)


def test_a_symlink_loop_is_named_by_the_reader(tmp_path):
    from omgml.data.tables import open_table

    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    with pytest.raises(DataError, match="loop.csv is a symbolic link that leads to no file. Its target is missing"):
        open_table(tmp_path / "loop.csv")


def test_status_reports_hostile_tables_and_survives_a_deep_cache(tmp_path):
    from omgml import init_project

    root = tmp_path / "proj"
    init_project({"project_dir": str(root), "name": "x", "task": "binary", "target": "y"})
    raw = root / "data" / "raw"
    (raw / "deep.jsonl").write_text(_nested(20_000) + "\n")
    (raw / "dup.csv").write_text("a,a,y\n1,2,0\n")
    (raw / "bad.parquet").write_bytes(b"PAR1" + bytes(100) + b"PAR1")
    (raw / "dir.csv").mkdir()
    _write(root, ".omgml/fingerprints.json", _deep_json(100_000))
    report = project_status({"project_dir": str(root)})
    notes = {Path(f.path).name: f.note for f in report.data}
    assert notes["bad.parquet"].startswith("unreadable as parquet")
    assert notes["deep.jsonl"].startswith("unreadable as jsonl")


# ------------------------------------------------------------------ wide contracts


def test_a_100k_column_contract_loads_and_still_names_a_repeated_column(tmp_path):
    # Repeated names were found with names.count in a loop: quadratic, minutes at 100,000 columns.
    _write(tmp_path, "data.csv", GOOD)
    validate_data({"project_dir": str(tmp_path), "data": "data.csv", "save_contract": "base"})
    path = tmp_path / ".omgml" / "contracts" / "base.json"
    contract = json.loads(path.read_text())
    template = contract["columns"][0]
    contract["columns"] = [{**template, "name": f"c{i}"} for i in range(100_000)]
    contract["columns"] += [{**template, "name": "c7"}, {**template, "name": "c99999"}]
    path.write_text(json.dumps(contract))
    error = _refusal(validate_data, project_dir=str(tmp_path), data="data.csv", contract="base")
    assert str(error).startswith("The contract .omgml/contracts/base.json lists column(s) c7, c99999 more than once")
