"""The markup of :func:`symderiv.notes.prose`: $maths$, {name}, escapes, and its errors."""

from __future__ import annotations

import pytest

from symderiv.notes import Code, F, M, prose, sym


def test_maths_names_and_plain_text() -> None:
    dl = M("∂L/∂W", r"\partial L/\partial W")
    assert prose("Row $k$ of {dl} holds {W}.", dl=dl, W=sym("W")) == (
        "Row ",
        M("k"),
        " of ",
        dl,
        " holds ",
        sym("W"),
        ".",
    )


def test_a_tuple_is_spliced_and_text_merged() -> None:
    code = Code("reshape(-1)")
    inner = prose("rows stacked ({code})", code=code)
    assert prose("here {order}.", order=inner) == ("here rows stacked (", code, ").")
    # adjacent text joins, empty text and empty tuples leave nothing
    assert prose("a{s}b{e}c", s="-", e=()) == ("a-bc",)
    assert prose("{f}", f=F(sym("Y").node)) == (sym("Y"),)
    assert prose("") == ()


def test_escapes() -> None:
    assert prose("$$5 and {{x}} and $a + b$") == ("$5 and {x} and ", M("a + b"))
    assert prose("{{{x}}}", x=M("x")) == ("{", M("x"), "}")


@pytest.mark.parametrize(
    ("text", "keywords", "message"),
    [
        ("an unclosed $x", {}, "lone '\\$'"),
        ("a lone } brace", {}, "lone '}'"),
        ("a lone { brace", {}, "lone '{'"),
        ("{not a name}", {}, "lone '{'"),
        ("an unknown {name}", {}, "no keyword for {name}"),
        ("nothing to insert", {"x": "1"}, r"unused keywords \['x'\]"),
    ],
)
def test_malformed_markup_raises(
    text: str, keywords: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        prose(text, **keywords)


# -- sentences of the derivation (the lecturer's review) ------------------------------------
def _text(**config: object) -> str:
    from symderiv import derive
    from symderiv.render import render

    return render(derive(**config), "text")  # type: ignore[arg-type]


def test_function_view_names_vectors_not_letters() -> None:
    """torch's x and y are the batch matrices: the map is vec(x) ↦ vec(y), never a bare
    "y: … x ↦", where y would be the map and x a vector."""
    text = " ".join(_text(convention="torch").split())
    assert "the map vec(x) ↦ vec(y) from ℝ^(N·D) to ℝ^(N·M)" in text
    assert "the map vec(W) ↦ vec(y)" in text and "the map vec(b) ↦ vec(y)" in text
    assert "y: ℝ" not in text and "x ↦" not in text and "w ↦" not in text
    # the Jacobian the chain rule writes J_y(x) is named where the map is introduced
    assert text.index("Its Jacobian J_y(x)") < text.index("J_L(x) = J_f(y)·J_y(x)")


@pytest.mark.parametrize("loss", ["generic", "mse", "sum", "softmax-ce"])
def test_h_is_defined_before_the_chain_rule_uses_it(loss: str) -> None:
    text = " ".join(_text(loss=loss).split())
    defined = text.index("Write L = f(y), with f everything after this layer")
    assert defined < text.index("J_f(y)·J_y(x)")
    assert defined < text.index("J_f")


#: Wording the page retired (the lecturer's review): the map named "y: … v ↦ vec(Y)" and
#: h called "the rest of the network". The page says "the map vec(v) ↦ vec(y) from … to
#: …" and "h everything after this layer".
RETIRED = ("y: ℝ", "v ↦ vec(Y)", "x ↦ vec(Y)", "rest of the network")


def test_no_copy_of_the_retired_wording_in_the_package_or_readme() -> None:
    """Docstrings and the README describe the page as it reads now: a stale copy of an old
    sentence misleads whoever reads the code or the README next to the page."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [*sorted((root / "symderiv").rglob("*.py")), root / "README.md"]
    stale = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(phrase in line for phrase in RETIRED)
    ]
    assert stale == []
