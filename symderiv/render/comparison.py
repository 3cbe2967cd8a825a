"""The conventions page: a :class:`symderiv.compare.Comparison` as page blocks.

``comparison_page(c)`` decides what the page shows (a title, three tables, notes, the
verdict), once for every format, as blocks of :mod:`symderiv.render.page`; the printers of
the derivation pages print them (``render_comparison(c, fmt)``). The comparison itself,
and every check, lives in :mod:`symderiv.compare`; its prose in :mod:`symderiv.notes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import __version__, notes
from ..compare import Cell, Comparison, Row
from ..conventions import TORCH, VARIABLES, VEC_ORDERS, Config, Convention
from ..errors import ChoiceError
from ..notation import Sym
from ..notes import M, Prose
from .formula import formula_latex, formula_text, prose_plain
from .page import Block, Heading, Level, Note, Table, TableCell, Verdict

#: The formats of the conventions page (``rich`` is the terminal's ``text``).
FORMATS: tuple[str, ...] = ("text", "latex", "markdown", "html")


def formula_of(cell: Cell, conv: Convention) -> str:
    """A cell's formula in ``conv``'s letters and size names (Unicode).

    >>> from symderiv.compare import compare
    >>> from symderiv.conventions import TORCH
    >>> c = compare(1, 1, 1)
    >>> formula_of(next(r for r in c.rows if r.key == "kron_row_W").cells["torch"], TORCH)
    '(x ⊗ I_M)·K'
    """
    assert cell.formula is not None
    return formula_text(cell.formula, conv.letters)


def _times(names: tuple[str, str]) -> M:
    """("N·M", "N·C_in") -> (N·M)×(N·C_in), sizes in TeX as size names."""

    def one(name: str, tex: bool) -> str:
        parts = name.split("·")
        joined = (r" \cdot " if tex else "·").join(
            notes.size_m(p).latex if tex else p for p in parts
        )
        return f"({joined})" if len(parts) > 1 else joined

    return M(
        "×".join(one(p, False) for p in names),
        r" \times ".join(one(p, True) for p in names),
    )


def _label(row: Row) -> TableCell:
    """The first cell of a row: what it is about, in xw's letters."""
    role = row.role or ""
    if row.group == "forward":
        return TableCell(notes.FORWARD_PASS)
    if row.group == "shapes":
        name = notes.slash("Y") if role == "dY" else notes.sym(role)
        return TableCell((name, f" ({notes.ROLE_WORDS[role]})"))
    return TableCell((notes.slash(role, vec=row.group == "kronecker"),))


def _formula(cell: Cell, conv: Convention, lhs: str | None = None) -> TableCell:
    """A cell's formula in ``conv``'s letters (``lhs = …`` when given)."""
    assert cell.formula is not None
    parts = [cell.formula] if lhs is None else [Sym(lhs), cell.formula]
    math = M(
        " = ".join(formula_text(p, conv.letters) for p in parts),
        " = ".join(formula_latex(p, conv.letters) for p in parts),
    )
    return TableCell((math,), passed=cell.passed)


def _shape_cell(cell: Cell) -> TableCell:
    """``2×2 = N×C_in ✓``: the shape at these sizes, then in size names."""
    assert cell.shape is not None and cell.shape_names is not None
    named = _times(cell.shape_names)
    return TableCell(
        (notes.times(*cell.shape),),
        (M(f" = {named.text}", f" = {named.tex}"),),
        cell.passed,
    )


def tables(c: Comparison) -> tuple[Table, Table, Table]:
    """The page's three tables: forms and shapes; Kronecker forms; the agreement."""
    convs = c.conventions
    head: tuple[Prose, ...] = tuple((conv.name,) for conv in convs)

    def cell(group: str, r: Row, conv: Convention) -> TableCell:
        if group == "shapes":
            return _shape_cell(r.cells[conv.name])
        return _formula(r.cells[conv.name], conv, "Y" if group == "forward" else None)

    groups = tuple(
        tuple(
            (_label(r), *(cell(group, r, conv) for conv in convs))
            for r in c.group(group)
        )
        for group in ("forward", "shapes", "closed")
    )
    forms = Table(notes.TABLE_FORMS, ((), *head), groups)

    kron = {(r.role, r.order): r for r in c.group("kronecker")}
    kron_groups = []
    for var in VARIABLES:
        rows = []
        for k, order in enumerate(VEC_ORDERS):
            r = kron[var, order]
            first = r.cells[convs[0].name]
            assert first.shape is not None
            label = (
                _label(r) if k == 0 else TableCell(aside=(notes.times(*first.shape),))
            )
            formulas = (_formula(r.cells[v.name], v) for v in convs)
            rows.append((label, TableCell((order,)), *formulas))
        kron_groups.append(tuple(rows))
    kronecker = Table(notes.TABLE_KRONECKER, ((), ("vec",), *head), tuple(kron_groups))

    agree = {(a.convention, a.var): a for a in c.agreement}
    rows = [
        (
            TableCell((conv.name,)),
            *(
                TableCell(notes.xw_derivative(var, a.transposed), passed=a.passed)
                for var in VARIABLES
                for a in [agree[conv.name, var]]
            ),
        )
        for conv in convs[1:]
    ]
    agreement = Table(
        notes.TABLE_AGREEMENT,
        ((), *((notes.slash(v),) for v in VARIABLES)),
        (tuple(rows),),
    )
    return forms, kronecker, agreement


def _split(table: Table, lead: int, per: int) -> tuple[Block, ...]:
    """``table`` as tables of at most ``per`` of its conventions each, one under the
    other, each with the ``lead`` columns that name the rows, under the title (a heading
    of their own, as wide as the page)."""
    columns = range(lead, len(table.header))
    if len(columns) <= per:
        return (table,)
    return Heading(table.title, Level.PART), *(
        Table(
            (),
            table.header[:lead] + table.header[k : k + per],
            tuple(
                tuple(row[:lead] + row[k : k + per] for row in group)
                for group in table.groups
            ),
        )
        for k in columns[::per]
    )


def _stacked(
    table: Table, lead: int, fits: Callable[[Table], bool] | None
) -> tuple[Block, ...]:
    """``table`` whole, or in halves (then one convention each) one under the other:
    the fewest parts that all ``fits``; whole when ``fits`` is None."""
    count = len(table.header) - lead
    for per in sorted({count, (count + 1) // 2}, reverse=True):
        parts = _split(table, lead, per)
        if fits is None or all(fits(p) for p in parts if isinstance(p, Table)):
            return parts
    return _split(table, lead, 1)


def comparison_page(
    c: Comparison, fits: Callable[[Table], bool] | None = None
) -> tuple[Block, ...]:
    """The whole conventions page, in reading order, for every format.

    ``fits(table)``: whether a table of conventions side by side fits the page (the
    terminal's width); one that does not is stacked in halves, or one convention each.
    None: all of them side by side.
    """
    forms, kronecker, agreement = tables(c)
    rows, cols = TORCH.shape("W", c.n, c.d, c.m)
    sources = {conv.name: conv.source for conv in c.conventions}
    return (
        Heading(notes.conventions_title(c.n, c.d, c.m), Level.PAGE),
        Note(notes.conventions_sizes()),
        Note(notes.conventions_intro(2 * len(c.conventions))),
        *_stacked(forms, 1, fits),
        *_stacked(kronecker, 2, fits),
        Note(notes.conventions_commutation(rows, cols)),
        agreement,
        Heading(notes.WHY_THEY_AGREE, Level.PART),
        *(Note(p) for p in notes.conventions_why(_config(c))),
        *_failures(c),
        Note(notes.conventions_sources(tuple(sources), sources), aside=True),
        Verdict(c.verified, notes.ROWS_VERIFIED if c.verified else notes.ROWS_FAILED),
    )


def _failures(c: Comparison) -> list[Note]:
    """Each check that failed, with its first difference (nothing when all passed)."""
    failed = [
        (name, r.key, cell.detail)
        for r in c.rows
        for name, cell in r.cells.items()
        if not cell.passed
    ]
    failed += [
        (a.convention, f"agreement_{a.var}", a.detail)
        for a in c.agreement
        if not a.passed
    ]
    return [Note(notes.conventions_failure(*f)) for f in failed]


def _config(c: Comparison) -> Config:
    """The page's letters and sizes: xw's (the tables name rows in xw's letters)."""
    return Config(n=c.n, d=c.d, m=c.m)


# -- the page in each format ------------------------------------------------------------------
@dataclass(frozen=True)
class ComparisonView:
    """The page as a Rich renderable (the terminal printer's blocks) at the console's
    width: the conventions side by side, or stacked in halves (then one by one) when
    that is what keeps every cell of a table on one line."""

    comparison: Comparison

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement
        from rich.table import Table as RichTable

        from .terminal import TerminalPrinter

        printer = TerminalPrinter(width=options.max_width)
        printer.bind(_config(self.comparison))
        unbounded = options.update_width(10 * options.max_width)  # the natural width

        def fits(table: Table) -> bool:
            return all(
                Measurement.get(console, unbounded, r).maximum <= options.max_width
                for r in printer.block(table)
                if isinstance(r, RichTable)
            )

        for out in printer.blocks(comparison_page(self.comparison, fits)):
            yield from out


def comparison_renderable(c: Comparison) -> Any:
    """The page as a Rich renderable (see :class:`ComparisonView`)."""
    return ComparisonView(c)


def comparison_text(c: Comparison, width: int = 100) -> str:
    """The page as plain text (no escape codes) at ``width`` columns."""
    from .terminal import plain_text

    return plain_text(comparison_renderable(c), width=width)


def comparison_latex(c: Comparison) -> str:
    """The page as a standalone LaTeX article (compiles with pdflatex)."""
    from .latex import LatexPrinter, latex_preamble

    printer = LatexPrinter()
    printer.bind(_config(c))
    preamble = latex_preamble(
        options="10pt,a4paper",
        geometry="margin=1.8cm",
        extra=[
            # one page: headings set as bold lines with little space around them
            r"\makeatletter",
            r"\renewcommand{\subsection}{\@startsection{subsection}{2}{\z@}"
            r"{1.2ex plus .4ex}{.4ex}{\normalfont\bfseries}}",
            r"\makeatother",
            r"\setlength{\parindent}{0pt}",
            r"\setlength{\parskip}{0.5em}",
            r"\renewcommand{\arraystretch}{1.1}",
            r"\setlength{\tabcolsep}{4pt}",  # four conventions side by side
            r"\pagestyle{empty}",
        ],
    )
    command = f"symderiv conventions --n {c.n} --d {c.d} --m {c.m}"
    return (
        f"% Generated by symderiv {__version__}: {command}\n"
        f"{preamble}\n\\begin{{document}}\n"
        f"{printer.join(comparison_page(c))}\n\\end{{document}}\n"
    )


def comparison_markdown(c: Comparison) -> str:
    """The page as Markdown (GitHub flavour: maths in $`…`$ and ```math blocks)."""
    from .markdown import MarkdownPrinter

    printer = MarkdownPrinter()
    printer.bind(_config(c))
    return printer.join(comparison_page(c)) + "\n"


def comparison_html(c: Comparison) -> str:
    """The page as one self-contained HTML page (see :func:`.html.render_html`)."""
    from .html import HtmlPrinter, html_document

    printer = HtmlPrinter()
    printer.bind(_config(c))
    blocks = comparison_page(c)
    first = next(k for k, b in enumerate(blocks) if isinstance(b, Table))
    head, body = printer.join(blocks[:first]), printer.join(blocks[first:])
    title = blocks[0]
    assert isinstance(title, Heading)
    return html_document(
        prose_plain(title.title, printer.letters),
        f"<header>\n{head}\n</header>\n<main>\n{body}\n</main>",
    )


def render_comparison(c: Comparison, fmt: str, width: int = 100) -> str:
    """The conventions page in format ``fmt`` (text, latex, markdown or html)."""
    if fmt == "text":
        return comparison_text(c, width)
    if fmt == "latex":
        return comparison_latex(c)
    if fmt == "markdown":
        return comparison_markdown(c)
    if fmt == "html":
        return comparison_html(c)
    raise ChoiceError(f"the conventions page has no format {fmt!r}")


__all__ = [
    "FORMATS",
    "comparison_html",
    "comparison_latex",
    "comparison_markdown",
    "comparison_page",
    "comparison_renderable",
    "comparison_text",
    "formula_of",
    "render_comparison",
    "tables",
]
