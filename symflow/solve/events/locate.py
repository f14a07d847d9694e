"""Finding where an event's condition crosses zero inside one accepted step.

The condition g(t, y(t)) of every `when` event is evaluated at the ends of the
step and at `samples` evenly spaced interior points of the solver's dense output
(the step's interpolant). A crossing between two neighbouring samples, in the
event's direction, is located by the Illinois method (regula falsi that halves
the weight of an end kept twice) on the interpolant, to a few units in the last
place of t. So a sign change inside one step is found whenever the excursion
(the time g spends on the other side) is longer than the step divided by
`samples + 1`; a shorter one inside a single step can be missed.

The located time carries the derivative of the implicit-function theorem: the
bracketing runs on values with `lax.stop_gradient`, and one Newton step
`t* - g(t*)/g'(t*)` on the live interpolant and parameters follows. Its value
moves by less than the root's tolerance; its derivative with respect to the
parameters and the step's states is -(dg/dtheta)/(dg/dt), the event-time
sensitivity of the hybrid-systems literature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["Crossing", "crossing_mask", "locate"]

_ILLINOIS_ITERATIONS = 200


class Crossing(NamedTuple):
    """What one step's search found: whether any event crossed, the earliest time
    (`t`), which events cross there (`fire`), the side each lands on (`positive`),
    and the conditions at the step's end (`g_end`)."""

    found: jax.Array
    t: jax.Array
    fire: jax.Array
    positive: jax.Array
    g_end: jax.Array


def crossing_mask(before: jax.Array, after: jax.Array, directions: np.ndarray) -> jax.Array:
    """Which conditions cross from `before` to `after` in their direction: rising is
    `<= 0` to `> 0`, falling `> 0` to `<= 0` (so a value of exactly 0 counts as below)."""
    rising = (before <= 0) & (after > 0)
    falling = (before > 0) & (after <= 0)
    return jnp.where(directions > 0, rising, jnp.where(directions < 0, falling,
                                                         rising | falling))


def _illinois(f: Callable, a, b, fa, fb, tol):
    """The end of a bracket around the root of `f` in [a, b] (fa and fb on opposite
    sides of zero, b past the crossing) that is on b's side: the crossing has
    happened there, so the event does not fire again from the state it sees."""
    after_positive = fb > 0

    def on_after_side(value):
        return (value > 0) == after_positive

    def cond(c):
        a, b, fa, fb, side, k = c
        return (jnp.abs(b - a) > tol) & (k < _ILLINOIS_ITERATIONS)

    def body(c):
        a, b, fa, fb, side, k = c
        denom = fb - fa
        t = jnp.where(denom != 0, (a * fb - b * fa) / jnp.where(denom != 0, denom, 1.0),
                      0.5 * (a + b))
        t = jnp.where((t > jnp.minimum(a, b)) & (t < jnp.maximum(a, b)), t, 0.5 * (a + b))
        ft = f(t)
        same_as_b = jnp.sign(ft) == jnp.sign(fb)
        # the new point replaces the end of its sign; the kept end's value is halved
        # when it is kept twice in a row (Illinois)
        a2 = jnp.where(same_as_b, a, b)
        fa2 = jnp.where(same_as_b, jnp.where(side == 1, 0.5 * fa, fa), fb)
        side2 = jnp.where(same_as_b, 1, -1).astype(jnp.int32)
        return a2, t, fa2, ft, side2, k + 1

    a, b, fa, fb, _, _ = lax.while_loop(cond, body, (a, b, fa, fb, jnp.int32(0),
                                                      jnp.int32(0)))
    # (`fa` may have been halved, but never changes sign.) Both ends are within `tol`
    # of the root; neither is on the far side only where g touches zero there.
    return jnp.where(on_after_side(fb), b, jnp.where(on_after_side(fa), a,
                                                       jnp.maximum(a, b)))


def locate(conditions: Callable, directions: np.ndarray, interpolant, ta, tb, y_end,
           g_start, params, *, samples: int) -> Crossing:
    """The earliest crossing of any condition inside the step [ta, tb] (module
    docstring). `interpolant.evaluate(t)` is the step's dense output, `y_end` the
    state at tb and `g_start` the conditions at ta (as the loop keeps them)."""
    fractions = jnp.arange(1, samples + 1) / (samples + 1)
    inner_t = ta + (tb - ta) * fractions
    inner_y = jax.vmap(interpolant.evaluate)(inner_t)
    g_inner = jax.vmap(lambda t, y: conditions(t, y, params))(inner_t, inner_y)
    g_end = conditions(tb, y_end, params)
    grid_t = jnp.concatenate([ta[None], inner_t, tb[None]])
    grid_g = jnp.concatenate([g_start[None], g_inner, g_end[None]])
    lo, hi = grid_g[:-1], grid_g[1:]
    cross = crossing_mask(lo, hi, directions[None, :])  # (intervals, conditions)
    has = jnp.any(cross, axis=0)
    first = jnp.argmax(cross, axis=0)
    columns = jnp.arange(directions.shape[0])
    a, b = grid_t[first], grid_t[first + 1]
    ga, gb = lo[first, columns], hi[first, columns]

    frozen_interp = jax.tree.map(lax.stop_gradient, interpolant)
    frozen_params = jax.tree.map(lax.stop_gradient, params)
    scale = jnp.maximum(jnp.maximum(jnp.abs(ta), jnp.abs(tb)), tb - ta)
    tol = 4 * jnp.finfo(scale.dtype).eps * scale

    def root(i, a, b, ga, gb):
        def f(t):
            return conditions(t, frozen_interp.evaluate(t), frozen_params)[i]
        return _illinois(f, a, b, ga, gb, tol)

    roots = jax.vmap(root)(columns, lax.stop_gradient(a), lax.stop_gradient(b),
                           lax.stop_gradient(ga), lax.stop_gradient(gb))
    times = jnp.where(has, roots, jnp.inf)
    earliest = jnp.argmin(times)
    t_root = times[earliest]
    fire = has & (times <= t_root + 4 * tol)
    positive = hi[first, columns] > 0
    t_star = _newton_polish(conditions, interpolant, params, earliest,
                            jnp.where(jnp.any(has), t_root, tb))
    return Crossing(jnp.any(has), t_star, fire, positive, g_end)


def _newton_polish(conditions, interpolant, params, i, t_root):
    """`t_root`, with the derivative of the Newton step t - g(t)/g'(t) taken there:
    -(dg/dtheta)/(dg/dt), as the implicit-function theorem says (module docstring).
    The value stays the located root exactly."""
    t0 = lax.stop_gradient(t_root)

    def g(t):
        return conditions(t, interpolant.evaluate(t), params)[i]

    value, slope = jax.jvp(g, (t0,), (jnp.ones_like(t0),))
    ok = jnp.isfinite(slope) & (jnp.abs(slope) > 0) & jnp.isfinite(value)
    correction = jnp.where(ok, value / jnp.where(ok, slope, 1.0), 0.0)
    return t0 - (correction - lax.stop_gradient(correction))
