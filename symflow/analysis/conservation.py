"""Conserved moieties of a reaction network: the left null space of its stoichiometry.

A vector `c` with `c^T N = 0` (`N` the net stoichiometric matrix of the species
that reactions move) gives a conservation law `sum_i c_i * amount_i = constant`:
the enzyme's free and bound forms in `S + E <-> C -> E + P`, say. The laws are
the rows of the reduced row-echelon form of a basis of that space, so each has
a **pivot**, a species no other law holds, which the pass
`passes.reactions.eliminate_conserved` may compute from the others.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..symbolic import ReactionNetwork

__all__ = ["ConservationLaw", "conservation_laws"]


@dataclasses.dataclass(frozen=True)
class ConservationLaw:
    """`sum(c * amount of species)` is constant; `pivot` appears in no other law."""

    coefficients: tuple[tuple[str, sp.Rational], ...]
    pivot: str

    def describe(self) -> str:
        terms = " + ".join(("" if c == 1 else f"{c}*") + name for name, c in self.coefficients)
        return f"{terms} = constant (amounts)"


def conservation_laws(network: ReactionNetwork) -> tuple[ConservationLaw, ...]:
    """The conservation laws of the species that reactions move (exact, rational)."""
    moved = [s.name for s in network.species if s.changed_by_reactions]
    if not moved or not network.reactions:
        return ()
    index = {s.name: k for k, s in enumerate(network.species)}
    full = network.stoichiometry()
    matrix = sp.Matrix([list(full.row(index[name])) for name in moved])
    basis = matrix.T.nullspace()
    if not basis:
        return ()
    rows, pivots = sp.Matrix.hstack(*basis).T.rref()
    laws = []
    for k, pivot in enumerate(pivots):
        row = rows.row(k)
        scale = sp.ilcm(*[sp.fraction(x)[1] for x in row])
        coefficients = tuple((moved[j], sp.Rational(row[j] * scale))
                             for j in range(len(moved)) if row[j] != 0)
        laws.append(ConservationLaw(coefficients, moved[pivot]))
    return tuple(laws)
