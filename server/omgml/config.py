"""``omgml.toml``: the project's configuration, its tasks and their metrics."""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omgml.errors import ConfigError, InvalidInput

CONFIG_FILE = "omgml.toml"
Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
TRACKING_SERVER_NAMES = ("databricks", "databricks-uc", "uc")  # URIs MLflow takes without a scheme


class Metric(BaseModel):
    name: str
    tasks: tuple[str, ...]
    greater_is_better: bool
    why_default: str = ""


# The defaults are picked for what a first model must show, not for what reads best.
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            name="roc_auc",
            tasks=("binary", "multiclass"),
            greater_is_better=True,
            why_default="ROC AUC ranks predictions without a threshold and is not fooled by class imbalance",
        ),
        Metric(name="average_precision", tasks=("binary",), greater_is_better=True),
        Metric(name="accuracy", tasks=("binary", "multiclass"), greater_is_better=True),
        Metric(name="balanced_accuracy", tasks=("binary", "multiclass"), greater_is_better=True),
        Metric(
            name="f1_macro",
            tasks=("binary", "multiclass"),
            greater_is_better=True,
            why_default="macro F1 weighs every class equally, so a model that ignores small classes scores low",
        ),
        Metric(name="log_loss", tasks=("binary", "multiclass"), greater_is_better=False),
        Metric(
            name="rmse",
            tasks=("regression",),
            greater_is_better=False,
            why_default="RMSE is in the target's own units and punishes large errors",
        ),
        Metric(name="mae", tasks=("regression",), greater_is_better=False),
        Metric(name="r2", tasks=("regression",), greater_is_better=True),
    )
}
DEFAULT_METRIC: dict[str, str] = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "rmse"}


def metric_names(task: str) -> list[str]:
    """The metrics omgml computes for ``task``, in the order reports list them."""
    return [m.name for m in METRICS.values() if task in m.tasks]


def require_metric(task: str, metric: str, role: str) -> str:
    """``metric`` normalised, or ``InvalidInput`` naming the valid ones; ``role`` says why it must fit."""
    name = metric.strip().lower()
    valid = metric_names(task)
    if name not in valid:
        raise InvalidInput(
            f"The metric '{metric}' does not fit a {task} task",
            f"{role}, so omgml must be able to compute it for the task",
            f"use one of: {', '.join(valid)}",
        )
    return name


class DataPaths(BaseModel):
    model_config = ConfigDict(extra="allow")
    raw: str = "data/raw"
    processed: str = "data/processed"
    reference: str = "data/reference"
    train: str | None = Field(default=None, description="the main training table, when known")
    validation: str | None = Field(default=None, description="held-out rows no model was fit on: what compare scores")
    engine: Engine = Field(default="local", description="where validation and drift profiles are computed")


Engine = Literal["local", "spark"]
ENGINES: tuple[str, ...] = ("local", "spark")
DEFAULT_SPARK_MASTER = "local[*]"


class SparkConfig(BaseModel):
    """``[spark]``: where the Spark engine runs. ``master`` is a master URL (``local[*]``, ``spark://host:7077``,
    ``yarn``) or a Spark Connect address (``sc://host:15002``); ``conf`` holds extra Spark settings."""

    model_config = ConfigDict(extra="allow")
    master: str = Field(default=DEFAULT_SPARK_MASTER, min_length=1, description="master URL or sc:// address")
    conf: dict[str, str] = Field(default_factory=dict, description="extra Spark settings, e.g. spark.executor.memory")


class Tracking(BaseModel):
    model_config = ConfigDict(extra="allow")
    uri: str = DEFAULT_TRACKING_URI


class RegistryConfig(BaseModel):
    """``[registry]``: how ``compare`` decides. A margin that is not a number is refused when the file is read."""

    model_config = ConfigDict(extra="allow")
    margin: float = Field(
        default=0.0, ge=0, strict=True, allow_inf_nan=False, description="how much better a challenger must score"
    )


ALERT_METRICS: dict[str, str] = {
    "validation_errors": "error findings of the batch's validation",
    "validation_warnings": "warning findings of the batch's validation",
    "drifted_share": "share of the tested features that drifted, 0 to 1",
    "drifted_columns": "how many columns drifted",
    "performance_drop": "how much worse the champion scored on the batch than cross-validated, in the metric's units",
    "drift_persists": "consecutive batches, ending with this one, that had dataset drift",
}
ALERT_OPS = (">=", "<=", "==", "!=", ">", "<")  # two-character operators first, so '>=' is not read as '>'
# When [monitor] has no alerts key: the drift check's own dataset rule, and any validation error.
DEFAULT_ALERTS = ("validation_errors > 0", "drifted_share >= 0.5", "drift_persists >= 3")
_RULE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")


@dataclass(frozen=True)
class AlertRule:
    """``metric op threshold``, as parsed from one string of ``[monitor] alerts``."""

    text: str
    metric: str
    op: str
    threshold: float


def parse_alert_rule(text: str) -> AlertRule:
    """One rule, or ``ValueError`` saying what is wrong with it (the caller names the file)."""
    match = _RULE.match(text)
    if match is None:
        raise ValueError(f"the alert rule {text!r} is not `metric op number` (operators: {' '.join(ALERT_OPS)})")
    metric, op, number = match.groups()
    if metric not in ALERT_METRICS:
        raise ValueError(f"the alert rule {text!r} names the unknown metric '{metric}'")
    try:
        threshold = float(number)
    except ValueError:
        raise ValueError(f"the alert rule {text!r} compares with '{number}', which is not a number") from None
    if not math.isfinite(threshold):
        raise ValueError(f"the alert rule {text!r} compares with {number}, which is not a finite number")
    return AlertRule(text=text.strip(), metric=metric, op=op, threshold=threshold)


class Monitor(BaseModel):
    """``[monitor]``: the alert rules each monitored batch is checked against, and where fired alerts are posted."""

    model_config = ConfigDict(extra="allow")
    alerts: list[str] = Field(default_factory=lambda: list(DEFAULT_ALERTS), description="rules, `metric op number`")
    webhook: str | None = Field(default=None, description="http(s) URL each fired alert is posted to as JSON")

    def rules(self) -> list[AlertRule]:
        return [parse_alert_rule(text) for text in self.alerts]


def webhook_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook, or None: it must be http(s) with a host, without spaces."""
    from urllib.parse import urlsplit

    if any(c.isspace() or ord(c) < 32 for c in url):
        return "it holds a space or a control character"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"it does not parse as a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"its scheme is '{parts.scheme or '(none)'}', and omgml posts only over http or https"
    if not parts.hostname:
        return "it names no host"
    return None


class ProjectConfig(BaseModel):
    """The parsed ``omgml.toml``. Unknown keys are kept so later versions and users can add their own."""

    model_config = ConfigDict(extra="allow")
    name: str
    package: str
    task: Task
    target: str
    metric: str
    description: str = ""
    data: DataPaths = Field(default_factory=DataPaths)
    tracking: Tracking = Field(default_factory=Tracking)
    monitor: Monitor = Field(default_factory=Monitor)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)


SECTIONS = (
    "project",
    "data",
    "tracking",
    "registry",
    "monitor",
    "spark",
)  # the tables omgml reads; other tables are the user's own


def load_config(project: Path) -> ProjectConfig | None:
    """The project's configuration, None when there is no ``omgml.toml``; a broken one raises ``ConfigError``."""
    from omgml.workspace import read_inside

    path = project / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        raw = tomllib.loads(read_inside(project, CONFIG_FILE, "config file").decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}",
            "omgml reads the project's name, task, target and metric from it",
            "fix the named line (a value needs quotes, a key needs '= value'), or delete the file and run `omgml init`",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text", str(exc), "save it as UTF-8") from exc
    except RecursionError as exc:
        raise ConfigError(
            f"{path} nests arrays or tables too deeply to read",
            "omgml.toml holds a few flat settings",
            "remove the deeply nested value",
        ) from exc
    for section in SECTIONS:
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(
                f"{path}: '{section}' is {_toml_type(raw[section])} ({_short(raw[section])}), not a table",
                f"omgml reads its settings from a [{section}] section of key = value lines",
                f"replace the line `{section} = ...` with a [{section}] section "
                + ("holding name, package, task, target and metric" if section == "project" else "of its keys"),
            )
    flat = {**raw.get("project", {}), **{section: raw.get(section, {}) for section in SECTIONS[1:]}}
    try:
        config = ProjectConfig.model_validate(flat)
    except ValidationError as exc:
        raise ConfigError(
            f"{path} does not describe a project",
            "; ".join(_problem(e) for e in exc.errors()[:5]),
            f"set the named keys (task is one of {', '.join(TASKS)}), or run `omgml init` in a new folder",
        ) from exc
    valid = metric_names(config.task)
    if config.metric not in valid:
        raise ConfigError(
            f"{path}: metric '{config.metric}' does not fit task '{config.task}'",
            "the success metric decides which model is best, so it must be one omgml can compute for the task",
            f"set [project] metric to one of: {', '.join(valid)}",
        )
    _check_monitor(path, config.monitor)
    return config


def _check_monitor(path: Path, monitor: Monitor) -> None:
    """Refuse a rule or webhook no batch could use now, not at the first alert."""
    for text in monitor.alerts:
        try:
            parse_alert_rule(text)
        except ValueError as exc:
            raise ConfigError(
                f"{path}: [monitor] alerts: {exc}",
                "each monitored batch is checked against these rules, so each must be one omgml can evaluate",
                f"write it as `metric op number` with a metric of {', '.join(ALERT_METRICS)} and an operator of "
                f'{" ".join(ALERT_OPS)}, e.g. "drifted_share >= 0.3"',
            ) from None
    if monitor.webhook is not None:
        problem = webhook_problem(monitor.webhook)
        if problem:
            raise ConfigError(
                f"{path}: [monitor] webhook is not an http(s) URL: {problem}",
                "fired alerts are posted to it as JSON over HTTP",
                'set it to the hook\'s full address, e.g. webhook = "https://hooks.slack.com/services/...", or remove '
                "the line",
            )


def _problem(error: dict) -> str:
    """One pydantic error as the key a user edits: '[data] raw: Input should be a valid string (got 3)'."""
    loc = [str(p) for p in error["loc"]]
    section, keys = (loc[0], loc[1:]) if loc and loc[0] in SECTIONS[1:] else ("project", loc)
    got = "" if error["type"] == "missing" else f" (got {_short(error.get('input'))})"
    return f"[{section}] {'.'.join(keys) or '(section)'}: {error['msg']}{got}"


def _toml_type(value: object) -> str:
    """The TOML kind of ``value``, with its article: 'a string', 'an array'."""
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a float", list: "an array"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def project_slug(project_name: str) -> str:
    """A file- and registry-safe form of the project name: 'Churn Model' -> 'churn-model', '中文模型' -> '中文模型'.

    A name with ASCII letters or digits keeps its ASCII slug (the registry names projects already have);
    one written only in another script keeps its letters, which MLflow accepts (it refuses '/' and ':').
    """
    for unsafe in (r"[^A-Za-z0-9_.-]+", r"[^\w.-]+"):
        slug = re.sub(unsafe, "-", project_name).strip("-").lower()
        if any(c.isalnum() for c in slug):
            return slug
    return "project"


def registered_model_name(project_name: str) -> str:
    """The registry name of a project's model: '<project slug>-model' (baseline registers it, serving loads it)."""
    return f"{project_slug(project_name)}-model"


def resolve_tracking_uri(project: Path, uri: str) -> str:
    """Make a relative ``sqlite:///`` or file URI absolute under the project, so it works from any cwd.

    Symlinks are left for the confinement check to resolve (and to refuse, when one loops or leaves the project).
    """
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return f"sqlite:///{os.path.abspath(project / uri[len('sqlite:///') :])}"
    if "://" not in uri and uri not in TRACKING_SERVER_NAMES:
        return os.path.abspath(project / uri)
    return uri
