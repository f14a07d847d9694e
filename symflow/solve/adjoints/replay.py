"""Reverse-mode gradients of an adaptive ODE solve by replaying its accepted steps.

This is what `adjoint="checkpoint"` runs for ODE solves forward in time. It gives
the same gradient as diffrax's `RecursiveCheckpointAdjoint` (the derivative of
the discrete solution, "discretise then optimise") at a fraction of its cost on
small models (benchmarks/README.md, "Cost of one gradient").

Why it is exact. diffrax's step-size controllers stop gradients through the
error estimate and the initial step (`lax.stop_gradient` in `PIDController`), so
the times of the accepted steps t_0 < t_1 < ... < t_n carry no derivative: the
discrete solution is the chain y_{k+1} = Phi(t_k, t_{k+1}, y_k, p), and a saved
value is the step's interpolant at the save time. Rejected steps, the controller
and the save bookkeeping contribute nothing to the gradient, yet diffrax's
checkpointed loop differentiates through all of them (and through a nested
checkpointed loop over Runge-Kutta stages and another over save times).

How. The forward pass is diffrax's own solve, which also records the time of
every accepted step (one scalar per step, up to `max_steps`) and the state at
every `S`-th accepted step (`S` about sqrt(max_steps)): two-level checkpointing
(Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 12), memory
O(max_steps) scalars + O(sqrt(max_steps)) states. The backward pass walks the
segments of `S` steps from last to first: it recomputes the segment's states from
its checkpoint, then runs the adjoint recursion back through it, adding the
cotangents of the save points that fall in each step through the solver's
interpolant. Small models form the Jacobians of all the segment's steps in one
batched `jax.jacrev`, so the sequential recursion is one small matrix-vector
product per step; larger ones take one `jax.vjp` of the step per step. Cost: one
more forward pass plus the equivalent of one vector-Jacobian product per
accepted step.

Limits: first-order reverse mode only (the backward pass is a `while_loop`; use
`adjoint="direct"` for higher derivatives, `forward` for forward mode), solves
forward in time, no dense output (`Model.simulate` falls back to diffrax's
`RecursiveCheckpointAdjoint` otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from .._compat import result_code, use_stepsize_tol

__all__ = ["replay_segment", "make_replay_solve", "recorded_custom_vjp", "step_functions",
           "record_steps",
           "ends_saveat", "ends_output",
           "DENSE_JACOBIAN_LIMIT", "with_controller_tols"]


# The backward pass forms each step's Jacobian (states x (states + parameters))
# when it has at most this many entries; larger models take one vector-Jacobian
# product per step instead.
DENSE_JACOBIAN_LIMIT = 4096


def replay_segment(max_steps: int) -> int:
    """Steps between stored states: about sqrt(max_steps), which balances the
    checkpoints kept by the forward pass against the states one segment holds
    while the backward pass walks it."""
    return max(1, math.isqrt(max_steps - 1) + 1) if max_steps > 1 else 1


def _no_value(t, y, args):
    return jnp.zeros((0,), dtype=y.dtype)


def with_controller_tols(solver, controller):
    """What `diffeqsolve` does to an implicit solver whose root finder takes the
    step-size controller's tolerances (`diffrax.with_stepsize_controller_tols`):
    needed because `solver.step` is called directly when replaying."""
    if not isinstance(solver, diffrax.AbstractImplicitSolver):
        return solver

    names = tuple(n for n in ("rtol", "atol", "norm")
                  if getattr(solver.root_finder, n, None) is use_stepsize_tol)
    if not names:
        return solver
    return eqx.tree_at(lambda s: tuple(getattr(s.root_finder, n) for n in names), solver,
                       tuple(getattr(controller, n) for n in names))


def _explicit_rk_step(tableau: diffrax.ButcherTableau, vector_field: Callable) -> Callable:
    """One step of an explicit Runge-Kutta method from its Butcher tableau, with the
    stages unrolled: the same arithmetic as diffrax's `AbstractERK.step`, whose
    stage loop is a checkpointed `while_loop` that costs far more than the stages
    themselves once differentiated on a small model. Returns `(y1, dense_info)` in
    diffrax's format (`y0`, `y1` and the stage increments `k`)."""
    c = [0.0, *(float(x) for x in tableau.c)]
    a_lower = [[float(x) for x in row] for row in tableau.a_lower]
    b_sol = [float(x) for x in tableau.b_sol]

    def step(t0, t1, y0, args):
        h = t1 - t0
        ks = [h * vector_field(t0, y0, args)]
        yi = y0
        for ci, row in zip(c[1:], a_lower):
            yi = y0 + sum(a * k for a, k in zip(row, ks) if a != 0.0)
            ks.append(h * vector_field(t0 + ci * h, yi, args))
        if tableau.ssal:
            y1 = yi
        else:
            y1 = y0 + sum(b * k for b, k in zip(b_sol, ks) if b != 0.0)
        return y1, dict(y0=y0, y1=y1, k=jnp.stack(ks))

    return step


def ends_saveat(*, dense: bool = False) -> diffrax.SaveAt:
    """What a solve saved at its two ends only (`ts = [t0, t1]`) asks diffrax for:
    the start and where the solve stopped, without interpolating at save times.
    A `SubSaveAt(ts=...)` costs a loop over the save times in every step (268 of
    the 2,322 operations of the optimized 10^4-point heat solve,
    benchmarks/README.md); the state at `t1` is the last step's end either way."""
    return diffrax.SaveAt(t0=True, t1=True, dense=dense)


def ends_output(ts_saved: jax.Array, ys_saved: jax.Array, t1: float
                ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`(ys, t_reached, y_last)` from an `ends_saveat` solve: `ys` as if saved at
    `[t0, t1]`, inf at `t1` when the solve stopped before it (as diffrax leaves
    save times it did not reach)."""
    t_reached, y_last = ts_saved[1], ys_saved[1]
    end = jnp.where(t_reached == t1, y_last, jnp.inf)
    return jnp.stack([ys_saved[0], end]), t_reached, y_last


def step_ends(ends: jax.Array, controller: diffrax.AbstractStepSizeController) -> jax.Array:
    """Where the recorded steps really ended (element-wise). A `ClipStepSizeController`
    with `jump_ts` ends a step just before a jump time and starts the next just after
    it; diffrax records the step under the time the next one starts (`nextafter` the
    jump: `_bump_next_t0`), so a replayed step ends `prevbefore` the jump instead: the
    vector field differs on the two sides of a jump (an input held between knots,
    solve/inputs.py). Without jump times, `ends` themselves."""
    jump_ts = getattr(controller, "jump_ts", None)
    if jump_ts is None:
        return ends
    jumps = jnp.asarray(jump_ts, dtype=ends.dtype)
    before = jnp.nextafter(ends, -jnp.inf)  # the jump, where `ends` is just after one
    i = jnp.clip(jnp.searchsorted(jumps, before), 0, jumps.shape[0] - 1)
    return jnp.where(jumps[i] == before, jnp.nextafter(before, -jnp.inf), ends)


def record_steps(terms: diffrax.AbstractTerm, solver: diffrax.AbstractSolver,
                 controller: diffrax.AbstractStepSizeController, *, t0: float, t1: float,
                 dt0: float | None, max_steps: int, segment: int,
                 progress_meter: diffrax.AbstractProgressMeter | None,
                 ends_only: bool = False) -> Callable:
    """`run(params, y0, ts, record) -> ((ys, t_reached, y_last, result), recording)`:
    diffrax's solve, saving at `ts` and at the end; with `record`, also the time of
    every accepted step (`ends`, padded with inf to `max_steps`), their number,
    and the state after every `segment`-th accepted step (`states`).
    `ends_only`: `ts` is `[t0, t1]`, saved without a loop over save times
    (`ends_saveat`)."""

    def run(params, y0, ts, record: bool):
        subs = ([diffrax.SubSaveAt(t0=True, t1=True)] if ends_only
                else [diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True)])
        if record:
            subs += [diffrax.SubSaveAt(steps=1, fn=_no_value), diffrax.SubSaveAt(steps=segment)]
        sol = diffrax.diffeqsolve(
            terms, solver, t0=t0, t1=t1, dt0=dt0, y0=y0, args=params,
            saveat=diffrax.SaveAt(subs=subs), stepsize_controller=controller,
            max_steps=max_steps, throw=False, progress_meter=progress_meter)
        if ends_only:
            out = (*ends_output(sol.ts[0], sol.ys[0], t1), result_code(sol.result))
        else:
            out = (sol.ys[0], sol.ts[1][0], sol.ys[1][0], result_code(sol.result))
        if not record:
            return out, None
        r = 1 if ends_only else 2  # the recordings follow the saves
        return out, (sol.ts[r], sol.stats["num_accepted_steps"], sol.ys[r + 1])

    return run


def step_functions(terms: diffrax.AbstractTerm, solver: diffrax.AbstractSolver,
                   controller: diffrax.AbstractStepSizeController
                   ) -> tuple[Callable, Callable]:
    """`step(tk, tk1, yk, params) -> (y_{k+1}, dense)`, one accepted step of `solver`
    recomputed exactly as the forward solve took it, and `interpolate(tk, tk1,
    dense, t)`, the solver's interpolant over that step."""
    step_solver = with_controller_tols(solver, controller)
    tableau = getattr(solver, "tableau", None)
    if (isinstance(solver, diffrax.AbstractERK) and isinstance(terms, diffrax.ODETerm)
            and isinstance(tableau, diffrax.ButcherTableau)):
        step = _explicit_rk_step(tableau, terms.vector_field)
    else:
        def step(tk, tk1, yk, params):
            state = step_solver.init(terms, tk, tk1, yk, params)
            y1, _, dense, _, _ = step_solver.step(terms, tk, tk1, yk, params, state, False)
            return y1, dense

    def interpolate(tk, tk1, dense, t):
        return step_solver.interpolation_cls(t0=tk, t1=tk1, **dense).evaluate(t)

    return step, interpolate


def recorded_custom_vjp(run: Callable, backward: Callable) -> Callable:
    """The custom-VJP skeleton of the replay and interpolating adjoints: the primal
    runs `run` without recording; the forward pass records the accepted steps
    (`record_steps`) and keeps them, with the inputs, as the residuals
    `(params, y0, ts, ends, accepted, states)` that `backward` reads."""

    @jax.custom_vjp
    def solve(params, y0, ts):
        return run(params, y0, ts, record=False)[0]

    def solve_fwd(params, y0, ts):
        out, (ends, accepted, states) = run(params, y0, ts, record=True)
        return out, (params, y0, ts, ends, accepted, states)

    solve.defvjp(solve_fwd, backward)
    return solve


def make_replay_solve(terms: diffrax.AbstractTerm, solver: diffrax.AbstractSolver,
                      controller: diffrax.AbstractStepSizeController, *, t0: float, t1: float,
                      dt0: float | None, max_steps: int,
                      progress_meter: diffrax.AbstractProgressMeter | None = None,
                      ends_only: bool = False) -> Callable:
    """`(params, y0, ts) -> (ys, t_reached, y_last, result)`, differentiable in
    `params` and `y0` by replaying the accepted steps (module docstring).

    `ys` holds the solution at `ts` (increasing, inside [t0, t1]), `t_reached`
    the time the solve reached, `y_last` the state there, `result` diffrax's
    result code. `ends_only`: `ts` is `[t0, t1]` (`record_steps`).

    Long because the forward pass, the backward pass over the segments and the
    step replay of one `jax.custom_vjp` share their closure (the recorded steps).
    """
    if not t1 > t0:
        raise ValueError("the replay adjoint integrates forward in time")
    segment = replay_segment(max_steps)
    progress_meter = progress_meter if progress_meter is not None else diffrax.NoProgressMeter()

    run = record_steps(terms, solver, controller, t0=t0, t1=t1, dt0=dt0,
                       max_steps=max_steps, segment=segment, progress_meter=progress_meter,
                       ends_only=ends_only)

    step, interpolate = step_functions(terms, solver, controller)

    def solve_bwd(residuals, cotangents):
        params, y0 = residuals[0], residuals[1]
        n_params = ravel_pytree(params)[0].shape[0]
        if y0.ndim == 1 and y0.shape[0] * (y0.shape[0] + n_params) <= DENSE_JACOBIAN_LIMIT:
            return solve_bwd_dense(residuals, cotangents)
        return solve_bwd_loop(residuals, cotangents)

    def solve_bwd_dense(residuals, cotangents):
        """Small models: the Jacobians of all steps of a segment at once (one batched
        `jax.jacrev`), then the adjoint recursion is a matrix-vector product per step.
        On a few states a `while_loop` iteration costs far more than its arithmetic,
        so this moves nearly all the work out of the sequential loop."""
        params, y0, ts, ends, accepted, states = residuals
        ys_bar, _, y_last_bar, _ = cotangents
        p_flat, unravel = ravel_pytree(params)
        if p_flat.size == 0:
            # `ravel_pytree` of a model with no parameters gives float32[0], which
            # would not match the float64 accumulator the loop carries
            p_flat = p_flat.astype(y0.dtype)
        accepted = accepted.astype(jnp.int32)
        last = ends.shape[0] - 1
        step_of_save = jnp.minimum(jnp.searchsorted(ends, ts, side="left").astype(jnp.int32),
                                   accepted - 1)

        def flat_step(tk, tk1, y, pf):
            return step(tk, tk1, y, unravel(pf))

        def saved_value(tk, tk1, y, pf, t):
            _, dense = flat_step(tk, tk1, y, pf)
            return interpolate(tk, tk1, dense, t)

        def segment_body(carry):
            seg, lam, p_bar = carry
            first = seg * segment
            count = jnp.minimum(first + segment, accepted) - first
            valid = jnp.arange(segment, dtype=jnp.int32) < count
            index = first + jnp.arange(segment, dtype=jnp.int32)
            tk = jnp.where(index > 0, ends[jnp.clip(index - 1, 0, last)], t0)
            tk1 = step_ends(ends[jnp.minimum(index, last)], controller)
            # rows past the end of the solve get a harmless unit step, then are masked
            tk = jnp.where(valid, tk, t0)
            tk1 = jnp.where(valid, tk1, t0 + 1.0)
            y_first = jnp.where(seg == 0, y0, states[jnp.maximum(seg - 1, 0)])

            def recompute(i, ys):  # ys[i] = y_{first+i}
                y1, _ = flat_step(tk[i], tk1[i], ys[i], p_flat)
                return ys.at[i + 1].set(y1)

            ys = jnp.zeros((segment, *y0.shape), y0.dtype).at[0].set(y_first)
            ys = lax.fori_loop(0, count - 1, recompute, ys)
            jac_y, jac_p = jax.vmap(
                jax.jacrev(lambda a, b, y, pf: flat_step(a, b, y, pf)[0], argnums=(2, 3)),
                in_axes=(0, 0, 0, None))(tk, tk1, ys, p_flat)
            # cotangents of the save points in this segment, pulled back to the state
            # at the start of their step and to the parameters
            local = step_of_save - first
            in_segment = (local >= 0) & (local < count)
            local = jnp.clip(local, 0, segment - 1)

            def pull(i, t, bar):
                _, vjp = jax.vjp(lambda y, pf: saved_value(tk[i], tk1[i], y, pf, t),
                                 ys[i], p_flat)
                return vjp(bar)

            y_pull, p_pull = jax.vmap(pull)(local, ts, jnp.where(in_segment[:, None],
                                                                  ys_bar, 0.0))
            inject = jax.ops.segment_sum(y_pull, local, num_segments=segment)
            p_bar = p_bar + jnp.sum(p_pull, axis=0)

            def back(j, c):
                lam, p_bar = c
                i = count - 1 - j
                p_bar = p_bar + lam @ jac_p[i]
                lam = lam @ jac_y[i] + inject[i]
                return lam, p_bar

            lam, p_bar = lax.fori_loop(0, count, back, (lam, p_bar))
            return seg - 1, lam, p_bar

        segments = (accepted + segment - 1) // segment
        _, y0_bar, p_bar = lax.while_loop(
            lambda c: c[0] >= 0, segment_body,
            (segments - 1, y_last_bar, jnp.zeros_like(p_flat)))
        return unravel(p_bar), y0_bar, jnp.zeros_like(ts)

    def solve_bwd_loop(residuals, cotangents):
        params, y0, ts, ends, accepted, states = residuals
        ys_bar, _, y_last_bar, _ = cotangents
        accepted = accepted.astype(jnp.int32)
        starts = jnp.concatenate([jnp.asarray([t0], dtype=ends.dtype), ends[:-1]])
        stops = step_ends(ends, controller)
        # The step each save point falls in: diffrax saves t in the step (t_k, t_{k+1}]
        # (t0 in the first step).
        step_of_save = jnp.minimum(jnp.searchsorted(ends, ts, side="left").astype(jnp.int32),
                                   accepted - 1)
        zero_params = jax.tree.map(jnp.zeros_like, params)

        def step_vjp(k, yk, lam, save, params_bar):
            (_, dense), pullback = jax.vjp(lambda y, p: step(starts[k], stops[k], y, p),
                                           yk, params)

            def has_save(carry):
                j, _ = carry
                return (j >= 0) & (step_of_save[jnp.maximum(j, 0)] == k)

            def add_save(carry):
                j, dense_bar = carry
                _, pull = jax.vjp(lambda d: interpolate(starts[k], stops[k], d, ts[j]), dense)
                (bar,) = pull(ys_bar[j])
                return j - 1, jax.tree.map(jnp.add, dense_bar, bar)

            save, dense_bar = lax.while_loop(has_save, add_save,
                                             (save, jax.tree.map(jnp.zeros_like, dense)))
            y_bar, p_bar = pullback((lam, dense_bar))
            return y_bar, save, jax.tree.map(jnp.add, params_bar, p_bar)

        def segment_body(carry):
            seg, lam, save, params_bar = carry
            first = seg * segment
            stop = jnp.minimum(first + segment, accepted)
            y_first = jnp.where(seg == 0, y0, states[jnp.maximum(seg - 1, 0)])

            def recompute(i, ys):  # ys[i] = y_{first+i}
                y1, _ = step(starts[first + i], stops[first + i], ys[i], params)
                return ys.at[i + 1].set(y1)

            ys = jnp.zeros((segment, *y0.shape), y0.dtype).at[0].set(y_first)
            ys = lax.fori_loop(0, stop - first - 1, recompute, ys)

            def back(carry):
                k, lam, save, params_bar = carry
                lam, save, params_bar = step_vjp(k, ys[k - first], lam, save, params_bar)
                return k - 1, lam, save, params_bar

            _, lam, save, params_bar = lax.while_loop(
                lambda c: c[0] >= first, back, (stop - 1, lam, save, params_bar))
            return seg - 1, lam, save, params_bar

        segments = (accepted + segment - 1) // segment
        _, y0_bar, _, params_bar = lax.while_loop(
            lambda c: c[0] >= 0, segment_body,
            (segments - 1, y_last_bar, jnp.asarray(ts.shape[0] - 1, jnp.int32), zero_params))
        return params_bar, y0_bar, jnp.zeros_like(ts)

    return recorded_custom_vjp(run, solve_bwd)
