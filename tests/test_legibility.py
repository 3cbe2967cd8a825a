"""Projected slides and printed pages stay legible (a lecturer's review): where a matrix
does not fit at a readable size, symderiv elides rows and columns (display only) or sets
side-by-side equations one under the other, instead of shrinking the type.

The scale of every display is measured in the compiled PDF: ``\\sdfit`` is instrumented to
write each display's natural and fitted width to pdflatex's log.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symderiv.algebra import Poly, PolyMatrix
from symderiv.conventions import Letters
from symderiv.derive import derive
from symderiv.net import derive_net
from symderiv.net.commands import render_net
from symderiv.render import render
from symderiv.render.latex import MatrixStyle, matrix_piece

#: The smallest scale of any display: 11 pt type at 8.8 pt, its subscripts at 6 pt (the
#: review found 62-68 %, subscripts at 4-5 pt).
LEGIBLE = 0.8

_NATURAL = (
    r"\sbox{\sd@box}{$\displaystyle #2$}%",
    r"\sbox{\sd@box}{$\displaystyle #2$}\typeout{SDNAT \the\wd\sd@box}%",
)


def _scales(tex: str, folder: Path) -> list[tuple[int, float]]:
    """(frame or page, scale) of every display \\sdfit set, read from pdflatex's log."""
    from texutil import compile_tex

    counter = r"\c@framenumber" if "{beamer}" in tex else r"\c@page"
    fitted = (
        r"\usebox{\sd@box}}%",
        rf"\typeout{{SDFIT \the{counter}\space\the\wd\sd@box}}\usebox{{\sd@box}}}}%",
    )
    for old, new in (_NATURAL, fitted):
        assert old in tex
        tex = tex.replace(old, new)
    log = compile_tex(tex, folder, name="doc").with_suffix(".log")
    text = log.read_text(encoding="latin-1")
    natural = [float(w) for w in re.findall(r"SDNAT ([\d.]+)pt", text)]
    shown = re.findall(r"SDFIT (\d+) ([\d.]+)pt", text)
    assert natural and len(natural) == len(shown)
    return [
        (int(at), float(width) / nat if nat else 1.0)
        for nat, (at, width) in zip(natural, shown, strict=True)
    ]


def _small(scales: list[tuple[int, float]]) -> list[tuple[int, float]]:
    return [(at, round(s, 2)) for at, s in scales if s < LEGIBLE]


#: A display that shows its matrices whole may be set down to this scale before rows are
#: elided: the default layer's 6×4 Jacobian of symbols stays whole at 72 %.
WHOLE = 0.7


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.parametrize(
    ("options", "floor"),
    [
        (
            {},
            WHOLE,
        ),  # Step 9, the W Jacobian beside vec(W): 75 %, on a half-empty slide
        ({"convention": "torch"}, WHOLE),  # (X ⊗ I)K beside vec(W): 72 %
        ({"n": 12, "d": 11, "m": 10}, LEGIBLE),  # X and W side by side: 68 %; J_X: 65 %
        ({"n": 1, "d": 1, "m": 1}, LEGIBLE),
    ],
)
def test_slides_never_shrink_a_display_below_legible(
    tmp_path: Path, options: dict[str, object], floor: float
) -> None:
    tex = render(derive(**options), "beamer")  # type: ignore[arg-type]
    scales = _scales(tex, tmp_path)
    assert [(at, round(s, 2)) for at, s in scales if s < floor] == []


@pytest.mark.parametrize("convention", ["xw", "torch", "column"])
def test_the_default_layer_s_slides_show_every_matrix_whole(convention: str) -> None:
    """Eliding for a larger type cut the 6×4 Jacobian of symbols to five rows, hiding
    y₂,₁ and y₂,₂, where its block structure shows; at the default sizes every matrix
    fits whole at a legible size."""
    tex = render(derive(convention=convention), "beamer")
    assert "\\vdots" not in tex and "\\cdots" not in tex


@pytest.mark.slow
@pytest.mark.latex
def test_article_slices_beside_their_sums_stay_legible(tmp_path: Path) -> None:
    """12×11×10: four 12×10 slices ∂Y/∂x_kl beside their sums were set at 62 %."""
    tex = render(derive(n=12, d=11, m=10), "latex")
    assert _small(_scales(tex, tmp_path)) == []


@pytest.mark.slow
@pytest.mark.latex
def test_network_slides_stay_legible(tmp_path: Path) -> None:
    """The five closed forms of "What is derived" were one line at 59 %."""
    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce")
    tex = render_net(d, "beamer")
    assert _small(_scales(tex, tmp_path)) == []


def test_network_slides_write_the_forward_pass_in_full() -> None:
    """Z₁ = X W₁ + 1 b₁ entry by entry: each entry with all its terms, bias included
    (the slides showed x₁,₁ w⁽¹⁾₁,₁ + ⋯ and Z₂'s a⁽¹⁾₁,₁ w⁽²⁾₁,₁ + ⋯ + b⁽²⁾₁)."""
    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce")
    tex = render_net(d, "beamer")
    # N = 2 and widths 2, 3, 2: every matrix and entry fits whole, none is elided
    assert "\\cdots" not in tex
    frames = re.findall(
        r"\\begin\{frame\}\[t\]\{([^\n]*entry by entry)\}\n(.*?)"
        r"\\end\{frame\}",
        tex,
        re.S,
    )
    assert len(frames) == 2
    for (title, body), layer, inputs in zip(frames, (1, 2), (2, 3), strict=True):
        rows = body.split("\\begin{bmatrix}")[1].split("\\end{bmatrix}")[0]
        assert "\\cdots" not in rows, title
        for entry in rows.replace("\\\\", "&").split("&"):
            assert entry.count(f"w^{{({layer})}}") == inputs, (title, entry)
            assert f"b^{{({layer})}}" in entry, (title, entry)


def test_an_entry_of_a_few_terms_keeps_them_all_when_the_matrix_is_too_wide() -> None:
    """x·w + x·w + x·w + b in three columns, too wide for the budget: no column to
    elide, so the terms stay (\\sdfit scales a little) instead of x·w + ⋯."""
    x = [[Poly.atom(f"x_{i}_{k}") for k in (1, 2, 3)] for i in (1, 2)]
    w = [[Poly.atom(f"w_{k}_{j}") for j in (1, 2, 3)] for k in (1, 2, 3)]
    entries = {
        (i, j): Poly.dot((x[i][k], w[k][j]) for k in range(3)) + Poly.atom(f"b_{j + 1}")
        for i in range(2)
        for j in range(3)
    }
    y = PolyMatrix(2, 3, entries)
    piece = matrix_piece(y, Letters(), MatrixStyle(budget=20.0))
    assert "\\cdots" not in piece.tex
    assert piece.tex.count("b_{") == 6
    assert piece.tex.count("w_{") == 18


@pytest.mark.slow
@pytest.mark.latex
def test_network_chain_rule_frames_elide_rather_than_shrink(tmp_path: Path) -> None:
    """affine:5,tanh,affine:4 at N = 4, D = 6: the chain rule for A₁ (a row of 16 upstream
    entries, shown as a column of eight, times a 16×20 Jacobian) was set at 70 %."""
    d = derive_net(net="affine:5,tanh,affine:4", n=4, d=6)
    tex = render_net(d, "beamer")
    titles = ["title", *re.findall(r"\\begin\{frame\}(?:\[[^\]]*\])?\{([^\n]*)\}", tex)]
    scales = _scales(tex, tmp_path)
    chain = [(at, s) for at, s in scales if "Chain rule" in titles[at - 1]]
    assert chain
    # the factored tanh entries da⋅(1 − a²) are a little wider: 0.797 on one frame
    assert [(at, round(s, 3)) for at, s in chain if s < WHOLE + 0.05] == []
