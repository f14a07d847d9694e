"""Observed outputs out of the solve program (solve/observed.py, issue 22): the
compiled solve returns the saved states only; a solution reads a pure alias off the
saved arrays without compiling, computes the other observed outputs from the states
with one program compiled once per model, and stays differentiable through them;
`solver = auto` is decided once per set of options, whatever the values passed."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import symflow
from symflow.solve.observed import Alias


@pytest.fixture(scope="module")
def rc(examples_dir_module):
    return symflow.load(examples_dir_module / "rc_circuit.sf")


@pytest.fixture(scope="module")
def examples_dir_module():
    import pathlib

    return pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_the_aliases_are_read_off_the_system(rc):
    aliases = rc.runner.simulator.outputs.aliases
    assert aliases["c.v"] == Alias("state", "c.vc", 1.0)
    assert aliases["r.p.v"] == Alias("parameter", "s.V", 1.0)
    assert aliases["gnd.g.v"] == Alias("number", value=0.0)
    # currents are quotients: computed, not aliases
    assert "r.i" in rc.runner.simulator.outputs.computed and "r.i" not in aliases


def test_the_solve_program_returns_the_states_only(rc):
    sol = rc.simulate(saveat=7)
    assert sol.ys.shape == (7, 1)  # one state: the capacitor's voltage
    out = jax.eval_shape(lambda p: rc.simulate(p, saveat=7), rc.params)
    leaves = jax.tree.leaves(out)
    assert not any(leaf.shape and leaf.shape[-1] == len(rc.observed_names)
                   for leaf in leaves)
    config, ts, p, initial = rc.runner.ode.plan(None, None, {
        "tspan": None, "saveat": 7, "initial": None, "rtol": None, "atol": None,
        "dt": None, "max_steps": None, "adjoint": "checkpoint", "dense": False,
        "progress": False})
    packed = rc.runner.simulator.packed_fn(config)(p, initial, ts)
    assert packed.shape == (7 * 1 + 1 + 4,)  # the states, the state reached, four scalars


def test_observed_values_match_the_circuit_laws(rc):
    """Every observed output against Kirchhoff's and Ohm's laws on the saved state."""
    sol = rc.simulate(params={"s.V": 2.0, "r.R": 3.0}, saveat=9)
    vc = sol["c.vc"]
    current = (2.0 - vc) / 3.0
    np.testing.assert_allclose(sol["r.i"], current, rtol=1e-12)
    np.testing.assert_allclose(sol["c.i"], current, rtol=1e-12)
    np.testing.assert_allclose(sol["r.v"], 2.0 - vc, rtol=1e-12)
    np.testing.assert_array_equal(sol["c.v"], vc)
    np.testing.assert_array_equal(sol["r.p.v"], np.full(9, 2.0))
    np.testing.assert_array_equal(sol["gnd.g.v"], np.zeros(9))
    assert list(sol.values) == list(sol.names) and len(sol.names) == 1 + len(rc.observed_names)
    # the columns of a CSV file hold the same numbers
    columns = sol.columns()
    np.testing.assert_allclose(columns["r.i"], current, rtol=1e-12)


def test_the_first_reads_compile_nothing_and_later_ones_compile_once(rc, monkeypatch):
    """Aliases are never compiled; computed outputs are evaluated op by op for the
    first `EAGER_READS` solutions, then by one program compiled once, giving the
    same numbers."""
    from symflow.solve import observed

    monkeypatch.setattr(observed, "EAGER_READS", 1)
    outputs = rc.runner.simulator.outputs
    outputs._programs.clear()
    outputs._reads[0] = 0
    sol = rc.simulate(saveat=5)
    sol["c.v"], sol["r.p.v"], sol["gnd.g.v"]
    assert outputs._reads == [0] and not outputs._programs  # aliases: nothing evaluated
    eager = sol["r.i"]
    assert outputs._reads == [1] and not outputs._programs  # op by op
    again = rc.simulate(saveat=5)
    np.testing.assert_allclose(again["r.i"], eager, rtol=1e-14)  # now compiled
    program = outputs.program("packed")
    other = rc.simulate(params={"r.R": 5.0}, saveat=5)
    assert float(other["r.i"][-1]) != float(eager[-1])
    assert program._cache_size() == 1 and outputs._reads == [1]


@pytest.mark.slow  # a gradient's compile (tests/solve/test_gradients.py reads `total`)
def test_a_gradient_through_an_observed_output(rc):
    """d i(t1) / dR through the observed program, against the closed form
    i = V exp(-t / (R C)) / R."""
    t1 = 5.0

    def current(r):
        return rc.simulate(params={"r.R": r}, saveat=2, rtol=1e-10, atol=1e-12)["r.i"][-1]

    r = 2.0
    exact = jax.grad(lambda r: jax.numpy.exp(-t1 / r) / r)(r)
    np.testing.assert_allclose(float(jax.grad(current)(r)), float(exact), rtol=1e-6)


def test_auto_is_decided_once_per_options(rc, monkeypatch):
    calls = []
    decide = rc.runner.choose_auto

    def counting(params, initial, t0, t1):
        calls.append(float(params["r.R"]))
        return decide(params, initial, t0, t1)

    def plan(params=None, initial=None, rtol=1e-5):
        """The configuration `simulate` would solve with (nothing compiled)."""
        return rc.runner.ode.plan(params, "auto", {
            "tspan": None, "saveat": 3, "initial": initial, "rtol": rtol, "atol": None,
            "dt": None, "max_steps": None, "adjoint": "checkpoint", "dense": False,
            "progress": False})[0]

    monkeypatch.setattr(rc.runner, "choose_auto", counting)
    first = plan({"r.R": 3.0})
    assert plan({"r.R": 7.0}) is first and plan(initial={"c.vc": 0.5}) is first
    assert calls == [3.0]  # other values: the first call's decision is kept
    plan({"r.R": 7.0}, rtol=1e-4)
    assert calls == [3.0, 7.0]  # other options: decided anew


@pytest.mark.slow  # a vmapped solve's compile
def test_a_batch_of_solutions_keeps_its_batch_axis(rc):
    import jax.numpy as jnp

    from symflow.errors import SymflowError

    sols = jax.vmap(lambda v: rc.simulate({"s.V": v}, saveat=4))(jnp.array([1.0, 2.0]))
    assert sols["c.v"].shape == (2, 4)
    np.testing.assert_array_equal(sols["r.p.v"], [[1.0] * 4, [2.0] * 4])
    np.testing.assert_array_equal(sols["c.v"], sols["c.vc"])
    with pytest.raises(SymflowError, match="inside the vmapped function"):
        sols["r.i"]
