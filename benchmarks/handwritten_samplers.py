"""Hand-written JAX diffusion samplers: the twins the symflow samplers are checked against.

Written independently of `symflow/solve/_samplers.py`: the schedule is the linear
VP schedule in closed form (NumPy), every step's coefficients are computed on
the host in NumPy from the grid, and the loop is a plain Python loop over the
steps (unrolled under `jax.jit`) that only does the x updates and the score
evaluations in JAX. The singlestep DPM-Solvers take their intermediate points
straight from the grid of `steps + 1` times (one per model evaluation).

The data are the mixture 0.5 N(-m, s²) + 0.5 N(m, s²) in `dim` dimensions
(independent coordinates, so the 1-D score applies per coordinate) or the
three-component 1-D mixture of the published reference points.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

B0, B1 = 0.1, 20.0
T0, T1 = 1.0, 1e-3
EDM_RHO = 7.0  # Karras et al. (2022): σ^(1/ρ) evenly spaced, σ = σ_t/α_t = e^{-λ}


# ---------------------------------------------------------------- schedule (NumPy)


def log_alpha(t):
    return -0.25 * t**2 * (B1 - B0) - 0.5 * t * B0


def log_sigma(t):
    return 0.5 * np.log(-np.expm1(2 * log_alpha(t)))


def lam(t):
    return log_alpha(t) - log_sigma(t)


def t_of_lambda(value):
    ell = np.logaddexp(-2 * value, 0.0)
    return 2 * ell / (np.sqrt(B0**2 + 2 * (B1 - B0) * ell) + B0)


def times(kind, n: int) -> np.ndarray:
    """`n + 1` grid times; `kind` is a grid name or `(name, exponent)` for the
    grids with one (`power`: κ, `edm`: ρ)."""
    kind, exponent = (kind, None) if isinstance(kind, str) else kind
    if kind == "power":
        k = 2.0 if exponent is None else exponent
        ts = np.linspace(T0 ** (1 / k), T1 ** (1 / k), n + 1) ** k
    elif kind == "edm":
        r = EDM_RHO if exponent is None else exponent
        u = np.linspace(np.exp(-lam(T0) / r), np.exp(-lam(T1) / r), n + 1)
        ts = t_of_lambda(-r * np.log(u))
    elif kind == "uniform":
        ts = np.linspace(T0, T1, n + 1)
    elif kind == "quadratic":
        ts = np.linspace(np.sqrt(T0), np.sqrt(T1), n + 1) ** 2
    else:
        ts = t_of_lambda(np.linspace(lam(T0), lam(T1), n + 1))
    ts[0], ts[-1] = T0, T1
    return ts


# ---------------------------------------------------------------- the model (JAX)


def mixture_noise(x, t, params):
    """ε̂ = -σ_t ∇log p_t(x) for the mixture ½N(-m, s²) + ½N(m, s²) per coordinate."""
    la = -0.25 * t**2 * (B1 - B0) - 0.5 * t * B0
    a = jnp.exp(la)
    var = params["s"] ** 2 * a**2 - jnp.expm1(2 * la)
    mu = a * params["m"]
    w = jax.nn.sigmoid(2 * x * mu / var)  # weight of the +mu component
    score = (w * (mu - x) + (1 - w) * (-mu - x)) / var
    return -jnp.sqrt(-jnp.expm1(2 * la)) * score


def mixture_score(x, t, params):
    """∇log p_t(x) of the same mixture, as a `score(x, t, params)` closure for
    `Model.simulate(score=...)`: with it the symflow program evaluates exactly the
    twin's score, so the two differ only in the sampler machinery."""
    la = -0.25 * t**2 * (B1 - B0) - 0.5 * t * B0
    a = jnp.exp(la)
    var = params["s"] ** 2 * a**2 - jnp.expm1(2 * la)
    mu = a * params["m"]
    w = jax.nn.sigmoid(2 * x * mu / var)
    return (w * (mu - x) + (1 - w) * (-mu - x)) / var


def mixture3_noise(x, t, params):
    """ε̂ for the three-component mixture ⅓N(-m, s²) + ⅓N(0, s²) + ⅓N(m, s²) (the
    `MIXTURE_3` model of benchmarks/samplers.py)."""
    la = -0.25 * t**2 * (B1 - B0) - 0.5 * t * B0
    a = jnp.exp(la)
    var = params["s"] ** 2 * a**2 - jnp.expm1(2 * la)
    mus = jnp.stack([-params["m"] * a, 0.0 * a, params["m"] * a])
    w = jax.nn.softmax(-(x[..., None] - mus) ** 2 / (2 * var), axis=-1)
    score = jnp.sum(w * (mus - x[..., None]), axis=-1) / var
    return -jnp.sqrt(-jnp.expm1(2 * la)) * score


def data_prediction(noise, x, t, params):
    return (x - math.exp(log_sigma(t)) * noise(x, t, params)) / math.exp(log_alpha(t))


# ---------------------------------------------------------------- samplers


def ddim(noise, x, params, steps, grid="logsnr"):
    ts = times(grid, steps)
    for s, t in zip(ts[:-1], ts[1:]):
        h = lam(t) - lam(s)
        x = math.exp(log_alpha(t) - log_alpha(s)) * x \
            - math.exp(log_sigma(t)) * math.expm1(h) * noise(x, s, params)
    return x


def dpm_solver(noise, x, params, steps, order, grid="logsnr"):
    """Singlestep DPM-Solver-2/3 with the DPM-Solver-fast order schedule."""
    if order == 2:
        orders = [2] * (steps // 2) + [1] * (steps % 2)
    elif steps == 3:
        orders = [3]
    else:
        k = steps // 3 + 1
        orders = {0: [3] * (k - 2) + [2, 1], 1: [3] * (k - 1) + [1],
                  2: [3] * (k - 1) + [2]}[steps % 3]
    ts = times(grid, steps)
    i = 0
    for k in orders:
        s, t = ts[i], ts[i + k]
        h = lam(t) - lam(s)
        e_s = noise(x, s, params)
        ratio = math.exp(log_alpha(t) - log_alpha(s))
        sig_t = math.exp(log_sigma(t))
        if k == 1:
            x = ratio * x - sig_t * math.expm1(h) * e_s
        elif k == 2:
            s1 = ts[i + 1]
            r1 = (lam(s1) - lam(s)) / h
            u = math.exp(log_alpha(s1) - log_alpha(s)) * x \
                - math.exp(log_sigma(s1)) * math.expm1(r1 * h) * e_s
            x = ratio * x - sig_t * math.expm1(h) * e_s \
                - sig_t / (2 * r1) * math.expm1(h) * (noise(u, s1, params) - e_s)
        else:
            s1, s2 = ts[i + 1], ts[i + 2]
            r1, r2 = (lam(s1) - lam(s)) / h, (lam(s2) - lam(s)) / h
            u1 = math.exp(log_alpha(s1) - log_alpha(s)) * x \
                - math.exp(log_sigma(s1)) * math.expm1(r1 * h) * e_s
            d1 = noise(u1, s1, params) - e_s
            sig2 = math.exp(log_sigma(s2))
            u2 = math.exp(log_alpha(s2) - log_alpha(s)) * x - sig2 * math.expm1(r2 * h) * e_s \
                - sig2 * (r2 / r1) * (math.expm1(r2 * h) / (r2 * h) - 1) * d1
            d2 = noise(u2, s2, params) - e_s
            x = ratio * x - sig_t * math.expm1(h) * e_s \
                - sig_t / r2 * (math.expm1(h) / h - 1) * d2
        i += k
    return x


def dpm_solver_pp_2m(noise, x, params, steps, grid="logsnr"):
    ts = times(grid, steps)
    prev = None
    for i in range(steps):
        s, t = ts[i], ts[i + 1]
        h = lam(t) - lam(s)
        d = data_prediction(noise, x, s, params)
        if prev is None:
            combo = d
        else:
            r = (lam(s) - lam(ts[i - 1])) / h
            combo = (1 + 1 / (2 * r)) * d - prev / (2 * r)
        x = math.exp(log_sigma(t) - log_sigma(s)) * x \
            - math.exp(log_alpha(t)) * math.expm1(-h) * combo
        prev = d
    return x


def _phi(k, z):
    """φ_k(z) by its series (|z| < 6 here): Σ z^n/(n+k)!, 40 terms."""
    return sum(z**n / math.factorial(n + k) for n in range(40))


def unipc(noise, x, params, steps, order, grid="logsnr", variant="bh2", published=False):
    """UniPC-p (UniP-p predictor + UniC corrector), data prediction, B(h) = e^{-h} - 1
    (`bh2`) or B(h) = -h (`bh1`). With every ρ system solved exactly B(h) cancels:
    ρ ∝ 1/B(h) multiplies B(h), so the two variants give the same samples.
    `published`: the reference code's rule, where a 1 x 1 ρ is 1/2 (so B(h)
    matters; the reference's default is `bh1`) and the final orders are lowered at
    every step count."""
    ts = times(grid, steps)
    lams = [lam(ts[0])]
    models = [data_prediction(noise, x, ts[0], params)]
    for i in range(steps):
        s, t = ts[i], ts[i + 1]
        k = min(order, i + 1)
        if steps < 10 or published:
            k = min(k, steps - i)
        h = lam(t) - lam(s)
        hh = -h
        bh = math.expm1(hh) if variant == "bh2" else hh
        b = np.array([math.factorial(j) * hh * _phi(j + 1, hh) / bh
                      for j in range(1, k + 1)])
        rs = [(lams[-1 - j] - lams[-1]) / h for j in range(1, k)]
        diffs = [(models[-1 - j] - models[-1]) / rs[j - 1] for j in range(1, k)]
        base = math.exp(log_sigma(t) - log_sigma(s)) * x \
            - math.exp(log_alpha(t)) * math.expm1(hh) * models[-1]
        coef = -math.exp(log_alpha(t)) * bh
        pred = base
        if k > 1:
            rho = np.linalg.solve(np.vander(rs, increasing=True).T, b[:k - 1])
            if published and k == 2:
                rho = np.array([0.5])
            pred = base + coef * sum(rho[j] * diffs[j] for j in range(k - 1))
        if i == steps - 1:
            x = pred
            break
        m_t = data_prediction(noise, pred, t, params)
        rho_c = np.linalg.solve(np.vander(rs + [1.0], increasing=True).T, b)
        if published and k == 1:
            rho_c = np.array([0.5])
        x = base + coef * (sum(rho_c[j] * diffs[j] for j in range(k - 1))
                           + rho_c[-1] * (m_t - models[-1]))
        lams.append(lam(t))
        models.append(m_t)
    return x


def deis(noise, x, params, steps, r, grid="logsnr", points=64):
    """DEIS tAB-r: Lagrange extrapolation in t, Gauss–Legendre weights in λ."""
    ts = times(grid, steps)
    nodes, weights = np.polynomial.legendre.leggauss(points)
    history = []
    for i in range(steps):
        s, t = ts[i], ts[i + 1]
        eps = noise(x, s, params)
        history.insert(0, eps)
        q = min(i, r)
        past = ts[i - np.arange(q + 1)]
        h = lam(t) - lam(s)
        lq = lam(s) + 0.5 * h * (nodes + 1)
        tq = t_of_lambda(lq)
        wq = 0.5 * h * weights * np.exp(lam(t) - lq)
        x = math.exp(log_alpha(t) - log_alpha(s)) * x
        for j in range(q + 1):
            ell = np.prod([(tq - past[k]) / (past[j] - past[k]) for k in range(q + 1) if k != j],
                          axis=0)
            x = x - math.exp(log_sigma(t)) * float(np.sum(wq * ell)) * history[j]
        history = history[:r + 1]
    return x


def deis_rho(noise, x, params, steps, r, grid="logsnr"):
    """DEIS ρAB-r: v = x/α obeys dv/dρ = ε̂ with ρ = σ/α; Adams–Bashforth in ρ on the
    Lagrange extrapolation of ε̂ over the last r+1 points, its integrals exact
    (NumPy polynomial antiderivatives); warm-up with lower orders."""
    from numpy.polynomial import polynomial as P

    ts = times(grid, steps)
    rho = np.exp(-lam(ts))
    v = x / math.exp(log_alpha(ts[0]))
    history = []
    for i in range(steps):
        history.insert(0, noise(v * math.exp(log_alpha(ts[i])), ts[i], params))
        q = min(i, r)
        past = rho[i - np.arange(q + 1)]
        for j in range(q + 1):
            others = [past[k] for k in range(q + 1) if k != j]
            basis = P.polyfromroots(others) / np.prod([past[j] - o for o in others]) \
                if others else np.array([1.0])
            anti = P.polyint(basis)
            v = v + float(P.polyval(rho[i + 1], anti) - P.polyval(rho[i], anti)) * history[j]
        history = history[:r + 1]
    return v * math.exp(log_alpha(ts[-1]))


IPNDM_WEIGHTS = ([1.0], [1.5, -0.5], [23 / 12, -16 / 12, 5 / 12],
                 [55 / 24, -59 / 24, 37 / 24, -9 / 24])


def ipndm(noise, x, params, steps, grid="logsnr"):
    """iPNDM (Zhang & Chen 2023, after Liu et al. 2022): the DDIM step with ε̂ replaced
    by the fixed-step Adams–Bashforth combination of the last min(i+1, 4) ε̂."""
    ts = times(grid, steps)
    history = []
    for i in range(steps):
        s, t = ts[i], ts[i + 1]
        history.insert(0, noise(x, s, params))
        w = IPNDM_WEIGHTS[min(i, 3)]
        eps = sum(c * e for c, e in zip(w, history))
        x = math.exp(log_alpha(t) - log_alpha(s)) * x \
            - math.exp(log_sigma(t)) * math.expm1(lam(t) - lam(s)) * eps
        history = history[:3]
    return x


SAMPLERS = {
    "ddim": ddim,
    "dpm_solver_2": lambda n, x, p, steps, grid="logsnr": dpm_solver(n, x, p, steps, 2, grid),
    "dpm_solver_3": lambda n, x, p, steps, grid="logsnr": dpm_solver(n, x, p, steps, 3, grid),
    "dpm_solver_pp_2m": dpm_solver_pp_2m,
    "unipc_2": lambda n, x, p, steps, grid="logsnr": unipc(n, x, p, steps, 2, grid, "bh1",
                                                           published=True),
    "unipc_2_exact": lambda n, x, p, steps, grid="logsnr": unipc(n, x, p, steps, 2, grid),
    "unipc_3": lambda n, x, p, steps, grid="logsnr": unipc(n, x, p, steps, 3, grid),
    "deis_1": lambda n, x, p, steps, grid="logsnr": deis(n, x, p, steps, 1, grid),
    "deis_2": lambda n, x, p, steps, grid="logsnr": deis(n, x, p, steps, 2, grid),
    "deis_3": lambda n, x, p, steps, grid="logsnr": deis(n, x, p, steps, 3, grid),
    "ipndm": ipndm,
    "deis_rho_1": lambda n, x, p, steps, grid="logsnr": deis_rho(n, x, p, steps, 1, grid),
    "deis_rho_2": lambda n, x, p, steps, grid="logsnr": deis_rho(n, x, p, steps, 2, grid),
    "deis_rho_3": lambda n, x, p, steps, grid="logsnr": deis_rho(n, x, p, steps, 3, grid),
}


def sample(name: str, x, params, steps: int, grid: str = "logsnr", noise=mixture_noise):
    """Jitted hand-written sampler `name` from the batch `x`."""
    fn = SAMPLERS[name]
    return jax.jit(lambda x, p: fn(noise, x, p, steps, grid))(x, params)
