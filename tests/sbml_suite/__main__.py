"""Run SBML Test Suite cases and print the counts by component tag.

    PYTHONPATH=.:tests python -m sbml_suite CASES [CASE ...] [--log results.jsonl]

CASES is a `cases/semantic` folder (tests/data/sbml/fetch_suite.py makes one). With
`--log`, each case's result is appended to a JSON-lines file as it finishes, and cases
already in the file are not run again (a long run can be resumed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib

os.environ.setdefault("SYMFLOW_X64", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
# Many cases share a model's structure (only numbers change, and parameters are
# arguments of the compiled program): JAX's persistent cache skips their XLA compile.
jax.config.update("jax_compilation_cache_dir", os.environ.get(
    "SBML_SUITE_JAX_CACHE", os.path.expanduser("~/.cache/symflow/jax")))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)

from sbml_suite import CaseResult, run_case, table  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(prog="sbml_suite")
    p.add_argument("cases", help="the cases/semantic folder")
    p.add_argument("only", nargs="*", help="case numbers to run (default: all)")
    p.add_argument("--log", help="a JSON-lines file of results (resumed if it exists)")
    args = p.parse_args()
    root = pathlib.Path(args.cases)
    folders = sorted(f for f in root.iterdir() if f.is_dir() and f.name.isdigit())
    if args.only:
        wanted = {c.zfill(5) for c in args.only}
        folders = [f for f in folders if f.name in wanted]
    results: list[CaseResult] = []
    done: set[str] = set()
    if args.log and os.path.exists(args.log):
        with open(args.log) as f:
            for line in f:
                fields = json.loads(line)
                if fields["status"] == "fail" and fields["message"].startswith("solver: "):
                    fields.update(status="solver", message=fields["message"][8:])  # old logs
                r = CaseResult(**{k: tuple(v) if isinstance(v, list) else v
                                  for k, v in fields.items()})
                results.append(r)
                done.add(r.case)
    for folder in folders:
        if folder.name in done:
            continue
        r = run_case(folder)
        results.append(r)
        print(f"{r.case} {r.status:8s} {r.seconds:6.1f}s {r.message[:150]}", flush=True)
        if args.log:
            with open(args.log, "a") as f:
                f.write(json.dumps(dataclasses.asdict(r)) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
