"""PDE benchmarks (issue 3): method-of-lines models against the same problems by hand.

    python benchmarks/pde.py            # everything (a few minutes)
    python benchmarks/pde.py heat       # one part: heat | scaling | rhs | compile | scipy |
                                        # dense | brusselator | krylov | multifield
    python benchmarks/pde.py heat --repeats 5   # fewer repeats (default 11)

* heat: u_t = u_xx on [0, 1], u0 = sin(pi x), Dirichlet, t in [0, 0.1], Kvaerno5,
  rtol 1e-6, atol 1e-9, at N = 10^3, 10^4, 10^5 points: symflow (banded linear
  solve, chosen from the stencils) against the same solver configuration written
  by hand in jnp/diffrax (the same `BandedLinearSolver`), the two interleaved,
  median (and minimum) of `--repeats` solves after compilation; compile time apart.
* scaling: the heat equation and a 1-D reaction-diffusion (Fisher-KPP, t in [0, 2])
  with Kvaerno5 at N = 10^3, 10^4, 10^5, each N in a fresh subprocess: solve time,
  the compiled solve's buffers (XLA `memory_analysis`: temporaries, output) and
  the process's peak RSS.
* rhs: one right-hand-side evaluation at N = 10^4, generated vs hand-written.
* compile: text -> callable, trace and XLA compile of the implicit solve of a 1-D
  reaction-diffusion model at
  N = 1,024 and 262,144 points (the sizes of the 32x32 and 512x512 grids).
* scipy: scipy BDF with the sparse (tridiagonal) Jacobian at N = 10^4, for scale.
* dense: diffrax's default Kvaerno5 (dense Jacobian) at N = 10^3.
* brusselator: the 2-D Brusselator (examples/brusselator_2d.sf): text -> callable,
  trace and XLA compile at 32x32 and 512x512; one right-hand side and a Tsit5
  solve over t in [0, 0.02] at 128x128 against the same system written by hand
  in jnp (jnp.roll stencils); the implicit Newton-Krylov solve (Kvaerno5) at
  32x32 over t in [0, 1.5] against Tsit5 at rtol 1e-9.
* krylov: GMRES iterations and time on the Newton matrices `I - c J(y0)` of the
  32x32 Brusselator for c = 1e-3, 1e-2, 1e-1, one preconditioner against another
  (ADI with gtsv per application, ADI factored, FFT + point blocks), interleaved;
  then the whole implicit solve over t in [0, 1.5] with each preconditioner
  against Tsit5, interleaved, errors against Tsit5 at rtol 1e-9.
* multifield: the 1-D Brusselator (two fields u, v; Neumann ends), Kvaerno5, t in
  [0, 1], at N = 10^3, 10^4, 10^5 points per field (interleaved banded solve), each N
  in a fresh process: solve time, XLA temporaries, peak RSS; scipy BDF with a sparse
  Jacobian at N = 10^4 (same tolerances, errors against scipy BDF at rtol 1e-10); the
  periodic case, cyclic band + Woodbury against GMRES with the FFT preconditioner.

Timings are wall-clock on a shared machine: read the ratios, not the digits.
"""

from __future__ import annotations

import dataclasses
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
from symflow.solve.linear import BandedLinearSolver, GridKrylov  # noqa: E402

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


REPEATS = 11  # set by --repeats


def median_time(fn, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(fns: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """(median, minimum) seconds of each function, called in turn `repeats` times
    (after one warm-up call each), so that a change of load hits all of them."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(v), min(v)) for name, v in times.items()}


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
    print(f"\n## heat 1-D, Kvaerno5, rtol 1e-6 (banded linear solve); median (min) of "
          f"{REPEATS}, interleaved")
    print("| N | symflow `simulate` | hand-written solve | ratio of medians (of minima) | "
          "symflow load + XLA compile | max error vs exp(-pi^2 t) sin(pi x) |")
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
        solve, y0 = heat_handwritten(n)
        assert np.allclose(np.asarray(solve(y0)), np.asarray(sol["u"][-1]), atol=1e-9)
        out = interleaved({"ours": lambda: m.simulate()["u"], "theirs": lambda: solve(y0)},
                          REPEATS if n < 100_000 else max(3, REPEATS // 3))
        (ours, ours_min), (theirs, theirs_min) = out["ours"], out["theirs"]
        compile_ = load + timings["trace"] + timings["xla compile"]
        print(f"| {n:,} | {1e3 * ours:.1f} ({1e3 * ours_min:.1f}) ms | {1e3 * theirs:.1f} "
              f"({1e3 * theirs_min:.1f}) ms | {ours / theirs:.2f} ({ours_min / theirs_min:.2f}) | "
              f"{compile_:.1f} s | {error:.1e} |", flush=True)


SCALING_MODELS = {"heat": (HEAT, {}), "fisher": (REACTION_DIFFUSION, {"tspan": (0.0, 2.0),
                                                                      "saveat": 2})}


def scaling_one(model: str, n: int, repeats: int) -> dict:
    """One point of the stiff scaling, in this (fresh) process: solve time, the
    compiled solve's buffers and the peak RSS."""
    import resource

    text, options = SCALING_MODELS[model]
    m = symflow.loads(text.format(n=n))
    timings: dict = {}
    sol = m.simulate(timings=timings, **options)
    s = m.settings
    t0, t1 = options.get("tspan", s.tspan)
    ts = m.runner.save_times(t0, t1, options.get("saveat", s.saveat))
    p = m.complete_params(None)
    config = m.runner.ode_config(ts, p, {}, solver=None, rtol=None, atol=None, dt=None,
                           max_steps=None, adjoint="checkpoint")
    memory = m.runner.simulator.packed_fn(config).lower(p, {}, ts).compile().memory_analysis()
    solve = median_time(lambda: m.simulate(**options)["u"], repeats=repeats)
    return {"n": n, "solve": solve, "compile": timings["trace"] + timings["xla compile"],
            "temp": memory.temp_size_in_bytes, "output": memory.output_size_in_bytes,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "bandwidth": config.bandwidth, "finite": bool(np.all(np.isfinite(sol["u"])))}


def bench_scaling():
    import json
    import subprocess

    print(f"\n## stiff scaling, Kvaerno5 with the banded solve, median of {REPEATS} "
          "(each N in a fresh process)")
    print("| model | N | solve | per point | XLA temporaries | output | peak RSS | compile |")
    print("|---|---|---|---|---|---|---|---|")
    for model in SCALING_MODELS:
        for n in (1_000, 10_000, 100_000):
            reps = REPEATS if n < 100_000 else max(3, REPEATS // 3)
            out = subprocess.run(
                [sys.executable, __file__, "_scaling_one", model, str(n), str(reps)],
                capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            assert r["finite"] and r["bandwidth"] == 1
            print(f"| {model} | {n:,} | {1e3 * r['solve']:.1f} ms | "
                  f"{1e9 * r['solve'] / n:.0f} ns | {r['temp'] / 2**20:.2f} MiB | "
                  f"{r['output'] / 2**20:.2f} MiB | {r['rss'] / 2**20:.0f} MiB | "
                  f"{r['compile']:.1f} s |", flush=True)


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
    print("|---|---|---|---|---|---|")
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


def brusselator_handwritten(n: int):
    """The Brusselator of examples/brusselator_2d.sf by hand: periodic 5-point Laplacian."""
    h = 1.0 / n
    x = jnp.arange(n) * h
    xx, yy = jnp.meshgrid(x, x, indexing="ij")
    pulse = ((xx - 0.3) ** 2 + (yy - 0.6) ** 2 <= 0.01).ravel()

    def lap(a):
        return (jnp.roll(a, 1, 0) + jnp.roll(a, -1, 0) + jnp.roll(a, 1, 1) + jnp.roll(a, -1, 1)
                - 4 * a) / h**2

    def rhs(t, y, p):
        u, v = y[:n * n], y[n * n:]
        lu, lv = lap(u.reshape(n, n)).ravel(), lap(v.reshape(n, n)).ravel()
        f = jnp.where(pulse & (t >= 1.1), 5.0, 0.0)
        du = p["B"] + u**2 * v - (p["A"] + 1) * u + p["alpha"] * lu + f
        dv = p["A"] * u - u**2 * v + p["alpha"] * lv
        return jnp.concatenate([du, dv])

    y0 = jnp.concatenate([(22 * (yy * (1 - yy)) ** 1.5).ravel(),
                          (27 * (xx * (1 - xx)) ** 1.5).ravel()])
    return rhs, y0


def bench_brusselator():
    text = pathlib.Path(__file__).resolve().parents[1].joinpath(
        "examples/brusselator_2d.sf").read_text()
    grid = lambda n: text.replace("points = 32", f"points = {n}")  # noqa: E731
    print("\n## 2-D Brusselator: compile time against grid size (Tsit5, t in [0, 1e-4]); "
          "after a warm-up compile at 16x16, the sizes alternate, 3 rounds (a new span each "
          "round forces a new compile)")
    print("| grid | text -> callable | trace of the solve (rounds) | XLA compile (rounds) |")
    print("|---|---|---|---|---|---|")
    loads, models = {}, {}
    for n in (16, 32, 512):
        start = time.perf_counter()
        models[n] = symflow.loads(grid(n))
        loads[n] = time.perf_counter() - start
    models[16].simulate(tspan=(0.0, 1e-4), saveat=2, solver="tsit5")
    rounds: dict = {32: [], 512: []}
    for k in range(3):
        for n in (32, 512):
            timings: dict = {}
            models[n].simulate(timings=timings, tspan=(0.0, 1e-4 * (1 + 1e-3 * k)), saveat=2,
                               solver="tsit5")
            rounds[n].append((timings["trace"], timings["xla compile"]))
    for n in (32, 512):
        print(f"| {n}x{n} | {loads[n]:.2f} s | "
              + ", ".join(f"{a:.2f}" for a, _ in rounds[n]) + " s | "
              + ", ".join(f"{b:.2f}" for _, b in rounds[n]) + " s |")
    ratio = [b / a for (_, a), (_, b) in zip(rounds[32], rounds[512])]
    print("XLA compile 512x512 / 32x32 per round: " + ", ".join(f"{r:.2f}" for r in ratio),
          flush=True)

    print("\n## 2-D Brusselator 128x128: generated vs hand-written")
    n = 128
    m = symflow.loads(grid(n))
    rhs, y0 = brusselator_handwritten(n)
    p = m.params
    y = m.runner.simulator.pack(m.initial_values(p))
    assert np.allclose(np.asarray(y), np.asarray(y0))
    ours, theirs = jax.jit(m.generated.rhs), jax.jit(rhs)
    for t in (0.0, 2.0):
        assert np.allclose(np.asarray(ours(t, y, p)), np.asarray(theirs(t, y, p)), atol=1e-8)
    a = median_time(lambda: ours(2.0, y, p), repeats=200)
    b = median_time(lambda: theirs(2.0, y, p), repeats=200)
    print(f"right-hand side: symflow {1e6 * a:.0f} us, hand-written {1e6 * b:.0f} us, "
          f"ratio {a / b:.2f}")

    @jax.jit
    def solve(y0, p):
        return diffrax.diffeqsolve(
            diffrax.ODETerm(rhs), diffrax.Tsit5(), t0=0.0, t1=0.02, dt0=None, y0=y0, args=p,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8),
            max_steps=100_000).ys[-1]

    run = lambda: m.simulate(tspan=(0.0, 0.02), saveat=2, solver="tsit5")["u"]  # noqa: E731
    jax.block_until_ready(run())
    jax.block_until_ready(solve(y0, p))
    a, b = median_time(run, repeats=5), median_time(lambda: solve(y0, p), repeats=5)
    diff = float(jnp.max(jnp.abs(run()[-1] - solve(y0, p)[:n * n])))
    print(f"Tsit5 solve t in [0, 0.02]: symflow {1e3 * a:.0f} ms, hand-written "
          f"{1e3 * b:.0f} ms, ratio {a / b:.2f} (max difference {diff:.1e})")

    print("\n## 2-D Brusselator 32x32, t in [0, 1.5]: implicit Newton-Krylov vs explicit")
    m = symflow.loads(text)
    timings = {}
    sol = m.simulate(tspan=(0.0, 1.5), saveat=2, timings=timings)
    a = median_time(lambda: m.simulate(tspan=(0.0, 1.5), saveat=2)["u"], repeats=3)
    ref_run = lambda: m.simulate(tspan=(0.0, 1.5), saveat=2, solver="tsit5", rtol=1e-9,  # noqa
                                 atol=1e-11, max_steps=10**6)
    ref = ref_run()
    b = median_time(lambda: ref_run()["u"], repeats=3)
    err = max(float(jnp.max(jnp.abs(sol[k][-1] - ref[k][-1]))) for k in "uv")
    print(f"Kvaerno5 + GMRES (rtol 1e-6): {1e3 * a:.0f} ms (compile "
          f"{timings['trace'] + timings['xla compile']:.1f} s); Tsit5 rtol 1e-9: "
          f"{1e3 * b:.0f} ms; max difference {err:.1e}")


def bench_krylov():
    """GMRES on the Newton matrices of the 32x32 Brusselator implicit solve: the ADI
    preconditioner with the line solves factored once per matrix (Thomas) against
    fresh gtsv solves at every application; iterations and time, interleaved."""
    import lineax as lx

    from symflow.solve.linear import adi_preconditioner, fft_block_preconditioner

    text = (pathlib.Path(__file__).resolve().parents[1]
            / "examples/brusselator_2d.sf").read_text()
    m = symflow.loads(text)
    shape, fields = m.runner.grid.shape, m.runner.grid.fields
    p = m.complete_params({})
    y0 = m.runner.simulator.pack(m.initial_values(p))
    b = jax.random.normal(jax.random.key(0), y0.shape)
    print("\n## GMRES on the 32x32 Brusselator Newton matrix I - c J(y0) (rtol 1e-6, "
          "each cycle `restart` Arnoldi steps): ADI line solves factored once vs gtsv "
          "per application vs FFT + point blocks")
    print("| c = gamma h | preconditioner | restart | GMRES cycles "
          "| matvecs (at most cycles x restart) | solve (probe + factor + GMRES) |")
    print("|---|---|---|---|---|---|")
    for c in (1e-3, 1e-2, 1e-1):
        def residual(z, _=None, c=c):
            return z - c * m.generated.rhs(0.0, y0 + z, p)

        def make(precond, restart):
            @jax.jit
            def solve(b):
                op = lx.JacobianLinearOperator(residual, jnp.zeros_like(y0))
                gmres = lx.GMRES(rtol=1e-6, atol=1e-10, restart=restart, max_steps=300)
                sol = lx.linear_solve(op, b, gmres, throw=False, options={
                    "preconditioner": precond(op)})
                return sol.value, sol.stats["num_steps"], sol.result
            return solve

        contenders = {
            "ADI, gtsv each time": (lambda op: adi_preconditioner(op, shape, fields,
                                                                  factored=False), 30),
            "ADI, factored (Thomas)": (lambda op: adi_preconditioner(op, shape, fields), 30),
            "FFT + point blocks": (lambda op: fft_block_preconditioner(op, shape, fields), 10)}
        solvers = {name: make(*contender) for name, contender in contenders.items()}
        steps = {name: int(fn(b)[1]) for name, fn in solvers.items()}
        first = next(iter(solvers.values()))(b)[0]
        for name, fn in solvers.items():  # the same solution, to GMRES's tolerance
            assert float(jnp.max(jnp.abs(fn(b)[0] - first))) < 1e-6 * float(
                jnp.max(jnp.abs(first))), name
        times = interleaved({name: (lambda fn=fn: fn(b)[0]) for name, fn in solvers.items()},
                            REPEATS)
        for name in solvers:
            restart = contenders[name][1]
            print(f"| {c:g} | {name} | {restart} | {steps[name]} | {steps[name] * restart} "
                  f"| {1e3 * times[name][0]:.1f} ms "
                  f"(min {1e3 * times[name][1]:.1f}) |")


    print("\n## 32x32 Brusselator, t in [0, 1.5], rtol 1e-6, atol 1e-8: the whole solve")
    models = {"Kvaerno5, GMRES + FFT/point blocks": symflow.loads(text),
              "Kvaerno5, GMRES + ADI (factored)": symflow.loads(text),
              "Tsit5": symflow.loads(text)}
    adi = models["Kvaerno5, GMRES + ADI (factored)"]
    # no periodic axes declared: the ADI preconditioner (a benchmark's override of the policy)
    adi.runner._solve_grid = dataclasses.replace(adi.runner.grid, periodic=(), boundaries=())
    solver = {name: "tsit5" if name == "Tsit5" else "kvaerno5" for name in models}
    run = {name: (lambda m=m, s=solver[name]: m.simulate(tspan=(0.0, 1.5), saveat=2,
                                                        solver=s, max_steps=10**6))
           for name, m in models.items()}
    ref = models["Tsit5"].simulate(tspan=(0.0, 1.5), saveat=2, solver="tsit5", rtol=1e-9,
                                   atol=1e-11, max_steps=10**6)
    errors = {name: max(float(jnp.max(jnp.abs(fn()[k][-1] - ref[k][-1]))) for k in "uv")
              for name, fn in run.items()}
    times = interleaved({name: (lambda fn=fn: fn()["u"]) for name, fn in run.items()},
                        max(3, REPEATS // 3))
    for name in run:
        print(f"{name}: {1e3 * times[name][0]:.0f} ms (min {1e3 * times[name][1]:.0f}); "
              f"max error vs Tsit5 rtol 1e-9: {errors[name]:.1e}")


# ------------------------------------------------------------ several fields in 1-D

BRUSSELATOR_1D = """model Brusselator1D
  parameters
    A = 1.0
    B = 3.0
    alpha = 0.02
  domain
    x in [0, 1], points = {n}{periodic}
  variables
    u(x) = 1 + sin(2*pi*x)
    v(x) = 3 + 0*x
  equations
    der(u) = A + u^2*v - (B + 1)*u + alpha*diff(u, x, 2)
    der(v) = B*u - u^2*v + alpha*diff(v, x, 2)
{boundary}
  simulate
    tspan = [0, 1]
    solver = kvaerno5
    rtol = 1e-6
    atol = 1e-9
    saveat = 2
end
"""
BRUSSELATOR_1D_ENDS = """  boundary
    diff(u, x) = 0 at x = 0
    diff(u, x) = 0 at x = 1
    diff(v, x) = 0 at x = 0
    diff(v, x) = 0 at x = 1"""


def brusselator_1d(n: int, periodic: bool = False):
    return symflow.loads(BRUSSELATOR_1D.format(
        n=n, periodic=", periodic" if periodic else "",
        boundary="" if periodic else BRUSSELATOR_1D_ENDS))


def multifield_one(n: int, periodic: bool, repeats: int) -> dict:
    """One point of the 1-D Brusselator scaling, in this (fresh) process."""
    import resource

    m = brusselator_1d(n, periodic)
    timings: dict = {}
    sol = m.simulate(timings=timings)
    ts = m.runner.save_times(0.0, 1.0, 2)
    p = m.complete_params(None)
    config = m.runner.ode_config(ts, p, {}, solver=None, rtol=None, atol=None, dt=None,
                           max_steps=None, adjoint="checkpoint")
    memory = m.runner.simulator.packed_fn(config).lower(p, {}, ts).compile().memory_analysis()
    times = interleaved({"solve": lambda: m.simulate()["u"]}, repeats)["solve"]
    return {"n": n, "median": times[0], "min": times[1],
            "compile": timings["trace"] + timings["xla compile"],
            "temp": memory.temp_size_in_bytes, "output": memory.output_size_in_bytes,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "band": repr(config.bandwidth), "finite": bool(np.all(np.isfinite(sol["u"])))}


def brusselator_1d_numpy(n: int):
    """The same discretization in NumPy (Neumann ends by ghost points) and the
    sparsity of its Jacobian, for scipy."""
    import scipy.sparse

    h = 1.0 / (n - 1)
    a, b, alpha = 1.0, 3.0, 0.02

    def lap(w):
        out = np.empty_like(w)
        out[1:-1] = w[2:] - 2 * w[1:-1] + w[:-2]
        out[0], out[-1] = 2 * (w[1] - w[0]), 2 * (w[-2] - w[-1])
        return out / h**2

    def f(t, y):
        u, v = y[:n], y[n:]
        return np.concatenate([a + u * u * v - (b + 1) * u + alpha * lap(u),
                               b * u - u * u * v + alpha * lap(v)])

    tri = scipy.sparse.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1])
    eye = scipy.sparse.eye(n)
    sparsity = scipy.sparse.bmat([[tri, eye], [eye, tri]], format="csc")
    x = np.linspace(0, 1, n)
    return f, sparsity, np.concatenate([1 + np.sin(2 * np.pi * x), np.full(n, 3.0)])


def bench_multifield():
    multifield_scaling()
    multifield_scipy()
    multifield_periodic()


def multifield_scaling():
    import json
    import subprocess

    print(f"\n## 1-D Brusselator (two fields, Neumann ends), Kvaerno5, t in [0, 1], rtol 1e-6, "
          f"atol 1e-9: the interleaved banded solve, median (min) of {REPEATS} (3 at 10^5), "
          "each N in a fresh process")
    print("| N per field | states | band | solve median (min) | per state | XLA temporaries "
          "| output | peak RSS | compile |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (1_000, 10_000, 100_000):
        reps = REPEATS if n < 100_000 else 3
        out = subprocess.run(
            [sys.executable, __file__, "_multifield_one", str(n), "0", str(reps)],
            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        assert r["finite"]
        print(f"| {n:,} | {2 * n:,} | {r['band']} | {1e3 * r['median']:.0f} ms "
              f"({1e3 * r['min']:.0f}) | {1e9 * r['median'] / (2 * n):.0f} ns | "
              f"{r['temp'] / 2**20:.2f} MiB | {r['output'] / 2**20:.2f} MiB | "
              f"{r['rss'] / 2**20:.0f} MiB | {r['compile']:.1f} s |", flush=True)



def multifield_scipy(n: int = 10_000):
    import scipy.integrate

    print(f"\n## 1-D Brusselator, N = {n:,} per field: symflow Kvaerno5 (interleaved band) "
          "against scipy BDF (sparse finite-difference Jacobian from `jac_sparsity`), "
          "rtol 1e-6, atol 1e-9, interleaved, median (min) of 3")
    m = brusselator_1d(n)
    f, sparsity, y0 = brusselator_1d_numpy(n)
    y = np.asarray(m.runner.simulator.pack(m.initial))
    assert np.allclose(y, y0) and np.allclose(np.asarray(m.generated.rhs(0.0, y, m.params)),
                                              f(0.0, y0), rtol=1e-10, atol=1e-6)
    scipy_run = lambda: scipy.integrate.solve_ivp(  # noqa: E731
        f, (0.0, 1.0), y0, method="BDF", rtol=1e-6, atol=1e-9, jac_sparsity=sparsity)
    ref = scipy.integrate.solve_ivp(f, (0.0, 1.0), y0, method="BDF", rtol=1e-10, atol=1e-12,
                                    jac_sparsity=sparsity)
    times = interleaved({"symflow": lambda: m.simulate()["u"],
                         "scipy": lambda: scipy_run().y}, 3)
    ours, theirs = m.simulate(), scipy_run()
    ours_y = np.concatenate([ours["u"][-1], ours["v"][-1]])
    for name, yy in (("symflow Kvaerno5", ours_y), ("scipy BDF", theirs.y[:, -1])):
        t = times["symflow" if name.startswith("symflow") else "scipy"]
        print(f"{name}: {1e3 * t[0]:.0f} ms (min {1e3 * t[1]:.0f}); max error vs scipy BDF "
              f"rtol 1e-10: {np.max(np.abs(yy - ref.y[:, -1])):.1e}"
              + (f"; {theirs.nfev} rhs calls, {theirs.njev} Jacobians, {theirs.nlu} LU"
                 if name.startswith("scipy") else ""), flush=True)



def multifield_periodic(sizes=(1_000, 10_000)):
    print("\n## periodic 1-D Brusselator: cyclic band + Woodbury against GMRES with the FFT "
          "preconditioner (_krylov.py), Kvaerno5, t in [0, 1], interleaved, median (min) of 3")
    for n in sizes:
        band, krylov = brusselator_1d(n, True), brusselator_1d(n, True)
        krylov.runner._band = False  # no band: the matrix-free path on the 1-D grid
        krylov.runner._solve_grid = GridKrylov((n,), 2, (True,))
        runs = {"cyclic band": band, "GMRES + FFT": krylov}
        sols = {k: mm.simulate() for k, mm in runs.items()}
        times = interleaved({k: (lambda mm=mm: mm.simulate()["u"]) for k, mm in runs.items()}, 3)
        diff = max(float(np.max(np.abs(sols["cyclic band"][k][-1] - sols["GMRES + FFT"][k][-1])))
                   for k in "uv")
        print(f"N = {n:,}: " + "; ".join(f"{k} {1e3 * t[0]:.0f} ms (min {1e3 * t[1]:.0f})"
                                         for k, t in times.items())
              + f"; max difference {diff:.1e}", flush=True)


BRUSSELATOR_BC = """model Brusselator2D
  parameters
    alpha = 10.0
    A = 3.4
    B = 1.0
  domain
    x in [0, 1], points = {n}
    y in [0, 1], points = {n}
  variables
    u(x, y) = 1 + 22*(y*(1 - y))^1.5
    v(x, y) = 3.4 + 27*(x*(1 - x))^1.5
  equations
    der(u) = B + u^2*v - (A + 1)*u + alpha*laplacian(u)
    der(v) = A*u - u^2*v + alpha*laplacian(v)
  boundary
{boundary}end
"""


def brusselator_bc(kind: str, n: int) -> str:
    """The Brusselator of `examples/brusselator_2d.sf` on the closed unit square:
    `dirichlet` holds both fields at the steady state (u, v) = (B, A/B) on every
    side; `neumann`: no flux; `mixed`: Dirichlet in x, no flux in y."""
    lines = []
    for field, value in (("u", "1"), ("v", "3.4")):
        for dim in "xy":
            for at in (0, 1):
                dirichlet = kind == "dirichlet" or (kind == "mixed" and dim == "x")
                lines.append(f"    {field} = {value} at {dim} = {at}" if dirichlet
                             else f"    diff({field}, {dim}) = 0 at {dim} = {at}")
    return BRUSSELATOR_BC.format(n=n, boundary="\n".join(lines) + "\n")


def bench_krylov_bc(grids=(32, 128), kinds=("dirichlet", "neumann")):
    """The Brusselator on a closed square (Dirichlet; no-flux Neumann), 32x32 and
    128x128: GMRES on its Newton matrices with the factored ADI preconditioner
    against the DST/DCT one (`_spectral_preconditioner.py`), and the whole
    Kvaerno5 solve with each against Tsit5 at the same tolerances."""
    import lineax as lx

    from symflow.solve.linear import adi_preconditioner, spectral_preconditioner

    print("\n## GMRES on I - c J(y0), Brusselator on the closed unit square (rtol 1e-6, "
          "atol 1e-10, at most 300 cycles): ADI (restart 30) vs DST/DCT + point blocks "
          "(restart 10)")
    print("| grid | boundary | c = gamma h | preconditioner | GMRES cycles | matvecs "
          "(at most cycles x restart) | solve (probe + set-up + GMRES) |")
    print("|---|---|---|---|---|---|---|")
    for n in grids:
        for kind in kinds:
            m = symflow.loads(brusselator_bc(kind, n))
            grid = m.runner.grid
            shape, fields, boundaries = grid.shape, grid.fields, grid.boundaries
            p = m.complete_params({})
            y0 = m.runner.simulator.pack(m.initial_values(p))
            b = jax.random.normal(jax.random.key(0), y0.shape)
            # c = 0.1 at 128x128: minutes per contender (hundreds of stagnating cycles)
            for c in (1e-3, 1e-2, 1e-1) if n == 32 else (1e-3, 1e-2):
                def residual(z, _=None, c=c):
                    return z - c * m.generated.rhs(0.0, y0 + z, p)

                def make(precond, restart):
                    @jax.jit
                    def solve(b):
                        op = lx.JacobianLinearOperator(residual, jnp.zeros_like(y0))
                        gmres = lx.GMRES(rtol=1e-6, atol=1e-10, restart=restart,
                                         max_steps=300)
                        sol = lx.linear_solve(op, b, gmres, throw=False, options={
                            "preconditioner": precond(op)})
                        return sol.value, sol.stats["num_steps"], sol.result
                    return solve

                spectral = lambda op: spectral_preconditioner(  # noqa: E731
                    op, shape, fields, boundaries)
                contenders = {
                    "ADI, factored": (lambda op: adi_preconditioner(op, shape, fields), 30),
                    "DST/DCT + point blocks": (spectral, 10)}
                if n == 32:
                    contenders["DST/DCT + point blocks, restart 30"] = (spectral, 30)
                solvers = {name: make(*cont) for name, cont in contenders.items()}
                out = {name: fn(b) for name, fn in solvers.items()}
                converged = [v for v, _, r in out.values() if r == lx.RESULTS.successful]
                for value in converged:  # the same solution, to GMRES's tolerance
                    assert float(jnp.max(jnp.abs(value - converged[0]))) < 1e-3 * float(
                        jnp.max(jnp.abs(converged[0])))
                times = interleaved({name: (lambda fn=fn: fn(b)[0])
                                     for name, fn in solvers.items()}, max(3, REPEATS // 3))
                for name, (_, steps, result) in out.items():
                    restart = contenders[name][1]
                    note = "" if result == lx.RESULTS.successful else " (not converged)"
                    print(f"| {n}x{n} | {kind} | {c:g} | {name} | {int(steps)}{note} "
                          f"| {int(steps) * restart} | {1e3 * times[name][0]:.1f} ms "
                          f"(min {1e3 * times[name][1]:.1f}) |")



def bench_krylov_bc_solve(grids=((32, 1.5), (128, 0.05))):
    """The whole Kvaerno5 solve of the closed-square Brusselator with the DST/DCT and
    the ADI preconditioner against Tsit5 at the same tolerances."""
    print("\n## Brusselator on the closed square, the whole solve at rtol 1e-6, atol 1e-8 "
          "(error: max over u, v at t1 against Tsit5 at rtol 1e-10)")
    print("| grid | boundary | t1 | solver | time | max error |")
    print("|---|---|---|---|---|---|")
    for n, t1 in grids:
        for kind in ("dirichlet", "neumann"):
            text = brusselator_bc(kind, n)
            models = {"Kvaerno5, GMRES + DST/DCT (ADI fallback)": symflow.loads(text),
                      "Kvaerno5, GMRES + ADI": symflow.loads(text),
                      "Tsit5": symflow.loads(text)}
            adi = models["Kvaerno5, GMRES + ADI"]
            # no boundary kinds: the ADI preconditioner (a benchmark's override of the policy)
            adi.runner._solve_grid = dataclasses.replace(adi.runner.grid, boundaries=())
            run = {name: (lambda m=m, s="tsit5" if name == "Tsit5" else "kvaerno5":
                          m.simulate(tspan=(0.0, t1), saveat=2, solver=s, rtol=1e-6,
                                     atol=1e-8, max_steps=10**6))
                   for name, m in models.items()}
            ref = models["Tsit5"].simulate(tspan=(0.0, t1), saveat=2, solver="tsit5",
                                           rtol=1e-10, atol=1e-12, max_steps=10**6)
            errors = {name: max(float(jnp.max(jnp.abs(fn()[k][-1] - ref[k][-1])))
                                for k in "uv") for name, fn in run.items()}
            times = interleaved({name: (lambda fn=fn: fn()["u"]) for name, fn in run.items()},
                                3 if n == 32 else 1)
            for name in run:
                print(f"| {n}x{n} | {kind} | {t1:g} | {name} | {1e3 * times[name][0]:.0f} ms "
                      f"(min {1e3 * times[name][1]:.0f}) | {errors[name]:.1e} |")


PARTS = {"heat": bench_heat, "scaling": bench_scaling, "rhs": bench_rhs,
         "compile": bench_compile, "scipy": bench_scipy, "dense": bench_dense,
         "brusselator": bench_brusselator, "krylov": bench_krylov,
         "multifield": bench_multifield,
         "krylov_bc": bench_krylov_bc, "krylov_bc_solve": bench_krylov_bc_solve}

if __name__ == "__main__":
    import json

    args = sys.argv[1:]
    if args[:1] == ["_scaling_one"]:  # one point of `scaling`, in a fresh process
        print(json.dumps(scaling_one(args[1], int(args[2]), int(args[3]))))
        sys.exit()
    if args[:1] == ["_multifield_one"]:  # one point of `multifield`, in a fresh process
        print(json.dumps(multifield_one(int(args[1]), bool(int(args[2])), int(args[3]))))
        sys.exit()
    if "--repeats" in args:
        i = args.index("--repeats")
        REPEATS = int(args[i + 1])
        del args[i:i + 2]
    for name in args or PARTS:
        PARTS[name]()
