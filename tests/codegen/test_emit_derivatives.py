"""The generated symbolic derivatives (f, df/dt, df/dy) against autodiff of `rhs`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.codegen import derivatives_source, load_derivatives


@pytest.mark.parametrize("name", ["robertson", "slow_manifold", "pendulum"])
def test_derivatives_match_autodiff_of_the_rhs(name):
    # pendulum: a DAE reduced to an ODE by the passes; slow_manifold: time-dependent
    m = symflow.loads(model_text(name))
    g, p = m.generated, m.complete_params(None)
    derivatives = load_derivatives(m.system)
    assert derivatives is not None
    y = m.runner.simulator.pack(m.initial) + jnp.linspace(0.1, 0.3, g.n_states)
    f, f_t, jac = derivatives(0.7, y, p)
    np.testing.assert_allclose(f, g.rhs(0.7, y, p), rtol=1e-14)
    np.testing.assert_allclose(f_t, jax.jacfwd(lambda t: g.rhs(t, y, p))(0.7), rtol=1e-13,
                               atol=1e-300)
    np.testing.assert_allclose(jac, jax.jacfwd(lambda z: g.rhs(0.7, z, p))(y), rtol=1e-13)
    if name == "slow_manifold":  # der(x) = cos(t) - y: df/dt = -sin(t) in row 0
        assert float(f_t[0]) == pytest.approx(-np.sin(0.7), rel=1e-14)


def test_models_outside_the_symbolic_path_have_none():
    # an array state is one array expression: the path is for scalar states
    assert derivatives_source(symflow.loads(model_text("decay_with_array")).system) is None
    # sign(x) differentiates to a DiracDelta: taken as zero, as autodiff has it
    m = symflow.loads(SIGN)
    source = derivatives_source(m.system)
    assert source is not None and "DiracDelta" not in source
    derivatives = load_derivatives(m.system)
    _, _, jac = derivatives(0.0, jnp.array([0.5]), m.complete_params(None))
    # d/dx (-x + sign(x) + abs(x)*x - x^2) at 0.5 = -1 + 0 + 2*0.5 - 2*0.5
    np.testing.assert_allclose(jac, [[-1.0]], rtol=1e-15)


SIGN = """
model Sign
  variables
    x = 0.5
  equations
    der(x) = -x + sign(x) + abs(x)*x - x^2
end
"""


@pytest.mark.slow
def test_rodas5p_gives_the_same_solution_with_either_jacobian():
    # autodiff is the default (measured faster or equal: solve/runner.py); the symbolic
    # derivatives are switched on for this model
    m = symflow.loads(model_text("robertson"))
    autodiff = m.simulate(solver="rodas5p")
    m.runner.simulator.derivatives = m.runner.derivatives
    symbolic = m.simulate(solver="rodas5p", rtol=1.000001e-8)  # a new configuration
    assert m.runner.derivatives() is not None
    for state in ("y1", "y2", "y3"):
        np.testing.assert_allclose(symbolic[state], autodiff[state], rtol=1e-9, atol=1e-20)
