"""The result of `train`: the trained parameter pytree and the history of the loss."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import jax
import numpy as np

from ..files import save_figure, write_atomically
from ._common import column, rewrite_defaults
from ._data import Experiment

__all__ = ["TrainResult"]


@dataclasses.dataclass
class TrainResult:
    """The trained values and the history of the loss.

    - `params`: the complete parameter pytree after training (physical parameters
      and `params["closures"]`), ready for `model.simulate(result.params)`.
    - `final_loss`: the mean squared error over all data at `params` (with
      mini-batches: the mean batch loss of the last epoch).
    - `losses`: the mean squared error of every step's batch.
    - `trained`, `frozen`: names of trained and frozen parameters and closures.
    - `compile_time`: seconds of the first step (trace and XLA compile);
      `step_time`: median seconds of one later step; `total_time`: the whole loop;
      `epoch_time`: `step_time` times the steps per epoch.
    """

    params: dict
    losses: np.ndarray
    final_loss: float
    steps: int
    trained: tuple[str, ...]
    frozen: tuple[str, ...]
    n_items: int
    batch: int
    compile_time: float
    step_time: float
    total_time: float
    model: Any = dataclasses.field(repr=False, default=None)
    experiments: tuple[Experiment, ...] = dataclasses.field(repr=False, default=())
    options: dict = dataclasses.field(repr=False, default_factory=dict)

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.n_items / self.batch))

    @property
    def epoch_time(self) -> float:
        return self.step_time * self.steps_per_epoch

    @property
    def values(self) -> dict[str, float]:
        """The physical parameters after training."""
        return {k: float(v) for k, v in self.params.items() if k != "closures"}

    def table(self) -> str:
        lines = [f"{'name':<12}  {'value':>14}  trained"]
        for k, v in self.values.items():
            lines.append(f"{k:<12}  {v:>14.8g}  {'yes' if k in self.trained else 'no'}")
        for c in self.model.closures:
            n = sum(x.size for x in jax.tree.leaves(self.params["closures"][c.name]))
            lines.append(f"{c.name:<12}  {n:>8d} weights  "
                         f"{'yes' if c.name in self.trained else 'no'}")
        lines.append(f"loss (mean squared error) = {self.final_loss:.6g} after {self.steps} "
                     f"steps ({self.n_items} items, batches of {self.batch}); "
                     f"{self.total_time:.1f} s, {self.epoch_time * 1e3:.1f} ms per epoch")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def simulate(self, experiment: int = 0, **options):
        """The trained model simulated under one experiment's overrides."""
        e = self.experiments[experiment]
        params = {**e.params, **{k: v for k, v in self.params.items()
                                 if k in self.trained or k not in e.params}}
        opts = {k: v for k, v in self.options.items() if k not in ("saveat",)}
        return self.model.simulate(params, initial=dict(e.initial), **{**opts, **options})

    def save_weights(self, path: str | os.PathLike) -> None:
        self.model.save_weights(path, self.params)

    def write_model(self, path: str | os.PathLike) -> str:
        """The model file with the trained physical parameters as new defaults."""
        text = rewrite_defaults(self.model, {k: v for k, v in self.values.items()
                                             if k in self.trained}, {})
        write_atomically(path, text)
        return text

    def plot(self, path: str | os.PathLike | None = None):
        """Data against the trained trajectories, and the loss per step."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
        e = self.experiments[0]
        sol = self.simulate(0, saveat=400)
        for i, (col, data) in enumerate(e.columns.items()):
            ax.plot(np.asarray(sol.t), np.asarray(column(sol, col)), color=f"C{i}",
                    label=f"{col} (trained)")
            ok = np.isfinite(data)
            ax.plot(e.t[ok], data[ok], "o", color=f"C{i}", ms=3, alpha=0.7,
                    label=f"{col} (data)")
        ax.set_xlabel("t")
        ax.legend(fontsize="small")
        ax.set_title(f"{self.model.name}: trained model")
        bx.semilogy(self.losses)
        bx.set_xlabel("step")
        bx.set_ylabel("loss (mean squared error)")
        bx.grid(alpha=0.3)
        if path is not None:
            save_figure(fig, path)
        return fig
