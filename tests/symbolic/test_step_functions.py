"""`floor`, `ceiling` (and `ceil`) as built-in functions: values against NumPy and a
closed form, derivatives 0 (symbolic and through `jax.grad`), never NaN."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import sympy as sp

import symflow
from models import model_text
from symflow.codegen import load_derivatives
from symflow.errors import SymflowError
from symflow.symbolic import Ceiling, Floor

SAVE = [0.0, 0.5, 1.0, 1.5, 2.25, 3.0, 3.5]


def test_values_match_numpy_and_the_staircase_closed_form():
    m = symflow.loads(model_text("step_functions"))
    assert float(m.params["n"]) == 2 + 1 - 1  # floor(2.5) + ceiling(0.2) + ceil(-1.5)
    sol = m.simulate(saveat=SAVE)
    kt = 0.7 * np.asarray(SAVE)
    np.testing.assert_array_equal(sol["f"], np.floor(kt))
    np.testing.assert_array_equal(sol["c"], np.ceil(kt))
    np.testing.assert_array_equal(sol["c2"], np.ceil(-kt))
    # x(t) = integral of floor(s) + 1: t + (0 + 1 + ... + (floor(t) - 1)) + floor(t)(t - floor(t))
    t = np.asarray(SAVE)
    fl = np.floor(t)
    exact = t + fl * (fl - 1) / 2 + fl * (t - fl)
    np.testing.assert_allclose(sol["x"], exact, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(sol["slope"], 0.0)


def test_gradients_are_zero_not_nan():
    m = symflow.loads(model_text("step_functions"))

    def end(k):
        sol = m.simulate(params={"k": k}, saveat=[3.5])
        return sol["x"][-1] + sol["f"][-1] + sol["c"][-1]

    g = jax.grad(end)(0.7)
    assert np.isfinite(g) and g == 0.0


def test_symbolic_derivatives_are_zero_so_rosenbrock_jacobians_stay_symbolic():
    x = sp.Symbol("x", real=True)
    assert sp.diff(Floor(x**2), x) == 0 and sp.diff(Ceiling(3 * x), x) == 0
    assert Floor(sp.Float(2.5)) == 2 and Ceiling(sp.exp(2)) == 8
    m = symflow.loads(model_text("step_functions"))
    derivatives = load_derivatives(m.system)  # None where a derivative stayed unevaluated
    assert derivatives is not None
    f, f_t, jac = derivatives(2.5, np.array([1.0]), {"k": 0.7})
    assert float(f[0]) == 3.0 and float(f_t[0]) == 0.0 and float(jac[0, 0]) == 0.0


@pytest.mark.parametrize("call", ["floor(1, 2)", "ceiling()", "floor(x) > 1"])
def test_misuse_is_an_error_with_a_caret(call):
    text = model_text("step_functions").replace("floor(t) + ceiling(k)", call)
    with pytest.raises(SymflowError) as info:
        symflow.loads(text)
    assert info.value.span is not None and info.value.span.line == 15
