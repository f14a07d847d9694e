"""The Fourier spectral scheme: derivative accuracy, a periodic heat/advection
solve against the exact solution, de-aliasing, errors."""

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import symflow
from models import model_text
from symflow import symbolic
from symflow.errors import SymflowError
from symflow.lang import parse


def derivatives_model(points: int) -> str:
    fields = "\n".join(f"    u{k}(x) = exp(sin(x))" for k in range(1, 5))
    equations = "\n".join(f"    der(u{k}) = diff(u{k}, x, {k})" for k in range(1, 5))
    return f"""
model Derivatives
  domain
    x in [0, 2*pi], points = {points}, periodic
  variables
{fields}
  equations
{equations}
  simulate
    scheme = spectral
end
"""


def derivative_errors(points: int) -> list[float]:
    m = symflow.loads(derivatives_model(points))
    y0 = m.runner.simulator.pack(m.initial)
    rhs = np.asarray(m.rhs(0.0, y0))
    x = 2 * np.pi * np.arange(points) / points
    s = sp.Symbol("s")
    errors = []
    for k in range(1, 5):
        exact = sp.lambdify(s, sp.diff(sp.exp(sp.sin(s)), s, k))(x)
        errors.append(float(np.max(np.abs(rhs[(k - 1) * points:k * points] - exact))))
    return errors


def test_spectral_derivatives_converge_spectrally():
    coarse, fine = derivative_errors(16), derivative_errors(32)
    # exp(sin x) is entire: the error falls faster than any power of the spacing
    assert max(fine) < 1e-11, fine
    assert all(f < c * 1e-4 for c, f in zip(coarse, fine)), (coarse, fine)


HEAT_ADVECTION = """
model HeatAdvection
  parameters
    D = 0.1
    c = 0.7
  domain
    x in [0, 2*pi], points = 32, periodic
  variables
    u(x) = sin(x) + 0.5*cos(3*x)
  equations
    der(u) = D*diff(u, x, 2) + c*diff(u, x)
  simulate
    tspan = [0, 2]
    scheme = spectral
end
"""


def heat_advection_exact(x, t, D=0.1, c=0.7):
    return np.exp(-D * t) * np.sin(x + c * t) + 0.5 * np.exp(-9 * D * t) * np.cos(3 * (x + c * t))


@pytest.fixture(scope="module")
def heat():
    return symflow.loads(HEAT_ADVECTION)


@pytest.mark.slow
def test_periodic_heat_advection_with_tsit5(heat):
    sol = heat.simulate(solver="tsit5", rtol=1e-11, atol=1e-12, saveat=[1.0, 2.0])
    x = 2 * np.pi * np.arange(32) / 32
    assert np.max(np.abs(np.asarray(sol["u"][-1]) - heat_advection_exact(x, 2.0))) < 1e-9


def test_periodic_heat_advection_with_etdrk4_is_exact(heat):
    # a linear problem: N = 0, and the complex multipliers -D k^2 + i c k are
    # integrated exactly, whatever the step
    from symflow.analysis import split_semilinear

    split = split_semilinear(heat.system)
    assert split.kind == "fourier" and split.terms[0].remainder == 0
    sol = heat.simulate(solver="etdrk4", dt=0.5, saveat=[2.0])
    x = 2 * np.pi * np.arange(32) / 32
    assert np.max(np.abs(np.asarray(sol["u"][-1]) - heat_advection_exact(x, 2.0))) < 1e-13


def test_two_thirds_rule_removes_the_aliased_mode():
    # u = cos(5x) on 16 points: u^2 = 1/2 + cos(10x)/2, and mode 10 aliases onto
    # mode 6 of the grid. With dealias = 2/3 (modes up to 5 kept) the product is
    # filtered: only the mean 1/2 is left.
    text = model_text("alias")
    x = 2 * np.pi * np.arange(16) / 16
    for dealias, expected in (("1", 0.5 + 0.5 * np.cos(6 * x)), ("2/3", 0.5 + 0 * x)):
        m = symflow.loads(text.replace("DEALIAS", dealias))
        rhs = np.asarray(m.rhs(0.0, jnp.asarray(np.cos(5 * x))))
        np.testing.assert_allclose(rhs, expected, atol=1e-14)


@pytest.mark.parametrize("text, message", [
    ("model A\n domain\n  x in [0, 1], points = 16\n variables\n  u(x) = 0\n equations\n"
     "  der(u) = diff(u, x, 2)\n boundary\n  u = 0 at x = 0\n  u = 0 at x = 1\n"
     " simulate\n  scheme = spectral\nend\n", "needs periodic dimensions"),
    ("model B\n domain\n  x in [0, 1], points = 16, periodic\n variables\n  u(x) = 0\n"
     " equations\n  der(u) = -diff(u, x, 4)\nend\n", "order 3 and 4 need scheme = spectral"),
    ("model C\n domain\n  x in [0, 1], points = 16, periodic\n variables\n  u(x) = 0\n"
     " equations\n  der(u) = diff(u, x, 2)\n simulate\n  dealias = 2/3\nend\n",
     "dealias applies to scheme = spectral"),
    ("model D\n domain\n  x in [0, 1], points = 16, periodic\n variables\n  u(x) = 0\n"
     " equations\n  der(u) = diff(u, x, 2)\n simulate\n  scheme = spectral\n"
     "  dealias = 2\nend\n", "fraction of Fourier modes kept"),
])
def test_errors(text, message):
    with pytest.raises(SymflowError, match=message) as info:
        symbolic.build(parse(text))
    assert info.value.span is not None
