"""The diffusion form of a probability-flow ODE, as the samplers see it.

A model of diffusion form is `dx/dt = f(t) x + g²(t)/(2 σ(t)) ε̂(x, t)` with a
noise schedule `(α(t), σ(t))`, `f = d log α/dt`, `g² = dσ²/dt - 2 f σ²`, and the
noise prediction `ε̂ = -σ · score`. With `λ = log(α/σ)` (the half log-SNR) the
right-hand side is `f x - σ λ'(t) ε̂`, and its exact solution from `s` to `t` is

    x_t = (α_t/α_s) x_s - α_t ∫_{λ_s}^{λ_t} e^{-λ} ε̂ dλ,

which is what DDIM, DPM-Solver, UniPC and DEIS discretise (`diffusion/samplers/`).

`DiffusionSchedule` holds `log α(t)`, `log σ(t)` and, where the compiler found it
in closed form, `t(λ)`; otherwise `t(λ)` is found numerically (bisection to
rounding, then one Newton step so that derivatives with respect to the
schedule's parameters are right by the implicit function theorem).
`DiffusionTerm` is a diffrax term holding the schedule and the noise
prediction; its vector field is the full right-hand side, so ordinary diffrax
solvers (Dopri5, Euler, ...) solve the same ODE for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ... import catalog
from .._compat import WrapTerm

__all__ = ["DiffusionSchedule", "DiffusionTerm", "GRIDS", "GRID_EXPONENTS", "step_grid",
           "unwrap_term"]


GRIDS = catalog.SAMPLER_GRIDS
# The grids with an exponent and its default: `power` spaces t^(1/κ) evenly (κ = 2
# is `quadratic`, DEIS's `ts_order`, DPM-Solver's `time_quadratic`); `edm` spaces
# σ^(1/ρ) evenly, σ = σ_t/α_t = e^{-λ} (Karras et al. 2022, eq. 5; ρ = 7).
GRID_EXPONENTS = {"power": 2.0, "edm": 7.0}


class DiffusionSchedule(eqx.Module):
    """A noise schedule: `log α(t, p)`, `log σ(t, p)` and optionally `t(λ, p)`.

    The functions take the time and the parameter pytree `p` (so that gradients
    with respect to schedule parameters flow). `span` is the time interval on
    which `t(λ)` is searched numerically when no closed form is given.
    """

    log_alpha_fn: Callable = eqx.field(static=True)
    log_sigma_fn: Callable = eqx.field(static=True)
    t_of_lambda_fn: Callable | None = eqx.field(static=True, default=None)
    span: tuple[float, float] = eqx.field(static=True, default=(0.0, 1.0))

    def log_alpha(self, t: ArrayLike, p: Mapping[str, Any]) -> jax.Array:
        return self.log_alpha_fn(t, p)

    def log_sigma(self, t: ArrayLike, p: Mapping[str, Any]) -> jax.Array:
        return self.log_sigma_fn(t, p)

    def lam(self, t: ArrayLike, p: Mapping[str, Any]) -> jax.Array:
        """λ(t) = log α(t) - log σ(t), the half log signal-to-noise ratio."""
        return self.log_alpha_fn(t, p) - self.log_sigma_fn(t, p)

    def t_of_lambda(self, lam: ArrayLike, p: Mapping[str, Any]) -> jax.Array:
        """The time where λ(t) = `lam` (closed form if known, else numeric)."""
        if self.t_of_lambda_fn is not None:
            return self.t_of_lambda_fn(lam, p)
        return _invert_numerically(lambda t: self.lam(t, p), lam, self.span)

    def drift_coefficients(self, t: jax.Array, p: Mapping[str, Any]) -> tuple[jax.Array, jax.Array]:
        """`(f, σ λ')` at `t`: the right-hand side is `f x - σ λ' ε̂`."""
        one = jnp.ones_like(t)
        log_alpha, f = jax.jvp(lambda s: self.log_alpha_fn(s, p), (t,), (one,))
        lam, dlam = jax.jvp(lambda s: self.lam(s, p), (t,), (one,))
        return f, jnp.exp(log_alpha - lam) * dlam


def _invert_numerically(lam_of_t: Callable, target, span: tuple[float, float]):
    """Solve `λ(t) = target` on `span` for a monotone λ: bisection, then one Newton
    step from the bisection's (gradient-stopped) answer, which gives the derivative
    of the root with respect to anything λ depends on (implicit differentiation)."""
    lo, hi = min(span), max(span)
    lo_arr = jnp.full(jnp.shape(target), lo)
    hi_arr = jnp.full(jnp.shape(target), hi)
    target_c = jax.lax.stop_gradient(target)
    decreasing = jax.lax.stop_gradient(lam_of_t(jnp.asarray(hi)) < lam_of_t(jnp.asarray(lo)))

    def body(_, bounds):
        a, b = bounds
        mid = 0.5 * (a + b)
        value = jax.lax.stop_gradient(lam_of_t(mid))
        above = jnp.where(decreasing, value > target_c, value < target_c)
        return jnp.where(above, mid, a), jnp.where(above, b, mid)

    a, b = jax.lax.fori_loop(0, 80, body, (lo_arr, hi_arr))
    t = jax.lax.stop_gradient(0.5 * (a + b))
    value, slope = jax.jvp(lam_of_t, (t,), (jnp.ones_like(t),))
    return t - (value - target) / slope


class DiffusionTerm(diffrax.AbstractTerm):
    """The probability-flow ODE as a diffrax term.

    `noise_fn(t, x, args)` is the noise prediction ε̂ of a whole batch `x`
    (samples along the first axis). The vector field is the full right-hand side
    `f x - σ λ' ε̂`, so any diffrax solver can solve it; the samplers of
    `diffusion/samplers/` read `schedule` and `noise_fn` directly.
    """

    schedule: DiffusionSchedule
    noise_fn: Callable = eqx.field(static=True)
    coefficients_fn: Callable | None = eqx.field(static=True, default=None)
    noise_from_fn: Callable | None = eqx.field(static=True, default=None)

    def noise(self, t: ArrayLike, x: jax.Array, args: Mapping[str, Any]) -> jax.Array:
        return self.noise_fn(t, x, args)

    def noise_coefficients(self, t: ArrayLike, args: Mapping[str, Any]) -> jax.Array:
        """The batch-free part of ε̂ at the times `t` (any shape; the parts along a
        new last axis), so that a sampler can compute it for all its steps at
        once; `noise_from` finishes ε̂ from it. Without a split (a Python score)
        it is the time itself."""
        if self.coefficients_fn is None:
            return jnp.asarray(t, dtype=float)[..., None]
        return self.coefficients_fn(t, args)

    def noise_from(self, g: jax.Array, x: jax.Array, args: Mapping[str, Any]) -> jax.Array:
        """ε̂ of the batch `x` from `g = noise_coefficients(t, args)` of one time."""
        if self.noise_from_fn is None:
            return self.noise_fn(g[..., 0], x, args)
        return self.noise_from_fn(g, x, args)

    def data(self, t: ArrayLike, x: jax.Array, args: Mapping[str, Any], *,
             log_alpha: jax.Array | None = None,
             log_sigma: jax.Array | None = None) -> jax.Array:
        """The data prediction x̂₀ = (x - σ ε̂)/α (`log_alpha`, `log_sigma` at `t`
        when known: both or neither)."""
        if log_alpha is None or log_sigma is None:
            log_alpha = self.schedule.log_alpha(t, args)
            log_sigma = self.schedule.log_sigma(t, args)
        eps = self.noise_fn(t, x, args)
        return (x - jnp.exp(log_sigma) * eps) * jnp.exp(-log_alpha)

    def vf(self, t, y, args):
        f, sigma_dlam = self.schedule.drift_coefficients(t, args)
        return f * y - sigma_dlam * self.noise_fn(t, y, args)

    def contr(self, t0, t1, **kwargs):
        return t1 - t0

    def prod(self, vf, control):
        return vf * control


def unwrap_term(terms) -> tuple[DiffusionTerm, jax.Array | np.ndarray | int]:
    """The `DiffusionTerm` inside diffrax's time-reversal wrapper, and the direction
    (diffrax integrates `t1 < t0` as `-t`, wrapping the term)."""
    direction: jax.Array | np.ndarray | int = 1
    while isinstance(terms, WrapTerm):
        direction = direction * terms.direction
        terms = terms.term
    if not isinstance(terms, DiffusionTerm):
        raise TypeError("a diffusion sampler needs a DiffusionTerm, not "
                        f"{type(terms).__name__}")
    return terms, direction


# ---------------------------------------------------------------- step grids


def grid_coordinate(kind: str, schedule: DiffusionSchedule, t: jax.Array, p: Mapping[str, Any],
                    *, exponent: float | None = None) -> jax.Array:
    """The coordinate in which a grid of `kind` is evenly spaced (`exponent`: κ of
    `power`, ρ of `edm`; `None` for their defaults, `GRID_EXPONENTS`)."""
    if kind in GRID_EXPONENTS:
        e = GRID_EXPONENTS[kind] if exponent is None else exponent
        if kind == "power":
            return t ** (1.0 / e)
        return jnp.exp(-schedule.lam(t, p) / e)
    if kind == "uniform":
        return t
    if kind == "quadratic":
        return jnp.sqrt(t)
    if kind == "logsnr":
        return schedule.lam(t, p)
    raise ValueError(f"unknown grid {kind!r}")


def grid_time(kind: str, schedule: DiffusionSchedule, u: jax.Array, p: Mapping[str, Any], *,
              exponent: float | None = None) -> jax.Array:
    """The inverse of `grid_coordinate`."""
    if kind in GRID_EXPONENTS:
        e = GRID_EXPONENTS[kind] if exponent is None else exponent
        if kind == "power":
            return u ** e
        return schedule.t_of_lambda(-e * jnp.log(u), p)
    if kind == "uniform":
        return u
    if kind == "quadratic":
        return u * u
    if kind == "logsnr":
        return schedule.t_of_lambda(u, p)
    raise ValueError(f"unknown grid {kind!r}")


def step_grid(kind: str, schedule: DiffusionSchedule, p: Mapping[str, Any], t0: float,
              t1: float, n: int, *, exponent: float | None = None) -> jax.Array:
    """`n + 1` times from `t0` to `t1`, evenly spaced in t (`uniform`), in √t
    (`quadratic`, the grid of DDIM and DEIS), in λ (`logsnr`, the grid of
    DPM-Solver), in t^(1/κ) (`power`, κ = `exponent`, default 2) or in σ^(1/ρ)
    with σ = e^{-λ} (`edm`, Karras et al. 2022, ρ = `exponent`, default 7); the
    ends are exactly `t0` and `t1`."""
    t0a, t1a = jnp.asarray(t0, dtype=float), jnp.asarray(t1, dtype=float)
    u0 = grid_coordinate(kind, schedule, t0a, p, exponent=exponent)
    u1 = grid_coordinate(kind, schedule, t1a, p, exponent=exponent)
    frac = jnp.linspace(0.0, 1.0, n + 1)
    ts = grid_time(kind, schedule, u0 + frac * (u1 - u0), p, exponent=exponent)
    return ts.at[0].set(t0a).at[-1].set(t1a)
