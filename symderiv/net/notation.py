"""Evaluating a network's formulas; its nodes (Had, Slope, Diag) live in symderiv.notation.

Roles name matrices of the network: X, W1, b1, Z1, A1, R1, P, T, dY, dZ1, dA1, ... A tree
such as ``Prod(T(Sym("X")), Had(Prod(Sym("dZ2"), T(Sym("W2"))), Slope("relu", 1)))`` is
dW1 = Xᵀ·((dZ2·W2ᵀ) ⊙ R1). :func:`evaluate` computes a tree with explicit matrices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from .. import algebra
from ..algebra import ONE, Poly, PolyMatrix
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
    Slope,
    Sum,
    Sym,
    T,
)


def slope_poly(kind: str, cached: Poly) -> Poly:
    """An activation's local derivative at one entry, in the entry it caches: relu its
    mask r, tanh 1 − a², sigmoid a − a²."""
    if kind == "relu":
        return cached
    return (ONE if kind == "tanh" else cached) - cached * cached


def slope_matrix(kind: str, index: int, shape: tuple[int, int]) -> PolyMatrix:
    """The local derivative f'(Zℓ) of an activation, written in its cached values.

    relu: r_ij; tanh: 1 − a_ij²; sigmoid: a_ij − a_ij² (:func:`slope_poly`). Shape (N, K).
    """
    rows, cols = shape

    def slope(i: int, j: int) -> Poly:
        cached = Poly.atom(f"{'r' if kind == 'relu' else 'a'}{index}_{i + 1}_{j + 1}")
        return slope_poly(kind, cached)

    return PolyMatrix(
        rows, cols, {(i, j): slope(i, j) for i in range(rows) for j in range(cols)}
    )


def hadamard(a: PolyMatrix, b: PolyMatrix) -> PolyMatrix:
    """A ⊙ B, entry by entry (same shape)."""
    if a.shape != b.shape:
        raise ValueError(f"Hadamard product of shapes {a.shape} and {b.shape}")
    out = {key: v * b[key] for key, v in a.entries.items()}
    return PolyMatrix(a.rows, a.cols, {k: p for k, p in out.items() if not p.is_zero()})


def diag_of(values: list[Poly]) -> PolyMatrix:
    """diag(v): a square matrix with ``values`` on its diagonal."""
    k = len(values)
    return PolyMatrix(
        k, k, {(i, i): v for i, v in enumerate(values) if not v.is_zero()}
    )


class _Evaluate(algebra._Evaluate):
    """The single layer's evaluator, with the network's Had, Slope and Diag nodes."""

    def visit_Had(self, node: Had) -> PolyMatrix:
        return hadamard(self.visit(node.left), self.visit(node.right))

    def visit_Slope(self, node: Slope) -> PolyMatrix:
        shape = self.env[f"Z{node.index}"].shape
        return slope_matrix(node.kind, node.index, shape)

    def visit_Diag(self, node: Diag) -> PolyMatrix:
        return diag_of(self.visit(node.arg).vec(self.order))


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
    return _Evaluate(env, sizes or {}, order).visit(node)


def _rebuild(node: Node, leaf: Callable[[Node], Node]) -> Node:
    """``node`` with ``leaf`` applied to each of its leaves (nodes without a sub-formula)."""
    if isinstance(node, (T, Diag)):
        return type(node)(_rebuild(node.arg, leaf))
    if isinstance(node, (Prod, Sum)):
        return type(node)(*(_rebuild(a, leaf) for a in node.args))
    if isinstance(node, (Kron, Had)):
        return type(node)(_rebuild(node.left, leaf), _rebuild(node.right, leaf))
    return leaf(node)


def rename(
    node: Node, roles: Mapping[str, str], sizes: Mapping[str, str] | None = None
) -> Node:
    """``node`` with roles and sizes renamed to a layer's own: X -> A1, W -> W2, dY -> dZ2,
    and the single layer's sizes D, M -> the layer's widths K1, K2."""
    sizes = sizes or {}

    def leaf(node: Node) -> Node:
        if isinstance(node, Sym):
            return Sym(roles.get(node.role, node.role))
        if isinstance(node, (Ones, Eye, Recip)):
            return replace(node, size=sizes.get(node.size, node.size))
        if isinstance(node, Comm):
            return Comm(
                sizes.get(node.rows, node.rows), sizes.get(node.cols, node.cols)
            )
        return node

    return _rebuild(node, leaf)


def substitute(node: Node, values: Mapping[str, Node]) -> Node:
    """``node`` with each Sym whose role is in ``values`` replaced by that formula."""
    return _rebuild(node, lambda n: values.get(n.role, n) if isinstance(n, Sym) else n)


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
