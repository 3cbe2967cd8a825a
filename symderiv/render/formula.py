"""Formulas (notation trees) as Unicode text or LaTeX, in a convention's letters.

>>> from symderiv.notation import Prod, Sym, T
>>> from symderiv.conventions import Letters
>>> formula_text(Prod(T(Sym("X")), Sym("dY")), Letters())
'Xᵀ·dY'
>>> formula_latex(Prod(T(Sym("X")), Sym("dY")), Letters())
'X^{T} \\\\, dY'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..conventions import Letters
from ..notation import (
    Comm,
    Deriv,
    Explicit,
    Expr,
    Eye,
    Grad,
    Jac,
    Kron,
    Node,
    Ones,
    Prod,
    Scalar,
    Sum,
    Sym,
    T,
    Text,
    Vec,
)

Leaf = Callable[[Node], str]


def _is_neg(node: Node) -> bool:
    return (
        isinstance(node, Prod)
        and bool(node.args)
        and isinstance(node.args[0], Scalar)
        and node.args[0].value < 0
    )


def _negate(node: Prod) -> Node:
    first = node.args[0]
    assert isinstance(first, Scalar)
    rest = node.args[1:]
    if first.value == -1:
        return rest[0] if len(rest) == 1 else Prod(*rest)
    return Prod(Scalar(-first.value), *rest)


class _Printer:
    """Shared walk; subclasses give the symbols."""

    times = "·"
    otimes = " ⊗ "
    transpose = "ᵀ"

    def __init__(self, letters: Letters, leaf: Leaf | None = None) -> None:
        self.letters = letters
        self.leaf = leaf

    def name(self, role: str) -> str:
        return self.letters.of(role)

    def sub(self, base: str, index: str) -> str:
        raise NotImplementedError

    def frac(self, num: str, den: str) -> str:
        raise NotImplementedError

    def vec(self, inner: str) -> str:
        return f"vec({inner})"

    def paren(self, inner: str) -> str:
        return f"({inner})"

    def print(self, node: Node) -> str:  # noqa: C901 - one case per node type
        if isinstance(node, Sym):
            return self.name(node.role)
        if isinstance(node, T):
            inner = self.print(node.arg)
            if not isinstance(node.arg, (Sym, Ones, Eye)):
                inner = self.paren(inner)
            return inner + self.transpose
        if isinstance(node, Eye):
            return self.sub("I", str(node.size))
        if isinstance(node, Ones):
            return self.sub(self.one(), str(node.size))
        if isinstance(node, Comm):
            return "K"
        if isinstance(node, Scalar):
            return self.scalar(node.value)
        if isinstance(node, Kron):
            parts = []
            for side in (node.left, node.right):
                s = self.print(side)
                parts.append(self.paren(s) if isinstance(side, (Sum, Kron)) else s)
            return self.otimes.join(parts)
        if isinstance(node, Sum):
            out = ""
            for k, arg in enumerate(node.args):
                if k and _is_neg(arg):
                    assert isinstance(arg, Prod)
                    out += " − " + self.print(_negate(arg))
                else:
                    out += (" + " if k else "") + self.print(arg)
            return out
        if isinstance(node, Prod):
            args = list(node.args)
            if (
                args
                and isinstance(args[0], Scalar)
                and args[0].value.numerator == 1
                and args[0].value.denominator > 1
            ):
                rest = args[1:]
                inner_node = rest[0] if len(rest) == 1 else Prod(*rest)
                inner = self.print(inner_node)
                if isinstance(inner_node, (Sum, Prod)):
                    inner = self.paren(inner)
                return self.over(inner, args[0].value.denominator)
            parts = []
            for a in args:
                s = self.print(a)
                parts.append(self.paren(s) if isinstance(a, (Sum, Kron)) else s)
            return self.times.join(parts)
        if isinstance(node, Vec):
            return self.vec(self.print(node.arg))
        if isinstance(node, Deriv):
            of, wrt = self.name(node.of), self.name(node.wrt)
            if node.vec:
                return self.frac(
                    self.partial(self.vec(of)), self.partial(self.vec(wrt))
                )
            return self.frac(self.partial(of), self.partial(wrt))
        if isinstance(node, Grad):
            return self.grad(self.name(node.wrt), self.name(node.of))
        if isinstance(node, Jac):
            return self.sub("J", node.fn) + f"({node.at})"
        if isinstance(node, Text):
            return self.text(node.text)
        if isinstance(node, (Explicit, Expr)):
            if self.leaf is None:
                raise TypeError(f"no printer given for {type(node).__name__}")
            return self.leaf(node)
        raise TypeError(f"cannot print {type(node).__name__}")

    def one(self) -> str:
        return "1"

    def partial(self, inner: str) -> str:
        return f"∂{inner}"

    def grad(self, wrt: str, of: str) -> str:
        return f"∇_{wrt} {of}"

    def scalar(self, value: Fraction) -> str:
        return str(value)

    def over(self, inner: str, den: int) -> str:
        return f"{inner}/{den}"

    def text(self, text: str) -> str:
        return text


class _TextPrinter(_Printer):
    def sub(self, base: str, index: str) -> str:
        return f"{base}_{index}"

    def frac(self, num: str, den: str) -> str:
        return f"{num}/{den}"


class _LatexPrinter(_Printer):
    times = " \\, "
    otimes = " \\otimes "
    transpose = "^{T}"

    def name(self, role: str) -> str:
        letters = self.letters.of(role)
        return (
            letters if len(letters) == 1 or role == "dY" else f"\\mathit{{{letters}}}"
        )

    def sub(self, base: str, index: str) -> str:
        return f"{base}_{{{index}}}"

    def frac(self, num: str, den: str) -> str:
        return f"\\frac{{{num}}}{{{den}}}"

    def paren(self, inner: str) -> str:
        return f"\\left({inner}\\right)"

    def vec(self, inner: str) -> str:
        return f"\\operatorname{{vec}}({inner})"

    def one(self) -> str:
        return "\\mathbf{1}"

    def partial(self, inner: str) -> str:
        return f"\\partial {inner}"

    def grad(self, wrt: str, of: str) -> str:
        return f"\\nabla_{{{wrt}}} {of}"

    def scalar(self, value: Fraction) -> str:
        if value.denominator == 1:
            return str(value.numerator)
        return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"

    def over(self, inner: str, den: int) -> str:
        return f"\\frac{{1}}{{{den}}} {inner}"

    def text(self, text: str) -> str:
        return _latex_text(text)

    def print(self, node: Node) -> str:
        out = super().print(node)
        return out.replace(" − ", " - ")


_TEXT_MAP = {
    "Σ": "\\sum",
    "‖": "\\lVert ",
    "−": "-",
    "²": "^{2}",
    "·": " \\cdot ",
    "∂": "\\partial ",
}


def _latex_text(text: str) -> str:
    """A plain-text formula such as "L = Σ_ij y_ij" in LaTeX."""
    # Subscripts of more than one character need braces: Σ_ij -> \sum_{ij}.
    out = re.sub(r"_([A-Za-z0-9]{2,})", r"_{\1}", text)
    for char, tex in _TEXT_MAP.items():
        out = out.replace(char, tex)
    # The closing norm bar: every second \lVert becomes \rVert.
    parts = out.split("\\lVert ")
    if len(parts) > 1:
        rebuilt = parts[0]
        for k, p in enumerate(parts[1:]):
            rebuilt += ("\\lVert " if k % 2 == 0 else "\\rVert ") + p
        out = rebuilt
    return out


def formula_text(node: Node, letters: Letters, leaf: Leaf | None = None) -> str:
    """A formula in Unicode text: ``Xᵀ·dY``, ``(X ⊗ I_3)·K``, ``∂vec(Y)/∂vec(W)``."""
    return _TextPrinter(letters, leaf).print(node)


def formula_latex(node: Node, letters: Letters, leaf: Leaf | None = None) -> str:
    """A formula in LaTeX: ``X^{T} \\, dY``, ``\\left(X \\otimes I_{3}\\right) \\, K``."""
    return _LatexPrinter(letters, leaf).print(node)


def shape_text(shape: tuple[int, int]) -> str:
    """(6, 4) -> "6×4"."""
    return f"{shape[0]}×{shape[1]}"


__all__ = ["formula_latex", "formula_text", "shape_text"]
_ = Any
