"""A TA's review of ``symderiv check``'s JSON and hints: an entry's index follows the
shape of what the student gave, the shapes accepted are said, ``sizes`` lists the
triples actually checked, ``torch.dot`` / ``torch.mm`` of operands torch refuses are
refused, and a sum over the wrong axis is named in every convention."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from symderiv.check import check_dict, check_formula
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import FormulaError

pytestmark = pytest.mark.fast

GIVEN = {"N": 2, "D": 3, "M": 4}


def _config(convention: str = "xw", **sizes: int) -> Config:
    """check's defaults: N=2, D=3, M=4 (Config's own are 2, 2, 3)."""
    return Config(**{"n": 2, "d": 3, "m": 4, **sizes}, convention=convention)


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["check", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


# -- 2. torch.dot and torch.mm take operands of one number of axes ---------------------------
def _refused_everywhere(convention: str, var: str, text: str, needle: str) -> None:
    """Refused (exit 2) by the library, in text and json (gradable false) alike."""
    with pytest.raises(FormulaError, match=re.escape(needle)):
        check_formula(_config(convention), var, text)
    data = check_dict(_config(convention), var, text)
    assert (data["gradable"], data["reason"]) == (False, "parse"), data
    result = CliRunner().invoke(
        cli, ["check", "--convention", convention, "--wrt", var, text]
    )
    assert result.exit_code == 2 and needle in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    code, data = _json("--convention", convention, "--wrt", var, text)
    assert code == 2 and data["gradable"] is False and needle in data["message"]


DOT_2D = "1D tensors expected, but got 2D and 2D tensors); torch.mm(A, B) or A @ B"


@pytest.mark.parametrize(
    ("convention", "var", "text", "needle"),
    [
        ("xw", "W", "torch.dot(X.t(), dY)", DOT_2D),
        ("xw", "X", "torch.dot(dY, W.T)", DOT_2D),
        ("torch", "W", "torch.dot(dY.t(), x)", DOT_2D),
        ("torch", "X", "torch.dot(dY, W)", DOT_2D),
        ("column", "W", "torch.dot(dLdZ.t(), A)", DOT_2D),
        ("wx", "W", "torch.dot(dY, X.t())", DOT_2D),
        ("torch", "b", "torch.dot(torch.ones(N), dY)", "got 1D and 2D tensors"),
        ("wx", "b", "torch.dot(dY, torch.ones(N))", "got 2D and 1D tensors"),
        ("torch", "b", "torch.mm(torch.ones(N), dY)", "self must be a matrix"),
        ("torch", "b", "torch.ones(N).mm(dY)", "self must be a matrix"),
        ("wx", "b", "dY.mm(torch.ones(N))", "mat2 must be a matrix"),
    ],
)
def test_torch_refuses_dot_of_matrices_and_mm_of_vectors(
    convention: str, var: str, text: str, needle: str
) -> None:
    _refused_everywhere(convention, var, text, needle)


def test_torch_raises_what_the_messages_say() -> None:
    torch = pytest.importorskip("torch")
    m, v = torch.ones(2, 2), torch.ones(2)
    for a, b, said in [
        (m, m, "1D tensors expected, but got 2D and 2D tensors"),
        (v, m, "1D tensors expected, but got 1D and 2D tensors"),
    ]:
        with pytest.raises(RuntimeError, match=re.escape(said)):
            torch.dot(a, b)
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        torch.mm(v, m)
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        torch.mm(m, v)
    assert float(torch.dot(v, v)) == 2.0


@pytest.mark.parametrize(
    ("convention", "var", "text"),
    [
        ("xw", "W", "np.dot(X.T, dY)"),
        ("xw", "W", "X.T.dot(dY)"),  # a method may be numpy's: left alone
        ("torch", "W", "dY.t().dot(x)"),
        ("xw", "W", "torch.mm(X.t(), dY)"),
        ("torch", "W", "dY.t().mm(x)"),
        ("torch", "b", "torch.matmul(torch.ones(N), dY)"),
        ("torch", "b", "torch.mm(torch.ones(1, N), dY)"),
        ("wx", "b", "dY.mm(torch.ones(N, 1))"),
    ],
)
def test_what_torch_and_numpy_compute_still_passes(
    convention: str, var: str, text: str
) -> None:
    assert check_formula(_config(convention), var, text).ok


def test_torch_dot_of_two_vectors_is_graded_not_refused() -> None:
    result = check_formula(
        _config("torch"), "b", "torch.dot(torch.ones(N), torch.ones(N))"
    )
    assert not result.ok and result.reason == "shape"
    assert "it gives a scalar" in result.message
