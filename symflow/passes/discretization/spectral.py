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

The nodes themselves live in `symbolic/nodes/spectral.py`. After this pass the
semilinear split (`analysis/semilinear.py`) recognizes a linear part made of
constant-coefficient spectral derivatives of a field as diagonal in Fourier
space; its `fourier_multiplier` gives the symbol `λ(κ)`.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from ...symbolic import Diff, System
from ...symbolic.nodes import SpectralAxisDiff, SpectralDiff, SpectralFilter, SpectralGridFilter

__all__ = ["discretize_spectral"]


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
