"""From a semilinear split to a diffrax exponential solver for one model.

`exponential_setup` checks that the method asked for fits the split (an error
says what the pass found when it does not), and generates the functions the
solvers need from the split's expressions, with the ordinary code generator:
the remainder `N(t, y, p)` (the diffrax term), and, by kind of operator, the
linear part `L y` (from which the Fourier multipliers or the matrix are taken
numerically: exactly, since it is linear), or `a(t)` and `∫ a dt`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import sympy as sp

from .. import codegen
from ..errors import Span, SymflowError
from ..passes.semilinear import SemilinearSplit, split_semilinear
from ..symbolic import Fill, System
from . import _exponential


__all__ = ["ExponentialSetup", "exponential_setup", "MAX_MATRIX_SIZE"]


# A matrix operator is stored dense and exponentiated at 4n x 4n: beyond this
# many unknowns the memory and the O(n^3) set-up are not worth it.
MAX_MATRIX_SIZE = 2000


@dataclasses.dataclass(frozen=True, eq=False)
class ExponentialSetup:
    """What an exponential solve of one model needs (hashed by identity: it is
    part of the `SolveConfig` of the compiled program)."""

    method: str
    split: SemilinearSplit
    nonlinear: Callable
    linear: Callable | None = None
    coefficient: Callable | None = None
    integral: Callable | None = None
    fields: tuple[int, int] | None = None
    n_states: int = 0

    def operator(self, params, t0):
        """The linear operator for these parameter values (may be traced)."""
        kind = self.split.kind
        if kind in ("scalar", "diagonal"):
            if self.split.time_varying:
                return _exponential.TimeVaryingDiagonal(
                    lambda t, p: self.coefficient(t, jnp.zeros(self.n_states), p),
                    None if self.integral is None else
                    (lambda t, p: self.integral(t, jnp.zeros(self.n_states), p)),
                    params)
            a = self.coefficient(jnp.asarray(t0, dtype=float), jnp.zeros(self.n_states), params)
            return _exponential.DiagonalOperator(a)
        zero = jnp.zeros(self.n_states)
        t0 = jnp.asarray(t0, dtype=float)
        if kind == "fourier":
            n_fields, n = self.fields
            impulse = jnp.tile(jnp.zeros(n).at[0].set(1.0), n_fields)
            response = self.linear(t0, impulse, params)
            eigenvalues = jnp.fft.rfft(jnp.reshape(response, (n_fields, n)), axis=-1)
            return _exponential.DiagonalOperator(eigenvalues, self.fields)
        matrix = jax.jacfwd(lambda y: self.linear(t0, y, params))(zero)
        return _exponential.MatrixOperator(matrix)

    def make_solver(self, params, t0):
        return _exponential.EXPONENTIAL[self.method](self.operator(params, t0))


def _generate(system: System, exprs: dict[str, sp.Expr]) -> Callable:
    """`f(t, y, p)`: the expressions as one flat vector, one per state, generated
    like a right-hand side (a scalar for an array state is repeated)."""
    equations = []
    for e in system.equations:
        if e.target not in exprs:
            continue
        rhs = exprs[e.target]
        shape = next(v.shape for v in system.variables if v.name == e.target)
        if shape and system.shape_of(rhs) == ():
            rhs = Fill(rhs, sp.Integer(shape[0]))
        equations.append(dataclasses.replace(e, rhs=rhs, diffusion=()))
    derived = dataclasses.replace(system, equations=tuple(equations), observed=(),
                                  brownians=())
    return codegen.load_source(codegen.emit(derived)).rhs


def exponential_setup(system: System, method: str, *, span: Span | None = None
                      ) -> ExponentialSetup:
    """Check that `method` (expeuler, lawson, etdrk4) applies to the final `system`
    and generate what it needs. Errors point at `span` (the `solver` setting)."""
    split = split_semilinear(system)
    if split.kind == "none":
        raise SymflowError(
            f"solver {method} needs a linear part, and the semilinear pass found none: "
            f"{split.reason}", span,
            help="exponential integrators solve der(x) = L x + N(x, t) with L found in "
                 "the equations; use tsit5 or kvaerno5 for this model")
    if split.time_varying and split.kind not in ("scalar", "diagonal"):
        raise SymflowError(
            f"solver {method} needs a constant linear operator; the one found depends on "
            f"{split.time}: " + "; ".join(f"der({s.target}) = {s.linear} + ..."
                                          for s in split.terms), span)
    if split.time_varying and method == "etdrk4":
        coefficients = ", ".join(f"a = {s.coefficient}" for s in split.terms)
        raise SymflowError(
            f"solver etdrk4 needs a constant linear part; the one found varies in time "
            f"({coefficients})", span,
            help="use lawson or expeuler, which integrate a(t) exactly")
    n_states = sum(v.size for v in system.states)
    if split.kind in ("banded", "dense") and n_states > MAX_MATRIX_SIZE:
        raise SymflowError(
            f"solver {method}: the linear operator is a {split.kind} {n_states}x{n_states} "
            f"matrix, beyond the {MAX_MATRIX_SIZE} unknowns its dense exponential allows",
            span, help="use scheme = spectral on a periodic domain, or kvaerno5")
    nonlinear = _generate(system, {s.target: s.remainder for s in split.terms})
    setup = dict(method=method, split=split, nonlinear=nonlinear, n_states=n_states)
    if split.kind in ("scalar", "diagonal"):
        setup["coefficient"] = _generate(system, {s.target: s.coefficient
                                                  for s in split.terms})
        if split.time_varying and all(s.integral is not None for s in split.terms):
            setup["integral"] = _generate(system, {s.target: s.integral for s in split.terms})
    else:
        setup["linear"] = _generate(system, {s.target: s.linear for s in split.terms})
        if split.kind == "fourier":
            setup["fields"] = (len(system.states), system.states[0].size)
    return ExponentialSetup(**setup)
