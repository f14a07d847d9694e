"""The PDE parts of the build stage: each mistake gets a clear error at its place."""

from __future__ import annotations

import pytest

import symflow
from symflow.symbolic import Diff

GOOD = """model Heat
  parameters
    kappa = 1.0
    h = 2.0
  domain
    x in [0, 1], points = 21
  variables
    u(x) = sin(pi*x)
  equations
    der(u) = kappa*diff(u, x, 2)
  boundary
    u = 0 at x = 0
    diff(u, x) + h*u = t at x = 1
end
"""


def build(text):
    return symflow.symbolic.build(symflow.lang.parse(text, "heat.sf"))


def test_good_model_builds_one_array_symbol_per_field():
    system = build(GOOD)
    (u,) = system.variables
    assert u.shape == (21,)
    assert system.fields == (("u", ("x",)),)
    assert system.equations[0].rhs.has(Diff)
    left, right = sorted(system.boundary, key=lambda b: b.side)
    assert (left.kind, right.kind) == ("dirichlet", "robin")
    assert str(right.coefficient) == "h" and str(right.value) == "t"


def expect_error(text, message, line):
    with pytest.raises(symflow.SymflowError, match=message) as info:
        build(text)
    assert info.value.span is not None and info.value.span.line == line, str(info.value)
    assert "heat.sf" in str(info.value)
    return info.value


def test_missing_boundary_condition():
    text = GOOD.replace("    u = 0 at x = 0\n", "")
    error = expect_error(text, "no boundary condition at x = 0", 8)
    assert "periodic" in str(error)


def test_condition_not_at_a_boundary():
    expect_error(GOOD.replace("u = 0 at x = 0", "u = 0 at x = 0.5"),
                 "not a boundary of x", 12)


def test_condition_on_periodic_dimension():
    expect_error(GOOD.replace("points = 21", "points = 21, periodic"), "periodic", 12)


def test_condition_on_unknown_coordinate():
    expect_error(GOOD.replace("u = 0 at x = 0", "u = 0 at y = 0"), "not a coordinate", 12)


def test_derivative_with_respect_to_undeclared_coordinate_or_time():
    expect_error(GOOD.replace("diff(u, x, 2)", "diff(u, y, 2)"), "'y' is not a coordinate", 10)
    expect_error(GOOD.replace("diff(u, x, 2)", "diff(u, t)"), "der\\(u\\)", 10)


def test_field_with_wrong_coordinates():
    expect_error(GOOD.replace("u(x) = sin", "u(y) = sin"), "'y' is not a coordinate", 8)


def test_too_few_points_for_the_order():
    text = GOOD.replace("points = 21", "points = 7").replace("end\n", "  simulate\n"
                                                              "    order = 4\nend\n")
    expect_error(text, "too few for differences of order 4", 6)
    build(text.replace("order = 4", "order = 2"))  # 7 points are enough for order 2


def test_diff_of_a_non_field_and_diff_outside_equations():
    text = GOOD.replace("der(u) = kappa*diff(u, x, 2)", "der(u) = diff(kappa, x)")
    expect_error(text, "first argument must name", 10)
    text = GOOD.replace("u(x) = sin(pi*x)", "u(x) = diff(u, x)")
    with pytest.raises(symflow.SymflowError):
        build(text)


def test_nonlinear_or_fieldless_condition():
    expect_error(GOOD.replace("u = 0 at x = 0", "u^2 = 0 at x = 0"), "linear", 12)
    expect_error(GOOD.replace("u = 0 at x = 0", "kappa = 0 at x = 0"), "names no field", 12)


def test_two_conditions_on_one_side():
    text = GOOD.replace("    u = 0 at x = 0\n", "    u = 0 at x = 0\n    u = 1 at x = 0\n")
    expect_error(text, "two conditions", 13)


TWO_D = GOOD.replace("points = 21\n", "points = 21\n    y in [0, 1], points = 11\n").replace(
    "u(x) = sin(pi*x)", "u(x, y) = sin(pi*x)*y").replace(
    "    u = 0 at x = 0\n", "    u = 0 at x = 0\n    u = 0 at y = 0\n    u = 1 at y = 1\n")


def test_two_dimensional_field_is_one_flat_array():
    system = build(TWO_D)
    (u,) = system.variables
    assert u.shape == (21 * 11,)
    assert system.fields == (("u", ("x", "y")),)
    assert len(system.boundary) == 4


def test_grid_errors():
    expect_error(TWO_D.replace("u(x, y) =", "u(y, x) ="), r"in order: u\(x, y\)", 9)
    expect_error(TWO_D.replace("    y in [0, 1], points = 11\n",
                               "    y in [0, 1], points = 11\n    z in [0, 1], points = 3\n"
                               "    w in [0, 1], points = 3\n"), "at most 3 dimensions", 9)
    expect_error(TWO_D.replace("    u = 1 at y = 1\n", ""), "no boundary condition at y = 1", 9)
    expect_error(TWO_D.replace("points = 11", "points = 11, periodic"), "is periodic", 14)
    expect_error(TWO_D.replace("diff(u, x, 2)", "laplacian(u*u)"), "laplacian takes a field", 11)
    expect_error(TWO_D.replace("diff(u, x, 2)", "diff(diff(u, x), y, 2)"),
                 "of first order", 11)
    expect_error(TWO_D.replace("diff(u, x, 2)", "diff(kappa*t, x)"), "names none", 11)
    expect_error(TWO_D.replace("diff(u, x, 2)", "diff(diff(u, x), z)"), "'z' is not a coord", 11)
    four = TWO_D.replace("diff(u, x, 2)", "diff(u*diff(u, x), x)").replace(
        "end\n", "  simulate\n    order = 4\nend\n")
    expect_error(TWO_D.replace("diff(u, x, 2)", "u(y)"), "used by its name alone", 11)
    assert build(four).settings.order == 4  # derivatives of expressions take order 4 too
