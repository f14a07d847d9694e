"""symflow itself (not the twins) at NFE 10 / 20 on the tuned grid: a few samplers.

    python benchmarks/samplers_focus.py

RMSE of 500 final samples against Dopri8 (rtol 1e-11) from the same noise, as
in `samplers.py`, for DEIS-3, iPNDM, UniPC-2 and DEIS-2 on `grid = power`,
`grid_exponent = 1.25` (the 1-D three-component and the 2-D mixture) and on the
quadratic grid (2-D). `saveat = 3` runs the diffrax loop, which compiles much
faster than the unrolled ends and gives the same samples to 1e-12
(tests/solve/test_samplers.py::test_unrolled_ends_equal_the_diffrax_loop).
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import samplers as bench  # noqa: E402  (enables float64)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import symflow  # noqa: E402


def main() -> None:
    for key, text in (("1d3", bench.MIXTURE_3), ("2d3", bench.MIXTURE_2D)):
        model = symflow.loads(text)
        names = model.state_names
        x0 = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (500, len(names))))
        ref, _ = bench.diffrax_solve(model, jnp.asarray(x0), bench.diffrax.Dopri8(), rtol=1e-11)
        grids = [("power", 1.25)] if key == "1d3" else [("power", 1.25), ("quadratic", None)]
        for grid, exponent in grids:
            for name in ("deis_3", "ipndm", "unipc_2", "deis_2"):
                errs = []
                for nfe in (10, 20):
                    sol = model.simulate(solver=name, steps=nfe, saveat=3, grid=grid,
                                         grid_exponent=exponent,
                                         initial={k: x0[:, i] for i, k in enumerate(names)})
                    y = np.stack([np.asarray(sol[k][:, -1]) for k in names], axis=-1)
                    errs.append(bench.rmse(y, ref))
                print(f"| {key} | {grid} {exponent or ''} | {name} | {errs[0]:.3g} / "
                      f"{errs[1]:.3g} |", flush=True)


if __name__ == "__main__":
    main()
