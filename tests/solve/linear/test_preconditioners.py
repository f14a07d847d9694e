"""The DST/DCT/FFT preconditioner of `linear/preconditioners.py` against the dense
Jacobian of the discretized operator, GMRES iteration counts against ADI, an implicit
solve against the exact semi-discrete Fourier solution, and gradients through the
Krylov solve (periodic FFT and Dirichlet/Neumann transform preconditioners) against
central finite differences."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import pytest

import symflow
from models import model_text
from symflow.solve.linear import adi_preconditioner, spectral_preconditioner

KAPPA = 0.7
C = 0.01  # the Newton matrix is I - C J


def heat(xk: str, yk: str, nx: int = 7, ny: int = 8, zk: str | None = None, nz: int = 6,
         reaction: str = "") -> symflow.Model:
    """`der(u) = KAPPA laplacian(u)` on the unit square (cube) with the kinds
    `xk`, `yk` (`zk`): "p" periodic, else one letter per end, d/n/r."""
    dims = [("x", xk, nx), ("y", yk, ny)] + ([("z", zk, nz)] if zk else [])
    domain = "".join(f"    {d} in [0, 1], points = {n}{', periodic' if k == 'p' else ''}\n"
                     for d, k, n in dims)
    boundary = ""
    for d, k, _ in dims:
        if k == "p":
            continue
        for end, at in zip(k, (0, 1)):
            boundary += {"d": f"    u = 0 at {d} = {at}\n",
                         "n": f"    diff(u, {d}) = 0 at {d} = {at}\n",
                         "r": f"    diff(u, {d}) + 2*u = 0 at {d} = {at}\n"}[end]
    coords = ", ".join(d for d, _, _ in dims)
    return symflow.loads(f"""model T
  domain
{domain}  variables
    u({coords}) = 1 + x*y
  equations
    der(u) = {KAPPA}*laplacian(u){reaction}
  boundary
{boundary}end
""")


def newton_matrix(m: symflow.Model, c: float = C):
    p = m.complete_params({})
    y0 = m.runner.simulator.pack(m.initial_values(p))

    def residual(z, _=None):
        return z - c * m.generated.rhs(0.0, y0 + z, p)

    op = lx.JacobianLinearOperator(residual, jnp.zeros_like(y0))
    return op, np.asarray(jax.jit(jax.jacfwd(residual))(jnp.zeros_like(y0)))


def axis_eigenvalues(kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The unknowns of one axis (a mask) and the eigenvalues `2 cos θ - 2` of its
    order-2 second difference (times h²) with the textbook boundary closures:
    DST-I, DCT-I, the quarter-wave pair, the DFT."""
    if kind == "p":
        return np.ones(n, bool), 2 * np.cos(2 * np.pi * np.arange(n) / n) - 2
    unknown = np.ones(n, bool)
    if kind[0] == "d":
        unknown[0] = False
    if kind[1] == "d":
        unknown[-1] = False
    if kind == "dd":
        theta = np.pi * np.arange(1, n - 1) / (n - 1)
    elif kind == "nn":
        theta = np.pi * np.arange(n) / (n - 1)
    else:
        theta = np.pi * (2 * np.arange(n - 1) + 1) / (2 * (n - 1))
    return unknown, 2 * np.cos(theta) - 2


KINDS = [("dd", "dd"), ("nn", "nn"), ("dn", "nd"), ("nd", "p"), ("p", "dn"), ("dd", "nn")]


@pytest.mark.parametrize("xk,yk", KINDS)
def test_transform_eigenvalues_and_inverse_match_the_dense_jacobian(xk, yk):
    """The Newton matrix of the discretized heat equation, restricted to the unknowns
    (the Dirichlet rows are the identity and no interior row reads a Dirichlet
    value), has exactly the eigenvalues the transforms assume; and for this
    constant-coefficient problem `M^-1` and `M^-T` are the exact inverses of `A`
    and `A^T` (x has 7 points: periodic, it is the 3m + 1 case of the probe)."""
    nx, ny = 7, 8
    m = heat(xk, yk, nx, ny)
    op, dense = newton_matrix(m)
    ux, ex = axis_eigenvalues(xk, nx)
    uy, ey = axis_eigenvalues(yk, ny)
    unknown = (ux[:, None] & uy[None, :]).ravel()
    # Dirichlet points: identity rows, and zero columns (the interior reads g)
    known = ~unknown
    np.testing.assert_array_equal(dense[known][:, known], np.eye(known.sum()))
    assert np.all(dense[unknown][:, known] == 0) and np.all(dense[known][:, unknown] == 0)
    hx = 1 / (nx if xk == "p" else nx - 1)
    hy = 1 / (ny if yk == "p" else ny - 1)
    expected = 1 - C * KAPPA * (ex[:, None] / hx**2 + ey[None, :] / hy**2).ravel()
    actual = np.linalg.eigvals(dense[unknown][:, unknown])
    assert np.max(np.abs(actual.imag)) < 1e-9
    np.testing.assert_allclose(np.sort(actual.real), np.sort(expected), rtol=1e-11)

    b = np.random.default_rng(0).normal(size=dense.shape[0])
    grid = m.runner.grid
    names = {"d": "dirichlet", "n": "neumann", "p": "periodic"}
    assert grid.boundaries == (tuple((names[k[0]], names[k[-1]]) for k in (xk, yk)),)
    for transposed in (False, True):
        a = dense.T if transposed else dense
        o = op.transpose() if transposed else op
        pre = jax.jit(lambda b, o=o, t=transposed: spectral_preconditioner(
            o, grid.shape, grid.fields, grid.boundaries, transposed=t).mv(b))
        np.testing.assert_allclose(np.asarray(pre(jnp.asarray(b))), np.linalg.solve(a, b),
                                   rtol=0, atol=1e-12 * np.max(np.abs(b)))


@pytest.mark.slow  # a 3-D compile: about 40 s on the loaded 2-core machine
def test_3d_mixed_kinds_inverse_is_exact():
    m = heat("dn", "p", 5, 6, zk="nn", nz=5)
    op, dense = newton_matrix(m)
    b = np.random.default_rng(1).normal(size=dense.shape[0])
    pre = spectral_preconditioner(op, m.runner.grid.shape, m.runner.grid.fields,
                                  m.runner.grid.boundaries)
    np.testing.assert_allclose(np.asarray(pre.mv(jnp.asarray(b))), np.linalg.solve(dense, b),
                               atol=1e-12 * np.max(np.abs(b)))


@pytest.mark.slow
def test_robin_is_preconditioned_as_neumann_and_still_helps():
    """A Robin end is not diagonalised exactly (its diagonal term goes into the
    point blocks, so `M = P K` is off by that term times `L` in the Robin rows):
    `M^-1` is not `A^-1`, GMRES on the exact operator still gives the dense
    solution, and in fewer restart cycles than with ADI (3 against 6 when written)."""
    m = heat("rn", "dd", 16, 16)
    op, dense = newton_matrix(m, c=0.05)
    b = jnp.asarray(np.random.default_rng(2).normal(size=dense.shape[0]))
    exact = np.linalg.solve(dense, np.asarray(b))
    spectral = spectral_preconditioner(op, m.runner.grid.shape, m.runner.grid.fields,
                                       m.runner.grid.boundaries)
    gap = np.max(np.abs(np.asarray(spectral.mv(b)) - exact)) / np.max(np.abs(exact))
    assert gap > 1e-3, gap

    def cycles(preconditioner):
        gmres = lx.GMRES(rtol=1e-10, atol=1e-13, restart=10, max_steps=500)
        sol = lx.linear_solve(op, b, gmres, throw=False,
                              options={"preconditioner": preconditioner})
        assert sol.result == lx.RESULTS.successful
        np.testing.assert_allclose(np.asarray(sol.value), exact,
                                   atol=1e-8 * np.max(np.abs(exact)))
        return int(sol.stats["num_steps"])

    assert cycles(spectral) < cycles(adi_preconditioner(op, m.runner.grid.shape,
                                                        m.runner.grid.fields))


BRUSSELATOR = model_text("brusselator_2d_template")


# both slow (a 2-D compile each, ~15 s): the transform preconditioner's correctness
# stays in the default suite (the dense-Jacobian and Fourier tests above and below)
@pytest.mark.parametrize("c,ratio", [pytest.param(1e-3, 1.0, marks=pytest.mark.slow),
                                     pytest.param(1e-2, 0.5, marks=pytest.mark.slow)])
def test_gmres_needs_fewer_steps_than_with_adi_on_a_dirichlet_brusselator(c, ratio):
    """Two fields with different boundary kinds and a nonlinear reaction that couples
    them: both preconditioners reach the dense solution, the transform one in
    fewer GMRES steps (Krylov matvecs; the same restart length): when written,
    30 against 50 at c = 1e-3 (diffusion not yet dominant on 16x16: cα/h² = 2.3)
    and 30 against 80 at c = 1e-2."""
    m = symflow.loads(BRUSSELATOR.format(n=16))
    shape, fields, boundaries = m.runner.grid.shape, m.runner.grid.fields, m.runner.grid.boundaries
    assert boundaries[0] == (("dirichlet", "dirichlet"),) * 2
    assert boundaries[1] == (("dirichlet", "neumann"), ("neumann", "neumann"))
    op, dense = newton_matrix(m, c)
    b = jnp.asarray(np.random.default_rng(3).normal(size=dense.shape[0]))
    exact = np.linalg.solve(dense, np.asarray(b))

    def matvecs(preconditioner):
        gmres = lx.GMRES(rtol=1e-8, atol=1e-12, restart=10, max_steps=500)
        value, steps, result = jax.jit(lambda b: (lambda s: (s.value, s.stats["num_steps"],
                                                             s.result))(
            lx.linear_solve(op, b, gmres, throw=False,
                            options={"preconditioner": preconditioner})))(b)
        assert result == lx.RESULTS.successful
        np.testing.assert_allclose(np.asarray(value), exact, atol=1e-6 * np.max(np.abs(exact)))
        return int(steps) * 10

    spectral = matvecs(spectral_preconditioner(op, shape, fields, boundaries))
    adi = matvecs(adi_preconditioner(op, shape, fields))
    print(f"c = {c}: {spectral} matvecs with the transform, {adi} with ADI")
    assert spectral < ratio * adi, (spectral, adi)


@pytest.mark.slow  # a 2-D compile, ~9 s quiet: the default suite's budget
def test_adi_fallback_when_the_transform_preconditioner_has_not_converged():
    """`GridKrylovSolver` gives the transform preconditioner `fallback_cycles` cycles,
    then solves afresh with ADI: with one cycle allowed (it needs 3 here) the
    answer is still the dense solution, reached through the ADI branch."""
    m = symflow.loads(BRUSSELATOR.format(n=16))
    op, dense = newton_matrix(m, 1e-2)
    b = jnp.asarray(np.random.default_rng(4).normal(size=dense.shape[0]))
    exact = np.linalg.solve(dense, np.asarray(b))
    for cycles, fell_back in ((1, True), (10, False)):
        solver = m.runner.grid.linear_solver(rtol=1e-10, atol=1e-13, fallback_cycles=cycles)
        x, result, stats = jax.jit(lambda b, s=solver: s.compute(s.init(op, {}), b, {}))(b)
        assert result == lx.RESULTS.successful
        np.testing.assert_allclose(np.asarray(x), exact, atol=1e-8 * np.max(np.abs(exact)))
        assert (int(stats["num_steps"]) > cycles) == fell_back


def test_implicit_dirichlet_heat_matches_the_exact_discrete_fourier_solution():
    """`sin(πx) sin(2πy)` is an eigenvector of the discrete Dirichlet Laplacian: the
    semi-discrete solution is `exp(λt)` times it, `λ = κ Σ (2cos(kπh) - 2)/h²`.
    Kvaerno5 with the transform-preconditioned GMRES reproduces it to the
    solver tolerance."""
    n, kappa, t1 = 17, 0.1, 0.5
    m = symflow.loads(f"""model H
  domain
    x in [0, 1], points = {n}
    y in [0, 1], points = {n}
  variables
    u(x, y) = sin(pi*x)*sin(2*pi*y)
  equations
    der(u) = {kappa}*laplacian(u)
  boundary
    u = 0 at x = 0
    u = 0 at x = 1
    u = 0 at y = 0
    u = 0 at y = 1
end
""")
    assert m.runner.grid.linear_solver().spectral
    sol = m.simulate(solver="kvaerno5", tspan=(0.0, t1), saveat=2, rtol=1e-9, atol=1e-11)
    h = 1 / (n - 1)
    lam = kappa * ((2 * math.cos(math.pi * h) - 2) + (2 * math.cos(2 * math.pi * h) - 2)) / h**2
    x = np.linspace(0, 1, n)
    exact = np.exp(lam * t1) * np.outer(np.sin(np.pi * x), np.sin(2 * np.pi * x)).ravel()
    assert np.exp(lam * t1) < 0.2  # the mode decayed: the check is not of the initial value
    np.testing.assert_allclose(np.asarray(sol["u"][-1]), exact, rtol=0, atol=2e-9)


GRADIENT = """model G
  parameters
    kappa = 0.1
    r = 1.0
  domain
    x in [0, 1], points = 8{periodic}
    y in [0, 1], points = 8{periodic}
  variables
    u(x, y) = 0.2 + sin(pi*x)^2*sin(2*pi*y)^2
  equations
    der(u) = kappa*laplacian(u) + r*u*(1 - u)
{boundary}end
"""


# each compiles the gradient of a Kvaerno5 solve (~20 s quiet, ~90 s under load 10);
# the periodic FFT path predates this file, so it runs with -m slow
@pytest.mark.parametrize("kind", [pytest.param("periodic", marks=pytest.mark.slow),
                                  "dirichlet-neumann"])
def test_gradient_through_the_krylov_solve_matches_finite_differences(kind):
    """`jax.grad` of a loss of the final state of Kvaerno5 + GMRES (FFT preconditioner
    on the periodic grid, DST/DCT on the other; the implicit function theorem
    through each Newton solve, which solves with `A^T` and `M^-T`) against central
    differences of the same solve at tight tolerances."""
    boundary = "" if kind == "periodic" else """  boundary
    u = 0.2 at x = 0
    u = 0.2 at x = 1
    diff(u, y) = 0 at y = 0
    diff(u, y) = 0 at y = 1
"""
    m = symflow.loads(GRADIENT.format(periodic=", periodic" if kind == "periodic" else "",
                                      boundary=boundary))
    assert m.runner.grid.linear_solver().spectral

    def loss(p):
        sol = m.simulate(p, solver="kvaerno5", tspan=(0.0, 0.3), saveat=2, rtol=1e-10,
                         atol=1e-12)
        return jnp.sum(sol["u"][-1] ** 2)

    p = dict(m.params)
    grad = jax.jit(jax.grad(loss))(p)
    for k in p:
        h = 1e-4 * abs(float(p[k]))
        fd = (float(loss({**p, k: p[k] + h})) - float(loss({**p, k: p[k] - h}))) / (2 * h)
        assert abs(fd) > 1e-2  # both parameters matter
        assert abs(float(grad[k]) - fd) <= 1e-6 * abs(fd), (k, float(grad[k]), fd)
