"""The lecturer's review of the single-layer pages: each finding, in every format that
prints the block (text, latex, beamer, markdown, ipynb, html)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pageutil import FORMATS, out

TEX_FORMATS = ["latex", "beamer", "markdown", "ipynb"]


# -- 2. the other slicing: ∂Y/∂x₁,₁ and ∂L/∂x₁,₁ are not 1×1 matrices ------------------------
def test_slices_are_named_as_scalars_in_the_terminal() -> None:
    text = out("text", n=2, d=2, m=3)
    assert "∂Y/∂x₁,₁ = " in text
    assert "[∂Y/∂x" not in text and "[∂L/∂x" not in text
    assert not re.search(r"∂L/∂x₁,₁ = \[.*\] \(1×1\)", text)
    assert "∂L/∂x₁,₁ = ∂L/∂y₁,₁⋅w₁,₁" in text


@pytest.mark.parametrize("fmt", TEX_FORMATS)
def test_slices_are_named_as_scalars_in_tex(fmt: str) -> None:
    text = out(fmt, n=2, d=2, m=3)
    found = re.findall(
        r"(\\begin\{bmatrix\}\s*)?\\d?frac\{\\partial Y\}\{\\partial x_\{1,1\}\}", text
    )
    assert found, fmt
    assert all(not lead for lead in found), fmt  # not inside a 1×1 bmatrix
    assert not re.search(
        r"\\begin\{bmatrix\}\s*\\d?frac\{\\partial L\}\{\\partial x_\{1,1\}\}", text
    )


def test_slices_are_named_as_scalars_in_html() -> None:
    text = out("html", n=2, d=2, m=3)
    frac = (
        r"(<mstyle[^>]*>)?<mfrac><mrow><mo>∂</mo><mi>{}</mi></mrow>"
        r"<mrow><mo>∂</mo><msub><mi>x</mi>"
    )
    # each display starts with the fraction ∂Y/∂x₁,₁, not with a bracket around it
    assert (
        len(re.findall(r'<math display="block"><mrow>' + frac.format("Y"), text)) >= 4
    )
    for letter in "YL":
        assert not re.search(
            r"<mo>\[</mo><mtable><mtr><mtd>" + frac.format(letter), text
        )


# -- 3. slices left out are counted ------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_slices_left_out_are_counted(fmt: str) -> None:
    text = re.sub(r"\s+", " ", out(fmt, n=2, d=2, m=3))
    if fmt == "beamer":
        assert "the first 4 of 6 shown, all checked" in text
    else:
        assert "the first 4 of 6 slices shown, all 6 checked" in text
    # X has 4 entries: all shown, no count
    assert "of 4 slices shown" not in text and "of 4 shown" not in text


def test_slices_left_out_are_counted_larger() -> None:
    text = re.sub(r"\s+", " ", out("text", width=160, n=2, d=3, m=4))
    assert "the first 4 of 12 slices shown, all 12 checked" in text


# -- 4. the function view says what it shows -----------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_function_view_sentence_matches_what_is_shown(fmt: str) -> None:
    text = re.sub(r"\s+", " ", out(fmt, n=2, d=2, m=3))
    text = re.sub(r'<span class="nowrap">|</span>', "", text)  # html: x, kept together
    # X (6×4): the symbols are shown; W (6×6): only the values, and the text says so
    if fmt == "beamer":
        assert "its Jacobian as symbols, then evaluated" in text
        assert "its Jacobian, evaluated" in text
    else:
        assert text.count("is first the matrix of symbols") == 2  # X and b
        assert text.count(", shown evaluated.") == 1  # W: 6×6 symbols would not fit


# -- 6. Step 5: vec(X) first, then the Jacobian once: symbols = values ----------------------
def _jacobian_step(text: str, start: str, end: str) -> str:
    a = text.index(start)
    return text[a : text.index(end, a)]


def test_jacobian_step_order_in_the_terminal() -> None:
    step = _jacobian_step(out("text", n=2, d=2, m=3), "Step 5 ·", "Step 6 ·")
    assert step.index("vec(X) = ") < step.index("∂y₁,₁/∂x₁,₁")
    assert step.count("⎡w₁,₁  w₂,₁") == 1  # the values once, with the block rules
    assert "w₁,₁  w₂,₁ │" in step


@pytest.mark.parametrize("fmt", ["latex", "markdown", "ipynb"])
def test_jacobian_step_order_in_tex(fmt: str) -> None:
    text = out(fmt, n=2, d=2, m=3)
    step = _jacobian_step(
        text, "is first the matrix of symbols", "Nonzero entries: 12 of 24"
    )
    assert step.index(r"\operatorname{vec}(X) =") < step.index(
        r"\dfrac{\partial y_{1,1}}{\partial x_{1,1}}"
    )
    assert len(re.findall(r"(^|\n)w_\{1,1\} & w_\{2,1\}", step)) == 1


# -- 1. numerator layout: dY, shaped like Y, is (∂L/∂Y)ᵀ -------------------------------------
@pytest.mark.parametrize("loss", ["generic", "mse"])
def test_numerator_upstream_is_the_transpose_in_the_terminal(loss: str) -> None:
    text = out("text", layout="numerator", loss=loss, n=2, d=2, m=3)
    step = _jacobian_step(text, "Step 3 ·", "Step 4 ·")
    assert "dY = (∂L/∂Y)ᵀ = " in step
    assert "dY = ∂L/∂Y" not in step
    assert (
        "∂L/∂Y 3×2" not in step
    )  # the ledger no longer pairs a 3×2 with the 2×3 drawn


@pytest.mark.parametrize("fmt", TEX_FORMATS)
def test_numerator_upstream_is_the_transpose_in_tex(fmt: str) -> None:
    text = out(fmt, layout="numerator", n=2, d=2, m=3)
    lhs = r"(\\mathit\{dY\}|dY)\s*&?=\s*"
    assert re.search(
        lhs + r"\\left\(\\frac\{\\partial L\}\{\\partial Y\}\\right\)\^\{T\}", text
    )
    assert not re.search(
        lhs + r"\\frac\{\\partial L\}\{\\partial Y\}\s*&?=\s*\\begin", text
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_denominator_upstream_is_unchanged(fmt: str) -> None:
    text = out(fmt, n=2, d=2, m=3)
    assert "(∂L/∂Y)ᵀ" not in text and r"\right)^{T} =" not in text.split("Step 4")[0]


def test_numerator_upstream_is_the_transpose_in_html() -> None:
    text = out("html", layout="numerator", n=2, d=2, m=3)
    dy = "(<mi>d</mi><mi>Y</mi>|<mi>𝑑𝑌</mi>)<mo>=</mo>"
    assert re.search(dy + r"<msup><mrow><mo[^>]*>\(</mo><mfrac>", text)
    assert not re.search(
        dy + "<mfrac><mrow><mo>∂</mo><mi>L</mi></mrow><mrow><mo>∂</mo><mi>Y</mi>", text
    )


# -- 5. the tensor view: no 2-D Jacobian shape for the 4-D array -----------------------------
def test_tensor_shapes_describe_the_tensor_in_the_terminal() -> None:
    text = out("text", method="tensor", n=2, d=2, m=3)
    for var, dims in (("X", "N×M×N×D = 2×3×2×2"), ("W", "N×M×D×M = 2×3×2×3")):
        step = _jacobian_step(text, f"∂Y/∂{var} as a", "Step ")
        assert f"shapes: ∂Y/∂{var} " not in step  # the Jacobian's (N·M)×(N·D) was here
        assert "((N·M)×" not in step
        assert dims in step.replace("\n", " ")
        assert "N×M = 2×3 grid of blocks" in step.replace("\n", " ")
        assert "∂yᵢⱼ/∂" + var in step.replace("\n", " ")


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_tensor_ledger_has_no_jacobian_shape(fmt: str) -> None:
    text = out(fmt, method="tensor", n=2, d=2, m=3)
    text = text.split("Where learners trip")[0]  # the remarks speak of the Jacobian
    for rows, cols in ((6, 4), (6, 6)):
        assert f"{rows} \\times {cols}" not in text
        assert f"<mn>{rows}</mn><mo>×</mo><mn>{cols}</mn>" not in text
    assert "grid of blocks" in text


# -- 8. the index view's b and the 0-based entry written out ----------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_index_note_for_b_differentiates_no_sum(fmt: str) -> None:
    text = re.sub(r"\s+", " ", out(fmt, method="index", n=2, d=2, m=3))
    # X and W: a sum differentiated term by term; b: one bias entry per output
    assert text.count("differentiates the sum term by term") == (
        0 if fmt == "beamer" and "term by term" not in text else 2
    )
    assert "contains exactly one bias entry" in text or fmt == "beamer"


@pytest.mark.parametrize("fmt", ["text", "latex", "markdown", "html"])
def test_zero_based_entry_is_the_first(fmt: str) -> None:
    text = re.sub(r"\s+", " ", out(fmt, index_base=0, n=2, d=2, m=3))
    assert "Entry 1 written out" not in text and "column 1 of" not in text
    assert "The first entry written out" in text and "the first column of" in text
    one = re.sub(r"\s+", " ", out(fmt, n=2, d=2, m=3))
    assert "Entry 1 written out" in one


# -- 9. small prose -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_one_sample_has_no_column_of_one_ones(fmt: str) -> None:
    text = re.sub(r"\s+", " ", out(fmt, n=1, d=2, m=3))
    assert "a column of 1 ones" not in text and "a column of 1 one" not in text


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_wx_source_and_dz(fmt: str) -> None:
    text = re.sub(r"\s+", " ", out(fmt, convention="wx", n=2, d=2, m=3))
    assert "(samples as columns)" not in text  # no parentheses inside the header's
    assert "deeplearning.ai's course, samples as columns" in text
    assert "is the derivative of one sample's" not in text
    assert "un-averaged derivative of the batch" in text


def test_wx_source_names_this_page_letters() -> None:
    text = re.sub(r"\s+", " ", out("text", convention="wx", n=2, d=2, m=3))
    assert "its Z = W·A + b is Y = W·X + b·1_Nᵀ here" in text


@pytest.mark.parametrize("loss", ["sum", "mse", "softmax-ce"])
def test_terminal_loss_maths_in_unicode(loss: str) -> None:
    text = out("text", loss=loss, n=2, d=2, m=3)
    step = _jacobian_step(text, "Step 3 ·", "Step 4 ·")
    assert not re.search(r"[A-Za-z]_[a-z]", step), step  # Σ_ij, y_ij, t_i, p_ij
    assert " - " not in step  # the minus sign, not a hyphen, inside the matrices
    if loss != "sum":
        assert " − t₁,₁" in step


@pytest.mark.parametrize("fmt", TEX_FORMATS)
@pytest.mark.parametrize("loss", ["sum", "mse", "softmax-ce"])
def test_tex_loss_maths(fmt: str, loss: str) -> None:
    text = out(fmt, loss=loss, n=2, d=2, m=3)
    wanted = {  # Step 3's display, written in TeX, not guessed from plain text
        "sum": r"L = \sum_{ij} y_{ij}",
        "mse": r"\frac{1}{2\cdot 2} \sum_{i} \lVert y_{i} - t_{i} \rVert^{2}",
        "softmax-ce": r"p_{ij} = \exp(y_{ij}) \big/ \sum_{k} \exp(y_{ik})",
    }[loss]
    assert wanted in text


# -- 7. the compact upstream notation: any letter, defined only where used ---------------------
@pytest.mark.parametrize("kwargs", [{"convention": "column"}, {"names": "Y=Z"}])
def test_bar_notation_for_any_letter_before_eliding(kwargs: dict[str, Any]) -> None:
    text = out("text", width=80, n=2, d=2, m=3, **kwargs)
    body = text.split("Where learners trip")[0]
    assert "⋯" not in body  # the 3-term sums fit once written z̄
    assert "z̄₁,₁" in body
    assert "Inside the large matrices below" in text


def test_bar_notation_defined_only_when_used() -> None:
    wide = out("text", width=160, n=2, d=2, m=3)
    assert "ȳ" not in wide and "Inside the large matrices below" not in wide
    narrow = out("text", width=80, n=2, d=2, m=3)
    assert "ȳ₁,₁" in narrow and "Inside the large matrices below" in narrow


def test_bar_notation_defined_when_requested() -> None:
    text = out("text", width=160, n=2, d=2, m=3, upstream="bar")
    # ȳ in every matrix, as asked: not "inside the large matrices below ... compactly"
    assert "every upstream derivative is written in the adjoint notation" in text
    assert "ȳ" in text


def test_numerator_layout_defines_the_bar_it_uses() -> None:
    text = out(
        "text",
        width=80,
        convention="column",
        layout="numerator",
        loss="mse",
        n=2,
        d=3,
        m=2,
    )
    assert "z̄₁,₁" in text and "Inside the large matrices below" in text
