"""`System` to Python source: the generated, readable, importable JAX module.

The module has these functions over a flat state vector `y` and a parameter
dict `p` (a pytree, so `jax.grad` and `jax.vmap` see every parameter):

- `parameter_defaults(p)`: `p` completed with the defaults of missing parameters
  (a default may depend on earlier parameters, so it follows their values);
- `initial_values(p)`: the initial value of every state, by name;
- `initial_vector(p)`: the same, packed as the flat state vector (what a solve
  starts from: one array expression per run of like states, see `rhs`);
- `rhs(t, y, p)`: `dy/dt`, one `jnp` expression per state (an array state is one
  array expression, never one expression per element; consecutive scalar states
  of one pattern, as repeated components give, one array expression too:
  `_reroll.py`);
- `observed(t, y, p)`: the observed outputs, by name.

Common subexpressions are shared (SymPy's `cse`). Every model name is mangled
(`p_alpha`, `v_x`, `o_total`), so no text of the model file is printed as written.
"""

from __future__ import annotations

import dataclasses
import re
import weakref

import sympy as sp
from sympy.simplify.cse_main import tree_cse

from ..collector import gc_paused
from ..symbolic import (
    Element,
    Fill,
    NewtonSolve,
    Sigmoid,
    SoftmaxWeight,
    System,
    loop_symbols,
    pre_symbol,
    shape_of,
)
from ._closures import IMPORT_LINE, closure_io_outputs, lift_closures
from ._emit_events import emit_events
from ._emit_reactions import emit_network_rhs, network_states
from ._emit_sde import emit_stochastic
from ._inputs import import_line, input_constants, input_defaults, prepare_inputs
from ._names import mangle
from ._printer import JnpPrinter
from ._reroll import Block, Single, reroll

__all__ = ["Layout", "emit", "function_lines", "name_table", "rhs_by_state", "state_layout"]


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where a state lives in the flat vector `y`: `y[start:stop]`."""

    name: str
    start: int
    stop: int
    shape: tuple[int, ...]


def state_layout(system: System) -> tuple[Layout, ...]:
    """Where each state lives in `y`, in the order of `system.states`: one after the
    other, or field-major for a chain of like components (`layout_fields`)."""
    fields = layout_fields(system)
    if fields > 1:  # state i is point i // fields of field i % fields
        points = len(system.states) // fields
        return tuple(Layout(v.name, (i % fields) * points + i // fields,
                            (i % fields) * points + i // fields + 1, ())
                     for i, v in enumerate(system.states))
    out, offset = [], 0
    for v in system.states:
        out.append(Layout(v.name, offset, offset + v.size, v.shape))
        offset += v.size
    return tuple(out)


# Below this many states the field-major layout is not worth its analysis.
MIN_FIELD_MAJOR = 64
# by id (a System's hash walks all its equations): (the system, weakly; its fields)
_FIELDS: dict[int, tuple[weakref.ref, int]] = {}


def layout_fields(system: System) -> int:
    """The number of fields of a field-major layout of `system`'s states, or 1 (one
    after the other).

    A chain of components with several states each (a mass: position, velocity)
    has them interleaved in `system.states` (`s0, v0, s1, v1, ...`): re-rolled, its
    right-hand side is a block of interleaved runs, which reads strided slices and
    interleaves its result on every evaluation (1.3-1.6x a hand-written twin with
    each field contiguous, benchmarks/components.py). When such a block of stride
    `d` covers at least half of the states and their number is a multiple of `d`,
    the layout is field-major instead: state `i` is point `i // d` of field `i % d`,
    every run is a contiguous slice, and the band of the Jacobian in the original
    order is the band of the interleaved order of the fields, which the implicit
    solvers' interleaved band solve uses (`solve/linear/interleaved.py`). Plain
    ODE systems of scalar states only (no events, noise, reactions or grid)."""
    known = _FIELDS.get(id(system))
    if known is not None and known[0]() is system:
        return known[1]
    fields = 1
    states = system.states
    n = len(states)
    if (n >= MIN_FIELD_MAJOR and all(v.shape == () for v in states) and not system.events
            and not system.brownians and system.reactions is None and not system.domain):
        rhs = {e.target: e.rhs for e in system.equations if e.kind == "ode"}
        pieces = reroll([rhs[v.name] for v in states],
                        {v.symbol: i for i, v in enumerate(states)})
        blocks = [p for p in pieces if isinstance(p, Block) and p.stride > 1]
        if blocks:
            block = max(blocks, key=lambda b: b.stride * b.length)
            if (2 * block.stride * block.length >= n and n % block.stride == 0
                    and block.start % block.stride == 0):
                fields = block.stride
    key = id(system)

    def forget(_: weakref.ref) -> None:
        _FIELDS.pop(key, None)

    _FIELDS[key] = (weakref.ref(system, forget), fields)
    return fields


def _mangle(prefix: str, name: str) -> str:
    return mangle(prefix, name)  # dots and brackets (`r[3].p.v`): _names.py


@gc_paused
def emit(system: System) -> str:
    """The Python source of the generated module for a simplified `System`."""
    if any(e.kind != "ode" for e in system.equations):
        raise ValueError("codegen needs an ODE system: run the passes first")
    params = system.free_parameters
    # the inputs' tables are array parameters (codegen/_inputs.py)
    parameter_names = tuple(p.name for p in params) + tuple(i.name for i in system.inputs)
    layout = state_layout(system)
    in_order = sorted(layout, key=lambda s: s.start)  # as in `y`
    states = {v.name: v for v in system.states}
    names, shapes = name_table(system)
    kinds = _node_types(system)

    out = [
        f'"""Generated by symflow from model {system.name} ({_safe(system.file)}).',
        "",
        "Regenerate with `symflow compile`; edits here are not read back.",
        '"""',
        "",
        *(["import jax"] if _has_special(kinds) else []),
        "import jax.numpy as jnp",
        *(["from symflow.runtime import newton_solve"] if _has_loops(kinds) else []),
        *([IMPORT_LINE] if system.closures else []),
        *([import_line(system)] if system.inputs else []),
        "",
        "",
        f"MODEL = {system.name!r}",
        f"PARAMETERS = {parameter_names!r}",
        f"STATES = {tuple((s.name, s.start, s.stop, s.shape) for s in in_order)!r}",
        f"OBSERVED = {tuple((o.name, o.shape) for o in system.observed)!r}",
        f"N_STATES = {in_order[-1].stop if layout else 0}",
        *([f"FIELDS = {layout_fields(system)}"] if layout_fields(system) > 1 else []),
        *input_constants(system),
        "",
        "",
    ]
    out += _parameter_defaults(system, names)
    out += prepare_inputs(system)
    out += _function(
        "initial_values", "p", "The initial value of every state, by name.",
        system, names, shapes,
        {s.name: _as_shape(states[s.name].initial, s.shape) for s in layout},
        unpack_states=False, result="dict",
    )
    out += _vector_function(
        "initial_vector", "p", "The initial values as the flat state vector y0.",
        system, layout, names, shapes,
        {s.name: _as_shape(states[s.name].initial, s.shape)
         for s in sorted(layout, key=lambda s: s.start)},
        unpack_states=False)
    moved = network_states(system, layout)
    if moved:  # a reaction network: stoichiometry times rates (_emit_reactions.py)
        rest = {k: sp.Integer(0) if k in moved else e
                for k, e in rhs_by_state(system, layout).items()}
        out += emit_network_rhs(system, layout, moved, names, shapes, _function, rest)
    else:
        out += _vector_function(
            "rhs", "t, y, p", "The time derivative dy/dt of the flat state vector y.",
            system, layout, names, shapes, rhs_by_state(system, layout), unpack_states=True)
    out += _function(
        "observed", "t, y, p", "The observed outputs at one time, by name.",
        system, names, shapes,
        {o.name: o.expr for o in system.observed},
        unpack_states=True, result="dict",
    )
    if system.invariants:  # a DAE's constraints, for the projection (solve/projection.py)
        out += _function(
            "invariants", "t, y, p", "The DAE's invariants, each zero on the solution.",
            system, names, shapes, {str(k): g for k, g in enumerate(system.invariants)},
            unpack_states=True, result="dict",
        )
    if system.brownians or any(v.distribution for v in system.states):
        out += emit_stochastic(system, names, shapes, layout, states, _function)
    if system.events:
        out += emit_events(system, names, shapes, layout, _function)
    if system.closures:  # the inputs and outputs of each network (for Model.closure_samples)
        out += _function("closure_io", "t, y, p", "The inputs and outputs of every closure.",
                         system, names, shapes, closure_io_outputs(system),
                         unpack_states=True, result="dict")
    return "\n".join(out).rstrip() + "\n"


def _vector_function(name: str, args: str, doc: str, system: System,
                     layout: tuple[Layout, ...], names, shapes,
                     by_state: dict[str, sp.Expr], *, unpack_states: bool) -> list[str]:
    """The lines of a function returning the flat state vector (`rhs`, `initial_vector`):
    consecutive scalar states whose expressions follow one pattern are computed as
    one array expression (`_reroll.py`)."""
    pieces = (reroll(list(by_state.values()), {v.symbol: s.start for v, s in
                                                zip(system.states, layout)})
              if all(s.shape == () for s in layout) else [])
    if not any(isinstance(piece, Block) for piece in pieces):
        return _function(name, args, doc, system, names, shapes, by_state,
                         unpack_states=unpack_states, result="vector")
    slot_printer = _SlotPrinter(system, layout)
    preamble: list[str] = []
    outputs: dict[str, sp.Expr] = {}
    lengths: dict[str, int] = {}
    names, shapes = dict(names), dict(shapes)
    interleave: dict[str, tuple[str, ...]] = {}
    for piece in pieces:
        if isinstance(piece, Single):
            outputs[f"s{piece.index}"] = piece.expr
            lengths[f"s{piece.index}"] = 1
            continue
        for run in piece.runs:
            for shared in run.shared:  # computed once, read shifted (`_reroll.Shared`)
                preamble += [f"    {slot.symbol.name} = {slot_printer.slot(slot)}"
                             for slot in shared.slots]
                preamble.append(f"    {shared.symbol.name} = "
                                f"{slot_printer.shared(shared)}")
                names[shared.symbol] = shared.symbol.name
                shapes[shared.symbol] = (shared.length,)
            for slot in run.slots:
                preamble.append(f"    {slot.symbol.name} = {slot_printer.slot(slot)}")
                names[slot.symbol] = slot.symbol.name
                shapes[slot.symbol] = (run.length,)
            outputs[f"r{run.start}"] = run.template
            lengths[f"r{run.start}"] = run.length
        if piece.stride > 1:
            interleave[f"r{piece.start}"] = tuple(f"r{run.start}" for run in piece.runs)
    return _function(name, args, doc, system, names, shapes, outputs,
                     unpack_states=unpack_states, result="pieces", preamble=preamble,
                     lengths=lengths, interleave=interleave)


class _SlotPrinter:
    """The code of a run's slot (`_reroll.Slot`): a slice of `y` or of an array
    parameter where the positions step evenly, else a stack of the leaves."""

    def __init__(self, system: System, layout: tuple[Layout, ...]):
        self.positions = {v.symbol: s.start for v, s in zip(system.states, layout)}
        names = {system.time: "t"}
        names.update({p.symbol: f"p[{p.name!r}]" for p in system.free_parameters})
        names.update({v: f"y[{i}]" for v, i in self.positions.items()})
        self.printer = JnpPrinter(names, {})

    def slot(self, slot) -> str:
        leaves = slot.leaves
        if all(leaf in self.positions for leaf in leaves):
            steps = _even_steps([self.positions[leaf] for leaf in leaves])
            if steps is not None:
                return f"y[{steps}]"
        if (all(isinstance(leaf, Element) for leaf in leaves)
                and len({leaf.args[0] for leaf in leaves}) == 1):
            steps = _even_steps([int(leaf.args[1]) for leaf in leaves])
            if steps is not None:
                return f"{self.printer.doprint(leaves[0].args[0])}[{steps}]"
        items = ", ".join(self.printer.doprint(leaf) for leaf in leaves)
        return f"jnp.stack([{items}])"

    def shared(self, shared) -> str:
        """The code of a shared array (`_reroll.Shared`) over its slots."""
        printer = JnpPrinter(self.printer.names, {})
        printer.names.update({slot.symbol: slot.symbol.name for slot in shared.slots})
        printer.shapes.update({slot.symbol: (shared.length,) for slot in shared.slots})
        return printer.doprint(shared.template)


def _even_steps(indices: list[int]) -> str | None:
    """`indices` as slice text `start:stop(:step)` when they step evenly upward."""
    step = indices[1] - indices[0]
    if step <= 0 or any(b - a != step for a, b in zip(indices, indices[1:])):
        return None
    stop = indices[-1] + 1
    return f"{indices[0]}:{stop}" if step == 1 else f"{indices[0]}:{stop}:{step}"


def name_table(system: System) -> tuple[dict[sp.Symbol, str], dict[sp.Symbol, tuple[int, ...]]]:
    """The mangled name of every time, parameter and state symbol, and the shapes of
    the states."""
    layout = state_layout(system)
    states = {v.name: v for v in system.states}
    names: dict[sp.Symbol, str] = {system.time: "t"}
    names.update({p.symbol: _mangle("p_", p.name) for p in system.free_parameters})
    names.update({states[s.name].symbol: _mangle("v_", s.name) for s in layout})
    shapes = {states[s.name].symbol: s.shape for s in layout}
    return names, shapes


def rhs_by_state(system: System, layout) -> dict[str, sp.Expr]:
    """Each state's right-hand side (one pass over the equations, not one a state), in
    the order of `y`."""
    rhs = {e.target: e.rhs for e in system.equations if e.kind == "ode"}
    return {s.name: rhs[s.name] for s in sorted(layout, key=lambda s: s.start)}


# Above this many outputs in one function, CSE only shares repeated subtrees: SymPy's
# `opt_cse` (matching common argument subsets of sums and products, and negations)
# grows faster than linearly and dominated codegen on large component models
# (benchmarks/README.md); XLA shares repeated subtrees again when it compiles.
CSE_FULL_LIMIT = 1000


def _cse(exprs: list[sp.Expr], *, ignore: tuple[sp.Symbol, ...]):
    symbols = sp.numbered_symbols("_c")
    if len(exprs) <= CSE_FULL_LIMIT:
        return sp.cse(exprs, symbols=symbols, order="none", ignore=ignore)
    replacements, reduced = tree_cse(exprs, symbols, {}, "none", ignore)
    return replacements, reduced


def _compound(exprs) -> list[sp.Basic]:
    """The expressions of `exprs` that are not a symbol, a number or a negated symbol:
    the only ones that can hold a loop or a special node. Most observed outputs of a
    component model are such aliases, and `.has` on each of them was a visible part
    of codegen at 10,000 sections."""
    return [e for e in exprs if not (e.is_Atom or _negated_symbol(e) is not None)]


def _node_types(system: System) -> set[type]:
    """The type of every node of the system's expressions (right-hand sides, observed
    outputs, initial values), from one walk: the questions codegen asks of them
    (`_has_loops`, `_has_special`) were one walk each over every expression, which
    showed at 10,000 ladder sections."""
    exprs = [e.rhs for e in system.equations] + [o.expr for o in system.observed]
    exprs += [v.initial for v in system.variables if v.initial is not None]  # DAE initialization
    out: set[type] = set()
    for e in _compound(exprs):
        out.update(type(node) for node in sp.preorder_traversal(e))
    return out


def _has_loops(kinds: set[type]) -> bool:
    """Whether an algebraic loop (`NewtonSolve`) is among the node types `kinds`."""
    return any(issubclass(k, NewtonSolve) for k in kinds)


def _has_special(kinds: set[type]) -> bool:
    """Whether a node printed with `jax.nn` (sigmoid, softmax) is among `kinds`."""
    return any(issubclass(k, (Sigmoid, SoftmaxWeight)) for k in kinds)


def _negated_symbol(expr: sp.Basic) -> sp.Symbol | None:
    """`x` for the expression `-x` (SymPy's `Mul(-1, x)`) of a symbol `x`, else None."""
    if (isinstance(expr, sp.Mul) and len(expr.args) == 2 and expr.args[0] is sp.S.NegativeOne
            and isinstance(expr.args[1], sp.Symbol)):
        return expr.args[1]
    return None


def _direct_code(expr: sp.Basic, names: dict[sp.Symbol, str]) -> str | None:
    """The code of an output that is a named symbol or its negation, printed as the
    printer would print it; None for anything else. Such outputs (about half the
    observed outputs of a component model: connector variables that alias a state or
    a parameter) skip CSE and the printer, which dominated codegen at scale."""
    symbol = expr if isinstance(expr, sp.Symbol) else _negated_symbol(expr)
    if symbol is None or symbol not in names:
        return None
    return names[symbol] if symbol is expr else f"-{names[symbol]}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-/ ]", "_", text)


def _as_shape(expr: sp.Expr, shape: tuple[int, ...]) -> sp.Expr:
    """A scalar initial value of an array state, repeated to its length."""
    if shape and shape_of(expr, {}) == ():
        return Fill(expr, sp.Integer(shape[0]))
    return expr


def _parameter_defaults(system: System, names) -> list[str]:
    lines = [
        "def parameter_defaults(p):",
        '    """`p` with every missing parameter set to its default."""',
        "    p = dict(p)",
    ]
    printer = JnpPrinter({}, {})  # knows the parameters before this one (one printer:
    for prm in system.free_parameters:  # a new one each time is quadratic in their number)
        lines.append(f"    if {prm.name!r} not in p:")
        lines.append(f"        p[{prm.name!r}] = {printer.doprint(prm.default)}")
        printer.names[prm.symbol] = f"p[{prm.name!r}]"
    lines += input_defaults(system)
    lines += ["    return p", "", ""]
    return lines


def _function(name, args, doc, system, names, shapes, outputs: dict[str, sp.Expr], *,
              unpack_states: bool, result: str, unpack_pre: bool = False,
              preamble: list[str] | None = None, lengths: dict[str, int] | None = None,
              interleave: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The lines of one generated function returning `outputs`: a dict by key
    (`result="dict"`), the flat state vector (`"vector"`, keys are states), a 1-D
    array of scalars (`"stack"`) or the concatenation of pieces of the given
    `lengths` (`"pieces"`; `interleave` maps a piece's key to the keys of arrays of
    equal length whose elements alternate in it, the first key its own).
    `unpack_pre`: also bind `pre(x)` from `y_pre`;
    `preamble`: lines placed before the expressions (they may use `y`, `p`, `t`)."""
    lines = [f"def {name}({args}):", f'    """{doc}"""']
    keys = list(outputs)
    # a dict of outputs: a named symbol or its negation is printed as it is (no CSE)
    direct = ({k: code for k, e in outputs.items()
               if (code := _direct_code(e, names)) is not None} if result == "dict" else {})
    exprs = [outputs[k] for k in keys if k not in direct]
    used = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
    used.update(e if isinstance(e, sp.Symbol) else e.args[1]
                for k, e in outputs.items() if k in direct)
    for p in system.free_parameters:
        if p.symbol in used:
            lines.append(f"    {names[p.symbol]} = p[{p.name!r}]")
    if unpack_states:
        symbols = {v.name: v.symbol for v in system.states}
        for s in state_layout(system):
            symbol = symbols[s.name]
            if symbol in used:
                index = f"{s.start}" if s.shape == () else f"{s.start}:{s.stop}"
                lines.append(f"    {names[symbol]} = y[{index}]")
    if unpack_pre:
        for s in state_layout(system):
            pre = pre_symbol(s.name)
            if pre in used:
                index = f"{s.start}" if s.shape == () else f"{s.start}:{s.stop}"
                lines.append(f"    {names[pre]} = y_pre[{index}]")

    lines += preamble or []

    shapes = dict(shapes)
    names = dict(names)
    exprs, closure_lines = lift_closures(exprs, system, names, shapes, JnpPrinter)
    lines += closure_lines
    # The unknowns of algebraic loops are bound inside them: CSE must not hoist them.
    bound = set().union(*(loop_symbols(e) for e in exprs)) if exprs else set()
    replacements, reduced = _cse(exprs, ignore=tuple(bound))
    printer = JnpPrinter(names, shapes)
    for symbol, value in replacements:
        printer.shapes[symbol] = shape_of(value, printer.shapes)
        printer.names[symbol] = symbol.name
        lines.append(f"    {symbol.name} = {printer.doprint(value)}")

    if result == "stack":
        items = [f"        jnp.asarray({printer.doprint(e)})," for e in reduced]
        lines += (["    return jnp.stack([", *items, "    ])"] if items
                  else ["    return jnp.zeros((0,))"])
    elif result == "pieces":
        assert lengths is not None
        pieces: dict[str, str] = {}
        for k, e in zip(keys, reduced):
            pieces[k] = printer.doprint(e)
            if shape_of(e, printer.shapes) == ():
                pieces[k] = (f"jnp.reshape({pieces[k]}, (1,))" if lengths[k] == 1
                             else f"jnp.full(({lengths[k]},), {pieces[k]})")
        groups = interleave or {}
        interleaved = {k for group in groups.values() for k in group}
        items = []
        for k in keys:
            if k in groups:
                columns = ", ".join(pieces[j] for j in groups[k])
                items.append(f"        jnp.reshape(jnp.stack([{columns}], axis=1), (-1,)),")
            elif k not in interleaved:
                items.append(f"        {pieces[k]},")
        lines += ["    return jnp.concatenate([", *items, "    ])"]
    elif result == "dict":
        computed = iter(reduced)
        items = [f"        {k!r}: {direct[k] if k in direct else printer.doprint(next(computed))},"
                 for k in keys]
        lines += ["    return {", *items, "    }"] if items else ["    return {}"]
    else:
        layout = {s.name: s for s in state_layout(system)}
        if all(layout[k].shape == () for k in keys):
            items = [f"        {printer.doprint(e)}," for e in reduced]
            lines += (["    return jnp.stack([", *items, "    ])"] if items
                      else ["    return jnp.zeros((0,))"])  # a model with no states
        else:
            items = []
            for k, e in zip(keys, reduced):
                code = printer.doprint(e)
                if layout[k].shape == ():
                    code = f"jnp.reshape({code}, (1,))"
                items.append(f"        {code},")
            lines += ["    return jnp.concatenate([", *items, "    ])"]
    return lines + ["", ""]


# the other emitters of this package take `_function` as an argument; one imports it
function_lines = _function
