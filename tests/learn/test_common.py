"""The pieces `fit` and `train` share: the bounds transform, the optax loop, the
optimiser objects chosen by name."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from symflow import SymflowError
from symflow.learn import OPTIMISERS, OPTIMIZERS, SCHEDULES, Bounds, optimiser_named
from symflow.learn._common import OptaxDescent, data_rows, run_optax
from symflow.learn._optimisers import (
    BFGS,
    Adam,
    LevenbergMarquardt,
    Problem,
    learning_rate_schedule,
)
from symflow.learn._stepping import Stepping


@pytest.mark.parametrize("bounds", [
    Bounds(), Bounds(0.5, 4.0), Bounds(1.0, math.inf), Bounds(-math.inf, 3.0),
    Bounds(0.0, math.inf, True), Bounds(0.1, 10.0, True), Bounds(-math.inf, 5.0, True),
    Bounds(2.0, math.inf, True),
])
def test_bounds_round_trip_and_stay_inside(bounds):
    inside = [v for v in (2.2, 2.5, 2.9, 3.5) if bounds.lo < v < bounds.hi]
    for p in inside:
        z = bounds.to_free(p)
        assert float(bounds.to_natural(jnp.asarray(z))) == pytest.approx(p, rel=1e-9)
    for z in (-30.0, -1.0, 0.0, 1.0, 30.0):
        p = float(bounds.to_natural(jnp.asarray(z)))
        assert bounds.lo <= p <= bounds.hi


def test_log_space_refuses_a_value_that_is_not_positive():
    with pytest.raises(SymflowError, match="must be positive"):
        Bounds(0.0, math.inf, True).to_free(-1.0)


def test_projection_clips_into_the_bounds():
    b = Bounds(0.0, 1.0)
    assert np.allclose(np.asarray(b.project(jnp.asarray([-2.0, 0.5, 3.0]))), [0.0, 0.5, 1.0])


def test_data_rows_in_both_directions():
    ts = np.array([0.0, 1.0, 2.0, 3.0])
    assert list(data_rows(ts, np.array([1.0, 3.0]))) == [1, 3]
    assert list(data_rows(ts[::-1], np.array([3.0, 1.0]))) == [0, 2]


def test_the_optax_loop_takes_its_steps_and_keeps_the_best_point():
    descent = OptaxDescent(optax.sgd(0.1), 50)
    run = run_optax(descent, lambda x: jnp.sum((x - 3.0) ** 2), jnp.asarray([0.0]))
    assert run.losses.shape == (50,)
    assert np.all(np.diff(run.losses) <= 0)
    assert float(run.theta[0]) == pytest.approx(3.0, abs=1e-3)
    # each step's loss is that of the point before the update: the best point is the
    # second to last
    assert run.best_loss == pytest.approx(run.losses[-1])
    assert len(run.step_times) == 49


def test_the_optax_loop_projects_and_feeds_batches():
    seen = []
    descent = OptaxDescent(optax.sgd(1.0), 5, project=lambda x: jnp.clip(x, -1.0, 1.0))

    def batches(k):
        seen.append(k)
        return (jnp.asarray(float(k)),)

    run = run_optax(descent, lambda x, c: jnp.sum((x - 10.0 - c) ** 2), jnp.asarray([0.0]),
                    batches=batches, track_best=False)
    assert seen == [0, 1, 2, 3, 4]
    assert float(run.theta[0]) == 1.0  # clipped after every step
    assert run.best_loss == math.inf  # not tracked


def test_optimisers_are_chosen_once_by_name():
    assert tuple(OPTIMISERS) == OPTIMIZERS == ("levenberg_marquardt", "bfgs", "adam")
    lm = optimiser_named("levenberg_marquardt", rtol=1e-6, atol=1e-7)
    assert isinstance(lm, LevenbergMarquardt) and (lm.rtol, lm.atol) == (1e-6, 1e-7)
    assert lm.adjoint == "forward" and lm.default_steps == 200
    assert isinstance(optimiser_named("bfgs"), BFGS)
    adam = optimiser_named("adam", learning_rate=0.1)
    assert isinstance(adam, Adam) and adam.learning_rate == 0.1 and adam.default_steps == 2000
    with pytest.raises(SymflowError, match="unknown optimizer 'newton'"):
        optimiser_named("newton")


@pytest.mark.parametrize("name", ["levenberg_marquardt", "bfgs", "adam"])
def test_each_optimiser_minimises_a_sum_of_squares(name):
    optimiser = optimiser_named(name, learning_rate=0.1)

    def residuals(z, _):
        return jnp.stack([z[0] - 1.0, 2.0 * (z[1] + 0.5)])

    def loss(z, args):
        return jnp.sum(residuals(z, args) ** 2)

    z, taken, status, value = Stepping(optimiser, Problem(residuals, loss), 300).run(
        jnp.asarray([0.0, 0.0]), None)
    assert int(status) == 0 and 0 < int(taken) <= 300
    assert np.allclose(np.asarray(z), [1.0, -0.5], atol=1e-2)
    assert float(value) == pytest.approx(float(loss(jnp.asarray(z), None)), rel=1e-9, abs=1e-12)


def test_schedules_by_name():
    assert tuple(SCHEDULES) == ("cosine", "constant", "exponential")
    assert learning_rate_schedule("constant", 0.1, 10) == 0.1
    assert float(learning_rate_schedule("cosine", 0.1, 10)(10)) == pytest.approx(1e-3)
    with pytest.raises(SymflowError, match="unknown schedule"):
        learning_rate_schedule("linear", 0.1, 10)


def test_fitted_values_are_reported_inside_their_bounds():
    # exp(log 1e-5) rounds to 9.999999999999999e-06: a fit that ends at the bound must
    # not report (and write back with -o) a value the model's bounds refuse
    import types

    from symflow.learn._fit import _within_bounds

    bounds = Bounds(1e-5, 1e5, log=True)
    at_bound = float(bounds.to_natural(-60.0))
    assert at_bound < 1e-5  # the rounding this guards against
    objective = types.SimpleNamespace(names=("k",), transforms=(bounds,))
    assert _within_bounds(objective, np.asarray([at_bound])) == {"k": 1e-5}
