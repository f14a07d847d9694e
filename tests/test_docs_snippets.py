"""Every snippet in README.md and docs/*.md runs as written.

The fenced code blocks are read from the Markdown files; the first word of a
fence's info string says what the block is (`FENCE_LANGUAGES`):

- `symflow`: a whole model file. Checked in-process (parse, build, passes and
  codegen's emission, as `symflow check` does) in the default suite; with
  `file=NAME` in the info string it is also written to NAME for the blocks after
  it (`symflow run heat.sf` below a model block that is `heat.sf`).
- `symflow-library`: a file of connectors and components for other files to
  import: parsed in the default suite.
- `symflow-fragment`: part of a model (one section): not run.
- Any block with `file=NAME` is written to NAME (in the temporary folder) for the
  blocks after it in the same Markdown file: a table a model reads, a model a
  command runs.
- `python`: run. The Python blocks of one Markdown file run in order in one
  namespace, in a temporary folder holding a copy of `examples/` and
  `tests/models/`, as a reader pasting them into one session would.
- `sh`: command lines; those starting with `symflow` or `python` run (in the same
  folder, after the Python blocks before them), `\\` continues a line, a leading
  `$ ` is dropped, and lines that start otherwise (output, `pip install`) are not
  run. `console`: a transcript: only the lines after a `$ ` prompt are commands.
- `text`: output, error messages, diagrams, synopses. `lark`: grammar.

A block that cannot run as written carries `norun` in its info string followed by
the reason (```` ```python norun needs a GPU ````); there are very few. The runs
are slow (whole solves and fits) and carry the `slow` marker; the default suite
checks the model blocks and the fences themselves. `python
tests/test_docs_snippets.py` prints the counts.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE_LANGUAGES = ("symflow", "symflow-library", "symflow-fragment", "python", "sh", "console",
                   "text", "lark")
RUN_LANGUAGES = ("python", "sh", "console")
# the folders a snippet may read, copied into its temporary working folder
NEEDED = ("examples", "tests/models")
MAX_NORUN = 4

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`]*)$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block: its file, first line (of the fence), info string, text."""

    doc: pathlib.Path
    line: int
    info: str
    text: str

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def norun(self) -> str | None:
        """The reason given after `norun`, or None when the block is run."""
        words = self.info.split()
        if "norun" not in words:
            return None
        return " ".join(words[words.index("norun") + 1:])

    @property
    def file_name(self) -> str | None:
        for word in self.info.split():
            if word.startswith("file="):
                return word[len("file="):]
        return None

    @property
    def name(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def read_blocks(doc: pathlib.Path) -> list[Block]:
    """The fenced blocks of one Markdown file, in order."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        blocks.append(Block(doc, start + 1, m.group("info").strip(),
                            textwrap.dedent("\n".join(body)) + "\n"))
        i += 1
    return blocks


ALL_BLOCKS = [b for doc in DOCS for b in read_blocks(doc)]


def commands(block: Block) -> list[str]:
    """The command lines of a `sh` or `console` block that are run."""
    out: list[str] = []
    pending = ""
    for raw in block.text.splitlines():
        line = raw.rstrip()
        if not pending:
            if block.language == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            line = line.removeprefix("$ ").strip()
            if not line.startswith(("symflow ", "python ")):
                continue
        else:
            line = line.strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(_drop_comment(pending + line))
        pending = ""
    return out


def _drop_comment(line: str) -> str:
    """The command without a trailing `# comment` (outside quotes)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return shlex.join(list(lexer))


def _argv(command: str) -> list[str]:
    """A command line as argv: `symflow ...` runs this checkout's `python -m symflow`."""
    words = shlex.split(command)
    if words[0] == "symflow":
        return [sys.executable, "-m", "symflow", *words[1:]]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    raise ValueError(command)


def _workdir(tmp: pathlib.Path) -> pathlib.Path:
    for folder in NEEDED:
        shutil.copytree(ROOT / folder, tmp / folder)
    return tmp


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env["MPLBACKEND"] = "Agg"
    return env


# A Python block runs in a child process that keeps one namespace for the blocks
# of a file; each block's text arrives as a file name on stdin.
_RUNNER = """
import sys, traceback
ns = {"__name__": "__main__"}
for path in sys.stdin:
    path = path.strip()
    source = open(path, encoding="utf-8").read()
    try:
        exec(compile(source, path, "exec"), ns)
    except BaseException:
        traceback.print_exc()
        print("SNIPPET-FAILED", path, flush=True)
        sys.exit(1)
    print("SNIPPET-OK", path, flush=True)
"""


def run_doc(doc: pathlib.Path, tmp: pathlib.Path) -> list[str]:
    """Run the blocks of one Markdown file in order; the names of those that ran."""
    work = _workdir(tmp)
    env = _env()
    ran: list[str] = []
    python = subprocess.Popen([sys.executable, "-c", _RUNNER], cwd=work, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    assert python.stdin is not None and python.stdout is not None
    try:
        for block in read_blocks(doc):
            if block.file_name:
                (work / block.file_name).write_text(block.text, encoding="utf-8")
            if block.language not in RUN_LANGUAGES or block.norun is not None:
                continue
            if block.language == "python":
                path = work / f"_snippet_{block.line}.py"
                path.write_text(block.text, encoding="utf-8")
                python.stdin.write(f"{path}\n")
                python.stdin.flush()
                lines = []
                for line in python.stdout:
                    lines.append(line)
                    if line.startswith(("SNIPPET-OK", "SNIPPET-FAILED")):
                        break
                assert lines and lines[-1].startswith("SNIPPET-OK"), (
                    f"{block.name} failed:\n{''.join(lines)[-4000:]}")
            else:
                for command in commands(block):
                    done = subprocess.run(_argv(command), cwd=work, env=env, text=True,
                                          capture_output=True, timeout=900)
                    assert done.returncode == 0, (
                        f"{block.name}: `{command}` exited {done.returncode}:\n"
                        f"{(done.stdout + done.stderr)[-4000:]}")
            ran.append(block.name)
    finally:
        python.stdin.close()
        python.wait(timeout=60)
    return ran


# ---------------------------------------------------------------- the default suite


def test_every_fence_says_what_it_is() -> None:
    unknown = [f"{b.name}: ```{b.info}" for b in ALL_BLOCKS
               if b.language not in FENCE_LANGUAGES]
    assert not unknown, "fences without a known language: " + ", ".join(unknown)


def test_norun_is_rare_and_says_why() -> None:
    norun = [b for b in ALL_BLOCKS if b.norun is not None]
    assert all(b.norun for b in norun), [b.name for b in norun if not b.norun]
    assert len(norun) <= MAX_NORUN, [b.name for b in norun]


def test_command_lines_are_read() -> None:
    block = Block(ROOT / "README.md", 1, "console", textwrap.dedent("""\
        $ symflow fit a.sf --data d.csv \\
              --steps 3   # a comment
        step 0  loss 1.0
        $ pip install .
        """))
    assert commands(block) == ["symflow fit a.sf --data d.csv --steps 3"]
    sh = dataclasses.replace(block, info="sh", text="symflow check m.sf   # ok\npip x\n")
    assert commands(sh) == ["symflow check m.sf"]


def test_docs_name_no_file_outside_the_repository() -> None:
    # the project's notes outside the repository (LANGUAGE.md, ../shared), absolute
    # paths of one machine, links that climb out of the repository
    bad = re.compile(r"\.\./shared|LANGUAGE\.md|/work/|/root/|/home/|/tmp/|\]\(\.\./\.\.")
    found = [f"{doc.relative_to(ROOT)}:{n}: {line.strip()}"
             for doc in DOCS
             for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
             if bad.search(line)]
    assert not found, "\n".join(found)


def test_relative_links_resolve() -> None:
    link = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
    missing = [f"{doc.relative_to(ROOT)}: {target}"
               for doc in DOCS
               for target in link.findall(doc.read_text(encoding="utf-8"))
               if "://" not in target and not (doc.parent / target).exists()]
    assert not missing, missing


MODEL_BLOCKS = [b for b in ALL_BLOCKS if b.language == "symflow"]
LIBRARY_BLOCKS = [b for b in ALL_BLOCKS if b.language == "symflow-library"]


def _write_files_before(block: Block, folder: pathlib.Path) -> None:
    """The `file=` blocks of `block`'s Markdown file above it, written into `folder`."""
    for other in read_blocks(block.doc):
        if other.line >= block.line:
            break
        if other.file_name:
            (folder / other.file_name).write_text(other.text, encoding="utf-8")


@pytest.mark.parametrize("block", MODEL_BLOCKS, ids=[b.name for b in MODEL_BLOCKS])
def test_model_block_checks(block: Block, tmp_path: pathlib.Path) -> None:
    from symflow.frontend import compile_file

    # relative paths in a model (imports, input tables) are read beside the
    # examples' copies and the files written by the blocks above it
    for folder in NEEDED:
        (tmp_path / folder).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / folder).symlink_to(ROOT / folder)
    _write_files_before(block, tmp_path)
    path = tmp_path / (block.file_name or "snippet.sf")
    path.write_text(block.text, encoding="utf-8")
    compiled = compile_file(path)
    assert compiled.system.states or compiled.system.equations, block.name


@pytest.mark.parametrize("block", LIBRARY_BLOCKS, ids=[b.name for b in LIBRARY_BLOCKS])
def test_library_block_parses(block: Block) -> None:
    from symflow.lang import parse

    program = parse(block.text, block.name)
    assert program is not None


# ---------------------------------------------------------------- the slow runs

RUN_DOCS = [doc for doc in DOCS
            if any(b.language in RUN_LANGUAGES and b.norun is None
                   and (b.language == "python" or commands(b))
                   for b in read_blocks(doc))]


@pytest.mark.slow
@pytest.mark.parametrize("doc", RUN_DOCS, ids=[str(d.relative_to(ROOT)) for d in RUN_DOCS])
def test_doc_snippets_run(doc: pathlib.Path, tmp_path: pathlib.Path) -> None:
    ran = run_doc(doc, tmp_path)
    assert ran, doc


def counts() -> dict[str, int]:
    """How many blocks there are, and of which kinds."""
    out = {"blocks": len(ALL_BLOCKS), "model (checked)": len(MODEL_BLOCKS),
           "library (parsed)": len(LIBRARY_BLOCKS)}
    for block in ALL_BLOCKS:
        if block.norun is not None:
            key = "norun"
        elif block.language == "python" or (block.language in ("sh", "console")
                                            and commands(block)):
            key = "run"
        elif block.language not in ("symflow", "symflow-library"):
            key = f"not run ({block.language or 'no language'})"
        else:
            continue
        out[key] = out.get(key, 0) + 1
    return out


if __name__ == "__main__":
    for key, value in counts().items():
        print(f"{key:28} {value}")
    for block in ALL_BLOCKS:
        if block.norun is not None:
            print(f"norun {block.name}: {block.norun}")
