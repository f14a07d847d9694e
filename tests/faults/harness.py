"""The fault harness of issue 20: bad files, bad paths, bad numbers, hostile imports
and caches, each run through the `symflow` command of a checkout, and counted.

    python tests/faults/harness.py [--checkout DIR] [--only NAME,...] [--verbose]

Each case writes its files into a fresh folder, runs one command line (a fresh
process, with a fresh private cache unless the case shares one) and sorts the
outcome into one of: clean (refused with a message that says the cause, or done
right), traceback, hang (past its time limit), wrong (a nonsensical result
accepted), misleading (refused, but the message does not name the cause), data
lost (a file of the user's changed or gone) and security (a file outside the
model's reach read or shown, or code run from a cache). The counts are what the
closing note of the issue reports, before and after, over the same cases; the
cases that must stay fixed are tests in this folder.

Not a test module (pytest collects `test_*.py` only): it takes minutes.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import importlib.util
import os
import pathlib
import pickle
import py_compile
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

REPO = pathlib.Path(__file__).resolve().parents[2]
CHECKOUT = [REPO]  # the checkout whose `symflow` the cases run (--checkout)
LV = (REPO / "tests" / "models" / "lv.sf").read_text()
OU = (REPO / "examples" / "ornstein_uhlenbeck.sf").read_text()
SECRET = "hunter2-do-not-show"

# How a case ran: exit code, standard output and error, whether it timed out, and
# the folder it ran in.
Outcome = collections.namedtuple("Outcome", "code out err timed_out folder")
# `judge(outcome) -> None` (clean) or the class of the fault.
Judge = Callable[[Outcome], "str | None"]


@dataclasses.dataclass
class Case:
    name: str
    argv: list[str]
    judge: Judge
    files: dict[str, str | bytes] = dataclasses.field(default_factory=dict)
    setup: Callable[[pathlib.Path], None] | None = None
    timeout: float = 60.0
    env: dict[str, str] = dataclasses.field(default_factory=dict)


def refused(*needles: str, bad: str = "wrong") -> Judge:
    """Clean when the command fails with a message holding every needle; `bad` when
    it succeeds; misleading when the message misses the cause."""
    def judge(o: Outcome) -> str | None:
        if o.code == 0:
            return bad
        text = (o.out + o.err).lower()
        return None if all(n.lower() in text for n in needles) else "misleading"
    return judge


def succeeds(*needles: str) -> Judge:
    """Clean when the command succeeds and says every needle; wrong otherwise."""
    def judge(o: Outcome) -> str | None:
        text = o.out + o.err
        if o.code != 0:
            return "misleading" if "Traceback" not in text else "traceback"
        return None if all(n in text for n in needles) else "wrong"
    return judge


def _model(equation: str, *, extra: str = "") -> str:
    return (f"model M\n  parameters\n    a = 1.0\n{extra}  variables\n    x = 1.0\n"
            f"  equations\n    {equation}\nend\n")


def _fifo(name: str) -> Callable[[pathlib.Path], None]:
    def make(folder: pathlib.Path) -> None:
        os.mkfifo(folder / name)
    return make


def _symlink(name: str, target: str) -> Callable[[pathlib.Path], None]:
    def make(folder: pathlib.Path) -> None:
        (folder / name).symlink_to(target)
    return make


def _import_chain(n: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        f"f{k}.sf": f'import "f{k + 1}.sf"\n' for k in range(n)}
    files[f"f{n}.sf"] = LV
    files["m.sf"] = 'import "f0.sf"\n' + LV.replace("model LV", "model Top")
    return files


def _read_only_folder(folder: pathlib.Path) -> None:
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o500)


def _planted_generated_code(folder: pathlib.Path) -> None:
    """Run once to fill the cache, then plant beside every generated module the
    compiled code (an unchecked-hash `.pyc`, which Python's loader runs without
    comparing it to the source) of a payload that writes a marker."""
    cache = folder / "cache"
    _run(["run", "m.sf"], folder, {"SYMFLOW_CACHE": str(cache)}, 120)
    payload = folder / "payload.py"
    payload.write_text(f"open({str(folder / 'PWNED')!r}, 'w').write('x')\n")
    for path in list(cache.rglob("*.py")):
        py_compile.compile(str(payload), cfile=importlib.util.cache_from_source(str(path)),
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def _planted_lark_pickle(folder: pathlib.Path) -> None:
    """A pickle that runs code, written over every file of the parser's cache."""
    cache = folder / "cache"
    _run(["check", "m.sf"], folder, {"SYMFLOW_CACHE": str(cache)}, 120)

    class Boom:
        def __reduce__(self):
            return (open, (str(folder / "PWNED"), "w"))

    for path in cache.rglob("*"):
        if path.is_file() and ("lark" in path.name.lower() or "parser" in path.name.lower()):
            # Lark reads a line (the grammar's hash), then unpickles, then compares;
            # the file is left writable by anyone, as one another user wrote would be
            path.write_bytes(b"0\n" + pickle.dumps(Boom()))
            path.chmod(0o666)


def _shared_cache(folder: pathlib.Path) -> None:
    shared = folder / "shared-cache"
    shared.mkdir()
    shared.chmod(0o777)


def _cache_used(o: Outcome) -> str | None:
    """Security when a cache folder others can write was used."""
    used = any((o.folder / "shared-cache").rglob("*"))
    return "security" if used else (None if o.code == 0 else "misleading")


CASES: list[Case] = [
    # --- security: imports that reach outside, caches others can write
    Case("import an absolute path", ["check", "m.sf"],
         refused("import"), {"m.sf": 'import "/etc/passwd"\n' + LV}),
    Case("import ../ outside the folder", ["check", "sub/m.sf"],
         refused("import"),
         {"outside.sf": f"{SECRET}\n", "sub/m.sf": 'import "../outside.sf"\n' + LV}),
    Case("import a symlink out of the folder", ["check", "sub/m.sf"],
         refused("import"),
         {"secret.txt": f"{SECRET}\n", "sub/m.sf": 'import "link.sf"\n' + LV},
         setup=lambda f: (f / "sub" / "link.sf").symlink_to(f / "secret.txt")),
    Case("import /proc/self/environ", ["check", "m.sf"], refused("import"),
         {"m.sf": 'import "/proc/self/environ"\n' + LV}, env={"TOKEN": SECRET}),
    Case("code written over a generated module", ["run", "m.sf"],
         succeeds("x(10)"), {"m.sf": LV}, setup=_planted_generated_code,
         env={"SYMFLOW_CACHE": "{folder}/cache"}),
    Case("a pickle written over the parser's cache", ["check", "m.sf"],
         succeeds(), {"m.sf": LV}, setup=_planted_lark_pickle,
         env={"SYMFLOW_CACHE": "{folder}/cache"}),
    Case("a cache folder anyone can write", ["check", "m.sf"], _cache_used, {"m.sf": LV},
         setup=_shared_cache, env={"SYMFLOW_CACHE": "{folder}/shared-cache"}),
    # --- hangs and memory: files that never end
    Case("import a named pipe", ["check", "m.sf"], refused("import"),
         {"m.sf": 'import "p.sf"\n' + LV}, setup=_fifo("p.sf"), timeout=30),
    Case("import /dev/zero", ["check", "m.sf"], refused("import"),
         {"m.sf": 'import "/dev/zero"\n' + LV}, timeout=30),
    Case("a model file that is a named pipe", ["check", "p.sf"], refused("p.sf"),
         setup=_fifo("p.sf"), timeout=30),
    Case("a chain of 1500 imports", ["check", "m.sf"], refused("import"),
         _import_chain(1500), timeout=120),
    Case("an import cycle", ["check", "a.sf"], refused("cycle"),
         {"a.sf": 'import "b.sf"\n' + LV, "b.sf": 'import "a.sf"\n'}),
    # --- nothing of the user's lost
    Case("compile -o onto the model", ["compile", "m.sf", "-o", "m.sf"],
         refused("m.sf"), {"m.sf": LV}),
    Case("run -o through a symlink to the model", ["run", "m.sf", "-o", "link.csv"],
         refused(), {"m.sf": LV}, setup=_symlink("link.csv", "m.sf")),
    Case("run -o over an existing result", ["run", "m.sf", "-o", "old.csv"],
         refused("--force"), {"m.sf": LV, "old.csv": "t,x\n0,1\n"}),
    Case("fit -o onto the model", ["fit", "m.sf", "--data", "d.csv", "-o", "m.sf"],
         refused("m.sf"), {"m.sf": LV, "d.csv": "t,x\n1,1\n2,1\n"}),
    Case("fit --save-weights onto the model",
         ["fit", "m.sf", "--data", "d.csv", "--save-weights", "m.sf"],
         refused("m.sf"), {"m.sf": LV, "d.csv": "t,x\n1,1\n2,1\n"}),
    # --- tracebacks: bad paths, files and numbers
    Case("output into a missing folder", ["run", "m.sf", "-o", "nope/out.csv"],
         refused("nope"), {"m.sf": LV}),
    *([Case("output into a read-only folder", ["run", "m.sf", "-o", "ro/out.csv"],
            refused("ro"), {"m.sf": LV}, setup=_read_only_folder)]
      if os.geteuid() != 0 else []),  # root writes into a read-only folder
    Case("an unsupported --plot extension", ["run", "m.sf", "--plot", "out.xyz"],
         refused("xyz"), {"m.sf": LV}),
    Case("a binary model file", ["check", "m.sf"], refused("text"),
         {"m.sf": b"\x00\x01\x02model\xff\xfe"}),
    Case("a Latin-1 model file", ["check", "m.sf"], refused("utf-8"),
         {"m.sf": LV.replace("model LV", "# caf\xe9\nmodel LV").encode("latin-1")}),
    Case("a model file with a UTF-8 BOM", ["check", "m.sf"], succeeds(),
         {"m.sf": b"\xef\xbb\xbf" + LV.encode()}),
    Case("a 200 kB cell in fitting data", ["fit", "m.sf", "--data", "d.csv"],
         refused("d.csv"), {"m.sf": LV, "d.csv": "t,x\n1," + "9" * 200_000 + "\n2,1\n"}),
    Case("3500 terms in one equation", ["run", "m.sf"], succeeds("x(1)"),
         {"m.sf": "model M\n  parameters\n" + "".join(f"    a{k} = 1.0\n" for k in range(3500))
          + "  variables\n    x = 1.0\n  equations\n    der(x) = -("
          + " + ".join(f"a{k}*x*(1 + x^{k % 7})" for k in range(3500)) + ")/3500\n"
          "  simulate\n    tspan = [0, 1]\nend\n"}, timeout=300),
    Case("--max-steps 0", ["run", "m.sf", "--max-steps", "0"], refused("max"), {"m.sf": LV}),
    Case("--max-steps -5", ["run", "m.sf", "--max-steps", "-5"], refused("max"),
         {"m.sf": LV}),
    Case("a parameter default dividing by zero", ["check", "m.sf"], refused("zero"),
         {"m.sf": _model("der(x) = -b*x", extra="    b = 1/0\n")}),
    Case("a weights file with a bad header",
         ["run", "ude.sf", "--weights", "bad.eqx"], refused("bad.eqx"),
         {"ude.sf": (REPO / "examples" / "lotka_volterra_ude.sf").read_text(),
          "bad.eqx": b"{not json\n\x00\x01"}),
    # --- wrong or misleading results
    Case("--tspan 0 nan", ["run", "m.sf", "--tspan", "0", "nan"], refused("finite"),
         {"m.sf": LV}),
    Case("--tspan 0 inf", ["run", "m.sf", "--tspan", "0", "inf"], refused("finite"),
         {"m.sf": LV}),
    Case("--saveat nan,1", ["run", "m.sf", "--saveat", "nan,1"], refused("finite"),
         {"m.sf": LV}),
    Case("inf in fitting data", ["fit", "m.sf", "--data", "d.csv"], refused("inf"),
         {"m.sf": LV, "d.csv": "t,x\n1,1\n2,inf\n3,1\n"}),
    Case("a NaN parameter", ["run", "m.sf", "--set", "alpha=nan"], refused("alpha"),
         {"m.sf": LV}),
    Case("--rtol -1", ["run", "m.sf", "--rtol", "-1"], refused("rtol"), {"m.sf": LV}),
    Case("--dt 0", ["run", "m.sf", "--solver", "euler", "--dt", "0"], refused("dt"),
         {"m.sf": LV}),
    Case("a divisor that vanishes at t = 0", ["run", "m.sf"], refused("singular"),
         {"m.sf": (REPO / "tests" / "models" / "dae_singular_pivot.sf").read_text()}),
    Case("the steady state of a centre", ["run", "m.sf", "--steady", "--set", "x=3",
                                          "--set", "y=1.5"],
         lambda o: "wrong" if o.code == 0 and "marginal" not in o.out else None,
         {"m.sf": LV}),
    Case("--saveat 1e9", ["run", "m.sf", "--saveat", "1000000000"], refused("points"),
         {"m.sf": LV}),
    Case("--trajectories 1e8", ["run", "ou.sf", "--trajectories", "100000000",
                                "--saveat", "1000"], refused("gib"), {"ou.sf": OU}),
    Case("--sweep of 1e9 values", ["run", "ou.sf", "--sweep", "theta=1:2:1000000000"],
         refused("gib"), {"ou.sf": OU}),
    Case("--starts 1e9", ["fit", "m.sf", "--data", "d.csv", "--params", "alpha", "--starts",
                          "1000000000"], refused("gib"),
         {"m.sf": LV, "d.csv": "t,x\n1,1.5\n2,1.2\n"}),
    # --- a first hour without surprises
    Case("'equation' for 'equations'", ["check", "m.sf"], refused("equations"),
         {"m.sf": _model("der(x) = -a*x").replace("  equations", "  equation")}),
    Case("a unit after a number", ["check", "m.sf"], refused("units"),
         {"m.sf": _model("der(x) = -a*x").replace("a = 1.0", "a = 1.0 kg")}),
    Case("a missing end", ["check", "m.sf"], refused("end"),
         {"m.sf": _model("der(x) = -a*x").replace("end\n", "")}),
    Case("dx/dt = ...", ["check", "m.sf"], refused("der(x)"),
         {"m.sf": _model("dx/dt = -a*x")}),
    Case("a misspelt section", ["check", "m.sf"], refused("parameters"),
         {"m.sf": _model("der(x) = -a*x").replace("parameters", "paramters")}),
    Case("symflow --version", ["--version"], succeeds("symflow")),
    Case("a missing model file", ["run", "nope.sf"],
         lambda o: None if o.code == 2 and "nope.sf" in o.err else "misleading"),
    Case("a solver name from scipy", ["run", "m.sf", "--solver", "RK45"],
         refused("tsit5"), {"m.sf": LV}),
    Case("a solver name in capitals", ["run", "m.sf", "--solver", "TSIT5"],
         succeeds("x(10)"), {"m.sf": LV}),
    Case("fit --tspan", ["fit", "m.sf", "--data", "d.csv", "--tspan", "0", "12",
                         "--params", "alpha"], succeeds("alpha"),
         {"m.sf": LV, "d.csv": "t,x\n1,1.5\n11,1.2\n"}, timeout=180),
    Case("run --save-noise", ["run", "ou.sf", "--save-noise", "--trajectories", "4",
                              "-o", "ou.npz"], succeeds("ou.npz"), {"ou.sf": OU}),
    Case("heun with a fixed step", ["run", "m.sf", "--solver", "heun", "--dt", "0.01"],
         succeeds("x(10)"), {"m.sf": LV}),
    Case("sech", ["run", "m.sf"], succeeds("x(1)"),
         {"m.sf": _model("der(x) = -a*sech(x)") .replace(
             "end\n", "  simulate\n    tspan = [0, 1]\nend\n")}),
]


def _run(argv: list[str], folder: pathlib.Path, env: dict[str, str], timeout: float,
         checkout: pathlib.Path | None = None) -> Outcome:
    """`symflow argv` of `checkout` (default: the one the harness runs) in `folder`, its
    address space capped at 8 GiB."""
    checkout = checkout or CHECKOUT[0]
    code = ("import sys; import symflow.cli as c; sys.argv[0] = 'symflow'; "
            "f = getattr(c, 'entry', None); sys.exit(f() if f else c.main())")
    environ = {**os.environ, "PYTHONPATH": str(checkout), "NO_COLOR": "1",
               **{k: v.format(folder=folder) for k, v in env.items()}}
    environ.setdefault("SYMFLOW_CACHE", str(folder / "cache"))

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))

    try:
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=folder, env=environ,
                              capture_output=True, text=True, timeout=timeout,
                              preexec_fn=cap, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        def text(b: bytes | str | None) -> str:
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        return Outcome(None, text(e.stdout), text(e.stderr), True, folder)
    return Outcome(done.returncode, done.stdout, done.stderr, False, folder)


def classify(case: Case) -> tuple[str, Outcome]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        for name, content in case.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        if case.setup is not None:
            case.setup(folder)
        o = _run(case.argv, folder, case.env, case.timeout)
        lost = [name for name, content in case.files.items()
                if not (folder / name).is_file() or (folder / name).read_bytes() != (
                    content if isinstance(content, bytes) else content.encode())]
        if (folder / "PWNED").exists() or SECRET in o.out + o.err or "root:x:" in o.out + o.err:
            verdict = "security"
        elif lost:
            verdict = "data lost"
        elif o.timed_out:
            verdict = "hang"
        elif "Traceback (most recent call last)" in o.err + o.out:
            verdict = "traceback"
        else:
            verdict = case.judge(o) or "clean"
        for ro in folder.rglob("ro"):
            ro.chmod(0o700)
        return verdict, o


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=pathlib.Path, default=REPO,
                        help="the symflow checkout to run (default: this one)")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--verbose", action="store_true", help="print each case's output")
    args = parser.parse_args()
    CHECKOUT[0] = args.checkout.resolve()
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    counts: collections.Counter[str] = collections.Counter()
    for case in CASES:
        if only and case.name not in only:
            continue
        start = time.perf_counter()
        verdict, o = classify(case)
        counts[verdict] += 1
        print(f"{verdict:11s} {time.perf_counter() - start:6.1f} s  {case.name}", flush=True)
        if args.verbose and verdict != "clean":
            print("    " + (o.err or o.out).strip().replace("\n", "\n    ")[-800:])
    order = ["clean", "traceback", "hang", "wrong", "misleading", "data lost", "security"]
    print(" | ".join(f"{k}: {counts.get(k, 0)}" for k in order), f"(of {sum(counts.values())})")


if __name__ == "__main__":
    main()
