"""Neural-closure benchmark: one training step of the Lotka–Volterra UDE.

`examples/lotka_volterra_ude.sf` (Tsit5, rtol 1e-6, atol 1e-8, [0, 5], 41 saves,
the network (U1, U2) = mlp(x/4, y/4, width 16, depth 2, tanh, scale 4)), with the
adjoint training uses (`TRAINING_ADJOINT`, diffrax's checkpointed one; `simulate`'s
default replay adjoint is timed beside it), against
the same model written by hand with diffrax + equinox: an `eqx.nn.MLP` with the
same weights inside a diffrax vector field, the same solver, tolerances,
max_steps and `RecursiveCheckpointAdjoint`. A training step is the loss (mean
squared error against `examples/lotka_volterra_ude_data.csv`) and its gradient
with respect to every weight and both parameters, jitted. Compile time (first
call) and run time (median of repeats) are reported apart; the two losses and
gradients are checked to agree before timing.

`--train` also runs the example's training recipe (`docs/closures.md`: 3000 steps on
windows of 6) and
reports the time per step, per epoch and in total.

Usage: `python3 benchmarks/closures.py [--repeats N] [--train]` from the
repository root. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import diffrax  # noqa: E402
import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import symflow  # noqa: E402
from symflow.learn import TRAINING_ADJOINT, load_data  # noqa: E402

MODEL = ROOT / "examples" / "lotka_volterra_ude.sf"
DATA = ROOT / "examples" / "lotka_volterra_ude_data.csv"


def _median_interleaved(fns, repeats):
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            jax.block_until_ready(fn())
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _first(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def _hlo_ops(fn, *args) -> int:
    """Instructions in the optimised HLO of a jitted function (load-independent)."""
    text = fn.lower(*args).compile().as_text()
    return sum(1 for line in text.splitlines() if " = " in line and "(" in line)


def step_benchmark(repeats: int) -> dict:
    m = symflow.load(MODEL)
    (c,) = m.closures
    assert c.input_text == ("x/4", "y/4") and c.activation == "tanh", c
    data = load_data(DATA)
    ts = np.asarray(data.t)
    target = jnp.stack([jnp.asarray(data.columns["x"]), jnp.asarray(data.columns["y"])], 1)
    s = m.settings

    def loss_symflow(p, adjoint=TRAINING_ADJOINT):
        sol = m.simulate(p, saveat=ts, adjoint=adjoint)
        pred = jnp.stack([sol["x"], sol["y"]], axis=1)
        return jnp.mean((pred - target) ** 2)

    # ---- the same model by hand: diffrax + equinox
    weights = m.params["closures"][c.name]
    mlp = eqx.combine(weights, eqx.filter(
        eqx.nn.MLP(2, 2, c.width, c.depth, activation=jnp.tanh, key=jax.random.PRNGKey(0)),
        eqx.is_array, inverse=True))
    scale = c.scale

    def field(t, u, args):
        alpha, delta, net = args
        x, y = u[0], u[1]
        out = scale * net(jnp.stack([x / 4, y / 4]))
        return jnp.stack([alpha * x + out[0], -delta * y + out[1]])

    term = diffrax.ODETerm(field)
    solver = diffrax.Tsit5()
    controller = diffrax.PIDController(rtol=s.rtol, atol=s.atol)
    y0 = jnp.asarray([0.44, 4.6])

    def loss_hand(p):
        alpha, delta, net = p
        sol = diffrax.diffeqsolve(term, solver, t0=float(ts[0]), t1=float(ts[-1]), dt0=None,
                                  y0=y0, args=(alpha, delta, net),
                                  saveat=diffrax.SaveAt(ts=jnp.asarray(ts)),
                                  stepsize_controller=controller, max_steps=s.max_steps,
                                  adjoint=diffrax.RecursiveCheckpointAdjoint())
        return jnp.mean((sol.ys - target) ** 2)

    p_sym = m.params
    p_hand = (jnp.asarray(1.3), jnp.asarray(1.8), mlp)
    step_sym = jax.jit(jax.value_and_grad(loss_symflow))  # what `symflow fit` runs
    step_replay = jax.jit(jax.value_and_grad(lambda p: loss_symflow(p, "checkpoint")))
    step_hand = eqx.filter_jit(eqx.filter_value_and_grad(loss_hand))
    (l_sym, g_sym), c_sym = _first(lambda: step_sym(p_sym))
    (l_hand, g_hand), c_hand = _first(lambda: step_hand(p_hand))
    (l_rep, _), c_rep = _first(lambda: step_replay(p_sym))
    assert abs(float(l_rep) - float(l_hand)) <= 1e-9 * abs(float(l_hand))
    arrays, static = eqx.partition(p_hand, eqx.is_array)
    plain_hand = jax.jit(jax.value_and_grad(lambda a: loss_hand(eqx.combine(a, static))))
    ops = {"symflow": _hlo_ops(step_sym, p_sym), "hand": _hlo_ops(plain_hand, arrays),
           "replay": _hlo_ops(step_replay, p_sym)}
    assert abs(float(l_sym) - float(l_hand)) <= 1e-9 * abs(float(l_hand)), (l_sym, l_hand)
    w_sym = jax.tree.leaves(g_sym["closures"][c.name])
    w_hand = jax.tree.leaves(eqx.filter(g_hand[2], eqx.is_array))
    err = max(float(jnp.max(jnp.abs(a - b))) / (float(jnp.max(jnp.abs(b))) + 1e-30)
              for a, b in zip(w_sym, w_hand))
    assert err < 1e-8, err
    # the calls alternate, so that a change of load on a shared machine hits both
    jax.block_until_ready(plain_hand(arrays))
    t_sym, t_hand, t_rep, t_plain = _median_interleaved(
        [lambda: step_sym(p_sym), lambda: step_hand(p_hand), lambda: step_replay(p_sym),
         lambda: plain_hand(arrays)], repeats)
    return {"compile_symflow": c_sym, "compile_hand": c_hand, "run_symflow": t_sym,
            "run_hand": t_hand, "grad_agreement": err, "compile_replay": c_rep,
            "run_replay": t_rep, "ops": ops, "run_plain": t_plain}


def train_benchmark() -> dict:
    m = symflow.load(MODEL)
    start = time.perf_counter()
    r = m.fit(str(DATA), freeze=["alpha", "delta"], window=6, steps=3000,
              learning_rate=1e-2)
    total = time.perf_counter() - start
    return {"windows": r, "total": total}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--train", action="store_true")
    args = ap.parse_args()
    r = step_benchmark(args.repeats)
    print("one training step (loss + gradient), LV UDE, 41 saves, Tsit5 rtol 1e-6")
    print("| | symflow | diffrax + equinox by hand | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| compile (first call) | {r['compile_symflow']:.2f} s | {r['compile_hand']:.2f} s "
          f"| {r['compile_symflow'] / r['compile_hand']:.2f}x |")
    print(f"| run (median of {args.repeats}) | {r['run_symflow'] * 1e3:.2f} ms | "
          f"{r['run_hand'] * 1e3:.2f} ms | {r['run_symflow'] / r['run_hand']:.2f}x |")
    print(f"| simulate's default replay adjoint | {r['compile_replay']:.2f} s (compile) | "
          f"{r['run_replay'] * 1e3:.2f} ms | {r['run_replay'] / r['run_hand']:.2f}x |")
    print(f"| by hand under jax.jit instead of eqx.filter_jit | | {r['run_plain'] * 1e3:.2f} ms "
          f"| {r['run_symflow'] / r['run_plain']:.2f}x |")
    print(f"(gradients agree to {r['grad_agreement']:.1e} relative; optimised HLO "
          f"instructions: symflow {r['ops']['symflow']}, by hand {r['ops']['hand']}, "
          f"replay {r['ops']['replay']})")
    if args.train:
        t = train_benchmark()
        print()
        print("| training phase | steps | items/batch | compile | per step | per epoch | "
              "final loss |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name in ("windows",):
            x = t[name]
            print(f"| {name} | {x.steps} | {x.n_items}/{x.batch} | {x.compile_time:.1f} s | "
                  f"{x.step_time * 1e3:.2f} ms | {x.epoch_time * 1e3:.2f} ms | "
                  f"{x.final_loss:.3g} |")
        print(f"total training time (compile included): {t['total']:.1f} s")


if __name__ == "__main__":
    main()
