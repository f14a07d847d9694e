"""Profile likelihood: each parameter's confidence interval, and whether data determine it.

For a profiled name `p`, the others are re-optimised with `p` held at values
stepping away from the optimum on both sides (each step starts from the last
one's optimum, with the compiled program of `fit` reused: `p` is passed as an
experiment override, so the whole walk is one program). The profile is

- with noise models: `q(p) = 2 (NLL(p) - NLL_min)`;
- for a sum of squares: `q(p) = (RSS(p) - RSS_min) / s^2`, `s^2 = RSS_min / (n - k)`,

and the interval at `level` is where `q <= chi2_1(level)` (3.84 at 95%). Steps
start at a third of the standard error and grow while the profile rises slowly
(threefold while it is nearly flat),
until it crosses the threshold (the crossing is then refined by regula falsi),
a bound is reached, or `points` steps are taken. A side that never crosses makes
the parameter non-identifiable (`identifiable` false); a profile that stays
flat (below 1% of the threshold) for at least three steps on each side of the
optimum is `flat`: structurally non-identifiable, as a pair whose product alone
enters the model (an identifiable profile's first step, a third of a standard
error, already rises to about 3% of the threshold).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence

import jax.numpy as jnp
import numpy as np
from scipy.stats import chi2

from ..errors import SymflowError
from ..files import save_figure
from ._fit import FitSetup, choose_optimiser, fit, prepare
from ._fit_result import FitResult
from ._model import SimulatedModel
from ._noise import NoiseModel
from ._objective import Objective, experiment_layouts, target_of
from ._program import program_for

__all__ = ["profile", "Profile", "ProfileResult"]

_REFINE = 12  # regula falsi iterations on a crossing


@dataclasses.dataclass(frozen=True)
class Profile:
    """One name's profile: the values walked (sorted), `q` at each, the interval
    (`-inf`/`inf` on a side that never crossed), and the verdicts."""

    name: str
    optimum: float
    values: np.ndarray
    q: np.ndarray
    interval: tuple[float, float]
    identifiable: bool
    flat: bool
    sides: tuple[str, str]  # how each side ended: crossed, bound, or steps


@dataclasses.dataclass
class ProfileResult:
    """The profiles of the asked names, at `level`, around the fit `best`."""

    profiles: dict[str, Profile]
    level: float
    threshold: float
    best: FitResult

    def table(self) -> str:
        """One line per name: the optimum, the interval, the verdict."""
        width = max(8, *(len(n) for n in self.profiles))
        lines = [f"{'name':<{width}}  {'fitted':>12}  {'lower':>12}  {'upper':>12}  verdict",
                 "-" * (width + 60)]
        for n, p in self.profiles.items():
            verdict = ("identifiable" if p.identifiable else
                       "NOT identifiable (flat profile)" if p.flat else
                       f"NOT identifiable (open: {p.sides[0]}/{p.sides[1]})")
            lines.append(f"{n:<{width}}  {p.optimum:>12.6g}  {p.interval[0]:>12.6g}  "
                         f"{p.interval[1]:>12.6g}  {verdict}")
        lines.append(f"{self.level:.0%} profile-likelihood intervals (chi-square threshold "
                     f"{self.threshold:.4g})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def plot(self, path: str | os.PathLike | None = None):
        """One panel per name: the profile, the threshold, the interval."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        n = len(self.profiles)
        fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6), layout="constrained",
                                 squeeze=False)
        for ax, p in zip(axes[0], self.profiles.values()):
            ax.plot(p.values, p.q, "o-", ms=3)
            ax.axhline(self.threshold, color="C3", ls="--", lw=1,
                       label=f"{self.level:.0%} threshold")
            lo, hi = (max(p.interval[0], p.values[0]), min(p.interval[1], p.values[-1]))
            ax.axvspan(lo, hi, color="C2", alpha=0.15)
            ax.axvline(p.optimum, color="k", lw=0.8)
            ax.set_xlabel(p.name)
            ax.set_title(p.name + ("" if p.identifiable else " (not identifiable)"))
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("profile  Δ(−2 log L)")
        axes[0][0].legend(fontsize="small")
        if path is not None:
            save_figure(fig, path)
        return fig


def profile(model: SimulatedModel, data, names: Sequence[str] | None = None, *,
            params: Sequence[str] | None = None, per_experiment: Sequence[str] = (),
            level: float = 0.95, points: int = 30,
            best: FitResult | None = None, log: Sequence[str] = (),
            scale: str | Mapping[str, float] = "none",
            noise: Mapping[str, NoiseModel | str] | None = None,
            optimizer: str | None = None, steps: int | None = None,
            rtol: float = 1e-10, atol: float = 1e-10,
            progress: bool | Callable[[str, float, float], None] = False,
            **options) -> ProfileResult:
    """Profile likelihoods of `names` (default: every fitted name) around the fit of
    `params` to `data` (`best`, or fitted here with the same options).

    `points` bounds the steps per side; `progress` prints each step, or is called
    as `progress(name, value, q)`. Other options are `fit`'s.
    """
    if not 0 < level < 1:
        raise SymflowError(f"level must be between 0 and 1 (got {level:g})")
    setup = prepare(model, data, params, log=log, scale=scale, noise=noise, options=options,
                    per_experiment=per_experiment)
    fitted = setup.objective.names
    if best is None:
        best = fit(model, data, params, optimizer=optimizer, steps=steps, log=log, scale=scale,
                   noise=noise, rtol=rtol, atol=atol, per_experiment=per_experiment,
                   **options)
    asked = tuple(names) if names is not None else tuple(n for n in fitted if "@" not in n)
    for n in asked:
        if n not in fitted:
            raise SymflowError(f"cannot profile {n!r}: it is not among the fitted names",
                               help="fitted: " + ", ".join(fitted))
    if setup.objective.likelihood:
        unit = 0.5  # q = 2 ΔNLL
    else:
        unit = best.loss / max(setup.n_data - len(fitted), 1)  # q = ΔRSS / s²
    threshold = float(chi2.ppf(level, 1))
    walker = _Walker(setup, best, unit, threshold, points, optimizer, steps, rtol, atol,
                     progress)
    return ProfileResult({n: walker.walk(n) for n in asked}, level, threshold, best)


class _Walker:
    """Walks one name's profile on both sides of the optimum."""

    def __init__(self, setup: FitSetup, best: FitResult, unit: float, threshold: float,
                 points: int, optimizer: str | None, steps: int | None, rtol: float,
                 atol: float, progress):
        self.setup, self.best, self.unit, self.threshold = setup, best, unit, threshold
        self.points, self.optimizer, self.steps = points, optimizer, steps
        self.rtol, self.atol, self.progress = rtol, atol, progress

    def walk(self, name: str) -> Profile:
        """The profile of `name`: both sides walked from the optimum."""
        full = self.setup.objective
        i = full.names.index(name)
        model = full.model
        # `k@2`, fitted per experiment: fixed in experiment 2 only
        target, only = target_of(name)
        kind = "params" if target in model.params else "initial"
        others = tuple(n for n in full.names if n != name)
        experiments = [e if only is not None and j != only else
                       dataclasses.replace(e, params={**e.params, target: 0.0})
                       if kind == "params" else
                       dataclasses.replace(e, initial={**e.initial, target: 0.0})
                       for j, e in enumerate(self.setup.experiments)]
        layouts = experiment_layouts(experiments, full.sim["tspan"], "none")
        # keep the full fit's scales (the layouts above only give the structure)
        layouts = tuple(dataclasses.replace(new, columns=old.columns)
                        for new, old in zip(layouts, full.layouts))
        objective = Objective(model, others,
                              tuple(t for n, t in zip(full.names, full.transforms) if n != name),
                              layouts, full.sim, full.noise)
        chosen = choose_optimiser(self.optimizer, objective, rtol=self.rtol, atol=self.atol,
                                  learning_rate=0.02)
        program = program_for(objective, chosen,
                              self.steps if self.steps is not None else chosen.default_steps)
        base = objective.data()
        z_best = jnp.asarray([t.to_free(self.best.values[n]) for t, n in
                              zip(objective.transforms, others)], dtype=float)
        optimum, bounds = self.best.values[name], full.transforms[i]
        se = self.best.stderr[name]
        h0 = (se / 3 if math.isfinite(se) and se > 0 else 0.0) or 0.05 * max(abs(optimum), 1e-3)

        def q_at(v: float, z0):
            data = _override(base, kind, target, v, only)
            if others:
                z, _, _, value = program.run(z0, data)
            else:
                z, value = z0, program.evaluate(z0, data)[1]
            q = (float(value) - self.best.loss) / self.unit
            if self.progress is True:
                print(f"profile {name} = {v:.6g}  q {q:.4g}", flush=True)
            elif callable(self.progress):
                self.progress(name, v, q)
            return q, z

        walked: list[tuple[float, float]] = [(optimum, 0.0)]
        ends, sides = [], []
        for direction in (-1.0, 1.0):
            v, q, z, h, end, side = optimum, 0.0, z_best, h0, -direction * math.inf, "steps"
            for _ in range(self.points):
                nxt = v + direction * h
                if not bounds.lo <= nxt <= bounds.hi:
                    nxt = bounds.lo if direction < 0 else bounds.hi
                    if nxt == v:
                        side = "bound"
                        break
                q_new, z_new = q_at(nxt, z)
                walked.append((nxt, q_new))
                if q_new >= self.threshold:
                    end = self._refine(q_at, (v, q, z), (nxt, q_new))
                    side = "crossed"
                    break
                if nxt in (bounds.lo, bounds.hi):
                    side = "bound"
                    break
                rise = q_new - q
                h *= 3.0 if rise < self.threshold / 100 else 1.6 if rise < self.threshold / 8 \
                    else 1.0
                v, q, z = nxt, q_new, z_new
            ends.append(end if side == "crossed" else direction * math.inf)
            sides.append(side)
        near_zero = [sum(1 for v, q in walked if (v - optimum) * d > 0
                         and abs(q) < 0.01 * self.threshold) for d in (-1, 1)]
        walked.sort()
        values = np.array([w[0] for w in walked])
        qs = np.array([w[1] for w in walked])
        return Profile(name=name, optimum=optimum, values=values, q=qs,
                       interval=(ends[0], ends[1]),
                       identifiable=sides == ["crossed", "crossed"],
                       flat=all(n >= 3 for n in near_zero),
                       sides=(sides[0], sides[1]))

    def _refine(self, q_at, inside, outside) -> float:
        """Where the profile crosses the threshold between a point inside and one
        outside the interval (regula falsi, Illinois variant)."""
        (a, qa, za), (b, qb) = inside, outside
        fa, fb = qa - self.threshold, qb - self.threshold
        side = 0
        c = b
        for _ in range(_REFINE):
            c = b - fb * (b - a) / (fb - fa)
            qc, zc = q_at(c, za)
            fc = qc - self.threshold
            if abs(fc) < 1e-6 * self.threshold:
                break
            if fc * fb > 0:  # c replaces the outside point
                b, fb = c, fc
                if side == -1:
                    fa /= 2
                side = -1
            else:
                a, fa, za = c, fc, zc
                if side == 1:
                    fb /= 2
                side = 1
        return float(c)


def _override(data: tuple, kind: str, name: str, value: float, only: int | None) -> tuple:
    """The data pytree with `name`'s override set to `value` in every experiment, or
    in experiment `only`."""
    return tuple({**d, kind: {**d[kind], name: jnp.asarray(value, dtype=float)}}
                 if only is None or j == only else d for j, d in enumerate(data))
