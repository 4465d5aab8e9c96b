"""Server start-up: spawn -> initialize -> tools/list for omgml-mcp vs a bare MCPServer with one tool.

Both run with the same Python and the same client, interleaved, several times in one run;
the medians and their ratio are printed. Target: ratio <= 1.2.
Usage: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

TARGET = 1.2
BARE_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")


@server.tool()
def ping() -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"


server.run()
"""


async def time_once(params: StdioServerParameters) -> tuple[float, float]:
    """Wall time to the tools/list answer, and the server process's CPU time (user + system) over its life."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        elapsed = time.perf_counter() - started
    assert tools, "the server listed no tools"
    return elapsed, _children_cpu() - cpu_before


def _children_cpu() -> float:
    """CPU seconds of the ended child processes: unlike wall time, other load on the machine hardly moves it."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    omgml_mcp = Path(sys.executable).with_name("omgml-mcp")
    with tempfile.TemporaryDirectory() as tmp:
        bare_script = Path(tmp) / "bare_server.py"
        bare_script.write_text(BARE_SERVER)
        servers = {
            "omgml-mcp": StdioServerParameters(command=str(omgml_mcp), cwd=tmp),
            "bare MCPServer": StdioServerParameters(command=sys.executable, args=[str(bare_script)], cwd=tmp),
        }
        walls: dict[str, list[float]] = {name: [] for name in servers}
        cpus: dict[str, list[float]] = {name: [] for name in servers}
        for name, params in servers.items():  # warm the file cache once, untimed
            anyio.run(time_once, params)
        for _ in range(runs):
            for name, params in servers.items():
                wall, cpu = anyio.run(time_once, params)
                walls[name].append(wall)
                cpus[name].append(cpu)
    print(f"spawn -> initialize -> tools/list, median of {runs} runs each (interleaved):")
    ratios = {}
    for label, table in (("wall", walls), ("server CPU", cpus)):
        medians = {name: statistics.median(values) for name, values in table.items()}
        for name, values in table.items():
            print(
                f"  {label:10s} {name:15s} median {medians[name] * 1000:7.1f} ms"
                f"   min {min(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
            )
        ratios[label] = medians["omgml-mcp"] / medians["bare MCPServer"]
    for label, ratio in ratios.items():
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(f"ratio omgml-mcp / bare MCPServer ({label}): {ratio:.2f} (target <= {TARGET:.2f}: {verdict})")
    print("On a busy machine wall times swing; the CPU ratio is the steadier figure.")


if __name__ == "__main__":
    main()
