"""Compartments, species and reactions: a network to declarations and equations.

`plan_network` reads the three sections and says what each name becomes
before anything is declared: a compartment is a parameter unless an equation
defines it (then a variable); a species is a state moved by reactions, a
variable of its own equation (`boundary`), a held state (`boundary` with no
equation: events may still reset it) or a parameter (`constant`). A species in
a compartment whose volume varies keeps its amount as the state (`S_amount`)
and its concentration `S = S_amount/V` as an algebraic variable, so that a
changing volume dilutes it exactly. `build_network` then builds the rates and
`network_equations` the reaction-rate equations (docs/reactions.md).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...errors import Span, SymflowError
from ...lang import ast
from ..nodes import der_symbol
from ..reactions import NetworkReaction, NetworkSpecies, ReactionNetwork, mass_action_rate
from ..system import Equation
from .expressions import build_expression
from .scope import Scope

__all__ = ["NetworkPlan", "amount_name", "build_network", "check_species_equations",
           "diluted_resets", "network_equations", "plan_network"]

_OPTIONS = ("amount", "boundary", "constant")
_RATE_KINDS = ("constant", "parameter", "variable", "function", "closure")


@dataclasses.dataclass(frozen=True)
class NetworkPlan:
    """What the network's names become (see the module docstring).

    - `compartment_parameters`, `compartment_variables`: the compartments, as
      declarations (constant volumes) or variables (volumes an equation defines).
    - `species_parameters`: the `constant` species.
    - `species_variables`: species defined by the model's own equations.
    - `held`: `boundary` species no equation defines (states events may reset).
    - `moved`: the states reactions move (a species, or its amount `S_amount`).
    - `diluted`: species whose concentration is `S_amount/V` (algebraic).
    """

    compartment_parameters: tuple[ast.Declaration, ...] = ()
    compartment_variables: tuple[ast.Variable, ...] = ()
    species_parameters: tuple[ast.Declaration, ...] = ()
    species_variables: tuple[ast.Variable, ...] = ()
    held: tuple[ast.Variable, ...] = ()
    moved: tuple[ast.Variable, ...] = ()
    diluted: tuple[ast.Variable, ...] = ()
    species: tuple[ast.Species, ...] = ()
    reactions: tuple[ast.Reaction, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.species or self.reactions or self.compartment_parameters
                    or self.compartment_variables)


def _defined_by_equations(model: ast.Model) -> set[str]:
    """The names on the left of an equation: `x = ...` or `der(x) = ...`."""
    out = set()
    for eq in model.items("equations"):
        lhs = eq.lhs
        if isinstance(lhs, ast.Call) and lhs.func == "der" and len(lhs.args) == 1:
            lhs = lhs.args[0]
        if isinstance(lhs, ast.Name):
            out.add(lhs.id)
    return out


def amount_name(species: str) -> str:
    """The state holding the amount of a species in a compartment of varying volume."""
    return f"{species}_amount"


def plan_network(model: ast.Model) -> NetworkPlan:
    """Decide what every compartment and species becomes (nothing is declared yet)."""
    compartments = model.items("compartments")
    species = model.items("species")
    reactions = model.items("reactions")
    if reactions and not species:
        raise SymflowError("a reactions section needs a species section",
                           model.section_spans("reactions")[0],
                           help="declare each species with its initial value: `A = 10`")
    defined = _defined_by_equations(model)
    volumes = {c.name: c for c in compartments}
    varying = {c.name for c in compartments if c.name in defined}
    held: list[ast.Variable] = []
    moved: list[ast.Variable] = []
    own: list[ast.Variable] = []
    diluted: list[ast.Variable] = []
    fixed: list[ast.Declaration] = []
    for s in species:
        options = _options(s)
        if s.compartment is not None and s.compartment not in volumes:
            raise SymflowError(
                f"unknown compartment '{s.compartment}'", s.compartment_span or s.span,
                help="declare it under compartments with its volume: "
                     f"`{s.compartment} = 1.0`")
        if "constant" in options:
            if s.name in defined:
                raise SymflowError(f"species '{s.name}' is constant but an equation defines it",
                                   s.name_span)
            fixed.append(ast.Declaration(s.name, s.initial, None, s.doc, s.span, s.name_span))
            continue
        variable = ast.Variable(s.name, s.initial, None, None, None, s.doc, s.span, s.name_span)
        if s.name in defined:
            own.append(variable)
        elif s.compartment in varying and "amount" not in options:
            # the amount is the state (held, or moved by reactions); growth dilutes it
            volume = volumes[s.compartment]
            start = ast.BinaryOp("*", s.initial, volume.value, s.initial.span)
            amount = ast.Variable(amount_name(s.name), start, None, None, None,
                                  f"the amount of {s.name}", s.span, s.name_span)
            (held if "boundary" in options else moved).append(amount)
            diluted.append(dataclasses.replace(variable, initial=None))
        elif "boundary" in options:
            held.append(variable)
        else:
            moved.append(variable)
    return NetworkPlan(
        tuple(c for c in compartments if c.name not in varying),
        tuple(ast.Variable(c.name, c.value, None, None, None, c.doc, c.span, c.name_span)
              for c in compartments if c.name in varying),
        tuple(fixed), tuple(own), tuple(held), tuple(moved), tuple(diluted),
        tuple(species), tuple(reactions))


def _options(s: ast.Species) -> set[str]:
    out = set()
    for word, span in s.options:
        if word not in _OPTIONS:
            raise SymflowError(f"unknown species option '{word}'", span,
                               help="the options: " + ", ".join(_OPTIONS))
        if word in out:
            raise SymflowError(f"option '{word}' is given twice", span)
        out.add(word)
    return out


def build_network(scope: Scope, plan: NetworkPlan) -> ReactionNetwork:
    """The network, with every rate built (after all names are declared)."""
    own = {v.name for v in plan.species_variables}
    species = tuple(_network_species(scope, s, s.name in own) for s in plan.species)
    by_name = {s.name: s for s in species}
    reactions: list[NetworkReaction] = []
    names: dict[str, Span] = {}
    for index, r in enumerate(plan.reactions, start=1):
        name = r.name if r.name is not None else f"r{index}"
        if name in names:
            raise SymflowError(f"two reactions are named '{name}'", r.name_span or r.span,
                               notes=((names[name], "the other reaction"),))
        names[name] = r.name_span or r.span
        reactions += _reaction(scope, r, name, by_name)
    return ReactionNetwork(species, tuple(reactions))


def _network_species(scope: Scope, s: ast.Species, own: bool) -> NetworkSpecies:
    """The species as the network sees it; `own`: an equation of the model defines it."""
    options = _options(s)
    volume = (sp.Integer(1) if s.compartment is None
              else scope.names[s.compartment].symbol)
    symbol = scope.names[s.name].symbol
    amount_state = scope.names.get(amount_name(s.name))
    varying = (amount_state is not None and s.compartment is not None
               and scope.kind_of(s.compartment) == "variable" and "amount" not in options)
    state = amount_state.symbol if varying and amount_state is not None else symbol
    return NetworkSpecies(s.name, symbol, s.compartment, volume, "amount" in options,
                          "boundary" in options, "constant" in options, state, s.span, own)


def _side(side: tuple[ast.Participant, ...], species: dict[str, NetworkSpecies]
          ) -> tuple[tuple[str, sp.Expr], ...]:
    """`(species, coefficient)` pairs, repeated names added together."""
    out: dict[str, sp.Expr] = {}
    for p in side:
        if p.species not in species:
            raise SymflowError(f"'{p.species}' is not a species", p.span,
                               help=f"declare it under species: `{p.species} = 0`")
        if not p.coefficient > 0:
            raise SymflowError("a stoichiometric coefficient must be positive", p.span)
        out[p.species] = out.get(p.species, sp.Integer(0)) + sp.nsimplify(p.coefficient)
    return tuple(out.items())


def _reaction(scope: Scope, r: ast.Reaction, name: str, species: dict[str, NetworkSpecies]
              ) -> list[NetworkReaction]:
    """One reaction line as one or two `NetworkReaction`s (forward, backward)."""
    reactants, products = _side(r.reactants, species), _side(r.products, species)
    reversible = r.arrow in ("<->", "<=>")
    if reversible and r.reverse is None:
        raise SymflowError(f"the reversible reaction '{name}' needs two rates", r.arrow_span,
                           help="write `A <-> B, k_forward, k_backward`")
    if not reversible and r.reverse is not None:
        raise SymflowError(f"reaction '{name}' is not reversible but has two rates",
                           r.reverse.span,
                           help=f"write `{'<->' if r.arrow == '->' else '<=>'}` for a "
                                "reversible reaction")
    volume = _volume(scope, r, reactants or products, species)
    mass_action = r.arrow in ("->", "<->")
    out = []
    for label, rate_node, left, right in (
            (name, r.rate, reactants, products),
            (f"{name}_reverse", r.reverse, products, reactants)):
        if rate_node is None:
            continue
        given, shape = build_expression(scope, rate_node, allowed=_RATE_KINDS,
                                        context=f"the rate of reaction '{name}'")
        if shape:
            raise SymflowError("a reaction rate must be a scalar", rate_node.span)
        if mass_action:
            rate = mass_action_rate(given, tuple((species[s].concentration, c)
                                                 for s, c in left))
        else:
            rate = given
        out.append(NetworkReaction(label if reversible else name, left, right, rate, volume,
                                   given if mass_action else None, r.span))
    return out


def _volume(scope: Scope, r: ast.Reaction, side: tuple[tuple[str, sp.Expr], ...],
            species: dict[str, NetworkSpecies]) -> sp.Expr:
    """The volume the reaction's rate is per: `in c`, else its reactants' compartment
    (its products', for a source), else 1."""
    if r.compartment is not None:
        entry = scope.names.get(r.compartment)
        if r.compartment not in {s.compartment for s in species.values()} and (
                entry is None or entry.kind not in ("parameter", "variable")):
            raise SymflowError(f"unknown compartment '{r.compartment}'",
                               r.compartment_span or r.span)
        assert entry is not None
        return entry.symbol
    compartments = {species[s].compartment for s, _ in side}
    if len(compartments) > 1:
        raise SymflowError(
            f"the species of this reaction lie in different compartments "
            f"({', '.join(sorted(str(c) for c in compartments))})", r.span,
            help="say which volume its rate is per: `..., k in cell`")
    (compartment,) = compartments or {None}
    return sp.Integer(1) if compartment is None else scope.names[compartment].symbol


def network_equations(network: ReactionNetwork, *, implicit: bool) -> list[Equation]:
    """The reaction-rate equations of the moved states, and `S = S_amount/V` of the
    diluted species, in the form of the model's equations strategy."""
    rates = network.state_rates()
    spans: dict[int, list[Span]] = {}
    for i, j, _ in network.entries:
        spans.setdefault(i, []).append(network.reactions[j].span)
    out = []
    for i, s in enumerate(network.species):
        if s.state.name in rates:
            out.append(_equation("ode", s.state, rates[s.state.name],
                                 tuple(spans.get(i, ())) or (s.span,), implicit))
        if s.state != s.symbol:  # the amount is the state; the concentration follows
            out.append(_equation("algebraic", s.symbol, s.state / s.volume, (s.span,),
                                 implicit))
    return out


def _equation(kind: str, symbol: sp.Symbol, rhs: sp.Expr, spans: tuple[Span, ...],
              implicit: bool) -> Equation:
    if implicit:
        lhs = der_symbol(symbol) if kind == "ode" else symbol
        return Equation("implicit", "reactions", lhs - rhs, spans)
    return Equation("ode" if kind == "ode" else "algebraic", symbol.name, rhs, spans)


def diluted_resets(plan: NetworkPlan, events: tuple[ast.Event, ...]
                   ) -> tuple[ast.Event, ...]:
    """Events as written, with a reset of a diluted species' concentration `S = v`
    made a reset of its amount `S_amount = v*V` (the volume when the event fires)."""
    compartments = {s.name: s.compartment for s in plan.species}
    diluted = {v.name for v in plan.diluted}
    if not diluted:
        return events
    out = []
    for event in events:
        affects = []
        for a in event.affects:
            if isinstance(a, ast.Reset) and a.name in diluted:
                volume = ast.Name(str(compartments[a.name]), a.name_span)
                a = ast.Reset(amount_name(a.name), ast.BinaryOp("*", a.value, volume, a.span),
                              a.span, a.name_span)
            affects.append(a)
        out.append(dataclasses.replace(event, affects=tuple(affects)))
    return tuple(out)


def check_species_equations(network: ReactionNetwork, plan: NetworkPlan) -> None:
    """A species an equation defines must not be changed by reactions as well."""
    for v in plan.species_variables:
        s = network.species_named(v.name)
        if s.boundary:
            continue
        moving = [r for r in network.reactions if r.net(s.name) != 0]
        if moving:
            raise SymflowError(
                f"species '{s.name}' is changed by reaction '{moving[0].name}' and defined "
                "by an equation", v.name_span, notes=((moving[0].span, "the reaction"),),
                help=f"mark it `{s.name} = ..., boundary` if the equation alone defines it")

