"""The lecturer's review of 2026-12-03 (views, notes): each finding, in every format that
prints it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pageutil import FORMATS, out


# -- 1. the tensor view's pictures draw ∂Y/∂V, an N×M grid of blocks ∂y_ij/∂V --------------
@pytest.mark.parametrize("fmt", ["latex", "beamer", "html"])
def test_tensor_pictures_name_the_array_they_draw(fmt: str) -> None:
    text = out(fmt, method="tensor")
    if fmt == "html":  # MathML: its characters, tags dropped
        text = re.sub(r"<[^>]+>", "", text)
    else:
        text = text.replace("\\partial ", "∂").replace(" \\times ", "×")
    captions = re.findall(r"Sparsity of \$?(.*?)\$?, ", text)
    assert len(captions) == 3, captions
    assert captions == ["∂Y/∂X", "∂Y/∂W", "∂Y/∂b"]
    assert text.count("the 4-D array") == 2 and text.count("the 3-D array") == 1
    assert re.search(r"2×3\$? grid of blocks \$?∂y_?\{?ij\}?/∂X", text)


@pytest.mark.parametrize("fmt", ["markdown", "ipynb"])
def test_tensor_text_drawings_name_the_grid_of_blocks(fmt: str) -> None:
    text = out(fmt, method="tensor")
    legends = re.findall(r"Nonzero pattern.*", text)
    assert len(legends) == 3
    assert not any("Kronecker" in line for line in legends), legends
    assert all("grid of blocks" in line for line in legends), legends
    # the jacobian view's drawings are of Kronecker blocks, as before
    text = out(fmt, method="all")
    assert len(re.findall(r"Nonzero pattern .*Kronecker blocks", text)) == 3
    assert len(re.findall(r"Nonzero pattern of .*grid of blocks", text)) == 3


# -- 2. h is an index of the index view; everything after the layer is f ------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["index", "all"])
def test_h_is_only_an_index(fmt: str, method: str) -> None:
    text = out(fmt, method=method)
    if fmt == "html":
        text = re.sub(r"<[^>]+>", "", text)
    assert re.search(r"∂x_?\{?hk|∂xₕₖ|\\partial x_\{hk\}", text)  # h: the index
    # the function: L = f(y), J_f(y) (the Jacobian view's); h never names one
    assert bool(re.search(r"L ?= ?f\(y\)", text)) == (method == "all")
    assert not re.search(r"(?<![A-Za-z\\])h ?\(|J_\{?h\b|h ?∘|h ?\\circ|\$h\$", text)
    # and f is never an index: no subscript holds it
    assert not re.search(r"(?<!J)_\{[a-z]*f[a-z]*\}", text)


# -- 3. the intro and the remarks describe the view(s) shown -------------------------------
def _words_of(fmt: str, **kwargs: Any) -> str:
    """The page's words on one line (line breaks of the terminal and of TeX undone)."""
    return " ".join(out(fmt, width=200, **kwargs).split())


JACOBIAN_ROUTE = "write every matrix out, vectorize, compute each Jacobian"
VECTORS = "carried out with vectors and Jacobians"


@pytest.mark.parametrize("fmt", ["text", "latex", "markdown"])
@pytest.mark.parametrize("method", ["index", "tensor"])
def test_index_and_tensor_pages_do_not_promise_vectorization(
    fmt: str, method: str
) -> None:
    text = _words_of(fmt, method=method)
    assert JACOBIAN_ROUTE not in text and VECTORS not in text
    assert "The vectorization order matters" not in text
    assert f"The {method} view never vectorizes" in text
    assert "Why no framework builds the Jacobian" not in text
    route = {
        "index": "differentiate it with respect to one entry of the variable",
        "tensor": "contract it with the upstream derivatives over the two output",
    }[method]
    assert route in text


@pytest.mark.parametrize("fmt", ["text", "beamer"])
@pytest.mark.parametrize("method", ["index", "tensor"])
def test_the_background_says_the_view_needs_no_vectorization(
    fmt: str, method: str
) -> None:
    text = _words_of(fmt, method=method)
    assert (
        f"The {method} view keeps every index instead and needs no vectorization"
        in text
    )


@pytest.mark.parametrize("fmt", ["text", "latex"])
def test_all_describes_every_view(fmt: str) -> None:
    text = _words_of(fmt, method="all")
    for view in ("The Jacobian view", "The index view", "The tensor view"):
        assert view in text
    assert JACOBIAN_ROUTE in text and VECTORS in text
    assert "The vectorization order matters" in text
    assert "the index view computes each entry on its own" in text
    assert "in the tensor view contracting the array" in text


def test_jacobian_page_keeps_its_words() -> None:
    text = _words_of("text")
    assert "the way one does it on the board: " + JACOBIAN_ROUTE in text
    assert "never vectorizes" not in text and "index view" not in text


# -- 5. "1 entry", no "only" when every entry is nonzero ---------------------------------
@pytest.mark.parametrize(
    ("sizes", "want", "banned"),
    [
        ((1, 1, 1), "has 1×1 = 1 entry, which is nonzero,", "of which only"),
        ((1, 2, 3), "has 3×2 = 6 entries, all of them nonzero,", "of which only"),
        (
            (2, 2, 3),
            "has 6×4 = 24 entries, of which only 12 are nonzero,",
            "all of them",
        ),
    ],
)
def test_jacobian_size_in_good_english(
    sizes: tuple[int, int, int], want: str, banned: str
) -> None:
    n, d, m = sizes
    text = _words_of("text", n=n, d=d, m=m)
    assert want in text
    assert banned not in text and " 1 entries" not in text


# -- 4. ∂L/∂V reshaped and in closed form: one notation for the same matrix (terminal) ----
@pytest.mark.parametrize(
    "kwargs",
    [
        {"layout": "numerator"},
        {},
        {"convention": "torch"},
        {"n": 3, "d": 2, "m": 2},
        {"convention": "column", "layout": "numerator", "loss": "mse", "d": 3, "m": 2},
    ],
    ids=str,
)
def test_the_reshaped_result_and_its_closed_form_write_one_notation(
    kwargs: dict[str, Any],
) -> None:
    """Steps "Reshape into a matrix: ∂L/∂V" and "Closed form of ∂L/∂V" show the same
    matrix: both in ȳ or both with ∂L/∂y (numerator at 80 columns mixed them)."""
    text = out("text", width=80, **kwargs)
    sections = re.split(r"\n(?=The derivative with respect to )", text)[1:]
    assert len(sections) == 3
    for section in sections:
        steps = re.split(r"\n(?=Step \d+ · )", section)
        same = [s for s in steps if re.match(r"Step \d+ · (Reshape|Closed form)", s)]
        assert len(same) == 2
        spelled = set()
        for step in same:
            matrices = [ln for ln in step.splitlines() if re.search(r"[⎡⎢⎣\[]", ln)]
            if any(re.search("ȳ|z̄", ln) for ln in matrices):
                spelled.add("bar")
            if any(re.search(r"∂L/∂[yz][₀-₉]", ln) for ln in matrices):
                spelled.add("fraction")
        assert len(spelled) <= 1, section


# -- size names given with --names: the intro and the arrays' shapes use them ------------
@pytest.mark.parametrize("method", ["jacobian", "all"])
def test_renamed_sizes_in_the_intro_and_the_arrays(method: str) -> None:
    text = _words_of("text", method=method, names="D=d_in,M=d_out")
    assert "X ∈ ℝ^(N×d_in) = ℝ^(2×2)" in text and "ℝ^(N×D)" not in text
    if method == "all":
        assert "an N×d_out = 2×3 grid of blocks" in text


# -- 6. the prose counts entries as the shape lines do --------------------------------------
@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_prose_sizes_agree_with_the_shape_lines(convention: str) -> None:
    text = _words_of("text", convention=convention)
    (y_count,) = set(re.findall(r"shapes: vec\([yYzZ]\) 6×1 \(\((.+?)\)×1\)", text))
    rows = set(re.findall(r"multiplies the (.+?) row J_f", text))
    assert rows == {f"1×({y_count})"}, rows
    maps = re.findall(r"↦ vec\(\w\) from ℝ\^\((.+?)\) to ℝ\^\((.+?)\),", text)
    counts = re.findall(r"shapes: vec\((\w)\) \d+×1 \(\(?(.+?)\)?×1\)", text)
    assert len(maps) == 3
    assert [to for _, to in maps] == [y_count] * 3
    domains = [count for var, count in counts if var not in "yYzZ"]
    assert [frm for frm, _ in maps] == domains


def test_the_row_is_1_by_n_m_in_latex() -> None:
    text = out("latex")
    assert "the $1 \\times (N M)$ row" in text
    assert "N \\cdot M" not in text


# -- 7. "with respect to", never "the derivative(s) of ... by ..." -------------------------
#: "multiplies the row of upstream derivatives by the Jacobian" is a product, not this
BY = re.compile(
    r"derivatives? (?:of [^.:;]*? )?by (?!entry|term|row|column|the Jacobian)"
)


@pytest.mark.parametrize("method", ["all", "index"])
def test_derivatives_are_taken_with_respect_to(method: str) -> None:
    text = _words_of("text", method=method)
    if method == "all":
        assert "output k differentiated with respect to each entry of the input" in text
    assert "derivative of one entry with respect to another is 1" in text
    assert not BY.search(text), BY.search(text)


def test_sheets_say_with_respect_to() -> None:
    from symderiv.exercise import make_sheet
    from symderiv.render.sheet import sheet_markdown

    text = " ".join(sheet_markdown(make_sheet(seed=3), answers=True).split())
    assert "Exercise 1: the derivative with respect to the input" in text
    assert not BY.search(text), BY.search(text)


# -- 8. the size example of a network fits its loss: classes only for softmax-ce ----------
@pytest.mark.parametrize(
    ("loss", "word"),
    [("mse", "outputs"), ("sum", "outputs"), ("softmax-ce", "classes")],
)
def test_the_size_example_fits_the_loss(loss: str, word: str) -> None:
    from click.testing import CliRunner

    from symderiv.cli import cli

    args = ["derive", "--net", "affine:3,tanh,affine:2", "--loss", loss]
    result = CliRunner().invoke(cli, [*args, "--format", "text"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"a hidden width of 256 and 10 {word}," in text
    assert ("classes" in text) == (loss == "softmax-ce")
