"""Matrix notation as data: the formulas a derivation states, before any printer sees them.

A node such as ``Prod(Sym("dY"), T(Sym("W")))`` is the formula dY·Wᵀ. Nodes name roles
(X, W, b, Y, dY, T, L), never display letters, so one tree prints as ``dY·Wᵀ`` in the
terminal, ``dY \\, W^{T}`` in LaTeX and ``dLdZ·W`` in the column convention. Leaves may also
hold an explicit matrix (``Explicit``) or a sympy expression (``Expr``) that the printers
draw with their own matrix and sympy printers.

This module imports nothing heavy (no sympy) so that the CLI can load conventions quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

#: Roles: the mathematical objects of the layer, independent of their display letters.
ROLES: tuple[str, ...] = ("X", "W", "b", "Y", "dY", "T")


class Node:
    """Base class of every notation node (immutable, comparable, hashable)."""

    __slots__ = ()


@dataclass(frozen=True)
class Sym(Node):
    """A named matrix by its role: ``Sym("W")`` prints as the convention's letter for W."""

    role: str


@dataclass(frozen=True)
class Scalar(Node):
    """A rational number such as 1/N."""

    value: Fraction


@dataclass(frozen=True)
class Eye(Node):
    """The identity matrix I_k, shape (k, k)."""

    size: int


@dataclass(frozen=True)
class Ones(Node):
    """The all-ones column vector 1_k, shape (k, 1)."""

    size: int


@dataclass(frozen=True)
class Comm(Node):
    """The commutation matrix K with K·vec(A) = vec(Aᵀ) for A of shape (rows, cols)."""

    rows: int
    cols: int


@dataclass(frozen=True)
class T(Node):
    """Transpose of ``arg``."""

    arg: Node


@dataclass(frozen=True)
class Prod(Node):
    """Matrix product of ``args`` (left to right)."""

    args: tuple[Node, ...]

    def __init__(self, *args: Node) -> None:
        object.__setattr__(self, "args", tuple(args))


@dataclass(frozen=True)
class Sum(Node):
    """Sum of ``args``."""

    args: tuple[Node, ...]

    def __init__(self, *args: Node) -> None:
        object.__setattr__(self, "args", tuple(args))


@dataclass(frozen=True)
class Kron(Node):
    """Kronecker product ``left ⊗ right``."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Vec(Node):
    """vec(arg): the entries of ``arg`` stacked in the derivation's vectorization order."""

    arg: Node


@dataclass(frozen=True)
class Deriv(Node):
    """A derivative written as a fraction: ∂of/∂wrt, or ∂vec(of)/∂vec(wrt) when ``vec``."""

    of: str
    wrt: str
    vec: bool = False


@dataclass(frozen=True)
class Grad(Node):
    """The gradient ∇_wrt of (a vector field, written with nabla)."""

    of: str
    wrt: str


@dataclass(frozen=True)
class Jac(Node):
    """A Jacobian matrix J_f(at): ``Jac("L", "x")`` is J_L(x)."""

    fn: str
    at: str


@dataclass(frozen=True)
class Explicit(Node):
    """An explicit matrix (a ``symderiv.algebra.PolyMatrix``) inside a formula.

    ``blocks`` is the shape of its Kronecker blocks, when it has them, so that printers can
    draw the block structure of a Jacobian.
    """

    matrix: Any
    blocks: tuple[int, int] | None = None


@dataclass(frozen=True)
class Expr(Node):
    """A sympy expression inside a formula (index notation, tensors)."""

    expr: Any


@dataclass(frozen=True)
class Text(Node):
    """A few words inside a formula ("for all i, j")."""

    text: str


@dataclass(frozen=True)
class Equation:
    """``parts[0] = parts[1] = ...``: one displayed line of mathematics."""

    parts: tuple[Node, ...]

    def __init__(self, *parts: Node) -> None:
        object.__setattr__(self, "parts", tuple(parts))


def transpose(node: Node) -> Node:
    """The transpose of a product formula, pushed onto its factors: (A Bᵀ)ᵀ = B Aᵀ.

    >>> transpose(Prod(Sym("dY"), T(Sym("W"))))
    Prod(args=(Sym(role='W'), T(arg=Sym(role='dY'))))
    """
    if isinstance(node, T):
        return node.arg
    if isinstance(node, Prod):
        return Prod(*(transpose(a) for a in reversed(node.args)))
    if isinstance(node, Sum):
        return Sum(*(transpose(a) for a in node.args))
    if isinstance(node, Kron):
        return Kron(transpose(node.left), transpose(node.right))
    if isinstance(node, (Eye, Scalar)):
        return node
    return T(node)
