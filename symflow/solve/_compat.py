"""Every private name of diffrax that symflow relies on, in one place.

diffrax does not export these; a new diffrax release that moves or renames one
breaks only this module, and the test beside it says which.

- `WrapTerm`: diffrax's wrapper for solves with `t1 < t0`; samplers unwrap it to
  reach their own term.
- `use_stepsize_tol`: the marker diffrax replaces, in a root finder's `rtol`,
  `atol` and `norm`, with the step-size controller's; solvers built outside
  `diffeqsolve` (the replayed steps, the projected DAE steps) replace it themselves.
- `AbstractAdaptiveSolver`: the base of solvers with an error estimate.
- a solution's result code as an integer, and the message of a code.
- from `equinox.internal` (semi-private, as diffrax uses it): `while_loop`, a
  while loop that reverse-mode differentiates by checkpointing (`kind=
  "checkpointed"`, with a bound on its steps), and `buffer_at_set`, an in-place
  write into one of its buffers.
"""

from __future__ import annotations

import diffrax
import equinox.internal as eqxi
import jax
from diffrax._root_finder import use_stepsize_tol as use_stepsize_tol
from diffrax._solver.base import AbstractAdaptiveSolver as AbstractAdaptiveSolver
from diffrax._term import WrapTerm as WrapTerm

__all__ = ["AbstractAdaptiveSolver", "WrapTerm", "buffer_at_set", "result_code",
           "result_message", "use_stepsize_tol", "while_loop"]

while_loop = eqxi.while_loop
buffer_at_set = eqxi.buffer_at_set


def result_code(result: diffrax.RESULTS) -> jax.Array:
    """The integer code of a diffrax result (traceable: an int32 array)."""
    return result._value  # noqa: SLF001 - diffrax keeps the code private


def result_message(code: int) -> str:
    """The message diffrax gives for result code `code` (its first line)."""
    messages = diffrax.RESULTS._index_to_message  # noqa: SLF001 - the only public map
    return messages[code].split("\n")[0] if 0 <= code < len(messages) else "unknown failure"
