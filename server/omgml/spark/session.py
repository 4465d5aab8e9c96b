"""Connecting to Spark, and running one function over every partition of a DataFrame.

Every failure is one ``SparkError`` line: a missing pyspark or Java, a master or Spark Connect server that
does not answer (probed over TCP first, so it fails in seconds, not after Spark's own minutes of retries),
an analysis error (a table that does not exist). The JVM's own output goes to a log file, never to this
process's stdout (the MCP stream) or the user's terminal.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from omgml.errors import OmgmlError, first_line

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

PROBE_SECONDS = 3.0
SPARK_PORTS = {"spark": 7077, "sc": 15002}
INSTALL_FIX = "pip install 'omgml[spark]' (a local master also needs Java 17), or set [data] engine = \"local\""


class SparkError(OmgmlError):
    """Spark is missing, unreachable, or refused the work."""


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkError(
            "The Spark engine needs pyspark, which is not installed",
            "pyspark is the optional extra omgml[spark]",
            INSTALL_FIX,
        ) from exc


def log_file() -> Path:
    """Where the JVM's output goes (Spark logs a page of warnings at start)."""
    return Path(tempfile.gettempdir()) / f"omgml-spark-{os.getuid()}.log"


def session(master: str, conf: dict[str, str] | None = None) -> SparkSession:
    """The Spark session for ``master`` (a master URL or an ``sc://`` Spark Connect address), created once."""
    require_pyspark()
    import warnings

    # pyspark warns on every import and Arrow job that it was not tested with pandas 3: nothing a user can act on.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from pyspark.sql import SparkSession

    conf = dict(conf or {})
    if master.startswith("sc://"):
        probe(master)
        with spark_errors(f"the Spark Connect server {master}"):
            return SparkSession.builder.remote(master).getOrCreate()
    if master.startswith("spark://"):
        probe(master)
    elif master.startswith("local") and not _java():
        raise SparkError(
            f"The Spark master {master} runs on this machine, and Java was not found",
            "a local Spark master is a Java process (Spark 4 needs Java 17 or newer)",
            "install Java 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME, "
            'or point [spark] master at a cluster ("sc://host:15002")',
        )
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # The workers run this interpreter, which has omgml and pyarrow (the default is whatever `python3` is on PATH).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    conf.setdefault("spark.ui.showConsoleProgress", "false")
    conf.setdefault("spark.ui.enabled", "false")
    conf.setdefault("spark.log.level", "ERROR")
    conf.setdefault("spark.sql.session.timeZone", "UTC")
    with spark_errors(f"the Spark master {master}"):
        _launch_quietly(master, conf)
        builder = SparkSession.builder.master(master).appName("omgml")
        for key, value in conf.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()


def _java() -> bool:
    import shutil

    home = os.environ.get("JAVA_HOME")
    return bool((home and Path(home, "bin", "java").exists()) or shutil.which("java"))


def _launch_quietly(master: str, conf: dict[str, str]) -> None:
    """Start the JVM with its stdout and stderr in ``log_file()``: pyspark's own launch inherits ours."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:  # already running in this process
        return
    spark_conf = SparkConf().setMaster(master)
    for key, value in conf.items():
        spark_conf.set(key, value)
    with log_file().open("ab") as log:
        gateway = launch_gateway(spark_conf, popen_kwargs={"stdout": log, "stderr": log})
    SparkContext._ensure_initialized(gateway=gateway, conf=spark_conf)


def probe(master: str) -> None:
    """Refuse, within ``PROBE_SECONDS``, a ``spark://`` or ``sc://`` address no server answers on."""
    parts = urlsplit(master)
    hosts = parts.netloc.split("@")[-1].split(",")  # spark://a:7077,b:7077 names standby masters
    problems = []
    for host in hosts:
        name, _, port = host.partition(":")
        name = name.strip("[]")
        try:
            port_number = int(port.split("/")[0]) if port else SPARK_PORTS[parts.scheme]
        except ValueError:
            raise SparkError(
                f"The Spark address {master} has the port {port!r}, which is not a number",
                "a Spark address is scheme://host:port",
                'write it as "spark://host:7077" or "sc://host:15002"',
            ) from None
        if not name:
            raise SparkError(f"The Spark address {master} names no host", "", 'write it as "sc://host:15002"')
        try:
            with socket.create_connection((name, port_number), timeout=PROBE_SECONDS):
                return
        except OSError as exc:
            problems.append(f"{name}:{port_number}: {first_line(exc) or type(exc).__name__}")
    raise SparkError(
        f"No Spark server answers at {master} ({'; '.join(problems)})",
        f"omgml tried to connect for {PROBE_SECONDS:g} s",
        "start the server (Spark Connect: sbin/start-connect-server.sh), check the host and port in [spark] master, "
        'or use a local master ("local[*]")',
    )


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn pyspark's and the JVM's exceptions into one ``SparkError`` line about ``what``."""
    try:
        yield
    except OmgmlError:
        raise
    except Exception as exc:  # pyspark, py4j and grpc each raise their own families
        message = spark_message(exc)
        why = f"the full Spark log is in {log_file()}"
        fix = "fix what the message names; if Spark itself is at fault, run again with engine local"
        if "omgml" in message and ("No module named" in message or "cannot import name" in message):
            why = "the executors run omgml's own summaries, and their Python has no omgml of this version"
            fix = "install the same omgml on the cluster's Python (pip install omgml, or spark.submit.pyFiles)"
        raise SparkError(f"Spark failed on {what}: {message}", why, fix) from exc


def spark_message(exc: BaseException) -> str:
    """The first meaningful line of a Spark failure, without the JVM's stack trace."""
    java = getattr(exc, "java_exception", None)
    text = str(java.toString()) if java is not None else (getattr(exc, "getMessage", lambda: None)() or str(exc))
    if "Traceback (most recent call last)" in text:  # a Python worker failed: its last line says why
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        skip = ("at ", "File ", "SQLSTATE")  # Spark Connect ends the worker's traceback with its SQLSTATE
        return next((line for line in reversed(lines) if not line.startswith(skip)), lines[-1])[:300]
    for line in str(text).splitlines():
        line = line.strip()
        if line and not line.startswith(("at ", "JVM stacktrace", "Traceback")):
            return line[:300]
    return type(exc).__name__


@dataclass
class _Failure:
    """An ``OmgmlError`` a partition raised, as the driver raises it again."""

    kind: type
    what: str
    why: str
    fix: str


def partition_states(frame: DataFrame, work: Callable[[Iterator[pa.RecordBatch]], Any], what: str) -> Iterator[Any]:
    """``work(batches)`` in every partition of ``frame`` (its Arrow batches), the results in partition order.

    ``work`` runs on the executors, so it must be a module-level function of omgml or a picklable closure over
    one; what it returns is pickled back to the driver, so keep it small (a summary, never the rows). All
    partitions run at once in one job and their results wait on the executors; the driver then fetches them one
    at a time, so a caller that merges as it goes holds one partition's result however many partitions there are.
    An ``OmgmlError`` raised in a partition is raised here, whole.
    """
    import pickle

    from pyspark import StorageLevel

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        from pyspark import TaskContext

        try:
            result = work(batches)
        except OmgmlError as exc:  # carried back whole: a worker's traceback would reach the driver as one line
            result = _Failure(type(exc), exc.what, exc.why, exc.fix)
        state = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        context = TaskContext.get()
        yield pa.RecordBatch.from_arrays(
            [pa.array([context.partitionId() if context else 0], pa.int32()), pa.array([state], pa.large_binary())],
            names=["partition", "state"],
        )

    with spark_errors(what):
        states = frame.mapInArrow(run, "partition INT, state BINARY").persist(StorageLevel.MEMORY_AND_DISK)
    try:
        with spark_errors(what):
            states.count()  # computes every partition, in parallel
            rows = states.toLocalIterator()  # then one partition at a time, in order
        while True:
            with spark_errors(what):
                row = next(rows, None)
            if row is None:
                return
            state = pickle.loads(row["state"])
            if isinstance(state, _Failure):
                raise state.kind(state.what, state.why, state.fix)
            yield state
    finally:
        with suppress(Exception):  # a session already gone has nothing cached
            states.unpersist()
