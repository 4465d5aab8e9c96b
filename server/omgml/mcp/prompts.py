"""Slash commands: one markdown file per prompt in ``prompts/``, YAML frontmatter plus a jinja body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omgml.assets import asset_dir


@dataclass(frozen=True)
class PromptArg:
    name: str
    description: str
    required: bool


@dataclass(frozen=True)
class PromptFile:
    name: str
    title: str
    description: str
    arguments: tuple[PromptArg, ...]
    body: str
    path: Path

    def render(self, values: dict[str, str | None]) -> str:
        from omgml.render import render_string  # jinja2 on first use, not at server start

        context = {arg.name: (values.get(arg.name) or "") for arg in self.arguments}
        return render_string(self.body, **context).strip() + "\n"


def parse_prompt(path: Path) -> PromptFile:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError(f"{path}: a prompt starts with '---' and YAML frontmatter")
    header, body = text[4:].split("\n---\n", 1)
    import yaml  # the server reads prompts on the first prompts/list, not at start

    meta = yaml.load(header, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}  # libyaml when built in
    args = tuple(
        PromptArg(name=a["name"], description=a.get("description", ""), required=bool(a.get("required", False)))
        for a in meta.get("arguments", [])
    )
    return PromptFile(
        name=meta["name"],
        title=meta.get("title", meta["name"]),
        description=meta["description"],
        arguments=args,
        body=body,
        path=path,
    )


def load_prompts() -> list[PromptFile]:
    return [parse_prompt(path) for path in sorted(asset_dir("prompts").glob("*.md"))]
