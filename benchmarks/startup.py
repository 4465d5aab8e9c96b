"""Server start-up: spawn -> initialize -> tools/list for omgml-mcp vs a bare MCPServer with one tool.

Both run with the same Python and the same client, interleaved, several times in one run;
the medians and their ratio are printed. Target: ratio <= 1.3.
Usage: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

BARE_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("bare")


@server.tool()
def ping() -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"


server.run()
"""


async def time_once(params: StdioServerParameters) -> float:
    started = time.perf_counter()
    async with Client(params) as client:
        tools = (await client.list_tools()).tools
        elapsed = time.perf_counter() - started
    assert tools, "the server listed no tools"
    return elapsed


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
        times: dict[str, list[float]] = {name: [] for name in servers}
        for name, params in servers.items():  # warm the file cache once, untimed
            anyio.run(time_once, params)
        for _ in range(runs):
            for name, params in servers.items():
                times[name].append(anyio.run(time_once, params))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"spawn -> initialize -> tools/list, median of {runs} runs each (interleaved):")
    for name, values in times.items():
        print(
            f"  {name:15s} median {medians[name] * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
        )
    ratio = medians["omgml-mcp"] / medians["bare MCPServer"]
    print(f"ratio omgml-mcp / bare MCPServer: {ratio:.2f} (target <= 1.30: {'met' if ratio <= 1.3 else 'NOT met'})")


if __name__ == "__main__":
    main()
