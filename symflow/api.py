"""The Python API: `load` a model file, then `simulate` it.

```python
m = symflow.load("lotka_volterra.sf")
sol = m.simulate(params={"alpha": 1.2})
loss = lambda p: jnp.sum(m.simulate(params=p)["x"] ** 2)
jax.grad(loss)(m.params)
```
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from . import codegen, passes, symbolic
from .errors import SymflowError
from .lang import parse
from .solve import (IMPLICIT, STIFFNESS_THRESHOLD, Simulator, Solution, SolveConfig, choose_auto,
                    save_times)
from .solve import _sampling, _stochastic
from .solve._spectral_preconditioner import grid_boundaries
from .symbolic import System


__all__ = ["Model", "load", "loads"]

# An implicit solve of a PDE with more states than this and no proven band (or
# grid) warns that it forms a dense N×N Jacobian.
DENSE_WARNING = 1000


def load(path: str | os.PathLike, *, model: str | None = None) -> "Model":
    """Compile a model file. `model` picks one model of a file that holds several."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SymflowError(f"cannot read {path}: {e.strerror}") from None
    return loads(text, file=path, model=model)


def loads(text: str, *, file: str = "<string>", model: str | None = None) -> "Model":
    """Compile model text."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    program = parse(text, file)
    timings["parse"] = time.perf_counter() - start

    start = time.perf_counter()
    built = symbolic.build(program, model)
    timings["build"] = time.perf_counter() - start

    start = time.perf_counter()
    final = passes.simplify(built)
    timings["passes"] = time.perf_counter() - start

    start = time.perf_counter()
    source = codegen.emit(final)
    generated = codegen.load_source(source)
    timings["codegen"] = time.perf_counter() - start
    return Model(built, final, generated, timings)


class Model:
    """A compiled model: its equations, default parameters, and a solver.

    `params` is a dict of the default parameter values (a pytree: pass it, or a
    modified copy, to `simulate`, `jax.grad`, `jax.vmap`). `initial` holds the
    default initial values of the states.
    """

    def __init__(self, built: System, system: System, generated: codegen.GeneratedModel,
                 timings: dict[str, float]):
        self.built = built
        self.system = system
        self.generated = generated
        self.timings = dict(timings)
        self.settings = system.settings
        self._simulator = Simulator(
            generated, grid=tuple((d.name, d.lower, d.upper, d.points, d.periodic)
                                  for d in system.domain),
            fields=tuple(name for name, _ in system.fields))
        self.params: dict[str, jax.Array] = {
            p.name: jnp.asarray(p.value, dtype=float) for p in system.free_parameters}
        if system.closures:  # the networks' weights join the pytree (docs/closures.md)
            from .learn import initial_weights

            self.params["closures"] = initial_weights(system.closures)
        self.initial: dict[str, jax.Array] = self.initial_values(self.params)
        self._auto: dict[tuple, str] = {}
        self._ts_cache: dict[tuple, np.ndarray] = {}
        self._ensembles = _stochastic.ModelEnsembles(self)
        self._sampling = _sampling.ModelSampling(self)
        # A proven bound on the Jacobian's band (1-D PDEs: one or several fields,
        # periodic or not; passes/band_structure.py), narrowed on first use by
        # probing (see solve/_banded.py, solve/_interleaved_band.py).
        self._band_bound = passes.band_structure(built) if built.domain else None
        self._bandwidth: object = None
        # A PDE on a 2-D/3-D grid whose states are all fields: (shape, fields,
        # periodic axes, boundary kinds of every field and axis) for the matrix-free
        # implicit solve (solve/_krylov.py, solve/_spectral_preconditioner.py).
        self._grid = (tuple(d.points for d in built.domain), len(built.fields),
                      tuple(bool(d.periodic) for d in built.domain),
                      grid_boundaries(built)) if (
            len(built.domain) > 1 and len(built.fields) == len(built.states)) else None
        # What the implicit solve gets: the boundary kinds (the DST/DCT preconditioner)
        # are dropped unless every axis is periodic. On closed grids the transform
        # preconditioner needs fewer GMRES steps per Newton matrix but, measured over
        # whole solves (benchmarks/README.md, `pde.py krylov_bc_solve`), was not
        # faster than the factored ADI one, and slower where the reaction is stiff.
        self._solve_grid = self._grid if self._grid is None or all(self._grid[2]) else (
            *self._grid[:3], ())

    @property
    def name(self) -> str:
        return self.system.name

    @property
    def source(self) -> str:
        """The generated Python source (what `symflow compile` writes)."""
        return self.generated.source

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.generated.states)

    @property
    def observed_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.generated.observed)

    def __str__(self) -> str:
        return str(self.system)

    def __repr__(self) -> str:
        return (f"<symflow.Model {self.name}: {len(self.state_names)} states, "
                f"{len(self.params)} parameters>")

    def _repr_latex_(self) -> str:
        return "$$" + symbolic.latex_system(self.system) + "$$"

    # ------------------------------------------------------------ values

    def complete_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """`params` with the missing ones filled in from their defaults.

        A default written as an expression of other parameters (`b = 2*a`)
        follows the values given for them.
        """
        params = dict(params or {})
        weights = params.pop("closures", None) if self.system.closures else None
        unknown = [k for k in params if k not in self.generated.parameter_names]
        if unknown:
            raise SymflowError(
                f"{self.name} has no parameter named {unknown[0]!r}",
                help=_choices("parameters", self.generated.parameter_names))
        params = self.generated.parameter_defaults(params)
        if self.system.closures:
            from .learn import complete_weights

            params["closures"] = complete_weights(self, weights)
        return params

    def initial_values(self, params: Mapping[str, Any] | None = None,
                       initial: Mapping[str, Any] | None = None) -> dict[str, jax.Array]:
        """The initial value of every state: defaults (which may use `params`),
        overridden by `initial`."""
        p = self.complete_params(params)
        values = dict(self.generated.initial_values(p))
        values.update(self._check_initial(initial))
        shapes = {s.name: s.shape for s in self.generated.states}
        return {name: jnp.broadcast_to(jnp.asarray(value, dtype=float), shapes[name])
                for name, value in values.items()}

    # ------------------------------------------------------------ solving

    def simulate(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        initial: Mapping[str, Any] | None = None,
        tspan: tuple[float, float] | None = None,
        saveat: int | Any | None = None,
        solver: str | None = None,
        rtol: float | None = None,
        atol: float | None = None,
        dt: float | None = None,
        max_steps: int | None = None,
        adjoint: str | diffrax.AbstractAdjoint = "checkpoint",
        dense: bool = False,
        progress: bool = False,
        timings: dict[str, float] | None = None,
        **stochastic: Any,
    ) -> Solution:
        """Solve the model. Every option defaults to the model's `simulate` section.

        **Arguments:**

        - `params`: parameter values (a dict; missing ones take their defaults).
          May be traced: `simulate` works under `jax.jit`, `jax.grad`, `jax.vmap`.
        - `initial`: initial values of states, overriding the model's.
        - `tspan`: `(t0, t1)`; `t1 < t0` integrates backwards. The span is fixed at
          compile time (a new span compiles once more): diffrax runs faster with
          constant ends.
        - `saveat`: a number of evenly spaced points, or the times to save at
          (both ends of the span are always included).
        - `solver`: a solver name (`tsit5`, `kvaerno5`, ..., or `auto`).
        - `rtol`, `atol`: tolerances of the adaptive step-size controller.
        - `dt`: the initial step (the fixed step for `euler`).
        - `max_steps`: the most steps the solver may take.
        - `adjoint`: how gradients are computed: `checkpoint` (default; replays the
          accepted steps, see docs/fitting.md), `backsolve` (continuous adjoint:
          diffrax's O(1)-memory backward solve with an explicit solver; with an
          implicit one, along the forward solution's interpolant), `interpolating`
          (the latter with any solver), `forward`, `direct`, or a diffrax adjoint
          object.
        - `dense`: keep dense output for `Solution.evaluate`.
        - `progress`: show a progress bar.
        - `timings`: a dict that receives the XLA compile and solve times.

        Outside a trace, a failed solve raises `SolverError` with the time reached.

        An SDE model, or any model with `trajectories > 1`, random initial values
        or a `sweep`, runs as an ensemble and returns an `EnsembleSolution`; the
        ensemble options (`trajectories`, `seed`, `noise`, `sweep`, `stats_only`,
        `quantiles`, `chunk_size`, `mesh`, `brownian_tol`, `save_noise`) are
        described in `docs/sde.md`.

        A diffusion sampler (`ddim`, `dpm_solver_pp_2m`, ..., `docs/samplers.md`) samples
        a batch and returns an `EnsembleSolution`; its options are `steps`, `grid`,
        `grid_exponent`, `trajectories`, `seed`, `score` (a Python `score(x, t, params)`), `stats_only`,
        `quantiles`, and `initial` (a batch of initial values per state).
        """
        if (solver if solver is not None else self.settings.solver) in _sampling.SAMPLERS:
            return self._sample(params, initial=initial, tspan=tspan, saveat=saveat,
                                solver=solver, adjoint=adjoint, timings=timings, **stochastic)
        for option in ("steps", "grid", "grid_exponent", "score"):
            if option in stochastic:
                raise SymflowError(f"{option} is an option of the diffusion samplers",
                                   help="solver = ddim, dpm_solver_pp_2m, unipc_3, deis_3, ...")
        if self._ensembles.applies(stochastic):
            return self._ensembles.simulate(
                params, initial=initial, tspan=tspan, saveat=saveat, solver=solver,
                rtol=rtol, atol=atol, dt=dt, max_steps=max_steps, adjoint=adjoint,
                timings=timings, **stochastic)
        if stochastic:
            raise SymflowError(f"unknown option {next(iter(stochastic))!r} of simulate")
        s = self.settings
        t0, t1 = tspan if tspan is not None else s.tspan
        ts = self._save_times(t0, t1, saveat if saveat is not None else s.saveat)
        p = self.complete_params(params)
        initial = self._check_initial(initial)
        config = self._ode_config(ts, p, initial, solver=solver, rtol=rtol, atol=atol, dt=dt,
                                  max_steps=max_steps, adjoint=adjoint, dense=dense,
                                  progress=progress)
        name = config.solver
        if timings is not None:
            timings["solver"] = name  # type: ignore[assignment]
        return self._simulator.run(config, p, initial, ts, timings=timings)

    def _sample(self, params, *, initial, tspan, saveat, solver, adjoint, timings, **options):
        """`simulate` with a diffusion sampler (`solve/_sampling.py`)."""
        for name in options:
            if name not in _sampling.SAMPLER_OPTIONS:
                raise SymflowError(f"{name!r} is not an option of the diffusion samplers",
                                   help="their options: " + ", ".join(_sampling.SAMPLER_OPTIONS))
        return self._sampling.simulate(
            params, initial=initial, tspan=tspan, saveat=saveat,
            solver=solver if solver is not None else self.settings.solver, adjoint=adjoint,
            timings=timings, **options)

    def _ode_config(self, ts, params: dict, initial: dict, *, solver, rtol, atol, dt,
                    max_steps, adjoint, dense: bool = False, progress: bool = False
                    ) -> SolveConfig:
        """The compiled configuration of an ODE solve: the options, defaulted from the
        model's `simulate` section, checked, and `auto` resolved."""
        s = self.settings
        name = solver if solver is not None else s.solver
        # Remembered per options (on every call's path); `auto` depends on the values
        key = ("config", name, rtol, atol, dt, max_steps, adjoint, dense, progress,
               float(ts[0]), float(ts[-1]), len(ts))
        try:
            config = self._auto.get(key) if name != "auto" else None
        except TypeError:  # an unhashable option (an adjoint object holding arrays)
            key, config = None, None
        if config is not None:
            return config
        if name == "auto":
            name = self._choose_auto(params, initial, float(ts[0]), float(ts[-1]))
        else:
            symbolic.check_solver(name, None)
        if isinstance(adjoint, str) and adjoint not in ("checkpoint", "backsolve", "forward",
                                                        "direct", "interpolating"):
            raise SymflowError(f"unknown adjoint {adjoint!r}",
                               help="choose checkpoint, backsolve, forward, direct or "
                                    "interpolating")
        bandwidth = self._banded(params, float(ts[0])) if name in IMPLICIT else None
        if name in IMPLICIT and bandwidth is None and self._grid is None:
            self._warn_dense(name)
        config = SolveConfig(
            solver=name, t0=float(ts[0]), t1=float(ts[-1]),
            rtol=float(rtol if rtol is not None else s.rtol),
            atol=float(atol if atol is not None else s.atol),
            dt0=float(dt) if dt is not None else s.dt0,
            max_steps=int(max_steps if max_steps is not None else s.max_steps),
            n_save=len(ts), adjoint=adjoint, dense=dense, progress=progress,
            bandwidth=bandwidth,
            exponential=self._exponential(name, solver is None),
            grid=self._solve_grid if name in IMPLICIT else None,
        )
        if key is not None and key[1] != "auto":
            self._auto[key] = config
        return config

    def _exponential(self, name: str, from_file: bool):
        """The semilinear set-up of an exponential solver (`None` for other solvers)."""
        from .solve._exponential import EXPONENTIAL

        if name not in EXPONENTIAL:
            return None
        key = ("exponential", name)
        if key not in self._auto:
            from .solve._semilinear_setup import exponential_setup

            span = self.settings.span_of("solver") if from_file else None
            self._auto[key] = exponential_setup(self.system, name, span=span)
        return self._auto[key]

    def _save_times(self, t0, t1, saveat) -> np.ndarray:
        """`save_times`, remembered for hashable requests (it is on every call's path)."""
        try:
            key = (float(t0), float(t1), saveat if isinstance(saveat, int) else tuple(saveat))
            hash(key)
        except TypeError:
            return save_times((t0, t1), saveat)
        if key not in self._ts_cache:
            self._ts_cache[key] = save_times((t0, t1), saveat)
            self._ts_cache[key].flags.writeable = False
        return self._ts_cache[key]

    def _check_initial(self, initial: Mapping[str, Any] | None) -> dict[str, Any]:
        """Initial-value overrides, checked by name and shape (values may be traced)."""
        shapes = {s.name: s.shape for s in self.generated.states}
        out = {}
        for name, value in (initial or {}).items():
            if name not in shapes:
                raise SymflowError(
                    f"{self.name} has no state named {name!r}",
                    help=_choices("states", self.state_names)
                    + ("; observed outputs and algebraic variables are computed, not set"
                       if name in self.observed_names else ""))
            shape = np.shape(value)
            if shape not in ((), shapes[name]):
                raise SymflowError(
                    f"initial value of {name!r} has shape {shape}, expected "
                    f"{shapes[name] or 'a scalar'}")
            out[name] = value
        return out

    def _choose_auto(self, params: dict, initial: dict, t0: float, t1: float) -> str:
        """`solver = auto`, decided from concrete values (the defaults, if traced)."""
        if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((params, initial))):
            params, initial = self.complete_params(self.params), {}
        key = (t0, t1, *(
            (k, np.asarray(v).tobytes()) for k, v in sorted({**params, **{
                "initial." + n: v for n, v in initial.items()}}.items())))
        if key not in self._auto:
            # Evaluated now even inside an outer trace (jit, grad): it is a decision.
            with jax.ensure_compile_time_eval():
                y0 = self._simulator.pack(self.initial_values(params, initial))
                band = self._banded(params, t0) if y0.shape[0] > 500 else None
                if band is not None:
                    from .solve._interleaved_band import Band, band_stiffness

                    decay = band_stiffness(self.generated.rhs, t0, y0, params,
                                           band if isinstance(band, Band) else Band(band))
                    stiff = decay * abs(t1 - t0) > STIFFNESS_THRESHOLD
                    self._auto[key] = "kvaerno5" if stiff else "tsit5"
                elif self._grid is not None and y0.shape[0] > 500:
                    from .solve._krylov import spectral_radius

                    decay = spectral_radius(self.generated.rhs, t0, y0, params)
                    stiff = decay * abs(t1 - t0) > STIFFNESS_THRESHOLD
                    self._auto[key] = "kvaerno5" if stiff else "tsit5"
                else:
                    self._auto[key] = choose_auto(self.generated.rhs, t0, t1, y0, params)
        return self._auto[key]

    # ------------------------------------------------------------ gradients and fits

    def sensitivities(self, params: Mapping[str, Any] | None = None, *, wrt=None,
                      initial: Mapping[str, Any] | None = None, **options):
        """The forward sensitivity matrix d y(t) / d p at the saved times, labelled
        by output and by parameter (see `symflow.solve.Sensitivities`)."""
        from .solve._sensitivity import sensitivities

        return sensitivities(self, params, wrt=wrt, initial=initial, **options)

    def steady_state(self, params: Mapping[str, Any] | None = None, *,
                     guess: Mapping[str, Any] | None = None, **options):
        """A state where every derivative is zero, differentiable in `params` by the
        implicit function theorem (see `symflow.solve.SteadyState`)."""
        from .solve._steady import steady_state

        return steady_state(self, params, guess=guess, **options)

    def _steady_fn(self, **options):
        from .solve._steady import make_steady_fn

        key = ("steady", *sorted(options.items()))
        if key not in self._auto:
            self._auto[key] = make_steady_fn(self, **options)  # type: ignore[assignment]
        return self._auto[key]

    def fit(self, data, params=None, **options):
        """Fit parameters and initial values to data (see `symflow.solve.fit`).

        A model with closures is trained instead: its networks and physical
        parameters together, with optax (see `symflow.solve._train.train`)."""
        if self.system.closures:
            from .learn import train

            return train(self, data, params, **options)
        from .learn import fit

        return fit(self, data, params, **options)

    def distill(self, params=None, **options):
        """Replace the closures by sparse symbolic expressions (see `symflow.distill.distill`)."""
        from .learn.distill import distill

        return distill(self, params, **options)

    def distill_samples(self, samples, **options):
        """Replace the closures by sparse expressions fitted to given samples of their
        inputs and outputs (see `symflow.distill.distill_samples`)."""
        from .learn.distill import distill_samples

        return distill_samples(self, samples, **options)

    def _warn_dense(self, solver: str) -> None:
        """Warn, once per model, that an implicit solve of a large PDE forms a dense
        N×N Jacobian (a documented limit, docs/pde.md: scalar states next to fields,
        non-local terms, the spectral scheme, tiny periodic grids)."""
        n = self.generated.n_states
        if not self.built.domain or n <= DENSE_WARNING or "dense warning" in self._auto:
            return
        self._auto["dense warning"] = True  # type: ignore[assignment]
        warnings.warn(
            f"{self.name}: {solver} will form a dense {n}x{n} Jacobian "
            f"({8 * n * n / 2**20:.0f} MiB, O(N^3) per factorization): no band could be "
            "proven from the stencils (scalar states next to fields, indexing/sums over a "
            "field, or the spectral scheme; see docs/pde.md). An explicit solver, or the "
            "model without the coupling, avoids it.", stacklevel=4)

    def _banded(self, params: dict, t0: float):
        """The Jacobian's band (1-D PDEs), probed once; `None` if not banded.

        An `int` (the half-bandwidth) for one non-periodic field, as
        `_banded.BandedLinearSolver` takes it; a `_interleaved_band.Band` for several
        fields (interleaved order) or a periodic dimension (cyclic band)."""
        if self._band_bound is None:
            return None
        if self._bandwidth is None:
            from .solve._interleaved_band import effective_band

            if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(params)):
                params = self.complete_params(self.params)
            with jax.ensure_compile_time_eval():
                band = effective_band(self.generated.rhs, t0, self.generated.n_states,
                                      params, self._band_bound)
            plain = band is not None and band.fields == 1 and not band.periodic
            self._bandwidth = band.width if plain else (band if band else False)
        return self._bandwidth or None

    # ------------------------------------------------------------ neural closures

    @property
    def closures(self) -> tuple:
        """The model's closures, in declaration order: frozen `symflow.symbolic.Closure`
        descriptions (`name`, the key of its weights in `params["closures"]`;
        `outputs`; `inputs` as SymPy and `input_text` as written; `depends_on`, the
        model names the inputs use; `width`, `depth`, `activation`, `scale`, `seed`)."""
        return self.system.closures

    def closure_samples(self, params, solution) -> dict[str, tuple[jax.Array, jax.Array]]:
        """Each closure's inputs and outputs along a solution, by closure name:
        `{name: (inputs (n, n_in), outputs (n, n_out))}` with one row per saved time
        (on a field: per saved time and grid point, time-major). `params` are the
        parameters (and weights) to evaluate the networks with (`None`: defaults).
        Differentiable in `params`; see `symflow.solve._closures.closure_samples`."""
        from .learn import closure_samples

        return closure_samples(self, params, solution)

    def save_weights(self, path: str | os.PathLike, params=None) -> None:
        """Save the closure weights of `params` (default `self.params`) to `path`
        with `eqx.tree_serialise_leaves`, after a header with each closure's
        architecture and the values of the physical parameters."""
        from .learn import save_weights

        save_weights(self, path, self.complete_params(params if params is not None
                                                      else self.params))

    def load_weights(self, path: str | os.PathLike) -> dict:
        """Load closure weights saved by `save_weights`; they become the model's
        default weights (`self.params["closures"]`). Returns the parameters saved
        with them: `self.params` with the saved physical parameter values, so
        `m.simulate(m.load_weights(path))` reproduces the saved model exactly. The
        file's architecture must match the model's closures: every difference is
        named in the error."""
        from .learn import load_weights

        weights, values = load_weights(self, path)
        self.params = {**self.params, "closures": weights}
        return {**self.params, **{k: jnp.asarray(v, dtype=float) for k, v in values.items()
                                  if k in self.generated.parameter_names}}

    def rhs(self, t, y, params=None):
        """The right-hand side `dy/dt` on the flat state vector (for custom solvers)."""
        return self.generated.rhs(t, y, self.complete_params(params))

    # --- public members used by symflow.learn

    def choose_auto_solver(self, params: dict, initial: dict, t0: float, t1: float) -> str:
        """The solver `solver = auto` picks at these concrete values and span."""
        return self._choose_auto(params, initial, t0, t1)

    def load_text(self, text: str, *, file: str = "<string>") -> "Model":
        """Another model text compiled as this one was (`loads`): a distilled model."""
        return loads(text, file=file)


def _choices(what: str, names) -> str:
    return f"its {what}: " + (", ".join(names) if names else "none")

