"""The fuzzing suite's parts (tests/test_fuzz.py drives them): hostile files, argument strategies derived from each
tool's input schema, the stdio server behind a blocking portal, the judge of each reply, and the tally."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------------------------
# The workspace: one scaffolded project holding the hostile corpus, beside projects whose config or store is bad,
# and an "outside" folder next to the workspace that symlinks point at (it must never change).

MAIN = "proj"
ROWS = "".join(f"{i % 7},{'ab'[i % 3 == 0]},{i % 2}\n" for i in range(40))
GOOD_CSV = "x,c,y\n" + ROWS


def _deep_json(depth: int) -> str:
    return '{"a": ' + "[" * depth + "]" * depth + "}"


def _parquet(path: Path, table: dict[str, list]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(table), path, compression="snappy")


def _corrupt_parquet(path: Path) -> None:
    """A real snappy parquet file with its data pages overwritten: the footer still says where they are."""
    _parquet(
        path, {"x": list(range(2000)), "s": [f"v{i % 50}" for i in range(2000)], "y": [i % 2 for i in range(2000)]}
    )
    raw = bytearray(path.read_bytes())
    for i in range(200, min(len(raw) - 400, 6000)):
        raw[i] = (raw[i] * 31 + 7) % 256
    path.write_bytes(bytes(raw))


# name under data/ -> how to make it. Every kind of hostile file issue 13 lists, plus good tables so calls get deep.
def corpus_files(outside: Path) -> dict[str, Any]:
    return {
        "good.csv": GOOD_CSV,
        "good_current.csv": "x,c,y\n" + "".join(f"{i % 5},{'abc'[i % 3]},{i % 2}\n" for i in range(40)),
        "good.jsonl": "".join(json.dumps({"x": i % 7, "c": "ab"[i % 2], "y": i % 2}) + "\n" for i in range(40)),
        "good.parquet": lambda p: _parquet(p, {"x": [i % 7 for i in range(40)], "y": [i % 2 for i in range(40)]}),
        "deep.jsonl": _deep_json(20000) + "\n",  # segfaulted pyarrow's JSON reader (issue 13)
        "deep10k.jsonl": '{"x": 1, "y": 0}\n' + _deep_json(10000) + "\n",  # hung ~220 s
        "utf16.csv": GOOD_CSV.encode("utf-16-le"),  # no BOM
        "dup.csv": "a,a,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)),
        "bigfield.csv": "x,y\n" + "a" * (200 * 1024) + ",1\n2,0\n",
        "corrupt.parquet": _corrupt_parquet,
        "nested.parquet": lambda p: _parquet(
            p, {"l": [[1, 2], [3], []] * 10, "s": [{"k": 1}, {"k": 2}, {"k": None}] * 10, "y": [0, 1, 1] * 10}
        ),
        "loop.csv": "symlink:loop.csv",
        "outside.csv": f"symlink:{outside / 'secret.csv'}",
        "empty.csv": "",
        "header_only.csv": "x,c,y\n",
        "garbage.csv": bytes((i * 7919 + 13) % 256 for i in range(4096)),
        "garbage.parquet": b"PAR1" + bytes((i * 104729) % 256 for i in range(2048)) + b"PAR1",
        "nul.csv": "x,y\n1\x00,0\n2,1\n",
        "semicolon.csv": GOOD_CSV.replace(",", "é"),  # a non-ASCII delimiter
        "one_col.csv": "y\n" + "".join(f"{i % 2}\n" for i in range(20)),
        "wide.csv": ",".join(f"c{i}" for i in range(300)) + ",y\n" + ",".join("1" * 300) + ",0\n",
    }


STORE_FILES = {
    ".omgml/fingerprints.json": "{not json",  # status and baseline failed until it was deleted by hand
    ".omgml/contracts/deep.json": '{"columns": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ".omgml/contracts/broken.json": '{"columns": [',
    ".omgml/contracts/list.json": "[1, 2, 3]",
    ".omgml/references/deep.json": "[" * 100_000 + "]" * 100_000,
    ".omgml/references/broken.json": "{",
    ".omgml/contracts/out.json": "symlink:{outside}/contract.json",  # read from outside the root
    ".omgml/references/out.json": "symlink:{outside}/reference.json",
}

# Projects whose configuration or store is hostile; each holds a copy of data/good.csv.
VARIANTS: dict[str, dict[str, Any]] = {
    "p_badtoml": {"omgml.toml": "[project\nname = "},
    "p_projstr": {"omgml.toml": 'project = "x"\n'},
    "p_del": {"omgml.toml": '[project]\nname = "a\x7fb"\ntask = "binary"\ntarget = "y"\n'},
    "p_omgml_file": {".omgml": "not a folder"},
    "p_omgml_link": {".omgml": "symlink:{outside}/store"},
    "p_reports_link": {".omgml/reports": "symlink:{outside}/reports"},
    "p_src_link": {"src": "symlink:{outside}/src"},
    "p_tracking_out": {"omgml.toml": "TRACKING_OUT"},
    "p_mlflow_dir": {"mlflow.db/x": "a folder where the store's file goes"},  # stalled status ~100 s
}


def write_file(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str) and content.startswith("symlink:"):
        path.symlink_to(content.removeprefix("symlink:"))
    elif callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def build_workspace(base: Path) -> tuple[Path, Path]:
    """``base/root`` (the workspace) and ``base/outside``; the main project is scaffolded by omgml itself."""
    from omgml import init_project

    root, outside = base / "root", base / "outside"
    for folder in ("store", "reports", "src"):
        (outside / folder).mkdir(parents=True)
    (outside / "secret.csv").write_text(GOOD_CSV)
    (outside / "store" / "keep.txt").write_text("outside\n")
    (outside / "contract.json").write_text('{"columns": []}')
    (outside / "reference.json").write_text("{}")
    root.mkdir()
    init_project({"project_dir": str(root / MAIN), "task": "binary", "target": "y", "name": "Fuzz"})
    for name, content in corpus_files(outside).items():
        write_file(root / MAIN / "data" / name, content)
    for name, content in STORE_FILES.items():
        write_file(root / MAIN / name, content.replace("{outside}", str(outside)))
    for project, files in VARIANTS.items():
        write_file(root / project / "data" / "good.csv", GOOD_CSV)
        for name, content in files.items():
            if content == "TRACKING_OUT":
                toml = (root / MAIN / "omgml.toml").read_text()
                content = toml.replace('uri = "sqlite:///mlflow.db"', f'uri = "sqlite:///{outside}/mlflow.db"')
                assert content != toml
            elif isinstance(content, str):
                content = content.replace("{outside}", str(outside))
            write_file(root / project / name, content)
    return root, outside


def corpus_calls() -> list[tuple[str, dict, bool]]:
    """Every hostile file meets every reader once, whatever hypothesis draws: each table through validation and
    drift, the broken store files by name, each bad project through every tool, baseline on the tables that broke
    it. The flag says the call must be refused (it reads outside the root): a result is then a failure too."""
    calls: list[tuple[str, dict, bool]] = []
    for path in CORPUS_PATHS:
        outside = path == "data/outside.csv"
        calls.append(("omgml_validate_data", {"project_dir": MAIN, "data": path, "target": "y"}, outside))
        calls.append(
            ("omgml_check_drift", {"project_dir": MAIN, "reference": "data/good.csv", "current": path}, outside)
        )
        calls.append(("omgml_monitor_batch", {"project_dir": MAIN, "batch": path}, outside))
    for name in ("deep", "broken", "list", "out"):
        args = {"project_dir": MAIN, "data": "data/good.csv", "contract": name}
        calls.append(("omgml_validate_data", args, name == "out"))
    for name in ("deep", "broken", "out"):
        args = {"project_dir": MAIN, "reference": name, "current": "data/good.csv"}
        calls.append(("omgml_check_drift", args, name == "out"))
    for project in VARIANTS:
        calls.append(("omgml_status", {"project_dir": project}, False))
        calls.append(("omgml_init", {"project_dir": project, "task": "binary", "target": "y"}, False))
        calls.append(
            ("omgml_validate_data", {"project_dir": project, "data": "data/good.csv", "save_contract": "c"}, False)
        )
        args = {"project_dir": project, "reference": "data/good.csv", "save_reference": "r"}
        calls.append(("omgml_check_drift", args, False))
        calls.append(("omgml_monitor_batch", {"project_dir": project, "batch": "data/good.csv"}, False))
    calls.append(("omgml_status", {"project_dir": MAIN}, False))  # reads the malformed fingerprints.json
    for path, project in [("data/good.csv", MAIN), ("data/dup.csv", MAIN), ("data/good.csv", "p_tracking_out")]:
        args = {"project_dir": project, "data_path": path, "cv": 2, "models": ["dummy"]}
        calls.append(("omgml_train_baseline", args, False))
    return calls


# ---------------------------------------------------------------------------------------------------------------
# Arguments: a strategy per tool, derived from its input schema; string fields draw from pools picked by name.

HOSTILE = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    "/",
    ".",
    "",
    " ",
    "a\x00b",
    "x" * 256,
    "d/" + "x" * 256 + "/f.csv",
    "x'; y",
    'My "best" model',
    'x"""',
    "'''",
    "C:\\Users\\new",
    "line\nbreak",
    "tab\there",
    "\u202eevil",
    "名前",
    "😀",
    "NaN",
    "-1",
    "9" * 400,
    "~/x",
    "~nosuchuser/x",
    "$HOME",
    "%s%n",
    "{{7*7}}",
    "\x7f",
    "data/*.csv",
    "x/../../..",
    "data/../../outside/secret.csv",
    "sqlite:////tmp/x.db",
    "x" * 1000,
]
CORPUS_PATHS = [f"data/{name}" for name in corpus_files(Path("/x"))]
PROJECTS = [".", MAIN, *VARIANTS, "new_a", "new_b", "p_missing/deeper"]
COLUMNS = ["x", "c", "y", "a", "l", "s", "missing", "X", "y "]
METRICS = ["roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "log_loss", "average_precision", "rmse", "mae", "r2"]
STAT_TESTS = ["ks", "chi2", "z", "wasserstein", "psi", "jensenshannon", "hellinger", "kl_div", "cramer_von_mises"]

# field name -> the values worth trying there (hostile ones are added to every string field)
POOLS: dict[str, list[str]] = {
    "project_dir": [MAIN] * 6 + PROJECTS,  # weighted: most calls reach the project with the corpus
    "data": CORPUS_PATHS,
    "data_path": CORPUS_PATHS,
    "reference": [*CORPUS_PATHS, "good", "deep", "broken"],
    "current": CORPUS_PATHS,
    "against": CORPUS_PATHS,
    "contract": ["good", "deep", "broken", "list", "missing", ".omgml/contracts/deep.json", "data/good.csv"],
    "target": COLUMNS,
    "prediction": COLUMNS,
    "time_column": COLUMNS,
    "group_column": COLUMNS,
    "keys": COLUMNS,
    "columns": COLUMNS,
    "tests": STAT_TESTS + ["anderson", "bogus"],
    "metric": METRICS + ["bogus"],
    "encoding": ["utf-8", "latin-1", "utf-16", "utf-16-le", "bogus", "utf-8-sig", "zip", "rot13", "idna"],
    "delimiter": [",", ";", "\t", "|", "é", "\x00", "\n", '"', "a"],
    "window": ["1h", "1D", "7D", "1W", "bogus", "0D", "-1D", "999999999999D"],
    "model_name": ["m", "x'; y", "a/b", "a:b", "名前", "x" * 200],
}
# Baseline runs cross-validation and MLflow: keep each call small so the suite stays within its time.
# Most calls train on a good table, so the hostile part (a model name, a column, a seed) reaches MLflow.
BASELINE_LIMITS: dict[str, Any] = {
    "project_dir": st.sampled_from([MAIN] * 4 + ["p_tracking_out", *HOSTILE[:3]]),
    "data_path": st.sampled_from(["data/good.csv", "data/good.parquet", "data/good.jsonl", "data/nested.parquet"]),
    "cv": st.integers(2, 3),
    "models": st.one_of(st.none(), st.lists(st.sampled_from(["dummy", "linear"]), max_size=2)),
    "time_budget": st.floats(1, 30),
    "max_rows": st.one_of(st.none(), st.integers(2, 60), st.just(10**30)),
}


def strategy_for(schema: dict, name: str = "", overrides: dict | None = None) -> st.SearchStrategy:
    """Values valid under ``schema`` (the subset pydantic writes for omgml's tools), hostile where strings go;
    ``overrides`` replaces the strategy of named properties."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:  # an optional value: null one time in four, so the value itself gets tried
        branches = [strategy_for(s, name) for s in schema["anyOf"] if s.get("type") != "null"]
        nulls = [st.none()] if len(branches) < len(schema["anyOf"]) else []
        return st.one_of(*branches * 3, *nulls)
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        edges = [v for v in (low, high, 10**30 if high is None else None) if v is not None]
        return st.one_of(st.integers(low, high), st.sampled_from(edges)) if edges else st.integers()
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        return st.floats(
            min_value=low,
            max_value=schema.get("maximum"),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        return _string(schema, name)
    if kind == "array":
        size = {"min_size": schema.get("minItems", 0), "max_size": min(schema.get("maxItems", 4), 4)}
        return st.lists(strategy_for(schema.get("items", {}), name), **size)
    if kind == "object" and "properties" in schema:
        return _arguments(schema, overrides or {})
    if kind == "object":
        values = strategy_for(schema.get("additionalProperties", {}), name)
        return st.dictionaries(st.sampled_from(COLUMNS + HOSTILE[:12]), values, max_size=3)
    raise AssertionError(f"the fuzzer has no strategy for the schema of {name!r}: {schema}")


# Optional arguments a call usually carries; the rest come two at most per call, so a call that is hostile in one
# argument is ordinary in the others and gets past the first check to the code behind it.
USUAL = {"project_dir", "current", "data_path", "target"}


def _arguments(schema: dict, overrides: dict) -> st.SearchStrategy:
    props = {k: overrides[k] if k in overrides else strategy_for(v, k) for k, v in schema["properties"].items()}
    required = set(schema.get("required", []))
    usual = [k for k in props if k not in required and k in USUAL]
    rare = [k for k in props if k not in required and k not in USUAL]

    @st.composite
    def draw(draw_one: Any) -> dict:
        chosen = [k for k in usual if draw_one(st.integers(0, 9)) < 8]
        chosen += draw_one(st.lists(st.sampled_from(rare), max_size=2, unique=True)) if rare else []
        return {k: draw_one(props[k]) for k in props if k in required or k in chosen}

    return draw()


def _string(schema: dict, name: str) -> st.SearchStrategy:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    usual = [v for v in POOLS.get(name, []) if low <= len(v) <= high]
    hostile = [v for v in HOSTILE if low <= len(v) <= high]
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        named = [v for v in ["good", "deep", "broken", "x", "a.b-c"] if pattern.fullmatch(v)]
        return st.one_of(*[st.sampled_from(named)] if named else [], st.from_regex(pattern, fullmatch=True))
    text = st.text(st.characters(codec="utf-8"), min_size=low, max_size=min(high, 40))
    # Named values three times in five (when the field has any), hostile ones and random text the rest.
    return st.one_of(*[st.sampled_from(usual)] * 3 if usual else [], st.sampled_from(hostile), text)


def arguments_for(tool: Any) -> st.SearchStrategy:
    """The strategy for one tool's arguments: its schema's, with baseline's costly knobs kept small."""
    limits = BASELINE_LIMITS if tool.name == "omgml_train_baseline" else {}
    return strategy_for(full_input_schemas()[tool.name], tool.name, limits)


@functools.cache
def full_input_schemas() -> dict[str, dict]:
    """Each tool's input schema as the server validates it (bounds, patterns): tools/list publishes a leaner one."""
    import anyio
    from mcp.server.mcpserver import MCPServer

    from omgml.mcp.server import build_server

    return {tool.name: tool.input_schema for tool in anyio.run(MCPServer.list_tools, build_server())}


# ---------------------------------------------------------------------------------------------------------------
# The judge and the tally.

UNEXPECTED = re.compile(r"^Error executing tool \w+$")


def judge(result: Any, arguments: dict) -> tuple[str, str] | None:
    """A failure (kind, detail) for a reply that is not a result or a readable tool error; None when it is."""
    text = "".join(getattr(c, "text", "") for c in result.content)
    if not result.is_error:
        return None if result.structured_content is not None else ("no structured content", text[:300])
    echoed = "".join(str(v) for v in _strings(arguments))
    if UNEXPECTED.match(text.strip()) or "failed unexpectedly" in text:
        return "unhandled exception", text[:400]
    if "Traceback (most recent call last)" in text:
        return "traceback in the error", text[:400]
    if "validation error for" in text:
        return "SDK rejected schema-valid arguments", text[:400]
    if text.count("\n") > echoed.count("\n") or len(text) > 1500 + 2 * len(repr(echoed)):
        return "unreadable error", text[:400]
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class Failure:
    kind: str
    tool: str
    arguments: dict
    detail: str

    def line(self) -> str:
        arguments = ", ".join(f"{k}={_short(v)}" for k, v in self.arguments.items())
        detail = re.sub(r"^Error executing tool \w+: ", "", self.detail)
        return f"    {self.kind}: {self.tool}({arguments}) -> {detail}"


def _short(value: Any) -> str:
    """A value as JSON, a long string cut to its head and its length, so a failure line stays readable."""
    if isinstance(value, str) and len(value) > 40:
        return json.dumps(value[:24]) + f"...({len(value)} chars)"
    return json.dumps(value)


@dataclass
class Tally:
    calls: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    failed_calls: set[int] = field(default_factory=set)
    outcomes: Counter = field(default_factory=Counter)  # (tool, "result" or the error's first words): the reach
    seconds: float = 0.0

    def summary(self) -> str:
        total = sum(self.calls.values())
        failed_calls = len(self.failed_calls)
        kinds = Counter(f.kind for f in self.failures)
        lines = [
            f"fuzz: {total} calls, {total - failed_calls} clean, {len(self.failures)} failures"
            + (f" ({', '.join(f'{n} {k}' for k, n in kinds.most_common())})" if kinds else "")
            + f" in {self.seconds:.0f} s; per tool: "
            + ", ".join(f"{t} {n}" for t, n in self.calls.items())
        ]
        seen: Counter = Counter()
        for failure in self.failures:  # the first few of each kind and tool, enough to reproduce
            seen[failure.kind, failure.tool] += 1
            if seen[failure.kind, failure.tool] <= 3:
                lines.append(failure.line())
        return "\n".join(lines)


LAST_RUN: list[Tally] = []  # the test's run, for the session's closing summary (tests/conftest.py)


# ---------------------------------------------------------------------------------------------------------------
# The server: the real stdio process, the official SDK client, driven from sync code through a blocking portal.


class StdioHarness:
    """One ``python -m omgml.mcp.server`` child and its ``mcp.Client``; restarted when the server dies or stalls."""

    SERVE = "from omgml.mcp.server import main\nmain()\n"

    def __init__(
        self, root: Path, home: Path, stderr_path: Path, tally: Tally, timeout: float = 15, code: str = SERVE
    ) -> None:
        self.root, self.home, self.stderr_path, self.tally, self.timeout = root, home, stderr_path, tally, timeout
        self.code = code  # what the child runs: the real server, or (testing the harness) a broken one
        self.protocol_faults: list[str] = []
        self.created: set[str] = set()  # what omgml_init reported creating, relative to the root: allowed to appear
        self.starts = 0
        self._portal_cm = self._client_cm = None

    def start(self) -> None:
        from anyio.from_thread import start_blocking_portal
        from mcp import Client, StdioServerParameters
        from mcp.client.stdio import stdio_client

        env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "CLAUDE_PROJECT_DIR")}
        env.update(OMGML_PROJECT_DIR=str(self.root), HOME=str(self.home), PYTHONFAULTHANDLER="1")
        params = StdioServerParameters(command=sys.executable, args=["-c", self.code], env=env)
        self._errlog = open(self.stderr_path, "a", encoding="utf-8")  # noqa: SIM115 -- open while the server runs
        self._errlog.write(f"\n=== server start {self.starts} ===\n")
        self._errlog.flush()
        self.starts += 1

        async def on_message(message: Any) -> None:  # a transport fault: a line on stdout that is not JSON-RPC
            if isinstance(message, Exception):
                self.protocol_faults.append(repr(message)[:300])

        self._portal_cm = start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        client = Client(stdio_client(params, errlog=self._errlog), mode="legacy", message_handler=on_message)
        self._client_cm = self.portal.wrap_async_context_manager(client)
        self.client = self._client_cm.__enter__()
        self.tools = self.portal.call(self.client.list_tools).tools

    def stop(self) -> None:
        for cm in (self._client_cm, self._portal_cm):
            if cm is not None:
                try:
                    cm.__exit__(None, None, None)
                except Exception:  # a dead server's client cannot close cleanly; it is gone either way
                    logging.getLogger(__name__).debug("closing after a dead server", exc_info=True)
        self._client_cm = self._portal_cm = None
        self._errlog.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stderr_tail(self) -> str:
        """What the server said on stderr during the last call: its fatal error when it had one, else the end."""
        with open(self.stderr_path, "rb") as log:
            log.seek(self._stderr_mark)
            text = log.read().decode(errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith("Fatal Python error")]
        return (fatal[0] if fatal else " | ".join(lines[-2:]) or "(nothing)")[:300]

    def call(self, tool: str, arguments: dict, must_refuse: bool = False) -> Any:
        """Send one call; record a failure when the reply is not a result or a readable error, or never comes
        (or is a result, when it ``must_refuse``). The result, or None when there was none."""
        import anyio

        slow = ("omgml_train_baseline", "omgml_monitor_batch")
        timeout = self.timeout * (4 if tool in slow else 1)  # cross-validation and MLflow

        async def bounded() -> Any:
            with anyio.fail_after(timeout):
                return await self.client.call_tool(tool, arguments)

        self.tally.calls[tool] += 1
        faults = len(self.protocol_faults)
        self._stderr_mark = self.stderr_path.stat().st_size
        try:
            result = self.portal.call(bounded)
        except TimeoutError:
            self._fail("stall", tool, arguments, f"no reply in {timeout:.0f} s")
            self.restart()
            return None
        except Exception as exc:  # noqa: BLE001 -- whatever the client raises, the server is checked next
            if self._alive():
                self._fail("protocol error", tool, arguments, repr(exc)[:300])
            else:
                time.sleep(0.2)  # let the dying process's last words reach the stderr file
                self._fail("server died", tool, arguments, f"{exc!r}"[:150] + "; stderr: " + self.stderr_tail())
                self.restart()
            return None
        text = "".join(getattr(c, "text", "") for c in result.content)
        gist = re.sub(r"/\S+|'[^']*'|\d+", "_", text.removeprefix(f"Error executing tool {tool}: "))[:60]
        self.tally.outcomes[tool, gist.replace("\n", "\\n") if result.is_error else "result"] += 1
        verdict = judge(result, arguments)
        if must_refuse and not result.is_error:
            verdict = ("read outside the root", "answered with a result")
        if verdict:
            self._fail(*verdict[:1], tool, arguments, verdict[1])
        if tool == "omgml_init" and not result.is_error:
            made = result.structured_content
            folder = os.path.relpath(made["project_dir"], self.root)
            self.created.update(os.path.normpath(os.path.join(folder, rel)) for rel in made["created"])
        if len(self.protocol_faults) > faults:
            self._fail("stdout not protocol", tool, arguments, self.protocol_faults[-1])
        if not self._alive():
            self._fail("server died", tool, arguments, "after replying; stderr: " + self.stderr_tail())
            self.restart()
        return result

    def _alive(self) -> bool:
        import anyio

        async def ping() -> None:
            with anyio.fail_after(5), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ping is deprecated after 2026-07-28; this client speaks legacy
                await self.client.send_ping()

        try:
            self.portal.call(ping)
        except Exception:  # noqa: BLE001 -- any failure to ping is a dead (or wedged) server
            return False
        return True

    def _fail(self, kind: str, tool: str, arguments: dict, detail: str) -> None:
        self.tally.failures.append(Failure(kind, tool, arguments, detail))
        self.tally.failed_calls.add(sum(self.tally.calls.values()))


# ---------------------------------------------------------------------------------------------------------------
# After the run: what changed on disk.

ALLOWED = re.compile(r"(^|/)(\.omgml|mlruns|mlartifacts)(/|$)|(^|/)mlflow\.db(-journal|-wal|-shm)?$")


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and symlink under ``folder`` (links not followed): its content hash, or where it points."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def damage(before: dict[str, str], after: dict[str, str], created_by_init: set[str], store: bool = True) -> list[str]:
    """Files that changed, vanished, or appeared (other than what omgml_init scaffolded), outside the store when
    ``store`` (in the workspace), anywhere when not (the outside folder)."""
    problems = []
    for rel in sorted(before.keys() | after.keys()):
        if (store and ALLOWED.search(rel)) or before.get(rel) == after.get(rel):
            continue
        if rel not in before and rel in created_by_init:
            continue
        state = "appeared" if rel not in before else "vanished" if rel not in after else "changed"
        problems.append(f"{rel} {state}")
    return problems


def unparsable_store_json(root: Path, planted: dict[str, str]) -> list[str]:
    """JSON files under any ``.omgml/`` that do not parse, except the corpus's own planted ones left untouched."""
    bad = []
    for path in root.rglob(".omgml/**/*.json"):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink() or not path.is_file() or planted.get(rel) == snapshot_one(path):
            continue
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as exc:
            bad.append(f"{rel}: {type(exc).__name__}: {str(exc)[:100]}")
    return bad


def snapshot_one(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
