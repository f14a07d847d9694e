"""The best point an optimisation has reached so far, kept while it runs.

A fit or a training loop offers each step's objective and point to a `BestSoFar`;
another thread (the command line's, when Ctrl-C stops a `symflow fit`) reads the
best one and writes it out, so an interrupted fit keeps what it found.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["BestSoFar"]


class BestSoFar:
    """The step reached and the best point seen so far (thread-safe).

    `offer(step, value, point)` records that step `step` was reached, and keeps
    `point()` (called only then) where `value` is finite and lower than every value
    before it; `value=None` (a mini-batch loss, not comparable across steps) keeps
    the latest point instead. `best()` is `(step, value, point)` of the point kept,
    or `None` before any.
    """

    def __init__(self) -> None:
        # what the optimisation changes: the fitted names, or the trained parameters
        # and closures (set by `fit` and `train` before their first step)
        self.names: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._step = -1
        self._kept: tuple[int, float | None, Any] | None = None

    def offer(self, step: int, value: float | None, point: Callable[[], Any]) -> None:
        """Step `step` reached, at an objective `value` and a point `point()`."""
        with self._lock:
            self._step = max(self._step, step)
            if value is None:
                self._kept = (step, None, point())
            elif math.isfinite(value) and (self._kept is None or self._kept[1] is None
                                           or value < self._kept[1]):
                self._kept = (step, float(value), point())

    @property
    def step(self) -> int:
        """The last step reached (-1 before the first)."""
        with self._lock:
            return self._step

    def best(self) -> tuple[int, float | None, Any] | None:
        """`(step, value, point)` of the best point so far (`value` None: the latest
        point of a loop whose values are not comparable), or None."""
        with self._lock:
            return self._kept
