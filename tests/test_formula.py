"""The formula reader of ``symderiv check``: tokens, tree, shapes, values, hostile input."""

from __future__ import annotations

import builtins
import io
import time
import tokenize as pytokenize
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

import symderiv.formula as formula_module
from symderiv.conventions import Config
from symderiv.errors import DisplayNameError, FormulaError, SymderivError, UsageError
from symderiv.formula import (
    MAX_DEPTH,
    MAX_LENGTH,
    BinOp,
    Env,
    FormulaLimitError,
    FormulaShapeError,
    FormulaSyntaxError,
    Name,
    Names,
    Neg,
    Number,
    Ones,
    Size,
    SumAxis,
    Transpose,
    evaluate,
    format_shape,
    infer,
    parse,
    tokenize,
)

XW = Config(n=2, d=2, m=3)


def tree(text: str, config: Config = XW) -> object:
    return parse(text, Names.for_config(config)).tree


def shape(text: str, config: Config = XW) -> str:
    info = infer(parse(text, Names.for_config(config)), Env.from_config(config))
    return "scalar" if info.shape is None else format_shape(info.shape)


def value(text: str, config: Config = XW) -> Any:
    return evaluate(parse(text, Names.for_config(config)), Env.from_config(config))


def matrix(prefix: str, rows: int, cols: int) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(
        rows,
        cols,
        [
            sp.Symbol(f"{prefix}_{i}_{j}")
            for i in range(1, rows + 1)
            for j in range(1, cols + 1)
        ],
    )


# -- tokens and tree ----------------------------------------------------------------------
def test_tokens_keep_one_dot_T_apart_from_numbers() -> None:
    names = Names.for_config(XW)
    assert [t.text for t in tokenize("1.T @ dY", names)] == [
        "1",
        ".",
        "T",
        "@",
        "dY",
        "",
    ]
    assert [t.text for t in tokenize("0.5*X + .25", names)][:5] == [
        "0.5",
        "*",
        "X",
        "+",
        ".25",
    ]
    assert [t.column for t in tokenize(" X  @W", names)] == [2, 5, 6, 7]


def test_tree_follows_python_precedence() -> None:
    X, W, dY = Name("X", "X"), Name("W", "W"), Name("dY", "dY")
    assert tree("X.T @ dY") == BinOp("@", Transpose(X), dY)
    # unary minus binds tighter than @, .T tighter than unary minus (as in Python)
    assert tree("-X.T @ dY") == BinOp("@", Neg(Transpose(X)), dY)
    # @ * / share a level and go left to right; + - are lower
    assert tree("dY @ W.T * 2 + X") == BinOp(
        "+", BinOp("*", BinOp("@", dY, Transpose(W)), Number(Fraction(2))), X
    )
    assert tree("X - W - dY") == BinOp("-", BinOp("-", X, W), dY)
    assert tree("((X))") == X
    assert tree("+X") == X


def test_sum_and_ones_spellings() -> None:
    dY = Name("dY", "dY")
    assert tree("sum(dY, axis=0)") == SumAxis(dY, 0)
    assert tree("dY.sum(axis=0)") == SumAxis(dY, 0)
    assert tree("sum(dY, 1)") == SumAxis(dY, 1)
    assert tree("dY.sum()") == SumAxis(dY, None)
    assert tree("ones(N)") == Ones((Size("n", "N"),))
    assert tree("ones(1, N)") == Ones((Number(Fraction(1)), Size("n", "N")))


def test_spans_point_into_the_text() -> None:
    formula = parse("2 * (X.T @ dY)", Names.for_config(XW))
    assert isinstance(formula.tree, BinOp)
    assert formula.source(formula.tree.right) == "(X.T @ dY)"


def test_names_of_each_convention() -> None:
    torch = Names.for_config(Config(convention="torch"))
    assert torch.matrices["x"] == torch.matrices["X"] == "X"
    assert torch.matrices["y"] == "Y"
    column = Names.for_config(Config(convention="column"))
    assert {column.matrices[k] for k in ("A", "Z", "dLdZ")} == {"X", "Y", "dY"}
    assert column.sizes["C_in"] == "d" and column.sizes["D"] == "d"
    assert column.sizes["C_out"] == "m"
    assert "names A, W, b, Z, dLdZ, T, X, Y, dY" in column.describe()


def test_display_letters_win_over_role_names_and_sizes() -> None:
    names = Names.for_config(Config(names={"X": "W", "W": "V"}))
    assert names.matrices["W"] == "X" and names.matrices["V"] == "W"
    # a matrix may not take a size's name: ones(N) could not be written (issue 15)
    with pytest.raises(DisplayNameError, match="size N"):
        Config(names={"X": "N"})


# -- refused: exit 2, naming the token and its column -----------------------------------
@pytest.mark.parametrize(
    ("text", "needle", "column"),
    [
        ("X.__class__", "unexpected '.__class__' at column 2", 2),
        ("dY.T.__class__.__mro__", "'.__class__' at column 5", 5),
        ("__import__('os')", "'__import__' at column 1", 1),
        ("open('x')", "unexpected call 'open(' at column 1", 1),
        ("X.T @ eval('1')", "unexpected call 'eval(' at column 7", 7),
        ("lambda: X", "keyword 'lambda' at column 1", 1),
        ("import os", "keyword 'import' at column 1", 1),
        ("X if 1 else W", "unexpected 'if' at column 3", 3),
        ("'X'", "strings are not allowed", 1),
        ('"X"', "strings are not allowed", 1),
        ("X[0]", "subscripts are not allowed", 2),
        ("X.shape", "unexpected '.shape' at column 2", 2),
        ("X.T()", "only ones(...) and sum(...) can be called", 4),
        ("T(X)", "write X.T for a transpose", 1),
        ("X ** 2", "powers are not supported", 3),
        ("X // 2", "floor division", 3),
        ("X; W", "write a single formula", 2),
        ("X.T @", "end of formula at column 6", 6),
        ("(X.T @ dY", "expected ')' to close '(' at column 1", 10),
        ("X.T @ dY)", "no matching '('", 9),
        ("X dY", "operator such as @", 3),
        ("2X", "write 2*X", 1),
        ("x.T @ dY", "did you mean 'X'?", 1),
        ("x_1_1 * 2", "single entries cannot be named", 1),
        ("np.ones(N)", "without a module prefix", 1),
        ("ones", "ones must be called", 1),
        ("ones(N, dtype=1)", "takes no keyword 'dtype'", 9),
        ("sum(dY, axis=2)", "the axis must be 0 or 1", 14),
        ("dY.sum(keepdims=1)", "not needed", 8),
        ("", "the formula is empty", 0),
        ("X\x00", "'\\x00' at column 2", 2),
        ("X$", "without $", 2),
    ],
)
def test_refused_with_token_and_column(text: str, needle: str, column: int) -> None:
    with pytest.raises(FormulaSyntaxError) as caught:
        tree(text)
    message = str(caught.value)
    assert needle in message
    assert caught.value.column == column
    assert caught.value.exit_code == 2 and isinstance(caught.value, UsageError)
    assert message.endswith(
        "allowed: names X, W, b, Y, dY, T, sizes N, D, M, numbers, "
        "operators @ * + - / .T, ones(N), sum(E, axis=0)"
    )


@pytest.mark.parametrize(
    ("char", "needle"),
    [
        ("𝑋", "it looks like 'X'"),  # mathematical italic X
        ("Ｘ", "it looks like 'X'"),  # full-width X
        ("Х", "it looks like 'X'"),  # Cyrillic Ha
        ("ᵀ", "write .T for a transpose"),
        ("−", "use the ASCII minus"),
        ("·", "use @ for a matrix product"),
        ("\u00a0", "use an ordinary space"),
        ("\u202e", "ASCII characters only"),  # right-to-left override: never echoed
        ("\udcff", "ASCII characters only"),  # a byte that was not UTF-8
    ],
)
def test_unicode_look_alikes_are_named_with_their_column(
    char: str, needle: str
) -> None:
    text = "X.T @" + char + "dY"
    with pytest.raises(FormulaSyntaxError) as caught:
        tree(text)
    message = str(caught.value)
    assert f"U+{ord(char):04X}" in message and "at column 6" in message
    assert needle in message
    if not char.isprintable():
        assert char not in message


def test_limits() -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaLimitError, match="1,000,000 characters long"):
        tree("X" * 10**6)
    with pytest.raises(FormulaLimitError, match="characters long; the limit is 500"):
        tree("(" * 10**4 + "X" + ")" * 10**4)
    assert (
        time.perf_counter() - start < 5
    )  # generous: a bounded refusal, not a speed goal
    assert tree("X" + " " * (MAX_LENGTH - 1)) == Name("X", "X")
    deep = "(" * MAX_DEPTH + "X" + ")" * MAX_DEPTH
    assert tree(deep) == Name("X", "X")
    with pytest.raises(FormulaLimitError, match="nested too deeply at column 51"):
        tree("(" + deep + ")")
    with pytest.raises(FormulaLimitError, match="nested too deeply"):
        tree("-" * (MAX_DEPTH + 1) + "X")
    with pytest.raises(FormulaLimitError, match="too deeply"):
        tree("sum(" * 60 + "X" + ")" * 60)
    assert tree("X * 1000000") == BinOp("*", Name("X", "X"), Number(Fraction(10**6)))
    with pytest.raises(FormulaLimitError, match="number 1000001 at column 5"):
        tree("X * 1000001")
    with pytest.raises(FormulaLimitError, match="too large"):
        tree("9" * 400)


def test_long_flat_formulas_do_not_overflow_the_stack() -> None:
    # Within 500 characters a formula can be ~250 operations long; no RecursionError.
    assert shape("X" + "+X" * 249) == "N×D (2×2)"
    assert shape("X" + ".T" * 249) == "D×N (2×2)"
    assert value("X" + ".T" * 248) == matrix("x", 2, 2)


def test_too_much_work_is_refused_before_computing() -> None:
    big = Config(n=16, d=16, m=16)
    start = time.perf_counter()
    with pytest.raises(FormulaLimitError, match="too large to check at N=16, D=16"):
        shape("X.T @ dY @ W.T @ X.T @ dY", big)
    with pytest.raises(FormulaLimitError, match="too large"):
        shape("ones(1000000)")
    assert (
        time.perf_counter() - start < 5
    )  # generous: a bounded refusal, not a speed goal


# -- shapes -----------------------------------------------------------------------------------
def test_shapes_with_their_names() -> None:
    assert shape("X.T @ dY") == "D×M (2×3)"
    assert shape("dY @ W.T") == "N×D (2×2)"
    assert shape("sum(dY, axis=0)") == "1×M (1×3)"
    assert shape("sum(dY, axis=1)") == "N×1 (2×1)"
    assert shape("sum(dY)") == "scalar"
    assert shape("ones(N)") == "N×1 (2×1)"
    assert shape("ones(1, 3)") == "1×3"
    assert shape("N / 2") == "scalar"
    assert shape("dLdZ.T @ A", Config(convention="column")) == "C_out×C_in (3×2)"


def test_literal_one_is_a_ones_vector_only_where_its_length_is_clear() -> None:
    assert shape("1.T @ dY") == "1×M (1×3)"
    assert shape("dY.T @ 1") == "M×1 (3×1)"
    assert shape("(1).T @ dY") == "1×M (1×3)"
    assert shape("2 * 1") == "scalar"
    with pytest.raises(FormulaShapeError, match="length of this 1 is not clear"):
        shape("1 @ b")
    with pytest.raises(FormulaShapeError, match="2 is a scalar; use \\* to scale"):
        shape("2 @ X")


def test_shape_mismatch_names_the_operation_and_both_shapes() -> None:
    with pytest.raises(FormulaShapeError) as caught:
        shape("X @ dY", Config(n=2, d=3, m=2))
    assert str(caught.value) == (
        "X @ dY: cannot multiply N×D (2×3) by N×M (2×2); X has D=3 columns but dY "
        "has N=2 rows"
    )
    assert caught.value.operation == "X @ dY" and caught.value.exit_code == 1
    with pytest.raises(FormulaShapeError, match=r"cannot add N×D \(2×2\) and D×M"):
        shape("X + W")
    with pytest.raises(FormulaShapeError, match="cannot multiply elementwise"):
        shape("X.T * dY")
    with pytest.raises(FormulaShapeError, match="cannot sum a scalar along axis 0"):
        shape("sum(N, axis=0)")


def test_division_and_ones_take_numbers_and_sizes_only() -> None:
    with pytest.raises(FormulaError, match="divides by a number or a size only"):
        shape("X / W")
    with pytest.raises(FormulaError, match="'sum\\(dY\\)' is not one"):
        shape("X / sum(dY)")
    with pytest.raises(FormulaError, match="divides by zero"):
        shape("X / (N - 2)")
    with pytest.raises(FormulaError, match="ones\\(...\\) takes sizes"):
        shape("ones(X)")
    with pytest.raises(FormulaError, match="takes sizes"):
        shape("ones(N / 4)")


# -- values -----------------------------------------------------------------------------------
def test_values_are_exact_sympy_matrices_in_the_canonical_symbols() -> None:
    X, W, dY = matrix("x", 2, 2), matrix("w", 2, 3), matrix("dy", 2, 3)
    b = sp.ImmutableMatrix([[sp.Symbol(f"b_{j}") for j in (1, 2, 3)]])
    assert value("X.T @ dY") == X.T @ dY
    assert value("0.5 * X") == X / 2 == value("X / 2") == value("X / N")
    assert value("-X + X") == sp.zeros(2, 2)
    assert value("sum(dY, axis=0)") == sp.ones(1, 2) @ dY == value("1.T @ dY")
    assert value("sum(dY, axis=1)") == dY @ sp.ones(3, 1) == value("dY @ 1")
    assert value("sum(dY)") == sum(dY)
    assert value("Y") == X @ W + sp.ones(2, 1) @ b
    # numpy broadcasting of a 1×k row and a k×1 column
    assert value("dY + b") == dY + sp.ones(2, 1) @ b
    assert value("dY * sum(dY, axis=1)") == dY.multiply_elementwise(
        (dY @ sp.ones(3, 1)) @ sp.ones(1, 3)
    )
    assert value("X + 1") == X + sp.ones(2, 2)
    assert value("N * M") == 6


def test_values_in_other_conventions() -> None:
    column = Config(n=2, d=2, m=3, convention="column")
    b = sp.ImmutableMatrix([[sp.Symbol(f"b_{j}")] for j in (1, 2, 3)])
    assert value("b", column) == b
    assert value("dLdZ.T @ 1", column) == matrix("dy", 2, 3).T @ sp.ones(2, 1)
    torch = Config(n=1, d=2, m=3, convention="torch")
    assert value("W", torch) == matrix("w", 3, 2)
    assert value("y", torch) == matrix("x", 1, 2) @ matrix(
        "w", 3, 2
    ).T + sp.ImmutableMatrix([[sp.Symbol(f"b_{j}") for j in (1, 2, 3)]])


# -- never evaluates user text ----------------------------------------------------------------
FORBIDDEN = {
    "eval",
    "exec",
    "compile",
    "sympify",
    "parse_expr",
    "literal_eval",
    "__import__",
    "S",
    "parse",
    "getattr",
    "setattr",
    "globals",
    "locals",
}


def _code_names(path: Path) -> Iterator[str]:
    """Names used in code (not in strings or comments); ``re.compile`` is fine."""
    source = path.read_text(encoding="utf-8")
    previous = ""
    for tok in pytokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == pytokenize.NAME and not (
            previous == "re." and tok.string == "compile"
        ):
            yield tok.string
        if tok.type in (pytokenize.NAME, pytokenize.OP):
            previous = (previous + tok.string)[-3:] if tok.string == "." else tok.string


@pytest.mark.parametrize("module", ["formula.py", "check.py", "cli/check.py"])
def test_source_never_calls_an_evaluator(module: str) -> None:
    root = Path(formula_module.__file__).parent
    names = set(_code_names(root / module))
    allowed = {"parse"} if module != "cli/check.py" else set()  # our own parse()
    assert not (names & (FORBIDDEN - allowed))
    assert "import ast" not in (root / module).read_text(encoding="utf-8")


HOSTILE = [
    "__import__('os').system('touch {sentinel}')",
    "open('{sentinel}', 'w').write('x')",
    "X.__class__.__bases__[0].__subclasses__()",
    "exec(\"open('{sentinel}', 'w')\")",
    "eval(\"open('{sentinel}', 'w')\")",
    "(lambda: open('{sentinel}', 'w'))()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "X.T @ dY; open('{sentinel}', 'w')",
    "X.T @ dY if open('{sentinel}', 'w') else 0",
    "ones(N).__init__.__globals__",
    "X.T @ dY\n__import__('os')",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_input_never_reaches_an_evaluator(
    template: str, tmp_path: Path
) -> None:
    sentinel = tmp_path / "sentinel"
    text = template.format(sentinel=sentinel)
    called: list[str] = []

    def refuse(name: str) -> Any:
        def call(*args: object, **kwargs: object) -> None:
            called.append(name)
            raise AssertionError(f"{name} was called")

        return call

    targets = [(builtins, name) for name in ("eval", "exec", "compile", "__import__")]
    targets.append((sp, "sympify"))
    saved = [(owner, name, getattr(owner, name)) for owner, name in targets]
    error: BaseException | None = None
    try:
        for owner, name in targets:
            setattr(owner, name, refuse(name))
        value(text)
    except BaseException as exc:  # noqa: BLE001 - checked below, after restoring
        error = exc
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    assert not called
    assert isinstance(error, SymderivError) and error.exit_code == 2, error
    assert not sentinel.exists()
