"""Transform stage: passes `System -> System`, in `PIPELINE` order.

The DAE passes live in `dae/`, the discretization schemes in `discretization/`;
analyses that return facts rather than a new system are in `symflow.analysis`.
"""

# The spectral IR nodes that `discretize_spectral` writes (defined in `symbolic.nodes`).
from ..symbolic.nodes import SpectralAxisDiff as SpectralAxisDiff
from ..symbolic.nodes import SpectralDiff as SpectralDiff
from ..symbolic.nodes import SpectralDiffOfSpectrum as SpectralDiffOfSpectrum
from ..symbolic.nodes import SpectralFilter as SpectralFilter
from ..symbolic.nodes import SpectralGridFilter as SpectralGridFilter
from .constant_folding import fold_constants as fold_constants
from .dae import check_structure as check_structure
from .dae import compress_mass_matrix as compress_mass_matrix
from .dae import dae_to_ode as dae_to_ode
from .dae import eliminate_aliases as eliminate_aliases
from .dae import reduce_index as reduce_index
from .dae import select_dummy_derivatives as select_dummy_derivatives
from .discretization import difference_weights as difference_weights
from .discretization import discretize as discretize
from .discretization import discretize_spectral as discretize_spectral
from .explicit_algebraic_elimination import (
    eliminate_explicit_algebraics as eliminate_explicit_algebraics,
)
from .pipeline import PIPELINE as PIPELINE
from .pipeline import simplify as simplify
from .reactions import eliminate_conserved as eliminate_conserved
from .reactions import to_jump_rates as to_jump_rates
from .reactions import to_langevin as to_langevin
