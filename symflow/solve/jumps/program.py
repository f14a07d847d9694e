"""A reaction network as the jump solvers see it: propensities and a state-change matrix.

The compiler builds a `JumpProgram` from a model's `reactions` section (counts of
molecules, the propensity of each reaction in firings per unit time); the solvers
of this package need nothing else. It can as well be written by hand:

```python
birth_death = JumpProgram(
    propensities=lambda t, n, p: jnp.stack([p["k"], p["g"] * n[0]]),
    changes=np.array([[1], [-1]]),   # 0 -> X, X -> 0
    names=("X",),
)
```
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ...errors import SymflowError

__all__ = ["JumpProgram", "check_initial_counts", "depends_on_time"]


class JumpProgram(eqx.Module):
    """A reaction network with `S` species and `R` reactions.

    **Fields:**

    - `propensities`: `(t, n, p) -> a`, with `t` a scalar time, `n` the counts of
      the `S` species (a float array holding integers, in the order of `names`)
      and `p` the parameters (a dict of arrays); `a` has shape `(R,)`, the
      propensity of each reaction (its firing rate: the probability of one firing
      in `[t, t + dt)` is `a_r dt`), never negative. A reaction that would take a
      count below zero must have propensity zero there (mass action does).
    - `changes`: `(R, S)` integers, how one firing of reaction `r` changes each
      count (the net stoichiometry: products minus reactants). Known when the
      program is built: it is kept as a tuple of tuples (hashable, so that a
      program can key a cache or be a static argument) and read as a NumPy array.
    - `names`: the `S` species names.

    The solvers close over a program (they never trace it as an argument), so
    the propensities may be any JAX-traceable function.
    """

    propensities: Callable = eqx.field(static=True)
    stoichiometry: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)

    def __init__(self, propensities: Callable, changes: Any, names: Any):
        if not callable(propensities):
            raise SymflowError("the propensities of a jump program must be a function "
                               "(t, n, p) -> array of shape (R,)")
        names = tuple(names)
        if not names or not all(isinstance(s, str) and s for s in names):
            raise SymflowError("a jump program needs its species names, as non-empty "
                               f"strings, not {names!r}")
        repeated = sorted({s for s in names if names.count(s) > 1})
        if repeated:
            raise SymflowError("species named twice: " + ", ".join(repeated))
        self.propensities = propensities
        self.stoichiometry = _integer_matrix(changes, len(names))
        self.names = names

    @property
    def changes(self) -> np.ndarray:
        """The `(R, S)` state-change matrix, as a (new) integer array."""
        return np.array(self.stoichiometry, dtype=np.int64).reshape(
            self.reactions, self.species)

    @property
    def species(self) -> int:
        """`S`, the number of species."""
        return len(self.names)

    @property
    def reactions(self) -> int:
        """`R`, the number of reactions."""
        return len(self.stoichiometry)

    def check_propensities(self, n0: jax.Array, params: Mapping[str, Any],
                           t0: float) -> None:
        """Check (by tracing, without running) that the propensities return `(R,)`
        numbers for these counts and parameters."""
        try:
            out = jax.eval_shape(self.propensities, jnp.asarray(t0, dtype=n0.dtype), n0,
                                 params)
        except SymflowError:
            raise
        except Exception as error:  # the user's function: any error it raises
            raise SymflowError(f"the propensities cannot be evaluated: {error}",
                               help="propensities(t, n, p) takes the time, the counts "
                                    "(shape (S,)) and the parameters") from error
        shape = getattr(out, "shape", None)
        if shape != (self.reactions,):
            raise SymflowError(
                f"the propensities return shape {shape}, but changes has "
                f"{self.reactions} reactions (rows)",
                help="propensities(t, n, p) must return one number per reaction, in "
                     "the order of the rows of changes")
        if not jnp.issubdtype(out.dtype, jnp.floating):
            raise SymflowError(f"the propensities return {out.dtype} numbers, not floats")


def _integer_matrix(changes: Any, species: int) -> tuple[tuple[int, ...], ...]:
    """`changes` checked (2-D, `species` columns, at least one row, integer values)
    and converted to a tuple of tuples of ints."""
    try:
        matrix = np.asarray(changes)
    except Exception as error:
        raise SymflowError(f"changes must be an (R, S) integer array: {error}") from error
    if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] != species:
        raise SymflowError(
            f"changes must have shape (R, S) = (reactions, {species} species), "
            f"not {matrix.shape}",
            help="one row per reaction, one column per species name")
    if matrix.dtype == bool or not (np.issubdtype(matrix.dtype, np.integer)
                                    or np.issubdtype(matrix.dtype, np.floating)):
        raise SymflowError(f"changes must hold integers, not {matrix.dtype} values")
    if np.issubdtype(matrix.dtype, np.floating):
        bad = ~np.isfinite(matrix) | (matrix != np.round(matrix))
        if bad.any():
            r, s = map(int, np.argwhere(bad)[0])
            raise SymflowError(
                f"changes must hold integers: reaction {r} changes species {s} by "
                f"{float(matrix[r, s]):g}",
                help="an exact stochastic simulation counts molecules: stoichiometries "
                     "must be whole numbers")
    return tuple(tuple(int(v) for v in row) for row in matrix)


def check_initial_counts(n0: Any, names: tuple[str, ...]) -> np.ndarray:
    """The initial counts as a float array, checked: one per species, whole, not negative.

    `n0` is an array in the order of `names`, or a mapping from names to counts.
    """
    if isinstance(n0, Mapping):
        unknown = sorted(set(n0) - set(names))
        missing = [s for s in names if s not in n0]
        if unknown or missing:
            raise SymflowError(
                "the initial counts must name every species once"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else ""),
                help="species: " + ", ".join(names))
        n0 = [n0[s] for s in names]
    counts = np.asarray(n0, dtype=float)
    if counts.shape != (len(names),):
        raise SymflowError(f"the initial counts have shape {counts.shape}, not "
                           f"({len(names)},) (one per species)",
                           help="species: " + ", ".join(names))
    bad = ~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise SymflowError(f"the initial count of {names[s]} is {float(counts[s]):g}: "
                           "counts are whole numbers, not negative")
    return counts


def depends_on_time(program: JumpProgram, n0: jax.Array, params: Mapping[str, Any],
                    t0: float) -> bool:
    """Whether the propensities read their time argument, found from their jaxpr.

    Calls of jitted functions (`pjit`) and other calls with one inner jaxpr are
    followed into; any other use of the time (a loop or a branch taking it)
    counts as reading it, as does a value computed from it and then unused.
    """
    jaxpr = jax.make_jaxpr(lambda t: program.propensities(t, n0, params))(
        jnp.asarray(t0, dtype=n0.dtype)).jaxpr
    return _reads(jaxpr, jaxpr.invars[0])


def _reads(jaxpr: Any, var: Any) -> bool:
    """Whether `jaxpr` uses its input `var` (following calls into their jaxprs)."""
    if any(v is var for v in jaxpr.outvars):
        return True
    for eqn in jaxpr.eqns:
        positions = [k for k, v in enumerate(eqn.invars) if v is var]
        if not positions:
            continue
        inner = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
        inner = getattr(inner, "jaxpr", inner)  # a ClosedJaxpr's Jaxpr
        if inner is None or len(getattr(inner, "invars", ())) != len(eqn.invars):
            return True
        if any(_reads(inner, inner.invars[k]) for k in positions):
            return True
    return False
