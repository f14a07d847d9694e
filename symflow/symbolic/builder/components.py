"""Flattening of components: a hierarchical model to one flat model (still an AST).

A component `r: Resistor(R = 100)` copies the sections of the model `Resistor`
into its parent with every name the component declares prefixed by `r.`
(`r.R`, `r.p.v`); its modifiers replace the defaults of its parameters (or the
initial values of its variables). A port `p: Pin` declares one variable per
connector variable (`p.v`, `p.i`). `extends Base` copies the sections of `Base`
first. `import electrical` and `import "lib.sf"` make the models and connectors
of the standard library or another file available (`imports.py`).

An array of components `r[n]: Resistor(R = Rs)` is n such copies, prefixed
`r[0].` ... `r[n-1].`, except that each parameter of the type becomes one array
parameter `r.R` of n values (element k's equations use `r.R[k]`); a modifier
gives every element one value or element k its k-th entry
(`component_arrays.py`). Before a model's names are prefixed, the `for` loops
of its equations and connections are unrolled with the numbers of its
constants (`loops.py`) and its `r[i].p` references resolved to flat names.

`connect(a, b, ...)` statements of one model are merged into connection sets
(union–find: `connect(a, b)` and `connect(b, c)` make one set `{a, b, c}`). Each
set gives equations `a.v = b.v = ...` for every potential variable and
`a.i + b.i + ... = 0` for every flow variable, where the model's own ports
(outside connectors) count with a minus sign, as in Modelica. A flow variable
of a component's port that is connected nowhere is set to zero (Modelica's
rule for unconnected connectors); `symflow show --stage flat` lists these
equations.

Everything here rewrites AST nodes (frozen dataclasses) by name; no text is
evaluated.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Iterable
from typing import Any

from ...errors import Span, SymflowError
from ...lang import ast
from .component_arrays import (
    ArrayElement,
    ComponentArray,
    LocalArrays,
    array_parameter,
    element_of,
    length_of,
    resolve_local_text,
    resolve_references,
)
from .imports import LIBRARY, Namespace, load_namespace
from .loops import Value, constant_value, integer_value
from .scope import MAX_LENGTH

__all__ = ["LIBRARY", "Namespace", "flatten", "load_namespace"]


_COMPONENT_SECTIONS = ("components", "ports", "connections")
_COPIED = ("constants", "parameters", "functions", "variables", "equations", "observed")
# Sections only the model being compiled may have, carried into the flat model as written.
_TOP_ONLY = ("inputs", "discrete", "events", "compartments", "species", "reactions", "fit")


# ---------------------------------------------------------------- renaming


_HEAD = re.compile(r"[^.\[]*")
# Marks a name `_rename` made, so that it is not renamed again (removed at the end).
_DONE = "\0"


def _rename(node: Any, names: dict[str, str], functions: dict[str, str],
            elements: dict[str, tuple[str, int]] | None = None) -> Any:
    """`node` with every `Name` whose first segment is in `names` prefixed, and the
    functions in `functions` renamed where declared and called. `elements`: the
    parameters of an element `k` of an array of components, each the element
    `r.R[k]` of its array parameter (`name -> (array parameter, k)`)."""

    def rename(n: Any) -> Any:
        if isinstance(n, ast.Name):
            if elements and n.id in elements:
                array, k = elements[n.id]
                return ast.Subscript(ast.Name(f"{_DONE}{array}.{n.id}", n.span),
                                     ast.Number(k, n.span), n.span)
            if n.id.startswith(_DONE):
                return dataclasses.replace(n, id=n.id[1:])
            match = _HEAD.match(n.id)
            head = match.group(0) if match else n.id
            if head in names:
                return dataclasses.replace(n, id=names[head] + n.id[len(head):])
            return n
        changes = {}
        if isinstance(n, ast.Call) and n.func in functions:
            changes["func"] = functions[n.func]
        if isinstance(n, (ast.Declaration, ast.Variable, ast.Observed, ast.FunctionDef)):
            if n.name in names:
                changes["name"] = names[n.name]
            elif n.name in functions:
                changes["name"] = functions[n.name]
        return dataclasses.replace(n, **changes) if changes else n

    return ast.transform(node, rename)


# ---------------------------------------------------------------- flattening


@dataclasses.dataclass
class _Port:
    path: str  # full dotted name, e.g. "r.p"
    connector: ast.Connector
    outside: bool  # a port of the model itself (as opposed to one of a component)
    span: Span


@dataclasses.dataclass(frozen=True)
class _Renaming:
    """The renaming of one instance's names (`_rename` with its tables)."""

    names: dict[str, str]
    functions: dict[str, str]
    elements: dict[str, tuple[str, int]]

    def __call__(self, node: Any) -> Any:
        return _rename(node, self.names, self.functions, self.elements)


def _modifiers(model: ast.Model, items: dict[str, list], modifiers: tuple
               ) -> dict[str, ast.Keyword]:
    """The modifiers of an instance of `model` by name, checked: `name = value`, once
    each, naming a parameter, constant or variable of the model."""
    mods: dict[str, ast.Keyword] = {}
    for m in modifiers:
        if not isinstance(m, ast.Keyword):
            raise SymflowError("a modifier is written `name = value`", m.span,
                               help=f"for instance {model.name}(R = 100)")
        if m.name in mods:
            raise SymflowError(f"modifier '{m.name}' is given twice", m.span)
        mods[m.name] = m
    modifiable = {d.name for k in ("constants", "parameters", "variables") for d in items[k]}
    for m in mods.values():
        if m.name not in modifiable:
            known = sorted(d.name for d in items["parameters"]) + sorted(
                d.name for d in items["variables"])
            close = difflib.get_close_matches(m.name, known, n=1)
            raise SymflowError(
                f"'{model.name}' has no parameter or variable '{m.name}'", m.span,
                help=(f"did you mean '{close[0]}'? " if close else "")
                + ("its parameters and variables: " + ", ".join(known) if known else
                   f"'{model.name}' has nothing to modify"))
    return mods


class _Flattener:
    def __init__(self, ns: Namespace):
        self.ns = ns
        # the numbers of the constants, by flat name (array lengths, loop bounds)
        self.values: dict[str, Value] = {}
        # what the text of the model being compiled may index (for its events)
        self.top: LocalArrays | None = None
        self.sections: dict[str, list] = {k: [] for k in _COPIED}
        self.active: list[str] = []  # model types being instantiated, for cycles
        self.generated: list[tuple[str, ast.Equation]] = []  # (why, equation)

    def model(self, name: str, span: Span) -> ast.Model:
        if name not in self.ns.models:
            if name in self.ns.connectors:
                raise SymflowError(f"'{name}' is a connector: declare it under ports", span)
            close = difflib.get_close_matches(name, list(self.ns.models), n=1)
            raise SymflowError(
                f"unknown component type '{name}'", span,
                help=(f"did you mean '{close[0]}'? " if close else "")
                + "import the file or library that defines it (import electrical, "
                  "import \"lib.sf\")")
        return self.ns.models[name]

    def sections_of(self, model: ast.Model, seen: tuple[str, ...] = ()) -> list[ast.Section]:
        """The sections of `model` with those of its bases (`extends`) first."""
        out: list[ast.Section] = []
        for ext in model.extends:
            if ext.base in seen or ext.base == model.name:
                raise SymflowError(f"'{model.name}' extends itself through '{ext.base}'",
                                   ext.span)
            out += self.sections_of(self.model(ext.base, ext.span), seen + (model.name,))
        return out + list(model.sections)

    def instantiate(self, model: ast.Model, prefix: str,
                    modifiers: tuple, span: Span | None,
                    element: ArrayElement | None = None) -> dict[str, _Port]:
        """Copy `model` into the flat sections with its names prefixed by `prefix`;
        its ports by name, as the ports of a component (`outside=False`). `element`:
        this is one element of an array of components, whose parameters are
        collected into array parameters rather than declared one by one."""
        if model.name in self.active:
            raise SymflowError(f"component type '{model.name}' contains itself",
                               span or model.span)
        self.active.append(model.name)
        sections = self.sections_of(model)
        items = {k: [i for s in sections if s.kind == k for i in s.items]
                 for k in (*_COPIED, *_COMPONENT_SECTIONS, "simulate")}
        for s in sections:
            if s.kind in _TOP_ONLY and (prefix or s not in model.sections):
                raise SymflowError(f"an {s.kind} section may only be in the model being "
                                   "compiled, not in a component or a base model", s.span,
                                   help="write it in the model being compiled, with the "
                                        "components' dotted names (`source.v`)")
            if s.kind not in (*_COPIED, *_COMPONENT_SECTIONS, "simulate", *_TOP_ONLY):
                raise SymflowError(f"a {s.kind} section cannot be combined with components "
                                   "yet", s.span)
        local = [d.name for k in ("constants", "parameters", "variables", "observed")
                 for d in items[k]]
        local += [p.name for p in items["ports"]] + [c.name for c in items["components"]]
        names = {n: prefix + n for n in local} if prefix else {}
        functions = ({f.name: prefix + f.name for f in items["functions"]} if prefix else {})
        elements: dict[str, tuple[str, int]] = {}
        if element is not None:
            for d in items["parameters"]:
                names.pop(d.name, None)
                elements[d.name] = (element.array, element.index)
        mods = _modifiers(model, items, modifiers)
        rename = _Renaming(names, functions, elements)

        def lookup(name: str) -> Value:
            return self.values.get(prefix + name)

        lengths = self.lengths(items, mods, rename, prefix, element, span)
        arrays = self.component_arrays(items["components"], lookup)
        for name, a in arrays.items():
            lengths.update({f"{name}.{p}": a.size for p in a.parameters})
        scalars = frozenset(c.name for c in items["components"] if c.size is None)
        scope = LocalArrays(arrays, scalars, lookup, lengths)
        resolve_local_text(items, scope, local)
        if not prefix:
            self.top = scope

        for kind in _COPIED:
            for item in items[kind]:
                new = rename(item)
                if item.name in mods if hasattr(item, "name") else False:
                    value = mods[item.name].value
                    if kind == "variables":
                        new = dataclasses.replace(new, initial=value)
                    elif kind in ("constants", "parameters"):
                        new = dataclasses.replace(new, value=value, bounds=None)
                if element is not None and kind == "parameters":
                    element.collect.setdefault(item.name, []).append(new)
                    continue
                self.sections[kind].append(new)

        ports = self.ports(items["ports"], prefix)
        children: dict[str, dict[str, _Port]] = {}
        for c in items["components"]:
            if c.name in children or c.name in ports or f"{c.name}[0]" in children:
                raise SymflowError(f"'{c.name}' is declared twice", c.span)
            self.child(c, prefix, rename, scope, children)
        self.connect(items["connections"], prefix, ports, children)
        self.active.pop()
        return {n: dataclasses.replace(p, outside=False) for n, p in ports.items()}

    def lengths(self, items, mods, rename: _Renaming, prefix: str,
                element: ArrayElement | None, span: Span | None) -> dict[str, int]:
        """Evaluate this instance's constants (by flat name, in `self.values`: array
        lengths, loop bounds); the lengths of its array constants and parameters."""
        lengths: dict[str, int] = {}
        for d in items["constants"]:
            value = mods[d.name].value if d.name in mods else rename(d.value)
            self.values[prefix + d.name] = constant_value(value, self.values.get)
            if isinstance(self.values[prefix + d.name], list):
                lengths[d.name] = len(self.values[prefix + d.name])
        for d in items["parameters"]:
            n = length_of(d.value, lengths, lambda name: self.values.get(prefix + name))
            if n is not None:
                if element is not None:
                    raise SymflowError(
                        f"array parameter '{d.name}' in an array of components is not "
                        "supported yet", d.value.span,
                        notes=((span, "the array"),) if span is not None else ())
                lengths[d.name] = n
        return lengths

    def ports(self, declared, prefix: str) -> dict[str, _Port]:
        """The ports of a model (its own connectors), each connector variable declared
        as a variable `p.v`."""
        ports: dict[str, _Port] = {}
        for p in declared:
            connector = self.ns.connectors.get(p.type)
            if connector is None:
                close = difflib.get_close_matches(p.type, list(self.ns.connectors), n=1)
                raise SymflowError(
                    f"unknown connector '{p.type}'", p.span,
                    help=(f"did you mean '{close[0]}'? " if close else "")
                    + "declare it with `connector Name ... end` or import it")
            path = prefix + p.name
            for v in connector.variables:
                self.sections["variables"].append(ast.Variable(
                    f"{path}.{v.name}", None, None, None, None, None, p.span, p.span))
            ports[p.name] = _Port(path, connector, True, p.span)
        return ports

    def child(self, c: ast.Component, prefix: str, rename: _Renaming, scope: LocalArrays,
              children: dict[str, dict[str, _Port]]) -> None:
        """Instantiate the component `c` (or each element of an array of them) into
        `children`; an array's parameters become array parameters."""
        sub = self.model(c.type, c.span)
        resolved = tuple(
            dataclasses.replace(m, value=resolve_references(m.value, scope.arrays,
                                                            scope.scalars, scope.lookup))
            if isinstance(m, ast.Keyword) else m for m in c.modifiers)
        if c.size is None:
            mods = tuple(rename(m) if isinstance(m, ast.Keyword) else m for m in resolved)
            children[c.name] = self.instantiate(sub, prefix + c.name + ".", mods, c.span)
            return
        a = scope.arrays[c.name]
        for m in resolved:
            if isinstance(m, ast.Keyword):
                n = length_of(m.value, scope.lengths, scope.lookup)
                if n is not None and n != a.size:
                    raise SymflowError(
                        f"the modifier {m.name} has {n} values, but '{c.name}' has "
                        f"{a.size} components", m.value.span,
                        help=f"give one value for all of them, or an array of {a.size} "
                             "values (one per component)")
        collect: dict[str, list[ast.Declaration]] = {}
        slot = len(self.sections["parameters"])
        for k in range(a.size):
            mods = tuple(
                rename(dataclasses.replace(m, value=element_of(m.value, k, scope.lengths,
                                                               scope.lookup)))
                if isinstance(m, ast.Keyword) else m for m in resolved)
            children[f"{c.name}[{k}]"] = self.instantiate(
                sub, f"{prefix}{c.name}[{k}].", mods, c.span,
                ArrayElement(prefix + c.name, k, collect))
        self.sections["parameters"][slot:slot] = [
            array_parameter(f"{prefix}{c.name}.{name}", values, a.size, c)
            for name, values in collect.items()]

    def component_arrays(self, components, lookup) -> dict[str, ComponentArray]:
        """The arrays of components among `components` (`r[n]: Resistor`), by name."""
        out: dict[str, ComponentArray] = {}
        for c in components:
            if c.size is None:
                continue
            n = integer_value(c.size, lookup, f"the length of '{c.name}'")
            if n < 1:
                raise SymflowError(f"the length of '{c.name}' must be at least 1",
                                   c.size.span)
            if n > MAX_LENGTH:
                raise SymflowError(f"the length of '{c.name}' is too large", c.size.span,
                                   help=f"at most {MAX_LENGTH:,} components")
            sub = self.model(c.type, c.span)
            parameters = frozenset(d.name for s in self.sections_of(sub)
                                   if s.kind == "parameters" for d in s.items)
            out[c.name] = ComponentArray(c.name, n, parameters, c.span)
        return out

    def connect(self, statements, prefix, ports: dict[str, _Port],
                children: dict[str, dict[str, _Port]]) -> None:
        parent: dict[str, str] = {}

        def find(a: str) -> str:
            while parent.setdefault(a, a) != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        known: dict[str, tuple[_Port, Span]] = {}
        for stmt in statements:
            if not (isinstance(stmt, ast.Call) and stmt.func == "connect"):
                raise SymflowError("a connection is written connect(a, b, ...)",
                                   stmt.span)
            if len(stmt.args) < 2 or stmt.keywords:
                raise SymflowError("connect needs two or more ports", stmt.span)
            ends = []
            for arg in stmt.args:
                port = self._port(arg, ports, children)
                ends.append(port)
                known.setdefault(port.path, (port, arg.span))
            first = ends[0]
            for other, arg in zip(ends[1:], stmt.args[1:]):
                if other.connector.name != first.connector.name:
                    raise SymflowError(
                        f"cannot connect a {first.connector.name} to a "
                        f"{other.connector.name}", arg.span,
                        notes=((stmt.args[0].span, f"this is a {first.connector.name}"),),
                        help="connected ports must have the same connector type")
                parent[find(other.path)] = find(first.path)

        groups: dict[str, list[tuple[_Port, Span]]] = {}
        for path, entry in known.items():
            groups.setdefault(find(path), []).append(entry)
        for members in groups.values():
            connector = members[0][0].connector
            span = members[0][1]
            for var in connector.variables:
                names = [ast.Name(f"{p.path}.{var.name}", s) for p, s in members]
                if var.kind == "potential":
                    for other_name in names[1:]:
                        self._equation(names[0], other_name, span, "connection")
                else:
                    terms = [n if not p.outside else ast.UnaryOp("-", n, s)
                             for (p, s), n in zip(members, names)]
                    self._equation(ast.Number(0, span), _balanced_sum(terms, span), span,
                                   "connection")
        # Unconnected flows of the components' ports are zero.
        for child in children.values():
            for port in child.values():
                if port.path in known:
                    continue
                for var in port.connector.variables:
                    if var.kind == "flow":
                        self._equation(ast.Name(f"{port.path}.{var.name}", port.span),
                                       ast.Number(0, port.span), port.span,
                                       f"unconnected flow {port.path}.{var.name}")

    def _port(self, arg, ports, children) -> _Port:
        if not isinstance(arg, ast.Name):
            raise SymflowError("connect takes port names, such as r.p", arg.span)
        head, _, rest = arg.id.partition(".")
        if not rest and head in ports:
            return ports[head]
        if rest and head in children and rest in children[head]:
            return children[head][rest]
        if head in children:
            raise SymflowError(f"component '{head}' has no port '{rest}'", arg.span,
                               help="its ports: " + ", ".join(children[head]) if children[head]
                               else f"'{head}' has no ports")
        raise SymflowError(f"unknown port '{arg.id}'", arg.span,
                           help="connect the ports of components (r.p) or of this model")

    def _equation(self, lhs, rhs, span, why: str) -> None:
        eq = ast.Equation(lhs, rhs, span)
        self.sections["equations"].append(eq)
        self.generated.append((why, eq))


def _balanced_sum(terms: list, span: Span):
    """`a + b + c + ...` as a balanced tree: a connection of a thousand ports must
    not make an expression a thousand levels deep."""
    while len(terms) > 1:
        terms = [ast.BinaryOp("+", terms[i], terms[i + 1], span) if i + 1 < len(terms)
                 else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def flatten(program: ast.Program, model: ast.Model, *,
            allow_import: Iterable[str | os.PathLike] = ()
            ) -> tuple[ast.Model, list[tuple[str, ast.Equation]], tuple[str, ...]]:
    """The flat model of `model` (components expanded, names dotted), the
    equations that connections generated, and the files imported (from the search
    path of `imports.search_path`, widened by `allow_import`)."""
    ns = load_namespace(program, allow_import=allow_import)
    flattener = _Flattener(ns)
    flattener.instantiate(model, "", (), None)
    sections = tuple(ast.Section(k, tuple(v), model.span)
                     for k, v in flattener.sections.items() if v)
    top = flattener.top
    sections += tuple(
        dataclasses.replace(s, items=tuple(
            resolve_references(i, top.arrays, top.scalars, top.lookup) for i in s.items))
        if top is not None and s.kind == "events" else s
        for s in model.sections if s.kind in ("simulate", *_TOP_ONLY))
    flat = ast.Model(model.name, sections, (), (), model.span)
    return flat, flattener.generated, tuple(sorted(ns.files))
