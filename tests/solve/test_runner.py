"""The solve policy of a compiled model (`symflow.solve.runner`): which side takes a
call, which linear strategy an implicit solve gets, and what is decided once."""

from __future__ import annotations

import dataclasses

import pytest

import symflow
from models import model_text
from symflow.solve import Banded, Dense, EnsembleSolution, GridKrylov, Solution
from symflow.solve.runner import EnsembleSide, ODESide, SamplerSide

DIRICHLET = "    u = 0 at x = 0\n    u = 0 at x = 1"


def heat(n: int = 41):
    return symflow.loads(model_text("heat_1d_template").format(
        n=n, periodic="", u0="sin(pi*x)", bcs=DIRICHLET, order=2))


def side_of(model, solver: str, **options) -> type:
    return type(next(s for s in model.runner.sides if s.applies(solver, options)))


def test_each_call_goes_to_the_side_that_takes_it():
    lv = symflow.loads(model_text("lv"))
    assert side_of(lv, "tsit5") is ODESide
    assert side_of(lv, "tsit5", trajectories=4) is EnsembleSide
    assert side_of(lv, "ddim") is SamplerSide
    assert isinstance(lv.simulate(), Solution)
    ensemble = lv.simulate(trajectories=3, sweep={"alpha": [1.0, 1.5, 2.0]})
    assert isinstance(ensemble, EnsembleSolution)


def test_sampler_options_outside_a_sampler_are_refused():
    lv = symflow.loads(model_text("lv"))
    with pytest.raises(symflow.SymflowError, match="option of the diffusion samplers"):
        lv.simulate(steps=10)


def test_implicit_solves_of_a_1d_pde_get_the_probed_band():
    m = heat()
    assert m.runner.linear_strategy("kvaerno5", m.params, 0.0) == Banded(1)
    assert m.runner.linear_strategy("tsit5", m.params, 0.0) == Dense()
    config = m.runner.ode_config(m.runner.save_times(0.0, 0.1, 2), m.params, {},
                                 solver="kvaerno5", rtol=None, atol=None, dt=None,
                                 max_steps=None, adjoint="checkpoint")
    assert config.linear == Banded(1)
    lv = symflow.loads(model_text("lv"))
    assert lv.runner.linear_strategy("kvaerno5", lv.params, 0.0) == Dense()


def test_a_closed_2d_grid_solves_with_krylov_and_adi():
    m = symflow.loads(model_text("brusselator_2d_template").format(n=8))
    grid = m.runner.grid
    assert isinstance(grid, GridKrylov) and grid.shape == (8, 8) and grid.fields == 2
    assert grid.boundaries  # the kinds are known to the runner ...
    used = m.runner.linear_strategy("kvaerno5", m.params, 0.0)
    # ... but a closed grid solves with the ADI preconditioner (benchmarks/README.md)
    assert used == dataclasses.replace(grid, boundaries=())


def test_auto_is_decided_once_per_value():
    m = symflow.loads(model_text("lv"))
    p = m.complete_params(None)
    first = m.runner.choose_auto(p, {}, 0.0, 10.0)
    assert first == "tsit5" and m.runner.choose_auto(p, {}, 0.0, 10.0) == first
