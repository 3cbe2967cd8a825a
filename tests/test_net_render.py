"""Network printers: the terminal text, Markdown, and LaTeX/Beamer that compile cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from symderiv.net import derive_net
from symderiv.net.render import prose_latex, render_net
from tests.texutil import compile_tex

HEADLINE = dict(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)


def test_text_shows_every_layer_and_both_softmax_routes() -> None:
    text = render_net(derive_net(**HEADLINE), "text")
    for piece in (
        "Jacobian of the softmax",
        "Route 1: the chain rule",
        "Route 2: fused",
        "(P − T)/N",
        "∂vec A1/∂vec Z1 = diag(vec R1)",
        "dZ1 = dA1 ⊙ R1",
        "dW1 = Xᵀ·dZ1",
        "dW1 = Xᵀ·((dZ2·W2ᵀ) ⊙ R1)",
        "Backpropagation through the network",
        "every check passed",
    ):
        assert piece in text, piece
    titles = [line for line in text.splitlines() if line.startswith("Step ")]
    assert [int(t.split()[1]) for t in titles] == list(range(1, len(titles) + 1))


def test_text_is_deterministic() -> None:
    assert render_net(derive_net(**HEADLINE), "text") == render_net(
        derive_net(**HEADLINE), "text"
    )


def test_markdown_keeps_maths_in_blocks() -> None:
    md = render_net(derive_net(**HEADLINE), "markdown")
    assert md.count("$$") % 2 == 0 and "\\odot" in md


@pytest.mark.parametrize("text", ["a1_ij²", "Σ_j t_ij = 1", "p_ij⁻¹ 50% & $x > 0"])
def test_prose_latex_never_doubles_dollars_or_superscripts(text: str) -> None:
    out = prose_latex(text)
    assert "$$" not in out and "^}^" not in out


@pytest.mark.latex
@pytest.mark.parametrize("fmt", ["latex", "beamer"])
@pytest.mark.parametrize(
    "options",
    [
        HEADLINE,
        dict(
            net="affine:2,tanh,affine:3,sigmoid",
            loss="mse",
            n=3,
            d=1,
            convention="column",
            vec="col",
            layout="numerator",
        ),
        dict(
            net="affine:5,tanh,affine:4,relu,affine:3",
            loss="sum",
            n=4,
            d=3,
            convention="torch",
        ),
    ],
)
def test_latex_compiles_without_overfull_boxes(
    fmt: str, options: dict, tmp_path: Path
) -> None:
    compile_tex(render_net(derive_net(**options), fmt, max_entries=12), tmp_path)


def test_golden_text_of_the_headline_network(golden) -> None:  # type: ignore[no-untyped-def]
    golden(
        "net_affine3_relu_affine2_softmax_ce.txt",
        render_net(derive_net(**HEADLINE), "text"),
    )
