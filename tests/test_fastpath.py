"""The structured engine gives exactly what plain sympy gives, in every convention and order.

symderiv never calls ``Matrix.jacobian``: it reads each Jacobian off the sparse structure of
Y and runs the chain rule on its own exact polynomials (see symderiv/algebra.py). Here the
textbook route is rebuilt from scratch with sympy Matrices, independently of symderiv's
conventions module (the forward formulas, vec orders and Kronecker forms are typed in from
SPEC section 1), and every Jacobian, chain-rule result, closed form and JSON entry is
compared with it exactly, at small sizes, for each convention, vec order, layout and loss.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from typing import Any

import pytest
import sympy as sp
from sympy.matrices import kronecker_product

from symderiv import derive
from symderiv.algebra import Poly, PolyMatrix

CONVENTIONS = ("xw", "torch", "column")
ORDERS = ("row", "col")
LAYOUTS = ("denominator", "numerator")
LOSSES = ("generic", "mse", "sum")
SIZES = ((1, 1, 1), (2, 3, 2), (3, 2, 4))


def symbols(prefix: str, rows: int, cols: int) -> sp.Matrix:
    """A sympy Matrix of entry symbols named as in SPEC section 1 (1-based)."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}_{j + 1}"))


def vec(a: sp.Matrix, order: str) -> sp.Matrix:
    """vec(A) as a column: rows stacked (reshape(-1)) or columns stacked (textbook vec)."""
    if order == "row":
        return a.reshape(a.rows * a.cols, 1)
    return a.T.reshape(a.rows * a.cols, 1)


def unvec(v: sp.Matrix, rows: int, cols: int, order: str) -> sp.Matrix:
    """Inverse of :func:`vec`."""
    if order == "row":
        return v.reshape(rows, cols)
    return v.reshape(cols, rows).T


def commutation(rows: int, cols: int, order: str) -> sp.Matrix:
    """K with K·vec(A) = vec(Aᵀ) for A (rows × cols), found by brute force on symbols."""
    a = symbols("k", rows, cols)
    va, vat = list(vec(a, order)), list(vec(a.T, order))
    k = sp.zeros(rows * cols, rows * cols)
    for r, s in enumerate(vat):
        k[r, va.index(s)] = 1
    return k


class Textbook:
    """The layer of one convention, written with sympy Matrices (the textbook route)."""

    def __init__(self, convention: str, n: int, d: int, m: int) -> None:
        self.convention, self.n, self.d, self.m = convention, n, d, m
        self.X = symbols("x", n, d)
        ones = sp.ones(n, 1)
        if convention == "xw":  # Y = X W + 1_N b, W (D, M), b (1, M)
            self.W = symbols("w", d, m)
            self.b = sp.Matrix(1, m, lambda i, j: sp.Symbol(f"b_{j + 1}"))
            self.Y = self.X * self.W + ones * self.b
        elif convention == "torch":  # Y = X Wᵀ + 1_N b, W (M, D), b length M shown 1×M
            self.W = symbols("w", m, d)
            self.b = sp.Matrix(1, m, lambda i, j: sp.Symbol(f"b_{j + 1}"))
            self.Y = self.X * self.W.T + ones * self.b
        else:  # column: Z = A Wᵀ + 1_N bᵀ, W (C_out, C_in), b (C_out, 1)
            self.W = symbols("w", m, d)
            self.b = sp.Matrix(m, 1, lambda i, j: sp.Symbol(f"b_{i + 1}"))
            self.Y = self.X * self.W.T + ones * self.b.T
        self.dY = symbols("dy", n, m)
        self.T = symbols("t", n, m)

    def var(self, name: str) -> sp.Matrix:
        return {"X": self.X, "W": self.W, "b": self.b}[name]

    def jacobian(self, name: str, order: str) -> sp.Matrix:
        """∂vec(Y)/∂vec(V) with sympy's Matrix.jacobian."""
        return vec(self.Y, order).jacobian(vec(self.var(name), order))

    def kronecker(self, name: str, order: str) -> sp.Matrix:
        """The Kronecker closed form of SPEC section 1's table."""
        n, m = self.n, self.m
        eye_n, eye_m, one_n = sp.eye(n), sp.eye(m), sp.ones(n, 1)
        transposed = self.convention != "xw"
        W = self.W.T if transposed else self.W  # the D×M matrix that multiplies X
        if name == "X":
            if order == "row":
                return kronecker_product(eye_n, W.T)
            return kronecker_product(W.T, eye_n)
        if name == "b":
            if order == "row":
                return kronecker_product(one_n, eye_m)
            return kronecker_product(eye_m, one_n)
        if order == "row":
            form = kronecker_product(self.X, eye_m)
        else:
            form = kronecker_product(eye_m, self.X)
        if transposed:
            form = form * commutation(self.m, self.d, order)
        return form

    def closed(self, name: str) -> sp.Matrix:
        """The familiar closed form in the variable's own shape (denominator layout)."""
        dY = self.dY
        transposed = self.convention != "xw"
        if name == "X":
            return dY * (self.W if transposed else self.W.T)
        if name == "W":
            return dY.T * self.X if transposed else self.X.T * dY
        if self.convention == "column":
            return dY.T * sp.ones(self.n, 1)
        return sp.ones(1, self.n) * dY

    def upstream(self, loss: str) -> sp.Matrix:
        """∂L/∂Y for the loss: symbols, (Y − T)/N, or ones."""
        if loss == "generic":
            return self.dY
        if loss == "sum":
            return sp.ones(self.n, self.m)
        return (self.Y - self.T) / self.n

    def loss(self, loss: str) -> sp.Expr:
        """L itself; for ``generic`` the linear stand-in Σ dy_ij y_ij (∂L/∂Y = dY)."""
        if loss == "generic":
            return sum(
                (a * b for a, b in zip(self.dY, self.Y, strict=True)), sp.Integer(0)
            )
        if loss == "sum":
            return sum(self.Y, sp.Integer(0))
        squares = sum(((y - t) ** 2 for y, t in zip(self.Y, self.T, strict=True)), 0)
        return sp.Rational(1, 2 * self.n) * squares


def same(a: sp.Matrix, b: sp.Matrix) -> bool:
    """Exact equality of two sympy matrices (shape, then every entry expands equal)."""
    return a.shape == b.shape and (a - b).expand().is_zero_matrix is True


def parse(text: str) -> sp.Expr:
    return sp.parse_expr(text, evaluate=True)


def parse_matrix(rows: list[list[str]]) -> sp.Matrix:
    """A JSON matrix of strings, each read with sympy.parse_expr."""
    return sp.Matrix([[parse(e) for e in row] for row in rows])


CASES = list(itertools.product(CONVENTIONS, ORDERS, SIZES))


@pytest.mark.parametrize(("convention", "order", "sizes"), CASES)
def test_jacobians_equal_matrix_jacobian(
    convention: str, order: str, sizes: tuple[int, int, int]
) -> None:
    n, d, m = sizes
    tb = Textbook(convention, n, d, m)
    dv = derive(n=n, d=d, m=m, convention=convention, vec=order)
    assert dv.verified
    for name in ("X", "W", "b"):
        expected = tb.jacobian(name, order)
        got = dv.results[name].jacobian.to_sympy()
        assert (
            got.shape
            == expected.shape
            == (n * m, tb.var(name).rows * tb.var(name).cols)
        )
        assert got == expected, f"{convention} {order} {sizes}: ∂vec Y/∂vec {name}"
        # The Kronecker closed form, typed in from the SPEC, matches too.
        assert expected == tb.kronecker(name, order), f"SPEC table, {name}"


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_chain_rule_equals_sympy_and_direct_differentiation(
    convention: str, order: str, layout: str, loss: str
) -> None:
    n, d, m = 2, 3, 2
    tb = Textbook(convention, n, d, m)
    dv = derive(
        n=n, d=d, m=m, convention=convention, vec=order, layout=layout, loss=loss
    )
    assert dv.verified
    g = vec(tb.upstream(loss), order).T  # the (1, N·M) row ∂L/∂vec(Y)
    big_l = tb.loss(loss)
    for name in ("X", "W", "b"):
        v = tb.var(name)
        # The textbook route: row times Matrix.jacobian, reshaped back.
        chain = unvec((g * tb.jacobian(name, order)).T, v.rows, v.cols, order)
        # Direct differentiation of L by every entry.
        direct = v.applyfunc(lambda e: sp.diff(big_l, e))
        assert same(chain, direct)
        if layout == "numerator":
            chain = chain.T
        # symderiv's result, with the loss's dY substituted (derivative keeps dy_i_j).
        got = dv.explicit_derivative(name)
        assert same(got, chain), f"{convention} {order} {layout} {loss}: ∂L/∂{name}"
        # The closed form, evaluated by symderiv, is the familiar product.
        closed = tb.closed(name)
        if layout == "numerator":
            closed = closed.T
        result = dv.results[name]
        assert result.closed.to_sympy() == (
            closed if loss != "sum" else closed.subs(dict.fromkeys(tb.dY, 1))
        )
        # The chain-rule row J_L = (∂L/∂vec Y)·J, written with the dy_i_j symbols (ones
        # for sum), and its reshape, in vec order and in the layout asked.
        symbols_dy = sp.ones(n, m) if loss == "sum" else tb.dY
        row = vec(symbols_dy, order).T * tb.jacobian(name, order)
        assert same(result.chain.to_sympy(), row)
        reshaped = unvec(row.T, v.rows, v.cols, order)
        if layout == "numerator":
            reshaped = reshaped.T
        assert same(result.derivative.to_sympy(), reshaped)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_json_entries_parse_back_to_the_sympy_results(
    convention: str, order: str, loss: str
) -> None:
    n, d, m = 2, 2, 3
    tb = Textbook(convention, n, d, m)
    dv = derive(n=n, d=d, m=m, convention=convention, vec=order, loss=loss)
    doc: dict[str, Any] = json.loads(dv.to_json())
    assert parse_matrix(doc["matrices"]["Y"]) == tb.Y.applyfunc(sp.expand)
    upstream = parse_matrix(doc["matrices"]["dY"])
    assert same(upstream, tb.upstream(loss))
    for name in ("X", "W", "b"):
        entry = doc["results"][name]
        jac = sp.zeros(*entry["jacobian"]["shape"])
        for i, j, text in entry["jacobian"]["nonzeros"]:
            assert jac[i, j] == 0, "each nonzero listed once"
            jac[i, j] = parse(text)
        assert jac == tb.jacobian(name, order)
        v = tb.var(name)
        g = vec(tb.upstream(loss), order).T
        chain = unvec((g * tb.jacobian(name, order)).T, v.rows, v.cols, order)
        assert same(parse_matrix(entry["derivative"]), chain)
        assert entry["verified"] is True
    assert doc["verified"] is True


def test_only_the_variables_asked_for() -> None:
    dv = derive(n=2, d=2, m=2, wrt=("W",))
    assert list(dv.results) == ["W"]
    assert dv.results["W"].jacobian.to_sympy() == Textbook("xw", 2, 2, 2).jacobian(
        "W", "row"
    )


# -- the arithmetic underneath: Poly and PolyMatrix against sympy -------------------------


def test_products_and_kronecker_match_sympy() -> None:
    x = symbols("x", 3, 2)
    w = symbols("w", 2, 4)
    X = PolyMatrix.of_atoms("X", 3, 2)
    W = PolyMatrix.of_atoms("W", 2, 4)
    assert (X @ W).to_sympy() == (x * w).applyfunc(sp.expand)
    assert X.kron(W).to_sympy() == kronecker_product(x, w).applyfunc(sp.expand)
    assert X.kron(PolyMatrix.eye(3)).to_sympy() == kronecker_product(x, sp.eye(3))
    assert PolyMatrix.eye(2).kron(W).to_sympy() == kronecker_product(sp.eye(2), w)
    for order in ORDERS:
        k = PolyMatrix.commutation(3, 2, order).to_sympy()
        assert k == commutation(3, 2, order)


def test_multiplying_by_one_is_exact() -> None:
    p = Poly.atom("x_1_1") * Poly.atom("w_1_1") + Poly.const(3)
    one = Poly.const(1)
    assert (p * one) == p == (one * p)
    assert (p * one).to_sympy() == p.to_sympy()
    assert (Poly.const(2) * p).to_str() == "2*x_1_1*w_1_1 + 6"
    assert parse((Poly.const(2) * p).to_str()) == sp.expand(2 * p.to_sympy())


def test_fractions_print_over_a_common_denominator() -> None:
    p = (Poly.atom("y_1_1") - Poly.atom("t_1_1")).scale(Fraction(1, 2))
    assert p.to_str() == "(y_1_1 - t_1_1)/2"
    assert parse(p.to_str()) == (sp.Symbol("y_1_1") - sp.Symbol("t_1_1")) / 2
    assert Poly.const(Fraction(4, 2)).to_str() == "2"
    assert Poly.atom("x_1_1").scale(Fraction(2, 3)).to_str() == "2*x_1_1/3"
