"""What the Spark engine reads: a Spark DataFrame, a catalog table (``spark:db.table``), or a path.

A path on this machine (a parquet or orc file, a folder of them, hive-partitioned included, or a glob) must
stay inside the project, as every path omgml reads; a URI with a scheme (``s3a://``, ``abfss://``, ``hdfs://``,
``dbfs:/``) is the cluster's to resolve. Text tables are refused: Spark's csv type inference is not the local
engine's, so the two engines would report different columns for the same file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omgml.errors import InvalidInput, PathError
from omgml.spark.session import SparkError, session, spark_errors, spark_message

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from omgml.config import ProjectConfig
    from omgml.workspace import Project

CATALOG_PREFIX = "spark:"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")  # s3a://, hdfs://, dbfs:/, file:/
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".orc": "orc"}
_CATALOG_NAME = re.compile(r"^[A-Za-z0-9_`.-]{1,512}$")


@dataclass
class SparkSource:
    frame: DataFrame
    shown: str  # how reports name it: the path relative to the project, spark:db.table, or <Spark DataFrame>
    local_path: Any = None  # the resolved path on this machine, when it is one (fingerprints, status)


def local_sha256(project: Project, path: Path | None, shown: str) -> str | None:
    """The fingerprint of a Spark source that is a file or a dataset folder on this machine (``local_path``), as
    the local engine records it; None for a glob, a cluster URI, a catalog table or a DataFrame."""
    from omgml.data.files import fingerprint

    return fingerprint(project, path, shown) if path is not None and path.exists() else None


def is_spark_table(value: Any) -> bool:
    """A Spark DataFrame or a ``spark:db.table`` name: what only the Spark engine reads."""
    return is_spark_frame(value) or (isinstance(value, str) and value.startswith(CATALOG_PREFIX))


def choose_engine(requested: str | None, config: ProjectConfig | None, tables: dict[str, Any]) -> str:
    """The engine that reads ``tables`` (role -> what was passed): a Spark table is Spark's, a pandas DataFrame
    (in this process's memory) the local engine's; else the request's engine, else ``[data] engine``."""
    import os

    spark_tables = {role: value for role, value in tables.items() if is_spark_table(value)}
    in_memory = [
        role
        for role, value in tables.items()
        if value is not None and not isinstance(value, (str, os.PathLike)) and not is_spark_frame(value)
    ]
    if requested == "spark" and in_memory:
        raise InvalidInput(
            "The spark engine cannot read a pandas DataFrame",
            f"the {in_memory[0]} is a pandas DataFrame, in this process's memory; the Spark engine reads parquet, "
            "orc, spark:db.table or a Spark DataFrame",
            "pass spark.createDataFrame(frame) or a parquet path, or use the local engine",
        )
    if spark_tables and (requested == "local" or in_memory):
        role, value = next(iter(spark_tables.items()))
        raise InvalidInput(
            "The local engine cannot read a Spark table",
            f"the {role} is {'a Spark DataFrame' if is_spark_frame(value) else value}, and the local engine cannot "
            "read a Spark DataFrame or a spark: table, only files on this machine and pandas DataFrames",
            "pass engine spark (--engine spark), or a parquet or csv path",
        )
    if spark_tables:
        return "spark"
    if in_memory:
        return "local"
    return requested or (config.data.engine if config is not None else "local")


def engine_session(config: ProjectConfig | None, tables: Iterable[Any]) -> SparkSession:
    """The session of a Spark DataFrame among ``tables``, else the one ``[spark]`` of ``omgml.toml`` names."""
    from omgml.config import DEFAULT_SPARK_MASTER

    frame = next((value for value in tables if is_spark_frame(value)), None)
    if frame is not None:
        return frame.sparkSession
    spark = config.spark if config is not None else None
    return session(spark.master if spark else DEFAULT_SPARK_MASTER, dict(spark.conf) if spark else None)


def is_spark_frame(value: Any) -> bool:
    """Whether ``value`` is a Spark DataFrame (classic or Spark Connect), without importing pyspark."""
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pyspark.")


def spark_source(spark: SparkSession, project: Project, source: Any, what: str) -> SparkSource:
    """Open ``source`` on ``spark``; ``what`` names the argument in messages ("reference table")."""
    if is_spark_frame(source):
        return SparkSource(source, "<Spark DataFrame>")
    text = str(source)
    if text.startswith(CATALOG_PREFIX):
        return SparkSource(_catalog_table(spark, text[len(CATALOG_PREFIX) :], what), text)
    if _SCHEME.match(text):
        return SparkSource(_read_path(spark, text, _format_of(text), text, None), text)
    from omgml.data.files import glob_parts, resolve_data

    fmt = _format_of(text)  # a text table is refused before its files are listed
    path = resolve_data(project, text, what)  # the file, the folder or every match of the glob: inside the project
    split = glob_parts(path)
    if split is None and not path.exists():
        raise PathError(
            f"The {what} {text} does not exist", "there is no file or folder at that path", "check the path"
        )
    shown = text if split else project.rel(path)
    if split is not None or path.is_dir():
        from omgml.data.tables import DataError, open_table

        try:  # the files' footers: partitions that disagree are named here, as the local engine names them
            open_table(path)
        except DataError as exc:
            raise DataError(exc.what.replace(str(path), shown), exc.why, exc.fix) from exc
    base_path = str(split[0]) if split else None  # hive partition columns are found below the glob's folder
    return SparkSource(_read_path(spark, str(path), fmt, shown, base_path), shown, None if split else path)


def _format_of(path: str) -> str:
    for suffix, fmt in _FORMATS.items():
        if path.lower().rstrip("/").endswith(suffix):
            return fmt
    if re.search(r"\.(csv|tsv|jsonl|ndjson|json)$", path.lower()):
        raise SparkError(
            f"The Spark engine does not read the text table {path}",
            "Spark infers csv and JSON types its own way, so its report would not be the local engine's",
            "convert the table to parquet, or read it with engine local",
        )
    return "parquet"  # a folder or a glob of parquet files, as a data lake lays them out


def _read_path(spark: SparkSession, location: str, fmt: str, shown: str, base_path: str | None) -> DataFrame:
    try:
        reader = spark.read.format(fmt)
        if base_path is not None:
            reader = reader.option("basePath", base_path)
        frame = reader.load(location)
        frame.schema  # noqa: B018 -- resolves the files now, so a bad path fails here and not mid-job
    except Exception as exc:
        message = spark_message(exc)
        if "PATH_NOT_FOUND" in message or "does not exist" in message:
            raise PathError(
                f"{shown} matches no {fmt} file",
                "Spark found nothing at that path or glob",
                "check the path; a glob like data/events/*/part-*.parquet must match at least one file",
            ) from exc
        if "CANNOT_MERGE_SCHEMAS" in message or "CANNOT_MERGE_INCOMPATIBLE_DATA_TYPE" in message:
            raise SparkError(
                f"The files of {shown} disagree on their columns' types: {message}",
                "every partition of one table must have the same schema",
                "rewrite the odd partitions with the common schema, or read one consistent subset",
            ) from exc
        raise SparkError(f"Spark could not read {shown}: {message}", "", "check the path and its format") from exc
    return frame


def _catalog_table(spark: SparkSession, name: str, what: str) -> DataFrame:
    if not _CATALOG_NAME.match(name):
        raise SparkError(
            f"'{CATALOG_PREFIX}{name}' is not a catalog table name",
            "a Spark table is named db.table (or catalog.db.table)",
            f"write it as {CATALOG_PREFIX}db.table",
        )
    with spark_errors(f"the {what} {CATALOG_PREFIX}{name}"):
        exists = spark.catalog.tableExists(name)
    if not exists:
        raise SparkError(
            f"The Spark catalog has no table '{name}'",
            f"the {what} {CATALOG_PREFIX}{name} names a table Spark does not know",
            "check the name with SHOW TABLES, or pass the table's path instead",
        )
    with spark_errors(f"the {what} {CATALOG_PREFIX}{name}"):
        return spark.table(name)


def quoted(name: str) -> str:
    """A column name as Spark SQL reads it whatever it holds (spaces, dots, backticks): backquoted, ``` doubled."""
    return "`" + name.replace("`", "``") + "`"


def arrow_schema(frame: DataFrame) -> pa.Schema:
    """The Arrow schema the partitions' batches will have."""
    from pyspark.sql.pandas.types import to_arrow_schema

    with spark_errors("the table's schema"):
        return to_arrow_schema(frame.schema)
