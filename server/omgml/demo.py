"""``make demo``: drive omgml-mcp over stdio the way an agent would, and print what the agent sees.

A scripted session on embedded data (scikit-learn's bundled breast-cancer table), in a temporary
folder: init a project, add the data split into a reference part and a drifted current part,
validate (once clean, saving a contract; once with planted defects), train the baseline, check
drift, and show status. Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

TARGET = "diagnosis"
# Planted drift: three measurements read larger in the current data (a recalibrated scanner, say).
SHIFTS = {"mean radius": 1.25, "worst area": 1.30, "mean texture": 1.20}


def _server_command() -> str:
    found = Path(sys.executable).with_name("omgml-mcp")
    return str(found) if found.exists() else (shutil.which("omgml-mcp") or "omgml-mcp")


def write_demo_data(project: Path) -> None:
    """Reference (training) data, a drifted current batch, and an incoming batch with defects."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": TARGET})
    rng = np.random.default_rng(7)
    order = rng.permutation(len(frame))
    cut = int(len(frame) * 0.6)
    reference = frame.iloc[order[:cut]].reset_index(drop=True)
    current = frame.iloc[order[cut:]].reset_index(drop=True)
    for column, factor in SHIFTS.items():
        current[column] = current[column] * factor
    import pandas as pd

    incoming = pd.concat([current, current.iloc[:12]], ignore_index=True)  # 12 duplicated rows
    incoming[TARGET] = incoming[TARGET].astype("float")
    incoming.loc[[3, 8, 21], TARGET] = np.nan  # labels lost in transit
    incoming.loc[5, "mean area"] = -1.0  # a sensor glitch
    reference.to_csv(project / "data" / "raw" / "train.csv", index=False)
    current.to_csv(project / "data" / "processed" / "current.csv", index=False)
    incoming.to_csv(project / "data" / "raw" / "incoming.csv", index=False)


async def _call(client: Client, tool: str, arguments: dict) -> None:
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    print(f"\n{'=' * 100}\n>>> agent calls {tool}({shown})\n")
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    for block in result.content:
        print(getattr(block, "text", block))
    print(f"<<< {'ERROR' if result.is_error else 'ok'} in {time.perf_counter() - started:.1f}s")


async def run(workdir: Path) -> None:
    env = {**os.environ, "OMGML_PROJECT_DIR": str(workdir)}
    params = StdioServerParameters(command=_server_command(), cwd=str(workdir), env=env)
    async with Client(params) as client:
        tools = [t.name for t in (await client.list_tools()).tools]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        print(f"omgml-mcp over stdio: tools {', '.join(tools)}; prompts {', '.join('/' + p for p in prompts)}")
        await _call(
            client,
            "omgml_init",
            {
                "project_dir": "cancer",
                "name": "Cancer Screening",
                "task": "binary",
                "target": TARGET,
                "data_path": "data/raw/train.csv",
                "description": "Flag benign vs malignant tumours from imaging measurements",
            },
        )
        print("\n(the user drops the training table, a new batch and this month's data into the project)")
        write_demo_data(workdir / "cancer")
        await _call(
            client,
            "omgml_validate_data",
            {"project_dir": "cancer", "data": "data/raw/train.csv", "target": TARGET, "save_contract": "train"},
        )
        await _call(
            client,
            "omgml_validate_data",
            {"project_dir": "cancer", "data": "data/raw/incoming.csv", "target": TARGET, "contract": "train"},
        )
        await _call(client, "omgml_train_baseline", {"project_dir": "cancer", "cv": 5})
        await _call(
            client,
            "omgml_check_drift",
            {
                "project_dir": "cancer",
                "reference": "data/raw/train.csv",
                "current": "data/processed/current.csv",
                "target": TARGET,
                "save_reference": "train",
            },
        )
        await _call(client, "omgml_status", {"project_dir": "cancer"})


def main() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="omgml-demo-") as workdir:
        print(f"demo project root: {workdir}")
        anyio.run(run, Path(workdir))
    print(f"\ndemo finished in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
