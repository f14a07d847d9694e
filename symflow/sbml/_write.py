"""The model text of an `SbmlModel`: one statement a line, grouped by section.

Order: functions; parameters and compartments declared with numbers; parameters and
compartments whose values are computed (initial assignments, resolved to those
numbers' names); species; variables; discrete states; reactions; equations (rate
rules, assignment rules, algebraic rules); events. SBML `name`s become doc strings
where they differ from the id.
"""

from __future__ import annotations

import dataclasses

from ..errors import SymflowError
from ._algebraic import make_explicit
from ._events import event_lines
from ._expr import Expr, Num, Op, Sym, number_text, rename, to_text
from ._initial import initial_expressions, initial_numbers, leaves
from ._model import Quantity, Reaction, SbmlModel
from ._names import NameTable
from ._roles import algebraic_unknowns, event_targets, role
from ._volumes import keep_amounts

__all__ = ["Written", "write_model"]


@dataclasses.dataclass(frozen=True)
class Written:
    """The text, the model's name for each SBML id, and each species as written (by
    SBML id: its compartment's id, empty for none, and whether its name means the
    amount)."""

    text: str
    names: dict[str, str]
    species: dict[str, tuple[str, bool]]


def _doc(q_name: str, sid: str) -> str:
    if not q_name or q_name == sid:
        return ""
    return ' "' + q_name.replace('"', "'").replace("\n", " ").strip() + '"'


class _Writer:
    def __init__(self, model: SbmlModel):
        self.model = model
        ids = [*model.quantities, *(f.id for f in model.functions),
               *(r.id for r in model.reactions)]
        self.names = NameTable(ids)
        self.unknowns = algebraic_unknowns(model)
        self.keep = leaves(model, self.unknowns)
        self.initial = initial_expressions(model, self.keep, frozenset(self.unknowns))
        self.roles = {sid: role(model, sid, self.unknowns) for sid in model.quantities}

    def text(self, e: Expr) -> str:
        return to_text(e, self.names)

    def value(self, sid: str) -> str:
        q = self.model.quantities[sid]
        if sid in self.keep:
            assert q.value is not None
            return self.text(q.value)
        if sid not in self.initial:
            raise SymflowError(f"{q.kind} {sid} has no value",
                               help="SBML leaves it undefined; give it a value or an "
                                    "initial assignment")
        return self.text(self.initial[sid])

    def declarations(self) -> list[str]:
        m = self.model
        out: list[str] = []
        if m.functions:
            out.append("functions")
            for f in m.functions:
                out.append("  " + self._function(f.id, f.params, f.body))
        plain = [q for q in m.quantities.values() if q.id in self.keep]
        for kind, section in (("parameter", "parameters"), ("compartment", "compartments")):
            lines = [f"  {self.names(q.id)} = {self.value(q.id)}{_doc(q.name, q.id)}"
                     for q in plain if q.kind == kind]
            if lines:
                out += [section, *lines]
        computed = [q for q in m.quantities.values() if q.id not in self.keep]
        lines = [f"  {self.names(q.id)} = {self.value(q.id)}{_doc(q.name, q.id)}"
                 for q in computed if self.roles[q.id] == "parameter"]
        if lines:
            out += ["parameters  # from initial assignments", *lines]
        lines = [f"  {self.names(q.id)} = {self.value(q.id)}{_doc(q.name, q.id)}"
                 for q in computed if q.kind == "compartment"]
        if lines:
            out += ["compartments", *lines]
        species = [self._species(q) for q in m.quantities.values()
                   if q.kind == "species" and not self._as_variable(q.id)]
        if species:
            out += ["species", *species]
        variables = []
        for q in computed:
            if q.kind == "species" and self._as_variable(q.id):
                text = (f" = {self.value(q.id)}" if q.id in self.initial else "")
                variables.append(f"  {self.names(q.id)}{text}{_doc(q.name, q.id)}"
                                 f"  # a species an algebraic rule determines")
                continue
            r = self.roles[q.id]
            if r == "rate" or (r == "algebraic" and q.id in self.initial):
                variables.append(f"  {self.names(q.id)} = {self.value(q.id)}{_doc(q.name, q.id)}")
            elif r in ("assigned", "algebraic"):
                variables.append(f"  {self.names(q.id)}{_doc(q.name, q.id)}")
        if variables:
            out += ["variables", *variables]
        discrete = [f"  {self.names(q.id)} = {self.value(q.id)}{_doc(q.name, q.id)}"
                    for q in computed if self.roles[q.id] == "discrete"]
        if discrete:
            out += ["discrete", *discrete]
        return out

    def _function(self, fid: str, params: tuple[str, ...], body: Expr) -> str:
        local = {}
        for p in params:
            local[p] = self.names.fresh(p) if p in self.names.names or p in local else p
        fresh = {p: Sym(new) for p, new in local.items()}
        text = to_text(rename(body, fresh), lambda n: local.get(n, self.names(n)))
        args = ", ".join(local[p] for p in params)
        return f"{self.names(fid)}({args}) = {text}"

    def _as_variable(self, sid: str) -> bool:
        """A species an algebraic rule determines is written as a variable: the
        species section would make it a state with no reactions (der = 0)."""
        if sid not in self.unknowns:
            return False
        if sid in self.model.in_reactions():
            raise SymflowError(f"species {sid} is determined by an algebraic rule and takes "
                               "part in a reaction: symflow's SBML import does not support "
                               "this")
        return True

    def _species(self, q: Quantity) -> str:
        options = [f"in {self.names(q.compartment)}" if q.compartment else ""]
        if q.amount and q.compartment:
            options.append("amount")
        ruled = q.id in self.model.rates or q.id in self.model.assigned
        if q.boundary or (ruled and not q.constant):
            # A rule defines it; `boundary` says no reaction changes it, as SBML
            # requires of a species with a rule.
            options.append("boundary")
        if q.constant:
            options.append("constant")
        return (f"  {self.names(q.id)} = {self.value(q.id)}"
                + (f" {options[0]}" if options[0] else "")
                + "".join(f", {o}" for o in options[1:]) + _doc(q.name, q.id))

    def reactions(self) -> list[str]:
        lines = [self._reaction(r) for r in self.model.reactions]
        return ["reactions", *lines] if lines else []

    def _reaction(self, r: Reaction) -> str:
        def side(terms: tuple[tuple[str, float], ...]) -> str:
            if not terms:
                return "0"
            return " + ".join((f"{number_text(n)} " if n != 1 else "") + self.names(s)
                              for s, n in terms)

        species = [s for s, _ in (*r.reactants, *r.products)]
        if not species:
            return f"  # reaction {r.id} has no reactants or products: it changes nothing"
        compartment = next((self.model.quantities[s].compartment for s in species
                            if self.model.quantities[s].compartment), "")
        rate = _per_volume(r.rate, compartment) if compartment else r.rate
        where = f" in {self.names(compartment)}" if compartment else ""
        return (f"  {self.names(r.id)}: {side(r.reactants)} => {side(r.products)}, "
                f"{self.text(rate)}{where}{_doc(r.name, r.id)}")

    def equations(self) -> list[str]:
        m = self.model
        lines = []
        for sid, expr in m.rates.items():
            lines.append(f"  der({self.names(sid)}) = {self.text(expr)}")
        for sid, expr in m.assigned.items():
            lines.append(f"  {self.names(sid)} = {self.text(expr)}")
        for expr in m.algebraic:
            lines.append(f"  0 = {self.text(expr)}")
        held = sorted(event_targets(m) - set(m.rates))
        for sid in held:
            if self.roles[sid] == "compartment":
                lines.append(f"  der({self.names(sid)}) = 0  # changed only by events")
        return ["equations", *lines] if lines else []

    def events(self) -> list[str]:
        m = self.model
        if not m.events:
            return []
        states = ({q.id for q in m.quantities.values() if not q.constant
                   and self.roles[q.id] in ("species", "compartment", "rate", "discrete")
                   and q.id not in m.assigned and q.id not in self.unknowns})
        varying = states | set(m.assigned) | self.unknowns
        values = initial_numbers(m, self.unknowns)
        return ["events", *("  " + line for line in
                            event_lines(m, values, states, varying, self.names))]


def _per_volume(rate: Expr, compartment: str) -> Expr:
    """An extensive rate (amount per time) per unit volume of `compartment`: the
    volume factor dropped where the kinetic law multiplies by it (`c*k*S`,
    `c*V*S/(K + S)`, exactly), else divided out."""
    dropped = _drop_factor(rate, Sym(compartment))
    return dropped if dropped is not None else Op("/", (rate, Sym(compartment)))


def _drop_factor(e: Expr, factor: Sym) -> Expr | None:
    """`e/factor` where `factor` multiplies all of `e` (found in products, numerators
    and negations), else None."""
    if e == factor:
        return Num(1.0)
    if isinstance(e, Op) and e.op == "*":
        args = list(e.args)
        for i, a in enumerate(args):
            inner = _drop_factor(a, factor)
            if inner is not None:
                rest = args[:i] + ([] if inner == Num(1.0) else [inner]) + args[i + 1:]
                return rest[0] if len(rest) == 1 else Op("*", tuple(rest))
        return None
    if isinstance(e, Op) and e.op in ("/", "neg"):
        inner = _drop_factor(e.args[0], factor)
        if inner is None:
            return None
        return Op(e.op, (inner, *e.args[1:]))
    return None


def write_model(model: SbmlModel) -> Written:
    """The model text and the names it gives the SBML ids."""
    model = keep_amounts(make_explicit(model))
    w = _Writer(model)
    body = [*w.declarations(), *w.reactions(), *w.equations(), *w.events()]
    header = [f"# Imported from {model.source} by symflow."]
    if model.name and model.name != model.id:
        header.append(f"# SBML model {model.id!r}: {model.name}")
    if w.names.renamed:
        header.append("# Renamed (SBML id -> name here, the SBML id is a reserved word): "
                      + ", ".join(f"{a} -> {b}" for a, b in w.names.renamed.items()))
    header += [f"# Note: {n}" for n in model.notes]
    model_name = NameTable([model.id])(model.id)
    lines = [*header, f"model {model_name}"]
    lines += ["  " + line for line in body]
    lines.append("end")
    names = {k: v for k, v in w.names.names.items() if not k.startswith(" ")}
    species = {q.id: (q.compartment, q.amount) for q in model.quantities.values()
               if q.kind == "species"}
    return Written("\n".join(lines) + "\n", names, species)
