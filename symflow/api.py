"""The Python API: `load` a model file, then `simulate` it.

```python
m = symflow.load("lotka_volterra.sf")
sol = m.simulate(params={"alpha": 1.2})
loss = lambda p: jnp.sum(m.simulate(params=p)["x"] ** 2)
jax.grad(loss)(m.params)
```
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from . import catalog, codegen, frontend, symbolic
from .errors import SymflowError
from .progress import stage
from .solve import Runner, Solution
from .symbolic import System

if TYPE_CHECKING:
    from .solve import Sensitivities, SteadyState

__all__ = ["Model", "load", "loads"]

def load(path: str | os.PathLike, *, model: str | None = None,
         allow_import: Sequence[str | os.PathLike] = ()) -> "Model":
    """Compile a model file. `model` picks one model of a file that holds several.
    An SBML file (`.xml`, `.sbml`) is imported first (docs/sbml.md). The file's
    imports read `.sf` files in its folder and the standard library; `allow_import`
    adds folders (docs/language.md, imports)."""
    return _model(frontend.compile_file(path, model=model, allow_import=allow_import))


def loads(text: str, *, file: str = "<string>", model: str | None = None,
          allow_import: Sequence[str | os.PathLike] = ()) -> "Model":
    """Compile model text. Its imports read `.sf` files in the folder of `file` (the
    current folder for `<string>`) and the standard library; `allow_import` adds
    folders."""
    return _model(frontend.compile_text(text, file=file, model=model,
                                        allow_import=allow_import))


def _model(compiled: frontend.Compiled) -> Model:
    """The `Model` of a compiled system: its generated source loaded as callables."""
    start = time.perf_counter()
    with stage("loading the generated code"):
        generated = codegen.load_source(
            compiled.source, event_labels=tuple(e.label for e in compiled.system.events),
            pivot_labels=tuple(p.label for p in compiled.system.pivots))
    timings = dict(compiled.timings)
    timings["codegen"] += time.perf_counter() - start
    return Model(compiled.built, compiled.system, generated, timings,
                 interpretation=compiled.interpretation, network=compiled.network)


class Model:
    """A compiled model: its equations, default parameters, and a solver.

    `params` is a dict of the default parameter values (a pytree: pass it, or a
    modified copy, to `simulate`, `jax.grad`, `jax.vmap`). `initial` holds the
    default initial values of the states.
    """

    def __init__(self, built: System, system: System, generated: codegen.GeneratedModel,
                 timings: dict[str, float], *, interpretation: str = "ode",
                 network: System | None = None):
        self.built = built
        # How this program reads a reaction network (`ode`, `langevin`, `jump`), and the
        # built ODE system the other readings are compiled from (`interpreted`).
        self.interpretation = interpretation
        self.network = network if network is not None else built
        self._interpretations: dict[str, Model] = {interpretation: self}
        self.system = system
        self.generated = generated
        self._names = _Names.of(generated)
        self.timings = dict(timings)
        self.settings = system.settings
        self._defaults: dict[str, Any] | None = None  # complete_params({}), kept
        # arrays by name, and the closures' networks under "closures" (one pytree)
        self.params: dict[str, Any] = {
            p.name: jnp.asarray(p.value, dtype=float) for p in system.free_parameters}
        # an input's table values are an array parameter (docs/language.md, `inputs`)
        self.params.update({i.name: jnp.asarray(i.values, dtype=float) for i in system.inputs})
        if system.closures:  # the networks' weights join the pytree (docs/closures.md)
            from .learn import initial_weights

            self.params["closures"] = initial_weights(system.closures)
        self.initial: dict[str, jax.Array] = self.initial_values(self.params)
        # the solve policy and its caches (auto choice, linear strategy, configurations)
        self.runner = Runner(self)

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
        if not params and not self.system.closures:
            # the defaults, computed once (on every call's path: a model of many
            # components has thousands of default values, and array defaults to build)
            if self._defaults is None:
                self._defaults = self.generated.parameter_defaults({})
            return dict(self._defaults)
        given = dict(params or {})
        weights = given.pop("closures", None) if self.system.closures else None
        unknown = ([] if given.keys() <= self._names.parameters else
                   [k for k in given if k not in self._names.parameters])
        if unknown:
            raise SymflowError(
                f"{self.name} has no parameter named {unknown[0]!r}",
                help=_choices("parameters", self.generated.parameter_names))
        if self.system.inputs:
            _check_input_values(self.system.inputs, given)
        given.update(_check_array_parameters(self.system.free_parameters, given))
        complete: dict[str, Any] = self.generated.parameter_defaults(given)
        if self.system.closures:
            from .learn import complete_weights

            complete["closures"] = complete_weights(self, weights)
        return complete

    def initial_values(self, params: Mapping[str, Any] | None = None,
                       initial: Mapping[str, Any] | None = None) -> dict[str, jax.Array]:
        """The initial value of every state: defaults (which may use `params`),
        overridden by `initial`."""
        p = self.complete_params(params)
        values = dict(self.generated.initial_values(p))
        values.update(self.check_initial(initial))
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
        solver: str | diffrax.AbstractSolver | None = None,
        rtol: float | None = None,
        atol: float | None = None,
        dt: float | None = None,
        max_steps: int | None = None,
        adjoint: str | diffrax.AbstractAdjoint = "checkpoint",
        dense: bool = False,
        progress: bool = False,
        timings: dict[str, float] | None = None,
        **options: Any,
    ) -> Solution:
        """Solve the model. Every option defaults to the model's `simulate` section.

        **Arguments:**

        - `params`: parameter values (a dict; missing ones take their defaults).
          May be traced: `simulate` works under `jax.jit`, `jax.grad`, `jax.vmap`.
        - `initial`: initial values of states, overriding the model's.
        - `tspan`: `(t0, t1)`; `t1 < t0` integrates backwards. The span is fixed at
          compile time (a new span compiles once more): diffrax runs faster with
          constant ends. Under `jax.jit` it must be a constant (not an argument of
          the jitted function, or a static one): a traced span is refused.
        - `saveat`: a number of evenly spaced points, or the times to save at
          (both ends of the span are always included).
        - `solver`: a solver name (`tsit5`, `kvaerno5`, ..., or `auto`), or a diffrax
          solver object (`diffrax.Kvaerno5(root_finder=...)`), used as given for an ODE
          solve (an equal solver, or the same object, reuses the compiled program).
        - `rtol`, `atol`: tolerances of the adaptive step-size controller.
        - `dt`: the initial step (the fixed step for `euler`).
        - `max_steps`: the most steps the solver may take.
        - `adjoint`: how gradients are computed: `checkpoint` (default; replays the
          accepted steps, see docs/fitting.md), `backsolve` (continuous adjoint:
          diffrax's O(1)-memory backward solve with an explicit solver; with an
          implicit one, along the forward solution's interpolant), `interpolating`
          (the latter with any solver), `forward`, `direct`, or a diffrax adjoint
          object. `jax.jacfwd` and `jax.jvp` need `forward`; the reverse-mode
          adjoints refuse them with a message saying so.
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
        `grid_exponent`, `trajectories`, `seed`, `score` (a Python `score(x, t, params)`),
        `stats_only`, `quantiles`, and `initial` (a batch of initial values per state).
        """
        interpretation = options.pop("interpretation", None)
        if interpretation is not None and interpretation != self.interpretation:
            return self.interpreted(interpretation).simulate(
                params, initial=initial, tspan=tspan, saveat=saveat, solver=solver,
                rtol=rtol, atol=atol, dt=dt, max_steps=max_steps, adjoint=adjoint,
                dense=dense, progress=progress, timings=timings, **options)
        return self.runner.simulate(params, solver, {
            "initial": initial, "tspan": tspan, "saveat": saveat, "rtol": rtol, "atol": atol,
            "dt": dt, "max_steps": max_steps, "adjoint": adjoint, "dense": dense,
            "progress": progress, "timings": timings}, options)

    def interpreted(self, interpretation: str) -> "Model":
        """This model's reaction network read as `interpretation` (`ode`, `langevin`,
        `jump`; docs/reactions.md), compiled once and kept."""
        if interpretation not in catalog.INTERPRETATIONS:
            raise SymflowError(f"unknown interpretation {interpretation!r}",
                               help="interpretations: " + ", ".join(catalog.INTERPRETATIONS))
        if interpretation not in self._interpretations:
            if self.network.reactions is None:
                raise SymflowError(f"{self.name} has no reactions to read as "
                                   f"{interpretation!r}", help="interpretation is an "
                                   "option of models with a reactions section")
            model = _model(frontend.compile_system(
                frontend.interpreted(self.network, interpretation),
                interpretation=interpretation, network=self.network))
            model._interpretations = self._interpretations
            self._interpretations[interpretation] = model
        return self._interpretations[interpretation]

    def check_initial(self, initial: Mapping[str, Any] | None) -> dict[str, Any]:
        """Initial-value overrides, checked by name and shape (values may be traced)."""
        if not initial:  # on every call's path
            return {}
        shapes = self._names.state_shapes
        out = {}
        for name, value in initial.items():
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

    # ------------------------------------------------------------ gradients and fits

    def sensitivities(self, params: Mapping[str, Any] | None = None, *,
                      wrt: Sequence[str] | None = None,
                      initial: Mapping[str, Any] | None = None,
                      **options: Any) -> Sensitivities:
        """The forward sensitivity matrix d y(t) / d p at the saved times, labelled
        by output and by parameter (see `symflow.solve.Sensitivities`)."""
        from .solve import sensitivities

        return sensitivities(self, params, wrt=wrt, initial=initial, **options)

    def steady_state(self, params: Mapping[str, Any] | None = None, *,
                     guess: Mapping[str, Any] | None = None, **options: Any) -> SteadyState:
        """A state where every derivative is zero, differentiable in `params` by the
        implicit function theorem (see `symflow.solve.SteadyState`)."""
        from .solve import steady_state

        return steady_state(self, params, guess=guess, **options)

    def fit(self, data: Any, params: Sequence[str] | None = None, *,
            optimizer: str | None = None, steps: int | None = None,
            log: Sequence[str] = (), scale: str | Mapping[str, float] = "none",
            noise: Mapping[str, Any] | None = None, per_experiment: Sequence[str] = (),
            starts: int = 1, sampler: str = "lhs", seed: int = 0,
            batched: bool | None = None, mesh: Any = None, rtol: float | None = None,
            atol: float | None = None, learning_rate: float | None = None,
            progress: bool | Callable[[int, float], None] = False,
            freeze: Sequence[str] = (), schedule: str | None = None,
            window: int | None = None, batch: int | None = None,
            start: Mapping[str, Any] | None = None, print_every: int | None = None,
            solver: str | diffrax.AbstractSolver | None = None,
            tspan: tuple[float, float] | None = None, solve_rtol: float | None = None,
            solve_atol: float | None = None,
            adjoint: str | diffrax.AbstractAdjoint | None = None,
            max_steps: int | None = None, dt: float | None = None,
            best: Any = None) -> Any:
        """Fit parameters and initial values to data (`symflow.learn.fit`); a model
        with closures is trained instead, its networks and physical parameters
        together, with optax (`symflow.learn.train`). Returns a `FitResult` (a
        `TrainResult` when training).

        - `data`, `params`: the data (a CSV path, a dict of columns, an `Experiment`
          or a list of them) and the names to fit (default: every free parameter).
        - Fitting: `optimizer`, `steps`, `log`, `scale`, `noise`, `per_experiment`,
          `starts`, `sampler`, `seed`, `batched`, `mesh` (a 1-D `jax.sharding.Mesh`
          the batch of starts is sharded over), `rtol`/`atol` (the optimiser's),
          `learning_rate`, `progress` (docs/fitting.md).
        - Training closures: `freeze`, `steps`, `learning_rate`, `schedule`, `window`,
          `batch`, `seed`, `start`, `progress`, `print_every` (docs/closures.md).
        - The solves: `solver`, `tspan`, `solve_rtol`/`solve_atol`, `adjoint`,
          `max_steps`, `dt`, as in `simulate`.
        - `best`: a `symflow.learn.BestSoFar` that keeps the best point so far, for
          another thread to read (the command line's Ctrl-C).

        An option left at its default takes the default of `fit` or `train`; an
        option of the other kind (`freeze` for a model without closures, `noise`
        for one with) is refused."""
        from .learn import fit_or_train

        options = dict(locals())
        for name in ("self", "data", "params", "fit_or_train"):
            options.pop(name)
        return fit_or_train(self, data, params, options)

    def profile(self, data: Any, names: Sequence[str] | None = None, **options: Any) -> Any:
        """Profile likelihoods and their confidence intervals (see
        `symflow.learn.profile`): which fitted values the data determine."""
        from .learn import profile

        return profile(self, data, names, **options)

    def distill(self, params: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """Replace the closures by sparse symbolic expressions (see
        `symflow.learn.distill.distill`)."""
        from .learn.distill import distill

        return distill(self, params, **options)

    def distill_samples(self, samples: Mapping[Any, tuple[Any, Any]], **options: Any) -> Any:
        """Replace the closures by sparse expressions fitted to given samples of their
        inputs and outputs (see `symflow.learn.distill.distill_samples`)."""
        from .learn.distill import distill_samples

        return distill_samples(self, samples, **options)

    # ------------------------------------------------------------ neural closures

    @property
    def closures(self) -> tuple:
        """The model's closures, in declaration order: frozen `symflow.symbolic.Closure`
        descriptions (`name`, the key of its weights in `params["closures"]`;
        `outputs`; `inputs` as SymPy and `input_text` as written; `depends_on`, the
        model names the inputs use; `width`, `depth`, `activation`, `scale`, `seed`)."""
        return self.system.closures

    def closure_samples(self, params: Mapping[str, Any] | None, solution: Solution
                        ) -> dict[str, tuple[jax.Array, jax.Array]]:
        """Each closure's inputs and outputs along a solution, by closure name:
        `{name: (inputs (n, n_in), outputs (n, n_out))}` with one row per saved time
        (on a field: per saved time and grid point, time-major). `params` are the
        parameters (and weights) to evaluate the networks with (`None`: defaults).
        Differentiable in `params`; see `symflow.solve._closures.closure_samples`."""
        from .learn import closure_samples

        return closure_samples(self, params, solution)

    def save_weights(self, path: str | os.PathLike,
                     params: Mapping[str, Any] | None = None) -> None:
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

    def rhs(self, t: float | jax.Array, y: jax.Array,
            params: Mapping[str, Any] | None = None) -> jax.Array:
        """The right-hand side `dy/dt` on the flat state vector (for custom solvers)."""
        return self.generated.rhs(t, y, self.complete_params(params))

    def load_text(self, text: str, *, file: str = "<string>") -> "Model":
        """Another model text compiled as this one was (`loads`): a distilled model.
        (A method, so that `symflow.learn` compiles text without importing this module.)"""
        return loads(text, file=file)


def _choices(what: str, names: Sequence[str]) -> str:
    return f"its {what}: " + (", ".join(names) if names else "none")



def _check_array_parameters(parameters, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values given for an array parameter (`r.R` of an array of components): an
    array of its length, or one number for every element (spread over them here)."""
    spread = {}
    for p in parameters:
        if p.shape and p.name in given:
            shape = np.shape(given[p.name])
            if shape not in ((), p.shape):
                raise SymflowError(
                    f"parameter {p.name!r} is an array of {p.shape[0]} values, not of shape "
                    f"{shape}", help=f"give {p.shape[0]} values (one per component) or one "
                                     "number for all")
            if shape == ():
                spread[p.name] = jnp.broadcast_to(jnp.asarray(given[p.name], dtype=float),
                                                  p.shape)
    return spread


def _check_input_values(inputs, given: Mapping[str, Any]) -> None:
    """The values given for an input's table: one number per row of its table."""
    for item in inputs:
        if item.name in given:
            shape = np.shape(given[item.name])
            if shape != (len(item.knots),):
                raise SymflowError(
                    f"input {item.name!r} takes {len(item.knots)} values, one per row of "
                    f"{item.file}, not an array of shape {shape}",
                    help=f"its times are fixed by the table; start from "
                         f"model.params[{item.name!r}]")


@dataclasses.dataclass(frozen=True)
class _Names:
    """Look-up tables of a generated model's names, made once: checking the names of
    a call's parameters and initial values must not cost a scan per name (a ladder of
    1000 sections has 2001 parameters)."""

    parameters: frozenset[str]
    state_shapes: Mapping[str, tuple[int, ...]]

    @classmethod
    def of(cls, generated: codegen.GeneratedModel) -> _Names:
        return cls(frozenset(generated.parameter_names),
                   MappingProxyType({s.name: s.shape for s in generated.states}))
