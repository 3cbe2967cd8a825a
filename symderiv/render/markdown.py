"""Markdown for GitHub, GitLab or Jupyter: prose, with the mathematics in maths blocks.

Every formula comes from the TeX layout (:class:`symderiv.render.latex.TexLayout`) in its
portable (MathJax- and KaTeX-friendly) mode; this module never builds TeX itself. It only
arranges the blocks of the page: headings, paragraphs, maths blocks, the certificate as a
table, code fences, and the nonzero pattern of each Jacobian as text.

How maths is written, and which renderer limits hold, is the ``flavor`` setting
(:mod:`symderiv.render.mdmath`): ```` ```math ```` fences and ``$`…`$`` for GitHub
(the default) and GitLab, ``$$ … $$`` and ``$…$`` for Jupyter. A display over the
flavour's limits is split, then its matrices elided further until every block fits.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from .. import __version__, notes
from ..algebra import PolyMatrix
from ..conventions import Config
from ..notation import Sym
from ..notes import Prose
from ..steps import Derivation
from .base import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TERMS, PagePrinter, one_of, positive
from .formula import formula_latex
from .latex import (
    ARTICLE_WIDTH_EM,
    TexLayout,
    prose_spans,
)
from .mdmath import FLAVORS, display_math, fits, inline_math, split_display
from .page import (
    ApiCheck,
    Background,
    Block,
    CertificateTable,
    ClosedShapes,
    Code,
    Display,
    EntrySum,
    Formula,
    Heading,
    Items,
    Level,
    Notation,
    Note,
    PageTitle,
    Remarks,
    Section,
    ShapeLedger,
    Sparsity,
    StepGroup,
    Table,
    TableCell,
    Verdict,
    page_of,
)

#: The certificate's marks, as maths: pdflatex (pandoc, nbconvert) has no ✓ in text.
CHECKMARK = r"\checkmark"
CROSS = r"\times"

#: Symbols in running text set as maths instead: pdflatex (pandoc, nbconvert) has no
#: text glyph for them.
_TEXT_MATH = {"−": "-", "→": r"\to", "≠": r"\neq", "✓": CHECKMARK, "✗": CROSS}
_TEXT_MATH_RE = re.compile("|".join(map(re.escape, _TEXT_MATH)))

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~])")


def markdown_escape(text: str) -> str:
    """Plain text for Markdown: characters with a meaning escaped with a backslash.

    >>> markdown_escape("x_1 * y")
    'x\\\\_1 \\\\* y'
    """
    return _MD_SPECIAL.sub(r"\\\1", text)


def sparsity_text(
    matrix: PolyMatrix,
    blocks: tuple[int, int],
    limit: int = 24,
    legend: str = "Nonzero pattern (# nonzero, . zero; the rules separate the Kronecker "
    "blocks):",
) -> str:
    """A fenced block drawing the nonzeros (#) and zeros (.), rules between the blocks,
    after ``legend`` (what is drawn, what the rules separate).

    ASCII only, so that the block survives pdflatex too (pandoc, nbconvert). Empty for
    matrices with more than ``limit`` rows or columns.
    """
    if matrix.rows > limit or matrix.cols > limit:
        return ""
    br, bc = blocks
    lines: list[str] = []
    for i in range(matrix.rows):
        cells: list[str] = []
        for j in range(matrix.cols):
            if j and j % bc == 0 and bc < matrix.cols:
                cells.append("|")
            cells.append("#" if (i, j) in matrix.entries else ".")
        row = " ".join(cells)
        if i and i % br == 0 and br < matrix.rows:
            lines.append("".join("+" if ch == "|" else "-" for ch in row))
        lines.append(row)
    return f"{legend}\n\n```text\n" + "\n".join(lines) + "\n```"


@dataclass(frozen=True)
class ProseSettings:
    """Settings of the printers of prose with TeX maths (Markdown, notebook, HTML)."""

    max_entries: int = DEFAULT_MAX_ENTRIES
    max_terms: int = DEFAULT_MAX_TERMS
    upstream: str = "bar"
    #: the printer's name in the messages about a bad setting
    printer: ClassVar[str] = "markdown"

    def __post_init__(self) -> None:
        positive("max_entries", self.max_entries, self.printer)
        positive("max_terms", self.max_terms, self.printer)
        one_of("upstream", self.upstream, ("bar", "frac"), self.printer)


@dataclass(frozen=True)
class MarkdownSettings(ProseSettings):
    """Settings of the Markdown printer."""

    #: "github" (```math fences), "gitlab" (the same, 1000 characters a block), "jupyter"
    flavor: str = "github"

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("flavor", self.flavor, tuple(FLAVORS), "markdown")


P = TypeVar("P", bound=ProseSettings)


class ProsePrinter(PagePrinter[str, P]):
    """Prose with the maths of the portable TeX layout: what Markdown and HTML share.

    A format says how it writes prose (``text``), maths in it (``inline``), a display
    (``math``; ``displays`` for those the layout makes), a paragraph (``para``) and what
    goes between two blocks (``sep``); the blocks made of nothing else are written here.
    """

    #: between two blocks
    sep: ClassVar[str]
    #: width (em) of a display line before the TeX layout breaks or elides it
    width_em: ClassVar[float]

    def bind(self, config: Config) -> None:
        super().bind(config)
        self.tex = self.layout(self.settings.max_entries, self.settings.max_terms)

    def layout(self, max_entries: int, max_terms: int) -> TexLayout:
        """The TeX layout showing at most ``max_entries`` rows and columns."""
        return TexLayout(
            self.letters,
            max_entries=max_entries,
            max_terms=max_terms,
            upstream=self.settings.upstream,
            portable=True,
            width_em=self.width_em,
            share_width=0.45,
        )

    @abstractmethod
    def words(self, text: str) -> str:
        """Plain text, escaped."""

    @abstractmethod
    def code_span(self, code: str) -> str:
        """Code in running text."""

    @abstractmethod
    def inline(self, tex: str) -> str:
        """Maths in running text."""

    @abstractmethod
    def math(self, tex: str) -> str:
        """A display formula."""

    @abstractmethod
    def displays(self, make: Callable[[TexLayout], list[str]], kind: str = "") -> str:
        """The display formulas that ``make`` lays out; ``kind``: "entry" for an entry
        written out."""

    @abstractmethod
    def document(self, blocks: tuple[Block, ...]) -> str:
        """The whole page made of ``blocks``."""

    def para(self, text: str) -> str:
        """A paragraph."""
        return text

    def text(self, prose: Prose) -> str:
        """Prose with its marked maths inline."""
        spell = {"math": lambda tex: self.inline(tex.strip()), "code": self.code_span}
        return "".join(
            spell.get(kind, self.words)(content)
            for kind, content in prose_spans(prose, self.letters)
        )

    def sentence(self, text: str | Prose) -> str:
        """A sentence of the engine: marked prose, or plain words with no maths."""
        return self.text((text,) if isinstance(text, str) else text)

    def subtitle(self, block: PageTitle) -> str:
        """The sizes, then the settings (the last one is the command, shown apart)."""
        sizes, *rest = block.settings
        return f"{self.text(sizes)}; " + ", ".join(self.text(p) for p in rest[:-1])

    def empty(self) -> str:
        return ""

    def join(self, blocks: Iterable[Block]) -> str:
        return self.sep.join(out for out in self.blocks(blocks) if out)

    def render(self, d: Derivation) -> str:
        blocks = page_of(d, self.settings.max_entries)
        self.bind(blocks[0].config)  # type: ignore[union-attr]
        return self.document(blocks)

    # -- the blocks written alike in every format ------------------------------------------
    def display(self, block: Display) -> str:
        if block.boxed:
            return self.displays(lambda t: [t.boxed(block.equations)])
        return self.displays(
            lambda t: [
                tex
                for tex, _, _ in t.display_lines(
                    block.equations, block.kind, block.group
                )
            ]
        )

    def formula(self, block: Formula) -> str:
        return self.math(block.math.tex)

    def note(self, block: Note) -> str:
        return self.para(self.text(block.prose))

    def notation(self, block: Notation) -> str:
        if self.settings.upstream != "bar":
            return ""
        before, after = self.text(block.before), self.text(block.after)
        return self.sep.join(
            (self.para(before), self.math(block.math.tex), self.para(after))
        )

    def entry_sum(self, block: EntrySum) -> str:
        out = [
            self.para(self.text(block.title)),
            self.displays(lambda t: [t.entry_sum(block)], "entry"),
        ]
        if block.hidden:
            out.append(self.para(self.text(notes.entry_hidden(block.hidden))))
        if block.zeros:
            out.append(self.para(self.text(notes.entry_zeros(block.zeros))))
        return self.sep.join(out)

    def ledger(self, block: ShapeLedger) -> str:
        """Each formula of a shape ledger in ℝ^(rows×cols), inline, between "; " (a "·"
        there would read as a product)."""
        items = []
        for item in block.items:
            shape = item.dims.shape
            if shape is None:
                continue
            tex = formula_latex(item.node, self.letters)
            dims = rf"{tex} \in \mathbb{{R}}^{{{shape[0]} \times {shape[1]}}}"
            items.append(self.inline(dims) + (" reshaped" if item.reshaped else ""))
        return self.join_ledger(items)

    def join_ledger(self, items: list[str]) -> str:
        """The ledger's formulas, each but the last followed by "; "."""
        return "; ".join(items)

    def closed_shapes(self, block: ClosedShapes) -> str:
        tex = self.tex.closed_shapes(block, self.config)
        return self.math(tex) if tex else ""

    def checks(self, block: CertificateTable) -> list[tuple[str, str, bool, str]]:
        """Each row of the certificate: variable, claim, passed, how it was checked."""
        return [
            (
                self.inline(formula_latex(Sym(check.wrt), self.letters)),
                self.text(notes.claim(check.claim)),
                check.passed,
                self.sentence(check.detail),
            )
            for check in block.checks
        ]

    def api_check(self, block: ApiCheck) -> str:
        return ""  # omitted (page.OMITTED)


class MarkdownPrinter(ProsePrinter[MarkdownSettings]):
    """Each part a level-2 heading, each step a level-3 heading, maths in display blocks."""

    name = "markdown"
    settings_type = MarkdownSettings
    sep = "\n\n"
    # Rendered Markdown is about as wide as the article; wider maths scrolls sideways.
    width_em = ARTICLE_WIDTH_EM

    def bind(self, config: Config) -> None:
        self.flavor = FLAVORS[self.settings.flavor]
        super().bind(config)

    def words(self, text: str) -> str:
        return _TEXT_MATH_RE.sub(
            lambda m: self.inline(_TEXT_MATH[m[0]]), markdown_escape(text)
        )

    def code_span(self, code: str) -> str:
        return f"`{code}`"

    def inline(self, tex: str) -> str:
        return inline_math(tex, self.flavor)

    def math(self, tex: str) -> str:
        """A display in the flavour's syntax, split into blocks within its limits."""
        return "\n\n".join(
            display_math(piece, self.flavor)
            for piece in split_display(tex, self.flavor)
        )

    def displays(self, make: Callable[[TexLayout], list[str]], kind: str = "") -> str:
        """Displays made by ``make``, elided further until every block fits the flavour.

        Fewer rows and columns first (down to three), then fewer terms per entry.
        """
        entries, terms = self.settings.max_entries, self.settings.max_terms
        layout = self.tex
        while True:
            pieces = [
                p for tex in make(layout) for p in split_display(tex, self.flavor)
            ]
            if all(fits(p, self.flavor) for p in pieces) or (
                entries <= 3 and terms <= 1
            ):
                return "\n\n".join(display_math(p, self.flavor) for p in pieces)
            if entries > 3:
                entries -= 1
            else:
                terms -= 1
            layout = self.layout(entries, terms)

    def mark(self, passed: bool) -> str:
        return self.inline(CHECKMARK if passed else CROSS)

    def document(self, blocks: tuple[Block, ...]) -> str:
        text = re.sub(r"\n{3,}", "\n\n", self.join(blocks))
        return text.rstrip("\n") + "\n"

    # -- the blocks ------------------------------------------------------------------------
    def page_title(self, block: PageTitle) -> str:
        return (
            f"# {self.text(block.title)}\n\n"
            f"*{self.subtitle(block)}. Derived and verified by symderiv {__version__}:* "
            f"`{block.command}`"
        )

    def section(self, block: Section | Remarks | Background) -> str:
        """A part of the page (also the remarks, the background): a level-2 heading."""
        return f"## {self.text(block.title)}\n\n" + self.join(block.blocks)

    remarks = background = section

    def step_group(self, block: StepGroup) -> str:
        head = f"### Step {block.number} · {self.sentence(block.step.title)}"
        return head + "\n\n" + self.join(block.blocks)

    def heading(self, block: Heading) -> str:
        hashes = {Level.PAGE: "#", Level.PART: "##"}.get(block.level, "####")
        return f"{hashes} {self.text(block.title)}"

    def items(self, block: Items) -> str:
        return "\n".join(f"- {self.text(i)}" for i in block.items)

    def shape_ledger(self, block: ShapeLedger) -> str:
        return f"*{self.text(notes.LEDGER)}* " + self.ledger(block)

    def sparsity(self, block: Sparsity) -> str:
        if block.blocks is None:
            return ""
        if block.legend is None:
            return sparsity_text(block.matrix, block.blocks)
        legend = self.text(block.legend)
        return sparsity_text(block.matrix, block.blocks, legend=legend)

    def code(self, block: Code) -> str:
        lines = "\n".join(block.lines)
        return f"{self.text(block.intro)}\n\n```python\n{lines}\n```"

    def certificate(self, block: CertificateTable) -> str:
        # a certificate split over several tables: one heading, the verdict after the last
        rows = [] if block.continued else [f"## {self.text(notes.CERTIFICATE)}", ""]
        rows += [
            self.text(block.intro),
            "",
            "| variable | claim | | how it was checked |",
            "|---|---|:-:|---|",
        ]
        for var, claim, passed, detail in self.checks(block):
            rows.append(f"| {var} | {claim} | {self.mark(passed)} | {detail} |")
        if block.continues:
            return "\n".join(rows)
        rows += [
            "",
            self.text(notes.VERIFIED)
            if block.verified
            else f"**Verification failed** (see {self.inline(CROSS)} above): "
            "a result is wrong.",
        ]
        return "\n".join(rows)

    def cell(self, cell: TableCell) -> str:
        text = self.text(cell.prose + cell.aside)
        if cell.passed is None:
            return text
        return f"{text} {self.mark(cell.passed)}".strip()

    def table(self, block: Table) -> str:
        rows = [
            self.heading(Heading(block.title, Level.PART)),
            "",
            "| " + " | ".join(self.text(h) for h in block.header) + " |",
            "|" + "---|" * len(block.header),
        ]
        for group in block.groups:
            rows += [
                "| " + " | ".join(self.cell(c) for c in row) + " |" for row in group
            ]
        return "\n".join(rows)

    def verdict(self, block: Verdict) -> str:
        return f"**{self.text(block.prose)}**"


def render_markdown(derivation: Derivation, **settings: Any) -> str:
    """The derivation as Markdown for GitHub (default), GitLab or Jupyter.

    Settings: max_entries (12), max_terms (6), upstream ("bar" or "frac"), flavor
    ("github", "gitlab" or "jupyter"; see :mod:`symderiv.render.mdmath`).
    """
    return MarkdownPrinter(**settings).render(derivation)


__all__ = [
    "MarkdownPrinter",
    "MarkdownSettings",
    "ProsePrinter",
    "ProseSettings",
    "markdown_escape",
    "render_markdown",
]
