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
import functools
import math
from collections.abc import Callable

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
    - `boundary`: reactions read it but do not change it; `constant`: nothing does;
      `defined_by_equation`: an equation of the model does (and no reaction).
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
    # an equation of the model defines it (reactions do not move it)
    defined_by_equation: bool = False

    @property
    def changed_by_reactions(self) -> bool:
        return not (self.boundary or self.constant or self.defined_by_equation)

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

    def map_exprs(self, fn: Callable[[sp.Basic], sp.Basic]) -> ReactionNetwork:
        """This network with `fn` applied to its rates, constants and volumes (for the
        passes that substitute into every expression: a species' own symbol stays)."""
        def opt(e):
            return None if e is None else fn(e)
        return ReactionNetwork(
            tuple(dataclasses.replace(s, volume=fn(s.volume)) for s in self.species),
            tuple(dataclasses.replace(r, rate=fn(r.rate), volume=fn(r.volume),
                                      constant=opt(r.constant)) for r in self.reactions))

    @functools.cached_property
    def _by_name(self) -> dict[str, NetworkSpecies]:
        return {s.name: s for s in self.species}

    def species_named(self, name: str) -> NetworkSpecies:
        return self._by_name[name]

    @functools.cached_property
    def entries(self) -> tuple[tuple[int, int, sp.Expr], ...]:
        """The nonzeros of the net stoichiometric matrix, `(species, reaction, net)`
        by index, species by species (found from the reactions' sides: no pass over
        every species-reaction pair)."""
        index = {s.name: k for k, s in enumerate(self.species)}
        found: dict[tuple[int, int], sp.Expr] = {}
        for j, r in enumerate(self.reactions):
            for name in dict.fromkeys([s for s, _ in r.reactants + r.products]):
                net = r.net(name)
                if net != 0:
                    found[(index[name], j)] = net
        return tuple((i, j, net) for (i, j), net in sorted(found.items()))

    def stoichiometry(self) -> sp.Matrix:
        """The net stoichiometric matrix: species (rows, in order) by reactions."""
        out = sp.zeros(len(self.species), len(self.reactions))
        for i, j, net in self.entries:
            out[i, j] = net
        return out

    def per_volume(self, species: NetworkSpecies) -> sp.Expr:
        """What a species' state is per: its volume for a concentration state, else 1
        (an amount, or the amount state of a species in a varying compartment)."""
        concentration = species.state == species.symbol and not species.amount
        return species.volume if concentration else sp.Integer(1)

    def state_rates(self) -> dict[str, sp.Expr]:
        """The time derivative of each state the reactions move, by the state's name:
        the sum over its reactions of `coefficient * rate` (the volumes cancel where
        they are the same symbol)."""
        terms: dict[int, list[sp.Expr]] = {}
        for i, j, net in self.entries:
            s, r = self.species[i], self.reactions[j]
            terms.setdefault(i, []).append(net * (r.volume / self.per_volume(s)) * r.rate)
        return {s.state.name: sp.Add(*terms.get(i, ())) for i, s in enumerate(self.species)
                if s.changed_by_reactions}


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
