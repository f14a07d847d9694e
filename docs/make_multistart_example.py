"""Generate the multistart and profile figures of docs/fitting.md.

Writes `docs/multistart_waterfall.png` (50 Latin-hypercube starts of the
FitzHugh–Nagumo fit: `tests/models/fitzhugh_nagumo.sf`, V measured at 80 times
over [0, 40] with noise 0.05, seed 0, made at a = b = 0.2, c = 3) and
`docs/profiles.png` (the profiles of the same fit's a, b and c), and prints the
tables quoted in the text.

Run from the repository root: `python3 docs/make_multistart_example.py`.
"""

import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symflow  # noqa: E402


def main() -> None:
    m = symflow.load(ROOT / "tests" / "models" / "fitzhugh_nagumo.sf")
    ts = np.linspace(0.5, 40, 80)
    sol = m.simulate({"a": 0.2, "b": 0.2, "c": 3.0}, saveat=ts)
    rows = np.searchsorted(np.asarray(sol.t), ts)
    rng = np.random.default_rng(0)
    data = {"t": ts, "V": np.asarray(sol["V"])[rows] + 0.05 * rng.standard_normal(ts.size)}
    r = m.fit(data, starts=50, steps=300, seed=0)
    print(r.table())
    r.multistart.plot(ROOT / "docs" / "multistart_waterfall.png")
    res = m.profile(data, best=r, steps=300)
    print(res.table())
    res.plot(ROOT / "docs" / "profiles.png")


if __name__ == "__main__":
    main()
