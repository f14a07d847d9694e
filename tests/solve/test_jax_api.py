"""The API as a JAX user meets it: solver objects, forward mode, spans under jit,
the explicit options of `fit`, and the precision set at import."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import diffrax
import jax
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.learn._fit_or_train import FIT_DEFAULTS


@pytest.fixture(scope="module")
def lv():
    return symflow.loads(model_text("lv"))


def test_a_diffrax_solver_object_solves_as_its_name_does(lv):
    by_name = lv.simulate(solver="tsit5", saveat=5)
    solver = diffrax.Tsit5()
    timings: dict = {}
    by_object = lv.simulate(solver=solver, saveat=5, timings=timings)
    np.testing.assert_array_equal(np.asarray(by_object["x"]), np.asarray(by_name["x"]))
    assert timings["solver"] == "tsit5"
    programs = len(lv.runner.simulator._cache)
    again = lv.simulate(solver=diffrax.Tsit5(), saveat=5)  # an equal object: no compile
    assert len(lv.runner.simulator._cache) == programs
    np.testing.assert_array_equal(np.asarray(again["y"]), np.asarray(by_name["y"]))
    lv.simulate(solver=diffrax.Dopri5(), saveat=5)  # another solver: another program
    assert len(lv.runner.simulator._cache) == programs + 1


def test_solver_objects_are_checked(lv):
    with pytest.raises(symflow.SymflowError, match="euler takes fixed steps: set dt"):
        lv.simulate(solver=diffrax.Euler())
    with pytest.raises(symflow.SymflowError, match="a name or a diffrax solver, not int"):
        lv.simulate(solver=5)
    with pytest.raises(symflow.SymflowError, match="single ODE solve only"):
        lv.simulate(solver=diffrax.Tsit5(), trajectories=3)


def _end(model, alpha, adjoint):
    return model.simulate(params={"alpha": alpha}, adjoint=adjoint)["x"][-1]


def test_jacfwd_through_a_reverse_mode_adjoint_says_to_pass_forward(lv):
    with pytest.raises(symflow.SymflowError, match="reverse mode only") as info:
        jax.jacfwd(lambda a: _end(lv, a, "checkpoint"))(1.5)
    assert 'adjoint="forward"' in info.value.help


@pytest.mark.slow
def test_jacfwd_with_the_forward_adjoint_matches_finite_differences(lv):
    forward = jax.jacfwd(lambda a: _end(lv, a, "forward"))(1.5)
    step = 1e-6
    central = (_end(lv, 1.5 + step, "forward") - _end(lv, 1.5 - step, "forward")) / (2 * step)
    np.testing.assert_allclose(forward, central, rtol=1e-4)


@pytest.mark.parametrize("option", ["tspan", "saveat"])
def test_a_traced_span_under_jit_says_why_it_must_be_constant(lv, option):
    def solve(t1):
        values = {"tspan": (0.0, t1)} if option == "tspan" else {"saveat": [t1]}
        return lv.simulate(**values)["x"][-1]

    with pytest.raises(symflow.SymflowError, match=f"{option} is a traced value") as info:
        jax.jit(solve)(5.0)
    assert "static_argnums" in info.value.help
    # a constant span inside jit is fine
    np.testing.assert_allclose(jax.jit(lambda a: lv.simulate(
        params={"alpha": a}, tspan=(0.0, 10.0))["x"][-1])(1.5),
        lv.simulate()["x"][-1], rtol=1e-12)


def test_fit_has_an_explicit_signature_that_the_learn_stage_agrees_with():
    signature = inspect.signature(symflow.Model.fit)
    kinds = {p.kind for p in signature.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    options = {name: p.default for name, p in signature.parameters.items()
               if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert options == dict(FIT_DEFAULTS)


def test_fit_refuses_an_option_of_the_other_kind(lv):
    data = {"t": [0.0, 1.0], "x": [1.0, 2.0]}
    with pytest.raises(symflow.SymflowError, match="freeze= is an option of training"):
        lv.fit(data, ["alpha"], freeze=["beta"])
    with pytest.raises(TypeError):
        lv.fit(data, ["alpha"], solver_rtol=1e-6)  # a misspelt option: Python refuses it


def test_the_precision_is_set_at_import_and_can_be_turned_off():
    assert symflow.precision() == "float64"  # the default (conftest leaves it on)
    env = {**os.environ, "SYMFLOW_X64": "0"}
    env.pop("JAX_ENABLE_X64", None)
    code = ("import symflow, jax.numpy as jnp; "
            "print(jnp.asarray(1.0).dtype, symflow.precision())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["float32", "float32"]
