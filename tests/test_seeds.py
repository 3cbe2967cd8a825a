"""Issue 15: class rosters, conventions --pdf and the notation profile's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import cli
from symderiv.errors import UsageError
from symderiv.exercise import (
    make_roster,
    make_sheet,
    parse_roster,
    read_roster,
    student_seed,
)
from symderiv.render.sheet import roster_key_latex, roster_key_markdown, sheet_latex

NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Émile Borel")


# -- the roster as data -------------------------------------------------------------------
def test_student_seed_is_stable_and_not_pythons_hash() -> None:
    # SHA-256 of the normalised name: the same on every machine and run (Python's
    # hash() of a str is randomised per process)
    assert student_seed("Ada Lovelace") == student_seed(" ada   LOVELACE ")
    assert student_seed("Ada Lovelace") != student_seed("Alan Turing")
    assert student_seed("Ada Lovelace", 1) != student_seed("Ada Lovelace", 2)
    import hashlib

    digest = hashlib.sha256(b"0:ada lovelace").digest()
    assert student_seed("Ada Lovelace") == int.from_bytes(digest[:8], "big")


def test_every_student_gets_their_own_sheet_reproducibly() -> None:
    roster = make_roster(NAMES)
    assert roster.names == NAMES
    assert roster.slugs() == (
        "ada-lovelace",
        "alan-turing",
        "grace-hopper",
        "emile-borel",
    )
    for name, sheet in zip(NAMES, roster.sheets, strict=True):
        assert sheet.student == name
        assert sheet.seed == student_seed(name)
        again = make_sheet(seed=student_seed(name))
        assert again.config == sheet.config and again.exercises == sheet.exercises
    # different layers or blanks for every pair
    shown = {(s.config, s.exercises) for s in roster.sheets}
    assert len(shown) == len(NAMES)
    # the same student, alone or in another roster order: the same sheet
    alone = make_roster(["Grace Hopper"]).sheets[0]
    assert alone.exercises == roster.sheets[2].exercises


def test_fixed_options_hold_for_the_whole_class() -> None:
    roster = make_roster(NAMES, convention="torch", wrt="W", n=2, d=3, m=2)
    assert {s.config.convention for s in roster.sheets} == {"torch"}
    assert {s.config.wrt for s in roster.sheets} == {("W",)}
    assert len({s.exercises for s in roster.sheets}) == len(NAMES)


def test_a_salt_changes_every_sheet() -> None:
    a, b = make_roster(NAMES), make_roster(NAMES, salt=2027)
    assert all(
        (x.config, x.exercises) != (y.config, y.exercises)
        for x, y in zip(a.sheets, b.sheets, strict=True)
    )


def test_combined_key_has_every_student() -> None:
    roster = make_roster(NAMES[:2], convention="xw", wrt="b")
    tex = roster_key_latex(roster)
    assert tex.count("\\begin{document}") == 1 and tex.count("\\end{document}") == 1
    assert "Answer key for Ada Lovelace" in tex and "Answer key for Alan Turing" in tex
    assert tex.count("\\clearpage") == 1
    md = roster_key_markdown(roster)
    assert (
        "# Answer key for Ada Lovelace" in md and "# Answer key for Alan Turing" in md
    )
    # a student's own sheet names them, without answers
    sheet = sheet_latex(roster.sheets[0])
    assert (
        "Exercise sheet for Ada Lovelace" in sheet
        and "\\color{blue}" not in sheet.split("\\begin{document}")[1]
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "names no students"),
        ("\n  \n# only a comment\n", "names no students"),
        ("Ada\nada\n", "also on line 1"),
        ("Ada\x07\n", "control character"),
    ],
)
def test_bad_rosters(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_roster(text)


def test_roster_file_reading(tmp_path: Path) -> None:
    good = tmp_path / "class.txt"
    good.write_text(
        "\ufeffAda Lovelace\r\n\r\n# TA\r\nAlan  Turing\r\n", encoding="utf-8"
    )
    assert read_roster(str(good)) == ("Ada Lovelace", "Alan Turing")
    with pytest.raises(UsageError, match="cannot be read"):
        read_roster(str(tmp_path / "missing.txt"))
    with pytest.raises(UsageError, match="is a folder"):
        read_roster(str(tmp_path))
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Émile\n".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        read_roster(str(latin))


# -- the roster on the command line ---------------------------------------------------------
def test_roster_command_writes_sheets_and_key(
    runner: CliRunner, tmp_path: Path
) -> None:
    roster = tmp_path / "class.txt"
    roster.write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    out = tmp_path / "week3.tex"
    args = ["exercise", "--roster", str(roster), "-o", str(out), "--wrt", "W"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(
        ["class.txt", "week3-key.tex", "week3-index.csv"]
        + [
            f"week3-{s}.tex"
            for s in ("ada-lovelace", "alan-turing", "grace-hopper", "emile-borel")
        ]
    )
    first = (tmp_path / "week3-ada-lovelace.tex").read_bytes()
    # reproducible: the same bytes on a second run
    assert runner.invoke(cli, args).exit_code == 0
    assert (tmp_path / "week3-ada-lovelace.tex").read_bytes() == first
    key = (tmp_path / "week3-key.tex").read_text(encoding="utf-8")
    assert all(
        f"Answer key for {latex}" in key for latex in ("Ada Lovelace", "Grace Hopper")
    )


def test_roster_command_markdown(runner: CliRunner, tmp_path: Path) -> None:
    roster = tmp_path / "class.txt"
    roster.write_text("Ada\nAlan\n", encoding="utf-8")
    result = runner.invoke(
        cli,
        [
            "exercise",
            "--roster",
            str(roster),
            "--format",
            "markdown",
            "-o",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "s-ada.md").exists() and (tmp_path / "s-key.md").exists()


@pytest.mark.parametrize(
    ("content", "extra", "needle"),
    [
        ("", [], "names no students"),
        ("# nobody\n", [], "names no students"),
        (None, [], "cannot be read"),
        ("Ada\n", ["--answers"], "--answers"),
        ("Ada\nADA\n", [], "also on line"),
    ],
)
def test_roster_refusals_write_nothing(
    runner: CliRunner,
    tmp_path: Path,
    content: str | None,
    extra: list[str],
    needle: str,
) -> None:
    roster = tmp_path / "class.txt"
    if content is not None:
        roster.write_text(content, encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    out = tmp_path / "s.tex"
    result = runner.invoke(
        cli, ["exercise", "--roster", str(roster), "-o", str(out), *extra]
    )
    assert result.exit_code == 2
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == before


def test_roster_needs_an_output(runner: CliRunner, tmp_path: Path) -> None:
    roster = tmp_path / "class.txt"
    roster.write_text("Ada\n", encoding="utf-8")
    result = runner.invoke(cli, ["exercise", "--roster", str(roster)])
    assert result.exit_code == 2 and "-o FILE" in result.stderr


def test_roster_pdf(runner: CliRunner, tmp_path: Path) -> None:
    from texutil import require_tex

    require_tex()
    roster = tmp_path / "class.txt"
    roster.write_text("Ada\nAlan\n", encoding="utf-8")
    out = tmp_path / "c.tex"
    result = runner.invoke(
        cli, ["exercise", "--roster", str(roster), "-o", str(out), "--pdf"]
    )
    assert result.exit_code == 0, result.stderr
    for stem in ("c-ada", "c-alan", "c-key"):
        assert (tmp_path / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


# -- conventions --pdf ------------------------------------------------------------------------
def test_conventions_pdf(runner: CliRunner, tmp_path: Path) -> None:
    from texutil import require_tex

    require_tex()
    out = tmp_path / "conv.tex"
    result = runner.invoke(
        cli, ["conventions", "--format", "latex", "-o", str(out), "--pdf"]
    )
    assert result.exit_code == 0, result.stderr
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "args", [["--pdf"], ["--format", "markdown", "--pdf", "-o", "c.md"]]
)
def test_conventions_pdf_refusals(
    runner: CliRunner, tmp_path: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["conventions", *args])
    assert result.exit_code == 2 and "--pdf" in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- the notation profile: options and refusals ----------------------------------------------
def test_profile_reaches_the_config() -> None:
    from symderiv.conventions import Config

    c = Config(
        names={"D": "C_in", "M": "C_out", "delta": "Id", "X": "A"},
        index_base=0,
        upstream="bar",
        bold=True,
        values=3,
    )
    assert c.size_names == ("N", "C_in", "C_out")
    assert c.delta == "Id" and c.letters.X == "A"
    assert c.to_dict()["index_base"] == 0 and c.to_dict()["upstream"] == "bar"
    assert Config(convention="column").size_names == ("N", "C_in", "C_out")
    assert Config(names={"N": "B"}).size_names == ("B", "D", "M")
    assert "index_base" not in Config().to_dict()  # defaults keep the JSON as it was
    assert hash(c) != hash(Config())


@pytest.mark.parametrize(
    ("names", "needle"),
    [
        ({"D": "C_in", "M": "C_in"}, "like the size D"),
        ({"D": "W"}, "like the matrix W"),
        ({"X": "N"}, "is a size"),
        ({"M": "x"}, "like the entries of X"),
        ({"N": "L"}, "reserved"),
        ({"delta": "W"}, "like the matrix W"),
        ({"delta": "N"}, "like the size N"),
        ({"N": "B", "b": "B"}, "like the matrix b"),
    ],
)
def test_size_and_delta_collisions(names: dict[str, str], needle: str) -> None:
    from symderiv.conventions import Config
    from symderiv.errors import DisplayNameError

    with pytest.raises(DisplayNameError, match=needle):
        Config(names=names)


@pytest.mark.parametrize(
    "good", ["D=C_in,M=C_out", "N=B", "D=d_in,M=d_out", "D=M_in,M=M_out"]
)
def test_seed_size_names_are_accepted(good: str) -> None:
    from symderiv.conventions import Config, parse_names

    Config(names=parse_names(good))
    Config(names=parse_names(good), convention="torch")


@pytest.mark.parametrize(
    "bad", ["D=C__in", "D=_in", "D=C_in_x", "delta=I_d", "M=C-out"]
)
def test_malformed_size_names(bad: str) -> None:
    from symderiv.conventions import parse_names
    from symderiv.errors import DisplayNameError

    with pytest.raises(DisplayNameError):
        parse_names(bad)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--index-base", "2"], "--index-base"),
        (["--values", "1.5"], "--values"),
        (["--values", "seven"], "--values"),
        (["--values", "-1"], "--values"),
        (["--names", "D=C_in,M=C_in"], "C_in"),
        (["--names", "D=X"], "matrix X"),
        (["--names", "X=N"], "is a size"),
        (["--upstream", "hat"], "--upstream"),
    ],
)
def test_profile_refusals_are_one_line_and_write_nothing(
    runner: CliRunner, tmp_path: Path, args: list[str], needle: str
) -> None:
    out = tmp_path / "a.tex"
    result = runner.invoke(cli, ["derive", *args, "--format", "latex", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


# -- new question types ------------------------------------------------------------------------
def test_look_alikes_of_dx() -> None:
    from symderiv.exercise import look_alikes
    from symderiv.notation import Prod, Sym, T

    got = look_alikes(Prod(Sym("dY"), T(Sym("W"))))
    assert got[:3] == (
        Prod(T(Sym("W")), Sym("dY")),  # Wᵀ·dY
        Prod(T(Sym("dY")), Sym("W")),  # dYᵀ·W
        Prod(Sym("dY"), Sym("W")),  # dY·W
    )


@pytest.mark.parametrize("conv", ["xw", "torch", "column"])
@pytest.mark.parametrize("layout", ["denominator", "numerator"])
def test_choice_has_one_right_answer(conv: str, layout: str) -> None:
    import random

    import numpy as np

    from symderiv.conventions import Config
    from symderiv.derive import derive
    from symderiv.exercise import question_choice
    from symderiv.numeric import draw_instance, evaluate

    deriv = derive(Config(n=2, d=3, m=4, convention=conv, layout=layout))
    inst = draw_instance(2, 3, 4, conv, seed=1)
    values = inst.values()
    for var in "XWb":
        q = question_choice(deriv, var, random.Random(0))
        assert len(q.options) == 4 and len(set(q.options)) == 4
        want = evaluate(deriv.results[var].closed_form, values, inst.sizes)
        right = []
        for node in q.options:
            try:
                got = evaluate(node, values, inst.sizes)
            except ValueError:  # the shapes do not even multiply
                continue
            if got.shape == want.shape and np.allclose(got, want):
                right.append(node)
        assert right == [q.options[q.correct]]


def test_shapes_question_matches_the_derivation() -> None:
    from symderiv.derive import derive
    from symderiv.exercise import question_shapes

    deriv = derive(n=2, d=3, m=4, convention="torch", layout="numerator")
    q = question_shapes(deriv, "W")
    assert [(r, c) for _, r, c in q.items] == [(4, 3), (2, 4), (8, 12), (1, 12), (3, 4)]
    assert [a.value for a in q.answers()] == [4, 3, 2, 4, 8, 12, 1, 12, 3, 4]


def test_mse_sheet_asks_for_the_loss_and_its_key_answers() -> None:
    from symderiv.exercise import LossQuestion
    from symderiv.render.sheet import sheet_markdown

    sheet = make_sheet(seed=3, loss="mse", kinds="shapes,choice")
    assert sheet.exercises == ()
    assert isinstance(sheet.extras[0], LossQuestion)
    loss = sheet.extras[0]
    i, j = loss.at
    assert (
        loss.entry.to_str()
        == f"(y_{i + 1}_{j + 1} - t_{i + 1}_{j + 1})/{sheet.config.n}"
    )
    keys = [a.key for a in sheet.answers()]
    assert keys[:2] == [f"dY.loss_entry.{i + 1}.{j + 1}", "dY.loss_formula"]
    md = sheet_markdown(sheet)
    assert "the targets" in md and "--kind shapes,choice --loss mse" in md
    key = sheet_markdown(sheet, answers=True)
    assert key.count(r"\checkmark") == len(sheet.config.wrt)


def test_default_sheet_is_unchanged_by_the_new_kinds() -> None:
    # sizes given: a sheet with shape or choice questions otherwise redraws N, D, M
    # pairwise distinct (a square X cannot catch a missing transpose)
    a = make_sheet(2, 3, 4, seed=5)
    b = make_sheet(2, 3, 4, seed=5, kinds="steps,choice")
    assert a.exercises == b.exercises and a.extras == ()
    assert len(b.extras) == len(b.config.wrt)


@pytest.mark.parametrize("bad", ["", "steps,steps", "essay", "shapes,"])
def test_bad_kinds(runner: CliRunner, tmp_path: Path, bad: str) -> None:
    result = runner.invoke(
        cli, ["exercise", "--kind", bad, "-o", str(tmp_path / "s.tex")]
    )
    assert result.exit_code == 2 and "--kind" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_kinds_compile(tmp_path: Path) -> None:
    from texutil import compile_tex

    sheet = make_sheet(seed=11, loss="mse", kinds="steps,shapes,choice")
    compile_tex(sheet_latex(sheet), tmp_path, name="sheet")
    compile_tex(sheet_latex(sheet, answers=True), tmp_path, name="key")


def test_verify_reproduces_seed_004(runner: CliRunner) -> None:
    args = ["verify", "--convention", "torch", "--loss", "mse"]
    result = runner.invoke(
        cli, [*args, "--n", "5", "--d", "4", "--m", "3", "--seed", "0"]
    )
    assert result.exit_code == 0, result.stderr
    assert "L = 7.859075" in result.stdout
    # seed 004 writes dX beside its input x, and issue 15 asks for these words
    assert "dX (5, 4), dW (3, 4), db (3,)" in result.stdout


def test_new_kinds_in_the_json_sheet() -> None:
    import json

    from symderiv.exercise import sheet_json

    sheet = make_sheet(seed=2, loss="mse", kinds="shapes,choice", wrt="W")
    doc = json.loads(sheet_json(sheet))
    kinds = [b["kind"] for b in doc["blanks"]]
    assert kinds[:2] == ["loss_entry", "loss_formula"]
    assert "shape_rows" in kinds and "shape_cols" in kinds
    (choice,) = [b for b in doc["blanks"] if b["kind"] == "choice"]
    assert choice["check"]["args"][-1] == "W"
    assert "check" not in doc["blanks"][1]  # dY = (Y − T)/N is not graded by check


# -- the notation profile reaches the printers ---------------------------------------------------
def _text(**options: object) -> str:
    from symderiv.derive import derive

    return derive(**options).to_text(width=160)  # type: ignore[arg-type]


def _latex(**options: object) -> str:
    from symderiv.derive import derive

    return derive(**options).to_latex()  # type: ignore[arg-type]


def test_index_base_zero_everywhere() -> None:
    text = _text(index_base=0)
    assert "x₀,₀" in text and "w₁,₂" in text and "b₂" in text
    assert "x₂,₂" not in text  # 2×2: the last entry is x₁,₁ now
    tex = _latex(index_base=0)
    assert "x_{0,0}" in tex and "x_{2,2}" not in tex
    # the canonical names (JSON, the certificate) stay 1-based
    from symderiv.derive import derive

    assert '"x_1_1"' in derive(index_base=0).to_json()


def test_index_view_from_zero_with_id_and_size_names() -> None:
    options = dict(
        method="index",
        layout="numerator",
        names={"X": "x", "Y": "y", "D": "M_in", "M": "M_out", "delta": "Id"},
        index_base=0,
    )
    text = _text(**options)
    assert "Idₕᵢ" in text and "δ" not in text.split("Step 5")[1].split("Step 6")[0]
    assert "M_in − 1" in text and "N − 1" in text
    tex = _latex(**options)
    assert r"\sum_{i=0}^{N - 1}" in tex and r"\mathrm{Id}_{" in tex
    assert r"M_{\mathrm{out}} - 1" in tex


def test_upstream_style() -> None:
    assert "ȳ₁,₁" in _text(upstream="bar") and "ȳ₁,₁" not in _text()
    tex = _latex(upstream="partial")
    body = tex.split(r"\begin{document}")[1]
    assert r"\bar{y}_{1,1}" not in body
    assert r"\bar{z}_{1,1}" in _latex(convention="column", upstream="bar")


def test_bold_matrices() -> None:
    tex = _latex(bold=True)
    assert r"\mathbf{X}" in tex and r"\mathbf{W}" in tex and r"\mathbf{b}" in tex
    assert r"\mathbf{X}" not in _latex()


#: Seed 000 (and 002) write the bias gradient so: a bold 1 with its length left to context.
SEED_000_DB = r"\frac{\partial L}{\partial \mathbf{b}} = \mathbf{1}^T"


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_bold_writes_seed_000s_ones(runner: CliRunner, fmt: str) -> None:
    """The README's seed-000 command (--bold) prints db as 1ᵀ·dY, not 1_Nᵀ·dY; the
    Kronecker form keeps 1_N ⊗ I_M (the sizes are its point), the length is said where
    the ones vector first appears, and without --bold nothing changes."""

    def out(*args: str) -> str:
        result = runner.invoke(cli, ["derive", "--format", fmt, *args])
        assert result.exit_code == 0, result.output
        return result.output.replace("^{T}", "^T")

    bold, plain = out("--bold"), out()
    db = SEED_000_DB.replace("= ", "=\n")  # the printers break after the =
    assert db in bold, fmt
    assert (
        r"\mathbf{1}_{N}^T" not in bold and r"\mathbf{1}_{N} \, \mathbf{b}" not in bold
    )
    assert r"\mathbf{1}_{N} \otimes I_{M}" in bold
    assert r"\mathbf{X} \in \mathbb{R}^{N \times D}" in bold  # the shapes, bold too
    assert r"is a column of $N$ ones" in bold or "is a column of $`N`$ ones" in bold
    assert db not in plain and r"\mathbf{1}_{N}^T \, \mathit{dY}" in plain
    torch = out("--bold", "--convention", "column")  # dLdZᵀ·1: the same habit
    assert r"\mathbf{1}_{N}" not in torch.split(r"\otimes")[0]


def test_profile_pdf(tmp_path: Path) -> None:
    from texutil import compile_tex

    tex = _latex(
        method="all",
        layout="numerator",
        names={"D": "M_in", "M": "M_out", "delta": "Id"},
        index_base=0,
        bold=True,
        upstream="bar",
    )
    compile_tex(tex, tmp_path, name="profile")


# -- the teaching devices reach every format -------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "latex", "beamer", "markdown", "ipynb"])
def test_devices_in_every_format(fmt: str) -> None:
    from symderiv.derive import derive
    from symderiv.render import render

    out = render(derive(n=2, d=2, m=3, values=1), fmt)
    memory = "256 GiB"
    assert memory in out, fmt
    assert "held constant" in out, fmt  # the function view
    # the slicing by input entry (slides use the short sentence)
    assert "sliced the other way" in out or "The other slicing" in out, fmt
    assert "--values 1" in out, fmt  # the numbers


def test_function_view_symbols_and_slices_in_latex() -> None:
    tex = _latex(convention="column")
    assert r"frac{\partial z_{1,1}}{\partial a_{1,1}}" in tex
    assert r"{\partial Z}{\partial b_{1}}" in tex


def test_values_numbers_are_the_companion() -> None:
    from symderiv.derive import derive
    from symderiv.values import companion

    d = derive(n=2, d=2, m=3, values=4)
    text = d.to_text(width=120)
    numbers = companion(d, 4)
    row = "  ".join(
        v.to_str() for v in (numbers.values["X"][0, 0], numbers.values["X"][0, 1])
    )
    # the terminal writes a negative number with the minus sign −, to_str with -
    assert row.replace("  ", "") in text.replace(" ", "").replace("−", "-")


def test_80_columns_show_every_entry(runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        ["derive", "--n", "2", "--d", "2", "--m", "3", "--format", "text"],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0
    assert "⋯" not in result.stdout
    assert "x₁,₁w₁,₁+x₁,₂w₂,₁+b₁" in result.stdout  # Y, whole
    assert "x₁,₁⋅ȳ₁,₁ + x₂,₁⋅ȳ₂,₁" in result.stdout  # ∂L/∂W, whole


def test_upstream_partial_keeps_fractions_and_drops_the_bar() -> None:
    text = _text(upstream="partial")
    assert "ȳ" not in text
    assert "ȳ" in _text(upstream="bar")
