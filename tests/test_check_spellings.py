"""``symderiv check`` reads sizes, list shapes and new axes as course code writes them.

``X.shape[0]``, ``len(X)`` and a whole ``X.shape`` are read off the operand at every size
triple checked; ``np.ones([1, N])`` takes a list; ``E[None, :]``, ``E[:, np.newaxis]``
add axes. Each spelling is right where numpy makes it right and wrong where numpy makes it
wrong, in every convention, and numpy itself is the oracle of shapes, values and errors.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symderiv.algebra import Poly
from symderiv.check import (
    Env,
    FormulaLimitError,
    FormulaShapeError,
    FormulaSyntaxError,
    Names,
    check_formula,
    evaluate,
    parse,
)
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import FormulaError

SIZES = [(2, 3, 4), (2, 2, 3), (1, 1, 1)]

RIGHT: dict[str, dict[str, list[str]]] = {
    "xw": {
        "b": [
            "np.ones((1, dY.shape[0])) @ dY",
            "np.ones((1, len(dY))) @ dY",
            "np.ones([1, N]) @ dY",
            "np.ones(X.shape[0]) @ dY",
            "np.ones((X.shape[0], 1)).T @ dY",
            "dY.T @ np.ones(len(X))",
            "dY.sum(axis=0)[np.newaxis, :]",
            "dY.sum(axis=0)[numpy.newaxis, :]",
            "dY.sum(axis=0)[None, :]",
            "dY.sum(axis=0)[None]",
            "dY.sum(axis=0)[np.newaxis]",
            "dY.sum(axis=0)[None,]",
            "dY.sum(axis=0, keepdims=True)[:, :]",
            "dY.sum(axis=0).reshape([1, -1])",
            "dY.sum(axis=0).reshape(b.shape)",
            "np.reshape(dY.sum(axis=0), b.shape)",
            "np.reshape(dY.sum(axis=0), [1, M])",
            "dY.mean(axis=0) * dY.shape[0]",
            "dY.mean(axis=0) * len(dY)",
            "np.sum(dY, axis=0) / X.shape[0] * N",
            "np.ones(dY.shape[-2]) @ dY",
        ],
        "W": [
            "X.reshape(X.shape[0], -1).T.dot(dY)",  # CS231n's affine_backward
            "X.reshape(len(X), -1).T @ dY",
            "X.T @ dY * X.shape[0] / N",
            "(dY.T @ X).T.reshape(W.shape)",
            "X.T @ dY.reshape(dY.shape)",
        ],
        "X": [
            "(dY @ W.T).reshape(X.shape)",
            "np.reshape(dY.dot(W.T), X.shape)",
            "dY @ W.T / dY.shape[1] * W.shape[-1]",
        ],
    },
    "torch": {
        "b": [
            "dY.sum(0)[None]",
            "dy.sum(dim=0)[None, :]",
            "torch.ones(dY.shape[0]) @ dY",
            "torch.ones(1, x.shape[0]) @ dY",
            "torch.ones([1, len(x)]).mm(dY)",
            "dY.sum(0).reshape(b.shape)",
            "torch.reshape(dY.sum(0), [1, -1])",
        ],
        "W": ["dY.t() @ x.reshape(len(x), -1)", "dY.T @ X / X.shape[0] * N"],
        "X": ["(dY @ W).reshape(X.shape)", "dY.mm(W).reshape(x.shape[0], x.shape[1])"],
    },
    "column": {
        "b": [
            "dLdZ.sum(axis=0)[:, None]",
            "dLdZ.sum(axis=0)[:, np.newaxis]",
            "dLdZ.T @ np.ones((dLdZ.shape[0], 1))",
            "dLdZ.T @ np.ones([N, 1])",
            "dLdZ.T @ np.ones([len(A), 1])",
            "dLdZ.sum(axis=0).reshape([-1, 1])",
            "dLdZ.sum(axis=0).reshape(b.shape)",
            "np.ones((1, A.shape[0])).dot(dLdZ).T",
        ],
        "X": ["dLdZ @ W", "(dLdZ @ W).reshape(A.shape)"],
        "W": ["dLdZ.T @ A", "dLdZ.T @ A.reshape(A.shape[0], -1)"],
    },
    "wx": {
        "b": [
            "dY.sum(axis=1)[:, None]",
            "dY.sum(axis=1)[:, np.newaxis]",
            "dY @ np.ones((dY.shape[1], 1))",
            "dY @ np.ones([N, 1])",
            "dY @ np.ones((X.shape[-1], 1))",
            "np.sum(dY, axis=1).reshape(b.shape)",
            "dY.sum(axis=1, keepdims=True) / X.shape[1] * N",
        ],
        "W": ["dY @ X.T", "dY @ X.reshape(len(X), -1).T"],
        "X": ["W.T @ dY", "(W.T @ dY).reshape(X.shape)"],
    },
}
RIGHT_CASES = [
    (convention, var, text)
    for convention, table in RIGHT.items()
    for var, texts in table.items()
    for text in texts
]


@pytest.mark.parametrize(("convention", "var", "text"), RIGHT_CASES)
def test_right_spellings_pass_in_every_convention(
    convention: str, var: str, text: str
) -> None:
    for n, d, m in SIZES:
        result = check_formula(Config(n=n, d=d, m=m, convention=convention), var, text)
        assert result.ok, result.message
        assert len(result.sizes) >= 5  # and at the further triples


#: Wrong spellings: (convention, variable, formula, reason, a phrase of the message).
WRONG = [
    # the wrong axis's size
    ("xw", "b", "np.ones((1, dY.shape[1])) @ dY", "shape", "cannot multiply"),
    ("xw", "b", "np.ones(len(dY.T)) @ dY", "shape", "cannot multiply"),
    ("xw", "b", "np.ones([1, M]) @ dY", "shape", "cannot multiply"),
    ("xw", "b", "dY.sum(axis=1)[None, :]", "shape", "1×N"),
    ("xw", "b", "dY.sum(axis=0)[:, None]", "transpose", "M×1"),
    ("xw", "b", "dY.sum(axis=0) / X.shape[0]", "scale", "1/N at N=2"),
    ("xw", "b", "dY.mean(axis=0) * dY.shape[1]", "scale", "M/N"),
    ("xw", "b", "dY.sum(axis=0).reshape(X.shape)", "shape", "cannot reshape"),
    ("xw", "W", "X.T @ dY / len(X)", "scale", "1/N"),
    ("xw", "X", "(dY @ W.T).reshape(X.shape[1], -1)", "shape", "D×N"),
    ("xw", "b", "X.shape[2]", "shape", "has no index 2 (numpy: IndexError)"),
    ("xw", "b", "dY.sum(axis=0).shape[-2]", "shape", "has no index -2"),
    ("xw", "b", "len(np.sum(dY))", "shape", "a scalar, which has no len()"),
    ("xw", "b", "len(N) * dY.sum(0)", "shape", "N is a number, which has no len()"),
    ("xw", "b", "np.ones(N.shape)", "shape", "N is a number, which has no .shape"),
    ("xw", "b", "dY.sum(0) * N[None]", "shape", "cannot be subscripted"),
    ("xw", "b", "dY.sum(0)[:, :]", "shape", "too many indices"),
    ("torch", "b", "dY.sum(1)[None]", "shape", "1×N"),
    ("torch", "b", "torch.ones(x.shape[1]) @ dY", "shape", "cannot multiply"),
    ("torch", "b", "b.shape[1] * dY.sum(0)", "shape", "has no index 1"),
    ("torch", "W", "dY.T @ x / x.shape[0]", "scale", "1/N"),
    ("column", "b", "dLdZ.sum(axis=0)[None, :]", "transpose", "1×C_out"),
    ("column", "b", "dLdZ.sum(axis=1)[:, None]", "shape", "N×1"),
    ("column", "b", "dLdZ.T @ np.ones((dLdZ.shape[1], 1))", "shape", "cannot"),
    ("column", "b", "dLdZ.T @ np.ones([1, N])", "shape", "cannot multiply"),
    ("wx", "b", "dY.sum(axis=0)[:, None]", "shape", "N×1"),
    ("wx", "b", "dY @ np.ones((dY.shape[0], 1))", "shape", "cannot multiply"),
    ("wx", "b", "dY.sum(axis=1)[None, :]", "transpose", "1×M"),
    ("wx", "b", "dY @ np.ones([N, 1]) / X.shape[0]", "scale", "1/D"),
    ("wx", "X", "(W.T @ dY).reshape(X.shape[1], -1)", "shape", "N×D"),
]


@pytest.mark.parametrize(("convention", "var", "text", "reason", "phrase"), WRONG)
def test_wrong_spellings_fail_with_their_reason(
    convention: str, var: str, text: str, reason: str, phrase: str
) -> None:
    result = check_formula(Config(n=2, d=3, m=4, convention=convention), var, text)
    assert not result.ok
    assert (result.reason, phrase in result.message) == (reason, True), result.message


def test_a_size_read_off_an_operand_follows_every_triple() -> None:
    """Right at N = D only: D read where N belongs is caught at the other triples."""
    config = Config(n=2, d=2, m=3)
    for text in (
        "np.ones((1, X.shape[1])) @ dY",
        "np.ones(len(W)) @ dY",
        "np.ones((1, dY.shape[0])) @ dY * 2 / dY.shape[0]",  # 2 / N is 1 at N = 2
    ):
        result = check_formula(config, "b", text)
        assert result.reason == "sizes", result.message
        assert result.message.startswith(f"∂L/∂b = {text} is right at N=2, D=2, M=3")
    # and a right one is right at each of the further triples, not only the first
    right = check_formula(config, "b", "np.ones((1, dY.shape[0])) @ dY")
    assert right.ok and len(set(right.sizes)) == len(right.sizes) >= 5


def test_dividing_by_a_shape_is_dividing_by_the_size() -> None:
    result = check_formula(Config(n=3, d=4, m=5), "b", "dY.sum(axis=0) / X.shape[0]")
    assert result.reason == "scale"
    assert result.hint == (
        "it is 1/3 times the right answer, 1/N at N=3 (a mean where a sum belongs?)"
    )
    fixed = check_formula(Config(), "b", "dY.sum(axis=0) / X.shape[0] * len(X)")
    assert fixed.ok, fixed.message
    with pytest.raises(FormulaError, match="may be zero at some sizes"):
        check_formula(Config(), "b", "dY.sum(axis=0) / (X.shape[0] - 1)")


# -- numpy as the oracle: shapes, values and errors ---------------------------------------
ORACLE = [
    "dY.shape[0] * dY",
    "dY / dY.shape[-1]",
    "len(dY) + X.shape[1]",
    "np.ones((X.shape[0], 1))",
    "np.ones([1, dY.shape[1]]) @ dY.T",
    "np.ones(X.shape)",
    "np.ones(b.shape) + b",
    "dY.reshape(X.shape[0], -1)",
    "dY.reshape([-1, 1])",
    "dY.reshape(dY.shape)",
    "np.reshape(b, b.shape)",
    "X[None]",
    "X[:, None]",
    "X[None, :]",
    "X[:, :, None]",
    "X[:, np.newaxis]",
    "X[np.newaxis, :, :]",
    "b[None]",
    "b[:, None]",
    "b[None, :]",
    "b[:, :]",
    "b[:]",
    "dY.sum(0)[None]",
    "dY.sum(0)[:, None]",
    "dY.sum(0)[None, None]",
    "dY.sum(0)[:, None] * dY.sum(1)[None, :]",
    "np.sum(dY)[None]",
    "np.sum(dY)[None, None] @ np.ones((1, 2))",
    "np.sum(dY)[:]",
    "X.shape[2]",
    "X.shape[-3]",
    "b.shape[1]",
    "len(b)",
    "len(np.sum(dY))",
    "np.sum(dY).shape[0]",
    "X.T[:, None]",
    "dY.sum(axis=0)[None, :] @ W.T",
]


def _arrays(
    config: Config,
) -> tuple[Env, dict[str, Poly], dict[str, Any]]:
    """The Env of ``config``, entry name -> a number, and each name a formula may use ->
    its numpy array (or size) at those numbers."""
    env = Env.from_config(config)
    assert env.layer is not None
    rng = np.random.default_rng(7)
    point: dict[str, Poly] = {}
    for role in ("X", "W", "b", "dY"):
        for _, _, entry in env.layer.matrix(role).nonzeros():
            for atom in entry.atoms():
                point.setdefault(atom, Poly.const(int(rng.integers(-5, 6))))
    names = Names.for_config(config)
    held = {}
    for role in ("X", "W", "b", "Y", "dY"):
        matrix = env.layer.matrix(role).subs(point)
        numbers = [[_number(matrix[i, j]) for j in range(matrix.cols)] for i in
                   range(matrix.rows)]  # fmt: skip
        shape = tuple(dim.size for dim in env.shape(role))
        held[role] = np.array(numbers, dtype=float).reshape(shape)
    scope: dict[str, Any] = {
        k: held[role] for k, role in names.matrices.items() if role in held
    }
    scope.update({k: env.size(key) for k, key in names.sizes.items()})
    return env, point, scope


def _number(entry: Poly) -> float:
    value = entry.constant()
    return 0.0 if value is None and entry.is_zero() else float(value or 0)


def _agree_with_numpy(convention: str, text: str) -> None:
    """check reads ``text`` as numpy computes it: the same shape and values, or a shape
    error where numpy raises. Where numpy builds an array of more than 2-D on the way,
    check may say so instead (it works with at most 2-D), never a value."""
    config = Config(n=2, d=3, m=4, convention=convention)
    env, point, scope = _arrays(config)
    formula = parse(text, Names.for_config(config))
    try:  # trusted test text, evaluated by numpy itself: what check must agree with
        expected = np.asarray(eval(text, {"np": np, "numpy": np, "len": len}, scope))
    except (IndexError, TypeError, ValueError, AttributeError):
        with pytest.raises((FormulaShapeError, FormulaError)) as raised:
            evaluate(formula, env)
        if not isinstance(raised.value, FormulaShapeError):  # more than 2-D first
            assert "check works with arrays of at most 2 dim" in str(raised.value)
        return
    try:
        got = evaluate(formula, env)
    except FormulaError as exc:  # not graded, never a wrong answer
        assert "check works with arrays of at most 2 dimensions" in str(exc), text
        return
    assert got.shape == expected.shape, text
    matrix = got.matrix.subs(point)
    numbers = [_number(matrix[i, j]) for i in range(matrix.rows) for j in
               range(matrix.cols)]  # fmt: skip
    assert np.allclose(np.array(numbers).reshape(expected.shape), expected), text


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
@pytest.mark.parametrize("text", ORACLE)
def test_numpy_is_the_oracle_of_shapes_values_and_errors(
    convention: str, text: str
) -> None:
    _agree_with_numpy(convention, text)


#: Operands, and what a formula may do to an operand E, as {} (the new spellings mixed).
BASES = ["X", "W", "b", "dY", "dY.sum(0)", "np.sum(dY, axis=1)", "np.sum(dY)"]
STEPS = [
    "{}[None]",
    "{}[:, None]",
    "{}[None, :]",
    "{}[:]",
    "{}[np.newaxis, :, np.newaxis]",
    "{}.T",
    "{}.reshape([1, -1])",
    "{}.reshape(-1, {}.shape[0])",
    "np.ones(({}.shape[0], 1))",
    "np.ones([1, len({})])",
    "np.ones({}.shape)",
    "{} * {}.shape[-1]",
    "{} / len({})",
    "({} @ X)",
    "(dY @ {})",
    "({} + b)",
]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    st.sampled_from(["xw", "torch", "column", "wx"]),
    st.sampled_from(BASES),
    st.lists(st.sampled_from(STEPS), max_size=4),
)
def test_random_spellings_agree_with_numpy(
    convention: str, base: str, steps: list[str]
) -> None:
    text = base
    for step in steps:
        text = step.replace("{}", f"({text})")
    assume(len(text) <= 500)  # the length limit (a step may hold E twice)
    _agree_with_numpy(convention, text)


# -- refused: one line, saying what a subscript may hold ----------------------------------
RULE = "a subscript holds only ':' (a whole axis) and None or np.newaxis (a new axis)"


@pytest.mark.parametrize(
    ("text", "needle", "column"),
    [
        ("X[0]", "unexpected '0' at column 3: integer indices are not supported", 3),
        ("X[-1]", "integer indices are not supported", 3),
        ("X[:, 0]", "integer indices are not supported", 6),
        ("X[0:2]", "slices with bounds are not supported", 3),
        ("X[-1:]", "slices with bounds are not supported", 3),
        ("X[:2]", "slices with bounds or a step are not supported", 4),
        ("X[::2]", "slices with bounds or a step are not supported", 4),
        ("X[[0, 1]]", "index lists are not supported", 3),
        ("X[...]", "'...' is not supported", 3),
        ("X[..., None]", "'...' is not supported", 3),
        ("X[True]", "this index is not supported", 3),
        ("X[N]", "this index is not supported", 3),
        ("X[torch.newaxis]", "this index is not supported", 3),
        ("X[]", "unexpected ']' at column 3", 3),
    ],
)
def test_refused_subscripts_say_what_is_allowed(
    text: str, needle: str, column: int
) -> None:
    with pytest.raises(FormulaSyntaxError) as caught:
        parse(text, Names.for_config(Config()))
    assert needle in str(caught.value)
    if "index" in needle or "slices" in needle or "'...'" in needle:
        assert RULE in str(caught.value)
    assert caught.value.column == column


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("X.shape[0:1]", "E.shape takes one whole-number index, as in X.shape[0]"),
        ("X.shape[N]", "E.shape takes one whole-number index"),
        ("X.shape[1.5]", "E.shape takes one whole-number index"),
        ("X.shape[:]", "E.shape takes one whole-number index"),
        ("X[None", "expected ']' to close '['"),
        ("X : W", "':' only appears in a subscript"),
        ("X]", "this ']' has no matching '['"),
        ("X * np.newaxis", "np.newaxis only appears in a subscript"),
        ("len(X, 1)", "len(...) takes 1 positional argument, not 2"),
        ("len(X, axis=0)", "takes no keyword 'axis'"),
        ("np.len(X)", "of numpy and torch only sum, mean"),
        ("np.reshape(X, N, D)", "reshape(...) takes 2 positional arguments, not 3"),
        ("np.reshape(X)", "reshape needs a shape"),
        ("X.size", "unexpected '.size'"),
    ],
)
def test_other_misuses_are_refused_in_one_line(text: str, needle: str) -> None:
    with pytest.raises(FormulaSyntaxError, match=None) as caught:
        parse(text, Names.for_config(Config()))
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("X.shape", "a shape is only an argument, as in np.ones(X.shape)"),
        ("X.shape @ dY", "a shape is only an argument"),
        ("[N, 1]", "a list is only a shape"),
        ("dY * [1, 2]", "a list is only a shape"),
        ("np.ones([X.shape, 1])", "a shape is only an argument"),
    ],
)
def test_a_shape_is_only_an_argument(text: str, needle: str) -> None:
    with pytest.raises(FormulaError) as caught:
        check_formula(Config(), "b", text)
    assert needle in str(caught.value) and caught.value.exit_code == 2


# -- limits --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("np.ones(" + "[" * 60 + "N" + "]" * 60 + ")", "nested too deeply"),
        ("(" * 55 + "dY.sum(0)[None, :]" + ")" * 55, "nested too deeply"),
        ("len(" * 60 + "X" + ")" * 60, "nested too deeply"),
        ("np.ones(X.shape[" + "9" * 7 + "])", "out of range"),
        ("np.ones([X.shape[0] * 999999, 1])", "too large"),
    ],
    ids=["60 nested lists", "55 parentheses", "60 len", "index", "ones"],
)
def test_limits_hold_for_subscripts_and_sizes(text: str, needle: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaLimitError, match=needle):
        check_formula(Config(), "b", text)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("X" + "[None]" * 80, "X[None] is 3-D, (1, 2, 2): check works with"),
        ("dY" + "[:, None]" * 50, "dY[:, None] is 3-D, (2, 1, 3)"),
        ("X" + ".shape[0]" * 50, "X.shape[0] is a number, which has no .shape"),
    ],
    ids=["80 new axes", "50 subscripts", "50 shapes"],
)
def test_long_chains_stop_at_their_first_bad_link(text: str, needle: str) -> None:
    # past 2-D check cannot grade it (FormulaError, exit 2); a number's .shape is wrong
    start = time.perf_counter()
    try:
        message = check_formula(Config(), "b", text).message
    except FormulaError as exc:
        message = str(exc)
    assert needle in message, message
    assert time.perf_counter() - start < 5


def test_a_long_chain_of_whole_axes_is_the_array_itself() -> None:
    text = "dY.sum(axis=0, keepdims=True)" + "[:]" * 150
    assert len(text) <= 500 and check_formula(Config(), "b", text).ok


# -- the CLI -------------------------------------------------------------------------------
def test_cli_reads_the_spellings_and_says_json(runner: CliRunner) -> None:
    for text in (
        "np.ones((1, dY.shape[0])) @ dY",
        "np.ones((1, len(dY))) @ dY",
        "np.ones([1, N]) @ dY",
        "dY.sum(axis=0)[np.newaxis, :]",
        "dY.sum(axis=0)[None, :]",
    ):
        result = runner.invoke(cli, ["check", "--wrt", "b", text])
        assert result.exit_code == 0 and result.stdout.startswith("✓ "), result.output
    wrong = runner.invoke(
        cli, ["check", "--wrt", "b", "--format", "json", "dY.sum(axis=0) / X.shape[0]"]
    )
    assert wrong.exit_code == 1
    data = json.loads(wrong.stdout)
    assert (data["ok"], data["gradable"], data["reason"]) == (False, True, "scale")
    assert "1/N at N=2" in data["hint"] and data["got_shape"] == [4]
    right = runner.invoke(
        cli,
        ["check", "--convention", "column", "--wrt", "b", "--format", "json",
         "dLdZ.sum(axis=0)[:, np.newaxis]"],
    )  # fmt: skip
    assert right.exit_code == 0 and json.loads(right.stdout)["ok"] is True


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("X[0]", "integer indices are not supported; a subscript holds only ':'"),
        ("dY[1:, :]", "slices with bounds are not supported"),
        ("dY[[0, 1]]", "index lists are not supported"),
    ],
)
def test_cli_refused_subscripts_exit_2_in_one_line(
    runner: CliRunner, text: str, needle: str
) -> None:
    result = runner.invoke(cli, ["check", "--wrt", "b", text])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and needle in result.stderr
    json_result = runner.invoke(cli, ["check", "--wrt", "b", "--format", "json", text])
    data = json.loads(json_result.stdout)
    assert (data["gradable"], data["reason"]) == (False, "parse")
    assert needle in data["message"]
