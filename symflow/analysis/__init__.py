"""Analysis stage: facts read off a `System` (never a new `System`).

Between `symbolic` and `passes`: the solvers and the command line ask these
questions of a simplified system (is its Jacobian banded, does it split into a
linear part and a remainder, is it a diffusion model), and a pass may use them;
an analysis never imports a pass.
"""

from .band_structure import BandStructure as BandStructure
from .band_structure import band_structure as band_structure
from .conservation import ConservationLaw as ConservationLaw
from .conservation import conservation_laws as conservation_laws
from .conservation import linear_invariants as linear_invariants
from .diffusion_form import LAMBDA as LAMBDA
from .diffusion_form import SIGMA as SIGMA
from .diffusion_form import DiffusionForm as DiffusionForm
from .diffusion_form import find_diffusion_form as find_diffusion_form
from .log_sum_exp import softmax_form as softmax_form
from .semilinear import LINEAR_NODES as LINEAR_NODES
from .semilinear import SemilinearSplit as SemilinearSplit
from .semilinear import SemilinearTerm as SemilinearTerm
from .semilinear import format_split as format_split
from .semilinear import fourier_multiplier as fourier_multiplier
from .semilinear import split_linear as split_linear
from .semilinear import split_semilinear as split_semilinear
from .state_band import state_band as state_band
