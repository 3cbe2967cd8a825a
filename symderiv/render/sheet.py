"""Exercise sheets and answer keys, printed from the blocks of the page model.

:func:`sheet_blocks` turns a :class:`symderiv.exercise.Sheet` into blocks of
:mod:`symderiv.render.page` (notes with marked maths, displayed formulas, headings and
parts), and the printers of derivations print them: :class:`~symderiv.render.latex.
LatexPrinter` for the LaTeX sheet, :class:`~symderiv.render.markdown.MarkdownPrinter` for
Markdown (GitHub-safe: ```math fences). A sheet has no table printer of its own.

A blank is a box in a formula: in TeX ``\\boxed{…}`` of one of three widths (standard
macros, which MathJax reads too), in Unicode ``▢``; the key fills each box with its answer
from the derivation (blue in TeX, ``[…]`` in Unicode). The width of a box depends only on
its task, never on its answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..algebra import Poly, PolyMatrix
from ..conventions import Config, Letters
from ..exercise import (
    CHOICE_LETTERS,
    Answer,
    Blanks,
    ChoiceQuestion,
    Exercise,
    IndexQuestion,
    LossQuestion,
    Question,
    Roster,
    ShapesQuestion,
    Sheet,
)
from ..notation import Deriv, Node, Sym
from ..notes import (
    SOURCE_FORMULA,
    SOURCES,
    VARIABLE,
    Code,
    M,
    Math,
    Prose,
    chain_jacobians,
    join_m,
    size_m,
    sizes_m,
    source,
    tex_letters,
    vec_m,
)
from .formula import formula_latex, formula_text
from .latex import (
    LatexPrinter,
    environment,
    latex_entry,
    latex_escape,
    latex_preamble,
    max_matrix_cols,
    tex_width,
)
from .markdown import MarkdownPrinter
from .page import Block, Formula, Heading, Level, Note, Section

#: Blanks of four kinds, (least width in em, what sets the height, Unicode): a symbol or
#: number, an entry of a matrix, a formula on its own line (as tall as a fraction), an
#: entry of a wide matrix listed on its own line. \phantom, \hspace and \boxed: TeX,
#: MathJax, KaTeX and pandoc read them.
BLANKS: dict[str, tuple[float, str, str]] = {
    "short": (2.0, r"\tfrac{1}{2}", "▢"),
    "medium": (3.0, r"\tfrac{1}{2}", "▢▢▢"),
    "long": (14.0, r"\dfrac{1}{2}", "▢▢▢▢▢▢"),
    "entry": (14.0, r"\tfrac{1}{2}", "▢▢▢▢▢▢▢▢"),
}
#: A blank in TeX: a box with room for handwriting, a thin space from brackets.
BLANK_TEX = r"\;\boxed{\phantom{%s}\hspace{%gem}}\;"
#: Handwriting is wider than type: a box is _HAND times as wide as the widest answer it
#: may hide (as typeset), plus _PAD_EM.
_HAND, _PAD_EM = 1.2, 1.0
#: The LaTeX sheet starts each row of a matrix or list with blanks with a strut as tall as
#: a box (the rows stay even) and puts _ROW_GAP between rows (the boxes stay apart).
ROW_STRUT = r"\vphantom{\boxed{\tfrac{1}{2}}}"
_ROW_GAP = " \\\\[1.5ex]\n"
#: The key's box around an answer (TeX): xcolor's and MathJax's blue; plain where the
#: maths goes through pandoc (its TeX reader has no \color).
ANSWER = r"\boxed{\color{blue}{%s}}"
ANSWER_PLAIN = r"\boxed{%s}"


def blank_em(widest: str, size: str) -> float:
    """The width (em) of a blank whose answer is at most as wide as the TeX ``widest``.

    >>> blank_em("0", "short"), blank_em(r"\\bar{y}_{1,1} \\, w_{1,1}", "medium")
    (2.0, 5.0)
    """
    return float(max(BLANKS[size][0], math.ceil(_HAND * tex_width(widest) + _PAD_EM)))


def _aligned(lines: list[M], sep: str = " \\\\\n") -> M:
    """Lines of maths, one a line in Unicode, an aligned environment in TeX (its lines
    separated by ``sep``)."""
    tex = environment("aligned", (m.latex for m in lines), sep)
    return M("\n".join(m.text for m in lines), tex)


def _dl_by(entry: M) -> M:
    """∂L/∂ of one entry, a fraction in TeX."""
    return M(f"∂L/∂{entry.text}", rf"\frac{{\partial L}}{{\partial {entry.latex}}}")


def _math(m: M) -> Formula:
    return Formula(Math(m.text, m.latex))


#: An exercise's title (after "Exercise k: ") and its blocks.
_Part = tuple[Prose, list[Block]]


@dataclass
class _Builder:
    """The blocks of one sheet; ``answers`` fills the blanks."""

    sheet: Sheet
    answers: bool
    #: maths that pandoc reads too (Markdown for Jupyter): no colour, no struts
    portable: bool = False
    #: the layer in index notation is written out for the first index question only
    forward_shown: bool = False

    @property
    def letters(self) -> Letters:
        return self.sheet.config.letters

    # -- pieces of maths -----------------------------------------------------------------
    def blank(self, answer: M, size: str = "short", widest: str | None = None) -> M:
        """A box to fill in, as wide as ``widest`` (TeX; default the answer) needs, or
        (answer key) the box filled with ``answer``."""
        if self.answers:
            box = ANSWER_PLAIN if self.portable else ANSWER
            return M(f"[{answer.text}]", rf"\;{box % answer.latex}\;")  # as blanks
        em = blank_em(answer.latex if widest is None else widest, size)
        _, height, text = BLANKS[size]
        return M(text, BLANK_TEX % (height, em))

    def rows(self, lines: list[str]) -> tuple[list[str], str]:
        """Rows of a matrix or list with blanks, and what separates them: apart, and in
        the LaTeX sheet each as tall as a box."""
        strut = "" if self.portable else ROW_STRUT
        return [strut + line for line in lines], _ROW_GAP

    def shape_blanks(self, rows: int, cols: int) -> M:
        """rows × cols, each a blank."""
        return join_m(
            self.blank(M(str(rows))), M(" × ", r" \times "), self.blank(M(str(cols)))
        )

    def entry(self, poly: Poly) -> M:
        from ..check import readable

        return M(
            readable(poly, self.letters), answer_tex(Answer("", poly), self.letters)
        )

    def node(self, node: Node) -> M:
        return M(formula_text(node, self.letters), formula_latex(node, self.letters))

    def cells(
        self, matrix: PolyMatrix, blanks: Blanks = (), size: str = "short"
    ) -> list[list[M]]:
        """The entries of ``matrix`` row by row, the ``blanks`` boxed, each box as wide as
        the widest entry needs (a box's width tells nothing about its answer)."""
        holes = set(blanks)
        entries = [self.entry(p).latex for p in matrix.entries.values()]
        widest = max(entries, key=tex_width, default="0")
        return [
            [
                self.blank(e, size, widest) if (i, j) in holes else e
                for j in range(matrix.cols)
                for e in [self.entry(matrix[i, j])]
            ]
            for i in range(matrix.rows)
        ]

    def matrix(self, matrix: PolyMatrix, blanks: Blanks = (), size: str = "short") -> M:
        """A bmatrix, one row per source line, with the blank entries boxed; in Unicode
        one row a line: [a  b; c  d]."""
        cells = self.cells(matrix, blanks, size)
        lines = [" & ".join(c.latex for c in row) for row in cells]
        text = "[" + "; ".join("  ".join(c.text for c in row) for row in cells) + "]"
        if not blanks:
            return M(text, environment("bmatrix", lines))
        return M(text, environment("bmatrix", *self.rows(lines)))

    def vector(self, entries: list[Poly]) -> M:
        """A column vector written as a transposed row: (a, b, c)ᵀ."""
        shown = [self.entry(p) for p in entries]
        return M(
            "(" + ", ".join(m.text for m in shown) + ")ᵀ",
            r"\bigl(" + r",\; ".join(m.latex for m in shown) + r"\bigr)^{T}",
        )

    # -- the sheet -----------------------------------------------------------------------
    def given(self) -> list[Block]:
        """The layer: its formula and sizes; for the step-by-step blanks also its
        shapes, its matrices, dY and vec(Y), whose entries those blanks ask about (a
        sheet without them leaves the shapes to the student: they are its questions)."""
        c, d = self.sheet.config, self.sheet.derivation
        y = self.letters.entry("Y")
        order: Prose = (
            (
                "row order: vec stacks the rows, as NumPy's ",
                Code("reshape(-1)"),
                " does",
            )
            if c.vec == "row"
            else ("column order: vec stacks the columns (the textbook vec)",)
        )
        vectors: Prose = (
            "Vectors use the ",
            *order,
            "; the Jacobians are taken in that order and in denominator layout (the "
            "derivative with respect to a matrix has that matrix's shape)",
        )
        layer: Prose = (
            f"The layer computes, in the {c.conv.name} convention (",
            *_source_words(c),
            "), ",
            join_m(self.node(Sym("Y")), " = ", self.node(c.conv.forward())),
            " with ",
            sizes_m(c),
        )
        dy = join_m(self.node(Sym("dY")), " = ", self.node(Deriv("L", "Y")))
        if "steps" not in self.sheet.kinds:
            return [
                Note((*layer, ".")),
                Note(("The upstream derivative ", dy, " is given. ", *vectors, ".")),
            ]
        shapes = join_m(
            *(
                join_m(
                    self.node(Sym(r)),
                    M(f" ∈ ℝ^({a}×{b})", rf" \in \mathbb{{R}}^{{{a} \times {b}}}"),
                )
                for r in ("X", "W", "b")
                for a, b in [c.shape(r)]
            ),
            sep=", ",
        )
        matrices = join_m(
            *(
                join_m(self.node(Sym(r)), " = ", self.matrix(d.layer.matrix(r)))
                for r in ("X", "W", "b")
            ),
            sep=r",\quad ",
        )
        bar = M(
            f"ȳ_i,j = ∂L/∂{y}_i,j",
            rf"\bar{{{y}}}_{{i,j}} = \partial L / \partial {y}_{{i,j}}",
        )
        vec_y = self.vector(d.layer.outputs.vec(c.vec))
        return [
            Note((*layer, ": ", shapes, ". Every entry is its own symbol:")),
            _math(matrices),
            Note(("The upstream derivatives are given as symbols; write ", bar, ":")),
            _math(join_m(dy, " = ", self.matrix(d.upstream))),
            Note((*vectors, ":")),
            _math(join_m(vec_m(self.node(Sym("Y"))), " = ", vec_y)),
        ]

    def part(self, label: str, words: Prose, *maths: M) -> list[Block]:
        """One task of an exercise: (a), (b), … with its sentence and its formulas."""
        return [Heading((f"({label})",), Level.MINOR), Note(words), *map(_math, maths)]

    def exercise(self, ex: Exercise) -> _Part:
        c, d = self.sheet.config, self.sheet.derivation
        v, result = ex.var, d.results[ex.var]
        lv, dl = self.node(Sym(v)), self.node(Deriv("L", v))
        vec_v = d.layer.matrix(v).vec(c.vec)
        jac_lhs = self.node(Deriv("Y", v, vec=True))
        jh, jy = chain_jacobians(c, v)  # J_f(z)·J_z(w) in the column convention
        small = self.letters.entry(v)
        jl = M(f"J_L({small})", rf"J_L({tex_letters(small)})")
        chain_lhs = _dl_by(self.entry(vec_v[ex.chain_column]))
        shape = self.shape_blanks(*result.jacobian.shape)
        blocks = [
            *self.part(
                "a",
                (
                    "The Jacobian ",
                    join_m(jy, " = ", jac_lhs),
                    " has one row per entry of ",
                    vec_m(self.node(Sym("Y"))),
                    " and one column per entry of ",
                    vec_m(lv),
                    ", here",
                ),
                join_m(vec_m(lv), " = ", self.vector(vec_v)),
            ),
            Note(("Its shape is ", shape, ". Fill in the blank entries:")),
            _math(
                join_m(jac_lhs, " = ", self.matrix(result.jacobian, ex.jacobian_blanks))
            ),
        ]
        blocks += self.part(
            "b",
            (
                "The chain rule gives the row ",
                join_m(jl, " = ", jh, M("·", r" \, "), jy),
                f"; its entry {ex.chain_column + 1} is ",
                chain_lhs,
                ". Write it out as a sum over the outputs, keeping only the nonzero terms:",
            ),
            join_m(
                chain_lhs,
                " = ",
                self.blank(self.entry(result.chain[0, ex.chain_column]), "long"),
            ),
        )
        undo = ("Put the entries of ", jl, " back in the shape of ", lv, " (undo vec)")
        if _too_wide(result.derivative, ex.derivative_blanks, self.letters):
            blocks += self.entry_rows(ex, undo, dl)
        else:
            blocks += self.part(
                "c",
                (*undo, " and fill in the blanks:"),
                join_m(
                    dl,
                    " = ",
                    self.matrix(result.derivative, ex.derivative_blanks, "medium"),
                ),
            )
        blocks += self.part(
            "d",
            ("Which product of the layer's matrices is this? Give the closed form:",),
            join_m(dl, " = ", self.blank(self.node(result.closed_form), "long")),
        )
        return (f"the derivative with respect to {VARIABLE[v]} ", lv), blocks

    def entry_rows(self, ex: Exercise, undo: Prose, dl: M) -> list[Block]:
        """Part (c) for a matrix too wide to write in: its entries listed row by row,
        each blank a box as wide as a sum on its own line (a student has room to write
        a four-term sum; in a 4×4 matrix the boxes were scaled down to 5 pt)."""
        derivative = self.sheet.derivation.results[ex.var].derivative
        variable = self.sheet.derivation.layer.matrix(ex.var)
        vector = 1 in variable.shape  # b is a vector: b_k
        index = "k" if vector else "i,j"
        small = self.letters.entry(ex.var)
        entries = zip(
            self.cells(variable),
            self.cells(derivative, ex.derivative_blanks, "entry"),
            strict=True,
        )
        return self.part(
            "c",
            (
                *undo,
                ": entry ",
                M("k" if vector else "(i, j)"),
                " of ",
                dl,
                " is ",
                M(f"∂L/∂{small}_{index}", rf"\partial L/\partial {small}_{{{index}}}"),
                ". Fill in the blanks, row by row:",
            ),
            *(  # one aligned block per row: ∂L/∂v_ij = entry
                self.spaced(
                    [
                        join_m(_dl_by(e), M(" = ", " &= "), value)
                        for e, value in zip(names, values, strict=True)
                    ]
                )
                for names, values in entries
            ),
        )

    def spaced(self, lines: list[M]) -> M:
        """Lines with blanks, aligned, apart and (LaTeX) even."""
        struts, sep = self.rows([m.latex for m in lines])
        return _aligned([M(m.text, t) for m, t in zip(lines, struts, strict=True)], sep)

    # questions beyond the step-by-step exercise (--kind, --loss mse)
    def question(self, q: Question) -> _Part:
        """A shapes, multiple-choice, index-notation or loss question."""
        printers: dict[type, Callable[[Any], _Part]] = {
            ShapesQuestion: self.shapes,
            ChoiceQuestion: self.choice,
            IndexQuestion: self.index,
            LossQuestion: self.loss,
        }
        return printers[type(q)](q)

    def shapes(self, q: ShapesQuestion) -> _Part:
        lv = self.node(Sym(q.var))
        lines = [
            join_m(
                self.node(node), M(":  ", r" &:\quad "), self.shape_blanks(rows, cols)
            )
            for node, rows, cols in q.items
        ]
        blocks = self.part(
            "a",
            (
                "Give the shape (rows × columns) of each object in the derivative with "
                "respect to ",
                lv,
                ", at the sizes of this sheet:",
            ),
            self.spaced(lines),
        )
        what = f"shapes, for the derivative with respect to {VARIABLE[q.var]} "
        return (what, lv), blocks

    def choice(self, q: ChoiceQuestion) -> _Part:
        c = self.sheet.config
        layout = (
            "the shape of its transpose (numerator layout)"
            if c.layout == "numerator"
            else "the shape of the variable (denominator layout)"
        )
        options = [
            join_m(
                # options A–D: the question is already "(a)"
                M(f"{CHOICE_LETTERS[k]} ", rf"\text{{{CHOICE_LETTERS[k]}}}\; "),
                self.blank(M("✓", r"\checkmark"))
                if self.answers and k == q.correct
                else M("□", r"\square"),
                M(" ", r"\; "),
                self.node(node),
            )
            for k, node in enumerate(q.options)
        ]
        blocks = self.part(
            "a",
            (
                "Exactly one of these is ",
                self.node(Deriv("L", q.var)),
                f", written in {layout}. Tick it:",
            ),
            join_m(*options, sep=r"\qquad "),
        )
        what = f"which formula, for the derivative with respect to {VARIABLE[q.var]} "
        return (what, self.node(Sym(q.var))), blocks

    def index(self, q: IndexQuestion) -> _Part:
        """Index-notation blanks: ∂y_ij/∂v_hk, the sum the deltas leave, and which entry of
        a product of the layer's matrices it is."""
        blocks: list[Block] = []
        if self.forward_shown:  # the layer in index notation, once a sheet
            blocks.append(Note(("The layer in index notation as above: ", q.forward)))
        else:
            self.forward_shown = True
            blocks += [
                Note(
                    (
                        "Entry by entry, with sums over the indices (",
                        M("δ", r"\delta"),
                        " is the Kronecker delta: 1 where its indices are equal, else 0), "
                        "the layer reads",
                    )
                ),
                _math(q.forward),
            ]
        blocks += self.part(
            "a",
            (
                "Differentiate one output entry by one entry of ",
                self.node(Sym(q.var)),
                ":",
            ),
            join_m(q.entry_lhs, " = ", self.blank(q.partial, "medium")),
        )
        blocks += self.part(
            "b",
            (
                "Put (a) into the chain rule and let the delta collapse a sum: what is "
                "left?",
            ),
            join_m(q.loss_lhs, " = ", q.chain, " = ", self.blank(q.collapsed, "long")),
        )
        blocks += self.part(
            "c",
            ("This is one entry of a product of the layer's matrices. Which?",),
            join_m(q.loss_lhs, " = ", self.blank(q.entry, "long")),
        )
        what = f"index notation, for the derivative with respect to {VARIABLE[q.var]} "
        return (what, self.node(Sym(q.var))), blocks

    def loss(self, q: LossQuestion) -> _Part:
        c = self.sheet.config
        y, t = self.letters.entry("Y"), self.letters.entry("T")
        n = c.size_names[0]
        i, j = q.at
        entry = M(f"{y}_{i + 1},{j + 1}", f"{y}_{{{i + 1},{j + 1}}}")
        blocks = self.part(
            "a",
            (
                "The loss is the mean squared error against the targets ",
                join_m(
                    self.node(Sym("T")),
                    M(f" = [{t}_i,j]", rf" = \bigl[{t}_{{i,j}}\bigr]"),
                ),
                ", the values the outputs should take:",
            ),
            M(
                f"L = 1/(2{n}) Σ_i ‖{y}_i − {t}_i‖²",
                rf"L = \frac{{1}}{{2{size_m(n).latex}}} \sum_{{i=1}}^{{{size_m(n).latex}}} "
                rf"\lVert {y}_{{i}} - {t}_{{i}} \rVert^{{2}}",
            ),
        )
        blocks += self.part(
            "b",
            ("Differentiate L by one output entry:",),
            join_m(_dl_by(entry), " = ", self.blank(self.entry(q.entry), "long")),
        )
        blocks += self.part(
            "c",
            ("and write the whole upstream derivative as one formula:",),
            join_m(
                self.node(Sym("dY")), " = ", self.blank(self.node(q.formula), "long")
            ),
        )
        return ("the loss",), blocks

    def footer(self) -> Note:
        if self.sheet.student is not None and not self.answers:
            # the seed (drawn from the name and the course's seed) would rebuild the key
            return Note(
                (
                    "Made with ",
                    Code("symderiv exercise --roster"),
                    ": a sheet of its own for each student; the answer key stays with "
                    "the lecturer.",
                ),
                aside=True,
            )
        how = (
            "Answers filled in from the derivation; reproduce with: "
            if self.answers
            else "Made with: "
        )
        return Note((how, Code(self.sheet.command(self.answers))), aside=True)


#: Widths in em (article, 10 pt) for :func:`_too_wide`: one term of a sum such as
#: ȳ₁₁·w₂₁ + , and the line a matrix may take.
_TERM_EM, _LINE_EM = 3.4, 34.0


def _too_wide(matrix: PolyMatrix, blanks: Blanks, letters: Letters) -> bool:
    """Whether a matrix with medium blanks (each as wide as its widest entry needs, see
    :meth:`_Builder.cells`) would be scaled down to fit the line."""
    holes = set(blanks)
    entries = [answer_tex(Answer("", p), letters) for p in matrix.entries.values()]
    box = blank_em(max(entries, key=tex_width, default="0"), "medium") + 0.4
    width = 0.0
    for j in range(matrix.cols):
        column = [
            box if (i, j) in holes else _TERM_EM * max(1, len(matrix[i, j].terms))
            for i in range(matrix.rows)
        ]
        width += max(column) + 1.0
    return width > _LINE_EM


def _source_words(c: Config) -> Prose:
    """Where the convention comes from, without a formula the sheet writes next anyway
    (the column convention's source is its forward map)."""
    if c.conv.name in SOURCE_FORMULA:
        words = SOURCES[c.conv.name][0]
        assert isinstance(words, str)
        return (words.rstrip(", "),)
    return source(c)


def sheet_blocks(
    sheet: Sheet, answers: bool = False, portable: bool = False
) -> tuple[Block, ...]:
    """The sheet (or its key) as blocks of the page model: the layer, then a part per
    exercise and question, then the command that made it; ``portable``: maths that
    pandoc reads too (no colour, no struts)."""
    b = _Builder(sheet, answers, portable)
    given = b.given()
    parts = [b.exercise(ex) for ex in sheet.exercises]
    parts += [b.question(q) for q in sheet.extras]
    sections = [
        Section((f"Exercise {k}: {first}", *rest), tuple(blocks))
        for k, ((first, *rest), blocks) in enumerate(parts, start=1)
    ]
    return (*given, *sections, b.footer())


def sheet_title(sheet: Sheet, answers: bool) -> str:
    title = "Answer key" if answers else "Exercise sheet"
    if sheet.student is not None:
        title += f" for {sheet.student}"
    return title + ": backpropagation through an affine layer"


#: The sheet's LaTeX preamble: xcolor for the key's answers, paragraphs apart, parts
#: unnumbered (their titles say "Exercise k"), displays 1 em from the text, after a short
#: line too and not squeezed to fit a page (a question and its formula are one
#: paragraph, :class:`_SheetLatex`).
SHEET_MACROS: tuple[str, ...] = (
    r"\usepackage{xcolor}",
    r"\setlength{\parindent}{0pt}",
    r"\setlength{\parskip}{0.6em}",
    r"\setcounter{secnumdepth}{0}",
    r"\AtBeginDocument{\setlength{\abovedisplayskip}{1em plus 3pt}%",
    r"\setlength{\abovedisplayshortskip}{\abovedisplayskip}%",
    r"\setlength{\belowdisplayskip}{1em plus 3pt}%",
    r"\setlength{\belowdisplayshortskip}{\belowdisplayskip}}",
)


class _SheetLatex(LatexPrinter):
    """The article's printer, with each sentence and the formula after it one paragraph:
    LaTeX breaks no page before a display, so a question stays with its blanks (a
    question at the foot of a page had its answer table on the next)."""

    def join(self, blocks: Iterable[Block]) -> str:
        printed = [(b, out) for b in blocks if (out := self.block(b))]
        nexts = [b for b, _ in printed[1:]] + [None]
        return "\n".join(
            # no blank line between a sentence and its formula: the same paragraph
            out.rstrip("\n")
            if isinstance(b, Note) and isinstance(after, Formula)
            else out
            for (b, out), after in zip(printed, nexts, strict=True)
        )


def _latex_body(sheet: Sheet, answers: bool) -> str:
    """The sheet's title and blocks, printed by the article's printer."""
    printer = _SheetLatex()
    printer.bind(sheet.config)
    *blocks, footer = sheet_blocks(sheet, answers)
    return "\n".join(
        [
            # ragged right: a long name must not push "backpropagation" past the margin
            rf"\section*{{\raggedright {latex_escape(sheet_title(sheet, answers))}}}",
            printer.join(blocks),
            r"\vfill",
            r"{\small\raggedright " + printer.block(footer).strip() + r"\par}",
        ]
    )


def _latex_document(sheets: tuple[Sheet, ...], answers: bool) -> str:
    """The sheets (or their keys), a page each, in a standalone LaTeX article with the
    sheet's preamble."""
    body = "\n\\clearpage\n".join(_latex_body(s, answers) for s in sheets)
    preamble = latex_preamble(
        max_matrix_cols=max_matrix_cols(body), tikz=False, extra=SHEET_MACROS
    )
    return "\n".join([preamble, r"\begin{document}", body, r"\end{document}", ""])


def sheet_latex(sheet: Sheet, answers: bool = False) -> str:
    """The sheet (or, with ``answers``, its key) as a standalone LaTeX article."""
    return _latex_document((sheet,), answers)


def sheet_markdown(sheet: Sheet, answers: bool = False, flavor: str = "github") -> str:
    """The sheet (or its key) as Markdown, printed by the Markdown printer of derivations
    in the maths syntax of ``flavor`` (:data:`~symderiv.render.mdmath.FLAVORS`; github:
    ```math fences and $`…`$ inline; jupyter: $$ maths whose TeX pandoc reads too, so the
    key's answers are boxed without colour)."""
    printer = MarkdownPrinter(flavor=flavor)
    printer.bind(sheet.config)
    *blocks, footer = sheet_blocks(sheet, answers, portable=flavor == "jupyter")
    title, body = sheet_title(sheet, answers), printer.join(blocks)
    return f"# {title}\n\n{body}\n\n_{printer.block(footer).strip()}_\n"


def answer_tex(answer: Answer, letters: Letters) -> str:
    """How an answer is printed in the key (the LaTeX inside its box)."""
    value: Any = answer.value
    if isinstance(value, Poly):
        # ∂L/∂y_{i,j} is written ȳ_{i,j}: sums of products stay on one line.
        return latex_entry(
            value, letters, max_terms=10**6, upstream="bar", dfrac=False
        ).tex
    if isinstance(value, int):
        return str(value)
    if isinstance(value, M):
        return value.latex
    return formula_latex(value, letters)


def roster_key_latex(roster: Roster) -> str:
    """One answer key for the whole class: each student's key on its own page."""
    return _latex_document(roster.sheets, answers=True)


def roster_key_markdown(roster: Roster, flavor: str = "github") -> str:
    """One answer key for the whole class, a section per student."""
    keys = (
        sheet_markdown(sheet, answers=True, flavor=flavor).strip()
        for sheet in roster.sheets
    )
    return "\n\n---\n\n".join(keys) + "\n\n"


__all__ = [
    "SHEET_MACROS",
    "answer_tex",
    "roster_key_latex",
    "roster_key_markdown",
    "sheet_blocks",
    "sheet_latex",
    "sheet_markdown",
]
