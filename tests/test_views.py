"""The index and tensor views (--method index|tensor|all) against each other and the oracle."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import oracle
import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv import Config, derive
from symderiv import views as views_module
from symderiv.algebra import Poly, PolyMatrix
from symderiv.cli import cli
from symderiv.notation import Explicit, Expr
from symderiv.notes import Code, M, Prose
from symderiv.render.terminal import render_text
from symderiv.steps import Derivation
from symderiv.views import IndexCalculus, always, settle


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
# (1,1,1); non-square; an index >= 10 (x_1_11, w_11_2 / w_2_11) kept small elsewhere.
SIZES = ((1, 1, 1), (2, 3, 2), (1, 11, 2))
VARS = ("X", "W", "b")


def _view_result(d: Derivation, step_id: str) -> PolyMatrix:
    """The explicit matrix a view step ends with (its last equation's last part)."""
    last = d.step(step_id).equations[-1].parts[-1]
    assert isinstance(last, Explicit)
    matrix = last.matrix
    assert isinstance(matrix, PolyMatrix)
    return matrix


def _exprs(d: Derivation, step_id: str) -> list[Any]:
    return [
        p.expr
        for eq in d.step(step_id).equations
        for p in eq.parts
        if isinstance(p, Expr)
    ]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(
    "convention,order,layout", list(itertools.product(CONVENTIONS, ORDERS, LAYOUTS))
)
def test_three_methods_agree_with_the_oracle(
    convention: str, order: str, layout: str, size: tuple[int, int, int]
) -> None:
    n, d, m = size
    config = Config(
        n=n, d=d, m=m, convention=convention, vec=order, layout=layout, method="all"
    )
    deriv = derive(config)
    assert deriv.verified, [c for c in deriv.checks if not c.passed]
    mats = oracle.layer(convention, n, d, m)
    for var in VARS:
        expected = oracle.gradient(mats, var, "generic")
        if layout == "numerator":
            expected = expected.T
        jacobian = deriv.results[var].derivative
        index = _view_result(deriv, f"index_closed_{var}")
        tensor = _view_result(deriv, f"tensor_dL_d{var}")
        for got in (jacobian, index, tensor):
            assert oracle.same(got.to_sympy(), expected), var
        assert index == jacobian == tensor
    claims = {(c.wrt, c.claim) for c in deriv.checks if c.passed}
    for var in VARS:
        assert (var, "index notation = chain rule") in claims
        assert (var, "tensor contraction = chain rule") in claims


@pytest.mark.parametrize("loss", ["mse", "sum"])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_views_with_other_losses(loss: str, convention: str) -> None:
    for method, layout in (("index", "numerator"), ("tensor", "denominator")):
        deriv = derive(
            n=2,
            d=3,
            m=2,
            convention=convention,
            loss=loss,
            method=method,
            layout=layout,
        )
        assert deriv.verified
        last = "index_closed_" if method == "index" else "tensor_dL_d"
        for var in VARS:
            assert _view_result(deriv, f"{last}{var}") == deriv.results[var].derivative
        if loss == "sum":  # dY = 1: ∂L/∂b_k = N
            rows = _view_result(deriv, f"{last}b").to_strings()
            assert [v for row in rows for v in row] == ["2", "2"]


def test_index_steps_come_from_sympy() -> None:
    deriv = derive(method="index")
    dy_dw = _exprs(deriv, "index_dY_dW")
    # sympy's diff of the indexed sum holds the deltas; its doit collapses them.
    deltas = [a for e in dy_dw for a in sp.preorder_traversal(e)]
    assert sum(isinstance(a, sp.KroneckerDelta) for a in deltas) >= 3
    assert any(isinstance(a, sp.Sum) for a in sp.preorder_traversal(dy_dw[1]))
    assert not any(isinstance(a, sp.Sum) for a in sp.preorder_traversal(dy_dw[-1]))
    text = deriv.to_dict()["results"]["W"]["index"]
    assert text["entry"]["text"] == "∂y_ij/∂w_hk = δ_jk·x_ih"
    assert text["text"] == (
        "∂L/∂w_hk = Σ_{i=1}^{N} Σ_{j=1}^{M} ∂L/∂y_ij·δ_jk·x_ih"
        " = Σ_{i=1}^{N} ∂L/∂y_ik·x_ih = (Xᵀ·dY)_hk"
    )
    assert r"\delta_{jk} x_{ih}" in text["entry"]["latex"]
    assert r"\sum_{i=1}^{N} \sum_{j=1}^{M}" in text["latex"]


def test_convention_changes_the_indices() -> None:
    entries = {
        conv: {
            var: derive(convention=conv, method="index").to_dict()["results"][var][
                "index"
            ]
            for var in VARS
        }
        for conv in CONVENTIONS
    }
    assert entries["xw"]["X"]["entry"]["text"] == "∂y_ij/∂x_hk = δ_hi·w_kj"
    assert entries["torch"]["X"]["entry"]["text"] == "∂y_ij/∂x_hk = δ_hi·w_jk"
    assert entries["torch"]["W"]["entry"]["text"] == "∂y_ij/∂w_hk = δ_hj·x_ik"
    assert entries["torch"]["W"]["text"].endswith(
        "= Σ_{i=1}^{N} ∂L/∂y_ih·x_ik = (dYᵀ·x)_hk"
    )
    # column: its own letters and size names, the bias a column (dLdZᵀ·1_N).
    column = entries["column"]
    assert column["W"]["entry"]["text"] == "∂z_ij/∂w_hk = δ_hj·a_ik"
    assert column["b"]["text"].endswith("= Σ_{i=1}^{N} ∂L/∂z_ik = (dLdZᵀ·1_N)_k")
    assert "Σ_{j=1}^{C_out}" in column["X"]["text"]


def test_numerator_layout_states_the_transposed_entry() -> None:
    deriv = derive(method="index", layout="numerator")
    text = deriv.to_dict()["results"]["W"]["index"]["text"]
    assert text.startswith("(∂L/∂W)_kh = ∂L/∂w_hk = ")
    assert text.endswith("(dYᵀ·X)_kh")
    assert deriv.to_dict()["results"]["b"]["index"]["text"].endswith("(dYᵀ·1_N)_k")


def test_index_forward_is_derived_from_the_convention() -> None:
    i, j = IndexCalculus.index("i"), IndexCalculus.index("j")
    forms = {c: IndexCalculus(Config(convention=c)).forward(i, j) for c in CONVENTIONS}
    x, w, b = (sp.IndexedBase(s) for s in ("x", "w", "b"))
    l_ = IndexCalculus.index("l")
    D = sp.Symbol("D", integer=True, positive=True)
    assert forms["xw"] == sp.Sum(x[i, l_] * w[l_, j], (l_, 1, D)) + b[j]
    assert forms["torch"] == sp.Sum(x[i, l_] * w[j, l_], (l_, 1, D)) + b[j]
    assert forms["column"].has(sp.Symbol("C_in", integer=True, positive=True))


def test_settle_checks_the_range_conditions() -> None:
    h, k = IndexCalculus.index("h"), IndexCalculus.index("k")
    D = sp.Symbol("D", integer=True, positive=True)
    M = sp.Symbol("M", integer=True, positive=True)
    ranges = {h: D, k: M}
    assert always(sp.And(sp.Ge(D, h), sp.Ge(M, k)), ranges)
    assert not always(sp.Ge(M, h), ranges)  # h runs to D, which may exceed M
    x = sp.IndexedBase("x")
    piece = sp.Piecewise((x[h], sp.Ge(D, h)), (0, True))
    assert settle(piece, ranges) == x[h]
    with pytest.raises(ValueError):
        settle(sp.Piecewise((x[h], sp.Ge(M, h)), (0, True)), ranges)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_tensor_sparsity(convention: str) -> None:
    n, d, m = 2, 3, 4
    deriv = derive(n=n, d=d, m=m, convention=convention, method="tensor")
    w_shape = [d, m] if convention == "xw" else [m, d]
    y_shape = [m, n] if convention == "wx" else [n, m]  # wx: samples as columns
    x_shape = [d, n] if convention == "wx" else [n, d]
    expected = {
        "X": ([*y_shape, *x_shape], n * m * n * d, n * m * d),
        "W": ([*y_shape, *w_shape], n * m * d * m, n * m * d),
        "b": ([*y_shape, m], n * m * m, n * m),
    }
    for var, (shape, entries, nonzeros) in expected.items():
        tensor = deriv.to_dict()["results"][var]["tensor"]
        assert tensor["shape"] == shape
        assert tensor["entries"] == entries
        assert tensor["nonzeros"] == nonzeros
        assert tensor["verified"] is True
        grid = _view_result(deriv, f"tensor_dY_d{var}")
        assert grid.nnz() == nonzeros
        assert grid.rows * grid.cols == entries
        note = _words(deriv.step(f"tensor_dY_d{var}").note)
        assert f"{entries} entries, {nonzeros} nonzero" in note


def test_tensor_blocks_are_the_derivatives_of_each_output() -> None:
    # Block (i, j) of the drawn ∂Y/∂X is ∂y_ij/∂X: row i of X holds w_1j ... w_Dj.
    deriv = derive(n=2, d=2, m=3, method="tensor")
    grid = _view_result(deriv, "tensor_dY_dX")
    drawn = deriv.step("tensor_dY_dX").equations[-1].parts[-1]
    assert isinstance(drawn, Explicit) and drawn.blocks == (2, 2)
    assert grid.shape == (4, 6)
    i, j = 1, 2  # y_2_3: block rows 2..3, columns 4..5
    block = [[grid[i * 2 + r, j * 2 + c].to_str() for c in range(2)] for r in range(2)]
    assert block == [["0", "0"], ["w_1_3", "w_2_3"]]
    text = deriv.to_dict()["results"]["X"]["tensor"]["entry"]["text"]
    assert text == "∂y_ij/∂x_kl = δ_ik·w_lj"


def test_a_wrong_reference_is_caught_by_both_views(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = views_module.run_views

    def corrupted(config: Any, upstream: Any, results: Any) -> Any:
        result = results["W"]
        rows, cols = result.derivative.shape
        bad = result.derivative + PolyMatrix(rows, cols, {(0, 1): Poly.atom("x_1_1")})
        return original(
            config, upstream, {**results, "W": replace(result, derivative=bad)}
        )

    monkeypatch.setattr(views_module, "run_views", corrupted)
    deriv = derive(method="all")
    assert not deriv.verified
    failed = {(c.wrt, c.claim): _words(c.detail) for c in deriv.checks if not c.passed}
    assert set(failed) == {
        ("W", "index notation = chain rule"),
        ("W", "tensor contraction = chain rule"),
    }
    assert "entry (1, 2)" in failed["W", "index notation = chain rule"]
    assert "entry (1, 2)" in failed["W", "tensor contraction = chain rule"]
    assert deriv.to_dict()["results"]["W"]["index"]["verified"] is False
    assert deriv.results["W"].verified is False
    assert "✗" in render_text(deriv)


def test_steps_of_each_method() -> None:
    shared = ["define", "forward", "upstream"]
    for method in ("index", "tensor", "all"):
        deriv = derive(method=method)
        ids = [s.id for s in deriv.steps]
        assert ids[:3] == shared and ids[-1] == "summary"
        seen: set[str] = set()
        for s in deriv.steps:  # every step a chain rule combines comes earlier
            assert set(s.uses) <= seen, (method, s.id, s.uses)
            seen.add(s.id)
        views = {s.view for s in deriv.steps}
        if method == "all":
            assert views == {"jacobian", "index", "tensor"}
            assert "vec_Y" in ids and "dY_dW" in ids
        else:
            assert views == {method}  # no explicit-Jacobian steps shown
            assert "vec_Y" not in ids and "dY_dW" not in ids and "closed_W" not in ids
        # ... but the jacobian view was computed: it is the reference (certificate).
        claims = [c.claim for c in deriv.checks]
        assert claims.count("chain rule = closed form") == 3


def test_printed_views_draw_their_sympy_objects() -> None:
    deriv = derive(convention="torch", method="all")
    text = render_text(deriv, width=80)
    assert "∂yᵢⱼ/∂bₖ = δⱼₖ" in text  # one line each, not sympy's two-line δ
    assert "∂yᵢⱼ/∂wₕₖ" in text and "= δₕⱼ⋅xᵢₖ" in text
    assert "(dY·W)ₕₖ" in text and "(∂L/∂y)ᵢⱼ⋅(∂y/∂x)ᵢⱼₖₗ" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for s in deriv.steps:  # every sympy object prints in LaTeX, in a stable order
        for eq in s.equations:
            for p in eq.parts:
                if isinstance(p, Expr):
                    assert sp.latex(p.expr) == sp.latex(p.expr, order="none")


@pytest.mark.parametrize("method", ["index", "tensor", "all"])
def test_cli_text_and_json(runner: CliRunner, method: str) -> None:
    args = ["derive", "--n", "2", "--d", "3", "--m", "2", "--method", method]
    text = runner.invoke(cli, [*args, "--format", "text"])
    assert text.exit_code == 0, text.stderr
    assert "All results verified." in text.stdout
    if method in ("index", "all"):
        assert "Index notation: collapse the delta, read off ∂L/∂W" in text.stdout
    if method in ("tensor", "all"):
        assert "Tensor view: ∂Y/∂X as a 4-D array" in text.stdout
        assert "Tensor view: ∂Y/∂b as a 3-D array" in text.stdout
    again = runner.invoke(cli, [*args, "--format", "text"])
    assert again.stdout == text.stdout  # deterministic
    result = runner.invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verified"] is True and data["config"]["method"] == method
    for var in VARS:
        r = data["results"][var]
        for key in ("jacobian", "kronecker", "derivative", "closed_form", "verified"):
            assert key in r  # SPEC section 6 keys unchanged
        assert r["verified"] is True
        if method in ("index", "all"):
            assert r["index"]["verified"] is True
            assert set(r["index"]) == {"text", "latex", "entry", "verified"}
        else:
            assert "index" not in r
        if method in ("tensor", "all"):
            assert r["tensor"]["verified"] is True
            assert r["tensor"]["nonzeros"] == (12 if var != "b" else 4)
        else:
            assert "tensor" not in r
