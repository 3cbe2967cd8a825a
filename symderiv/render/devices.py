"""The teaching devices on the page: the function view, the other slicing of the
derivative tensor and the numbers of ``--values``, as ordinary blocks (notes and displays).

The maths comes from :mod:`symderiv.teaching` and :mod:`symderiv.values` (data), the words
from :mod:`symderiv.notes`; :func:`symderiv.render.page.step_blocks` places the blocks, so
every format shows them through its existing Note and Display printers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import notes
from ..algebra import Poly, PolyMatrix
from ..notation import Deriv, Equation, Explicit, Jac, Sym, Vec
from ..steps import Derivation, Step, StepKind

if TYPE_CHECKING:
    from ..values import Companion
    from .page import Block

#: The function view's matrix of symbols is shown up to this many rows, and columns up
#: to SYMBOLS_COLS (∂y₁,₁/∂x₁,₁ is 11 cells wide: more would not fit 80 columns).
SYMBOLS_MAX = 12
SYMBOLS_COLS = 4
#: The other slicing shows every slice up to this many, else the first ones.
SLICES_MAX = 4


def _partial(num: str, den: str) -> Poly:
    """∂num/∂den as a display atom (each printer shows its display names; no sympy)."""
    from .names import partial_atom

    return Poly.atom(partial_atom(num, den))


def _one(p: Poly) -> Explicit:
    """One number (∂L/∂x₁,₁ or ∂Y/∂x₁,₁ as a name), printed as a scalar, not as [·] (1×1)."""
    return Explicit(PolyMatrix(1, 1, {(0, 0): p} if p.terms else {}), scalar=True)


def _shown(d: Derivation, step: Step, kind: StepKind) -> str | None:
    """The derived variable of the jacobian view's ``kind`` step, else None: the
    function view goes with its Jacobian step, the other slicing with its chain-rule
    step."""
    shown = step.kind is kind and step.view == "jacobian" and step.wrt in d.results
    return step.wrt if shown else None


def _symbols_fit(d: Derivation, var: str) -> bool:
    rows, cols = d.layer.shape(var)
    return d.config.n * d.config.m <= SYMBOLS_MAX and rows * cols <= SYMBOLS_COLS


def function_view_blocks(d: Derivation, step: Step) -> list[Block]:
    """Before a Jacobian: the map vec(V) ↦ vec(Y), and whether its symbols are shown."""
    from .page import Note

    var = _shown(d, step, StepKind.JACOBIAN)
    if var is None:
        return []
    rows, cols = d.layer.shape(var)
    domain, codomain = rows * cols, d.config.n * d.config.m
    # the symbols are shown only where they fit; the sentence says which is shown
    fits = _symbols_fit(d, var)
    para = notes.function_view(d.config, var, domain, codomain, fits)
    return [Note(para.prose, para.short)]


def function_view_symbols(d: Derivation, step: Step) -> Explicit | None:
    """The Jacobian as symbols ∂y_ij/∂v_kl, when the function view shows them (the step
    writes ∂vec(Y)/∂vec(V) = symbols = values, once)."""
    from ..teaching import function_view

    var = _shown(d, step, StepKind.JACOBIAN)
    if var is None or not _symbols_fit(d, var):
        return None
    view = function_view(d, var)
    return Explicit(
        PolyMatrix(
            view.codomain,
            view.domain,
            {
                (r, k): _partial(*view.symbols[r][k])
                for r in range(view.codomain)
                for k in range(view.domain)
            },
        )
    )


def slicing_blocks(d: Derivation, step: Step) -> list[Block]:
    """After the chain rule: ∂Y/∂v_kl shaped like Y, contracted with dY (the other slicing)."""
    from ..teaching import slices_by_input
    from .page import Display, Note

    var = _shown(d, step, StepKind.CHAIN)
    if var is None:
        return []
    slices = slices_by_input(d, var)
    shown = slices[:SLICES_MAX]
    # each contraction is the derivation's own entry: the reason both slicings agree;
    # every slice is checked, the shown ones and those left out
    derivative = d.results[var].derivative
    if d.config.layout == "numerator":
        derivative = derivative.transpose()
    agrees = all(s.weight == derivative[s.at] for s in slices)
    big_y = d.config.letters.of("Y")
    equations = []
    for piece in shown:
        dy_dv = _partial(big_y, piece.name)
        # the slice contracted with dY: one number, ∂L/∂v_kl
        equations.append(Equation(_one(dy_dv), Explicit(piece.matrix)))
        equations.append(Equation(_one(_partial("L", piece.name)), _one(piece.weight)))
    para = notes.slicing(d.config, var, len(shown), len(slices))
    blocks: list[Block] = [
        Note(para.prose, para.short),
        Display(tuple(equations), StepKind.CHAIN, group=2),
    ]
    if not agrees:  # never hidden: the certificate fails too
        blocks.append(Note(("✗ the two slicings disagree",)))
    return blocks


#: The matrices that ``--values`` writes out in numbers at the steps that define them.
_MATRICES_SHOWN = {
    "define": ("X", "W", "b"),
    "forward": ("Y",),
    "upstream": ("T", "dY"),
}


def values_blocks(d: Derivation, step: Step, numbers: Companion) -> list[Block]:
    """The step's matrices with the numbers of ``--values`` in place of the symbols."""
    from .page import Display, Note

    var = step.wrt
    table: list[Equation] = []
    if step.id in _MATRICES_SHOWN:  # T only with a loss that has targets
        roles = [r for r in _MATRICES_SHOWN[step.id] if r in numbers.values]
        table = [Equation(Sym(r), Explicit(numbers.values[r])) for r in roles]
    elif step.id == "vec_Y":
        table = [Equation(Vec(Sym("Y")), Explicit(numbers.vec_y))]
    elif var is not None and var in numbers.variables:
        nums = numbers.variables[var]
        letter, closed = d.config.letters.entry(var), d.results[var].closed_form
        parts = {
            f"dY_d{var}": (Deriv("Y", var, vec=True), Explicit(nums.jacobian)),
            f"dL_d{var}": (Jac("L", letter), Explicit(nums.chain)),
            f"reshape_{var}": (Deriv("L", var), Explicit(nums.derivative)),
            f"closed_{var}": (Deriv("L", var), closed, Explicit(nums.closed)),
        }.get(step.id)
        table = [Equation(*parts)] if parts else []
    if not table:
        return []
    first = step.id == d.steps[0].id
    return [
        Note(notes.values_note(d.config, first)),
        Display(tuple(table), step.kind),
    ]


__all__ = [
    "function_view_blocks",
    "function_view_symbols",
    "slicing_blocks",
    "values_blocks",
]
