"""Running a diffusion sampler on a model: a batch of samples in one diffrax solve.

`ModelSampling` is the sampler side of one compiled `symflow.Model`. A batch of
`trajectories` initial draws (`x ~ normal(0, 1)`, the same keys as the ODE and
SDE ensembles, so trajectory `i` starts from the same noise whichever solver
runs it) is solved as one state of shape `(trajectories, n_states)` by the
sampler (`diffusion/samplers/`) on a `diffrax.StepTo` grid of the chosen kind, with
the score vectorized over the batch. The result is an `EnsembleSolution`.

`steps` counts model (score) evaluations, warm-up included; the singlestep
DPM-Solvers turn it into outer steps of orders 1–3 (`_samplers.plan`).
Gradients: discretize-then-optimize through the solve, checkpointed
(`diffrax.RecursiveCheckpointAdjoint`, diffrax's default), or any diffrax adjoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from ... import catalog
from ...errors import Span, SymflowError
from .._compat import result_code
from ..simulate import Simulator
from ..stochastic import (
    DEFAULT_QUANTILES,
    EnsembleSimulator,
    EnsembleSolution,
    batch_mean,
    batch_std,
    ensemble_solution,
    quantiles_of,
)
from .samplers import SAMPLERS, make_sampler, plan
from .schedule import GRID_EXPONENTS, GRIDS, DiffusionSchedule, DiffusionTerm, step_grid

if TYPE_CHECKING:
    from ..runner import CompiledModel
    from .setup import DiffusionSetup


__all__ = ["SamplerConfig", "ModelSampling", "SAMPLER_OPTIONS", "SAMPLERS"]


# `ModelSampling.coefficients` keeps the coefficients of this many parameter values,
# for parameters of at most this many numbers each.
_KEPT_COEFFICIENTS = 8
_KEPT_PARAMETER_SIZE = 4096

# The sampler adjoints that are diffrax's (`deis` is `adjoint_deis.py`).
_DIFFRAX_ADJOINTS: dict[str, Callable[[], diffrax.AbstractAdjoint]] = {
    "checkpoint": diffrax.RecursiveCheckpointAdjoint, "backsolve": diffrax.BacksolveAdjoint,
    "forward": diffrax.ForwardMode, "direct": diffrax.DirectAdjoint}
assert {*_DIFFRAX_ADJOINTS, "deis"} == set(catalog.SAMPLER_ADJOINTS)

SAMPLER_OPTIONS = ("steps", "grid", "grid_exponent", "trajectories", "seed", "score",
                   "stats_only", "quantiles")


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """What fixes a compiled sampling program: changing any of these recompiles."""

    solver: str
    grid: str
    steps: int
    t0: float
    t1: float
    n_save: int
    adjoint: Any = "checkpoint"
    score: Callable | None = None  # a Python score(x, t, params), by identity
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    grid_exponent: float | None = None  # κ of grid = power, ρ of grid = edm


def check_sampler_options(solver: str, steps: int | None, grid: str | None,
                          span: Span | None = None) -> tuple[int, str]:
    """`(steps, grid)` checked for `solver`: steps must reach the method's order."""
    info = SAMPLERS[solver]
    if steps is None:
        raise SymflowError(f"sampler {solver} needs a number of model evaluations: set steps",
                           span, help="add `steps = 10` under simulate, or pass steps=")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise SymflowError(f"steps must be a whole number, not {steps!r}", span)
    if steps < info.min_steps:
        raise SymflowError(
            f"steps = {steps} is too small for {solver} (order {info.order}): it needs at "
            f"least {info.min_steps} model evaluations to take one step of its order", span,
            help=f"use steps >= {info.min_steps}, or a lower-order sampler such as ddim")
    grid = grid or "logsnr"
    if grid not in GRIDS:
        raise SymflowError(f"unknown grid {grid!r}", span, help="grids: " + ", ".join(GRIDS))
    return int(steps), grid


def check_grid_exponent(grid: str, exponent: float | None, span: Span | None = None
                        ) -> float | None:
    """The exponent of a `power` (κ) or `edm` (ρ) grid: a positive number; `None`
    keeps the grid's default (`GRID_EXPONENTS`). Other grids take none."""
    if exponent is None:
        return None
    if grid not in GRID_EXPONENTS:
        raise SymflowError(
            f"grid = {grid} has no exponent", span,
            help="grid_exponent sets κ of grid = power (t^(1/κ) evenly spaced) or ρ of "
                 "grid = edm (σ^(1/ρ) evenly spaced)")
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float, np.integer,
                                                               np.floating)):
        raise SymflowError(f"grid_exponent must be a number, not {exponent!r}", span)
    if not (np.isfinite(exponent) and 0 < exponent <= 100):
        raise SymflowError(f"grid_exponent must be positive (and at most 100), not {exponent}",
                           span)
    return float(exponent)


def sampler_grid(config: SamplerConfig, schedule: DiffusionSchedule,
                 params: Mapping[str, Any]) -> jax.Array:
    """The outer step times: `steps + 1` points of the grid (one per model
    evaluation), taken at the cumulative evaluation counts of the steps."""
    times = step_grid(config.grid, schedule, params, config.t0, config.t1, config.steps,
                      exponent=config.grid_exponent)
    at = np.concatenate([[0], np.cumsum(plan(config.solver, config.steps))])
    return times[at]


class ModelSampling:
    """The sampler side of one compiled `symflow.Model`."""

    def __init__(self, model: CompiledModel, simulator: Simulator,
                 ensembles: EnsembleSimulator):
        self.model = model
        self.simulator = simulator
        self.ensembles = ensembles
        self._setup: DiffusionSetup | None = None
        self._cache: dict = {}
        self._coefficients: dict = {}  # (config, parameter values) -> coefficients

    def setup(self) -> DiffusionSetup:
        """The diffusion form of the model (analysed and generated on first use)."""
        if self._setup is None:
            from .setup import diffusion_setup

            m = self.model
            self._setup = diffusion_setup(m.system, span=m.settings.span_of("solver"))
        return self._setup

    def _parts(self, config: SamplerConfig):
        """`(term, solver, schedule)` of a configuration (built once)."""
        key = ("parts", config)
        if key not in self._cache:
            setup = self.setup()
            lo, hi = sorted((config.t0, config.t1))
            base = setup.schedule
            schedule = DiffusionSchedule(base.log_alpha_fn, base.log_sigma_fn,
                                         base.t_of_lambda_fn, span=(0.0 if lo >= 0 else lo, hi))
            term = DiffusionTerm(schedule, setup.noise_fn(config.score),
                                 *setup.noise_parts(config.score))
            solver = make_sampler(config.solver, steps=config.steps, grid=config.grid,
                                  grid_exponent=config.grid_exponent)
            self._cache[key] = term, solver, schedule
        return self._cache[key]

    def coefficients_fn(self, config: SamplerConfig) -> Callable:
        """The jitted `params -> coefficients` of the two-end program: everything of
        the solve that does not depend on the batch (the grid, the schedule's
        exponentials, the methods' weights), `AbstractDiffusionSampler.coefficients`."""
        key = ("coefficients", config)
        if key not in self._cache:
            term, solver, schedule = self._parts(config)
            self._cache[key] = jax.jit(lambda params: solver.coefficients(
                term, sampler_grid(config, schedule, params), params))
        return self._cache[key]

    def coefficients(self, config: SamplerConfig, params: Mapping[str, Any]) -> Any:
        """`coefficients_fn(config)(params)`, kept per concrete parameter values (a
        few, most recent first): like the host-side coefficients of a hand-written
        sampler, they are computed once, not by a dozen small kernels in every
        call. Traced or large parameters (network weights) are not kept; the
        key holds the values themselves (float 1 and int 1 are one key, and give
        the same coefficients)."""
        fn = self.coefficients_fn(config)
        leaves, structure = jax.tree_util.tree_flatten(params)
        values: list[float | int | bytes] = []
        for v in leaves:
            if isinstance(v, (float, int)):  # the defaults: Python numbers
                values.append(v)
            elif isinstance(v, jax.core.Tracer) or np.size(v) > _KEPT_PARAMETER_SIZE:
                return fn(params)
            else:
                values.append(np.asarray(v).tobytes())
        key = (config, structure, tuple(values))
        kept = self._coefficients
        if key in kept:
            kept[key] = kept.pop(key)  # the newest last
        else:
            kept[key] = fn(params)
            while len(kept) > _KEPT_COEFFICIENTS:
                kept.pop(next(iter(kept)))
        return kept[key]

    def ends_fn(self, config: SamplerConfig) -> Callable:
        """The jitted `(coefficients, params, x0, ts) -> paths` of a two-end run
        with the checkpointed discretize-then-optimize gradient.

        On a fixed grid with only the two ends saved, diffrax's while loop buys
        nothing, and it costs: XLA cannot fuse across its iterations, every step
        copies the loop carry, and the order switches stay runtime conditionals
        (the multistep samplers ran 1.5-2.8x slower than the hand-written twin).
        So the same solver's formulas run as `AbstractDiffusionSampler.run`:
        unrolled, or scanned over runs of steps of one variant, each step's order
        a Python int. The coefficients come in as an argument (`coefficients`),
        and the program returns the paths `(trajectories, 2, ...)` (outputs
        included) and nothing else; the batch statistics wait until they are
        read (`EnsembleSolution.mean`). Coefficients, statistics and the
        transposed copy of the paths were two thirds of the kernels and 15-45%
        of the time of a 10^4-sample NFE-10 run (benchmarks/README.md)."""
        key = ("ends", config)
        if key not in self._cache:
            term, solver, _ = self._parts(config)
            g = self.model.generated
            sim = self.simulator

            def ends(coefficients, params, x0, ts):
                x0 = _packed(x0)
                final = solver.run(coefficients, term, x0, params)
                ys = jnp.stack([x0, final], axis=1)  # (trajectories, 2, n_states)
                paths = sim.unpack(ys)
                if g.observed:
                    paths.update(jax.vmap(jax.vmap(lambda t, y: g.observed_fn(t, y, params),
                                                   in_axes=(0, 0)), in_axes=(None, 0))(ts, ys))
                return paths

            self._cache[key] = jax.jit(ends)
        return self._cache[key]

    def sample_fn(self, config: SamplerConfig) -> Callable:
        """The jitted `(params, x0, ts) -> (paths, mean, std, result)` for a batch `x0`
        of shape `(trajectories, n_states)`, solved by `diffrax.diffeqsolve` (any
        save grid, any adjoint) or, for `adjoint = deis`, by the continuous
        adjoint. Quantiles are left out: XLA's sort on CPU costs more than the
        whole sampling (36 ms against 2 ms for 10,000 samples); `simulate` takes
        them with NumPy's selection when the paths are concrete."""
        if config in self._cache:
            return self._cache[config]
        setup = self.setup()
        g = self.model.generated
        sim = self.simulator
        term, solver, schedule = self._parts(config)
        orders = plan(config.solver, config.steps)
        continuous = config.adjoint == "deis"
        adjoint: diffrax.AbstractAdjoint
        if continuous:
            adjoint = diffrax.RecursiveCheckpointAdjoint()  # unused: custom_vjp below
        else:
            adjoint = (_DIFFRAX_ADJOINTS[config.adjoint]() if isinstance(config.adjoint, str)
                       else config.adjoint)

        def solve(params, x0, saveat):
            outer = sampler_grid(config, schedule, params)
            return diffrax.diffeqsolve(
                term, solver, t0=config.t0, t1=config.t1, dt0=None, y0=x0, args=params,
                saveat=saveat, stepsize_controller=diffrax.StepTo(outer),
                adjoint=adjoint, max_steps=len(orders), throw=False)

        if continuous:
            from .adjoint_deis import adjoint_deis_sample

            final = adjoint_deis_sample(
                lambda p, x0: solve(p, x0, diffrax.SaveAt(t1=True)).ys[-1], term,
                lambda p: step_grid(config.grid, schedule, p, config.t0, config.t1,
                                    config.steps, exponent=config.grid_exponent),
                setup.schedule_params)

        def run(params, x0, ts):
            x0 = _packed(x0)
            # by_time: (n_save, trajectories, n_states), the layout diffrax saves in
            if continuous:  # the two ends only (checked by `simulate`)
                by_time = jnp.stack([x0, final(params, x0)])
                result = jnp.asarray(0)
            else:
                sol = solve(params, x0, diffrax.SaveAt(ts=ts))
                by_time, result = sol.ys, result_code(sol.result)
            ys = jnp.swapaxes(by_time, 0, 1)  # (trajectories, n_save, n_states)
            paths = sim.unpack(ys)
            # Batch statistics reduced along the trajectories of the time-major array:
            # a contiguous reduction, 2-3x faster on CPU than along the first axis
            # of `paths` (which XLA reduces column by column).
            by_time_paths = sim.unpack(by_time)
            if g.observed:
                observed = jax.vmap(jax.vmap(lambda t, y: g.observed_fn(t, y, params),
                                             in_axes=(0, 0)), in_axes=(None, 0))(ts, ys)
                paths.update(observed)
                by_time_paths.update({k: jnp.swapaxes(v, 0, 1) for k, v in observed.items()})
            n = x0.shape[0]
            mean = {k: jnp.mean(v, axis=1) for k, v in by_time_paths.items()}
            std = {k: jnp.std(v, axis=1, ddof=1) if n > 1 else jnp.zeros_like(v[:, 0])
                   for k, v in by_time_paths.items()}
            result = jnp.full((n,), result)
            return paths, mean, std, result

        self._cache[config] = jax.jit(run)
        return self._cache[config]

    def run(self, config: SamplerConfig, params: Mapping[str, Any],
            x0: dict[str, Any] | jax.Array, ts: jax.Array
            ) -> tuple[dict[str, jax.Array], dict[str, jax.Array] | None,
                       dict[str, jax.Array] | None, jax.Array]:
        """`(paths, mean, std, result)` of one batch; `mean` and `std` are None for
        the two-end program (computed when read)."""
        if (config.n_save == 2 and isinstance(config.adjoint, str)
                and config.adjoint == "checkpoint"):
            paths = self.ends_fn(config)(self.coefficients(config, params), params, x0, ts)
            return paths, None, None, self._successes(_trajectories(x0))
        return self.sample_fn(config)(params, x0, ts)

    def _successes(self, n: int) -> jax.Array:
        """diffrax's result code (success) of `n` trajectories, kept per `n`."""
        key = ("successes", n)
        if key not in self._cache:
            with jax.ensure_compile_time_eval():
                self._cache[key] = jnp.zeros((n,), dtype=int)
        return self._cache[key]

    def initial_batch(self, params: Mapping[str, Any], n: int, seed: int | jax.Array
                      ) -> jax.Array:
        """`n` initial draws, packed: the keys of the ensembles (`stochastic/ensemble.py`).

        One compiled program per `n` (`seed` and `params` are its arguments, and may
        be traced). Drawn eagerly, the `jax.vmap` over the keys took dozens of
        dispatches per call (about 4 ms at 10^4 samples, benchmarks/README.md) for
        a sampling program of 0.5 ms. It stays a program of its own rather than
        part of the sampling program: fused with it, XLA changed the samples in the
        last bits (the same time either way)."""
        key = ("initial", n)
        if key not in self._cache:
            m = self.model
            runner = self.ensembles
            g = m.generated

            def draw(params, seed):
                def one(key):
                    values = dict(g.initial_values(params))
                    values.update(runner.random_initial(key, params))
                    return self.simulator.pack(values)

                return jax.vmap(one)(jax.random.split(jax.random.PRNGKey(seed), n))

            self._cache[key] = jax.jit(draw)
        return self._cache[key](params, seed)

    def simulate(self, params: Mapping[str, Any] | None = None, *,
                 initial: Mapping[str, Any] | None = None,
                 tspan: tuple[float, float] | None = None, saveat: Any = None, solver: str,
                 steps: int | None = None, grid: str | None = None,
                 grid_exponent: float | None = None, trajectories: int | None = None,
                 seed: int | jax.Array | None = None, score: Callable | None = None,
                 adjoint: str | diffrax.AbstractAdjoint = "checkpoint",
                 stats_only: bool = False, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                 timings: dict[str, float] | None = None) -> EnsembleSolution:
        m = self.model
        s = m.settings
        from_file = steps is None
        steps = steps if steps is not None else s.steps
        # the file's grid_exponent belongs to the file's grid: a caller's other grid
        # does not inherit it
        other_grid = grid is not None and grid != s.grid
        grid = grid if grid is not None else s.grid
        steps, grid = check_sampler_options(
            solver, steps, grid, s.span_of("steps") if from_file else None)
        exponent_from_file = grid_exponent is None
        if grid_exponent is None and not other_grid:
            grid_exponent = s.grid_exponent
        grid_exponent = check_grid_exponent(
            grid, grid_exponent, s.span_of("grid_exponent") if exponent_from_file else None)
        t0, t1 = tspan if tspan is not None else s.tspan
        ts = m.runner.save_times(t0, t1, saveat if saveat is not None else s.saveat)
        p = m.complete_params(params)
        if isinstance(adjoint, str) and adjoint not in catalog.SAMPLER_ADJOINTS:
            raise SymflowError(f"unknown adjoint {adjoint!r}",
                               help="choose " + ", ".join(catalog.SAMPLER_ADJOINTS[:-1])
                               + " or " + catalog.SAMPLER_ADJOINTS[-1])
        if adjoint == "deis" and len(ts) != 2:
            raise SymflowError("adjoint = deis differentiates the final samples only: "
                               "save the two ends (saveat = 2)")
        if score is not None and not callable(score):
            raise SymflowError("score must be a callable score(x, t, params)")
        config = SamplerConfig(
            solver=solver, grid=grid, steps=steps, t0=float(ts[0]), t1=float(ts[-1]),
            n_save=len(ts), adjoint=adjoint, score=score,
            quantiles=tuple(float(q) for q in quantiles), grid_exponent=grid_exponent)
        if timings is not None:
            timings["solver"] = solver  # type: ignore[assignment]
        times = self._device_times(ts)
        x0: dict[str, Any] | jax.Array  # by state, or packed (`_packed` takes both)
        if initial:
            x0 = self._initial_from(initial)
        else:
            n = int(trajectories if trajectories is not None else s.trajectories)
            if n < 1:
                raise SymflowError(f"trajectories must be at least 1, not {n}")
            seed = seed if seed is not None else s.seed
            if not isinstance(seed, jax.core.Tracer):
                seed = int(seed)
            x0 = self.initial_batch(p, n, seed)
        paths, mean, std, result = self.run(config, p, x0, times)
        # The quantiles wait until they are read (`EnsembleSolution.quantiles`), unless
        # the paths are dropped.
        quantile_values = quantiles_of(paths, config.quantiles) if stats_only else None
        if stats_only and mean is None:
            mean, std = batch_mean(paths), batch_std(paths)
        names = m.state_names + m.observed_names
        return ensemble_solution(
            t=times, paths=None if stats_only else paths, mean=mean,
            std=std, quantiles=quantile_values, result=result, sweep={},
            quantile_levels=config.quantiles, names=names)

    def _device_times(self, ts: np.ndarray) -> jax.Array:
        """`jnp.asarray(ts)`, kept per save grid: the program's argument and the
        solution's `t` without a host-to-device transfer per call."""
        key = ("times", ts.tobytes())
        if key not in self._cache:
            with jax.ensure_compile_time_eval():  # a constant even inside an outer trace
                self._cache[key] = jnp.asarray(ts)
        return self._cache[key]

    def _initial_from(self, initial: Mapping[str, Any]) -> dict[str, Any]:
        """A batch of initial values, one array per state with the batch first,
        checked; the programs pack it (`_packed`), so that a concrete batch costs
        no eager JAX operation and a device array is not copied to the host."""
        m = self.model
        layout = {s.name: s for s in m.generated.states}
        unknown = [k for k in initial if k not in layout]
        if unknown:
            raise SymflowError(f"{m.name} has no state named {unknown[0]!r}")
        missing = [k for k in layout if k not in initial]
        if missing:
            raise SymflowError(f"a batch of initial values needs every state: {missing[0]!r} "
                               "is missing")
        batch, n = {}, None
        for name, lay in layout.items():
            value = initial[name]
            if isinstance(value, jax.Array):  # a device array or a tracer stays one
                if value.dtype != float:
                    value = jnp.asarray(value, dtype=float)
            elif not isinstance(value, np.ndarray) or value.dtype != float:
                value = np.asarray(value, dtype=float)
            shape = np.shape(value)
            if len(shape) != 1 + len(lay.shape) or shape[1:] != lay.shape:
                raise SymflowError(
                    f"initial values of {name!r} for a sampler are a batch of shape "
                    f"(trajectories, {', '.join(map(str, lay.shape))}), not {shape}")
            if n is not None and shape[0] != n:
                raise SymflowError("every state needs the same number of initial values")
            n = shape[0]
            batch[name] = value
        return batch


def _packed(x0) -> jax.Array:
    """The batch `(trajectories, n_states)` from `_initial_from`'s arrays (in the
    state order), or `x0` itself if it is packed already; inside a program."""
    if not isinstance(x0, dict):
        return x0
    parts = list(x0.values())
    return jnp.concatenate([jnp.reshape(v, (v.shape[0], -1)) for v in parts], axis=1)


def _trajectories(x0) -> int:
    return (next(iter(x0.values())) if isinstance(x0, dict) else x0).shape[0]
