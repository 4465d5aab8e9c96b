"""Where this omgml came from (PEP 610), and the command a client runs to start it.

One derivation serves both faces: ``omgml install`` writes ``uvx --from <source> omgml-mcp`` (or this venv's
``omgml-mcp``), and ``omgml init`` writes the pip requirement a new project's Makefile installs.

The rule for ``--launcher auto`` (the default):

* project scope (files meant to be committed: ``.mcp.json``, ``.cursor/mcp.json``, ``opencode.json``, ...) holds no path
  of this machine. A portable source (the package index, or a VCS URL that is not ``file://``) becomes
  ``uvx --from <source> omgml-mcp``; a local checkout or wheel is refused there, with the fix (``--scope user``, or
  ask for ``--launcher venv|uvx`` to write this machine's path anyway).
* user scope is the home of machine-specific paths: this install's ``omgml-mcp`` by absolute path (it exists now,
  needs no uv and starts fastest), or ``uvx`` by absolute path when there is no such script or it sits in a cache
  (``uvx --from omgml omgml install ...`` runs from one that ``uv cache clean`` empties).

``uvx omgml-mcp`` alone never works: uvx installs the package named like the command, and no package is named
``omgml-mcp``; so even an index install is launched as ``uvx --from omgml==<version> omgml-mcp``.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from omgml.errors import InvalidInput
from omgml.install.clients import Launch

DISTRIBUTION = "omgml"
SCRIPT = "omgml-mcp"


@dataclass(frozen=True)
class Source:
    """Where omgml was installed from, in the two forms the tools that reinstall it take."""

    kind: Literal["dir", "archive", "vcs", "index"]
    uvx_from: str  # what ``uvx --from`` takes
    requirement: str  # a PEP 508 requirement for pip
    portable: bool  # True when it names no path on this machine
    where: str  # for people: "the local checkout /src (editable)"


@dataclass(frozen=True)
class Choice:
    launch: Launch
    launcher: Literal["venv", "uvx"]
    reason: str


def source_from_direct_url(text: str | None, version: str) -> Source:
    """Read a ``direct_url.json`` (None when pip or uv installed from an index) into a Source."""
    if text is None:
        pinned = f"{DISTRIBUTION}=={version}"
        return Source("index", pinned, pinned, True, f"the package index ({pinned})")
    data = json.loads(text)
    url = data["url"]
    local = urlsplit(url).scheme == "file"
    path = url2pathname(unquote(urlsplit(url).path)) if local else None
    if "vcs_info" in data:
        vcs = data["vcs_info"]
        ref = f"{vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
        if data.get("subdirectory"):
            ref += f"#subdirectory={data['subdirectory']}"
        return Source("vcs", ref, f"{DISTRIBUTION} @ {ref}", not local, ref)
    if "archive_info" in data:
        return Source("archive", path or url, f"{DISTRIBUTION} @ {url}", not local, f"the archive {path or url}")
    editable = " (editable)" if data.get("dir_info", {}).get("editable") else ""
    return Source("dir", path or url, f"{DISTRIBUTION} @ {url}", not local, f"the local checkout {path}{editable}")


def installed_source() -> Source:
    """The Source of the omgml distribution this Python runs."""
    from importlib.metadata import distribution

    dist = distribution(DISTRIBUTION)
    return source_from_direct_url(dist.read_text("direct_url.json"), dist.version)


def venv_script() -> Path | None:
    """This install's ``omgml-mcp``, when there is one beside this Python."""
    script = Path(sys.executable).with_name(SCRIPT + (".exe" if sys.platform == "win32" else ""))
    return script if script.exists() else None


def choose(launcher: str, scope: str, file: str | Path, source: Source | None = None) -> Choice:
    """The command a client in ``scope`` runs, for ``launcher`` auto, venv or uvx, and one line saying why."""
    source = source or installed_source()
    script = venv_script()
    if launcher == "venv":
        if script is None:
            raise InvalidInput(
                f"There is no {SCRIPT} beside {sys.executable}",
                "--launcher venv writes the absolute path of this install's server script",
                "use --launcher uvx, or run omgml install from the environment omgml was installed into",
            )
        return Choice(Launch(str(script), ()), "venv", f"asked for: this install's {SCRIPT} at {script}")
    if launcher == "uvx":
        return _uvx(scope, source, "asked for")
    if scope == "project":
        if source.portable:
            return _uvx(
                scope, source, f"{file} is shared and omgml came from {source.where}, which any machine reaches"
            )
        raise InvalidInput(
            f"omgml here was installed from {source.where}, a path only this machine has",
            f"{file} is meant to be committed and shared, and would then start omgml from a folder other machines "
            "do not have",
            "use --scope user (the home of machine-specific paths), or --launcher venv or --launcher uvx to write "
            "this machine's path anyway, or install omgml from the package index or a git+https URL",
        )
    if script is not None and not _in_a_cache(script):
        return Choice(
            Launch(str(script), ()), "venv", f"user-scope file: this install's {SCRIPT} by absolute path ({script})"
        )
    why = f"no {SCRIPT} beside {sys.executable}" if script is None else f"{script} is in a cache that may be emptied"
    return _uvx(scope, source, f"user-scope file, and {why}")


def _in_a_cache(path: Path) -> bool:
    """True inside a folder tagged as a cache (CACHEDIR.TAG), as uvx's throwaway environments are."""
    return any((parent / "CACHEDIR.TAG").is_file() for parent in path.parents)


def _uvx(scope: str, source: Source, why: str) -> Choice:
    # GUI clients (Claude Desktop) start servers without the shell's PATH, so user files get uvx's absolute path;
    # project files keep the bare name, which every machine with uv resolves.
    found = shutil.which("uvx") if scope == "user" else None
    launch = Launch(found or "uvx", ("--from", source.uvx_from, SCRIPT))
    note = "" if found or scope == "project" else " (uvx is not on PATH here: install uv first)"
    return Choice(launch, "uvx", f"{why}: uvx builds omgml from {source.where}{note}")
