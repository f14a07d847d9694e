"""A sampler name of the language to its solver."""

from __future__ import annotations

from .base import SAMPLERS, AbstractDiffusionSampler, plan
from .ddim import DDIM
from .deis import DEIS
from .dpm_solver import DPMSolverPP2M, DPMSolverSinglestep
from .ipndm import IPNDM
from .unipc import UniPC


def make_sampler(name: str, *, steps: int, grid: str, grid_exponent: float | None = None
                 ) -> AbstractDiffusionSampler:
    """The solver for sampler `name` spending `steps` model evaluations."""
    info = SAMPLERS[name]
    orders = plan(name, steps)
    n = len(orders)
    if info.kind == "ddim":
        return DDIM(n_steps=n)
    if info.kind == "singlestep":
        return DPMSolverSinglestep(n_steps=n, orders=orders, grid=grid,
                                   grid_exponent=grid_exponent)
    if info.kind == "pp2m":
        return DPMSolverPP2M(n_steps=n)
    if info.kind in ("unipc", "unipc_exact"):
        return UniPC(n_steps=n, p=info.order, published=info.kind == "unipc")
    if info.kind == "ipndm":
        return IPNDM(n_steps=n)
    if info.kind == "deis_rho":
        return DEIS(n_steps=n, r=info.order, basis="rho")
    return DEIS(n_steps=n, r=info.order)
