"""Index notation computed by sympy, for general sizes, and its instantiation at concrete ones.

:class:`IndexCalculus` writes the layer with ``IndexedBase`` entries and symbolic N, D, M;
:func:`settle` and :func:`always` collapse the Piecewise results of ``Sum.doit`` when their
condition provably holds; :func:`compile_entry` sums an index expression exactly at
concrete sizes, so each view can be compared entry by entry with the jacobian view.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from ..algebra import ONE, Poly, PolyMatrix
from ..conventions import PREFIX, Config
from ..notation import Equation, Expr, Node, Ones, Prod, Sum, Sym, T, Visitor
from ..render.indexnotation import Display, index_text
from ..steps import Check, Result, Step

#: Summation indices to use when the one named by its size (i, j, l) is taken.
_SPARE_NAMES = "pqrstuv"


# -- index notation, computed by sympy ----------------------------------------------------------
Ranges = Mapping[Any, Any]  # index symbol -> the size it runs to (from 1)


class IndexCalculus:
    """The layer of ``config`` in index notation, with general (symbolic) sizes.

    Entries are ``IndexedBase`` objects named like the canonical entries (x, w, b, dy) so
    that an instantiated entry x[2, 3] is the symbol x_2_3 of the explicit derivation.
    """

    def __init__(self, config: Config) -> None:
        self.conv = config.conv
        self.letters = config.letters
        sizes = zip(("N", "D", "M"), config.size_names, strict=True)
        self.size = {key: self.index(name) for key, name in sizes}  # N, D, M >= 1
        self.base = {
            role: sp.IndexedBase(PREFIX[role]) for role in ("X", "W", "b", "dY")
        }
        self.role_of = {self.letters.of(r): r for r in ("X", "W", "b", "dY")}
        self._size_key = {v: k for k, v in self.size.items()}
        # i runs down the rows of Y, j along its columns, l over the inputs
        rows, cols = ("M", "N") if self.conv.samples_as_columns else ("N", "M")
        self.sum_name = {rows: "i", cols: "j", "D": "l"}

    # -- names -----------------------------------------------------------------------------
    @staticmethod
    def index(name: str) -> Any:
        """The index symbol ``name`` (a positive integer)."""
        return sp.Symbol(name, integer=True, positive=True)

    def shape(self, role: str) -> tuple[Any, Any]:
        """Symbolic shape of ``role``: X (N, D), W (D, M) or (M, D), b (1, M) or (M, 1)."""
        s = self.size
        return self.conv.shape(role, s["N"], s["D"], s["M"])

    def var_ranges(self, var: str, indices: Sequence[Any]) -> dict[Any, Any]:
        """What each index of an entry of ``var`` runs to: (h, k) -> (N, D) for X."""
        if var == "b":
            return {indices[0]: self.size["M"]}
        return dict(zip(indices, self.shape(var), strict=True))

    def position(self, var: str, indices: Sequence[Any]) -> tuple[Any, Any]:
        """0-based (row, column) of entry ``indices`` of ``var`` in its matrix."""
        if var == "b":
            (k,) = indices
            return (k - 1, 0) if self.conv.bias_column else (0, k - 1)
        h, k = indices
        return (h - 1, k - 1)

    def entry_of(self, var: str, indices: Sequence[Any]) -> Any:
        """The indexed entry: x[h, k], w[h, k] or b[k]."""
        base = self.base[var]
        return base[indices[0]] if var == "b" else base[tuple(indices)]

    # -- matrix formulas -> entries ----------------------------------------------------------
    def matrix(self, node: Node) -> Any:
        """A notation tree as a sympy matrix expression with symbolic sizes."""
        return _SympyMatrix(self).visit(node)

    def entry(self, matrix: Any, row: Any, col: Any, taken: Iterable[str]) -> Any:
        """Entry (row, col) (0-based) of a matrix expression, as 1-based indexed sums.

        sympy expands the product itself (Sum over a 0-based dummy); the dummy becomes a
        named index running from 1, chosen by the size it runs to (i to N, j to M, l to D)
        and not one of ``taken``.
        """
        return self._indexed(matrix[row, col], set(taken))

    def _indexed(self, e: Any, taken: set[str]) -> Any:
        if isinstance(e, MatrixElement):
            role = self.role_of[e.parent.name]
            r, c = e.args[1] + 1, e.args[2] + 1
            if role == "b":
                return self.base["b"][r if self.conv.bias_column else c]
            return self.base[role][r, c]
        if isinstance(e, sp.Sum):
            ((dummy, lo, hi),) = e.limits
            if lo != 0:
                raise ValueError(f"unexpected summation range in {e}")
            size = hi + 1
            name = self.sum_name[self._size_key[size]]
            if name in taken:
                name = next(c for c in _SPARE_NAMES if c not in taken)
            s = self.index(name)
            body = self._indexed(e.function.xreplace({dummy: s - 1}), taken | {name})
            return sp.Sum(body, (s, 1, size))
        if e.args:
            return e.func(*(self._indexed(a, taken) for a in e.args))
        return e

    # -- the derivation ------------------------------------------------------------------------
    def forward(self, i: Any, j: Any, taken: Iterable[str] = ()) -> Any:
        """y_ij from the convention's forward formula: Σ_l x_il·w_lj + b_j (xw)."""
        y = self.matrix(self.conv.forward())
        return self.entry(y, i - 1, j - 1, {str(i), str(j), *taken})

    def partial(
        self, var: str, indices: Sequence[Any], i: Any, j: Any
    ) -> tuple[Any, Any, Any]:
        """∂y_ij/∂v for the entry v = var[indices]: (y_ij, sympy's diff, collapsed).

        ``diff`` of the indexed sum gives Kronecker deltas (Σ_l δ_hl·δ_jk·x_il); ``doit``
        collapses the sum (to δ_jk·x_ih).
        """
        taken = {str(a) for a in indices}
        y = self.forward(i, j, taken)
        raw = sp.diff(y, self.entry_of(var, indices))
        rows, cols = self.shape("Y")
        ranges = {i: rows, j: cols, **self.var_ranges(var, indices), **sum_ranges(y)}
        return y, raw, settle(raw.doit(), ranges)

    def chain(
        self, var: str, indices: Sequence[Any], partial: Any, i: Any, j: Any
    ) -> tuple[Any, Any]:
        """∂L/∂v = Σ_i Σ_j ∂L/∂y_ij · ∂y_ij/∂v: (the double sum, the delta collapsed).

        The sums that a delta pins are done first (each keeps one term); the others stay.
        """
        summand = self.base["dY"][i, j] * partial
        rows, cols = self.shape("Y")  # y_ij: i to N and j to M (to M and N in wx)
        limits = [(i, 1, rows), (j, 1, cols)]
        full = sp.Sum(sp.Sum(summand, limits[1]), limits[0])
        ranges = {i: rows, j: cols, **self.var_ranges(var, indices)}
        pinned = {a for d in summand.atoms(sp.KroneckerDelta) for a in d.args}
        result = summand
        for lim in limits:
            if lim[0] in pinned:
                result = settle(sp.Sum(result, lim).doit(), ranges)
        for lim in reversed(limits):
            if lim[0] not in pinned:
                result = sp.Sum(result, lim)
        return full, result

    def closed_entry(self, var: str, indices: Sequence[Any]) -> tuple[Any, Any]:
        """The closed form's matrix expression and its entry at ``indices``, expanded."""
        closed = self.matrix(self.conv.closed_form(var))
        row, col = self.position(var, indices)
        return closed, self.entry(closed, row, col, {str(a) for a in indices})


class _SympyMatrix(Visitor[Any]):
    """A closed form as a sympy matrix expression (MatrixSymbol, OneMatrix) of symbolic size."""

    def __init__(self, calc: IndexCalculus) -> None:
        self.calc = calc

    def visit_Sym(self, node: Sym) -> Any:
        c = self.calc
        return sp.MatrixSymbol(c.letters.of(node.role), *c.shape(node.role))

    def visit_T(self, node: T) -> Any:
        return self.visit(node.arg).T

    def visit_Ones(self, node: Ones) -> Any:
        return sp.OneMatrix(self.calc.size[node.size], 1)

    def visit_Prod(self, node: Prod) -> Any:
        return functools.reduce(operator.mul, (self.visit(a) for a in node.args))

    def visit_Sum(self, node: Sum) -> Any:
        return functools.reduce(operator.add, (self.visit(a) for a in node.args))


def sum_ranges(expr: Any) -> dict[Any, Any]:
    """Summation index -> upper limit, for every (1-based) Sum in ``expr``."""
    return {lim[0]: lim[2] for s in expr.atoms(sp.Sum) for lim in s.limits}


def delta_pairs(expr: Any) -> list[tuple[str, str]]:
    """The indices (a, b) of each Kronecker delta δ_ab in ``expr``, sorted."""
    deltas = sorted(expr.atoms(sp.KroneckerDelta), key=str)
    return [(str(d.args[0]), str(d.args[1])) for d in deltas]


def settle(expr: Any, ranges: Ranges) -> Any:
    """Drop the range conditions sympy attaches when it collapses a delta.

    Summing δ_hl over l = 1..D gives Piecewise((…, D ≥ h), (0, True)): h is a valid index,
    so the condition holds. It is checked, not assumed: a conjunction of linear
    inequalities that holds at every corner of the index box holds on the whole box.

    Raises:
        ValueError: a condition that does not hold for every index in range.
    """

    def branch(*pairs: Any) -> Any:
        first = pairs[0]
        if not always(first.cond, ranges):
            raise ValueError(f"{first.cond} does not hold for all indices in range")
        return first.expr

    return expr.replace(sp.Piecewise, branch)


def always(cond: Any, ranges: Ranges) -> bool:
    """True when ``cond`` (linear inequalities joined by And) holds for every index."""
    if cond.has(sp.Or, sp.Not):
        return False
    free = [s for s in cond.free_symbols if s in ranges]
    for corner in itertools.product(*((1, ranges[s]) for s in free)):
        if cond.subs(dict(zip(free, corner, strict=True))) is not sp.true:
            return False
    return True


# -- instantiation at concrete sizes -----------------------------------------------------------
Env = dict[str, int]  # size or index name -> its value (str keys hash fast)
Compiled = Callable[[Env], Poly]


def compile_entry(expr: Any, upstream: PolyMatrix) -> Compiled:
    """A function env -> Poly that evaluates an index expression at concrete indices.

    ``env`` gives every size and free index an int; sums run over their concrete range;
    x[2, 3] becomes the symbol x_2_3, dy[i, j] the upstream entry (a symbol, or 1 for the
    loss ``sum``), δ_ab 1 or 0. Exact, and fast enough for every size the engine accepts.
    """
    if isinstance(expr, sp.Indexed):
        prefix = str(expr.base)
        where = [_compile_index(a) for a in expr.indices]
        if prefix == PREFIX["dY"]:
            return lambda env: upstream[where[0](env) - 1, where[1](env) - 1]
        return lambda env: Poly.atom("_".join([prefix, *(str(f(env)) for f in where)]))
    if isinstance(expr, sp.KroneckerDelta):
        a, b = (_compile_index(x) for x in expr.args[:2])
        return lambda env: Poly.const(1 if a(env) == b(env) else 0)
    if isinstance(expr, sp.Sum):
        # the last (outermost) sum here; the body keeps the inner ones
        var, lo_expr, hi_expr = expr.limits[-1]
        rest = expr.limits[:-1]
        body = sp.Sum(expr.function, *rest) if rest else expr.function
        inner = compile_entry(body, upstream)
        name = var.name
        lo, hi = _compile_index(lo_expr), _compile_index(hi_expr)
        return lambda env: _total(
            inner({**env, name: v}) for v in range(lo(env), hi(env) + 1)
        )
    if isinstance(expr, sp.Add):
        parts = [compile_entry(a, upstream) for a in expr.args]
        return lambda env: _total(p(env) for p in parts)
    if isinstance(expr, sp.Mul):
        factors = [compile_entry(a, upstream) for a in expr.args]

        def mul(env: Env) -> Poly:
            out = factors[0](env)
            for f in factors[1:]:
                if out.is_zero():
                    break
                out = out * f(env)
            return out

        return mul
    if isinstance(expr, sp.Rational):
        value = Poly.const(Fraction(int(expr.p), int(expr.q)))
        return lambda env: value
    raise TypeError(f"cannot instantiate {type(expr).__name__}: {expr}")


def _compile_index(expr: Any) -> Callable[[Env], int]:
    if isinstance(expr, sp.Symbol):
        name = expr.name
        return lambda env: env[name]
    if isinstance(expr, sp.Integer):
        value = int(expr)
        return lambda env: value
    free = sorted(expr.free_symbols, key=str)
    return lambda env: int(expr.xreplace({s: sp.Integer(env[s.name]) for s in free}))


def size_env(calc: IndexCalculus, config: Config) -> Env:
    """The concrete sizes by their symbols' names: {"N": 2, "D": 2, "M": 3}."""
    return {calc.size[key].name: value for key, value in config.sizes.items()}


def _total(polys: Iterable[Poly]) -> Poly:
    """The sum of ``polys``, in the order of their terms."""
    return Poly.dot((p, ONE) for p in polys)


@dataclass(frozen=True)
class VarIndex:
    """Index names of one variable's entries: (h, k) in the index view, (k, l) in tensors."""

    var: str
    indices: tuple[Any, ...]

    @property
    def text(self) -> str:
        return index_text(self.indices)


def var_indices(var: str, names: str) -> VarIndex:
    chosen = "k" if var == "b" else names  # b has one index: b_k in both views
    return VarIndex(var, tuple(IndexCalculus.index(c) for c in chosen))


def equation(*parts: Any) -> Equation:
    return Equation(*(Expr(p) for p in parts))


def var_entries(
    var: str, config: Config
) -> list[tuple[tuple[int, ...], tuple[int, int]]]:
    """Every entry of ``var``: (1-based indices, 0-based position in its matrix)."""
    rows, cols = config.shape(var)
    if var == "b":
        column = config.conv.bias_column
        return [
            ((k + 1,), (k, 0) if column else (0, k))
            for k in range(rows if column else cols)
        ]
    return [((r + 1, c + 1), (r, c)) for r in range(rows) for c in range(cols)]


def in_layout(config: Config, pos: tuple[int, int]) -> tuple[int, int]:
    """Where entry ``pos`` of a variable sits in its derivative in the layout asked."""
    return (pos[1], pos[0]) if config.layout == "numerator" else pos


@dataclass(frozen=True)
class View:
    """What a view adds to a derivation.

    Attributes:
        steps: its steps, in order (``view="index"`` or ``"tensor"``).
        checks: its certificate rows.
        extras: variable -> {"index": {...}} or {"tensor": {...}}, merged into
            ``Result.extra``: sympy display objects ("equation", "entry"), counts and a
            "verified" flag; the JSON printer formats them.
    """

    steps: tuple[Step, ...]
    checks: tuple[Check, ...]
    extras: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Context:
    """What every view reads (and never changes): the settings, sympy's index calculus,
    the upstream derivative the chain rule used and the jacobian view's results, which
    each view is checked against."""

    config: Config
    calc: IndexCalculus
    upstream: PolyMatrix  # dY as the chain rule used it, (N, M)
    results: Mapping[str, Result]
    # the indices of an output entry y_ij
    i: Any = IndexCalculus.index("i")
    j: Any = IndexCalculus.index("j")

    @property
    def show(self) -> Display:
        return Display(self.config.letters)

    def sum_over_y(self, body: Any) -> Any:
        """Σ_i Σ_j ``body`` over the entries y_ij of Y (as the derivation shows it)."""
        rows, cols = self.calc.shape("Y")
        return self.show.sum_of(body, (self.j, 1, cols), (self.i, 1, rows))

    def collect(self, name: str, variable: PerVariable, *first: Step) -> View:
        """The view ``name``: the steps ``first``, then ``variable``'s steps, check and
        extras for each variable asked for."""
        steps, checks, extras = list(first), [], {}
        for var in self.config.wrt:
            more, check, extra = variable(self, var)
            steps += more
            checks.append(check)
            extras[var] = {name: extra}
        return View(tuple(steps), tuple(checks), extras)


#: What a view computes for one variable: its steps, certificate row and extras.
PerVariable = Callable[[Context, str], tuple[list[Step], Check, dict[str, Any]]]
