"""The notation: sizes by name, one shape function, one visitor, one NumPy printer."""

from __future__ import annotations

import itertools

import pytest

from symderiv import derive
from symderiv.algebra import evaluate
from symderiv.codegen import generate_linear
from symderiv.conventions import CONVENTIONS, VARIABLES, mse_upstream
from symderiv.layer import AffineLayer
from symderiv.notation import (
    Deriv,
    Eye,
    Jac,
    Kron,
    Ones,
    Prod,
    Recip,
    Shape,
    Sum,
    Sym,
    T,
    Visitor,
    shape,
    transpose,
)
from symderiv.render.code import numpy_code, numpy_lines
from symderiv.render.formula import formula_latex, formula_text

SIZES = [(1, 1, 1), (2, 3, 4), (3, 1, 11)]


@pytest.mark.parametrize("convention", list(CONVENTIONS))
@pytest.mark.parametrize(("n", "d", "m"), SIZES)
def test_shape_in_names_matches_the_evaluated_matrix(
    convention: str, n: int, d: int, m: int
) -> None:
    """shape() of every formula, read at the sizes, is the shape of its value."""
    conv = CONVENTIONS[convention]
    layer = AffineLayer(n, d, m, conv)
    env = {r: layer.matrix(r) for r in ("X", "W", "b", "dY")}
    sizes = layer.sizes
    formulas = [conv.forward()]
    for var, order in itertools.product(VARIABLES, ("row", "col")):
        formulas += [conv.closed_form(var), conv.kronecker(var, order)]
    for node in formulas:
        found = shape(node, conv.shapes)
        assert found is not None
        assert found.numbers(sizes) == evaluate(node, env, sizes).shape, node
    # the closed form of ∂L/∂V has V's shape, in names too
    for var in VARIABLES:
        found = shape(conv.closed_form(var), conv.shapes)
        assert found is not None and found.names() == conv.shapes[var].names()
        numerator = shape(Deriv("L", var), conv.shapes, numerator=True)
        assert numerator == conv.shapes[var].T


def test_shape_names_and_numbers() -> None:
    roles = CONVENTIONS["column"].shapes
    kron = shape(Kron(Ones("N"), Eye("M")), roles)
    assert kron == Shape(("N", "M"), ("M",))
    assert kron.names(CONVENTIONS["column"].letters.sizes) == ("N·C_out", "C_out")
    assert kron.numbers({"N": 2, "M": 3}) == (6, 3)
    assert shape(Jac("L", "W"), roles) == Shape((), ("M", "D"))
    assert shape(Jac("Y", "X"), roles) == Shape(("N", "M"), ("N", "D"))
    assert shape(Recip("N"), roles) is None
    with pytest.raises(ValueError, match="product of shapes"):
        shape(Prod(Sym("X"), Sym("X")), roles)  # (N, C_in)·(N, C_in)


def test_a_visitor_without_a_method_says_so() -> None:
    class Names(Visitor[str]):
        def visit_Sym(self, node: Sym) -> str:  # noqa: N802
            return node.role

    assert Names().visit(Sym("W")) == "W"
    with pytest.raises(TypeError, match="Names cannot handle Ones"):
        Names().visit(Ones("N"))


def test_sizes_print_by_name_in_every_printer() -> None:
    column = CONVENTIONS["column"]
    node = column.kronecker("b", "col")
    assert formula_text(node, column.letters) == "I_(C_out) ⊗ 1_N"
    assert formula_latex(node, column.letters) == (
        r"I_{C_{\mathrm{out}}} \otimes \mathbf{1}_{N}"
    )
    mse = mse_upstream()
    assert formula_text(mse, column.letters) == "(Z − T)/N"
    assert numpy_code(mse, {"Y": "Z", "T": "T"}, {"N": "len(Z)"}) == "(Z - T) / len(Z)"
    assert transpose(Prod(T(Ones("N")), Sym("dY"))) == Prod(T(Sym("dY")), Ones("N"))
    assert evaluate(Sum(Prod(Recip("N"), Sym("X"))), {"X": AffineLayer(2, 1, 1).X},
                    {"N": 2}).to_strings() == [["x_1_1/2"], ["x_2_1/2"]]  # fmt: skip


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_one_numpy_idiom_for_codegen_and_the_article(convention: str) -> None:
    """The db line of the generated class is the article's, and no batch is a number."""
    source = generate_linear(convention)
    lines = numpy_lines(derive(n=5, d=2, m=3, convention=convention, loss="mse"))
    (db,) = [line for line in lines if line.split(" = ")[0] in ("db", "dLdb")]
    assert f"self.{db}  #" in source
    assert lines[0].endswith(".shape[0]")  # dY = (Y - T) / Y.shape[0]
    assert not any("5" in line for line in lines)
