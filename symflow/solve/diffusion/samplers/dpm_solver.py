"""DPM-Solver-2/3 (singlestep, noise prediction) and DPM-Solver++(2M) (multistep,
data prediction)."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from diffrax import RESULTS

from ..schedule import grid_coordinate, grid_time
from .base import AbstractDiffusionSampler, step_coefficients


class DPMSolverSinglestep(AbstractDiffusionSampler):
    """DPM-Solver-2 or -3 (singlestep, noise prediction); `orders` gives each
    step's order (see `plan`); intermediate points sit at fractions 1/2 (order 2)
    or 1/3, 2/3 (order 3) of the step in the coordinate of `grid`."""

    unroll_steps: ClassVar[int] = 0  # no history: scanned (see the base class)
    scan_run: ClassVar[int] = 2

    orders: tuple[int, ...] = eqx.field(static=True, default=(2,))
    grid: str = eqx.field(static=True, default="logsnr")
    grid_exponent: float | None = eqx.field(static=True, default=None)  # power, edm

    def order(self, terms):
        return max(self.orders)

    def init(self, terms, t0, t1, y0, args):
        return jnp.asarray(0)

    def _coef(self, term, s, t, p):
        sched = term.schedule
        la_s, ls_s, lam_s = step_coefficients(term, s, p)
        la_t, ls_t, lam_t = step_coefficients(term, t, p)
        h = lam_t - lam_s
        sigma_t = jnp.exp(ls_t)
        em1 = jnp.expm1(h)
        c = dict(g=term.noise_coefficients(s, p), a=jnp.exp(la_t - la_s), b=sigma_t * em1)
        u_s = grid_coordinate(self.grid, sched, s, p, exponent=self.grid_exponent)
        u_t = grid_coordinate(self.grid, sched, t, p, exponent=self.grid_exponent)

        def inner(frac):
            """time, x-coefficient and ε̂-coefficient of the first-order step to the
            point at `frac` of the step, and its r = (λ_r - λ_s)/h"""
            tr = grid_time(self.grid, sched, u_s + frac * (u_t - u_s), p,
                           exponent=self.grid_exponent)
            la_r, ls_r, lam_r = step_coefficients(term, tr, p)
            r = (lam_r - lam_s) / h
            return tr, jnp.exp(la_r - la_s), jnp.exp(ls_r), r

        used = set(self.orders)
        if 2 in used:
            s1, a1, sig1, r1 = inner(0.5)
            c.update(g21=term.noise_coefficients(s1, p), a21=a1, b21=sig1 * jnp.expm1(r1 * h),
                     w2=sigma_t / (2 * r1) * em1)
        if 3 in used:
            s1, a1, sig1, r1 = inner(1.0 / 3.0)
            s2, a2, sig2, r2 = inner(2.0 / 3.0)
            c.update(g31=term.noise_coefficients(s1, p), a31=a1, b31=sig1 * jnp.expm1(r1 * h),
                     g32=term.noise_coefficients(s2, p), a32=a2,
                     b32=sig2 * jnp.expm1(r2 * h),
                     d32=sig2 * (r2 / r1) * (jnp.expm1(r2 * h) / (r2 * h) - 1),
                     w3=sigma_t / r2 * (em1 / h - 1))
        return c

    def _update(self, c, term, order, y0, p):
        eps_s = term.noise_from(c["g"], y0, p)
        base = c["a"] * y0 - c["b"] * eps_s
        if order == 1:
            return base
        if order == 2:
            u = c["a21"] * y0 - c["b21"] * eps_s
            d1 = term.noise_from(c["g21"], u, p) - eps_s
            return base - c["w2"] * d1
        u1 = c["a31"] * y0 - c["b31"] * eps_s
        d1 = term.noise_from(c["g31"], u1, p) - eps_s
        u2 = c["a32"] * y0 - c["b32"] * eps_s - c["d32"] * d1
        d2 = term.noise_from(c["g32"], u2, p) - eps_s
        return base - c["w3"] * d2

    def _variant(self, k):
        return self.orders[k]

    def _advance(self, c, term, variant, y0, args, history):
        return self._update(c, term, variant, y0, args), None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        c = self._coef(term, s, t, args)
        used = sorted(set(self.orders))  # a branch for each order the plan uses
        branches = [lambda _, o=o: self._update(c, term, o, y0, args) for o in used]
        index = jnp.asarray([used.index(o) for o in self.orders])
        y1 = jax.lax.switch(index[jnp.minimum(solver_state, len(self.orders) - 1)],
                            branches, None)
        return y1, None, dict(y0=y0, y1=y1), solver_state + 1, RESULTS.successful


class DPMSolverPP2M(AbstractDiffusionSampler):
    """DPM-Solver++(2M): second-order multistep in data prediction."""

    def order(self, terms):
        return 2

    def init(self, terms, t0, t1, y0, args):
        term, s, t = self._setup(terms, t0, t1)
        lam_s, lam_t = term.schedule.lam(s, args), term.schedule.lam(t, args)
        # a placeholder history with r = 1 (unused by the first step, but finite, so
        # that no NaN reaches a gradient through the unselected branch)
        return (jnp.asarray(0), 2 * lam_s - lam_t, jnp.zeros_like(y0))

    def _coef(self, term, s, t, p, lam_prev):
        la_s, ls_s, lam_s = step_coefficients(term, s, p)
        la_t, ls_t, lam_t = step_coefficients(term, t, p)
        h = lam_t - lam_s
        r = (lam_s - lam_prev) / h
        return dict(g=term.noise_coefficients(s, p), sig_s=jnp.exp(ls_s),
                    inv_alpha_s=jnp.exp(-la_s), lam_s=lam_s,
                    a=jnp.exp(ls_t - ls_s), b=jnp.exp(la_t) * jnp.expm1(-h),
                    c1=1 + 1 / (2 * r), c2=1 / (2 * r))

    def table(self, term, outer, args):
        lam = term.schedule.lam(outer, args)
        lam_prev = jnp.concatenate([jnp.reshape(2 * lam[0] - lam[1], (1,)), lam[:-2]])
        return self._coef(term, outer[:-1], outer[1:], args, lam_prev)

    def _data(self, c, term, y0, args):
        return (y0 - c["sig_s"] * term.noise_from(c["g"], y0, args)) * c["inv_alpha_s"]

    def _variant(self, k):
        return k == 0  # the first step is first order

    def _advance(self, c, term, variant, y0, args, history):
        d_s = self._data(c, term, y0, args)
        d = d_s if variant else c["c1"] * d_s - c["c2"] * history
        return c["a"] * y0 - c["b"] * d, d_s

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, lam_prev, d_prev = solver_state
        c = self._coef(term, s, t, args, lam_prev)
        d_s = self._data(c, term, y0, args)
        d = jnp.where(i > 0, c["c1"] * d_s - c["c2"] * d_prev, d_s)
        y1 = c["a"] * y0 - c["b"] * d
        return y1, None, dict(y0=y0, y1=y1), (i + 1, c["lam_s"], d_s), RESULTS.successful
