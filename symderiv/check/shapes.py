"""numpy's shapes of a parsed formula, and a bound on the work of computing it.

:func:`infer` walks the tree once, before any arithmetic: each node gets its numpy shape
(() for a scalar, (k,) for a 1-D array, (r, c) for a matrix, every axis with its size and
its name, N or C_in), a constant value where it is one, and a bound on the terms in each
entry. A shape that does not fit is a wrong answer, explained (:class:`FormulaShapeError`,
exit 1); more work than :func:`work_limit` is refused (exit 2).

Shapes follow numpy exactly: ``sum(E, axis=0)`` of an r×c array is 1-D of length c
(``keepdims=True`` keeps it 1×c), ``.T`` of a 1-D array is the same array, ``@`` of a 1-D
and a 2-D array is 1-D, ``np.ones(k)`` is 1-D and ``np.ones((k, 1))`` a column, and
``* + -`` broadcast. One extension from the maths: the literal ``1`` next to ``@`` is the
ones vector 1_k, a k×1 column (``1.T`` a 1×k row), k read off the other operand.
Sizes read off an operand (``X.shape[0]``, ``len(X)``, a whole ``X.shape``) are that
operand's at the sizes of the pass, so they follow every size triple checked. A subscript
``E[None, :]`` adds an axis of size 1 where numpy does; an array of more than two axes is
not graded (:func:`~.grammar.beyond_two_axes`: check works with arrays of at most 2-D).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..conventions import Config, Convention
from ..errors import FormulaError
from ..notation import Node, Prod, Scalar, Sym, T
from .grammar import (
    DimOf,
    Dot,
    Elementwise,
    Formula,
    FormulaLimitError,
    FormulaShapeError,
    Neg,
    NewAxes,
    NpOnes,
    Pair,
    Reduce,
    Reshape,
    ShapeOf,
    Size,
    Swap,
    TorchDot,
    TorchMm,
    beyond_two_axes,
)

if TYPE_CHECKING:
    from ..layer import AffineLayer

#: Polynomial terms a formula may build in all at small sizes (the sum over its
#: operations of entries × terms per entry); :func:`work_limit` grows it with the sizes.
MAX_WORK = 150_000
#: Per N·D·M, the further work allowed at large sizes: ``X.T @ dY`` costs N·D·M, so a right
#: answer written a few times over still fits; the size guard bounds N·D·M itself.
WORK_PER_CELL = 8
#: A term count past this is "too many" already; keeps the estimate's integers small.
_TERMS_CAP = 10**15


def work_limit(n: int, d: int, m: int) -> int:
    """The most polynomial terms a formula may build at sizes N=n, D=d, M=m."""
    return MAX_WORK + WORK_PER_CELL * n * d * m


# -- shapes and work, before any arithmetic ----------------------------------------------------
#: Bounds on how a value depends on the sizes N, D, M: (p, q) when each coefficient of
#: each entry is P/Q for polynomials P, Q in the sizes of degree at most p and q. Sizes
#: enter through a size named (N: (1, 0)), and through counts: summing k equal terms
#: multiplies by k (a sum along an axis, or ``@``), a mean divides by k.
Degree = tuple[int, int]
_CONSTANT: Degree = (0, 0)


def times(*degrees: Degree) -> Degree:
    """The degree of a product (or a quotient's numerator over a product)."""
    return sum(p for p, _ in degrees), sum(q for _, q in degrees)


def plus(a: Degree, b: Degree) -> Degree:
    """The degree of a sum: P1/Q1 + P2/Q2 = (P1·Q2 + P2·Q1) / (Q1·Q2)."""
    return max(a[0] + b[1], b[0] + a[1]), a[1] + b[1]


def over(a: Degree, b: Degree) -> Degree:
    """The degree of a quotient: (P1/Q1) / (P2/Q2) = (P1·Q2) / (Q1·P2)."""
    return a[0] + b[1], a[1] + b[0]


def widest(a: Degree, b: Degree) -> Degree:
    return max(a[0], b[0]), max(a[1], b[1])


@dataclass(frozen=True)
class Dim:
    """One axis of a shape: its size, how to name it (``N``, ``C_in``, ``1``), and the
    degree of its length in the sizes (N: (1, 0); 1: (0, 0); ``np.ones(N*M)``: (2, 0))."""

    size: int
    label: str
    degree: Degree = _CONSTANT

    def describe(self) -> str:
        """``D=3``, or ``3`` when the label is the number itself."""
        return (
            str(self.size)
            if self.label == str(self.size)
            else f"{self.label}={self.size}"
        )


#: A numpy shape: () for a scalar, (k,) for a 1-D array, (r, c) for a matrix.
Shape = tuple[Dim, ...]


def format_shape(shape: Shape) -> str:
    """``N×D (2×3)``, ``1-D of length M (4)``, ``a scalar``; plain sizes print once."""
    if not shape:
        return "a scalar"
    labels = "×".join(d.label for d in shape)
    sizes = "×".join(str(d.size) for d in shape)
    text = sizes if labels == sizes else f"{labels} ({sizes})"
    return f"1-D of length {text}" if len(shape) == 1 else text


def numpy_shape(shape: Shape) -> str:
    """numpy's own spelling: ``(2, 3)``, ``(4,)``, ``()``."""
    if len(shape) == 1:
        return f"({shape[0].size},)"
    return "(" + ", ".join(str(d.size) for d in shape) + ")"


@dataclass(frozen=True)
class Info:
    """What :func:`infer` knows about a (sub)formula before computing it.

    Attributes:
        shape: its numpy shape.
        value: a scalar's value when it is a constant (numbers and sizes), else None.
        terms: at most this many terms in each entry once multiplied out.
        degree: how its coefficients may depend on the sizes (:data:`Degree`).
        roots: a constant that adds or subtracts a size (N - 1), so it may be 0 at sizes
            that are not checked; it may not divide.
    """

    shape: Shape
    value: Fraction | None = None
    terms: int = 1
    degree: Degree = _CONSTANT
    roots: bool = False


@dataclass(frozen=True)
class Env:
    """What a formula's names stand for at one size triple.

    Attributes:
        n, d, m: the sizes N, D, M.
        convention: gives each role's shape and the size labels (N, C_in, C_out, ...).
        layer: whose symbolic matrices the names stand for (X, W, b, Y, dY, T), read
            only by :func:`evaluate`.
    """

    n: int
    d: int
    m: int
    convention: Convention
    layer: AffineLayer | None = None

    @classmethod
    def from_config(cls, config: Config) -> Env:
        """The environment of ``config``, with a layer of its sizes and convention."""
        from ..layer import AffineLayer

        layer = AffineLayer(config.n, config.d, config.m, config.conv)
        return cls(config.n, config.d, config.m, config.conv, layer)

    def size(self, key: str) -> int:
        """The size called ``key`` ("n", "d" or "m")."""
        return {"n": self.n, "d": self.d, "m": self.m}[key]

    def shape(self, role: str) -> Shape:
        """The shape of ``role`` with its labels, e.g. (N=2, D=3) for X."""
        return _role_shape(self.convention, role, self.n, self.d, self.m)

    def sizes_text(self) -> str:
        """``N=2, D=2, M=3`` (``N=2, C_in=2, C_out=3`` in column)."""
        return sizes_text(self.convention.sizes, (self.n, self.d, self.m))


def sizes_text(names: tuple[str, str, str], triple: tuple[int, int, int]) -> str:
    """``N=2, D=2, M=3``: each size's name (N, C_in, ...) with its value."""
    return ", ".join(f"{k}={v}" for k, v in zip(names, triple, strict=True))


def sizes_listed(
    names: tuple[str, str, str], triples: Sequence[tuple[int, int, int]], more: str = ""
) -> str:
    """``N=3, D=4, M=5; N=6, D=4, M=5``, or past four triples (a grid of them) their
    count and range: ``84 more size triples, sizes 3 to 23`` (``more="more "``)."""
    if len(triples) <= 4:
        return "; ".join(sizes_text(names, t) for t in triples)
    sizes = [v for t in triples for v in t]
    return f"{len(triples)} {more}size triples, sizes {min(sizes)} to {max(sizes)}"


@lru_cache(maxsize=1024)
def _role_shape(convention: Convention, role: str, n: int, d: int, m: int) -> Shape:
    """numpy's shape of ``role``: the convention's, but 1-D for a bias held as a vector."""
    rows, cols = convention.shape(role, n, d, m)
    first, second = (
        Dim(size, label, _CONSTANT if label == "1" else (1, 0))
        for size, label in zip((rows, cols), convention.shape_names(role), strict=True)
    )
    if role == "b" and convention.bias_vector:
        return (second,)
    return first, second


_ONE = Dim(1, "1")
#: The elementwise operators, on numbers and on entries alike.
ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "+": operator.add,
    "-": operator.sub,
}


def ones_literal(node: Node) -> str | None:
    """ "col" for the literal 1, "row" for ``1.T``: a ones vector if a product allows."""
    if isinstance(node, Scalar) and node.value == 1:
        return "col"
    if isinstance(node, T) and ones_literal(node.arg) == "col":
        return "row"
    return None


class Shapes:
    """The shape pass: numpy shapes, constant scalars and a bound on the work, per node.

    ``infos`` keeps each node's Info (by identity) for the evaluation pass, which then
    needs no shape rules of its own.
    """

    def __init__(self, formula: Formula, env: Env) -> None:
        self.formula = formula
        self.env = env
        self.work = 0
        self.limit = work_limit(env.n, env.d, env.m)
        self.infos: dict[int, Info] = {}

    def src(self, node: Node) -> str:
        return self.formula.source(node)

    def fail(self, node: Node, why: str) -> FormulaShapeError:
        return FormulaShapeError(f"{self.src(node)}: {why}", self.src(node))

    def info(self, node: Node) -> Info:
        info = self._info(node)
        info = replace(info, terms=min(info.terms, _TERMS_CAP))
        self.work += math.prod(dim.size for dim in info.shape) * info.terms
        if self.work > self.limit:
            raise FormulaLimitError(
                f"{self.src(node)!r} is too large to check at {self.env.sizes_text()}: "
                f"more than {self.limit:,} polynomial terms"
            )
        self.infos[id(node)] = info
        return info

    def _info(self, node: Node) -> Info:
        if isinstance(node, Sym):
            terms = self.env.d + 1 if node.role == "Y" else 1
            return Info(self.env.shape(node.role), terms=terms)
        if isinstance(node, Size):
            return Info((), Fraction(self.env.size(node.key)), degree=(1, 0))
        if isinstance(node, Scalar):
            return Info((), node.value)
        if isinstance(node, NpOnes):
            dims = self.dims(node.shape, node, "np.ones(...)")
            written = [self.src(arg) for arg in node.shape]
            if len(written) != len(dims):  # np.ones(X.shape): X's sizes
                written = [dim.label for dim in dims]
            return Info(tuple(map(self.whole, dims, written, [node] * len(dims))))
        if isinstance(node, DimOf):
            return self.dim_of(node)
        if isinstance(node, NewAxes):
            return self.new_axes(node)
        if isinstance(node, T):
            self.number_transposed(node)
            inner = self.info(node.arg)
            if isinstance(node, Swap) and len(inner.shape) != 2:
                raise self.fail(
                    node,
                    f"the axes (1, 0) are a 2-D array's, but it is "
                    f"{format_shape(inner.shape)}",
                )
            return replace(inner, shape=inner.shape[::-1])
        if isinstance(node, Neg):
            inner = self.info(node.arg)
            value = -inner.value if inner.value is not None else None
            return replace(inner, value=value)
        if isinstance(node, Reduce):
            return self.reduce(node, self.info(node.arg))
        if isinstance(node, Reshape):
            return self.reshape(node, self.info(node.arg))
        if isinstance(node, Prod):
            return self.matmul(node)
        if isinstance(node, Elementwise):
            return self.elementwise(node)
        if isinstance(node, Pair):
            what = "a list" if self.src(node).startswith("[") else "a tuple"
            raise FormulaError(
                f"{self.src(node)!r}: {what} is only a shape, as in np.ones((N, 1)) or "
                ".reshape((M, 1))"
            )
        if isinstance(node, ShapeOf):
            raise FormulaError(
                f"{self.src(node)!r}: a shape is only an argument, as in np.ones(X.shape) "
                "or .reshape(X.shape); X.shape[0] is a size"
            )
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def number_transposed(self, node: T) -> None:
        """Refuse ``.T`` of a Python number, ``2.T``, ``N.T``, ``X.shape[0].T``, and
        ``1.T`` anywhere but beside ``@``: Python raises AttributeError (an int has no
        .T), so it is code that crashes, not an answer to grade (exit 2)."""
        arg = node.arg.arg if isinstance(node.arg, Neg) else node.arg
        if not isinstance(arg, (Scalar, Size, DimOf)):
            return
        fix = "write np.ones(N) for a ones vector"
        if ones_literal(node) == "row":
            fix = "1.T is the ones row only beside the operator @, as in 1.T @ dY"
        raise FormulaError(
            f"{self.src(node)!r}: {self.src(node.arg)} is a Python number, which has "
            f"no .T (Python raises AttributeError); {fix}"
        )

    def constant(self, arg: Node, call: Node, what: str) -> Dim:
        """A whole-number argument of ones(...) or reshape(...), as an axis (-1 too)."""
        info = self.info(arg)
        value = info.value
        if info.shape or value is None or value.denominator != 1:
            raise FormulaError(
                f"{self.src(call)!r}: {what} takes sizes, whole numbers such as N or 1, "
                f"but {self.src(arg)!r} is not one"
            )
        if self.formula.written_float(arg):
            raise FormulaError(
                f"{self.src(call)!r}: {what} takes sizes, whole numbers, but "
                f"{self.src(arg)!r} is a float in Python (numpy and torch raise "
                "TypeError); write N, 1 or X.shape[0], without / or a decimal point"
            )
        label = arg.spelled if isinstance(arg, Size) else str(int(value))
        if isinstance(arg, DimOf):  # X.shape[0] is N
            label = self.infos[id(arg.arg)].shape[arg.index].label
        return Dim(int(value), label, info.degree)

    def dims(self, args: tuple[Node, ...], call: Node, what: str) -> list[Dim]:
        """The axes of the shape ``args`` of ones(...) or reshape(...): whole numbers,
        or one whole ``E.shape``, E's axes as they are."""
        if len(args) == 1 and isinstance(args[0], ShapeOf):
            return list(self.array(args[0].arg, args[0], "has no .shape").shape)
        return [self.constant(arg, call, what) for arg in args]

    def array(self, arg: Node, node: Node, lacks: str) -> Info:
        """The Info of ``arg``, whose shape ``node`` reads (.shape, len(), a subscript):
        an array or numpy's scalar. A number or a size is Python's, which ``lacks`` it
        ("has no .shape")."""
        info = self.info(arg)
        if info.value is not None and not info.shape:
            raise self.fail(node, f"{self.src(arg)} is a number, which {lacks}")
        return info

    def dim_of(self, node: DimOf) -> Info:
        """``E.shape[k]`` or ``len(E)``: the size of E's axis k, a whole number."""
        lacks = "has no len()" if node.length else "has no .shape"
        shape = self.array(node.arg, node, lacks).shape
        if node.length and not shape:
            raise self.fail(
                node,
                f"{self.src(node.arg)} is a scalar, which has no len() (numpy: "
                "TypeError)",
            )
        if not -len(shape) <= node.index < len(shape):
            raise self.fail(
                node,
                f"{self.src(node.arg)} is {format_shape(shape)}, whose shape "
                f"{numpy_shape(shape)} has no index {node.index} (numpy: IndexError)",
            )
        dim = shape[node.index]
        return Info((), Fraction(dim.size), degree=dim.degree)

    def new_axes(self, node: NewAxes) -> Info:
        """``E[...]``: each ``:`` takes E's next axis, each None adds an axis of size 1,
        and E's axes not taken follow."""
        inner = self.array(node.arg, node, "cannot be subscripted")
        rest = list(inner.shape)
        if node.axes.count(False) > len(rest):
            raise self.fail(
                node,
                f"too many indices: {self.src(node.arg)} is {format_shape(inner.shape)} "
                f"({len(rest)}-D), but {node.axes.count(False)} ':' index it "
                "(numpy: IndexError)",
            )
        shape = tuple(_ONE if new else rest.pop(0) for new in node.axes) + tuple(rest)
        if len(shape) > 2:
            raise beyond_two_axes(self.src(node), len(shape), f", {numpy_shape(shape)}")
        return replace(inner, shape=shape)

    def whole(self, dim: Dim, written: str, call: Node) -> Dim:
        """An axis of np.ones(...), ``written`` so: at least 1, and not too many entries.

        A size below 1 is refused (exit 2), as a reshape to one is: numpy raises
        ValueError for a negative size, and an empty array (size 0) is none that
        check holds; neither is an answer to grade."""
        size = dim.size
        if size < 1:
            function = self.src(call).split("(")[0]  # np.ones, torch.ones, ones
            what = "an empty array" if size == 0 else "ValueError"
            given = f"{size} is not one"
            if written != str(size):
                given = f"{written} is {size} at {self.env.sizes_text()}"
            raise FormulaError(
                f"{self.src(call)!r}: {function} needs sizes >= 1, and {given} (numpy "
                f"gives {what}); write N, 1 or X.shape[0]"
            )
        if size > self.limit:
            raise FormulaLimitError(
                f"{self.src(call)!r} is too large: {size:,} entries (at most "
                f"{self.limit:,})"
            )
        return dim

    def reduce(self, node: Reduce, inner: Info) -> Info:
        shape, axis = inner.shape, node.axis
        name = f"np.{node.how}"
        if axis is not None:
            if axis >= len(shape) or axis < -len(shape):
                what = "a scalar" if not shape else f"{len(shape)}-D"
                raise self.fail(
                    node, f"{name} along axis {axis}, but its argument is {what}"
                )
            axis %= len(shape)
        # each axis with whether it stays (every axis goes without an axis=)
        kept = [(dim, axis is not None and k != axis) for k, dim in enumerate(shape)]
        count = math.prod(dim.size for dim, keep in kept if not keep)
        # summing k equal terms multiplies by k; a mean then divides by k
        k = times(*(dim.degree for dim, keep in kept if not keep))
        degree = times(inner.degree, k)
        if node.how == "mean":
            degree = over(degree, k)
        if node.keepdims:
            out = tuple(dim if keep else _ONE for dim, keep in kept)
        else:
            out = tuple(dim for dim, keep in kept if keep)
        value = inner.value if not shape else None
        return Info(out, value, inner.terms * count, degree, inner.roots)

    def reshape(self, node: Reshape, inner: Info) -> Info:
        total = math.prod(dim.size for dim in inner.shape)
        dims = self.dims(node.shape, node, ".reshape(...)")
        free = [k for k, dim in enumerate(dims) if dim.size == -1]
        if len(free) > 1 or any(dim.size < -1 or dim.size == 0 for dim in dims):
            raise FormulaError(
                f"{self.src(node)!r}: a shape has sizes >= 1 and at most one -1 "
                f"(numpy raises ValueError for {numpy_shape(tuple(dims))})"
            )
        known = math.prod(dim.size for dim in dims if dim.size != -1)
        if free:
            if total % known:
                raise self.fail(
                    node,
                    f"cannot reshape {format_shape(inner.shape)} ({total} entries) "
                    f"to {numpy_shape(tuple(dims))}",
                )
            size = total // known
            label = next((d.label for d in inner.shape if d.size == size), str(size))
            degree = over(
                times(*(d.degree for d in inner.shape)),
                times(*(d.degree for d in dims if d.size != -1)),
            )
            dims[free[0]] = Dim(size, label, degree)
        shape = tuple(dims)
        if not free and known != total:  # with a -1, total % known was checked
            raise self.fail(
                node,
                f"cannot reshape {format_shape(inner.shape)} ({total} entries) to "
                f"{format_shape(shape)}",
            )
        return replace(inner, shape=shape, value=None)

    def operands(self, node: Prod) -> tuple[Info, Info]:
        """The two operands of ``@``; a literal 1 takes its length from the other side.

        Only the operator ``@`` reads a 1 so (the extension of the maths): in a call,
        ``np.dot(dY, 1)``, ``np.matmul(dY, 1)``, ``torch.mm(1, dY)``, a 1 is the number
        the library takes it for (np.dot scales by it; the others refuse it)."""
        left, right = node.args
        kinds = ones_literal(left), ones_literal(right)
        if type(node) is not Prod:
            return self.info(left), self.info(right)
        if kinds[0] == "row" and kinds[1] is None:
            b = self.info(right)
            if len(b.shape) == 2:
                a = Info((_ONE, b.shape[0]))
                self.infos[id(left)] = a
                return a, b
            return self.number_one(left), b
        a = self.number_one(left) if kinds[0] else self.info(left)
        if kinds[1] == "col" and kinds[0] is None and len(a.shape) == 2:
            b = Info((a.shape[1], _ONE))
            self.infos[id(right)] = b
            return a, b
        return a, self.number_one(right) if kinds[1] else self.info(right)

    def number_one(self, node: Node) -> Info:
        """A 1 or ``1.T`` beside ``@`` that no ones vector fits: the number 1 (which
        ``@`` then refuses, saying so), as numpy has it, without refusing ``1.T``."""
        info = Info((), Fraction(1))
        self.infos[id(node)] = info
        return info

    def torch_axes(self, node: TorchDot | TorchMm, a: Info, b: Info) -> None:
        """Refuse ``torch.dot`` of anything but two 1-D tensors and ``torch.mm`` of
        anything but two 2-D ones: torch raises RuntimeError, so it is code that
        crashes, not an answer to grade (exit 2), whatever numpy's np.dot would give."""
        ndims = len(a.shape), len(b.shape)
        if ndims == (node.ndim, node.ndim):
            return
        name = "dot" if isinstance(node, TorchDot) else "mm"
        for side, part in zip(node.args, (a, b), strict=True):
            if part.value is not None and not part.shape:  # a number or a size
                raise FormulaError(
                    f"{self.src(node)!r}: torch.{name} takes two {node.ndim}-D tensors, "
                    f"and {self.src(side)} is a Python number (torch raises TypeError: "
                    "argument must be Tensor, not int); torch.ones(N, 1) is a ones "
                    "column, or scale with *"
                )
        if isinstance(node, TorchDot):
            raised = f"1D tensors expected, but got {ndims[0]}D and {ndims[1]}D tensors"
            name, fix = "dot", "torch.mm(A, B) or A @ B is the matrix product"
        else:
            raised = f"{'self' if ndims[0] != 2 else 'mat2'} must be a matrix"
            name, fix = "mm", "torch.matmul(A, B) or A @ B also takes a 1-D tensor"
        raise FormulaError(
            f"{self.src(node)!r}: torch.{name} takes two {node.ndim}-D tensors (torch "
            f"raises RuntimeError: {raised}); {fix}"
        )

    def matmul(self, node: Prod) -> Info:
        left, right = node.args
        a, b = self.operands(node)
        if isinstance(node, (TorchDot, TorchMm)):
            self.torch_axes(node, a, b)
        if isinstance(node, Dot) and (not a.shape or not b.shape):
            return self.combine("*", a.shape or b.shape, a, b)  # np.dot with a scalar
        for side, part in ((left, a), (right, b)):
            if not part.shape:
                hint = (
                    " (the length of this 1 is not clear here: write np.ones(N) or "
                    "1.T @ dY)"
                    if ones_literal(side) and type(node) is Prod
                    else "; use * to scale by a number"
                )
                if type(node) is not Prod:  # np.matmul(dY, 1): a call, not @
                    hint = (
                        " (numpy raises ValueError, torch TypeError); write "
                        "np.ones(N) for a ones vector, or * to scale by a number"
                    )
                raise self.fail(
                    node,
                    f"{'@' if type(node) is Prod else 'matmul'} multiplies arrays, "
                    f"but {self.src(side)} is a scalar{hint}",
                )
        inner_a, inner_b = a.shape[-1], b.shape[0]
        if inner_a.size != inner_b.size:
            where_a = "columns" if len(a.shape) == 2 else "entries"
            where_b = "rows" if len(b.shape) == 2 else "entries"
            raise self.fail(
                node,
                f"cannot multiply {format_shape(a.shape)} by {format_shape(b.shape)}; "
                f"{self.src(left)} has {inner_a.describe()} {where_a} but "
                f"{self.src(right)} has {inner_b.describe()} {where_b}",
            )
        # (r, k) @ (k, c) -> (r, c); a 1-D operand drops its axis from the result.
        shape = a.shape[:-1] + b.shape[1:]
        k = widest(inner_a.degree, inner_b.degree)  # a sum of k terms
        degree = times(a.degree, b.degree, k)
        return Info(
            shape, None, inner_a.size * a.terms * b.terms, degree, a.roots or b.roots
        )

    def combine(self, op: str, shape: Shape, a: Info, b: Info) -> Info:
        """Elementwise ``op`` (``* + -``) of ``a`` and ``b``, whose result has ``shape``."""
        value = None
        if a.value is not None and b.value is not None:
            value = ARITHMETIC[op](a.value, b.value)
        roots = a.roots or b.roots
        if op == "*":
            constant = a.value is not None or b.value is not None
            terms = max(a.terms, b.terms) if constant else a.terms * b.terms
            degree = times(a.degree, b.degree)
        else:
            terms = a.terms + b.terms
            degree = plus(a.degree, b.degree)
            sized = a.degree != _CONSTANT or b.degree != _CONSTANT
            roots = roots or (value is not None and sized)
        return Info(shape, value, terms, degree, roots)

    def elementwise(self, node: Elementwise) -> Info:
        a, b = self.info(node.left), self.info(node.right)
        op = node.op
        if op == "/":
            if b.shape or b.value is None:
                raise FormulaError(
                    f"{self.src(node)!r}: / divides by a number or a size only (such as "
                    f"2 or N), and {self.src(node.right)!r} is not one"
                )
            if b.value == 0:
                raise self.fail(node, f"it divides by zero at {self.env.sizes_text()}")
            if b.roots:  # N - 7 would divide by zero at N = 7, which may go unchecked
                raise FormulaError(
                    f"{self.src(node)!r}: {self.src(node.right)!r} may be zero at some "
                    "sizes; divide by numbers, sizes and their products only"
                )
            value = a.value / b.value if a.value is not None else None
            return Info(a.shape, value, a.terms, over(a.degree, b.degree), a.roots)
        # numpy broadcasting: align the trailing axes; a size-1 axis stretches (a
        # scalar's every axis).
        width = max(len(a.shape), len(b.shape))
        pa = (_ONE,) * (width - len(a.shape)) + a.shape
        pb = (_ONE,) * (width - len(b.shape)) + b.shape
        dims: list[Dim] = []
        for left, right in zip(pa, pb, strict=True):
            if left.size == right.size:
                kept = left if left.label != "1" else right
                dims.append(replace(kept, degree=widest(left.degree, right.degree)))
            elif left.size == 1 or right.size == 1:
                dims.append(right if left.size == 1 else left)
            else:
                verb = {"*": "multiply elementwise", "+": "add", "-": "subtract"}[op]
                joint = "and" if op != "-" else "from"
                first, second = (a, b) if op != "-" else (b, a)
                raise self.fail(
                    node,
                    f"cannot {verb} {format_shape(first.shape)} {joint} "
                    f"{format_shape(second.shape)}; numpy broadcasts only equal sizes "
                    "or a size 1",
                )
        return self.combine(op, tuple(dims), a, b)


def infer(formula: Formula, env: Env) -> Info:
    """The numpy shape of ``formula`` at ``env``'s sizes, checked without computing it.

    Args:
        formula: a parsed formula.
        env: sizes and convention (the leaves are not read).

    Returns:
        Info: the shape, a constant value, and a term bound.

    Raises:
        FormulaShapeError: shapes inside the formula do not fit (a wrong answer).
        FormulaError: ones(...) of something that is not a size, / by an array.
        FormulaLimitError: computing it would build more than :func:`work_limit` terms.

    >>> from symderiv.check.grammar import Names, parse
    >>> env = Env(2, 3, 4, Config().conv)
    >>> f = parse("np.sum(dY, axis=0)", Names.for_config(Config()))
    >>> format_shape(infer(f, env).shape)
    '1-D of length M (4)'
    """
    return Shapes(formula, env).info(formula.tree)


__all__ = [
    "MAX_WORK",
    "Dim",
    "Env",
    "Info",
    "Shape",
    "Shapes",
    "format_shape",
    "infer",
    "numpy_shape",
    "ones_literal",
    "work_limit",
]
