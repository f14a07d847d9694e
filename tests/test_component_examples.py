"""The component examples built from arrays of components, each against an
independent reference: a sparse-matrix solve with scipy, the eigenvalues of a
stiffness matrix, the matrix exponential of the discretized heat equation, and
scipy's integration of the swing equations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.sparse

import symflow


def _load(examples_dir, name: str) -> symflow.Model:
    return symflow.load(examples_dir / f"{name}.sf")


def _states(sol, names: list[str]) -> np.ndarray:
    return np.stack([np.asarray(sol[name]) for name in names], axis=1)


def _second_difference(n: int) -> np.ndarray:
    """Neighbour coupling of a chain fixed at its start and free at its end:
    -2 on the diagonal (-1 in the last row), 1 beside it."""
    a = np.diag(-2.0 * np.ones(n)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)
    a[-1, -1] = -1.0
    return a


@pytest.mark.slow
def test_rc_ladder_matches_a_sparse_scipy_solve(examples_dir):
    m = _load(examples_dir, "rc_ladder")
    n = 20
    resistance = np.linspace(0.5, 2.0, n)  # one value per section: the array parameter
    sol = m.simulate(params={"r.R": resistance}, rtol=1e-9, atol=1e-11)
    # C dv_k/dt = (v_{k-1} - v_k)/R_k - (v_k - v_{k+1})/R_{k+1}, v_{-1} = V = 1
    g = 1.0 / resistance
    upper = np.append(g[1:], 0.0)  # conductance to the next section (none after the last)
    a = scipy.sparse.diags([-(g + upper), g[1:], g[1:]], [0, 1, -1], format="csc")
    b = np.zeros(n)
    b[0] = g[0]
    reference = scipy.integrate.solve_ivp(lambda t, v: a @ v + b, (0.0, 200.0), np.zeros(n),
                                          method="BDF", jac=a, t_eval=np.asarray(sol.t),
                                          rtol=1e-10, atol=1e-12)
    got = _states(sol, [f"c[{k}].vc" for k in range(n)])
    np.testing.assert_allclose(got, reference.y.T, atol=2e-6)
    assert got[-1, -1] > 0.5  # the line has charged well past half the source voltage


def test_mass_spring_chain_normal_modes(examples_dir):
    m = _load(examples_dir, "mass_spring_chain")
    n = 10
    stiffness = -_second_difference(n)  # K/m for unit springs and masses
    omega2, shapes = np.linalg.eigh(stiffness)
    # the Jacobian of the generated right-hand side at rest: eigenvalues ±i omega_k
    g = m.generated
    p = g.parameter_defaults(m.params)
    jac = np.asarray(jax.jacfwd(lambda y: g.rhs(0.0, y, p))(jnp.zeros(g.n_states)))
    frequencies = np.sort(np.abs(np.linalg.eigvals(jac).imag))[::2]
    np.testing.assert_allclose(frequencies, np.sqrt(omega2), rtol=1e-10)
    # started in the second mode, the chain stays in it: s(t) = a shape cos(omega t)
    mode, amplitude = 1, 0.05
    initial = {f"body[{k}].s": amplitude * shapes[k, mode] for k in range(n)}
    sol = m.simulate(initial=initial, solver="tsit5", rtol=1e-9, atol=1e-12)
    t = np.asarray(sol.t)
    expected = amplitude * np.cos(np.sqrt(omega2[mode]) * t)[:, None] * shapes[:, mode]
    got = _states(sol, [f"body[{k}].s" for k in range(n)])
    np.testing.assert_allclose(got, expected, atol=1e-7)


def test_thermal_rod_is_the_discretized_heat_equation(examples_dir):
    m = _load(examples_dir, "thermal_rod")
    n = 12
    a = _second_difference(n)  # G/C = 1
    b = np.zeros(n)
    b[0] = 400.0  # the held end, one segment away
    names = [f"seg[{k}].T" for k in range(n)]
    g = m.generated
    start = {layout.name: layout.start for layout in g.states}
    order = [start[name] for name in names]
    # the generated right-hand side is the heat equation's, to rounding
    temperatures = 300.0 + 100.0 * np.random.default_rng(0).uniform(size=n)
    y = np.zeros(g.n_states)
    y[order] = temperatures
    rhs = np.asarray(g.rhs(0.0, jnp.asarray(y), g.parameter_defaults(m.params)))[order]
    np.testing.assert_allclose(rhs, a @ temperatures + b, rtol=1e-12, atol=1e-10)
    # and the solution its matrix exponential: T(t) = 400 + exp(A t) (T0 - 400)
    sol = m.simulate(tspan=(0.0, 100.0), saveat=11, solver="tsit5", rtol=1e-8, atol=1e-8)
    expected = np.stack([400.0 + scipy.linalg.expm(a * t) @ np.full(n, -100.0)
                         for t in np.asarray(sol.t)])
    np.testing.assert_allclose(_states(sol, names), expected, atol=1e-5)


@pytest.mark.slow
def test_swing_ring_matches_scipy(examples_dir):
    m = _load(examples_dir, "swing_ring")
    n, damping, coupling = 8, 0.5, 2.0
    power = np.array([1, -1, 0.5, -0.5, 1, -1, 0.5, -0.5])
    angle = np.array([0, 0.3, -0.2, 0.1, 0.4, -0.3, 0.2, -0.1])

    def swing(t, y):
        theta, omega = y[:n], y[n:]
        flow = coupling * (np.sin(theta - np.roll(theta, -1)) + np.sin(theta - np.roll(theta, 1)))
        return np.concatenate([omega, power - damping * omega - flow])

    sol = m.simulate(rtol=1e-10, atol=1e-12)
    reference = scipy.integrate.solve_ivp(swing, (0.0, 10.0), np.concatenate([angle, np.zeros(n)]),
                                          method="DOP853", t_eval=np.asarray(sol.t),
                                          rtol=1e-12, atol=1e-12)
    names = [f"gen[{k}].theta" for k in range(n)] + [f"gen[{k}].omega" for k in range(n)]
    np.testing.assert_allclose(_states(sol, names), reference.y.T, atol=1e-7)
