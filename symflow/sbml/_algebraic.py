"""Algebraic rules that are explicit in disguise: `0 = T + X0 + X1 - S1` is `S1 = T +
X0 + X1`. Written that way, the value is an explicit algebraic variable, not an
implicit equation the DAE passes must assign to one of its variables (which may pick a
state that an event sets). Only a rule linear in one unknown with a number for its
coefficient, whose other terms read no unknown, is rewritten; the rest stay `0 = ...`.
"""

from __future__ import annotations

import dataclasses

from ._expr import Expr, Num, Op, Sym, negate, symbols
from ._model import SbmlModel
from ._roles import algebraic_unknowns

__all__ = ["make_explicit", "solve_explicit"]


def _terms(e: Expr) -> list[Expr]:
    """`e` as a list of terms of a sum."""
    if isinstance(e, Op) and e.op == "+":
        return [t for a in e.args for t in _terms(a)]
    if isinstance(e, Op) and e.op == "-":
        return _terms(e.args[0]) + [negate(t) for t in _terms(e.args[1])]
    return [e]


def _coefficient(term: Expr, unknown: str) -> float | None:
    """c where `term` is c*unknown (c a number), else None."""
    if term == Sym(unknown):
        return 1.0
    if isinstance(term, Op) and term.op == "neg":
        inner = _coefficient(term.args[0], unknown)
        return None if inner is None else -inner
    if isinstance(term, Op) and term.op == "*" and len(term.args) == 2:
        a, b = term.args
        if isinstance(a, Num) and b == Sym(unknown):
            return a.value
        if isinstance(b, Num) and a == Sym(unknown):
            return b.value
    return None


def solve_explicit(rule: Expr, unknowns: set[str]) -> tuple[str, Expr] | None:
    """`(u, expr)` with `0 = rule` the same as `u = expr`, or None."""
    terms = _terms(rule)
    for u in sorted(unknowns & symbols(rule)):
        holding = [t for t in terms if u in symbols(t)]
        if len(holding) != 1:
            continue
        c = _coefficient(holding[0], u)
        rest = [t for t in terms if t is not holding[0]]
        if not c or any(symbols(t) & unknowns for t in rest):
            continue
        total: Expr = Op("+", tuple(rest)) if len(rest) > 1 else (rest[0] if rest else Num(0.0))
        # c*u + rest = 0  =>  u = -rest/c
        if c == -1.0:
            return u, total
        if c == 1.0:
            return u, negate(total)
        return u, Op("/", (negate(total), Num(c)))
    return None


def make_explicit(model: SbmlModel) -> SbmlModel:
    """`model` with each algebraic rule that `solve_explicit` can solve turned into an
    assignment rule for its unknown."""
    if not model.algebraic:
        return model
    unknowns = algebraic_unknowns(model)
    assigned = dict(model.assigned)
    implicit = []
    for rule in model.algebraic:
        solved = solve_explicit(rule, unknowns)
        if solved is None:
            implicit.append(rule)
            continue
        u, expr = solved
        assigned[u] = expr
        unknowns.discard(u)
    return dataclasses.replace(model, assigned=assigned, algebraic=tuple(implicit))
