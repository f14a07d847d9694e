"""Every name of the catalogue has its strategy, and the stages accept exactly those names."""

from __future__ import annotations

import diffrax
import pytest

import symflow
from symflow import catalog
from symflow.solve import adjoint_strategy
from symflow.solve.adjoints import AdjointStrategy
from symflow.solve.diffusion import GRIDS, SAMPLERS
from symflow.solve.exponential import EXPONENTIAL
from symflow.solve.solvers import EXPLICIT, IMPLICIT, ROSENBROCK, make_solver
from symflow.solve.stochastic import ADAPTIVE_SDE_SOLVERS, SDE_SOLVER_INFO


def test_every_ode_solver_name_has_a_solver() -> None:
    assert set(EXPLICIT) == set(catalog.EXPLICIT_SOLVERS)
    assert set(IMPLICIT) == set(catalog.IMPLICIT_SOLVERS)
    assert set(ROSENBROCK) == set(catalog.ROSENBROCK_SOLVERS)
    assert set(EXPONENTIAL) == set(catalog.EXPONENTIAL_SOLVERS)
    for name in (*catalog.EXPLICIT_SOLVERS, *catalog.IMPLICIT_SOLVERS,
                 *catalog.ROSENBROCK_SOLVERS):
        assert isinstance(make_solver(name), diffrax.AbstractSolver)
    assert set(catalog.IMEX_SOLVERS) <= set(catalog.IMPLICIT_SOLVERS)
    assert set(catalog.FIXED_STEP_SOLVERS) <= set(catalog.EXPLICIT_SOLVERS)


def test_every_sampler_and_grid_name_has_its_solver() -> None:
    assert tuple(SAMPLERS) == catalog.SAMPLERS
    assert tuple(GRIDS) == catalog.SAMPLER_GRIDS


def test_every_sde_solver_name_is_described() -> None:
    assert set(SDE_SOLVER_INFO) == set(catalog.SDE_SOLVERS) - {catalog.AUTO}
    assert tuple(ADAPTIVE_SDE_SOLVERS) == catalog.ADAPTIVE_SDE_SOLVERS


@pytest.mark.parametrize("name", catalog.ADJOINTS)
def test_every_adjoint_name_has_a_strategy(name: str) -> None:
    assert isinstance(adjoint_strategy(name), AdjointStrategy)


def test_an_unknown_adjoint_is_refused_with_the_choices() -> None:
    with pytest.raises(symflow.SymflowError, match="unknown adjoint") as info:
        adjoint_strategy("adjoint_of_my_dreams")
    assert all(name in (info.value.help or "") for name in catalog.ADJOINTS)


def test_a_diffrax_adjoint_object_is_accepted_as_it_is() -> None:
    strategy = adjoint_strategy(diffrax.DirectAdjoint())
    assert isinstance(strategy, AdjointStrategy)


def test_the_builder_accepts_exactly_the_catalogue_settings() -> None:
    assert tuple(symflow.symbolic.SETTINGS) == catalog.SETTINGS
    assert tuple(symflow.symbolic.ODE_SOLVERS) == catalog.ODE_SOLVERS


def test_every_optimiser_and_schedule_name_has_its_object() -> None:
    from symflow.learn import OPTIMISERS, SCHEDULES

    assert tuple(OPTIMISERS) == catalog.OPTIMIZERS
    assert tuple(SCHEDULES) == catalog.SCHEDULES


def test_every_noise_model_and_start_sampler_name_has_its_object() -> None:
    from symflow.learn import NOISE_MODELS, START_SAMPLERS, NoiseModel, StartSampler

    assert tuple(NOISE_MODELS) == catalog.NOISE_MODELS
    assert tuple(START_SAMPLERS) == catalog.START_SAMPLERS
    assert all(issubclass(c, NoiseModel) for c in NOISE_MODELS.values())
    assert all(issubclass(c, StartSampler) for c in START_SAMPLERS.values())


def test_every_jump_solver_name_has_its_solver() -> None:
    from symflow.solve.jumps import JUMP_SOLVERS, AbstractJumpSolver, make_jump_solver

    assert tuple(JUMP_SOLVERS) == catalog.JUMP_SOLVERS
    for name in catalog.JUMP_SOLVERS:
        solver = make_jump_solver(name, tau=0.1 if name == "tau_leaping" else None)
        assert isinstance(solver, AbstractJumpSolver)
