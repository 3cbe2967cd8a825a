"""The samples-as-columns convention (wx) through every command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from symderiv import derive
from symderiv.cli import cli
from symderiv.conventions import WX
from symderiv.notes import Code, M, Prose


def _words(prose: Prose) -> str:
    """A note's words and written-out maths (a formula of the notation as "□")."""
    return "".join(
        s if isinstance(s, str) else s.text if isinstance(s, M | Code) else "□"
        for s in prose
    )


def test_shapes_and_closed_forms_are_deeplearning_ais() -> None:
    assert {r: WX.shape(r, 5, 3, 2) for r in ("X", "W", "b", "Y")} == {
        "X": (3, 5), "W": (2, 3), "b": (2, 1), "Y": (2, 5)
    }  # fmt: skip
    d = derive(n=5, d=3, m=2, convention="wx", loss="mse")
    assert d.verified and d.results["X"].derivative.shape == (3, 5)
    assert "1/m" in _words(
        d.step("summary").note
    )  # where deeplearning.ai's factor goes
    assert "Column j of □ is the output for sample j" in _words(d.step("forward").note)
    assert "depends on column j of □ only" in _words(d.step("dY_dX").note)


def test_softmax_ce_needs_samples_as_rows(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["derive", "--convention", "wx", "--loss", "softmax-ce",
                                 "--n", "2", "--d", "2", "--m", "3"])  # fmt: skip
    assert result.exit_code == 2
    assert "softmax-ce needs samples as rows" in result.stderr


@pytest.mark.parametrize("loss", ["generic", "mse", "sum"])
def test_verify_exits_0(runner: CliRunner, loss: str) -> None:
    result = runner.invoke(cli, ["verify", "--convention", "wx", "--loss", loss,
                                 "--n", "3", "--d", "2", "--m", "4"])  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "dW = dY·Xᵀ" in result.stdout


@pytest.mark.parametrize(
    ("var", "formula", "code"),
    [
        ("X", "W.T @ dY", 0),
        ("W", "dY @ X.T", 0),
        ("b", "np.sum(dY, axis=1, keepdims=True)", 0),
        ("W", "X.T @ dY", 1),  # xw's answer: the wrong shapes here
        ("b", "np.sum(dY, axis=0, keepdims=True)", 1),  # summed over the outputs
    ],
)
def test_check_grades_in_wx(
    runner: CliRunner, var: str, formula: str, code: int
) -> None:
    result = runner.invoke(cli, ["check", "--convention", "wx", "--wrt", var, formula])
    assert result.exit_code == code, result.stdout + result.stderr


def test_codegen_and_the_article_share_db(runner: CliRunner) -> None:
    code = runner.invoke(cli, ["codegen", "--convention", "wx"]).stdout
    page = runner.invoke(cli, ["derive", "--convention", "wx", "--format", "markdown"])
    assert "self.db = dY.sum(axis=1, keepdims=True)" in code
    assert "self.N = X.shape[1]" in code
    assert "db = dY.sum(axis=1, keepdims=True)" in page.stdout


def test_conventions_page_has_wx(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["conventions", "--format", "text"])
    assert result.exit_code == 0
    assert "Y = W·X + b·1_Nᵀ ✓" in result.stdout and "I_M ⊗ Xᵀ ✓" in result.stdout


def test_networks_derive_with_samples_as_columns(runner: CliRunner) -> None:
    """derive --net takes wx (proved against tests/net_oracle.py in test_net.py)."""
    args = ["derive", "--net", "affine:3,relu,affine:2", "--convention", "wx"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0 and "dW1 = dZ1·Xᵀ" in result.stdout


@pytest.mark.parametrize("command", ["verify", "codegen"])
def test_network_numerics_need_samples_as_rows(runner: CliRunner, command: str) -> None:
    result = runner.invoke(
        cli, [command, "--net", "affine:3,relu,affine:2", "--convention", "wx"]
    )
    assert result.exit_code == 2
    assert "--net runs samples as rows" in result.stderr


@pytest.mark.parametrize("layout", ["denominator", "numerator"])
@pytest.mark.parametrize("loss", ["generic", "mse"])
def test_values_agree_with_numpys_backward_pass(layout: str, loss: str) -> None:
    """--values: the numbers of every step match W.T @ dY, dY @ X.T, dY.sum(axis=1)."""
    from symderiv.values import companion

    d = derive(n=2, d=3, m=4, convention="wx", layout=layout, loss=loss)
    numbers = companion(d, 5)
    assert numbers.values["Y"].shape == (4, 2)
    assert numbers.verified and set(numbers.variables) == {"X", "W", "b"}


def test_values_on_the_page(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["derive", "--convention", "wx", "--values", "1",
                                 "--n", "2", "--d", "2", "--m", "3"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "--values 1" in result.stdout
