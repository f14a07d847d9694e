"""Large reaction networks: symflow against a hand-written diffrax twin, libRoadRunner
and scipy, on one generated network.

    python benchmarks/reactions.py [--species N] [--reactions R] [--repeats K]
    python -m benchmarks.reactions ...      (the same, from the repository root)

The network (seeded): `R` reactions among `N` species in one compartment of
volume 1, a third each of `A -> B` (rate constant k), `A + B -> C` and the
reversible `A <-> B + C` (backward 0.1), k drawn from [0.1, 1], initial
concentrations from [0.5, 2]; span [0, 10], rtol 1e-6, atol 1e-9. It is written
once as symflow text (a `reactions` section) and once as SBML (libsbml; kinetic
laws `cell*k*A*B`), so that each tool reads its own format of the same model.

Contenders:

* **symflow**: `symflow.load("generated.xml")` (text to callable: SBML import,
  parse, build, passes, codegen; and, for comparison, `symflow.loads` of the
  network written as symflow text), then `simulate(solver=...)`: the first
  call's trace and XLA compile apart from the run (median of `repeats` later
  calls, Python included).
* **hand-written** diffrax: the rates as a vector from an index table of the
  reactants, `dy = N @ rates` with `N` a dense stoichiometric matrix, one
  `jax.jit`-ed `diffeqsolve` with the same solver, tolerances, controller and
  save times.
* **libRoadRunner** (CVODE, BDF with Newton, its default; the same rtol and
  atol): `RoadRunner(sbml)` (load: libsbml and LLVM compile), then
  `simulate(0, 10, 11)` after `reset()` (median of repeats).
* **scipy** `solve_ivp(method="LSODA")`, same tolerances, the vectorized rate
  function in NumPy (a reference point, not a target).

Checks before timing: the states at t = 10 agree between every pair within
1e-4 (relative to the largest state), so that no contender is fast by being
wrong.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np


def network(n_species: int, n_reactions: int, seed: int = 0):
    """(reactants, products, rate constants, initial values) of the generated network,
    each reversible reaction as two directions."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0.5, 2.0, n_species)
    reactions = []
    for j in range(n_reactions):
        a, b, c = (int(i) for i in rng.choice(n_species, 3, replace=False))
        k = float(rng.uniform(0.1, 1.0))
        kind = j % 3
        if kind == 0:
            reactions.append(((a,), (b,), k))
        elif kind == 1:
            reactions.append(((a, b), (c,), k))
        else:
            reactions.append(((a,), (b, c), k))
            reactions.append(((b, c), (a,), 0.1))
    return reactions, x0


def symflow_text(reactions, x0, *, solver: str) -> str:
    lines = ["model Generated", "  parameters"]
    lines += [f"    k{j} = {k!r}" for j, (_, _, k) in enumerate(reactions)]
    lines += ["  species"] + [f"    S{i} = {float(v)!r}" for i, v in enumerate(x0)]
    lines += ["  reactions"]
    for j, (left, right, _) in enumerate(reactions):
        lhs = " + ".join(f"S{i}" for i in left)
        rhs = " + ".join(f"S{i}" for i in right)
        lines.append(f"    r{j}: {lhs} -> {rhs}, k{j}")
    lines += ["  simulate", "    tspan = [0, 10]", "    saveat = 11", "    rtol = 1e-6",
              "    atol = 1e-9", f"    solver = {solver}", "end"]
    return "\n".join(lines) + "\n"


def sbml_text(reactions, x0) -> str:
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("Generated")
    c = model.createCompartment()
    c.setId("cell"), c.setSize(1.0), c.setConstant(True)
    for i, v in enumerate(x0):
        s = model.createSpecies()
        s.setId(f"S{i}"), s.setCompartment("cell"), s.setInitialConcentration(float(v))
        s.setHasOnlySubstanceUnits(False), s.setBoundaryCondition(False), s.setConstant(False)
    for j, (left, right, k) in enumerate(reactions):
        p = model.createParameter()
        p.setId(f"k{j}"), p.setValue(k), p.setConstant(True)
        r = model.createReaction()
        r.setId(f"r{j}"), r.setReversible(False)
        for i in left:
            ref = r.createReactant()
            ref.setSpecies(f"S{i}"), ref.setStoichiometry(1.0), ref.setConstant(True)
        for i in right:
            ref = r.createProduct()
            ref.setSpecies(f"S{i}"), ref.setStoichiometry(1.0), ref.setConstant(True)
        law = r.createKineticLaw()
        law.setMath(libsbml.parseL3Formula("cell*k%d*%s" % (j, "*".join(f"S{i}" for i in left))))
    return libsbml.writeSBMLToString(doc)


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def handwritten(reactions, x0, solver_name: str):
    """The twin: rates from an index table, dy = N @ rates, one jitted diffeqsolve."""
    import diffrax
    import jax
    import jax.numpy as jnp

    n = len(x0)
    stoich = np.zeros((n, len(reactions)))
    index = np.full((len(reactions), 2), n)
    for j, (left, right, _) in enumerate(reactions):
        for i in left:
            stoich[i, j] -= 1
        for i in right:
            stoich[i, j] += 1
        index[j, :len(left)] = left
    k = jnp.asarray([r[2] for r in reactions])
    stoich_j, index_j = jnp.asarray(stoich), jnp.asarray(index)

    def rhs(t, y, k):
        x = jnp.concatenate([y, jnp.ones(1)])
        return stoich_j @ (k * x[index_j[:, 0]] * x[index_j[:, 1]])

    solver = {"tsit5": diffrax.Tsit5(), "kvaerno5": diffrax.Kvaerno5()}[solver_name]
    ts = jnp.linspace(0.0, 10.0, 11)

    @jax.jit
    def solve(k, y0):
        return diffrax.diffeqsolve(
            diffrax.ODETerm(rhs), solver, 0.0, 10.0, None, y0, args=k,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
            max_steps=100_000).ys

    y0 = jnp.asarray(x0)
    start = time.perf_counter()
    ys = solve(k, y0).block_until_ready()
    first = time.perf_counter() - start
    return ys, first, lambda: solve(k, y0).block_until_ready(), (stoich, index, np.asarray(k))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--species", type=int, default=300)
    parser.add_argument("--reactions", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--solvers", default="tsit5,kvaerno5")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import roadrunner
    import scipy.integrate

    import symflow

    reactions, x0 = network(args.species, args.reactions)
    print(f"network: {args.species} species, {len(reactions)} reactions (directions); "
          f"load {os.getloadavg()[0]:.2f}")
    sbml = sbml_text(reactions, x0)
    start = time.perf_counter()
    rr = roadrunner.RoadRunner(sbml)
    rr_load = time.perf_counter() - start
    rr.integrator.relative_tolerance = 1e-6
    rr.integrator.absolute_tolerance = 1e-9

    def rr_solve():
        rr.reset()
        return rr.simulate(0, 10, 11)

    rr_final = np.asarray(rr_solve())[-1, 1:]
    order = [int(name.strip("[]S")) for name in rr.timeCourseSelections[1:]]
    rr_final = rr_final[np.argsort(order)]
    rr_run = _median_time(rr_solve, args.repeats)
    print(f"libroadrunner: load {rr_load:.3f} s, solve {rr_run * 1e3:.2f} ms (CVODE)")

    folder = tempfile.mkdtemp(prefix="symflow-reactions-")
    xml = os.path.join(folder, "generated.xml")
    with open(xml, "w") as f:
        f.write(sbml)
    for solver in args.solvers.split(","):
        # text to callable: the SBML file through symflow.load (import, parse, build,
        # passes, codegen), and the same network written as symflow text
        start = time.perf_counter()
        m = symflow.load(xml)
        load_first = time.perf_counter() - start  # the process's first load: imports
        start = time.perf_counter()
        m = symflow.load(xml)
        load = time.perf_counter() - start
        start = time.perf_counter()
        symflow.loads(symflow_text(reactions, x0, solver=solver))
        load_text = time.perf_counter() - start
        timings: dict = {}
        options = dict(solver=solver, tspan=(0.0, 10.0), saveat=11, rtol=1e-6, atol=1e-9)
        sol = m.simulate(timings=timings, **options)
        names = [f"S{i}" for i in range(args.species)]
        final = np.array([float(np.asarray(sol[n])[-1]) for n in names])
        run = _median_time(lambda: m.simulate(**options), args.repeats)
        ys, first, twin, (stoich, index, k) = handwritten(reactions, x0, solver)
        twin_run = _median_time(twin, args.repeats)

        def numpy_rhs(t, y):
            x = np.concatenate([y, [1.0]])
            return stoich @ (k * x[index[:, 0]] * x[index[:, 1]])

        start = time.perf_counter()
        ref = scipy.integrate.solve_ivp(numpy_rhs, (0, 10), x0, method="LSODA", rtol=1e-6,
                                        atol=1e-9)
        scipy_run = time.perf_counter() - start
        scale = np.max(np.abs(final))
        for label, other in (("twin", np.asarray(ys)[-1]), ("roadrunner", rr_final),
                             ("scipy", ref.y[:, -1])):
            err = np.max(np.abs(final - other)) / scale
            assert err < 1e-4, f"{label} disagrees with symflow: {err:.2e}"
        print(f"{solver}: symflow.load(xml) {load:.2f} s (first in the process "
              f"{load_first:.2f} s; from .sf text {load_text:.2f} s; "
              f"parse {m.timings['parse']:.2f}, build "
              f"{m.timings['build']:.2f}, codegen {m.timings['codegen']:.2f}), trace "
              f"{timings['trace']:.2f} s, XLA compile {timings['xla compile']:.2f} s, "
              f"solve {run * 1e3:.2f} ms")
        print(f"  twin: first call (trace + compile) {first:.2f} s, solve {twin_run * 1e3:.2f} "
              f"ms;  scipy LSODA {scipy_run * 1e3:.1f} ms")
        print(f"  ratios: symflow/twin {run / twin_run:.2f}, symflow/roadrunner "
              f"{run / rr_run:.2f}; compile (load + trace + XLA) "
              f"{load + timings['trace'] + timings['xla compile']:.2f} s")
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
