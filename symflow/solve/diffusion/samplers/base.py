"""The interface every diffusion sampler fills in, the catalogue of samplers, and the
step machinery they share (runs of like steps, scanned ring buffers of past ε̂)."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from diffrax import LocalLinearInterpolation

from ..schedule import DiffusionTerm, unwrap_term


@dataclasses.dataclass(frozen=True)
class SamplerInfo:
    """What the language knows about a sampler: its nominal order and the fewest
    model evaluations (`steps`) that reach that order once."""

    kind: str  # ddim | singlestep | pp2m | unipc | unipc_exact | deis | deis_rho | ipndm
    order: int
    min_steps: int
    description: str


SAMPLERS: dict[str, SamplerInfo] = {
    "ddim": SamplerInfo("ddim", 1, 1, "DDIM = DPM-Solver-1 (exponential Euler)"),
    "dpm_solver_2": SamplerInfo("singlestep", 2, 2, "DPM-Solver-2, singlestep"),
    "dpm_solver_3": SamplerInfo("singlestep", 3, 3, "DPM-Solver-3, singlestep"),
    "dpm_solver_pp_2m": SamplerInfo("pp2m", 2, 2, "DPM-Solver++(2M), multistep"),
    "unipc_2": SamplerInfo("unipc", 2, 2, "UniPC-2 as published: UniP-2 predictor + UniC "
                           "corrector, B(h) = -h, rho = 1/2, final orders lowered"),
    "unipc_2_exact": SamplerInfo("unipc_exact", 2, 2, "UniPC-2, every rho solved, "
                                 "B(h) = e^-h - 1"),
    "unipc_3": SamplerInfo("unipc_exact", 3, 3, "UniPC-3: UniP-3 predictor + UniC corrector, "
                           "every rho solved, B(h) = e^-h - 1"),
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
    (`ring_scan`; a history in the carry would be copied every step). UniPC
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

    def table(self, term: DiffusionTerm, outer: jax.Array, args: Mapping[str, Any]) -> Any:
        """The coefficients of every step on the grid `outer` (the `n_steps + 1` step
        times): a pytree of arrays with the steps along the first axis."""
        return self._coef(term, outer[:-1], outer[1:], args, *self._past(outer))

    @abc.abstractmethod
    def _coef(self, term: DiffusionTerm, s, t, p, *past):
        """The coefficients of the steps from `s` to `t` (arrays, or a leading axis
        of steps), given the grid points before each step from `_past`."""

    def _advance(self, c, term: DiffusionTerm, variant, y0, args, history):
        """One step of the batch from the coefficients `c` of its row of the table:
        `(y1, history)`. Samplers that override `run` (DEIS, iPNDM) need none."""
        raise NotImplementedError(f"{type(self).__name__} steps in its own `run`")

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

    def coefficients(self, term: DiffusionTerm, outer: jax.Array, args: Mapping[str, Any]
                     ) -> tuple[Any, Any]:
        """Everything of a solve over the grid `outer` that does not depend on the
        batch: `(table, start)`, the steps' coefficients and those of the start."""
        return self.table(term, outer, args), self._start(term, outer, args)

    def sample(self, term: DiffusionTerm, outer: jax.Array, y0: jax.Array, args: Mapping[str, Any]
               ) -> jax.Array:
        """The final state stepped over the fixed grid `outer` (see the class)."""
        return self.run(self.coefficients(term, outer, args), term, y0, args)

    def run(self, coefficients: tuple[Any, Any], term: DiffusionTerm, y0: jax.Array,
            args: Mapping[str, Any]) -> jax.Array:
        """The final state from `y0` by the steps of `coefficients` (the result
        of `coefficients`, which `ModelSampling` computes in a program apart)."""
        table, start = coefficients
        history = self._history(start, term, y0, args)
        n = self.n_steps
        y = y0
        for first, stop, variant in step_runs([self._variant(k) for k in range(n)]):
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


def ring_scan(term: DiffusionTerm, y0: jax.Array, args: Mapping[str, Any], g: jax.Array,
              a: jax.Array, w: jax.Array) -> jax.Array:
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


def step_runs(variants: list) -> list[tuple[int, int, object]]:
    """`(start, stop, variant)` for each run of equal consecutive `variants`."""
    runs: list[tuple[int, int, object]] = []
    for k, v in enumerate(variants):
        if runs and runs[-1][2] == v:
            runs[-1] = (runs[-1][0], k + 1, v)
        else:
            runs.append((k, k + 1, v))
    return runs


def step_coefficients(term: DiffusionTerm, t: jax.Array, p: Mapping[str, Any]
                      ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`(log α, log σ, λ)` at the times `t`."""
    sched = term.schedule
    log_alpha = sched.log_alpha(t, p)
    log_sigma = sched.log_sigma(t, p)
    return log_alpha, log_sigma, log_alpha - log_sigma


def placeholder_past(outer: jax.Array, n: int) -> jax.Array:
    """`n` points before `outer[0]`, one first step apart: never used by a step's
    formulas, only kept distinct so that every difference quotient is finite."""
    return outer[0] - (outer[1] - outer[0]) * jnp.arange(n, 0, -1, dtype=float)


def past_points(values: jax.Array, n: int, ext: jax.Array) -> jax.Array:
    """`(steps, n)`: for step k the values at points k-1, ..., k-n of `values`
    (`ext` = `n` placeholders then `values`)."""
    steps = values.shape[0] - 1
    index = n + np.arange(steps)[:, None] - np.arange(1, n + 1)[None, :]
    return ext[index]
