"""The `discrete` and `events` sections: discrete states, and events with their affects.

A discrete state is declared like a variable and changes only where an event sets
it; its equation is der(x) = 0, so the rest of the pipeline treats it as a state
that does not move between events.

An event line is one of
- `when a < b then ...` (fires where a - b crosses zero downwards; `>`/`>=`:
  upwards; `==`: either way), or `when` comparisons joined by `and`, `or`, `not`
  (fires where the whole condition becomes true),
- `at t = t1, t2, ... [if check] then ...`,
- `every period [from start] [until stop] [if check] then ...`,
and its affects are `x = value` for states `x` (with `pre(y)` the value of y just
before the instant) or `terminate`.
"""

from __future__ import annotations

from typing import Literal

import sympy as sp

from ...errors import SymflowError
from ...lang import ast
from ..events import Affect, Event, Logic, pre_symbol
from ..system import Equation, Variable
from .expressions import ExprBuilder, build_expression, is_condition
from .scope import TIME, Scope

__all__ = ["build_events", "discrete_equations"]

_VALUE_KINDS = ("constant", "parameter", "variable", "function")
_DIRECTIONS: dict[str, Literal[-1, 0, 1]] = {"<": -1, "<=": -1, ">": 1, ">=": 1, "==": 0}


def discrete_equations(variables: list[Variable]) -> list[Equation]:
    """der(x) = 0 for each discrete state (they move only at events)."""
    out = []
    for v in variables:
        if v.initial is None:
            raise SymflowError(f"discrete variable '{v.name}' needs an initial value",
                               v.span, help=f"write `{v.name} = <value>` under discrete")
        zero = sp.Integer(0) if v.shape == () else sp.zeros(1, 1)[0]
        out.append(Equation("ode", v.name, zero, (v.span,)))
    return out


def build_events(scope: Scope, nodes: tuple[ast.Event, ...], states: set[str],
                 discrete: set[str]) -> tuple[Event, ...]:
    """The `events` section: each line checked and built (module docstring).
    `states` names the model's states (continuous and discrete), which are the
    only names an affect may set."""
    return tuple(_event(scope, node, states, discrete) for node in nodes)


def _event(scope: Scope, node: ast.Event, states: set[str], discrete: set[str]) -> Event:
    label = _label(node)
    affects, terminate = _affects(scope, node, states)
    if node.kind == "when":
        assert node.condition is not None
        relations: list[tuple[str, sp.Expr]] = []
        logic = _trigger(scope, node.condition, relations)
        _check_varies(scope, relations, node.condition)
        if isinstance(logic, int):  # one comparison
            op, g = relations[0]
            return Event("when", label, node.span, affects, terminate, condition=g,
                         direction=_DIRECTIONS[op], relations=tuple(relations))
        return Event("when", label, node.span, affects, terminate,
                     relations=tuple(relations), logic=logic)
    check = None if node.condition is None else _check(scope, node.condition)
    if node.kind == "at":
        assert node.time_name is not None
        if node.time_name.id != "t":
            raise SymflowError(f"expected `at t = ...`, found `at {node.time_name.id} = ...`",
                               node.time_name.span, help="an `at` event lists times of t")
        times = tuple(_time(scope, x, "an event time") for x in node.times)
        return Event("at", label, node.span, affects, terminate, times=times, check=check)
    assert node.period is not None
    period = _time(scope, node.period, "the period of an event")
    start = None if node.start is None else _time(scope, node.start, "the start of an event")
    stop = None if node.stop is None else _time(scope, node.stop, "the end of an event")
    try:
        positive = bool(period.xreplace(scope.values) > 0)
    except TypeError:
        positive = False
    if not positive:
        raise SymflowError("the period of an `every` event must be positive",
                           node.period.span)
    return Event("every", label, node.span, affects, terminate, start=start, period=period,
                 stop=stop, check=check)


def _label(node: ast.Event) -> str:
    """The event as written (on one line), for messages and output."""
    span = node.span
    lines = span.source.splitlines()[span.line - 1:span.end_line]
    if not lines:
        return node.kind
    lines[-1] = lines[-1][:span.end_column - 1]
    lines[0] = lines[0][span.column - 1:]
    return " ".join(" ".join(lines).split())


def _time(scope: Scope, node: ast.Expr, what: str) -> sp.Expr:
    expr, shape = build_expression(scope, node, allowed=("constant", "parameter", "function"),
                                   context=what)
    if shape:
        raise SymflowError(f"{what} must be a scalar", node.span)
    return expr


def _trigger(scope: Scope, node: ast.Expr, relations: list[tuple[str, sp.Expr]],
             *, compound: bool = False) -> Logic:
    """The logic of a `when` condition over its comparisons, which are appended to
    `relations` as `(op, a - b)`: an index for a comparison, `("not", x)`,
    `("and", x, y)`, `("or", x, y)`. `compound`: inside `and`/`or`/`not`."""
    if isinstance(node, ast.BoolOp):
        return (node.op, _trigger(scope, node.left, relations, compound=True),
                _trigger(scope, node.right, relations, compound=True))
    if isinstance(node, ast.UnaryOp) and node.op == "not":
        return ("not", _trigger(scope, node.operand, relations, compound=True))
    if not isinstance(node, ast.Compare) or node.op not in _DIRECTIONS:
        raise SymflowError(
            "a `when` condition is a comparison (`<`, `<=`, `>`, `>=`, `==`), or "
            "comparisons joined by `and`, `or` and `not`", node.span,
            help="it fires where the condition becomes true (`a < b`: where a - b falls "
                 "through zero, `a > b`: rises through zero, `a == b`: either)" +
                 ("; `!=` is not a crossing: write `a < b` or `a > b`"
                  if isinstance(node, ast.Compare) else ""))
    if compound and node.op == "==":
        raise SymflowError(
            "`==` cannot be joined with `and`, `or` or `not` in a `when` condition",
            node.span, help="a == b holds only at instants; use `<`, `<=`, `>` or `>=`")
    a, sa = build_expression(scope, node.left, allowed=_VALUE_KINDS, context="a condition")
    b, sb = build_expression(scope, node.right, allowed=_VALUE_KINDS, context="a condition")
    if sa or sb:
        raise SymflowError("an event's condition must be a scalar", node.span,
                           help="reduce an array first, e.g. max(x) or sum(x)")
    relations.append((node.op, a - b))
    return len(relations) - 1


def _check_varies(scope: Scope, relations: list[tuple[str, sp.Expr]],
                  node: ast.Expr) -> None:
    """Refuse a condition none of whose comparisons depends on the states or t."""
    for _, g in relations:
        if (g.free_symbols - set(scope.values)) - {TIME} or g.has(TIME):
            return
    raise SymflowError("this condition does not depend on the states or t", node.span,
                       help="use `at t = ...` for an event at a fixed time")


def _check(scope: Scope, node: ast.Expr) -> sp.Basic:
    expr, shape = ExprBuilder(scope, _VALUE_KINDS, "an event's check", {}).build(node)
    if not is_condition(expr) and not isinstance(expr, sp.logic.boolalg.BooleanAtom):
        raise SymflowError("expected a condition after `if`", node.span,
                           help="e.g. `if T < 18`")
    if shape:
        raise SymflowError("an event's check must be a scalar condition", node.span)
    return expr


def _pre_names(value: ast.Expr, states: set[str]) -> tuple[ast.Expr, dict]:
    """`value` with each `pre(x)` replaced by a name bound to x's pre symbol."""
    local: dict[str, tuple[sp.Expr, tuple[int, ...]]] = {}

    def rewrite(n):
        if isinstance(n, ast.Call) and n.func == "pre":
            if len(n.args) != 1 or n.keywords or not isinstance(n.args[0], ast.Name):
                raise SymflowError("pre takes one state name: pre(x)", n.span)
            name = n.args[0].id
            if name not in states:
                raise SymflowError(f"pre(...) takes a state; '{name}' is not one", n.span)
            key = f"pre({name})"
            local[key] = (pre_symbol(name), ())
            return ast.Name(key, n.span)
        return n

    return ast.transform(value, rewrite), local


def _affects(scope: Scope, node: ast.Event, states: set[str]
             ) -> tuple[tuple[Affect, ...], bool]:
    out: list[Affect] = []
    terminate = False
    seen: dict[str, ast.Reset] = {}
    for a in node.affects:
        if isinstance(a, ast.Terminate):
            terminate = True
            continue
        entry = scope.names.get(a.name)
        if entry is None:
            scope.resolve(ast.Name(a.name, a.name_span))  # the undeclared-name error
        assert entry is not None
        if a.name not in states:
            what = entry.kind if entry.kind != "variable" else "algebraic variable"
            raise SymflowError(
                f"an event can only set a state; '{a.name}' is a {what}", a.name_span,
                help="declare a value that events change under `discrete`" if entry.kind in
                ("parameter", "constant") else "set the states it is computed from")
        if entry.shape:
            raise SymflowError(f"an event sets scalar states; '{a.name}' is an array",
                               a.name_span)
        if a.name in seen:
            raise SymflowError(f"this event sets '{a.name}' twice", a.span,
                               notes=((seen[a.name].span, "first set here"),))
        seen[a.name] = a
        value, local = _pre_names(a.value, states)
        expr, shape = build_expression(scope, value, allowed=_VALUE_KINDS,
                                       context="an event's affect", local=local)
        if shape:
            raise SymflowError("an affect's value must be a scalar", a.value.span)
        out.append(Affect(a.name, expr, a.span))
    return tuple(out), terminate
