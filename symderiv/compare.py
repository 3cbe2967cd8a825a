"""The three conventions and both vectorization orders side by side, verified.

``compare(n, d, m)`` runs the engine eight times (xw, torch, column, wx × row, col) at the given
sizes and builds a :class:`Comparison`: one :class:`Row` per fact (forward formula, shape of
each object, closed forms of ∂L/∂X, ∂L/∂W, ∂L/∂b, Kronecker forms of the three Jacobians in
each order), each cell holding what one convention says and whether that derivation's own
certificate (or a direct comparison with its matrices) confirmed it. The checks in
:attr:`Comparison.agreement` show why two textbooks that look different agree: the
derivatives of torch and column are those of xw with W transposed (and b a column).

The page (:mod:`symderiv.render.comparison`: :func:`comparison_page`, printed by the
derivation's printers) only reads that data.

>>> c = compare(1, 1, 1)
>>> c.verified, [r.key for r in c.rows][:3]
(True, ['forward', 'shape_X', 'shape_W'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .algebra import Poly, PolyMatrix, evaluate
from .conventions import (
    CONVENTIONS,
    VARIABLES,
    VEC_ORDERS,
    Config,
    Convention,
)
from .notation import Node, Shape
from .notes import Claim
from .render.formula import prose_plain

if TYPE_CHECKING:
    from .derive import Progress
    from .steps import Derivation


@dataclass(frozen=True)
class Cell:
    """What one convention says in one row, and whether the engine confirmed it.

    Attributes:
        formula: the formula (sizes by name, printed in each convention's names), or
            None for a shape cell.
        shape: the object's shape at the given sizes (shape and Jacobian rows).
        shape_names: the same shape in the convention's size names, e.g. ("N·M", "N·C_in").
        passed: the claim held at the given sizes.
        detail: how it was checked, or the first difference when it failed.
    """

    formula: Node | None
    shape: tuple[int, int] | None
    shape_names: tuple[str, str] | None
    passed: bool
    detail: str


@dataclass(frozen=True)
class Row:
    """One line of the comparison: the same question asked of every convention.

    Attributes:
        key: stable id, e.g. "forward", "shape_W", "closed_b", "kron_col_W".
        group: "forward", "shapes", "closed" or "kronecker".
        role: the object the row is about (X, W, b, Y, dY), None for the forward pass.
        order: the vectorization order of a Kronecker row, else None.
        cells: convention name -> Cell, in the order xw, torch, column, wx.
    """

    key: str
    group: str
    role: str | None
    order: str | None
    cells: Mapping[str, Cell]

    @property
    def passed(self) -> bool:
        """Every convention's claim held."""
        return all(c.passed for c in self.cells.values())


@dataclass(frozen=True)
class Agreement:
    """A check that two conventions give the same derivative once W (and b) are relabelled.

    ``convention``'s ∂L/∂``var``, with each w_i_j renamed w_j_i (its W is xw's Wᵀ) and
    transposed when ``transposed``, equals xw's ∂L/∂``var`` entry by entry.
    """

    convention: str
    var: str
    transposed: bool
    passed: bool
    detail: str


@dataclass(frozen=True)
class Comparison:
    """The conventions side by side at sizes N=n, D=d, M=m, with their verification."""

    n: int
    d: int
    m: int
    conventions: tuple[Convention, ...]
    rows: tuple[Row, ...]
    agreement: tuple[Agreement, ...]

    @property
    def verified(self) -> bool:
        """Every cell and every agreement check passed."""
        return all(r.passed for r in self.rows) and all(
            a.passed for a in self.agreement
        )

    def group(self, name: str) -> list[Row]:
        """The rows of one group, in order."""
        return [r for r in self.rows if r.group == name]


# -- building the comparison --------------------------------------------------------------
def _shape_cell(
    conv: Convention, role: str, n: int, d: int, m: int, derivs: list[Derivation]
) -> Cell:
    """The shape of ``role``, checked against the engine's matrices (and derivatives)."""
    expected = conv.shape(role, n, d, m)
    problems: list[str] = []
    for der in derivs:
        actual = der.upstream.shape if role == "dY" else der.layer.matrix(role).shape
        if actual != expected:
            problems.append(f"engine's {role} is {actual[0]}×{actual[1]}")
        if role in der.results:
            got = der.results[role].derivative.shape
            if got != expected:
                problems.append(f"∂L/∂{role} is {got[0]}×{got[1]}")
    detail = "; ".join(problems) or "the engine's matrix has this shape" + (
        " and so has ∂L/∂" + role if role in VARIABLES else ""
    )
    return Cell(None, expected, conv.shape_names(role), not problems, detail)


def _forward_cell(conv: Convention, der: Derivation) -> Cell:
    """The forward formula, evaluated and compared with the engine's Y."""
    env = {r: der.layer.matrix(r) for r in ("X", "W", "b")}
    value = evaluate(conv.forward(), env, der.config.sizes)
    diff = value.first_difference(der.layer.Y)
    detail = "Y computed from this formula = the engine's Y, entry by entry"
    if diff is not None:
        detail = f"entry ({diff[0] + 1}, {diff[1] + 1}) differs"
    return Cell(conv.forward(), None, None, diff is None, detail)


def _closed_cell(conv: Convention, var: str, derivs: list[Derivation]) -> Cell:
    """The closed form of ∂L/∂var, proven by both orders' certificates."""
    problems: list[str] = []
    for der in derivs:
        result = der.results[var]
        if result.closed_form != conv.closed_form(var):
            problems.append(f"the engine used another formula ({der.config.vec} order)")
        failed = _failed(der, var, Claim.CLOSED_FORM)
        problems += [f"{der.config.vec} order: {detail}" for detail in failed]
    detail = "; ".join(problems) or (
        "chain-rule result − closed form = 0 entry by entry (row and col order)"
    )
    return Cell(conv.closed_form(var), None, None, not problems, detail)


def _failed(der: Derivation, var: str, claim: str) -> list[str]:
    """What ``der``'s certificate says against ``claim`` about ``var``, in plain text."""
    return [
        prose_plain(check.detail, der.config.letters)
        for check in der.checks
        if check.wrt == var and check.claim == claim and not check.passed
    ]


def _kron_cell(conv: Convention, var: str, der: Derivation) -> Cell:
    """The Kronecker form of ∂vec(Y)/∂vec(var) in ``der``'s order, from its certificate."""
    c = der.config
    result = der.results[var]
    kron = conv.kronecker(var, c.vec)
    problems: list[str] = []
    if result.kronecker != kron:
        problems.append("the engine used another Kronecker form")
    problems += _failed(der, var, Claim.KRONECKER)
    rows, cols = result.jacobian.shape
    expected = (c.n * c.m, len(der.layer.matrix(var).entries))
    if (rows, cols) != expected:
        problems.append(f"Jacobian is {rows}×{cols}, expected {expected}")
    # a row per entry of Y, a column per entry of var: ("N·M", "N·D") for X
    shapes = conv.shapes
    names = Shape(shapes["Y"].count(), shapes[var].count()).names(conv.letters.sizes)
    detail = "; ".join(problems) or "explicit Jacobian = Kronecker form, entry by entry"
    return Cell(kron, (rows, cols), names, not problems, detail)


def _relabel(conv: Convention, matrix: PolyMatrix, var: str) -> tuple[PolyMatrix, bool]:
    """``conv``'s ∂L/∂var written in xw's variables: w_i_j -> w_j_i, transposed to match.

    In torch and column the stored W is xw's Wᵀ (entry w_i_j of one is w_j_i of the other);
    in column the bias is a column, xw's bᵀ. In wx (samples as columns) X, Y and dY are
    xw's transposes as well, so every derivative is the transpose of xw's.
    """
    if not conv.weight_transposed:
        return matrix, False
    swapped = {"w", "x", "y", "dy", "t"} if conv.samples_as_columns else {"w"}
    swap: dict[str, Poly] = {}
    for atom in {a for p in matrix.entries.values() for a in p.atoms()}:
        prefix, *index = atom.split("_")
        if prefix in swapped and len(index) == 2:
            swap[atom] = Poly.atom(f"{prefix}_{index[1]}_{index[0]}")
    out = matrix.subs(swap) if swap else matrix
    transposed = (
        conv.samples_as_columns or var == "W" or (var == "b" and conv.bias_column)
    )
    return (out.transpose() if transposed else out), transposed


def _agreement(
    conv: Convention, var: str, ours: list[Derivation], theirs: list[Derivation]
) -> Agreement:
    """Compare ``conv``'s ∂L/∂var with xw's, in both orders, after relabelling."""
    problems: list[str] = []
    transposed = False
    for mine, other in zip(ours, theirs, strict=True):
        mapped, transposed = _relabel(conv, other.results[var].derivative, var)
        diff = mapped.first_difference(mine.results[var].derivative)
        if diff is not None:
            problems.append(
                f"{other.config.vec} order: entry ({diff[0] + 1}, {diff[1] + 1}) differs"
            )
    detail = "; ".join(problems) or "equal entry by entry (row and col order)"
    return Agreement(conv.name, var, transposed, not problems, detail)


def compare(
    n: int = 2,
    d: int = 2,
    m: int = 3,
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> Comparison:
    """Run every convention in both orders at sizes n, d, m and compare them.

    Args:
        n, d, m: sizes N (batch), D (inputs), M (outputs), each >= 1.
        progress: optional callback progress(task, done, total).
        force: run even when a derivation at these sizes is estimated as too large.

    Returns:
        A Comparison whose every cell was checked by running the engine.

    Raises:
        SymderivError: bad or too large sizes.
    """
    from .derive import _silent, derive
    from .guard import guard

    configs = {
        (name, order): Config(n=n, d=d, m=m, convention=name, vec=order)
        for name in CONVENTIONS
        for order in VEC_ORDERS
    }
    for config in configs.values():
        guard(config, force)  # refuse before any work is done
    report = progress or _silent
    derivations: dict[tuple[str, str], Derivation] = {}
    total = len(configs)
    for k, (key, config) in enumerate(configs.items()):
        report(f"deriving {key[0]}, {key[1]} order", k, total)
        derivations[key] = derive(config, force=True)
    report("done", total, total)

    convs = tuple(CONVENTIONS.values())

    def both(name: str) -> list[Derivation]:
        return [derivations[name, order] for order in VEC_ORDERS]

    rows: list[Row] = [
        Row(
            "forward",
            "forward",
            None,
            None,
            {c.name: _forward_cell(c, derivations[c.name, "row"]) for c in convs},
        )
    ]
    for role in ("X", "W", "b", "Y", "dY"):
        cells = {c.name: _shape_cell(c, role, n, d, m, both(c.name)) for c in convs}
        rows.append(Row(f"shape_{role}", "shapes", role, None, cells))
    for var in VARIABLES:
        cells = {c.name: _closed_cell(c, var, both(c.name)) for c in convs}
        rows.append(Row(f"closed_{var}", "closed", var, None, cells))
    for var in VARIABLES:
        for order in VEC_ORDERS:
            cells = {
                c.name: _kron_cell(c, var, derivations[c.name, order]) for c in convs
            }
            rows.append(Row(f"kron_{order}_{var}", "kronecker", var, order, cells))

    agreement = [
        _agreement(
            conv, var, [derivations["xw", o] for o in VEC_ORDERS], both(conv.name)
        )
        for conv in convs[1:]
        for var in VARIABLES
    ]
    return Comparison(n, d, m, convs, tuple(rows), tuple(agreement))
