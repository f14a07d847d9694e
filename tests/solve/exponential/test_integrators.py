"""Exponential integrators: φ-functions, orders of convergence against known
solutions and fine references, Kuramoto–Sivashinsky against a hand-written
ETDRK4, Allen–Cahn with finite differences, gradients and errors.

Convergence runs use one jitted solve per method with the step as an argument
(`fixed_step`), so a refinement costs one compile; `simulate` itself is
exercised on the same models.
"""

import pathlib

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf

import symflow
from symflow.errors import SymflowError
from symflow.solve.exponential.integrators import phi_functions

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"



def fixed_step(model, method: str, t1: float, *, max_steps: int = 20_000):
    """`dt -> y(t1)` for one model and exponential method, jitted once."""
    setup = model.runner.exponential(method, from_file=False)
    p = model.complete_params(model.params)
    y0 = model.runner.simulator.pack(model.initial_values(p))
    t0 = float(model.settings.tspan[0])

    @jax.jit
    def solve(dt):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(setup.nonlinear), setup.make_solver(p, t0), t0=t0, t1=t1,
            dt0=dt, y0=y0, args=p, stepsize_controller=diffrax.ConstantStepSize(),
            saveat=diffrax.SaveAt(t1=True), max_steps=max_steps)
        return sol.ys[0]

    return solve


def orders(errors):
    errors = np.asarray(errors)
    return np.log2(errors[:-1] / errors[1:])


# ---------------------------------------------------------------- φ-functions


def test_phi_functions_match_closed_forms_and_series():
    z = np.array([-200.0, -3.0, -0.5, 0.7, 2.0])
    p1, p2, p3 = (np.asarray(p) for p in phi_functions(jnp.asarray(z)))
    np.testing.assert_allclose(p1, np.expm1(z) / z, rtol=1e-13)
    np.testing.assert_allclose(p2, (np.expm1(z) - z) / z**2, rtol=1e-12)
    np.testing.assert_allclose(p3, (np.expm1(z) - z - z**2 / 2) / z**3, rtol=1e-11)
    # small |z|, where the closed forms cancel: the Taylor series 1/(k+j)!
    small = np.array([1e-9, -1e-6, 1e-3])
    q1, q2, q3 = (np.asarray(p) for p in phi_functions(jnp.asarray(small)))
    from math import factorial

    for k, q in ((1, q1), (2, q2), (3, q3)):
        series = sum(small**j / factorial(k + j) for j in range(6))
        np.testing.assert_allclose(q, series, rtol=1e-14)
    # complex arguments (advection: imaginary eigenvalues)
    w = np.array([2j, -1 + 3j])
    c1, _, _ = phi_functions(jnp.asarray(w))
    np.testing.assert_allclose(np.asarray(c1), np.expm1(w) / w, rtol=1e-13)


# ---------------------------------------------------------------- scalar problems

BERNOULLI = """
model Bernoulli
  parameters
    k = 2
  variables
    x = 0.5
  equations
    der(x) = -k*x + x^2
end
"""


def bernoulli_exact(t, k=2.0, x0=0.5):
    # w = 1/x solves w' = k w - 1
    return 1 / ((1 / x0 - 1 / k) * np.exp(k * t) + 1 / k)


@pytest.fixture(scope="module")
def bernoulli():
    return symflow.loads(BERNOULLI)


@pytest.mark.parametrize("method, order", [
    ("expeuler", 1), ("lawson", 4),
    pytest.param("etdrk4", 4, marks=pytest.mark.slow),  # KS and Allen-Cahn measure it
])
def test_orders_on_a_scalar_problem_with_known_solution(bernoulli, method, order):
    solve = fixed_step(bernoulli, method, 2.0)
    steps = [0.1, 0.05, 0.025, 0.0125] if order == 1 else [0.2, 0.1, 0.05, 0.025]
    errors = [abs(float(solve(h)[0]) - bernoulli_exact(2.0)) for h in steps]
    measured = orders(errors)  # pre-asymptotic at the largest step: 3.82, 3.91, 3.96
    assert np.all(np.abs(measured - order) < 0.25) and abs(measured[-1] - order) < 0.1, \
        measured


def test_gradient_through_simulate(bernoulli):
    def loss(k):
        s = bernoulli.simulate({"k": k}, solver="lawson", dt=0.05, tspan=(0, 2), saveat=2)
        return s["x"][-1]

    g = float(jax.grad(loss)(jnp.asarray(2.0)))
    fd = (bernoulli_exact(2.0, k=2.0 + 1e-6) - bernoulli_exact(2.0, k=2.0 - 1e-6)) / 2e-6
    assert abs(g - fd) < 1e-5 * abs(fd)


def test_time_varying_coefficient_lawson_and_expeuler():
    # x' = -(1 + t) x + x^2: w = 1/x solves w' = (1 + t) w - 1.
    m = symflow.loads("""
model TimeVarying
  variables
    x = 0.5
  equations
    der(x) = -(1 + t)*x + x^2
end
""")

    def exact(t):
        a = t + t**2 / 2
        integral = np.exp(0.5) * np.sqrt(np.pi / 2) * (erf((t + 1) / np.sqrt(2))
                                                       - erf(1 / np.sqrt(2)))
        return 1 / (np.exp(a) * (2.0 - integral))

    lawson = fixed_step(m, "lawson", 1.5)
    errors = [abs(float(lawson(h)[0]) - exact(1.5)) for h in (0.15, 0.075, 0.0375)]
    assert np.all(np.abs(orders(errors) - 4) < 0.45), orders(errors)  # 4.39, 4.2x
    euler = fixed_step(m, "expeuler", 1.5)
    errors = [abs(float(euler(h)[0]) - exact(1.5)) for h in (0.05, 0.025, 0.0125)]
    assert np.all(np.abs(orders(errors) - 1) < 0.15), orders(errors)


def test_integral_by_quadrature_when_sympy_has_none():
    # a(t) = -exp(sin t) has no elementary antiderivative: the solver integrates
    # it by Gauss-Legendre quadrature. With N = 1 exponential Euler is exact up to
    # that quadrature (its weight is the integral below), and
    # x(T) = e^{-I(0,T)} x0 + ∫ e^{-I(s,T)} ds, I(s,T) = ∫_s^T exp(sin).
    m = symflow.loads("""
model Quadrature
  variables
    x = 1
  equations
    der(x) = -exp(sin(t))*x + 1
end
""")
    assert m.runner.exponential("expeuler", from_file=False).integral is None
    from scipy.integrate import quad

    T = 2.0
    integral = lambda s: quad(lambda r: np.exp(np.sin(r)), s, T, epsabs=1e-14)[0]  # noqa: E731
    exact = np.exp(-integral(0)) + quad(lambda s: np.exp(-integral(s)), 0, T,
                                         epsabs=1e-14)[0]
    x = float(fixed_step(m, "expeuler", T)(0.1)[0])
    assert abs(x - exact) < 1e-12


# ---------------------------------------------------------------- errors


def test_no_linear_part_is_a_clear_error_at_the_solver_setting():
    with pytest.raises(SymflowError) as info:
        symflow.loads("""
model NoLinear
  variables
    x = 1
  equations
    der(x) = x^2 + sin(t)
  simulate
    solver = etdrk4
    dt = 0.1
end
""").simulate()
    text = str(info.value)
    assert "needs a linear part" in text and "der(x) = x**2 + sin(t)" in text
    assert "line 8" in text or ":8:" in text


def test_etdrk4_refuses_a_time_varying_coefficient():
    m = symflow.loads("model V\n variables\n  x = 1\n equations\n  der(x) = -t*x + 1\nend\n")
    with pytest.raises(SymflowError, match="lawson or expeuler"):
        m.simulate(solver="etdrk4", dt=0.1)


@pytest.mark.slow
def test_dense_linear_part_rotation():
    # x' = -y, y' = x + eps*x^3 (a dense 2x2 L); compared with a tight scipy solve.
    from scipy.integrate import solve_ivp

    m = symflow.loads("""
model Rotation
  variables
    x = 1
    y = 0
  equations
    der(x) = -y
    der(y) = x + 0.1*x^3
end
""")
    ref = solve_ivp(lambda t, z: [-z[1], z[0] + 0.1 * z[0]**3], (0, 3), [1.0, 0.0],
                    method="DOP853", rtol=1e-13, atol=1e-13).y[:, -1]
    sol = m.simulate(solver="etdrk4", dt=0.01, tspan=(0, 3), saveat=2)
    assert abs(float(sol["x"][-1]) - ref[0]) < 1e-8
    assert abs(float(sol["y"][-1]) - ref[1]) < 1e-8


# ---------------------------------------------------------------- Kuramoto–Sivashinsky


@pytest.fixture(scope="module")
def ks():
    return symflow.load(EXAMPLES / "kuramoto_sivashinsky.sf")


def hand_written_etdrk4(u0: np.ndarray, h: float, steps: int) -> np.ndarray:
    """ETDRK4 for the same discretization, written from Kassam & Trefethen's
    kursiv.m (Fourier space, coefficients by the contour mean of the closed
    forms, upper and lower half circle), independently of symflow."""
    n = u0.size
    k = np.arange(n // 2 + 1) / 16.0  # 2*pi / (32*pi)
    lin = k**2 - k**4
    roots = np.exp(2j * np.pi * (np.arange(32) + 0.5) / 32)
    lr = h * lin[:, None] + roots[None, :]
    e, e2 = np.exp(h * lin), np.exp(h * lin / 2)
    q = h * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=1))
    f1 = h * np.real(np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=1))
    f2 = h * np.real(np.mean((2 + lr + np.exp(lr) * (-2 + lr)) / lr**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=1))
    ik = 1j * k
    ik[-1] = 0  # odd derivative: the Nyquist mode is dropped
    e, e2, q, f1, f2, f3, ik = (jnp.asarray(c, dtype=complex) for c in (e, e2, q, f1, f2, f3, ik))

    def nonlinear(v):
        u = jnp.fft.irfft(v, n=n)
        return -jnp.fft.rfft(u * jnp.fft.irfft(ik * v, n=n))

    def step(v, _):
        nv = nonlinear(v)
        a = e2 * v + q * nv
        na = nonlinear(a)
        b = e2 * v + q * na
        nb = nonlinear(b)
        c = e2 * a + q * (2 * nb - nv)
        nc = nonlinear(c)
        return e * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3, None

    v = jax.jit(lambda v: jax.lax.scan(step, v, None, length=steps)[0])(jnp.fft.rfft(u0))
    return np.asarray(jnp.fft.irfft(v, n=n))


def test_kuramoto_sivashinsky_split_is_fourier_diagonal(ks):
    from symflow.analysis import split_semilinear

    split = split_semilinear(ks.system)
    assert split.kind == "fourier" and not split.time_varying
    (name, multiplier), = split.multipliers
    import sympy as sp

    k = sp.Symbol("k", real=True)
    assert sp.expand(multiplier - (k**2 - k**4)) == 0


def test_kuramoto_sivashinsky_matches_hand_written_etdrk4_and_is_fourth_order(ks):
    # One compiled solve (the model's own N and Fourier operator, the step as an
    # argument) serves both checks; `simulate` runs the same solver class on the
    # other spectral and dense models of these tests.
    solve = fixed_step(ks, "etdrk4", 30.0)
    u0 = np.asarray(ks.initial["u"])
    reference = hand_written_etdrk4(u0, 0.25, 120)
    assert np.max(np.abs(np.asarray(solve(0.25)) - reference)) < 1e-10  # measured 3e-12

    fine = solve(1 / 128)
    steps = [1 / 2, 1 / 4, 1 / 8]
    errors = [float(jnp.max(jnp.abs(solve(h) - fine))) for h in steps]
    # Measured: 2.0e-3, 5.4e-5, 4.7e-6 (local rates 5.2 and 3.5; at h = 1/16 and
    # 1/32 the rates fall to about 3, the stiff order reduction of Cox–Matthews
    # ETDRK4: see docs/exponential.md). The fitted slope over this range:
    slope = np.polyfit(np.log2(steps), np.log2(errors), 1)[0]
    assert 3.6 < slope < 4.8, (errors, slope)


def _ffts_per_loop_iteration(jaxpr) -> list[int]:
    """The number of `fft` operations in the body of each `while` loop of a jaxpr
    (sub-jaxprs of calls and branches included, nested loops counted apart)."""
    from jax.extend import core as jcore

    def inner(eqn):
        for value in eqn.params.values():
            for x in value if isinstance(value, (tuple, list)) else [value]:
                if isinstance(x, jcore.ClosedJaxpr):
                    yield x.jaxpr
                elif isinstance(x, jcore.Jaxpr):
                    yield x

    loops = []

    def count(j) -> int:
        n = 0
        for eqn in j.eqns:
            n += eqn.primitive.name == "fft"
            below = sum(count(s) for s in inner(eqn))
            if eqn.primitive.name == "while":
                loops.append(below)
            else:
                n += below
        return n

    count(jaxpr.jaxpr)
    return loops


def test_kuramoto_sivashinsky_step_does_the_ffts_of_a_hand_written_etdrk4(ks):
    # kursiv.m-style ETDRK4 in Fourier space: per stage irfft(v), irfft(ik v) and
    # rfft(u u_x), so 12 per step; the solve stays in Fourier space (no transform
    # per step) and N's spectral derivative reads the stage's spectrum (no rfft).
    ts = np.array([0.0, 30.0])
    p = ks.complete_params(ks.params)
    config = ks.runner.ode_config(ts, p, {}, solver=None, rtol=None, atol=None, dt=None,
                            max_steps=None, adjoint="checkpoint")
    jaxpr = jax.make_jaxpr(ks.runner.simulator.solve_fn(config))(p, {}, ts)
    assert max(_ffts_per_loop_iteration(jaxpr)) == 12


@pytest.mark.slow
def test_kuramoto_sivashinsky_simulate_matches_hand_written_etdrk4(ks):
    sol = ks.simulate(tspan=(0, 30), saveat=[30.0])
    reference = hand_written_etdrk4(np.asarray(ks.initial["u"]), 0.25, 120)
    assert np.max(np.abs(np.asarray(sol["u"][-1]) - reference)) < 1e-10


# ---------------------------------------------------------------- Allen–Cahn, finite differences


def allen_cahn(boundary: str):
    text = (EXAMPLES / "allen_cahn.sf").read_text().replace("points = 101", "points = 51")
    if boundary == "neumann":
        text = text.replace("u = -1 at x = -1", "diff(u, x) = 0 at x = -1").replace(
            "u = 1 at x = 1", "diff(u, x) = 0 at x = 1")
    return symflow.loads(text)


def test_allen_cahn_etdrk4_order_with_dirichlet_ends():
    m = allen_cahn("dirichlet")
    from symflow.analysis import split_semilinear

    assert split_semilinear(m.system).kind == "banded"
    solve = fixed_step(m, "etdrk4", 10.0)
    reference = solve(1 / 128)
    errors = [float(jnp.max(jnp.abs(solve(h) - reference))) for h in (1 / 4, 1 / 8, 1 / 16)]
    assert np.all(np.abs(orders(errors) - 4) < 0.4), (errors, orders(errors))


@pytest.mark.slow
def test_allen_cahn_reference_against_kvaerno5():
    m = allen_cahn("dirichlet")
    reference = fixed_step(m, "etdrk4", 10.0)(1 / 128)
    kv = m.simulate(solver="kvaerno5", rtol=1e-11, atol=1e-11, tspan=(0, 10), saveat=[10.0])
    assert float(jnp.max(jnp.abs(kv["u"][-1] - reference))) < 1e-8


@pytest.mark.slow
def test_allen_cahn_lawson_order_with_neumann_ends():
    m = allen_cahn("neumann")
    lawson = fixed_step(m, "lawson", 10.0)
    reference = fixed_step(m, "etdrk4", 10.0)(1 / 128)
    errors = [float(jnp.max(jnp.abs(lawson(h) - reference))) for h in (1 / 8, 1 / 16, 1 / 32)]
    assert np.all(np.abs(orders(errors) - 4) < 0.25), (errors, orders(errors))
