"""`symflow show` of a model built from arrays of components: one line per pattern.

A flattened ladder of 10,000 sections prints each of its variables and
equations once per section. Here the lines of one section of the printout that
differ only in their element indices (`r[3].v`, `c[4].vc`) are written once, as
`for i in 0:9999  r[i].v`, when the indices of every member step together by one:
line k of the group is the pattern with `i = start + k`, each index `i + offset`.
Lines that follow no such pattern are printed as they are. Expanding the rolled
lines gives back exactly the lines of the full printout (tested), in a different
order within a section; `--scalar` prints the full one.
"""

from __future__ import annotations

import re

__all__ = ["MIN_RUN", "rolled"]

MIN_RUN = 4  # a pattern shared by fewer lines is printed line by line
_INDEX = re.compile(r"\[(\d+)\]")


def rolled(text: str) -> str:
    """`text` (a printout whose sections are blocks of lines of one indentation) with
    each block's lines of one pattern written once."""
    out: list[str] = []
    block: list[str] = []
    for line in text.splitlines():
        if block and _depth(line) != _depth(block[0]):
            out += _rolled_block(block)
            block = []
        block.append(line)
    return "\n".join(out + _rolled_block(block))


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip())


def _rolled_block(lines: list[str]) -> list[str]:
    """The lines of one section, each pattern of at least `MIN_RUN` lines whose
    indices step together written once, at the place of its first line."""
    groups: dict[str, list[tuple[int, ...]]] = {}
    order: list[str] = []
    for line in lines:
        pattern = _INDEX.sub("[#]", line)
        if pattern not in groups:
            groups[pattern] = []
            order.append(pattern)
        groups[pattern].append(tuple(int(k) for k in _INDEX.findall(line)))
    out = []
    for pattern in order:
        for run in _runs(groups[pattern]):
            if len(run) < MIN_RUN:
                out += [_filled(pattern, m) for m in run]
                continue
            first = run[0][0]
            names = iter(f"i + {k - first}" if k > first else f"i - {first - k}"
                         if k < first else "i" for k in run[0])
            body = re.sub(r"\[#\]", lambda _: f"[{next(names)}]", pattern.strip())
            out.append(f"{pattern[:_depth(pattern)]}for i in {first}:{first + len(run) - 1}  "
                       f"{body}")
    return out


def _runs(members: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """`members` cut into runs in which every index grows by one from line to line
    (a line without indices is a run of its own)."""
    runs: list[list[tuple[int, ...]]] = []
    for m in members:
        if runs and m and all(a == b + 1 for a, b in zip(m, runs[-1][-1])):
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _filled(pattern: str, indices: tuple[int, ...]) -> str:
    values = iter(indices)
    return re.sub(r"\[#\]", lambda _: f"[{next(values)}]", pattern)
