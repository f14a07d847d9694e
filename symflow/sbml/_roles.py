"""What each SBML quantity becomes in the model text: its role.

| SBML | role | written as |
| --- | --- | --- |
| constant parameter (or one nothing changes) | `parameter` | `parameters: k = 1` |
| parameter with an assignment rule | `assigned` | `variables: x` and `x = expr` |
| parameter with a rate rule | `rate` | `variables: x = 1` and `der(x) = expr` |
| parameter changed only by events | `discrete` | `discrete: x = 1` |
| parameter an algebraic rule determines | `algebraic` | `variables: x` and `0 = expr` |
| compartment, species | `compartment`, `species` | their sections, with equations as above |
"""

from __future__ import annotations

from ..errors import SymflowError
from ._expr import symbols
from ._model import SbmlModel

__all__ = ["algebraic_unknowns", "role", "event_targets"]


def event_targets(model: SbmlModel) -> set[str]:
    """The ids some event assigns."""
    return {v for e in model.events for v, _ in e.assignments}


def algebraic_unknowns(model: SbmlModel) -> set[str]:
    """The quantities the algebraic rules determine: those not constant, not set by a
    rule and not changed by reactions (narrowed to those the rules mention, where
    that tells them apart); as many as there are algebraic rules."""
    if not model.algebraic:
        return set()
    changed = model.changed_by_reactions()
    candidates = [q.id for q in model.quantities.values()
                  if not q.constant and q.id not in model.assigned and q.id not in model.rates
                  and q.id not in changed]
    if len(candidates) != len(model.algebraic):
        mentioned = set().union(*(symbols(a) for a in model.algebraic))
        candidates = [c for c in candidates if c in mentioned]
    if len(candidates) != len(model.algebraic):
        raise SymflowError(
            f"cannot tell which values the {len(model.algebraic)} algebraic rule(s) determine "
            f"(candidates: {', '.join(candidates) or 'none'})",
            help="SBML determines them by elimination: every other non-constant value must "
                 "have a rule or be changed by reactions")
    return set(candidates)


def role(model: SbmlModel, sid: str, unknowns: set[str]) -> str:
    """The role of a quantity (see the module's table)."""
    q = model.quantities[sid]
    if q.kind != "parameter":
        return q.kind
    if sid in model.assigned:
        return "assigned"
    if sid in model.rates:
        return "rate"
    if sid in unknowns:
        return "algebraic"
    if sid in event_targets(model):
        return "discrete"
    return "parameter"
