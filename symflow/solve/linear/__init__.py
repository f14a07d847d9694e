"""The linear algebra of implicit solves: structured Jacobians and how stiff they are.

A strategy (`Dense`, `Banded`, `Interleaved`, `GridKrylov`) is chosen once per model
from what the front end proved; it gives the implicit solver its root finder and
linear solver, and `solver = auto` its stiffness estimate. The lineax solvers
(`BandedLinearSolver`, `InterleavedBandedSolver`, `GridKrylovSolver`) recover the
Jacobian's structure with coloured Jacobian-vector products (`probing`).
"""

from .banded import BandedLinearSolver as BandedLinearSolver
from .banded import band_matvec as band_matvec
from .interleaved import Band as Band
from .interleaved import InterleavedBandedSolver as InterleavedBandedSolver
from .interleaved import deinterleave as deinterleave
from .interleaved import effective_band as effective_band
from .interleaved import interleave as interleave
from .krylov import GridKrylovSolver as GridKrylovSolver
from .preconditioners import adi_preconditioner as adi_preconditioner
from .preconditioners import fft_block_preconditioner as fft_block_preconditioner
from .preconditioners import grid_boundaries as grid_boundaries
from .preconditioners import spectral_preconditioner as spectral_preconditioner
from .preconditioners import spectral_symbol as spectral_symbol
from .probing import band_of as band_of
from .probing import cyclic_band_of as cyclic_band_of
from .probing import point_blocks as point_blocks
from .probing import stencil_probe as stencil_probe
from .stiffness import GRID_STIFFNESS_THRESHOLD as GRID_STIFFNESS_THRESHOLD
from .stiffness import STIFFNESS_THRESHOLD as STIFFNESS_THRESHOLD
from .stiffness import band_decay as band_decay
from .stiffness import dense_rates as dense_rates
from .stiffness import spectral_radius as spectral_radius
from .strategy import Banded as Banded
from .strategy import Dense as Dense
from .strategy import GridKrylov as GridKrylov
from .strategy import Interleaved as Interleaved
from .strategy import LinearStrategy as LinearStrategy
from .strategy import band_strategy as band_strategy
