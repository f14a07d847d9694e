"""The spectral IR nodes: Fourier-space derivatives and de-aliasing filters.

`passes/discretization/spectral.py` writes them (the `scheme = spectral`
discretization), `analysis/semilinear.py` reads them (a linear part made of
spectral derivatives is diagonal in Fourier space) and `solve` substitutes
`SpectralDiffOfSpectrum` for `SpectralDiff` in the exponential integrators; they
live here, below all three, so that each imports them downward.

Each node is an array function printed as one `jnp.fft` expression, so the
generated code does not grow with the number of grid points.
"""

from __future__ import annotations

import math

from .arrays import ArrayFunction, shape_of

__all__ = ["SpectralDiff", "SpectralDiffOfSpectrum", "SpectralFilter", "SpectralAxisDiff",
           "SpectralGridFilter", "LINEAR_SPECTRAL_NODES"]


def _kept_modes(n: int, keep: float) -> int:
    """The largest mode index `j` kept by `dealias = keep` on `n` points."""
    return n // 2 if keep >= 1 else int(math.floor(keep * (n // 2) + 1e-9))


class SpectralDiff(ArrayFunction):
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


class SpectralDiffOfSpectrum(ArrayFunction):
    """`SpectralDiffOfSpectrum(v, P, k, keep, n)`: the same derivative as
    `SpectralDiff(u, P, k, keep)`, from the real-FFT coefficients `v = rfft(u)` of
    a field of `n` points. The exponential solvers work in Fourier space and
    already hold `v`: reading it saves one FFT per spectral derivative per stage
    (`solve/exponential/setup.py` substitutes it into the remainder `N`)."""

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


class SpectralFilter(ArrayFunction):
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


class SpectralAxisDiff(ArrayFunction):
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


class SpectralGridFilter(ArrayFunction):
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


# The spectral nodes linear in their first (array) argument, the others being
# constants (`analysis/semilinear.py` splits through them).
LINEAR_SPECTRAL_NODES: tuple[type, ...] = (SpectralDiff, SpectralFilter, SpectralAxisDiff,
                                           SpectralGridFilter)
