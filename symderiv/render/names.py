"""Display names of entries: x_1_12 prints as x₁,₁₂ (Unicode) or x_{1,12} (LaTeX).

Indices are separated by commas so that x₁,₁₂ and x₁₁,₂ never look alike. The upstream
entries dy_i_j print as ∂L/∂y_ij with the output's letter (∂L/∂z₁,₂ in the column
convention).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..conventions import Letters, split_entry, unicode_subscript


def shown_index(index: tuple[int, ...], letters: Letters) -> tuple[int, ...]:
    """The indices as printed: 1-based as stored, or from 0 (``--index-base 0``)."""
    if letters.index_base == 1:
        return index
    return tuple(i - 1 + letters.index_base for i in index)


_MACRON = "\u0304"  # combining macron: ȳ, z̄


#: Marks a display-only atom "∂of/∂wrt" (the function view's Jacobian of symbols and the
#: slices ∂Y/∂x_kl): ``partial_atom("y_1_1", "x_1_2")``; never in the engine's algebra.
PARTIAL = "partial|"


def partial_atom(of: str, wrt: str) -> str:
    """The atom printed as ∂of/∂wrt; each side a canonical entry name or a letter."""
    return f"{PARTIAL}{of}|{wrt}"


def _side(name: str, letters: Letters, latex: bool) -> str:
    try:
        split_entry(name)
    except (ValueError, IndexError):
        return name  # a matrix letter such as Y or Z, or L
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
    role, index = split_entry(atom)
    letter = letters.entry(role)
    sub = unicode_subscript(shown_index(index, letters))
    if role != "dY":
        return f"{letter}{sub}"
    if (letters.upstream or upstream) == "bar":
        bar = "ȳ" if letter[0] == "y" else letter[0] + _MACRON  # one cell wide
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
    role, index = split_entry(atom)
    letter = letters.entry(role)
    if len(letter) > 1:
        letter = f"\\mathit{{{letter}}}"
    base = f"{letter}_{{{','.join(map(str, shown_index(index, letters)))}}}"
    if role != "dY":
        return base
    if (letters.upstream or upstream) == "bar":
        return (
            f"\\bar{{{letter}}}_{{{','.join(map(str, shown_index(index, letters)))}}}"
        )
    return f"\\frac{{\\partial L}}{{\\partial {base}}}"


@lru_cache(maxsize=65536)
def unicode_symbol(atom: str, letters: Letters) -> Any:
    """A sympy Symbol whose name is the Unicode display name (for sympy's pretty printer)."""
    import sympy as sp

    return sp.Symbol(unicode_name(atom, letters))
