"""The compiled sampling program of two symflow versions in one process, against
the hand-written twin, interleaved (before/after evidence for a change).

    git archive <commit> symflow grammar | tar -x -C /tmp/old && mv /tmp/old/symflow /tmp/old/symflow_base
    python benchmarks/sampler_versions.py --base /tmp/old [--repeats 15] [--batch 10000]

The older tree is imported as `symflow_base` (the package uses relative
imports, so a renamed copy loads beside the current one). Per sampler: median and
minimum wall time of one batch (NFE 10, logSNR grid, the two ends saved; each
sample the mean of 5 calls) of the old program, the new program and the twin,
called in turn in every repeat.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import handwritten_samplers as hw  # noqa: E402


def program(package: str, name: str, x0, nfe: int):
    sf = importlib.import_module(package)
    sampling_mod = importlib.import_module(package + ".solve._sampling")
    model = sf.load(HERE.parent / "examples" / "vp_sampler.sf")
    s = model.runner.sampling  # noqa: SLF001
    p = model.complete_params(model.params)
    xb = s._initial_from({"x": x0})  # noqa: SLF001
    ts = jnp.asarray([hw.T0, hw.T1])
    config = sampling_mod.SamplerConfig(solver=name, grid="logsnr", steps=nfe, t0=hw.T0,
                                        t1=hw.T1, n_save=2)
    if hasattr(s, "ends_fn"):  # the two-end program with kept coefficients, paths only
        ends = s.ends_fn(config)
        coefficients = s.coefficients(config, p)

        def fn(p, xb, ts):
            return (ends(coefficients, p, xb, ts),)
    else:
        fn = s.sample_fn(config)
    return lambda: jax.block_until_ready(fn(p, xb, ts)), lambda: np.asarray(fn(p, xb, ts)[0]["x"])[:, -1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="folder holding symflow_base/")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--samplers", default="ddim,dpm_solver_2,dpm_solver_3,dpm_solver_pp_2m,"
                                          "unipc_2,unipc_3,deis_1,deis_2,deis_3")
    args = ap.parse_args()
    sys.path.insert(0, args.base)
    x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (args.batch,)))
    params = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}
    print("| sampler | old (median / min) | new (median / min) | twin (median / min) "
          "| old/twin | new/twin | new/old |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in args.samplers.split(","):
        old, old_x = program("symflow_base", name, x0, 10)
        new, new_x = program("symflow", name, x0, 10)
        fn = hw.SAMPLERS[name]
        twin_fn = jax.jit(lambda x, q: fn(hw.mixture_noise, x, q, 10, "logsnr"))
        x0j = jnp.asarray(x0)
        twin = lambda: jax.block_until_ready(twin_fn(x0j, params))  # noqa: E731
        assert np.max(np.abs(new_x() - np.asarray(twin_fn(x0j, params)))) < 1e-10, name
        contenders = (old, new, twin)
        for f in contenders:
            f()
        samples = [[] for _ in contenders]
        for _ in range(args.repeats):
            for f, out in zip(contenders, samples):
                start = time.perf_counter()
                for _ in range(5):
                    f()
                out.append((time.perf_counter() - start) / 5 * 1e3)
        med = [float(np.median(s)) for s in samples]
        lo = [float(np.min(s)) for s in samples]
        cells = [f"{m:.3f} / {v:.3f} ms" for m, v in zip(med, lo)]
        print(f"| {name} | " + " | ".join(cells)
              + f" | {med[0] / med[2]:.2f} / {lo[0] / lo[2]:.2f} "
              f"| {med[1] / med[2]:.2f} / {lo[1] / lo[2]:.2f} "
              f"| {med[1] / med[0]:.2f} / {lo[1] / lo[0]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
