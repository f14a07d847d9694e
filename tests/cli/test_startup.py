"""What the commands load: `check`, `show` and `compile` never import JAX (structural
checks in fresh processes, not timings: docs/performance.md has those)."""

import subprocess
import sys

import pytest

from models import model_path

PROBE = """
import sys
from symflow.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("jax", "diffrax", "equinox", "optimistix") if m in sys.modules)
print("LOADED:" + ",".join(heavy))
sys.exit(code)
"""


def _loaded(*argv: str) -> tuple[int, list[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                          text=True, timeout=120)
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED:"))
    return done.returncode, [m for m in line[len("LOADED:"):].split(",") if m], done.stdout


@pytest.mark.parametrize("argv", [
    ("check",), ("show",), ("show", "--stage", "built"), ("compile",)])
def test_commands_without_arrays_never_import_jax(argv):
    code, loaded, out = _loaded(*argv, str(model_path("robertson_example")))
    assert code == 0, out
    assert loaded == []


def test_a_model_error_is_reported_without_importing_jax(tmp_path):
    bad = tmp_path / "bad.sf"
    bad.write_text("model M\nvariables\n  x = 1\nequations\n  der(x) = -k*x\nend\n")
    code, loaded, _ = _loaded("check", str(bad))
    assert code == 1
    assert loaded == []


@pytest.mark.slow
def test_run_does_import_jax():
    """The probe can see JAX when it is loaded (so the checks above can fail)."""
    code, loaded, out = _loaded("run", str(model_path("robertson_example")), "--no-progress")
    assert code == 0, out
    assert "jax" in loaded
