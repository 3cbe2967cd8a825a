"""The engine: a Config becomes a Derivation (steps, results, certificate).

The map Y = X W + 1 b is affine, so each Jacobian is read off the structure of the
y_ij (one pass over their terms: the coefficient of v in y_ij is ∂y_ij/∂v) instead of
differentiating every entry by every variable. The chain rule is then a sparse row times
a sparse matrix, and the closed forms are evaluated independently from their formulas;
the certificate compares the two exactly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from .algebra import Poly, PolyMatrix, bulk_work, evaluate, vec_positions
from .conventions import PREFIX, Config, mse_upstream, softmax_ce_upstream
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
        return _Engine(config, progress).run()


class _Engine:
    """Builds the steps of one derivation; each method returns Steps (never text)."""

    def __init__(self, config: Config, progress: Progress | None) -> None:
        self.config = config
        self.conv = config.conv
        self.layer = AffineLayer(config.n, config.d, config.m, self.conv)
        self.order = config.vec
        self.progress = progress
        self.steps: list[Step] = []
        self.checks: list[Check] = []
        self.results: dict[str, Result] = {}
        n, m = config.n, config.m
        if config.loss == "sum":
            self.upstream = PolyMatrix.ones(n, m)
        else:
            self.upstream = self.layer.matrix("dY")
        self.loss_upstream: PolyMatrix | None = None
        if config.loss == "mse":
            outputs, targets = self.layer.outputs, self.layer.matrix("T")
            self.loss_upstream = (outputs - targets).scale(Fraction(1, n))
        elif config.loss == "softmax-ce":
            # dY = (P − T)/N, written in the cached softmax outputs p_i_j.
            probs = PolyMatrix(
                n,
                m,
                {
                    (i, j): Poly.atom(f"p_{i + 1}_{j + 1}")
                    for i in range(n)
                    for j in range(m)
                },
            )
            self.loss_upstream = (probs - self.layer.matrix("T")).scale(Fraction(1, n))

    def name(self, role: str) -> str:
        """The display letters of ``role`` (A for X in the column convention)."""
        return self.config.letters.of(role)

    def _tick(self, task: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(task, done, total)

    def run(self) -> Derivation:
        wrt = self.config.wrt
        total = 2 + 3 * len(wrt)
        self._tick("forward pass", 0, total)
        self.steps += [self.define_layer(), self.forward_pass(), self.upstream_step()]
        self.steps.append(self.vectorize_output())
        done = 2
        for var in wrt:
            self._tick(f"Jacobian of Y by {var}", done, total)
            jac, kron_node, kron_ok = self.jacobian(var)
            done += 1
            self._tick(f"chain rule for {var}", done, total)
            chain = self.chain_rule(var, jac)
            done += 1
            self._tick(f"closed form of {var}", done, total)
            self.reshape_and_close(var, jac, kron_node, kron_ok, chain)
            done += 1
        if self.config.method in ("index", "tensor", "all"):
            from .views import add_views

            add_views(self)
        if self.config.method in ("index", "tensor"):
            # The explicit Jacobians were still computed (they are the reference the view
            # is checked against) but their steps belong to the jacobian view.
            self.steps = [
                replace(s, view=self.config.method)
                for s in self.steps
                if s.view != "jacobian" or s.id in SHARED_STEPS
            ]
        self.steps.append(self.summary())
        self._tick("done", total, total)
        return Derivation(
            config=self.config,
            layer=self.layer,
            upstream=self.upstream,
            loss_upstream=self.loss_upstream,
            steps=tuple(self.steps),
            results=dict(self.results),
            checks=tuple(self.checks),
        )

    # -- shared steps ----------------------------------------------------------------------
    def define_layer(self) -> Step:
        """X, W and b with every entry its own symbol."""
        c, L = self.config, self.layer
        sizes = self.conv.sizes
        return Step(
            "define",
            StepKind.DEFINE,
            "The layer and its symbols",
            tuple(Equation(Sym(r), Explicit(L.matrix(r))) for r in ("X", "W", "b")),
            note=(
                f"{sizes[0]} = {_count(c.n, 'sample')}, "
                f"{sizes[1]} = {_count(c.d, 'input feature')}, "
                f"{sizes[2]} = {_count(c.m, 'output feature')}; convention {self.conv.name} "
                f"({self.conv.source}). Every entry is its own symbol, indexed from 1."
            ),
        )

    def forward_pass(self) -> Step:
        """Y = X W + 1_N b written entry by entry."""
        L = self.layer
        return Step(
            "forward",
            StepKind.DEFINE,
            "The forward pass, entry by entry",
            (Equation(Sym("Y"), self.conv.forward(self.config.n), Explicit(L.Y)),),
            note=(
                f"Row i of {self.name('Y')} is the output for sample i; the bias is added "
                "to every row (1_N is a column of ones)."
            ),
        )

    def upstream_step(self) -> Step:
        """The upstream derivative dY = ∂L/∂Y, same shape as Y."""
        loss, n = self.config.loss, self.config.n
        y, t = self.config.letters.entry("Y"), self.config.letters.entry("T")
        eqs: tuple[Equation, ...]
        if loss == "generic":
            eqs = (Equation(Sym("dY"), Deriv("L", "Y"), Explicit(self.upstream)),)
            note = (
                f"Backpropagation hands the layer the upstream derivatives ∂L/∂{y}_ij "
                "from the layers above; they stay symbols here."
            )
        elif loss == "sum":
            eqs = (
                Equation(Text(f"L = Σ_ij {y}_ij")),
                Equation(Sym("dY"), Deriv("L", "Y"), Explicit(self.upstream)),
            )
            note = f"For L = Σ {y}_ij every upstream derivative is 1."
        elif loss == "softmax-ce":
            assert self.loss_upstream is not None
            eqs = (
                Equation(Text(f"p_ij = exp({y}_ij) / Σ_k exp({y}_ik)")),
                Equation(Text(f"L = −(1/{n}) Σ_i Σ_j {t}_ij log p_ij")),
                Equation(
                    Sym("dY"),
                    Deriv("L", "Y"),
                    softmax_ce_upstream(n),
                    Explicit(self.loss_upstream),
                ),
            )
            note = (
                f"Softmax cross-entropy: P is the row-wise softmax of {self.name('Y')} and "
                f"each row of {self.name('T')} is one-hot (Σ_j {t}_ij = 1), so "
                f"∂L/∂{y}_ij = (p_ij − {t}_ij)/N (symderiv derive --net affine:{self.config.m} "
                "--loss softmax-ce derives this step through the softmax Jacobian). Below, "
                f"∂L/∂{y}_ij stands for this value."
            )
        else:
            assert self.loss_upstream is not None
            eqs = (
                Equation(Text(f"L = 1/(2·{n}) Σ_i ‖{y}_i − {t}_i‖²")),
                Equation(
                    Sym("dY"),
                    Deriv("L", "Y"),
                    mse_upstream(n),
                    Explicit(self.loss_upstream),
                ),
            )
            note = (
                f"The chain starts one step earlier, at the loss: ∂L/∂{y}_ij = "
                f"({y}_ij − {t}_ij)/N. Below, ∂L/∂{y}_ij stands for this value; the "
                "identities hold for any upstream derivative, so in particular for this one."
            )
        return Step(
            "upstream", StepKind.DEFINE, "The upstream derivative", eqs, note=note
        )

    def vectorize_output(self) -> Step:
        """vec(Y): the outputs as one long vector, in the order stated."""
        L = self.layer
        order = (
            "rows stacked (reshape(-1))" if self.order == "row" else "columns stacked"
        )
        vec_y = PolyMatrix(
            L.n * L.m,
            1,
            dict(
                ((k, 0), v)
                for k, v in enumerate(L.Y.vec(self.order))
                if not v.is_zero()
            ),
        )
        names = PolyMatrix(
            L.n * L.m,
            1,
            {
                (k, 0): Poly.atom(f"y_{i + 1}_{j + 1}")
                for k, (i, j) in enumerate(vec_positions((L.n, L.m), self.order))
            },
        )
        return Step(
            "vec_Y",
            StepKind.DEFINE,
            f"Vectorize: {self.name('Y')} as one vector ({self.order} order)",
            (Equation(Vec(Sym("Y")), Explicit(names), Explicit(vec_y)),),
            note=(
                f"vec stacks the entries of a matrix into one column, here {order}. Every "
                "vector below uses the same order, so the Jacobians are ordinary matrices."
            ),
        )

    # -- per variable ----------------------------------------------------------------------
    def variable_vector(self, var: str) -> list[str]:
        """Entry names of ``var`` in vec order."""
        return [next(iter(p.atoms())) for p in self.layer.matrix(var).vec(self.order)]

    def jacobian(self, var: str) -> tuple[PolyMatrix, Node, bool]:
        """Explicit ∂vec(Y)/∂vec(var) from the structure of Y, and its Kronecker form."""
        L, order = self.layer, self.order
        names = self.variable_vector(var)
        column = {name: k for k, name in enumerate(names)}
        prefix = PREFIX[var] + "_"
        entries: dict[tuple[int, int], Poly] = {}
        # One pass over the terms of each y_ij: a term c·v·rest contributes c·rest to
        # ∂y_ij/∂v. The map is affine in each variable, so no term holds v twice.
        for r, y in enumerate(L.Y.vec(order)):
            for mono, coeff in y.terms.items():
                for f in mono:
                    if f.startswith(prefix):
                        rest = tuple(g for g in mono if g != f)
                        value = Poly({rest: coeff})
                        key = (r, column[f])
                        entries[key] = entries[key] + value if key in entries else value
        jac = PolyMatrix(L.n * L.m, len(names), entries)
        kron_node = self.conv.kronecker(var, order, L.n, L.d, L.m)
        env = {r: L.matrix(r) for r in ("X", "W", "b")}
        kron = evaluate(kron_node, env, order)
        diff = jac.first_difference(kron)
        ok = diff is None
        detail = "explicit Jacobian = Kronecker form, entry by entry"
        if diff is not None:
            detail = (
                f"entry ({diff[0] + 1}, {diff[1] + 1}): explicit {jac[diff].to_str()} "
                f"but Kronecker form {kron[diff].to_str()}"
            )
        self.checks.append(Check(var, "Jacobian = Kronecker form", ok, detail))
        rows, cols = self._blocks(var)
        vec_v = PolyMatrix(
            len(names), 1, {(k, 0): Poly.atom(nm) for k, nm in enumerate(names)}
        )
        what = {"X": "the input", "W": "the weights", "b": "the bias"}[var]
        self.steps.append(
            Step(
                f"dY_d{var}",
                StepKind.JACOBIAN,
                f"Jacobian of vec({self.name('Y')}) with respect to vec({self.name(var)})",
                (
                    Equation(Vec(Sym(var)), Explicit(vec_v)),
                    Equation(Deriv("Y", var, vec=True), Explicit(jac, (rows, cols))),
                    Equation(Deriv("Y", var, vec=True), kron_node),
                ),
                note=self._jacobian_note(var, jac, what),
                uses=("vec_Y",),
                wrt=var,
            )
        )
        return jac, kron_node, ok

    def _blocks(self, var: str) -> tuple[int, int]:
        """Shape of the Kronecker blocks of ∂vec(Y)/∂vec(var) (for drawing them)."""
        n, d, m = self.config.n, self.config.d, self.config.m
        row = self.order == "row"
        if var == "X":
            return (m, d) if row else (n, n)
        if var == "W":
            if self.conv.weight_transposed:
                return (m, d * m) if row else (n, d * m)
            return (m, m) if row else (n, d)
        return (m, m) if row else (n, 1)

    def _jacobian_note(self, var: str, jac: PolyMatrix, what: str) -> str:
        rows, cols = jac.shape
        total = rows * cols
        share = jac.nnz()
        y, w = self.config.letters.entry("Y"), self.name("W")
        where = {
            "X": f"{y}_ij depends on row i of {self.name('X')} only",
            "W": f"{y}_ij depends only on the weights of output j ("
            + (f"row j of {w}" if self.conv.weight_transposed else f"column j of {w}")
            + ")",
            "b": f"{y}_ij depends on {self.config.letters.entry('b')}_j only, "
            "with derivative 1",
        }[var]
        return (
            f"Row k holds the derivatives of the k-th output by every entry of {what}: "
            f"{where}. Nonzero entries: {share} of {total}."
        )

    def chain_rule(self, var: str, jac: PolyMatrix) -> PolyMatrix:
        """J_L(v) = J_h(y)·J_y(v): a (1, N·M) row times the (N·M, #v) Jacobian."""
        row_values = self.upstream.vec(self.order)
        row = PolyMatrix(
            1,
            len(row_values),
            {(0, k): v for k, v in enumerate(row_values) if not v.is_zero()},
        )
        # Sparse row times matrix: column c of J_L collects row[r]·J[r, c], one Σ each.
        result = row @ jac
        letter = self.config.letters.entry(var)
        y = self.config.letters.entry("Y")
        nm = f"{self.conv.sizes[0]}·{self.conv.sizes[2]}"
        self.steps.append(
            Step(
                f"dL_d{var}",
                StepKind.CHAIN,
                f"Chain rule for {self.config.letters.of(var)}",
                (
                    Equation(Jac("L", letter), Prod(Jac("h", y), Jac(y, letter))),
                    Equation(
                        Jac("L", letter),
                        Prod(Explicit(row), Explicit(jac, self._blocks(var))),
                    ),
                    Equation(Jac("L", letter), Explicit(result)),
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
        )
        return result

    def reshape_and_close(
        self,
        var: str,
        jac: PolyMatrix,
        kron_node: Node,
        kron_ok: bool,
        chain: PolyMatrix,
    ) -> None:
        """Reshape J_L back into var's shape and identify the closed form."""
        L, c = self.layer, self.config
        shape = L.shape(var)
        values = [chain[0, k] for k in range(chain.cols)]
        derivative = PolyMatrix.unvec(values, shape, self.order)
        closed_node = self.conv.closed_form(var, c.n)
        env = {r: L.matrix(r) for r in ("X", "W", "b")}
        env["dY"] = self.upstream
        if c.layout == "numerator":
            derivative = derivative.transpose()
            closed_node = transpose(closed_node)
        closed = evaluate(closed_node, env, self.order)
        diff = derivative.first_difference(closed)
        ok = diff is None
        detail = "chain-rule result − closed form = 0, entry by entry"
        if diff is not None:
            detail = (
                f"entry ({diff[0] + 1}, {diff[1] + 1}): chain rule gives "
                f"{derivative[diff].to_str()} but closed form {closed[diff].to_str()}"
            )
        self.checks.append(Check(var, "chain rule = closed form", ok, detail))
        lv = c.letters.of(var)
        eqs = [Equation(Deriv("L", var), Explicit(derivative))]
        note = (
            f"Entry by entry, J_L lists ∂L/∂v for every entry v of {lv}; putting each back "
            f"where v sits in {lv} (undoing vec) gives a matrix of {lv}'s shape."
        )
        if c.layout == "numerator":
            eqs.append(
                Equation(Grad("L", var), T(Deriv("L", var)), Explicit(derivative.T))
            )
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
        self.steps.append(
            Step(
                f"reshape_{var}",
                StepKind.SIMPLIFY,
                f"Reshape into a matrix: ∂L/∂{lv}",
                tuple(eqs),
                note=note,
                uses=(f"dL_d{var}",),
                wrt=var,
            )
        )
        self.steps.append(
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
            )
        )
        self.results[var] = Result(
            var=var,
            jacobian=jac,
            kronecker=kron_node,
            chain=chain,
            derivative=derivative,
            closed_form=closed_node,
            closed=closed,
            kronecker_verified=kron_ok,
            verified=ok and kron_ok,
        )

    def summary(self) -> Step:
        """The formulas to keep."""
        # The last step of each variable in the view shown (index/tensor: see views.py).
        last = {"index": "index_closed_", "tensor": "tensor_dL_d"}.get(
            self.config.method, "closed_"
        )
        eqs = tuple(
            Equation(Deriv("L", v), self.results[v].closed_form)
            for v in self.config.wrt
        )
        if self.config.loss == "mse":
            eqs += (Equation(Sym("dY"), mse_upstream(self.config.n)),)
        elif self.config.loss == "softmax-ce":
            eqs += (Equation(Sym("dY"), softmax_ce_upstream(self.config.n)),)
        elif self.config.loss == "sum":
            eqs += (
                Equation(Sym("dY"), Prod(Ones(self.config.n), T(Ones(self.config.m)))),
            )
        return Step(
            "summary",
            StepKind.RESULT,
            "Backpropagation through the layer",
            eqs,
            note=(
                "These are the formulas a backward pass implements; every one was checked "
                + (
                    "against the explicit chain rule above."
                    if self.config.method in ("jacobian", "all")
                    else "against the explicit chain rule (see the certificate)."
                )
            ),
            uses=tuple(f"{last}{v}" for v in self.config.wrt),
            view="jacobian" if self.config.method == "all" else self.config.method,
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
