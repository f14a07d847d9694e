"""The `fit` section is checked when the model is built (so `symflow check` reports
its mistakes, without JAX), and may name an element of an array observable."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text
from symflow import catalog
from symflow.cli import main
from symflow.errors import SymflowError
from symflow.frontend import compile_text
from symflow.symbolic import NOISE_ROLES, MeasurementNoise

ARRAY = """model Decays
  constants
    r = [1.0, 2.0]
  parameters
    k = 0.5 in [0.01, 10]
    s = 0.05 in [0.001, 1]
  variables
    z[2] = 1.0
  observed
    w = 2*z
  equations
    der(z) = -k*r*z
  fit
    z[1] ~ normal(sigma = s)
    w[0] ~ laplace(scale = 0.1)
  simulate
    tspan = [0, 2]
    solver = tsit5
end
"""


def test_every_noise_model_of_the_catalogue_has_its_roles():
    assert set(NOISE_ROLES) == set(catalog.NOISE_MODELS)


def test_the_section_is_built_with_the_model():
    built = compile_text(ARRAY).built
    assert built.noise == (
        MeasurementNoise("z[1]", "normal", (("sigma", "s"),), built.noise[0].span),
        MeasurementNoise("w[0]", "laplace", (("scale", 0.1),), built.noise[1].span))
    assert built.noise[0].span.line == 14


@pytest.mark.parametrize("entry, message, column", [
    ("q ~ normal(sigma = 0.1)", "noise model for 'q': no state or observed output", 5),
    ("z ~ normal(sigma = 0.1)", "'z' is an array of 2 values: give each element", 5),
    ("z[2] ~ normal(sigma = 0.1)", r"'z\[2\]': 'z' is an array of 2 values \(indices 0 to 1\)",
     5),
    ("z[1.5] ~ normal(sigma = 0.1)", r"an element is named by a whole number", 7),
    ("z[1] ~ gauss(sigma = 0.1)", "unknown noise model 'gauss'", 12),
    ("z[1] ~ normal(sigma = q)", "'q' is not a parameter of Decays", 27),
    ("z[1] ~ normal(sigma = -0.1)", "a noise parameter is a number or a parameter's name",
     27),
    ("z[1] ~ normal(sigma = 0)", "sigma must be positive", 27),
    ("z[1] ~ normal(scale = 0.1)", r"normal takes \(sigma = ...\) or \(b = ...\)", 5),
    ("z[1] ~ normal(0.1)", r"name the noise parameters: `normal\(sigma = ...\)`", 5),
])
def test_each_mistake_is_pointed_at_when_the_model_is_built(entry, message, column):
    text = ARRAY.replace("z[1] ~ normal(sigma = s)", entry)
    with pytest.raises(SymflowError, match=message) as info:
        compile_text(text, file="m.sf")
    assert f"m.sf:14:{column}" in info.value.pretty()


def test_an_observable_has_one_noise_model():
    text = ARRAY.replace("w[0] ~ laplace", "z[1] ~ laplace")
    with pytest.raises(SymflowError, match="'z\\[1\\]' has two noise models") as info:
        compile_text(text, file="m.sf")
    assert "m.sf:15:5" in info.value.pretty()


def test_the_noise_models_of_array_elements_reach_the_fit():
    from symflow.learn import Laplace, Normal
    from symflow.learn._noise import noise_models

    assert noise_models(symflow.loads(ARRAY)) == {"z[1]": Normal(sigma="s"),
                                                  "w[0]": Laplace(scale=0.1)}


@pytest.mark.slow  # a compiled fit: ~4 s
def test_a_fit_uses_the_noise_model_of_an_array_element():
    """The likelihood of z[1]'s data under normal(sigma = s): the fitted s is the
    residuals' RMS (the maximum-likelihood sigma), and k is recovered."""
    m = symflow.loads(ARRAY.replace("    w[0] ~ laplace(scale = 0.1)\n", ""))
    t = np.linspace(0.2, 2.0, 12)
    rng = np.random.default_rng(0)
    z1 = np.exp(-2.0 * t) + 0.01 * rng.standard_normal(t.size)
    result = m.fit({"t": t, "z[1]": z1}, ["k", "s"])
    assert result.likelihood and result.values["k"] == pytest.approx(1.0, rel=0.05)
    rms = np.sqrt(np.mean((np.exp(-2.0 * result.values["k"] * t) - z1) ** 2))
    assert result.values["s"] == pytest.approx(rms, rel=1e-3)


def test_check_reports_a_mistake_in_the_fit_section(tmp_path, capsys):
    path = tmp_path / "m.sf"
    path.write_text(model_text("decay_estimated_noise").replace("x ~ normal", "y ~ normal"))
    code = main(["check", str(path)])
    assert code != 0
    assert "noise model for 'y'" in capsys.readouterr().err
