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

from .schedule import DiffusionTerm, grid_coordinate, grid_time, unwrap_term


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

    Each method is written once, in three parts: `_coef`, every coefficient of
    a step that does not depend on the batch (times, exponentials of λ, weights),
    in array operations that broadcast over a leading axis of steps; `_variant`,
    what of step k is fixed when the program is built (its order, whether it is
    the last); and `_advance`, the batch update of one variant from those
    coefficients and the model evaluations. diffrax's `step` calls them for one
    step. `sample` (the two ends of a fixed grid, `ModelSampling.ends_fn`)
    computes the coefficients of every step at once (`coefficients`, a few
    vector operations instead of a dozen scalar kernels per step) and then runs
    the updates (`run`): unrolled as a Python loop for up to `unroll_steps`
    steps; beyond that, each run of at least `scan_run` steps of one variant as
    a `jax.lax.scan` over its rows of the table, with the step rematerialised in
    the backward pass (`jax.checkpoint`), so that compile time and the memory
    of a gradient stay linear in the steps (unrolled, 80 DDIM steps took 17 s
    to compile and their gradient 60 s).

    One fused kernel for a whole solve is slow: XLA fused ten unrolled DDIM
    steps on 10^4 samples into one kernel of 0.58 ms, where the scanned steps
    (one kernel each) took 0.34 ms (the unrolled twin 0.65 ms). So DDIM and
    the singlestep DPM-Solvers scan from two steps on, and DEIS and iPNDM
    (`run` overridden) scan every step with their past ε̂ in a ring buffer
    (`_ring_scan`; a history in the carry would be copied every step). UniPC
    and DPM-Solver++(2M), which XLA splits into kernels per step anyway,
    unroll up to 16 steps.
    """

    unroll_steps: ClassVar[int] = 16
    scan_run: ClassVar[int] = 4

    n_steps: int = eqx.field(static=True, default=1)
    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = LocalLinearInterpolation

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def _setup(self, terms, t0, t1):
        term, direction = unwrap_term(terms)
        return term, t0 * direction, t1 * direction

    def table(self, term: DiffusionTerm, outer, args):
        """The coefficients of every step on the grid `outer` (the `n_steps + 1` step
        times): a pytree of arrays with the steps along the first axis."""
        return self._coef(term, outer[:-1], outer[1:], args, *self._past(outer))

    def _past(self, outer) -> tuple:
        """The grid points before each step that `_coef` needs (none by default)."""
        return ()

    def _start(self, term, outer, args):
        """The batch-free coefficients `_history` needs (none by default)."""
        return None

    def _history(self, start, term, y0, args):
        """The history `_advance` starts from (None by default)."""
        return None

    def _variant(self, k: int):
        """What `_advance` needs to know of step `k` when the program is built
        (steps of equal variants run the same code); none by default."""
        return None

    def coefficients(self, term: DiffusionTerm, outer, args):
        """Everything of a solve over the grid `outer` that does not depend on the
        batch: `(table, start)`, the steps' coefficients and those of the start."""
        return self.table(term, outer, args), self._start(term, outer, args)

    def sample(self, term: DiffusionTerm, outer, y0, args):
        """The final state stepped over the fixed grid `outer` (see the class)."""
        return self.run(self.coefficients(term, outer, args), term, y0, args)

    def run(self, coefficients, term: DiffusionTerm, y0, args):
        """The final state from `y0` by the steps of `coefficients` (the result
        of `coefficients`, which `ModelSampling` computes in a program apart)."""
        table, start = coefficients
        history = self._history(start, term, y0, args)
        n = self.n_steps
        y = y0
        for first, stop, variant in _runs([self._variant(k) for k in range(n)]):
            rows = jax.tree_util.tree_map(lambda a: a[first:stop], table)
            if n <= self.unroll_steps or stop - first < self.scan_run:
                for k in range(stop - first):
                    c = jax.tree_util.tree_map(lambda a: a[k], rows)
                    y, history = self._advance(c, term, variant, y, args, history)
                continue

            @jax.checkpoint
            def one(carry, c, variant=variant):
                y, history = carry
                return self._advance(c, term, variant, y, args, history), None

            (y, history), _ = jax.lax.scan(one, (y, history), rows)
        return y


def _ring_scan(term: DiffusionTerm, y0, args, g, a, w):
    """`y_{k+1} = a_k y_k + Σ_j w_kj ε̂_{k-j}` for every step k, as one scan whose
    past ε̂ sit in a ring buffer (written in place, slot k mod R): one kernel per
    step and no copies of the history. `w[k, j]` is zero where step k has no ε̂
    j steps back (warm-up), so every step runs the same code. (Unrolled, XLA
    fused a whole DEIS or iPNDM solve into one kernel, 1.5-2.5x slower per
    sample than one kernel per step: 0.65 against 0.35 ms for DEIS-3 at 10^4
    samples, NFE 10.)"""
    depth = w.shape[-1]

    @jax.checkpoint
    def one(carry, row):
        k, y, ring = carry
        g_k, a_k, w_k = row
        eps = term.noise_from(g_k, y, args)
        ring = jax.lax.dynamic_update_index_in_dim(ring, eps, k % depth, 0)
        y = a_k * y + sum(w_k[j] * jax.lax.dynamic_index_in_dim(
            ring, (k - j) % depth, 0, keepdims=False) for j in range(depth))
        return (k + 1, y, ring), None

    carry = (jnp.asarray(0), y0, jnp.zeros((depth, *jnp.shape(y0)), dtype=y0.dtype))
    (_, y, _), _ = jax.lax.scan(one, carry, (g, a, w))
    return y


def _runs(variants: list) -> list[tuple[int, int, object]]:
    """`(start, stop, variant)` for each run of equal consecutive `variants`."""
    runs: list[tuple[int, int, object]] = []
    for k, v in enumerate(variants):
        if runs and runs[-1][2] == v:
            runs[-1] = (runs[-1][0], k + 1, v)
        else:
            runs.append((k, k + 1, v))
    return runs


def _coefficients(term: DiffusionTerm, t, p):
    sched = term.schedule
    log_alpha = sched.log_alpha(t, p)
    log_sigma = sched.log_sigma(t, p)
    return log_alpha, log_sigma, log_alpha - log_sigma


def _placeholder_past(outer, n: int):
    """`n` points before `outer[0]`, one first step apart: never used by a step's
    formulas, only kept distinct so that every difference quotient is finite."""
    return outer[0] - (outer[1] - outer[0]) * jnp.arange(n, 0, -1, dtype=float)


def _past_points(values, n: int, ext):
    """`(steps, n)`: for step k the values at points k-1, ..., k-n of `values`
    (`ext` = `n` placeholders then `values`)."""
    steps = values.shape[0] - 1
    index = n + np.arange(steps)[:, None] - np.arange(1, n + 1)[None, :]
    return ext[index]


class DDIM(AbstractDiffusionSampler):
    """DDIM: exponential Euler for the probability-flow ODE (first order)."""

    unroll_steps: ClassVar[int] = 0  # no history: scanned (see the base class)
    scan_run: ClassVar[int] = 2

    def order(self, terms):
        return 1

    def init(self, terms, t0, t1, y0, args):
        return None

    def _coef(self, term, s, t, p):
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        return dict(g=term.noise_coefficients(s, p), a=jnp.exp(la_t - la_s),
                    b=jnp.exp(ls_t) * jnp.expm1(lam_t - lam_s))

    def _advance(self, c, term, variant, y0, args, history):
        return c["a"] * y0 - c["b"] * term.noise_from(c["g"], y0, args), None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        term, s, t = self._setup(terms, t0, t1)
        y1, _ = self._advance(self._coef(term, s, t, args), term, None, y0, args, None)
        return y1, None, dict(y0=y0, y1=y1), None, RESULTS.successful


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
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
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
            la_r, ls_r, lam_r = _coefficients(term, tr, p)
            r = (lam_r - lam_s) / h
            return tr, jnp.exp(la_r - la_s), jnp.exp(ls_r), r

        used = set(self.orders)
        if 2 in used:
            s1, a1, sig1, r1 = inner(0.5)
            c.update(g21=term.noise_coefficients(s1, p), a21=a1, b21=sig1 * jnp.expm1(r1 * h), w2=sigma_t / (2 * r1) * em1)
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
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        h = lam_t - lam_s
        r = (lam_s - lam_prev) / h
        return dict(g=term.noise_coefficients(s, p), sig_s=jnp.exp(ls_s), inv_alpha_s=jnp.exp(-la_s), lam_s=lam_s,
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


def _phi(k: int, z):
    """φ_k(z) = Σ_{n≥0} z^n/(n+k)!, by φ_1 = expm1(z)/z and φ_{k+1} = (φ_k - 1/k!)/z."""
    out = jnp.expm1(z) / z
    for j in range(1, k):
        out = (out - 1.0 / math.factorial(j)) / z
    return out


def _solve_small(a, b):
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
    x = [None] * n
    for i in reversed(range(n)):
        x[i] = (v[i] - sum((m[i][j] * x[j] for j in range(i + 1, n)), 0.0)) / m[i][i]
    return jnp.stack(x, axis=-1)


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
        # the past data predictions as a tuple, newest first: stacking them in one
        # array would copy the whole batch on every step (concatenate, roll)
        ms = (m0, *(jnp.zeros_like(m0) for _ in range(self.p - 1)))
        return (jnp.asarray(0), lams, ms)

    def _step_order(self, i):
        k = jnp.minimum(i + 1, self.p)
        if self.lower_order_final and self.n_steps < 10:
            k = jnp.minimum(k, self.n_steps - i)
        return k

    def _coef(self, term, s, t, p, lam_past):
        """`lam_past[..., j-1]` is λ at the point j steps back (j = 1..p-1)."""
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        h = lam_t - lam_s
        hh = -h
        b_h = jnp.expm1(hh)
        alpha_t = jnp.exp(la_t)
        b = jnp.stack([math.factorial(k) * hh * _phi(k + 1, hh) / b_h
                       for k in range(1, self.p + 1)], axis=-1)
        # r_j of the past points (λ_{s-j} - λ_s)/h, j = 1..p-1
        rks = (lam_past - lam_s[..., None]) / h[..., None]

        def rho(r_values):
            """ρ = R⁻¹ b with R_kj = r_j^(k-1), for every step at once."""
            n = r_values.shape[-1]
            mat = r_values[..., None, :] ** jnp.arange(n, dtype=float)[:, None]
            return _solve_small(mat, b[..., :n])

        ones = jnp.ones_like(lam_s)[..., None]
        c = dict(g=term.noise_coefficients(t, p), lam_t=lam_t, sig_t=jnp.exp(ls_t), inv_alpha_t=jnp.exp(-la_t),
                 a=jnp.exp(ls_t - ls_s), ab=alpha_t * b_h, inv_r=1 / rks)
        for order in range(1, self.p + 1):
            if order > 1:
                c[f"pred{order}"] = rho(rks[..., :order - 1])
            c[f"corr{order}"] = rho(jnp.concatenate([rks[..., :order - 1], ones], axis=-1))
        return c

    def table(self, term, outer, args):
        n = max(self.p - 1, 1)
        lam = term.schedule.lam(outer, args)
        ext = jnp.concatenate([_placeholder_past(lam, n), lam])
        lam_past = _past_points(lam, n, ext)[:, :self.p - 1]
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
            pred = base - c["ab"] * sum(w[..., j] * d1s[j] for j in range(order - 1))
        if last is True:
            return pred, jnp.zeros_like(pred)

        def corrector():
            eps = term.noise_from(c["g"], pred, args)
            m_t = (pred - c["sig_t"] * eps) * c["inv_alpha_t"]
            w = c[f"corr{order}"]
            corr = sum(w[..., j] * d1s[j] for j in range(order - 1)) \
                + w[..., order - 1] * (m_t - m_s)
            return base - c["ab"] * corr, m_t

        if last is False:
            return corrector()
        return jax.lax.cond(last, lambda: (pred, jnp.zeros_like(pred)), corrector)

    def _start(self, term, outer, args):
        la0, ls0, _ = _coefficients(term, outer[0], args)
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
        if self.lower_order_final and self.n_steps < 10:
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
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
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
        return (_past_points(outer, n, jnp.concatenate([_placeholder_past(outer, n), outer])),)

    def run(self, coefficients, term, y0, args):
        """All steps as one scan with the past ε̂ in a ring buffer (`_ring_scan`);
        step k takes the weights of its order, min(k, r) + 1."""
        table, _ = coefficients
        k = np.arange(table["a"].shape[0])
        return _ring_scan(term, y0, args, table["g"], table["a"],
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
        la_s, ls_s, lam_s = _coefficients(term, s, p)
        la_t, ls_t, lam_t = _coefficients(term, t, p)
        return dict(g=term.noise_coefficients(s, p), a=jnp.exp(la_t - la_s),
                    b=jnp.exp(ls_t) * jnp.expm1(lam_t - lam_s))

    def run(self, coefficients, term, y0, args):
        """All steps as one scan with the past ε̂ in a ring buffer (`_ring_scan`)."""
        table, _ = coefficients
        n = table["a"].shape[0]
        weights = np.asarray(self.WEIGHTS)[np.minimum(np.arange(n), 3)]
        return _ring_scan(term, y0, args, table["g"], table["a"],
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
