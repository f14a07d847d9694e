"""`Model.simulate` for a reaction network read as a jump process (`interpretation = jump`).

The compiled model's observed outputs are the reactions' propensities
(`propensity.<reaction>`) and each state's count factor (`count.<state>`: its
volume, or 1 for an amount), written by `passes.to_jump_rates`. `ModelJumps`
builds the `JumpProgram` from them once (counts in, propensities out), turns
the initial state into whole counts, runs `simulate_jumps`, and gives the paths
back in the model's own units (count over factor).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from ... import catalog
from ...errors import SymflowError
from ..result_size import check_result_size
from ..simulate import save_times
from ..stochastic import DEFAULT_QUANTILES, EnsembleSolution
from .ensemble import simulate_jumps
from .program import JumpProgram

if TYPE_CHECKING:
    from ..runner import CompiledModel

__all__ = ["JUMP_OPTIONS", "ModelJumps"]

JUMP_OPTIONS = ("trajectories", "seed", "stats_only", "quantiles", "chunk_size", "mesh")
_PROPENSITY, _COUNT = "propensity.", "count."


class ModelJumps:
    """The jump side of one compiled `symflow.Model` (its `interpretation` is `jump`)."""

    def __init__(self, model: CompiledModel):
        self.model = model
        system = model.system
        network = system.reactions
        states = [v.name for v in system.states]
        self.reactions = tuple(r.name for r in network.reactions)
        self.states = tuple(states)
        changes = np.zeros((len(self.reactions), len(states)), dtype=int)
        for i, j, net in network.entries:
            name = network.species[i].state.name
            if name in states:
                changes[j, states.index(name)] = int(net)
        observed = model.generated.observed_fn
        keys = tuple(_PROPENSITY + r for r in self.reactions)
        count_keys = tuple(_COUNT + s for s in states)
        pack = model.runner.simulator.pack

        def factors(p: dict) -> jax.Array:
            out = observed(jnp.asarray(0.0), jnp.zeros(len(states)), p)
            return jnp.stack([jnp.asarray(out[k], dtype=float) for k in count_keys])

        def propensities(t, n, p):
            out = observed(t, n / factors(p), p)
            return jnp.stack([jnp.asarray(out[k], dtype=float) for k in keys])

        self.factors = factors
        self.pack = pack
        self.program = JumpProgram(propensities, changes, self.states)

    def simulate(self, params: Mapping[str, Any] | None, solver: str | None,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> EnsembleSolution:
        """An ensemble of exact (`direct`) or tau-leaping paths; `dt` is the leap."""
        for name in extra:
            if name not in JUMP_OPTIONS:
                raise SymflowError(f"{name!r} is not an option of the jump solvers",
                                   help="their options: " + ", ".join(JUMP_OPTIONS))
        for name in ("rtol", "atol"):
            if options.get(name) is not None:
                raise SymflowError(f"{name} is not an option of the jump solvers",
                                   help="exact stochastic simulation has no tolerance; "
                                        "tau_leaping takes its leap from dt")
        m = self.model
        s = m.settings
        name = solver if solver is not None else s.solver
        name = "direct" if name == catalog.AUTO else name
        if name not in catalog.JUMP_SOLVERS:
            raise SymflowError(f"unknown jump solver {name!r}",
                               help="jump solvers: " + ", ".join(catalog.JUMP_SOLVERS))
        tspan = options["tspan"] if options["tspan"] is not None else s.tspan
        saveat = options["saveat"] if options["saveat"] is not None else s.saveat
        ts = save_times(tspan, saveat)
        if ts[-1] < ts[0]:
            raise SymflowError("a jump process runs forwards in time: t1 must follow t0")
        n = int(extra.get("trajectories", s.trajectories))
        chunk = extra.get("chunk_size")
        check_result_size(
            times=len(ts), values=len(self.states),
            trajectories=min(n, chunk) if extra.get("stats_only") and chunk else n,
            help="run fewer trajectories or save fewer times, or keep statistics only "
                 "and run the trajectories in chunks (stats_only=True, chunk_size=N)")
        p = m.complete_params(params)
        y0 = self.pack(m.initial_values(p, options["initial"]))
        factors = self.factors(p)
        counts = y0 * factors
        tau = options["dt"] if options["dt"] is not None else s.dt0
        if name == "tau_leaping" and tau is None:
            raise SymflowError("tau_leaping needs its leap: set dt",
                               help="for example dt = 0.01 in the simulate section")
        start = time.perf_counter()
        sol = simulate_jumps(
            self.program, _whole(counts, self.states), p, ts, solver=name, tau=tau,
            trajectories=n,
            seed=int(extra.get("seed", s.seed)),
            max_steps=int(options["max_steps"] if options["max_steps"] is not None
                          else s.max_steps),
            chunk_size=extra.get("chunk_size"), mesh=extra.get("mesh"),
            stats_only=bool(extra.get("stats_only", False)),
            quantiles=extra.get("quantiles", DEFAULT_QUANTILES))
        timings = options.get("timings")
        if timings is not None:
            timings["solver"] = name
            timings["ensemble (compile and run)"] = time.perf_counter() - start
        return _in_model_units(sol, dict(zip(self.states, np.asarray(factors))))


def _whole(counts: jax.Array, names: tuple[str, ...]) -> np.ndarray:
    """The initial counts, which must be whole numbers (molecules)."""
    values = np.asarray(counts, dtype=float)
    rounded = np.round(values)
    bad = np.flatnonzero(np.abs(values - rounded) > 1e-9 * np.maximum(1.0, np.abs(values)))
    if bad.size:
        k = int(bad[0])
        raise SymflowError(
            f"the initial amount of {names[k]} is {values[k]:g} molecules: the jump "
            "interpretation counts whole molecules",
            help="give initial values whose amount (concentration times volume) is a "
                 "whole number")
    return rounded


def _in_model_units(sol: EnsembleSolution, factors: dict[str, float]) -> EnsembleSolution:
    """The paths and statistics divided by each state's count factor (its volume)."""
    if all(f == 1.0 for f in factors.values()):
        return sol

    def scaled(values: dict | None) -> dict | None:
        if values is None:
            return None
        return {k: v / factors.get(k, 1.0) for k, v in values.items()}

    return EnsembleSolution(
        t=sol.t, paths=scaled(sol.paths), mean=scaled(sol.given_mean),
        std=scaled(sol.given_std), quantiles=scaled(sol.given_quantiles), result=sol.result,
        sweep=sol.sweep, quantile_levels=sol.quantile_levels, names=sol.names)
