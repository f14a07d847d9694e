"""The `System`: the contract between the build stage, every pass, and codegen.

A System is immutable. Each pass takes one and returns a new one
(`dataclasses.replace`). Its expressions are SymPy expressions over one symbol
per parameter, variable and observed output (an array variable is one symbol;
see `nodes/arrays.py`) and the time symbol `t`. Also here: the data a System
holds besides expressions (dimensions, boundary conditions, Brownian motions,
closure declarations).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import sympy as sp

from ..errors import Span
from .nodes import Coordinate, Stack, shape_of

__all__ = ["Parameter", "Variable", "Equation", "Observed", "Pivot", "Settings", "System",
           "Dimension", "BoundaryCondition", "Brownian", "Closure", "Input", "format_system",
           "latex_system"]


@dataclasses.dataclass(frozen=True)
class Dimension:
    """A space dimension: `name in [lower, upper], points = n[, periodic]`.

    A non-periodic grid holds both ends (spacing `(upper - lower)/(points - 1)`);
    a periodic one holds `points` cells of a period `upper - lower` and omits the
    right end, which is the left end again.
    """

    name: str
    lower: float
    upper: float
    points: int
    periodic: bool
    span: Span

    @property
    def spacing(self) -> float:
        cells = self.points if self.periodic else self.points - 1
        return (self.upper - self.lower) / cells

    @property
    def coordinate(self) -> Coordinate:
        return Coordinate(sp.Float(self.lower), sp.Float(self.upper), sp.Integer(self.points),
                          sp.Integer(int(self.periodic)))

    def grid(self):
        """The grid points as a NumPy array."""
        import numpy as np

        if self.periodic:
            return self.lower + self.spacing * np.arange(self.points)
        return np.linspace(self.lower, self.upper, self.points)


@dataclasses.dataclass(frozen=True)
class BoundaryCondition:
    """A condition on one side of one field.

    `kind == "dirichlet"`: u = value; `"neumann"`: du/dx = value; `"robin"`:
    du/dx + coefficient*u = value. The derivative is along the coordinate (not
    the outward normal). `value` and `coefficient` are expressions of `t`,
    parameters and the other coordinates (scalar symbols named like them: the
    value varies along the face; the discretization pass lays it on the face). `side`
    is 0 for the lower end of the dimension, 1 for the upper.
    """

    field: str
    dimension: str
    side: Literal[0, 1]
    kind: Literal["dirichlet", "neumann", "robin"]
    value: sp.Expr
    coefficient: sp.Expr
    span: Span


@dataclasses.dataclass(frozen=True)
class Brownian:
    """A declared Wiener process `W`; `increment` is the symbol of `dW` in equations.

    A Brownian field `W(x)` has `coordinates == ("x",)` and one independent
    standard Brownian motion per grid point (`size` of them); its increment is
    an array symbol of that length.
    """

    name: str
    increment: sp.Symbol
    span: Span
    coordinates: tuple[str, ...] = ()
    size: int = 1
    spacing: float = 1.0  # the grid spacing of a Brownian field


@dataclasses.dataclass(frozen=True)
class Closure:
    """One closure declaration: what `Model.closures` describes.

    - `name`: the key of its weights in `params["closures"]` (its outputs joined
      by `_`: `U1_U2`).
    - `outputs`: the names of its outputs, in order.
    - `inputs`: the input expressions (SymPy, as built from the model text,
      before any pass); `input_text`: the same as written in the file.
    - `input_shape`: `()` for scalars, `(n,)` for inputs on a grid of n points.
    - `depends_on`: names of the model's variables, parameters and other
      closures' outputs that the inputs use (sorted; through other closures too),
      and `"t"` if they use time.
    - `width`, `depth`, `activation`, `scale`, `seed`: the network's options.
    """

    name: str
    outputs: tuple[str, ...]
    inputs: tuple[sp.Expr, ...]
    input_text: tuple[str, ...]
    input_shape: tuple[int, ...]
    depends_on: tuple[str, ...]
    width: int
    depth: int
    activation: str
    scale: float
    seed: int
    span: Span | None = None

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def architecture(self) -> dict[str, Any]:
        """What the weights' shapes depend on (compared when weights are loaded)."""
        return {"inputs": self.n_inputs, "outputs": list(self.outputs), "width": self.width,
                "depth": self.depth, "activation": self.activation}

    def describe(self) -> str:
        options = f"width = {self.width}, depth = {self.depth}, activation = {self.activation}"
        if self.scale != 1.0:
            options += f", scale = {self.scale:g}"
        return (f"({', '.join(self.outputs)}) = mlp({', '.join(self.input_text)}, "
                f"{options})")


@dataclasses.dataclass(frozen=True)
class Input:
    """A time-varying input read from a table: `name = table("file.csv", ...)`.

    `knots` is the table's time column (strictly increasing), `values` the column
    read (the default of `params[name]`, which may replace them), `interpolation`
    and `extrapolation` names of `catalog.INTERPOLATIONS` and
    `catalog.EXTRAPOLATIONS`, `file` the path as written in the model, `column` the
    column read. In expressions the input is `TableInput` (see `nodes/inputs.py`).
    """

    name: str
    knots: tuple[float, ...]
    values: tuple[float, ...]
    interpolation: str
    extrapolation: str
    file: str
    column: str
    span: Span
    # the table's path as read (absolute, or relative to the working folder)
    path: str = ""

    def describe(self) -> str:
        return (f'{self.name} = table("{self.file}", column = "{self.column}", '
                f"interpolation = {self.interpolation}, extrapolation = "
                f"{self.extrapolation})  # {len(self.knots)} rows, t in "
                f"[{self.knots[0]:g}, {self.knots[-1]:g}]")


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A parameter (or, with `constant=True`, a constant folded in at compile time).

    `default` is an expression of earlier parameters; `value` is its number (one per
    element for an array parameter, `shape == (n,)`: the parameters of an array of
    components, `r.R`, are arrays).
    """

    name: str
    symbol: sp.Symbol
    default: sp.Expr
    value: float | tuple[float, ...]
    bounds: tuple[float, float] | None
    doc: str | None
    span: Span
    constant: bool = False
    shape: tuple[int, ...] = ()

    @property
    def number(self) -> sp.Expr:
        """`value` as a SymPy number (an array parameter: the `Stack` of its numbers, so
        that `Element(p, k)` with it put in is the number of element k)."""
        if isinstance(self.value, tuple):
            return Stack(*(sp.Float(x) for x in self.value))
        return sp.Float(self.value)


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
    # A random initial value `x ~ normal(mu, sd)` / `x ~ uniform(a, b)`: (kind, (a, b));
    # `initial` then holds its mean, for deterministic uses.
    distribution: tuple[str, tuple[sp.Expr, sp.Expr]] | None = None
    # A discrete state (the `discrete` section): changed only by events; its
    # equation is der(x) = 0.
    discrete: bool = False

    @property
    def size(self) -> int:
        return 1 if self.shape == () else self.shape[0]


@dataclasses.dataclass(frozen=True)
class Equation:
    """`kind == "ode"`: der(target) = rhs; `kind == "algebraic"`: target = rhs.

    An array target defined by several equations has one `Equation` whose `rhs`
    is a `Concat` of the pieces; `spans` lists the source equations.
    """

    kind: Literal["ode", "algebraic", "implicit"]
    target: str
    rhs: sp.Expr
    spans: tuple[Span, ...]
    # An SDE `d(x) = rhs*dt + sum_k diffusion[k]*dW_k` (kind "ode", `rhs` the drift):
    # one coefficient per Brownian motion of the System; empty for an ODE.
    diffusion: tuple[sp.Expr, ...] = ()
    # kind == "implicit": the equation `0 = rhs` (`der(x)` is the symbol
    # `der(x)`); `target` says where it came from ("" for the model's own,
    # "connection", ...); `order` counts how often index reduction differentiated it.
    order: int = 0


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
class Pivot:
    """A divisor of a symbolic solve that may pass through zero during a solve: an
    unknown found from `a * unknown + b = 0` with `a` depending on time or the states.

    Kept so that a failed solve can say which equation became singular where
    (`solve/simulate.py`), instead of the symptom (too many steps)."""

    expr: sp.Expr  # the divisor, in the states, parameters and time of the final ODE
    unknowns: tuple[str, ...]  # the names of what it determines
    span: Span | None  # the (first) equation that determines them

    @property
    def label(self) -> str:
        """What a message says of it: what it determines, and from where."""
        if len(self.unknowns) == 1:
            where = f" by the equation at {self.span}" if self.span is not None else ""
            return f"{self.unknowns[0]}, found{where} by dividing by {self.expr}"
        where = f" (equations from {self.span})" if self.span is not None else ""
        return (f"the loop in {', '.join(self.unknowns)}{where}, solved by dividing by "
                f"its determinant {self.expr}")


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
    trajectories: int = 1
    seed: int = 0
    noise: str = "ito"
    scheme: str = "central"  # space discretization of PDE fields
    order: int = 2  # order of the finite differences
    dealias: float = 1.0  # scheme = spectral: fraction of Fourier modes kept (2/3: Orszag)
    grid: str = "logsnr"  # diffusion samplers: the step grid
    grid_exponent: float | None = None  # grid = power (κ) or edm (ρ); None: the default
    steps: int | None = None  # diffusion samplers: model evaluations (NFE)
    max_events: int = 1000  # events: the most events one solve records
    event_samples: int = 3  # events: interior points of a step where conditions are checked
    interpretation: str = "ode"  # reaction networks: ode | langevin | jump
    conserved: str = "keep"  # reaction networks: keep | eliminate conserved moieties
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
    brownians: tuple = ()  # Brownian, in declaration order

    @property
    def is_sde(self) -> bool:
        return bool(self.brownians)

    # PDEs (see nodes/fields.py): the space dimensions, each field's coordinates, and
    # the boundary conditions; empty for an ODE model.
    domain: tuple[Dimension, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    boundary: tuple[BoundaryCondition, ...] = ()
    # DAEs: invariants `0 = g(t, states, p)` of the reduced ODE (the constraints that
    # index reduction differentiated and no dummy derivative made active again); the
    # solve projects each step onto them (see passes/dae/dae_to_ode.py, solve/projection.py).
    invariants: tuple[sp.Expr, ...] = ()
    # DAEs: the divisors of its symbolic solves that may vanish during a solve (`Pivot`)
    pivots: tuple[Pivot, ...] = ()
    # Neural closures (_closures.Closure), in declaration order; their outputs
    # appear in the equations as `ClosureOutput` nodes.
    closures: tuple = ()
    # Events (events.Event), in file order: the order simultaneous ones run in.
    events: tuple = ()
    # Inputs read from tables (`Input`), in declaration order; `TableInput` nodes.
    inputs: tuple = ()
    # A reaction network (`reactions.ReactionNetwork`) whose reaction-rate equations are
    # among `equations`; kept for the conservation analysis and the stochastic
    # interpretations. `None` for a model without one.
    reactions: Any = None
    # The `fit` section: each observable's noise model (`MeasurementNoise`), in file order.
    noise: tuple = ()
    # Every file read to build the model besides its own: imported model files and
    # input tables (absolute paths, sorted). A compiled program kept across processes
    # is valid only while they are unchanged (symflow/programs).
    sources: tuple[str, ...] = ()

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
        out.update({p.symbol: p.shape for p in self.parameters if p.shape})
        return out

    def shape_of(self, expr: sp.Expr) -> tuple[int, ...]:
        return shape_of(expr, self.shapes())

    def __str__(self) -> str:
        return format_system(self)


def format_system(system: System) -> str:
    """The equations as text, as `symflow show` prints them."""
    lines = [f"model {system.name}"]
    n_eq = len(system.equations)
    implicit = [e for e in system.equations if e.kind == "implicit"]
    if implicit:
        derivatives = {s.name for e in implicit for s in e.rhs.free_symbols
                       if s.name.startswith("der(")}
        lines.append(
            f"  # {len(implicit)} implicit equations, {len(system.variables)} variables "
            f"({len(derivatives)} derivatives appear), {len(system.observed)} observed, "
            f"{len(system.free_parameters)} parameters")
    else:
        lines.append(
            f"  # {len(system.states)} states ({sum(v.size for v in system.states)} scalars), "
            f"{len(system.algebraics)} algebraic, {len(system.observed)} observed, "
            f"{len(system.free_parameters)} parameters, {n_eq} equations"
        )
    if system.free_parameters:
        lines.append("  parameters")
        for p in system.free_parameters:
            lines.append(f"    {p.name} = {_shown(p.value)}")
    constants = [p for p in system.parameters if p.constant]
    if constants:
        lines.append("  constants")
        for p in constants:
            lines.append(f"    {p.name} = {_shown(p.value)}")
    if system.inputs:
        lines.append("  inputs")
        lines.extend(f"    {i.describe()}" for i in system.inputs)
    lines.append("  variables")
    for v in system.variables:
        dims = f"[{v.shape[0]}]" if v.shape else ""
        init = "" if v.initial is None else f" = {v.initial}"
        if v.distribution is not None:
            kind, (a, b) = v.distribution
            init = f" ~ {kind}({a}, {b})"
        lines.append(f"    {v.name}{dims}{init}" + ("  # discrete" if v.discrete else ""))
    if system.closures:
        lines.append("  closures")
        lines.extend(f"    {c.describe()}" for c in system.closures)
    if system.brownians:
        lines.append("  brownian")
        lines.append("    " + ", ".join(
            b.name + (f"({', '.join(b.coordinates)})" if getattr(b, "coordinates", ()) else "")
            for b in system.brownians))
    lines.append("  equations")
    for e in system.equations:
        if e.diffusion:
            noise = "".join(f" + ({g})*d{b.name}" for g, b in zip(e.diffusion, system.brownians)
                            if g != 0)
            lines.append(f"    d({e.target}) = ({e.rhs})*dt{noise}")
            continue
        if e.kind == "implicit":
            mark = f"  # d^{e.order}/dt^{e.order} of the model's equation" if e.order else ""
            lines.append(f"    0 = {e.rhs}{mark}")
            continue
        lhs = f"der({e.target})" if e.kind == "ode" else e.target
        lines.append(f"    {lhs} = {e.rhs}")
    if system.invariants:  # a DAE's constraints, kept by projecting each step
        lines.append("  invariants")
        lines += [f"    0 = {g}" for g in system.invariants]
    if system.observed:
        lines.append("  observed")
        for o in system.observed:
            lines.append(f"    {o.name} = {o.expr}")
    if system.events:
        lines.append("  events")
        lines += [f"    {e.label}" for e in system.events]
    lines.append("end")
    return "\n".join(lines)


def latex_system(system: System) -> str:
    """The equations as a LaTeX `aligned` block (for Jupyter and `show --latex`)."""
    rows = []
    for e in system.equations:
        name = sp.latex(sp.Symbol(e.target))
        if e.diffusion:
            noise = "".join(rf" + \left({sp.latex(g)}\right) dW_{{{b.name}}}"
                            for g, b in zip(e.diffusion, system.brownians) if g != 0)
            rows.append(rf"d{name} &= \left({sp.latex(e.rhs)}\right) dt{noise}")
            continue
        lhs = rf"\frac{{d{name}}}{{dt}}" if e.kind == "ode" else name
        rows.append(rf"{lhs} &= {sp.latex(e.rhs)}")
    for o in system.observed:
        rows.append(rf"{sp.latex(o.symbol)} &= {sp.latex(o.expr)}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _shown(value: float | tuple[float, ...]) -> str:
    """A parameter's value as `symflow show` prints it: an array as its numbers (a long
    one as its first few, and how many there are)."""
    if not isinstance(value, tuple):
        return f"{value:g}"
    if len(value) > 8 and len(set(value)) == 1:
        return f"[{value[0]:g}, ...]  # {len(value)} values, all {value[0]:g}"
    if len(value) > 8:
        return "[" + ", ".join(f"{x:g}" for x in value[:4]) + f", ...]  # {len(value)} values"
    return "[" + ", ".join(f"{x:g}" for x in value) + "]"
