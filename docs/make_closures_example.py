"""Train the Lotka–Volterra UDE of docs/closures.md and draw its figure.

    python3 docs/make_closures_example.py

Trains `examples/lotka_volterra_ude.sf` on `examples/lotka_volterra_ude_data.csv`
(alpha and delta frozen at their known values) in two phases: 500 Adam steps on
windows of 6 data points (each solved from the measured state at its start),
then 1000 steps on the whole series at a lower learning rate. Writes the
weights to `examples/lotka_volterra_ude.eqx`, the figure to `docs/closures.png`
(trajectories to t = 10 against the truth, and the learned terms against the
true interaction terms along the data), and prints the numbers quoted in the
tutorial.
"""

import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import jax  # noqa: E402

import symflow  # noqa: E402
from examples.make_lotka_volterra_ude_data import truth  # noqa: E402

MODEL = os.path.join(ROOT, "examples", "lotka_volterra_ude.sf")
DATA = os.path.join(ROOT, "examples", "lotka_volterra_ude_data.csv")


def rms(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def main():
    m = symflow.load(MODEL)
    start = time.perf_counter()
    r1 = m.fit(DATA, freeze=["alpha", "delta"], window=6, steps=500, learning_rate=1e-2)
    r2 = m.fit(DATA, freeze=["alpha", "delta"], steps=1000, learning_rate=1e-3,
               start=r1.params)
    total = time.perf_counter() - start
    print(r1.table())
    print(r2.table())
    print(f"total training time {total:.1f} s")
    m.save_weights(os.path.join(ROOT, "examples", "lotka_volterra_ude.eqx"), r2.params)

    ref = truth((0, 10), 201)
    zero = {"closures": jax.tree.map(lambda a: 0 * a, m.params["closures"])}
    trained = m.simulate(r2.params, tspan=(0, 10), saveat=201)
    free = m.simulate(zero, tspan=(0, 10), saveat=201)
    t = np.asarray(ref.t)
    fit_part, extra = t <= 5, t > 5
    for name, sol in (("trained UDE", trained), ("closure-free", free)):
        e_fit = rms(np.r_[sol["x"][fit_part], sol["y"][fit_part]],
                    np.r_[ref["x"][fit_part], ref["y"][fit_part]])
        e_ext = rms(np.r_[sol["x"][extra], sol["y"][extra]],
                    np.r_[ref["x"][extra], ref["y"][extra]])
        print(f"{name}: RMS error on [0, 5] {e_fit:.4g}, on (5, 10] {e_ext:.4g}")

    samples = m.closure_samples(r2.params, m.simulate(r2.params))
    inputs, outputs = (np.asarray(a) for a in samples["U1_U2"])
    x, y = 4 * inputs[:, 0], 4 * inputs[:, 1]
    true1, true2 = -0.9 * x * y, 0.8 * x * y
    print(f"learned U1 vs -0.9xy along the trajectory: RMS {rms(outputs[:, 0], true1):.3g} "
          f"(|U1| up to {np.max(np.abs(true1)):.3g}); U2 vs 0.8xy: "
          f"RMS {rms(outputs[:, 1], true2):.3g}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    d = np.loadtxt(DATA, delimiter=",", skiprows=2)
    for i, k in enumerate(("x", "y")):
        ax.plot(t, ref[k], color=f"C{i}", lw=1, alpha=0.5, label=f"{k} truth")
        ax.plot(t, trained[k], "--", color=f"C{i}", label=f"{k} trained UDE")
        ax.plot(d[:, 0], d[:, 1 + i], "o", color=f"C{i}", ms=3)
    ax.axvline(5, color="gray", lw=0.8)
    ax.set_ylim(-2, 12)
    ax.set_xlabel("t")
    ax.set_title("training data on [0, 5] (dots), extrapolation to 10")
    ax.legend(fontsize="small", ncol=2)
    order = np.argsort(inputs[:, 0] * 0 + np.arange(len(x)))
    ts = np.asarray(m.simulate(r2.params).t)
    bx.plot(ts, true1[order], color="C0", lw=1, label="-0.9 x y (true)")
    bx.plot(ts, outputs[order, 0], "--", color="C0", label="U1 (learned)")
    bx.plot(ts, true2[order], color="C1", lw=1, label="0.8 x y (true)")
    bx.plot(ts, outputs[order, 1], "--", color="C1", label="U2 (learned)")
    bx.set_xlabel("t")
    bx.set_title("learned terms along the trained trajectory")
    bx.legend(fontsize="small")
    fig.savefig(os.path.join(HERE, "closures.png"), dpi=110)
    print("wrote docs/closures.png")


if __name__ == "__main__":
    main()
