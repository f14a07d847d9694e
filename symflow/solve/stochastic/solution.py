"""What an ensemble returns: its paths or their statistics, computed when read.

`EnsembleSolution` holds the paths of every trajectory (or only their mean and
standard deviation, and the quantiles asked for, with `stats_only`); the mean,
standard deviation and quantiles of kept paths are computed on first read and
kept (`quantiles_of` sorts on the host when the paths are there).
"""


from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...errors import SymflowError
from ...files import replacing, save_figure

if TYPE_CHECKING:
    import xarray

__all__ = ["DEFAULT_QUANTILES", "EnsembleSolution", "batch_mean", "batch_std",
           "ensemble_solution", "moments", "moments_jit", "quantiles_of"]


DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class EnsembleSolution(eqx.Module):
    """An ensemble's saved times, paths (unless `stats_only`) and statistics.

    `paths[name]` has shape `(trajectories, n_save)` (plus the size of an array
    variable); `mean[name]`, `std[name]` have shape `(n_save, ...)` and
    `quantiles[name]` `(len(quantile_levels), n_save, ...)`. With
    `save_noise=True` the Brownian motions are saved like states (`W(t) - W(t0)`).

    The quantiles are computed when first asked for (`quantiles`, `quantile`,
    `save`, `plot`), from the paths, unless they were given (`stats_only`, where
    the paths are not kept): they sort every saved value over the trajectories,
    which costs as much as a tenth of a 10^4-path solve, so a run that reads only
    the paths or the mean does not pay for them. The mean and standard deviation
    may wait in the same way (`mean=None`, `std=None`: the samplers' two-end
    runs, where they would be a third of the program's kernels).
    """

    t: jax.Array
    paths: dict[str, jax.Array] | None
    given_mean: dict[str, jax.Array] | None
    given_std: dict[str, jax.Array] | None
    given_quantiles: dict[str, jax.Array] | None
    result: jax.Array  # diffrax's result code of each trajectory
    sweep: dict[str, jax.Array]  # the swept parameter values, by name
    quantile_levels: tuple[float, ...] = eqx.field(static=True, default=DEFAULT_QUANTILES)
    names: tuple[str, ...] = eqx.field(static=True, default=())
    # an SPDE's grid, (name, lower, upper, points, periodic) per dimension, and its fields
    grid: tuple = eqx.field(static=True, default=())
    fields: tuple[str, ...] = eqx.field(static=True, default=())

    def __init__(self, *, t, paths, mean, std, result, sweep, quantiles=None,
                 quantile_levels: tuple[float, ...] = DEFAULT_QUANTILES,
                 names: tuple[str, ...] = (), grid: tuple = (),
                 fields: tuple[str, ...] = ()):
        if paths is None and (quantiles is None or mean is None or std is None):
            raise ValueError("an EnsembleSolution without paths needs its statistics")
        self.t, self.paths, self.given_mean, self.given_std = t, paths, mean, std
        self.given_quantiles = quantiles
        self.result, self.sweep = result, sweep
        self.quantile_levels, self.names = tuple(quantile_levels), tuple(names)
        self.grid, self.fields = tuple(grid), tuple(fields)

    @functools.cached_property
    def mean(self) -> dict[str, jax.Array]:
        """`mean[name]`: the mean over the trajectories at every save time."""
        return self.given_mean if self.given_mean is not None else batch_mean(self._paths())

    @functools.cached_property
    def std(self) -> dict[str, jax.Array]:
        """`std[name]`: the sample standard deviation over the trajectories (zero
        for a single trajectory), at every save time."""
        return self.given_std if self.given_std is not None else batch_std(self._paths())

    @functools.cached_property
    def quantiles(self) -> dict[str, jax.Array]:
        """`quantiles[name][i]`: the `quantile_levels[i]`-quantile of `name` over the
        trajectories, at every save time (computed on first use, then kept)."""
        if self.given_quantiles is not None:
            return self.given_quantiles
        return quantiles_of(self._paths(), self.quantile_levels)

    @property
    def trajectories(self) -> int:
        return int(self.result.shape[0])

    def __getitem__(self, name: str) -> jax.Array:
        """The paths of one state or output, shape `(trajectories, n_save, ...)`."""
        paths = self._paths()
        if name not in paths:
            raise SymflowError(f"the ensemble has no variable or output named {name!r}",
                               help="it has: " + ", ".join(self.names))
        return paths[name]

    def _paths(self) -> dict[str, jax.Array]:
        """The paths, or an error where only statistics were kept (`__init__`
        makes sure those were all given, so the statistics never get here)."""
        if self.paths is None:
            raise SymflowError("this ensemble kept statistics only",
                               help="simulate without stats_only to keep the paths")
        return self.paths

    def quantile(self, name: str, q: float) -> jax.Array:
        """The `q`-quantile of `name` over the trajectories, at every save time."""
        if q not in self.quantile_levels:
            raise SymflowError(f"quantile {q} was not computed",
                               help="computed: " + ", ".join(map(str, self.quantile_levels)))
        return self.quantiles[name][self.quantile_levels.index(q)]

    def to_xarray(self) -> xarray.Dataset:
        """The paths, mean, standard deviation and quantiles as an `xarray.Dataset`
        (`frames.ensemble_to_xarray`); needs `pip install symflow[data]`."""
        from ..frames import ensemble_to_xarray

        return ensemble_to_xarray(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write a `.npz` file: `t`, `mean_<name>`, `std_<name>`, `q<level>_<name>`,
        and the paths under their names (unless statistics only); or a NetCDF file
        (`.nc`) of `to_xarray()`."""
        suffix = os.path.splitext(str(path))[1].lower()
        if suffix == ".nc":
            from ..frames import to_netcdf

            return to_netcdf(self, path)
        if suffix != ".npz":
            raise SymflowError("an ensemble is written to .npz or .nc",
                               help="write .npz, or .nc (NetCDF)")
        arrays = {"t": np.asarray(self.t)}
        for name in self.names:
            arrays[f"mean_{name}"] = np.asarray(self.mean[name])
            arrays[f"std_{name}"] = np.asarray(self.std[name])
            for i, q in enumerate(self.quantile_levels):
                arrays[f"q{q:g}_{name}"] = np.asarray(self.quantiles[name][i])
            if self.paths is not None:
                arrays[name] = np.asarray(self.paths[name])
        arrays.update({f"sweep_{k}": np.asarray(v) for k, v in self.sweep.items()})
        with replacing(path) as tmp:  # allow_pickle: numpy's default, named: no array takes it
            np.savez(tmp, allow_pickle=True, **arrays)

    def plot(self, path: str | os.PathLike | None = None, *,
             names: Sequence[str] | None = None, title: str | None = None,
             max_paths: int = 20) -> Any:
        """A fan chart: the median, the quantile bands, and a few paths per variable
        (an array variable or a field: at the last save time, a field over its grid
        coordinate). Returns the `Axes` (one panel) or an array of them, as
        `Solution.plot` does; a plot written to `path` closes its figure."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        names = [n for n in (names or self.names) if np.ndim(self.mean[n]) in (1, 2)]
        fig, axes = plt.subplots(len(names) or 1, 1, figsize=(8, 3 * max(1, len(names))),
                                 layout="constrained", squeeze=False)
        t = np.asarray(self.t)
        levels = self.quantile_levels
        for ax, name in zip(axes[:, 0], names):
            if np.ndim(self.mean[name]) == 2:  # an array or field: its profile at the end
                _plot_profile(ax, self, name, max_paths)
                continue
            q = np.asarray(self.quantiles[name])
            for i in range(len(levels) // 2):
                ax.fill_between(t, q[i], q[-1 - i], alpha=0.15 + 0.15 * i, color="C0",
                                lw=0, label=f"{levels[i]:g}–{levels[-1 - i]:g}")
            if self.paths is not None:
                for path_ in np.asarray(self.paths[name])[:max_paths]:
                    ax.plot(t, path_, color="0.4", lw=0.4, alpha=0.5)
            ax.plot(t, np.asarray(self.mean[name]), color="C1", label="mean")
            if len(levels) % 2:
                ax.plot(t, q[len(levels) // 2], color="C0", label="median")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize=8)
        if not names or np.ndim(self.mean[names[-1]]) == 1:
            axes[-1, 0].set_xlabel("t")
        if title:
            axes[0, 0].set_title(title)
        if path is not None:
            save_figure(fig, path)
        return axes[0, 0] if len(axes) == 1 else axes[:, 0]


def batch_mean(paths: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """The mean of each path array over the trajectories (its first axis)."""
    return {k: jnp.mean(v, axis=0) for k, v in paths.items()}


def batch_std(paths: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """The sample standard deviation over the trajectories (zero for one)."""
    return {k: jnp.std(v, axis=0, ddof=1) if v.shape[0] > 1 else jnp.zeros_like(v[0])
            for k, v in paths.items()}


_STRUCTURES: dict = {}  # (structure of the fields, levels, names) -> EnsembleSolution's


def ensemble_solution(*, t: jax.Array | np.ndarray, paths: dict[str, jax.Array] | None,
                      mean: dict[str, jax.Array] | None, std: dict[str, jax.Array] | None,
                      result: jax.Array, sweep: dict[str, jax.Array],
                      quantiles: dict[str, jax.Array] | None = None,
                      quantile_levels: tuple[float, ...] = DEFAULT_QUANTILES,
                      names: tuple[str, ...] = (), grid: tuple = (),
                      fields: tuple[str, ...] = ()) -> EnsembleSolution:
    """`EnsembleSolution(...)` by unflattening a kept pytree structure: it skips
    equinox's `__init__` and its checks after the first call with the same
    structure (about 30 against 2 us, on the path of every concrete run)."""
    leaves, structure_of = jax.tree.flatten((t, paths, mean, std, quantiles, result, sweep))
    key = (structure_of, tuple(quantile_levels), tuple(names), tuple(grid), tuple(fields))
    structure = _STRUCTURES.get(key)
    if structure is None:
        structure = jax.tree.structure(EnsembleSolution(
            t=t, paths=paths, mean=mean, std=std, result=result, sweep=sweep,
            quantiles=quantiles, quantile_levels=quantile_levels, names=names, grid=grid,
            fields=fields))
        _STRUCTURES[key] = structure
    return jax.tree.unflatten(structure, leaves)


def _plot_profile(ax, sol: EnsembleSolution, name: str, max_paths: int) -> None:
    """The fan chart of an array variable at the last save time, over its index; of
    a field on a 1-D grid, over its coordinate."""
    from ..output import grid_arrays

    levels = sol.quantile_levels
    q = np.asarray(sol.quantiles[name])[:, -1]
    grid = grid_arrays(sol.grid)
    on_grid = name in sol.fields and len(grid) == 1 and len(next(iter(grid.values()))) == (
        q.shape[-1])
    i = next(iter(grid.values())) if on_grid else np.arange(q.shape[-1])
    for k in range(len(levels) // 2):
        ax.fill_between(i, q[k], q[-1 - k], alpha=0.15 + 0.15 * k, color="C0", lw=0,
                        label=f"{levels[k]:g}–{levels[-1 - k]:g}")
    if sol.paths is not None:
        for path_ in np.asarray(sol.paths[name])[:max_paths, -1]:
            ax.plot(i, path_, color="0.4", lw=0.4, alpha=0.5)
    ax.plot(i, np.asarray(sol.mean[name])[-1], color="C1", label="mean")
    ax.set_ylabel(f"{name} at t = {float(sol.t[-1]):g}")
    ax.set_xlabel(next(iter(grid)) if on_grid else "index")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)


def _sort_floats(v: jax.Array) -> jax.Array:
    """`jnp.sort(v, axis=0)` of a float array, sorted as integers.

    IEEE doubles order like their bit patterns read as sign-magnitude integers;
    mapping negative patterns `b -> -2^63 - b - 1` makes that two's-complement
    order, so an integer sort gives the same result (NaNs go to the ends).
    XLA:CPU sorts int64 about 4x faster than float64 (measured 26 ms against
    104 ms for 11 columns of 10^4): the quantiles were most of the run time of a
    10^4-path ensemble.
    """
    if v.dtype not in (jnp.float64, jnp.float32):
        return jnp.sort(v, axis=0)
    ints = jnp.int64 if v.dtype == jnp.float64 else jnp.int32
    low = jnp.iinfo(ints).min
    b = jax.lax.bitcast_convert_type(v, ints)
    b = jnp.sort(jnp.where(b < 0, low - b - 1, b), axis=0)
    return jax.lax.bitcast_convert_type(jnp.where(b < 0, low - b - 1, b), v.dtype)


def moments(paths: dict[str, jax.Array]) -> tuple[dict, dict]:
    """The mean and the sample standard deviation of every path over axis 0."""
    mean = {k: jnp.mean(v, axis=0) for k, v in paths.items()}
    std = {k: jnp.std(v, axis=0, ddof=1) if v.shape[0] > 1 else jnp.zeros_like(v[0])
           for k, v in paths.items()}
    return mean, std


moments_jit = jax.jit(moments)


@functools.partial(jax.jit, static_argnums=1)
def _quantiles_jit(paths: dict[str, jax.Array], levels: tuple[float, ...]) -> dict:
    return {k: _quantiles(v, jnp.asarray(levels)) for k, v in paths.items()}


def quantiles_of(paths: dict[str, jax.Array], levels: tuple[float, ...]) -> dict:
    """The `levels`-quantiles over axis 0 of every path.

    Concrete paths on the CPU: NumPy's selection (`np.quantile`, an O(n)
    partition), 2-4x faster than XLA's sort, even the integer sort below
    (0.6 against 1.0 ms for 2 columns of 10^4, 6 against 24 ms of 10^5). Traced
    paths, or paths on an accelerator: one compiled program (`_quantiles`)."""
    levels = tuple(float(q) for q in levels)
    if _on_cpu(paths):
        qs = np.asarray(levels)
        return {k: jnp.asarray(np.quantile(np.asarray(v), qs, axis=0))
                for k, v in paths.items()}
    return _quantiles_jit(paths, levels)


def _on_cpu(paths: dict[str, jax.Array]) -> bool:
    """Whether every path is a concrete array held on CPU devices."""
    for v in paths.values():
        if isinstance(v, jax.core.Tracer):
            return False
        if isinstance(v, jax.Array) and any(d.platform != "cpu" for d in v.devices()):
            return False
    return True


def _quantiles(v: jax.Array, levels: jax.Array) -> jax.Array:
    """The `levels`-quantiles of `v` over axis 0, linear interpolation between order
    statistics (`jnp.quantile`'s default method)."""
    n = v.shape[0]
    ordered = _sort_floats(v)
    position = levels * (n - 1)
    lo = jnp.clip(jnp.floor(position).astype(int), 0, n - 1)
    hi = jnp.clip(lo + 1, 0, n - 1)
    weight = (position - lo.astype(position.dtype)).reshape((-1,) + (1,) * (v.ndim - 1))
    weight = weight.astype(v.dtype)
    return ordered[lo] * (1 - weight) + ordered[hi] * weight


