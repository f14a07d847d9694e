"""Finding where an event's condition crosses zero inside one accepted step.

The condition g(t, y(t)) of every `when` event is evaluated, with its slope, at
the ends of the step and at `samples` evenly spaced interior points of the
solver's dense output (the step's interpolant). Between each two samples, the
extrema of the cubic through those values and slopes are where g is evaluated
too (`_with_extrema`). A crossing between two neighbouring points, in the
event's direction, is located by the Illinois method (regula falsi that halves
the weight of an end kept twice) on the interpolant, to a few units in the last
place of t.

So a sign change inside a step is found when it shows at a sample, and also when
g goes across zero and back between two samples with one extremum there (a
bounce much shorter than the step: the extremum is found from the slopes). What
can still be missed is an excursion with several wiggles between two samples;
more samples (`event_samples`) narrow that.

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
    frozen_interp = jax.tree.map(lax.stop_gradient, interpolant)
    frozen_params = jax.tree.map(lax.stop_gradient, params)

    def along(t):  # the conditions along the step's dense output
        return conditions(t, frozen_interp.evaluate(t), frozen_params)

    fractions = jnp.arange(0, samples + 2) / (samples + 1)
    base_t = ta + (tb - ta) * fractions
    base_g, slopes = jax.vmap(lambda t: jax.jvp(along, (t,), (jnp.ones_like(t),)))(
        lax.stop_gradient(base_t))
    g_end = conditions(tb, y_end, params)
    base_g = base_g.at[0].set(lax.stop_gradient(g_start))
    base_g = base_g.at[-1].set(lax.stop_gradient(g_end))
    grid_t, grid_g = _with_extrema(along, base_t, base_g, slopes)  # (points, conditions)
    lo, hi = grid_g[:-1], grid_g[1:]
    cross = crossing_mask(lo, hi, directions[None, :])  # (intervals, conditions)
    has = jnp.any(cross, axis=0)
    first = jnp.argmax(cross, axis=0)
    columns = jnp.arange(directions.shape[0])
    a, b = grid_t[first, columns], grid_t[first + 1, columns]
    ga, gb = lo[first, columns], hi[first, columns]
    scale = jnp.maximum(jnp.maximum(jnp.abs(ta), jnp.abs(tb)), tb - ta)
    tol = 4 * jnp.finfo(scale.dtype).eps * scale

    def root(i, a, b, ga, gb):
        return _illinois(lambda t: along(t)[i], a, b, ga, gb, tol)

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


def _with_extrema(along: Callable, base_t, base_g, slopes):
    """The samples with, between each two, the extrema of each condition there: the
    stationary points of the cubic Hermite interpolant of g through the values and
    slopes at the two samples, where g itself is evaluated. An excursion across zero
    and back between two samples (a ball's bounce shorter than the step) shows as a
    sign change next to its extremum. Returns times and values of shape
    (3 * intervals + 1, conditions): per interval its start and two candidate
    extrema (at the start, with its value, where there is none)."""
    width = (base_t[1:] - base_t[:-1])[:, None]
    g0, g1 = base_g[:-1], base_g[1:]
    d0, d1 = slopes[:-1] * width, slopes[1:] * width
    # p(s) = a s^3 + b s^2 + d0 s + g0 on s in [0, 1]; p'(s) = 3a s^2 + 2b s + d0
    a = 2 * g0 + d0 - 2 * g1 + d1
    b = -3 * g0 - 2 * d0 + 3 * g1 - d1
    qa, qb, qc = 3 * a, 2 * b, d0
    disc = qb**2 - 4 * qa * qc
    root_disc = jnp.sqrt(jnp.maximum(disc, 0.0))
    quadratic = jnp.abs(qa) > 1e-12 * (jnp.abs(qb) + jnp.abs(qc))
    safe_qa = jnp.where(quadratic, qa, 1.0)
    safe_qb = jnp.where(qb != 0, qb, 1.0)
    s1 = jnp.where(quadratic, (-qb - root_disc) / (2 * safe_qa), -qc / safe_qb)
    s2 = jnp.where(quadratic, (-qb + root_disc) / (2 * safe_qa), -qc / safe_qb)
    s_lo, s_hi = jnp.minimum(s1, s2), jnp.maximum(s1, s2)

    def candidates(s):
        valid = (disc >= 0) & (s > 0) & (s < 1) & jnp.isfinite(s)
        t = base_t[:-1, None] + jnp.where(valid, s, 0.0) * width
        g = jax.vmap(jax.vmap(lambda t, i: along(t)[i], in_axes=(0, 0)),
                     in_axes=(0, None))(t, jnp.arange(t.shape[1]))
        return t, jnp.where(valid, g, g0)

    t_lo, g_lo = candidates(s_lo)
    t_hi, g_hi = candidates(s_hi)
    starts = jnp.broadcast_to(base_t[:-1, None], g0.shape)
    grid_t = jnp.stack([starts, t_lo, t_hi], axis=1).reshape(-1, g0.shape[1])
    grid_g = jnp.stack([g0, g_lo, g_hi], axis=1).reshape(-1, g0.shape[1])
    last_t = jnp.broadcast_to(base_t[-1], (1, g0.shape[1]))
    return (jnp.concatenate([grid_t, last_t]), jnp.concatenate([grid_g, base_g[-1:]]))


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
