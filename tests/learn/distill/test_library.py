"""The candidate library: which terms, their text, their values."""

import math

import numpy as np
import sympy as sp

from symflow.lang import parse
from symflow.learn.distill import build_library, model_functions

X, Y, Z = sp.symbols("x y z")


def test_monomials_up_to_the_degree_with_cross_terms():
    lib = build_library([X, Y, Z], degree=3)
    assert len(lib) == math.comb(3 + 3, 3)  # every monomial of degree <= 3 in 3 inputs
    names = lib.names()
    assert names[:4] == ("1", "x", "y", "z")
    assert {"x*y", "x*z", "y*z", "x^2", "x*y*z", "x^2*y", "z^3"} <= set(names)
    assert len(build_library([X, Y], degree=2, constant=False)) == 5


def test_values_against_numpy():
    lib = build_library([X, Y], degree=2)
    z = np.random.default_rng(0).normal(size=(7, 2))
    x, y = z[:, 0], z[:, 1]
    expected = np.column_stack([np.ones(7), x, y, x**2, x * y, y**2])
    np.testing.assert_allclose(lib.evaluate(z), expected, rtol=1e-15)


def test_text_with_compound_inputs():
    """Inputs are written as given (atoms); function arguments lose their parentheses."""
    src = """model M
  functions
    f(a) = a^2 + 1
  variables
    x = 1
  equations
    der(x) = -x
end
"""
    program = parse(src, "m.sf")
    lib = build_library([X, Y], degree=2, functions=model_functions(program, program.models[0]))
    names = lib.names(["u[1]", "(a + b)"])
    assert "u[1]*(a + b)" in names and "(a + b)^2" in names
    assert "f(a + b)" in names and "f(u[1])" in names


MODEL = """model M
  constants
    c = 2
  parameters
    k = 0.5
    K = 2*k
  functions
    h(a) = a/(K + a)
    g(a, b) = c*a*b + h(b)
    uses_state(a) = a*x
    uses_time(a) = a + t
    square(a) = a^2
  variables
    x = 1
  equations
    der(x) = -k*x
end
"""


def test_model_functions_with_parameter_values():
    program = parse(MODEL, "m.sf")
    functions = {f.name: f for f in model_functions(program, program.models[0],
                                                   {"k": 0.25, "K": 0.5})}
    assert functions["g"].arity == 2
    assert functions["h"].body(X) == X / (X + sp.Float(0.5))
    assert sp.simplify(functions["g"].body(X, Y) - (2 * X * Y + Y / (Y + 0.5))) == 0
    # a function of a state or of the time cannot be evaluated from the inputs
    assert functions["uses_state"].body(X) is None
    assert functions["uses_time"].body(X) is None


def test_function_terms_in_the_library():
    program = parse(MODEL, "m.sf")
    lib = build_library([X, Y], degree=2, functions=model_functions(program, program.models[0]))
    names = lib.names()
    # every ordered choice of distinct inputs; the ones that need a state are left out;
    # square(x) is the monomial x^2 already in the library
    assert {"h(x)", "h(y)", "g(x, y)", "g(y, x)"} <= set(names)
    assert not any(n.startswith(("uses_", "square")) for n in names)
    z = np.array([[0.5, 2.0], [1.5, -0.5]])
    values = lib.evaluate(z)
    k = names.index("g(y, x)")
    x, y = z[:, 0], z[:, 1]
    np.testing.assert_allclose(values[:, k], 2 * x * y + x / (1.0 + x), rtol=1e-15)
