"""Fitting parameters and initial values to data.

The residuals are model minus data at every measured point of every
experiment (missing values left out), optionally divided by a per-column scale.
Fitted quantities are optimised in an unconstrained coordinate `z`:

- bounds `in [lo, hi]` (both finite): `p = lo + (hi - lo) * sigmoid(z)`;
- only a lower bound: `p = lo + exp(z)`; only an upper: `p = hi - exp(z)`;
- in log space (`log=[...]`): `p = exp(z)` (or the logistic map on
  `[log lo, log hi]` when `lo > 0`), with `p = hi * e^z / (hi + e^z)` when only
  `hi` is finite, so that rate constants spanning decades are well scaled;
- otherwise `p = z`.

Least squares (`levenberg_marquardt`, the default) uses optimistix, whose
Levenberg–Marquardt linearises the residuals in forward mode, so the solve
runs with diffrax's `ForwardMode` adjoint. `bfgs` minimises the sum of squares
with optimistix and reverse-mode gradients (`checkpoint`); `adam` takes
`steps` optax steps.

Standard errors come from the Gauss–Newton covariance at the optimum,
`s^2 (J^T J)^-1` with `s^2 = RSS / (n - k)` and `J` the Jacobian of the
residuals with respect to the fitted values in their own (not transformed)
coordinates. They are meaningful when the residuals are roughly independent
with equal variance within each scale, and the optimum is inside the bounds.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optimistix as optx

from ..errors import SymflowError
from ._data import Experiment, as_experiments, check_experiment
from ._sensitivity import split_names


__all__ = ["FitResult", "FitError", "fit", "OPTIMIZERS"]

OPTIMIZERS = ("levenberg_marquardt", "bfgs", "adam")


class FitError(SymflowError):
    """A fit that did not converge; `best` is the `FitResult` at the best point reached."""

    def __init__(self, message: str, best: "FitResult", *, help: str | None = None):
        super().__init__(message, help=help)
        self.best = best


@dataclasses.dataclass(frozen=True)
class _Transform:
    lo: float
    hi: float
    log: bool

    def to_p(self, z):
        lo, hi = self.lo, self.hi
        if self.log:
            if lo > 0 and math.isfinite(hi):
                a, b = math.log(lo), math.log(hi)
                return jnp.exp(a + (b - a) * jax.nn.sigmoid(z))
            if math.isfinite(hi):
                return hi * jax.nn.sigmoid(z - math.log(hi))
            return jnp.exp(z) + max(lo, 0.0) if lo > 0 else jnp.exp(z)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo + (hi - lo) * jax.nn.sigmoid(z)
        if math.isfinite(lo):
            return lo + jnp.exp(z)
        if math.isfinite(hi):
            return hi - jnp.exp(z)
        return z

    def to_z(self, p: float) -> float:
        lo, hi = self.lo, self.hi
        logit = lambda u: math.log(u / (1 - u))  # noqa: E731
        if self.log:
            if p <= 0:
                raise SymflowError(f"a value fitted in log space must be positive (got {p:g})")
            if lo > 0 and math.isfinite(hi):
                a, b = math.log(lo), math.log(hi)
                return logit(min(max((math.log(p) - a) / (b - a), 1e-12), 1 - 1e-12))
            if math.isfinite(hi):
                return math.log(p) + math.log(hi / max(hi - p, 1e-300 * hi))
            return math.log(p - lo) if lo > 0 else math.log(p)
        if math.isfinite(lo) and math.isfinite(hi):
            return logit(min(max((p - lo) / (hi - lo), 1e-12), 1 - 1e-12))
        if math.isfinite(lo):
            return math.log(max(p - lo, 1e-300))
        if math.isfinite(hi):
            return math.log(max(hi - p, 1e-300))
        return p


@dataclasses.dataclass
class FitResult:
    """Fitted values with standard errors, the final loss, and what was fitted to what.

    `loss` is the sum of squared residuals; `values` and `stderr` are keyed by
    name (parameters, and states for their initial values).
    """

    names: tuple[str, ...]
    values: dict[str, float]
    stderr: dict[str, float]
    initial_guess: dict[str, float]
    covariance: np.ndarray
    loss: float
    n_data: int
    steps: int
    converged: bool
    optimizer: str
    message: str
    model: Any = dataclasses.field(repr=False, default=None)
    experiments: tuple[Experiment, ...] = dataclasses.field(repr=False, default=())
    options: dict = dataclasses.field(repr=False, default_factory=dict)

    @property
    def params(self) -> dict[str, float]:
        """The fitted parameters (not initial values)."""
        return {k: v for k, v in self.values.items() if k in self.model.params}

    @property
    def initial(self) -> dict[str, float]:
        """The fitted initial values."""
        return {k: v for k, v in self.values.items() if k in self.model.state_names}

    def table(self) -> str:
        """The fitted values as a text table."""
        width = max(8, *(len(n) for n in self.names))
        lines = [f"{'name':<{width}}  {'start':>12}  {'fitted':>14}  {'std. error':>12}  "
                 f"{'rel.':>7}",
                 "-" * (width + 55)]
        for n in self.names:
            v, s = self.values[n], self.stderr[n]
            rel = f"{abs(s / v) * 100:6.2f}%" if v != 0 and np.isfinite(s) else "      -"
            what = "" if n in self.model.params else "  (initial value)"
            lines.append(f"{n:<{width}}  {self.initial_guess[n]:>12.6g}  {v:>14.8g}  "
                         f"{s:>12.4g}  {rel}{what}")
        lines.append(f"loss (sum of squared residuals) = {self.loss:.6g} over {self.n_data} "
                     f"data points, {self.steps} steps ({self.optimizer})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def write_model(self, path: str | os.PathLike) -> str:
        """Write the model file with the fitted values as new defaults.

        The original text is kept: only the value of each fitted parameter
        declaration (and of each fitted initial value) is replaced, at its span.
        Returns the new text.
        """
        text = rewrite_defaults(self.model, {**self.params}, {**self.initial})
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return text

    def simulate(self, experiment: int = 0, **options):
        """The fitted model simulated under one experiment's overrides."""
        e = self.experiments[experiment]
        params = {**e.params, **self.params}
        initial = {**e.initial, **self.initial}
        return self.model.simulate(params, initial=initial, **{**self.options, **options})

    def plot(self, path: str | os.PathLike | None = None):
        """Data (points) against the fitted trajectories (lines), one panel per experiment."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        n = len(self.experiments)
        fig, axes = plt.subplots(n, 1, figsize=(8, 3.8 * n), layout="constrained",
                                 squeeze=False)
        for k, (e, ax) in enumerate(zip(self.experiments, axes[:, 0])):
            sol = self.simulate(k, saveat=400, adjoint="checkpoint")
            t = np.asarray(sol.t)
            for i, (col, data) in enumerate(e.columns.items()):
                color = f"C{i}"
                ax.plot(t, _column(sol, col), color=color, label=f"{col} (fit)")
                ok = np.isfinite(data)
                ax.plot(e.t[ok], data[ok], "o", color=color, ms=3.5, alpha=0.7,
                        label=f"{col} (data)")
            ax.set_title(f"{self.model.name}: {os.path.basename(str(e.name))}")
            ax.set_xlabel("t")
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize="small")
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig


def _column(sol, column: str):
    """A data column's model values from a solution (`z[1]` is an array element)."""
    if column.endswith("]") and "[" in column:
        name, index = column[:-1].split("[")
        return sol.values[name][:, int(index)]
    return sol.values[column]


def fit(model, data, params: Sequence[str] | None = None, *,
        optimizer: str = "levenberg_marquardt",
        steps: int | None = None,
        log: Sequence[str] = (),
        scale: str | Mapping[str, float] = "none",
        rtol: float = 1e-8, atol: float = 1e-8,
        learning_rate: float = 0.02,
        progress: bool = False,
        **options) -> FitResult:
    """Fit parameters (and initial values) of `model` to `data`.

    - `data`: a CSV path, a dict of columns, an `Experiment`, or a list of them.
    - `params`: names to fit, parameters or states (their initial values);
      default every free parameter.
    - `optimizer`: `levenberg_marquardt`, `bfgs` or `adam`; `steps` the most
      iterations (default 200; adam's number of steps, default 2000).
    - `log`: names fitted in log space.
    - `scale`: `none` (raw residuals), `column` (each column divided by the
      largest |value| of its data), `relative` (each residual divided by its
      data value: for multiplicative noise), or a dict of divisors by column.
    - `rtol`, `atol`: the optimiser's convergence tolerances.
    - `options`: passed to `simulate` (`solver`, `rtol`... of the solve are
      given as `solver=`, `tspan=`, and `solve_rtol=`/`solve_atol=`).
    """
    if optimizer not in OPTIMIZERS:
        raise SymflowError(f"unknown optimizer {optimizer!r}",
                           help="choose " + ", ".join(OPTIMIZERS))
    names = tuple(params) if params is not None else tuple(model.params)
    if not names:
        raise SymflowError(f"{model.name} has no free parameters to fit")
    if len(set(names)) != len(names):
        raise SymflowError("a name is listed twice in params")
    p_names, s_names = split_names(model, names, what="fit")
    for name in log:
        if name not in names:
            raise SymflowError(f"log={name!r} is not among the fitted names",
                               help="fitted: " + ", ".join(names))
    for name in s_names:
        if model.generated.states[model.state_names.index(name)].shape != ():
            raise SymflowError(f"fitting the initial value of array state {name!r} is not "
                               "supported yet")
    sim = dict(options)
    if "solve_rtol" in sim:
        sim["rtol"] = sim.pop("solve_rtol")
    if "solve_atol" in sim:
        sim["atol"] = sim.pop("solve_atol")
    tspan = tuple(sim.get("tspan") or model.settings.tspan)
    sim["tspan"] = tspan
    experiments = tuple(as_experiments(data))
    for e in experiments:
        check_experiment(model, e, tspan)

    # layout: for each experiment, its save times and the rows of the data times
    layouts = []
    for e in experiments:
        from ._simulate import save_times

        ts = save_times(tspan, e.t)
        rows = np.searchsorted(ts, e.t) if ts[-1] >= ts[0] else \
            len(ts) - 1 - np.searchsorted(ts[::-1], e.t)
        cols = []
        for col, values in e.columns.items():
            mask = np.isfinite(values)
            if isinstance(scale, Mapping):
                s = float(scale.get(col, 1.0))
            elif scale == "column":
                s = float(np.max(np.abs(values[mask]), initial=0.0)) or 1.0
            elif scale == "none":
                s = 1.0
            elif scale == "relative":
                s = np.abs(values[mask])
                if np.any(s == 0):
                    raise SymflowError(f"scale='relative' divides by the data, and column "
                                       f"{col!r} of {e.name} holds a zero",
                                       help="use scale='column' or 'none'")
            else:
                raise SymflowError(f"unknown scale {scale!r}",
                                   help="none, column, relative, or a dict of divisors by column")
            cols.append((col, rows[mask], values[mask], s))
        layouts.append((e, ts, cols))
    n_data = sum(len(r) for _, _, cols in layouts for _, r, _, _ in cols)
    if n_data <= len(names):
        raise SymflowError(f"{n_data} data points cannot determine {len(names)} values")

    base = model.complete_params(None)
    if sim.get("solver", model.settings.solver) == "auto":
        # decide once, from concrete starting values, before the residuals are traced
        e = experiments[0]
        sim["solver"] = model._choose_auto(model.complete_params(e.params),
                                           model._check_initial(e.initial), *tspan)
    start = {}
    for n in p_names:
        start[n] = float(base[n])
    defaults0 = model.initial_values(base)
    for n in s_names:
        start[n] = float(np.asarray(defaults0[n]))
    transforms = []
    for n in names:
        bounds = _bounds(model, n)
        lo, hi = bounds if bounds is not None else (-math.inf, math.inf)
        if n in log and bounds is None:
            lo = 0.0
        transforms.append(_Transform(float(lo), float(hi), n in log))
    z0 = jnp.asarray([t.to_z(start[n]) for t, n in zip(transforms, names)], dtype=float)

    def natural(z):
        return jnp.stack([t.to_p(z[i]) for i, t in enumerate(transforms)])

    def residuals_p(x, adjoint):
        out = []
        for e, ts, cols in layouts:
            p = dict(e.params)
            init = dict(e.initial)
            for i, n in enumerate(names):
                (p if n in model.params else init)[n] = x[i]
            sol = model.simulate(p, initial=init, saveat=ts, adjoint=adjoint, **sim)
            for col, rows, values, s in cols:
                out.append((_column(sol, col)[rows] - values) / s)
        return jnp.concatenate(out)

    adjoint = "forward" if optimizer == "levenberg_marquardt" else "checkpoint"

    def residuals_z(z, _):
        return residuals_p(natural(z), adjoint)

    steps_taken = -1
    message = "converged"
    converged = True
    if optimizer in ("levenberg_marquardt", "bfgs"):
        max_steps = steps if steps is not None else 200
        if optimizer == "levenberg_marquardt":
            solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol,
                                             verbose=_print_progress if progress else False)
        else:
            solver = optx.BFGS(rtol=rtol, atol=atol,
                               verbose=_print_progress if progress else False)
        sol = optx.least_squares(residuals_z, solver, z0, max_steps=max_steps, throw=False)
        z = sol.value
        steps_taken = int(sol.stats.get("num_steps", -1))
        if sol.result != optx.RESULTS.successful:
            converged = False
            if bool(sol.result == optx.RESULTS.max_steps_reached) or bool(
                    sol.result == optx.RESULTS.nonlinear_max_steps_reached):
                message = f"reached the most steps ({max_steps}) before converging"
            else:
                message = _result_message(sol.result)
    else:
        max_steps = steps if steps is not None else 2000
        opt = optax.adam(learning_rate)

        def loss_z(z):
            r = residuals_z(z, None)
            return jnp.sum(r * r)

        @jax.jit
        def step(z, state):
            loss, g = jax.value_and_grad(loss_z)(z)
            updates, state = opt.update(g, state, z)
            return optax.apply_updates(z, updates), state, loss

        z, state = z0, opt.init(z0)
        best_z, best_loss = z0, math.inf
        for k in range(max_steps):
            z_new, state, loss = step(z, state)
            loss = float(loss)
            if math.isfinite(loss) and loss < best_loss:
                best_z, best_loss = z, loss
            if progress and (k % 100 == 0 or k == max_steps - 1):
                print(f"step {k:5d}  loss {loss:.6g}", flush=True)
            z = z_new
        z = best_z
        steps_taken = max_steps
        message = f"took {max_steps} adam steps (first-order: no convergence test)"

    # the fitted values, the residuals and their Jacobian in the fitted values' own
    # coordinates, in one compiled program (no eager operations, each of which
    # compiles its own small program; a failed solve gives non-finite residuals
    # here rather than raising)
    def at_optimum(z):
        x = natural(z)
        jac, r = jax.jacfwd(lambda x: (residuals_p(x, "forward"),) * 2, has_aux=True)(x)
        return x, jac, r

    x, jac, r = (np.asarray(a) for a in jax.jit(at_optimum)(z))
    loss = float(np.sum(r * r))
    values = {n: float(v) for n, v in zip(names, np.asarray(x))}
    if not np.isfinite(loss):
        converged = False
        message = "the loss is not finite at the last point: the model failed to solve there"
    dof = max(n_data - len(names), 1)
    s2 = loss / dof
    cov = s2 * np.linalg.pinv(jac.T @ jac)
    stderr = {n: float(np.sqrt(max(cov[i, i], 0.0))) for i, n in enumerate(names)}
    result = FitResult(names=names, values=values, stderr=stderr, initial_guess=start,
                       covariance=cov, loss=loss, n_data=n_data, steps=steps_taken,
                       converged=converged, optimizer=optimizer, message=message,
                       model=model, experiments=experiments,
                       options={k: v for k, v in sim.items() if k != "saveat"})
    if not converged:
        best = ", ".join(f"{n} = {v:.6g}" for n, v in values.items())
        raise FitError(f"the fit did not converge: {message}; best point: {best} "
                       f"(loss {loss:.6g})", result,
                       help="raise --steps, start nearer (edit the defaults), fit fewer "
                            "values, or fit rate constants in log space")
    return result


def _result_message(result) -> str:
    """optimistix's message for a result code, first line only."""
    for name in ("singular", "breakdown", "stagnation", "nonfinite", "nonlinear_divergence",
                 "nonlinear_max_steps_reached", "nonfinite_input", "conlim"):
        item = getattr(optx.RESULTS, name, None)
        if item is not None and bool(result == item):
            return {"singular": "the Jacobian is singular (a parameter may not affect "
                                "the data)",
                    "nonfinite": "the loss became NaN or infinite (the model failed to "
                                 "solve)"}.get(name, name.replace("_", " "))
    return "the optimiser failed"


def _print_progress(**entries) -> None:
    """One line per optimiser iteration (optimistix calls this inside its loop)."""
    step = entries.get("num_steps", ("Step", 0))[1]
    loss = entries.get("loss_last_accepted_step", (None, None))[1]
    if loss is None:
        jax.debug.print("step {step}", step=step)
    else:  # optimistix's loss is half the sum of squares
        jax.debug.print("step {step}  loss {loss}", step=step, loss=2 * loss)


def _bounds(model, name: str) -> tuple[float, float] | None:
    for p in model.system.free_parameters:
        if p.name == name:
            return p.bounds
    return None


def rewrite_defaults(model, params: Mapping[str, float], initial: Mapping[str, float]) -> str:
    """The model's file text with new default values written at their spans."""
    from ..lang import ast, parse

    span = next((p.span for p in model.built.parameters), None)
    if span is None or not span.source:
        raise SymflowError("cannot write the model back: its source text is not known")
    text, file = span.source, span.file
    program = parse(text, file)
    target = next((m for m in program.models if m.name == model.built.name), None)
    if target is None:
        raise SymflowError(f"cannot find model {model.built.name} in {file} to rewrite")
    edits = []
    for decl in target.items("parameters"):
        if isinstance(decl, ast.Declaration) and decl.name in params:
            edits.append((decl.value.span, params[decl.name]))
    for var in target.items("variables"):
        if isinstance(var, ast.Variable) and var.name in initial and var.initial is not None:
            edits.append((var.initial.span, initial[var.name]))
    found = {n for n in (*params, *initial)}
    written = {d.name for d in target.items("parameters") if isinstance(d, ast.Declaration)
               } | {v.name for v in target.items("variables") if isinstance(v, ast.Variable)
                    and v.initial is not None}
    missing = sorted(found - written)
    if missing:
        raise SymflowError(f"cannot write {missing[0]!r} back: it is not declared with a value "
                           f"in model {target.name} of {file} (inherited or imported?)")
    starts = _line_starts(text)
    replaced = []
    for s, value in edits:
        a = starts[s.line - 1] + s.column - 1
        b = starts[s.end_line - 1] + s.end_column - 1
        replaced.append((a, b, _number(value)))
    for a, b, new in sorted(replaced, reverse=True):
        text = text[:a] + new + text[b:]
    return text


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _number(value: float) -> str:
    text = f"{value:.8g}"
    return text
