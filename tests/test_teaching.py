"""The maths behind the teaching devices: memory argument, both slicings, function view,
and the numeric companion (``--values``), each checked against an independent route."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import oracle
import pytest
import sympy as sp

from symderiv.derive import derive
from symderiv.errors import UsageError
from symderiv.teaching import (
    binary_size,
    function_view,
    input_slices,
    memory_argument,
)
from symderiv.values import CHOICES, check_values_seed, companion

CASES = list(
    itertools.product(
        ["xw", "torch", "column"],
        ["row", "col"],
        ["denominator", "numerator"],
        ["generic", "mse", "sum"],
    )
)


# -- memory argument --------------------------------------------------------------------
def test_memory_argument_at_the_cs231n_layer() -> None:
    arg = memory_argument(64, 4096, 4096)
    x = arg.cost("X")
    # (N·M)·(N·D) = (64·4096)² ≈ 6.9·10¹⁰ entries, 256 GiB in float32
    assert (x.rows, x.cols) == (64 * 4096, 64 * 4096)
    assert x.entries == 68_719_476_736
    assert round(x.entries / 1e10, 1) == 6.9
    assert x.bytes == 256 * 2**30
    assert binary_size(x.bytes) == (256.0, "GiB")
    # the VJP dY·Wᵀ: N·M·D multiply-adds and an N×D result
    assert x.vjp_flops == 64 * 4096 * 4096
    assert x.vjp_bytes == 64 * 4096 * 4
    assert arg.upstream_bytes == 64 * 4096 * 4


@pytest.mark.parametrize("n,d,m", [(1, 1, 1), (2, 2, 3), (3, 2, 4)])
def test_memory_argument_counts_match_the_derived_jacobians(
    n: int, d: int, m: int
) -> None:
    arg = memory_argument(n, d, m, bytes_per_entry=8)
    for conv in ("xw", "torch", "column"):
        deriv = derive(n=n, d=d, m=m, convention=conv)
        for var in "XWb":
            jac = deriv.results[var].jacobian
            cost = arg.cost(var)
            assert (cost.rows, cost.cols) == jac.shape
            assert cost.entries == jac.rows * jac.cols
            assert cost.nonzeros == jac.nnz()
            assert cost.bytes == 8 * cost.entries
    with pytest.raises(KeyError):
        arg.cost("Y")


def test_binary_size_small() -> None:
    assert binary_size(512) == (512.0, "B")
    assert binary_size(1536) == (1.5, "KiB")


# -- the two slicings --------------------------------------------------------------------
@pytest.mark.parametrize("conv,vec,layout,loss", CASES[::5] + [CASES[-1]])
def test_slices_agree_with_the_oracle(
    conv: str, vec: str, layout: str, loss: str
) -> None:
    n, d, m = 2, 3, 2
    deriv = derive(n=n, d=d, m=m, convention=conv, vec=vec, layout=layout, loss=loss)
    mats = oracle.layer(conv, n, d, m)
    for var in "XWb":
        s = input_slices(deriv, var)
        assert s.agrees
        V = mats[var]
        assert len(s.by_input) == V.rows * V.cols
        assert len(s.by_output) == n * m
        for sl in s.by_input:
            k, l_ = sl.at
            assert sl.matrix.shape == (n, m)  # shaped like Y
            # ∂Y/∂v_kl by sympy, entry by entry
            expected = mats["Y"].applyfunc(lambda y, v=V[k, l_]: sp.diff(y, v))
            assert sp.Matrix(sl.matrix.to_sympy()) == expected
            assert sl.name == str(V[k, l_])
        for sl in s.by_output:
            i, j = sl.at
            assert sl.matrix.shape == V.shape  # shaped like V
            expected = V.applyfunc(lambda v, y=mats["Y"][i, j]: sp.diff(y, v))
            assert sp.Matrix(sl.matrix.to_sympy()) == expected
        # the contraction with dY is ∂L/∂V of L = Σ dY ⊙ Y (the generic upstream)
        if loss != "sum":
            want = oracle.gradient(mats, var, "generic")
            assert sp.Matrix(s.from_input.to_sympy()) == want


def test_seed_003_bias_slices_are_the_stack_of_three() -> None:
    deriv = derive(n=2, d=2, m=3, convention="column")
    s = input_slices(deriv, "b")
    assert [sl.matrix.to_strings() for sl in s.by_input] == [
        [["1", "0", "0"], ["1", "0", "0"]],
        [["0", "1", "0"], ["0", "1", "0"]],
        [["0", "0", "1"], ["0", "0", "1"]],
    ]
    assert [sl.weight.to_str() for sl in s.by_input] == [
        "dy_1_1 + dy_2_1",
        "dy_1_2 + dy_2_2",
        "dy_1_3 + dy_2_3",
    ]


def test_slicing_notices_a_wrong_derivative() -> None:
    from dataclasses import replace

    from symderiv.algebra import Poly

    deriv = derive(n=2, d=2, m=2)
    res = deriv.results["W"]
    broken = res.derivative.subs({"x_1_1": Poly.atom("x_2_2")})
    bad = replace(
        deriv, results={**deriv.results, "W": replace(res, derivative=broken)}
    )
    assert not input_slices(bad, "W").agrees


# -- the function view --------------------------------------------------------------------
def test_function_view_of_seed_002() -> None:
    deriv = derive(n=2, d=2, m=3)
    f = function_view(deriv, "X")
    assert (f.domain, f.codomain) == (4, 6)
    assert f.inputs == ("x_1_1", "x_1_2", "x_2_1", "x_2_2")
    assert f.outputs == ("y_1_1", "y_1_2", "y_1_3", "y_2_1", "y_2_2", "y_2_3")
    assert f.images[0].to_str() == "x_1_1*w_1_1 + x_1_2*w_2_1 + b_1"
    assert f.constants[:2] == ("w_1_1", "w_1_2") and f.constants[-1] == "b_3"
    assert "x_1_1" not in f.constants
    assert len(f.symbols) == 6 and all(len(r) == 4 for r in f.symbols)
    assert f.symbols[4][2] == ("y_2_2", "x_2_1")
    assert f.partial(4, 2) == ((2, 2), (2, 1))
    # evaluated: sympy's jacobian of vec(Y) by vec(X)
    mats = oracle.layer("xw", 2, 2, 3)
    assert sp.Matrix(f.jacobian.to_sympy()) == oracle.jacobian(mats, "X", "row")


@pytest.mark.parametrize("conv,vec", [("torch", "col"), ("column", "row")])
def test_function_view_other_conventions(conv: str, vec: str) -> None:
    deriv = derive(n=2, d=3, m=2, convention=conv, vec=vec)
    mats = oracle.layer(conv, 2, 3, 2)
    for var in "XWb":
        f = function_view(deriv, var)
        assert f.inputs == tuple(str(s) for s in oracle.vec(mats[var], vec))
        assert f.outputs == tuple(
            f"y_{i + 1}_{j + 1}"
            for i, j in (
                [(i, j) for i in range(2) for j in range(2)]
                if vec == "row"
                else [(i, j) for j in range(2) for i in range(2)]
            )
        )
        assert sp.Matrix(f.jacobian.to_sympy()) == oracle.jacobian(mats, var, vec)
        held = {str(s) for r in "XWb" if r != var for s in mats[r]}
        assert set(f.constants) == held


# -- the numeric companion -----------------------------------------------------------------
@pytest.mark.parametrize("conv,vec,layout,loss", CASES)
def test_companion_matches_numpy_and_the_oracle(
    conv: str, vec: str, layout: str, loss: str
) -> None:
    n, d, m = 2, 3, 2
    deriv = derive(n=n, d=d, m=m, convention=conv, vec=vec, layout=layout, loss=loss)
    c = companion(deriv, seed=4)
    assert c.verified
    assert set(c.assignment.values()) <= {Fraction(v) for v in CHOICES}
    # independently: the oracle's gradient with the numbers substituted
    mats = oracle.layer(conv, n, d, m)
    subs = {
        sp.Symbol(k): sp.Rational(v.numerator, v.denominator)
        for k, v in c.assignment.items()
    }
    for var in "XWb":
        want = oracle.gradient(mats, var, loss).subs(subs)
        if layout == "numerator":
            want = want.T
        got = sp.Matrix(c.variables[var].derivative.to_sympy())
        assert got == want, (var, got, want)
        # every Jacobian entry is a number now
        assert all(
            p.constant() is not None for p in c.variables[var].jacobian.entries.values()
        )
    Y = mats["Y"].subs(subs)
    assert sp.Matrix(c.values["Y"].to_sympy()) == Y


def test_companion_is_reproducible_and_exact() -> None:
    deriv = derive(n=2, d=2, m=3, loss="mse")
    a, b = companion(deriv, 7), companion(deriv, 7)
    assert a.assignment == b.assignment
    assert companion(deriv, 8).assignment != a.assignment
    # (Y − T)/N with N = 2: halves appear, exactly
    dy = [a.values["dY"][i, j].constant() for i in range(2) for j in range(3)]
    Y = np.array([[a.values["Y"][i, j].constant() for j in range(3)] for i in range(2)])
    T = np.array([[a.values["T"][i, j].constant() for j in range(3)] for i in range(2)])
    assert dy == [Fraction(v) / 2 for v in (Y - T).reshape(-1)]


def test_companion_catches_a_wrong_result() -> None:
    from dataclasses import replace

    from symderiv.algebra import Poly

    deriv = derive(n=2, d=2, m=2)
    res = deriv.results["X"]
    broken = res.derivative.subs({"w_1_1": Poly.atom("w_1_2")})
    bad = replace(
        deriv, results={**deriv.results, "X": replace(res, derivative=broken)}
    )
    seeds = [s for s in range(5) if not companion(bad, s).verified]
    assert seeds  # w_1_1 and w_1_2 differ at most seeds


@pytest.mark.parametrize("bad", ["1.5", "x", "-1", "", "３", -1, True, 1.0])
def test_values_seed_must_be_a_whole_number(bad: object) -> None:
    with pytest.raises(UsageError, match="--values"):
        check_values_seed(bad)


def test_values_seed_accepts_digits() -> None:
    assert check_values_seed("7") == 7 and check_values_seed(0) == 0


# -- --values with every loss, convention, method and format ----------------------------------
def test_values_refuse_the_softmax_in_the_library() -> None:
    from symderiv.conventions import Config
    from symderiv.errors import ChoiceError

    with pytest.raises(ChoiceError, match="softmax-ce") as info:
        Config(loss="softmax-ce", values=3)
    assert "\n" not in str(info.value)
    assert "generic" in str(info.value)  # points to a loss with exact numbers
    Config(loss="softmax-ce")  # the loss alone is fine
    # a derivation without --values, handed to the companion: the same refusal
    with pytest.raises(ChoiceError, match="softmax-ce"):
        companion(derive(n=2, d=2, m=3, loss="softmax-ce"), seed=3)


@pytest.mark.parametrize(
    "args",
    [
        ["--loss", "softmax-ce", "--values", "3"],
        ["--loss", "softmax-ce", "--values", "0", "--format", "json"],
        ["--loss", "softmax-ce", "--values", "3", "--format", "beamer", "--pdf"],
        ["--net", "affine:3,relu,affine:2", "--loss", "softmax-ce", "--values", "3"],
        ["--net", "affine:3,relu,affine:2", "--values", "3", "--format", "latex"],
    ],
)
def test_values_refusals_are_one_line_and_write_nothing(
    args: list[str], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from symderiv.cli import cli

    out = tmp_path / "out.tex"
    result = CliRunner().invoke(cli, ["derive", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--values" in lines[0], result.output
    assert "internal error" not in result.output
    assert list(tmp_path.iterdir()) == []


_FORMATS = ["text", "latex", "beamer", "markdown", "ipynb", "html", "json"]


@pytest.mark.parametrize("conv", ["xw", "torch", "column", "wx"])
@pytest.mark.parametrize("loss", ["generic", "mse", "sum"])
def test_values_in_every_format(conv: str, loss: str) -> None:
    """Each exact loss and convention, in every format (the method and the vectorization
    vary with the format), shows the companion's numbers: the entries of dX appear."""
    from click.testing import CliRunner

    from symderiv.cli import cli

    methods = ["jacobian", "index", "tensor", "all"]
    numbers = companion(
        derive(n=2, d=2, m=3, convention=conv, loss=loss, layout="numerator"), 5
    )
    want = [e.to_str() for e in numbers.variables["X"].derivative.vec("row")]
    for k, fmt in enumerate(_FORMATS):
        args = ["derive", "--convention", conv, "--loss", loss, "--values", "5"]
        args += ["--format", fmt, "--method", methods[k % 4], "--layout", "numerator"]
        args += ["--vec", ("row", "col")[k % 2]]
        result = CliRunner().invoke(cli, args, env={"COLUMNS": "80"})
        assert result.exit_code == 0, (fmt, result.output[-400:])
        if fmt == "json":
            import json

            doc = json.loads(result.output)["values"]
            assert doc["seed"] == 5 and doc["verified"] is True
            got = doc["results"]["X"]["derivative"]
            assert [e for row in got for e in row] == want
        else:
            assert "--values 5" in result.output, fmt
