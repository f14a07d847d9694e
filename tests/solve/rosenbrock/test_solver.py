"""The Rosenbrock solvers on stiff problems: observed order, Robertson against a tight
independent reference, a stiff Van der Pol, a singular mass matrix, dense output."""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import symflow
from models import model_text
from symflow.solve.rosenbrock import ROSENBROCK, Rodas5P


def _model_ode(name: str):
    m = symflow.loads(model_text(name))
    g, p = m.generated, m.complete_params(None)
    y0 = m.runner.simulator.pack(m.initial)
    return m, g.rhs, p, y0


def _radau(f, jac, y0, t1: float, *, rtol: float, atol: float) -> np.ndarray:
    """scipy's Radau IIA (an independent implicit Runge-Kutta code) on a hand-written
    NumPy twin of the model, with its exact Jacobian: the reference."""
    sol = solve_ivp(f, (0.0, t1), np.asarray(y0, dtype=float), method="Radau", rtol=rtol,
                    atol=atol, jac=jac)
    assert sol.success
    return sol.y[:, -1]


def _slow_manifold_twin(eps: float):
    def f(t, y):
        return np.array([np.cos(t) - y[1], (np.sin(y[0]) - y[1]) / eps])

    def jac(t, y):
        return np.array([[0.0, -1.0], [np.cos(y[0]) / eps, -1.0 / eps]])

    return f, jac


def _robertson_twin(k1: float, k2: float, k3: float):
    def f(t, y):
        return np.array([-k1 * y[0] + k3 * y[1] * y[2],
                         k1 * y[0] - k2 * y[1] ** 2 - k3 * y[1] * y[2],
                         k2 * y[1] ** 2])

    def jac(t, y):
        return np.array([[-k1, k3 * y[2], k3 * y[1]],
                         [k1, -2 * k2 * y[1] - k3 * y[2], -k3 * y[1]],
                         [0.0, 2 * k2 * y[1], 0.0]])

    return f, jac


@pytest.fixture(scope="module")
def slow_manifold():
    _, rhs, p, y0 = _model_ode("slow_manifold")
    f, jac = _slow_manifold_twin(float(p["eps"]))
    return rhs, p, y0, _radau(f, jac, y0, 2.0, rtol=1e-13, atol=1e-15)


# the step counts where each method's error is in its asymptotic range and above the
# reference's (Rodas5P reaches 3e-13 at 128 steps)
STEPS = {"rodas5p": (16, 32, 64), "rodas4": (32, 64, 128), "ros3p": (32, 64, 128)}


# Rodas5P (auto's choice) in the default suite, the others with -m slow
ALL = [pytest.param(name, marks=() if name == "rodas5p" else pytest.mark.slow)
       for name in ROSENBROCK]


@pytest.mark.parametrize("name", ALL)
def test_observed_order_on_a_stiff_problem(name, slow_manifold):
    # eps = 1e-10: the fast mode has h*lambda of 1e8..1e9 at every step size here
    rhs, p, y0, reference = slow_manifold
    solver = ROSENBROCK[name]()

    @jax.jit
    def final(dt):
        return diffrax.diffeqsolve(diffrax.ODETerm(rhs), solver, 0.0, 2.0, dt, y0, args=p,
                                   stepsize_controller=diffrax.ConstantStepSize(),
                                   max_steps=256).ys[-1]

    steps = STEPS[name]
    errors = [float(jnp.max(jnp.abs(final(2.0 / n) - reference))) for n in steps]
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - solver.tableau.order) < 0.2, (name, errors, slope)


@pytest.fixture(scope="module")
def robertson_reference():
    m, rhs, p, y0 = _model_ode("robertson")
    f, jac = _robertson_twin(float(p["k1"]), float(p["k2"]), float(p["k3"]))
    return _radau(f, jac, y0, 1e5, rtol=1e-12, atol=1e-20)


@pytest.mark.parametrize("name", ["auto", *ALL[1:]])
def test_robertson_final_values_to_1e_6(name, robertson_reference):
    m = symflow.loads(model_text("robertson"))
    timings: dict = {}
    sol = m.simulate(solver=name, timings=timings)  # rtol 1e-8 from the model file
    assert timings["solver"] == ("rodas5p" if name == "auto" else name)
    final = np.array([sol["y1"][-1], sol["y2"][-1], sol["y3"][-1]])
    np.testing.assert_allclose(final, robertson_reference, rtol=1e-6)


def test_stiff_van_der_pol_completes():
    m = symflow.loads(model_text("van_der_pol_stiff"))
    sol = m.simulate(solver="rodas5p", saveat=np.linspace(0.0, 3000.0, 301))
    x = np.asarray(sol["x"])
    # Relaxation oscillation between about -2 and 2 (leading order in 1/mu, with
    # tau = t/mu): the slow branch from |x| = 2 to 1 takes tau = 3/2 - ln 2 = 0.807, then
    # x jumps to the other branch. So x changes sign at tau = 0.81, 1.61, 2.42, and at
    # tau = 3 sits 0.58 along the negative branch, where x²/2 - ln|x| = 2 - ln 2 - 0.58:
    # |x| = 1.50.
    assert np.max(np.abs(x)) < 2.1 and np.sum(np.diff(np.sign(x)) != 0) == 3
    assert -1.55 < x[-1] < -1.45


def test_singular_mass_matrix_robertson_dae():
    # Robertson as an index-1 DAE: the third equation replaced by the conservation
    # law 0 = y1 + y2 + y3 - 1 (a zero row of M). Same solution as the ODE.
    def f(t, y, args):
        k1, k2, k3 = 0.04, 3e7, 1e4
        return jnp.stack([-k1 * y[0] + k3 * y[1] * y[2],
                          k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
                          y[0] + y[1] + y[2] - 1.0])

    mass = jnp.diag(jnp.array([1.0, 1.0, 0.0]))
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(f), Rodas5P(mass=mass), 0.0, 1e3, 1e-6, jnp.array([1.0, 0.0, 0.0]),
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-12), max_steps=10_000)
    reference = _radau(*_robertson_twin(0.04, 3e7, 1e4), [1.0, 0.0, 0.0], 1e3, rtol=1e-12,
                       atol=1e-20)
    np.testing.assert_allclose(sol.ys[-1], reference, rtol=1e-6)
    assert abs(float(jnp.sum(sol.ys[-1])) - 1.0) < 1e-12


@pytest.mark.parametrize("name", ALL)
def test_dense_output_order(name):
    # one step of y' = -50 (y - cos t) from the exact solution, read at 0.4 of it:
    # the interpolation error falls as h^(q+1) for a dense output of order q
    lam = 50.0

    def exact(t):
        a = lam / (lam**2 + 1)
        return a * (lam * np.cos(t) + np.sin(t)) - a * lam * np.exp(-lam * t)

    term = diffrax.ODETerm(lambda t, y, args: -lam * (y - jnp.cos(t)))
    solver = ROSENBROCK[name]()
    errors = []
    for h in (0.01, 0.005, 0.0025):
        _, _, dense, _, _ = solver.step(term, 1.0, 1.0 + h, jnp.array([exact(1.0)]), None,
                                        None, False)
        value = solver.interpolation_cls(t0=1.0, t1=1.0 + h, **dense).evaluate(1.0 + 0.4 * h)
        errors.append(abs(float(value[0]) - exact(1.0 + 0.4 * h)))
    dense_order = {"rodas5p": 4, "rodas4": 3, "ros3p": 3}[name]
    assert np.log2(errors[-2] / errors[-1]) > dense_order + 0.5, errors


def test_backwards_in_time():
    # diffrax integrates t1 < t0 through a term that negates time and the control
    m = symflow.loads(model_text("decay"))
    sol = m.simulate(solver="rodas5p", tspan=(1.0, 0.0), initial={"x": float(np.exp(-2.0))})
    np.testing.assert_allclose(sol["x"], np.exp(-2.0 * np.asarray(sol.t)), rtol=1e-8)


@pytest.mark.slow
def test_a_dae_reduced_by_the_passes_solves_with_rodas5p():
    # the pendulum: index reduction to an ODE, projected onto x^2 + y^2 = L^2 after
    # every step; Rodas5P takes that form as the ESDIRK methods do
    m = symflow.loads(model_text("pendulum"))
    rodas = m.simulate(solver="rodas5p", tspan=(0.0, 2.0), rtol=1e-9, atol=1e-11)
    kvaerno = m.simulate(solver="kvaerno5", tspan=(0.0, 2.0), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(np.asarray(rodas["x"]) ** 2 + np.asarray(rodas["y"]) ** 2, 1.0,
                               atol=1e-9)
    np.testing.assert_allclose(rodas["x"], kvaerno["x"], atol=1e-6)


@pytest.mark.slow
def test_events_with_rodas5p():
    # the capacitor charges as 1 - exp(-t/2) and is reset at 0.5: a flash every 2 ln 2
    m = symflow.loads(model_text("events_rc_relaxation"))
    sol = m.simulate(solver="rodas5p")
    times = np.asarray(sol.events.t)[: len(sol.events)]
    np.testing.assert_allclose(times, 2 * np.log(2) * np.arange(1, len(times) + 1), rtol=1e-7)
    assert len(times) == 7
