"""Markdown that renders on GitHub, GitLab and in Jupyter, and converts through LaTeX."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from texutil import compile_tex

from symderiv import derive
from symderiv.render import render
from symderiv.render.mdmath import FLAVORS, MAX_CHARS, MAX_SCRIPTS, scripts

SIZES = [(2, 2, 3), (1, 11, 12), (4, 4, 4)]
LUA = Path(__file__).parent / "gfm_math.lua"


def markdown(size: tuple[int, int, int], **settings: object) -> str:
    n, d, m = size
    return render(derive(n=n, d=d, m=m), "markdown", **settings)


def fences(md: str) -> list[str]:
    """The text of every ```math fence."""
    return re.findall(r"^```math\n(.*?)\n```$", md, re.S | re.M)


def inline(md: str) -> list[str]:
    """The text of every $`…`$."""
    return re.findall(r"\$`([^`]+)`\$", md)


def dollar_blocks(md: str) -> list[str]:
    return re.findall(r"^\$\$\n(.*?)\n\$\$$", md, re.S | re.M)


def columns(tex: str) -> int:
    """The most columns of any bmatrix in ``tex``."""
    best = 0
    for body in re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", tex, re.S):
        for row in re.split(r"\\\\", body):
            best = max(best, row.count("&") + 1)
    return best


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_commonmark_leaves_every_math_block_unchanged(
    size: tuple[int, int, int],
) -> None:
    md = markdown(size)
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    seen_blocks = [
        t.content.rstrip("\n") for t in tokens if t.type == "fence" and t.info == "math"
    ]
    assert seen_blocks == fences(md) and seen_blocks
    seen_inline = [
        c.content
        for t in tokens
        if t.type == "inline" and t.children
        for c in t.children
        if c.type == "code_inline"
    ]
    # Every $`…`$ reaches the maths renderer as written (code spans are literal).
    for tex in inline(md):
        assert tex in seen_inline
    # No maths outside the fences and $`…`$.
    prose = re.sub(r"```.*?```", "", md, flags=re.S)
    assert not re.search(r"(?<!`)\$(?!`)", prose.replace("$`", "").replace("`$", ""))


@pytest.mark.parametrize("flavor", sorted(FLAVORS))
@pytest.mark.parametrize("size", [(1, 11, 12), (4, 4, 4), (8, 8, 8)], ids=str)
def test_renderer_limits_hold(flavor: str, size: tuple[int, int, int]) -> None:
    md = markdown(size, flavor=flavor)
    blocks = dollar_blocks(md) if flavor == "jupyter" else fences(md) + inline(md)
    assert blocks
    for tex in blocks:
        assert columns(tex) <= 10  # amsmath's bmatrix: wider ones are arrays
        if flavor in ("github", "gitlab"):
            assert scripts(tex) <= MAX_SCRIPTS
        if flavor == "gitlab":
            assert len(tex) <= MAX_CHARS


def test_jupyter_flavour_uses_dollars() -> None:
    md = markdown((2, 2, 3), flavor="jupyter")
    assert "```math" not in md and "$`" not in md and dollar_blocks(md)
    d = derive(n=2, d=2, m=3)
    assert d._repr_markdown_() == render(d, "markdown", flavor="jupyter")


def pandoc() -> str:
    exe = shutil.which("pandoc")
    if exe is None:
        import os

        if os.environ.get("SYMDERIV_REQUIRE_TEX") == "1":
            pytest.fail("pandoc is required (SYMDERIV_REQUIRE_TEX=1) but not installed")
        pytest.skip("pandoc is not installed")
    return exe


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.parametrize("flavor", ["github", "jupyter"])
def test_pandoc_and_pdflatex_compile_it(flavor: str, tmp_path: Path) -> None:
    md = markdown((1, 11, 12), flavor=flavor)
    assert "MaxMatrixCols" not in md
    src = tmp_path / "a.md"
    src.write_text(md, encoding="utf-8")
    reader = (
        ["-f", "gfm", "--lua-filter", str(LUA)]
        if flavor != "jupyter"
        else ["-f", "markdown"]
    )
    tex = subprocess.run(
        [pandoc(), *reader, "-s", "-t", "latex", str(src)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "MaxMatrixCols" not in tex and "\\usepackage{amsmath" in tex
    assert tex.count("\\[") >= 20  # the maths arrived as maths, not as code
    compile_tex(tex, tmp_path / "pdf", vbox=False, hbox=False)
