"""Per-call overhead of `Model.simulate`: what a call costs beyond the compiled program.

    python benchmarks/overhead.py [--repeats 21] [--parts heat,samplers,samplers-1e5,hlo]

For each case three numbers that do not depend on the load, then times:

* Python calls: function calls per `simulate` call counted by `cProfile` (the
  Python work on the call's path; C functions, e.g. the jitted call, count one);
* eager ops: JAX primitives executed eagerly per call (each is a dispatch of
  its own, ~10-50 us), counted at `jax.core.EvalTrace.process_primitive`;
* programs: the compiled programs a call runs (1 for an ODE solve; samplers:
  1 with `initial=`, 2 with a seed: the draw of the batch, then the sampler);
* time: `simulate` and the compiled program it runs, called in turn (after
  warm-up), median (minimum) of `--repeats` (each the mean of 5 calls), and
  the overhead `simulate - program` of the medians (of the minima).

Cases: the heat equation of `pde.py heat` at N = 10^3 and 10^4 (the program:
`Simulator.packed_fn`, which `simulate` calls), and the 1-D mixture sampler
(examples/vp_sampler.sf) with DDIM and UniPC-3 at NFE 10, batch 10^4 (and
10^5 with `samplers-1e5`), its batch given (`initial=`, what
`samplers.py` times) or drawn from a seed (the file's default); the program is
`ModelSampling.sample_fn`. `hlo`: the instructions (and fusions) of the
optimized HLO of the heat solve's program against the hand-written twin's
(`pde.heat_handwritten`). Run it from another checkout (copy the file into its
benchmarks/) to compare two versions of the package.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pathlib
import pstats
import re
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout
sys.path.insert(0, str(HERE))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax._src import core  # noqa: E402
from pde import HEAT  # noqa: E402

import symflow  # noqa: E402
from symflow.solve.diffusion.side import SamplerConfig  # noqa: E402


def python_calls(fn, calls: int = 20) -> float:
    """Function calls per call of `fn`, by cProfile."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        jax.block_until_ready(fn())
    profile.disable()
    return pstats.Stats(profile).total_calls / calls


def eager_ops(fn, calls: int = 20) -> float:
    """JAX primitives executed eagerly per call of `fn`."""
    count = [0]
    original = core.EvalTrace.process_primitive

    def counting(self, *args):
        count[0] += 1
        return original(self, *args)

    core.EvalTrace.process_primitive = counting
    try:
        for _ in range(calls):
            jax.block_until_ready(fn())
    finally:
        core.EvalTrace.process_primitive = original
    return count[0] / calls


def interleaved(fns: dict, repeats: int, inner: int = 5) -> dict[str, tuple[float, float]]:
    """(median, minimum) seconds per call of each function, called in turn."""
    for fn in fns.values():
        jax.block_until_ready(fn())
        jax.block_until_ready(fn())
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                jax.block_until_ready(fn())
            times[name].append((time.perf_counter() - start) / inner)
    return {name: (statistics.median(v), min(v)) for name, v in times.items()}


def report(label: str, simulate, program, programs: int, repeats: int) -> None:
    for fn in (simulate, program):  # compile
        jax.block_until_ready(fn())
    calls = python_calls(simulate)
    ops = eager_ops(simulate)
    out = interleaved({"simulate": simulate, "program": program}, repeats)
    (s, s_min), (p, p_min) = out["simulate"], out["program"]
    print(f"| {label} | {calls:.0f} | {ops:.0f} | {programs} | {1e3 * s:.3f} ({1e3 * s_min:.3f}) "
          f"| {1e3 * p:.3f} ({1e3 * p_min:.3f}) "
          f"| {1e3 * (s - p):.3f} ({1e3 * (s_min - p_min):.3f}) |",
          flush=True)


def heat(repeats: int) -> None:
    for n in (1_000, 10_000):
        m = symflow.loads(HEAT.format(n=n))
        m.simulate()
        sim = m.runner.simulator  # noqa: SLF001
        config = next(k[1] for k in sim._cache if isinstance(k, tuple) and k[0] == "packed")  # noqa: SLF001
        p, ts = m.complete_params(None), m.runner.save_times(0.0, 0.1, 2)  # noqa: SLF001
        packed = sim.packed_fn(config)
        report(f"heat N = {n:,}", lambda: m.simulate()["u"], lambda: packed(p, {}, ts), 1,
               repeats)


def samplers(repeats: int, batch: int) -> None:
    m = symflow.load(HERE.parent / "examples" / "vp_sampler.sf")
    x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (batch,)))
    p = m.complete_params(None)
    sampling = m.runner.sampling  # noqa: SLF001
    xb = sampling._initial_from({"x": x0})  # noqa: SLF001
    ts = jnp.asarray([1.0, 1e-3])
    for name in ("ddim", "unipc_3"):
        config = SamplerConfig(solver=name, grid="logsnr", steps=10, t0=1.0, t1=1e-3,
                               n_save=2)
        program = functools.partial(sampling.ends_fn(config), sampling.coefficients(config, p))
        report(f"{name}, batch {batch:,}, `initial=`",
               lambda: m.simulate(solver=name, steps=10, saveat=2, initial={"x": x0})["x"],
               lambda: program(p, xb, ts), 1, repeats)
        report(f"{name}, batch {batch:,}, seed",
               lambda: m.simulate(solver=name, steps=10, saveat=2, trajectories=batch,
                                  seed=0)["x"],
               lambda: program(p, xb, ts), 2, repeats)


def hlo_instructions(compiled) -> tuple[int, int]:
    """(instructions, fusions) in the optimized HLO text of a compiled program."""
    count, fusions = 0, 0
    for line in compiled.as_text().splitlines():
        match = re.match(r"\s*(ROOT )?%?\S+ = \S+ (\w[\w-]*)\(", line)
        if match:
            count += 1
            fusions += match.group(2) == "fusion"
    return count, fusions


def hlo() -> None:
    """Optimized HLO of the heat solve `simulate` runs against the twin's."""
    from pde import heat_handwritten

    print("\n| N | symflow `simulate`'s program: instructions (fusions) | hand-written twin |")
    print("|---|---|---|")
    for n in (1_000, 10_000):
        m = symflow.loads(HEAT.format(n=n))
        m.simulate()
        sim = m.runner.simulator  # noqa: SLF001
        config = next(k[1] for k in sim._cache if isinstance(k, tuple) and k[0] == "packed")  # noqa: SLF001
        p, ts = m.complete_params(None), m.runner.save_times(0.0, 0.1, 2)  # noqa: SLF001
        ours = hlo_instructions(sim.packed_fn(config).lower(p, {}, ts).compile())
        solve, y0 = heat_handwritten(n)
        theirs = hlo_instructions(solve.lower(y0).compile())
        print(f"| {n:,} | {ours[0]:,} ({ours[1]}) | {theirs[0]:,} ({theirs[1]}) |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--parts", default="heat,samplers")
    args = ap.parse_args()
    print("| case | Python calls | eager ops | programs | simulate, ms | program, ms "
          "| overhead, ms |")
    print("|---|---|---|---|---|---|---|")
    parts = args.parts.split(",")
    if "heat" in parts:
        heat(args.repeats)
    if "samplers" in parts:
        samplers(args.repeats, 10_000)
    if "samplers-1e5" in parts:
        samplers(max(3, args.repeats // 3), 100_000)
    if "hlo" in parts:
        hlo()


if __name__ == "__main__":
    main()
