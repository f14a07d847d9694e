"""The IR vocabulary: the SymPy node classes the build stage makes and the passes rewrite.

`ArrayFunction` is the base of every array-valued node (its subclasses give
their shape through `_symflow_shape`, read by `shape_of`). One module per family:
arrays, fields (space), special functions, algebraic loops, closure outputs,
inputs read from tables, the symbols of time derivatives, and the spectral nodes
of the Fourier discretization. Printing to `jnp` belongs to codegen's printer.
"""

from .arrays import ArrayExtreme as ArrayExtreme
from .arrays import ArrayFunction as ArrayFunction
from .arrays import ArraySum as ArraySum
from .arrays import Concat as Concat
from .arrays import Dot as Dot
from .arrays import Element as Element
from .arrays import Fill as Fill
from .arrays import Part as Part
from .arrays import Stack as Stack
from .arrays import broadcast_shapes as broadcast_shapes
from .arrays import shape_of as shape_of
from .closures import ClosureOutput as ClosureOutput
from .closures import closure_outputs_in as closure_outputs_in
from .fields import AxisConcat as AxisConcat
from .fields import AxisShift as AxisShift
from .fields import AxisSlice as AxisSlice
from .fields import Coordinate as Coordinate
from .fields import Diff as Diff
from .fields import Flatten as Flatten
from .fields import GridView as GridView
from .fields import MeshCoordinate as MeshCoordinate
from .fields import Shift as Shift
from .inputs import TableInput as TableInput
from .inputs import table_inputs_in as table_inputs_in
from .loops import NewtonSolve as NewtonSolve
from .loops import loop_symbols as loop_symbols
from .special import Ceiling as Ceiling
from .special import Floor as Floor
from .special import Sigmoid as Sigmoid
from .special import SoftmaxWeight as SoftmaxWeight
from .spectral import LINEAR_SPECTRAL_NODES as LINEAR_SPECTRAL_NODES
from .spectral import SpectralAxisDiff as SpectralAxisDiff
from .spectral import SpectralDiff as SpectralDiff
from .spectral import SpectralDiffOfSpectrum as SpectralDiffOfSpectrum
from .spectral import SpectralFilter as SpectralFilter
from .spectral import SpectralGridFilter as SpectralGridFilter
from .time_derivatives import der_symbol as der_symbol
from .time_derivatives import integral_of as integral_of
from .time_derivatives import is_der as is_der
