"""Train the Lotka–Volterra UDE of docs/closures.md, distill it, and draw its figure.

    python3 docs/make_closures_example.py

The same recipe as the documented commands

    symflow fit examples/lotka_volterra_ude.sf --data examples/lotka_volterra_ude_data.csv \\
        --freeze alpha,delta --window 6 --steps 3000 --save-weights examples/lotka_volterra_ude.eqx
    symflow distill examples/lotka_volterra_ude.sf --weights examples/lotka_volterra_ude.eqx \\
        --data examples/lotka_volterra_ude_data.csv -o lv_distilled.sf

(alpha and delta frozen at their known values; 3000 Adam steps on the 8 windows of 6
data points, each solved from the measured state at its start). Writes the weights to
`examples/lotka_volterra_ude.eqx`, the figure to `docs/closures.png` (trajectories to
t = 10 of the trained and the distilled model against the truth, and the learned terms
against the true interaction terms at the data), and prints the numbers quoted in the
tutorials.
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
WEIGHTS = os.path.join(ROOT, "examples", "lotka_volterra_ude.eqx")


def rms(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def main():
    m = symflow.load(MODEL)
    start = time.perf_counter()
    r = m.fit(DATA, freeze=["alpha", "delta"], window=6, steps=3000, learning_rate=1e-2)
    print(r.table())
    print(f"training: compile {r.compile_time:.1f} s, {r.step_time * 1e3:.2f} ms per step, "
          f"total {time.perf_counter() - start:.1f} s")
    m.save_weights(WEIGHTS, r.params)
    params = m.load_weights(WEIGHTS)

    start = time.perf_counter()
    d = m.distill(params, data=DATA)
    print(d.table())
    print(f"distill: {time.perf_counter() - start:.1f} s; RMS error against the data: "
          f"distilled {d.data_error}, network {d.network_error}")
    distilled = d.load()

    ref = truth((0, 10), 201)
    zero = {"closures": jax.tree.map(lambda a: 0 * a, m.params["closures"])}
    full = m.fit(DATA, freeze=["alpha", "delta"], steps=1, learning_rate=0.0, start=params)
    print(f"mean squared error of the trained network model over the whole series: "
          f"{full.losses[0]:.4g}")
    runs = {"trained UDE": m.simulate(params, tspan=(0, 10), saveat=201),
            "distilled": distilled.simulate(tspan=(0, 10), saveat=201),
            "closure-free": m.simulate(zero, tspan=(0, 10), saveat=201)}
    t = np.asarray(ref.t)
    fit_part, extra = t <= 5, t > 5
    for name, sol in runs.items():
        e_fit = rms(np.r_[sol["x"][fit_part], sol["y"][fit_part]],
                    np.r_[ref["x"][fit_part], ref["y"][fit_part]])
        e_ext = rms(np.r_[sol["x"][extra], sol["y"][extra]],
                    np.r_[ref["x"][extra], ref["y"][extra]])
        print(f"{name}: RMS error against the truth on [0, 5] {e_fit:.4g}, "
              f"on (5, 10] {e_ext:.4g}")

    samples = m.closure_samples(params, m.simulate(params))
    inputs, outputs = (np.asarray(a) for a in samples["U1_U2"])
    x, y = 4 * inputs[:, 0], 4 * inputs[:, 1]
    print(f"learned U1 vs -0.9xy along the trained trajectory: RMS "
          f"{rms(outputs[:, 0], -0.9 * x * y):.3g} (|U1| up to {np.max(0.9 * x * y):.3g}); "
          f"U2 vs 0.8xy: RMS {rms(outputs[:, 1], 0.8 * x * y):.3g}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    data = np.loadtxt(DATA, delimiter=",", skiprows=2)
    for i, k in enumerate(("x", "y")):
        ax.plot(t, ref[k], color=f"C{i}", lw=3, alpha=0.3, label=f"{k} truth")
        ax.plot(t, runs["trained UDE"][k], "--", color=f"C{i}", label=f"{k} trained UDE")
        ax.plot(t, runs["distilled"][k], ":", color="k" if i else "gray",
                label=f"{k} distilled")
        ax.plot(data[:, 0], data[:, 1 + i], "o", color=f"C{i}", ms=3)
    ax.axvline(5, color="gray", lw=0.8)
    ax.set_ylim(-2, 12)
    ax.set_xlabel("t")
    ax.set_title("training data on [0, 5] (dots), extrapolation to 10")
    ax.legend(fontsize="small", ncol=3)
    xd, yd = data[:, 1], data[:, 2]
    from symflow.runtime import apply_mlp

    u1, u2 = (np.asarray(a) for a in apply_mlp(params["closures"]["U1_U2"], "tanh", 4.0,
                                               (xd / 4, yd / 4)))
    c1, c2 = (float(v) for v in (d["U1"].found["(x/4)*(y/4)"] / 16,
                                 d["U2"].found["(x/4)*(y/4)"] / 16))
    bx.plot(data[:, 0], -0.9 * xd * yd, color="C0", lw=3, alpha=0.3, label="-0.9 x y (true)")
    bx.plot(data[:, 0], u1, "o", color="C0", ms=3, label="U1 (network)")
    bx.plot(data[:, 0], c1 * xd * yd, ":", color="gray", label=f"{c1:.4f} x y (distilled)")
    bx.plot(data[:, 0], 0.8 * xd * yd, color="C1", lw=3, alpha=0.3, label="0.8 x y (true)")
    bx.plot(data[:, 0], u2, "o", color="C1", ms=3, label="U2 (network)")
    bx.plot(data[:, 0], c2 * xd * yd, ":", color="k", label=f"{c2:.4f} x y (distilled)")
    bx.set_xlabel("t")
    bx.set_title("interaction terms at the measured states")
    bx.legend(fontsize="small", ncol=2)
    fig.savefig(os.path.join(HERE, "closures.png"), dpi=110)
    print("wrote docs/closures.png")


if __name__ == "__main__":
    main()
