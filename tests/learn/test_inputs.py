"""Learning with inputs read from tables: a table is an array parameter that `train`
fits when named (a forcing recovered from the motion it drives), that `fit` and the
default names leave alone, and whose sensitivities come one column per row."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow import SymflowError
from symflow.learn import train

TEMPLATE = model_text("driven_oscillator_table_template")


def _model(folder: pathlib.Path, values: np.ndarray) -> symflow.Model:
    t = np.linspace(0.0, 10.0, values.size)
    np.savetxt(folder / "forcing.csv", np.c_[t, values], delimiter=",", header="t,F",
               comments="", fmt="%.17g")
    return symflow.loads(TEMPLATE.format(table="forcing.csv", interpolation="cubic"),
                         file=str(folder / "driven.sf"))


def _data(m: symflow.Model, forcing) -> dict:
    sol = m.simulate(params={"F": forcing}, saveat=101)
    return {"t": np.asarray(sol.t), "x": np.asarray(sol["x"])}


@pytest.mark.slow
def test_fit_and_the_default_names_leave_the_table_alone(tmp_path):
    m = _model(tmp_path, np.sin(1.3 * np.linspace(0, 10, 11)))
    data = _data(m, m.params["F"])
    result = m.fit(data, solve_rtol=1e-10, solve_atol=1e-12)
    assert tuple(result.values) == ("k", "c")
    with pytest.raises(SymflowError) as info:
        m.fit(data, params=["k", "F"])
    assert info.value.message == "fit estimates scalar parameters: 'F' is the table of an input"
    assert m.sensitivities(saveat=5).wrt == ("k", "c")


def test_sensitivities_to_a_table_have_one_column_per_row(tmp_path):
    m = _model(tmp_path, np.sin(1.3 * np.linspace(0, 10, 6)))
    s = m.sensitivities(wrt=["F", "k"], saveat=5)
    assert s.wrt == ("F[0]", "F[1]", "F[2]", "F[3]", "F[4]", "F[5]", "k")
    jac = jax.jacfwd(lambda v: m.simulate(params={"F": v}, saveat=5, adjoint="forward")["x"])(
        m.params["F"])
    np.testing.assert_allclose(s["x"][:, :6], jac, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_train_fits_a_forcing_from_the_motion_it_drives(tmp_path):
    """Data from a sine forcing on 11 knots, a table of zeros to start from: Adam on the
    table's values lowers the misfit of x by more than 20x in 40 steps."""
    m = _model(tmp_path, np.zeros(11))
    data = _data(m, jnp.sin(1.3 * jnp.linspace(0.0, 10.0, 11)))
    result = train(m, data, params=["F"], steps=40, learning_rate=0.1)
    assert result.trained == ("F",) and result.params["F"].shape == (11,)
    assert result.final_loss < result.losses[0] / 20
    np.testing.assert_array_equal(result.params["k"], m.params["k"])  # frozen


@pytest.mark.slow
def test_train_recovers_the_forcing(tmp_path):
    m = _model(tmp_path, np.zeros(11))
    true = jnp.sin(1.3 * jnp.linspace(0.0, 10.0, 11))
    result = train(m, _data(m, true), params=["F"], steps=300, learning_rate=0.1)
    np.testing.assert_allclose(result.params["F"], true, rtol=0, atol=1e-3)


def test_saved_weights_carry_the_table_values(tmp_path):
    """A model with a closure and an input: its weights file keeps the table's values
    (a list in the header) with the scalar parameters, and loading gives them back."""
    (tmp_path / "u.csv").write_text("t,u\n0,1\n1,2\n2,0.5\n")
    (tmp_path / "m.sf").write_text('''model Learned
  parameters
    a = 0.5
  inputs
    u = table("u.csv")
  variables
    x = 1
  closures
    R = mlp(x, u, width = 4, depth = 1)
  equations
    der(x) = -a*x + R
end
''')
    m = symflow.load(tmp_path / "m.sf")
    params = {**m.params, "u": jnp.array([3.0, -1.0, 2.5]), "a": jnp.asarray(0.25)}
    m.save_weights(tmp_path / "w.eqx", params)
    loaded = m.load_weights(tmp_path / "w.eqx")
    np.testing.assert_array_equal(loaded["u"], [3.0, -1.0, 2.5])
    assert float(loaded["a"]) == 0.25
