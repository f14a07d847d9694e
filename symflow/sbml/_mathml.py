"""libsbml's MathML AST (`libsbml.ASTNode`) to the importer's expression tree.

Each node type is translated on its own, by its libsbml type code; a construct the
language has no meaning for (`delay`, `rateOf`, `factorial`, booleans used as
numbers, ...) is refused by name with a `SymflowError`. The text of the MathML is
never evaluated (no `formulaToString` + parse).
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import SymflowError
from ._expr import Call, Cmp, Expr, If, Logic, Num, Op, Sym, Time, negate
from ._libsbml import libsbml

__all__ = ["translate", "AVOGADRO"]

# SBML Level 3's value of Avogadro's constant (the specification fixes it).
AVOGADRO = 6.02214179e23

# libsbml type name -> the language's function of one argument
_UNARY = {
    "ABS": "abs", "EXP": "exp", "LN": "log", "SIN": "sin", "COS": "cos", "TAN": "tan",
    "ARCSIN": "asin", "ARCCOS": "acos", "ARCTAN": "atan", "SINH": "sinh",
    "COSH": "cosh", "TANH": "tanh", "FLOOR": "floor", "CEILING": "ceiling",
}
# reciprocal functions: f(x) = 1/g(x), and inverse ones: f(x) = g(1/x)
_RECIPROCAL = {"SEC": "cos", "CSC": "sin", "COT": "tan", "SECH": "cosh", "CSCH": "sinh",
               "COTH": "tanh"}
_INVERSE_OF_RECIPROCAL = {"ARCSEC": "acos", "ARCCSC": "asin", "ARCCOT": "atan"}
_INVERSE_HYPERBOLIC = {k: k for k in ("ARCSINH", "ARCCOSH", "ARCTANH")}
_INVERSE_HYPERBOLIC_OF_RECIPROCAL = {"ARCSECH": "ARCCOSH", "ARCCSCH": "ARCSINH",
                                     "ARCCOTH": "ARCTANH"}
_RELATIONS = {"EQ": "==", "NEQ": "!=", "GT": ">", "LT": "<", "GEQ": ">=", "LEQ": "<="}
_REFUSED = {
    "DELAY": "the MathML csymbol delay (a delay differential equation)",
    "RATE_OF": "the MathML csymbol rateOf",
    "FACTORIAL": "the MathML function factorial",
    "REM": "the MathML function rem", "QUOTIENT": "the MathML function quotient",
}


def _type_names() -> dict[int, str]:
    """libsbml's AST type codes by name, without the `AST_` / `AST_FUNCTION_` prefix."""
    out = {}
    for attr in dir(libsbml()):
        if attr.startswith("AST_"):
            short = attr[4:]
            for prefix in ("FUNCTION_", "RELATIONAL_", "LOGICAL_", "CONSTANT_", "NAME_"):
                if short.startswith(prefix):
                    short = short[len(prefix):]
            out[getattr(libsbml(), attr)] = short
    out[getattr(libsbml(), "AST_FUNCTION")] = "USER_FUNCTION"
    out[getattr(libsbml(), "AST_NAME")] = "NAME"
    return out


_TYPES: dict[int, str] = {}


def translate(node: Any, where: str, *, condition: bool = False) -> Expr:
    """The expression of `node` (a `libsbml.ASTNode`); `where` names its place in the
    model for error messages ("the kinetic law of reaction r1"). A value is a number
    (a condition in its place is 1 where true, else 0), a `condition` a truth value (a
    number in its place is true where nonzero), as SBML Level 3 Version 2 reads them."""
    if node is None:
        raise SymflowError(f"{where} has no math", help="SBML without MathML (NoMathML) "
                           "leaves the value undefined; symflow needs every value")
    if not _TYPES:
        _TYPES.update(_type_names())
    e = _node(node, where)
    return as_condition(e) if condition else as_value(e)


def _is_condition(e: Expr) -> bool:
    if isinstance(e, If):
        return _is_condition(e.then) and _is_condition(e.other)
    return isinstance(e, (Cmp, Logic))


def as_value(e: Expr) -> Expr:
    """`e` as a number: a condition becomes `if e then 1 else 0`."""
    if isinstance(e, If) and not _is_condition(e):
        return If(e.cond, as_value(e.then), as_value(e.other))
    return If(e, Num(1.0), Num(0.0)) if _is_condition(e) else e


def as_condition(e: Expr) -> Expr:
    """`e` as a truth value: a number becomes `e != 0`."""
    if isinstance(e, If) and _is_condition(e):
        return e
    return e if _is_condition(e) else Cmp("!=", e, Num(0.0))


def _refuse(what: str, where: str) -> SymflowError:
    return SymflowError(f"{where} uses {what}, which symflow's SBML import does not support")


def _node(n: Any, where: str) -> Expr:
    """Long because it is the one dispatch over libsbml's node types."""
    kind = _TYPES.get(n.getType(), "UNKNOWN")
    args = [_node(n.getChild(i), where) for i in range(n.getNumChildren())]
    if kind in ("AND", "OR", "NOT", "XOR", "IMPLIES"):
        args = [as_condition(a) for a in args]
    elif kind == "PIECEWISE":  # piece, condition, piece, condition, ..., [otherwise]
        pieces = [i for i in range(len(args)) if i % 2 == 0 or i == len(args) - 1
                  and len(args) % 2]
        values_are_conditions = all(_is_condition(args[i]) for i in pieces)
        args = [(a if values_are_conditions else as_value(a)) if i in pieces
                else as_condition(a) for i, a in enumerate(args)]
    else:  # a model function's arguments too: its body reads them as numbers
        args = [as_value(a) for a in args]
    if kind in ("INTEGER", "REAL", "REAL_E", "RATIONAL"):
        value = float(n.getValue()) if kind != "INTEGER" else float(n.getInteger())
        if not math.isfinite(value):
            raise _refuse(f"the number {value}", where)
        return Num(value)
    if kind == "NAME":
        return Sym(n.getName())
    if kind == "TIME":
        return Time()
    if kind == "AVOGADRO":
        return Num(AVOGADRO)
    if kind == "PI":
        return Call("pi", ())
    if kind == "E":
        return Call("e", ())
    if kind in ("TRUE", "FALSE"):
        raise _refuse(f"the boolean constant {kind.lower()}", where)
    if kind == "USER_FUNCTION":
        return Call(n.getName(), tuple(args), user=True)
    if kind in _REFUSED:
        raise _refuse(_REFUSED[kind], where)
    if kind in ("PLUS", "TIMES"):
        op = "+" if kind == "PLUS" else "*"
        flat: list[Expr] = []
        for a in args:  # libsbml nests n-ary sums and products as binary ones
            flat.extend(a.args if isinstance(a, Op) and a.op == op else (a,))
        if not flat:
            return Num(0.0 if op == "+" else 1.0)
        if op == "*" and flat[0] == Num(-1.0) and len(flat) > 1:  # -1*x is -x
            return negate(Op("*", tuple(flat[1:])) if len(flat) > 2 else flat[1])
        return Op(op, tuple(flat)) if len(flat) > 1 else flat[0]
    if kind == "MINUS":
        if len(args) == 1:
            return negate(args[0])
        return Op("-", (args[0], args[1]))
    if kind == "DIVIDE":
        return Op("/", (args[0], args[1]))
    if kind in ("POWER", "FUNCTION_POWER"):
        return Op("^", (args[0], args[1]))
    if kind == "ROOT":
        degree = args[0] if len(args) == 2 else Num(2.0)
        radicand = args[-1]
        if degree == Num(2.0):
            return Call("sqrt", (radicand,))
        return Op("^", (radicand, Op("/", (Num(1.0), degree))))
    if kind == "LOG":
        base = args[0] if len(args) == 2 else Num(10.0)
        return Op("/", (Call("log", (args[-1],)), Call("log", (base,))))
    if kind in _UNARY:
        return Call(_UNARY[kind], (args[0],))
    if kind in _RECIPROCAL:
        return Op("/", (Num(1.0), Call(_RECIPROCAL[kind], (args[0],))))
    if kind in _INVERSE_OF_RECIPROCAL:
        return Call(_INVERSE_OF_RECIPROCAL[kind], (Op("/", (Num(1.0), args[0])),))
    if kind in _INVERSE_HYPERBOLIC:
        return _inverse_hyperbolic(_INVERSE_HYPERBOLIC[kind], args[0])
    if kind in _INVERSE_HYPERBOLIC_OF_RECIPROCAL:  # arcsech(x) = arccosh(1/x), ...
        return _inverse_hyperbolic(_INVERSE_HYPERBOLIC_OF_RECIPROCAL[kind],
                                   Op("/", (Num(1.0), args[0])))
    if kind in ("MAX", "MIN"):
        if len(args) == 1:
            return args[0]
        return Call(kind.lower(), tuple(args))
    if kind in _RELATIONS:
        if len(args) < 2 or (kind == "NEQ" and len(args) != 2):
            raise _refuse(f"a comparison of {len(args)} arguments ({kind.lower()})", where)
        # a chain `gt(a, b, c)` holds where each neighbouring pair does: a > b and b > c
        pairs = tuple(Cmp(_RELATIONS[kind], a, b) for a, b in zip(args, args[1:]))
        return pairs[0] if len(pairs) == 1 else Logic("and", pairs)
    if kind in ("AND", "OR"):
        if not args:
            raise _refuse(f"'{kind.lower()}' of no arguments", where)
        return Logic(kind.lower(), tuple(args)) if len(args) > 1 else args[0]
    if kind == "NOT":
        return Logic("not", (args[0],))
    if kind == "XOR":
        if not args:
            raise _refuse("xor of no arguments", where)
        out = args[0]
        for b in args[1:]:  # true where an odd number of the arguments are
            out = Logic("or", (Logic("and", (out, Logic("not", (b,)))),
                               Logic("and", (Logic("not", (out,)), b))))
        return out
    if kind == "IMPLIES":
        return Logic("or", (Logic("not", (args[0],)), args[1]))
    if kind == "PIECEWISE":
        return _piecewise(args)
    raise _refuse(f"the MathML element '{n.getName() or kind.lower()}'", where)


def _inverse_hyperbolic(kind: str, x: Expr) -> Expr:
    """arcsinh, arccosh and arctanh of `x` as logarithms."""
    if kind == "ARCSINH":  # log(x + sqrt(x^2 + 1))
        return Call("log", (Op("+", (x, Call("sqrt", (Op("+", (Op("^", (x, Num(2.0))),
                                                                   Num(1.0))),)))),))
    if kind == "ARCCOSH":  # log(x + sqrt(x^2 - 1))
        return Call("log", (Op("+", (x, Call("sqrt", (Op("-", (Op("^", (x, Num(2.0))),
                                                                   Num(1.0))),)))),))
    # ARCTANH: log((1 + x)/(1 - x))/2
    return Op("/", (Call("log", (Op("/", (Op("+", (Num(1.0), x)),
                                           Op("-", (Num(1.0), x)))),)), Num(2.0)))


def _piecewise(args: list[Expr]) -> Expr:
    """`piecewise(v1, c1, v2, c2, ..., [otherwise])` as nested `if`s. Without an
    `otherwise` SBML leaves the value undefined where no condition holds; the last
    piece's value stands in there (it is right wherever the value is defined)."""
    pieces = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
    if len(args) % 2:
        result: Expr = args[-1]
    elif pieces:
        result = pieces.pop()[0]
    else:
        raise SymflowError("an empty piecewise has no value")
    for value, cond in reversed(pieces):
        result = If(cond, value, result)
    return result
