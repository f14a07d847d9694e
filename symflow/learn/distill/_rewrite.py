"""Writing a distilled model: the model's own text, with closures replaced by expressions.

The rewrite works on the source text, guided by the spans of its syntax tree: every use of
a closure output in an equation, observed output, function, boundary condition or other
closure's input becomes the found expression in parentheses; the closure's declaration
becomes a comment that says what it was and what replaced it; parameters may get new
default values (physical parameters trained with the network). Everything else, comments
and layout included, is kept as written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ...errors import SymflowError
from ...lang import ast, parse


__all__ = ["rewrite_closures", "input_texts", "format_sum", "format_number"]


def format_number(value: float) -> str:
    """A coefficient as model text, with every digit needed to read it back exactly."""
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        raise SymflowError(f"cannot write the non-finite coefficient {text} into a model")
    return text


def format_sum(coefficients: Sequence[float], terms: Sequence[str]) -> str:
    """`c1*t1 + c2*t2 - ...` as model text, leaving out zero coefficients (`0` if none)."""
    out = ""
    for c, term in zip(coefficients, terms):
        c = float(c)
        if c == 0.0:
            continue
        magnitude = format_number(abs(c))
        piece = magnitude if term == "1" else f"{magnitude}*{term}"
        if not out:
            out = piece if c > 0 else f"-{piece}"
        else:
            out += f" + {piece}" if c > 0 else f" - {piece}"
    return out or "0"


def input_texts(closure: ast.Closure, source: str) -> tuple[str, ...]:
    """The source text of each input of a closure, as an atom of a product: a name,
    number, call or subscript as written, anything else in parentheses."""
    lines = _line_starts(source)
    out = []
    for arg in closure.call.args:
        text = source[_offset(lines, arg.span.line, arg.span.column):
                      _offset(lines, arg.span.end_line, arg.span.end_column)].strip()
        atomic = isinstance(arg, (ast.Name, ast.Number, ast.Call, ast.Subscript))
        out.append(text if atomic else f"({text})")
    return tuple(out)


def rewrite_closures(source: str, *, file: str = "<string>", model: str | None = None,
                     replacements: Mapping[str, str],
                     params: Mapping[str, float] | None = None,
                     notes: Mapping[str, str] | None = None) -> str:
    """The model text with closure outputs replaced by expressions.

    **Arguments:**

    - `source`: the text of the model file; `file` its name (for errors).
    - `model`: which model of the file (default: the last one).
    - `replacements`: closure output name -> model text of its expression. Every
      output of a replaced closure must be given.
    - `params`: new default values of parameters, written at their declarations.
    - `notes`: closure output name -> a line said about it in the comment left where
      the closure was (for instance how well the expression fits the network).
    """
    program = parse(source, file)
    target = _pick(program, model)
    closures = [c for c in target.items("closures") if isinstance(c, ast.Closure)]
    declared = {name for c in closures for name in c.outputs}
    unknown = sorted(set(replacements) - declared)
    if unknown:
        raise SymflowError(f"'{unknown[0]}' is not an output of a closure of model "
                           f"{target.name}", help="its closure outputs: "
                           + (", ".join(sorted(declared)) or "none"))
    removed = [c for c in closures if any(o in replacements for o in c.outputs)]
    for c in removed:
        missing = [o for o in c.outputs if o not in replacements]
        if missing:
            raise SymflowError(f"closure output '{missing[0]}' has no expression: a closure "
                               f"is replaced with all its outputs", c.span)
    lines = _line_starts(source)
    edits: list[tuple[int, int, str]] = []

    # uses of the outputs
    removed_ids = {id(c) for c in removed}
    for section in target.sections:
        for item in section.items:
            if id(item) in removed_ids:
                continue
            shadowed = set(item.params) if isinstance(item, ast.FunctionDef) else set()
            for name in _names(item):
                if name.id in replacements and name.id not in shadowed:
                    edits.append((_offset(lines, name.span.line, name.span.column),
                                  _offset(lines, name.span.end_line, name.span.end_column),
                                  f"({replacements[name.id]})"))

    # the declarations, and their section's header once it is empty
    for section in target.sections:
        if section.kind != "closures":
            continue
        gone = [c for c in section.items if id(c) in removed_ids]
        for c in gone:
            first, last = _statement_lines(source, lines, c)
            indent = _indent(source, lines, first)
            declaration = " ".join(
                source[lines[k - 1]:_line_end(source, lines, k)].strip().rstrip("\\").strip()
                for k in range(first, last + 1))
            comment = [f"# {declaration}", "#   was distilled into:"]
            for o in c.outputs:
                comment.append(f"#   {o} = {replacements[o]}")
                if notes and o in notes:
                    comment.append(f"#     ({notes[o]})")
            edits.append((lines[first - 1], _line_end(source, lines, last),
                          "\n".join(indent + line for line in comment)))
        if len(gone) == len(section.items):
            k = section.span.line
            start = _offset(lines, k, section.span.column)
            edits.append((start, start + len("closures"),
                          "# closures (replaced by symflow distill)"))

    # new parameter defaults
    for name, value in (params or {}).items():
        decl = next((d for d in target.items("parameters")
                     if isinstance(d, ast.Declaration) and d.name == name), None)
        if decl is None:
            raise SymflowError(f"cannot write parameter {name!r}: it is not declared with a "
                               f"value in model {target.name}")
        edits.append((_offset(lines, decl.value.span.line, decl.value.span.column),
                      _offset(lines, decl.value.span.end_line, decl.value.span.end_column),
                      format_number(float(value))))

    edits.sort()
    for (a0, b0, _), (a1, _, _) in zip(edits, edits[1:]):
        if a1 < b0:
            raise SymflowError("cannot rewrite the model: two edits overlap")  # a bug
    for a, b, new in reversed(edits):
        source = source[:a] + new + source[b:]
    return source


def _pick(program: ast.Program, model: str | None) -> ast.Model:
    if not program.models:
        raise SymflowError(f"{program.file} defines no model")
    if model is None:
        return program.models[-1]
    for m in program.models:
        if m.name == model:
            return m
    raise SymflowError(f"no model named {model!r} in {program.file}")


def _names(node) -> list[ast.Name]:
    """Every `Name` inside an AST node (iteratively: expressions may be deep)."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            out.append(n)
        elif isinstance(n, (tuple, list)):
            stack.extend(n)
        elif dataclasses.is_dataclass(n) and not isinstance(n, type):
            stack.extend(getattr(n, f.name) for f in dataclasses.fields(n)
                         if f.name not in ("span", "name_span", "func_span"))
    return out


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _offset(lines: list[int], line: int, column: int) -> int:
    return lines[line - 1] + column - 1


def _line_end(source: str, lines: list[int], line: int) -> int:
    """The offset of the end of a line (before its newline)."""
    end = lines[line] - 1 if line < len(lines) else len(source)
    if end > 0 and source[end - 1:end] == "\r":
        end -= 1
    return end


def _indent(source: str, lines: list[int], line: int) -> str:
    text = source[lines[line - 1]:_line_end(source, lines, line)]
    return text[:len(text) - len(text.lstrip())]


def _statement_lines(source: str, lines: list[int], closure: ast.Closure) -> tuple[int, int]:
    """The first and last line of a closure statement (a `\\` continues a line)."""
    first = closure.span.line
    while first > 1 and source[lines[first - 2]:_line_end(source, lines, first - 1)
                               ].rstrip().endswith("\\"):
        first -= 1
    children = [*closure.call.args, *closure.call.keywords]
    end = max(((s.end_line, s.end_column) for s in [closure.call.func_span,
                                                     *(c.span for c in children)]))
    position = _offset(lines, *end)
    closing = source.find(")", position)
    last = end[0] if closing < 0 else next(
        k for k in range(len(lines), 0, -1) if lines[k - 1] <= closing)
    return first, last
