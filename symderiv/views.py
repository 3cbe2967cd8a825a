"""Two more views of the same derivatives: index notation and derivative tensors.

``--method index`` works entry by entry with *general* sizes: sympy expands the
convention's own formula (say Y = X·W + 1_N·b) into y_ij = Σ_l x_il·w_lj + b_j with
``IndexedBase`` entries and symbolic N, D, M, differentiates it by an entry w_hk (the
result holds Kronecker deltas), puts it into the chain rule ∂L/∂w_hk = Σ_i Σ_j ∂L/∂y_ij ·
∂y_ij/∂w_hk and lets ``Sum.doit`` collapse the deltas. The collapsed sum is then compared,
still for general sizes, with the entry (h, k) of the closed form Xᵀ·dY that sympy expands
itself; finally it is summed at the concrete sizes and compared exactly with the jacobian
view's result.

``--method tensor`` builds ∂Y/∂X (N×M×N×D), ∂Y/∂W (N×M×W's shape) and ∂Y/∂b (N×M×M) from
the delta structure of ∂y_ij/∂v (one nonzero at a time, never a dense differentiation),
contracts them with ∂L/∂Y and compares with the same result.

Everything shown is a sympy object inside an ``Expr`` node; the small display classes
below (:class:`Partial`, :class:`Entry`, :class:`Delta`) only decide how sympy's pretty and
LaTeX printers draw ∂L/∂y_ij, (Xᵀ·dY)_hk and δ_jk.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.pretty.stringpict import prettyForm

from .algebra import Coeff, Monomial, Poly, PolyMatrix, vec_positions
from .conventions import PREFIX, Config
from .notation import (
    Deriv,
    Equation,
    Explicit,
    Expr,
    Node,
    Ones,
    Prod,
    Sum,
    Sym,
    T,
    Visitor,
)
from .steps import Check, Result, Step, StepKind

if TYPE_CHECKING:
    from .derive import _Engine

#: Unicode subscripts of the letters and digits that have one (x_ih prints as xᵢₕ).
_SUBSCRIPT = dict(
    zip(
        "aehijklmnoprstuvx0123456789",
        "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₀₁₂₃₄₅₆₇₈₉",
        strict=True,
    )
)
#: Summation indices by the size they run to; spares when a name is taken.
_SUM_NAME = {"N": "i", "M": "j", "D": "l"}
_SPARE_NAMES = "pqrstuv"


def _subscript(names: str) -> str:
    """ "hk" -> "ₕₖ" (or "_hk" when a letter has no Unicode subscript)."""
    if all(c in _SUBSCRIPT for c in names):
        return "".join(_SUBSCRIPT[c] for c in names)
    return f"_{names}"


def _flat(printer: Any, expr: Any) -> str:
    """``expr`` drawn by sympy's pretty printer on one line (else in plain sympy text)."""
    lines = printer._print(expr).picture
    return str(lines[0]) if len(lines) == 1 else sp.sstr(expr)


def _index_text(indices: Iterable[Any]) -> str:
    return "".join(str(i) for i in indices)


# -- display classes: how sympy draws the index notation ---------------------------------------
class Partial(sp.Expr):  # type: ignore[misc]
    """∂num/∂den for display, e.g. ∂L/∂y_ij: flat in the terminal, a fraction in LaTeX."""

    is_commutative = True

    def __new__(cls, num: Any, den: Any) -> Partial:
        return super().__new__(cls, num, den)  # type: ignore[no-any-return]

    def _pretty(self, printer: Any) -> Any:
        num, den = self.args
        return prettyForm(f"∂{_flat(printer, num)}/∂{_flat(printer, den)}")

    def _latex(self, printer: Any) -> str:
        num, den = (printer._print(a) for a in self.args)
        return rf"\frac{{\partial {num}}}{{\partial {den}}}"

    def _sympystr(self, printer: Any) -> str:
        num, den = (printer._print(a) for a in self.args)
        return f"∂{num}/∂{den}"


class Entry(sp.Expr):  # type: ignore[misc]
    """Entry ``indices`` of a matrix expression or a derivative: (Xᵀ·dY)_hk, (∂Y/∂X)_ijkl."""

    is_commutative = True

    def __new__(cls, base: Any, *indices: Any) -> Entry:
        return super().__new__(cls, base, *indices)  # type: ignore[no-any-return]

    @property
    def base(self) -> Any:
        return self.args[0]

    @property
    def indices(self) -> tuple[Any, ...]:
        return tuple(self.args[1:])

    def _pretty(self, printer: Any) -> Any:
        inner = (
            _flat(printer, self.base)
            if isinstance(self.base, Partial)
            else _matrix_text(self.base)
        )
        return prettyForm(f"({inner}){_subscript(_index_text(self.indices))}")

    def _latex(self, printer: Any) -> str:
        inner = (
            printer._print(self.base)
            if isinstance(self.base, Partial)
            else _matrix_latex(self.base, printer)
        )
        return rf"\left({inner}\right)_{{{_index_text(self.indices)}}}"

    def _sympystr(self, printer: Any) -> str:
        inner = (
            printer._print(self.base)
            if isinstance(self.base, Partial)
            else _matrix_text(self.base)
        )
        return f"({inner})_{_index_text(self.indices)}"


class Product(sp.Expr):  # type: ignore[misc]
    """A product whose factors print in the order given (∂L/∂y_ij·δ_jk·x_ih), in any printer.

    sympy's own Mul sorts its factors, and its LaTeX printer reorders them again unless told
    ``order="none"``; the reading order of a derivation is part of its meaning.
    """

    is_commutative = True

    def __new__(cls, *factors: Any) -> Product:
        return super().__new__(cls, *factors)  # type: ignore[no-any-return]

    def _pretty(self, printer: Any) -> Any:
        return prettyForm.__mul__(*(printer._print(a) for a in self.args))

    def _latex(self, printer: Any) -> str:
        return " ".join(
            rf"\left({printer._print(a)}\right)"
            if isinstance(a, Terms)
            else printer._print(a)
            for a in self.args
        )

    def _sympystr(self, printer: Any) -> str:
        return "·".join(
            f"({printer._print(a)})" if isinstance(a, Terms) else printer._print(a)
            for a in self.args
        )


class Terms(sp.Expr):  # type: ignore[misc]
    """A sum of terms printed in the order given (Σ_l x_il·w_lj + b_j), in any printer."""

    is_commutative = True

    def __new__(cls, *terms: Any) -> Terms:
        return super().__new__(cls, *terms)  # type: ignore[no-any-return]

    def _pretty(self, printer: Any) -> Any:
        return prettyForm.__add__(*(printer._print(a) for a in self.args))

    def _latex(self, printer: Any) -> str:
        return " + ".join(str(printer._print(a)) for a in self.args)

    def _sympystr(self, printer: Any) -> str:
        return " + ".join(str(printer._print(a)) for a in self.args)


class Name(sp.Symbol):  # type: ignore[misc]
    """An entry's display name such as x_ih: LaTeX x_{ih}; terminal xᵢₕ (also for j: yᵢⱼ)."""

    def _pretty(self, printer: Any) -> Any:
        base, _, sub = self.name.partition("_")
        return prettyForm(base + _subscript(sub) if sub else base)


class LastIndex(sp.Symbol):  # type: ignore[misc]
    """The last index of a sum from 0: N − 1, printed as written (sympy would sort it
    to −1 + N, and read C_in − 1 as a subscript)."""

    def __new__(cls, size: str, shift: int) -> LastIndex:
        obj = super().__new__(cls, f"{size}-{shift}")
        obj._size, obj._shift = size, shift
        return obj  # type: ignore[no-any-return]

    def _pretty(self, printer: Any) -> Any:
        return prettyForm(f"{self._size} − {self._shift}")

    def _latex(self, printer: Any) -> str:
        return f"{printer._print(sp.Symbol(self._size))} - {self._shift}"

    def _sympystr(self, printer: Any) -> str:
        return f"{self._size} − {self._shift}"


class SumOf(sp.Sum):  # type: ignore[misc]
    """sympy's Sum, with several limits drawn as nested sums in LaTeX: Σ_i Σ_j (not a stack)."""

    def _latex(self, printer: Any) -> str:
        out = ""
        for var, lo, hi in reversed(self.limits):
            out += (
                rf"\sum_{{{printer._print(var)}={printer._print(lo)}}}"
                rf"^{{{printer._print(hi)}}} "
            )
        body = str(printer._print(self.function))
        if isinstance(self.function, Terms):
            body = rf"\left({body}\right)"
        return out + body


class Delta(sp.KroneckerDelta):  # type: ignore[misc]
    """sympy's KroneckerDelta, drawn on one line: δⱼₖ (LaTeX ``\\delta_{jk}``).

    :func:`named_delta` makes the same delta under another name (``Id_jk``, seed 001).
    """

    symbol = "δ"
    tex = r"\delta"

    def _pretty(self, printer: Any) -> Any:
        return prettyForm(f"{self.symbol}{_subscript(_index_text(self.args[:2]))}")

    def _latex(self, printer: Any) -> str:
        return rf"{self.tex}_{{{_index_text(self.args[:2])}}}"

    def _sympystr(self, printer: Any) -> str:
        return f"{self.symbol}_{_index_text(self.args[:2])}"


@lru_cache(maxsize=16)
def named_delta(name: str | None) -> type[Delta]:
    """The delta printed as ``name`` (``--names delta=Id``), or δ for None."""
    if name is None:
        return Delta
    tex = name if len(name) == 1 else rf"\mathrm{{{name}}}"
    return type(f"Delta_{name}", (Delta,), {"symbol": name, "tex": tex})


def _matrix_text(m: Any) -> str:
    """A matrix expression in one line of Unicode: Xᵀ·dY, 1_Nᵀ·dY."""
    if isinstance(m, sp.OneMatrix):  # 1_N, or 1_Nᵀ once sympy has transposed it
        return f"1_{m.rows}" if m.cols == 1 else f"1_{m.cols}ᵀ"
    if isinstance(m, sp.MatrixSymbol):
        return str(m.name)
    if isinstance(m, sp.Transpose):
        inner = _matrix_text(m.arg)
        return (f"({inner})" if isinstance(m.arg, sp.MatMul) else inner) + "ᵀ"
    if isinstance(m, sp.MatMul):
        return "·".join(_matrix_text(a) for a in m.args)
    raise TypeError(f"cannot draw {type(m).__name__}")


def _matrix_latex(m: Any, printer: Any) -> str:
    """The same in LaTeX: X^{T} \\, dY, \\mathbf{1}_{N}^{T} \\, dY."""
    if isinstance(m, sp.OneMatrix):
        if m.cols == 1:
            return rf"\mathbf{{1}}_{{{printer._print(m.rows)}}}"
        return rf"\mathbf{{1}}_{{{printer._print(m.cols)}}}^{{T}}"
    if isinstance(m, sp.MatrixSymbol):
        return str(printer._print(m))
    if isinstance(m, sp.Transpose):
        inner = _matrix_latex(m.arg, printer)
        if isinstance(m.arg, sp.MatMul):
            inner = rf"\left({inner}\right)"
        return inner + "^{T}"
    if isinstance(m, sp.MatMul):
        return r" \, ".join(_matrix_latex(a, printer) for a in m.args)
    raise TypeError(f"cannot draw {type(m).__name__}")


def text_of(expr: Any) -> str:
    """One line of Unicode text for an index-notation expression (for JSON).

    >>> i, k = sp.symbols("i k")
    >>> text_of(sp.Sum(Delta(i, k), (i, 1, sp.Symbol("N"))))
    'Σ_{i=1}^{N} δ_ik'
    """
    if isinstance(expr, sp.Sum):
        out = ""
        for var, lo, hi in reversed(expr.limits):
            out += f"Σ_{{{var}={lo}}}^{{{hi}}} "
        body = text_of(expr.function)
        return out + (f"({body})" if isinstance(expr.function, Terms) else body)
    if isinstance(expr, Terms):
        return " + ".join(text_of(a) for a in expr.args)
    if isinstance(expr, Product):
        return "·".join(
            f"({text_of(a)})" if isinstance(a, Terms) else text_of(a) for a in expr.args
        )
    return str(sp.sstr(expr))


def latex_of(expr: Any) -> str:
    """LaTeX for an index-notation expression, terms in the order they were built."""
    return str(sp.latex(expr, order="none"))


# -- index notation, computed by sympy ----------------------------------------------------------
Ranges = Mapping[Any, Any]  # index symbol -> the size it runs to (from 1)


class IndexCalculus:
    """The layer of ``config`` in index notation, with general (symbolic) sizes.

    Entries are ``IndexedBase`` objects named like the canonical entries (x, w, b, dy) so
    that an instantiated entry x[2, 3] is the symbol x_2_3 of the explicit derivation.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.conv = config.conv
        self.letters = config.letters
        names = dict(zip(("N", "D", "M"), config.size_names, strict=True))
        self.size = {
            key: sp.Symbol(name, integer=True, positive=True)
            for key, name in names.items()
        }
        self.base = {
            role: sp.IndexedBase(PREFIX[role]) for role in ("X", "W", "b", "dY")
        }
        self.role_of = {self.letters.of(r): r for r in ("X", "W", "b", "dY")}
        self._size_key = {v: k for k, v in self.size.items()}

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
            name = _SUM_NAME[self._size_key[size]]
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
        ranges = {
            i: self.size["N"],
            j: self.size["M"],
            **self.var_ranges(var, indices),
            **_sum_ranges(y),
        }
        return y, raw, settle(raw.doit(), ranges)

    def chain(
        self, var: str, indices: Sequence[Any], partial: Any, i: Any, j: Any
    ) -> tuple[Any, Any]:
        """∂L/∂v = Σ_i Σ_j ∂L/∂y_ij · ∂y_ij/∂v: (the double sum, the delta collapsed).

        The sums that a delta pins are done first (each keeps one term); the others stay.
        """
        summand = self.base["dY"][i, j] * partial
        limits = [(i, 1, self.size["N"]), (j, 1, self.size["M"])]
        full = sp.Sum(sp.Sum(summand, limits[1]), limits[0])
        ranges = {i: self.size["N"], j: self.size["M"], **self.var_ranges(var, indices)}
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

    def visit_Sym(self, node: Sym) -> Any:  # noqa: N802
        c = self.calc
        return sp.MatrixSymbol(c.letters.of(node.role), *c.shape(node.role))

    def visit_T(self, node: T) -> Any:  # noqa: N802
        return self.visit(node.arg).T

    def visit_Ones(self, node: Ones) -> Any:  # noqa: N802
        return sp.OneMatrix(self.calc.size[node.size], 1)

    def visit_Prod(self, node: Prod) -> Any:  # noqa: N802
        return functools.reduce(operator.mul, (self.visit(a) for a in node.args))

    def visit_Sum(self, node: Sum) -> Any:  # noqa: N802
        return functools.reduce(operator.add, (self.visit(a) for a in node.args))


def _sum_ranges(expr: Any) -> dict[Any, Any]:
    """Summation index -> upper limit, for every (1-based) Sum in ``expr``."""
    return {lim[0]: lim[2] for s in expr.atoms(sp.Sum) for lim in s.limits}


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
    if cond is sp.true:
        return True
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
        body = compile_entry(expr.function, upstream)
        var, lo_expr, hi_expr = expr.limits[-1]
        name = var.name
        lo, hi = _compile_index(lo_expr), _compile_index(hi_expr)
        inner = (
            compile_entry(sp.Sum(expr.function, *expr.limits[:-1]), upstream)
            if len(expr.limits) > 1
            else body
        )

        def total(env: Env) -> Poly:
            acc: dict[Monomial, Coeff] = {}
            for v in range(lo(env), hi(env) + 1):
                _accumulate(acc, inner({**env, name: v}))
            return Poly({m: c for m, c in acc.items() if c})

        return total
    if isinstance(expr, sp.Add):
        parts = [compile_entry(a, upstream) for a in expr.args]

        def add(env: Env) -> Poly:
            acc: dict[Monomial, Coeff] = {}
            for p in parts:
                _accumulate(acc, p(env))
            return Poly({m: c for m, c in acc.items() if c})

        return add
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


def _size_env(calc: IndexCalculus, config: Config) -> Env:
    """The concrete sizes by their symbols' names: {"N": 2, "D": 2, "M": 3}."""
    sizes = {"N": config.n, "D": config.d, "M": config.m}
    return {calc.size[key].name: value for key, value in sizes.items()}


def _accumulate(acc: dict[Monomial, Coeff], p: Poly) -> None:
    for m, c in p.terms.items():
        acc[m] = acc.get(m, 0) + c


# -- drawing ------------------------------------------------------------------------------------
_FACTOR_RANK = {"dy": 0, "delta": 1, "x": 2, "w": 3, "b": 4}


class Display:
    """Turns sympy's indexed expressions into the objects students read: x_ih, ∂L/∂y_ij, δ_jk."""

    def __init__(self, calc: IndexCalculus) -> None:
        self.calc = calc
        self.letters = calc.letters
        self.loss = sp.Symbol("L")
        # Factors read upstream, delta, x, w, b: ∂L/∂y_ij·δ_jk·x_ih, x_il·w_lj.
        self._order = {self.letters.entry(r): k for k, r in enumerate(("X", "W", "b"))}

    def entry_symbol(self, role: str, indices: Iterable[Any]) -> Any:
        """x_ih, w_hk, b_k, y_ij in the convention's letters."""
        return Name(f"{self.letters.entry(role)}_{_index_text(indices)}")

    def partial(self, of: Any, role: str, indices: Iterable[Any]) -> Partial:
        """∂of/∂v_indices, e.g. ∂L/∂w_hk."""
        return Partial(of, self.entry_symbol(role, indices))

    def matrix_name(self, role: str) -> Any:
        """The matrix itself (X, W, Y in the convention's letters), as in ∂L/∂W."""
        return sp.MatrixSymbol(self.letters.of(role), 1, 1)

    def show(self, e: Any) -> Any:
        """The display form of an index expression (factors in reading order)."""
        if isinstance(e, sp.Indexed):
            prefix = str(e.base)
            role = next(r for r, p in PREFIX.items() if p == prefix)
            if role == "dY":
                return Partial(self.loss, self.entry_symbol("Y", e.indices))
            return self.entry_symbol(role, e.indices)
        if isinstance(e, sp.KroneckerDelta):
            return named_delta(self.letters.delta)(*e.args[:2])
        if isinstance(e, sp.Sum):
            return self.sum_of(self.show(e.function), *e.limits)
        if isinstance(e, sp.Mul):
            args = sorted((self.show(a) for a in e.args), key=self._rank)
            return Product(*args)
        if isinstance(e, sp.Add):
            args = sorted(
                (self.show(a) for a in e.args), key=lambda a: not a.has(sp.Sum)
            )
            return Terms(*args)
        return e

    def sum_of(self, body: Any, *limits: tuple[Any, Any, Any]) -> SumOf:
        """Σ over 1-based ``limits``, shown from 0 with ``--index-base 0`` (Σ_{i=0}^{N-1}):
        the same sum, its indices named from 0."""
        shift = 1 - self.letters.index_base
        if not shift:
            return SumOf(body, *limits)
        shown = [
            (
                v,
                lo - shift,
                LastIndex(f"{hi}", shift) if isinstance(hi, sp.Symbol) else hi - shift,
            )
            for v, lo, hi in limits
        ]
        return SumOf(body, *shown)

    def _rank(self, a: Any) -> tuple[int, str]:
        if a.is_number:
            return (-1, "")
        if isinstance(a, Partial):
            return (0, str(a))
        if isinstance(a, Delta):
            return (1, str(a))
        if isinstance(a, sp.Symbol):
            return (2 + self._order.get(a.name.partition("_")[0], 3), a.name)
        return (6, str(a))


@dataclass(frozen=True)
class _VarIndex:
    """Index names of one variable's entries: (h, k) in the index view, (k, l) in tensors."""

    var: str
    indices: tuple[Any, ...]

    @property
    def text(self) -> str:
        return _index_text(self.indices)


def _var_indices(var: str, names: str) -> _VarIndex:
    chosen = "k" if var == "b" else names  # b has one index: b_k in both views
    return _VarIndex(var, tuple(IndexCalculus.index(c) for c in chosen))


def _equation(*parts: Any) -> Equation:
    return Equation(*(Expr(p) for p in parts))


def _equation_text(*parts: Any) -> str:
    return " = ".join(text_of(p) for p in parts)


def _equation_latex(*parts: Any) -> str:
    return " = ".join(latex_of(p) for p in parts)


def _var_entries(
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


def _in_layout(config: Config, pos: tuple[int, int]) -> tuple[int, int]:
    """Where entry ``pos`` of a variable sits in its derivative in the layout asked."""
    return (pos[1], pos[0]) if config.layout == "numerator" else pos


def _sizes_text(config: Config) -> str:
    names = config.size_names
    return f"{names[0]}={config.n}, {names[1]}={config.d}, {names[2]}={config.m}"


def _set_extra(
    engine: _Engine, var: str, key: str, value: dict[str, Any], ok: bool
) -> None:
    result: Result = engine.results[var]
    engine.results[var] = replace(
        result,
        extra={**result.extra, key: value},
        verified=result.verified and ok,
    )


# -- the index view -------------------------------------------------------------------------------
class _View:
    """What every view works with: the engine, sympy's index calculus, i and j."""

    def __init__(self, engine: _Engine, calc: IndexCalculus) -> None:
        self.engine = engine
        self.config = engine.config
        self.calc = calc
        self.show = Display(calc)
        self.i, self.j = calc.index("i"), calc.index("j")


class IndexView(_View):
    """Steps of the entry-wise derivation and their certificate rows."""

    def add(self) -> None:
        self.engine.steps.append(self.forward_step())
        for var in self.config.wrt:
            self.add_variable(var)

    def forward_step(self) -> Step:
        c, calc, show = self.config, self.calc, self.show
        i, j = self.i, self.j
        y = calc.forward(i, j)
        sizes = calc.config.size_names
        node = calc.conv.forward()
        assert isinstance(node, Sum)
        forward = " + ".join(_matrix_text(calc.matrix(a)) for a in node.args)
        ranges = ", ".join(
            (
                f"{name} = 1…{sizes[k]}"
                if calc.config.index_base == 1
                else f"{name} = 0…{sizes[k]}−1"
            )
            for name, k in (("i", 0), ("j", 2), *((str(s), 1) for s in _sum_ranges(y)))
        )
        return Step(
            "index_forward",
            StepKind.DEFINE,
            "Index notation: the forward pass for any sizes",
            (_equation(show.entry_symbol("Y", (i, j)), show.show(y)),),
            note=(
                f"The sizes {', '.join(sizes)} stay symbols and every entry carries its "
                f"indices ({ranges}). sympy expands {c.letters.of('Y')} = "
                f"{forward} entry by entry; every "
                "step of this view is computed by sympy from here."
            ),
            uses=("forward",),
            view="index",
        )

    def add_variable(self, var: str) -> None:
        c, calc, show, engine = self.config, self.calc, self.show, self.engine
        i, j = self.i, self.j
        vi = _var_indices(var, "hk")
        lv, ev, ey = c.letters.of(var), c.letters.entry(var), c.letters.entry("Y")
        y_ij = show.entry_symbol("Y", (i, j))
        dv = show.partial(y_ij, var, vi.indices)  # ∂y_ij/∂v_hk
        dl = show.partial(show.loss, var, vi.indices)  # ∂L/∂v_hk

        _, raw, partial = calc.partial(var, vi.indices, i, j)
        deltas = sorted(partial.atoms(sp.KroneckerDelta), key=str)
        where = " and ".join(f"{a} = {b}" for a, b in (d.args[:2] for d in deltas))
        steps = [show.show(raw)] + ([show.show(partial)] if partial != raw else [])
        engine.steps.append(
            Step(
                f"index_dY_d{var}",
                StepKind.JACOBIAN,
                f"Index notation: ∂{ey}_ij/∂{ev}_{vi.text}",
                (_equation(dv, *steps),),
                note=(
                    "The derivative of one entry by another is 1 when they are the same "
                    "entry and 0 otherwise: a Kronecker delta. sympy differentiates the sum "
                    "term by term and the sum keeps only the term where the delta is 1"
                    + (
                        f"; what is left is nonzero only when {where}."
                        if where
                        else "."
                    )
                ),
                uses=("index_forward",),
                wrt=var,
                view="index",
            )
        )

        full, collapsed = calc.chain(var, vi.indices, partial, i, j)
        chain_terms = show.sum_of(
            Product(show.show(calc.base["dY"][i, j]), dv),
            (j, 1, calc.size["M"]),
            (i, 1, calc.size["N"]),
        )
        loss_note = {
            "generic": "",
            "sum": " For L = Σ y_ij every ∂L/∂y_ij is 1.",
            "mse": " For the MSE loss ∂L/∂y_ij = (y_ij − t_ij)/N.",
            "softmax-ce": " For softmax cross-entropy ∂L/∂y_ij = (p_ij − t_ij)/N.",
        }[c.loss]
        engine.steps.append(
            Step(
                f"index_dL_d{var}",
                StepKind.CHAIN,
                f"Index notation: chain rule for ∂L/∂{ev}_{vi.text}",
                (_equation(dl, chain_terms, show.show(full)),),
                note=(
                    f"L depends on {ev}_{vi.text} through every output {ey}_ij, so the chain "
                    "rule sums over all of them." + loss_note
                ),
                uses=("upstream", f"index_dY_d{var}"),
                wrt=var,
                view="index",
            )
        )

        closed_matrix, closed = calc.closed_entry(var, vi.indices)
        same = collapsed == closed or sp.simplify(collapsed - closed) == 0
        entry = Entry(closed_matrix, *vi.indices)
        eqs = [_equation(dl, show.show(collapsed), entry)]
        text = [dl, show.show(full), show.show(collapsed), entry]
        if c.layout == "numerator":
            back = tuple(reversed(vi.indices))
            d_entry = Entry(Partial(show.loss, show.matrix_name(var)), *back)
            t_entry = Entry(calc.matrix(c.conv.closed_form(var)).T, *back)
            eqs.append(_equation(d_entry, dl, t_entry))
            text = [d_entry, *text[:-1], t_entry]
        instantiated, ok, detail = self.instantiate(var, collapsed)
        result = engine.results[var]
        eqs.append(
            Equation(Deriv("L", var), result.closed_form, Explicit(instantiated))
        )
        where_in = vi.text if len(vi.text) == 1 else f"({', '.join(vi.text)})"
        pinned = ", ".join(
            sorted({str(a) for d in deltas for a in d.args[:2]} & {"i", "j"})
        )
        engine.steps.append(
            Step(
                f"index_closed_{var}",
                StepKind.SIMPLIFY,
                f"Index notation: collapse the delta, read off ∂L/∂{lv}",
                tuple(eqs),
                note=(
                    (
                        f"The delta keeps one term of the sum over {pinned}. "
                        if pinned
                        else ""
                    )
                    + f"What is left is entry {where_in} of the closed form (sympy expands "
                    "the product entry by entry and finds the same sum), for all sizes"
                    + (
                        "; in numerator layout it is the transposed entry"
                        if c.layout == "numerator"
                        else ""
                    )
                    + f". Summed at {_sizes_text(c)} it gives the matrix above, equal to "
                    "the chain-rule result (see the certificate)."
                ),
                uses=(f"index_dL_d{var}",),
                wrt=var,
                view="index",
            )
        )
        general = "for all sizes (sympy)" if same else "NOT for all sizes (sympy)"
        claim_detail = (
            f"{text_of(entry)} = {text_of(show.show(collapsed))} {general}; summed at "
            f"{_sizes_text(c)} it {detail}"
        )
        passed = same and ok
        engine.checks.append(
            Check(var, "index notation = chain rule", passed, claim_detail)
        )
        _set_extra(
            engine,
            var,
            "index",
            {
                "text": _equation_text(*text),
                "latex": _equation_latex(*text),
                "entry": {
                    "text": _equation_text(dv, show.show(partial)),
                    "latex": _equation_latex(dv, show.show(partial)),
                },
                "verified": passed,
            },
            passed,
        )

    def instantiate(self, var: str, collapsed: Any) -> tuple[PolyMatrix, bool, str]:
        """Sum the index result at the concrete sizes; compare with the jacobian view."""
        c, calc = self.config, self.calc
        vi = _var_indices(var, "hk")
        fn = compile_entry(collapsed, self.engine.upstream)
        env0 = _size_env(calc, c)
        names = [str(s) for s in vi.indices]
        derivative = self.engine.results[var].derivative
        out: dict[tuple[int, int], Poly] = {}
        first: str | None = None
        for index, pos in _var_entries(var, c):
            value = fn({**env0, **dict(zip(names, index, strict=True))})
            at = _in_layout(c, pos)
            if not value.is_zero():
                out[at] = value
            if first is None and value != derivative[at]:
                first = (
                    f"differs at entry ({at[0] + 1}, {at[1] + 1}): index notation gives "
                    f"{value.to_str()} but the chain rule {derivative[at].to_str()}"
                )
        matrix = PolyMatrix(derivative.rows, derivative.cols, out)
        if first is None:
            return matrix, True, "equals the chain-rule result"
        return matrix, False, first


# -- the tensor view ------------------------------------------------------------------------------
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


class TensorView(_View):
    """Steps of the tensor view and their certificate rows."""

    def add(self) -> None:
        for var in self.config.wrt:
            self.add_variable(var)

    def build(self, var: str, vi: _VarIndex, partial: Any) -> DerivativeTensor:
        """The nonzeros of ∂Y/∂var from the delta structure of ∂y_ij/∂v.

        The deltas tie indices together (δ_ik: k = i); only one index per tied group is
        looped over, so the work is the number of nonzeros, not the number of entries.
        """
        c, calc = self.config, self.calc
        i, j = self.i, self.j
        factors = sp.Mul.make_args(partial)
        deltas = [f for f in factors if isinstance(f, sp.KroneckerDelta)]
        rest = sp.Mul(*(f for f in factors if not isinstance(f, sp.KroneckerDelta)))
        value = compile_entry(rest, self.engine.upstream)
        var_shape = (c.m,) if var == "b" else c.shape(var)
        limit = {i: c.n, j: c.m, **dict(zip(vi.indices, var_shape, strict=True))}
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
        env = _size_env(calc, c)
        entries: dict[tuple[int, ...], Poly] = {}
        for values in itertools.product(*(range(1, t + 1) for t in top)):
            for name, k in zip(names, slot, strict=True):
                env[name] = values[k]
            v = value(env)
            if not v.is_zero():
                entries[tuple(values[k] - 1 for k in slot)] = v
        return DerivativeTensor(var, (c.n, c.m, *var_shape), entries)

    def grid(self, var: str, tensor: DerivativeTensor) -> PolyMatrix:
        """The array drawn as an N×M grid of blocks; block (i, j) is ∂y_ij/∂V (V's shape)."""
        c = self.config
        rows, cols = c.shape(var)
        column_bias = var == "b" and c.conv.bias_column
        out: dict[tuple[int, int], Poly] = {}
        for key, v in tensor.entries.items():
            i, j, *rest = key
            if var == "b":
                r, col = (rest[0], 0) if column_bias else (0, rest[0])
            else:
                r, col = rest
            out[i * rows + r, j * cols + col] = v
        return PolyMatrix(c.n * rows, c.m * cols, out)

    def check(self, var: str, tensor: DerivativeTensor) -> tuple[PolyMatrix, bool, str]:
        """Contract with ∂L/∂Y; compare with the chain rule and the explicit Jacobian."""
        c, engine = self.config, self.engine
        result = engine.results[var]
        upstream = engine.upstream
        entries = _var_entries(var, c)
        position = {tuple(k - 1 for k in index): pos for index, pos in entries}
        acc: dict[tuple[int, int], dict[Monomial, Coeff]] = {}
        for (i, j, *rest), v in sorted(tensor.entries.items()):
            pos = position[tuple(rest)]
            _accumulate(acc.setdefault(pos, {}), upstream[i, j] * v)
        out = {}
        for pos, terms in acc.items():
            p = Poly({m: k for m, k in terms.items() if k})
            if not p.is_zero():
                out[_in_layout(c, pos)] = p
        derivative = result.derivative
        contracted = PolyMatrix(derivative.rows, derivative.cols, out)
        diff = contracted.first_difference(derivative)
        if diff is not None:
            return (
                contracted,
                False,
                (
                    f"entry ({diff[0] + 1}, {diff[1] + 1}): contraction gives "
                    f"{contracted[diff].to_str()} but the chain rule {derivative[diff].to_str()}"
                ),
            )
        # The same numbers as the explicit Jacobian: rows in vec(Y) order, columns in vec(V).
        rows = {p: r for r, p in enumerate(vec_positions((c.n, c.m), c.vec))}
        cols = {p: k for k, p in enumerate(vec_positions(c.shape(var), c.vec))}
        jac = result.jacobian
        for (i, j, *rest), v in tensor.entries.items():
            if jac[rows[i, j], cols[position[tuple(rest)]]] != v:
                return (
                    contracted,
                    False,
                    (
                        f"∂y_{i + 1},{j + 1}/∂{var} entry {tuple(k + 1 for k in rest)} differs "
                        "from the explicit Jacobian"
                    ),
                )
        if len(tensor.entries) != jac.nnz():
            return (
                contracted,
                False,
                (
                    f"{len(tensor.entries)} nonzeros, but the explicit Jacobian has {jac.nnz()}"
                ),
            )
        return (
            contracted,
            True,
            (
                f"contracted with ∂L/∂{c.letters.of('Y')} it equals the chain-rule result;"
                f" its {len(tensor.entries)} nonzeros are the explicit Jacobian's"
            ),
        )

    def add_variable(self, var: str) -> None:
        c, calc, show, engine = self.config, self.calc, self.show, self.engine
        i, j = self.i, self.j
        vi = _var_indices(var, "kl")
        lv, ey = c.letters.of(var), c.letters.entry("Y")
        y_ij = show.entry_symbol("Y", (i, j))
        dv = show.partial(y_ij, var, vi.indices)
        _, _, partial = calc.partial(var, vi.indices, i, j)
        tensor = self.build(var, vi, partial)
        shape = "×".join(map(str, tensor.shape))
        names = calc.config.size_names
        symbolic = (
            f"{names[0]}×{names[2]}×{names[2]}"
            if var == "b"
            else f"{names[0]}×{names[2]}×" + "×".join(str(s) for s in calc.shape(var))
        )
        deltas = sorted(partial.atoms(sp.KroneckerDelta), key=str)
        where = " and ".join(f"{a} = {b}" for a, b in (d.args[:2] for d in deltas))
        block = "×".join(map(str, c.shape(var)))
        nnz = len(tensor.entries)
        engine.steps.append(
            Step(
                f"tensor_dY_d{var}",
                StepKind.JACOBIAN,
                f"Tensor view: ∂{c.letters.of('Y')}/∂{lv} as a "
                f"{len(tensor.shape)}-D array",
                (
                    _equation(dv, show.show(partial)),
                    Equation(
                        Deriv("Y", var), Explicit(self.grid(var, tensor), c.shape(var))
                    ),
                ),
                note=(
                    f"∂{c.letters.of('Y')}/∂{lv} has shape {symbolic} = {shape}: "
                    f"{tensor.size} entr{'y' if tensor.size == 1 else 'ies'}, {nnz} nonzero"
                    + (f" (only where {where})" if where else "")
                    + f". It is drawn as a {c.n}×{c.m} grid of blocks: block (i, j) is "
                    f"∂{ey}_ij/∂{lv}, shaped like {lv} ({block}). Built one nonzero at a time "
                    "from the delta structure of the entry formula above."
                ),
                uses=("forward",),
                wrt=var,
                view="tensor",
            )
        )
        contracted, ok, detail = self.check(var, tensor)
        dl_mat = Partial(show.loss, show.matrix_name(var))
        dy_mat = Partial(show.loss, show.matrix_name("Y"))
        ty_mat = Partial(show.matrix_name("Y"), show.matrix_name(var))
        out_indices = (
            tuple(reversed(vi.indices)) if c.layout == "numerator" else vi.indices
        )
        contraction = show.sum_of(
            Product(Entry(dy_mat, i, j), Entry(ty_mat, i, j, *vi.indices)),
            (j, 1, calc.size["M"]),
            (i, 1, calc.size["N"]),
        )
        lhs = Entry(dl_mat, *out_indices)
        engine.steps.append(
            Step(
                f"tensor_dL_d{var}",
                StepKind.CHAIN,
                f"Tensor view: contract ∂{c.letters.of('Y')}/∂{lv} with ∂L/∂"
                f"{c.letters.of('Y')}",
                (
                    _equation(lhs, contraction),
                    Equation(Deriv("L", var), Explicit(contracted)),
                ),
                note=(
                    f"Summing over the two output indices i, j of ∂{c.letters.of('Y')}/∂{lv}"
                    f" against ∂L/∂{c.letters.of('Y')} leaves ∂L/∂{lv} directly, "
                    + (
                        f"here in numerator layout ({lv}ᵀ's shape)"
                        if c.layout == "numerator"
                        else f"in {lv}'s shape"
                    )
                    + "; no vectorization is needed. It equals the chain-rule result "
                    "(see the certificate)."
                ),
                uses=("upstream", f"tensor_dY_d{var}"),
                wrt=var,
                view="tensor",
            )
        )
        engine.checks.append(Check(var, "tensor contraction = chain rule", ok, detail))
        _set_extra(
            engine,
            var,
            "tensor",
            {
                "shape": list(tensor.shape),
                "entries": tensor.size,
                "nonzeros": nnz,
                "entry": {
                    "text": _equation_text(dv, show.show(partial)),
                    "latex": _equation_latex(dv, show.show(partial)),
                },
                "verified": ok,
            },
            ok,
        )


def add_views(engine: _Engine) -> None:
    """Append the index and/or tensor view (per ``engine.config.method``) to ``engine``.

    Runs after the jacobian view: its results are the reference each view is checked
    against. Adds steps (``view="index"`` or ``"tensor"``), certificate rows and per-variable
    ``Result.extra`` entries ("index", "tensor") that the JSON printer merges.
    """
    method = engine.config.method
    calc = IndexCalculus(engine.config)
    if method in ("index", "all"):
        IndexView(engine, calc).add()
    if method in ("tensor", "all"):
        TensorView(engine, calc).add()


__all__ = [
    "DerivativeTensor",
    "Delta",
    "Entry",
    "IndexCalculus",
    "Partial",
    "add_views",
    "always",
    "compile_entry",
    "latex_of",
    "settle",
    "text_of",
]
