"""`import` in a model file reads only regular `.sf` files in the model's folder, the
standard library and the folders the user allows; everything else is refused at the
import line with the reason and what to do, never read, never a hang."""

import os

import pytest
from time_limit import time_limit

import symflow
from symflow.cli import EXIT_MODEL, EXIT_OK, EXIT_USAGE, main
from symflow.frontend import compile_file, compile_text

PART = """model Part
  variables
    y = 1.0
  equations
    der(y) = -y
end
"""

MAIN = """import {target}
model Decay
  parameters
    k = 1.0
  variables
    x = 1.0
  equations
    der(x) = -k*x
end
"""


def _main_file(folder, target: str):
    path = folder / "main.sf"
    path.write_text(MAIN.format(target=target))
    return path


def _refused(path, *message: str, **options) -> symflow.SymflowError:
    with time_limit(10, "reading the model"), pytest.raises(symflow.SymflowError) as info:
        compile_file(path, **options)
    err = info.value
    for text in message:
        assert text in err.message
    assert err.span is not None and err.span.line == 1  # at the import line
    assert "^^^" in err.pretty()
    return err


@pytest.fixture
def outside(tmp_path):
    """A model folder, and a folder beside it holding a `.sf` file."""
    (tmp_path / "model").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "part.sf").write_text(PART)
    return tmp_path


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked folder"])
def test_an_import_cannot_leave_the_model_folder(outside, how):
    folder = outside / "model"
    target = {"absolute": str(outside / "elsewhere" / "part.sf"),
              "dotdot": "../elsewhere/part.sf", "symlink": "link.sf",
              "symlinked folder": "parts/part.sf"}[how]
    if how == "symlink":
        (folder / "link.sf").symlink_to(outside / "elsewhere" / "part.sf")
    if how == "symlinked folder":
        (folder / "parts").symlink_to(outside / "elsewhere")
    err = _refused(_main_file(folder, f'"{target}"'), "outside the folders imports may read")
    assert "--allow-import" in err.help and str(outside / "elsewhere") in err.help


def test_a_system_file_is_never_read_through_an_import(tmp_path):
    err = _refused(_main_file(tmp_path, '"/proc/self/environ"'), "outside")
    assert "PATH" not in err.pretty()  # nothing of the file is shown


def test_allow_import_widens_the_search_path(outside):
    path = _main_file(outside / "model", '"../elsewhere/part.sf"')
    elsewhere = str(outside / "elsewhere")
    assert compile_file(path, allow_import=[elsewhere]).built.name == "Decay"
    assert main(["check", str(path), "--allow-import", elsewhere]) == EXIT_OK
    assert main(["check", str(path)]) == EXIT_MODEL


def test_the_python_api_takes_allow_import(outside):
    text = MAIN.format(target='"../elsewhere/part.sf"')
    with pytest.raises(symflow.SymflowError, match="outside"):
        symflow.loads(text, file=str(outside / "model" / "main.sf"))
    m = symflow.loads(text, file=str(outside / "model" / "main.sf"),
                      allow_import=[outside / "elsewhere"])
    assert m.name == "Decay"


def test_model_text_without_a_file_imports_from_the_current_folder(outside, monkeypatch):
    monkeypatch.chdir(outside / "model")
    with pytest.raises(symflow.SymflowError, match="outside"):
        compile_text(MAIN.format(target='"../elsewhere/part.sf"'))


def test_only_model_files_are_imported(tmp_path):
    (tmp_path / "notes.txt").write_text(PART)
    _refused(_main_file(tmp_path, '"notes.txt"'), "only model files (.sf)")


def test_a_named_pipe_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.sf")
    err = _refused(_main_file(tmp_path, '"pipe.sf"'), "named pipe", "not a regular file")
    assert "regular files" in err.help


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    with open(tmp_path / "huge.sf", "wb") as f:
        f.truncate(17 * 2**20)  # sparse: no disk, and nothing read
    _refused(_main_file(tmp_path, '"huge.sf"'), "larger than 16.0 MiB")


def test_a_long_chain_of_imports_is_refused_at_its_depth_cap(tmp_path):
    for i in range(80):
        head = f'import "c{i + 1}.sf"\n' if i < 79 else ""
        (tmp_path / f"c{i}.sf").write_text(head + PART.replace("Part", f"P{i}"))
    with pytest.raises(symflow.SymflowError, match="imports nested more than 64 deep") as info:
        compile_file(tmp_path / "c0.sf")
    assert info.value.span.file.endswith("c64.sf")


@pytest.mark.parametrize("kind", ["device", "pipe", "folder", "huge"])
def test_the_command_line_refuses_a_model_file_it_cannot_read(tmp_path, capsys, kind):
    path = {"device": "/dev/zero", "pipe": str(tmp_path / "pipe.sf"), "folder": str(tmp_path),
            "huge": str(tmp_path / "huge.sf")}[kind]
    if kind == "pipe":
        os.mkfifo(path)
    if kind == "huge":
        with open(path, "wb") as f:
            f.truncate(17 * 2**20)
    with time_limit(10, "reading the model"):
        assert main(["check", path]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert {"device": "is a character device", "pipe": "is a named pipe",
            "folder": "is a folder", "huge": "larger than 16.0 MiB"}[kind] in err
    assert "Traceback" not in err
    with time_limit(10, "reading the model"), pytest.raises(symflow.SymflowError):
        compile_file(path)
