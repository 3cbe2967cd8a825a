"""The terminal view for the lecture hall: layout at 80 columns, the shape ledger, the chain
rule written out for one entry, colour that means something (and none with NO_COLOR), SVG.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from rich.console import Console

from symderiv import derive
from symderiv.cli import cli
from symderiv.cli.step import svg_of
from symderiv.conventions import PREFIX, Letters
from symderiv.render.terminal import TerminalView, render_text

_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


@pytest.fixture(scope="module")
def d223():  # type: ignore[no-untyped-def]
    return derive(n=2, d=2, m=3)


def test_golden_at_80_columns(d223, golden) -> None:  # type: ignore[no-untyped-def]
    golden("derive_2x2x3_80.txt", render_text(d223, 80))


def test_golden_column_numerator_mse_at_80_columns(golden) -> None:  # type: ignore[no-untyped-def]
    d = derive(n=2, d=3, m=2, convention="column", layout="numerator", loss="mse")
    golden("derive_2x3x2_column_numerator_mse_80.txt", render_text(d, 80))


@pytest.mark.parametrize("width", [40, 80, 200])
@pytest.mark.parametrize(
    "options",
    [
        {"n": 2, "d": 2, "m": 3},
        {"n": 3, "d": 2, "m": 4, "convention": "torch", "vec": "col"},
        {"n": 1, "d": 11, "m": 2, "layout": "numerator", "loss": "sum"},
        {"n": 16, "d": 16, "m": 16, "wrt": "W"},
    ],
    ids=["2x2x3", "torch-col", "1x11x2-sum", "16-cubed"],
)
def test_nothing_is_wider_than_the_terminal(width: int, options: dict) -> None:  # type: ignore[type-arg]
    text = render_text(derive(**options), width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert not any(line != line.rstrip() for line in lines)


def test_header_wraps_between_settings_only(d223) -> None:  # type: ignore[no-untyped-def]
    head = render_text(d223, 80).splitlines()[:3]
    assert head[0] == "Backpropagation through Y = X·W + 1_N·b"
    assert (
        head[1]
        == "N = 2, D = 2, M = 3 · convention xw · row order · denominator layout"
    )
    assert head[2] == "loss generic · method jacobian"
    wide = render_text(d223, 200).splitlines()[1]
    assert wide.endswith("denominator layout · loss generic · method jacobian")


def test_entries_are_not_elided_where_they_fit(d223) -> None:  # type: ignore[no-untyped-def]
    text = render_text(d223, 80)
    # The 1×4 row J_L(x) is drawn as a column with ᵀ, every entry in full.
    assert "⎡∂L/∂y₁,₁⋅w₁,₁ + ∂L/∂y₁,₂⋅w₁,₂ + ∂L/∂y₁,₃⋅w₁,₃⎤ᵀ" in text
    assert "J_L(x) = ⎢∂L/∂y₂,₁⋅w₁,₁ + ∂L/∂y₂,₂⋅w₁,₂ + ∂L/∂y₂,₃⋅w₁,₃⎥  (1×4)" in text
    # The upstream row stays a row: it is the row J_f that multiplies the Jacobian.
    assert (
        "J_L(x) = [∂L/∂y₁,₁  ∂L/∂y₁,₂  ∂L/∂y₁,₃  ∂L/∂y₂,₁  ∂L/∂y₂,₂  ∂L/∂y₂,₃] (1×6)"
        in text
    )


def test_shape_ledger_under_every_step(d223) -> None:  # type: ignore[no-untyped-def]
    text = render_text(d223, 100)
    blocks = re.split(r"\nStep \d+ · ", text)[1:]
    assert len(blocks) == len(d223.steps)
    assert all("\nshapes: " in b for b in blocks)
    for needle in [
        # "; " between the formulas, "·" only as their product
        "shapes: X 2×2 (N×D); W 2×3 (D×M); b 1×3 (1×M)",
        "X·W + 1_N·b: (2×2)·(2×3) + (2×1)·(1×3) → 2×3",
        "∂vec(Y)/∂vec(X) 6×4 ((N·M)×(N·D))",
        "I_N ⊗ Wᵀ: (2×2) ⊗ (3×2) → 6×4",
        "J_f(y)·J_y(x): (1×6)·(6×4) → 1×4",
        "shapes: J_L(w) 1×6 reshaped; ∂L/∂W 2×3 (D×M)",
        "shapes: ∂L/∂X 2×2 (N×D); dY·Wᵀ: (2×3)·(3×2) → 2×2; ∂L/∂W 2×3 (D×M)",
        "dY·Wᵀ: (2×3)·(3×2) → 2×2",
        "1_Nᵀ·dY: (1×2)·(2×3) → 1×3",
    ]:
        assert needle in text, needle


def test_ledger_has_the_commutation_matrix_in_torch() -> None:
    text = render_text(derive(n=2, d=3, m=2, convention="torch", wrt="W"), 100)
    assert "(x ⊗ I_M)·K: [(2×3) ⊗ (2×2)]·(6×6) → 4×6" in text


def _sum_lines(text: str) -> dict[str, str]:
    """'∂L/∂x₁,₁' -> the printed sum (continued lines joined)."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("Entry 1 written out"):
            lhs, _, rhs = lines[k + 1].partition(" = ")
            j = k + 2
            while lines[j].lstrip().startswith("+ "):
                rhs += " " + lines[j].strip()
                j += 1
            out[lhs] = rhs
    return out


def _as_sympy(printed: str, letters: Letters) -> sp.Expr:
    """∂L/∂y₁,₂⋅w₁,₁ + … -> dy_1_2*w_1_1 + … (the canonical names)."""
    text = printed.translate(_SUB).replace("⋅", "*")
    text = re.sub(r"∂L/∂[a-z]+(\d+),(\d+)", r"dy_\1_\2", text)
    prefixes = {letters.entry(role): PREFIX[role] for role in ("X", "W")}
    text = re.sub(
        r"\b([a-z])(\d+),(\d+)", lambda m: f"{prefixes[m[1]]}_{m[2]}_{m[3]}", text
    )
    return sp.parse_expr(text)


@pytest.mark.parametrize(
    "options",
    [
        {"n": 2, "d": 2, "m": 3},
        {"n": 3, "d": 2, "m": 2, "convention": "torch", "vec": "col"},
        {"n": 2, "d": 3, "m": 2, "convention": "column", "layout": "numerator"},
    ],
)
def test_one_entry_of_the_chain_rule_is_the_derivations_entry(options: dict) -> None:  # type: ignore[type-arg]
    d = derive(**options)
    sums = _sum_lines(render_text(d, 200))
    assert len(sums) == 3
    letters = d.config.letters
    for var in ("X", "W", "b"):
        name = "b₁" if var == "b" else f"{letters.entry(var)}₁,₁"
        printed = sums[f"∂L/∂{name}"]
        result = d.results[var]
        # Entry 1 of the row J_L = J_f·J_y, exactly, with one term per nonzero of column 1.
        assert (
            sp.expand(_as_sympy(printed, letters) - result.chain[0, 0].to_sympy()) == 0
        )
        nonzeros = sum(
            1 for r in range(result.jacobian.rows) if result.jacobian[r, 0].terms
        )
        assert printed.count(" + ") == nonzeros - 1


def test_the_sum_is_written_out_as_in_the_brief(d223) -> None:  # type: ignore[no-untyped-def]
    text = render_text(d223, 80)
    assert "∂L/∂x₁,₁ = ∂L/∂y₁,₁⋅w₁,₁ + ∂L/∂y₁,₂⋅w₁,₂ + ∂L/∂y₁,₃⋅w₁,₃" in text
    assert "∂L/∂b₁ = ∂L/∂y₁,₁⋅1 + ∂L/∂y₂,₁⋅1" in text
    assert "The other 3 entries of that column are 0 and drop out." in text


def _coloured(d, width: int = 100) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=True,
                      color_system="standard", highlight=False)  # fmt: skip
    console.print(TerminalView(d))
    return buffer.getvalue()


def test_colour_marks_upstream_terms_and_jacobian_nonzeros(d223) -> None:  # type: ignore[no-untyped-def]
    out = _coloured(d223)
    assert "\x1b[36m∂L/∂y₁,₁" in out  # upstream derivatives: cyan
    assert "\x1b[35mw₁,₁" in out  # a nonzero of ∂vec(Y)/∂vec(X): magenta
    assert "\x1b[2m0" in out  # its zeros: dim
    # Colour is only style: without the escape codes it is the plain text.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    expected = render_text(d223, 100)
    assert [ln.rstrip() for ln in plain.splitlines()] == expected.splitlines()[
        : len(plain.splitlines())
    ]


def test_plain_text_has_no_escape_codes(runner: CliRunner, d223) -> None:  # type: ignore[no-untyped-def]
    assert "\x1b" not in render_text(d223, 80)
    result = runner.invoke(cli, ["derive"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0 and "\x1b" not in result.stdout


# -- --svg ------------------------------------------------------------------------------------
def test_svg_is_valid_and_deterministic(runner: CliRunner, tmp_path: Path) -> None:
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    plain = runner.invoke(cli, ["derive", "--wrt", "W"])
    first = runner.invoke(cli, ["derive", "--wrt", "W", "--svg", str(a)])
    second = runner.invoke(cli, ["derive", "--wrt", "W", "--svg", str(b)])
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr
    assert first.stdout == plain.stdout  # the usual output still goes to stdout
    assert a.read_bytes() == b.read_bytes()
    root = ET.fromstring(a.read_text(encoding="utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = "".join(root.itertext()).replace("\xa0", " ")
    assert "symderiv derive --n 2 --d 2 --m 3 --wrt W" in text  # the title
    assert "Chain" in text and "Certificate" in text
    assert "#" in a.read_text(encoding="utf-8")  # colours are kept in the picture


def test_svg_in_a_missing_folder_is_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.svg"
    result = runner.invoke(cli, ["derive", "--svg", str(target)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert not target.parent.exists()


def test_svg_of_names_the_command(d223) -> None:  # type: ignore[no-untyped-def]
    svg = svg_of(d223, title="hello")
    assert svg.startswith("<svg") and "hello" in svg


@pytest.mark.parametrize("convention", ["xw", "column"])
def test_index_step_titles_write_entries_as_the_formulas_do(convention: str) -> None:
    """A step title names ∂yᵢⱼ/∂xₕₖ with the subscripts its formula below uses, not y_ij."""
    text = render_text(derive(n=2, d=2, m=3, convention=convention, method="index"))
    titles = [line for line in text.splitlines() if "Index notation:" in line]
    y, x = ("z", "a") if convention == "column" else ("y", "x")
    assert any(f"Index notation: ∂{y}ᵢⱼ/∂{x}ₕₖ " in t for t in titles), titles
    assert any(f"chain rule for ∂L/∂{x}ₕₖ " in t for t in titles), titles
    assert not any(re.search(r"_[a-z]{1,2}\b", t) for t in titles), titles


def test_with_values_the_upstream_note_says_the_numbers_stand_in() -> None:
    """--values prints dY as numbers just above: "they stay symbols" alone would contradict it."""
    plain = render_text(derive(n=2, d=2, m=3))
    numbers = render_text(derive(n=2, d=2, m=3, values=1))
    assert "numbers above stand in" not in plain
    assert "the numbers above stand in for them" in " ".join(numbers.split())


# -- display of long entries and wide matrices (the lecturer's review) -------------------------
def _steps(text: str) -> dict[int, str]:
    """The text of each numbered step, by its number."""
    parts = re.split(r"^Step (\d+) · ", text, flags=re.M)
    return {int(n): body for n, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_a_single_term_is_never_hidden_behind_dots() -> None:
    from symderiv.algebra import Poly
    from symderiv.render.terminal import cell_text

    five = sum(
        (Poly.atom(f"x_1_{k}") * Poly.atom(f"w_{k}_1") for k in range(1, 6)), Poly({})
    )
    assert "⋯" not in cell_text(five, Letters(), 4)  # ⋯ would hide one term
    assert cell_text(five, Letters(), 4).count("+") == 4
    six = five + Poly.atom("b_1")
    assert cell_text(six, Letters(), 4) == "x₁,₁⋅w₁,₁ + x₁,₂⋅w₂,₁ + x₁,₃⋅w₃,₁ + ⋯ + b₁"


def test_pages_with_room_show_more_terms_than_the_terminal() -> None:
    from symderiv.render.html import HtmlSettings
    from symderiv.render.latex import LatexSettings
    from symderiv.render.terminal import TextSettings

    terminal = TextSettings().max_terms
    assert LatexSettings().max_terms > terminal
    assert HtmlSettings().max_terms > terminal
    # torch 3×4×2: each entry of Y has five terms, the article writes them all
    tex = derive(n=3, d=4, m=2, convention="torch").to_latex()
    assert r"x_{1,4} \, w_{1,4}" in tex


def test_network_forward_pass_is_not_elided_at_80_columns() -> None:
    from symderiv.net import derive_net

    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
    step = _steps(render_text(d, 80))[2]  # Z1 = X·W1 + 1_N·b1, entry by entry
    assert "⋯" not in step
    assert "ᵀ" not in step.split("Z1 = X·W1")[1]  # drawn 2×3, not as its transpose
    spelled = step.replace("⋅", "").replace(" ", "")  # whatever the spelling
    for j in "₁₂₃":
        for term in (f"x₂,₁w⁽¹⁾₁,{j}", f"+x₂,₂w⁽¹⁾₂,{j}", f"+b⁽¹⁾{j}"):
            assert term in spelled


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
@pytest.mark.parametrize("sizes", [(2, 2, 3), (5, 4, 3), (12, 3, 11)])
def test_one_notation_per_step_at_80_columns(convention: str, sizes: tuple) -> None:  # type: ignore[type-arg]
    n, d, m = sizes
    derivation = derive(n=n, d=d, m=m, convention=convention)
    y = derivation.config.letters.entry("Y")  # the output's entries: y, or z
    bar = re.compile(f"(?:ȳ|{y}\u0304)[₀-₉]")  # ȳ₁,₁ or z̄₁,₁
    fraction = re.compile(f"∂L/∂{y}[₀-₉]")  # ∂L/∂y₁,₁
    for number, step in _steps(render_text(derivation, 80)).items():
        both = fraction.search(step) and bar.search(step)
        assert not both, f"step {number} mixes ∂L/∂{y} and its bar"


def test_wide_entries_keep_their_terms_at_80_columns() -> None:
    steps = _steps(render_text(derive(n=5, d=4, m=3), 80))
    one_term = re.compile(r"\+ ?⋯(?! ?[+−])")  # an entry cut after its first term
    for number in (7, 8, 11, 12):
        assert not one_term.search(steps[number]), steps[number]
    assert "ȳ₁,₁w₁,₁ + ȳ₁,₂w₁,₂ + ȳ₁,₃w₁,₃" in steps[7]


def test_the_step_that_defines_the_bar_writes_the_fractions() -> None:
    # Step 3 introduces ȳ := ∂L/∂y "inside the large matrices below": its own dY
    # keeps the fractions (fewer columns at 80), the later steps use the bar.
    steps = _steps(render_text(derive(n=12, d=3, m=11), 80))
    assert "ȳᵢⱼ := ∂L/∂yᵢⱼ" in steps[3]
    matrix = steps[3].split("shapes:")[0]
    assert "∂L/∂y₁,₁" in matrix and "ȳ₁" not in matrix
    assert "ȳ₁,₁" in steps[6]


@pytest.mark.parametrize("convention", ["xw", "torch", "column"])
def test_an_entry_written_out_orders_its_factors_as_the_matrix_above(
    convention: str,
) -> None:
    """The matrix J_L(w) printed x₁,₁⋅∂L/∂y₁,₁ and its "written out" line right below
    ∂L/∂y₁,₁⋅x₁,₁ (the lecturer review): each written-out term now appears, as printed,
    in the text above it."""
    import re

    args = ["derive", "--convention", convention, "--format", "text"]
    out = CliRunner().invoke(cli, args, env={"COLUMNS": "160"}).stdout
    lines = out.splitlines()
    checked = 0
    for k, line in enumerate(lines):
        if lines[k - 1].startswith("Entry 1 written out") and "∂L/∂w" in line:
            first = re.split(r" = | \+ ", line)[1]  # x₁,₁⋅∂L/∂y₁,₁ (∂L/∂b's is ⋅1)
            assert first in "\n".join(lines[: k - 1]), line
            checked += 1
    assert checked == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--n", "3", "--d", "4", "--m", "2", "--convention", "torch"],
        ["--loss", "mse", "--n", "3"],
        ["--net", "affine:3,relu,affine:2", "--loss", "softmax-ce", "--n", "2"],
        ["--net", "affine:3,tanh,affine:2", "--method", "all"],
    ],
)
def test_only_a_row_is_drawn_transposed_at_80_columns(
    runner: CliRunner, args: list[str]
) -> None:
    """A matrix too wide for 80 columns breaks its entries over lines before it is drawn
    as its transpose: a 2×3 drawn 3×2 with a small ᵀ reads as the wrong shape (the
    lecturer review). A long row drawn as a column with ᵀ stays (J_L rows)."""
    out = runner.invoke(cli, ["derive", *args], env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    transposed = [k for k, line in enumerate(lines) if "⎤ᵀ" in line]
    assert transposed or args[0] != "--net"  # the networks do draw rows as columns
    for k in transposed:
        label = next(
            m
            for line in lines[k : k + 40]
            if (m := re.search(r"ᵀ? +\((\d+)×\d+\)$", line))
        )
        assert label.group(1) == "1", "\n".join(lines[k : k + 8])
    assert max(len(line) for line in lines) <= 80
