"""Build stage: AST to a `System` of SymPy expressions.

- `system`: the `System` and what it holds (the contract with passes and codegen);
- `nodes`: the IR vocabulary (array, field, special, loop and closure nodes);
- `builder`: AST to `System` (`build`, the entry);
- `classify_noise`, `milstein_correction`: the noise of an SDE `System`.

Other packages import these names from here, not from the modules.
"""

from ._noise import (
    NOISE_CLASSES as NOISE_CLASSES,
    NoiseClass as NoiseClass,
    aligned_derivative as aligned_derivative,
    classify_noise as classify_noise,
    componentwise_noise as componentwise_noise,
    milstein_correction as milstein_correction,
)
from .builder import (
    ODE_SOLVERS as ODE_SOLVERS,
    SAMPLER_GRIDS as SAMPLER_GRIDS,
    SDE_SOLVERS as SDE_SOLVERS,
    SETTINGS as SETTINGS,
    Scope as Scope,
    build as build,
    build_expression as build_expression,
    check_solver as check_solver,
    function_scope as function_scope,
)
from .nodes import (
    ArrayFunction as ArrayFunction,
    ArraySum as ArraySum,
    AxisConcat as AxisConcat,
    AxisShift as AxisShift,
    AxisSlice as AxisSlice,
    ClosureOutput as ClosureOutput,
    Concat as Concat,
    Coordinate as Coordinate,
    Diff as Diff,
    Dot as Dot,
    Element as Element,
    Fill as Fill,
    Flatten as Flatten,
    GridView as GridView,
    MeshCoordinate as MeshCoordinate,
    NewtonSolve as NewtonSolve,
    Part as Part,
    Shift as Shift,
    Sigmoid as Sigmoid,
    SoftmaxWeight as SoftmaxWeight,
    Stack as Stack,
    broadcast_shapes as broadcast_shapes,
    closure_outputs_in as closure_outputs_in,
    der_symbol as der_symbol,
    integral_of as integral_of,
    is_der as is_der,
    loop_symbols as loop_symbols,
    shape_of as shape_of,
)
from .system import (
    BoundaryCondition as BoundaryCondition,
    Brownian as Brownian,
    Closure as Closure,
    Dimension as Dimension,
    Equation as Equation,
    Observed as Observed,
    Parameter as Parameter,
    Settings as Settings,
    System as System,
    Variable as Variable,
    format_system as format_system,
    latex_system as latex_system,
)
