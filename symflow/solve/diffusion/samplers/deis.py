"""DEIS tAB-r and ρAB-r: exponential Adams-Bashforth with Lagrange extrapolation of ε̂
in t or in ρ = σ/α."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from diffrax import RESULTS

from .base import (
    AbstractDiffusionSampler,
    past_points,
    placeholder_past,
    ring_scan,
    step_coefficients,
)


class DEIS(AbstractDiffusionSampler):
    """DEIS tAB-r: Lagrange extrapolation of ε̂ in t, weights by Gauss–Legendre in λ;
    with `basis = "rho"`, ρAB-r: the extrapolation in ρ = σ/α = e^{-λ}."""

    r: int = eqx.field(static=True, default=1)
    quadrature_points: int = eqx.field(static=True, default=64)
    basis: str = eqx.field(static=True, default="t")  # t (tAB) | rho (ρAB)

    def order(self, terms):
        return self.r + 1

    def init(self, terms, t0, t1, y0, args):
        _, s, t = self._setup(terms, t0, t1)
        # placeholder past times one step apart (unused, but distinct: see UniPC.init)
        t_hist = s - (t - s) * jnp.arange(1, max(self.r, 1) + 1, dtype=float)
        # past ε̂ as a tuple, newest first (no batch-sized concatenate per step)
        return (jnp.asarray(0), t_hist, tuple(jnp.zeros_like(y0) for _ in range(max(self.r, 1))))

    def _coef(self, term, s, t, p, t_past):
        """`t_past[..., j-1]` is the time j steps back (j = 1..r). `C[..., q, j]`
        is the weight of ε̂ j steps back in the step of order q + 1."""
        sched = term.schedule
        la_s, ls_s, lam_s = step_coefficients(term, s, p)
        la_t, ls_t, lam_t = step_coefficients(term, t, p)
        h = lam_t - lam_s
        nodes, weights = np.polynomial.legendre.leggauss(self.quadrature_points)
        lam_q = lam_s[..., None] + 0.5 * h[..., None] * (jnp.asarray(nodes) + 1.0)
        t_q = sched.t_of_lambda(lam_q, p)
        w_q = 0.5 * h[..., None] * jnp.asarray(weights) * jnp.exp(lam_t[..., None] - lam_q)
        points = jnp.concatenate([s[..., None], t_past], axis=-1)  # t_i, t_{i-1}, ...
        sigma_t = jnp.exp(ls_t)
        if self.basis == "rho":  # the nodes and the past points in ρ = e^{-λ}
            t_q = jnp.exp(-lam_q)
            points = jnp.exp(-sched.lam(points, p))
        rows = []
        for q in range(self.r + 1):
            cs = []
            for j in range(q + 1):
                ell = jnp.ones_like(t_q)
                for kk in range(q + 1):
                    if kk != j:
                        ell = ell * (t_q - points[..., kk, None]) / (
                            points[..., j, None] - points[..., kk, None])
                cs.append(-sigma_t * jnp.sum(w_q * ell, axis=-1))
            rows.append(jnp.stack(cs + [jnp.zeros_like(sigma_t)] * (self.r - q), axis=-1))
        return dict(g=term.noise_coefficients(s, p), a=jnp.exp(la_t - la_s),
                    C=jnp.stack(rows, axis=-2))

    def _past(self, outer):
        n = max(self.r, 1)
        return (past_points(outer, n, jnp.concatenate([placeholder_past(outer, n), outer])),)

    def run(self, coefficients, term, y0, args):
        """All steps as one scan with the past ε̂ in a ring buffer (`ring_scan`);
        step k takes the weights of its order, min(k, r) + 1."""
        table, _ = coefficients
        k = np.arange(table["a"].shape[0])
        return ring_scan(term, y0, args, table["g"], table["a"],
                          table["C"][k, np.minimum(k, self.r)])

    def _update(self, c, term, weights, y0, args, eps_hist):
        eps_s = term.noise_from(c["g"], y0, args)
        eps_all = (eps_s, *eps_hist)[:self.r + 1]
        y1 = c["a"] * y0 + sum(w * e for w, e in zip(weights, eps_all))
        return y1, (eps_s, *eps_hist[:-1])

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, t_hist, eps_hist = solver_state
        c = self._coef(term, s, t, args, t_hist)
        row = c["C"][jnp.minimum(i, self.r)]
        y1, eps_hist = self._update(c, term, [row[j] for j in range(self.r + 1)], y0, args,
                                    eps_hist)
        t_hist = jnp.roll(t_hist, 1).at[0].set(s)
        return y1, None, dict(y0=y0, y1=y1), (i + 1, t_hist, eps_hist), RESULTS.successful
