"""The result of `fit`: fitted values with standard errors, what they were fitted to,
and (multistart) the final objective of every start."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

from ..errors import SymflowError
from ..files import save_figure, write_atomically
from ._common import column, data_rows, rewrite_defaults
from ._data import Experiment

__all__ = ["FitResult", "FitError", "Multistart"]


class FitError(SymflowError):
    """A fit that did not converge; `best` is the `FitResult` at the best point reached."""

    def __init__(self, message: str, best: "FitResult", *, help: str | None = None):
        super().__init__(message, help=help)
        self.best = best


@dataclasses.dataclass(frozen=True)
class Multistart:
    """A multistart fit's starts, sorted by their final objective (best first).

    `values[i]` is start `i`'s final objective (`inf` where the model failed to
    solve), `starts[i]` its starting values (columns in `names` order), `status[i]`
    its optimiser status (0: converged), and `fraction` the share of starts that
    reached the best value (within 1e-4 of it, relative).
    """

    values: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    starts: np.ndarray
    names: tuple[str, ...]
    fraction: float
    sampler: str
    seed: int
    batched: bool = True  # run as one vmapped program, or one after another

    def table(self) -> str:
        """One line of summary and the sorted final objectives."""
        n = len(self.values)
        finite = self.values[np.isfinite(self.values)]
        shown = ", ".join(f"{v:.6g}" for v in self.values[:10]) + (", ..." if n > 10 else "")
        how = "vmapped" if self.batched else "sequential"
        return (f"multistart: {n} starts ({self.sampler}, seed {self.seed}, {how}); "
                f"{self.fraction:.0%} reached the best value {self.values[0]:.6g}; "
                f"{int(np.sum(self.status == 0))} converged, {n - finite.size} failed to "
                f"solve\nsorted final objectives: {shown}")

    def plot(self, path: str | os.PathLike | None = None):
        """The waterfall plot: final objectives, sorted, against the start's rank."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        v = self.values
        shift = v - v[0] + 1.0 if np.isfinite(v[0]) else v
        ax.plot(np.arange(1, len(v) + 1), shift, "o-", ms=4)
        ax.set_yscale("log")
        ax.set_xlabel("start (sorted by final objective)")
        ax.set_ylabel("objective − best + 1")
        ax.set_title(f"multistart waterfall: {self.fraction:.0%} of {len(v)} starts reach "
                     "the best")
        ax.grid(alpha=0.3)
        if path is not None:
            save_figure(fig, path)
        return fig


@dataclasses.dataclass
class FitResult:
    """Fitted values with standard errors, the final loss, and what was fitted to what.

    `loss` is the objective at the optimum: the sum of squared residuals, or with
    noise models (`likelihood`) the negative log-likelihood; `values` and `stderr`
    are keyed by name (parameters, and states for their initial values); a
    multistart fit keeps every start's final objective in `multistart`.
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
    model: Any = dataclasses.field(repr=False, default=None)  # a SimulatedModel
    experiments: tuple[Experiment, ...] = dataclasses.field(repr=False, default=())
    options: dict = dataclasses.field(repr=False, default_factory=dict)
    likelihood: bool = False
    noise: dict[str, str] = dataclasses.field(default_factory=dict)
    multistart: Multistart | None = dataclasses.field(repr=False, default=None)

    @property
    def params(self) -> dict[str, float]:
        """The fitted parameters shared by every experiment (not initial values)."""
        return {k: v for k, v in self.values.items() if k in self.model.params}

    @property
    def initial(self) -> dict[str, float]:
        """The fitted initial values shared by every experiment."""
        return {k: v for k, v in self.values.items() if k in self.model.state_names}

    def experiment_values(self, experiment: int) -> tuple[dict[str, float], dict[str, float]]:
        """The parameters and initial values of one experiment: its overrides, the
        shared fitted values and its own (`name@experiment`)."""
        e = self.experiments[experiment]
        params, initial = {**e.params, **self.params}, {**e.initial, **self.initial}
        for name, value in self.values.items():
            base, sep, index = name.partition("@")
            if sep and int(index) == experiment:
                (params if base in self.model.params else initial)[base] = value
        return params, initial

    def table(self) -> str:
        """The fitted values as a text table."""
        width = max(8, *(len(n) for n in self.names))
        lines = [f"{'name':<{width}}  {'start':>12}  {'fitted':>14}  {'std. error':>12}  "
                 f"{'rel.':>7}",
                 "-" * (width + 55)]
        for n in self.names:
            v, s = self.values[n], self.stderr[n]
            rel = f"{abs(s / v) * 100:6.2f}%" if v != 0 and np.isfinite(s) else "      -"
            what = "" if n.partition("@")[0] in self.model.params else "  (initial value)"
            lines.append(f"{n:<{width}}  {self.initial_guess[n]:>12.6g}  {v:>14.8g}  "
                         f"{s:>12.4g}  {rel}{what}")
        what = "negative log-likelihood" if self.likelihood else "loss (sum of squared residuals)"
        lines.append(f"{what} = {self.loss:.6g} over {self.n_data} "
                     f"data points, {self.steps} steps ({self.optimizer})")
        for col, model in self.noise.items():
            lines.append(f"noise: {col} ~ {model}")
        if self.multistart is not None:
            lines.append(self.multistart.table())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def write_model(self, path: str | os.PathLike) -> str:
        """Write the model file with the fitted values as new defaults.

        The original text is kept: only the value of each fitted parameter
        declaration (and of each fitted initial value) is replaced, at its span;
        values fitted per experiment are not written. Returns the new text.
        """
        text = rewrite_defaults(self.model, {**self.params}, {**self.initial})
        write_atomically(path, text)
        return text

    @property
    def correlation(self) -> np.ndarray:
        """The correlation matrix of the estimates (from `covariance`, in `names` order);
        entries near ±1 mark values the data cannot tell apart."""
        se = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.covariance / np.outer(se, se)

    def summary(self) -> dict[str, Any]:
        """The fit as plain data: values, standard errors, 95% Wald intervals, the
        objective, the correlation matrix and (multistart) the sorted objectives."""
        out: dict[str, Any] = {
            "model": self.model.name, "objective": "negative log-likelihood"
            if self.likelihood else "sum of squared residuals", "value": self.loss,
            "n_data": self.n_data, "steps": self.steps, "converged": self.converged,
            "optimizer": self.optimizer, "noise": dict(self.noise),
            "parameters": [{"name": n, "start": self.initial_guess[n],
                            "fitted": self.values[n], "stderr": self.stderr[n],
                            "lower95": self.values[n] - 1.959964 * self.stderr[n],
                            "upper95": self.values[n] + 1.959964 * self.stderr[n]}
                           for n in self.names],
            "correlation": np.nan_to_num(self.correlation).tolist()}
        if self.multistart is not None:
            out["multistart"] = {"values": self.multistart.values.tolist(),
                                 "fraction": self.multistart.fraction,
                                 "sampler": self.multistart.sampler,
                                 "seed": self.multistart.seed}
        return out

    def write_summary(self, path: str | os.PathLike) -> None:
        """Write `summary()` as JSON (`.json`) or the parameter table as CSV (`.csv`),
        atomically."""
        data = self.summary()
        if str(path).lower().endswith(".csv"):
            rows = ["name,start,fitted,stderr,lower95,upper95"] + [
                ",".join([p["name"], *(repr(float(p[k])) for k in
                                       ("start", "fitted", "stderr", "lower95", "upper95"))])
                for p in data["parameters"]]
            write_atomically(path, "\n".join(rows) + "\n")
        elif str(path).lower().endswith(".json"):
            write_atomically(path, json.dumps(data, indent=2) + "\n")
        else:
            raise SymflowError(f"cannot tell the summary format of {path}",
                               help="name it .json or .csv")

    def simulate(self, experiment: int = 0, **options):
        """The fitted model simulated under one experiment's overrides."""
        params, initial = self.experiment_values(experiment)
        return self.model.simulate(params, initial=initial, **{**self.options, **options})

    def residuals(self, experiment: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each measured column's residuals, data minus the fitted model, at its data
        times (missing cells left out): `{column: (t, residual)}`, in the data's units."""
        e = self.experiments[experiment]
        t = np.asarray(e.t)
        sol = self.simulate(experiment, saveat=t, adjoint="checkpoint")
        rows = data_rows(np.asarray(sol.t), t)  # (the saves may begin at the span's start)
        out = {}
        for name, data in e.columns.items():
            ok = np.isfinite(data)
            out[name] = (t[ok], data[ok] - np.asarray(column(sol, name))[rows][ok])
        return out

    def plot_residuals(self, path: str | os.PathLike | None = None):
        """The residuals (data minus model) against time, one panel per experiment and
        one colour per observable: a trend or a funnel shows what the fit misses."""
        fig, axes = self._panels(2.8, path)
        for k, ax in enumerate(axes):
            for i, (name, (t, r)) in enumerate(self.residuals(k).items()):
                ax.plot(t, r, "o", color=f"C{i}", ms=3.5, label=name)
            ax.axhline(0.0, color="0.4", lw=0.8)
            ax.set_ylabel("data − model")
        return self._finished(fig, axes, path, "residuals, ")

    def plot(self, path: str | os.PathLike | None = None):
        """Data (points) against the fitted trajectories (lines), one panel per experiment."""
        fig, axes = self._panels(3.8, path)
        for k, (e, ax) in enumerate(zip(self.experiments, axes)):
            sol = self.simulate(k, saveat=400, adjoint="checkpoint")
            t = np.asarray(sol.t)
            for i, (col, data) in enumerate(e.columns.items()):
                color = f"C{i}"
                ax.plot(t, column(sol, col), color=color, label=f"{col} (fit)")
                ok = np.isfinite(data)
                ax.plot(e.t[ok], data[ok], "o", color=color, ms=3.5, alpha=0.7,
                        label=f"{col} (data)")
        return self._finished(fig, axes, path, "")

    def _panels(self, height: float, path: str | os.PathLike | None):
        """A figure with one panel per experiment (off screen when written to `path`)."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        n = len(self.experiments)
        fig, axes = plt.subplots(n, 1, figsize=(8, height * n), layout="constrained",
                                 squeeze=False)
        return fig, list(axes[:, 0])

    def _finished(self, fig, axes, path: str | os.PathLike | None, what: str):
        """Each panel titled by its experiment, with axes, grid and legend; written to
        `path` if given."""
        for e, ax in zip(self.experiments, axes):
            ax.set_title(f"{self.model.name}: {what}{os.path.basename(str(e.name))}")
            ax.set_xlabel("t")
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize="small")
        if path is not None:
            save_figure(fig, path)
        return fig
