"""SDE solver names to diffrax solvers, which noise classes each may solve, and `auto`.

A solver converges to the Itô or the Stratonovich solution of an SDE. For
additive noise the two coincide, so every solver is valid there. Milstein
needs commutative noise (diffrax does not check it; the compiler does, from
the symbolic diffusion matrix: `symbolic.classify_noise`). SRA1 and ShARK are
for additive noise only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import diffrax

from ... import catalog
from ...errors import Span, SymflowError
from .terms import SymbolicMilstein, SymbolicStratonovichMilstein

__all__ = ["SDESolverInfo", "SDE_SOLVER_INFO", "ADAPTIVE_SDE_SOLVERS", "valid_sde_solvers",
           "choose_sde_solver", "choose_adaptive_sde_solver", "check_adaptive_sde_solver",
           "make_sde_solver"]


_COMMUTATIVE = frozenset({"additive", "diagonal", "commutative"})
_ALL = frozenset({"additive", "diagonal", "commutative", "general"})


@dataclasses.dataclass(frozen=True)
class SDESolverInfo:
    """`calculus`: the solution a solver converges to ("ito", "stratonovich"), or
    "both" for additive-noise solvers; `noise`: the classes it is valid for;
    `levy_area`: whether it needs space-time Lévy area from the Brownian motion;
    `strong_order`: the textbook strong order for the classes it accepts."""

    calculus: str
    noise: frozenset
    levy_area: bool
    strong_order: str


SDE_SOLVER_INFO: dict[str, SDESolverInfo] = {
    "euler": SDESolverInfo("ito", _ALL, False, "0.5 (1.0 for additive noise)"),
    "milstein": SDESolverInfo("either", _COMMUTATIVE, False, "1.0"),
    "heun": SDESolverInfo("stratonovich", _ALL, False,
                          "0.5 (1.0 for commutative noise)"),
    "eulerheun": SDESolverInfo("stratonovich", _ALL, False, "0.5"),
    "spark": SDESolverInfo("stratonovich", _ALL, True,
                           "0.5 (1.0 commutative, 1.5 additive)"),
    "sra1": SDESolverInfo("both", frozenset({"additive"}), True, "1.5"),
    "shark": SDESolverInfo("both", frozenset({"additive"}), True, "1.5"),
}


def _valid(name: str, noise_class: str, calculus: str) -> bool:
    info = SDE_SOLVER_INFO[name]
    if noise_class not in info.noise:
        return False
    if noise_class == "additive" or info.calculus in ("both", "either"):
        return True  # Itô and Stratonovich coincide for additive noise
    return info.calculus == calculus


def valid_sde_solvers(noise_class: str, calculus: str) -> tuple[str, ...]:
    """The solvers that converge to the right solution for this noise class."""
    return tuple(n for n in SDE_SOLVER_INFO if _valid(n, noise_class, calculus))


def choose_sde_solver(noise_class: str, calculus: str) -> str:
    """`solver = auto`: the highest strong order valid here (ShARK for additive
    noise, Milstein for commutative noise, else Euler–Maruyama (Itô) or Heun
    (Stratonovich))."""
    if noise_class == "additive":
        return "shark"
    if noise_class in _COMMUTATIVE:
        return "milstein"
    return "euler" if calculus == "ito" else "heun"


# Solvers with an embedded error estimate, for adaptive steps (a PID controller on
# a Brownian tree): Heun (against Euler), SPaRK, and the additive-noise SRKs.
ADAPTIVE_SDE_SOLVERS: tuple[str, ...] = catalog.ADAPTIVE_SDE_SOLVERS


def choose_adaptive_sde_solver(noise_class: str, calculus: str,
                               span: Span | None = None, *,
                               ito_convertible: bool = False) -> str:
    """`solver = auto` with `rtol`/`atol`: ShARK for additive noise, SPaRK (designed
    for adaptive steps) for Stratonovich. No diffrax solver with an error estimate
    converges to the Itô solution of multiplicative noise; when the compiler can
    write the model in Stratonovich form (`ito_convertible`: the Itô–Stratonovich
    drift correction was derived symbolically, for diagonal and commutative
    noise), Heun solves that form (strong order 1 for commutative noise)."""
    if noise_class == "additive":
        return "shark"
    if calculus == "stratonovich":
        return "spark"
    if ito_convertible:
        return "heun"
    raise SymflowError(
        "no adaptive solver converges to the Itô solution of an SDE with "
        f"{noise_class} noise", span,
        help="set dt (and no rtol/atol) for fixed steps, or write the model in "
             "Stratonovich form (noise = stratonovich, drift corrected by -1/2 g g'); "
             "symflow converts Itô models itself for diagonal and commutative noise")


def check_adaptive_sde_solver(name: str, span: Span | None = None) -> None:
    if name not in ADAPTIVE_SDE_SOLVERS:
        raise SymflowError(
            f"solver {name} takes fixed steps: rtol/atol ask for adaptive steps, which "
            "need a solver with an error estimate", span,
            help="adaptive SDE solvers: " + ", ".join(ADAPTIVE_SDE_SOLVERS)
            + "; or drop rtol/atol and set dt")


def check_sde_solver(name: str, noise_class: str, calculus: str,
                     span: Span | None = None) -> None:
    if name not in SDE_SOLVER_INFO:
        raise SymflowError(f"unknown SDE solver '{name}'", span,
                           help="SDE solvers: auto, " + ", ".join(SDE_SOLVER_INFO))
    if not _valid(name, noise_class, calculus):
        info = SDE_SOLVER_INFO[name]
        if noise_class not in info.noise:
            why = f"{name} needs {'additive' if info.noise == {'additive'} else 'commutative'} " \
                  f"noise, and this model's noise is {noise_class}"
        else:
            why = f"{name} converges to the {info.calculus} solution, and this model is " \
                  f"{calculus} (noise = {calculus})"
        raise SymflowError(
            f"solver {name} is not valid for this SDE: {why}", span,
            help="valid solvers here: auto, "
            + ", ".join(valid_sde_solvers(noise_class, calculus)))


def make_sde_solver(name: str, calculus: str,
                    milstein: Callable | None = None) -> diffrax.AbstractSolver:
    """The diffrax solver of `name`. `milstein` is the generated symbolic Milstein
    term; without it (a derivative SymPy could not take point by point) Milstein
    falls back to diffrax's, which differentiates by automatic differentiation."""
    if name == "euler":
        return diffrax.Euler()
    if name == "milstein":
        if milstein is not None:
            return (SymbolicStratonovichMilstein(milstein) if calculus == "stratonovich"
                    else SymbolicMilstein(milstein))
        return diffrax.StratonovichMilstein() if calculus == "stratonovich" \
            else diffrax.ItoMilstein()
    return {"heun": diffrax.Heun, "eulerheun": diffrax.EulerHeun, "spark": diffrax.SPaRK,
            "sra1": diffrax.SRA1, "shark": diffrax.ShARK}[name]()
