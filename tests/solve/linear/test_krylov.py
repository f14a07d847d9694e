"""Matrix-free implicit solves on 2-D grids (Newton–Krylov with an ADI preconditioner)."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve import SolveConfig, save_times
from symflow.solve.linear import GridKrylovSolver, point_blocks

HEAT = model_text("heat_2d_template")


@pytest.fixture(scope="module")
def heat():
    return symflow.loads(HEAT.format(n=24))


def test_probed_blocks_and_preconditioned_gmres_match_dense(heat):
    p = heat.complete_params({})
    y0 = heat.runner.simulator.pack(heat.initial_values(p))
    c = 1e-3
    def residual(z, _=None):
        return z - c * heat.generated.rhs(0.0, y0 + z, p)

    op = lx.JacobianLinearOperator(residual, jnp.zeros_like(y0))
    dense = np.asarray(jax.jit(jax.jacfwd(residual))(jnp.zeros_like(y0)))
    blocks = np.asarray(jax.jit(lambda: point_blocks(op.mv, (24, 24), 2))())
    n = 24 * 24
    for f in range(2):
        for g in range(2):
            np.testing.assert_allclose(blocks[:, f, g], np.diag(dense[f * n:(f + 1) * n,
                                                                      g * n:(g + 1) * n]),
                                       atol=1e-12)
    b = np.random.default_rng(1).normal(size=y0.shape)
    # ADI (no boundary kinds given), then the DST/DCT preconditioner of the model's kinds
    for solver in (GridKrylovSolver((24, 24), 2, rtol=1e-10, atol=1e-12),
                   heat.runner.grid.linear_solver(rtol=1e-10, atol=1e-12)):
        x, result, _ = jax.jit(lambda b: solver.compute(solver.init(op, {}), b, {}))(
            jnp.asarray(b))
        np.testing.assert_allclose(np.asarray(x), np.linalg.solve(dense, b), atol=1e-8)


@pytest.mark.slow  # two compiles of 2-D solves: about 15 s on a quiet machine
def test_implicit_solve_is_matrix_free_and_agrees_with_explicit(heat):
    n = 24 * 24 * 2
    assert ((heat.runner.grid.shape, heat.runner.grid.fields, heat.runner.grid.periodic)
            == ((24, 24), 2, (False, False)))
    ts = save_times((0.0, 0.05), 2)
    config = SolveConfig(solver="kvaerno5", t0=0.0, t1=0.05, rtol=1e-7, atol=1e-9,
                         dt0=None, max_steps=10_000, n_save=2, linear=heat.runner.grid)
    lowered = heat.runner.simulator.solve_fn(config).lower(heat.params, {}, ts)
    text = lowered.as_text()
    assert f"{n}x{n}x" not in text and f"[{n},{n}]" not in text  # never an N×N array
    sol = lowered.compile()(heat.params, {}, ts)
    assert int(sol.result) == 0
    ref = heat.simulate(solver="tsit5", rtol=1e-10, atol=1e-12, saveat=2, tspan=(0, 0.05))
    for k in "uv":
        np.testing.assert_allclose(sol[k][-1], ref[k][-1], atol=2e-6)
    # the solution moved: the check above compares more than the initial values
    assert float(jnp.max(jnp.abs(sol["u"][-1] - sol["u"][0]))) > 0.05


def test_factored_line_solves_match_gtsv_and_fall_back(heat):
    """The ADI preconditioner with the lines factored once (Thomas) applies the same
    `M^-1` as fresh `gtsv` solves, and a matrix whose unpivoted factors fail the
    check (a zero leading pivot) still gets `gtsv`'s pivoted answer."""
    from symflow.solve.linear.preconditioners import (
        _LineFactors,
        _tridiagonal_lines,
        adi_preconditioner,
    )

    p = heat.complete_params({})
    y0 = heat.runner.simulator.pack(heat.initial_values(p))
    op = lx.JacobianLinearOperator(lambda z, _=None: z - 1e-3 * heat.generated.rhs(0.0, y0 + z, p),
                                   jnp.zeros_like(y0))
    v = jnp.asarray(np.random.default_rng(2).normal(size=y0.shape))
    apply = jax.jit(lambda v, factored: adi_preconditioner(op, (24, 24), 2,
                                                           factored=factored).mv(v),
                    static_argnums=1)
    factored, fresh = np.asarray(apply(v, True)), np.asarray(apply(v, False))
    np.testing.assert_allclose(factored, fresh, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(factored - np.asarray(v))) > 1e-2  # M^-1 is not the identity

    rng = np.random.default_rng(3)
    lower, diagonal, upper, rhs = (jnp.asarray(rng.normal(size=(2, 5, 6))) for _ in range(4))
    diagonal = diagonal.at[0, 1, 0].set(0.0)  # one line's first pivot is zero
    lines = jax.jit(lambda *a: _LineFactors.of(*a, 2))(lower, diagonal, upper)
    assert not bool(lines.trusted)
    np.testing.assert_allclose(np.asarray(lines.solve(rhs)),
                               np.asarray(_tridiagonal_lines(lower, diagonal, upper, rhs, 2)),
                               rtol=1e-8)


def test_fft_preconditioner_on_a_periodic_grid_solves_the_same_in_fewer_cycles():
    """On a periodic grid the FFT + point-block preconditioner keeps the wrap-around
    and the coupling of the fields: GMRES gives the dense solution, in fewer
    restart cycles than with the ADI splitting (the same restart length)."""
    from symflow.solve.linear import adi_preconditioner

    text = (pathlib.Path(__file__).resolve().parents[3] / "examples/brusselator_2d.sf").read_text()
    m = symflow.loads(text.replace("points = 32", "points = 16"))
    assert ((m.runner.grid.shape, m.runner.grid.fields, m.runner.grid.periodic)
            == ((16, 16), 2, (True, True)))
    p = m.complete_params({})
    y0 = m.runner.simulator.pack(m.initial_values(p))

    def residual(z, _=None):
        return z - 0.02 * m.generated.rhs(0.0, y0 + z, p)

    op = lx.JacobianLinearOperator(residual, jnp.zeros_like(y0))
    dense = np.asarray(jax.jit(jax.jacfwd(residual))(jnp.zeros_like(y0)))
    b = jnp.asarray(np.random.default_rng(4).normal(size=y0.shape))
    exact = np.linalg.solve(dense, np.asarray(b))

    solver = GridKrylovSolver((16, 16), 2, (True, True), rtol=1e-10, atol=1e-12)
    assert solver.spectral
    x, result, _ = jax.jit(lambda b: solver.compute(solver.init(op, {}), b, {}))(b)
    assert result == lx.RESULTS.successful
    np.testing.assert_allclose(np.asarray(x), exact, atol=1e-7 * np.max(np.abs(exact)))

    def cycles(preconditioner):
        gmres = lx.GMRES(rtol=1e-8, atol=1e-12, restart=10, max_steps=500)
        value, steps = jax.jit(lambda b: (lambda sol: (sol.value, sol.stats["num_steps"]))(
            lx.linear_solve(op, b, gmres, throw=False,
                            options={"preconditioner": preconditioner(op)})))(b)
        np.testing.assert_allclose(np.asarray(value), exact, atol=1e-5 * np.max(np.abs(exact)))
        return int(steps)

    spectral = cycles(lambda op: solver.init(op, {})[1])
    adi = cycles(lambda op: adi_preconditioner(op, (16, 16), 2))
    assert spectral < adi / 2, (spectral, adi)


@pytest.mark.slow  # a dense 1024x1024 reference and two GMRES compiles in 3-D
def test_fft_preconditioner_in_3d_solves_like_dense():
    m = symflow.loads("""model R3
  domain
    x in [0, 1], points = 8, periodic
    y in [0, 1], points = 8, periodic
    z in [0, 1], points = 8, periodic
  variables
    u(x, y, z) = 1 + sin(2*pi*x)*cos(2*pi*z)
    v(x, y, z) = 2 + cos(2*pi*y)
  equations
    der(u) = 1 + u^2*v - 4*u + 0.5*laplacian(u)
    der(v) = 3*u - u^2*v + 0.5*laplacian(v)
end
""")
    assert ((m.runner.grid.shape, m.runner.grid.fields, m.runner.grid.periodic)
            == ((8, 8, 8), 2, (True, True, True)))
    p = m.complete_params({})
    y0 = m.runner.simulator.pack(m.initial_values(p))

    def residual(z, _=None):
        return z - 0.05 * m.generated.rhs(0.0, y0 + z, p)

    op = lx.JacobianLinearOperator(residual, jnp.zeros_like(y0))
    dense = np.asarray(jax.jit(jax.jacfwd(residual))(jnp.zeros_like(y0)))
    b = jnp.asarray(np.random.default_rng(5).normal(size=y0.shape))
    exact = np.linalg.solve(dense, np.asarray(b))
    solver = GridKrylovSolver((8, 8, 8), 2, (True, True, True), rtol=1e-10, atol=1e-12)
    x, result, _ = jax.jit(lambda b: solver.compute(solver.init(op, {}), b, {}))(b)
    assert result == lx.RESULTS.successful
    np.testing.assert_allclose(np.asarray(x), exact, atol=1e-8 * np.max(np.abs(exact)))
