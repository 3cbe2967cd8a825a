"""The terminal view: a Rich renderable that yields every step of a derivation.

Matrices are drawn from sympy's Unicode pretty printer, one cell at a time, inside
``rich.text.Text`` objects (never markup, so ``[`` and ``]`` are never eaten). Zeros of a
Jacobian are dimmed and its Kronecker blocks are separated by thin rules. Big matrices
and long entries are elided with ⋯ ⋮ ⋱ for display only; the maths stays exact. A matrix
is never folded: when it is wider than the console, fewer columns are shown (a long row
vector is drawn as a column with ᵀ instead).

For the lecture hall each step also gets a dim "shapes" line (the shape of every object
in the step, with the dimension check of each product), and each chain-rule step writes
one entry of J_L = J_h·J_y out as a sum. Colour carries meaning: upstream derivatives
∂L/∂y are cyan wherever they appear, the nonzero entries of a Jacobian (those that survive
the Kronecker delta) are magenta and its zeros dim. Colour is only style: the plain-text
view (``render_text``, NO_COLOR) shows exactly the same characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.constrain import Constrain
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..algebra import Poly, PolyMatrix
from ..conventions import Config, Letters, entry_name
from ..notation import (
    SCALARS,
    Equation,
    Explicit,
    Expr,
    Jac,
    Kron,
    Node,
    Prod,
    Sum,
    shape,
)
from ..notation import Shape as NodeShape
from ..steps import Derivation, Step, StepKind
from .base import Renderer
from .formula import formula_text, shape_text
from .names import unicode_name, unicode_symbol
from .pretty import pretty_poly, text_width, unicode_namer

#: At most this many rows and columns of a matrix are shown (then ⋯ ⋮ ⋱).
DEFAULT_MAX_ENTRIES = 12
#: A polynomial entry with more terms shows its first two, ⋯ and its last.
DEFAULT_MAX_TERMS = 4
#: Notes (prose) wrap at this width on wide terminals.
NOTE_WIDTH = 100

STYLE_ZERO = "dim"
STYLE_UPSTREAM = "cyan"
STYLE_NONZERO = "magenta"
STYLE_SHAPE = "dim italic"
STYLE_RULE = "dim"
STYLE_TITLE = "bold"


# -- blocks of lines -------------------------------------------------------------------------
def width_of(line: Text) -> int:
    """Cells taken by ``line``: its length when every character is one cell wide."""
    return text_width(line.plain)


@dataclass
class Block:
    """A rectangle of styled lines; ``mid`` is the line where ``=`` signs go."""

    lines: list[Text]
    mid: int

    @property
    def width(self) -> int:
        return max((width_of(ln) for ln in self.lines), default=0)

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
            piece.pad_right(w - width_of(piece))
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
        left = _pretty_poly(head, letters)
        if max_terms <= 1 or "\n" in left:
            return f"{left} + ⋯"
        tail = Poly(dict(items[-1:]))
        right = _pretty_poly(tail, letters)
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
    if poly.is_zero():
        return STYLE_ZERO
    if jacobian:
        return STYLE_NONZERO
    return ""


def styled(text: str, style: str = "") -> Text:
    """``text`` in ``style``, with every upstream derivative ∂L/∂y in cyan."""
    out = Text(text, style=style)
    if "∂L/∂" in text:
        out.highlight_regex(_UPSTREAM_RE, STYLE_UPSTREAM)
    return out


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
                        _cell_style(p, jacobian=blocks is not None),
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
                before = pad // 2
                line.append(" " * before)
                line.append_text(styled(s, style))
                line.append(" " * (pad - before))
            body.append(line)
    inner = max(width_of(ln) for ln in body) if body else 0
    n = len(body)
    out: list[Text] = []
    for k, ln in enumerate(body):
        ln.pad_right(inner - width_of(ln))
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


def row_as_column(block_of: Any, matrix: PolyMatrix) -> Block:
    """A row vector drawn as a column with ᵀ (so long entries need not be elided).

    ``block_of(m)`` draws a matrix without its shape label; the label of the row itself
    (1×k) follows the ᵀ.
    """
    column = block_of(matrix.transpose())
    lines = [ln.copy() for ln in column.lines]
    lines[0].append("ᵀ")
    for ln in lines[1:]:
        ln.append(" ")
    out = Block(lines, column.mid)
    return hjoin([out, Block.of(f"({shape_text(matrix.shape)})", STYLE_SHAPE)], " ")


# -- shapes of formulas (the ledger) ---------------------------------------------------------
Shape = tuple[int, int]


class Shapes:
    """The shape of every formula node of a derivation, in numbers and in size names.

    A thin view of :func:`symderiv.notation.shape` at the derivation's sizes.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.roles = config.conv.shapes
        self.numerator = config.layout == "numerator"

    def _shape(self, node: Node) -> NodeShape | None:
        try:
            return shape(node, self.roles, self.numerator)
        except (TypeError, ValueError, KeyError):
            return None

    def of(self, node: Node, wrt: str | None = None) -> Shape | None:
        """The shape of ``node`` at the derivation's sizes (None when it has none)."""
        found = self._shape(node)
        return found.numbers(self.config.sizes) if found else None

    def names_of(self, node: Node, wrt: str | None = None) -> tuple[str, str] | None:
        """The shape of ``node`` in size names, for the nodes that name roles."""
        found = self._shape(node)
        if found is None or any(isinstance(f, int) for f in found.count()):
            return None
        return found.names(self.config.letters.sizes)


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


# -- equations and steps -----------------------------------------------------------------------
class TerminalRenderer(Renderer[Group]):
    """Each step as a Rich Group: a numbered rule, the equations, the shapes, a dim note."""

    name = "rich"
    defaults = {
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "width": 100,
        "letters": Letters(),
        "config": None,
    }

    @property
    def letters(self) -> Letters:
        value = self.settings["letters"]
        assert isinstance(value, Letters)
        return value

    @property
    def config(self) -> Config | None:
        value = self.settings["config"]
        assert value is None or isinstance(value, Config)
        return value

    @property
    def width(self) -> int:
        value = self.settings["width"]
        assert isinstance(value, int)
        return value

    def _matrix(self, node: Explicit, width: int, shape: bool = True) -> Block:
        matrix = node.matrix
        assert isinstance(matrix, PolyMatrix)
        return matrix_block(
            matrix,
            self.letters,
            max_entries=self.max_entries,
            max_terms=self.max_terms,
            width=width,
            blocks=node.blocks,
            shape=shape,
        )

    def part(self, node: Node, width: int, alone: bool = False) -> Block:
        """One side of an equation, at most ``width`` cells wide when it can be.

        ``alone``: the part stands by itself (not a factor of a product), so a row
        vector too long for one line may be drawn as a column with ᵀ.
        """
        if isinstance(node, Explicit):
            block = self._matrix(node, width)
            matrix = node.matrix
            assert isinstance(matrix, PolyMatrix)
            if alone and matrix.rows == 1 and matrix.cols > 1:
                full = self._matrix(node, 10**9)
                if full.width > width or matrix.cols > self.max_entries:
                    column = row_as_column(
                        lambda m: self._matrix(Explicit(m), width - 3, shape=False),
                        matrix,
                    )
                    if column.width <= width:
                        return column
            return block
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
        # width - 4: a part continued on its own line is indented by "  = ".
        parts = [self.part(p, width - 4, alone=True) for p in eq.parts]
        return self.chain_of(parts, "=", width)

    # -- the lecture additions ---------------------------------------------------------
    def ledger(self, step: Step, width: int) -> Text | None:
        """Dim lines: the shape of every formula in the step, each product checked.

        Explicit matrices carry their shape beside them already; these lines add the
        formulas (X·W, I_2 ⊗ Wᵀ, J_h(y)·J_y(x), ∂L/∂X, ...) with their dimension check,
        wrapped only between items.
        """
        if self.config is None:
            return None
        shapes = Shapes(self.config)
        wrt = step.wrt
        seen: list[str] = []

        def add(item: str) -> None:
            if item not in seen:
                seen.append(item)

        def dims(node: Node) -> str:
            """(2×3)·(3×2) for a product, (2×1)·(1×3) + … for a sum of products."""
            if isinstance(node, Sum):
                return " + ".join(dims(a) for a in node.args)
            if isinstance(node, Prod):
                factors = [a for a in node.args if not isinstance(a, SCALARS)]
                if len(factors) > 1:
                    inner = [dims(a) for a in factors]
                    return "·".join(
                        f"[{d}]" if isinstance(a, (Kron, Sum)) else d
                        for a, d in zip(factors, inner, strict=True)
                    )
            if isinstance(node, Kron):
                return f"{dims(node.left)} ⊗ {dims(node.right)}"
            return f"({_dims(shapes.of(node, wrt))})"

        if step.kind is StepKind.SIMPLIFY and wrt and step.view == "jacobian":
            j = Jac("L", wrt)
            add(f"{formula_text(j, self.letters)} {_dims(shapes.of(j, wrt))} reshaped")
        for eq in step.equations:
            for node in eq.parts:
                if isinstance(node, (Explicit, Expr)) or (
                    isinstance(node, Prod)
                    and any(isinstance(a, Explicit) for a in node.args)
                ):
                    continue
                shape = shapes.of(node, wrt)
                if shape is None:
                    continue
                text = formula_text(node, self.letters)
                if isinstance(node, (Sum, Prod, Kron)) and dims(node).count("(") > 1:
                    add(f"{text}: {dims(node)} → {_dims(shape)}")
                else:
                    add(f"{text} {_dims(shape, shapes.names_of(node, wrt))}")
        if not seen:
            return None
        head = "shapes: "
        out = Text(head, style="dim")
        column = len(head)
        for k, item in enumerate(seen):
            sep = " · " if k else ""
            if k and column + len(sep) + len(item) > width:
                out.append("\n" + " " * len(head))
                column, sep = len(head), ""
            out.append(sep + item, style=STYLE_SHAPE)
            column += len(sep) + len(item)
        return out

    def one_entry(self, step: Step, width: int) -> list[Any]:
        """For a chain-rule step: entry 1 of J_L = J_h·J_y written out as a sum."""
        found = None
        for eq in step.equations:
            for node in eq.parts:
                if (
                    isinstance(node, Prod)
                    and len(node.args) == 2
                    and all(isinstance(a, Explicit) for a in node.args)
                ):
                    found = (node.args[0], node.args[1])
        if found is None or step.wrt is None:
            return []
        row, jac = (f.matrix for f in found)  # type: ignore[attr-defined]
        assert isinstance(row, PolyMatrix) and isinstance(jac, PolyMatrix)
        if row.rows != 1 or row.cols != jac.rows or jac.cols < 1:
            return []
        # Column 1 of J_y holds ∂y_r/∂v for the first entry v of vec(var): entry (1, 1)
        # of the variable in both vec orders.
        var = step.wrt
        atom = "b_1" if var == "b" else entry_name(var, 1, 1)
        lhs = f"∂L/∂{unicode_name(atom, self.letters)}"
        terms: list[Text] = []
        for r in range(jac.rows):
            value = jac[r, 0]
            if value.is_zero():
                continue
            term = Text()
            for k, (factor, style) in enumerate(
                ((row[0, r], STYLE_UPSTREAM), (value, STYLE_NONZERO))
            ):
                text = cell_text(factor, self.letters, 10**6)
                if "\n" in text:
                    return []
                if len(factor) > 1:
                    text = f"({text})"
                if k:
                    term.append("⋅")
                term.append_text(styled(text) if k == 0 else Text(text, style=style))
            terms.append(term)
        zeros = jac.rows - len(terms)
        letter = self.config.letters.entry(var) if self.config else var
        y = self.config.letters.entry("Y") if self.config else "y"
        title = Text(
            f"Entry 1 written out: row J_h({y}) times column 1 of J_{y}({letter})",
            style="dim",
        )
        # The sum, wrapped at " + " with continued lines under the first term.
        head = f"{lhs} = "
        lines: list[Text] = []
        current = Text(head)
        if not terms:
            current.append("0")
        for k, term in enumerate(terms):
            piece = Text(" + ") if k else Text()
            piece.append_text(term)
            if k and current.cell_len + piece.cell_len > width:
                lines.append(current)
                current = Text(" " * (len(head) - 2))
                current.append("+ ")
                current.append_text(term)
            else:
                current.append_text(piece)
        lines.append(current)
        items: list[Any] = [title, Text("\n").join(lines)]
        if zeros:
            items.append(
                Text(
                    f"(the other {zeros} entries of that column are 0 and drop out)",
                    style="dim",
                )
            )
        return items

    def render_step(self, step: Step, number: int) -> Group:
        width = self.width
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
        if step.kind is StepKind.CHAIN:
            extra = self.one_entry(step, width)
            if extra:
                items += [*extra, Text("")]
        ledger = self.ledger(step, width)
        if ledger is not None:
            items.append(ledger)
        if step.note:
            # Prose reads best at most about 100 columns wide, however wide the terminal.
            items.append(Constrain(Text(step.note, style="dim"), NOTE_WIDTH))
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


def header(derivation: Derivation, width: int = 100) -> Text:
    """What is derived, then the sizes and settings, wrapped only between settings."""
    c = derivation.config
    conv = c.conv
    forward = formula_text(conv.forward(), c.letters)
    lhs = c.letters.of("Y")
    names = conv.sizes
    title = Text(f"Backpropagation through {lhs} = {forward}", style="bold")
    parts = [
        f"{names[0]}={c.n}, {names[1]}={c.d}, {names[2]}={c.m}",
        f"convention {conv.name}",
        f"vec order {c.vec}",
        f"{c.layout} layout",
        f"loss {c.loss}",
        f"method {c.method}",
    ]
    line = ""
    for part in parts:
        if line and len(line) + 3 + len(part) > width:
            title.append(f"\n{line}")
            line = part
        else:
            line = f"{line} · {part}" if line else part
    title.append(f"\n{line}")
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

    def sections(self, width: int) -> tuple[Any, list[Any], list[Any]]:
        """(the header, one renderable per step, the closing certificate and verdict).

        ``--step`` pauses between the steps; the whole view is these in order.
        """
        renderer = TerminalRenderer(
            max_entries=self.max_entries,
            max_terms=self.max_terms,
            width=width,
            letters=self.derivation.config.letters,
            config=self.derivation.config,
        )
        ok = self.derivation.verified
        closing = [
            Text(""),
            certificate_table(self.derivation),
            Text(
                "All results verified." if ok else "Verification FAILED (see ✗ above).",
                style="bold green" if ok else "bold red",
            ),
        ]
        return header(self.derivation, width), renderer.steps(self.derivation), closing

    def renderables(self, width: int) -> Iterator[Any]:
        """The header, each step, then the certificate."""
        head, steps, closing = self.sections(width)
        yield head
        yield Text("")
        yield from steps
        yield from closing

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        yield from self.renderables(options.max_width)


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
    """The terminal view as plain text (no escape codes) at ``width`` columns."""
    return plain_text(TerminalView(derivation, **settings), width=width)
