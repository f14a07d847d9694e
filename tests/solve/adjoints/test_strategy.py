"""Adjoint strategies: the gradients they give agree with each other and with finite
differences, and the ones that cannot apply say so."""

from __future__ import annotations

import diffrax
import jax
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve.adjoints import Checkpoint, DiffraxAdjoint


@pytest.fixture(scope="module")
def lv():
    return symflow.loads(model_text("lv"))


def final_x(model, adjoint):
    return lambda p: model.simulate(params=p, adjoint=adjoint)["x"][-1]


@pytest.mark.slow  # (default-suite time: tests/solve/test_gradients.py checks each adjoint)
def test_strategies_agree_with_finite_differences(lv):
    p = lv.params
    replayed = jax.grad(final_x(lv, Checkpoint()))(p)["alpha"]
    diffrax_own = jax.grad(final_x(lv, DiffraxAdjoint(diffrax.RecursiveCheckpointAdjoint())))(
        p)["alpha"]
    interpolating = jax.grad(final_x(lv, "interpolating"))(p)["alpha"]
    h = 1e-6
    up = float(lv.simulate(params={**p, "alpha": p["alpha"] + h})["x"][-1])
    down = float(lv.simulate(params={**p, "alpha": p["alpha"] - h})["x"][-1])
    fd = (up - down) / (2 * h)
    np.testing.assert_allclose(float(replayed), float(diffrax_own), rtol=1e-10)
    np.testing.assert_allclose(float(replayed), fd, rtol=1e-4)
    np.testing.assert_allclose(float(interpolating), fd, rtol=1e-3)


def test_the_interpolating_adjoint_refuses_a_projected_dae():
    pendulum = symflow.loads(model_text("pendulum"))
    with pytest.raises(symflow.SymflowError, match="projection onto this DAE"):
        jax.grad(lambda p: pendulum.simulate(params=p, adjoint="interpolating",
                                             solver="kvaerno5")["x"][-1])(pendulum.params)


def test_the_interpolating_adjoint_needs_a_forward_solve(lv):
    with pytest.raises(symflow.SymflowError, match="forward in time"):
        lv.simulate(adjoint="interpolating", tspan=(10.0, 0.0))
