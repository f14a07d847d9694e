"""Linear conservation laws: the left null space of a stoichiometry.

A vector `c` with `c^T N = 0` (`N` the net stoichiometric matrix of the species
that reactions move) gives a conservation law `sum_i c_i * amount_i = constant`:
the enzyme's free and bound forms in `S + E <-> C -> E + P`, say. The laws are
the rows of the reduced row-echelon form of a basis of that space, so each has
a **pivot**, a species no other law holds, which the pass
`passes.reactions.eliminate_conserved` may compute from the others.

The same holds for a model written as plain equations (`linear_invariants`): each
right-hand side is expanded into numeric coefficients times terms (`k1*y1`,
`k3*y2*y3`, ...), which gives a matrix `N` (states × distinct terms) with `f = N m`;
a `c` with `c^T N = 0` makes `c · f` vanish identically, so `c · y` is constant
(Robertson's `y1 + y2 + y3`). The pivot of each law is its first state in
declaration order (reduced row-echelon form): the state `conserved = eliminate`
computes from the others, so declare first the state that is large throughout
(computing a small one by subtraction loses its digits). This finds the laws
whose cancellation is visible term by term, which is how kinetics, charge and mass
balances are written; it is exact (rational arithmetic on the coefficients as
written, floats included).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..symbolic import ReactionNetwork, System

__all__ = ["ConservationLaw", "conservation_laws", "linear_invariants"]

# Expanding a right-hand side into terms is skipped above this many operations
# (a law of a large non-kinetic expression is not what this looks for).
EXPAND_LIMIT = 400


@dataclasses.dataclass(frozen=True)
class ConservationLaw:
    """`sum(c * amount of species)` is constant; `pivot` appears in no other law."""

    coefficients: tuple[tuple[str, sp.Rational], ...]
    pivot: str
    quantity: str = "amounts"  # of species; "states" for a law of plain equations

    def describe(self) -> str:
        terms = " + ".join(("" if c == 1 else f"{c}*") + name for name, c in self.coefficients)
        return f"{terms} = constant ({self.quantity})"


def conservation_laws(network: ReactionNetwork) -> tuple[ConservationLaw, ...]:
    """The conservation laws of the species that reactions move (exact, rational)."""
    moved = [s.name for s in network.species if s.changed_by_reactions]
    if not moved or not network.reactions:
        return ()
    index = {s.name: k for k, s in enumerate(network.species)}
    full = network.stoichiometry()
    matrix = sp.Matrix([list(full.row(index[name])) for name in moved])
    return _laws(moved, matrix)


def linear_invariants(system: System) -> tuple[ConservationLaw, ...]:
    """The linear conservation laws `c · y = constant` of an ODE system's scalar states
    whose right-hand sides cancel term by term (module docstring); `()` for a system
    with implicit equations, array states or an expression too large to expand."""
    if any(e.kind != "ode" for e in system.equations) or any(v.shape for v in system.states):
        return ()
    rhs = {e.target: e.rhs for e in system.equations}
    names = [v.name for v in system.states]
    if len(names) < 2 or any(sp.count_ops(rhs[n]) > EXPAND_LIMIT for n in names):
        return ()
    rows = [sp.expand(rhs[n]).as_coefficients_dict() for n in names]
    terms = list(dict.fromkeys(t for row in rows for t in row))
    if not terms:
        return ()
    matrix = sp.Matrix([[sp.Rational(row.get(t, 0)) for t in terms] for row in rows])
    return _laws(names, matrix, quantity="states")


def _laws(names: list[str], matrix: sp.Matrix, *,
          quantity: str = "amounts") -> tuple[ConservationLaw, ...]:
    """The laws `c^T matrix = 0` over the rows `names`, as the reduced row-echelon form
    of a basis of the left null space, each scaled to integer coefficients."""
    basis = matrix.T.nullspace()
    if not basis:
        return ()
    rows, pivots = sp.Matrix.hstack(*basis).T.rref()
    laws = []
    for k, pivot in enumerate(pivots):
        row = rows.row(k)
        scale = sp.ilcm(*[sp.fraction(x)[1] for x in row])
        coefficients = tuple((names[j], sp.Rational(row[j] * scale))
                             for j in range(len(names)) if row[j] != 0)
        laws.append(ConservationLaw(coefficients, names[pivot], quantity))
    return tuple(laws)
