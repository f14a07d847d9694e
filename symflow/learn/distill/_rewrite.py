"""Writing a distilled model: the model's own text, with closures replaced by expressions.

The rewrite works on the source text, guided by the spans of its syntax tree: every use of
a closure output in an equation, observed output, function, boundary condition or other
closure's input becomes the found expression in parentheses; the closure's declaration
becomes a comment that says what it was and what replaced it; parameters may get new
default values (physical parameters trained with the network). Everything else, comments
and layout included, is kept as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ...errors import SymflowError
from ...lang import ast, parse
from ...lang.edit import Lines, apply_edits, format_number

__all__ = ["rewrite_closures", "input_texts", "format_sum", "format_number"]


def format_sum(coefficients: Iterable[float], terms: Sequence[str]) -> str:
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
    lines = Lines(source)
    out = []
    for arg in closure.call.args:
        start, stop = lines.span(arg.span)
        text = source[start:stop].strip()
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
    lines = Lines(source)
    edits: list[tuple[int, int, str]] = []

    # uses of the outputs
    removed_ids = {id(c) for c in removed}
    for section in target.sections:
        for item in section.items:
            if id(item) in removed_ids:
                continue
            shadowed = set(item.params) if isinstance(item, ast.FunctionDef) else set()
            for name in ast.walk(item):
                if isinstance(name, ast.Name) and name.id in replacements \
                        and name.id not in shadowed:
                    edits.append((*lines.span(name.span), f"({replacements[name.id]})"))

    # the declarations, and their section's header once it is empty
    for section in target.sections:
        if section.kind != "closures":
            continue
        gone = [c for c in section.items if id(c) in removed_ids]
        for c in gone:
            first, last = _statement_lines(source, lines, c)
            indent = lines.indent(first)
            declaration = " ".join(lines.line(k).strip().rstrip("\\").strip()
                                   for k in range(first, last + 1))
            comment = [f"# {declaration}", "#   was distilled into:"]
            for o in c.outputs:
                comment.append(f"#   {o} = {replacements[o]}")
                if notes and o in notes:
                    comment.append(f"#     ({notes[o]})")
            edits.append((lines.start(first), lines.end(last),
                          "\n".join(indent + line for line in comment)))
        if len(gone) == len(section.items):
            start = lines.offset(section.span.line, section.span.column)
            edits.append((start, start + len("closures"),
                          "# closures (replaced by symflow distill)"))

    # new parameter defaults
    for name, value in (params or {}).items():
        decl = next((d for d in target.items("parameters")
                     if isinstance(d, ast.Declaration) and d.name == name), None)
        if decl is None:
            raise SymflowError(f"cannot write parameter {name!r}: it is not declared with a "
                               f"value in model {target.name}")
        edits.append((*lines.span(decl.value.span), format_number(float(value))))
    return apply_edits(source, edits)


def _pick(program: ast.Program, model: str | None) -> ast.Model:
    if not program.models:
        raise SymflowError(f"{program.file} defines no model")
    if model is None:
        return program.models[-1]
    for m in program.models:
        if m.name == model:
            return m
    raise SymflowError(f"no model named {model!r} in {program.file}")


def _statement_lines(source: str, lines: Lines, closure: ast.Closure) -> tuple[int, int]:
    """The first and last line of a closure statement (a `\\` continues a line)."""
    first = closure.span.line
    while first > 1 and lines.line(first - 1).rstrip().endswith("\\"):
        first -= 1
    children = [*closure.call.args, *closure.call.keywords]
    end = max(((s.end_line, s.end_column) for s in [closure.call.func_span,
                                                     *(c.span for c in children)]))
    position = lines.offset(*end)
    closing = source.find(")", position)
    last = end[0] if closing < 0 else next(
        k for k in range(len(lines), 0, -1) if lines.start(k) <= closing)
    return first, last
