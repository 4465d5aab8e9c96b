"""Write the Claude Code plugin's slash commands (``commands/*.md``) from the MCP prompts (``prompts/*.md``).

One source per command: a prompt file is both the MCP prompt (its jinja body rendered with the
arguments the client sends) and, through this script, ``/omgml:<name>`` in Claude Code, whose only
input is the free text ``$ARGUMENTS``. The body is rendered with every argument empty, so each
default or question the prompt states for a missing argument is there, and a preamble maps the
free text onto the prompt's arguments. ``tests/test_plugin.py`` fails when the files are out of date.

    python scripts/gen_commands.py          # rewrite commands/
    python scripts/gen_commands.py --check  # exit 1 and name the stale files
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))  # run from a checkout without installing

from omgml.mcp.prompts import PromptFile, load_prompts

COMMANDS = REPO / "commands"


def command_text(prompt: PromptFile) -> str:
    """The ``commands/<name>.md`` file for one prompt."""
    hint = " ".join(f"<{a.name}>" if a.required else f"[{a.name}]" for a in prompt.arguments)
    header = yaml.safe_dump(
        {"description": prompt.description, "argument-hint": hint}, sort_keys=False, allow_unicode=True, width=1000
    )
    names = ", ".join(a.name for a in prompt.arguments)
    preamble = (
        f"Arguments: $ARGUMENTS\n"
        f"(In order: {names}. Use each one given in place of the default or the question below.)\n\n"
        if prompt.arguments
        else ""
    )
    source = prompt.path.relative_to(prompt.path.parents[1]).as_posix()
    return (
        f"---\n# generated from {source} by scripts/gen_commands.py: edit that file and run the script\n"
        f"{header}---\n{preamble}{prompt.render({})}"
    )


def commands() -> dict[Path, str]:
    """Every command file as it should be: path -> text."""
    return {COMMANDS / f"{prompt.name}.md": command_text(prompt) for prompt in load_prompts()}


def main(argv: list[str]) -> int:
    wanted = commands()
    stale = sorted(
        {p for p, text in wanted.items() if not p.is_file() or p.read_text(encoding="utf-8") != text}
        | {p for p in COMMANDS.glob("*.md") if p not in wanted}
    )
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: run python scripts/gen_commands.py", file=sys.stderr)
        return 1 if stale else 0
    COMMANDS.mkdir(exist_ok=True)
    for path in stale:
        if path in wanted:
            path.write_text(wanted[path], encoding="utf-8")
        else:
            path.unlink()  # a prompt that was removed
        print(f"wrote {path.relative_to(REPO)}" if path in wanted else f"removed {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
