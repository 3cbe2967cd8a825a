"""Numeric truth: closed forms against finite differences and torch.autograd."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from symderiv import numeric
from symderiv.cli import cli
from symderiv.conventions import CONVENTIONS, LOSSES, Config, Convention
from symderiv.errors import ChoiceError, ShapeError, TooLargeError, UsageError
from symderiv.notation import Deriv, Eye, Node, Ones, Prod, Recip, Scalar, Sum, Sym, T
from symderiv.numeric import (
    central_difference,
    draw_instance,
    evaluate,
    forward_reference,
    torch_gradients,
    verify,
)

SIZES = [(1, 1, 1), (2, 2, 3), (3, 2, 1), (2, 5, 3), (4, 1, 6)]
ALL = [
    (c, loss)
    for c in CONVENTIONS
    for loss in LOSSES
    if not (CONVENTIONS[c].samples_as_columns and loss == "softmax-ce")
]


def test_softmax_ce_with_samples_as_columns_is_refused() -> None:
    with pytest.raises(UsageError, match="softmax-ce needs samples as rows"):
        draw_instance(2, 2, 3, "wx", "softmax-ce")
    with pytest.raises(UsageError, match="softmax-ce needs samples as rows"):
        Config(n=2, d=2, m=3, convention="wx", loss="softmax-ce")


def _no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numeric, "_torch", lambda: (None, "not installed"))


# -- evaluate --------------------------------------------------------------------------
def test_evaluate_nodes() -> None:
    X = np.arange(6.0).reshape(2, 3)  # (2, 3)
    values = {"X": X}
    assert np.array_equal(evaluate(T(Sym("X")), values), X.T)
    sizes = {"N": 2, "D": 3}
    column_sums = evaluate(Prod(T(Ones("N")), Sym("X")), values, sizes)  # 1ᵀ·X, (1, 3)
    assert np.array_equal(column_sums, X.sum(0, keepdims=True))
    assert np.array_equal(evaluate(Prod(Sym("X"), Eye("D")), values, sizes), X)
    half = evaluate(Prod(Scalar(Fraction(1, 2)), Sym("X")), values)
    assert np.array_equal(half, X / 2)
    diff = evaluate(Sum(Sym("X"), Prod(Scalar(Fraction(-1)), Sym("X"))), values)
    assert np.array_equal(diff, np.zeros((2, 3)))
    assert evaluate(Ones("D"), {}, sizes).shape == (3, 1)  # 1_k is a column
    assert np.array_equal(evaluate(Prod(Recip("N"), Sym("X")), values, sizes), X / 2)


def test_evaluate_never_broadcasts() -> None:
    values = {"X": np.ones((2, 3)), "b": np.ones((1, 3))}
    with pytest.raises(ValueError, match="sum of shapes"):
        evaluate(Sum(Sym("X"), Sym("b")), values)  # numpy would broadcast this
    with pytest.raises(ValueError, match="product of shapes"):
        evaluate(Prod(Sym("X"), Sym("X")), values)
    with pytest.raises(TypeError):
        evaluate(Deriv("L", "W"), values)
    with pytest.raises(KeyError):
        evaluate(Sym("W"), values)


# -- the random instance ---------------------------------------------------------------
@pytest.mark.parametrize(("convention", "loss"), ALL)
def test_draw_follows_the_spec_stream(convention: str, loss: str) -> None:
    n, d, m, seed = 3, 2, 4, 7
    conv = CONVENTIONS[convention]
    rng = np.random.default_rng(seed)
    wx = convention == "wx"  # samples as columns: X, T and dY transposed
    X = rng.normal(size=(d, n) if wx else (n, d))
    T_ = rng.normal(size=(m, n) if wx else (n, m))
    if loss == "softmax-ce":  # the same draws, one-hot at each row's largest entry
        T_ = (T_ == T_.max(axis=1, keepdims=True)).astype(np.float64)
    W = rng.normal(size=(d, m) if convention == "xw" else (m, d))
    b = rng.normal(size=m)
    inst = draw_instance(n, d, m, convention, loss, seed)
    assert np.array_equal(inst.X, X)
    assert np.array_equal(inst.T, T_)
    assert np.array_equal(inst.W, W)
    assert inst.W.shape == conv.shape("W", n, d, m)
    expected_b = b.reshape(m, 1) if convention in ("column", "wx") else b.reshape(1, m)
    assert np.array_equal(inst.b, expected_b)
    if loss == "generic":
        assert inst.dY is not None
        assert np.array_equal(inst.dY, rng.normal(size=(m, n) if wx else (n, m)))
    else:
        assert inst.dY is None
    assert not inst.X.flags.writeable


@pytest.mark.parametrize("convention", list(CONVENTIONS))
@pytest.mark.parametrize("sizes", SIZES)
def test_forward_formula_matches_broadcasting_code(
    convention: str, sizes: tuple[int, int, int]
) -> None:
    inst = draw_instance(*sizes, convention=convention, loss="sum", seed=3)
    assert np.allclose(inst.output(), forward_reference(inst), rtol=0, atol=1e-12)


def test_mse_loss_of_the_seed_notebook() -> None:
    """seeds/004: y = x Wᵀ + b, sizes 5, 4, 3, default_rng(0) prints Loss 7.859075."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4))
    t = rng.normal(size=(5, 3))
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=(3,))
    residual = x @ W.T + b - t
    notebook = 0.5 / 5 * np.sum(residual**2)
    report = verify(5, 4, 3, "torch", "mse", seed=0)
    assert f"{report.loss_value:.6f}" == "7.859075"
    assert report.loss_value == pytest.approx(notebook, rel=1e-14)
    assert report.passed
    dY = residual / 5  # the notebook's backward pass
    closed = {c.var: c.closed for c in report.checks}
    assert np.allclose(closed["X"], dY @ W)
    assert np.allclose(closed["W"], dY.T @ x)
    assert np.allclose(closed["b"], dY.sum(axis=0, keepdims=True))


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed(bad: object) -> None:
    with pytest.raises(UsageError, match="seed"):
        draw_instance(1, 1, 1, seed=bad)  # type: ignore[arg-type]


def test_bad_sizes_and_choices() -> None:
    with pytest.raises(ShapeError):
        verify(0, 1, 1)
    with pytest.raises(ChoiceError):
        verify(1, 1, 1, convention="yx")
    with pytest.raises(ChoiceError):
        verify(1, 1, 1, loss="hinge")
    with pytest.raises(ChoiceError):
        verify(1, 1, 1, wrt="X,Q")


def test_too_large_is_refused_before_drawing() -> None:
    with pytest.raises(TooLargeError, match="--force"):
        verify(150, 150, 150)
    with pytest.raises(TooLargeError, match="smaller sizes"):
        verify(10**9, 10**9, 10**9, force=True)


# -- finite differences ----------------------------------------------------------------
def test_central_difference_on_a_non_quadratic_function() -> None:
    a = np.array([[0.5, -2.0, 30.0]])
    g = central_difference(lambda v: float(np.sum(v**3)), a)
    assert np.allclose(g, 3 * a**2, rtol=1e-8, atol=1e-8)
    assert np.array_equal(a, [[0.5, -2.0, 30.0]])  # the point is not modified


@pytest.mark.parametrize(("convention", "loss"), ALL)
@pytest.mark.parametrize("sizes", SIZES)
def test_verify_passes_everywhere(
    convention: str,
    loss: str,
    sizes: tuple[int, int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_torch(monkeypatch)  # torch agreement is tested below, once per case
    report = verify(*sizes, convention=convention, loss=loss, seed=1)
    assert report.passed, report.failures
    n, d, m = sizes
    conv = CONVENTIONS[convention]
    for check in report.checks:
        assert check.shape == conv.shape(check.var, n, d, m)
        assert check.fd_error <= check.fd_tol
        assert check.torch_error is None


def test_wrt_selects_variables() -> None:
    report = verify(2, 2, 3, wrt="b,X", use_torch=False)
    assert [c.var for c in report.checks] == ["X", "b"]


# -- a wrong formula must fail: the check is not fake ----------------------------------
@pytest.mark.parametrize(
    ("var", "wrong"),
    [
        ("X", Prod(Sym("dY"), Sym("W"))),  # xw needs Wᵀ; square: fits
        ("W", Prod(Scalar(Fraction(2)), T(Sym("X")), Sym("dY"))),  # twice the truth
        ("W", T(Prod(T(Sym("X")), Sym("dY")))),  # transposed (square sizes)
        ("b", Prod(T(Ones("N")), Sym("Y"))),  # Y instead of dY
    ],
)
def test_wrong_formula_is_caught(var: str, wrong: Node) -> None:
    report = verify(3, 3, 3, "xw", "generic", seed=0, wrt=var, formulas={var: wrong})
    (check,) = report.checks
    assert not check.passed and not report.passed
    assert not check.problem  # the shapes fit: only the numbers tell
    assert check.fd_error > 1e-2
    if check.torch_error is not None:
        assert check.torch_error > 1e-2


def test_wrong_shape_is_caught_not_crashed() -> None:
    wrong = Prod(T(Sym("X")), Sym("dY"))  # xw's formula, (D, M); torch's W is (M, D)
    report = verify(
        2, 5, 3, "torch", "mse", wrt="W", formulas={"W": wrong}, use_torch=False
    )
    (check,) = report.checks
    assert not check.passed
    assert "shape (5, 3)" in check.problem
    bad = verify(
        2,
        5,
        3,
        "torch",
        "mse",
        wrt="W",
        formulas={"W": Prod(Sym("X"), Sym("dY"))},
        use_torch=False,
    )
    assert "cannot evaluate" in bad.checks[0].problem


# -- torch.autograd --------------------------------------------------------------------
def test_torch_is_installed_when_required() -> None:
    """CI sets SYMDERIV_REQUIRE_TORCH=1: there a missing torch fails, never skips."""
    if os.environ.get("SYMDERIV_REQUIRE_TORCH") != "1":
        pytest.skip("SYMDERIV_REQUIRE_TORCH is not set")
    assert numeric.torch_version() is not None, (
        "SYMDERIV_REQUIRE_TORCH=1 but torch cannot be imported: "
        "pip install torch==2.13.0 (the local CPU wheel)"
    )


@pytest.mark.parametrize(("convention", "loss"), ALL)
def test_torch_autograd_agrees(convention: str, loss: str) -> None:
    pytest.importorskip("torch")
    for sizes in [(1, 1, 1), (2, 5, 3)]:
        report = verify(*sizes, convention=convention, loss=loss, seed=2)
        assert report.passed
        assert report.torch_version is not None
        for check in report.checks:
            assert check.torch_error is not None
            assert check.torch_error <= 1e-12


def test_torch_gradients_are_autograd_not_a_copy() -> None:
    pytest.importorskip("torch")
    inst = draw_instance(3, 2, 4, "xw", "mse", seed=5)
    grads = torch_gradients(inst)
    assert grads is not None
    Y = inst.X @ inst.W + inst.b
    dY = (Y - inst.T) / 3
    assert np.allclose(grads["W"], inst.X.T @ dY, rtol=0, atol=1e-13)
    assert grads["b"].shape == (1, 4)


def test_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_torch(monkeypatch)
    assert torch_gradients(draw_instance(1, 1, 1)) is None
    report = verify(2, 2, 3)
    assert report.passed and report.torch_version is None


# -- the command -----------------------------------------------------------------------
def test_cli_seed_instance(runner: CliRunner) -> None:
    args = [
        "verify",
        "--convention",
        "torch",
        "--loss",
        "mse",
        "--n",
        "5",
        "--d",
        "4",
        "--m",
        "3",
        "--seed",
        "0",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "L = 7.859075" in out
    assert "dW = dYᵀ·x" in out and "dX = dY·W" in out and "db = 1_Nᵀ·dY" in out
    assert "3×4" in out and "✓" in out and "✗" not in out
    assert "\x1b" not in out  # not a terminal: plain text
    assert "pass when max error" in out  # the tolerances are stated
    assert result.stderr == ""


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_cli_every_convention(runner: CliRunner, convention: str) -> None:
    result = runner.invoke(
        cli,
        [
            "verify",
            "--convention",
            convention,
            "--n",
            "1",
            "--d",
            "1",
            "--m",
            "1",
            "--loss",
            "sum",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("✓") == 4  # three rows and the summary


def test_cli_without_torch(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_torch(monkeypatch)
    result = runner.invoke(cli, ["verify"])
    assert result.exit_code == 0
    assert result.stdout.count("torch not installed") == 4  # 3 rows and the footnote


def test_a_broken_torch_is_said_and_the_finite_differences_still_run(
    tmp_path: Path,
) -> None:
    """A torch whose import raises OSError (a CUDA library that does not load) ended
    verify with "internal error ... this is a bug"; now autograd is skipped and why."""
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise OSError("libcudart.so.12: cannot open")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    env["COLUMNS"] = "120"
    run = subprocess.run(
        [sys.executable, "-m", "symderiv", "verify"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    assert "could not be imported (OSError: libcudart.so.12: cannot open)" in run.stdout
    assert run.stdout.count("torch unavailable") == 3  # the three rows
    assert "every closed form agrees" in run.stdout


def test_cli_failure_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Convention.closed_form

    def wrong(self: Convention, var: str) -> Node:
        tree = real(self, var)
        return Prod(Scalar(Fraction(2)), tree) if var == "W" else tree

    monkeypatch.setattr(Convention, "closed_form", wrong)
    result = runner.invoke(cli, ["verify", "--n", "2", "--d", "3", "--m", "4"])
    assert result.exit_code == 1
    assert "✗" in result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: verification failed: W:")


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "-1"],
        ["--seed", "x"],
        ["--seed", "1.5"],
        ["--n", "0"],
        ["--m", "x"],
        ["--loss", "hinge"],
        ["--convention", "yx"],
        ["--wrt", "X,Q"],
        ["--wrt", ""],
        ["--n", "300", "--d", "300", "--m", "300"],
    ],
)
def test_cli_bad_input_exits_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, ["verify", *args])
    assert result.exit_code == 2, result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_verify_in_torch_says_why_db_is_flat_above_a_table_of_rows(
    runner: CliRunner,
) -> None:
    """The header said db (3,) above a table whose shape column says 1×3, with nothing
    to join them: a lecturer read it as a contradiction."""
    args = ["verify", "--convention", "torch", "--n", "5", "--d", "4", "--m", "3"]
    out = runner.invoke(cli, args, env={"COLUMNS": "200"}).stdout
    assert "db (3,)\n(nn.Linear holds db flat; the table has its 1×3 row)" in out
    assert "│ 1×3 " in out
    xw = runner.invoke(cli, ["verify"], env={"COLUMNS": "200"}).stdout
    assert "db (1, 3)" in xw and "flat as" not in xw
