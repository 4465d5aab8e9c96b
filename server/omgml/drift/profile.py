"""Saved reference profiles (``.omgml/references/NAME.json``): their format, and how they are written and read.

A saved profile keeps, per column: row, null and infinity counts, min/max, mean/std, and

- numeric: every distinct value with its count when there are at most ``EXACT_CAP`` of them
  (the profile is then exact: every test gives what it gives on the raw data), else the
  ``Grid`` buckets with their counts and the smallest and largest value in each;
- categorical: the ``MAX_CATEGORIES`` most frequent values with their counts, and one
  "other" bucket (count and number of distinct values) for the rest.

The columns are built from the mergeable summaries of ``drift/summaries.py``. Building a profile
reads the table once, or twice when a float column has more than ``EXACT_CAP`` distinct values
(the first pass finds the mean and std that fix the grid).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omgml.data import jsonscan
from omgml.drift.histogram import Grid, Histogram, run_starts
from omgml.drift.summaries import EXACT_CAP, MAX_CATEGORIES, CategorySummary, NumericSummary, Summary
from omgml.errors import InvalidInput, PathError
from omgml.workspace import Store, read_inside, resolve_inside

PROFILE_FORMAT = "omgml-drift-profile"
PROFILE_VERSION = 1

# ---------------------------------------------------------------------------------------------
# saved profiles


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GridModel(_Strict):
    center: float
    scale: float = Field(gt=0)
    alpha: float = Field(gt=0, lt=1)
    linear: float = Field(gt=0)


class Buckets(_Strict):
    ids: list[int]
    counts: list[int]
    lo: list[float]
    hi: list[float]


class NumericColumnProfile(_Strict):
    kind: Literal["numeric"] = "numeric"
    physical: str
    rows: int = Field(ge=0)
    count: int = Field(ge=0)
    nulls: int = Field(ge=0)
    pos_inf: int = Field(ge=0)
    neg_inf: int = Field(ge=0)
    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    distinct: int | None
    grid: GridModel | None
    values: list[float] | None = None  # exact: every distinct value ...
    counts: list[int] | None = None  # ... and its count
    buckets: Buckets | None = None  # binned: grid buckets


class CategoricalColumnProfile(_Strict):
    kind: Literal["categorical"] = "categorical"
    physical: str
    rows: int = Field(ge=0)
    count: int = Field(ge=0)
    nulls: int = Field(ge=0)
    categories: list[str]
    counts: list[int]
    other_count: int = Field(ge=0)
    other_distinct: int = Field(ge=0)
    mean_length: float | None


class UntestedColumnProfile(_Strict):
    kind: Literal["untested"] = "untested"
    physical: str
    rows: int = Field(ge=0)


SavedColumn = Annotated[
    NumericColumnProfile | CategoricalColumnProfile | UntestedColumnProfile, Field(discriminator="kind")
]


class ReferenceProfile(_Strict):
    """What ``.omgml/references/NAME.json`` holds."""

    format: Literal["omgml-drift-profile"] = PROFILE_FORMAT
    version: Literal[1] = PROFILE_VERSION
    name: str
    created_at: str
    omgml_version: str
    source: str
    sha256: str | None = None  # of the source when saved; profiles saved before it was recorded have none
    rows: int = Field(ge=0)
    exact_cap: int
    max_categories: int
    columns: dict[str, SavedColumn]


def profile_path(project: Path, name: str) -> Path:
    return Store(project).references / f"{name}.json"


def saved_profiles(project: Path) -> list[str]:
    store = Store(project)
    return [p.stem for p in store.listing(store.references)]


def column_profile(summary: Summary | None, physical: str, rows: int) -> SavedColumn:
    """The saved form of one finalized reference summary (categories folded to ``MAX_CATEGORIES``)."""
    if summary is None:
        return UntestedColumnProfile(physical=physical, rows=rows)
    if isinstance(summary, CategorySummary):
        folded = summary.folded()
        return CategoricalColumnProfile(
            physical=physical,
            rows=folded.rows,
            count=folded.count,
            nulls=folded.nulls,
            categories=folded.values,
            counts=[int(c) for c in folded.counts],
            other_count=folded.other_count,
            other_distinct=folded.other_distinct,
            mean_length=folded.mean_length,
        )
    s = summary
    hist = s.hist
    grid = s.grid or (Grid.for_values(s.mean, s.std) if s.count else None)
    model = NumericColumnProfile(
        physical=physical,
        rows=s.rows,
        count=s.count,
        nulls=s.nulls,
        pos_inf=s.pos_inf,
        neg_inf=s.neg_inf,
        min=s.minimum if s.count else None,
        max=s.maximum if s.count else None,
        mean=s.mean if s.count else None,
        std=s.std if s.count else None,
        distinct=s.distinct,
        grid=GridModel(center=grid.center, scale=grid.scale, alpha=grid.alpha, linear=grid.linear) if grid else None,
    )
    if hist is not None and hist.exact and hist.buckets <= EXACT_CAP:
        model.values = [float(v) for v in hist.lo]
        model.counts = [int(c) for c in hist.counts]
    elif hist is not None:
        ids, counts, lo, hi = binned(hist, grid)
        model.buckets = Buckets(
            ids=[int(i) for i in ids],
            counts=[int(c) for c in counts],
            lo=[float(v) for v in lo],
            hi=[float(v) for v in hi],
        )
        if physical != "integer":  # a streamed build stops counting distinct floats at EXACT_CAP
            model.distinct = None
    return model


def binned(hist: Histogram, grid: Grid) -> tuple:
    """Grid buckets (ids, counts, lo, hi) of a histogram; an exact one is grouped by bucket."""
    import numpy as np

    if not hist.exact:
        return hist.ids, hist.counts, hist.lo, hist.hi
    ids = grid.ids(hist.lo)
    starts = run_starts(ids)
    return (ids[starts], np.add.reduceat(hist.counts, starts), hist.lo[starts], np.maximum.reduceat(hist.hi, starts))


def summary_from_profile(column: SavedColumn) -> Summary | None:
    """The finalized reference summary a saved column stands for (None for untested columns)."""
    import numpy as np

    if isinstance(column, UntestedColumnProfile):
        return None
    if isinstance(column, CategoricalColumnProfile):
        return CategorySummary(
            physical=column.physical,
            rows=column.rows,
            count=column.count,
            nulls=column.nulls,
            values=list(column.categories),
            counts=np.asarray(column.counts, dtype=np.int64),
            other_count=column.other_count,
            other_distinct=column.other_distinct,
            mean_length=column.mean_length,
        )
    grid = Grid(column.grid.center, column.grid.scale, column.grid.alpha, column.grid.linear) if column.grid else None
    mean = column.mean if column.mean is not None else math.nan
    std = column.std if column.std is not None else math.nan
    hist = None
    if column.values is not None and column.counts is not None:
        hist = Histogram.from_counts(np.asarray(column.values), np.asarray(column.counts), mean, std)
    elif column.buckets is not None:
        b = column.buckets
        hist = Histogram.from_buckets(
            np.asarray(b.lo, dtype=np.float64),
            np.asarray(b.hi, dtype=np.float64),
            np.asarray(b.counts, dtype=np.int64),
            mean,
            std,
            np.asarray(b.ids, dtype=np.int64),
        )
    return NumericSummary(
        physical=column.physical,
        rows=column.rows,
        count=column.count,
        nulls=column.nulls,
        pos_inf=column.pos_inf,
        neg_inf=column.neg_inf,
        minimum=column.min if column.min is not None else math.nan,
        maximum=column.max if column.max is not None else math.nan,
        mean=mean,
        std=std,
        hist=hist,
        distinct=column.distinct,
        grid=grid,
    )


def _check_profile(profile: ReferenceProfile, path: Path) -> None:
    """Internal consistency a hand edit or a truncated write would break."""
    problems = []
    for name, col in profile.columns.items():
        if isinstance(col, NumericColumnProfile):
            if col.count and col.grid is None:
                problems.append(f"column '{name}' has values but no grid")
            if col.values is not None and (col.counts is None or len(col.values) != len(col.counts)):
                problems.append(f"column '{name}' has {len(col.values)} values but not as many counts")
            if col.values is not None and any(b <= a for a, b in zip(col.values, col.values[1:])):
                problems.append(f"column '{name}' values are not sorted and distinct")
            if col.buckets is not None:
                b = col.buckets
                if not (len(b.ids) == len(b.counts) == len(b.lo) == len(b.hi)):
                    problems.append(f"column '{name}' buckets have lists of different lengths")
                elif any(y <= x for x, y in zip(b.ids, b.ids[1:])):
                    problems.append(f"column '{name}' bucket ids are not increasing")
            held = sum(col.counts or []) if col.values is not None else sum(col.buckets.counts) if col.buckets else 0
            if held != col.count:
                problems.append(f"column '{name}' says {col.count} values but its counts add up to {held}")
        elif isinstance(col, CategoricalColumnProfile):
            if len(col.categories) != len(col.counts):
                problems.append(f"column '{name}' has {len(col.categories)} categories but {len(col.counts)} counts")
            elif sum(col.counts) + col.other_count != col.count:
                problems.append(f"column '{name}' counts do not add up to its {col.count} values")
    if problems:
        raise InvalidInput(
            f"The saved reference profile {path} is corrupt",
            "; ".join(problems[:5]),
            "save it again with `omgml drift REFERENCE_FILE CURRENT --save-reference NAME`",
        )


def load_profile(project: Path, name: str) -> ReferenceProfile:
    """Read and check ``.omgml/references/NAME.json``; a missing or damaged file is an error that says so."""
    path = resolve_inside(project, profile_path(project, name), "reference profile")
    if not path.is_file():
        known = saved_profiles(project)
        raise PathError(
            f"No saved reference profile named '{name}' ({path} does not exist)",
            f"saved profiles: {', '.join(known)}" if known else "this project has no saved reference profiles yet",
            "pass a data file as the reference, or save a profile first with --save-reference NAME",
        )
    data = read_inside(project, path, "reference profile")  # outside the try: its PathError is a ValueError too
    try:
        raw = jsonscan.loads(data)
    except (OSError, ValueError) as exc:  # JsonTooDeep is a ValueError: refused before json recurses
        raise InvalidInput(
            f"The saved reference profile {path} is corrupt: it is not readable JSON ({exc})",
            "the file was cut short or edited by hand",
            "save it again with `omgml drift REFERENCE_FILE CURRENT --save-reference NAME`",
        ) from exc
    if not isinstance(raw, dict) or raw.get("format") != PROFILE_FORMAT:
        raise InvalidInput(
            f"The saved reference profile {path} is corrupt: it is not an omgml drift profile",
            f"its 'format' field is {raw.get('format') if isinstance(raw, dict) else type(raw).__name__!r}, "
            f"expected '{PROFILE_FORMAT}'",
            "save it again with --save-reference NAME",
        )
    if raw.get("version") != PROFILE_VERSION:
        raise InvalidInput(
            f"The saved reference profile {path} has version {raw.get('version')!r}",
            f"this omgml reads version {PROFILE_VERSION}",
            "save it again with this omgml (--save-reference NAME)",
        )
    try:
        profile = ReferenceProfile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(
            f"The saved reference profile {path} is corrupt: '{where}': {first['msg']}",
            f"{exc.error_count()} problem(s) in its fields",
            "save it again with `omgml drift REFERENCE_FILE CURRENT --save-reference NAME`",
        ) from exc
    _check_profile(profile, path)
    return profile


def save_profile(
    project: Path,
    name: str,
    source: str,
    rows: int,
    columns: dict[str, SavedColumn],
    *,
    sha256: str | None = None,
    replace: bool = False,
) -> Path:
    """Save a reference profile under ``name``; without ``replace`` only if none has that name (of concurrent
    savers exactly one wins, the others get ``profile_exists``)."""
    from omgml._version import __version__

    profile = ReferenceProfile(
        name=name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        omgml_version=__version__,
        source=source,
        sha256=sha256,
        rows=rows,
        exact_cap=EXACT_CAP,
        max_categories=MAX_CATEGORIES,
        columns=columns,
    )
    saved = Store(project).write(
        profile_path(project, name), profile.model_dump(mode="json"), compact=True, create=not replace
    )
    if saved is None:
        raise profile_exists(project, name)
    return saved


def profile_exists(project: Path, name: str) -> InvalidInput:
    """The conflict of saving a reference profile under a name that is taken."""
    return InvalidInput(
        f"A reference profile named '{name}' already exists (.omgml/references/{name}.json)",
        "saving would replace the reference that later checks compare against",
        "choose another name, or replace it on purpose (--replace-reference, or replace_reference=true)",
    )
