"""The engine: a Config becomes a Derivation (steps, results, certificate).

The arithmetic lives in :mod:`symderiv.maths` (Jacobians read off the structure of the
y_ij, the chain rule as a sparse row times a sparse matrix, unvec, exact comparisons);
this module composes it into titled steps, each a function of what it shows, and checks
every result against its closed form evaluated independently. The index and tensor views
(:mod:`symderiv.views`) return their steps and checks as data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from . import maths
from .algebra import Poly, PolyMatrix, bulk_work, evaluate
from .conventions import Config, mse_upstream
from .errors import TooLargeError
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

#: Work refused without ``force``: estimated to take longer or need more memory than this.
MAX_SECONDS = 120.0
MAX_BYTES = 6 * 2**30
#: Sizes up to this (each of N, D, M) always run, whatever the estimate says.
ALWAYS_RUNS = 32
#: Beyond this many Jacobian nonzeros nothing is attempted, even with ``force``; nor
#: when the estimated memory exceeds the machine's physical memory.
HARD_LIMIT_NONZEROS = 50_000_000

#: (seconds, bytes) per unit of each :func:`cost_features` count: derive with its
#: certificate, then the JSON text. Fitted with tests/benchmarks/calibrate.py on the
#: reference machine (2-core AMD EPYC, Python 3.11, CPython's cycle collector paused).
UNIT_COST: dict[str, tuple[float, float]] = {
    "outputs": (10e-6, 2500),
    "output_terms": (1.5e-6, 160),
    "nonzeros": (10e-6, 1300),
    "entries": (10e-6, 2500),
    "loss_terms": (0.2e-6, 80),
    "index_terms": (8e-6, 700),
    "tensor_terms": (8e-6, 700),
}
#: The interpreter and symderiv; the index and tensor views also load sympy.
BASE_BYTES = 25 * 2**20
SYMPY_BYTES = 40 * 2**20


@dataclass(frozen=True)
class Estimate:
    """What a derivation at some size will cost, before any work is done."""

    jacobian_entries: int  # entries of the explicit Jacobians (zeros included)
    nonzeros: int  # their nonzero entries (what is actually stored)
    terms: int  # polynomial terms built in total (JSON text included)
    bytes: int  # peak memory of the process
    seconds: float  # derive with its certificate, then JSON, on the reference machine

    def describe(self) -> str:
        """One line for the user: entries, memory, time."""
        return (
            f"{_amount(self.jacobian_entries)} Jacobian entries "
            f"({_amount(self.nonzeros)} nonzero), about {_memory(self.bytes)} of memory "
            f"and {_duration(self.seconds)}"
        )


def _amount(k: int) -> str:
    return f"{k:,}" if k < 10**15 else f"{k:.1e}"


def _memory(size: float) -> str:
    """Bytes as MiB, GiB, TiB or PiB."""
    size /= 2**20
    unit = "MiB"
    for bigger in ("GiB", "TiB", "PiB"):
        if size < 1000:
            break
        size, unit = size / 1024, bigger
    if size >= 10**6:
        return f"{size:.1e} {unit}"
    return f"{size:,.1f} {unit}" if size < 10 else f"{size:,.0f} {unit}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    for limit, unit, scale in (
        (120, "s", 1),
        (7200, "min", 60),
        (172800, "h", 3600),
        (365 * 86400, "days", 86400),
    ):
        if seconds < limit:
            return f"{seconds / scale:,.0f} {unit}"
    years = seconds / (365 * 86400)
    return f"{years:,.0f} years" if years < 10**6 else f"{years:.1e} years"


def cost_features(config: Config) -> dict[str, int]:
    """What the work of ``derive(config)`` + JSON is made of, counted from the sizes alone.

    outputs: entries of Y (and of dY), N·M; output_terms: terms of Y, N·M·(D+1);
    nonzeros: Jacobian nonzeros, which are also the chain-rule and closed-form terms
    (N·M·D for X and W, N·M for b); entries: entries of the derivatives; loss_terms: with
    ``--loss mse`` the JSON writes dY = (Y − T)/N (D+2 terms) into every term;
    index_terms / tensor_terms: the nonzeros again, for each extra view.
    """
    n, d, m = config.n, config.d, config.m
    size = {"X": n * d, "W": d * m, "b": m}
    nnz = {"X": n * m * d, "W": n * m * d, "b": n * m}
    nonzeros = sum(nnz[v] for v in config.wrt)
    method = config.method
    return {
        "outputs": n * m,
        "output_terms": n * m * (d + 1),
        "nonzeros": nonzeros,
        "entries": sum(size[v] for v in config.wrt),
        "loss_terms": nonzeros * (d + 2) if config.loss == "mse" else 0,
        "index_terms": nonzeros if method in ("index", "all") else 0,
        "tensor_terms": nonzeros if method in ("tensor", "all") else 0,
    }


def estimate(config: Config) -> Estimate:
    """The cost of ``derive(config)`` and its JSON, from the sizes alone (no allocation).

    Exact counts (:func:`cost_features`) times measured unit costs (:data:`UNIT_COST`);
    time and memory are good to about a factor of two on the reference machine, which
    is what a guard needs. Python integers keep the counts exact at any size.
    """
    n, d, m = config.n, config.d, config.m
    rows = n * m
    cols = {"X": n * d, "W": d * m, "b": m}
    features = cost_features(config)
    seconds = sum(UNIT_COST[k][0] * v for k, v in features.items())
    size = BASE_BYTES + sum(UNIT_COST[k][1] * v for k, v in features.items())
    if config.method != "jacobian":
        size += SYMPY_BYTES
    terms = sum(v for k, v in features.items() if k not in ("outputs", "entries"))
    return Estimate(
        jacobian_entries=sum(rows * cols[v] for v in config.wrt),
        nonzeros=features["nonzeros"],
        terms=terms,
        bytes=int(size),
        seconds=float(seconds),
    )


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, or None where the system does not say."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page if pages > 0 and page > 0 else None


def _within_limits(config: Config) -> bool:
    """True when ``config`` runs without ``force``."""
    if max(config.n, config.d, config.m) <= ALWAYS_RUNS:
        return True
    est = estimate(config)
    return est.seconds <= MAX_SECONDS and est.bytes <= MAX_BYTES


def largest_cube(config: Config) -> int:
    """The largest K such that N = D = M = K runs without ``force`` (other settings kept)."""
    low, high = ALWAYS_RUNS, 2 * ALWAYS_RUNS
    while _within_limits(replace(config, n=high, d=high, m=high)):
        low, high = high, 2 * high
    while high - low > 1:  # low runs, high does not
        mid = (low + high) // 2
        if _within_limits(replace(config, n=mid, d=mid, m=mid)):
            low = mid
        else:
            high = mid
    return low


def guard(config: Config, force: bool = False) -> Estimate:
    """Refuse, before any work, sizes that would take too long or too much memory.

    Sizes up to :data:`ALWAYS_RUNS` (each of N, D, M) always run. Above, work estimated
    beyond :data:`MAX_SECONDS` or :data:`MAX_BYTES` is refused unless ``force``; beyond
    :data:`HARD_LIMIT_NONZEROS` Jacobian nonzeros, or more memory than the machine has,
    it is refused even with ``force``. Answers at once from the sizes alone.

    Returns:
        The estimate (the CLI shows a progress bar when it says more than a few seconds).

    Raises:
        TooLargeError: with the estimate and how to go on.
    """
    est = estimate(config)
    if max(config.n, config.d, config.m) <= ALWAYS_RUNS:
        return est
    ram = physical_memory()
    hard = est.nonzeros > HARD_LIMIT_NONZEROS or (ram is not None and est.bytes > ram)
    if not hard and (force or _within_limits(config)):
        return est
    sizes = f"--n {config.n} --d {config.d} --m {config.m}"
    if hard:
        why = (
            f"over the limit of {HARD_LIMIT_NONZEROS:,} nonzeros"
            if est.nonzeros > HARD_LIMIT_NONZEROS
            else f"more than this machine's {_memory(ram or 0)}"
        )
        how = "Not even --force runs it; choose smaller sizes"
    else:
        why = (
            f"the limit without --force is {_duration(MAX_SECONDS)} and "
            f"{_memory(MAX_BYTES)}"
        )
        how = "Pass --force to run anyway, or choose smaller sizes"
    k = largest_cube(config)
    raise TooLargeError(
        f"{sizes} is too large to derive explicitly: {est.describe()}; {why}. {how} "
        f"(sizes up to {ALWAYS_RUNS}x{ALWAYS_RUNS}x{ALWAYS_RUNS} always run; "
        f"--n {k} --d {k} --m {k} runs without --force)"
    )


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
    return Step(
        "forward",
        StepKind.DEFINE,
        "The forward pass, entry by entry",
        (Equation(Sym("Y"), c.conv.forward(), Explicit(layer.Y)),),
        note=(
            f"Row i of {c.letters.of('Y')} is the output for sample i; the bias is added "
            "to every row (1_N is a column of ones)."
        ),
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
                Explicit(maths.output_names(c.n, c.m, c.vec)),
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
    return Step(
        "summary",
        StepKind.RESULT,
        "Backpropagation through the layer",
        eqs,
        note=(
            "These are the formulas a backward pass implements; every one was checked "
            + (
                "against the explicit chain rule above."
                if c.method in ("jacobian", "all")
                else "against the explicit chain rule (see the certificate)."
            )
        ),
        uses=tuple(f"{last}{v}" for v in c.wrt),
        view="jacobian" if c.method == "all" else c.method,
    )


def _count(k: int, noun: str) -> str:
    """3 samples, 1 sample."""
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


__all__ = [
    "Estimate",
    "Progress",
    "cost_features",
    "derive",
    "estimate",
    "guard",
    "largest_cube",
    "physical_memory",
]
