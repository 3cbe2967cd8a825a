"""Every command shown in a README code block runs, the set-up commands are there, and every
output the README shows is what the command prints now.

Two kinds of README block show output:

* an example section, ``<!-- example:start command="symderiv ..." columns=100
  until="Step 7 " -->`` … ``<!-- example:end -->``: its ```` ```text ```` block is the command's
  output at ``COLUMNS=columns`` (piped, so plain text); with ``until`` only the lines before the
  first line that starts with it, then a line ``…``;
* a ```` ```text ```` block of ``$ symderiv ...`` lines, each followed by what it prints
  (stdout, then stderr, as a terminal shows them; piped, ``COLUMNS`` unset).

When the output changes on purpose, rewrite these blocks from the current output with ::

    python -m pytest tests/test_readme.py --update-golden -q -p no:cacheprovider

and read ``git diff README.md`` like code (the prose around a block may need the same change).
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from symderiv.cli import cli

README = Path(__file__).parent.parent / "README.md"


def readme_commands() -> list[str]:
    """``symderiv ...`` lines of fenced sh/console blocks (after ``&&`` or ``$ ``)."""
    text = README.read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"```(?:sh|console|bash)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if "&&" in line:
                line = line.split("&&")[-1].strip()
            if line.startswith("symderiv "):
                commands.append(line)
    return commands


def test_setup_commands_are_the_two_documented_ones() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install -e . && symderiv derive --n 2 --d 2 --m 3" in text
    assert "pip install -e '.[test]' && pytest" in text


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(
    command: str, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = shlex.split(command)[1:]
    if "--pdf" in args and shutil.which("pdflatex") is None:
        pytest.skip("no pdflatex")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, (command, result.stderr)


# -- the output the README shows is the output ---------------------------------------------------
EXAMPLE = re.compile(
    r"<!-- example:start (?P<options>.*?) -->\n(?P<before>.*?```text\n)(?P<body>.*?)```"
    r"(?P<after>.*?)<!-- example:end -->",
    flags=re.S,
)
SESSION = re.compile(r"```text\n(?P<body>\$ symderiv .*?)```", flags=re.S)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Shown:
    """One README block of output: where it is (``start``, ``end`` of its body), what it
    shows, and how to make it again (:meth:`expected`)."""

    name: str
    start: int
    end: int
    body: str
    commands: tuple[str, ...]
    columns: int | None = None
    until: str | None = None

    def expected(self, run: Callable[[list[str], int | None], Result]) -> str:
        """The block as the commands print it now (``run(args, columns)`` runs one)."""
        if self.columns is not None:  # an example section: one command
            (command,) = self.commands
            output = _printed(run(shlex.split(command)[1:], self.columns))
            if self.until is None:
                return output
            lines = output.splitlines(keepends=True)
            cuts = [i for i, line in enumerate(lines) if line.startswith(self.until)]
            assert cuts, f"{self.name}: no line starts with until={self.until!r}"
            cut = cuts[0]
            return "".join(lines[:cut]).rstrip("\n") + f"\n{ELLIPSIS}\n"
        return "".join(
            f"$ {command}\n" + _printed(run(shlex.split(command)[1:], None))
            for command in self.commands
        )


def _printed(result: Result) -> str:
    return result.stdout + result.stderr


def shown_blocks(text: str) -> list[Shown]:
    """Every block of ``text`` (the README) that shows a command's output."""
    blocks: list[Shown] = []
    for match in EXAMPLE.finditer(text):
        options = dict(item.split("=", 1) for item in shlex.split(match["options"]))
        blocks.append(
            Shown(
                name=f"example: {options['command']}",
                start=match.start("body"),
                end=match.end("body"),
                body=match["body"],
                commands=(options["command"],),
                columns=int(options["columns"]),
                until=options.get("until"),
            )
        )
    for match in SESSION.finditer(text):
        commands = tuple(
            line[2:]
            for line in match["body"].splitlines()
            if line.startswith("$ symderiv ")
        )
        blocks.append(
            Shown(
                name=f"session: {commands[0]}",
                start=match.start("body"),
                end=match.end("body"),
                body=match["body"],
                commands=commands,
            )
        )
    return sorted(blocks, key=lambda block: block.start)


def test_readme_shows_output_blocks() -> None:
    """The parser finds the blocks (a changed marker must not silently test nothing)."""
    blocks = shown_blocks(README.read_text(encoding="utf-8"))
    assert [b for b in blocks if b.columns is not None], (
        "no <!-- example:start ... --> section"
    )
    assert len(blocks) >= 4, [b.name for b in blocks]


@pytest.mark.parametrize(
    "index",
    range(len(shown_blocks(README.read_text(encoding="utf-8")))),
    ids=[b.name for b in shown_blocks(README.read_text(encoding="utf-8"))],
)
def test_readme_output_is_what_the_command_prints(
    index: int, runner: CliRunner, request: pytest.FixtureRequest
) -> None:
    """The block is exactly the output (or its prefix up to ``until``, then ``…``)."""

    def run(args: list[str], columns: int | None) -> Result:
        env = {"COLUMNS": None if columns is None else str(columns), "NO_COLOR": None}
        return runner.invoke(cli, args, env=env)

    text = README.read_text(encoding="utf-8")
    block = shown_blocks(text)[index]
    expected = block.expected(run)
    if request.config.getoption("--update-golden"):
        README.write_text(
            text[: block.start] + expected + text[block.end :], encoding="utf-8"
        )
        return
    assert block.body == expected, (
        f"README block {block.name!r} is not what the command prints now; rewrite it with "
        "python -m pytest tests/test_readme.py --update-golden -q -p no:cacheprovider"
    )
