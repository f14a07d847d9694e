"""Ensembles of jump trajectories against exact distributions and moment equations.

- birth–death (0 -> X at k, X -> 0 at g X): at large times X ~ Poisson(k/g);
- a linear chain (0 -> A at k1, A -> B at k2 A, B -> 0 at k3 B): its means and
  covariances solve the (closed, exact) moment equations
  dm/dt = S^T a(m), dC/dt = J C + C J^T + S^T diag(a(m)) S.

Fixed seeds: each statistical check is deterministic, and each tolerance is a
few standard errors, so that a rate off by a few percent or a save one jump
late fails it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

from symflow.errors import SolverError, SymflowError
from symflow.solve.jumps import Direct, JumpProgram, TauLeaping, simulate_jumps, trajectory

BIRTH_DEATH = JumpProgram(lambda t, n, p: jnp.stack([p["k"], p["g"] * n[0]]),
                          np.array([[1], [-1]]), ("X",))
BD_PARAMS = {"k": 8.0, "g": 1.0}

CHAIN_CHANGES = np.array([[1, 0], [-1, 1], [0, -1]])


def chain_propensities(t, n, p):
    return jnp.stack([p["k1"], p["k2"] * n[0], p["k3"] * n[1]])


def chain_propensities_in_time(t, n, p):
    """The chain with births at k1 (1 + w sin t) (`w = 0`: the chain)."""
    return jnp.stack([p["k1"] * (1 + p["w"] * jnp.sin(t)), p["k2"] * n[0], p["k3"] * n[1]])


CHAIN = JumpProgram(chain_propensities, CHAIN_CHANGES, ("A", "B"))
CHAIN_IN_TIME = JumpProgram(chain_propensities_in_time, CHAIN_CHANGES, ("A", "B"))
CHAIN_PARAMS = {"k1": 10.0, "k2": 1.0, "k3": 0.5}
CHAIN_N0 = np.array([5.0, 2.0])
CHAIN_TS = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
TRAJECTORIES = 2000


def chain_moments(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact means `(len(ts), 2)` and covariances `(len(ts), 2, 2)` of the chain."""
    k1, k2, k3 = (CHAIN_PARAMS[k] for k in ("k1", "k2", "k3"))
    S = CHAIN_CHANGES.astype(float)
    J = np.array([[-k2, 0.0], [k2, -k3]])

    def rhs(t, y):
        m, C = y[:2], y[2:].reshape(2, 2)
        a = np.array([k1, k2 * m[0], k3 * m[1]])
        return np.concatenate([S.T @ a, (J @ C + C @ J.T + S.T @ np.diag(a) @ S).ravel()])

    y0 = np.concatenate([CHAIN_N0, np.zeros(4)])
    sol = scipy.integrate.solve_ivp(rhs, (0.0, ts[-1]), y0, t_eval=ts, rtol=1e-10,
                                    atol=1e-12)
    return sol.y[:2].T, sol.y[2:].T.reshape(-1, 2, 2)


def assert_moments_match(A: np.ndarray, B: np.ndarray, ts: np.ndarray, *,
                         sigmas: float, bias: float = 0.0) -> None:
    """Sample means, variances and the covariance of paths `A`, `B` against the exact
    ones, within `sigmas` standard errors (normal approximations) plus `bias`
    (relative, for approximate methods)."""
    mean, cov = chain_moments(ts)
    n = A.shape[0]
    for j in range(1, len(ts)):  # t = ts[0] is the fixed start
        vA, vB, cAB = cov[j, 0, 0], cov[j, 1, 1], cov[j, 0, 1]
        got = np.cov(A[:, j], B[:, j])
        checks = [
            ("mean A", A[:, j].mean(), mean[j, 0], np.sqrt(vA / n)),
            ("mean B", B[:, j].mean(), mean[j, 1], np.sqrt(vB / n)),
            ("var A", got[0, 0], vA, vA * np.sqrt(2 / (n - 1))),
            ("var B", got[1, 1], vB, vB * np.sqrt(2 / (n - 1))),
            ("cov AB", got[0, 1], cAB, np.sqrt((vA * vB + cAB**2) / (n - 1))),
        ]
        for what, value, want, se in checks:
            assert abs(value - want) <= sigmas * se + bias * abs(want), (
                f"{what} at t = {ts[j]}: {value:.4f}, exact {want:.4f}, se {se:.4f}")


def test_birth_death_is_poisson_at_large_times():
    sol = simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0, 15.0],
                         trajectories=TRAJECTORIES, seed=1)
    x = np.asarray(sol["X"][:, -1])
    assert sol["X"].shape == (TRAJECTORIES, 2) and np.all(sol["X"][:, 0] == 0)
    lam = BD_PARAMS["k"] / BD_PARAMS["g"]
    # bins 0..3 and 14.. pooled (12 bins): every expected count at least 5 (here >= 68)
    observed = np.bincount(np.clip(x.astype(int), 3, 14) - 3, minlength=12)
    cdf = scipy.stats.poisson.cdf(np.arange(3, 14), lam)
    expected = TRAJECTORIES * np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    assert observed.size == expected.size == 12 and expected.min() >= 5
    assert scipy.stats.chisquare(observed, expected).pvalue > 1e-3
    se_mean, se_var = np.sqrt(lam / TRAJECTORIES), np.sqrt((2 * lam**2 + lam) / TRAJECTORIES)
    assert abs(x.mean() - lam) < 4 * se_mean
    assert abs(x.var(ddof=1) - lam) < 4 * se_var
    # the ensemble's own statistics are those of its paths
    np.testing.assert_allclose(sol.mean["X"][-1], x.mean(), rtol=1e-12)
    np.testing.assert_allclose(sol.std["X"][-1], x.std(ddof=1), rtol=1e-12)


def test_a_wrong_rate_fails_the_birth_death_check():
    """The check above can fail: a birth rate 10% too high is rejected."""
    sol = simulate_jumps(BIRTH_DEATH, [0], {"k": 8.8, "g": 1.0}, [0.0, 15.0],
                         trajectories=TRAJECTORIES, seed=1)
    x = np.asarray(sol["X"][:, -1])
    assert abs(x.mean() - 8.0) > 4 * np.sqrt(8.0 / TRAJECTORIES)


def test_the_direct_method_has_the_moments_of_the_linear_chain():
    sol = simulate_jumps(CHAIN, CHAIN_N0, CHAIN_PARAMS, CHAIN_TS, trajectories=TRAJECTORIES,
                         seed=2)
    A, B = np.asarray(sol["A"]), np.asarray(sol["B"])
    np.testing.assert_array_equal(A[:, 0], 5.0)  # the state at t0 is n0
    assert_moments_match(A, B, CHAIN_TS, sigmas=4.5)


def test_tau_leaping_matches_the_moments_within_its_bias():
    # (the same compiled program as the next two tests: only tau and the values differ)
    sol = simulate_jumps(CHAIN_IN_TIME, CHAIN_N0, {**CHAIN_PARAMS, "w": 0.0}, CHAIN_TS,
                         solver="tau_leaping", tau=0.02, trajectories=TRAJECTORIES, seed=3)
    A, B = np.asarray(sol["A"]), np.asarray(sol["B"])
    assert np.all(A == np.round(A)) and np.all(B == np.round(B))
    # the bias of explicit tau-leaping is O(tau): at tau = 0.02, k2 tau = 2%
    assert_moments_match(A, B, CHAIN_TS, sigmas=4.5, bias=0.02)


def test_tau_leaping_never_goes_negative():
    """A decays (A -> B at k2 A, no births) with k2 tau = 3, the leaps cut at the save
    times: from small counts many leaps would overshoot below zero; they are
    replaced by exact steps."""
    ts = np.array([0.0, 0.1, 0.2, 0.4, 0.4])
    params = {"k1": 0.0, "k2": 3.0, "k3": 0.5, "w": 0.0}
    sol = simulate_jumps(CHAIN_IN_TIME, [20, 0], params, ts, solver=TauLeaping(tau=1.0),
                         trajectories=TRAJECTORIES, seed=4)
    A, B = np.asarray(sol["A"]), np.asarray(sol["B"])
    assert min(A.min(), B.min()) >= 0 and np.all(A == np.round(A))
    mean = A.mean(axis=0)
    # Leaps of h = 0.1, 0.1, 0.2: while counts are large none is rejected, and the
    # mean follows explicit Euler, 20 (1 - k2 h) per leap (exact: 20 e^{-k2 t})
    leaps = 20 * np.cumprod([1.0, 0.7, 0.7, 0.4])
    assert np.all(np.abs(mean[:3] - leaps[:3]) < 4 * np.sqrt(leaps[:3] * 0.3 / TRAJECTORIES))
    # the last leap (k2 h = 0.6) often would go negative: the exact steps that
    # replace it lift the mean above Euler's, towards the exact mean
    assert leaps[3] + 0.1 < mean[3] < 20 * np.exp(-3.0 * 0.4)


def test_tau_leaping_reads_time_dependent_rates_at_each_leap():
    """Births at k1 (1 + sin t), nothing else: A(t) is Poisson with mean
    k1 (t + 1 - cos t); with leaps, Poisson with the left Riemann sum of the rate."""
    params = {"k1": 5.0, "k2": 0.0, "k3": 0.0, "w": 1.0}
    with pytest.raises(SymflowError, match="depend on time"):
        simulate_jumps(CHAIN_IN_TIME, [0, 0], params, [0.0, 3.0])
    ts = np.array([0.0, 0.5, 1.0, 1.5])
    sol = simulate_jumps(CHAIN_IN_TIME, [0, 0], params, ts, solver="tau_leaping",
                         tau=0.5, trajectories=TRAJECTORIES, seed=5)
    # one leap per save interval, rate read at its start: Poisson, exactly
    riemann = np.concatenate([[0.0], np.cumsum(5.0 * (1 + np.sin(ts[:-1])) * 0.5)])
    exact = 5.0 * (ts + 1 - np.cos(ts))
    got = np.asarray(sol.mean["A"])
    se = np.sqrt(np.maximum(riemann, 1e-12) / TRAJECTORIES)
    assert np.all(np.abs(got - riemann) < 4 * se)
    assert np.all(np.abs(np.asarray(sol.std["A"][1:])**2 - riemann[1:])
                  < 4 * np.sqrt((2 * riemann[1:]**2 + riemann[1:]) / TRAJECTORIES))
    assert abs(got[-1] - exact[-1]) > 4 * se[-1]  # at tau = 0.5 the O(tau) bias shows


def test_chunks_seeds_and_statistics_only():
    ts = [0.0, 1.0, 2.0]
    whole = simulate_jumps(BIRTH_DEATH, [3], BD_PARAMS, ts, trajectories=50, seed=7)
    chunked = simulate_jumps(BIRTH_DEATH, [3], BD_PARAMS, ts, trajectories=50, seed=7,
                             chunk_size=16)  # 3 chunks of 16 and the 2 left
    np.testing.assert_array_equal(np.asarray(whole["X"]), np.asarray(chunked["X"]))
    again = simulate_jumps(BIRTH_DEATH, {"X": 3}, BD_PARAMS, ts, trajectories=50, seed=7)
    np.testing.assert_array_equal(np.asarray(whole["X"]), np.asarray(again["X"]))
    other = simulate_jumps(BIRTH_DEATH, [3], BD_PARAMS, ts, trajectories=50, seed=8)
    assert not np.array_equal(np.asarray(whole["X"]), np.asarray(other["X"]))
    stats = simulate_jumps(BIRTH_DEATH, [3], BD_PARAMS, ts, trajectories=50, seed=7,
                           stats_only=True, quantiles=(0.1, 0.5, 0.9))
    assert stats.paths is None and stats.names == ("X",)
    np.testing.assert_allclose(np.asarray(stats.quantile("X", 0.9)),
                               np.quantile(np.asarray(whole["X"]), 0.9, axis=0))
    np.testing.assert_allclose(np.asarray(stats.mean["X"]), np.asarray(whole.mean["X"]))
    with pytest.raises(SymflowError, match="statistics only"):
        stats["X"]


def test_save_times_may_repeat_and_a_network_may_stop():
    """No reaction can fire from X = 0 in a pure decay (birth–death without births):
    every save is the last state, without a step (max_steps = 1 suffices)."""
    ts = np.array([0.0, 0.0, 5.0, 5.0, 9.0])
    sol = simulate_jumps(BIRTH_DEATH, [1], {"k": 0.0, "g": 50.0}, ts, trajectories=50,
                         max_steps=1)
    np.testing.assert_array_equal(np.asarray(sol["X"]), [[1, 1, 0, 0, 0]] * 50)
    assert np.all(np.asarray(sol.result) == 0)


def test_one_trajectory_is_the_ensembles_member_with_its_key():
    sol = simulate_jumps(BIRTH_DEATH, [3], BD_PARAMS, [0.0, 1.0, 2.0], trajectories=50,
                         seed=7)
    key = jax.random.split(jax.random.PRNGKey(7), 50)[13]
    one = trajectory(Direct(), BIRTH_DEATH, key, jnp.array([3.0]), BD_PARAMS,
                     jnp.array([0.0, 1.0, 2.0]), t0=0.0, max_steps=1000)
    np.testing.assert_array_equal(np.asarray(one.counts[:, 0]), np.asarray(sol["X"][13]))
    assert int(one.result) == 0 and float(one.t) == 2.0 and int(one.steps) > 0


def test_too_few_steps_raise_a_solver_error_naming_the_time_reached():
    with pytest.raises(SolverError, match=r"trajectories failed .* at t = .*max_steps") as info:
        simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0, 15.0], trajectories=50,
                       max_steps=30)
    assert 0.0 < info.value.t < 15.0
    assert "raise max_steps (now 30)" in (info.value.help or "")


def test_propensities_that_break_the_counts_are_reported():
    # a constant rate for X -> 0: it fires at X = 0 and the count goes negative
    leaky = JumpProgram(lambda t, n, p: jnp.stack([p["g"] + 0.0 * n[0]]), np.array([[-1]]),
                        ("X",))
    with pytest.raises(SolverError, match="went below zero"):
        simulate_jumps(leaky, [2], {"g": 1.0}, [0.0, 50.0], trajectories=10)
    # a rate that turns negative after the first birth
    negative = JumpProgram(lambda t, n, p: jnp.stack([p["g"] - 3 * n[0]]), np.array([[1]]),
                           ("X",))
    with pytest.raises(SolverError, match="negative or not finite"):
        simulate_jumps(negative, [0], {"g": 2.0}, [0.0, 50.0], trajectories=10)


@pytest.mark.parametrize("call, match", [
    (lambda: simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [1.0, 0.0]), "must not decrease"),
    (lambda: simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0, 1.0], t0=0.5), "after the"),
    (lambda: simulate_jumps(BIRTH_DEATH, [0, 1], BD_PARAMS, [0.0]), "shape"),
    (lambda: simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0], trajectories=0), "at least 1"),
    (lambda: simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0], chunk_size=2.5), "whole"),
    (lambda: simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0], quantiles=(2,)), "quantile"),
    (lambda: simulate_jumps(BIRTH_DEATH, [0], BD_PARAMS, [0.0], solver="ssa"), "unknown"),
    (lambda: simulate_jumps("model", [0], BD_PARAMS, [0.0]), "needs a JumpProgram"),
])
def test_bad_options_are_refused(call, match):
    with pytest.raises(SymflowError, match=match):
        call()
