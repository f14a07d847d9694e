"""The jump solvers as strategy objects: names, options, the reaction choice, refusals."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from symflow import catalog
from symflow.errors import SymflowError
from symflow.solve.jumps import (
    JUMP_SOLVERS,
    AbstractJumpSolver,
    Direct,
    JumpProgram,
    TauLeaping,
    make_jump_solver,
)
from symflow.solve.jumps.solvers import choose_reaction


def test_every_catalogue_name_makes_its_solver():
    assert tuple(JUMP_SOLVERS) == catalog.JUMP_SOLVERS
    assert isinstance(make_jump_solver("direct"), Direct)
    leaping = make_jump_solver("tau_leaping", tau=0.1)
    assert isinstance(leaping, TauLeaping) and leaping.tau == 0.1
    given = Direct(frozen_rates=True)
    assert make_jump_solver(given) is given
    for name in catalog.JUMP_SOLVERS:
        solver = make_jump_solver(name, tau=0.1 if name == "tau_leaping" else None)
        assert isinstance(solver, AbstractJumpSolver)


@pytest.mark.parametrize("call, match", [
    (lambda: make_jump_solver("gillespie"), "unknown jump solver 'gillespie'"),
    (lambda: make_jump_solver("tau_leaping"), "needs the leap tau"),
    (lambda: make_jump_solver("direct", tau=0.1), "option of tau_leaping"),
    (lambda: make_jump_solver(Direct(), tau=0.1), "with the solver object"),
    (lambda: TauLeaping(tau=0.0), "positive leap"),
    (lambda: TauLeaping(tau=float("nan")), "positive leap"),
])
def test_bad_solver_options_are_refused(call, match):
    with pytest.raises(SymflowError, match=match):
        call()


def test_the_reaction_is_chosen_in_proportion_to_its_propensity():
    a = jnp.array([0.0, 1.0, 0.0, 3.0, 0.0])
    u = jax.random.uniform(jax.random.PRNGKey(0), (20_000,), dtype=jnp.float64)
    r = np.asarray(jax.jit(jax.vmap(lambda x: choose_reaction(a, x * jnp.sum(a))))(u))
    counts = np.bincount(r, minlength=5)
    assert counts[[0, 2, 4]].sum() == 0  # never a reaction that cannot fire
    assert abs(counts[1] / r.size - 0.25) < 4 * np.sqrt(0.25 * 0.75 / r.size)
    # the ends: a target of 0 skips leading zeros; one rounded up to the total
    # picks the last reaction that can fire, not a trailing zero
    assert int(choose_reaction(a, jnp.asarray(0.0))) == 1
    assert int(choose_reaction(a, jnp.sum(a))) == 3


def test_the_direct_method_refuses_time_dependent_propensities_unless_asked():
    program = JumpProgram(lambda t, n, p: jnp.stack([1.0 + t, n[0]]), [[1], [-1]], ("X",))
    with pytest.raises(SymflowError, match="depend on time t"):
        Direct().check(program, time_dependent=True)
    Direct(frozen_rates=True).check(program, time_dependent=True)
    TauLeaping(tau=0.1).check(program, time_dependent=True)
    Direct().check(program, time_dependent=False)
