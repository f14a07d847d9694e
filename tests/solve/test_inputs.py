"""Inputs read from tables, solved: accuracy against closed forms, the order of the
interpolation error, the knots in the step-size controller, spans the tables do not
cover, new values through `params`, and gradients with respect to the values.

The driven oscillator `x'' + c x' + k x = F(t)` (tests/models/driven_oscillator_*.sf)
reads F from a table of sin(1.3 t) sampled every h, and is compared with the same
model whose F is sin(1.3 t) written out. The solution's error is the interpolation
error filtered by the oscillator: with impulse response G(s) = e^{-cs/2} sin(ω s)/ω
(ω² = k - c²/4), |x_table - x| <= ∫|G| max|F_table - F| <= (2/(c ω)) max|F_table - F|.
"""

from __future__ import annotations

import pathlib

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import symflow
from models import model_path, model_text
from symflow import SymflowError
from symflow.solve import SolveConfig

W, K, C = 1.3, 4.0, 0.3
OMEGA = np.sqrt(K - C**2 / 4)
GAIN = 2.0 / (C * OMEGA)  # ∫|G| <= 2/(c ω)
TEMPLATE = model_text("driven_oscillator_table_template")


@pytest.fixture(scope="module")
def exact():
    return symflow.loads(model_text("driven_oscillator_closed_form")).simulate()


def _table(folder: pathlib.Path, rows: int, *, name: str = "F", end: float = 10.0) -> str:
    """A table of sin(1.3 t) on `rows` evenly spaced times over [0, end]; its file name."""
    t = np.linspace(0.0, end, rows)
    path = folder / f"forcing_{rows}.csv"
    np.savetxt(path, np.c_[t, np.sin(W * t)], delimiter=",", header=f"t,{name}",
               comments="", fmt="%.17g")
    return path.name


def _oscillator(folder: pathlib.Path, table: str, interpolation: str) -> symflow.Model:
    return symflow.loads(TEMPLATE.format(table=table, interpolation=interpolation),
                         file=str(folder / "driven.sf"))


def _error(model: symflow.Model, exact) -> float:
    return float(np.max(np.abs(model.simulate()["x"] - exact["x"])))


def test_a_linear_table_follows_the_closed_form_within_the_interpolation_bound(exact):
    """h = 0.1 (tests/models/driven_forcing.csv): linear interpolation is off by at
    most h² max|F''|/8 = h² w²/8, so x by at most GAIN h² w²/8 (7.1e-3)."""
    m = symflow.loads(TEMPLATE.format(table="driven_forcing.csv", interpolation="linear"),
                      file=str(model_path("driven_oscillator_table_template")))
    sol = m.simulate()
    error = float(np.max(np.abs(sol["x"] - exact["x"])))
    bound = GAIN * 0.1**2 * W**2 / 8
    assert error < bound
    assert error > 1e-2 * bound  # the table is used: not the closed form by accident
    # the force is the table's line between samples (saves every 0.05 fall between)
    t = np.asarray(sol.t)
    table = np.loadtxt(model_path("driven_oscillator_table_template").parent
                       / "driven_forcing.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(sol["force"], np.interp(t, table[:, 0], table[:, 1]),
                               rtol=0, atol=1e-14)


@pytest.mark.slow
def test_the_error_falls_as_h_squared_for_linear_and_h_to_the_fourth_for_cubic(tmp_path, exact):
    """Halving h divides the error by about 4 (linear) and 16 (the natural spline: its
    end effect, O(h²) over a width h, is of higher order in x); each stays under its
    bound (GAIN h² w²/8, and GAIN (5/384) h⁴ w⁴ in the spline's interior)."""
    rows = (51, 101, 201)  # h = 0.2, 0.1, 0.05
    h = np.array([10.0 / (n - 1) for n in rows])
    linear = np.array([_error(_oscillator(tmp_path, _table(tmp_path, n), "linear"), exact)
                       for n in rows])
    cubic = np.array([_error(_oscillator(tmp_path, _table(tmp_path, n), "cubic"), exact)
                      for n in rows])
    assert np.all(linear < GAIN * h**2 * W**2 / 8)
    assert np.all(cubic < GAIN * 5 / 384 * h**4 * W**4)
    linear_order = np.log2(linear[:-1] / linear[1:])
    cubic_order = np.log2(cubic[:-1] / cubic[1:])
    np.testing.assert_allclose(linear_order, 2.0, atol=0.1)
    np.testing.assert_allclose(cubic_order, 4.0, atol=0.3)


@pytest.mark.slow
def test_monotone_is_between_linear_and_cubic_and_previous_is_first_order(tmp_path, exact):
    """Refining h = 0.2 -> 0.1: PCHIP's slopes (set flat at the samples around each
    extremum of the sine) make it third order or better; a zero-order hold lags by
    h/2, first order (error <= GAIN h w)."""
    small, large = _table(tmp_path, 101), _table(tmp_path, 51)
    fine, coarse = (_error(_oscillator(tmp_path, table, "monotone"), exact)
                    for table in (small, large))
    assert np.log2(coarse / fine) > 3.0
    linear = _error(_oscillator(tmp_path, small, "linear"), exact)
    cubic = _error(_oscillator(tmp_path, small, "cubic"), exact)
    assert cubic < fine < linear
    fine, coarse = (_error(_oscillator(tmp_path, table, "previous"), exact)
                    for table in (small, large))
    assert fine < GAIN * 0.1 * W
    np.testing.assert_allclose(np.log2(coarse / fine), 1.0, atol=0.1)


def _held(t: np.ndarray, a: float = 2.0) -> np.ndarray:
    """x' = -a x + u, x(0) = 1, u held at each row of held_input.csv: on [t_k, t_k+1),
    x = u_k/a + (x(t_k) - u_k/a) e^{-a (t - t_k)}."""
    knots, values = [0.0, 1.0, 2.5, 3.0, 4.0], [1.0, -2.0, 0.5, 3.0, 7.0]
    out, x0 = np.empty_like(t), 1.0
    for k in range(4):
        lo, hi, u = knots[k], knots[k + 1], values[k]
        inside = (t >= lo) & (t <= hi)
        out[inside] = u / a + (x0 - u / a) * np.exp(-a * (t[inside] - lo))
        x0 = u / a + (x0 - u / a) * np.exp(-a * (hi - lo))
    return out


def test_a_held_input_gives_the_piecewise_closed_form_up_to_the_tolerance():
    """The solve ends on the last knot (t = 4, whose row holds 7): it reads the row
    before, as on the left of every other knot."""
    m = symflow.loads(model_text("held_input_template").format(options=""),
                      file=str(model_path("held_input_template")))
    sol = m.simulate()
    np.testing.assert_allclose(sol["x"], _held(np.asarray(sol.t)), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(sol["held"][[0, 9, 10, 24, 25, 29, 30, 40]],
                                  [1, 1, -2, -2, 0.5, 0.5, 3, 7])
    # a span that starts and ends on inner knots reads the rows inside it only
    x1 = float(_held(np.array([1.0]))[0])
    part = m.simulate(tspan=(1.0, 3.0), saveat=21, initial={"x": x1})
    np.testing.assert_allclose(part["x"], _held(np.asarray(part.t)), rtol=0, atol=1e-9)


def test_the_controller_steps_onto_every_knot_inside_the_span(tmp_path):
    m = _oscillator(tmp_path, _table(tmp_path, 11), "linear")
    cubic = _oscillator(tmp_path, _table(tmp_path, 11), "cubic")

    def controller(model, t0=0.0, t1=10.0, solver="tsit5"):
        config = SolveConfig(solver=solver, t0=t0, t1=t1, rtol=1e-6, atol=1e-9,
                             dt0=0.1 if solver == "euler" else None, max_steps=1000,
                             n_save=2)
        return model.runner.simulator.problem(config).controller

    inner = np.arange(1.0, 10.0)
    c = controller(m)
    assert isinstance(c, diffrax.ClipStepSizeController)
    np.testing.assert_array_equal(c.jump_ts, inner)  # a kink: jump_ts
    assert c.step_ts is None
    c = controller(cubic)
    np.testing.assert_array_equal(c.step_ts, inner)  # smooth to the 2nd derivative
    assert c.jump_ts is None
    np.testing.assert_array_equal(controller(m, 2.5, 4.0).jump_ts, [3.0])
    assert isinstance(controller(m, 2.2, 2.8), diffrax.PIDController)  # no knot inside
    assert isinstance(controller(m, solver="euler"), diffrax.ConstantStepSize)
    # the solve does stop there: a 9-knot table takes at least 10 steps
    stats = m.simulate(saveat=2, rtol=1e-3, atol=1e-3, dense=True).dense.stats
    assert int(stats["num_accepted_steps"]) >= 10


def test_a_span_outside_the_table_is_refused_unless_held(tmp_path):
    table = _table(tmp_path, 11, end=5.0)
    m = _oscillator(tmp_path, table, "linear")
    with pytest.raises(SymflowError) as info:
        m.simulate()  # the model's span [0, 10]
    message = str(info.value)
    assert "[0, 10] leaves the table of input 'F'" in message
    assert f"{table} covers t in [0, 5]" in message and "extrapolation = hold" in message
    with pytest.raises(SymflowError, match="leaves the table"):
        m.simulate(tspan=(5.0, -1.0))  # backwards, past the start
    assert np.all(np.isfinite(m.simulate(tspan=(0.0, 5.0))["x"]))
    held = symflow.loads(TEMPLATE.format(table=table, interpolation="linear, "
                                         "extrapolation = hold"), file=str(tmp_path / "h.sf"))
    sol = held.simulate()
    after = np.asarray(sol.t) >= 5.0
    np.testing.assert_allclose(sol["force"][after], np.sin(W * 5.0), rtol=0, atol=1e-15)
    # past the table, x relaxes under a constant force: x -> F(5)/k
    assert abs(float(sol["x"][-1]) - np.sin(W * 5.0) / K) < 0.3


def test_new_values_through_params_and_their_shape_checked(tmp_path):
    m = _oscillator(tmp_path, _table(tmp_path, 21), "cubic")
    assert m.params["F"].shape == (21,)
    base = m.simulate()
    doubled = m.simulate(params={"F": 2 * m.params["F"]})
    zero = m.simulate(params={"F": jnp.zeros(21)})
    # linear in F: x(2F) - x(0) = 2 (x(F) - x(0))
    np.testing.assert_allclose(doubled["x"] - zero["x"], 2 * (base["x"] - zero["x"]),
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(doubled["force"], 2 * base["force"], rtol=0, atol=1e-14)
    with pytest.raises(SymflowError, match=r"input 'F' takes 21 values, one per row of "
                                           r"forcing_21.csv, not an array of shape \(20,\)"):
        m.simulate(params={"F": jnp.zeros(20)})
    # several tables at once: vmap over the values (an ensemble sweep is refused)
    batch = jax.vmap(lambda v: m.simulate(params={"F": v})["x"])(
        jnp.stack([m.params["F"], 2 * m.params["F"]]))
    np.testing.assert_allclose(batch[1], doubled["x"], rtol=0, atol=1e-9)
    with pytest.raises(SymflowError, match="cannot sweep 'F': it is the table of an input"):
        m.simulate(sweep={"F": [1.0, 2.0]})


def _gradient_check(tmp_path, interpolation: str, adjoint: str, eps: float, atol: float):
    """jax.grad of a loss of the whole trajectory with respect to the table's values
    against central differences (x is affine in the values for linear, cubic and
    previous, so the loss is quadratic and central differences exact for any eps)."""
    m = _oscillator(tmp_path, _table(tmp_path, 11), interpolation)

    def loss(values):
        sol = m.simulate(params={"F": values}, saveat=21, adjoint=adjoint)
        return jnp.sum(sol["x"] ** 2)

    values = m.params["F"]
    grad = np.asarray(jax.grad(loss)(values))
    fd = np.array([(loss(values + eps * e) - loss(values - eps * e)) / (2 * eps)
                   for e in np.eye(values.size)])
    np.testing.assert_allclose(grad, fd, rtol=0, atol=atol)
    assert np.max(np.abs(fd)) > 0.1


@pytest.mark.parametrize("interpolation, adjoint", [
    ("previous", "checkpoint"),  # the replayed steps end before each jump, as the solve's
    # (cubic and the others: the slow matrix below)
])
def test_the_gradient_with_respect_to_the_values_matches_central_differences(
        tmp_path, interpolation, adjoint):
    eps = 1e-5 if interpolation == "monotone" else 0.1
    _gradient_check(tmp_path, interpolation, adjoint, eps, 1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("interpolation", ["linear", "cubic", "monotone", "previous"])
@pytest.mark.parametrize("adjoint", ["checkpoint", "direct", "interpolating"])
def test_every_gradient_of_every_interpolation(tmp_path, interpolation, adjoint):
    eps = 1e-5 if interpolation == "monotone" else 0.1
    _gradient_check(tmp_path, interpolation, adjoint, eps,
                    1e-5 if adjoint == "interpolating" else 1e-6)


def test_an_input_differentiated_by_index_reduction(tmp_path):
    """`0 = x - u` makes x follow the input: index reduction differentiates it, so
    y = der(x) = u'(t), the derivative of the natural spline (SciPy's), close to
    1.3 cos(1.3 t) but near the last knot, where the natural spline's end condition
    (zero curvature) is not the sine's."""
    table = _table(tmp_path, 201, name="u")
    (tmp_path / "dae.sf").write_text(f'''model Follow
  inputs
    u = table("{table}", interpolation = cubic)
  variables
    x = 0
    y
    z = 1
  equations
    der(x) = y
    0 = x - u
    der(z) = -z + y
  simulate
    tspan = [0, 10]
    rtol = 1e-10
    atol = 1e-12
end
''')
    m = symflow.load(tmp_path / "dae.sf")
    sol = m.simulate()
    t = np.asarray(sol.t)
    knots = np.linspace(0.0, 10.0, 201)
    spline = CubicSpline(knots, np.sin(W * knots), bc_type="natural")
    np.testing.assert_allclose(sol["x"], spline(t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(sol["y"], spline(t, 1), rtol=0, atol=1e-10)
    inner = t <= 9.0  # the end condition's effect decays within a few knots
    np.testing.assert_allclose(sol["y"][inner], W * np.cos(W * t[inner]), rtol=0, atol=1e-4)


def test_a_stochastic_model_reads_its_table_and_checks_its_span(tmp_path):
    table = _table(tmp_path, 21, name="u")
    (tmp_path / "sde.sf").write_text(f'''model Noisy
  inputs
    u = table("{table}")
  brownian
    W
  variables
    x = 0
  equations
    d(x) = (u - x)*dt + 0.01*dW
  simulate
    tspan = [0, 10]
    dt = 0.01
    trajectories = 4
end
''')
    m = symflow.load(tmp_path / "sde.sf")
    sol = m.simulate(saveat=11)
    assert np.all(np.isfinite(sol["x"]))
    # x' = u - x follows sin(w t) as (sin(w t) - w cos(w t))/(1 + w²), up to the
    # interpolation error (h²w²/8 = 0.05) and the noise
    steady = (np.sin(W * 10.0) - W * np.cos(W * 10.0)) / (1 + W**2)
    np.testing.assert_allclose(sol.mean["x"][-1], steady, rtol=0, atol=0.07)
    with pytest.raises(SymflowError, match="leaves the table of input 'u'"):
        m.simulate(tspan=(0.0, 11.0))
