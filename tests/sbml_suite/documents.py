"""Small SBML Level 3 documents for the import's tests, built with libsbml.

Formulas are given in libsbml's infix syntax (`libsbml.parseL3Formula`: libsbml's
own parser, in the test only) and land in the document as MathML.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

libsbml = pytest.importorskip("libsbml")


def _math(formula: str) -> Any:
    node = libsbml.parseL3Formula(formula)
    assert node is not None, libsbml.getLastParseL3Error()
    return node


def document(*, parameters: Sequence[tuple] = (), compartments: Sequence[tuple] = (),
             species: Sequence[dict] = (), functions: Sequence[tuple[str, str]] = (),
             assignments: Sequence[tuple[str, str]] = (), rates: Sequence[tuple[str, str]] = (),
             algebraic: Sequence[str] = (), initial: Sequence[tuple[str, str]] = (),
             reactions: Sequence[dict] = (), events: Sequence[dict] = (),
             model_id: str = "m", version: int = 2) -> str:
    """SBML text. `parameters`: (id, value, constant[, name]); `compartments`: (id,
    size[, constant]); `species`: dicts of libsbml setter names (without `set`);
    `functions`: (id, "lambda(x, body)"); `reactions`: dicts with `id`, `reactants`,
    `products` ((species, stoichiometry) pairs), `law`, optional `local` ((id, value)
    pairs); `events`: dicts with `trigger`, `assign` ((variable, formula) pairs) and
    optional `initial_value`, `persistent`, `priority`, `from_trigger_time`, `delay`;
    `version`: of Level 3 (fast reactions exist in Version 1 only)."""
    doc = libsbml.SBMLDocument(3, version)
    m = doc.createModel()
    m.setId(model_id)
    for c in compartments:
        comp = m.createCompartment()
        comp.setId(c[0])
        comp.setSize(c[1])
        comp.setConstant(c[2] if len(c) > 2 else True)
        comp.setSpatialDimensions(3)
    for s in species:
        sp = m.createSpecies()
        defaults = {"HasOnlySubstanceUnits": False, "BoundaryCondition": False,
                    "Constant": False}
        for key, value in {**defaults, **s}.items():
            getattr(sp, f"set{key}")(value)
    for p in parameters:
        par = m.createParameter()
        par.setId(p[0])
        if p[1] is not None:
            par.setValue(p[1])
        par.setConstant(p[2])
        if len(p) > 3:
            par.setName(p[3])
    for fid, formula in functions:
        f = m.createFunctionDefinition()
        f.setId(fid)
        f.setMath(_math(formula))
    for var, formula in assignments:
        r = m.createAssignmentRule()
        r.setVariable(var)
        r.setMath(_math(formula))
    for var, formula in rates:
        r = m.createRateRule()
        r.setVariable(var)
        r.setMath(_math(formula))
    for formula in algebraic:
        m.createAlgebraicRule().setMath(_math(formula))
    for var, formula in initial:
        a = m.createInitialAssignment()
        a.setSymbol(var)
        a.setMath(_math(formula))
    for r in reactions:
        _reaction(m, r)
    for e in events:
        _event(m, e)
    return libsbml.writeSBMLToString(doc)


def _reaction(m: Any, r: dict) -> None:
    reaction = m.createReaction()
    reaction.setId(r["id"])
    reaction.setReversible(False)
    if r.get("fast"):
        reaction.setFast(True)
    for side, create in (("reactants", reaction.createReactant),
                         ("products", reaction.createProduct)):
        for sid, n in r.get(side, ()):
            ref = create()
            ref.setSpecies(sid)
            ref.setStoichiometry(n)
            ref.setConstant(True)
    law = reaction.createKineticLaw()
    law.setMath(_math(r["law"]))
    for pid, value in r.get("local", ()):
        p = law.createLocalParameter()
        p.setId(pid)
        p.setValue(value)


def _event(m: Any, e: dict) -> None:
    event = m.createEvent()
    event.setId(e.get("id", f"e{m.getNumEvents()}"))
    event.setUseValuesFromTriggerTime(e.get("from_trigger_time", True))
    trigger = event.createTrigger()
    trigger.setMath(_math(e["trigger"]))
    trigger.setInitialValue(e.get("initial_value", True))
    trigger.setPersistent(e.get("persistent", True))
    if "priority" in e:
        event.createPriority().setMath(_math(e["priority"]))
    if "delay" in e:
        event.createDelay().setMath(_math(e["delay"]))
    for var, formula in e["assign"]:
        a = event.createEventAssignment()
        a.setVariable(var)
        a.setMath(_math(formula))
