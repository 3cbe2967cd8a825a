"""The formula reader of ``symderiv check``: tokens, tree, numpy shapes, values, hostile input."""

from __future__ import annotations

import builtins
import io
import time
import tokenize as pytokenize
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symderiv.check as check_package
from symderiv.check.grammar import (
    MAX_DEPTH,
    MAX_LENGTH,
    Dot,
    Elementwise,
    FormulaLimitError,
    FormulaShapeError,
    FormulaSyntaxError,
    Matmul,
    Names,
    Neg,
    NpOnes,
    Reduce,
    Reshape,
    Size,
    parse,
    tokenize,
)
from symderiv.check.shapes import Env, format_shape, infer
from symderiv.check.values import evaluate
from symderiv.conventions import Config
from symderiv.errors import FormulaError, SymderivError, UsageError
from symderiv.notation import Prod, Scalar, Sym, T

XW = Config(n=2, d=3, m=4)


def tree(text: str, config: Config = XW) -> object:
    return parse(text, Names.for_config(config)).tree


def shape(text: str, config: Config = XW) -> str:
    info = infer(parse(text, Names.for_config(config)), Env.from_config(config))
    return format_shape(info.shape)


def value(text: str, config: Config = XW) -> Any:
    """The formula's value as a sympy matrix (a 1-D array as a 1×k row), and its shape."""
    result = evaluate(parse(text, Names.for_config(config)), Env.from_config(config))
    return result.matrix.to_sympy()


def npshape(text: str, config: Config = XW) -> tuple[int, ...]:
    return evaluate(
        parse(text, Names.for_config(config)), Env.from_config(config)
    ).shape


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


X, W, dY = Sym("X"), Sym("W"), Sym("dY")


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


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1e-3", Fraction(1, 1000)),
        ("1.", Fraction(1)),
        (".5", Fraction(1, 2)),
        ("2E3", Fraction(2000)),
        ("1.5e1", Fraction(15)),
    ],
)
def test_numbers_as_numpy_writes_them(text: str, number: Fraction) -> None:
    assert tree(f"X * {text}") == Elementwise("*", X, Scalar(number))


def test_tree_is_notation_with_python_precedence() -> None:
    assert tree("X.T @ dY") == Prod(T(X), dY)
    # unary minus binds tighter than @, .T tighter than unary minus (as in Python)
    assert tree("-X.T @ dY") == Prod(Neg(T(X)), dY)
    # @ * / share a level and go left to right; + - are lower
    assert tree("dY @ W.T * 2 + X") == Elementwise(
        "+", Elementwise("*", Prod(dY, T(W)), Scalar(Fraction(2))), X
    )
    assert tree("X - W - dY") == Elementwise("-", Elementwise("-", X, W), dY)
    assert tree("((X))") == X
    assert tree("+X") == X


def test_numpy_spellings() -> None:
    assert tree("np.dot(X.T, dY)") == Dot(T(X), dY) == tree("X.T.dot(dY)")
    # np.matmul is @ as a call (Matmul: a literal 1 in it is the number, as in numpy)
    assert tree("numpy.matmul(X.T, dY)") == Matmul(T(X), dY)
    assert tree("np.transpose(X)") == T(X) == tree("X.transpose()")
    assert tree("X.T @ dout") == Prod(T(X), dY) == tree("X.T @ grad_out")
    assert tree("np.sum(dY, axis=0)") == Reduce("sum", dY, 0)
    assert tree("dY.sum(axis=0, keepdims=True)") == Reduce("sum", dY, 0, True)
    assert tree("sum(dY, 1)") == Reduce("sum", dY, 1)
    assert tree("dY.sum()") == Reduce("sum", dY, None)
    assert tree("dY.sum(0)") == Reduce("sum", dY, 0)
    assert tree("np.mean(dY, axis=-2, keepdims=False)") == Reduce("mean", dY, -2)
    assert tree("np.ones(N)") == NpOnes((Size("n", "N"),))
    assert tree("ones((N, 1))") == NpOnes((Size("n", "N"), Scalar(Fraction(1))))
    assert tree("dY.reshape(-1, 1)") == Reshape(
        dY, (Neg(Scalar(Fraction(1))), Scalar(Fraction(1)))
    )


def test_spans_point_into_the_text() -> None:
    formula = parse("2 * (X.T @ dY)", Names.for_config(XW))
    assert isinstance(formula.tree, Elementwise)
    assert formula.source(formula.tree.right) == "(X.T @ dY)"
    assert parse("X.T @ dY * N / 2", Names.for_config(XW)).literals() == {1, 2}
    assert parse("X.T @ dY * 0.25", Names.for_config(XW)).literals() == {1, 4}


def test_names_of_each_convention() -> None:
    torch = Names.for_config(Config(convention="torch"))
    assert torch.matrices["x"] == torch.matrices["X"] == "X"
    assert torch.matrices["y"] == "Y"
    assert torch.matrices["dy"] == torch.matrices["dout"] == "dY"
    column = Names.for_config(Config(convention="column"))
    assert {column.matrices[k] for k in ("A", "Z", "dLdZ")} == {"X", "Y", "dY"}
    assert column.matrices["dZ"] == column.matrices["grad_out"] == "dY"
    assert column.sizes["C_in"] == "d" and column.sizes["D"] == "d"
    assert column.sizes["C_out"] == "m"
    assert "names A, W, b, Z, dLdZ, T, X, Y, dY" in column.describe()


def test_display_letters_win_over_role_names_and_aliases() -> None:
    names = Names.for_config(Config(names={"X": "W", "W": "V"}))
    assert names.matrices["W"] == "X" and names.matrices["V"] == "W"
    names = Names.for_config(Config(names={"X": "dout"}))
    assert names.matrices["dout"] == "X" and names.matrices["dy"] == "dY"


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
        ("X[0]", "integer indices are not supported", 3),
        ("X.size", "unexpected '.size' at column 2", 2),
        ("X.T()", "can be called", 4),
        ("T(X)", "write X.T for a transpose", 2),
        ("np.linalg.inv(X)", "of numpy and torch only sum, mean, ones", 1),
        ("np.exp(X)", "'np.exp' at column 1", 1),
        ("np", "numpy functions are called as np.sum", 1),
        ("X ** 2", "powers are not supported", 3),
        ("X // 2", "floor division is not supported", 3),
        ("X; W", "write a single formula", 2),
        ("X.T @", "end of formula at column 6", 6),
        ("(X.T @ dY", "expected ')' to close '(' at column 1", 10),
        ("X.T @ dY)", "no matching '('", 9),
        ("X dY", "operator such as @", 3),
        ("2X", "write 2*X", 1),
        ("2e", "write 2*e", 1),
        ("X.T @ DY", "did you mean 'dY'?", 7),
        ("x_1_1 * 2", "single entries cannot be named", 1),
        ("ones", "ones must be called", 1),
        ("ones(N, dtype=1)", "takes no keyword 'dtype'", 9),
        ("sum(dY, axis=2)", "the axis is 0, 1, -1, -2 or None", 1),
        ("dY.sum(keepdims=1)", "keepdims is True or False", 8),
        ("dY.sum(axis=0, out=X)", "takes no keyword 'out'", 16),
        ("np.sum(dY, 0, axis=0)", "axis is given twice", 15),
        ("np.sum(axis=0, dY)", "a positional argument cannot follow", 16),
        ("np.dot(X)", "takes 2 positional arguments, not 1", 4),
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
    # one line, without the whole grammar (Gradescope shows it to the student)
    assert "allowed:" not in message and "\n" not in message and len(message) < 260


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
    assert time.perf_counter() - start < 5  # generous: a bounded refusal, not a goal
    assert tree("X" + " " * (MAX_LENGTH - 1)) == X
    deep = "(" * MAX_DEPTH + "X" + ")" * MAX_DEPTH
    assert tree(deep) == X
    with pytest.raises(FormulaLimitError, match="nested too deeply at column 51"):
        tree("(" + deep + ")")
    with pytest.raises(FormulaLimitError, match="nested too deeply"):
        tree("-" * (MAX_DEPTH + 1) + "X")
    with pytest.raises(FormulaLimitError, match="too deeply"):
        tree("sum(" * 60 + "X" + ")" * 60)
    assert tree("X * 1000000") == Elementwise("*", X, Scalar(Fraction(10**6)))
    with pytest.raises(FormulaLimitError, match="number 1000001 at column 5"):
        tree("X * 1000001")
    with pytest.raises(FormulaLimitError, match="out of range"):
        tree("9" * 400)
    with pytest.raises(FormulaLimitError, match="exponents go from -12 to 12"):
        tree("X * 1e-999999999")
    with pytest.raises(FormulaLimitError, match="at most 12 decimals"):
        tree("X * 0." + "0" * 12 + "1")


def test_long_flat_formulas_do_not_overflow_the_stack() -> None:
    # Within 500 characters a formula can be ~250 operations long; no RecursionError.
    assert shape("X" + "+X" * 199) == "N×D (2×3)"
    assert shape("X" + ".T" * 249) == "D×N (3×2)"
    assert value("X" + ".T" * 248) == matrix("x", 2, 3)


def test_too_much_work_is_refused_before_computing() -> None:
    big = Config(n=16, d=16, m=16)
    start = time.perf_counter()
    with pytest.raises(FormulaLimitError, match="too large to check at N=16, D=16"):
        shape("X.T @ dY @ W.T @ X.T @ dY @ W.T @ X.T @ dY", big)
    with pytest.raises(FormulaLimitError, match="too large"):
        shape("ones(1000000)")
    with pytest.raises(FormulaLimitError, match="too large"):
        shape("np.sum(" + "(dY + dY) * " * 20 + "dY)")
    assert time.perf_counter() - start < 5  # generous: a bounded refusal, not a goal


# -- shapes follow numpy ----------------------------------------------------------------------
def test_shapes_with_their_names() -> None:
    assert shape("X.T @ dY") == "D×M (3×4)"
    assert shape("dY @ W.T") == "N×D (2×3)"
    assert shape("sum(dY, axis=0)") == "1-D of length M (4)"
    assert shape("sum(dY, axis=0, keepdims=True)") == "1×M (1×4)"
    assert shape("sum(dY, axis=1)") == "1-D of length N (2)"
    assert shape("sum(dY, axis=-1, keepdims=True)") == "N×1 (2×1)"
    assert shape("np.sum(dY)") == "a scalar"
    assert shape("sum(dY)") == "1-D of length M (4)"  # Python's sum adds the rows
    assert shape("np.ones(N)") == "1-D of length N (2)"
    assert shape("np.ones((N, 1))") == "N×1 (2×1)"
    assert shape("ones((1, 3))") == "1×3"
    assert shape("N / 2") == "a scalar"
    assert shape("dLdZ.T @ A", Config(convention="column")) == "C_out×C_in (3×2)"
    assert shape("dY.reshape(-1, 1)") == "8×1"
    assert shape("np.sum(dY, axis=0).reshape(1, -1)") == "1×M (1×4)"


@pytest.mark.parametrize(
    "text",
    [
        "np.sum(dY, axis=0)",
        "np.sum(dY, axis=0).T",
        "np.sum(dY.T, axis=1)",
        "np.sum(dY, axis=0, keepdims=True)",
        "np.sum(dY, axis=0, keepdims=True).T",
        "np.sum(dY, axis=1)",
        "np.mean(dY, axis=0)",
        "np.ones(N) @ dY",
        "dY.T @ np.ones(N)",
        "np.ones(N) @ np.ones(N)",
        "np.ones((N, 1)).T @ dY",
        "dY + np.sum(dY, axis=0)",
        "dY * np.sum(dY, axis=1, keepdims=True)",
        "np.sum(dY, axis=0) * np.ones((3, 1))",
        "np.sum(np.sum(dY, axis=0))",
        "dY.reshape(-1, 1)",
        "X.T.dot(dY)",
        "np.dot(2, X)",
        "X.T @ dY - 1",
        "np.transpose(np.sum(dY, axis=0))",
    ],
)
def test_shapes_are_numpys_own(text: str) -> None:
    """Run the same formula through numpy on numbers: the shapes agree exactly."""
    rng = np.random.default_rng(0)
    arrays = {
        "X": rng.normal(size=(2, 3)),
        "W": rng.normal(size=(3, 4)),
        "dY": rng.normal(size=(2, 4)),
    }
    namespace = {"np": np, "N": 2, "ones": np.ones, **arrays}
    numeric = _numpy_eval(text, namespace)
    assert npshape(text) == np.shape(numeric)


def _numpy_eval(text: str, namespace: dict[str, Any]) -> Any:
    """numpy's answer, for the test only (trusted, fixed text)."""
    code = compile(text, "<formula>", "eval")
    return eval(code, {"__builtins__": {}}, namespace)  # noqa: S307 - test oracle


def test_literal_one_is_a_ones_vector_only_where_its_length_is_clear() -> None:
    assert shape("1.T @ dY") == "1×M (1×4)"
    assert shape("dY.T @ 1") == "M×1 (4×1)"
    assert shape("(1).T @ dY") == "1×M (1×4)"
    assert shape("2 * 1") == "a scalar"
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
    with pytest.raises(FormulaShapeError, match=r"cannot add N×D \(2×3\) and D×M"):
        shape("X + W")
    with pytest.raises(FormulaShapeError, match="cannot multiply elementwise"):
        shape("X.T * dY")
    with pytest.raises(
        FormulaShapeError, match="np.sum along axis 0, but its argument is a scalar"
    ):
        shape("sum(N, axis=0)")
    with pytest.raises(
        FormulaShapeError, match="along axis 1, but its argument is 1-D"
    ):
        shape("np.sum(np.sum(dY, axis=0), axis=1)")
    with pytest.raises(FormulaShapeError, match="cannot reshape"):
        shape("dY.reshape(3, -1)")
    with pytest.raises(FormulaShapeError, match="np.ones\\(N\\) has D=3 entries"):
        shape("X.T @ np.ones(N) @ dY")


def test_division_and_ones_take_numbers_and_sizes_only() -> None:
    with pytest.raises(FormulaError, match="divides by a number or a size only"):
        shape("X / W")
    with pytest.raises(FormulaError, match="'sum\\(dY\\)' is not one"):
        shape("X / sum(dY)")
    with pytest.raises(FormulaShapeError, match="divides by zero at N=2"):
        shape("X / (N - 2)")
    with pytest.raises(FormulaError, match="np.ones\\(...\\) takes sizes"):
        shape("ones(X)")
    with pytest.raises(FormulaError, match="takes sizes"):
        shape("ones(N / 4)")
    with pytest.raises(FormulaError, match="a tuple is only a shape"):
        shape("(X, W)")


# -- values: symderiv's own algebra, checked against sympy ----------------------------------
def test_values_are_exact_in_the_canonical_symbols() -> None:
    X_, W_, dY_ = matrix("x", 2, 3), matrix("w", 3, 4), matrix("dy", 2, 4)
    b = sp.ImmutableMatrix([[sp.Symbol(f"b_{j}") for j in (1, 2, 3, 4)]])
    assert value("X.T @ dY") == X_.T @ dY_ == value("np.dot(X.T, dY)")
    assert (
        value("0.5 * X")
        == X_ / 2
        == value("X / 2")
        == value("X / N")
        == value("X * 5e-1")
    )
    assert value("-X + X") == sp.zeros(2, 3)
    row = sp.ones(1, 2) @ dY_
    assert (
        value("sum(dY, axis=0)") == row == value("1.T @ dY") == value("np.ones(N) @ dY")
    )
    assert value("np.mean(dY, axis=0)") == row / 2
    assert value("sum(dY, axis=1)") == (dY_ @ sp.ones(4, 1)).T  # 1-D, held as a row
    assert (
        value("sum(dY, axis=1, keepdims=True)")
        == dY_ @ sp.ones(4, 1)
        == value("dY @ 1")
    )
    assert value("np.sum(dY)") == sp.ImmutableMatrix([[sum(dY_)]])
    assert value("sum(dY)") == row
    assert value("Y") == X_ @ W_ + sp.ones(2, 1) @ b
    assert value("dY + b") == dY_ + sp.ones(2, 1) @ b
    assert value("dY * sum(dY, axis=1, keepdims=True)") == dY_.multiply_elementwise(
        (dY_ @ sp.ones(4, 1)) @ sp.ones(1, 4)
    ).applyfunc(sp.expand)
    assert value("X + 1") == X_ + sp.ones(2, 3)
    assert value("N * M") == sp.ImmutableMatrix([[8]])
    assert value("dY.reshape(1, -1)") == dY_.reshape(1, 8)


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


@pytest.mark.parametrize(
    "module",
    [
        "check/__init__.py",
        "check/grammar.py",
        "check/shapes.py",
        "check/values.py",
        "check/verdict.py",
        "grade.py",
        "cli/check.py",
    ],
)
def test_source_never_calls_an_evaluator(module: str) -> None:
    root = Path(check_package.__file__).parent.parent
    names = set(_code_names(root / module))
    allowed = {"parse"} if module != "cli/check.py" else set()  # our own parse()
    assert not (names & (FORBIDDEN - allowed))
    if module != "grade.py":  # grade.function parses (never runs) a student's source
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


def test_the_work_bound_grows_with_the_sizes_so_64_cubed_is_checked() -> None:
    # The size guard bounds N·D·M; the formula's own bound admits a right answer there.
    big = Config(n=64, d=64, m=64)
    assert shape("X.T @ dY", big) == "D×M (64×64)"
    assert shape("np.dot(X.T, dY) * 2 - X.T @ dY", big) == "D×M (64×64)"
    with pytest.raises(FormulaLimitError, match="too large to check"):
        shape("X.T @ dY @ dY.T @ X @ W", big)
