"""Findings of the command-line review (lecturer and students): --wrt aliases, check's
messages and hints, codegen's shape checks, --step on a pipe, verify's names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import cli


# -- 1. --wrt takes the letters the derivation uses, in every command that has it -------------
@pytest.mark.parametrize(
    ("convention", "wrt", "roles"),
    [
        ("column", "A", ["X"]),
        ("torch", "x", ["X"]),
        ("torch", "b,x", ["X", "b"]),
        ("column", "dLdA,W", ["X", "W"]),
        ("xw", "X,W,b", ["X", "W", "b"]),
    ],
)
def test_derive_wrt_takes_the_conventions_letters(
    runner: CliRunner, convention: str, wrt: str, roles: list[str]
) -> None:
    args = ["derive", "--convention", convention, "--wrt", wrt, "--format", "json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["config"]["wrt"] == roles


def test_derive_wrt_takes_letters_renamed_by_names(runner: CliRunner) -> None:
    args = ["derive", "--names", "X=Q", "--wrt", "Q", "--format", "json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["config"]["wrt"] == ["X"]


def test_wrt_before_convention_resolves_too(runner: CliRunner) -> None:
    # click reads options in the order given: --wrt A comes before the convention
    args = ["derive", "--wrt", "A", "--convention", "column", "--format", "json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["config"]["wrt"] == ["X"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wrt", "q"], "unknown variable 'q'"),
        (["--wrt", "A"], "unknown variable 'A'"),  # A is the column convention's
        (["--convention", "column", "--wrt", "A,X"], "names a variable twice"),
        (["--wrt", "X,,b"], "empty item"),
    ],
)
def test_derive_wrt_still_refuses_what_the_convention_lacks(
    runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["derive", *args, "--format", "text"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_verify_and_exercise_take_the_conventions_letters(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["verify", "--convention", "torch", "--wrt", "x"])
    assert result.exit_code == 0, result.stderr
    assert "dX = " in result.stdout and "dW = " not in result.stdout
    args = ["exercise", "--convention", "column", "--wrt", "A", "--format", "json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["config"]["wrt"] == ["X"]


# -- 2. check's messages ------------------------------------------------------------------
def test_check_unknown_variable_lists_each_choice_once(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--wrt", "w", "X.T @ dY"])
    assert result.exit_code == 2
    assert result.stderr.count("X, W, b") == 1, result.stderr
    result = runner.invoke(
        cli, ["check", "--convention", "column", "--wrt", "w", "dLdZ @ W"]
    )
    assert result.exit_code == 2
    assert "A, W, b" in result.stderr and result.stderr.count("X, W, b") == 1


def test_batch_errors_name_the_column_not_an_option(
    runner: CliRunner, tmp_path: Path
) -> None:
    for column in ("variable", "wrt"):
        path = tmp_path / f"{column}.csv"
        path.write_text(f"id,{column},formula\n1,q,X.T @ dY\n", encoding="utf-8")
        result = runner.invoke(cli, ["check", "--batch", str(path)])
        assert result.exit_code == 0, result.stderr
        message = json.loads(result.stdout)["message"]
        assert "--wrt" not in message and f"column '{column}'" in message
        assert message.count("X, W, b") == 1


def test_batch_file_missing_is_named_in_words(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["check", "--batch", str(tmp_path / "nofile.csv")])
    assert result.exit_code == 2
    assert "cannot be read: no such file or directory" in result.stderr
    assert "Errno" not in result.stderr


@pytest.mark.parametrize("text", ["id,variable,formula\n", "", "\n\n"])
def test_empty_batch_is_a_usage_error(
    runner: CliRunner, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["check", "--batch", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no rows" in result.stderr and result.stderr.count("\n") == 1


# -- 7. verify names a variable and its gradient as the convention's users do -------------
# torch keeps seed 004's spelling, dX beside its input x (issue 15 asks for "dX (5, 4)").
@pytest.mark.parametrize(
    ("convention", "letter", "gradient"),
    [("torch", "x", "dX"), ("column", "A", "dLdA"), ("xw", "X", "dX")],
)
def test_verify_variable_and_closed_form_agree(
    runner: CliRunner, convention: str, letter: str, gradient: str
) -> None:
    result = runner.invoke(cli, ["verify", "--convention", convention, "--wrt", "X"])
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    cells = [cell.strip() for cell in rows[0].strip("│").split("│")]
    assert cells[0] == letter and cells[1].startswith(f"{gradient} = ")
    assert f"gradients as NumPy holds them: {gradient} (" in result.stdout


# -- 4. the generated Linear refuses inputs of the wrong shape ------------------------------
def _import_generated(tmp_path: Path, runner: CliRunner, convention: str, names: str):  # type: ignore[no-untyped-def]
    import importlib.util

    path = tmp_path / f"linear_{convention}_{len(names)}.py"
    args = ["codegen", "--convention", convention, "-o", str(path)]
    result = runner.invoke(cli, args + (["--names", names] if names else []))
    assert result.exit_code == 0, result.stderr
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
@pytest.mark.parametrize("names", ["", "X=inp,dY=dout"])
def test_generated_layer_checks_its_input_shapes(
    tmp_path: Path, runner: CliRunner, convention: str, names: str
) -> None:
    import numpy as np

    module = _import_generated(tmp_path, runner, convention, names)
    d, m, n = 3, 2, 4
    layer = module.Linear(d, m, rng=np.random.default_rng(0))
    columns = convention == "wx"  # samples as columns: X is D×N
    x_name = "inp" if names else {"torch": "x", "column": "A"}.get(convention, "X")
    dy_name = "dout" if names else {"column": "dLdZ"}.get(convention, "dY")

    def batch(rows: int, width: int) -> np.ndarray:
        return np.ones((width, rows) if columns else (rows, width))

    wanted = "(3, N)" if columns else "(N, 3)"
    for bad in (np.ones(d), batch(n, d + 1), np.ones((n, d, 1)), np.float64(1.0)):
        with pytest.raises(ValueError, match=rf"^{x_name} must be a 2-D array") as info:
            layer.forward(bad)
        assert wanted in str(info.value) and str(np.shape(bad)) in str(info.value)
    y = layer.forward(batch(n, d))
    assert y.shape == batch(n, m).shape
    assert layer.backward(np.ones_like(y)).shape == batch(n, d).shape
    wanted = "(2, 4)" if columns else "(4, 2)"
    for bad in (np.ones(m), batch(n - 1, m), batch(n, m + 1)):
        with pytest.raises(
            ValueError, match=rf"^{dy_name} must be a 2-D array"
        ) as info:
            layer.backward(bad)
        assert wanted in str(info.value)


# -- 5. --step reads its answers from a pipe ----------------------------------------------
def _symderiv(args: list[str], stdin_text: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "symderiv", *args],
        input=stdin_text,  # a real pipe on stdin, and one on stdout
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_step_honours_q_from_a_pipe() -> None:
    done = _symderiv(["derive", "--step", "--format", "text"], "\n\nq\n")
    assert done.returncode == 0, done.stderr
    assert "Step 3 · " in done.stdout and "Step 4 · " not in done.stdout
    assert done.stdout.rstrip().endswith("Stopped after step 3 of 17.")
    assert "Enter:" not in done.stdout and done.stderr == ""


def test_step_reads_a_fifo(tmp_path: Path) -> None:
    """Answers written into a FIFO, line by line: the walk stops at q."""
    fifo = tmp_path / "answers"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    command = [sys.executable, "-m", "symderiv", "derive", "--step", "--wrt", "b"]
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # no writer yet: do not block
    os.set_blocking(reader, True)
    try:
        process = subprocess.Popen(
            [*command, "--format", "text"],
            stdin=reader,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
    finally:
        os.close(reader)
    with open(fifo, "w", encoding="utf-8") as answers:
        answers.write("\nq\n")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Step 2 · " in out and "Step 3 · " not in out
    assert "Stopped after step 2 of 9." in out


# -- 6. the terminal: numbers right-aligned with a true minus, formulas kept whole ----------
def test_values_matrices_are_right_aligned_with_a_minus_sign(runner: CliRunner) -> None:
    args = ["derive", "--values", "3", "--wrt", "b", "--format", "text"]
    result = runner.invoke(cli, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    top = next(k for k, line in enumerate(lines) if line.startswith("    ⎡−"))
    upper, lower = lines[top], lines[top + 1]
    assert "-" not in upper + lower  # ASCII hyphens: none
    # right-aligned: each column's numbers end in the same place
    ends = [k for k, ch in enumerate(upper) if ch.isdigit()]
    assert ends and all(lower[k].isdigit() for k in ends)


@pytest.mark.parametrize("columns", ["80", "64", "100"])
def test_inline_formulas_stay_on_one_line(runner: CliRunner, columns: str) -> None:
    result = runner.invoke(
        cli, ["derive", "--format", "text"], env={"COLUMNS": columns}
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for formula in ("Y = X·W + 1_N·b", "(A ⊗ Bᵀ)·vec(X)", "∂L/∂yᵢⱼ · ∂yᵢⱼ/∂xₖₗ"):
        assert formula in out, formula
    for line in out.splitlines():
        assert not line.endswith((" +", " −", " ⊗", "(A")), line


def test_verify_keeps_its_formulas_whole_at_80_columns(runner: CliRunner) -> None:
    args = ["verify", "--loss", "softmax-ce", "--convention", "column"]
    result = runner.invoke(cli, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("dLdZ = (P − T)/N" in line for line in lines)
    assert any("Z = A·Wᵀ + 1_N·bᵀ" in line for line in lines)
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines[:4])


def test_conventions_at_80_columns_keep_a_mark_with_its_shape(
    runner: CliRunner,
) -> None:
    result = runner.invoke(cli, ["conventions"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    for shape in ("N×C_in ✓", "C_out×C_in ✓", "C_out×1 ✓", "N×C_out ✓"):
        assert shape in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


# -- 3. check's hints for the commonest mistakes, found by trying the repairs ----------------
@pytest.mark.parametrize(
    ("convention", "wrt", "formula", "reason", "hint"),
    [
        ("xw", "X", "dY @ W", "shape", "did you mean W.T? (a transpose is missing)"),
        ("xw", "X", "W.T @ dY", "shape", "the factors are in the wrong order"),
        ("xw", "b", "dY.sum(axis=1)", "shape", "sum over the batch: axis=0"),
        ("wx", "b", "dY.sum(axis=0, keepdims=True)", "shape", "axis=1"),
        ("torch", "W", "x.T @ dY", "transpose", "transpose"),  # its own hint stays
        ("xw", "W", "X.T @ dY.T", "shape", "did you mean dY? (dY.T has a .T too many)"),
    ],
)
def test_check_hints_name_the_repair(
    runner: CliRunner, convention: str, wrt: str, formula: str, reason: str, hint: str
) -> None:
    args = ["check", "--convention", convention, "--wrt", wrt, "--format", "json"]
    result = runner.invoke(cli, [*args, formula])
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)  # the grading format stays valid JSON
    assert data["ok"] is False and data["reason"] == reason
    assert hint in data["hint"]
    text = runner.invoke(
        cli, ["check", "--convention", convention, "--wrt", wrt, formula]
    )
    assert text.exit_code == 1 and f"hint: {data['hint']}" in text.stdout


def test_check_right_answer_has_no_hint_and_a_wrong_one_no_false_repair(
    runner: CliRunner,
) -> None:
    right = runner.invoke(cli, ["check", "--wrt", "W", "--format", "json", "X.T @ dY"])
    assert json.loads(right.stdout)["hint"] == ""
    wrong = runner.invoke(cli, ["check", "--wrt", "W", "--format", "json", "X.T @ X"])
    assert wrong.exit_code == 1 and json.loads(wrong.stdout)["hint"] == ""


def test_check_says_write_dot_t_for_a_quote(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--wrt", "W", "X' * dY"])
    assert result.exit_code == 2
    assert "write X.T for a transpose" in result.stderr
    assert "strings are not allowed" not in result.stderr
    quoted = runner.invoke(cli, ["check", "--wrt", "W", "'X'"])
    assert "strings are not allowed" in quoted.stderr


@pytest.mark.parametrize("columns", [60, 70, 80, 90])
def test_verify_footnotes_never_break_inside_a_formula(
    runner: CliRunner, columns: int
) -> None:
    """The pass rules wrap between words, each formula on one line (at 80 columns the
    FD rule broke after "max error ≤")."""
    result = runner.invoke(cli, ["verify"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "max error ≤ 1e-06·max(1, max|FD|)." in text
    assert "h = ∛ε·max(1, |entry|)" in text
    assert "\ue000" not in text


@pytest.mark.parametrize("convention", ["xw", "torch", "column"])
def test_verify_states_the_bias_gradient_shape_the_generated_class_stores(
    runner: CliRunner, convention: str, tmp_path: Path
) -> None:
    """verify's "gradients as NumPy holds them" and ``codegen`` agree on db's shape, from
    the one rule (Convention.bias_vector): (3,) in torch, (1, 3) in xw, (3, 1) in column."""
    import re

    import numpy as np

    linear = _import_generated(tmp_path, runner, convention, "")
    args = ["verify", "--convention", convention, "--wrt", "b"]
    result = runner.invoke(cli, [*args, "--n", "2", "--d", "4", "--m", "3"])
    assert result.exit_code == 0, result.stderr
    layer = linear.Linear(4, 3)
    layer.backward(np.ones_like(layer.forward(np.ones((2, 4)))))
    shown = re.search(r"gradients as NumPy holds them: \w+ (\(.*?\))", result.stdout)
    assert shown is not None, result.stdout
    assert shown[1] == str(layer.db.shape)


@pytest.mark.parametrize("convention", ["xw", "torch"])
def test_verify_net_states_the_gradient_shapes_the_generated_net_stores(
    runner: CliRunner, convention: str
) -> None:
    """``verify --net`` says how the generated ``Net`` holds each gradient, as the single
    layer's verify does: db1 (3,) in torch (nn.Linear's bias), (1, 3) in xw."""
    import re

    import numpy as np

    from symderiv.net.codegen import generate_net

    net = "affine:3,relu,affine:2"
    args = ["verify", "--net", net, "--convention", convention, "--n", "2", "--d", "4"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    namespace: dict[str, object] = {}
    exec(compile(generate_net(net, convention), "<net>", "exec"), namespace)
    model = namespace["Net"](4)  # type: ignore[operator]
    model.backward(np.ones_like(model.forward(np.ones((2, 4)))))
    line = re.search(r"gradients as NumPy holds them: (.*)", result.stdout)
    assert line is not None, result.stdout
    shown = dict(re.findall(r"(d\w+) (\([\d, ]*\))", line[1]))
    assert set(shown) == {"dX", "dW1", "db1", "dW2", "db2"}
    for name, shape in shown.items():
        if name != "dX":
            assert shape == str(getattr(model, name).shape), name
