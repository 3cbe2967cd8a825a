"""A TA's review of ``symderiv check`` on single formulas: what it cannot hold is not
graded (never wrong), code that numpy or torch refuses is refused, and a scale's hint
names the factor only when it is that factor at every size checked."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from checkutil import refused_everywhere
from click.testing import CliRunner

from symderiv.check import check_formula
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import FormulaError

pytestmark = pytest.mark.fast


def _config(convention: str) -> Config:
    """check's defaults: N=2, D=3, M=4 (Config's own are 2, 2, 3)."""
    return Config(n=2, d=3, m=4, convention=convention)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.output


# -- 1. more than 2-D: not graded, the same for a new axis as for a reshape ----------------
#: A right answer for ∂L/∂b through a 3-D array (numpy gives the bias's shape).
RIGHT_THROUGH_3D = [
    ("xw", "np.sum(dY[None], axis=1)"),
    ("xw", "dY.reshape(1, N, M).sum(axis=1)"),
    ("xw", "np.reshape(dY, (1, N, M)).sum(axis=1)"),
    ("torch", "torch.sum(dY[None], dim=1)"),
    ("torch", "dY.reshape(1, N, M).sum(dim=1)"),
    ("column", "np.sum(dLdZ[:, :, None], axis=0)"),
    ("wx", "np.sum(dY[:, None], axis=-1)"),
    ("wx", "dY[:, None, :].sum(-1)"),
]


@pytest.mark.parametrize(("convention", "text"), RIGHT_THROUGH_3D)
def test_a_right_answer_through_3d_is_not_graded_wrong(
    convention: str, text: str
) -> None:
    refused_everywhere(
        convention, "b", text, "check works with arrays of at most 2 dimensions"
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("dY[None, None, None]", "dY[None, None, None] is 5-D, (1, 1, 1, 2, 4)"),
        ("X[:, None] * dY[:, :, None]", "X[:, None] is 3-D, (2, 1, 3)"),
        ("np.ones((N, 1, 1))", "the shape (N, 1, 1) is 3-D"),
        ("torch.ones(N, 1, 1)", "ones(N, 1, 1) is 3-D"),
        ("dY.reshape(1, N, M)", "dY.reshape(1, N, M) is 3-D"),
    ],
)
def test_every_array_past_2d_is_refused_one_way(text: str, needle: str) -> None:
    refused_everywhere("xw", "b", text, needle)


def test_np_ones_with_three_arguments_is_still_a_dtype_mistake() -> None:
    with pytest.raises(FormulaError, match="takes 1 to 2 positional arguments"):
        check_formula(_config("xw"), "b", "np.ones(N, 1, 1)")


# -- 2. what numpy (or torch) raises for is refused, saying so ---------------------------------
@pytest.mark.parametrize(
    ("convention", "var", "text", "needle"),
    [
        ("xw", "b", "np.sum(dY, axis=0.0)", "the axis 0.0 is a float"),
        ("xw", "b", "np.sum(dY, 0.)", "the axis 0. is a float"),
        ("xw", "b", "np.mean(dY, axis=0.0) * N", "raise TypeError"),
        ("xw", "b", "dY.sum(axis=1e0) * 0 + dY.sum(0)", "the axis 1e0 is a float"),
        ("torch", "b", "dY.sum(dim=0.0)", "the axis 0.0 is a float"),
        ("torch", "b", "torch.sum(dY, dim=-2.0)", "the axis 2.0 is a float"),
        ("column", "b", "dLdZ.sum(axis=0.0, keepdims=True).T", "an axis is an integer"),
        ("wx", "b", "np.sum(dY, axis=1.0, keepdims=True)", "such as 1"),
        ("wx", "W", "np.transpose(X @ dY.T, (1.0, 0))", "the axis 1.0 is a float"),
        ("xw", "b", "np.sum(dY, dim=0)", "np.sum takes axis=, not dim="),
        ("xw", "b", "numpy.sum(dY, axis=0, keepdim=True)", "takes keepdims=, not"),
        ("torch", "b", "np.mean(dY, dim=0) * N", "unexpected keyword argument 'dim'"),
        ("column", "b", "np.sum(dLdZ, dim=0, keepdims=True).T", "dim= is PyTorch's"),
        ("wx", "b", "np.sum(dY, axis=1, keepdim=True)", "np.sum takes keepdims="),
        ("xw", "b", "np.ones(N / 1) @ dY", "'N / 1' is a float in Python"),
        ("xw", "b", "np.ones(N * 1.0) @ dY", "raise TypeError"),
        ("torch", "b", "dY.sum(dim=0).reshape(1.0, -1)", "'1.0' is a float"),
        ("xw", "W", "np.mm(X.T, dY)", "numpy has no mm"),
        ("xw", "W", "np.transpose(dY.T @ X, 1, 0)", "takes the axes as one tuple"),
        ("torch", "W", "torch.transpose(X.t() @ dY, (1, 0))", "the two dims to swap"),
        ("torch", "W", "torch.transpose(X.t() @ dY)", "torch raises TypeError"),
    ],
)
def test_code_numpy_or_torch_refuses_is_refused(
    convention: str, var: str, text: str, needle: str
) -> None:
    refused_everywhere(convention, var, text, needle)


@pytest.mark.parametrize(
    ("convention", "var", "text"),
    [
        ("xw", "b", "np.sum(dY, axis=-2)"),
        ("xw", "b", "1.T @ dY"),  # the documented ones vector of the maths
        ("xw", "b", "np.ones(N) @ dY"),
        ("torch", "b", "torch.sum(dY, axis=0)"),  # torch takes numpy's names too
        ("torch", "b", "torch.mean(dY, dim=0, keepdims=True) * N"),
        ("torch", "b", "dY.sum(dim=0)"),  # a method may be either library's
        ("torch", "W", "torch.transpose(X.t() @ dY, 0, 1)"),
        ("torch", "W", "torch.mm(dY.t(), x)"),
        ("column", "b", "dLdZ.sum(axis=0, keepdims=True).T"),
        ("wx", "W", "np.transpose(X @ dY.T, (1, 0))"),
        ("wx", "b", "dY.sum(axis=1).reshape(M, 1)"),
    ],
)
def test_what_the_libraries_accept_still_passes(
    convention: str, var: str, text: str
) -> None:
    result = check_formula(_config(convention), var, text)
    assert result.ok, result.message


# -- 3. a scale names its factor only as it is at every size ---------------------------------
@pytest.mark.parametrize(
    ("convention", "var", "text", "label", "size"),
    [
        ("xw", "b", "np.mean(dY, axis=0) * 2", "2/N", 0),
        ("torch", "b", "torch.mean(dY, dim=0) * 2", "2/N", 0),
        ("column", "b", "np.mean(dLdZ, axis=0, keepdims=True).T * 2", "2/N", 0),
        ("wx", "b", "np.mean(dY, axis=1, keepdims=True) * 2", "2/N", 0),
        ("xw", "W", "X.T @ dY * N / 2", "N/2", 0),
        ("torch", "W", "dY.T @ x * N / 2", "N/2", 0),
        ("column", "W", "dLdZ.T @ A * N / 2", "N/2", 0),
        ("wx", "W", "dY @ X.T * N / 2", "N/2", 0),
        ("xw", "W", "X.T @ dY * 3 / (2 * N)", "3/(2*N)", 0),
        ("xw", "W", "X.T @ dY / (N * N)", "1/(N*N)", 0),
        ("xw", "X", "dY @ W.T * M / 3", "M/3", 2),
    ],
)
def test_a_factor_that_depends_on_a_size_is_named_at_the_sizes_it_reports(
    convention: str, var: str, text: str, label: str, size: int
) -> None:
    result = check_formula(_config(convention), var, text)
    assert result.reason in ("scale", "sizes") and result.failed_at, result.message
    shown = result.size_names[size]
    value = result.failed_at[size]
    assert f", {label} at {shown}={value}" in result.hint, result.hint
    # the factor said is the factor at the sizes reported: label's value = the ratio
    ratio = Fraction(result.hint.split()[2])  # "it is 1/2 times ..."
    number = eval(label, {}, {shown: Fraction(value)})  # trusted test text
    assert number == ratio, (result.hint, result.failed_at)


def test_the_cli_says_the_factor_in_text_and_json() -> None:
    code, out = _run("--wrt", "b", "np.mean(dY, axis=0) * 2")
    assert code == 1 and "not for N=4, D=5, M=6" in out, out
    assert "hint: it is 1/2 times the right answer, 2/N at N=4" in out, out
    code, out = _run("--wrt", "W", "--format", "json", "X.T @ dY * N / 2")
    data = json.loads(out)
    assert code == 1 and data["failed_at"]["N"] == 4, out
    assert data["hint"] == "it is 2 times the right answer, N/2 at N=4", out


@pytest.mark.parametrize(
    ("text", "factor"),
    [("np.sum(dY, axis=0) * (N + 1)", "3"), ("np.sum(dY, axis=0) * (M - N)", "2")],
)
def test_a_factor_that_cannot_be_named_is_not(text: str, factor: str) -> None:
    result = check_formula(_config("xw"), "b", text)
    assert result.hint == (
        f"it is {factor} times the right answer at N=2, D=3, M=4; the factor differs "
        "at other sizes"
    ), result.hint


def test_a_constant_factor_stays_a_number() -> None:
    assert check_formula(_config("xw"), "W", "2 * X.T @ dY").hint == (
        "it is 2 times the right answer"
    )
    assert check_formula(_config("xw"), "W", "X.T @ dY * 1.5").hint == (
        "it is 3/2 times the right answer"
    )


# -- 4. np.ones and reshape of a size below 1: refused alike, naming what was written ---------
@pytest.mark.parametrize(
    ("convention", "var", "text", "needle"),
    [
        ("xw", "b", "np.ones(-N) @ dY", "and -N is -2 at N=2, D=3, M=4"),
        ("xw", "b", "np.ones(-2) @ dY", "and -2 is not one (numpy gives ValueError)"),
        ("torch", "b", "torch.ones(1, -M)", "-M is -4"),
        ("column", "b", "np.ones((-C_out, 1))", "-C_out is -4"),
        (
            "wx",
            "b",
            "dY @ np.ones((N, 0))",
            "0 is not one (numpy gives an empty array)",
        ),
        ("xw", "b", "dY.sum(axis=0).reshape(1, -M)", "at most one -1"),
        ("wx", "X", "(W.T @ dY).reshape(N, -D)", "numpy raises ValueError"),
    ],
)
def test_a_size_below_one_is_refused_at_every_size(
    convention: str, var: str, text: str, needle: str
) -> None:
    refused_everywhere(convention, var, text, needle)
