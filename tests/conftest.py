"""Shared fixtures: a CLI runner and golden-file comparison (``pytest --update-golden``)."""

from __future__ import annotations

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


#: The library's own tests: the maths, the page and each printer, no subprocess, no TeX
#: run. ``pytest -m fast`` runs them alone (the inner loop; see the README for its time).
FAST_MODULES = {
    "test_engine",
    "test_fastpath",
    "test_formula",
    "test_latex",
    "test_page",
    "test_properties",
    "test_terminal",
    "test_views",
    "test_check",
    "test_codegen",
    "test_numeric",
    "test_fileio",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the library tests ``fast`` (unless they are ``slow`` or compile TeX)."""
    for item in items:
        module = getattr(item, "module", None)  # doctests have none
        name = module.__name__ if module is not None else ""
        if name.rpartition(".")[2] not in FAST_MODULES:
            continue
        if item.get_closest_marker("slow") or item.get_closest_marker("latex"):
            continue
        item.add_marker(pytest.mark.fast)


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner (stdout and stderr kept apart)."""
    return CliRunner()


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``golden(name, text)`` compares ``text`` with tests/golden/<name> exactly.

    With ``--update-golden`` it rewrites the file instead; review the diff like code.
    A missing golden file fails (it is never written silently).
    """
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"golden file {name} is missing (run pytest --update-golden)")
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from tests/golden/{name}"

    return check
