"""What the importer knows about an SBML model, as plain frozen data.

`_read.py` fills these from libsbml; everything after it (initial values, events,
the writer) works on this data alone, so it can be tested without libsbml.
Every name here is an SBML id; renaming happens only when the text is written.
"""

from __future__ import annotations

import dataclasses

from ._expr import Expr

__all__ = ["Quantity", "Function", "Reaction", "Event", "SbmlModel"]


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A parameter, compartment or species.

    `value` is the declared value (a species' in its own unit: an amount when
    `initial_amount`, else a concentration), `None` if the SBML gives none.
    """

    id: str
    kind: str  # parameter | compartment | species
    name: str = ""
    value: Expr | None = None
    constant: bool = True
    compartment: str = ""  # species: its compartment
    amount: bool = False  # species: hasOnlySubstanceUnits (the name means the amount)
    initial_amount: bool = False  # species: `value` is an initialAmount
    boundary: bool = False  # species: boundaryCondition


@dataclasses.dataclass(frozen=True)
class Function:
    """A function definition: `id(params) = body`."""

    id: str
    params: tuple[str, ...]
    body: Expr
    name: str = ""


@dataclasses.dataclass(frozen=True)
class Reaction:
    """A reaction: stoichiometry per side and its kinetic law (extensive: amount per
    time), with local parameters already renamed to model parameters."""

    id: str
    reactants: tuple[tuple[str, float], ...]
    products: tuple[tuple[str, float], ...]
    rate: Expr
    name: str = ""


@dataclasses.dataclass(frozen=True)
class Event:
    """An event without delay (delays are refused when reading)."""

    id: str
    trigger: Expr
    assignments: tuple[tuple[str, Expr], ...]
    initial_value: bool = True
    persistent: bool = True
    from_trigger_time: bool = True
    priority: Expr | None = None
    name: str = ""


@dataclasses.dataclass(frozen=True)
class SbmlModel:
    """An SBML model: its quantities in document order (local parameters of reactions
    appended as parameters), rules, initial assignments, reactions and events."""

    id: str
    quantities: dict[str, Quantity]
    functions: tuple[Function, ...] = ()
    initial: dict[str, Expr] = dataclasses.field(default_factory=dict)
    assigned: dict[str, Expr] = dataclasses.field(default_factory=dict)
    rates: dict[str, Expr] = dataclasses.field(default_factory=dict)
    algebraic: tuple[Expr, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    events: tuple[Event, ...] = ()
    name: str = ""
    source: str = ""  # "Level 3 Version 2 file x.xml", for the header comment
    notes: tuple[str, ...] = ()  # what the import left out, said in the header

    def changed_by_reactions(self) -> set[str]:
        """Species whose amount some reaction changes (not boundary, net stoichiometry
        nonzero in some reaction)."""
        out = set()
        for r in self.reactions:
            net: dict[str, float] = {}
            for s, n in r.reactants:
                net[s] = net.get(s, 0.0) - n
            for s, n in r.products:
                net[s] = net.get(s, 0.0) + n
            out |= {s for s, n in net.items()
                    if n != 0 and not self.quantities[s].boundary}
        return out

    def in_reactions(self) -> set[str]:
        """Species that are a reactant or product of some reaction."""
        return {s for r in self.reactions for s, _ in (*r.reactants, *r.products)}
