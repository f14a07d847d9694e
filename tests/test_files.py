"""Output files: never half-written, never over an input, never replaced unasked."""

import os

import pytest

from models import model_path
from symflow.cli import EXIT_OK, EXIT_USAGE, main
from symflow.files import OutputError, check_output, replacing, write_atomically


def test_a_failed_write_leaves_the_old_file_and_no_litter(tmp_path):
    target = tmp_path / "result.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["result.csv"]
    write_atomically(target, "new")
    assert target.read_text() == "new"


def test_the_temporary_file_keeps_the_extension(tmp_path):
    with replacing(tmp_path / "plot.png") as tmp:
        assert tmp.endswith(".png")
        open(tmp, "wb").close()


def test_an_input_is_refused_under_any_name(tmp_path):
    model = tmp_path / "m.sf"
    model.write_text("model M end")
    link = tmp_path / "link.sf"
    link.symlink_to(model)
    with pytest.raises(OutputError, match="refusing to overwrite the input"):
        check_output(link, inputs=[str(model)], force=True)


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing" / "out.csv", "does not exist"),
    (lambda d: d, "is a folder"),
])
def test_bad_places_are_refused(tmp_path, make, message):
    with pytest.raises(OutputError, match=message):
        check_output(make(tmp_path), force=True)


def test_an_existing_file_needs_force(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("x")
    with pytest.raises(OutputError, match="--force"):
        check_output(target)
    check_output(target, force=True)


def test_commands_refuse_before_any_work(tmp_path, capsys):
    robertson = str(model_path("robertson_example"))
    existing = tmp_path / "out.csv"
    existing.write_text("keep me")
    assert main(["run", robertson, "-o", str(existing), "--no-progress"]) == EXIT_USAGE
    assert existing.read_text() == "keep me"
    assert "solved with" not in capsys.readouterr().out  # refused before solving
    assert main(["compile", robertson, "-o", robertson]) == EXIT_USAGE
    assert main(["run", robertson, "-o", str(tmp_path / "no" / "x.csv")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert main(["run", robertson, "-o", str(existing), "--force", "--no-progress"]) == EXIT_OK
    assert existing.read_text().startswith("t,y1,y2,y3")


def test_a_written_file_gets_the_usual_permissions(tmp_path):
    """A new file gets 0666 less the umask (not the temporary file's 0600); a
    replaced file keeps its own mode."""
    umask = os.umask(0o022)
    try:
        new = tmp_path / "new.txt"
        write_atomically(new, "x")
        assert new.stat().st_mode & 0o777 == 0o644
        old = tmp_path / "old.txt"
        old.write_text("y")
        old.chmod(0o640)
        write_atomically(old, "z")
        assert old.stat().st_mode & 0o777 == 0o640 and old.read_text() == "z"
    finally:
        os.umask(umask)
