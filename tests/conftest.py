"""Shared fixtures: a CLI runner and golden-file comparison (``pytest --update-golden``)."""

from __future__ import annotations

import fnmatch
import sys
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
    "test_notes_markup",
    "test_doctests",
}

#: Cases of those modules that only the default suite runs (``pytest``, ``.ci/run``): the
#: largest sizes of tests whose smaller sizes take the same code paths in the fast loop,
#: repeats of a check in more conventions or losses than the code distinguishes, the
#: test that derives at N = 20 000 and the torch.autograd tests (the fast loop runs without
#: torch, see ``pytest_configure``). Tests that run the CLI (the ``runner`` fixture) or a
#: subprocess are not library tests and are left out too.
NOT_FAST = (
    "test_engine.py::test_losses_match_oracle[(3, 1, 11)-*",
    "test_engine.py::test_generic_matches_oracle[*-3x2x1]",
    "test_engine.py::test_generic_matches_oracle[*-10x1x2]",
    "test_fastpath.py::test_json_entries_parse_back_to_the_sympy_results[sum-*",
    "test_page.py::test_every_view_sets_its_maths_as_maths[torch]",
    "test_page.py::test_every_view_sets_its_maths_as_maths[wx]",
    "test_views.py::test_three_methods_agree_with_the_oracle[*-1x11x2]",
    "test_views.py::test_three_methods_agree_with_the_oracle[*-2x3x2]",
    "test_terminal.py::test_nothing_is_wider_than_the_terminal[16-cubed-*",
    "test_terminal.py::test_nothing_is_wider_than_the_terminal[*-200]",
    "test_page.py::test_output_size_stays_bounded_at_large_n",
    "test_fileio.py::test_dev_stdout_to_a_pipe_is_written_through*",
    "test_numeric.py::test_torch_*",
    "test_codegen.py::test_torch_*",
)


def _fast_run(config: pytest.Config) -> bool:
    return str(config.getoption("markexpr", "")).strip() == "fast"


def pytest_configure(config: pytest.Config) -> None:
    """The fast loop runs as without the optional PyTorch extra: importing torch alone
    takes about 3 s of CPU. verify() then checks against finite differences only; the
    torch.autograd cross-checks (``test_torch_*``) run in the whole suite."""
    if _fast_run(config) and "torch" not in sys.modules:
        sys.modules["torch"] = None  # type: ignore[assignment]  # import torch: ImportError


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``-m fast`` the other test modules are not even imported (a third of the time)."""
    if _fast_run(config) and collection_path.suffix == ".py":
        name = collection_path.stem
        if name.startswith("test_") and name not in FAST_MODULES:
            return True
    return None


def _fast(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)  # doctests have none
    name = module.__name__ if module is not None else ""
    if name.rpartition(".")[2] not in FAST_MODULES:
        return False
    if item.get_closest_marker("slow") or item.get_closest_marker("latex"):
        return False
    if "runner" in getattr(item, "fixturenames", ()):
        return False
    path, _, rest = item.nodeid.partition("::")
    test = f"{Path(path).name}::{rest}"
    return not any(
        fnmatch.fnmatchcase(test, pattern.replace("[", "[[]")) for pattern in NOT_FAST
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the library tests ``fast`` (see ``FAST_MODULES`` and ``NOT_FAST``)."""
    for item in items:
        if _fast(item):
            item.add_marker(pytest.mark.fast)


@pytest.fixture(autouse=True)
def _no_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no COLUMNS or LINES unless they set them: the widths they assert are the
    ones a pipe gets, wherever pytest runs (a developer's COLUMNS=60, pytest-xdist's
    workers, which set COLUMNS=80)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


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
