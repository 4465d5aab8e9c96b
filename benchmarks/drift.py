"""Drift check: omgml against Evidently 0.7's DataDriftPreset on the same data, in the same run.

Data (seeded, written once under .bench/drift/): 1,000,000 rows x 30 columns (20 numeric of
several shapes, 10 categorical with 5 to 50 values) for the reference and the current side,
with four columns shifted materially and one by a negligible amount; and a 10,000,000-row x
20-column current table for the memory check.

Every run is its own subprocess: the time is measured inside it, from before the tool's modules
are imported to the verdict in hand (so reading the files counts for both tools); the peak RSS
is the child's own (``os.wait4``). Evidently needs pandas < 3, so it runs from its own venv,
.bench/evidently-0.7/, which this script creates when it is missing.

Targets (from the issue): raw vs raw >= 20x faster than Evidently and <= half its peak RSS;
against a saved profile >= 100x faster; 10M x 20 parquet against a saved profile <= 1 GB RSS.

    .venv/bin/python benchmarks/drift.py [--runs 3] [--skip-10m]
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
DATA = BENCH / "drift"
EVIDENTLY_VENV = BENCH / "evidently-0.7"
EVIDENTLY_SPEC = ["evidently>=0.7,<0.8", "pandas<3", "pyarrow"]
ROWS = 1_000_000
BIG_ROWS = 10_000_000
DATA_VERSION = "1"  # bump when the generator changes

GENERATE = r"""
import sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

def columns(rng, n, shifted, numeric=20, categorical=10):
    out = {}
    for i in range(numeric):
        shape = i % 4
        if shape == 0:
            x = rng.normal(10 * i, 1 + i, n)
        elif shape == 1:
            x = rng.lognormal(0, 1, n)
        elif shape == 2:
            x = rng.integers(0, 100, n).astype("float64")
        else:
            x = rng.exponential(3, n)
        if shifted and i == 0:
            x = x + 0.5 * (1 + i)       # half a std: material
        if shifted and i == 5:
            x = x * 1.5                 # wider and moved: material
        if shifted and i == 2:
            x = x + 0.5                 # 0.02 std: negligible, yet "significant" at this size
        out[f"num_{i:02d}"] = x
    for j in range(categorical):
        k = 5 + 5 * j
        p = np.arange(1, k + 1, dtype="float64")
        p /= p.sum()
        if shifted and j in (0, 1):
            p = p[::-1]                 # the frequencies turned around: material
        labels = np.array([f"c{j}_{v}" for v in range(k)])
        out[f"cat_{j:02d}"] = labels[rng.choice(k, n, p=p)]
    return out

def write(path, n, seed, shifted, numeric, categorical, chunk=1_000_000):
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, n, chunk):
        table = pa.table(columns(rng, min(chunk, n - start), shifted, numeric, categorical))
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=chunk)
    writer.close()

kind, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "reference":
    write(path, n, 1, False, 20, 10)
elif kind == "current":
    write(path, n, 2, True, 20, 10)
elif kind == "big-reference":
    write(path, n, 3, False, 15, 5)
else:
    write(path, n, 4, True, 15, 5)
"""

EVIDENTLY_RUN = r"""
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
result = snapshot.dict()
seconds = time.perf_counter() - t0
drifted = []
for metric in result["metrics"]:
    name = metric["metric_name"]
    if name.startswith("ValueDrift("):
        column = name.split("column=")[1].split(",")[0]
        threshold = metric["config"]["threshold"]
        value = float(metric["value"])
        is_p = "p_value" in metric["config"]["method"].lower()  # else a distance: drift at or above
        if (value < threshold) if is_p else (value >= threshold):
            drifted.append(column)
    if name.startswith("DriftedColumnsCount"):
        count = metric["value"]["count"]
print(json.dumps({"seconds": seconds, "drifted": sorted(drifted), "count": count}))
"""

OMGML_RUN = r"""
import json, sys, time
t0 = time.perf_counter()
from omgml.drift.service import check_drift
request = {"project_dir": sys.argv[1], "reference": sys.argv[2]}
if sys.argv[3] != "-":
    request["current"] = sys.argv[3]
if len(sys.argv) > 4:
    request["save_reference"] = sys.argv[4]
report = check_drift(request)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "drifted": sorted(c.column for c in report.columns if c.drifted),
                  "count": report.features_drifted, "verdict": report.verdict}))
"""


def run_child(argv: list[str], env: dict | None = None) -> dict:
    """Run one measured child; its JSON line plus its own peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, cwd=REPO
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {' '.join(argv[:3])}...\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    result["wall"] = time.perf_counter() - started
    return result


def ensure_data() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    stamp = DATA / "VERSION"
    if stamp.is_file() and stamp.read_text() == DATA_VERSION:
        return
    print("generating data under .bench/drift/ (once)...", flush=True)
    for kind, name, n in (
        ("reference", "reference.parquet", ROWS),
        ("current", "current.parquet", ROWS),
        ("big-reference", "big_reference.parquet", ROWS),
        ("big-current", "big_current.parquet", BIG_ROWS),
    ):
        subprocess.run([sys.executable, "-c", GENERATE, kind, str(DATA / name), str(n)], check=True)
    stamp.write_text(DATA_VERSION)


def ensure_evidently() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print("creating .bench/evidently-0.7 (Evidently 0.7 needs pandas < 3)...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *EVIDENTLY_SPEC], check=True)
    version = subprocess.run(
        [str(python), "-c", "import evidently; print(evidently.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"Evidently {version} from {EVIDENTLY_VENV.relative_to(REPO)}")
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="omgml runs per case (median reported)")
    parser.add_argument("--skip-10m", action="store_true", help="skip the 10M-row memory check")
    args = parser.parse_args()
    ensure_data()
    evidently = ensure_evidently()
    project = DATA  # paths below are relative to it; the profile goes to .bench/drift/.omgml/
    omgml = [sys.executable, "-c", OMGML_RUN, str(project)]

    print("\nEvidently DataDriftPreset, raw vs raw (1M x 30)...", flush=True)
    ev = run_child(
        [str(evidently), "-c", EVIDENTLY_RUN, str(DATA / "reference.parquet"), str(DATA / "current.parquet")]
    )

    def best(argv: list[str]) -> dict:
        runs = [run_child(argv) for _ in range(args.runs)]
        med = statistics.median(r["seconds"] for r in runs)
        out = dict(runs[0])
        out["seconds"] = med
        out["rss_mb"] = max(r["rss_mb"] for r in runs)
        out["all"] = [round(r["seconds"], 2) for r in runs]
        return out

    print("omgml, raw vs raw...", flush=True)
    raw = best([*omgml, "reference.parquet", "current.parquet"])
    print("omgml, saving the reference profile...", flush=True)
    save = run_child([*omgml, "reference.parquet", "-", "bench_reference"])
    print("omgml, saved profile vs raw current...", flush=True)
    prof = best([*omgml, "bench_reference", "current.parquet"])
    big = None
    if not args.skip_10m:
        print("omgml, 10M x 20 current vs a saved profile...", flush=True)
        run_child([*omgml, "big_reference.parquet", "-", "bench_big"])
        big = run_child([*omgml, "bench_big", "big_current.parquet"])

    def row(name, r, base=None):
        ratio = f"{base['seconds'] / r['seconds']:7.1f}x" if base else "      -"
        mem = f"{r['rss_mb'] / base['rss_mb']:6.2f}" if base else "     -"
        return f"{name:<44} {r['seconds']:9.2f} s {r['rss_mb']:9.0f} MB  speed {ratio}  rss ratio {mem}"

    print("\n" + "=" * 100)
    print(row("Evidently 0.7 DataDriftPreset, raw vs raw", ev))
    print(row("omgml check_drift, raw vs raw", raw, ev) + f"   runs {raw['all']}")
    print(row("omgml --save-reference (profile only)", save))
    print(row("omgml check_drift, saved profile vs raw", prof, ev) + f"   runs {prof['all']}")
    if big:
        print(row("omgml check_drift, profile vs 10M x 20 parquet", big))
    print("=" * 100)
    print(f"drifted columns: Evidently {ev['count']} {ev['drifted']}")
    print(f"                 omgml raw {raw['count']} {raw['drifted']}; profile {prof['count']} {prof['drifted']}")

    checks = [
        ("raw vs raw >= 20x faster than Evidently", ev["seconds"] / raw["seconds"] >= 20),
        ("raw vs raw <= half Evidently's peak RSS", raw["rss_mb"] <= ev["rss_mb"] / 2),
        ("saved profile >= 100x faster than Evidently", ev["seconds"] / prof["seconds"] >= 100),
        ("profile and raw give the same drifted columns", raw["drifted"] == prof["drifted"]),
    ]
    if big:
        checks.append(("10M x 20 vs saved profile <= 1 GB peak RSS", big["rss_mb"] <= 1024))
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
