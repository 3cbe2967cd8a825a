"""Property-based fuzzing of argument vectors, for every registered command (hypothesis).

The strategies are built from each command's own click parameters, so a command or flag
added later is fuzzed without touching this file: sizes get tiny, bad and huge values;
choices get their choices and junk; output paths get writable names, missing folders,
folders and the empty string; input files (``click.File``, ``click.Path(exists=True)``,
as for ``check --batch``, ``--roster`` or ``--values``) get existing files with good, junk,
empty and binary content, missing files and folders; numbers get numbers in and out of
range; other text gets known good values (``--wrt``, ``--names``, seeds, formulas) and
junk; and junk tokens (unknown flags, unicode, lone dashes) are mixed in.

For every argument vector:

* the exit code is 0, 1, 2 or 130 and no exception escapes the CLI (CliRunner would
  record it);
* nothing says "Traceback", and no "internal error" (the CLI's one line for a bug);
* exit 2 is exactly one ``Error:`` line on stderr and nothing on stdout;
* a failure (exit != 0) writes no file (the folder is unchanged, temporaries included).

Left out on purpose: ``--pdf`` (a pdflatex run per example is too slow; covered in
test_interrupt.py) and middle sizes with ``--force`` (minutes of honest work). Examples
are derandomized (the same ones on every run) and no example database is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.cli import cli
from symderiv.cli.options import Size

#: Flags never fuzzed (see the module docstring).
SKIP_FLAGS = frozenset({"--pdf", "--help"})

SIZES_GOOD = st.sampled_from(["1", "2", "3"])
SIZES_BAD = st.sampled_from(
    ["0", "-1", "2.5", "two", "", " ", "３", "1e3", "0x3", "+", "1_0", "١"]
)
SIZES_HUGE = st.sampled_from(["1000000000", "99999999999", "1" + "0" * 60])

#: Any text a shell can pass: UTF-8 (so no lone surrogates), and no NUL (argv ends at one).
JUNK = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=12,
)

#: Known values of free-text parameters, by parameter name.
GOOD_TEXT: dict[str, list[str]] = {
    "wrt": ["X", "W", "b", "X,W,b", "b,W", "X,X", "", "x", "W,"],
    "names": [
        "X=A",
        "Y=Z,dY=dLdZ",
        "X=In,Y=Out",
        "X=\\alpha",
        "X={A}",
        "X=W",
        "X=Ａ",
        "",
    ],
    "seed": ["0", "1", "42", "-1", "x", "2.5"],
    "formula": [
        "X.T @ dY",
        "dY @ W.T",
        "ones(N).T @ dY",
        "sum(dY, axis=0)",
        "dY.T @ X",
        "X.T @",
        "__import__('os')",
        "X.__class__",
        "(" * 60 + "X" + ")" * 60,
        "\\frac{X}{2}",
        "np.ones((1, dY.shape[0])) @ dY",
        "dY.sum(axis=0)[None, :]",
        "X[0]",
    ],
}

FORMULA_TOKENS = st.sampled_from(
    ["X", "W", "b", "dY", "Y", "A", "Z", "dLdZ", "x", ".T", "@", "*", "+", "-", "/",
     "(", ")", "ones(N)", "sum(", ", axis=0)", "1", "2", "0", "N", "D", "M", " ", ",",
     "[", "]", ":", "None", ".shape", "len(", "np.newaxis"]
)  # fmt: skip

JUNK_TOKENS = st.one_of(
    st.sampled_from(["--", "-", "--n", "--n=2", "-o", "--nope", "-x", "=", "-h"]),
    JUNK,
)


def _paths() -> st.SearchStrategy[str]:
    return st.sampled_from(
        ["out.txt", "out.tex", "sub/out.txt", ".", "", "-", "out dir/x.json", "ünï.md"]
    )


#: Files every scratch folder holds, for parameters that read a file.
INPUT_FILES: dict[str, bytes] = {
    "file.txt": b"keep\n",
    "answers.txt": b"X.T @ dY\ndY @ W.T\nsum(dY, axis=0)\n",
    "roster.csv": b"name,answer\nada,X.T @ dY\nbob,dY.T @ X\n",
    "values.json": b'{"X": [[1, 2], [3, 4]], "W": [[1, 0, 2], [0, 1, 1]]}\n',
    "junk.bin": bytes(range(256)) * 4,
    "empty.txt": b"",
}


def _inputs() -> st.SearchStrategy[str]:
    return st.sampled_from([*INPUT_FILES, "missing.txt", "dir", "", "-", "sub/x"])


def _reads_a_file(param: click.Parameter) -> bool:
    kind = param.type
    if isinstance(kind, click.File):
        return "r" in kind.mode
    return isinstance(kind, click.Path) and bool(kind.exists)


def _numbers(kind: click.ParamType[Any]) -> st.SearchStrategy[str]:
    low = getattr(kind, "min", None)
    high = getattr(kind, "max", None)
    edges = [str(v) for v in (low, high) if v is not None]
    edges += [str(v - 1) for v in (low,) if v is not None]
    edges += [str(v + 1) for v in (high,) if v is not None]
    return st.one_of(
        st.sampled_from([*edges, "0", "1", "3", "-1", "2.5", "1e9", "nan", "inf", "x"]),
        st.integers(-5, 10**6).map(str),
    )


def _value(param: click.Parameter) -> st.SearchStrategy[str]:
    """Values for one parameter: mostly sensible, sometimes wrong, sometimes junk."""
    kind = param.type
    name = param.name or ""
    if isinstance(kind, Size):
        return st.one_of(SIZES_GOOD, SIZES_GOOD, SIZES_BAD, SIZES_HUGE)
    if isinstance(kind, click.Choice):
        choices = [str(c) for c in kind.choices]
        return st.one_of(st.sampled_from(choices), st.sampled_from(choices), JUNK)
    if _reads_a_file(param):
        return st.one_of(_inputs(), _inputs(), JUNK)
    if isinstance(kind, (click.File, click.Path)) or name in ("output", "svg"):
        return st.one_of(_paths(), JUNK)
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return st.one_of(_numbers(kind), JUNK)
    if name == "formula":
        made = st.lists(FORMULA_TOKENS, max_size=12).map("".join)
        return st.one_of(st.sampled_from(GOOD_TEXT["formula"]), made, JUNK)
    if name in GOOD_TEXT:
        return st.one_of(st.sampled_from(GOOD_TEXT[name]), JUNK)
    return JUNK


def _apart(flag: str) -> Callable[[str], list[str]]:
    """``--flag value`` as two tokens."""

    def tokens(value: str) -> list[str]:
        return [flag, value]

    return tokens


def _joined(flag: str) -> Callable[[str], list[str]]:
    """``--flag=value`` as one token."""

    def tokens(value: str) -> list[str]:
        return [f"{flag}={value}"]

    return tokens


def _pieces(command: click.Command) -> st.SearchStrategy[list[str]]:
    """One piece of an argument vector: a flag with its value, an argument, or junk."""
    choices: list[st.SearchStrategy[list[str]]] = []
    for param in command.params:
        if isinstance(param, click.Option):
            flag = max(param.opts, key=len)
            if flag in SKIP_FLAGS:
                continue
            if param.is_flag:
                choices.append(st.just([flag]))
            else:
                value = _value(param)
                choices.append(value.map(_apart(flag)))
                choices.append(value.map(_joined(flag)))
        elif isinstance(param, click.Argument):
            choices.append(_value(param).map(lambda v: ["--", v]))
            choices.append(_value(param).map(lambda v: [v]))
    choices.append(JUNK_TOKENS.map(lambda t: [t]))
    return st.one_of(*choices)


def _good(param: click.Parameter) -> st.SearchStrategy[str]:
    """A value that is right for ``param`` (for required parameters)."""
    if isinstance(param.type, click.Choice):
        return st.sampled_from([str(c) for c in param.type.choices])
    if _reads_a_file(param):
        return st.sampled_from([k for k in INPUT_FILES if k != "junk.bin"])
    if param.name == "formula":
        return st.sampled_from(GOOD_TEXT["formula"][:5])
    return st.sampled_from(GOOD_TEXT.get(param.name or "", ["x"])[:2])


def _required(command: click.Command) -> st.SearchStrategy[list[str]]:
    """Good values for the required options and arguments, so that runs get past them."""
    parts: list[st.SearchStrategy[list[str]]] = []
    for param in command.params:
        if isinstance(param, click.Option) and param.required:
            flag = max(param.opts, key=len)
            parts.append(_good(param).map(_apart(flag)))
        elif isinstance(param, click.Argument):
            parts.append(_good(param).map(lambda v: [v]))
    return st.tuples(*parts).map(lambda ps: [t for p in ps for t in p])


def _argv(name: str) -> st.SearchStrategy[list[str]]:
    """``name``, usually its required parameters done right, then a mix of pieces."""
    command = cli.commands[name]
    none: list[str] = []
    prefix = st.one_of(_required(command), _required(command), st.just(none))
    pieces = st.lists(_pieces(command), max_size=5)
    return st.tuples(prefix, pieces).map(
        lambda both: [name, *both[0], *(t for piece in both[1] for t in piece)]
    )


ARGV = st.sampled_from(sorted(cli.commands)).flatmap(_argv)


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@contextlib.contextmanager
def _scratch_folder() -> Iterator[Path]:
    """A fresh empty folder as the working directory (click's isolated_filesystem is
    deprecated from click 8.5; hypothesis cannot use pytest's per-test tmp_path)."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as name:
        os.chdir(name)
        try:
            yield Path(name)
        finally:
            os.chdir(previous)


def _check(argv: list[str]) -> None:
    runner = CliRunner()
    with _scratch_folder() as folder:
        (folder / "dir").mkdir()
        for name, content in INPUT_FILES.items():
            (folder / name).write_bytes(content)
        before = _tree(folder)
        result = runner.invoke(cli, argv, prog_name="symderiv")
        after = _tree(folder)
        kept = all(
            (folder / name).read_bytes() == content
            for name, content in INPUT_FILES.items()
        )
        # check --format json/gradescope/prairielearn: the verdict is a JSON document,
        # written (to stdout or -o) for a wrong or unreadable answer too (issue 11).
        written = [folder / p for p in set(after) - set(before)]
        verdicts = [_json_verdict(p.read_text()) for p in written if p.is_file()]
    code = result.exit_code
    shown = (
        f"argv={argv!r}\nexit={code}\n"
        f"stdout={result.stdout[-500:]!r}\nstderr={result.stderr[-500:]!r}"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{shown}\nexception={result.exception!r}"
    )
    assert code in (0, 1, 2, 130), shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert "internal error" not in result.stderr, shown  # a bug caught by the CLI
    assert kept, shown
    verdict = argv[0] == "check" and (
        _json_verdict(result.stdout) or (bool(verdicts) and all(verdicts))
    )
    if code == 2 and not verdict:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), shown
        assert result.stdout == "", shown
    if code != 0 and not verdict:
        assert after == before, f"{shown}\nfiles: {before} -> {after}"
    if code == 1:
        wrong_answer = argv[0] == "check" and (result.stdout.startswith("✗") or verdict)
        last = (result.stderr.splitlines() or [""])[-1]
        error_line = last.startswith("Error: ")
        assert wrong_answer or error_line, shown


def _json_verdict(text: str) -> bool:
    """True for one JSON object on one line: check's machine-readable verdict."""
    if not text.startswith("{") or text.count("\n") != 1:
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.slow
@FUZZ
@given(ARGV)
def test_any_argument_vector_fails_cleanly(argv: list[str]) -> None:
    _check(argv)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_each_command_survives_its_own_fuzz(data: st.DataObject) -> None:
    """A few examples per command, so a rarely drawn command is still exercised."""
    for name in sorted(cli.commands):
        _check(data.draw(_argv(name), label=name))
