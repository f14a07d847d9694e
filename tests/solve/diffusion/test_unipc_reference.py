"""`unipc_2` is the published UniPC-2: the update rule of the reference
implementation (Zhao et al. 2023, github.com/wl-zhao/UniPC, `uni_pc.py`,
`multistep_uni_pc_bh_update` with its defaults `variant="bh1"`,
`algorithm_type="data_prediction"`, `lower_order_final=True`), written again here
in NumPy, step by step, from the paper's and the reference's definitions: the
linear VP schedule in closed form, the exact score of the noised two-component
mixture of `examples/vp_sampler.sf`, the log-SNR grid, the model-evaluation
lists of the reference's multistep loop. `unipc_2_exact` solves every ρ system
(and keeps B(h) = e^{-h} - 1) and differs from it.
"""

from __future__ import annotations

import math
import pathlib

import jax
import numpy as np
import pytest

import symflow

ROOT = pathlib.Path(__file__).resolve().parents[3]
BETA_0, BETA_1, M, S = 0.1, 20.0, 2.0, 0.5  # examples/vp_sampler.sf
T_START, T_END = 1.0, 1e-3


def log_alpha(t: float) -> float:
    return -0.25 * t**2 * (BETA_1 - BETA_0) - 0.5 * t * BETA_0


def sigma(t: float) -> float:
    return math.sqrt(1.0 - math.exp(2.0 * log_alpha(t)))


def lam(t: float) -> float:
    """λ = log α - log σ, the half log-SNR."""
    return log_alpha(t) - math.log(sigma(t))


def t_of_lam(value: float) -> float:
    """The inverse of λ for the linear schedule (a quadratic in t)."""
    big_l = math.log1p(math.exp(-2.0 * value))  # -2 log α
    return 2.0 * big_l / (math.sqrt(BETA_0**2 + 2.0 * (BETA_1 - BETA_0) * big_l) + BETA_0)


def data_prediction(x: np.ndarray, t: float) -> np.ndarray:
    """x̂₀ = (x - σ ε̂)/α, ε̂ = -σ ∇log p_t: p_t is 0.5 N(±α M, α² S² + σ²)."""
    alpha, sig = math.exp(log_alpha(t)), sigma(t)
    var = alpha**2 * S**2 + sig**2
    plus, minus = -((x - alpha * M) ** 2), -((x + alpha * M) ** 2)
    top = np.maximum(plus, minus)
    w_plus = np.exp(plus / (2 * var) - top / (2 * var))
    w_minus = np.exp(minus / (2 * var) - top / (2 * var))
    score = (-(x - alpha * M) * w_plus - (x + alpha * M) * w_minus) / (var * (w_plus + w_minus))
    eps = -sig * score
    return (x - sig * eps) / alpha


def uni_pc_update(x, models, times, t, order, use_corrector):
    """One `multistep_uni_pc_bh_update` with B(h) = hh = -h (`bh1`), data
    prediction: `models`, `times` oldest first, as the reference keeps them."""
    lam_0, lam_t = lam(times[-1]), lam(t)
    h = lam_t - lam_0
    m_0 = models[-1]
    rks, d1s = [], []
    for i in range(1, order):
        rk = (lam(times[-(i + 1)]) - lam_0) / h
        rks.append(rk)
        d1s.append((models[-(i + 1)] - m_0) / rk)
    rks.append(1.0)
    hh = -h
    h_phi_1 = math.expm1(hh)
    b_h = hh
    # b_i = i! φ_{i+1}(hh) hh / B(h), by the reference's recursion
    h_phi_k, factorial, r_rows, b = h_phi_1 / hh - 1.0, 1, [], []
    for i in range(1, order + 1):
        r_rows.append([rk ** (i - 1) for rk in rks])
        b.append(h_phi_k * factorial / b_h)
        factorial *= i + 1
        h_phi_k = h_phi_k / hh - 1.0 / factorial
    r_matrix, b_vec = np.array(r_rows), np.array(b)
    rhos_p = None
    if d1s:
        rhos_p = np.array([0.5]) if order == 2 else np.linalg.solve(r_matrix[:-1, :-1],
                                                                    b_vec[:-1])
    rhos_c = (np.array([0.5]) if order == 1 else np.linalg.solve(r_matrix, b_vec))
    alpha_t = math.exp(log_alpha(t))
    x_t_ = sigma(t) / sigma(times[-1]) * x - alpha_t * h_phi_1 * m_0
    pred_res = sum(r * d for r, d in zip(rhos_p, d1s)) if d1s else 0.0
    x_t = x_t_ - alpha_t * b_h * pred_res
    if not use_corrector:
        return x_t, None
    model_t = data_prediction(x_t, t)
    corr_res = sum(r * d for r, d in zip(rhos_c[:-1], d1s)) if d1s else 0.0
    x_t = x_t_ - alpha_t * b_h * (corr_res + rhos_c[-1] * (model_t - m_0))
    return x_t, model_t


def reference_unipc(x: np.ndarray, steps: int, order: int = 2) -> np.ndarray:
    """The reference's `sample(method="multistep", skip_type="logSNR",
    lower_order_final=True)` loop."""
    lams = np.linspace(lam(T_START), lam(T_END), steps + 1)
    grid = [t_of_lam(v) for v in lams]
    times, models = [grid[0]], [data_prediction(x, grid[0])]
    for step in range(1, order):  # warm-up with the lower orders, corrector on
        x, model_x = uni_pc_update(x, models, times, grid[step], step, True)
        times.append(grid[step])
        models.append(model_x)
    for step in range(order, steps + 1):
        step_order = min(order, steps + 1 - step)
        x, model_x = uni_pc_update(x, models, times, grid[step], step_order, step != steps)
        times, models = times[1:] + [grid[step]], models[1:] + [model_x]
    return x


@pytest.fixture(scope="module")
def model():
    return symflow.load(ROOT / "examples" / "vp_sampler.sf")


@pytest.fixture(scope="module")
def noise():
    return np.asarray(jax.random.normal(jax.random.PRNGKey(11), (16,)))


def test_the_twin_schedule_is_the_models(model):
    t = 0.37
    assert abs(t_of_lam(lam(t)) - t) < 1e-13
    # the twin's data prediction agrees with the model's right-hand side: the
    # probability-flow ODE dx/dt = -β/2 (x + ∇log p) = -β/2 (x - ε̂/σ)
    x = np.array([-1.3, 0.2, 2.5])
    alpha, sig = math.exp(log_alpha(t)), sigma(t)
    eps = (x - alpha * data_prediction(x, t)) / sig
    beta = BETA_0 + t * (BETA_1 - BETA_0)
    rhs = np.array([float(model.generated.rhs(t, np.array([v]), model.complete_params(None))[0])
                    for v in x])
    assert np.max(np.abs(rhs - (-0.5 * beta * (x - eps / sig)))) < 1e-10


@pytest.mark.parametrize("steps", [5, 20])  # unrolled, and scanned past 16 steps
def test_unipc_2_equals_the_reference_update_rule(model, noise, steps):
    ours = np.asarray(model.simulate(solver="unipc_2", steps=steps, grid="logsnr",
                                     initial={"x": noise}, saveat=2)["x"][:, -1])
    theirs = reference_unipc(noise.copy(), steps)
    assert np.max(np.abs(ours - theirs)) < 1e-10
    exact = np.asarray(model.simulate(solver="unipc_2_exact", steps=steps, grid="logsnr",
                                      initial={"x": noise}, saveat=2)["x"][:, -1])
    assert np.max(np.abs(exact - theirs)) > 1e-6  # the twin tells the two rules apart
