"""`Simulator` (solve/simulate.py): a solve saved at its two ends only asks diffrax
for the start and the end (no loop over save times), and must give what the
hand-written diffrax solve that saves `t1` gives; a solve that stops early still
leaves inf at `t1` and reports where it stopped; what `simulate` keeps between
calls (configuration, packed layout, save times on the device) must follow
every option."""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text

LV = model_text("lv")


@pytest.fixture(scope="module")
def lv():
    return symflow.loads(LV)


def _while_loops(jaxpr) -> int:
    """The number of `while` primitives in a jaxpr, nested ones included (its text
    prints every nested jaxpr)."""
    return str(jaxpr).count(" while[")


@pytest.mark.parametrize("solver", ["tsit5", "dopri5"])
def test_two_ends_match_diffrax_saving_t1(lv, solver):
    sol = lv.simulate(solver=solver)
    p = lv.complete_params(None)
    y0 = jnp.asarray([1.0, 1.0])
    ref = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, a: lv.generated.rhs(t, y, a)),
        diffrax.Tsit5() if solver == "tsit5" else diffrax.Dopri5(),
        t0=0.0, t1=10.0, dt0=None, y0=y0, args=p, saveat=diffrax.SaveAt(t1=True),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
        max_steps=lv.settings.max_steps)
    np.testing.assert_allclose(np.asarray([sol["x"][-1], sol["y"][-1]]),
                               np.asarray(ref.ys[-1]), rtol=1e-13)
    np.testing.assert_array_equal(np.asarray(sol.t), [0.0, 10.0])
    np.testing.assert_array_equal(np.asarray(sol["x"])[0], 1.0)
    np.testing.assert_allclose(np.asarray(sol["total"]), np.asarray(sol["x"] + sol["y"]))
    # the interior save points of a longer grid agree with the two-end solve at t1
    longer = lv.simulate(solver=solver, saveat=5)
    np.testing.assert_allclose(np.asarray(longer["x"])[-1], np.asarray(sol["x"])[-1],
                               rtol=1e-12)


def test_two_ends_have_no_loop_over_save_times(lv):
    """Load-independent evidence of the cheaper saving: the two-end solve's program
    has one `while` loop fewer than the same solve saved at three times."""
    counts = []
    for n in (2, 3):
        ts = lv.runner.save_times(0.0, 10.0, n)
        p = lv.complete_params(None)
        config = lv.runner.ode_config(ts, p, {}, solver=None, rtol=None, atol=None, dt=None,
                                max_steps=None, adjoint="checkpoint")
        jaxpr = jax.make_jaxpr(lv.runner.simulator.packed_fn(config))(p, {}, ts)
        counts.append(_while_loops(jaxpr))
    assert counts[0] < counts[1], counts


@pytest.mark.parametrize("adjoint", ["checkpoint", "direct"])
def test_a_solve_stopped_early_leaves_inf_at_t1(lv, adjoint):
    @jax.jit
    def run(params):
        sol = lv.simulate(params, max_steps=5, adjoint=adjoint)
        return sol["x"], sol.t_reached, sol.result

    x, t_reached, result = run(lv.params)
    assert int(result) != 0 and 0.0 < float(t_reached) < 10.0
    assert float(x[0]) == 1.0 and np.isinf(float(x[-1]))
    with pytest.raises(symflow.SolverError, match=f"t = {float(t_reached):.6g}"):
        lv.simulate(max_steps=5, adjoint=adjoint)


@pytest.mark.slow
def test_two_end_gradient_matches_diffrax_checkpointing(lv):
    def loss(params, adjoint):
        sol = lv.simulate(params, adjoint=adjoint)
        return jnp.sum(sol["x"] ** 2 + sol["total"])

    ours = jax.grad(loss)(lv.params, "checkpoint")  # the replay adjoint
    theirs = jax.grad(loss)(lv.params, diffrax.RecursiveCheckpointAdjoint())
    for k in ("alpha", "beta", "gamma", "delta"):
        np.testing.assert_allclose(float(ours[k]), float(theirs[k]), rtol=1e-9)


def test_kept_configuration_follows_the_options(lv):
    ts = lv.runner.save_times(0.0, 10.0, 2)
    p = lv.complete_params(None)
    options = dict(solver=None, rtol=None, atol=None, dt=None, max_steps=None,
                   adjoint="checkpoint")
    a = lv.runner.ode_config(ts, p, {}, **options)
    assert lv.runner.ode_config(ts, p, {}, **options) is a
    b = lv.runner.ode_config(ts, p, {}, **{**options, "rtol": 1e-3})
    assert b.rtol == 1e-3 and a.rtol == 1e-6
    loose, tight = lv.simulate(rtol=1e-3), lv.simulate(rtol=1e-10, atol=1e-12)
    assert abs(float(loose["x"][-1]) - float(tight["x"][-1])) > 1e-6
    np.testing.assert_array_equal(np.asarray(lv.simulate(rtol=1e-3)["x"]),
                                  np.asarray(loose["x"]))
    # a new span and a new grid each get their own save times and layout
    np.testing.assert_array_equal(np.asarray(lv.simulate(tspan=(0.0, 5.0)).t), [0.0, 5.0])
    sol = lv.simulate(saveat=[2.5])
    np.testing.assert_array_equal(np.asarray(sol.t), [0.0, 2.5, 10.0])
    assert np.asarray(sol["x"]).shape == (3,)
