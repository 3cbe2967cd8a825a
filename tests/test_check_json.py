"""A TA's review of ``symderiv check``'s JSON and hints: an entry's index follows the
shape of what the student gave, the shapes accepted are said, ``sizes`` lists the
triples actually checked, ``torch.dot`` / ``torch.mm`` of operands torch refuses are
refused, and a sum over the wrong axis is named in every convention."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from checkutil import refused_everywhere
from click.testing import CliRunner

from symderiv import grade
from symderiv.check import check_dict, check_formula
from symderiv.cli import cli
from symderiv.conventions import Config

pytestmark = pytest.mark.fast

GIVEN = {"N": 2, "D": 3, "M": 4}


def _config(convention: str = "xw", **sizes: int) -> Config:
    """check's defaults: N=2, D=3, M=4 (Config's own are 2, 2, 3)."""
    return Config(**{"n": 2, "d": 3, "m": 4, **sizes}, convention=convention)


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["check", "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


# -- 1. the JSON: entry index, accepted shapes, sizes checked -------------------------------
@pytest.mark.parametrize(
    ("convention", "text", "index", "shown"),
    [
        ("xw", "np.sum(dY, axis=0) * 2", [1], "entry 1:"),
        ("torch", "dY.sum(0) * 2", [1], "entry 1:"),
        ("torch", "torch.sum(dY, dim=0) * 2", [1], "entry 1:"),
        ("xw", "np.sum(dY, axis=0, keepdims=True) * 2", [1, 1], "entry (1, 1):"),
        ("torch", "dY.sum(dim=0, keepdim=True) * 2", [1, 1], "entry (1, 1):"),
        ("column", "np.sum(dLdZ, axis=0, keepdims=True).T * 2", [1, 1], "(1, 1):"),
        ("wx", "np.sum(dY, axis=1, keepdims=True) * 2", [1, 1], "entry (1, 1):"),
    ],
)
def test_the_entry_index_follows_the_shape_the_student_gave(
    convention: str, text: str, index: list[int], shown: str
) -> None:
    result = check_formula(_config(convention), "b", text)
    assert result.reason == "scale" and result.entry == tuple(index)
    assert shown in result.message
    code, data = _json("--convention", convention, "--wrt", "b", text)
    assert code == 1 and data["entry"]["index"] == index
    assert len(data["entry"]["index"]) == len(data["got_shape"])


def test_a_1d_answer_wrong_everywhere_is_indexed_by_one_number() -> None:
    result = check_formula(_config(), "b", "np.sum(dY, axis=0) - np.ones(M)")
    assert result.reason == "entry" and result.entry == (1,)
    assert "entry 1:" in result.message


@pytest.mark.parametrize(
    ("convention", "var", "expected", "accepted"),
    [
        ("xw", "b", [1, 4], [[1, 4], [4]]),
        ("torch", "b", [4], [[4], [1, 4]]),
        ("column", "b", [4, 1], [[4, 1]]),
        ("wx", "b", [4, 1], [[4, 1]]),
        ("xw", "W", [3, 4], [[3, 4]]),
        ("torch", "W", [4, 3], [[4, 3]]),
    ],
)
def test_the_shapes_accepted_are_said_besides_the_stored_one(
    convention: str, var: str, expected: list[int], accepted: list[list[int]]
) -> None:
    for text in ("0 * X", "np.sum(dY, axis=0) * 3"):
        data = check_dict(_config(convention), var, text)
        assert (
            data["expected_shape"] == expected and data["accepted_shapes"] == accepted
        )
        assert data["expected_shape"] == data["accepted_shapes"][0]
    # what the student gave is among them exactly when the shape was accepted
    data = check_dict(_config(convention), var, "np.sum(dY, axis=0) * 3")
    assert (data["got_shape"] in accepted) == (data["reason"] != "shape")


def test_a_1d_bias_is_accepted_and_the_json_says_so() -> None:
    code, data = _json("--wrt", "b", "np.sum(dY, axis=0)")
    assert code == 0 and data["got_shape"] == [4]
    assert data["expected_shape"] == [1, 4] and [4] in data["accepted_shapes"]
    code, data = _json("--wrt", "b", "np.sum(dY, axis=0, keepdims=True)")
    assert code == 0 and data["got_shape"] == [1, 4] in data["accepted_shapes"]


def test_an_unreadable_formula_has_no_shapes() -> None:
    code, data = _json("--wrt", "b", "np.sum(dY, axis=0")
    assert code == 2 and data["gradable"] is False
    assert data["expected_shape"] is None and data["accepted_shapes"] is None
    assert data["sizes"] == []


def test_sizes_stop_where_the_formula_is_first_wrong() -> None:
    code, data = _json("--wrt", "b", "np.sum(dY, axis=0) * 2")
    assert code == 1 and data["sizes"] == [GIVEN] and data["failed_at"] == GIVEN
    # a mean, whose hint looks at every triple for its factor: still checked at one
    code, data = _json("--wrt", "b", "np.mean(dout, axis=0)")
    assert data["sizes"] == [GIVEN] and "a mean where a sum belongs?" in data["hint"]
    # shapes that do not fit
    code, data = _json("--wrt", "W", "X @ dY")
    assert data["reason"] == "shape" and data["sizes"] == [GIVEN]


def test_sizes_end_at_the_triple_that_failed() -> None:
    given = {"N": 2, "D": 2, "M": 3}
    code, data = _json(
        "--n", "2", "--d", "2", "--m", "3", "--wrt", "W", "X.T @ dY * N / 2"
    )
    assert code == 1 and data["reason"] == "sizes"
    assert data["sizes"][0] == given and data["sizes"][-1] == data["failed_at"]
    assert data["failed_at"] != given and len(data["sizes"]) == 2
    result = check_formula(Config(n=2, d=2, m=3), "W", "X.T @ dY * N / 2")
    assert result.sizes == (result.sizes[0], result.failed_at)


def test_sizes_list_every_triple_when_right() -> None:
    code, data = _json("--wrt", "W", "X.T @ dY")
    assert code == 0 and data["sizes"][0] == GIVEN and len(data["sizes"]) == 5
    assert data["failed_at"] is None


def test_a_function_graded_lists_the_sizes_up_to_its_failure() -> None:
    def backward(s: Any) -> tuple[Any, Any, Any]:
        return s.dout @ s.W.T, s.X.T @ s.dout, s.dout.mean(axis=0)

    report = grade.function(backward)
    db = report.results["b"]
    assert db.reason == "scale" and db.sizes == (db.failed_at,)
    assert db.entry == (1,) and "a mean where a sum belongs?" in db.hint
    assert report.results["W"].ok and len(report.results["W"].sizes) >= 5


# -- 2. torch.dot and torch.mm take operands of one number of axes ---------------------------
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
    refused_everywhere(convention, var, text, needle)


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


# -- 3. a sum over the wrong axis is named in every convention -------------------------------
@pytest.mark.parametrize(
    ("convention", "text", "hint", "fixed"),
    [
        (
            "xw",
            "np.sum(dY, axis=1)",
            "sum over the batch: axis=0",
            "np.sum(dY, axis=0)",
        ),
        ("torch", "dY.sum(dim=1)", "sum over the batch: dim=0", "dY.sum(dim=0)"),
        (
            "column",
            "np.sum(dLdZ, axis=1)",
            "sum over the batch: axis=0; b is stored as a column C_out×1 (4×1): "
            "sum with keepdims=True and add .T, or add .reshape(-1, 1)",
            "np.sum(dLdZ, axis=0).reshape(-1, 1)",
        ),
        (
            "column",
            "dLdZ.sum(axis=1)",
            "sum over the batch: axis=0; b is stored as a column",
            "dLdZ.sum(axis=0, keepdims=True).T",
        ),
        (
            "column",
            "np.sum(dLdZ, axis=1, keepdims=True)",
            "sum over the batch: axis=0; then add .T (∂L/∂b has the shape of b, "
            "C_out×1 (4×1))",
            "np.sum(dLdZ, axis=0, keepdims=True).T",
        ),
        (
            "wx",
            "np.sum(dY, axis=0)",
            "sum over the batch: axis=1; b is stored as a column M×1 (4×1): sum "
            "with keepdims=True, or add .reshape(-1, 1)",
            "np.sum(dY, axis=1, keepdims=True)",
        ),
        (
            "wx",
            "dY.sum(dim=0)",
            "sum over the batch: dim=1;",
            "dY.sum(dim=1, keepdim=True)",
        ),
        ("wx", "np.sum(dY, axis=0, keepdims=True)", "sum over the batch: axis=1", ""),
    ],
)
def test_the_wrong_summing_axis_gets_a_hint_in_every_convention(
    convention: str, text: str, hint: str, fixed: str
) -> None:
    result = check_formula(_config(convention), "b", text)
    assert not result.ok and result.hint.startswith(hint), result.message
    assert f"hint: {result.hint}" in result.message
    code, data = _json("--convention", convention, "--wrt", "b", text)
    assert code == 1 and data["hint"] == result.hint
    if fixed:  # doing what the hint says is right
        assert check_formula(_config(convention), "b", fixed).ok


@pytest.mark.parametrize(
    ("convention", "text"),
    [
        ("column", "np.sum(dLdZ, axis=1)"),
        ("wx", "np.sum(dY, axis=0)"),
    ],
)
def test_the_axis_hint_holds_at_sizes_where_the_lengths_agree(
    convention: str, text: str
) -> None:
    # N = D: still one hint, the axis's, at every size triple
    result = check_formula(_config(convention, n=3, d=3, m=5), "b", text)
    assert "sum over the batch" in result.hint, result.message


def test_a_wrong_axis_with_entries_wrong_anyway_gets_no_axis_hint() -> None:
    # summing the other axis does not repair it: no hint claims it does
    for convention, text in [
        ("column", "np.sum(dLdZ, axis=1) * 2"),
        ("wx", "np.sum(X, axis=0)"),
    ]:
        result = check_formula(_config(convention), "b", text)
        assert "sum over the batch" not in result.hint, result.message
