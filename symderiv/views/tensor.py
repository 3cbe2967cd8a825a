"""The tensor view: ∂Y/∂X (N×M×N×D), ∂Y/∂W and ∂Y/∂b as sparse arrays, contracted with ∂L/∂Y.

Each array is built from the delta structure of ∂y_ij/∂v (one nonzero at a time, never a
dense differentiation), contracted with the upstream derivative and compared with the
jacobian view's result and its explicit Jacobian.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .. import maths, notes
from ..algebra import Poly, PolyMatrix, vec_positions
from ..conventions import Config
from ..notation import Deriv, Equation, Explicit
from ..notes import Prose
from ..render.indexnotation import Entry, Partial, Product
from ..steps import Check, Step, StepKind
from .calculus import (
    Context,
    VarIndex,
    View,
    compile_entry,
    delta_pairs,
    equation,
    in_layout,
    size_env,
    var_entries,
    var_indices,
)


@dataclass(frozen=True)
class DerivativeTensor:
    """∂Y/∂V as a sparse array: (i, j, *index of v) 0-based -> ∂y_ij/∂v, nonzeros only.

    Shape (N, M, *V's index shape): N×M×N×D for X, N×M×(W's shape) for W, N×M×M for b.
    """

    var: str
    shape: tuple[int, ...]
    entries: dict[tuple[int, ...], Poly]

    @property
    def size(self) -> int:
        """Number of entries, zeros included."""
        return math.prod(self.shape)


def tensor_view(ctx: Context) -> View:
    """∂Y/∂V as arrays, contracted with ∂L/∂Y: steps, certificate rows and extras.

    Extras per variable (``Result.extra["tensor"]``): the array's shape, its number of
    entries and nonzeros, the entry derivative (sympy display objects) and the verdict.
    """
    return ctx.collect("tensor", _variable)


def build(ctx: Context, var: str, vi: VarIndex, partial: Any) -> DerivativeTensor:
    """The nonzeros of ∂Y/∂var from the delta structure of ∂y_ij/∂v.

    The deltas tie indices together (δ_ik: k = i); only one index per tied group is
    looped over, so the work is the number of nonzeros, not the number of entries.
    """
    c, calc = ctx.config, ctx.calc
    i, j = ctx.i, ctx.j
    factors = sp.Mul.make_args(partial)
    deltas = [f for f in factors if isinstance(f, sp.KroneckerDelta)]
    rest = sp.Mul(*(f for f in factors if not isinstance(f, sp.KroneckerDelta)))
    value = compile_entry(rest, ctx.upstream)
    var_shape = (c.m,) if var == "b" else c.shape(var)
    y_rows, y_cols = c.shape("Y")
    limit = {i: y_rows, j: y_cols, **dict(zip(vi.indices, var_shape, strict=True))}
    group = {s: s for s in limit}

    def find(s: Any) -> Any:
        while group[s] != s:
            s = group[s]
        return s

    for d in deltas:
        a, b = (find(x) for x in d.args[:2])
        group[a] = b
    rep = {s: find(s) for s in limit}
    reps = sorted(set(rep.values()), key=str)
    top = [min(limit[s] for s in limit if rep[s] == r) for r in reps]
    order = (i, j, *vi.indices)  # the array's index order: ∂y_ij/∂v_kl
    slot = [reps.index(rep[s]) for s in order]  # the loop each index follows
    names = [str(s) for s in order]
    env = size_env(calc, c)
    entries: dict[tuple[int, ...], Poly] = {}
    for values in itertools.product(*(range(1, t + 1) for t in top)):
        for name, k in zip(names, slot, strict=True):
            env[name] = values[k]
        v = value(env)
        if not v.is_zero():
            entries[tuple(values[k] - 1 for k in slot)] = v
    return DerivativeTensor(var, (y_rows, y_cols, *var_shape), entries)


def _positions(c: Config, var: str) -> dict[tuple[int, ...], tuple[int, int]]:
    """0-based index of each entry of ``var`` -> its (row, column) in ``var``'s matrix."""
    return {tuple(k - 1 for k in index): pos for index, pos in var_entries(var, c)}


def _grid(c: Config, var: str, tensor: DerivativeTensor) -> PolyMatrix:
    """The array drawn as an N×M grid of blocks; block (i, j) is ∂y_ij/∂V (V's shape)."""
    rows, cols = c.shape(var)
    position = _positions(c, var)
    out: dict[tuple[int, int], Poly] = {}
    for (i, j, *rest), v in tensor.entries.items():
        r, col = position[tuple(rest)]
        out[i * rows + r, j * cols + col] = v
    y_rows, y_cols = c.shape("Y")
    return PolyMatrix(y_rows * rows, y_cols * cols, out)


def _check(
    ctx: Context, var: str, tensor: DerivativeTensor
) -> tuple[PolyMatrix, bool, Prose]:
    """Contract with ∂L/∂Y; compare with the chain rule and the explicit Jacobian."""
    c = ctx.config
    result = ctx.results[var]
    upstream = ctx.upstream
    position = _positions(c, var)
    # each entry Σ_ij ∂L/∂y_ij·∂y_ij/∂v, its terms in the order of (i, j)
    pairs: dict[tuple[int, int], list[tuple[Poly, Poly]]] = {}
    for (i, j, *rest), v in sorted(tensor.entries.items()):
        pairs.setdefault(position[tuple(rest)], []).append((upstream[i, j], v))
    out = {}
    for pos, products in pairs.items():
        p = Poly.dot(products)
        if not p.is_zero():
            out[in_layout(c, pos)] = p
    derivative = result.derivative
    contracted = PolyMatrix(derivative.rows, derivative.cols, out)
    why = maths.compare(contracted, derivative, "contraction gives", "the chain rule")
    if why is not None:
        return contracted, False, why
    # The same numbers as the explicit Jacobian: rows in vec(Y) order, columns in vec(V).
    rows = {p: r for r, p in enumerate(vec_positions(c.shape("Y"), c.vec))}
    cols = {p: k for k, p in enumerate(vec_positions(c.shape(var), c.vec))}
    jac = result.jacobian
    for (i, j, *rest), v in tensor.entries.items():
        if jac[rows[i, j], cols[position[tuple(rest)]]] != v:
            at = tuple(k + 1 for k in rest)
            return (
                contracted,
                False,
                notes.tensor_entry_differs(c, var, (i + 1, j + 1), at),
            )
    if len(tensor.entries) != jac.nnz():
        why = notes.tensor_count_differs(len(tensor.entries), jac.nnz())
        return contracted, False, why
    return contracted, True, notes.tensor_agrees(c, len(tensor.entries))


def _variable(ctx: Context, var: str) -> tuple[list[Step], Check, dict[str, Any]]:
    c, calc, show = ctx.config, ctx.calc, ctx.show
    i, j = ctx.i, ctx.j
    step = functools.partial(Step, wrt=var, view="tensor")
    vi = var_indices(var, "kl")
    y_ij = show.entry_symbol("Y", (i, j))
    dv = show.partial(y_ij, var, vi.indices)
    _, _, partial = calc.partial(var, vi.indices, i, j)
    tensor = build(ctx, var, vi, partial)
    names = c.size_names
    y_shape = tuple(calc.conv.shapes["Y"].names(c.letters.sizes))
    symbolic = (
        (*y_shape, names[2])
        if var == "b"
        else (*y_shape, *(str(s) for s in calc.shape(var)))
    )
    where = delta_pairs(partial)
    nnz = len(tensor.entries)
    contracted, ok, detail = _check(ctx, var, tensor)
    dl_mat = Partial(show.loss, show.matrix_name(var))
    dy_mat = Partial(show.loss, show.matrix_name("Y"))
    ty_mat = Partial(show.matrix_name("Y"), show.matrix_name(var))
    out_indices = tuple(reversed(vi.indices)) if c.layout == "numerator" else vi.indices
    contraction = ctx.sum_over_y(
        Product(Entry(dy_mat, i, j), Entry(ty_mat, i, j, *vi.indices))
    )
    steps = [
        step(
            f"tensor_dY_d{var}",
            StepKind.JACOBIAN,
            notes.tensor_title(c, var, len(tensor.shape)),
            (
                equation(dv, show.show(partial)),
                Equation(
                    Deriv("Y", var), Explicit(_grid(c, var, tensor), c.shape(var))
                ),
            ),
            note=notes.tensor_note(c, var, symbolic, tensor.shape, nnz, where),
            uses=("forward",),
        ),
        step(
            f"tensor_dL_d{var}",
            StepKind.CHAIN,
            notes.tensor_contract_title(c, var),
            (
                equation(Entry(dl_mat, *out_indices), contraction),
                Equation(Deriv("L", var), Explicit(contracted)),
            ),
            note=notes.tensor_contract_note(c, var),
            uses=("upstream", f"tensor_dY_d{var}"),
        ),
    ]
    extra = {
        "shape": list(tensor.shape),
        "entries": tensor.size,
        "nonzeros": nnz,
        "entry": (dv, show.show(partial)),
        "verified": ok,
    }
    return steps, Check(var, notes.Claim.TENSOR, ok, detail), extra
