"""Every command shown in a README code block runs, and the set-up commands are there."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

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
