"""`symderiv derive` through click's test runner: output, formats and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv import __version__
from symderiv.cli import cli


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_derive_default_prints_every_step_and_ticks(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["derive", "--n", "2", "--d", "2", "--m", "3"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    titles = [
        "The layer and its symbols",
        "The forward pass, entry by entry",
        "The upstream derivative",
        "Vectorize: Y as one vector (row order)",
        "Jacobian of vec(Y) with respect to vec(X)",
        "Chain rule for X",
        "Closed form of ∂L/∂X",
        "Jacobian of vec(Y) with respect to vec(W)",
        "Jacobian of vec(Y) with respect to vec(b)",
        "Backpropagation through the layer",
        "Certificate",
    ]
    positions = [out.index(t) for t in titles]
    assert positions == sorted(positions)
    assert out.count("✓") == 6 and "✗" not in out
    assert "\x1b[" not in out  # not a terminal: no escape codes


def test_json_format(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["derive", "--format", "json", "--convention", "torch"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["verified"] is True
    assert data["results"]["W"]["closed_form"]["text"] == "dYᵀ·x"
    assert data["results"]["W"]["kronecker"]["text"] == "(x ⊗ I_M)·K"


def test_output_file_is_written_atomically(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "affine.json"
    result = runner.invoke(cli, ["derive", "--format", "json", "-o", str(target)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(target.read_text())["verified"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["affine.json"]


def test_same_command_same_bytes(runner: CliRunner) -> None:
    args = [
        "derive",
        "--n",
        "2",
        "--d",
        "3",
        "--m",
        "2",
        "--loss",
        "mse",
        "--format",
        "text",
    ]
    assert runner.invoke(cli, args).stdout == runner.invoke(cli, args).stdout


@pytest.mark.parametrize(
    "args,names",
    [
        (["--n", "0"], ["--n", "0"]),
        (["--d", "-3"], ["--d", "-3"]),
        (["--m", "2.5"], ["--m", "2.5"]),
        (["--n", "two"], ["--n", "two"]),
        (["--convention", "keras"], ["keras", "xw"]),
        (["--vec", "diag"], ["diag", "row"]),
        (["--layout", "mixed"], ["mixed"]),
        (["--loss", "hinge"], ["hinge"]),
        (["--method", "magic"], ["magic"]),
        (["--format", "pdf"], ["pdf"]),
        (["--wrt", "Q"], ["Q", "X, W, b"]),
        (["--wrt", ""], ["--wrt"]),
        (["--wrt", "X,X"], ["X,X"]),
        (["--names", "X=\\input{/etc/hostname}"], ["input", "letter"]),
        (["--names", "X={A}"], ["{A}"]),
        (["--names", "Q=A"], ["Q", "roles"]),
        (["--names", ""], ["--names"]),
        (["--names", "X=W"], ["W"]),
        (["--max-entries", "0"], ["--max-entries"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    runner: CliRunner, args: list[str], names: list[str]
) -> None:
    result = runner.invoke(cli, ["derive", *args])
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert result.stdout == ""


def test_huge_sizes_are_refused_at_once(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["derive", "--n", str(10**9), "--force"])
    assert result.exit_code == 2
    assert "too large" in result.stderr


def test_missing_output_folder_is_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["derive", "-o", str(tmp_path / "no" / "such" / "x.txt")]
    )
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no" in result.stderr


def test_every_command_has_help(runner: CliRunner) -> None:
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help, name
