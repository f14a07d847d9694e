"""iPNDM: DDIM with ε̂ replaced by the fixed-step Adams-Bashforth combination."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from diffrax import RESULTS

from .base import AbstractDiffusionSampler, ring_scan, step_coefficients


class IPNDM(AbstractDiffusionSampler):
    """iPNDM: DDIM steps on the fixed-step Adams–Bashforth combination of ε̂
    (orders 1, 2, 3, 4 in warm-up, then 4)."""

    WEIGHTS: ClassVar = ((1.0, 0.0, 0.0, 0.0), (1.5, -0.5, 0.0, 0.0),
                         (23 / 12, -16 / 12, 5 / 12, 0.0),
                         (55 / 24, -59 / 24, 37 / 24, -9 / 24))

    def order(self, terms):
        return 4

    def init(self, terms, t0, t1, y0, args):
        return (jnp.asarray(0), jnp.zeros((3, *jnp.shape(y0))))

    def _coef(self, term, s, t, p):
        la_s, ls_s, lam_s = step_coefficients(term, s, p)
        la_t, ls_t, lam_t = step_coefficients(term, t, p)
        return dict(g=term.noise_coefficients(s, p), a=jnp.exp(la_t - la_s),
                    b=jnp.exp(ls_t) * jnp.expm1(lam_t - lam_s))

    def run(self, coefficients, term, y0, args):
        """All steps as one scan with the past ε̂ in a ring buffer (`ring_scan`)."""
        table, _ = coefficients
        n = table["a"].shape[0]
        weights = np.asarray(self.WEIGHTS)[np.minimum(np.arange(n), 3)]
        return ring_scan(term, y0, args, table["g"], table["a"],
                          -table["b"][:, None] * weights)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, eps_hist = solver_state
        c = self._coef(term, s, t, args)
        eps_s = term.noise_from(c["g"], y0, args)
        w = jnp.asarray(self.WEIGHTS)[jnp.minimum(i, 3)]
        eps_all = jnp.concatenate([eps_s[None], eps_hist], axis=0)
        y1 = c["a"] * y0 - c["b"] * jnp.tensordot(w, eps_all, axes=1)
        eps_hist = jnp.roll(eps_hist, 1, axis=0).at[0].set(eps_s)
        return y1, None, dict(y0=y0, y1=y1), (i + 1, eps_hist), RESULTS.successful
