"""Component models at scale (RC ladders, mass-spring chains) against the same
models written vectorized by hand in JAX/diffrax.

    python3 benchmarks/components.py [n ...] [--solver tsit5|kvaerno5] [--stages]
                                     [--written-out]

For each n (default 100 and 1000) and each model: the wall-clock time from model
text to a callable model (parse, build, passes, codegen, load), the compile time
of its solve (trace + XLA) and the median time of one solve, beside the
compile and solve time of the hand-vectorized twin with the same diffrax solver
and tolerances, and their ratios. The two agree on the compared state at t = 10
(asserted). `--stages` adds the CPU seconds of each stage (parse ... a JIT of
`rhs` alone). The models are arrays of components connected in loops;
`--written-out` writes every component out by name instead. Take timings on a
quiet machine (`uptime` load below 1.5).
"""

from __future__ import annotations

import argparse
import pathlib
import resource
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from symflow import codegen, passes  # noqa: E402
from symflow.api import loads  # noqa: E402
from symflow.lang import parse  # noqa: E402
from symflow.symbolic import build  # noqa: E402


def rc_ladder(n: int) -> str:
    """The RC ladder of n sections from arrays of components (examples/rc_ladder.sf)."""
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


def mass_spring_chain(n: int) -> str:
    """The chain of n masses from arrays of components (examples/mass_spring_chain.sf),
    the last mass displaced by 0.1."""
    return f"""model Chain
  import mechanical
  constants
    n = {n}
  parameters
    start = [{", ".join(["0"] * (n - 1) + ["0.1"])}]
  components
    wall: Fixed
    k[n]: Spring(k = 1)
    m[n]: Mass(m = 1, s = start)
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


def written_out_ladder(n: int) -> str:
    """The same ladder with every component written out (r0, c0, r1, ...)."""
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


def written_out_chain(n: int) -> str:
    """The same chain with every component written out (k0, m0, k1, ...)."""
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


def hand_ladder(n: int):
    """The reduced ODE of the ladder by hand, vectorized: C_k dv_k/dt = i_k - i_{k+1},
    i_k = (v_{k-1} - v_k)/R_k with v_{-1} = V and no current out of the last section."""

    def rhs(t, v, args):
        V, R, C = args
        left = jnp.concatenate([jnp.reshape(V, (1,)), v[:-1]])
        current = (left - v) / R  # into section k
        out = jnp.concatenate([current[1:], jnp.zeros(1)])
        return (current - out) / C

    return rhs, jnp.zeros(n), (1.0, jnp.ones(n), jnp.ones(n)), lambda y: y[-1]


def hand_chain(n: int):
    """The chain by hand, vectorized: f_k = k_k (s_k - s_{k-1} - l0_k) (s_{-1} the wall),
    m_k a_k = f_{k+1} - f_k with no spring after the last mass."""

    def rhs(t, y, args):
        k, l0, m = args
        s, v = y[:n], y[n:]
        left = jnp.concatenate([jnp.zeros(1), s[:-1]])
        f = k * (s - left - l0)
        after = jnp.concatenate([f[1:], jnp.zeros(1)])
        return jnp.concatenate([v, (after - f) / m])

    y0 = jnp.zeros(2 * n).at[n - 1].set(0.1)
    return rhs, y0, (jnp.ones(n), jnp.zeros(n), jnp.ones(n)), lambda y: y[n - 1]


def hand_chain_interleaved(n: int):
    """The same chain by hand in symflow's state order (s_0, v_0, s_1, v_1, ...): the
    twin that shows what the interleaved layout itself costs."""

    def rhs(t, y, args):
        k, l0, m = args
        s, v = y[0::2], y[1::2]
        left = jnp.concatenate([jnp.zeros(1), s[:-1]])
        f = k * (s - left - l0)
        after = jnp.concatenate([f[1:], jnp.zeros(1)])
        return jnp.reshape(jnp.stack([v, (after - f) / m], axis=1), (-1,))

    y0 = jnp.zeros(2 * n).at[2 * n - 2].set(0.1)
    return rhs, y0, (jnp.ones(n), jnp.zeros(n), jnp.ones(n)), lambda y: y[2 * n - 2]


def diffrax_solver(name: str):
    return {"tsit5": diffrax.Tsit5, "kvaerno5": diffrax.Kvaerno5}[name]()


def hand_solve(make, n: int, solver: str):
    """A jitted solve of the hand-written twin, its compile time (trace + XLA) and its
    final value of the compared state."""
    rhs, y0, args, pick = make(n)
    term = diffrax.ODETerm(rhs)

    def solve(y0, args):
        return diffrax.diffeqsolve(term, diffrax_solver(solver), 0.0, 10.0, None, y0, args,
                                   stepsize_controller=diffrax.PIDController(rtol=1e-6,
                                                                             atol=1e-9),
                                   saveat=diffrax.SaveAt(ts=jnp.array([0.0, 10.0])),
                                   max_steps=100_000).ys

    start = time.perf_counter()
    compiled = jax.jit(solve).lower(y0, args).compile()
    compile_time = time.perf_counter() - start
    return (lambda: compiled(y0, args)), compile_time, pick


def peak_mib() -> float:
    """The process's peak resident memory so far (MiB): sizes run in increasing order,
    so each row's value is the peak of that size (or an earlier, smaller one)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_time(fn, repeats=5) -> float:
    jax.block_until_ready(fn())  # warm
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


MODELS = {"RC ladder": (rc_ladder, hand_ladder, lambda n: f"c[{n - 1}].vc"),
          "mass-spring chain": (mass_spring_chain, hand_chain, lambda n: f"m[{n - 1}].s")}
# twins in symflow's state order, where it differs from the natural hand-written one
SAME_LAYOUT = {"mass-spring chain": hand_chain_interleaved}
# --written-out: the same models with every component written out by name
WRITTEN_OUT = {"RC ladder": (written_out_ladder, hand_ladder, lambda n: f"c{n - 1}.vc"),
               "mass-spring chain": (written_out_chain, hand_chain, lambda n: f"m{n - 1}.s")}


def compare(sizes: list[int], solver: str, repeats: int, models: dict) -> None:
    """Text to callable, solve compile and per-solve time of symflow against the
    hand-vectorized twin (same diffrax solver and tolerances), wall-clock."""
    print(f"\nsolver {solver}, rtol 1e-6, atol 1e-9, t in [0, 10], saves at 0 and 10; "
          f"wall-clock seconds, per-solve the median of {repeats}")
    print(f"{'model':<18}{'n':>7}{'text->callable':>16}{'compile':>9}{'hand':>7}{'ratio':>7}"
          f"{'solve ms':>10}{'hand ms':>9}{'ratio':>7}{'peak MiB':>10}"
          "  same-layout twin ms, ratio")
    for n in sizes:
        for name, (text_of, hand, compared) in models.items():
            text = text_of(n)
            start = time.perf_counter()
            model = loads(text)
            to_callable = time.perf_counter() - start
            timings: dict[str, float] = {}
            sol = model.simulate(solver=solver, saveat=2, timings=timings)
            compile_time = timings["trace"] + timings["xla compile"]
            ours = median_time(
                lambda: model.simulate(solver=solver, saveat=2)[compared(n)], repeats)
            run, hand_compile, pick = hand_solve(hand, n, solver)
            theirs = median_time(run, repeats)
            # the same problem: the compared state agrees at t = 10
            ours_end, hand_end = float(sol[compared(n)][-1]), float(pick(run()[-1]))
            assert abs(ours_end - hand_end) < 1e-5, (name, n, ours_end, hand_end)
            extra = ""
            if name in SAME_LAYOUT:  # the twin in symflow's (interleaved) state order
                run_same, _, pick_same = hand_solve(SAME_LAYOUT[name], n, solver)
                assert abs(float(pick_same(run_same()[-1])) - hand_end) < 1e-5
                same = median_time(run_same, repeats)
                extra = f"  {same * 1e3:.2f}, {ours / same:.2f}"
            print(f"{name:<18}{n:>7}{to_callable:>16.2f}{compile_time:>9.2f}"
                  f"{hand_compile:>7.2f}{compile_time / hand_compile:>7.2f}"
                  f"{ours * 1e3:>10.2f}{theirs * 1e3:>9.2f}{ours / theirs:>7.2f}"
                  f"{peak_mib():>10.0f}{extra}", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--stages", action="store_true",
                        help="also the CPU seconds of each stage (parse ... jit of rhs)")
    parser.add_argument("--solver", default="tsit5", choices=["tsit5", "kvaerno5"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--written-out", action="store_true",
                        help="every component written out by name instead of arrays of them")
    args = parser.parse_args(argv)
    models = WRITTEN_OUT if args.written_out else MODELS
    if args.stages:
        stage_table(args.sizes, models)
    compare(args.sizes, args.solver, args.repeats, models)


def stage_table(sizes: list[int], models: dict) -> None:
    print("CPU seconds per stage")
    print(f"{'model':<18}{'n':>6}{'flat eqs':>10}{'states':>8}{'parse':>8}{'build':>8}"
          f"{'passes':>9}{'codegen':>9}{'load':>7}{'jit':>7}{'total':>8}")
    for n in sizes:
        for name, (make, _, _) in models.items():
            r = simplify_time(make(n))
            total = sum(r[k] for k in ("parse", "build", "passes", "codegen", "load", "jit"))
            print(f"{name:<18}{n:>6}{r['equations']:>10}{r['states']:>8}{r['parse']:>8.2f}"
                  f"{r['build']:>8.2f}{r['passes']:>9.2f}{r['codegen']:>9.2f}{r['load']:>7.2f}"
                  f"{r['jit']:>7.2f}{total:>8.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
