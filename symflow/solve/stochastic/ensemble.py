"""Ensembles: many trajectories of one model in one compiled, vectorized program.

One trajectory is a function `member(key, params) -> (values, result)`: an SDE
solved on its own Brownian path (a `diffrax.VirtualBrownianTree` seeded by
`key`), or an ODE solved with its own parameters (a sweep) or random initial
values. An ensemble maps it over `n` keys (split from one seed up front, so
trajectory `i` is the same whether the ensemble runs at once, in chunks, or
sharded) with `jax.vmap`; `chunk_size` runs the vmapped member over chunks
one after another (`jax.lax.map(batch_size=...)`) when all paths at once do
not fit in memory; a `jax.sharding.Mesh` splits the trajectories over devices
(`NamedSharding` of the keys and swept parameters; XLA partitions the rest).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from ...codegen import GeneratedModel
from ...errors import SolverError, SymflowError
from .._compat import result_code, result_message
from ..adjoints import Problem
from ..config import SolveConfig
from ..events import EVENT_RESULTS, EventProgram, make_hybrid_solve
from ..inputs import check_input_span, stop_at_knots
from ..simulate import Simulator
from . import solvers as _sde_solvers
from .solution import (
    DEFAULT_QUANTILES,
    EnsembleSolution,
    ensemble_solution,
    moments,
    moments_jit,
    quantiles_of,
)
from .terms import NoiseTerm

__all__ = ["EnsembleConfig", "EnsembleSimulator", "auto_mesh", "mesh_context"]


# The tolerances of adaptive SDE steps travel with the parameters, under names no
# model parameter can have (generated code reads its parameters by name only).
_RTOL, _ATOL = "symflow:rtol", "symflow:atol"


@dataclasses.dataclass(frozen=True)
class EnsembleConfig:
    """What fixes the compiled ensemble program: changing any of these recompiles.

    For an SDE, `solver` is an SDE solver name and `dt` the fixed step;
    `brownian_tol` is the resolution of the virtual Brownian tree (keep it fixed
    to compare step sizes on the same Brownian path). For an ODE, `ode` is the
    configuration of each member's solve.

    `brownian_path`: `"fast"` draws each step's increment once
    (`diffrax.UnsafeBrownianPath`: valid for fixed steps, faster; forward-mode
    differentiation only);
    `"tree"` is a `diffrax.VirtualBrownianTree`, one continuous path that can be
    evaluated anywhere (needed to save W, and to compare step sizes on one path).
    """

    trajectories: int
    n_save: int
    solver: str = "euler"
    calculus: str = "ito"
    t0: float = 0.0
    t1: float = 1.0
    dt: float | None = None
    brownian_tol: float | None = None
    brownian_path: str = "fast"
    ode: SolveConfig | None = None
    chunk_size: int | None = None
    stats_only: bool = False
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    save_noise: bool = False
    swept: tuple[str, ...] = ()
    # Adaptive SDE steps: a PID controller on a Brownian tree, `dt` the first
    # step; the tolerances are run-time values (`run(tolerances=...)`: changing
    # them does not recompile). `clip_rejected` stores rejected steps for
    # non-commutative noise (Foster & Jelinčič 2024: otherwise the solution is biased).
    adaptive: bool = False
    max_steps: int = 100_000
    clip_rejected: int | None = None
    # Adaptive steps for an Itô model with multiplicative noise: solve its
    # Stratonovich form, drift `f - 1/2 sum_j L^j g_j` (the same solution on the
    # same Brownian path), with a Stratonovich solver that has an error estimate.
    ito_to_stratonovich: bool = False
    # A model with events: the size of each trajectory's event log, and the interior
    # checks per step (events/locate.py).
    max_events: int = 1000
    event_samples: int = 3


class EnsembleSimulator:
    """Runs ensembles of a `GeneratedModel`; one compiled program per configuration."""

    def __init__(self, generated: GeneratedModel, simulator: Simulator | None = None):
        self.generated = generated
        self.simulator = simulator or Simulator(generated)
        self._cache: dict[EnsembleConfig, Callable] = {}

    # ------------------------------------------------------------ one member

    def random_initial(self, key: jax.Array, params: Mapping[str, Any]
                       ) -> dict[str, jax.Array]:
        """Draws of the random initial values (`x ~ normal(mu, sd)`, `uniform(a, b)`)."""
        g = self.generated
        distributions = g.initial_distributions  # generated with `random_initial`
        if not g.random_initial or distributions is None:
            return {}
        args = distributions(params)
        shapes = {s.name: s.shape for s in g.states}
        keys = jax.random.split(key, len(g.random_initial))
        out = {}
        for k, (name, kind) in zip(keys, g.random_initial):
            a, b = args[name]
            if kind == "normal":
                out[name] = a + b * jax.random.normal(k, shapes[name])
            else:
                out[name] = a + (b - a) * jax.random.uniform(k, shapes[name])
        return out

    def member_fn(self, config: EnsembleConfig) -> Callable:
        """`(key, params, ts) -> (values, result)` for one trajectory."""
        g = self.generated
        sim = self.simulator
        if config.ode is not None:
            solve = sim.solve_program(config.ode)  # the same solve, unjitted

            def ode_member(key, params, ts):
                sol = solve(params, self.random_initial(key, params), ts).with_params(params)
                # every state and observed output of each member, as the SDE side's
                # members give them (the statistics are taken over all of them)
                return {name: sol[name] for name in sol.names}, sol.result

            return ode_member

        info = _sde_solvers.SDE_SOLVER_INFO[config.solver]
        solver = _sde_solvers.make_sde_solver(config.solver, config.calculus, g.milstein)
        m = sum(g.brownian_sizes)
        offsets = np.cumsum((0,) + g.brownian_sizes)
        levy = diffrax.SpaceTimeLevyArea if info.levy_area else diffrax.BrownianIncrement
        t0, t1, dt = config.t0, config.t1, config.dt
        check_input_span(g.inputs, t0, t1)  # tables read by the drift or the diffusion
        adaptive = config.adaptive
        if adaptive:
            tol = config.brownian_tol if config.brownian_tol is not None \
                else (t1 - t0) * 2.0**-20
            dt = dt if dt is not None else (t1 - t0) / 100
            max_steps = config.max_steps
        else:
            if dt is None:  # the stochastic side asks for dt before it builds the config
                raise SymflowError("SDE solvers take fixed steps: set dt")
            tol = config.brownian_tol if config.brownian_tol is not None else dt / 2
            max_steps = int(math.ceil((t1 - t0) / dt - 1e-9)) + 1
        if config.ito_to_stratonovich:
            # The generated Milstein term at dW = 0 and h = 1 is
            # 1/2 sum_{j1,j2} L^{j1} g_{j2} (0 - delta_{j1 j2}) = -1/2 sum_j L^j g_j,
            # the Itô-to-Stratonovich drift correction (Kloeden & Platen 1992, §4.9).
            zeros = jnp.zeros(m)

            def drift_fn(t, y, p):
                return g.rhs(t, y, p) + g.milstein(t, y, p, zeros, 1.0)
        else:
            def drift_fn(t, y, p):
                return g.rhs(t, y, p)
        drift = diffrax.ODETerm(drift_fn)
        # diffrax differentiates an UnsafeBrownianPath solve in forward mode only;
        # reverse-mode gradients need the Brownian tree (checkpointed adjoint).
        adjoint = (diffrax.ForwardMode() if config.brownian_path == "fast"
                   else diffrax.RecursiveCheckpointAdjoint())

        def member(key, params, ts):
            if adaptive:
                params = dict(params)
                rtol, atol = params.pop(_RTOL), params.pop(_ATOL)
                # adaptive steps stop on the inputs' knots (solve/inputs.py)
                controller = stop_at_knots(diffrax.PIDController(rtol=rtol, atol=atol),
                                           g.inputs, t0, t1,
                                           store_rejected_steps=config.clip_rejected)
            else:
                controller = diffrax.ConstantStepSize()
            if g.prepare is not None:  # what a path computes once
                params = g.prepare(params)
            key_path, key_initial = jax.random.split(key)
            values0 = dict(g.initial_values(params))
            values0.update(self.random_initial(key_initial, params))
            y0 = sim.pack(values0)
            # with events, a step is cut at the event and the solve restarts there:
            # only the tree is one Brownian path across the cut
            if config.brownian_path == "tree" or g.events:
                path = diffrax.VirtualBrownianTree(t0, t1, tol=tol, shape=(m,), key=key_path,
                                                   levy_area=levy)
            else:
                path = diffrax.UnsafeBrownianPath(shape=(m,), key=key_path, levy_area=levy)
            terms = diffrax.MultiTerm(drift, NoiseTerm(g.diffusion, g.noise, path))
            if g.events:
                problem = Problem(
                    rhs=drift_fn, terms=terms, solver=solver, controller=controller,
                    solver_name=config.solver, t0=t0, t1=t1, dt0=dt, max_steps=max_steps,
                    n_save=len(ts), dense=False, progress_meter=diffrax.NoProgressMeter())
                ys, result = _hybrid_trajectory(g, config, problem, params, y0, ts)
            else:
                sol = diffrax.diffeqsolve(
                    terms, solver, t0=t0, t1=t1, dt0=dt, y0=y0, args=params,
                    saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
                    max_steps=max_steps, throw=False, adjoint=adjoint)
                ys, result = sol.ys, result_code(sol.result)
            values = sim.unpack(ys)
            values.update(jax.vmap(lambda t, y: g.observed_fn(t, y, params))(ts, ys))
            if config.save_noise:
                w = jax.vmap(lambda t: path.evaluate(t0, t))(ts)
                # a Brownian field (more than one point) is saved as a field
                values.update({b: w[:, offsets[k]] if g.brownian_sizes[k] == 1
                               else w[:, offsets[k]:offsets[k + 1]]
                               for k, b in enumerate(g.brownian)})
            return values, result

        return member

    # ------------------------------------------------------------ the ensemble

    def ensemble_fn(self, config: EnsembleConfig) -> Callable:
        """The jitted `(keys, params, swept, ts) -> (paths, mean, std, result)`;
        `swept` holds the per-trajectory values of swept parameters. The quantiles
        are not in it: `EnsembleSolution` computes them when asked for."""
        key = dataclasses.replace(config, stats_only=False)
        if key not in self._cache:
            member = self.member_fn(config)

            def one(key, params, swept, ts):
                return member(key, {**params, **swept}, ts)

            def ensemble(keys, params, swept, ts):
                if keys.ndim == 0:  # a seed: split the keys inside the compiled program
                    keys = jax.random.split(jax.random.PRNGKey(keys), config.trajectories)
                if config.chunk_size is not None and config.chunk_size < keys.shape[0]:
                    paths, result = jax.lax.map(lambda xs: one(xs[0], params, xs[1], ts),
                                                (keys, swept), batch_size=config.chunk_size)
                else:
                    paths, result = jax.vmap(one, in_axes=(0, None, 0, None))(
                        keys, params, swept, ts)
                mean, std = moments(paths)
                return paths, mean, std, result

            # `stats_only` only drops the paths afterwards: it does not recompile.
            self._cache[key] = jax.jit(ensemble)
        return self._cache[key]

    def run(self, config: EnsembleConfig, params: Mapping[str, Any], ts: np.ndarray, *,
            seed: int = 0, sweep: Mapping[str, Any] | None = None,
            mesh: jax.sharding.Mesh | None = None,
            tolerances: tuple[float, float] | None = None) -> EnsembleSolution:
        """Run the ensemble: `config.trajectories` members, keys split from `seed`.

        `sweep` maps parameter names to arrays of `trajectories` values (one per
        member). `mesh` (a 1-D `jax.sharding.Mesh`) shards the members over its
        devices; the number of members is padded to a multiple of the mesh size.
        """
        n = config.trajectories
        if n < 1:
            raise SymflowError(f"trajectories must be at least 1, not {n}")
        swept = {k: jnp.asarray(v, dtype=float) for k, v in (sweep or {}).items()}
        for k, v in swept.items():
            if v.shape != (n,):
                raise SymflowError(f"the sweep of {k!r} has {v.size} values for {n} "
                                   "trajectories")
        params = {k: v for k, v in params.items() if k not in swept}
        if config.adaptive:
            if tolerances is None:
                raise SymflowError("adaptive steps need tolerances=(rtol, atol)")
            params[_RTOL], params[_ATOL] = (jnp.asarray(x, dtype=float) for x in tolerances)
        # Without a mesh the keys are split inside the compiled ensemble (the same
        # keys: `PRNGKey(seed)` traced or not), which saves an eager dispatch per call.
        keys = jnp.asarray(seed)
        ts = np.asarray(ts, dtype=float)
        total = n
        if mesh is not None:
            keys = jax.random.split(jax.random.PRNGKey(seed), n)
            mesh = auto_mesh(mesh)
            size = mesh.devices.size
            total = -(-n // size) * size
            if total > n:  # pad with copies of the first member, dropped below
                keys = jnp.concatenate([keys, jnp.repeat(keys[:1], total - n, axis=0)])
                swept = {k: jnp.concatenate([v, jnp.repeat(v[:1], total - n)])
                         for k, v in swept.items()}
            sharding = jax.sharding.NamedSharding(
                mesh, jax.sharding.PartitionSpec(mesh.axis_names[0]))
            keys = jax.device_put(keys, sharding)
            swept = {k: jax.device_put(v, sharding) for k, v in swept.items()}
        fn = self.ensemble_fn(config)
        if mesh is not None:
            with mesh_context(mesh):
                return self._finish(fn, config, keys, params, swept, ts, n, total)
        return self._finish(fn, config, keys, params, swept, ts, n, total)

    def _finish(self, fn, config, keys, params, swept, ts, n, total) -> EnsembleSolution:
        paths, mean, std, result = fn(keys, params, swept, ts)
        if total > n:
            # Padding must not enter the statistics: compute them on the first n.
            paths = {k: v[:n] for k, v in paths.items()}
            result = result[:n]
            mean, std = moments_jit(paths)
        quantiles = None
        if config.stats_only:  # the paths are dropped: the quantiles cannot wait
            quantiles = quantiles_of(paths, config.quantiles)
            paths = None
        _raise_on_failures(result, config)
        names = tuple(self.simulator.generated.states[i].name
                      for i in range(len(self.simulator.generated.states)))
        names += tuple(n_ for n_, _ in self.generated.observed)
        if config.save_noise and config.ode is None:
            names += self.generated.brownian
        return ensemble_solution(
            t=jnp.asarray(ts), paths=paths, mean=mean, std=std, quantiles=quantiles,
            result=result, sweep={k: v[:n] for k, v in swept.items()},
            quantile_levels=tuple(config.quantiles), names=names,
            grid=self.simulator.grid, fields=self.simulator.fields)


def _hybrid_trajectory(generated: GeneratedModel, config: EnsembleConfig, problem: Problem,
                       params, y0, ts) -> tuple[jax.Array, jax.Array]:
    """One trajectory of a model with events through the hybrid loop
    (`events/hybrid.py`): its own event times, on the tree's Brownian path."""
    out = make_hybrid_solve(problem, EventProgram.from_generated(generated),
                            loop="checkpointed", max_events=config.max_events,
                            samples=config.event_samples)(params, y0, ts)
    return out.ys, out.result


def auto_mesh(mesh: jax.sharding.Mesh) -> jax.sharding.Mesh:
    """`mesh` with automatic (compiler-chosen) sharding on every axis: the members are
    vmapped through diffrax's while loops, whose batching does not carry explicit
    sharding types."""
    axis_type = getattr(jax.sharding, "AxisType", None)
    if axis_type is None:
        return mesh
    return jax.sharding.Mesh(mesh.devices, mesh.axis_names,
                             axis_types=(axis_type.Auto,) * len(mesh.axis_names))


def mesh_context(mesh):
    """Make `mesh` the current mesh while the ensemble traces and runs (JAX needs it to
    resolve the named axis inside diffrax's loops)."""
    if hasattr(jax, "set_mesh"):
        return jax.set_mesh(mesh)
    return mesh  # older JAX: a Mesh is itself a context manager


def _raise_on_failures(result, config: EnsembleConfig) -> None:
    if isinstance(result, jax.core.Tracer):
        return
    codes = np.asarray(result)
    failed = np.flatnonzero(codes != 0)
    if failed.size == 0:
        return
    code = int(codes[failed[0]])
    reason = EVENT_RESULTS.get(code) or result_message(code)
    raise SolverError(
        f"{failed.size} of {codes.size} trajectories failed (the first: trajectory "
        f"{failed[0]}): {reason}", float("nan"),
        help="a smaller dt may help; for an SDE, check that the model stays finite")
