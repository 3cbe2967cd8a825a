"""Lecture-ready exports: they compile, validate, render the same bytes twice, and --pdf.

Every LaTeX and Beamer document is compiled with pdflatex exactly as ``--pdf`` runs it, and
fails on any TeX error, overfull box or missing font (``texutil.compile_tex``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from texutil import compile_tex, require_tex

from symderiv import derive
from symderiv.cli import cli
from symderiv.errors import TexError
from symderiv.render import render

SIZES = [(1, 1, 1), (2, 2, 3), (2, 3, 4), (1, 11, 1), (5, 5, 5)]
VARIANTS = [
    dict(convention="torch", vec="col", layout="numerator", loss="mse"),
    dict(convention="column", loss="sum"),
    dict(convention="column", vec="col", layout="numerator"),
    dict(convention="xw", vec="col", loss="mse", wrt=("W",)),
    dict(convention="torch", names={"X": "A", "Y": "Z", "dY": "dLdZ", "W": "Theta"}),
    dict(method="all"),
]


def _id(kw: dict[str, object]) -> str:
    return "-".join(f"{k}={v}" for k, v in kw.items())


# -- compiling --------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["latex", "beamer"])
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_compiles_at_every_size(
    fmt: str, sizes: tuple[int, int, int], tmp_path: Path
) -> None:
    n, d, m = sizes
    compile_tex(render(derive(n=n, d=d, m=m), fmt), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["latex", "beamer"])
def test_compiles_at_16x16x16(fmt: str, tmp_path: Path) -> None:
    import time

    tex = render(derive(n=16, d=16, m=16), fmt)
    start = time.monotonic()
    compile_tex(tex, tmp_path)
    assert time.monotonic() - start < 30


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["latex", "beamer"])
@pytest.mark.parametrize("options", VARIANTS, ids=_id)
def test_compiles_in_every_convention_order_layout_and_loss(
    fmt: str, options: dict[str, object], tmp_path: Path
) -> None:
    compile_tex(render(derive(n=2, d=3, m=2, **options), fmt), tmp_path)  # type: ignore[arg-type]


def test_long_entries_and_wide_rows_compile(tmp_path: Path) -> None:
    """Tiny max_entries and max_terms, and the fraction form of the upstream entries."""
    d = derive(n=3, d=7, m=4)
    compile_tex(
        render(d, "latex", max_entries=3, max_terms=1, upstream="frac"), tmp_path
    )


# -- beamer ---------------------------------------------------------------------------------
def test_beamer_reveals_the_chain_rule_term_by_term() -> None:
    tex = render(derive(n=2, d=2, m=3), "beamer")
    assert tex.count(r"\begin{frame}") >= len(derive(n=2, d=2, m=3).steps)
    chain = tex[tex.index("Step 6: Chain rule") :]
    chain = chain[: chain.index(r"\end{frame}")]
    slides = sorted({int(k) for k in re.findall(r"\\uncover<(\d+)->", chain)})
    assert slides == list(range(2, slides[-1] + 1)) and slides[-1] >= 6
    # Never \pause inside an alignment (it does not work there).
    assert r"\pause" not in tex


# -- markdown -------------------------------------------------------------------------------
def _math_blocks(md: str) -> list[list[str]]:
    lines = md.split("\n")
    assert sum(1 for ln in lines if ln == "$$") % 2 == 0, "unbalanced $$"
    blocks: list[list[str]] = []
    inside: list[str] | None = None
    for ln in lines:
        if ln == "$$":
            if inside is None:
                inside = []
            else:
                blocks.append(inside)
                inside = None
        elif inside is not None:
            inside.append(ln)
    return blocks


@pytest.mark.parametrize("options", [{}, *VARIANTS], ids=lambda o: _id(o) or "default")
def test_markdown_math_is_balanced_and_safe(options: dict[str, object]) -> None:
    md = render(derive(n=2, d=3, m=2, **options), "markdown", flavor="jupyter")  # type: ignore[arg-type]
    blocks = _math_blocks(md)
    assert blocks
    for block in blocks:
        assert block and all(ln.strip() for ln in block), "blank line inside $$"
        for ln in block:
            assert not re.match(r"\s*([-+*>#|=]|\d+[.)])", ln), ln
            assert r"\sdfit" not in ln and r"\noalign" not in ln and "@{}" not in ln
    # Inline math balanced in every paragraph outside the blocks and code.
    prose = re.sub(r"\$\$\n.*?\n\$\$", "", md, flags=re.S)
    prose = re.sub(r"```.*?```", "", prose, flags=re.S)
    for paragraph in prose.split("\n\n"):
        assert paragraph.replace(r"\$", "").count("$") % 2 == 0, paragraph


def test_each_math_block_stays_one_paragraph_for_a_markdown_parser() -> None:
    """No line inside $$ … $$ may start a list, a heading or a code block (CommonMark)."""
    from markdown_it import MarkdownIt

    md = render(
        derive(n=2, d=3, m=2, method="all", loss="mse"), "markdown", flavor="jupyter"
    )
    lines = md.split("\n")
    marks = [k for k, ln in enumerate(lines) if ln == "$$"]
    blocks = list(zip(marks[::2], marks[1::2], strict=True))
    tokens = MarkdownIt("commonmark").parse(md)
    paragraphs = [t.map for t in tokens if t.type == "paragraph_open" and t.map]
    for first, last in blocks:
        assert any(a <= first and last < b for a, b in paragraphs), lines[
            first : last + 1
        ]


def test_golden_markdown(golden) -> None:  # type: ignore[no-untyped-def]
    golden("affine_2x2x3.md", render(derive(n=2, d=2, m=3), "markdown"))


def test_markdown_for_jupyter() -> None:
    d = derive(n=1, d=2, m=1)
    assert d._repr_markdown_() == render(d, "markdown", flavor="jupyter")


# -- notebook -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [{}, VARIANTS[0], VARIANTS[1], VARIANTS[4]],
    ids=lambda o: _id(o) or "default",
)
def test_notebook_is_valid_and_reproduces_the_derivation(
    options: dict[str, object],
) -> None:
    import nbformat

    d = derive(n=2, d=3, m=2, **options)  # type: ignore[arg-type]
    text = render(d, "ipynb")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    ids = [c["id"] for c in nb.cells]
    assert len(set(ids)) == len(ids)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert sum(c["id"].startswith("step-") for c in markdown) == len(d.steps)
    assert code[0].source.startswith("from symderiv import derive")
    outputs = "".join(o.get("text", "") for c in code for o in c.get("outputs", []))
    assert "False" not in outputs
    assert outputs.count("True") >= 1 + 2 * len(d.config.wrt)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))


def test_notebook_code_runs_as_written() -> None:
    """Run the code cells afresh, in order, and get the outputs stored in the notebook."""
    import contextlib
    import io

    nb = json.loads(render(derive(n=2, d=2, m=2, convention="column"), "ipynb"))
    namespace: dict[str, object] = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec("".join(cell["source"]), namespace)  # noqa: S102 - our own notebook
        stored = "".join(
            "".join(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream"
        )
        assert buffer.getvalue() == stored


# -- determinism ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["latex", "beamer", "markdown", "ipynb"])
def test_same_bytes_every_time(fmt: str) -> None:
    first = render(derive(n=2, d=3, m=2, loss="mse"), fmt)
    second = render(derive(n=2, d=3, m=2, loss="mse"), fmt)
    assert first == second
    assert "\r" not in first and not re.search(r"20\d\d-\d\d-\d\d", first)


# -- --pdf through the CLI ------------------------------------------------------------------
def test_pdf_is_written_beside_the_tex(runner: CliRunner, tmp_path: Path) -> None:
    require_tex()
    target = tmp_path / "notes.tex"
    result = runner.invoke(
        cli,
        [
            "derive",
            "--n",
            "2",
            "--d",
            "2",
            "--m",
            "3",
            "--format",
            "latex",
            "-o",
            str(target),
            "--pdf",
        ],
    )
    assert result.exit_code == 0, result.stderr
    pdf = tmp_path / "notes.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.pdf", "notes.tex"]
    first = pdf.read_bytes()
    assert (
        runner.invoke(
            cli,
            [
                "derive",
                "--n",
                "2",
                "--d",
                "2",
                "--m",
                "3",
                "--format",
                "latex",
                "-o",
                str(target),
                "--pdf",
            ],
        ).exit_code
        == 0
    )
    assert pdf.read_bytes() == first  # reproducible PDF (no date, no random id)


@pytest.mark.slow
def test_pdf_of_slides(runner: CliRunner, tmp_path: Path) -> None:
    require_tex()
    result = runner.invoke(
        cli,
        ["derive", "--format", "beamer", "-o", str(tmp_path / "slides.tex"), "--pdf"],
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "slides.pdf").exists()


def test_pdf_without_tex_is_one_line_and_exit_1(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = runner.invoke(
        cli, ["derive", "--format", "latex", "-o", str(tmp_path / "notes.tex"), "--pdf"]
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pdflatex not found" in lines[0], result.stderr
    assert "apt-get install texlive-latex-base" in lines[0]
    assert not (tmp_path / "notes.pdf").exists()


def test_pdf_needs_a_tex_format_and_a_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["derive", "--format", "markdown", "-o", str(tmp_path / "a.md"), "--pdf"]
    )
    assert result.exit_code == 2 and "--pdf" in result.stderr
    assert runner.invoke(cli, ["derive", "--format", "latex", "--pdf"]).exit_code == 2


def test_a_failed_compile_names_the_first_tex_error(tmp_path: Path) -> None:
    require_tex()
    from symderiv.pdf import compile_pdf

    bad = tmp_path / "bad.tex"
    bad.write_text(
        "\\documentclass{article}\n\\begin{document}\nfine\n\\nosuchmacro\n\\end{document}\n"
    )
    old = tmp_path / "bad.pdf"
    old.write_bytes(b"old")
    with pytest.raises(TexError) as info:
        compile_pdf(bad)
    assert "Undefined control sequence" in str(info.value)
    assert "line 4" in str(info.value)
    assert old.read_bytes() == b"old"  # the old PDF is left as it was


def test_tex_cannot_read_files_outside_its_folder(tmp_path: Path) -> None:
    """openin_any=p: a document cannot \\input an absolute path (say, /etc/hostname)."""
    require_tex()
    from symderiv.pdf import compile_pdf

    secret = tmp_path / "secret.tex"
    secret.write_text("SECRET")
    doc = tmp_path / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\n\\begin{document}\n"
        f"\\input{{{secret}}}\n\\end{{document}}\n"
    )
    with pytest.raises(TexError):
        compile_pdf(doc)


def test_malicious_names_never_reach_latex(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli,
        [
            "derive",
            "--format",
            "latex",
            "--names",
            r"X=\input{/etc/hostname}",
            "-o",
            str(tmp_path / "x.tex"),
        ],
    )
    assert result.exit_code == 2
    assert not (tmp_path / "x.tex").exists()
