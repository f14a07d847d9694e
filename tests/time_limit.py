"""A time limit on a block of a test: it fails with `TimeLimitExceeded` rather than
hang (a read that blocks, a compile that runs away). Uses SIGALRM, so it only limits
the main thread of a platform that has it; elsewhere the block runs unlimited."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["TimeLimitExceeded", "time_limit"]


class TimeLimitExceeded(Exception):
    """The block ran past its limit."""


@contextlib.contextmanager
def time_limit(seconds: int, what: str) -> Iterator[None]:
    """Raise `TimeLimitExceeded("<what> took more than <seconds> s")` in the block
    once `seconds` have passed."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimeLimitExceeded(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
