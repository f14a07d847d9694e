"""symflow against hand-written diffrax and scipy: compile and solve times.

    python benchmarks/run.py [--repeats N] [--compile-repeats K] [--problems lv rob]

For Lotka-Volterra (Tsit5, rtol 1e-6, atol 1e-9, 101 points on [0, 10]) and
Robertson (Kvaerno5 + Newton, rtol 1e-8, atol 1e-10, the log-spaced grid of
`handwritten.py` on [0, 1e5]) this prints:

* text to callable: `symflow.loads` (parse + build + passes + codegen), median of
  `--repeats` fresh loads in this process, and the first load in a fresh Python
  process (which also builds the Lark grammar) measured in a subprocess;
* XLA compile: trace + lower, and compile, of the jitted solve, symflow
  (`simulate(timings=...)`: `trace` and `xla compile`, a fresh model each time)
  against hand-written diffrax (`handwritten.fresh_jitted`: a new ODETerm around a
  new function each time, so that no tracing cache helps either side), median of `--compile-repeats`
  interleaved rounds after one discarded warm-up round;
* solve: median over `--repeats` interleaved rounds (order shuffled each round)
  of the per-call time of
    - `m.simulate(params)` -- what a user pays per call, Python overhead included,
    - the bare jitted symflow solve `m.runner.simulator.solve_fn(config)(params, initial, ts)`,
    - the hand-written jitted diffrax solve,
    - scipy `solve_ivp` (DOP853 for LV, LSODA with analytic Jacobian for Robertson);
  every JAX call is followed by `block_until_ready`; one sample is the mean of
  enough back-to-back calls to last about `--sample-ms` ms.

Before timing it checks that both sides solve the same problem (same save grid,
tolerances, solver, parameters, initial values) and prints how far apart the
final states are.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import handwritten as hw  # noqa: E402  (enables jax_enable_x64)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import symflow  # noqa: E402

PROBLEMS = {
    "lv": dict(
        title="Lotka-Volterra",
        file="examples/lotka_volterra.sf",
        hw=hw.lotka_volterra,
        hw_name="lotka_volterra",
        simulate_kwargs={},  # the file's own settings: 101 points on [0, 10]
        solver="tsit5",
        rtol=hw.LV_RTOL, atol=hw.LV_ATOL, y0=hw.LV_Y0,
    ),
    "rob": dict(
        title="Robertson",
        file="examples/robertson.sf",
        hw=hw.robertson,
        hw_name="robertson",
        # the hand-written grid, not the file's; Kvaerno5 named (the file's `auto` now
        # picks rodas5p, which diffrax has no hand-written twin of: benchmarks/stiff.py)
        simulate_kwargs={"saveat": hw.ROB_TS, "solver": "kvaerno5"},
        solver="kvaerno5",
        rtol=hw.ROB_RTOL, atol=hw.ROB_ATOL, y0=hw.ROB_Y0,
    ),
}


# Fresh Python processes per cold text-to-callable figure (median taken).
COLD_RUNS = 3

# --------------------------------------------------------------------- helpers


def median(xs):
    return statistics.median(xs)


def calibrate(fn, sample_s):
    """How many back-to-back calls of `fn` make one sample of about `sample_s`."""
    fn()
    start = time.perf_counter()
    fn()
    single = time.perf_counter() - start
    return max(1, int(round(sample_s / max(single, 1e-7))))


def per_call(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def interleaved(fns: dict, repeats: int, *, first: dict | None = None
                ) -> dict[str, tuple[float, float, float, float]]:
    """`(compile, median run, min run, median CPU time of a run)` of each function,
    the runs taken in turn (one of each per round), so that the load of a shared
    machine falls on all of them alike. `compile` is the first call's time less the
    median run; `first` gives first-call times measured by the caller (else each
    function's first call here is timed). The process CPU time (all threads) is the
    least load-sensitive of the three on a shared machine."""
    first = dict(first or {})
    for name, fn in fns.items():
        if name not in first:
            start = time.perf_counter()
            jax.block_until_ready(fn())
            first[name] = time.perf_counter() - start
    runs: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            runs[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (first[name] - statistics.median(runs[name]),
                   statistics.median(runs[name]), min(runs[name]),
                   statistics.median(cpu[name])) for name in fns}


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def symflow_states(sol, m):
    """(n, n_states) array of the saved states, in the model's state order."""
    return np.stack([np.asarray(sol[name]) for name in m.state_names], axis=1)


def capture_call(m, kwargs):
    """Run `m.simulate` once and capture what it hands to the jitted solve."""
    seen = {}
    original = m.runner.simulator.run  # noqa: SLF001

    def spy(config, params, initial, ts, *, timings=None):
        seen.update(config=config, params=params, initial=initial, ts=ts)
        return original(config, params, initial, ts, timings=timings)

    m.runner.simulator.run = spy  # noqa: SLF001 - instance attribute, removed below
    try:
        m.simulate(m.params, **kwargs)
    finally:
        del m.runner.simulator.run  # noqa: SLF001
    return seen


def cold_text_to_callable(path, empty_cache=False):
    """First `symflow.loads` in a fresh process: includes building the Lark parser
    (from symflow's on-disk grammar cache, or from scratch with `empty_cache`)."""
    code = (
        "import time, json\n"
        "t = time.perf_counter(); import symflow; imp = time.perf_counter() - t\n"
        f"text = open({path!r}).read()\n"
        f"t = time.perf_counter(); m = symflow.loads(text, file={path!r}); "
        "wall = time.perf_counter() - t\n"
        f"t = time.perf_counter(); m2 = symflow.loads(text, file={path!r}); "
        "wall2 = time.perf_counter() - t\n"
        "print(json.dumps(dict(import_s=imp, wall=wall, timings=m.timings, "
        "wall2=wall2, timings2=m2.timings)))\n"
    )
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if empty_cache:
            env["SYMFLOW_CACHE"] = tmp
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------- one problem


def bench(key, repeats, compile_repeats, sample_s, rng):
    spec = PROBLEMS[key]
    path = os.path.join(ROOT, spec["file"])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    kwargs = spec["simulate_kwargs"]
    prob = spec["hw"]
    r = {"title": spec["title"]}

    # ---- text to callable (cold in a subprocess, then warm here)
    colds = [cold_text_to_callable(spec["file"]) for _ in range(COLD_RUNS)]
    r["cold_text_s"] = median([sum(c["timings"].values()) for c in colds])
    r["cold_parse_s"] = median([c["timings"]["parse"] for c in colds])
    r["second_parse_s"] = median([c["timings2"]["parse"] for c in colds])
    r["import_symflow_s"] = median([c["import_s"] for c in colds])
    r["nocache_text_s"] = median([
        sum(cold_text_to_callable(spec["file"], True)["timings"].values())
        for _ in range(COLD_RUNS)])
    stages = {k: [] for k in ("parse", "build", "passes", "codegen")}
    totals, walls = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        m = symflow.loads(text, file=spec["file"])
        walls.append(time.perf_counter() - start)
        totals.append(sum(m.timings[k] for k in stages))
        for k in stages:
            stages[k].append(m.timings[k])
    r["text_s"] = median(totals)
    r["loads_wall_s"] = median(walls)
    r["stages_s"] = {k: median(v) for k, v in stages.items()}

    # ---- same problem on both sides?
    p_hw = jnp.asarray(prob.params)
    seen = capture_call(m, kwargs)
    config = seen["config"]
    checks = {
        "save grid": np.array_equal(np.asarray(seen["ts"]), prob.ts),
        "solver": config.solver == spec["solver"],
        "rtol/atol": (config.rtol, config.atol) == (spec["rtol"], spec["atol"]),
        "max_steps": config.max_steps == hw.MAX_STEPS,
        "dt0 (auto)": config.dt0 is None,
        "parameters": np.array_equal(
            np.array([float(v) for v in seen["params"].values()]), prob.params),
        "initial values": np.array_equal(
            np.asarray(m.runner.simulator.pack(m.initial_values(seen["params"], seen["initial"]))),  # noqa: SLF001
            spec["y0"]),
    }
    r["checks"] = checks
    r["config"] = config

    # ---- XLA compile, interleaved, fresh functions every round
    sym_c, hw_c = [], []  # (trace+lower, XLA compile) pairs

    def compile_symflow():
        mm = symflow.loads(text, file=spec["file"])
        tm = {}
        mm.simulate(mm.params, timings=tm, **kwargs)
        # symflow reports `trace` (lower) and `xla compile` apart; older versions
        # timed both together as `xla compile`
        sym_c.append((tm.get("trace", float("nan")), tm["xla compile"]))

    def compile_hw():
        fn = hw.fresh_jitted(spec["hw_name"])  # a new term and function: traced anew
        start = time.perf_counter()
        lowered = fn.lower(p_hw)
        mid = time.perf_counter()
        lowered.compile()
        hw_c.append((mid - start, time.perf_counter() - mid))

    for i in range(compile_repeats + 1):
        pair = [compile_symflow, compile_hw]
        if i % 2:
            pair.reverse()
        for f in pair:
            f()
        if i == 0:  # warm-up round: JAX/diffrax first-use costs, discarded
            r["first_compile_symflow_s"] = sum(x for x in sym_c.pop() if x == x)
            r["first_compile_hw_s"] = sum(hw_c.pop())
    split = not any(np.isnan(a) for a, _ in sym_c)
    r["compile_split"] = split
    for who, pairs in (("symflow", sym_c), ("hw", hw_c)):
        r[f"lower_{who}_s"] = median([a for a, _ in pairs]) if split else float("nan")
        r[f"xla_{who}_s"] = median([b for _, b in pairs])
        r[f"compile_{who}_s"] = median([(a if split else 0.0) + b for a, b in pairs])
    if not split:  # symflow's figure includes the trace: compare like with like
        r["compile_hw_s"] = median([a + b for a, b in hw_c])

    # ---- solve
    params, initial = seen["params"], seen["initial"]
    ts = np.asarray(seen["ts"], dtype=float)
    bare = m.runner.simulator.solve_fn(config)  # noqa: SLF001
    hw_jit = prob.jitted

    fns = {
        "simulate": lambda: jax.block_until_ready(m.simulate(m.params, **kwargs).values),
        "bare": lambda: jax.block_until_ready(bare(params, initial, ts).values),
        "diffrax": lambda: jax.block_until_ready(hw_jit(p_hw)),
        "scipy": lambda: prob.scipy_solve(prob.params),
    }

    # agreement of the final states (and the whole grid)
    sol = m.simulate(m.params, **kwargs)
    ys_sym = symflow_states(sol, m)
    ys_bare = symflow_states(bare(params, initial, ts), m)
    ys_hw = np.asarray(hw_jit(p_hw))
    ys_sp = np.asarray(prob.scipy_solve(prob.params))
    r["t_equal"] = np.array_equal(np.asarray(sol.t), prob.ts)
    r["final_rel_sym_vs_diffrax"] = rel_diff(ys_sym[-1], ys_hw[-1])
    r["final_rel_sym_vs_scipy"] = rel_diff(ys_sym[-1], ys_sp[-1])
    r["final_rel_diffrax_vs_scipy"] = rel_diff(ys_hw[-1], ys_sp[-1])
    r["grid_abs_sym_vs_diffrax"] = float(np.max(np.abs(ys_sym - ys_hw)))
    r["bare_equals_simulate"] = np.array_equal(ys_bare, ys_sym)
    r["final_state"] = ys_sym[-1]

    numbers = {k: calibrate(f, sample_s) for k, f in fns.items()}
    samples = {k: [] for k in fns}
    order = list(fns)
    for _ in range(repeats):
        rng.shuffle(order)
        for k in order:
            samples[k].append(per_call(fns[k], numbers[k]))
    r["solve_s"] = {k: median(v) for k, v in samples.items()}
    r["solve_spread"] = {k: (min(v), max(v)) for k, v in samples.items()}
    r["numbers"] = numbers
    return r


# --------------------------------------------------------------------- output


def fmt_s(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} us"


def table(results):
    cols = [r["title"] for r in results]
    rows = []

    def row(label, f):
        rows.append([label] + [f(r) for r in results])

    row("text to callable: parse+build+passes+codegen (median)", lambda r: fmt_s(r["text_s"]))
    for k in ("parse", "build", "passes", "codegen"):
        row(f"&nbsp;&nbsp;{k}", lambda r, k=k: fmt_s(r["stages_s"][k]))
    row("`symflow.loads` wall, incl. `Model()` (median)", lambda r: fmt_s(r["loads_wall_s"]))
    row("text to callable, first load in a fresh process (Lark parser from disk cache)",
        lambda r: fmt_s(r["cold_text_s"]))
    row("&nbsp;&nbsp;same, empty grammar cache (first run ever)",
        lambda r: fmt_s(r["nocache_text_s"]))
    row("&nbsp;&nbsp;parse in the fresh process (1st / 2nd load)",
        lambda r: f"{fmt_s(r['cold_parse_s'])} / {fmt_s(r['second_parse_s'])}")
    if all(r["compile_split"] for r in results):
        row("trace+lower to StableHLO: symflow / hand-written diffrax",
            lambda r: f"{fmt_s(r['lower_symflow_s'])} / {fmt_s(r['lower_hw_s'])}")
        row("XLA compile only: symflow / hand-written diffrax",
            lambda r: f"{fmt_s(r['xla_symflow_s'])} / {fmt_s(r['xla_hw_s'])}")
        row("XLA compile only, ratio symflow/diffrax",
            lambda r: f"{r['xla_symflow_s'] / r['xla_hw_s']:.2f}x")
    row("trace+lower+XLA compile: symflow", lambda r: fmt_s(r["compile_symflow_s"]))
    row("trace+lower+XLA compile: hand-written diffrax", lambda r: fmt_s(r["compile_hw_s"]))
    row("trace+lower+XLA compile, ratio symflow/diffrax",
        lambda r: f"{r['compile_symflow_s'] / r['compile_hw_s']:.2f}x")
    row("solve: symflow `m.simulate(params)` per call",
        lambda r: fmt_s(r["solve_s"]["simulate"]))
    row("solve: symflow bare jitted solve", lambda r: fmt_s(r["solve_s"]["bare"]))
    row("solve: hand-written diffrax (jitted)", lambda r: fmt_s(r["solve_s"]["diffrax"]))
    row("solve: scipy `solve_ivp`", lambda r: fmt_s(r["solve_s"]["scipy"]))
    row("ratio simulate / diffrax",
        lambda r: f"{r['solve_s']['simulate'] / r['solve_s']['diffrax']:.2f}x")
    row("ratio bare / diffrax",
        lambda r: f"{r['solve_s']['bare'] / r['solve_s']['diffrax']:.2f}x")
    row("ratio simulate / scipy",
        lambda r: f"{r['solve_s']['simulate'] / r['solve_s']['scipy']:.2f}x")
    row("ratio bare / scipy",
        lambda r: f"{r['solve_s']['bare'] / r['solve_s']['scipy']:.2f}x")
    row("final state rel. diff symflow vs diffrax",
        lambda r: f"{r['final_rel_sym_vs_diffrax']:.1e}")
    row("final state rel. diff symflow vs scipy",
        lambda r: f"{r['final_rel_sym_vs_scipy']:.1e}")

    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=25,
                    help="rounds for text-to-callable and solve medians (default 25)")
    ap.add_argument("--compile-repeats", type=int, default=5,
                    help="interleaved XLA compile rounds after a warm-up (default 5)")
    ap.add_argument("--sample-ms", type=float, default=20.0,
                    help="length of one solve-time sample in ms (default 20)")
    ap.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.compile_repeats < 1:
        ap.error("repeats must be at least 1")

    import diffrax
    print(f"python {platform.python_version()}, jax {jax.__version__}, "
          f"diffrax {diffrax.__version__}, symflow {getattr(symflow, '__version__', '?')}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, JAX device {jax.devices()[0]}")
    print(f"repeats {args.repeats} (solve, text), compile repeats {args.compile_repeats}, "
          f"sample {args.sample_ms:g} ms")
    load0 = tuple(round(x, 2) for x in os.getloadavg())
    rng = random.Random(args.seed)
    results = []
    for key in args.problems:
        r = bench(key, args.repeats, args.compile_repeats, args.sample_ms / 1e3, rng)
        results.append(r)
        bad = [k for k, ok in r["checks"].items() if not ok]
        print(f"\n{r['title']}: config {r['config']}")
        print("  same problem as hand-written: "
              + ("yes (" + ", ".join(r["checks"]) + ")" if not bad
                 else "NO -- differs in " + ", ".join(bad)))
        print(f"  saved times equal: {r['t_equal']}; bare solve == simulate: "
              f"{r['bare_equals_simulate']}")
        print(f"  final state {r['final_state']}")
        print(f"  final rel diff: symflow-diffrax {r['final_rel_sym_vs_diffrax']:.2e}, "
              f"symflow-scipy {r['final_rel_sym_vs_scipy']:.2e}, "
              f"diffrax-scipy {r['final_rel_diffrax_vs_scipy']:.2e}; "
              f"grid max abs symflow-diffrax {r['grid_abs_sym_vs_diffrax']:.1e}")
        print(f"  first compile in process (discarded): symflow "
              f"{fmt_s(r['first_compile_symflow_s'])}, diffrax {fmt_s(r['first_compile_hw_s'])}")
        print(f"  import symflow (fresh process, median of {COLD_RUNS}): "
              f"{fmt_s(r['import_symflow_s'])}; "
              f"calls per sample {r['numbers']}")
        print("  solve min..max over samples: " + ", ".join(
            f"{k} {fmt_s(a)}..{fmt_s(b)}" for k, (a, b) in r["solve_spread"].items()))
        if bad:
            print("  WARNING: the comparison is not like for like", file=sys.stderr)
    print(f"\nload average (1, 5, 15 min) at start {load0}, at end "
          f"{tuple(round(x, 2) for x in os.getloadavg())}: other processes on the "
          "machine slow every figure down")
    print()
    print(table(results))


if __name__ == "__main__":
    main()
