"""Where symflow's extra XLA compile time comes from: lower vs compile, per variant.

    python benchmarks/compile_variants.py [lv|rob] [--rounds K]

Every round builds each variant anew (new ODETerm around a new function, so no
tracing cache is hit) and times `jit(f).lower(...)` (trace + lower to StableHLO)
and `.compile()` (XLA) separately; rounds alternate the order, the first round is
discarded, medians are printed.

* hand-written, cached term -- re-jitting `handwritten`'s module-level solve: its
  ODETerm and rhs were traced before, and JAX/equinox caches make lowering cheap
  (this is why `run.py` uses `handwritten.fresh_jitted`);
* hand-written, fresh term  -- `handwritten.fresh_jitted`, what `run.py` compares;
* ts as arg, t0/t1 traced   -- fresh term, save times an argument and the span
  read from them (as symflow does);
* ts as arg, t0/t1 static   -- the same with the span as Python constants;
* symflow bare solve_fn     -- a freshly loaded model's jitted solve.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import handwritten as hw  # noqa: E402
import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import symflow  # noqa: E402

SETUP = {
    "lv": dict(name="lotka_volterra", file="examples/lotka_volterra.sf", rhs=hw._lv_rhs,  # noqa: SLF001
               solver=diffrax.Tsit5, params=hw.LV_PARAMS, y0=hw.LV_Y0, ts=hw.LV_TS,
               rtol=hw.LV_RTOL, atol=hw.LV_ATOL, kwargs={}),
    "rob": dict(name="robertson", file="examples/robertson.sf", rhs=hw._rob_rhs,  # noqa: SLF001
                solver=hw.make_newton_kvaerno5, params=hw.ROB_PARAMS, y0=hw.ROB_Y0,
                ts=hw.ROB_TS, rtol=hw.ROB_RTOL, atol=hw.ROB_ATOL,
                kwargs={"saveat": hw.ROB_TS}),
}


class _Stop(Exception):
    pass


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("problem", nargs="?", default="lv", choices=list(SETUP))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    su = SETUP[args.problem]
    with open(os.path.join(ROOT, su["file"]), encoding="utf-8") as f:
        text = f.read()
    p = jnp.asarray(su["params"])
    ts = jnp.asarray(su["ts"])
    y0 = jnp.asarray(su["y0"])
    t0, t1 = float(su["ts"][0]), float(su["ts"][-1])

    def ts_arg(static_span):
        rhs = su["rhs"]
        term = diffrax.ODETerm(lambda t, y, q: rhs(t, y, q))

        def f(q, y0, ts):
            a, b = (t0, t1) if static_span else (ts[0], ts[-1])
            return diffrax.diffeqsolve(
                term, su["solver"](), t0=a, t1=b, dt0=None, y0=y0, args=q,
                saveat=diffrax.SaveAt(ts=ts),
                stepsize_controller=diffrax.PIDController(rtol=su["rtol"], atol=su["atol"]),
                max_steps=hw.MAX_STEPS).ys

        return jax.jit(f), (p, y0, ts)

    def symflow_bare():
        m = symflow.loads(text, file=su["file"])
        seen = {}

        def spy(config, params, y0_, ts_, *, timings=None):
            seen.update(fn=m.runner.simulator.solve_fn(config),  # noqa: SLF001
                        args=(params, y0_, jnp.asarray(ts_, dtype=float)))
            raise _Stop

        m.runner.simulator.run = spy  # noqa: SLF001
        try:
            m.simulate(m.params, **su["kwargs"])
        except _Stop:
            pass
        return seen["fn"], seen["args"]

    cached = hw.PROBLEMS[su["name"]].jitted.__wrapped__
    cases = {
        "hand-written, cached term": lambda: (jax.jit(lambda q: cached(q)), (p,)),
        "hand-written, fresh term": lambda: (hw.fresh_jitted(su["name"]), (p,)),
        "ts as arg, t0/t1 traced": lambda: ts_arg(False),
        "ts as arg, t0/t1 static": lambda: ts_arg(True),
        "symflow bare solve_fn": symflow_bare,
    }
    res = {k: [] for k in cases}
    for r in range(args.rounds + 1):
        items = list(cases.items())
        for k, make in (items if r % 2 else items[::-1]):
            fn, fargs = make()
            a = time.perf_counter()
            lowered = fn.lower(*fargs)
            b = time.perf_counter()
            lowered.compile()
            c = time.perf_counter()
            if r:
                res[k].append((b - a, c - b))
    print(f"{su['name']}: median of {args.rounds} rounds (first round discarded)\n")
    print("| variant | trace+lower | XLA compile | total |")
    print("|---|---:|---:|---:|")
    for k, v in res.items():
        lo = statistics.median(x for x, _ in v)
        co = statistics.median(y for _, y in v)
        tot = statistics.median(x + y for x, y in v)
        print(f"| {k} | {lo:.2f} s | {co:.2f} s | {tot:.2f} s |")


if __name__ == "__main__":
    main()
