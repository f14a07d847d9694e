"""Dummy derivatives (Mattsson & Söderlind 1993), with constant pivots.

Pantelides' algorithm leaves an overdetermined set of states: the pendulum has
`x, der(x), y, der(y), vx, vy` and the lower-order equations (`der(x) = vx`,
the constraint and its derivative) only as invariants. The dummy derivative
method selects, level by level, derivatives that become plain algebraic
variables ("dummies"), so that every equation can be kept and the remaining
states are independent:

1. Level 1: the equations that were differentiated, in their highest form,
   and the highest derivatives `z` that appear in them.
2. Pick as many columns of the Jacobian `dg/dz` as there are rows chosen, so
   that the square block is nonsingular: those `z` are dummy derivatives.
3. Level i + 1: the chosen rows differentiated one time less (only those that
   are still derivatives), and the chosen `z` integrated once. Repeat.

The block must stay nonsingular along the whole solution, which a
state-dependent block (the pendulum's `dC''/d(x'') = -2x`) does not guarantee:
that needs dynamic state selection (changing dummies during the integration),
which is not implemented. So here a row is given a dummy only where its pivot
is a constant number and the selected block is a constant nonsingular matrix;
the other rows keep their highest derivatives as state derivatives and their
lower-order forms as invariants (checked at initialization, and every solver
step is projected onto them: `solve/projection.py`). For the pendulum
this turns `der(der(x))` and `der(der(y))` into dummies, which leaves the four
states `x, y, vx, vy`; for a damper (`f = d*der(ds)`, `ds = b.s - a.s`) it
removes the duplicate state `ds`.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...symbolic import System, Variable
from .graph import base_variable, derivative_order, incidence_graph, integral_of, state_name
from .pantelides import CONSTRAINT, time_derivative

__all__ = ["select_dummy_derivatives", "dummy_selection", "DummySelection"]


@dataclasses.dataclass(frozen=True)
class DummySelection:
    """The dummy derivatives chosen, level by level (level 1 first), with the rows
    (equation indices into `system.equations`) that selected them."""

    levels: tuple[tuple[tuple[int, sp.Symbol], ...], ...]

    @property
    def dummies(self) -> tuple[sp.Symbol, ...]:
        return tuple(z for level in self.levels for _, z in level)


def _predecessor(system: System, i: int) -> int | None:
    """The equation that equation `i` is the time derivative of (checked
    symbolically: equations instantiated from one library line share a span)."""
    e = system.equations[i]
    if e.order == 0:
        return None
    bases = {v.symbol for v in system.variables}
    for j, f in enumerate(system.equations):
        if f.kind != "implicit" or f.order != e.order - 1 or f.spans != e.spans:
            continue
        moving = {s for s in f.rhs.free_symbols if base_variable(s) in bases}
        d = time_derivative(f.rhs, system.time, moving)
        d = sp.expand(d) if d.is_polynomial() else d
        if d == e.rhs or sp.simplify(d - e.rhs) == 0:
            return j
    return None


def dummy_selection(system: System) -> DummySelection:
    """Choose the dummy derivatives of an index-reduced system (constant pivots)."""
    eqs = system.equations
    if not any(e.kind == "implicit" for e in eqs):
        return DummySelection(())
    highest = set(incidence_graph(system).highest_derivatives)
    rows = [i for i, e in enumerate(eqs) if e.kind == "implicit" and e.order > 0
            and not e.target.startswith(CONSTRAINT)]
    columns = sorted({s for i in rows for s in eqs[i].rhs.free_symbols if s in highest},
                     key=lambda s: (-derivative_order(s), s.name))
    levels = []
    while rows and columns:
        chosen: list[tuple[int, sp.Symbol]] = []
        used: set[sp.Symbol] = set()
        for i in rows:
            for z in columns:
                if z in used:
                    continue
                a = sp.diff(eqs[i].rhs, z)
                if a.is_Number and a != 0:
                    chosen.append((i, z))
                    used.add(z)
                    break
        # The selected block must be a constant nonsingular matrix.
        while chosen:
            block = sp.Matrix([[sp.diff(eqs[i].rhs, z) for _, z in chosen] for i, _ in chosen])
            if all(x.is_Number for x in block) and block.det() != 0:
                break
            chosen.pop()
        if not chosen:
            break
        levels.append(tuple(chosen))
        rows = [p for p in (_predecessor(system, i) for i, _ in chosen)
                if p is not None and eqs[p].order > 0]
        columns = sorted({integral_of(z) for _, z in chosen if derivative_order(z) > 1},
                         key=lambda s: (-derivative_order(s), s.name))
    return DummySelection(tuple(levels))


def select_dummy_derivatives(system: System) -> System:
    """Replace the chosen dummy derivatives by algebraic variables and make the
    equations that chose them (their lower-order forms) active again."""
    selection = dummy_selection(system)
    if not selection.levels:
        return system
    rename = {}
    new_vars = []
    spans = {v.symbol: v.span for v in system.variables}
    for z in selection.dummies:
        name = state_name(z)
        symbol = sp.Symbol(name, real=True)
        rename[z] = symbol
        # Higher derivatives of a dummy would be meaningless: none exist, since
        # each dummy was a highest derivative.
        new_vars.append(Variable(name, symbol, (), None,
                                 f"dummy derivative of {base_variable(z).name}",
                                 spans[base_variable(z)]))
    activate = set()
    for level in selection.levels:
        for i, _ in level:
            p = _predecessor(system, i)
            if p is not None:
                activate.add(p)
    equations = []
    for j, e in enumerate(system.equations):
        if j in activate:
            e = dataclasses.replace(
                e, target=e.target.removeprefix(CONSTRAINT + ":").removeprefix(CONSTRAINT))
        if e.kind == "implicit":
            e = dataclasses.replace(e, rhs=e.rhs.xreplace(rename))
        equations.append(e)
    return dataclasses.replace(system, variables=system.variables + tuple(new_vars),
                               equations=tuple(equations))
