"""Where each state lives in the generated model's flat state vector `y`.

States follow `System.states`, one after the other; a chain of like components
with several states each is laid out field-major instead (`layout_fields`).
"""

from __future__ import annotations

import dataclasses
import weakref

from ..symbolic import System
from ._reroll import Block, reroll

__all__ = ["Layout", "MIN_FIELD_MAJOR", "layout_fields", "state_layout"]


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where a state lives in the flat vector `y`: `y[start:stop]`."""

    name: str
    start: int
    stop: int
    shape: tuple[int, ...]


def state_layout(system: System) -> tuple[Layout, ...]:
    """Where each state lives in `y`, in the order of `system.states`: one after the
    other, or field-major for a chain of like components (`layout_fields`)."""
    fields = layout_fields(system)
    if fields > 1:  # state i is point i // fields of field i % fields
        points = len(system.states) // fields
        return tuple(Layout(v.name, (i % fields) * points + i // fields,
                            (i % fields) * points + i // fields + 1, ())
                     for i, v in enumerate(system.states))
    out, offset = [], 0
    for v in system.states:
        out.append(Layout(v.name, offset, offset + v.size, v.shape))
        offset += v.size
    return tuple(out)


# Below this many states the field-major layout is not worth its analysis.
MIN_FIELD_MAJOR = 64
# by id (a System's hash walks all its equations): (the system, weakly; its fields)
_FIELDS: dict[int, tuple[weakref.ref, int]] = {}


def layout_fields(system: System) -> int:
    """The number of fields of a field-major layout of `system`'s states, or 1 (one
    after the other).

    A chain of components with several states each (a mass: position, velocity)
    has them interleaved in `system.states` (`s0, v0, s1, v1, ...`): re-rolled, its
    right-hand side is a block of interleaved runs, which reads strided slices and
    interleaves its result on every evaluation (1.3-1.6x a hand-written twin with
    each field contiguous, benchmarks/components.py). When such a block of stride
    `d` covers at least half of the states and their number is a multiple of `d`,
    the layout is field-major instead: state `i` is point `i // d` of field `i % d`,
    every run is a contiguous slice, and the band of the Jacobian in the original
    order is the band of the interleaved order of the fields, which the implicit
    solvers' interleaved band solve uses (`solve/linear/interleaved.py`). Plain
    ODE systems of scalar states only (no events, noise, reactions or grid)."""
    known = _FIELDS.get(id(system))
    if known is not None and known[0]() is system:
        return known[1]
    fields = 1
    states = system.states
    n = len(states)
    if (n >= MIN_FIELD_MAJOR and all(v.shape == () for v in states) and not system.events
            and not system.brownians and system.reactions is None and not system.domain):
        rhs = {e.target: e.rhs for e in system.equations if e.kind == "ode"}
        pieces = reroll([rhs[v.name] for v in states],
                        {v.symbol: i for i, v in enumerate(states)})
        blocks = [p for p in pieces if isinstance(p, Block) and p.stride > 1]
        if blocks:
            block = max(blocks, key=lambda b: b.stride * b.length)
            if (2 * block.stride * block.length >= n and n % block.stride == 0
                    and block.start % block.stride == 0):
                fields = block.stride
    key = id(system)

    def forget(_: weakref.ref) -> None:
        _FIELDS.pop(key, None)

    _FIELDS[key] = (weakref.ref(system, forget), fields)
    return fields


