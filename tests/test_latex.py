"""The LaTeX printer and its helpers: escaping, matrices, elision, pictures, the article."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from texutil import compile_tex

from symderiv import derive
from symderiv.algebra import Poly, PolyMatrix
from symderiv.conventions import Config, Letters
from symderiv.errors import DisplayNameError, UnknownSettingError
from symderiv.render import render
from symderiv.render.latex import (
    latex_entry,
    latex_escape,
    latex_matrix,
    latex_preamble,
    latex_sparsity,
    max_matrix_cols,
    prose_tex,
    render_latex,
    shown_indices,
)


@pytest.fixture(scope="module")
def d223():  # type: ignore[no-untyped-def]
    return derive(n=2, d=2, m=3)


# -- text ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50% & $5", r"50\% \& \ensuremath{\$}5"),
        (r"\input{/etc/hostname}", r"\textbackslash{}input\{/etc/hostname\}"),
        ("a_b^c~#", r"a\_b\^{}c\~{}\#"),
        ("→ ☃", r"$\to$ [U+2603]"),
    ],
)
def test_latex_escape_leaves_nothing_for_tex_to_interpret(
    text: str, expected: str
) -> None:
    assert latex_escape(text) == expected


def test_prose_with_braces_or_backslashes_stays_text() -> None:
    out = prose_tex((r"see \input{x} and 100%",), Letters())
    assert r"\input" not in out.replace(r"\textbackslash{}input", "")
    assert r"\%" in out


# -- entries and matrices --------------------------------------------------------------------
def test_long_entries_are_elided_for_display_only() -> None:
    p = Poly()
    for k in range(1, 7):
        p = p + Poly.atom(f"x_1_{k}") * Poly.atom(f"w_{k}_1")
    cell = latex_entry(p, Letters(), max_terms=3)
    assert (
        cell.tex
        == r"x_{1,1} \, w_{1,1} + x_{1,2} \, w_{2,1} + \cdots + x_{1,6} \, w_{6,1}"
    )
    assert len(p) == 6  # the polynomial itself is untouched


def test_upstream_entries_as_bar_or_fraction() -> None:
    p = Poly.atom("x_1_1") * Poly.atom("dy_1_2")
    assert latex_entry(p, Letters(), upstream="bar").tex == r"x_{1,1} \, \bar{y}_{1,2}"
    assert latex_entry(p, Letters(Y="Z"), upstream="frac").tex == (
        r"x_{1,1} \, \frac{\partial L}{\partial z_{1,2}}"
    )


def test_fractions_and_negative_terms() -> None:
    y, t = Poly.atom("y_1_1"), Poly.atom("t_1_1")
    assert latex_entry(y - t, Letters()).tex == "y_{1,1} - t_{1,1}"
    assert latex_entry(-y, Letters()).tex == "-y_{1,1}"
    assert latex_entry((y - t).scale(Fraction(1, 2)), Letters()).tex == (
        r"\frac{1}{2} \bigl(y_{1,1} - t_{1,1}\bigr)"
    )


def test_shown_indices() -> None:
    assert shown_indices(3, 12) == [0, 1, 2]
    assert shown_indices(16, 12) == [*range(10), None, 15]


def test_matrix_elision_keeps_corners_and_one_row_per_line() -> None:
    m = PolyMatrix.of_atoms("X", 16, 20)
    tex = latex_matrix(m, Letters(), max_entries=5)
    lines = tex.split("\n")
    assert lines[0] == r"\begin{bmatrix}" and lines[-1] == r"\end{bmatrix}"
    rows = lines[1:-1]
    assert len(rows) == 5  # three rows, \vdots, the last
    assert rows[0].startswith("x_{1,1} & x_{1,2} & x_{1,3} & \\cdots & x_{1,20}")
    assert rows[3] == r"\vdots & \vdots & \vdots & \ddots & \vdots \\"
    assert rows[4] == r"x_{16,1} & x_{16,2} & x_{16,3} & \cdots & x_{16,20}"
    assert max_matrix_cols(tex) == 5


def test_kronecker_blocks_are_ruled() -> None:
    d = derive(n=2, d=2, m=3)
    jac = d.results["X"].jacobian  # I_2 ⊗ Wᵀ, blocks 3×2
    tex = latex_matrix(jac, Letters(), blocks=(3, 2))
    assert tex.startswith(r"\left[\begin{array}{@{}cc|cc@{}}")
    assert tex.count(r"\hline") == 1
    assert latex_matrix(jac, Letters(), blocks=(3, 2), portable=True).startswith(
        r"\left[\begin{array}{cc|cc}"
    )


def test_max_matrix_cols_counts_nested_matrices() -> None:
    tex = (
        r"\begin{bmatrix} a & \begin{bmatrix} 1 & 2 & 3 & 4 \end{bmatrix} \\ c & d"
        r" \end{bmatrix} \begin{array}{ccccccc} 1&2&3&4&5&6&7 \end{array}"
    )
    assert max_matrix_cols(tex) == 4


# -- pictures ------------------------------------------------------------------------------
def test_sparsity_picture_draws_every_nonzero_once() -> None:
    d = derive(n=2, d=2, m=3)
    jac = d.results["W"].jacobian
    pic = latex_sparsity(jac, (3, 3))
    assert pic.count("rectangle") == jac.nnz() + 2  # background and frame
    assert r"\draw[sdblock]" in pic


def test_sparsity_picture_of_a_large_jacobian_stays_small() -> None:
    d = derive(n=32, d=8, m=32)
    jac = d.results["X"].jacobian  # 1024 × 256
    pic = latex_sparsity(jac, (32, 8))
    assert len(pic) < 200_000
    assert max(len(line) for line in pic.split("\n")) < 1000


# -- the article ---------------------------------------------------------------------------
def test_golden_article(d223, golden) -> None:  # type: ignore[no-untyped-def]
    golden("affine_2x2x3.tex", render(d223, "latex"))


def test_article_contents(d223) -> None:  # type: ignore[no-untyped-def]
    tex = render(d223, "latex")
    assert tex.startswith("% Generated by symderiv")
    assert r"\documentclass[11pt,a4paper]{article}" in tex
    for needle in (
        r"\section{What is derived}",
        r"\section{Certificate}",
        r"\section{Where learners trip}",
        r"\section{Mathematical background}",
        "not itself a gradient vector",
        "denominator layout",
        "row order",
        r"\begin{tikzpicture}",
        r"\sdyes",
    ):
        assert needle in tex, needle
    assert tex.count(r"\subsection{") == len(d223.steps)
    assert tex.count(r"\begin{tikzpicture}") == 3  # one per Jacobian
    # Every matrix row on its own source line.
    for line in tex.split("\n"):
        assert line.count(r"\\") <= 1 or r"\begin{" not in line, line


def test_max_matrix_cols_is_set_to_the_widest_matrix() -> None:
    tex = render(derive(n=1, d=11, m=1), "latex")
    m = re.search(r"\\setcounter\{MaxMatrixCols\}\{(\d+)\}", tex)
    assert m is not None
    assert int(m.group(1)) == max(10, max_matrix_cols(tex)) == 11  # X is 1×11


@pytest.mark.latex
def test_fragment_for_jupyter_and_input(d223, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fragment = d223._repr_latex_()
    assert r"\documentclass" not in fragment and r"\begin{document}" not in fragment
    assert r"\begin{tikzpicture}" not in fragment  # no TikZ unless asked
    wrapper = (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb,graphicx,array,booktabs}\n"
        "\\usepackage[margin=2.5cm]{geometry}\n\\begin{document}\n"
        + fragment
        + "\n\\end{document}\n"
    )
    compile_tex(wrapper, tmp_path)


def test_unknown_or_bad_settings_are_refused(d223) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownSettingError):
        render_latex(d223, colour="red")
    with pytest.raises(UnknownSettingError):
        render_latex(d223, upstream="slash")
    with pytest.raises(UnknownSettingError):
        render_latex(d223, max_entries=0)


def test_display_names_reach_latex_only_when_validated() -> None:
    with pytest.raises(DisplayNameError):
        Config(names={"X": r"\input{/etc/hostname}"})
    d = derive(n=1, d=2, m=1, convention="column", names={"W": "Theta"})
    tex = render(d, "latex")
    assert r"\mathit{Theta}" in tex
    assert "a_{1,2}" in tex  # A's entries


def test_preamble_is_reproducible_and_uses_base_packages() -> None:
    pre = latex_preamble(max_matrix_cols=14)
    assert r"\pdftrailerid{}" in pre and r"\pdfinfoomitdate=1" in pre
    assert r"\setcounter{MaxMatrixCols}{14}" in pre
    for pkg in re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", pre):
        for name in pkg.split(","):
            assert name in {
                "amsmath",
                "amssymb",
                "graphicx",
                "booktabs",
                "array",
                "geometry",
                "tikz",
            }


# -- review: multi-letter names are one symbol -------------------------------------------
def test_multi_letter_matrix_names_are_one_symbol_in_latex_and_html() -> None:
    """dY and dLdZ are names, not products d·Y: \\mathit{dY} in TeX, one italic
    identifier in the web page's MathML."""
    import re

    from symderiv import derive
    from symderiv.notation import Sym
    from symderiv.render import render
    from symderiv.render.formula import formula_latex

    d = derive()
    assert formula_latex(Sym("dY"), d.config.letters) == r"\mathit{dY}"
    tex = render(d, "latex")
    assert re.search(r"(?<![\\{a-zA-Z])dY(?![a-zA-Z])", tex.split("texttt")[0]) is None
    html = render(d, "html")
    assert "<mi>𝑑𝑌</mi>" in html and "<mi>d</mi><mi>Y</mi>" not in html
    column = derive(convention="column")
    assert r"\mathit{dLdZ}" in render(column, "latex")
    assert "<mi>𝑑𝐿𝑑𝑍</mi>" in render(column, "html")


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_no_empty_subscript_anywhere(convention: str) -> None:
    """The other slicing writes ∂y/∂x₁,₁ with torch's lower-case y as a letter, not y_{}."""
    from symderiv.render.latex import render_latex

    tex = render_latex(derive(n=2, d=2, m=3, convention=convention, method="all"))
    assert "_{}" not in tex


@pytest.mark.parametrize("var", ["x", "w"])
def test_each_slice_shares_its_line_with_its_contraction(var: str) -> None:
    """The other slicing: ∂Y/∂v_kl and ∂L/∂v_kl on the same line, never split apart."""
    from symderiv.render.latex import render_latex

    tex = render_latex(derive(n=2, d=2, m=3))
    lines = re.findall(r"\\\[(.*?)\\\]", tex, flags=re.S)
    slices = [t for t in lines if rf"\dfrac{{\partial Y}}{{\partial {var}_" in t]
    assert slices
    for line in slices:
        ys = line.count(rf"\dfrac{{\partial Y}}{{\partial {var}_")
        assert ys == line.count(rf"\dfrac{{\partial L}}{{\partial {var}_")


def test_latex_never_hides_a_single_term_behind_dots() -> None:
    """At the page formats' display limit (6 terms) an entry of 7 terms is written whole
    (a ⋯ in place of one term is as wide as the term); one of 8 terms hides two."""
    seven = render(derive(n=1, d=6, m=1), "latex")
    eight = render(derive(n=1, d=7, m=1), "latex")
    assert r"+ \cdots" not in seven and r"x_{1,6} \, w_{6,1}" in seven
    assert r"+ \cdots" in eight


def test_a_long_column_of_names_is_never_transposed_twice() -> None:
    """vec(X) of a 6×8 X at --max-entries 40: the column drawn as a transposed row is too
    long for a line, comes back as a transposed column, and the column itself is shown
    (it printed ``\\end{bmatrix}^{T}^{T}``, which pdflatex stops on: Double superscript)."""
    tex = render_latex(derive(Config(n=6, d=8, m=3)), max_entries=40)
    assert "^{T}^{T}" not in tex
    assert "\\operatorname{vec}(X) =\n\\begin{bmatrix}\nx_{1,1} \\\\\n" in tex
