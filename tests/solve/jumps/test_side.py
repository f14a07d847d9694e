"""Reaction networks from model files run as jump processes (solve/jumps/side.py)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.errors import SymflowError
from symflow.solve.jumps import ModelJumps


def test_propensities_count_molecules_with_the_combinatoric_factor():
    """2 A -> D at k in a volume of 2: the propensity of n molecules is
    k * V * n(n-1)/2 / V^2, the exact counterpart of the rate law k*A^2/2."""
    m = symflow.loads(model_text("dimerization")).interpreted("jump")
    jumps = ModelJumps(m)
    a = jumps.program.propensities(0.0, jnp.asarray([7.0, 1.0]), m.params)
    np.testing.assert_allclose(np.asarray(a), [0.3 * 2 * 7 * 6 / 2 / 4])
    assert jumps.program.changes.tolist() == [[-2, 1]]


def test_the_birth_death_example_reaches_its_poisson_mean_and_variance():
    m = symflow.load("examples/birth_death.sf")
    sol = m.simulate(trajectories=2000, seed=5)
    x = np.asarray(sol.paths["X"])[:, -1]
    mean = 20 * (1 - np.exp(-10))
    assert abs(x.mean() - mean) < 4 * np.sqrt(mean / 2000)
    assert np.all(x == np.round(x))
    # the variance of a Poisson law equals its mean (its standard error ~ mean*sqrt(2/n))
    assert abs(x.var() - mean) < 4 * mean * np.sqrt(2 / 2000)


def test_concentrations_come_back_in_the_models_units():
    """A volume of 2: 5.0 per volume is 10 molecules; dimers take two at a time, so the
    count stays even and the concentration a multiple of 1."""
    m = symflow.loads(model_text("dimerization")).interpreted("jump")
    sol = m.simulate(trajectories=64, saveat=5)
    a = np.asarray(sol.paths["A"])
    assert np.all(a[:, 0] == 5.0)
    assert np.all((2 * a) % 2 == 0)
    # each dimer is two monomers: D's count is (10 - 2a)/2, its concentration half that
    np.testing.assert_allclose(np.asarray(sol.paths["D"]), (5.0 - a) / 2)


def test_whole_molecules_are_required():
    text = model_text("birth_death").replace("X = 0", "X = 2.5")
    m = symflow.loads(text)
    with pytest.raises(SymflowError, match="2.5 molecules"):
        m.simulate(interpretation="jump", trajectories=4)


def test_what_a_jump_process_cannot_be_is_refused_by_name():
    text = model_text("birth_death").replace("  simulate\n",
                                             "  events\n    at t = 1 then X = 0\n  simulate\n")
    m = symflow.loads(text)
    with pytest.raises(SymflowError, match="events are not run by the jump solvers"):
        m.simulate(interpretation="jump", trajectories=4)
    growing = symflow.loads(model_text("growing_cell"))
    with pytest.raises(SymflowError, match="volume varies"):
        growing.interpreted("jump")
