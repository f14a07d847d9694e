"""Load-independent evidence for the sampler wall-time table: op counts in the
optimized HLO of the compiled sampling program (`sample_fn`) and of the
hand-written twin (benchmarks/handwritten_samplers.py), batch 10^4, NFE 10.

    python benchmarks/sampler_hlo.py [--batch 10000] [--samplers ddim,deis_3]

Per program: batch-sized ops (result shape holding the batch dimension) by kind
(fusions, exponentials, divides, copies, concatenates), all exponentials, and
the control flow left (conditionals, while loops), and the kernels the entry
computation launches (scalar coefficient kernels included).
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import re
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import handwritten_samplers as hw  # noqa: E402

import symflow  # noqa: E402
from symflow.solve.diffusion.samplers import SAMPLERS  # noqa: E402
from symflow.solve.diffusion.side import SamplerConfig  # noqa: E402

_OP = re.compile(r"=\s*(\w+)\[([\d,]*)\][^ ]*\s+([\w-]+)\(")
KINDS = ("fusion", "exponential", "logistic", "divide", "copy", "concatenate",
         "dynamic-update-slice")


_FREE = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast"}


def counts(text: str, batch: int) -> dict:
    """Op counts of an optimized HLO module's text; `kernels` counts the operations
    of the entry computation that run (fusions, custom calls, ...), each a
    separate kernel launch on the CPU, however small."""
    out = collections.Counter()
    entry = False
    for line in text.splitlines():
        entry = entry or line.startswith("ENTRY")
        m = _OP.search(line)
        if not m:
            continue
        if entry and m.group(3) not in _FREE:
            out["kernels"] += 1
        dims = [int(d) for d in m.group(2).split(",") if d]
        op = m.group(3)
        if batch in dims:
            out["batch " + op] += 1
        out[op] += 1
    return out


def programs(model, name: str, batch: int, nfe: int = 10):
    sampling = model.runner.sampling  # noqa: SLF001
    p = model.complete_params(model.params)
    x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (batch,)))
    xb = sampling._initial_from({"x": x0})  # noqa: SLF001
    ts = jnp.asarray([hw.T0, hw.T1])
    config = SamplerConfig(solver=name, grid="logsnr", steps=nfe, t0=hw.T0, t1=hw.T1,
                           n_save=2)
    ours = sampling.ends_fn(config).lower(sampling.coefficients(config, p), p, xb,
                                          ts).compile().as_text()
    twin_fn = hw.SAMPLERS[name]
    params = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}
    twin = jax.jit(lambda x, q: twin_fn(hw.mixture_noise, x, q, nfe, "logsnr")).lower(
        jnp.asarray(x0), params).compile().as_text()
    return ours, twin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--samplers", default=",".join(SAMPLERS))
    args = ap.parse_args()
    model = symflow.load(HERE.parent / "examples" / "vp_sampler.sf")
    cols = ["kernels", "batch fusion", "batch exponential", "batch logistic", "batch divide",
            "batch copy", "batch concatenate", "exponential", "conditional", "while"]
    print("| sampler | program | " + " | ".join(cols) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in cols) + " |")
    for name in args.samplers.split(","):
        ours, twin = programs(model, name, args.batch)
        for label, text in (("symflow", ours), ("twin", twin)):
            c = counts(text, args.batch)
            print(f"| {name} | {label} | " + " | ".join(str(c.get(k, 0)) for k in cols)
                  + " |", flush=True)


if __name__ == "__main__":
    main()
