"""Arrays of components as the model that declares them sees them.

`r[n]: Resistor(R = Rs)` declares the components `r[0]`, ..., `r[n-1]`. In the
declaring model, `r[i].p` (an `ast.Member`) names a port or variable of one
element: it resolves here to the flat name `r[3].p`, and `r[i].R` for a
parameter `R` of the type to the element `r.R[3]` of the array parameter `r.R`
(one parameter of shape (n,) for all elements, so that thousands of components
do not make thousands of scalar parameters). `r.R` alone is that array.

A modifier's value is one value for every element (a scalar expression) or one
value per element: an array of length n (an array parameter, a literal `[...]`,
an element-wise expression of them); `element_of` picks element k of it.

Everything here rewrites AST nodes; no text is evaluated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from ...errors import Span, SymflowError
from ...lang import ast
from .loops import Value, integer_value, unroll, with_iteration

__all__ = ["ArrayElement", "ComponentArray", "LocalArrays", "array_parameter", "element_of",
           "length_of", "resolve_local_text", "resolve_references"]

# Calls that reduce an array to one number (others are element-wise).
_REDUCTIONS = ("sum", "dot")


@dataclasses.dataclass(frozen=True)
class ComponentArray:
    """An array of components: its length, the parameters of its type (each one array
    parameter `r.R`) and where it is declared."""

    name: str
    size: int
    parameters: frozenset[str]
    span: Span


@dataclasses.dataclass
class ArrayElement:
    """Element `index` of the array of components `array` (its flat name), and where
    the declarations of its parameters are collected, by name, one per element."""

    array: str
    index: int
    collect: dict[str, list[ast.Declaration]]


def array_parameter(name: str, values: list[ast.Declaration], n: int,
                    component: ast.Component) -> ast.Declaration:
    """The array parameter `r.R` of an array of components from the declarations of
    `R` in its elements: one value for all of them where they agree (declared with
    `size`, a broadcast), else the array literal of their values."""
    first = values[0]
    same = all(v.value == first.value for v in values[1:])
    value = first.value if same else ast.ArrayLiteral(tuple(v.value for v in values),
                                                      first.value.span)
    bounds = first.bounds if all(v.bounds == first.bounds for v in values) else None
    return dataclasses.replace(first, name=name, value=value, bounds=bounds,
                               size=ast.Number(n, component.span) if same else None)


@dataclasses.dataclass(frozen=True)
class LocalArrays:
    """What the text of one model may index: its arrays of components (and its scalar
    components, to refuse an index into one), its constants, its array lengths."""

    arrays: dict[str, ComponentArray]
    scalars: frozenset[str]
    lookup: Callable[[str], Value]
    lengths: dict[str, int]


def resolve_local_text(items: dict[str, list], scope: LocalArrays, local: list[str]) -> None:
    """Unroll the loops of a model's equations and connections and resolve its
    `r[i].p` references (in place, in `items`), before its names are prefixed."""
    taken = {n: "name" for n in local} | {
        d.name: "parameter" for d in items["parameters"]} | {
        d.name: "constant" for d in items["constants"]} | {
        d.name: "variable" for d in items["variables"]} | {
        c.name: "component" for c in items["components"]}
    for kind in ("equations", "connections"):
        unrolled = []
        for stmt, bindings in unroll(items[kind], scope.lookup, taken=taken):
            try:
                unrolled.append(resolve_references(stmt, scope.arrays, scope.scalars,
                                                   scope.lookup))
            except SymflowError as e:
                raise with_iteration(e, bindings) from None
        items[kind] = unrolled
    for kind in ("constants", "parameters", "variables", "observed", "functions"):
        items[kind] = [resolve_references(i, scope.arrays, scope.scalars, scope.lookup)
                       for i in items[kind]]


def _is_reduction(node: ast.Call) -> bool:
    return node.func in _REDUCTIONS or (node.func in ("min", "max") and len(node.args) == 1)


def length_of(node: ast.Expr, lengths: Mapping[str, int],
              lookup: Callable[[str], Value]) -> int | None:
    """The length of an array-valued expression, `None` for a scalar. `lengths`: the
    array names (parameters, constants) and their lengths."""
    if isinstance(node, ast.Name):
        return lengths.get(node.id)
    if isinstance(node, ast.ArrayLiteral):
        return len(node.items)
    if isinstance(node, ast.UnaryOp):
        return length_of(node.operand, lengths, lookup)
    if isinstance(node, (ast.BinaryOp, ast.Compare, ast.BoolOp)):
        return _common(node, (node.left, node.right), lengths, lookup)
    if isinstance(node, ast.IfThenElse):
        return _common(node, (node.condition, node.then, node.otherwise), lengths, lookup)
    if isinstance(node, ast.Call):
        return None if _is_reduction(node) else _common(node, node.args, lengths, lookup)
    if isinstance(node, ast.Subscript) and isinstance(node.index, ast.Slice):
        n = length_of(node.target, lengths, lookup)
        if n is None:
            return None
        start, stop = _slice(node.index, n, lookup)
        return max(0, stop - start)
    return None


def _common(node: ast.Expr, parts, lengths, lookup) -> int | None:
    found = {n for n in (length_of(p, lengths, lookup) for p in parts) if n is not None}
    if len(found) > 1:
        raise SymflowError("arrays of different lengths in one expression: "
                           + ", ".join(str(n) for n in sorted(found)), node.span)
    return found.pop() if found else None


def _slice(index: ast.Slice, n: int, lookup) -> tuple[int, int]:
    start = 0 if index.start is None else integer_value(index.start, lookup,
                                                        "the start of a slice")
    stop = n if index.stop is None else integer_value(index.stop, lookup, "the end of a slice")
    start, stop = (start + n if start < 0 else start), (stop + n if stop < 0 else stop)
    return max(0, min(start, n)), max(0, min(stop, n))


def element_of(node: ast.Expr, k: int, lengths: Mapping[str, int],
               lookup: Callable[[str], Value]) -> ast.Expr:
    """Element `k` of an array-valued expression (a scalar expression as it is)."""
    if length_of(node, lengths, lookup) is None:
        return node
    if isinstance(node, ast.Name):
        return ast.Subscript(node, ast.Number(k, node.span), node.span)
    if isinstance(node, ast.ArrayLiteral):
        return node.items[k]
    if isinstance(node, ast.Subscript) and isinstance(node.index, ast.Slice):
        n = length_of(node.target, lengths, lookup)
        assert n is not None
        start, _ = _slice(node.index, n, lookup)
        return ast.Subscript(node.target, ast.Number(start + k, node.index.span), node.span)

    def pick(x):
        return element_of(x, k, lengths, lookup)

    if isinstance(node, ast.UnaryOp):
        return dataclasses.replace(node, operand=pick(node.operand))
    if isinstance(node, (ast.BinaryOp, ast.Compare, ast.BoolOp)):
        return dataclasses.replace(node, left=pick(node.left), right=pick(node.right))
    if isinstance(node, ast.IfThenElse):
        return dataclasses.replace(node, condition=pick(node.condition), then=pick(node.then),
                                   otherwise=pick(node.otherwise))
    if isinstance(node, ast.Call):
        return dataclasses.replace(node, args=tuple(pick(a) for a in node.args))
    return node  # pragma: no cover - length_of is None for every other node


def _head(name: str) -> tuple[str, str]:
    head, _, rest = name.partition(".")
    return head, rest


def resolve_references(node, arrays: Mapping[str, ComponentArray], scalars: frozenset[str],
                       lookup: Callable[[str], Value]):
    """`node` with every `r[i].x` of an array of components `r` (in `arrays`, by local
    name) resolved to its flat name `r[3].x` (or `r.R[3]` for a parameter `R`), and an
    error for an array of components used without an index, an index out of range,
    and an index into a scalar component (`scalars`)."""
    if not arrays and not any(isinstance(n, ast.Member) for n in ast.walk(node)):
        return node

    def resolve(n):
        if isinstance(n, ast.Member):
            return _member(n, arrays, scalars, lookup)
        if isinstance(n, ast.Subscript) and isinstance(n.target, ast.Name) \
                and n.target.id in arrays:
            a = arrays[n.target.id]
            raise SymflowError(
                f"{n.target.id}[...] is a component: name one of its ports or variables",
                n.span, help=f"for instance {n.target.id}[i].p (r[i].R for a parameter); "
                             f"{n.target.id}.R alone is the array of a parameter R of all "
                             f"{a.size} components")
        if isinstance(n, ast.Name) and "[" not in n.id:
            head, rest = _head(n.id)
            if head in arrays and _head(rest)[0] not in arrays[head].parameters:
                a = arrays[head]
                example = f"{head}[i].{rest}" if rest else f"{head}[i].p"
                raise SymflowError(
                    f"{head} is an array of {a.size} components: index it, {example}",
                    n.span, notes=((a.span, f"{head} is declared here"),),
                    help=f"its elements are {head}[0] ... {head}[{a.size - 1}]"
                         + ("; the parameters of all of them are arrays: "
                            + ", ".join(f"{head}.{p}" for p in sorted(a.parameters))
                            if a.parameters else ""))
        return n

    return ast.transform(node, resolve)


def _member(n: ast.Member, arrays, scalars, lookup):
    target = n.target
    assert isinstance(target, ast.Subscript)  # the grammar makes a member after an index
    base = target.target
    if not (isinstance(base, ast.Name) and base.id in arrays):
        if isinstance(base, ast.Name) and base.id in scalars:
            raise SymflowError(
                f"'{base.id}' is one component, not an array of components: it cannot be "
                "indexed", target.span, help=f"write {base.id}.{n.name}")
        if isinstance(base, ast.Name) and _head(base.id)[0] in scalars | set(arrays):
            raise SymflowError(
                "only this model's own arrays of components can be indexed here (not "
                "arrays inside its components)", target.span,
                help="connect them inside the component that declares them")
        raise SymflowError(
            "only an element of an array of components has members (r[i].p)", n.span,
            help="declare an array of components with `r[n]: Resistor(...)`")
    a = arrays[base.id]
    if isinstance(target.index, ast.Slice):
        raise SymflowError("a slice of an array of components cannot be used here",
                           target.index.span, help=f"index one element, {base.id}[i]."
                                                   f"{n.name}, in a loop `for i in 0:n`")
    k = integer_value(target.index, lookup, f"the index of '{base.id}'")
    if not 0 <= k < a.size:
        raise SymflowError(
            f"index {k} is out of range: '{base.id}' has {a.size} components, "
            f"{base.id}[0] ... {base.id}[{a.size - 1}]", target.index.span,
            notes=((a.span, f"{base.id} is declared here"),),
            help="a negative index does not count from the end here; in a loop, start "
                 "the range later (`for i in 1:n` for r[i - 1])" if k < 0 else
                 f"the last one is {base.id}[{a.size - 1}]; a loop that reaches past it ends "
                 "its range earlier (`for i in 0:n - 1` for r[i + 1])")
    first, rest = _head(n.name)
    if first in a.parameters:
        if rest:
            raise SymflowError(f"parameter '{first}' has no member '{rest}'", n.span)
        return ast.Subscript(ast.Name(f"{base.id}.{first}", base.span),
                             ast.Number(k, target.index.span), n.span)
    return ast.Name(f"{base.id}[{k}].{n.name}", n.span)
