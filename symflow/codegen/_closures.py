"""Codegen of neural closures: each network call is computed once per function.

The final equations hold `ClosureOutput("U1", x, y)` nodes. Before the common
subexpressions are shared, `lift_closures` gathers the distinct calls (one per
closure and input tuple), innermost first, emits one line per call,

    _nn0_0, _nn0_1 = apply_mlp(p['closures']['U1_U2'], 'tanh', 1.0, (v_x, v_y))

and replaces every output node by the name of its result, so `U1` and `U2`
share one evaluation of the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp
from sympy.core.symbol import Str

from ..symbolic import ClosureOutput, System, shape_of

if TYPE_CHECKING:
    from ._printer import JnpPrinter

__all__ = ["lift_closures", "closure_inputs_of", "closure_io_outputs", "IMPORT_LINE"]


IMPORT_LINE = "from symflow.runtime import apply_mlp"


def lift_closures(exprs: list[sp.Expr], system: System, names: dict, shapes: dict,
                  printer_type: type[JnpPrinter]) -> tuple[list[sp.Expr], list[str]]:
    """`exprs` with every closure output replaced by a fresh symbol, and the lines
    that compute those symbols (`names` and `shapes` are updated in place)."""
    if not system.closures or not any(e.has(ClosureOutput) for e in exprs):
        return exprs, []
    by_output = {out: (c, i) for c in system.closures for i, out in enumerate(c.outputs)}
    lines: list[str] = []
    calls: dict[tuple, list[sp.Symbol]] = {}
    exprs = list(exprs)
    while True:
        nodes = set().union(*(e.atoms(ClosureOutput) for e in exprs))
        innermost = [n for n in nodes if not any(a.has(ClosureOutput) for a in n.inputs)]
        if not innermost:
            break
        replace = {}
        for node in sorted(innermost, key=sp.default_sort_key):
            closure, index = by_output[node.output]
            key = (closure.name, node.inputs)
            if key not in calls:
                k = len(calls)
                outs = [sp.Symbol(f"_nn{k}_{i}") for i in range(closure.n_outputs)]
                shape = shape_of(node, shapes)
                for s in outs:
                    names[s] = s.name
                    shapes[s] = shape
                printer = printer_type(names, shapes)
                args = ", ".join(printer.doprint(a) for a in node.inputs)
                targets = ", ".join(s.name for s in outs) + ("," if len(outs) == 1 else "")
                lines.append(f"    {targets} = apply_mlp(p['closures'][{closure.name!r}], "
                             f"{closure.activation!r}, {float(closure.scale)!r}, ({args},))")
                calls[key] = outs
            replace[node] = calls[key][index]
        exprs = [e.xreplace(replace) for e in exprs]
    return exprs, lines


def closure_inputs_of(system: System) -> dict[str, tuple[sp.Expr, ...]]:
    """The inputs of each closure as they stand in the final equations (after the
    passes: eliminated algebraics substituted, derivatives discretized), falling
    back to the declared inputs for a closure no equation uses."""
    found: dict[str, tuple[sp.Expr, ...]] = {}
    by_output = {out: c for c in system.closures for out in c.outputs}
    exprs = [e.rhs for e in system.equations] + [g for e in system.equations
                                                  for g in e.diffusion]
    exprs += [o.expr for o in system.observed]
    for e in exprs:
        for node in e.atoms(ClosureOutput):
            found.setdefault(by_output[node.output].name, node.inputs)
    return {c.name: found.get(c.name, c.inputs) for c in system.closures}


def closure_io_outputs(system: System) -> dict[str, sp.Expr]:
    """The expressions of the generated `closure_io`: `name:in:k` for input k and
    `name:out:k` for output k of every closure."""
    out: dict[str, sp.Expr] = {}
    for c in system.closures:
        inputs = closure_inputs_of(system)[c.name]
        for k, e in enumerate(inputs):
            out[f"{c.name}:in:{k}"] = e
        for k, name in enumerate(c.outputs):
            out[f"{c.name}:out:{k}"] = ClosureOutput(Str(name), *inputs)
    return out
