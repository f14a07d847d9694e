"""The Fourier spectral scheme (`scheme = spectral`): space derivatives of fields on
periodic dimensions as multiplications in Fourier space.

On a periodic grid of `n` points over a period `P`, a field `u` is the real
trigonometric interpolant of its values. `diff(u, x, k)` becomes

    irfft((i κ_j)^k · rfft(u)),   κ_j = 2π j / P,  j = 0 .. n/2,

one `SpectralDiff` node, printed as one `jnp.fft` expression (so the code does
not grow with `n`). For an odd `k` and even `n` the Nyquist mode `j = n/2` is
multiplied by 0 (its derivative is not a real trigonometric polynomial of the
grid; Trefethen, *Spectral Methods in MATLAB*, ch. 3).

**De-aliasing.** `dealias = f` under `simulate` keeps the Fourier modes with
`j <= f·n/2` and zeroes the others; `dealias = 2/3` is Orszag's 2/3 rule, which
removes the aliasing error of quadratic products. It acts on every right-hand
side as a whole: each field is read through the filter `P` (a `SpectralFilter`
node; the derivatives include it) and the right-hand side is filtered, so
`der(u) = P F(P u)`: the modes kept never see an aliased product, and the
modes removed keep their initial values.

After this pass the semilinear split (`passes/semilinear.py`) recognizes a
linear part made of constant-coefficient spectral derivatives of a field as
diagonal in Fourier space; `fourier_multiplier` gives its symbol `λ(κ)`.
"""

from __future__ import annotations

import dataclasses
import math

import sympy as sp

from ..symbolic import Diff, Dimension, System, shape_of
from ..symbolic import ArrayFunction as _ArrayFunction


__all__ = ["SpectralDiff", "SpectralDiffOfSpectrum", "SpectralFilter", "SpectralAxisDiff",
           "SpectralGridFilter", "discretize_spectral", "fourier_multiplier"]


def _kept_modes(n: int, keep: float) -> int:
    """The largest mode index `j` kept by `dealias = keep` on `n` points."""
    return n // 2 if keep >= 1 else int(math.floor(keep * (n // 2) + 1e-9))


class SpectralDiff(_ArrayFunction):
    """`SpectralDiff(u, P, k, keep)`: the `k`-th derivative of the periodic array `u`
    (period `P`) by FFT, with the modes above `keep·n/2` zeroed (`keep = 1`: none)."""

    nargs = 4

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        u, _, k, keep = self.args
        mark = "" if keep >= 1 else f", keep {float(keep):.4g}"
        return f"spectral_diff({printer._print(u)}, {int(k)}{mark})"

    def _latex(self, printer):
        u, _, k, _ = self.args
        return rf"\mathcal{{D}}^{{{int(k)}}} {printer._print(u)}"

    def _jaxcode(self, printer):
        u, period, k, keep = self.args
        n = shape_of(u, printer.shapes)[0]
        multiplier = _multiplier_code(n, float(period), int(k), float(keep))
        return f"jnp.fft.irfft({multiplier}*jnp.fft.rfft({printer._print(u)}), n={n})"


def _multiplier_code(n: int, period: float, k: int, keep: float) -> str:
    """The `jnp` source of `(i κ_j)^k` on the `n // 2 + 1` real-FFT modes, zero
    above the kept modes (and at the Nyquist mode for odd `k`, even `n`)."""
    m = n // 2 + 1
    scale = 2 * math.pi / period
    j = f"jnp.arange({m}, dtype=float)"
    kappa = f"({scale!r}*{j})"
    # complex multipliers: strict dtype promotion does not mix float and complex
    if k % 2 == 0:
        multiplier = f"jnp.asarray({(-1) ** (k // 2)}.0*{kappa}**{k}, dtype=complex)"
    else:
        sign = "1j" if k % 4 == 1 else "-1j"
        if n % 2 == 0:
            kappa = f"jnp.where({j} == {n // 2}, 0.0, {kappa})"
        multiplier = f"({sign}*jnp.asarray({kappa}**{k}, dtype=complex))"
    kept = _kept_modes(n, keep)
    if kept < n // 2:
        multiplier = f"jnp.where({j} <= {kept}, {multiplier}, 0.0)"
    return multiplier


class SpectralDiffOfSpectrum(_ArrayFunction):
    """`SpectralDiffOfSpectrum(v, P, k, keep, n)`: the same derivative as
    `SpectralDiff(u, P, k, keep)`, from the real-FFT coefficients `v = rfft(u)` of
    a field of `n` points. The exponential solvers work in Fourier space and
    already hold `v`: reading it saves one FFT per spectral derivative per stage
    (`solve/_semilinear_setup.py` substitutes it into the remainder `N`)."""

    nargs = 5

    def _symflow_shape(self, shapes):
        return (int(self.args[4]),)

    def _sympystr(self, printer):
        v, _, k, _, _ = self.args
        return f"spectral_diff_of_spectrum({printer._print(v)}, {int(k)})"

    def _jaxcode(self, printer):
        v, period, k, keep, n = self.args
        multiplier = _multiplier_code(int(n), float(period), int(k), float(keep))
        return f"jnp.fft.irfft({multiplier}*{printer._print(v)}, n={int(n)})"


class SpectralFilter(_ArrayFunction):
    """`SpectralFilter(u, keep)`: `u` with its Fourier modes above `keep·n/2` zeroed."""

    nargs = 2

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        return f"dealias({printer._print(self.args[0])}, {float(self.args[1]):.4g})"

    def _jaxcode(self, printer):
        u, keep = self.args
        n = shape_of(u, printer.shapes)[0]
        kept = _kept_modes(n, float(keep))
        return (f"jnp.fft.irfft(jnp.where(jnp.arange({n // 2 + 1}) <= {kept}, "
                f"jnp.fft.rfft({printer._print(u)}), 0.0), n={n})")


class SpectralAxisDiff(_ArrayFunction):
    """`SpectralAxisDiff(u, P, k, axis, (n0, n1, ...))`: the `k`-th derivative along
    `axis` of the flat (x-major) array `u` on a periodic grid of that shape (period
    `P` along `axis`), by an FFT along that axis of the grid view; flat again."""

    nargs = 5

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        u, _, k, axis, _ = self.args
        return f"spectral_diff({printer._print(u)}, {int(k)} along {int(axis)})"

    def _latex(self, printer):
        u, _, k, axis, _ = self.args
        return rf"\mathcal{{D}}_{{{int(axis)}}}^{{{int(k)}}} {printer._print(u)}"

    def _jaxcode(self, printer):
        u, period, k, axis, shape = self.args
        k, axis = int(k), int(axis)
        shape = tuple(int(n) for n in shape)
        n = shape[axis]
        view = tuple(n // 2 + 1 if i == axis else 1 for i in range(len(shape)))
        multiplier = _multiplier_code(n, float(period), k, 1.0)
        grid = f"jnp.reshape({printer._print(u)}, {shape!r})"
        return (f"jnp.ravel(jnp.fft.irfft(jnp.reshape({multiplier}, {view!r})"
                f"*jnp.fft.rfft({grid}, axis={axis}), n={n}, axis={axis}))")


class SpectralGridFilter(_ArrayFunction):
    """`SpectralGridFilter(u, keep, (n0, n1, ...))`: the flat array `u` on a periodic
    grid of that shape with the Fourier modes above `keep·n_i/2` along any axis
    zeroed (the tensor-product form of the 2/3 rule), by `jnp.fft.rfftn`."""

    nargs = 3

    def _symflow_shape(self, shapes):
        return shape_of(self.args[0], shapes)

    def _sympystr(self, printer):
        return f"dealias({printer._print(self.args[0])}, {float(self.args[1]):.4g})"

    def _jaxcode(self, printer):
        u, keep, shape = self.args
        shape = tuple(int(n) for n in shape)
        masks = []
        for axis, n in enumerate(shape):
            kept = _kept_modes(n, float(keep))
            last = axis == len(shape) - 1
            modes = (f"jnp.arange({n // 2 + 1})" if last
                     else f"jnp.abs(jnp.fft.fftfreq({n}, 1/{n}))")
            view = tuple((n // 2 + 1 if last else n) if i == axis else 1
                         for i in range(len(shape)))
            masks.append(f"jnp.reshape({modes} <= {kept}, {view!r})")
        grid = f"jnp.reshape({printer._print(u)}, {shape!r})"
        return (f"jnp.ravel(jnp.fft.irfftn(jnp.where({' & '.join(masks)}, "
                f"jnp.fft.rfftn({grid}), 0.0), s={shape!r}))")


def _register_linear_nodes() -> None:
    from .semilinear import LINEAR_NODES

    for node in (SpectralDiff, SpectralFilter, SpectralAxisDiff, SpectralGridFilter):
        if node not in LINEAR_NODES:
            LINEAR_NODES.append(node)


_register_linear_nodes()


def discretize_spectral(system: System) -> System:
    """Every `Diff` becomes a spectral derivative (`SpectralDiff` on a 1-D domain,
    `SpectralAxisDiff` along one axis of a 2-D or 3-D grid); a derivative of an
    expression (a flux, a mixed derivative) differentiates the expression's
    values the same way. With `dealias < 1`, fields are read through the filter
    and right-hand sides filtered (module docstring)."""
    keep = float(system.settings.dealias)
    dims = {d.name: (axis, d) for axis, d in enumerate(system.domain)}
    shape = sp.Tuple(*(sp.Integer(d.points) for d in system.domain))
    gridded = len(system.domain) > 1
    fields = {v.symbol for v in system.variables
              if v.name in {name for name, _ in system.fields}}

    def read(u: sp.Expr) -> sp.Expr:  # a field (or expression) through the filter
        if keep >= 1:
            return u
        return SpectralGridFilter(u, sp.Float(keep), shape) if gridded else \
            SpectralFilter(u, sp.Float(keep))

    def derivative(u: sp.Expr, x: sp.Symbol, k: int, of_field: bool) -> sp.Expr:
        axis, dim = dims[x.name]
        period = sp.Float(dim.upper - dim.lower)
        if gridded:
            return SpectralAxisDiff(read(u) if of_field else u, period, sp.Integer(k),
                                    sp.Integer(axis), shape)
        # in 1-D the derivative includes the filter (one FFT pair)
        return SpectralDiff(u, period, sp.Integer(k), sp.Float(keep))

    memo: dict[sp.Expr, sp.Expr] = {}

    def transform(expr: sp.Expr) -> sp.Expr:
        if expr in memo:
            return memo[expr]
        if isinstance(expr, Diff):
            u, x, k = expr.args
            if u in fields:
                out = derivative(u, x, int(k), True)
            else:
                out = derivative(transform(u), x, int(k), False)
        elif expr in fields:
            out = read(expr)
        elif expr.args and expr.has(Diff, *fields):
            out = expr.func(*(transform(a) for a in expr.args))
        else:
            out = expr
        memo[expr] = out
        return out

    equations = []
    for e in system.equations:
        rhs = transform(e.rhs)
        if keep < 1 and any(e.target == name for name, _ in system.fields) \
                and system.shape_of(rhs) != ():
            rhs = read(rhs)
        equations.append(dataclasses.replace(e, rhs=rhs))
    observed = tuple(dataclasses.replace(o, expr=transform(o.expr)) for o in system.observed)
    return dataclasses.replace(system, equations=tuple(equations), observed=observed)


KAPPA = sp.Symbol("k", real=True)  # the wave number of `fourier_multiplier`


def fourier_multiplier(linear: sp.Expr, u: sp.Symbol, t: sp.Symbol,
                       states: frozenset[sp.Symbol]) -> sp.Expr | None:
    """The symbol `λ(k)` of a linear part made of constant-coefficient spectral
    derivatives of the field `u` (and `c*u`): `linear` applied to `e^{ikx}` is
    `λ(k) e^{ikx}`. `None` when `linear` is not of that form (other fields,
    coefficients varying in time or space, slices, ...). Filters are left out
    of `λ` (they zero the modes above the cut)."""
    if linear == u:
        return sp.Integer(1)
    if isinstance(linear, SpectralFilter):
        return fourier_multiplier(linear.args[0], u, t, states)
    if isinstance(linear, SpectralDiff):
        inner = fourier_multiplier(linear.args[0], u, t, states)
        return None if inner is None else (sp.I * KAPPA) ** int(linear.args[2]) * inner
    if isinstance(linear, sp.Add):
        parts = [fourier_multiplier(a, u, t, states) for a in linear.args]
        return None if any(p is None for p in parts) else sp.expand(sp.Add(*parts))
    if isinstance(linear, sp.Mul):
        dependent = [f for f in linear.args if f.free_symbols & states]
        if len(dependent) != 1:
            return None
        constant = sp.Mul(*(f for f in linear.args if f is not dependent[0]))
        if constant.has(t) or any(isinstance(n, _ArrayFunction)
                                  for n in sp.preorder_traversal(constant)):
            return None
        inner = fourier_multiplier(dependent[0], u, t, states)
        return None if inner is None else constant * inner
    return None
