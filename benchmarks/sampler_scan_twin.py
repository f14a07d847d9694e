"""DDIM against a second hand-written baseline: the twin's steps as a `jax.lax.scan`
(one kernel per step), beside the unrolled twin (one fused kernel per solve).

    python benchmarks/sampler_scan_twin.py

The unrolled twin of benchmarks/handwritten_samplers.py is the natural
hand-written program, but XLA fuses it into one kernel that is 1.5-3x slower
per sample than a kernel per step; a JAX expert would scan. This compares
`Model.simulate` with both, 10^4 and 10^5 samples, NFE 10, medians of 15.
"""

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

import symflow  # noqa: E402

m = symflow.load(HERE.parent / "examples" / "vp_sampler.sf")
for batch in (10000, 100000):
    x0 = jnp.asarray(np.asarray(jax.random.normal(jax.random.PRNGKey(1), (batch,))))
    ts = hw.times("logsnr", 10)
    a = np.exp(hw.log_alpha(ts[1:]) - hw.log_alpha(ts[:-1]))
    b = np.exp(hw.log_sigma(ts[1:])) * np.expm1(hw.lam(ts[1:]) - hw.lam(ts[:-1]))
    pe = {"m": jnp.asarray(2.0), "s": jnp.asarray(0.5)}
    def scan_ddim(x, p):
        def body(x, row):
            s, a_, b_ = row
            return a_ * x - b_ * hw.mixture_noise(x, s, p), None
        return jax.lax.scan(body, x, (jnp.asarray(ts[:-1]), jnp.asarray(a), jnp.asarray(b)))[0]
    S = jax.jit(scan_ddim)
    E = jax.jit(lambda x, q: hw.ddim(hw.mixture_noise, x, q, 10, "logsnr"))
    assert float(jnp.max(jnp.abs(S(x0, pe) - E(x0, pe)))) < 1e-12
    calls = {"simulate": lambda: m.simulate(solver="ddim", steps=10, saveat=2,
                                            initial={"x": x0})["x"],
             "twin scan": lambda: S(x0, pe), "twin unrolled": lambda: E(x0, pe)}
    res = {k: [] for k in calls}
    for f in calls.values():
        jax.block_until_ready(f())
    for _ in range(15):
        for k, f in calls.items():
            t = time.perf_counter()
            for _ in range(10):
                jax.block_until_ready(f())
            res[k].append((time.perf_counter() - t) / 10)
    medians = ", ".join(f"{k} {np.median(v) * 1e3:.3f} ms" for k, v in res.items())
    print(f"{batch} samples: " + medians)
