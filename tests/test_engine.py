"""The engine against the independent oracle, for every convention × order × layout × loss."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import oracle
import pytest
import sympy as sp

from symderiv import Config, derive
from symderiv.algebra import Poly, PolyMatrix, affine_jacobian
from symderiv.notes import Code, M, Prose
from symderiv.steps import StepKind


def _words(prose: str | Prose) -> str:
    """A sentence's words and written-out maths (a formula of the notation as "□")."""
    if isinstance(prose, str):
        return prose
    return "".join(
        s if isinstance(s, str) else s.text if isinstance(s, M | Code) else "□"
        for s in prose
    )


CONVENTIONS = ("xw", "torch", "column", "wx")
ORDERS = ("row", "col")
LAYOUTS = ("denominator", "numerator")
# (1,1,1); non-square; an index >= 10 (x_1_11, w_11_2 / w_2_11); N >= 10 for y_10_j.
SIZES = ((1, 1, 1), (2, 3, 4), (3, 2, 1), (1, 11, 2), (10, 1, 2))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(
    "convention,order,layout", list(itertools.product(CONVENTIONS, ORDERS, LAYOUTS))
)
def test_generic_matches_oracle(
    convention: str, order: str, layout: str, size: tuple[int, int, int]
) -> None:
    n, d, m = size
    deriv = derive(
        Config(n=n, d=d, m=m, convention=convention, vec=order, layout=layout)
    )
    assert deriv.verified, [c for c in deriv.checks if not c.passed]
    mats = oracle.layer(convention, n, d, m)
    for var in ("X", "W", "b"):
        result = deriv.results[var]
        expected = oracle.gradient(mats, var, "generic")
        if layout == "numerator":
            expected = expected.T
        assert oracle.same(result.derivative.to_sympy(), expected), var
        assert result.jacobian.to_sympy() == oracle.jacobian(mats, var, order), var
        assert result.jacobian.shape == (n * m, mats[var].rows * mats[var].cols)


@pytest.mark.parametrize("loss", ["mse", "sum"])
@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("size", [(1, 1, 1), (2, 3, 2), (3, 1, 11)], ids=str)
def test_losses_match_oracle(
    loss: str, convention: str, size: tuple[int, int, int]
) -> None:
    n, d, m = size
    for order, layout in (("row", "denominator"), ("col", "numerator")):
        deriv = derive(
            Config(
                n=n,
                d=d,
                m=m,
                convention=convention,
                vec=order,
                layout=layout,
                loss=loss,
            )
        )
        assert deriv.verified
        mats = oracle.layer(convention, n, d, m)
        for var in ("X", "W", "b"):
            expected = oracle.gradient(mats, var, loss)
            if layout == "numerator":
                expected = expected.T
            assert oracle.same(deriv.explicit_derivative(var), expected), (var, order)


def test_worked_example_jacobian_wrt_x() -> None:
    """The 6×4 J_y of the worked N=2, D=2, M=3 example: rows y11..y23, columns x11..x22."""
    deriv = derive(n=2, d=2, m=3)
    w = {(i, j): sp.Symbol(f"w_{i}_{j}") for i in (1, 2) for j in (1, 2, 3)}
    expected = sp.Matrix(
        [
            [w[1, 1], w[2, 1], 0, 0],
            [w[1, 2], w[2, 2], 0, 0],
            [w[1, 3], w[2, 3], 0, 0],
            [0, 0, w[1, 1], w[2, 1]],
            [0, 0, w[1, 2], w[2, 2]],
            [0, 0, w[1, 3], w[2, 3]],
        ]
    )
    assert deriv.results["X"].jacobian.to_sympy() == expected
    data = json.loads(deriv.to_json())
    assert data["vec"]["Y"] == [[1, 1], [1, 2], [1, 3], [2, 1], [2, 2], [2, 3]]
    assert data["vec"]["X"] == ["x_1_1", "x_1_2", "x_2_1", "x_2_2"]


def test_names_never_collide_at_index_ten_and_above() -> None:
    deriv = derive(n=11, d=1, m=1)
    names = {str(s) for s in deriv.layer.X.to_sympy().free_symbols}
    assert "x_11_1" in names and "x_1_1" in names
    deriv = derive(n=1, d=12, m=1)
    xs = [p.to_str() for p in deriv.layer.X.vec("row")]
    assert len(set(xs)) == 12 and "x_1_12" in xs and "x_11_2" not in xs


def test_failed_check_is_reported_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong closed form gives ✗ with the first differing entry (the check is real)."""
    from symderiv import conventions
    from symderiv.notation import Prod, Sym

    original = conventions.Convention.closed_form

    def wrong(self: conventions.Convention, var: str):  # type: ignore[no-untyped-def]
        if var == "W":  # X dY instead of Xᵀ dY: fits only when N == D
            return Prod(Sym("X"), Sym("dY"))
        return original(self, var)

    monkeypatch.setattr(conventions.Convention, "closed_form", wrong)
    deriv = derive(n=2, d=2, m=2)
    assert not deriv.verified
    failed = [c for c in deriv.checks if not c.passed]
    assert [c.wrt for c in failed] == ["W"]
    assert _words(failed[0].detail).startswith("entry (1, 1)")
    assert json.loads(deriv.to_json())["verified"] is False


def test_steps_are_data_and_chain_rule_uses_point_backwards() -> None:
    deriv = derive(n=2, d=3, m=2, loss="mse")
    ids = [s.id for s in deriv.steps]
    assert len(ids) == len(set(ids))
    seen: set[str] = set()
    for step in deriv.steps:
        assert set(step.uses) <= seen, step.id
        seen.add(step.id)
        assert "\\" not in step.title and "[" not in step.title
    kinds = {s.kind for s in deriv.steps}
    assert kinds == set(StepKind)
    assert deriv.step("dL_dW").uses == ("upstream", "dY_dW")


def test_wrt_subset_only() -> None:
    deriv = derive(n=2, d=2, m=2, wrt=("b",))
    assert list(deriv.results) == ["b"]
    assert set(json.loads(deriv.to_json())["results"]) == {"b"}


def test_json_strings_parse_back_exactly() -> None:
    """Every entry in the JSON is a string sympy reads back to the derived expression."""
    from sympy.parsing.sympy_parser import parse_expr

    for loss in ("generic", "mse", "sum"):
        deriv = derive(n=2, d=2, m=3, convention="column", vec="col", loss=loss)
        data = json.loads(deriv.to_json())
        for var in ("X", "W", "b"):
            got = sp.Matrix(
                [
                    [parse_expr(s) for s in row]
                    for row in data["results"][var]["derivative"]
                ]
            )
            assert oracle.same(got, deriv.explicit_derivative(var)), (loss, var)
            for r, c, s in data["results"][var]["jacobian"]["nonzeros"]:
                assert parse_expr(s) == deriv.results[var].jacobian[r, c].to_sympy()
        y = sp.Matrix([[parse_expr(s) for s in row] for row in data["matrices"]["Y"]])
        assert y == oracle.layer("column", 2, 2, 3)["Y"]


def test_json_schema_keys() -> None:
    data = json.loads(derive(n=2, d=2, m=3).to_json())
    assert data["schema"] == 1
    assert data["config"] == {
        "n": 2,
        "d": 2,
        "m": 3,
        "convention": "xw",
        "vec": "row",
        "layout": "denominator",
        "loss": "generic",
        "method": "jacobian",
        "wrt": ["X", "W", "b"],
    }
    assert data["matrices"]["Y"][0][0] == "x_1_1*w_1_1 + x_1_2*w_2_1 + b_1"
    w = data["results"]["W"]
    assert w["jacobian"]["shape"] == [6, 6]
    assert w["kronecker"] == {
        "text": "X ⊗ I_M",
        "latex": "X \\otimes I_{M}",
        "verified": True,
    }
    assert w["closed_form"] == {"text": "Xᵀ·dY", "latex": "X^{T} \\, \\mathit{dY}"}
    assert data["results"]["b"]["closed_form"]["text"] == "1_Nᵀ·dY"
    assert data["verified"] is True


def test_poly_arithmetic_is_exact() -> None:
    x, w, b = (Poly.atom(s) for s in ("x_1_1", "w_1_1", "b_1"))
    p = x * w + b
    assert (p - p).is_zero()
    assert affine_jacobian([p], ["w_1_1"])[0, 0] == x
    assert p.to_sympy() == sp.Symbol("x_1_1") * sp.Symbol("w_1_1") + sp.Symbol("b_1")
    half = (p - Poly.atom("t_1_1")).scale(Fraction(1, 2))
    assert half.to_str() == "(x_1_1*w_1_1 + b_1 - t_1_1)/2"


@pytest.mark.parametrize("order", ORDERS)
def test_commutation_matrix(order: str) -> None:
    A = PolyMatrix.of_atoms("W", 3, 2)
    K = PolyMatrix.commutation(3, 2, order)
    vec_a = PolyMatrix(6, 1, {(k, 0): v for k, v in enumerate(A.vec(order))})
    assert (K @ vec_a).to_strings() == [[p.to_str()] for p in A.T.vec(order)]
