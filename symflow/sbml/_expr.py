"""A small expression tree between libsbml's MathML AST and symflow model text.

The importer translates every `libsbml.ASTNode` into these frozen nodes first
(`_mathml.py`), so that substitution (local parameters, reaction ids, initial
values), numeric evaluation (an event's trigger at the start) and printing are
plain Python on plain data, and no model text is ever evaluated.

Names in the tree are SBML ids; the printer maps them to the model's names.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

from ..errors import SymflowError

__all__ = ["Expr", "Num", "Sym", "Time", "Call", "Op", "Cmp", "Logic", "If", "Pre",
           "symbols", "substitute", "negate", "fold", "evaluate", "to_text"]


@dataclasses.dataclass(frozen=True)
class Num:
    """A number."""

    value: float


@dataclasses.dataclass(frozen=True)
class Sym:
    """A reference to an SBML id (species, parameter, compartment, reaction, argument)."""

    name: str


@dataclasses.dataclass(frozen=True)
class Time:
    """The csymbol time: `t`."""


@dataclasses.dataclass(frozen=True)
class Call:
    """A call of a built-in function of the language or of a model function (`func` is
    the SBML id of a function definition when `user`)."""

    func: str
    args: tuple[Expr, ...]
    user: bool = False


@dataclasses.dataclass(frozen=True)
class Op:
    """Arithmetic: `+` and `*` n-ary, `-`, `/` and `^` binary, `neg` unary."""

    op: str
    args: tuple[Expr, ...]


@dataclasses.dataclass(frozen=True)
class Cmp:
    """A comparison `a op b`, op one of `< <= > >= == !=`."""

    op: str
    left: Expr
    right: Expr


@dataclasses.dataclass(frozen=True)
class Logic:
    """`and`, `or` (n-ary) and `not` (unary)."""

    op: str
    args: tuple[Expr, ...]


@dataclasses.dataclass(frozen=True)
class If:
    """`if cond then a else b`."""

    cond: Expr
    then: Expr
    other: Expr


@dataclasses.dataclass(frozen=True)
class Pre:
    """`pre(x)`: a state's value just before an event's instant."""

    name: str


Expr = Num | Sym | Time | Call | Op | Cmp | Logic | If | Pre


def _children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, (Call, Op, Logic)):
        return e.args
    if isinstance(e, Cmp):
        return (e.left, e.right)
    if isinstance(e, If):
        return (e.cond, e.then, e.other)
    return ()


def symbols(e: Expr) -> set[str]:
    """The SBML ids an expression refers to (not the functions it calls)."""
    if isinstance(e, Sym):
        return {e.name}
    if isinstance(e, Pre):
        return {e.name}
    out: set[str] = set()
    for c in _children(e):
        out |= symbols(c)
    return out


def called(e: Expr) -> set[str]:
    """The model functions an expression calls."""
    out = {e.func} if isinstance(e, Call) and e.user else set()
    for c in _children(e):
        out |= called(c)
    return out


def substitute(e: Expr, f: Callable[[Expr], Expr | None]) -> Expr:
    """`e` rebuilt from the top: where `f(node)` gives a replacement, that replaces the
    node (and is not visited again); elsewhere the node's children are visited."""
    new = f(e)
    if new is not None:
        return new
    if isinstance(e, Call):
        return Call(e.func, tuple(substitute(a, f) for a in e.args), e.user)
    if isinstance(e, Op):
        return Op(e.op, tuple(substitute(a, f) for a in e.args))
    if isinstance(e, Logic):
        return Logic(e.op, tuple(substitute(a, f) for a in e.args))
    if isinstance(e, Cmp):
        return Cmp(e.op, substitute(e.left, f), substitute(e.right, f))
    if isinstance(e, If):
        return If(substitute(e.cond, f), substitute(e.then, f), substitute(e.other, f))
    return e


def rename(e: Expr, table: Mapping[str, Expr]) -> Expr:
    """`e` with each `Sym` named in `table` replaced by its expression."""
    return substitute(e, lambda n: table.get(n.name) if isinstance(n, Sym) else None)


def negate(e: Expr) -> Expr:
    """`-e`, written simply: `-(-x)` is `x`, `-(a + b)` is `-a - b`, `-(2*x)` is `-2*x`."""
    if isinstance(e, Num):
        return Num(-e.value)
    if isinstance(e, Op):
        if e.op == "neg":
            return e.args[0]
        if e.op == "+":
            return Op("+", tuple(negate(a) for a in e.args))
        if e.op == "-":
            return Op("-", (e.args[1], e.args[0]))
        if e.op == "*" and isinstance(e.args[0], Num):
            factor = -e.args[0].value
            rest = e.args[1:]
            if factor == 1.0:
                return rest[0] if len(rest) == 1 else Op("*", rest)
            return Op("*", (Num(factor), *rest))
    return Op("neg", (e,))


def fold(e: Expr) -> Expr:
    """`e` with arithmetic on numbers alone done (`2*0.5` is `1`): declared values read
    better, and the language would compute the same number."""
    if isinstance(e, Op):
        args = tuple(fold(a) for a in e.args)
        if e.op in ("*", "/") and args[0] == Num(0.0):
            return Num(0.0)  # 0*x and 0/x, x finite wherever the model is defined
        if all(isinstance(a, Num) for a in args):
            try:
                value = evaluate(Op(e.op, args), {})
            except (ArithmeticError, ValueError):
                return Op(e.op, args)
            if math.isfinite(value):
                return Num(value)
        return Op(e.op, args)
    if isinstance(e, (Call, Logic, Cmp, If)):
        return substitute(e, lambda n: fold(n) if n is not e and isinstance(n, Op) else None)
    return e


# ------------------------------------------------------------------ evaluation

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh,
    "cosh": math.cosh, "tanh": math.tanh, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "abs": abs, "sign": lambda x: float((x > 0) - (x < 0)),
    "min": min, "max": max, "pi": lambda: math.pi, "e": lambda: math.e,
    "floor": math.floor, "ceiling": math.ceil,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def evaluate(e: Expr, values: Mapping[str, float], *, time: float = 0.0,
             functions: Mapping[str, tuple[tuple[str, ...], Expr]] | None = None) -> float:
    """The value of `e` with numbers for its names (a condition gives 1.0 or 0.0).

    Raises `KeyError` for a name without a value and `ArithmeticError`/`ValueError` for
    an undefined value: the callers treat both as "not known at import time".
    """
    def ev(n: Expr) -> float:
        if isinstance(n, Num):
            return n.value
        if isinstance(n, (Sym, Pre)):
            return float(values[n.name])
        if isinstance(n, Time):
            return time
        if isinstance(n, Call):
            args = [ev(a) for a in n.args]
            if n.user:
                params, body = (functions or {})[n.func]
                return evaluate(body, dict(zip(params, args)), time=time, functions=functions)
            return float(_FUNCTIONS[n.func](*args))
        if isinstance(n, Op):
            a = [ev(x) for x in n.args]
            if n.op == "+":
                return math.fsum(a)
            if n.op == "*":
                return math.prod(a)
            if n.op == "neg":
                return -a[0]
            if n.op == "-":
                return a[0] - a[1]
            if n.op == "/":
                return a[0] / a[1]
            return float(a[0] ** a[1])
        if isinstance(n, Cmp):
            return float(_COMPARE[n.op](ev(n.left), ev(n.right)))
        if isinstance(n, Logic):
            b = [bool(ev(x)) for x in n.args]
            return float(all(b) if n.op == "and" else any(b) if n.op == "or" else not b[0])
        if isinstance(n, If):
            return ev(n.then) if ev(n.cond) else ev(n.other)
        raise ValueError(n)

    return ev(e)


# ------------------------------------------------------------------- printing

# Binding strength, loosest first: `if` < or < and < not < comparison < + - < * /
# < unary minus < ^ < atoms (the language binds ^ tighter than unary minus).
_IF, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _POW, _ATOM = range(10)


def number_text(value: float) -> str:
    """A float as the language reads it back exactly: `2`, `0.5`, `1.5e-07`."""
    if not math.isfinite(value):
        raise SymflowError(f"the SBML model holds the number {value}, which a symflow model "
                           "cannot (numbers must be finite)")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def to_text(e: Expr, name: Callable[[str], str]) -> str:
    """Model text for `e`, with the fewest parentheses that keep its meaning; `name`
    maps an SBML id to the model's name (functions included)."""
    return _print(e, name)[0]


def _wrap(part: tuple[str, int], least: int) -> str:
    text, strength = part
    return f"({text})" if strength < least else text


def _print(e: Expr, name: Callable[[str], str]) -> tuple[str, int]:
    """Long because each kind of node is one short case of the printer."""
    def p(x: Expr) -> tuple[str, int]:
        return _print(x, name)

    if isinstance(e, Num):
        if e.value < 0:
            return "-" + number_text(-e.value), _NEG
        return number_text(e.value), _ATOM
    if isinstance(e, Sym):
        return name(e.name), _ATOM
    if isinstance(e, Pre):
        return f"pre({name(e.name)})", _ATOM
    if isinstance(e, Time):
        return "t", _ATOM
    if isinstance(e, Call):
        func = name(e.func) if e.user else e.func
        if not e.args and not e.user:
            return func, _ATOM  # the constants pi and e
        return f"{func}({', '.join(p(a)[0] for a in e.args)})", _ATOM
    if isinstance(e, Op):
        if e.op == "neg":
            return "-" + _wrap(p(e.args[0]), _NEG + 1), _NEG
        if e.op == "+":
            out = _wrap(p(e.args[0]), _ADD)
            for a in e.args[1:]:
                if isinstance(a, Op) and a.op == "neg":
                    out += " - " + _wrap(p(a.args[0]), _MUL)
                elif isinstance(a, Num) and a.value < 0:
                    out += " - " + number_text(-a.value)
                else:
                    out += " + " + _wrap(p(a), _ADD + 1)
            return out, _ADD
        if e.op == "-":
            return f"{_wrap(p(e.args[0]), _ADD)} - {_wrap(p(e.args[1]), _ADD + 1)}", _ADD
        if e.op == "*":
            return "*".join(_wrap(p(a), _MUL) if i == 0 else _wrap(p(a), _POW)
                            for i, a in enumerate(e.args)), _MUL
        if e.op == "/":
            return f"{_wrap(p(e.args[0]), _MUL)}/{_wrap(p(e.args[1]), _POW)}", _MUL
        return f"{_wrap(p(e.args[0]), _ATOM)}^{_wrap(p(e.args[1]), _ATOM)}", _POW
    if isinstance(e, Cmp):
        return f"{_wrap(p(e.left), _ADD)} {e.op} {_wrap(p(e.right), _ADD)}", _CMP
    if isinstance(e, Logic):
        if e.op == "not":
            return "not " + _wrap(p(e.args[0]), _NOT), _NOT
        strength = _AND if e.op == "and" else _OR
        return f" {e.op} ".join(_wrap(p(a), strength + 1) for a in e.args), strength
    if isinstance(e, If):
        other = p(e.other)
        other_text = other[0] if isinstance(e.other, If) else _wrap(other, _OR)
        return (f"if {_wrap(p(e.cond), _OR)} then {_wrap(p(e.then), _OR)} "
                f"else {other_text}"), _IF
    raise TypeError(e)
