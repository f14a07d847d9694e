"""`-o out.npz` and `--plot` for a field on a 2-D grid."""

from __future__ import annotations

import numpy as np

from symflow.cli import main

MODEL = """model Diffusion2D
  domain
    x in [0, 1], points = 9
    y in [0, 2], points = 12, periodic
  variables
    u(x, y) = sin(pi*x)*(1 + cos(pi*y))
  equations
    der(u) = laplacian(u)
  boundary
    u = 0 at x = 0
    u = 0 at x = 1
  simulate
    tspan = [0, 0.05]
end
"""


def test_npz_keeps_the_grid_shape_and_the_plot_is_an_image(tmp_path):
    path = tmp_path / "d.sf"
    path.write_text(MODEL)
    out, png = tmp_path / "out.npz", tmp_path / "u.png"
    assert main(["run", str(path), "-o", str(out), "--plot", str(png), "--saveat", "4"]) == 0
    data = np.load(out)
    assert data["u"].shape == (4, 9, 12)
    np.testing.assert_allclose(data["grid.x"], np.linspace(0, 1, 9))
    np.testing.assert_allclose(data["grid.y"], np.arange(12) * 2 / 12)
    x, y = np.meshgrid(data["grid.x"], data["grid.y"], indexing="ij")
    np.testing.assert_allclose(data["u"][0], np.sin(np.pi * x) * (1 + np.cos(np.pi * y)),
                               atol=1e-12)
    assert png.stat().st_size > 10_000
