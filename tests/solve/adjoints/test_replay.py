"""The `checkpoint` adjoint replays the accepted steps (`solve/adjoints/replay.py`): its
gradient must equal diffrax's `RecursiveCheckpointAdjoint` on the same solve, on
both backward paths (batched step Jacobians for small models, one VJP per step
otherwise), with segments shorter than the solve so that checkpoints are used."""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve.adjoints import replay as _replay

LV = model_text("lv_23_saves_400_steps")


@pytest.fixture(scope="module")
def lv():
    return symflow.loads(LV)


def _grad(m, adjoint):
    def loss(p):
        sol = m.simulate(p, adjoint=adjoint, initial={"y": p["alpha"] - 0.5})
        return jnp.sum(sol["x"] ** 2) + jnp.sum(jnp.sin(sol["total"]))

    return jax.jit(jax.grad(loss))(m.params)


@pytest.fixture(scope="module")
def reference(lv):
    return _grad(lv, diffrax.RecursiveCheckpointAdjoint())


def test_segments_shorter_than_the_solve():
    # max_steps 400 -> segments of 20 steps: the ~100-step solve crosses 5 of them
    assert _replay.replay_segment(400) == 20
    assert _replay.replay_segment(1) == 1


# the vjp loop slow (~6 s quiet, the default suite's budget); the dense path stays
@pytest.mark.parametrize("limit", [_replay.DENSE_JACOBIAN_LIMIT,
                                   pytest.param(0, marks=pytest.mark.slow)],
                         ids=["dense", "vjp-loop"])
def test_replay_gradient_equals_diffrax_checkpointing(lv, reference, limit, monkeypatch):
    monkeypatch.setattr(_replay, "DENSE_JACOBIAN_LIMIT", limit)
    lv.runner.simulator._cache.clear()  # the path is chosen when the gradient is traced
    grad = _grad(lv, "checkpoint")
    for k in reference:
        np.testing.assert_allclose(float(grad[k]), float(reference[k]), rtol=1e-10)
    assert abs(float(grad["alpha"])) > 1.0


DECAY = """
model Decay
  variables
    x = 1.0
  equations
    der(x) = -x
  simulate
    tspan  = [0, 1]
    solver = tsit5
    rtol   = 1e-10
    atol   = 1e-12
end
"""


# the vjp loop slow (~6 s quiet, the default suite's budget); the dense path stays
@pytest.mark.parametrize("limit", [_replay.DENSE_JACOBIAN_LIMIT,
                                   pytest.param(0, marks=pytest.mark.slow)],
                         ids=["dense", "vjp-loop"])
def test_replay_gradient_of_a_model_without_parameters(limit, monkeypatch):
    # An empty parameter pytree ravels to float32[0]; the backward loop used to
    # reject it beside its float64 accumulator. d x(1) / d x(0) = exp(-1).
    monkeypatch.setattr(_replay, "DENSE_JACOBIAN_LIMIT", limit)
    m = symflow.loads(DECAY)
    grad = jax.grad(lambda x0: m.simulate(initial={"x": x0})["x"][-1])(1.0)
    np.testing.assert_allclose(grad, np.exp(-1.0), rtol=1e-8)
