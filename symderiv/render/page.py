"""What a page shows, decided once for every format: a Derivation as a sequence of blocks.

``page(derivation)`` returns the blocks in reading order; every printer
(:class:`symderiv.render.base.PagePrinter`) has one method per block kind, so all formats
show the same content. Where a format deliberately leaves a kind out, that choice is in
``OMITTED`` below, and nowhere in a printer's code.

The blocks carry data (steps, polynomials, notation trees, prose with marked maths from
:mod:`symderiv.notes`), never formatted text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from itertools import groupby
from typing import TYPE_CHECKING, Any, get_args

from .. import notes
from ..algebra import Poly, PolyMatrix
from ..check.grammar import walk as walk_node
from ..conventions import Config, command_line, entry_name
from ..notation import (
    SCALARS,
    Comm,
    Deriv,
    Equation,
    Explicit,
    Expr,
    Jac,
    Kron,
    Node,
    Prod,
    Sum,
    T,
    shape,
)
from ..notation import Shape as NodeShape
from ..notes import Items as Items  # the block of a short list is notes' own
from ..notes import Math, Prose
from ..steps import Check, Derivation, Step, StepKind

if TYPE_CHECKING:
    from ..values import Companion


#: Default number of rows and columns of a matrix shown before ⋯ ⋮ ⋱, and of terms of the
#: entry written out before + ⋯ + (the display limit, ``--max-entries``).
DEFAULT_MAX_ENTRIES = 12


# -- the block kinds ------------------------------------------------------------------------
class Level(Enum):
    """How important a heading is: the page's title, a part of it, a titled paragraph."""

    PAGE = "page"
    PART = "part"
    MINOR = "minor"


@dataclass(frozen=True)
class PageTitle:
    """The title, the sizes and settings, the command that reproduces the page."""

    title: Prose
    settings: tuple[Prose, ...]
    command: str
    config: Config
    #: the notebook's first code cell, when not ``derive(...)`` of ``config`` (a network)
    setup: str = ""


@dataclass(frozen=True)
class Section:
    """A part of the page under a heading (the set-up, one variable, the summary)."""

    title: Prose
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class StepGroup:
    """One numbered step: its title and what it shows."""

    step: Step
    number: int
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Heading:
    """A heading inside a part (a remark's or a background topic's title)."""

    title: Prose
    level: Level = Level.MINOR


@dataclass(frozen=True)
class Display:
    """Displayed equations of a step; ``boxed``: the formulas to keep.

    ``group``: the equations come in runs of this many that belong together (a slice
    ∂Y/∂v_kl and its contraction ∂L/∂v_kl): a printer that sets several equations on one
    line never ends a line inside a run.
    """

    equations: tuple[Equation, ...]
    kind: StepKind
    boxed: bool = False
    group: int = 1


@dataclass(frozen=True)
class Formula:
    """A displayed formula written in notes (Unicode and TeX)."""

    math: Math


@dataclass(frozen=True)
class Note:
    """A paragraph; ``short`` replaces it on slides (None: the same; (): left out).

    ``aside``: a step's note, set in smaller or dimmer type.
    """

    prose: Prose
    short: Prose | None = None
    aside: bool = False


@dataclass(frozen=True)
class Notation:
    """The compact notation ȳ_{i,j} := ∂L/∂y_{i,j} used inside the large matrices."""

    before: Prose
    math: Math
    after: Prose


@dataclass(frozen=True)
class EntrySum:
    """One chain-rule entry written out: ∂L/∂v₁ = Σ_r upstream_r · J[r, 0].

    ``terms`` are the nonzero (upstream, Jacobian) pairs shown; ``zeros`` counts the
    Jacobian entries of that column that are 0 and drop out. Past the display limit only
    the first terms and the last are shown: ``hidden`` counts the nonzero terms left out
    between them (printers write "+ ⋯ +" there and say how many).
    """

    var: str
    atom: str
    terms: tuple[tuple[Poly, Poly], ...]
    zeros: int
    title: Prose
    hidden: int = 0


@dataclass(frozen=True)
class Dims:
    """The shape of a formula, with the shapes of its factors: (2×3)·(3×2) → 2×3.

    ``op`` is "" for a leaf, "·" for a product, "⊗" for a Kronecker product, "+" for a sum.
    """

    shape: tuple[int, int] | None
    op: str = ""
    parts: tuple[Dims, ...] = ()


@dataclass(frozen=True)
class LedgerItem:
    """One formula of a step with its shape; ``names``: the shape in size names."""

    node: Node
    dims: Dims
    names: tuple[str, str] | None
    reshaped: bool = False


@dataclass(frozen=True)
class ShapeLedger:
    """The shape of every formula of a step, each product's dimensions checked."""

    items: tuple[LedgerItem, ...]


@dataclass(frozen=True)
class Sparsity:
    """The nonzero pattern of an explicit Jacobian, with its Kronecker blocks."""

    matrix: PolyMatrix
    blocks: tuple[int, int] | None
    lhs: Deriv
    caption: Prose
    #: the line above a text drawing (Markdown) when the rules do not separate
    #: Kronecker blocks (the tensor view's grid of blocks ∂y_ij/∂V)
    legend: Prose | None = None


@dataclass(frozen=True)
class Code:
    """Lines of NumPy that implement the closed forms, as a backward pass stores them."""

    intro: Prose
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CertificateTable:
    """The claims checked exactly, one row per claim and variable, and the verdict.

    A certificate too long for one page or slide (a deep network's) is several tables
    in one section: the first has the heading, a later one is ``continued`` (no heading
    of its own), and every one but the last ``continues`` (the verdict, which speaks
    for the whole certificate, comes once, after the last table). ``verified``: every
    check of the whole certificate passed.
    """

    intro: Prose
    checks: tuple[Check, ...]
    verified: bool
    continued: bool = False
    continues: bool = False


@dataclass(frozen=True)
class Remarks:
    """Where learners trip: titled paragraphs."""

    title: Prose
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Background:
    """The mathematical background (an appendix): titled paragraphs and formulas."""

    title: Prose
    short_title: Prose
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ClosedShape:
    """A closed form ∂L/∂V = … with the shapes of its factors and of the result."""

    var: str
    closed: Node
    dims: Dims
    shape: tuple[int, int]


@dataclass(frozen=True)
class ClosedShapes:
    """Each closed form with the shape of every factor under it (why the shapes match)."""

    items: tuple[ClosedShape, ...]


@dataclass(frozen=True)
class TableCell:
    """A cell of a table: ``prose``, then ``aside`` (set dimmer), then ✓ or ✗ (``passed``)."""

    prose: Prose = ()
    aside: Prose = ()
    passed: bool | None = None


@dataclass(frozen=True)
class Table:
    """A titled table (the conventions page); a rule separates its groups of rows.

    The first column names the rows; ``header`` has one entry per column.
    """

    title: Prose
    header: tuple[Prose, ...]
    groups: tuple[tuple[tuple[TableCell, ...], ...], ...]


@dataclass(frozen=True)
class Verdict:
    """The closing line of a page of checks: every check passed, or not."""

    passed: bool
    prose: Prose


@dataclass(frozen=True)
class ApiCheck:
    """Redo a result with the Python API (a code cell): the Jacobian or the closed form."""

    var: str
    what: str  # "jacobian" or "closed" (for var), "numbers" (every var, with numbers)


Block = (
    PageTitle
    | Section
    | StepGroup
    | Heading
    | Display
    | Formula
    | Note
    | Items
    | Notation
    | EntrySum
    | ShapeLedger
    | ClosedShapes
    | Sparsity
    | Code
    | CertificateTable
    | Remarks
    | Background
    | Table
    | Verdict
    | ApiCheck
)

#: Every block kind, in the order of the table in the README.
KINDS: tuple[type, ...] = get_args(Block)

#: Code cells, which only a notebook has.
_CODE_CELLS: Mapping[type, str] = {ApiCheck: "code cells run only in a notebook"}

#: The block kinds a format leaves out on purpose, and why. Nothing else is left out.
OMITTED: Mapping[str, Mapping[type, str]] = {
    "text": {
        Sparsity: "the colours of the Jacobian (magenta nonzeros, dim zeros) and its "
        "block rules already show the pattern",
        **_CODE_CELLS,
    },
    "latex": {
        ShapeLedger: "each closed form's shapes are under its factors in the remarks",
        **_CODE_CELLS,
    },
    "beamer": {
        ShapeLedger: "a slide has no room for it; the remarks' frame shows the shapes",
        **_CODE_CELLS,
    },
    "markdown": _CODE_CELLS,
    "ipynb": {},
    "html": _CODE_CELLS,
}


#: What each block kind holds, in a few words (the README's table).
DESCRIPTIONS: Mapping[type, str] = {
    PageTitle: "title, sizes and settings",
    Section: "parts: what is derived, one per variable, summary",
    StepGroup: "numbered steps",
    Heading: "titles and headings of remarks and background topics",
    Display: "the equations of each step (explicit matrices, Kronecker forms)",
    Formula: "displayed formulas of the prose (shapes, background)",
    Note: "prose, maths marked (short variants on slides)",
    Items: "the settings of the derivation",
    Notation: "ȳ := ∂L/∂y, the compact upstream notation",
    EntrySum: "one chain-rule entry written out as a sum",
    ShapeLedger: "the shape of every formula of a step",
    ClosedShapes: "each closed form with its factors' shapes",
    Sparsity: "nonzero pattern of each Jacobian",
    Code: "NumPy lines of the closed forms",
    CertificateTable: "the exact checks",
    Remarks: "“Where learners trip”",
    Background: "mathematical background",
    Table: "tables of the conventions page",
    Verdict: "whether every check of the conventions page passed",
    ApiCheck: "code cells that redo the work",
}


def format_table() -> str:
    """Which block appears in which format, as a Markdown table with the reasons."""
    fmts = list(OMITTED)
    lines = [
        "| block | what | " + " | ".join(fmts) + " |",
        "|---|---|" + ":-:|" * len(fmts),
    ]
    for kind in KINDS:
        marks = " | ".join("–" if kind in OMITTED[f] else "✓" for f in fmts)
        lines.append(f"| `{kind.__name__}` | {DESCRIPTIONS[kind]} | {marks} |")
    lines.append("")
    for f in fmts:
        for kind, why in OMITTED[f].items():
            lines.append(f"- {f}, `{kind.__name__}`: {why}.")
    return "\n".join(lines)


def omitted(fmt: str, kind: type) -> bool:
    """True when format ``fmt`` leaves blocks of ``kind`` out (see ``OMITTED``)."""
    return kind in OMITTED.get(fmt, {})


# -- shapes of formulas (the ledger) ---------------------------------------------------------
Shape = tuple[int, int]


class Shapes:
    """The shape of every formula node of a derivation, in numbers and in size names.

    A thin view of :func:`symderiv.notation.shape` at the derivation's sizes.
    """

    #: Nodes that show their own shapes (explicit matrices, sympy matrices).
    shown: tuple[type[Node], ...] = (Explicit, Expr)

    def __init__(self, config: Config) -> None:
        self.roles: dict[str, NodeShape] = config.conv.shapes
        self.numerator = config.layout == "numerator"
        self.sizes: Mapping[str, int] = config.sizes
        self.size_names: Mapping[str, str] = config.letters.sizes

    def _shape(self, node: Node) -> NodeShape | None:
        try:
            return shape(node, self.roles, self.numerator)
        except (TypeError, ValueError, KeyError):
            return None

    def of(self, node: Node) -> Shape | None:
        """The shape of ``node`` at the derivation's sizes (None when it has none)."""
        found = self._shape(node)
        return found.numbers(self.sizes) if found else None

    def names_of(self, node: Node) -> tuple[str, str] | None:
        """The shape of ``node`` in size names, for the nodes that name roles."""
        found = self._shape(node)
        if found is None or any(isinstance(f, int) for f in found.count()):
            return None
        return found.names(self.size_names)

    def dims(self, node: Node) -> Dims:
        """The shape of ``node`` with those of its factors (products, sums, Kronecker)."""
        if isinstance(node, Sum):
            return Dims(self.of(node), "+", tuple(self.dims(a) for a in node.args))
        if isinstance(node, Prod):
            factors = [a for a in node.args if not isinstance(a, SCALARS)]
            if len(factors) > 1:
                return Dims(self.of(node), "·", tuple(self.dims(a) for a in factors))
        if isinstance(node, Kron):
            return Dims(
                self.of(node), "⊗", (self.dims(node.left), self.dims(node.right))
            )
        return Dims(self.of(node))

    def ledger(self, step: Step) -> ShapeLedger | None:
        """The formulas of a step with their shapes (but those in :attr:`shown`)."""
        wrt = step.wrt
        items: list[LedgerItem] = []
        seen: set[Node] = set()
        # one layer's ∂L/∂V reshaped (a network's Jacobians show their own shapes)
        jacobian = step.view == "jacobian" and Jac not in self.shown
        if step.kind is StepKind.SIMPLIFY and wrt and jacobian:
            j = Jac("L", wrt)
            items.append(LedgerItem(j, Dims(self.of(j)), None, reshaped=True))
            seen.add(j)
        # the tensor view's ∂Y/∂V is 4-D: its 2-D Jacobian shape ((N·M)×(N·D)) would
        # contradict the grid drawn and the note, which state N×M×N×D and its blocks
        tensor = step.view == "tensor" and step.kind is StepKind.JACOBIAN
        for node in (node for eq in step.equations for node in eq.parts):
            explicit = isinstance(node, self.shown) or (
                isinstance(node, Prod)
                and any(isinstance(a, Explicit) for a in node.args)
            )
            if explicit or (tensor and isinstance(node, Deriv)) or node in seen:
                continue
            if self.of(node) is not None:
                seen.add(node)
                items.append(LedgerItem(node, self.dims(node), self.names_of(node)))
        return ShapeLedger(tuple(items)) if items else None


# -- what a matrix shows (every printer draws the same rows, columns and rules) ---------------
def shown_indices(count: int, limit: int) -> list[int | None]:
    """Indices shown of ``count``: all, or the first ``limit - 2``, None (an ellipsis), the last.

    >>> shown_indices(5, 12), shown_indices(16, 5)
    ([0, 1, 2, 3, 4], [0, 1, 2, None, 15])
    """
    if count <= limit:
        return list(range(count))
    if limit <= 1:
        return [0, None]
    keep = max(limit - 2, 1)
    return [*range(keep), None, count - 1]


def block_rules(
    rows: list[int | None],
    cols: list[int | None],
    blocks: tuple[int, int] | None,
    shape: tuple[int, int],
) -> tuple[list[bool], list[bool]]:
    """(before which shown column, before which shown row) a Kronecker block rule goes.

    ``rows`` and ``cols`` are the indices shown (None: an ellipsis, never next to a rule)
    of a matrix of ``shape`` made of blocks of ``blocks`` (rows, cols).

    >>> block_rules([0, 1, 2, 3], [0, 1], (2, 1), (4, 2))
    ([False, True], [False, False, True, False])
    """
    vsep, hsep = [False] * len(cols), [False] * len(rows)
    if blocks is not None:
        for seps, shown, step, size in (
            (vsep, cols, blocks[1], shape[1]),
            (hsep, rows, blocks[0], shape[0]),
        ):
            for k in range(1, len(shown)):
                i, prev = shown[k], shown[k - 1]
                seps[k] = (
                    i is not None and prev is not None and step < size and i % step == 0
                )
    return vsep, hsep


# -- the entry written out ---------------------------------------------------------------------
def shown_terms(count: int, limit: int) -> tuple[list[int], int]:
    """Which of ``count`` terms a sum shows at display limit ``limit``, and how many it hides.

    All of them up to the limit; past it the first ``limit - 2`` (at least one) and the
    last, as the matrices show rows and columns.

    >>> shown_terms(3, 12), shown_terms(20, 5)
    (([0, 1, 2], 0), ([0, 1, 2, 19], 16))
    """
    shown = [i for i in shown_indices(count, max(limit, 2)) if i is not None]
    return shown, count - len(shown)


def entry_sum(
    d: Derivation, step: Step, max_entries: int = DEFAULT_MAX_ENTRIES
) -> EntrySum | None:
    """Entry 1 of J_L = J_f·J_y written out, for a chain-rule step of the Jacobian view.

    Past ``max_entries`` nonzero terms the sum is elided (:func:`shown_terms`), so its
    size does not grow with N: the block carries the terms shown and the count hidden.
    """
    var = step.wrt
    if (
        step.kind is not StepKind.CHAIN
        or step.view != "jacobian"
        or var is None
        or var not in d.results
    ):
        return None
    jac = d.results[var].jacobian
    row = d.upstream.vec(d.config.vec)
    if jac.cols < 1 or len(row) != jac.rows:
        return None
    # Column 1 of J_y holds ∂y_r/∂v for the first entry v of vec(var): entry (1, 1) of
    # the variable in both vec orders.
    atom = "b_1" if var == "b" else entry_name(var, 1, 1)
    nonzero = [r for r in range(jac.rows) if not jac[r, 0].is_zero()]
    shown, hidden = shown_terms(len(nonzero), max_entries)
    terms = tuple((row[nonzero[k]], jac[nonzero[k], 0]) for k in shown)
    return EntrySum(
        var,
        atom,
        terms,
        jac.rows - len(nonzero),
        notes.entry_title(d.config, var),
        hidden,
    )


# -- the page -----------------------------------------------------------------------------------
def _parts(parts: list[notes.Part]) -> Iterator[Block]:
    for part in parts:
        if isinstance(part, notes.Para):
            yield Note(part.prose, part.short)
        elif isinstance(part, notes.Math):
            yield Formula(part)
        elif isinstance(part, Items):
            yield part
        else:
            yield Heading(part.prose)


def _is_upstream(step: Step) -> bool:
    # dY = ∂L/∂Y, or dY = (∂L/∂Y)ᵀ in numerator layout
    return step.kind is StepKind.DEFINE and any(
        isinstance(q, Deriv) and q.of == "L" and q.wrt == "Y" and not q.vec
        for eq in step.equations
        for p in eq.parts
        for q in ((p.arg if isinstance(p, T) else p),)
    )


def _is_summary(step: Step) -> bool:
    return step.kind is StepKind.RESULT and step.wrt is None


def _part_of(numbered: tuple[int, Step]) -> tuple[str, str | None]:
    """The part of the page a (number, step) goes in: ("summary", None), or its view
    and variable."""
    step = numbered[1]
    return ("summary", None) if _is_summary(step) else (step.view, step.wrt)


def _sparsity(c: Config, step: Step) -> Sparsity | None:
    """The nonzero pattern of the Jacobian a Jacobian step writes out (the first one)."""
    for eq in step.equations if step.kind is StepKind.JACOBIAN else ():
        lhs = eq.parts[0]
        explicit = [
            p
            for p in eq.parts
            if isinstance(p, Explicit) and isinstance(p.matrix, PolyMatrix)
        ]
        if isinstance(lhs, Deriv) and explicit:
            # the values: the last explicit matrix (the symbols may come first)
            m = explicit[-1].matrix
            caption = notes.sparsity_caption(
                c, lhs, m.shape, m.nnz(), explicit[0].blocks
            )
            legend = notes.sparsity_legend(c, lhs)
            return Sparsity(m, explicit[-1].blocks, lhs, caption, legend)
    return None


def step_blocks(
    d: Derivation,
    step: Step,
    numbers: Companion | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> list[Block]:
    """What one step shows, in order; ``numbers``: the step with ``--values``.

    ``max_entries``: the display limit (the entry written out is elided past it).
    """
    from .code import numpy_lines  # the one NumPy printer
    from .devices import function_view_blocks, slicing_blocks, values_blocks

    c = d.config
    blocks: list[Block] = []
    summary = _is_summary(step)
    # seed 002's route: the map as a function, its Jacobian as symbols, before the numbers
    blocks += function_view_blocks(d, step)
    blocks.append(Display(step.equations, step.kind, boxed=summary))
    commutes = any(
        isinstance(n, Comm)
        for eq in step.equations
        for p in eq.parts
        for n in walk_node(p)
    )
    shown = (
        _sparsity(c, step),
        Note(notes.commutation(c)) if commutes else None,
        entry_sum(d, step, max_entries),
        Shapes(c).ledger(step),
    )
    blocks += [b for b in shown if b is not None]
    # CS231n's slicing by input entry, beside the Jacobian's slicing by output entry
    blocks += slicing_blocks(d, step)
    if numbers is not None:
        blocks += values_blocks(d, step, numbers)
    if step.note:
        note = (step.note,) if isinstance(step.note, str) else step.note
        blocks.append(Note(note, aside=True))
    if _is_upstream(step) and c.upstream != "partial":  # --upstream partial: no ȳ
        before, math, after = notes.upstream_notation(c)
        blocks.append(Notation(before, math, after))
    if summary and (lines := numpy_lines(d)):
        blocks.append(Code(notes.CODE_INTRO, tuple(lines)))
    redo = {StepKind.JACOBIAN: "jacobian", StepKind.RESULT: "closed"}.get(step.kind)
    if redo and step.view == "jacobian" and step.wrt in d.results:
        assert step.wrt is not None
        blocks.append(ApiCheck(step.wrt, redo))
    return blocks


def shown_step(d: Derivation, step: Step) -> Step:
    """The step as the page shows it: where the function view shows the Jacobian as
    symbols, vec(V) first, then ∂vec(Y)/∂vec(V) = symbols = values (with the block rules)
    once."""
    from .devices import function_view_symbols

    symbols = function_view_symbols(d, step)
    if symbols is None:
        return step
    return replace(
        step,
        equations=tuple(
            Equation(eq.parts[0], symbols, *eq.parts[1:])
            if isinstance(eq.parts[0], Deriv)
            and any(isinstance(p, Explicit) for p in eq.parts[1:])
            else eq
            for eq in step.equations
        ),
    )


def page(d: Derivation, max_entries: int = DEFAULT_MAX_ENTRIES) -> tuple[Block, ...]:
    """The whole page of a derivation, in reading order, for every format.

    ``max_entries``: the display limit (``--max-entries``); what depends on it (the entry
    written out) is decided here, once, so every printer shows the same.
    """

    c = d.config
    numbers = None
    if c.values is not None:
        from ..values import companion

        numbers = companion(d, c.values)
    out: list[Block] = [
        PageTitle(notes.title(c), notes.settings(c), command_line(c), c)
    ]
    closed = {v: d.results[v].closed_form for v in c.wrt if v in d.results}
    intro = list(_parts(notes.intro(c, closed)))
    if closed:
        intro.append(
            Display(
                tuple(Equation(Deriv("L", v), node) for v, node in closed.items()),
                StepKind.RESULT,
            )
        )
    out.append(Section(notes.WHAT_IS_DERIVED, tuple(intro)))
    # the steps in parts: the set-up, then one per view and variable, the summary
    for k, (key, run) in enumerate(groupby(enumerate(d.steps, start=1), _part_of)):
        title = (
            notes.SUMMARY if key[0] == "summary" else notes.group_heading(*key, k == 0)
        )
        shown = [(n, shown_step(d, step)) for n, step in run]
        steps = [
            StepGroup(s, n, tuple(step_blocks(d, s, numbers, max_entries)))
            for n, s in shown
        ]
        out.append(Section(title, tuple(steps)))
    background = tuple(_parts(notes.background(c.method)))
    out += [
        ApiCheck("", "numbers"),
        CertificateTable(notes.CERTIFICATE_INTRO, d.checks, d.verified),
        Remarks(notes.REMARKS, tuple(remark_blocks(d))),
        Background(notes.BACKGROUND, notes.BACKGROUND_SHORT, background),
    ]
    return tuple(out)


def page_of(d: Any, max_entries: int = DEFAULT_MAX_ENTRIES) -> tuple[Block, ...]:
    """The page of ``d``: :func:`page` of a Derivation, or the blocks another kind of
    derivation builds with its own ``page`` method (a network, :mod:`symderiv.net.page`).

    Either way the first block is the PageTitle, whose ``config`` the printers bind.
    """
    own = getattr(d, "page", None)
    blocks: tuple[Block, ...] = (
        own(max_entries) if callable(own) else page(d, max_entries)
    )
    assert isinstance(blocks[0], PageTitle)
    return blocks


def remark_blocks(d: Derivation) -> list[Block]:
    """Where learners trip, with the shapes of each closed form after the layout remark."""
    c = d.config
    first = c.wrt[0]
    jac = d.results[first].jacobian if first in d.results else None
    blocks = list(_parts(notes.remarks(c)))
    shapes = Shapes(c)
    closed = tuple(
        ClosedShape(v, r.closed_form, shapes.dims(r.closed_form), r.derivative.shape)
        for v, r in ((v, d.results[v]) for v in c.wrt if v in d.results)
    )
    if closed:
        blocks.append(ClosedShapes(closed))
    other = "col" if c.vec == "row" else "row"
    blocks += _parts(
        notes.remarks_after_shapes(
            c,
            c.conv.kronecker(first, c.vec),
            c.conv.kronecker(first, other),
            jac.shape if jac is not None else None,
            jac.nnz() if jac is not None else 0,
        )
    )
    return blocks


def walk(blocks: tuple[Block, ...] | list[Block]) -> Iterator[Block]:
    """Every block, depth first (containers before their children)."""
    for b in blocks:
        yield b
        if isinstance(b, (Section, StepGroup, Remarks, Background)):
            yield from walk(b.blocks)


__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "KINDS",
    "OMITTED",
    "Block",
    "omitted",
    "page",
    "page_of",
    "walk",
]
