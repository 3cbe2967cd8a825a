"""Beamer slides: one frame per step, the chain rule revealed term by term.

The slides reuse the article's printer (:mod:`symderiv.render.latex`) for every formula and
matrix, with a narrower line and a height limit per display, so that nothing runs off a
slide at any size. Overlays use ``\\uncover<k->`` (never ``\\pause`` inside an alignment):

* a chain-rule frame shows J_L = J_h·J_y, then the upstream row, then the Jacobian, then
  the product, and finally the first entry of the product built up one term at a time;
* a Jacobian frame shows the explicit matrix and its Kronecker form, then its sparsity
  picture on the next slide of the same frame.

It compiles with pdflatex (beamer, amsmath, amssymb, graphicx, booktabs, tikz).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from .. import __version__
from ..algebra import Poly, PolyMatrix
from ..notation import Deriv, Equation, Explicit
from ..steps import Derivation, Step, StepKind
from .code import numpy_lines
from .formula import formula_latex
from .latex import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_TERMS,
    LatexRenderer,
    MatrixStyle,
    Piece,
    _dl,
    _flatten,
    _role_tex,
    command_line,
    equation_latex,
    latex_entry,
    latex_escape,
    latex_preamble,
    latex_sparsity,
    max_matrix_cols,
    merge_equations,
    shapes_latex,
    upstream_definition,
)
from .names import latex_name

#: Width of a slide's text (em): 16:9 slides are 160 mm wide with 1 cm margins.
SLIDE_WIDTH_EM = 34.0
#: A slide shows at most this many rows and columns of a matrix (fewer if max_entries).
SLIDE_ENTRIES = 8
#: Share of the text height the displays of one frame may take together.
DISPLAY_SHARE = 0.76
#: Share of the text height a line of small text (a note, a sentence) takes.
LINE_SHARE = 0.065


class BeamerRenderer(LatexRenderer):
    """Each step as a frame; a long display is scaled to the slide's width and height."""

    name = "beamer"
    defaults: ClassVar[Mapping[str, object]] = {
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "upstream": "bar",
        "sparsity": True,
        "paper": "a4",
        "standalone": True,
    }
    width_em = SLIDE_WIDTH_EM
    # Side by side, scaled a little, reads better on a slide than stacked and scaled a lot.
    share_width = 0.75

    def style(self, step: Step | None) -> MatrixStyle:
        """As in the article, but at most SLIDE_ENTRIES rows and columns, three lines a row."""
        base = super().style(step)
        return replace(
            base, max_entries=min(base.max_entries, SLIDE_ENTRIES), row_lines=3
        )

    # -- heights -------------------------------------------------------------------------
    @staticmethod
    def heights(items: list[float], note: str, extra_lines: int = 0) -> list[str]:
        """A height limit per display: shares of what the text leaves of the frame.

        A display of h em takes about h/16 of the slide's text height at natural size;
        when they would not all fit, each gets a share in proportion to its size.
        """
        lines = extra_lines + (math.ceil(len(note) / 105) if note else 0)
        available = max(DISPLAY_SHARE - LINE_SHARE * lines, 0.25)
        natural = [h / 16.0 + 0.02 for h in items]
        # Water-filling: a display smaller than its fair share keeps its natural height,
        # the others share what is left equally.
        share: dict[int, float] = {}
        left = available
        while True:
            open_ = [k for k in range(len(items)) if k not in share]
            if not open_:
                break
            fair = left / len(open_)
            small = [k for k in open_ if natural[k] <= fair]
            if not small:
                for k in open_:
                    share[k] = fair
                break
            for k in small:
                share[k] = natural[k]
                left -= natural[k]
        return [f"{share[k] - 0.005:.3f}\\textheight" for k in range(len(items))]

    def note(self, step: Step) -> str:
        if not step.note:
            return ""
        return (
            "\n\\vfill\n{\\footnotesize " + self.text(self.prose(step.note)) + "\\par}"
        )

    def frame(self, title: str, body: str, options: str = "t") -> str:
        return f"\\begin{{frame}}[{options}]{{{title}}}\n{body}\n\\end{{frame}}\n"

    def step_title(self, step: Step, number: int) -> str:
        return f"Step {number}: {self.text(self.prose(step.title))}"

    # -- steps -----------------------------------------------------------------------------
    def render_step(self, step: Step, number: int) -> str:
        items = self.display_items(step)
        limits = self.heights([h for _, h in items], step.note)
        body = [self.display(tex, h) for (tex, _), h in zip(items, limits, strict=True)]
        if step.id == "upstream" and self.settings["upstream"] == "bar":
            body.append(
                "{\\small Below, "
                f"${upstream_definition(self.config)}$"
                " (the bar marks a derivative of $L$).\\par}"
            )
        text = "\n".join(body) + self.note(step)
        if step.kind is StepKind.JACOBIAN and self.sparsity:
            fig = self.sparsity_figure(step)
            if fig:
                kron = [e for e in step.equations if not _explicit(e)]
                above = ""
                if kron:
                    tex, _, _ = self.equation(kron[-1], self.style(step))
                    above = self.display(tex, "0.2\\textheight") + "\n"
                text = f"\\only<1>{{%\n{text}\n}}\n\\only<2>{{%\n{above}{fig}\n}}"
        return self.frame(self.step_title(step, number), text)

    def picture_cm(self, matrix: PolyMatrix) -> float:
        return min(3.6, 0.45 * max(matrix.shape))

    def figure(
        self, matrix: PolyMatrix, blocks: tuple[int, int] | None, lhs: Deriv
    ) -> str:
        pic = latex_sparsity(matrix, blocks, size_cm=self.picture_cm(matrix))
        return (
            "\\begin{center}\n"
            + pic
            + "\n\\par\\medskip\n\\begin{minipage}{0.9\\linewidth}\\footnotesize\\centering\n"
            + self.caption(matrix, blocks, lhs)
            + "\n\\end{minipage}\n\\end{center}"
        )

    def chain(self, step: Step, number: int) -> str:
        """The chain rule revealed term by term (falls back to one equation per slide)."""
        d = self.ctx.derivation
        var = step.wrt
        parts = merge_equations(step.equations)
        style = self.style(step)
        if (
            step.view != "jacobian"
            or var is None
            or var not in d.results
            or len(parts) != 1
            or len(parts[0].parts) != 4
        ):
            return self.reveal(step, number)
        (eq,) = parts
        # J_L = J_h·J_y from the first slide; then the row, the Jacobian and the
        # product one slide each (each factor of the explicit product is its own piece).
        pieces: list[tuple[str, Piece]] = []
        overlays: list[int | None] = []
        slide = 2
        for k, node in enumerate(eq.parts):
            for j, (op, factor) in enumerate(_flatten(node)):
                piece = self.part(factor, style, self.width_em * 0.9)
                pieces.append((op if j else ("=" if k else ""), piece))
                overlays.append(None if k < 2 else slide)
                slide += k >= 2
        tex, _, height = equation_latex(pieces, self.width_em, overlays)
        entry = self.first_entry(var, slide)
        # No note on this frame: the sentence above the entry says what the note says.
        limits = self.heights([height, 2.6], "", extra_lines=1)
        body = [self.display(tex, limits[0])]
        if entry:
            body.append(
                f"\\uncover<{slide}->{{%\n\\small Entry by entry: the first entry of "
                "$J_L$ is the upstream row times the first column of the Jacobian,\n"
                + self.display(entry, limits[1])
                + "\n}"
            )
        return self.frame(self.step_title(step, number), "\n".join(body))

    def first_entry(self, var: str, slide: int) -> str:
        """∂L/∂v_1 = Σ_r ȳ_r·J[r, 0], one term per slide from ``slide`` on."""
        d = self.ctx.derivation
        res = d.results[var]
        jac = res.jacobian
        order = d.config.vec
        row = d.upstream.vec(order)
        first = d.layer.matrix(var).vec(order)[0]
        if not first.is_atom():
            return ""
        name = next(iter(first.terms))[0]
        terms: list[Poly] = []
        for r in range(jac.rows):
            value = jac[r, 0]
            if not value.is_zero() and not row[r].is_zero():
                terms.append(row[r] * value)
        if not terms:
            return ""
        style = self.style(None)
        limit = max(int(self.settings["max_terms"]), 2)  # type: ignore[call-overload]
        shown: list[Poly | None] = list(terms)
        if len(terms) > limit:
            shown = [*terms[: limit - 1], None, terms[-1]]
        out = [rf"\frac{{\partial L}}{{\partial {latex_name(name, self.letters)}}} ="]
        for k, term in enumerate(shown):
            if term is None:
                out.append(rf"\uncover<{slide}->{{{{}}+ \cdots}}")
                continue
            cell = latex_entry(
                term, self.letters, upstream=style.upstream, max_terms=limit
            )
            sign = "" if k == 0 else "+ "
            if cell.tex.startswith("-") and k:
                sign, text = "- ", cell.tex[1:]
            else:
                text = cell.tex
            out.append(rf"\uncover<{slide}->{{{{}}{sign}{text}}}")
            slide += 1
        return "\n".join(out)

    def reveal(self, step: Step, number: int) -> str:
        """Any other chain step: its equations one slide after another."""
        items = self.display_items(step)
        limits = self.heights([h for _, h in items], step.note)
        body = [
            f"\\uncover<{k}->{{%\n{self.display(tex, h)}\n}}"
            for k, ((tex, _), h) in enumerate(zip(items, limits, strict=True), start=1)
        ]
        return self.frame(
            self.step_title(step, number), "\n".join(body) + self.note(step)
        )

    def summary(self, step: Step, number: int) -> str:
        """The formulas to keep, boxed, and their NumPy lines."""
        shown = self.boxed_results(step, stacked=True)
        code = numpy_lines(self.ctx.derivation)
        (limit,) = self.heights(
            [2.6 * len(step.equations)], step.note, extra_lines=len(code) + 1
        )
        body = self.display(shown, limit)
        if code:
            body += (
                "\n\\begin{center}\\small\n\\begin{tabular}{@{}l@{}}\n"
                + " \\\\\n".join(rf"\texttt{{{latex_escape(c)}}}" for c in code)
                + "\n\\end{tabular}\n\\end{center}"
            )
        return self.frame(self.step_title(step, number), body + self.note(step))

    # -- the deck --------------------------------------------------------------------------
    def intro(self, d: Derivation) -> str:
        c = d.config
        L = c.letters
        forward = formula_latex(c.conv.forward(), L)
        rows = []
        for role in ("X", "W", "b", "Y"):
            r, col = c.shape(role)
            rows.append(rf"{_role_tex(c, role)} \in \mathbb{{R}}^{{{r} \times {col}}}")
        targets = [
            rf"\frac{{\partial L}}{{\partial {_role_tex(c, v)}}} = "
            + formula_latex(d.results[v].closed_form, L)
            for v in c.wrt
            if v in d.results
        ]
        order = "rows stacked" if c.vec == "row" else "columns stacked"
        items = [
            f"convention {latex_escape(c.conv.name)}: "
            + self.text(self.prose(c.conv.source)),
            f"vectorization: {c.vec} order ({order})",
            f"{c.layout} layout, loss {c.loss}",
        ]
        body = (
            self.display(f"{_role_tex(c, 'Y')} = {forward}")
            + "\n"
            + self.display(r",\quad ".join(rows))
            + "\n\\begin{itemize}\n"
            + "\n".join(f"\\item {i}" for i in items)
            + "\n\\end{itemize}\nGoal: prove, entry by entry,\n"
            + self.display(r",\qquad ".join(targets))
        )
        return self.frame("What we derive", body)

    def background(self) -> str:
        body = (
            "For $g\\colon \\mathbb{R}^n \\to \\mathbb{R}^m$ the Jacobian $J_g(x)$ is the "
            "$m \\times n$ matrix of partial derivatives $\\partial g_i/\\partial x_k$.\n"
            "For $h \\circ g$, the chain rule in higher dimensions:\n"
            "\\[\nJ_{h \\circ g}(x) = J_h\\bigl(g(x)\\bigr)\\, J_g(x),\\qquad "
            "\\frac{\\partial (h\\circ g)_i}{\\partial x_k} = \\sum_{r} "
            "\\frac{\\partial h_i}{\\partial g_r}\\,\\frac{\\partial g_r}{\\partial x_k}.\n\\]\n"
            "Backpropagation: $L = h(y(v))$ with $h$ the rest of the network. "
            "$J_h$ is the $1 \\times NM$ row of upstream derivatives, $J_y$ the layer's "
            "Jacobian; matrices are vectorized first, so that every derivative is an "
            "ordinary matrix."
        )
        return self.frame("The chain rule in higher dimensions", body)

    def certificate(self) -> str:
        """One row per claim, one column per variable: the table fits on a slide."""
        d = self.ctx.derivation
        variables = [v for v in d.config.wrt]
        claims: dict[str, dict[str, str]] = {}
        for check in d.checks:
            mark = r"\sdyes" if check.passed else r"\sdno"
            claims.setdefault(check.claim, {})[check.wrt] = mark
        rows = []
        for claim, marks in claims.items():
            cells = " & ".join(marks.get(v, "") for v in variables)
            rows.append(f"{self.text(self.prose(claim))} & {cells} \\\\")
        head = " & ".join(f"${_role_tex(d.config, v)}$" for v in variables)
        verdict = (
            "Checked exactly, entry by entry, on the symbolic matrices: all results hold."
            if d.verified
            else r"\textbf{Verification failed}: a result is wrong (see \sdno)."
        )
        body = (
            "\\begin{center}\n\\begin{tabular}{@{}l"
            + "c" * len(variables)
            + "@{}}\n\\toprule\n"
            + f"claim & {head} \\\\\n\\midrule\n"
            + "\n".join(rows)
            + "\n\\bottomrule\n\\end{tabular}\n\\end{center}\n"
            + verdict
        )
        return self.frame("Certificate", body)

    def remarks(self, d: Derivation) -> str:
        c = d.config
        first = c.wrt[0]
        v = _role_tex(c, first)
        items = [
            f"${_dl(c, first)}$ holds the components of the gradient "
            rf"$\nabla_{{\operatorname{{vec}}({v})}} L$ rearranged into a matrix: "
            "it is not itself a gradient vector.",
            (
                f"{c.layout.capitalize()} layout: "
                + (
                    "each derivative has the shape of its variable."
                    if c.layout == "denominator"
                    else "each derivative has the transposed shape; the gradient is its "
                    "transpose."
                )
            ),
            "The Kronecker form depends on the vectorization order; the final matrices "
            "do not.",
        ]
        shapes = []
        for var in c.wrt:
            res = d.results.get(var)
            if res is None:
                continue
            tex = shapes_latex(res.closed_form, c)
            if tex is not None:
                r, col = res.derivative.shape
                shapes.append(
                    rf"\frac{{\partial L}}{{\partial {_role_tex(c, var)}}} = {tex}"
                    rf"\ \in \mathbb{{R}}^{{{r} \times {col}}}"
                )
        body = (
            "\\begin{itemize}\n"
            + "\n".join(f"\\item {i}" for i in items)
            + "\n\\end{itemize}\nWhy the shapes match:\n"
            + self.display(
                "\\begin{gathered}\n" + " \\\\\n".join(shapes) + "\n\\end{gathered}",
                "0.45\\textheight",
            )
        )
        return self.frame("Where learners trip", body)

    def render(self, d: Derivation) -> str:
        self.bind(d)
        frames = [
            "\\begin{frame}\n\\titlepage\n\\end{frame}\n",
            self.intro(d),
            self.background(),
            *self.steps(d),
            self.certificate(),
            self.remarks(d),
        ]
        body = "\n".join(frames)
        preamble = latex_preamble(
            document_class="beamer",
            options="11pt,aspectratio=169",
            max_matrix_cols=max_matrix_cols(body),
            geometry=None,
            max_height="0.7\\textheight",
            extra=[
                r"\setbeamertemplate{navigation symbols}{}",
                r"\setbeamertemplate{footline}[frame number]",
                r"\setbeamercovered{invisible}",
                r"\renewcommand{\arraystretch}{1.1}",
                f"\\title{{{self.title()}}}",
                f"\\subtitle{{{self.subtitle()}}}",
                r"\date{Derived and verified by symderiv " + __version__ + "}",
            ],
        )
        head = (
            f"% Generated by symderiv {__version__}: {command_line(d.config)} --format beamer\n"
            "% Compile with pdflatex.\n"
        )
        return (
            head + preamble + "\n\\begin{document}\n\n" + body + "\n\\end{document}\n"
        )


def _explicit(eq: Equation) -> bool:
    return any(isinstance(p, Explicit) for p in eq.parts)


def render_beamer(derivation: Derivation, **settings: Any) -> str:
    """The derivation as Beamer slides (16:9), one frame per step.

    Settings: max_entries (12), max_terms (4), upstream ("bar" or "frac"), sparsity (True).
    """
    return BeamerRenderer(**settings).render(derivation)


__all__ = ["BeamerRenderer", "render_beamer"]
