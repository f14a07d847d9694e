"""The PDE parts of the build stage: `domain`, the shape of fields, `boundary`, and the
checks of grid points and schemes.

This module only knows what is special about space; names and expressions are
`scope.py` and `expressions.py`, the derivatives `diff`/`laplacian` in expressions
are `derivatives.py`. Nothing here discretizes.
"""

from __future__ import annotations

import math
from typing import Literal

import sympy as sp

from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import MeshCoordinate
from ..system import BoundaryCondition, Dimension, Settings
from .expressions import ExprBuilder, constant_integer, constant_number
from .scope import MAX_LENGTH, TIME, Scope

__all__ = ["build_domain", "field_shape", "build_boundary", "check_points", "check_spectral"]


MAX_DIMENSIONS = 3


def build_domain(scope: Scope, nodes) -> tuple[Dimension, ...]:
    """The dimensions of the `domain` section; each coordinate is declared as a name
    whose value is its grid (a `Coordinate` array)."""
    out: list[Dimension] = []
    for d in nodes:
        if len(out) >= MAX_DIMENSIONS:
            raise SymflowError(
                f"a domain has at most {MAX_DIMENSIONS} dimensions", d.span)
        lower = constant_number(scope, d.lower, f"the lower end of '{d.name}'")
        upper = constant_number(scope, d.upper, f"the upper end of '{d.name}'")
        if not lower < upper:
            raise SymflowError(f"the interval of '{d.name}' is empty or reversed",
                               d.lower.span, help=f"write {d.name} in [a, b] with a < b")
        points, periodic, points_span = None, False, d.span
        seen: set[str] = set()
        for option in d.options:
            if option.name in seen:
                raise SymflowError(f"'{option.name}' is given twice", option.span)
            seen.add(option.name)
            if option.name == "points":
                if option.value is None:
                    raise SymflowError("points needs a value: points = 101", option.span)
                points = constant_integer(scope, option.value, "points")
                points_span = option.value.span
                if points < 2:
                    raise SymflowError("a grid needs at least 2 points", points_span)
                if points > MAX_LENGTH:
                    raise SymflowError("too many grid points", points_span,
                                       help=f"at most {MAX_LENGTH:,}")
            elif option.name == "periodic":
                if option.value is not None:
                    raise SymflowError("periodic takes no value", option.span)
                periodic = True
            else:
                raise SymflowError(f"unknown domain option '{option.name}'", option.span,
                                   help="options: points = n, periodic")
        if points is None:
            raise SymflowError(f"dimension '{d.name}' needs a number of grid points",
                               d.span, help=f"write {d.name} in [a, b], points = 101")
        if any(o.name == d.name for o in out):
            raise SymflowError(f"'{d.name}' is declared twice", d.span)
        out.append(Dimension(d.name, lower, upper, points, periodic, points_span))
    # A coordinate is the array of its grid points; on a grid of 2 or 3 dimensions,
    # its value at every point of the (flattened) grid, like a field.
    shape = tuple(d.points for d in out)
    size = math.prod(shape)
    if size > MAX_LENGTH:
        raise SymflowError("too many grid points", nodes[-1].span,
                           help=f"at most {MAX_LENGTH:,} in all")
    for axis, (d, node) in enumerate(zip(out, nodes)):
        if len(out) == 1:
            scope.declare(d.name, "coordinate", node.span, symbol=d.coordinate,
                            shape=(d.points,))
        else:
            symbol = MeshCoordinate(sp.Integer(axis), sp.Float(d.lower), sp.Float(d.upper),
                                    sp.Integer(int(d.periodic)),
                                    sp.Tuple(*map(sp.Integer, shape)), sp.Integer(1))
            scope.declare(d.name, "coordinate", node.span, symbol=symbol, shape=(size,))
    return tuple(out)


def field_shape(v: ast.Variable, dims: tuple[Dimension, ...]) -> tuple[int, ...]:
    """The shape of a field `u(x)`, after checking its coordinates."""
    coordinates = v.coordinates
    assert coordinates is not None  # the caller passes fields only
    by_name = {d.name: d for d in dims}
    if not dims:
        raise SymflowError(f"field '{v.name}' needs a domain", v.span,
                           help="declare its coordinates under `domain`: "
                                "x in [0, 1], points = 101")
    for c in coordinates:
        if c not in by_name:
            raise SymflowError(
                f"'{c}' is not a coordinate of the domain", v.span,
                help="the domain declares: " + ", ".join(by_name))
    if len(set(coordinates)) != len(coordinates):
        raise SymflowError(f"field '{v.name}' names a coordinate twice", v.span)
    if tuple(coordinates) != tuple(d.name for d in dims):
        raise SymflowError(
            f"field '{v.name}' must depend on every coordinate of the domain, in order: "
            f"{v.name}({', '.join(d.name for d in dims)})", v.span)
    return (math.prod(by_name[c].points for c in coordinates),)  # flat, x-major


def check_points(dims: tuple[Dimension, ...], order: int, order_span: Span | None,
                 scheme: str = "central") -> None:
    """Too few points for the stencils of `order` (their boundary closures must not
    overlap) is an error on the `points` of the dimension; so is an order the
    scheme does not have (central: 2, 4; upwind: 1, 2)."""
    allowed = (1, 2) if scheme == "upwind" else (2, 4)
    if order not in allowed:
        raise SymflowError(f"scheme {scheme} has no differences of order {order}",
                           order_span, help="order = " + " or ".join(map(str, allowed)))
    order = max(order, 2)
    for d in dims:
        need = order + 1 if d.periodic else 2 * order + 1
        if d.points < need:
            raise SymflowError(
                f"'{d.name}' has {d.points} points, too few for differences of order "
                f"{order}", d.span,
                help=f"use at least {need} points" + ("" if order_span is None else
                                                      " or a lower order"))


def check_spectral(scope: Scope, settings: Settings) -> None:
    """`scheme = spectral` needs periodic dimensions; derivatives of order 3 and 4
    and `dealias` need `scheme = spectral` (see passes/discretization/spectral.py)."""
    spectral = settings.scheme == "spectral"
    if spectral:
        for d in scope.dimensions:
            if not d.periodic:
                raise SymflowError(
                    f"scheme = spectral needs periodic dimensions; '{d.name}' is not",
                    settings.span_of("scheme"),
                    help=f"add `periodic` to the domain line of {d.name}, or use "
                         "scheme = central")
    high = scope.high_derivatives
    if high and not spectral:
        raise SymflowError("derivatives of order 3 and 4 need scheme = spectral", high[0],
                           help="finite differences take diff(u, x) and diff(u, x, 2)")
    if settings.span_of("dealias") is not None:
        if not spectral:
            raise SymflowError("dealias applies to scheme = spectral",
                               settings.span_of("dealias"))
        if not 0 < settings.dealias <= 1:
            raise SymflowError("dealias is the fraction of Fourier modes kept, in (0, 1]",
                               settings.span_of("dealias"),
                               help="dealias = 2/3 (Orszag's rule), or 1 for none")


def build_boundary(scope: Scope, nodes) -> tuple[BoundaryCondition, ...]:
    """The `boundary` section: one condition per field side, each linear in the
    field value and its first derivative there; every side of every field on a
    non-periodic dimension needs one."""
    dims = {d.name: d for d in scope.dimensions}
    out: list[BoundaryCondition] = []
    for bc in nodes:
        if bc.coordinate not in dims:
            raise SymflowError(
                f"'{bc.coordinate}' is not a coordinate of the domain", bc.span,
                help=("the domain declares: " + ", ".join(dims)) if dims
                else "declare the domain first")
        dim = dims[bc.coordinate]
        if dim.periodic:
            raise SymflowError(
                f"'{dim.name}' is periodic: it has no boundary to give a condition at",
                bc.span, help="remove the condition, or `periodic` from the domain")
        at, side = _boundary_side(scope, bc, dim)
        field = _boundary_field(scope, bc)
        kind, value, coefficient = _linear_condition(scope, bc, dim, at, field)
        for other in out:
            if (other.field, other.dimension, other.side) == (field, dim.name, side):
                raise SymflowError(
                    f"'{field}' has two conditions at {dim.name} = {at:g}", bc.span,
                    notes=((other.span, "the other condition"),))
        out.append(BoundaryCondition(field, dim.name, side, kind, value, coefficient,
                                     bc.span))
    _check_every_side(scope, out)
    return tuple(out)


_ConditionKind = Literal["dirichlet", "neumann", "robin"]


def _boundary_side(scope: Scope, bc: ast.BoundaryCondition, dim: Dimension
                   ) -> tuple[float, Literal[0, 1]]:
    """Where a condition is (`at`) and which end of `dim` that is (0 lower, 1 upper)."""
    at = constant_number(scope, bc.at, "the place of a boundary condition")
    scale = max(1.0, abs(dim.lower), abs(dim.upper))
    if abs(at - dim.lower) <= 1e-12 * scale:
        return at, 0
    if abs(at - dim.upper) <= 1e-12 * scale:
        return at, 1
    raise SymflowError(
        f"{dim.name} = {at:g} is not a boundary of {dim.name} in "
        f"[{dim.lower:g}, {dim.upper:g}]", bc.at.span,
        help=f"conditions go at {dim.name} = {dim.lower:g} or {dim.name} = "
             f"{dim.upper:g}")


def _boundary_field(scope: Scope, bc: ast.BoundaryCondition) -> str:
    """The one field a condition is about."""
    used = sorted({n.id for side in (bc.lhs, bc.rhs) for n in ast.walk(side)
                   if isinstance(n, ast.Name) and n.id in scope.field_coordinates})
    if len(used) != 1:
        raise SymflowError(
            "a boundary condition is about one field" if used else
            "this boundary condition names no field", bc.lhs.span,
            help="write u = g, diff(u, x) = g or diff(u, x) + h*u = g")
    return used[0]


def _linear_condition(scope: Scope, bc: ast.BoundaryCondition, dim: Dimension, at: float,
                      field: str) -> tuple[_ConditionKind, sp.Expr, sp.Expr]:
    """`(kind, value, coefficient)` of a condition `lhs = rhs`, which must be linear in
    the field's value and its slope `diff(field, dim)` at the boundary."""
    value_symbol = sp.Symbol("_boundary_value", real=True)
    slope_symbol = sp.Symbol("_boundary_slope", real=True)
    # The other coordinates vary along the face: each is a scalar symbol here,
    # which the discretization pass replaces by its values on the face; the
    # boundary's own coordinate is the number `at`.
    face = {c.name: (sp.Float(at) if c.name == dim.name else sp.Symbol(c.name, real=True),
                     ()) for c in scope.dimensions}
    sides = []
    for part in (bc.lhs, bc.rhs):
        eb = ExprBuilder(scope, ("constant", "parameter", "variable"), "a boundary condition",
                         {**face, field: (value_symbol, ())},
                         boundary={"field": field, "coordinate": dim.name,
                                   "slope": slope_symbol})
        expr, shape = eb.build(part)
        if shape:
            raise SymflowError("a boundary condition must be a scalar equation", part.span)
        sides.append(expr)
    condition = sp.expand(sides[0] - sides[1])
    along = {sp.Symbol(c.name, real=True) for c in scope.dimensions if c.name != dim.name}
    allowed = set(scope.values) | along | {TIME, value_symbol, slope_symbol}
    for s in condition.free_symbols:
        if s not in allowed:
            raise SymflowError(
                f"a boundary condition cannot use the variable '{s}'", bc.span,
                help=f"it may use t, parameters, the coordinates along the face, "
                     f"{field} and diff({field}, {dim.name})")
    a = condition.diff(slope_symbol)
    b = condition.diff(value_symbol)
    rest = sp.expand(condition - a * slope_symbol - b * value_symbol)
    unknowns = {value_symbol, slope_symbol}
    if a.free_symbols & unknowns or b.free_symbols & unknowns or rest.free_symbols & unknowns:
        raise SymflowError(
            "a boundary condition must be linear in the field and its derivative",
            bc.span, help=f"write {field} = g, diff({field}, {dim.name}) = g or "
                          f"diff({field}, {dim.name}) + h*{field} = g")
    if a != 0:
        value, coefficient = sp.simplify(-rest / a), sp.simplify(b / a)
        return ("neumann" if coefficient == 0 else "robin"), value, coefficient
    if b != 0:
        return "dirichlet", sp.simplify(-rest / b), sp.Integer(0)
    raise SymflowError(f"this condition does not constrain '{field}'", bc.span)


def _check_every_side(scope: Scope, conditions: list[BoundaryCondition]) -> None:
    """Every field needs a condition at both ends of each non-periodic dimension."""
    dims = {d.name: d for d in scope.dimensions}
    for name, coords in scope.field_coordinates.items():
        for c in coords:
            d = dims[c]
            if d.periodic:
                continue
            for side, at in ((0, d.lower), (1, d.upper)):
                if not any((b.field, b.dimension, b.side) == (name, c, side)
                           for b in conditions):
                    raise SymflowError(
                        f"field '{name}' has no boundary condition at {c} = {at:g}",
                        scope.names[name].span,
                        help=f"add under boundary: `{name} = 0 at {c} = {at:g}` "
                             f"(Dirichlet), `diff({name}, {c}) = 0 at {c} = {at:g}` "
                             "(Neumann), or make the dimension periodic")
