"""The abstract syntax tree of a model file: immutable nodes carrying source spans.

The tree says what was written, not what it means: `der(x) = ...` is an
`Equation` whose left side is a `Call` of `der`. Meaning is given by
`symflow.symbolic`.

`children(node)`, `walk(node)` (pre-order) and `transform(node, fn)` (a rebuilding
map, top down) go over any node generically (see `_walk.py`): write a walk with
them rather than by hand, case by node type.
"""

from __future__ import annotations

import dataclasses
from typing import Union

from ..errors import Span
from ._walk import children as children
from ._walk import is_node as is_node
from ._walk import transform as transform
from ._walk import walk as walk

# ---------------------------------------------------------------- expressions


@dataclasses.dataclass(frozen=True)
class Number:
    value: float | int
    span: Span


@dataclasses.dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclasses.dataclass(frozen=True)
class Keyword:
    """A `name = value` argument of a call, as in `mlp(x, width = 32)`."""

    name: str
    value: "Expr"
    span: Span


@dataclasses.dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    keywords: tuple[Keyword, ...]
    span: Span
    func_span: Span


@dataclasses.dataclass(frozen=True)
class BinaryOp:
    """`op` is one of `+ - * / ^` (`**` is written `^` here)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclasses.dataclass(frozen=True)
class UnaryOp:
    """`op` is `-`, `+` or `not`."""

    op: str
    operand: "Expr"
    span: Span


@dataclasses.dataclass(frozen=True)
class Compare:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclasses.dataclass(frozen=True)
class BoolOp:
    """`op` is `and` or `or`."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclasses.dataclass(frozen=True)
class IfThenElse:
    condition: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: Span


@dataclasses.dataclass(frozen=True)
class Slice:
    """`start:stop` inside brackets; either end may be missing."""

    start: "Expr | None"
    stop: "Expr | None"
    span: Span


@dataclasses.dataclass(frozen=True)
class Subscript:
    """`target[index]`, where index is an expression or a `Slice`."""

    target: "Expr"
    index: "Expr | Slice"
    span: Span


@dataclasses.dataclass(frozen=True)
class ArrayLiteral:
    items: tuple["Expr", ...]
    span: Span


@dataclasses.dataclass(frozen=True)
class Member:
    """`target.name` after an index: `r[3].p.v` is `Member(Subscript(r, 3), "p.v")`, a
    port or variable of one element of an array of components (`name` may be dotted).
    Flattening resolves it to the flat name `r[3].p.v`."""

    target: "Expr"
    name: str
    span: Span


Expr = Union[
    Number, Name, Call, BinaryOp, UnaryOp, Compare, BoolOp, IfThenElse, Subscript,
    ArrayLiteral, Member,
]


# ---------------------------------------------------------------- statements


@dataclasses.dataclass(frozen=True)
class Declaration:
    """A parameter or constant: `name = value [in [lo, hi]] ["doc"]`."""

    name: str
    value: Expr
    bounds: tuple[Expr, Expr] | None
    doc: str | None
    span: Span
    name_span: Span
    # the length of an array parameter whose value is one number for every element
    # (made by flattening an array of components: `r[n]: Resistor` gives `r.R`)
    size: "Expr | None" = None


@dataclasses.dataclass(frozen=True)
class Variable:
    """A variable declaration.

    `size` is set for an array `x[n]`, `coordinates` for a field `u(x, y)`,
    `distribution` for a random initial value `x ~ normal(0, 1)`; `initial` is
    `None` when no initial value is given.
    """

    name: str
    initial: Expr | None
    size: Expr | None
    coordinates: tuple[str, ...] | None
    distribution: Call | None
    doc: str | None
    span: Span
    name_span: Span


@dataclasses.dataclass(frozen=True)
class FunctionDef:
    name: str
    params: tuple[str, ...]
    body: Expr
    span: Span
    name_span: Span


@dataclasses.dataclass(frozen=True)
class Equation:
    lhs: Expr
    rhs: Expr
    span: Span


@dataclasses.dataclass(frozen=True)
class ForLoop:
    """`for i in start:stop ... end` in `equations` or `connections`: its statements
    once for each integer i with start <= i < stop (the range of the slice
    `x[start:stop]`). `body` holds `Equation`s (or connection expressions) and nested
    loops; the builder unrolls it (`symbolic/builder/loops.py`)."""

    variable: str
    start: Expr
    stop: Expr
    body: tuple
    span: Span
    variable_span: Span


@dataclasses.dataclass(frozen=True)
class Observed:
    name: str
    value: Expr
    doc: str | None
    span: Span
    name_span: Span


@dataclasses.dataclass(frozen=True)
class NoiseDef:
    """A `fit` entry: the noise model of an observable, `x ~ normal(sigma = s_x)`."""

    name: str
    distribution: Call
    doc: str | None
    span: Span
    name_span: Span


@dataclasses.dataclass(frozen=True)
class Setting:
    """A `simulate` entry: `name = value`."""

    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclasses.dataclass(frozen=True)
class Option:
    name: str
    value: Expr | None
    span: Span


@dataclasses.dataclass(frozen=True)
class Dimension:
    """A `domain` line: `x in [a, b], points = n[, periodic]`."""

    name: str
    lower: Expr
    upper: Expr
    options: tuple[Option, ...]
    span: Span


@dataclasses.dataclass(frozen=True)
class BoundaryCondition:
    """`lhs = rhs at coordinate = value`."""

    lhs: Expr
    rhs: Expr
    coordinate: str
    at: Expr
    span: Span


@dataclasses.dataclass(frozen=True)
class Brownian:
    name: str
    coordinates: tuple[str, ...] | None
    span: Span


@dataclasses.dataclass(frozen=True)
class Closure:
    outputs: tuple[str, ...]
    call: Call
    span: Span


@dataclasses.dataclass(frozen=True)
class Component:
    """`name: Type(modifiers)` in `components`, or `name: Connector` in `ports`.

    `size` is set for an array of components, `name[size]: Type(modifiers)`."""

    name: str
    type: str
    modifiers: tuple[Keyword | Expr, ...]
    span: Span
    size: Expr | None = None


@dataclasses.dataclass(frozen=True)
class Reset:
    """An affect of an event: `name = value`; `pre(x)` in `value` is x just before
    the event's instant."""

    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclasses.dataclass(frozen=True)
class Terminate:
    """The affect `terminate`: the solve stops at the event."""

    span: Span


@dataclasses.dataclass(frozen=True)
class InputOption:
    """An option of an `inputs` line: `name = "text"` (`quoted`) or `name = word`."""

    name: str
    value: str
    quoted: bool
    span: Span


@dataclasses.dataclass(frozen=True)
class Event:
    """A line of an `events` section.

    `kind == "when"`: `condition` is the comparison whose crossing fires it;
    `"at"`: fires at `times`; `"every"`: at `start + k*period` up to `stop`. For the
    last two, `condition` is the optional `if` check made at those times.
    """

    kind: str
    condition: Expr | None
    times: tuple[Expr, ...]
    period: Expr | None
    start: Expr | None
    stop: Expr | None
    affects: tuple[Reset | Terminate, ...]
    span: Span
    time_name: Name | None = None  # `at t = ...`: the name written before `=`


@dataclasses.dataclass(frozen=True)
class Input:
    """An `inputs` line: `name = table("file.csv", option = value, ...) ["doc"]`.

    `function` is the word before the bracket (`table`); `file` the text of the
    string, without quotes.
    """

    name: str
    function: str
    file: str
    options: tuple[InputOption, ...]
    doc: str | None
    span: Span
    name_span: Span
    function_span: Span
    file_span: Span


@dataclasses.dataclass(frozen=True)
class Species:
    """A `species` line: `name = initial [in compartment][, option ...] ["doc"]`.

    `options` are the words after the commas (`amount`, `boundary`, `constant`),
    each with its span.
    """

    name: str
    initial: Expr
    compartment: str | None
    options: tuple[tuple[str, Span], ...]
    doc: str | None
    span: Span
    name_span: Span
    compartment_span: Span | None = None


@dataclasses.dataclass(frozen=True)
class Participant:
    """One term of a reaction side: `coefficient` times `species` (`2 A`)."""

    species: str
    coefficient: float | int
    span: Span


@dataclasses.dataclass(frozen=True)
class Reaction:
    """A `reactions` line: `[name:] left ARROW right, rate [, reverse] [in c] ["doc"]`.

    `arrow` is `->` (mass action), `<->` (reversible mass action), `=>` (the rate
    as written) or `<=>` (reversible, both rates as written). An empty side
    (`0`) is an empty tuple; `name` is `None` when no label is written.
    """

    name: str | None
    reactants: tuple[Participant, ...]
    products: tuple[Participant, ...]
    arrow: str
    rate: Expr
    reverse: Expr | None
    compartment: str | None
    doc: str | None
    span: Span
    arrow_span: Span
    name_span: Span | None = None
    compartment_span: Span | None = None


@dataclasses.dataclass(frozen=True)
class Import:
    target: str
    is_file: bool
    span: Span


@dataclasses.dataclass(frozen=True)
class Extends:
    base: str
    span: Span


@dataclasses.dataclass(frozen=True)
class Section:
    """A section of a model: `kind` is its keyword (`parameters`, `equations`, ...)."""

    kind: str
    items: tuple
    span: Span


@dataclasses.dataclass(frozen=True)
class ConnectorVar:
    kind: str  # "potential" or "flow"
    name: str
    span: Span


@dataclasses.dataclass(frozen=True)
class Connector:
    name: str
    variables: tuple[ConnectorVar, ...]
    span: Span


@dataclasses.dataclass(frozen=True)
class Model:
    name: str
    sections: tuple[Section, ...]
    imports: tuple[Import, ...]
    extends: tuple[Extends, ...]
    span: Span

    def items(self, kind: str) -> tuple:
        """All items of every section of this kind, in file order."""
        return tuple(item for s in self.sections if s.kind == kind for item in s.items)

    def section_spans(self, kind: str) -> tuple[Span, ...]:
        return tuple(s.span for s in self.sections if s.kind == kind)


@dataclasses.dataclass(frozen=True)
class Program:
    """A whole model file."""

    file: str
    source: str
    models: tuple[Model, ...]
    connectors: tuple[Connector, ...]
    imports: tuple[Import, ...]
