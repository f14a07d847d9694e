"""JumpProgram: the checks of its changes, names and propensities, and of initial counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from symflow.errors import SymflowError
from symflow.solve.jumps import JumpProgram, check_initial_counts, depends_on_time


def birth_death(t, n, p):
    return jnp.stack([p["k"], p["g"] * n[0]])


def test_changes_are_kept_as_integers_and_the_program_is_hashable():
    program = JumpProgram(birth_death, np.array([[1.0], [-1.0]]), ("X",))
    assert program.changes.dtype == np.int64
    np.testing.assert_array_equal(program.changes, [[1], [-1]])
    assert (program.reactions, program.species) == (2, 1)
    same = JumpProgram(birth_death, [[1], [-1]], ["X"])
    assert hash(program) == hash(same) and program == same
    assert program != JumpProgram(birth_death, [[2], [-1]], ["X"])


@pytest.mark.parametrize("changes, match", [
    ([1, -1], r"shape \(R, S\)"),                 # one dimension
    ([[1, 0], [-1, 0]], r"1 species"),            # a column per name: two for one name
    (np.zeros((0, 1)), r"shape \(R, S\)"),        # no reaction
    ([[1.5], [-1]], "by 1.5"),                     # not whole
    ([[np.nan], [-1]], "integers"),
    ([[True], [False]], "integers"),
    ([["a"], ["b"]], "integers"),
])
def test_bad_changes_are_refused(changes, match):
    with pytest.raises(SymflowError, match=match):
        JumpProgram(birth_death, changes, ("X",))


def test_bad_names_and_propensities_are_refused():
    with pytest.raises(SymflowError, match="named twice: X"):
        JumpProgram(birth_death, [[1, 0], [-1, 0]], ("X", "X"))
    with pytest.raises(SymflowError, match="names"):
        JumpProgram(birth_death, [[1], [-1]], ())
    with pytest.raises(SymflowError, match="must be a function"):
        JumpProgram(np.ones(2), [[1], [-1]], ("X",))


def test_propensities_with_the_wrong_number_of_reactions_are_refused():
    program = JumpProgram(birth_death, [[1], [-1], [2]], ("X",))
    with pytest.raises(SymflowError, match=r"return shape \(2,\), but changes has 3"):
        program.check_propensities(jnp.zeros(1), {"k": 1.0, "g": 1.0}, 0.0)
    broken = JumpProgram(lambda t, n, p: p["missing"] * n, [[1]], ("X",))
    with pytest.raises(SymflowError, match="cannot be evaluated"):
        broken.check_propensities(jnp.zeros(1), {}, 0.0)


def test_initial_counts_are_checked():
    names = ("A", "B")
    np.testing.assert_array_equal(check_initial_counts({"B": 2, "A": 1}, names), [1.0, 2.0])
    for bad, match in [([1], "shape"), ([1, -1], "count of B is -1"),
                       ([1, 0.5], "count of B"), ({"A": 1}, "missing: B"),
                       ({"A": 1, "B": 1, "C": 0}, "unknown: C")]:
        with pytest.raises(SymflowError, match=match):
            check_initial_counts(bad, names)


def test_time_dependence_is_read_from_the_propensities():
    n, p = jnp.ones(1), {"k": 1.0, "g": 1.0}
    constant = JumpProgram(birth_death, [[1], [-1]], ("X",))
    varying = JumpProgram(lambda t, n, p: jnp.stack([p["k"] * (1 + jnp.sin(t)), n[0]]),
                          [[1], [-1]], ("X",))
    assert not depends_on_time(constant, n, p, 0.0)
    assert depends_on_time(varying, n, p, 0.0)
    # generated code may be jitted: the call is followed into
    jitted = JumpProgram(jax.jit(birth_death), [[1], [-1]], ("X",))
    assert not depends_on_time(jitted, n, p, 0.0)
    jitted_varying = JumpProgram(jax.jit(varying.propensities), [[1], [-1]], ("X",))
    assert depends_on_time(jitted_varying, n, p, 0.0)
