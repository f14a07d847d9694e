"""The name table of one model being built, and the state the build steps share.

Every build step (declarations, expressions, equations, fields, closures, SDE
terms) takes the `Scope` explicitly: it holds what the model has declared so
far (`names`), what it declares anywhere (`declared`, for "used before it is
declared"), the numbers of its constants and parameters, its domain and fields,
Brownian motions and closures. Built-in names live here too, since declaring
one is an error.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from typing import Any

import sympy as sp

from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import Ceiling, Floor
from ..system import Brownian, Closure, Dimension

__all__ = ["BUILTINS", "BUILTIN_CONSTANTS", "MAX_DEPTH", "MAX_LENGTH", "RESERVED", "TIME",
           "Entry", "Scope"]


TIME = sp.Symbol("t", real=True)

# name -> (number of arguments or None for 2 and more, constructor)
BUILTINS: dict[str, tuple[int | None, Callable[..., sp.Expr]]] = {
    "sin": (1, sp.sin), "cos": (1, sp.cos), "tan": (1, sp.tan),
    "asin": (1, sp.asin), "acos": (1, sp.acos), "atan": (1, sp.atan),
    "atan2": (2, sp.atan2),
    "sec": (1, sp.sec), "csc": (1, sp.csc), "cot": (1, sp.cot),
    "sinh": (1, sp.sinh), "cosh": (1, sp.cosh), "tanh": (1, sp.tanh),
    "sech": (1, sp.sech), "csch": (1, sp.csch), "coth": (1, sp.coth),
    "asinh": (1, sp.asinh), "acosh": (1, sp.acosh), "atanh": (1, sp.atanh),
    "exp": (1, sp.exp), "log": (1, sp.log), "sqrt": (1, sp.sqrt),
    "abs": (1, sp.Abs), "sign": (1, sp.sign),
    # step functions: derivative 0 (almost everywhere; nodes/special.py)
    "floor": (1, Floor), "ceiling": (1, Ceiling), "ceil": (1, Ceiling),
    "min": (None, sp.Min), "max": (None, sp.Max),
}
BUILTIN_CONSTANTS = {"pi": sp.pi, "e": sp.E}
RESERVED = {"t", *BUILTIN_CONSTANTS, *BUILTINS, "der", "sum", "dot", "grad", "pre"}

# Limits that keep absurd input from exhausting memory, the stack or Python's
# parser of the generated source (which refuses about 200 nested brackets).
MAX_LENGTH = 10_000_000  # elements of an array variable
MAX_DEPTH = 100  # nesting of an expression; a chain `a + b - c + ...` counts once


@dataclasses.dataclass
class Entry:
    """What a declared name stands for."""

    kind: str  # parameter | constant | input | variable | function | observed | coordinate | ...
    span: Span
    symbol: Any = None  # a Symbol, or the expression a name stands for (closure outputs)
    shape: tuple[int, ...] = ()
    node: Any = None  # the FunctionDef of a function


class Scope:
    """The names of one model as its build goes on (see the module docstring).

    `dotted`: whether dotted names (`r.p.v`, made by flattening components) may
    be declared.
    """

    def __init__(self, program: ast.Program, model: ast.Model, *, dotted: bool = False):
        self.program = program
        self.model = model
        self.dotted = dotted
        self.names: dict[str, Entry] = {}
        self.inlining: list[str] = []  # user functions being inlined, for cycles
        self.values: dict[sp.Symbol, float] = {}  # numbers of constants and parameters
        self.ready_observed: set[str] = set()  # observed outputs defined so far
        self.dimensions: tuple[Dimension, ...] = ()  # the PDE domain
        self.field_coordinates: dict[str, tuple[str, ...]] = {}
        self.brownians: list[Brownian] = []
        self.closures: list[Closure] = []  # in declaration order
        self.discrete: set[str] = set()  # discrete states (changed only by events)
        self.high_derivatives: list[Span] = []  # diff(u, x, 3 or 4): need scheme = spectral
        # Every name the model declares, in any section: (kind, span) of the first.
        self.declared: dict[str, tuple[str, Span]] = {}
        for kind, section in (("constant", "constants"), ("parameter", "parameters"),
                              ("input", "inputs"), ("function", "functions"),
                              ("variable", "variables"), ("observed", "observed")):
            for item in model.items(section):
                self.declared.setdefault(item.name, (kind, item.name_span))
        for item in model.items("compartments"):
            self.declared.setdefault(item.name, ("compartment", item.name_span))
        for item in model.items("species"):
            self.declared.setdefault(item.name, ("species", item.name_span))
        for item in model.items("brownian"):
            self.declared.setdefault(item.name, ("brownian", item.span))
        for item in model.items("closures"):
            for out in item.outputs:
                self.declared.setdefault(out, ("closure", item.span))

    def declare(self, name: str, kind: str, span: Span, **extra: Any) -> Entry:
        """Enter `name` in the table; a second declaration or a built-in name is an error."""
        if self.dotted and "." in name:
            if name in self.names:
                raise SymflowError(f"'{name}' is declared twice", span)
            return self.enter(name, Entry(kind, span, **extra))
        if name in self.names:
            first = self.names[name]
            raise SymflowError(
                f"'{name}' is declared twice", span,
                notes=((first.span, f"'{name}' was first declared here, as a {first.kind}"),),
                help="give each parameter, variable, function and output its own name",
            )
        if name in RESERVED or "." in name:
            what = "the time" if name == "t" else "a built-in name"
            raise SymflowError(
                f"'{name}' cannot be declared: it is {what}" if "." not in name
                else f"'{name}': dotted names are for components", span)
        return self.enter(name, Entry(kind, span, **extra))

    def enter(self, name: str, entry: Entry) -> Entry:
        """Enter `name` without checks (names the build makes itself, like `der(x)`)."""
        self.names[name] = entry
        return entry

    def resolve(self, node: ast.Name) -> Entry:
        """The entry of a used name; an undeclared one is an error with a suggestion."""
        entry = self.names.get(node.id)
        if entry is None and (node.id == "dt" or any(
                node.id == "d" + b.name for b in self.brownians)):
            raise SymflowError(
                f"'{node.id}' may only appear on the right side of a d(...) equation",
                node.span, help="write the SDE as `d(x) = drift*dt + diffusion*dW`")
        if entry is None and node.id.startswith("d") and node.id[1:] in self.names \
                and self.names[node.id[1:]].kind == "variable":
            x = node.id[1:]
            raise SymflowError(f"undeclared name '{node.id}'", node.span,
                               help=f"the time derivative of {x} is written der({x}): "
                                    f"der({x}) = ...")
        if entry is None:
            candidates = [n for n in self.names] + ["t", "pi", "e"]
            close = difflib.get_close_matches(node.id, candidates, n=1)
            raise SymflowError(
                f"undeclared name '{node.id}'", node.span,
                help=(f"did you mean '{close[0]}'?" if close else
                      "declare it under parameters, constants or variables")
                + ("" if close or not self.closures else
                   "; a learned term is an output of a closure: `(U1, U2) = mlp(x, y)`"))
        return entry

    def kind_of(self, name: str) -> str:
        """The kind of a declared name, or `""`."""
        entry = self.names.get(name)
        return "" if entry is None else entry.kind

    def shapes(self) -> dict[Any, tuple[int, ...]]:
        """The shape of every declared symbol (for `shape_of`)."""
        return {e.symbol: e.shape for e in self.names.values() if e.symbol is not None}
