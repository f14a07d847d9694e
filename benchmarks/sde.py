"""SDE ensemble benchmark: symflow vs hand-written diffrax + vmap vs a NumPy loop.

Two problems, Euler–Maruyama with a fixed step, the same Brownian path in symflow
and in the hand-written diffrax program (keys split from one seed): symflow's
default `diffrax.UnsafeBrownianPath` (one increment per step), and, in a second
row, a `VirtualBrownianTree` (tol = dt/2; what `save_noise=True` uses):

* geometric Brownian motion, 10^4 trajectories, dt = 0.01 on [0, 1], 11 save points;
* 2-D underdamped Langevin (examples/langevin.sf), 10^3 trajectories, dt = 0.01
  on [0, 4], 9 save points.

The NumPy baseline is the plain vectorized Euler–Maruyama loop over steps (all
trajectories at once, fresh Gaussian increments). symflow's time includes the
mean and standard deviation over the trajectories (computed in the same
program); its quantiles are computed when first read, and the column "with
quantiles" times a run that reads them (5 levels: a sort of every saved value
over the trajectories). The hand-written program returns the paths only.

Run: `python3 benchmarks/sde.py [--repeats 5]`. Prints a Markdown table of
compile time (first call minus a run) and the median run time of the repeats;
symflow's and diffrax's runs alternate (one of each per round), and the ratio
of the fastest runs and of the median process CPU times are printed beside the
ratio of the medians (on a shared machine those are less load-sensitive).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import symflow  # noqa: E402

if str(ROOT / "benchmarks") not in sys.path:  # `python -m benchmarks....` too
    sys.path.insert(0, str(ROOT / "benchmarks"))
from run import interleaved  # noqa: E402

GBM = """
model GBM
  parameters
    mu = 0.05
    sigma = 0.2
  variables
    S = 1.0
  brownian
    W
  equations
    d(S) = mu*S*dt + sigma*S*dW
  simulate
    tspan = [0, 1]
    solver = euler
    dt = 0.01
    saveat = 11
end
"""


def _time(fn, repeats: int) -> tuple[float, float]:
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        runs.append(time.perf_counter() - start)
    run = statistics.median(runs)
    return first - run, run


def _handwritten(drift, diffusion, y0, t1, dt, ts, n, m, seed=0, tree=False):
    """The same ensemble written directly against diffrax."""
    solver = diffrax.Euler()

    def one(key, p):
        key = jax.random.split(key)[0]  # symflow splits off a key for random initial values
        if tree:
            path = diffrax.VirtualBrownianTree(0.0, t1, tol=dt / 2, shape=(m,), key=key)
        else:
            path = diffrax.UnsafeBrownianPath(shape=(m,), key=key)
        terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(diffusion, path))
        return diffrax.diffeqsolve(terms, solver, 0.0, t1, dt, y0, args=p,
                                   saveat=diffrax.SaveAt(ts=ts),
                                   stepsize_controller=diffrax.ConstantStepSize(),
                                   max_steps=int(round(t1 / dt)) + 1, throw=False,
                                   adjoint=diffrax.RecursiveCheckpointAdjoint() if tree
                                   else diffrax.ForwardMode()).ys

    fn = jax.jit(jax.vmap(one, in_axes=(0, None)))
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    return fn, keys


def _numpy_em(drift, diffusion, y0, t1, dt, n, m, seed=0):
    rng = np.random.default_rng(seed)
    steps = int(round(t1 / dt))
    y = np.tile(np.asarray(y0, dtype=float), (n, 1))
    for k in range(steps):
        dw = rng.standard_normal((n, m)) * np.sqrt(dt)
        y = y + drift(k * dt, y) * dt + np.einsum("nij,nj->ni", diffusion(k * dt, y), dw)
    return y


def bench_gbm(repeats: int, tree: bool) -> dict:
    n, dt, t1 = 10_000, 0.01, 1.0
    mu, sigma = 0.05, 0.2
    m = symflow.loads(GBM)
    path = "tree" if tree else "fast"
    ts = jnp.linspace(0.0, t1, 11)
    fn, keys = _handwritten(lambda t, y, p: p[0] * y, lambda t, y, p: (p[1] * y)[:, None],
                            jnp.ones(1), t1, dt, ts, n, 1, tree=tree)
    p = jnp.array([mu, sigma])
    times = interleaved(
        {"symflow": lambda: m.simulate(trajectories=n, brownian_path=path).mean["S"],
         "diffrax": lambda: fn(keys, p),
         "symflow+q": lambda: m.simulate(trajectories=n, brownian_path=path).quantiles},
        repeats)
    numpy = _time(lambda: _numpy_em(lambda t, y: mu * y, lambda t, y: (sigma * y)[:, :, None],
                                    [1.0], t1, dt, n, 1), repeats)
    return {"problem": f"GBM, 10^4 paths, 100 steps ({path})", **times, "numpy": numpy}


def bench_langevin(repeats: int, tree: bool) -> dict:
    n, dt, t1 = 1_000, 0.01, 4.0
    m = symflow.load(ROOT / "examples" / "langevin.sf")
    gamma, omega, sigma = (float(m.params[k]) for k in ("gamma", "omega", "sigma"))
    path = "tree" if tree else "fast"
    ts = jnp.linspace(0.0, t1, 9)

    def drift(t, y, p):
        return jnp.stack([y[1], -p[0] * y[1] - p[1] ** 2 * y[0]])

    def diffusion(t, y, p):
        return jnp.stack([jnp.zeros(1), jnp.full((1,), p[2])])

    fn, keys = _handwritten(drift, diffusion, jnp.array([1.0, 0.0]), t1, dt, ts, n, 1,
                            tree=tree)
    p = jnp.array([gamma, omega, sigma])
    times = interleaved(
        {"symflow": lambda: m.simulate(trajectories=n, solver="euler",
                                       brownian_path=path).mean["x"],
         "diffrax": lambda: fn(keys, p),
         "symflow+q": lambda: m.simulate(trajectories=n, solver="euler",
                                         brownian_path=path).quantiles}, repeats)

    def np_drift(t, y):
        return np.stack([y[:, 1], -gamma * y[:, 1] - omega**2 * y[:, 0]], axis=1)

    def np_diffusion(t, y):
        g = np.zeros((y.shape[0], 2, 1))
        g[:, 1, 0] = sigma
        return g

    numpy = _time(lambda: _numpy_em(np_drift, np_diffusion, [1.0, 0.0], t1, dt, n, 1), repeats)
    return {"problem": f"Langevin 2-D, 10^3 paths, 400 steps ({path})", **times,
            "numpy": numpy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tree", action="store_true", help="also time the Brownian tree")
    args = parser.parse_args()
    load = os.getloadavg()
    rows = [bench_gbm(args.repeats, False), bench_langevin(args.repeats, False)]
    if args.tree:
        rows += [bench_gbm(args.repeats, True), bench_langevin(args.repeats, True)]
    print(f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f}")
    print("| problem | symflow run (s) | diffrax+vmap run (s) | NumPy EM (s) | "
          "symflow / diffrax | (min / min) | (CPU / CPU) | with quantiles / diffrax | "
          "symflow / NumPy | symflow compile (s) | diffrax compile (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        (sc, sr, smin, scpu), (hc, hr, hmin, hcpu) = r["symflow"], r["diffrax"]
        qr = r["symflow+q"][1]
        nr = r["numpy"][1]
        print(f"| {r['problem']} | {sr:.4f} | {hr:.4f} | {nr:.4f} | {sr / hr:.2f} | "
              f"{smin / hmin:.2f} | {scpu / hcpu:.2f} | {qr / hr:.2f} | {sr / nr:.2f} | "
              f"{sc:.2f} | {hc:.2f} |")


if __name__ == "__main__":
    main()
