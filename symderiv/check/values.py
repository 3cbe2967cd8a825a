"""The exact value of a parsed formula, with symderiv's own algebra (no sympy).

:func:`evaluate` runs the shape pass (:mod:`.shapes`) first, then computes each node over
:class:`~symderiv.algebra.PolyMatrix` in the canonical entry names (x_1_1, w_2_3, b_1,
dy_1_2, ...); the shape pass has already decided every result's shape, so this module
has no shape rules of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from ..algebra import ONE, Poly, PolyMatrix
from ..notation import Node, Prod, Sym, T
from .grammar import Dot, Elementwise, Formula, Neg, NewAxes, NpOnes, Reduce, Reshape
from .shapes import ARITHMETIC, Env, Info, Shapes, ones_literal


# -- evaluation with symderiv's own algebra -------------------------------------------------
@dataclass(frozen=True)
class Value:
    """An evaluated (sub)formula: a numpy shape and its entries as a PolyMatrix.

    A scalar is held as 1×1 and a 1-D array of length k as 1×k; ``shape`` says which.
    """

    shape: tuple[int, ...]
    matrix: PolyMatrix


def _reshaped(matrix: PolyMatrix, rows: int, cols: int) -> PolyMatrix:
    """The same entries, row-major, in a rows×cols matrix."""
    width = matrix.cols
    out = {}
    for (i, j), v in matrix.entries.items():
        flat = i * width + j
        out[flat // cols, flat % cols] = v
    return PolyMatrix(rows, cols, out)


def _grid(shape: tuple[int, ...]) -> tuple[int, int]:
    """How a value of numpy ``shape`` is held: () -> 1×1, (k,) -> 1×k, (r, c) -> r×c."""
    rows, cols = (1, 1, *shape)[-2:]
    return rows, cols


class Evaluator:
    """Computes a formula whose shapes :func:`infer` has checked, with PolyMatrix."""

    def __init__(self, env: Env, infos: Mapping[int, Info]) -> None:
        self.env = env
        self.infos = infos

    def value(self, node: Node) -> Value:
        info = self.infos[id(node)]
        if info.value is not None and not info.shape:
            constant = Poly.const(info.value)  # whole numbers as ints
            return Value((), PolyMatrix(1, 1, {(0, 0): constant} if info.value else {}))
        shape = tuple(d.size for d in info.shape)
        # np.ones(...), or 1 or 1.T next to @: a ones vector
        if isinstance(node, NpOnes) or ones_literal(node) is not None:
            return Value(shape, PolyMatrix.ones(*_grid(shape)))
        if isinstance(node, Sym):
            assert self.env.layer is not None, "evaluate needs the Env's layer"
            return Value(shape, self.env.layer.matrix(node.role))
        if isinstance(node, T):
            inner = self.value(node.arg)
            if len(inner.shape) < 2:
                return Value(shape, inner.matrix)
            return Value(shape, inner.matrix.transpose())
        if isinstance(node, Neg):
            return Value(shape, self.value(node.arg).matrix.scale(-1))
        if isinstance(node, Reduce):
            return self.reduce(node, shape)
        if isinstance(node, (Reshape, NewAxes)):  # new axes of size 1 move no entry
            held = self.value(node.arg).matrix
            return Value(shape, _reshaped(held, *_grid(shape)))
        if isinstance(node, Prod):
            return self.matmul(node, shape)
        if isinstance(node, Elementwise):
            return self.elementwise(node, shape)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def reduce(self, node: Reduce, shape: tuple[int, ...]) -> Value:
        inner = self.value(node.arg)
        rows, cols = inner.matrix.shape
        ndim = len(inner.shape)
        axis = None if node.axis is None else node.axis % max(ndim, 1)
        # Which axis of the held matrix runs along numpy's axis: a 1-D array is 1×k.
        # axis 0 of (r, c) keeps the c columns, axis 1 the r rows; else one total.
        rows_kept, cols_kept = ndim == 2 and axis == 1, ndim == 2 and axis == 0
        out_rows, out_cols = rows if rows_kept else 1, cols if cols_kept else 1
        items = inner.matrix.entries.items()
        sums: dict[tuple[int, int], list[Poly]] = {}
        for (i, j), v in items if axis is None else sorted(items):
            where = (i if rows_kept else 0, j if cols_kept else 0)
            sums.setdefault(where, []).append(v)
        count = rows * cols // (out_rows * out_cols)
        scale = Fraction(1, count) if node.how == "mean" else Fraction(1)
        entries = {}
        for where, parts in sums.items():
            total = Poly.dot((p, ONE) for p in parts).scale(scale)
            if not total.is_zero():
                entries[where] = total
        reduced = PolyMatrix(out_rows, out_cols, entries)
        # Held 2-D now; give it the result's own layout (1-D as a row, keepdims as is).
        return Value(shape, _reshaped(reduced, *_grid(shape)))

    def matmul(self, node: Prod, shape: tuple[int, ...]) -> Value:
        left, right = node.args
        a, b = self.value(left), self.value(right)
        if isinstance(node, Dot) and (not a.shape or not b.shape):
            return self.broadcast("*", a, b, shape)  # np.dot with a scalar multiplies
        ma = a.matrix  # a 1-D left operand is already a 1×k row
        mb = b.matrix if len(b.shape) == 2 else b.matrix.transpose()  # k×1 column
        product = ma @ mb
        return Value(shape, _reshaped(product, *_grid(shape)))

    def elementwise(self, node: Elementwise, shape: tuple[int, ...]) -> Value:
        a, b = self.value(node.left), self.value(node.right)
        if node.op == "/":
            divisor = self.infos[id(node.right)].value
            assert divisor is not None
            return Value(shape, a.matrix.scale(1 / divisor))
        return self.broadcast(node.op, a, b, shape)

    def broadcast(self, op: str, a: Value, b: Value, shape: tuple[int, ...]) -> Value:
        """``op`` entry by entry, as numpy broadcasts: a held axis of size 1 stretches
        (a 1-D (k,) is held as a 1×k row, so it stretches down the rows; a scalar, 1×1,
        everywhere)."""
        if b.shape and not a.shape and op != "-":  # + and * commute: array entry first
            a, b = b, a
        rows, cols = _grid(shape)
        out: dict[tuple[int, int], Poly] = {}
        for i in range(rows):
            for j in range(cols):
                x = a.matrix[min(i, a.matrix.rows - 1), min(j, a.matrix.cols - 1)]
                y = b.matrix[min(i, b.matrix.rows - 1), min(j, b.matrix.cols - 1)]
                p = ARITHMETIC[op](x, y)
                if not p.is_zero():
                    out[i, j] = p
        return Value(shape, PolyMatrix(rows, cols, out))


def evaluate(formula: Formula, env: Env) -> Value:
    """The value of ``formula``: its numpy shape and its entries, exact.

    Runs :func:`infer` first, so a shape that does not fit, or too much work, is reported
    before any arithmetic.

    Raises:
        FormulaShapeError, FormulaError, FormulaLimitError: as :func:`infer`.

    >>> from symderiv.check.grammar import Names, parse
    >>> from symderiv.conventions import Config
    >>> config = Config(n=1, d=2, m=1)
    >>> value = evaluate(parse("X.T @ dY", Names.for_config(config)), Env.from_config(config))
    >>> value.shape, value.matrix.to_strings()
    ((2, 1), [['x_1_1*dy_1_1'], ['x_1_2*dy_1_1']])
    """
    shapes = Shapes(formula, env)
    shapes.info(formula.tree)
    return Evaluator(env, shapes.infos).value(formula.tree)


__all__ = ["Evaluator", "Value", "evaluate"]
