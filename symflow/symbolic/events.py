"""Events of a hybrid model, as the `System` holds them.

An event is a condition and what happens when it holds (`affects`): states set to
new values, or the solve stopped (`terminate`). Three kinds:

- `when`: fires where its condition becomes true. The condition is one or more
  comparisons (`relations`: each `(op, g)` with g = a - b a SymPy expression of t,
  states and parameters, op one of `> >= < <= ==`) joined by `logic` (module
  `Logic`; `None` for one comparison). With one comparison, `condition` is its g
  and `direction` the way g crosses zero as it becomes true (+1 rising, -1
  falling, 0 either way);
- `at`: fires at the listed `times` (expressions of parameters);
- `every`: fires at `start + k*period` for k = 0, 1, ... while not after `stop`.

`at` and `every` events may carry a `check` (a SymPy boolean of t, states and
parameters), made at each of their times: the affects run only where it holds.

In an affect's value, a state's own symbol is its value at that point of the
instant (after the affects of earlier events at the same time), and its `pre`
symbol (`pre_symbol`) is its value just before the instant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal, Union

import sympy as sp

from ..errors import Span

__all__ = ["Affect", "Event", "Logic", "RELATION_OPS", "pre_symbol"]

# A compound condition's structure over its comparisons (by index in `relations`):
# an index, `("not", x)`, `("and", x, y)` or `("or", x, y)`.
Logic = Union[int, tuple]

# The comparisons a `when` condition may use, in the order of their codes in
# generated code (codegen's `EVENT_RELATIONS`).
RELATION_OPS = (">", ">=", "<", "<=", "==")


def pre_symbol(name: str) -> sp.Symbol:
    """The symbol of `pre(name)`: a state's value just before an event's instant."""
    return sp.Symbol(f"pre({name})", real=True)


@dataclasses.dataclass(frozen=True)
class Affect:
    """`target = value` when the event fires; `target` is a state (continuous or
    discrete)."""

    target: str
    value: sp.Expr
    span: Span


@dataclasses.dataclass(frozen=True)
class Event:
    """One line of the `events` section (module docstring). `label` is its text as
    written, for messages and output."""

    kind: Literal["when", "at", "every"]
    label: str
    span: Span
    affects: tuple[Affect, ...] = ()
    terminate: bool = False
    condition: sp.Expr | None = None
    direction: Literal[-1, 0, 1] = 0
    times: tuple[sp.Expr, ...] = ()
    start: sp.Expr | None = None
    period: sp.Expr | None = None
    stop: sp.Expr | None = None
    check: sp.Basic | None = None
    relations: tuple[tuple[str, sp.Expr], ...] = ()
    logic: Logic | None = None

    def map_exprs(self, fn: Callable[[sp.Basic], sp.Basic]) -> Event:
        """This event with `fn` applied to each of its expressions (for passes)."""
        def opt(e):
            return None if e is None else fn(e)
        return dataclasses.replace(
            self,
            affects=tuple(dataclasses.replace(a, value=fn(a.value)) for a in self.affects),
            condition=opt(self.condition), times=tuple(fn(x) for x in self.times),
            start=opt(self.start), period=opt(self.period), stop=opt(self.stop),
            check=opt(self.check), relations=tuple((op, fn(g)) for op, g in self.relations))

    def expressions(self) -> tuple[sp.Basic, ...]:
        """Every expression of the event."""
        parts = [self.condition, self.start, self.period, self.stop, self.check,
                 *self.times, *(a.value for a in self.affects),
                 *(g for _, g in self.relations)]
        return tuple(e for e in parts if e is not None)
