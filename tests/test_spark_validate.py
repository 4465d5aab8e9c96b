"""The Spark engine's validation against the local engine's, on the same real table with planted defects.

The table is palmerpenguins (342 measured rows) four times over, each copy with its own row id and code (1,368
ids: past the 1,000 distinct values the pass counts by value, where Spark counts distinct ids itself), then
defects planted at known rows: exact duplicate rows, repeated ids, rows whose features match but whose species
differs, rows shared with a test split, a column 40% missing, a body mass past a saved contract's range, an
island the contract never saw, text dates that do not read as dates. It is written as a folder of parquet
parts, which Spark reads as several partitions; the local engine reads the same rows from one file. Both must
give the same report: counts exact, the same findings (check, column, severity, count, fraction, and messages
and examples but for row numbers), the same column summary, verdict and saved contract.
"""

from __future__ import annotations

import itertools
import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omgml.errors import OmgmlError
from omgml.validation.service import validate_data
from tests.conftest import run_cli
from tests.sparkenv import spark  # noqa: F401

PARTS = 4
SEED = 20261204


def _penguins():
    import palmerpenguins

    frame = palmerpenguins.load_penguins()
    frame = frame[frame["bill_length_mm"].notna()]  # two penguins measured not at all: their copies would match
    copies = []
    for k in range(4):
        copy = frame.copy()
        # Each copy's measurements moved by a whole millimetre (gram) per copy: four distinct penguins per real one.
        for column in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
            copy[column] = copy[column] + k
        copies.append(copy)
    import pandas as pd

    data = pd.concat(copies, ignore_index=True)
    data.insert(0, "id", np.arange(len(data), dtype=np.int64))
    data.insert(1, "code", [f"P{i:05d}" for i in range(len(data))])
    data["seen"] = [f"{y}-{i % 12 + 1:02d}-{i % 28 + 1:02d}" for i, y in zip(range(len(data)), data["year"])]
    return data


def test_merged_parts_are_one_pass(tmp_path):
    """ColumnProfile.merge over consecutive parts gives what one pass over the whole gives (no Spark needed)."""
    from omgml.data.tables import open_table
    from omgml.validation.column import ColumnRules
    from omgml.validation.profile import Layout, PassPlan, merge_parts, profile_part, profile_table

    rng = np.random.default_rng(SEED)
    n = 3000
    floats = rng.normal(50, 10, n).round(2)
    floats[rng.choice(n, 30, replace=False)] = np.nan
    floats[[7, 2500]] = [np.inf, -np.inf]
    dates = [f"2024-{m:02d}-{d:02d}" for m, d in zip(rng.integers(1, 13, n), rng.integers(1, 29, n))]
    for i in (100, 1800, 2900):
        dates[i] = f"not a date {i}"
    table = pa.table(
        {
            "id": np.arange(n) * 7,  # 3,000 distinct: past the value counts
            "many": rng.integers(0, 1500, n),  # 1,500 possible: the counts overflow when the parts merge
            "city": rng.choice(["Oslo", "oslo ", "Rome", "Lima"], n),
            "x": floats,
            "day": dates,
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    rules = {"x": ColumnRules(min=30.0, max=70.0), "city": ColumnRules(categories=("Oslo", "Rome"))}
    plan = PassPlan(rules=rules, target="city", sample_rows=500, tails=True)
    whole = profile_table(open_table(tmp_path / "t.parquet"), plan)
    cuts = [0, 640, 1100, 2999, n]
    parts = [profile_part(table.schema, plan, table.slice(a, b - a).to_batches()) for a, b in itertools.pairwise(cuts)]
    merged = merge_parts(Layout(table.schema, plan), parts)
    assert merged.rows == whole.rows == n
    skip = {"sketch", "lowest", "highest", "distinct", "distinct_exact", "all_distinct", "kind", "kind_reason"}
    skip |= {"sniff_all", "probed", "_seen_in_counts"}
    for mine, theirs in zip(merged.columns, whole.columns):
        for name in vars(theirs):
            # A float's repeats are noticed while its values are counted, which one pass of 3,000 distinct-looking
            # values skips; nothing reads dup_seen of a float (continuous values are no evidence of an id).
            if name not in skip and not (name == "dup_seen" and theirs.physical == "float"):
                assert getattr(mine, name) == getattr(theirs, name), (theirs.name, name)
        assert np.array_equal(mine.sketch.values, theirs.sketch.values), theirs.name
        if theirs.lowest is not None:
            assert np.array_equal(mine.lowest, theirs.lowest) and np.array_equal(mine.highest, theirs.highest)
    assert merged.columns[3].below and merged.columns[3].inf == 2 and merged.columns[4].date_bad == 3
    assert merged.columns[1].counts is None and merged.columns[2].unseen_total
    sample = merged.sample.result()  # the same rows (id names them), in the same order
    assert sample.schema == whole.sample.schema and sample.num_rows == whole.sample.num_rows == 500
    assert sample.column("id").to_pylist() == whole.sample.column("id").to_pylist()


def _tables(root):
    """(train, test, defects) pandas frames: a clean train half for the contract, a test split, the defective data."""
    import pandas as pd

    data = _penguins()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(data))
    test = data.iloc[order[:200]].reset_index(drop=True)
    train = data.iloc[order[200:]].reset_index(drop=True)
    bad = train.copy()
    n = len(bad)
    bad.loc[rng.choice(n, int(0.4 * n), replace=False), "flipper_length_mm"] = np.nan
    bad.loc[[3, 50, 700], "body_mass_g"] = 99_999.0
    bad.loc[[10, 11], "island"] = "Atlantis"
    bad.loc[[12, 400, 900], "seen"] = ["unknown", "2008-02-31", "n/a"]
    repeats = bad.iloc[[5, 6, 7, 8, 9, 20, 20]].copy()  # 7 exact duplicates (row 20 twice)
    reused = bad.iloc[[30, 31, 32]].copy()  # the same ids, other measurements
    reused["body_mass_g"] = reused["body_mass_g"] + 0.5
    conflicts = bad.iloc[[40, 41]].copy()  # the same features, another species, new ids
    conflicts["species"] = np.where(conflicts["species"] == "Adelie", "Gentoo", "Adelie")
    conflicts["id"] = [900_001, 900_002]
    conflicts["code"] = ["X1", "X2"]
    shared = test.iloc[:6].copy()  # rows of the test split, under new ids: overlap compares them without ids
    shared["id"] = np.arange(800_000, 800_006)
    shared["code"] = [f"S{i}" for i in range(6)]
    defects = pd.concat([bad, repeats, reused, conflicts, shared], ignore_index=True)
    return train, test, defects


def _write(frame, path, parts: int = 1) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.cast(
        pa.schema([pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type) for f in table.schema])
    )
    if parts == 1:
        pq.write_table(table, path)
        return
    path.mkdir()
    bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
    for k in range(parts):
        pq.write_table(table.slice(bounds[k], bounds[k + 1] - bounds[k]), path / f"part-{k:05d}.parquet")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark-validate")
    (root / "data").mkdir()
    train, test, defects = _tables(root)
    _write(train, root / "data/train.parquet")
    _write(train, root / "data/train_parts", PARTS)
    _write(test, root / "data/test.parquet")
    _write(defects, root / "data/defects.parquet")
    _write(defects, root / "data/defects_parts", PARTS)
    return root


def _same_reports(local, remote) -> None:
    assert (remote.rows, remote.columns, remote.passed, remote.counts) == (
        local.rows,
        local.columns,
        local.passed,
        local.counts,
    )
    assert [c.model_dump() for c in remote.column_summary] == [c.model_dump() for c in local.column_summary]
    assert [(c.check, c.status, c.findings) for c in remote.checks] == [
        (c.check, c.status, c.findings) for c in local.checks
    ]

    def shown(report):
        return [(f.check, f.column, f.severity, f.count, f.fraction) for f in report.findings]

    assert shown(remote) == shown(local)
    for mine, theirs in zip(remote.findings, local.findings):
        if theirs.example_kind != "rows":  # row numbers are the local engine's; Spark shows the rows' values
            assert (mine.example_kind, mine.message) == (theirs.example_kind, theirs.message)


def test_spark_and_local_engines_give_the_same_report(spark, project):  # noqa: F811
    base = {"project_dir": str(project), "target": "species", "keys": ["id"]}
    local = validate_data({**base, "data": "data/train.parquet", "save_contract": "local"})
    remote = validate_data({**base, "data": "data/train_parts", "save_contract": "remote", "engine": "spark"})
    _same_reports(local, remote)
    contracts = [json.loads((project / f".omgml/contracts/{n}.json").read_text()) for n in ("local", "remote")]
    for contract in contracts:
        contract.pop("name"), contract.pop("created_at"), contract.pop("source")
    assert contracts[0] == contracts[1]

    checked = {**base, "contract": "local", "against": "data/test.parquet"}
    local = validate_data({**checked, "data": "data/defects.parquet"})
    remote = validate_data({**checked, "data": "data/defects_parts", "engine": "spark"})
    _same_reports(local, remote)
    found = {(f.check, f.column): f for f in remote.findings}
    # The planted defects, counted exactly (the figures follow from _tables).
    assert found[("duplicate_rows", None)].count == 7
    assert found[("duplicate_keys", "id")].count == 7 + 3
    assert found[("out_of_range", "body_mass_g")].count == 3
    assert found[("unseen_category", "island")].count == 2
    assert found[("label_conflict", "species")].count >= 4  # the two planted rows and their originals
    assert found[("train_test_overlap", None)].count == 6
    assert found[("unparseable_dates", "seen")].count == 3  # decided from the first partition's values on Spark
    assert found[("null_rate", "flipper_length_mm")].count >= int(0.4 * (4 * 342 - 200))
    assert not remote.passed and remote.format == "parquet" and remote.source == "data/defects_parts"
    duplicate = found[("duplicate_rows", None)]
    assert duplicate.example_kind == "values" and len(duplicate.examples) == 5 and "species=" in duplicate.examples[0]


def test_cli_engine_spark_and_a_spark_dataframe(spark, project):  # noqa: F811
    frame = spark.read.parquet(str(project / "data/defects_parts"))
    from_frame = validate_data({"project_dir": str(project), "data": frame, "target": "species", "keys": ["id"]})
    from_path = validate_data(
        {"project_dir": str(project), "data": "data/defects.parquet", "target": "species", "keys": ["id"]}
    )
    _same_reports(from_path, from_frame)
    assert from_frame.source == "<Spark DataFrame>" and from_frame.format == "spark"

    result = run_cli(
        "validate",
        "data/defects_parts",
        "--engine",
        "spark",
        "--target",
        "species",
        "--key",
        "id",
        "--json",
        cwd=project,
    )
    assert result.returncode == 1, result.stderr  # errors found: exit 1
    assert not result.stderr.strip(), result.stderr  # Spark's own output goes to its log file
    report = json.loads(result.stdout)
    assert report["rows"] == from_path.rows and report["counts"] == from_path.counts.model_dump()


def test_spark_engine_errors_are_one_line(spark, project):  # noqa: F811
    with pytest.raises(OmgmlError, match="The Spark catalog has no table 'db.nope'"):
        validate_data({"project_dir": str(project), "data": "spark:db.nope"})
    with pytest.raises(OmgmlError, match="matches no file"):
        validate_data({"project_dir": str(project), "data": "data/nothing/*.parquet", "engine": "spark"})
    with pytest.raises(OmgmlError, match="cannot read a Spark DataFrame"):
        validate_data({"project_dir": str(project), "data": "spark:db.t", "engine": "local"})
    with pytest.raises(OmgmlError, match="The spark engine cannot read a pandas DataFrame"):
        validate_data({"project_dir": str(project), "data": _penguins(), "engine": "spark"})


def test_mixed_schemas_are_one_line(spark, tmp_path):  # noqa: F811
    (tmp_path / "mixed").mkdir()
    pq.write_table(pa.table({"a": [1, 2, 3]}), tmp_path / "mixed/part-0.parquet")
    pq.write_table(pa.table({"a": ["x", "y"]}), tmp_path / "mixed/part-1.parquet")
    with pytest.raises(OmgmlError) as caught:
        validate_data({"project_dir": str(tmp_path), "data": "mixed", "engine": "spark"})
    message = str(caught.value)
    assert "column 'a' is int64 in part-0.parquet but string in part-1.parquet" in message and "\n" not in message


def test_the_configured_engine_and_an_unreachable_master(new_project):
    """[data] engine = "spark" in omgml.toml is the default engine; a Spark Connect server nobody runs fails fast."""
    import time

    config = new_project / "omgml.toml"
    text = config.read_text().replace("[data]\n", '[data]\nengine = "spark"\n', 1)
    config.write_text(text + '\n[spark]\nmaster = "sc://127.0.0.1:9"\n')
    pq.write_table(pa.table({"a": [1, 2, 3]}), new_project / "t.parquet")
    started = time.monotonic()
    with pytest.raises(OmgmlError, match="No Spark server answers at sc://127.0.0.1:9"):
        validate_data({"project_dir": str(new_project), "data": "t.parquet"})
    assert time.monotonic() - started < 10
    assert validate_data({"project_dir": str(new_project), "data": "t.parquet", "engine": "local"}).rows == 3


def test_the_server_starts_without_pyspark():
    import subprocess

    code = "import omgml.mcp.server, omgml.cli, omgml.validation.service, sys; print('pyspark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
