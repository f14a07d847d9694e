"""Which state limits the step where a solve collapsed.

When a solve runs out of steps (`max_steps`) the step size has collapsed: the error
control keeps the step tiny, or keeps rejecting it. What a person needs to know is
which state does that: the one with the largest weighted error
`|err_i| / (atol + rtol max(|y0_i|, |y1_i|))`, whose square dominates the
controller's RMS norm. diffrax does not keep a step's error estimate, so it is
recomputed after the failure (never on a solve's path):

from the state where the solve stopped (`y` at `t`, the solve's final save), take
one step of the solve's own solver (its Jacobian, Newton iteration and error
estimate), starting with the rest of the span and shrinking it the way the
controller does (`0.9 · norm^(-1/(order+1))`, at least 0.2), until the error norm
is at most 1; the state with the largest weighted error at that step is named, with
the step size and its share of the norm. This is an approximation of what the
controller saw at its last steps: one step from the same state, not the
controller's history (a PI controller's memory, a rejection streak); it names the
same state whenever one state dominates the error there, which is the collapse
this message is for. A step whose stage solve fails at every size tried (an
implicit solver's Newton iteration) is reported as such.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from .adjoints import with_controller_tols

__all__ = ["StepLimit", "component_names", "limiting_state"]

# Step sizes tried at most (each at least 0.2 times the last: 1e-56 of the span).
_TRIES = 80


@dataclasses.dataclass(frozen=True)
class StepLimit:
    """The state that limits the step at `t` (`name`, `"x"` or `"u[3]"`), the step
    size the error control accepts there (`step`; `None` when none was found), the
    state's share of the squared error norm, and whether the stage solve failed
    (`solve_failed`: an implicit solver's Newton iteration at every size tried)."""

    name: str
    t: float
    step: float | None
    share: float
    solve_failed: bool = False

    def describe(self) -> str:
        if self.solve_failed:
            return "the stage solve (Newton iteration) fails there at every step size tried"
        if self.step is None:
            return (f"no step size is accepted there: the error control is limited by "
                    f"`{self.name}` ({self.share:.0%} of the error norm)")
        return (f"the step there is limited by `{self.name}`: the error control accepts "
                f"steps of about {self.step:.2g} ({self.name} makes {self.share:.0%} of "
                "the error norm)")


def component_names(layout: Sequence[Any], size: int) -> list[str]:
    """The name of each component of the flat state vector: the state's name, with
    `[k]` for element k of an array state (`layout`: codegen's `Layout`s)."""
    names = [f"y[{i}]" for i in range(size)]
    for entry in layout:
        width = entry.stop - entry.start
        for k in range(width):
            names[entry.start + k] = entry.name if entry.shape == () else f"{entry.name}[{k}]"
    return names


def limiting_state(solver: diffrax.AbstractSolver, terms: diffrax.AbstractTerm,
                   controller: Any, names: Sequence[str], t: float, t1: float,
                   y: np.ndarray, params: Any, *, rtol: float, atol: float
                   ) -> StepLimit | None:
    """The state that limits the step at `(t, y)` (module docstring); `None` when it
    cannot be said (no adaptive solver, nothing left of the span, a state that is
    not finite)."""
    y = np.asarray(y, dtype=float)
    if not isinstance(solver, diffrax.AbstractAdaptiveSolver) or t == t1 or \
            not np.all(np.isfinite(y)):
        return None
    solver = with_controller_tols(solver, controller)
    order = _order(solver, terms)
    y0 = jnp.asarray(y)
    t0 = jnp.asarray(t, dtype=y0.dtype)

    @jax.jit
    def step(h: jax.Array) -> tuple[Any, Any, Any]:
        state = solver.init(terms, t0, t0 + h, y0, params)
        y1, error, _, _, result = solver.step(terms, t0, t0 + h, y0, params, state, False)
        return y1, error, result == diffrax.RESULTS.successful

    h = float(t1 - t)
    weighted: np.ndarray | None = None
    failed = 0
    for _ in range(_TRIES):
        y1, error, ok = (np.asarray(x) for x in step(jnp.asarray(h, dtype=y0.dtype)))
        if not bool(ok) or not np.all(np.isfinite(error)):
            failed += 1
            h *= 0.2
            continue
        weighted = np.abs(error) / (atol + rtol * np.maximum(np.abs(y), np.abs(y1)))
        norm = float(np.sqrt(np.mean(weighted ** 2)))
        if norm <= 1.0:
            return _limit(names, weighted, t, h)
        h *= max(0.2, 0.9 * norm ** (-1.0 / (order + 1)))
    if weighted is None:  # the stage solve failed at every size
        return StepLimit("", t, None, 0.0, solve_failed=True) if failed else None
    return _limit(names, weighted, t, None)


def _limit(names: Sequence[str], weighted: np.ndarray, t: float, h: float | None
           ) -> StepLimit:
    squares = weighted ** 2
    i = int(np.argmax(squares))
    total = float(np.sum(squares))
    return StepLimit(names[i], t, None if h is None else abs(h),
                     float(squares[i] / total) if total > 0 else 1.0)


def _order(solver: diffrax.AbstractSolver, terms: diffrax.AbstractTerm) -> int:
    """The order the error estimate scales with (the solver's, 4 if it says none)."""
    try:
        order = solver.order(terms)
    except (AttributeError, TypeError, NotImplementedError):
        return 4
    return int(order) if order is not None else 4
