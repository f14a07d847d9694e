"""Distilling closures: from a trained network back to a sparse symbolic expression.

`distill(model, params)` simulates the model with its trained closures, reads each
closure's inputs and outputs along the trajectories, fits every output by a sparse sum of
candidate terms (`_library.py`, `_sindy.py`), and writes the model again with the closure
replaced by the found expressions (`_rewrite.py`). With data, the distilled model is
simulated under every experiment and its error against the data reported, beside the
error of the model with the network.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ...errors import SymflowError
from ...files import write_atomically
from ...lang import ast, parse
from ...solve import save_times
from ...symbolic import Parameter, Variable
from .._common import column, data_rows
from .._data import as_experiments, check_experiment
from .._model import SimulatedModel
from ._functions import model_functions
from ._library import Library, build_library
from ._rewrite import format_sum, input_texts, rewrite_closures
from ._sindy import SparseFit, sparse_regression

__all__ = ["distill", "distill_samples", "Distillation", "DistilledOutput", "data_error"]


@dataclasses.dataclass(frozen=True)
class DistilledOutput:
    """One closure output and the expression found for it.

    - `name`: the output's name; `closure`: the text of its closure's declaration.
    - `terms`: every candidate term, as model text; `coefficients`: theirs (zero for the
      terms left out).
    - `text`: the expression as model text (what the distilled model contains).
    - `expression`: the same as SymPy over the model's symbols (a model function stays
      an undefined call `f(x, y)`).
    - `error`: RMS of (expression - network) over the samples, relative to the RMS of
      the network's output.
    - `fit`: the sparse regression (threshold, cross-validation).
    """

    name: str
    closure: str
    terms: tuple[str, ...]
    coefficients: np.ndarray
    text: str
    expression: sp.Expr
    error: float
    fit: SparseFit

    @property
    def found(self) -> dict[str, float]:
        """The kept terms and their coefficients."""
        return {t: float(c) for t, c in zip(self.terms, self.coefficients) if c != 0}


@dataclasses.dataclass(frozen=True)
class Distillation:
    """The result of `distill`: the found expressions and the distilled model's text.

    `data_error` (with data) maps each data column to the RMS error of the distilled
    model against it, `network_error` the same for the model with its networks;
    without data, `data_error` compares the distilled model with the network model's
    own trajectories and `network_error` is empty.
    """

    outputs: tuple[DistilledOutput, ...]
    model_text: str
    file: str
    n_samples: int
    data_error: dict[str, float] = dataclasses.field(default_factory=dict)
    network_error: dict[str, float] = dataclasses.field(default_factory=dict)
    sampled_on: str = "samples"  # "data", "trajectory", or given samples
    # the model distilled, which compiles the distilled text (`load`)
    origin: SimulatedModel | None = dataclasses.field(default=None, repr=False, compare=False)

    def __getitem__(self, name: str) -> DistilledOutput:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)

    def load(self) -> SimulatedModel:
        """The distilled model, compiled (the way the model it came from was)."""
        if self.origin is None:
            raise SymflowError("this distillation does not know its model: compile "
                               "`model_text` with `symflow.loads`")
        return self.origin.load_text(self.model_text, file=self.file)

    def write(self, path: str | os.PathLike) -> str:
        """Write the distilled model text to `path` (atomically); return the text."""
        write_atomically(path, self.model_text)
        return self.model_text

    def table(self) -> str:
        """The found expressions, one line per output, with their error."""
        width = max(len(o.name) for o in self.outputs) if self.outputs else 0
        lines = []
        for o in self.outputs:
            readable = format_sum([float(f"{c:.6g}") for c in o.coefficients], o.terms)
            lines.append(f"  {o.name:<{width}} = {readable}")
            expanded = _readable(o.expression)
            if expanded.replace(" ", "") != readable.replace(" ", ""):
                # inputs written as expressions (x/4): the same in the model's own names
                lines.append(f"  {'':<{width}} = {expanded}")
            lines.append(f"  {'':<{width}}   ({len(o.found)} of {len(o.terms)} terms, "
                         f"threshold {o.fit.threshold:.3g}, RMS error {100 * o.error:.3g}% "
                         f"of the network's output)")
        return "\n".join(lines)


# ---------------------------------------------------------------- the steps


def distill(model: SimulatedModel, params: Mapping[str, Any] | None = None, *, data=None,
            initial: Mapping[str, Any] | None = None, samples: int = 200, degree: int = 2,
            functions: bool = True,
            threshold: float | str = "cv", tolerance: float = 0.01, folds: int = 5,
            sample: str = "auto", robust: bool = True, **options) -> Distillation:
    """Distil every closure of `model` into a sparse expression of its inputs.

    **Arguments:**

    - `model`: a `symflow.Model` with closures; `params` its parameters with trained
      weights (default `model.params`).
    - `data`: experiments (a CSV path, dict of columns, `Experiment`, or a list): the
      model is simulated under each, from the model's start to the last data time, and
      the distilled model's error against the data is reported. Without data, the
      model's own `tspan` is used.
    - `initial`: initial values overriding the model's (an experiment's own win).
    - `sample`: where the closures are sampled. `"data"`: at the measured states of the
      data (every state must have a column; rows with a missing state are skipped):
      where the network was trained to be right, as in Rackauckas et al.'s UDE
      paper (2020), which fits SINDy to the network on the data. `"trajectory"`: along
      the model's simulated trajectories (`samples` saved times each), which also works
      for partly measured or no data, but trusts the network wherever the model goes.
      `"auto"` (default): data if it measures every state, else trajectories.
    - `samples`: saved times per trajectory, when sampling on trajectories.
    - `degree`, `functions`: the candidate library: monomials up to `degree` of the
      inputs, and (if `functions`) the model's own functions applied to them.
    - `threshold`, `tolerance`, `folds`, `robust`: the sparse regression (see
      `sparse_regression`): a relative threshold, or `"cv"` to choose it; Huber's
      robust fit (default) or least squares.
    - `options`: passed to `simulate` (`solver`, `rtol`, `atol`, ...).
    """
    params = model.params if params is None else params
    experiments = as_experiments(data) if data is not None else []
    t0, t1 = (options.pop("tspan") if "tspan" in options else model.settings.tspan)
    # (params, initial, tspan) of each trajectory
    runs: list[tuple[Mapping[str, Any], dict[str, Any], tuple[float, float]]] = []
    for e in experiments:
        check_experiment(model, e, (t0, t1))
        end = float(e.t.max()) if t1 >= t0 else float(e.t.min())
        runs.append(({**params, **e.params}, {**(initial or {}), **e.initial}, (t0, end)))
    if not runs:
        runs.append((params, dict(initial or {}), (t0, t1)))
    if sample not in ("auto", "data", "trajectory"):
        raise SymflowError(f"unknown sample {sample!r}",
                           help="choose auto, data or trajectory")
    measured = experiments and all(_measures_states(model, e) for e in experiments)
    if sample == "data" and not measured:
        raise SymflowError("cannot sample the closures on the data: "
                           + ("no data given" if not experiments else
                              "the data does not measure every state (a column per scalar "
                              "state)"), help="use sample='trajectory'")
    on_data = sample == "data" or (sample == "auto" and bool(measured))
    inputs: dict[Any, list] = {}
    outputs: dict[Any, list] = {}
    solutions = []
    for k, (p, start, span) in enumerate(runs):
        if on_data:
            sol = _DataStates(experiments[k], model.state_names)
        else:
            sol = model.simulate(p, initial=start, tspan=span, saveat=samples, **options)
            solutions.append(sol)
        for key, (z, u) in _closure_samples(model, p, sol).items():
            inputs.setdefault(key, []).append(np.asarray(z, dtype=float))
            outputs.setdefault(key, []).append(np.asarray(u, dtype=float))
    collected = {key: (np.concatenate(inputs[key]), np.concatenate(outputs[key]))
                 for key in inputs}
    result = distill_samples(model, collected, params=params, degree=degree,
                             functions=functions, threshold=threshold, tolerance=tolerance,
                             folds=folds, robust=robust)
    distilled = result.load()
    physical = _physical(model, params)
    if experiments:
        errors = data_error(distilled, experiments, physical, initial=initial,
                            tspan=(t0, t1), **options)
        network = data_error(model, experiments, params, initial=initial, tspan=(t0, t1),
                             **options)
    else:
        errors, network = _trajectory_error(distilled, physical, solutions, runs,
                                            options), {}
    return dataclasses.replace(result, data_error=errors, network_error=network,
                               sampled_on="data" if on_data else "trajectory")


def distill_samples(model: SimulatedModel, samples: Mapping[Any, tuple[Any, Any]], *,
                    params: Mapping[str, Any] | None = None, degree: int = 2,
                    functions: bool = True, threshold: float | str = "cv",
                    tolerance: float = 0.01, folds: int = 5, robust: bool = True
                    ) -> Distillation:
    """Fit every closure output from samples of its inputs and outputs, and write the
    distilled model.

    `samples` maps each closure (as `distill` collects them) to `(inputs, outputs)` of
    shapes `(n, number of inputs)` and `(n, number of outputs)`: from the network along
    trajectories, or from any function one wants written as a closure's replacement.
    The other arguments are those of `distill`.
    """
    params = model.params if params is None else params
    source, file = _source(model)
    program = parse(source, file)
    target = next((m for m in program.models if m.name == model.built.name), None)
    if target is None:
        raise SymflowError(f"cannot find model {model.built.name} in {file}")
    declared = [c for c in target.items("closures") if isinstance(c, ast.Closure)]
    if not declared:
        raise SymflowError(f"model {target.name} has no closures to distill")
    physical = {p.name for p in model.built.free_parameters}
    values = {k: float(v) for k, v in model.complete_params(_physical(model, params)).items()
              if k in physical and np.ndim(v) == 0}
    candidates = model_functions(program, target, values) if functions else ()
    views = _closure_views(model, declared, source)
    replacements: dict[str, str] = {}
    notes: dict[str, str] = {}
    found: list[DistilledOutput] = []
    n_samples = 0
    for view in views:
        if view.key not in samples:
            raise SymflowError(f"no samples for the closure {view.declaration}")
        z, u = (np.asarray(a, dtype=float) for a in samples[view.key])
        z = z.reshape(z.shape[0], -1)
        u = u.reshape(u.shape[0], -1)
        if z.shape[1] != len(view.texts) or u.shape[1] != len(view.outputs):
            raise SymflowError(
                f"samples of {view.declaration} have {z.shape[1]} inputs and {u.shape[1]} "
                f"outputs; the closure has {len(view.texts)} and {len(view.outputs)}")
        keep = np.isfinite(z).all(axis=1) & np.isfinite(u).all(axis=1)
        z, u = z[keep], u[keep]
        n_samples = max(n_samples, z.shape[0])
        symbols = tuple(sp.Dummy(f"in{i}") for i in range(len(view.texts)))
        library = build_library(symbols, degree=degree, functions=candidates)
        theta = library.evaluate(z)
        usable = np.isfinite(theta).all(axis=0)  # a model function may blow up
        library = Library(library.inputs, tuple(t for t, ok in zip(library.terms, usable)
                                                if ok))
        theta = theta[:, usable]
        texts = library.names(view.texts)
        for j, name in enumerate(view.outputs):
            fit = sparse_regression(theta, u[:, j], threshold=threshold,
                                    tolerance=tolerance, folds=folds, robust=robust)
            scale = float(np.sqrt(np.mean(u[:, j] ** 2))) or 1.0
            error = float(np.sqrt(np.mean((theta @ fit.coefficients - u[:, j]) ** 2))) / scale
            expression = sp.Add(*(sp.Float(c) * term.display(view.exprs) for c, term in
                                  zip(fit.coefficients, library.terms) if c != 0))
            text = format_sum(fit.coefficients, texts)
            replacements[name] = text
            notes[name] = (f"{int(np.count_nonzero(fit.coefficients))} of {len(texts)} "
                           f"candidate terms; RMS error {100 * error:.3g}% of the network's "
                           f"output over {z.shape[0]} samples")
            found.append(DistilledOutput(name, view.declaration, texts, fit.coefficients,
                                         text, expression, error, fit))
    changed = _changed_defaults(model, params)
    text = rewrite_closures(source, file=file, model=target.name, replacements=replacements,
                            params=changed, notes=notes)
    return Distillation(tuple(found), text, _distilled_name(file), n_samples,
                        origin=model)


def data_error(model: SimulatedModel, data, params: Mapping[str, Any] | None = None, *,
               initial: Mapping[str, Any] | None = None,
               tspan: tuple[float, float] | None = None, **options) -> dict[str, float]:
    """The RMS error of `model` against each data column, pooled over every experiment.

    `initial` overrides the model's initial values (an experiment's own win); `tspan`
    is the span the data lie in (default the model's); `options` go to `simulate`.
    """
    params = model.params if params is None else params
    t0, t1 = tspan if tspan is not None else model.settings.tspan
    squares: dict[str, list] = {}
    for e in as_experiments(data):
        end = float(e.t.max()) if t1 >= t0 else float(e.t.min())
        ts = save_times((t0, end), e.t)
        sol = model.simulate({**params, **e.params}, initial={**(initial or {}), **e.initial},
                             tspan=(t0, end),
                             saveat=ts, **options)
        rows = data_rows(ts, e.t)
        for name, values in e.columns.items():
            ok = np.isfinite(values)
            model_values = np.asarray(column(sol, name))[rows]
            squares.setdefault(name, []).append((model_values[ok] - values[ok]) ** 2)
    return {c: float(np.sqrt(np.mean(np.concatenate(v)))) for c, v in squares.items()}


def _trajectory_error(distilled, params, solutions, runs, options) -> dict[str, float]:
    """RMS difference per state between the distilled model and the network model."""
    squares: dict[str, list] = {}
    for sol, (p, initial, span) in zip(solutions, runs):
        ts = np.asarray(sol.t)
        mine = distilled.simulate({**params, **{k: v for k, v in p.items() if k in params}},
                                  initial=initial, tspan=span, saveat=ts, **options)
        for name in distilled.state_names:
            if name in sol:
                diff = np.asarray(mine[name]) - np.asarray(sol[name])
                squares.setdefault(name, []).append(diff.ravel() ** 2)
    return {c: float(np.sqrt(np.mean(np.concatenate(v)))) for c, v in squares.items()}


# ---------------------------------------------------------------- helpers


def _readable(expression: sp.Expr) -> str:
    """An expression, expanded in the model's names, with 6 significant digits."""
    expanded = sp.expand(expression)
    rounded = expanded.xreplace({n: sp.Float(float(f"{float(n):.6g}"))
                                 for n in expanded.atoms(sp.Float)})
    return str(rounded).replace("**", "^")


class _DataStates:
    """The measured states of an experiment, read like a `Solution` by
    `Model.closure_samples` (`.t` and `[state]`); rows missing a state are left out."""

    def __init__(self, experiment, states: Sequence[str]):
        rows = np.all([np.isfinite(experiment.columns[s]) for s in states], axis=0)
        self.t = np.asarray(experiment.t)[rows]
        self._values = {s: np.asarray(experiment.columns[s])[rows] for s in states}

    def __getitem__(self, name: str):
        return self._values[name]


def _measures_states(model: SimulatedModel, experiment) -> bool:
    """Whether an experiment has a column for every state, all scalars."""
    shapes = {s.name: s.shape for s in model.generated.states}
    return all(shape == () and name in experiment.columns for name, shape in shapes.items())


@dataclasses.dataclass(frozen=True)
class _ClosureView:
    key: Any  # the key of this closure in the samples
    outputs: tuple[str, ...]
    texts: tuple[str, ...]  # each input's source text, as an atom
    exprs: tuple[sp.Expr, ...]  # each input as SymPy over the model's symbols
    declaration: str  # the declaration's text, for messages


def _closure_views(model: SimulatedModel, declared: Sequence[ast.Closure], source: str
                   ) -> tuple[_ClosureView, ...]:
    """The model's closures (from the closure interface of `Model`) beside their syntax."""
    infos = _model_closures(model)
    by_outputs = {tuple(c.outputs): c for c in declared}
    every_output = {o for info in infos.values() for o in info.outputs}
    views = []
    for key, info in infos.items():
        chained = sorted(set(getattr(info, "depends_on", ())) & every_output)
        if chained:
            raise SymflowError(
                f"cannot distill: the inputs of closure ({', '.join(info.outputs)}) use "
                f"'{chained[0]}', the output of another closure", info.span,
                help="distilling chained closures is not supported yet")
        node = by_outputs.get(tuple(info.outputs))
        if node is None:
            raise SymflowError(f"closure {info.outputs} is not in the model's text")
        texts = input_texts(node, source)
        exprs = tuple(info.inputs)
        declaration = f"({', '.join(info.outputs)}) = {node.call.func}(...)"
        views.append(_ClosureView(key, tuple(info.outputs), texts, exprs, declaration))
    return tuple(views)


def _model_closures(model: SimulatedModel) -> dict[Any, Any]:
    """The model's closures (`symflow.symbolic.Closure`) by name, the key of their
    samples and weights."""
    closures = getattr(model, "closures", None) or ()
    if not closures:
        raise SymflowError(f"model {model.name} has no closures to distill")
    return {c.name: c for c in closures}


def _closure_samples(model: SimulatedModel, params, solution) -> dict[Any, tuple[Any, Any]]:
    return model.closure_samples(params, solution)


def _physical(model: SimulatedModel, params: Mapping[str, Any]) -> dict[str, Any]:
    """The physical parameters among `params` (not the network weights)."""
    names = {p.name for p in model.built.free_parameters}
    return {k: v for k, v in params.items() if k in names}


def _changed_defaults(model: SimulatedModel, params: Mapping[str, Any]) -> dict[str, float]:
    """Physical parameters whose value differs from the file's default (trained with
    the network): written into the distilled model."""
    defaults = model.complete_params({})
    out = {}
    for name, value in _physical(model, params).items():
        if np.ndim(value) == 0 and float(value) != float(defaults[name]):
            out[name] = float(value)
    return out


def _source(model: SimulatedModel) -> tuple[str, str]:
    """The text and file name of the model's file, from the spans it was built with."""
    system = model.built
    items: tuple[Parameter | Variable, ...] = (*system.parameters, *system.variables)
    for item in items:
        if item.span is not None and item.span.source:
            return item.span.source, item.span.file
    for e in system.equations:
        for span in e.spans:
            if span.source:
                return span.source, span.file
    raise SymflowError("cannot distill: the model's source text is not known")


def _distilled_name(file: str) -> str:
    root, ext = os.path.splitext(file)
    return f"{root}_distilled{ext or '.sf'}" if not file.startswith("<") else file

