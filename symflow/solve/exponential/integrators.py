"""Exponential integrators for `dy/dt = L y + N(y, t)`, as diffrax solvers.

The linear part comes from the semilinear pass (`analysis/semilinear.py`); the
solvers integrate it exactly and evaluate only `N` (the diffrax term). Three
methods, all with a fixed step (`ConstantStepSize`):

- `expeuler` — exponential Euler (ETD1), order 1:
  `y1 = e^{hL} y0 + h φ1(hL) N(y0)`;
- `lawson` — the integrating-factor (Lawson) method on the classical RK4
  tableau, order 4: RK4 applied to `w = e^{-tL} y` (needs only `e^{cL}`);
- `etdrk4` — Cox & Matthews' fourth-order exponential time differencing RK
  (J. Comput. Phys. 176, 2002), with the φ-function coefficients of Kassam &
  Trefethen (SIAM J. Sci. Comput. 26, 2005).

The operator `L` is one of (see `analysis/semilinear.py` for how it is found):

- `DiagonalOperator`: diagonal in a basis, the identity (scalar/diagonal kinds)
  or the real FFT of each field (`fourier`). φ-functions of the diagonal are
  evaluated by the contour integral of Kassam & Trefethen: `φ(z)` is the mean of
  `φ(z + e^{iθ_j})` over `M = 32` points of the unit circle around `z`
  (trapezoid rule, exponentially accurate), which avoids the cancellation of
  `(e^z - 1 - z - ...)/z^k` for small `|z|`;
- `MatrixOperator`: a constant matrix (banded finite differences, small dense
  systems); `e^{A}` and `φ1..3(A)` come at once from the exponential of the
  augmented block matrix `[[A, I, 0, 0], [0, 0, I, 0], [0, 0, 0, I], 0]`
  (its first block row is `[e^A, φ1(A), φ2(A), φ3(A)]`; Higham, *Functions of
  Matrices*, §10.7.4). It is dense: `n` up to a few thousand;
- `TimeVaryingDiagonal`: `L = diag(a(t))` with `A(t) = ∫ a dt` (symbolic, or
  8-point Gauss–Legendre per step when SymPy found none); only `expeuler` and
  `lawson` take it (`etdrk4`'s φ-functions need a constant `L`).

The coefficients of a constant operator are computed once, in `init`, for the
first step size, and again only for a step of another size (the last step of
a span that `dt` does not divide); with `equal_steps` (set by `Model.simulate`
when `dt` divides the span) there is no branch for that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

__all__ = ["EXPONENTIAL", "DiagonalOperator", "pack_spectrum", "unpack_spectrum",
           "MatrixOperator", "TimeVaryingDiagonal", "ExponentialEuler", "Lawson", "ETDRK4",
           "phi_functions"]


CONTOUR_POINTS = 32


def phi_functions(z: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`(φ1(z), φ2(z), φ3(z))` element-wise by the Kassam–Trefethen contour mean;
    real for real `z`. `φ1 = (e^z-1)/z`, `φ2 = (e^z-1-z)/z^2`,
    `φ3 = (e^z-1-z-z^2/2)/z^3`."""
    real = not jnp.iscomplexobj(z)
    theta = 2 * jnp.pi * (jnp.arange(CONTOUR_POINTS, dtype=float) + 0.5) / CONTOUR_POINTS
    w = jnp.asarray(z, dtype=complex)[..., None] + jnp.exp(1j * theta.astype(complex))
    e = jnp.exp(w)
    p1 = jnp.mean((e - 1) / w, axis=-1)
    p2 = jnp.mean((e - 1 - w) / w**2, axis=-1)
    p3 = jnp.mean((e - 1 - w - w**2 / 2) / w**3, axis=-1)
    if real:
        return p1.real, p2.real, p3.real
    return p1, p2, p3


# ---------------------------------------------------------------- operators


def pack_spectrum(v: jax.Array) -> jax.Array:
    """Complex spectra `(..., n_fields, m)` as one real vector per leading index:
    each field's real parts, then its imaginary parts (`(..., n_fields * 2m)`)."""
    packed = jnp.concatenate([v.real, v.imag], axis=-1)
    return jnp.reshape(packed, (*v.shape[:-2], -1))


def unpack_spectrum(y: jax.Array, n_fields: int) -> jax.Array:
    """The inverse of `pack_spectrum`."""
    parts = jnp.reshape(y, (*y.shape[:-1], n_fields, 2, -1))
    return jax.lax.complex(parts[..., 0, :], parts[..., 1, :])



def _like(h: ArrayLike, array: jax.Array) -> jax.Array:
    """The step `h` in the dtype of `array` (complex in Fourier space; strict
    dtype promotion forbids mixing)."""
    return jnp.asarray(h, dtype=jnp.result_type(array))


class DiagonalOperator(eqx.Module):
    """`L` diagonal in a basis: `eigenvalues` (real or complex) act element-wise on
    `to_basis(y)`. `fields` is `None` for the identity basis, or
    `(n_fields, n)` for the real FFT of each of `n_fields` fields of `n` points.
    With `packed`, `y` is not the fields but their spectra already, as real
    numbers: for each field the real parts of its `n // 2 + 1` coefficients, then
    the imaginary parts (`pack_spectrum`); the solve then stays in Fourier space
    and a step transforms nothing but inside `N`."""

    eigenvalues: jax.Array
    fields: tuple[int, int] | None = eqx.field(static=True, default=None)
    packed: bool = eqx.field(static=True, default=False)

    def to_basis(self, y: jax.Array) -> jax.Array:
        if self.fields is None:
            return y
        if self.packed:
            return unpack_spectrum(y, self.fields[0])
        return jnp.fft.rfft(jnp.reshape(y, self.fields), axis=-1)

    def from_basis(self, v: jax.Array) -> jax.Array:
        if self.fields is None:
            return v
        if self.packed:
            return pack_spectrum(v)
        return jnp.reshape(jnp.fft.irfft(v, n=self.fields[1], axis=-1), (-1,))

    def apply(self, coefficient: jax.Array, v: jax.Array) -> jax.Array:
        return coefficient * v

    def matvec(self, t: ArrayLike, y: jax.Array) -> jax.Array:
        return self.from_basis(self.eigenvalues * self.to_basis(y))

    def exponentials(self, h: ArrayLike) -> tuple[jax.Array, jax.Array]:
        z = _like(h, self.eigenvalues) * self.eigenvalues
        return jnp.exp(z), jnp.exp(z / 2)

    def euler_coefficients(self, h: ArrayLike) -> tuple[jax.Array, jax.Array]:
        h = _like(h, self.eigenvalues)
        z = h * self.eigenvalues
        p1, _, _ = phi_functions(z)
        return jnp.exp(z), h * p1

    def etdrk4_coefficients(self, h: ArrayLike) -> tuple[jax.Array, ...]:
        h = _like(h, self.eigenvalues)
        z = h * self.eigenvalues
        p1, p2, p3 = phi_functions(z)
        half, _, _ = phi_functions(z / 2)
        return (jnp.exp(z), jnp.exp(z / 2), h / 2 * half,
                h * (p1 - 3 * p2 + 4 * p3), h * (p2 - 2 * p3), h * (4 * p3 - p2))


class MatrixOperator(eqx.Module):
    """A constant matrix `L` (dense storage)."""

    matrix: jax.Array

    def to_basis(self, y: jax.Array) -> jax.Array:
        return y

    def from_basis(self, v: jax.Array) -> jax.Array:
        return v

    def apply(self, coefficient: jax.Array, v: jax.Array) -> jax.Array:
        return coefficient @ v

    def matvec(self, t: ArrayLike, y: jax.Array) -> jax.Array:
        return self.matrix @ y

    def _phi(self, a, p: int):
        """`[e^a, φ1(a), ..., φp(a)]` from one augmented exponential."""
        n = a.shape[0]
        big = jnp.zeros(((p + 1) * n, (p + 1) * n), dtype=a.dtype)
        big = big.at[:n, :n].set(a)
        eye = jnp.eye(n, dtype=a.dtype)
        for k in range(p):
            big = big.at[k * n:(k + 1) * n, (k + 1) * n:(k + 2) * n].set(eye)
        top = jax.scipy.linalg.expm(big)[:n]
        return [top[:, k * n:(k + 1) * n] for k in range(p + 1)]

    def exponentials(self, h: ArrayLike) -> tuple[jax.Array, jax.Array]:
        (e,) = self._phi(h * self.matrix, 0)
        (e2,) = self._phi(h / 2 * self.matrix, 0)
        return e, e2

    def euler_coefficients(self, h: ArrayLike) -> tuple[jax.Array, jax.Array]:
        e, p1 = self._phi(h * self.matrix, 1)
        return e, h * p1

    def etdrk4_coefficients(self, h: ArrayLike) -> tuple[jax.Array, ...]:
        e, p1, p2, p3 = self._phi(h * self.matrix, 3)
        e2, half = self._phi(h / 2 * self.matrix, 1)
        return (e, e2, h / 2 * half, h * (p1 - 3 * p2 + 4 * p3), h * (p2 - 2 * p3),
                h * (4 * p3 - p2))


_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(8)


class TimeVaryingDiagonal(eqx.Module):
    """`L(t) = diag(a(t))`: `coefficient(t, p)` is `a(t)`, `integral(t, p)` an
    antiderivative (or `None`: Gauss–Legendre quadrature of `a`)."""

    coefficient: Callable = eqx.field(static=True)
    integral: Callable | None = eqx.field(static=True)
    params: dict

    def to_basis(self, y: jax.Array) -> jax.Array:
        return y

    def from_basis(self, v: jax.Array) -> jax.Array:
        return v

    def apply(self, coefficient: jax.Array, v: jax.Array) -> jax.Array:
        return coefficient * v

    def matvec(self, t: ArrayLike, y: jax.Array) -> jax.Array:
        return self.coefficient(t, self.params) * y

    def increment(self, s0: jax.Array, s1: jax.Array) -> jax.Array:
        """`∫_{s0}^{s1} a dt`."""
        if self.integral is not None:
            return self.integral(s1, self.params) - self.integral(s0, self.params)
        half = (s1 - s0) / 2
        values = jax.vmap(lambda x: self.coefficient(s0 + half * (x + 1), self.params))(
            jnp.asarray(_GAUSS_NODES))
        return half * jnp.tensordot(jnp.asarray(_GAUSS_WEIGHTS), values, axes=1)

    def euler_weights(self, t0: jax.Array, t1: jax.Array) -> tuple[jax.Array, jax.Array]:
        """`(e^{A(t1)-A(t0)}, ∫_{t0}^{t1} e^{A(t1)-A(s)} ds)`, the second by
        Gauss–Legendre quadrature."""
        half = (t1 - t0) / 2
        nodes = t0 + half * (jnp.asarray(_GAUSS_NODES) + 1)
        growth = jax.vmap(lambda s: jnp.exp(self.increment(s, t1)))(nodes)
        return (jnp.exp(self.increment(t0, t1)),
                half * jnp.tensordot(jnp.asarray(_GAUSS_WEIGHTS), growth, axes=1))


# ---------------------------------------------------------------- solvers


class _Exponential(diffrax.AbstractSolver):
    """Shared parts: the operator, the linear interpolation between steps, and the
    cached coefficients of a constant operator."""

    operator: eqx.Module
    # `N(t, y, v, args)` given also the basis coefficients `v` of `y` (Fourier
    # space: the spectral derivatives of the fields read `v` instead of
    # transforming `y` again); the same function as the term's, used by `_n`.
    nonlinear_of_spectrum: Callable | None = eqx.field(static=True, default=None,
                                                       kw_only=True)
    # Every step has the first step's size (a fixed `dt` dividing the span): the
    # coefficients of `init` serve all steps, with no branch for another size.
    equal_steps: bool = eqx.field(static=True, default=False, kw_only=True)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., diffrax.AbstractLocalInterpolation]] = (
        diffrax.LocalLinearInterpolation)

    def _coefficients(self, h):  # pragma: no cover - defined by each method
        raise NotImplementedError

    def init(self, terms, t0, t1, y0, args):
        if isinstance(self.operator, TimeVaryingDiagonal):
            return None
        h = t1 - t0
        return h, self._coefficients(h)

    def _cached(self, state, t0, t1):
        h = t1 - t0
        h0, cached = state
        if self.equal_steps:
            return cached
        same = jnp.abs(h - h0) <= 1e-12 * jnp.abs(h0)
        return jax.lax.cond(same, lambda: cached, lambda: self._coefficients(h))

    def func(self, terms, t0, y0, args):
        return self.operator.matvec(t0, y0) + terms.vf(t0, y0, args)

    def _n(self, terms, t, v, args):
        """`N` at the basis coefficients `v`, in the basis."""
        op = self.operator
        if self.nonlinear_of_spectrum is not None:
            return op.to_basis(self.nonlinear_of_spectrum(t, op.from_basis(v), v, args))
        return op.to_basis(terms.vf(t, op.from_basis(v), args))

    def _done(self, y0, y1, state):
        return y1, None, dict(y0=y0, y1=y1), state, diffrax.RESULTS.successful


class ExponentialEuler(_Exponential):
    """Exponential Euler (ETD1): `y1 = e^{hL} y0 + h φ1(hL) N(y0, t0)`; order 1."""

    def order(self, terms):
        return 1

    def _coefficients(self, h):
        return self.operator.euler_coefficients(h)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        op = self.operator
        if isinstance(op, TimeVaryingDiagonal):
            e, w = op.euler_weights(t0, t1)
        else:
            e, w = self._cached(solver_state, t0, t1)
        v = op.to_basis(y0)
        v1 = op.apply(e, v) + op.apply(w, self._n(terms, t0, v, args))
        return self._done(y0, op.from_basis(v1), solver_state)


class Lawson(_Exponential):
    """Integrating-factor RK4 (Lawson 1967): classical RK4 on `w = e^{-tL} y`; order 4."""

    def order(self, terms):
        return 4

    def _coefficients(self, h):
        return self.operator.exponentials(h)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        op = self.operator
        h = t1 - t0
        tm = t0 + h / 2
        if isinstance(op, TimeVaryingDiagonal):
            e, e0m = jnp.exp(op.increment(t0, t1)), jnp.exp(op.increment(t0, tm))
            em1 = jnp.exp(op.increment(tm, t1))
        else:
            e, e0m = self._cached(solver_state, t0, t1)
            em1 = e0m
        v = op.to_basis(y0)
        h = _like(h, v)
        k1 = self._n(terms, t0, v, args)
        k2 = self._n(terms, tm, op.apply(e0m, v + h / 2 * k1), args)
        k3 = self._n(terms, tm, op.apply(e0m, v) + h / 2 * k2, args)
        k4 = self._n(terms, t1, op.apply(e, v) + h * op.apply(em1, k3), args)
        v1 = op.apply(e, v) + h / 6 * (op.apply(e, k1) + 2 * op.apply(em1, k2 + k3) + k4)
        return self._done(y0, op.from_basis(v1), solver_state)


class ETDRK4(_Exponential):
    """Cox–Matthews ETDRK4 with Kassam–Trefethen coefficients; order 4. Needs a
    constant operator."""

    def order(self, terms):
        return 4

    def _coefficients(self, h):
        return self.operator.etdrk4_coefficients(h)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        op = self.operator
        e, e2, q, f1, f2, f3 = self._cached(solver_state, t0, t1)
        tm = (t0 + t1) / 2
        v = op.to_basis(y0)
        nv = self._n(terms, t0, v, args)
        ev2 = op.apply(e2, v)
        a = ev2 + op.apply(q, nv)
        na = self._n(terms, tm, a, args)
        b = ev2 + op.apply(q, na)
        nb = self._n(terms, tm, b, args)
        c = op.apply(e2, a) + op.apply(q, 2 * nb - nv)
        nc = self._n(terms, t1, c, args)
        v1 = (op.apply(e, v) + op.apply(f1, nv) + 2 * op.apply(f2, na + nb)
              + op.apply(f3, nc))
        return self._done(y0, op.from_basis(v1), solver_state)


EXPONENTIAL: dict[str, type[_Exponential]] = {
    "expeuler": ExponentialEuler, "lawson": Lawson, "etdrk4": ETDRK4}
