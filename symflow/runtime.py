"""What generated code imports: the one module a compiled model's source depends on.

Generated right-hand sides call `newton_solve` for algebraic loops,
`apply_mlp` for neural closures and `interpolate` for inputs read from tables;
nothing else of symflow is imported by them, so the generated source stays
valid however the package is arranged inside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

__all__ = ["ACTIVATION_FUNCTIONS", "EXTRAPOLATIONS", "INTERPOLATIONS", "apply_mlp",
           "interpolate", "newton_solve", "spline_curvatures"]

RTOL = 1e-10
ATOL = 1e-12

ACTIVATION_FUNCTIONS = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "swish": jax.nn.swish,
}


def newton_solve(residual: Callable[[jax.Array], jax.Array], guess: jax.Array) -> jax.Array:
    """The root of `residual` near `guess`, by optimistix's Newton method.

    Gradients through the result use the implicit function theorem (optimistix's
    `ImplicitAdjoint`), not the iterations. A failed solve raises (at run time,
    inside the integration) rather than returning a wrong value.
    """
    solution: optx.Solution = optx.root_find(
        lambda u, _: residual(u), optx.Newton(rtol=RTOL, atol=ATOL), guess, max_steps=64)
    return solution.value


def apply_mlp(weights: eqx.nn.MLP, activation: str, scale: float,
              inputs: Sequence[jax.Array | float]) -> tuple[jax.Array, ...]:
    """The outputs of a closure at `inputs` (a tuple of arrays of one shape, or
    scalars): a tuple of arrays of that shape, one per output."""
    act = ACTIVATION_FUNCTIONS[activation]
    h = jnp.stack(jnp.broadcast_arrays(*inputs), axis=-1)
    layers = weights.layers
    for layer in layers[:-1]:
        h = act(_affine(layer, h))
    h = _affine(layers[-1], h)
    if scale != 1.0:
        h = scale * h
    return tuple(h[..., i] for i in range(h.shape[-1]))


def _affine(layer: eqx.nn.Linear, h: jax.Array) -> jax.Array:
    """`h W^T + b` for one layer (`b` left out where the layer has no bias)."""
    h = h @ layer.weight.T
    return h if layer.bias is None else h + layer.bias


# ---------------------------------------------------------------- inputs from tables
#
# An input `F = table("forcing.csv", ...)` is a piecewise polynomial through the
# points (knots[i], values[i]) of its table. Each interpolant gives, on the segment
# [knots[k], knots[k+1]] that holds t, the coefficients (a, b, c, d) of
# a + b s + c s^2 + d s^3 in s = t - knots[k]; `interpolate` evaluates that
# polynomial (or one of its derivatives). Every function is vectorised over t,
# jittable, and differentiable in `values` (and in t).

# the interpolations, and what happens outside the table (catalog.INTERPOLATIONS
# and catalog.EXTRAPOLATIONS list the same names: tests/test_catalog.py)
INTERPOLATIONS = ("linear", "cubic", "monotone", "previous")
EXTRAPOLATIONS = ("error", "hold")
# `error`: how far past an end of the table t may be and still read its end value,
# relative to the table's span (a step that ends on the last knot may place a stage
# one rounding error beyond it)
END_SLACK = 1e-9


def interpolate(kind: str, extrapolation: str, knots, values, t, derivative: int = 0, *,
                curvatures=None) -> jax.Array:
    """The table `(knots, values)` interpolated at `t`, or its `derivative`-th time
    derivative.

    - `kind`: `linear`; `cubic` (the natural cubic spline: zero second derivative at
      both ends); `monotone` (piecewise cubic Hermite with PCHIP's slopes,
      Fritsch–Butland: no overshoot, monotone where the data are); `previous` (zero-
      order hold: the value of the last knot at or before t).
    - `extrapolation`: `error` gives NaN outside `[knots[0], knots[-1]]` (the solve
      refuses such spans before it starts: this is the last guard); `hold` holds the
      end values (and a zero derivative) there.
    - `knots`: the times, strictly increasing (a tuple or an array: not differentiated);
      `values`: one number per knot (differentiable).
    - `curvatures`: for `cubic`, `spline_curvatures(knots, values)` if already computed
      (a solve computes them once, not at every evaluation: codegen/_inputs.py).
    """
    values = jnp.asarray(values, dtype=float)
    knots = jnp.asarray(knots, dtype=values.dtype)
    t = jnp.asarray(t, dtype=values.dtype)
    lo, hi = knots[0], knots[-1]
    slack = END_SLACK * (hi - lo)
    inside = (t >= lo - slack) & (t <= hi + slack)
    tc = jnp.clip(t, lo, hi)
    if kind == "previous":
        k = jnp.clip(jnp.searchsorted(knots, tc, side="right") - 1, 0, knots.shape[0] - 1)
        out = values[k] if derivative == 0 else jnp.zeros_like(tc)
    else:
        k = jnp.clip(jnp.searchsorted(knots, tc, side="right") - 1, 0, knots.shape[0] - 2)
        if kind == "cubic":
            m = spline_curvatures(knots, values) if curvatures is None else curvatures
            coefficients = _cubic(knots, values, k, jnp.asarray(m, dtype=values.dtype))
        else:
            coefficients = _COEFFICIENTS[kind](knots, values, k)
        out = _polynomial(coefficients, tc - knots[k], derivative)
    if extrapolation == "hold":
        strictly = (t >= lo) & (t <= hi)
        return out if derivative == 0 else jnp.where(strictly, out, 0.0)
    return jnp.where(inside, out, jnp.nan)


def _polynomial(coefficients, s, derivative: int) -> jax.Array:
    """`a + b s + c s^2 + d s^3`, or its `derivative`-th derivative in s."""
    a, b, c, d = coefficients
    if derivative == 0:
        return a + s * (b + s * (c + s * d))
    if derivative == 1:
        return b + s * (2.0 * c + 3.0 * d * s)
    if derivative == 2:
        return 2.0 * c + 6.0 * d * s
    if derivative == 3:
        return 6.0 * d + 0.0 * s
    return jnp.zeros_like(s)


def _linear(knots, values, k):
    h = knots[k + 1] - knots[k]
    slope = (values[k + 1] - values[k]) / h
    zero = jnp.zeros_like(slope)
    return values[k], slope, zero, zero


def _hermite(y0, y1, d0, d1, h):
    """The cubic through (0, y0) and (h, y1) with slopes d0 and d1 there."""
    delta = (y1 - y0) / h
    return y0, d0, (3.0 * delta - 2.0 * d0 - d1) / h, (d0 + d1 - 2.0 * delta) / (h * h)


def spline_curvatures(knots, values) -> jax.Array:
    """The second derivatives M of the natural cubic spline at the knots: M = 0 at both
    ends, and inside they solve a tridiagonal system (one O(n) solve, linear in
    `values`)."""
    values = jnp.asarray(values, dtype=float)
    knots = jnp.asarray(knots, dtype=values.dtype)
    if knots.shape[0] <= 2:
        return jnp.zeros_like(values)
    h = jnp.diff(knots)
    delta = jnp.diff(values) / h
    lower = jnp.concatenate([jnp.zeros((1,), h.dtype), h[1:-1]])
    upper = jnp.concatenate([h[1:-1], jnp.zeros((1,), h.dtype)])
    inner = jax.lax.linalg.tridiagonal_solve(
        lower, 2.0 * (h[:-1] + h[1:]), upper, 6.0 * jnp.diff(delta)[:, None])[:, 0]
    zero = jnp.zeros((1,), h.dtype)
    return jnp.concatenate([zero, inner, zero])


def _cubic(knots, values, k, m):
    """The natural cubic spline on segment k, from its curvatures `m`."""
    hk = knots[k + 1] - knots[k]
    b = (values[k + 1] - values[k]) / hk - hk * (2.0 * m[k] + m[k + 1]) / 6.0
    return values[k], b, 0.5 * m[k], (m[k + 1] - m[k]) / (6.0 * hk)


def _monotone(knots, values, k):
    """Piecewise cubic Hermite with PCHIP's slopes (Fritsch & Butland 1984, as SciPy's
    `PchipInterpolator`): at an interior knot the weighted harmonic mean of the two
    secant slopes, zero where they differ in sign or one is zero; at an end the
    one-sided three-point slope, kept of the secant's sign and at most three times
    it. Only the knots around segment k are read."""
    n = knots.shape[0]
    h = jnp.diff(knots)
    delta = jnp.diff(values) / h
    if n == 2:
        return _hermite(values[k], values[k + 1], delta[k], delta[k], h[k])
    return _hermite(values[k], values[k + 1], _pchip_slope(h, delta, k),
                    _pchip_slope(h, delta, k + 1), h[k])


def _pchip_slope(h, delta, i):
    """The slope at knot `i` (an integer array) of PCHIP's interpolant."""
    m = delta.shape[0]  # segments
    # interior: the weighted harmonic mean of the secants on either side
    left, right = jnp.clip(i - 1, 0, m - 1), jnp.clip(i, 0, m - 1)
    d0, d1, h0, h1 = delta[left], delta[right], h[left], h[right]
    w1, w2 = 2.0 * h1 + h0, h1 + 2.0 * h0
    same = d0 * d1 > 0
    safe0, safe1 = jnp.where(same, d0, 1.0), jnp.where(same, d1, 1.0)
    interior = jnp.where(same, (w1 + w2) / (w1 / safe0 + w2 / safe1), 0.0)
    # ends: the three-point slope, shape-preserving
    first = _end_slope(h[0], h[1], delta[0], delta[1])
    last = _end_slope(h[m - 1], h[m - 2], delta[m - 1], delta[m - 2])
    return jnp.where(i == 0, first, jnp.where(i == m, last, interior))


def _end_slope(h0, h1, d0, d1):
    slope = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    slope = jnp.where(jnp.sign(slope) != jnp.sign(d0), 0.0, slope)
    too_steep = (jnp.sign(d0) != jnp.sign(d1)) & (jnp.abs(slope) > jnp.abs(3.0 * d0))
    return jnp.where(too_steep, 3.0 * d0, slope)


_COEFFICIENTS = {"linear": _linear, "monotone": _monotone}
