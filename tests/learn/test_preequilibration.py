"""Pre-equilibration: an experiment starts at the model's steady state under other
conditions; the objective's gradient through that steady state matches finite
differences, and a fit recovers both rates from the stimulus response."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.learn import load_data
from symflow.learn._fit import prepare


def _response(k_in: float, k_out: float, u0: float, u1: float, ts: np.ndarray) -> np.ndarray:
    x0, x1 = k_in * u0 / k_out, k_in * u1 / k_out
    return x1 + (x0 - x1) * np.exp(-k_out * ts)


def test_gradient_through_the_steady_state_start_matches_finite_differences():
    m = symflow.loads(model_text("baseline_stimulus"))
    ts = np.linspace(0.25, 5.0, 12)
    e = load_data({"t": ts, "x": _response(2.0, 0.8, 0.5, 3.0, ts)}, params={"u": 3.0},
                  preequilibration={"u": 0.5})
    setup = prepare(m, [e], ["k_in", "k_out"], log=(), scale="none", noise=None, options={})
    objective = setup.objective

    def value(x):
        return objective.value(x, setup.data, "forward")

    x = jnp.asarray([1.5, 0.6])
    grad = np.asarray(jax.jit(jax.jacfwd(value))(x))
    h, at = 1e-6, jax.jit(value)
    fd = [(float(at(x.at[i].add(h))) - float(at(x.at[i].add(-h)))) / (2 * h)
          for i in range(2)]
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    # the start really is the pre-equilibrated state: at the true rates the
    # objective vanishes (a start at the model's x = 0 would not)
    assert float(at(jnp.asarray([2.0, 0.8]))) < 1e-16


@pytest.mark.slow
def test_fit_recovers_both_rates_from_a_stimulus_response():
    m = symflow.loads(model_text("baseline_stimulus"))
    ts = np.linspace(0.25, 5.0, 12)
    e = load_data({"t": ts, "x": _response(2.0, 0.8, 0.5, 3.0, ts)}, params={"u": 3.0},
                  preequilibration={"u": 0.5})
    r = m.fit(e, ["k_in", "k_out"], log=["k_in", "k_out"])
    np.testing.assert_allclose([r.values["k_in"], r.values["k_out"]], [2.0, 0.8], rtol=1e-6)
