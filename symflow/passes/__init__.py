"""Transform stage: passes `System -> System`, in `PIPELINE` order.

The DAE passes live in `dae/`, the discretization schemes in `discretization/`;
analyses that return facts rather than a new system are in `symflow.analysis`.
"""

from .constant_folding import fold_constants as fold_constants
from .dae import (
    check_structure as check_structure,
    dae_to_ode as dae_to_ode,
    eliminate_aliases as eliminate_aliases,
    reduce_index as reduce_index,
    select_dummy_derivatives as select_dummy_derivatives,
)
from .discretization import (
    difference_weights as difference_weights,
    discretize as discretize,
    discretize_spectral as discretize_spectral,
)
from .explicit_algebraic_elimination import (
    eliminate_explicit_algebraics as eliminate_explicit_algebraics,
)
from .pipeline import PIPELINE as PIPELINE, simplify as simplify

# The spectral IR nodes that `discretize_spectral` writes (defined in `symbolic.nodes`).
from ..symbolic.nodes import (
    SpectralAxisDiff as SpectralAxisDiff,
    SpectralDiff as SpectralDiff,
    SpectralDiffOfSpectrum as SpectralDiffOfSpectrum,
    SpectralFilter as SpectralFilter,
    SpectralGridFilter as SpectralGridFilter,
)
