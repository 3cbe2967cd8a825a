"""Formulas as NumPy code: the one printer behind codegen, the article, Markdown and notebook.

One idiom everywhere: ``A @ B`` for products, ``A.T`` for transposes, a sum over the
batch for 1ᵀ·A (``A.sum(axis=0, keepdims=True)``), for Aᵀ·1 (its transpose) and for A·1
(``A.sum(axis=1, keepdims=True)``, samples as columns), and
``np.ones((N, 1))`` only where a column of ones is really multiplied. Sizes print as the
expressions the caller names (``self.N``, ``Y.shape[0]``), never as numbers, so the code
works at every batch size.

>>> from symderiv.conventions import XW, mse_upstream
>>> numpy_code(XW.closed_form("b"), {"dY": "dY"})
'dY.sum(axis=0, keepdims=True)'
>>> numpy_code(mse_upstream(), {"Y": "Y", "T": "T"}, {"N": "Y.shape[0]"})
'(Y - T) / Y.shape[0]'
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

from ..conventions import NAMEABLE, derivative_name, mse_upstream
from ..notation import (
    SCALARS,
    Eye,
    Had,
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
    Visitor,
    product,
)

if TYPE_CHECKING:
    from ..steps import Derivation

_ATOMS = (Sym, Ones, Eye)


class _NumPy(Visitor[str]):
    def __init__(
        self, names: Mapping[str, str], sizes: Mapping[str, str], flat_rows: bool
    ) -> None:
        self.names, self.sizes, self.flat_rows = names, sizes, flat_rows

    def size(self, name: str) -> str:
        if name not in self.sizes:
            raise TypeError(f"no NumPy expression given for the size {name}")
        return self.sizes[name]

    def visit_Sym(self, node: Sym) -> str:
        return self.names[node.role]

    def visit_Ones(self, node: Ones) -> str:
        return f"np.ones(({self.size(node.size)}, 1))"  # 1_k is a column, (k, 1)

    def visit_Eye(self, node: Eye) -> str:
        return f"np.eye({self.size(node.size)})"

    def visit_Scalar(self, node: Scalar) -> str:
        v = Fraction(node.value)
        if v.denominator == 1:
            return f"({v.numerator})" if v < 0 else str(v.numerator)
        return f"({v.numerator} / {v.denominator})"

    def visit_T(self, node: T) -> str:
        inner = self.visit(node.arg)
        # a name or a call needs no parentheses: X.T, np.ones((N, 1)).T
        return f"{inner}.T" if isinstance(node.arg, _ATOMS) else f"({inner}).T"

    def visit_Sum(self, node: Sum) -> str:
        out = self.visit(node.args[0])
        for a in node.args[1:]:
            if isinstance(a, Prod) and a.args and a.args[0] == Scalar(Fraction(-1)):
                out += " - " + self.visit(product(*a.args[1:]))
            else:
                out += " + " + self.visit(a)
        return out

    def visit_Kron(self, node: Kron) -> str:
        return f"np.kron({self.visit(node.left)}, {self.visit(node.right)})"

    def visit_Prod(self, node: Prod) -> str:
        args = node.args
        if len(args) == 2 and isinstance(args[0], T) and isinstance(args[0].arg, Ones):
            # 1ᵀ·A: the column sums, (1, cols), or a vector (cols,) with flat rows
            keep = "" if self.flat_rows else ", keepdims=True"
            return f"{self._operand(args[1])}.sum(axis=0{keep})"
        if self.flat_rows and len(args) == 2 and isinstance(args[0], Ones):
            # 1·r with r a vector: NumPy broadcasts r over the rows it is added to
            return self.visit(args[1])
        if len(args) == 2 and isinstance(args[1], Ones) and isinstance(args[0], T):
            # Aᵀ·1 = (1ᵀ·A)ᵀ, (cols, 1)
            return f"{self._operand(args[0].arg)}.sum(axis=0, keepdims=True).T"
        if len(args) == 2 and isinstance(args[1], Ones):
            # A·1: the row sums, (rows, 1)
            return f"{self._operand(args[0])}.sum(axis=1, keepdims=True)"
        if len(args) == 2 and isinstance(args[0], Recip):
            # (Y − T)/N: divide by the size
            return f"{self._operand(args[1])} / {self.size(args[0].size)}"
        out = ""
        for i, a in enumerate(args):
            text = f"({self.visit(a)})" if isinstance(a, (Sum, Had)) else self.visit(a)
            if i:
                # a scalar scales (*), matrices multiply (@); equal precedence in
                # Python, applied left to right as the product is written
                scalar = any(isinstance(f, SCALARS) for f in (args[i - 1], a))
                out += " * " if scalar else " @ "
            out += text
        return out

    def visit_Recip(self, node: Recip) -> str:
        return f"(1 / {self.size(node.size)})"

    # a network's elementwise layers (symderiv.net): ⊙ is *, the slopes are cached
    def visit_Had(self, node: Had) -> str:
        sides = []
        for side in (node.left, node.right):
            text = self.visit(side)
            sides.append(f"({text})" if isinstance(side, (Sum, Prod, Had)) else text)
        return " * ".join(sides)

    def visit_Slope(self, node: Slope) -> str:
        if node.kind == "relu":
            return self.names[f"R{node.index}"]
        a = self.names[f"A{node.index}"]
        return f"(1 - {a} * {a})" if node.kind == "tanh" else f"{a} * (1 - {a})"

    def _operand(self, node: Node) -> str:
        text = self.visit(node)
        return text if isinstance(node, (Sym, T)) else f"({text})"


def numpy_code(
    node: Node,
    names: Mapping[str, str],
    sizes: Mapping[str, str] | None = None,
    *,
    flat_rows: bool = False,
) -> str:
    """A formula as a NumPy expression.

    Args:
        node: a closed form, forward map or upstream formula.
        names: role -> Python expression, e.g. {"X": "self.X", "dY": "dY"}.
        sizes: size name -> Python expression, e.g. {"N": "self.N"}; needed only
            where a formula uses the size itself (1/N, a multiplied 1_N).
        flat_rows: a row (1, k) is held as a vector (k,), as nn.Linear holds its
            bias: 1ᵀ·A is ``A.sum(axis=0)`` and 1_N·b is ``b`` (broadcast over the
            rows it is added to).

    >>> from symderiv.conventions import TORCH
    >>> numpy_code(TORCH.forward(), {"X": "x", "W": "W", "b": "b"}, flat_rows=True)
    'x @ W.T + b'

    Raises:
        TypeError: a node with no NumPy form (a derivative, an explicit matrix) or a
            size that ``sizes`` does not name.
    """
    return _NumPy(names, sizes or {}, flat_rows).visit(node)


def numpy_lines(d: Derivation) -> list[str]:
    """``dX = dY @ W.T`` for each derived variable, as a backward pass stores them.

    Each gradient has the shape of its variable (what code stores; in torch db is a
    vector of length M, as nn.Linear's bias), whatever the layout of the derivation;
    the loss's upstream derivative comes first (mse, sum), divided by the batch read
    off the array, never by a number. Names as the convention's code uses
    them (``dLdW`` in the column convention).
    """
    c = d.config
    L = c.letters
    names = {role: L.of(role) for role in NAMEABLE}
    sizes = {"N": f"{L.Y}.shape[0]"}
    upstream = {
        "mse": numpy_code(mse_upstream(), names, sizes),
        "sum": f"np.ones_like({L.Y})",
        "softmax-ce": f"(P - {L.T}) / {L.Y}.shape[0]  # P = softmax({L.Y}) by rows",
    }
    out = [f"{L.dY} = {upstream[c.loss]}"] if c.loss in upstream else []
    for var in c.wrt:
        if var not in d.results:
            continue
        name = "d" + L.of(var) if c.names else derivative_name(c.conv, var)
        code = numpy_code(
            c.conv.closed_form(var), names, sizes, flat_rows=c.conv.bias_vector
        )
        out.append(f"{name} = {code}")
    return out


__all__ = ["numpy_code", "numpy_lines"]
