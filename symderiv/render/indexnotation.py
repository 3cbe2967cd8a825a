"""How index notation prints: the sympy display classes of ``--method index`` and ``tensor``.

sympy computes the index view (``symderiv.views``) with ``IndexedBase`` entries,
``KroneckerDelta`` and ``Sum``; the small classes here only decide how sympy's pretty and
LaTeX printers draw what a student reads: ∂L/∂y_ij (:class:`Partial`), (Xᵀ·dY)_hk
(:class:`Entry`), δ_jk (:class:`Delta`), factors and terms in reading order
(:class:`Product`, :class:`Terms`). :class:`Display` turns sympy's expressions into them;
:func:`text_of` and :func:`latex_of` print them on one line (JSON).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.printing.pretty.stringpict import prettyForm

from ..conventions import PREFIX, Letters
from ..notes import size_m

#: Unicode subscripts of the letters and digits that have one (x_ih prints as xᵢₕ).
_SUBSCRIPT = str.maketrans(
    "aehijklmnoprstuvx0123456789=", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₀₁₂₃₄₅₆₇₈₉₌"
)
#: Superscripts of the size names and digits that have one (Σ's upper limit: M − 1 -> ᴹ⁻¹).
_SUPERSCRIPT = str.maketrans(
    "ABDEGHIJKLMNOPRTUVW0123456789−", "ᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
)


def _subscript(names: str) -> str:
    """ "hk" -> "ₕₖ" (or "_hk" when a letter has no Unicode subscript)."""
    if all(ord(c) in _SUBSCRIPT for c in names):
        return names.translate(_SUBSCRIPT)
    return f"_{names}"


def _superscript(text: str) -> str:
    """ "M − 1" -> "ᴹ⁻¹" (or "^(C_out)" when a character has no Unicode superscript, as
    the terminal writes a size's subscript: I_(C_out))."""
    tight = text.replace(" ", "")
    if all(ord(c) in _SUPERSCRIPT for c in tight):
        return tight.translate(_SUPERSCRIPT)
    return f"^({text})" if len(text) > 1 else f"^{text}"


def _flat(printer: Any, expr: Any) -> str:
    """``expr`` drawn by sympy's pretty printer on one line (else in plain sympy text)."""
    lines = printer._print(expr).picture
    return str(lines[0]) if len(lines) == 1 else sp.sstr(expr)


def index_text(indices: Iterable[Any]) -> str:
    return "".join(str(i) for i in indices)


# -- display classes: how sympy draws the index notation ---------------------------------------
class Partial(sp.Expr):  # type: ignore[misc]
    """∂num/∂den for display, e.g. ∂L/∂y_ij: flat in the terminal, a fraction in LaTeX."""

    is_commutative = True

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

    @property
    def base(self) -> Any:
        return self.args[0]

    @property
    def indices(self) -> tuple[Any, ...]:
        return tuple(self.args[1:])

    def _inner(self, printer: Any, partial: Any, tex: bool = False) -> str:
        """The base: a derivative as ``partial`` prints it, a matrix by matrix_text."""
        if isinstance(self.base, Partial):
            return str(partial(self.base))
        return matrix_text(self.base, printer if tex else None)

    def _pretty(self, printer: Any) -> Any:
        inner = self._inner(printer, lambda b: _flat(printer, b))
        return prettyForm(f"({inner}){_subscript(index_text(self.indices))}")

    def _latex(self, printer: Any) -> str:
        inner = self._inner(printer, printer._print, tex=True)
        return rf"\left({inner}\right)_{{{index_text(self.indices)}}}"

    def _sympystr(self, printer: Any) -> str:
        inner = self._inner(printer, printer._print)
        return f"({inner})_{index_text(self.indices)}"


class Product(sp.Expr):  # type: ignore[misc]
    """A product whose factors print in the order given (∂L/∂y_ij·δ_jk·x_ih), in any printer.

    sympy's own Mul sorts its factors, and its LaTeX printer reorders them again unless told
    ``order="none"``; the reading order of a derivation is part of its meaning.
    """

    is_commutative = True

    def _pretty(self, printer: Any) -> Any:
        return prettyForm.__mul__(*(printer._print(a) for a in self.args))

    def _latex(self, printer: Any) -> str:
        return _factors(self.args, printer._print, " ", r"\left({}\right)")

    def _sympystr(self, printer: Any) -> str:
        return _factors(self.args, printer._print, "·", "({})")


def _factors(args: Iterable[Any], draw: Any, sep: str, paren: str) -> str:
    """The factors of a Product drawn by ``draw``, a sum among them in ``paren``."""
    return sep.join(
        paren.format(draw(a)) if isinstance(a, Terms) else str(draw(a)) for a in args
    )


class Terms(sp.Expr):  # type: ignore[misc]
    """A sum of terms printed in the order given (Σ_l x_il·w_lj + b_j), in any printer."""

    is_commutative = True

    def _pretty(self, printer: Any) -> Any:
        return prettyForm.__add__(*(printer._print(a) for a in self.args))

    def _latex(self, printer: Any) -> str:
        return " + ".join(str(printer._print(a)) for a in self.args)

    _sympystr = _latex


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
        return f"{size_m(self._size).latex} - {self._shift}"

    def _sympystr(self, printer: Any) -> str:
        return f"{self._size} − {self._shift}"


class SumOf(sp.Sum):  # type: ignore[misc]
    """sympy's Sum, with several limits drawn as nested sums in LaTeX: Σ_i Σ_j (not a stack)."""

    def _latex(self, printer: Any) -> str:
        return _sums(self, printer._print, r"\sum", r"\left({}\right)")


def _sums(expr: Any, draw: Any, sigma: str, paren: str, pretty: bool = False) -> str:
    """A sum drawn by ``draw`` as Σ_{i=1}^{N} Σ_{j=1}^{M} body (``pretty``: Σᵢ₌₁ᴺ Σⱼ₌₁ᴹ
    body), the outer limit first; a body of several terms in ``paren``."""
    out = "".join(
        f"{sigma}{_subscript(f'{v}={lo}')}{_superscript(str(hi))} "
        if pretty
        else f"{sigma}_{{{draw(v)}={draw(lo)}}}^{{{draw(hi)}}} "
        for v, lo, hi in reversed(expr.limits)
    )
    body = str(draw(expr.function))
    return out + (paren.format(body) if isinstance(expr.function, Terms) else body)


class Delta(sp.KroneckerDelta):  # type: ignore[misc]
    """sympy's KroneckerDelta, drawn on one line: δⱼₖ (LaTeX ``\\delta_{jk}``).

    :func:`named_delta` makes the same delta under another name (``Id_jk``, seed 001).
    """

    symbol = "δ"
    tex = r"\delta"

    def _pretty(self, printer: Any) -> Any:
        return prettyForm(f"{self.symbol}{_subscript(index_text(self.args[:2]))}")

    def _latex(self, printer: Any) -> str:
        return rf"{self.tex}_{{{index_text(self.args[:2])}}}"

    def _sympystr(self, printer: Any) -> str:
        return f"{self.symbol}_{index_text(self.args[:2])}"


@lru_cache(maxsize=16)
def named_delta(name: str | None) -> type[Delta]:
    """The delta printed as ``name`` (``--names delta=Id``), or δ for None."""
    if name is None:
        return Delta
    tex = name if len(name) == 1 else rf"\mathrm{{{name}}}"
    return type(f"Delta_{name}", (Delta,), {"symbol": name, "tex": tex})


def matrix_text(m: Any, printer: Any = None) -> str:
    """A matrix expression on one line: Xᵀ·dY, 1_Nᵀ·dY; in LaTeX with sympy's LaTeX
    ``printer``: X^{T} \\, dY, \\mathbf{1}_{N}^{T} \\, dY."""
    tex = printer is not None
    if isinstance(m, sp.OneMatrix):  # 1_N, or 1_Nᵀ once sympy has transposed it
        if not tex:
            return f"1_{m.rows}" if m.cols == 1 else f"1_{m.cols}ᵀ"
        if m.cols == 1:
            return rf"\mathbf{{1}}_{{{printer._print(m.rows)}}}"
        return rf"\mathbf{{1}}_{{{printer._print(m.cols)}}}^{{T}}"
    if isinstance(m, sp.MatrixSymbol):
        return str(printer._print(m)) if tex else str(m.name)
    if isinstance(m, sp.Transpose):
        inner = matrix_text(m.arg, printer)
        if isinstance(m.arg, sp.MatMul):
            inner = rf"\left({inner}\right)" if tex else f"({inner})"
        return inner + ("^{T}" if tex else "ᵀ")
    if isinstance(m, sp.MatMul):
        return (r" \, " if tex else "·").join(matrix_text(a, printer) for a in m.args)
    raise TypeError(f"cannot draw {type(m).__name__}")


def text_of(expr: Any, pretty: bool = False) -> str:
    """One line of Unicode text for an index-notation expression: for JSON, indices
    after an underscore; ``pretty``, for prose in the terminal, in the notation of its
    steps (subscripts, Σ with its limits as scripts).

    >>> i, k = sp.symbols("i k")
    >>> text_of(sp.Sum(Delta(i, k), (i, 1, sp.Symbol("N"))))
    'Σ_{i=1}^{N} δ_ik'
    >>> text_of(sp.Sum(Delta(i, k), (i, 1, sp.Symbol("N"))), pretty=True)
    'Σᵢ₌₁ᴺ δᵢₖ'
    """

    def draw(e: Any) -> str:
        return text_of(e, pretty)

    if isinstance(expr, sp.Sum):
        return _sums(expr, draw, "Σ", "({})", pretty)
    if isinstance(expr, Terms):
        return " + ".join(draw(a) for a in expr.args)
    if isinstance(expr, Product):
        return _factors(expr.args, draw, "·", "({})")
    if pretty:
        flat = sp.pretty(expr, use_unicode=True, wrap_line=False)
        if "\n" not in flat:
            return str(flat)
    return str(sp.sstr(expr))


def latex_of(expr: Any) -> str:
    """LaTeX for an index-notation expression, terms in the order they were built."""
    # a size named C_in is C with a roman subscript, as the article sets it (not C_{in})
    named = {
        s: size_m(s.name).latex
        for s in getattr(expr, "free_symbols", ())
        if type(s) is sp.Symbol and "_" in s.name  # not an entry's Name such as x_ih
    }
    return str(sp.latex(expr, order="none", symbol_names=named))


# -- from sympy's indexed expressions to what students read -------------------------


class Display:
    """Turns sympy's indexed expressions into the objects students read: x_ih, ∂L/∂y_ij, δ_jk."""

    def __init__(self, letters: Letters) -> None:
        self.letters = letters
        self.loss = sp.Symbol("L")
        # Factors read upstream, delta, x, w, b: ∂L/∂y_ij·δ_jk·x_ih, x_il·w_lj.
        self._order = {self.letters.entry(r): k for k, r in enumerate(("X", "W", "b"))}

    def entry_symbol(self, role: str, indices: Iterable[Any]) -> Any:
        """x_ih, w_hk, b_k, y_ij in the convention's letters."""
        return Name(f"{self.letters.entry(role)}_{index_text(indices)}")

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


__all__ = [
    "Delta",
    "Display",
    "Entry",
    "LastIndex",
    "Name",
    "Partial",
    "Product",
    "SumOf",
    "Terms",
    "index_text",
    "latex_of",
    "named_delta",
    "matrix_text",
    "text_of",
]
