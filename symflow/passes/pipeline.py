"""The default order of passes, from a built `System` to the one codegen compiles."""

from __future__ import annotations

from collections.abc import Callable

from ..collector import gc_paused
from ..symbolic import System
from .constant_folding import fold_constants
from .dae import (
    check_structure,
    compress_mass_matrix,
    dae_to_ode,
    eliminate_aliases,
    reduce_index,
    select_dummy_derivatives,
)
from .discretization import discretize
from .explicit_algebraic_elimination import eliminate_explicit_algebraics
from .reactions import eliminate_conserved

__all__ = ["PIPELINE", "simplify"]


PIPELINE: tuple[tuple[str, Callable[[System], System]], ...] = (
    ("constant_folding", fold_constants),
    # Reaction networks with `conserved = eliminate`: a no-op otherwise.
    ("conservation_laws", eliminate_conserved),
    # Implicit equations (DAEs, components); each is a no-op on an ODE system.
    ("alias_elimination", eliminate_aliases),
    # `M y' = f` with a constant singular M: algebraic combinations of rows exposed.
    ("mass_matrix", compress_mass_matrix),
    ("structural_analysis", check_structure),
    ("index_reduction", reduce_index),
    ("dummy_derivatives", select_dummy_derivatives),
    ("dae_to_ode", dae_to_ode),
    ("explicit_algebraic_elimination", eliminate_explicit_algebraics),
    ("discretization", discretize),
)


@gc_paused
def simplify(system: System) -> System:
    """Run every pass of `PIPELINE` in order."""
    for _, run in PIPELINE:
        system = run(system)
    return system
