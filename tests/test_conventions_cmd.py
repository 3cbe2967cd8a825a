"""`symderiv conventions`: the comparison page, its verification and its three formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from texutil import compile_tex

from symderiv.cli import cli
from symderiv.compare import compare
from symderiv.conventions import CONVENTIONS, Convention
from symderiv.render.comparison import (
    comparison_latex,
    comparison_markdown,
    comparison_text,
    formula_of,
)


@pytest.fixture(scope="module")
def page():  # type: ignore[no-untyped-def]
    return compare(2, 2, 3)


# -- the data ---------------------------------------------------------------------------------
def test_every_row_is_verified_by_the_engine(page) -> None:  # type: ignore[no-untyped-def]
    assert page.verified
    keys = [r.key for r in page.rows]
    assert keys[:6] == [
        "forward",
        "shape_X",
        "shape_W",
        "shape_b",
        "shape_Y",
        "shape_dY",
    ]
    assert len(keys) == 1 + 5 + 3 + 6
    for row in page.rows:
        assert list(row.cells) == ["xw", "torch", "column", "wx"]
        assert all(cell.passed for cell in row.cells.values()), row.key
    assert len(page.agreement) == 9 and all(a.passed for a in page.agreement)


# The Kronecker table of SPEC section 1, in size names (K where W is stored transposed).
SPEC_KRONECKER = {
    ("xw", "row"): ("I_N ⊗ Wᵀ", "X ⊗ I_M", "1_N ⊗ I_M"),
    ("xw", "col"): ("Wᵀ ⊗ I_N", "I_M ⊗ X", "I_M ⊗ 1_N"),
    ("torch", "row"): ("I_N ⊗ W", "(x ⊗ I_M)·K", "1_N ⊗ I_M"),
    ("torch", "col"): ("W ⊗ I_N", "(I_M ⊗ x)·K", "I_M ⊗ 1_N"),
    ("column", "row"): ("I_N ⊗ W", "(A ⊗ I_(C_out))·K", "1_N ⊗ I_(C_out)"),
    ("column", "col"): ("W ⊗ I_N", "(I_(C_out) ⊗ A)·K", "I_(C_out) ⊗ 1_N"),
}
SPEC_CLOSED = {
    "xw": ("dY·Wᵀ", "Xᵀ·dY", "1_Nᵀ·dY"),
    "torch": ("dY·W", "dYᵀ·x", "1_Nᵀ·dY"),
    "column": ("dLdZ·W", "dLdZᵀ·A", "dLdZᵀ·1_N"),
}


@pytest.mark.parametrize("name", ["xw", "torch", "column"])
def test_formulas_are_those_of_the_spec(page, name: str) -> None:  # type: ignore[no-untyped-def]
    conv = CONVENTIONS[name]
    for k, var in enumerate("XWb"):
        closed = next(r for r in page.rows if r.key == f"closed_{var}")
        assert formula_of(closed.cells[name], conv) == SPEC_CLOSED[name][k]
        for order in ("row", "col"):
            row = next(r for r in page.rows if r.key == f"kron_{order}_{var}")
            assert formula_of(row.cells[name], conv) == SPEC_KRONECKER[name, order][k]


def test_shapes_at_the_given_sizes(page) -> None:  # type: ignore[no-untyped-def]
    w = next(r for r in page.rows if r.key == "shape_W")
    assert w.cells["xw"].shape == (2, 3) and w.cells["xw"].shape_names == ("D", "M")
    assert w.cells["torch"].shape == (3, 2)
    assert w.cells["column"].shape_names == ("C_out", "C_in")
    b = next(r for r in page.rows if r.key == "shape_b")
    assert b.cells["column"].shape == (3, 1) and b.cells["xw"].shape == (1, 3)
    jac = next(r for r in page.rows if r.key == "kron_row_W")
    assert jac.cells["xw"].shape == (6, 6)
    assert jac.cells["column"].shape_names == ("N·C_out", "C_out·C_in")


def test_a_wrong_kronecker_form_is_shown_as_a_cross(
    monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    """The marks come from the engine: a wrong formula in one convention fails there."""
    original = Convention.kronecker

    def wrong(self, var, order):  # type: ignore[no-untyped-def]
        node = original(self, var, order)
        if self.name == "torch" and var == "X" and order == "col":
            return original(self, var, "row")  # I_N ⊗ W: the other order's
        return node

    monkeypatch.setattr(Convention, "kronecker", wrong)
    c = compare(2, 3, 2)
    assert not c.verified
    failed = [(r.key, name) for r in c.rows for name, cell in r.cells.items()
              if not cell.passed]  # fmt: skip
    assert failed == [("kron_col_X", "torch")]
    text = comparison_text(c, 80)
    assert "✗" in text
    # the failure says where and what differs, not only that something did
    assert (
        "✗ torch, row kron_col_X: entry (1, 2): explicit 0 but Kronecker form" in text
    )
    result = runner.invoke(cli, ["conventions", "--n", "2", "--d", "3", "--m", "2"])
    assert result.exit_code == 1
    assert "Verification FAILED" in result.stdout


# -- the formats ------------------------------------------------------------------------------
def test_text_golden_at_80_columns(page, golden) -> None:  # type: ignore[no-untyped-def]
    text = comparison_text(page, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    golden("conventions_2x2x3.txt", text)


def test_markdown_golden(page, golden) -> None:  # type: ignore[no-untyped-def]
    md = comparison_markdown(page)
    assert md.count("\n| ") >= 3 * 3
    golden("conventions_2x2x3.md", md)


def test_latex_golden_and_it_compiles(page, golden, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tex = comparison_latex(page)
    golden("conventions_2x2x3.tex", tex)
    compile_tex(tex, tmp_path)


@pytest.mark.parametrize("sizes", [(1, 1, 1), (3, 11, 12)])
def test_latex_compiles_at_other_sizes(
    sizes: tuple[int, int, int], tmp_path: Path
) -> None:
    compile_tex(comparison_latex(compare(*sizes)), tmp_path)


def test_same_content_in_every_format(page) -> None:  # type: ignore[no-untyped-def]
    text, md, tex = (
        comparison_text(page, 100),
        comparison_markdown(page),
        comparison_latex(page),
    )
    for needle in ("Why they agree", "commutation matrix", "reshape(-1)"):
        assert needle in text and needle in md
    assert "Why they agree" in tex and "commutation matrix" in tex
    # the intro's ✓, then one mark per checked cell (the article colours them: \sdyes)
    marks = text.count("✓")
    assert marks > 1 + 3 * 3 and "✗" not in text
    assert md.count(r"\checkmark") == marks
    body = tex.split(r"\begin{document}")[1]
    assert body.count(r"\checkmark") + body.count(r"\sdyes") == marks


# -- the command ------------------------------------------------------------------------------
def test_command_prints_text_off_a_terminal(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["conventions"])
    assert result.exit_code == 0, result.stderr
    assert "The conventions side by side at N = 2, D = 2, M = 3" in result.stdout
    assert "\x1b" not in result.stdout
    assert "Every row verified." in result.stdout


@pytest.mark.parametrize(
    ("fmt", "start"), [("latex", "% Generated by symderiv"), ("markdown", "# ")]
)
def test_command_writes_a_file(
    runner: CliRunner, tmp_path: Path, fmt: str, start: str
) -> None:
    out = tmp_path / f"page.{fmt}"
    result = runner.invoke(cli, ["conventions", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith(start)


def test_same_command_same_bytes(runner: CliRunner) -> None:
    args = ["conventions", "--n", "3", "--d", "1", "--m", "2", "--format", "markdown"]
    assert runner.invoke(cli, args).stdout == runner.invoke(cli, args).stdout


@pytest.mark.parametrize(
    "args",
    [["--n", "0"], ["--d", "x"], ["--format", "beamer"], ["--m", "-3"]],
)
def test_bad_input_is_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, ["conventions", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_folder_is_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["conventions", "-o", str(tmp_path / "no" / "x.md")])
    assert result.exit_code == 1
    assert not (tmp_path / "no").exists()
