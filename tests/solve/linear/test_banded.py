"""The banded linear solve of implicit PDE solves: exactness against dense linear
algebra, the bandwidth read from the stencils, and a Kvaerno5 heat solve that
never holds an N×N array."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest

import symflow
from symflow.solve import SolveConfig, save_times
from symflow.solve.linear import BandedLinearSolver, band_matvec, band_of


def banded_matrix(n, w, seed):
    rng = np.random.default_rng(seed)
    a = np.zeros((n, n))
    for i in range(n):
        for j in range(max(0, i - w), min(n, i + w + 1)):
            a[i, j] = rng.normal()
        a[i, i] += 4 * w + 2  # diagonally dominant, as I - γJ of diffusion is
    return a


@pytest.mark.parametrize("n, w", [(12, 1), (17, 3)])
def test_banded_solve_matches_dense(n, w):
    a = banded_matrix(n, w, seed=n + w)
    b = np.random.default_rng(1).normal(size=n)

    @jax.jit
    def run(a, b):
        op = lx.FunctionLinearOperator(lambda x: a @ x, jax.ShapeDtypeStruct((n,), a.dtype))
        solver = BandedLinearSolver(w)
        band = band_of(op.mv, n, w)
        x = lx.linear_solve(op, b, solver).value
        state, _ = solver.transpose(solver.init(op, {}), {})
        xt, _, _ = solver.compute(state, b, {})
        return band_matvec(band, b), x, xt

    ab, x, xt = run(jnp.asarray(a), jnp.asarray(b))
    np.testing.assert_allclose(ab, a @ b, rtol=1e-13)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(xt, np.linalg.solve(a.T, b), rtol=1e-11, atol=1e-13)


def test_tridiagonal_solve_without_diagonal_dominance_pivots():
    """The Thomas sweeps do not pivot: a zero leading pivot (and a tiny later one)
    must send the solve to LAPACK's pivoting `gtsv`, not give NaN."""
    n = 9
    rng = np.random.default_rng(3)
    a = np.diag(rng.normal(size=n - 1), -1) + np.diag(rng.normal(size=n - 1), 1)
    a += np.diag(rng.normal(size=n))
    a[0, 0] = 0.0  # A = [[0, a01, ...], [a10, ...]]: invertible, but pivot 0 is zero
    assert abs(np.linalg.det(a)) > 1e-3
    b = rng.normal(size=n)
    op = lx.MatrixLinearOperator(jnp.asarray(a))
    solver = BandedLinearSolver(1)
    x = jax.jit(lambda b: lx.linear_solve(op, b, solver).value)(jnp.asarray(b))
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    state = solver.init(op, {})
    assert not bool(state[1][-1])  # the factors were refused: the fallback ran


HEAT = """model Heat
  parameters
    kappa = 1.0
  domain
    x in [0, 1], points = {n}
  variables
    u(x) = {u0}
  equations
    der(u) = kappa*diff(u, x, 2) + {source}
  boundary
{bcs}
  simulate
    tspan = [0, 0.1]
    order = {order}
    solver = kvaerno5
    rtol = 1e-8
    atol = 1e-10
end
"""
DIRICHLET = "    u = 0 at x = 0\n    u = 0 at x = 1"
NEUMANN = "    diff(u, x) = 0 at x = 0\n    diff(u, x) = 0 at x = 1"


def bandwidth(order, bcs, source="0"):
    m = symflow.loads(HEAT.format(n=41, u0="sin(pi*x)", source=source, bcs=bcs, order=order))
    band = m.runner.band(m.params, 0.0)
    return None if band is None else band.width


def test_bandwidth_from_the_stencils():
    assert bandwidth(2, DIRICHLET) == 1  # tridiagonal: 3 JVPs
    assert bandwidth(2, NEUMANN, source="u*(1 - u)") == 1  # ghost points keep it
    assert bandwidth(4, DIRICHLET) == 4  # the one-sided closure next to the end
    assert bandwidth(2, DIRICHLET, source="u[20]") is None  # non-local: no band


def test_implicit_heat_solve_without_dense_jacobian():
    n = 101
    m = symflow.loads(HEAT.format(n=n, u0="sin(pi*x)", source="0", bcs=DIRICHLET, order=2))
    ts = save_times((0.0, 0.1), 3)
    config = SolveConfig(solver="kvaerno5", t0=0.0, t1=0.1, rtol=1e-8, atol=1e-10,
                         dt0=None, max_steps=10_000, n_save=3,
                         linear=m.runner.band(m.params, 0.0))
    lowered = m.runner.simulator.solve_fn(config).lower(m.params, {}, ts)
    text = lowered.as_text()
    assert f"{n}x{n}x" not in text and f"[{n},{n}]" not in text  # never an N×N array
    sol = lowered.compile()(m.params, {}, ts)
    assert int(sol.result) == 0
    x = m.system.domain[0].grid()
    exact = np.exp(-np.pi**2 * 0.1) * np.sin(np.pi * x)
    # the spatial error of order 2 at h = 0.01: about kappa pi^4 h^2/12 t exp(-pi^2 t) = 3e-5
    np.testing.assert_allclose(sol["u"][-1], exact, atol=4e-5)
    # ... and the banded solve is the dense solve: same answer as the explicit solver
    ref = m.simulate(solver="tsit5", rtol=1e-10, atol=1e-12, saveat=3)
    np.testing.assert_allclose(sol["u"][-1], ref["u"][-1], atol=1e-7)


@pytest.mark.slow
def test_gradient_through_banded_implicit_solve():
    m = symflow.loads(HEAT.format(n=41, u0="sin(pi*x)", source="0", bcs=DIRICHLET, order=2))

    def loss(kappa):
        sol = m.simulate(params={"kappa": kappa}, saveat=2)
        return jnp.sum(sol["u"][-1] ** 2)

    g = jax.grad(loss)(1.0)
    h = 1e-5
    fd = (loss(1.0 + h) - loss(1.0 - h)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-4)
