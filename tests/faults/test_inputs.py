"""Bad input files and extreme models: a binary or Latin-1 model, a runaway cell or an
infinite value in fitting data, a weights file whose header is not what it should
be, each refused with a message that says where and why (never a traceback, never a
value dropped silently); a sum of thousands of terms compiles."""

import json
import os
import signal
import types

import jax.numpy as jnp
import numpy as np
import pytest

import symflow
from symflow.cli import EXIT_MODEL, main
from symflow.learn import load_data, load_weights

DECAY = """model Decay
  parameters
    k = 1.0  # half-life
  variables
    x = 1.0
  equations
    der(x) = -k*x
end
"""


def test_a_binary_model_file_is_not_a_text_file(tmp_path, capsys):
    path = tmp_path / "m.sf"
    path.write_bytes(DECAY.encode()[:40] + b"\x00\x01\x02\x7fELF")
    assert main(["check", str(path)]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "is not a text file" in err and "NUL byte (line 3" in err
    assert "Traceback" not in err


def test_a_latin1_model_file_is_refused_at_its_first_foreign_byte(tmp_path, capsys):
    path = tmp_path / "m.sf"
    path.write_bytes(DECAY.replace("half-life", "demi-vie été").encode("latin-1"))
    assert main(["check", str(path)]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert "is not UTF-8: byte 0xe9 at line 3, column 25" in err
    assert "files must be UTF-8" in err and "^" in err
    with pytest.raises(symflow.SymflowError) as info:
        symflow.load(path)
    assert (info.value.span.line, info.value.span.column) == (3, 25)


def test_a_runaway_cell_in_a_data_file_names_its_line_and_cell(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("t,x\n0.5,1.0\n1.0," + "9" * 200_000 + "\n")
    with pytest.raises(symflow.SymflowError, match=r"line 3: cell 2 holds 200,000 characters"):
        load_data(path)


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "1e999"])
def test_an_infinite_value_in_a_data_file_is_refused_where_it_is(tmp_path, cell):
    path = tmp_path / "data.csv"
    path.write_text(f"t,x,y\n0.5,1.0,2.0\n1.0,1.5,{cell}\n")
    with pytest.raises(symflow.SymflowError) as info:
        load_data(path)
    err = info.value
    assert "is infinite (column 'y', line 3" in err.message
    assert (err.span.line, err.span.column) == (3, 9)


def test_an_infinite_value_in_data_arrays_is_refused_with_its_time():
    with pytest.raises(symflow.SymflowError, match=r"column 'x' is infinite at t = 2"):
        load_data({"t": [1.0, 2.0, 3.0], "x": [0.5, np.inf, np.nan]})
    # a NaN is a missing value, as the docs say
    assert load_data({"t": [1.0, 2.0], "x": [0.5, np.nan]}).n_points == 1


_MODEL = types.SimpleNamespace(name="M", closures=())


@pytest.mark.parametrize("header, why", [
    (b'{"format": "symflow-closure-weights/1", "closures": {"U": 5}}', "closures"),
    (b'{"format": "symflow-closure-weights/1", "closures": ["U"]}', "closures"),
    (b'{"format": "symflow-closure-weights/1", "parameters": {"k": "fast"}}', "parameters"),
    (b'{"format": "symflow-closure-weights/1", "parameters": [1, 2]}', "parameters"),
    (b'{"format": "symflow-closure-weights/1", "parameters": {"k": [1, null]}}', "parameters"),
])
def test_a_weights_file_with_a_bad_header_says_so(tmp_path, header, why):
    path = tmp_path / "w.eqx"
    path.write_bytes(header + b"\n")
    model = types.SimpleNamespace(name="M", closures=(types.SimpleNamespace(
        name="U", architecture=lambda: {"width": 8}),) if b'"U"' in header else ())
    with pytest.raises(symflow.SymflowError,
                       match=f"is not a symflow weights file: the header's {why}"):
        load_weights(model, path)


def test_a_weights_file_without_a_header_line_is_not_read_to_its_end(tmp_path):
    path = tmp_path / "w.eqx"
    with open(path, "wb") as f:
        f.write(json.dumps({"format": "symflow-closure-weights/1"}).encode())
        f.truncate(40 * 2**20)  # a header line longer than any header (sparse)
    with pytest.raises(symflow.SymflowError, match="its first line is not a header"):
        load_weights(_MODEL, path)


def test_a_sum_and_a_product_of_3500_distinct_terms_compile():
    n = 3500
    values = [1 + (i % 7) / 1e4 for i in range(n)]
    parameters = "\n".join(f"    a{i} = {v!r}" for i, v in enumerate(values))
    total, product = " + ".join(f"a{i}" for i in range(n)), "*".join(f"a{i}" for i in range(n))
    m = symflow.loads(f"model Big\n  parameters\n{parameters}\n  variables\n    x = 0.0\n"
                      f"    y = 0.0\n  equations\n    der(x) = {total}\n    der(y) = {product}\n"
                      "end\n")
    rates = np.asarray(m.rhs(0.0, jnp.zeros(2)))
    assert rates == pytest.approx([sum(values), np.prod(values)], rel=1e-12)


@pytest.mark.parametrize("reader", ["data", "weights"])
def test_a_named_pipe_as_data_or_weights_is_refused_not_waited_on(tmp_path, reader):
    path = tmp_path / "pipe"
    os.mkfifo(path)

    def expire(signum, frame):
        raise TimeoutError("still waiting on the pipe")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        with pytest.raises(symflow.SymflowError, match="is a named pipe, not a regular file"):
            load_data(path) if reader == "data" else load_weights(_MODEL, path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
