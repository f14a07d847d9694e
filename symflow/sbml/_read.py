"""libsbml's `Model` to the importer's plain data (`SbmlModel`).

Constructs with no counterpart in symflow are refused here, by name: fast reactions,
conversion factors, non-constant or assigned stoichiometry, event delays, values SBML
leaves undefined. A 0-dimensional compartment without a size is left out, and its
species are amounts in no compartment (one with a size is a compartment like any
other: Level 3 gives spatialDimensions no meaning for the mathematics). Reaction ids and species
reference ids used in math are replaced by what they stand for (the kinetic law,
the stoichiometry), and local parameters become model parameters named
`reaction_parameter`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..errors import SymflowError
from ._expr import Expr, Num, Sym, rename, symbols
from ._initial import initial_numbers, resolve_numbers
from ._mathml import translate
from ._model import Event, Function, Quantity, Reaction, SbmlModel

__all__ = ["read_model"]


def _refuse(what: str, help: str | None = None) -> SymflowError:
    return SymflowError(f"{what}: symflow's SBML import does not support this", help=help)


def read_model(doc: Any, label: str) -> SbmlModel:
    """The data of the document's model (a Level 3 document, see `read_document`)."""
    m = doc.getModel()
    if m.isSetConversionFactor():
        raise _refuse("the model has a conversionFactor (ConversionFactors)")
    quantities: dict[str, Quantity] = {}
    points = set()  # 0-dimensional compartments: no size, their species are amounts
    for i in range(m.getNumCompartments()):
        c = m.getCompartment(i)
        sized = (c.isSetSize() or m.getInitialAssignmentBySymbol(c.getId()) is not None
                 or m.getRuleByVariable(c.getId()) is not None)
        if c.isSetSpatialDimensions() and c.getSpatialDimensionsAsDouble() == 0 \
                and not sized:
            points.add(c.getId())
            continue
        q = _compartment(c)
        quantities[q.id] = q
    for i in range(m.getNumSpecies()):
        q = _species(m.getSpecies(i))
        if q.compartment in points:
            q = dataclasses.replace(q, compartment="", amount=True)
        quantities[q.id] = q
    for i in range(m.getNumParameters()):
        p = m.getParameter(i)
        value = Num(p.getValue()) if p.isSetValue() else None
        quantities[p.getId()] = Quantity(p.getId(), "parameter", p.getName(), value,
                                         p.getConstant())
    functions = tuple(_function(m.getFunctionDefinition(i))
                      for i in range(m.getNumFunctionDefinitions()))
    initial = {}
    for i in range(m.getNumInitialAssignments()):
        a = m.getInitialAssignment(i)
        initial[a.getSymbol()] = translate(a.getMath(), f"the initial assignment to "
                                                        f"{a.getSymbol()}")
    assigned, rates, algebraic = _rules(m)
    stoich_ids = _assigned_stoichiometry(m, quantities, functions, initial, assigned)
    reactions = []
    for i in range(m.getNumReactions()):
        reaction, local = _reaction(m.getReaction(i), quantities, stoich_ids)
        reactions.append(reaction)
        for q in local:
            quantities[q.id] = q
    events = tuple(_event(m.getEvent(i), i) for i in range(m.getNumEvents()))
    assigned_stoich = (set(stoich_ids) & (set(assigned) | set(rates)
                                          | {v for e in events for v, _ in e.assignments}))
    initial = {k: v for k, v in initial.items() if k not in stoich_ids}
    if assigned_stoich:
        raise _refuse(f"the stoichiometry {sorted(assigned_stoich)[0]} is set by a rule, "
                      "an initial assignment or an event (AssignedConstantStoichiometry)")
    model = SbmlModel(
        id=m.getId() or "sbml_model", name=m.getName(), quantities=quantities,
        functions=functions, initial=initial, assigned=assigned, rates=rates,
        algebraic=algebraic, reactions=tuple(reactions), events=events,
        source=f"SBML Level {doc.getLevel()} Version {doc.getVersion()}, {label}",
        notes=(f"{m.getNumConstraints()} constraint(s) not checked",)
        if m.getNumConstraints() else ())
    return _inline_ids(model, stoich_ids)


def _compartment(c: Any) -> Quantity:
    value = Num(c.getSize()) if c.isSetSize() else None
    return Quantity(c.getId(), "compartment", c.getName(), value, c.getConstant())


def _species(s: Any) -> Quantity:
    if s.isSetConversionFactor():
        raise _refuse(f"species {s.getId()} has a conversionFactor (ConversionFactors)")
    value: Expr | None = None
    if s.isSetInitialAmount():
        value = Num(s.getInitialAmount())
    elif s.isSetInitialConcentration():
        value = Num(s.getInitialConcentration())
    return Quantity(
        s.getId(), "species", s.getName(), value, s.getConstant(),
        compartment=s.getCompartment(), amount=s.getHasOnlySubstanceUnits(),
        initial_amount=s.isSetInitialAmount(), boundary=s.getBoundaryCondition())


def _function(f: Any) -> Function:
    where = f"function {f.getId()}"
    lam = f.getMath()
    if lam is None or lam.getNumChildren() == 0:
        raise SymflowError(f"{where} has no body")
    params = tuple(lam.getChild(i).getName() for i in range(lam.getNumChildren() - 1))
    body = translate(lam.getChild(lam.getNumChildren() - 1), where)
    return Function(f.getId(), params, body, f.getName())


def _rules(m: Any) -> tuple[dict[str, Expr], dict[str, Expr], tuple[Expr, ...]]:
    assigned: dict[str, Expr] = {}
    rates: dict[str, Expr] = {}
    algebraic: list[Expr] = []
    for i in range(m.getNumRules()):
        r = m.getRule(i)
        if r.isAlgebraic():
            algebraic.append(translate(r.getMath(), f"algebraic rule {i + 1}"))
        elif r.isAssignment():
            assigned[r.getVariable()] = translate(
                r.getMath(), f"the assignment rule for {r.getVariable()}")
        else:
            rates[r.getVariable()] = translate(r.getMath(),
                                               f"the rate rule for {r.getVariable()}")
    return assigned, rates, tuple(algebraic)


def _assigned_stoichiometry(m: Any, quantities: dict[str, Quantity],
                            functions: tuple[Function, ...], initial: dict[str, Expr],
                            assigned: dict[str, Expr]) -> dict[str, float]:
    """The numbers initial assignments give constant stoichiometries (by species
    reference id): computed from the start values, since a constant species reference
    keeps its value (AssignedConstantStoichiometry)."""
    refs = {}
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        for ref in [*(r.getReactant(j) for j in range(r.getNumReactants())),
                    *(r.getProduct(j) for j in range(r.getNumProducts()))]:
            if ref.isSetId() and ref.getId() in initial:
                refs[ref.getId()] = ref
    if not refs:
        return {}
    start = SbmlModel(id="", quantities=quantities, functions=functions,
                      initial={k: v for k, v in initial.items() if k not in refs},
                      assigned=assigned)
    values = initial_numbers(start, set())
    out = {}
    for sid, ref in refs.items():
        value = resolve_numbers(initial[sid], values, start)
        if value is None or not math.isfinite(value):
            raise _refuse(f"the initial assignment to the stoichiometry {sid} has no value "
                          "at the start")
        out[sid] = float(value)
    return out


def _side(refs: Any, n: int, reaction: str, stoich_ids: dict[str, float]
          ) -> tuple[tuple[str, float], ...]:
    """One side of a reaction, a species listed twice merged into one term."""
    out: dict[str, float] = {}
    for i in range(n):
        ref = refs(i)
        if ref.isSetStoichiometryMath():
            raise _refuse(f"reaction {reaction} has stoichiometryMath (StoichiometryMath)")
        if not ref.getConstant():
            raise _refuse(f"reaction {reaction}: the stoichiometry of {ref.getSpecies()} is "
                          "not constant (AssignedVariableStoichiometry)")
        if ref.isSetId() and ref.getId() in stoich_ids:
            value = stoich_ids[ref.getId()]  # from an initial assignment
        elif ref.isSetStoichiometry():
            value = float(ref.getStoichiometry())
        else:
            raise _refuse(f"reaction {reaction}: the stoichiometry of {ref.getSpecies()} is "
                          "not given")
        if value < 0:
            raise _refuse(f"reaction {reaction}: the stoichiometry of {ref.getSpecies()} is "
                          "negative")
        if ref.isSetId():
            stoich_ids[ref.getId()] = value
        if value:
            out[ref.getSpecies()] = out.get(ref.getSpecies(), 0.0) + value
    return tuple(out.items())


def _reaction(r: Any, quantities: dict[str, Quantity], stoich_ids: dict[str, float]
              ) -> tuple[Reaction, list[Quantity]]:
    rid = r.getId()
    if r.isSetFast() and r.getFast():
        raise _refuse(f"reaction {rid} is fast (FastReaction)")
    reactants = _side(r.getReactant, r.getNumReactants(), rid, stoich_ids)
    products = _side(r.getProduct, r.getNumProducts(), rid, stoich_ids)
    law = r.getKineticLaw()
    if law is None or not law.isSetMath():
        raise SymflowError(f"reaction {rid} has no kinetic law",
                           help="SBML without a rate leaves it undefined (NoMathML)")
    rate = translate(law.getMath(), f"the kinetic law of reaction {rid}")
    local: list[Quantity] = []
    table: dict[str, Expr] = {}
    for i in range(law.getNumParameters()):
        p = law.getParameter(i)
        new = f"{rid}_{p.getId()}"
        while new in quantities or any(q.id == new for q in local):
            new += "_"
        value = Num(p.getValue()) if p.isSetValue() else None
        if value is None:
            raise SymflowError(f"the local parameter {p.getId()} of reaction {rid} has no value")
        local.append(Quantity(new, "parameter", p.getName(), value, True))
        table[p.getId()] = Sym(new)
    return Reaction(rid, reactants, products, rename(rate, table), r.getName()), local


def _event(e: Any, index: int) -> Event:
    eid = e.getId() or f"event{index + 1}"
    if e.isSetDelay():
        raise _refuse(f"event {eid} has a delay (EventWithDelay)")
    trigger = e.getTrigger()
    if trigger is None or not trigger.isSetMath():
        raise SymflowError(f"event {eid} has no trigger")
    where = f"the trigger of event {eid}"
    assignments = tuple(
        (a.getVariable(), translate(a.getMath(), f"event {eid}'s assignment to "
                                                 f"{a.getVariable()}"))
        for a in (e.getEventAssignment(i) for i in range(e.getNumEventAssignments()))
        if a.isSetMath())
    priority = (translate(e.getPriority().getMath(), f"the priority of event {eid}")
                if e.isSetPriority() and e.getPriority().isSetMath() else None)
    return Event(eid, translate(trigger.getMath(), where, condition=True), assignments,
                 initial_value=trigger.getInitialValue(), persistent=trigger.getPersistent(),
                 from_trigger_time=e.getUseValuesFromTriggerTime(), priority=priority,
                 name=e.getName())


def _inline_ids(model: SbmlModel, stoich_ids: dict[str, float]) -> SbmlModel:
    """Reaction ids in math become their kinetic laws, species reference ids their
    stoichiometry; any other name must be declared."""
    table: dict[str, Expr] = {k: Num(v) for k, v in stoich_ids.items()}
    table.update({r.id: r.rate for r in model.reactions})

    def fix(e: Expr) -> Expr:
        return rename(e, table) if symbols(e) & table.keys() else e

    return dataclasses.replace(
        model,
        initial={k: fix(v) for k, v in model.initial.items()},
        assigned={k: fix(v) for k, v in model.assigned.items()},
        rates={k: fix(v) for k, v in model.rates.items()},
        algebraic=tuple(fix(e) for e in model.algebraic),
        reactions=tuple(dataclasses.replace(r, rate=fix(r.rate)) for r in model.reactions),
        events=tuple(dataclasses.replace(
            ev, trigger=fix(ev.trigger), priority=None if ev.priority is None
            else fix(ev.priority), assignments=tuple((v, fix(x)) for v, x in ev.assignments))
            for ev in model.events))
