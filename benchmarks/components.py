"""Simplification time of generated component models (RC ladders, mass-spring chains).

    python3 benchmarks/components.py [n ...] [--solve n,n,...]

For each n: the time to parse, build (flatten), run the passes and generate the
code of an RC ladder of n sections (a source, n resistors, n capacitors, a
ground: about 13n flat equations) and of a mass-spring chain of n masses (each
written component by component, and again with arrays of components and loops,
rows "(arrays)": `r[n]: Resistor`, `for i in 0:n ... end`), then
load it and JIT-compile its right-hand side; the number of flat equations and
of states after simplification; then (for the `--solve` sizes, default 10 and
100) the solve time of the generated ladder against the same reduced ODE
written by hand in JAX/diffrax (median of repeats, compile apart). Timings are
wall-clock on whatever machine runs this: noisy on a shared machine.
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optimistix as optx  # noqa: E402

from symflow import codegen, passes  # noqa: E402
from symflow.api import loads  # noqa: E402
from symflow.lang import parse  # noqa: E402
from symflow.symbolic import build  # noqa: E402


def rc_ladder(n: int) -> str:
    lines = ["model Ladder", "  import electrical", "  components",
             "    s: ConstantVoltage(V = 1)", "    gnd: Ground"]
    for k in range(n):
        lines.append(f"    r{k}: Resistor(R = 1)")
        lines.append(f"    c{k}: Capacitor(C = 1, vc = 0)")
    lines += ["  connections", "    connect(s.p, r0.p)"]
    grounds = ["s.n", "gnd.g"]
    for k in range(n):
        nxt = f", r{k + 1}.p" if k + 1 < n else ""
        lines.append(f"    connect(r{k}.n, c{k}.p{nxt})")
        grounds.append(f"c{k}.n")
    lines.append("    connect(" + ", ".join(grounds) + ")")
    lines += ["  simulate", "    tspan = [0, 10]", "end"]
    return "\n".join(lines) + "\n"


def mass_spring_chain(n: int) -> str:
    lines = ["model Chain", "  import mechanical", "  components", "    wall: Fixed"]
    for k in range(n):
        lines.append(f"    k{k}: Spring(k = 1)")
        lines.append(f"    m{k}: Mass(m = 1, s = {0.1 if k == n - 1 else 0})")
    lines += ["  connections", "    connect(wall.flange, k0.a)"]
    for k in range(n):
        lines.append(f"    connect(k{k}.b, m{k}.a)")
        if k + 1 < n:
            lines.append(f"    connect(m{k}.b, k{k + 1}.a)")
    lines += ["  simulate", "    tspan = [0, 10]", "end"]
    return "\n".join(lines) + "\n"


def rc_ladder_array(n: int) -> str:
    """`rc_ladder(n)` written with arrays of components and loops (the same flat system,
    its parameters the arrays r.R and c.C)."""
    return f"""model Ladder
  import electrical
  constants
    n = {n}
  components
    s: ConstantVoltage(V = 1)
    gnd: Ground
    r[n]: Resistor(R = 1)
    c[n]: Capacitor(C = 1, vc = 0)
  connections
    connect(s.p, r[0].p)
    connect(s.n, gnd.g)
    for i in 0:n
      connect(r[i].n, c[i].p)
      connect(c[i].n, gnd.g)
    end
    for i in 0:n - 1
      connect(r[i].n, r[i + 1].p)
    end
  simulate
    tspan = [0, 10]
end
"""


def mass_spring_chain_array(n: int) -> str:
    """`mass_spring_chain(n)` written with arrays of components and loops."""
    s0 = ", ".join("0.1" if k == n - 1 else "0" for k in range(n))
    return f"""model Chain
  import mechanical
  constants
    n = {n}
  parameters
    s0 = [{s0}]
  components
    wall: Fixed
    k[n]: Spring(k = 1)
    m[n]: Mass(m = 1, s = s0)
  connections
    connect(wall.flange, k[0].a)
    for i in 0:n
      connect(k[i].b, m[i].a)
    end
    for i in 0:n - 1
      connect(m[i].b, k[i + 1].a)
    end
  simulate
    tspan = [0, 10]
end
"""


def simplify_time(text: str) -> dict[str, float]:
    """CPU seconds of this process per stage, from text to a compiled right-hand
    side: parse, build (flatten), passes, codegen (emit the source), load (import
    it), and jit (JAX trace + XLA compile of one evaluation of `rhs`). CPU time,
    not wall-clock: on a shared machine the wall-clock time of a single-threaded
    stage depends on the other jobs far more than on n (XLA's compile threads
    are all counted)."""
    out = {}
    t0 = time.process_time()
    program = parse(text, "<bench>")
    t1 = time.process_time()
    built = build(program)
    t2 = time.process_time()
    final = passes.simplify(built)
    t3 = time.process_time()
    source = codegen.emit(final)
    t4 = time.process_time()
    generated = codegen.load_source(source)
    t5 = time.process_time()
    p = generated.parameter_defaults({})
    y = jnp.zeros(generated.n_states)
    jax.jit(generated.rhs).lower(0.0, y, p).compile()
    t6 = time.process_time()
    out.update(parse=t1 - t0, build=t2 - t1, passes=t3 - t2, codegen=t4 - t3, load=t5 - t4,
               jit=t6 - t5, equations=len(built.equations), states=len(final.states))
    return out


def hand_written_ladder(n: int, *, newton: bool = False):
    """The reduced ODE of the ladder by hand: C dv_k/dt = (v_{k-1} - v_k) - (v_k - v_{k+1})."""

    def rhs(t, v, args):
        left = jnp.concatenate([jnp.ones(1), v[:-1]])
        right = jnp.concatenate([v[1:], v[-1:]])
        i_in = left - v
        i_out = jnp.where(jnp.arange(n) < n - 1, v - right, 0.0)
        return i_in - i_out

    term = diffrax.ODETerm(rhs)
    # symflow's kvaerno5 uses optimistix's Newton (a Jacobian per iteration); diffrax's
    # default is VeryChord (one Jacobian per step): both are timed.
    solver = (diffrax.Kvaerno5(root_finder=diffrax.with_stepsize_controller_tols(optx.Newton)())
              if newton else diffrax.Kvaerno5())

    @jax.jit
    def solve(v0):
        return diffrax.diffeqsolve(term, solver, 0.0, 10.0, None, v0,
                                   stepsize_controller=diffrax.PIDController(rtol=1e-6,
                                                                             atol=1e-9),
                                   saveat=diffrax.SaveAt(t1=True), max_steps=100_000).ys

    return solve, jnp.zeros(n)


def median_time(fn, repeats=5) -> float:
    fn()  # compile
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(sizes: list[int], solve_sizes: list[int]) -> None:
    print("CPU seconds per stage (solve times below are wall-clock medians)")
    print(f"{'model':<18}{'n':>6}{'flat eqs':>10}{'states':>8}{'parse':>8}{'build':>8}"
          f"{'passes':>9}{'codegen':>9}{'load':>7}{'jit':>7}{'total':>8}")
    for n in sizes:
        for name, make in (("RC ladder", rc_ladder), ("  (arrays)", rc_ladder_array),
                           ("mass-spring chain", mass_spring_chain),
                           ("  (arrays)", mass_spring_chain_array)):
            r = simplify_time(make(n))
            total = sum(r[k] for k in ("parse", "build", "passes", "codegen", "load", "jit"))
            print(f"{name:<18}{n:>6}{r['equations']:>10}{r['states']:>8}{r['parse']:>8.2f}"
                  f"{r['build']:>8.2f}{r['passes']:>9.2f}{r['codegen']:>9.2f}{r['load']:>7.2f}"
                  f"{r['jit']:>7.2f}{total:>8.2f}", flush=True)
    for n in solve_sizes:
        model = loads(rc_ladder(n))
        timings: dict[str, float] = {}
        model.simulate(solver="kvaerno5", saveat=2, timings=timings)
        ours = median_time(lambda: model.simulate(solver="kvaerno5", saveat=2)["c0.vc"])
        solve, v0 = hand_written_ladder(n)
        start = time.perf_counter()
        jax.block_until_ready(solve(v0))
        hand_compile = time.perf_counter() - start
        hand = median_time(lambda: solve(v0))
        solve_newton, _ = hand_written_ladder(n, newton=True)
        hand_newton = median_time(lambda: solve_newton(v0))
        # Same problem: the last capacitor's voltage at t = 10 agrees.
        ours_end = float(model.simulate(solver="kvaerno5", saveat=2)[f"c{n - 1}.vc"][-1])
        hand_end = float(solve(v0)[0, -1])
        assert abs(ours_end - hand_end) < 1e-5, (ours_end, hand_end)
        print(f"RC ladder n={n}: solve {ours * 1e3:.1f} ms (symflow, kvaerno5) vs "
              f"{hand * 1e3:.1f} ms (hand-written diffrax, VeryChord): ratio {ours / hand:.2f}; "
              f"vs {hand_newton * 1e3:.1f} ms (hand-written, Newton): ratio "
              f"{ours / hand_newton:.2f}; "
              f"solve compile (trace + XLA) {timings['trace'] + timings['xla compile']:.1f} s "
              f"vs {hand_compile:.1f} s", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    solve_sizes = [10, 100]
    if "--solve" in args:  # --solve N,N,...: the sizes whose solve is timed
        k = args.index("--solve")
        solve_sizes = [int(a) for a in args[k + 1].split(",") if a]
        args = args[:k] + args[k + 2:]
    main([int(a) for a in args] or [10, 100, 1000], solve_sizes)
