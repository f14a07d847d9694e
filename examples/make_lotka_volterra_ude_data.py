"""Write examples/lotka_volterra_ude_data.csv: the training data of the UDE example.

The truth is the Lotka–Volterra model of examples/lotka_volterra.sf with
alpha = 1.3, beta = 0.9 (predation), delta = 1.8 (predator death) and a predator
growth per prey eaten of 0.8 (in that file the growth coefficient is named delta
and the death rate gamma, so they are set crosswise below), x0 = 0.44, y0 = 4.6,
sampled without noise at 41 points on t in [0, 5].

    python3 examples/make_lotka_volterra_ude_data.py
"""

import os

import symflow

HERE = os.path.dirname(os.path.abspath(__file__))
TRUTH = {"alpha": 1.3, "beta": 0.9, "gamma": 1.8, "delta": 0.8}
INITIAL = {"x": 0.44, "y": 4.6}


def truth(tspan=(0.0, 5.0), saveat=41):
    m = symflow.load(os.path.join(HERE, "lotka_volterra.sf"))
    return m.simulate(TRUTH, initial=INITIAL, tspan=tspan, saveat=saveat, rtol=1e-12,
                      atol=1e-12)


if __name__ == "__main__":
    sol = truth()
    path = os.path.join(HERE, "lotka_volterra_ude_data.csv")
    with open(path, "w") as f:
        f.write("# Lotka-Volterra alpha=1.3 beta=0.9 gamma=0.8 delta=1.8 x0=0.44 y0=4.6, "
                "no noise (examples/make_lotka_volterra_ude_data.py)\n")
        f.write("t,x,y\n")
        for t, x, y in zip(sol.t, sol["x"], sol["y"]):
            f.write(f"{float(t):.6g},{float(x):.10g},{float(y):.10g}\n")
    print("wrote", path)
