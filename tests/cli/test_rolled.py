"""`symflow show` writes the lines of an array of components once per pattern, and
the rolled printout expands back to exactly the full one."""

from __future__ import annotations

import pathlib
import re

from symflow.cli._rolled import MIN_RUN, rolled
from symflow.frontend import compile_file

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
LOOP = re.compile(r"^(\s*)for i in (\d+):(\d+)  (.*)$")


def expanded(text: str) -> list[str]:
    """Every line a rolled printout stands for."""
    lines = []
    for line in text.splitlines():
        loop = LOOP.match(line)
        if loop is None:
            lines.append(line)
            continue
        indent, first, last, body = loop.groups()
        for i in range(int(first), int(last) + 1):
            lines.append(indent + re.sub(r"\[i( ([+-]) (\d+))?\]", lambda m: "[%d]" % (
                i + (0 if m.group(1) is None else int(m.group(3)) * (1 if m.group(2) == "+"
                                                                      else -1))), body))
    return lines


def test_a_ladder_prints_one_line_per_pattern_and_expands_back():
    full = str(compile_file(EXAMPLES / "rc_ladder.sf").system)  # 20 sections
    short = rolled(full)
    assert len(short.splitlines()) < len(full.splitlines()) / 3
    assert "for i in 0:19  c[i].vc" in short
    assert sorted(expanded(short)) == sorted(full.splitlines())


def test_only_runs_whose_indices_step_together_are_rolled():
    lines = ["  equations"] + [f"    x[{k}] = y[{k + 1}]" for k in range(MIN_RUN)] + [
        f"    u[{k}] = v[{2 * k}]" for k in range(MIN_RUN)] + [
        f"    w[{k}] = 0" for k in range(MIN_RUN - 1)]
    short = rolled("\n".join(lines)).splitlines()
    assert short[:2] == ["  equations", f"    for i in 0:{MIN_RUN - 1}  x[i] = y[i + 1]"]
    assert "    u[1] = v[2]" in short and "    w[2] = 0" in short  # not stepping; too few
    assert sorted(expanded("\n".join(short))) == sorted(lines)
