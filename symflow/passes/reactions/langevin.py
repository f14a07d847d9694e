"""The chemical Langevin equation of a network (`interpretation = langevin`).

Each reaction direction `j` gets its own Brownian motion `W_j`, and the amount of
each species moves by `N_ij * (a_j dt + sqrt(a_j) dW_j)` (Itô), `a_j` the
reaction's extensive rate (volume times rate: molecules per time when amounts
count molecules). A concentration state divides both by its volume, so the
noise shrinks as `1/sqrt(volume)`: volumes set the system size. `sqrt` is taken
of `max(a_j, 0)`, so that a rate pushed below zero by a step does not make NaNs.
Without `dt`, `rtol` or `atol` the SDE takes fixed steps of a thousandth of the
span.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...catalog import SDE_SOLVERS
from ...errors import SymflowError
from ...symbolic import Brownian, System

__all__ = ["to_langevin"]


def to_langevin(system: System) -> System:
    """The network's reaction-rate ODEs with the Langevin noise terms added."""
    network = system.reactions
    if network is None:
        raise SymflowError("the Langevin interpretation needs a reactions section")
    if system.brownians:
        raise SymflowError("a model with its own Brownian motions cannot also be read as "
                           "a chemical Langevin SDE")
    if any(e.kind == "implicit" for e in system.equations):
        raise SymflowError("the Langevin interpretation needs explicit equations",
                           help="models with algebraic (implicit) equations or components "
                                "run as ODEs")
    taken = {v.name for v in system.variables} | {p.name for p in system.parameters}
    brownians = []
    for r in network.reactions:
        name = f"W_{r.name}"
        while name in taken:
            name += "_"
        brownians.append(Brownian(name, sp.Dummy("d" + name, real=True), r.span))
    noise = [sp.sqrt(sp.Max(r.extensive_rate, 0)) for r in network.reactions]
    by_state = {s.state.name: s for s in network.species if s.changed_by_reactions}
    equations = []
    for e in system.equations:
        s = by_state.get(e.target)
        if e.kind != "ode" or s is None:
            equations.append(e)
            continue
        per_volume = s.volume if s.state == s.symbol and not s.amount else sp.Integer(1)
        diffusion = tuple(r.net(s.name) * g / per_volume
                          for r, g in zip(network.reactions, noise))
        equations.append(dataclasses.replace(e, diffusion=diffusion))
    settings = system.settings
    if settings.solver not in SDE_SOLVERS:
        settings = dataclasses.replace(settings, solver="auto")
    # The noise is general (not commutative): no adaptive SDE solver converges to its
    # Itô solution, so the SDE takes fixed steps; the ODE's tolerances do not apply.
    spans = tuple((k, v) for k, v in settings.spans if k not in ("rtol", "atol"))
    settings = dataclasses.replace(settings, spans=spans)
    if settings.dt0 is None:  # a thousandth of the span unless a step is asked for
        t0, t1 = settings.tspan
        settings = dataclasses.replace(settings, dt0=abs(t1 - t0) / 1000)
    return dataclasses.replace(system, brownians=tuple(brownians), equations=tuple(equations),
                               settings=settings)
