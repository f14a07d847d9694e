"""Fitting: a second fit with new data (compiled once), and multistart as one vmapped
batch against the same starts run one after another.

1. **Second fit.** `Model.fit` of the documented Lotka–Volterra problem
   (`examples/lotka_volterra_start.sf`, `examples/lotka_volterra_data.csv`, relative
   scale), first call against a second call with new data of the same layout (the
   data scaled by 1.01): the second reuses the kept program.
2. **Multistart.** FitzHugh–Nagumo (`tests/models/fitzhugh_nagumo.sf`, V at 80 times
   over [0, 40], noise 0.05, seed 0) with N Latin-hypercube starts: the vmapped
   program (`optimise_many`) against the compiled single-start program called once
   per start, both warm, interleaved; and the fraction of starts reaching the best.

No AMICI/pyPESTO comparison here (issue 18's PEtab benchmark is not built).

Run from the repository root: `python benchmarks/fit.py [--starts 50] [--repeats 3]`.
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
import symflow  # noqa: E402
from symflow.learn import load_data  # noqa: E402
from symflow.learn._fit import choose_optimiser, prepare  # noqa: E402
from symflow.learn._program import program_for  # noqa: E402
from symflow.learn._starts import sampler_named, start_values  # noqa: E402

if str(ROOT / "benchmarks") not in sys.path:  # `python -m benchmarks....` too
    sys.path.insert(0, str(ROOT / "benchmarks"))
from run import interleaved  # noqa: E402


def second_fit() -> None:
    m = symflow.load(ROOT / "examples" / "lotka_volterra_start.sf")
    data = load_data(ROOT / "examples" / "lotka_volterra_data.csv")
    other = load_data({"t": data.t, **{k: v * 1.01 for k, v in data.columns.items()}})
    start = time.perf_counter()
    m.fit(data, scale="relative")
    first = time.perf_counter() - start
    start = time.perf_counter()
    m.fit(other, scale="relative")
    second = time.perf_counter() - start
    print("| Lotka–Volterra fit | first call (s) | second call, new data (s) |")
    print("| --- | ---: | ---: |")
    print(f"| `Model.fit`, 4 parameters, 79 points | {first:.2f} | {second:.3f} |")
    print()


def multistart(starts: int, repeats: int) -> None:
    m = symflow.load(ROOT / "tests" / "models" / "fitzhugh_nagumo.sf")
    ts = np.linspace(0.5, 40, 80)
    sol = m.simulate({"a": 0.2, "b": 0.2, "c": 3.0}, saveat=ts)
    rows = np.searchsorted(np.asarray(sol.t), ts)
    rng = np.random.default_rng(0)
    data = {"t": ts, "V": np.asarray(sol["V"])[rows] + 0.05 * rng.standard_normal(ts.size)}
    setup = prepare(m, data, None, log=(), scale="none", noise=None, options={})
    objective = setup.objective
    program = program_for(objective, choose_optimiser(None, objective, rtol=1e-8, atol=1e-8,
                                                      learning_rate=0.02), 300)
    natural = start_values(objective.names, objective.transforms,
                           sampler_named("lhs").unit(starts, len(objective.names), 0))
    z0s = jnp.asarray([[t.to_free(float(v)) for t, v in zip(objective.transforms, row)]
                       for row in natural])

    def batched():
        return program.optimise_many(z0s, setup.data)

    def one_by_one():
        return [program.optimise(z0s[i], setup.data) for i in range(starts)]

    times = interleaved({"vmapped": batched, "sequential": one_by_one}, repeats)
    values = np.asarray(batched()[3])
    best = np.min(values[np.isfinite(values)])
    fraction = float(np.mean(values <= best * (1 + 1e-4)))
    print(f"| FitzHugh–Nagumo, {starts} starts | compile (s) | median run (s) | "
          "CPU per run (s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, (compile_s, median, _, cpu) in times.items():
        print(f"| {name} | {compile_s:.1f} | {median:.2f} | {cpu:.2f} |")
    print(f"\nbest objective {best:.6g}, reached by {fraction:.0%} of starts; "
          f"load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    second_fit()
    multistart(args.starts, args.repeats)


if __name__ == "__main__":
    main()
