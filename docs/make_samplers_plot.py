"""Error against NFE for every sampler on examples/vp_sampler.sf: docs/samplers.png.

    python docs/make_samplers_plot.py

RMS error of 200 final samples against diffrax Dopri8 (rtol 1e-11) from the
same initial noise, logSNR grid, NFE 5 to 80; prints the table too.
"""

from __future__ import annotations

import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import symflow  # noqa: E402
from symflow.solve.diffusion import SAMPLERS  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
NFES = (5, 10, 20, 40, 80)


def main():
    m = symflow.load(HERE.parent / "examples" / "vp_sampler.sf")
    x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (200,)))
    p = m.complete_params(None)
    rhs = jax.vmap(m.generated.rhs, in_axes=(None, 0, None))
    ref = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, p: rhs(t, y, p)), diffrax.Dopri8(), 1.0, 1e-3, -1e-3,
        jnp.asarray(x0)[:, None], p,
        stepsize_controller=diffrax.PIDController(rtol=1e-11, atol=1e-11),
        max_steps=100_000).ys[-1, :, 0]
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    print("| sampler | " + " | ".join(f"NFE {n}" for n in NFES) + " |")
    for i, name in enumerate(SAMPLERS):
        nfes = [n for n in NFES if n >= SAMPLERS[name].min_steps]
        errs = []
        for n in nfes:
            x = m.simulate(solver=name, steps=n, initial={"x": x0}, saveat=2)["x"][:, -1]
            errs.append(float(np.sqrt(np.mean((np.asarray(x) - np.asarray(ref)) ** 2))))
        print(f"| {name} | " + " | ".join(f"{e:.2e}" for e in errs) + " |")
        ax.loglog(nfes, errs, "o-" if i < 5 else "s--", label=name, ms=4)
    n = np.array([20.0, 80.0])
    for order, y20 in ((1, 0.3), (2, 0.06), (3, 0.012)):  # slope guides
        ax.loglog(n, y20 * (n / 20.0) ** -order, ":", color="0.5")
        ax.text(85, y20 * 4.0 ** -order, f"slope -{order}", fontsize=7, color="0.4")
    ax.set_xlabel("model evaluations (NFE)")
    ax.set_ylabel("RMS error of the samples at t = 1e-3")
    ax.set_title("VP sampler, 2-component mixture, logSNR grid")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    fig.savefig(HERE / "samplers.png", dpi=110)
    print("wrote", HERE / "samplers.png")


if __name__ == "__main__":
    main()
