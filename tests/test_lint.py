"""The code stays as the engineering standards ask: ruff-clean, ruff-formatted, mypy-clean.

These run the same commands a developer runs before committing, so CI fails when they would
(the tools come with the ``test`` extra).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("ruff", "check", "symderiv", "tests"),
        ("ruff", "format", "--check", "symderiv", "tests"),
    ],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(argv: tuple[str, ...]) -> None:
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    done = run(*argv)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy() -> None:
    done = run(sys.executable, "-m", "mypy", "symderiv")
    if "No module named mypy" in done.stderr:
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    assert done.returncode == 0, done.stdout + done.stderr
