"""Build a local copy of the SBML Test Suite's semantic cases, or refresh the vendored
subset beside this script.

    python tests/data/sbml/fetch_suite.py DEST                 # git clone from GitHub
    python tests/data/sbml/fetch_suite.py DEST --repo PATH     # from a local clone or bare repo
    python tests/data/sbml/fetch_suite.py --vendor SUITE_CASES # copy VENDORED into cases/

The copy is `DEST/cases/semantic/NNNNN/...`; run it with
`PYTHONPATH=.:tests python -m sbml_suite DEST/cases/semantic` or
`SBML_TEST_SUITE=DEST/cases/semantic pytest -m slow tests/sbml`.
The suite is LGPL-2.1 (LICENSE.txt here); the vendored cases keep their files as
they are, only the SBML file of the newest level of each case is copied.
"""

from __future__ import annotations

import argparse
import io
import pathlib
import shutil
import subprocess
import tarfile

HERE = pathlib.Path(__file__).resolve().parent
URL = "https://github.com/sbmlteam/sbml-test-suite.git"
LEVELS = ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1")

# The vendored subset: cases spanning the core component tags (see README.md here).
VENDORED = {
    "Reaction": ["00001", "01800", "01026", "00293", "00339", "01122"],
    "AssignmentRule, RateRule, AlgebraicRule": ["01200", "00164", "00903", "00182"],
    "InitialAssignment, FunctionDefinition": ["00912", "00911"],
    "EventNoDelay": ["01243", "00026", "01330"],
    "CSymbolAvogadro": ["01665"],
    "ceiling, triggers on their threshold at the start, chained comparisons":
        ["00197", "00996", "01211"],
    "refused": ["00028", "00068", "00071", "00870", "00938", "01248", "01738", "01778"],
}


def clone(dest: pathlib.Path, repo: str) -> None:
    """`cases/semantic` of the suite's repository into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    source = pathlib.Path(repo)
    if source.is_dir():
        git_dir = source / ".git" if (source / ".git").exists() else source
        archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", "HEAD",
                                  "cases/semantic"], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
        return
    work = dest / "sbml-test-suite"
    subprocess.run(["git", "clone", "--depth", "1", "--filter=blob:none", "--sparse", repo,
                    str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "sparse-checkout", "set", "cases/semantic"],
                   check=True)
    shutil.move(str(work / "cases"), str(dest / "cases"))
    shutil.rmtree(work)


def vendor(suite: pathlib.Path) -> None:
    """Copy the `VENDORED` cases from a `cases/semantic` folder into `cases/` here."""
    target = HERE / "cases"
    shutil.rmtree(target, ignore_errors=True)
    for cases in VENDORED.values():
        for case in cases:
            src, dst = suite / case, target / case
            dst.mkdir(parents=True)
            for suffix in ("model.m", "settings.txt", "results.csv"):
                shutil.copy2(src / f"{case}-{suffix}", dst)
            level = next(lv for lv in LEVELS if (src / f"{case}-sbml-{lv}.xml").exists())
            shutil.copy2(src / f"{case}-sbml-{level}.xml", dst)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dest", nargs="?", help="where to put the suite")
    p.add_argument("--repo", default=URL, help="a git URL, or a local clone or bare repo")
    p.add_argument("--vendor", metavar="SUITE_CASES",
                   help="refresh the vendored subset from a cases/semantic folder")
    args = p.parse_args()
    if args.vendor:
        vendor(pathlib.Path(args.vendor))
    elif args.dest:
        clone(pathlib.Path(args.dest), args.repo)
    else:
        p.error("give DEST or --vendor")


if __name__ == "__main__":
    main()
