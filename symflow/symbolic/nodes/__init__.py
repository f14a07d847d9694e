"""The IR vocabulary: the SymPy node classes the build stage makes and the passes rewrite.

`ArrayFunction` is the base of every array-valued node (its subclasses give
their shape through `_symflow_shape`, read by `shape_of`). One module per family:
arrays, fields (space), special functions, algebraic loops, closure outputs, the
symbols of time derivatives, and the spectral nodes of the Fourier
discretization. Printing to `jnp`
belongs to codegen's printer.
"""

from .arrays import (
    ArrayFunction as ArrayFunction,
    ArraySum as ArraySum,
    Concat as Concat,
    Dot as Dot,
    Element as Element,
    Fill as Fill,
    Part as Part,
    Stack as Stack,
    broadcast_shapes as broadcast_shapes,
    shape_of as shape_of,
)
from .closures import ClosureOutput as ClosureOutput, closure_outputs_in as closure_outputs_in
from .fields import (
    AxisConcat as AxisConcat,
    AxisShift as AxisShift,
    AxisSlice as AxisSlice,
    Coordinate as Coordinate,
    Diff as Diff,
    Flatten as Flatten,
    GridView as GridView,
    MeshCoordinate as MeshCoordinate,
    Shift as Shift,
)
from .loops import NewtonSolve as NewtonSolve, loop_symbols as loop_symbols
from .spectral import (
    LINEAR_SPECTRAL_NODES as LINEAR_SPECTRAL_NODES,
    SpectralAxisDiff as SpectralAxisDiff,
    SpectralDiff as SpectralDiff,
    SpectralDiffOfSpectrum as SpectralDiffOfSpectrum,
    SpectralFilter as SpectralFilter,
    SpectralGridFilter as SpectralGridFilter,
)
from .special import Sigmoid as Sigmoid, SoftmaxWeight as SoftmaxWeight
from .time_derivatives import (
    der_symbol as der_symbol,
    integral_of as integral_of,
    is_der as is_der,
)
