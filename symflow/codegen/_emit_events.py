"""The hybrid part of the generated module: event conditions, checks, times, affects.

For a model with events the module gets:

- `EVENTS`: one `(kind, direction, terminate)` per event, in file order (the
  event's text is not printed into the module: `load_source` takes the labels);
- `EVENT_RELATIONS`: one `(event number, comparison, direction)` per comparison of
  the `when` events' conditions (the comparison's index in `RELATION_OPS`; the
  direction in which its g crosses zero as the comparison becomes true, 0 for a
  comparison inside `and`/`or`/`not`, where any crossing counts), and `EVENT_LOGIC`:
  the structure of each compound condition over those comparisons, by event number;
- `event_conditions(t, y, p)`: the values g of those comparisons, in order;
- `event_checks(t, y, p)`: for each `at`/`every` event, in order, whether its
  `if` check holds (True when it has none);
- `event_schedule(p)`: the times of the `at` events (`"k:i"`) and the start,
  period and end of the `every` events (`"k:start"`, ...), by event number k;
- `affect_k(t, y, y_pre, p)`: the state vector after event k's affects, from the
  state `y` at that point of the instant and `y_pre`, the state just before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sympy as sp

from ..errors import SymflowError
from ..symbolic import RELATION_OPS, System, pre_symbol
from ._names import mangle

if TYPE_CHECKING:
    from ._layout import Layout

__all__ = ["emit_events"]


def emit_events(system: System, names: dict[sp.Symbol, str],
                shapes: dict[sp.Symbol, tuple[int, ...]], layout: tuple[Layout, ...],
                function: Callable[..., list[str]]) -> list[str]:
    """The lines of the event functions; `function` is `_emit._function`."""
    events = system.events
    table = tuple((e.kind, e.direction, e.terminate) for e in events)
    relations = tuple((k, RELATION_OPS.index(op), e.direction if e.logic is None else 0)
                      for k, e in enumerate(events) for op, _ in e.relations)
    logic = {k: e.logic for k, e in enumerate(events) if e.logic is not None}
    out = [f"EVENTS = {table!r}", f"EVENT_RELATIONS = {relations!r}",
           f"EVENT_LOGIC = {logic!r}", "", ""]
    conditions = {f"{k}_{i}": g for k, e in enumerate(events)
                  for i, (_, g) in enumerate(e.relations)}
    out += function("event_conditions", "t, y, p",
                    "The value g = a - b of each comparison of the `when` events.",
                    system, names, shapes, conditions, unpack_states=True, result="stack")
    checks = {str(k): (sp.true if e.check is None else e.check)
              for k, e in enumerate(events) if e.kind != "when"}
    out += function("event_checks", "t, y, p",
                    "Whether each `at`/`every` event's check holds.",
                    system, names, shapes, checks, unpack_states=True, result="stack")
    schedule: dict[str, sp.Basic] = {}
    for k, e in enumerate(events):
        schedule.update({f"{k}:{i}": x for i, x in enumerate(e.times)})
        for part in ("start", "period", "stop"):
            value = getattr(e, part)
            if value is not None:
                schedule[f"{k}:{part}"] = value
    out += function("event_schedule", "p", "The times of the `at` and `every` events.",
                    system, names, shapes, schedule, unpack_states=False, result="dict")
    pre_names = dict(names)
    pre_names.update({pre_symbol(s.name): mangle("q_", s.name) for s in layout})
    symbols = {v.name: v.symbol for v in system.states}
    for e in events:
        for a in e.affects:
            if a.target not in symbols:
                raise SymflowError(
                    f"an event sets '{a.target}', which is not a state of the reduced "
                    "system", a.span,
                    help="the reduced system computes it from the states (it is algebraic, "
                         "an alias, or index reduction made it so); set the states instead")
    for k, e in enumerate(events):
        values = {s.name: symbols[s.name] for s in layout}
        values.update({a.target: a.value for a in e.affects})
        out += function(f"affect_{k}", "t, y, y_pre, p", f"The state after event {k}.",
                        system, pre_names, shapes, values, unpack_states=True,
                        result="vector", unpack_pre=True)
    return out
