"""Bound how deep JSON nests before a parser sees it.

Native JSON readers recurse per level of nesting: pyarrow's reader takes seconds at a few thousand
levels and overflows the C stack (the process dies, no error) near 20,000; Python's json raises
``RecursionError`` near 1,000. Tables and omgml's own files nest a few levels, so anything deeper
than ``MAX_JSON_DEPTH`` is refused before it is parsed.

The scan is linear and runs in C: escaped backslashes and quotes are dropped (``bytes.replace``),
everything but quotes, brackets and newlines is deleted (``bytes.translate``), and numpy's cumulative
sums tell which brackets are inside strings and how deep every other one is within its line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_JSON_DEPTH = 64  # tables nest a handful of levels (a tweet's entities: 5); contracts and profiles: 4
SCAN_CHUNK_BYTES = 16 * 1024 * 1024
_KEEP = b'"[]{}\n'
_DELETE = bytes(b for b in range(256) if b not in _KEEP)
_DELETE_BUT_OPENERS = bytes(b for b in range(256) if b not in b"[{\n")


@dataclass(frozen=True)
class TooDeep:
    """The deepest line of some JSON text: its 1-based number and how deep it nests."""

    line: int
    depth: int


class JsonTooDeep(ValueError):
    """JSON text nested deeper than the limit (a ``ValueError``, as ``json.JSONDecodeError`` is)."""

    def __init__(self, found: TooDeep, limit: int) -> None:
        self.found, self.limit = found, limit
        super().__init__(f"line {found.line} nests {found.depth} levels deep, more than the {limit} omgml reads")


def deeper_than(data: bytes, limit: int) -> TooDeep | None:
    """The line of ``data`` whose brackets (outside strings) nest deepest, when deeper than ``limit``; else None."""
    import numpy as np

    # A line cannot nest deeper than it has opening brackets: most lines have a few, so most text
    # is cleared by counting them (on a stream of only brackets and newlines) before the exact scan.
    openers = np.frombuffer(data.translate(None, _DELETE_BUT_OPENERS), dtype=np.uint8)
    lengths = np.diff(np.flatnonzero(openers == 10), prepend=-1, append=openers.size) - 1
    if not lengths.size or lengths.max() <= limit:
        return None
    found = deepest(data)
    return found if found.depth > limit else None


def deepest(data: bytes) -> TooDeep:
    """The line of ``data`` whose brackets (outside strings) nest deepest, and how deep."""
    import numpy as np

    if b"\\" in data:  # an escaped backslash or quote is not a string's end
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    codes = np.frombuffer(data.translate(None, _DELETE), dtype=np.uint8)
    if not codes.size:
        return TooDeep(1, 0)
    newline = codes == 10
    line = np.cumsum(newline, dtype=np.int32)
    # A bracket is inside a string when an odd number of quotes precede it on its line
    # (a string never spans lines, so an unclosed quote spoils only its own, invalid, line).
    quotes = np.cumsum(codes == 34, dtype=np.int32)
    inside = (quotes - np.concatenate(([0], quotes[newline]))[line]) % 2 == 1
    level = np.cumsum(np.where(inside, 0, _steps()[codes]), dtype=np.int32)
    depth = level - np.concatenate(([0], level[newline]))[line]
    at = int(np.argmax(depth))
    return TooDeep(int(line[at]) + 1, int(depth[at]))


@functools.cache
def _steps() -> Any:
    """+1 for each opening bracket's byte, -1 for a closing one's, 0 for the rest."""
    import numpy as np

    steps = np.zeros(256, dtype=np.int32)
    steps[[ord("["), ord("{")]] = 1
    steps[[ord("]"), ord("}")]] = -1
    return steps


def check_text(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ``JsonTooDeep`` when ``text`` (one JSON document or JSON Lines) nests deeper than ``limit``."""
    found = deeper_than(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text, limit)
    if found is not None:
        raise JsonTooDeep(found, limit)


def loads(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` of text checked to nest at most ``limit`` levels; raises ``JsonTooDeep`` (a ValueError) if not."""
    import json

    check_text(text, limit)
    try:
        return json.loads(text)
    except RecursionError as exc:  # cannot happen below the limit; kept so no parse escapes as a crash
        raise JsonTooDeep(TooDeep(1, limit + 1), limit) from exc


def line_chunks(path: Path, size: int = SCAN_CHUNK_BYTES) -> Iterator[tuple[int, bytes]]:
    """``(lines before it, chunk)`` of whole lines of ``path``, about ``size`` bytes each.

    A line longer than ``size`` ends the chunks with one chunk of its first ``size`` bytes and no newline
    (memory stays bounded by ``size`` however long the line is).
    """
    before, carry = 0, b""
    with path.open("rb") as handle:
        while block := handle.read(size):
            block = carry + block
            cut = block.rfind(b"\n") + 1
            if cut == 0 and len(block) > size:
                yield before, block[:size]
                return
            yield before, block[:cut]
            before += block.count(b"\n", 0, cut)
            carry = block[cut:]
    if carry:
        yield before, carry


def scan_lines(path: Path, limit: int = MAX_JSON_DEPTH, longest: int = SCAN_CHUNK_BYTES) -> tuple[TooDeep | None, int]:
    """The first line of the JSON Lines file ``path`` deeper than ``limit`` (None: none), and the number
    of the first line longer than ``longest`` bytes (0: none); the scan stops at either."""
    for before, chunk in line_chunks(path, longest):
        if len(chunk) >= longest and b"\n" not in chunk:
            return None, before + 1
        found = deeper_than(chunk, limit)
        if found is not None:
            return TooDeep(before + found.line, found.depth), 0
    return None, 0
