"""The lecturer's review of the network article, the conventions page at 80 columns and the
index view's certificate: rows of stacked scripts kept apart in LaTeX, every cell of the
conventions tables on one line, the certificate in the terminal's Unicode notation."""

from __future__ import annotations

import re

import pytest

from symderiv.algebra import Poly, PolyMatrix
from symderiv.compare import compare
from symderiv.conventions import Letters
from symderiv.derive import derive
from symderiv.render.comparison import comparison_latex, comparison_text
from symderiv.render.formula import prose_plain
from symderiv.render.latex import latex_matrix

GAP = r"\noalign{\vskip 0.7ex}"


def _matrix(name: str, rows: int, cols: int) -> PolyMatrix:
    """The matrix of atoms name_i_j (w2_1_1 is the network's w^{(2)}_{1,1})."""
    entries = {
        (i, j): Poly.atom(f"{name}_{i + 1}_{j + 1}")
        for i in range(rows)
        for j in range(cols)
    }
    return PolyMatrix(rows, cols, entries)


# -- 1. LaTeX: rows of entries with a superscript over a subscript ---------------------------
def test_stacked_rows_get_a_gap_between_them() -> None:
    tex = latex_matrix(_matrix("w2", 3, 2), Letters())
    assert r"w^{(2)}_{1,1}" in tex
    assert tex.count(GAP) == 2  # between rows 1-2 and 2-3, none after the last


def test_the_single_layer_and_portable_tex_keep_their_rows() -> None:
    assert GAP not in latex_matrix(_matrix("x", 3, 2), Letters())
    # Markdown, HTML and notebooks: MathJax/KaTeX/MathML leave room between rows
    assert GAP not in latex_matrix(_matrix("w2", 3, 2), Letters(), portable=True)


def test_a_product_of_stacked_names_is_stacked() -> None:
    products = {
        (i, 0): Poly.atom(f"a1_{i + 1}_1") * Poly.atom(f"w2_1_{i + 1}")
        for i in range(2)
    }
    tex = latex_matrix(PolyMatrix(2, 1, products), Letters())
    assert tex.count(GAP) == 1


def test_a_block_rule_between_stacked_rows_has_a_gap_on_each_side() -> None:
    # I_2 ⊗ W: rows 1-2 in the first block, 3-4 in the second, a rule between them
    w = _matrix("w2", 2, 2)
    entries = dict(w.entries)
    entries.update({(i + 2, j + 2): p for (i, j), p in w.entries.items()})
    tex = latex_matrix(PolyMatrix(4, 4, entries), Letters(), blocks=(2, 2))
    lines = tex.splitlines()
    rule = lines.index(r"\hline" + " " + GAP)
    assert lines[rule - 1].endswith(r"\\ " + GAP)  # above the rule
    assert tex.count(GAP) == 4  # rows 1-2, above and under the rule, rows 3-4


# -- 2. the conventions page at 80, 100 and 160 columns -------------------------------------
@pytest.fixture(scope="module")
def page():  # type: ignore[no-untyped-def]
    return compare(2, 2, 3)


def _cells_on_one_line(text: str) -> None:
    for line in text.splitlines():
        assert line.strip() != "✓", text
        if "✓" in line and "│" not in line:
            # a table line: every formula ends with its mark, no formula is cut open
            assert not re.search(r"[=⊗(]\s*$", line), line


def test_conventions_at_80_columns_keep_every_cell_on_one_line(page) -> None:  # type: ignore[no-untyped-def]
    text = comparison_text(page, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    _cells_on_one_line(text)
    for cell in (
        "(A ⊗ I_(C_out))·K ✓",
        "(I_(C_out) ⊗ A)·K ✓",
        "1_N ⊗ I_(C_out) ✓",
        "2×2 = N×C_in ✓",
        "3×2 = C_out×C_in ✓",
        "Z = A·Wᵀ + 1_N·bᵀ ✓",
    ):
        assert cell in text
    # nothing lost: as many marks as at 160 columns, the titles once each
    wide = comparison_text(page, 160)
    assert text.count("✓") == wide.count("✓")
    assert text.count("Forward pass, shapes and closed forms") == 1
    assert text.count("Kronecker forms in both vec orders") == 1


@pytest.mark.parametrize("width", [100, 160])
def test_conventions_side_by_side_when_they_fit(page, width: int) -> None:  # type: ignore[no-untyped-def]
    text = comparison_text(page, width)
    _cells_on_one_line(text)
    heads = [
        ln.split()
        for ln in text.splitlines()
        if ln.split()[-4:] == ["xw", "torch", "column", "wx"]
    ]
    assert len(heads) == 2  # both tables, all four conventions in one


def test_conventions_stack_one_by_one_when_halves_do_not_fit(page) -> None:  # type: ignore[no-untyped-def]
    text = comparison_text(page, 50)
    _cells_on_one_line(text)
    assert "Z = A·Wᵀ + 1_N·bᵀ ✓" in text
    assert text.count("✓") == comparison_text(page, 160).count("✓")


def test_conventions_latex_keeps_one_table_of_four(page) -> None:  # type: ignore[no-untyped-def]
    tex = comparison_latex(page)
    assert tex.count(r"\begin{tabular}") == 3


# -- 3. the index view's certificate in the terminal's notation -----------------------------
def _index_details(**options: object) -> list[str]:
    d = derive(method="index", **options)
    letters = d.config.letters
    return [prose_plain(c.detail, letters) for c in d.checks if "index" in str(c.claim)]


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
@pytest.mark.parametrize("base", [0, 1])
def test_index_certificate_is_unicode(convention: str, base: int) -> None:
    details = _index_details(convention=convention, index_base=base)
    assert len(details) == 3
    for text in details:
        assert "_{" not in text and "^{" not in text and "\\" not in text, text
        assert re.search(r"\)[ₕₖ]+ = Σ[ᵢⱼ]₌[₀₁]", text), text
        assert "∂L/∂" in text and "_hk" not in text, text


def test_index_certificate_sums_as_the_steps_write_them() -> None:
    x, w, b = _index_details()
    assert x.startswith("(dY·Wᵀ)ₕₖ = Σⱼ₌₁ᴹ ∂L/∂yₕⱼ·wₖⱼ for all sizes (sympy)")
    assert w.startswith("(Xᵀ·dY)ₕₖ = Σᵢ₌₁ᴺ ∂L/∂yᵢₖ·xᵢₕ")
    assert b.startswith("(1_Nᵀ·dY)ₖ = Σᵢ₌₁ᴺ ∂L/∂yᵢₖ")
    zero = _index_details(index_base=0)[0]
    assert "Σⱼ₌₀ᴹ⁻¹" in zero
    # a size with no superscript letters, written as the terminal writes I_(C_out)
    column = _index_details(convention="column", index_base=0)[0]
    assert "Σⱼ₌₀^(C_out − 1) ∂L/∂zₕⱼ·wⱼₖ" in column


def test_index_json_formula_keeps_its_form() -> None:
    d = derive(method="index").to_dict()
    assert d["results"]["W"]["index"]["text"].endswith(
        "= Σ_{i=1}^{N} ∂L/∂y_ik·x_ih = (Xᵀ·dY)_hk"
    )
    detail = [c["detail"] for c in d["certificate"] if "index" in c["claim"]][0]
    assert detail.startswith("(dY·Wᵀ)ₕₖ = Σⱼ₌₁ᴹ")
