"""Gradient and fitting benchmarks (results in benchmarks/README.md).

1. `cost`: the time of one gradient relative to one forward solve, per adjoint,
   on Lotka–Volterra (Tsit5, rtol 1e-6, atol 1e-9, [0, 10], 101 saves); the loss
   is the sum of squares of both states. Compile and run time apart; run time is
   the median of repeats. `forward` is one `jax.jacfwd` (4 tangents).
2. `memory`: XLA's temporary memory for the gradient of a long solve
   (Lotka–Volterra on [0, 1000] with Tsit5 at rtol 1e-8, atol 1e-10, about 10^5
   steps, max_steps 2*10^5), from the compiled program's `memory_analysis()`,
   for `checkpoint` and `backsolve`.
3. `fit`: the time to fit Lotka–Volterra's four parameters to
   `examples/lotka_volterra_data.csv` from a fresh Python process, with symflow
   (`Model.fit`, Levenberg–Marquardt), by hand with diffrax + optimistix (the
   same problem and solver settings), and with scipy.optimize.least_squares over
   scipy.integrate.solve_ivp (RK45, same tolerances).

Usage: `python3 benchmarks/gradients.py [cost|memory|fit ...]` from the
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


def _median_time(fn, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cost() -> list[dict]:
    sys.path.insert(0, str(ROOT))
    import jax
    import jax.numpy as jnp

    import symflow

    m = symflow.load(ROOT / "examples" / "lotka_volterra.sf")
    p = m.params

    def loss(p, adjoint="checkpoint"):
        sol = m.simulate(p, adjoint=adjoint)
        return jnp.sum(sol["x"] ** 2 + sol["y"] ** 2)

    rows = []
    forward = jax.jit(loss)
    start = time.perf_counter()
    jax.block_until_ready(forward(p))
    compile_f = time.perf_counter() - start
    t_f = _median_time(lambda: jax.block_until_ready(forward(p)))
    rows.append({"what": "forward solve", "compile_s": compile_f, "run_s": t_f, "ratio": 1.0})
    for adjoint in ("checkpoint", "checkpoint4096", "backsolve", "direct", "forward"):
        if adjoint == "checkpoint4096":  # the checkpoint schedule is sized by max_steps
            fn = jax.jit(jax.grad(lambda p: jnp.sum(
                (lambda s: s["x"] ** 2 + s["y"] ** 2)(m.simulate(p, max_steps=4096)))))
        elif adjoint == "forward":
            fn = jax.jit(jax.jacfwd(lambda p: loss(p, "forward")))
        else:
            fn = jax.jit(jax.grad(lambda p, a=adjoint: loss(p, a)))
        start = time.perf_counter()
        jax.block_until_ready(fn(p))
        compile_g = time.perf_counter() - start
        t_g = _median_time(lambda: jax.block_until_ready(fn(p)))
        rows.append({"what": f"gradient, {adjoint}", "compile_s": compile_g, "run_s": t_g,
                     "ratio": t_g / t_f})
    return rows


def memory(horizon: float = 1000.0) -> list[dict]:
    sys.path.insert(0, str(ROOT))
    import jax
    import jax.numpy as jnp

    import symflow

    m = symflow.load(ROOT / "examples" / "lotka_volterra.sf")
    steps = 200_000
    rows = []
    for adjoint in ("checkpoint", "backsolve"):
        def loss(p, adjoint=adjoint):
            sol = m.simulate(p, adjoint=adjoint, tspan=(0.0, horizon), saveat=2,
                             solver="tsit5", rtol=1e-8, atol=1e-10, max_steps=steps)
            return jnp.sum(sol["x"][-1] ** 2)

        compiled = jax.jit(jax.grad(loss)).lower(m.params).compile()
        mem = compiled.memory_analysis()
        start = time.perf_counter()
        g = jax.block_until_ready(compiled(m.params))
        run = time.perf_counter() - start
        rows.append({"adjoint": adjoint, "max_steps": steps,
                     "temp_MiB": mem.temp_size_in_bytes / 2**20 if mem else None,
                     "run_s": run, "dloss_dalpha": float(g["alpha"])})
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
import json; print(json.dumps({{"s": time.perf_counter() - t0, "values": dict(zip(["alpha","beta","gamma","delta"],
       map(float, p)))}}))
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
import json; print(json.dumps({{"s": time.perf_counter() - t0, "values": dict(zip(["alpha","beta","gamma","delta"],
       map(float, r.x))), "nfev": int(r.nfev)}}))
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
    which = sys.argv[1:] or ["cost", "memory", "fit"]
    for name in which:
        print(f"== {name}")
        for row in {"cost": cost, "memory": memory, "fit": fit}[name]():
            print(json.dumps(row))
