"""Matrix notation as data: the formulas a derivation states, before any printer sees them.

A node such as ``Prod(Sym("dY"), T(Sym("W")))`` is the formula dY·Wᵀ. Nodes name roles
(X, W, b, Y, dY, T, L) and sizes (N, D, M), never display letters or numbers, so one tree
prints as ``dY·Wᵀ`` in the terminal, ``dY \\, W^{T}`` in LaTeX, ``dY @ W.T`` in NumPy and
``dLdZ·W`` in the column convention; ``Ones("N")`` prints as 1_N, and integers enter only
when a formula is evaluated (``sizes={"N": 2, "D": 2, "M": 3}``). Leaves may also hold an
explicit matrix (``Explicit``) or a sympy expression (``Expr``) that the printers draw
with their own matrix and sympy printers.

The node classes, whose names other modules (the ``check`` grammar among them) rely on;
the simplest are documented only by their row here:

==========  ==================================  ==============================
node        meaning                             shape
==========  ==================================  ==============================
Sym(r)      the matrix of role r (X, W, b, ...)  the role's shape
Scalar(q)   a rational number q                 scalar
Recip(s)    1/s for a size s, e.g. 1/N          scalar
Eye(s)      identity I_s                        s×s
Ones(s)     column of ones 1_s                  s×1
Comm(r, c)  commutation K: K·vec(A) = vec(Aᵀ)   r·c × r·c (A is r×c)
T(a)        transpose aᵀ                        flipped
Prod(*a)    matrix product (scalars scale)      first rows × last columns
Sum(*a)     sum                                 shape of each term
Kron(a, b)  Kronecker product a ⊗ b             products of rows and columns
Vec(a)      vec(a) in the derivation's order    (#a)×1
Deriv       ∂of/∂wrt (∂vec(of)/∂vec(wrt))       wrt's shape (numerator: flipped)
Grad        ∇_wrt of                            wrt's shape
Jac(fn, v)  Jacobian J_fn(v), fn = L, f or a role (1 or #fn) × #v
Explicit    an explicit PolyMatrix              its own
Expr        a sympy expression                  its own, if a matrix
Had(a, b)   Hadamard product a ⊙ b (networks)   a's shape
Slope(f, k) activation f's local derivatives    Zk's shape
Diag(a)     diag(vec a)                         #a × #a
Written     a formula in Unicode and TeX        none
==========  ==================================  ==============================

:class:`Visitor` is the one walk over these nodes (sympy's ``_print_<Class>`` idea): a
subclass defines ``visit_Sym``, ``visit_Prod``, ...; evaluators (``algebra``,
``numeric``), printers (``render.formula``, ``render.code``) and :func:`shape` use it.

This module imports nothing heavy (no sympy) so that the CLI can load conventions quickly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

#: Roles: the mathematical objects of the layer, independent of their display letters.
ROLES: tuple[str, ...] = ("X", "W", "b", "Y", "dY", "T")
#: Sizes: the batch N, inputs D and outputs M, independent of their display names.
SIZES: tuple[str, ...] = ("N", "D", "M")

R = TypeVar("R")


class Node:
    """Base class of every notation node (immutable, comparable, hashable)."""

    __slots__ = ()


@dataclass(frozen=True)
class Sym(Node):
    """A named matrix by its role: ``Sym("W")`` prints as the convention's letter for W."""

    role: str


@dataclass(frozen=True)
class Scalar(Node):
    value: Fraction


@dataclass(frozen=True)
class Recip(Node):
    size: str


@dataclass(frozen=True)
class Eye(Node):
    size: str


@dataclass(frozen=True)
class Ones(Node):
    size: str


@dataclass(frozen=True)
class Comm(Node):
    rows: str
    cols: str


@dataclass(frozen=True)
class T(Node):
    arg: Node


@dataclass(frozen=True)
class Prod(Node):
    """Matrix product of ``args`` (left to right); Scalar and Recip factors scale."""

    args: tuple[Node, ...]

    def __init__(self, *args: Node) -> None:
        object.__setattr__(self, "args", tuple(args))


@dataclass(frozen=True)
class Sum(Node):
    args: tuple[Node, ...]

    def __init__(self, *args: Node) -> None:
        object.__setattr__(self, "args", tuple(args))


@dataclass(frozen=True)
class Kron(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Vec(Node):
    arg: Node


@dataclass(frozen=True)
class Deriv(Node):
    """A derivative written as a fraction: ∂of/∂wrt, or ∂vec(of)/∂vec(wrt) when ``vec``."""

    of: str
    wrt: str
    vec: bool = False


@dataclass(frozen=True)
class Grad(Node):
    of: str
    wrt: str


@dataclass(frozen=True)
class Jac(Node):
    """A Jacobian matrix J_fn(at): ``Jac("L", "X")`` is J_L(x), ``Jac("Y", "W")`` J_y(w).

    ``fn`` is the loss L, f (everything after this layer: L = f(y)), or a role; ``at`` is
    a role. Both print as the entry letters of their role (x, w, y).
    """

    fn: str
    at: str


@dataclass(frozen=True)
class Explicit(Node):
    """An explicit matrix (a ``symderiv.algebra.PolyMatrix``) inside a formula.

    ``blocks`` is the shape of its Kronecker blocks, when it has them, so that printers can
    draw the block structure of a Jacobian. ``scalar``: a 1×1 matrix that stands for one
    number (∂L/∂x₁,₁), printed as its entry, without brackets or shape.
    """

    matrix: Any
    blocks: tuple[int, int] | None = None
    scalar: bool = False


@dataclass(frozen=True)
class Expr(Node):
    expr: Any


@dataclass(frozen=True)
class Had(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class Slope(Node):
    """The local derivatives of activation ``kind`` after affine layer ``index`` (a
    network's elementwise layer), in its cached values: relu R (the mask), tanh
    1 − A ⊙ A, sigmoid A ⊙ (1 − A); the shape of Z``index``."""

    kind: str
    index: int


@dataclass(frozen=True)
class Diag(Node):
    arg: Node


@dataclass(frozen=True)
class Written(Node):
    """A formula written out by hand, in Unicode ``text`` and in ``tex``: a network's
    pᵢⱼ = exp(zᵢⱼ)/Σₖ exp(zᵢₖ), where no tree of these nodes says it better."""

    text: str
    tex: str


@dataclass(frozen=True)
class Equation:
    """``parts[0] = parts[1] = ...``: one displayed line of mathematics."""

    parts: tuple[Node, ...]

    def __init__(self, *parts: Node) -> None:
        object.__setattr__(self, "parts", tuple(parts))


#: Nodes that scale a product instead of multiplying it as a matrix.
SCALARS: tuple[type[Node], ...] = (Scalar, Recip)


class Visitor(Generic[R]):
    """One method per node class: ``visit(node)`` calls ``self.visit_<Class>(node)``.

    A visitor that lacks a node's method raises TypeError naming both, so a formula a
    printer or evaluator cannot handle never passes silently.
    """

    def visit(self, node: Node) -> R:
        """Dispatch on the class of ``node``."""
        method: Callable[[Any], R] | None = getattr(
            self, "visit_" + type(node).__name__, None
        )
        if method is None:
            raise TypeError(
                f"{type(self).__name__} cannot handle {type(node).__name__}"
            )
        return method(node)


# -- shapes -------------------------------------------------------------------------------
#: One dimension as a product of factors, sizes by name or numbers: ("N", "M") is N·M,
#: () is 1.
Dim = tuple[str | int, ...]


def _dim_text(dim: Dim, names: Mapping[str, str]) -> str:
    return (
        "·".join(names.get(f, f) if isinstance(f, str) else str(f) for f in dim) or "1"
    )


def _dim_value(dim: Dim, sizes: Mapping[str, int]) -> int:
    return math.prod(sizes[f] if isinstance(f, str) else f for f in dim)


@dataclass(frozen=True)
class Shape:
    """A matrix shape, in size names and numbers alike: Shape(("N",), ("D",)) is N×D."""

    rows: Dim
    cols: Dim

    @property
    def T(self) -> Shape:  # the maths name
        """The transposed shape."""
        return Shape(self.cols, self.rows)

    def numbers(self, sizes: Mapping[str, int]) -> tuple[int, int]:
        """The shape at concrete sizes: N×D at {"N": 2, "D": 3} is (2, 3)."""
        return (_dim_value(self.rows, sizes), _dim_value(self.cols, sizes))

    def names(self, names: Mapping[str, str] | None = None) -> tuple[str, str]:
        """The shape in size names, e.g. ("N·M", "C_in"); ``names`` maps N, D, M."""
        names = names or {}
        return (_dim_text(self.rows, names), _dim_text(self.cols, names))

    def count(self) -> Dim:
        """The number of entries as a product: N×D has N·D."""
        return self.rows + self.cols


def _same(a: Dim, b: Dim) -> bool:
    """Equal as products (N·M = M·N); dims holding numbers are not compared."""
    if any(isinstance(f, int) for f in a + b):
        return True
    return Counter(a) == Counter(b)


class _ShapeOf(Visitor["Shape | None"]):
    """The shape of a formula; None for scalars and words."""

    def __init__(self, roles: Mapping[str, Shape], numerator: bool) -> None:
        self.roles, self.numerator = roles, numerator

    def role(self, role: str) -> Shape:
        if role == "L":
            return Shape((), ())
        return self.roles[role]

    def matrix(self, node: Node) -> Shape:
        out = self.visit(node)
        if out is None:
            raise TypeError(f"{type(node).__name__} has no matrix shape")
        return out

    def visit_Sym(self, node: Sym) -> Shape:
        return self.role(node.role)

    def visit_Scalar(self, node: Scalar) -> None:
        return None

    visit_Recip = visit_Scalar
    visit_Written = visit_Scalar

    def visit_Eye(self, node: Eye) -> Shape:
        return Shape((node.size,), (node.size,))

    def visit_Ones(self, node: Ones) -> Shape:
        return Shape((node.size,), ())

    def visit_Comm(self, node: Comm) -> Shape:
        k: Dim = (node.rows, node.cols)
        return Shape(k, k)

    def visit_T(self, node: T) -> Shape:
        return self.matrix(node.arg).T

    def visit_Prod(self, node: Prod) -> Shape | None:
        shapes = [self.matrix(a) for a in node.args if not isinstance(a, SCALARS)]
        if not shapes:
            return None
        for left, right in zip(shapes, shapes[1:], strict=False):
            if not _same(left.cols, right.rows):
                raise ValueError(
                    f"product of shapes {left.names()} and {right.names()}"
                )
        return Shape(shapes[0].rows, shapes[-1].cols)

    def visit_Sum(self, node: Sum) -> Shape:
        return self.matrix(node.args[0])

    def visit_Kron(self, node: Kron) -> Shape:
        a, b = self.matrix(node.left), self.matrix(node.right)
        return Shape(a.rows + b.rows, a.cols + b.cols)

    def visit_Vec(self, node: Vec) -> Shape:
        return Shape(self.matrix(node.arg).count(), ())

    def visit_Deriv(self, node: Deriv) -> Shape:
        of, wrt = self.role(node.of), self.role(node.wrt)
        if node.of == "L" and not node.vec:
            return wrt.T if self.numerator else wrt
        return Shape(of.count(), wrt.count())

    def visit_Grad(self, node: Grad) -> Shape:
        return self.role(node.wrt)

    def visit_Jac(self, node: Jac) -> Shape:
        # J_f(y): (1, N·M); J_y(v): (N·M, #v); J_L(v): (1, #v).
        rows = () if node.fn in ("L", "f") else self.role(node.fn).count()
        return Shape(rows, self.role(node.at).count())

    def visit_Explicit(self, node: Explicit) -> Shape:
        rows, cols = node.matrix.shape
        return Shape((int(rows),), (int(cols),))

    def visit_Expr(self, node: Expr) -> Shape | None:
        shape = getattr(node.expr, "shape", None)
        if isinstance(shape, tuple) and len(shape) == 2:
            return Shape((int(shape[0]),), (int(shape[1]),))
        return None

    # a network's elementwise layers (symderiv.net)
    def visit_Had(self, node: Had) -> Shape:
        return self.matrix(node.left)

    def visit_Slope(self, node: Slope) -> Shape:
        return self.role(f"Z{node.index}")

    def visit_Diag(self, node: Diag) -> Shape:
        k = self.matrix(node.arg).count()
        return Shape(k, k)


def shape(
    node: Node, roles: Mapping[str, Shape], numerator: bool = False
) -> Shape | None:
    """The shape of ``node``, in size names (and numbers via ``Shape.numbers``).

    Args:
        node: any formula.
        roles: the shape of each role, e.g. ``Convention.shapes``.
        numerator: numerator layout (∂L/∂W takes Wᵀ's shape).

    Returns:
        The shape, or None for a scalar (1/N, 3) or words.

    Raises:
        ValueError: a product whose inner sizes differ.

    >>> roles = {"X": Shape(("N",), ("D",)), "dY": Shape(("N",), ("M",))}
    >>> shape(Prod(T(Sym("X")), Sym("dY")), roles).names()
    ('D', 'M')
    >>> shape(Kron(Eye("N"), Sym("X")), roles).numbers({"N": 2, "D": 3})
    (4, 6)
    """
    return _ShapeOf(roles, numerator).visit(node)


def product(*args: Node) -> Node:
    """The product of ``args``; a single factor is itself, not a product of one."""
    return args[0] if len(args) == 1 else Prod(*args)


def transpose(node: Node) -> Node:
    """The transpose of a product formula, pushed onto its factors: (A Bᵀ)ᵀ = B Aᵀ.

    >>> transpose(Prod(Sym("dY"), T(Sym("W"))))
    Prod(args=(Sym(role='W'), T(arg=Sym(role='dY'))))
    """
    if isinstance(node, (Eye, Scalar, Recip)):
        return node
    if isinstance(node, T):
        return node.arg
    if isinstance(node, Prod):
        return Prod(*(transpose(a) for a in reversed(node.args)))
    if isinstance(node, Sum):
        return Sum(*(transpose(a) for a in node.args))
    if isinstance(node, Kron):
        return Kron(transpose(node.left), transpose(node.right))
    return T(node)
