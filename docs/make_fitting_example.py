"""Generate the fitting tutorial's data and figure (docs/fitting.md).

Writes `examples/lotka_volterra_data.csv` (Lotka–Volterra simulated with
alpha=1.5, beta=1.0, gamma=3.0, delta=1.0, sampled at 40 times, 1% multiplicative
Gaussian noise, seed 0, one missing value) and `docs/fitting.png` (the fit of
`examples/lotka_volterra_start.sf`, which starts from wrong defaults).

Run from the repository root: `python3 docs/make_fitting_example.py`.
"""

import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symflow  # noqa: E402

TRUE = {"alpha": 1.5, "beta": 1.0, "gamma": 3.0, "delta": 1.0}


def main() -> None:
    m = symflow.load(ROOT / "examples" / "lotka_volterra.sf")
    ts = np.linspace(0.25, 10, 40)
    sol = m.simulate(TRUE, saveat=ts)
    rows = np.searchsorted(np.asarray(sol.t), ts)
    rng = np.random.default_rng(0)
    x = np.asarray(sol["x"])[rows] * (1 + 0.01 * rng.standard_normal(ts.size))
    y = np.asarray(sol["y"])[rows] * (1 + 0.01 * rng.standard_normal(ts.size))
    path = ROOT / "examples" / "lotka_volterra_data.csv"
    with open(path, "w") as f:
        f.write("# Lotka-Volterra, alpha=1.5 beta=1 gamma=3 delta=1, 1% noise (seed 0)\n")
        f.write("t,x,y\n")
        for i, (a, b, c) in enumerate(zip(ts, x, y)):
            f.write(f"{a:.6g},{'' if i == 7 else f'{b:.8g}'},{c:.8g}\n")
    print(f"wrote {path}")
    start = symflow.load(ROOT / "examples" / "lotka_volterra_start.sf")
    result = start.fit(path, scale="relative")
    print(result.table())
    result.plot(ROOT / "docs" / "fitting.png")
    print("wrote docs/fitting.png")


if __name__ == "__main__":
    main()
