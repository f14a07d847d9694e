"""Exponential integrators on 2-D and 3-D spectral grids (docs/exponential.md,
Limits): the linear part is classified `banded` and used as a dense matrix, and
the solve equals a tight Tsit5 solve."""

from __future__ import annotations

import numpy as np
import pytest

import symflow
from models import model_text
from symflow.analysis import split_semilinear
from symflow.frontend import compile_text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["heat_2d_spectral_cubic", "heat_3d_spectral"])
@pytest.mark.parametrize("solver", ["etdrk4", "lawson"])
def test_multi_dimensional_spectral_grids(name, solver):
    assert split_semilinear(compile_text(model_text(name)).system).kind == "banded"
    m = symflow.loads(model_text(name))
    u = np.asarray(m.simulate(solver=solver, dt=0.01)["u"][-1])
    reference = np.asarray(m.simulate(solver="tsit5", rtol=1e-12, atol=1e-12)["u"][-1])
    assert np.max(np.abs(u - reference)) < 1e-9  # measured 4e-12 to 3e-11
