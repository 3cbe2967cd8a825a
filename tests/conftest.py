"""Shared fixtures: a CLI runner and golden-file comparison (``pytest --update-golden``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files in tests/golden/ from the current output.",
    )


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner (stdout and stderr kept apart)."""
    return CliRunner()


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``golden(name, text)`` compares ``text`` with tests/golden/<name> exactly.

    With ``--update-golden`` it rewrites the file instead; review the diff like code.
    """
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            if not update and os.environ.get("CI"):
                pytest.fail(
                    f"golden file {name} is missing (run pytest --update-golden)"
                )
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from tests/golden/{name}"

    return check
