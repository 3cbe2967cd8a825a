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

from . import maths
from .algebra import Poly, PolyMatrix, bulk_work, evaluate
from .conventions import Config, mse_upstream
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
    Text,
    Vec,
    transpose,
)
from .steps import Check, Derivation, Result, Step, StepKind

#: Steps every method shows (the summary comes last); the others belong to one view.
SHARED_STEPS: tuple[str, ...] = ("define", "forward", "upstream")

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
    mse = maths.loss_upstream(layer, config.loss)
    total = 2 + 3 * len(config.wrt)
    progress("forward pass", 0, total)
    steps = [
        _define(config, layer),
        _forward(config, layer),
        _upstream(config, dY, mse),
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
            Check(
                var,
                "Jacobian = Kronecker form",
                kron_diff is None,
                kron_diff or "explicit Jacobian = Kronecker form, entry by entry",
            )
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
        checks.append(
            Check(
                var,
                "chain rule = closed form",
                diff is None,
                diff or "chain-rule result − closed form = 0, entry by entry",
            )
        )
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
        loss_upstream=mse,
        steps=tuple(steps),
        results=results,
        checks=tuple(checks),
    )


# -- the steps, each a function of what it shows --------------------------------------------
def _define(c: Config, layer: AffineLayer) -> Step:
    """X, W and b with every entry its own symbol."""
    conv, sizes = c.conv, c.conv.sizes
    return Step(
        "define",
        StepKind.DEFINE,
        "The layer and its symbols",
        tuple(Equation(Sym(r), Explicit(layer.matrix(r))) for r in ("X", "W", "b")),
        note=(
            f"{sizes[0]} = {_count(c.n, 'sample')}, "
            f"{sizes[1]} = {_count(c.d, 'input feature')}, "
            f"{sizes[2]} = {_count(c.m, 'output feature')}; convention {conv.name} "
            f"({conv.source}). Every entry is its own symbol, indexed from 1."
        ),
    )


def _forward(c: Config, layer: AffineLayer) -> Step:
    """Y = X W + 1_N b written entry by entry."""
    note = (
        f"Row i of {c.letters.of('Y')} is the output for sample i; the bias is added "
        "to every row (1_N is a column of ones)."
    )
    if c.conv.samples_as_columns:
        note = (
            f"Column j of {c.letters.of('Y')} is the output for sample j; the bias is "
            "added to every column (b·1_Nᵀ repeats b in each of the N columns)."
        )
    return Step(
        "forward",
        StepKind.DEFINE,
        "The forward pass, entry by entry",
        (Equation(Sym("Y"), c.conv.forward(), Explicit(layer.Y)),),
        note=note,
    )


def _upstream(c: Config, dY: PolyMatrix, mse: PolyMatrix | None) -> Step:
    """The upstream derivative dY = ∂L/∂Y, same shape as Y."""
    loss, n = c.loss, c.n
    y, t = c.letters.entry("Y"), c.letters.entry("T")
    eqs: tuple[Equation, ...]
    if loss == "generic":
        eqs = (Equation(Sym("dY"), Deriv("L", "Y"), Explicit(dY)),)
        note = (
            f"Backpropagation hands the layer the upstream derivatives ∂L/∂{y}_ij "
            "from the layers above; they stay symbols here."
        )
    elif loss == "sum":
        eqs = (
            Equation(Text(f"L = Σ_ij {y}_ij")),
            Equation(Sym("dY"), Deriv("L", "Y"), Explicit(dY)),
        )
        note = f"For L = Σ {y}_ij every upstream derivative is 1."
    else:
        assert mse is not None
        eqs = (
            Equation(Text(f"L = 1/(2·{n}) Σ_i ‖{y}_i − {t}_i‖²")),
            Equation(Sym("dY"), Deriv("L", "Y"), mse_upstream(), Explicit(mse)),
        )
        note = (
            f"The chain starts one step earlier, at the loss: ∂L/∂{y}_ij = "
            f"({y}_ij − {t}_ij)/N. Below, ∂L/∂{y}_ij stands for this value; the "
            "identities hold for any upstream derivative, so in particular for this one."
        )
    return Step("upstream", StepKind.DEFINE, "The upstream derivative", eqs, note=note)


def _vectorize(c: Config, layer: AffineLayer) -> Step:
    """vec(Y): the outputs as one long vector, in the order stated."""
    order = "rows stacked (reshape(-1))" if c.vec == "row" else "columns stacked"
    return Step(
        "vec_Y",
        StepKind.DEFINE,
        f"Vectorize: {c.letters.of('Y')} as one vector ({c.vec} order)",
        (
            Equation(
                Vec(Sym("Y")),
                Explicit(maths.output_names(c.shape("Y"), c.vec)),
                Explicit(maths.column(layer.Y.vec(c.vec))),
            ),
        ),
        note=(
            f"vec stacks the entries of a matrix into one column, here {order}. Every "
            "vector below uses the same order, so the Jacobians are ordinary matrices."
        ),
    )


def _blocks(c: Config, var: str) -> tuple[int, int]:
    return maths.blocks(c.conv, var, c.vec, c.n, c.d, c.m)


def _jacobian_step(
    c: Config, layer: AffineLayer, var: str, jac: PolyMatrix, kron_node: Node
) -> Step:
    """vec(var), its explicit Jacobian and the Kronecker form."""
    names = maths.entries_in_vec_order(layer, var, c.vec)
    vec_v = maths.column([Poly.atom(nm) for nm in names])
    what = {"X": "the input", "W": "the weights", "b": "the bias"}[var]
    return Step(
        f"dY_d{var}",
        StepKind.JACOBIAN,
        f"Jacobian of vec({c.letters.of('Y')}) with respect to vec({c.letters.of(var)})",
        (
            Equation(Vec(Sym(var)), Explicit(vec_v)),
            Equation(Deriv("Y", var, vec=True), Explicit(jac, _blocks(c, var))),
            Equation(Deriv("Y", var, vec=True), kron_node),
        ),
        note=_jacobian_note(c, var, jac, what),
        uses=("vec_Y",),
        wrt=var,
    )


def _jacobian_note(c: Config, var: str, jac: PolyMatrix, what: str) -> str:
    rows, cols = jac.shape
    total = rows * cols
    share = jac.nnz()
    y, w = c.letters.entry("Y"), c.letters.of("W")
    where = {
        "X": f"{y}_ij depends on row i of {c.letters.of('X')} only",
        "W": f"{y}_ij depends only on the weights of output j ("
        + (f"row j of {w}" if c.conv.weight_transposed else f"column j of {w}")
        + ")",
        "b": f"{y}_ij depends on {c.letters.entry('b')}_j only, with derivative 1",
    }[var]
    if c.conv.samples_as_columns:  # y_ij: output i of sample j
        where = {
            "X": f"{y}_ij depends on column j of {c.letters.of('X')} only",
            "W": f"{y}_ij depends only on the weights of output i (row i of {w})",
            "b": f"{y}_ij depends on {c.letters.entry('b')}_i only, with derivative 1",
        }[var]
    return (
        f"Row k holds the derivatives of the k-th output by every entry of {what}: "
        f"{where}. Nonzero entries: {share} of {total}."
    )


def _chain_step(
    c: Config, var: str, row: PolyMatrix, jac: PolyMatrix, result: PolyMatrix
) -> Step:
    """J_L(v) = J_h(y)·J_y(v), symbolically, as row times matrix, and its value."""
    letter = c.letters.entry(var)
    y = c.letters.entry("Y")
    nm = f"{c.conv.sizes[0]}·{c.conv.sizes[2]}"
    return Step(
        f"dL_d{var}",
        StepKind.CHAIN,
        f"Chain rule for {c.letters.of(var)}",
        (
            Equation(Jac("L", var), Prod(Jac("h", "Y"), Jac("Y", var))),
            Equation(
                Jac("L", var), Prod(Explicit(row), Explicit(jac, _blocks(c, var)))
            ),
            Equation(Jac("L", var), Explicit(result)),
        ),
        note=(
            f"L = h({y}({letter})) with h the rest of the network; the chain rule in "
            f"higher dimensions multiplies the (1 × {nm}) row of upstream derivatives "
            f"by the Jacobian. Entry k of the result is Σ_r ∂L/∂{y}_r · "
            f"∂{y}_r/∂{letter}_k."
        ),
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
    lv = c.letters.of(var)
    eqs = [Equation(Deriv("L", var), Explicit(derivative))]
    note = (
        f"Entry by entry, J_L lists ∂L/∂v for every entry v of {lv}; putting each back "
        f"where v sits in {lv} (undoing vec) gives a matrix of {lv}'s shape."
    )
    if c.layout == "numerator":
        eqs.append(Equation(Grad("L", var), T(Deriv("L", var)), Explicit(derivative.T)))
        note = (
            f"Numerator layout: ∂L/∂{lv} takes the shape of {lv}ᵀ, as in notes that "
            f"write ∂L/∂{c.letters.entry('Y')} with one row per output; the gradient in "
            f"{lv}'s own shape is its transpose, ∇_{lv} L = (∂L/∂{lv})ᵀ."
        )
    if var == "X":
        note += (
            f" Note that ∂L/∂{lv} is a rearrangement of the components of the gradient "
            "of L, not itself a gradient vector."
        )
    return [
        Step(
            f"reshape_{var}",
            StepKind.SIMPLIFY,
            f"Reshape into a matrix: ∂L/∂{lv}",
            tuple(eqs),
            note=note,
            uses=(f"dL_d{var}",),
            wrt=var,
        ),
        Step(
            f"closed_{var}",
            StepKind.RESULT,
            f"Closed form of ∂L/∂{lv}",
            (Equation(Deriv("L", var), closed_node, Explicit(closed)),),
            note=(
                "The matrix above is exactly this product, entry by entry "
                "(see the certificate)."
            ),
            uses=(f"reshape_{var}",),
            wrt=var,
        ),
    ]


def _summary(c: Config, results: Mapping[str, Result]) -> Step:
    """The formulas to keep."""
    # The last step of each variable in the view shown (index/tensor: see views/).
    last = {"index": "index_closed_", "tensor": "tensor_dL_d"}.get(c.method, "closed_")
    eqs = tuple(Equation(Deriv("L", v), results[v].closed_form) for v in c.wrt)
    if c.loss == "mse":
        eqs += (Equation(Sym("dY"), mse_upstream()),)
    elif c.loss == "sum":
        eqs += (Equation(Sym("dY"), Prod(Ones("N"), T(Ones("M")))),)
    note = (
        "These are the formulas a backward pass implements; every one was checked "
        + (
            "against the explicit chain rule above."
            if c.method in ("jacobian", "all")
            else "against the explicit chain rule (see the certificate)."
        )
    )
    if c.conv.samples_as_columns:
        note += (
            " deeplearning.ai writes dW = 1/m·dZ·Aᵀ and db = 1/m·Σ dZ: its cost "
            "J = 1/m·Σ ℒ averages over the m samples and its dZ is the derivative of one "
            "sample's ℒ, so the 1/m is applied in the parameter gradients. Here dY = ∂L/∂Y "
            "is the derivative of the whole loss, which already holds that factor (for the "
            "mean loss, dY = (Y − T)/N), so dW = dY·Xᵀ is the same number."
        )
    return Step(
        "summary",
        StepKind.RESULT,
        "Backpropagation through the layer",
        eqs,
        note=note,
        uses=tuple(f"{last}{v}" for v in c.wrt),
        view="jacobian" if c.method == "all" else c.method,
    )


def _count(k: int, noun: str) -> str:
    """3 samples, 1 sample."""
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


__all__ = ["Progress", "derive"]
