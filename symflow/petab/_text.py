"""The model text of a PEtab problem: the SBML model's import, with the parameters
table's nominal values and bounds written at its parameter declarations, and sections
added for what the tables define: the parameters only the tables use (noise levels,
scalings), the observables (`observed`), their noise models (`fit`) and the span of
the measurements (`simulate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import SymflowError
from ..lang import ast, parse
from ..lang.edit import Lines, apply_edits, format_number
from ._observables import Observable
from ._parameters import Parameter

__all__ = ["model_text"]

# the solve's tolerances: the nominal likelihood is compared with references to 1e-6
SOLVE_RTOL = 1e-10
SOLVE_ATOL = 1e-12


def _declared(p: Parameter) -> str:
    value = format_number(p.nominal)
    if not p.estimate:
        return value
    return f"{value} in [{format_number(p.lower)}, {format_number(p.upper)}]"


def model_text(sbml_text: str, names: Mapping[str, str], parameters: Mapping[str, Parameter],
               observables: Sequence[Observable], *, t_end: float, source: str,
               preequilibration: bool = False) -> str:
    """`sbml_text` (the import of the problem's SBML model; `names`: the model name of
    each SBML id) completed with the tables. With `preequilibration`, one species of
    each conserved moiety is eliminated (`conserved = eliminate`): the steady state's
    Newton iteration needs a Jacobian that the conservation laws do not make singular."""
    program = parse(sbml_text, source)
    model = program.models[0]
    by_name = {names.get(pid, pid): p for pid, p in parameters.items()}
    edits = []
    written = set()
    for section in ("parameters", "compartments"):
        for decl in model.items(section):
            if isinstance(decl, ast.Declaration) and decl.name in by_name:
                edits.append((decl.value.span, _declared(by_name[decl.name])))
                written.add(decl.name)
    lines = Lines(sbml_text)
    text = apply_edits(sbml_text, [(*lines.span(s), v) for s, v in edits])
    extra = [f"    {p.name} = {_declared(p)}" for n, p in by_name.items() if n not in written]
    extra += [f"    {v} = 1   \"set by each experiment\"" for o in observables
              for v in o.varying]
    added = ["  parameters", *extra] if extra else []
    taken = {d.name for section in ("parameters", "compartments", "species", "variables")
             for d in model.items(section) if hasattr(d, "name")}
    for o in observables:
        if o.id in taken:
            raise SymflowError(f"observable {o.id!r} has the name of a species or parameter "
                               f"of the SBML model {source}",
                               help="give the observable an id of its own")
    added.append("  observed")
    added += [f"    {o.id} = {o.formula}" for o in observables]
    added.append("  fit")
    added += [f"    {o.id} ~ {o.noise}" for o in observables]
    added += ["  simulate", f"    tspan = [0, {format_number(t_end)}]",
              f"    rtol = {SOLVE_RTOL:g}", f"    atol = {SOLVE_ATOL:g}"]
    if preequilibration:
        added.append("    conserved = eliminate")
    body = text.rstrip()
    if not body.endswith("end"):
        raise SymflowError(f"the import of {source} does not end with `end`")
    header = f"# PEtab problem {source}: observables, noise models and parameter table added\n"
    return header + body[:-3] + "\n".join(added) + "\nend\n"
