"""Work-precision on stiff problems of the Test Set for IVP Solvers: symflow's
Rosenbrock solvers beside scipy, CasADi/CVODES and hand-written diffrax Kvaerno5.

Problems (Mazzia & Magherini, *Test Set for IVP Solvers*, Bari; the problems'
equations, spans and initial values as published there):

* **ROBER** to t = 1e5 (3 states; the span symflow's tests use),
* **HIRES** on [0, 321.8122] (8 states),
* **VDPOL** with eps = 1e-6 (mu = 1000 in the original time) on [0, 2],
* **ROBER_LONG**: ROBER over its published span, to t = 1e11 (y2 ends at 8e-14),
* **POLLU** on [0, 60] (20 species, 25 reactions),
* **OREGO** on [0, 360] (the Oregonator, 3 states over six decades),
* **TRANSAMP**, the Transistor Amplifier on [0, 0.2]: an index-1 DAE of 8 states in
  mass-matrix form (M of rank 5; symflow's `mass_matrix` pass compresses it). Only
  symflow runs it: scipy's solvers take no mass matrix, and the hand-written and
  CVODES contenders are ODE solvers.

The last four are read from their model files (`tests/models/robertson_long.sf`,
`pollu.sf`, `orego.sf`, `transistor_amplifier.sf`) and measured against the
reference solutions **published by the Test Set** (`tests/models/testset_reference.json`,
which cites them); the first three against scipy Radau at rtol 1e-13.

Contenders, each solving from t0 to t1 and returning the final state:

* **symflow** `auto` (`Model.simulate(rtol=, atol=, saveat=[t0, t1])`, the whole
  call; the solver `auto` picked is printed), and symflow with `solver="kvaerno5"`
  (the previous `auto`) and `ros3p` / `rodas4`;
* **diffrax Kvaerno5 + Newton** written by hand (`handwritten.make_newton_kvaerno5`:
  optimistix Newton with the step-size controller's tolerances), jitted with the
  parameters as arguments;
* **scipy** `solve_ivp` Radau, BDF and LSODA, each with the exact Jacobian
  (generated from the same equations by SymPy, `lambdify` to NumPy);
* **CasADi/CVODES** (`casadi.integrator(..., "cvodes", ...)`, BDF with its own
  Newton and CasADi's symbolic Jacobian) if `casadi` is installed.

Accuracy: significant correct digits of the final state, `-log10` of the largest
relative error over the components, against the problem's reference (printed beside
each problem). Time: median of `--repeats` interleaved
runs of one full solve (`run.interleaved`); the compile time (first call less the
median run) is printed apart for the JAX contenders. `atol = rtol * scale` with a
per-problem `scale` (ROBER's y2 is 1e-8 at the end). The load average is printed
before and after.

Run: `python benchmarks/stiff.py [--repeats 5] [--problems rober hires vdpol
rober_long pollu orego transamp] [--rtols 1e-4 1e-6 1e-8 1e-10] [--contenders ...]`
(`--contenders symflow` runs symflow's alone: a quick smoke run). Each contender's
failure (step limit, error) is a table entry, not an abort.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import pathlib
import sys
import time
from collections.abc import Callable
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import sympy  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import symflow  # noqa: E402

if str(ROOT / "benchmarks") not in sys.path:  # `python -m benchmarks....` too
    sys.path.insert(0, str(ROOT / "benchmarks"))
from handwritten import make_newton_kvaerno5  # noqa: E402
from run import interleaved  # noqa: E402

MAX_STEPS = 100_000


def rober(y: Any) -> list:
    k1, k2, k3 = 0.04, 3e7, 1e4
    return [-k1 * y[0] + k3 * y[1] * y[2],
            k1 * y[0] - k2 * y[1] ** 2 - k3 * y[1] * y[2],
            k2 * y[1] ** 2]


def hires(y: Any) -> list:
    return [-1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007,
            1.71 * y[0] - 8.75 * y[1],
            -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4],
            8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3],
            -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6],
            -280.0 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6],
            280.0 * y[5] * y[7] - 1.81 * y[6],
            -280.0 * y[5] * y[7] + 1.81 * y[6]]


def vdpol(y: Any) -> list:
    eps = 1e-6
    return [y[1], ((1 - y[0] ** 2) * y[1] - y[0]) / eps]


# POLLU's rates (the Test Set's k1..k25) and, for each rate, its reactants (1-based).
POLLU_K = (.35, .266e2, .123e5, .86e-3, .82e-3, .15e5, .13e-3, .24e5, .165e5, .9e4, .22e-1,
           .12e5, .188e1, .163e5, .48e7, .35e-3, .175e-1, .1e9, .444e12, .124e4, .21e1,
           .578e1, .474e-1, .178e4, .312e1)
POLLU_REACTANTS = ((1,), (2, 4), (5, 2), (7,), (7,), (7, 6), (9,), (9, 6), (11, 2), (11, 1),
                   (13,), (10, 2), (14,), (1, 6), (3,), (4,), (4,), (16,), (16,), (17, 6),
                   (19,), (19,), (1, 4), (19, 1), (20,))


def pollu(y: Any) -> list:
    r = [k * np.prod([y[i - 1] for i in species])
         for k, species in zip(POLLU_K, POLLU_REACTANTS)]
    r = [None, *r]  # 1-based, as the Test Set writes them
    return [-r[1] - r[10] - r[14] - r[23] - r[24] + r[2] + r[3] + r[9] + r[11] + r[12]
            + r[22] + r[25],
            -r[2] - r[3] - r[9] - r[12] + r[1] + r[21],
            -r[15] + r[1] + r[17] + r[19] + r[22],
            -r[2] - r[16] - r[17] - r[23] + r[15],
            -r[3] + 2 * r[4] + r[6] + r[7] + r[13] + r[20],
            -r[6] - r[8] - r[14] - r[20] + r[3] + 2 * r[18],
            -r[4] - r[5] - r[6] + r[13],
            r[4] + r[5] + r[6] + r[7],
            -r[7] - r[8],
            -r[12] + r[7] + r[9],
            -r[9] - r[10] + r[8] + r[11],
            r[9],
            -r[11] + r[10],
            -r[13] + r[12],
            r[14],
            -r[18] - r[19] + r[16],
            -r[20],
            r[20],
            -r[21] - r[22] - r[24] + r[23] + r[25],
            -r[25] + r[24]]


def orego(y: Any) -> list:
    s, w, q = 77.27, 0.161, 8.375e-6
    return [s * (y[1] + y[0] * (1 - q * y[0] - y[1])), (y[2] - (1 + y[0]) * y[1]) / s,
            w * (y[0] - y[2])]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One stiff problem: `equations(y) -> list` for the ODE contenders (`None` for a
    DAE, which only symflow runs), the initial state, the end of the span, the scale
    of `atol = rtol * scale`, the model text, and the key of the Test Set's published
    reference (`tests/models/testset_reference.json`), or None: scipy Radau at rtol
    1e-13 is the reference."""

    equations: Callable | None
    y0: list[float]
    t1: float
    scale: float
    text: str
    published: str | None = None


def model_file(name: str) -> str:
    return (ROOT / "tests" / "models" / f"{name}.sf").read_text()


def published(key: str) -> dict[str, float]:
    """The Test Set's published reference values of problem `key`, by state name."""
    entry = json.loads((ROOT / "tests" / "models" / "testset_reference.json").read_text())[key]
    return {k: float(v) for k, v in entry["values"].items()}


PROBLEMS: dict[str, Problem] = {
    "rober": Problem(rober, [1.0, 0.0, 0.0], 1e5, 1e-6, """
model Rober
  variables
    y1 = 1.0
    y2 = 0.0
    y3 = 0.0
  equations
    der(y1) = -0.04*y1 + 1e4*y2*y3
    der(y2) = 0.04*y1 - 3e7*y2^2 - 1e4*y2*y3
    der(y3) = 3e7*y2^2
end
"""),
    "hires": Problem(hires, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0057], 321.8122, 1e-4, """
model Hires
  variables
    y1 = 1.0
    y2 = 0.0
    y3 = 0.0
    y4 = 0.0
    y5 = 0.0
    y6 = 0.0
    y7 = 0.0
    y8 = 0.0057
  equations
    der(y1) = -1.71*y1 + 0.43*y2 + 8.32*y3 + 0.0007
    der(y2) = 1.71*y1 - 8.75*y2
    der(y3) = -10.03*y3 + 0.43*y4 + 0.035*y5
    der(y4) = 8.32*y2 + 1.71*y3 - 1.12*y4
    der(y5) = -1.745*y5 + 0.43*y6 + 0.43*y7
    der(y6) = -280*y6*y8 + 0.69*y4 + 1.71*y5 - 0.43*y6 + 0.69*y7
    der(y7) = 280*y6*y8 - 1.81*y7
    der(y8) = -280*y6*y8 + 1.81*y7
end
"""),
    "vdpol": Problem(vdpol, [2.0, -0.66], 2.0, 1.0, """
model Vdpol
  parameters
    eps = 1e-6
  variables
    y1 = 2.0
    y2 = -0.66
  equations
    der(y1) = y2
    der(y2) = ((1 - y1^2)*y2 - y1)/eps
end
"""),
    # The Test Set's problems from their model files, against the published values.
    "rober_long": Problem(rober, [1.0, 0.0, 0.0], 1e11, 1e-10, model_file("robertson_long"),
                          published="rober"),
    "pollu": Problem(pollu, [0.0, 0.2, 0.0, 0.04, 0.0, 0.0, 0.1, 0.3, 0.01, *[0.0] * 7, 0.007,
                             0.0, 0.0, 0.0], 60.0, 1e-6, model_file("pollu"),
                     published="pollu"),
    "orego": Problem(orego, [1.0, 2.0, 3.0], 360.0, 1.0, model_file("orego"),
                     published="orego"),
    "transamp": Problem(None, [], 0.2, 1.0, model_file("transistor_amplifier"),
                        published="transamp"),
}
CONTENDERS = ("symflow", "diffrax", "scipy", "cvodes")


def numpy_functions(equations: Callable, n: int) -> tuple[Callable, Callable]:
    """`f(t, y)` and its exact Jacobian `jac(t, y)` as NumPy functions (SymPy)."""
    ys = sympy.symbols(f"y0:{n}")
    f = sympy.Matrix(equations(ys))
    rhs = sympy.lambdify([ys], f, "numpy")
    jac = sympy.lambdify([ys], f.jacobian(ys), "numpy")
    return (lambda t, y: np.asarray(rhs(y), dtype=float).ravel(),
            lambda t, y: np.asarray(jac(y), dtype=float))


def reference(equations: Callable, y0: list[float], t1: float, scale: float) -> np.ndarray:
    f, jac = numpy_functions(equations, len(y0))
    sol = solve_ivp(f, (0.0, t1), y0, method="Radau", rtol=1e-13, atol=1e-13 * scale, jac=jac)
    assert sol.success, sol.message
    return sol.y[:, -1]


def digits(y: np.ndarray, ref: np.ndarray) -> float:
    """Significant correct digits: -log10 of the largest relative error."""
    err = np.max(np.abs(np.asarray(y) - ref) / np.abs(ref))
    return float(-np.log10(max(err, 1e-17)))


@functools.cache
def load(text: str) -> symflow.Model:
    """The model of `text`, compiled once per run (not once per tolerance)."""
    return symflow.loads(text)


def state_order(problem: Problem) -> list[str]:
    """The states in the order of the problem's equations (`y1, y2, ...`): the
    published reference's, or the model's declaration order."""
    if problem.published is not None:
        return list(published(problem.published))
    return list(load(problem.text).state_names)


def symflow_contenders(problem: Problem, rtol: float) -> dict[str, Callable[[], np.ndarray]]:
    """symflow's solvers, each returning the final state in `state_order`."""
    atol, t1 = rtol * problem.scale, problem.t1
    model = load(problem.text)
    names = state_order(problem)
    picked = model.runner.choose_auto(model.complete_params(None), {}, 0.0, t1)
    out: dict[str, Callable[[], np.ndarray]] = {}
    for solver in ("auto", "rodas5p", "rodas4", "ros3p", "kvaerno5"):
        def run(solver: str = solver) -> np.ndarray:
            sol = model.simulate(solver=solver, rtol=rtol, atol=atol, tspan=(0.0, t1), saveat=2,
                                 max_steps=MAX_STEPS)
            return np.array([sol[s][-1] for s in names])
        out[f"symflow {solver}" + (f" (= {picked})" if solver == "auto" else "")] = run
    return out


def ode_contenders(problem: Problem, rtol: float, kinds: frozenset[str]
                   ) -> dict[str, Callable[[], np.ndarray]]:
    """The other tools of `kinds` (`diffrax`, `scipy`, `cvodes`) on the problem's
    equations, each returning the final state."""
    equations, y0, t1 = problem.equations, problem.y0, problem.t1
    assert equations is not None
    atol = rtol * problem.scale
    out: dict[str, Callable[[], np.ndarray]] = {}
    if "diffrax" in kinds:
        term = diffrax.ODETerm(lambda t, y, args: jnp.stack(equations(y)))

        @jax.jit
        def kvaerno(y0: jax.Array) -> jax.Array:
            return diffrax.diffeqsolve(
                term, make_newton_kvaerno5(), 0.0, t1, None, y0,
                stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
                max_steps=MAX_STEPS).ys[-1]

        out["diffrax Kvaerno5+Newton"] = lambda: np.asarray(kvaerno(jnp.asarray(y0)))
    if "scipy" in kinds:
        f, jac = numpy_functions(equations, len(y0))
        for method in ("Radau", "BDF", "LSODA"):
            def scipy_run(method: str = method) -> np.ndarray:
                sol = solve_ivp(f, (0.0, t1), y0, method=method, rtol=rtol, atol=atol, jac=jac)
                if not sol.success:
                    raise RuntimeError(sol.message)
                return sol.y[:, -1]
            out[f"scipy {method}"] = scipy_run
    if "cvodes" not in kinds:
        return out
    try:
        import casadi
    except ImportError:
        return out
    x = casadi.SX.sym("x", len(y0))
    integrator = casadi.integrator(
        "F", "cvodes", {"x": x, "ode": casadi.vertcat(*equations([x[i] for i in range(len(y0))]))},
        0.0, t1, {"abstol": atol, "reltol": rtol, "max_num_steps": MAX_STEPS})
    out["CasADi CVODES"] = lambda: np.asarray(integrator(x0=y0)["xf"]).ravel()
    return out


def contenders(name: str, rtol: float, kinds: frozenset[str] = frozenset(CONTENDERS)
               ) -> dict[str, Callable[[], np.ndarray]]:
    """Each contender of `kinds` as a no-argument call returning the final state (a
    DAE: symflow's only)."""
    problem = PROBLEMS[name]
    out = symflow_contenders(problem, rtol) if "symflow" in kinds else {}
    if problem.equations is not None:
        out.update(ode_contenders(problem, rtol, kinds))
    return out


def problem_reference(problem: Problem) -> tuple[np.ndarray, str]:
    """The reference final state in `state_order` and where it comes from."""
    if problem.published is not None:
        values = published(problem.published)
        return np.array(list(values.values())), "published by the Test Set"
    assert problem.equations is not None
    return (reference(problem.equations, problem.y0, problem.t1, problem.scale),
            "scipy Radau, rtol 1e-13")


def measure(name: str, rtols: list[float], repeats: int,
            kinds: frozenset[str] = frozenset(CONTENDERS)) -> list[tuple]:
    problem = PROBLEMS[name]
    ref, source = problem_reference(problem)
    print(f"\n### {name.upper()} (t1 = {problem.t1:g}, atol = rtol x {problem.scale:g}); "
          f"reference ({source}): {np.array2string(ref, precision=10)}\n", flush=True)
    print("| problem | rtol | contender | digits | median ms per solve | compile s |")
    print("|---|---|---|---|---|---|")
    rows = []
    for rtol in rtols:
        fns = contenders(name, rtol, kinds)
        ok: dict[str, Callable] = {}
        accuracy: dict[str, float] = {}
        first: dict[str, float] = {}
        for label, fn in fns.items():
            try:
                start = time.perf_counter()
                y = fn()
                first[label] = time.perf_counter() - start
            except Exception as error:  # noqa: BLE001 - a failed contender is a result
                rows.append((name, rtol, label, None, None, None, type(error).__name__))
                continue
            ok[label] = fn
            accuracy[label] = digits(y, ref)
        times = interleaved(ok, repeats, first=first)
        for label in ok:
            compile_s, median, _, _ = times[label]
            rows.append((name, rtol, label, accuracy[label], median, compile_s, ""))
        print_rows([r for r in rows if r[1] == rtol and r[0] == name])
    return rows


def print_rows(rows: list[tuple]) -> None:
    for name, rtol, label, acc, median, compile_s, failure in rows:
        if failure:
            print(f"| {name} | {rtol:.0e} | {label} | failed ({failure}) | | |", flush=True)
        else:
            print(f"| {name} | {rtol:.0e} | {label} | {acc:.2f} | {median * 1e3:.3g} | "
                  f"{max(compile_s, 0.0):.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--rtols", nargs="+", type=float, default=[1e-4, 1e-6, 1e-8, 1e-10])
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS),
                        choices=list(CONTENDERS),
                        help="which tools run (default: all; a DAE runs symflow's only)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    for name in args.problems:
        measure(name, args.rtols, args.repeats, frozenset(args.contenders))
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
