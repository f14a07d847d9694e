"""Build stage: AST to a `System` of SymPy expressions.

- `system`: the `System` and what it holds (the contract with passes and codegen);
- `nodes`: the IR vocabulary (array, field, special, loop and closure nodes);
- `builder`: AST to `System` (`build`, the entry);
- `classify_noise`, `milstein_correction`: the noise of an SDE `System`.

Other packages import these names from here, not from the modules.
"""

from ._noise import NOISE_CLASSES as NOISE_CLASSES
from ._noise import NoiseClass as NoiseClass
from ._noise import aligned_derivative as aligned_derivative
from ._noise import classify_noise as classify_noise
from ._noise import componentwise_noise as componentwise_noise
from ._noise import milstein_correction as milstein_correction
from .builder import NOISE_ROLES as NOISE_ROLES
from .builder import ODE_SOLVERS as ODE_SOLVERS
from .builder import SAMPLER_GRIDS as SAMPLER_GRIDS
from .builder import SDE_SOLVERS as SDE_SOLVERS
from .builder import SETTINGS as SETTINGS
from .builder import Scope as Scope
from .builder import build as build
from .builder import build_expression as build_expression
from .builder import check_solver as check_solver
from .builder import function_scope as function_scope
from .builder import noise_values as noise_values
from .builder import suggest_solvers as suggest_solvers
from .events import RELATION_OPS as RELATION_OPS
from .events import Affect as Affect
from .events import Event as Event
from .events import Logic as Logic
from .events import pre_symbol as pre_symbol
from .measurement_noise import MeasurementNoise as MeasurementNoise
from .nodes import ArrayExtreme as ArrayExtreme
from .nodes import ArrayFunction as ArrayFunction
from .nodes import ArraySum as ArraySum
from .nodes import AxisConcat as AxisConcat
from .nodes import AxisShift as AxisShift
from .nodes import AxisSlice as AxisSlice
from .nodes import Ceiling as Ceiling
from .nodes import ClosureOutput as ClosureOutput
from .nodes import Concat as Concat
from .nodes import Coordinate as Coordinate
from .nodes import Diff as Diff
from .nodes import Dot as Dot
from .nodes import Element as Element
from .nodes import Fill as Fill
from .nodes import Flatten as Flatten
from .nodes import Floor as Floor
from .nodes import GridView as GridView
from .nodes import MeshCoordinate as MeshCoordinate
from .nodes import NewtonSolve as NewtonSolve
from .nodes import Part as Part
from .nodes import Shift as Shift
from .nodes import Sigmoid as Sigmoid
from .nodes import SoftmaxWeight as SoftmaxWeight
from .nodes import Stack as Stack
from .nodes import TableInput as TableInput
from .nodes import broadcast_shapes as broadcast_shapes
from .nodes import closure_outputs_in as closure_outputs_in
from .nodes import der_symbol as der_symbol
from .nodes import integral_of as integral_of
from .nodes import is_der as is_der
from .nodes import loop_symbols as loop_symbols
from .nodes import shape_of as shape_of
from .nodes import table_inputs_in as table_inputs_in
from .reactions import NetworkReaction as NetworkReaction
from .reactions import NetworkSpecies as NetworkSpecies
from .reactions import ReactionNetwork as ReactionNetwork
from .system import BoundaryCondition as BoundaryCondition
from .system import Brownian as Brownian
from .system import Closure as Closure
from .system import Dimension as Dimension
from .system import Equation as Equation
from .system import Input as Input
from .system import Observed as Observed
from .system import Parameter as Parameter
from .system import Pivot as Pivot
from .system import Settings as Settings
from .system import System as System
from .system import Variable as Variable
from .system import format_system as format_system
from .system import latex_system as latex_system
