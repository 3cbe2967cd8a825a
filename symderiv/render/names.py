"""Display names of entries: x_1_12 prints as x₁,₁₂ (Unicode) or x_{1,12} (LaTeX).

Indices are separated by commas so that x₁,₁₂ and x₁₁,₂ never look alike. The upstream
entries dy_i_j print as ∂L/∂y_ij with the output's letter (∂L/∂z₁,₂ in the column
convention).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..conventions import Letters, split_entry, unicode_subscript


def _letter(role: str, letters: Letters) -> str:
    return letters.entry(role)


@lru_cache(maxsize=65536)
def unicode_name(atom: str, letters: Letters) -> str:
    """x_1_12 -> "x₁,₁₂"; dy_1_2 -> "∂L/∂y₁,₂"."""
    role, index = split_entry(atom)
    base = f"{_letter(role, letters)}{unicode_subscript(index)}"
    return f"∂L/∂{base}" if role == "dY" else base


@lru_cache(maxsize=65536)
def latex_name(atom: str, letters: Letters) -> str:
    """x_1_12 -> "x_{1,12}"; dy_1_2 -> "\\frac{\\partial L}{\\partial y_{1,2}}"."""
    role, index = split_entry(atom)
    letter = _letter(role, letters)
    if len(letter) > 1:
        letter = f"\\mathit{{{letter}}}"
    base = f"{letter}_{{{','.join(map(str, index))}}}"
    return f"\\frac{{\\partial L}}{{\\partial {base}}}" if role == "dY" else base


@lru_cache(maxsize=65536)
def unicode_symbol(atom: str, letters: Letters) -> Any:
    """A sympy Symbol whose name is the Unicode display name (for sympy's pretty printer)."""
    import sympy as sp

    return sp.Symbol(unicode_name(atom, letters))


@lru_cache(maxsize=65536)
def latex_symbol(atom: str, letters: Letters) -> Any:
    """A sympy Symbol standing for ``atom`` in LaTeX output (see :func:`latex_names`)."""
    import sympy as sp

    return sp.Symbol(f"{atom}")


def latex_names(atoms: set[str], letters: Letters) -> dict[Any, str]:
    """``symbol_names`` for ``sympy.latex``: canonical symbol -> LaTeX display name."""
    return {latex_symbol(a, letters): latex_name(a, letters) for a in atoms}
