"""Transform stage: passes `System -> System`, one per file."""

from .band_structure import BandStructure as BandStructure, band_structure as band_structure
from .constant_folding import fold_constants as fold_constants
from .discretization import (
    difference_weights as difference_weights,
    discretize as discretize,
)
from .explicit_algebraic_elimination import (
    eliminate_explicit_algebraics as eliminate_explicit_algebraics,
)
from .pipeline import PIPELINE as PIPELINE, simplify as simplify
from .alias_elimination import eliminate_aliases as eliminate_aliases
from .dae_to_ode import dae_to_ode as dae_to_ode
from .dummy_derivatives import select_dummy_derivatives as select_dummy_derivatives
from .pantelides import reduce_index as reduce_index
from .structural_analysis import check_structure as check_structure
from .semilinear import (
    SemilinearSplit as SemilinearSplit,
    SemilinearTerm as SemilinearTerm,
    split_semilinear as split_semilinear,
)
from .spectral_discretization import (
    SpectralAxisDiff as SpectralAxisDiff,
    SpectralDiff as SpectralDiff,
    SpectralDiffOfSpectrum as SpectralDiffOfSpectrum,
    SpectralFilter as SpectralFilter,
    SpectralGridFilter as SpectralGridFilter,
    discretize_spectral as discretize_spectral,
)
