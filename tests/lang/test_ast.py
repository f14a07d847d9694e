"""The generic walks over the syntax tree: `children`, `walk` (pre-order), `transform`."""

import dataclasses

from symflow.lang import ast, parse


def _expr(text: str):
    program = parse(f"model M\n  variables\n    x = 0\n  equations\n    der(x) = {text}\nend\n")
    return program.models[0].items("equations")[0].rhs


def test_children_in_field_order_with_tuples_flattened():
    call = _expr("f(a, b, k = c)")
    kids = ast.children(call)
    assert [type(k).__name__ for k in kids] == ["Name", "Name", "Keyword"]
    assert [k.id for k in kids[:2]] == ["a", "b"]
    assert ast.children(kids[2])[0].id == "c"
    assert ast.children(_expr("1")) == ()


def test_children_skip_missing_parts_and_spans():
    sub = _expr("y[:3]")
    (target, index) = ast.children(sub)
    assert target.id == "y" and isinstance(index, ast.Slice)
    assert [c.value for c in ast.children(index)] == [3]  # no start: no child


def test_walk_is_pre_order_left_to_right():
    expr = _expr("a*(b + c) - if d > 0 then e else g")
    names = [n.id for n in ast.walk(expr) if isinstance(n, ast.Name)]
    assert names == ["a", "b", "c", "d", "e", "g"]
    first = next(iter(ast.walk(expr)))
    assert first is expr


def test_walk_and_transform_handle_very_deep_trees():
    expr = _expr(" + ".join(f"a{i}" for i in range(5000)))
    assert sum(isinstance(n, ast.Name) for n in ast.walk(expr)) == 5000
    renamed = ast.transform(expr, lambda n: dataclasses.replace(n, id=n.id.upper())
                            if isinstance(n, ast.Name) else n)
    assert [n.id for n in ast.walk(renamed) if isinstance(n, ast.Name)][:2] == ["A0", "A1"]


def test_transform_shares_unchanged_parts():
    expr = _expr("(a + b) * (c + d)")
    assert ast.transform(expr, lambda n: n) is expr
    out = ast.transform(expr, lambda n: ast.Name("z", n.span)
                        if isinstance(n, ast.Name) and n.id == "c" else n)
    assert out is not expr and out.left is expr.left  # the untouched side is shared
    assert [n.id for n in ast.walk(out) if isinstance(n, ast.Name)] == ["a", "b", "z", "d"]


def test_transform_continues_into_what_fn_returns():
    # A replacement's children are transformed too (renaming a call and its arguments).
    expr = _expr("f(g(a), b)")

    def rename(n):
        if isinstance(n, ast.Call):
            return dataclasses.replace(n, func=n.func.upper())
        if isinstance(n, ast.Name):
            return dataclasses.replace(n, id=n.id + "1")
        return n

    out = ast.transform(expr, rename)
    assert [n.func for n in ast.walk(out) if isinstance(n, ast.Call)] == ["F", "G"]
    assert [n.id for n in ast.walk(out) if isinstance(n, ast.Name)] == ["a1", "b1"]


def test_transform_rebuilds_tuples_of_statements():
    program = parse("model M\n  parameters\n    k = 1 in [0, 2]\n  variables\n    x = k\n"
                    "  equations\n    der(x) = -k*x\nend\n")
    model = program.models[0]
    out = ast.transform(model, lambda n: dataclasses.replace(n, id="q")
                        if isinstance(n, ast.Name) and n.id == "k" else n)
    names = {n.id for n in ast.walk(out) if isinstance(n, ast.Name)}
    assert "k" not in names and "q" in names
    assert isinstance(out.sections, tuple) and out.items("parameters")[0].name == "k"
