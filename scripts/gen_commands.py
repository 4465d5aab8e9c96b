"""Write the generated files: the plugin's slash commands (``commands/*.md``) from the MCP prompts
(``prompts/*.md``), and ``skills/omgml/SKILL.md`` from the top-level ``SKILL.md``.

One source per command: a prompt file is both the MCP prompt (its jinja body rendered with the
arguments the client sends) and, through this script, ``/omgml:<name>`` in Claude Code, whose only
input is the free text ``$ARGUMENTS``. The body is rendered with every argument empty, so each
default or question the prompt states for a missing argument is there, and a preamble maps the
free text onto the prompt's arguments. ``tests/test_plugin.py`` fails when the files are out of date.

The top-level SKILL.md stays (a reader of the repo, or a client given the repo as one skill, finds it), but
the skills CLI (``npx skills add <repo>``, which ``cline skill add`` runs) stops at a top-level skill and
never sees ``skills/*/``. So the top-level one is marked ``metadata.internal: true`` (which that CLI skips)
and its copy in ``skills/omgml/``, links made relative to the new folder, is the one agents install.
``tests/test_skills.py`` fails when the copy is out of date.

    python scripts/gen_commands.py          # rewrite commands/ and skills/omgml/SKILL.md
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
ROOT_SKILL = REPO / "SKILL.md"
ROOT_SKILL_COPY = REPO / "skills" / "omgml" / "SKILL.md"
# The skills CLI compares with `=== true`: the YAML boolean, though the spec types metadata values as strings.
INTERNAL = "  internal: true\n"


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


def root_skill_copy(text: str) -> str:
    """``skills/omgml/SKILL.md`` from the top-level skill: not internal, links relative to ``skills/omgml/``."""
    header, body = text.split("\n---\n", 1)
    header += "\n"
    if header.count(INTERNAL) != 1:
        raise SystemExit(f"SKILL.md: its metadata must hold one line {INTERNAL.strip()!r} (the skills CLI skips it)")
    name_line = "name: omgml\n"
    header = header.replace(INTERNAL, "").replace(
        name_line,
        f"{name_line}# generated from SKILL.md by scripts/gen_commands.py: edit that file and run the script\n",
    )
    return f"{header}---\n{body.replace('](skills/', '](../')}"


def generated() -> dict[Path, str]:
    """Every generated file as it should be: path -> text."""
    return {**commands(), ROOT_SKILL_COPY: root_skill_copy(ROOT_SKILL.read_text(encoding="utf-8"))}


def main(argv: list[str]) -> int:
    wanted = generated()
    stale = sorted(
        {p for p, text in wanted.items() if not p.is_file() or p.read_text(encoding="utf-8") != text}
        | {p for p in COMMANDS.glob("*.md") if p not in wanted}
    )
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: run python scripts/gen_commands.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        if path in wanted:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted[path], encoding="utf-8")
        else:
            path.unlink()  # a prompt that was removed
        print(f"wrote {path.relative_to(REPO)}" if path in wanted else f"removed {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
