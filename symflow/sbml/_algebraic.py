"""Algebraic rules that are explicit in disguise: `0 = T + X0 + X1 - S1` is `S1 = T +
X0 + X1`. Written that way, the value is an explicit algebraic variable, not an
implicit equation the DAE passes must assign to one of its variables (which may pick a
state that an event sets). Only a rule linear in one unknown (a sum with one term
`c*u` or `c*u/d`, c and d free of the unknowns), whose other terms read no unknown, is
rewritten; the rest stay `0 = ...`. A coefficient that is zero where the model runs
would leave the rule without its unknown, which SBML does not allow.
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


def _coefficient(term: Expr, unknown: str) -> Expr | None:
    """c where `term` is c*unknown with c free of it (a product or quotient), else None."""
    if term == Sym(unknown):
        return Num(1.0)
    if isinstance(term, Op) and term.op == "neg":
        inner = _coefficient(term.args[0], unknown)
        return None if inner is None else negate(inner)
    if isinstance(term, Op) and term.op == "*":
        holding = [i for i, a in enumerate(term.args) if unknown in symbols(a)]
        if len(holding) != 1:
            return None
        inner = _coefficient(term.args[holding[0]], unknown)
        if inner is None:
            return None
        rest = [a for i, a in enumerate(term.args) if i != holding[0]]
        if inner != Num(1.0):
            rest.append(inner)
        return rest[0] if len(rest) == 1 else Op("*", tuple(rest))
    if isinstance(term, Op) and term.op == "/" and unknown not in symbols(term.args[1]):
        inner = _coefficient(term.args[0], unknown)
        return None if inner is None else Op("/", (inner, term.args[1]))
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
        if c is None or c == Num(0.0) or symbols(c) & unknowns \
                or any(symbols(t) & unknowns for t in rest):
            continue
        total: Expr = Op("+", tuple(rest)) if len(rest) > 1 else (rest[0] if rest else Num(0.0))
        # c*u + rest = 0  =>  u = -rest/c
        if c == Num(-1.0):
            return u, total
        if c == Num(1.0):
            return u, negate(total)
        return u, Op("/", (negate(total), c))
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
