"""Exercise sheets after a lecturer's review: blanks with room to write, --flavor for
Markdown, size defaults the help tells truly, headings that name the letter, a question
kept with its answer on one page."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import cli
from symderiv.exercise import make_sheet
from symderiv.render.latex import tex_width
from symderiv.render.page import Section
from symderiv.render.sheet import (
    BLANKS,
    ROW_STRUT,
    sheet_blocks,
    sheet_latex,
    sheet_markdown,
)

BOX = re.compile(r"\\boxed\{\\phantom\{[^}]*\{1\}\{2\}\}\\hspace\{([\d.]+)em\}\}")


def _part(tex: str, label: str) -> str:
    """The first part ``(label)`` of a sheet, up to the next part or exercise."""
    after = tex.split(rf"\paragraph{{({label})}}", 1)[1]
    return re.split(r"\\paragraph\{|\\section\{", after, maxsplit=1)[0]


def test_a_blank_is_wider_than_the_answer_it_hides() -> None:
    """Part (c) of the default sheet: ȳ₁,₁w₁,₁+ȳ₁,₂w₁,₂+ȳ₁,₃w₁,₃ (about 12 em typeset)
    had a 7 em box; every box is now wider than the widest entry of its matrix."""
    sheet = make_sheet()
    tex = sheet_latex(sheet)
    derivative = sheet.derivation.results["X"].derivative
    key = sheet_latex(sheet, answers=True)
    widest = max(
        tex_width(a) for a in re.findall(r"\\color\{blue\}\{(.*?)\}\}", _part(key, "c"))
    )
    assert widest > 10 and len(derivative.entries) == 4
    widths = [float(w) for w in BOX.findall(_part(tex, "c"))]
    assert widths and min(widths) > widest + 1


def test_boxes_in_one_matrix_are_equal() -> None:
    """A box's width tells nothing about its answer: a 0 and a w₁,₂ get the same box."""
    for seed in range(6):
        tex = sheet_latex(make_sheet(seed=seed))
        for matrix in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", tex, re.S):
            assert len(set(BOX.findall(matrix))) <= 1


def test_rows_with_blanks_are_even_and_apart() -> None:
    """Every row of a matrix with blanks starts with the same strut and rows are 1.5 ex
    apart (boxes in rows 2–3 of the 6×6 Jacobian nearly touched); boxes keep a space from
    the brackets."""
    tex = sheet_latex(make_sheet())
    jacobian = re.findall(
        r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", _part(tex, "a"), re.S
    )
    rows = [r for r in jacobian[-1].strip().split("\n") if r]
    assert len(rows) == 6
    assert all(r.startswith(ROW_STRUT) for r in rows)
    assert all(r.endswith(r"\\[1.5ex]") for r in rows[:-1])
    assert r"\;\boxed{\phantom" in jacobian[-1]
    # matrices without blanks are as they were
    assert ROW_STRUT not in tex.split(r"\section{")[0]


def test_question_and_formula_are_one_paragraph() -> None:
    """No blank line between a question and its display: LaTeX breaks no page there."""
    tex = sheet_latex(make_sheet(kinds="shapes"))
    assert "sheet:\n\\[" in tex and "sheet:\n\n\\[" not in tex
    assert r"\setlength{\abovedisplayshortskip}{\abovedisplayskip}" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")
def test_shapes_key_keeps_each_question_with_its_table(tmp_path: Path) -> None:
    """`exercise --kind shapes --answers` put Exercise 3's question at the foot of page 1
    and its table on page 2."""
    out = tmp_path / "shk.tex"
    result = CliRunner().invoke(
        cli, ["exercise", "--kind", "shapes", "--answers", "-o", str(out), "--pdf"]
    )
    assert result.exit_code == 0, result.output
    pages = subprocess.run(
        ["pdftotext", "-layout", str(out.with_suffix(".pdf")), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\f")
    asked = [p for p in pages if "sizes of this sheet" in p]
    assert len(asked) == 2  # three questions on two pages
    for page in asked:  # the last question of a page has its table below it
        assert "×" in page.rsplit("sizes of this sheet", 1)[1]


def test_headings_name_the_letter() -> None:
    """Every exercise heading names its variable and letter, in the convention's letters."""
    for convention, letter in (("xw", "X"), ("column", "A")):
        sheet = make_sheet(
            convention=convention, kinds="steps,shapes,choice,index", wrt="X"
        )
        titles = [b.title for b in sheet_blocks(sheet) if isinstance(b, Section)]
        assert len(titles) == 4
        for title in titles:
            assert "with respect to the input " in title[0]
            assert any(getattr(m, "text", None) == letter for m in title[1:])


def test_help_says_the_true_defaults() -> None:
    """--n/--m said [default: 2]/[3], yet shape sheets drew N=2, D=3, M=4."""
    text = " ".join(CliRunner().invoke(cli, ["exercise", "--help"]).output.split())
    assert "(the defaults become N=2, D=3, M=4)" in text
    c = make_sheet(kinds="shapes").config
    assert (c.n, c.d, c.m) == (2, 3, 4)
    c = make_sheet().config
    assert (c.n, c.d, c.m) == (2, 2, 3)
    assert "Batch size N [default: 2, or drawn from 2-3 by --seed; see --kind]" in text
    assert "Output features M [default: 3, or drawn from 2-3 by --seed" in text


# -- Markdown flavours -----------------------------------------------------------------
def test_markdown_flavors() -> None:
    sheet = make_sheet(kinds="steps,shapes,choice,index", loss="mse")
    github = sheet_markdown(sheet)
    assert "```math" in github and "$$" not in github
    assert github == sheet_markdown(sheet, flavor="github")
    jupyter = sheet_markdown(sheet, answers=True, flavor="jupyter")
    assert "```math" not in jupyter and "$$\n" in jupyter
    # pandoc's TeX reader has neither \color nor \vphantom
    assert r"\color" not in jupyter and r"\vphantom" not in jupyter
    assert r"\boxed{" in jupyter


def test_flavor_option(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "s.md"
    args = ["exercise", "--format", "markdown", "--flavor", "jupyter", "-o", str(out)]
    assert runner.invoke(cli, args).exit_code == 0
    assert out.read_text(encoding="utf-8").count("$$\n") > 4
    bad = runner.invoke(cli, ["exercise", "--flavor", "jupyter"])
    assert bad.exit_code == 2
    assert "--flavor needs --format markdown, not 'latex'" in bad.output
    bad = runner.invoke(cli, ["exercise", "--format", "markdown", "--flavor", "x"])
    assert bad.exit_code == 2


def test_roster_in_a_flavor(tmp_path: Path) -> None:
    names = tmp_path / "class.txt"
    names.write_text("Ada\nBob\n", encoding="utf-8")
    args = ["exercise", "--roster", str(names), "--format", "markdown"]
    result = CliRunner().invoke(
        cli, [*args, "--flavor", "jupyter", "-o", str(tmp_path / "c.md")]
    )
    assert result.exit_code == 0, result.output
    for name in ("c-ada.md", "c-bob.md", "c-key.md"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "```math" not in text and "$$" in text


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="needs pandoc")
@pytest.mark.parametrize("answers", [False, True])
def test_pandoc_reads_the_jupyter_sheet(tmp_path: Path, answers: bool) -> None:
    """Every formula of a Jupyter-flavoured sheet and key converts (no "Could not
    convert TeX math")."""
    for options in (
        {"kinds": "steps,shapes,choice,index", "loss": "mse"},
        {"n": 4, "d": 4, "m": 4, "convention": "column"},
    ):
        md = tmp_path / "sheet.md"
        md.write_text(
            sheet_markdown(make_sheet(**options), answers, flavor="jupyter"),  # type: ignore[arg-type]
            encoding="utf-8",
        )
        run = subprocess.run(
            ["pandoc", str(md), "-f", "markdown", "-t", "html", "--mathml"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "Could not convert TeX math" not in run.stderr
        assert "<math" in run.stdout


def test_blanks_keep_their_unicode() -> None:
    assert [BLANKS[k][2] for k in ("short", "medium", "long")] == [
        "▢",
        "▢▢▢",
        "▢▢▢▢▢▢",
    ]
