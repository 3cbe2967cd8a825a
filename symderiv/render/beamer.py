"""Beamer slides: one frame per step, the chain rule revealed term by term.

The slides reuse the article's printer (:mod:`symderiv.render.latex`) for every formula and
matrix, with a narrower line and a height limit per display, so that nothing runs off a
slide at any size. Overlays use ``\\uncover<k->`` (never ``\\pause`` inside an alignment):

* a chain-rule frame shows J_L = J_f·J_y, then the upstream row, then the Jacobian; then,
  in teaching order, the first entry of the product: the row of ȳ and column 1 of the
  Jacobian coloured (``sdrow``), then one term per slide with its pair ȳ_r, J[r, 1] in a
  second colour (``sdcur``); only then the whole product row, in place of the factors;
* the other slicing keeps each slice beside its contraction, all on one slide or, where
  that would shrink them, one per slide; the summary sets its boxes two a line. The
  maths stays at a size a projector shows (tests/test_beamer.py measures it in the PDF);
* a Jacobian frame shows the explicit matrix and its Kronecker form, then its sparsity
  picture on the next slide of the same frame.

It compiles with pdflatex (beamer, amsmath, amssymb, graphicx, booktabs, tikz).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from .. import __version__, notes
from ..algebra import PolyMatrix
from ..notation import Equation, Explicit, Sym
from ..steps import Derivation, StepKind
from .formula import formula_latex
from .latex import (
    LINE_OVERRUN,
    LatexPrinter,
    LatexSettings,
    booktabs,
    environment,
    equation_latex,
    flatten_product,
    latex_preamble,
    max_matrix_cols,
    merge_equations,
    pdf_string,
)
from .page import (
    Background,
    Block,
    CertificateTable,
    ClosedShapes,
    Code,
    Display,
    EntrySum,
    Formula,
    Heading,
    Notation,
    Note,
    PageTitle,
    Remarks,
    Section,
    Sparsity,
    StepGroup,
)

#: Width of a slide's text (em): 16:9 slides are 160 mm wide with 1 cm margins.
SLIDE_WIDTH_EM = 34.0
#: A slide shows at most this many rows and columns of a matrix (fewer if max_entries).
SLIDE_ENTRIES = 8
#: Share of the text height the displays of one frame may take together.
DISPLAY_SHARE = 0.76
#: Share of the text height a line of small text (a note, a sentence) takes.
LINE_SHARE = 0.065
#: A frame's displays are set at this estimated scale or more where eliding rows and
#: columns (down to MIN_ENTRIES) or stacking side-by-side equations can do it: an
#: X and a W of 12×11 and 11×10 side by side were set at 68 %, their subscripts at 5 pt.
SLIDE_SCALE = 0.85
#: A display's height in em that fills the text height (11 pt type, 252 pt): the
#: limits :meth:`BeamerPrinter.heights` gives hold it, its natural height is about h/20.
EM_PER_HEIGHT = 20.0
#: The width of a slide's line (em): 398 pt at 11 pt. Layouts plan for SLIDE_WIDTH_EM;
#: whether a chain-rule frame must elide is judged against the line itself.
LINE_EM = 36.4
#: A chain-rule frame elides for its width only below this estimated scale: the width
#: of names with two scripts (da⁽¹⁾₁,₁) is estimated high, and a row of them times a
#: diagonal, estimated at 0.8, was set at full size (its height is judged by SLIDE_SCALE).
CHAIN_WIDTH_SCALE = 0.75
#: The fewest rows and columns of a matrix a slide elides to (first three, ⋯, last).
MIN_ENTRIES = 5
#: A display whose matrices a slide shows whole is not elided to be set larger while its
#: estimated scale is this or more (measured in the compiled deck: 0.7 or more; the
#: estimate is cautious): the default layer's 6×4 Jacobian of symbols, whole at 72 %, lost
#: the rows y₂,₁ and y₂,₂ where its block structure shows, and the column convention's
#: 6×6 ∂vec(Z)/∂vec(W) its middle rows and columns.
WHOLE_SCALE = 0.65


@dataclass(frozen=True)
class BeamerSettings(LatexSettings):
    """Settings of the slides (``standalone`` and ``paper`` are accepted and ignored)."""

    sparsity: bool | None = True
    printer: ClassVar[str] = "beamer"


class BeamerPrinter(LatexPrinter):
    """Each step as a frame; a long display is scaled to the slide's width and height."""

    name = "beamer"
    settings_type: ClassVar[type[Any]] = BeamerSettings
    width_em = SLIDE_WIDTH_EM
    # Side by side, scaled a little, reads better on a slide than stacked and scaled a lot.
    share_width = 0.75
    slide_entries = SLIDE_ENTRIES
    shapes_height = "0.4\\textheight"
    # A display outside a step (a network's closed forms on "What is derived"): equations
    # share a line only as far as the line allows (five on one line were set at 59 %).
    join_width = SLIDE_WIDTH_EM

    # -- heights -------------------------------------------------------------------------
    @staticmethod
    def heights(items: list[float], chars: int, extra_lines: int = 0) -> list[str]:
        """A height limit per display: shares of what the text leaves of the frame.

        A display of h em takes about h/16 of the slide's text height at natural size;
        when they would not all fit, each gets a share in proportion to its size.
        ``chars``: the length of the frame's notes; ``extra_lines``: other lines of text.
        """
        lines = extra_lines + math.ceil(chars / 105)
        left = max(DISPLAY_SHARE - LINE_SHARE * lines, 0.25)
        natural = [h / 16.0 + 0.02 for h in items]
        # Water-filling: a display smaller than its fair share keeps its natural height,
        # the others share what is left equally.
        share: dict[int, float] = {}
        while len(share) < len(items):
            open_ = [k for k in range(len(items)) if k not in share]
            fair = left / len(open_)
            small = [k for k in open_ if natural[k] <= fair]
            for k in small or open_:
                share[k] = natural[k] if small else fair
                left -= share[k]
        return [f"{share[k] - 0.005:.3f}\\textheight" for k in range(len(items))]

    def frame(self, title: str, body: str, options: str = "t") -> str:
        return f"\\begin{{frame}}[{options}]{{{title}}}\n{body}\n\\end{{frame}}\n"

    # -- the blocks ----------------------------------------------------------------------
    def page_title(self, block: PageTitle) -> str:
        return "\\begin{frame}\n\\titlepage\n\\end{frame}\n"

    def section(self, block: Section | Remarks | Background) -> str:
        if any(isinstance(b, StepGroup) for b in block.blocks):
            heading = self.heading_tex(block.title)
            return f"\\section{{{heading}}}\n" + self.join(block.blocks)
        return self.frame(self.text(block.title), self.join(block.blocks))

    def note(self, block: Note) -> str:
        """A note as a slide says it: its short variant, or nothing."""
        return self.text(block.prose if block.short is None else block.short)

    def formula(self, block: Formula) -> str:
        return self.show(block.math.tex) if block.math.slides else ""

    def heading(self, block: Heading) -> str:
        return ""  # a slide's topics are its items, not headed paragraphs

    def notation(self, block: Notation) -> str:
        if self.settings.upstream != "bar":
            return ""
        return self.text(notes.upstream_notation_short(self.config))

    def entry_sum(self, block: EntrySum) -> str:
        return self.show(self.tex.entry_sum(block))

    def picture_cm(self, matrix: PolyMatrix) -> float:
        return min(3.6, 0.45 * max(matrix.shape))

    def figure(self, picture: str, caption: str) -> str:
        return (
            f"\\begin{{center}}\n{picture}\n\\par\\medskip\n"
            "\\begin{minipage}{0.9\\linewidth}\\footnotesize\\centering\n"
            f"{caption}\n\\end{{minipage}}\n\\end{{center}}"
        )

    def code(self, block: Code, size: str = "\\small") -> str:
        return (
            f"\\begin{{center}}{size}\n{self.code_table(block.lines)}\n\\end{{center}}"
        )

    def certificate(self, block: CertificateTable) -> str:
        """One row per claim, one column per variable: the table fits on a slide."""
        variables = list(dict.fromkeys(c.wrt for c in block.checks))
        claims: dict[str, dict[str, str]] = {}
        for check in block.checks:
            mark = r"\sdyes" if check.passed else r"\sdno"
            claims.setdefault(check.claim, {})[check.wrt] = mark
        rows = []
        for claim, marks in claims.items():
            cells = " & ".join(marks.get(v, "") for v in variables)
            rows.append(f"{self.text(notes.claim(claim))} & {cells} \\\\")
        head = " & ".join(f"${formula_latex(Sym(v), self.letters)}$" for v in variables)
        verdict = (
            "Checked exactly, entry by entry, on the symbolic matrices: all results hold."
            if block.verified
            else r"\textbf{Verification failed}: a result is wrong (see \sdno)."
        )
        table = booktabs(f"@{{}}l{'c' * len(variables)}@{{}}", f"claim & {head}", rows)
        # a certificate split over several frames: the verdict on the last
        body = f"\\begin{{center}}\n{table}\n\\end{{center}}\n" + (
            "" if block.continues else verdict
        )
        title = self.text(notes.CERTIFICATE)
        return self.frame(f"{title} (continued)" if block.continued else title, body)

    def remarks(self, block: Remarks) -> str:
        items: list[str] = []
        for b in block.blocks:
            text = self.block(b) if isinstance(b, (Note, ClosedShapes)) else ""
            if text and items and isinstance(b, ClosedShapes):
                # the shapes answer the bullet before them ("Why the shapes match:")
                items[-1] += "\n" + text
            elif text:
                items.append(text)
        body = environment("itemize", (f"\\item {i}" for i in items), "\n") + "\n"
        return self.frame(self.text(block.title), body)

    def background(self, block: Background) -> str:
        return self.frame(self.text(block.short_title), self.join(block.blocks))

    # -- steps -----------------------------------------------------------------------------
    def step_title(self, block: StepGroup) -> str:
        return f"Step {block.number}: {self.sentence(block.step.title)}"

    def bottom(self, block: StepGroup) -> tuple[str, int]:
        """The notes of a step in small type at the foot of the frame, and their length."""
        texts, length = [], 0
        for b in block.blocks:
            # the ȳ notation after the note that introduces the upstream derivatives
            text = self.notation(b) if isinstance(b, Notation) else ""
            if isinstance(b, Note):
                text = self.note(b)
                length += sum(len(s) if isinstance(s, str) else 4 for s in b.prose)
            if text:
                texts.append(text)
        if not texts:
            return "", 0
        return "\n\\vfill\n{\\footnotesize " + "\n\n".join(texts) + "\\par}", length

    def step_group(self, block: StepGroup) -> str:
        """The step's frame with a frame for each teaching device beside it: a Display
        that is not the step's own, with the note just before it. The function view (the
        Jacobian as symbols) comes before the step's frame, which shows it evaluated, as
        its note says; the other slicing and the numbers of --values come after."""
        blocks, step = block.blocks, block.step
        devices = {
            k
            for k, b in enumerate(blocks)
            if isinstance(b, Display)
            and (
                b.equations != step.equations
                or any(_two_explicit(e) for e in b.equations)
            )
        }
        own: list[Block] = []
        first: list[str] = []  # the frames before the step's own, and after it
        extras: list[str] = []
        for k, b in enumerate(blocks):
            before = blocks[k - 1] if k else None
            note = before if isinstance(before, Note) and not before.aside else None
            if k not in devices:
                if not (isinstance(b, Note) and not b.aside and k + 1 in devices):
                    own.append(b)  # else it goes with the device after it
                continue
            assert isinstance(b, Display)
            if b.equations != step.equations:
                extras.append(self.device_frame(block, note, b))
                continue
            # the Jacobian as symbols = values: the symbols on a frame of their own, with
            # the function view's note; the step's frame keeps the values
            eqs = b.equations
            sym = tuple(
                Equation(e.parts[0], e.parts[1]) for e in eqs if _two_explicit(e)
            )
            first.append(self.device_frame(block, note, replace(b, equations=sym)))
            values = (
                Equation(e.parts[0], *e.parts[2:]) if _two_explicit(e) else e
                for e in eqs
            )
            own.append(replace(b, equations=tuple(values)))
        own_frame = self.step_frame(replace(block, blocks=tuple(own)))
        return "\n".join([*first, own_frame, *extras])

    def device_frame(
        self, block: StepGroup, note: Note | None, display: Display
    ) -> str:
        """A teaching device's frame: its note on top, then its display."""
        text = self.note(note) if note is not None else ""
        top = f"{{\\small {text}\\par}}\n" if text else ""
        return self.frame(self.step_title(block), top + self.device_body(display, text))

    #: Below this estimated scale a teaching device's lines are shown one per slide
    #: instead (the height estimate runs high: 0.65 estimated is about 0.8 measured in
    #: the PDF, which tests/test_beamer.py reads from pdflatex's log).
    DEVICE_SCALE = 0.65

    def displays(self, display: Display, chars: int, spaced: bool = False) -> list[str]:
        """Each display line of ``display`` within its share of the frame, beside notes
        of ``chars`` characters; ``spaced``: each line's own spacing takes about a line
        of text. Set as large as it can be, of the ways tried:

        a matrix shows SLIDE_ENTRIES rows and columns, fewer (down to MIN_ENTRIES) when
        that is what keeps the frame at SLIDE_SCALE or more; short equations share a
        line, or each takes its own, whichever is set larger. A display is as large as
        the smaller of its two scales: the width of the slide over its width, its height
        limit over its height (\\sdfit scales it to both)."""
        # (estimated scale, rows and columns shown per matrix, [(LaTeX, height limit)]
        # per display line) of each way
        found: list[tuple[float, int, list[tuple[str, str]]]] = []
        top = self.tex.slide_entries or self.slide_entries
        for entries in range(top, MIN_ENTRIES - 1, -1):
            # side by side as far as a little scaling allows, as far as the line
            # allows, or each equation on its own line
            # and, where a line would be scaled down to fit, broken into lines instead
            ways = [(join, LINE_OVERRUN) for join in (None, self.width_em, 0.0)]
            for join, overrun in [*ways, (0.0, 1.0)]:
                tex = replace(
                    self.tex, slide_entries=entries, join_width=join, overrun=overrun
                )
                items = [
                    (t, w, max(h, _min_height(t)))
                    for t, w, h in tex.display_lines(display.equations, display.kind)
                ]
                limits = self.heights(
                    [h for _, _, h in items], chars, len(items) if spaced else 0
                )
                scale = min(
                    min(1.0, self.width_em / w, _share(limit) * EM_PER_HEIGHT / h)
                    for (_, w, h), limit in zip(items, limits, strict=True)
                )
                shown = [
                    (t, limit) for (t, _, _), limit in zip(items, limits, strict=True)
                ]
                found.append((scale, entries, shown))
            best = max(s for s, _, _ in found)
            if best >= SLIDE_SCALE or (
                entries == top and best >= WHOLE_SCALE and self._whole(display, top)
            ):
                break
        # the largest type; at the same size, more entries; at the same, the first
        _, _, shown = max(found, key=lambda f: (round(f[0], 3), f[1]))
        return [self.show(tex, limit) for tex, limit in shown]

    def _whole(self, display: Display, entries: int) -> bool:
        """Whether ``entries`` rows and columns show every matrix of ``display`` whole."""
        lines = [
            replace(self.tex, slide_entries=k).display_lines(
                display.equations, display.kind
            )
            for k in (entries, 10**6)
        ]
        return [t for t, _, _ in lines[0]] == [t for t, _, _ in lines[1]]

    def device_body(self, display: Display, text: str) -> str:
        """A teaching device's display. The other slicing keeps each slice ∂Y/∂v_kl and
        its contraction ∂L/∂v_kl on one line (a pair split over two lines reads as two
        unrelated formulas), all lines in one display; where that would shrink the maths
        below DEVICE_SCALE (tall slices, N = 5), one pair per slide at full size."""
        eqs = display.equations
        if display.group != 2 or len(eqs) < 4:
            return "\n".join(self.displays(display, len(text), spaced=True))
        lines = [
            (tex, max(h, _min_height(tex)))
            for k in range(0, len(eqs), 2)
            for tex, _, h in self.tex.display_lines(eqs[k : k + 2], display.kind)
        ]
        total = sum(h + 0.6 for _, h in lines)
        (limit,) = self.heights([total], len(text), 1)
        if (
            _share(limit) >= self.DEVICE_SCALE * (total / 16.0 + 0.02)
            or len(lines) == 1
        ):
            tex = environment("gathered", (t for t, _ in lines), " \\\\[0.8ex]\n")
            return self.show(tex, limit)
        (limit,) = self.heights([max(h for _, h in lines)], len(text), 1)
        shown = (self.show(tex, limit) for tex, _ in lines)
        return _area(limit, [_on("only", k, tex) for k, tex in enumerate(shown, 1)])

    def step_frame(self, block: StepGroup) -> str:
        step = block.step
        display = next(b for b in block.blocks if isinstance(b, Display))
        entry = next((b for b in block.blocks if isinstance(b, EntrySum)), None)
        if step.kind is StepKind.CHAIN:
            return self.chain(block, display, entry)
        if display.boxed:
            return self.summary(block, display)
        note, length = self.bottom(block)
        body = self.displays(display, length)
        text = "\n".join(body) + note
        pictures = [b for b in block.blocks if isinstance(b, Sparsity)]
        if pictures and self.pictures:
            fig = self.sparsity(pictures[0])
            kron = [
                e
                for e in display.equations
                if not any(isinstance(p, Explicit) for p in e.parts)
            ]
            above = ""
            if kron:
                tex, _, _ = self.tex.equation(kron[-1], self.tex.style(step.kind))
                above = self.show(tex, "0.2\\textheight") + "\n"
            text = _on("only", 1, text) + "\n" + _on("only", 2, above + fig)
        return self.frame(self.step_title(block), text)

    def chain(self, block: StepGroup, display: Display, entry: EntrySum | None) -> str:
        """The chain rule revealed in teaching order, as the module docstring tells (one
        equation per slide when the step is not J_L = J_f·J_y with an entry written out).
        """
        parts = merge_equations(display.equations)
        if entry is None or len(parts) != 1 or len(parts[0].parts) != 4:
            return self.reveal(block, display)
        (eq,) = parts
        factors = [f for _, f in flatten_product(eq.parts[2])]
        # slides: 1 J_L = J_f·J_y, 2 the row, 3 the Jacobian, then the entry
        entry_slide = 4
        lhs, terms = self.tex.entry_terms(entry)
        plan = _EntryPlan.make(
            entry, terms, factors, entry_slide, self.settings.max_terms
        )
        # the product's factors, the row and the Jacobian, coloured by the plan
        marks = (
            {}
            if plan is None
            else {
                (2, j): plan.mark_row if j == 0 else plan.mark_column
                for j in range(len(factors))
            }
        )
        budget = self.width_em * 0.9
        top = self.tex.slide_entries or self.slide_entries
        for entries in range(top, MIN_ENTRIES - 1, -1):
            # fewer rows and columns where the product would be set below SLIDE_SCALE
            # (a network's 16-entry row as a column of eight at 70 %)
            layout = replace(self.tex, slide_entries=entries)
            style = layout.style(StepKind.CHAIN)
            pieces = layout.pieces(eq.parts[:3], style, budget, marks)
            # the row on slide 2, the Jacobian on slide 3
            overlays = [None] * (len(pieces) - len(factors)) + [
                2 + k for k in range(len(factors))
            ]
            # the whole row, in place of the factors once the entry is built
            whole = layout.pieces(
                [eq.parts[0], eq.parts[1], eq.parts[3]],
                style,
                budget,
                {(2, 0): _mark_first_entry},
            )
            tex, width, height = equation_latex(pieces, self.width_em, overlays)
            tex_whole, width_whole, height_whole = equation_latex(whole, self.width_em)
            # No note on this frame: the sentence above the entry says what it says.
            limits = self.heights([max(height, height_whole), 2.6], 0, extra_lines=1)
            tall = _share(limits[0]) * EM_PER_HEIGHT / max(height, height_whole)
            wide = LINE_EM / max(width, width_whole)
            if tall >= SLIDE_SCALE and wide >= CHAIN_WIDTH_SCALE:
                break
        last = plan.last if plan is not None else entry_slide
        shown = [
            _on("only", f"-{last}", self.show(tex, limits[0])),
            _on("only", f"{last + 1}-", self.show(tex_whole, limits[0])),
        ]
        body = [_area(limits[0], shown)]
        if plan is not None:
            first = self.show(plan.tex(lhs), limits[1])
            text = f"\\small {self.text(entry.title)}\n{first}"
            body.append(_on("uncover", f"{entry_slide}-", text))
        return self.frame(self.step_title(block), "\n".join(body))

    def reveal(self, block: StepGroup, display: Display) -> str:
        """Any other chain step: its equations one slide after another."""
        note, length = self.bottom(block)
        body = [
            _on("uncover", f"{k}-", tex)
            for k, tex in enumerate(self.displays(display, length), start=1)
        ]
        return self.frame(self.step_title(block), "\n".join(body) + note)

    def summary(self, block: StepGroup, display: Display) -> str:
        """The formulas to keep, boxed, and their NumPy lines."""
        boxes = self.tex.boxes(display.equations)
        # two formulas a line where they fit: four stacked boxes (mse) shrank to half size
        pair = len(boxes) > 2 and all(w < 0.42 * self.width_em for _, w in boxes)
        step = 2 if pair else 1
        rows = [
            r" \qquad ".join(t for t, _ in boxes[k : k + step])
            for k in range(0, len(boxes), step)
        ]
        shown = environment("gathered", rows, " \\\\[1ex]\n")
        code = [b for b in block.blocks if isinstance(b, Code)]
        lines = len(code[0].lines) if code else 0
        note, length = self.bottom(block)
        (limit,) = self.heights([2.6 * len(rows)], length, extra_lines=lines + 1)
        body = self.show(shown, limit)
        if code and len(display.equations) > 4:
            # a network's backward pass: its formulas beside their NumPy lines
            (limit,) = self.heights([2.6 * len(display.equations)], 0, extra_lines=2)
            size = "\\scriptsize" if lines > 10 else "\\small"
            body = (
                "\\begin{columns}[T]\n\\begin{column}{0.44\\textwidth}\n"
                f"{self.show(shown, limit)}\n"
                "\\end{column}\n\\begin{column}{0.54\\textwidth}\n"
                f"{self.code(code[0], size)}\n\\end{{column}}\n\\end{{columns}}"
            )
        elif code:
            body += "\n" + self.code(code[0])
        return self.frame(self.step_title(block), body + note)

    # -- the deck --------------------------------------------------------------------------
    def document(self, title: PageTitle, body: str) -> str:
        # Beamer's "frame number" footline, with the total written in: the printer knows
        # how many frames it wrote, so one pdflatex run numbers them "9 / 40" (with
        # \inserttotalframenumber a single run prints "9 / 1").
        frames = body.count("\\begin{frame}")
        footline = (
            r"\setbeamertemplate{footline}{\hfill"
            r"\usebeamercolor[fg]{page number in head/foot}"
            r"\usebeamerfont{page number in head/foot}"
            rf"\insertframenumber\,/\,{frames}\kern1em\vskip2pt}}"
        )
        preamble = latex_preamble(
            document_class="beamer",
            options="11pt,aspectratio=169",
            max_matrix_cols=max_matrix_cols(body),
            geometry=None,
            max_height="0.7\\textheight",
            extra=[
                r"\setbeamertemplate{navigation symbols}{}",
                footline,
                r"\setbeamercovered{invisible}",
                # the row of ȳ and the column of J being multiplied, and the current pair
                r"\colorlet{sdrow}{blue!75!black}",
                r"\colorlet{sdcur}{orange!85!black}",
                r"\renewcommand{\arraystretch}{1.1}",
                f"\\title{{{self.heading_tex(title.title)}}}",
                # with its Unicode words for the PDF's title (beamer adds it)
                "\\subtitle{\\texorpdfstring"
                f"{{{self.subtitle(title, self.text)}}}"
                f"{{{pdf_string(self.subtitle(title, self.plain))}}}}}",
                r"\date{Derived and verified by symderiv " + __version__ + "}",
            ],
        )
        head = (
            f"% Generated by symderiv {__version__}: {title.command} --format beamer\n"
            "% Compile with pdflatex.\n"
        )
        return (
            head + preamble + "\n\\begin{document}\n\n" + body + "\n\\end{document}\n"
        )


@dataclass(frozen=True)
class _EntryPlan:
    """Which slide shows which term of the first entry, and the colours of the row of ȳ
    and of column 1 of the Jacobian while the entry is built.

    ``shown``: the terms as written (None for "+ ⋯"); ``slides``: the slide of each;
    ``slide_of``: the slide of the term of row r, for the rows r of the shown pairs
    (ȳ_r, J[r, 1]) found in the product; ``first``/``last``: the slides the row and the
    column are coloured.
    """

    shown: tuple[str | None, ...]
    slides: tuple[int, ...]
    slide_of: dict[int, int]
    first: int
    last: int

    @staticmethod
    def make(
        entry: EntrySum,
        terms: list[str],
        factors: list[Any],
        slide: int,
        max_terms: int,
    ) -> _EntryPlan | None:
        if not terms:
            return None
        limit = max(max_terms, 2)
        pairs: list[tuple[Any, Any] | None] = list(entry.terms)
        shown: list[str | None] = list(terms)
        if len(terms) > limit or entry.hidden:
            keep = min(limit, len(terms)) - 1
            shown = [*terms[:keep], None, terms[-1]]
            pairs = [*pairs[:keep], None, pairs[-1]]
        slides, at = [], slide + 1  # the first slide colours the row and the column
        for term in shown:
            slides.append(at)
            at += term is not None
        rows = _pair_rows(pairs, factors)
        slide_of = {r: s for r, s in zip(rows, slides, strict=True) if r is not None}
        return _EntryPlan(tuple(shown), tuple(slides), slide_of, slide, at - 1)

    def tex(self, lhs: str) -> str:
        """∂L/∂v_1 = Σ_r ȳ_r·J[r, 0]: the left side ``lhs`` on the first slide, then one
        term per slide (each in the pair's colour on its own slide), past the limit + ⋯ +
        the last."""
        out = [f"{lhs} ="]
        for k, (term, at) in enumerate(zip(self.shown, self.slides, strict=True)):
            if term is None:
                out.append(rf"\uncover<{at}->{{{{}}+ \cdots}}")
                continue
            sign = "" if k == 0 else "+ "
            if term.startswith("-") and k:
                sign, term = "- ", term[1:]
            out.append(
                rf"\uncover<{at}->{{{{}}{sign}\textcolor<{at}>{{sdcur}}{{{term}}}}}"
            )
        return "\n".join(out)

    def _colour(self, tex: str, current: int | None) -> str:
        tex = rf"\textcolor<{current}>{{sdcur}}{{{tex}}}" if current else tex
        return rf"\textcolor<{self.first}-{self.last}>{{sdrow}}{{{tex}}}"

    def mark_row(self, i: int, j: int, tex: str) -> str:
        """The upstream row (1×R): every entry coloured, the current term's ȳ_r more."""
        return self._colour(tex, self.slide_of.get(j))

    def mark_column(self, i: int, j: int, tex: str) -> str:
        """The Jacobian (R×C): column 1 coloured, the current term's J[r, 1] more."""
        return self._colour(tex, self.slide_of.get(i)) if j == 0 else tex


def _pair_rows(
    pairs: list[tuple[Any, Any] | None], factors: list[Any]
) -> list[int | None]:
    """The row r of each shown pair (ȳ_r, J[r, 1]) in the product's row and Jacobian
    (None where the factors are not a 1×R row times an R×C matrix)."""
    if len(factors) != 2 or not all(isinstance(f, Explicit) for f in factors):
        return [None for _ in pairs]
    row, jac = factors[0].matrix, factors[1].matrix
    if row.rows != 1 or row.cols != jac.rows:
        return [None for _ in pairs]
    out: list[int | None] = []
    for pair in pairs:
        rows = (r for r in range(jac.rows) if (row[0, r], jac[r, 0]) == pair)
        out.append(next((r for r in rows if r not in out), None))
    return out


def _mark_first_entry(i: int, j: int, tex: str) -> str:
    """The whole product row's first entry in the row's colour: the one just written out.
    (The whole row replaces the factors once the entry is built; the frame keeps its
    size: the larger of the two decides the scale, not their sum.)"""
    return rf"\textcolor{{sdrow}}{{{tex}}}" if i == j == 0 else tex


def _min_height(tex: str) -> float:
    """A floor for the height (em) of display lines without matrices: 3 for a line with
    a sum's limits or a fraction, else 1.4; matrices keep the article's estimate. A line
    of index notation (Σ with limits, fractions) is about three lines of text, and an
    estimate of one shrank it to 65 % on a half-empty frame."""
    if "\\begin{bmatrix}" in tex or "\\begin{array}" in tex:
        return 0.0
    lines = tex.split("\\\\")
    tall = ("\\sum_", "\\frac", "\\dfrac", "\\prod_")
    return sum(3.0 if any(t in line for t in tall) else 1.4 for line in lines)


def _on(command: str, slides: object, body: str) -> str:
    """``body`` shown by beamer's \\only or \\uncover on ``slides`` (2, 2-, -3)."""
    return f"\\{command}<{slides}>{{%\n{body}\n}}"


def _area(limit: str, shown: list[str]) -> str:
    """Displays of height ``limit`` shown in turn (\\only), in an area that holds the
    tallest with its skips above and below (0.06 was too little): the frame keeps still."""
    area = f"{_share(limit) + 0.1:.3f}\\textheight"
    return environment(
        "overlayarea", (f"{s}%" for s in shown), "\n", f"{{\\linewidth}}{{{area}}}"
    )


def _share(height: str) -> float:
    """0.508 from "0.508\\textheight" (a limit of :meth:`BeamerPrinter.heights`)."""
    return float(height.removesuffix("\\textheight"))


def _two_explicit(eq: Equation) -> bool:
    """lhs = symbols = values: an equation whose next two parts are explicit matrices."""
    return len(eq.parts) >= 3 and all(isinstance(p, Explicit) for p in eq.parts[1:3])


def render_beamer(derivation: Derivation, **settings: Any) -> str:
    """The derivation as Beamer slides (16:9), one frame per step.

    Settings: max_entries (12), max_terms (6), upstream ("bar" or "frac"), sparsity (True).
    """
    return BeamerPrinter(**settings).render(derivation)


__all__ = ["BeamerPrinter", "BeamerSettings", "render_beamer"]
