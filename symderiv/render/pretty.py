"""Terminal cells without sympy: the exact text sympy's Unicode pretty printer would give.

The terminal view prints each matrix entry the way ``sympy.pretty(expr, use_unicode=True,
wrap_line=False, order="none")`` prints ``Poly.to_display(...)``: factors joined by ``⋅``,
terms by `` + `` / `` - ``, and a common denominator stacked under a rule::

    x₁,₁⋅w₁,₁ + x₁,₂⋅w₂,₁ + b₁          y₁,₁ - t₁,₁
                                         ───────────
                                              2

Importing sympy (and ``sympy.physics.units``, which its pretty printer loads) takes longer
than the whole derivation at lecture sizes, so these few layouts are rebuilt here from
sympy's own rules (``PrettyPrinter._print_Add``/``_print_Mul``, ``prettyForm.__mul__``,
``__truediv__`` and ``stringPict.stack``); the tests compare them with sympy on many random
polynomials. Whatever is not one of these layouts returns ``None`` and the caller asks sympy:
a name sympy would restyle (one with ``_``, ``^`` or a combining mark), or a constant
fraction with two-digit numerator and denominator.

Widths: every character produced here is one terminal cell wide, so ``len`` is the width
(:func:`text_width` says when a string is made only of such characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fractions import Fraction
from functools import cache, lru_cache
from math import lcm

from ..algebra import Coeff, Monomial, Poly
from ..conventions import Letters
from .names import MACRON, unicode_name

__all__ = ["narrow", "pretty_poly", "text_width", "unicode_namer"]

#: Characters one terminal cell wide that the terminal view draws: ASCII, subscript
#: digits, the product dot, the partial sign, brackets, rules and ellipses.
_NARROW = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]
    + list("₀₁₂₃₄₅₆₇₈₉⋅∂ᵀ×·⊗−∇ΣΔδ‖²ȳ")
    + list("⁰¹³⁴⁵⁶⁷⁸⁹⁽⁾⁻⊙")  # a network's layers, w⁽¹⁾₂,₃, and p₁,₁⁻¹ (symderiv.net)
    + list("⎡⎤⎣⎦⎢⎥[]│─┼⋯⋮⋱✓✗→≤≥≠≈")
)

#: Any character not in _NARROW (a regex scan is several times faster than a set test).
_WIDE = re.compile("[^" + re.escape("".join(sorted(_NARROW))) + "]")

#: The rule of a stacked fraction (sympy's ``hobj('-', w)`` in Unicode).
_RULE = "─"
_TIMES = "⋅"


def narrow(text: str) -> bool:
    """True when every character of ``text`` is one cell wide (then ``len`` is its width)."""
    return _WIDE.search(text) is None


def text_width(text: str) -> int:
    """Terminal cells taken by ``text``: ``len`` for the usual characters, else Rich's count."""
    if narrow(text):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


@lru_cache(maxsize=64)
def unicode_namer(letters: Letters) -> Callable[[str], str]:
    """:func:`~symderiv.render.names.unicode_name` for one set of letters, memoised by
    atom (hashing ``letters`` once per cell instead of once per factor)."""
    return cache(lambda atom: unicode_name(atom, letters))


@lru_cache(maxsize=65536)
def _plain_name(name: str) -> bool:
    """True when sympy prints a Symbol of this name unchanged, one cell per character.

    sympy splits names at ``_`` and ``^`` (sub/superscripts), turns a trailing run of
    digits into a subscript and a trailing modifier word (``hat``, ``dot``, ...) or a
    Greek name into a symbol. Entry names end in a Unicode subscript digit (``x₁,₂``), so
    none of that applies to them; anything else is left to sympy.
    """
    return (
        bool(name)
        # or a network's factored slope, 1 − a⁽¹⁾₁,₁², (1 − a⁽¹⁾₁,₁²), a⁽¹⁾₁,₁(1 − a⁽¹⁾₁,₁)
        and (name[-1] in "₀₁₂₃₄₅₆₇₈₉²)" or name.endswith("⁻¹"))
        and "_" not in name
        and "^" not in name
        and _NARROW.issuperset(name.replace(MACRON, ""))
    )


def _center(line: str, width: int) -> str:
    """sympy's ``center``: the extra space goes to the right."""
    pad = width - len(line)
    left = pad // 2
    return " " * left + line + " " * (pad - left)


def _stack(numerator: str, denominator: str) -> str:
    """``stringPict.stack(num, LINE, den)``: three centred lines of equal width."""
    width = max(len(numerator), len(denominator))
    return "\n".join(
        (_center(numerator, width), _RULE * width, _center(denominator, width))
    )


def _monomial(factors: list[str], coeff: int) -> str:
    """``c⋅f₁⋅f₂`` for a term with integer coefficient (sign included)."""
    mag = abs(coeff)
    body = _TIMES.join(factors if mag == 1 and factors else [str(mag), *factors])
    return f"-{body}" if coeff < 0 else body


def _integer_terms(terms: Iterable[tuple[list[str], int]]) -> str:
    """An ``Add`` of integer-coefficient terms on one line, in the order given."""
    out: list[str] = []
    for factors, coeff in terms:
        text = _monomial(factors, coeff)
        if not out:
            out.append(text)
        elif coeff < 0:
            out.append(f" - {text[1:]}")
        else:
            out.append(f" + {text}")
    return "".join(out)


def _constant(value: Fraction) -> str | None:
    """sympy's Rational: ``p/q`` on one line unless both have two or more digits."""
    p, q = value.numerator, value.denominator
    if q == 1:
        return str(p)
    if abs(p) >= 10 and abs(q) >= 10:
        return None  # stacked by sympy; rare enough to leave to it
    return f"{p}/{q}"


def pretty_poly(poly: Poly, name: Callable[[str], str]) -> str | None:
    """``sympy.pretty(poly.to_display(symbol), use_unicode=True, wrap_line=False,
    order="none")`` without sympy, where ``symbol(a)`` is ``Symbol(name(a))``.

    Returns None when the layout is not one rebuilt here (the caller then asks sympy).
    Lines of a stacked fraction are padded to the same width, as sympy pads them.
    """
    terms: dict[Monomial, Coeff] = poly.terms
    if not terms:
        return "0"
    named: list[tuple[list[str], Coeff]] = []
    for mono, c in terms.items():
        factors = [name(f) for f in mono]
        for f in factors:
            if not _plain_name(f):
                return None
        named.append((factors, c))
    dens = [c.denominator for c in terms.values() if type(c) is not int]
    den = lcm(*dens) if dens else 1
    if den != 1 and any(MACRON in f for factors, _ in named for f in factors):
        return None  # a stacked fraction pads by length; leave z̄ there to sympy
    if den == 1:
        return _integer_terms((f, int(c)) for f, c in named)
    if len(named) > 1:
        # Mul(1/den, Add(...)): the sum over the denominator (no parentheses).
        inner = _integer_terms((f, int(c * den)) for f, c in named)
        return _stack(inner, str(den))
    ((factors, c),) = named
    value = Fraction(c)
    if not factors:
        return _constant(value)
    # Mul(p/q, f₁, f₂, …): p⋅f₁⋅f₂ over q. Only for p = -1 does sympy's product come out
    # "negative" (-f₁⋅f₂, not -2⋅f₁⋅f₂), and a negative numerator gets a space after it.
    top = _monomial(factors, value.numerator)
    if value.numerator == -1:
        top += " "
    return _stack(top, str(value.denominator))
