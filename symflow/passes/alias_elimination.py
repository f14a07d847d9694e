"""Alias elimination: `x = y`, `x = -y` and `x = constant` removed before the
structural passes.

An implicit equation `0 = a*x + b*y` (with numbers a = ±b) or `0 = x - c` (c a
number or parameter expression) where x is an algebraic variable (no
derivative of it appears anywhere) makes x an alias: every occurrence is
replaced, the equation dropped, and x kept as an observed output. Connections
produce many of these (`r.n.v = c.p.v`, `r.p.i + s.p.i = 0`); removing them
first keeps the matching and solving small.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ..symbolic import Observed, System
from ..symbolic._dae import der_symbol, is_der


__all__ = ["eliminate_aliases"]


def eliminate_aliases(system: System) -> System:
    implicit = [e for e in system.equations if e.kind == "implicit"]
    if not implicit:
        return system
    variables = {v.symbol: v for v in system.variables}
    present = set().union(*(e.rhs.free_symbols for e in implicit))
    differentiated = {s for s in variables if der_symbol(s) in present}
    parameters = {p.symbol for p in system.parameters}

    replace: dict[sp.Symbol, sp.Expr] = {}
    kept = []
    for e in system.equations:
        if e.kind != "implicit":
            kept.append(e)
            continue
        r = e.rhs.xreplace(replace) if replace else e.rhs
        if replace:
            r = sp.expand(r) if r.is_polynomial() else r
        alias = _alias(r, variables, differentiated, parameters)
        if alias is None:
            kept.append(dataclasses.replace(e, rhs=r))
            continue
        x, value = alias
        # Keep earlier substitutions pointing at the final representative.
        for k in replace:
            replace[k] = replace[k].xreplace({x: value})
        replace[x] = value
    if not replace:
        return system
    equations = []
    for e in kept:
        if e.kind == "implicit":
            r = e.rhs.xreplace(replace)
            r = sp.expand(r) if r.is_polynomial() else r
            if r == 0:
                continue
            equations.append(dataclasses.replace(e, rhs=r))
        else:
            equations.append(dataclasses.replace(e, rhs=e.rhs.xreplace(replace)))
    observed = tuple(Observed(variables[x].name, x, v, (), variables[x].doc, variables[x].span)
                     for x, v in replace.items())
    return dataclasses.replace(
        system,
        variables=tuple(v for v in system.variables if v.symbol not in replace),
        equations=tuple(equations),
        observed=observed + tuple(dataclasses.replace(o, expr=o.expr.xreplace(replace))
                                  for o in system.observed),
    )


def _alias(r: sp.Expr, variables, differentiated, parameters):
    """(x, value) when `0 = r` says x = ±y or x = constant, else None."""
    if not r.is_Add and not r.is_Mul and not r.is_Symbol:
        return None
    terms = sp.Add.make_args(r)
    if len(terms) > 2:
        return None
    syms = [s for s in r.free_symbols if s in variables or is_der(s)]
    if any(is_der(s) for s in syms):
        return None
    free = [s for s in syms if s not in differentiated]
    if len(syms) == 1 and free:
        x = free[0]
        a = sp.diff(r, x)
        if a.is_Number and a != 0 and not (r - a * x).has(x) and \
                (r - a * x).free_symbols <= parameters:
            return x, sp.expand(-(r - a * x) / a)
        return None
    if len(syms) == 2 and len(terms) == 2 and free:
        x = max(free, key=lambda s: s.name)  # deterministic choice
        y = next(s for s in syms if s != x)
        a, b = sp.diff(r, x), sp.diff(r, y)
        if a.is_Number and b.is_Number and abs(a) == abs(b) and \
                sp.expand(r - a * x - b * y) == 0:
            return x, -b / a * y
    return None
