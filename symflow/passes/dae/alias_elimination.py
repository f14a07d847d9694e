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

from ...symbolic import Observed, System
from .graph import incidence_graph

__all__ = ["eliminate_aliases"]


def eliminate_aliases(system: System) -> System:
    if not any(e.kind == "implicit" for e in system.equations):
        return system
    variables = {v.symbol: v for v in system.variables}
    differentiated = incidence_graph(system).differentiated
    parameters = {p.symbol for p in system.parameters}

    replace: dict[sp.Symbol, sp.Expr] = {}
    kept = []
    for e in system.equations:
        if e.kind != "implicit" or e.target.startswith("unconnected flow"):
            # (unconnected flows stay equations, so that a structural error can name them)
            kept.append(e)
            continue
        r = e.rhs
        while any(s in replace for s in r.free_symbols):
            r = r.xreplace(replace)  # follow chains x -> y -> z
        alias = _alias(r, variables, differentiated, parameters)
        if alias is None:
            kept.append(dataclasses.replace(e, rhs=r))
            continue
        x, value = alias
        replace[x] = value
    if not replace:
        return system
    replace = _resolve(replace)
    equations = []
    for e in kept:
        if e.kind == "implicit":
            r = e.rhs.xreplace(replace)
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
        events=tuple(e.map_exprs(lambda x: x.xreplace(replace)) for e in system.events),
    )


def _resolve(replace: dict[sp.Symbol, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
    """Each alias in terms of variables that are not aliases (chains x -> y -> z
    followed to their end, iteratively: a chain can be as long as the model)."""
    done: dict[sp.Symbol, sp.Expr] = {}
    for start in replace:
        stack = [start]
        while stack:
            x = stack[-1]
            if x in done:
                stack.pop()
                continue
            pending = [s for s in replace[x].free_symbols if s in replace and s not in done]
            if pending:
                stack.extend(pending)
                continue
            done[x] = replace[x].xreplace({s: done[s] for s in replace[x].free_symbols
                                           if s in done})
            stack.pop()
    return done


def _alias(r: sp.Expr, variables, differentiated, parameters):
    """(x, value) when `0 = r` says x = ±y or x = constant, else None.

    Read from the terms' coefficients (no symbolic differentiation: SymPy's
    `diff` costs milliseconds a call, which adds up on large models)."""
    terms = sp.Add.make_args(r)
    linear: dict[sp.Symbol, sp.Expr] = {}
    rest = []
    for term in terms:
        coeff, factor = term.as_coeff_Mul()
        if factor in variables:
            if factor in linear:
                return None
            linear[factor] = coeff
        elif factor.free_symbols <= parameters:
            rest.append(term)
        else:
            return None  # a derivative, or a nonlinear term
    free = [s for s in linear if s not in differentiated]
    if not free:
        return None
    if len(linear) == 1:
        (x, a), = linear.items()
        return x, sp.expand(-sp.Add(*rest) / a)
    if len(linear) == 2 and not rest:
        x = max(free, key=lambda s: s.name)  # deterministic choice
        y = next(s for s in linear if s != x)
        a, b = linear[x], linear[y]
        if abs(a) == abs(b):
            return x, -b / a * y
    return None
