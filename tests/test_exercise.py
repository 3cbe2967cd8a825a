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
    assert boxed(key, r"\boxed{\color{blue}") == expected
    md = sheet_markdown(sheet, answers=True)
    assert boxed(md, r"\boxed{\color{blue}") == expected


@pytest.mark.parametrize("seed", [None, 6])
def test_the_sheet_gives_nothing_away(seed: int | None) -> None:
    sheet = make_sheet(seed=seed)
    tex = sheet_latex(sheet).split(r"\begin{document}")[1]
    blanks = re.findall(r"\\boxed\{\\phantom", tex)
    assert len(blanks) == len(sheet.answers())
    assert r"\color{blue}" not in tex
    md = sheet_markdown(sheet)
    assert md.count(r"\boxed{\phantom") == len(sheet.answers())
    assert r"\color{blue}" not in md
    # The same exercises: only the boxes differ.
    key = sheet_latex(sheet, answers=True).split(r"\begin{document}")[1]
    strip = re.compile(r"\\boxed\{\\phantom|\\boxed\{\\color\{blue\}")
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
    assert "Exercise 1: the derivative with respect to the weights" in first.stdout
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


# -- index-notation blanks (--kind index) ----------------------------------------------------
@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_index_blanks_come_from_the_index_view(convention: str) -> None:
    """Each variable's three blanks: ∂y_ij/∂v_hk with its delta, the sum the delta
    leaves (one Σ fewer than the chain rule's), and the entry of the closed form."""
    from symderiv.exercise import IndexQuestion
    from symderiv.render.formula import formula_text

    sheet = make_sheet(convention=convention, kinds="index")
    assert sheet.exercises == ()  # the index questions only
    questions = [q for q in sheet.extras if isinstance(q, IndexQuestion)]
    assert [q.var for q in questions] == list(sheet.config.wrt)
    letters = sheet.config.letters
    for q in questions:
        closed = sheet.derivation.results[q.var].closed_form
        # (c): entry (h, k) of the closed form the derivation proved
        assert q.entry.text.startswith(f"({formula_text(closed, letters)})_")
        if q.var != "b":
            assert "δ" in q.partial.text and r"\delta" in q.partial.latex
        assert q.chain.text.count("Σ") == 2
        assert q.collapsed.text.count("Σ") == q.chain.text.count("Σ") - 1
        assert "δ" not in q.collapsed.text  # the delta has done its work
        assert [a.key for a in q.answers()] == [
            f"{q.var}.index_partial",
            f"{q.var}.index_sum",
            f"{q.var}.index_entry",
        ]


def test_index_blanks_on_the_sheet_and_in_the_key() -> None:
    sheet = make_sheet(wrt="W", kinds="steps,index")
    answers = sheet.answers()
    index = [a for a in answers if ".index_" in a.key]
    assert len(index) == 3
    for fmt in (sheet_latex, sheet_markdown):
        blank, key = fmt(sheet), fmt(sheet, answers=True)
        assert "index notation" in blank and "index notation" in key
        filled = boxed(key, r"\boxed{\color{blue}")
        for a in index:
            assert answer_tex(a, sheet.config.letters) in filled
            assert (
                answer_tex(a, sheet.config.letters)
                not in blank.split("index notation")[1]
            )


def test_index_kind_on_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    import json

    result = runner.invoke(
        cli, ["exercise", "--kind", "index", "--wrt", "X", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert "--kind index" in doc["command"]
    kinds = [b["kind"] for b in doc["blanks"]]
    assert kinds == ["index_partial", "index_sum", "index_entry"]
    assert all(b["latex"] and b["answer"] for b in doc["blanks"])
    bad = runner.invoke(cli, ["exercise", "--kind", "index,indexes"])
    assert bad.exit_code == 2 and "index" in bad.stderr


def test_a_roster_asks_index_notation_unless_told_otherwise() -> None:
    from symderiv.exercise import IndexQuestion, make_roster

    roster = make_roster(["Ada", "Alan"], wrt="b")
    for sheet in roster.sheets:
        assert sheet.kinds == ("steps", "index")
        assert sheet.exercises and any(
            isinstance(q, IndexQuestion) for q in sheet.extras
        )
    only = make_roster(["Ada"], wrt="b", kinds="steps")
    assert not only.sheets[0].extras


@pytest.mark.parametrize("seed", [3, 11])
def test_every_kind_compiles_and_looks_right(tmp_path: Path, seed: int) -> None:
    sheet = make_sheet(seed=seed, kinds="steps,shapes,choice,index", loss="mse")
    compile_tex(sheet_latex(sheet), tmp_path, name="sheet")
    compile_tex(sheet_latex(sheet, answers=True), tmp_path, name="key")


# -- review: the sheet's notation is the article's ----------------------------------------
def test_column_sheet_sets_sizes_sums_and_source_as_the_article_does(
    tmp_path: Path,
) -> None:
    """C_in is C with a roman subscript (in the sizes and in the index sums), the
    source's formula is maths, 'mytorch' has TeX quotes and reshape(-1) is code."""
    sheet = make_sheet(convention="column", kinds="steps,index")
    tex = sheet_latex(sheet)
    assert r"C_{\mathrm{in}} = " in tex and r"C_{\mathrm{out}} = " in tex
    assert "C_in" not in tex and "C_{in}" not in tex and "C_{out}" not in tex
    assert r"\sum_{l=1}^{C_{\mathrm{in}}}" in tex
    assert "'mytorch'" not in tex and "``mytorch''" in tex
    assert r"W$^{T}$" not in tex and r"Linear class), $Z = A \, W^{T} + " in tex
    assert tex.count(r"Z = A \, W^{T}") == 1  # the source's formula is the layer's
    assert r"\texttt{reshape(-1)}" in tex
    compile_tex(tex, tmp_path, name="sheet")
    md = sheet_markdown(sheet)
    assert "C_in =" not in md and r"C_{\mathrm{in}}" in md
    assert "'mytorch'" not in md and "`reshape(-1)`" in md
    assert "Z = A Wᵀ + 1 bᵀ)" not in md  # the source's formula is maths too


def test_loss_question_sets_the_batch_size_name_as_the_article_does() -> None:
    from symderiv.exercise import make_sheet as make

    sheet = make(convention="column", loss="mse", kinds="steps")
    assert r"\frac{1}{2N}" in sheet_latex(sheet)


# -- review: usability -----------------------------------------------------------------------
def test_choice_options_are_labelled_unlike_the_question() -> None:
    """The question is "(a)"; its options are A–D, never (a)–(d) as well."""
    sheet = make_sheet(seed=5, kinds="choice")
    for text in (sheet_latex(sheet), sheet_markdown(sheet)):
        assert "(a)" in text and "(b)" not in text and "(d)" not in text
        assert all(rf"\text{{{k}}}\; \square" in text for k in "ABCD")


@pytest.mark.parametrize("seed", [None, *range(12)])
def test_shape_and_choice_questions_draw_distinct_sizes(seed: int | None) -> None:
    """A square X cannot catch a transpose: N, D, M differ pairwise, the same on every
    run of a seed; sizes given stay as given."""
    sheet = make_sheet(seed=seed, kinds="shapes,choice")
    c = sheet.config
    assert len({c.n, c.d, c.m}) == 3
    again = make_sheet(seed=seed, kinds="shapes,choice").config
    assert (again.n, again.d, again.m) == (c.n, c.d, c.m)
    fixed = make_sheet(seed=seed, n=4, kinds="shapes").config
    assert fixed.n == 4 and len({fixed.n, fixed.d, fixed.m}) == 3


def test_distinct_sizes_leave_other_sheets_alone() -> None:
    """Sheets without shape or choice questions keep the sizes their seed always gave."""
    from symderiv.exercise import RANDOM_SIZES

    repeated = 0
    for seed in range(12):
        c = make_sheet(seed=seed, kinds="steps,index").config
        assert {c.n, c.d, c.m} <= set(RANDOM_SIZES)
        repeated += len({c.n, c.d, c.m}) < 3
    assert repeated  # sizes 2–3 repeat: only shape and choice sheets redraw them


def test_big_matrices_leave_room_to_write(tmp_path: Path) -> None:
    """At 4×4×4, part (c) lists the entries row by row with a blank as wide as a
    four-term sum, instead of a matrix scaled down to 5 pt; small sheets keep the matrix."""
    from symderiv.render.sheet import BLANKS

    sheet = make_sheet(n=4, d=4, m=4)
    tex = sheet_latex(sheet)
    for part in tex.split(r"\paragraph{(c)}")[1:]:
        part = part.split(r"\paragraph{(d)}")[0]
        assert r"\begin{bmatrix}" not in part and r"\begin{aligned}" in part
        widths = [float(w) for w in re.findall(r"\\hspace\{([\d.]+)em\}", part)]
        assert widths and min(widths) >= BLANKS["entry"][0]  # room for a 4-term sum
    compile_tex(tex, tmp_path, name="sheet")
    compile_tex(sheet_latex(sheet, answers=True), tmp_path, name="key")
    small = sheet_latex(make_sheet())
    assert all(
        r"\begin{bmatrix}" in p.split(r"\paragraph{(d)}")[0]
        for p in small.split(r"\paragraph{(c)}")[1:]
    )


def test_roster_headings_with_long_names_fit(tmp_path: Path) -> None:
    """ "Answer key for Niklaus Wirth: back-prop-a-ga-tion" ran 1.4 pt into the margin."""
    from symderiv.exercise import make_roster
    from symderiv.render.sheet import roster_key_latex

    names = ["Niklaus Wirth", "Tony Hoare", "Donald Knuth", "Sophie Wilson"]
    roster = make_roster(names, wrt="b", kinds="steps")
    compile_tex(sheet_latex(roster.sheets[1]), tmp_path, name="sheet")
    compile_tex(roster_key_latex(roster), tmp_path, name="key")


def test_a_students_roster_sheet_cannot_rebuild_its_key() -> None:
    """A roster sheet names no seed: the seed drawn from the name would print the key."""
    from symderiv.exercise import make_roster

    roster = make_roster(["Bob", "Alice"], salt=424242)
    for sheet in roster.sheets:
        assert sheet.seed is not None
        for text in (sheet_latex(sheet), sheet_markdown(sheet)):
            assert str(sheet.seed) not in text and "--seed" not in text
            assert "symderiv exercise --roster" in text
        # the class key still says how to reproduce each answer
        assert str(sheet.seed) in sheet_latex(sheet, answers=True)


def test_column_sheets_write_the_chain_rule_with_z() -> None:
    """The column convention's output is Z, so its sheets write J_f(z)·J_z(w), as derive."""
    sheet = make_sheet(convention="column", seed=1)
    for text in (sheet_latex(sheet, answers=True), sheet_markdown(sheet)):
        assert "J_f(z)" in text and "J_{z}(w)" in text
        assert "J_f(y)" not in text and "J_y(" not in text and "J_{y}" not in text


def test_help_states_the_sizes_a_seed_draws(runner: CliRunner) -> None:
    """--help promised sizes 2-3, but --seed 3 --kind choice drew M = 4: shape and
    choice questions draw N, D, M pairwise different from 2-4. Help and behaviour agree."""
    result = runner.invoke(cli, ["exercise", "--help"], terminal_width=200)
    seed_help = " ".join(
        result.stdout.split("--seed INTEGER")[1].split("--kind")[0].split()
    )
    ranges = re.findall(r"(\d)-(\d)", seed_help)
    assert len(ranges) == 2, seed_help
    (lo, hi), (dlo, dhi) = ((int(a), int(b)) for a, b in ranges)
    assert "shapes or choice" in seed_help and "pairwise" in seed_help
    for seed in range(40):
        for kinds, (a, b) in (("steps,index", (lo, hi)), ("shapes", (dlo, dhi))):
            c = make_sheet(seed=seed, kinds=kinds).config
            assert all(a <= s <= b for s in (c.n, c.d, c.m)), (seed, kinds)
    c = make_sheet(seed=3, kinds="choice").config
    assert max(c.n, c.d, c.m) == 4  # the review's case, now as the help says


@pytest.mark.parametrize("kinds", ["shapes", "choice", "index", "shapes,choice"])
def test_a_sheet_without_steps_does_not_give_the_shapes_away(kinds: str) -> None:
    """The preamble wrote X ∈ ℝ^(2×3), W ∈ ℝ^(3×4), the matrices and vec(Y), which
    answered the shapes question before it was asked. Without the step-by-step
    blanks (which need the entries) it states the sizes and the layer only."""
    sheet = make_sheet(seed=4, kinds=kinds)
    c = sheet.config
    for text in (sheet_latex(sheet), sheet_markdown(sheet)):
        preamble = text.split("Exercise 1")[0]
        assert f"N = {c.n}, D = {c.d}, M = {c.m}" in preamble
        assert r"\mathbb{R}^{" not in preamble and "bmatrix" not in preamble
        assert r"\operatorname{vec}(Y) =" not in preamble
    key = sheet_markdown(sheet, answers=True).split("Exercise 1")[0]
    assert (
        key.split("\n", 1)[1]
        == sheet_markdown(sheet).split("Exercise 1")[0].split("\n", 1)[1]
    )
    # the step-by-step sheet still shows every entry it asks about
    steps = sheet_markdown(make_sheet(seed=4, kinds="steps,shapes")).split("Exercise 1")
    assert r"\mathbb{R}^{" in steps[0] and "bmatrix" in steps[0]


def test_a_roster_of_any_script_lists_who_gets_which_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Names with no Latin letters got files nobody could tell apart (and a student
    called Key got class-key.tex, which the answer key then overwrote): class-index.csv
    lists each name with its file, and key and index are never a student's file name."""
    import csv

    names = ["李小龙", "Émile Zola", "Анна Каренина", "李小龍", "Key", "Index"]
    roster = tmp_path / "class.txt"
    roster.write_text("\n".join(names) + "\n", encoding="utf-8")
    args = ["exercise", "--roster", str(roster), "-o", str(tmp_path / "class.tex")]
    result = runner.invoke(cli, [*args, "--kind", "steps", "--wrt", "b"])
    assert result.exit_code == 0, result.stderr
    assert "class-index.csv" in result.stderr
    with open(tmp_path / "class-index.csv", encoding="utf-8", newline="") as f:
        rows = [row[:2] for row in csv.reader(f)]
    assert rows[0] == ["name", "file"]
    assert [name for name, _ in rows[1:]] == names
    files = [file for _, file in rows[1:]]
    assert len(set(files)) == len(names)
    assert "class-key.tex" not in files and "class-index.csv" not in files
    assert files[1] == "class-emile-zola.tex" and files[0] == "class-student-1.tex"
    from symderiv.render.latex import latex_escape

    for name, file in rows[1:]:  # pdflatex prints 李 as [U+674E]: the index tells
        text = (tmp_path / file).read_text(encoding="utf-8")
        assert f"Exercise sheet for {latex_escape(name)}" in text
    assert "Answer key" in (tmp_path / "class-key.tex").read_text(encoding="utf-8")


# -- multiple choice: exactly one right option, at every size --------------------------------
def _oracle_value(node: Node, mats: dict, sizes: dict[str, int]) -> object:  # type: ignore[type-arg]
    """An option evaluated with the oracle's sympy matrices (None: it does not multiply)."""
    import sympy as sp

    from symderiv.notation import Ones, Prod, Recip, Scalar, Sum, Sym, T

    def value(part: Node) -> object:
        if isinstance(part, Sym):
            return mats[part.role]
        if isinstance(part, Ones):
            return sp.ones(sizes[part.size], 1)
        if isinstance(part, T):
            return value(part.arg).T  # type: ignore[attr-defined]
        if isinstance(part, Scalar):
            return sp.Rational(part.value.numerator, part.value.denominator)
        if isinstance(part, Recip):
            return sp.Rational(1, sizes[part.size])
        if isinstance(part, Sum):
            return sum((value(a) for a in part.args[1:]), value(part.args[0]))  # type: ignore[arg-type]
        if isinstance(part, Prod):
            out = value(part.args[0])
            for a in part.args[1:]:
                out = out * value(a)  # type: ignore[operator]
            return out
        raise TypeError(part)

    try:
        return value(node)
    except sp.ShapeError:
        return None


def _shape_at(node: Node, sheet: Sheet) -> tuple[int, int] | None:
    """The shape of an option at the sheet's sizes, or None for a scalar factor (1/N).

    Each leaf's shape comes from the project's shape function (``notation.shape`` with
    the convention's table of shapes); products and sums are checked here with numbers,
    since at the sheet's sizes Xᵀ·X conforms whatever N and D are called.

    Raises:
        AssertionError: a product whose inner sizes differ, or a sum of unequal shapes.
    """
    from symderiv.notation import Prod, Sum, T, shape

    c = sheet.config
    if isinstance(node, T):
        inner = _shape_at(node.arg, sheet)
        return None if inner is None else (inner[1], inner[0])
    if isinstance(node, Prod):
        shapes = [s for a in node.args if (s := _shape_at(a, sheet)) is not None]
        for left, right in zip(shapes, shapes[1:], strict=False):
            assert left[1] == right[0], f"{left}·{right} does not multiply"
        return (shapes[0][0], shapes[-1][1]) if shapes else None
    if isinstance(node, Sum):
        terms = {_shape_at(a, sheet) for a in node.args}
        assert len(terms) == 1, f"a sum of shapes {sorted(map(str, terms))}"
        return terms.pop()
    leaf = shape(node, c.conv.shapes)
    return None if leaf is None else leaf.numbers({"N": c.n, "D": c.d, "M": c.m})


def _right_options(sheet: Sheet) -> list[tuple[str, list[int], int, int]]:
    """For each choice question: its variable, the options equal to the oracle's
    gradient (sympy.diff of L = Σ dY ⊙ Y), the position the sheet marks right, and how
    many options have the gradient's shape."""
    import oracle

    from symderiv.exercise import ChoiceQuestion

    c = sheet.config
    mats = oracle.layer(c.convention, c.n, c.d, c.m)
    sizes = {"N": c.n, "D": c.d, "M": c.m}
    out = []
    for q in sheet.extras:
        assert isinstance(q, ChoiceQuestion)
        want = oracle.gradient(mats, q.var, "generic")
        right, shaped = [], 0
        for k, option in enumerate(q.options):
            got = _oracle_value(option, mats, sizes)
            shaped += got is not None and got.shape == want.shape  # type: ignore[attr-defined]
            if got is not None and oracle.same(got, want):  # type: ignore[arg-type]
                right.append(k)
        out.append((q.var, right, q.correct, shaped))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_every_choice_question_has_exactly_one_right_option(convention: str) -> None:
    """At sizes 1-4 a look-alike could equal the answer (with N = 1, 1_Nᵀ·dY is dY, and
    when shapes coincide a transpose can be right too): 72 of 192 questions had
    several right options. Every option is now checked against the gradient.

    Every option is also a well-formed product at the sheet's sizes: with N = 1 the
    sheet offered Wᵀ·dY, (M×D)·(1×M), a formula a student rules out because it is
    undefined, not by the chain rule (132 such options at sizes 1-4, all at N = 1)."""
    import itertools

    for n, d, m in itertools.product(range(1, 5), repeat=3):
        sheet = make_sheet(n, d, m, convention=convention, kinds="choice")
        for var, right, correct, shaped in _right_options(sheet):
            assert right == [correct], (n, d, m, var)
            assert shaped >= 3, (n, d, m, var)  # shape alone does not decide
            options = sheet.extras["XWb".index(var)].options  # type: ignore[union-attr]
            for option in options:
                try:
                    _shape_at(option, sheet)
                except AssertionError as exc:
                    raise AssertionError(f"{(n, d, m, var)}: {option}: {exc}") from None
            # four options, three where N = M = 1 leaves only two wrong formulas
            assert len(set(options)) == len(options)
            assert len(options) == 4 or (len(options) == 3 and n == m == 1)


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_choice_options_are_not_told_apart_by_shape(convention: str) -> None:
    """At pairwise different sizes (what a seed draws) only the answer had the right
    shape (24 of 24 questions): a student could tick it by shapes alone. Now every
    option there has the answer's shape (at sizes 1-4 at least three do, tested
    above)."""
    for seed in range(6):
        sheet = make_sheet(seed=seed, convention=convention, kinds="choice")
        for var, right, correct, shaped in _right_options(sheet):
            assert right == [correct] and shaped == 4, (seed, var)


def test_choice_json_gives_the_options_and_the_right_letter(runner: CliRunner) -> None:
    """A platform must show the options and grade the letter: the JSON blank lists each
    option (letter, Unicode text, LaTeX, as the derivation's JSON writes formulas) and
    the right letter (it had only the closed form)."""
    import json

    from symderiv.exercise import ChoiceQuestion
    from symderiv.render.formula import formula_latex, formula_text

    args = ["exercise", "--kind", "choice", "--seed", "3", "--format", "json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    blanks = json.loads(result.stdout)["blanks"]
    sheet = make_sheet(seed=3, kinds="choice")
    letters = sheet.config.letters
    assert len(blanks) == len(sheet.extras) == len(sheet.config.wrt)
    for blank, q in zip(blanks, sheet.extras, strict=True):
        assert isinstance(q, ChoiceQuestion) and blank["kind"] == "choice"
        assert blank["options"] == [
            {
                "letter": "ABCD"[k],
                "text": formula_text(node, letters),
                "latex": formula_latex(node, letters),
            }
            for k, node in enumerate(q.options)
        ]
        assert blank["correct"] == "ABCD"[q.correct]
        (right,) = [o for o in blank["options"] if o["letter"] == blank["correct"]]
        closed = sheet.derivation.results[q.var].closed_form
        assert right["text"] == formula_text(closed, letters)
