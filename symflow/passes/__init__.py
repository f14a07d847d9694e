"""Transform stage: passes `System -> System`, one per file."""

from .constant_folding import fold_constants as fold_constants
from .discretization import (
    difference_weights as difference_weights,
    discretize as discretize,
    stencil_bandwidth as stencil_bandwidth,
)
from .explicit_algebraic_elimination import (
    eliminate_explicit_algebraics as eliminate_explicit_algebraics,
)
from .pipeline import PIPELINE as PIPELINE, simplify as simplify
