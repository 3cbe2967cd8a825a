"""The fast paths of symderiv/algebra.py give exactly what the plain definitions give.

The matrix product decides the order of the factors of a merged monomial once per
product when it can (every name of one side ranks before every name of the other), the
Kronecker product passes entries 1 through, the Jacobian is read off the terms of each
polynomial and nonzeros are grouped by row instead of sorting every key. Each is compared
here, on random sparse matrices of random polynomials (hypothesis), with the textbook
definition written out naively — including the *order of the terms*, which the printers
show — and with sympy for the values.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.algebra import (
    ONE,
    Coeff,
    Monomial,
    Poly,
    PolyMatrix,
    _merge,
    _merge_order,
    affine_jacobian,
    rank,
)

# -- strategies ---------------------------------------------------------------------------
ROLE_NAMES = {
    "x": ["x_1_1", "x_2_1", "x_1_10", "x_3_2"],
    "dy": ["dy_1_1", "dy_2_3", "dy_12_1"],
    "w": ["w_1_1", "w_2_1", "w_10_1", "w_1_2"],
    "b": ["b_1", "b_2", "b_11"],
    "t": ["t_1_1", "t_2_2"],
}
ALL_NAMES = [n for names in ROLE_NAMES.values() for n in names]
coeffs = st.integers(-3, 3).filter(bool) | st.sampled_from([1, 1, 1, Fraction(1, 2)])


@st.composite
def polys(draw: st.DrawFn, names: list[str], max_degree: int) -> Poly:
    terms: dict[Monomial, Coeff] = {}
    for _ in range(draw(st.integers(1, 3))):
        size = draw(st.integers(0, max_degree))
        mono = tuple(
            sorted(
                draw(st.lists(st.sampled_from(names), min_size=size, max_size=size)),
                key=rank,
            )
        )
        terms[mono] = terms.get(mono, 0) + draw(coeffs)
    return Poly({m: c for m, c in terms.items() if c}) + Poly()


@st.composite
def matrices(
    draw: st.DrawFn, rows: int, cols: int, names: list[str], max_degree: int
) -> PolyMatrix:
    entries: dict[tuple[int, int], Poly] = {}
    keys = draw(
        st.lists(
            st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1)), unique=True
        )
    )
    for key in keys:
        p = draw(polys(names, max_degree))
        if not p.is_zero():
            entries[key] = p
    return PolyMatrix(rows, cols, entries)


@st.composite
def products(draw: st.DrawFn) -> tuple[PolyMatrix, PolyMatrix]:
    r, k, c = (draw(st.integers(1, 4)) for _ in range(3))
    roles = sorted(ROLE_NAMES)
    left = [
        n
        for role in draw(st.sets(st.sampled_from(roles), min_size=1))
        for n in ROLE_NAMES[role]
    ]
    right = [
        n
        for role in draw(st.sets(st.sampled_from(roles), min_size=1))
        for n in ROLE_NAMES[role]
    ]
    degree = draw(st.sampled_from([1, 1, 2]))
    return (
        draw(matrices(r, k, left, degree)),
        draw(matrices(k, c, right, degree)),
    )


# -- references ---------------------------------------------------------------------------
def naive_product(a: PolyMatrix, b: PolyMatrix) -> PolyMatrix:
    """Σ_k a_ik·b_kj, terms in the order of k, then of a's and b's terms (by _merge)."""
    out: dict[tuple[int, int], Poly] = {}
    for i in range(a.rows):
        for j in range(b.cols):
            acc: dict[Monomial, Coeff] = {}
            for k in range(a.cols):
                if (i, k) not in a.entries or (k, j) not in b.entries:
                    continue
                for ma, ca in a.entries[i, k].terms.items():
                    for mb, cb in b.entries[k, j].terms.items():
                        key = _merge(ma, mb)
                        acc[key] = acc.get(key, 0) + ca * cb
            p = Poly({m: c for m, c in acc.items() if c}) + Poly()
            if not p.is_zero():
                out[i, j] = p
    return PolyMatrix(a.rows, b.cols, out)


def same_with_order(a: PolyMatrix, b: PolyMatrix) -> bool:
    """Equal entries, each with its terms in the same order (as printed)."""
    if a.shape != b.shape or set(a.entries) != set(b.entries):
        return False
    return all(
        list(a.entries[k].terms.items()) == list(b.entries[k].terms.items())
        for k in a.entries
    )


# -- the product ----------------------------------------------------------------------------
@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(products())
def test_the_product_is_the_naive_sum_term_for_term(
    pair: tuple[PolyMatrix, PolyMatrix],
) -> None:
    a, b = pair
    got = a @ b
    assert same_with_order(got, naive_product(a, b))
    assert got.to_sympy().expand() == (a.to_sympy() * b.to_sympy()).expand()


def test_the_factor_order_is_decided_once_only_when_it_is_safe() -> None:
    x = PolyMatrix.of_atoms("X", 2, 2)
    w = PolyMatrix.of_atoms("W", 2, 2)
    dy = PolyMatrix.of_atoms("dY", 2, 2)
    assert _merge_order(x, w) == -1
    assert _merge_order(w, x) == 1
    assert _merge_order(dy, w.T) == -1
    assert _merge_order(x.T, dy) == -1
    assert _merge_order(PolyMatrix.ones(2, 2), w) == -1
    assert _merge_order(x, x) == 0  # same role: compare name by name
    assert _merge_order(x @ w, dy) == 0  # x·w is not a single name
    # and the results agree with the definition in every case
    for a, b in ((x, w), (w, x), (x, x.T), (x @ w, dy.T), (dy, w.T)):
        assert same_with_order(a @ b, naive_product(a, b))


# -- the Kronecker product --------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    matrices(2, 3, ALL_NAMES, 1) | st.just(PolyMatrix.eye(2)),
    matrices(3, 2, ALL_NAMES, 1) | st.just(PolyMatrix.eye(3)),
)
def test_kron_is_the_definition(a: PolyMatrix, b: PolyMatrix) -> None:
    got = a.kron(b)
    assert got.shape == (a.rows * b.rows, a.cols * b.cols)
    expected: dict[tuple[int, int], Poly] = {}
    for (i, j), u in a.entries.items():
        for (k, l_), v in b.entries.items():
            p = u * v
            if not p.is_zero():
                expected[i * b.rows + k, j * b.cols + l_] = p
    assert same_with_order(got, PolyMatrix(got.rows, got.cols, expected))


def test_kron_with_identity_shares_the_entries() -> None:
    w = PolyMatrix.of_atoms("W", 2, 3)
    k = PolyMatrix.eye(2).kron(w.T)
    assert all(any(v is e for e in w.entries.values()) for v in k.entries.values())


# -- the Jacobian and nonzeros ----------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    st.lists(polys(ALL_NAMES, 2), min_size=1, max_size=5),
    st.sampled_from(sorted(ROLE_NAMES)),
)
def test_affine_jacobian_is_the_derivative(values: list[Poly], role: str) -> None:
    names = ROLE_NAMES[role]
    jac = affine_jacobian(values, names)
    assert jac.shape == (len(values), len(names))
    for r, y in enumerate(values):
        expr = y.to_sympy()
        for c, name in enumerate(names):
            assert sp.expand(jac[r, c].to_sympy() - sp.diff(expr, sp.Symbol(name))) == 0


def test_jacobian_entries_of_an_affine_map_are_shared_names() -> None:
    x, w = PolyMatrix.of_atoms("X", 2, 2), PolyMatrix.of_atoms("W", 2, 3)
    y = x @ w + PolyMatrix.ones(2, 1) @ PolyMatrix.of_atoms("b", 1, 3)
    names = [next(iter(p.atoms())) for p in x.vec("row")]
    jac = affine_jacobian(y.vec("row"), names)
    assert all(v is Poly.atom(next(iter(v.atoms()))) for v in jac.entries.values())
    jac_b = affine_jacobian(y.vec("row"), ["b_1", "b_2", "b_3"])
    assert all(v is ONE for v in jac_b.entries.values())


@settings(max_examples=100, deadline=None)
@given(matrices(4, 4, ALL_NAMES, 1))
def test_nonzeros_come_row_by_row(matrix: PolyMatrix) -> None:
    shuffled = PolyMatrix(
        matrix.rows, matrix.cols, dict(reversed(list(matrix.entries.items())))
    )
    expected = [(i, j, matrix.entries[i, j]) for i, j in sorted(matrix.entries)]
    assert list(matrix.nonzeros()) == expected
    assert list(shuffled.nonzeros()) == expected


def test_a_poly_of_one_term() -> None:
    assert Poly.term(("x_1_1",), 1) is Poly.atom("x_1_1")
    assert Poly.term((), 1) is ONE
    assert Poly.term(("x_1_1",), Fraction(2, 2)) is Poly.atom("x_1_1")
    assert Poly.term(("x_1_1",), 0).is_zero()
    assert Poly.term(("x_1_1", "w_1_1"), -2).to_str() == "-2*x_1_1*w_1_1"
    assert Poly.term(("x_1_1",), Fraction(1, 2)).to_str() == "x_1_1/2"
