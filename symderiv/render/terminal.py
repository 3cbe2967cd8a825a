"""The terminal view: a Rich renderable that yields every step of a derivation.

Matrices are drawn from sympy's Unicode pretty printer, one cell at a time, inside
``rich.text.Text`` objects (never markup, so ``[`` and ``]`` are never eaten). Zeros of a
Jacobian are dimmed and its Kronecker blocks are separated by thin rules. Big matrices
and long entries are elided with ⋯ ⋮ ⋱ for display only; the maths stays exact. A matrix
is never folded: when it is wider than the console, fewer columns are shown (a long row
vector is drawn as a column with ᵀ instead).

For the lecture hall each step also gets a dim "shapes" line (the shape of every object
in the step, with the dimension check of each product), and each chain-rule step writes
one entry of J_L = J_f·J_y out as a sum. Colour carries meaning: upstream derivatives
∂L/∂y are cyan wherever they appear, the nonzero entries of a Jacobian (those that survive
the Kronecker delta) are magenta and its zeros dim. Colour is only style: the plain-text
view (``render_text``, NO_COLOR) shows exactly the same characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass, replace
from functools import lru_cache
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.constrain import Constrain
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from .. import notes
from ..algebra import Poly, PolyMatrix
from ..conventions import Letters
from ..notation import Deriv, Equation, Explicit, Expr, Node, Prod
from ..notes import Prose
from ..steps import Derivation, StepKind
from .base import (
    DEFAULT_MAX_ENTRIES,
    TERMINAL_MAX_TERMS,
    PagePrinter,
    entry_terms,
    make_settings,
    positive,
)
from .formula import formula_text, prose_plain, shape_text
from .names import MACRON, renamed, unicode_name, unicode_symbol
from .page import (
    ApiCheck,
    Background,
    Block,
    CertificateTable,
    ClosedShapes,
    Code,
    Dims,
    Display,
    EntrySum,
    Formula,
    Heading,
    Items,
    Notation,
    Note,
    PageTitle,
    Remarks,
    Section,
    Shape,
    ShapeLedger,
    Sparsity,
    StepGroup,
    TableCell,
    Verdict,
    block_rules,
    page_of,
    shown_indices,
)
from .page import Table as TableBlock
from .pretty import pretty_poly, text_width, unicode_namer

#: Notes (prose) wrap at this width on wide terminals.
NOTE_WIDTH = 100

STYLE_ZERO = "dim"
STYLE_UPSTREAM = "cyan"
STYLE_NONZERO = "magenta"
STYLE_SHAPE = "dim italic"
STYLE_RULE = "dim"
STYLE_TITLE = "bold"
_STYLE_PASSED = {True: "bold green", False: "bold red"}


# -- blocks of lines -------------------------------------------------------------------------
def width_of(line: Text) -> int:
    """Cells taken by ``line``: its length when every character is one cell wide."""
    return text_width(line.plain)


@dataclass
class TBlock:
    """A rectangle of styled lines; ``mid`` is the line where ``=`` signs go."""

    lines: list[Text]
    mid: int

    @property
    def width(self) -> int:
        return max((width_of(ln) for ln in self.lines), default=0)

    @staticmethod
    def of(text: str, style: str = "") -> TBlock:
        lines = [Text(s, style=style) for s in text.split("\n")]
        return TBlock(lines, len(lines) // 2)


def hjoin(blocks: list[TBlock], sep: str = " ") -> TBlock:
    """Side by side, aligned on their middle lines."""
    above = max(b.mid for b in blocks)
    below = max(len(b.lines) - b.mid for b in blocks)
    lines = [Text() for _ in range(above + below)]
    for k, b in enumerate(blocks):
        top = above - b.mid
        w = b.width
        for r in range(above + below):
            src = r - top
            piece = b.lines[src].copy() if 0 <= src < len(b.lines) else Text()
            piece.pad_right(w - width_of(piece))
            if k:
                lines[r].append(sep if r == above else " " * len(sep))
            lines[r].append_text(piece)
    for ln in lines:
        ln.rstrip()
    return TBlock(lines, above)


def indent(block: TBlock, prefix: str) -> TBlock:
    """``prefix`` before the middle line, spaces before the others."""
    lines = [
        Text.assemble(prefix if r == block.mid else " " * len(prefix), ln)
        for r, ln in enumerate(block.lines)
    ]
    return TBlock(lines, block.mid)


# -- cells -------------------------------------------------------------------------------------
@lru_cache(maxsize=32768)
def _pretty(expr: Any) -> str:
    import sympy as sp

    return str(sp.pretty(expr, use_unicode=True, wrap_line=False, order="none"))


def cell_text(
    poly: Poly, letters: Letters, max_terms: int, compact: int = 0, least: int = 2
) -> str:
    """One entry, printed by sympy's pretty printer (elided past ``max_terms`` terms
    where that hides ``least`` terms or more, :func:`~.base.entry_terms`).

    ``compact`` 1: products without the dot, x₁,₁w₁,₁; 2: also sums without spaces,
    x₁,₁w₁,₁+x₁,₂w₂,₁+b₁ (only where no ∂L/∂y fraction is in the entry, so that
    nothing reads ambiguously).
    """
    # the minus sign, as in the prose (sympy's pretty printer writes a hyphen)
    text = _cell_text(poly, letters, max_terms, least).replace("-", "−")
    if compact and "∂" not in text and "\n" not in text:
        text = text.replace("⋅", "")
        if compact > 1:
            text = text.replace(" + ", "+").replace(" − ", "−")
    return text


def _cell_text(poly: Poly, letters: Letters, max_terms: int, least: int) -> str:
    if poly.is_atom():
        return unicode_name(next(iter(poly.terms))[0], letters)
    shown = entry_terms(len(poly), max_terms, least)
    if None in shown:
        items = list(poly.terms.items())
        cut = shown.index(None)
        left = _pretty_poly(Poly(dict(items[:cut])), letters)
        if cut == len(shown) - 1 or "\n" in left:
            return f"{left} + ⋯"
        right = _pretty_poly(Poly(dict(items[-1:])), letters)
        sign = " - " if right.startswith("-") else " + "
        return f"{left} + ⋯{sign}{right.lstrip('-')}"
    return _pretty_poly(poly, letters)


def _pretty_poly(poly: Poly, letters: Letters) -> str:
    """``poly`` as sympy's pretty printer draws it, built without sympy when possible."""
    text = pretty_poly(poly, unicode_namer(letters))
    if text is None:
        text = _pretty(poly.to_display(lambda a: unicode_symbol(a, letters)))
    return text


#: An upstream derivative as printed: ∂L/∂y₁,₂ (any letters, subscripts with commas).
_UPSTREAM_RE = re.compile(r"∂L/∂[^\W\d_]+[₀-₉]+(?:,[₀-₉]+)*")


def _cell_style(poly: Poly, jacobian: bool = False) -> str:
    """Dim zeros; in a Jacobian, colour the nonzeros (what survives the Kronecker delta)."""
    return STYLE_ZERO if poly.is_zero() else STYLE_NONZERO if jacobian else ""


def styled(text: str, style: str = "") -> Text:
    """``text`` in ``style``, with every upstream derivative ∂L/∂y in cyan."""
    out = Text(text, style=style)
    if "∂L/∂" in text:
        out.highlight_regex(_UPSTREAM_RE, STYLE_UPSTREAM)
    return out


#: A cell that is a whole number (the numeric companion of --values).
_NUMBER = re.compile(r"[-−]?[0-9]+")


def _grid(
    matrix: PolyMatrix,
    letters: Letters,
    rows_shown: list[int | None],
    cols_shown: list[int | None],
    max_terms: int,
    blocks: tuple[int, int] | None,
    shape: bool,
    compact: int,
    least: int,
    memo: dict[tuple[Any, ...], list[str]],
    fit: int | None = None,
    per_line: int = 0,
) -> TBlock | None:
    """The matrix in brackets, the rows and columns shown, each entry elided past
    ``max_terms`` terms where that hides ``least`` or more (:func:`cell_text`).

    ``per_line``: each entry's sum broken after that many terms, its lines left-aligned
    and the rows apart (:func:`wrap_terms`); 0 keeps every entry on one line.
    None when it would be wider than ``fit`` (measured before any line is drawn), or,
    broken, an entry would take more than :data:`MOST_LINES` lines;
    ``memo`` keeps the cells' texts between tries of one matrix.
    """

    def cell(i: int | None, j: int | None) -> tuple[list[str], str]:
        """The lines of one cell (a fraction takes three) and its style."""
        if i is None or j is None:  # an ellipsis: ⋱ where both are
            return ["⋱" if i == j else "⋮" if i is None else "⋯"], ""
        p = matrix[i, j]
        key = (i, j, letters, max_terms, compact, least)
        if key not in memo:
            memo[key] = cell_text(p, letters, max_terms, compact, least).split("\n")
        return memo[key], _cell_style(p, jacobian=blocks is not None)

    cells = [[cell(i, j) for j in cols_shown] for i in rows_shown]
    # Numbers (--values), right-aligned as a column of figures (their first line only).
    numeric = [
        all(_NUMBER.fullmatch(lines[0]) or lines[0] in "⋮⋯⋱" for lines, _ in column)
        for column in zip(*cells, strict=True)
    ]
    cells = [
        [
            (
                lines[:1]
                if num
                else wrap_terms(lines[0], per_line)
                if per_line and len(lines) == 1
                else lines,
                style,
            )
            for num, (lines, style) in zip(numeric, row, strict=True)
        ]
        for row in cells
    ]
    if per_line and any(len(c[0]) > MOST_LINES for row in cells for c in row):
        return None
    # cells, not characters: z̄'s combining macron takes none
    widths = [
        max(text_width(s) for lines, _ in column for s in lines)
        for column in zip(*cells, strict=True)
    ]
    vsep, hsep = block_rules(rows_shown, cols_shown, blocks, matrix.shape)
    label = f" ({shape_text(matrix.shape)})" if shape else ""
    width = sum(widths) + sum(3 if v else 2 for v in vsep[1:]) + 2 + len(label)
    if fit is not None and width > fit:
        return None
    body: list[Text] = []
    for r, row in enumerate(cells):
        if per_line and r and not hsep[r]:
            body.append(Text(" " * (width - 2 - len(label))))  # rows apart
        if hsep[r]:
            line = Text()
            for c, w in enumerate(widths):
                if c:
                    line.append("─┼─" if vsep[c] else "──", style=STYLE_RULE)
                line.append("─" * w, style=STYLE_RULE)
            body.append(line)
        height = max(len(cell[0]) for cell in row)
        for h in range(height):
            line = Text()
            for c, (cell_lines, style) in enumerate(row):
                if c:
                    line.append(
                        " │ " if vsep[c] else "  ", style=STYLE_RULE if vsep[c] else ""
                    )
                top = 0 if per_line else (height - len(cell_lines)) // 2
                k = h - top
                s = cell_lines[k] if 0 <= k < len(cell_lines) else ""
                pad = widths[c] - text_width(s)
                before = (
                    pad
                    if numeric[c] and s not in "⋮⋯⋱"
                    else 0
                    if per_line
                    else pad // 2
                )
                line.append(" " * before)
                line.append_text(styled(s, style))
                line.append(" " * (pad - before))
            body.append(line)
    # brackets around the lines (each as wide: every cell is padded to its column)
    n = len(body)
    out: list[Text] = []
    for k, ln in enumerate(body):
        left, right = (
            "[]" if n == 1 else "⎡⎤" if k == 0 else "⎣⎦" if k == n - 1 else "⎢⎥"
        )
        out.append(Text.assemble(left, ln, right))
    block = TBlock(out, n // 2)
    return labelled(block, matrix.shape) if shape else block


#: An entry broken over more lines would make a matrix taller than it is worth: past
#: that, entries are left out (⋯) to fit the width, as they always were.
MOST_LINES = 2
#: Where an entry's sum may break: before the sign of a term ("a + b − c").
_TERM_BREAK = re.compile(r" (?=[+−] )")


def wrap_terms(text: str, per_line: int) -> list[str]:
    """An entry's sum over lines of ``per_line`` terms, each line after the first
    indented and starting with its sign, as a long sum is continued by hand.

    >>> wrap_terms("a + b − c + d", 2)
    ['a + b', '  − c + d']
    """
    terms = _TERM_BREAK.split(text)
    lines = [" ".join(terms[k : k + per_line]) for k in range(0, len(terms), per_line)]
    return lines[:1] + [f"  {line}" for line in lines[1:]]


def labelled(block: TBlock, shape: tuple[int, int]) -> TBlock:
    """``block`` with its shape, "(2×3)", dim beside it."""
    return hjoin([block, TBlock.of(f"({shape_text(shape)})", STYLE_SHAPE)], " ")


# -- prose ---------------------------------------------------------------------------------------


def prose_held(prose: Prose, letters: Letters) -> str:
    """:func:`prose_plain` with the spaces inside maths :data:`HOLD` (kept on one line
    while :class:`KeptText` wraps the prose)."""
    return "".join(
        seg if isinstance(seg, str) else prose_plain((seg,), letters).replace(" ", HOLD)
        for seg in prose
    )


#: A space inside an inline formula while prose is wrapped (one cell, not whitespace,
#: so Rich never breaks ``Y = X·W + 1_N·b`` after its ``+``); a space again when shown.
HOLD = "\ue000"


class KeptText:
    """Prose wrapped at spaces between words only, never inside an inline formula: the
    formula's spaces are :data:`HOLD` in ``text`` and become spaces again when shown."""

    def __init__(
        self, text: str | Text, style: str = "", width: int = NOTE_WIDTH
    ) -> None:
        self.text = text if isinstance(text, Text) else Text(text, style=style)
        self.width = width

    def __rich_console__(self, console: Any, options: Any) -> Any:
        width = max(1, min(options.max_width, self.width))
        for line in self.text.wrap(console, width):
            line.rstrip()  # the space a line broke at
            yield Text(
                line.plain.replace(HOLD, " "),
                style=line.style,
                spans=list(line.spans),
                end="\n",
            )

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.cells import cell_len
        from rich.measure import Measurement

        plain = self.text.plain
        longest = max((cell_len(w) for w in plain.split()), default=0)
        whole = max((cell_len(ln) for ln in plain.split("\n")), default=0)
        return Measurement(min(longest, self.width), min(whole, self.width))


def _dims(shape: Shape | None, names: tuple[str, str] | None = None) -> str:
    """2×3, or 2×3 (N×M) when the size names say more than the numbers."""
    if shape is None:
        return "?"
    text = shape_text(shape)
    if names is not None:
        named = "×".join(f"({p})" if "·" in p else p for p in names)
        if named != text:
            text += f" ({named})"
    return text


def dims_text(dims: Dims) -> str:
    """(2×3)·(3×2) for a product, [(2×2) ⊗ (3×3)]·(9×9) with a Kronecker factor."""
    if dims.op == "·":
        return "·".join(
            f"[{dims_text(p)}]" if p.op in ("⊗", "+") else dims_text(p)
            for p in dims.parts
        )
    if dims.op:  # + or ⊗
        return f" {dims.op} ".join(dims_text(p) for p in dims.parts)
    return f"({_dims(dims.shape)})"


def wrap_items(
    head: Text, items: list[str], width: int, style: str = "", between: str = " · "
) -> Text:
    """``head`` then the items separated by ``between``, wrapped only between items (a
    continued line starts under the first item)."""
    out, pad = head, " " * len(head)
    column = len(pad)
    for k, item in enumerate(items):
        sep = between if k else ""
        if k and column + len(sep) + len(item) > width:
            out.append("\n" + pad)
            column, sep = len(pad), ""
        out.append(sep + item, style=style)
        column += len(sep) + len(item)
    return out


# -- the printer -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextSettings:
    """Settings of the terminal and plain-text printer."""

    width: int = 100
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_terms: int = TERMINAL_MAX_TERMS

    def __post_init__(self) -> None:
        for key in ("width", "max_entries", "max_terms"):
            positive(key, getattr(self, key), "text")


class TerminalPrinter(PagePrinter[list[Any], TextSettings]):
    """Each block as Rich renderables: rules, matrices drawn cell by cell, dim notes."""

    name = "text"
    settings_type = TextSettings
    #: a matrix drawn so far wrote the upstream derivatives as ȳ (z̄, …)
    bar_used = False

    def empty(self) -> list[Any]:
        return []

    def prose(self, prose: str | Prose) -> str:
        """Marked prose, or plain words, as Unicode text."""
        return prose_plain(prose, self.letters)

    def children(self, blocks: tuple[Block, ...]) -> list[Any]:
        return [r for out in self.blocks(blocks) for r in out]

    # -- matrices and equations ------------------------------------------------------------
    #: The spelling every matrix of the step being printed starts from: an index into
    #: :meth:`spellings` (a step is printed again from the narrowest one any of its
    #: matrices needed, so that one step keeps one notation).
    floor = 0
    #: the narrowest spelling a matrix of the step needed so far
    needed = 0
    #: the step being printed defines ȳ := ∂L/∂y (its Notation block): it writes the
    #: upstream entries in full, as the definition does
    defining = False

    def spellings(self) -> tuple[tuple[Letters, int], ...]:
        """The spellings of a matrix, narrowest last, as (letters, compact): as written;
        the upstream entries as ȳ (unless --upstream partial; z̄, with a combining
        macron, is one cell too); then products without the dot (x₁,₁w₁,₁, as
        handwritten notes do); last sums without spaces (issue 15)."""
        letters = self.letters
        bar = letters.upstream or self.defining
        narrow = letters if bar else replace(letters, upstream="bar")
        return ((letters, 0), (narrow, 0), (narrow, 1), (narrow, 2))

    @property
    def spelling(self) -> tuple[Letters, int]:
        """The spelling of the step: what its entries outside matrices are written in."""
        return self.spellings()[self.floor]

    def _matrix(
        self, node: Explicit, width: int, shape: bool = True
    ) -> tuple[TBlock, bool]:
        """An explicit matrix in brackets, at most ``width`` cells wide (never folded),
        and whether it fitted without eliding more than the display limits ask.

        Each layout is tried in every spelling from the step's (:meth:`spellings`)
        before anything more is left out: first all of it, then fewer columns (down to
        two and ⋯), then fewer terms per entry, then fewer columns still; what is left
        out is marked with ⋯. The widest it can get is one column and one term.
        """
        matrix, blocks = node.matrix, node.blocks
        assert isinstance(matrix, PolyMatrix)
        limit, terms = self.settings.max_entries, self.settings.max_terms
        rows_shown = shown_indices(matrix.rows, limit)
        spellings = list(enumerate(self.spellings()))[self.floor :]
        memo: dict[tuple[Any, ...], list[str]] = {}
        fitted = True
        while True:
            cols_shown = shown_indices(matrix.cols, limit)
            # below the display limit, to fit the width, one term may go
            least = 2 if terms == self.settings.max_terms else 1
            for k, (letters, compact) in spellings:
                args = (rows_shown, cols_shown, terms, blocks, shape, compact, least)
                block = _grid(matrix, letters, *args, memo, fit=width)
                if block is not None:
                    self.needed = max(self.needed, k)
                    return block, fitted
            fitted = False
            if limit > 3 and len(cols_shown) > 3:
                limit = min(limit, len(cols_shown)) - 1
            elif terms > 1:
                terms -= 1
            elif limit > 1 and len(cols_shown) > 1:
                limit = min(limit, len(cols_shown)) - 1
            else:  # the narrowest there is, too wide all the same
                self.needed = max(self.needed, k)
                narrowest = _grid(matrix, letters, *args, memo)
                assert narrowest is not None
                return narrowest, False

    def _wrapped(self, node: Explicit, width: int) -> tuple[TBlock, int] | None:
        """The whole matrix (to the display limits) at most ``width`` cells wide with
        its long entries broken over lines, as few as can be (at most
        :data:`MOST_LINES`), or None where that is still too wide; with the spelling it
        took (an index into :meth:`spellings`).

        For a matrix that would otherwise leave entries or terms out to fit: a projector
        at 80 columns shows a small network's Z2 = A1·W2 + 1_N·b2 in full this way.
        """
        matrix, blocks = node.matrix, node.blocks
        assert isinstance(matrix, PolyMatrix)
        limit, terms = self.settings.max_entries, self.settings.max_terms
        rows = shown_indices(matrix.rows, limit)
        cols = shown_indices(matrix.cols, limit)
        spellings = list(enumerate(self.spellings()))[self.floor :]
        memo: dict[tuple[Any, ...], list[str]] = {}
        for per_line in range(terms, 0, -1):
            for k, (letters, compact) in spellings:
                # a sum broken over lines keeps its spaces: a line is short anyway
                args = (rows, cols, terms, blocks, True, min(compact, 1), 2, memo)
                block = _grid(matrix, letters, *args, fit=width, per_line=per_line)
                if block is not None:
                    return block, k
        return None

    def _unwrapped_or(
        self, node: Explicit, width: int, elided: TBlock, needed: int
    ) -> TBlock:
        """The matrix in full with its entries broken over lines (:meth:`_wrapped`), or
        ``elided``, what :meth:`_matrix` left out to fit, when even that is too wide.
        ``needed``: the narrowest spelling before this matrix was drawn."""
        wrapped = self._wrapped(node, width)
        if wrapped is None:
            return elided
        block, k = wrapped
        self.needed = max(needed, k)
        return block

    def part(self, node: Node, width: int, alone: bool = False) -> TBlock:
        """One side of an equation, at most ``width`` cells wide when it can be.

        ``alone``: the part stands by itself (not a factor of a product), so a matrix
        too wide for one line may be drawn transposed, with ᵀ (a long row vector as a
        column, a wide matrix as its transpose when that needs nothing left out).
        """
        block = self._part(node, width, alone)
        if isinstance(node, Explicit) and any(
            MACRON in line.plain or "ȳ" in line.plain for line in block.lines
        ):
            self.bar_used = True  # the page's ȳ definition is printed (see notation)
        return block

    def _part(self, node: Node, width: int, alone: bool = False) -> TBlock:
        letters, compact = self.spelling
        if isinstance(node, Explicit) and node.scalar:
            entry = node.matrix[0, 0]
            return TBlock.of(
                cell_text(entry, letters, self.settings.max_terms, compact),
                _cell_style(entry),
            )
        if isinstance(node, Explicit):
            matrix = node.matrix
            assert isinstance(matrix, PolyMatrix)
            needed = self.needed
            block, fitted = self._matrix(node, width)
            whole = fitted  # nothing left out but what the display limits ask
            row = matrix.rows == 1
            limit = self.settings.max_entries
            if row and alone and matrix.cols > 1:
                full, _ = self._matrix(node, 10**9)
                fitted = full.width <= width and matrix.cols <= limit
            elif node.blocks is not None or max(matrix.shape) > limit:
                # a Jacobian keeps its blocks; past the display limit a transpose
                # would hide as much
                fitted = True
            if fitted or not alone or matrix.cols <= matrix.rows:
                return (
                    block if whole else self._unwrapped_or(node, width, block, needed)
                )
            # drawn transposed with ᵀ (so long entries need not be elided), the label
            # of the matrix itself (1×k) after the ᵀ
            drawn, self.needed = self.needed, needed
            room = width - len(f"ᵀ ({shape_text(matrix.shape)})")
            column, column_whole = self._matrix(
                Explicit(matrix.transpose()), room, shape=False
            )
            column.lines[0].append("ᵀ")
            for ln in column.lines[1:]:
                ln.append(" ")
            column = labelled(column, matrix.shape)
            if column.width <= width and (row or column_whole):
                return column
            self.needed = drawn
            return block if whole else self._unwrapped_or(node, width, block, needed)
        if isinstance(node, Prod) and any(isinstance(a, Explicit) for a in node.args):
            # width - 4: a factor continued on its own line is indented by "  · ".
            parts = [self.part(a, width - 4) for a in node.args]
            return self.chain_of(parts, "·", width)
        if isinstance(node, Expr):
            # entries in their display names (x₁,₁, or x₀,₀ with --index-base 0)
            expr = renamed(node.expr, lambda a: unicode_symbol(a, letters))
            return TBlock.of(_pretty(expr))
        return TBlock.of(formula_text(node, self.letters))

    @staticmethod
    def chain_of(parts: list[TBlock], sep: str, width: int, pad: str = "  ") -> TBlock:
        """Join ``parts`` with ``sep`` on one line if they fit, else greedily over lines.

        A continued line starts with ``pad`` and ``sep`` (under the first part), like a
        handwritten derivation that runs over several lines.
        """
        one = hjoin(parts, f" {sep} ")
        if one.width <= width:
            return one
        lines: list[Text] = []
        current = parts[0]
        for p in parts[1:]:
            joined = hjoin([current, p], f" {sep} ")
            if joined.width <= width:
                current = joined
                continue
            lines.extend(current.lines)
            current = indent(p, f"{pad}{sep} ")
        lines.extend(current.lines)
        return TBlock(lines, 0)

    def equation(self, eq: Equation, width: int) -> TBlock:
        # width - 4: a part continued on its own line is indented by "  = ".
        parts = [self.part(p, width - 4, alone=True) for p in eq.parts]
        return self.chain_of(parts, "=", width)

    # -- the blocks ------------------------------------------------------------------------
    def page_title(self, block: PageTitle) -> list[Any]:
        """What is derived, then the sizes and settings, wrapped only between settings."""
        title = Text(
            self.prose(block.title).replace("an affine layer, ", "") + "\n", "bold"
        )
        parts = [self.prose(p) for p in block.settings]
        title.append_text(wrap_items(Text(), parts, self.settings.width))
        return [title, Text("")]

    #: the spelling the reshape and closed-form steps of the section being printed
    #: start from: 1 (ȳ) when one of them needed ȳ, so that both write the same
    #: matrix ∂L/∂V in one notation (the section is printed again)
    section_floor = 0
    #: the narrowest upstream spelling (0 or 1) a step of the section needed so far
    section_needed = 0

    def section(self, block: Section | Remarks | Background) -> list[Any]:
        head = Text(self.prose(block.title), style="bold underline")
        children = [r for out in self.section_blocks(block.blocks) for r in out]
        return [head, Text(""), *children]

    def section_blocks(self, blocks: tuple[Block, ...]) -> list[list[Any]]:
        """The blocks of a section, each as renderables; printed again from ȳ when one
        of its steps needed ȳ (:attr:`section_floor`)."""
        self.section_floor = self.section_needed = 0
        out = self.blocks(blocks)
        if self.section_needed > self.section_floor:
            self.section_floor = self.section_needed
            out = self.blocks(blocks)
        self.section_floor = self.section_needed = 0
        return out

    background = section

    def step_group(self, block: StepGroup) -> list[Any]:
        """The step's title, then its blocks in one spelling: when a matrix needs a
        narrower one (ȳ for ∂L/∂y, x₁,₁w₁,₁ for x₁,₁⋅w₁,₁), the step is printed again
        in it, so that one step does not switch notation between its matrices."""
        title = self.prose(block.step.title)
        # the reshaped result and its closed form show the same matrix ∂L/∂V: they
        # start from the section's spelling (ȳ when either needed it)
        shared = block.step.kind in (StepKind.SIMPLIFY, StepKind.RESULT)
        self.floor = self.needed = self.section_floor if shared else 0
        self.defining = any(isinstance(b, Notation) for b in block.blocks)
        children = self.children(block.blocks)
        if self.needed > self.floor:
            self.floor = self.needed
            children = self.children(block.blocks)
        if shared:  # ȳ, and only ȳ, carries over to the section's other such steps
            self.section_needed = max(self.section_needed, min(self.needed, 1))
        self.floor = self.needed = 0
        self.defining = False
        return [
            Group(
                Rule(
                    Text(f"Step {block.number} · {title}", style=STYLE_TITLE),
                    align="left",
                    style=STYLE_RULE,
                ),
                *children,
                Text(""),
            )
        ]

    def heading(self, block: Heading) -> list[Any]:
        return [Text(self.prose(block.title), style=STYLE_TITLE)]

    def display(self, block: Display) -> list[Any]:
        out: list[Any] = []
        for eq in block.equations:
            lines = self.equation(eq, self.settings.width).lines
            out += [Text("\n").join(lines), Text("")]
        return out

    def formula(self, block: Formula) -> list[Any]:
        return [
            Text("\n").join(Text("  " + ln) for ln in block.math.text.split("\n")),
            Text(""),
        ]

    def note(self, block: Note) -> list[Any]:
        # Prose reads best at most about 100 columns wide, however wide the terminal.
        text = prose_held(block.prose, self.letters)
        if block.aside:
            return [KeptText(text, "dim")]
        return [KeptText(text), Text("")]

    def items(self, block: Items) -> list[Any]:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for item in block.items:
            grid.add_row("•", KeptText(prose_held(item, self.letters)))
        return [Constrain(grid, NOTE_WIDTH), Text("")]

    def notation(self, block: Notation) -> list[Any]:
        """ȳ := ∂L/∂y, printed only if a matrix of the page uses it: at this width the
        matrices may all fit with fractions (the steps are built before any is printed)."""
        before, after = (
            prose_held(p, self.letters) for p in (block.before, block.after)
        )
        math = block.math.text.replace(" ", HOLD)
        shown = KeptText(f"{before} {math} {after}", "dim")
        if self.letters.upstream == "bar":
            return [shown]
        return [_WhenUsed(self, shown)]

    def entry_sum(self, block: EntrySum) -> list[Any]:
        """∂L/∂v₁ = ∂L/∂y₁,₁⋅w₁,₁ + …, wrapped at " + " under the first term."""
        terms: list[Text] = []
        letters, compact = self.spelling  # the step's, as its matrices write them
        for factors in block.terms:
            texts = []
            for factor in factors:
                text = cell_text(factor, letters, 10**6, compact)
                if "\n" in text:
                    return []
                texts.append(f"({text})" if len(factor) > 1 else text)
            # upstream · Jacobian entry, in the order the matrices above print the product
            # (x₁,₁⋅∂L/∂y₁,₁ in ∂L/∂W), the Jacobian's factor coloured as its nonzeros are
            pair = [styled(texts[0]), Text(texts[1], style=STYLE_NONZERO)]
            if _jacobian_first(*factors):
                texts, pair = texts[::-1], pair[::-1]
            term = pair[0]
            term.append("" if compact and "∂" not in texts[0] else "⋅")
            term.append_text(pair[1])
            terms.append(term)
        if block.hidden and terms:
            terms.insert(len(terms) - 1, Text("⋯"))
        first = Text(f"∂L/∂{unicode_name(block.atom, self.letters)} = ")
        pad = " " * (len(first) - 2)  # a continued line starts with + under the =
        first.append_text(terms[0] if terms else Text("0"))
        parts = [TBlock([term], 0) for term in [first, *terms[1:]]]
        items: list[Any] = [
            Text(self.prose(block.title), style="dim"),
            Text("\n").join(self.chain_of(parts, "+", self.settings.width, pad).lines),
        ]
        if block.hidden:
            hidden = self.prose(notes.entry_hidden(block.hidden))
            items.append(Text(hidden, style="dim"))
        if block.zeros:
            items.append(Text(self.prose(notes.entry_zeros(block.zeros)), style="dim"))
        return [*items, Text("")]

    def shape_ledger(self, block: ShapeLedger) -> list[Any]:
        """Dim lines: the shape of every formula in the step, each product checked."""
        items: list[str] = []
        for item in block.items:
            text = formula_text(item.node, self.letters)
            if item.reshaped:
                items.append(f"{text} {_dims(item.dims.shape)} reshaped")
                continue
            dims = dims_text(item.dims)
            if item.dims.op and dims.count("(") > 1:
                items.append(f"{text}: {dims} → {_dims(item.dims.shape)}")
            else:
                items.append(f"{text} {_dims(item.dims.shape, item.names)}")
        head = Text("shapes: ", style="dim")
        # "; " between the formulas: their products are written with "·"
        return [wrap_items(head, items, self.settings.width, STYLE_SHAPE, "; ")]

    def closed_shapes(self, block: ClosedShapes) -> list[Any]:
        lines = []
        for item in block.items:
            lhs = formula_text(Deriv("L", item.var), self.letters)
            rhs = formula_text(item.closed, self.letters)
            letter = self.letters.of(item.var)
            like = f"{letter}ᵀ" if self.config.layout == "numerator" else letter
            lines.append(
                Text(
                    f"  {lhs} = {rhs}: {dims_text(item.dims)} → "
                    f"{_dims(item.shape)}, like {like}"
                )
            )
        return [Text("\n").join(lines), Text("")]

    def sparsity(self, block: Sparsity) -> list[Any]:
        return []  # omitted (page.OMITTED): the Jacobian's colours show the pattern

    def code(self, block: Code) -> list[Any]:
        lines = Text("\n").join(Text(f"    {c}", style="green") for c in block.lines)
        intro = KeptText(prose_held(block.intro, self.letters))
        return [Text(""), intro, lines]

    def certificate(self, block: CertificateTable) -> list[Any]:
        """The ✓/✗ table: one row per claim and variable, then the verdict (after the
        last table of a certificate split over several)."""
        title = "Certificate (continued)" if block.continued else "Certificate"
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("var", no_wrap=True)
        table.add_column("claim")
        table.add_column("", no_wrap=True)
        table.add_column("how it was checked")
        for check in block.checks:
            table.add_row(
                Text(self.letters.of(check.wrt)),
                Text(self.prose(notes.claim(check.claim))),
                mark(check.passed),
                Text(self.prose(check.detail)),
            )
        ok = block.verified
        verdict = Text(
            "All results verified." if ok else "Verification FAILED (see ✗ above).",
            style=_STYLE_PASSED[ok],
        )
        return [Text(""), table] + ([] if block.continues else [verdict])

    def remarks(self, block: Remarks) -> list[Any]:
        return [Text(""), *self.section(block)]

    def cell(self, cell: TableCell) -> KeptText:
        """A table cell: its prose, the aside dim, then a coloured ✓ or ✗ that never
        wraps onto a line of its own. (A formula may still wrap at a space: at 80
        columns four conventions side by side are wider than the terminal, and a break
        at a space reads better than Rich folding inside a name.)"""
        out = Text(self.prose(cell.prose))
        out.append(self.prose(cell.aside), style="dim")
        if cell.passed is not None:
            out.append(HOLD)
            out.append_text(mark(cell.passed))
        return KeptText(out)

    def table(self, block: TableBlock) -> list[Any]:
        table = Table(
            title=Text(self.prose(block.title), style=STYLE_TITLE),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
        )
        for k, head in enumerate(block.header):
            table.add_column(Text(self.prose(head)), no_wrap=k == 0)
        for g, group in enumerate(block.groups):
            for r, row in enumerate(group):
                last = r == len(group) - 1 and g < len(block.groups) - 1
                table.add_row(*(self.cell(c) for c in row), end_section=last)
        return [table, Text("")]

    def verdict(self, block: Verdict) -> list[Any]:
        return [Text(self.prose(block.prose), style=_STYLE_PASSED[block.passed])]

    def api_check(self, block: ApiCheck) -> list[Any]:
        return []  # omitted (page.OMITTED): code cells run only in a notebook


def mark(passed: bool, words: str = "") -> Text:
    """A green ✓ or a red ✗ (bold), then ``words`` in the same style."""
    return Text(("✓" if passed else "✗") + words, style=_STYLE_PASSED[passed])


def _jacobian_first(upstream: Poly, entry: Poly) -> bool:
    """Whether the product of two single atoms prints with the Jacobian's entry first, as
    a polynomial orders its factors (x before ∂L/∂y, ∂L/∂y before w)."""
    if not (upstream.is_atom() and entry.is_atom()):
        return False
    (factors,) = (upstream * entry).terms
    return factors[0] == next(iter(entry.terms))[0]


@dataclass
class TerminalView:
    """A Rich renderable for a whole derivation (the CLI owns the Console)."""

    derivation: Derivation
    _: KW_ONLY
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_terms: int = TERMINAL_MAX_TERMS

    def sections(self, width: int) -> tuple[Any, list[Any], list[Any]]:
        """(the header, one renderable per step, everything after the steps: the
        certificate, the remarks, the background).

        ``--step`` pauses between the steps; the whole view is these in order. A
        section's heading goes with its first step.
        """
        printer = TerminalPrinter(
            max_entries=self.max_entries, max_terms=self.max_terms, width=width
        )
        blocks = page_of(self.derivation, self.max_entries)
        printer.bind(blocks[0].config)  # type: ignore[union-attr]
        head: list[Any] = []
        steps: list[Any] = []
        closing: list[Any] = []
        for block in blocks:
            if isinstance(block, Section) and any(
                isinstance(b, StepGroup) for b in block.blocks
            ):
                heading = printer.section(Section(block.title, ()))
                for k, out in enumerate(printer.section_blocks(block.blocks)):
                    steps.append(Group(*heading, *out) if k == 0 else Group(*out))
            elif steps:
                closing += printer.block(block)
            else:
                head += printer.block(block)
        while head and isinstance(head[-1], Text) and not head[-1].plain:
            head.pop()  # the caller puts one blank line after the header
        return Group(*head), steps, closing

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        """The header, each step, then the certificate, the remarks, the background."""
        head, steps, closing = self.sections(options.max_width)
        yield head
        yield Text("")
        yield from steps
        yield from closing


@dataclass
class _WhenUsed:
    """A renderable printed only if the printer's matrices used the bar notation."""

    printer: TerminalPrinter
    inner: Any

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        if self.printer.bar_used:
            yield self.inner


def plain_text(*renderables: Any, width: int = 100) -> str:
    """Rich renderables as plain text (no escape codes) at ``width`` columns."""
    import io

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        no_color=True,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    for renderable in renderables:
        console.print(renderable)
    # Rich pads lines to the width; trailing blanks only make diffs noisy.
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))


def render_text(derivation: Derivation, width: int = 100, **settings: Any) -> str:
    """The terminal view as plain text (no escape codes) at ``width`` columns.

    Settings: max_entries (12), max_terms (4).
    """
    make_settings(TextSettings, "text", {"width": width, **settings})
    return plain_text(TerminalView(derivation, **settings), width=width)
