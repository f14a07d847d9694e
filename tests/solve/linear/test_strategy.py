"""Linear strategies: each gives the implicit solver its linear solve, and `auto` a
stiffness estimate that agrees with the dense eigenvalues where both exist."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

import symflow
from models import model_text
from symflow.solve import make_solver
from symflow.solve.linear import (
    Band,
    Banded,
    BandedLinearSolver,
    Dense,
    GridKrylov,
    GridKrylovSolver,
    Interleaved,
    InterleavedBandedSolver,
    band_strategy,
    dense_rates,
)


def test_each_strategy_gives_its_linear_solver():
    assert isinstance(make_solver("kvaerno5", linear=Banded(2)).root_finder.linear_solver,
                      BandedLinearSolver)
    solver = make_solver("kvaerno5", linear=Interleaved(2, 2, True))
    assert isinstance(solver.root_finder.linear_solver, InterleavedBandedSolver)
    solver = make_solver("kvaerno5", linear=GridKrylov((8, 8), 2, (True, True)))
    assert isinstance(solver.root_finder.linear_solver, GridKrylovSolver)
    assert band_strategy(Band(3)) == Banded(3)
    assert band_strategy(Band(3, 2, False)) == Interleaved(3, 2, False)


def test_band_and_krylov_estimates_bound_the_dense_decay_rate():
    """On a 1-D heat equation the fastest decay rate is 4κ/h² (up to the closure):
    the Gershgorin bound of the band and the power iteration both find it."""
    m = symflow.loads(model_text("heat_1d_template").format(
        n=41, periodic="", u0="sin(pi*x)", bcs="    u = 0 at x = 0\n    u = 0 at x = 1",
        order=2))
    y0 = m.runner.simulator.pack(m.initial)
    p = m.complete_params(None)
    decay, _ = dense_rates(m.generated.rhs, 0.0, y0, p)
    band = Banded(1).decay_rate(m.generated.rhs, 0.0, y0, p)
    assert decay <= band <= 1.01 * decay * 2  # Gershgorin: an upper bound, same order
    power = GridKrylov((41,), 1, (False,)).decay_rate(m.generated.rhs, 0.0, y0, p)
    assert power == pytest.approx(decay, rel=0.05)
    assert Dense().decay_rate(m.generated.rhs, 0.0, y0, p) == pytest.approx(decay)


def test_dense_stiffness_needs_fast_decay_not_fast_oscillation():
    def rotation(t, y, p):  # eigenvalues ±1e4 i: fast, but nothing decays
        return jnp.stack([1e4 * y[1], -1e4 * y[0]])

    def decay(t, y, p):
        return -1e4 * y

    y0 = jnp.ones(2)
    assert not Dense().is_stiff(rotation, 0.0, 1.0, y0, None)
    assert Dense().is_stiff(decay, 0.0, 1.0, y0, None)


def test_a_grid_is_stiff_only_where_a_newton_krylov_step_pays():
    """y' = -lam y on an 8x8 grid: stiff for a dense or banded solve past decay x span
    1e3, for the grid's Newton–Krylov solve only past 1e5 (its measured break-even
    against tsit5, `GRID_STIFFNESS_THRESHOLD`)."""
    y0 = jnp.ones(64)

    def rhs(t, y, p):
        return -p["lam"] * y

    grid = GridKrylov((8, 8), 1, (False, False))
    assert grid.decay_rate(rhs, 0.0, y0, {"lam": 40.0}) == pytest.approx(40.0, rel=1e-3)
    for span, dense, krylov in ((1.0, False, False), (1e3, True, False), (1e4, True, True)):
        assert Banded(1).is_stiff(rhs, 0.0, span, y0, {"lam": 40.0}) is dense
        assert grid.is_stiff(rhs, 0.0, span, y0, {"lam": 40.0}) is krylov
