"""Sparse regression: sequentially thresholded least squares (STLSQ).

SINDy (Brunton, Proctor & Kutz, "Discovering governing equations from data by sparse
identification of nonlinear dynamical systems", PNAS 113(15), 2016) finds a sparse `xi`
with `Theta @ xi ~ y` by alternating a least-squares fit with a hard threshold: fit on the
active terms, drop every term whose coefficient is smaller than `lambda`, refit on what is
left, until nothing more is dropped. Zhang & Schaeffer ("On the convergence of the SINDy
algorithm", 2019) show it stops after at most as many rounds as there are terms, at a
local minimiser of `|Theta xi - y|^2 + lambda^2 |xi|_0`.

A raw coefficient says little about a term's weight (`1e-3*x^4` can matter more than
`0.1*y`), so `sparse_regression` first scales every column of `Theta` and the target to
unit root-mean-square over the samples. A scaled coefficient is then the term's share of
the target: `lambda = 0.05` drops every term that contributes less than 5% of the output's
RMS. The threshold is either given, or chosen by cross-validation (see `sparse_regression`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

__all__ = ["stlsq", "sparse_regression", "SparseFit", "CrossValidation", "THRESHOLDS"]

# The thresholds cross-validation tries: 0 (plain least squares), then 1e-6 to 10
# (relative contributions), 8 per decade.
THRESHOLDS = np.concatenate([[0.0], np.logspace(-6, 1, 57)])
# Scaled columns closer than this are the same term (a model function equal to a monomial).
_DUPLICATE = 1e-10
# A column whose RMS is below this fraction of the largest column's is zero on the samples.
_ZERO_COLUMN = 1e-12
# Differences of relative RMS error below this are rounding, not evidence.
_ERROR_FLOOR = 1e-8


@dataclasses.dataclass(frozen=True)
class CrossValidation:
    """How the threshold was chosen.

    `errors[i]` is the mean over the folds of the validation error (RMS, relative to the
    target's RMS) with threshold `thresholds[i]`; `spread[i]` its standard error;
    `terms[i]` the number of terms kept and `in_sample[i]` the error when fitting all
    samples with that threshold.
    """

    thresholds: np.ndarray
    errors: np.ndarray
    spread: np.ndarray
    terms: np.ndarray
    in_sample: np.ndarray
    folds: int
    tolerance: float
    chosen: float


@dataclasses.dataclass(frozen=True)
class SparseFit:
    """A sparse fit `y ~ Theta @ coefficients`.

    `coefficients` are in the units of the unscaled library (zero for dropped terms);
    `threshold` is the relative threshold used; `error` the in-sample RMS residual
    relative to the target's RMS; `cv` how the threshold was chosen (None if given).
    """

    coefficients: np.ndarray
    threshold: float
    error: float
    iterations: int
    cv: CrossValidation | None = None

    @property
    def support(self) -> np.ndarray:
        return self.coefficients != 0


def stlsq(theta, y, threshold: float, *, max_iterations: int | None = None
          ) -> tuple[np.ndarray, int]:
    """Sequentially thresholded least squares on the library as given (no scaling).

    Returns the coefficients (zero off the support) and the number of rounds.
    """
    theta = np.asarray(theta, dtype=float)
    y = np.asarray(y, dtype=float)
    return _stlsq(theta.shape[1], lambda active: _lstsq(theta[:, active], y), threshold,
                  max_iterations)


def _lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(a, b, rcond=None)[0]


# Huber's M-estimator (Huber, "Robust estimation of a location parameter", 1964): squared
# residuals up to HUBER times the residuals' robust scale, absolute beyond; 1.345 gives
# 95% of least squares' efficiency under Gaussian noise.
HUBER = 1.345
_SCALE_FLOOR = 1e-10  # of the scaled target (unit RMS): below it, residuals are rounding


def _huber_lstsq(a: np.ndarray, b: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Huber regression by iteratively reweighted least squares, from the least-squares
    fit; the residuals' scale is their median absolute deviation (times 1.4826)."""
    xi = _lstsq(a, b)
    for _ in range(iterations):
        r = a @ xi - b
        scale = max(1.4826 * float(np.median(np.abs(r - np.median(r)))), _SCALE_FLOOR)
        w = np.sqrt(np.minimum(1.0, HUBER * scale / np.maximum(np.abs(r), 1e-300)))
        new = _lstsq(a * w[:, None], b * w)
        if np.max(np.abs(new - xi)) <= 1e-12 * max(1.0, float(np.max(np.abs(new)))):
            return new
        xi = new
    return xi


def _stlsq(p: int, solve: Callable[[np.ndarray], np.ndarray], threshold: float,
           max_iterations: int | None) -> tuple[np.ndarray, int]:
    active = np.ones(p, dtype=bool)
    rounds = max_iterations if max_iterations is not None else p + 1
    coefficients = np.zeros(p)
    for iteration in range(1, rounds + 1):
        coefficients = np.zeros(p)
        if not active.any():
            return coefficients, iteration
        coefficients[active] = solve(active)
        keep = active & (np.abs(coefficients) >= threshold)
        if (keep == active).all():
            return coefficients, iteration
        active = keep
    coefficients[~active] = 0.0
    return coefficients, rounds


def sparse_regression(theta, y, *, threshold: float | str = "cv", folds: int = 5,
                      tolerance: float = 0.01, robust: bool = True,
                      max_iterations: int | None = None) -> SparseFit:
    """Fit a sparse combination of the columns of `theta` to `y` (STLSQ on scaled columns).

    **Arguments:**

    - `theta`: the library matrix, `(n, p)`.
    - `y`: the target, `(n,)`.
    - `threshold`: a number (the smallest share of the target's RMS a term may
      contribute), or `"cv"` to choose it by cross-validation:
      each threshold of `THRESHOLDS` is scored by `folds`-fold cross-validation over
      contiguous blocks of samples (consecutive samples of a trajectory are nearly the
      same; random folds would leak). Among the thresholds whose fit to all samples is
      within `tolerance` of the best fit's error, the largest is taken whose validation
      error is within `max(standard error, tolerance)` of the smallest (the
      one-standard-error rule of Hastie, Tibshirani & Friedman, *Elements of Statistical
      Learning* §7.10, with a floor). `tolerance`, relative to the target's RMS, says
      how much accuracy a term must buy to be kept: terms below it cannot be told from
      the network's own approximation error. The first condition matters when the
      blocks extrapolate (a transient trajectory): there every validation error may be
      large, and the empty expression must not win by default.
    - `folds`: the number of cross-validation folds.
    - `tolerance`: see above (0 keeps every term that measurably helps).
    - `robust`: fit each support by Huber's M-estimator (iteratively reweighted least
      squares) instead of least squares. A trained network is right at most samples and
      can be far off at a few (states its training never reached); least squares would
      bend every coefficient, and add terms, to follow those few. On exact samples both
      give the same answer; under Gaussian noise Huber keeps 95% of the efficiency.
    - `max_iterations`: the most STLSQ rounds (default: as many as there are terms + 1).
    """
    theta = np.asarray(theta, dtype=float)
    y = np.asarray(y, dtype=float)
    if theta.ndim != 2 or y.shape != (theta.shape[0],):
        raise ValueError(f"expected theta (n, p) and y (n,), got {theta.shape} and {y.shape}")
    if not (np.isfinite(theta).all() and np.isfinite(y).all()):
        raise ValueError("the library or the target has non-finite values")
    n, p = theta.shape
    scale = np.sqrt(np.mean(theta ** 2, axis=0)) if n else np.zeros(p)
    usable = scale > _ZERO_COLUMN * (scale.max() if p else 1.0)
    scaled = np.zeros_like(theta)
    scaled[:, usable] = theta[:, usable] / scale[usable]
    for j in np.flatnonzero(usable):  # the later of two equal columns is left out
        for i in np.flatnonzero(usable[:j]):
            if np.max(np.abs(scaled[:, i] - scaled[:, j])) < _DUPLICATE or \
                    np.max(np.abs(scaled[:, i] + scaled[:, j])) < _DUPLICATE:
                usable[j] = False
                break
    target_scale = float(np.sqrt(np.mean(y ** 2))) if n else 0.0
    columns = np.flatnonzero(usable)
    if target_scale == 0.0 or columns.size == 0:
        return SparseFit(np.zeros(p), float(threshold) if threshold != "cv" else 0.0,
                         0.0 if target_scale == 0.0 else 1.0, 0)
    a = scaled[:, columns]
    b = y / target_scale

    fit = _huber_lstsq if robust else _lstsq
    cv = None
    if isinstance(threshold, str):
        if threshold != "cv":
            raise ValueError(f"threshold must be a number or 'cv', not {threshold!r}")
        cv = _cross_validate(a, b, folds, tolerance, max_iterations, fit)
        chosen = cv.chosen
    else:
        chosen = float(threshold)
        if not chosen >= 0:
            raise ValueError("threshold must be at least 0")
    xi, iterations = _stlsq(columns.size, lambda active: fit(a[:, active], b), chosen,
                            max_iterations)
    coefficients = np.zeros(p)
    coefficients[columns] = xi * target_scale / scale[columns]
    error = float(np.sqrt(np.mean((a @ xi - b) ** 2)))
    return SparseFit(coefficients, chosen, error, iterations, cv)


def _cross_validate(a: np.ndarray, b: np.ndarray, folds: int, tolerance: float,
                    max_iterations: int | None, fit=_lstsq) -> CrossValidation:
    n, p = a.shape
    folds = int(folds)
    if folds < 2 or n < 2 * folds:
        raise ValueError(f"cross-validation needs at least 2 folds and 2 samples per fold "
                         f"({n} samples, {folds} folds)")
    edges = np.linspace(0, n, folds + 1).astype(int)
    mse = np.zeros((len(THRESHOLDS), folds))
    for k in range(folds):
        held = np.zeros(n, dtype=bool)
        held[edges[k]:edges[k + 1]] = True
        a_train, b_train = a[~held], b[~held]
        cache: dict[bytes, np.ndarray] = {}

        def solve(active, a_train=a_train, b_train=b_train, cache=cache):
            key = active.tobytes()
            if key not in cache:
                cache[key] = fit(a_train[:, active], b_train)
            return cache[key]

        for i, lam in enumerate(THRESHOLDS):
            xi, _ = _stlsq(p, solve, lam, max_iterations)
            mse[i, k] = np.mean((a[held] @ xi - b[held]) ** 2)
    mean = mse.mean(axis=1)
    errors = np.sqrt(mean)
    # standard error of the mean MSE over folds, carried to the RMS by the delta method
    spread = mse.std(axis=1, ddof=1) / np.sqrt(folds) / np.maximum(2 * errors, 1e-300)
    full: dict[bytes, np.ndarray] = {}

    def solve_all(active):
        key = active.tobytes()
        if key not in full:
            full[key] = fit(a[:, active], b)
        return full[key]

    fits = [_stlsq(p, solve_all, lam, max_iterations)[0] for lam in THRESHOLDS]
    terms = np.array([np.count_nonzero(xi) for xi in fits])
    in_sample = np.array([np.sqrt(np.mean((a @ xi - b) ** 2)) for xi in fits])
    margin = max(tolerance, _ERROR_FLOOR)
    # 1. the expression must reproduce the samples within `tolerance` of the best fit
    #    (blocked folds extrapolate: on a transient trajectory every fold's error may
    #    be large, and the empty model must not win by default);
    fitting = in_sample <= in_sample.min() + margin
    # 2. among those, the sparsest whose validation error is within one standard
    #    error (or the tolerance) of the best validation error.
    best = int(np.flatnonzero(fitting)[np.argmin(errors[fitting])])
    allowed = errors[best] + max(spread[best], margin)
    chosen = float(THRESHOLDS[np.flatnonzero(fitting & (errors <= allowed)).max()])
    return CrossValidation(THRESHOLDS.copy(), errors, spread, terms, in_sample, folds,
                           float(tolerance), chosen)
