"""UniPC-p: the UniP predictor and the UniC corrector, data prediction.

Two rules for the weights ρ (Zhao et al. 2023, "UniPC"):

- `published` (the reference implementation's `uni_pc.py`, `variant="bh1"`,
  `lower_order_final=True`): B(h) = -h; the 1 x 1 systems (the order-2 predictor,
  the order-1 corrector) are not solved but set to ρ = 1/2; the steps from the end
  lower their order to the steps left (`min(p, n - k)`) at every step count.
- exact: B(h) = e^{-h} - 1, every ρ system solved, the final orders lowered only
  for fewer than 10 steps. With every system solved B(h) cancels (ρ ∝ 1/B(h)
  multiplies B(h)), so the variant of B(h) matters only with the ρ = 1/2 rule.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from diffrax import RESULTS

from .base import (
    AbstractDiffusionSampler,
    past_points,
    placeholder_past,
    step_coefficients,
)


def phi(k: int, z: jax.Array) -> jax.Array:
    """φ_k(z) = Σ_{n≥0} z^n/(n+k)!, by φ_1 = expm1(z)/z and φ_{k+1} = (φ_k - 1/k!)/z."""
    out = jnp.expm1(z) / z
    for j in range(1, k):
        out = (out - 1.0 / math.factorial(j)) / z
    return out


def solve_small(a: jax.Array, b: jax.Array) -> jax.Array:
    """`x` with `a x = b` for small systems (`a` (..., n, n), `b` (..., n)) by
    Gaussian elimination written out, elementwise over the leading axes: a few
    vector operations, where `jnp.linalg.solve` is two LAPACK calls per system.
    No pivoting: for UniPC's R_kj = r_j^(k-1) the pivots are products of
    differences of the distinct r_j (the first row is all ones)."""
    n = a.shape[-1]
    m = [[a[..., i, j] for j in range(n)] for i in range(n)]
    v = [b[..., i] for i in range(n)]
    for k in range(n):
        for i in range(k + 1, n):
            f = m[i][k] / m[k][k]
            for j in range(k, n):
                m[i][j] = m[i][j] - f * m[k][j]
            v[i] = v[i] - f * v[k]
    x: dict[int, jax.Array] = {}  # back substitution, from the last unknown
    for i in reversed(range(n)):
        x[i] = (v[i] - sum((m[i][j] * x[j] for j in range(i + 1, n)), 0.0)) / m[i][i]
    return jnp.stack([x[i] for i in range(n)], axis=-1)


class UniPC(AbstractDiffusionSampler):
    """UniPC-p (predictor UniP-p, corrector UniC), data prediction: the published
    rule (`published=True`: B(h) = -h, ρ = 1/2 for 1 x 1 systems, final orders
    lowered at every step count) or the exact one (B(h) = e^{-h} - 1, every ρ
    solved, final orders lowered below 10 steps); see the module docstring."""

    p: int = eqx.field(static=True, default=2)
    lower_order_final: bool = eqx.field(static=True, default=True)
    published: bool = eqx.field(static=True, default=False)

    def _lowers_final(self) -> bool:
        """Whether the final steps lower their order to the steps left."""
        return self.lower_order_final and (self.published or self.n_steps < 10)

    def order(self, terms):
        return self.p + 1

    def init(self, terms, t0, t1, y0, args):
        term, s, t = self._setup(terms, t0, t1)
        m0 = term.data(s, y0, args)
        lam_s, lam_t = term.schedule.lam(s, args), term.schedule.lam(t, args)
        # placeholder past points one step apart: never used, but keep every
        # difference quotient finite (no NaN in gradients of unselected branches)
        lams = lam_s - (lam_t - lam_s) * jnp.arange(self.p, dtype=float)
        # the past data predictions as a tuple, newest first: stacking them in one
        # array would copy the whole batch on every step (concatenate, roll)
        ms = (m0, *(jnp.zeros_like(m0) for _ in range(self.p - 1)))
        return (jnp.asarray(0), lams, ms)

    def _step_order(self, i):
        k = jnp.minimum(i + 1, self.p)
        if self._lowers_final():
            k = jnp.minimum(k, self.n_steps - i)
        return k

    def _coef(self, term, s, t, p, lam_past):
        """`lam_past[..., j-1]` is λ at the point j steps back (j = 1..p-1)."""
        la_s, ls_s, lam_s = step_coefficients(term, s, p)
        la_t, ls_t, lam_t = step_coefficients(term, t, p)
        h = lam_t - lam_s
        hh = -h
        b_h = hh if self.published else jnp.expm1(hh)
        alpha_t = jnp.exp(la_t)
        b = jnp.stack([math.factorial(k) * hh * phi(k + 1, hh) / b_h
                       for k in range(1, self.p + 1)], axis=-1)
        # r_j of the past points (λ_{s-j} - λ_s)/h, j = 1..p-1
        rks = (lam_past - lam_s[..., None]) / h[..., None]

        def rho(r_values):
            """ρ = R⁻¹ b with R_kj = r_j^(k-1), for every step at once (the
            published rule: 1/2 for a 1 x 1 system)."""
            n = r_values.shape[-1]
            if self.published and n == 1:
                return jnp.full_like(r_values, 0.5)
            mat = r_values[..., None, :] ** jnp.arange(n, dtype=float)[:, None]
            return solve_small(mat, b[..., :n])

        ones = jnp.ones_like(lam_s)[..., None]
        c = dict(g=term.noise_coefficients(t, p), lam_t=lam_t, sig_t=jnp.exp(ls_t),
                 inv_alpha_t=jnp.exp(-la_t),
                 a=jnp.exp(ls_t - ls_s), ab=alpha_t * jnp.expm1(hh),
                 aB=alpha_t * b_h, inv_r=1 / rks)
        for order in range(1, self.p + 1):
            if order > 1:
                c[f"pred{order}"] = rho(rks[..., :order - 1])
            c[f"corr{order}"] = rho(jnp.concatenate([rks[..., :order - 1], ones], axis=-1))
        return c

    def table(self, term, outer, args):
        n = max(self.p - 1, 1)
        lam = term.schedule.lam(outer, args)
        ext = jnp.concatenate([placeholder_past(lam, n), lam])
        lam_past = past_points(lam, n, ext)[:, :self.p - 1]
        return self._coef(term, outer[:-1], outer[1:], args, lam_past)

    def _update(self, c, term, order, last, y0, args, ms):
        """The step of `order` from the coefficients `c` and the past data
        predictions `ms` (newest first); `last` skips the corrector. Returns
        the new state and the data prediction at the new point."""
        m_s = ms[0]
        base = c["a"] * y0 - c["ab"] * m_s
        d1s = [(ms[j] - m_s) * c["inv_r"][..., j - 1] for j in range(1, order)]
        pred = base
        if order > 1:
            w = c[f"pred{order}"]
            pred = base - c["aB"] * sum(w[..., j] * d1s[j] for j in range(order - 1))
        if last is True:
            return pred, jnp.zeros_like(pred)

        def corrector():
            eps = term.noise_from(c["g"], pred, args)
            m_t = (pred - c["sig_t"] * eps) * c["inv_alpha_t"]
            w = c[f"corr{order}"]
            corr = sum(w[..., j] * d1s[j] for j in range(order - 1)) \
                + w[..., order - 1] * (m_t - m_s)
            return base - c["aB"] * corr, m_t

        if last is False:
            return corrector()
        return jax.lax.cond(last, lambda: (pred, jnp.zeros_like(pred)), corrector)

    def _start(self, term, outer, args):
        la0, ls0, _ = step_coefficients(term, outer[0], args)
        return dict(g=term.noise_coefficients(outer[0], args), sig=jnp.exp(ls0),
                    inv_alpha=jnp.exp(-la0))

    def _history(self, start, term, y0, args):
        eps0 = term.noise_from(start["g"], y0, args)
        m0 = (y0 - start["sig"] * eps0) * start["inv_alpha"]
        return (m0, *(jnp.zeros_like(m0) for _ in range(self.p - 1)))

    def _variant(self, k):
        """(order, last): warm-up and `lower_order_final` lower the order, and the
        last step skips the corrector."""
        order = min(k + 1, self.p)
        if self._lowers_final():
            order = min(order, self.n_steps - k)
        return order, k == self.n_steps - 1

    def _advance(self, c, term, variant, y0, args, ms):
        order, last = variant
        y1, m_t = self._update(c, term, order, last, y0, args, ms)
        return y1, (m_t, *ms[:-1])

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, lams, ms = solver_state
        c = self._coef(term, s, t, args, lams[1:])
        k = self._step_order(i)
        last = i == self.n_steps - 1
        branches = [lambda _, o=o: self._update(c, term, o, last, y0, args, ms)
                    for o in range(1, self.p + 1)]
        y1, m_t = jax.lax.switch(k - 1, branches, None)
        lams = jnp.roll(lams, 1).at[0].set(c["lam_t"])
        ms = (m_t, *ms[:-1])
        return y1, None, dict(y0=y0, y1=y1), (i + 1, lams, ms), RESULTS.successful
