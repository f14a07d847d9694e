"""Diffusion samplers as diffrax solvers: DDIM, DPM-Solver-2/3, DPM-Solver++(2M),
UniPC-2/3 and DEIS tAB-1/2/3.

Each solver takes steps between the points of a `diffrax.StepTo` grid on a
`DiffusionTerm` (`_diffusion.py`), so `SaveAt`, the adjoints and `jax.grad` work
as for any diffrax solver. They use the exact solution of the linear part,

    x_t = (α_t/α_s) x_s - α_t ∫ e^{-λ} ε̂ dλ = (σ_t/σ_s) x_s + σ_t ∫ e^{λ} x̂₀ dλ,

and spend model evaluations only on the integral. Formulas, with h = λ_t - λ_s:

- DDIM (= DPM-Solver-1): `x_t = (α_t/α_s) x_s - σ_t (e^h - 1) ε̂_s` (Song et al. 2021;
  Lu et al. 2022, eq. 3.7).
- DPM-Solver-2 and -3, singlestep, noise prediction (Lu et al. 2022, Algorithms 4
  and 5), with the intermediate points at fractions of the step taken in the grid's
  own coordinate, and the "DPM-Solver-fast" order schedule that spends exactly
  `steps` evaluations (order 2: ⌊N/2⌋ two-stage steps and one DDIM step if N is
  odd; order 3: K = ⌊N/3⌋ + 1 steps of orders [3,…,3,2,1], [3,…,3,1] or
  [3,…,3,2] for N mod 3 = 0, 1, 2, except one third-order step for N = 3).
- DPM-Solver++(2M), multistep, data prediction (Lu et al. 2022b, Algorithm 2):
  `x_i = (σ_i/σ_{i-1}) x_{i-1} - α_i (e^{-h_i} - 1) [(1 + 1/(2r)) D_{i-1} - D_{i-2}/(2r)]`,
  `r = h_{i-1}/h_i`; the first step is first order.
- UniPC-p (Zhao et al. 2023), data prediction with B(h) = e^{-h} - 1: the UniP-p
  predictor from p-1 past differences, then the UniC corrector, which reuses the
  evaluation at the predicted point (needed by the next step anyway), so it
  raises the order by one at no extra evaluation; weights ρ = R⁻¹ b with
  `R_kj = r_j^{k-1}`, `b_k = k! ĥ φ_{k+1}(ĥ)/B(h)`, ĥ = -h, solved exactly for
  every order. The last step skips the corrector (its evaluation would not be
  used); warm-up uses lower orders, and with fewer than 10 steps the final steps
  lower the order too (`lower_order_final`).
- DEIS tAB-r (Zhang & Chen 2023): `x_{i+1} = (α_{i+1}/α_i) x_i + Σ_j C_ij ε̂_{i-j}`,
  Lagrange extrapolation of ε̂ in t over the last r+1 points,
  `C_ij = -σ_{i+1} ∫_{λ_i}^{λ_{i+1}} e^{λ_{i+1}-λ} ℓ_j(t(λ)) dλ` by Gauss–Legendre
  quadrature in λ (64 points by default); warm-up uses r_i = min(i, r).
- DEIS ρAB-r (Zhang & Chen 2023, §4): the same with the Lagrange basis in
  ρ = σ/α = e^{-λ} instead of t. In v = x/α the ODE is dv/dρ = ε̂, so this is
  Adams–Bashforth in ρ with exact weights `α_{i+1} ∫_{ρ_i}^{ρ_{i+1}} ℓ_j(ρ) dρ`
  (the same quadrature, which is exact here to rounding).
- iPNDM (Zhang & Chen 2023, App.; after Liu et al. 2022's PNDM): the DDIM step
  with ε̂ replaced by the fixed-step Adams–Bashforth combination of the last
  min(i+1, 4) ε̂, weights [1], [3/2, -1/2], [23, -16, 5]/12, [55, -59, 37, -9]/24.
  The weights assume equal steps (in ρ), so on other grids it is a heuristic
  (its order there is not guaranteed); it costs nothing over DDIM.

Every method spends one model evaluation per unit of `steps` (NFE), warm-up
included; `plan` gives the outer steps and their orders for a budget.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from diffrax import LocalLinearInterpolation, RESULTS

from ._diffusion import DiffusionTerm, grid_coordinate, grid_time, unwrap_term


__all__ = ["SAMPLERS", "SamplerInfo", "plan", "make_sampler", "AbstractDiffusionSampler",
           "DDIM", "DPMSolverSinglestep", "DPMSolverPP2M", "UniPC", "DEIS", "IPNDM"]


@dataclasses.dataclass(frozen=True)
class SamplerInfo:
    """What the language knows about a sampler: its nominal order and the fewest
    model evaluations (`steps`) that reach that order once."""

    kind: str  # ddim | singlestep | pp2m | unipc | deis | deis_rho | ipndm
    order: int
    min_steps: int
    description: str


SAMPLERS: dict[str, SamplerInfo] = {
    "ddim": SamplerInfo("ddim", 1, 1, "DDIM = DPM-Solver-1 (exponential Euler)"),
    "dpm_solver_2": SamplerInfo("singlestep", 2, 2, "DPM-Solver-2, singlestep"),
    "dpm_solver_3": SamplerInfo("singlestep", 3, 3, "DPM-Solver-3, singlestep"),
    "dpm_solver_pp_2m": SamplerInfo("pp2m", 2, 2, "DPM-Solver++(2M), multistep"),
    "unipc_2": SamplerInfo("unipc", 2, 2, "UniPC: UniP-2 predictor + UniC corrector"),
    "unipc_3": SamplerInfo("unipc", 3, 3, "UniPC: UniP-3 predictor + UniC corrector"),
    "deis_1": SamplerInfo("deis", 1, 2, "DEIS tAB-1 (linear extrapolation in t)"),
    "deis_2": SamplerInfo("deis", 2, 3, "DEIS tAB-2"),
    "deis_3": SamplerInfo("deis", 3, 4, "DEIS tAB-3"),
    "deis_rho_1": SamplerInfo("deis_rho", 1, 2, "DEIS ρAB-1 (linear extrapolation in ρ)"),
    "deis_rho_2": SamplerInfo("deis_rho", 2, 3, "DEIS ρAB-2"),
    "deis_rho_3": SamplerInfo("deis_rho", 3, 4, "DEIS ρAB-3"),
    "ipndm": SamplerInfo("ipndm", 4, 4, "iPNDM (fixed-step Adams-Bashforth 4 in ε̂)"),
}


def plan(name: str, steps: int) -> tuple[int, ...]:
    """The model evaluations each outer (diffrax) step of sampler `name` spends, for a
    budget of `steps` evaluations (they sum to `steps`). Multistep methods take one
    step per evaluation; a singlestep DPM-Solver step of order k spends k
    (the "DPM-Solver-fast" schedule), and that is its order."""
    info = SAMPLERS[name]
    if info.kind != "singlestep":
        return (1,) * steps
    if info.order == 2:
        return (2,) * (steps // 2) + (1,) * (steps % 2)
    if steps == 3:  # DPM-Solver-fast would spend these as orders 2, 1
        return (3,)
    k = steps // 3 + 1
    if steps % 3 == 0:
        return (3,) * (k - 2) + (2, 1)
    if steps % 3 == 1:
        return (3,) * (k - 1) + (1,)
    return (3,) * (k - 1) + (2,)


class AbstractDiffusionSampler(diffrax.AbstractSolver):
    """A fixed-grid exponential integrator for a `DiffusionTerm`.

    `n_steps` is the number of diffrax steps the solve takes (the multistep
    methods use it to skip the last corrector and lower the final orders).
    """

    n_steps: int = eqx.field(static=True, default=1)
    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = LocalLinearInterpolation

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def _setup(self, terms, t0, t1):
        term, direction = unwrap_term(terms)
        return term, t0 * direction, t1 * direction


def _coefficients(term: DiffusionTerm, t, p):
    sched = term.schedule
    log_alpha = sched.log_alpha(t, p)
    log_sigma = sched.log_sigma(t, p)
    return log_alpha, log_sigma, log_alpha - log_sigma


class DDIM(AbstractDiffusionSampler):
    """DDIM: exponential Euler for the probability-flow ODE (first order)."""

    def order(self, terms):
        return 1

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        la_s, ls_s, lam_s = _coefficients(term, s, args)
        la_t, ls_t, lam_t = _coefficients(term, t, args)
        eps = term.noise(s, y0, args)
        y1 = jnp.exp(la_t - la_s) * y0 - jnp.exp(ls_t) * jnp.expm1(lam_t - lam_s) * eps
        return y1, None, dict(y0=y0, y1=y1), None, RESULTS.successful


class DPMSolverSinglestep(AbstractDiffusionSampler):
    """DPM-Solver-2 or -3 (singlestep, noise prediction); `orders` gives each
    step's order (see `plan`); intermediate points sit at fractions 1/2 (order 2)
    or 1/3, 2/3 (order 3) of the step in the coordinate of `grid`."""

    orders: tuple[int, ...] = eqx.field(static=True, default=(2,))
    grid: str = eqx.field(static=True, default="logsnr")
    grid_exponent: float | None = eqx.field(static=True, default=None)  # power, edm

    def order(self, terms):
        return max(self.orders)

    def init(self, terms, t0, t1, y0, args):
        return jnp.asarray(0)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        p = args
        sched = term.schedule
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        h = lam_t - lam_s
        eps_s = term.noise(s, y0, p)
        u_s = grid_coordinate(self.grid, sched, s, p, exponent=self.grid_exponent)
        u_t = grid_coordinate(self.grid, sched, t, p, exponent=self.grid_exponent)
        sigma_t = jnp.exp(ls_t)
        base = jnp.exp(la_t - la_s) * y0 - sigma_t * jnp.expm1(h) * eps_s

        def inner(frac):
            tr = grid_time(self.grid, sched, u_s + frac * (u_t - u_s), p,
                           exponent=self.grid_exponent)
            la_r, ls_r, lam_r = _coefficients(term, tr, p)
            return tr, la_r, ls_r, (lam_r - lam_s) / h

        def first(_):
            return base

        def second(_):
            s1, la1, ls1, r1 = inner(0.5)
            u = jnp.exp(la1 - la_s) * y0 - jnp.exp(ls1) * jnp.expm1(r1 * h) * eps_s
            d1 = term.noise(s1, u, p) - eps_s
            return base - sigma_t / (2 * r1) * jnp.expm1(h) * d1

        def third(_):
            s1, la1, ls1, r1 = inner(1.0 / 3.0)
            s2, la2, ls2, r2 = inner(2.0 / 3.0)
            u1 = jnp.exp(la1 - la_s) * y0 - jnp.exp(ls1) * jnp.expm1(r1 * h) * eps_s
            d1 = term.noise(s1, u1, p) - eps_s
            u2 = (jnp.exp(la2 - la_s) * y0 - jnp.exp(ls2) * jnp.expm1(r2 * h) * eps_s
                  - jnp.exp(ls2) * (r2 / r1) * (jnp.expm1(r2 * h) / (r2 * h) - 1) * d1)
            d2 = term.noise(s2, u2, p) - eps_s
            return base - sigma_t / r2 * (jnp.expm1(h) / h - 1) * d2

        branches = [first, second, third][:max(self.orders)]
        k = jnp.asarray(self.orders)[jnp.minimum(solver_state, len(self.orders) - 1)]
        y1 = jax.lax.switch(k - 1, branches, None)
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

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, lam_prev, d_prev = solver_state
        la_s, ls_s, lam_s = _coefficients(term, s, args)
        la_t, ls_t, lam_t = _coefficients(term, t, args)
        h = lam_t - lam_s
        d_s = term.data(s, y0, args, log_alpha=la_s, log_sigma=ls_s)
        r = (lam_s - lam_prev) / h
        r = jnp.where(i > 0, r, 1.0)
        d = jnp.where(i > 0, (1 + 1 / (2 * r)) * d_s - d_prev / (2 * r), d_s)
        y1 = jnp.exp(ls_t - ls_s) * y0 - jnp.exp(la_t) * jnp.expm1(-h) * d
        return y1, None, dict(y0=y0, y1=y1), (i + 1, lam_s, d_s), RESULTS.successful


def _phi(k: int, z):
    """φ_k(z) = Σ_{n≥0} z^n/(n+k)!, by φ_1 = expm1(z)/z and φ_{k+1} = (φ_k - 1/k!)/z."""
    out = jnp.expm1(z) / z
    for j in range(1, k):
        out = (out - 1.0 / math.factorial(j)) / z
    return out


class UniPC(AbstractDiffusionSampler):
    """UniPC-p (predictor UniP-p, corrector UniC), data prediction, B(h) = e^{-h} - 1."""

    p: int = eqx.field(static=True, default=2)
    lower_order_final: bool = eqx.field(static=True, default=True)

    def order(self, terms):
        return self.p + 1

    def init(self, terms, t0, t1, y0, args):
        term, s, t = self._setup(terms, t0, t1)
        m0 = term.data(s, y0, args)
        lam_s, lam_t = term.schedule.lam(s, args), term.schedule.lam(t, args)
        # placeholder past points one step apart: never used, but keep every
        # difference quotient finite (no NaN in gradients of unselected branches)
        lams = lam_s - (lam_t - lam_s) * jnp.arange(self.p, dtype=float)
        ms = jnp.zeros((self.p, *jnp.shape(y0))).at[0].set(m0)
        return (jnp.asarray(0), lams, ms)

    def _step_order(self, i):
        k = jnp.minimum(i + 1, self.p)
        if self.lower_order_final and self.n_steps < 10:
            k = jnp.minimum(k, self.n_steps - i)
        return k

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, lams, ms = solver_state
        p = args
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        h = lam_t - lam_s
        hh = -h
        b_h = jnp.expm1(hh)
        alpha_t = jnp.exp(la_t)
        m_s = ms[0]
        base = jnp.exp(ls_t - ls_s) * y0 - alpha_t * jnp.expm1(hh) * m_s
        b = jnp.stack([math.factorial(k) * hh * _phi(k + 1, hh) / b_h
                       for k in range(1, self.p + 1)])
        # r_j of the past points (λ_{s-j} - λ_s)/h, j = 1..p-1, then the new point r = 1
        rks = jnp.concatenate([(lams[1:] - lam_s) / h, jnp.ones((1,))])
        d1s = [(ms[j] - m_s) / rks[j - 1] for j in range(1, self.p)]
        k = self._step_order(i)
        last = i == self.n_steps - 1

        def rho(n, r_values, rhs):
            """Solve the n x n system R ρ = b with R_kj = r_j^(k-1)."""
            r_values = jnp.stack(r_values)
            mat = r_values[None, :] ** jnp.arange(n, dtype=float)[:, None]
            return jnp.linalg.solve(mat, rhs[:n])

        def predictor(order):
            if order == 1:
                return base
            w = rho(order - 1, [rks[j] for j in range(order - 1)], b)
            return base - alpha_t * b_h * sum(w[j] * d1s[j] for j in range(order - 1))

        def corrector(order, x_pred):
            m_t = term.data(t, x_pred, p, log_alpha=la_t, log_sigma=ls_t)
            d1_t = m_t - m_s
            w = rho(order, [*(rks[j] for j in range(order - 1)), jnp.ones(())], b)
            corr = sum(w[j] * d1s[j] for j in range(order - 1)) + w[order - 1] * d1_t
            return base - alpha_t * b_h * corr, m_t

        def branch(order):
            def run(_):
                x_pred = predictor(order)
                return jax.lax.cond(last, lambda: (x_pred, jnp.zeros_like(x_pred)),
                                    lambda: corrector(order, x_pred))
            return run

        y1, m_t = jax.lax.switch(k - 1, [branch(o) for o in range(1, self.p + 1)], None)
        lams = jnp.roll(lams, 1).at[0].set(lam_t)
        ms = jnp.roll(ms, 1, axis=0).at[0].set(m_t)
        return y1, None, dict(y0=y0, y1=y1), (i + 1, lams, ms), RESULTS.successful


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
        return (jnp.asarray(0), t_hist, jnp.zeros((max(self.r, 1), *jnp.shape(y0))))

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, t_hist, eps_hist = solver_state
        p = args
        sched = term.schedule
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        h = lam_t - lam_s
        eps_s = term.noise(s, y0, p)
        nodes, weights = np.polynomial.legendre.leggauss(self.quadrature_points)
        lam_q = lam_s + 0.5 * h * (jnp.asarray(nodes) + 1.0)
        t_q = sched.t_of_lambda(lam_q, p)
        w_q = 0.5 * h * jnp.asarray(weights) * jnp.exp(lam_t - lam_q)
        points = jnp.concatenate([jnp.reshape(s, (1,)), t_hist])  # t_i, t_{i-1}, ...
        sigma_t = jnp.exp(ls_t)
        if self.basis == "rho":  # the nodes and the past points in ρ = e^{-λ}
            t_q = jnp.exp(-lam_q)
            points = jnp.exp(-sched.lam(points, p))

        def coefficients(q):
            def run(_):
                cs = []
                for j in range(q + 1):
                    ell = jnp.ones_like(t_q)
                    for kk in range(q + 1):
                        if kk != j:
                            ell = ell * (t_q - points[kk]) / (points[j] - points[kk])
                    cs.append(-sigma_t * jnp.sum(w_q * ell))
                return jnp.stack(cs + [jnp.zeros(())] * (self.r - q))
            return run

        q = jnp.minimum(i, self.r)
        c = jax.lax.switch(q, [coefficients(n) for n in range(self.r + 1)], None)
        eps_all = jnp.concatenate([eps_s[None], eps_hist], axis=0)[:self.r + 1]
        y1 = jnp.exp(la_t - la_s) * y0 + jnp.tensordot(c, eps_all, axes=1)
        t_hist = jnp.roll(t_hist, 1).at[0].set(s)
        eps_hist = jnp.roll(eps_hist, 1, axis=0).at[0].set(eps_s)
        return y1, None, dict(y0=y0, y1=y1), (i + 1, t_hist, eps_hist), RESULTS.successful


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

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        i, eps_hist = solver_state
        la_s, ls_s, lam_s = _coefficients(term, s, args)
        la_t, ls_t, lam_t = _coefficients(term, t, args)
        eps_s = term.noise(s, y0, args)
        w = jnp.asarray(self.WEIGHTS)[jnp.minimum(i, 3)]
        eps_all = jnp.concatenate([eps_s[None], eps_hist], axis=0)
        eps = jnp.tensordot(w, eps_all, axes=1)
        y1 = jnp.exp(la_t - la_s) * y0 - jnp.exp(ls_t) * jnp.expm1(lam_t - lam_s) * eps
        eps_hist = jnp.roll(eps_hist, 1, axis=0).at[0].set(eps_s)
        return y1, None, dict(y0=y0, y1=y1), (i + 1, eps_hist), RESULTS.successful


def make_sampler(name: str, *, steps: int, grid: str, grid_exponent: float | None = None
                 ) -> AbstractDiffusionSampler:
    """The solver for sampler `name` spending `steps` model evaluations."""
    info = SAMPLERS[name]
    orders = plan(name, steps)
    n = len(orders)
    if info.kind == "ddim":
        return DDIM(n_steps=n)
    if info.kind == "singlestep":
        return DPMSolverSinglestep(n_steps=n, orders=orders, grid=grid,
                                   grid_exponent=grid_exponent)
    if info.kind == "pp2m":
        return DPMSolverPP2M(n_steps=n)
    if info.kind == "unipc":
        return UniPC(n_steps=n, p=info.order)
    if info.kind == "ipndm":
        return IPNDM(n_steps=n)
    if info.kind == "deis_rho":
        return DEIS(n_steps=n, r=info.order, basis="rho")
    return DEIS(n_steps=n, r=info.order)
