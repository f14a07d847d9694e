"""Loops over statements, `for i in start:stop ... end`, unrolled into their copies.

A loop in `equations` or `connections` stands for its statements once for each
integer `i` with `start <= i < stop` (the range of the slice `x[start:stop]`).
Its bounds are integer constant expressions of numbers, `constants` and the
variables of enclosing loops; they are known before anything is built, so the
loop is unrolled here, on the syntax tree: every copy of a statement has the
loop variable replaced by its number and keeps the source span of its text, so
an error in one copy points at the statement as written (and says which `i`).

Everything here reads AST nodes; no text is evaluated.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ...errors import SymflowError
from ...lang import ast

__all__ = ["Bindings", "MAX_ITERATIONS", "constant_value", "integer_value", "unroll",
           "with_iteration"]

# How many copies one loop statement may make (all its iterations, nested loops
# included): a guard against a typo such as `for i in 0:10^9`.
MAX_ITERATIONS = 10_000_000

# The loop variables of one unrolled copy, outermost first: (("i", 3), ("j", 0)).
Bindings = tuple[tuple[str, int], ...]

# A number, or a list of numbers (an array constant), or `None` when unknown.
Value = Any


def constant_value(node: ast.Expr, lookup: Callable[[str], Value]) -> Value:
    """The number of a constant expression (numbers, the names `lookup` knows, `+ - *
    / ^`, brackets, array literals), or `None` where it is not one (a call, a name
    `lookup` does not know): the builder then says what is wrong with it."""
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Name):
        return lookup(node.id)
    if isinstance(node, ast.UnaryOp) and node.op in "+-":
        value = constant_value(node.operand, lookup)
        if not isinstance(value, (int, float)):
            return None
        return -value if node.op == "-" else value
    if isinstance(node, ast.BinaryOp):
        a = constant_value(node.left, lookup)
        b = constant_value(node.right, lookup)
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return None
        try:
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if node.op == "/":
                whole = isinstance(a, int) and isinstance(b, int) and b != 0 and a % b == 0
                return a // b if whole else a / b
            if node.op == "^":
                if isinstance(a, int) and isinstance(b, int) and 0 <= b <= 64:
                    return a ** b
                return float(a) ** float(b)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return None
    if isinstance(node, ast.ArrayLiteral):
        items = [constant_value(x, lookup) for x in node.items]
        return None if any(not isinstance(x, (int, float)) for x in items) else items
    if isinstance(node, ast.Subscript) and not isinstance(node.index, ast.Slice):
        array = constant_value(node.target, lookup)
        index = constant_value(node.index, lookup)
        if isinstance(array, list) and isinstance(index, int) and -len(array) <= index \
                < len(array):
            return array[index]
    return None


def integer_value(node: ast.Expr, lookup: Callable[[str], Value], what: str) -> int:
    """The integer of a constant expression, or an error at `node` that says `what`
    it is (`"the start of the loop over i"`) and what it may use."""
    value = constant_value(node, lookup)
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = "" if value is None or isinstance(value, list) else f" (it is {value:g})"
        raise SymflowError(
            f"{what} must be an integer constant expression{shown}", node.span,
            help="use whole numbers, constants (`constants n = 10`) and loop variables, "
                 "with + - * /")
    return value


def with_iteration(error: SymflowError, bindings: Bindings) -> SymflowError:
    """`error` with the loop variables of the copy it was found in, `(at i = 3)`."""
    if not bindings:
        return error
    where = ", ".join(f"{name} = {value}" for name, value in bindings)
    return SymflowError(f"{error.message} (at {where})", error.span, help=error.help,
                        notes=error.notes)


def unroll(statements: tuple | list, lookup: Callable[[str], Value], *,
           taken: Mapping[str, str]) -> Iterator[tuple[Any, Bindings]]:
    """The statements with every `ForLoop` replaced by its copies, in order, each with
    the loop variables it was made under.

    `lookup` gives the numbers of constants; `taken` maps the names a loop variable
    may not shadow (parameters, variables, components, ...) to what they are.
    """
    yield from _unroll(statements, lookup, taken, ())


def _unroll(statements, lookup, taken, bindings: Bindings):
    for stmt in statements:
        if not isinstance(stmt, ast.ForLoop):
            yield stmt, bindings
            continue
        outer = dict(bindings)
        if stmt.variable in outer:
            raise SymflowError(
                f"loop variable '{stmt.variable}' is already the variable of an enclosing "
                "loop", stmt.variable_span, help="give the inner loop another name (j, k)")
        if stmt.variable in taken or stmt.variable in ("t", "pi", "e"):
            what = taken.get(stmt.variable, "a built-in name")
            raise SymflowError(
                f"loop variable '{stmt.variable}' shadows the {what} '{stmt.variable}'",
                stmt.variable_span, help="give the loop variable a name of its own (i, j, k)")

        def known(name: str, outer: dict[str, int] = outer) -> Value:
            return outer[name] if name in outer else lookup(name)

        try:
            start = integer_value(stmt.start, known,
                                  f"the start of the loop over {stmt.variable}")
            stop = integer_value(stmt.stop, known, f"the end of the loop over {stmt.variable}")
        except SymflowError as e:
            raise with_iteration(e, bindings) from None
        if start < 0:
            raise with_iteration(SymflowError(
                f"the loop over {stmt.variable} starts at {start}: a range starts at 0 or "
                "later", stmt.start.span,
                help="indices are 0-based; `for i in 0:n` runs over 0, ..., n-1"), bindings)
        if stop < start:
            raise with_iteration(SymflowError(
                f"the loop over {stmt.variable} ends ({stop}) before it starts ({start})",
                stmt.stop.span,
                help="`for i in a:b` runs over a, ..., b-1 and needs a <= b"), bindings)
        if stop - start > MAX_ITERATIONS:
            raise SymflowError(f"the loop over {stmt.variable} is too long", stmt.span,
                               help=f"at most {MAX_ITERATIONS:,} iterations")
        for k in range(start, stop):
            body = tuple(_substitute(s, stmt.variable, k) for s in stmt.body)
            yield from _unroll(body, lookup, taken, bindings + ((stmt.variable, k),))


def _substitute(node: Any, variable: str, value: int) -> Any:
    """`node` with the name `variable` replaced by the number `value` (at its span)."""

    def replace(n: Any) -> Any:
        if isinstance(n, ast.Name) and n.id == variable:
            return ast.Number(value, n.span)
        return n

    return ast.transform(node, replace)


def unrolled_model(model: ast.Model) -> ast.Model:
    """`model` with the loops of its `equations` unrolled (a model without components:
    loops over the elements of its array variables), constants from its own
    `constants` section."""
    if not any(isinstance(i, ast.ForLoop) for s in model.sections
               if s.kind in ("equations", "connections") for i in s.items):
        return model
    values: dict[str, Value] = {}
    for d in model.items("constants"):
        values[d.name] = constant_value(d.value, values.get)
    taken = {d.name: kind for kind, section in (("parameter", "parameters"),
                                                ("constant", "constants"),
                                                ("variable", "variables"),
                                                ("observed output", "observed"))
             for d in model.items(section)}
    sections = []
    for s in model.sections:
        if s.kind in ("equations", "connections"):
            items = tuple(stmt for stmt, _ in unroll(s.items, values.get, taken=taken))
            s = dataclasses.replace(s, items=items)
        sections.append(s)
    return dataclasses.replace(model, sections=tuple(sections))
