"""An optimiser stepped from Python, a few compiled steps per call, takes the same
iterates as optimistix's own loop, alone or as a batch, and hands back every step's
objective and the best point tried as it goes."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optimistix as optx
import pytest

from symflow.learn._optimisers import Problem, optimiser_named
from symflow.learn._stepping import Chunk, Stepping

T = jnp.linspace(0.0, 2.0, 30)
Y = 2.0 * jnp.exp(-1.3 * T) + 0.01 * jnp.sin(7.0 * T)  # not exactly the model


def residuals(z, data):
    t, y = data
    return z[0] * jnp.exp(-z[1] * t) - y


def loss(z, data):
    return jnp.sum(residuals(z, data) ** 2)


STARTS = jnp.asarray([[0.5, 0.2], [3.0, 3.0], [1.0, 0.1]])


@pytest.mark.parametrize("name", ["levenberg_marquardt", "bfgs"])
def test_the_steps_are_optimistix_own_alone_and_in_a_batch(name):
    optimiser = optimiser_named(name)
    stepping = Stepping(optimiser, Problem(residuals, loss), 200)
    chunks: list[Chunk] = []
    z, taken, status, value = stepping.run(STARTS[0], (T, Y), on_chunk=chunks.append)
    solve = optx.least_squares if optimiser.least_squares else optx.minimise
    reference = solve(residuals if optimiser.least_squares else loss, optimiser.solver(False),
                      STARTS[0], args=(T, Y), max_steps=200, throw=False)
    assert reference.result == optx.RESULTS.successful and int(status) == 0
    # the same iterates (two compiled programs may round differently, and the
    # convergence test, at rounding level, may then stop one step apart)
    np.testing.assert_allclose(z, reference.value, rtol=1e-10)
    assert abs(int(taken) - int(reference.stats["num_steps"])) <= 1
    assert float(value) == pytest.approx(float(loss(jnp.asarray(z), (T, Y))), rel=1e-12)
    # each step's objective came back once, in calls of growing size
    values = np.concatenate([c.values[:int(c.taken)] for c in chunks])
    assert values.size == int(taken) and len(chunks) >= 2 and int(chunks[0].taken) == 1
    assert values[0] == pytest.approx(float(loss(STARTS[0], (T, Y))), rel=1e-12)  # the start
    best = min(chunks, key=lambda c: float(c.best_value))
    assert float(best.best_value) == pytest.approx(float(value), rel=1e-12)
    assert float(loss(jnp.asarray(best.best_z), (T, Y))) == pytest.approx(
        float(best.best_value), rel=1e-12)
    # a batch: each row as if alone (steps and results), until the last row stops
    batch = stepping.run(STARTS, (T, Y))
    for i, start in enumerate(STARTS):
        alone = stepping.run(start, (T, Y))
        np.testing.assert_allclose(batch[0][i], alone[0], rtol=1e-12)
        assert int(batch[1][i]) == int(alone[1]) and int(batch[2][i]) == int(alone[2])


def test_a_batch_hands_back_each_start_best_point_as_it_goes():
    stepping = Stepping(optimiser_named("adam", learning_rate=0.05), Problem(residuals, loss),
                        300)
    chunks: list[Chunk] = []
    z, taken, _, value = stepping.run(STARTS, (T, Y), on_chunk=chunks.append)
    assert len(chunks) >= 3 and all(c.best_value.shape == (3,) for c in chunks)
    assert np.all(taken == 300)  # adam takes every step
    # the best point tried in the last call is near the result (adam keeps its best)
    last = chunks[-1]
    for i in range(3):
        assert float(last.best_value[i]) >= float(value[i]) - 1e-15
        assert float(loss(jnp.asarray(last.best_z[i]), (T, Y))) == pytest.approx(
            float(last.best_value[i]), rel=1e-12)
    # the steps of the calls add up to the budget
    assert sum(int(np.max(c.taken)) for c in chunks) == 300
