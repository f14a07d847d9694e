"""Generic walks over the syntax tree: children, pre-order walk, and a rebuilding map.

The nodes of `symflow.lang.ast` are frozen dataclasses whose fields hold other
nodes, tuples of nodes (`Call.args`), strings, numbers, `None` and `Span`s. A
child is any field value (or tuple element) that is itself a node; a `Span` is
not a node. Everything here is iterative, because expressions can be deep: the
parser makes `a + b + c + ...` a left-leaning tree as deep as it is long.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import Span

__all__ = ["children", "is_node", "transform", "walk"]


# class -> the names of its fields (a node class), or None (anything else)
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _fields_of(cls: type) -> tuple[str, ...] | None:
    """The field names of a node class, `None` for any other class (cached: walks ask
    for every value they meet)."""
    try:
        return _FIELDS[cls]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(cls) and not issubclass(cls, Span):
            names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELDS[cls] = names
        return names


def is_node(value: Any) -> bool:
    """Whether `value` is a syntax tree node (a dataclass instance other than a `Span`)."""
    return not isinstance(value, type) and _fields_of(type(value)) is not None


def _node_fields(node: Any) -> list[tuple[str, Any]]:
    """The fields of `node` that may hold nodes: nodes and tuples (spans left out)."""
    out = []
    for name in _fields_of(type(node)) or ():
        value = getattr(node, name)
        if isinstance(value, tuple) or _fields_of(type(value)) is not None:
            out.append((name, value))
    return out


def _add_children(value: Any, out: list[Any]) -> None:
    if isinstance(value, tuple):
        for item in value:
            _add_children(item, out)
    elif _fields_of(type(value)) is not None:
        out.append(value)


def children(node: Any) -> tuple[Any, ...]:
    """The direct child nodes of `node`, in field order; tuples are flattened
    (`Call(f, (a, b), (Keyword(k, c),))` has the children `a, b, Keyword(k, c)`)."""
    out: list[Any] = []
    for name in _fields_of(type(node)) or ():
        _add_children(getattr(node, name), out)
    return tuple(out)


def walk(node: Any) -> Iterator[Any]:
    """`node` and every node below it, in pre-order (a node before its children,
    children left to right: the order they are written in)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


_VISIT, _NODE, _TUPLE = range(3)


def transform(node: Any, fn: Callable[[Any], Any]) -> Any:
    """A copy of the tree with `fn` applied to every node, top down.

    `fn(n)` returns the node to put in the place of `n` (`n` itself to keep it);
    the walk then continues into the children of what `fn` returned. Parts that
    nothing changed are shared with the input, and a tree that nothing changed
    is returned as is (`transform(t, lambda n: n) is t`). Tuples of nodes
    (`Call.args`) are rebuilt element by element.
    """
    results: list[Any] = []
    stack: list[tuple[int, Any]] = [(_VISIT, node)]
    while stack:
        op, item = stack.pop()
        if op == _VISIT:
            if isinstance(item, tuple):
                if not any(isinstance(x, tuple) or _fields_of(type(x)) is not None
                           for x in item):
                    results.append(item)  # names, numbers: nothing to transform
                    continue
                stack.append((_TUPLE, item))
                stack.extend((_VISIT, value) for value in reversed(item))
            elif _fields_of(type(item)) is not None and not isinstance(item, type):
                item = fn(item)
                fields = _node_fields(item) if is_node(item) else []
                if not fields:
                    results.append(item)  # a leaf (or what `fn` made of a node)
                    continue
                stack.append((_NODE, (item, [name for name, _ in fields])))
                stack.extend((_VISIT, value) for _, value in reversed(fields))
            else:
                results.append(item)
        elif op == _NODE:
            built, names = item
            values = results[len(results) - len(names):]
            del results[len(results) - len(names):]
            changes = {name: value for name, value in zip(names, values)
                       if value is not getattr(built, name)}
            results.append(dataclasses.replace(built, **changes) if changes else built)
        else:
            values = results[len(results) - len(item):]
            del results[len(results) - len(item):]
            same = all(a is b for a, b in zip(values, item))
            results.append(item if same else tuple(values))
    (out,) = results
    return out
