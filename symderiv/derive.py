"""The engine: a Config becomes a Derivation (steps, results, certificate).

The map Y = X W + 1 b is affine, so each Jacobian is read off the structure of the
y_ij (one pass over their terms: the coefficient of v in y_ij is ∂y_ij/∂v) instead of
differentiating every entry by every variable. The chain rule is then a sparse row times
a sparse matrix, and the closed forms are evaluated independently from their formulas;
the certificate compares the two exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

from . import notes
from .algebra import (
    Poly,
    PolyMatrix,
    affine_jacobian,
    bulk_work,
    evaluate,
    vec_positions,
)
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
        return Step(
            "define",
            StepKind.DEFINE,
            "The layer and its symbols",
            tuple(Equation(Sym(r), Explicit(L.matrix(r))) for r in ("X", "W", "b")),
            note=notes.define_note(c),
        )

    def forward_pass(self) -> Step:
        """Y = X W + 1_N b written entry by entry."""
        L = self.layer
        return Step(
            "forward",
            StepKind.DEFINE,
            "The forward pass, entry by entry",
            (Equation(Sym("Y"), self.conv.forward(), Explicit(L.Y)),),
            note=notes.forward_note(self.config),
        )

    def upstream_step(self) -> Step:
        """The upstream derivative dY = ∂L/∂Y, same shape as Y."""
        loss, n = self.config.loss, self.config.n
        y, t = self.config.letters.entry("Y"), self.config.letters.entry("T")
        eqs: tuple[Equation, ...]
        if loss == "generic":
            eqs = (Equation(Sym("dY"), Deriv("L", "Y"), Explicit(self.upstream)),)
            note = notes.upstream_note(self.config)
        elif loss == "sum":
            eqs = (
                Equation(Text(f"L = Σ_ij {y}_ij")),
                Equation(Sym("dY"), Deriv("L", "Y"), Explicit(self.upstream)),
            )
            note = notes.upstream_note(self.config)
        elif loss == "softmax-ce":
            assert self.loss_upstream is not None
            eqs = (
                Equation(Text(f"p_ij = exp({y}_ij) / Σ_k exp({y}_ik)")),
                Equation(Text(f"L = −(1/{n}) Σ_i Σ_j {t}_ij log p_ij")),
                Equation(
                    Sym("dY"),
                    Deriv("L", "Y"),
                    softmax_ce_upstream(),
                    Explicit(self.loss_upstream),
                ),
            )
            note = notes.upstream_note(self.config)
        else:
            assert self.loss_upstream is not None
            eqs = (
                Equation(Text(f"L = 1/(2·{n}) Σ_i ‖{y}_i − {t}_i‖²")),
                Equation(
                    Sym("dY"),
                    Deriv("L", "Y"),
                    mse_upstream(),
                    Explicit(self.loss_upstream),
                ),
            )
            note = notes.upstream_note(self.config)
        return Step(
            "upstream", StepKind.DEFINE, "The upstream derivative", eqs, note=note
        )

    def vectorize_output(self) -> Step:
        """vec(Y): the outputs as one long vector, in the order stated."""
        L = self.layer
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
            notes.vec_title(self.config),
            (Equation(Vec(Sym("Y")), Explicit(names), Explicit(vec_y)),),
            note=notes.vec_note(self.config),
        )

    # -- per variable ----------------------------------------------------------------------
    def variable_vector(self, var: str) -> list[str]:
        """Entry names of ``var`` in vec order."""
        return [next(iter(p.atoms())) for p in self.layer.matrix(var).vec(self.order)]

    def jacobian(self, var: str) -> tuple[PolyMatrix, Node, bool]:
        """Explicit ∂vec(Y)/∂vec(var) from the structure of Y, and its Kronecker form."""
        L, order = self.layer, self.order
        names = self.variable_vector(var)
        # One pass over the terms of each y_ij: a term c·v·rest contributes c·rest to
        # ∂y_ij/∂v. The map is affine in each variable, so no term holds v twice.
        jac = affine_jacobian(L.Y.vec(order), names)
        kron_node = self.conv.kronecker(var, order)
        env = {r: L.matrix(r) for r in ("X", "W", "b")}
        kron = evaluate(kron_node, env, L.sizes, order)
        diff = jac.first_difference(kron)
        ok = diff is None
        detail = "explicit Jacobian = Kronecker form, entry by entry"
        if diff is not None:
            detail = (
                f"entry ({diff[0] + 1}, {diff[1] + 1}): explicit {jac[diff].to_str()} "
                f"but Kronecker form {kron[diff].to_str()}"
            )
        self.checks.append(Check(var, notes.Claim.KRONECKER, ok, detail))
        rows, cols = self._blocks(var)
        vec_v = PolyMatrix(
            len(names), 1, {(k, 0): Poly.atom(nm) for k, nm in enumerate(names)}
        )
        self.steps.append(
            Step(
                f"dY_d{var}",
                StepKind.JACOBIAN,
                notes.jacobian_title(self.config, var),
                (
                    Equation(Vec(Sym(var)), Explicit(vec_v)),
                    Equation(Deriv("Y", var, vec=True), Explicit(jac, (rows, cols))),
                    Equation(Deriv("Y", var, vec=True), kron_node),
                ),
                note=notes.jacobian_note(self.config, var, jac.nnz(), jac.rows * jac.cols),
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
        self.steps.append(
            Step(
                f"dL_d{var}",
                StepKind.CHAIN,
                notes.chain_title(self.config, var),
                (
                    Equation(Jac("L", var), Prod(Jac("h", "Y"), Jac("Y", var))),
                    Equation(
                        Jac("L", var),
                        Prod(Explicit(row), Explicit(jac, self._blocks(var))),
                    ),
                    Equation(Jac("L", var), Explicit(result)),
                ),
                note=notes.chain_note(self.config, var),
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
        closed_node = self.conv.closed_form(var)
        env = {r: L.matrix(r) for r in ("X", "W", "b")}
        env["dY"] = self.upstream
        if c.layout == "numerator":
            derivative = derivative.transpose()
            closed_node = transpose(closed_node)
        closed = evaluate(closed_node, env, L.sizes, self.order)
        diff = derivative.first_difference(closed)
        ok = diff is None
        detail = "chain-rule result − closed form = 0, entry by entry"
        if diff is not None:
            detail = (
                f"entry ({diff[0] + 1}, {diff[1] + 1}): chain rule gives "
                f"{derivative[diff].to_str()} but closed form {closed[diff].to_str()}"
            )
        self.checks.append(Check(var, notes.Claim.CLOSED_FORM, ok, detail))
        eqs = [Equation(Deriv("L", var), Explicit(derivative))]
        if c.layout == "numerator":
            eqs.append(
                Equation(Grad("L", var), T(Deriv("L", var)), Explicit(derivative.T))
            )
        self.steps.append(
            Step(
                f"reshape_{var}",
                StepKind.SIMPLIFY,
                notes.reshape_title(c, var),
                tuple(eqs),
                note=notes.reshape_note(c, var),
                uses=(f"dL_d{var}",),
                wrt=var,
            )
        )
        self.steps.append(
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
            eqs += (Equation(Sym("dY"), mse_upstream()),)
        elif self.config.loss == "softmax-ce":
            eqs += (Equation(Sym("dY"), softmax_ce_upstream()),)
        elif self.config.loss == "sum":
            eqs += (Equation(Sym("dY"), Prod(Ones("N"), T(Ones("M")))),)
        return Step(
            "summary",
            StepKind.RESULT,
            notes.SUMMARY_TITLE,
            eqs,
            note=notes.summary_note(self.config.method),
            uses=tuple(f"{last}{v}" for v in self.config.wrt),
            view="jacobian" if self.config.method == "all" else self.config.method,
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


def _count(k: int, noun: str) -> str:
    """3 samples, 1 sample."""
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


__all__ = ["Progress", "derive"]
