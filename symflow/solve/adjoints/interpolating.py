"""The continuous adjoint with the state read from the forward solution's interpolant.

This is what `adjoint="backsolve"` runs for an implicit (stiff) solver, and what
`adjoint="interpolating"` runs for any solver: the "optimise then discretise"
gradient of DiffEqSensitivity.jl's `InterpolatingAdjoint(checkpointing=true)`.

Why not diffrax's `BacksolveAdjoint` there. `BacksolveAdjoint` stores nothing:
it integrates the state y again, backwards from t1 to t0, beside the adjoint.
Backwards in time a decaying mode exp(-lambda t) becomes a growing one, so a
rounding error in y is amplified by exp(lambda |t1 - t0|): on Robertson's
kinetics (lambda ~ 1e4) the recomputed state and the gradient are wrong
(d/dk1 = 15.3 against -0.326), whatever the solver and tolerances. The adjoint
itself is stable backwards: a' = -(df/dy)^T a has, in reversed time, the
eigenvalues of df/dy, decaying where the forward problem decays. Only the state
must not be integrated backwards.

How. The forward pass is diffrax's solve, which also records the time of every
accepted step and the state after every S-th one (S about sqrt(max_steps); the
recording of `adjoints/replay.py`). The backward pass walks these segments of S steps
from the last. For each it recomputes the segment's steps from its checkpoint
(the same arithmetic as the forward solve, so the same states) and keeps their
dense output: the solver's interpolant over each step (for Kvaerno5, a Hermite
cubic through the step's ends and slopes). Along it, it integrates the
augmented state (a, g) backwards across the segment with the model's own solver
(implicit, Newton root finder) and step-size control,

    da/dt = -(df/dy)^T a,   dg/dt = -(df/dp)^T a,

both from one vector-Jacobian product of f at (t, y(t), p), y(t) taken from
the interpolant. The backward solve stops at every save time t_i, where the
cotangent of the saved value y(t_i) is added to a (the jump of the adjoint).
At t0, a is the gradient with respect to the initial state (the caller's chain
rule carries it on to parameters that initial values are expressions of) and g
the gradient with respect to the parameters.

Accuracy: the gradient of the exact solution, to within the backward solve's
tolerances (the forward's `rtol`/`atol`) and the interpolant's error (third
order for Kvaerno5; on Robertson at rtol 1e-10 it is within 2e-6 of a converged
finite difference). It is not the derivative of the discrete solution (that is
`checkpoint`/`direct`); the two agree to the solve's accuracy, so use tight
tolerances.

Memory: `max_steps` step times, about sqrt(max_steps) states, and the dense
output of one segment (S steps, a few states each); the backward solve itself
is O(1). Its implicit stages form the Jacobian of the augmented field,
(states + parameters) squared, densely. Cost: one more forward pass (the
recomputation) plus the backward solve, which takes about as many steps as the
forward one (plus a restart at each save time and segment end).

If a backward solve fails (too many steps, a NaN), the gradient is NaN rather
than silently wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from .replay import (
    record_steps,
    recorded_custom_vjp,
    replay_segment,
    step_ends,
    step_functions,
)

__all__ = ["make_interpolating_solve"]


def make_interpolating_solve(rhs: Callable, terms: diffrax.AbstractTerm,
                             solver: diffrax.AbstractSolver,
                             backward_solver: diffrax.AbstractSolver,
                             controller: diffrax.AbstractStepSizeController, *,
                             t0: float, t1: float, dt0: float | None, max_steps: int,
                             imex: bool = False,
                             progress_meter: diffrax.AbstractProgressMeter | None = None
                             ) -> Callable:
    """`(params, y0, ts) -> (ys, t_reached, y_last, result)`, differentiable in
    `params` and `y0` (first-order reverse mode) by the continuous adjoint
    integrated backwards along the forward solution's interpolant (module
    docstring).

    `rhs(t, y, params)` is the model's right-hand side; `terms` and `solver` are
    the forward solve's; `backward_solver` integrates the augmented adjoint
    (`imex`: it takes diffrax's (explicit, implicit) pair of terms, and the whole
    field is given to the implicit one). `ts` holds the save times, increasing,
    with `ts[0] = t0` and `ts[-1] = t1`.

    Long because the forward pass and the backward adjoint solve of one
    `jax.custom_vjp` share their closure (the recorded steps and their interpolant).
    """
    if not t1 > t0:
        raise ValueError("the interpolating adjoint integrates forward in time")
    segment = replay_segment(max_steps)
    progress_meter = progress_meter if progress_meter is not None else diffrax.NoProgressMeter()
    run = record_steps(terms, solver, controller, t0=t0, t1=t1, dt0=dt0, max_steps=max_steps,
                       segment=segment, progress_meter=progress_meter)
    step, interpolate = step_functions(terms, solver, controller)
    lane = np.arange(segment, dtype=np.int32)  # NumPy: built while an outer jit traces

    def solve_bwd(residuals, cotangents):
        params, y0, ts, ends, accepted, states = residuals
        ys_bar, _, y_last_bar, _ = cotangents
        p_flat, unravel = ravel_pytree(params)
        n = y0.shape[0]
        accepted = accepted.astype(jnp.int32)
        last = ends.shape[0] - 1
        dense_shape = jax.eval_shape(step, t0, t1, y0, params)[1]

        def adjoint_field(t, z, args):
            """d(a, g)/dt: minus the VJP of f with cotangent a, at the interpolated state."""
            starts, stops, dense, pf = args
            i = jnp.clip(jnp.searchsorted(stops, t, side="left"), 0, segment - 1)
            y = interpolate(starts[i], stops[i], jax.tree.map(lambda d: d[i], dense), t)
            _, vjp = jax.vjp(lambda y, q: rhs(t, y, unravel(q)), y, pf)
            a_dot, g_dot = vjp(z[:n])
            return -jnp.concatenate([a_dot, g_dot])

        field = diffrax.ODETerm(adjoint_field)
        backward_terms = (diffrax.MultiTerm(diffrax.ODETerm(lambda t, z, args: jnp.zeros_like(z)),
                                            field) if imex else field)

        def inject(z, save, tc):
            """Add the cotangent of the save point at time tc, if there is one left."""
            hit = (save >= 0) & (ts[jnp.maximum(save, 0)] >= tc)
            z = z.at[:n].add(jnp.where(hit, ys_bar[jnp.maximum(save, 0)], 0.0))
            return z, save - hit.astype(jnp.int32)

        def segment_body(carry):
            seg, z, save, failed = carry
            first = seg * segment
            count = jnp.minimum(first + segment, accepted) - first
            index = first + lane
            valid = lane < count
            starts = jnp.where(valid & (index > 0), ends[jnp.clip(index - 1, 0, last)], t0)
            stops = jnp.where(valid, step_ends(ends[jnp.minimum(index, last)], controller),
                              jnp.inf)
            y_first = jnp.where(seg == 0, y0, states[jnp.maximum(seg - 1, 0)])

            def recompute(i, c):  # the segment's steps again, keeping their dense output
                y, dense = c
                y1, info = step(starts[i], stops[i], y, params)
                return y1, jax.tree.map(lambda d, v: d.at[i].set(v), dense, info)

            dense = jax.tree.map(lambda s: jnp.zeros((segment, *s.shape), s.dtype), dense_shape)
            _, dense = lax.fori_loop(0, count, recompute, (y_first, dense))
            lo, hi = starts[0], stops[count - 1]
            args = (starts, stops, dense, p_flat)

            def piece(c):  # from tc back to the next save time or the segment's start
                tc, z, save, failed = c
                z, save = inject(z, save, tc)
                target = jnp.where(save >= 0, jnp.maximum(lo, ts[jnp.maximum(save, 0)]), lo)
                sol = diffrax.diffeqsolve(
                    backward_terms, backward_solver, t0=tc, t1=target, dt0=None, y0=z,
                    args=args, stepsize_controller=controller, max_steps=max_steps,
                    saveat=diffrax.SaveAt(t1=True), throw=False)
                return (target, sol.ys[0], save,
                        failed | (sol.result != diffrax.RESULTS.successful))

            _, z, save, failed = lax.while_loop(lambda c: c[0] > lo, piece,
                                                (hi, z, save, failed))
            return seg - 1, z, save, failed

        segments = (accepted + segment - 1) // segment
        z = jnp.concatenate([y_last_bar, jnp.zeros_like(p_flat)])  # y_last is y(t1)
        _, z, save, failed = lax.while_loop(
            lambda c: c[0] >= 0, segment_body,
            (segments - 1, z, jnp.asarray(ts.shape[0] - 1, jnp.int32), jnp.asarray(False)))
        z, _ = inject(z, save, ts[0])  # the save point at t0
        z = jnp.where(failed, jnp.nan, z)
        return unravel(z[n:]), z[:n], jnp.zeros_like(ts)

    return recorded_custom_vjp(run, solve_bwd)
