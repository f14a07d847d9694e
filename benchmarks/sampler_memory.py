"""Memory of a gradient through a sampler: `adjoint="checkpoint"` (reverse mode
through the steps, each step rematerialised) against `adjoint="deis"` (the
continuous adjoint, O(1) in the steps), from XLA's buffer assignment.

    python benchmarks/sampler_memory.py [--batch 10000] [--steps 20,80,320]

For `jax.grad` of `mean(sin(x_final))` with respect to the initial noise and
the score's parameters (DDIM, examples/vp_sampler.sf), the compiled program's
temporary buffers (`memory_analysis().temp_size_in_bytes`) are printed per
number of steps; the batch itself is `batch * 8` bytes. Load-independent.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import symflow  # noqa: E402


def temp_bytes(model, adjoint: str, steps: int, batch: int) -> int:
    x0 = jnp.asarray(np.random.default_rng(0).normal(size=batch))
    p = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}

    def loss(x0, p):
        sol = model.simulate(p, solver="ddim", steps=steps, initial={"x": x0}, saveat=2,
                             adjoint=adjoint)
        return jnp.mean(jnp.sin(sol["x"][:, -1]))

    compiled = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(x0, p).compile()
    return int(compiled.memory_analysis().temp_size_in_bytes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--steps", default="20,80,320")
    args = ap.parse_args()
    model = symflow.load(HERE.parent / "examples" / "vp_sampler.sf")
    print(f"temporary buffers of the gradient, DDIM, batch {args.batch:,} "
          f"(one batch = {args.batch * 8 / 2**20:.2f} MiB)")
    print("| steps | checkpoint | deis |\n| --- | --- | --- |")
    for steps in map(int, args.steps.split(",")):
        cells = [temp_bytes(model, a, steps, args.batch) / 2**20 for a in ("checkpoint", "deis")]
        print(f"| {steps} | {cells[0]:.2f} MiB | {cells[1]:.2f} MiB |", flush=True)


if __name__ == "__main__":
    main()
