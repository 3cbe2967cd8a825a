"""The terminal cells printed without sympy are exactly sympy's pretty output.

``symderiv.render.pretty`` rebuilds the few layouts sympy's Unicode pretty printer gives
a polynomial entry (a sum of products, a sum over a denominator, one term over a
denominator) so that the terminal view needs no sympy import. Here it is compared with
``sympy.pretty`` itself on many random polynomials (hypothesis), on every entry of
derivations in each convention and loss, and through the elision of long entries; and a
fresh interpreter shows that ``derive`` to a pipe does not import sympy at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from typing import Any

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from symderiv import Config, derive
from symderiv.algebra import Coeff, Monomial, Poly, PolyMatrix, _normal
from symderiv.conventions import Letters
from symderiv.render.names import unicode_name, unicode_symbol
from symderiv.render.pretty import _NARROW, narrow, pretty_poly, text_width
from symderiv.render.terminal import cell_text


def sympy_pretty(poly: Poly, letters: Letters) -> str:
    """The reference: sympy's pretty printer on the unevaluated display expression."""
    expr = poly.to_display(lambda a: unicode_symbol(a, letters))
    return str(sp.pretty(expr, use_unicode=True, wrap_line=False, order="none"))


def sympy_cell(poly: Poly, letters: Letters, max_terms: int) -> str:
    """The terminal cell as it was printed before (sympy for every non-trivial entry)."""
    if poly.is_atom():
        return unicode_name(next(iter(poly.terms))[0], letters)
    value = poly.constant()
    if value is not None and (
        isinstance(value, int) or Fraction(value).denominator == 1
    ):
        return str(value)
    if len(poly) - max_terms >= 2:  # elided only where it hides two terms or more
        items = list(poly.terms.items())
        left = sympy_pretty(Poly(dict(items[: max(max_terms - 1, 1)])), letters)
        if max_terms <= 1 or "\n" in left:
            return f"{left} + ⋯"
        right = sympy_pretty(Poly(dict(items[-1:])), letters)
        sign = " - " if right.startswith("-") else " + "
        return f"{left} + ⋯{sign}{right.lstrip('-')}"
    return sympy_pretty(poly, letters)


# -- strategies ---------------------------------------------------------------------------
_ROLES = {"X": 2, "W": 2, "b": 1, "Y": 2, "dY": 2, "T": 2}
_PREFIX = {"X": "x", "W": "w", "b": "b", "Y": "y", "dY": "dy", "T": "t"}


@st.composite
def atoms(draw: st.DrawFn) -> str:
    role = draw(st.sampled_from(sorted(_ROLES)))
    index = draw(
        st.lists(st.integers(1, 130), min_size=_ROLES[role], max_size=_ROLES[role])
    )
    return "_".join([_PREFIX[role], *map(str, index)])


monomials = st.lists(atoms(), min_size=0, max_size=3).map(tuple)
nonzero_ints = st.integers(-40, 40).filter(bool) | st.sampled_from([1, 1, 1, -1, -1])
big_ints = st.integers(-(10**12), 10**12).filter(bool)
fractions = st.builds(Fraction, st.integers(-30, 30).filter(bool), st.integers(1, 30))
coefficients = nonzero_ints | big_ints | fractions


@st.composite
def polys(draw: st.DrawFn, coeffs: st.SearchStrategy[Coeff] = coefficients) -> Poly:
    terms: dict[Monomial, Coeff] = {}
    for mono in draw(st.lists(monomials, min_size=0, max_size=7, unique=True)):
        terms[mono] = _normal(draw(coeffs))
    return Poly(terms)


#: Display letters as --names accepts them: a letter, then letters or digits.
_letters = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,4}", fullmatch=True)


@st.composite
def letter_sets(draw: st.DrawFn) -> Letters:
    base = draw(st.sampled_from([Letters(), Letters("A", "W", "b", "Z", "dLdZ")]))
    if not draw(st.booleans()):
        return base
    return Letters(
        X=draw(_letters),
        W=draw(_letters),
        b=draw(_letters),
        Y=draw(_letters),
        dY=draw(_letters),
        T=draw(_letters),
    )


# -- the printer against sympy ------------------------------------------------------------
@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(polys(), letter_sets())
def test_random_polynomials_print_as_sympy_prints_them(
    poly: Poly, letters: Letters
) -> None:
    text = pretty_poly(poly, lambda a: unicode_name(a, letters))
    expected = sympy_pretty(poly, letters)
    if text is None:
        # Only a constant fraction with two-digit numerator and denominator is left out.
        value = poly.constant()
        assert value is not None and abs(Fraction(value).numerator) >= 10, expected
        return
    assert text == expected


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(polys(nonzero_ints), letter_sets())
def test_integer_polynomials_never_need_sympy(poly: Poly, letters: Letters) -> None:
    text = pretty_poly(poly, lambda a: unicode_name(a, letters))
    assert text is not None
    assert text == sympy_pretty(poly, letters)


@settings(max_examples=300, deadline=None)
@given(polys(), letter_sets(), st.integers(1, 6))
def test_cells_with_elided_terms_match_sympy(
    poly: Poly, letters: Letters, max_terms: int
) -> None:
    # the terminal writes sympy's hyphen as the minus sign −
    expected = sympy_cell(poly, letters, max_terms).replace("-", "−")
    assert cell_text(poly, letters, max_terms) == expected


@settings(max_examples=200, deadline=None)
@given(
    polys(),
    st.sampled_from(["α", "x_", "x^", "xhat", "x̃", "θ1", "a\u0301"]),
)
def test_names_sympy_would_restyle_are_left_to_sympy(poly: Poly, odd: str) -> None:
    """Greek letters, sub/superscript marks, combining accents: None or sympy's text."""

    def name(atom: str) -> str:
        return f"{odd}{unicode_name(atom, Letters())}"

    def symbol(atom: str) -> Any:
        return sp.Symbol(name(atom))

    text = pretty_poly(poly, name)
    if text is not None:
        expected = sp.pretty(
            poly.to_display(symbol), use_unicode=True, wrap_line=False, order="none"
        )
        assert text == str(expected)


def test_the_printed_layouts() -> None:
    x, w, b, t = (Poly.atom(a) for a in ("x_1_1", "w_1_1", "b_1", "t_1_1"))
    letters = Letters()

    def show(p: Poly) -> str | None:
        return pretty_poly(p, lambda a: unicode_name(a, letters))

    assert show(x * w + b) == "x₁,₁⋅w₁,₁ + b₁"
    assert show(x.scale(-2) * w - b + Poly.const(3)) == "-2⋅x₁,₁⋅w₁,₁ - b₁ + 3"
    assert (
        show((x - t).scale(Fraction(1, 2))) == "x₁,₁ - t₁,₁\n───────────\n     2     "
    )
    assert show(x.scale(Fraction(-3, 10))) == "-3⋅x₁,₁\n───────\n  10   "
    assert show(x.scale(Fraction(-1, 3))) == "-x₁,₁ \n──────\n  3   "
    assert show(Poly.const(Fraction(-1, 2))) == "-1/2"
    assert show(Poly()) == "0"


# -- every entry of real derivations ------------------------------------------------------
def _matrices(value: Any) -> list[PolyMatrix]:
    found: list[PolyMatrix] = []
    if isinstance(value, PolyMatrix):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found += _matrices(v)
    elif hasattr(value, "__dataclass_fields__"):
        for field in value.__dataclass_fields__:
            found += _matrices(getattr(value, field))
    return found


@pytest.mark.parametrize(
    "config",
    [
        Config(n=2, d=2, m=3),
        Config(n=2, d=3, m=2, convention="column", layout="numerator", loss="mse"),
        Config(n=3, d=2, m=4, convention="torch", vec="col", loss="mse"),
        Config(n=2, d=2, m=2, loss="sum", names="X=A1,Y=Z,dY=dLdZ"),
        Config(n=12, d=2, m=11, loss="mse"),
    ],
    ids=str,
)
def test_every_entry_of_a_derivation_prints_as_sympy_prints_it(config: Config) -> None:
    deriv = derive(config)
    letters = config.letters
    matrices = [
        m
        for step in deriv.steps
        for eq in step.equations
        for part in eq.parts
        for m in _matrices(part)
    ]
    assert matrices
    for matrix in matrices:
        for _, _, entry in matrix.nonzeros():
            assert pretty_poly(entry, lambda a: unicode_name(a, letters)) == (
                sympy_pretty(entry, letters)
            )


# -- widths -------------------------------------------------------------------------------
def test_narrow_characters_are_one_cell_wide_for_rich() -> None:
    for char in _NARROW:
        assert cell_len(char) == 1, repr(char)
    assert narrow("⎡x₁,₁⋅w₁,₁ + ⋯ - ∂L/∂y₁,₂⎤")
    assert not narrow("漢x")
    assert text_width("漢x₁") == cell_len("漢x₁") == 4
    assert text_width("x₁,₁⋅w₁,₁") == 9


# -- no sympy on the terminal path --------------------------------------------------------
PROBE = """
import json, sys
import symderiv.cli
try:
    symderiv.cli.main(json.loads(sys.argv[1]))
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(m for m in sys.modules if m == "sympy" or m.startswith("sympy."))
sys.stderr.write(json.dumps({"code": code, "sympy": loaded[:5]}) + "\\n")
"""


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--format", "text"],
        ["--format", "rich"],
        ["--loss", "mse"],
        ["--loss", "sum", "--convention", "column", "--vec", "col"],
        ["--layout", "numerator", "--names", "X=A,Y=Z"],
    ],
    ids=" ".join,
)
def test_derive_to_a_pipe_imports_no_sympy(extra: list[str]) -> None:
    argv = ["derive", "--n", "2", "--d", "2", "--m", "3", *extra]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result == {"code": 0, "sympy": []}, result
    assert "Step 1" in done.stdout
