"""An independent oracle: the layer typed in directly with sympy, differentiated directly.

Nothing here uses symderiv's engine or algebra: matrices are built from ``sympy.Symbol``
with the canonical names of SPEC section 1, the forward pass is written per convention,
and every derivative is ``sympy.diff`` of the scalar loss by each entry.
"""

from __future__ import annotations

import sympy as sp


def sym_matrix(prefix: str, rows: int, cols: int) -> sp.Matrix:
    """Entries prefix_i_j, 1-based (b_j for a bias row or column)."""
    if prefix == "b":
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"b_{max(i, j) + 1}"))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}_{j + 1}"))


def layer(convention: str, n: int, d: int, m: int) -> dict[str, sp.Matrix]:
    """X, W, b, Y, dY, T for one convention, typed in from SPEC section 1.

    ``ones`` is the ones vector 1_N the bias is broadcast with (its length is the batch).
    """
    X = sym_matrix("x", n, d)
    ones = sp.ones(n, 1)
    if convention == "wx":  # samples as columns: X is D×N, Y = W X + b 1ᵀ is M×N
        X = sym_matrix("x", d, n)
        W = sym_matrix("w", m, d)
        b = sym_matrix("b", m, 1)
        Y = W * X + b * ones.T
        return {"X": X, "W": W, "b": b, "Y": Y, "dY": sym_matrix("dy", m, n),
                "T": sym_matrix("t", m, n), "ones": ones}  # fmt: skip
    if convention == "xw":
        W = sym_matrix("w", d, m)
        b = sym_matrix("b", 1, m)
        Y = X * W + ones * b
    elif convention == "torch":
        W = sym_matrix("w", m, d)
        b = sym_matrix("b", 1, m)
        Y = X * W.T + ones * b
    elif convention == "column":
        W = sym_matrix("w", m, d)
        b = sym_matrix("b", m, 1)
        Y = X * W.T + ones * b.T
    else:  # pragma: no cover
        raise ValueError(convention)
    return {
        "X": X,
        "W": W,
        "b": b,
        "Y": Y,
        "dY": sym_matrix("dy", n, m),
        "T": sym_matrix("t", n, m),
        "ones": ones,
    }


def loss(mats: dict[str, sp.Matrix], kind: str) -> sp.Expr:
    """L = Σ dY ⊙ Y (generic), 1/(2N) Σ (Y − T)² (mse) or Σ Y (sum)."""
    Y = mats["Y"]
    if kind == "generic":
        return sum((a * b for a, b in zip(mats["dY"], Y, strict=True)), sp.Integer(0))
    if kind == "mse":
        n = mats["ones"].rows  # the batch N
        return sp.Rational(1, 2 * n) * sum(
            ((y - t) ** 2 for y, t in zip(Y, mats["T"], strict=True)), sp.Integer(0)
        )
    return sum(Y, sp.Integer(0))


def gradient(mats: dict[str, sp.Matrix], var: str, kind: str) -> sp.Matrix:
    """∂L/∂var entry by entry, in var's own shape (denominator layout)."""
    L = loss(mats, kind)
    V = mats[var]
    return sp.Matrix(V.rows, V.cols, lambda i, j: sp.diff(L, V[i, j]))


def vec(M: sp.Matrix, order: str) -> sp.Matrix:
    """Row order stacks rows (reshape(-1)); col order stacks columns."""
    if order == "row":
        return sp.Matrix([M[i, j] for i in range(M.rows) for j in range(M.cols)])
    return sp.Matrix([M[i, j] for j in range(M.cols) for i in range(M.rows)])


def jacobian(mats: dict[str, sp.Matrix], var: str, order: str) -> sp.Matrix:
    """∂vec(Y)/∂vec(var) by sympy's Matrix.jacobian."""
    return vec(mats["Y"], order).jacobian(vec(mats[var], order))


def same(a: sp.Matrix, b: sp.Matrix) -> bool:
    """Exact equality of two matrices of expressions."""
    return a.shape == b.shape and all(
        sp.expand(x - y) == 0 for x, y in zip(a, b, strict=True)
    )
