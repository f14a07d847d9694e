"""`ModelSampling.simulate` (solve/diffusion/side.py): the per-call work around the
compiled sampling program. The batch drawn from a seed must be the ensembles'
draws bit for bit (checked against the draw written out eagerly here), the
samples the same as from that batch given as `initial`, and the quantiles
computed only when read, equal to NumPy's."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from symflow.solve.stochastic import EnsembleSolution, ensemble_solution

ROOT = pathlib.Path(__file__).resolve().parents[3]
N = 300


@pytest.fixture(scope="module")
def model():
    return symflow.load(ROOT / "examples" / "vp_sampler.sf")


def eager_batch(model, params, n: int, seed: int) -> np.ndarray:
    """The initial batch as `simulate` drew it before: an eager `jax.vmap` over the
    keys of the ensembles (split from `PRNGKey(seed)`), one draw per key."""
    runner = model.runner.ensembles.runner  # noqa: SLF001
    g = model.generated

    def one(key):
        values = dict(g.initial_values(params))
        values.update(runner.random_initial(key, params))
        return model.runner.simulator.pack(values)  # noqa: SLF001

    return np.asarray(jax.vmap(one)(jax.random.split(jax.random.PRNGKey(seed), n)))


@pytest.mark.parametrize("solver", ["ddim", "unipc_3"])
def test_seeded_batch_is_the_eager_draw_bit_for_bit(model, solver):
    p = model.complete_params(None)
    x0 = eager_batch(model, p, N, 7)
    np.testing.assert_array_equal(np.asarray(model.runner.sampling.initial_batch(p, N, 7)), x0)  # noqa: SLF001
    sol = model.simulate(solver=solver, steps=10, saveat=2, trajectories=N, seed=7)
    given = model.simulate(solver=solver, steps=10, saveat=2, initial={"x": x0[:, 0]})
    np.testing.assert_array_equal(np.asarray(sol["x"])[:, 0], x0[:, 0])
    np.testing.assert_array_equal(np.asarray(sol["x"]), np.asarray(given["x"]))
    other = model.simulate(solver=solver, steps=10, saveat=2, trajectories=N, seed=8)
    assert not np.array_equal(np.asarray(other["x"]), np.asarray(sol["x"]))


def test_quantiles_wait_until_read(model, monkeypatch):
    from symflow.solve.stochastic import solution as _ensemble

    calls = []
    original = _ensemble.quantiles_of
    monkeypatch.setattr(_ensemble, "quantiles_of",
                        lambda *a: calls.append(a) or original(*a))
    options = dict(solver="ddim", steps=10, saveat=3, trajectories=N, seed=1)
    sol = model.simulate(**options)
    assert sol.given_quantiles is None and "quantiles" not in sol.__dict__ and not calls
    q = sol.quantiles
    assert len(calls) == 1 and sol.quantiles is q and len(calls) == 1  # then kept
    levels = sol.quantile_levels
    want = np.quantile(np.asarray(sol["x"]), levels, axis=0)
    np.testing.assert_array_equal(np.asarray(sol.quantiles["x"]), want)
    np.testing.assert_array_equal(np.asarray(sol.quantile("x", 0.5)), want[levels.index(0.5)])
    # stats_only keeps no paths: the quantiles are taken at once, and are the same
    stats = model.simulate(**options, stats_only=True)
    assert stats.paths is None and stats.given_quantiles is not None
    np.testing.assert_array_equal(np.asarray(stats.quantiles["x"]), want)
    np.testing.assert_array_equal(np.asarray(stats.mean["x"]), np.asarray(sol.mean["x"]))


def test_quantiles_under_jit_match_the_concrete_ones(model):
    options = dict(solver="ddim", steps=10, saveat=2, trajectories=N, seed=2)
    concrete = model.simulate(**options)

    @jax.jit
    def quantiles(params):
        return model.simulate(params, **options).quantiles["x"]

    np.testing.assert_allclose(np.asarray(quantiles(model.params)),
                               np.asarray(concrete.quantiles["x"]), rtol=1e-12, atol=1e-12)


def test_ensemble_solution_from_a_kept_structure_equals_the_constructor():
    rng = np.random.default_rng(0)
    fields = dict(t=jnp.asarray([0.0, 1.0]), paths={"x": jnp.asarray(rng.normal(size=(5, 2)))},
                  mean={"x": jnp.zeros(2)}, std={"x": jnp.ones(2)},
                  result=jnp.zeros(5, dtype=jnp.int32), sweep={}, names=("x",),
                  quantile_levels=(0.1, 0.9))
    for _ in range(2):  # the second call unflattens the kept structure
        fast = ensemble_solution(**fields)
        slow = EnsembleSolution(**fields)
        assert jax.tree.structure(fast) == jax.tree.structure(slow)
        for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(slow)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        np.testing.assert_array_equal(np.asarray(fast.quantiles["x"]),
                                      np.quantile(np.asarray(fields["paths"]["x"]),
                                                  (0.1, 0.9), axis=0))
    with pytest.raises(ValueError, match="needs its statistics"):
        ensemble_solution(**{**fields, "paths": None})


def test_two_end_statistics_wait_until_read_and_equal_numpy(model):
    sol = model.simulate(solver="deis_2", steps=6, trajectories=N, saveat=2, seed=4)
    assert sol.given_mean is None and sol.given_std is None
    x = np.asarray(sol["x"])
    np.testing.assert_allclose(np.asarray(sol.mean["x"]), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(sol.std["x"]), x.std(axis=0, ddof=1), rtol=1e-12)
    only = model.simulate(solver="deis_2", steps=6, trajectories=N, saveat=2, seed=4,
                          stats_only=True)
    assert only.paths is None
    np.testing.assert_allclose(np.asarray(only.mean["x"]), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(only.std["x"]), x.std(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.slow
def test_kept_coefficients_follow_the_schedule_parameters(model):
    """The two-end program's coefficients are kept per parameter values: changing
    beta_max changes the samples (to those of diffrax's loop, which computes
    everything in the program), and changing it back gives the first ones again;
    a gradient in beta_max (traced, so computed in the program) matches central
    finite differences."""
    x0 = np.random.default_rng(5).normal(size=64)

    def final(beta_max, saveat=2):
        sol = model.simulate({"beta_max": beta_max}, solver="unipc_2", steps=4,
                             initial={"x": x0}, saveat=saveat)
        return np.asarray(sol["x"][:, -1])

    first, other = final(20.0), final(15.0)
    assert np.max(np.abs(first - other)) > 1e-3
    np.testing.assert_allclose(other, final(15.0, saveat=3), atol=1e-12)
    np.testing.assert_array_equal(final(20.0), first)

    def loss(beta_max):
        sol = model.simulate({"beta_max": beta_max}, solver="unipc_2", steps=4,
                             initial={"x": x0}, saveat=2)
        return jnp.mean(jnp.sin(sol["x"][:, -1]))

    grad = float(jax.grad(loss)(jnp.asarray(20.0)))
    h = 1e-4
    fd = (float(loss(20.0 + h)) - float(loss(20.0 - h))) / (2 * h)
    assert abs(grad - fd) < 1e-6 * max(1.0, abs(fd)), (grad, fd)
    assert abs(grad) > 1e-6
