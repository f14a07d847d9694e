"""How long symflow's commands take to start, in fresh processes.

    python benchmarks/startup.py [--repeats N] [--before ROOT [--before-path DIR]]

Every row is the wall time of one fresh process, median of `--repeats` rounds run
interleaved (one of each command per round, in a shuffled order), beside two
references measured in the same rounds: `python -c "import scipy.integrate"` and
a scipy `solve_ivp` script of the same Robertson problem (BDF with its analytic
Jacobian, the same tolerances and save times; `startup_scipy_robertson.py`).

- `--help`, `check` of Robertson (with a warm cache folder: Lark's parse tables built
  once before the rounds, as any user's are after their first command);
- `run` of Robertson and of the 1-D heat equation at N = 10^4 (`docs/pde.md`'s
  model with 10^4 points), first (an empty cache folder each round) and second
  (the cache of the first run of that round);
- `fit` of the documented Lotka–Volterra fit (`docs/fitting.md`), first and second.

Every process runs with Python's bytecode cache, as a user's does: each checkout's
`symflow` package is compiled once (`compileall`) before the rounds, and
`PYTHONDONTWRITEBYTECODE` (set in some sandboxes) is dropped from the measured
processes' environment. Without it every process compiles symflow's modules from
source, about 0.1 s that an installed package never pays.

`--before ROOT` adds the same commands of another checkout (say, the commit before
a change: `git worktree add /tmp/before <commit>`), run with `PYTHONPATH=ROOT`
and, with `--before-path DIR`, DIR first on the path (to measure with the
dependency versions of that time, such as `pip install --target DIR
ml_dtypes==0.7.0`). The machine's load is printed; take numbers below a load of
about 1.5.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

HEAT = """model Heat1D
  parameters
    kappa = 1.0
  domain
    x in [0, 1], points = {points}
  variables
    u(x) = sin(pi*x)
  equations
    der(u) = kappa*diff(u, x, 2)
  boundary
    u = 0 at x = 0
    u = 0 at x = 1
  simulate
    tspan = [0, 0.1]
end
"""


def commands(root: str, folder: str) -> dict[str, list[str]]:
    """The symflow commands timed, by name, for the checkout at `root`."""
    heat = os.path.join(folder, "heat_10000.sf")
    ex = os.path.join(root, "examples")
    fit = ["fit", os.path.join(ex, "lotka_volterra_start.sf"), "--data",
           os.path.join(ex, "lotka_volterra_data.csv"), "--scale", "relative", "--quiet"]
    return {
        "--help": ["--help"],
        "check robertson": ["check", os.path.join(ex, "robertson.sf")],
        "run robertson": ["run", os.path.join(ex, "robertson.sf"), "--no-progress"],
        "run heat N=10^4": ["run", heat, "--no-progress"],
        "fit lotka-volterra": fit,
    }


def timed(argv: list[str], env: dict[str, str], folder: str) -> float:
    """Wall seconds of one process run in `folder` (it must succeed). Not in the
    repository: `python -m symflow` would import the checkout there before the one
    on `PYTHONPATH`."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=folder)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def measured_env(**extra: str) -> dict[str, str]:
    """The environment of a measured process: this one's, with the bytecode cache on
    (a user's Python writes and reads `__pycache__`), and `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def one_round(sides: dict[str, tuple[str, str | None]], folder: str,
              samples: dict[str, list[float]]) -> None:
    """One timing of every row, in a shuffled order of sides; each side's commands
    run in order (first runs before second runs, on a fresh cache)."""
    python = sys.executable
    refs = [("python -c 'import scipy.integrate'", [python, "-c", "import scipy.integrate"]),
            ("scipy solve_ivp script (robertson)",
             [python, os.path.join(HERE, "startup_scipy_robertson.py")])]
    order = list(sides.items()) + [("reference", ("", None))]
    random.shuffle(order)
    for side, (root, extra_path) in order:
        if side == "reference":
            for name, argv in refs:
                samples.setdefault(name, []).append(timed(argv, measured_env(), folder))
            continue
        cache = tempfile.mkdtemp(prefix="startup-cache-", dir=folder)
        path = os.pathsep.join(p for p in (extra_path, root) if p)
        env = measured_env(SYMFLOW_CACHE=cache, PYTHONPATH=path)
        # --help and check: with the side's warm cache (Lark's tables built), as a
        # user has it; the runs: a fresh cache, first then second
        warm = measured_env(SYMFLOW_CACHE=os.path.join(folder, f"warm-{side}"),
                            PYTHONPATH=path)
        for name, args in commands(root, folder).items():
            argv = [python, "-m", "symflow", *args]
            if name in ("--help", "check robertson"):
                samples.setdefault(f"{side}: {name}", []).append(timed(argv, warm, folder))
                continue
            samples.setdefault(f"{side}: {name} (first)", []).append(timed(argv, env, folder))
            samples.setdefault(f"{side}: {name} (second)", []).append(timed(argv, env, folder))
        shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", metavar="ROOT", help="another checkout to time too")
    parser.add_argument("--before-path", metavar="DIR",
                        help="put DIR first on the path of the --before runs")
    args = parser.parse_args()
    sides: dict[str, tuple[str, str | None]] = {"now": (ROOT, None)}
    if args.before:
        sides["before"] = (os.path.abspath(args.before), args.before_path)
    folder = tempfile.mkdtemp(prefix="symflow-startup-")
    with open(os.path.join(folder, "heat_10000.sf"), "w") as f:
        f.write(HEAT.format(points=10_000))
    for side, (root, extra_path) in sides.items():  # bytecode, and each parser cache
        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        os.path.join(root, "symflow")], check=True)
        path = os.pathsep.join(p for p in (extra_path, root) if p)
        timed([sys.executable, "-m", "symflow", *commands(root, folder)["check robertson"]],
              measured_env(SYMFLOW_CACHE=os.path.join(folder, f"warm-{side}"),
                           PYTHONPATH=path), folder)
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    samples: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        one_round(sides, folder, samples)
        print(".", end="", flush=True)
    print(f"\nload after: {os.getloadavg()[0]:.2f}; {args.repeats} rounds, median wall "
          "seconds per fresh process")
    scipy_script = statistics.median(samples["scipy solve_ivp script (robertson)"])
    print(f"{'':48} {'seconds':>8} {'/ scipy script':>15}")
    for name, values in sorted(samples.items()):
        median = statistics.median(values)
        print(f"{name:48} {median:8.3f} {median / scipy_script:15.2f}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
