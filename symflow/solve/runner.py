"""The solve policy of one compiled model, and the sides that carry it out.

`Runner` owns what a compiled model needs to be solved: the `Simulator` of its
generated program and every decision made about it once (`solver = auto`, the
linear strategy of an implicit solve, the semilinear set-up of an exponential
integrator, save grids), with their caches. `simulate` hands a call to the first
`Side` that takes it: a diffusion sampler, an ensemble (SDEs, sweeps, several
trajectories), or an ODE solve. The sides see the model only through
`CompiledModel`, its public face.
"""

from __future__ import annotations

import abc
import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

import diffrax
import jax
import numpy as np

from .. import analysis, catalog, symbolic
from ..codegen import GeneratedModel, load_derivatives
from ..errors import SymflowError
from ..symbolic import Settings, System
from . import solvers
from .adjoints import adjoint_strategy
from .config import SolveConfig, SolverArg, SolverObject, check_options
from .diffusion import SAMPLER_OPTIONS, ModelSampling
from .exponential import ExponentialSetup, exponential_setup
from .jumps import ModelJumps
from .linear import (
    Dense,
    GridKrylov,
    LinearStrategy,
    band_strategy,
    effective_band,
    grid_boundaries,
)
from .observed import observed_aliases
from .result_size import check_result_size
from .simulate import Simulator, save_times
from .solution import Solution
from .steady import make_steady_fn
from .stochastic import EnsembleSimulator, EnsembleSolution, ModelEnsembles

__all__ = ["CompiledModel", "DENSE_WARNING", "JumpSide", "ODESide", "Runner",
           "SYMBOLIC_DERIVATIVES", "Side"]

# An implicit solve of a PDE with more states than this and no proven band (or
# grid) warns that it forms a dense N×N Jacobian.
DENSE_WARNING = 1000

# Whether the Rosenbrock solvers take the model's symbolic Jacobian (generated on
# first use, `codegen.load_derivatives`) instead of autodiff of `rhs`. Off: measured
# (benchmarks/README.md, "Stiff solvers"), the generated one was no faster on ROBER
# and VDPOL and 1.18x slower on HIRES (8 states: 80 scalar expressions stacked,
# against one vectorized JVP per column). `simulator.derivatives = runner.derivatives`
# turns it on for one model.
SYMBOLIC_DERIVATIVES = False


class CompiledModel(Protocol):
    """What the solve stage reads of a compiled model (`symflow.Model` is one)."""

    built: System
    system: System
    generated: GeneratedModel
    settings: Settings
    params: dict[str, Any]
    interpretation: str  # how a reaction network is read: ode, langevin, jump

    @property
    def name(self) -> str: ...

    @property
    def state_names(self) -> tuple[str, ...]: ...

    @property
    def observed_names(self) -> tuple[str, ...]: ...

    @property
    def runner(self) -> Runner: ...

    def complete_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]: ...

    def initial_values(self, params: Mapping[str, Any] | None = None,
                       initial: Mapping[str, Any] | None = None) -> dict[str, jax.Array]: ...

    def check_initial(self, initial: Mapping[str, Any] | None) -> dict[str, Any]: ...

    def simulate(self, params: Mapping[str, Any] | None = None, **options: Any) -> Any: ...


class Side(abc.ABC):
    """One way of solving a model; `Runner.simulate` asks each in turn."""

    @abc.abstractmethod
    def applies(self, solver: str, options: Mapping[str, Any]) -> bool:
        """Whether a call with this solver name and these extra options is this side's."""

    @abc.abstractmethod
    def simulate(self, params: Mapping[str, Any] | None, solver: SolverArg,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> Any:
        """Solve with the options of `Model.simulate`: `options` holds the ones every
        side takes (`initial`, `tspan`, `saveat`, `rtol`, `atol`, `dt`, `max_steps`,
        `adjoint`, `dense`, `progress`, `timings`; all present), `extra` the rest."""


class SamplerSide(Side):
    """Diffusion samplers (`solver = ddim`, ...): `diffusion.ModelSampling`."""

    def __init__(self, model: CompiledModel, simulator: Simulator,
                 ensembles: EnsembleSimulator):
        self.sampling = ModelSampling(model, simulator, ensembles)

    def applies(self, solver: str, options: Mapping[str, Any]) -> bool:
        return solver in catalog.SAMPLERS

    def simulate(self, params: Mapping[str, Any] | None, solver: SolverArg,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> EnsembleSolution:
        """Samplers take fixed step grids: the adaptive-solve options are ignored."""
        if self.sampling.model.system.events:
            raise SymflowError("the diffusion samplers do not run events",
                               help="solve a model with events with an ODE solver")
        for name in extra:
            if name not in SAMPLER_OPTIONS:
                raise SymflowError(f"{name!r} is not an option of the diffusion samplers",
                                   help="their options: " + ", ".join(SAMPLER_OPTIONS))
        return self.sampling.simulate(
            params, initial=options["initial"], tspan=options["tspan"],
            saveat=options["saveat"],
            solver=_named(solver) or self.sampling.model.settings.solver,
            adjoint=options["adjoint"], timings=options["timings"], **extra)


class EnsembleSide(Side):
    """SDEs, and ODEs run as ensembles or sweeps: `stochastic.ModelEnsembles`."""

    def __init__(self, model: CompiledModel, ensembles: EnsembleSimulator):
        self.ensembles = ModelEnsembles(model, ensembles)

    def applies(self, solver: str, options: Mapping[str, Any]) -> bool:
        for option in ("steps", "grid", "grid_exponent", "score"):
            if option in options:
                raise SymflowError(f"{option} is an option of the diffusion samplers",
                                   help="solver = ddim, dpm_solver_pp_2m, unipc_3, deis_3, ...")
        return self.ensembles.applies(options)

    def simulate(self, params: Mapping[str, Any] | None, solver: SolverArg,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> EnsembleSolution:
        """Ensembles save no dense output and show no progress bar."""
        kept = {k: v for k, v in options.items() if k not in ("dense", "progress")}
        return self.ensembles.simulate(params, solver=_named(solver), **kept, **extra)


class JumpSide(Side):
    """A reaction network read as a jump process (`interpretation = jump`):
    `jumps.ModelJumps`, built when first used."""

    def __init__(self, model: CompiledModel):
        self.model = model
        self._jumps: ModelJumps | None = None

    def applies(self, solver: str, options: Mapping[str, Any]) -> bool:
        return self.model.interpretation == "jump"

    def simulate(self, params: Mapping[str, Any] | None, solver: SolverArg,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> EnsembleSolution:
        if self._jumps is None:
            self._jumps = ModelJumps(self.model)
        return self._jumps.simulate(params, _named(solver), options, extra)


class ODESide(Side):
    """One ODE solve: the options defaulted from the model's `simulate` section,
    checked, `auto` resolved, the linear strategy chosen, one compiled program per
    configuration (`Simulator`)."""

    def __init__(self, model: CompiledModel, runner: Runner):
        self.model = model
        self.runner = runner

    def applies(self, solver: str, options: Mapping[str, Any]) -> bool:
        return True

    def simulate(self, params: Mapping[str, Any] | None, solver: SolverArg,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> Solution:
        if extra:
            raise SymflowError(f"unknown option {next(iter(extra))!r} of simulate")
        config, ts, p, initial = self.plan(params, solver, options)
        timings = options["timings"]
        if timings is not None:
            timings["solver"] = config.solver  # type: ignore[assignment]
        return self.runner.simulator.run(config, p, initial, ts, timings=timings)

    def plan(self, params: Mapping[str, Any] | None, solver: SolverArg,
             options: Mapping[str, Any]) -> tuple[SolveConfig, np.ndarray, dict, dict]:
        """The configuration, save times, complete parameters and checked initial
        values of a solve with the options of `simulate` (`timings` not needed)."""
        tspan, saveat = options["tspan"], options["saveat"]
        m, runner = self.model, self.runner
        t0, t1 = tspan if tspan is not None else m.settings.tspan
        ts = runner.save_times(t0, t1, saveat if saveat is not None else m.settings.saveat)
        check_result_size(times=len(ts), values=m.generated.n_states,
                          help="save fewer times (saveat), or list only the times you need")
        p = m.complete_params(params)
        initial = m.check_initial(options["initial"])
        config = runner.ode_config(
            ts, p, initial, solver=solver, rtol=options["rtol"], atol=options["atol"],
            dt=options["dt"], max_steps=options["max_steps"], adjoint=options["adjoint"],
            dense=options["dense"], progress=options["progress"])
        return config, ts, p, initial


class Runner:
    """The solve policy of one compiled model, and its caches."""

    def __init__(self, model: CompiledModel):
        self.model = model
        built, system = model.built, model.system
        self.simulator = Simulator(
            model.generated, grid=tuple((d.name, d.lower, d.upper, d.points, d.periodic)
                                        for d in system.domain),
            fields=tuple(name for name, _ in system.fields),
            derivatives=self.derivatives if SYMBOLIC_DERIVATIVES else None,
            aliases=observed_aliases(system, model.generated),
            docs=_docs(built, system))
        self._decisions: dict[tuple, Any] = {}
        self._times: dict[tuple, np.ndarray] = {}
        self._warned_dense = False
        # A proven bound on the Jacobian's band (1-D PDEs: one or several fields,
        # periodic or not, analysis.band_structure; chains of components: the
        # incidence of the right-hand sides, analysis.state_band), narrowed on first
        # use by probing.
        self._band_bound = (analysis.band_structure(built) if built.domain
                            else analysis.state_band(system, fields=model.generated.fields))
        self._band: LinearStrategy | None | Literal[False] = None  # False: probed, not banded
        # A PDE on a 2-D/3-D grid whose states are all fields: Newton-Krylov. The
        # boundary kinds (the DST/DCT preconditioner) are used only when every axis
        # is periodic: on closed grids the transform preconditioner needs fewer
        # GMRES steps per Newton matrix but, measured over whole solves
        # (benchmarks/README.md, `pde.py krylov_bc_solve`), was not faster than the
        # factored ADI one, and slower where the reaction is stiff.
        self.grid = self._grid_strategy(built)
        self._solve_grid = self.grid if self.grid is None or all(self.grid.periodic) else (
            dataclasses.replace(self.grid, boundaries=()))
        ensembles = EnsembleSimulator(model.generated, self.simulator)
        sampler = SamplerSide(model, self.simulator, ensembles)
        ensemble = EnsembleSide(model, ensembles)
        self.sampling: ModelSampling = sampler.sampling
        self.ensembles: ModelEnsembles = ensemble.ensembles
        self.ode = ODESide(model, self)
        self.sides: tuple[Side, ...] = (JumpSide(model), sampler, ensemble, self.ode)

    @staticmethod
    def _grid_strategy(built: System) -> GridKrylov | None:
        """Newton-Krylov for a PDE on a 2-D/3-D grid whose states are all fields, with
        the boundary kinds of every field and axis."""
        if len(built.domain) <= 1 or len(built.fields) != len(built.states):
            return None
        return GridKrylov(tuple(d.points for d in built.domain), len(built.fields),
                          tuple(bool(d.periodic) for d in built.domain), grid_boundaries(built))

    # ------------------------------------------------------------ dispatch

    def simulate(self, params: Mapping[str, Any] | None, solver: SolverArg,
                 options: Mapping[str, Any], extra: Mapping[str, Any]) -> Any:
        """`Model.simulate`: the first side that takes the call solves it (`Side.simulate`
        says what `options` and `extra` hold). Dicts, not keywords: this is on every
        call's path, and each keyword expansion costs."""
        if isinstance(solver, str):
            solver = solver.lower()  # solver names are not case-sensitive
        elif solver is not None:
            return self._simulate_with(solver, params, options, extra)
        _check_concrete_times(options)
        name = solver if solver is not None else self.model.settings.solver
        side = next(s for s in self.sides if s.applies(name, extra))
        return side.simulate(params, solver, options, extra)

    def _simulate_with(self, solver: Any, params: Mapping[str, Any] | None,
                       options: Mapping[str, Any], extra: Mapping[str, Any]) -> Any:
        """`simulate(solver=<a diffrax solver object>)`: an ODE solve with that solver
        as given (its step-size controller, tolerances and adjoint are still
        `simulate`'s)."""
        if not isinstance(solver, diffrax.AbstractSolver):
            raise SymflowError(f"solver must be a name or a diffrax solver, not "
                               f"{type(solver).__name__}",
                               help="for example solver='tsit5' or solver=diffrax.Tsit5()")
        _check_concrete_times(options)
        side = next(s for s in self.sides if s.applies(solvers.solver_label(solver), extra))
        if side is not self.ode or self.model.system.is_sde:
            raise SymflowError("a diffrax solver object solves a single ODE solve only",
                               help="an SDE, an ensemble, a jump process or a sampler takes "
                                    "a solver name (docs/sde.md)")
        return side.simulate(params, solver, options, extra)

    # ------------------------------------------------------------ decisions

    def save_times(self, t0: float, t1: float, saveat: int | Sequence[float] | np.ndarray
                   ) -> np.ndarray:
        """`save_times`, remembered for hashable requests (it is on every call's path)."""
        try:
            key = (float(t0), float(t1), saveat if isinstance(saveat, int) else tuple(saveat))
            hash(key)
        except TypeError:
            return save_times((t0, t1), saveat)
        if key not in self._times:
            self._times[key] = save_times((t0, t1), saveat)
            self._times[key].flags.writeable = False
        return self._times[key]

    def ode_config(self, ts: np.ndarray, params: dict, initial: dict, *, solver: SolverArg,
                   rtol: float | None, atol: float | None, dt: float | None,
                   max_steps: int | None, adjoint: str | diffrax.AbstractAdjoint,
                   dense: bool = False, progress: bool = False
                   ) -> SolveConfig:
        """The compiled configuration of an ODE solve: the options, defaulted from the
        model's `simulate` section, checked, and `auto` resolved.

        Remembered per options (the arguments of `simulate` other than parameter and
        initial values, with the span and number of save points): this is on every
        call's path, and the key does not grow with the model. `solver = auto` is
        decided by the first call with these options, from its concrete parameter and
        initial values (the defaults when they are traced), and kept for later calls
        with the same options whatever their values: a call with other options decides
        anew, and `choose_auto` decides for given values."""
        s = self.model.settings
        custom = None
        if solver is not None and not isinstance(solver, str):  # a diffrax solver object
            custom, solver = SolverObject(solver), solvers.solver_label(solver)
        name = solver if solver is not None else s.solver
        options = ("config", custom or name, rtol, atol, dt, max_steps, adjoint, dense,
                   progress, float(ts[0]), float(ts[-1]), len(ts))
        key: tuple | None = options
        try:
            config = self._decisions.get(options)
        except TypeError:  # an unhashable option (an adjoint object holding arrays)
            key, config = None, None
        if config is not None:
            return config
        check_options(rtol=rtol, atol=atol, dt=dt, max_steps=max_steps)
        if custom is not None:
            pass  # used as given
        elif name == catalog.AUTO:
            name = self.choose_auto(params, initial, float(ts[0]), float(ts[-1]))
        else:
            symbolic.check_solver(name, None)
        if isinstance(adjoint, str):
            adjoint_strategy(adjoint)  # checked now, not when the program is built
        config = SolveConfig(
            solver=name, t0=float(ts[0]), t1=float(ts[-1]),
            rtol=float(rtol if rtol is not None else s.rtol),
            atol=float(atol if atol is not None else s.atol),
            dt0=float(dt) if dt is not None else s.dt0,
            max_steps=int(max_steps if max_steps is not None else s.max_steps),
            n_save=len(ts), adjoint=adjoint, dense=dense, progress=progress,
            linear=(self.linear_strategy(name, params, float(ts[0])) if custom is None
                    else Dense()),
            exponential=(self.exponential(name, from_file=solver is None) if custom is None
                         else None),
            max_events=s.max_events, event_samples=s.event_samples, custom=custom,
        )
        if key is not None:
            self._decisions[key] = config
        return config

    def linear_strategy(self, solver: str, params: dict, t0: float) -> LinearStrategy:
        """How an implicit `solver` solves its linear systems: a probed band (1-D PDE),
        Newton-Krylov (a grid of fields), or dense (warned for large PDEs)."""
        if solvers.is_rosenbrock(solver):  # a dense Jacobian and LU every step
            self._warn_dense(solver)
            return Dense()
        if not solvers.is_implicit(solver):
            return Dense()
        band = self.band(params, t0)
        if band is not None:
            return band
        if self._solve_grid is not None:
            return self._solve_grid
        self._warn_dense(solver)
        return Dense()

    def band(self, params: dict, t0: float) -> LinearStrategy | None:
        """The Jacobian's band (1-D PDEs), probed once; `None` if not banded."""
        if self._band_bound is None:
            return None
        if self._band is None:
            g = self.model.generated
            if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(params)):
                params = self.model.complete_params(self.model.params)
            with jax.ensure_compile_time_eval():
                band = effective_band(g.rhs, t0, g.n_states, params, self._band_bound)
            self._band = band_strategy(band) if band is not None else False
        return self._band or None

    def choose_auto(self, params: dict, initial: dict, t0: float, t1: float) -> str:
        """`solver = auto`, decided from concrete values (the defaults, if traced)."""
        m = self.model
        if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((params, initial))):
            params, initial = m.complete_params(m.params), {}
        key = (t0, t1, *(
            (k, np.asarray(v).tobytes()) for k, v in sorted({**params, **{
                "initial." + n: v for n, v in initial.items()}}.items())))
        if key not in self._decisions:
            # Evaluated now even inside an outer trace (jit, grad): it is a decision.
            with jax.ensure_compile_time_eval():
                y0 = self.simulator.pack(m.initial_values(params, initial))
                large = y0.shape[0] > 500
                linear = (self.band(params, t0) if large else None) or (
                    self._solve_grid if large else None) or Dense()
                # a band or grid the implicit solve would use: kept for kvaerno5
                structured = (self._solve_grid is not None
                              or self.band(params, t0) is not None)
                self._decisions[key] = solvers.choose_auto(m.generated.rhs, t0, t1, y0, params,
                                                           linear=linear, structured=structured)
        return self._decisions[key]

    def derivatives(self) -> Callable | None:
        """The model's symbolic `(t, y, p) -> (f, df/dt, df/dy)` for the Rosenbrock
        solvers, generated on first use (`codegen.load_derivatives`); `None` where the
        model has none (they differentiate `rhs` by autodiff then)."""
        key = ("derivatives",)
        if key not in self._decisions:
            self._decisions[key] = load_derivatives(self.model.system)
        return self._decisions[key]

    def exponential(self, solver: str, *, from_file: bool) -> ExponentialSetup | None:
        """The semilinear set-up of an exponential solver (`None` for other solvers)."""
        if solver not in catalog.EXPONENTIAL_SOLVERS:
            return None
        key = ("exponential", solver)
        if key not in self._decisions:
            span = self.model.settings.span_of("solver") if from_file else None
            self._decisions[key] = exponential_setup(self.model.system, solver, span=span)
        return self._decisions[key]

    def steady_fn(self, **options: Any) -> Callable:
        """The compiled steady-state search for these options (`steady.make_steady_fn`)."""
        key = ("steady", *sorted(options.items()))
        if key not in self._decisions:
            self._decisions[key] = make_steady_fn(self.model, **options)
        return self._decisions[key]

    def _warn_dense(self, solver: str) -> None:
        """Warn, once per model, that an implicit solve of a large PDE forms a dense
        N×N Jacobian (a documented limit, docs/pde.md: scalar states next to fields,
        non-local terms, the spectral scheme, tiny periodic grids)."""
        n = self.model.generated.n_states
        if not self.model.built.domain or n <= DENSE_WARNING or self._warned_dense:
            return
        self._warned_dense = True
        warnings.warn(
            f"{self.model.name}: {solver} will form a dense {n}x{n} Jacobian "
            f"({8 * n * n / 2**20:.0f} MiB, O(N^3) per factorization): no band could be "
            "proven from the stencils (scalar states next to fields, indexing/sums over a "
            "field, or the spectral scheme; see docs/pde.md). An explicit solver, or the "
            "model without the coupling, avoids it.", stacklevel=7)


def _docs(*systems: System) -> dict[str, str]:
    """The doc strings of the variables and observed outputs of `systems` by name
    (the built one first: a pass may drop a doc string, never add one)."""
    docs: dict[str, str] = {}
    for system in systems:
        items: tuple[Any, ...] = (*system.variables, *system.observed)
        for item in items:
            if item.doc and item.name not in docs:
                docs[item.name] = item.doc
    return docs


def _check_concrete_times(options: Mapping[str, Any]) -> None:
    """Refuse a traced `tspan` or `saveat` (`simulate` inside `jax.jit` with the span
    an argument of the jitted function): the span and the save times fix the compiled
    program (diffrax's loop is faster with constant ends, and the number of saved
    points is the shape of the output), so they must be known when it is traced."""
    for name in ("tspan", "saveat"):
        value = options.get(name)  # on every call's path: no pytree flattening
        if isinstance(value, (tuple, list)):
            traced = any(isinstance(x, jax.core.Tracer) for x in value)
        else:
            traced = isinstance(value, jax.core.Tracer)
        if traced:
            raise SymflowError(
                f"{name} is a traced value: inside jax.jit (or vmap, grad) the {name} of "
                "simulate must be a constant, because the span and save times fix the "
                "compiled program",
                help=f"pass {name} as Python numbers or a NumPy array, and mark it static "
                     "(jax.jit(f, static_argnums=...)); to differentiate with respect to "
                     "the end time, scale time by a parameter in the model")


def _named(solver: SolverArg) -> str | None:
    """The solver of a side that takes names only (`Runner.simulate` sends solver
    objects to the ODE side)."""
    assert solver is None or isinstance(solver, str)
    return solver
