"""Cut a csv file into segments that end at record boundaries, so two threads can parse it at once.

Arrow's streaming csv reader parses on one core, and text is the slowest format validation reads.
A newline ends a record only outside quoted fields. Each cut is the last newline of a segment at
which the count of quote characters since the segment's start is even (its start being a boundary
already proven); a stray quote inside an unquoted field (``5'11"``) can mislead that count, so the
parser proves every cut (see ``CsvTable._parse_segment`` in ``csv_table``: a sentinel line appended to the segment comes
back as its last record only when the cut was outside quotes) and a cut that fails the proof hands
the rest of the file to the sequential reader.
"""

from __future__ import annotations

import os
import queue
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

SEGMENT_BYTES = 8 * 1024 * 1024  # parsed in ~30 ms: the pipeline fills and drains fast, per-segment costs stay small
SEGMENTS_AHEAD = 4  # segments read, parsed or waiting at once: bounds memory to a few segments
LONGEST_RECORD_SEGMENTS = 4  # no cut within this many segments' bytes: the rest is read sequentially
QUOTE = 0x22
NEWLINE = b"\n"

T = TypeVar("T")
R = TypeVar("R")


def parse_threads() -> int:
    """Threads to parse with: the cores this process may run on, at most two (the caller's work needs one too)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def segments(
    path: Path, last_line: bytes, size: int = SEGMENT_BYTES, spare: queue.SimpleQueue | None = None
) -> Iterator[tuple[int, memoryview | None]]:
    """``(offset, bytes)`` of consecutive segments of about ``size`` bytes, each ending after a newline
    (the last one at the end of the file) and followed by ``last_line`` (written in place, not copied).
    ``(offset, None)`` when no newline came for a long stretch: the caller reads from ``offset`` on by itself.

    A segment's buffer (``view.obj``) put on ``spare`` once the caller is done with it is read into again:
    a fresh 8 MB buffer per segment costs a fault per page, and nearly as much CPU as the file's read itself.
    """
    tail = last_line + NEWLINE
    with path.open("rb") as handle:
        offset, carry = 0, b""
        while True:
            chunk = _buffer(len(carry) + size + len(tail), spare)
            chunk[: len(carry)] = carry
            got = handle.readinto(memoryview(chunk)[len(carry) : len(carry) + size])
            end = len(carry) + got
            if got == 0:
                if carry:  # the last line, without its newline (carry never holds one)
                    yield offset, memoryview(carry + NEWLINE + tail)
                return
            cut = _cut(chunk, end)
            if cut == 0:
                if end > LONGEST_RECORD_SEGMENTS * size:
                    yield offset, None
                    return
                carry = bytes(memoryview(chunk)[:end])
                continue
            carry = bytes(memoryview(chunk)[cut:end])
            chunk[cut : cut + len(tail)] = tail
            yield offset, memoryview(chunk)[: cut + len(tail)]
            offset += cut


def _buffer(length: int, spare: queue.SimpleQueue | None) -> bytearray:
    """A buffer of at least ``length`` bytes: a spare one when there is one that large, else a new one."""
    while spare is not None:
        try:
            buffer = spare.get_nowait()
        except queue.Empty:
            break
        if len(buffer) >= length:
            return buffer
    return bytearray(length + length // 4)  # room for the next segments' carried records


def _cut(chunk: bytearray, end: int) -> int:
    """Offset just past the last newline in ``chunk[:end]`` with an even count of quotes before it (0: no newline).

    When every newline has an odd count (a stray quote), the last newline: the parser's proof decides.
    """
    import numpy as np

    last = chunk.rfind(NEWLINE, 0, end) + 1
    if last == 0 or chunk.find(b'"', 0, last) < 0:
        return last
    odd = int(np.count_nonzero(np.frombuffer(chunk, np.uint8, count=last) == QUOTE)) % 2
    cut = last
    while odd and cut > 0:
        previous = chunk.rfind(NEWLINE, 0, cut - 1) + 1
        odd ^= chunk.count(b'"', previous, cut) % 2
        cut = previous
    return cut if cut > 0 else last


def ordered_map(work: Callable[[T], R], items: Iterator[T], threads: int, ahead: int = SEGMENTS_AHEAD) -> Iterator[R]:
    """``work(item)`` for each item on ``threads`` threads, results in the items' order, at most ``ahead`` at once.

    Items are drawn lazily, so at most ``ahead`` of them (and their results) are held in memory.
    An error in ``work`` is raised when its result's turn comes.
    """
    with ThreadPoolExecutor(threads, thread_name_prefix="omgml-parse") as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
