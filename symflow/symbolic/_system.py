"""The `System`: the contract between the build stage, every pass, and codegen.

A System is immutable. Each pass takes one and returns a new one
(`dataclasses.replace`). Its expressions are SymPy expressions over one symbol
per parameter, variable and observed output (an array variable is one symbol;
see `_arrays.py`) and the time symbol `t`.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import sympy as sp

from ..errors import Span
from ._arrays import shape_of
from ._fields import BoundaryCondition, Dimension


__all__ = ["Parameter", "Variable", "Equation", "Observed", "Settings", "System"]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A parameter (or, with `constant=True`, a constant folded in at compile time).

    `default` is an expression of earlier parameters; `value` is its number.
    """

    name: str
    symbol: sp.Symbol
    default: sp.Expr
    value: float
    bounds: tuple[float, float] | None
    doc: str | None
    span: Span
    constant: bool = False


@dataclasses.dataclass(frozen=True)
class Variable:
    """A scalar (`shape == ()`) or array variable. `initial` is an expression of
    parameters whose shape broadcasts to `shape`, or `None`."""

    name: str
    symbol: sp.Symbol
    shape: tuple[int, ...]
    initial: sp.Expr | None
    doc: str | None
    span: Span

    @property
    def size(self) -> int:
        return 1 if self.shape == () else self.shape[0]


@dataclasses.dataclass(frozen=True)
class Equation:
    """`kind == "ode"`: der(target) = rhs; `kind == "algebraic"`: target = rhs.

    An array target defined by several equations has one `Equation` whose `rhs`
    is a `Concat` of the pieces; `spans` lists the source equations.
    """

    kind: Literal["ode", "algebraic"]
    target: str
    rhs: sp.Expr
    spans: tuple[Span, ...]


@dataclasses.dataclass(frozen=True)
class Observed:
    """A derived output saved with the solution."""

    name: str
    symbol: sp.Symbol
    expr: sp.Expr
    shape: tuple[int, ...]
    doc: str | None
    span: Span | None


@dataclasses.dataclass(frozen=True)
class Settings:
    """The model's `simulate` section, with defaults filled in.

    `saveat` is a number of evenly spaced points or a tuple of times. `spans`
    maps each setting written in the file to its place, for error messages.
    """

    tspan: tuple[float, float] = (0.0, 1.0)
    solver: str = "auto"
    rtol: float = 1e-6
    atol: float = 1e-9
    saveat: int | tuple[float, ...] = 101
    dt0: float | None = None
    max_steps: int = 100_000
    scheme: str = "central"  # space discretization of PDE fields
    order: int = 2  # order of the finite differences
    spans: tuple[tuple[str, Span], ...] = ()

    def span_of(self, name: str) -> Span | None:
        return dict(self.spans).get(name)


@dataclasses.dataclass(frozen=True)
class System:
    """A model as equations: what every pass transforms and codegen compiles."""

    name: str
    time: sp.Symbol
    parameters: tuple[Parameter, ...]
    variables: tuple[Variable, ...]
    equations: tuple[Equation, ...]
    observed: tuple[Observed, ...]
    settings: Settings
    file: str = "<string>"
    # PDEs (see _fields.py): the space dimensions, each field's coordinates, and
    # the boundary conditions; empty for an ODE model.
    domain: tuple[Dimension, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    boundary: tuple[BoundaryCondition, ...] = ()

    @property
    def states(self) -> tuple[Variable, ...]:
        """Variables defined by an ODE, in declaration order."""
        ode = {e.target for e in self.equations if e.kind == "ode"}
        return tuple(v for v in self.variables if v.name in ode)

    @property
    def algebraics(self) -> tuple[Variable, ...]:
        algebraic = {e.target for e in self.equations if e.kind == "algebraic"}
        return tuple(v for v in self.variables if v.name in algebraic)

    @property
    def free_parameters(self) -> tuple[Parameter, ...]:
        """Parameters that are not constants."""
        return tuple(p for p in self.parameters if not p.constant)

    def equation_for(self, name: str) -> Equation:
        return next(e for e in self.equations if e.target == name)

    def shapes(self) -> dict[sp.Symbol, tuple[int, ...]]:
        out = {v.symbol: v.shape for v in self.variables}
        out.update({o.symbol: o.shape for o in self.observed})
        return out

    def shape_of(self, expr: sp.Expr) -> tuple[int, ...]:
        return shape_of(expr, self.shapes())

    def __str__(self) -> str:
        return format_system(self)


def format_system(system: System) -> str:
    """The equations as text, as `symflow show` prints them."""
    lines = [f"model {system.name}"]
    n_eq = len(system.equations)
    lines.append(
        f"  # {len(system.states)} states ({sum(v.size for v in system.states)} scalars), "
        f"{len(system.algebraics)} algebraic, {len(system.observed)} observed, "
        f"{len(system.free_parameters)} parameters, {n_eq} equations"
    )
    if system.free_parameters:
        lines.append("  parameters")
        for p in system.free_parameters:
            lines.append(f"    {p.name} = {p.value:g}")
    constants = [p for p in system.parameters if p.constant]
    if constants:
        lines.append("  constants")
        for p in constants:
            lines.append(f"    {p.name} = {p.value:g}")
    lines.append("  variables")
    for v in system.variables:
        dims = f"[{v.shape[0]}]" if v.shape else ""
        init = "" if v.initial is None else f" = {v.initial}"
        lines.append(f"    {v.name}{dims}{init}")
    lines.append("  equations")
    for e in system.equations:
        lhs = f"der({e.target})" if e.kind == "ode" else e.target
        lines.append(f"    {lhs} = {e.rhs}")
    if system.observed:
        lines.append("  observed")
        for o in system.observed:
            lines.append(f"    {o.name} = {o.expr}")
    lines.append("end")
    return "\n".join(lines)


def latex_system(system: System) -> str:
    """The equations as a LaTeX `aligned` block (for Jupyter and `show --latex`)."""
    rows = []
    for e in system.equations:
        name = sp.latex(sp.Symbol(e.target))
        lhs = rf"\frac{{d{name}}}{{dt}}" if e.kind == "ode" else name
        rows.append(rf"{lhs} &= {sp.latex(e.rhs)}")
    for o in system.observed:
        rows.append(rf"{sp.latex(o.symbol)} &= {sp.latex(o.expr)}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"
