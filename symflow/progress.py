"""Stages of work, announced as they start and end: what a long compile is doing.

`stage("tracing")` wraps one stage. Each stage is logged (logger `symflow`, level
INFO, with its duration) and told to the listeners registered with `listening`:
the command line's status line on a terminal and its `--timings` table
(`symflow/cli/_status.py`). With no listener a stage costs two clock reads.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

__all__ = ["Listener", "listening", "stage"]

logger = logging.getLogger("symflow")

# `listener(event, name, seconds)`: event "start" (seconds 0) or "end" (its duration)
Listener = Callable[[str, str, float], None]
_listeners: list[Listener] = []


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Announce the stage `name` to the listeners and the log while it runs."""
    for listener in _listeners:
        listener("start", name, 0.0)
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        logger.info("%s: %.3f s", name, elapsed)
        for listener in _listeners:
            listener("end", name, elapsed)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Tell `listener` about every stage while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
