"""Initial values: SBML's initial assignments, assignment rules (which hold at the
start too) and declared values, resolved in dependency order.

A symflow initial value is an expression of parameters, so each value becomes an
expression of the *leaves* (parameters and compartments declared with a plain
number) and numbers: every other name in it is replaced by that name's own initial
value, recursively; time is the start, 0. A circle of initial values is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import SymflowError
from ._expr import Call, Expr, Num, Op, Sym, Time, evaluate, fold, rename, substitute
from ._model import SbmlModel

__all__ = ["leaves", "initial_expressions", "initial_numbers", "function_table"]


def leaves(model: SbmlModel, unknowns: set[str]) -> set[str]:
    """Parameters and compartments with a number for a value and no initial assignment,
    rule or event (nor determined by an algebraic rule, `unknowns`): the names other
    initial values may keep."""
    defined = set(model.initial) | set(model.assigned) | set(model.rates) | unknowns
    events = {v for e in model.events for v, _ in e.assignments}
    return {q.id for q in model.quantities.values()
            if q.kind in ("parameter", "compartment") and isinstance(q.value, Num)
            and q.id not in defined and q.id not in events}


def _raw(model: SbmlModel, sid: str) -> Expr | None:
    """The value SBML gives `sid` at the start, before names in it are resolved."""
    if sid in model.initial:
        return model.initial[sid]
    if sid in model.assigned:
        return model.assigned[sid]
    q = model.quantities[sid]
    if q.value is None or q.kind != "species":
        return q.value
    if q.value == Num(0.0) or not q.compartment:
        return q.value
    if q.initial_amount and not q.amount:
        return Op("/", (q.value, Sym(q.compartment)))
    if not q.initial_amount and q.amount:
        return Op("*", (q.value, Sym(q.compartment)))
    return q.value


def initial_expressions(model: SbmlModel, keep: set[str], unknowns: frozenset[str] = frozenset()
                        ) -> dict[str, Expr]:
    """Each quantity's initial value in terms of the names in `keep` (which stand for
    themselves) and numbers; quantities without one are left out. `unknowns` (what
    algebraic rules determine) only sharpen the error for a value that needs one."""
    done: dict[str, Expr] = {}
    busy: list[str] = []

    def resolve(sid: str) -> Expr:
        if sid in done:
            return done[sid]
        if sid in busy:
            circle = " -> ".join([*busy[busy.index(sid):], sid])
            raise SymflowError(f"the initial values of the SBML model form a circle: {circle}")
        raw = _raw(model, sid)
        if raw is None and sid in unknowns:
            raise SymflowError(
                f"the start value of {sid} comes only from an algebraic rule, and "
                f"{busy[0] if busy else sid}'s initial value needs it: symflow's SBML import "
                "does not solve algebraic rules for initial values (AlgebraicRule)")
        if raw is None:
            raise SymflowError(f"{sid} has no initial value",
                               help="SBML leaves it undefined; give it a value or an "
                                    "initial assignment")
        busy.append(sid)

        def step(n: Expr) -> Expr | None:
            if isinstance(n, Time):
                return Num(0.0)
            if isinstance(n, Sym) and n.name in model.quantities and n.name not in keep:
                return resolve(n.name)
            return None

        out = fold(inline_calls(substitute(raw, step), model))
        busy.pop()
        done[sid] = out
        return out

    result = {}
    for sid in model.quantities:
        if sid in keep:
            continue
        try:
            result[sid] = resolve(sid)
        except SymflowError:
            if _raw(model, sid) is not None:
                raise
    return result


def inline_calls(e: Expr, model: SbmlModel) -> Expr:
    """`e` with each call of a model function replaced by the function's body (with
    the arguments in place): symflow's declared values may not call functions."""
    table = function_table(model)

    def expand(n: Expr) -> Expr | None:
        if isinstance(n, Call) and n.user and n.func in table:
            params, body = table[n.func]
            args = [inline_calls(a, model) for a in n.args]
            return inline_calls(rename(body, dict(zip(params, args))), model)
        return None

    return substitute(e, expand)


def function_table(model: SbmlModel) -> dict[str, tuple[tuple[str, ...], Expr]]:
    """The model's functions for `evaluate`."""
    return {f.id: (f.params, f.body) for f in model.functions}


def initial_numbers(model: SbmlModel, unknowns: set[str]) -> dict[str, float]:
    """The number each quantity has at the start, where it can be computed (a value
    that is undefined or depends on an algebraic unknown is left out)."""
    expressions = initial_expressions(model, set())
    values: dict[str, float] = {}
    for sid in unknowns:
        expressions.pop(sid, None)
    functions = function_table(model)
    for sid, expr in expressions.items():
        try:
            value = evaluate(expr, values, functions=functions)
        except (KeyError, ArithmeticError, ValueError, TypeError):
            continue
        if math.isfinite(value):
            values[sid] = value
    return values


def resolve_numbers(expr: Expr, values: Mapping[str, float], model: SbmlModel) -> float | None:
    """`expr` at the start, or None where it cannot be computed."""
    try:
        return evaluate(expr, values, functions=function_table(model))
    except (KeyError, ArithmeticError, ValueError, TypeError):
        return None
