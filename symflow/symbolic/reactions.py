"""Reaction networks: what a `reactions` section means, kept beside the equations.

The builder turns a network into ordinary equations (the reaction-rate ODEs,
`builder/reactions.py`), so every pass and solver sees an ODE system. The
network itself is kept on the `System` (`System.reactions`) for what needs its
structure: the conservation analysis, the chemical Langevin SDE and the exact
stochastic (jump) interpretations.

Conventions (docs/reactions.md): a reaction's `rate` is per unit volume of its
compartment (concentration per time); `volume * rate` is the amount changed per
time. A species' symbol stands for its concentration, or for its amount when
`amount` is set. A reversible reaction is kept as two reactions, forward and
backward, so that every rate is non-negative and the stochastic interpretations
see each direction fire on its own.
"""

from __future__ import annotations

import dataclasses
import math

import sympy as sp

from ..errors import Span

__all__ = ["NetworkSpecies", "NetworkReaction", "ReactionNetwork", "mass_action_rate"]


@dataclasses.dataclass(frozen=True)
class NetworkSpecies:
    """A species of a network.

    - `symbol`: what the name means in expressions (its concentration, or its
      amount with `amount`).
    - `volume`: the volume of its compartment (an expression; 1 without one).
    - `state`: the symbol of the state that holds it: the species' own symbol, or
      the amount `S_amount` of a species in a compartment whose volume varies.
    - `boundary`: reactions read it but do not change it; `constant`: nothing does.
    """

    name: str
    symbol: sp.Symbol
    compartment: str | None
    volume: sp.Expr
    amount: bool
    boundary: bool
    constant: bool
    state: sp.Symbol
    span: Span

    @property
    def changed_by_reactions(self) -> bool:
        return not (self.boundary or self.constant)

    @property
    def concentration(self) -> sp.Expr:
        """Its concentration, as mass action reads it."""
        return self.symbol / self.volume if self.amount else self.symbol


@dataclasses.dataclass(frozen=True)
class NetworkReaction:
    """One direction of a reaction.

    `reactants` and `products` are `(species, coefficient)` pairs; `rate` the rate
    per unit `volume` (mass action already written out); `constant` the rate
    constant of a mass-action reaction (`None` for a rate written in full).
    """

    name: str
    reactants: tuple[tuple[str, sp.Expr], ...]
    products: tuple[tuple[str, sp.Expr], ...]
    rate: sp.Expr
    volume: sp.Expr
    constant: sp.Expr | None
    span: Span

    @property
    def mass_action(self) -> bool:
        return self.constant is not None

    @property
    def extensive_rate(self) -> sp.Expr:
        """The amount changed per time: `volume * rate`."""
        return self.volume * self.rate

    def net(self, species: str) -> sp.Expr:
        """How much of `species` one occurrence of this reaction makes (negative: uses)."""
        made = sum((c for s, c in self.products if s == species), sp.Integer(0))
        used = sum((c for s, c in self.reactants if s == species), sp.Integer(0))
        return made - used


@dataclasses.dataclass(frozen=True)
class ReactionNetwork:
    """The species and reactions (each direction on its own) of a model."""

    species: tuple[NetworkSpecies, ...]
    reactions: tuple[NetworkReaction, ...]

    def species_named(self, name: str) -> NetworkSpecies:
        return next(s for s in self.species if s.name == name)

    def stoichiometry(self) -> sp.Matrix:
        """The net stoichiometric matrix: species (rows, in order) by reactions."""
        return sp.Matrix([[r.net(s.name) for r in self.reactions] for s in self.species])

    def rates(self, per_volume: dict[str, sp.Expr]) -> dict[str, sp.Expr]:
        """d(amount)/dt / `per_volume[name]` of every species changed by reactions, by
        name: the sum over reactions of net stoichiometry times `volume/per_volume`
        times rate (the volumes cancel where they are the same symbol)."""
        out: dict[str, sp.Expr] = {
            s.name: sp.Integer(0) for s in self.species if s.changed_by_reactions}
        for r in self.reactions:
            for name in dict.fromkeys([s for s, _ in r.reactants + r.products]):
                if name in out:
                    out[name] += r.net(name) * (r.volume / per_volume[name]) * r.rate
        return out


def mass_action_rate(constant: sp.Expr, reactants: tuple[tuple[sp.Expr, sp.Expr], ...]
                     ) -> sp.Expr:
    """`k * prod(x**s / s!)` over `(x, s)` pairs (Catalyst's combinatoric convention:
    then the reaction-rate ODE is the mean-field limit of the jump process whose
    propensity is `k * prod(binomial(n, s))`)."""
    rate = constant
    for x, s in reactants:
        factorial = math.factorial(int(s)) if sp.Integer(s) == s else sp.gamma(s + 1)
        rate *= x**s / factorial
    return rate
