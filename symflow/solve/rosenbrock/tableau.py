"""The coefficients of a Rosenbrock method, and the methods symflow ships.

A Rosenbrock method for `M y' = f(t, y)` takes, per step of size `h`, one
Jacobian `J = ∂f/∂y(t0, y0)`, one time derivative `f_t = ∂f/∂t(t0, y0)`, one LU
factorization of `W = M/(hγ) - J`, and `s` linear solves. It is written here in the
*transformed* variables of Hairer & Wanner (*Solving ODEs II*, 2nd ed., §IV.7,
eq. (7.25)), which need no products with `J`:

    W U_i = f(t0 + c_i h, y0 + Σ_{j<i} a_ij U_j) + Σ_{j<i} (C_ij / h) M U_j + d_i h f_t
    y1 = y0 + Σ m_i U_i,     error estimate  Σ (m_i - m̂_i) U_i.

The papers give the methods in the *classical* form (coefficients α_ij, γ_ij with
γ_ii = γ, weights b and b̂); the two are related by `a = α Γ⁻¹`,
`C = diag(1/γ) - Γ⁻¹`, `m = b Γ⁻¹`, `c_i = Σ_j α_ij`, `d_i = Σ_j γ_ij`, where Γ is the
lower-triangular matrix of the γ_ij with γ on its diagonal. `classical()` undoes
the transformation, which is how the tests check the order conditions against
the published numbers.

Dense output. A Rodas method carries a continuous extension of its own (rows
`dense` of coefficients `H`): with `K_r = Σ_j H_rj U_j` and `θ = (t - t0)/h`,

    y(θ) = (1 - θ) y0 + θ y1 + θ (1 - θ) (K_1 + θ K_2 + θ² K_3 + ...).

A method without one (`dense = None`: Ros3P) uses the cubic Hermite interpolant,
which is the same polynomial with `K_1 = h f0 - Δ`, `K_2 = 2Δ - h (f0 + f1)`,
`Δ = y1 - y0`, at the cost of one more evaluation of `f` at the step's end.

The methods (the numbers are the papers'):

- `RODAS5P`: Steinebach, "Construction of Rosenbrock–Wanner method Rodas5P and
  numerical benchmarks within the Julia Differential Equations package", BIT
  Numer. Math. 63 (2023) 27. Order 5, embedded order 4, 8 stages, stiffly
  accurate (index-1 DAEs), dense output of order 4.
- `RODAS4`: Hairer & Wanner, *Solving ODEs II*, §VI.4 (the code RODAS). Order 4,
  embedded 3, 6 stages, stiffly accurate, dense output of order 3.
- `ROS3P`: Lang & Verwer, "ROS3P — an accurate third-order Rosenbrock solver
  designed for parabolic problems", BIT 41 (2001) 731. Order 3, embedded 2,
  3 stages, γ = 1/2 + √3/6; cheap per step, for loose tolerances.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["RODAS4", "RODAS5P", "ROS3P", "RosenbrockTableau"]


@dataclasses.dataclass(frozen=True, eq=False)
class RosenbrockTableau:
    """One Rosenbrock method in the transformed variables (module docstring).

    `a` and `C` are `s × s` strictly lower triangular, `c`, `d`, `m`, `m_hat` have
    `s` entries, `dense` is `r × s` (or `None`: Hermite interpolation); `order` and
    `embedded_order` are the orders of `y1` and of the embedded solution.
    """

    name: str
    gamma: float
    a: np.ndarray
    C: np.ndarray
    c: np.ndarray
    d: np.ndarray
    m: np.ndarray
    m_hat: np.ndarray
    order: int
    embedded_order: int
    dense: np.ndarray | None = None

    @property
    def stages(self) -> int:
        return len(self.c)

    @classmethod
    def from_classical(cls, name: str, *, gamma: float, alpha: np.ndarray, gammas: np.ndarray,
                       b: np.ndarray, b_hat: np.ndarray, order: int,
                       embedded_order: int) -> RosenbrockTableau:
        """A method given as in the papers: `alpha` (strictly lower), `gammas` (the
        strictly lower γ_ij; γ is put on the diagonal), weights `b` and `b_hat`."""
        alpha = np.asarray(alpha, dtype=float)
        big_gamma = np.tril(np.asarray(gammas, dtype=float), -1) + gamma * np.eye(len(b))
        inverse = np.linalg.inv(big_gamma)
        return cls(
            name=name, gamma=gamma, a=np.tril(alpha @ inverse, -1),
            C=np.tril(np.diag(1.0 / np.diag(big_gamma)) - inverse, -1),
            c=alpha.sum(axis=1), d=big_gamma.sum(axis=1),
            m=np.asarray(b, dtype=float) @ inverse, m_hat=np.asarray(b_hat, dtype=float) @ inverse,
            order=order, embedded_order=embedded_order)

    def classical(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`(alpha, Gamma, b, b_hat)` of the classical form: Γ with γ on its diagonal."""
        inverse = np.diag(np.full(self.stages, 1.0 / self.gamma)) - self.C
        big_gamma = np.linalg.inv(inverse)
        return self.a @ big_gamma, big_gamma, self.m @ big_gamma, self.m_hat @ big_gamma


def _stiffly_accurate(name: str, *, gamma: float, a: list[list[float]], C: list[list[float]],
                      c: list[float], d: list[float], dense: list[list[float]], order: int,
                      embedded_order: int) -> RosenbrockTableau:
    """A Rodas-type method: `y1` is the last stage's argument plus its increment
    (`m = [a_s1, ..., a_s(s-1), 1]`) and the embedded solution is the last stage's
    argument (`m̂ = [a_s1, ..., a_s(s-1), 0]`), so the error estimate is `U_s`.
    `a` and `C` are given by their rows below the diagonal."""
    s = len(c)
    a_full, c_full = np.zeros((s, s)), np.zeros((s, s))
    for i in range(1, s):
        a_full[i, :i] = a[i - 1]
        c_full[i, :i] = C[i - 1]
    m = np.append(a_full[-1, :-1], 1.0)
    m_hat = np.append(a_full[-1, :-1], 0.0)
    return RosenbrockTableau(
        name=name, gamma=gamma, a=a_full, C=c_full, c=np.asarray(c, dtype=float),
        d=np.asarray(d, dtype=float), m=m, m_hat=m_hat, order=order,
        embedded_order=embedded_order, dense=np.asarray(dense, dtype=float))


RODAS5P = _stiffly_accurate(
    "rodas5p", gamma=0.21193756319429014,
    a=[[3.0],
       [2.849394379747939, 0.45842242204463923],
       [-6.954028509809101, 2.489845061869568, -10.358996098473584],
       [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
       [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256,
        0.030198172008377946],
       [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256,
        0.030198172008377946, 1.0],
       [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256,
        0.030198172008377946, 1.0, 1.0]],
    C=[[-14.155112264123755],
       [-17.97296035885952, -2.859693295451294],
       [147.12150275711716, -1.41221402718213, 71.68940251302358],
       [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
       [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125,
        -0.6610691825249471],
       [30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783,
        -19.097331116725623, -28.087943162872662],
       [37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047,
        -40.06618937091002, -54.66780262877968, -9.48861652309627]],
    c=[0.0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664,
       1.0, 1.0, 1.0],
    d=[0.21193756319429014, -0.42387512638858027, -0.3384627126235924, 1.8046452872882734,
       2.325825639765069, 0.0, 0.0, 0.0],
    dense=[[25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204,
            0.524948541321073, 1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
           [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796,
            20.176138334709044, 15.98066361424651, -6.789040303419874, -6.710236069923372],
           [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643,
            -52.072871366152654, -59.78993625266729, -0.15582684282751913, 4.883087185713722]],
    order=5, embedded_order=4)

RODAS4 = _stiffly_accurate(
    "rodas4", gamma=0.25,
    a=[[1.544],
       [0.9466785280815826, 0.2557011698983284],
       [3.314825187068521, 2.896124015972201, 0.9986419139977817],
       [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950],
       [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0]],
    C=[[-5.6688],
       [-2.430093356833875, -0.2063599157091915],
       [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
       [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160],
       [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
        -6.058818238834054]],
    c=[0.0, 0.386, 0.21, 0.63, 1.0, 1.0],
    d=[0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0],
    dense=[[10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823,
            1.025137723295662, 0.0],
           [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386,
            -6.594389125716872, 0.0]],
    order=4, embedded_order=3)

_ROS3P_GAMMA = 0.5 + np.sqrt(3.0) / 6.0
ROS3P = RosenbrockTableau.from_classical(
    "ros3p", gamma=_ROS3P_GAMMA,
    alpha=np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),
    gammas=np.array([[0.0, 0.0, 0.0], [-1.0, 0.0, 0.0],
                     [-_ROS3P_GAMMA, 0.5 - 2.0 * _ROS3P_GAMMA, 0.0]]),
    b=np.array([2.0 / 3.0, 0.0, 1.0 / 3.0]), b_hat=np.array([1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]),
    order=3, embedded_order=2)
