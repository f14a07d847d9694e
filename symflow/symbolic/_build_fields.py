"""The PDE parts of the build stage: `domain`, fields, `diff`/`laplacian`, `boundary`.

Called from `_build.py` (which owns names, expressions and their checks); this
module only knows what is special about space. Nothing here discretizes: a
derivative becomes a `Diff` node, which `passes/discretization.py` replaces.
"""

from __future__ import annotations

import math

import sympy as sp

from ..errors import Span, SymflowError
from ..lang import ast
from ._fields import BoundaryCondition, Diff, Dimension, MeshCoordinate


__all__ = ["build_domain", "field_shape", "build_diff", "build_boundary",
           "check_points", "check_spectral", "SCHEMES", "ORDERS"]


SCHEMES = ("central", "upwind", "spectral")
ORDERS = (1, 2, 4)
MAX_DIMENSIONS = 3


def build_domain(builder, nodes) -> tuple[Dimension, ...]:
    """The dimensions of the `domain` section; each coordinate is declared as a name
    whose value is its grid (a `Coordinate` array)."""
    out: list[Dimension] = []
    for d in nodes:
        if len(out) >= MAX_DIMENSIONS:
            raise SymflowError(
                f"a domain has at most {MAX_DIMENSIONS} dimensions", d.span)
        lower = builder.constant_number(d.lower, f"the lower end of '{d.name}'")
        upper = builder.constant_number(d.upper, f"the upper end of '{d.name}'")
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
                points = builder.constant_integer(option.value, "points")
                points_span = option.value.span
                if points < 2:
                    raise SymflowError("a grid needs at least 2 points", points_span)
                if points > builder.MAX_LENGTH:
                    raise SymflowError("too many grid points", points_span,
                                       help=f"at most {builder.MAX_LENGTH:,}")
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
    if size > builder.MAX_LENGTH:
        raise SymflowError("too many grid points", nodes[-1].span,
                           help=f"at most {builder.MAX_LENGTH:,} in all")
    for axis, (d, node) in enumerate(zip(out, nodes)):
        if len(out) == 1:
            builder.declare(d.name, "coordinate", node.span, symbol=d.coordinate,
                            shape=(d.points,))
        else:
            symbol = MeshCoordinate(sp.Integer(axis), sp.Float(d.lower), sp.Float(d.upper),
                                    sp.Integer(int(d.periodic)),
                                    sp.Tuple(*map(sp.Integer, shape)), sp.Integer(1))
            builder.declare(d.name, "coordinate", node.span, symbol=symbol, shape=(size,))
    return tuple(out)


def field_shape(builder, v: ast.Variable, dims: tuple[Dimension, ...]) -> tuple[int, ...]:
    """The shape of a field `u(x)`, after checking its coordinates."""
    by_name = {d.name: d for d in dims}
    if not dims:
        raise SymflowError(f"field '{v.name}' needs a domain", v.span,
                           help="declare its coordinates under `domain`: "
                                "x in [0, 1], points = 101")
    for c in v.coordinates:
        if c not in by_name:
            raise SymflowError(
                f"'{c}' is not a coordinate of the domain", v.span,
                help="the domain declares: " + ", ".join(by_name))
    if len(set(v.coordinates)) != len(v.coordinates):
        raise SymflowError(f"field '{v.name}' names a coordinate twice", v.span)
    if tuple(v.coordinates) != tuple(d.name for d in dims):
        raise SymflowError(
            f"field '{v.name}' must depend on every coordinate of the domain, in order: "
            f"{v.name}({', '.join(d.name for d in dims)})", v.span)
    return (math.prod(by_name[c].points for c in v.coordinates),)  # flat, x-major


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


def check_spectral(builder, settings) -> None:
    """`scheme = spectral` needs periodic dimensions; derivatives of order 3 and 4
    and `dealias` need `scheme = spectral` (see passes/spectral_discretization.py)."""
    spectral = settings.scheme == "spectral"
    if spectral:
        for d in builder.dimensions:
            if not d.periodic:
                raise SymflowError(
                    f"scheme = spectral needs periodic dimensions; '{d.name}' is not",
                    settings.span_of("scheme"),
                    help=f"add `periodic` to the domain line of {d.name}, or use "
                         "scheme = central")
    high = builder.__dict__.get("_high_derivatives", [])
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


def build_diff(expr_builder, node: ast.Call):
    """`diff(u, x)`, `diff(u, x, k)` and `laplacian(u)` as `Diff` nodes."""
    owner = expr_builder.owner
    name = node.func
    boundary = getattr(expr_builder, "boundary", None)
    if name == "laplacian":
        if len(node.args) != 1:
            raise SymflowError(f"laplacian takes 1 argument, got {len(node.args)}",
                               node.span)
    elif not 2 <= len(node.args) <= 3:
        raise SymflowError(f"diff takes 2 or 3 arguments: diff(u, x) or diff(u, x, 2); "
                           f"got {len(node.args)}", node.span)
    target = node.args[0]
    fields = owner.field_coordinates
    if not (isinstance(target, ast.Name) and target.id in fields):
        if isinstance(target, ast.Name) and target.id not in owner.names:
            owner.resolve(target)  # undeclared: say so
        if isinstance(target, ast.Name) or boundary is not None or name == "laplacian":
            raise SymflowError(
                f"{name} differentiates a field: the first argument must name one" if
                isinstance(target, ast.Name) or boundary is not None else
                "laplacian takes a field; write the divergence of a flux as "
                "diff(D*diff(u, x), x) + diff(D*diff(u, y), y)",
                target.span, help="fields are declared as u(x) = ... under variables")
        return _build_expression_diff(expr_builder, node)
    coords = fields[target.id]
    if name == "laplacian":
        wrts, order = list(coords), 2
    else:
        wrt = node.args[1]
        if not isinstance(wrt, ast.Name):
            raise SymflowError("the second argument of diff must name a coordinate",
                               wrt.span)
        if wrt.id == "t":
            raise SymflowError("diff is for space derivatives; the time derivative is "
                               "der(u), on the left side of an equation", wrt.span)
        dims = {d.name for d in owner.dimensions}
        if wrt.id not in dims:
            raise SymflowError(
                f"'{wrt.id}' is not a coordinate of the domain", wrt.span,
                help=("the domain declares: " + ", ".join(sorted(dims))) if dims
                else "declare it under `domain`")
        if wrt.id not in coords:
            raise SymflowError(
                f"field '{target.id}' depends on ({', '.join(coords)}), not on '{wrt.id}'",
                wrt.span)
        order = 1
        if len(node.args) == 3:
            order = owner.constant_integer(node.args[2], "the order of a derivative")
            if order not in (1, 2, 3, 4):
                raise SymflowError("diff takes derivatives of order 1 to 4 (3 and 4 with "
                                   "scheme = spectral)", node.args[2].span)
            if order > 2:  # finite differences stop at 2: checked with the scheme
                owner.__dict__.setdefault("_high_derivatives", []).append(node.args[2].span)
        wrts = [wrt.id]
    if boundary is not None:
        if name != "diff" or order != 1 or target.id != boundary["field"] \
                or wrts[0] != boundary["coordinate"]:
            raise SymflowError(
                "a boundary condition may use the field and its first derivative along "
                f"the boundary's coordinate, diff({boundary['field']}, "
                f"{boundary['coordinate']})", node.span)
        return boundary["slope"], ()
    if "variable" not in expr_builder.allowed:
        raise SymflowError(f"{expr_builder.context} cannot use {name}", node.span)
    symbol = owner.names[target.id].symbol
    shape = owner.names[target.id].shape
    terms = [Diff(symbol, sp.Symbol(w, real=True), sp.Integer(order)) for w in wrts]
    return sp.Add(*terms), shape


def _build_expression_diff(expr_builder, node: ast.Call):
    """`diff(F, x)` of an expression `F` of fields: a flux in conservative form,
    `diff(D(u)*diff(u, x), x)`, or a mixed derivative `diff(diff(u, x), y)`. The
    discretization pass differences `F` between grid points."""
    owner = expr_builder.owner
    if "variable" not in expr_builder.allowed:
        raise SymflowError(f"{expr_builder.context} cannot use diff", node.span)
    if len(node.args) == 3:
        order = owner.constant_integer(node.args[2], "the order of a derivative")
        if order != 1:
            raise SymflowError(
                "the derivative of an expression is of first order",
                node.args[2].span, help="write diff(diff(F, x), x), or diff(u, x, 2) of a field")
    wrt = node.args[1]
    if not isinstance(wrt, ast.Name):
        raise SymflowError("the second argument of diff must name a coordinate", wrt.span)
    if wrt.id == "t":
        raise SymflowError("diff is for space derivatives; the time derivative is "
                           "der(u), on the left side of an equation", wrt.span)
    dims = [d.name for d in owner.dimensions]
    if wrt.id not in dims:
        raise SymflowError(
            f"'{wrt.id}' is not a coordinate of the domain", wrt.span,
            help=("the domain declares: " + ", ".join(dims)) if dims
            else "declare it under `domain`")
    expr, shape = expr_builder.build(node.args[0])
    field_symbols = {owner.names[f].symbol for f in owner.field_coordinates}
    if not (expr.free_symbols & field_symbols) and not expr.has(Diff):
        raise SymflowError("diff differentiates an expression of fields; this one "
                           "names none", node.args[0].span,
                           help="the derivative of a coefficient alone is known: "
                                "write it out")
    return Diff(expr, sp.Symbol(wrt.id, real=True), sp.Integer(1)), shape


def _names_in(node) -> list[ast.Name]:
    from ._build import _ast_children

    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            out.append(n)
        elif isinstance(n, ast.Call):
            stack.extend(n.args)
        else:
            stack.extend(_ast_children(n))
    return out


def build_boundary(builder, nodes, expr_builder_class) -> tuple[BoundaryCondition, ...]:
    """The `boundary` section: one condition per field side, each linear in the
    field value and its first derivative there."""
    dims = {d.name: d for d in builder.dimensions}
    fields = builder.field_coordinates
    parameters = {p for p in builder.values}
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
        at = builder.constant_number(bc.at, "the place of a boundary condition")
        scale = max(1.0, abs(dim.lower), abs(dim.upper))
        if abs(at - dim.lower) <= 1e-12 * scale:
            side = 0
        elif abs(at - dim.upper) <= 1e-12 * scale:
            side = 1
        else:
            raise SymflowError(
                f"{dim.name} = {at:g} is not a boundary of {dim.name} in "
                f"[{dim.lower:g}, {dim.upper:g}]", bc.at.span,
                help=f"conditions go at {dim.name} = {dim.lower:g} or {dim.name} = "
                     f"{dim.upper:g}")
        used = sorted({n.id for n in _names_in(bc.lhs) + _names_in(bc.rhs)
                       if n.id in fields})
        if len(used) != 1:
            raise SymflowError(
                "a boundary condition is about one field" if used else
                "this boundary condition names no field", bc.lhs.span,
                help="write u = g, diff(u, x) = g or diff(u, x) + h*u = g")
        field = used[0]
        value_symbol = sp.Symbol("_boundary_value", real=True)
        slope_symbol = sp.Symbol("_boundary_slope", real=True)
        # The other coordinates vary along the face: each is a scalar symbol here,
        # which the discretization pass replaces by its values on the face; the
        # boundary's own coordinate is the number `at`.
        face = {c.name: (sp.Float(at) if c.name == dim.name else sp.Symbol(c.name, real=True),
                         ()) for c in builder.dimensions}
        sides = []
        for part in (bc.lhs, bc.rhs):
            eb = expr_builder_class(builder, ("constant", "parameter", "variable"),
                                    "a boundary condition", {**face, field: (value_symbol, ())})
            eb.boundary = {"field": field, "coordinate": dim.name, "slope": slope_symbol}
            expr, shape = eb.build(part)
            if shape:
                raise SymflowError("a boundary condition must be a scalar equation",
                                   part.span)
            sides.append(expr)
        condition = sp.expand(sides[0] - sides[1])
        along = {sp.Symbol(c.name, real=True) for c in builder.dimensions if c.name != dim.name}
        allowed = parameters | along | {builder.TIME, value_symbol, slope_symbol}
        for s in condition.free_symbols:
            if s not in allowed:
                raise SymflowError(
                    f"a boundary condition cannot use the variable '{s}'", bc.span,
                    help=f"it may use t, parameters, the coordinates along the face, "
                         f"{field} and diff({field}, {dim.name})")
        a = condition.diff(slope_symbol)
        b = condition.diff(value_symbol)
        rest = sp.expand(condition - a * slope_symbol - b * value_symbol)
        if a.free_symbols & {value_symbol, slope_symbol} or b.free_symbols & {
                value_symbol, slope_symbol} or rest.free_symbols & {value_symbol, slope_symbol}:
            raise SymflowError(
                "a boundary condition must be linear in the field and its derivative",
                bc.span, help=f"write {field} = g, diff({field}, {dim.name}) = g or "
                              f"diff({field}, {dim.name}) + h*{field} = g")
        if a != 0:
            value, coefficient = sp.simplify(-rest / a), sp.simplify(b / a)
            kind = "neumann" if coefficient == 0 else "robin"
        elif b != 0:
            value, coefficient, kind = sp.simplify(-rest / b), sp.Integer(0), "dirichlet"
        else:
            raise SymflowError(f"this condition does not constrain '{field}'", bc.span)
        for other in out:
            if (other.field, other.dimension, other.side) == (field, dim.name, side):
                raise SymflowError(
                    f"'{field}' has two conditions at {dim.name} = {at:g}", bc.span,
                    notes=((other.span, "the other condition"),))
        out.append(BoundaryCondition(field, dim.name, side, kind, value, coefficient,
                                     bc.span))
    for name, coords in fields.items():
        for c in coords:
            d = dims[c]
            if d.periodic:
                continue
            for side, at in ((0, d.lower), (1, d.upper)):
                if not any((b.field, b.dimension, b.side) == (name, c, side) for b in out):
                    raise SymflowError(
                        f"field '{name}' has no boundary condition at {c} = {at:g}",
                        builder.names[name].span,
                        help=f"add under boundary: `{name} = 0 at {c} = {at:g}` "
                             f"(Dirichlet), `diff({name}, {c}) = 0 at {c} = {at:g}` "
                             "(Neumann), or make the dimension periodic")
    return tuple(out)
