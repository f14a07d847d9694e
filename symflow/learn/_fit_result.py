"""The result of `fit`: fitted values with standard errors, and what they were fitted to."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ..errors import SymflowError
from ._common import column, rewrite_defaults
from ._data import Experiment

__all__ = ["FitResult", "FitError"]


class FitError(SymflowError):
    """A fit that did not converge; `best` is the `FitResult` at the best point reached."""

    def __init__(self, message: str, best: "FitResult", *, help: str | None = None):
        super().__init__(message, help=help)
        self.best = best


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
    model: Any = dataclasses.field(repr=False, default=None)  # a SimulatedModel
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
                ax.plot(t, column(sol, col), color=color, label=f"{col} (fit)")
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
