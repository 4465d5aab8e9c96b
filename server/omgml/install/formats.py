"""Reading and writing client config files: JSON, TOML (Codex) and YAML (Continue).

JSON and YAML files are written whole. A TOML file is the user's own, with comments and tables omgml must not
touch, so only omgml's table is cut out of the text and written again; the result is parsed back and compared.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from typing import Any

from omgml.errors import OmgmlError


class ConfigFileError(OmgmlError):
    """A client config file omgml must not touch."""


def load(kind: str, text: str, where: str) -> dict:
    """The config in ``text`` as a dict (empty text is an empty config); refuse what cannot be read."""
    if not text.strip():
        return {}
    if kind == "toml":
        import tomllib

        parse, errors = tomllib.loads, (tomllib.TOMLDecodeError,)
    elif kind == "yaml":
        import yaml

        parse, errors = yaml.safe_load, (yaml.YAMLError,)
    else:
        parse, errors = json.loads, (ValueError,)
    try:
        config = parse(text)
    except errors as exc:
        raise _unreadable(kind, where, exc) from exc
    if not isinstance(config, dict):
        raise ConfigFileError(
            f"{where} is not a {kind.upper()} mapping", "clients expect one at the top", "fix the file by hand"
        )
    return config


def _unreadable(kind: str, where: str, exc: Exception) -> ConfigFileError:
    detail = " ".join(str(exc).split())
    return ConfigFileError(
        f"{where} is not valid {kind.upper()} ({detail})",
        "omgml merges its entry into the existing config and will not overwrite a file it cannot read"
        + (" (comments, as JSONC allows, count as unreadable here)" if kind == "json" else ""),
        "fix the file by hand, or add omgml's entry yourself: run with --dry-run to see it",
    )


def dump(kind: str, config: dict, before: str | None, table: tuple[str, str], where: str) -> str:
    """``config`` as file text; for TOML, ``before`` with only the ``table`` (servers key, name) rewritten."""
    if kind == "json":
        return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if kind == "yaml":
        import yaml

        return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return _splice_toml(config, before or "", table, where)


def _splice_toml(config: dict, before: str, table: tuple[str, str], where: str) -> str:
    import tomllib

    kept = [line for _, line in _sections(before) if not _ours(_, table)]
    text = "".join(kept)
    entry = config.get(table[0], {}).get(table[1])
    if entry is not None:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + _toml_table(list(table), entry)
    try:
        same = tomllib.loads(text) == config
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        # omgml's entry was written as dotted keys or an inline table, which this splice does not cut out.
        raise ConfigFileError(
            f"{where}: omgml's entry is not a plain [{'.'.join(table)}] table",
            "omgml rewrites only that table and keeps the rest of the file as it is",
            f"remove the {table[1]} entry from {where} by hand, then run the command again",
        )
    return text


def _sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    """Each line of ``text`` with the key path of the table it belongs to (() before the first header)."""
    path: tuple[str, ...] = ()
    out = []
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("["):
            path = _header_path(line) or path
        out.append((path, line))
    return out


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a ``[a."b".c]`` or ``[[a.b]]`` header line, read by tomllib itself; None if not a header."""
    import tomllib

    try:
        node: Any = tomllib.loads(line)
    except tomllib.TOMLDecodeError:
        return None
    path = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
        if isinstance(node, list) and node:
            node = node[-1]
    return tuple(path) if path else None


def _ours(path: tuple[str, ...], table: tuple[str, str]) -> bool:
    return path[:2] == table


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    # JSON's escapes are a subset of TOML's basic-string escapes; TOML also forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # inf, -inf and nan are spelled the same in TOML
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_table(path: list[str], table: dict) -> str:
    """``table`` as a ``[path]`` header with its plain keys, then each nested mapping as its own sub-table."""
    lines = ["[" + ".".join(_toml_key(p) for p in path) + "]"]
    nested = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    text = "\n".join(lines) + "\n"
    for key, value in nested:
        text += "\n" + _toml_table([*path, key], value)
    return text
