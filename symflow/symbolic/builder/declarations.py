"""Declarations: constants, parameters, functions, variables and observed outputs.

Each section is declared in the scope in file order, so a value may only use the
names above it; numbers are computed as they are declared (`scope.values`).
"""

from __future__ import annotations

import difflib

import sympy as sp

from ...catalog import SECTIONS
from ...errors import SymflowError
from ...lang import ast
from ..nodes import Fill, Stack
from ..system import Observed, Parameter, Variable
from .expressions import build_expression, constant_integer, constant_number, number
from .fields import field_shape
from .scope import MAX_LENGTH, Scope

__all__ = ["declare_functions", "observed", "parameters", "variables"]


def parameters(scope: Scope, nodes, *, constant: bool) -> list[Parameter]:
    """The `constants` (`constant=True`) or `parameters` section, declared in order:
    each value may use the numbers and names above it.

    A parameter may be an array: its value an array literal `[1, 2, 3]` (or another
    array parameter), or, for the array parameters that flattening makes of an array
    of components (`r.R`, with `size`), one value for every element."""
    kind = "constant" if constant else "parameter"
    out = []
    for d in nodes:
        default, shape = build_expression(
            scope, d.value, allowed=("constant", "function") if constant else (
                "constant", "parameter", "function"),
            context=f"the value of {kind} '{d.name}'")
        size = getattr(d, "size", None)
        if size is not None and not shape:
            shape = (constant_integer(scope, size, f"the length of '{d.name}'"),)
            default = Fill(default, sp.Integer(shape[0]))
        if constant and any(scope.kind_of(s.name) == "parameter" for s in default.free_symbols):
            raise SymflowError(
                f"constant '{d.name}' depends on a parameter", d.value.span,
                help="a constant may use numbers and earlier constants only")
        value: float | tuple[float, ...]
        if shape:
            value = _array_number(default, shape[0], scope.values, d.value.span)
        else:
            value = number(default, scope.values, d.value.span)
        bounds = None
        if d.bounds is not None:
            lo, hi = (constant_number(scope, b, f"a bound of '{d.name}'") for b in d.bounds)
            if not lo <= hi:
                raise SymflowError(f"the bounds of '{d.name}' are reversed",
                                   d.bounds[0].span, help=f"write in [{hi:g}, {lo:g}]")
            for x in (value if isinstance(value, tuple) else (value,)):
                if not lo <= x <= hi:
                    raise SymflowError(
                        f"the value {x:g} of '{d.name}' is outside its bounds "
                        f"[{lo:g}, {hi:g}]", d.value.span)
            bounds = (lo, hi)
        symbol = sp.Symbol(d.name, real=True)
        scope.declare(d.name, kind, d.name_span, symbol=symbol, shape=shape)
        p = Parameter(d.name, symbol, default, value, bounds, d.doc, d.span, constant,
                      shape=shape)
        out.append(p)
        scope.values[symbol] = (Stack(*(sp.Float(x) for x in value))
                                if isinstance(value, tuple) else value)
    return out


def _array_number(default: sp.Expr, n: int, values: dict, span) -> tuple[float, ...]:
    """The numbers of an array parameter's value (an array literal, one value for every
    element, or another array parameter)."""
    expr = default.xreplace(values)
    if isinstance(expr, Fill):
        return (number(expr.args[0], {}, span),) * n
    if isinstance(expr, Stack):
        return tuple(number(x, {}, span) for x in expr.args)
    raise SymflowError("the value of an array parameter is an array of numbers [1, 2, 3] "
                       "(of numbers and earlier parameters)", span)


def declare_functions(scope: Scope, nodes) -> None:
    """The `functions` section: each function is declared (and inlined where called)."""
    for f in nodes:
        scope.declare(f.name, "function", f.name_span, node=f)
        if len(set(f.params)) != len(f.params):
            raise SymflowError(f"function '{f.name}' names an argument twice", f.span)


def variables(scope: Scope, nodes) -> list[Variable]:
    """The `variables` section: scalars, arrays `x[n]` and fields `u(x)`, with their
    initial values or distributions."""
    out = []
    for v in nodes:
        _check_slips(v)
        shape: tuple[int, ...] = ()
        if v.size is not None:
            n = constant_integer(scope, v.size, f"the length of '{v.name}'")
            if n < 1:
                raise SymflowError(f"the length of '{v.name}' must be at least 1",
                                   v.size.span)
            if n > MAX_LENGTH:
                raise SymflowError(f"the length of '{v.name}' is too large",
                                   v.size.span, help=f"at most {MAX_LENGTH:,} elements")
            shape = (n,)
        if v.coordinates is not None:
            shape = field_shape(v, scope.dimensions)
            scope.field_coordinates[v.name] = tuple(v.coordinates)
        initial = None
        if v.initial is not None:
            initial, ishape = build_expression(
                scope, v.initial, allowed=("constant", "parameter", "coordinate", "function"),
                context=f"the initial value of '{v.name}'")
            if ishape and ishape != shape:
                raise SymflowError(
                    f"the initial value of '{v.name}' has {ishape[0]} elements, "
                    f"but '{v.name}' has {'1 (a scalar)' if not shape else shape[0]}",
                    v.initial.span)
        distribution = None
        if v.distribution is not None:
            distribution, initial = _distribution(scope, v)
        symbol = sp.Symbol(v.name, real=True)
        scope.declare(v.name, "variable", v.name_span, symbol=symbol, shape=shape)
        out.append(Variable(v.name, symbol, shape, initial, v.doc, v.span, distribution))
    return out

def _distribution(scope: Scope, v: ast.Variable):
    """`x ~ normal(mu, sd)` or `x ~ uniform(a, b)`: ((kind, (a, b)), mean)."""
    call = v.distribution
    assert call is not None  # the caller passes random variables only
    if call.func not in ("normal", "uniform"):
        close = difflib.get_close_matches(call.func, ("normal", "uniform"), n=1)
        raise SymflowError(
            f"unknown distribution '{call.func}'", call.func_span,
            help=(f"did you mean '{close[0]}'? " if close else "")
            + "write `x ~ normal(mean, sd)` or `x ~ uniform(low, high)`")
    if call.keywords or len(call.args) != 2:
        raise SymflowError(f"{call.func} takes 2 arguments", call.span,
                           help="write `x ~ normal(mean, sd)` or `x ~ uniform(low, high)`")
    args = []
    for a in call.args:
        expr, shape = build_expression(scope, a, allowed=("constant", "parameter"),
                                       context=f"the distribution of '{v.name}'")
        if shape:
            raise SymflowError("the arguments of a distribution must be scalars", a.span)
        args.append(expr)
    a, b = args
    if call.func == "normal" and (b.is_number and float(b.xreplace(scope.values)) < 0):
        raise SymflowError("the standard deviation must not be negative", call.args[1].span)
    mean = a if call.func == "normal" else (a + b) / 2
    return (call.func, (a, b)), mean

# ------------------------------------------------------------ equations


def observed(scope: Scope, nodes) -> list[Observed]:
    """The `observed` section (its names are declared before the equations are built);
    each output may use the outputs above it, which are put in."""
    out: list[Observed] = []
    for o in nodes:
        expr, shape = build_expression(
            scope, o.value, allowed=("constant", "parameter", "variable", "function",
                              "observed", "coordinate", "closure"),
            context=f"observed output '{o.name}'")
        entry = scope.names[o.name]
        entry.shape = shape
        expr = expr.xreplace({x.symbol: x.expr for x in out})
        scope.ready_observed.add(o.name)
        out.append(Observed(o.name, entry.symbol, expr, shape, o.doc, o.span))
    return out

# ------------------------------------------------------------ settings


def _check_slips(v) -> None:
    """Two slips that read as declarations: a misspelt section keyword alone on its line
    (`equation`), and an equation `der(x) = ...` left in the section above `equations`."""
    # (a component's flattened names, `r.p.v`, are never a section keyword: skipped,
    # since the fuzzy match costs ~0.15 ms a name, seconds on a large component model)
    bare = v.initial is None and v.size is None and v.coordinates is None \
        and v.distribution is None and "." not in v.name
    close = difflib.get_close_matches(v.name, SECTIONS, n=1, cutoff=0.8) if bare else []
    if close:
        raise SymflowError(f"'{v.name}' is not a section", v.name_span,
                           help=f"did you mean '{close[0]}'? (sections: "
                                + ", ".join(SECTIONS) + ")")
    if v.name == "der" and v.coordinates is not None:
        raise SymflowError("an equation among the declarations", v.span,
                           help="`der(x) = ...` belongs under `equations` (is that section's "
                                "name missing or misspelt above it?)")
