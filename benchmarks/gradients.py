"""Gradient and fitting benchmarks (results in benchmarks/README.md).

1. `cost`: the time of one gradient relative to one forward solve, per adjoint,
   on Lotka–Volterra (Tsit5, rtol 1e-6, atol 1e-9, [0, 10], 101 saves); the loss
   is the sum of squares of both states. Compile and run time apart; run time is
   the minimum CPU time over interleaved repeats. `forward` is one `jax.jacfwd`
   (4 tangents). The same problem hand-written in diffrax is timed beside it.
   `stiff`: the same on Robertson (examples/robertson.sf with its own settings:
   Kvaerno5, rtol 1e-8, atol 1e-10, [0, 1e5], 9 saves; the loss is
   sum(y1) + 1e4*sum(y2)) for `checkpoint` and `backsolve`, which with an
   implicit solver is the interpolating continuous adjoint
   (solve/_interpolating.py); fewer repeats, as one solve takes longer.
2. `memory`: memory of the gradient of a long solve (Lotka–Volterra on
   [0, 1000] with Tsit5 at rtol 1e-8, atol 1e-10, about 10^5 steps, max_steps
   2*10^5) for `checkpoint`, diffrax's `RecursiveCheckpointAdjoint`,
   `backsolve` (diffrax's O(1) `BacksolveAdjoint`, as Tsit5 is explicit) and
   `interpolating` (the continuous adjoint along the forward interpolant, the
   path `backsolve` takes with an implicit solver), each in a fresh process: XLA's
   temporary-buffer estimate (`memory_analysis()`) and the measured rise of peak
   resident memory during the run.
3. `fit`: the time to fit Lotka–Volterra's four parameters to
   `examples/lotka_volterra_data.csv` from a fresh Python process, with symflow
   (`Model.fit`, Levenberg–Marquardt), by hand with diffrax + optimistix (the
   same problem and solver settings), and with scipy.optimize.least_squares over
   scipy.integrate.solve_ivp (RK45, same tolerances).

Usage: `python3 benchmarks/gradients.py [cost|stiff|memory|fit ...]` from the
repository root. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "lotka_volterra_data.csv"
START = ROOT / "examples" / "lotka_volterra_start.sf"


def _min_cpu_time(fn, repeats: int = 20) -> float:
    """Minimum over repeats of the process CPU time of one call. On the shared
    machine (other jobs running) the minimum of CPU time is far steadier than the
    median of wall time; the JAX programs here are single-threaded on CPU."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def cost(rounds: int = 5) -> list[dict]:
    """Forward solve and one gradient per adjoint, interleaved over `rounds`
    rounds (the minimum is kept), for symflow and the same problem by hand."""
    sys.path.insert(0, str(ROOT))
    import diffrax
    import jax
    import jax.numpy as jnp

    import symflow

    m = symflow.load(ROOT / "examples" / "lotka_volterra.sf")
    p = m.params

    def loss(p, adjoint="checkpoint"):
        sol = m.simulate(p, adjoint=adjoint)
        return jnp.sum(sol["x"] ** 2 + sol["y"] ** 2)

    # the same problem written by hand with diffrax (parameters as an array)
    ts = jnp.linspace(0.0, 10.0, 101)

    def rhs(t, u, q):
        a, b, c, e = q
        return jnp.stack([a * u[0] - b * u[0] * u[1], e * u[0] * u[1] - c * u[1]])

    def hand(q, adjoint):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(rhs), diffrax.Tsit5(), 0.0, 10.0, None, jnp.array([1.0, 1.0]),
            args=q, saveat=diffrax.SaveAt(ts=ts), adjoint=adjoint, max_steps=100_000,
            stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9), throw=False)
        return jnp.sum(sol.ys ** 2)

    q = jnp.array([1.5, 1.0, 3.0, 1.0])
    recursive = diffrax.RecursiveCheckpointAdjoint()
    programs = {
        "forward solve": (jax.jit(loss), p, "forward solve"),
        "checkpoint": (jax.jit(jax.grad(loss)), p, "forward solve"),
        "diffrax RecursiveCheckpointAdjoint (before)": (
            jax.jit(jax.grad(lambda p: loss(p, recursive))), p, "forward solve"),
        "backsolve": (jax.jit(jax.grad(lambda p: loss(p, "backsolve"))), p, "forward solve"),
        "direct": (jax.jit(jax.grad(lambda p: loss(p, "direct"))), p, "forward solve"),
        "forward (jacfwd, 4 tangents)": (jax.jit(jax.jacfwd(lambda p: loss(p, "forward"))), p,
                                         "forward solve"),
        "hand-written forward solve": (jax.jit(lambda q: hand(q, recursive)), q,
                                       "hand-written forward solve"),
        "hand-written gradient, RecursiveCheckpointAdjoint": (
            jax.jit(jax.grad(lambda q: hand(q, recursive))), q, "hand-written forward solve"),
    }
    compile_s, run_s = {}, {k: float("inf") for k in programs}
    for name, (fn, arg, _) in programs.items():
        start = time.perf_counter()
        jax.block_until_ready(fn(arg))
        compile_s[name] = time.perf_counter() - start
    for _ in range(rounds):
        for name, (fn, arg, _) in programs.items():
            run_s[name] = min(run_s[name],
                              _min_cpu_time(lambda: jax.block_until_ready(fn(arg))))
    return [{"what": name, "compile_s": compile_s[name], "run_ms": 1e3 * run_s[name],
             "ratio": run_s[name] / run_s[base]}
            for name, (_, _, base) in programs.items()]


def stiff(rounds: int = 5, repeats: int = 10) -> list[dict]:
    """Robertson: forward solve, `checkpoint` and `backsolve` gradients,
    interleaved over `rounds` rounds of `repeats` calls (the minimum CPU time is
    kept). The gradients are printed too, so that the two adjoints can be seen
    to agree (they differ by the forward solve's discretisation error)."""
    sys.path.insert(0, str(ROOT))
    import jax
    import jax.numpy as jnp

    import symflow

    jax.config.update("jax_enable_x64", True)
    m = symflow.load(ROOT / "examples" / "robertson.sf")
    p = m.params

    def loss(p, adjoint="checkpoint"):
        sol = m.simulate(p, adjoint=adjoint)
        return jnp.sum(sol["y1"]) + 1e4 * jnp.sum(sol["y2"])

    programs = {
        "forward solve": jax.jit(loss),
        "checkpoint": jax.jit(jax.grad(loss)),
        "backsolve (interpolating adjoint)": jax.jit(jax.grad(lambda p: loss(p, "backsolve"))),
    }
    compile_s, run_s, values = {}, {k: float("inf") for k in programs}, {}
    for name, fn in programs.items():
        start = time.perf_counter()
        values[name] = jax.block_until_ready(fn(p))
        compile_s[name] = time.perf_counter() - start
    for _ in range(rounds):
        for name, fn in programs.items():
            run_s[name] = min(run_s[name], _min_cpu_time(
                lambda: jax.block_until_ready(fn(p)), repeats=repeats))
    rows = []
    for name in programs:
        row = {"what": name, "compile_s": compile_s[name], "run_ms": 1e3 * run_s[name],
               "ratio": run_s[name] / run_s["forward solve"]}
        if name != "forward solve":
            row["grad"] = {k: float(v) for k, v in values[name].items()}
        rows.append(row)
    return rows


_MEMORY_RUN = """
import json, sys, time, resource
sys.path.insert(0, {root!r})
import diffrax, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
import symflow
m = symflow.load({lv!r})
adjoint = {adjoint!r}
adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint == "recursive" else adjoint
def loss(p):
    sol = m.simulate(p, adjoint=adjoint, tspan=(0.0, {horizon!r}), saveat=2, solver="tsit5",
                     rtol=1e-8, atol=1e-10, max_steps={steps!r})
    return jnp.sum(sol["x"][-1] ** 2)
compiled = jax.jit(jax.grad(loss)).lower(m.params).compile()
mem = compiled.memory_analysis()
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
before = rss()
with open("/proc/self/clear_refs", "w") as f:   # reset the peak to the current RSS
    f.write("5")
start = time.perf_counter()
g = jax.block_until_ready(compiled(m.params))
run = time.perf_counter() - start
print(json.dumps({{"temp_MiB": mem.temp_size_in_bytes / 2**20,
                   "peak_rss_increase_MiB": (peak() - before) / 2**20,
                   "run_s": run, "dloss_dalpha": float(g["alpha"])}}))
"""


def memory(horizon: float = 1000.0, steps: int = 200_000) -> list[dict]:
    """Each adjoint in a fresh process: XLA's temporary-buffer size of the compiled
    gradient (`memory_analysis()`), and the measured increase of the process's
    peak resident memory while the gradient runs (the peak is reset after
    compiling by writing 5 to /proc/self/clear_refs; Linux only)."""
    rows = []
    for adjoint in ("checkpoint", "recursive", "backsolve", "interpolating"):
        code = _MEMORY_RUN.format(root=str(ROOT), lv=str(ROOT / "examples" / "lotka_volterra.sf"),
                                  adjoint=adjoint, horizon=horizon, steps=steps)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin",
                                  "HOME": str(pathlib.Path.home())}, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"adjoint": adjoint, "max_steps": steps, **row})
    return rows


_SYMFLOW_FIT = f"""
import time; t0 = time.perf_counter()
import sys; sys.path.insert(0, {str(ROOT)!r})
import symflow
m = symflow.load({str(START)!r})
r = m.fit({str(DATA)!r}, scale="relative")
import json; print(json.dumps({{"s": time.perf_counter() - t0, "values": r.values}}))
"""

_DIFFRAX_FIT = f"""
import time; t0 = time.perf_counter()
import jax; jax.config.update("jax_enable_x64", True)
import diffrax, jax.numpy as jnp, numpy as np, optimistix as optx
d = np.genfromtxt({str(DATA)!r}, delimiter=",", skip_header=1, names=True)
t, x, y = d["t"], d["x"], d["y"]
ok_x = np.isfinite(x)
def rhs(s, u, p):
    a, b, c, e = p
    return jnp.stack([a*u[0] - b*u[0]*u[1], e*u[0]*u[1] - c*u[1]])
def residuals(z, _):
    p = 10 * jax.nn.sigmoid(z)              # the same bounds [0, 10] as the model
    sol = diffrax.diffeqsolve(diffrax.ODETerm(rhs), diffrax.Tsit5(), 0.0, 10.0, None,
        jnp.array([1.0, 1.0]), args=p, saveat=diffrax.SaveAt(ts=jnp.asarray(t)),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
        adjoint=diffrax.ForwardMode(), max_steps=100000)
    return jnp.concatenate([(sol.ys[ok_x, 0] - x[ok_x]) / x[ok_x], (sol.ys[:, 1] - y) / y])
p0 = np.array([1.2, 0.8, 3.5, 1.2]); z0 = jnp.log(p0 / (10 - p0))
sol = optx.least_squares(residuals, optx.LevenbergMarquardt(rtol=1e-8, atol=1e-8), z0,
                         max_steps=200)
p = np.asarray(10 * jax.nn.sigmoid(sol.value))
import json; print(json.dumps({{"s": time.perf_counter() - t0,
       "values": dict(zip(["alpha","beta","gamma","delta"], map(float, p)))}}))
"""

_SCIPY_FIT = f"""
import time; t0 = time.perf_counter()
import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares
d = np.genfromtxt({str(DATA)!r}, delimiter=",", skip_header=1, names=True)
t, x, y = d["t"], d["x"], d["y"]
ok_x = np.isfinite(x)
def rhs(s, u, a, b, c, e):
    return [a*u[0] - b*u[0]*u[1], e*u[0]*u[1] - c*u[1]]
def residuals(p):
    sol = solve_ivp(rhs, (0, 10), [1.0, 1.0], t_eval=t, args=tuple(p), rtol=1e-6,
                    atol=1e-9)
    return np.concatenate([(sol.y[0, ok_x] - x[ok_x]) / x[ok_x], (sol.y[1] - y) / y])
r = least_squares(residuals, [1.2, 0.8, 3.5, 1.2], bounds=(0, 10), method="trf",
                  xtol=1e-10, ftol=1e-10)
import json; print(json.dumps({{"s": time.perf_counter() - t0,
       "values": dict(zip(["alpha","beta","gamma","delta"], map(float, r.x))),
       "nfev": int(r.nfev)}}))
"""


def fit(repeats: int = 3) -> list[dict]:
    rows = []
    for name, code in (("symflow fit", _SYMFLOW_FIT), ("diffrax + optimistix by hand",
                                                       _DIFFRAX_FIT),
                       ("scipy least_squares + solve_ivp", _SCIPY_FIT)):
        times, values = [], None
        for _ in range(repeats):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin",
                                      "HOME": str(pathlib.Path.home()),
                                      "SYMFLOW_CACHE": "/tmp/symflow-bench-cache"},
                                 check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            times.append(result["s"])
            values = result["values"]
        rows.append({"what": name, "median_s": statistics.median(times), "times": times,
                     "values": values})
    return rows


if __name__ == "__main__":
    which = sys.argv[1:] or ["cost", "stiff", "memory", "fit"]
    for name in which:
        print(f"== {name}")
        for row in {"cost": cost, "stiff": stiff, "memory": memory, "fit": fit}[name]():
            print(json.dumps(row))
