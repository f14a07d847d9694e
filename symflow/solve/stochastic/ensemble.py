"""Ensembles: many trajectories of one model in one compiled, vectorized program.

One trajectory is a function `member(key, params) -> (values, result)`: an SDE
solved on its own Brownian path (a `diffrax.VirtualBrownianTree` seeded by
`key`), or an ODE solved with its own parameters (a sweep) or random initial
values. An ensemble maps it over `n` keys (split from one seed up front, so
trajectory `i` is the same whether the ensemble runs at once, in chunks, or
sharded) with `jax.vmap`; `chunk_size` runs the vmapped member over chunks
one after another (`jax.lax.map(batch_size=...)`) when all paths at once do
not fit in memory; a `jax.sharding.Mesh` splits the trajectories over devices
(`NamedSharding` of the keys and swept parameters; XLA partitions the rest).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...codegen import GeneratedModel
from ...errors import SolverError, SymflowError
from .._compat import result_code, result_message
from . import solvers as _sde_solvers
from .terms import NoiseTerm
from ..simulate import Simulator, SolveConfig


__all__ = ["EnsembleConfig", "EnsembleSimulator", "EnsembleSolution", "DEFAULT_QUANTILES"]


DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
# The tolerances of adaptive SDE steps travel with the parameters, under names no
# model parameter can have (generated code reads its parameters by name only).
_RTOL, _ATOL = "symflow:rtol", "symflow:atol"


@dataclasses.dataclass(frozen=True)
class EnsembleConfig:
    """What fixes the compiled ensemble program: changing any of these recompiles.

    For an SDE, `solver` is an SDE solver name and `dt` the fixed step;
    `brownian_tol` is the resolution of the virtual Brownian tree (keep it fixed
    to compare step sizes on the same Brownian path). For an ODE, `ode` is the
    configuration of each member's solve.

    `brownian_path`: `"fast"` draws each step's increment once
    (`diffrax.UnsafeBrownianPath`: valid for fixed steps, faster; forward-mode
    differentiation only);
    `"tree"` is a `diffrax.VirtualBrownianTree`, one continuous path that can be
    evaluated anywhere (needed to save W, and to compare step sizes on one path).
    """

    trajectories: int
    n_save: int
    solver: str = "euler"
    calculus: str = "ito"
    t0: float = 0.0
    t1: float = 1.0
    dt: float | None = None
    brownian_tol: float | None = None
    brownian_path: str = "fast"
    ode: SolveConfig | None = None
    chunk_size: int | None = None
    stats_only: bool = False
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    save_noise: bool = False
    swept: tuple[str, ...] = ()
    # Adaptive SDE steps: a PID controller on a Brownian tree, `dt` the first
    # step; the tolerances are run-time values (`run(tolerances=...)`: changing
    # them does not recompile). `clip_rejected` stores rejected steps for
    # non-commutative noise (Foster & Jelinčič 2024: otherwise the solution is biased).
    adaptive: bool = False
    max_steps: int = 100_000
    clip_rejected: int | None = None
    # Adaptive steps for an Itô model with multiplicative noise: solve its
    # Stratonovich form, drift `f - 1/2 sum_j L^j g_j` (the same solution on the
    # same Brownian path), with a Stratonovich solver that has an error estimate.
    ito_to_stratonovich: bool = False


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

    def __init__(self, *, t, paths, mean, std, result, sweep, quantiles=None,
                 quantile_levels: tuple[float, ...] = DEFAULT_QUANTILES,
                 names: tuple[str, ...] = ()):
        if paths is None and (quantiles is None or mean is None or std is None):
            raise ValueError("an EnsembleSolution without paths needs its statistics")
        self.t, self.paths, self.given_mean, self.given_std = t, paths, mean, std
        self.given_quantiles = quantiles
        self.result, self.sweep = result, sweep
        self.quantile_levels, self.names = tuple(quantile_levels), tuple(names)

    @functools.cached_property
    def mean(self) -> dict[str, jax.Array]:
        """`mean[name]`: the mean over the trajectories at every save time."""
        return self.given_mean if self.given_mean is not None else batch_mean(self.paths)

    @functools.cached_property
    def std(self) -> dict[str, jax.Array]:
        """`std[name]`: the sample standard deviation over the trajectories (zero
        for a single trajectory), at every save time."""
        return self.given_std if self.given_std is not None else batch_std(self.paths)

    @functools.cached_property
    def quantiles(self) -> dict[str, jax.Array]:
        """`quantiles[name][i]`: the `quantile_levels[i]`-quantile of `name` over the
        trajectories, at every save time (computed on first use, then kept)."""
        if self.given_quantiles is not None:
            return self.given_quantiles
        return quantiles_of(self.paths, self.quantile_levels)

    @property
    def trajectories(self) -> int:
        return int(self.result.shape[0])

    def __getitem__(self, name: str) -> jax.Array:
        """The paths of one state or output, shape `(trajectories, n_save, ...)`."""
        if self.paths is None:
            raise SymflowError("this ensemble kept statistics only",
                               help="simulate without stats_only to keep the paths")
        if name not in self.paths:
            raise SymflowError(f"the ensemble has no variable or output named {name!r}",
                               help="it has: " + ", ".join(self.names))
        return self.paths[name]

    def quantile(self, name: str, q: float) -> jax.Array:
        """The `q`-quantile of `name` over the trajectories, at every save time."""
        if q not in self.quantile_levels:
            raise SymflowError(f"quantile {q} was not computed",
                               help="computed: " + ", ".join(map(str, self.quantile_levels)))
        return self.quantiles[name][self.quantile_levels.index(q)]

    def save(self, path: str | os.PathLike) -> None:
        """Write a `.npz` file: `t`, `mean_<name>`, `std_<name>`, `q<level>_<name>`,
        and the paths under their names (unless statistics only)."""
        if os.path.splitext(str(path))[1].lower() != ".npz":
            raise SymflowError("an ensemble is written to .npz", help="write .npz")
        arrays = {"t": np.asarray(self.t)}
        for name in self.names:
            arrays[f"mean_{name}"] = np.asarray(self.mean[name])
            arrays[f"std_{name}"] = np.asarray(self.std[name])
            for i, q in enumerate(self.quantile_levels):
                arrays[f"q{q:g}_{name}"] = np.asarray(self.quantiles[name][i])
            if self.paths is not None:
                arrays[name] = np.asarray(self.paths[name])
        arrays.update({f"sweep_{k}": np.asarray(v) for k, v in self.sweep.items()})
        np.savez(path, **arrays)

    def plot(self, path: str | os.PathLike | None = None, *, names=None, title=None,
             max_paths: int = 20):
        """A fan chart: the median, the quantile bands, and a few paths per variable."""
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
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig


class EnsembleSimulator:
    """Runs ensembles of a `GeneratedModel`; one compiled program per configuration."""

    def __init__(self, generated: GeneratedModel, simulator: Simulator | None = None):
        self.generated = generated
        self.simulator = simulator or Simulator(generated)
        self._cache: dict[tuple, Callable] = {}

    # ------------------------------------------------------------ one member

    def random_initial(self, key, params) -> dict[str, jax.Array]:
        """Draws of the random initial values (`x ~ normal(mu, sd)`, `uniform(a, b)`)."""
        g = self.generated
        if not g.random_initial:
            return {}
        args = g.initial_distributions(params)
        shapes = {s.name: s.shape for s in g.states}
        keys = jax.random.split(key, len(g.random_initial))
        out = {}
        for k, (name, kind) in zip(keys, g.random_initial):
            a, b = args[name]
            if kind == "normal":
                out[name] = a + b * jax.random.normal(k, shapes[name])
            else:
                out[name] = a + (b - a) * jax.random.uniform(k, shapes[name])
        return out

    def member_fn(self, config: EnsembleConfig) -> Callable:
        """`(key, params, ts) -> (values, result)` for one trajectory."""
        g = self.generated
        sim = self.simulator
        if config.ode is not None:
            solve = sim.solve_program(config.ode)  # the same solve, unjitted

            def member(key, params, ts):
                sol = solve(params, self.random_initial(key, params), ts)
                return sol.values, sol.result

            return member

        info = _sde_solvers.SDE_SOLVER_INFO[config.solver]
        solver = _sde_solvers.make_sde_solver(config.solver, config.calculus, g.milstein)
        m = sum(g.brownian_sizes)
        offsets = np.cumsum((0,) + g.brownian_sizes)
        levy = diffrax.SpaceTimeLevyArea if info.levy_area else diffrax.BrownianIncrement
        t0, t1, dt = config.t0, config.t1, config.dt
        adaptive = config.adaptive
        if adaptive:
            tol = config.brownian_tol if config.brownian_tol is not None \
                else (t1 - t0) * 2.0**-20
            dt = dt if dt is not None else (t1 - t0) / 100
            max_steps = config.max_steps
        else:
            tol = config.brownian_tol if config.brownian_tol is not None else dt / 2
            max_steps = int(math.ceil((t1 - t0) / dt - 1e-9)) + 1
        if config.ito_to_stratonovich:
            # The generated Milstein term at dW = 0 and h = 1 is
            # 1/2 sum_{j1,j2} L^{j1} g_{j2} (0 - delta_{j1 j2}) = -1/2 sum_j L^j g_j,
            # the Itô-to-Stratonovich drift correction (Kloeden & Platen 1992, §4.9).
            zeros = jnp.zeros(m)

            def drift_fn(t, y, p):
                return g.rhs(t, y, p) + g.milstein(t, y, p, zeros, 1.0)
        else:
            def drift_fn(t, y, p):
                return g.rhs(t, y, p)
        drift = diffrax.ODETerm(drift_fn)
        # diffrax differentiates an UnsafeBrownianPath solve in forward mode only;
        # reverse-mode gradients need the Brownian tree (checkpointed adjoint).
        adjoint = (diffrax.ForwardMode() if config.brownian_path == "fast"
                   else diffrax.RecursiveCheckpointAdjoint())

        def member(key, params, ts):
            if adaptive:
                params = dict(params)
                rtol, atol = params.pop(_RTOL), params.pop(_ATOL)
                controller = diffrax.PIDController(rtol=rtol, atol=atol)
                if config.clip_rejected is not None:
                    controller = diffrax.ClipStepSizeController(
                        controller, store_rejected_steps=config.clip_rejected)
            else:
                controller = diffrax.ConstantStepSize()
            key_path, key_initial = jax.random.split(key)
            values0 = dict(g.initial_values(params))
            values0.update(self.random_initial(key_initial, params))
            y0 = sim.pack(values0)
            if config.brownian_path == "tree":
                path = diffrax.VirtualBrownianTree(t0, t1, tol=tol, shape=(m,), key=key_path,
                                                   levy_area=levy)
            else:
                path = diffrax.UnsafeBrownianPath(shape=(m,), key=key_path, levy_area=levy)
            terms = diffrax.MultiTerm(drift, NoiseTerm(g.diffusion, g.noise, path))
            sol = diffrax.diffeqsolve(
                terms, solver, t0=t0, t1=t1, dt0=dt, y0=y0, args=params,
                saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
                max_steps=max_steps, throw=False, adjoint=adjoint)
            values = sim.unpack(sol.ys)
            values.update(jax.vmap(lambda t, y: g.observed_fn(t, y, params))(ts, sol.ys))
            if config.save_noise:
                w = jax.vmap(lambda t: path.evaluate(t0, t))(ts)
                # a Brownian field (more than one point) is saved as a field
                values.update({b: w[:, offsets[k]] if g.brownian_sizes[k] == 1
                               else w[:, offsets[k]:offsets[k + 1]]
                               for k, b in enumerate(g.brownian)})
            return values, result_code(sol.result)

        return member

    # ------------------------------------------------------------ the ensemble

    def ensemble_fn(self, config: EnsembleConfig) -> Callable:
        """The jitted `(keys, params, swept, ts) -> (paths, mean, std, result)`;
        `swept` holds the per-trajectory values of swept parameters. The quantiles
        are not in it: `EnsembleSolution` computes them when asked for."""
        key = dataclasses.replace(config, stats_only=False)
        if key not in self._cache:
            member = self.member_fn(config)

            def one(key, params, swept, ts):
                return member(key, {**params, **swept}, ts)

            def ensemble(keys, params, swept, ts):
                if keys.ndim == 0:  # a seed: split the keys inside the compiled program
                    keys = jax.random.split(jax.random.PRNGKey(keys), config.trajectories)
                if config.chunk_size is not None and config.chunk_size < keys.shape[0]:
                    paths, result = jax.lax.map(lambda xs: one(xs[0], params, xs[1], ts),
                                                (keys, swept), batch_size=config.chunk_size)
                else:
                    paths, result = jax.vmap(one, in_axes=(0, None, 0, None))(
                        keys, params, swept, ts)
                mean, std = _moments(paths)
                return paths, mean, std, result

            # `stats_only` only drops the paths afterwards: it does not recompile.
            self._cache[key] = jax.jit(ensemble)
        return self._cache[key]

    def run(self, config: EnsembleConfig, params: Mapping[str, Any], ts: np.ndarray, *,
            seed: int = 0, sweep: Mapping[str, Any] | None = None,
            mesh: jax.sharding.Mesh | None = None,
            tolerances: tuple[float, float] | None = None) -> EnsembleSolution:
        """Run the ensemble: `config.trajectories` members, keys split from `seed`.

        `sweep` maps parameter names to arrays of `trajectories` values (one per
        member). `mesh` (a 1-D `jax.sharding.Mesh`) shards the members over its
        devices; the number of members is padded to a multiple of the mesh size.
        """
        n = config.trajectories
        if n < 1:
            raise SymflowError(f"trajectories must be at least 1, not {n}")
        swept = {k: jnp.asarray(v, dtype=float) for k, v in (sweep or {}).items()}
        for k, v in swept.items():
            if v.shape != (n,):
                raise SymflowError(f"the sweep of {k!r} has {v.size} values for {n} "
                                   "trajectories")
        params = {k: v for k, v in params.items() if k not in swept}
        if config.adaptive:
            if tolerances is None:
                raise SymflowError("adaptive steps need tolerances=(rtol, atol)")
            params[_RTOL], params[_ATOL] = (jnp.asarray(x, dtype=float) for x in tolerances)
        # Without a mesh the keys are split inside the compiled ensemble (the same
        # keys: `PRNGKey(seed)` traced or not), which saves an eager dispatch per call.
        keys = jnp.asarray(seed)
        ts = np.asarray(ts, dtype=float)
        total = n
        if mesh is not None:
            keys = jax.random.split(jax.random.PRNGKey(seed), n)
            mesh = _auto_mesh(mesh)
            size = mesh.devices.size
            total = -(-n // size) * size
            if total > n:  # pad with copies of the first member, dropped below
                keys = jnp.concatenate([keys, jnp.repeat(keys[:1], total - n, axis=0)])
                swept = {k: jnp.concatenate([v, jnp.repeat(v[:1], total - n)])
                         for k, v in swept.items()}
            sharding = jax.sharding.NamedSharding(
                mesh, jax.sharding.PartitionSpec(mesh.axis_names[0]))
            keys = jax.device_put(keys, sharding)
            swept = {k: jax.device_put(v, sharding) for k, v in swept.items()}
        fn = self.ensemble_fn(config)
        if mesh is not None:
            with _mesh_context(mesh):
                return self._finish(fn, config, keys, params, swept, ts, n, total)
        return self._finish(fn, config, keys, params, swept, ts, n, total)

    def _finish(self, fn, config, keys, params, swept, ts, n, total) -> EnsembleSolution:
        paths, mean, std, result = fn(keys, params, swept, ts)
        if total > n:
            # Padding must not enter the statistics: compute them on the first n.
            paths = {k: v[:n] for k, v in paths.items()}
            result = result[:n]
            mean, std = _moments_jit(paths)
        quantiles = None
        if config.stats_only:  # the paths are dropped: the quantiles cannot wait
            quantiles = quantiles_of(paths, config.quantiles)
            paths = None
        _raise_on_failures(result, config)
        names = tuple(self.simulator.generated.states[i].name
                      for i in range(len(self.simulator.generated.states)))
        names += tuple(n_ for n_, _ in self.generated.observed)
        if config.save_noise and config.ode is None:
            names += self.generated.brownian
        return ensemble_solution(
            t=jnp.asarray(ts), paths=paths, mean=mean, std=std, quantiles=quantiles,
            result=result, sweep={k: v[:n] for k, v in swept.items()},
            quantile_levels=tuple(config.quantiles), names=names)


def batch_mean(paths: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """The mean of each path array over the trajectories (its first axis)."""
    return {k: jnp.mean(v, axis=0) for k, v in paths.items()}


def batch_std(paths: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """The sample standard deviation over the trajectories (zero for one)."""
    return {k: jnp.std(v, axis=0, ddof=1) if v.shape[0] > 1 else jnp.zeros_like(v[0])
            for k, v in paths.items()}


_STRUCTURES: dict = {}  # (structure of the fields, levels, names) -> EnsembleSolution's


def ensemble_solution(*, t, paths, mean, std, result, sweep, quantiles=None,
                      quantile_levels: tuple[float, ...] = DEFAULT_QUANTILES,
                      names: tuple[str, ...] = ()) -> EnsembleSolution:
    """`EnsembleSolution(...)` by unflattening a kept pytree structure: it skips
    equinox's `__init__` and its checks after the first call with the same
    structure (about 30 against 2 us, on the path of every concrete run)."""
    leaves, fields = jax.tree.flatten((t, paths, mean, std, quantiles, result, sweep))
    key = (fields, tuple(quantile_levels), tuple(names))
    structure = _STRUCTURES.get(key)
    if structure is None:
        structure = jax.tree.structure(EnsembleSolution(
            t=t, paths=paths, mean=mean, std=std, result=result, sweep=sweep,
            quantiles=quantiles, quantile_levels=quantile_levels, names=names))
        _STRUCTURES[key] = structure
    return jax.tree.unflatten(structure, leaves)


def _plot_profile(ax, sol: EnsembleSolution, name: str, max_paths: int) -> None:
    """The fan chart of an array variable at the last save time, over its index."""
    levels = sol.quantile_levels
    q = np.asarray(sol.quantiles[name])[:, -1]
    i = np.arange(q.shape[-1])
    for k in range(len(levels) // 2):
        ax.fill_between(i, q[k], q[-1 - k], alpha=0.15 + 0.15 * k, color="C0", lw=0,
                        label=f"{levels[k]:g}–{levels[-1 - k]:g}")
    if sol.paths is not None:
        for path_ in np.asarray(sol.paths[name])[:max_paths, -1]:
            ax.plot(i, path_, color="0.4", lw=0.4, alpha=0.5)
    ax.plot(i, np.asarray(sol.mean[name])[-1], color="C1", label="mean")
    ax.set_ylabel(f"{name} at t = {float(sol.t[-1]):g}")
    ax.set_xlabel("index (grid point)")
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


def _moments(paths: dict[str, jax.Array]) -> tuple[dict, dict]:
    """The mean and the sample standard deviation of every path over axis 0."""
    mean = {k: jnp.mean(v, axis=0) for k, v in paths.items()}
    std = {k: jnp.std(v, axis=0, ddof=1) if v.shape[0] > 1 else jnp.zeros_like(v[0])
           for k, v in paths.items()}
    return mean, std


_moments_jit = jax.jit(_moments)


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


def _auto_mesh(mesh: jax.sharding.Mesh) -> jax.sharding.Mesh:
    """`mesh` with automatic (compiler-chosen) sharding on every axis: the members are
    vmapped through diffrax's while loops, whose batching does not carry explicit
    sharding types."""
    axis_type = getattr(jax.sharding, "AxisType", None)
    if axis_type is None:
        return mesh
    return jax.sharding.Mesh(mesh.devices, mesh.axis_names,
                             axis_types=(axis_type.Auto,) * len(mesh.axis_names))


def _mesh_context(mesh):
    """Make `mesh` the current mesh while the ensemble traces and runs (JAX needs it to
    resolve the named axis inside diffrax's loops)."""
    if hasattr(jax, "set_mesh"):
        return jax.set_mesh(mesh)
    return mesh  # older JAX: a Mesh is itself a context manager


def _raise_on_failures(result, config: EnsembleConfig) -> None:
    if isinstance(result, jax.core.Tracer):
        return
    codes = np.asarray(result)
    failed = np.flatnonzero(codes != 0)
    if failed.size == 0:
        return
    reason = result_message(int(codes[failed[0]]))
    raise SolverError(
        f"{failed.size} of {codes.size} trajectories failed (the first: trajectory "
        f"{failed[0]}): {reason}", float("nan"),
        help="a smaller dt may help; for an SDE, check that the model stays finite")
