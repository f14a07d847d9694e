"""Build stage: AST to a `System` of SymPy expressions."""

from ._arrays import (
    ArraySum as ArraySum,
    Concat as Concat,
    Dot as Dot,
    Element as Element,
    Fill as Fill,
    Part as Part,
    Stack as Stack,
    shape_of as shape_of,
)
from ._build import (
    ODE_SOLVERS as ODE_SOLVERS,
    SETTINGS as SETTINGS,
    build as build,
    check_solver as check_solver,
)
from ._special import (
    Sigmoid as Sigmoid,
    SoftmaxWeight as SoftmaxWeight,
)
from ._closures import (
    Closure as Closure,
    ClosureOutput as ClosureOutput,
)
from ._fields import (
    BoundaryCondition as BoundaryCondition,
    Coordinate as Coordinate,
    Diff as Diff,
    Dimension as Dimension,
    Shift as Shift,
)
from ._fields import (
    AxisConcat as AxisConcat,
    AxisShift as AxisShift,
    AxisSlice as AxisSlice,
    Flatten as Flatten,
    GridView as GridView,
    MeshCoordinate as MeshCoordinate,
)
from ._system import (
    Equation as Equation,
    Observed as Observed,
    Parameter as Parameter,
    Settings as Settings,
    System as System,
    Variable as Variable,
    format_system as format_system,
    latex_system as latex_system,
)
