"""The reaction-network examples against independent references (SciPy, closed forms).

Each reference is the same model written by hand as rate equations and solved by
`scipy.integrate.solve_ivp` at tighter tolerances than the example's own.
"""

from __future__ import annotations

import pathlib

import numpy as np
import scipy.integrate

import symflow

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _load(name: str) -> symflow.Model:
    return symflow.load(EXAMPLES / f"{name}.sf")


def _reference(f, y0, ts):
    result = scipy.integrate.solve_ivp(f, (ts[0], ts[-1]), y0, method="LSODA", t_eval=ts,
                                       rtol=1e-11, atol=1e-12)
    assert result.success, result.message
    return result.y


def test_repressilator_written_as_reactions_equals_its_rate_equations():
    m = _load("repressilator")
    sol = m.simulate()
    ts = np.asarray(sol.t)
    alpha, alpha0, beta, n = 216.0, 0.216, 5.0, 2.0

    def rhs(t, y):
        m1, m2, m3, p1, p2, p3 = y
        return [alpha0 + alpha / (1 + p3**n) - m1, alpha0 + alpha / (1 + p1**n) - m2,
                alpha0 + alpha / (1 + p2**n) - m3, beta * (m1 - p1), beta * (m2 - p2),
                beta * (m3 - p3)]

    ref = _reference(rhs, [1.0, 0.0, 0.0, 2.0, 1.0, 3.0], ts)
    for i, name in enumerate(["m1", "m2", "m3", "p1", "p2", "p3"]):
        # rtol 1e-8 over ~10 periods of a limit cycle: phase errors grow ~linearly
        np.testing.assert_allclose(np.asarray(sol[name]), ref[i], rtol=1e-5, atol=1e-5)
    # it oscillates (the proteins swing by more than a factor of 10)
    p1 = np.asarray(sol["p1"])[60:]
    assert p1.max() > 10 * p1.min()


def test_michaelis_menten_matches_rate_equations_and_the_quasi_steady_state_law():
    m = _load("michaelis_menten")
    sol = m.simulate()
    ts = np.asarray(sol.t)
    kf, kr, kcat = 10.0, 1.0, 0.5

    def rhs(t, y):
        s, e, c, p = y
        bind = kf * s * e - kr * c
        return [-bind, -bind + kcat * c, bind - kcat * c, kcat * c]

    ref = _reference(rhs, [10.0, 0.1, 0.0, 0.0], ts)
    for i, name in enumerate("SECP"):
        # the solver's error control is relative to the largest state (S ~ 10, rtol
        # 1e-8): absolute errors of ~1e-7 in every state, the small E and C included
        np.testing.assert_allclose(np.asarray(sol[name]), ref[i], rtol=1e-6, atol=2e-7)
    km, vmax = float(np.asarray(sol["Km"])[0]), kcat * 0.1
    qssa = _reference(lambda t, p: [vmax * (10 - p[0]) / (km + 10 - p[0])], [0.0], ts)[0]
    # E0/(S0 + Km) = 0.0098: the QSSA holds to about that relative accuracy
    np.testing.assert_allclose(np.asarray(sol["P"]), qssa, atol=0.02 * 2.95)
