"""The symbolic Milstein term against the same term by automatic differentiation.

`1/2 sum_{j1 j2} (L^{j1} g_{j2}) (dW_j1 dW_j2 - [Itô] delta_{j1 j2} h)` with
`L^{j} g = (dg/dy) g_j` is computed here with `jax.jacfwd` of the generated
diffusion columns, and compared with the generated `milstein` (SymPy).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve.stochastic.solvers import make_sde_solver
from symflow.solve.stochastic.terms import SymbolicMilstein, SymbolicStratonovichMilstein


def _model(equations: str, brownian: str, variables: str) -> str:
    return model_text("sde_derivatives_template").format(
        variables=variables, brownian=brownian, equations=equations)


CASES = {
    # two scalar states, two motions, equal columns (commutative, not diagonal)
    "commutative": _model("d(x) = -x*dt + s*x*dW1 + x*dW2\n    d(y) = -y*dt + s*x*dW1 + x*dW2",
                          "W1, W2", "x = 1.0\n    y = 2.0"),
    # diagonal: each state its own motion, nonlinear coefficients
    "diagonal": _model("d(x) = -x*dt + s*sin(x)*dW1\n    d(y) = a*dt + sqrt(1 + y^2)*dW2",
                       "W1, W2", "x = 1.0\n    y = 2.0"),
    # one motion driving an array state (commutative)
    "array": _model("d(z) = -z*dt + s*z^2*dW", "W", "z[3] = 1.0"),
}


def _autodiff_milstein(g, y, p, dw, h):
    columns = g.diffusion(0.0, y, p)
    jacobians = jax.jacfwd(lambda y_: jnp.stack(g.diffusion(0.0, y_, p)))(y)  # (m, n, n)
    m = len(columns)
    total = jnp.zeros_like(y)
    for j1 in range(m):
        for j2 in range(m):
            lg = jacobians[j2] @ columns[j1]
            total += 0.5 * lg * (dw[j1] * dw[j2] - (h if j1 == j2 else 0.0))
    return total


@pytest.mark.parametrize("case", sorted(CASES))
def test_symbolic_milstein_term_matches_autodiff(case):
    m = symflow.loads(CASES[case])
    g = m.generated
    assert g.milstein is not None, g.source
    p = g.parameter_defaults({})
    rng = np.random.default_rng(1)
    y = jnp.asarray(rng.uniform(0.5, 1.5, size=g.n_states))
    dw = jnp.asarray(rng.normal(size=sum(g.brownian_sizes)) * 0.1)
    for h in (0.01, 0.0):  # Itô, Stratonovich
        np.testing.assert_allclose(np.asarray(g.milstein(0.0, y, p, dw, h)),
                                   np.asarray(_autodiff_milstein(g, y, p, dw, h)),
                                   rtol=1e-12, atol=1e-14)


def test_milstein_uses_the_symbolic_term():
    g = symflow.loads(CASES["diagonal"]).generated
    assert isinstance(make_sde_solver("milstein", "ito", g.milstein), SymbolicMilstein)
    assert isinstance(make_sde_solver("milstein", "stratonovich", g.milstein),
                      SymbolicStratonovichMilstein)


def test_general_noise_has_no_milstein_term():
    text = _model("d(x) = -x*dt + s*x*dW1\n    d(y) = -y*dt + s*x*dW2", "W1, W2",
                  "x = 1.0\n    y = 2.0")
    assert symflow.loads(text).generated.milstein is None
