"""The index view: ∂L/∂w_hk = Σ_i Σ_j ∂L/∂y_ij · ∂y_ij/∂w_hk, computed by sympy for any sizes.

sympy expands the convention's own formula (say Y = X·W + 1_N·b) into
y_ij = Σ_l x_il·w_lj + b_j with ``IndexedBase`` entries and symbolic N, D, M,
differentiates it with respect to an entry w_hk (the result holds Kronecker deltas), puts
it into the chain rule and lets ``Sum.doit`` collapse the deltas. The collapsed sum is
compared, still for general sizes, with entry (h, k) of the closed form Xᵀ·dY that sympy
expands itself; finally it is summed at the concrete sizes and compared exactly with the
jacobian view.
"""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from .. import notes
from ..algebra import Poly, PolyMatrix
from ..notation import Deriv, Equation, Explicit
from ..notes import Prose
from ..render.indexnotation import Entry, Partial, Product, latex_of, text_of
from ..steps import Check, Step, StepKind
from .calculus import (
    Context,
    VarIndex,
    View,
    compile_entry,
    delta_pairs,
    equation,
    in_layout,
    size_env,
    sum_ranges,
    var_entries,
    var_indices,
)


def index_view(ctx: Context) -> View:
    """The entry-wise derivation for general sizes: its steps, certificate rows and extras.

    Extras per variable (``Result.extra["index"]``): the equation chain and the entry
    derivative as sympy display objects, and whether the view agreed.
    """
    return ctx.collect("index", _variable, _forward_step(ctx))


def _forward_step(ctx: Context) -> Step:
    c, calc, show = ctx.config, ctx.calc, ctx.show
    i, j = ctx.i, ctx.j
    y = calc.forward(i, j)
    sizes = c.size_names
    rows, cols = calc.shape("Y")
    ranges = (
        ("i", str(rows)),
        ("j", str(cols)),
        *((str(s), sizes[1]) for s in sum_ranges(y)),
    )
    return Step(
        "index_forward",
        StepKind.DEFINE,
        notes.index_forward_title(),
        (equation(show.entry_symbol("Y", (i, j)), show.show(y)),),
        note=notes.index_forward_note(c, ranges),
        uses=("forward",),
        view="index",
    )


def _variable(ctx: Context, var: str) -> tuple[list[Step], Check, dict[str, Any]]:
    c, calc, show = ctx.config, ctx.calc, ctx.show
    i, j = ctx.i, ctx.j
    steps: list[Step] = []
    step = functools.partial(Step, wrt=var, view="index")
    vi = var_indices(var, "hk")
    y_ij = show.entry_symbol("Y", (i, j))
    dv = show.partial(y_ij, var, vi.indices)  # ∂y_ij/∂v_hk
    dl = show.partial(show.loss, var, vi.indices)  # ∂L/∂v_hk

    _, raw, partial = calc.partial(var, vi.indices, i, j)
    where = delta_pairs(partial)
    shown = [show.show(raw)] + ([show.show(partial)] if partial != raw else [])
    steps.append(
        step(
            f"index_dY_d{var}",
            StepKind.JACOBIAN,
            notes.index_partial_title(c, var, vi.text),
            (equation(dv, *shown),),
            note=notes.index_partial_note(where, var),
            uses=("index_forward",),
        )
    )

    full, collapsed = calc.chain(var, vi.indices, partial, i, j)
    chain_terms = ctx.sum_over_y(Product(show.show(calc.base["dY"][i, j]), dv))
    steps.append(
        step(
            f"index_dL_d{var}",
            StepKind.CHAIN,
            notes.index_chain_title(c, var, vi.text),
            (equation(dl, chain_terms, show.show(full)),),
            note=notes.index_chain_note(c, var, vi.text),
            uses=("upstream", f"index_dY_d{var}"),
        )
    )

    closed_matrix, closed = calc.closed_entry(var, vi.indices)
    same = collapsed == closed or sp.simplify(collapsed - closed) == 0
    entry = Entry(closed_matrix, *vi.indices)
    eqs = [equation(dl, show.show(collapsed), entry)]
    text = [dl, show.show(full), show.show(collapsed), entry]
    if c.layout == "numerator":
        back = tuple(reversed(vi.indices))
        d_entry = Entry(Partial(show.loss, show.matrix_name(var)), *back)
        t_entry = Entry(closed_matrix.T, *back)
        eqs.append(equation(d_entry, dl, t_entry))
        text = [d_entry, *text[:-1], t_entry]
    instantiated, ok, detail = _instantiate(ctx, vi, collapsed)
    closed_form = ctx.results[var].closed_form
    eqs.append(Equation(Deriv("L", var), closed_form, Explicit(instantiated)))
    pinned = sorted({a for pair in where for a in pair} & {"i", "j"})
    steps.append(
        step(
            f"index_closed_{var}",
            StepKind.SIMPLIFY,
            notes.index_closed_title(c, var),
            tuple(eqs),
            note=notes.index_closed_note(c, vi.text, pinned),
            uses=(f"index_dL_d{var}",),
        )
    )
    claim_detail = notes.index_detail(
        _m(entry), _m(show.show(collapsed)), same, c, detail
    )
    passed = same and ok
    check = Check(var, notes.Claim.INDEX, passed, claim_detail)
    extra = {
        "equation": tuple(text),
        "entry": (dv, show.show(partial)),
        "verified": passed,
    }
    return steps, check, extra


def _instantiate(
    ctx: Context, vi: VarIndex, collapsed: Any
) -> tuple[PolyMatrix, bool, Prose]:
    """Sum the index result at the concrete sizes; compare with the jacobian view."""
    c, calc, var = ctx.config, ctx.calc, vi.var
    fn = compile_entry(collapsed, ctx.upstream)
    env0 = size_env(calc, c)
    names = [str(s) for s in vi.indices]
    derivative = ctx.results[var].derivative
    out: dict[tuple[int, int], Poly] = {}
    first: Prose | None = None
    for index, pos in var_entries(var, c):
        value = fn({**env0, **dict(zip(names, index, strict=True))})
        at = in_layout(c, pos)
        if not value.is_zero():
            out[at] = value
        if first is None and value != derivative[at]:
            first = notes.index_differs(
                (at[0] + 1, at[1] + 1),
                notes.Code(value.to_str()),
                notes.Code(derivative[at].to_str()),
            )
    matrix = PolyMatrix(derivative.rows, derivative.cols, out)
    if first is None:
        return matrix, True, notes.INDEX_AGREES
    return matrix, False, first


def _m(expr: Any) -> notes.M:
    """A sympy display object as marked maths (Unicode, as the terminal's steps write
    it, and LaTeX)."""
    return notes.M(text_of(expr, pretty=True), latex_of(expr))
