"""Diffusion samplers: the VP schedule read off the equations, the samplers (DDIM,
DPM-Solver, UniPC, DEIS, iPNDM) as diffrax solvers on step grids, the continuous
adjoint, and the sampler side of `Model.simulate`."""

from .samplers import (
    SAMPLERS as SAMPLERS,
    AbstractDiffusionSampler as AbstractDiffusionSampler,
    SamplerInfo as SamplerInfo,
    make_sampler as make_sampler,
    plan as plan,
)
from .schedule import (
    GRID_EXPONENTS as GRID_EXPONENTS,
    GRIDS as GRIDS,
    DiffusionSchedule as DiffusionSchedule,
    DiffusionTerm as DiffusionTerm,
    step_grid as step_grid,
)
from .setup import DiffusionSetup as DiffusionSetup, diffusion_setup as diffusion_setup
from .side import (
    SAMPLER_OPTIONS as SAMPLER_OPTIONS,
    ModelSampling as ModelSampling,
    SamplerConfig as SamplerConfig,
)
