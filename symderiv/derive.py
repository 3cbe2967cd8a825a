"""The engine: a Config becomes a Derivation (steps, results, certificate).

The arithmetic lives in :mod:`symderiv.maths` (Jacobians read off the structure of the
y_ij, the chain rule as a sparse row times a sparse matrix, unvec, exact comparisons);
this module composes it into titled steps, each a function of what it shows, and checks
every result against its closed form evaluated independently. The index and tensor views
(:mod:`symderiv.views`) return their steps and checks as data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from . import maths, notes
from .algebra import PolyMatrix, bulk_work, evaluate
from .conventions import Config, mse_upstream, softmax_ce_upstream
from .guard import guard
from .layer import AffineLayer
from .notation import (
    Deriv,
    Equation,
    Explicit,
    Grad,
    Jac,
    Node,
    Ones,
    Prod,
    Sym,
    T,
    Vec,
    Written,
    transpose,
)
from .steps import Check, Derivation, Result, Step, StepKind

#: Steps every method shows (the summary comes last); the others belong to one view.
SHARED_STEPS: tuple[str, ...] = ("define", "forward", "upstream")

#: The upstream derivative dY = ∂L/∂Y of each loss that defines L, as a formula.
_UPSTREAM: dict[str, Callable[[], Node]] = {
    "mse": mse_upstream,
    "softmax-ce": softmax_ce_upstream,
    "sum": lambda: Prod(Ones("N"), T(Ones("M"))),
}

#: Called as progress(task, done, total) while long work runs.
Progress = Callable[[str, int, int], None]


def derive(
    config: Config | None = None,
    *,
    progress: Progress | None = None,
    force: bool = False,
    **options: Any,
) -> Derivation:
    """Derive ∂L/∂X, ∂L/∂W and ∂L/∂b of the affine layer, step by step.

    Args:
        config: the derivation's settings; or pass them as keywords (n=2, d=2, m=3, ...).
        progress: optional callback progress(task, done, total) for long runs.
        force: run even when :func:`guard` estimates the work as too large.

    Returns:
        A Derivation whose certificate (``.checks``, ``.verified``) proves each result.

    Raises:
        SymderivError: bad settings (a UsageError) or sizes that are too large.

    >>> d = derive(n=1, d=2, m=1)
    >>> d.results["W"].derivative.to_strings(), d.verified
    ([['x_1_1*dy_1_1'], ['x_1_2*dy_1_1']], True)
    """
    if config is None:
        config = Config(**options)
    elif options:
        raise TypeError("pass either a Config or keyword options, not both")
    guard(config, force)
    with bulk_work():
        return _derive(config, progress or _silent)


def _silent(task: str, done: int, total: int) -> None:
    """The default progress callback: says nothing."""


def _derive(config: Config, progress: Progress) -> Derivation:
    """The steps: the shared ones, then per variable Jacobian, chain rule, reshape and
    closed form (each checked), then the index or tensor views, then the summary."""
    conv, order = config.conv, config.vec
    layer = AffineLayer(config.n, config.d, config.m, conv)
    dY = maths.upstream(layer, config.loss)  # (N, M)
    loss_dY = maths.loss_upstream(layer, config.loss)  # (N, M), or None
    total = 2 + 3 * len(config.wrt)
    progress("forward pass", 0, total)
    steps = [
        _define(config, layer),
        _forward(config, layer),
        _upstream(config, dY, loss_dY),
        _vectorize(config, layer),
    ]
    checks: list[Check] = []
    results: dict[str, Result] = {}
    env = {r: layer.matrix(r) for r in ("X", "W", "b")} | {"dY": dY}
    done = 2
    for var in config.wrt:
        progress(f"Jacobian of Y by {var}", done, total)
        jac = maths.jacobian(layer, var, order)  # (N·M, #var)
        kron_node = conv.kronecker(var, order)
        kron = evaluate(kron_node, env, layer.sizes, order)
        kron_diff = maths.compare(jac, kron, "explicit", "Kronecker form")
        checks.append(
            _check(var, notes.Claim.KRONECKER, kron_diff, notes.KRONECKER_AGREES)
        )
        steps.append(_jacobian_step(config, layer, var, jac, kron_node))
        progress(f"chain rule for {var}", done + 1, total)
        row, chain = maths.chain_rule(dY, jac, order)  # (1, N·M), (1, #var)
        steps.append(_chain_step(config, var, row, jac, chain))
        progress(f"closed form of {var}", done + 2, total)
        derivative = maths.unvec(chain, layer.shape(var), order)  # var's shape
        closed_node = conv.closed_form(var)
        if config.layout == "numerator":
            derivative, closed_node = derivative.transpose(), transpose(closed_node)
        closed = evaluate(closed_node, env, layer.sizes, order)
        diff = maths.compare(derivative, closed, "chain rule gives", "closed form")
        checks.append(_check(var, notes.Claim.CLOSED_FORM, diff, notes.CLOSED_AGREES))
        steps += _reshape_steps(config, var, derivative, closed_node, closed)
        results[var] = Result(
            var=var,
            jacobian=jac,
            kronecker=kron_node,
            chain=chain,
            derivative=derivative,
            closed_form=closed_node,
            closed=closed,
            kronecker_verified=kron_diff is None,
            verified=diff is None and kron_diff is None,
        )
        done += 3
    if config.method != "jacobian":
        from .views import run_views  # sympy: loaded only for these views

        for view in run_views(config, dY, results):
            steps += view.steps
            checks += view.checks
            for var, extra in view.extras.items():
                ok = all(e["verified"] for e in extra.values())
                r = results[var]
                results[var] = replace(
                    r, extra={**r.extra, **extra}, verified=r.verified and ok
                )
    if config.method in ("index", "tensor"):
        # The explicit Jacobians were still computed (they are the reference the view
        # is checked against) but their steps belong to the jacobian view.
        steps = [
            replace(s, view=config.method)
            for s in steps
            if s.view != "jacobian" or s.id in SHARED_STEPS
        ]
    steps.append(_summary(config, results))
    progress("done", total, total)
    return Derivation(
        config=config,
        layer=layer,
        upstream=dY,
        loss_upstream=loss_dY,
        steps=tuple(steps),
        results=results,
        checks=tuple(checks),
    )


def _check(
    var: str, claim: notes.Claim, diff: notes.Prose | None, agrees: notes.Prose
) -> Check:
    """The certificate row of ``claim``: passed when :func:`maths.compare` found no
    difference (``diff`` None), its note then ``agrees``."""
    return Check(var, claim, diff is None, diff or agrees)


# -- the steps, each a function of what it shows --------------------------------------------
def _define(c: Config, layer: AffineLayer) -> Step:
    """X, W and b with every entry its own symbol."""
    return Step(
        "define",
        StepKind.DEFINE,
        "The layer and its symbols",
        tuple(Equation(Sym(r), Explicit(layer.matrix(r))) for r in ("X", "W", "b")),
        note=notes.define_note(c),
    )


def _forward(c: Config, layer: AffineLayer) -> Step:
    """Y = X W + 1_N b written entry by entry."""
    return Step(
        "forward",
        StepKind.DEFINE,
        "The forward pass, entry by entry",
        (Equation(Sym("Y"), c.conv.forward(), Explicit(layer.Y)),),
        note=notes.forward_note(c),
    )


def _upstream(c: Config, dY: PolyMatrix, loss_dY: PolyMatrix | None) -> Step:
    """The upstream derivative dY = ∂L/∂Y, same shape as Y."""
    n = c.n
    y, t = c.letters.entry("Y"), c.letters.entry("T")
    yt, tt = notes.tex_letters(y), notes.tex_letters(t)
    # in numerator layout ∂L/∂Y is M×N: dY, shaped like Y, is its transpose
    up: Node = T(Deriv("L", "Y")) if c.layout == "numerator" else Deriv("L", "Y")
    # the loss written out (none for the generic loss), then dY = ∂L/∂Y = its formula
    written = {
        "sum": (Written(f"L = Σᵢⱼ {y}ᵢⱼ", rf"L = \sum_{{ij}} {yt}_{{ij}}"),),
        "softmax-ce": (
            Written(
                f"pᵢⱼ = exp({y}ᵢⱼ) / Σₖ exp({y}ᵢₖ)",
                rf"p_{{ij}} = \exp({yt}_{{ij}}) \big/ \sum_{{k}} \exp({yt}_{{ik}})",
            ),
            Written(
                f"L = −(1/{n}) Σᵢ Σⱼ {t}ᵢⱼ log pᵢⱼ",
                rf"L = -\frac{{1}}{{{n}}} \sum_{{i}} \sum_{{j}} {tt}_{{ij}} \log p_{{ij}}",
            ),
        ),
        "mse": (
            Written(
                f"L = 1/(2·{n}) Σᵢ ‖{y}ᵢ − {t}ᵢ‖²",
                rf"L = \frac{{1}}{{2\cdot {n}}} \sum_{{i}} "
                rf"\lVert {yt}_{{i}} - {tt}_{{i}} \rVert^{{2}}",
            ),
        ),
    }.get(c.loss, ())
    dY_is: tuple[Node, ...] = (up, Explicit(dY))
    if loss_dY is not None:  # mse and softmax-ce: dY = ∂L/∂Y = its formula = values
        dY_is = (up, _UPSTREAM[c.loss](), Explicit(loss_dY))
    eqs = (*(Equation(w) for w in written), Equation(Sym("dY"), *dY_is))
    return Step(
        "upstream",
        StepKind.DEFINE,
        "The upstream derivative",
        eqs,
        note=notes.upstream_note(c),
    )


def _vectorize(c: Config, layer: AffineLayer) -> Step:
    """vec(Y): the outputs as one long vector, in the order stated."""
    return Step(
        "vec_Y",
        StepKind.DEFINE,
        notes.vec_title(c),
        (
            Equation(
                Vec(Sym("Y")),
                Explicit(maths.column(layer.outputs.vec(c.vec))),
                Explicit(maths.column(layer.Y.vec(c.vec))),
            ),
        ),
        note=notes.vec_note(c),
    )


def _blocks(c: Config, var: str) -> tuple[int, int]:
    return maths.blocks(c.conv, var, c.vec, c.n, c.d, c.m)


def _jacobian_step(
    c: Config, layer: AffineLayer, var: str, jac: PolyMatrix, kron_node: Node
) -> Step:
    """vec(var), its explicit Jacobian and the Kronecker form."""
    vec_v = maths.column(layer.matrix(var).vec(c.vec))
    return Step(
        f"dY_d{var}",
        StepKind.JACOBIAN,
        notes.jacobian_title(c, var),
        (
            Equation(Vec(Sym(var)), Explicit(vec_v)),
            Equation(Deriv("Y", var, vec=True), Explicit(jac, _blocks(c, var))),
            Equation(Deriv("Y", var, vec=True), kron_node),
        ),
        note=notes.jacobian_note(c, var, jac.nnz(), jac.rows * jac.cols),
        uses=("vec_Y",),
        wrt=var,
    )


def _chain_step(
    c: Config, var: str, row: PolyMatrix, jac: PolyMatrix, result: PolyMatrix
) -> Step:
    """J_L(v) = J_f(y)·J_y(v), symbolically, as row times matrix, and its value."""
    return Step(
        f"dL_d{var}",
        StepKind.CHAIN,
        notes.chain_title(c, var),
        (
            Equation(Jac("L", var), Prod(Jac("f", "Y"), Jac("Y", var))),
            Equation(
                Jac("L", var), Prod(Explicit(row), Explicit(jac, _blocks(c, var)))
            ),
            Equation(Jac("L", var), Explicit(result)),
        ),
        note=notes.chain_note(c, var),
        uses=("upstream", f"dY_d{var}"),
        wrt=var,
    )


def _reshape_steps(
    c: Config,
    var: str,
    derivative: PolyMatrix,
    closed_node: Node,
    closed: PolyMatrix,
) -> list[Step]:
    """J_L reshaped into var's shape (or its transpose), then the closed form."""
    eqs = [Equation(Deriv("L", var), Explicit(derivative))]
    if c.layout == "numerator":
        eqs.append(Equation(Grad("L", var), T(Deriv("L", var)), Explicit(derivative.T)))
    return [
        Step(
            f"reshape_{var}",
            StepKind.SIMPLIFY,
            notes.reshape_title(c, var),
            tuple(eqs),
            note=notes.reshape_note(c, var),
            uses=(f"dL_d{var}",),
            wrt=var,
        ),
        Step(
            f"closed_{var}",
            StepKind.RESULT,
            notes.closed_title(c, var),
            (
                Equation(
                    Deriv("L", var),
                    *_upstream_numerator(closed_node, c.layout),
                    Explicit(closed),
                ),
            ),
            note=notes.CLOSED_NOTE,
            uses=(f"reshape_{var}",),
            wrt=var,
        ),
    ]


def _summary(c: Config, results: Mapping[str, Result]) -> Step:
    """The formulas to keep."""
    # The last step of each variable in the view shown (index/tensor: see views/).
    last = {"index": "index_closed_", "tensor": "tensor_dL_d"}.get(c.method, "closed_")
    eqs = tuple(Equation(Deriv("L", v), results[v].closed_form) for v in c.wrt)
    if c.loss in _UPSTREAM:
        eqs += (Equation(Sym("dY"), _UPSTREAM[c.loss]()),)
    return Step(
        "summary",
        StepKind.RESULT,
        notes.SUMMARY_TITLE,
        eqs,
        note=notes.summary_note(c),
        uses=tuple(f"{last}{v}" for v in c.wrt),
        view="jacobian" if c.method == "all" else c.method,
    )


def _upstream_numerator(node: Node, layout: str) -> tuple[Node, ...]:
    """The closed form, and in numerator layout also with the upstream in numerator
    shape, as handwritten notes write it (seed 001: ∂L/∂W = ∂L/∂y · x with ∂L/∂y of
    shape M×N): dYᵀ becomes ∂L/∂Y, dY becomes (∂L/∂Y)ᵀ."""
    if layout != "numerator":
        return (node,)

    def swap(n: Node) -> Node:
        if isinstance(n, T) and n.arg == Sym("dY"):
            return Deriv("L", "Y")
        if n == Sym("dY"):
            return T(Deriv("L", "Y"))
        if isinstance(n, T):
            return T(swap(n.arg))
        if isinstance(n, Prod):
            return Prod(*(swap(a) for a in n.args))
        return n

    return (node, swap(node))
