"""Display names of entries: x_1_12 prints as x₁,₁₂ (Unicode) or x_{1,12} (LaTeX).

Indices are separated by commas so that x₁,₁₂ and x₁₁,₂ never look alike. The upstream
entries dy_i_j print as ∂L/∂y_ij with the output's letter (∂L/∂z₁,₂ in the column
convention).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..conventions import Letters, split_entry, unicode_subscript
from ..notes import SUPERSCRIPT


def shown_index(index: tuple[int, ...], letters: Letters) -> tuple[int, ...]:
    """The indices as printed: 1-based as stored, or from 0 (``--index-base 0``)."""
    if letters.index_base == 1:
        return index
    return tuple(i - 1 + letters.index_base for i in index)


#: The combining macron of a compact upstream z̄ (ȳ is one precomposed character): zero
#: cells wide, so a name holding it is one cell narrower than its length.
MACRON = "\u0304"

#: A network's entries (symderiv.net): w1_2_3 (layer 1), dz2_1_1, r1_1_1, b2_3; and
#: ip_1_2, the reciprocal 1/p_1_2 of a softmax output.
_LAYERED = re.compile(r"(?:(ip)|(d?[a-z])(\d+))_(\d+)(?:_(\d+))?\Z")


def layered(atom: str) -> tuple[str, str, tuple[int, ...]] | None:
    """A network entry's (letters, layer, index): w1_2_3 -> ("w", "1", (2, 3));
    ip_1_2 -> ("ip", "", (1, 2)); None for the single layer's names (x_1_2, dy_1_1)."""
    m = _LAYERED.match(atom)
    if m is None:
        return None
    recip, letters, layer, i, j = m.groups()
    index = (int(i),) if j is None else (int(i), int(j))
    return (recip or letters, layer or "", index)


def _layered_unicode(letters: str, layer: str, index: tuple[int, ...]) -> str:
    sub = unicode_subscript(index)
    if letters == "ip":
        return f"p{sub}⁻¹"
    return f"{letters}{f'({layer})'.translate(SUPERSCRIPT)}{sub}"


def _layered_latex(letters: str, layer: str, index: tuple[int, ...]) -> str:
    sub = ",".join(map(str, index))
    if letters == "ip":
        return f"p_{{{sub}}}^{{-1}}"
    if letters.startswith("d"):  # one italic name, as the matrix \mathit{dZ}_{2}
        letters = rf"\mathit{{{letters}}}"
    return f"{letters}^{{({layer})}}_{{{sub}}}"


#: Marks a display-only atom "∂of/∂wrt" (the function view's Jacobian of symbols and the
#: slices ∂Y/∂x_kl): ``partial_atom("y_1_1", "x_1_2")``; never in the engine's algebra.
PARTIAL = "partial|"


def partial_atom(of: str, wrt: str) -> str:
    """The atom printed as ∂of/∂wrt; each side a canonical entry name or a letter."""
    return f"{PARTIAL}{of}|{wrt}"


#: Marks a display-only atom for an activation's local derivative written in its cached
#: output (symderiv.net), so that an entry reads da⋅(1 − a²), not da − a⋅a⋅da:
#: ``slope_atom("tanh", "a1_1_1")`` prints 1 − a⁽¹⁾₁,₁², ``"(tanh)"`` the same in
#: parentheses (a factor), ``"sigmoid"`` a⁽¹⁾₁,₁(1 − a⁽¹⁾₁,₁); never in the algebra.
SLOPE = "slope|"
_SLOPE_FORMS = {  # kind -> (Unicode, LaTeX), {a} the entry's name
    "tanh": ("1 − {a}²", "1 - {{{a}}}^{{2}}"),
    "(tanh)": ("(1 − {a}²)", "(1 - {{{a}}}^{{2}})"),
    "sigmoid": ("{a}(1 − {a})", "{a} (1 - {a})"),
}


def slope_atom(kind: str, atom: str) -> str:
    """The display-only atom of ``kind`` ("tanh", "(tanh)", "sigmoid") at entry ``atom``.

    >>> unicode_name(slope_atom("(tanh)", "a1_2_3"), Letters())
    '(1 − a⁽¹⁾₂,₃²)'
    """
    if kind not in _SLOPE_FORMS:
        raise ValueError(f"no display form for the slope of {kind!r}")
    return f"{SLOPE}{kind}|{atom}"


def _slope_name(atom: str, letters: Letters, latex: bool) -> str:
    kind, entry = atom[len(SLOPE) :].split("|")
    name = latex_name(entry, letters) if latex else unicode_name(entry, letters)
    return _SLOPE_FORMS[kind][latex].format(a=name)


def _side(name: str, letters: Letters, latex: bool) -> str:
    try:
        _, index = split_entry(name)
    except (ValueError, IndexError):
        index = ()
    if not index:
        return name  # a matrix letter such as Y or Z (y in torch: not an entry), or L
    return latex_name(name, letters) if latex else unicode_name(name, letters)


@lru_cache(maxsize=65536)
def unicode_name(atom: str, letters: Letters, upstream: str | None = None) -> str:
    """x_1_12 -> "x₁,₁₂"; dy_1_2 -> "∂L/∂y₁,₂", or "ȳ₁,₂" in the bar style.

    ``upstream`` ("partial" or "bar") is the printer's habit; ``letters.upstream``
    (``--upstream``), when set, wins.
    """
    if atom.startswith(PARTIAL):
        of, wrt = atom[len(PARTIAL) :].split("|")
        return f"∂{_side(of, letters, False)}/∂{_side(wrt, letters, False)}"
    if atom.startswith(SLOPE):
        return _slope_name(atom, letters, False)
    net = layered(atom)
    if net is not None:
        return _layered_unicode(*net)
    role, index = split_entry(atom)
    letter = letters.entry(role)
    sub = unicode_subscript(shown_index(index, letters))
    if role != "dY":
        return f"{letter}{sub}"
    if (letters.upstream or upstream) == "bar":
        bar = "ȳ" if letter[0] == "y" else letter[0] + MACRON  # one cell wide
        return f"{bar}{letter[1:]}{sub}"
    return f"∂L/∂{letter}{sub}"


@lru_cache(maxsize=65536)
def latex_name(atom: str, letters: Letters, upstream: str | None = None) -> str:
    """x_1_12 -> "x_{1,12}"; dy_1_2 -> "\\frac{\\partial L}{\\partial y_{1,2}}" (or
    "\\bar{y}_{1,2}" in the bar style; ``letters.upstream`` wins over ``upstream``)."""
    if atom.startswith(PARTIAL):
        of, wrt = atom[len(PARTIAL) :].split("|")
        num, den = _side(of, letters, True), _side(wrt, letters, True)
        return f"\\frac{{\\partial {num}}}{{\\partial {den}}}"
    if atom.startswith(SLOPE):
        return _slope_name(atom, letters, True)
    net = layered(atom)
    if net is not None:
        return _layered_latex(*net)
    role, index = split_entry(atom)
    letter = letters.entry(role)
    if len(letter) > 1:
        letter = f"\\mathit{{{letter}}}"
    sub = ",".join(map(str, shown_index(index, letters)))
    if role != "dY":
        return f"{letter}_{{{sub}}}"
    if (letters.upstream or upstream) == "bar":
        return f"\\bar{{{letter}}}_{{{sub}}}"
    return f"\\frac{{\\partial L}}{{\\partial {letter}_{{{sub}}}}}"


def renamed(expr: Any, symbol: Callable[[str], Any]) -> Any:
    """``expr`` (sympy) with each canonical entry symbol (x_1_1) replaced by
    ``symbol(name)``, a symbol named for display; not an expression: ``expr`` itself."""
    import sympy as sp

    if not hasattr(expr, "atoms"):
        return expr
    swap = {}
    for s in expr.atoms(sp.Symbol):
        try:
            split_entry(s.name)
        except (ValueError, IndexError):
            continue
        swap[s] = symbol(s.name)
    return expr.xreplace(swap) if swap else expr


@lru_cache(maxsize=65536)
def unicode_symbol(atom: str, letters: Letters) -> Any:
    """A sympy Symbol whose name is the Unicode display name (for sympy's pretty printer)."""
    import sympy as sp

    return sp.Symbol(unicode_name(atom, letters))
