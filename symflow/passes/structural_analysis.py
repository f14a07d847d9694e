"""Structural analysis: the bipartite graph of equations and unknowns.

An equation and an unknown are joined when the unknown appears in the
equation. A system is structurally regular when a perfect matching exists:
each equation can be assigned its own unknown to solve for. A maximum matching
is found with augmenting paths (Duff's algorithm, a depth-first search from
each equation, iterative so that long chains do not exhaust Python's stack).
When no perfect matching exists, `check_structure` names the equations that
are left over (too many equations for their unknowns) and the unknowns that no
equation determines, with their source lines.
"""

from __future__ import annotations

import functools

from collections.abc import Callable, Sequence

import sympy as sp

from ..errors import SymflowError
from ..symbolic import System


__all__ = ["augment", "maximum_matching", "check_structure", "unknowns_of", "strong_components"]


def augment(start: int, graph: Sequence[Sequence[int]], match_var: dict[int, int],
            *, allowed: Callable[[int], bool] = lambda v: True,
            coloured_eqs: set[int] | None = None,
            coloured_vars: set[int] | None = None) -> bool:
    """Look for an augmenting path from equation `start`; apply it if found.

    `graph[e]` lists the unknowns of equation `e`; `match_var` maps an unknown to
    its equation. Only unknowns with `allowed(v)` are used. The equations and
    unknowns visited are added to `coloured_eqs`/`coloured_vars` (Pantelides
    needs them when no path exists).
    """
    eqs = set() if coloured_eqs is None else coloured_eqs
    seen = set() if coloured_vars is None else coloured_vars
    eqs.add(start)
    # First pass: a free unknown right away (cheap, and most matches are found so).
    for v in graph[start]:
        if allowed(v) and v not in match_var:
            seen.add(v)
            match_var[v] = start
            return True
    stack = [(start, iter(graph[start]))]
    path: list[tuple[int, int]] = []  # (equation, unknown) chosen along the path
    while stack:
        e, it = stack[-1]
        advanced = False
        for v in it:
            if not allowed(v) or v in seen:
                continue
            seen.add(v)
            if v not in match_var:
                path.append((e, v))
                for pe, pv in path:
                    match_var[pv] = pe
                return True
            nxt = match_var[v]
            eqs.add(nxt)
            path.append((e, v))
            stack.append((nxt, iter(graph[nxt])))
            advanced = True
            break
        if not advanced:
            stack.pop()
            if path:
                path.pop()
    return False


def maximum_matching(graph: Sequence[Sequence[int]]) -> dict[int, int]:
    """A maximum matching: unknown -> equation."""
    match_var: dict[int, int] = {}
    for e in range(len(graph)):
        augment(e, graph, match_var)
    return match_var


def strong_components(graph: Sequence[Sequence[int]]) -> list[list[int]]:
    """Tarjan's strongly connected components of a directed graph (iterative),
    in reverse topological order: a component comes after those it points to...
    reversed, i.e. the returned list lists dependencies first."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(len(graph)):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            pushed = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    pushed = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if pushed:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)
    return out  # Tarjan emits a component after every component it reaches


def unknowns_of(system: System) -> list[sp.Symbol]:
    """The unknowns of an implicit system: the highest derivative of each variable
    that is differentiated, and every other variable that appears."""
    from ..symbolic import der_symbol

    present: set[sp.Symbol] = set()
    for e in system.equations:
        present |= e.rhs.free_symbols
    out = []
    for v in system.variables:
        s = v.symbol
        if s not in present and der_symbol(s) not in present:
            continue
        while der_symbol(s) in present:
            s = der_symbol(s)
        out.append(s)
    return out


def _describe(system: System, equations, unknowns, match_var, graph) -> SymflowError:
    matched_eqs = set(match_var.values())
    loose_eqs = [i for i in range(len(equations)) if i not in matched_eqs]
    loose_vars = [unknowns[j] for j in range(len(unknowns)) if j not in match_var]
    parts = []
    if loose_vars:
        parts.append("no equation determines " + ", ".join(s.name for s in loose_vars))
    if loose_eqs:
        parts.append(f"{len(loose_eqs)} equation(s) have no unknown left to solve for")
    notes = tuple((equations[i].spans[0], "this equation is left over"
                   + (f" ({equations[i].target})" if equations[i].target else ""))
                  for i in loose_eqs[:8])
    span = notes[0][0] if notes else next(
        (v.span for v in system.variables if v.symbol.name in {s.name for s in loose_vars}
         or f"der({v.name})" in {s.name for s in loose_vars}), None)
    flows = [e for e in equations if e.target.startswith("unconnected flow")]
    help_ = (f"the system has {len(equations)} equations for {len(unknowns)} unknowns; "
             "add the missing equations or remove redundant ones")
    if flows:
        help_ += ("; ports left unconnected have their flows set to zero: "
                  + ", ".join(e.target[len('unconnected flow '):] for e in flows[:5]))
    return SymflowError("the system is structurally singular: " + "; ".join(parts), span,
                        notes=notes, help=help_)


@functools.lru_cache(maxsize=None)
def base_variable(symbol: sp.Symbol) -> sp.Symbol:
    """`x` for `x`, `der(x)`, `der(der(x))`."""
    from ..symbolic import integral_of, is_der

    while is_der(symbol):
        symbol = integral_of(symbol)
    return symbol


def check_structure(system: System) -> System:
    """Raise a `SymflowError` naming the unmatched equations and unknowns when the
    implicit equations of `system` are structurally singular; else return it.

    Here a variable and its derivatives count as one unknown: a perfect matching
    of that graph is what Pantelides' algorithm needs to terminate (it then
    finds which equations to differentiate so that the highest derivatives are
    matched too).
    """
    equations = [e for e in system.equations if e.kind == "implicit"]
    if not equations:
        return system
    bases = [v.symbol for v in system.variables]
    unknowns = list(bases)
    position = {s: j for j, s in enumerate(unknowns)}
    graph = [sorted({position[base_variable(s)] for s in e.rhs.free_symbols
                     if base_variable(s) in position}) for e in equations]
    match_var = maximum_matching(graph)
    if len(match_var) != len(equations) or len(equations) != len(unknowns):
        raise _describe(system, equations, unknowns, match_var, graph)
    return system
