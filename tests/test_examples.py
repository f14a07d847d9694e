"""The example models against independent references.

Every reference is computed here, by hand, with NumPy and SciPy (`solve_ivp` at
tight tolerances, or the matrix exponential for the linear chain); none of it
goes through symflow. Tolerances are set from each model's own `rtol` (the
references are 100 to 10,000 times more accurate), with the reasoning next to
each assertion.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

import symflow

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name: str) -> symflow.Model:
    return symflow.load(EXAMPLES / f"{name}.sf")


def _reference(f, y0, ts, *, method="DOP853", rtol=1e-12, atol=1e-14, jac=None):
    """`solve_ivp` on `ts[0]..ts[-1]`, the solution at every `ts`, rows = times."""
    ts = np.asarray(ts, dtype=float)
    kwargs = {"jac": jac} if jac is not None else {}
    result = scipy.integrate.solve_ivp(f, (ts[0], ts[-1]), np.asarray(y0, dtype=float),
                                       method=method, t_eval=ts, rtol=rtol, atol=atol,
                                       **kwargs)
    assert result.success, result.message
    return result.y.T


def _stack(sol, names):
    return np.stack([np.asarray(sol[n]) for n in names], axis=1)


# ---------------------------------------------------------------- Lotka–Volterra


@pytest.fixture(scope="module")
def lotka_volterra():
    return _load("lotka_volterra")


def test_lotka_volterra_trajectory(lotka_volterra):
    m = lotka_volterra
    assert m.settings.rtol == 1e-6
    sol = m.simulate()
    ts = np.asarray(sol.t)
    assert ts.shape == (101,) and ts[0] == 0.0 and ts[-1] == 10.0

    a, b, c, d = 1.5, 1.0, 3.0, 1.0

    def f(t, u):
        x, y = u
        return [a * x - b * x * y, d * x * y - c * y]

    ref = _reference(f, [1.0, 1.0], ts)
    got = _stack(sol, ["x", "y"])
    # Tsit5 at rtol 1e-6 keeps each step's local error below ~1e-6 |y|; over
    # the ~2 periods of [0, 10] these errors add up (and the orbit's phase
    # drifts), so the global error is a modest multiple of rtol (measured
    # ~6e-6 relative). 50 * rtol leaves a margin of about 10 on that.
    np.testing.assert_allclose(got, ref, rtol=5e-5, atol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["total"]), got.sum(axis=1), rtol=1e-14)
    # x + y stays within its known orbit: LV conserves
    # V = d x - c log x + b y - a log y.
    V = d * got[:, 0] - c * np.log(got[:, 0]) + b * got[:, 1] - a * np.log(got[:, 1])
    np.testing.assert_allclose(V, V[0], rtol=5e-5)


def test_lotka_volterra_auto_is_explicit(lotka_volterra):
    timings: dict = {}
    sol = lotka_volterra.simulate(solver="auto", timings=timings)
    assert timings["solver"] in symflow.solve.EXPLICIT
    assert timings["solver"] not in symflow.solve.IMPLICIT
    assert np.all(np.isfinite(np.asarray(sol["x"])))


# ---------------------------------------------------------------- Robertson


def test_robertson_final_values_and_auto():
    m = _load("robertson")
    assert m.settings.rtol == 1e-8
    timings: dict = {}
    sol = m.simulate(timings=timings)
    # stiff and small: `solver = auto` chooses the Rosenbrock method Rodas5P (docs/stiff.md)
    assert timings["solver"] == "rodas5p" and timings["solver"] in symflow.solve.ROSENBROCK

    k1, k2, k3 = 0.04, 3e7, 1e4

    def f(t, y):
        return [-k1 * y[0] + k3 * y[1] * y[2],
                k1 * y[0] - k2 * y[1] ** 2 - k3 * y[1] * y[2],
                k2 * y[1] ** 2]

    def jac(t, y):
        return [[-k1, k3 * y[2], k3 * y[1]],
                [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
                [0.0, 2 * k2 * y[1], 0.0]]

    ts = np.asarray(sol.t)
    assert ts[0] == 0.0 and ts[-1] == 1e5
    # LSODA switches to BDF here; it agrees with Radau at rtol 1e-12 to ~1e-10.
    ref = _reference(f, [1.0, 0.0, 0.0], [0.0, 1e5], method="LSODA", rtol=1e-12,
                     atol=1e-16, jac=jac)
    got = _stack(sol, ["y1", "y2", "y3"])
    # rtol 1e-8 in the model; the final state sits on the slow manifold, which
    # damps earlier errors, so each component (y2 ~ 7e-8 included) is right
    # to about 1e-7 relative. The brief asks for 1e-6.
    np.testing.assert_allclose(got[-1], ref[-1], rtol=1e-6, atol=0)
    # the observed mass is conserved
    np.testing.assert_allclose(np.asarray(sol["mass"]), 1.0, rtol=0, atol=1e-9)


# ---------------------------------------------------------------- Lorenz


def test_lorenz_trajectory():
    m = _load("lorenz")
    params = {k: float(v) for k, v in m.params.items()}
    assert params["sigma"] == 10.0 and params["rho"] == 28.0
    assert params["beta"] == pytest.approx(8 / 3, rel=1e-15)
    assert m.settings.rtol == 1e-8
    sol = m.simulate()
    ts = np.asarray(sol.t)
    assert ts[0] == 0.0 and ts[-1] == 2.0

    s, r, b = 10.0, 28.0, 8.0 / 3.0

    def f(t, u):
        x, y, z = u
        return [s * (y - x), x * (r - z) - y, x * y - b * z]

    ref = _reference(f, [1.0, 1.0, 1.0], ts)
    got = _stack(sol, ["x", "y", "z"])
    # Chaotic: errors grow like exp(0.9 t), a factor ~6 over [0, 2], on top of
    # the accumulation of local errors of size rtol = 1e-8 times the
    # attractor's scale (~20-45). Measured ~1e-8 of the scale; allow 1e-6
    # (100 * rtol) of each component's scale.
    scale = np.abs(ref).max(axis=0)
    assert np.all(np.abs(got - ref) <= 1e-6 * scale), np.abs(got - ref).max(axis=0) / scale


# ---------------------------------------------------------------- Van der Pol


def test_van_der_pol_stiff():
    m = _load("van_der_pol")
    assert float(m.params["mu"]) == 1000.0
    timings: dict = {}
    sol = m.simulate(timings=timings)
    # stiff, two states: Rodas5P (docs/stiff.md)
    assert timings["solver"] == "rodas5p"

    mu = 1000.0

    def f(t, u):
        x, y = u
        return [y, mu * (1 - x * x) * y - x]

    def jac(t, u):
        x, y = u
        return [[0.0, 1.0], [-2 * mu * x * y - 1, mu * (1 - x * x)]]

    # times on the slow branches, away from the jumps (near t ~ 810, 1620, 2430)
    check = np.array([0.0, 100.0, 500.0, 700.0, 1000.0, 1300.0, 2000.0, 2200.0, 2800.0, 3000.0])
    ts = np.asarray(sol.t)
    index = np.searchsorted(ts, check)
    np.testing.assert_array_equal(ts[index], check)
    # LSODA (stiff BDF) at rtol 1e-11 agrees with Radau at rtol 1e-10 to ~3e-8
    # at every saved time, and is 40 times faster here.
    ref = _reference(f, [2.0, 0.0], ts, method="LSODA", rtol=1e-11, atol=1e-13, jac=jac)
    x = np.asarray(sol["x"])
    # The relaxation oscillation: two sign changes per period of ~1614.
    assert np.count_nonzero(np.diff(np.sign(x)) != 0) == np.count_nonzero(
        np.diff(np.sign(ref[:, 0])) != 0) == 3
    # On the slow branches the flow is strongly attracting, so the error there
    # is mostly the shift of the jump times, ~rtol * period; with x' ~ 1e-3
    # that is tiny. Measured up to ~3e-5 in x (|x| ~ 1.1-2); allow 2e-4.
    np.testing.assert_allclose(x[index], ref[index, 0], rtol=0, atol=2e-4)
    np.testing.assert_allclose(np.asarray(sol["y"])[index], ref[index, 1], rtol=0, atol=1e-5)


# ---------------------------------------------------------------- compartment chain


def _chain_matrix(n, k, k_out):
    """dx/dt = A x: out of each compartment at rate k (k_out from the last), into the next."""
    A = np.diag(np.full(n, -k)) + np.diag(np.full(n - 1, k), -1)
    A[n - 1, n - 1] = -k_out
    return A


@pytest.fixture(scope="module")
def compartment_chain():
    return _load("compartment_chain")


def test_compartment_chain_matches_matrix_exponential(compartment_chain):
    m = compartment_chain
    sol = m.simulate()
    k, k_out, dose = (float(m.params[n]) for n in ("k", "k_out", "dose"))
    x = np.asarray(sol["x"])
    n = x.shape[1]
    assert n == 6
    ts = np.asarray(sol.t)

    A = _chain_matrix(n, k, k_out)
    x0 = np.zeros(n)
    x0[0] = dose
    ref = np.stack([scipy.linalg.expm(A * t) @ x0 for t in ts])

    # rtol 1e-8, atol 1e-10: a damped linear system, so global errors stay at
    # the level of the tolerances; 1e-6 relative (plus 1e-8 absolute for the
    # compartments still nearly empty at the start) is ample.
    np.testing.assert_allclose(x, ref, rtol=1e-6, atol=1e-8)
    # the observed sum is sum(x), and what left the chain is the rest
    total = np.asarray(sol["total"])
    np.testing.assert_allclose(total, x.sum(axis=1), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(total, ref.sum(axis=1), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["eliminated"]), dose - total, rtol=1e-13,
                               atol=1e-12)
    assert total[0] == pytest.approx(dose) and np.all(np.diff(total) <= 1e-12)


def test_compartment_chain_dose_is_a_parameter(compartment_chain):
    # the initial value x[0] = dose follows the parameter; same settings as
    # above, so the compiled solve is reused
    sol = compartment_chain.simulate(params={"dose": 2.0, "k": 3.0})
    x = np.asarray(sol["x"])
    n = x.shape[1]
    A = _chain_matrix(n, 3.0, 0.5)
    x0 = np.zeros(n)
    x0[0] = 2.0
    ref = np.stack([scipy.linalg.expm(A * t) @ x0 for t in np.asarray(sol.t)])
    np.testing.assert_allclose(x, ref, rtol=1e-6, atol=1e-8)
