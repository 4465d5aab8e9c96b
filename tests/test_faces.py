"""Each capability's faces declare the same arguments as its request model (scikit-learn's test_public_functions).

For every capability, the MCP tool's parameters (minus ``ctx``) and the CLI command's options (minus ``--json`` and ``--html``),
after the explicit rename maps below, are the request model's fields, with the same defaults, bounds
(ge/gt/le/lt/min_length/max_length/pattern) and descriptions. typer enforces only numeric ranges, so a CLI option
is compared on those; its string bounds are the request's, enforced when the command builds it.
"""

from __future__ import annotations

import inspect
import os
import typing
from dataclasses import dataclass, field

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from typer.models import ParameterInfo

from omgml.baseline.models import TrainBaselineRequest
from omgml.cli import baseline as cli_baseline
from omgml.cli import drift as cli_drift
from omgml.cli import install as cli_install
from omgml.cli import monitor as cli_monitor
from omgml.cli import project as cli_project
from omgml.cli import registry as cli_registry
from omgml.cli import validation as cli_validation
from omgml.cli._common import OUTPUT_OPTIONS
from omgml.drift.models import DriftRequest
from omgml.install.models import InstallRequest, SkillsInstallRequest
from omgml.mcp.tools import TOOLS
from omgml.mcp.tools import baseline as mcp_baseline
from omgml.mcp.tools import drift as mcp_drift
from omgml.mcp.tools import monitor as mcp_monitor
from omgml.mcp.tools import project as mcp_project
from omgml.mcp.tools import registry as mcp_registry
from omgml.mcp.tools import validation as mcp_validation
from omgml.monitor.models import MonitorBatchRequest
from omgml.project.models import InitRequest, StatusRequest
from omgml.registry.models import CompareModelsRequest, PromoteModelRequest, RollbackModelRequest
from omgml.validation.models import ValidateDataRequest

BOUNDS = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern")
NUMERIC = ("ge", "gt", "le", "lt")
REQUIRED = "<required>"
# typer hands an unset repeatable option over as nothing; the command sends the request's empty default.
EMPTY = "<empty>"


@dataclass(frozen=True)
class Capability:
    name: str
    request: type[BaseModel]
    cli: typing.Callable
    mcp: typing.Callable | None = None
    cli_renames: dict[str, str] = field(default_factory=dict)  # CLI parameter -> request field
    not_on_cli: frozenset[str] = frozenset()  # request fields the command does not offer, and why (in the table)
    # (field, face): bounds a face cannot share, and why.
    bounds_exempt: frozenset[tuple[str, str]] = frozenset()
    # MCP parameters that are no request field: how the MCP face presents the result, not what the service does.
    mcp_only: frozenset[str] = frozenset()


CAPABILITIES = (
    Capability("init", InitRequest, cli_project.init, mcp_project.omgml_init, {"data": "data_path"}),
    Capability("status", StatusRequest, cli_project.status, mcp_project.omgml_status),
    Capability(
        "validate",
        ValidateDataRequest,
        cli_validation.validate,
        mcp_validation.omgml_validate_data,
        {"key": "keys"},
        # The Python API also takes a DataFrame as data, so the request cannot bound it as a string; faces take a path.
        bounds_exempt=frozenset({("data", "mcp"), ("data", "cli")}),
    ),
    Capability(
        "drift",
        DriftRequest,
        cli_drift.drift,
        mcp_drift.omgml_check_drift,
        {"test": "tests", "threshold": "thresholds"},
        # The Python API also takes Spark DataFrames as the tables, so the request bounds them in its validator.
        bounds_exempt=frozenset({("reference", "mcp"), ("reference", "cli"), ("current", "mcp"), ("current", "cli")}),
        # The chart as MCP image content; the CLI and the Python API have the saved HTML report instead.
        mcp_only=frozenset({"include_image"}),
    ),
    Capability(
        "baseline",
        TrainBaselineRequest,
        cli_baseline.baseline,
        mcp_baseline.omgml_train_baseline,
        {"data": "data_path", "register": "register_model"},
        mcp_only=frozenset({"include_image"}),
    ),
    Capability("install", InstallRequest, cli_install.install),
    Capability(
        "compare",
        CompareModelsRequest,
        cli_registry.compare,
        mcp_registry.omgml_compare_models,
        {"challenger": "challengers"},
    ),
    Capability("promote", PromoteModelRequest, cli_registry.promote, mcp_registry.omgml_promote_model),
    Capability("rollback", RollbackModelRequest, cli_registry.rollback, mcp_registry.omgml_rollback_model),
    # uninstall removes whatever launcher wrote the entry: it has no launcher to choose.
    Capability("uninstall", InstallRequest, cli_install.uninstall, not_on_cli=frozenset({"launcher"})),
    Capability("skills install", SkillsInstallRequest, cli_install.skills_install, cli_renames={"client": "clients"}),
    Capability("monitor", MonitorBatchRequest, cli_monitor.monitor, mcp_monitor.omgml_monitor_batch),
)
IDS = [c.name for c in CAPABILITIES]


@dataclass(frozen=True)
class Arg:
    default: object
    bounds: dict
    description: str | None


def _bounds(info: FieldInfo) -> dict:
    return {key: getattr(m, key) for m in info.metadata for key in BOUNDS if getattr(m, key, None) is not None}


def _default(value: object) -> object:
    if value is PydanticUndefined or value is Ellipsis or value is inspect.Parameter.empty:
        return REQUIRED
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def request_args(model: type[BaseModel]) -> dict[str, Arg]:
    out = {}
    for name, info in model.model_fields.items():
        default = info.default_factory() if info.default_factory is not None else info.default
        out[name] = Arg(_default(default), _bounds(info), info.description)
    return out


def mcp_args(fn) -> dict[str, Arg]:
    hints = typing.get_type_hints(fn, include_extras=True)
    out = {}
    for name, param in inspect.signature(fn).parameters.items():
        if name == "ctx":
            continue
        info = FieldInfo.from_annotated_attribute(hints[name], param.default)
        out[name] = Arg(_default(param.default), _bounds(info), info.description)
    return out


def cli_args(cap: Capability) -> dict[str, Arg]:
    hints = typing.get_type_hints(cap.cli, include_extras=True)
    out = {}
    for name, param in inspect.signature(cap.cli).parameters.items():
        if name in OUTPUT_OPTIONS:  # --json, --html PATH: how the result is shown, not what is computed
            continue
        (info,) = [m for m in typing.get_args(hints[name])[1:] if isinstance(m, ParameterInfo)]
        bounds = {"ge": info.min, "le": info.max}
        # typer's ranges are closed: an open end (gt/lt) is a callback that refuses it.
        bounds.update(gt=getattr(info.callback, "gt", None), lt=getattr(info.callback, "lt", None))
        bounds = {k: v for k, v in bounds.items() if v is not None}
        out[cap.cli_renames.get(name, name)] = Arg(_cli_default(_default(param.default)), bounds, info.help)
    return out


def _cli_default(value: object) -> object:
    return EMPTY if value is None or value in ([], {}) else value


@pytest.mark.parametrize("cap", [c for c in CAPABILITIES if c.mcp is not None], ids=lambda c: c.name)
def test_mcp_tool_parameters_are_the_request_fields(cap):
    want, got = request_args(cap.request), mcp_args(cap.mcp)
    assert cap.mcp_only <= set(got), f"{cap.mcp.__name__} lost {cap.mcp_only - set(got)}"
    got = {name: arg for name, arg in got.items() if name not in cap.mcp_only}
    assert set(got) == set(want), f"{cap.mcp.__name__}: {set(got) ^ set(want)}"
    problems = []
    for name, arg in want.items():
        if got[name].default != arg.default:
            problems.append(f"{name}: default {got[name].default!r} != {arg.default!r}")
        if (name, "mcp") not in cap.bounds_exempt and got[name].bounds != arg.bounds:
            problems.append(f"{name}: bounds {got[name].bounds} != {arg.bounds}")
        if got[name].description != arg.description:
            problems.append(f"{name}: description {got[name].description!r} != {arg.description!r}")
    assert not problems, f"{cap.mcp.__name__}:\n" + "\n".join(problems)


@pytest.mark.parametrize("cap", CAPABILITIES, ids=IDS)
def test_cli_options_are_the_request_fields(cap):
    want = {k: v for k, v in request_args(cap.request).items() if k not in cap.not_on_cli}
    got = cli_args(cap)
    assert set(got) == set(want), f"omgml {cap.name}: {set(got) ^ set(want)}"
    problems = []
    for name, arg in want.items():
        if got[name].default != _cli_default(arg.default):
            problems.append(f"{name}: default {got[name].default!r} != {arg.default!r}")
        numeric = {k: v for k, v in arg.bounds.items() if k in NUMERIC}
        if (name, "cli") not in cap.bounds_exempt and got[name].bounds != numeric:
            problems.append(f"{name}: bounds {got[name].bounds} != {numeric}")
        # The help is the declaration's description, with at most a CLI note after it (e.g. how to repeat a flag).
        if not arg.description or not (got[name].description or "").startswith(arg.description):
            problems.append(f"{name}: help {got[name].description!r} does not start with {arg.description!r}")
    assert not problems, f"omgml {cap.name}:\n" + "\n".join(problems)


def test_every_tool_is_covered():
    assert {spec.fn.__name__ for spec in TOOLS} == {c.mcp.__name__ for c in CAPABILITIES if c.mcp is not None}


def test_every_argument_has_a_short_description():
    """Agents read these: a sentence or two, never empty."""
    for cap in CAPABILITIES:
        for name, arg in request_args(cap.request).items():
            assert arg.description and len(arg.description) <= 300, f"{cap.name}.{name}: {arg.description!r}"


def test_light_name_tuples_are_the_registries():
    """The faces list check ids from a numpy-free module: it must name exactly the registry's checks."""
    from omgml.validation.check_ids import CHECK_IDS, TARGET_CHECK_IDS
    from omgml.validation.checks import CHECKS

    assert tuple(spec.id for spec in CHECKS) == CHECK_IDS
    assert set(TARGET_CHECK_IDS) == {spec.id for spec in CHECKS if "target" in spec.needs}


def test_descriptions_list_the_registries():
    from omgml.config import METRICS
    from omgml.drift.stattests import TEST_NAMES
    from omgml.validation.check_ids import TARGET_CHECK_IDS

    tests = DriftRequest.model_fields["tests"].description
    assert all(name in tests for name in TEST_NAMES)
    for model in (InitRequest, TrainBaselineRequest):
        assert all(name in model.model_fields["metric"].description for name in METRICS)
    assert all(name in ValidateDataRequest.model_fields["target"].description for name in TARGET_CHECK_IDS)


def test_cli_open_bound_is_refused_in_words(tmp_path):
    """drift_share is gt=0: typer's closed range cannot say so, the callback does, as a usage error (exit 2)."""
    from tests.conftest import run_cli

    done = run_cli("drift", "a.csv", "b.csv", "--drift-share", "0", cwd=tmp_path)
    assert done.returncode == 2
    assert "Invalid value for '--drift-share': 0.0 is not greater than 0." in done.stderr
