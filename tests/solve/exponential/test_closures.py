"""Exponential integrators on a spectral model whose closure takes a space
derivative (`mlp(u, diff(u, x))`, issue 20 item 10: the solve crashed with "a
space derivative is left"): the closure's input is the spectral derivative, and
the solve equals a tight Tsit5 solve of the same model."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text  # noqa: E402
from symflow.analysis import split_semilinear
from symflow.frontend import compile_text
from symflow.symbolic import ClosureOutput

CLOSURE = "    C = mlp(u, diff(u, x), width = 4, depth = 1, activation = tanh, seed = 0)\n"


@pytest.fixture(scope="module")
def model():
    return symflow.loads(model_text("ks_closure_spectral"))


@pytest.fixture(scope="module")
def reference(model):
    return np.asarray(model.simulate(solver="tsit5", rtol=1e-11, atol=1e-12)["u"])


def test_the_split_is_fourier_with_the_closure_in_the_remainder():
    split = split_semilinear(compile_text(model_text("ks_closure_spectral")).system)
    assert split.kind == "fourier"
    assert split.terms[0].remainder.has(ClosureOutput)
    assert not split.terms[0].linear.has(ClosureOutput)


@pytest.mark.parametrize("solver", ["etdrk4", pytest.param("lawson", marks=pytest.mark.slow)])
def test_exponential_solve_with_a_derivative_in_the_closure(model, reference, solver):
    u = np.asarray(model.simulate(solver=solver, dt=0.05)["u"])
    assert np.max(np.abs(u - reference)) < 1e-8  # measured 6e-11 (etdrk4), 5e-11 (lawson)
    # the closure matters: without it the solution is another one
    text = model_text("ks_closure_spectral")
    assert CLOSURE in text
    plain = symflow.loads(text.replace(CLOSURE, "").replace("  closures\n", "")
                          .replace(" + C\n", "\n"))
    other = np.asarray(plain.simulate(solver=solver, dt=0.05)["u"])
    assert np.max(np.abs(other - reference)) > 1e-3
