"""The arithmetic of the derivation, in one sitting: each local derivative beside its code.

The layer is Y = X W + 1_N b (or its convention's form), with every entry its own symbol.
Backpropagation through it, the long way a lecturer does it on the board:

1. vectorize: y = vec(Y), (N·M, 1), in the order asked (rows or columns stacked);
2. the Jacobian J_y(v) = ∂y/∂vec(V), (N·M, #V), read off the structure of each y_ij;
3. the chain rule J_L(v) = J_f(y)·J_y(v): the (1, N·M) row of upstream derivatives times
   the Jacobian, (1, #V);
4. unvec: put each ∂L/∂v back where v sits in V, a matrix of V's shape;
5. compare exactly with the closed form (dY·Wᵀ, Xᵀ·dY, 1ᵀ·dY) evaluated independently.

Everything is exact (``symderiv.algebra``); nothing here formats text for a reader.
"""

from __future__ import annotations

from fractions import Fraction

from . import notes
from .algebra import Poly, PolyMatrix, affine_jacobian
from .conventions import Convention
from .layer import AffineLayer
from .notes import Prose


def upstream(layer: AffineLayer, loss: str) -> PolyMatrix:
    """dY = ∂L/∂Y as the chain rule uses it, (N, M).

    The symbols dy_i_j (the generic loss, and the MSE loss, whose value is substituted
    later), or ones for L = Σ y_ij, since ∂L/∂y_ij = 1.
    """
    if loss == "sum":
        return PolyMatrix.ones(*layer.shape("Y"))
    return layer.matrix("dY")


def loss_upstream(layer: AffineLayer, loss: str) -> PolyMatrix | None:
    """∂L/∂y_ij written out for the losses that define L, Y's shape; None otherwise.

    MSE, L = 1/(2N) Σ_i ‖y_i − t_i‖²: ∂L/∂y_ij = (y_ij − t_ij)/N.
    Softmax cross-entropy, L = −(1/N) Σ_ij t_ij log p_ij with P the row-wise softmax of Y:
    ∂L/∂y_ij = (p_ij − t_ij)/N, in the cached softmax outputs p_i_j.
    """
    if loss == "mse":
        values = layer.outputs
    elif loss == "softmax-ce":
        values = PolyMatrix.of_atoms("P", *layer.shape("Y"))  # p_i_j
    else:
        return None
    return (values - layer.matrix("T")).scale(Fraction(1, layer.n))


def column(values: list[Poly]) -> PolyMatrix:
    """A list of entries as a column vector, (len, 1)."""
    return PolyMatrix(
        len(values), 1, {(k, 0): v for k, v in enumerate(values) if not v.is_zero()}
    )


def atom_names(matrix: PolyMatrix, order: str) -> list[str]:
    """The names in a matrix of atoms as vec lists them: x_1_1, x_1_2, ... (row order)."""
    return [next(iter(p.atoms())) for p in matrix.vec(order)]


def entries_in_vec_order(layer: AffineLayer, var: str, order: str) -> list[str]:
    """The entry names of the layer's ``var`` in vec order (:func:`atom_names`)."""
    return atom_names(layer.matrix(var), order)


def jacobian(layer: AffineLayer, var: str, order: str) -> PolyMatrix:
    """∂vec(Y)/∂vec(var), explicit, (N·M, #var): row r is output r of vec(Y).

    One pass over the terms of each y_ij: a term c·v·rest contributes c·rest to
    ∂y_ij/∂v. The map is affine in each variable, so no term holds v twice; the
    local derivatives are ∂y_ij/∂x_il = w_lj, ∂y_ij/∂w_lj = x_il, ∂y_ij/∂b_j = 1.
    """
    names = entries_in_vec_order(layer, var, order)
    return affine_jacobian(layer.Y.vec(order), names)


def chain_rule(
    upstream: PolyMatrix, jac: PolyMatrix, order: str
) -> tuple[PolyMatrix, PolyMatrix]:
    """J_L(v) = J_f(y)·J_y(v): the (1, N·M) upstream row times the (N·M, #v) Jacobian.

    Returns:
        (the row J_f(y) = vec(dY)ᵀ, (1, N·M); the result J_L(v), (1, #v)).
    """
    row = column(upstream.vec(order)).T  # vec(dY)ᵀ
    # Sparse row times matrix: column c of J_L collects row[r]·J[r, c], one Σ each.
    return row, row @ jac


def unvec(chain: PolyMatrix, shape: tuple[int, int], order: str) -> PolyMatrix:
    """The (1, #V) row J_L(v) put back into V's shape: ∂L/∂v where v sits in V."""
    return PolyMatrix.unvec([chain[0, k] for k in range(chain.cols)], shape, order)


def blocks(
    conv: Convention, var: str, order: str, n: int, d: int, m: int
) -> tuple[int, int]:
    """Shape of the Kronecker blocks of ∂vec(Y)/∂vec(var) (for drawing them).

    Row order: I_N ⊗ Wᵀ has N×N blocks of Wᵀ's shape (M, D), X ⊗ I_M blocks of I_M;
    column order: Wᵀ ⊗ I_N has blocks I_N, and so on.
    """
    row = order == "row"
    if conv.samples_as_columns:  # W ⊗ I_N, I_M ⊗ Xᵀ, I_M ⊗ 1_N (row); I_N ⊗ W, ...
        return {
            "X": (n, n) if row else (m, d),
            "W": (n, d) if row else (m, m),
            "b": (n, 1) if row else (m, m),
        }[var]
    if var == "X":
        return (m, d) if row else (n, n)
    if var == "W":
        if conv.weight_transposed:
            return (m, d * m) if row else (n, d * m)
        return (m, m) if row else (n, d)
    return (m, m) if row else (n, 1)


def compare(
    got: PolyMatrix, expected: PolyMatrix, got_name: str, expected_name: str
) -> Prose | None:
    """None when the two matrices are equal entry by entry (exactly); else the first
    difference as a sentence: "entry (1, 2): explicit x_1_1 but Kronecker form 0"."""
    diff = got.first_difference(expected)
    if diff is None:
        return None
    return notes.differs(
        (diff[0] + 1, diff[1] + 1),
        got_name,
        notes.Code(got[diff].to_str()),
        expected_name,
        notes.Code(expected[diff].to_str()),
    )
