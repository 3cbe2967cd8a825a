"""The maths behind three teaching devices, as data (no text, no formatting).

* :func:`memory_argument`: why no framework builds the explicit Jacobian. At a real layer
  (CS231n's N = 64, D = M = 4096) ∂vec(Y)/∂vec(X) alone has (N·M)·(N·D) ≈ 6.9·10¹⁰
  entries, 256 GiB in float32, while the vector-Jacobian product dY·Wᵀ needs N·M·D
  multiply-adds and stores only an N×D result.
* :func:`input_slices`: the other slicing of the derivative tensor (CS231n, seed 003). For
  each entry v_kl of a variable, ∂Y/∂v_kl is a matrix shaped like Y; contracted with dY
  (Σ_ij ∂L/∂y_ij · ∂y_ij/∂v_kl) it gives ∂L/∂v_kl. :func:`output_slices` is today's
  slicing by output entry (block (i, j) = ∂y_ij/∂V, shaped like V). Both group the same
  products ∂L/∂y_ij · ∂y_ij/∂v_kl, once by input entry and once by output entry, so
  they give the same numbers; :attr:`Slicing.agrees` checks it entry by entry.
* :func:`function_view`: seed 002's route. Before the Jacobian, the layer as a function
  of one variable V alone, the map vec(V) ↦ vec(Y) from ℝ^{#V} to ℝ^{N·M}, with the other
  matrices held constant, and its Jacobian J_y(v) first as the matrix of symbols
  ∂y_ij/∂v_kl, then evaluated.

Everything is computed from the derivation (its layer and results); positions are
0-based here and printers add the index base they are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .algebra import Poly, PolyMatrix, vec_positions
from .conventions import entry_name, split_entry
from .maths import entries_in_vec_order

if TYPE_CHECKING:
    from .steps import Derivation

#: The layer of CS231n's memory argument: a minibatch of 64, 4096 inputs and outputs.
REAL_LAYER: tuple[int, int, int] = (64, 4096, 4096)
#: Bytes of one float32 number.
FLOAT32_BYTES = 4


# -- the memory argument ---------------------------------------------------------------
@dataclass(frozen=True)
class JacobianCost:
    """The explicit ∂vec(Y)/∂vec(V) against the vector-Jacobian product, for one V.

    Attributes:
        var: X, W or b.
        rows, cols: shape of the explicit Jacobian, (N·M, #V).
        entries: rows·cols, every entry stored (a dense array, as written on paper).
        nonzeros: how many of them are not zero (N·M·D for X and W, N·M for b).
        bytes: entries · bytes per number.
        vjp_flops: multiply-adds of the closed form (dY·Wᵀ: N·M·D; Xᵀ·dY: N·D·M;
            1ᵀ·dY: N·M), which never forms the Jacobian.
        vjp_bytes: bytes of its result, shaped like V.
    """

    var: str
    rows: int
    cols: int
    entries: int
    nonzeros: int
    bytes: int
    vjp_flops: int
    vjp_bytes: int


@dataclass(frozen=True)
class MemoryArgument:
    """The memory argument at sizes N, D, M (see :func:`memory_argument`).

    Attributes:
        n, d, m: the sizes.
        bytes_per_entry: 4 for float32.
        costs: one :class:`JacobianCost` per variable, X, W, b.
        upstream_bytes: what backpropagation hands the layer instead: dY, N×M numbers.
    """

    n: int
    d: int
    m: int
    bytes_per_entry: int
    costs: tuple[JacobianCost, ...]
    upstream_bytes: int

    def cost(self, var: str) -> JacobianCost:
        """The cost for ``var`` (X, W or b)."""
        return {c.var: c for c in self.costs}[var]


def memory_argument(
    n: int = REAL_LAYER[0],
    d: int = REAL_LAYER[1],
    m: int = REAL_LAYER[2],
    bytes_per_entry: int = FLOAT32_BYTES,
) -> MemoryArgument:
    """Entries and bytes of each explicit Jacobian against the VJP's cost, computed.

    Shapes: ∂vec(Y)/∂vec(X) is (N·M, N·D), ∂vec(Y)/∂vec(W) is (N·M, D·M) and
    ∂vec(Y)/∂vec(b) is (N·M, M) in every convention (W has D·M entries whichever way it
    is stored).

    >>> arg = memory_argument()
    >>> arg.cost("X").entries, arg.cost("X").bytes == 256 * 2**30
    (68719476736, True)
    """
    nm = n * m
    per_var = {
        # var: (#V, nonzeros of ∂vec(Y)/∂vec(V), multiply-adds of the closed form)
        "X": (n * d, nm * d, n * m * d),  # y_ij uses x_i1..x_iD; dY·Wᵀ
        "W": (d * m, nm * d, n * d * m),  # y_ij uses w_1j..w_Dj; Xᵀ·dY
        "b": (m, nm, nm),  # y_ij uses b_j once; 1ᵀ·dY adds N rows
    }
    costs = tuple(
        JacobianCost(
            var=var,
            rows=nm,
            cols=size,
            entries=nm * size,
            nonzeros=nnz,
            bytes=nm * size * bytes_per_entry,
            vjp_flops=flops,
            vjp_bytes=size * bytes_per_entry,
        )
        for var, (size, nnz, flops) in per_var.items()
    )
    return MemoryArgument(n, d, m, bytes_per_entry, costs, nm * bytes_per_entry)


def binary_size(nbytes: int) -> tuple[float, str]:
    """``nbytes`` in the largest binary unit that keeps the number >= 1: (256.0, "GiB").

    >>> binary_size(274877906944)
    (256.0, 'GiB')
    """
    value, unit = float(nbytes), "B"
    for nxt in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024:
            break
        value, unit = value / 1024, nxt
    return value, unit


# -- the two slicings of the derivative tensor ------------------------------------------
@dataclass(frozen=True)
class Slice:
    """One slice of the derivative tensor ∂Y/∂V.

    Attributes:
        at: 0-based position of the fixed entry: (k, l) of V for a slice by input entry,
            (i, j) of Y for a slice by output entry.
        name: the canonical name of that entry (``x_1_1``, ``y_1_2``).
        matrix: by input entry, ∂Y/∂v_kl shaped like Y (N, M); by output entry,
            ∂y_ij/∂V shaped like V.
        weight: by input entry, the slice contracted with dY, Σ_ij ∂L/∂y_ij ·
            ∂y_ij/∂v_kl = ∂L/∂v_kl (one number); by output entry, the upstream
            ∂L/∂y_ij that scales the whole slice before the slices are added up.
    """

    at: tuple[int, int]
    name: str
    matrix: PolyMatrix
    weight: Poly


@dataclass(frozen=True)
class Slicing:
    """Both slicings of ∂Y/∂V and the check that they give the same ∂L/∂V.

    Attributes:
        var: X, W or b.
        by_input: one slice per entry of V (row by row), each shaped like Y.
        by_output: one slice per entry of Y (row by row), each shaped like V.
        from_input: ∂L/∂V assembled from the contractions, V's shape.
        from_output: Σ_ij ∂L/∂y_ij · (∂y_ij/∂V), V's shape.
        derivative: the derivation's result, turned into V's shape (denominator).
        agrees: the three matrices are equal entry by entry.
    """

    var: str
    by_input: tuple[Slice, ...]
    by_output: tuple[Slice, ...]
    from_input: PolyMatrix
    from_output: PolyMatrix
    derivative: PolyMatrix
    agrees: bool


def input_slices(derivation: Derivation, var: str) -> Slicing:
    """Slice ∂Y/∂V by input entry (each slice shaped like Y) and by output entry.

    Args:
        derivation: a derivation whose ``wrt`` includes ``var``.
        var: X, W or b.

    Returns:
        Both slicings, the ∂L/∂V each gives, and whether they agree with the derivation.

    >>> from symderiv.derive import derive
    >>> s = input_slices(derive(n=2, d=2, m=3), "b")
    >>> s.by_input[0].matrix.to_strings(), s.agrees
    ([['1', '0', '0'], ['1', '0', '0']], True)
    """
    layer = derivation.layer
    shape = layer.shape(var)
    inputs = slices_by_input(derivation, var)
    # by output entry: ∂y_ij/∂V, the same nonzeros regrouped (each slice shaped like V)
    by_out: dict[tuple[int, int], dict[tuple[int, int], Poly]] = {}
    for s in inputs:
        for at, value in s.matrix.entries.items():
            by_out.setdefault(at, {})[s.at] = value
    outputs = tuple(
        Slice(
            (i, j),
            entry_name("Y", i + 1, j + 1),
            PolyMatrix(*shape, dict(sorted(by_out.get((i, j), {}).items()))),
            derivation.upstream[i, j],
        )
        for i, j in vec_positions(layer.shape("Y"), "row")
    )
    from_input = _nonzero(shape, {s.at: s.weight for s in inputs})
    # Σ_ij ∂L/∂y_ij · (∂y_ij/∂V): each output's block, weighted by its upstream
    summed = {
        at: Poly.dot((s.weight, s.matrix[at]) for s in outputs)
        for at in vec_positions(shape, "row")
    }
    from_output = _nonzero(shape, summed)
    derivative = derivation.results[var].derivative
    if derivation.config.layout == "numerator":  # in V's shape whatever the layout
        derivative = derivative.transpose()
    agrees = from_input == derivative and from_output == derivative
    return Slicing(var, inputs, outputs, from_input, from_output, derivative, agrees)


def _nonzero(shape: tuple[int, int], values: dict[tuple[int, int], Poly]) -> PolyMatrix:
    """A matrix of ``shape`` from ``values``, its zeros left out (as PolyMatrix keeps)."""
    return PolyMatrix(*shape, {at: v for at, v in values.items() if not v.is_zero()})


def slices_by_input(derivation: Derivation, var: str) -> tuple[Slice, ...]:
    """The slices by input entry, row by row of V: ∂Y/∂v_kl shaped like Y and its
    contraction with dY, Σ_ij ∂L/∂y_ij · ∂y_ij/∂v_kl = ∂L/∂v_kl, read off the columns
    of the explicit Jacobian in one pass over its nonzeros (cheap at any size).

    >>> from symderiv.derive import derive
    >>> s = slices_by_input(derive(n=2, d=2, m=3, convention="column"), "b")[1]
    >>> s.name, s.matrix.to_strings()[0], s.weight.to_str()
    ('b_2', ['0', '1', '0'], 'dy_1_2 + dy_2_2')
    """
    order = derivation.config.vec
    layer = derivation.layer
    y_shape, shape = layer.shape("Y"), layer.shape(var)
    y_pos, v_pos = vec_positions(y_shape, order), vec_positions(shape, order)
    columns: dict[tuple[int, int], dict[tuple[int, int], Poly]] = {
        at: {} for at in v_pos
    }
    for (r, c), value in derivation.results[var].jacobian.entries.items():
        columns[v_pos[c]][y_pos[r]] = value
    out = []
    for at in vec_positions(shape, "row"):
        entries = dict(sorted(columns[at].items()))
        pairs = ((derivation.upstream[pos], value) for pos, value in entries.items())
        name = next(iter(layer.matrix(var)[at].atoms()))
        out.append(Slice(at, name, PolyMatrix(*y_shape, entries), Poly.dot(pairs)))
    return tuple(out)


# -- the function view --------------------------------------------------------------
@dataclass(frozen=True)
class FunctionView:
    """The map vec(V) ↦ vec(Y) from ℝ^{#V} to ℝ^{N·M}, the other matrices held constant.

    Attributes:
        var: X, W or b (the function's argument).
        domain: #V, the number of entries of V (N·D for X).
        codomain: N·M.
        inputs: canonical names of v in vec order (x_1_1, x_1_2, ...).
        outputs: canonical names y_i_j in vec order.
        images: vec(Y) as polynomials, the function's value at v.
        constants: canonical names of the entries held constant (W and b for X).
        symbols: the Jacobian as a matrix of symbols: ``symbols[r][c]`` is the pair
            (outputs[r], inputs[c]) of ∂y_ij/∂v_kl, for every row and column.
        jacobian: the same matrix evaluated (the derivation's explicit Jacobian).
    """

    var: str
    domain: int
    codomain: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    images: tuple[Poly, ...]
    constants: tuple[str, ...]
    symbols: tuple[tuple[tuple[str, str], ...], ...]
    jacobian: PolyMatrix

    def partial(self, row: int, col: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The 1-based indices of ∂y_ij/∂v_kl at (row, col): ((i, j), (k, l))."""
        out, inp = self.symbols[row][col]
        return split_entry(out)[1], split_entry(inp)[1]


def function_view(derivation: Derivation, var: str) -> FunctionView:
    """The map vec(V) ↦ vec(Y) as a function, and its Jacobian as symbols, then evaluated.

    >>> from symderiv.derive import derive
    >>> f = function_view(derive(n=2, d=2, m=3), "X")
    >>> f.domain, f.codomain, f.inputs[:2], f.symbols[0][1]
    (4, 6, ('x_1_1', 'x_1_2'), ('y_1_1', 'x_1_2'))
    """
    order = derivation.config.vec
    layer = derivation.layer
    inputs = tuple(entries_in_vec_order(layer, var, order))
    outputs = tuple(next(iter(p.atoms())) for p in layer.outputs.vec(order))
    images = tuple(layer.Y.vec(order))
    # the other variables' entries, X, W, b, each by its indices (row by row)
    held = [r for r in ("X", "W", "b") if r != var]
    constants = tuple(
        name for r in held for name in entries_in_vec_order(layer, r, "row")
    )
    symbols = tuple(tuple((o, i) for i in inputs) for o in outputs)
    return FunctionView(
        var,
        len(inputs),
        len(outputs),
        inputs,
        outputs,
        images,
        constants,
        symbols,
        derivation.results[var].jacobian,
    )


__all__ = [
    "FLOAT32_BYTES",
    "REAL_LAYER",
    "FunctionView",
    "JacobianCost",
    "MemoryArgument",
    "Slice",
    "Slicing",
    "binary_size",
    "function_view",
    "input_slices",
    "slices_by_input",
    "memory_argument",
]
