"""The Spark session the Spark-engine tests share: local mode, two cores, started once per test run.

Skipped, with the reason printed, only where Java or pyspark is missing (``.ci/run`` installs Java when it can).
"""

from __future__ import annotations

import pytest

SPARK_MASTER = "local[2]"


def spark_or_skip():
    from omgml.spark.session import SparkError, session

    try:
        return session(SPARK_MASTER, {"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "2"})
    except SparkError as exc:
        pytest.skip(f"the Spark engine cannot run here: {exc}")


@pytest.fixture(scope="session")
def spark():
    return spark_or_skip()
