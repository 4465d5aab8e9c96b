"""Bounded memory at scale: a drift reference profile of 50M rows x 30 columns, local engine against Spark local[2].

Data (seeded, written once under .bench/scale/data/ and reused): a hive-partitioned parquet dataset
``rows_50m/day=D/part-0.parquet``, 50 partitions of 1,000,000 rows in row groups of 262,144, 30
columns: 20 float (normal, lognormal, exponential, uniform; float32 values stored as doubles, so they
compress), 5 integer (``day``, the partition column, and four of 10 to 10,000 values) and 5
categorical strings of 100 to 500 values (Zipf-like frequencies); zstd, the floats byte-stream-split
(4.2 GB in all). ``rows_5m`` is its first five
partitions, hard-linked: the same files, 10x fewer rows. Each file is generated and written on its
own, so generating never holds more than one partition.

A case is saving a drift reference profile of one dataset with one engine (``check_drift`` with
``save_reference``; every float column has more than EXACT_CAP distinct values, so the profile reads
the rows twice), in a fresh child process. The child's process tree is polled from /proc every 0.1 s:
per process its VmHWM (the kernel's own peak RSS, so a spike between polls still counts) and, per kind
of process, the largest sum of VmRSS seen at one poll. The kinds:

- driver: the Python process that calls ``check_drift``; with Spark it merges the partitions' states.
  This is the memory that must not grow with rows. Beside it, the most its Arrow buffers held at once
  (the pool's own count: live data, without what the allocator keeps after freeing, which varies from
  run to run by a hundred MB or two);
- jvm: Spark's JVM, which in local mode hosts Spark's driver and its executors;
- workers: Spark's Python workers (pyspark.daemon and the workers it forks), which run the profile code
  on each partition's Arrow batches.

Time is the child's wall time, from start to exit (Spark's start-up included), and the same timed from
before omgml is imported to the report in hand. The machine has two cores shared with other work, so
the times are rough; the memory figures are not sensitive to that.

    .venv/bin/python benchmarks/scale.py [--cases local-5m,local-50m,spark-5m,spark-50m] [--master local[2]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / ".bench" / "scale"
DATA = PROJECT / "data"
DATA_VERSION = "1"  # bump when the generator changes
PARTITIONS = 50
PARTITION_ROWS = 1_000_000
ROW_GROUP_ROWS = 262_144
SMALL_PARTITIONS = 5
DATASETS = {"5m": ("rows_5m", SMALL_PARTITIONS), "50m": ("rows_50m", PARTITIONS)}
POLL_SECONDS = 0.1
MB = 1024 * 1024
KINDS = ("driver", "jvm", "workers", "other")
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# The omgml measured is this checkout's, whichever venv's python runs the benchmark.
ENV = {**THREADS, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "server"), os.environ.get("PYTHONPATH")]))}

CONFIG = """\
[project]
name = "scale-bench"
package = "scale_bench"
task = "regression"
target = "f00"
metric = "rmse"

[spark]
master = {master}

[spark.conf]
"spark.sql.shuffle.partitions" = "4"
"""

PROFILE_RUN = r"""
import hashlib, json, sys, time
t0 = time.perf_counter()
from omgml.drift.service import check_drift
request = {"project_dir": sys.argv[1], "reference": sys.argv[2], "save_reference": sys.argv[3],
           "replace_reference": True}
if sys.argv[4] != "local":  # the field is new; the local engine is also what a request without it runs
    request["engine"] = sys.argv[4]
check_drift(request)
seconds = time.perf_counter() - t0
import pyarrow as pa
arrow = pa.default_memory_pool().max_memory()  # the most the driver's Arrow buffers held at once: live data
with open(f"{sys.argv[1]}/.omgml/references/{sys.argv[3]}.json") as handle:
    profile = json.load(handle)
# The exact parts of each column (counts, distinct values, bucket counts, categories), digested to compare engines.
exact = ("count", "nulls", "distinct", "values", "counts", "categories", "other_count", "other_distinct")
counts = {}
for name, column in profile["columns"].items():
    kept = {key: column.get(key) for key in exact}
    kept["buckets"] = (column.get("buckets") or {}).get("counts")
    counts[name] = hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]
print(json.dumps({"seconds": seconds, "rows": profile["rows"], "counts": counts, "arrow_mb": arrow / 2**20}))
"""


def partition(day: int) -> object:
    """One partition's 1M rows as an Arrow table (without ``day``: hive partitioning puts it in the path)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng([17, day])
    n = PARTITION_ROWS
    columns = {}
    for i in range(20):
        shape = i % 4
        if shape == 0:
            x = rng.normal(10 * i, 1 + i, n)
        elif shape == 1:
            x = rng.lognormal(0, 0.5 + i / 20, n)
        elif shape == 2:
            x = rng.exponential(1 + i, n)
        else:
            x = rng.uniform(-i, i + 1, n)
        columns[f"f{i:02d}"] = pa.array(x.astype("float32").astype("float64"))
    for i, values in enumerate((10, 100, 1_000, 10_000), start=1):
        columns[f"i{i:02d}"] = pa.array(rng.integers(0, values, n))
    for j, k in enumerate((100, 200, 300, 400, 500)):
        p = 1 / np.arange(1, k + 1)
        labels = pa.array([f"c{j}_{v:03d}" for v in range(k)])
        columns[f"c{j:02d}"] = labels.take(pa.array(rng.choice(k, n, p=p / p.sum())))
    return pa.table(columns)


def ensure_data() -> None:
    """Write the 50M-row dataset file by file, then link its first partitions as the 5M one."""
    import pyarrow.parquet as pq

    stamp = DATA / "VERSION"
    if stamp.is_file() and stamp.read_text() == DATA_VERSION:
        return
    big, small = (DATA / DATASETS[k][0] for k in ("50m", "5m"))
    print(f"generating {PARTITIONS * PARTITION_ROWS:,} rows x 30 columns under {DATA} (once)...", flush=True)
    started = time.perf_counter()
    for day in range(PARTITIONS):
        path = big / f"day={day}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        table = partition(day)
        floats = [c for c in table.column_names if c.startswith("f")]
        pq.write_table(
            table,
            tmp,
            row_group_size=ROW_GROUP_ROWS,
            compression="zstd",
            # Byte-split float32-valued doubles shrink to half their size (Spark and pyarrow read it).
            use_byte_stream_split=floats,
            use_dictionary=[c for c in table.column_names if c not in floats],
        )
        tmp.rename(path)  # a stopped run leaves no half-written partition behind
        print(f"  day={day}: {path.stat().st_size / MB:.0f} MB ({time.perf_counter() - started:.0f} s)", flush=True)
    for day in range(SMALL_PARTITIONS):
        link = small / f"day={day}" / "part-0.parquet"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        os.link(big / f"day={day}" / "part-0.parquet", link)
    stamp.write_text(DATA_VERSION)


def ensure_project(master: str) -> None:
    """The benchmark's project: an ``omgml.toml`` naming the Spark master (rewritten every run)."""
    PROJECT.mkdir(parents=True, exist_ok=True)
    (PROJECT / "omgml.toml").write_text(CONFIG.format(master=json.dumps(master)))


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet")) / MB


# ---------------------------------------------------------------------------------------------
# the process tree, from /proc


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in bytes (empty when it is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value, _ = line.split()
                    out[key[:-1]] = int(value) * 1024
    except OSError:
        pass
    return out


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                # The command name is in parentheses and may hold spaces: the fields start after the last ')'.
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "driver"
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if exe == "java":
        return "jvm"
    # Not "pyspark" alone: the launcher scripts and the JVM's class path name pyspark's folder too.
    if exe.startswith("python") or "pyspark.daemon" in cmdline or "pyspark.worker" in cmdline:
        return "workers"
    return "other"


def measure(argv: list[str], env: dict[str, str]) -> dict:
    """Run ``argv`` and poll its process tree until it exits; its JSON line plus time and memory per kind."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}, cwd=REPO
    )
    hwm: dict[int, int] = {}
    kinds: dict[int, str] = {}
    concurrent = dict.fromkeys(KINDS, 0)
    total = 0
    while proc.poll() is None:
        tree = _children()
        pids, stack = [], [proc.pid]
        while stack:
            pid = stack.pop()
            pids.append(pid)
            stack.extend(tree.get(pid, ()))
        now = dict.fromkeys(KINDS, 0)
        for pid in pids:
            status = _status(pid)
            if not status:
                continue
            # Asked at every poll: spark-submit is a shell script that becomes the JVM by exec, under the same pid.
            kind = kinds[pid] = _kind(pid, proc.pid)
            hwm[pid] = max(hwm.get(pid, 0), status.get("VmHWM", 0))
            now[kind] += status.get("VmRSS", 0)
        concurrent = {k: max(concurrent[k], now[k]) for k in KINDS}
        total = max(total, sum(now.values()))
        time.sleep(POLL_SECONDS)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"case failed ({proc.returncode}): {' '.join(argv[3:])}\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall"] = wall
    result["total_mb"] = total / MB
    for kind in KINDS:
        members = [pid for pid, k in kinds.items() if k == kind]
        result[f"{kind}_n"] = len(members)
        result[f"{kind}_mb"] = concurrent[kind] / MB  # the most RSS this kind held at once
        result[f"{kind}_hwm_mb"] = max((hwm[p] for p in members), default=0) / MB  # its largest process' peak
    return result


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="local-5m,local-50m,spark-5m,spark-50m", help="engine-rows, comma separated")
    parser.add_argument("--master", default="local[2]", help="the Spark master for the spark cases")
    args = parser.parse_args()
    cases = [tuple(c.strip().split("-")) for c in args.cases.split(",") if c.strip()]
    for engine, rows in cases:
        if engine not in ("local", "spark") or rows not in DATASETS:
            raise SystemExit(f"unknown case '{engine}-{rows}': cases are local|spark - {'|'.join(DATASETS)}")
    ensure_data()
    ensure_project(args.master)
    for rows, (name, _) in DATASETS.items():
        print(f"{name}: {folder_mb(DATA / name):,.0f} MB of parquet")

    results: dict[tuple[str, str], dict] = {}
    for engine, rows in cases:
        name, _ = DATASETS[rows]
        label = f"{engine} {'' if engine == 'local' else args.master + ' '}{rows}"
        print(f"{label}: saving the profile of data/{name}...", end=" ", flush=True)
        argv = [sys.executable, "-c", PROFILE_RUN, str(PROJECT), f"data/{name}", f"scale_{engine}_{rows}", engine]
        result = measure(argv, ENV)
        results[engine, rows] = result
        print(f"{result['wall']:.1f} s, driver peak {result['driver_hwm_mb']:.0f} MB", flush=True)
        expected = DATASETS[rows][1] * PARTITION_ROWS
        if result["rows"] != expected or len(result["counts"]) != 30:
            raise SystemExit(f"{label}: the profile has {result['rows']:,} rows and {len(result['counts'])} columns")
    return report(results, args.master)


def report(results: dict[tuple[str, str], dict], master: str) -> int:
    print("\n" + "=" * 118)
    print(f"drift reference profile, 30 columns; peak RSS in MB (driver: the Python process; Spark {master})")
    print(
        f"{'case':<12} {'wall s':>8} {'in-call s':>9} {'driver':>8} {'(arrow)':>8} {'jvm':>8} {'workers':>8} "
        f"{'(n, largest)':>14} {'tree':>8}"
    )
    for (engine, rows), r in results.items():
        workers = f"({r['workers_n']}, {r['workers_hwm_mb']:.0f})" if r["workers_n"] else "-"
        jvm = f"{r['jvm_hwm_mb']:8.0f}" if r["jvm_n"] else f"{'-':>8}"
        print(
            f"{engine + ' ' + rows:<12} {r['wall']:8.1f} {r['seconds']:9.1f} {r['driver_hwm_mb']:8.0f} "
            f"{r['arrow_mb']:8.0f} {jvm} "
            f"{r['workers_mb']:8.0f} {workers:>14} {r['total_mb']:8.0f}"
        )
    print("-" * 118)
    checks = []
    for engine in ("local", "spark"):
        if (engine, "5m") in results and (engine, "50m") in results:
            small, big = results[engine, "5m"], results[engine, "50m"]
            grow = big["driver_hwm_mb"] / small["driver_hwm_mb"]
            print(
                f"{engine} 50M/5M: time {big['wall'] / small['wall']:.1f}x, driver RSS {grow:.2f}x, "
                f"tree RSS {big['total_mb'] / small['total_mb']:.2f}x"
            )
            # "Must not grow with rows": 10x the rows may cost the driver a few batches more, never 2x.
            checks.append((f"{engine}: driver peak RSS at 50M within 1.5x of 5M ({grow:.2f}x)", grow <= 1.5))
    for rows in DATASETS:
        if ("local", rows) in results and ("spark", rows) in results:
            local, spark = results["local", rows], results["spark", rows]
            checks.append(
                (
                    f"{rows}: both engines' profiles hold the same counts, values and categories",
                    local["counts"] == spark["counts"],
                )
            )
            print(
                f"spark/local {rows}: time {spark['wall'] / local['wall']:.2f}x, "
                f"driver RSS {spark['driver_hwm_mb'] / local['driver_hwm_mb']:.2f}x, "
                f"tree RSS {spark['total_mb'] / local['total_mb']:.2f}x"
            )
    print("=" * 118)
    print("driver = the Python process that calls check_drift (its VmHWM); arrow = the most its Arrow buffers held")
    print("(live data; the rest of its RSS is the interpreter and what the allocator keeps); jvm = the largest JVM's")
    print("VmHWM; workers = the most RSS they held at once (count, largest VmHWM); tree = the most RSS the whole")
    print("process tree held at one poll (0.1 s).")
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
