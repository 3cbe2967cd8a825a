"""``symderiv check``: right answers pass in every spelling, wrong ones never do.

A wrong answer must not pass at any sizes (the given ones are only where checking starts),
and each is explained: the sizes where it fails, shapes, the first differing entry.
"""

from __future__ import annotations

import importlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from symderiv.check import (
    REASONS,
    CheckResult,
    check_formula,
    further_sizes,
    gradient_of,
    resolve_variable,
)
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import ChoiceError, DisplayNameError, FormulaError
from tests.oracle import gradient, layer, same

SIZES = [(1, 1, 1), (2, 2, 3), (3, 2, 4), (2, 3, 4)]

RIGHT = {
    "xw": {
        "W": [
            "X.T @ dY",
            "(dY.T @ X).T",
            "X.T @ dY * N / N",
            "np.dot(X.T, dY)",
            "numpy.matmul(X.T, dY)",
            "X.T.dot(dY)",
            "X.transpose() @ dY",
            "np.transpose(X) @ dY",
            "X.T @ dout",
            "X.T @ dy",
            "X.T @ grad_out",
            "X.T @ dY * 1.",
            "X.T @ dY * 1e0",
            "X.T @ dY * .5 * 2",
            "dY.T.dot(X).T",
        ],
        "X": ["dY @ W.T", "(W @ dY.T).T", "np.dot(dout, W.T)", "dout.dot(W.T)"],
        "b": [
            "sum(dY, axis=0)",
            "np.sum(dY, axis=0)",
            "np.sum(dout, axis=0)",
            "dY.sum(axis=0)",
            "dY.sum(0)",
            "dY.sum(axis=0, keepdims=True)",
            "np.sum(dY, axis=0, keepdims=True)",
            "np.sum(dY.T, axis=1)",
            "1.T @ dY",
            "np.ones(N) @ dY",
            "ones(N).T @ dY",
            "np.ones((N, 1)).T @ dY",
            "np.ones((1, N)) @ dY",
            "(dY.T @ 1).T",
            "np.mean(dY, axis=0) * N",
            "np.sum(dY, axis=0).reshape(1, -1)",
        ],
    },
    "torch": {
        "W": ["dY.T @ X", "dY.T @ x", "dy.T @ x", "np.dot(dout.T, x)"],
        "X": ["dY @ W", "dout @ W"],
        "b": ["sum(dY, axis=0)", "1.T @ dY", "np.sum(dY, axis=0).T", "dy.sum(0)"],
    },
    "column": {
        "W": ["dLdZ.T @ A", "dY.T @ X", "np.dot(dLdZ.T, A)"],
        "X": ["dLdZ @ W", "dZ @ W"],
        "b": [
            "dLdZ.T @ np.ones((N, 1))",
            "dY.T @ ones((N, 1))",
            "dLdZ.T @ 1",
            "np.sum(dLdZ, axis=0, keepdims=True).T",
            "np.sum(dLdZ.T, axis=1, keepdims=True)",
            "np.sum(dLdZ, axis=0).reshape(-1, 1)",
            "dLdZ.sum(axis=0).reshape((C_out, 1))",
        ],
    },
}
#: PyTorch's own spellings, in the convention of nn.Linear.
TORCH_SPELLINGS = {
    "W": ["dY.t().mm(x)", "torch.mm(dY.t(), x)", "torch.matmul(dY.T, x)"],
    "X": ["dY.mm(W)", "dY.matmul(W)", "torch.mm(dY, W)"],
    "b": [
        "dY.sum(dim=0)",
        "dY.sum(dim=0, keepdim=True)",
        "torch.sum(dY, dim=0)",
        "torch.ones(N) @ dY",
        "torch.ones(1, N).mm(dY)",
        "torch.ones(N, 1).t() @ dY",
        "dY.t() @ torch.ones(N)",
    ],
}
CASES = [
    (convention, var, text)
    for convention, table in RIGHT.items()
    for var, texts in table.items()
    for text in texts
] + [("torch", var, text) for var, texts in TORCH_SPELLINGS.items() for text in texts]


@pytest.mark.parametrize(("convention", "var", "text"), CASES)
def test_right_formulas_pass_in_every_convention(
    convention: str, var: str, text: str
) -> None:
    for n, d, m in SIZES:
        config = Config(n=n, d=d, m=m, convention=convention)
        result = check_formula(config, var, text)
        assert result.ok, result.message
        assert result.reason == "ok" and result.failed_at is None
        assert result.sizes[0] == (n, d, m) and len(result.sizes) >= 5
        assert result.message.startswith(f"∂L/∂{result.letter} = {text} is right (at ")


def test_the_answer_comes_from_the_engine_and_agrees_with_the_oracle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import symderiv.check.verdict as check_module

    engine = importlib.import_module("symderiv.derive")
    calls: list[Config] = []
    real = engine.derive

    def spy(config: Config, **options: Any) -> Any:
        calls.append(config)
        return real(config, **options)

    check_module._reference.cache_clear()
    monkeypatch.setattr(engine, "derive", spy)
    config = Config(n=2, d=3, m=5, layout="numerator", loss="mse", method="index")
    assert check_formula(config, "W", "X.T @ dY").ok
    assert [(c.wrt, c.layout, c.loss, c.method) for c in calls][0] == (
        ("W",),
        "denominator",
        "generic",
        "jacobian",
    )
    # and the engine's answer is the oracle's (sympy diff of L = Σ dY ⊙ Y)
    right, _ = check_module._reference((2, 3, 5), "torch", "W")
    assert same(right.to_sympy(), gradient(layer("torch", 2, 3, 5), "W", "generic"))
    check_module._reference.cache_clear()


def test_check_refuses_large_sizes_in_its_own_words(runner: CliRunner) -> None:
    # check said "too large to derive explicitly ... Pass --force to run anyway", but
    # check has no --force
    sizes = ["--n", "250", "--d", "250", "--m", "250"]
    result = runner.invoke(cli, ["check", *sizes, "--wrt", "W", "X.T @ dY"])
    assert result.exit_code == 2 and result.stdout == ""
    message = result.stderr.strip()
    assert "too large to check a formula at: check derives ∂L/∂W explicitly" in message
    assert "--force" not in message and "about 10 GiB" in message
    assert message.endswith("--n 208 --d 208 --m 208 is the largest cube that runs)")
    row = {
        "id": "a",
        "variable": "W",
        "formula": "X.T @ dY",
        "n": 250,
        "d": 250,
        "m": 250,
    }
    from symderiv import grade

    (out,) = grade.batch([row])
    assert out["gradable"] is False and "--force" not in out["message"]
    assert "too large to check a formula" in out["message"]


def test_check_reports_progress_on_stderr_for_long_work(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check --n 200 --d 200 --m 200 ran 92 s in silence; derive says it is working
    import symderiv.check.verdict as check_module
    from symderiv.cli import console

    monkeypatch.setattr(console, "PROGRESS_AFTER_SECONDS", 0.0)  # any work is long
    result = runner.invoke(cli, ["check", "--n", "9", "--wrt", "W", "X.T @ dY"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("symderiv: working (about ")
    # and the derivation a check runs reports to the bar's callback
    seen: list[str] = []
    check_module._reference.cache_clear()
    with check_module.reporting(lambda task, done, total: seen.append(task)):
        assert check_formula(Config(n=7, d=3, m=4), "W", "X.T @ dY").ok
    check_module._reference.cache_clear()
    assert "Jacobian of Y by W" in seen and seen[-1] == "done"


@pytest.mark.parametrize(
    ("convention", "var", "text"),
    [
        ("xw", "W", "np.transpose(X, (1, 0)) @ dY"),
        ("xw", "W", "X.transpose(1, 0) @ dY"),
        ("xw", "W", "X.transpose((1, 0)) @ dY"),
        ("xw", "W", "X.transpose(-1, -2) @ dY"),
        ("torch", "W", "dY.transpose(1, 0) @ X"),
        ("torch", "W", "torch.transpose(dY, 0, 1) @ X"),  # torch swaps the two it names
    ],
)
def test_a_transpose_with_its_axes_written_out_is_read(
    convention: str, var: str, text: str
) -> None:
    # was refused: "transpose(...) takes 1 positional argument, not 2"
    assert check_formula(Config(n=2, d=3, m=4, convention=convention), var, text).ok


def test_a_transpose_with_other_axes_is_refused_truly() -> None:
    torch = Config(convention="torch")
    with pytest.raises(
        FormulaError, match=r"swaps the axes in PyTorch but is E itself"
    ):
        check_formula(torch, "W", "dY.transpose(0, 1) @ X")
    with pytest.raises(FormulaError, match=r"np.transpose\(E, \(0, 1\)\) is E itself"):
        check_formula(Config(), "W", "np.transpose(X, (0, 1)) @ dY")
    with pytest.raises(FormulaError, match="a 2-D array's axes are 0 and 1"):
        check_formula(Config(), "W", "X.transpose(2, 0) @ dY")
    # numpy refuses the axes (1, 0) of a 1-D array, so check does too
    flat = check_formula(Config(), "b", "np.sum(dY, axis=0).transpose(1, 0)")
    assert flat.reason == "shape" and "are a 2-D array's, but it is 1-D" in flat.message


def test_a_torch_sum_s_hint_says_dim() -> None:
    # "hint: sum over the batch: axis=0" for a student who wrote dim=
    torch = Config(n=2, d=3, m=4, convention="torch")
    result = check_formula(torch, "b", "dY.sum(dim=1, keepdim=True)")
    assert result.hint == "sum over the batch: dim=0", result.message
    numpy = check_formula(Config(n=2, d=3, m=4), "b", "np.sum(dY, axis=1)")
    assert numpy.hint == "sum over the batch: axis=0", numpy.message


# -- no false ✓ ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "text", "wrong_at"),
    [
        ({}, "X.T @ dY * N / 2", "not for N=4, D=5, M=6"),
        ({}, "ones(D).T @ dY", "not for N=3, D=4, M=5"),
        ({"var": "b"}, "np.ones(D) @ dY", "not for N=3, D=4, M=5"),
        (
            {"convention": "torch", "var": "b"},
            "ones(D).T @ dY",
            "not for N=3, D=4, M=5",
        ),
        ({"var": "X"}, "dY @ W.T * N / D", "not for N=3, D=4, M=5"),
        ({"var": "W"}, "X.T @ dY * 0.5 * N", "not for N=4, D=5, M=6"),
    ],
)
def test_right_only_at_the_given_sizes_is_wrong(
    args: dict[str, str], text: str, wrong_at: str
) -> None:
    var = args.get("var", "W" if "X.T" in text else "b")
    config = Config(n=2, d=2, m=3, convention=args.get("convention", "xw"))
    result = check_formula(config, var, text)
    assert not result.ok and result.reason == "sizes", result.message
    first = result.message.splitlines()[0]
    assert f"is right at N=2, D=2, M=3 but {wrong_at}" in first


def test_the_issue_s_four_formulas_fail_naming_sizes_where_they_fail() -> None:
    cases = [
        ("xw", "W", "X.T @ dY * N / 2"),
        ("xw", "b", "ones(D).T @ dY"),
        ("column", "b", "dLdZ.T @ ones(C_in)"),
        ("xw", "X", "dY @ W.T * N / D"),
    ]
    for convention, var, text in cases:
        result = check_formula(Config(n=2, d=2, m=3, convention=convention), var, text)
        assert not result.ok and result.failed_at is not None
        if result.reason == "sizes":  # right at the sizes given: wrong at distinct ones
            assert len(set(result.failed_at)) == 3
        else:  # wrong at the sizes given (column's 1-D bias): shown there first
            assert result.failed_at == (2, 2, 3)
        sizes = ", ".join(
            f"{k}={v}" for k, v in zip(result.size_names, result.failed_at, strict=True)
        )
        assert sizes in result.message


def test_shape_errors_are_explained_where_they_show() -> None:
    # (M×D)·(N×M) multiplies when N = D: wrong at the sizes given, that comes first;
    # the shape error at distinct sizes is said after it
    result = check_formula(Config(n=2, d=2, m=3), "W", "W.T @ dY")
    assert result.reason == "shape" and result.failed_at == (2, 2, 3)
    assert result.message.splitlines()[1:] == [
        "  it is M×M (3×3), but ∂L/∂W has the shape of W, D×M (2×3)",
        "  at N=3, D=4, M=5 its shapes do not even fit: W.T @ dY: cannot multiply M×D "
        "(5×4) by N×M (3×5); W.T has D=4 columns but dY has N=3 rows",
    ]


def test_a_formula_wrong_at_the_sizes_given_is_shown_wrong_there() -> None:
    # check --n 3 --d 3 --m 3 reported "cannot multiply D×N (4×3) by M×N (5×3)" at
    # N=3, D=4, M=5, never the user's own sizes
    square = check_formula(Config(n=3, d=3, m=3), "W", "X.T @ dY.T")
    assert square.reason == "entry" and square.failed_at == (3, 3, 3)
    assert square.entry == (1, 1) and square.got_entry is not None
    lines = square.message.splitlines()
    assert lines[0].endswith("is not right (at N=3, D=3, M=3; convention xw).")
    assert lines[1].startswith("  entry (1, 1): expected x₁,₁·∂L/∂y₁,₁")
    assert lines[2].startswith("  at N=3, D=4, M=5 its shapes do not even fit: ")
    assert "cannot multiply D×N (4×3) by M×N (5×3)" in lines[2]


def test_further_sizes_are_pairwise_distinct_and_avoid_literals() -> None:
    grid = [(3, 4, 5), (6, 4, 5), (3, 7, 5), (3, 4, 8)]
    assert further_sizes((2, 3, 4), ()) == grid
    assert further_sizes((3, 4, 5), ()) == grid[1:]
    for degree in (1, 2, 4):
        for literals in [(), (2,), (1, 2, 3, 4, 5), range(2, 12)]:
            triples = further_sizes((2, 2, 3), literals, degree)
            # the triangular grid i + j + k <= degree: (degree+1)(degree+2)(degree+3)/6
            assert len(triples) == math.comb(degree + 3, 3)
            for triple in triples:
                assert len(set(triple)) == 3 and min(triple) >= 2
                assert not set(triple) & set(literals)
    with pytest.raises(FormulaError, match="too many different numbers"):
        further_sizes((2, 3, 4), range(2, 28))
    with pytest.raises(FormulaError, match="too many to be checked in general"):
        further_sizes((2, 3, 4), (), 7)
    # the CLI's own defaults are pairwise distinct
    result = CliRunner().invoke(
        cli, ["check", "--wrt", "W", "X.T @ dY", "--format", "json"]
    )
    assert json.loads(result.stdout)["sizes"][0] == {"N": 2, "D": 3, "M": 4}


@pytest.mark.parametrize(
    ("var", "text"),
    [
        # vanishes at the old further sizes N = 2, 3, 6, with no literal 2, 3 or 6
        ("W", "X.T @ dY + (N-(1+1))*(N-(1+1+1))*(N-(1+1+1+1+1+1)) * X.T @ dY"),
        ("W", "X.T @ dY * (1 + (N-(1+1))*(N-(1+1+1))*(N-(1+1+1+1+1+1)))"),
        ("W", "X.T @ dY + (D-(1+1+1))*(D-(1+1+1+1))*(D-(1+1)) * X.T @ dY"),
        (
            "W",
            "X.T @ dY + (M-(1+1+1+1))*(M-(1+1+1+1+1))*(M-(1+1+1+1+1+1+1)) * X.T @ dY",
        ),
        # products of sizes: zero wherever N = 2, D = 4 or M = 7 (each old triple)
        ("W", "X.T @ dY + (N-(1+1))*(D-(1+1+1+1))*(M-(1+1+1+1+1+1+1)) * X.T @ dY"),
        ("X", "dY @ W.T + (N-D+1)*(N-D-1)*(D-M+(1+1+1+1+1)) * dY @ W.T"),
        # the same polynomials built from counts, with no size named at all
        (
            "b",
            "sum(dY) + (sum(dY*0+1)-1-1)*(sum(dY*0+1)-1-1-1)*(sum(dY*0+1)-1-1-1-1-1-1)",
        ),
        (
            "b",
            "dY.sum(0) * (1 + (np.ones(N) @ np.ones(N) - 1 - 1) * (N - 1 - 1 - 1 - 1 - 1 - 1))",
        ),
    ],
)
def test_a_polynomial_in_the_sizes_cannot_vanish_at_every_size_checked(
    var: str, text: str
) -> None:
    # wrong at some sizes, so no choice of the given sizes may let it pass
    rng = np.random.default_rng(1)
    for given in [(2, 3, 4), (2, 2, 3), (3, 4, 5), (6, 2, 7)]:
        result = check_formula(Config(*given), var, text)
        assert not result.ok, (given, result.message)
    # the oracle: numpy, at a size where it is wrong (N=5, D=9, M=11 is no root)
    n, d, m = 5, 9, 11
    X, W, dY = (rng.normal(size=s) for s in [(n, d), (d, m), (n, m)])
    env = {"X": X, "W": W, "dY": dY, "N": n, "D": d, "M": m, "np": np}
    right = {"W": X.T @ dY, "X": dY @ W.T, "b": dY.sum(0)}[var]
    got = eval(text, env)  # the test's own text; a bare sum is Python's, as in check
    assert not np.allclose(got, right)


@pytest.mark.parametrize(
    ("var", "text"),
    [
        ("W", "X.T @ dY * N / N"),
        ("W", "X.T @ dY * (N*D*M) / (D*M*N)"),
        ("W", "X.T @ dY + (N - N) * (D + M) * X.T @ dY"),
        ("b", "np.mean(dY, axis=0) * N"),
        ("b", "np.mean(dY, axis=0) * (np.ones(N) @ np.ones(N))"),
        ("b", "np.mean(dY, axis=0) * N * M / M"),
    ],
)
def test_a_right_formula_that_uses_sizes_passes(var: str, text: str) -> None:
    for given in [(2, 3, 4), (1, 1, 1), (2, 2, 3)]:
        result = check_formula(Config(*given), var, text)
        assert result.ok, result.message


def test_a_divisor_that_may_be_zero_at_some_sizes_is_refused() -> None:
    with pytest.raises(FormulaError, match="zero at some sizes"):
        check_formula(Config(), "W", "X.T @ dY * (N - 7) / (N - 7)")


def test_a_number_that_equals_a_size_is_caught() -> None:
    for n in (2, 3, 4, 5, 6, 7):
        result = check_formula(
            Config(n=n, d=9, m=10), "b", f"np.mean(dY, axis=0) * {n}"
        )
        assert not result.ok and result.reason == "sizes", n


# -- numpy shapes: what a bias may be ---------------------------------------------------------
def test_bias_shapes_follow_each_convention_s_storage() -> None:
    # xw and torch: b is length M (shown 1×M); both a 1-D and a 1×M answer are right.
    assert check_formula(Config(), "b", "np.sum(dY, axis=0)").ok
    assert check_formula(Config(), "b", "np.sum(dY, axis=0, keepdims=True)").ok
    torch = check_formula(Config(convention="torch"), "b", "dY.T @ 1")
    assert torch.reason == "transpose" and "a .T is missing" in torch.message
    # column: b is C_out×1, so numpy's 1-D sum is the wrong shape, with a hint
    column = Config(n=2, d=3, m=4, convention="column")
    for text in ("np.sum(dLdZ, axis=0)", "sum(dLdZ, axis=0).T", "dLdZ.T @ np.ones(N)"):
        result = check_formula(column, "b", text)
        assert result.reason == "shape", text
        assert result.got_shape == (4,) and result.expected_shape == (4, 1)
        assert "reshape(-1, 1)" in result.hint
        # keepdims only where there is a sum to keep it (not in dLdZ.T @ np.ones(N))
        assert ("keepdims=True" in result.hint) is ("sum" in text)
        assert result.hint.startswith("its entries are right")


def test_torch_bias_is_a_length_m_vector_as_nn_linear_holds_it() -> None:
    # SPEC: in torch b is length M (nn.Linear's bias, shape (M,)), so db is too; a 1×M row
    # (keepdims, or the closed form 1_Nᵀ dY as written) is accepted, as xw accepts 1-D.
    torch = Config(n=2, d=3, m=4, convention="torch")
    result = check_formula(torch, "b", "dY.sum(0)")
    assert result.ok and result.expected_shape == (4,) and result.got_shape == (4,)
    assert check_formula(torch, "b", "dY.sum(0, keepdims=True)").ok
    assert check_formula(torch, "b", "np.ones((N, 1)).T @ dY").ok
    # b itself is 1-D, so b.T is b, as in numpy: the extra terms cancel
    rng = np.random.default_rng(0)
    x, w, b, g = (rng.normal(size=s) for s in [(2, 3), (4, 3), (4,), (2, 4)])
    assert (x @ w.T + b).shape == g.shape and np.allclose(g.sum(0) + b.T - b, g.sum(0))
    assert check_formula(torch, "b", "dY.sum(0) + b.T - b").ok
    column = check_formula(torch, "b", "dY.sum(0).reshape(-1, 1)")
    assert column.reason == "transpose" and column.expected_shape == (4,)
    assert "∂L/∂b has the shape of b, 1-D of length M (4)" in column.message


def test_torch_spellings_mean_what_torch_means() -> None:
    torch = Config(n=2, d=3, m=4, convention="torch")
    # torch.ones(N, 1) is a column, as np.ones((N, 1)); numpy's ones takes one shape
    assert check_formula(torch, "b", "torch.ones(N, 1) @ dY").reason == "shape"
    with pytest.raises(FormulaError, match=r"np.ones\(\(N, 1\)\)"):
        check_formula(torch, "b", "np.ones(N, 1).T @ dY")
    with pytest.raises(FormulaError, match="given twice"):
        check_formula(torch, "b", "dY.sum(axis=0, dim=0)")
    assert check_formula(torch, "b", "dY.sum(dim=1)").reason == "shape"


# -- wrong answers, explained -------------------------------------------------------------
def test_missing_transpose_in_a_square_case_gives_the_first_differing_entry() -> None:
    result = check_formula(Config(n=2, d=2, m=2), "W", "X @ dY")
    assert not result.ok and result.reason == "entry"  # wrong at the sizes given
    assert "at N=3, D=4, M=5 its shapes do not even fit" in result.message
    square = check_formula(Config(n=2, d=2, m=2), "W", "dY.T @ X", further=[])
    assert square.reason == "transpose" and square.entry == (1, 2)
    assert square.expected_entry == "x₁,₁·∂L/∂y₁,₂ + x₂,₁·∂L/∂y₂,₂"
    assert square.got_entry == "x₁,₂·∂L/∂y₁,₁ + x₂,₂·∂L/∂y₂,₁"
    assert square.expected_value == "x_1_1*dy_1_2 + x_2_1*dy_2_2"
    assert square.message == (
        "∂L/∂W = dY.T @ X is not right (at N=2, D=2, M=2; convention xw).\n"
        "  entry (1, 2): expected x₁,₁·∂L/∂y₁,₂ + x₂,₁·∂L/∂y₂,₂, "
        "got x₁,₂·∂L/∂y₁,₁ + x₂,₂·∂L/∂y₂,₁\n"
        "  hint: it is the transpose of the right answer: a .T is missing or misplaced"
    )


def test_feedback_speaks_the_convention_s_letters() -> None:
    result = check_formula(
        Config(n=3, d=3, m=3, convention="column"), "A", "2 * dLdZ @ W"
    )
    assert result.var == "X" and result.letter == "A"
    assert result.message.startswith("∂L/∂A = 2 * dLdZ @ W is not right")
    assert "a₁,₁" not in result.message  # the derivative by A has no a in it
    assert "∂L/∂z₁,₁·w₁,₁" in result.message
    assert "x_1_1" not in result.message and "dy_1_1" not in result.message
    w = check_formula(Config(n=3, d=3, m=3, convention="column"), "dLdW", "A.T @ dLdZ")
    assert "a₂,₁·∂L/∂z₂,₂" in w.message


@pytest.mark.parametrize(
    ("text", "reason", "hint"),
    [
        ("-dY @ W.T", "sign", "the sign is wrong"),
        ("dY @ W.T / N", "scale", "it is 1/2 times the right answer, 1/N at N=2"),
        ("dY @ W.T * 3", "scale", "it is 3 times the right answer"),
        ("dY @ W.T + 0 * X + 1", "entry", ""),
    ],
)
def test_other_wrong_answers_get_a_reason_and_a_hint(
    text: str, reason: str, hint: str
) -> None:
    result = check_formula(Config(), "X", text)
    assert result.reason == reason, result.message
    assert result.hint.startswith(hint)


@pytest.mark.parametrize(
    ("var", "text", "hint"),
    [  # the factor equals a size at N=2, D=3, M=4 only: said to change, not named
        (
            "b",
            "np.sum(dY, axis=0) * (N+1)",
            "it is 3 times the right answer at N=2, D=3, M=4; the factor differs at "
            "other sizes",
        ),
        ("b", "np.sum(dY, axis=0) / 2", "it is 1/2 times the right answer"),
        (
            "b",
            "np.sum(dY, axis=0) * (M - N)",
            "it is 2 times the right answer at N=2, D=3, M=4; the factor differs at "
            "other sizes",
        ),
        ("W", "2 * X.T @ dY", "it is 2 times the right answer"),
        # the factor is a size (or two sizes' ratio) at every triple: named
        (
            "b",
            "np.mean(dY, axis=0) * M",
            "it is 2 times the right answer, M/N at N=2, M=4",
        ),
        ("X", "dY @ W.T * D", "it is 3 times the right answer, D at D=3"),
    ],
)
def test_a_scale_names_a_size_only_if_it_is_that_size_everywhere(
    var: str, text: str, hint: str
) -> None:
    # "3 times ..., D at D=3" for * (N+1): the factor merely equalled D at the sizes given
    result = check_formula(Config(n=2, d=3, m=4), var, text)  # check's defaults
    assert result.reason == "scale" and result.hint == hint, result.message


def test_a_mean_for_the_bias_is_named() -> None:
    result = check_formula(Config(), "b", "np.mean(dout, axis=0)")
    assert result.reason == "scale" and result.entry == (1,)
    assert "a mean where a sum belongs?" in result.hint
    scalar = check_formula(Config(), "b", "np.sum(dY)")
    assert scalar.reason == "shape" and "it gives a scalar" in scalar.message
    assert "did you mean axis=0?" in scalar.hint


def test_bad_formulas_and_variables_are_refused() -> None:
    with pytest.raises(FormulaError, match="unknown name 'Q' at column 1"):
        check_formula(Config(), "W", "Q")
    with pytest.raises(ChoiceError, match="choose from X, W, b"):
        check_formula(Config(), "Y", "X")
    with pytest.raises(ChoiceError, match="choose from A, W, b"):
        check_formula(Config(convention="column"), "Z", "X")


def test_variable_names_of_each_convention() -> None:
    column = Config(convention="column")
    for name in ("A", "X", "dA", "dLdA", "dX", "dLdX"):
        assert resolve_variable(name, column) == "X"
    torch = Config(convention="torch")
    assert resolve_variable("x", torch) == resolve_variable("dx", torch) == "X"
    assert resolve_variable("db", torch) == resolve_variable("dLdb", torch) == "b"


def test_size_letters_cannot_be_display_letters() -> None:
    for letters in ("N", "D", "M"):
        with pytest.raises(DisplayNameError, match="is a size"):
            Config(names={"X": letters})


def test_result_is_a_frozen_value_with_a_json_form() -> None:
    result = check_formula(Config(), "W", "X.T @ dY")
    assert isinstance(result, CheckResult)
    with pytest.raises(AttributeError):
        result.ok = False  # type: ignore[misc]
    data = result.to_dict()
    assert data["reason"] in REASONS and data["gradable"] is True


# -- the command ------------------------------------------------------------------------------
def test_cli_right_answer_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--wrt", "W", "X.T @ dY"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "✓ ∂L/∂W = X.T @ dY is right (at N=2, D=3, M=4, and at N=3, D=4, M=5; "
        "N=6, D=4, M=5; N=3, D=7, M=5; N=3, D=4, M=8; convention xw).\n"
    )
    assert result.stderr == ""


def test_cli_size_names_from_names_are_the_formula_s(runner: CliRunner) -> None:
    # check --help says --names renames sizes too, but 'ones(B)' was an unknown name
    # and the messages kept N=2
    base = ["check", "--names", "N=B", "--wrt", "b"]
    result = runner.invoke(cli, [*base, "ones(B) @ dY"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("✓ ∂L/∂b = ones(B) @ dY is right (at B=2, D=3, M=4")
    wrong = runner.invoke(cli, [*base, "ones(B) @ dY / B"])
    assert wrong.exit_code == 1, wrong.output
    assert "(at B=2, D=3, M=4; convention xw)" in wrong.stdout
    assert "1/B at B=2" in wrong.stdout and "N=" not in wrong.stdout
    shapes = runner.invoke(cli, ["check", "--names", "N=B", "--wrt", "W", "X @ dY"])
    assert "cannot multiply B×D (2×3) by B×M (2×4)" in shapes.stdout
    c_in = ["check", "--names", "D=C_in", "--wrt", "W", "X.T @ dY * C_in / C_in"]
    result = runner.invoke(cli, [*c_in, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sizes"][0] == {"N": 2, "C_in": 3, "M": 4}


@pytest.mark.parametrize(
    "args",
    [
        ["--convention", "torch", "--wrt", "W", "dY.T @ X"],
        ["--wrt", "b", "sum(dY, axis=0)"],
        ["--wrt", "b", "np.sum(dout, axis=0)"],
        ["--wrt", "b", "dY.sum(axis=0, keepdims=True)"],
        ["--convention", "column", "--wrt", "b", "dY.T @ ones((N, 1))"],
        ["--convention", "column", "--wrt", "A", "dLdZ @ W"],
        ["--convention", "column", "--wrt", "dLdA", "dLdZ @ W"],
        [
            "--convention",
            "column",
            "--n",
            "3",
            "--d",
            "4",
            "--m",
            "2",
            "--wrt",
            "X",
            "dLdZ @ W",
        ],
        ["--names", "X=A,dY=G", "--wrt", "W", "A.T @ G"],
        ["--wrt", "b", "--", "-sum(-dY, axis=0)"],
    ],
)
def test_cli_right_answers(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, ["check", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("✓ ")


@pytest.mark.parametrize(
    "args",
    [
        ["--n", "2", "--d", "2", "--m", "3", "--wrt", "W", "X.T @ dY * N / 2"],
        ["--n", "2", "--d", "2", "--m", "3", "--wrt", "b", "ones(D).T @ dY"],
        [
            "--n",
            "2",
            "--d",
            "2",
            "--m",
            "3",
            "--convention",
            "column",
            "--wrt",
            "b",
            "dLdZ.T @ ones(C_in)",
        ],
        ["--n", "2", "--d", "2", "--m", "3", "--wrt", "X", "dY @ W.T * N / D"],
        ["--n", "2", "--d", "2", "--m", "3", "--wrt", "W", "W.T @ dY"],
        ["--convention", "column", "--wrt", "b", "sum(dLdZ, axis=0).T"],
    ],
)
def test_cli_wrong_answers_exit_1_naming_sizes(
    runner: CliRunner, args: list[str]
) -> None:
    result = runner.invoke(cli, ["check", *args])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("✗ ∂L/∂")
    assert "N=" in result.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--wrt", "W", "X.__class__"], "unexpected '.__class__' at column 2"),
        (
            ["--wrt", "W", "Xᵀ @ dY"],
            "'ᵀ' (U+1D40 MODIFIER LETTER CAPITAL T) at column 2",
        ),
        (["--wrt", "W", "q.T @ dY"], "unknown name 'q' at column 1"),
        (["--wrt", "W", "X.T @ (dY"], "expected ')'"),
        (["--wrt", "W", "X" * 10**6], "1,000,000 characters long"),
        (["--wrt", "W", "(" * 10**4 + "X" + ")" * 10**4], "20,001 characters long"),
        (["--wrt", "Y", "X"], "--wrt: unknown variable 'Y'"),
        (["X.T @ dY"], "give --wrt"),
        (["--wrt", "W"], "give the FORMULA"),
        (["--names", "X=\\alpha", "--wrt", "W", "X"], "Invalid value for '--names'"),
        (["--names", "X=W", "--wrt", "W", "X"], "print as 'W'"),
        (["--names", "X=N", "--wrt", "b", "X"], "is a size"),
        (["--n", "0", "--wrt", "W", "X"], "Invalid value for '--n'"),
        (["--n", "5000", "--d", "5000", "--m", "5000", "--wrt", "W", "X"], "too large"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    runner: CliRunner, args: list[str], needle: str
) -> None:
    result = runner.invoke(cli, ["check", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert needle in result.stderr


@pytest.mark.parametrize(
    "template",
    [
        "__import__('os').system('touch {sentinel}')",
        "open('{sentinel}', 'w')",
        "exec(\"open('{sentinel}', 'w')\")",
        "eval(\"open('{sentinel}', 'w')\")",
        "(lambda: open('{sentinel}', 'w'))()",
        "import os; os.system('touch {sentinel}')",
        "X.T @ dY; open('{sentinel}', 'w')",
        "X.__class__.__base__.__subclasses__()",
        "().__class__.__mro__[1].__subclasses__()",
        "np.__class__",
        "np.load('{sentinel}')",
        "X.T @ dY.dot(dY.T).dot(dY).dot(dY.T).dot(dY).dot(dY.T).dot(dY) * 2",
        "𝑋.T @ dY",
        "Ｘ.T @ dY",
        "(" * 60 + "X" + ")" * 60,
        "- " * 200 + "X",
    ],
)
def test_cli_hostile_input_is_refused_quickly_without_side_effects(
    runner: CliRunner, template: str, tmp_path: Path
) -> None:
    sentinel = tmp_path / "sentinel"
    start = time.perf_counter()
    result = runner.invoke(
        cli, ["check", "--wrt", "W", template.format(sentinel=sentinel)]
    )
    assert time.perf_counter() - start < 10  # generous: bounded, not a speed goal
    assert result.exit_code in (1, 2), result.output
    assert not sentinel.exists()


def test_cli_help_documents_the_numpy_rules(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for needle in (
        "never evaluated as Python",
        "np.sum(E, axis=0) of an r×c array is 1-D",
        "keepdims=True",
        ".T of a 1-D array changes nothing",
        "np.ones(N) is 1-D",
        "dout, dy, grad_out",
        "pairwise distinct sizes >= 3",
        "gradable false",
        "--format [text|json|gradescope|prairielearn|csv]",
        "--batch FILE",
    ):
        assert needle in text, needle


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("sum(dY)", True),  # Python's sum adds the rows: the column sums, db
        ("sum(dY.T)", False),  # the row sums
        ("sum(dY, axis=0)", True),  # with an axis it can only be numpy's
        ("np.sum(dY)", False),  # every entry: a scalar
    ],
)
def test_a_bare_sum_is_pythons_builtin(text: str, ok: bool) -> None:
    assert check_formula(Config(), "b", text).ok is ok


@pytest.mark.parametrize(
    ("text", "var", "ok"),
    [
        ("dX = dY @ W.T", "X", True),
        ("self.dW = X.T @ dY", "W", True),
        ("dx = dout.dot(W.T)", "X", True),
        ("dW = dY.T @ X", "W", False),
    ],
)
def test_a_submitted_assignment_is_checked_by_its_right_side(
    text: str, var: str, ok: bool
) -> None:
    assert check_formula(Config(), var, text).ok is ok


@pytest.mark.parametrize(
    ("convention", "var", "text", "other"),
    [
        ("xw", "X", "X.T @ dY", "∂L/∂W"),
        ("xw", "b", "dY @ W.T", "∂L/∂X"),
        ("xw", "W", "np.sum(dY, axis=0)", "∂L/∂b"),
        ("column", "A", "dLdZ.T @ A", "∂L/∂W"),
    ],
)
def test_the_derivative_by_another_variable_is_named(
    convention: str, var: str, text: str, other: str
) -> None:
    result = check_formula(Config(convention=convention), var, text)
    assert not result.ok
    assert result.hint.startswith(f"this is {other}, not ∂L/∂{result.letter}")


def test_an_assignment_to_another_gradient_is_refused() -> None:
    with pytest.raises(FormulaError, match="assigns dX, but it is checked as ∂L/∂W"):
        check_formula(Config(), "W", "dX = X.T @ dY")
    with pytest.raises(FormulaError, match="assigns self.dLdb"):
        check_formula(Config(), "W", "self.dLdb = X.T @ dY")
    with pytest.raises(FormulaError, match="assigns dA"):
        check_formula(Config(convention="column"), "W", "dA = dLdZ.T @ A")
    for text in ("dw = X.T @ dY", "self.dLdW = X.T @ dY", "grad = X.T @ dY"):
        assert check_formula(Config(), "W", text).ok, text


#: Every common spelling of "the gradient of V", with the variable V it names.
GRADIENT_SPELLINGS = [
    ("xw", "X", "dX"),
    ("xw", "X", "dx"),
    ("xw", "X", "X.grad"),
    ("xw", "X", "grad_X"),
    ("xw", "X", "X_grad"),
    ("xw", "X", "dL_dX"),
    ("xw", "X", "dLdX"),
    ("xw", "X", "self.dX"),
    ("xw", "X", "self.X.grad"),
    ("xw", "b", "b.grad"),
    ("xw", "b", "grad_b"),
    ("torch", "X", "x.grad"),
    ("torch", "X", "dL_dx"),
    ("column", "X", "dA"),
    ("column", "X", "grad_A"),
]
#: A formula for each variable's gradient, per convention.
RIGHT = {
    "xw": {"X": "dY @ W.T", "W": "X.T @ dY", "b": "np.sum(dY, axis=0)"},
    "torch": {"X": "dY @ W", "W": "dY.t() @ x", "b": "dY.sum(dim=0)"},
    "column": {"X": "dLdZ @ W", "W": "dLdZ.T @ A", "b": "dLdZ.T @ np.ones((N, 1))"},
}


@pytest.mark.parametrize(("convention", "role", "target"), GRADIENT_SPELLINGS)
def test_every_spelling_of_a_gradient_on_the_left_is_recognised(
    convention: str, role: str, target: str
) -> None:
    config = Config(convention=convention)
    assert gradient_of(target, config) == role
    # naming the variable checked (or no gradient): the right-hand side is checked
    assert check_formula(config, role, f"{target} = {RIGHT[convention][role]}").ok
    other = "W" if role != "W" else "X"
    with pytest.raises(FormulaError, match=f"assigns {target}, but it is checked as"):
        check_formula(config, other, f"{target} = {RIGHT[convention][other]}")


@pytest.mark.parametrize("target", ["grad", "out", "dY", "dout", "gradients", "result"])
def test_a_left_hand_side_naming_no_gradient_is_left_alone(target: str) -> None:
    assert gradient_of(target, Config()) is None
    assert check_formula(Config(), "W", f"{target} = X.T @ dY").ok


def test_the_cli_refuses_another_variables_gradient_on_the_left() -> None:
    runner = CliRunner()
    for args in (
        ["--wrt", "W", "X.grad = X.T @ dY"],
        ["--wrt", "W", "grad_X = X.T @ dY"],
        ["--wrt", "W", "dL_dX = X.T @ dY"],
        ["--wrt", "W", "b.grad = X.T @ dY"],
        ["--convention", "torch", "--wrt", "W", "x.grad = dY.t() @ x"],
    ):
        assert runner.invoke(cli, ["check", *args]).exit_code == 2, args
    assert (
        runner.invoke(cli, ["check", "--wrt", "W", "W.grad = X.T @ dY"]).exit_code == 0
    )


@pytest.mark.parametrize("text", ["dX == dY @ W.T", "= dY @ W.T", "dX ="])
def test_what_is_not_an_assignment_still_does_not_parse(text: str) -> None:
    with pytest.raises(FormulaError):
        check_formula(Config(), "X", text)


@pytest.mark.parametrize(
    ("convention", "text", "fix"),
    [
        # keepdims along axis 0 gives a row: following a bare keepdims hint stayed wrong
        ("column", "np.sum(dLdZ, axis=0)", "keepdims=True and add .T"),
        ("column", "dLdZ.T @ np.ones(N)", ": add .reshape(-1, 1)"),
        ("wx", "np.sum(dY, axis=1)", ": sum with keepdims=True, or"),
    ],
)
def test_a_1d_bias_hint_that_leads_to_the_column(
    convention: str, text: str, fix: str
) -> None:
    result = check_formula(Config(convention=convention), "b", text)
    assert not result.ok and fix in result.hint
    for followed in (f"({text}).reshape(-1, 1)",):
        assert check_formula(Config(convention=convention), "b", followed).ok


@pytest.mark.parametrize(
    ("var", "text"), [("X", "dout.dot(w.T)"), ("W", "x.T.dot(dout)")]
)
def test_cs231n_spellings_are_read_in_xw(var: str, text: str) -> None:
    """CS231n's affine_backward writes x and w in lower case; --names still wins."""
    assert check_formula(Config(), var, text).ok
    swapped = Config(names={"X": "w", "W": "x"})
    assert not check_formula(swapped, var, text).ok  # here w means X, x means W


def test_a_verdict_in_a_terminal_is_wrapped_to_its_width(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 60 columns no line runs past the edge; piped, the verdict stays as it is."""
    import symderiv.cli.console as console

    piped = runner.invoke(cli, ["check", "--wrt", "X", "dY @ W"])
    assert max(len(line) for line in piped.stdout.splitlines()) > 60
    monkeypatch.setattr(console, "terminal_width", lambda: 60)
    shown = runner.invoke(cli, ["check", "--wrt", "X", "dY @ W"])
    assert shown.exit_code == 1
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert " ".join(" ".join(lines).split()) == " ".join(piped.stdout.split())


def test_the_verdict_reads_the_right_hand_side_of_an_assignment() -> None:
    """A line copied from a backward pass, ``dW = X.T @ dY``: the verdict says
    "∂L/∂W = X.T @ dY is right", not "∂L/∂W = dW = X.T @ dY"."""
    result = check_formula(Config(n=2, d=3, m=4), "W", "dW = X.T @ dY")
    assert result.ok and result.message.startswith("∂L/∂W = X.T @ dY is right")
