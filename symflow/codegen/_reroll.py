"""Re-rolling: consecutive scalar right-hand sides that follow one pattern become
one array expression.

A model built from repeated components (an RC ladder, a mass–spring chain)
reaches codegen as n scalar equations of one shape,

    der(c5.vc) = ((c6.vc - c5.vc)/r6.R - (c5.vc - c4.vc)/r5.R)/c5.C
    der(c6.vc) = ((c7.vc - c6.vc)/r7.R - (c6.vc - c5.vc)/r6.R)/c6.C
    ...

Printed one by one they give XLA n independent scalar chains (n fusions per
evaluation, a compile time growing with n). Here each expression is put in a
canonical form that does not depend on names — the arguments of sums and
products sorted by their structure, then by where their leaves live — and
consecutive expressions with the same structure form a *run*. A run is emitted
once, as an element-wise array expression over *slots*: the leaf at one place
of the pattern, across the run. A slot is a slice of the state vector
(`y[4:96]`) or of an array parameter (`r.R[5:97]`) when its positions step
evenly, a scalar when it is the same leaf throughout (`t`, a shared parameter),
and a stack of its leaves otherwise (scalar parameters of hand-written
components).

The result is exact: the canonical form only reorders the arguments of
commutative operations, and the template is evaluated element-wise, so element
k of a run is expression k. Expressions with a node that is not element-wise
(array reductions, algebraic loops, closures, input tables) are never rolled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import sympy as sp
from sympy.core.relational import Relational
from sympy.functions.elementary.piecewise import ExprCondPair

from ..symbolic import Element, Part, Sigmoid

__all__ = ["Block", "MAX_STRIDE", "MIN_RUN", "Run", "Shared", "Single", "Slot", "reroll"]

# Shorter runs are printed as scalars: a slice costs about what a scalar does.
MIN_RUN = 4
# Strides tried for interleaved runs (a component with several states gives one run
# per state, interleaved with this stride).
MAX_STRIDE = 8

# Operations whose arguments may be reordered (the result does not depend on order).
_COMMUTATIVE = (sp.Add, sp.Mul, sp.Min, sp.Max, sp.And, sp.Or)
# Element-wise operations kept in order (the printer maps each to a `jnp` function).
_ORDERED = (sp.Pow, sp.Piecewise, ExprCondPair, sp.Not, Relational,
            sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.asin, sp.acos, sp.atan, sp.atan2,
            sp.sinh, sp.cosh, sp.tanh, sp.asinh, sp.acosh, sp.atanh, sp.Abs, sp.sign,
            sp.Heaviside, sp.erf, sp.floor, sp.ceiling, Sigmoid)


@dataclasses.dataclass(frozen=True)
class Slot:
    """One leaf place of a run's pattern: `symbol` in the template stands for the
    array of `leaves` (the leaf of each expression of the run, in order)."""

    symbol: sp.Symbol
    leaves: tuple[sp.Expr, ...]


@dataclasses.dataclass(frozen=True)
class Shared:
    """A subexpression that two places of a run's pattern share, one member apart:
    `symbol` is the array of its `length` values (`template` over `slots`), and the
    run's template reads it as `Part(symbol, 0, length - 1)` and `Part(symbol, 1,
    length)`. The flux between neighbouring sections of a ladder leaves one
    section and enters the next: computed once, not twice."""

    symbol: sp.Symbol
    template: sp.Expr
    slots: tuple[Slot, ...]
    length: int


@dataclasses.dataclass(frozen=True)
class Run:
    """Expressions `start, start + stride, ...` (`length` of them) as one element-wise
    `template` over `slots` and the `shared` arrays (computed first)."""

    start: int
    stride: int
    length: int
    template: sp.Expr
    slots: tuple[Slot, ...]
    shared: tuple[Shared, ...] = ()


@dataclasses.dataclass(frozen=True)
class Block:
    """Expressions `start .. start + stride*length - 1` as `stride` interleaved runs
    (run j holds expressions `start + j`, `start + j + stride`, ...): a chain whose
    states alternate (position, velocity, position, ...) is a block of stride 2."""

    start: int
    stride: int
    length: int
    runs: tuple[Run, ...]

    @property
    def stop(self) -> int:
        return self.start + self.stride * self.length


@dataclasses.dataclass(frozen=True)
class Single:
    """Expression `index`, printed on its own."""

    index: int
    expr: sp.Expr


class _NotElementwise(Exception):
    """The expression holds a node the template cannot carry."""


@dataclasses.dataclass(frozen=True)
class _Canonical:
    """An expression's structure (`key`, free of names and positions), its leaves in
    canonical order, and the tree to rebuild it from (`(func, children)` or a leaf)."""

    key: str
    places: tuple[tuple[int, object], ...]  # where each leaf lives (for ordering)
    leaves: tuple[sp.Expr, ...]
    tree: object


def reroll(exprs: Sequence[sp.Expr], positions: Mapping[sp.Symbol, int], *,
           min_run: int = MIN_RUN, max_stride: int = MAX_STRIDE) -> list[Block | Single]:
    """`exprs` (the right-hand sides of consecutive scalar states) as blocks and
    singles, in order. `positions`: the index of each scalar state in `y`. Of the
    strides 1 .. `max_stride`, the one giving the fewest pieces is kept."""
    canon: list[_Canonical | None] = []
    for e in exprs:
        try:
            canon.append(_canonical(e, positions))
        except _NotElementwise:
            canon.append(None)
    keys = [c.key if c is not None else None for c in canon]
    best: list[tuple[int, int, int]] | None = None  # (start, stride, length); length 0: single
    for stride in range(1, max_stride + 1):
        spans = _scan(keys, stride, min_run)
        if best is None or len(spans) < len(best):
            best = spans
    out: list[Block | Single] = []
    for start, stride, length in best or []:
        if length == 0:
            out.append(Single(start, exprs[start]))
            continue
        runs = tuple(_run(start + j, stride, [canon[start + j + stride * t]  # type: ignore[misc]
                                              for t in range(length)])
                     for j in range(stride))
        out.append(Block(start, stride, length, runs))
    return out


def _scan(keys: Sequence[str | None], stride: int, min_run: int) -> list[tuple[int, int, int]]:
    """A greedy cover of the positions by blocks of `stride` interleaved runs of at
    least `min_run` equal keys each, and singles (`length` 0)."""
    n, i = len(keys), 0
    spans: list[tuple[int, int, int]] = []
    while i < n:
        length = 0
        if i + stride <= n and all(keys[i + j] is not None for j in range(stride)):
            length = 1
            while (i + stride * (length + 1) <= n
                   and all(keys[i + j + stride * length] == keys[i + j] for j in range(stride))):
                length += 1
        if length >= min_run:
            spans.append((i, stride, length))
            i += stride * length
        else:
            spans.append((i, 1, 0))
            i += 1
    return spans


def _run(start: int, stride: int, members: Sequence[_Canonical]) -> Run:
    """The template of a run: the first member's tree, each leaf place a slot (or
    the leaf itself where it is the same throughout), with the subexpressions that
    recur one member apart computed once (`Shared`)."""
    m = len(members)
    rows = [m_.leaves for m_ in members]
    nodes = _nodes(members[0].tree)
    overrides: dict[int, sp.Expr] = {}
    shared: list[Shared] = []
    taken: list[tuple[int, int]] = []
    for later, earlier in _shifted_pairs(nodes, rows):
        if any(lo < hi_ and lo_ < hi for lo_, hi_ in taken
               for lo, hi in ((later.lo, later.hi), (earlier.lo, earlier.hi))):
            continue  # overlaps a subexpression already shared
        taken += [(later.lo, later.hi), (earlier.lo, earlier.hi)]
        # W[0] = later at member 0, W[j] = earlier at member j - 1: later = W[0:m],
        # earlier = W[1:m+1]
        columns = [(rows[0][i],) + tuple(row[j] for row in rows)
                   for i, j in zip(range(later.lo, later.hi), range(earlier.lo, earlier.hi))]
        symbol = sp.Symbol(f"_w{start}_{len(shared)}", real=True)
        leaves, slots = _slots(columns, f"_w{start}_{len(shared)}_")
        shared.append(Shared(symbol, _rebuild(earlier.bare, iter(leaves)), slots, m + 1))
        overrides[id(later.tree)] = later.coefficient * Part(symbol, 0, m)
        overrides[id(earlier.tree)] = earlier.coefficient * Part(symbol, 1, m + 1)
    leaves, slots = _slots(list(zip(*rows, strict=True)), f"_r{start}_")
    template = _rebuild(members[0].tree, iter(leaves), overrides)
    used = template.free_symbols
    return Run(start, stride, m, template, tuple(s_ for s_ in slots if s_.symbol in used),
               tuple(shared))


def _slots(columns: Sequence[tuple[sp.Expr, ...]], prefix: str
           ) -> tuple[list[sp.Expr], tuple[Slot, ...]]:
    """For each leaf place (its `column` across members), the leaf itself where it is
    the same throughout, else a slot symbol (one per distinct column)."""
    replacement: list[sp.Expr] = []
    slots: dict[tuple[sp.Expr, ...], Slot] = {}
    for column in columns:
        if all(leaf == column[0] for leaf in column):
            replacement.append(column[0])
            continue
        if column not in slots:  # the same column twice is one slot
            slots[column] = Slot(sp.Symbol(f"{prefix}{len(slots)}", real=True), column)
        replacement.append(slots[column].symbol)
    return replacement, tuple(slots.values())


@dataclasses.dataclass(frozen=True)
class _Node:
    """A subexpression of a canonical tree: its leaves are `lo .. hi - 1` of the
    tree's leaves; `key` its structure without a numeric factor, `coefficient` that
    factor, `bare` the subtree without it."""

    key: str
    lo: int
    hi: int
    coefficient: sp.Expr
    tree: object
    bare: object


def _nodes(tree: object) -> list[_Node]:
    """The operations of `tree` with at least one leaf, in preorder."""
    out: list[_Node] = []

    def walk(t: object, lo: int) -> tuple[str, int]:
        if not isinstance(t, tuple):
            if isinstance(t, sp.Basic) and (t.is_Number or isinstance(t, sp.NumberSymbol)
                                            or t in (sp.true, sp.false)):
                return f"n{sp.srepr(t)}", lo
            return "l", lo + 1
        func, children = t
        here = len(out)
        out.append(None)  # type: ignore[arg-type]  # filled below, preorder
        keys, hi = [], lo
        for c in children:
            key, hi = walk(c, hi)
            keys.append(key)
        numbers = [c for c in children if isinstance(c, sp.Basic) and c.is_Number]
        coefficient: sp.Expr = sp.Integer(1)
        bare = t
        if func is sp.Mul and len(numbers) == 1:
            coefficient = numbers[0]
            rest = tuple(c for c in children if c is not numbers[0])
            bare = (sp.Mul, rest)
            keys = [k for k, c in zip(keys, children) if c is not numbers[0]]
        key = f"{func.__name__}({','.join(keys)})"
        out[here] = _Node(key, lo, hi, coefficient, t, bare)
        return key, hi

    walk(tree, 0)
    return [node for node in out if node.hi > node.lo]


def _costly(tree: object) -> bool:
    """Whether a subexpression holds an operation worth computing once (a division, a
    power that is not a small whole one, a function): sums and products of slices
    cost less recomputed inside one fused loop than read back from a shared array
    (measured on the mass-spring chain at 10,000 masses, where sharing its spring
    forces made a solve 1.5x slower)."""
    if not isinstance(tree, tuple):
        return False
    func, children = tree
    if func is sp.Pow:
        exponent = children[1]
        if not (isinstance(exponent, sp.Basic) and exponent.is_Integer and 0 < exponent <= 3):
            return True
    elif func not in (sp.Add, sp.Mul):
        return True
    return any(_costly(c) for c in children)


def _shifted_pairs(nodes: list[_Node], rows: Sequence[tuple[sp.Expr, ...]]):
    """Pairs `(later, earlier)` of disjoint costly subexpressions (`_costly`) with
    `later` at member k + 1 equal to `earlier` at member k for every k, largest
    first."""
    by_key: dict[str, list[_Node]] = {}
    for node in nodes:
        by_key.setdefault(node.key, []).append(node)
    pairs = []
    for group in by_key.values():
        if not _costly(group[0].bare):
            continue
        for later in group:
            for earlier in group:
                if later is earlier or not (later.hi <= earlier.lo or earlier.hi <= later.lo):
                    continue
                if all(rows[k + 1][later.lo:later.hi] == rows[k][earlier.lo:earlier.hi]
                       for k in range(len(rows) - 1)):
                    pairs.append((later, earlier))
    pairs.sort(key=lambda pair: pair[0].hi - pair[0].lo, reverse=True)
    return pairs


def _canonical(expr: sp.Expr, positions: Mapping[sp.Symbol, int]) -> _Canonical:
    place = _leaf_place(expr, positions)
    if place is not None:
        kind, where = place
        return _Canonical(kind, ((0, where) if isinstance(where, int) else (1, where),),
                          (expr,), expr)
    if expr.is_Number or isinstance(expr, sp.NumberSymbol):
        return _Canonical(f"n{sp.srepr(expr)}", (), (), expr)
    if isinstance(expr, _COMMUTATIVE):
        children = sorted((_canonical(a, positions) for a in expr.args),
                          key=lambda c: (c.key, c.places))
    elif isinstance(expr, _ORDERED):
        children = [_canonical(a, positions) for a in expr.args]
    elif expr in (sp.true, sp.false):
        return _Canonical(f"b{expr}", (), (), expr)
    else:
        raise _NotElementwise(type(expr).__name__)
    name = type(expr).__name__ if not isinstance(expr, Relational) else expr.rel_op
    key = f"{name}({','.join(c.key for c in children)})"
    return _Canonical(key, tuple(p for c in children for p in c.places),
                      tuple(leaf for c in children for leaf in c.leaves),
                      (expr.func, tuple(c.tree for c in children)))


def _leaf_place(expr: sp.Expr, positions: Mapping[sp.Symbol, int]
                ) -> tuple[str, int | str] | None:
    """`(kind, where)` for a leaf: a scalar state (its index in `y`), an element of
    an array parameter (its index), any other symbol (its name); None otherwise."""
    if isinstance(expr, sp.Symbol):
        if expr in positions:
            return "y", positions[expr]
        return "s", expr.name
    if (isinstance(expr, Element) and isinstance(expr.args[0], sp.Symbol)
            and expr.args[1].is_Integer):
        return f"e[{expr.args[0].name}]", int(expr.args[1])
    return None


def _rebuild(tree: object, leaves, overrides: Mapping[int, sp.Expr] | None = None
             ) -> sp.Expr:
    """`tree` with its leaves taken in order from `leaves`; a subtree whose `id` is in
    `overrides` is replaced (its leaves are still consumed)."""
    if overrides and id(tree) in overrides:
        _rebuild(tree, leaves)  # consume its leaves
        return overrides[id(tree)]
    if isinstance(tree, tuple):
        func, children = tree
        return func(*(_rebuild(c, leaves, overrides) for c in children))
    if isinstance(tree, sp.Basic) and (tree.is_Number or isinstance(tree, sp.NumberSymbol)
                                       or tree in (sp.true, sp.false)):
        return tree
    return next(leaves)
