"""Species in compartments whose volume changes: SBML keeps the *amount* of a species
no rule defines, and converts a concentration at the volume of the moment.

symflow does the same for species that reactions move (their state is the amount),
but a `boundary` or `constant` species keeps its concentration. Such a species in a
varying compartment is therefore written as an amount (`S = ..., amount`), and every
use of it in the model's math reads `S/c` (its concentration). An event that sets it
sets the amount: the value times the volume before the event, as SBML does.

A species a rate rule defines has its concentration as the state; when an event
changes its compartment's volume, SBML keeps the amount, so the event also sets
`S = S*c_before/c_after` (or the value it assigns, converted the same way).
"""

from __future__ import annotations

import dataclasses

from ._expr import Expr, Op, Sym, rename
from ._model import SbmlModel
from ._roles import algebraic_unknowns, event_targets

__all__ = ["keep_amounts"]


def _varying(model: SbmlModel) -> set[str]:
    return {q.id for q in model.quantities.values() if q.kind == "compartment"
            and (q.id in model.rates or q.id in model.assigned or q.id in event_targets(model)
                 or q.id in algebraic_unknowns(model))}


def keep_amounts(model: SbmlModel) -> SbmlModel:
    """`model` rewritten as the module's docstring says."""
    varying = _varying(model)
    if not varying:
        return model
    unknowns = algebraic_unknowns(model)
    held = {q.id: q.compartment for q in model.quantities.values()
            if q.kind == "species" and not q.amount and q.compartment in varying
            and (q.boundary or q.constant) and q.id not in model.rates
            and q.id not in model.assigned and q.id not in unknowns}
    model = _rescale_on_events(model, varying)
    if not held:
        return model
    table: dict[str, Expr] = {s: Op("/", (Sym(s), Sym(c))) for s, c in held.items()}

    def fix(e: Expr) -> Expr:
        return rename(e, table)

    def amount(sid: str, e: Expr) -> Expr:
        return Op("*", (fix(e), Sym(held[sid]))) if sid in held else fix(e)

    quantities = {sid: dataclasses.replace(q, amount=True) if sid in held else q
                  for sid, q in model.quantities.items()}
    return dataclasses.replace(
        model, quantities=quantities,
        initial={k: amount(k, v) for k, v in model.initial.items()},
        assigned={k: fix(v) for k, v in model.assigned.items()},
        rates={k: fix(v) for k, v in model.rates.items()},
        algebraic=tuple(fix(e) for e in model.algebraic),
        reactions=tuple(dataclasses.replace(r, rate=fix(r.rate)) for r in model.reactions),
        events=tuple(dataclasses.replace(
            e, trigger=fix(e.trigger), priority=None if e.priority is None else fix(e.priority),
            assignments=tuple((v, amount(v, x)) for v, x in e.assignments))
            for e in model.events))


def _rescale_on_events(model: SbmlModel, varying: set[str]) -> SbmlModel:
    """Events that set a compartment also rescale the concentrations rate rules define
    in it (the amount is kept across the jump)."""
    events = []
    for e in model.events:
        sets = dict(e.assignments)
        extra = []
        for c in [v for v in sets if v in varying]:
            for q in model.quantities.values():
                if (q.kind == "species" and q.compartment == c and not q.amount
                        and q.id in model.rates):
                    value = sets.get(q.id, Sym(q.id))
                    sets[q.id] = Op("/", (Op("*", (value, Sym(c))), sets[c]))
                    extra.append(q.id)
        if extra:
            e = dataclasses.replace(e, assignments=tuple(sets.items()))
        events.append(e)
    return dataclasses.replace(model, events=tuple(events))
