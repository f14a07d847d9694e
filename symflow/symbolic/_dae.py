"""Building a DAE `System`: implicit equations, components and connections.

A model with an implicit equation (`0 = x^2 + y^2 - L^2`, `p.v - n.v = R*p.i`),
`der(...)` anywhere in an equation, or components, ports, connections, imports
or `extends` is built here. Every equation becomes one `Equation` of kind
`"implicit"` whose `rhs` is the residual `lhs - rhs` (the equation says
`0 = rhs`). The derivative `der(x)` is the symbol `der(x)` (see `der_symbol`);
a second derivative, made by index reduction, is `der(der(x))`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import sympy as sp

from ..errors import Span, SymflowError
from ..lang import ast
from ._components import flatten
from ._system import Equation, System, Variable


__all__ = ["build_dae", "der_symbol", "is_der", "needs_dae", "integral_of"]


@functools.lru_cache(maxsize=None)  # passes call it per graph edge: a Symbol costs µs
def der_symbol(symbol: sp.Symbol) -> sp.Symbol:
    """The symbol of the time derivative of `symbol`: `der(x)`."""
    return sp.Symbol(f"der({symbol.name})", real=True)


def is_der(symbol: sp.Symbol) -> bool:
    return symbol.name.startswith("der(") and symbol.name.endswith(")")


@functools.lru_cache(maxsize=None)  # passes call it per graph edge: a Symbol costs µs
def integral_of(symbol: sp.Symbol) -> sp.Symbol:
    """`x` for `der(x)`."""
    return sp.Symbol(symbol.name[4:-1], real=True)


def needs_dae(model: ast.Model) -> bool:
    """Whether `model` needs the DAE builder (rather than the explicit ODE one)."""
    if model.imports or model.extends:
        return True
    if any(s.kind in ("components", "ports", "connections") for s in model.sections):
        return True
    for eq in model.items("equations"):
        lhs = eq.lhs
        if isinstance(lhs, ast.Call) and lhs.func == "der":
            continue
        if isinstance(lhs, ast.Call) and lhs.func == "d":
            continue  # an SDE, refused by the ODE builder
        target = lhs.target if isinstance(lhs, ast.Subscript) else lhs
        if not isinstance(target, ast.Name):
            return True
        if _has_der(eq.rhs):
            return True
    return False


def _has_der(node: Any) -> bool:
    if isinstance(node, ast.Call) and node.func == "der":
        return True
    if isinstance(node, tuple):
        return any(_has_der(x) for x in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, Span):
        return any(_has_der(getattr(node, f.name)) for f in dataclasses.fields(node))
    return False


def build_dae(program: ast.Program, model: ast.Model) -> System:
    """The `System` of `model` with implicit equations (components flattened)."""
    from ._build import _Builder  # the ODE builder this one extends

    flat, generated = flatten(program, model)
    labels = {id(g): why for why, g in generated}

    class DAEBuilder(_Builder):
        def declare(self, name, kind, span, **extra):
            if "." not in name:
                return super().declare(name, kind, span, **extra)
            if name in self.names:
                raise SymflowError(f"'{name}' is declared twice", span)
            from ._build import _Name
            entry = _Name(kind, span, **extra)
            self.names[name] = entry
            return entry

        def variables(self, nodes):
            out = super().variables(nodes)
            for v in out:
                if v.shape:
                    raise SymflowError(
                        "array variables in models with implicit equations or components "
                        "are not supported yet", v.span)
            return out

        def equations(self, nodes, variables: list[Variable]) -> list[Equation]:
            out = []
            for eq in nodes:
                lhs = self._replace_der(eq.lhs)
                rhs = self._replace_der(eq.rhs)
                allowed = ("constant", "parameter", "variable", "function")
                a, sa = self.expr(lhs, allowed=allowed, context="an equation")
                b, sb = self.expr(rhs, allowed=allowed, context="an equation")
                if sa or sb:
                    raise SymflowError("array equations are not supported in implicit form "
                                       "yet", eq.span)
                residual = a - b
                if residual == 0:
                    raise SymflowError("this equation holds for every value (0 = 0)",
                                       eq.span, help="remove it")
                label = labels.get(id(eq), "")
                out.append(Equation("implicit", label, residual, (eq.span,)))
            return out

        def _replace_der(self, node):
            if isinstance(node, ast.Call) and node.func == "der":
                if len(node.args) != 1 or node.keywords:
                    raise SymflowError("der takes one argument: der(x)", node.span)
                arg = node.args[0]
                if not isinstance(arg, ast.Name) or arg.id not in self.names or \
                        self.names[arg.id].kind != "variable":
                    raise SymflowError("der(...) takes a variable", arg.span,
                                       help="write der(x) for a declared variable x")
                name = f"der({arg.id})"
                if name not in self.names:
                    from ._build import _Name
                    self.names[name] = _Name("variable", arg.span,
                                             symbol=der_symbol(self.names[arg.id].symbol))
                return ast.Name(name, node.span)
            if isinstance(node, tuple):
                return tuple(self._replace_der(x) for x in node)
            if dataclasses.is_dataclass(node) and not isinstance(node, Span):
                changes = {}
                for f in dataclasses.fields(node):
                    value = getattr(node, f.name)
                    if isinstance(value, tuple) or (dataclasses.is_dataclass(value)
                                                    and not isinstance(value, Span)):
                        new = self._replace_der(value)
                        if new is not value:
                            changes[f.name] = new
                return dataclasses.replace(node, **changes) if changes else node
            return node

    flat_program = dataclasses.replace(program, models=(flat,), imports=())
    return DAEBuilder(flat_program, flat).run()
