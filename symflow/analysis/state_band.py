"""The band of an ODE's Jacobian, read off the incidence of its right-hand sides.

A model assembled from a chain of components (an RC ladder, a mass–spring
chain, a rod of thermal capacitors) couples each state only to its neighbours:
after simplification, the right-hand side of state `i` uses states `j` with
`|i - j| <= w` for a small `w` (1 for the ladder; 3 for a chain whose states
alternate position and velocity). The implicit solvers then factor `I - γhJ`
as a band (solve/linear/banded.py) rather than a dense matrix: linear cost in
the number of states instead of cubic.

The bound is exact for the incidence (every state a right-hand side names), so
it holds for every parameter value; the solver still probes the band actually
used within it. `None` where there is nothing to gain: array states (their
coupling is not read element by element here), too few states, or a band that is
not narrow compared with the system.
"""

from __future__ import annotations

import sympy as sp

from ..symbolic import System
from .band_structure import BandStructure

__all__ = ["MIN_BANDED_STATES", "state_band"]

# Below this many states a dense factorization costs about what a band does.
MIN_BANDED_STATES = 64


def state_band(system: System, *, min_states: int = MIN_BANDED_STATES,
               fields: int = 1) -> BandStructure | None:
    """The half-bandwidth of the simplified ODE `system`'s Jacobian in its state
    order, as a one-field `BandStructure`; `None` when not worth a banded solve
    (fewer than `min_states` states, array states, a band not narrow). `fields`:
    the generated code lays the states out field-major (state i is point i // fields
    of field i % fields, codegen's `layout_fields`); the band is then the band of
    the interleaved order, which is this order."""
    states = system.states
    n = len(states)
    if n < min_states or any(v.shape != () for v in states):
        return None
    index = {v.symbol: i for i, v in enumerate(states)}
    rhs = {e.target: e.rhs for e in system.equations if e.kind == "ode"}
    width = 0
    for i, v in enumerate(states):
        expr: sp.Expr = rhs[v.name]
        for s in expr.free_symbols:
            j = index.get(s)  # type: ignore[call-overload]
            if j is not None:
                width = max(width, abs(i - j))
    if 2 * (2 * width + 1) > n:  # not narrow: the band would hold half the matrix or more
        return None
    return BandStructure(bound=max(width, 1), fields=fields, points=n // fields,
                         periodic=False)
