"""How stiff a model is at its initial point: the fastest decay rate of its Jacobian.

`solver = auto` compares `decay * |t1 - t0|` with `STIFFNESS_THRESHOLD` (and, where
the eigenvalues are available, the decay with the solution's own rates). One
estimate per Jacobian structure, matched to what can be afforded: dense
eigenvalues for small models (`dense_rates`), a Gershgorin bound on the probed
band for 1-D PDEs (`band_decay`), power iteration on Jacobian-vector products on
2-D/3-D grids (`spectral_radius`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .interleaved import Band, deinterleave, interleave
from .probing import band_of, cyclic_band_of

__all__ = ["GRID_STIFFNESS_THRESHOLD", "STIFFNESS_THRESHOLD", "band_decay", "dense_rates",
           "spectral_radius"]

# `auto` picks an implicit solver when the fastest decay rate of the Jacobian at the
# initial point times the span exceeds this.
STIFFNESS_THRESHOLD = 1e3
# The same on a 2-D/3-D grid, where the implicit step is a Newton–Krylov solve: each
# step costs hundreds of right-hand sides (several stages, Newton iterations, GMRES
# iterations of Jacobian-vector products) against Tsit5's 6, while Tsit5's steps grow
# with decay x span (stability: about decay x span / 3.3 of them). Measured on
# Allen–Cahn, eps = 0.01 on a 128x65 grid (decay 198, rtol 1e-6, 2 cores):
# decay x span 4.0e3: tsit5 0.27 s, kvaerno5 6.7 s; 4.0e4: tsit5 2.8 s, kvaerno5 9.0 s;
# tsit5's time grows in proportion and kvaerno5's barely, so they meet near 1.4e5.
GRID_STIFFNESS_THRESHOLD = 1e5


def dense_rates(rhs: Callable, t0: float, y0: jax.Array, params: Mapping[str, Any]
                ) -> tuple[float, float]:
    """The decay and activity rates of the Jacobian at the initial point.

    `decay` is the fastest decay rate, max(-Re λ): it bounds the step of an
    explicit solver by stability. `active` is the fastest rate at which the
    solution itself moves, max(Re λ, |Im λ|) (growth and oscillation): it bounds
    the step of any solver by accuracy.
    """
    jac = jax.jacfwd(rhs, argnums=1)(jnp.asarray(t0), y0, params)
    jac = np.asarray(jac, dtype=float)
    if jac.size == 0:
        return 0.0, 0.0
    if not np.all(np.isfinite(jac)):
        return float("inf"), 0.0
    eig = np.linalg.eigvals(jac)
    decay = float(max(0.0, np.max(-eig.real)))
    active = float(max(0.0, np.max(np.maximum(eig.real, np.abs(eig.imag)))))
    return decay, active


def band_decay(rhs: Callable, t0: float, y0: jax.Array, params: Mapping[str, Any],
               band: Band) -> float:
    """A Gershgorin bound on max(-Re λ) of the Jacobian at the initial point, from its
    (cyclic, interleaved) band: a permutation keeps the eigenvalues."""
    full = band_of if not band.periodic else cyclic_band_of
    f = band.fields
    _, linear = jax.linearize(lambda z: rhs(jnp.asarray(t0), z, params), y0)
    b = full(lambda z: interleave(linear(deinterleave(z, f)), f), y0.shape[0], band.width)
    diagonal = b[band.width]
    radius = jnp.sum(jnp.abs(b), axis=0) - jnp.abs(diagonal)
    return float(jnp.max(jnp.maximum(0.0, -diagonal + radius)))


def spectral_radius(rhs: Callable, t0: float, y0: jax.Array, params: Mapping[str, Any],
                    iterations: int = 30) -> float:
    """An estimate of the spectral radius of the Jacobian at the initial point by
    power iteration on Jacobian-vector products (for `solver = auto` on grids too
    large for dense eigenvalues). Diffusion dominates stiff PDEs, and its
    eigenvalues are real and negative, so this is the fastest decay rate."""
    _, linear = jax.linearize(lambda z: rhs(jnp.asarray(t0), z, params), y0)
    v = jax.random.normal(jax.random.key(0), y0.shape)

    def step(v, _):
        w = linear(v)
        return w / jnp.maximum(jnp.linalg.norm(w), 1e-300), jnp.linalg.norm(w)

    v, norms = jax.lax.scan(step, v / jnp.linalg.norm(v), None, length=iterations)
    return float(norms[-1])
