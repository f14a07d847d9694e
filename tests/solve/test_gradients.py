"""Gradients through `simulate` under every adjoint, against central finite differences,
and forward sensitivities (`Model.sensitivities`).

The loss reads a state, an observed output and depends on initial values that are
expressions of parameters, so a silently dropped path would show as a mismatch.
Finite differences are taken on the same discretised solve (tolerances 1e-10/1e-12),
with a relative step of 1e-4: truncation ~1e-8, solver noise ~1e-6 of the derivative.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"

# Lotka–Volterra whose initial prey is an expression of parameters (x0 = 2*c/alpha).
LV = model_text("lv_prey_from_parameters")


def _fd(loss, params: dict, rel: float = 1e-4) -> dict:
    out = {}
    for k, v in params.items():
        h = rel * max(abs(float(v)), 1e-3)
        up = dict(params, **{k: v + h})
        down = dict(params, **{k: v - h})
        out[k] = (float(loss(up)) - float(loss(down))) / (2 * h)
    return out


def _check(grad: dict, fd: dict, tol: float = 1e-5) -> None:
    for k in fd:
        g = float(grad[k])
        assert abs(g - fd[k]) <= tol * max(abs(fd[k]), 1e-8), (k, g, fd[k])


@pytest.fixture(scope="module")
def lv():
    return symflow.loads(LV)


@pytest.fixture(scope="module")
def lv_fd(lv):
    def loss(p, adjoint="checkpoint"):
        sol = lv.simulate(p, adjoint=adjoint)
        return jnp.sum(sol["x"] ** 2) + jnp.sum(sol["total"])

    return loss, _fd(loss, dict(lv.params))


@pytest.mark.parametrize("adjoint", ["checkpoint", "backsolve", "interpolating", "direct",
                                     "forward"])
def test_lv_gradient_matches_finite_differences(lv, lv_fd, adjoint):
    loss, fd = lv_fd
    if adjoint == "forward":
        grad = jax.jit(jax.jacfwd(lambda p: loss(p, adjoint)))(lv.params)
    else:
        _, grad = jax.jit(jax.value_and_grad(lambda p: loss(p, adjoint)))(lv.params)
    # the initial value depends on c and alpha: c's gradient is non-zero only through it
    assert abs(float(grad["c"])) > 1.0
    _check(grad, fd)


def test_interpolating_adjoint_across_many_checkpoint_segments(lv, lv_fd):
    # max_steps = 300 for the ~250 steps this solve takes: a checkpoint every 18
    # steps, so the backward pass crosses ~14 segments, with save points inside them
    _, fd = lv_fd

    def loss(p):
        sol = lv.simulate(p, adjoint="interpolating", max_steps=300)
        return jnp.sum(sol["x"] ** 2) + jnp.sum(sol["total"])

    _check(jax.jit(jax.grad(loss))(lv.params), fd)


def test_sensitivities_labelled_and_match_finite_differences(lv):
    s = lv.sensitivities(wrt=["alpha", "c", "y"])
    assert s.outputs == ("x", "y", "total")
    assert s.wrt == ("alpha", "c", "y")
    assert s.matrix.shape == (9, 3, 3)
    # at t0 only the initial values matter: dx0/dc = 2/alpha, dx0/dalpha = -2c/alpha^2
    np.testing.assert_allclose(s["x", "c"][0], 2 / 1.5, rtol=1e-12)
    np.testing.assert_allclose(s["x", "alpha"][0], -2 * 0.75 / 1.5**2, rtol=1e-12)
    np.testing.assert_allclose(s["y", "y"][0], 1.0, rtol=1e-12)
    # at the end, against central differences of the solution
    h = 1e-4
    for name in ("alpha", "c"):
        up = lv.simulate({name: float(lv.params[name]) + h})
        down = lv.simulate({name: float(lv.params[name]) - h})
        for out in ("x", "total"):
            fd = (np.asarray(up[out]) - np.asarray(down[out])) / (2 * h)
            np.testing.assert_allclose(s[out, name], fd, rtol=1e-5, atol=1e-7)
    with pytest.raises(symflow.SymflowError, match="not a parameter or a state"):
        lv.sensitivities(wrt=["total"])
    with pytest.raises(symflow.SymflowError, match="no sensitivities"):
        s["nope"]


# ------------------------------------------------------------ Robertson (stiff)

ROBERTSON_SPAN = {"tspan": (0.0, 40.0), "saveat": [0.4, 4.0, 40.0], "solver": "kvaerno5",
                  "rtol": 1e-10, "atol": 1e-12, "max_steps": 100_000}


@pytest.fixture(scope="module")
def rob():
    return symflow.load(EXAMPLES / "robertson.sf")


def _rob_loss(m, adjoint, solver="kvaerno5"):
    def loss(p):
        sol = m.simulate(p, adjoint=adjoint, **{**ROBERTSON_SPAN, "solver": solver})
        return jnp.sum(sol["y1"]) + 1e4 * jnp.sum(sol["y2"])

    return loss


@pytest.fixture(scope="module")
def rob_fd(rob):
    # Finite differences of an adaptive stiff solve see how the solver's own error
    # moves with the parameters: at rtol 1e-10 they differ from the converged
    # derivative by ~7e-4 (relative, k1), at 1e-13 by < 5e-6, while the adjoint
    # gradient at 1e-10 is already within 5e-6. So the reference is taken at 1e-13.
    def loss(p):
        sol = rob.simulate(p, **{**ROBERTSON_SPAN, "rtol": 1e-13, "atol": 1e-16})
        return jnp.sum(sol["y1"]) + 1e4 * jnp.sum(sol["y2"])

    return _fd(loss, dict(rob.params))


def _rob_check(rob, rob_fd, adjoint, solver="kvaerno5"):
    loss = _rob_loss(rob, adjoint, solver)
    if adjoint == "forward":
        grad = jax.jit(jax.jacfwd(loss))(rob.params)
    else:
        _, grad = jax.jit(jax.value_and_grad(loss))(rob.params)
    _check(grad, rob_fd)


@pytest.mark.slow
def test_robertson_gradient_checkpoint(rob, rob_fd):
    _rob_check(rob, rob_fd, "checkpoint")


@pytest.mark.slow
@pytest.mark.parametrize("adjoint", ["direct", "forward"])
def test_robertson_gradient_other_adjoints(rob, rob_fd, adjoint):
    _rob_check(rob, rob_fd, adjoint)


@pytest.mark.slow
def test_robertson_gradient_backsolve(rob, rob_fd):
    # With an implicit solver, backsolve is the continuous adjoint along the forward
    # solve's interpolant (solve/adjoints/interpolating.py): diffrax's BacksolveAdjoint,
    # which integrates the state backwards, returned d/dk1 = 15.3 against -0.3257.
    # The loss reads save points at 0, 0.4, 4 and 40: every jump of the adjoint counts.
    _rob_check(rob, rob_fd, "backsolve")


def test_robertson_gradient_rodas5p_checkpoint(rob, rob_fd):
    # The Rosenbrock step differentiates through its own Jacobian (jacfwd inside the
    # replayed steps): the discrete solution's exact derivative.
    _rob_check(rob, rob_fd, "checkpoint", solver="rodas5p")


@pytest.mark.slow
@pytest.mark.parametrize("adjoint", ["backsolve", "direct", "forward"])
def test_robertson_gradient_rodas5p_other_adjoints(rob, rob_fd, adjoint):
    # backsolve: the continuous adjoint integrated backwards by Rodas5P itself
    _rob_check(rob, rob_fd, adjoint, solver="rodas5p")


def test_interpolating_adjoint_is_refused_where_it_does_not_apply(rob):
    with pytest.raises(symflow.SymflowError, match="forward in time without dense output"):
        jax.grad(lambda p: rob.simulate(p, adjoint="backsolve", dense=True,
                                        **ROBERTSON_SPAN)["y1"][-1])(rob.params)


def test_interpolating_adjoint_is_refused_on_a_dae():
    # The pendulum's forward solve is projected onto x^2 + y^2 = L^2; the continuous
    # adjoint does not see that projection and returned d/dL = 0 (checkpoint: 3.28).
    pendulum = symflow.load(EXAMPLES / "pendulum.sf")
    with pytest.raises(symflow.SymflowError, match="projection onto this DAE"):
        jax.grad(lambda p: pendulum.simulate(p, adjoint="backsolve", solver="kvaerno5",
                                             tspan=(0.0, 1.0))["x"][-1])(pendulum.params)
