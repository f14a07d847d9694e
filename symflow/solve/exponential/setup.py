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
from collections.abc import Callable, Mapping
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
import sympy as sp

from ... import codegen
from ...analysis import SemilinearSplit, split_semilinear
from ...errors import Span, SymflowError
from ...symbolic import ClosureOutput, Fill, Parameter, System
from . import integrators as _exponential

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
    # `fourier` kind: `N(t, y, v, p)` with `v` the real-FFT coefficients of the
    # fields, read by the spectral derivatives of the fields themselves instead of
    # transforming `y` again (3 FFTs per stage for `u*u_x`, not 4); `None` when no
    # such derivative is in `N`.
    nonlinear_of_spectrum: Callable | None = None

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

    # ---- the solve as `Model.simulate` runs it: `fourier` in Fourier space

    @property
    def in_fourier_space(self) -> bool:
        """Whether the solve's state is the fields' packed spectra
        (`_exponential.pack_spectrum`) rather than the fields: a `fourier` operator
        then costs no transform per step beyond those inside `N`, as a
        hand-written pseudo-spectral ETDRK4."""
        return self.fields is not None

    def to_state(self, y: jax.Array) -> jax.Array:
        """The solve's state for the flat state vector `y`."""
        if self.fields is None:  # not in_fourier_space
            return y
        n_fields, n = self.fields
        spectra = jnp.fft.rfft(jnp.reshape(y, (*y.shape[:-1], n_fields, n)), axis=-1)
        return _exponential.pack_spectrum(spectra)

    def from_state(self, s: jax.Array) -> jax.Array:
        """The flat state vectors for solve states `s` (any leading axes)."""
        if self.fields is None:  # not in_fourier_space
            return s
        n_fields, n = self.fields
        u = jnp.fft.irfft(_exponential.unpack_spectrum(s, n_fields), n=n, axis=-1)
        return jnp.reshape(u, (*s.shape[:-1], n_fields * n))

    def term(self) -> diffrax.ODETerm:
        """The diffrax term `N` in the solve's state."""
        if self.fields is None:  # not in_fourier_space
            return diffrax.ODETerm(lambda t, y, p: self.nonlinear(t, y, p))
        n_fields, n = self.fields

        def in_fourier_space(t, s, p):
            v = _exponential.unpack_spectrum(s, n_fields)
            u = jnp.reshape(jnp.fft.irfft(v, n=n, axis=-1), (-1,))
            out = (self.nonlinear(t, u, p) if self.nonlinear_of_spectrum is None
                   else self.nonlinear_of_spectrum(t, u, v, p))
            return _exponential.pack_spectrum(
                jnp.fft.rfft(jnp.reshape(out, (n_fields, n)), axis=-1))

        return diffrax.ODETerm(in_fourier_space)

    def state_solver(self, params: Mapping[str, Any], t0: float, *,
                     equal_steps: bool = False) -> diffrax.AbstractSolver:
        """The diffrax solver for the solve's state (see `term`); `equal_steps`
        when every step has the same size (`dt` divides the span)."""
        if not self.in_fourier_space:
            return self.make_solver(params, t0, equal_steps=equal_steps)
        operator = self.operator(params, t0)
        return _exponential.EXPONENTIAL[self.method](
            _exponential.DiagonalOperator(operator.eigenvalues, self.fields, packed=True),
            equal_steps=equal_steps)

    def make_solver(self, params: Mapping[str, Any], t0: float, *,
                    equal_steps: bool = False) -> diffrax.AbstractSolver:
        """The diffrax solver for the flat state vector (fields in physical space)."""
        return _exponential.EXPONENTIAL[self.method](
            self.operator(params, t0), nonlinear_of_spectrum=self.nonlinear_of_spectrum,
            equal_steps=equal_steps)


def _spectrum_name(state: str) -> str:
    """The parameter name the spectrum of a field is passed under (not a model
    identifier, which cannot start with an underscore)."""
    return f"_spectrum.{state}"


def _generate_of_spectrum(system: System, remainders: dict[str, sp.Expr]) -> Callable | None:
    """`N(t, y, v, p)`: the remainders with every `SpectralDiff` of a field itself
    read from its real-FFT coefficients `v[i]` (`SpectralDiffOfSpectrum`), or
    `None` when there is none to replace. The spectra enter the generated code as
    extra parameters (arrays), so the ordinary code generator serves unchanged."""
    from ...symbolic.nodes import SpectralDiff, SpectralDiffOfSpectrum

    states = system.states
    if {_spectrum_name(v.name) for v in states} & {p.name for p in system.parameters}:
        return None  # a model parameter has the name: keep the plain remainder
    spectra = {v.symbol: sp.Symbol(_spectrum_name(v.name)) for v in states}
    n = states[0].size

    def of_spectrum(e):
        return SpectralDiffOfSpectrum(spectra[e.args[0]], *e.args[1:], sp.Integer(n))

    def is_diff_of_field(e):
        return isinstance(e, SpectralDiff) and e.args[0] in spectra

    if not any(any(map(is_diff_of_field, r.atoms(SpectralDiff)))
               for r in remainders.values()):
        return None
    replaced = {k: r.replace(is_diff_of_field, of_spectrum) for k, r in remainders.items()}
    extra = tuple(Parameter(name=_spectrum_name(v.name), symbol=spectra[v.symbol],
                            default=sp.Integer(0), value=0.0, bounds=None, doc=None,
                            span=v.span) for v in states)
    derived = dataclasses.replace(system, parameters=system.parameters + extra)
    generated = generate_functions(derived, replaced)
    names = tuple(_spectrum_name(v.name) for v in states)

    def nonlinear(t, y, v, p):
        return generated(t, y, {**p, **{name: v[i] for i, name in enumerate(names)}})

    return nonlinear


def generate_functions(system: System, exprs: dict[str, sp.Expr]) -> Callable:
    """`f(t, y, p)`: the expressions as one flat vector, one per state, generated
    like a right-hand side (a scalar for an array state is repeated).

    Only the closures the expressions call are kept: codegen reads a closure's
    inputs off the equations that call it (discretized: `diff(u, x)` already a
    spectral derivative), and one that none calls (the linear part of a model
    whose closure sits in the remainder) would be emitted from its declared,
    undiscretized inputs."""
    called = {node.output for e in exprs.values() for node in e.atoms(ClosureOutput)}
    closures = tuple(c for c in system.closures if called & set(c.outputs))
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
                                  brownians=(), closures=closures)
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
    nonlinear = generate_functions(system, {s.target: s.remainder for s in split.terms})
    linear = coefficient = integral = nonlinear_of_spectrum = None
    fields: tuple[int, int] | None = None
    if split.kind in ("scalar", "diagonal"):
        coefficient = generate_functions(system, {s.target: s.coefficient
                                                  for s in split.terms})
        if split.time_varying and all(s.integral is not None for s in split.terms):
            integral = generate_functions(
                system, {s.target: s.integral for s in split.terms})
    else:
        linear = generate_functions(system, {s.target: s.linear for s in split.terms})
        if split.kind == "fourier":
            fields = (len(system.states), system.states[0].size)
            nonlinear_of_spectrum = _generate_of_spectrum(
                system, {s.target: s.remainder for s in split.terms})
    return ExponentialSetup(method=method, split=split, nonlinear=nonlinear, linear=linear,
                            coefficient=coefficient, integral=integral, fields=fields,
                            n_states=n_states, nonlinear_of_spectrum=nonlinear_of_spectrum)
