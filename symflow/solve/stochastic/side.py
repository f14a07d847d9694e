"""`Model.simulate` for SDEs, ensembles and parameter sweeps.

`ModelEnsembles` turns the options of `simulate` and the model's `simulate`
section (`trajectories`, `seed`, `noise`, `dt`, `solver`) into an
`EnsembleConfig`, checks the solver against the noise class the compiler
derived from the diffusion matrix, and runs the ensemble.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import diffrax
import jax
import numpy as np

from ... import catalog
from ...errors import SymflowError
from ...symbolic import classify_noise
from ..config import check_options
from ..result_size import check_result_size
from ..simulate import save_times
from . import solvers as _sde_solvers
from .ensemble import EnsembleConfig, EnsembleSimulator
from .solution import DEFAULT_QUANTILES, EnsembleSolution

if TYPE_CHECKING:
    from ..runner import CompiledModel


__all__ = ["ModelEnsembles", "ENSEMBLE_OPTIONS"]


ENSEMBLE_OPTIONS = ("trajectories", "seed", "noise", "sweep", "stats_only", "quantiles",
                    "chunk_size", "mesh", "brownian_tol", "save_noise", "brownian_path")


class ModelEnsembles:
    """The ensemble side of one compiled `symflow.Model`."""

    def __init__(self, model: CompiledModel, runner: EnsembleSimulator):
        self.model = model
        system = model.system
        self.is_sde = system.is_sde
        self.noise_class = classify_noise(system) if self.is_sde else None
        self.runner = runner

    def applies(self, options: Mapping[str, Any]) -> bool:
        """Whether `simulate` with these options runs an ensemble."""
        for name in options:
            if name not in ENSEMBLE_OPTIONS:
                raise SymflowError(f"unknown option {name!r} of simulate",
                                   help="ensemble options: " + ", ".join(ENSEMBLE_OPTIONS))
        n = options.get("trajectories")
        n = self.model.settings.trajectories if n is None else n
        return self.is_sde or n != 1 or bool(options.get("sweep"))

    def solver_for(self, name: str | None, calculus: str) -> str:
        """The SDE solver to use: `name`, or the model's, checked against the noise class."""
        s = self.model.settings
        span = None if name is not None else s.span_of("solver")
        name = name if name is not None else s.solver
        if name == "auto":
            return _sde_solvers.choose_sde_solver(self._noise_class(), calculus)
        _sde_solvers.check_sde_solver(name, self._noise_class(), calculus, span)
        return name

    def _noise_class(self) -> str:
        """The noise class of an SDE model (an ODE model has none)."""
        if self.noise_class is None:
            raise SymflowError(f"{self.model.name} is an ODE model: it has no noise to "
                               "choose an SDE solver for")
        return self.noise_class

    def converts_ito(self, calculus: str) -> bool:
        """Whether adaptive steps solve this Itô model in its Stratonovich form: for
        multiplicative noise whose Itô–Stratonovich correction `-1/2 sum_j L^j g_j`
        the compiler derived (the generated `milstein` term at `dW = 0`, `h = 1`)."""
        return (calculus == "ito" and self.noise_class in ("diagonal", "commutative")
                and self.model.generated.milstein is not None)

    def adaptive_solver_for(self, name: str | None, calculus: str) -> str:
        """The SDE solver for adaptive steps: `name` or the model's, checked for an
        error estimate and against the noise class (an Itô model with multiplicative
        noise is checked in the Stratonovich form it is solved in, `converts_ito`)."""
        s = self.model.settings
        span = None if name is not None else s.span_of("solver")
        name = name if name is not None else s.solver
        convert = self.converts_ito(calculus)
        if name == "auto":
            return _sde_solvers.choose_adaptive_sde_solver(
                self._noise_class(), calculus, s.span_of("rtol") or s.span_of("atol"),
                ito_convertible=convert)
        _sde_solvers.check_sde_solver(name, self._noise_class(),
                                      "stratonovich" if convert else calculus, span)
        _sde_solvers.check_adaptive_sde_solver(name, span)
        return name

    def simulate(self, params: Mapping[str, Any] | None = None, *,
                 initial: Mapping[str, Any] | None = None,
                 tspan: tuple[float, float] | None = None, saveat: Any = None,
                 solver: str | None = None, rtol: float | None = None,
                 atol: float | None = None, dt: float | None = None,
                 max_steps: int | None = None,
                 adjoint: str | diffrax.AbstractAdjoint = "checkpoint",
                 timings: dict[str, float] | None = None, trajectories: int | None = None,
                 seed: int | None = None,
                 noise: str | None = None, sweep: Mapping[str, Any] | None = None,
                 stats_only: bool = False, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                 chunk_size: int | None = None, mesh: jax.sharding.Mesh | None = None,
                 brownian_tol: float | None = None,
                 save_noise: bool = False, brownian_path: str | None = None
                 ) -> EnsembleSolution:
        m = self.model
        s = m.settings
        if initial:
            raise SymflowError("initial values cannot be overridden in an ensemble yet",
                               help="change the model's initial values, or make them "
                                    "parameters and sweep them")
        t0, t1 = tspan if tspan is not None else s.tspan
        ts = save_times((t0, t1), saveat if saveat is not None else s.saveat)
        p = m.complete_params(params)
        sweep = dict(sweep or {})
        for name in sweep:
            if name not in m.generated.parameter_names:
                raise SymflowError(f"cannot sweep {name!r}: {m.name} has no such parameter",
                                   help="its parameters: "
                                   + ", ".join(m.generated.parameter_names))
            if any(table.name == name for table in m.generated.inputs):
                raise SymflowError(f"cannot sweep {name!r}: it is the table of an input",
                                   help="vmap a function of the values instead: "
                                        f"jax.vmap(lambda v: m.simulate(params={{{name!r}: v}}))")
        sizes = {np.size(v) for v in sweep.values()}
        if len(sizes) > 1:
            raise SymflowError("every swept parameter needs the same number of values")
        if sweep:
            n_sweep = sizes.pop()
            if trajectories is not None and trajectories != n_sweep:
                raise SymflowError(f"a sweep of {n_sweep} values runs {n_sweep} "
                                   f"trajectories, not {trajectories}")
            trajectories = n_sweep
        n = int(trajectories if trajectories is not None else s.trajectories)
        if n < 1:
            raise SymflowError(f"trajectories must be at least 1, not {n}")
        seed = int(seed if seed is not None else s.seed)
        quantiles = tuple(float(q) for q in quantiles)
        if any(not 0 <= q <= 1 for q in quantiles):
            raise SymflowError("quantile levels must lie in [0, 1]")
        if chunk_size is not None and chunk_size < 1:
            raise SymflowError("chunk_size must be at least 1")
        g = m.generated
        values = g.n_states + sum(int(np.prod(shape)) for _, shape in g.observed)
        if save_noise:
            values += sum(g.brownian_sizes) or len(g.brownian)
        check_result_size(
            times=len(ts), values=values,
            trajectories=min(n, chunk_size) if stats_only and chunk_size else n,
            help="run fewer trajectories or save fewer times, or keep statistics only "
                 "and run the trajectories in chunks (stats_only=True, chunk_size=N; "
                 "on the command line --stats-only --chunk-size N)")
        # the options an SDE and an ODE ensemble share, completed by each below
        common = EnsembleConfig(trajectories=n, n_save=len(ts), chunk_size=chunk_size,
                                stats_only=bool(stats_only), quantiles=quantiles,
                                swept=tuple(sorted(sweep)), max_events=s.max_events,
                                event_samples=s.event_samples)
        if self.is_sde:
            config, tolerances = self._sde_config(
                ts, common, solver=solver, rtol=rtol, atol=atol, dt=dt, max_steps=max_steps,
                noise=noise, brownian_tol=brownian_tol, save_noise=save_noise,
                brownian_path=brownian_path)
        else:
            tolerances = None
            if noise is not None or save_noise or brownian_tol is not None or brownian_path:
                raise SymflowError(f"{m.name} is an ODE model: noise, save_noise and "
                                   "brownian_tol are for SDEs")
            ode = m.runner.ode_config(ts, p, {}, solver=solver, rtol=rtol, atol=atol,
                                      dt=dt, max_steps=max_steps, adjoint=adjoint)
            config = dataclasses.replace(common, ode=ode, solver=ode.solver)
        name = config.solver
        if timings is not None:
            timings["solver"] = name  # type: ignore[assignment]
            start = time.perf_counter()
        sol = self.runner.run(config, p, ts, seed=seed, sweep=sweep, mesh=mesh,
                              tolerances=tolerances if self.is_sde else None)
        if timings is not None:
            timings["ensemble (compile and run)"] = time.perf_counter() - start
        return sol

    def _sde_config(self, ts, common: EnsembleConfig, *, solver, rtol, atol, dt, max_steps, noise,
                    brownian_tol, save_noise, brownian_path
                    ) -> tuple[EnsembleConfig, tuple[float, float] | None]:
        """The configuration of an SDE ensemble, and the tolerances of adaptive steps
        (`None`: fixed steps): the options checked against the model's noise."""
        s = self.model.settings
        calculus = noise if noise is not None else s.noise
        if calculus not in catalog.CALCULI:
            raise SymflowError(f"noise must be ito or stratonovich, not {calculus!r}")
        # rtol/atol (given here or written in the model) ask for adaptive steps.
        adaptive = rtol is not None or atol is not None or any(
            s.span_of(k) is not None for k in ("rtol", "atol"))
        if adaptive:
            name = self.adaptive_solver_for(solver, calculus)
        else:
            name = self.solver_for(solver, calculus)
        check_options(rtol=rtol, atol=atol, dt=dt, max_steps=max_steps)
        step = dt if dt is not None else s.dt0
        if step is None and not adaptive:
            raise SymflowError(
                "SDE solvers take fixed steps: set dt", s.span_of("solver"),
                help="add `dt = ...` under simulate, or pass dt= (or set rtol and "
                     "atol for adaptive steps)")
        if float(ts[-1]) <= float(ts[0]):
            raise SymflowError("an SDE is solved forwards in time: tspan must increase")
        if brownian_path is None:
            tree = save_noise or brownian_tol is not None or adaptive
            brownian_path = "tree" if tree else "fast"
        if brownian_path not in ("fast", "tree"):
            raise SymflowError(f"brownian_path must be 'fast' or 'tree', not "
                               f"{brownian_path!r}")
        if save_noise and brownian_path != "tree":
            raise SymflowError("save_noise needs brownian_path='tree'")
        if adaptive and brownian_path != "tree":
            raise SymflowError("adaptive steps (rtol/atol) need brownian_path='tree'")
        config = dataclasses.replace(
            common, solver=name, calculus=calculus, t0=float(ts[0]), t1=float(ts[-1]),
            dt=None if step is None else float(step), brownian_tol=brownian_tol,
            save_noise=bool(save_noise), brownian_path=brownian_path)
        if not adaptive:
            return config, None
        tolerances = (float(rtol if rtol is not None else s.rtol),
                      float(atol if atol is not None else s.atol))
        config = dataclasses.replace(
            config, adaptive=True, ito_to_stratonovich=self.converts_ito(calculus),
            max_steps=int(max_steps if max_steps is not None else s.max_steps),
            clip_rejected=None if self.noise_class in ("additive", "diagonal",
                                                       "commutative") else 64)
        return config, tolerances
