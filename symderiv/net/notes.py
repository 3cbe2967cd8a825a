"""Helpers for a network's learner prose: entries and formulas marked as maths.

The engine (:mod:`symderiv.net.engine`) writes its titles and notes as
:data:`symderiv.notes.Prose` with these helpers, so that no printer guesses which words are
maths: ``ent("z", 1, "ij")`` is z⁽¹⁾ᵢⱼ in text and ``z^{(1)}_{ij}`` in LaTeX, ``mat("W1")``
the matrix W1 in the derivation's letters.
"""

from __future__ import annotations

from ..conventions import Letters
from ..notation import Node, Sym, Written
from ..notes import F, M, Prose
from ..render import formula

_SUB = str.maketrans("ijklmnrN0123456789", "ᵢⱼₖₗₘₙᵣN₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def ent_text(letter: str, layer: int | None, index: str) -> str:
    """z⁽¹⁾ᵢⱼ: the entry letters, the layer as a superscript, the index as a subscript."""
    sup = f"({layer})".translate(_SUP) if layer else ""
    return f"{letter}{sup}{index.translate(_SUB)}"


def ent_tex(letter: str, layer: int | None, index: str) -> str:
    """z^{(1)}_{ij}; an upstream entry is one italic name, \\mathit{dz}^{(2)}_{ij}, as the
    matrix \\mathit{dZ}_{2} (an upright d would read as a differential)."""
    if letter.startswith("d") and len(letter) > 1:
        letter = rf"\mathit{{{letter}}}"
    sup = f"^{{({layer})}}" if layer else ""
    return f"{letter}{sup}_{{{index}}}" if index else f"{letter}{sup}"


def ent(letter: str, layer: int | None = None, index: str = "ij") -> M:
    """An entry as maths: ent("z", 1) is z⁽¹⁾ᵢⱼ; ent("p") is pᵢⱼ."""
    return M(ent_text(letter, layer, index), ent_tex(letter, layer, index))


def mat(role: str) -> F:
    """A matrix of the network (X, W1, dZ2, P) in the derivation's letters."""
    return F(Sym(role))


def slash(of: str, wrt: str, vec: bool = False) -> M:
    """∂of/∂wrt written inline with a slash (a fraction in a heading is too small);
    ``vec``: ∂vec(of)/∂vec(wrt)."""
    if vec:
        return M(
            f"∂vec({of})/∂vec({wrt})",
            rf"\partial \operatorname{{vec}}({_tex(of)})/"
            rf"\partial \operatorname{{vec}}({_tex(wrt)})",
        )
    return M(f"∂{of}/∂{wrt}", rf"\partial {_tex(of)}/\partial {_tex(wrt)}")


def _tex(role: str) -> str:
    return "L" if role == "L" else formula_latex(Sym(role))


#: Maths written out (``tex``: its LaTeX, when it differs from ``text``).
math = M


def widths_math(widths: list[int]) -> M:
    """The size names with their values, D = 2, K1 = 3, K2 = 2 (``widths``: the input
    width D, then each affine layer's output width Kℓ), so that the shapes written in
    them (W1 is D×K1, A1 ⊗ I_K2) say what they are.

    >>> widths_math([2, 3, 2]).text
    'D = 2, K1 = 3, K2 = 2'
    """
    parts = [("D", "D", widths[0])]
    parts += [(f"K{k}", f"K_{{{k}}}", w) for k, w in enumerate(widths[1:], start=1)]
    return M(
        ", ".join(f"{name} = {w}" for name, _, w in parts),
        ", ".join(f"{tex} = {w}" for _, tex, w in parts),
    )


def formula_text(node: Node) -> str:
    """A network formula in Unicode (the one formula printer, in the network's letters).

    >>> from symderiv.notation import Had, Prod, Slope, T
    >>> formula_text(Prod(T(Sym("X")), Had(Prod(Sym("dZ2"), T(Sym("W2"))), Slope("relu", 1))))
    'Xᵀ·((dZ2·W2ᵀ) ⊙ R1)'
    """
    return formula.formula_text(node, Letters())


def formula_latex(node: Node) -> str:
    """A network formula in LaTeX: W1 as ``W_{1}``, ⊙ as ``\\odot``."""
    return formula.formula_latex(node, Letters())


def plain(p: str | Prose) -> str:
    """A sentence as plain Unicode text (maths written out; for the JSON and checks)."""
    if isinstance(p, str):
        return p
    return formula.prose_plain(p, Letters())


__all__ = [
    "Written",
    "ent",
    "ent_tex",
    "ent_text",
    "formula_latex",
    "formula_text",
    "mat",
    "math",
    "plain",
    "slash",
    "widths_math",
]
