"""The reference side: a data file or a saved profile; building and saving profiles.

``REFERENCE`` names a saved profile when ``.omgml/references/REFERENCE.json`` exists, else a
data file under the project root. A bare name with neither is an error that lists the saved
profiles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omgml.data.files import resolve_data
from omgml.data.kinds import physical_of
from omgml.data.tables import open_table
from omgml.drift.columns import reader_for
from omgml.drift.histogram import Grid
from omgml.drift.profile import ReferenceProfile, SavedColumn, column_profile, load_profile, profile_path
from omgml.drift.scan import scan_table
from omgml.drift.summaries import EXACT_CAP, CategoryAccumulator, NumericAccumulator, Summary
from omgml.spark.source import CATALOG_PREFIX
from omgml.workspace import SAVED_NAME_PATTERN, Project

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

    from omgml.data.tables import Table


@dataclass
class Reference:
    kind: str  # "file" | "profile"
    label: str  # the path relative to the project, or the profile name
    table: Table | None = None
    profile: ReferenceProfile | None = None

    def physicals(self) -> dict[str, str]:
        if self.profile is not None:
            return {name: col.physical for name, col in self.profile.columns.items()}
        return {f.name: physical_of(f.type) for f in self.table.schema}


def open_reference(project: Project, source: Any, spark: SparkSession | None = None) -> Reference:
    """The saved profile ``source`` if one exists, else the data at ``source`` (on ``spark`` when given)."""
    text = source if isinstance(source, str) else ""
    is_name = bool(re.match(SAVED_NAME_PATTERN, text))
    if is_name and profile_path(project.root, text).is_file():
        return Reference(kind="profile", label=text, profile=load_profile(project.root, text))
    path = resolve_data(project, text, "reference data") if text and not text.startswith(CATALOG_PREFIX) else None
    if path is not None and not path.exists() and is_name and not Path(text).suffix:
        load_profile(project.root, text)  # raises: no such profile, and lists the saved ones
    if spark is not None:
        from omgml.drift.spark_scan import open_spark_table

        table = open_spark_table(spark, project, source, "reference data")
        return Reference(kind="file", label=table.source, table=table)
    return Reference(kind="file", label=project.rel(path), table=open_table(path))


def stream_profile(table: Table) -> tuple[int, dict[str, SavedColumn]]:
    """A profile of every column, from mergeable per-batch summaries, in bounded memory.

    Pass 1 counts, finds mean and std, and keeps distinct values (integers: all of them, so an
    identifier is recognized; floats: up to ``EXACT_CAP``). Pass 2 runs only for float columns
    with more distinct values, to count them in buckets of a grid fixed by pass 1's mean and std.
    """

    def first(schema: pa.Schema) -> dict:
        accs: dict = {}
        for f in schema:
            kind = physical_of(f.type)
            reader = reader_for(kind)
            if reader == "numeric":
                accs[f.name] = NumericAccumulator(kind, keep="distinct", cap=None if kind == "integer" else EXACT_CAP)
            elif reader == "categorical":
                accs[f.name] = CategoryAccumulator(kind)
        return accs

    scan = scan_table(table, first)
    summaries: dict[str, Summary] = dict(scan.columns)
    overflowed = {name: s for name, s in summaries.items() if getattr(s, "hist", 0) is None and s.count}
    if overflowed:
        grids = {name: Grid.for_values(s.mean, s.std) for name, s in overflowed.items()}

        def second(schema: pa.Schema) -> dict:
            return {
                name: NumericAccumulator(physical_of(schema.field(name).type), keep="none", grid=grids[name])
                for name in grids
            }

        for name, binned in scan_table(table, second).columns.items():
            first_pass = summaries[name]  # keep pass 1's moments: the grid came from them
            first_pass.hist = binned.hist if binned.hist is None else _with_moments(binned.hist, first_pass)
            first_pass.grid = binned.grid
    return scan.rows, profile_columns(scan.schema, summaries, scan.rows)


def _with_moments(hist, summary):
    from dataclasses import replace

    return replace(hist, mean=summary.mean, std=summary.std, _cum=[])


def profile_columns(schema: pa.Schema, summaries: dict[str, Summary], rows: int) -> dict[str, SavedColumn]:
    """Saved form of every column of ``schema`` (columns drift cannot read are kept as untested)."""
    return {f.name: column_profile(summaries.get(f.name), physical_of(f.type), rows) for f in schema}
