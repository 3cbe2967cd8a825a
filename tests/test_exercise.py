"""`symderiv exercise`: sheets with blanks, and answer keys filled from the derivation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from texutil import compile_tex

from symderiv import derive
from symderiv.algebra import Poly, evaluate, vec_positions
from symderiv.cli import cli
from symderiv.exercise import Sheet, make_sheet
from symderiv.notation import Node
from symderiv.render.sheet import answer_tex, sheet_latex, sheet_markdown


def boxed(tex: str, macro: str) -> list[str]:
    """The arguments of every ``macro{...}`` in ``tex``, in order (braces balanced)."""
    out = []
    for match in re.finditer(re.escape(macro) + "{", tex):
        depth, k = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(tex[k], 0)
            k += 1
        out.append(tex[match.end() : k - 1])
    return out


# -- choosing ---------------------------------------------------------------------------------
def test_defaults_without_a_seed() -> None:
    sheet = make_sheet()
    c = sheet.config
    assert (c.n, c.d, c.m, c.convention, c.vec, c.wrt) == (
        2,
        2,
        3,
        "xw",
        "row",
        ("X", "W", "b"),
    )
    assert sheet.derivation.verified
    assert [e.var for e in sheet.exercises] == ["X", "W", "b"]


def test_a_seed_draws_small_layers_reproducibly() -> None:
    sheets = [make_sheet(seed=s) for s in range(12)]
    configs = {(s.config.n, s.config.d, s.config.m, s.config.convention, s.config.vec,
                s.config.wrt) for s in sheets}  # fmt: skip
    assert len(configs) > 6  # the seed really chooses
    for s in sheets:
        assert {s.config.n, s.config.d, s.config.m} <= {2, 3}
        assert s.config.wrt
    again = make_sheet(seed=5)
    assert again.config == sheets[5].config and again.exercises == sheets[5].exercises


def test_fixing_one_choice_keeps_the_others() -> None:
    free, fixed = make_sheet(seed=11), make_sheet(seed=11, convention="column")
    assert fixed.config.convention == "column"
    for key in ("n", "d", "m", "vec", "wrt"):
        assert getattr(fixed.config, key) == getattr(free.config, key)


@pytest.mark.parametrize(
    ("options", "needle"),
    [({"n": 5}, "--n 5 is too large"), ({"m": 0}, "--m"), ({"wrt": "Q"}, "'Q'")],
)
def test_bad_choices_are_refused(options: dict, needle: str) -> None:  # type: ignore[type-arg]
    from symderiv.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(needle)):
        make_sheet(**options)


# -- the answers are the derivation's --------------------------------------------------------
def _expected(sheet: Sheet) -> list[tuple[str, Poly | int | Node]]:
    """Every answer recomputed from a fresh derivation, in the order the sheet prints."""
    d = derive(sheet.config)
    out: list[tuple[str, Poly | int | Node]] = []
    for ex in sheet.exercises:
        r = d.results[ex.var]
        out += [
            (f"{ex.var}.rows", r.jacobian.rows),
            (f"{ex.var}.cols", r.jacobian.cols),
        ]
        out += [(f"{ex.var}.jacobian.{i + 1}.{j + 1}", r.jacobian[i, j])
                for i, j in ex.jacobian_blanks]  # fmt: skip
        out.append(
            (f"{ex.var}.chain.{ex.chain_column + 1}", r.chain[0, ex.chain_column])
        )
        out += [(f"{ex.var}.derivative.{i + 1}.{j + 1}", r.derivative[i, j])
                for i, j in ex.derivative_blanks]  # fmt: skip
        out.append((f"{ex.var}.closed_form", r.closed_form))
    return out


@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3])
def test_answers_equal_the_derivations_results(seed: int | None) -> None:
    sheet = make_sheet(seed=seed)
    answers = sheet.answers()
    assert [(a.key, a.value) for a in answers] == _expected(sheet)


@pytest.mark.parametrize("seed", [None, 4, 8])
def test_each_answer_is_mathematically_right(seed: int | None) -> None:
    """Cross-checks: the chain entry is the closed form's entry; blanks sit where they say."""
    sheet = make_sheet(seed=seed)
    d, c = sheet.derivation, sheet.config
    env = {r: d.layer.matrix(r) for r in ("X", "W", "b")} | {"dY": d.upstream}
    for ex in sheet.exercises:
        closed = evaluate(d.results[ex.var].closed_form, env, c.sizes, c.vec)
        # Entry k of J_L(v) is ∂L/∂v_k: the closed form at v_k's place in V.
        i, j = vec_positions(c.shape(ex.var), c.vec)[ex.chain_column]
        assert d.results[ex.var].chain[0, ex.chain_column] == closed[i, j]
        jac = d.results[ex.var].jacobian
        assert any(jac[p].terms for p in ex.jacobian_blanks)  # some nonzeros to find
        assert any(not jac[p].terms for p in ex.jacobian_blanks)  # and some zeros
        assert ex.derivative_blanks


@pytest.mark.parametrize("seed", [None, 6])
def test_the_key_prints_every_answer_in_its_box(seed: int | None) -> None:
    sheet = make_sheet(seed=seed)
    letters = sheet.config.letters
    expected = [answer_tex(a, letters) for a in sheet.answers()]
    key = sheet_latex(sheet, answers=True)
    assert boxed(key, r"\sdanswer") == expected
    md = sheet_markdown(sheet, answers=True)
    assert boxed(md, r"\boxed{\color{blue}") == expected


@pytest.mark.parametrize("seed", [None, 6])
def test_the_sheet_gives_nothing_away(seed: int | None) -> None:
    sheet = make_sheet(seed=seed)
    tex = sheet_latex(sheet).split(r"\begin{document}")[1]
    blanks = re.findall(r"\\sd(?:mid|long)?blank\b", tex)
    assert len(blanks) == len(sheet.answers())
    assert r"\sdanswer{" not in tex
    md = sheet_markdown(sheet)
    assert md.count(r"\boxed{\phantom") == len(sheet.answers())
    assert r"\color{blue}" not in md
    # The same exercises: only the boxes differ.
    key = sheet_latex(sheet, answers=True).split(r"\begin{document}")[1]
    strip = re.compile(r"\\sd(?:mid|long)?blank\b|\\sdanswer")
    assert len(strip.split(tex)) == len(strip.split(key))


# -- LaTeX ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"seed": 1},
        {"n": 4, "d": 4, "m": 4},
        {"n": 1, "d": 1, "m": 1, "convention": "column"},
    ],
    ids=["default", "seed1", "4x4x4", "1x1x1-column"],
)
def test_sheet_and_key_compile_without_overfull_boxes(
    options: dict, tmp_path: Path
) -> None:  # type: ignore[type-arg]
    sheet = make_sheet(**options)
    compile_tex(sheet_latex(sheet), tmp_path, name="sheet")
    compile_tex(sheet_latex(sheet, answers=True), tmp_path, name="key")


def test_golden_sheet_and_key(golden) -> None:  # type: ignore[no-untyped-def]
    sheet = make_sheet(seed=3)
    golden("exercise_seed3.tex", sheet_latex(sheet))
    golden("exercise_seed3_answers.tex", sheet_latex(sheet, answers=True))
    golden("exercise_seed3_answers.md", sheet_markdown(sheet, answers=True))


# -- the command ------------------------------------------------------------------------------
def test_command_writes_sheet_and_key(runner: CliRunner, tmp_path: Path) -> None:
    sheet, key = tmp_path / "sheet.tex", tmp_path / "key.tex"
    args = ["exercise", "--seed", "2"]
    assert runner.invoke(cli, [*args, "-o", str(sheet)]).exit_code == 0
    assert runner.invoke(cli, [*args, "--answers", "-o", str(key)]).exit_code == 0
    made = make_sheet(seed=2)
    assert sheet.read_text(encoding="utf-8") == sheet_latex(made)
    assert key.read_text(encoding="utf-8") == sheet_latex(made, answers=True)
    assert "--seed 2 --answers" in key.read_text(encoding="utf-8")


def test_command_prints_markdown_and_is_deterministic(runner: CliRunner) -> None:
    args = ["exercise", "--format", "markdown", "--n", "3", "--wrt", "W"]
    first, second = runner.invoke(cli, args), runner.invoke(cli, args)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.startswith("# Exercise sheet")
    assert "Exercise 1: the derivative by the weights" in first.stdout
    assert "Exercise 2" not in first.stdout


def test_command_pdf(runner: CliRunner, tmp_path: Path) -> None:
    from texutil import require_tex

    require_tex()
    out = tmp_path / "key.tex"
    result = runner.invoke(cli, ["exercise", "--answers", "-o", str(out), "--pdf"])
    assert result.exit_code == 0, result.stderr
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--n", "5"], "too large"),
        (["--seed", "-1"], "--seed"),
        (["--wrt", "Q"], "'Q'"),
        (["--pdf"], "--pdf"),
        (["--format", "markdown", "--pdf", "-o", "x.md"], "--pdf"),
        (["--convention", "keras"], "keras"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    runner: CliRunner, args: list[str], needle: str
) -> None:
    result = runner.invoke(cli, ["exercise", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
