"""A reaction network's right-hand side as stoichiometry times a rate vector.

The System holds each species' reaction-rate equation written out (a sum over
its reactions), which every pass reads. Generated code keeps the network's
structure instead, so that its size grows with the number of reactions, not
with the number of species-reaction pairs, and a large network traces and
compiles quickly:

- rates of the form `factor * x_a * x_b` (mass action, `k/s!` times the
  reactants; or a rate written so, as SBML's mass-action kinetic laws are) are
  computed together: the states are gathered by an index table
  (`MASS_ACTION_INDEX`, a state squared listed twice, short rows padded with a
  slot that holds 1) and multiplied along the rows, times the factors;
- every other rate is one expression (`_other_rates`, shared subexpressions
  found as usual);
- `dy` gains `coefficient * rate` at each nonzero of the stoichiometric matrix
  (`NETWORK_ROWS`, `NETWORK_COLUMNS`; the coefficient is the net stoichiometry
  times the reaction's volume over the state's: numbers, or expressions of
  the volumes in `_network_coefficients`).

A species' equation is taken in this form only where it is still exactly the
network's sum after the passes (structural equality); any other equation, and
the rest of the model, is generated as usual (`_rhs_rest`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import sympy as sp

from ..symbolic import NetworkReaction, ReactionNetwork, System

if TYPE_CHECKING:
    from ._layout import Layout

__all__ = ["RATE_FACTORS", "emit_network_rhs", "network_preparation", "network_states"]

# The most reactant molecules (coefficients added) a reaction's rate may take to be
# computed with the mass-action table; others are written out.
MAX_MOLECULES = 4
# The key of the table's rate factors in `p` (no model name can be it): the generated
# `prepare(p)` computes them once a solve, not at every stage of every step, where
# their stack (one entry per reaction) made most of a large network's program.
RATE_FACTORS = "<rate factors>"


def network_preparation(moved: set[str]) -> list[str]:
    """The line of the generated `prepare(p)` that computes the rate factors (none
    without a network in the network form)."""
    return [f"    p[{RATE_FACTORS!r}] = _rate_factors(p)"] if moved else []


def network_states(system: System, layout: tuple[Layout, ...]) -> set[str]:
    """The states whose equation is exactly the network's sum (see module docstring)."""
    network: ReactionNetwork | None = system.reactions
    if network is None or not network.reactions or system.brownians:
        return set()
    # The rates must be in terms of what the program knows: a pass that substituted
    # into the equations but not into the network (the DAE passes) leaves names behind.
    known = {system.time, *(v.symbol for v in system.states),
             *(p.symbol for p in system.free_parameters)}
    for r in network.reactions:
        used = r.rate.free_symbols | r.volume.free_symbols
        if r.constant is not None:
            used |= r.constant.free_symbols
        if not used <= known:
            return set()
    expected = network.state_rates()
    rhs = {e.target: e.rhs for e in system.equations if e.kind == "ode"}
    return {s.name for s in layout if s.shape == () and s.name in expected
            and rhs.get(s.name) == expected[s.name] and expected[s.name] != 0}


def _table_row(r: NetworkReaction, network: ReactionNetwork, position: dict[sp.Symbol, int],
               parameters: set[sp.Symbol]) -> tuple[list[int], sp.Expr] | None:
    """A rate of the form `factor * x_a * x_b ...` (the factor an expression of the
    parameters, the x's states): the state indices it multiplies (repeated by their
    powers) and the factor; None where the rate must be written out. Mass action is
    read from the reaction (`k / prod(s!)` times its reactants' concentrations); a
    rate written in full is taken apart into its factors (SBML's mass-action
    kinetic laws, `k*A*B`)."""
    row: list[int] = []
    if r.constant is not None:
        factor = r.constant
        for name, s in r.reactants:
            species = network.species_named(name)
            if species.amount or species.symbol not in position or not (
                    sp.Integer(s) == s and s > 0):
                return None
            row += [position[species.symbol]] * int(s)
            factor = factor / math.factorial(int(s))
    else:
        factor = sp.Integer(1)
        for part in sp.Mul.make_args(r.rate):
            base, power = part.as_base_exp()
            if base in position and power.is_Integer and power > 0:
                row += [position[base]] * int(power)
            elif part.free_symbols <= parameters:
                factor = factor * part
            else:
                return None
    if not factor.free_symbols <= parameters or len(row) > MAX_MOLECULES:
        return None
    return row, factor


def emit_network_rhs(system: System, layout: tuple[Layout, ...], moved: set[str],
                     names: dict, shapes: dict, function: Callable[..., list[str]],
                     rest: dict[str, sp.Expr]) -> list[str]:
    """The lines of `rhs` (and its helpers) in the network form; `rest` is every
    state's right side, to which the network adds its flux (zero for `moved`)."""
    network: ReactionNetwork = system.reactions
    position = {v.symbol: s.start for v, s in zip(system.states, layout)}
    parameters = {p.symbol for p in system.free_parameters}
    table: list[tuple[int, list[int], sp.Expr]] = []  # (reaction, state indices, factor)
    others: list[int] = []
    for j, r in enumerate(network.reactions):
        found = _table_row(r, network, position, parameters)
        if found is None:
            others.append(j)
        else:
            table.append((j, *found))
    start = {s.name: s.start for s in layout}

    rows, columns, coefficients = [], [], []
    for i, j, net in network.entries:
        s, r = network.species[i], network.reactions[j]
        if s.state.name in moved:
            rows.append(start[s.state.name])
            columns.append(j)
            coefficients.append(net * (r.volume / network.per_volume(s)))
    n_states = layout[-1].stop if layout else 0
    pad = n_states  # the slot holding 1
    width = max((len(ix) for _, ix, _ in table), default=0)
    out = [
        f"N_REACTIONS = {len(network.reactions)}",
        f"NETWORK_ROWS = jnp.asarray({tuple(rows)!r}, dtype=int)",
        f"NETWORK_COLUMNS = jnp.asarray({tuple(columns)!r}, dtype=int)",
        f"MASS_ACTION_REACTIONS = jnp.asarray({tuple(j for j, _, _ in table)!r}, dtype=int)",
        "MASS_ACTION_INDEX = jnp.asarray("
        f"{tuple(tuple(ix + [pad] * (width - len(ix))) for _, ix, _ in table)!r}, "
        f"dtype=int).reshape({len(table)}, {width})",
        f"OTHER_REACTIONS = jnp.asarray({tuple(others)!r}, dtype=int)",
        "",
        "",
    ]
    reactions = network.reactions
    out += function("_rate_factors", "p", "The parameter factors of the rates in the table.",
                    system, names, shapes, {str(j): f for j, _, f in table},
                    unpack_states=False, result="stack")
    out += function("_other_rates", "t, y, p", "The rates not in the mass-action table.",
                    system, names, shapes, {str(j): reactions[j].rate for j in others},
                    unpack_states=True, result="stack")
    numbers = [float(c) if c.is_number else 0.0 for c in coefficients]
    symbolic = {str(k): c for k, c in enumerate(coefficients) if not c.is_number}
    out += [f"NETWORK_COEFFICIENTS = jnp.asarray({tuple(numbers)!r})",
            f"SYMBOLIC_COEFFICIENTS = jnp.asarray({tuple(int(k) for k in symbolic)!r}, "
            "dtype=int)", "", ""]
    out += function("_symbolic_coefficients", "t, y, p", "The coefficients that are not "
                    "numbers (volumes).", system, names, shapes, symbolic,
                    unpack_states=True, result="stack")
    out += [
        "def _network_coefficients(t, y, p):",
        '    """Net stoichiometry times the reaction\'s volume over the state\'s, at each '
        'nonzero."""',
        "    return NETWORK_COEFFICIENTS.at[SYMBOLIC_COEFFICIENTS].set("
        "_symbolic_coefficients(t, y, p))"
        if symbolic else "    return NETWORK_COEFFICIENTS",
        "",
        "",
    ]
    if all(e == 0 for e in rest.values()):  # every state's equation is the network's
        out += ["def _rhs_rest(t, y, p):",
                '    """dy/dt of everything but the network\'s flux: nothing."""',
                "    return jnp.zeros_like(y)", "", ""]
    else:
        out += function("_rhs_rest", "t, y, p", "dy/dt of everything but the network's "
                        "flux.", system, names, shapes, rest, unpack_states=True,
                        result="vector")
    product = " * ".join(f"x[MASS_ACTION_INDEX[:, {k}]]" for k in range(width)) or "1.0"
    out += [
        "def reaction_rates(t, y, p):",
        '    """Every reaction\'s rate (per volume of its compartment), in order."""',
        "    x = jnp.concatenate([y, jnp.ones((1,), dtype=y.dtype)])",
        "    w = jnp.zeros((N_REACTIONS,), dtype=y.dtype)",
        f"    factors = p[{RATE_FACTORS!r}] if {RATE_FACTORS!r} in p else _rate_factors(p)",
        f"    w = w.at[MASS_ACTION_REACTIONS].set(factors * {product})",
        "    return w.at[OTHER_REACTIONS].set(_other_rates(t, y, p))",
        "",
        "",
        "def rhs(t, y, p):",
        '    """The time derivative dy/dt of the flat state vector y."""',
        "    flux = _network_coefficients(t, y, p) * reaction_rates(t, y, p)[NETWORK_COLUMNS]",
        "    return _rhs_rest(t, y, p).at[NETWORK_ROWS].add(flux)",
        "",
        "",
    ]
    return out
