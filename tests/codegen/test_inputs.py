"""Inputs in the generated module: their tables as module constants, their values as
array parameters, and their uses as calls of `symflow.runtime.interpolate`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from models import model_path, model_text
from symflow.codegen import InputTable, emit, load_source
from symflow.lang import parse
from symflow.passes import simplify
from symflow.runtime import interpolate, spline_curvatures
from symflow.symbolic import build

TABLE = np.loadtxt(model_path("driven_oscillator_table_template").parent / "driven_forcing.csv",
                   delimiter=",", skiprows=1)


def _source(interpolation: str = "cubic") -> str:
    text = model_text("driven_oscillator_table_template").format(
        table="driven_forcing.csv", interpolation=interpolation)
    return emit(simplify(build(parse(
        text, str(model_path("driven_oscillator_table_template"))))))


def test_the_module_holds_the_table_and_reads_the_values_from_p():
    source = _source()
    assert "from symflow.runtime import interpolate, spline_curvatures" in source
    assert "INPUTS = (('F', 'cubic', 'error', 'driven_forcing.csv'),)" in source
    assert "PARAMETERS = ('k', 'c', 'F')" in source
    assert ("interpolate('cubic', 'error', INPUT_KNOTS['F'], p['F'], t, "
            "curvatures=p.get('F:curvatures'))") in source
    g = load_source(source)
    assert g.parameter_names == ("k", "c", "F")
    (table,) = g.inputs
    assert isinstance(table, InputTable)
    assert (table.name, table.interpolation, table.extrapolation) == ("F", "cubic", "error")
    assert table.knots == tuple(TABLE[:, 0]) and table.span == (0.0, 10.0)
    # the defaults: every digit of the table, as an array parameter
    p = g.parameter_defaults({})
    np.testing.assert_array_equal(p["F"], TABLE[:, 1])
    assert p["F"].dtype == jnp.float64
    new = g.parameter_defaults({"F": 2 * TABLE[:, 1]})
    np.testing.assert_array_equal(new["F"], 2 * TABLE[:, 1])


def test_a_cubic_spline_is_solved_for_once_a_solve_and_linear_needs_nothing():
    g = load_source(_source())
    p = g.parameter_defaults({})
    prepared = g.prepare(p)
    np.testing.assert_array_equal(prepared["F:curvatures"],
                                  spline_curvatures(TABLE[:, 0], TABLE[:, 1]))
    y, t = jnp.array([0.3, -0.2]), 4.321
    np.testing.assert_allclose(g.rhs(t, y, prepared), g.rhs(t, y, p), rtol=0, atol=1e-15)
    # the rhs reads the curvatures it is given (nonsense ones give another force)
    wrong = {**prepared, "F:curvatures": jnp.zeros(101)}
    assert abs(float(g.rhs(t, y, wrong)[1] - g.rhs(t, y, p)[1])) > 1e-6
    linear = load_source(_source("linear"))
    assert linear.prepare is None and "spline_curvatures" not in linear.source


def test_the_right_hand_side_interpolates_p_and_differentiates_through_it():
    g = load_source(_source())
    p = g.parameter_defaults({})
    y = jnp.array([0.3, -0.2])
    t = 1.234
    force = interpolate("cubic", "error", TABLE[:, 0], TABLE[:, 1], t)
    np.testing.assert_allclose(g.rhs(t, y, p), [-0.2, -4.0 * 0.3 + 0.3 * 0.2 + force],
                               rtol=0, atol=1e-14)
    np.testing.assert_allclose(g.observed_fn(t, y, p)["force"], force, rtol=0, atol=1e-15)
    grad = jax.grad(lambda v: g.rhs(t, y, {**p, "F": v})[1])(p["F"])
    np.testing.assert_allclose(grad, jax.grad(
        lambda v: interpolate("cubic", "error", TABLE[:, 0], v, t))(p["F"]), atol=1e-15)


def test_a_model_without_inputs_has_none_of_it():
    source = emit(simplify(build(parse(model_text("decay"), "decay.sf"))))
    assert "interpolate" not in source and "INPUT" not in source
    assert load_source(source).inputs == ()
