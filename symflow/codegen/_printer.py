"""SymPy expression to `jnp` source text.

Built on SymPy's JAX printer; adds symflow's array nodes, prints floats with
every digit (SymPy's default keeps 15), keeps integer powers as `x**2` (which
XLA turns into multiplications), and maps every model symbol to its mangled
Python name, so no name from a model file is ever printed as written.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.printing.numpy import JaxPrinter

from ..symbolic import (
    ArrayExtreme,
    ArraySum,
    Concat,
    Coordinate,
    Diff,
    Dot,
    Element,
    Fill,
    Part,
    Shift,
    Sigmoid,
    SoftmaxWeight,
    Stack,
    TableInput,
    shape_of,
)

__all__ = ["JnpPrinter"]

_RUN = 100  # the most terms of a sum printed as one flat run


class JnpPrinter(JaxPrinter):
    """Prints expressions as `jnp` code over mangled names.

    **Arguments:**

    - `names`: the Python name of every symbol the expressions may contain.
    - `shapes`: the shapes of array-valued symbols.
    """

    def __init__(self, names: Mapping[sp.Symbol, str],
                 shapes: Mapping[sp.Symbol, tuple[int, ...]]):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.names = dict(names)
        self.shapes = dict(shapes)

    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        return "jnp." + text[len("jax.numpy."):] if text.startswith("jax.numpy.") else text

    # ------------------------------------------------------------ atoms

    def _print_Symbol(self, expr):
        try:
            return self.names[expr]
        except KeyError:
            raise KeyError(f"codegen: no Python name for symbol {expr}") from None

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return repr(float(int(expr)))

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Half(self, expr):
        return "0.5"

    def _print_Exp1(self, expr):
        return "jnp.e"

    def _print_Pi(self, expr):
        return "jnp.pi"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
        if exponent == sp.S.Half:
            return f"jnp.sqrt({self._print(base)})"
        if exponent == -sp.S.Half:
            return f"(1.0/jnp.sqrt({self._print(base)}))"
        if exponent == -1:
            return f"(1.0/{b})"
        if exponent.is_Integer:
            return f"{b}**{int(exponent)}"
        return f"{b}**{self.parenthesize(exponent, sp.printing.precedence.PRECEDENCE['Pow'])}"

    # Reciprocal hyperbolic functions as 1/cosh etc. (SymPy's own printing rewrites
    # them with exponentials, which overflow to inf/inf = nan for large arguments).
    def _print_sech(self, expr):
        return f"(1.0/jnp.cosh({self._print(expr.args[0])}))"

    def _print_csch(self, expr):
        return f"(1.0/jnp.sinh({self._print(expr.args[0])}))"

    def _print_coth(self, expr):
        return f"(1.0/jnp.tanh({self._print(expr.args[0])}))"

    # The language's step functions (symbolic derivative 0; jnp's gradient is 0 too).
    def _print_Floor(self, expr):
        return f"jnp.floor({self._print(expr.args[0])})"

    def _print_Ceiling(self, expr):
        return f"jnp.ceil({self._print(expr.args[0])})"

    # ------------------------------------------------------------ stable ratios

    def _print_Sigmoid(self, expr: Sigmoid):
        return f"jax.nn.sigmoid({self._print(expr.args[0])})"

    def _print_SoftmaxWeight(self, expr: SoftmaxWeight):
        k, *b = expr.args
        items = ", ".join(f"jnp.asarray({self._print(a)}, dtype=float)" for a in b)
        return f"jax.nn.softmax(jnp.stack([{items}]), axis=0)[{int(k)}]"

    def _print_TableInput(self, expr: TableInput):
        """An input read from a table: its values are `p[name]`, its knots a module
        constant (codegen/_inputs.py)."""
        order = f", {expr.order}" if expr.order else ""
        if expr.kind == "cubic":  # its curvatures, if a solve computed them (_inputs.py)
            order += f", curvatures=p.get({expr.name + ':curvatures'!r})"
        return (f"interpolate({expr.kind!r}, {expr.extrapolation!r}, "
                f"INPUT_KNOTS[{expr.name!r}], p[{expr.name!r}], {self._print(expr.time)}"
                f"{order})")

    # ------------------------------------------------------------ logic

    def _print_Piecewise(self, expr):
        *branches, (last, last_cond) = expr.args
        out = self._print(last) if last_cond == sp.true else (
            f"jnp.where({self._print(last_cond)}, {self._print(last)}, jnp.nan)")
        for value, cond in reversed(branches):
            out = f"jnp.where({self._print(cond)}, {self._print(value)}, {out})"
        return out

    def _print_Relational(self, expr):
        op = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}[expr.rel_op]
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return self._fold("jnp.logical_and", expr.args)

    def _print_Or(self, expr):
        return self._fold("jnp.logical_or", expr.args)

    def _print_Not(self, expr):
        return f"jnp.logical_not({self._print(expr.args[0])})"

    def _print_Min(self, expr):
        return self._fold("jnp.minimum", expr.args)

    def _print_Max(self, expr):
        return self._fold("jnp.maximum", expr.args)

    def _fold(self, func: str, args) -> str:
        """`func` (associative, of two arguments) over `args` as a balanced tree:
        `max` of thousands of terms must not nest thousands of calls deep."""
        if len(args) == 1:
            return self._print(args[0])
        half = len(args) // 2
        return f"{func}({self._fold(func, args[:half])}, {self._fold(func, args[half:])})"

    # ------------------------------------------------------------ long sums

    def _print_Add(self, expr, order=None):
        """A sum of more than `_RUN` terms printed as a balanced tree of runs,
        `(a + b + ...) + (c + d + ...)`: Python's compiler nests a run `a + b + c`
        one level per term, and gives up (RecursionError) past a few thousand."""
        if len(expr.args) <= _RUN:
            return super()._print_Add(expr, order=order)
        terms = self._as_ordered_terms(expr, order=order)
        flat = super()._print_Add  # (no zero-argument super() inside a comprehension)
        return _balanced([flat(sp.Add(*terms[i:i + _RUN], evaluate=False), order="none")
                          for i in range(0, len(terms), _RUN)], "+")

    def _print_Mul(self, expr):
        """A product of more than `_RUN` factors, as a sum (`_print_Add`)."""
        if len(expr.args) <= _RUN:
            return super()._print_Mul(expr)
        factors = list(expr.args)
        flat = super()._print_Mul
        return _balanced([flat(sp.Mul(*factors[i:i + _RUN], evaluate=False))
                          for i in range(0, len(factors), _RUN)], "*")

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    # ------------------------------------------------------------ arrays

    def _print_Element(self, expr: Element):
        return f"{self._atom(expr.args[0])}[{int(expr.args[1])}]"

    def _print_Part(self, expr: Part):
        return f"{self._atom(expr.args[0])}[{int(expr.args[1])}:{int(expr.args[2])}]"

    def _print_ArraySum(self, expr: ArraySum):
        return f"jnp.sum({self._print(expr.args[0])})"

    def _print_ArrayExtreme(self, expr: ArrayExtreme):
        return f"jnp.{'max' if expr.args[1] else 'min'}({self._print(expr.args[0])})"

    def _print_Dot(self, expr: Dot):
        return f"jnp.dot({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Stack(self, expr: Stack):
        if all(a.is_number for a in expr.args):
            numbers = ", ".join(repr(float(a)) for a in expr.args)
            return f"jnp.array([{numbers}], dtype=float)"
        items = ", ".join(f"jnp.asarray({self._print(a)}, dtype=float)" for a in expr.args)
        return f"jnp.stack([{items}])"

    def _print_Fill(self, expr: Fill):
        return f"jnp.full(({int(expr.args[1])},), {self._print(expr.args[0])}, dtype=float)"

    def _print_Concat(self, expr: Concat):
        parts = []
        for length, piece in expr.pieces():
            code = self._print(piece)
            if shape_of(piece, self.shapes) == ():
                code = f"jnp.reshape({code}, (1,))"
            parts.append(code)
        return f"jnp.concatenate([{', '.join(parts)}])"

    def _print_Dummy(self, expr):  # the unknowns of an algebraic loop
        return self._print_Symbol(expr)

    def _print_NewtonSolve(self, expr) -> str:
        """An algebraic loop: `newton_solve(lambda _u: residuals, guess)[k]`."""
        k, unknowns, residuals_, guess = expr.args
        inner = JnpPrinter({**self.names, **{u: f"_u[{i}]" for i, u in
                                             enumerate(unknowns)}}, self.shapes)
        residuals = ", ".join(inner.doprint(r) for r in residuals_)
        guesses = ", ".join(self.doprint(g) for g in guess)
        return (f"newton_solve(lambda _u: jnp.stack([{residuals}]), "
                f"jnp.stack([{guesses}]))[{int(k)}]")

    def _print_Coordinate(self, expr: Coordinate):
        lo, hi, n, periodic = float(expr.args[0]), float(expr.args[1]), int(expr.args[2]), \
            bool(expr.args[3])
        if periodic:
            return f"({lo!r} + {(hi - lo) / n!r}*jnp.arange({n}, dtype=float))"
        return f"jnp.linspace({lo!r}, {hi!r}, {n})"

    def _print_Shift(self, expr: Shift):
        return f"jnp.roll({self._print(expr.args[0])}, {-int(expr.args[1])})"

    def _print_Diff(self, expr: Diff):
        raise ValueError("codegen: a space derivative is left; run the discretization pass")

    def _atom(self, expr) -> str:
        code = self._print(expr)
        return code if isinstance(expr, sp.Symbol) else f"({code})"


def _balanced(parts: list[str], op: str) -> str:
    """`parts` joined by `op` as a balanced tree of parenthesized pairs."""
    while len(parts) > 1:
        parts = [f"({parts[i]}) {op} ({parts[i + 1]})" if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]
