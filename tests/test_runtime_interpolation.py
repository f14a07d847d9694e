"""The interpolants of inputs read from tables (`symflow.runtime.interpolate`).

Checked against SciPy's (`numpy.interp`, `CubicSpline(bc_type="natural")`,
`PchipInterpolator`) on uneven knots, with their derivatives; the zero-order hold by
hand; the ends (`error` gives NaN, `hold` the end values); and the gradient with
respect to the values against central differences.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.interpolate import CubicSpline, PchipInterpolator

from symflow import catalog
from symflow.runtime import EXTRAPOLATIONS, INTERPOLATIONS, interpolate

RNG = np.random.default_rng(7)
KNOTS = np.sort(RNG.uniform(0.0, 10.0, 14))
VALUES = RNG.normal(size=14)
T = np.linspace(KNOTS[0], KNOTS[-1], 997)


def test_the_runtime_implements_exactly_the_catalogue_names():
    assert INTERPOLATIONS == catalog.INTERPOLATIONS
    assert EXTRAPOLATIONS == catalog.EXTRAPOLATIONS


def test_linear_is_numpys_interp():
    got = interpolate("linear", "error", KNOTS, VALUES, T)
    np.testing.assert_allclose(got, np.interp(T, KNOTS, VALUES), rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind, reference", [
    ("cubic", CubicSpline(KNOTS, VALUES, bc_type="natural")),
    ("monotone", PchipInterpolator(KNOTS, VALUES)),
])
@pytest.mark.parametrize("derivative", [0, 1, 2, 3])
def test_cubic_and_monotone_are_scipys_with_their_derivatives(kind, reference, derivative):
    got = np.asarray(interpolate(kind, "error", KNOTS, VALUES, T, derivative))
    want = reference(T, derivative)
    scale = np.max(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * scale)


def test_monotone_data_give_a_monotone_interpolant_without_overshoot():
    knots = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    values = np.array([0.0, 0.0, 0.1, 5.0, 5.0, 5.2])  # a step: a cubic spline overshoots
    t = np.linspace(0, 5, 2001)
    monotone = np.asarray(interpolate("monotone", "error", knots, values, t))
    assert np.all(np.diff(monotone) >= -1e-12)
    assert monotone.min() >= 0.0 and monotone.max() <= 5.2
    cubic = np.asarray(interpolate("cubic", "error", knots, values, t))
    assert cubic.min() < -0.1 or cubic.max() > 5.2 + 0.1  # what monotone avoids


def test_previous_holds_the_value_of_the_last_knot_at_or_before_t():
    knots = np.array([0.0, 1.0, 2.5, 3.0])
    values = np.array([1.0, -2.0, 0.5, 4.0])
    t = np.array([0.0, 0.999, 1.0, 2.0, 2.5, 2.9999, 3.0])
    got = interpolate("previous", "error", knots, values, t)
    np.testing.assert_array_equal(got, [1.0, 1.0, -2.0, -2.0, 0.5, 0.5, 4.0])
    np.testing.assert_array_equal(interpolate("previous", "error", knots, values, t, 1), 0.0)


@pytest.mark.parametrize("kind", INTERPOLATIONS)
def test_outside_the_table_error_gives_nan_and_hold_the_end_values(kind):
    outside = np.array([KNOTS[0] - 0.5, KNOTS[-1] + 0.5])
    assert np.all(np.isnan(interpolate(kind, "error", KNOTS, VALUES, outside)))
    held = interpolate(kind, "hold", KNOTS, VALUES, outside)
    np.testing.assert_allclose(held, [VALUES[0], VALUES[-1]], rtol=0, atol=1e-14)
    np.testing.assert_array_equal(interpolate(kind, "hold", KNOTS, VALUES, outside, 1), 0.0)
    # the ends themselves, and a rounding error past them, are inside
    ends = np.array([KNOTS[0], KNOTS[-1], np.nextafter(KNOTS[-1], np.inf)])
    assert np.all(np.isfinite(interpolate(kind, "error", KNOTS, VALUES, ends)))


@pytest.mark.parametrize("kind", INTERPOLATIONS)
def test_the_gradient_with_respect_to_the_values_matches_central_differences(kind):
    t = KNOTS[0] + jnp.asarray([0.03, 0.22, 0.49, 0.77, 0.96]) * (KNOTS[-1] - KNOTS[0])

    def loss(values):
        return jnp.sum(jnp.sin(interpolate(kind, "error", KNOTS, values, t)) * t)

    grad = np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(VALUES)))
    eps = 1e-6
    fd = np.array([(loss(VALUES + eps * e) - loss(VALUES - eps * e)) / (2 * eps)
                   for e in np.eye(VALUES.size)])
    np.testing.assert_allclose(grad, fd, rtol=0, atol=1e-7)
    assert np.count_nonzero(grad) >= 4  # every t reads some values


def test_values_enter_linearly_except_in_monotone():
    """Linear, cubic and previous are linear maps of the values (the spline's
    tridiagonal solve included); the monotone slopes are not."""
    a, b = RNG.normal(size=14), RNG.normal(size=14)
    for kind in ("linear", "cubic", "previous"):
        lhs = interpolate(kind, "error", KNOTS, 2.0 * a - 3.0 * b, T)
        rhs = 2.0 * interpolate(kind, "error", KNOTS, a, T) - 3.0 * interpolate(
            kind, "error", KNOTS, b, T)
        np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-12)
    lhs = interpolate("monotone", "error", KNOTS, a + b, T)
    rhs = interpolate("monotone", "error", KNOTS, a, T) + interpolate(
        "monotone", "error", KNOTS, b, T)
    assert np.max(np.abs(lhs - rhs)) > 1e-3


def test_two_knots_are_a_line_for_every_smooth_kind():
    knots, values = np.array([1.0, 3.0]), np.array([2.0, -2.0])
    t = np.linspace(1, 3, 11)
    for kind in ("linear", "cubic", "monotone"):
        np.testing.assert_allclose(interpolate(kind, "error", knots, values, t),
                                   2.0 - 2.0 * (t - 1.0), rtol=0, atol=1e-14)
