"""Which difference between symflow's jitted solve and the hand-written one costs time?

    python benchmarks/solve_variants.py [lv|rob] [--repeats N]

Starts from the hand-written diffrax solve of `handwritten.py` and switches on, one
at a time, each thing symflow's `Simulator._build` does differently:

* dict params   -- the generated rhs, parameters as a dict of scalars;
* ts as arg     -- save times passed as an argument, t0 = ts[0] and t1 = ts[-1]
                   traced (symflow: one executable for every time span);
* ts arg, static span -- save times an argument, but t0, t1 Python constants;
* t1 sub-save   -- SaveAt(subs=[SubSaveAt(ts), SubSaveAt(t1=True)]) to read the
                   time reached;
* throw=False   -- no in-graph error check (symflow raises afterwards);
* observed      -- the observed outputs computed by a vmap over the save points;
* extra outputs -- result code and time reached returned as well;
* all           -- all of the above (what symflow compiles);

then prints, per variant, the trace+lower+compile time and the median per-call
solve time (jitted call + block_until_ready), beside symflow's own bare solve.
"""

from __future__ import annotations

import argparse
import os
import random
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
    "lv": dict(file="examples/lotka_volterra.sf", rhs=hw._lv_rhs, solver=diffrax.Tsit5,  # noqa: SLF001
               params=hw.LV_PARAMS, y0=hw.LV_Y0, ts=hw.LV_TS, rtol=hw.LV_RTOL,
               atol=hw.LV_ATOL, kwargs={}),
    "rob": dict(file="examples/robertson.sf", rhs=hw._rob_rhs,  # noqa: SLF001
                solver=hw.make_newton_kvaerno5, params=hw.ROB_PARAMS, y0=hw.ROB_Y0,
                ts=hw.ROB_TS, rtol=hw.ROB_RTOL, atol=hw.ROB_ATOL,
                kwargs={"saveat": hw.ROB_TS}),
}

VARIANTS = {
    "hand-written as is": {},
    "dict params (generated rhs)": dict(dict_p=True),
    "ts as arg, t0/t1 traced": dict(ts_arg=True),
    "ts as arg, t0/t1 static": dict(ts_arg=True, static_span=True),
    "t1 sub-save": dict(t1sub=True),
    "throw=False": dict(throw=False),
    "observed (vmap)": dict(obs=True),
    "extra outputs": dict(extra=True),
    "all (as symflow)": dict(dict_p=True, ts_arg=True, t1sub=True, throw=False, obs=True,
                             extra=True),
    "all but t0/t1 static": dict(dict_p=True, ts_arg=True, static_span=True, t1sub=True,
                                 throw=False, obs=True, extra=True),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("problem", nargs="?", default="lv", choices=list(SETUP))
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--sample-ms", type=float, default=20.0)
    args = ap.parse_args(argv)
    su = SETUP[args.problem]

    m = symflow.load(os.path.join(ROOT, su["file"]))
    g = m.generated
    names = g.parameter_names
    p_arr = jnp.asarray(su["params"])
    p_dict = {n: jnp.asarray(v) for n, v in zip(names, su["params"])}
    ts_np = su["ts"]
    ts = jnp.asarray(ts_np)
    y0 = jnp.asarray(su["y0"])
    t0, t1 = float(ts_np[0]), float(ts_np[-1])
    controller = diffrax.PIDController(rtol=su["rtol"], atol=su["atol"])

    def make(dict_p=False, ts_arg=False, static_span=False, t1sub=False, throw=True,
             obs=False, extra=False):
        term = (diffrax.ODETerm(lambda t, y, p: g.rhs(t, y, p)) if dict_p
                else diffrax.ODETerm(su["rhs"]))
        solver = su["solver"]()

        def f(p, y0, ts_in):
            tt = ts_in if ts_arg else jnp.asarray(ts_np)
            if t1sub:
                save = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=tt),
                                            diffrax.SubSaveAt(t1=True)])
            else:
                save = diffrax.SaveAt(ts=tt)
            a, b = (tt[0], tt[-1]) if ts_arg and not static_span else (t0, t1)
            sol = diffrax.diffeqsolve(term, solver, t0=a, t1=b, dt0=None, y0=y0, args=p,
                                      saveat=save, stepsize_controller=controller,
                                      max_steps=hw.MAX_STEPS, throw=throw)
            ys = sol.ys[0] if t1sub else sol.ys
            out = [ys]
            if obs:
                out.append(jax.vmap(lambda t, y: g.observed_fn(t, y, p))(tt, ys))
            if extra:
                out += [sol.result._value, sol.ts[1][0] if t1sub else sol.ts[-1]]
            return out

        return jax.jit(f)

    fns, compile_s = {}, {}
    for name, kw in VARIANTS.items():
        f = make(**kw)
        p = p_dict if kw.get("dict_p") else p_arr
        start = time.perf_counter()
        f.lower(p, y0, ts).compile()
        compile_s[name] = time.perf_counter() - start
        fns[name] = (f, p)

    # symflow's own bare solve, for reference
    seen = {}
    original = m.runner.simulator.run  # noqa: SLF001

    def spy(config, params, y0_, ts_, *, timings=None):
        seen.update(config=config, params=params)
        return original(config, params, y0_, ts_, timings=timings)

    m.runner.simulator.run = spy  # noqa: SLF001
    tm = {}
    m.simulate(m.params, timings=tm, **su["kwargs"])
    del m.runner.simulator.run  # noqa: SLF001
    compile_s["symflow bare solve_fn"] = tm["xla compile"]
    fns["symflow bare solve_fn"] = (m.runner.simulator.solve_fn(seen["config"]),  # noqa: SLF001
                                    seen["params"])

    calls = {}
    for name, (f, p) in fns.items():
        jax.block_until_ready(f(p, y0, ts))
        start = time.perf_counter()
        jax.block_until_ready(f(p, y0, ts))
        calls[name] = max(1, round(args.sample_ms / 1e3 / (time.perf_counter() - start)))
    samples = {k: [] for k in fns}
    keys = list(fns)
    rng = random.Random(0)
    for _ in range(args.repeats):
        rng.shuffle(keys)
        for k in keys:
            f, p = fns[k]
            n = calls[k]
            start = time.perf_counter()
            for _ in range(n):
                jax.block_until_ready(f(p, y0, ts))
            samples[k].append((time.perf_counter() - start) / n)

    base = statistics.median(samples["hand-written as is"])
    print(f"{m.name}: median of {args.repeats} samples (interleaved, shuffled)\n")
    print("| variant | compile | solve per call | vs hand-written |")
    print("|---|---:|---:|---:|")
    for k in fns:
        med = statistics.median(samples[k])
        print(f"| {k} | {compile_s[k]:.2f} s | {med * 1e6:.0f} us | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
