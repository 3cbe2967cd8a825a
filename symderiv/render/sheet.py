"""Exercise sheets and answer keys in LaTeX and Markdown, from one walk over a Sheet.

The sheet itself (which entries are blank, and their answers) is
:class:`symderiv.exercise.Sheet`; this module only prints it.
"""

from __future__ import annotations

from typing import Any

from ..algebra import Poly, PolyMatrix
from ..conventions import Letters
from ..exercise import (
    MAX_SIZE,
    Answer,
    ChoiceQuestion,
    Exercise,
    Question,
    Roster,
    ShapesQuestion,
    Sheet,
    chain_entry,
)
from ..notation import Deriv, Node, Sym


# -- printing: LaTeX and Markdown from the same walk -------------------------------------------
class _Printer:
    """Prints a sheet; ``answers`` fills the blanks, ``markdown`` targets MathJax."""

    def __init__(self, sheet: Sheet, answers: bool, markdown: bool) -> None:
        self.sheet = sheet
        self.answers = answers
        self.markdown = markdown
        self.letters: Letters = sheet.config.letters

    # blanks and answers
    def blank(self, tex: str, size: str = "short") -> str:
        """A box to fill in, or (answer key) the box filled with ``tex``.

        ``size`` is "short" (one symbol), "medium" (a sum inside a matrix) or "long" (a
        formula on its own line): the same for every blank of a task, so that the size
        of a box does not give its answer away.
        """
        if self.answers:
            if self.markdown:
                return rf"\boxed{{\color{{blue}}{{{tex}}}}}"
            return rf"\sdanswer{{{tex}}}"
        if self.markdown:
            room = {
                "short": r"\phantom{00}",
                "medium": r"\phantom{00}\qquad\quad",
                "long": r"\phantom{00}\qquad\qquad\qquad\qquad",
            }
            return rf"\boxed{{{room[size]}}}"
        return {
            "short": r"\sdblank",
            "medium": r"\sdmidblank",
            "long": r"\sdlongblank",
        }[size]

    def entry(self, poly: Poly) -> str:
        return answer_tex(Answer("", poly), self.letters)

    def formula(self, node: Node) -> str:
        from .formula import formula_latex

        return formula_latex(node, self.letters)

    def matrix(
        self,
        matrix: PolyMatrix,
        blanks: tuple[tuple[int, int], ...],
        size: str = "short",
    ) -> str:
        """A bmatrix, one row per source line, with the blank entries boxed."""
        holes = set(blanks)
        lines = [r"\begin{bmatrix}"]
        for i in range(matrix.rows):
            cells = []
            for j in range(matrix.cols):
                tex = self.entry(matrix[i, j])
                cells.append(self.blank(tex, size) if (i, j) in holes else tex)
            end = r" \\" if i < matrix.rows - 1 else ""
            lines.append(" & ".join(cells) + end)
        lines.append(r"\end{bmatrix}")
        return "\n".join(lines)

    def display(self, tex: str) -> str:
        if self.markdown:
            return f"$$\n{tex}\n$$"
        return f"\\[\n\\sdfit{{{tex}}}\n\\]"

    def inline(self, tex: str) -> str:
        return f"${tex}$"

    def text(self, words: str) -> str:
        if self.markdown:
            return words
        from .latex import latex_escape

        return latex_escape(words)

    # the sheet
    def given(self) -> list[str]:
        """The layer: its formula, sizes, matrices and the vec order."""
        from .latex import latex_matrix

        c, d = self.sheet.config, self.sheet.derivation
        conv = c.conv
        sizes = conv.sizes
        y = self.letters.entry("Y")
        forward = self.formula(conv.forward())
        shapes = ", ".join(
            f"{self.formula(Sym(r))} \\in \\mathbb{{R}}^{{{a} \\times {b}}}"
            for r in ("X", "W", "b")
            for a, b in [c.shape(r)]
        )
        order = (
            "row order: vec stacks the rows, as NumPy's reshape(-1) does"
            if c.vec == "row"
            else "column order: vec stacks the columns (the textbook vec)"
        )
        names = f"{sizes[0]} = {c.n}, {sizes[1]} = {c.d}, {sizes[2]} = {c.m}"
        out = [
            self.text(
                f"The layer computes, in the {conv.name} convention ({conv.source}),"
            )
            + " "
            + self.inline(f"{self.formula(Sym('Y'))} = {forward}")
            + self.text(f" with {names}: ")
            + self.inline(shapes)
            + self.text(". Every entry is its own symbol:"),
            self.display(
                r",\quad ".join(
                    f"{self.formula(Sym(r))} = {latex_matrix(d.layer.matrix(r), self.letters)}"
                    for r in ("X", "W", "b")
                )
            ),
            self.text("The upstream derivatives are given as symbols; write ")
            + self.inline(rf"\bar{{{y}}}_{{i,j}} = \partial L / \partial {y}_{{i,j}}")
            + self.text(":"),
            self.display(
                f"{self.formula(Sym('dY'))} = {self.formula(Deriv('L', 'Y'))} = "
                + latex_matrix(
                    d.upstream, self.letters, max_entries=MAX_SIZE, upstream="bar"
                )
            ),
            self.text(
                f"Vectors use the {order}; the Jacobians are taken in that order and in "
                "denominator layout (the derivative by a matrix has that matrix's shape):"
            ),
            self.display(
                rf"\operatorname{{vec}}({self.formula(Sym('Y'))}) = "
                + self.vector(d.layer.outputs.vec(c.vec))
            ),
        ]
        return out

    def vector(self, entries: list[Poly]) -> str:
        """A column vector written as a transposed row: (a, b, c)ᵀ."""
        inner = r",\; ".join(self.entry(p) for p in entries)
        return rf"\bigl({inner}\bigr)^{{T}}"

    def exercise(self, number: int, ex: Exercise) -> list[str]:
        c, d = self.sheet.config, self.sheet.derivation
        result = d.results[ex.var]
        v = ex.var
        lv = self.formula(Sym(v))
        rows, cols = result.jacobian.shape
        vec_v = d.layer.matrix(v).vec(c.vec)
        entry = vec_v[ex.chain_column]
        entry_tex = self.entry(entry)
        jac_lhs = self.formula(Deriv("Y", v, vec=True))
        small = self.letters.entry(v)
        chain_lhs = rf"\frac{{\partial L}}{{\partial {entry_tex}}}"
        chain_tex = self.entry(chain_entry(self.sheet, ex))
        shape = f"{self.blank(str(rows))} \\times {self.blank(str(cols))}"
        items = [
            (
                "a",
                self.text("The Jacobian ")
                + self.inline(f"J_y({small}) = {jac_lhs}")
                + self.text(
                    " has one row per entry of vec(Y) and one column per entry of "
                )
                + self.inline(rf"\operatorname{{vec}}({lv})")
                + self.text(", here")
                + "\n\n"
                + self.display(rf"\operatorname{{vec}}({lv}) = {self.vector(vec_v)}")
                + "\n\n"
                + self.text("Its shape is ")
                + self.inline(shape)
                + self.text(". Fill in the blank entries:"),
                self.display(
                    f"{jac_lhs} = {self.matrix(result.jacobian, ex.jacobian_blanks)}"
                ),
            ),
            (
                "b",
                self.text("The chain rule gives the row ")
                + self.inline(f"J_L({small}) = J_h(y) \\, J_y({small})")
                + self.text(f"; its entry {ex.chain_column + 1} is ")
                + self.inline(chain_lhs)
                + self.text(
                    ". Write it out as a sum over the outputs, keeping only the nonzero "
                    "terms:"
                ),
                self.display(f"{chain_lhs} = {self.blank(chain_tex, 'long')}"),
            ),
            (
                "c",
                self.text("Put the entries of ")
                + self.inline(f"J_L({small})")
                + self.text(" back in the shape of ")
                + self.inline(lv)
                + self.text(" (undo vec) and fill in the blanks:"),
                self.display(
                    f"{self.formula(Deriv('L', v))} = "
                    f"{self.matrix(result.derivative, ex.derivative_blanks, 'medium')}"
                ),
            ),
            (
                "d",
                self.text(
                    "Which product of the layer's matrices is this? Give the closed "
                    "form:"
                ),  # fmt: skip
                self.display(
                    f"{self.formula(Deriv('L', v))} = "
                    f"{self.blank(self.formula(result.closed_form), 'long')}"
                ),
            ),
        ]
        what = {"X": "the input", "W": "the weights", "b": "the bias"}[v]
        title = f"Exercise {number}: the derivative by {what}"
        if self.markdown:
            out = [f"## {title} ${lv}$", ""]
            for label, words, math in items:
                out += [f"**({label})** {words}", "", math, ""]
            return out
        out = [rf"\subsection*{{{self.text(title)} ${lv}$}}", r"\begin{enumerate}"]
        for label, words, math in items:
            out += [rf"\item[({label})] {words}", math]
        out.append(r"\end{enumerate}")
        return out

    # questions beyond the step-by-step exercise (--kind, --loss mse)
    def question(self, number: int, q: Question) -> list[str]:
        """A shapes, multiple-choice or loss question, as its lines."""
        c = self.sheet.config
        items: list[tuple[str, str, str]] = []
        if isinstance(q, ShapesQuestion):
            lv = self.formula(Sym(q.var))
            what = {"X": "the input", "W": "the weights", "b": "the bias"}[q.var]
            title = f"Exercise {number}: shapes, for the derivative by {what}"
            lines = [
                rf"{self.formula(node)} &:\quad "
                rf"{self.blank(str(rows))} \times {self.blank(str(cols))}"
                for node, rows, cols in q.items
            ]
            items.append(
                (
                    "a",
                    self.text(
                        "Give the shape (rows × columns) of each object in the "
                        "derivative by "
                    )
                    + self.inline(lv)
                    + self.text(", at the sizes of this sheet:"),
                    self.display(
                        "\\begin{aligned}\n"
                        + " \\\\\n".join(lines)
                        + "\n\\end{aligned}"
                    ),
                )
            )
        elif isinstance(q, ChoiceQuestion):
            lv = self.formula(Sym(q.var))
            what = {"X": "the input", "W": "the weights", "b": "the bias"}[q.var]
            title = f"Exercise {number}: which formula, for the derivative by {what}"
            layout = (
                "the shape of its transpose (numerator layout)"
                if c.layout == "numerator"
                else "the shape of the variable (denominator layout)"
            )
            options = []
            for k, node in enumerate(q.options):
                box = (
                    self.blank(r"\checkmark")
                    if (self.answers and k == q.correct)
                    else r"\square"
                )
                options.append(rf"({'abcd'[k]})\; {box}\; {self.formula(node)}")
            items.append(
                (
                    "a",
                    self.text("Exactly one of these is ")
                    + self.inline(self.formula(Deriv("L", q.var)))
                    + self.text(f", written in {layout}. Tick it:"),
                    self.display("\\qquad ".join(options)),
                )
            )
        else:
            y, t = self.letters.entry("Y"), self.letters.entry("T")
            n = c.size_names[0]
            i, j = q.at
            entry = f"{y}_{{{i + 1},{j + 1}}}"
            title = f"Exercise {number}: the loss"
            items.append(
                (
                    "a",
                    self.text("The loss is the mean squared error against the targets ")
                    + self.inline(
                        f"{self.formula(Sym('T'))}"
                        rf" = \bigl[{t}_{{i,j}}\bigr]"
                    )
                    + self.text(", the values the outputs should take:"),
                    self.display(
                        rf"L = \frac{{1}}{{2{n}}} \sum_{{i=1}}^{{{n}}} "
                        rf"\lVert {y}_{{i}} - {t}_{{i}} \rVert^{{2}}"
                    ),
                ),
            )
            items.append(
                (
                    "b",
                    self.text("Differentiate L by one output entry:"),
                    self.display(
                        rf"\frac{{\partial L}}{{\partial {entry}}} = "
                        f"{self.blank(self.entry(q.entry), 'long')}"
                    ),
                )
            )
            items.append(
                (
                    "c",
                    self.text(
                        "and write the whole upstream derivative as one formula:"
                    ),
                    self.display(
                        f"{self.formula(Sym('dY'))} = "
                        f"{self.blank(self.formula(q.formula), 'long')}"
                    ),
                )
            )
        if self.markdown:
            out = [f"## {title}", ""]
            for label, words, math in items:
                out += [f"**({label})** {words}", "", math, ""]
            return out
        out = [rf"\subsection*{{{self.text(title)}}}", r"\begin{enumerate}"]
        for label, words, math in items:
            out += [rf"\item[({label})] {words}", math]
        out.append(r"\end{enumerate}")
        return out


#: The sheet's own LaTeX macros: blanks of three sizes and the answer box.
SHEET_MACROS: tuple[str, ...] = (
    r"\usepackage{xcolor}",
    r"\newcommand{\sdblank}{\boxed{\vphantom{x_{1}}\hspace{1.8em}}}",
    r"\newcommand{\sdmidblank}{\boxed{\vphantom{x_{1}}\hspace{7em}}}",
    r"\newcommand{\sdlongblank}{\boxed{\vphantom{\dfrac{1}{2}}\hspace{14em}}}",
    r"\newcommand{\sdanswer}[1]{\fbox{$\color{blue!60!black}#1$}}",
    r"\setlength{\parindent}{0pt}",
    r"\setlength{\parskip}{0.6em}",
)


def sheet_latex(sheet: Sheet, answers: bool = False) -> str:
    """The sheet (or, with ``answers``, its key) as a standalone LaTeX article."""
    from .latex import latex_escape, latex_preamble, max_matrix_cols

    p = _Printer(sheet, answers, markdown=False)
    body: list[str] = []
    for para in p.given():
        body += [para, ""]
    for k, ex in enumerate(sheet.exercises, start=1):
        body += p.exercise(k, ex)
        body.append("")
    for k, q in enumerate(sheet.extras, start=len(sheet.exercises) + 1):
        body += p.question(k, q)
        body.append("")
    body_tex = "\n".join(body)
    title = "Answer key" if answers else "Exercise sheet"
    if sheet.student is not None:
        title += f" for {latex_escape(sheet.student)}"
    preamble = latex_preamble(
        max_matrix_cols=max_matrix_cols(body_tex), tikz=False, extra=SHEET_MACROS
    )
    lines = [
        preamble,
        r"\begin{document}",
        rf"\section*{{{title}: backpropagation through an affine layer}}",
        body_tex,
        r"\vfill",
        r"{\small\raggedright "
        + p.text(
            (
                "Answers filled in from the derivation; reproduce with: "
                if answers
                else "Made with: "
            )  # fmt: skip
            + sheet.command(answers)
        )
        + r"\par}",
        r"\end{document}",
        "",
    ]
    return "\n".join(lines)


def sheet_markdown(sheet: Sheet, answers: bool = False) -> str:
    """The sheet (or its key) as Markdown with $…$ and $$…$$ maths."""
    p = _Printer(sheet, answers, markdown=True)
    title = "Answer key" if answers else "Exercise sheet"
    if sheet.student is not None:
        title += f" for {sheet.student}"
    lines = [f"# {title}: backpropagation through an affine layer", ""]
    for para in p.given():
        lines += [para, ""]
    for k, ex in enumerate(sheet.exercises, start=1):
        lines += p.exercise(k, ex)
    for k, q in enumerate(sheet.extras, start=len(sheet.exercises) + 1):
        lines += p.question(k, q)
    how = (
        "Answers filled in from the derivation; reproduce with"
        if answers
        else "Made with"
    )
    lines += [f"_{how}: `{sheet.command(answers)}`_", ""]
    return "\n".join(lines)


def answer_tex(answer: Answer, letters: Letters) -> str:
    """How an answer is printed in the key (the LaTeX inside its box)."""
    from .formula import formula_latex
    from .latex import latex_entry

    value: Any = answer.value
    if isinstance(value, Poly):
        # ∂L/∂y_{i,j} is written ȳ_{i,j}: sums of products stay on one line.
        return latex_entry(
            value, letters, max_terms=10**6, upstream="bar", dfrac=False
        ).tex
    if isinstance(value, int):
        return str(value)
    return formula_latex(value, letters)


def roster_key_latex(roster: Roster) -> str:
    """One answer key for the whole class: each student's key on its own page."""
    from .latex import latex_preamble, max_matrix_cols

    parts: list[str] = []
    for sheet in roster.sheets:
        # each student's key, as its own document prints it, one page apart
        doc = sheet_latex(sheet, answers=True)
        body = doc.partition("\\begin{document}\n")[2].partition("\\end{document}")[0]
        parts.append(body.rstrip())
    body_tex = "\n\\clearpage\n".join(parts)
    preamble = latex_preamble(
        max_matrix_cols=max_matrix_cols(body_tex), tikz=False, extra=SHEET_MACROS
    )
    return "\n".join([preamble, "\\begin{document}", body_tex, "\\end{document}", ""])


def roster_key_markdown(roster: Roster) -> str:
    """One answer key for the whole class, a section per student."""
    out: list[str] = []
    for sheet in roster.sheets:
        out += [sheet_markdown(sheet, answers=True).strip(), "", "---", ""]
    return "\n".join(out[:-2]) + "\n"


__all__ = [
    "SHEET_MACROS",
    "answer_tex",
    "roster_key_latex",
    "roster_key_markdown",
    "sheet_latex",
    "sheet_markdown",
]
