"""Generate the synthetic concentration data of the multi-dose example (docs/events.md).

Writes `examples/multidose_pk_data.csv`: `examples/multidose_pk.sf` simulated with
CL = 2.0 L/h and V = 20.0 L on [0, 130] h (a 100 mg dose every 12 h: eleven doses,
at 0, 12, ..., 120 h), the concentration C sampled at 30 times (1, 4 and 8 h after
each of the first eight doses, then six more up to 130 h: `TIMES`), with 5%
multiplicative Gaussian noise (seed 0).

Run from the repository root: `python examples/make_multidose_pk_data.py`.
"""

import os
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symflow  # noqa: E402

TRUE = {"CL": 2.0, "V": 20.0}
TIMES = np.sort(np.concatenate([12.0 * k + np.array([1.0, 4.0, 8.0]) for k in range(8)]
                               + [np.array([97.0, 100.0, 104.0, 110.0, 118.0, 130.0])]))
NOISE = 0.05


def main() -> None:
    m = symflow.load(ROOT / "examples" / "multidose_pk.sf")
    sol = m.simulate(TRUE, tspan=(0, 130), saveat=TIMES)
    rows = np.searchsorted(np.asarray(sol.t), TIMES)
    rng = np.random.default_rng(0)
    c = np.asarray(sol["C"])[rows] * (1 + NOISE * rng.standard_normal(TIMES.size))
    path = ROOT / "examples" / "multidose_pk_data.csv"
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w") as f:
        f.write("# multidose_pk.sf with CL=2 V=20, 5% multiplicative noise (seed 0)\n")
        f.write("t,C\n")
        for t, value in zip(TIMES, c):
            f.write(f"{t:g},{value:.8g}\n")
    os.replace(tmp, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
