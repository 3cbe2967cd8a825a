"""LaTeX: a standalone article (or a fragment) with the whole derivation, and reusable helpers.

The printer walks the same steps as every other format. Explicit matrices are drawn by
:func:`latex_matrix` (elided past ``max_entries`` rows and columns and past ``max_terms``
terms per entry, display only), formulas by ``formula_latex``, sympy leaves by
``sympy.latex``, and each Jacobian gets a TikZ picture of its sparsity and Kronecker blocks
(:func:`latex_sparsity`). The article compiles with pdflatex at every size without errors
and without overfull boxes:

* ``MaxMatrixCols`` is set to the widest matrix of the document (amsmath stops at 10);
* every matrix row sits on its own source line (TeX reads a source line into a buffer);
* each display goes through ``\\sdfit``, which scales it down to the line width (and, on
  slides, to a height) only when it would not fit; the printer first elides columns and
  terms so that scaling stays mild;
* a 1×K row that is too wide for one line is broken over several lines.

Nothing a user types reaches LaTeX unchecked: display letters are validated by
``conventions.parse_names`` (a letter, then letters or digits); everything else interpolated
here is a number or text written by symderiv, escaped by :func:`latex_escape`.

>>> from symderiv.algebra import PolyMatrix
>>> from symderiv.conventions import Letters
>>> print(latex_matrix(PolyMatrix.of_atoms("X", 1, 2), Letters()))
\\begin{bmatrix}
x_{1,1} & x_{1,2}
\\end{bmatrix}
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any, ClassVar

from .. import __version__, notes
from ..algebra import Poly, PolyMatrix
from ..conventions import Config, Letters, split_entry
from ..notation import (
    Equation,
    Explicit,
    Expr,
    Eye,
    Node,
    Ones,
    Prod,
    Sym,
    T,
    shape,
)
from ..notes import Code as CodeSpan
from ..notes import M, Prose
from ..steps import Derivation, StepKind
from .base import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_TERMS,
    PagePrinter,
    entry_terms,
    one_of,
    positive,
)
from .formula import formula_latex, prose_plain, size_latex
from .names import latex_name, layered
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
    block_rules,
    page_of,
    shown_indices,
)

#: Estimated width of the text block, in em of the body font (article: 16 cm at 11 pt).
ARTICLE_WIDTH_EM = 41.0
#: Displays estimated wider than width/MIN_SCALE lose columns or terms before TeX scales.
MIN_SCALE = 0.75
#: Entries of at most this many terms in a matrix of at most three columns are never
#: elided (their width is left to \sdfit); longer ones keep at least their first and last
#: terms (the bias, where there is one).
SHORT_TERMS = 4
#: A run of equations kept on one line (a slice beside its contraction) is elided until
#: it fits at this scale or more: the run is a teaching device, its entries illustrate.
RUN_SCALE = 0.9
#: An equation breaks into lines only when wider than its budget/LINE_OVERRUN.
LINE_OVERRUN = 0.85
#: A Jacobian's sparsity picture is at most this many cells across (larger ones are binned).
SPARSITY_MAX_CELLS = 256

Segment = tuple[str, str]  # (kind, content), kind in {"text", "math", "code"}


# =============================================================================================
# Text: escaping and prose with mathematics
# =============================================================================================
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    **{ch: "\\" + ch for ch in "{}&#%_"},
    "$": r"\ensuremath{\$}",
    "^": r"\^{}",
    "~": r"\~{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': "''",
    "—": "---",
    "–": "--",
    "…": r"\dots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "✓": r"\sdyes{}",
    "✗": r"\sdno{}",
    "\u00a0": "~",
}
#: Accented letters that pdflatex's utf8 input handles in the default (OT1) font encoding.
_SAFE_LATIN = set("áàâäãåéèêëíìîïóòôöõúùûüçñýÿÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÇÑÝßæÆøØœŒ")
#: Unicode mathematics in text, printed as inline maths (subscript digits too).
_MATH_ESCAPES = {
    ch: f"${tex}$"
    for ch, tex in {
        "∂": r"\partial",
        "ᵀ": "^{T}",
        "⊗": r"\otimes",
        "Σ": r"\sum",
        "∇": r"\nabla",
        "·": r"\cdot",
        "⋅": r"\cdot",
        "×": r"\times",
        "−": "-",
        "²": "^{2}",
        "∈": r"\in",
        "ℝ": r"\mathbb{R}",
        "⋯": r"\cdots",
        "≤": r"\le",
        "≥": r"\ge",
        "≠": r"\ne",
        "≈": r"\approx",
        "→": r"\to",
        "↦": r"\mapsto",
        "∘": r"\circ",
        "δ": r"\delta",
        "α": r"\alpha",
        "β": r"\beta",
        "η": r"\eta",
        "λ": r"\lambda",
        "σ": r"\sigma",
        "ε": r"\varepsilon",
        **{sub: f"_{{{k}}}" for k, sub in enumerate("₀₁₂₃₄₅₆₇₈₉")},
    }.items()
}


def latex_escape(text: str) -> str:
    """Plain text for LaTeX's text mode: special characters escaped, nothing interpreted.

    Characters pdflatex cannot print in its default font encoding become ``[U+XXXX]``.

    >>> latex_escape("50% of x_1 & {y}")
    '50\\\\% of x\\\\_1 \\\\& \\\\{y\\\\}'
    """
    out: list[str] = []
    for ch in text:
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch.isascii() or ch in _SAFE_LATIN:
            out.append(ch if ch.isprintable() or ch in "\n" else " ")
        else:
            out.append(_MATH_ESCAPES.get(ch, f"[U+{ord(ch):04X}]"))
    return "".join(out)


# =============================================================================================
# Width estimates (in em of the surrounding font), used to elide and to break lines
# =============================================================================================
_CHAR_EM = 0.55
_SCRIPT = 0.7
_OP_EM = 1.3  # a binary operator with its spaces: + - = \cdot
_COLSEP_EM = 0.92  # 2\arraycolsep between matrix columns
_BRACKETS_EM = 0.9
_CONTROL_EM = {
    r"\partial": 0.6,
    r"\cdot": 0.85,
    r"\,": 0.17,
    r"\;": 0.28,
    r"\quad": 1.0,
    r"\qquad": 2.0,
    r"\nabla": 0.9,
    r"\in": 1.2,
    r"\to": 1.5,
    **dict.fromkeys(r"\otimes \sum".split(), 1.4),
    **dict.fromkeys(r"\cdots \ddots \times".split(), 1.3),
    **dict.fromkeys(r"\vdots \lVert \rVert \Bigl \Bigr".split(), 0.5),
    **dict.fromkeys(r"\bigl \bigr".split(), 0.4),
    # fonts and delimiters' sizes take no width of their own
    **dict.fromkeys(
        r"\left \right \mathbf \mathit \mathrm \operatorname \bar \mathbb".split(), 0.0
    ),
}
#: Widths of single characters other than letters and digits (those take _CHAR_EM).
_CHAR_WIDTH = {
    **dict.fromkeys("{} \n", 0.0),
    **dict.fromkeys("=+-<>", _OP_EM),
    "&": _COLSEP_EM,
    **dict.fromkeys(",.;", 0.28),
    **dict.fromkeys("()[]|", 0.39),
}


def tex_width(tex: str) -> float:
    """A rough width (em) of a line of LaTeX math, good enough to decide where to break."""
    width = 0.0
    k = 0
    n = len(tex)
    while k < n:
        ch = tex[k]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[k:])
            assert m is not None
            name = "\\" + m.group(1)
            k += len(m.group(0))
            if name in (r"\frac", r"\tfrac"):
                num, k = _group(tex, k)
                den, k = _group(tex, k)
                scale = 0.75 if name == r"\tfrac" else 1.0
                width += scale * max(tex_width(num), tex_width(den)) + 0.25
            elif name in (r"\hphantom", r"\phantom"):
                inner, k = _group(tex, k)
                width += tex_width(inner)
            else:
                width += _CONTROL_EM.get(name, 0.8 if len(name) > 2 else 0.3)
        elif ch in "_^":
            k += 1
            if k < n and tex[k] == "{":
                inner, k = _group(tex, k)
            else:
                inner, k = tex[k : k + 1], k + 1
            width += _SCRIPT * tex_width(inner)
        else:
            width += _CHAR_WIDTH.get(ch, _CHAR_EM)
            k += 1
    return width


def _group(tex: str, k: int) -> tuple[str, int]:
    """The braced group starting at tex[k] (skipping spaces) and the index after it."""
    while k < len(tex) and tex[k] == " ":
        k += 1
    if k >= len(tex) or tex[k] != "{":
        return tex[k : k + 1], k + 1
    depth = 0
    for j in range(k, len(tex)):
        depth += tex[j] == "{"
        depth -= tex[j] == "}"
        if depth == 0:
            return tex[k + 1 : j], j + 1
    return tex[k + 1 :], len(tex)


# =============================================================================================
# Entries and matrices
# =============================================================================================
@dataclass(frozen=True)
class Cell:
    """One printed matrix entry: its LaTeX, estimated width (em), whether it is tall (a
    fraction) and whether it is stacked (a name with a superscript over its subscript, the
    network's w^{(2)}_{1,1}, whose scripts reach into the rows above and below)."""

    tex: str
    width: float
    tall: bool = False
    stacked: bool = False


@lru_cache(maxsize=65536)  # one Cell per name: a matrix repeats its names many times
def _atom(name: str, letters: Letters, upstream: str) -> Cell:
    # one place for display names: the index base and --upstream live in latex_name
    tex = latex_name(name, letters, "bar" if upstream == "bar" else None)
    stacked = layered(name) is not None  # w^{(2)}_{1,1}
    return Cell(tex, tex_width(tex), tex.startswith("\\frac"), stacked)


def _coeff_tex(c: int | Fraction) -> str:
    if isinstance(c, Fraction) and c.denominator != 1:
        return rf"\frac{{{c.numerator}}}{{{c.denominator}}}"
    return str(int(c))


def latex_entry(
    poly: Poly,
    letters: Letters,
    *,
    max_terms: int = DEFAULT_MAX_TERMS,
    upstream: str = "frac",
    dfrac: bool = True,
) -> Cell:
    """One polynomial entry in LaTeX, terms in the order the maths built them.

    Past ``max_terms`` terms it shows the first ``max_terms - 1``, ``\\cdots`` and the last
    (display only). ``upstream="bar"`` prints the upstream entries ∂L/∂y_{i,j} as
    \\bar y_{i,j}; ``"frac"`` as fractions (a lone fraction at display size when ``dfrac``).
    A common denominator is factored out.

    >>> from symderiv.algebra import Poly
    >>> p = Poly.atom("x_1_1") * Poly.atom("w_1_1") + Poly.atom("b_1")
    >>> latex_entry(p, Letters()).tex
    'x_{1,1} \\\\, w_{1,1} + b_{1}'
    """
    if poly.is_zero():
        return Cell("0", _CHAR_EM)
    if poly.is_atom():
        cell = _atom(next(iter(poly.terms))[0], letters, upstream)
        if dfrac and cell.tex.startswith(r"\frac"):
            # A fraction alone in a matrix cell is printed at display size.
            return Cell(r"\dfrac" + cell.tex[len(r"\frac") :], cell.width * 1.3, True)
        return cell
    # type() not isinstance(): Fraction is an ABC subclass, so isinstance is slow here.
    den = math.lcm(*(c.denominator for c in poly.terms.values() if type(c) is not int))
    if den > 1 and len(poly) > 1:
        inner = latex_entry(
            poly.scale(den), letters, max_terms=max_terms, upstream=upstream
        )
        tex = rf"\frac{{1}}{{{den}}} \bigl({inner.tex}\bigr)"
        return Cell(tex, inner.width + 2.0, True, inner.stacked)
    items = list(poly.terms.items())
    parts: list[str] = []
    width = 0.0
    tall = stacked = False
    for k in entry_terms(len(items), max_terms):
        if k is None:
            parts.append(r" + \cdots")  # never first: at least one term comes before
            width += _OP_EM + 1.3
            continue
        mono, c = items[k]
        negative = c < 0
        mag = -c if negative else c
        factors = [_atom(f, letters, upstream) for f in mono]
        body = [f.tex for f in factors]
        width += sum(f.width for f in factors) + 0.17 * max(len(factors) - 1, 0)
        tall = tall or any(f.tall for f in factors)
        stacked = stacked or any(f.stacked for f in factors)
        if not factors or mag != 1:
            ctex = _coeff_tex(mag)
            body.insert(0, ctex)
            width += tex_width(ctex)
            tall = tall or "frac" in ctex
        term = r" \, ".join(body)
        if k == 0:
            parts.append(f"-{term}" if negative else term)
            width += 0.8 * negative
        else:
            parts.append(f" - {term}" if negative else f" + {term}")
            width += _OP_EM
    return Cell("".join(parts), width, tall, stacked)


@dataclass
class Piece:
    """A part of an equation: its LaTeX (one or more lines), widths and height (em).

    ``lines`` has several entries only for a long row vector broken over lines; the
    equation layout then puts each on its own line. ``transposed``: the piece already
    ends in ``^{T}`` (a row drawn as a transposed column).
    """

    lines: list[str]
    widths: list[float]
    height: float = 1.2
    transposed: bool = False

    @property
    def tex(self) -> str:
        return "\n".join(self.lines)

    @property
    def width(self) -> float:
        return max(self.widths)


@dataclass(frozen=True)
class MatrixStyle:
    """How explicit matrices are drawn.

    Attributes:
        max_entries: rows and columns shown before eliding.
        max_terms: terms shown per entry before eliding.
        upstream: "bar" (\\bar y_{i,j}) or "frac" (\\frac{\\partial L}{\\partial y_{i,j}}).
        portable: MathJax-friendly LaTeX (no ``@{}`` in array preambles), for Markdown.
        budget: width (em) a display may take before it is elided further; None: no limit.
        row_lines: a 1×K row may break over at most this many lines.
        mark: (i, j, tex) -> the entry's LaTeX decorated (the slides colour the row and
            column being multiplied); it takes no width. None: entries as they are.
    """

    max_entries: int = DEFAULT_MAX_ENTRIES
    max_terms: int = DEFAULT_MAX_TERMS
    upstream: str = "frac"
    portable: bool = False
    budget: float | None = None
    row_lines: int = 4
    mark: Callable[[int, int, str], str] | None = None


#: The gap between two matrix rows of stacked entries (x^{(2)}_{1,1}) in LaTeX, and its
#: height in em.
_STACKED_GAP = r" \noalign{\vskip 0.7ex}"
_STACKED_GAP_EM = 0.3
_DDOTS = Cell(r"\ddots", 1.3)
_VDOTS = Cell(r"\vdots", 0.5)
_CDOTS = Cell(r"\cdots", 1.3)


def _grid(
    shape: tuple[int, int],
    grid: list[list[Cell]],
    rows: list[int | None],
    cols: list[int | None],
    blocks: tuple[int, int] | None,
    portable: bool,
) -> Piece:
    """The bracketed ``grid`` of the shown ``rows`` and ``cols`` of a matrix of ``shape``
    (None: the ⋯ ⋮ ⋱ of the rows and columns left out), one matrix row per source line."""
    ncols = len(cols)
    widths = [max(r[c].width for r in grid) for c in range(ncols)]
    tall_rows = [any(c.tall for c in r) for r in grid]
    stacked_rows = [any(c.stacked for c in r) for r in grid]
    vsep, hsep = block_rules(rows, cols, blocks, shape)
    # Between two rows of stacked entries a superscript would touch the subscript above
    # (LaTeX's rows are only as far apart as their struts; MathJax's have room): a gap
    # after the row, and one under a rule between blocks. The last entry is False.
    stacked = [
        not portable
        and stacked_rows[r]
        and stacked_rows[r + 1]
        and not (tall_rows[r] and tall_rows[r + 1])
        for r in range(len(grid) - 1)
    ] + [False]
    body: list[str] = []
    for r, line in enumerate(grid):
        if hsep[r]:
            body.append(r"\hline" + (_STACKED_GAP if stacked[r - 1] else ""))
        row_tex = " & ".join(c.tex for c in line)
        if r < len(grid) - 1:
            if tall_rows[r] and tall_rows[r + 1]:
                # Fractions in consecutive rows would touch: add a gap (unconditionally; a
                # length after \\ only raises the strut, which tall rows exceed anyway).
                row_tex += r" \\[1ex]" if portable else r" \\ \noalign{\vskip 1.2ex}"
            else:
                row_tex += r" \\" + (_STACKED_GAP if stacked[r] else "")
        body.append(row_tex)
    gaps = sum(stacked) + sum(stacked[r - 1] for r in range(1, len(grid)) if hsep[r])
    width = sum(widths) + _COLSEP_EM * (ncols - 1) + _BRACKETS_EM
    height = sum(2.3 if t else 1.25 for t in tall_rows) + 0.3 * sum(hsep)
    height += _STACKED_GAP_EM * gaps
    # An array for the block rules, and in portable TeX past amsmath's 10 columns
    # (MaxMatrixCols, which a Markdown or notebook reader's LaTeX cannot be told to
    # raise): its column letters written out, which MathJax, KaTeX and LaTeX all read
    # (KaTeX refuses *{12}{c}).
    if any(vsep) or any(hsep) or (portable and ncols > 10):
        spec = "".join(("|" if vsep[c] else "") + "c" for c in range(ncols))
        if not portable:
            spec = "@{}" + spec + "@{}"
        head = rf"\left[\begin{{array}}{{{spec}}}"
        tail = r"\end{array}\right]"
        width += 0.2 * sum(vsep)
    else:
        head, tail = r"\begin{bmatrix}", r"\end{bmatrix}"
    tex = "\n".join([head, *body, tail])
    return Piece([tex], [width], height)


def _row_as_column(cells: list[Cell], tall: bool, portable: bool) -> Piece:
    """A 1×K row drawn as the transpose of a K×1 column: [e1; e2; …]ᵀ."""
    stacked = not tall and not portable and any(c.stacked for c in cells)
    gap = r" \\[0.6ex]" if tall else r" \\" + _STACKED_GAP if stacked else r" \\"
    rows = [r"\vdots" if c.tex == r"\cdots" else c.tex for c in cells]
    tex = environment("bmatrix", rows, gap + "\n") + "^{T}"
    width = max(c.width for c in cells) + _BRACKETS_EM + 0.8
    height = sum(2.3 if c.tall else 1.25 for c in cells)
    height += _STACKED_GAP_EM * (len(cells) - 1) * stacked
    return Piece([tex], [width], height, transposed=True)


def _row_lines(cells: list[Cell], budget: float, tall: bool) -> Piece:
    """A 1×K row broken over lines of at most ``budget`` em: [e1 e2 / e3 e4]."""
    left, right = (r"\Bigl[\;", r"\;\Bigr]") if tall else (r"\bigl[\;", r"\;\bigr]")
    lines: list[list[str]] = [[]]
    widths = [0.0]
    for c in cells:
        add = c.width + (1.0 if lines[-1] else 0.0)
        if lines[-1] and widths[-1] + add > budget:
            lines.append([])
            widths.append(0.0)
            add = c.width
        lines[-1].append(c.tex)
        widths[-1] += add
    if len(lines) > 1:
        # As many lines as needed, the entries spread evenly over them.
        per = math.ceil(len(cells) / len(lines))
        even = [cells[k : k + per] for k in range(0, len(cells), per)]
        even_widths = [sum(c.width for c in g) + 1.0 * (len(g) - 1) for g in even]
        if max(even_widths) <= max(widths):
            lines = [[c.tex for c in g] for g in even]
            widths = even_widths
    texts = [r" \quad ".join(line) for line in lines]
    texts[0] = f"{left} {texts[0]}"
    texts[-1] = f"{texts[-1]} {right}"
    widths = [w + 1.0 for w in widths]
    per_line = 2.3 if tall else 1.4
    return Piece(texts, widths, per_line * len(texts) + 0.3 * (len(texts) - 1))


def matrix_piece(
    matrix: PolyMatrix,
    letters: Letters,
    style: MatrixStyle,
    blocks: tuple[int, int] | None = None,
    *,
    budget: float | None = None,
) -> Piece:
    """An explicit matrix as a :class:`Piece`, elided to fit ``budget`` em where it can.

    Past ``style.max_entries`` rows or columns only the first ones, an ellipsis and the last
    are shown. When the result is wider than budget/MIN_SCALE, it shows fewer columns,
    then fewer terms per entry (never fewer than the first and the last, and all of an
    entry of up to SHORT_TERMS in up to three columns), then fewer columns; a 1×K row
    is broken over lines first, when that suffices.
    """
    budget = style.budget if budget is None else budget
    rows = shown_indices(matrix.rows, style.max_entries)
    terms = style.max_terms
    limit = style.max_entries

    def cell(i: int | None, j: int | None, terms: int, dfrac: bool) -> Cell:
        if i is None:
            return _DDOTS if j is None else _VDOTS
        if j is None:
            return _CDOTS
        found = latex_entry(
            matrix[i, j], letters, max_terms=terms, upstream=style.upstream, dfrac=dfrac
        )
        if style.mark is None:
            return found
        return replace(found, tex=style.mark(i, j, found.tex))

    # In a matrix of at most three columns (none to elide) an entry of up to four terms
    # (x·w + x·w + x·w + b) keeps them all: "x·w + ⋯" hid the very terms it is written
    # out for (a layer's bias), to save a term or two; \sdfit scales it a little.
    short = matrix.cols <= 3 and all(
        len(p) <= SHORT_TERMS for p in matrix.entries.values()
    )
    if short:
        terms = max(terms, SHORT_TERMS)
    while True:
        cols = shown_indices(matrix.cols, limit)
        # Display-size fractions only in small matrices (a 12x12 grid of them fills a page).
        dfrac = len(cols) <= 6 and len(rows) <= 6
        grid = [[cell(i, j, terms, dfrac) for j in cols] for i in rows]
        piece = _grid(matrix.shape, grid, rows, cols, blocks, style.portable)
        if budget is None or piece.width <= budget / MIN_SCALE:
            return piece
        if matrix.rows == 1 and matrix.cols > 1:
            (row,) = grid
            tall = any(c.tall for c in row)
            piece = _row_lines(row, budget, tall)
            if len(piece.lines) > 1:
                # A row wrapped over lines would look like the matrix the next step
                # reshapes it into; a transposed column keeps the reshape visible (as
                # vec(Y) and the terminal draw it).
                column = _row_as_column(row, tall, style.portable)
                if column.width <= budget / MIN_SCALE:
                    return column
            if len(piece.lines) <= style.row_lines or (terms <= 2 and limit <= 3):
                if piece.width <= budget / MIN_SCALE or (terms <= 1 and limit <= 3):
                    return piece
        # Fewer columns first (down to five shown; a row, whose columns have no structure
        # to show, keeps them), then fewer terms (down to first + ⋯ + last), then down to
        # three columns.
        if limit > 5 and len(cols) > 5 and matrix.rows > 1:
            limit = min(limit, len(cols)) - 1
        elif terms > 2 and not short:
            terms -= 1
        elif limit > 3 and len(cols) > 3:
            limit = min(limit, len(cols)) - 1
        else:
            return piece


def latex_matrix(
    matrix: PolyMatrix,
    letters: Letters,
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_terms: int = DEFAULT_MAX_TERMS,
    blocks: tuple[int, int] | None = None,
    upstream: str = "frac",
    portable: bool = False,
) -> str:
    """An explicit matrix (r, c) of polynomials as LaTeX: ``bmatrix``, or an ``array``
    with rules between the Kronecker ``blocks`` (rows, cols); the settings are those of
    :class:`MatrixStyle`.

    One matrix row per source line. A document that shows it needs amsmath and
    ``\\setcounter{MaxMatrixCols}{k}`` for k > 10 columns (see :func:`max_matrix_cols`).
    """
    style = MatrixStyle(max_entries, max_terms, upstream, portable, None)
    return matrix_piece(matrix, letters, style, blocks).tex


_MATRIX_ENVS = "matrix bmatrix pmatrix vmatrix Bmatrix Vmatrix smallmatrix".split()
_ENV_RE = re.compile(r"\\(begin|end)\{(\w+)\}|(&)|(\\\\)")


def max_matrix_cols(tex: str) -> int:
    """The most columns of any amsmath matrix environment in ``tex`` (0 if none).

    >>> max_matrix_cols(r"\\begin{bmatrix} a & b \\\\ c & d & e \\end{bmatrix}")
    3
    """
    # per open environment: [is_matrix, columns in this row]
    stack: list[list[int]] = []
    best = 0
    for m in _ENV_RE.finditer(tex):
        kind, env, amp, _ = m.groups()
        if kind == "begin":
            stack.append([env in _MATRIX_ENVS, 1])
        elif kind == "end":
            del stack[-1:]
        elif stack:  # & adds a column, \\ starts a row
            stack[-1][1] = stack[-1][1] + 1 if amp else 1
        if stack and stack[-1][0]:
            best = max(best, stack[-1][1])
    return best


# =============================================================================================
# sympy leaves
# =============================================================================================
def sympy_latex(expr: Any, letters: Letters) -> str:
    """A scalar sympy expression (the index view's sums and deltas) in LaTeX with display
    entry names: canonical entry symbols (``x_1_12``) print as ``x_{1,12}``. Matrices go
    through :func:`latex_matrix` (elision, portable columns), not here."""
    import sympy as sp

    names: dict[Any, str] = {}
    for s in expr.atoms(sp.Symbol) if hasattr(expr, "atoms") else ():
        try:
            split_entry(s.name)
        except (ValueError, IndexError):
            continue
        names[s] = latex_name(s.name, letters)
    return str(sp.latex(expr, symbol_names=names, mat_str="bmatrix", mat_delim=""))


# =============================================================================================
# Sparsity pictures
# =============================================================================================
def _num(value: float) -> str:
    """A coordinate with at most 3 decimals and no trailing zeros (deterministic)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def latex_sparsity(
    matrix: PolyMatrix,
    blocks: tuple[int, int] | None = None,
    *,
    size_cm: float = 7.0,
) -> str:
    """A TikZ picture of the nonzero pattern of ``matrix``, with its Kronecker block grid.

    Each nonzero entry is a small filled square (cells of a large matrix merge into
    rectangles; past SPARSITY_MAX_CELLS rows or columns, cells are binned so that the
    picture stays small and quick to compile). Thin lines separate the blocks. Needs
    ``tikz`` and the colours ``sdnonzero``, ``sdzero``, ``sdblock`` (see
    :func:`latex_macros`).

    Args:
        matrix: the matrix (r, c); only which entries are nonzero matters.
        blocks: (rows, cols) of a Kronecker block, or None.
        size_cm: length of the longer side of the picture.
    """
    rows, cols = matrix.rows, matrix.cols
    factor = max(1, math.ceil(max(rows, cols) / SPARSITY_MAX_CELLS))
    grid_r, grid_c = math.ceil(rows / factor), math.ceil(cols / factor)
    unit = min(size_cm / max(grid_r, grid_c), 0.45)
    cells = sorted({(i // factor, j // factor) for (i, j) in matrix.entries})
    width, height = _num(cols / factor), _num(rows / factor)
    lines: list[str] = [
        rf"\begin{{tikzpicture}}[x={_num(unit)}cm, y=-{_num(unit)}cm]",
        rf"\fill[sdzero] (0,0) rectangle ({grid_c},{grid_r});",
    ]
    rects: list[tuple[float, float, float, float]] = []
    if unit >= 0.12:  # big enough to draw each cell as a square, inset by a tenth
        rects = [(j + 0.1, i + 0.1, j + 0.9, i + 0.9) for i, j in cells]
    else:
        # Horizontal runs per row, then identical runs in consecutive rows merged.
        runs_by_row: dict[int, list[tuple[int, int]]] = {}
        for i, j in cells:
            runs = runs_by_row.setdefault(i, [])
            if runs and runs[-1][1] == j:
                runs[-1] = (runs[-1][0], j + 1)
            else:
                runs.append((j, j + 1))
        open_runs: dict[tuple[int, int], int] = {}  # run -> the row it starts on
        for i in range(grid_r + 1):
            current = set(runs_by_row.get(i, ()))
            for run in sorted(set(open_runs) - current):
                rects.append((run[0], open_runs.pop(run), run[1], i))
            for run in current:
                open_runs.setdefault(run, i)
        rects.sort(key=lambda r: (r[1], r[0]))
    boxes = [
        f"({_num(a)},{_num(b)}) rectangle ({_num(c)},{_num(d)})" for a, b, c, d in rects
    ]
    for start in range(0, len(boxes), 400):
        lines += _path(r"\fill[sdnonzero]", boxes[start : start + 400])
    if blocks is not None:
        br, bc = blocks
        xs = (
            [_num(k / factor) for k in range(bc, cols, bc)] if cols // bc <= 128 else []
        )
        ys = (
            [_num(k / factor) for k in range(br, rows, br)] if rows // br <= 128 else []
        )
        segs = [f"({x},0) -- ({x},{height})" for x in xs]
        segs += [f"(0,{y}) -- ({width},{y})" for y in ys]
        if segs:
            thin = ", sdthin" if len(segs) > 16 else ""
            lines += _path(rf"\draw[sdblock{thin}]", segs)
    lines.append(rf"\draw[sdframe] (0,0) rectangle ({width},{height});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _path(command: str, items: list[str]) -> list[str]:
    """A TikZ path: the command, then its items six to a source line, closed by ;."""
    lines = [command] + [" ".join(items[k : k + 6]) for k in range(0, len(items), 6)]
    lines[-1] += ";"
    return lines


# =============================================================================================
# Preamble
# =============================================================================================
def latex_macros(*, max_height: str | None = None, colors: bool = True) -> str:
    """The macros symderiv's LaTeX uses, safe to load twice (``\\providecommand``-style).

    * ``\\sdfit{math}``: typesets ``math`` in display style and scales it down to the line
      width only when it is wider (and, on slides, to ``\\sdmaxheight``; the optional
      argument ``\\sdfit[h]{…}`` gives a height for one display). Needs graphicx.
    * ``\\sdyes`` and ``\\sdno``: the ✓ and ✗ of the certificate (amssymb).
    * colours ``sdnonzero``, ``sdzero``, ``sdblock``, ``sdframe`` of the sparsity pictures
      (xcolor, loaded by tikz).
    """
    height = max_height or r"\maxdimen"
    lines = [
        r"\makeatletter",
        r"\@ifundefined{sdfit}{%",
        r"\newsavebox{\sd@box}%",
        r"\newlength{\sdmaxheight}%",
        rf"\setlength{{\sdmaxheight}}{{{height}}}%",
        r"\newcommand{\sdfit}[2][\sdmaxheight]{%",
        r"\sbox{\sd@box}{$\displaystyle #2$}%",
        r"\ifdim\wd\sd@box>\linewidth",
        r"\sbox{\sd@box}{\resizebox{\linewidth}{!}{\usebox{\sd@box}}}\fi",
        r"\ifdim\dimexpr\ht\sd@box+\dp\sd@box\relax>#1\relax",
        r"\sbox{\sd@box}{\resizebox*{!}{#1}{\usebox{\sd@box}}}\fi",
        r"\usebox{\sd@box}}%",
        r"}{}",
        r"\makeatother",
    ]
    if colors:
        lines += [
            r"\providecommand{\sdyes}{\textcolor{green!45!black}{$\checkmark$}}",
            r"\providecommand{\sdno}{\textcolor{red!75!black}{$\boldsymbol{\times}$}}",
            r"\definecolor{sdnonzero}{RGB}{40,90,160}",
            r"\colorlet{sdzero}{black!4}",
            r"\tikzset{sdblock/.style={red!65!black, line width=0.4pt},"
            r" sdthin/.style={red!50, line width=0.2pt},"
            r" sdframe/.style={black!60, line width=0.4pt}}",
        ]
    else:
        lines += [
            r"\providecommand{\sdyes}{$\checkmark$}",
            r"\providecommand{\sdno}{$\times$}",
        ]
    return "\n".join(lines)


def latex_preamble(
    *,
    document_class: str = "article",
    options: str = "11pt,a4paper",
    max_matrix_cols: int = 10,
    geometry: str | None = "margin=2.5cm",
    tikz: bool = True,
    max_height: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """The preamble of a symderiv document, up to and including ``\\begin{document}``.

    Packages come from texlive-latex-base/-recommended/-pictures only: amsmath, amssymb,
    graphicx, booktabs, geometry (articles) and tikz. The PDF is made reproducible (no
    creation date, no random trailer id) when the engine is pdfTeX.

    Args:
        document_class: "article" or "beamer" (any class works).
        options: class options.
        max_matrix_cols: ``MaxMatrixCols`` (at least 10, the amsmath default).
        geometry: options for the geometry package, or None not to load it.
        tikz: load tikz (needed for sparsity pictures and the colours).
        max_height: default height limit of ``\\sdfit`` (slides), or None.
        extra: more preamble lines.
    """
    lines = [
        rf"\documentclass[{options}]{{{document_class}}}",
        r"\ifdefined\pdftrailerid",
        r"  \pdfinfoomitdate=1",
        r"  \pdftrailerid{}",
        r"  \pdfsuppressptexinfo=-1",
        r"\fi",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{graphicx}",
        r"\usepackage{booktabs}",
        r"\usepackage{array}",
    ]
    if geometry:
        lines.append(rf"\usepackage[{geometry}]{{geometry}}")
    if tikz:
        lines.append(r"\usepackage{tikz}")
    lines.append(rf"\setcounter{{MaxMatrixCols}}{{{max(10, max_matrix_cols)}}}")
    lines.append(latex_macros(max_height=max_height, colors=tikz))
    lines.extend(extra)
    return "\n".join(lines)


# =============================================================================================
# Equations
# =============================================================================================
def merge_equations(equations: Iterable[Equation]) -> list[Equation]:
    """Consecutive equations with the same left side as one chain: a = b, a = c -> a = b = c.

    >>> from symderiv.notation import Sym, T
    >>> merge_equations([Equation(Sym("Y"), Sym("X")), Equation(Sym("Y"), T(Sym("W")))])
    [Equation(parts=(Sym(role='Y'), Sym(role='X'), T(arg=Sym(role='W'))))]
    """
    out: list[Equation] = []
    for eq in equations:
        if (
            out
            and len(eq.parts) > 1
            and len(out[-1].parts) > 1
            and out[-1].parts[0] == eq.parts[0]
        ):
            out[-1] = Equation(*out[-1].parts, *eq.parts[1:])
        else:
            out.append(eq)
    return out


def flatten_product(node: Node) -> list[tuple[str, Node]]:
    """A product holding explicit matrices as (operator, factor) pairs: A · B · C."""
    if isinstance(node, Prod) and any(isinstance(a, Explicit) for a in node.args):
        return [(r"\cdot" if k else "", a) for k, a in enumerate(node.args)]
    return [("", node)]


def equation_latex(
    pieces: Sequence[tuple[str, Piece]],
    budget: float | None,
    overlays: Sequence[int | None] | None = None,
    overrun: float = LINE_OVERRUN,
) -> tuple[str, float, float]:
    """Lay out ``lhs = p1 = p2 …`` (pieces with their operators) within ``budget`` em.

    Everything on one line when it fits; else an ``aligned`` block with one line per
    part (greedily packed), a long row continuing on the next lines. ``overlays`` (Beamer)
    gives, per piece, the slide from which it is shown (``uncover<k->``), or None;
    ``overrun``: the line may be this much too wide (scaled down) before it breaks.
    Returns the LaTeX and its estimated width and height (em).
    """
    _, lhs = pieces[0]
    # (LaTeX, width with its operator, height, continues a row, operator) of each line
    flat: list[tuple[str, float, float, bool, str]] = []
    for k, (op, piece) in enumerate(pieces[1:], start=1):
        overlay = overlays[k] if overlays is not None else None
        per_line = piece.height / len(piece.lines)
        for j, (line, w) in enumerate(zip(piece.lines, piece.widths, strict=True)):
            op_j = "" if j else op
            text = f"{op_j}\n{line}" if op_j else line
            if overlay is not None:
                text = rf"\uncover<{overlay}->{{{{}}{text}}}"
            flat.append((text, w + (_OP_EM if op_j else 0.0), per_line, j > 0, op_j))

    one_width = lhs.width + sum(f[1] for f in flat)
    multi = any(len(p.lines) > 1 for _, p in pieces)
    # A line may run a little over the budget (\sdfit scales it slightly) rather than
    # break: one line scaled to 85 % reads better than two.
    limit = None if budget is None else budget / overrun
    if not multi and (limit is None or one_width <= limit):
        tex = " ".join([lhs.tex, *(f[0] for f in flat)])
        return tex, one_width, max(p.height for _, p in pieces)
    # [LaTeX, width, height] of each line; the alignment point & goes before the first
    # operator, a new line starts with & (indented after a product's \cdot, and under
    # the row's bracket where a row continues)
    lines: list[list[Any]] = [[lhs.tex, lhs.width, lhs.height]]
    started = False
    for text, add, h, cont, op in flat:
        last = lines[-1]
        if cont or (started and limit is not None and last[1] + add > limit):
            if cont:
                indent, extra = r"&\hphantom{{}=\bigl[{}}\; ", 2.0
            elif op == r"\cdot":
                indent, extra = r"&\quad ", 1.0
            else:
                indent, extra = "&", 0.0
            lines.append([indent + text, lhs.width + extra + add, h])
            continue
        last[0] += (" " if started else " &") + text
        last[1] += add
        last[2] = max(last[2], h)
        started = True
    tex = environment("aligned", (t for t, _, _ in lines))
    height = sum(h for _, _, h in lines) + 0.3 * (len(lines) - 1)
    return tex, max(w for _, w, _ in lines), height


def booktabs(spec: str, header: str, rows: Iterable[str]) -> str:
    """A booktabs table: its column ``spec``, ``header`` row and ``rows`` (each ending
    in a line break)."""
    lines = [r"\toprule", rf"{header} \\", r"\midrule", *rows, r"\bottomrule"]
    return environment("tabular", lines, "\n", f"{{{spec}}}")


def environment(
    name: str, rows: Iterable[str], sep: str = " \\\\\n", args: str = ""
) -> str:
    """``rows`` in the LaTeX environment ``name`` (with ``args``), each on its own source
    line, separated by ``sep`` (a line break)."""
    return f"\\begin{{{name}}}{args}\n" + sep.join(rows) + f"\n\\end{{{name}}}"


def _side_by_side(
    laid: Sequence[tuple[str, float, float]],
) -> tuple[str, float, float]:
    """Laid-out equations (LaTeX, width, height) on one line, 2 em apart: LaTeX, width and
    height of the line."""
    tex = r",\qquad ".join(t for t, _, _ in laid)
    width = sum(w for _, w, _ in laid) + 2.0 * (len(laid) - 1)
    return tex, width, max(h for _, _, h in laid)


# =============================================================================================
# Prose with marked maths, shapes under factors, the command line
# =============================================================================================
def prose_tex(prose: Prose, letters: Letters) -> str:
    """Prose from :mod:`symderiv.notes` as LaTeX: maths is maths because it is marked.

    Text is escaped, code set in ``\\texttt``, adjacent maths segments share one ``$…$``.
    """
    spans = prose_spans(prose, letters)
    return "".join(_SPAN_TEX[kind](content) for kind, content in spans)


_SPAN_TEX: dict[str, Callable[[str], str]] = {
    "text": latex_escape,
    "math": lambda tex: f"${tex}$",
    "code": lambda code: rf"\texttt{{{latex_escape(code)}}}",
}


def pdf_string(text: str) -> str:
    """Unicode text for a PDF string (a bookmark, the PDF's title): TeX's special
    characters escaped, the rest left to hyperref's Unicode strings.

    >>> print(pdf_string("Z = A·Wᵀ + 1_N·bᵀ"))
    Z = A·Wᵀ + 1\\_N·bᵀ
    """
    specials = {
        "\\": r"\textbackslash{}",
        "^": r"\textasciicircum{}",
        "~": r"\textasciitilde{}",
        **{ch: "\\" + ch for ch in "#$%&_{}"},
    }
    return "".join(specials.get(ch, ch) for ch in text)


def pdf_title(text: str) -> str:
    """A preamble line that sets the PDF's title (pdflatex, without hyperref): the text
    in UTF-16 as PDF strings want it, so "Y = X·W + 1_N·b" reads as written."""
    hex_text = "FEFF" + text.encode("utf-16-be").hex().upper()
    return rf"\ifdefined\pdfinfo\pdfinfo{{/Title <{hex_text}>}}\fi"


def prose_spans(prose: Prose, letters: Letters) -> list[Segment]:
    """Prose as (kind, content) spans: text, math (TeX) and code; adjacent maths merged."""
    out: list[Segment] = []
    for seg in prose:
        if isinstance(seg, str):
            span = ("text", seg)
        elif isinstance(seg, M):
            span = ("math", seg.latex)
        elif isinstance(seg, CodeSpan):
            span = ("code", seg.text)
        else:
            span = ("math", formula_latex(seg.node, letters))
        if not span[1]:
            continue
        if out and out[-1][0] == span[0] == "math":
            out[-1] = ("math", out[-1][1] + span[1])
        else:
            out.append(span)
    return out


def shapes_latex(node: Node, config: Config) -> str | None:
    """A closed form with each factor's shape underneath: X^T (D×N) · dY (N×M).

    Returns None when the formula is not a plain product of named matrices.
    """
    if not isinstance(node, Prod):
        return None
    parts: list[str] = []
    for a in node.args:
        if not isinstance(a, (Sym, T, Ones, Eye)):
            return None
        of = shape(a, config.conv.shapes)
        assert of is not None
        names = of.names(config.letters.sizes)
        tex = formula_latex(a, config.letters)
        label = rf"{size_latex(names[0])}\times {size_latex(names[1])}"
        parts.append(rf"\underbrace{{{tex}}}_{{{label}}}")
    return r" \, ".join(parts)


# =============================================================================================
# Equations laid out in TeX (shared by the article, the slides and Markdown)
# =============================================================================================
#: The packages a fragment (``standalone=False``, e.g. ``_repr_latex_``) needs: its
#: header comment names them, so that it can be pasted into any document.
FRAGMENT_PACKAGES = ("amsmath", "amssymb", "graphicx", "array", "booktabs")


@dataclass(frozen=True)
class TexLayout:
    """Equations of a derivation laid out as TeX within a width (em).

    ``portable``: MathJax-friendly (Markdown); ``width_em``: a display line's width;
    ``share_width``: equations narrower than this share of the line may share one;
    ``slide_entries``: at most this many rows and columns per matrix (slides);
    ``join_width``: the widest line equations share (None: 2.2 shares);
    ``overrun``: an equation breaks into lines only when wider than width/overrun.
    """

    letters: Letters
    _: KW_ONLY
    max_entries: int
    max_terms: int
    upstream: str
    portable: bool
    width_em: float
    share_width: float
    slide_entries: int | None = None
    join_width: float | None = None
    overrun: float = LINE_OVERRUN

    def style(self, kind: StepKind | None) -> MatrixStyle:
        """Matrix style: upstream entries as \\bar y outside definitions; on slides fewer
        rows and columns, and a row over at most three lines."""
        slides = self.slide_entries
        return MatrixStyle(
            max_entries=min(self.max_entries, slides or self.max_entries),
            max_terms=self.max_terms,
            upstream="frac" if kind is StepKind.DEFINE else self.upstream,
            portable=self.portable,
            budget=self.width_em,
            row_lines=4 if slides is None else 3,
        )

    def part(self, node: Node, style: MatrixStyle, budget: float | None) -> Piece:
        """One side of an equation as a Piece."""
        if isinstance(node, Explicit) and node.scalar:
            cell = latex_entry(
                node.matrix[0, 0],
                self.letters,
                max_terms=style.max_terms,
                upstream=style.upstream,
            )
            return Piece([cell.tex], [cell.width], 2.4 if cell.tall else 1.2)
        if isinstance(node, Explicit):
            matrix = node.matrix
            assert isinstance(matrix, PolyMatrix)
            if (
                matrix.cols == 1
                and matrix.rows > 1
                and matrix.nnz() == matrix.rows
                and all(p.is_atom() for p in matrix.entries.values())
            ):
                # A column of names reads as well as a transposed row and takes one line;
                # a row too long for the line comes back as a transposed column, and then
                # the column itself is the same picture without a double transpose.
                row = matrix_piece(matrix.T, self.letters, style, budget=budget)
                if not row.transposed:
                    row.lines[-1] += "^{T}"
                    row.widths[-1] += 0.5
                    return row
            return matrix_piece(matrix, self.letters, style, node.blocks, budget=budget)
        if isinstance(node, Expr):
            tex = sympy_latex(node.expr, self.letters)
            height = 1.3 * (tex.count("\\\\") + 1)
        else:
            tex = formula_latex(
                node, self.letters, leaf=lambda leaf: self.part(leaf, style, None).tex
            )
            height = 2.4 if r"\frac" in tex else 1.2
        width = max(tex_width(line) for line in tex.split("\\\\"))
        return Piece([tex], [width], height)

    def pieces(
        self,
        parts: Sequence[Node],
        style: MatrixStyle,
        budget: float | None,
        marks: Mapping[tuple[int, int], Callable[[int, int, str], str]] | None = None,
    ) -> list[tuple[str, Piece]]:
        """The parts of an equation as Pieces after their operators: = between parts, ·
        between the factors of a product of explicit matrices (the entries of factor j
        of part k decorated by ``marks[k, j]``, where there is one)."""
        marks = marks or {}
        return [
            (
                op if j else ("=" if k else ""),
                self.part(factor, replace(style, mark=marks.get((k, j))), budget),
            )
            for k, node in enumerate(parts)
            for j, (op, factor) in enumerate(flatten_product(node))
        ]

    def equation(self, eq: Equation, style: MatrixStyle) -> tuple[str, float, float]:
        """One Equation laid out within the line: LaTeX, width and height (em)."""
        pieces = self.pieces(eq.parts, style, self.width_em * 0.9)
        return equation_latex(pieces, self.width_em, overrun=self.overrun)

    def display_lines(
        self, equations: Iterable[Equation], kind: StepKind | None, group: int = 1
    ) -> list[tuple[str, float, float]]:
        """Equations as display lines: (LaTeX, estimated width, estimated height), in em.

        Equations with the same left side are chained; short ones share a line. With
        ``group`` > 1 the equations come in runs of that many (see ``page.Display``), and
        a run is never split over two lines.
        """
        style = self.style(kind)
        eqs = list(equations)
        runs = (
            [eqs[k : k + group] for k in range(0, len(eqs), group)]
            if group > 1
            else [[eq] for eq in merge_equations(eqs)]
        )
        share = self.width_em * self.share_width
        join = share * 2.2 if self.join_width is None else self.join_width
        lines: list[tuple[str, float, float]] = []
        shared = False  # may the next run join lines[-1]?
        for run in runs:
            line = _side_by_side(self.run(run, style))
            alone = "\\begin{aligned}" in line[0] or line[1] > share
            if shared and not alone and lines[-1][1] + 2.0 + line[1] <= join:
                lines[-1] = _side_by_side([lines[-1], line])
            else:
                lines.append(line)
            shared = not alone
        return lines

    def run(
        self, run: Sequence[Equation], style: MatrixStyle
    ) -> list[tuple[str, float, float]]:
        """A run of equations that stays on one line (a slice ∂Y/∂x_kl beside its
        contraction ∂L/∂x_kl), each laid out as by :meth:`equation`.

        A run wider than width/RUN_SCALE together would be shrunk (a 12×10 slice beside
        its sum was set at 62 %, its subscripts at 5 pt): it shows fewer rows and columns
        (down to five) and then fewer terms (down to three), for display only, until it
        fits."""
        laid = [self.equation(eq, style) for eq in run]
        if len(run) < 2:
            return laid
        while _side_by_side(laid)[1] > self.width_em / RUN_SCALE:
            if style.max_entries > 5:
                style = replace(style, max_entries=style.max_entries - 1)
            elif style.max_terms > 3:
                style = replace(style, max_terms=style.max_terms - 1)
            else:
                break
            laid = [self.equation(eq, style) for eq in run]
        return laid

    def boxes(self, equations: Iterable[Equation]) -> list[tuple[str, float]]:
        """Formulas to keep, each boxed, with its width (em)."""
        style = self.style(StepKind.RESULT)
        laid = (self.equation(eq, style) for eq in equations)
        return [(rf"\boxed{{{tex}}}", width) for tex, width, _ in laid]

    def boxed(self, equations: Iterable[Equation]) -> str:
        """Formulas to keep, each boxed: in a row, or one per line past three."""
        lines = [tex for tex, _ in self.boxes(equations)]
        if len(lines) > 3:
            return environment("gathered", lines)
        return r" \qquad ".join(lines)

    def entry_terms(self, block: EntrySum) -> tuple[str, list[str]]:
        """The left side ∂L/∂v₁ and each term ȳ_r·J[r, 0] of an entry written out."""
        upstream = self.style(StepKind.CHAIN).upstream
        lhs = rf"\frac{{\partial L}}{{\partial {latex_name(block.atom, self.letters)}}}"
        terms = [
            latex_entry(u * v, self.letters, upstream=upstream, max_terms=10**6).tex
            for u, v in block.terms
        ]
        return lhs, terms

    def entry_sum(self, block: EntrySum) -> str:
        """∂L/∂v₁ = ȳ₁·w₁ + …, broken at + signs when it is wider than the line."""
        lhs, terms = self.entry_terms(block)
        if block.hidden and terms:  # elided in the page model: + ⋯ + the last term
            terms.insert(len(terms) - 1, r"\cdots")
        first, *rest = terms or ["0"]
        width = tex_width(lhs) + 1.5 + tex_width(first)
        pieces = [("", Piece([f"{lhs} = {first}"], [width], 2.4))]
        for t in rest:
            sign, body = ("-", t[1:]) if t.startswith("-") else ("+", t)
            pieces.append((sign, Piece([body], [tex_width(body)])))
        if not rest:
            return pieces[0][1].tex
        return equation_latex(pieces, self.width_em)[0]

    def closed_shapes(self, block: ClosedShapes, config: Config) -> str:
        """Each closed form with the shapes of its factors underneath, and its shape."""
        rows = []
        for item in block.items:
            shapes = shapes_latex(item.closed, config)
            if shapes is None:
                continue
            r, col = item.shape
            var = formula_latex(Sym(item.var), self.letters)
            target = f"{var}^{{T}}" if config.layout == "numerator" else var
            rows.append(
                rf"\frac{{\partial L}}{{\partial {var}}} &= {shapes}"
                rf" &&\text{{is }} {r} \times {col}\text{{, like }} {target}"
            )
        if not rows:
            return ""
        return "\\begin{aligned}\n" + ", \\\\\n".join(rows) + ".\n\\end{aligned}"


# =============================================================================================
# The article
# =============================================================================================
@dataclass(frozen=True)
class LatexSettings:
    """Settings of the article: standalone document or fragment, elision, pictures."""

    standalone: bool = True
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_terms: int = DEFAULT_MAX_TERMS
    upstream: str = "bar"
    sparsity: bool | None = None
    paper: str = "a4"
    #: the printer that errors name
    printer: ClassVar[str] = "latex"

    def __post_init__(self) -> None:
        positive("max_entries", self.max_entries, self.printer)
        positive("max_terms", self.max_terms, self.printer)
        one_of("upstream", self.upstream, ("bar", "frac"), self.printer)
        one_of("paper", self.paper, ("a4", "letter"), self.printer)


class LatexPrinter(PagePrinter[str, Any]):
    """The article: a section per part, a numbered subsection per step."""

    name = "latex"
    settings_type: ClassVar[type[Any]] = LatexSettings
    #: Width of a display line (em) before eliding more.
    width_em = ARTICLE_WIDTH_EM
    #: Equations narrower than this share of the line may share a display line.
    share_width = 0.45
    #: At most this many rows and columns per matrix (None: the max_entries setting).
    slide_entries: int | None = None
    #: The height limit of the closed forms' shapes (None: \sdfit's default).
    shapes_height: str | None = None
    #: The widest line the equations of a display share (None: TexLayout's default).
    join_width: float | None = None

    def bind(self, config: Config) -> None:
        super().bind(config)
        s = self.settings
        self.tex = TexLayout(
            config.letters,
            max_entries=s.max_entries,
            max_terms=s.max_terms,
            upstream=s.upstream,
            portable=False,
            width_em=self.width_em,
            share_width=self.share_width,
            slide_entries=self.slide_entries,
        )

    @property
    def pictures(self) -> bool:
        """Sparsity pictures: as the setting says, by default in a standalone document."""
        value = self.settings.sparsity
        return bool(self.settings.standalone if value is None else value)

    def text(self, prose: Prose) -> str:
        return prose_tex(prose, self.letters)

    def sentence(self, text: str | Prose) -> str:
        """A sentence of the engine: marked prose, or plain words with no maths."""
        return self.text((text,) if isinstance(text, str) else text)

    def show(self, tex: str, height: str | None = None) -> str:
        """A display line, scaled down only if it would not fit."""
        opt = f"[{height}]" if height else ""
        return f"\\[\n\\sdfit{opt}{{%\n{tex}\n}}\n\\]"

    def empty(self) -> str:
        return ""

    def join(self, blocks: Iterable[Block]) -> str:
        return "\n".join(out for out in self.blocks(blocks) if out)

    def plain(self, prose: Prose) -> str:
        """Prose as Unicode words, for the PDF's metadata and bookmarks."""
        return prose_plain(prose, self.letters)

    def heading_tex(self, prose: Prose) -> str:
        """Prose for a title or section name: with maths, ``\\texorpdfstring`` gives
        hyperref the Unicode words for the PDF's bookmarks and title (no "Token not
        allowed")."""
        tex = self.text(prose)
        if "$" not in tex and "\\" not in tex:
            return tex
        return rf"\texorpdfstring{{{tex}}}{{{pdf_string(self.plain(prose))}}}"

    # -- the blocks ------------------------------------------------------------------------
    def subtitle(self, block: PageTitle, text: Callable[[Prose], str]) -> str:
        """The sizes and the settings (the last, the command, is left out), by ``text``."""
        sizes, *rest = block.settings
        return f"{text(sizes)}; " + ", ".join(text(p) for p in rest[:-1])

    def page_title(self, block: PageTitle) -> str:
        if self.settings.standalone:
            return "\\maketitle\n"  # the title itself is set in the preamble
        subtitle = self.subtitle(block, self.text)
        return f"\\section*{{{self.text(block.title)}}}\n{subtitle}\n"

    def section(self, block: Section | Remarks | Background) -> str:
        return f"\\section{{{self.text(block.title)}}}\n" + self.join(block.blocks)

    def remarks(self, block: Remarks) -> str:
        return self.section(block)

    def background(self, block: Background) -> str:
        return "\\appendix\n" + self.section(block)

    def step_group(self, block: StepGroup) -> str:
        step = block.step
        parts = [
            f"\\setcounter{{subsection}}{{{block.number - 1}}}",
            f"\\subsection{{{self.sentence(step.title)}}}",
            f"\\label{{step:{re.sub(r'[^A-Za-z0-9]', '-', step.id)}}}",
            self.join(block.blocks),
        ]
        return "\n".join(p for p in parts if p) + "\n"

    def heading(self, block: Heading) -> str:
        command = {Level.PAGE: "section*", Level.PART: "subsection*"}
        return f"\\{command.get(block.level, 'paragraph')}{{{self.text(block.title)}}}"

    def display(self, block: Display) -> str:
        if block.boxed:
            return self.show(self.tex.boxed(block.equations))
        layout = replace(self.tex, join_width=self.join_width)
        lines = layout.display_lines(block.equations, block.kind, block.group)
        return "\n".join(self.show(tex) for tex, _, _ in lines)

    def formula(self, block: Formula) -> str:
        return self.show(block.math.tex)

    def note(self, block: Note) -> str:
        return self.text(block.prose) + "\n"

    def items(self, block: Items) -> str:
        # An explicit label: the default text bullet needs fonts (TS1) that
        # texlive-latex-base does not have as outlines.
        bullets = (f"\\item[$\\bullet$] {self.text(i)}" for i in block.items)
        return environment("itemize", bullets, "\n")

    def notation(self, block: Notation) -> str:
        if self.settings.upstream != "bar":
            return ""
        math = self.show(block.math.tex)
        return f"{self.text(block.before)}\n{math}\n{self.text(block.after)}"

    def entry_sum(self, block: EntrySum) -> str:
        lines = [self.text(block.title), self.show(self.tex.entry_sum(block))]
        if block.hidden:
            lines.append(self.text(notes.entry_hidden(block.hidden)))
        if block.zeros:
            lines.append(self.text(notes.entry_zeros(block.zeros)))
        return "\n".join(lines)

    def shape_ledger(self, block: ShapeLedger) -> str:
        return ""  # omitted (page.OMITTED)

    def closed_shapes(self, block: ClosedShapes) -> str:
        tex = self.tex.closed_shapes(block, self.config)
        return self.show(tex, self.shapes_height) if tex else ""

    def sparsity(self, block: Sparsity) -> str:
        if not self.pictures:
            return ""
        pic = latex_sparsity(
            block.matrix, block.blocks, size_cm=self.picture_cm(block.matrix)
        )
        return self.figure(pic, self.text(block.caption))

    def figure(self, picture: str, caption: str) -> str:
        """A TikZ picture with its caption, never parted at a page break."""
        return (
            "\\begin{center}\n\\begin{minipage}{0.85\\linewidth}\\centering\n"
            f"{picture}\n\\par\\smallskip\n{{\\small {caption}\\par}}\n"
            "\\end{minipage}\n\\end{center}"
        )

    def picture_cm(self, matrix: PolyMatrix) -> float:
        rows, cols = matrix.shape
        return 7.0 if max(rows, cols) > 12 else 0.45 * max(rows, cols)

    def code_table(self, lines: Iterable[str]) -> str:
        texts = (rf"\texttt{{{latex_escape(c)}}}" for c in lines)
        return environment("tabular", texts, args="{@{}l@{}}")

    def kept(self, intro: Prose, table: str) -> str:
        """A sentence and its table (or code) in a minipage: they stay on one page."""
        return (
            f"\\noindent\\begin{{minipage}}{{\\linewidth}}\n{self.text(intro)}\n"
            f"\\begin{{center}}\n{table}\n\\end{{center}}\n\\end{{minipage}}"
        )

    def code(self, block: Code) -> str:
        return "\\par\\medskip" + self.kept(block.intro, self.code_table(block.lines))

    def certificate(self, block: CertificateTable) -> str:
        rows = []
        for check in block.checks:
            mark = r"\sdyes" if check.passed else r"\sdno"
            var = formula_latex(Sym(check.wrt), self.letters)
            rows.append(
                f"${var}$ & {self.text(notes.claim(check.claim))} & {mark} & "
                f"{self.sentence(check.detail)} \\\\"
            )
        verdict = (
            self.text(notes.VERIFIED)
            if block.verified
            else r"\textbf{Verification failed} (see \sdno{} above): a result is wrong."
        )
        ragged = r">{\raggedright\arraybackslash}p"
        table = booktabs(
            rf"@{{}}c {ragged}{{0.3\linewidth}} c {ragged}{{0.45\linewidth}}@{{}}",
            "variable & claim & & how it was checked",
            rows,
        )
        # The sentence and the table in one box: the heading, which LaTeX keeps with
        # the paragraph after it, then never stays alone at the foot of a page while
        # the table (a box that cannot break) moves on to the next. A certificate split
        # over several tables is one section; the verdict follows the last table.
        heading = (
            "\\par\\medskip\n"
            if block.continued
            else f"\\section{{{self.text(notes.CERTIFICATE)}}}\n"
        )
        end = "" if block.continues else f"\\par\\medskip\n{verdict}\n"
        return f"{heading}{self.kept(block.intro, table)}\n{end}"

    def cell(self, cell: TableCell) -> str:
        mark = "" if cell.passed is None else (r" \sdyes" if cell.passed else r" \sdno")
        return self.text(cell.prose + cell.aside) + mark

    def table(self, block: Table) -> str:
        """A booktabs table under its heading, scaled down only if it is too wide."""
        rows: list[str] = []
        for g, group in enumerate(block.groups):
            rows += [r"\midrule"] if g else []
            rows += [" & ".join(self.cell(c) for c in row) + r" \\" for row in group]
        header = " & ".join(self.text(h) for h in block.header)
        table = booktabs(f"@{{}}{'l' * len(block.header)}@{{}}", header, rows)
        heading = self.heading(Heading(block.title, Level.PART))
        return f"{heading}\n\\begin{{center}}\n\\sdfit{{{table}}}\n\\end{{center}}"

    def verdict(self, block: Verdict) -> str:
        return f"\\textbf{{{self.text(block.prose)}}}\n"

    def api_check(self, block: ApiCheck) -> str:
        return ""  # omitted (page.OMITTED)

    # -- the document ----------------------------------------------------------------------
    def render(self, d: Derivation) -> str:
        """The whole document (or the fragment, when ``standalone`` is False)."""
        blocks = page_of(d, self.settings.max_entries)
        title = blocks[0]
        assert isinstance(title, PageTitle)
        self.bind(title.config)
        return self.document(title, self.join(blocks))

    def document(self, title: PageTitle, body: str) -> str:
        """The document around the body of the page."""
        cols = max_matrix_cols(body)
        head = (
            f"% Generated by symderiv {__version__}: {title.command}\n"
            "% Compile with pdflatex (twice for references).\n"
        )
        if not self.settings.standalone:
            packages = ",".join(
                FRAGMENT_PACKAGES + (("tikz",) if self.pictures else ())
            )
            return (
                f"{head}% A fragment: needs \\usepackage{{{packages}}}.\n"
                f"\\setcounter{{MaxMatrixCols}}{{{max(10, cols)}}}\n"
                f"{latex_macros(colors=self.pictures)}\n{body}\n"
            )
        paper = "a4paper" if self.settings.paper == "a4" else "letterpaper"
        preamble = latex_preamble(
            options=f"11pt,{paper}",
            max_matrix_cols=cols,
            extra=[
                r"\renewcommand{\thesubsection}{Step \arabic{subsection}}",
                r"\setlength{\parindent}{0pt}",
                r"\renewcommand{\arraystretch}{1.15}",
                r"\setlength{\parskip}{0.6ex plus 0.3ex}",
                r"\allowdisplaybreaks",
                r"\emergencystretch=2em",
                # The subtitle goes with the title, which may wrap (\author may not).
                f"\\title{{{self.text(title.title)}\\\\[1.5ex]\\large "
                f"{self.subtitle(title, self.text)}}}",
                f"\\author{{Derived and verified by symderiv {__version__}}}",
                r"\date{}",
                pdf_title(self.plain(title.title)),
            ],
        )
        return head + preamble + "\n\\begin{document}\n" + body + "\n\\end{document}\n"


def render_latex(derivation: Derivation, **settings: Any) -> str:
    """The derivation as a LaTeX article (``standalone=False``: a fragment to \\input).

    Settings: standalone (True), max_entries (12), max_terms (6), upstream ("bar" or
    "frac"), sparsity (pictures; default: as standalone), paper ("a4" or "letter").
    """
    return LatexPrinter(**settings).render(derivation)


__all__ = [
    "Cell",
    "LatexPrinter",
    "LatexSettings",
    "MatrixStyle",
    "Piece",
    "TexLayout",
    "equation_latex",
    "flatten_product",
    "merge_equations",
    "latex_entry",
    "latex_escape",
    "latex_macros",
    "latex_matrix",
    "latex_preamble",
    "latex_sparsity",
    "matrix_piece",
    "max_matrix_cols",
    "prose_tex",
    "shapes_latex",
    "shown_indices",
    "sympy_latex",
    "tex_width",
]
