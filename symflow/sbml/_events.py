"""SBML events to the lines of an `events` section.

What matches symflow's events (docs/events.md) is translated; the rest is refused by
name:

- the trigger must be one comparison (`<`, `<=`, `>`, `>=`, `==`, or `not` of one),
  or comparisons (not `==`) joined by `and`, `or`, `not` (`xor` and `implies` are
  written with those; a model function returning a condition is inlined): symflow
  fires where it becomes true, as SBML does;
- `initialValue = true` matches symflow (a trigger true at the start does not fire,
  also where it is exactly on its threshold there);
  `initialValue = false` with a trigger true at the start fires there: the event is
  written twice, `at t = 0 then ...` and `when ...` (refused when the trigger cannot be
  computed at the start);
- `persistent = false` matters without a delay only where an event of the same instant
  makes the trigger false before the event runs (SBML then drops it, symflow does
  not): refused where another event sets something the trigger reads;
- `useValuesFromTriggerTime = true` reads the values before the instant (`pre(x)`) where
  several events may share an instant; `false` reads them after the earlier events of
  the instant, which is what a bare name means in symflow;
- priorities that are numbers at the start order the events (highest first: symflow
  runs events of one instant in file order); others are refused.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import SymflowError
from ._expr import Call, Cmp, Expr, Logic, Pre, Sym, Time, substitute, symbols, to_text
from ._initial import inline_calls, resolve_numbers
from ._model import Event, SbmlModel

__all__ = ["event_lines"]

_FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _refuse(event: Event, what: str, tag: str) -> SymflowError:
    return SymflowError(f"event {event.id}: {what} ({tag}): symflow's SBML import does not "
                        "support this")


def _trigger(event: Event, model: SbmlModel) -> Expr:
    """The trigger as a `when` condition: one comparison, or comparisons joined by
    `and`, `or`, `not` (the rest refused by name)."""
    t = event.trigger
    if any(isinstance(n, Call) and n.user for n in _nodes(t)):
        t = inline_calls(t, model)  # a model function returning a condition
    if isinstance(t, Logic) and t.op == "not" and isinstance(t.args[0], Cmp):
        inner = t.args[0]
        t = Cmp(_FLIP[inner.op], inner.left, inner.right)
    if isinstance(t, Cmp):
        if t.op == "!=":
            raise _refuse(event, "the trigger is an inequality `!=`", "a symflow `when` "
                          "takes <, <=, >, >= or ==")
        return t
    for n in _nodes(t):
        if isinstance(n, Cmp) and n.op in ("==", "!="):
            raise _refuse(event, f"the trigger joins `{n.op}` with and/or/not",
                          "a symflow `when` joins only <, <=, > and >=")
        if not isinstance(n, (Cmp, Logic)):
            raise _refuse(event, "the trigger is not made of comparisons joined by "
                          "and/or/not", "a symflow `when` takes comparisons")
    return t


def _nodes(e: Expr) -> list[Expr]:
    """The nodes of a condition down to its comparisons (not inside them)."""
    out: list[Expr] = [e]
    if isinstance(e, Logic):
        for a in e.args:
            out += _nodes(a)
    return out


def _order(events: tuple[Event, ...], values: dict[str, float], model: SbmlModel
           ) -> list[Event]:
    """Events by decreasing priority (events without one last), else in file order."""
    keyed = []
    for i, e in enumerate(events):
        if e.priority is None:
            keyed.append((float("inf"), i, e))
            continue
        value = resolve_numbers(e.priority, values, model)
        if value is None:
            raise _refuse(e, "its priority is not a number known at the start", "EventPriority")
        keyed.append((-value, i, e))
    return [e for _, _, e in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _reads(e: Expr, model: SbmlModel) -> set[str]:
    """The ids `e` depends on, through assignment rules too."""
    seen: set[str] = set()
    todo = list(symbols(e))
    while todo:
        sid = todo.pop()
        if sid in seen:
            continue
        seen.add(sid)
        if sid in model.assigned:
            todo += symbols(model.assigned[sid])
    return seen


def _changes(e: Expr, varying: set[str]) -> bool:
    """Whether `e` reads time or something that changes in time."""
    found = []
    substitute(e, lambda n: found.append(n) if isinstance(n, Time) else None)
    return bool(found) or bool(symbols(e) & varying)


def _check_persistence(e: Event, model: SbmlModel) -> None:
    """symflow runs every event that fired at an instant; SBML drops a non-persistent
    one whose trigger an earlier event of the instant made false. Refused where that can
    happen: another event sets something its trigger reads."""
    if e.persistent:
        return
    others = {v for o in model.events if o is not e for v, _ in o.assignments}
    touched = sorted(_reads(e.trigger, model) & others)
    if touched:
        raise _refuse(e, f"it is not persistent and another event sets {touched[0]}, which "
                         "its trigger reads", "EventIsNotPersistent")


def event_lines(model: SbmlModel, values: dict[str, float], states: set[str],
                varying: set[str], name: Callable[[str], str]) -> list[str]:
    """One `when` line per event with assignments, in the order they must run.

    `values`: numbers at the start (for `initialValue = false` and priorities);
    `states`: the ids that are states (what `pre(...)` may read); `varying`: ids that
    change in time (a priority reading one is refused).
    """
    lines = []
    several = len(model.events) > 1
    for e in _order(model.events, values, model):
        if e.priority is not None and symbols(e.priority) & varying:
            raise _refuse(e, "its priority changes in time", "EventPriority")
        trigger = _trigger(e, model)
        _check_persistence(e, model)
        fires_at_start = False
        if not e.initial_value:
            at_start = resolve_numbers(trigger, values, model)
            if at_start is None:
                raise _refuse(e, "its trigger may hold at t = 0 (initialValue = false) and "
                                 "cannot be computed there", "EventT0Firing")
            fires_at_start = bool(at_start)
        if not e.assignments:
            lines.append(f"# event {e.id} sets nothing")
            continue

        def before(n: Expr) -> Expr | None:
            if isinstance(n, Sym) and n.name in states:
                return Pre(n.name)
            return None

        affects = []
        for target, value in e.assignments:
            if target not in states:
                raise _refuse(e, f"it sets {target}, which is not a state of the model",
                              "an event sets species, varying compartments and parameters")
            if e.from_trigger_time and several:
                value = substitute(value, before)
            affects.append(f"{name(target)} = {to_text(value, name)}")
        doc = f"  # {e.name}" if e.name and e.name != e.id else ""
        if fires_at_start:  # SBML fires it at the start: its trigger holds there
            lines.append(f"at t = 0 then {', '.join(affects)}  # event {e.id} at the start")
        if not _changes(trigger, varying | states):
            lines.append(f"# event {e.id}: its trigger never changes after the start")
            continue
        lines.append(f"when {to_text(trigger, name)} then {', '.join(affects)}{doc}")
    return lines
