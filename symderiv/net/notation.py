"""Evaluating a network's formulas; its nodes (Had, Slope, Diag) live in symderiv.notation.

Roles name matrices of the network: X, W1, b1, Z1, A1, R1, P, T, dY, dZ1, dA1, ... A tree
such as ``Prod(T(Sym("X")), Had(Prod(Sym("dZ2"), T(Sym("W2"))), Slope("relu", 1)))`` is
dW1 = Xᵀ·((dZ2·W2ᵀ) ⊙ R1). :func:`evaluate` computes a tree with explicit matrices.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from ..algebra import ONE, Coeff, Poly, PolyMatrix
from ..notation import (
    Comm,
    Diag,
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
)


def slope_matrix(kind: str, index: int, shape: tuple[int, int]) -> PolyMatrix:
    """The local derivative f'(Zℓ) of an activation, written in its cached values.

    relu: r_ij; tanh: 1 − a_ij²; sigmoid: a_ij − a_ij². Shape (N, K).
    """
    rows, cols = shape
    entries: dict[tuple[int, int], Poly] = {}
    for i in range(rows):
        for j in range(cols):
            if kind == "relu":
                entries[i, j] = Poly.atom(f"r{index}_{i + 1}_{j + 1}")
            else:
                a = Poly.atom(f"a{index}_{i + 1}_{j + 1}")
                if kind == "tanh":
                    entries[i, j] = ONE - a * a
                else:
                    entries[i, j] = a - a * a
    return PolyMatrix(rows, cols, entries)


def hadamard(a: PolyMatrix, b: PolyMatrix) -> PolyMatrix:
    """A ⊙ B, entry by entry (same shape)."""
    if a.shape != b.shape:
        raise ValueError(f"Hadamard product of shapes {a.shape} and {b.shape}")
    out = {}
    for key, v in a.entries.items():
        w = b.entries.get(key)
        if w is not None:
            p = v * w
            if not p.is_zero():
                out[key] = p
    return PolyMatrix(a.rows, a.cols, out)


def diag_of(values: list[Poly]) -> PolyMatrix:
    """diag(v): a square matrix with ``values`` on its diagonal."""
    k = len(values)
    return PolyMatrix(
        k, k, {(i, i): v for i, v in enumerate(values) if not v.is_zero()}
    )


def evaluate(
    node: Node,
    env: Mapping[str, PolyMatrix],
    order: str = "row",
    sizes: Mapping[str, int] | None = None,
) -> PolyMatrix:
    """The value of a network formula with explicit matrices for its roles.

    Args:
        node: a tree of Sym, T, Prod (Scalar and Recip factors allowed), Sum, Ones, Eye,
            Comm, Kron, Had, Slope and Diag nodes.
        env: role -> matrix (X, W1, b1, dZ2, ...; Slope builds its matrix from the
            cached names, so only Zℓ's shape is read).
        order: vectorization order (for Comm and Diag).
        sizes: size name -> value: N, D, K1, K2, ... (the network's widths).
    """
    sizes = sizes or {}

    def size(name: str | int) -> int:
        return name if isinstance(name, int) else sizes[name]

    def walk(node: Node) -> PolyMatrix:
        if isinstance(node, Sym):
            return env[node.role]
        if isinstance(node, T):
            return walk(node.arg).transpose()
        if isinstance(node, Eye):
            return PolyMatrix.eye(size(node.size))
        if isinstance(node, Ones):
            return PolyMatrix.ones(size(node.size))
        if isinstance(node, Comm):
            return PolyMatrix.commutation(size(node.rows), size(node.cols), order)
        if isinstance(node, Kron):
            return walk(node.left).kron(walk(node.right))
        if isinstance(node, Had):
            return hadamard(walk(node.left), walk(node.right))
        if isinstance(node, Slope):
            return slope_matrix(node.kind, node.index, env[f"Z{node.index}"].shape)
        if isinstance(node, Diag):
            return diag_of(walk(node.arg).vec(order))
        if isinstance(node, Sum):
            parts = [walk(a) for a in node.args]
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            return total
        if isinstance(node, Prod):
            factor: Coeff = 1
            result: PolyMatrix | None = None
            for a in node.args:
                if isinstance(a, Scalar):
                    factor = factor * a.value
                    continue
                if isinstance(a, Recip):
                    factor = factor * Fraction(1, size(a.size))
                    continue
                value = walk(a)
                result = value if result is None else result @ value
            if result is None:
                raise ValueError("a product of scalars only")
            if isinstance(factor, Fraction) and factor.denominator == 1:
                factor = factor.numerator
            return result.scale(factor) if factor != 1 else result
        raise TypeError(f"cannot evaluate {type(node).__name__} as a matrix")

    return walk(node)


def rename(
    node: Node, roles: Mapping[str, str], sizes: Mapping[str, str] | None = None
) -> Node:
    """``node`` with roles and sizes renamed to a layer's own: X -> A1, W -> W2, dY -> dZ2,
    and the single layer's sizes D, M -> the layer's widths K1, K2."""
    sizes = sizes or {}

    def walk(node: Node) -> Node:
        if isinstance(node, Sym):
            return Sym(roles.get(node.role, node.role))
        if isinstance(node, Ones):
            return Ones(sizes.get(node.size, node.size))
        if isinstance(node, Eye):
            return Eye(sizes.get(node.size, node.size))
        if isinstance(node, Recip):
            return Recip(sizes.get(node.size, node.size))
        if isinstance(node, Comm):
            return Comm(
                sizes.get(node.rows, node.rows), sizes.get(node.cols, node.cols)
            )
        if isinstance(node, T):
            return T(walk(node.arg))
        if isinstance(node, Prod):
            return Prod(*(walk(a) for a in node.args))
        if isinstance(node, Sum):
            return Sum(*(walk(a) for a in node.args))
        if isinstance(node, Kron):
            return Kron(walk(node.left), walk(node.right))
        if isinstance(node, Had):
            return Had(walk(node.left), walk(node.right))
        if isinstance(node, Diag):
            return Diag(walk(node.arg))
        return node

    return walk(node)


def substitute(node: Node, values: Mapping[str, Node]) -> Node:
    """``node`` with each Sym whose role is in ``values`` replaced by that formula."""
    if isinstance(node, Sym):
        return values.get(node.role, node)
    if isinstance(node, T):
        return T(substitute(node.arg, values))
    if isinstance(node, Prod):
        return Prod(*(substitute(a, values) for a in node.args))
    if isinstance(node, Sum):
        return Sum(*(substitute(a, values) for a in node.args))
    if isinstance(node, Kron):
        return Kron(substitute(node.left, values), substitute(node.right, values))
    if isinstance(node, Had):
        return Had(substitute(node.left, values), substitute(node.right, values))
    if isinstance(node, Diag):
        return Diag(substitute(node.arg, values))
    return node


__all__ = [
    "Diag",
    "Had",
    "Slope",
    "diag_of",
    "evaluate",
    "hadamard",
    "rename",
    "slope_matrix",
    "substitute",
]
