"""DDIM (= DPM-Solver-1): the exponential Euler step of the probability-flow ODE."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from diffrax import RESULTS

from .base import AbstractDiffusionSampler, step_coefficients


class DDIM(AbstractDiffusionSampler):
    """DDIM: exponential Euler for the probability-flow ODE (first order)."""

    unroll_steps: ClassVar[int] = 0  # no history: scanned (see the base class)
    scan_run: ClassVar[int] = 2

    def order(self, terms):
        return 1

    def init(self, terms, t0, t1, y0, args):
        return None

    def _coef(self, term, s, t, p):
        la_s, ls_s, lam_s = step_coefficients(term, s, p)
        la_t, ls_t, lam_t = step_coefficients(term, t, p)
        return dict(g=term.noise_coefficients(s, p), a=jnp.exp(la_t - la_s),
                    b=jnp.exp(ls_t) * jnp.expm1(lam_t - lam_s))

    def _advance(self, c, term, variant, y0, args, history):
        return c["a"] * y0 - c["b"] * term.noise_from(c["g"], y0, args), None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        y1, _ = self._advance(self._coef(term, s, t, args), term, None, y0, args, None)
        return y1, None, dict(y0=y0, y1=y1), None, RESULTS.successful
