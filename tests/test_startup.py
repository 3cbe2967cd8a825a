"""`symderiv --help` stays fast: the command line imports no sympy until work starts.

sympy takes about half a second to import; the CLI modules import it only inside the
functions that need it (SPEC: ``--help`` under 0.3 s). Each check runs in a fresh
interpreter, since this test process has long imported sympy itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

HEAVY = ("sympy", "numpy", "nbformat")

PROBE = """
import json, sys
argv = json.loads(sys.argv[1])
import symderiv.cli
if argv:
    try:
        symderiv.cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
else:
    code = None
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
sys.stderr.write(json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def probe(argv: list[str]) -> dict[str, Any]:
    """Run the CLI with ``argv`` in a fresh interpreter; which heavy modules got loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def test_importing_the_cli_does_not_import_sympy() -> None:
    result = probe([])
    assert "sympy" not in result["loaded"], result


def test_symderiv_help_imports_no_sympy() -> None:
    result = probe(["--help"])
    assert result["code"] == 0
    assert "sympy" not in result["loaded"], result


def test_version_imports_no_sympy() -> None:
    result = probe(["--version"])
    assert result["code"] == 0
    assert "sympy" not in result["loaded"], result


def commands() -> list[str]:
    from symderiv.cli import cli

    return sorted(cli.commands)


@pytest.mark.parametrize("command", commands())
def test_command_help_imports_no_sympy(command: str) -> None:
    result = probe([command, "--help"])
    assert result["code"] == 0, result
    assert "sympy" not in result["loaded"], f"{command} --help imported {result}"


def test_refusing_a_huge_size_imports_no_sympy() -> None:
    # The size guard answers from the sizes alone: no sympy, no allocation.
    result = probe(["derive", "--n", "100000", "--d", "100000", "--m", "100000"])
    assert result["code"] == 2
    assert "sympy" not in result["loaded"], result


@pytest.mark.parametrize("fmt", ["text", "json", "gradescope", "prairielearn"])
def test_check_at_small_sizes_imports_no_sympy(fmt: str) -> None:
    # check runs on symderiv's own algebra: right and wrong answers, every format.
    for formula, code in (("X.T @ dY", 0), ("np.mean(dout, axis=0)", 1)):
        var = "W" if "X" in formula else "b"
        result = probe(
            [
                "check",
                "--n",
                "2",
                "--d",
                "2",
                "--m",
                "3",
                "--wrt",
                var,
                "--format",
                fmt,
                formula,
            ]
        )
        assert result["code"] == code, result
        assert "sympy" not in result["loaded"], result
