"""A TA's review of ``symderiv check`` on single formulas: a scale's hint names the
factor only when it is that factor at every size checked."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
from click.testing import CliRunner

from symderiv.check import check_dict, check_formula
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


def _refused_everywhere(convention: str, var: str, text: str, needle: str) -> None:
    """Refused (exit 2) in text, json (gradable false) and gradescope alike."""
    with pytest.raises(FormulaError, match=re.escape(needle)):
        check_formula(_config(convention), var, text)
    data = check_dict(_config(convention), var, text)
    assert (data["gradable"], data["reason"]) == (False, "parse"), data
    common = ("--convention", convention, "--wrt", var)
    code, out = _run(*common, text)
    assert code == 2 and needle in out, out
    code, out = _run(*common, "--format", "json", text)
    assert code == 2 and json.loads(out)["gradable"] is False, out
    code, out = _run(*common, "--format", "gradescope", text)
    assert code == 2, out


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
