"""Read ahead: the next batches of a table are read in a thread while the caller works on this one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def prefetch(batches: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Read the next batches in a thread while the caller works on this one (Arrow decodes without the GIL).

    At most ``depth`` batches wait in memory; an error in the reader is raised here, in order.
    """
    import contextvars
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def read() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, raised there
            slots.put(exc)

    # In the caller's context: the rows the reader reads reach the caller's progress reporter.
    reader = threading.Thread(target=contextvars.copy_context().run, args=(read,), name="omgml-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                reader.join(timeout=0.1)
