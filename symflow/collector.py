"""The cyclic garbage collector paused while the compiler builds a model.

Building, simplifying and emitting a large component model makes millions of
SymPy objects that stay alive until the stage ends. CPython's cyclic collector
runs a pass every few hundred allocations, and each full pass walks every live
object: at 3,000 ladder sections it took about a third of `build` and a tenth
to a quarter of the passes and codegen (benchmarks/components.py), and its share
grows with the model. SymPy expressions hold no reference cycles (reference
counting frees them), so pausing the collector for the stage loses nothing; it
runs again as usual afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

__all__ = ["collector_paused", "gc_paused"]

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off inside the block, back on after it if it was on
    (nested blocks leave it to the outermost)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` run with the cyclic collector paused (`collector_paused`)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return fn(*args, **kwargs)

    return wrapper
