"""Gillespie ensembles: symflow's `simulate_jumps` vs a hand-written vmapped JAX direct
method vs a plain NumPy loop.

The network: two-state gene expression with protein dimerisation, 5 species and
10 reactions (mass action; the dimerisation's propensity is kd P (P - 1) / 2):

    Goff <-> Gon (kon, koff); Gon -> Gon + M (km); Goff -> Goff + M (km0, leak);
    M -> 0 (dm); M -> M + P (kp); P -> 0 (dp); 2 P <-> P2 (kd, ku); P2 -> 0 (dp2)

from one gene copy (Goff = 1) and no molecules, on [0, 10], saved at 11 times
(about 450 jumps per trajectory on average).

Contenders, all Gillespie's direct method with float64 counts:

* **symflow**: `simulate_jumps(program, n0, params, ts, trajectories=n)`, the
  whole call (mean and standard deviation over the trajectories computed in the
  same program; quantiles not read).
* **JAX by hand**: the straightforward version a user would write: a
  `lax.while_loop` per trajectory (split the key, exponential waiting time,
  `jax.random.categorical` for the reaction, the saves filled by a mask), then
  `jax.jit(jax.vmap(...))` over the keys. Paths only.
* **NumPy**: a Python loop per trajectory and per jump (`default_rng`,
  `searchsorted` on the cumulative propensities). It is timed on
  `--numpy-trajectories` trajectories (default 200) and its time is extrapolated
  linearly to `n` (the trajectories are independent: time per trajectory x n).

Before timing, the means at the last save time of the three must agree within
5 standard errors (independent random streams, so only statistically).

Run: `python benchmarks/jumps.py [--trajectories 10000] [--repeats 5]`. The
default is 10^4 trajectories (a run of each JAX contender takes a few seconds
on the 2-core VM); `--trajectories 100000` is the 10^5 ensemble of the issue
(about 10x longer per run; use `--repeats 3`). Prints the load average before
and after, compile times (first call minus the median run) and the median
of interleaved runs (symflow and the hand-written version in turn), with the
ratio of the minima and of the process CPU times beside the ratio of medians.

On a shared machine, run it single-threaded as well:
`XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"`.
XLA:CPU splits the larger kernels of each loop pass over its threads; when
another process holds a core, the waiting threads spin, and a loop of about a
thousand passes with some forty kernels each slowed down 10-20x (both JAX
contenders alike, at 10^5 trajectories under a load of 3).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from symflow.solve.jumps import JumpProgram, simulate_jumps  # noqa: E402

if str(ROOT / "benchmarks") not in sys.path:  # `python -m benchmarks....` too
    sys.path.insert(0, str(ROOT / "benchmarks"))
from run import interleaved  # noqa: E402

NAMES = ("Goff", "Gon", "M", "P", "P2")
CHANGES = np.array([
    [-1, 1, 0, 0, 0],   # Goff -> Gon
    [1, -1, 0, 0, 0],   # Gon -> Goff
    [0, 0, 1, 0, 0],    # Gon -> Gon + M
    [0, 0, 1, 0, 0],    # Goff -> Goff + M (leak)
    [0, 0, -1, 0, 0],   # M -> 0
    [0, 0, 0, 1, 0],    # M -> M + P
    [0, 0, 0, -1, 0],   # P -> 0
    [0, 0, 0, -2, 1],   # 2 P -> P2
    [0, 0, 0, 2, -1],   # P2 -> 2 P
    [0, 0, 0, 0, -1],   # P2 -> 0
])
PARAMS = {"kon": 0.5, "koff": 0.5, "km": 10.0, "km0": 1.0, "dm": 1.0, "kp": 2.5,
          "dp": 0.5, "kd": 0.02, "ku": 1.0, "dp2": 0.2}
N0 = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
TS = np.linspace(0.0, 10.0, 11)
MAX_STEPS = 100_000


def propensities(t, n, p):
    goff, gon, m, pr, p2 = n[0], n[1], n[2], n[3], n[4]
    return jnp.stack([p["kon"] * goff, p["koff"] * gon, p["km"] * gon, p["km0"] * goff,
                      p["dm"] * m, p["kp"] * m, p["dp"] * pr, p["kd"] * pr * (pr - 1) / 2,
                      p["ku"] * p2, p["dp2"] * p2])


PROGRAM = JumpProgram(propensities, CHANGES, NAMES)


def handwritten(n: int, seed: int = 0):
    """The direct method as a user would write it in JAX: one while loop per
    trajectory, vmapped. Returns `(jitted fn, keys, params)`; `fn(keys, params)`
    gives the paths, shape `(n, len(TS), 5)`."""
    ts = jnp.asarray(TS)
    changes = jnp.asarray(CHANGES, dtype=float)

    def ssa(key, p):
        def cond(state):
            t, _, _, _ = state
            return t <= ts[-1]

        def body(state):
            t, counts, key, out = state
            key, k_wait, k_pick = jax.random.split(key, 3)
            a = propensities(t, counts, p)
            a0 = jnp.sum(a)
            t_next = t + jax.random.exponential(k_wait, dtype=float) / a0
            r = jax.random.categorical(k_pick, jnp.log(a))
            out = jnp.where(((ts >= t) & (ts < t_next))[:, None], counts, out)
            return t_next, counts + changes[r], key, out

        start = (jnp.asarray(0.0), jnp.asarray(N0), key, jnp.zeros((ts.shape[0], 5)))
        return jax.lax.while_loop(cond, body, start)[3]

    fn = jax.jit(jax.vmap(ssa, in_axes=(0, None)))
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    return fn, keys, {k: jnp.asarray(v) for k, v in PARAMS.items()}


def numpy_ssa(n: int, seed: int = 0) -> np.ndarray:
    """The direct method in plain NumPy, one trajectory and one jump at a time."""
    rng = np.random.default_rng(seed)
    p = PARAMS
    out = np.empty((n, TS.size, 5))
    for j in range(n):
        t, counts, i = 0.0, N0.copy(), 0
        while True:
            goff, gon, m, pr, p2 = counts
            a = np.array([p["kon"] * goff, p["koff"] * gon, p["km"] * gon, p["km0"] * goff,
                          p["dm"] * m, p["kp"] * m, p["dp"] * pr,
                          p["kd"] * pr * (pr - 1) / 2, p["ku"] * p2, p["dp2"] * p2])
            cumulative = np.cumsum(a)
            t_next = t + rng.exponential(1.0 / cumulative[-1])
            while i < TS.size and TS[i] < t_next:
                out[j, i] = counts
                i += 1
            if i == TS.size:
                break
            r = np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")
            counts += CHANGES[r]
            t = t_next
    return out


def _check(symflow_paths: np.ndarray, hand: np.ndarray, numpy_paths: np.ndarray) -> str:
    """The means at the last save time agree within 5 standard errors."""
    lines = []
    for s, name in enumerate(NAMES):
        a, b, c = symflow_paths[:, -1, s], hand[:, -1, s], numpy_paths[:, -1, s]
        for other, label in ((b, "hand"), (c, "numpy")):
            se = np.sqrt(a.var() / a.size + other.var() / other.size) + 1e-12
            z = abs(a.mean() - other.mean()) / se
            assert z < 5, f"{name}: symflow mean {a.mean():.3f}, {label} {other.mean():.3f}"
        lines.append(f"{name} {a.mean():.3f} / {b.mean():.3f} / {c.mean():.3f}")
    return "means at t = 10, symflow / hand / numpy: " + ", ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trajectories", type=int, default=10_000)
    parser.add_argument("--numpy-trajectories", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n = args.trajectories
    load = os.getloadavg()

    def run_symflow():
        return simulate_jumps(PROGRAM, N0, PARAMS, TS, trajectories=n, seed=0,
                              max_steps=MAX_STEPS)

    fn, keys, p = handwritten(n)
    # JAX's own first-use costs (backend start, small eager ops) fall on neither
    jax.block_until_ready(jax.jit(lambda x: jnp.cumsum(x) * 2)(jnp.arange(3.0)))
    first = {}
    start = time.perf_counter()
    sol = jax.block_until_ready(run_symflow())
    first["symflow"] = time.perf_counter() - start
    start = time.perf_counter()
    hand = jax.block_until_ready(fn(keys, p))
    first["hand"] = time.perf_counter() - start
    mine = np.stack([np.asarray(sol[s]) for s in NAMES], axis=-1)
    start = time.perf_counter()
    numpy_paths = numpy_ssa(args.numpy_trajectories)
    numpy_time = (time.perf_counter() - start) / args.numpy_trajectories * n
    print(_check(mine, np.asarray(hand), numpy_paths))
    times = interleaved({"symflow": lambda: run_symflow().mean["P"],
                         "hand": lambda: fn(keys, p)}, args.repeats, first=first)
    (sc, sr, smin, scpu), (hc, hr, hmin, hcpu) = times["symflow"], times["hand"]
    print(f"load average before: {load[0]:.2f}, after: {os.getloadavg()[0]:.2f}; "
          f"{n} trajectories, {args.repeats} repeats, NumPy timed on "
          f"{args.numpy_trajectories} and extrapolated; "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    print("| contender | compile (s) | run, median (s) | run, min (s) | CPU, median (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| symflow `simulate_jumps` | {sc:.2f} | {sr:.3f} | {smin:.3f} | {scpu:.3f} |")
    print(f"| JAX by hand (vmapped while loop) | {hc:.2f} | {hr:.3f} | {hmin:.3f} | "
          f"{hcpu:.3f} |")
    print(f"| NumPy loop (extrapolated) | | {numpy_time:.1f} | | |")
    print(f"| **symflow / by hand** | | **{sr / hr:.2f}x** | {smin / hmin:.2f}x | "
          f"{scpu / hcpu:.2f}x |")
    print(f"| symflow / NumPy | | {sr / numpy_time:.4f}x | | |")


if __name__ == "__main__":
    main()
