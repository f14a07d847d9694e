"""A network read as a jump process (`interpretation = jump`): its propensities.

The exact stochastic simulation counts molecules: the count of a species is its
amount (its concentration times its volume). Reaction `j` fires with propensity

- mass action `k * V_j * prod_i binomial(n_i, s_i) / V_i^s_i` (`n_i` the count,
  `s_i` the coefficient of reactant `i`): the jump process whose mean-field
  limit is the reaction-rate ODE under the combinatoric convention;
- a rate written in full: `V_j * rate`, the rate evaluated at the
  concentrations `n_i / V_i`.

`to_jump_rates` returns the system with these as its observed outputs
(`propensity.<reaction>`, in reaction order) beside the factor from each
state to its count (`count.<state>`: the volume, or 1), expressed in the
states, so that the usual passes and codegen compile them. What a jump
process cannot be is refused here, by name.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...errors import SymflowError
from ...symbolic import NetworkReaction, NetworkSpecies, Observed, System

__all__ = ["COUNT_PREFIX", "PROPENSITY_PREFIX", "to_jump_rates"]

PROPENSITY_PREFIX = "propensity."
COUNT_PREFIX = "count."


def _falling(n: sp.Expr, s: int) -> sp.Expr:
    """n (n - 1) ... (n - s + 1)."""
    out: sp.Expr = sp.Integer(1)
    for k in range(s):
        out *= n - k
    return out


def _propensity(r: NetworkReaction, species: dict[str, NetworkSpecies]) -> sp.Expr:
    if r.constant is None:
        return r.volume * r.rate
    out = r.constant * r.volume
    for name, s in r.reactants:
        sp_ = species[name]
        count = sp_.symbol if sp_.amount else sp_.volume * sp_.symbol
        out *= _falling(count, int(s)) / (sp.factorial(int(s)) * sp_.volume**s)
    return out


def _refuse(system: System) -> None:
    network = system.reactions
    if network is None:
        raise SymflowError("the jump interpretation needs a reactions section")
    why = None
    if system.events:
        why = "events are not run by the jump solvers yet"
    elif system.brownians:
        why = "the model has Brownian motions of its own"
    elif any(e.kind == "implicit" for e in system.equations):
        why = "it has implicit (algebraic) equations"
    elif any(s.state != s.symbol for s in network.species):
        why = "a compartment's volume varies"
    elif any(not sp.Integer(c) == c for r in network.reactions
             for _, c in r.reactants + r.products):
        why = "a stoichiometric coefficient is not a whole number"
    if why is None:
        species = {s.name for s in network.species}
        others = [v.name for v in system.states if v.name not in species]
        if others:
            why = (f"'{others[0]}' is a state that is not a species (a jump process has "
                   "only counts)")
    if why is not None:
        raise SymflowError(f"model {system.name} cannot be read as a jump process: {why}",
                           help="run it with interpretation = ode or langevin")


def to_jump_rates(system: System) -> System:
    """The system with the propensities and count factors as its observed outputs."""
    _refuse(system)
    network = system.reactions
    species = {s.name: s for s in network.species}
    observed = [Observed(PROPENSITY_PREFIX + r.name, sp.Symbol(PROPENSITY_PREFIX + r.name),
                         _propensity(r, species), (), None, r.span)
                for r in network.reactions]
    for v in system.states:
        s = species[v.name]
        factor = sp.Integer(1) if s.amount else s.volume
        observed.append(Observed(COUNT_PREFIX + v.name, sp.Symbol(COUNT_PREFIX + v.name),
                                 factor, (), None, s.span))
    return dataclasses.replace(system, observed=tuple(observed))
