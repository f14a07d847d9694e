"""Generated code: vectorized, readable, and equal to a hand-written jnp twin."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.codegen import emit
from symflow.lang import parse
from symflow.passes import simplify
from symflow.symbolic import build


def _chain(n: int) -> str:
    return f"""
model Chain
  parameters
    k = 0.7
    inflow = 0.2
  constants
    n = {n}
  variables
    x[n] = 0
  equations
    der(x[0]) = inflow - k*x[0]
    der(x[1:]) = k*x[:-1] - k*x[1:]
  observed
    total = sum(x)
end
"""


def test_source_does_not_grow_with_array_length():
    small = emit(simplify(build(parse(_chain(5)))))
    large = emit(simplify(build(parse(_chain(5000)))))
    # Only the numbers in the layout line differ; no per-element code.
    assert abs(len(large) - len(small)) < 40
    assert "v_x[1:5000]" in large or "v_x[0:4999]" in large


def test_rhs_matches_handwritten_twin():
    m = symflow.loads(_chain(6))

    def twin(t, x, k, inflow):
        first = inflow - k * x[0]
        rest = k * x[:-1] - k * x[1:]
        return jnp.concatenate([jnp.reshape(first, (1,)), rest])

    y = jnp.linspace(0.1, 1.0, 6)
    p = {"k": jnp.asarray(0.3), "inflow": jnp.asarray(1.1)}
    np.testing.assert_allclose(m.rhs(0.0, y, p), twin(0.0, y, 0.3, 1.1), rtol=1e-15)


def test_floats_keep_every_digit():
    m = symflow.loads("""
model Digits
  parameters
    a = 1.2345678901234567
  variables
    x = 0.1234567890123456789
  equations
    der(x) = 3.141592653589793*a
end
""")
    assert "3.141592653589793" in m.source
    assert float(m.params["a"]) == 1.2345678901234567
    assert float(m.initial["x"]) == 0.1234567890123456789


def test_conditionals_and_builtins_evaluate_correctly():
    m = symflow.loads("""
model Mixed
  parameters
    a = 2
  variables
    x = 0.5
  equations
    der(x) = (if x > 1 and not (a < 0) then min(x, a) else max(x, a, 3)) + atan2(x, a) + sign(-x) + abs(-a)
end
""")  # noqa: E501 - the model's one equation, kept on one line as written
    y = jnp.array([0.5])
    expected = max(0.5, 2, 3) + np.arctan2(0.5, 2) - 1 + 2
    np.testing.assert_allclose(m.rhs(0.0, y)[0], expected, rtol=1e-14)
    y = jnp.array([1.5])
    expected = min(1.5, 2) + np.arctan2(1.5, 2) - 1 + 2
    np.testing.assert_allclose(m.rhs(0.0, y)[0], expected, rtol=1e-14)


def test_common_subexpressions_are_shared():
    m = symflow.loads("""
model Shared
  parameters
    k = 1
  variables
    x = 1
    y = 1
  equations
    der(x) = exp(sin(k*x*y)) + 1
    der(y) = exp(sin(k*x*y)) - 1
end
""")
    body = m.source.split("def rhs")[1].split("def observed")[0]
    assert body.count("jnp.sin(") == 1


def test_generated_module_is_importable_standalone(tmp_path):
    m = symflow.loads(_chain(4))
    path = tmp_path / "chain_model.py"
    path.write_text(m.source)
    namespace = {}
    import importlib.util
    spec = importlib.util.spec_from_file_location("chain_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    p = module.parameter_defaults({})
    y0 = jnp.concatenate([jnp.ravel(v) for v in module.initial_values(p).values()])
    assert module.rhs(0.0, y0, p).shape == (4,)
    assert module.N_STATES == 4
    del namespace


@pytest.mark.parametrize("n", [3, 50])
def test_jacobian_of_generated_rhs(n):
    m = symflow.loads(_chain(n))
    y = jnp.linspace(0.0, 1.0, n)
    jac = jax.jacfwd(lambda y: m.rhs(0.0, y))(y)
    k = 0.7
    expected = -k * np.eye(n) + k * np.eye(n, k=-1)
    np.testing.assert_allclose(jac, expected, atol=1e-15)


def test_reciprocal_and_inverse_functions_match_their_closed_forms():
    """`sech` and the other reciprocal and inverse functions print to finite JAX
    expressions: der(x) = sech(x) solves to sinh(x) = sinh(x0) + t, which runs x
    through 0 and out to sinh(x) = 30, where exp-based printing of sech would lose
    digits; the output y = x + 5 + 1 + ... is an identity."""
    m = symflow.loads(model_text("sech_growth"))
    sol = m.simulate()
    t = np.asarray(sol.t)
    x = np.asarray(sol["x"])
    np.testing.assert_allclose(x, np.arcsinh(np.sinh(-3.0) + t), rtol=1e-7, atol=1e-8)
    expected_y = x + 5.0 + 0.5 + 0.5
    np.testing.assert_allclose(np.asarray(sol["y"]), expected_y, rtol=1e-9)
