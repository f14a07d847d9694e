"""Python identifiers for model names in generated code.

Model names may hold dots (`r.p.v`, from components) and brackets (`r[3].p.v`, an
element of an array of components); neither is Python. Every generated name is a
prefix (`p_` parameter, `v_` state, `q_` value before an event) and the name with
`.` written `__` and `[k]` written `__ik`.
"""

from __future__ import annotations

__all__ = ["mangle"]


def mangle(prefix: str, name: str) -> str:
    """`mangle("p_", "r[3].R")` is `p_r__i3__R`."""
    return prefix + name.replace(".", "__").replace("[", "__i").replace("]", "")
