"""`--pdf`: one pdflatex run for the article, a rerun only when the document needs it.

The article has labels but no references, so the "Label(s) may have changed" of its first
run cannot change anything: one run gives the same PDF as two (issue 16).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from symderiv import derive, render
from symderiv import pdf as pdf_module
from symderiv.pdf import compile_pdf

pytestmark = [
    pytest.mark.latex,
    pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex"),
]


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    runs: list[int] = []
    real = pdf_module._run

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf_module, "_run", counted)
    return runs


@pytest.mark.parametrize("sizes", [(2, 2, 3), (3, 4, 2)])
def test_the_article_needs_one_run_and_it_equals_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sizes: tuple[int, int, int]
) -> None:
    monkeypatch.setenv(
        "SOURCE_DATE_EPOCH", "0"
    )  # no dates in the PDF: comparable bytes
    monkeypatch.setenv("FORCE_SOURCE_DATE", "1")
    n, d, m = sizes
    tex = render(derive(n=n, d=d, m=m), "latex")
    one, two = tmp_path / "one.tex", tmp_path / "two.tex"
    one.write_text(tex, encoding="utf-8")
    two.write_text(tex, encoding="utf-8")
    runs = _counting(monkeypatch)
    compile_pdf(one)
    assert len(runs) == 1
    compile_pdf(two, runs=2)
    assert len(runs) == 3
    assert (tmp_path / "one.pdf").read_bytes() == (tmp_path / "two.pdf").read_bytes()


def test_a_document_with_references_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "ref.tex"
    doc.write_text(
        "\\documentclass{article}\\begin{document}"
        "See section~\\ref{s}.\\section{A}\\label{s}\\end{document}\n"
    )
    runs = _counting(monkeypatch)
    compile_pdf(doc)
    assert len(runs) == 2  # the first run asks ("Rerun to get cross-references right")


def test_needs_rerun_reads_the_document_and_the_log() -> None:
    folder = Path("/nonexistent")
    asks = (
        "LaTeX Warning: Label(s) may have changed. Rerun to get cross-references right."
    )
    assert not pdf_module._needs_rerun(b"\\label{a} no reference", asks, folder, 0)
    assert pdf_module._needs_rerun(b"\\label{a} \\ref{a}", asks, folder, 0)
    assert not pdf_module._needs_rerun(b"\\label{a} \\ref{a}", "", folder, 0)
    assert not pdf_module._needs_rerun(b"\\refx{a}", asks, folder, 0)
