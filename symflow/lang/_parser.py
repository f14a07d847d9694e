"""Model text to AST: parsing with the grammar's parser (`_grammar.py`), and the
Transformer that builds the AST nodes.

Lark's exceptions never escape: each is
turned into a `SymflowError` that names the file, line and column and says what
was expected there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lark
from lark import Token, v_args
from lark.visitors import Transformer_NonRecursive

from ..errors import Span, SymflowError
from . import ast
from ._grammar import grammar_parser
from ._syntax_errors import syntax_error

__all__ = ["parse"]


def parse(source: str, file: str = "<string>") -> ast.Program:
    """Parse model text into an `ast.Program`, or raise a `SymflowError`."""
    if source.startswith("\ufeff"):  # a byte-order mark, as some Windows editors write
        source = source[1:]
    if not source.endswith("\n"):
        source += "\n"
    try:
        tree = grammar_parser().parse(source)
    except lark.exceptions.UnexpectedInput as e:
        raise syntax_error(e, source, file) from None
    try:
        return _ToAst(file, source).transform(tree)
    except lark.exceptions.VisitError as e:  # a check made while building a node
        if isinstance(e.orig_exc, SymflowError):
            raise e.orig_exc from None
        raise


def _unquote(token: Token | None) -> str | None:
    return None if token is None else str(token)[1:-1]


def _section(kind: str) -> Callable[..., ast.Section]:
    """The `_ToAst` method for a section `kind`: its items, flattened, in order."""
    def build(self: _ToAst, meta: Any, keyword: Token, *items: Any) -> ast.Section:
        flat: list[Any] = []
        for item in items:
            flat.extend(item if isinstance(item, tuple) else (item,))
        return ast.Section(kind, tuple(flat), self._span(meta))
    return build


@v_args(meta=True, inline=True)
class _ToAst(Transformer_NonRecursive):
    """Builds frozen AST nodes; gives no meaning to anything.

    Non-recursive, so that a long chain `a + b + c + ...` (a tree as deep as it
    is long) cannot exhaust Python's stack.
    """

    def __init__(self, file: str, source: str):
        super().__init__()
        self.file = file
        self.source = source

    def _span(self, meta) -> Span:
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column,
                    self.source)

    def _statement_span(self, meta, *children) -> Span:
        # A statement's meta also covers its newline; end it at its last child.
        last = next((c for c in reversed(children) if hasattr(c, "span")), None)
        if isinstance(last, tuple) and last and hasattr(last[-1], "span"):
            last = last[-1]
        end = last.span if last is not None else self._span(meta)
        return Span(self.file, meta.line, meta.column, end.end_line, end.end_column,
                    self.source)

    def _token_span(self, token: Token) -> Span:
        # A lexed token has its position (Lark's fields are Optional for tokens
        # made by hand).
        line, column = token.line, token.column
        end_line, end_column = token.end_line, token.end_column
        assert line is not None and column is not None
        assert end_line is not None and end_column is not None
        return Span(self.file, line, column, end_line, end_column, self.source)

    # ------------------------------------------------------------ expressions

    def number(self, meta, token):
        text = str(token)
        # A whole number too long to be a float stays a float (inf), which the
        # builder reports; int() would refuse more than 4300 digits.
        value = int(text) if text.isdigit() and len(text) <= 400 else float(text)
        return ast.Number(value, self._span(meta))

    def name(self, meta, token):
        return ast.Name(str(token), self._span(meta))

    def call(self, meta, name, arguments):
        args = tuple(a for a in (arguments or ()) if not isinstance(a, ast.Keyword))
        keywords = tuple(a for a in (arguments or ()) if isinstance(a, ast.Keyword))
        return ast.Call(str(name), args, keywords, self._span(meta), self._token_span(name))

    def arguments(self, meta, *items):
        return tuple(items)

    def keyword(self, meta, name, value):
        return ast.Keyword(str(name), value, self._span(meta))

    def binary(self, meta, left, op, right):
        symbol = "^" if str(op) == "**" else str(op)
        return ast.BinaryOp(symbol, left, right, self._span(meta))

    def unary(self, meta, op, operand):
        return ast.UnaryOp(str(op), operand, self._span(meta))

    def not_(self, meta, operand):
        return ast.UnaryOp("not", operand, self._span(meta))

    def and_(self, meta, left, right):
        return ast.BoolOp("and", left, right, self._span(meta))

    def or_(self, meta, left, right):
        return ast.BoolOp("or", left, right, self._span(meta))

    def compare(self, meta, left, op, right):
        return ast.Compare(str(op), left, right, self._span(meta))

    def if_then_else(self, meta, condition, then, otherwise):
        return ast.IfThenElse(condition, then, otherwise, self._span(meta))

    def array(self, meta, *items):
        return ast.ArrayLiteral(tuple(items), self._span(meta))

    def subscript(self, meta, target, index):
        return ast.Subscript(target, index, self._span(meta))

    def member(self, meta, target, index, member):
        subscript = ast.Subscript(target, index, Span(
            self.file, meta.line, meta.column, member.line, member.column, self.source))
        return ast.Member(subscript, str(member)[1:], self._span(meta))

    def index(self, meta, expr):
        return expr

    def slice(self, meta, start, stop):
        return ast.Slice(start, stop, self._span(meta))

    def name_list(self, meta, *names):
        return tuple(str(n) for n in names)

    # ------------------------------------------------------------ statements

    def doc(self, meta, token):
        return _unquote(token)

    def bounds(self, meta, lower, upper):
        return (lower, upper)

    def declaration(self, meta, name, value, bounds=None, doc=None):
        if isinstance(bounds, str):  # `name = value "doc"` with no bounds
            bounds, doc = None, bounds
        return ast.Declaration(str(name), value, bounds, doc,
                               self._statement_span(meta, value, *(bounds or ())),
                               self._token_span(name))

    def _variable(self, meta, name, initial, *, size=None, coordinates=None,
                  distribution=None, doc=None):
        span = self._statement_span(meta, name, size, initial, distribution)
        return ast.Variable(str(name), initial, size, coordinates, distribution, doc,
                            span, self._token_span(name))

    def scalar_variable(self, meta, name, initial, doc=None):
        return self._variable(meta, name, initial, doc=doc)

    def array_variable(self, meta, name, size, initial, doc=None):
        return self._variable(meta, name, initial, size=size, doc=doc)

    def field_variable(self, meta, name, coordinates, initial, doc=None):
        return self._variable(meta, name, initial, coordinates=coordinates, doc=doc)

    def random_variable(self, meta, name, dist, arguments, doc=None):
        args = tuple(a for a in (arguments or ()) if not isinstance(a, ast.Keyword))
        keywords = tuple(a for a in (arguments or ()) if isinstance(a, ast.Keyword))
        call = ast.Call(str(dist), args, keywords, self._span(meta), self._token_span(dist))
        return self._variable(meta, name, None, distribution=call, doc=doc)

    def noise_def(self, meta, name, index, dist, arguments, doc=None):
        args = tuple(a for a in (arguments or ()) if not isinstance(a, ast.Keyword))
        keywords = tuple(a for a in (arguments or ()) if isinstance(a, ast.Keyword))
        call = ast.Call(str(dist), args, keywords, self._span(meta), self._token_span(dist))
        if index is not None and not str(index).isdigit():
            raise SymflowError(f"an element is named by a whole number: {name}[{index}]",
                               self._token_span(index))
        observable = str(name) if index is None else f"{name}[{int(index)}]"
        return ast.NoiseDef(observable, call, doc, self._span(meta), self._token_span(name))

    def bare_variable(self, meta, name, doc=None):
        return self._variable(meta, name, None, doc=doc)

    def function_def(self, meta, name, params, body):
        return ast.FunctionDef(str(name), tuple(params or ()), body,
                               self._statement_span(meta, body),
                               self._token_span(name))

    def connection(self, meta, expr):
        return expr

    def _for_loop(self, meta, variable, start, stop, body) -> ast.ForLoop:
        header = Span(self.file, meta.line, meta.column, stop.span.end_line,
                      stop.span.end_column, self.source)
        return ast.ForLoop(str(variable), start, stop, tuple(body), header,
                           self._token_span(variable))

    def for_equation(self, meta, variable, start, stop, *body):
        return self._for_loop(meta, variable, start, stop, body)

    def for_connection(self, meta, variable, start, stop, *body):
        return self._for_loop(meta, variable, start, stop, body)

    def equation(self, meta, lhs, rhs):
        return ast.Equation(lhs, rhs, self._statement_span(meta, rhs))

    def observed_def(self, meta, name, value, doc=None):
        return ast.Observed(str(name), value, doc, self._statement_span(meta, value),
                            self._token_span(name))

    def setting(self, meta, name, value):
        return ast.Setting(str(name), value, self._statement_span(meta, value),
                           self._token_span(name))

    def option(self, meta, name, value=None):
        return ast.Option(str(name), value, self._span(meta))

    def dimension(self, meta, name, lower, upper, *options):
        return ast.Dimension(str(name), lower, upper, tuple(options),
                             self._statement_span(meta, upper, *options))

    def boundary_condition(self, meta, lhs, rhs, coordinate, at):
        return ast.BoundaryCondition(lhs, rhs, str(coordinate), at,
                                     self._statement_span(meta, at))

    def brownian_name(self, meta, name, coordinates=None):
        return ast.Brownian(str(name), coordinates, self._span(meta))

    def brownian_decl(self, meta, *names):
        return tuple(names)

    def closure_outputs(self, meta, names):
        return (str(names),) if isinstance(names, Token) else tuple(names)

    def closure(self, meta, outputs, func, arguments):
        args = tuple(a for a in (arguments or ()) if not isinstance(a, ast.Keyword))
        keywords = tuple(a for a in (arguments or ()) if isinstance(a, ast.Keyword))
        call = ast.Call(str(func), args, keywords, self._token_span(func), self._token_span(func))
        return ast.Closure(tuple(outputs), call, self._span(meta))

    def component(self, meta, name, size, type_, arguments=None):
        return ast.Component(str(name), str(type_), tuple(arguments or ()), self._span(meta),
                             size)

    def port(self, meta, name, type_):
        return ast.Component(str(name), str(type_), (), self._span(meta))

    def input_option(self, meta, name, value):
        quoted = value.type == "STRING"
        text = _unquote(value) if quoted else str(value)
        assert text is not None
        return ast.InputOption(str(name), text, quoted, self._span(meta))

    def input_def(self, meta, name, function, file, *rest):
        doc = rest[-1] if rest and isinstance(rest[-1], str) else None
        options = tuple(r for r in rest if isinstance(r, ast.InputOption))
        text = _unquote(file)
        assert text is not None
        last = options[-1].span if options else self._token_span(file)
        # the span ends at the closing bracket (a token the tree does not keep)
        line = self.source.splitlines()[last.end_line - 1]
        close = line.find(")", last.end_column - 1)
        end = close + 2 if close >= 0 else last.end_column
        span = Span(self.file, meta.line, meta.column, last.end_line, end, self.source)
        return ast.Input(str(name), str(function), text, options, doc, span,
                         self._token_span(name), self._token_span(function),
                         self._token_span(file))

    def import_stmt(self, meta, target):
        is_file = target.type == "STRING"
        name = _unquote(target) if is_file else str(target)
        return ast.Import(name, is_file, self._span(meta))

    def extends_stmt(self, meta, base):
        return ast.Extends(str(base), self._span(meta))

    def connector_var(self, meta, kind, name):
        return ast.ConnectorVar(str(kind), str(name), self._span(meta))

    def connector(self, meta, name, *variables):
        return ast.Connector(str(name), tuple(variables), self._span(meta))

    def affects(self, meta, *items):
        return tuple(items)

    def reset(self, meta, name, value):
        return ast.Reset(str(name), value, self._span(meta), self._token_span(name))

    def terminate(self, meta):
        return ast.Terminate(self._span(meta))

    def when_event(self, meta, condition, affects):
        return ast.Event("when", condition, (), None, None, None, affects,
                         self._statement_span(meta, *affects))

    def at_event(self, meta, name, *rest):
        *times, condition, affects = rest
        return ast.Event("at", condition, tuple(times), None, None, None, affects,
                         self._statement_span(meta, *affects),
                         ast.Name(str(name), self._token_span(name)))

    def every_event(self, meta, period, start, stop, condition, affects):
        return ast.Event("every", condition, (), period, start, stop, affects,
                         self._statement_span(meta, *affects))

    def species_def(self, meta, name, initial, compartment, *rest):
        doc = rest[-1] if rest and isinstance(rest[-1], str) else None
        options = tuple((str(o), self._token_span(o)) for o in rest if isinstance(o, Token))
        last = options[-1][1] if options else (
            self._token_span(compartment) if compartment is not None else initial.span)
        span = Span(self.file, meta.line, meta.column, last.end_line, last.end_column,
                    self.source)
        return ast.Species(str(name), initial, None if compartment is None else str(compartment),
                           options, doc, span, self._token_span(name),
                           None if compartment is None else self._token_span(compartment))

    def participant(self, meta, coefficient, name):
        value: float | int = 1
        if coefficient is not None:
            text = str(coefficient)
            value = int(text) if text.isdigit() else float(text)
        return ast.Participant(str(name), value, self._span(meta))

    def empty_side(self, meta, number):
        if float(str(number)) != 0:
            raise SymflowError(
                f"a reaction side cannot be the number {number}", self._token_span(number),
                help="write species (`2 A + B`), or 0 for no species (`0 -> A`)")
        return None

    def reaction_side(self, meta, *items):
        participants = []
        for item in items:
            if isinstance(item, Token):  # the operator between two participants
                if str(item) != "+":
                    raise SymflowError(
                        f"species on a side of a reaction are joined by '+', not '{item}'",
                        self._token_span(item), help="write `A + B -> C, k`")
                continue
            participants.append(item)
        if None in participants and len(participants) > 1:
            raise SymflowError("0 (no species) cannot be added to species", self._span(meta),
                               help="write `0 -> A` for a source, `A -> 0` for a sink")
        return tuple(p for p in participants if p is not None)

    def reaction(self, meta, name, reactants, arrow, products, rate, reverse, compartment,
                 doc=None):
        end = (self._token_span(compartment) if compartment is not None
               else (reverse if reverse is not None else rate).span)
        span = Span(self.file, meta.line, meta.column, end.end_line, end.end_column,
                    self.source)
        return ast.Reaction(
            None if name is None else str(name), reactants, products, str(arrow), rate,
            reverse, None if compartment is None else str(compartment), doc, span,
            self._token_span(arrow), None if name is None else self._token_span(name),
            None if compartment is None else self._token_span(compartment))

    parameters = _section("parameters")
    constants = _section("constants")
    variables = _section("variables")
    functions = _section("functions")
    equations = _section("equations")
    observed = _section("observed")
    simulate = _section("simulate")
    domain = _section("domain")
    boundary = _section("boundary")
    brownian = _section("brownian")
    closures = _section("closures")
    components = _section("components")
    ports = _section("ports")
    connections = _section("connections")
    discrete = _section("discrete")
    events = _section("events")
    inputs = _section("inputs")
    compartments = _section("compartments")
    species = _section("species")
    reactions = _section("reactions")
    fit = _section("fit")

    def model(self, meta, name, *items):
        sections = tuple(i for i in items if isinstance(i, ast.Section))
        imports = tuple(i for i in items if isinstance(i, ast.Import))
        extends = tuple(i for i in items if isinstance(i, ast.Extends))
        return ast.Model(str(name), sections, imports, extends, self._span(meta))

    def start(self, meta, *units):
        return ast.Program(
            self.file,
            self.source,
            tuple(u for u in units if isinstance(u, ast.Model)),
            tuple(u for u in units if isinstance(u, ast.Connector)),
            tuple(u for u in units if isinstance(u, ast.Import)),
        )
