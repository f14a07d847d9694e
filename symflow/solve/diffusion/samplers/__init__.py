"""Diffusion samplers as diffrax solvers: DDIM, DPM-Solver-2/3, DPM-Solver++(2M),
UniPC-2/3 and DEIS tAB-1/2/3.

Each solver takes steps between the points of a `diffrax.StepTo` grid on a
`DiffusionTerm` (`../schedule.py`), so `SaveAt`, the adjoints and `jax.grad` work
as for any diffrax solver. They use the exact solution of the linear part,

    x_t = (α_t/α_s) x_s - α_t ∫ e^{-λ} ε̂ dλ = (σ_t/σ_s) x_s + σ_t ∫ e^{λ} x̂₀ dλ,

and spend model evaluations only on the integral. Formulas, with h = λ_t - λ_s:

- DDIM (= DPM-Solver-1): `x_t = (α_t/α_s) x_s - σ_t (e^h - 1) ε̂_s` (Song et al. 2021;
  Lu et al. 2022, eq. 3.7).
- DPM-Solver-2 and -3, singlestep, noise prediction (Lu et al. 2022, Algorithms 4
  and 5), with the intermediate points at fractions of the step taken in the grid's
  own coordinate, and the "DPM-Solver-fast" order schedule that spends exactly
  `steps` evaluations (order 2: ⌊N/2⌋ two-stage steps and one DDIM step if N is
  odd; order 3: K = ⌊N/3⌋ + 1 steps of orders [3,…,3,2,1], [3,…,3,1] or
  [3,…,3,2] for N mod 3 = 0, 1, 2, except one third-order step for N = 3).
- DPM-Solver++(2M), multistep, data prediction (Lu et al. 2022b, Algorithm 2):
  `x_i = (σ_i/σ_{i-1}) x_{i-1} - α_i (e^{-h_i} - 1) [(1 + 1/(2r)) D_{i-1} - D_{i-2}/(2r)]`,
  `r = h_{i-1}/h_i`; the first step is first order.
- UniPC-p (Zhao et al. 2023), data prediction with B(h) = e^{-h} - 1: the UniP-p
  predictor from p-1 past differences, then the UniC corrector, which reuses the
  evaluation at the predicted point (needed by the next step anyway), so it
  raises the order by one at no extra evaluation; weights ρ = R⁻¹ b with
  `R_kj = r_j^{k-1}`, `b_k = k! ĥ φ_{k+1}(ĥ)/B(h)`, ĥ = -h, solved exactly for
  every order. The last step skips the corrector (its evaluation would not be
  used); warm-up uses lower orders, and with fewer than 10 steps the final steps
  lower the order too (`lower_order_final`).
- DEIS tAB-r (Zhang & Chen 2023): `x_{i+1} = (α_{i+1}/α_i) x_i + Σ_j C_ij ε̂_{i-j}`,
  Lagrange extrapolation of ε̂ in t over the last r+1 points,
  `C_ij = -σ_{i+1} ∫_{λ_i}^{λ_{i+1}} e^{λ_{i+1}-λ} ℓ_j(t(λ)) dλ` by Gauss–Legendre
  quadrature in λ (64 points by default); warm-up uses r_i = min(i, r).
- DEIS ρAB-r (Zhang & Chen 2023, §4): the same with the Lagrange basis in
  ρ = σ/α = e^{-λ} instead of t. In v = x/α the ODE is dv/dρ = ε̂, so this is
  Adams–Bashforth in ρ with exact weights `α_{i+1} ∫_{ρ_i}^{ρ_{i+1}} ℓ_j(ρ) dρ`
  (the same quadrature, which is exact here to rounding).
- iPNDM (Zhang & Chen 2023, App.; after Liu et al. 2022's PNDM): the DDIM step
  with ε̂ replaced by the fixed-step Adams–Bashforth combination of the last
  min(i+1, 4) ε̂, weights [1], [3/2, -1/2], [23, -16, 5]/12, [55, -59, 37, -9]/24.
  The weights assume equal steps (in ρ), so on other grids it is a heuristic
  (its order there is not guaranteed); it costs nothing over DDIM.

Every method spends one model evaluation per unit of `steps` (NFE), warm-up
included; `plan` gives the outer steps and their orders for a budget. One module
per family; `base` holds the interface and the catalogue, `factory` maps a name
to a solver.
"""

from .base import SAMPLERS as SAMPLERS
from .base import AbstractDiffusionSampler as AbstractDiffusionSampler
from .base import SamplerInfo as SamplerInfo
from .base import plan as plan
from .ddim import DDIM as DDIM
from .deis import DEIS as DEIS
from .dpm_solver import DPMSolverPP2M as DPMSolverPP2M
from .dpm_solver import DPMSolverSinglestep as DPMSolverSinglestep
from .factory import make_sampler as make_sampler
from .ipndm import IPNDM as IPNDM
from .unipc import UniPC as UniPC
