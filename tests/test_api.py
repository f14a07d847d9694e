"""The Python API: `load`/`loads`, `Model.params`, `simulate` and its options,
JAX transformations through `simulate`, `Solution` output, and errors.

References are analytic or computed here with NumPy/SciPy, never with symflow.
"""

from __future__ import annotations

import csv
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

import symflow
from models import model_text

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


# A linear model with known solution, an array state, a parameter whose default
# is an expression of another, and an initial value that uses a parameter:
#   x(t) = x0 exp(-b t) with b = 2a, x0 = 3 c;  z[i](t) = (i + 1) exp(-a t).
DECAY = model_text("decay_with_array")


@pytest.fixture(scope="module")
def lv():
    return symflow.load(EXAMPLES / "lotka_volterra.sf")


@pytest.fixture(scope="module")
def decay():
    return symflow.loads(DECAY)


@pytest.fixture(scope="module")
def lv_default(lv):
    return lv.simulate()


def _lv_reference(ts, alpha=1.5, beta=1.0, gamma=3.0, delta=1.0, x0=1.0, y0=1.0):
    def f(t, u):
        x, y = u
        return [alpha * x - beta * x * y, delta * x * y - gamma * y]

    ts = np.asarray(ts, dtype=float)
    r = scipy.integrate.solve_ivp(f, (ts[0], ts[-1]), [x0, y0], method="DOP853", t_eval=ts,
                                  rtol=1e-12, atol=1e-14)
    assert r.success
    return r.y.T


# ---------------------------------------------------------------- parameters


def test_params_are_float64_scalars(lv):
    assert list(lv.params) == ["alpha", "beta", "gamma", "delta"]
    for name, value in lv.params.items():
        assert isinstance(value, jax.Array), name
        assert value.shape == () and value.dtype == jnp.float64, name
    assert {k: float(v) for k, v in lv.params.items()} == {
        "alpha": 1.5, "beta": 1.0, "gamma": 3.0, "delta": 1.0}
    assert lv.state_names == ("x", "y")
    assert "total" in lv.observed_names


def test_partial_parameter_override(lv, lv_default):
    sol = lv.simulate(params={"alpha": 2.0})
    ts = np.asarray(sol.t)
    ref = _lv_reference(ts, alpha=2.0)
    # model rtol 1e-6: the global error is a small multiple of it (see test_examples)
    np.testing.assert_allclose(np.asarray(sol["x"]), ref[:, 0], rtol=5e-5, atol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["y"]), ref[:, 1], rtol=5e-5, atol=1e-8)
    # it really changed, and the stored defaults did not
    assert not np.allclose(np.asarray(sol["x"]), np.asarray(lv_default["x"]))
    assert float(lv.params["alpha"]) == 1.5


def test_parameter_default_follows_expression(decay):
    p = decay.complete_params({"a": 1.5})
    assert float(p["b"]) == 3.0 and float(p["c"]) == 1.0
    assert float(decay.params["b"]) == 1.0
    # given explicitly, b no longer follows a
    assert float(decay.complete_params({"a": 1.5, "b": 0.25})["b"]) == 0.25

    sol = decay.simulate(params={"a": 1.5})
    t = np.asarray(sol.t)
    np.testing.assert_allclose(np.asarray(sol["x"]), 3.0 * np.exp(-3.0 * t), rtol=1e-8)
    sol = decay.simulate(params={"a": 1.5, "b": 0.25})
    np.testing.assert_allclose(np.asarray(sol["x"]), 3.0 * np.exp(-0.25 * t), rtol=1e-8)
    z = np.asarray(sol["z"])
    assert z.shape == (5, 2)
    np.testing.assert_allclose(z, np.outer(np.exp(-1.5 * t), [1.0, 2.0]), rtol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["zsum"]), z.sum(axis=1), rtol=1e-14)


def test_unknown_parameter_is_an_error(lv):
    with pytest.raises(symflow.SymflowError, match="alphaa") as info:
        lv.simulate(params={"alphaa": 2.0})
    assert "alpha" in (info.value.help or "")
    with pytest.raises(symflow.SymflowError, match="no state"):
        lv.simulate(initial={"total": 1.0})


# ---------------------------------------------------------------- simulate options


def test_initial_override(lv):
    sol = lv.simulate(initial={"y": 2.0})
    assert float(sol["x"][0]) == 1.0 and float(sol["y"][0]) == 2.0
    ref = _lv_reference(np.asarray(sol.t), y0=2.0)
    np.testing.assert_allclose(np.asarray(sol["y"]), ref[:, 1], rtol=5e-5, atol=1e-8)
    # the model's own initial values are untouched
    assert float(lv.initial["y"]) == 1.0


def test_initial_value_follows_parameter(decay):
    assert float(decay.initial["x"]) == 3.0
    assert float(decay.initial_values({"c": 2.0})["x"]) == 6.0
    np.testing.assert_array_equal(np.asarray(decay.initial["z"]), [1.0, 2.0])


def test_tspan_and_saveat(lv, lv_default):
    sol = lv.simulate(tspan=(0.0, 5.0))  # same number of points: no recompilation
    ts = np.asarray(sol.t)
    np.testing.assert_allclose(ts, np.linspace(0.0, 5.0, 101), rtol=0, atol=1e-15)
    # the first half of the default run (saved every 0.1) is the same trajectory
    np.testing.assert_allclose(np.asarray(sol["x"])[::2], np.asarray(lv_default["x"])[:51],
                               rtol=1e-5)

    with pytest.raises(symflow.SymflowError, match="outside"):
        lv.simulate(tspan=(0.0, 3.0), saveat=[4.0])


def test_saveat_list_includes_both_ends(decay):
    # three times + both ends = 5 points, as decay's default: no recompilation
    sol = decay.simulate(tspan=(0.0, 3.0), saveat=[0.5, 1.0, 2.5])
    ts = np.asarray(sol.t)
    np.testing.assert_array_equal(ts, [0.0, 0.5, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(np.asarray(sol["x"]), 3.0 * np.exp(-ts), rtol=1e-8)
    assert np.asarray(sol["z"]).shape == (5, 2)
    assert np.asarray(sol["zsum"]).shape == (5,)


def test_backward_span_and_array_initial(decay):
    # t1 < t0 integrates backwards; same number of points as the default: no recompilation
    x_end = 3.0 * math.exp(-2.0)
    sol = decay.simulate(tspan=(2.0, 0.0), initial={"x": x_end, "z": [5.0, 6.0]})
    ts = np.asarray(sol.t)
    np.testing.assert_allclose(ts, [2.0, 1.5, 1.0, 0.5, 0.0], atol=1e-15)
    np.testing.assert_allclose(np.asarray(sol["x"]), 3.0 * np.exp(-ts), rtol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["z"]),
                               np.outer(np.exp(-0.5 * (ts - 2.0)), [5.0, 6.0]), rtol=1e-8)
    with pytest.raises(symflow.SymflowError, match="shape"):
        decay.simulate(initial={"z": [1.0, 2.0, 3.0]})


STIFF_IF_K_LARGE = model_text("relax")


def test_auto_choice_follows_concrete_parameters():
    m = symflow.loads(STIFF_IF_K_LARGE)

    def choice(k):
        p = m.complete_params({"k": k})
        return m.runner.choose_auto(p, {}, 0.0, 1.0)

    assert choice(1.0) in symflow.solve.EXPLICIT
    # a stiff model of one state: Rodas5P (docs/stiff.md), a stiff solver of its own
    assert choice(1e6) == "rodas5p" and choice(1e6) in symflow.solve.ROSENBROCK


# ---------------------------------------------------------------- JAX transformations


def test_jit_of_simulate(lv, lv_default):
    @jax.jit
    def final_prey(params):
        return lv.simulate(params=params)["x"][-1]

    np.testing.assert_allclose(float(final_prey(lv.params)), float(lv_default["x"][-1]),
                               rtol=1e-12)
    p = dict(lv.params, alpha=jnp.asarray(2.0))
    expected = float(lv.simulate(params={"alpha": 2.0})["x"][-1])
    np.testing.assert_allclose(float(final_prey(p)), expected, rtol=1e-12)


def test_grad_matches_finite_differences(lv):
    tight = dict(rtol=1e-10, atol=1e-12, tspan=(0.0, 2.0), saveat=11)

    def loss(params):
        sol = lv.simulate(params=params, **tight)
        return jnp.sum(sol["x"] ** 2) + jnp.sum(sol["y"])

    # one compiled program gives the gradient and the values for the differences
    value_and_grad = jax.jit(jax.value_and_grad(loss))
    _, grad = value_and_grad(lv.params)
    assert set(grad) == set(lv.params)
    for name, value in lv.params.items():
        # central differences: truncation ~h^2 = 1e-8 relative, solver noise ~rtol/h = 1e-6
        # (measured agreement ~1e-8)
        h = 1e-4 * max(1.0, abs(float(value)))
        up = float(value_and_grad(dict(lv.params, **{name: value + h}))[0])
        down = float(value_and_grad(dict(lv.params, **{name: value - h}))[0])
        fd = (up - down) / (2 * h)
        g = float(grad[name])
        assert g != 0.0, name
        assert abs(g - fd) <= 1e-5 * abs(fd), (name, g, fd)


def test_vmap_over_a_parameter(lv):
    alphas = jnp.array([1.0, 1.5, 2.0])

    def final(alpha):
        sol = lv.simulate(params={"alpha": alpha})
        return jnp.stack([sol["x"][-1], sol["y"][-1]])

    batched = np.asarray(jax.vmap(final)(alphas))
    assert batched.shape == (3, 2)
    for i, alpha in enumerate([1.0, 1.5, 2.0]):
        ref = _lv_reference([0.0, 10.0], alpha=alpha)[-1]
        np.testing.assert_allclose(batched[i], ref, rtol=5e-5)


def test_grad_through_initial_value_expression(decay):
    # x(T) = 3 c exp(-b T) with b = 2a (a default that follows a):
    #   d x(T) / dc = 3 exp(-b T)      (through the initial value x = 3c only)
    #   d x(T) / da = -2 T x(T)        (through b = 2a)
    T = 2.0

    def final_x(params):
        return decay.simulate(params=params)["x"][-1]

    params = {"a": jnp.asarray(0.5), "c": jnp.asarray(1.0)}  # b left to follow a
    value_and_grad = jax.jit(jax.value_and_grad(final_x))
    value, grad = value_and_grad(params)
    x_T = 3.0 * math.exp(-1.0 * T)
    np.testing.assert_allclose(float(value), x_T, rtol=1e-9)
    assert float(grad["c"]) != 0.0
    np.testing.assert_allclose(float(grad["c"]), 3.0 * math.exp(-1.0 * T), rtol=1e-8)
    np.testing.assert_allclose(float(grad["a"]), -2 * T * x_T, rtol=1e-8)
    for name in params:
        h = 1e-4
        up = float(value_and_grad(dict(params, **{name: params[name] + h}))[0])
        down = float(value_and_grad(dict(params, **{name: params[name] - h}))[0])
        fd = (up - down) / (2 * h)
        assert abs(float(grad[name]) - fd) <= 1e-5 * abs(fd), (name, grad[name], fd)


# ---------------------------------------------------------------- solution output


def test_dense_output(decay):
    sol = decay.simulate(dense=True)
    t = 1.234  # not a step end
    values = sol.evaluate(t)
    np.testing.assert_allclose(float(values["x"]), 3.0 * math.exp(-t), rtol=1e-7)
    np.testing.assert_allclose(np.asarray(values["z"]),
                               [math.exp(-0.5 * t), 2 * math.exp(-0.5 * t)], rtol=1e-7)
    ts = np.array([0.1, 0.7, 1.3])
    values = sol.evaluate(ts)
    np.testing.assert_allclose(np.asarray(values["x"]), 3.0 * np.exp(-ts), rtol=1e-7)
    assert np.asarray(values["z"]).shape == (3, 2)

    with pytest.raises(symflow.SymflowError, match="dense"):
        decay.simulate().evaluate(0.5)


def test_to_csv_and_npz(decay, tmp_path):
    sol = decay.simulate()
    t = np.asarray(sol.t)
    np.testing.assert_allclose(t, np.linspace(0.0, 2.0, 5), atol=1e-15)

    path = tmp_path / "out.csv"
    sol.to_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[0] == "t"
    assert set(header) == {"t", "x", "z[0]", "z[1]", "zsum"}
    data = np.array(rows[1:], dtype=float)
    assert data.shape == (5, 5)
    column = {name: data[:, i] for i, name in enumerate(header)}
    np.testing.assert_array_equal(column["t"], t)  # written with repr: exact
    np.testing.assert_array_equal(column["x"], np.asarray(sol["x"]))
    np.testing.assert_array_equal(column["z[0]"], np.asarray(sol["z"])[:, 0])
    np.testing.assert_array_equal(column["z[1]"], np.asarray(sol["z"])[:, 1])
    np.testing.assert_array_equal(column["zsum"], np.asarray(sol["zsum"]))

    path = tmp_path / "out.npz"
    sol.to_npz(path)
    with np.load(path) as data:
        assert set(data.files) == {"t", "x", "z", "zsum"}
        np.testing.assert_array_equal(data["t"], t)
        np.testing.assert_array_equal(data["z"], np.asarray(sol["z"]))
        assert data["z"].shape == (5, 2)

    sol.save(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "out.csv").read_text()
    with pytest.raises(symflow.SymflowError):
        sol.save(tmp_path / "out.txt")


def test_solution_lookup(lv_default):
    assert set(lv_default.names) >= {"x", "y", "total"}
    assert "x" in lv_default and "nope" not in lv_default
    with pytest.raises(symflow.SymflowError, match="nope"):
        lv_default["nope"]


# ---------------------------------------------------------------- failures


def test_blow_up_raises_solver_error():
    # y' = y^2, y(0) = 1: y = 1/(1 - t) blows up at t = 1
    m = symflow.loads("""
model BlowUp
  variables
    y = 1.0
  equations
    der(y) = y^2
  simulate
    tspan = [0, 2]
    solver = tsit5
end
""")
    with pytest.raises(symflow.SolverError) as info:
        m.simulate(max_steps=2000)
    err = info.value
    assert isinstance(err, symflow.SymflowError)
    assert abs(err.t - 1.0) < 1e-2, err.t
    assert "t = " in str(err)
    # the step limit ends it (the steps shrink towards the singularity), and the
    # help says why rather than suggesting a stiff solver
    assert "maximum number of solver steps" in err.message
    assert "grows without bound" in (err.help or "")


def test_auto_choice_inside_an_outer_trace():
    """`solver = auto` is decided from concrete values even while an outer jit traces
    (everything jnp does there is staged, so the decision forces evaluation)."""
    m = symflow.loads(STIFF_IF_K_LARGE)
    final = jax.jit(lambda: m.simulate(params={"k": 1e6})["x"][-1])()
    np.testing.assert_allclose(float(final), math.exp(-1e6), atol=1e-12)
