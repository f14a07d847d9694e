"""The example built from arrays of components (`examples/rc_ladder.sf`) against an
independent reference: the ladder's linear ODE assembled as a matrix and solved
exactly with scipy's matrix exponential."""

import pathlib

import numpy as np
import pytest
import scipy.linalg

import symflow

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def ladder_reference(R: np.ndarray, C: np.ndarray, times: np.ndarray) -> np.ndarray:
    """v(t) of the ladder from rest: C_k v_k' = (v_{k-1} - v_k)/R_k - (v_k - v_{k+1})/R_{k+1},
    v_{-1} = 1 (the source), no current past the last capacitor."""
    n = len(R)
    G = np.zeros((n, n))
    b = np.zeros(n)
    for k in range(n):
        G[k, k] -= 1 / R[k]
        if k > 0:
            G[k, k - 1] += 1 / R[k]
        else:
            b[k] = 1 / R[k]
        if k + 1 < n:
            G[k, k] -= 1 / R[k + 1]
            G[k, k + 1] += 1 / R[k + 1]
    A, f = G / C[:, None], b / C
    steady = -np.linalg.solve(A, f)
    return np.array([steady + scipy.linalg.expm(A * t) @ (-steady) for t in times])


@pytest.mark.slow
def test_rc_ladder_example_matches_the_matrix_exponential():
    m = symflow.load(EXAMPLES / "rc_ladder.sf")
    n = 20
    R = np.linspace(0.5, 1.5, n)
    sol = m.simulate(params={"r.R": R}, saveat=[0.0, 5.0, 50.0, 200.0], rtol=1e-9,
                     atol=1e-12)
    got = np.stack([sol[f"c[{k}].vc"] for k in range(n)], axis=1)
    want = ladder_reference(R, np.ones(n), np.array([0.0, 5.0, 50.0, 200.0]))
    assert np.allclose(got, want, atol=1e-7)
