"""The conventions page: the :class:`symderiv.compare.Comparison` as tables and notes.

One neutral model of the page (tables of pieces, notes), printed three ways: Rich (and
plain text), LaTeX and Markdown. The model of the comparison itself, and every check,
lives in :mod:`symderiv.compare`; this module only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..compare import Cell, Comparison, Row
from ..conventions import CONVENTIONS, VARIABLES, VEC_ORDERS, Convention, Letters
from ..notation import Comm, Deriv, Node, Ones, Prod, Sym, T, Vec
from .formula import size_latex

# -- printing: one neutral model of the page, three printers ---------------------------
#: A piece of a cell or sentence: (kind, content). Kinds: "text" (plain words), "math"
#: (a formula, already Unicode or LaTeX), "dim" (secondary words), "dim-math" (a
#: secondary formula) and "mark" ("✓" or "✗").
Piece = tuple[str, str]


@dataclass(frozen=True)
class Table:
    """One table of the page, format-neutral: every cell is a list of pieces."""

    title: str
    header: list[list[Piece]]
    rows: list[list[list[Piece]]]
    sections: tuple[int, ...]  # indices of the rows that start a new group


def formula_of(cell: Cell, conv: Convention, latex: bool = False) -> str:
    """A cell's formula in ``conv``'s letters and size names (Unicode or LaTeX).

    >>> from symderiv.compare import compare
    >>> from symderiv.conventions import TORCH
    >>> c = compare(1, 1, 1)
    >>> formula_of(next(r for r in c.rows if r.key == "kron_row_W").cells["torch"], TORCH)
    '(x ⊗ I_M)·K'
    """
    assert cell.formula is not None
    return _Pieces(latex).node(cell.formula, conv.letters)


def _mark(passed: bool) -> Piece:
    return ("mark", "✓" if passed else "✗")


class _Pieces:
    """Builds the pieces of the page, with formulas in Unicode text or in LaTeX."""

    def __init__(self, latex: bool) -> None:
        self.latex = latex

    def node(self, node: Node, letters: Letters) -> str:
        """A formula in ``letters`` (roles and sizes)."""
        from .formula import formula_latex, formula_text

        return (formula_latex if self.latex else formula_text)(node, letters)

    def equation(self, *nodes: Node) -> Piece:
        """``a = b = …`` in the xw letters, as one math piece."""
        return ("math", " = ".join(self.node(n, Letters()) for n in nodes))

    def deriv(
        self, of: str, wrt: str, vec: bool = False, transposed: bool = False
    ) -> str:
        """∂L/∂W, ∂vec(Y)/∂vec(X), (∂L/∂W)ᵀ in xw letters (LaTeX with a slash, so
        that tables keep their line height)."""
        node: Node = Deriv(of, wrt, vec=vec)
        if not self.latex:
            return self.node(T(node) if transposed else node, Letters())
        if vec:
            text = f"\\partial \\operatorname{{vec}}({of})/\\partial \\operatorname{{vec}}({wrt})"
        else:
            text = f"\\partial {of}/\\partial {wrt}"
        return f"({text})^{{T}}" if transposed else text

    def shape(self, shape: tuple[int, int]) -> str:
        times = " \\times " if self.latex else "×"
        return f"{shape[0]}{times}{shape[1]}"

    def names(self, names: tuple[str, str]) -> str:
        """("N·M", "N·C_in") -> "(N·M)×(N·C_in)" (or LaTeX)."""

        def one(p: str) -> str:
            parts = p.split("·")
            if self.latex:
                joined = " \\cdot ".join(size_latex(x) for x in parts)
            else:
                joined = "·".join(parts)
            return f"({joined})" if len(parts) > 1 else joined

        return (" \\times " if self.latex else "×").join(one(p) for p in names)

    def label(self, row: Row) -> list[Piece]:
        """The first cell of a row: what it is about, in role letters."""
        letters = Letters()
        role = row.role or ""
        if row.group == "forward":
            return [("text", "forward pass")]
        if row.group == "shapes":
            words = {"X": "input", "W": "weights", "b": "bias", "Y": "output",
                     "dY": "upstream"}[role]  # fmt: skip
            name = (
                self.deriv("L", "Y") if role == "dY" else self.node(Sym(role), letters)
            )
            return [("math", name), ("text", f" ({words})")]
        if row.group == "closed":
            return [("math", self.deriv("L", role))]
        return [("math", self.deriv("Y", role, vec=True))]

    def formula(
        self, cell: Cell, conv: Convention, lhs: str | None = None
    ) -> list[Piece]:
        """A formula cell in ``conv``'s letters and size names, then its mark."""
        assert cell.formula is not None
        text = self.node(cell.formula, conv.letters)
        if lhs is not None:
            text = f"{self.node(Sym(lhs), conv.letters)} = {text}"
        return [("math", text), ("text", " "), _mark(cell.passed)]

    def shape_cell(self, cell: Cell, conv: Convention, role: str) -> list[Piece]:
        """``2×2 = N×C_in ✓`` (the letters are those of the forward row)."""
        assert cell.shape is not None and cell.shape_names is not None
        pieces: list[Piece] = [
            ("math", self.shape(cell.shape)),
            ("dim", " = "),
            ("dim-math", self.names(cell.shape_names)),
            ("text", " "),
            _mark(cell.passed),
        ]
        return pieces


def tables(c: Comparison, latex: bool = False) -> list[Table]:
    """The page's three tables: forms and shapes; Kronecker forms; the agreement."""
    p = _Pieces(latex)
    convs = c.conventions
    head: list[list[Piece]] = [[("text", conv.name)] for conv in convs]

    rows: list[list[list[Piece]]] = []
    sections: list[int] = []
    for group in ("forward", "shapes", "closed"):
        if rows:
            sections.append(len(rows))
        for r in c.group(group):
            cells = [p.label(r)]
            for conv in convs:
                cell = r.cells[conv.name]
                if group == "shapes":
                    assert r.role is not None
                    cells.append(p.shape_cell(cell, conv, r.role))
                else:
                    lhs = "Y" if group == "forward" else None
                    cells.append(p.formula(cell, conv, lhs))
            rows.append(cells)
    top = Table(
        "Forward pass, shapes and closed forms (∂L/∂V has V's shape)",
        [[], *head],
        rows,
        tuple(sections),
    )

    rows, sections = [], []
    for var in VARIABLES:
        if rows:
            sections.append(len(rows))
        for k, order in enumerate(VEC_ORDERS):
            r = next(
                x for x in c.group("kronecker") if (x.role, x.order) == (var, order)
            )
            first = r.cells[convs[0].name]
            assert first.shape is not None
            label = p.label(r) if k == 0 else [("dim-math", p.shape(first.shape))]
            cells = [label, [("text", order)]]
            cells += [p.formula(r.cells[conv.name], conv) for conv in convs]
            rows.append(cells)
    bottom = Table(
        "Jacobians ∂vec(Y)/∂vec(V): Kronecker forms in both vec orders",
        [[], [("text", "vec")], *head],
        rows,
        tuple(sections),
    )

    rows = []
    for conv in convs[1:]:
        cells = [[("text", conv.name)]]
        for var in VARIABLES:
            a = next(
                x for x in c.agreement if (x.convention, x.var) == (conv.name, var)
            )
            what = p.deriv("L", var, transposed=a.transposed)
            cells.append(
                [("text", "xw's "), ("math", what), ("text", " "), _mark(a.passed)]
            )
        rows.append(cells)
    agree = Table(
        "The same derivatives (their W is xw's Wᵀ)",
        [[], *([("math", p.deriv("L", v))] for v in VARIABLES)],
        rows,
        (),
    )
    return [top, bottom, agree]


def notes(c: Comparison, latex: bool = False) -> dict[str, list[list[Piece]]]:
    """The paragraphs of the page, as pieces: intro, K, why they agree, sources."""
    p = _Pieces(latex)
    X, W, dY = Sym("X"), Sym("W"), Sym("dY")
    one = Ones("N")

    def t(text: str) -> Piece:
        return ("text", text)

    def m(text_form: str, latex_form: str) -> Piece:
        return ("math", latex_form if latex else text_form)

    rows, cols = CONVENTIONS["torch"].shape("W", c.n, c.d, c.m)
    size = rows * cols
    intro = [
        [
            t("Every "),
            _mark(True),
            t(" below was checked at these sizes by running the derivation for each "
              "convention in both vec orders (eight derivations) and reading its "
              "certificate, or by comparing with its matrices."),
        ]
    ]  # fmt: skip
    k_note = [
        [
            m("K", "K"),
            t(" is the commutation matrix with "),
            p.equation(Prod(Comm("M", "D"), Vec(W)), Vec(T(W))),
            t(" for the stored W ("),
            m(f"M×D = {rows}×{cols}", f"M \\times D = {rows} \\times {cols}"),
            t("), a "),
            ("math", p.shape((size, size))),
            t(" permutation matrix: it puts the entries of vec(W) in the order of xw's "
              "weights."),
        ]
    ]  # fmt: skip
    why = [
        [
            t("All four write the same layer. torch and column store W transposed "
              "(one row per output, "),
            m("M×D", "M \\times D"),
            t("), so their ∂L/∂W is the transpose of xw's: "),
            p.equation(T(Prod(T(X), dY)), Prod(T(dY), X)),
            t(". column also stores b as a column, so its ∂L/∂b is "),
            p.equation(T(Prod(T(one), dY)), Prod(T(dY), one)),
            t("; its letters differ too (A, Z, dLdZ for X, Y, dY). wx puts the samples "
              "in columns: its X, Y and dY are xw's transposes and it stores W and b as "
              "torch and column do, so each of its derivatives is the transpose of "
              "xw's, e.g. "),
            p.equation(T(Prod(dY, T(W))), Prod(W, T(dY))),
            t(" (written "),
            m("Wᵀ·dY", "W^{T} \\, dY"),
            t(" in its own letters)."),
        ],
        [
            t("The vectorization order changes only the Kronecker forms (the two factors "
              "swap, and K appears where W is stored transposed), never the closed "
              "forms: row stacks rows as NumPy's reshape(-1) does, col stacks columns as "
              "the textbook vec does."),
        ],
    ]  # fmt: skip
    sources = [
        [
            t(
                "Sources: "
                + "; ".join(f"{v.name}: {v.source}" for v in c.conventions)
                + "."
            )
        ]
    ]
    if latex:
        for para in (*intro, *k_note, *why, *sources):
            para[:] = [(k, _tex_text(s)) if k == "text" else (k, s) for k, s in para]
    return {"intro": intro, "k": k_note, "why": why, "sources": sources}


_TEX_TEXT = {
    "∂L/∂W": "$\\partial L/\\partial W$",
    "∂L/∂b": "$\\partial L/\\partial b$",
    "∂L/∂V": "$\\partial L/\\partial V$",
    "∂vec(Y)/∂vec(V)": "$\\partial \\operatorname{vec}(Y)/\\partial \\operatorname{vec}(V)$",
    "Wᵀ": "$W^{T}$",
    "vec(W)": "$\\operatorname{vec}(W)$",
    "reshape(-1)": "\\texttt{reshape(-1)}",
    "nn.Linear": "\\texttt{nn.Linear}",
    "'mytorch'": "`mytorch'",
    "y = x Wᵀ + b": "$y = x W^{T} + b$",
    "Z = A Wᵀ + 1 bᵀ": "$Z = A W^{T} + \\mathbf{1} b^{T}$",
    "dLdZ": "\\textit{dLdZ}",
    "'s": "'s",
}


def _tex_text(text: str) -> str:
    """Plain words of this page in LaTeX (the few formulas inside them made math)."""
    out = text.replace("\\", "\\textbackslash{}")
    for ch in "&%#_":
        out = out.replace(ch, f"\\{ch}")
    for key in sorted(_TEX_TEXT, key=len, reverse=True):
        out = out.replace(key.replace("_", "\\_"), _TEX_TEXT[key])
    return out


# -- printers ------------------------------------------------------------------------------
def comparison_renderable(c: Comparison) -> Any:
    """The page as a Rich renderable: header, three tables, the notes, the verdict."""
    from rich import box
    from rich.console import Group
    from rich.constrain import Constrain
    from rich.table import Table as RichTable
    from rich.text import Text

    from .terminal import HOLD, KeptText

    styles = {"text": "", "math": "", "dim": "dim", "dim-math": "dim"}

    def text(pieces: list[Piece]) -> Text:
        out = Text()
        for kind, s in pieces:
            if kind == "mark":
                out.append(s, style="bold green" if s == "✓" else "bold red")
            else:
                out.append(s, style=styles[kind])
        return out

    def cell(pieces: list[Piece]) -> KeptText:
        """A table cell whose ✓ never wraps alone onto a line of its own. (Its formula
        may still wrap at a space: at 80 columns four conventions' formulas side by
        side are wider than the terminal, and a break at a space reads better than
        Rich folding inside a name.)"""
        held = list(pieces)
        for k in range(1, len(held)):
            if held[k][0] == "mark" and held[k - 1][1].endswith(" "):
                held[k - 1] = (held[k - 1][0], held[k - 1][1][:-1] + HOLD)
        return KeptText(text(held))

    items: list[Any] = [
        Text(
            f"The conventions side by side at N={c.n}, D={c.d}, M={c.m}"
            f" (column: C_in = D, C_out = M)",
            style="bold",
        )
    ]
    page = notes(c)
    items += [Constrain(text(para), 100) for para in page["intro"]]
    for k, table in enumerate(tables(c)):
        rich_table = RichTable(
            title=table.title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
        )
        for col, head in enumerate(table.header):
            rich_table.add_column(text(head), no_wrap=col == 0)
        for r, row in enumerate(table.rows):
            last = r + 1 in table.sections
            rich_table.add_row(*(cell(pieces) for pieces in row), end_section=last)
        items += [Text(""), rich_table]
        if k == 1:
            items += [Text("")]
            items += [Constrain(text(para), 100) for para in page["k"]]
    items += [Text(""), Text("Why they agree", style="bold")]
    for para in page["why"]:
        items += [Constrain(text(para), 100), Text("")]
    items += [
        Constrain(
            text(para),
            100,
        )
        for para in page["sources"]
    ]
    for item in items[-1:]:
        item.renderable.stylize("dim")
    ok = c.verified
    items.append(
        Text(
            "Every row verified." if ok else "Verification FAILED (see ✗ above).",
            style="bold green" if ok else "bold red",
        )
    )
    return Group(*items)


def comparison_text(c: Comparison, width: int = 100) -> str:
    """The page as plain text (no escape codes) at ``width`` columns."""
    from .terminal import plain_text

    return plain_text(comparison_renderable(c), width=width)


def _tex_pieces(pieces: list[Piece]) -> str:
    out = []
    for kind, s in pieces:
        if kind == "mark":
            out.append("\\checkmark" if s == "✓" else "\\textbf{fails}")
        elif kind in ("math", "dim-math"):
            out.append(f"${s}$")
        else:
            out.append(_tex_text(s) if kind == "dim" else s)
    return "".join(out)


def comparison_latex(c: Comparison) -> str:
    """The page as a standalone LaTeX article (compiles with pdflatex)."""
    lines = [
        "\\documentclass[10pt]{article}",
        "\\usepackage[T1]{fontenc}",
        "\\usepackage{lmodern}",
        "\\usepackage{amsmath,amssymb}",
        "\\usepackage{booktabs}",
        "\\usepackage[margin=1.8cm]{geometry}",
        "\\setlength{\\parindent}{0pt}",
        "\\setlength{\\parskip}{0.5em}",
        "\\renewcommand{\\arraystretch}{1.1}",
        "\\setlength{\\tabcolsep}{4pt}",  # four conventions side by side
        "\\pagestyle{empty}",
        "\\begin{document}",
        f"\\section*{{The conventions side by side at $N={c.n}$, $D={c.d}$, $M={c.m}$}}",
        "In column, $C_{\\mathrm{in}} = D$ and $C_{\\mathrm{out}} = M$.",
    ]
    page = notes(c, latex=True)
    lines += [_tex_pieces(para) for para in page["intro"]]
    for k, table in enumerate(tables(c, latex=True)):
        ncols = len(table.header)
        lines += [
            "",
            "\\medskip",
            f"\\textbf{{{_tex_text(table.title)}}}",
            "",
            "{\\centering",
            f"\\begin{{tabular}}{{{'l' * ncols}}}",
            "\\toprule",
            " & ".join(_tex_pieces(h) for h in table.header) + " \\\\",
            "\\midrule",
        ]
        for r, row in enumerate(table.rows):
            if r in table.sections:
                lines.append("\\midrule")
            lines.append(" & ".join(_tex_pieces(cell) for cell in row) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}", "\\par}"]
        if k == 1:
            lines += [""] + [_tex_pieces(para) for para in page["k"]]
    lines += ["", "\\medskip", "\\textbf{Why they agree}", ""]
    lines += [_tex_pieces(para) + "\n" for para in page["why"]]
    lines += ["{\\small " + _tex_pieces(page["sources"][0]) + "}", ""]
    verdict = "Every row verified." if c.verified else "Verification FAILED."
    lines += [f"\\textbf{{{verdict}}}", "\\end{document}", ""]
    return "\n".join(lines)


def _md_pieces(pieces: list[Piece]) -> str:
    out = []
    for kind, s in pieces:
        if kind in ("math", "dim-math"):
            out.append(f"${s}$")
        else:
            out.append(s)
    return "".join(out)


def comparison_markdown(c: Comparison) -> str:
    """The page as Markdown (GitHub/Jupyter flavour, maths in $ … $)."""
    lines = [
        f"# The conventions side by side at N={c.n}, D={c.d}, M={c.m}",
        "",
        "In column, C_in = D and C_out = M.",
        "",
    ]
    page = notes(c, latex=True)
    md = notes(c)
    lines += [
        _md_pieces(_latex_math(para, md_para))
        for para, md_para in zip(page["intro"], md["intro"], strict=True)
    ]
    for k, table in enumerate(tables(c, latex=True)):
        lines += ["", f"## {table.title}", ""]
        lines.append("| " + " | ".join(_md_pieces(h) for h in table.header) + " |")
        lines.append("|" + "---|" * len(table.header))
        for row in table.rows:
            lines.append("| " + " | ".join(_md_pieces(cell) for cell in row) + " |")
        if k == 1:
            lines += [""] + [
                _md_pieces(_latex_math(a, b))
                for a, b in zip(page["k"], md["k"], strict=True)
            ]
    lines += ["", "## Why they agree", ""]
    for a, b in zip(page["why"], md["why"], strict=True):
        lines += [_md_pieces(_latex_math(a, b)), ""]
    lines += ["_" + _md_pieces(md["sources"][0]) + "_", ""]
    verdict = "Every row verified." if c.verified else "Verification FAILED."
    lines += [f"**{verdict}**", ""]
    return "\n".join(lines)


def _latex_math(tex: list[Piece], text: list[Piece]) -> list[Piece]:
    """Markdown words from the text version, formulas from the LaTeX version."""
    return [
        b if b[0] not in ("math", "dim-math") else a
        for a, b in zip(tex, text, strict=True)
    ]
