"""Implicit equations: the equations strategy of DAE models (and of models with components).

A model with an implicit equation (`0 = x^2 + y^2 - L^2`, `p.v - n.v = R*p.i`),
`der(...)` anywhere in an equation, or components, ports, connections, imports
or `extends` is built with `ImplicitEquations` (after `components.flatten`).
Every equation becomes one `Equation` of kind `"implicit"` whose `rhs` is the
residual `lhs - rhs` (the equation says `0 = rhs`). The derivative `der(x)` is
the symbol `der(x)` (see `symflow.symbolic.nodes.der_symbol`); a second
derivative, made by index reduction, is `der(der(x))`.
"""

from __future__ import annotations

from typing import Any

from ...errors import SymflowError
from ...lang import ast
from ..nodes import der_symbol
from ..system import Equation, Variable
from .expressions import build_expression
from .scope import Entry, Scope

__all__ = ["ImplicitEquations", "needs_dae"]


def needs_dae(model: ast.Model) -> bool:
    """Whether `model` needs the implicit-equations strategy (rather than the explicit one)."""
    if model.imports or model.extends:
        return True
    if any(s.kind in ("components", "ports", "connections") for s in model.sections):
        return True
    for eq in _statements(model.items("equations")):
        lhs = eq.lhs
        if isinstance(lhs, ast.Call) and lhs.func == "der":
            continue
        if isinstance(lhs, ast.Call) and lhs.func == "d":
            continue  # an SDE, refused by the ODE builder
        target = lhs.target if isinstance(lhs, ast.Subscript) else lhs
        if not isinstance(target, ast.Name):
            return True
        if any(isinstance(n, ast.Call) and n.func == "der" for n in ast.walk(eq.rhs)):
            return True
    return False


def _statements(items) -> list:
    """The statements of a section with the bodies of its loops (`for ... end`)."""
    out = []
    for item in items:
        out += _statements(item.body) if isinstance(item, ast.ForLoop) else [item]
    return out


class ImplicitEquations:
    """Each equation `lhs = rhs` as the residual `lhs - rhs`, with `der(x)` a symbol.

    `labels`: why an equation was generated (by `id` of its AST node: connection
    equations, unconnected flows), shown as the equation's target.
    """

    implicit = True

    def __init__(self, labels: dict[int, str] | None = None):
        self.labels = labels or {}

    def check_variables(self, variables: list[Variable]) -> None:
        """Array variables are not supported in implicit form."""
        for v in variables:
            if v.shape:
                raise SymflowError(
                    "array variables in models with implicit equations or components "
                    "are not supported yet", v.span)

    def hold(self, discrete: list[Variable]) -> list[Equation]:
        """0 = der(x) for each discrete state (scalars only, as every variable here)."""
        self.check_variables(discrete)
        for v in discrete:
            if v.initial is None:
                raise SymflowError(f"discrete variable '{v.name}' needs an initial value",
                                   v.span, help=f"write `{v.name} = <value>` under discrete")
        return [Equation("implicit", "discrete", der_symbol(v.symbol), (v.span,))
                for v in discrete]

    def build(self, scope: Scope, nodes, variables: list[Variable]) -> list[Equation]:
        """One implicit `Equation` per equation, in file order."""
        out = []
        allowed = ("constant", "parameter", "variable", "function")
        for eq in nodes:
            lhs = _replace_der(scope, eq.lhs)
            rhs = _replace_der(scope, eq.rhs)
            a, sa = build_expression(scope, lhs, allowed=allowed, context="an equation")
            b, sb = build_expression(scope, rhs, allowed=allowed, context="an equation")
            if sa or sb:
                raise SymflowError("array equations are not supported in implicit form "
                                   "yet", eq.span)
            # the same expression as `a - b`, without SymPy re-flattening a sum with 0
            # (`0 = p.i + n.i`: most component equations have one side zero)
            residual = a if b == 0 else -b if a == 0 else a - b
            if residual == 0:
                raise SymflowError("this equation holds for every value (0 = 0)",
                                   eq.span, help="remove it")
            out.append(Equation("implicit", self.labels.get(id(eq), ""), residual, (eq.span,)))
        return out


def _replace_der(scope: Scope, node: Any) -> Any:
    """`node` with every `der(x)` replaced by the name `der(x)`, declared as a variable
    whose symbol is `der_symbol(x)`."""

    def replace(n: Any) -> Any:
        if not (isinstance(n, ast.Call) and n.func == "der"):
            return n
        if len(n.args) != 1 or n.keywords:
            raise SymflowError("der takes one argument: der(x)", n.span)
        arg = n.args[0]
        if not isinstance(arg, ast.Name) or scope.kind_of(arg.id) != "variable":
            raise SymflowError("der(...) takes a variable", arg.span,
                               help="write der(x) for a declared variable x")
        name = f"der({arg.id})"
        if name not in scope.names:
            scope.enter(name, Entry("variable", arg.span,
                                    symbol=der_symbol(scope.names[arg.id].symbol)))
        return ast.Name(name, n.span)

    return ast.transform(node, replace)
