"""The terminal view: a Rich renderable that yields every step of a derivation.

Matrices are drawn from sympy's Unicode pretty printer, one cell at a time, inside
``rich.text.Text`` objects (never markup, so ``[`` and ``]`` are never eaten). Zeros of a
Jacobian are dimmed and its Kronecker blocks are separated by thin rules. Big matrices
and long entries are elided with ⋯ ⋮ ⋱ for display only; the maths stays exact. A matrix
is never folded: when it is wider than the console, fewer columns are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..algebra import Poly, PolyMatrix
from ..conventions import Letters
from ..notation import Equation, Explicit, Expr, Node, Prod
from ..steps import Derivation, Step
from .base import Renderer
from .formula import formula_text, shape_text
from .names import unicode_name, unicode_symbol

#: At most this many rows and columns of a matrix are shown (then ⋯ ⋮ ⋱).
DEFAULT_MAX_ENTRIES = 12
#: A polynomial entry with more terms shows its first two, ⋯ and its last.
DEFAULT_MAX_TERMS = 4

STYLE_ZERO = "dim"
STYLE_UPSTREAM = "cyan"
STYLE_SHAPE = "dim italic"
STYLE_RULE = "dim"
STYLE_TITLE = "bold"


# -- blocks of lines -------------------------------------------------------------------------
@dataclass
class Block:
    """A rectangle of styled lines; ``mid`` is the line where ``=`` signs go."""

    lines: list[Text]
    mid: int

    @property
    def width(self) -> int:
        return max((ln.cell_len for ln in self.lines), default=0)

    @property
    def height(self) -> int:
        return len(self.lines)

    @staticmethod
    def of(text: str | Text, style: str = "") -> Block:
        lines = (
            text.split("\n")
            if isinstance(text, Text)
            else [Text(s, style=style) for s in text.split("\n")]
        )
        return Block(list(lines), len(lines) // 2)


def hjoin(blocks: list[Block], sep: str = " ") -> Block:
    """Side by side, aligned on their middle lines."""
    above = max(b.mid for b in blocks)
    below = max(b.height - b.mid for b in blocks)
    lines = [Text() for _ in range(above + below)]
    for k, b in enumerate(blocks):
        top = above - b.mid
        w = b.width
        for r in range(above + below):
            src = r - top
            piece = b.lines[src].copy() if 0 <= src < b.height else Text()
            piece.pad_right(w - piece.cell_len)
            if k:
                lines[r].append(sep if r == above else " " * len(sep))
            lines[r].append_text(piece)
    for ln in lines:
        ln.rstrip()
    return Block(lines, above)


def indent(block: Block, prefix: str) -> Block:
    """``prefix`` before the middle line, spaces before the others."""
    lines = []
    for r, ln in enumerate(block.lines):
        head = Text(prefix if r == block.mid else " " * len(prefix))
        head.append_text(ln)
        lines.append(head)
    return Block(lines, block.mid)


# -- cells -------------------------------------------------------------------------------------
@lru_cache(maxsize=32768)
def _pretty(expr: Any) -> str:
    import sympy as sp

    return str(sp.pretty(expr, use_unicode=True, wrap_line=False, order="none"))


def cell_text(poly: Poly, letters: Letters, max_terms: int) -> str:
    """One entry, printed by sympy's pretty printer (elided past ``max_terms`` terms)."""
    if poly.is_atom():
        return unicode_name(next(iter(poly.terms))[0], letters)
    value = poly.constant()
    if value is not None and not isinstance(value, float):
        from fractions import Fraction

        if isinstance(value, int) or (
            isinstance(value, Fraction) and value.denominator == 1
        ):
            return str(value)
    if len(poly) > max_terms:
        items = list(poly.terms.items())
        head = Poly(dict(items[: max(max_terms - 1, 1)]))
        left = _pretty(head.to_display(lambda a: unicode_symbol(a, letters)))
        if max_terms <= 1 or "\n" in left:
            return f"{left} + ⋯"
        tail = Poly(dict(items[-1:]))
        right = _pretty(tail.to_display(lambda a: unicode_symbol(a, letters)))
        sign = " - " if right.startswith("-") else " + "
        return f"{left} + ⋯{sign}{right.lstrip('-')}"
    return _pretty(poly.to_display(lambda a: unicode_symbol(a, letters)))


def _cell_style(poly: Poly, derivation_letters: Letters) -> str:
    if poly.is_zero():
        return STYLE_ZERO
    if all(f.startswith("dy_") for mono in poly.terms for f in mono) and poly.terms:
        return STYLE_UPSTREAM
    return ""


def _shown(count: int, limit: int) -> list[int | None]:
    """Indices shown of ``count``: all, or the first limit-2, None (an ellipsis) and the last."""
    if count <= limit:
        return list(range(count))
    if limit <= 1:
        return [0, None]
    keep = max(limit - 2, 1)
    return [*range(keep), None, count - 1]


def matrix_block(
    matrix: PolyMatrix,
    letters: Letters,
    *,
    max_entries: int,
    max_terms: int,
    width: int,
    blocks: tuple[int, int] | None = None,
    shape: bool = True,
) -> Block:
    """An explicit matrix in brackets, at most ``width`` cells wide (never folded).

    When the matrix is too wide it shows fewer columns, then fewer terms per entry; what
    is left out is marked with ⋯. The widest it can get is one column and one term.
    """
    rows_shown = _shown(matrix.rows, max_entries)
    limit, terms = max_entries, max_terms
    while True:
        cols_shown = _shown(matrix.cols, limit)
        block = _grid(matrix, letters, rows_shown, cols_shown, terms, blocks, shape)
        if block.width <= width:
            return block
        if limit > 3 and len(cols_shown) > 3:
            limit = min(limit, len(cols_shown)) - 1
        elif terms > 1:
            terms -= 1
        elif limit > 1 and len(cols_shown) > 1:
            limit = min(limit, len(cols_shown)) - 1
        else:
            return block


def _grid(
    matrix: PolyMatrix,
    letters: Letters,
    rows_shown: list[int | None],
    cols_shown: list[int | None],
    max_terms: int,
    blocks: tuple[int, int] | None,
    shape: bool,
) -> Block:
    # Cells as lists of lines (a fraction takes three lines).
    cells: list[list[tuple[list[str], str]]] = []
    for i in rows_shown:
        row: list[tuple[list[str], str]] = []
        for j in cols_shown:
            if i is None and j is None:
                row.append((["⋱"], ""))
            elif i is None:
                row.append((["⋮"], ""))
            elif j is None:
                row.append((["⋯"], ""))
            else:
                p = matrix[i, j]
                row.append(
                    (
                        cell_text(p, letters, max_terms).split("\n"),
                        _cell_style(p, letters),
                    )
                )
        cells.append(row)
    ncols = len(cols_shown)
    widths = [max(max(len(s) for s in r[c][0]) for r in cells) for c in range(ncols)]
    # Kronecker block separators: before column c (and row r) starting a new block.
    vsep = [False] * ncols
    hsep = [False] * len(rows_shown)
    if blocks is not None:
        br, bc = blocks
        for c in range(1, ncols):
            j, prev = cols_shown[c], cols_shown[c - 1]
            if j is not None and prev is not None and bc < matrix.cols and j % bc == 0:
                vsep[c] = True
        for r in range(1, len(rows_shown)):
            i, prev = rows_shown[r], rows_shown[r - 1]
            if i is not None and prev is not None and br < matrix.rows and i % br == 0:
                hsep[r] = True
    body: list[Text] = []
    for r, row in enumerate(cells):
        if hsep[r]:
            line = Text()
            for c in range(ncols):
                if c:
                    line.append("─┼─" if vsep[c] else "──", style=STYLE_RULE)
                line.append("─" * widths[c], style=STYLE_RULE)
            body.append(line)
        height = max(len(cell[0]) for cell in row)
        for h in range(height):
            line = Text()
            for c, (cell_lines, style) in enumerate(row):
                if c:
                    line.append(
                        " │ " if vsep[c] else "  ", style=STYLE_RULE if vsep[c] else ""
                    )
                top = (height - len(cell_lines)) // 2
                k = h - top
                s = cell_lines[k] if 0 <= k < len(cell_lines) else ""
                pad = widths[c] - len(s)
                left = pad // 2
                line.append(" " * left)
                line.append(s, style=style)
                line.append(" " * (pad - left))
            body.append(line)
    inner = max(ln.cell_len for ln in body) if body else 0
    n = len(body)
    out: list[Text] = []
    for k, ln in enumerate(body):
        ln.pad_right(inner - ln.cell_len)
        if n == 1:
            left, right = "[", "]"
        elif k == 0:
            left, right = "⎡", "⎤"
        elif k == n - 1:
            left, right = "⎣", "⎦"
        else:
            left, right = "⎢", "⎥"
        line = Text(left)
        line.append_text(ln)
        line.append(right)
        out.append(line)
    block = Block(out, n // 2)
    if shape:
        block = hjoin(
            [block, Block.of(f"({shape_text(matrix.shape)})", STYLE_SHAPE)], " "
        )
    return block


# -- equations and steps -----------------------------------------------------------------------
class TerminalRenderer(Renderer[Group]):
    """Each step as a Rich Group: a numbered rule, the equations, a dim note."""

    name = "rich"
    defaults = {
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "width": 100,
        "letters": Letters(),
    }

    @property
    def letters(self) -> Letters:
        value = self.settings["letters"]
        assert isinstance(value, Letters)
        return value

    def part(self, node: Node, width: int) -> Block:
        if isinstance(node, Explicit):
            matrix = node.matrix
            assert isinstance(matrix, PolyMatrix)
            return matrix_block(
                matrix,
                self.letters,
                max_entries=self.max_entries,
                max_terms=self.max_terms,
                width=width,
                blocks=node.blocks,
            )
        if isinstance(node, Prod) and any(isinstance(a, Explicit) for a in node.args):
            # width - 4: a factor continued on its own line is indented by "  · ".
            parts = [self.part(a, width - 4) for a in node.args]
            return self.chain_of(parts, "·", width)
        if isinstance(node, Expr):
            return Block.of(_pretty(node.expr))
        return Block.of(formula_text(node, self.letters))

    @staticmethod
    def chain_of(parts: list[Block], sep: str, width: int, lead: str = "") -> Block:
        """Join ``parts`` with ``sep`` on one line if they fit, else greedily over lines.

        A continued line starts with ``sep`` under the first part, like a handwritten
        derivation that runs over several lines.
        """
        one = hjoin(parts, f" {sep} ")
        if one.width <= width:
            return one
        lines: list[Text] = []
        current = parts[0]
        pad = " " * (len(lead) + 2)
        for p in parts[1:]:
            joined = hjoin([current, p], f" {sep} ")
            if joined.width <= width:
                current = joined
                continue
            lines.extend(current.lines)
            current = indent(p, f"{pad}{sep} ")
        lines.extend(current.lines)
        return Block(lines, 0)

    @property
    def max_entries(self) -> int:
        value = self.settings["max_entries"]
        assert isinstance(value, int)
        return value

    @property
    def max_terms(self) -> int:
        value = self.settings["max_terms"]
        assert isinstance(value, int)
        return value

    def equation(self, eq: Equation, width: int) -> Block:
        parts = [self.part(p, width - 6) for p in eq.parts]
        return self.chain_of(parts, "=", width)

    def render_step(self, step: Step, number: int) -> Group:
        width = int(self.settings["width"])  # type: ignore[call-overload]
        items: list[Any] = [
            Rule(
                Text(f"Step {number} · {step.title}", style=STYLE_TITLE),
                align="left",
                style=STYLE_RULE,
            )
        ]
        for eq in step.equations:
            block = self.equation(eq, width)
            items.append(Text("\n").join(block.lines) if block.lines else Text())
            items.append(Text(""))
        if step.note:
            items.append(Text(step.note, style="dim"))
        items.append(Text(""))
        return Group(*items)

    def define(self, step: Step, number: int) -> Group:
        return self.render_step(step, number)

    def jacobian(self, step: Step, number: int) -> Group:
        return self.render_step(step, number)

    def chain(self, step: Step, number: int) -> Group:
        return self.render_step(step, number)

    def simplify(self, step: Step, number: int) -> Group:
        return self.render_step(step, number)

    def result(self, step: Step, number: int) -> Group:
        return self.render_step(step, number)


def certificate_table(derivation: Derivation) -> Table:
    """The ✓/✗ table: one row per claim and variable."""
    letters = derivation.config.letters
    table = Table(title="Certificate", title_justify="left", show_lines=False)
    table.add_column("var", no_wrap=True)
    table.add_column("claim")
    table.add_column("", no_wrap=True)
    table.add_column("how it was checked")
    for check in derivation.checks:
        mark = (
            Text("✓", style="bold green")
            if check.passed
            else Text("✗", style="bold red")
        )
        table.add_row(
            Text(letters.of(check.wrt)), Text(check.claim), mark, Text(check.detail)
        )
    return table


def header(derivation: Derivation) -> Text:
    """One line naming what is derived, in which convention, order and layout."""
    c = derivation.config
    conv = c.conv
    forward = formula_text(conv.forward(c.n), c.letters)
    lhs = c.letters.of("Y")
    names = conv.sizes
    title = Text(f"Backpropagation through {lhs} = {forward}", style="bold")
    title.append(
        f"\n{names[0]}={c.n}, {names[1]}={c.d}, {names[2]}={c.m} · convention {conv.name}"
        f" · vec order {c.vec} · {c.layout} layout · loss {c.loss} · method {c.method}",
        style="",
    )
    return title


class TerminalView:
    """A Rich renderable for a whole derivation (the CLI owns the Console)."""

    def __init__(
        self,
        derivation: Derivation,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_terms: int = DEFAULT_MAX_TERMS,
    ) -> None:
        self.derivation = derivation
        self.max_entries = max_entries
        self.max_terms = max_terms

    def renderables(self, width: int) -> Iterator[Any]:
        """The header, each step, then the certificate."""
        renderer = TerminalRenderer(
            max_entries=self.max_entries,
            max_terms=self.max_terms,
            width=width,
            letters=self.derivation.config.letters,
        )
        yield header(self.derivation)
        yield Text("")
        yield from renderer.steps(self.derivation)
        yield Text("")
        yield certificate_table(self.derivation)
        ok = self.derivation.verified
        yield Text(
            "All results verified." if ok else "Verification FAILED (see ✗ above).",
            style="bold green" if ok else "bold red",
        )

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        yield from self.renderables(options.max_width)


def render_text(derivation: Derivation, width: int = 100, **settings: Any) -> str:
    """The terminal view as plain text (no escape codes) at ``width`` columns."""
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
    console.print(TerminalView(derivation, **settings))
    return buffer.getvalue()


def _unused(_: Iterable[Any]) -> None:  # pragma: no cover
    pass
