"""The page: one set of blocks for every format, every printer handling every block kind.

* completeness: each printer renders a block of every kind (omitted kinds render empty,
  and only the kinds ``page.OMITTED`` lists);
* content: for ``derive --n 2 --d 2 --m 3`` every format shows the entry written out, the
  shape ledger, the NumPy lines, the remarks and the background, unless the table says it
  leaves the kind out; for the torch convention, the definition of K;
* maths is marked, not guessed: no roman matrix letter in the column convention's LaTeX.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from symderiv import derive
from symderiv.errors import UnknownSettingError
from symderiv.render import render
from symderiv.render.base import PagePrinter
from symderiv.render.beamer import BeamerPrinter
from symderiv.render.html import HtmlPrinter
from symderiv.render.latex import LatexPrinter
from symderiv.render.markdown import MarkdownPrinter
from symderiv.render.notebook import NotebookPrinter
from symderiv.render.page import (
    KINDS,
    OMITTED,
    Background,
    Code,
    EntrySum,
    Remarks,
    ShapeLedger,
    omitted,
    page,
    walk,
)
from symderiv.render.terminal import TerminalPrinter

PRINTERS: list[type[PagePrinter[Any, Any]]] = [
    TerminalPrinter,
    LatexPrinter,
    BeamerPrinter,
    MarkdownPrinter,
    NotebookPrinter,
    HtmlPrinter,
]
FORMATS = ["text", "latex", "beamer", "markdown", "ipynb", "html"]


@pytest.fixture(scope="module")
def d223():  # type: ignore[no-untyped-def]
    return derive(n=2, d=2, m=3)


@pytest.fixture(scope="module")
def one_of_each(d223):  # type: ignore[no-untyped-def]
    """The first block of each kind on the page of a torch derivation (K appears) and on
    the conventions page (tables, verdict)."""
    from symderiv.compare import compare
    from symderiv.render.comparison import comparison_page

    found: dict[type, Any] = {}
    for d in (d223, derive(n=2, d=2, m=3, convention="torch")):
        for block in walk(page(d)):
            found.setdefault(type(block), block)
    for block in comparison_page(compare(1, 1, 2)):
        found.setdefault(type(block), block)
    return found


def test_the_page_has_every_block_kind(one_of_each) -> None:  # type: ignore[no-untyped-def]
    assert set(one_of_each) == set(KINDS)


def test_every_format_is_in_the_omission_table() -> None:
    assert set(OMITTED) == set(FORMATS)
    assert all(set(kinds) <= set(KINDS) for kinds in OMITTED.values())


@pytest.mark.parametrize("printer", PRINTERS, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_every_printer_prints_every_block_kind(
    printer, kind, one_of_each, d223
) -> None:  # type: ignore[no-untyped-def]
    p = printer(execute=False) if printer is NotebookPrinter else printer()
    p.bind(d223.config)
    out = p.block(one_of_each[kind])
    if omitted(p.name, kind):
        assert not out, f"{p.name} omits {kind.__name__} but printed it"
    elif kind.__name__ not in ("Notation", "ApiCheck", "Sparsity", "Heading", "Note"):
        # These may print nothing by a setting (upstream frac, pictures off) or by design
        # of the format (a slide has no headed paragraphs and says some notes shorter or
        # not at all); everything else prints.
        assert out, f"{p.name} printed nothing for {kind.__name__}"


@pytest.mark.parametrize("forgotten", sorted(PagePrinter.__abstractmethods__))
def test_a_printer_that_forgets_a_block_kind_cannot_be_created(forgotten: str) -> None:
    methods = {
        name: (lambda self, block=None: [])
        for name in PagePrinter.__abstractmethods__
        if name != forgotten
    }
    forgetful = type("Forgetful", (TerminalPrinter.__mro__[1],), methods)
    with pytest.raises(TypeError, match=forgotten):
        forgetful()


@pytest.mark.parametrize("printer", PRINTERS, ids=lambda p: p.name)
def test_unknown_settings_are_refused(printer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownSettingError, match="colour"):
        printer(colour=True)
    with pytest.raises(UnknownSettingError, match="max_entries"):
        printer(max_entries=0)


def _contains(fmt: str, kind: type, text: str, d) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``text`` (the output of ``fmt``) shows the blocks of ``kind``."""
    c = d.config
    if kind is EntrySum:
        return "Entry 1 written out" in text and (
            "∂L/∂x₁,₁ = " in text
            or r"\frac{\partial L}{\partial x_{1,1}} =" in text
            or '<div class="display entry"' in text
        )
    if kind is ShapeLedger:
        return "shapes: " in text or "*Shapes:*" in text or "<em>Shapes:</em>" in text
    if kind is Code:
        return all(
            line.replace("_", "\\_") in text or line in text
            for line in (
                "dX = dY @ W.T",
                "dW = X.T @ dY",
                "db = dY.sum(axis=0, keepdims=True)",
            )
        )
    if kind is Remarks:
        return "Where learners trip" in text
    if kind is Background:
        return "The chain rule in higher dimensions" in text or (
            "Mathematical background" in text
        )
    raise AssertionError(c)


@pytest.fixture(scope="module")
def rendered(d223):  # type: ignore[no-untyped-def]
    """``rendered(fmt)``: the 2×2×3 page in ``fmt``, rendered once for the module."""
    cache: dict[str, str] = {}

    def get(fmt: str) -> str:
        if fmt not in cache:
            cache[fmt] = render(d223, fmt)
        return cache[fmt]

    return get


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", [EntrySum, ShapeLedger, Code, Remarks, Background])
def test_every_format_shows_the_same_content(
    fmt: str, kind: type, d223, rendered
) -> None:  # type: ignore[no-untyped-def]
    text = rendered(fmt)
    if fmt == "ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    if omitted(fmt, kind):
        assert OMITTED[fmt][kind]  # the reason is written down
        return
    assert _contains(fmt, kind, text, d223), f"{fmt} does not show {kind.__name__}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_torch_defines_the_commutation_matrix(fmt: str) -> None:
    text = render(derive(n=2, d=2, m=3, convention="torch"), fmt)
    assert "is the commutation matrix" in text


def test_terminal_shows_remarks_background_and_code(d223) -> None:  # type: ignore[no-untyped-def]
    text = render(d223, "text", width=80)
    for needle in (
        "Where learners trip",
        "Mathematical background",
        "dW = X.T @ dY",
        "Entry 1 written out",
        "∂L/∂X = dY·Wᵀ: (2×3)·(3×2) → 2×2, like X",
    ):
        assert needle in text, needle


def _prose_lines(tex: str) -> list[str]:
    """Lines of running text: no display maths, no TikZ, no preamble."""
    body = tex.split("\\begin{document}", 1)[1]
    body = re.sub(r"\\\[.*?\\\]", "", body, flags=re.S)
    body = re.sub(
        r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", "", body, flags=re.S
    )
    body = re.sub(r"\$[^$]*\$", "$$", body)
    body = re.sub(r"\\texttt\{[^}]*\}", "", body)  # code is code
    return body.splitlines()


@pytest.mark.parametrize("layout", ["denominator", "numerator"])
@pytest.mark.parametrize("loss", ["generic", "mse", "sum"])
def test_column_convention_has_no_roman_matrix_letter(layout: str, loss: str) -> None:
    tex = render(
        derive(n=2, d=2, m=3, convention="column", layout=layout, loss=loss), "latex"
    )
    for line in _prose_lines(tex):
        for letter in ("A", "Z", "W"):
            # The letter as a word of running text (outside $…$), e.g. "row i of A only".
            assert not re.search(rf"(?<![\\\w{{]){letter}(?![\w}}])", line), (
                letter,
                line,
            )


def test_no_formula_is_set_in_roman_text() -> None:
    for options in ({"loss": "mse"}, {"convention": "column", "loss": "mse"}):
        tex = render(derive(n=2, d=2, m=3, **options), "latex")  # type: ignore[arg-type]
        for bad in ("$L =$ 1/(2N)", "($i =$ 1", "k-th", r"(2\times 2)$"):
            assert bad not in tex, bad


def test_the_readme_table_is_the_omission_table() -> None:
    from pathlib import Path

    from symderiv.render.page import format_table

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- formats:start -->\n", 1)[1].split(
        "\n<!-- formats:end -->"
    )[0]
    assert shown == format_table()


# -- the entry written out respects the display limit (issue 14) -------------------------------
@pytest.fixture(scope="module")
def thin():  # type: ignore[no-untyped-def]
    """N = 40, D = M = 1: the entry ∂L/∂w₁,₁ is a sum of 40 nonzero terms."""
    return derive(n=40, d=1, m=1, wrt="W")


def _entry(blocks: Any) -> EntrySum:
    (entry,) = [b for b in walk(blocks) if isinstance(b, EntrySum)]
    return entry


def test_entry_sum_is_elided_once_in_the_page_model(thin) -> None:  # type: ignore[no-untyped-def]
    """Past max_entries the block carries the first terms and the last, and the count hidden."""
    from symderiv.render.page import page, shown_terms

    entry = _entry(page(thin, 12))
    assert len(entry.terms) == 11 and entry.hidden == 29 and entry.zeros == 0
    assert entry.terms[-1][1].to_str() == "x_40_1"  # the last term is kept
    full = _entry(page(thin, 50))
    assert len(full.terms) == 40 and full.hidden == 0
    assert shown_terms(5, 5) == ([0, 1, 2, 3, 4], 0)
    assert shown_terms(6, 1) == ([0, 5], 4)


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_every_printer_says_how_many_terms_it_hides(thin, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = render(thin, fmt)
    assert "stands for 29 more nonzero terms" in out
    assert "x₂₀,₁" not in out and "x_{20,1}" not in out  # a hidden term is not written


def test_output_size_stays_bounded_at_large_n() -> None:
    """At N = 20 000 the text view was 1 MB (the entry and its slicing written out)."""
    d = derive(n=20000, d=1, m=1, wrt="W")
    out = render(d, "text")
    assert len(out.encode()) < 200_000
    assert "stands for 19,989 more nonzero terms" in out


_STRUCTURE = r"\\(?:begin|end|label|ref|setcounter|hyperref)(?:\{[^{}]*\}|\[[^]]*\])*"


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_every_view_sets_its_maths_as_maths(convention: str) -> None:
    """--method all (the index and tensor views too): no letter or formula in roman text."""
    d = derive(n=2, d=2, m=3, convention=convention, method="all")
    tex = render(d, "latex")
    assert not re.search(r"shaped like \$[^$]* \(", tex)  # a shape glued into a letter
    assert "$i =$" not in tex and r"1\dots{}N" not in tex
    letters = {d.config.letters.of(r) for r in ("X", "W", "Y", "T")}
    for line in _prose_lines(tex):
        # the arguments of structural commands (\label{…}, \begin{tabular}{l…}) are no prose
        line = re.sub(_STRUCTURE, "", line)
        line = re.sub(r"\{@\{\}[^ ]*\}", "", line)
        for letter in letters:
            assert not re.search(rf"(?<![\\\w{{-]){letter}(?![\w}}-])", line), (
                letter,
                line,
            )
        # indices, sums, partials and subscripts only ever inside $…$
        assert not re.search(r"(?<![\\\w{'-])[hijkl](?![\w}'-])", line), line
        for formula in (
            r"\_",
            r"\times",
            r"\partial",
            r"\sum",
            "∂",
            "×",
            "Σ",
            "ᵀ",
            "_",
        ):
            assert formula not in line, (formula, line)
