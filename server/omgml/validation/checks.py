"""The registry of checks: each is a frozen ``CheckSpec`` (id, severity, what it looks at, function).

Every check is a small function of a ``CheckContext`` (the one-pass profile of the data, the
contract, the target, keys and the other table) that returns findings. ``CHECKS`` lists them in
the order they are reported among equals. A check whose inputs are missing (no contract, no
target, no rows) is skipped with the reason instead of reporting nothing. Adding a check is one
function, one ``CheckSpec`` line, and its test in ``tests/test_validation_checks.py`` (a test
fails when a check has none).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omgml.data.leakage import LEAK_SCORE
from omgml.data.tables import Table
from omgml.data.tasks import IMBALANCE_RATIO
from omgml.validation.column import MAX_EXAMPLES, ColumnProfile
from omgml.validation.hashing import NULL_HASH
from omgml.validation.models import Contract, ContractColumn, Example, Finding, Severity
from omgml.validation.profile import Profile, fetch_rows

DEFAULT_MAX_NULL_RATE = 0.3
# Severity of a broken inferred rule (contract.py infers them; docs/validation.md states the rates).
FEW_BREAKS = 3  # up to this many values past an inferred rule are never "many"
MANY_P_VALUE = 0.001  # more breaks than a Binomial(batch, unseen mass) gives with this chance are "many"
UNSEEN_MASS_CONFIDENCE = 0.99  # the unseen mass is bounded at this confidence
FAR_SPREAD = 1.0  # a value past an inferred bound by more than this times the bounds' width is "far"


@dataclass(frozen=True)
class Against:
    """The other table of an overlap test, hashed over the columns both share."""

    source: str
    hashes: Any  # sorted, distinct (numpy); on the Spark engine a DataFrame of them (column h)
    rows: int
    common: list[str]
    left_out: list[str]  # columns of data not in the other table


@dataclass
class Matches:
    """Rows matched by hash (repeats, conflicts, overlap): how many, in how many groups, and a few of them."""

    count: int
    groups: int
    rows: list[int] = field(default_factory=list)  # up to MAX_EXAMPLES 0-based row numbers (local engine)
    values: list[dict[str, Any]] = field(default_factory=list)  # or their values (Spark: rows have no numbers)


class LocalRows:
    """The row-level checks' matching on the local engine: the pass's per-row hashes, in numpy."""

    def __init__(self, profile: Profile, table: Table) -> None:
        self.profile = profile
        self.table = table

    def repeats(self, key: tuple[str, ...] | None) -> Matches:
        """Rows repeating an earlier row (``key`` None) or an earlier row's key; a key's repeats come with values."""
        hashes = self.profile.row_hashes if key is None else self.profile.key_hashes[key]
        count, later, groups = _repeats(hashes)
        rows = sorted(int(i) for i in later)[:MAX_EXAMPLES]
        values = fetch_rows(self.table, rows, list(key)) if key is not None and count else {}
        return Matches(count, groups, rows, [values.get(r, {}) for r in rows] if key is not None else [])

    def conflicts(self) -> Matches:
        """Labelled rows in groups of identical features with more than one label."""
        features, labels = self.profile.feature_hashes, self.profile.target_hashes
        if features is None or labels is None or len(features) < 2:
            return Matches(0, 0)
        labelled = np.flatnonzero(labels != NULL_HASH)
        if not len(labelled):
            return Matches(0, 0)
        f, t = features[labelled], labels[labelled]
        order = np.lexsort((t, f))
        fs, ts = f[order], t[order]
        new_group = np.concatenate([[True], fs[1:] != fs[:-1]])
        group = np.cumsum(new_group) - 1
        label_change = np.concatenate([[False], (ts[1:] != ts[:-1]) & ~new_group[1:]])
        conflicted = np.zeros(group[-1] + 1, dtype=bool)
        conflicted[group[label_change]] = True
        rows = labelled[order[conflicted[group]]]
        return Matches(len(rows), int(conflicted.sum()), sorted(int(i) for i in rows)[:MAX_EXAMPLES])

    def release(self) -> None:
        """Nothing to release: the hashes are numpy arrays (SparkRows caches its own in Spark)."""

    def overlap(self, other: Against) -> Matches:
        """Rows whose shared columns hash as a row of ``other`` does."""
        hashes = self.profile.common_hashes
        if hashes is None or not len(hashes) or other.hashes is None or not len(other.hashes):
            return Matches(0, 0)
        position = np.searchsorted(other.hashes, hashes)
        position[position >= len(other.hashes)] = 0
        inside = np.flatnonzero(other.hashes[position] == hashes)
        return Matches(len(inside), len(inside), [int(i) for i in inside[:MAX_EXAMPLES]])


@dataclass
class CheckContext:
    profile: Profile
    matcher: Any  # LocalRows, or the Spark engine's SparkRows (validation/spark_pass.py): the same methods
    contract: Contract | None = None
    target: str | None = None
    task: str | None = None  # "classification" or "regression" when there is a target
    task_reason: str = ""  # why (omgml.data.tasks' rule, or omgml.toml)
    keys: list[tuple[str, ...]] = field(default_factory=list)
    against: Against | None = None
    leakage_features: list[str] = field(default_factory=list)
    source: str = ""  # the data as the user named it (relative to the project)

    @property
    def rows(self) -> int:
        return self.profile.rows

    def ruled_columns(self) -> list[tuple[ContractColumn, ColumnProfile]]:
        """Each contract rule with the data's column of that name (rules whose column is missing are left out)."""
        pairs = [(rule, self.profile.column(rule.name)) for rule in self.contract.columns]  # type: ignore[union-attr]
        return [(rule, column) for rule, column in pairs if column is not None]

    def columns(self) -> list[ColumnProfile]:
        """One profile per distinct column name (a repeated name is reported by its own check)."""
        return self.profile.first_columns()


@dataclass(frozen=True)
class CheckSpec:
    id: str
    group: str
    severity: Severity
    looks_at: str
    fn: Callable[[CheckSpec, CheckContext], list[Finding]]
    needs: tuple[str, ...] = ()  # any of: rows, contract, target, classes, keys, against

    def finding(
        self,
        ctx: CheckContext,
        column: str | None,
        count: int,
        examples: list[Any],
        message: str,
        suggestion: str,
        *,
        example_kind: str = "values",
        denominator: int | None = None,
        fraction: float | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        base = ctx.rows if denominator is None else denominator
        return Finding(
            check=self.id,
            column=column,
            severity=severity or self.severity,
            count=int(count),
            fraction=float(fraction) if fraction is not None else (round(count / base, 6) if base else 0.0),
            examples=[_example(e) for e in examples[:MAX_EXAMPLES]],
            example_kind=example_kind,  # type: ignore[arg-type]
            message=message,
            suggestion=suggestion,
        )


def _example(value: Any) -> Example:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _example(float(value))
    return str(value)


def _pct(count: int, total: int) -> str:
    if not total:
        return "0%"
    share = 100 * count / total
    return f"{share:.2g}%" if share < 1 else f"{share:.1f}%".replace(".0%", "%")


# ---------------------------------------------------------------- schema


def duplicate_column_names(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    names = ctx.profile.names
    out = []
    for name, times in Counter(names).items():  # one pass: a table may have 100,000 columns
        if times > 1:
            out.append(
                spec.finding(
                    ctx,
                    name,
                    times,
                    [name],
                    f"The column name '{name}' appears {times} times in the header",
                    "rename the columns so every name is unique; omgml checked only the first of them",
                    example_kind="columns",
                    denominator=len(names),
                )
            )
    return out


def missing_column(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    present = set(ctx.profile.names)
    return [
        spec.finding(
            ctx,
            c.name,
            ctx.rows,
            [c.name],
            f"'{c.name}' is in the contract but not in the data",
            "restore the column upstream, or delete it from the contract if it was dropped on purpose",
            example_kind="columns",
            fraction=1.0,
        )
        for c in ctx.contract.columns  # type: ignore[union-attr]
        if c.name not in present
    ]


def unexpected_column(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    known = {c.name for c in ctx.contract.columns}  # type: ignore[union-attr]
    return [
        spec.finding(
            ctx,
            c.name,
            ctx.rows,
            [c.name],
            f"'{c.name}' is in the data but not in the contract",
            "add it to the contract if it is meant to be there (save the contract again), else drop it upstream",
            example_kind="columns",
            fraction=1.0,
        )
        for c in ctx.columns()
        if c.name not in known
    ]


def _misfits(column: ColumnProfile, expected: ContractColumn) -> tuple[int, list[Any], str]:
    """How many present values do not fit the contract's kind, examples, and what they are instead."""
    kind, physical = expected.kind, column.physical
    if physical == "null" or column.present == 0 or expected.null_rate >= 1.0:
        return 0, [], ""
    if kind in ("numeric", "integer"):
        if physical == "integer" or (physical == "float" and kind == "numeric"):
            return 0, [], ""
        if physical == "float":
            return column.fractional, column.fractional_examples, "numbers with a fractional part"
        if physical == "string":
            return column.other_text, column.other_examples, "text that is not a number"
    elif kind == "boolean":
        if physical == "boolean":
            return 0, [], ""
        if physical in ("integer", "float") and column.counts is not None:
            bad = {v: n for v, n in column.counts.items() if v not in (0, 1)}
            return sum(bad.values()), list(bad)[:MAX_EXAMPLES], "values other than 0 and 1"
    elif kind == "datetime":
        if physical == "datetime":
            return 0, [], ""
        if physical == "string":
            return column.date_bad, column.date_bad_examples, "text that is not a date"
    elif kind == "time":
        if physical == "time":
            return 0, [], ""
        if physical == "string":
            return column.time_bad, column.time_bad_examples, "text that is not a time of day (HH:MM[:SS])"
    elif kind in ("categorical", "id_like"):
        if physical in ("string", "integer", "boolean") or (physical == "float" and column.fractional == 0):
            return 0, [], ""
        if physical == "float":
            return column.fractional, column.fractional_examples, "numbers with a fractional part"
    elif kind == "text" and physical in ("string", "time"):
        return 0, [], ""  # contracts saved before the time kind recorded times of day as text
    examples = [column.min, column.max] if column.min is not None else list((column.counts or {}).keys())[:MAX_EXAMPLES]
    return column.present, examples, f"{column.dtype} values"


def dtype_mismatch(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for expected, column in ctx.ruled_columns():
        count, examples, what = _misfits(column, expected)
        if count:
            out.append(
                spec.finding(
                    ctx,
                    column.name,
                    count,
                    examples,
                    f"'{column.name}' should be {expected.kind} (contract) but {count:,} values are {what} "
                    f"(read as {column.dtype})",
                    "fix the values or the export that produced them; "
                    "if the new type is right, update the contract's kind",
                )
            )
    return out


def ragged_rows(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    ragged = ctx.profile.ragged
    if not ragged.count:
        return []
    return [
        spec.finding(
            ctx,
            None,
            ragged.count,
            ragged.examples,
            f"{ragged.count:,} line(s) have a different number of fields than the header and were skipped",
            "check quoting and the delimiter on the named lines (pass --delimiter if it was sniffed wrong)",
            example_kind="lines",
            denominator=ctx.rows + ragged.count,
        )
    ]


def single_column(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    if len(ctx.profile.names) != 1:
        return []
    name = ctx.profile.names[0]
    hint = next((d for d in (";", "\t", "|", ",") if d in name), None)
    if hint is not None:
        shown = "\\t" if hint == "\t" else hint
        message = f"The table has one column, '{name[:60]}', whose name contains '{shown}': the delimiter was probably misread"
        suggestion = f"pass the delimiter explicitly: --delimiter '{shown}'"
    else:
        message = f"The table has only one column, '{name[:60]}': there are no features beside it"
        suggestion = "check the file is the full table; if it uses an unusual delimiter, pass --delimiter"
    return [spec.finding(ctx, name, ctx.rows, [name], message, suggestion, example_kind="columns", fraction=1.0)]


# ---------------------------------------------------------------- completeness


def null_rate(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    expected = {c.name: c for c in ctx.contract.columns} if ctx.contract else {}
    out = []
    for column in ctx.columns():
        if column.name == ctx.target or column.present == 0 or column.nulls == 0:
            continue
        rate = column.nulls / column.rows
        rule = expected.get(column.name)
        limit = (rule.max_null_rate if rule.nullable else 0.0) if rule is not None else DEFAULT_MAX_NULL_RATE
        if ctx.contract is not None and rule is None:
            continue  # an unexpected column: reported by its own check
        if rate > limit:
            source = "the contract allows" if rule is not None else "the default limit is"
            out.append(
                spec.finding(
                    ctx,
                    column.name,
                    column.nulls,
                    [],
                    f"'{column.name}' is missing in {column.nulls:,} rows ({_pct(column.nulls, column.rows)}); {source} {_pct_rate(limit)}",
                    "find where the values are lost upstream; if the gaps are real, impute them (and add a missing-indicator feature)",
                    example_kind="rows",
                )
            )
    return out


def _pct_rate(rate: float) -> str:
    return f"{100 * rate:.3g}%"


def all_null_column(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    return [
        spec.finding(
            ctx,
            c.name,
            c.rows,
            [],
            f"'{c.name}' has no values at all: every row is null or NaN",
            "drop the column, or fix the extraction that should fill it (a failed join often does this)",
            example_kind="rows",
        )
        for c in ctx.columns()
        if c.rows and c.present == 0
    ]


def target_nulls(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    column = ctx.profile.column(ctx.target)  # type: ignore[arg-type]
    if column is None or not column.nulls:
        return []
    return [
        spec.finding(
            ctx,
            column.name,
            column.nulls,
            [],
            f"The target '{column.name}' is missing in {column.nulls:,} rows ({_pct(column.nulls, column.rows)})",
            "drop these rows before training (a model cannot learn from them), and find out why labels are missing",
            example_kind="rows",
        )
    ]


# ---------------------------------------------------------------- uniqueness


def _repeats(hashes: np.ndarray) -> tuple[int, np.ndarray, int]:
    """Rows repeating an earlier row's hash: their count, their 0-based indices, and how many values repeat."""
    if len(hashes) < 2:
        return 0, np.empty(0, dtype=np.int64), 0
    ordered = np.sort(hashes)  # cheaper than argsort; the order is needed only when there are repeats
    if not (ordered[1:] == ordered[:-1]).any():
        return 0, np.empty(0, dtype=np.int64), 0
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = ordered[1:] == ordered[:-1]
    later = order[1:][same]
    groups = int(np.count_nonzero(same & ~np.concatenate([[False], same[:-1]])))
    return len(later), later, groups


def _distinct_on_every_row(profile: Profile, names: tuple[str, ...] | None = None) -> bool:
    """Whether one of the columns (all when ``names`` is None) holds a different value on every row.

    Known exactly, without a sort, when the pass kept every row's hash of the column (ids, unique
    keys) and they all differ: then no two rows (or keys with that column) can repeat each other.
    """
    seen: set[str] = set()
    for column in profile.columns:
        first = column.name not in seen  # a key names the first column of a repeated name
        seen.add(column.name)
        if names is not None and (column.name not in names or not first):
            continue
        if (
            column.counts is None
            and column.distinct_exact
            and column.nulls == 0
            and column.rows == profile.rows
            and column.distinct == profile.rows
        ):
            return True
    return False


def _row_examples(matches: Matches) -> tuple[list[Any], str]:
    """1-based row numbers (local engine), or the matched rows' values (Spark engine), and their kind."""
    if matches.rows:
        return [r + 1 for r in matches.rows], "rows"
    return [_row_text(v) for v in matches.values], "values"


def _row_text(values: dict[str, Any], limit: int = 200) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in values.items())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def duplicate_rows(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    if _distinct_on_every_row(ctx.profile):
        return []
    found = ctx.matcher.repeats(None)
    if not found.count:
        return []
    examples, kind = _row_examples(found)
    return [
        spec.finding(
            ctx,
            None,
            found.count,
            examples,
            f"{found.count:,} rows ({_pct(found.count, ctx.rows)}) repeat an earlier row exactly; "
            f"{found.groups:,} distinct rows are repeated",
            "drop the repeats before splitting (df.drop_duplicates()), or they leak between train and test",
            example_kind=kind,
        )
    ]


def duplicate_keys(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for key in ctx.keys:
        if _distinct_on_every_row(ctx.profile, key):
            continue
        found = ctx.matcher.repeats(key)
        if not found.count:
            continue
        shown = [", ".join(f"{k}={v.get(k)!r}" for k in key) for v in found.values]
        examples = [f"row {r + 1}: {text}" for r, text in zip(found.rows, shown)] if found.rows else shown
        label = ", ".join(key)
        out.append(
            spec.finding(
                ctx,
                label,
                found.count,
                examples,
                f"{found.count:,} rows reuse a key ({label}) of an earlier row; {found.groups:,} key value(s) are repeated",
                "a key must identify one row: deduplicate, or include more columns in the key",
            )
        )
    return out


# ---------------------------------------------------------------- validity


def unseen_mass(values: int, cells: int) -> float:
    """An upper bound (at ``UNSEEN_MASS_CONFIDENCE``) on the probability a sample of ``values`` never reached.

    The mass beyond a sample's ``cells`` extreme values is Beta(cells, n - cells + 1) distributed whatever
    the distribution (cells=2 for both tails of a range, 1 for a category not seen): its upper quantile is
    how much of new data may legitimately fall where the sample had nothing (about 6.6/n and 4.6/n).
    """
    from scipy.stats import beta

    n = max(values, cells)
    return float(beta.ppf(UNSEEN_MASS_CONFIDENCE, cells, n - cells + 1))


def many_breaks(count: int, present: int, mass: float) -> bool:
    """Whether ``count`` of ``present`` values breaking a rule is more than a region of probability ``mass``
    yields by chance (binomial tail below ``MANY_P_VALUE``); a few values never are."""
    from scipy.stats import binom

    return count > FEW_BREAKS and float(binom.sf(count - 1, present, mass)) < MANY_P_VALUE


def range_severity(rule: ContractColumn, column: ColumnProfile) -> tuple[Severity, str]:
    """Error for any value past an exact bound; past an inferred one, error only when many or far.

    A side is inferred when the contract says ``bounds: "inferred"`` and its bound is still the one
    inference wrote (an edited bound is the user's: exact). Far is past the bound by more than
    ``FAR_SPREAD`` times the bounds' width.
    """
    sides = (
        (column.below, rule.min, rule.inferred_min, column.min, -1),
        (column.above, rule.max, rule.inferred_max, column.max, 1),
    )
    graded = rule.bounds == "inferred" and rule.values > 0
    if any(hits and not (graded and bound == inferred) for hits, bound, inferred, _, _ in sides):
        return "error", "an exact bound"
    width = rule.max - rule.min if _numbers(rule.min, rule.max) else 0
    spread = width or max(abs(next(b for b in (rule.max, rule.min) if b is not None)), 1.0)
    furthest = max(sign * (extreme - bound) for hits, bound, _, extreme, sign in sides if hits)
    if furthest > FAR_SPREAD * spread:
        return "error", f"up to {furthest:.4g} past it, more than {FAR_SPREAD:g}x the range's own width"
    count = column.below + column.above
    if many_breaks(count, column.present, unseen_mass(rule.values, 2)):
        return (
            "error",
            f"more than chance allows beyond the extremes of the {rule.values:,} values it was inferred from",
        )
    return "warning", f"just past it, as new data may fall beyond the {rule.values:,} values it was inferred from"


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _bound(value: Any, none: str) -> str:
    """A bound as the message prints it: as written when short (0.0, 10.5), else to 4 significant digits.

    An inferred bound is a computed float (863.6071012036132); its exact value stays in the contract and in the
    column summary's bounds.
    """
    if value is None:
        return none
    if not isinstance(value, float) or not np.isfinite(value) or value.is_integer() or float(f"{value:.4g}") == value:
        return str(value)
    return f"{value:.0f}" if 1e4 <= abs(value) < 1e15 else f"{value:.4g}"


def out_of_range(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for rule, column in ctx.ruled_columns():
        if not (column.below or column.above):
            continue
        count = column.below + column.above
        severity, how = range_severity(rule, column)
        bounds = f"[{_bound(rule.min, '-inf')}, {_bound(rule.max, 'inf')}]"
        which = "exact" if how == "an exact bound" else "inferred"
        suggestion = "check these values at the source; if they are legitimate, widen min/max in the contract"
        if severity == "warning":
            suggestion = "widen min/max in the contract if they are legitimate (an edited bound is checked exactly)"
        out.append(
            spec.finding(
                ctx,
                column.name,
                count,
                column.range_examples,
                f"{count:,} values of '{column.name}' fall outside the contract's {which} range {bounds} "
                f"({column.below:,} below, {column.above:,} above)" + ("" if which == "exact" else f": {how}"),
                suggestion,
                severity=severity,
            )
        )
    return out


def unseen_severity(rule: ContractColumn, column: ColumnProfile) -> Severity:
    """Error for a value outside an exact allow-list; outside an inferred one, error only when many.

    The allow-list is inferred when the contract says so and still lists exactly the categories its
    frequencies counted. New values may legitimately take the mass the sample left unseen: its
    Good-Turing estimate, or the bound ``unseen_mass`` puts on it, whichever is larger.
    """
    inferred = rule.frequencies is not None and set(rule.categories or ()) == {v for v, _ in rule.frequencies}
    if not (rule.bounds == "inferred" and rule.values > 0 and inferred):
        return "error"
    mass = max(rule.new_category_rate or 0.0, unseen_mass(rule.values, 1))
    return "error" if many_breaks(column.unseen_total, column.present, mass) else "warning"


def unseen_category(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for rule, column in ctx.ruled_columns():
        if not column.unseen_total:
            continue
        top = sorted(column.unseen.items(), key=lambda kv: (-kv[1], str(kv[0])))
        severity = unseen_severity(rule, column)
        suggestion = "map them to known categories (or 'other'); if they are new and valid, add them to the contract's categories"
        if severity == "warning":
            suggestion = (
                "rare categories the sample did not show: if they are valid, add them to the contract's categories"
            )
        out.append(
            spec.finding(
                ctx,
                column.name,
                column.unseen_total,
                [v for v, _ in top],
                f"{column.unseen_total:,} values of '{column.name}' are categories the contract does not allow "
                f"({len(column.unseen):,} distinct, e.g. {', '.join(repr(v) for v, _ in top[:3])})",
                suggestion,
                severity=severity,
            )
        )
    return out


def infinite_values(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    return [
        spec.finding(
            ctx,
            c.name,
            c.inf,
            c.inf_examples,
            f"'{c.name}' holds {c.inf:,} infinite values ({_pct(c.inf, c.rows)})",
            "infinities usually come from a division by zero upstream: fix it there, or replace them with null",
        )
        for c in ctx.columns()
        if c.inf
    ]


def mixed_types(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for c in ctx.columns():
        if c.physical != "string" or not c.numeric_text or not c.other_text:
            continue
        if c.numeric_text >= c.other_text:
            count, examples = c.other_text, c.other_examples
            message = f"'{c.name}' is numbers stored as text: {c.numeric_text:,} values are numbers but {c.other_text:,} are not"
            suggestion = "convert it to numbers; the other values (often markers such as 'n/a') should become null"
        else:
            count, examples = c.numeric_text, c.numeric_examples
            message = f"'{c.name}' is text with {c.numeric_text:,} bare numbers among {c.other_text:,} other values"
            suggestion = "check whether the numbers are codes or entry errors, and make the column one type"
        out.append(spec.finding(ctx, c.name, count, examples, message, suggestion))
    return out


def _normal(value: str) -> str:
    return " ".join(value.split()).casefold()


def category_variants(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for c in ctx.columns():
        if c.physical != "string" or c.counts is None:
            continue
        groups: dict[str, list[tuple[str, int]]] = {}
        for value, count in c.counts.items():
            groups.setdefault(_normal(value), []).append((value, count))
        variants = [sorted(g, key=lambda vc: -vc[1]) for g in groups.values() if len(g) > 1]
        if not variants:
            continue
        variants.sort(key=lambda g: -sum(n for _, n in g))
        count = sum(n for g in variants for _, n in g[1:])
        examples = [v for g in variants for v, _ in g][:MAX_EXAMPLES]
        shown = " / ".join(repr(v) for v, _ in variants[0][:3])
        out.append(
            spec.finding(
                ctx,
                c.name,
                count,
                examples,
                f"'{c.name}' spells {len(variants):,} categor{'y' if len(variants) == 1 else 'ies'} in several ways "
                f"({shown}); {count:,} rows use a less common spelling",
                "normalise the values (strip spaces, one case) before encoding, or the model sees them as different",
            )
        )
    return out


def unparseable_dates(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for c in ctx.columns():
        if c.physical != "string" or not c.date_like or not c.date_bad or c.date_ok < c.date_bad:
            continue
        out.append(
            spec.finding(
                ctx,
                c.name,
                c.date_bad,
                c.date_bad_examples,
                f"'{c.name}' holds dates, but {c.date_bad:,} of {c.present:,} values do not read as a valid date",
                "fix or null these values, then parse the column as a date with one explicit format",
            )
        )
    return out


# ---------------------------------------------------------------- informativeness


def constant_column(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    out = []
    for c in ctx.columns():
        if c.rows > 1 and c.present > 0 and c.counts is not None and len(c.counts) == 1:
            value = next(iter(c.counts))
            out.append(
                spec.finding(
                    ctx,
                    c.name,
                    c.present,
                    [value],
                    f"'{c.name}' has one value ({value!r}) in every row where it is present",
                    "drop it: a column that never changes cannot help a model",
                )
            )
    return out


def id_like_column(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    keys = {name for key in ctx.keys for name in key}
    out = []
    for c in ctx.columns():
        if c.kind != "id_like" or c.name == ctx.target or c.name in keys:
            continue
        examples = (
            list(c.counts)[:MAX_EXAMPLES] if c.counts is not None else [c.min, c.max] if c.min is not None else []
        )
        out.append(
            spec.finding(
                ctx,
                c.name,
                c.present,
                examples,
                f"'{c.name}' looks like an identifier: all {c.present:,} values are different",
                "keep it out of the model's features (it cannot generalise); use it as a key (--key) if it is one",
            )
        )
    return out


# ---------------------------------------------------------------- ML


def class_imbalance(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    column = ctx.profile.column(ctx.target)  # type: ignore[arg-type]
    if column is None or column.counts is None or len(column.counts) < 2:
        return []
    ranked = sorted(column.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    (top, most), (rare, least) = ranked[0], ranked[-1]
    if most < IMBALANCE_RATIO * least:
        return []
    present = sum(column.counts.values())
    return [
        spec.finding(
            ctx,
            column.name,
            least,
            [f"{v!r}: {n:,}" for v, n in reversed(ranked)],
            f"The target is imbalanced: class {rare!r} has {least:,} rows ({_pct(least, present)}), "
            f"class {top!r} has {most:,} ({most / least:.0f}x as many)",
            "use stratified splits and a metric that sees small classes (average_precision, balanced_accuracy, f1_macro)",
            denominator=present,
        )
    ]


def label_conflict(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    found = ctx.matcher.conflicts()
    if not found.count:
        return []
    ids = ctx.profile.id_columns
    ignoring = f", ignoring the key and id-like column(s) {', '.join(ids)}" if ids else ""
    examples, kind = _row_examples(found)
    return [
        spec.finding(
            ctx,
            ctx.target,
            found.count,
            examples,
            f"{found.count:,} rows in {found.groups:,} group(s) have identical features but different labels "
            f"for '{ctx.target}'{ignoring}",
            "check the labelling of these rows; if both labels are real, a feature that tells them apart is missing",
            example_kind=kind,
        )
    ]


def target_leakage(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    from omgml.data.leakage import find_leaks

    sample = ctx.profile.sample
    if sample is None or not ctx.leakage_features:
        return []
    leaks = find_leaks(sample, ctx.target, ctx.leakage_features, ctx.task == "classification", ctx.rows)  # type: ignore[arg-type]
    return [
        spec.finding(
            ctx,
            leak.columns[0],
            leak.rows,
            list(leak.columns) if len(leak.columns) > 1 else [],
            leak.message,
            "check whether this column is known before the prediction is made; if it is derived from the target, drop it"
            if len(leak.columns) == 1
            else "check whether these columns are known before the prediction is made; if the target is computed "
            "from them, drop one",
            example_kind="columns" if len(leak.columns) > 1 else "rows",
            fraction=round(leak.score, 6),
        )
        for leak in leaks
    ]


def train_test_overlap(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    other = ctx.against
    if other is None:
        return []
    found = ctx.matcher.overlap(other)
    if not found.count:
        return []
    ids = ctx.profile.id_columns
    ignoring = (
        f" (ignoring the key and id-like column(s) {', '.join(i for i in ids if i in other.common)})"
        if any(i in other.common for i in ids)
        else ""
    )
    left = f"; compared on the {len(other.common)} shared columns" if other.left_out else ""
    examples, kind = _row_examples(found)
    return [
        spec.finding(
            ctx,
            None,
            found.count,
            examples,
            f"{found.count:,} rows ({_pct(found.count, ctx.rows)}) also appear in {other.source}{ignoring}{left}",
            "remove them from one side (split before any resampling, and deduplicate first), or the evaluation is optimistic",
            example_kind=kind,
        )
    ]


def empty_dataset(spec: CheckSpec, ctx: CheckContext) -> list[Finding]:
    if ctx.rows:
        return []
    return [
        spec.finding(
            ctx,
            None,
            0,
            [],
            f"{ctx.source or ctx.profile.source} has a header but no data rows",
            "check the export or query that wrote the file; an empty table cannot be trained on",
            example_kind="rows",
            fraction=1.0,
        )
    ]


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("empty_dataset", "ml", "error", "the number of data rows", empty_dataset),
    CheckSpec("duplicate_column_names", "schema", "error", "the header's column names", duplicate_column_names),
    CheckSpec("ragged_rows", "schema", "error", "csv lines whose field count differs from the header", ragged_rows),
    CheckSpec(
        "missing_column", "schema", "error", "contract columns absent from the data", missing_column, ("contract",)
    ),
    CheckSpec(
        "unexpected_column",
        "schema",
        "warning",
        "data columns absent from the contract",
        unexpected_column,
        ("contract",),
    ),
    CheckSpec(
        "dtype_mismatch",
        "schema",
        "error",
        "each value against the contract column's kind",
        dtype_mismatch,
        ("contract", "rows"),
    ),
    CheckSpec("single_column", "schema", "warning", "the number of columns (a misread delimiter)", single_column),
    CheckSpec(
        "target_nulls", "completeness", "error", "missing values in the target", target_nulls, ("rows", "target")
    ),
    CheckSpec("all_null_column", "completeness", "warning", "columns with no value at all", all_null_column, ("rows",)),
    CheckSpec(
        "null_rate",
        "completeness",
        "warning",
        f"each column's missing share against the contract (or {DEFAULT_MAX_NULL_RATE:.0%} without one)",
        null_rate,
        ("rows",),
    ),
    CheckSpec(
        "duplicate_keys",
        "uniqueness",
        "error",
        "rows sharing a key (--key, or the contract's keys and unique columns)",
        duplicate_keys,
        ("rows", "keys"),
    ),
    CheckSpec(
        "duplicate_rows",
        "uniqueness",
        "warning",
        "rows identical to an earlier row in every column",
        duplicate_rows,
        ("rows",),
    ),
    CheckSpec("infinite_values", "validity", "error", "+inf and -inf in decimal columns", infinite_values, ("rows",)),
    CheckSpec(
        "out_of_range",
        "validity",
        "error",
        "numbers and dates against the contract's min and max (a few just past an inferred bound: warning)",
        out_of_range,
        ("contract", "rows"),
    ),
    CheckSpec(
        "unseen_category",
        "validity",
        "error",
        "values against the contract's categories (a few rare new values in an inferred list: warning)",
        unseen_category,
        ("contract", "rows"),
    ),
    CheckSpec(
        "mixed_types", "validity", "warning", "text columns mixing numbers and other text", mixed_types, ("rows",)
    ),
    CheckSpec(
        "category_variants",
        "validity",
        "warning",
        "text columns with up to 1,000 distinct values, compared without case and spaces",
        category_variants,
        ("rows",),
    ),
    CheckSpec(
        "unparseable_dates", "validity", "warning", "text columns that mostly hold dates", unparseable_dates, ("rows",)
    ),
    CheckSpec(
        "target_leakage",
        "ml",
        "error",
        "each feature alone (and each pair of numbers summed) giving the target away: an exact transform, "
        f"threshold or recoding, or a cross-validated score of at least {LEAK_SCORE} on a row sample",
        target_leakage,
        ("rows", "target"),
    ),
    CheckSpec(
        "train_test_overlap",
        "ml",
        "error",
        "rows of the data also present in --against",
        train_test_overlap,
        ("rows", "against"),
    ),
    CheckSpec(
        "label_conflict",
        "ml",
        "warning",
        "rows with identical features and different class labels (a number target varies by noise, not conflict)",
        label_conflict,
        ("rows", "target", "classes"),
    ),
    CheckSpec(
        "class_imbalance",
        "ml",
        "info",
        f"the class counts of a class target (majority at least {IMBALANCE_RATIO:.0f}x the minority)",
        class_imbalance,
        ("rows", "target", "classes"),
    ),
    CheckSpec("constant_column", "informativeness", "warning", "columns with one value", constant_column, ("rows",)),
    CheckSpec(
        "id_like_column", "informativeness", "info", "columns whose values are all different", id_like_column, ("rows",)
    ),
)

CHECK_IDS: tuple[str, ...] = tuple(spec.id for spec in CHECKS)
