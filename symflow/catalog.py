"""Every name the language and the API accept, in one place: data only.

The builder validates model files against these tuples, the solve and learn
stages map each name to a typed strategy object (and their tests assert that
every name here has one), and the command line takes its `choices` from here.
Nothing in this module imports diffrax, optax or any other part of symflow:
it is the ground floor.

Adding a solver: its name here, in the family it belongs to, then its class
(`symflow/solve/solvers.py` or the family's folder), then its test.
"""

from __future__ import annotations

__all__ = [
    "ADAPTIVE_SDE_SOLVERS", "ADJOINTS", "AUTO", "CALCULI", "CONSERVED", "DISTILL_SAMPLES",
    "EXPLICIT_SOLVERS", "EXPONENTIAL_SOLVERS", "EXTRAPOLATIONS", "FIT_SCALES",
    "FIXED_STEP_SOLVERS", "FIXED_WHEN_DT_SOLVERS", "IMEX_SOLVERS", "IMPLICIT_SOLVERS",
    "INPUT_OPTIONS",
    "INTERPOLATIONS", "INTERPRETATIONS", "JUMP_SOLVERS", "NOISE_MODELS", "ODE_SOLVERS",
    "OPTIMIZERS", "ROSENBROCK_SOLVERS", "SAMPLERS", "SAMPLER_ADJOINTS", "SAMPLER_GRIDS",
    "SCHEDULES", "SCHEMES", "SDE_SOLVERS", "SECTIONS", "SETTINGS", "SHOW_STAGES", "SOLVERS",
    "SOLVER_ALIASES", "START_SAMPLERS",
]

# `solver = auto`: decided from the model (stiffness at the initial point).
AUTO = "auto"

# ODE solvers, by family. Explicit Runge-Kutta methods (diffrax).
EXPLICIT_SOLVERS: tuple[str, ...] = (
    "tsit5", "dopri5", "dopri8", "bosh3", "euler", "heun", "midpoint", "ralston")
# Implicit (SDIRK / ESDIRK) methods, with a Newton or chord root finder.
IMPLICIT_SOLVERS: tuple[str, ...] = (
    "kvaerno3", "kvaerno4", "kvaerno5", "kencarp3", "kencarp4", "kencarp5", "impliciteuler")
# Rosenbrock methods: one Jacobian and one LU factorization per step, no Newton
# iteration (docs/stiff.md). Rodas5P is `auto`'s choice for stiff small/medium systems.
ROSENBROCK_SOLVERS: tuple[str, ...] = ("rodas5p", "rodas4", "ros3p")
# The implicit methods that take a (non-stiff, stiff) pair of terms.
IMEX_SOLVERS: tuple[str, ...] = ("kencarp3", "kencarp4", "kencarp5")
# Methods with no embedded error estimate: they need a fixed step `dt`.
FIXED_STEP_SOLVERS: tuple[str, ...] = ("euler",)
# Second-order methods whose embedded estimate is only first order: with `dt` given
# they take that fixed step (as they are mostly used: a textbook scheme, a known
# cost); without it they are adaptive.
FIXED_WHEN_DT_SOLVERS: tuple[str, ...] = ("heun", "midpoint", "ralston")
# Exponential integrators on a semilinear split (docs/exponential.md).
EXPONENTIAL_SOLVERS: tuple[str, ...] = ("expeuler", "lawson", "etdrk4")
# Diffusion samplers (docs/samplers.md).
SAMPLERS: tuple[str, ...] = (
    "ddim", "dpm_solver_2", "dpm_solver_3", "dpm_solver_pp_2m", "unipc_2", "unipc_2_exact",
    "unipc_3", "deis_1", "deis_2", "deis_3", "deis_rho_1", "deis_rho_2", "deis_rho_3", "ipndm")
# Every `solver =` of a model without Brownian motion.
ODE_SOLVERS: tuple[str, ...] = (
    AUTO, *EXPLICIT_SOLVERS, *IMPLICIT_SOLVERS, *ROSENBROCK_SOLVERS, *EXPONENTIAL_SOLVERS,
    *SAMPLERS)
# The diffusion samplers' step grids, and the SDE solvers.
SAMPLER_GRIDS: tuple[str, ...] = ("uniform", "quadratic", "logsnr", "power", "edm")
SDE_SOLVERS: tuple[str, ...] = (
    AUTO, "euler", "milstein", "heun", "eulerheun", "sra1", "shark", "spark")
# Exact and approximate stochastic simulation of reaction networks (docs/jumps.md):
# Gillespie's direct method, and tau-leaping with a fixed leap.
JUMP_SOLVERS: tuple[str, ...] = ("direct", "tau_leaping")
# SDE solvers with an error estimate (adaptive steps with rtol/atol).
ADAPTIVE_SDE_SOLVERS: tuple[str, ...] = ("heun", "spark", "shark", "sra1")
# How an SDE is read: `noise = ito` or `noise = stratonovich`.
CALCULI: tuple[str, ...] = ("ito", "stratonovich")
# How a reaction network is solved (`interpretation =`, docs/reactions.md): its
# reaction-rate ODEs, the chemical Langevin SDE, or exact stochastic simulation.
INTERPRETATIONS: tuple[str, ...] = ("ode", "langevin", "jump")
# What the reaction-rate ODEs do with conserved moieties: `conserved = keep` or
# `eliminate` (one species of each conservation law becomes an output).
CONSERVED: tuple[str, ...] = ("keep", "eliminate")
# Every solver name, of any kind.
SOLVERS: tuple[str, ...] = tuple(dict.fromkeys((*ODE_SOLVERS, *SDE_SOLVERS, *JUMP_SOLVERS)))

# How gradients through a solve are computed (`simulate(adjoint=...)`).
ADJOINTS: tuple[str, ...] = ("checkpoint", "backsolve", "forward", "direct", "interpolating")
# ... through a diffusion sampler (`deis`: the first-order continuous adjoint of AdjointDEIS).
SAMPLER_ADJOINTS: tuple[str, ...] = ("checkpoint", "backsolve", "forward", "direct", "deis")

# Spatial discretization schemes of a `domain` (docs/pde.md).
SCHEMES: tuple[str, ...] = ("central", "upwind", "spectral")

# The settings a `simulate` section accepts.
SETTINGS: tuple[str, ...] = (
    "tspan", "solver", "rtol", "atol", "saveat", "dt", "max_steps", "trajectories", "seed",
    "noise", "scheme", "order", "dealias", "grid", "grid_exponent", "steps", "max_events",
    "event_samples", "interpretation", "conserved")

# Inputs read from tables (`inputs` section, docs/language.md): the options of
# `table(...)`, the interpolations (the first is the default) and what happens
# outside the table (the first is the default); `symflow.runtime` implements them.
INPUT_OPTIONS: tuple[str, ...] = ("column", "time", "interpolation", "extrapolation")
INTERPOLATIONS: tuple[str, ...] = ("linear", "cubic", "monotone", "previous")
EXTRAPOLATIONS: tuple[str, ...] = ("error", "hold")

# Fitting and training (docs/fitting.md, docs/closures.md).
OPTIMIZERS: tuple[str, ...] = ("levenberg_marquardt", "bfgs", "adam")
FIT_SCALES: tuple[str, ...] = ("none", "column", "relative")
# The noise models of a `fit` section (`x ~ normal(sigma = s)`), and how the starts of
# a multistart fit are drawn inside the bounds (Latin hypercube, scrambled Sobol).
NOISE_MODELS: tuple[str, ...] = ("normal", "laplace", "lognormal", "log10normal")
START_SAMPLERS: tuple[str, ...] = ("lhs", "sobol")
SCHEDULES: tuple[str, ...] = ("cosine", "constant", "exponential")
DISTILL_SAMPLES: tuple[str, ...] = ("auto", "data", "trajectory")

# The stages `symflow show --stage` prints.
SHOW_STAGES: tuple[str, ...] = (
    "built", "flat", "simplified", "mass_matrix", "final", "semilinear", "diffusion",
    "conservation")

# Solver names of other tools (scipy, MATLAB, SUNDIALS, DifferentialEquations.jl),
# lower-cased, and the solvers here that do the same job: the suggestions of an
# "unknown solver" message (never accepted in their place).
SOLVER_ALIASES: dict[str, tuple[str, ...]] = {
    "rk45": ("tsit5", "dopri5"), "ode45": ("tsit5", "dopri5"), "dopri": ("dopri5",),
    "rk23": ("bosh3",), "ode23": ("bosh3",), "dop853": ("dopri8",), "vern7": ("dopri8",),
    "vern9": ("dopri8",), "rk4": ("tsit5",), "rk": ("tsit5",),
    "bdf": ("rodas5p", "kvaerno5"), "radau": ("rodas5p", "kvaerno5"),
    "radau5": ("rodas5p", "kvaerno5"), "cvode": ("rodas5p", "kvaerno5"),
    "cvode_bdf": ("rodas5p", "kvaerno5"), "ode15s": ("rodas5p", "kvaerno5"),
    "ode23s": ("ros3p",), "rodas5": ("rodas5p",), "rosenbrock23": ("ros3p",),
    "trbdf2": ("kvaerno3",), "lsoda": ("auto",), "autotsit5": ("auto",),
    "implicit_euler": ("impliciteuler",), "backward_euler": ("impliciteuler",),
    "euler_maruyama": ("euler",), "em": ("euler",), "sriw1": ("sra1",),
    "gillespie": ("direct",), "ssa": ("direct",), "tau": ("tau_leaping",),
}

# The section keywords of a model (the grammar's; `symflow/lang`), for the hint when a
# misspelt one (`equation`) is read as a declaration.
SECTIONS: tuple[str, ...] = (
    "parameters", "constants", "variables", "functions", "equations", "observed", "simulate",
    "domain", "boundary", "brownian", "closures", "components", "ports", "connections",
    "discrete", "events", "inputs", "compartments", "species", "reactions", "fit")
