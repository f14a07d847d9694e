"""Expressions: one AST expression to a SymPy expression and its shape, with every check.

Nothing here parses text: every SymPy object is made by calling a SymPy
constructor on AST nodes (numbers become `sympy.Integer`/`sympy.Float` from
Python numbers, names become `sympy.Symbol`), so model text never reaches
`sympify`, `eval` or `exec`.

`build_expression(scope, node, ...)` is the entry; `constant_number`,
`constant_integer` and `index_range` evaluate what must be a number at build
time. Calls (built-ins, user functions, `diff`) are built in `calls.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import sympy as sp

from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import Element, Part, Stack, broadcast_shapes
from . import calls
from .scope import BUILTIN_CONSTANTS, MAX_DEPTH, MAX_LENGTH, TIME, Scope

__all__ = ["ExprBuilder", "Local", "build_expression", "constant_integer", "constant_number",
           "index_range", "is_condition", "number"]


# Names bound in a function body, `dt`, ...: read only, so any mapping of narrower shapes.
Local = Mapping[str, tuple[sp.Expr, tuple[int, ...]]]


def build_expression(scope: Scope, node: ast.Expr, *, allowed: tuple[str, ...],
                     context: str, local: Local | None = None
                     ) -> tuple[sp.Expr, tuple[int, ...]]:
    """Build the SymPy expression of `node` and its shape.

    `allowed` names the kinds of names it may use (`constant`, `parameter`,
    `variable`, `function`, `observed`, `coordinate`, `closure`); `context` says
    what it is, for errors ("the value of parameter 'k'"); `local` binds names
    to expressions (function arguments, `dt` and `dW` of a d(...) equation).
    """
    _check_depth(node)
    try:
        expr, shape = ExprBuilder(scope, allowed, context, local or {}).build(node)
    except RecursionError:
        raise SymflowError(
            "this expression is nested too deeply", node.span,
            help="split it into smaller parts (observed outputs or algebraic "
                 "variables), or check for functions that call each other") from None
    if is_condition(expr):
        raise SymflowError("expected a value, not a condition", node.span,
                           help="a comparison, `and`, `or` or `not` can only "
                                "follow `if`")
    _check_numbers(scope, expr, node)
    if _depth(expr) > _MAX_SYMPY_DEPTH:
        raise SymflowError("this expression is nested too deeply", node.span,
                           help="split it into smaller parts (observed outputs or "
                                "algebraic variables)")
    return expr, shape


def number(expr: sp.Expr, values: dict, span: Span | None) -> float:
    """The float of `expr` with `values` put in; an error at `span` if it is none."""
    try:
        value = float(expr.xreplace(values))
    except (TypeError, ValueError):
        raise SymflowError("this value is not a real number", span) from None
    if not math.isfinite(value):
        raise SymflowError(f"this value is not finite ({value})", span)
    return value


def constant_number(scope: Scope, node: ast.Expr, what: str) -> float:
    """The number of an expression of numbers and constants (`what` names it in errors)."""
    expr, shape = build_expression(scope, node, allowed=("constant",), context=what)
    if shape:
        raise SymflowError(f"{what} must be a scalar", node.span)
    return number(expr, scope.values, node.span)


def constant_integer(scope: Scope, node: ast.Expr, what: str) -> int:
    """`constant_number`, which must be a whole number."""
    value = constant_number(scope, node, what)
    if value != int(value):
        raise SymflowError(f"{what} must be a whole number, not {value:g}", node.span)
    return int(value)


def index_range(scope: Scope, node: ast.Subscript, size: int) -> tuple[int, int]:
    """The elements `(start, stop)` an index or slice of an array of `size` picks."""
    name = node.target.id if isinstance(node.target, ast.Name) else "the array"
    if isinstance(node.index, ast.Slice):
        start = 0 if node.index.start is None else constant_integer(
            scope, node.index.start, "a slice start")
        stop = size if node.index.stop is None else constant_integer(
            scope, node.index.stop, "a slice end")
        start = start + size if start < 0 else start
        stop = stop + size if stop < 0 else stop
        if not 0 <= start < stop <= size:
            raise SymflowError(
                f"the slice is empty or outside {name}[0:{size}]", node.index.span)
        return start, stop
    i = constant_integer(scope, node.index, "an index")
    i = i + size if i < 0 else i
    if not 0 <= i < size:
        raise SymflowError(f"index out of range: {name} has {size} elements "
                           f"(0 to {size - 1})", node.index.span)
    return i, i + 1


def _check_numbers(scope: Scope, expr: sp.Expr, node: ast.Expr) -> None:
    """Refuse a value that is undefined, infinite, too large for a float or not
    real, also once the constants are folded in (as the passes will)."""
    _check_atoms(expr.atoms(), node, "")
    constants = {s: _as_number(scope.values[s]) for s in expr.free_symbols
                 if s in scope.values and scope.names[s.name].kind == "constant"}
    if not constants:
        return  # every number was checked as it was built (`checked`)
    try:
        # Floats, so that no exact power can take forever; numbers with them
        # evaluate at once, but `pi^c` needs evalf.
        folded = expr.xreplace(constants)
        atoms = folded.atoms()
        if any(isinstance(a, sp.NumberSymbol) for a in atoms):
            atoms = folded.evalf().atoms()
    except (TypeError, ValueError, ArithmeticError):
        return
    _check_atoms(atoms, node, " once the constants are put in")


def _as_number(value: float | sp.Basic) -> sp.Expr:
    """A constant's number as SymPy (an array constant is already a `Stack`)."""
    return value if isinstance(value, sp.Basic) else sp.Float(value)


def _check_atoms(atoms, node: ast.Expr, after: str) -> None:
    for atom in atoms:
        if isinstance(atom, _UNDEFINED):
            raise SymflowError(f"this expression is undefined or infinite{after}",
                               node.span, help="look for a division by zero or log(0)")
        if atom is sp.I:
            raise SymflowError(f"this value is not a real number{after}", node.span,
                               help="look for the square root or the log of a negative "
                                    "number")
        if atom.is_Number:
            try:
                finite = math.isfinite(float(atom))
            except OverflowError:
                finite = False
            if not finite:
                raise SymflowError(
                    f"this expression holds a number too large for a float{after}",
                    node.span, help="numbers are 64-bit floats: at most about 1.8e308")


_UNDEFINED = (sp.core.numbers.ComplexInfinity, sp.core.numbers.NaN,
              sp.core.numbers.Infinity, sp.core.numbers.NegativeInfinity)


def is_condition(expr) -> bool:
    """A comparison, `and`, `or`, `not`, true or false (a SymPy Symbol is a
    Boolean too, but also a value)."""
    return isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Expr)


def _check_depth(root) -> None:
    """Refuse an expression nested more than MAX_DEPTH deep (without recursion).

    The left operand of `+ - * /` continues its chain at the same depth: a long
    sum `a + b + c + ...` is flat, as the builder handles it; the value of a
    keyword argument is as deep as the keyword.
    """
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SymflowError(
                "this expression is nested too deeply", node.span,
                help=f"at most {MAX_DEPTH} levels of brackets, calls and operators; "
                     "split it into smaller parts (observed outputs or algebraic variables)")
        if isinstance(node, ast.BinaryOp) and node.op in _CHAIN_OPS:
            stack.append((node.left, depth))
            stack.append((node.right, depth + 1))
        else:
            below = depth if isinstance(node, ast.Keyword) else depth + 1
            stack.extend((child, below) for child in ast.children(node))


def _depth(expr: sp.Basic) -> int:
    """How deeply a SymPy expression nests (without recursion)."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        e, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((a, depth + 1) for a in e.args)
    return deepest


_CHAIN_OPS = frozenset("+-*/")
_MAX_SYMPY_DEPTH = 2 * MAX_DEPTH


class ExprBuilder:
    """Turns one AST expression into SymPy, checking names, calls and shapes."""

    def __init__(self, scope: Scope, allowed: tuple[str, ...], context: str, local: Local,
                 *, boundary: dict | None = None):
        self.scope = scope
        self.allowed = allowed
        self.context = context
        self.local = local
        # in a boundary condition: {"field", "coordinate", "slope"} (see fields.py)
        self.boundary = boundary

    def build(self, node) -> tuple[sp.Expr, tuple[int, ...]]:
        """The expression of `node` (a value or a condition) and its shape."""
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    def inner(self, context: str, local: Local) -> "ExprBuilder":
        """A builder of the same kinds for the body of a function (`local`: its arguments)."""
        return ExprBuilder(self.scope, self.allowed, context, local)

    def constant_integer(self, node: ast.Expr, what: str) -> int:
        return constant_integer(self.scope, node, what)

    def _Call(self, node: ast.Call):
        return calls.build_call(self, node)

    def scalar(self, node, what: str) -> sp.Expr:
        expr, shape = self.value(node)
        if shape:
            raise SymflowError(f"{what} must be a scalar, not an array of {shape[0]}",
                               node.span)
        return expr

    def broadcast(self, shapes, span) -> tuple[int, ...]:
        try:
            return broadcast_shapes(list(shapes))
        except ValueError as e:
            raise SymflowError(f"element-wise operation on {e}", span) from None

    def _Number(self, node: ast.Number):
        try:
            finite = math.isfinite(float(node.value))
        except OverflowError:
            finite = False
        if not finite:
            raise SymflowError("this number is too large", node.span,
                               help="numbers are 64-bit floats: at most about 1.8e308")
        if isinstance(node.value, int):
            return sp.Integer(node.value), ()
        return sp.Float(node.value), ()

    def _Name(self, node: ast.Name):
        if node.id in self.local:
            return self.local[node.id]
        if node.id == "t":
            return self._time(node)
        if node.id in BUILTIN_CONSTANTS and node.id not in self.scope.names:
            return BUILTIN_CONSTANTS[node.id], ()
        if node.id not in self.scope.names and node.id in self.scope.declared:
            kind, where = self.scope.declared[node.id]
            if not self.allows(kind):
                raise SymflowError(
                    f"{self.context} cannot use the {kind} '{node.id}'", node.span,
                    help=self.allowed_help())
            raise SymflowError(
                f"'{node.id}' is used before it is declared", node.span,
                notes=((where, f"'{node.id}' is declared here"),),
                help="a value may only use the names declared above it")
        entry = self.scope.resolve(node)
        if entry.kind == "function":
            raise SymflowError(f"'{node.id}' is a function: call it with arguments",
                               node.span)
        if not self.allows(entry.kind):
            raise SymflowError(
                f"{self.context} cannot use the {entry.kind} '{node.id}'", node.span,
                help=self.allowed_help())
        if entry.kind == "observed" and node.id not in self.scope.ready_observed:
            raise SymflowError(f"observed output '{node.id}' is used before it is defined",
                               node.span)
        return entry.symbol, entry.shape

    def allows(self, kind: str) -> bool:
        """Whether a name of this kind may be used here: an input (a function of
        time) wherever variables, which depend on time, may be."""
        return kind in self.allowed or (kind == "input" and "variable" in self.allowed)

    def allowed_help(self) -> str:
        kinds = ["numbers"] + [k + "s" for k in self.allowed if k != "function"]
        return "it may use " + ", ".join(kinds[:-1]) + " and " + kinds[-1]

    def _time(self, node):
        if "variable" not in self.allowed:
            raise SymflowError(f"{self.context} cannot depend on the time t", node.span,
                               help=self.allowed_help())
        return TIME, ()

    def _BinaryOp(self, node: ast.BinaryOp):
        # A chain `a + b - c * d ...` is a left-leaning tree as deep as it is long:
        # walk down its left side in a loop rather than recursing.
        chain: list[ast.BinaryOp] = []
        leftmost: ast.Expr = node
        while isinstance(leftmost, ast.BinaryOp) and leftmost.op in _CHAIN_OPS:
            chain.append(leftmost)
            leftmost = leftmost.left
        if not chain:  # a power
            a, sa = self.value(node.left)
            b, sb = self.value(node.right)
            shape = self.broadcast((sa, sb), node.span)
            return self.checked(self._binary(node, a, b), node), shape
        a, sa = self.value(leftmost)
        # Terms of a sum, and factors of a product, are collected and combined at
        # once (one by one costs SymPy time quadratic in their number).
        terms, last = [a], chain[-1]
        factors: list[sp.Expr] = []
        for link in reversed(chain):
            b, sb = self.value(link.right)
            sa = self.broadcast((sa, sb), link.span)
            if link.op in "+-":
                if factors:
                    terms, factors = [self.checked(sp.Mul(*factors), last)], []
                terms.append(b if link.op == "+" else -b)
                last = link
                continue
            if not factors:
                factors = [self.checked(sp.Add(*terms), last) if len(terms) > 1 else terms[0]]
            if len(factors) == 1 and factors[0].is_number:  # a number so far: checked now
                factors = [self.checked(self._binary(link, factors[0], b), link)]
            elif link.op == "/" and b.is_zero:
                raise SymflowError("division by zero", link.right.span)
            else:
                factors.append(b if link.op == "*" else 1 / b)
            last = link
        if factors:
            return self.checked(sp.Mul(*factors), last), sa
        return (self.checked(sp.Add(*terms), last) if len(terms) > 1 else terms[0]), sa

    def _binary(self, node: ast.BinaryOp, a, b):
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        if node.op == "/":
            if b.is_zero:
                raise SymflowError("division by zero", node.right.span)
            return a / b
        if a.is_Number and b.is_Number and not a.is_zero and not b.is_zero:
            # Exact powers of numbers are computed exactly: refuse the huge ones
            # before SymPy spends hours on 9^9^9; flush the tiny ones to zero.
            base, exponent = abs(float(a)), float(b)
            if base == 0.0:  # too small for a float, but not zero
                magnitude = -math.inf if exponent > 0 else math.inf
            else:
                magnitude = exponent * math.log10(base)
            if magnitude > 308:
                raise SymflowError("this number is too large", node.span,
                                   help="numbers are 64-bit floats: at most about 1.8e308")
            if magnitude < -330:
                return sp.Float(0)
        return a ** b

    def value(self, node) -> tuple[sp.Expr, tuple[int, ...]]:
        """Build `node`, which must be a value, not a condition."""
        expr, shape = self.build(node)
        if is_condition(expr):
            raise SymflowError("expected a value, not a condition", node.span,
                               help="a comparison, `and`, `or` or `not` can only "
                                    "follow `if`")
        return expr, shape

    def checked(self, expr, node):
        """`expr`, the value of `node`, unless it is a number that is undefined,
        infinite, too large for a float, or not real."""
        if not expr.is_number:
            return expr
        if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise SymflowError("this expression is undefined or infinite", node.span,
                               help="look for a division by zero or log(0)")
        if not expr.is_Number:
            if expr.is_extended_real is False:
                raise SymflowError("this value is not a real number", node.span,
                                   help="look for the square root or the log of a negative "
                                        "number, or asin/acos outside [-1, 1]")
            approximate = expr.evalf()  # pi^1e308 stays symbolic, but overflows a float
        else:
            approximate = expr
        if approximate.is_Number:
            try:
                finite = math.isfinite(float(approximate))
            except OverflowError:
                finite = False
            if not finite:
                raise SymflowError("this number is too large", node.span,
                                   help="numbers are 64-bit floats: at most about 1.8e308")
        return expr

    def _UnaryOp(self, node: ast.UnaryOp):
        if node.op == "not":
            a, shape = self.build(node.operand)
            return sp.Not(self._boolean(a, node.operand)), shape
        a, shape = self.value(node.operand)
        return (-a if node.op == "-" else a), shape

    def _boolean(self, expr, node):
        if not is_condition(expr):
            raise SymflowError("expected a condition (a comparison, `and`, `or`, `not`)",
                               node.span)
        return expr

    def _Compare(self, node: ast.Compare):
        a, sa = self.value(node.left)
        b, sb = self.value(node.right)
        shape = self.broadcast((sa, sb), node.span)
        op = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan,
              ">=": sp.GreaterThan, "==": sp.Eq, "!=": sp.Ne}[node.op]
        return op(a, b), shape

    def _BoolOp(self, node: ast.BoolOp):
        a, sa = self.build(node.left)
        b, sb = self.build(node.right)
        shape = self.broadcast((sa, sb), node.span)
        a, b = self._boolean(a, node.left), self._boolean(b, node.right)
        return (sp.And(a, b) if node.op == "and" else sp.Or(a, b)), shape

    def _IfThenElse(self, node: ast.IfThenElse):
        c, sc = self.build(node.condition)
        c = self._boolean(c, node.condition)
        a, sa = self.build(node.then)
        b, sb = self.build(node.otherwise)
        for value, part in ((a, node.then), (b, node.otherwise)):
            if is_condition(value):
                raise SymflowError("expected a value, not a condition", part.span)
        shape = self.broadcast((sc, sa, sb), node.span)
        return sp.Piecewise((a, c), (b, True)), shape

    def _ArrayLiteral(self, node: ast.ArrayLiteral):
        items = [self.scalar(x, "an element of an array literal") for x in node.items]
        if len(items) > MAX_LENGTH:
            raise SymflowError("this array literal is too long", node.span)
        return Stack(*items), (len(items),)

    def _Member(self, node: ast.Member):
        # `r[i].p` is resolved by flattening where `r` is an array of components
        raise SymflowError("only an element of an array of components has members (r[i].p)",
                           node.span, help="declare an array of components with "
                                           "`r[n]: Resistor(...)` under components")

    def _Subscript(self, node: ast.Subscript):
        target, shape = self.value(node.target)
        if not shape:
            raise SymflowError("a scalar cannot be indexed", node.target.span)
        start, stop = index_range(self.scope, node, shape[0])
        if isinstance(node.index, ast.Slice):
            if (start, stop) == (0, shape[0]):
                return target, shape
            return Part(target, sp.Integer(start), sp.Integer(stop)), (stop - start,)
        return Element(target, sp.Integer(start)), ()

