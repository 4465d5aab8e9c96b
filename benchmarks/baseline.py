"""Baseline training: omgml's ``train_baseline`` vs the same scikit-learn calls written by hand.

The anchor is what a careful person writes without omgml: read the table, build the same three
pipelines (dummy, linear, HistGradientBoosting), one ``cross_validate`` per candidate on the
same stratified 5 folds with the same scorers, then refit the best on every row (a baseline
has to be refit to be used). omgml's time is the whole call: reading, checks, the same
cross-validation, the refit, the overfit check, MLflow logging (parent and nested runs,
dataset, model with signature) and registration. Both run in this process with the same
thread limit, interleaved; the best of ``--runs`` is compared. Target: overhead <= 10%.

A first run in a new project also creates the MLflow store (schema migrations): that
one-time cost is reported on its own line. Then 1M rows with the default time budget.

The small-table case comes first (an agent's common case: 200 rows, 8 numeric features, binary), best of two,
interleaved, against a by-hand script doing the same work with MLflow directly in a fresh process (cross-validation
of the three candidates, refit, a run with the model logged with explicit pip requirements and a signature,
registered, aliased, in a fresh sqlite store): what an agent without omgml would write and run. omgml is timed
where an agent meets it, the MCP server (a real stdio client: start, ``omgml_status`` as the server's instructions
ask first, then, after the agent's turn of ``AGENT_TURN_S``, the first baseline of a new project and a second one;
each the time the client waited), and as ``omgml baseline`` in whole processes (a first and a second call in a new
project). Targets, for the server's calls: first baseline in a new project <= 0.5x the anchor, second <= 0.3x.
Printed beside them: the server with no pause (the baseline right after status, the warm-up unfinished), from its
start to the first baseline, and the CLI's ratios.

Usage: python benchmarks/baseline.py [--rows 200000] [--runs 3] [--big-rows 1000000] [--skip-big] [--small-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the Makefile pins threads: the same for both sides
for var in ("MLFLOW_TRACKING_URI", "OMGML_PROJECT_DIR", "CLAUDE_PROJECT_DIR"):
    os.environ.pop(var, None)

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".bench" / "baseline"
NUMERIC, CATEGORICAL = 15, 5
SEED = 0


def make_table(rows: int, seed: int = SEED) -> pd.DataFrame:
    """15 numeric features (5% missing in two), 5 categorical with 5 to 45 levels, a binary target with signal."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, NUMERIC)), columns=[f"x{i}" for i in range(NUMERIC)])
    for i in range(CATEGORICAL):
        levels = np.array([f"L{j}" for j in range(5 + 10 * i)], dtype=object)
        frame[f"c{i}"] = levels[rng.integers(0, len(levels), size=rows)]
    for column in ("x0", "x3"):
        frame.loc[rng.random(rows) < 0.05, column] = np.nan
    logit = (
        frame["x1"] - 0.5 * frame["x2"] ** 2 + np.where(frame["c0"] == "L1", 1.0, 0.0) + 0.5 * frame["x4"] * frame["x5"]
    )
    frame["target"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def by_hand(path: Path) -> tuple[float, str, dict[str, float]]:
    """The anchor: plain scikit-learn, the calls a person would write. Returns (seconds, best, seconds per step)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, log_loss, make_scorer
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    frame = pd.read_parquet(path)
    y = frame.pop("target").to_numpy()
    X = frame
    numeric = [c for c in X.columns if c.startswith("x")]
    categorical = [c for c in X.columns if c.startswith("c")]
    for column in categorical:
        X[column] = X[column].astype(object)
    linear = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        (
                            "numeric",
                            Pipeline(
                                [
                                    ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                                    ("scale", StandardScaler()),
                                ]
                            ),
                            numeric,
                        ),
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10, max_categories=100),
                            categorical,
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=1000)),
        ]
    )
    hgb = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        (
                            "categorical",
                            OrdinalEncoder(
                                handle_unknown="use_encoded_value",
                                unknown_value=np.nan,
                                encoded_missing_value=np.nan,
                                min_frequency=10,
                                max_categories=255,
                            ),
                            categorical,
                        ),
                        ("numeric", "passthrough", numeric),
                    ]
                ),
            ),
            (
                "model",
                HistGradientBoostingClassifier(
                    random_state=SEED, categorical_features=[True] * len(categorical) + [False] * len(numeric)
                ),
            ),
        ]
    )
    scoring = {
        "roc_auc": "roc_auc",
        "average_precision": make_scorer(
            average_precision_score, response_method=("decision_function", "predict_proba"), pos_label=1
        ),
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced_accuracy",
        "f1_macro": "f1_macro",
        "log_loss": make_scorer(log_loss, greater_is_better=False, response_method="predict_proba", labels=[0, 1]),
    }
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    scores, steps = {}, {"read": time.perf_counter() - started}
    with threadpool_limits(limits=int(os.environ["OMP_NUM_THREADS"])):
        for name, estimator in (("dummy", DummyClassifier(strategy="prior")), ("linear", linear), ("hgb", hgb)):
            step = time.perf_counter()
            scores[name] = cross_validate(estimator, X, y, cv=folds, scoring=scoring)["test_roc_auc"].mean()
            steps[name] = time.perf_counter() - step
        best = max(("linear", "hgb"), key=scores.get)
        step = time.perf_counter()
        {"linear": linear, "hgb": hgb}[best].fit(X, y)
        steps["refit"] = time.perf_counter() - step
    return time.perf_counter() - started, best, steps


def with_omgml(project: Path, time_budget: float | None = None):
    from omgml.baseline import train_baseline

    request = {"project_dir": str(project), "data_path": "data.parquet", "target": "target", "seed": SEED}
    if time_budget is not None:
        request["time_budget"] = time_budget
    started = time.perf_counter()
    report = train_baseline(request)
    return time.perf_counter() - started, report


def fresh_project(name: str, table: Path) -> Path:
    project = WORK / name
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy(table, project / "data.parquet")
    return project


SMALL_ROWS, SMALL_FEATURES = 200, 8

# The by-hand anchor of the small case, run as its own process: what a careful person writes with sklearn and
# MLflow for the same result as one `omgml baseline` (MLflow's default store, a new one each time).
BY_HAND_WITH_MLFLOW = """
import sys
import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

frame = pd.read_csv("data.csv")
y = frame.pop("target")
X = frame
candidates = {
    "dummy": DummyClassifier(strategy="prior"),
    "linear": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)),
    "hgb": HistGradientBoostingClassifier(random_state=0),
}
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scoring = ["roc_auc", "average_precision", "accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss"]
scores = {name: cross_validate(model, X, y, cv=folds, scoring=scoring) for name, model in candidates.items()}
best = max(("linear", "hgb"), key=lambda name: scores[name]["test_roc_auc"].mean())
model = candidates[best].fit(X, y)
mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("by-hand")
with mlflow.start_run(run_name="baseline"):
    for name, result in scores.items():
        with mlflow.start_run(run_name=name, nested=True):
            mlflow.log_metrics({key: float(values.mean()) for key, values in result.items()})
    mlflow.log_metric("roc_auc", float(scores[best]["test_roc_auc"].mean()))
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        signature=infer_signature(X.head(100), model.predict(X.head(100))),
        pip_requirements=[f"mlflow=={mlflow.__version__}", "scikit-learn", "skops", "pandas"],
        skops_trusted_types=[  # what MLflow's error asks for, for these pipelines
            "numpy.dtype",
            "functools.partial",
            "sklearn.utils.validation.check_array",
            "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        ],
        registered_model_name="by-hand-model",
    )
client = MlflowClient()
for alias in ("baseline", "champion"):
    client.set_registered_model_alias("by-hand-model", alias, info.registered_model_version)
print(best, info.registered_model_version)
"""


def small_table(folder: Path) -> Path:
    """200 rows, 8 numeric features (one with 5% missing), a binary target with signal: the agent's common case."""
    rng = np.random.default_rng(SEED)
    frame = pd.DataFrame(rng.normal(size=(SMALL_ROWS, SMALL_FEATURES)), columns=[f"x{i}" for i in range(8)])
    frame.loc[rng.random(SMALL_ROWS) < 0.05, "x0"] = np.nan
    logit = frame["x1"] - 0.5 * frame["x2"] + 0.5 * frame["x3"] * frame["x4"]
    frame["target"] = (rng.random(SMALL_ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    path = folder / "small.csv"
    frame.to_csv(path, index=False)
    return path


def timed_process(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)  # noqa: PLW1510
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark step failed: {' '.join(command)}: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def small_case(runs: int = 2) -> None:
    """The small table, interleaved: the CLI's first and second call, the by-hand anchor, an MCP server session."""
    root = WORK / "small"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    table = small_table(root)
    script = root / "by_hand_mlflow.py"
    script.write_text(BY_HAND_WITH_MLFLOW)
    env = {**os.environ, "PYTHONPATH": str(REPO / "server")}
    bin_dir = Path(sys.executable).parent
    omgml = [str(bin_dir / "omgml"), "baseline", "data.csv", "--target", "target", "--seed", str(SEED)]

    def new_project(name: str) -> Path:
        project = root / name
        project.mkdir()
        shutil.copy(table, project / "data.csv")
        return project

    from omgml.tracking import empty_store_cache

    cached = "present" if empty_store_cache().is_file() else "absent (the first call builds it)"
    print(f"# small table: {SMALL_ROWS} rows x {SMALL_FEATURES} features, binary; whole processes, best of {runs}")
    print(f"MLflow's empty store in the user cache before the run: {cached}")
    first, second, hand, served, rushed = [], [], [], [], []
    for run in range(runs):
        project = new_project(f"omgml-{run}")
        first.append(timed_process(omgml, project, env))
        second.append(timed_process(omgml, project, env))
        hand.append(timed_process([sys.executable, str(script)], new_project(f"hand-{run}"), env))
        served.append(through_server(root, new_project(f"served-{run}").name, env, AGENT_TURN_S))
        rushed.append(through_server(root, new_project(f"rushed-{run}").name, env, 0))
        print(
            f"run {run + 1}: CLI first call {first[-1]:6.2f} s, second call {second[-1]:6.2f} s, "
            f"by hand with MLflow {hand[-1]:6.2f} s"
        )
        for label, times in ((f"{AGENT_TURN_S:g} s after status", served[-1]), ("right after status", rushed[-1])):
            print(
                f"  MCP server, baseline {label}: start and handshake {times['handshake']:5.2f} s, omgml_status "
                f"{times['status']:5.2f} s, first baseline in a new project {times['first']:5.2f} s, "
                f"second {times['second']:5.2f} s"
            )
    a, b, c = min(first), min(second), min(hand)
    served_first = min(times["first"] for times in served)
    served_second = min(times["second"] for times in served)
    rushed_first = min(times["first"] for times in rushed)
    session = min(times["handshake"] + times["status"] + times["first"] for times in rushed)
    print(f"by hand with MLflow (best): {c:.2f} s")
    print(f"ratio MCP server, first baseline in a new project / by hand:  {served_first / c:.3f}  (target <= 0.5)")
    print(f"ratio MCP server, second baseline / by hand:                  {served_second / c:.3f}  (target <= 0.3)")
    print(f"ratio MCP server, first baseline right after status / by hand: {rushed_first / c:.3f}")
    print(f"ratio MCP server, from its start to the first baseline, no pause / by hand: {session / c:.3f}")
    print(f"ratio CLI first call (a whole process) / by hand:  {a / c:.3f}")
    print(f"ratio CLI second call (a whole process) / by hand: {b / c:.3f}")


AGENT_TURN_S = 8.0  # an agent's model reading an answer and choosing the next call: seconds, often tens


def through_server(root: Path, project: str, env: dict[str, str], pause: float) -> dict[str, float]:
    """An agent's session on the MCP server (a real stdio client): start, omgml_status, then two baselines.

    The status call comes first, as the server's instructions ask; ``pause`` seconds later (the agent's turn,
    while the server warms up: ``omgml.mcp.preload``) the first baseline. Each time is what the client waited for.
    """
    import anyio
    from mcp import Client, StdioServerParameters

    bin_dir = Path(sys.executable).parent
    params = StdioServerParameters(
        command=str(bin_dir / "omgml-mcp"), cwd=str(root), env={**env, "OMGML_PROJECT_DIR": str(root)}
    )
    request = {"project_dir": project, "data_path": "data.csv", "target": "target", "seed": SEED}
    times: dict[str, float] = {}

    async def session() -> None:
        started = time.perf_counter()
        async with Client(params) as client:
            times["handshake"] = time.perf_counter() - started
            for step, (tool, arguments) in {
                "status": ("omgml_status", {"project_dir": project}),
                "first": ("omgml_train_baseline", request),
                "second": ("omgml_train_baseline", request),
            }.items():
                if step == "first":
                    await anyio.sleep(pause)
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                times[step] = time.perf_counter() - started
                if result.is_error:
                    sys.exit(f"benchmark step failed: {tool}: {result.content[0].text}")

    anyio.run(session)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--small-only", action="store_true", help="only the 200-row case, in whole processes")
    args = parser.parse_args()

    small_case()
    if args.small_only:
        return

    WORK.mkdir(parents=True, exist_ok=True)
    table = WORK / f"table-{args.rows}.parquet"
    if not table.exists():
        make_table(args.rows).to_parquet(table, index=False)
    print(
        f"# {args.rows:,} rows x {NUMERIC + CATEGORICAL} features, binary; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )

    import importlib

    imports = time.perf_counter()
    for module in ("sklearn", "mlflow", "mlflow.sklearn", "skops.io"):  # paid once per process: not in the ratio
        importlib.import_module(module)
    print(f"one-time imports (scikit-learn, mlflow, skops): {time.perf_counter() - imports:.2f} s")

    started = time.perf_counter()
    project = fresh_project("main", table)
    first, report = with_omgml(project)
    print(f"omgml first run in a new project (creates the MLflow store): {first:7.2f} s")
    hand_times, omgml_times = [], []
    for run in range(args.runs):
        seconds, best, steps = by_hand(table)
        hand_times.append(seconds)
        detail = ", ".join(f"{name} {value:.1f} s" for name, value in steps.items())
        print(f"run {run + 1}: by hand (cross_validate x3 + refit of {best}): {seconds:7.2f} s  ({detail})")
        seconds, report = with_omgml(project)
        omgml_times.append(seconds)
        print(
            f"run {run + 1}: omgml train_baseline (best {report.best}, MLflow v{report.tracking.model_version}): "
            f"{seconds:7.2f} s"
        )
    hand, ours = min(hand_times), min(omgml_times)
    median = statistics.median(o / h for o, h in zip(omgml_times, hand_times))
    per_candidate = ", ".join(f"{c.name} {c.seconds:.1f} s" for c in report.candidates)
    print(f"omgml breakdown (last run): {per_candidate}; total {report.elapsed_s:.1f} s")
    print(
        f"ratio omgml / by hand (best of {args.runs}): {ours / hand:.3f}  (overhead {100 * (ours / hand - 1):+.1f}%, "
        f"target <= +10%)"
    )
    print(f"ratio omgml / by hand, median of the {args.runs} interleaved pairs: {median:.3f}")
    print(f"ratio incl. the one-time store creation (first run / best by hand): {first / hand:.3f}")

    if not args.skip_big:
        big_table = WORK / f"table-{args.big_rows}.parquet"
        if not big_table.exists():
            make_table(args.big_rows, seed=1).to_parquet(big_table, index=False)
        big = fresh_project("big", big_table)
        seconds, report = with_omgml(big)
        ran = ", ".join(f"{c.name} {c.status} ({c.seconds:.0f} s)" for c in report.candidates)
        print(
            f"# {args.big_rows:,} rows, default budget {report.time_budget_s:g} s: omgml {seconds:.1f} s; {ran}; "
            f"best {report.best} roc_auc {report.leaderboard[0].primary_mean:.4f}"
        )
        for finding in report.findings:
            print(f"  finding {finding.code}: {finding.message}")
    print(f"# benchmark wall time {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
