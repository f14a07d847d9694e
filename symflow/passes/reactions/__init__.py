"""Passes over a reaction network (`System.reactions`): conserved moieties eliminated,
and the network read as a chemical Langevin SDE or as a jump process (docs/reactions.md)."""

from .conservation import eliminate_conserved as eliminate_conserved
from .jumps import COUNT_PREFIX as COUNT_PREFIX
from .jumps import to_jump_rates as to_jump_rates
from .langevin import to_langevin as to_langevin

__all__ = ["COUNT_PREFIX", "eliminate_conserved", "to_jump_rates", "to_langevin"]
