"""Data validation: omgml vs pandera (and Great Expectations when it installs), plus peak memory at 10M rows.

1. 1M rows x 50 columns, as parquet and as csv. omgml validates the file against a saved
   contract (every registered check runs: types, nulls, ranges, categories, uniqueness,
   duplicates, infinities, mixed types, ...). pandera validates the same file with the
   equivalent schema checks: dtype, not-null (or the contract's null allowance), min/max,
   allowed values, a unique id. Both times include reading the file, each in a fresh process,
   medians of --runs runs. omgml parses a large csv on two threads (and checks on a third),
   as it does for a user on any machine with two cores; pandas' read_csv parses on one.
   pandera runs in its own venv under .bench/ (created when missing).
2. 10M rows x 20 eight-byte columns parquet (1.6 GB as a table in memory) against a saved
   contract: peak RSS of the validating process (its own ru_maxrss). Target: <= 1.5 GB.

Usage: python benchmarks/validate.py [--runs N] [--skip-10m] [--skip-ge]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
VENV = BENCH / "validate-venv"
DATA = BENCH / "validate-data"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
GB = 1e9  # decimal, as the target (1.5 GB) and the table size (1.6 GB) are stated

# ---------------------------------------------------------------- data


def make_wide(rows: int, path_parquet: Path, path_csv: Path) -> None:
    """50 columns: an id, 20 floats, 10 ints, 10 low-cardinality strings, 5 booleans, 4 mid-cardinality ints."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    cols: dict[str, object] = {"id": np.arange(rows, dtype=np.int64)}
    for i in range(20):
        values = rng.normal(i, 1 + i, rows)
        if i % 4 == 0:
            values[rng.random(rows) < 0.01] = np.nan
        cols[f"f{i}"] = values
    for i in range(10):
        cols[f"i{i}"] = rng.integers(0, 100 * (i + 1), rows)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    for i in range(10):
        cols[f"s{i}"] = pa.array(np.array(words[: 3 + i % 6])[rng.integers(0, 3 + i % 6, rows)])
    for i in range(5):
        cols[f"b{i}"] = rng.random(rows) < 0.3
    for i in range(4):
        cols[f"m{i}"] = rng.integers(0, 50_000, rows)
    table = pa.table(cols)
    pq.write_table(table, path_parquet)
    pcsv.write_csv(table, path_csv)


def make_tall(rows: int, path: Path) -> None:
    """20 eight-byte columns written in chunks, so making it needs little memory."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    chunk = 1_000_000
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        cols = {"id": np.arange(start, start + n, dtype=np.int64)}
        for i in range(12):
            cols[f"f{i}"] = rng.normal(i, 1, n)
        for i in range(7):
            cols[f"i{i}"] = rng.integers(0, 10 ** (1 + i % 4), n)
        batch = pa.table(cols)
        writer = writer or pq.ParquetWriter(path, batch.schema)
        writer.write_table(batch)
    writer.close()


# ---------------------------------------------------------------- the runs, each in its own process

PREIMPORT = """
# Libraries are imported before the clock starts, as the pandera script imports pandas and pandera first.
import numpy, pandas, pyarrow, pyarrow.compute, pyarrow.csv, pyarrow.parquet
import omgml.validation.checks, omgml.validation.column, omgml.validation.contract, omgml.validation.profile
"""

OMGML_RUN = (
    PREIMPORT
    + """
import json, resource, sys, time
from omgml.validation.service import validate_data
project, data, contract = sys.argv[1:4]
started = time.perf_counter()
report = validate_data({"project_dir": project, "data": data, "contract": contract or None})
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "rows": report.rows, "findings": len(report.findings), "checks": sum(c.status == "ran" for c in report.checks)}))
"""
)

OMGML_SAVE = (
    PREIMPORT
    + """
import json, resource, sys, time
from omgml.validation.service import validate_data
project, data, name = sys.argv[1:4]
started = time.perf_counter()
validate_data({"project_dir": project, "data": data, "save_contract": name, "replace_contract": True})
print(json.dumps({"seconds": time.perf_counter() - started, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""
)

PANDERA_RUN = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import pandera.pandas as pa
contract = json.load(open(sys.argv[2]))
dtypes = {"integer": "int64", "numeric": "float64", "boolean": "bool", "categorical": str, "id_like": "int64"}

def column(c):
    checks = []
    if c["min"] is not None:
        checks.append(pa.Check.ge(c["min"]))
    if c["max"] is not None:
        checks.append(pa.Check.le(c["max"]))
    if c["categories"] is not None:
        checks.append(pa.Check.isin(c["categories"]))
    return pa.Column(dtypes[c["kind"]], checks=checks, nullable=c["nullable"], unique=c["unique"])

schema = pa.DataFrameSchema({c["name"]: column(c) for c in contract["columns"]})
started = time.perf_counter()
path = sys.argv[1]
frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
read = time.perf_counter() - started
try:
    schema.validate(frame, lazy=True)
    failures = 0
except pa.errors.SchemaErrors as exc:
    failures = len(exc.failure_cases)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "read": read, "failures": failures,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

GE_RUN = """
import json, resource, sys, time, warnings, logging
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import pandas as pd
import great_expectations as gx
import great_expectations.expectations as gxe
contract = json.load(open(sys.argv[2]))
types = {"integer": "int64", "numeric": "float64", "boolean": "bool", "categorical": "str", "id_like": "int64"}
started = time.perf_counter()
path = sys.argv[1]
frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
context = gx.get_context(mode="ephemeral")
batch = context.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b").get_batch(
    batch_parameters={"dataframe": frame})
suite = gx.ExpectationSuite(name="s")
for c in contract["columns"]:
    name = c["name"]
    suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column=name, type_=types[c["kind"]]))
    if not c["nullable"]:
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name))
    if c["min"] is not None or c["max"] is not None:
        suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=name, min_value=c["min"], max_value=c["max"]))
    if c["categories"] is not None:
        suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=c["categories"]))
    if c["unique"]:
        suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=name))
result = batch.validate(suite)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "success": bool(result.success)}))
"""


def run_json(python: str, code: str, *args: str) -> dict:
    done = subprocess.run(
        [python, "-c", code, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=3600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_venv(packages: list[str], name: str) -> str | None:
    """The bench venv's python with ``packages`` installed (once), or None when they do not install."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / f".{name}-installed"
    if stamp.exists():
        return str(python)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *packages],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        print(
            f"  {name} did not install: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
        )
        return None
    stamp.touch()
    return str(python)


def median(results: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tall-rows", type=int, default=10_000_000)
    parser.add_argument("--skip-10m", action="store_true")
    parser.add_argument("--skip-ge", action="store_true")
    options = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    project = DATA  # the data folder is the omgml project: contracts and reports go to .bench/validate-data/.omgml

    wide_parquet, wide_csv = DATA / f"wide_{options.rows}.parquet", DATA / f"wide_{options.rows}.csv"
    if not wide_parquet.exists() or not wide_csv.exists():
        print(f"making {options.rows:,} x 50 parquet and csv ...", flush=True)
        make_wide(options.rows, wide_parquet, wide_csv)
    print(
        f"data: {wide_parquet.name} {wide_parquet.stat().st_size / 2**20:.0f} MiB, {wide_csv.name} {wide_csv.stat().st_size / 2**20:.0f} MiB"
    )
    saved = run_json(sys.executable, OMGML_SAVE, project, wide_parquet.name, "wide")
    print(f"omgml contract inferred from the parquet in {saved['seconds']:.2f} s (peak RSS {saved['rss'] / GB:.2f} GB)")
    contract_file = project / ".omgml" / "contracts" / "wide.json"

    pandera = ensure_venv(["pandera>=0.20", "pandas>=2.2", "pyarrow>=15"], "pandera")
    ge = None if options.skip_ge else ensure_venv(["great_expectations>=1.0"], "great_expectations")
    print()
    print(
        f"{'':9}{'omgml':>10}{'pandera':>10}{'ratio':>8}   {'GX':>8}{'ratio':>8}   (seconds, median of {options.runs}; read + validate)"
    )
    for label, path in (("parquet", wide_parquet), ("csv", wide_csv)):
        mine, theirs, gx_times = [], [], []
        for _ in range(options.runs):  # interleaved, so drift in machine load hits both
            mine.append(run_json(sys.executable, OMGML_RUN, project, path.name, "wide"))
            if pandera:
                theirs.append(run_json(pandera, PANDERA_RUN, path, contract_file))
            if ge:
                try:
                    gx_times.append(run_json(ge, GE_RUN, path, contract_file))
                except RuntimeError as exc:
                    print(f"  Great Expectations failed: {exc}")
                    ge = None
        ours = median(mine)
        line = f"{label:9}{ours:>10.2f}"
        if theirs:
            line += f"{median(theirs):>10.2f}{median(theirs) / ours:>7.1f}x"
        else:
            line += f"{'-':>10}{'-':>8}"
        if gx_times:
            line += f"   {median(gx_times):>8.2f}{median(gx_times) / ours:>7.1f}x"
        print(line)
        details = f"  omgml: {mine[0]['checks']} checks ran, {mine[0]['findings']} findings, peak RSS {max(r['rss'] for r in mine) / GB:.2f} GB"
        if theirs:
            details += f"; pandera: {theirs[0]['failures']} failure cases, read {median(theirs, 'read'):.2f} s + validate {median(theirs) - median(theirs, 'read'):.2f} s, peak RSS {max(r['rss'] for r in theirs) / GB:.2f} GB"
        print(details)

    if options.skip_10m:
        return
    tall = DATA / f"tall_{options.tall_rows}.parquet"
    if not tall.exists():
        print(f"\nmaking {options.tall_rows:,} x 20 parquet ...", flush=True)
        make_tall(options.tall_rows, tall)
    table_bytes = options.tall_rows * 20 * 8
    print(
        f"\n{tall.name}: {tall.stat().st_size / 2**20:.0f} MiB on disk, {table_bytes / GB:.2f} GB as a table in memory"
    )
    started = time.perf_counter()
    saved = run_json(sys.executable, OMGML_SAVE, project, tall.name, "tall")
    print(f"contract inferred in {saved['seconds']:.1f} s, peak RSS {saved['rss'] / GB:.2f} GB")
    run = run_json(sys.executable, OMGML_RUN, project, tall.name, "tall")
    verdict = "within" if run["rss"] <= 1.5 * GB else "OVER"
    print(
        f"validated against the contract in {run['seconds']:.1f} s ({run['checks']} checks, {run['findings']} findings): "
        f"peak RSS {run['rss'] / GB:.2f} GB ({verdict} the 1.5 GB target), {time.perf_counter() - started:.0f} s in all"
    )


if __name__ == "__main__":
    main()
