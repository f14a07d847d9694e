"""The chemical Langevin SDE of a network (passes/reactions/langevin.py)."""

from __future__ import annotations

import numpy as np
import sympy as sp

import symflow
from models import model_text
from symflow.passes import to_langevin


def test_each_reaction_direction_gets_its_own_brownian_motion():
    m = symflow.loads(model_text("enzyme"))
    sde = to_langevin(m.built)
    assert [b.name for b in sde.brownians] == [
        "W_binding", "W_binding_reverse", "W_catalysis"]
    # d(P) = kcat*C dt + sqrt(kcat*C) dW_catalysis
    p = sde.equation_for("P")
    c, kcat = sp.Symbol("C", real=True), sp.Symbol("kcat", real=True)
    assert p.diffusion[:2] == (0, 0)
    assert sp.simplify(p.diffusion[2] - sp.sqrt(sp.Max(0, c * kcat))) == 0


def test_the_noise_shrinks_with_the_volume():
    """A concentration in volume V moves by sqrt(V*rate)/V dW: the noise is 1/sqrt(V)."""
    m = symflow.loads(model_text("dimerization"))
    sde = to_langevin(m.built)
    a, k = sp.Symbol("A", real=True), sp.Symbol("k", real=True)
    cell = sp.Symbol("cell", real=True)
    g = sde.equation_for("A").diffusion[0]
    expected = -2 * sp.sqrt(sp.Max(0, cell * k * a**2 / 2)) / cell
    assert sp.simplify((g - expected).subs({cell: 2, k: 0.3, a: 1.7})) == 0


def test_the_langevin_mean_follows_the_ode_at_large_copy_numbers():
    """Birth–death with a mean of 1000 molecules: the ensemble mean at t = 2 is the
    ODE's 1000*(1 - exp(-2)) within four standard errors, and the spread is about
    Poisson's (the variance of the linear-noise approximation, 1000*(1 - exp(-2)))."""
    text = model_text("birth_death").replace("k = 10.0", "k = 1000.0")
    m = symflow.loads(text)
    n = 400
    sol = m.simulate(interpretation="langevin", tspan=(0, 2), saveat=[0, 2],
                     trajectories=n, dt=0.002, seed=3)
    x = np.asarray(sol.paths["X"])[:, -1]
    mean = 1000 * (1 - np.exp(-2))
    assert abs(x.mean() - mean) < 4 * np.sqrt(mean / n)
    assert 0.75 * mean < x.var() < 1.3 * mean
