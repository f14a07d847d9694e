"""First call, observed outputs and per-call cost of `Model.simulate` on the RC ladder.

    python3 benchmarks/component_calls.py [--overhead-only] N [N ...]

For each n (wall-clock, on whatever machine runs this):
- text to model; the first `simulate(solver="kvaerno5", saveat=2)`: trace, XLA
  compile and solve (`timings`);
- the first read of observed outputs of that solution: aliases (`r0.p.v`: the
  source's voltage, `c0.p.v`: a state) and computed ones (`r0.i`, then `c0.i`,
  computed with it), then every column (what `-o out.csv` writes);
- per call: the median of `simulate` (warm), and of the jitted program alone;
- the Python of `simulate` around its program: the program replaced by one that
  answers at once with a successful output, timed with the defaults and with all
  2n+1 parameters passed (no compile needed: `--overhead-only` runs this part).
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

# the ladder written out component by component (r0, c0, ...): the names read below
from components import written_out_ladder as rc_ladder  # noqa: E402

from symflow.api import loads  # noqa: E402

OPTIONS = dict(tspan=None, saveat=2, initial=None, rtol=None, atol=None, dt=None,
               max_steps=None, adjoint="checkpoint", dense=False, progress=False)


def median(fn, repeats: int, warm: int = 1, *, block: bool = True) -> float:
    """The median time of `fn()`, waiting for its arrays if `block` (a concrete
    `Solution` holds NumPy arrays: waiting on its 2n+1 parameter leaves would time
    the wait, not the call)."""
    for _ in range(warm):
        jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        if block:
            jax.block_until_ready(out)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def first_call(n: int) -> None:
    t = time.perf_counter()
    m = loads(rc_ladder(n))
    load = time.perf_counter() - t
    timings: dict[str, float] = {}
    sol = m.simulate(solver="kvaerno5", saveat=2, timings=timings)
    print(f"n={n}: text to model {load:.2f} s; first call: trace {timings['trace']:.2f} s, "
          f"XLA {timings['xla compile']:.2f} s, solve {timings['solve'] * 1e3:.1f} ms; "
          f"{m.generated.n_states} states, {len(m.generated.observed)} observed", flush=True)
    for name in ("r0.p.v", "c0.p.v", "r0.i", "c0.i"):
        t = time.perf_counter()
        sol[name]
        print(f"  first read of {name}: {time.perf_counter() - t:.3f} s", flush=True)
    t = time.perf_counter()
    sol.columns()
    print(f"  then every column: {time.perf_counter() - t:.3f} s", flush=True)
    repeats = 30 if n <= 100 else 3
    total = median(lambda: m.simulate(solver="kvaerno5", saveat=2), repeats)
    config, ts, p, initial = m.runner.ode.plan(None, "kvaerno5", OPTIONS)
    sim = m.runner.simulator
    fn = sim.packed_fn(config)
    program = median(lambda: fn(p, initial, sim._device_times(ts)), repeats)
    print(f"  per call: simulate {total * 1e3:.2f} ms, its program alone "
          f"{program * 1e3:.2f} ms", flush=True)


def overhead(n: int) -> None:
    m = loads(rc_ladder(n))
    sim = m.runner.simulator
    out = jax.numpy.zeros(2 * m.generated.n_states + 4)  # saveat=2: the states, 4 scalars
    sim.packed_fn = lambda config: (lambda *args: out)  # type: ignore[method-assign]
    every = dict(m.params)
    for solver in ("kvaerno5", "auto"):
        defaults = median(lambda: m.simulate(solver=solver, saveat=2), 200, warm=20,
                          block=False)
        passed = median(lambda: m.simulate(every, solver=solver, saveat=2), 200, warm=20,
                        block=False)
        print(f"n={n} solver={solver}: Python per call {defaults * 1e3:.3f} ms (defaults), "
              f"{passed * 1e3:.3f} ms (all {len(every)} parameters passed)", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    only = "--overhead-only" in args
    sizes = [int(a) for a in args if a != "--overhead-only"] or [100, 1000]
    for n in sizes:
        if not only:
            first_call(n)
        overhead(n)
