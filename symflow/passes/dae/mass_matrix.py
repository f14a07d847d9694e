"""Mass-matrix compression: `M y' = f(y)` with a constant, singular `M` made
semi-explicit by combining rows, before the structural passes.

A model written in mass-matrix form (the Test Set's Transistor Amplifier: eight
equations `Σ_j M_ij der(y_j) = f_i`, `M` of rank 5) is structurally regular, each
row has derivatives to match, yet its derivatives cannot be solved for: some
combinations of rows hold no derivative at all. Structural analysis does not see
this and the derivative solve fails ("this algebraic loop is singular").

This pass finds the implicit equations linear in the derivatives whose
coefficient matrix `M = ∂r/∂y'` holds only numbers and parameters, computes its
rank **exactly** (the parameters' values and the coefficients as exact
rationals, a decimal literal read as the decimal it is written as: no tolerance)
and row-compresses it: a left transform `T`, invertible (unit triangular after a
row permutation), keeps `r` independent rows (the first ones, in the model's
order, that raise the rank) as they are and replaces each of the `n - r` others by
itself minus the combination `λ` of the kept rows with the same derivative part:
`0 = f_i - λ · f_kept`, an algebraic equation. `λ` is solved symbolically, as an
expression of the parameters, and checked to cancel the derivatives identically,
so that the compressed system is the model's for every parameter value; where `M`'s
rank depends on the parameters' values (`C1 - C2` with `C1 = C2`) the pass says so.
The result is an index-1 system of `r` differential and `n - r` algebraic rows,
which the DAE passes after it handle as any other (Pantelides differentiates the
algebraic rows once, the reduced ODE is projected onto them after every step).

**Why compress, and not hand `M` to the Rosenbrock solvers** (`Rodas5P(mass=M)`,
which integrate index-1 mass-matrix DAEs directly): the compressed system is an
ordinary symflow DAE, so every solver, `auto`, events, consistent initialization,
projection, observed outputs and every adjoint work on it unchanged, whereas a
mass matrix would reach three solvers only and every consumer of the generated
vector field (stiffness detection, the symbolic Jacobian, linear invariants, the
semilinear split) would have to learn that `der(y) = f` no longer holds. The price
is paid downstream: index reduction differentiates the `n - r` algebraic rows, and
the derivatives come from a symbolic solve of the differentiated rows (slow to
compile when they hold exponentials: the Transistor Amplifier's takes about 10 s
in `dae_to_ode`).

Rows are grouped into blocks that share derivatives (independent blocks are
compressed alone: a circuit's capacitors rarely share nodes). A block with a row
nonlinear in the derivatives is left alone. A block whose `M` depends on time or
the states is left alone when it is regular, and refused, with its rows named,
when it is singular with no more rows than derivatives (each row could be matched
to a derivative of its own, so structural analysis sees nothing wrong, and the
derivative solve would fail): a state-dependent singular mass matrix is not
supported (it would need the compression redone as the state moves). One with more
rows than derivatives is left to index reduction, as before this pass.
"""

from __future__ import annotations

import dataclasses
import fractions
from collections.abc import Sequence

import sympy as sp

from ...errors import SymflowError
from ...symbolic import Equation, System
from .graph import incidence_graph, is_der

__all__ = ["MAX_SYMBOLIC_RANK", "compress_mass_matrix"]

# The largest block whose state-dependent mass matrix is checked for singularity
# (a symbolic rank: its cost grows fast with the size); larger ones are left to the
# later passes.
MAX_SYMBOLIC_RANK = 8


def compress_mass_matrix(system: System) -> System:
    """`system` with the rows of each singular constant mass-matrix block replaced
    by their compressed form (module docstring); the same object when there is none.
    Raises a `SymflowError` for a singular block whose mass matrix depends on the
    state or time, and for one whose rank depends on the parameters' values."""
    if not any(e.kind == "implicit" for e in system.equations):
        return system
    graph = incidence_graph(system)
    derivatives = {s for s in graph.present if is_der(s)}
    highest = {graph.highest(s) for s in derivatives}
    rows = [i for i, inc in enumerate(graph.incidence) if inc & highest]
    if not rows:
        return system
    values = _parameter_values(system)
    replaced: dict[int, Equation] = {}
    for block in _blocks(rows, graph.incidence, highest):
        if len(block) == 1:
            continue  # one row with a derivative: regular
        columns = sorted(set().union(*(graph.incidence[i] & highest for i in block)),
                         key=lambda s: s.name)
        replaced.update(_compress(system, [graph.equations[i] for i in block], block,
                                  columns, values))
    if not replaced:
        return system
    equations, k = [], 0
    for e in system.equations:  # the graph's equations are the implicit ones, in order
        if e.kind == "implicit":
            e, k = replaced.get(k, e), k + 1
        equations.append(e)
    return dataclasses.replace(system, equations=tuple(equations))


def _parameter_values(system: System) -> dict[sp.Symbol, sp.Rational]:
    """Each scalar parameter's value as an exact rational (array parameters are left
    out: a coefficient holding one is not treated as constant)."""
    return {p.symbol: _exact(p.value) for p in system.parameters
            if p.shape == () and not isinstance(p.value, tuple)}


def _exact(number: float) -> sp.Rational:
    """`number` as the decimal its shortest repr writes (`1e-06` is 1/10**6 exactly,
    not the binary double next to it), so that `3e-6 = 3 * 1e-6` holds."""
    q = fractions.Fraction(repr(float(number)))
    return sp.Rational(q.numerator, q.denominator)


def _rationalize(expr: sp.Expr) -> sp.Expr:
    """`expr` with its floating-point literals replaced by exact decimals."""
    floats = expr.atoms(sp.Float)
    return expr.xreplace({x: _exact(float(x)) for x in floats}) if floats else expr


def _blocks(rows: Sequence[int], incidence: Sequence[frozenset[sp.Symbol]],
            columns: set[sp.Symbol]) -> list[list[int]]:
    """The rows grouped into connected blocks: two rows are joined when they share a
    derivative (union-find over the derivatives)."""
    parent: dict[int, int] = {i: i for i in rows}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[sp.Symbol, int] = {}
    for i in rows:
        for s in incidence[i] & columns:
            if s in owner:
                parent[find(i)] = find(owner[s])
            else:
                owner[s] = i
    groups: dict[int, list[int]] = {}
    for i in rows:
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _compress(system: System, equations: Sequence[Equation], block: Sequence[int],
              columns: Sequence[sp.Symbol], values: dict[sp.Symbol, sp.Rational]
              ) -> dict[int, Equation]:
    """The replaced rows of one block (by their index in the incidence graph); empty
    when the block is regular or not a constant linear one."""
    zero = {s: 0 for s in columns}
    mass = sp.Matrix([[sp.diff(e.rhs, s) for s in columns] for e in equations])
    if any(entry.has(*columns) for entry in mass):
        return {}  # nonlinear in the derivatives: not a mass-matrix form
    if any(entry.free_symbols - set(values) for entry in mass):
        if mass.rows <= mass.cols:  # more rows than derivatives: left to index reduction
            _refuse_if_singular(mass, equations)
        return {}
    exact = mass.applyfunc(_rationalize)
    at_values = exact.xreplace(values)
    kept = _independent_rows(at_values)
    if len(kept) == len(equations):
        return {}
    pivots = _pivot_columns(at_values, kept)
    basis = exact.extract(kept, pivots)
    rest = [e.rhs.xreplace(zero) for e in equations]  # r_i = M_i y' + rest_i
    out: dict[int, Equation] = {}
    for i, e in enumerate(equations):
        if i in kept:
            continue
        weights = basis.T.LUsolve(exact.extract([i], pivots).T)  # M_i = λ · M_kept
        weights = weights.applyfunc(sp.cancel)
        left = exact.row(i) - weights.T * exact.extract(kept, list(range(len(columns))))
        if any(sp.cancel(x) != 0 for x in left):
            raise _parameter_dependent(e, equations[kept[0]])
        combined = rest[i] - sum((w * rest[k] for w, k in zip(weights, kept) if w != 0),
                                 sp.Integer(0))
        used = tuple(equations[k].spans[0] for w, k in zip(weights, kept) if w != 0)
        out[block[i]] = dataclasses.replace(e, rhs=combined, spans=e.spans + used)
    return out


def _independent_rows(matrix: sp.Matrix) -> list[int]:
    """The first rows, in order, each of which raises the rank (exact arithmetic:
    the pivot columns of the transpose's echelon form)."""
    _, pivots = matrix.T.rref()
    return list(pivots)


def _pivot_columns(matrix: sp.Matrix, rows: Sequence[int]) -> list[int]:
    """Columns on which the rows `rows` of `matrix` are independent (its echelon
    form's pivots)."""
    _, pivots = matrix.extract(list(rows), list(range(matrix.cols))).rref()
    return list(pivots)


def _refuse_if_singular(mass: sp.Matrix, equations: Sequence[Equation]) -> None:
    """Raise when a mass matrix that depends on the state or time is singular
    (symbolically, for every state): not supported."""
    if mass.rows > MAX_SYMBOLIC_RANK or mass.cols > MAX_SYMBOLIC_RANK:
        return
    rank = mass.rank(iszerofunc=lambda x: sp.simplify(x) == 0)
    if rank == mass.rows:
        return
    names = ", ".join(str(s) for s in sorted(mass.free_symbols, key=str))
    raise SymflowError(
        f"these {mass.rows} equations are linear in the derivatives with a singular "
        f"coefficient (mass) matrix of rank {rank} that depends on {names}: a "
        "state-dependent singular mass matrix is not supported",
        equations[0].spans[0],
        notes=tuple((e.spans[0], "a row of that mass matrix") for e in equations[1:8]),
        help="write the algebraic combination of these rows as an equation of its own "
             "(one without derivatives), or make the coefficients of der(...) constant")


def _parameter_dependent(row: Equation, first: Equation) -> SymflowError:
    return SymflowError(
        "the rank of the mass matrix (the coefficients of the derivatives) depends on "
        "the parameters' values: this row is a combination of the others for the "
        "default values only",
        row.spans[0], notes=((first.spans[0], "a row it combines"),),
        help="give the parameters values for which the rows are independent, or write "
             "the algebraic combination of the rows as an equation of its own")
