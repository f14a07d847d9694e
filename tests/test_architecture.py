"""The shape of the package, read from its source with `ast` (docs/architecture.md).

- No import circle between symflow's modules (imports inside functions count: a
  lazy import hides a circle, it does not remove it; imports under
  `if TYPE_CHECKING:` do not, since they never run).
- Imports run downward through the stages: a module never imports a later stage.
- A private module (`_name.py`) is imported only from its own package (or a
  package inside it); everyone else imports the package's face, its `__init__.py`.
- No module over 500 lines and no function over 100 lines unless its docstring
  gives the reason on a line starting "Long because".
"""

from __future__ import annotations

import ast
import pathlib

import pytest

from symflow.passes.dae.matching import strong_components  # Tarjan's algorithm

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "symflow"

# The stages, lowest first: a module may import its own stage and those before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "catalog", "runtime", "cache", "files", "progress", "collector"),
    ("lang",),
    ("symbolic",),
    ("analysis",),
    ("passes",),
    ("codegen",),
    ("solve",),
    ("learn",),
    ("sbml",),
    ("programs",),
    ("frontend",),
    ("api",),
    ("petab",),
    ("cli", "__init__", "__main__"),
)
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 100
REASON = "Long because"


def _modules() -> dict[str, pathlib.Path]:
    """Every module of the package by dotted name (`symflow.solve.runner`)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module named by a `from ... import` statement."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not _is_package(importer):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str) -> set[str]:
    """The symflow modules that module `name` imports, anywhere in its body."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    for block in ast.walk(tree):  # drop what runs only under a type checker
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test):
            block.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(name, node)
            # `from .pkg import name` names a submodule, or an attribute of the package.
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module
                       for a in node.names]
        for target in targets:
            if target in MODULES and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _stage(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(name: str) -> int:
    stage = _stage(name)
    for i, names in enumerate(LAYERS):
        if stage in names:
            return i
    raise AssertionError(f"{name}: stage {stage!r} is in no layer of LAYERS")


def _owner(name: str) -> str:
    """The package a module belongs to (itself, for a package)."""
    return name if _is_package(name) else name.rsplit(".", 1)[0]


def test_every_import_names_a_module_that_exists() -> None:
    """A lazy import of a module that moved fails only when its branch runs: catch it here."""
    missing = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = _resolve(name, node)
            elif isinstance(node, ast.Import):
                module = next((a.name for a in node.names if a.name.startswith("symflow")), "")
            else:
                continue
            if module.startswith("symflow") and module not in MODULES:
                missing.append(f"{name}:{node.lineno} imports {module}")
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)


def test_every_module_belongs_to_a_stage() -> None:
    for name in MODULES:
        _layer(name)


def test_no_import_circle() -> None:
    names = sorted(GRAPH)
    number = {name: i for i, name in enumerate(names)}
    edges = [[number[t] for t in sorted(GRAPH[name])] for name in names]
    circles = [sorted(names[i] for i in c) for c in strong_components(edges) if len(c) > 1]
    assert not circles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_imports_run_downward() -> None:
    upward = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in sorted(targets)
              if _layer(b) > _layer(a)]
    assert not upward, "imports of a later stage:\n" + "\n".join(upward)


def test_private_modules_stay_in_their_package() -> None:
    reaching = []
    for importer, targets in GRAPH.items():
        for target in sorted(targets):
            if not target.rsplit(".", 1)[-1].startswith("_"):
                continue
            package = target.rsplit(".", 1)[0]
            mine = _owner(importer)
            if not (mine == package or mine.startswith(package + ".")):
                reaching.append(f"{importer} -> {target}")
    assert not reaching, "private modules imported from outside their package:\n" + "\n".join(
        reaching)


def _long_without_reason(path: pathlib.Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    found = []
    module_doc = ast.get_docstring(tree) or ""
    if len(text.splitlines()) > MAX_MODULE_LINES and REASON not in module_doc:
        found.append(f"{path.relative_to(PACKAGE.parent)}: {len(text.splitlines())} lines")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES and REASON not in (ast.get_docstring(node) or ""):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} "
                             f"{node.name}: {length} lines")
    return found


def test_no_long_module_or_function_without_a_reason() -> None:
    found = [line for path in MODULES.values() for line in _long_without_reason(path)]
    assert not found, (f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a "
                       f"function, with no '{REASON}' in its docstring:\n" + "\n".join(found))


@pytest.mark.parametrize("source, expected", [
    ("from .b import c", ["symflow.x.b"]),
    ("from ..y import z", ["symflow.y"]),
])
def test_relative_imports_are_resolved(source: str, expected: list[str]) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ImportFrom)
    # symflow.x.a is a module of package symflow.x
    base = "symflow.x.a"
    MODULES.setdefault(base, PACKAGE / "x" / "a.py")
    try:
        assert [_resolve(base, node)] == expected
    finally:
        del MODULES[base]
