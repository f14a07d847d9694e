"""When a `when` event fires: its condition's truth from the values of its comparisons.

A `when` condition is one comparison `a op b` or several joined by `and`, `or` and
`not`; each comparison is tracked by its value g = a - b (`event_conditions`). The
hybrid loop keeps g of every comparison and finds where one crosses zero inside a
step (`locate.py`); whether that crossing fires an event is decided here:

- **one comparison** crosses zero in its direction (`>`, `>=`: rising, `<`, `<=`:
  falling, `==`: either): the event fires, as it always did;
- **a compound condition**: each of its comparisons counts every crossing (direction
  0); at a located crossing the whole condition is evaluated just before it and just
  after it, and the event fires where it goes from false to true (SBML's and
  Modelica's rule for a trigger). A crossing that fires nothing still ends the step
  there, so the next crossing is judged from the right state.

Between instants a comparison's truth is read from the side of zero its g is on
("above" is g > 0): `>` and `>=` hold above, `<` and `<=` below. Exactly on zero the
side depends on the comparison, and that matters at the start of the span (a
condition true at the start does not fire: it must become true) and after the
affects of an instant: `settle` puts a g that is exactly 0 where its comparison
says (`>=`: holds, so just above; `<`: does not hold, so just above; `>` and `<=`
stay at 0, which is below). For `==`, true exactly there, g becomes NaN: no
crossing is counted until the next point where g is evaluated.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...symbolic import RELATION_OPS
from .locate import crossing_mask

__all__ = ["Triggers"]

_AT_OR_ABOVE = RELATION_OPS.index(">=")
_BELOW = RELATION_OPS.index("<")
_EQUAL = RELATION_OPS.index("==")
_HOLD_ABOVE = (RELATION_OPS.index(">"), _AT_OR_ABOVE)


@dataclasses.dataclass(frozen=True, eq=False)
class Triggers:
    """The comparisons of the `when` events (`events`: the position of each one's event
    among the `when` events; `ops`: its index in `RELATION_OPS`; `directions`) and
    `logic`: per `when` event, `None` for one comparison or its compound structure
    (symbolic/events.py's `Logic`)."""

    events: np.ndarray
    ops: np.ndarray
    directions: np.ndarray
    logic: tuple[Any, ...]

    @classmethod
    def from_table(cls, when: tuple[int, ...], relations, logic, directions) -> Triggers:
        """From the generated module's `EVENT_RELATIONS` and `EVENT_LOGIC`; a module
        without them (one comparison per event) gets them from the events'
        `directions` (`>` rising, `<=` falling, `==` either)."""
        if not relations:
            default = {1: RELATION_OPS.index(">"), -1: RELATION_OPS.index("<="), 0: _EQUAL}
            relations = tuple((k, default[int(d)], int(d)) for k, d in zip(when, directions))
        position = {k: j for j, k in enumerate(when)}
        by_event = dict(logic)
        return cls(events=np.array([position[k] for k, _, _ in relations], dtype=np.int32),
                   ops=np.array([op for _, op, _ in relations], dtype=np.int32),
                   directions=np.array([d for _, _, d in relations], dtype=np.int32),
                   logic=tuple(by_event.get(k) for k in when))

    def settle(self, g: jax.Array) -> jax.Array:
        """`g` with each value exactly 0 put on the side its comparison holds on there
        (module docstring): at the start, and after an instant's affects."""
        zero = g == 0
        up = jnp.asarray(np.isin(self.ops, (_AT_OR_ABOVE, _BELOW)))
        equal = jnp.asarray(self.ops == _EQUAL)
        tiny = jnp.finfo(g.dtype).tiny
        return jnp.where(zero & up, tiny, jnp.where(zero & equal, jnp.nan, g))

    def _holds(self, above: jax.Array) -> jax.Array:
        """Each comparison's truth from the side its g is on."""
        return jnp.where(jnp.asarray(np.isin(self.ops, _HOLD_ABOVE)), above, ~above)

    def _conditions(self, holds: jax.Array) -> jax.Array:
        """Each `when` event's condition from the truths of the comparisons (a
        compound condition's logic numbers its own comparisons from 0)."""
        def value(node, first: int):
            if isinstance(node, int):
                return holds[first + node]
            if node[0] == "not":
                return ~value(node[1], first)
            a, b = value(node[1], first), value(node[2], first)
            return (a & b) if node[0] == "and" else (a | b)

        first: dict[int, int] = {}
        for i, j in enumerate(self.events):
            first.setdefault(int(j), i)
        return jnp.stack([holds[first[j]] if node is None else value(node, first[j])
                          for j, node in enumerate(self.logic)])

    def _any(self, per_relation: jax.Array) -> jax.Array:
        """Per `when` event, whether any of its comparisons is marked."""
        counts = jnp.zeros(len(self.logic), jnp.int32).at[jnp.asarray(self.events)].add(
            per_relation.astype(jnp.int32))
        return counts > 0

    def fires(self, g_start: jax.Array, crossed: jax.Array, positive: jax.Array
              ) -> jax.Array:
        """Which `when` events fire at a located crossing: `crossed` says which
        comparisons cross there (to the side `positive`), `g_start` is every g at the
        step's start (no compound comparison changed side between it and the
        crossing: any change would be the earlier crossing)."""
        before = g_start > 0
        after = jnp.where(crossed, positive, before)
        became = ~self._conditions(self._holds(before)) & self._conditions(self._holds(after))
        single = self._any(crossed)
        compound = jnp.asarray([node is not None for node in self.logic])
        return jnp.where(compound, became, single)

    def jumps(self, g_pre: jax.Array, g_post: jax.Array) -> jax.Array:
        """Which `when` events the jumps of an instant make true: `g_pre` and `g_post`
        are settled (or put on the side they crossed to) before and after them."""
        crossing = crossing_mask(g_pre, g_post, self.directions)
        arrived = jnp.isnan(g_post) & ~jnp.isnan(g_pre)  # `==` now exactly on zero
        single = self._any(crossing | arrived)
        became = (~self._conditions(self._holds(g_pre > 0))
                  & self._conditions(self._holds(g_post > 0)))
        compound = jnp.asarray([node is not None for node in self.logic])
        return jnp.where(compound, became, single)
