"""Adaptive SDE steps: a PID controller on a Brownian tree, tolerances in the model.

The truth is the exact solution of geometric Brownian motion on the same
Brownian path, `S(T) = exp((mu - sigma^2/2) T + sigma W(T))`, with `W(T)` read
from the same tree the solver stepped on (`save_noise`). The model is written in
Stratonovich form (drift `(mu - sigma^2/2) S`), whose solution is that same
process; `solver = auto` with `rtol`/`atol` picks SPaRK; the convergence test
uses Heun (an embedded Euler error estimate), which compiles faster. The Itô
form is solved adaptively through its Stratonovich form, which the compiler
derives.
"""

import numpy as np
import pytest

import symflow
from models import model_text

GBM = model_text("gbm_template_loose_tolerances")


@pytest.fixture(scope="module")
def gbm():
    return symflow.loads(GBM.format(drift="(mu - sigma^2/2)", noise="stratonovich"))


def test_auto_picks_spark_for_adaptive_stratonovich(gbm):
    assert gbm.runner.ensembles.adaptive_solver_for(None, "stratonovich") == "spark"


@pytest.mark.slow
def test_adaptive_solution_converges_to_the_exact_one_as_tolerances_tighten(gbm):
    mu, sigma = float(gbm.params["mu"]), float(gbm.params["sigma"])
    errors = []
    for tol in (1e-1, 1e-2, 1e-3):  # run-time tolerances: one compiled program
        sol = gbm.simulate(solver="heun", rtol=tol, atol=tol, trajectories=100,
                           save_noise=True)
        w = np.asarray(sol["W"])[:, -1]
        exact = np.exp(mu - sigma**2 / 2 + sigma * w)
        errors.append(float(np.mean(np.abs(np.asarray(sol["S"])[:, -1] - exact))))
    # measured: 0.043, 0.0042, 0.00040 (the error follows the tolerance)
    assert errors[0] > 4 * errors[1] > 16 * errors[2], errors
    assert errors[2] < 1e-3, errors


def test_adaptive_steps_need_a_solver_with_an_error_estimate(gbm):
    with pytest.raises(symflow.SymflowError, match="solver eulerheun takes fixed steps"):
        gbm.simulate(solver="eulerheun")


@pytest.mark.slow
def test_ito_multiplicative_noise_is_solved_in_stratonovich_form():
    """The Itô model `d(S) = mu*S*dt + sigma*S*dW` with rtol/atol: the compiler adds the
    drift correction -1/2 sigma^2 S (its Milstein term at dW = 0, h = 1) and solves
    the Stratonovich form with Heun; the result converges to the exact Itô solution
    on the same path, and equals the hand-converted Stratonovich model's."""
    ito = symflow.loads(GBM.format(drift="mu", noise="ito"))
    assert ito.runner.ensembles.converts_ito("ito")
    assert ito.runner.ensembles.adaptive_solver_for(None, "ito") == "heun"
    mu, sigma = float(ito.params["mu"]), float(ito.params["sigma"])
    errors = []
    for tol in (1e-1, 1e-2, 1e-3):
        sol = ito.simulate(rtol=tol, atol=tol, trajectories=100, save_noise=True)
        w = np.asarray(sol["W"])[:, -1]
        exact = np.exp(mu - sigma**2 / 2 + sigma * w)  # the Itô solution
        errors.append(float(np.mean(np.abs(np.asarray(sol["S"])[:, -1] - exact))))
    assert errors[0] > 4 * errors[1] > 16 * errors[2], errors
    assert errors[2] < 1e-3, errors
    # Without the correction the same solver would reach exp(mu + sigma W), off by
    # a factor exp(sigma^2/2) = 1.38 on average: far above these errors.
    strat = symflow.loads(GBM.format(drift="(mu - sigma^2/2)", noise="stratonovich"))
    by_hand = strat.simulate(solver="heun", rtol=1e-3, atol=1e-3, trajectories=100,
                             save_noise=True)
    # (the drifts agree to rounding; where rounding flips an accepted step, the two
    # runs take different steps and differ at the tolerance's level: 2e-4 measured)
    np.testing.assert_allclose(np.asarray(sol["S"]), np.asarray(by_hand["S"]), rtol=5e-3)


def test_an_ito_solver_is_checked_in_the_stratonovich_form():
    ito = symflow.loads(GBM.format(drift="mu", noise="ito"))
    with pytest.raises(symflow.SymflowError, match="solver shark is not valid"):
        ito.simulate(solver="shark")


def test_no_adaptive_solver_for_ito_general_noise():
    # non-commuting columns (y, 0) and (0, x): no Stratonovich form is derived
    model = """
model General
  variables
    x = 1.0
    y = 0.5
  brownian
    W1, W2
  equations
    d(x) = -x*dt + y*dW1
    d(y) = -y*dt + x*dW2
  simulate
    tspan = [0, 1]
    rtol = 1e-2
    atol = 1e-2
end
"""
    m = symflow.loads(model)
    assert m.runner.ensembles.noise_class == "general"
    with pytest.raises(symflow.SymflowError, match="no adaptive solver converges to the Itô"
                       ) as e:
        m.simulate()
    assert e.value.span is not None  # at the model's rtol
