"""check's grammar, round 2: the literal 1 in calls, positional keepdims, one-line parse
errors, and --names with underscores (deeplearning.ai's A_prev, dZ, m)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from symderiv.check import CheckConfig, check_formula
from symderiv.check.grammar import FormulaSyntaxError
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import DisplayNameError, FormulaError

# the wx names of deeplearning.ai's course: Z = W A_prev + b, samples as columns, m of them
DLAI = {"X": "A_prev", "Y": "Z", "dY": "dZ", "N": "m"}


def verdict(convention: str, var: str, text: str, **names: str) -> bool:
    """Whether ``text`` is right for ∂L/∂var (raises FormulaError when unreadable)."""
    config = CheckConfig(n=2, d=3, m=4, convention=convention, names=names)
    return check_formula(config, var, text).ok


# -- 1: the ones vector only beside @; in a call a 1 is the number the library has ---------
@pytest.mark.parametrize(
    ("convention", "text", "ok"),
    [
        ("wx", "dY @ 1", True),  # the extension of the maths, kept
        ("wx", "np.dot(dY, np.ones((N, 1)))", True),
        ("wx", "np.dot(dY, 1)", False),  # numpy: dY times 1, M×N: no false ✓
        ("wx", "dY.dot(1)", False),
        ("wx", "np.matmul(dY, 1)", False),  # numpy raises ValueError
        ("wx", "dY.matmul(1)", False),
        ("wx", "torch.matmul(dY, 1)", False),
        ("xw", "1.T @ dY", True),
        ("xw", "(1).T @ dY", True),
        ("xw", "np.dot(1, dY)", False),
        ("xw", "np.dot(np.ones(N), dY)", True),
        ("xw", "1 @ dY", False),
        ("column", "dY.T @ 1", True),
        ("column", "np.dot(dY.T, 1)", False),
        ("torch", "1.T @ dY", True),
        ("torch", "np.dot(1, dY)", False),
    ],
)
def test_one_in_a_call_is_a_number(convention: str, text: str, ok: bool) -> None:
    assert verdict(convention, "b", text) is ok


@pytest.mark.parametrize(
    ("convention", "text", "needle"),
    [
        ("wx", "torch.mm(dY, 1)", "torch raises TypeError"),
        ("wx", "dY.mm(1)", "torch raises TypeError"),
        ("xw", "torch.mm(1, dY)", "1 is a Python number"),
        ("torch", "torch.dot(1, dY)", "torch.dot takes two 1-D tensors"),
        ("xw", "torch.mm(1.T, dY)", "1.T is the ones row only beside the operator @"),
        ("xw", "np.dot(1.T, dY)", "has no .T (Python raises AttributeError)"),
        ("xw", "1.T.dot(dY)", "has no .T"),
        ("column", "np.matmul(1.T, dY).T", "has no .T"),
        ("xw", "np.sum(dY, axis=0) * 1.T", "has no .T"),
        ("xw", "N.T * np.sum(dY, axis=0) / N", "N is a Python number"),
    ],
)
def test_what_the_library_refuses_is_refused(
    convention: str, text: str, needle: str
) -> None:
    with pytest.raises(FormulaError) as caught:
        verdict(convention, "b", text)
    assert needle in str(caught.value)
    assert caught.value.exit_code == 2


def test_matmul_of_a_number_says_what_numpy_does() -> None:
    config = CheckConfig(n=2, d=3, m=4, convention="wx")
    result = check_formula(config, "b", "np.matmul(dY, 1)")
    assert not result.ok and "numpy raises ValueError" in result.message


# -- 3: keepdims by position, as each library takes it ------------------------------------
@pytest.mark.parametrize(
    ("convention", "text", "ok"),
    [
        ("xw", "torch.sum(dY, 0, True)", True),
        ("xw", "torch.sum(dY, 0, False)", True),
        ("xw", "torch.sum(dY, 1, True)", False),
        ("xw", "dY.sum(0, True)", True),
        ("xw", "np.sum(dY, 0, None, None, True)", True),
        ("xw", "np.sum(dY, 1, None, None, True)", False),
        ("xw", "np.sum(dY, None, None, None, True)", False),  # 1×1
        ("xw", "np.mean(dY, 0, None, None, True) * N", True),
        ("xw", "torch.mean(dY, 0, True)", False),  # a mean: 1/N times
        ("torch", "torch.sum(dY, 0, True)", True),
        ("torch", "torch.sum(dY, 0, True).T", False),  # M×1: not b's shape
        ("column", "torch.sum(dY, 0, True).T", True),
        ("column", "torch.sum(dY, 0, True)", False),  # 1×C_out, b is C_out×1
        ("column", "np.sum(dY, 0, None, None, True).T", True),
        ("column", "dY.sum(0, None, None, True).T", True),
        ("column", "np.sum(dY, 0, None, None, False)", False),  # 1-D
        ("wx", "np.sum(dY, 1, None, None, True)", True),
        ("wx", "torch.sum(dY, 1, True)", True),
        ("wx", "dY.sum(1, True)", True),
        ("wx", "np.sum(dY, 0, None, None, True)", False),
        ("wx", "dY.sum(1, None, keepdims=True)", True),
    ],
)
def test_positional_keepdims(convention: str, text: str, ok: bool) -> None:
    assert verdict(convention, "b", text) is ok


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("np.sum(dY, 0, True)", "takes True as its dtype, and raises TypeError"),
        ("np.sum(dY, 0, None, 1, True)", "takes 1 as its out, which must be None"),
        ("np.sum(dY, 0, None, None, None)", "keepdims is True or False"),
        ("np.sum(dY, 0, None, None, 1)", "keepdims is True or False"),
        ("torch.sum(dY, 0, 1)", "keepdim is True or False"),
        ("torch.sum(dY, 0, None, None, True)", "takes 1 to 3 positional arguments"),
        ("np.sum(dY, 0, None, None, True, 0)", "takes 1 to 5 positional arguments"),
        ("np.sum(dY, 0, None, None, True, keepdims=True)", "keepdims is given twice"),
        ("torch.sum(dY, 0, True, keepdim=True)", "keepdims is given twice"),
        ("np.sum(dY, True)", "the axis is 0, 1, -1, -2 or None"),
        ("sum(dY, 0, True)", "not True"),  # Python's sum takes no keepdims
        ("np.dot(True, dY)", "not True"),
        ("len(None) * dY", "not None"),
        ("np.sum(None)", "not None"),
        ("sum(dY, None)", "not None"),  # Python's sum(iterable, start) raises TypeError
    ],
)
def test_positional_arguments_refused(text: str, needle: str) -> None:
    with pytest.raises(FormulaSyntaxError) as caught:
        verdict("xw", "b", text)
    assert needle in str(caught.value)


# -- 4: parse errors in one line, without the whole grammar ---------------------------------
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("* X", "an operand is missing before it"),
        ("X @ @ dY", "an operand is missing before it"),
        ("= X", "'=' only appears inside a call"),
        ("Q.T @ dY", "the formula may use names X, W, b, Y, dY, T, sizes N, D, M"),
        (". X", "symderiv check --help lists what a formula may use"),
        ("", "the formula is empty; it may use names X, W"),
        ("X ² @ dY", "it looks like '2'"),
    ],
)
def test_parse_errors_are_one_short_line(text: str, needle: str) -> None:
    with pytest.raises(FormulaSyntaxError) as caught:
        verdict("xw", "W", text)
    message = str(caught.value)
    assert needle in message
    assert "allowed:" not in message and "\n" not in message and len(message) < 200


# -- 1: --names with underscores, in check only ------------------------------------------------
@pytest.mark.parametrize(
    ("var", "text", "ok"),
    [
        ("W", "np.dot(dZ, A_prev.T)", True),
        ("W", "1./m * np.dot(dZ, A_prev.T)", False),  # the course's own 1/m
        ("W", "np.dot(A_prev, dZ.T)", False),
        ("b", "np.sum(dZ, axis=1, keepdims=True)", True),
        ("b", "np.sum(dZ, axis=0, keepdims=True)", False),
        ("X", "np.dot(W.T, dZ)", True),
        ("X", "dA_prev = np.dot(W.T, dZ)", True),
        ("X", "np.dot(W, dZ)", False),
    ],
)
def test_deeplearning_ai_names(var: str, text: str, ok: bool) -> None:
    assert verdict("wx", var, text, **DLAI) is ok


def test_underscore_names_in_other_conventions() -> None:
    assert verdict("xw", "W", "X_in.T @ d_out", X="X_in", dY="d_out")
    assert not verdict("xw", "W", "d_out.T @ X_in", X="X_in", dY="d_out")
    assert verdict("torch", "W", "grad_y.T @ x_in", X="x_in", dY="grad_y")
    assert verdict("column", "X", "dLdZ @ W_lin", W="W_lin")
    assert not verdict("column", "X", "dLdZ @ W_lin.T", W="W_lin")


@pytest.mark.parametrize(
    "names",
    [
        {"X": "np"},
        {"X": "torch"},
        {"W": "sum"},
        {"X": "len"},
        {"X": "None"},
        {"X": "lambda"},
        {"N": "numpy"},
        {"X": "A__prev"},
        {"X": "A_"},
        {"X": "_A"},
        {"X": "A_prev", "W": "A_prev"},
        {"X": "A_prev", "N": "A_prev"},
        {"X": "N"},
    ],
)
def test_names_that_clash_are_refused(names: dict[str, str]) -> None:
    with pytest.raises(DisplayNameError):
        CheckConfig(names=names)


def test_the_delta_is_never_in_a_formula() -> None:
    assert CheckConfig(names={"delta": "Id", "X": "A_in"}).letters.X == "A_in"


def test_underscores_stay_out_of_every_other_config() -> None:
    """A printer's names reach LaTeX, where A_prev is a subscript: refused there."""
    with pytest.raises(DisplayNameError):
        Config(names={"X": "A_prev"})
    result = CliRunner().invoke(cli, ["derive", "--names", "X=A_prev"])
    assert result.exit_code == 2 and "not allowed" in result.output


def test_underscore_names_in_the_cli() -> None:
    runner = CliRunner()
    base = ["check", "--convention", "wx", "--names", "X=A_prev,Y=Z,dY=dZ,N=m"]
    right = runner.invoke(cli, [*base, "--wrt", "dA_prev", "np.dot(W.T, dZ)"])
    assert right.exit_code == 0 and "∂L/∂A_prev" in right.output
    wrong = runner.invoke(cli, [*base, "--wrt", "W", "--format", "json", "dZ @ A_prev"])
    assert wrong.exit_code == 1
    data = json.loads(wrong.output)
    assert data["ok"] is False and data["gradable"] is True
    refused = runner.invoke(cli, ["check", "--names", "X=np", "--wrt", "W", "X.T @ dY"])
    assert refused.exit_code == 2 and "not allowed in check" in refused.output


# -- 5: hints from the algebra: a mean over the wrong axis, Y where dY belongs --------------
def hint(convention: str, var: str, text: str) -> str:
    config = CheckConfig(n=2, d=3, m=4, convention=convention)
    result = check_formula(config, var, text)
    assert not result.ok
    return result.hint


@pytest.mark.parametrize(
    ("convention", "text", "needle"),
    [
        ("xw", "np.mean(dY, axis=1)", "sum over the batch, not a mean over axis 1"),
        (
            "torch",
            "dY.mean(dim=1)",
            "sum over the batch, not a mean over axis 1: a sum with dim=0",
        ),
        (
            "column",
            "np.mean(dY, axis=1, keepdims=True)",
            "a sum with axis=0; then add .T",
        ),
        ("wx", "np.mean(dY, axis=0, keepdims=True)", "a sum with axis=1"),
        (
            "xw",
            "np.mean(dY, axis=0)",
            "(a mean where a sum belongs?)",
        ),  # scale, as before
        ("column", "np.mean(dY, axis=0)", "a sum, not a mean"),
        ("wx", "np.mean(dY, axis=1)", "a sum, not a mean"),
        (
            "column",
            "np.sum(dY, axis=0)",
            "its entries are right, but numpy gives a 1-D",
        ),
        ("column", "np.sum(dY, axis=1)", "sum over the batch: axis=0; b is stored"),
    ],
)
def test_mean_hints(convention: str, text: str, needle: str) -> None:
    assert needle in hint(convention, "b", text)


@pytest.mark.parametrize(
    ("convention", "var", "text", "needle"),
    [
        ("xw", "W", "X.T @ Y", "did you mean dY? (Y is the layer's output"),
        ("xw", "X", "Y @ W.T", "did you mean dY?"),
        ("torch", "W", "y.T @ x", "did you mean dY? (y is the layer's output"),
        ("column", "b", "np.sum(Z, axis=0, keepdims=True).T", "did you mean dLdZ?"),
        ("wx", "W", "Y @ X.T", "did you mean dY?"),
    ],
)
def test_output_for_its_gradient(
    convention: str, var: str, text: str, needle: str
) -> None:
    assert needle in hint(convention, var, text)


def test_no_hint_that_is_not_a_fix() -> None:
    """Y for dY is named only when that alone makes it right."""
    assert "did you mean dY" not in hint("xw", "W", "X @ Y")
    assert "did you mean dY" not in hint("xw", "W", "X.T @ Y / N")
