"""``symderiv check``: right answers pass, wrong ones are explained, bad ones refused."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.check import CheckResult, check_formula, engine_expected
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import ChoiceError, FormulaError

SIZES = [(1, 1, 1), (2, 2, 3), (3, 2, 4)]

RIGHT = {
    "xw": {
        "W": ["X.T @ dY", "(dY.T @ X).T", "X.T @ dY * N / N"],
        "X": ["dY @ W.T", "(W @ dY.T).T"],
        "b": [
            "sum(dY, axis=0)",
            "1.T @ dY",
            "ones(N).T @ dY",
            "dY.sum(axis=0)",
            "ones(1, N) @ dY",
            "(dY.T @ 1).T",
        ],
    },
    "torch": {
        "W": ["dY.T @ X", "dY.T @ x"],
        "X": ["dY @ W"],
        "b": ["sum(dY, axis=0)", "1.T @ dY"],
    },
    "column": {
        "W": ["dLdZ.T @ A", "dY.T @ X"],
        "X": ["dLdZ @ W"],
        "b": [
            "dLdZ.T @ ones(N)",
            "dY.T @ ones(N)",
            "dLdZ.T @ 1",
            "sum(dLdZ, axis=0).T",
            "dLdZ.T @ ones(N, 1)",
        ],
    },
}
CASES = [
    (convention, var, text)
    for convention, table in RIGHT.items()
    for var, texts in table.items()
    for text in texts
]


@pytest.mark.parametrize(("convention", "var", "text"), CASES)
def test_right_formulas_pass_in_every_convention(
    convention: str, var: str, text: str
) -> None:
    for n, d, m in SIZES:
        result = check_formula(Config(n=n, d=d, m=m, convention=convention), var, text)
        assert result.ok, result.message
        assert result.message.startswith(f"dL/d{var} = {text} is right (N={n}, ")
        assert result.got_shape == result.expected_shape


def test_the_answer_comes_from_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("symderiv.derive")  # the package exports derive()
    calls: list[Config] = []
    real = engine.derive

    def spy(config: Config) -> Any:
        calls.append(config)
        return real(config)

    monkeypatch.setattr(engine, "derive", spy)
    # layout, loss and method of the given config do not change the question
    config = Config(n=2, d=3, m=2, layout="numerator", loss="mse", method="index")
    assert check_formula(config, "W", "X.T @ dY").ok
    assert [(c.wrt, c.layout, c.loss, c.method) for c in calls] == [
        (("W",), "denominator", "generic", "jacobian")
    ]
    expected, leaf = engine_expected(Config(n=1, d=2, m=1, wrt=("X",)), "X")
    assert expected == sp.ImmutableMatrix(
        [
            [
                sp.Symbol("dy_1_1") * sp.Symbol("w_1_1"),
                sp.Symbol("dy_1_1") * sp.Symbol("w_2_1"),
            ]
        ]
    )
    assert leaf("T") == sp.ImmutableMatrix([[sp.Symbol("t_1_1")]])


def test_a_custom_source_of_answers_is_what_is_compared() -> None:
    def zeros(config: Config, var: str) -> tuple[Any, Any]:
        _, leaf = engine_expected(config, var)
        return sp.zeros(*config.shape(var)), leaf

    result = check_formula(Config(), "W", "X.T @ dY", expected=zeros)
    assert not result.ok and result.entry == (1, 1)
    assert check_formula(Config(), "W", "0 * X.T @ dY", expected=zeros).ok


# -- wrong answers, explained -------------------------------------------------------------
def test_missing_transpose_in_a_square_case_gives_the_first_differing_entry() -> None:
    result = check_formula(Config(n=2, d=2, m=2), "W", "X @ dY")
    assert not result.ok
    assert result.entry == (1, 1)
    assert result.expected_entry == "x_1_1*dy_1_1 + x_2_1*dy_2_1"
    assert result.got_entry == "x_1_1*dy_1_1 + x_1_2*dy_2_1"
    assert result.message == (
        "dL/dW = X @ dY is not right (N=2, D=2, M=2, convention xw).\n"
        "  entry (1, 1): expected x_1_1*dy_1_1 + x_2_1*dy_2_1, "
        "got x_1_1*dy_1_1 + x_1_2*dy_2_1"
    )


def test_the_first_differing_entry_in_reading_order_is_reported() -> None:
    # (dY.T X) and (X.T dY) agree on the diagonal; they differ first at (1, 2).
    result = check_formula(Config(n=2, d=2, m=2), "W", "dY.T @ X")
    assert result.entry == (1, 2)
    assert result.expected_entry == "x_1_1*dy_1_2 + x_2_1*dy_2_2"
    assert result.got_entry == "x_1_2*dy_1_1 + x_2_2*dy_2_1"
    assert result.hint == "you have its transpose: a .T is missing or misplaced"


def test_the_transpose_of_the_right_answer_is_pointed_out() -> None:
    square = check_formula(Config(n=2, d=3, m=3), "W", "dY.T @ X")
    assert not square.ok and "hint: you have its transpose" in square.message
    wrong_shape = check_formula(Config(n=2, d=2, m=3), "W", "dY.T @ X")
    assert wrong_shape.message.splitlines()[1:] == [
        "  it is M×D (3×2), but dL/dW has the shape of W, D×M (2×3)",
        "  hint: did you mean its transpose?",
    ]
    assert wrong_shape.got_shape == (3, 2) and wrong_shape.expected_shape == (2, 3)
    # the torch bias is 1×M: an M×1 answer is its transpose
    bias = check_formula(Config(convention="torch"), "b", "dY.T @ 1")
    assert "did you mean its transpose?" in bias.message
    column = check_formula(Config(convention="column"), "b", "sum(dLdZ, axis=0)")
    assert (
        "1×C_out (1×3), but dL/db has the shape of b, C_out×1 (3×1)" in column.message
    )


def test_shape_mismatch_inside_the_formula_is_explained() -> None:
    result = check_formula(Config(n=2, d=3, m=2), "W", "X @ dY")
    assert not result.ok and result.got_shape is None
    assert result.message.splitlines()[1] == (
        "  X @ dY: cannot multiply N×D (2×3) by N×M (2×2); X has D=3 columns but dY "
        "has N=2 rows"
    )
    result = check_formula(
        Config(convention="column", n=4, d=2, m=3), "X", "dLdZ @ W.T"
    )
    assert "dLdZ @ W.T: cannot multiply N×C_out (4×3) by C_in×C_out (2×3)" in (
        result.message
    )


def test_other_wrong_answers_get_a_hint() -> None:
    sign = check_formula(Config(), "X", "-dY @ W.T")
    assert "hint: the sign is wrong" in sign.message
    factor = check_formula(Config(), "b", "sum(dY, axis=0) / N")
    assert "hint: it is 1/2 times the right answer" in factor.message
    scalar = check_formula(Config(), "b", "sum(dY)")
    assert "it gives a scalar, but dL/db is 1×M (1×3)" in scalar.message
    assert "did you mean sum(E, axis=0)?" in scalar.message
    targets = check_formula(Config(), "W", "X.T @ T")
    assert not targets.ok and "t_1_1" in targets.message


def test_bad_formulas_and_variables_are_refused() -> None:
    with pytest.raises(FormulaError, match="unknown name 'Q' at column 1"):
        check_formula(Config(), "W", "Q")
    with pytest.raises(ChoiceError, match="choose from X, W, b"):
        check_formula(Config(), "Y", "X")


def test_result_is_a_frozen_value() -> None:
    result = check_formula(Config(), "W", "X.T @ dY")
    assert isinstance(result, CheckResult)
    with pytest.raises(AttributeError):
        result.ok = False  # type: ignore[misc]


# -- the command ------------------------------------------------------------------------------
def test_cli_right_answer_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--wrt", "W", "X.T @ dY"])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == "✓ dL/dW = X.T @ dY is right (N=2, D=2, M=3, convention xw).\n"
    )
    assert result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--convention", "torch", "--wrt", "W", "dY.T @ X"],
        ["--wrt", "b", "sum(dY, axis=0)"],
        ["--convention", "column", "--wrt", "b", "dY.T @ ones(N)"],
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


def test_cli_wrong_answer_exits_1_with_the_reason(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["check", "--n", "2", "--d", "2", "--m", "2", "--wrt", "W", "X @ dY"]
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "✗ dL/dW = X @ dY is not right (N=2, D=2, M=2, convention xw).",
        "  entry (1, 1): expected x_1_1*dy_1_1 + x_2_1*dy_2_1, "
        "got x_1_1*dy_1_1 + x_1_2*dy_2_1",
    ]
    assert result.stderr == ""
    shape = runner.invoke(cli, ["check", "--d", "3", "--wrt", "W", "X @ dY"])
    assert shape.exit_code == 1
    assert "X @ dY: cannot multiply N×D (2×3) by N×M (2×3)" in shape.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--wrt", "W", "X.__class__"], "unexpected '.__class__' at column 2"),
        (
            ["--wrt", "W", "Xᵀ @ dY"],
            "'ᵀ' (U+1D40 MODIFIER LETTER CAPITAL T) at column 2",
        ),
        (["--wrt", "W", "x.T @ dY"], "unknown name 'x' at column 1"),
        (["--wrt", "W", "X.T @ (dY"], "expected ')'"),
        (["--wrt", "W", "X" * 10**6], "1,000,000 characters long"),
        (["--wrt", "W", "(" * 10**4 + "X" + ")" * 10**4], "20,001 characters long"),
        (["--wrt", "Y", "X"], "Invalid value for '--wrt'"),
        (["X.T @ dY"], "Missing option '--wrt'"),
        (["--wrt", "W"], "Missing argument 'FORMULA'"),
        (["--names", "X=\\alpha", "--wrt", "W", "X"], "Invalid value for '--names'"),
        (["--names", "X=W", "--wrt", "W", "X"], "print as 'W'"),
        (["--n", "0", "--wrt", "W", "X"], "Invalid value for '--n'"),
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
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert not sentinel.exists()


def test_cli_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    assert "never evaluated as Python" in result.stdout
    assert "--wrt [X|W|b]" in result.stdout
