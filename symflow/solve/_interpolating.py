"""The continuous adjoint with the state read from the forward solution's interpolant.

This is what `adjoint="backsolve"` runs for an implicit (stiff) solver, and what
`adjoint="interpolating"` runs for any solver. It is the "optimise then
discretise" gradient of DiffEqSensitivity.jl's `InterpolatingAdjoint`.

Why not diffrax's `BacksolveAdjoint` there. `BacksolveAdjoint` stores nothing:
it integrates the state y again, backwards from t1 to t0, beside the adjoint.
Backwards in time a decaying mode exp(-lambda t) becomes a growing one, so a
rounding error in y is amplified by exp(lambda |t1 - t0|): on Robertson's
kinetics (lambda ~ 1e4) the recomputed state and the gradient are wrong
(d/dk1 = 15.3 against -0.326), whatever the solver and tolerances. The adjoint
itself is stable backwards: a' = -(df/dy)^T a has, in reversed time, the
eigenvalues of df/dy, decaying where the forward problem decays. Only the state
must not be integrated backwards.

How. The forward pass is diffrax's solve with dense output: the solver's
interpolant over every accepted step (for Kvaerno5, a Hermite cubic through the
step's ends and slopes). The backward pass integrates the augmented state
(a, g) from the last save time to t0 with the model's own solver (implicit,
Newton root finder) and step-size control,

    da/dt = -(df/dy)^T a,   dg/dt = -(df/dp)^T a,

both from one vector-Jacobian product of f at (t, y(t), p), y(t) taken from
the interpolant. It goes segment by segment between save times: at a save time
t_i the cotangent of the saved value y(t_i) is added to a (the jump of the
adjoint). At t0, a is the gradient with respect to the initial state (the
caller's chain rule carries it on to parameters that initial values are
expressions of) and g the gradient with respect to the parameters.

Accuracy: the gradient of the exact solution, to within the backward solve's
tolerances (the forward's `rtol`/`atol`) and the interpolant's error (third
order for Kvaerno5: about 1e-7 relative at rtol 1e-10 on Robertson). It is not
the derivative of the discrete solution (that is `checkpoint`/`direct`); the
two agree to the solve's accuracy, so use tight tolerances.

Memory: the dense output, `max_steps` x (a few states), allocated up front by
diffrax whether or not the steps are taken, plus O(1) for the backward solve.
The backward solve's implicit stages form the Jacobian of the augmented field,
(states + parameters) squared, densely.

If a backward segment fails (too many steps, a NaN), the gradient is NaN rather
than silently wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree


__all__ = ["make_interpolating_solve"]


def make_interpolating_solve(rhs: Callable, terms, solver, backward_solver, controller, *,
                             t0: float, t1: float, dt0: float | None, max_steps: int,
                             imex: bool = False, progress_meter=None) -> Callable:
    """`(params, y0, ts) -> (ys, t_reached, y_last, result)`, differentiable in
    `params` and `y0` (first-order reverse mode) by the continuous adjoint
    integrated backwards along the forward solution's interpolant (module
    docstring).

    `rhs(t, y, params)` is the model's right-hand side; `terms` and `solver` are
    the forward solve's; `backward_solver` integrates the augmented adjoint
    (`imex`: it takes diffrax's (explicit, implicit) pair of terms, and the whole
    field is given to the implicit one). `ts` holds the save times, increasing,
    with `ts[0] = t0` and `ts[-1] = t1`.
    """
    if not t1 > t0:
        raise ValueError("the interpolating adjoint integrates forward in time")
    progress_meter = progress_meter if progress_meter is not None else diffrax.NoProgressMeter()

    def run(params, y0, ts, dense: bool):
        sol = diffrax.diffeqsolve(
            terms, solver, t0=t0, t1=t1, dt0=dt0, y0=y0, args=params,
            saveat=diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True)],
                                  dense=dense),
            stepsize_controller=controller, max_steps=max_steps, throw=False,
            progress_meter=progress_meter)
        out = (sol.ys[0], sol.ts[1][0], sol.ys[1][0], sol.result._value)
        return out, (sol.interpolation if dense else None)

    @jax.custom_vjp
    def solve(params, y0, ts):
        return run(params, y0, ts, dense=False)[0]

    def solve_fwd(params, y0, ts):
        out, interpolation = run(params, y0, ts, dense=True)
        return out, (params, ts, interpolation)

    def solve_bwd(residuals, cotangents):
        params, ts, interpolation = residuals
        ys_bar, _, y_last_bar, _ = cotangents
        p_flat, unravel = ravel_pytree(params)
        n = ys_bar.shape[1]
        # y_last is the state at t1 (where a successful solve ends): its cotangent
        # starts the adjoint there, beside the last save point's
        z = jnp.concatenate([y_last_bar, jnp.zeros_like(p_flat)])
        args = (interpolation, p_flat)

        def adjoint_field(t, z, args):
            """d(a, g)/dt: minus the VJP of f with cotangent a, at the interpolated state."""
            interpolation, p_flat = args
            y = interpolation.evaluate(t)
            _, vjp = jax.vjp(lambda y, pf: rhs(t, y, unravel(pf)), y, p_flat)
            a_dot, g_dot = vjp(z[:n])
            return -jnp.concatenate([a_dot, g_dot])

        field = diffrax.ODETerm(adjoint_field)
        backward_terms = (diffrax.MultiTerm(diffrax.ODETerm(lambda t, z, args: jnp.zeros_like(z)),
                                            field) if imex else field)

        def segment(carry, i):
            z, failed = carry
            z = z.at[:n].add(ys_bar[i])  # the jump of the adjoint at save time t_i
            sol = diffrax.diffeqsolve(
                backward_terms, backward_solver, t0=ts[i], t1=ts[i - 1], dt0=None, y0=z,
                args=args, stepsize_controller=controller, max_steps=max_steps,
                saveat=diffrax.SaveAt(t1=True), throw=False)
            return (sol.ys[0], failed | (sol.result != diffrax.RESULTS.successful)), None

        (z, failed), _ = lax.scan(segment, (z, jnp.asarray(False)),
                                  jnp.arange(ts.shape[0] - 1, 0, -1))
        z = z.at[:n].add(ys_bar[0])
        z = jnp.where(failed, jnp.nan, z)
        return unravel(z[n:]), z[:n], jnp.zeros_like(ts)

    solve.defvjp(solve_fwd, solve_bwd)
    return solve
