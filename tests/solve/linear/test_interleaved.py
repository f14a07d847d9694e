"""Banded implicit solves for 1-D PDEs with several fields (interleaved band) and on
periodic grids (cyclic band + Woodbury): exactness against dense linear algebra,
band recovery against `jax.jacfwd`, a Brusselator against scipy's BDF on the same
discretization, a periodic heat equation against its exact semi-discrete solution,
and compiled programs without an N×N array."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve import Dense, SolveConfig, save_times
from symflow.solve.linear import (
    Band,
    InterleavedBandedSolver,
    band_of,
    cyclic_band_of,
    deinterleave,
    interleave,
)
from symflow.solve.solvers import make_solver


def interleaved_matrix(points, fields, w, periodic, seed):
    """A diagonally dominant matrix, banded (cyclically if `periodic`) in the
    interleaved order, returned in the field-major order the solver sees."""
    rng = np.random.default_rng(seed)
    n = points * fields
    a = np.zeros((n, n))
    for i in range(n):
        for d in range(-w, w + 1):
            j = i + d
            if periodic:
                j %= n
            elif not 0 <= j < n:
                continue
            a[i, j] = rng.normal()
        a[i, i] += 4 * w + 2
    order = np.asarray(interleave(np.arange(n), fields))  # interleaved -> field-major
    field_major = np.empty_like(a)
    field_major[np.ix_(order, order)] = a
    return field_major


@pytest.mark.parametrize("points, fields, w, periodic", [
    (13, 2, 2, False), (11, 3, 5, False), (20, 1, 1, True), (9, 2, 2, True),
    (17, 3, 4, True),  # 51 states: 51 mod 9 = 6 columns of their own colour
])
def test_solve_matches_dense(points, fields, w, periodic):
    a = interleaved_matrix(points, fields, w, periodic, seed=points + w)
    n = a.shape[0]
    b = np.random.default_rng(2).normal(size=n)
    solver = InterleavedBandedSolver(w, fields, periodic)

    @jax.jit
    def run(a, b):
        op = lx.FunctionLinearOperator(lambda x: a @ x, jax.ShapeDtypeStruct((n,), a.dtype))
        x = lx.linear_solve(op, b, solver).value
        state, _ = solver.transpose(solver.init(op, {}), {})
        xt, _, _ = solver.compute(state, b, {})
        return x, xt

    x, xt = run(jnp.asarray(a), jnp.asarray(b))
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(xt, np.linalg.solve(a.T, b), rtol=1e-11, atol=1e-13)


def test_cyclic_band_recovery_is_exact():
    a = interleaved_matrix(10, 1, 3, True, seed=5)  # 10 mod 7 = 3 tail colours
    band = cyclic_band_of(lambda x: jnp.asarray(a) @ x, 10, 3)
    for d in range(-3, 4):
        np.testing.assert_array_equal(band[3 + d], a[np.arange(10), (np.arange(10) + d) % 10])


BRUSSELATOR = model_text("brusselator_1d_template")
NEUMANN = """  boundary
    diff(u, x) = 0 at x = 0
    diff(u, x) = 0 at x = 1
    diff(v, x) = 0 at x = 0
    diff(v, x) = 0 at x = 1"""


def brusselator(n, periodic=False, t1=10):
    return symflow.loads(BRUSSELATOR.format(n=n, periodic=", periodic" if periodic else "",
                                            boundary="" if periodic else NEUMANN, t1=t1))


@pytest.mark.parametrize("periodic", [False, True])
def test_band_recovery_matches_jacfwd(periodic):
    """The band probed through the permutation is the dense Jacobian's, to 1e-12
    (the probe sums products on coloured seeds: rounding is all that differs)."""
    m = brusselator(15, periodic)
    band = m.runner.band(m.params, 0.0).band
    assert band == Band(2, 2, periodic)  # u_i - v_i is 1 apart, u_i - u_{i+1} is 2
    n = m.generated.n_states
    y = jax.random.normal(jax.random.key(3), (n,))
    jac = np.asarray(jax.jacfwd(lambda z: m.generated.rhs(0.0, z, m.params))(y))
    order = np.asarray(interleave(np.arange(n), 2))
    dense = jac[np.ix_(order, order)]
    _, linear = jax.linearize(lambda z: m.generated.rhs(0.0, z, m.params), y)
    probe = cyclic_band_of if periodic else band_of
    got = np.asarray(probe(lambda z: interleave(linear(deinterleave(z, 2)), 2), n, 2))
    rows = np.arange(n)
    covered = np.zeros_like(dense, dtype=bool)
    for d in range(-2, 3):
        cols = rows + d
        inside = (cols >= 0) & (cols < n) if not periodic else np.ones(n, bool)
        np.testing.assert_allclose(got[2 + d][inside], dense[rows, cols % n][inside],
                                   rtol=0, atol=1e-12)
        covered[rows[inside], cols[inside] % n] = True
    assert np.all(dense[~covered] == 0)  # nothing outside the band was missed
    h = 1 / (15 if periodic else 14)  # ... and diagonal 2 holds the diffusion alpha/h^2
    np.testing.assert_allclose(np.median(got[4][got[4] != 0]), 0.02 / h**2, rtol=1e-12)


@pytest.mark.slow
def test_brusselator_against_scipy_bdf():
    """Kvaerno5 through the interleaved band against scipy's BDF (its own Newton
    solves on a finite-difference sparse Jacobian) on the same discretization."""
    from scipy.integrate import solve_ivp
    from scipy.sparse import csr_matrix

    m = brusselator(60)
    sol = m.simulate(saveat=3)
    assert int(sol.result) == 0
    n = m.generated.n_states
    rhs = jax.jit(lambda y: m.generated.rhs(0.0, y, m.params))
    order = np.asarray(interleave(np.arange(n), 2))
    pattern = np.zeros((n, n))  # the interleaved band of half-width 2, field-major
    for i in range(n):
        for d in range(-2, 3):
            if 0 <= i + d < n:
                pattern[order[i], order[i + d]] = 1
    y0 = np.concatenate([np.asarray(sol["u"][0]), np.asarray(sol["v"][0])])
    ref = solve_ivp(lambda t, y: np.asarray(rhs(jnp.asarray(y))), (0.0, 10.0), y0,
                    method="BDF", rtol=1e-10, atol=1e-12, jac_sparsity=csr_matrix(pattern))
    assert ref.success
    u, v = ref.y[:n // 2, -1], ref.y[n // 2:, -1]
    assert np.max(np.abs(u - y0[:n // 2])) > 0.5  # it has moved far from its start
    np.testing.assert_allclose(sol["u"][-1], u, atol=2e-6)
    np.testing.assert_allclose(sol["v"][-1], v, atol=2e-6)


def test_periodic_heat_against_the_exact_semidiscrete_solution():
    """u_t = u_xx on a periodic grid of n points: the mode exp(i k x_j) decays at
    exactly (4/h^2) sin^2(k h/2) under the order-2 stencil. Kvaerno5 through the
    cyclic band (the tridiagonal factors + a rank-2 Woodbury correction)."""
    n, t1 = 64, 0.05
    m = symflow.loads(model_text("periodic_heat_template").format(n=n, t1=t1))
    assert m.runner.band(m.params, 0.0).band == Band(1, 1, True)
    sol = m.simulate(saveat=2)
    h = 1.0 / n
    x = np.arange(n) * h

    def decay(k):  # k: wavenumber 2*pi*j
        return np.exp(-4 / h**2 * np.sin(k * h / 2) ** 2 * t1)

    exact = (decay(2 * np.pi) * np.sin(2 * np.pi * x) + 0.5 * decay(6 * np.pi)
             * np.cos(6 * np.pi * x) + 0.2 * decay(40 * np.pi) * np.sin(40 * np.pi * x))
    np.testing.assert_allclose(sol["u"][-1], exact, atol=2e-8)
    # the stiff mode (rate 4/h^2 sin^2 = 1.4e4 over t1) decays to 1e-28: it was stiff
    assert decay(40 * np.pi) < 1e-20


# the non-periodic case slow (a compile, ~7 s quiet): the periodic one covers the layout
@pytest.mark.parametrize("periodic", [pytest.param(False, marks=pytest.mark.slow), True])
def test_compiled_solve_has_no_dense_jacobian(periodic):
    points = 400
    m = brusselator(points, periodic, t1=0.1)
    n = m.generated.n_states
    band = m.runner.band(m.params, 0.0)
    solver = make_solver("kvaerno5", linear=band)
    assert isinstance(solver.root_finder.linear_solver, InterleavedBandedSolver)
    ts = save_times((0.0, 0.1), 2)
    config = SolveConfig(solver="kvaerno5", t0=0.0, t1=0.1, rtol=1e-6, atol=1e-9,
                         dt0=None, max_steps=10_000, n_save=2, linear=band)
    lowered = m.runner.simulator.solve_fn(config).lower(m.params, {}, ts)
    text = lowered.as_text()
    assert f"{n}x{n}x" not in text and f"[{n},{n}]" not in text  # never an N×N array
    compiled = lowered.compile()
    # the temporaries stay far below one dense N×N matrix (10 MiB at N = 800)
    assert compiled.memory_analysis().temp_size_in_bytes < 8 * n * n / 4
    sol = compiled(m.params, {}, ts)
    assert int(sol.result) == 0 and np.all(np.isfinite(sol["u"]))


def test_scalar_state_next_to_fields_warns_of_the_dense_jacobian():
    m = symflow.loads("""model Mixed
  domain
    x in [0, 1], points = 1200
  variables
    u(x) = sin(pi*x)
    w = 0
  equations
    der(u) = diff(u, x, 2) - w
    der(w) = -w + u[10]
  boundary
    u = 0 at x = 0
    u = 0 at x = 1
  simulate
    tspan = [0, 0.001]
    solver = kvaerno5
end
""")
    ts = save_times((0.0, 0.001), 2)
    with pytest.warns(UserWarning, match="dense 1201x1201 Jacobian"):
        config = m.runner.ode_config(ts, m.params, {}, solver=None, rtol=None, atol=None, dt=None,
                               max_steps=None, adjoint="checkpoint")
    assert config.linear == Dense()


@pytest.mark.slow
@pytest.mark.parametrize("periodic", [False, True])
def test_gradient_through_the_interleaved_solve(periodic):
    """Reverse mode through Kvaerno5 runs the transposed band solves (the cyclic
    transpose with its own Woodbury correction when periodic)."""
    m = brusselator(15, periodic, t1=0.5)

    def loss(alpha):
        sol = m.simulate(params={"alpha": alpha}, saveat=2)
        return jnp.sum(sol["u"][-1] ** 2 + sol["v"][-1] ** 2)

    g = jax.grad(loss)(0.02)
    h = 1e-5
    fd = (loss(0.02 + h) - loss(0.02 - h)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-4)
