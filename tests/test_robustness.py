"""Bad input, for every command and flag: one line on stderr, the right exit code (SPEC §8).

The catalogue is generated from the commands themselves (``cli.commands``): every size
option, every choice, every ``--wrt``/``--names``/``-o`` a command has gets its bad
values, so a command added later is covered the moment it is registered. Each case
asserts the exit code (2 for usage, 1 for failures at run time), exactly one line on
stderr that starts with ``Error:`` and names the bad value, nothing on stdout and no
traceback.

Decisions recorded here (and in README "Errors and exit codes"):

* A flag given twice takes its last value (click's rule): ``--n 2 --n 3`` means N = 3.
* Sizes are whole numbers written in ASCII digits, 1 to 10**9 (``３``, ``2.5``, ``1e3``
  are refused); 10**9 itself is refused by the size guard, at once, even with --force.
* Output paths that cannot be written are failures at run time (exit 1), including a
  folder given as the file; nothing is created.
* No command reads an input file (check takes its formula as an argument), so "output
  is the same file as an input" cannot arise; ``-o`` onto an existing file replaces it
  atomically.
* A bare ``symderiv`` prints the help (stderr, exit 2), as click does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from rich.cells import cell_len

from symderiv.cli import cli
from symderiv.cli.options import Size

#: Arguments that make each command do real work quickly (a command not listed runs bare).
BASE: dict[str, list[str]] = {
    "derive": ["--format", "json"],
    "check": ["--wrt", "W", "X.T @ dY"],
    "verify": [],
    "codegen": [],
    "conventions": ["--format", "text"],
    "exercise": [],
}

#: Path options that name a file to read, not one to write.
INPUT_FILES = frozenset({"batch", "roster"})

#: Sizes that are not whole numbers from 1 to 10**9, with what the message must contain.
BAD_SIZES: list[tuple[str, str]] = [
    ("0", "0"),
    ("-1", "-1"),
    ("-0", "-0"),
    ("2.5", "'2.5'"),
    ("two", "'two'"),
    ("", "''"),
    ("1e3", "'1e3'"),
    ("３", "'３'"),  # fullwidth digit three: int() would take it
    ("0x10", "'0x10'"),
    ("1000000001", "1000000001"),
    ("1" + "0" * 400, "1000000000"),  # would overflow a float estimate
]

BAD_WRT: list[tuple[str, str]] = [
    ("", "''"),
    ("X,X", "'X,X'"),
    ("Q", "'Q'"),
    ("x", "'x'"),
    (" ,W", "' ,W'"),
    ("X,,W", "'X,,W'"),
    ("Ｘ", "'Ｘ'"),
]

BAD_NAMES: list[tuple[str, str]] = [
    ("", "''"),
    ("   ", "'   '"),
    ("X=\\alpha", "X='\\alpha' is not allowed"),  # as typed, one backslash
    ("X=\\input{/etc/passwd}", "input"),
    ("X={A}", "{A}"),
    ("X=A}", "A}"),
    ("X=$x$", "$x$"),
    ("X=A%", "A%"),
    ("X=A\u00a0B", "U+00A0"),  # no-break space
    ("X=Ａ", "U+FF21"),  # fullwidth A
    ("X=\u0410", "U+0410"),  # Cyrillic A
    ("X=ABCDEFGHIJKLM", "ABCDEFGHIJKLM"),
    ("X", "'X'"),
    ("Q=A", "'Q'"),
    ("X=A,X=B", "'X'"),
    ("X=W", "'W'"),  # X and W would print alike
    ("X=w", "w_ij"),  # their entries would print alike
    ("X=L", "'L'"),  # L is the loss
]


# -- helpers ------------------------------------------------------------------------------
def invoke(args: list[str], **kw: Any) -> Result:
    """Run the CLI in-process (stdout and stderr apart)."""
    kw.setdefault("prog_name", "symderiv")
    return CliRunner().invoke(cli, args, **kw)


def assert_one_line_error(result: Result, code: int, *needles: str) -> str:
    """Exit ``code``, one ``Error:`` line on stderr containing ``needles``, no stdout."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error: "), line
    assert "internal error" not in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    assert result.stdout == "", result.stdout
    return line


def options_of(command: click.Command) -> dict[str, click.Option]:
    """The command's options by their longest flag (``--n``, ``--output``, ...)."""
    out: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            out[max(param.opts, key=len)] = param
    return out


def commands_with(flag: str) -> list[str]:
    return sorted(name for name, c in cli.commands.items() if flag in options_of(c))


def size_flags() -> list[tuple[str, str]]:
    return sorted(
        (name, flag)
        for name, command in cli.commands.items()
        for flag, option in options_of(command).items()
        if isinstance(option.type, Size)
    )


def choice_flags() -> list[tuple[str, str, list[str]]]:
    return sorted(
        (name, flag, [str(c) for c in option.type.choices])
        for name, command in cli.commands.items()
        for flag, option in options_of(command).items()
        if isinstance(option.type, click.Choice)
    )


def base(command: str) -> list[str]:
    return [command, *BASE.get(command, [])]


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nobody can create files in: immutable as root (chattr), 0o555 otherwise.

    chmod does not stop root, so as root the folder is made immutable with chattr +i
    (needs CAP_LINUX_IMMUTABLE and a file system that supports it; skipped otherwise).
    """
    path.mkdir()
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if root:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("root without chattr: no way to make a folder read-only")
        done = subprocess.run([chattr, "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(
                f"chattr +i is not supported here: {done.stderr.decode().strip()}"
            )
        try:
            yield path
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
    else:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)


def tree(folder: Path) -> list[str]:
    """Every file under ``folder``, hidden temporary files included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# -- the group ------------------------------------------------------------------------------
def test_version_and_help_exit_0() -> None:
    version = invoke(["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("symderiv, version ")
    for args in (["--help"], ["-h"], *([name, "--help"] for name in cli.commands)):
        result = invoke(list(args))
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.startswith("Usage: symderiv"), args
        assert result.stderr == ""


def test_bare_symderiv_shows_the_help_and_exits_2() -> None:
    result = invoke([])
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: symderiv [OPTIONS] COMMAND")
    assert "derive" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args,needles",
    [
        (["frobnicate"], ["'frobnicate'"]),
        (["Derive"], ["'Derive'"]),
        (["dérive"], ["'dérive'"]),
        (["--frob"], ["'--frob'"]),
        (["--version=2"], ["--version"]),
    ],
    ids=["unknown", "case", "accent", "group-option", "flag-value"],
)
def test_unknown_commands_and_group_options(
    args: list[str], needles: list[str]
) -> None:
    assert_one_line_error(invoke(args), 2, *needles)


# -- the catalogue: generated from every registered command -------------------------------
def _catalogue() -> Iterator[Any]:
    for name, flag in size_flags():
        for value, needle in BAD_SIZES:
            yield pytest.param(
                [*base(name), flag, value],
                2,
                [flag, needle],
                id=f"{name}-{flag}={value[:12]!r}",
            )
    for name, flag, choices in choice_flags():
        for value in ("nonsense", "", choices[0].upper() + "\u200b", f"ｘ{choices[0]}"):
            yield pytest.param(
                [*base(name), flag, value],
                2,
                [flag, repr(value), choices[0]],
                id=f"{name}-{flag}={value!r}",
            )
    for name in commands_with("--wrt"):
        if isinstance(options_of(cli.commands[name])["--wrt"].type, click.Choice):
            continue  # covered with the choices
        for value, needle in BAD_WRT:
            yield pytest.param(
                [*base(name), "--wrt", value],
                2,
                ["--wrt", needle],
                id=f"{name}---wrt={value!r}",
            )
    for name in commands_with("--names"):
        for value, needle in BAD_NAMES:
            yield pytest.param(
                [*base(name), "--names", value],
                2,
                ["--names", needle],
                id=f"{name}---names={value!r}",
            )
    for name, command in sorted(cli.commands.items()):
        yield pytest.param(
            [*base(name), "--no-such-flag"],
            2,
            ["'--no-such-flag'"],
            id=f"{name}-unknown-option",
        )
        yield pytest.param(
            [*base(name), "extra", "junk"],
            2,
            ["unexpected extra argument"],
            id=f"{name}-extra-argument",
        )
        for flag, option in options_of(command).items():
            if not option.is_flag and option.nargs == 1:
                yield pytest.param(
                    [*base(name), flag],
                    2,
                    [flag, "requires an argument"],
                    id=f"{name}-{flag}-missing-value",
                )
            elif option.is_flag and flag != "--help":
                yield pytest.param(
                    [*base(name), f"{flag}=yes"],
                    2,
                    [flag, "does not take a value"],
                    id=f"{name}-{flag}=yes",
                )


@pytest.mark.parametrize("args,code,needles", list(_catalogue()))
def test_catalogue(args: list[str], code: int, needles: list[str]) -> None:
    assert_one_line_error(invoke(args), code, *needles)


def test_every_command_is_in_the_catalogue() -> None:
    """A command added later must be given working arguments in BASE."""
    missing = sorted(set(cli.commands) - set(BASE))
    assert not missing, f"add {missing} to BASE in tests/test_robustness.py"


@pytest.mark.parametrize(
    "args,needles",
    [
        (["derive", "--pdf", "--format", "json", "-o", "x.json"], ["--pdf", "'json'"]),
        (["derive", "--pdf", "--format", "latex"], ["--pdf", "-o"]),
        (["verify", "--seed", "-1"], ["--seed", "-1"]),
        (["verify", "--seed", "x"], ["--seed", "'x'"]),
        (["verify", "--seed", "2.5"], ["--seed", "'2.5'"]),
        (["check", "X.T @ dY"], ["--wrt"]),
        (["check", "--wrt", "W"], ["FORMULA"]),
        (["check", "--wrt", "W", ""], ["empty"]),
        (["check", "--wrt", "W", "\\frac{X}{2}"], ["'\\\\'", "backslash"]),
        (["check", "--wrt", "W", "{X}"], ["'{'"]),
        (["check", "--wrt", "W", "X^T @ dY"], ["'^'"]),
        (["check", "--wrt", "W", "$X$"], ["'$'"]),
        (["check", "--wrt", "W", "Ｘ.T @ dY"], ["U+FF38"]),
        (["check", "--wrt", "W", "\u0425.T @ dY"], ["U+0425"]),
        (["check", "--wrt", "W", "Q.T @ dY"], ["'Q'"]),
        (["check", "--wrt", "W", "X.T @"], ["end of formula"]),
        (["check", "--wrt", "W", "X" * 501], ["501", "500"]),
    ],
    ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else None,
)
def test_command_specific_bad_input(args: list[str], needles: list[str]) -> None:
    assert_one_line_error(invoke(args), 2, *needles)


# -- sizes: huge values are refused before any work ---------------------------------------
@pytest.mark.parametrize(
    "name", ["derive", "verify", "check", "conventions", "exercise"]
)
@pytest.mark.parametrize("flag", ["--n", "--d", "--m"])
def test_1e9_is_refused_at_once_even_with_force(name: str, flag: str) -> None:
    options = options_of(cli.commands[name])
    if flag not in options:
        pytest.skip(f"{name} has no {flag}")
    args = [*base(name), flag, str(10**9)]
    if "--force" in options:
        args.append("--force")
    invoke(base(name))  # warm up: imports are not what is timed
    start = time.perf_counter()
    result = invoke(args)
    elapsed = time.perf_counter() - start
    assert_one_line_error(result, 2, "1000000000", "too large")
    assert elapsed < 5.0, f"{elapsed:.2f} s"


def test_a_flag_given_twice_takes_its_last_value() -> None:
    result = invoke(["derive", "--n", "2", "--n", "3", "--wrt", "X", "--wrt", "b",
                     "--format", "text", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    config = json.loads(result.stdout)["config"]
    assert (config["n"], config["wrt"]) == (3, ["b"])


def test_sizes_with_spaces_signs_and_leading_zeros_are_read_as_numbers() -> None:
    result = invoke(
        ["derive", "--n", " 3 ", "--d", "+2", "--m", "007", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    config = json.loads(result.stdout)["config"]
    assert (config["n"], config["d"], config["m"]) == (3, 2, 7)


# -- output paths --------------------------------------------------------------------------
def _output_options() -> list[tuple[str, str]]:
    """(command, flag) of every option that names a file to write (-o, --svg, ...).

    Options that name a file to read (``check --batch FILE``, ``exercise --roster FILE``)
    are left out: they are in :data:`INPUT_FILES`.
    """
    return sorted(
        (name, flag)
        for name, command in cli.commands.items()
        for flag, option in options_of(command).items()
        if isinstance(option.type, click.Path) and option.name not in INPUT_FILES
    )


@pytest.mark.parametrize("name,flag", _output_options())
@pytest.mark.parametrize(
    "where", ["missing-folder", "under-a-file", "a-folder", "read-only", "empty"]
)
def test_unwritable_output_is_exit_1_and_creates_nothing(
    name: str, flag: str, where: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("keep me\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    with contextlib.ExitStack() as stack:
        target = {
            "missing-folder": tmp_path / "no" / "such" / "out.txt",
            "under-a-file": blocker / "out.txt",
            "a-folder": folder,
            "empty": Path(""),
        }.get(where)
        if where == "read-only":
            target = stack.enter_context(read_only_folder(tmp_path / "ro")) / "out.txt"
        assert target is not None
        before = tree(tmp_path)
        value = "" if where == "empty" else str(target)
        result = invoke([*base(name), flag, value])
        after = tree(tmp_path)
    assert_one_line_error(result, 1, repr(value) if where == "empty" else str(target))
    assert after == before
    assert blocker.read_text() == "keep me\n"


@pytest.mark.parametrize("name,flag", _output_options())
def test_output_onto_an_existing_file_replaces_it_whole(
    name: str, flag: str, tmp_path: Path
) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    result = invoke([*base(name), flag, str(target)])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.output
    assert target.read_text() != "old\n" and target.stat().st_size > 0
    assert tree(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("name", commands_with("--output"))
def test_dash_as_output_means_standard_output(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-o -`` prints, as Unix tools do; it never creates a file called "-"."""
    monkeypatch.chdir(tmp_path)
    result = invoke([*base(name), "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad", ["-o", "--svg"], ids=["bad-output-good-svg", "good-output-bad-svg"]
)
def test_two_outputs_one_bad_writes_neither(bad: str, tmp_path: Path) -> None:
    good = "--svg" if bad == "-o" else "-o"
    args = ["derive", "--format", "json", bad, str(tmp_path / "no" / "x"),
            good, str(tmp_path / "fine.out")]  # fmt: skip
    assert_one_line_error(invoke(args), 1, "does not exist")
    assert tree(tmp_path) == []


def test_a_bad_output_path_fails_before_a_long_derivation(tmp_path: Path) -> None:
    invoke(["derive", "--format", "json"])  # warm up
    start = time.perf_counter()
    result = invoke(["derive", "--n", "60", "--d", "60", "--m", "60", "--format", "json",
                     "-o", str(tmp_path / "no" / "out.json")])  # fmt: skip
    assert_one_line_error(result, 1, "does not exist")
    assert time.perf_counter() - start < 5.0


# -- check on hostile input, from the outside ------------------------------------------------
HOSTILE = [
    "__import__('os').system('touch {s}')",
    "open('{s}', 'w').write('x')",
    "exec(\"open('{s}','w')\")",
    "eval(\"open('{s}','w')\")",
    "(lambda: open('{s}', 'w'))()",
    "import os",
    "X.T @ dY; open('{s}', 'w')",
    "X.__class__.__mro__",
    "X.T.__dict__",
    "getattr(X, 'T')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "{{'a': open('{s}', 'w')}}",
    'f\'{{open("{s}", "w")}}\'',
    "9" * 400,
    "9**9**9**9",
    "(" * 200 + "X" + ")" * 200,
    "-" * 450 + "X",
    "sum(" * 60 + "X" + ", axis=0)" * 60,
    "X" + ".T" * 240,
    "@".join(["X.T"] * 120),
    "X.T @ dY " * 1000,
    "X.T\x00@ dY",
    "X.T @ dY\n; import os",
]


def test_check_refuses_hostile_formulas_without_side_effects(tmp_path: Path) -> None:
    """A fresh interpreter, bounded in memory: refused (2) or answered (0/1), quickly."""
    sentinel = tmp_path / "sentinel"
    formulas = [f.format(s=sentinel) for f in HOSTILE]
    script = (
        "import json, resource, sys, time\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from click.testing import CliRunner\n"
        "from symderiv.cli import cli\n"
        "worst = 0.0\n"
        "for formula in json.load(sys.stdin):\n"
        "    start = time.perf_counter()\n"
        "    r = CliRunner().invoke(cli, ['check', '--wrt', 'W', '--', formula])\n"
        "    worst = max(worst, time.perf_counter() - start)\n"
        "    bad = 'Traceback' in r.output or r.exit_code not in (0, 1, 2)\n"
        "    lines = r.stderr.splitlines()\n"
        "    if bad or (r.exit_code == 2 and len(lines) != 1):\n"
        "        print('BAD', repr(formula[:60]), r.exit_code, r.output[-400:])\n"
        "print('worst', worst)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "BAD" not in done.stdout, done.stdout
    worst = float(done.stdout.split("worst")[1])
    assert worst < 2.0, f"slowest hostile formula took {worst:.2f} s"
    assert not sentinel.exists()
    assert tree(tmp_path) == []


# -- without a terminal, NO_COLOR, TERM=dumb, narrow and wide terminals ------------------------
def _pty_run(args: list[str], env: dict[str, str], columns: int) -> tuple[int, bytes]:
    """Run ``python -m symderiv ARGS`` with stdout on a pseudo-terminal of ``columns``."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "symderiv", *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        code = proc.wait(timeout=60)
    return code, out.replace(b"\r\n", b"\n")


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.setdefault("TERM", "xterm-256color")
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


TERMINAL_COMMANDS = [
    ["derive", "--wrt", "W"],
    ["check", "--wrt", "W", "X.T @ Y"],
    ["verify"],
    ["codegen"],
    ["conventions"],
    ["exercise", "--format", "markdown"],
]


def test_every_command_is_checked_for_escape_codes() -> None:
    missing = sorted(set(cli.commands) - {args[0] for args in TERMINAL_COMMANDS})
    assert not missing, f"add {missing} to TERMINAL_COMMANDS"


needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")


@needs_pty
@pytest.mark.parametrize("args", TERMINAL_COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize(
    "env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=["NO_COLOR", "TERM=dumb"]
)
def test_no_escape_codes_with_no_color_or_a_dumb_terminal(
    args: list[str], env: dict[str, str]
) -> None:
    code, out = _pty_run(args, _env(**env), 80)
    assert code in (0, 1), out[-500:]
    assert out.strip(), "nothing printed"
    assert b"\x1b" not in out, out[:300]


@needs_pty
def test_a_real_terminal_gets_colour_and_its_width() -> None:
    """The control case: without NO_COLOR a terminal does get styles, at its width."""
    code, out = _pty_run(["derive", "--wrt", "W"], _env(), 200)
    assert code == 0
    assert b"\x1b[" in out
    assert max(len(line) for line in out.decode().splitlines()) > 100


@pytest.mark.parametrize("args", TERMINAL_COMMANDS, ids=lambda a: a[0])
def test_piped_output_has_no_escape_codes(args: list[str]) -> None:
    env = _env(FORCE_COLOR=None, TERM="xterm-256color", COLUMNS="40")
    done = subprocess.run(
        [sys.executable, "-m", "symderiv", *args],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.strip()
    assert b"\x1b" not in done.stdout + done.stderr


LEFT, RIGHT = "⎡⎢⎣", "⎤⎥⎦"


def matrix_problems(text: str, width: int) -> list[str]:
    """Lines that break a drawn matrix: too wide, unbalanced brackets, or a fold.

    A matrix taller than one line is drawn with ⎡ ⎢ ⎣ on the left and ⎤ ⎥ ⎦ on the right;
    every such line must have as many right pieces as left ones, and a line that opens
    or continues a matrix (⎡, ⎢) must be followed by one that continues or closes it.
    """
    problems = []
    lines = text.splitlines()
    for k, line in enumerate(lines):
        shown = cell_len(line)  # cells on screen: z̄'s combining macron takes none
        if shown > width:
            problems.append(f"line {k + 1} is {shown} wide: {line!r}")
        left = sum(line.count(c) for c in LEFT)
        right = sum(line.count(c) for c in RIGHT)
        if left != right:
            problems.append(f"line {k + 1} has {left} ⎡⎢⎣ but {right} ⎤⎥⎦: {line!r}")
        opened = line.count("⎡") + line.count("⎢")
        following = lines[k + 1] if k + 1 < len(lines) else ""
        if opened and following.count("⎢") + following.count("⎣") < opened:
            problems.append(f"line {k + 2} breaks a matrix: {following!r}")
    return problems


def test_matrix_checker_catches_a_fold() -> None:
    good = "    ⎡a  b⎤\nX = ⎣c  d⎦ (2×2)"
    folded = "    ⎡a  b⎤\nX = ⎢c  d⎥\n(2×2)\n    ⎣e  f⎦"
    assert matrix_problems(good, 40) == []
    assert matrix_problems(folded, 40)


@pytest.mark.parametrize("columns", [40, 200])
@pytest.mark.parametrize(
    "settings",
    [
        {"n": 2, "d": 2, "m": 3},
        {"n": 3, "d": 4, "m": 5, "convention": "torch", "vec": "col"},
        {
            "n": 2,
            "d": 3,
            "m": 2,
            "convention": "column",
            "loss": "mse",
            "layout": "numerator",
        },  # fmt: skip
        {"n": 13, "d": 2, "m": 13, "wrt": "W,b"},
    ],
    ids=["xw", "torch-col", "column-mse-numerator", "elided"],
)
def test_matrices_are_never_folded_at_40_or_200_columns(
    columns: int, settings: dict[str, Any]
) -> None:
    from symderiv.derive import derive
    from symderiv.render.terminal import render_text

    text = render_text(derive(**settings), width=columns)
    assert matrix_problems(text, columns) == []


@needs_pty
@pytest.mark.parametrize("columns", [40, 200])
def test_the_rich_view_in_a_real_terminal_keeps_matrices_whole(columns: int) -> None:
    code, out = _pty_run(
        ["derive", "--n", "2", "--d", "2", "--m", "3"], _env(NO_COLOR="1"), columns
    )
    assert code == 0
    text = out.decode()
    assert "Certificate" in text
    assert matrix_problems(text, columns) == []


# -- the README's examples are real ------------------------------------------------------------
def test_readme_error_examples_are_what_symderiv_prints() -> None:
    """Each ``$ symderiv ...`` in "Errors and exit codes" prints exactly the line below it."""
    import re
    import shlex

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- errors:start -->")[1].split("<!-- errors:end -->")[0]
    pairs = re.findall(r"^\$ (symderiv .+)\n(Error: .+)$", section, flags=re.M)
    assert len(pairs) >= 3, section
    for command, expected in pairs:
        result = invoke(shlex.split(command)[1:])
        assert result.exit_code in (1, 2), command
        assert result.stderr == expected + "\n", (command, result.stderr)


# -- issue 14: robustness, round two ----------------------------------------------------------
BIG = [
    "--n",
    "64",
    "--d",
    "64",
    "--m",
    "64",
]  # seconds of work: a usage error must come first


def _no_work(result: Result) -> None:
    assert "working" not in result.stderr, "the error came after the work"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--pdf", "-o", "x.tex"], "--pdf needs --format latex or beamer"),
        (["--pdf", "--format", "latex"], "--pdf needs -o FILE.tex"),
        (["--step", "-o", "y.txt"], "--step shows the derivation"),
        (["--pdf", "--format", "text", "--svg", "s.svg"], "--pdf needs"),
        (["--svg", "-"], "--svg needs a file name"),
        (["--format", "latex", "-o", "notes.pdf", "--pdf"], "name the same file"),
        (["-o", "same.out", "--svg", "./same.out"], "name the same file"),
        (["--max-entries", "1000"], "1000 is too large"),
    ],
)
def test_usage_errors_come_before_any_work_and_leave_no_file(
    args: list[str], needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    result = invoke(["derive", *BIG, *args])
    assert_one_line_error(result, 2, needle)
    _no_work(result)
    assert time.perf_counter() - start < 20  # 64³ would take far longer (generous)
    assert tree(tmp_path) == []


def test_the_same_file_through_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "link.out").symlink_to(tmp_path / "real.out")
    (tmp_path / "real.out").write_text("keep\n")
    result = invoke(["derive", "-o", str(tmp_path / "real.out"),
                     "--svg", str(tmp_path / "link.out")])  # fmt: skip
    assert_one_line_error(result, 2, "name the same file")
    assert (tmp_path / "real.out").read_text() == "keep\n"


def test_exercise_refuses_its_pdf_over_its_source(tmp_path: Path) -> None:
    result = invoke(["exercise", "-o", str(tmp_path / "sheet.pdf"), "--pdf"])
    assert_one_line_error(result, 2, "name the same file")
    assert tree(tmp_path) == []


def test_conventions_checks_its_output_before_the_work(tmp_path: Path) -> None:
    result = invoke(["conventions", "--n", "40", "--d", "40", "--m", "40",
                     "-o", str(tmp_path / "missing" / "c.txt")])  # fmt: skip
    assert_one_line_error(result, 1, "does not exist")
    _no_work(result)


@pytest.mark.parametrize(
    "args",
    [
        ["derive", "--n", "33", "--d", "1000000", "--m", "1", "--wrt", "b"],
        ["check", "--wrt", "b", "--n", "33", "--d", "1000000", "--m", "1",
         "sum(dY, axis=0)"],
        ["conventions", "--n", "100", "--d", "100", "--m", "100"],
        ["derive", "--n", "100", "--d", "100", "--m", "100", "--format", "ipynb"],
        ["verify", "--n", "48000", "--d", "1", "--m", "1"],
        ["verify", "--n", "20000", "--d", "1", "--m", "1"],
    ],
)  # fmt: skip
def test_the_guard_refuses_what_it_cannot_keep_its_promise_for(args: list[str]) -> None:
    """Each of these took 10-36 times the estimate, or ran out of memory at 6 GiB."""
    result = invoke(args)
    assert_one_line_error(result, 2, "too large")


def test_dev_stdout_to_a_pipe_gets_the_output() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "symderiv", "derive", "--format", "json",
         "-o", "/dev/stdout"],
        capture_output=True, env=_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["config"]["n"] == 2


def test_a_fifo_as_output_is_written_through(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = invoke(["derive", "--format", "json", "-o", str(fifo)])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert json.loads(got[0])["config"]["m"] == 3
    assert tree(tmp_path) == ["p"]


def test_names_at_the_length_limit(tmp_path: Path) -> None:
    long_ok = tmp_path / ("a" * 250 + ".json")
    result = invoke(["derive", "--format", "json", "-o", str(long_ok)])
    assert result.exit_code == 0, result.stderr
    assert long_ok.exists()
    too_long = tmp_path / ("b" * 300)
    assert_one_line_error(
        invoke(["derive", "--format", "json", "-o", str(too_long)]),
        1,
        "file name too long",
    )


def test_codegen_does_not_echo_escape_sequences_of_the_path(tmp_path: Path) -> None:
    name = str(tmp_path / "x\x1b]0;PWNED\x07\x1b[31mred.py")
    result = invoke(["codegen", "-o", name])
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "wrote " in result.stderr


@needs_pty
@pytest.mark.parametrize("columns", ["0", "-5", "abc", "100000"])
def test_columns_junk_on_a_terminal_still_prints(columns: str) -> None:
    code, out = _pty_run(["derive", "--wrt", "W"], _env(COLUMNS=columns), 90)
    assert code == 0
    assert b"All results verified." in out
    assert len(out) < 200_000  # not 100 000-wide rules


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
@pytest.mark.parametrize(
    "args",
    [["verify"], ["derive", "--format", "rich"], ["derive"], ["conventions"],
     ["check", "--wrt", "W", "X.T @ dY"], ["codegen"], ["exercise"]],
)  # fmt: skip
def test_a_stdout_that_cannot_encode_gets_a_clear_line(
    encoding: str, args: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "symderiv", *args],
        capture_output=True, env=_env(PYTHONIOENCODING=encoding), check=False,
    )  # fmt: skip
    err = done.stderr.decode("ascii", "replace")
    assert "internal error" not in err and "Traceback" not in err, err
    if done.returncode != 0:
        assert done.returncode == 1
        assert err.splitlines()[-1].startswith(
            "Error: standard output uses the encoding"
        )
        assert "PYTHONIOENCODING=utf-8" in err


@pytest.mark.slow
def test_a_low_memory_cap_is_a_clean_error(tmp_path: Path) -> None:
    import resource

    def cap() -> None:
        limit = 150 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "symderiv", "derive", "--n", "24", "--d", "24",
         "--m", "24", "--format", "ipynb", "-o", str(tmp_path / "a.ipynb")],
        capture_output=True, env=_env(), preexec_fn=cap, check=False,
    )  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert err.splitlines()[-1].startswith("Error: out of memory"), err
    assert tree(tmp_path) == []


@pytest.mark.parametrize("argv0", ["symderiv", "-m"])
def test_ctrl_c_while_the_command_imports_is_one_line(argv0: str) -> None:
    """A KeyboardInterrupt no code catches, once the package is importing: exit 130."""
    code = (
        f"import sys; sys.argv[0] = {argv0!r}; import symderiv; raise KeyboardInterrupt"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=_env(), check=False
    )
    assert done.returncode == 130
    assert done.stderr.decode() == (
        "Error: interrupted (Ctrl-C); no partial file was left.\n"
    )


def test_a_library_user_keeps_the_normal_traceback() -> None:
    code = "import symderiv; raise KeyboardInterrupt"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=_env(), check=False
    )
    assert b"Traceback" in done.stderr and done.returncode != 130


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["check", "--wrt", "W", "X.T", "@", "dY"],
            'put the formula in quotes: symderiv check --wrt W "X.T @ dY"',
        ),
        (
            ["check", "--wrt", "X", "-dY", "@", "W.T"],
            "a formula that starts with a minus goes after --",
        ),
    ],
)
def test_a_formula_the_shell_split_says_how_to_type_it(
    runner: CliRunner, args: list[str], says: str
) -> None:
    """Unquoted, a formula reaches check as several arguments; with a leading minus, as an
    option. The one-line error says how to type it."""
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert says in result.stderr
    assert ".;" not in result.stderr and result.stderr.count("\n") == 1


def test_other_usage_errors_get_no_formula_hint(runner: CliRunner) -> None:
    for args in (["check", "--wtr", "W", "X.T @ dY"], ["derive", "--n", "2", "extra"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2
        assert "formula" not in result.stderr
