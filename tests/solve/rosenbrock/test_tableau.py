"""The published coefficients satisfy the order conditions of their stated orders.

Each method is stored in the transformed variables (`a`, `C`, `m`); `classical()`
recovers the papers' α, Γ and b, and the test checks the Rosenbrock order
conditions (Hairer & Wanner, *Solving ODEs II*, §IV.7) on every rooted tree up to
one order past the method's: `Σ b_i Φ_i(τ) = 1/γ(τ)`, where the elementary weight
uses β = α + Γ on a vertex with one child (the Jacobian terms) and α on a vertex
with several. A wrong digit in any coefficient breaks a condition by far more than
rounding; one order past, some condition must fail (the order is not higher).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from symflow.solve.rosenbrock import RODAS4, RODAS5P, ROS3P, RosenbrockTableau

Tree = tuple  # a rooted tree: the sorted tuple of its root's subtrees


@functools.cache
def trees(n: int) -> tuple[Tree, ...]:
    """Every rooted tree with `n` vertices (1, 1, 2, 4, 9, 20 of them)."""
    if n == 1:
        return ((),)
    found: set[Tree] = set()

    def forests(size: int, largest: int) -> list[tuple[Tree, ...]]:
        if size == 0:
            return [()]
        out = []
        for k in range(min(size, largest), 0, -1):
            for t in trees(k):
                out.extend((t, *rest) for rest in forests(size - k, k))
        return out

    for forest in forests(n - 1, n - 1):
        found.add(tuple(sorted(forest)))
    return tuple(sorted(found))


def order_of(t: Tree) -> int:
    return 1 + sum(order_of(c) for c in t)


def density(t: Tree) -> int:
    return order_of(t) * math.prod(density(c) for c in t)


def weights(t: Tree, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    if not t:
        return np.ones(alpha.shape[0])
    w = beta if len(t) == 1 else alpha
    return np.prod([w @ weights(c, alpha, beta) for c in t], axis=0)


def defects(tab: RosenbrockTableau, n: int, *, embedded: bool = False) -> list[float]:
    alpha, big_gamma, b, b_hat = tab.classical()
    beta = alpha + big_gamma
    weights_of = b_hat if embedded else b
    return [abs(weights_of @ weights(t, alpha, beta) - 1.0 / density(t)) for t in trees(n)]


def test_the_trees_are_counted_right():
    assert [len(trees(n)) for n in range(1, 7)] == [1, 1, 2, 4, 9, 20]


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4, ROS3P], ids=lambda t: t.name)
def test_order_conditions(tab):
    for n in range(1, tab.order + 1):
        assert max(defects(tab, n)) < 1e-12, (tab.name, n)
    assert max(defects(tab, tab.order + 1)) > 1e-4
    for n in range(1, tab.embedded_order + 1):
        assert max(defects(tab, n, embedded=True)) < 1e-12, (tab.name, "embedded", n)
    assert max(defects(tab, tab.embedded_order + 1, embedded=True)) > 1e-4


@pytest.mark.parametrize("tab", [RODAS5P, RODAS4, ROS3P], ids=lambda t: t.name)
def test_stage_times_and_time_derivative_weights_are_consistent(tab):
    # c_i = Σ_j α_ij and d_i = Σ_j γ_ij: what a non-autonomous problem needs
    alpha, big_gamma, _, _ = tab.classical()
    np.testing.assert_allclose(alpha.sum(axis=1), tab.c, atol=1e-12)
    np.testing.assert_allclose(big_gamma.sum(axis=1), tab.d, atol=1e-12)
    np.testing.assert_allclose(np.diag(big_gamma), tab.gamma, rtol=1e-12)


def stability(tab: RosenbrockTableau, z: float) -> float:
    """R(z) = 1 + z bᵀ (I - z β)⁻¹ 1, the step's factor on y' = λy, z = hλ."""
    alpha, big_gamma, b, _ = tab.classical()
    s = tab.stages
    return 1.0 + z * b @ np.linalg.solve(np.eye(s) - z * (alpha + big_gamma), np.ones(s))


def test_rodas_methods_are_l_stable_and_ros3p_a_stable():
    # Rodas: stiffly accurate, so R(∞) = 0; ROS3P is A-stable but not L-stable
    for tab in (RODAS5P, RODAS4):
        assert abs(stability(tab, -1e12)) < 1e-9
    assert 0.5 < abs(stability(ROS3P, -1e12)) < 1.0
    for tab in (RODAS5P, RODAS4, ROS3P):
        assert all(abs(stability(tab, z)) <= 1.0 for z in -np.logspace(-3, 6, 50))
