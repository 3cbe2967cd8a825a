"""Formulas (notation trees) as Unicode text or LaTeX, in a convention's letters.

>>> from symderiv.notation import Ones, Prod, Sym, T
>>> from symderiv.conventions import COLUMN, Letters
>>> formula_text(Prod(T(Sym("X")), Sym("dY")), Letters())
'Xᵀ·dY'
>>> formula_latex(Prod(T(Sym("X")), Sym("dY")), Letters())
'X^{T} \\\\, \\\\mathit{dY}'
>>> formula_text(Prod(T(Sym("dY")), Ones("N")), COLUMN.letters)
'dLdZᵀ·1_N'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction

from ..conventions import NAMEABLE, Letters
from ..notation import (
    ROLES,
    SCALARS,
    Comm,
    Deriv,
    Diag,
    Eye,
    Grad,
    Had,
    Jac,
    Kron,
    Node,
    Ones,
    Prod,
    Recip,
    Scalar,
    Slope,
    Sum,
    Sym,
    T,
    Vec,
    Visitor,
    Written,
    product,
)
from ..notes import SUPERSCRIPT, Code, M, Prose, size_m, tex_letters

Leaf = Callable[[Node], str]

#: A network's roles carry their layer: W1, b2, dZ2, A1, R1 (symderiv.net).
_LAYER_ROLE = re.compile(r"(d?)([A-Za-z])(\d+)\Z")
#: A network's entry letters carry it too: z2 (entries z2_i_j), a1, w1.
_LAYER_ENTRY = re.compile(r"([a-z]+)(\d+)\Z")


def _negated(node: Node) -> Node | None:
    """A term led by a negative number, without its sign (−2·X: 2·X); else None."""
    if not (isinstance(node, Prod) and node.args and isinstance(node.args[0], Scalar)):
        return None
    value, rest = node.args[0].value, node.args[1:]
    if value >= 0:
        return None
    return product(*rest) if value == -1 else Prod(Scalar(-value), *rest)


class _Printer(Visitor[str]):
    """The shared walk, in Unicode text; the LaTeX subclass gives its own symbols: strings,
    and templates whose ``{}`` are the operands (``frac`` takes numerator and denominator,
    ``over`` the operand and the size it is divided by)."""

    times = "·"
    otimes = " ⊗ "
    odot = " ⊙ "
    transpose = "ᵀ"
    minus = " − "
    one = "1"
    frac = "{}/{}"
    over = "{}/{}"
    vec = "vec({})"
    paren = "({})"
    partial = "∂{}"
    grad = "∇_{} {}"
    diag = "diag(vec {})"

    def __init__(self, letters: Letters, leaf: Leaf | None = None) -> None:
        self.letters = letters
        self.leaf = leaf

    # -- symbols, per format -----------------------------------------------------------
    def name(self, role: str) -> str:
        return self.letters.of(role)

    def size(self, size: str) -> str:
        """A size's display name: N, or C_out in the column convention."""
        return self.letters.of(size)

    def sub(self, base: str, index: str) -> str:
        # 1_(C_out), so that the size's own underscore reads as part of the name
        return f"{base}_({index})" if "_" in index else f"{base}_{index}"

    def scalar(self, value: Fraction) -> str:
        return str(value)

    # -- the walk ----------------------------------------------------------------------
    def visit_Sym(self, node: Sym) -> str:
        return self.name(node.role)

    def visit_T(self, node: T) -> str:
        inner = self.visit(node.arg)
        if not isinstance(node.arg, (Sym, Ones, Eye)):
            inner = self.paren.format(inner)
        return inner + self.transpose

    def visit_Eye(self, node: Eye) -> str:
        return self.sub("I", self.size(node.size))

    def visit_Ones(self, node: Ones) -> str:
        return self.sub(self.one, self.size(node.size))

    def visit_Comm(self, node: Comm) -> str:
        return "K"

    def visit_Scalar(self, node: Scalar) -> str:
        return self.scalar(node.value)

    def visit_Recip(self, node: Recip) -> str:
        return self.frac.format("1", self.size(node.size))

    def wrapped(self, node: Node, kinds: tuple[type[Node], ...]) -> str:
        """``node`` printed, in parentheses when it is one of ``kinds``."""
        text = self.visit(node)
        return self.paren.format(text) if isinstance(node, kinds) else text

    def visit_Kron(self, node: Kron) -> str:
        sides = (node.left, node.right)
        return self.otimes.join(self.wrapped(side, (Sum, Kron)) for side in sides)

    def visit_Sum(self, node: Sum) -> str:
        out = ""
        for k, arg in enumerate(node.args):
            negated = _negated(arg) if k else None
            if negated is not None:
                out += self.minus + self.visit(negated)
            else:
                out += (" + " if k else "") + self.visit(arg)
        return out

    def visit_Prod(self, node: Prod) -> str:
        args = list(node.args)
        first = args[0] if args else None
        den: str | None = None
        if isinstance(first, Recip):
            den = self.size(first.size)
        elif (
            isinstance(first, Scalar)
            and first.value.numerator == 1
            and first.value.denominator > 1
        ):
            den = str(first.value.denominator)
        if den is not None and len(args) > 1:
            # (Y − T)/N rather than 1/N·(Y − T)
            inner = self.wrapped(product(*args[1:]), (Sum, Prod))
            return self.over.format(inner, den)
        return self.times.join(self.wrapped(a, (Sum, Kron, Had)) for a in args)

    def visit_Vec(self, node: Vec) -> str:
        return self.vec.format(self.visit(node.arg))

    def visit_Deriv(self, node: Deriv) -> str:
        of, wrt = self.name(node.of), self.name(node.wrt)
        if node.vec:
            of, wrt = self.vec.format(of), self.vec.format(wrt)
        return self.frac.format(self.partial.format(of), self.partial.format(wrt))

    def visit_Grad(self, node: Grad) -> str:
        return self.grad.format(self.name(node.wrt), self.name(node.of))

    def visit_Jac(self, node: Jac) -> str:
        fn = self.letters.entry(node.fn) if node.fn in ROLES else node.fn
        at = self.letters.entry(node.at)
        return self.sub("J", self.layered(fn)) + f"({self.layered(at)})"

    def layered(self, letters: str) -> str:
        """A network's entry letters with their layer: z2 -> z⁽²⁾ (z^{(2)} in LaTeX)."""
        m = _LAYER_ENTRY.match(letters)
        if m is None:
            return letters
        return m.group(1) + f"({m.group(2)})".translate(SUPERSCRIPT)

    # -- a network's elementwise layers (symderiv.net) ---------------------------------
    def visit_Had(self, node: Had) -> str:
        parts = []
        for side in (node.left, node.right):
            s = self.visit(side)
            wrap = isinstance(side, (Sum, Kron, Had)) or (
                isinstance(side, Prod)
                and sum(not isinstance(a, SCALARS) for a in side.args) > 1
            )
            parts.append(self.paren.format(s) if wrap else s)
        return self.odot.join(parts)

    def visit_Slope(self, node: Slope) -> str:
        a = self.name(f"A{node.index}")
        one = self.one
        return {
            "relu": self.name(f"R{node.index}"),
            "tanh": self.paren.format(f"{one}{self.minus}{a}{self.odot}{a}"),
            "sigmoid": f"{a}{self.odot}{self.paren.format(f'{one}{self.minus}{a}')}",
        }[node.kind]

    def visit_Diag(self, node: Diag) -> str:
        inner = self.visit(node.arg)
        if isinstance(node.arg, (Had, Prod, Sum)) or (
            isinstance(node.arg, Slope) and node.arg.kind == "sigmoid"
        ):
            inner = self.paren.format(inner)
        return self.diag.format(inner)

    def visit_Written(self, node: Written) -> str:
        return node.text

    def visit_Explicit(self, node: Node) -> str:
        if self.leaf is None:
            raise TypeError(f"no printer given for {type(node).__name__}")
        return self.leaf(node)

    visit_Expr = visit_Explicit


def size_latex(name: str) -> str:
    """A size name in LaTeX: "N" -> "N", "C_out" -> "C_{\\mathrm{out}}", "K2" -> "K_{2}"."""
    layer = re.match(r"([A-Za-z])(\d+)\Z", name)
    if layer is not None:  # a network's widths K1, K2
        return f"{layer.group(1)}_{{{layer.group(2)}}}"
    return size_m(name).latex


class _LatexPrinter(_Printer):
    times = " \\, "
    otimes = " \\otimes "
    odot = " \\odot "
    transpose = "^{T}"
    minus = " - "
    one = "\\mathbf{1}"
    frac = "\\frac{{{}}}{{{}}}"
    over = "\\frac{{1}}{{{1}}} {0}"
    vec = "\\operatorname{{vec}}({})"
    paren = "\\left({}\\right)"
    partial = "\\partial {}"
    grad = "\\nabla_{{{}}} {}"
    diag = "\\operatorname{{diag}}(\\operatorname{{vec}} {})"

    def layered(self, letters: str) -> str:
        m = _LAYER_ENTRY.match(letters)
        return letters if m is None else f"{m.group(1)}^{{({m.group(2)})}}"

    def visit_Written(self, node: Written) -> str:
        return node.tex

    def name(self, role: str) -> str:
        layer = _LAYER_ROLE.match(role)
        if layer is not None:  # a network's W1, dZ2: W_{1}, \mathit{dZ}_{2}
            base = tex_letters(layer.group(1) + layer.group(2))
            return f"{base}_{{{layer.group(3)}}}"
        letters = self.letters.of(role)
        if self.letters.bold and role in NAMEABLE:
            # --bold: matrices in bold, as seeds 000 and 002 write X, W, b
            return f"\\mathbf{{{letters}}}"
        # a name of several letters is one symbol (dY, dLdZ), not a product d·Y
        return tex_letters(letters)

    def size(self, size: str) -> str:
        return size_latex(self.letters.of(size))

    def sub(self, base: str, index: str) -> str:
        return f"{base}_{{{index}}}"

    kron_depth = 0

    def visit_Ones(self, node: Ones) -> str:
        # --bold: 1ᵀ·dY, the length left to context, as seeds 000 and 002 write it; a
        # Kronecker form keeps 1_N ⊗ I_M, where the sizes are the point
        if self.letters.bold and not self.kron_depth:
            return self.one
        return super().visit_Ones(node)

    def visit_Kron(self, node: Kron) -> str:
        self.kron_depth += 1
        try:
            return super().visit_Kron(node)
        finally:
            self.kron_depth -= 1

    def scalar(self, value: Fraction) -> str:
        if value.denominator == 1:
            return str(value.numerator)
        return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def formula_text(node: Node, letters: Letters, leaf: Leaf | None = None) -> str:
    """A formula in Unicode text: ``Xᵀ·dY``, ``(X ⊗ I_M)·K``, ``∂vec(Y)/∂vec(W)``."""
    return _Printer(letters, leaf).visit(node)


def formula_latex(node: Node, letters: Letters, leaf: Leaf | None = None) -> str:
    """A formula in LaTeX: ``X^{T} \\, dY``, ``\\left(X \\otimes I_{M}\\right) \\, K``."""
    return _LatexPrinter(letters, leaf).visit(node)


def shape_text(shape: tuple[int, int]) -> str:
    """(6, 4) -> "6×4"."""
    return f"{shape[0]}×{shape[1]}"


__all__ = ["formula_latex", "formula_text", "prose_plain", "shape_text", "size_latex"]


def prose_plain(prose: str | Prose, letters: Letters) -> str:
    """A sentence (marked prose or plain words) as plain Unicode text, maths written out."""
    if isinstance(prose, str):
        return prose
    out: list[str] = []
    for seg in prose:
        if isinstance(seg, str):
            out.append(seg)
        elif isinstance(seg, (M, Code)):
            out.append(seg.text)
        else:
            out.append(formula_text(seg.node, letters))
    return "".join(out)
