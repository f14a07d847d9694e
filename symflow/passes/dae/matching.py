"""Matching and block ordering on a bipartite graph of equations and unknowns.

`graph[e]` lists the unknowns (column positions) of equation `e`. A maximum
matching is found with augmenting paths (Duff's algorithm, a depth-first search
from each equation, iterative so that long chains do not exhaust Python's
stack); Tarjan's strongly connected components order the matched equations into
blocks (block lower triangular form). Pure graph algorithms: no SymPy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["augment", "maximum_matching", "strong_components"]


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


# Above this many equations, `maximum_matching` uses scipy's Hopcroft-Karp.
LARGE_GRAPH = 2000


def maximum_matching(graph: Sequence[Sequence[int]]) -> dict[int, int]:
    """A maximum matching: unknown -> equation."""
    if len(graph) > LARGE_GRAPH:
        return _hopcroft_karp(graph)
    match_var: dict[int, int] = {}
    for e in range(len(graph)):
        augment(e, graph, match_var)
    return match_var


def _hopcroft_karp(graph: Sequence[Sequence[int]]) -> dict[int, int]:
    """`maximum_matching` by scipy's compiled Hopcroft-Karp."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    columns = np.fromiter((v for row in graph for v in row), dtype=np.int64)
    starts = np.cumsum([0, *(len(row) for row in graph)], dtype=np.int64)
    n_unknowns = int(columns.max()) + 1 if columns.size else 0
    incidence = csr_matrix((np.ones(columns.size), columns, starts),
                           shape=(len(graph), n_unknowns))
    incidence.sum_duplicates()
    row_of = maximum_bipartite_matching(incidence, perm_type="row")  # per unknown
    return {int(v): int(e) for v, e in enumerate(row_of) if e >= 0}


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
