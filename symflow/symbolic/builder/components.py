"""Flattening of components: a hierarchical model to one flat model (still an AST).

A component `r: Resistor(R = 100)` copies the sections of the model `Resistor`
into its parent with every name the component declares prefixed by `r.`
(`r.R`, `r.p.v`); its modifiers replace the defaults of its parameters (or the
initial values of its variables). A port `p: Pin` declares one variable per
connector variable (`p.v`, `p.i`). `extends Base` copies the sections of `Base`
first. `import electrical` and `import "lib.sf"` make the models and connectors
of the standard library or another file available.

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
from typing import Any

from ...errors import Span, SymflowError
from ...lang import ast, parse
from .component_arrays import ComponentArray, element_of, length_of, resolve_references
from .loops import Value, constant_value, integer_value, unroll, with_iteration
from .scope import MAX_LENGTH

__all__ = ["Namespace", "flatten", "load_namespace", "LIBRARY"]

LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "library")

_COMPONENT_SECTIONS = ("components", "ports", "connections")
_COPIED = ("constants", "parameters", "functions", "variables", "equations", "observed")
# Sections only the model being compiled may have, carried into the flat model as written.
_TOP_ONLY = ("inputs", "discrete", "events", "compartments", "species", "reactions", "fit")


@dataclasses.dataclass
class Namespace:
    """The models and connectors visible from a file (its own and its imports)."""

    models: dict[str, ast.Model]
    connectors: dict[str, ast.Connector]
    # the files imported (absolute paths): read once each, and a model's sources
    files: set[str] = dataclasses.field(default_factory=set)


def load_namespace(program: ast.Program, extra_imports: tuple[ast.Import, ...] = ()
                   ) -> Namespace:
    """The models and connectors of `program` and of everything it imports."""
    ns = Namespace({}, {})
    _load_into(ns, program, [os.path.abspath(program.file)], extra_imports)
    return ns


def _load_into(ns: Namespace, program: ast.Program, stack: list[str],
               extra: tuple[ast.Import, ...]) -> None:
    imports = list(program.imports) + [i for m in program.models for i in m.imports]
    imports += list(extra)
    for imp in imports:
        path = _import_path(program.file, imp)
        key = os.path.abspath(path)
        if key in stack:
            cycle = " -> ".join(os.path.basename(p) for p in stack[stack.index(key):] + [key])
            raise SymflowError(f"import cycle: {cycle}", imp.span,
                               help="a file cannot import itself, directly or through others")
        if key in ns.files:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            what = f"'{imp.target}'" if imp.is_file else f"library '{imp.target}'"
            help_ = ("the path is relative to the importing file" if imp.is_file else
                     "known libraries: " + ", ".join(_libraries()))
            raise SymflowError(f"cannot import {what}: {e.strerror}", imp.span,
                               help=help_) from None
        ns.files.add(key)
        _load_into(ns, parse(text, path), stack + [key], ())
    for c in program.connectors:
        ns.connectors.setdefault(c.name, c)
    for m in program.models:
        ns.models[m.name] = m


def _libraries() -> list[str]:
    try:
        return sorted(f[:-3] for f in os.listdir(LIBRARY) if f.endswith(".sf"))
    except OSError:
        return []


def _import_path(importer: str, imp: ast.Import) -> str:
    if imp.is_file:
        base = os.getcwd() if importer.startswith("<") else os.path.dirname(importer)
        return os.path.join(base, imp.target.strip('"'))
    return os.path.join(LIBRARY, imp.target + ".sf")


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
                return ast.Subscript(ast.Name(f"{_DONE}{array}.{n.id}", n.span), ast.Number(k, n.span),
                                     n.span)
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


@dataclasses.dataclass
class _Element:
    """Element `index` of the array of components `array` (its flat name), and where
    the declarations of its parameters are collected, by name, one per element."""

    array: str
    index: int
    collect: dict[str, list[ast.Declaration]]


def _array_parameter(name: str, values: list[ast.Declaration], n: int,
                     component: ast.Component) -> ast.Declaration:
    """The array parameter `r.R` of an array of components from the declarations of
    `R` in its elements: one value for all of them where they agree (declared with
    `size`, a broadcast), else the array literal of their values."""
    first = values[0]
    same = all(v.value == first.value for v in values[1:])
    value = first.value if same else ast.ArrayLiteral(tuple(v.value for v in values),
                                                      first.value.span)
    bounds = first.bounds if all(v.bounds == first.bounds for v in values) else None
    return dataclasses.replace(first, name=name, value=value, bounds=bounds,
                               size=ast.Number(n, component.span) if same else None)


class _Flattener:
    def __init__(self, ns: Namespace):
        self.ns = ns
        # the numbers of the constants, by flat name (array lengths, loop bounds)
        self.values: dict[str, Value] = {}
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
                    element: _Element | None = None) -> dict[str, _Port]:
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

        # Modifiers (already in the parent's names) replace defaults / initial values.
        mods: dict[str, ast.Keyword] = {}
        for m in modifiers:
            if not isinstance(m, ast.Keyword):
                raise SymflowError("a modifier is written `name = value`", m.span,
                                   help=f"for instance {model.name}(R = 100)")
            if m.name in mods:
                raise SymflowError(f"modifier '{m.name}' is given twice", m.span)
            mods[m.name] = m
        modifiable = {d.name for k in ("constants", "parameters", "variables")
                      for d in items[k]}
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

        # The numbers of this instance's constants (flat names), for array lengths and
        # loop bounds; the array lengths of its parameters and constants, for modifiers.
        def lookup(name: str) -> Value:
            return self.values.get(prefix + name)

        lengths: dict[str, int] = {}
        for d in items["constants"]:
            value = mods[d.name].value if d.name in mods else _rename(d.value, names, functions)
            self.values[prefix + d.name] = constant_value(value, self.values.get)
            if isinstance(self.values[prefix + d.name], list):
                lengths[d.name] = len(self.values[prefix + d.name])
        for d in items["parameters"]:
            n = length_of(d.value, lengths, lookup)
            if n is not None:
                if element is not None:
                    raise SymflowError(
                        f"array parameter '{d.name}' in an array of components is not "
                        "supported yet", d.value.span, notes=((span, "the array"),)
                        if span is not None else ())
                lengths[d.name] = n

        # Arrays of components, loops and `r[i].p` references in this model's own text.
        arrays = self.component_arrays(items["components"], lookup)
        for name, a in arrays.items():
            lengths.update({f"{name}.{p}": a.size for p in a.parameters})
        scalars = frozenset(c.name for c in items["components"] if c.size is None)
        taken = {n: "name" for n in local} | {
            d.name: "parameter" for d in items["parameters"]} | {
            d.name: "constant" for d in items["constants"]} | {
            d.name: "variable" for d in items["variables"]} | {
            c.name: "component" for c in items["components"]}
        for kind in ("equations", "connections"):
            unrolled = []
            for stmt, bindings in unroll(items[kind], lookup, taken=taken):
                try:
                    unrolled.append(resolve_references(stmt, arrays, scalars, lookup))
                except SymflowError as e:
                    raise with_iteration(e, bindings) from None
            items[kind] = unrolled
        for kind in ("constants", "parameters", "variables", "observed", "functions"):
            items[kind] = [resolve_references(i, arrays, scalars, lookup) for i in items[kind]]

        for kind in _COPIED:
            for item in items[kind]:
                new = _rename(item, names, functions, elements)
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

        ports: dict[str, _Port] = {}
        for p in items["ports"]:
            connector = self.ns.connectors.get(p.type)
            if connector is None:
                close = difflib.get_close_matches(p.type, list(self.ns.connectors), n=1)
                raise SymflowError(
                    f"unknown connector '{p.type}'", p.span,
                    help=(f"did you mean '{close[0]}'? " if close else "")
                    + "declare it with `connector Name ... end` or import it")
            if p.size is not None:  # pragma: no cover - the grammar has no port arrays
                raise SymflowError("arrays of ports are not supported yet", p.span)
            path = prefix + p.name
            for v in connector.variables:
                self.sections["variables"].append(ast.Variable(
                    f"{path}.{v.name}", None, None, None, None, None, p.span, p.span))
            ports[p.name] = _Port(path, connector, True, p.span)

        children: dict[str, dict[str, _Port]] = {}
        for c in items["components"]:
            if c.name in children or c.name in ports or c.name in arrays and \
                    f"{c.name}[0]" in children:
                raise SymflowError(f"'{c.name}' is declared twice", c.span)
            sub = self.model(c.type, c.span)
            resolved = tuple(
                dataclasses.replace(m, value=resolve_references(m.value, arrays, scalars,
                                                                lookup))
                if isinstance(m, ast.Keyword) else m for m in c.modifiers)
            if c.size is None:
                child_mods = tuple(_rename(m, names, functions, elements)
                                   if isinstance(m, ast.Keyword) else m for m in resolved)
                children[c.name] = self.instantiate(sub, prefix + c.name + ".", child_mods,
                                                    c.span)
                continue
            a = arrays[c.name]
            for m in resolved:
                if isinstance(m, ast.Keyword):
                    n = length_of(m.value, lengths, lookup)
                    if n is not None and n != a.size:
                        raise SymflowError(
                            f"the modifier {m.name} has {n} values, but '{c.name}' has "
                            f"{a.size} components", m.value.span,
                            help=f"give one value for all of them, or an array of {a.size} "
                                 "values (one per component)")
            collect: dict[str, list[ast.Declaration]] = {}
            slot = len(self.sections["parameters"])
            for k in range(a.size):
                child_mods = tuple(
                    _rename(dataclasses.replace(m, value=element_of(m.value, k, lengths, lookup)),
                            names, functions, elements)
                    if isinstance(m, ast.Keyword) else m for m in resolved)
                children[f"{c.name}[{k}]"] = self.instantiate(
                    sub, f"{prefix}{c.name}[{k}].", child_mods, c.span,
                    _Element(prefix + c.name, k, collect))
            self.sections["parameters"][slot:slot] = [
                _array_parameter(f"{prefix}{c.name}.{name}", values, a.size, c)
                for name, values in collect.items()]

        self.connect(items["connections"], prefix, ports, children)
        self.active.pop()
        return {n: dataclasses.replace(p, outside=False) for n, p in ports.items()}

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


def flatten(program: ast.Program, model: ast.Model
            ) -> tuple[ast.Model, list[tuple[str, ast.Equation]], tuple[str, ...]]:
    """The flat model of `model` (components expanded, names dotted), the
    equations that connections generated, and the files imported."""
    ns = load_namespace(program)
    flattener = _Flattener(ns)
    flattener.instantiate(model, "", (), None)
    sections = tuple(ast.Section(k, tuple(v), model.span)
                     for k, v in flattener.sections.items() if v)
    sections += tuple(s for s in model.sections if s.kind in ("simulate", *_TOP_ONLY))
    flat = ast.Model(model.name, sections, (), (), model.span)
    return flat, flattener.generated, tuple(sorted(ns.files))
