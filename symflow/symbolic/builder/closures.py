"""Neural closures: the `closures` section (LANGUAGE.md section 5).

```
closures
  (U1, U2) = mlp(x, y, width = 32, depth = 2, activation = tanh, scale = 1, seed = 0)
```

declares a multilayer perceptron (an `equinox.nn.MLP`) with one input per
positional argument (expressions of variables, parameters, `t`, coordinates and
outputs of other closures) and one output per name on the left. In the equations
each output is the SymPy node `ClosureOutput("U1", x, y)`: the inputs stay
inside the equations, so every pass (constant folding, algebraic elimination,
discretization) rewrites them like any other subexpression, and codegen finds
each network call in the final equations (see `codegen/_closures.py`;
the node is `symflow.symbolic.nodes.ClosureOutput`). On a
field the inputs are arrays and the network acts point-wise on the grid.

The System keeps one frozen `Closure` per declaration (its options, and its
inputs as written), which is also what `Model.closures` returns.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from sympy.core.symbol import Str

from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import ClosureOutput, broadcast_shapes, closure_outputs_in
from ..system import Closure
from .expressions import build_expression, constant_integer, constant_number
from .scope import Scope

__all__ = ["ACTIVATIONS", "CLOSURE_OPTIONS", "build_closures"]


ACTIVATIONS = ("tanh", "relu", "gelu", "softplus", "swish")
# option -> (default, meaning)
CLOSURE_OPTIONS: dict[str, tuple[Any, str]] = {
    "width": (32, "neurons per hidden layer"),
    "depth": (2, "number of hidden layers"),
    "activation": ("tanh", "activation of the hidden layers: " + ", ".join(ACTIVATIONS)),
    "scale": (1.0, "factor multiplying every output of the network"),
    "seed": (0, "seed of the random initial weights"),
}
MAX_WIDTH = 4096
MAX_DEPTH = 32


def _span_text(span: Span) -> str:
    """The source text under a one-line span (for `Closure.input_text`)."""
    if span is None or not span.source:
        return "?"
    lines = span.source.splitlines()
    if span.line != span.end_line or span.line > len(lines):
        return "?"
    return lines[span.line - 1][span.column - 1:span.end_column - 1]


def build_closures(scope: Scope, nodes: Sequence[ast.Closure]) -> list[Closure]:
    """Check the `closures` section and register each output as a name of kind
    `closure` bound to its `ClosureOutput` expression. Closures are built in
    dependency order; an input that needs its own closure's output (directly or
    through other closures) is an algebraic loop."""
    if not nodes:
        return []
    owner: dict[str, ast.Closure] = {}
    for c in nodes:
        if c.call.func != "mlp":
            close = difflib.get_close_matches(c.call.func, ["mlp"], n=1)
            raise SymflowError(
                f"unknown closure '{c.call.func}'", c.call.func_span,
                help=(f"did you mean '{close[0]}'? " if close else "")
                + "closures are networks declared as `(U1, U2) = mlp(x, y, width = 32)`")
        if len(set(c.outputs)) != len(c.outputs):
            raise SymflowError("a closure names an output twice", c.span)
        for out in c.outputs:
            if out in owner:
                raise SymflowError(
                    f"'{out}' is declared twice", c.span,
                    notes=((owner[out].span, f"'{out}' is first an output of this closure"),),
                    help="give each closure output its own name")
            owner[out] = c
            if scope.declared.get(out, ("closure",))[0] != "closure":
                kind, where = scope.declared[out]
                raise SymflowError(
                    f"closure output '{out}' collides with the {kind} '{out}'", c.span,
                    notes=((where, f"'{out}' is declared here, as a {kind}"),),
                    help="give the closure output another name")
        if not c.call.args:
            raise SymflowError("a closure needs at least one input", c.call.span,
                               help="write `(U) = mlp(x, y)`: the inputs are expressions")
    order = _dependency_order(nodes, owner)
    built: dict[int, Closure] = {}
    for c in order:
        built[id(c)] = _build_one(scope, c)
    return [built[id(c)] for c in nodes]


def _dependency_order(nodes, owner) -> list[ast.Closure]:
    uses: dict[int, list[tuple[ast.Closure, ast.Name]]] = {}
    for c in nodes:
        uses[id(c)] = [(owner[n.id], n) for a in c.call.args for n in ast.walk(a)
                       if isinstance(n, ast.Name) and n.id in owner]
    order: list[ast.Closure] = []
    state: dict[int, int] = {}  # 1: on the current path, 2: done

    def visit(c, path):
        if state.get(id(c)) == 2:
            return
        for other, name in uses[id(c)]:
            if other is c:
                raise SymflowError(
                    f"algebraic loop: an input of closure ({', '.join(c.outputs)}) uses "
                    f"its own output '{name.id}'", name.span,
                    help="a closure's inputs must be computable before the network runs: "
                         "use states, parameters, t, or outputs of other closures")
            if state.get(id(other)) == 1:
                chain = " -> ".join(f"({', '.join(x.outputs)})" for x in [*path, c, other])
                raise SymflowError(
                    f"algebraic loop between closures: {chain}", name.span,
                    help="the inputs of closures must not depend on each other in a cycle")
            state[id(c)] = 1
            visit(other, [*path, c])
        state[id(c)] = 2
        order.append(c)

    for c in nodes:
        visit(c, [])
    return order


def _build_one(scope: Scope, c: ast.Closure) -> Closure:
    options = _options(scope, c)
    label = f"({', '.join(c.outputs)})"
    inputs, shapes, texts = [], [], []
    for a in c.call.args:
        expr, shape = build_expression(
            scope, a, allowed=("constant", "parameter", "variable", "function", "coordinate",
                        "closure"),
            context=f"an input of closure {label}")
        inputs.append(expr)
        shapes.append(shape)
        texts.append(_span_text(a.span))
    try:
        shape = broadcast_shapes(shapes)
    except ValueError as e:
        raise SymflowError(f"the inputs of closure {label} have {e}", c.call.span) from None
    depends = set()
    for expr in inputs:
        for s in expr.free_symbols:
            depends.add(s.name)
        for node in closure_outputs_in(expr):
            depends.add(node.output)
    name = "_".join(c.outputs)
    closure = Closure(name=name, outputs=tuple(c.outputs), inputs=tuple(inputs),
                      input_text=tuple(texts), input_shape=shape,
                      depends_on=tuple(sorted(depends)), span=c.span, **options)
    for out in c.outputs:
        scope.declare(out, "closure", c.span,
                        symbol=ClosureOutput(Str(out), *inputs), shape=shape)
    return closure


def _options(scope: Scope, c: ast.Closure) -> dict[str, Any]:
    values = {k: v for k, (v, _) in CLOSURE_OPTIONS.items()}
    seen: set[str] = set()
    for kw in c.call.keywords:
        if kw.name not in CLOSURE_OPTIONS:
            close = difflib.get_close_matches(kw.name, list(CLOSURE_OPTIONS), n=1)
            raise SymflowError(
                f"unknown option '{kw.name}' of mlp", kw.span,
                help=(f"did you mean '{close[0]}'? " if close else "") + "options: "
                + "; ".join(f"{k} ({m}, default {v})" for k, (v, m) in CLOSURE_OPTIONS.items()))
        if kw.name in seen:
            raise SymflowError(f"option '{kw.name}' is given twice", kw.span)
        seen.add(kw.name)
        v = kw.value
        if kw.name == "activation":
            if not isinstance(v, ast.Name) or v.id not in ACTIVATIONS:
                got = v.id if isinstance(v, ast.Name) else None
                close = difflib.get_close_matches(got, ACTIVATIONS, n=1) if got else []
                raise SymflowError(
                    f"unknown activation '{got}'" if got else "activation must be a name",
                    v.span, help=(f"did you mean '{close[0]}'? " if close else "")
                    + "activations: " + ", ".join(ACTIVATIONS))
            values["activation"] = v.id
        elif kw.name == "scale":
            values["scale"] = constant_number(scope, v, "the scale of a closure")
            if values["scale"] == 0:
                raise SymflowError("the scale of a closure must not be zero", v.span)
        else:
            n = constant_integer(scope, v, f"the {kw.name} of a closure")
            lo, hi = {"width": (1, MAX_WIDTH), "depth": (0, MAX_DEPTH),
                      "seed": (0, 2**32 - 1)}[kw.name]
            if not lo <= n <= hi:
                raise SymflowError(f"the {kw.name} of a closure must be in [{lo}, {hi}], "
                                   f"not {n}", v.span)
            values[kw.name] = n
    return values
