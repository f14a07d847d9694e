"""The linear algebra of implicit solves: structured Jacobians and how stiff they are.

A strategy (`Dense`, `Banded`, `Interleaved`, `GridKrylov`) is chosen once per model
from what the front end proved; it gives the implicit solver its root finder and
linear solver, and `solver = auto` its stiffness estimate. The lineax solvers
(`BandedLinearSolver`, `InterleavedBandedSolver`, `GridKrylovSolver`) recover the
Jacobian's structure with coloured Jacobian-vector products (`probing`).
"""

from .banded import BandedLinearSolver as BandedLinearSolver, band_matvec as band_matvec
from .interleaved import (
    Band as Band,
    InterleavedBandedSolver as InterleavedBandedSolver,
    deinterleave as deinterleave,
    effective_band as effective_band,
    interleave as interleave,
)
from .krylov import GridKrylovSolver as GridKrylovSolver
from .preconditioners import (
    adi_preconditioner as adi_preconditioner,
    fft_block_preconditioner as fft_block_preconditioner,
    grid_boundaries as grid_boundaries,
    spectral_preconditioner as spectral_preconditioner,
    spectral_symbol as spectral_symbol,
)
from .probing import (
    band_of as band_of,
    cyclic_band_of as cyclic_band_of,
    point_blocks as point_blocks,
    stencil_probe as stencil_probe,
)
from .stiffness import (
    STIFFNESS_THRESHOLD as STIFFNESS_THRESHOLD,
    band_decay as band_decay,
    dense_rates as dense_rates,
    spectral_radius as spectral_radius,
)
from .strategy import (
    Banded as Banded,
    Dense as Dense,
    GridKrylov as GridKrylov,
    Interleaved as Interleaved,
    LinearStrategy as LinearStrategy,
    band_strategy as band_strategy,
)
