"""AST to `System`: name resolution, checks, and SymPy expressions built node by node.

Nothing here parses text: every SymPy object is made by calling a SymPy
constructor on AST nodes (numbers become `sympy.Integer`/`sympy.Float` from
Python numbers, names become `sympy.Symbol`), so model text never reaches
`sympify`, `eval` or `exec`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable
from typing import Any

import sympy as sp

from ..errors import Span, SymflowError
from ..lang import ast
from . import _build_fields, _closures
from ._arrays import ArraySum, Concat, Dot, Element, Fill, Part, Stack, broadcast_shapes
from ._sde import SDE_SOLVERS, Brownian, brownian_field, scale_field_noise, split_differential
from ._system import Equation, Observed, Parameter, Settings, System, Variable


__all__ = ["build", "ODE_SOLVERS", "SETTINGS"]


TIME = sp.Symbol("t", real=True)

# name -> (number of arguments or None for 2 and more, constructor)
_BUILTINS: dict[str, tuple[int | None, Callable[..., sp.Expr]]] = {
    "sin": (1, sp.sin), "cos": (1, sp.cos), "tan": (1, sp.tan),
    "asin": (1, sp.asin), "acos": (1, sp.acos), "atan": (1, sp.atan),
    "atan2": (2, sp.atan2),
    "sinh": (1, sp.sinh), "cosh": (1, sp.cosh), "tanh": (1, sp.tanh),
    "exp": (1, sp.exp), "log": (1, sp.log), "sqrt": (1, sp.sqrt),
    "abs": (1, sp.Abs), "sign": (1, sp.sign),
    "min": (None, sp.Min), "max": (None, sp.Max),
}
_BUILTIN_CONSTANTS = {"pi": sp.pi, "e": sp.E}
_RESERVED = {"t", *_BUILTIN_CONSTANTS, *_BUILTINS, "der", "sum", "dot", "grad"}

# Sections of the language that later stages will give meaning to.
_NOT_YET = {
    "components": "components",
    "ports": "ports",
    "connections": "connections",
}

ODE_SOLVERS = (
    "auto", "tsit5", "dopri5", "dopri8", "bosh3", "euler", "heun", "midpoint", "ralston",
    "kvaerno3", "kvaerno4", "kvaerno5", "kencarp3", "kencarp4", "kencarp5",
    "impliciteuler",
    "expeuler", "lawson", "etdrk4",  # exponential integrators (solve/_exponential.py)
    # diffusion samplers (solve/_samplers.py)
    "ddim", "dpm_solver_2", "dpm_solver_3", "dpm_solver_pp_2m", "unipc_2", "unipc_3",
    "deis_1", "deis_2", "deis_3", "deis_rho_1", "deis_rho_2", "deis_rho_3", "ipndm",
)
# the diffusion samplers' step grids (solve/_diffusion.py GRIDS: a test keeps them equal)
SAMPLER_GRIDS = ("uniform", "quadratic", "logsnr", "power", "edm")
SETTINGS = ("tspan", "solver", "rtol", "atol", "saveat", "dt", "max_steps",
            "trajectories", "seed", "noise", "scheme", "order", "dealias",
            "grid", "grid_exponent", "steps")  # grid, grid_exponent, steps: the samplers
DT = sp.Dummy("dt", real=True)  # the `dt` of equations in differential form

# Limits that keep absurd input from exhausting memory, the stack or Python's
# parser of the generated source (which refuses about 200 nested brackets).
MAX_LENGTH = 10_000_000  # elements of an array variable
MAX_DEPTH = 100  # nesting of an expression; a chain `a + b - c + ...` counts once


def build(program: ast.Program, model: str | None = None) -> System:
    """Build the `System` of one model of a parsed file.

    **Arguments:**

    - `program`: the parsed file.
    - `model`: which model to build; by default the last one in the file (the
      others are usually its parts).
    """
    if not program.models:
        raise SymflowError(
            f"{program.file} defines no model",
            help="a model starts with `model Name` and ends with `end`",
        )
    if model is None:
        chosen = program.models[-1]
    else:
        matches = [m for m in program.models if m.name == model]
        if not matches:
            names = ", ".join(m.name for m in program.models)
            raise SymflowError(f"no model named {model!r} in {program.file}",
                               help=f"the file defines: {names}")
        chosen = matches[0]
    from ._dae import build_dae, needs_dae  # implicit equations and components
    if needs_dae(chosen) or program.imports:
        for section in chosen.sections:
            if section.kind == "closures":
                raise SymflowError(
                    "closures in models with implicit equations or components are not "
                    "supported yet", section.span,
                    help="closures work in explicit ODE, SDE and PDE models")
        return build_dae(program, chosen)
    for imp in (*program.imports, *chosen.imports):
        raise SymflowError("imports are not supported yet", imp.span,
                           help="put the models in one file for now")
    for ext in chosen.extends:
        raise SymflowError("`extends` is not supported yet", ext.span)
    for section in chosen.sections:
        if section.kind in _NOT_YET:
            raise SymflowError(
                f"{_NOT_YET[section.kind]} are not supported yet", section.span,
                help="this version of symflow compiles ODE models (LANGUAGE.md section 1)",
            )
    return _Builder(program, chosen).run()


# ---------------------------------------------------------------- the builder


@dataclasses.dataclass
class _Name:
    kind: str  # parameter | constant | variable | function | observed
    span: Span
    symbol: sp.Symbol | None = None
    shape: tuple[int, ...] = ()
    node: Any = None


@dataclasses.dataclass
class _Piece:
    start: int
    stop: int
    rhs: sp.Expr
    span: Span


class _Builder:
    MAX_LENGTH = MAX_LENGTH
    TIME = TIME

    def __init__(self, program: ast.Program, model: ast.Model):
        self.program = program
        self.model = model
        self.dimensions: tuple = ()  # the PDE domain (_build_fields.py)
        self.field_coordinates: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, _Name] = {}
        self.inlining: list[str] = []  # user functions being inlined, for cycles
        self.values: dict[sp.Symbol, float] = {}  # numbers of constants and parameters
        self.ready_observed: set[str] = set()  # observed outputs defined so far
        # Every name the model declares, in any section: (kind, span) of the first.
        self.declared: dict[str, tuple[str, Span]] = {}
        for kind, section in (("constant", "constants"), ("parameter", "parameters"),
                              ("function", "functions"), ("variable", "variables"),
                              ("observed", "observed")):
            for item in model.items(section):
                self.declared.setdefault(item.name, (kind, item.name_span))
        for item in model.items("brownian"):
            self.declared.setdefault(item.name, ("brownian", item.span))
        for item in model.items("closures"):
            for out in item.outputs:
                self.declared.setdefault(out, ("closure", item.span))
        self.brownian_list: list[Brownian] = []
        self.closures: list = []  # _closures.Closure, in declaration order

    # ------------------------------------------------------------ declarations

    def declare(self, name: str, kind: str, span: Span, **extra) -> _Name:
        if name in self.names:
            first = self.names[name]
            raise SymflowError(
                f"'{name}' is declared twice", span,
                notes=((first.span, f"'{name}' was first declared here, as a {first.kind}"),),
                help="give each parameter, variable, function and output its own name",
            )
        if name in _RESERVED or "." in name:
            what = "the time" if name == "t" else "a built-in name"
            raise SymflowError(
                f"'{name}' cannot be declared: it is {what}" if "." not in name
                else f"'{name}': dotted names are for components", span)
        entry = _Name(kind, span, **extra)
        self.names[name] = entry
        return entry

    def run(self) -> System:
        m = self.model
        parameters = self.parameters(m.items("constants"), constant=True)
        parameters += self.parameters(m.items("parameters"), constant=False)
        for f in m.items("functions"):
            self.declare(f.name, "function", f.name_span, node=f)
            if len(set(f.params)) != len(f.params):
                raise SymflowError(f"function '{f.name}' names an argument twice", f.span)
        self.dimensions = _build_fields.build_domain(self, m.items("domain"))
        self.brownian_list = self.brownians(m.items("brownian"))
        variables = self.variables(m.items("variables"))
        self.closures = _closures.build_closures(self, m.items("closures"))
        observed_nodes = m.items("observed")
        for o in observed_nodes:
            self.declare(o.name, "observed", o.name_span, symbol=sp.Symbol(o.name, real=True))
        equations = self.equations(m.items("equations"), variables)
        observed = self.observed(observed_nodes)
        settings = self.settings(m.items("simulate"))
        boundary = _build_fields.build_boundary(self, m.items("boundary"), _ExprBuilder)
        for e in equations:
            if e.target in self.field_coordinates and e.kind != "ode":
                raise SymflowError(f"field '{e.target}' must be defined by der({e.target})",
                                   e.spans[0])
        _build_fields.check_points(self.dimensions, settings.order,
                                   settings.span_of("order"), settings.scheme)
        _build_fields.check_spectral(self, settings)
        return System(
            name=m.name, time=TIME, parameters=tuple(parameters),
            variables=tuple(variables), equations=tuple(equations),
            observed=tuple(observed), settings=settings, file=self.program.file,
            brownians=tuple(self.brownian_list),
            domain=self.dimensions, fields=tuple(self.field_coordinates.items()),
            boundary=boundary, closures=tuple(self.closures),
        )

    def brownians(self, nodes) -> list[Brownian]:
        out = []
        for b in nodes:
            if b.coordinates is not None:
                out.append(brownian_field(self, b))
                continue
            self.declare(b.name, "brownian", b.span)
            out.append(Brownian(b.name, sp.Dummy("d" + b.name, real=True), b.span))
        return out

    def parameters(self, nodes, *, constant: bool) -> list[Parameter]:
        kind = "constant" if constant else "parameter"
        out = []
        for d in nodes:
            default, shape = self.expr(
                d.value, allowed=("constant",) if constant else ("constant", "parameter"),
                context=f"the value of {kind} '{d.name}'")
            if shape:
                raise SymflowError(f"{kind} '{d.name}' must be a scalar", d.value.span)
            if constant and self._uses_kind(default, "parameter"):
                raise SymflowError(
                    f"constant '{d.name}' depends on a parameter", d.value.span,
                    help="a constant may use numbers and earlier constants only")
            value = self._number(default, self.values, d.value.span)
            bounds = None
            if d.bounds is not None:
                lo, hi = (self.constant_number(b, f"a bound of '{d.name}'") for b in d.bounds)
                if not lo <= hi:
                    raise SymflowError(f"the bounds of '{d.name}' are reversed",
                                       d.bounds[0].span, help=f"write in [{hi:g}, {lo:g}]")
                if not lo <= value <= hi:
                    raise SymflowError(
                        f"the value {value:g} of '{d.name}' is outside its bounds "
                        f"[{lo:g}, {hi:g}]", d.value.span)
                bounds = (lo, hi)
            symbol = sp.Symbol(d.name, real=True)
            self.declare(d.name, kind, d.name_span, symbol=symbol)
            p = Parameter(d.name, symbol, default, value, bounds, d.doc, d.span, constant)
            out.append(p)
            self.values[symbol] = value
        return out

    def _uses_kind(self, expr: sp.Expr, kind: str) -> bool:
        return any(self.names.get(s.name, _Name("", None)).kind == kind
                   for s in expr.free_symbols)

    def _number(self, expr: sp.Expr, values: dict, span: Span) -> float:
        try:
            value = float(expr.xreplace(values))
        except (TypeError, ValueError):
            raise SymflowError("this value is not a real number", span) from None
        if not math.isfinite(value):
            raise SymflowError(f"this value is not finite ({value})", span)
        return value

    def constant_number(self, node: ast.Expr, what: str) -> float:
        expr, shape = self.expr(node, allowed=("constant",), context=what)
        if shape:
            raise SymflowError(f"{what} must be a scalar", node.span)
        return self._number(expr, self.values, node.span)

    def constant_integer(self, node: ast.Expr, what: str) -> int:
        value = self.constant_number(node, what)
        if value != int(value):
            raise SymflowError(f"{what} must be a whole number, not {value:g}", node.span)
        return int(value)

    def variables(self, nodes) -> list[Variable]:
        out = []
        for v in nodes:
            shape: tuple[int, ...] = ()
            if v.size is not None:
                n = self.constant_integer(v.size, f"the length of '{v.name}'")
                if n < 1:
                    raise SymflowError(f"the length of '{v.name}' must be at least 1",
                                       v.size.span)
                if n > MAX_LENGTH:
                    raise SymflowError(f"the length of '{v.name}' is too large",
                                       v.size.span, help=f"at most {MAX_LENGTH:,} elements")
                shape = (n,)
            if v.coordinates is not None:
                shape = _build_fields.field_shape(self, v, self.dimensions)
                self.field_coordinates[v.name] = tuple(v.coordinates)
            initial = None
            if v.initial is not None:
                initial, ishape = self.expr(
                    v.initial, allowed=("constant", "parameter", "coordinate"),
                    context=f"the initial value of '{v.name}'")
                if ishape and ishape != shape:
                    raise SymflowError(
                        f"the initial value of '{v.name}' has {ishape[0]} elements, "
                        f"but '{v.name}' has {'1 (a scalar)' if not shape else shape[0]}",
                        v.initial.span)
            distribution = None
            if v.distribution is not None:
                distribution, initial = self.distribution(v)
            symbol = sp.Symbol(v.name, real=True)
            self.declare(v.name, "variable", v.name_span, symbol=symbol, shape=shape)
            out.append(Variable(v.name, symbol, shape, initial, v.doc, v.span, distribution))
        return out

    def distribution(self, v: ast.Variable):
        """`x ~ normal(mu, sd)` or `x ~ uniform(a, b)`: ((kind, (a, b)), mean)."""
        call = v.distribution
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
            expr, shape = self.expr(a, allowed=("constant", "parameter"),
                                    context=f"the distribution of '{v.name}'")
            if shape:
                raise SymflowError("the arguments of a distribution must be scalars", a.span)
            args.append(expr)
        a, b = args
        if call.func == "normal" and (b.is_number and float(b.xreplace(self.values)) < 0):
            raise SymflowError("the standard deviation must not be negative", call.args[1].span)
        mean = a if call.func == "normal" else (a + b) / 2
        return (call.func, (a, b)), mean

    # ------------------------------------------------------------ equations

    def equations(self, nodes, variables: list[Variable]) -> list[Equation]:
        pieces: dict[str, list[_Piece]] = {v.name: [] for v in variables}
        kinds: dict[str, str] = {}
        first_span: dict[str, Span] = {}
        diffusions: dict[tuple[str, int], list] = {}
        for eq in nodes:
            differential = isinstance(eq.lhs, ast.Call) and eq.lhs.func == "d"
            lhs = eq.lhs
            if differential:
                if len(lhs.args) != 1 or lhs.keywords:
                    raise SymflowError("d takes one argument: d(x)", lhs.span)
                if not self.brownian_list:
                    raise SymflowError(
                        "d(...) equations need Brownian motions", lhs.span,
                        help="declare them in a `brownian` section (`brownian W`), "
                             "or write an ODE as der(x) = ...")
                lhs = ast.Call("der", lhs.args, (), lhs.span, lhs.func_span)
            kind, name, start, stop = self.equation_target(lhs)
            var = self.names[name]
            written = "sde" if differential else kind
            if name in kinds and kinds[name] != written:
                both = {kinds[name], written}
                raise SymflowError(
                    f"'{name}' is defined by two equations" if both != {"ode", "sde"} else
                    f"'{name}' has both a der(...) and a d(...) equation", eq.span,
                    notes=((first_span[name], "the other equation"),),
                    help="a variable has either a der(...) equation or an algebraic one"
                    if both != {"ode", "sde"} else
                    "write all of its equations as d(...) = ...*dt + ...*dW (an SDE) "
                    "or all as der(...) = ... (an ODE)",
                )
            if differential:
                rhs, noise, shape = self.differential_rhs(eq)
                self._check_field_noise(name, noise, eq)
            else:
                rhs, shape = self.expr(eq.rhs, allowed=("constant", "parameter", "variable",
                                                        "function", "coordinate", "closure"),
                                       context="an equation")
                noise = ()
            length = stop - start
            target_shape = () if var.shape == () or (stop - start == 1 and
                                                     self._is_element(eq.lhs)) else (length,)
            if shape and shape != target_shape:
                raise SymflowError(
                    f"the right side has {shape[0]} elements but the left side has "
                    f"{'one' if not target_shape else target_shape[0]}", eq.rhs.span)
            for p in pieces[name]:
                if p.start < stop and start < p.stop:
                    raise SymflowError(
                        f"'{name}' is defined by two equations"
                        + (f" (element {max(p.start, start)})" if var.shape else ""),
                        eq.span, notes=((p.span, "the other equation"),),
                    )
            if target_shape and not shape:
                rhs = Fill(rhs, sp.Integer(length))
            if noise:
                for k, g in enumerate(noise):
                    if target_shape and self._shape_of(g) == ():
                        g = Fill(g, sp.Integer(length))
                    diffusions.setdefault((name, k), []).append(_Piece(start, stop, g, eq.span))
            pieces[name].append(_Piece(start, stop, rhs, eq.span))
            kinds[name] = written
            first_span.setdefault(name, eq.span)

        out = []
        for v in variables:
            found = sorted(pieces[v.name], key=lambda p: p.start)
            if not found:
                raise SymflowError(
                    f"variable '{v.name}' has no equation", v.span,
                    help=f"add `der({v.name}) = ...` or `{v.name} = ...` under equations")
            covered = 0
            for p in found:
                if p.start > covered:
                    break
                covered = p.stop
            if covered < v.size:
                missing = covered
                raise SymflowError(
                    f"element {missing} of '{v.name}' has no equation", v.span,
                    help=f"every element of {v.name}[0:{v.size}] needs exactly one equation")
            if len(found) == 1:
                rhs = found[0].rhs
            else:
                rhs = Concat(*(x for p in found for x in (sp.Integer(p.stop - p.start), p.rhs)))
            kind = kinds[v.name]
            if kind == "ode" and v.initial is None:
                raise SymflowError(
                    f"state '{v.name}' needs an initial value", v.span,
                    help=f"write `{v.name} = <value>` under variables")
            diffusion: tuple[sp.Expr, ...] = ()
            if kind == "sde":
                kind = "ode"
                columns = []
                for k in range(len(self.brownian_list)):
                    parts = sorted(diffusions[(v.name, k)], key=lambda p: p.start)
                    columns.append(parts[0].rhs if len(parts) == 1 else Concat(*(
                        x for p in parts for x in (sp.Integer(p.stop - p.start), p.rhs))))
                diffusion = tuple(columns)
            out.append(Equation(kind, v.name, rhs, tuple(p.span for p in found), diffusion))
        return out

    def _check_field_noise(self, name: str, noise: tuple[sp.Expr, ...], eq) -> None:
        """A Brownian field `W(x, ...)` drives only a field on the same coordinates: its
        increment has one value per grid point, which only a field's points match."""
        for b, g in zip(self.brownian_list, noise):
            if not b.coordinates or g == 0:
                continue
            coordinates = self.field_coordinates.get(name)
            if coordinates == tuple(b.coordinates):
                continue
            what = (f"the field '{name}({', '.join(coordinates)})'" if coordinates
                    else f"'{name}', which is not a field")
            raise SymflowError(
                f"d{b.name} is the increment of the Brownian field "
                f"'{b.name}({', '.join(b.coordinates)})' ({b.size} grid points) and cannot "
                f"drive {what}", eq.rhs.span,
                help=f"a Brownian field drives a field on the same coordinates, "
                     f"u({', '.join(b.coordinates)}); for a scalar or an array, declare a "
                     "Brownian motion without coordinates (`brownian B`)")

    def _shape_of(self, expr: sp.Expr) -> tuple[int, ...]:
        from ._arrays import shape_of
        return shape_of(expr, {e.symbol: e.shape for e in self.names.values()
                               if e.symbol is not None})

    def differential_rhs(self, eq: ast.Equation):
        """The drift, the diffusion coefficients and the shape of `d(x) = ...`."""
        increments = {"d" + b.name: b for b in self.brownian_list}
        for node in _ast_names(eq.rhs):
            name = node.id
            if (name.startswith("d") and len(name) > 1 and name != "dt"
                    and name not in increments and name not in self.names
                    and name not in self.declared):
                close = difflib.get_close_matches(name, list(increments), n=1)
                raise SymflowError(
                    f"'{name}' is the increment of '{name[1:]}', which is not a declared "
                    "Brownian motion", node.span,
                    help=(f"did you mean '{close[0]}'? " if close else "")
                    + f"declare it under `brownian` (`brownian {name[1:]}`); declared: "
                    + ", ".join(b.name for b in self.brownian_list))
        scope = {"dt": (DT, ())}
        scope.update({n: (b.increment, (b.size,) if b.coordinates else ())
                      for n, b in increments.items()})
        for n in scope:
            if n in self.names:
                raise SymflowError(
                    f"'{n}' is declared as a {self.names[n].kind}, but in d(...) equations "
                    f"it is {'the time step' if n == 'dt' else 'a Brownian increment'}",
                    self.names[n].span, help=f"rename the {self.names[n].kind}")
        rhs, shape = self.expr(eq.rhs, allowed=("constant", "parameter", "variable",
                                                "function", "closure"),
                               context="an equation", scope=scope)
        drift, noise = split_differential(
            rhs, DT, tuple(b.increment for b in self.brownian_list), eq.rhs.span)
        return drift, scale_field_noise(noise, self.brownian_list), shape

    @staticmethod
    def _is_element(lhs: ast.Expr) -> bool:
        if isinstance(lhs, ast.Call) and lhs.args:
            lhs = lhs.args[0]
        return isinstance(lhs, ast.Subscript) and not isinstance(lhs.index, ast.Slice)

    def equation_target(self, lhs: ast.Expr) -> tuple[str, str, int, int]:
        """What an equation's left side defines: (kind, variable, start, stop)."""
        kind = "algebraic"
        target = lhs
        if isinstance(lhs, ast.Call) and lhs.func == "der":
            if len(lhs.args) != 1 or lhs.keywords:
                raise SymflowError("der takes one argument: der(x)", lhs.span)
            kind, target = "ode", lhs.args[0]
        name_node = target.target if isinstance(target, ast.Subscript) else target
        if not isinstance(name_node, ast.Name):
            if isinstance(lhs, ast.Call) and lhs.func == "d":
                raise SymflowError("SDEs in differential form are not supported yet", lhs.span)
            what = "der(...) of a variable" if kind == "ode" else "variable"
            raise SymflowError(
                "implicit equations are not supported yet: the left side must be "
                "der(x) or a variable", lhs.span,
                help=f"write the equation as `{'der(x)' if kind == 'ode' else 'x'} = ...`; "
                     f"found no {what} on the left")
        if name_node.id in _RESERVED and name_node.id not in self.names:
            what = "the time" if name_node.id == "t" else "a built-in name"
            raise SymflowError(
                f"'{name_node.id}' is {what} and cannot be defined by an equation",
                name_node.span, help="the left side must be der(x) or a variable x")
        entry = self.resolve(name_node)
        if entry.kind != "variable":
            raise SymflowError(
                f"'{name_node.id}' is a {entry.kind}; only variables are defined by equations",
                name_node.span)
        size = 1 if entry.shape == () else entry.shape[0]
        if isinstance(target, ast.Subscript):
            if entry.shape == ():
                raise SymflowError(f"'{name_node.id}' is a scalar and cannot be indexed",
                                   target.span)
            start, stop = self.index_range(target, size)
        else:
            start, stop = 0, size
        return kind, name_node.id, start, stop

    def index_range(self, node: ast.Subscript, size: int) -> tuple[int, int]:
        name = node.target.id if isinstance(node.target, ast.Name) else "the array"
        if isinstance(node.index, ast.Slice):
            start = 0 if node.index.start is None else self.constant_integer(
                node.index.start, "a slice start")
            stop = size if node.index.stop is None else self.constant_integer(
                node.index.stop, "a slice end")
            start = start + size if start < 0 else start
            stop = stop + size if stop < 0 else stop
            if not 0 <= start < stop <= size:
                raise SymflowError(
                    f"the slice is empty or outside {name}[0:{size}]", node.index.span)
            return start, stop
        i = self.constant_integer(node.index, "an index")
        i = i + size if i < 0 else i
        if not 0 <= i < size:
            raise SymflowError(f"index out of range: {name} has {size} elements "
                               f"(0 to {size - 1})", node.index.span)
        return i, i + 1

    def observed(self, nodes) -> list[Observed]:
        out = []
        for o in nodes:
            expr, shape = self.expr(
                o.value, allowed=("constant", "parameter", "variable", "function",
                                  "observed", "coordinate", "closure"),
                context=f"observed output '{o.name}'")
            entry = self.names[o.name]
            entry.shape = shape
            expr = expr.xreplace({x.symbol: x.expr for x in out})
            self.ready_observed.add(o.name)
            out.append(Observed(o.name, entry.symbol, expr, shape, o.doc, o.span))
        return out

    # ------------------------------------------------------------ settings

    def settings(self, nodes) -> Settings:
        values: dict[str, Any] = {}
        spans: list[tuple[str, Span]] = []
        for s in nodes:
            if s.name not in SETTINGS:
                close = difflib.get_close_matches(s.name, SETTINGS, n=1)
                raise SymflowError(
                    f"unknown simulate setting '{s.name}'", s.name_span,
                    help=(f"did you mean '{close[0]}'? " if close else "")
                    + "known settings: " + ", ".join(SETTINGS))
            if s.name in values:
                raise SymflowError(f"'{s.name}' is set twice", s.name_span)
            spans.append((s.name, s.value.span))
            values[s.name] = self.setting_value(s)
        if "dt" in values:
            values["dt0"] = values.pop("dt")
        return Settings(**values, spans=tuple(spans))

    def setting_value(self, s: ast.Setting) -> Any:
        v = s.value
        if s.name == "solver":
            if not isinstance(v, ast.Name):
                raise SymflowError("solver must be a name, such as tsit5", v.span)
            check_solver(v.id, v.span, sde=bool(self.brownian_list))
            return v.id
        if s.name == "noise":
            if not isinstance(v, ast.Name) or v.id not in ("ito", "stratonovich"):
                raise SymflowError("noise must be ito or stratonovich", v.span)
            return v.id
        if s.name == "grid":
            if not isinstance(v, ast.Name) or v.id not in SAMPLER_GRIDS:
                raise SymflowError("grid must be uniform, quadratic, logsnr, power or edm",
                                   v.span)
            return v.id
        if s.name == "grid_exponent":
            x = self.constant_number(v, "grid_exponent")
            if not 0 < x <= 100:
                raise SymflowError(f"grid_exponent must be positive (and at most 100), "
                                   f"not {x:g}", v.span)
            return x
        if s.name == "steps":
            n = self.constant_integer(v, "steps")
            if n < 1:
                raise SymflowError(f"steps (model evaluations) must be at least 1, not {n}",
                                   v.span)
            return n
        if s.name == "trajectories":
            n = self.constant_integer(v, "trajectories")
            if n < 1:
                raise SymflowError(f"trajectories must be at least 1, not {n}", v.span)
            return n
        if s.name == "seed":
            n = self.constant_integer(v, "seed")
            if not 0 <= n < 2**32:
                raise SymflowError("seed must be a whole number in [0, 2**32)", v.span)
            return n
        if s.name == "tspan":
            if not isinstance(v, ast.ArrayLiteral) or len(v.items) != 2:
                raise SymflowError("tspan must be [start, end]", v.span)
            a, b = (self.constant_number(x, "tspan") for x in v.items)
            if a == b:
                raise SymflowError("tspan is empty: start and end are equal", v.span)
            return (a, b)
        if s.name == "saveat":
            if isinstance(v, ast.ArrayLiteral):
                return tuple(self.constant_number(x, "a save time") for x in v.items)
            n = self.constant_integer(v, "saveat")
            if n < 2:
                raise SymflowError("saveat needs at least 2 points", v.span)
            return n
        if s.name == "scheme":
            if not isinstance(v, ast.Name) or v.id not in _build_fields.SCHEMES:
                raise SymflowError("unknown scheme", v.span,
                                   help="schemes: " + ", ".join(_build_fields.SCHEMES))
            return v.id
        if s.name == "order":
            n = self.constant_integer(v, "order")
            if n not in _build_fields.ORDERS:
                raise SymflowError(f"finite differences of order {n} are not available",
                                   v.span, help="order = 2 or 4 (central), 1 or 2 (upwind)")
            return n
        if s.name == "max_steps":
            n = self.constant_integer(v, "max_steps")
            if n < 1:
                raise SymflowError("max_steps must be positive", v.span)
            return n
        x = self.constant_number(v, s.name)
        if x <= 0:
            raise SymflowError(f"{s.name} must be positive", v.span)
        return x

    # ------------------------------------------------------------ expressions

    def resolve(self, node: ast.Name) -> _Name:
        entry = self.names.get(node.id)
        if entry is None and (node.id == "dt" or any(
                node.id == "d" + b.name for b in self.brownian_list)):
            raise SymflowError(
                f"'{node.id}' may only appear on the right side of a d(...) equation",
                node.span, help="write the SDE as `d(x) = drift*dt + diffusion*dW`")
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

    def expr(self, node: ast.Expr, *, allowed: tuple[str, ...], context: str,
             scope: dict[str, tuple[sp.Expr, tuple[int, ...]]] | None = None
             ) -> tuple[sp.Expr, tuple[int, ...]]:
        """Build the SymPy expression of `node` and its shape."""
        _check_depth(node)
        try:
            expr, shape = _ExprBuilder(self, allowed, context, scope or {}).build(node)
        except RecursionError:
            raise SymflowError(
                "this expression is nested too deeply", node.span,
                help="split it into smaller parts (observed outputs or algebraic "
                     "variables), or check for functions that call each other") from None
        if _is_condition(expr):
            raise SymflowError("expected a value, not a condition", node.span,
                               help="a comparison, `and`, `or` or `not` can only "
                                    "follow `if`")
        self._check_numbers(expr, node)
        if _depth(expr) > _MAX_SYMPY_DEPTH:
            raise SymflowError("this expression is nested too deeply", node.span,
                               help="split it into smaller parts (observed outputs or "
                                    "algebraic variables)")
        return expr, shape

    def _check_numbers(self, expr: sp.Expr, node: ast.Expr) -> None:
        """Refuse a value that is undefined, infinite, too large for a float or not
        real, also once the constants are folded in (as the passes will)."""
        _check_atoms(expr.atoms(), node, "")
        constants = {s: sp.Float(self.values[s]) for s in expr.free_symbols
                     if s in self.values and self.names[s.name].kind == "constant"}
        if not constants:
            return  # every number was checked as it was built (`_checked`)
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


def _is_condition(expr) -> bool:
    """A comparison, `and`, `or`, `not`, true or false (a SymPy Symbol is a
    Boolean too, but also a value)."""
    return isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Expr)


def _ast_names(root):
    """Every `ast.Name` in an expression (without recursion)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            yield node
        stack.extend(_ast_children(node))


def _ast_children(node) -> tuple:
    if isinstance(node, (ast.BinaryOp, ast.Compare, ast.BoolOp)):
        return (node.left, node.right)
    if isinstance(node, ast.UnaryOp):
        return (node.operand,)
    if isinstance(node, ast.Call):
        return (*node.args, *(k.value for k in node.keywords))
    if isinstance(node, ast.IfThenElse):
        return (node.condition, node.then, node.otherwise)
    if isinstance(node, ast.Subscript):
        return (node.target, node.index)
    if isinstance(node, ast.Slice):
        return tuple(x for x in (node.start, node.stop) if x is not None)
    if isinstance(node, ast.ArrayLiteral):
        return node.items
    return ()


def _check_depth(root) -> None:
    """Refuse an expression nested more than MAX_DEPTH deep (without recursion).

    The left operand of `+ - * /` continues its chain at the same depth: a long
    sum `a + b + c + ...` is flat, as the builder handles it.
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
            stack.extend((child, depth + 1) for child in _ast_children(node))


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


def check_solver(name: str, span: Span | None, *, sde: bool = False) -> None:
    known = SDE_SOLVERS if sde else ODE_SOLVERS
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        raise SymflowError(
            f"unknown {'SDE ' if sde else ''}solver '{name}'", span,
            help=(f"did you mean '{close[0]}'? " if close else "")
            + "known solvers: " + ", ".join(known))


class _ExprBuilder:
    """Turns one AST expression into SymPy, checking names, calls and shapes."""

    def __init__(self, owner: _Builder, allowed, context, scope):
        self.owner = owner
        self.allowed = allowed
        self.context = context
        self.scope = scope

    def build(self, node) -> tuple[sp.Expr, tuple[int, ...]]:
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _scalar(self, node, what: str) -> sp.Expr:
        expr, shape = self._value(node)
        if shape:
            raise SymflowError(f"{what} must be a scalar, not an array of {shape[0]}",
                               node.span)
        return expr

    def _broadcast(self, shapes, span) -> tuple[int, ...]:
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
        if node.id in self.scope:
            return self.scope[node.id]
        if node.id == "t":
            return self._time(node)
        if node.id in _BUILTIN_CONSTANTS and node.id not in self.owner.names:
            return _BUILTIN_CONSTANTS[node.id], ()
        if node.id not in self.owner.names and node.id in self.owner.declared:
            kind, where = self.owner.declared[node.id]
            if kind not in self.allowed:
                raise SymflowError(
                    f"{self.context} cannot use the {kind} '{node.id}'", node.span,
                    help=self._allowed_help())
            raise SymflowError(
                f"'{node.id}' is used before it is declared", node.span,
                notes=((where, f"'{node.id}' is declared here"),),
                help="a value may only use the names declared above it")
        entry = self.owner.resolve(node)
        if entry.kind == "function":
            raise SymflowError(f"'{node.id}' is a function: call it with arguments",
                               node.span)
        if entry.kind not in self.allowed:
            raise SymflowError(
                f"{self.context} cannot use the {entry.kind} '{node.id}'", node.span,
                help=self._allowed_help())
        if entry.kind == "observed" and node.id not in self.owner.ready_observed:
            raise SymflowError(f"observed output '{node.id}' is used before it is defined",
                               node.span)
        return entry.symbol, entry.shape

    def _allowed_help(self) -> str:
        kinds = ["numbers"] + [k + "s" for k in self.allowed if k != "function"]
        return "it may use " + ", ".join(kinds[:-1]) + " and " + kinds[-1]

    def _time(self, node):
        if "variable" not in self.allowed:
            raise SymflowError(f"{self.context} cannot depend on the time t", node.span,
                               help=self._allowed_help())
        return TIME, ()

    def _BinaryOp(self, node: ast.BinaryOp):
        # A chain `a + b - c * d ...` is a left-leaning tree as deep as it is long:
        # walk down its left side in a loop rather than recursing.
        chain = []
        while isinstance(node, ast.BinaryOp) and node.op in _CHAIN_OPS:
            chain.append(node)
            node = node.left
        if not chain:  # a power
            a, sa = self._value(node.left)
            b, sb = self._value(node.right)
            shape = self._broadcast((sa, sb), node.span)
            return self._checked(self._binary(node, a, b), node), shape
        a, sa = self._value(node)
        # Terms of a sum are collected and added at once (adding them one by one
        # costs SymPy time quadratic in their number).
        terms, last = [a], chain[-1]
        for link in reversed(chain):
            b, sb = self._value(link.right)
            sa = self._broadcast((sa, sb), link.span)
            if link.op in "+-":
                terms.append(b if link.op == "+" else -b)
            else:
                a = self._checked(sp.Add(*terms), last) if len(terms) > 1 else terms[0]
                terms = [self._checked(self._binary(link, a, b), link)]
            last = link
        return (self._checked(sp.Add(*terms), last) if len(terms) > 1 else terms[0]), sa

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

    def _value(self, node) -> tuple[sp.Expr, tuple[int, ...]]:
        """Build `node`, which must be a value, not a condition."""
        expr, shape = self.build(node)
        if _is_condition(expr):
            raise SymflowError("expected a value, not a condition", node.span,
                               help="a comparison, `and`, `or` or `not` can only "
                                    "follow `if`")
        return expr, shape

    def _checked(self, expr, node):
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
        a, shape = self._value(node.operand)
        return (-a if node.op == "-" else a), shape

    def _boolean(self, expr, node):
        if not _is_condition(expr):
            raise SymflowError("expected a condition (a comparison, `and`, `or`, `not`)",
                               node.span)
        return expr

    def _Compare(self, node: ast.Compare):
        a, sa = self._value(node.left)
        b, sb = self._value(node.right)
        shape = self._broadcast((sa, sb), node.span)
        op = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan,
              ">=": sp.GreaterThan, "==": sp.Eq, "!=": sp.Ne}[node.op]
        return op(a, b), shape

    def _BoolOp(self, node: ast.BoolOp):
        a, sa = self.build(node.left)
        b, sb = self.build(node.right)
        shape = self._broadcast((sa, sb), node.span)
        a, b = self._boolean(a, node.left), self._boolean(b, node.right)
        return (sp.And(a, b) if node.op == "and" else sp.Or(a, b)), shape

    def _IfThenElse(self, node: ast.IfThenElse):
        c, sc = self.build(node.condition)
        c = self._boolean(c, node.condition)
        a, sa = self.build(node.then)
        b, sb = self.build(node.otherwise)
        for value, part in ((a, node.then), (b, node.otherwise)):
            if _is_condition(value):
                raise SymflowError("expected a value, not a condition", part.span)
        shape = self._broadcast((sc, sa, sb), node.span)
        return sp.Piecewise((a, c), (b, True)), shape

    def _ArrayLiteral(self, node: ast.ArrayLiteral):
        items = [self._scalar(x, "an element of an array literal") for x in node.items]
        if len(items) > MAX_LENGTH:
            raise SymflowError("this array literal is too long", node.span)
        return Stack(*items), (len(items),)

    def _Subscript(self, node: ast.Subscript):
        target, shape = self._value(node.target)
        if not shape:
            raise SymflowError("a scalar cannot be indexed", node.target.span)
        start, stop = self.owner.index_range(node, shape[0])
        if isinstance(node.index, ast.Slice):
            if (start, stop) == (0, shape[0]):
                return target, shape
            return Part(target, sp.Integer(start), sp.Integer(stop)), (stop - start,)
        return Element(target, sp.Integer(start)), ()

    def _Call(self, node: ast.Call):
        name = node.func
        if node.keywords:
            raise SymflowError(f"'{name}' takes no keyword arguments", node.keywords[0].span)
        if name in self.owner.names and self.owner.names[name].kind == "function":
            return self._inline(node, self.owner.names[name].node)
        if name in _BUILTINS:
            arity, ctor = _BUILTINS[name]
            if arity is None and len(node.args) < 2 or arity and len(node.args) != arity:
                expected = "at least 2 arguments" if arity is None else (
                    f"{arity} argument{'s' if arity > 1 else ''}")
                raise SymflowError(
                    f"{name} takes {expected}, got {len(node.args)}", node.span)
            built = [self._value(a) for a in node.args]
            shape = self._broadcast((s for _, s in built), node.span)
            value = ctor(*(e for e, _ in built))
            return self._checked(value, node), shape
        if name == "sum":
            self._arity(node, 1)
            a, shape = self._value(node.args[0])
            return (ArraySum(a) if shape else a), ()
        if name == "dot":
            self._arity(node, 2)
            (a, sa), (b, sb) = self._value(node.args[0]), self._value(node.args[1])
            if not sa or sa != sb:
                raise SymflowError("dot needs two arrays of the same length", node.span)
            return Dot(a, b), ()
        if name == "grad":
            self._arity(node, 2)
            expr = self._scalar(node.args[0], "the expression of grad")
            wrt = node.args[1]
            if not isinstance(wrt, ast.Name):
                raise SymflowError("grad(expr, x) differentiates with respect to a name",
                                   wrt.span)
            symbol, shape = self.build(wrt)
            if shape or not isinstance(symbol, sp.Symbol):
                raise SymflowError("grad differentiates with respect to a scalar variable",
                                   wrt.span)
            try:
                derivative = sp.diff(expr, symbol)
            except TypeError:  # sum(...) or dot(...) of an array depending on `symbol`
                derivative = None
            if derivative is None or derivative.has(sp.Derivative, sp.DiracDelta):
                raise SymflowError(
                    f"grad cannot differentiate this expression with respect to "
                    f"'{wrt.id}'", node.args[0].span,
                    help="sum(...) and dot(...) of arrays that depend on it, and "
                         "sign(...), have no symbolic derivative here")
            return derivative, ()
        if name == "der":
            raise SymflowError("der(...) may only stand on the left side of an equation",
                               node.span)
        if name in ("diff", "laplacian"):
            return _build_fields.build_diff(self, node)
        if self.owner.declared.get(name, ("",))[0] == "function":
            raise SymflowError(f"{self.context} cannot call the function '{name}'",
                               node.func_span, help=self._allowed_help())
        if name in self.owner.field_coordinates:
            coords = ", ".join(self.owner.field_coordinates[name])
            raise SymflowError(
                f"field '{name}' is declared as {name}({coords}) and used by its name alone",
                node.func_span,
                help=f"write {name} (its values on the grid); {name}(...) with other "
                     "coordinates or at a point is not supported")
        known = sorted([*_BUILTINS, "sum", "dot", "grad"]
                       + [n for n, e in self.owner.names.items() if e.kind == "function"])
        close = difflib.get_close_matches(name, known, n=1)
        raise SymflowError(
            f"unknown function '{name}'", node.func_span,
            help=(f"did you mean '{close[0]}'? " if close else "")
            + "declare it under functions, or use one of: " + ", ".join(known))

    def _arity(self, node: ast.Call, n: int) -> None:
        if len(node.args) != n:
            raise SymflowError(f"{node.func} takes {n} argument{'s' if n > 1 else ''}, "
                               f"got {len(node.args)}", node.span)

    def _inline(self, node: ast.Call, fdef: ast.FunctionDef):
        if len(node.args) != len(fdef.params):
            raise SymflowError(
                f"{fdef.name} takes {len(fdef.params)} argument"
                f"{'s' if len(fdef.params) != 1 else ''}, got {len(node.args)}", node.span,
                notes=((fdef.span, f"{fdef.name} is defined here"),))
        if fdef.name in self.owner.inlining:
            raise SymflowError(f"function '{fdef.name}' calls itself", node.span,
                               help="functions are inlined, so they cannot be recursive")
        scope = {p: self.build(a) for p, a in zip(fdef.params, node.args)}
        self.owner.inlining.append(fdef.name)
        try:
            inner = _ExprBuilder(self.owner, self.allowed,
                                 f"{self.context} (through function '{fdef.name}')", scope)
            return inner.build(fdef.body)
        finally:
            self.owner.inlining.pop()
