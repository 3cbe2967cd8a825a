"""Exact sparse polynomials and matrices: the arithmetic the engine runs on.

Every quantity in an affine layer is a polynomial of low degree in named entries
(x_1_1, w_2_3, dy_1_2, ...): y_ij = Σ_l x_il w_lj + b_j, and each entry of a Jacobian is a
single entry or a constant. sympy would canonicalise every intermediate sum (sorting and
hashing its terms) and print them slowly; here a polynomial is a plain dict from monomials
to exact rational coefficients, kept in the order the terms were built (so printing follows
the maths: x_1_1 w_1_1 + x_1_2 w_2_1 + b_1). Equality is exact polynomial equality, so a
difference that is zero here is zero in sympy (``to_sympy`` converts; the tests check it).

Shapes follow numpy: a ``PolyMatrix`` of shape (r, c) holds its nonzero entries by 0-based
(row, column).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from fractions import Fraction
from functools import cache, lru_cache
from math import lcm
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .conventions import PREFIX
from .notation import (
    Comm,
    Eye,
    Kron,
    Node,
    Ones,
    Prod,
    Recip,
    Scalar,
    Sum,
    Sym,
    T,
    Visitor,
)

if TYPE_CHECKING:
    import sympy as sp

Coeff = int | Fraction
Monomial = tuple[str, ...]

# Factors print in this order inside a product: x·w, dy·w, x·dy, (y − t).
_PRIORITY = {"x": 0, "dy": 1, "y": 2, "w": 3, "b": 4, "t": 5}
# Networks (symderiv.net): inputs and cached activations, then upstream symbols, masks and
# softmax values, then weights: x·dz·w, a·r·w.
_NET_PRIORITY = {"a": 0, "z": 0, "da": 1, "dz": 1, "r": 2, "p": 2, "ip": 2}


@contextlib.contextmanager
def bulk_work() -> Iterator[None]:
    """Pause Python's cycle collector while millions of small dicts and tuples are built.

    Polynomials hold no reference cycles, so reference counting frees everything; the
    collector would only rescan the growing heap again and again (about a quarter of the
    time at 64×64×64). The previous state is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@cache
def rank(atom: str) -> tuple[int, tuple[int, ...], str]:
    """Sort key of an entry name: role first, then its indices numerically (w_1_10 > w_1_9)."""
    prefix, _, rest = atom.partition("_")
    try:
        index = tuple(int(p) for p in rest.split("_")) if rest else ()
    except ValueError:
        index = ()
    priority = _PRIORITY.get(prefix)
    if priority is None:  # a network's names: w2, a1, r1, dz2 (layer number dropped)
        priority = _NET_PRIORITY.get(prefix.rstrip("0123456789"), 9)
    return (priority, index, atom)


def _normal(c: Coeff) -> Coeff:
    if type(c) is int:  # the common case; isinstance(c, Fraction) is an ABC check
        return c
    if isinstance(c, Fraction) and c.denominator == 1:
        return c.numerator
    return c


class Poly:
    """An exact polynomial: monomial (factor names, sorted by :func:`rank`) -> coefficient.

    Immutable by convention; build with :meth:`atom`, :meth:`const` and arithmetic.

    >>> x, w = Poly.atom("x_1_1"), Poly.atom("w_1_1")
    >>> (x * w + Poly.atom("b_1")).to_str()
    'x_1_1*w_1_1 + b_1'
    """

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Monomial, Coeff] | None = None) -> None:
        self.terms: dict[Monomial, Coeff] = terms if terms is not None else {}

    # -- construction ----------------------------------------------------------------------
    @staticmethod
    @cache
    def atom(name: str) -> Poly:
        """The polynomial consisting of the single entry ``name`` (shared, do not mutate)."""
        return Poly({(name,): 1})

    @staticmethod
    def term(mono: Monomial, coeff: Coeff) -> Poly:
        """The one-term polynomial coeff·mono; a lone entry or 1 is the shared instance.

        The Jacobians of an affine map hold millions of such entries (w_l_j, x_i_l, 1), so
        sharing them saves most of their memory and lets equal matrices compare by identity.
        """
        coeff = _normal(coeff)
        if coeff == 1 and type(coeff) is int:
            if len(mono) == 1:
                return Poly.atom(mono[0])
            if not mono:
                return ONE
        return Poly({mono: coeff}) if coeff else Poly()

    @staticmethod
    def const(value: Coeff) -> Poly:
        """A constant polynomial (zero has no terms)."""
        value = _normal(value)
        return Poly({(): value}) if value else Poly()

    @staticmethod
    def dot(pairs: Iterable[tuple[Poly, Poly]]) -> Poly:
        """Σ a_k·b_k in one pass, terms in the order of the pairs (a matrix-product entry)."""
        acc: dict[Monomial, Coeff] = {}
        get = acc.get
        for a, b in pairs:
            # _add_product inlined (one call per pair adds up at 64³); entries of the
            # matrices multiplied are mostly single entries, merged by one rank comparison.
            for ma, ca in a.terms.items():
                for mb, cb in b.terms.items():
                    if not mb:
                        key = ma
                    elif not ma:
                        key = mb
                    elif len(ma) == 1 and len(mb) == 1:
                        key = ma + mb if rank(ma[0]) <= rank(mb[0]) else mb + ma
                    else:
                        key = _merge(ma, mb)
                    acc[key] = get(key, 0) + ca * cb
        return Poly(_prune(acc))

    # -- arithmetic ------------------------------------------------------------------------
    def __add__(self, other: Poly) -> Poly:
        acc = dict(self.terms)
        for mono, c in other.terms.items():
            acc[mono] = acc.get(mono, 0) + c
        return Poly(_prune(acc))

    def __neg__(self) -> Poly:
        return Poly({mono: -c for mono, c in self.terms.items()})

    def __sub__(self, other: Poly) -> Poly:
        return self + (-other)

    def __mul__(self, other: Poly) -> Poly:
        # 1·p = p·1 = p (Kronecker products with I and 1 multiply by one all the time).
        if other.terms == _ONE_TERMS:
            return self
        if self.terms == _ONE_TERMS:
            return other
        acc: dict[Monomial, Coeff] = {}
        _add_product(acc, self.terms, other.terms)
        return Poly(_prune(acc))

    def scale(self, factor: Coeff) -> Poly:
        """``factor`` times this polynomial."""
        factor = _normal(factor)
        if not factor:
            return Poly()
        return Poly({mono: _normal(c * factor) for mono, c in self.terms.items()})

    def subs(self, values: Mapping[str, Poly]) -> Poly:
        """Replace entries by polynomials and multiply out."""
        acc: dict[Monomial, Coeff] = {}
        for mono, c in self.terms.items():
            part: dict[Monomial, Coeff] = {(): c}
            for factor in mono:  # a factor without a value multiplies as itself
                nxt: dict[Monomial, Coeff] = {}
                _add_product(nxt, part, values.get(factor, Poly.atom(factor)).terms)
                part = nxt
            for m, k in part.items():
                acc[m] = acc.get(m, 0) + k
        return Poly(_prune(acc))

    # -- queries -----------------------------------------------------------------------
    def is_zero(self) -> bool:
        """True when every coefficient cancelled."""
        return not self.terms

    def is_atom(self) -> bool:
        """True for a single entry with coefficient 1."""
        if len(self.terms) != 1:
            return False
        ((mono, c),) = self.terms.items()
        return len(mono) == 1 and c == 1

    def constant(self) -> Coeff | None:
        """The value if this polynomial is a constant, else None."""
        if not self.terms:
            return 0
        if len(self.terms) == 1 and () in self.terms:
            return self.terms[()]
        return None

    def atoms(self) -> set[str]:
        """The entry names that occur."""
        return {f for mono in self.terms for f in mono}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Poly) and self.terms == other.terms

    def __hash__(self) -> int:
        return hash(frozenset(self.terms.items()))

    def __repr__(self) -> str:
        return f"Poly({self.to_str()!r})"

    def __len__(self) -> int:
        return len(self.terms)

    # -- output --------------------------------------------------------------------------
    def to_str(self, bindings: Mapping[str, str] | None = None) -> str:
        """A string that ``sympy.parse_expr`` reads back to this polynomial.

        A common denominator is factored out: ``(x_1_1*w_1_1 + b_1 - t_1_1)/2``. Entries in
        ``bindings`` print as the given (parenthesised) text instead of their name.
        """
        terms = self.terms
        if not terms:
            return "0"
        if not bindings and () not in terms and set(terms.values()) == _ONES:
            # The common case (every coefficient 1, no constant): x_1_1*w_1_1 + b_1.
            return " + ".join(map("*".join, terms))
        den = _denominator(terms)
        if den > 1:
            inner = self.scale(den)._str_terms(bindings)
            return f"({inner})/{den}" if len(self.terms) > 1 else f"{inner}/{den}"
        return self._str_terms(bindings)

    def _str_terms(self, bindings: Mapping[str, str] | None) -> str:
        out: list[str] = []
        for mono, c in self.terms.items():
            factors = [
                f"({bindings[f]})" if bindings and f in bindings else f for f in mono
            ]
            sign = "-" if c < 0 else "+"
            mag = abs(c)
            if not factors:
                body = str(mag)
            elif mag == 1:
                body = "*".join(factors)
            else:
                body = "*".join([str(mag), *factors])
            if not out:
                out.append(body if sign == "+" else f"-{body}")
            else:
                out.append(f" {sign} {body}")
        return "".join(out)

    def to_sympy(self) -> sp.Expr:
        """The same polynomial as a (canonical, evaluated) sympy expression."""
        import sympy as sp

        return sp.Add(
            *(
                sp.Mul(_sympy_coeff(c), *(_sympy_symbol(f) for f in mono))
                for mono, c in self.terms.items()
            )
        )

    def to_display(self, symbol: Callable[[str], Any]) -> Any:
        """An *unevaluated* sympy expression in natural term order, for printers.

        ``symbol`` maps an entry name to the sympy object to show for it. Print the result
        with ``order="none"`` so the terms keep the order in which the maths built them.
        """
        import sympy as sp

        if not self.terms:
            return sp.Integer(0)
        den = _denominator(self.terms)
        if den > 1 and len(self.terms) > 1:
            inner = self.scale(den).to_display(symbol)
            return sp.Mul(sp.Rational(1, den), inner, evaluate=False)
        parts = []
        for mono, c in self.terms.items():
            args = [symbol(f) for f in mono]
            if c != 1 or not args:
                args.insert(0, _sympy_coeff(c))
            parts.append(args[0] if len(args) == 1 else sp.Mul(*args, evaluate=False))
        return parts[0] if len(parts) == 1 else sp.Add(*parts, evaluate=False)


_ONE_TERMS: dict[Monomial, Coeff] = {(): 1}
_INT_ONLY = {int}
_FIRST = itemgetter(0)
_ONES = {1}


def _denominator(terms: Mapping[Monomial, Coeff]) -> int:
    """The least common denominator of the coefficients (1 when they are all integers)."""
    fractions = [c.denominator for c in terms.values() if type(c) is not int]
    return lcm(*fractions) if fractions else 1


def _merge(a: Monomial, b: Monomial) -> Monomial:
    if not a:
        return b
    if not b:
        return a
    if len(a) == 1 and len(b) == 1:
        return (a[0], b[0]) if rank(a[0]) <= rank(b[0]) else (b[0], a[0])
    return tuple(sorted(a + b, key=rank))


def _add_product(
    acc: dict[Monomial, Coeff],
    a: Mapping[Monomial, Coeff],
    b: Mapping[Monomial, Coeff],
) -> None:
    for ma, ca in a.items():
        for mb, cb in b.items():
            key = _merge(ma, mb)
            acc[key] = acc.get(key, 0) + ca * cb


def _prune(acc: dict[Monomial, Coeff]) -> dict[Monomial, Coeff]:
    """Drop cancelled terms; whole Fractions become ints (nothing to do for int sums)."""
    if set(map(type, acc.values())) <= _INT_ONLY:
        return {m: c for m, c in acc.items() if c} if 0 in acc.values() else acc
    return {m: _normal(c) for m, c in acc.items() if c}


@cache
def _sympy_symbol(name: str) -> Any:
    import sympy as sp

    return sp.Symbol(name)


def _sympy_coeff(c: Coeff) -> Any:
    import sympy as sp

    return sp.Rational(c.numerator, c.denominator)  # an Integer when c is one


ZERO = Poly()
ONE = Poly.const(1)


class PolyMatrix:
    """A sparse matrix of polynomials, shape (rows, cols), 0-based entries.

    >>> A = PolyMatrix.of_atoms("X", 1, 2)
    >>> A.shape, A[0, 1].to_str()
    ((1, 2), 'x_1_2')
    """

    __slots__ = ("rows", "cols", "entries")

    def __init__(
        self, rows: int, cols: int, entries: dict[tuple[int, int], Poly] | None = None
    ) -> None:
        self.rows = rows
        self.cols = cols
        self.entries: dict[tuple[int, int], Poly] = (
            entries if entries is not None else {}
        )

    # -- construction ------------------------------------------------------------------
    @staticmethod
    def of_atoms(role: str, rows: int, cols: int) -> PolyMatrix:
        """The matrix of entry names of ``role`` (1-based names x_i_j; b_j for a bias)."""
        entries: dict[tuple[int, int], Poly] = {}
        for i in range(rows):
            for j in range(cols):
                if role == "b":
                    name = f"b_{(j if rows == 1 else i) + 1}"
                else:
                    name = f"{PREFIX[role]}_{i + 1}_{j + 1}"
                entries[i, j] = Poly.atom(name)
        return PolyMatrix(rows, cols, entries)

    @staticmethod
    def eye(k: int) -> PolyMatrix:
        """I_k."""
        return PolyMatrix(k, k, {(i, i): ONE for i in range(k)})

    @staticmethod
    def ones(rows: int, cols: int = 1) -> PolyMatrix:
        """The all-ones matrix (1_k is ones(k))."""
        return PolyMatrix(
            rows, cols, {(i, j): ONE for i in range(rows) for j in range(cols)}
        )

    @staticmethod
    def commutation(rows: int, cols: int, order: str) -> PolyMatrix:
        """K with K·vec(A) = vec(Aᵀ) for A of shape (rows, cols), in vectorization ``order``."""
        a = vec_positions((rows, cols), order)
        at = vec_positions((cols, rows), order)
        where = {pos: k for k, pos in enumerate(a)}
        size = rows * cols
        # Row r of K picks the entry of A that sits at position r of vec(Aᵀ).
        return PolyMatrix(
            size, size, {(r, where[j, i]): ONE for r, (i, j) in enumerate(at)}
        )

    # -- access --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (self.rows, self.cols)

    def __getitem__(self, key: tuple[int, int]) -> Poly:
        return self.entries.get(key, ZERO)

    def nnz(self) -> int:
        """Number of nonzero entries."""
        return len(self.entries)

    def nonzeros(self) -> Iterator[tuple[int, int, Poly]]:
        """(row, col, entry) of every nonzero, row by row."""
        rows = self._rows()
        for i in sorted(rows):
            for j, v in rows[i]:
                yield i, j, v

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PolyMatrix)
            and self.shape == other.shape
            and self.entries == other.entries
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PolyMatrix({self.rows}x{self.cols}, nnz={self.nnz()})"

    # -- algebra -------------------------------------------------------------------------
    def transpose(self) -> PolyMatrix:
        """Aᵀ."""
        return PolyMatrix(
            self.cols, self.rows, {(j, i): v for (i, j), v in self.entries.items()}
        )

    T = property(transpose)  # the maths name

    def __add__(self, other: PolyMatrix) -> PolyMatrix:
        if self.shape != other.shape:
            raise ValueError(f"shapes {self.shape} + {other.shape} do not fit")
        out = dict(self.entries)
        for key, v in other.entries.items():
            s = out[key] + v if key in out else v
            if s.is_zero():
                out.pop(key, None)
            else:
                out[key] = s
        return PolyMatrix(self.rows, self.cols, out)

    def __sub__(self, other: PolyMatrix) -> PolyMatrix:
        return self + other.scale(-1)

    def scale(self, factor: Coeff) -> PolyMatrix:
        """factor·A."""
        if not factor:
            return PolyMatrix(self.rows, self.cols)
        return PolyMatrix(
            self.rows, self.cols, {k: v.scale(factor) for k, v in self.entries.items()}
        )

    def __matmul__(self, other: PolyMatrix) -> PolyMatrix:
        """Sparse product, (r, k) @ (k, c) -> (r, c); each entry one Σ built once."""
        if self.cols != other.rows:
            raise ValueError(
                f"cannot multiply {self.rows}x{self.cols} by {other.rows}x{other.cols}"
            )
        by_row = self._rows()
        other_rows = other._rows()
        # Entry (i, j) is Σ_k a_ik·b_kj with its terms in the order of k, then of the terms
        # of a_ik and b_kj (the order the maths builds them in, which printers show).
        # When every entry is a single name or a constant and all of A's names rank before
        # all of B's (x before w, dy before w, x before dy: every product of the engine),
        # a merged monomial is just ma + mb; otherwise _merge sorts the factors.
        order = _merge_order(self, other)
        out: dict[tuple[int, int], Poly] = {}
        for i in sorted(by_row):
            sums: dict[int, dict[Monomial, Coeff]] = {}
            for k, a in by_row[i]:
                brow = other_rows.get(k)
                if brow is None:
                    continue
                a_terms = a.terms.items()
                for j, b in brow:
                    acc = sums.get(j)
                    if acc is None:
                        acc = sums[j] = {}
                    for ma, ca in a_terms:
                        for mb, cb in b.terms.items():
                            if order < 0:
                                key = ma + mb
                            elif order > 0:
                                key = mb + ma
                            else:
                                key = _merge(ma, mb)
                            acc[key] = acc.get(key, 0) + ca * cb
            for j in sorted(sums):
                terms = _prune(sums[j])
                if terms:
                    out[i, j] = Poly(terms)
        return PolyMatrix(self.rows, other.cols, out)

    def _rows(self) -> dict[int, list[tuple[int, Poly]]]:
        """row -> [(col, entry), ...] in increasing col (each row sorted on its own:
        entries are nearly always stored row by row already, so this is one pass)."""
        rows: dict[int, list[tuple[int, Poly]]] = {}
        for (i, k), v in self.entries.items():
            row = rows.get(i)
            if row is None:
                rows[i] = [(k, v)]
            else:
                row.append((k, v))
        for row in rows.values():
            if len(row) > 1:
                row.sort(key=_FIRST)
        return rows

    def kron(self, other: PolyMatrix) -> PolyMatrix:
        """Kronecker product A ⊗ B, shape (ra·rb, ca·cb)."""
        out: dict[tuple[int, int], Poly] = {}
        rb, cb = other.rows, other.cols
        # I ⊗ B and A ⊗ I are the common cases: a factor 1 gives the other entry itself.
        right = [
            (k, l_, b, b.terms == _ONE_TERMS)
            for (k, l_), b in other.entries.items()
            if b.terms
        ]
        for (i, j), a in self.entries.items():
            if not a.terms:
                continue
            a_one = a.terms == _ONE_TERMS
            r0, c0 = i * rb, j * cb
            for k, l_, b, b_one in right:
                if b_one:
                    v = a
                elif a_one:
                    v = b
                else:
                    v = a * b
                    if not v.terms:
                        continue
                out[r0 + k, c0 + l_] = v
        return PolyMatrix(self.rows * other.rows, self.cols * other.cols, out)

    def subs(self, values: Mapping[str, Poly]) -> PolyMatrix:
        """Replace entries by polynomials in every entry."""
        out = {}
        for key, v in self.entries.items():
            s = v.subs(values)
            if not s.is_zero():
                out[key] = s
        return PolyMatrix(self.rows, self.cols, out)

    def vec(self, order: str) -> list[Poly]:
        """The entries stacked in ``order`` ("row": reshape(-1); "col": textbook vec)."""
        return [self[p] for p in vec_positions(self.shape, order)]

    @staticmethod
    def unvec(values: list[Poly], shape: tuple[int, int], order: str) -> PolyMatrix:
        """Inverse of :meth:`vec`: put ``values`` back into a matrix of ``shape``."""
        out = {}
        for v, pos in zip(values, vec_positions(shape, order), strict=True):
            if not v.is_zero():
                out[pos] = v
        return PolyMatrix(shape[0], shape[1], out)

    def first_difference(self, other: PolyMatrix) -> tuple[int, int] | None:
        """The first (row-major) position where the two matrices differ, or None."""
        if self.shape != other.shape:
            return (0, 0)
        if self.entries == other.entries:
            return None
        for key in sorted(set(self.entries) | set(other.entries)):
            if self[key] != other[key]:
                return key
        return None

    def to_sympy(self) -> Any:
        """A ``sympy.ImmutableMatrix`` with canonical symbols (x_1_1, ...)."""
        import sympy as sp

        return sp.ImmutableMatrix(
            self.rows, self.cols, lambda i, j: self[i, j].to_sympy()
        )

    def by_name(self, prefix: str) -> dict[str, Poly]:
        """Entry name -> entry, zeros included: {"y_1_1": ..., "y_1_2": ...}."""
        return {
            f"{prefix}_{i + 1}_{j + 1}": self[i, j]
            for i in range(self.rows)
            for j in range(self.cols)
        }

    def to_strings(self, bindings: Mapping[str, str] | None = None) -> list[list[str]]:
        """Every entry as a sympy-readable string, row by row."""
        return [
            [self[i, j].to_str(bindings) for j in range(self.cols)]
            for i in range(self.rows)
        ]


def _names_if_linear(matrix: PolyMatrix) -> set[str] | None:
    """The entry names of ``matrix`` when every monomial has at most one, else None."""
    monomials: set[Monomial] = set()
    for p in matrix.entries.values():
        monomials.update(p.terms)
    names: set[str] = set()
    for mono in monomials:
        if len(mono) > 1:
            return None
        names.update(mono)
    return names


def _merge_order(a: PolyMatrix, b: PolyMatrix) -> int:
    """-1 when ``_merge(ma, mb) == ma + mb`` for every monomial ma of a and mb of b, 1 when
    it is always ``mb + ma``, 0 when it must compare: -1 or 1 when each monomial has at
    most one name and all names of one side have a lower role priority than all names of
    the other (x before w, dy before w, x before dy: every product the engine forms)."""
    left, right = _names_if_linear(a), _names_if_linear(b)
    if left is None or right is None:
        return 0
    if not left or not right:
        return -1
    lo = [rank(f)[0] for f in left]
    ro = [rank(f)[0] for f in right]
    if max(lo) < min(ro):
        return -1
    if max(ro) < min(lo):
        return 1
    return 0


def affine_jacobian(values: Iterable[Poly], names: Iterable[str]) -> PolyMatrix:
    """∂values[r]/∂names[c]: row r holds the derivatives of ``values[r]`` with
    respect to each name.

    For polynomials of degree at most one in each name (an affine map in each variable):
    one pass over their terms, a term c·v·rest contributing c·rest to ∂y/∂v, instead of
    differentiating every value with respect to every name. Shape (len(values), len(names)).
    """
    column = {name: k for k, name in enumerate(names)}
    where = column.get
    atom = Poly.atom
    entries: dict[tuple[int, int], Poly] = {}
    r = -1
    for r, y in enumerate(values):
        for mono, coeff in y.terms.items():
            for k, f in enumerate(mono):
                c = where(f)
                if c is None:
                    continue
                rest = mono[:k] + mono[k + 1 :]
                if coeff == 1 and len(rest) == 1 and type(coeff) is int:
                    value = atom(rest[0])  # the shared entry: most of a Jacobian
                else:
                    value = Poly.term(rest, coeff)
                old = entries.get((r, c))
                entries[r, c] = value if old is None else old + value
    return PolyMatrix(r + 1, len(column), entries)


@lru_cache(maxsize=256)
def vec_positions(shape: tuple[int, int], order: str) -> tuple[tuple[int, int], ...]:
    """0-based (i, j) of each entry of a matrix of ``shape``, in vectorization ``order``."""
    rows, cols = shape
    if order == "row":
        return tuple((i, j) for i in range(rows) for j in range(cols))
    return tuple((i, j) for j in range(cols) for i in range(rows))


class _Evaluate(Visitor[PolyMatrix]):
    """A formula as an explicit matrix; Scalar and Recip factors scale products."""

    def __init__(
        self, env: Mapping[str, PolyMatrix], sizes: Mapping[str, int], order: str
    ) -> None:
        self.env, self.sizes, self.order = env, sizes, order

    def visit_Sym(self, node: Sym) -> PolyMatrix:
        return self.env[node.role]

    def visit_T(self, node: T) -> PolyMatrix:
        return self.visit(node.arg).transpose()

    def visit_Eye(self, node: Eye) -> PolyMatrix:
        return PolyMatrix.eye(self.sizes[node.size])

    def visit_Ones(self, node: Ones) -> PolyMatrix:
        return PolyMatrix.ones(self.sizes[node.size])

    def visit_Comm(self, node: Comm) -> PolyMatrix:
        rows, cols = self.sizes[node.rows], self.sizes[node.cols]
        return PolyMatrix.commutation(rows, cols, self.order)

    def visit_Kron(self, node: Kron) -> PolyMatrix:
        return self.visit(node.left).kron(self.visit(node.right))

    def visit_Sum(self, node: Sum) -> PolyMatrix:
        return functools.reduce(operator.add, map(self.visit, node.args))

    def visit_Prod(self, node: Prod) -> PolyMatrix:
        factor: Coeff = 1
        result: PolyMatrix | None = None
        for a in node.args:
            if isinstance(a, Scalar):
                factor = _normal(factor * a.value)
            elif isinstance(a, Recip):
                factor = _normal(factor * Fraction(1, self.sizes[a.size]))
            else:
                value = self.visit(a)
                result = value if result is None else result @ value
        if result is None:
            raise ValueError("a product of scalars only")
        return result.scale(factor) if factor != 1 else result


def evaluate(
    node: Node,
    env: Mapping[str, PolyMatrix],
    sizes: Mapping[str, int],
    order: str = "row",
) -> PolyMatrix:
    """Evaluate a notation tree with explicit matrices for its roles.

    Args:
        node: a formula such as ``Prod(Sym("dY"), T(Sym("W")))``.
        env: role -> explicit matrix.
        sizes: size name -> value, e.g. {"N": 2, "D": 2, "M": 3} (``Config.sizes``).
        order: vectorization order, used by the commutation matrix K.

    >>> evaluate(Prod(T(Ones("N")), Sym("X")), {"X": PolyMatrix.of_atoms("X", 2, 1)},
    ...          {"N": 2}).to_strings()
    [['x_1_1 + x_2_1']]
    """
    return _Evaluate(env, sizes, order).visit(node)
