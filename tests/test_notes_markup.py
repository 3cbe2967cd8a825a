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
