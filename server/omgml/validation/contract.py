"""Data contracts: inferred from a table you trust, saved as hand-editable JSON, loaded to check new data.

A contract lives in ``.omgml/contracts/NAME.json``. Per column it records the kind, whether
missing values are allowed and how many, the range of values, the allowed categories (for
columns with at most ``MAX_CATEGORIES`` distinct values) and uniqueness. Inferred bounds are the
observed ones: widen them by hand where new data may legitimately go further. Dates are not
bounded by default (new data is always later); add ``min``/``max`` to bound them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from omgml.errors import ConfigError, InvalidInput
from omgml.validation.models import CONTRACT_NAME_PATTERN, Contract, ContractColumn
from omgml.validation.profile import ColumnRules, Profile, _jsonable
from omgml.workspace import atomic_write, omgml_dir, project_relative, resolve_inside

MAX_CATEGORIES = 50
NULL_RATE_SLACK = 0.02  # allowed missing share = observed + max(slack, half the observed)


def contracts_dir(project: Path) -> Path:
    return omgml_dir(project) / "contracts"


def infer_contract(profile: Profile, *, name: str, source: str, target: str | None, keys: list[str]) -> Contract:
    """A contract that the profiled table satisfies, with the observed bounds, categories and null rates."""
    if profile.rows == 0:
        raise InvalidInput(
            f"Cannot infer a contract from {source}: it has no rows",
            "a contract records what the data looks like, and there is nothing to look at",
            "save the contract from a table with data in it",
        )
    columns = []
    for col in profile.first_columns():  # a repeated name: the first column of that name speaks for it
        rate = col.nulls / col.rows if col.rows else 0.0
        numeric = col.kind in ("numeric", "integer") and col.physical in ("integer", "float")
        minimum = maximum = None
        if numeric and col.min is not None:
            cast = int if col.kind == "integer" else float
            minimum, maximum = cast(col.min), cast(col.max)
        categories = None
        if col.kind == "categorical" and col.counts is not None and 0 < len(col.counts) <= MAX_CATEGORIES:
            categories = sorted((_jsonable(v) for v in col.counts), key=lambda v: (str(type(v)), str(v)))
        columns.append(
            ContractColumn(
                name=col.name,
                kind=col.kind,  # type: ignore[arg-type]
                dtype=col.dtype,
                nullable=col.nulls > 0,
                null_rate=round(rate, 6),
                max_null_rate=round(min(1.0, rate + max(NULL_RATE_SLACK, rate / 2)), 6) if col.nulls else 0.0,
                min=minimum,
                max=maximum,
                categories=categories,
                unique=col.kind == "id_like" and bool(col.all_distinct),
            )
        )
    from omgml import __version__

    return Contract(
        omgml_version=__version__,
        name=name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        rows=profile.rows,
        target=target,
        keys=keys,
        columns=columns,
    )


def save_contract(project: Path, contract: Contract) -> Path:
    path = contracts_dir(project) / f"{contract.name}.json"
    atomic_write(path, json.dumps(contract.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
    return path


def contract_path(project: Path, ref: str) -> Path:
    """A contract name (``train``) or a path to a .json file, inside the project."""
    if re.fullmatch(CONTRACT_NAME_PATTERN, ref) and not ref.endswith(".json"):
        path = contracts_dir(project) / f"{ref}.json"
        if not path.is_file():
            saved = sorted(p.stem for p in contracts_dir(project).glob("*.json"))
            raise InvalidInput(
                f"There is no contract named '{ref}' ({path.relative_to(project)} does not exist)",
                f"saved contracts: {', '.join(saved)}" if saved else "no contract has been saved in this project yet",
                f"save one from data you trust: `omgml validate DATA --save-contract {ref}`",
            )
        return path
    path = resolve_inside(project, ref, "contract")
    if not path.is_file():
        raise InvalidInput(
            f"The contract file {ref} does not exist",
            "a contract is a name in .omgml/contracts/ or a path to a contract .json file",
            "check the path, or save one with --save-contract NAME",
        )
    return path


def load_contract(project: Path, ref: str) -> tuple[Contract, Path]:
    """Read and check a contract; every problem names the file and what to fix."""
    path = contract_path(project, ref)
    rel = project_relative(path, project)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The contract {rel} is not UTF-8 text", str(exc), "save it as UTF-8 JSON") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The contract {rel} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            "a contract is a JSON object written by --save-contract, maybe edited by hand",
            "fix the JSON at that place (a missing comma or quote is the usual cause), or save the contract again",
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(
            f"The contract {rel} is a JSON {type(raw).__name__}, not an object",
            "a contract is a JSON object with 'columns'",
            "save the contract again with --save-contract NAME",
        )
    try:
        contract = Contract.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'contract'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ConfigError(
            f"The contract {rel} does not have the expected fields",
            f"these are wrong: {problems}",
            "correct the named fields (see a freshly saved contract for the format)",
        ) from exc
    names = [c.name for c in contract.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(
            f"The contract {rel} lists column(s) {', '.join(repeated)} more than once",
            "each column has one set of expectations",
            "merge the entries into one per column",
        )
    for column in contract.columns:
        if (
            column.min is not None
            and column.max is not None
            and _comparable(column.min, column.max)
            and column.min > column.max
        ):
            raise ConfigError(
                f"The contract {rel} has min {column.min!r} above max {column.max!r} for column '{column.name}'",
                "no value could satisfy it",
                "swap or correct the bounds",
            )
    return contract, path


def rules_from(contract: Contract) -> dict[str, ColumnRules]:
    """What the streaming pass must count for each contract column."""
    return {
        c.name: ColumnRules(
            min=c.min,
            max=c.max,
            categories=tuple(c.categories) if c.categories is not None else None,
            dates=c.kind == "datetime",
            times=c.kind == "time",
        )
        for c in contract.columns
    }


def _comparable(a, b) -> bool:
    return isinstance(a, (int, float)) == isinstance(b, (int, float))
