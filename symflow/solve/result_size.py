"""The size of a solve's result, checked before any work.

A command line such as `--saveat 1e9` or `--trajectories 1e8` asks for more memory
than the machine has; left alone, XLA would try to allocate it and fail after
compiling, or the process would be killed. The result's size is known before the
solve (save times x values saved at each x trajectories), so it is refused at once,
with the size it would take.
"""

from __future__ import annotations

import functools
import os

from ..errors import SymflowError

__all__ = ["MAX_RESULT_FRACTION", "check_result_size", "memory_bytes"]

# The largest result accepted, as a fraction of the machine's memory: the solve
# itself needs room beside it (the solver's stages, the compiled program).
MAX_RESULT_FRACTION = 0.5

_FLOAT_BYTES = 8


@functools.cache  # read once: `check_result_size` is on the path of every solve
def memory_bytes() -> int:
    """The machine's physical memory in bytes (16 GiB where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30


def check_result_size(*, times: int, values: int, trajectories: int = 1,
                      help: str, rows: str = "times") -> None:
    """Refuse a result of `trajectories` x `times` x `values` floats larger than
    `MAX_RESULT_FRACTION` of the machine's memory; the message says its size (its
    `times` named `rows`: "times", "starts") and `help` says what to change."""
    size = float(trajectories) * float(times) * float(values) * _FLOAT_BYTES
    limit = MAX_RESULT_FRACTION * memory_bytes()
    if size <= limit:
        return
    shape = f"{times:,} {rows} x {values:,} values"
    if trajectories != 1:
        shape = f"{trajectories:,} trajectories x {shape}"
    raise SymflowError(
        f"the result would take {_bytes(size)} ({shape} x 8 bytes), more than half "
        f"of this machine's memory ({_bytes(memory_bytes())})", help=help)


def _bytes(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} bytes"
