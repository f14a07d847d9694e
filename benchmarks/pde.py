"""PDE benchmarks (issue 3): method-of-lines models against the same problems by hand.

    python benchmarks/pde.py            # everything (a few minutes)
    python benchmarks/pde.py heat       # one part: heat | rhs | compile | scipy | dense

* heat: u_t = u_xx on [0, 1], u0 = sin(pi x), Dirichlet, t in [0, 0.1], Kvaerno5,
  rtol 1e-6, atol 1e-9, at N = 10^3, 10^4, 10^5 points: symflow (banded linear
  solve, chosen from the stencils) against the same solver configuration written
  by hand in jnp/diffrax (the same `BandedLinearSolver`), median of 5 solves after
  compilation; compile time apart.
* rhs: one right-hand-side evaluation at N = 10^4, generated vs hand-written.
* compile: text -> callable, trace and XLA compile of the implicit solve of a 1-D
  reaction-diffusion model at
  N = 1,024 and 262,144 points (the sizes of the 32x32 and 512x512 grids).
* scipy: scipy BDF with the sparse (tridiagonal) Jacobian at N = 10^4, for scale.
* dense: diffrax's default Kvaerno5 (dense Jacobian) at N = 10^3.

Timings are wall-clock on a shared machine: read the ratios, not the digits.
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import symflow  # noqa: E402
from symflow.solve._banded import BandedLinearSolver  # noqa: E402


HEAT = """model Heat
  domain
    x in [0, 1], points = {n}
  variables
    u(x) = sin(pi*x)
  equations
    der(u) = diff(u, x, 2)
  boundary
    u = 0 at x = 0
    u = 0 at x = 1
  simulate
    tspan = [0, 0.1]
    solver = kvaerno5
    rtol = 1e-6
    atol = 1e-9
    saveat = 2
end
"""

REACTION_DIFFUSION = """model Fisher
  parameters
    D = 1.0
    r = 1.0
  domain
    x in [0, 50], points = {n}
  variables
    u(x) = exp(-x^2)
  equations
    der(u) = D*diff(u, x, 2) + r*u*(1 - u)
  boundary
    diff(u, x) = 0 at x = 0
    u = 0 at x = 50
  simulate
    tspan = [0, 10]
    solver = kvaerno5
end
"""


def median_time(fn, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------ hand-written twin


def heat_rhs(t, u, args):
    """Dirichlet ends held at 0 (their derivative is 0), central differences inside."""
    h = 1.0 / (u.shape[0] - 1)
    inner = (u[2:] - 2 * u[1:-1] + u[:-2]) / h**2
    return jnp.concatenate([jnp.zeros(1), inner, jnp.zeros(1)])


def heat_handwritten(n: int, *, banded: bool = True):
    x = jnp.linspace(0.0, 1.0, n)
    y0 = jnp.sin(jnp.pi * x).at[-1].set(0.0)
    if banded:
        root = diffrax.with_stepsize_controller_tols(diffrax.VeryChord)(
            linear_solver=BandedLinearSolver(1))
        solver = diffrax.Kvaerno5(root_finder=root)
    else:
        solver = diffrax.Kvaerno5()

    @jax.jit
    def solve(y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(heat_rhs), solver, t0=0.0, t1=0.1, dt0=None, y0=y0,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
            max_steps=100_000)
        return sol.ys[-1]

    return solve, y0


def bench_heat():
    print("\n## heat 1-D, Kvaerno5, rtol 1e-6 (banded linear solve)")
    print("| N | symflow solve | hand-written solve | ratio | symflow load + XLA compile | "
          "max error vs exp(-pi^2 t) sin(pi x) |")
    print("|---|---|---|---|---|---|")
    for n in (1_000, 10_000, 100_000):
        start = time.perf_counter()
        m = symflow.loads(HEAT.format(n=n))
        load = time.perf_counter() - start
        timings: dict = {}
        sol = m.simulate(timings=timings)
        x = m.system.domain[0].grid()
        error = np.max(np.abs(np.asarray(sol["u"][-1])
                              - np.exp(-np.pi**2 * 0.1) * np.sin(np.pi * x)))
        ours = median_time(lambda: m.simulate()["u"])
        solve, y0 = heat_handwritten(n)
        jax.block_until_ready(solve(y0))
        theirs = median_time(lambda: solve(y0))
        compile_ = load + timings["trace"] + timings["xla compile"]
        print(f"| {n:,} | {1e3 * ours:.1f} ms | {1e3 * theirs:.1f} ms | {ours / theirs:.2f} | "
              f"{compile_:.1f} s | {error:.1e} |", flush=True)


def bench_rhs():
    print("\n## one right-hand side, heat 1-D, N = 10^4")
    n = 10_000
    m = symflow.loads(HEAT.format(n=n))
    y = jnp.asarray(np.random.default_rng(0).normal(size=n))
    ours = jax.jit(m.generated.rhs)
    theirs = jax.jit(heat_rhs)
    p = m.params
    jax.block_until_ready(ours(0.0, y, p))
    jax.block_until_ready(theirs(0.0, y, None))
    a = median_time(lambda: ours(0.0, y, p), repeats=200)
    b = median_time(lambda: theirs(0.0, y, None), repeats=200)
    print(f"symflow {1e6 * a:.1f} us, hand-written {1e6 * b:.1f} us, ratio {a / b:.2f}")


def bench_compile():
    print("\n## compile time against grid size (1-D Fisher-KPP, Kvaerno5)")
    print("| N | text -> callable | trace of the solve | XLA compile of the solve |")
    print("|---|---|---|---|")
    for n in (1_024, 262_144):
        start = time.perf_counter()
        m = symflow.loads(REACTION_DIFFUSION.format(n=n))
        load = time.perf_counter() - start
        timings: dict = {}
        m.simulate(timings=timings, tspan=(0.0, 0.01), saveat=2)
        trace, xla = timings["trace"], timings["xla compile"]
        print(f"| {n:,} | {load:.2f} s | {trace:.3f} s | {xla:.3f} s |", flush=True)


def bench_scipy():
    import scipy.integrate
    import scipy.sparse

    print("\n## scipy BDF, sparse tridiagonal Jacobian, N = 10^4")
    n = 10_000
    h = 1.0 / (n - 1)
    main = np.full(n, -2.0 / h**2)
    off = np.full(n - 1, 1.0 / h**2)
    main[[0, -1]] = 0.0
    lower, upper = off.copy(), off.copy()
    lower[-1] = 0.0
    upper[0] = 0.0
    jac = scipy.sparse.diags([lower, main, upper], [-1, 0, 1], format="csc")

    def f(t, u):
        return jac @ u

    x = np.linspace(0, 1, n)
    y0 = np.sin(np.pi * x)
    y0[-1] = 0.0
    run = lambda: scipy.integrate.solve_ivp(f, (0, 0.1), y0, method="BDF", rtol=1e-6,  # noqa: E731
                                            atol=1e-9, jac=jac)
    print(f"{1e3 * median_time(run, repeats=3):.1f} ms")


def bench_dense():
    print("\n## diffrax default Kvaerno5 (dense Jacobian), N = 10^3")
    solve, y0 = heat_handwritten(1_000, banded=False)
    start = time.perf_counter()
    jax.block_until_ready(solve(y0))
    first = time.perf_counter() - start
    print(f"first call (with compile) {first:.1f} s, "
          f"then {1e3 * median_time(lambda: solve(y0), repeats=3):.0f} ms")


PARTS = {"heat": bench_heat, "rhs": bench_rhs, "compile": bench_compile,
         "scipy": bench_scipy, "dense": bench_dense}

if __name__ == "__main__":
    for name in sys.argv[1:] or PARTS:
        PARTS[name]()
