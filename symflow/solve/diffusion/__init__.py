"""Diffusion samplers: the VP schedule read off the equations, the samplers (DDIM,
DPM-Solver, UniPC, DEIS, iPNDM) as diffrax solvers on step grids, the continuous
adjoint, and the sampler side of `Model.simulate`."""

from .samplers import SAMPLERS as SAMPLERS
from .samplers import AbstractDiffusionSampler as AbstractDiffusionSampler
from .samplers import SamplerInfo as SamplerInfo
from .samplers import make_sampler as make_sampler
from .samplers import plan as plan
from .schedule import GRID_EXPONENTS as GRID_EXPONENTS
from .schedule import GRIDS as GRIDS
from .schedule import DiffusionSchedule as DiffusionSchedule
from .schedule import DiffusionTerm as DiffusionTerm
from .schedule import step_grid as step_grid
from .setup import DiffusionSetup as DiffusionSetup
from .setup import diffusion_setup as diffusion_setup
from .side import SAMPLER_OPTIONS as SAMPLER_OPTIONS
from .side import ModelSampling as ModelSampling
from .side import SamplerConfig as SamplerConfig
