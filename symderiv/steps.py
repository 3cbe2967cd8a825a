"""A derivation as data: steps, results and the certificate. No formatting happens here.

Printers (``symderiv.render``) walk ``Derivation.steps`` and draw each ``Equation`` in
their own format; titles and notes carry no markup: their maths is marked (notes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from .conventions import Config
from .notation import Equation, Node
from .notes import Prose

if TYPE_CHECKING:
    from .algebra import PolyMatrix
    from .layer import AffineLayer


class StepKind(Enum):
    """What a step does; each printer handles every kind."""

    DEFINE = "define"  # name a quantity: X, W, b, Y = X W + 1 b, vec(Y), dY
    JACOBIAN = "jacobian"  # an explicit Jacobian (or derivative tensor), entry by entry
    CHAIN = "chain"  # combine derivatives with the chain rule
    SIMPLIFY = "simplify"  # rearrange a result: reshape, collapse a Kronecker delta
    RESULT = "result"  # a formula the learner keeps


@dataclass(frozen=True)
class Step:
    """One titled step of a derivation.

    Attributes:
        id: stable snake_case id, e.g. ``"dY_dW"``; golden files and JSON use it.
        kind: what the step does.
        title: prose with its maths marked (:mod:`symderiv.notes`), or plain text.
        equations: the mathematics, one displayed line each.
        note: one or two sentences for the learner, maths marked, or plain text.
        uses: ids of earlier steps this one combines (the chain rule's inputs).
        wrt: the variable the step is about (X, W or b), or None when shared.
        view: the method this step belongs to: jacobian, index or tensor.
    """

    id: str
    kind: StepKind
    title: str | Prose
    equations: tuple[Equation, ...]
    note: str | Prose = ""
    uses: tuple[str, ...] = ()
    wrt: str | None = None
    view: str = "jacobian"


@dataclass(frozen=True)
class Check:
    """One line of the certificate: a claim about variable ``wrt`` and whether it held.

    ``detail`` says what was compared, or the first differing entry when it failed.
    """

    wrt: str
    claim: str
    passed: bool
    detail: str | Prose = ""


@dataclass(frozen=True)
class Result:
    """Everything derived for one variable V (X, W or b).

    Attributes:
        var: "X", "W" or "b".
        jacobian: explicit ∂vec(Y)/∂vec(V), shape (N·M, #V), rows in vec(Y) order.
        kronecker: its Kronecker closed form (a notation tree).
        chain: J_L(v) = J_f(y)·J_y(v) as a (1, #V) row.
        derivative: the chain-rule result reshaped: V's shape (denominator layout) or its
            transpose (numerator layout). Entries use dy_i_j for the upstream derivative
            unless the loss is ``sum`` (then dY = 1 is already substituted).
        closed_form: the closed form in the layout asked (a notation tree).
        closed: the closed form evaluated explicitly, same shape as ``derivative``.
    """

    var: str
    jacobian: PolyMatrix
    kronecker: Node
    chain: PolyMatrix
    derivative: PolyMatrix
    closed_form: Node
    closed: PolyMatrix
    kronecker_verified: bool
    verified: bool
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Derivation:
    """A whole derivation: its configuration, steps, results and certificate.

    Attributes:
        config: sizes, convention, order, layout, loss, method, variables, names.
        layer: the symbolic layer (X, W, b, Y).
        upstream: dY as used by the chain rule, (N, M): the symbols dy_i_j, or ones.
        loss_upstream: for ``--loss mse``, dY = (Y − T)/N written with y_i_j and t_i_j.
        steps: the derivation, in order.
        results: per variable, in X, W, b order (only those asked for).
        checks: the certificate.
    """

    config: Config
    layer: AffineLayer
    upstream: PolyMatrix
    loss_upstream: PolyMatrix | None
    steps: tuple[Step, ...]
    results: Mapping[str, Result]
    checks: tuple[Check, ...]

    @property
    def verified(self) -> bool:
        """True when every check of the certificate passed."""
        return all(c.passed for c in self.checks)

    def step(self, step_id: str) -> Step:
        """The step with id ``step_id``."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def upstream_values(self) -> dict[str, Any]:
        """dy_i_j -> its value for the loss (mse: (Y − T)/N in x, w, b, t), else empty."""
        if self.loss_upstream is None:
            return {}
        outputs = self.layer.Y.by_name("y")
        return {
            f"dy_{i + 1}_{j + 1}": v.subs(outputs)
            for (i, j), v in self.loss_upstream.entries.items()
        }

    def explicit_derivative(self, var: str) -> Any:
        """∂L/∂var as a sympy ImmutableMatrix, with the loss's dY substituted."""
        import sympy as sp

        matrix = self.results[var].derivative.to_sympy()
        values = self.upstream_values()
        if not values:
            return matrix
        return sp.ImmutableMatrix(
            matrix.xreplace({sp.Symbol(k): v.to_sympy() for k, v in values.items()})
        )

    # -- output (printers live in symderiv.render) --------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON document of SPEC section 6, as Python data."""
        from .render.data import derivation_to_dict

        return derivation_to_dict(self)

    def _render(self, fmt: str, **settings: Any) -> str:
        from .render import render  # loaded on use: the printers import this module

        return render(self, fmt, **settings)

    def to_json(self) -> str:
        """JSON (SPEC section 6), deterministic."""
        return self._render("json")

    def to_text(self, width: int = 100) -> str:
        """The plain-text terminal view."""
        return self._render("text", width=width)

    def to_latex(self, **settings: Any) -> str:
        """A standalone LaTeX article."""
        return self._render("latex", **settings)

    def to_markdown(self, **settings: Any) -> str:
        """Markdown: GitHub's maths syntax, or ``flavor="jupyter"`` ($$ … $$) or "gitlab"."""
        return self._render("markdown", **settings)

    def matrices(self, names: str = "display") -> Mapping[str, Any]:
        """X, W, b, Y, dY, the Jacobians J_V and the derivatives dV as sympy matrices.

        ``names="display"`` prints entries as the derivation writes them (x₁,₁₂, ∂L/∂y₁,₁;
        x_{1,12} in LaTeX); ``"canonical"`` keeps x_1_12, dy_1_1. See
        :func:`symderiv.render.display.sympy_matrices`.
        """
        from .render.display import sympy_matrices

        return sympy_matrices(self, names)

    def __repr__(self) -> str:
        from .render.display import short_repr

        return short_repr(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from .render.display import summary

        p.text(summary(self))

    def _repr_markdown_(self) -> str:
        return self.to_markdown(flavor="jupyter")

    def _repr_latex_(self) -> str:
        return self._render("latex", standalone=False)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from .render.terminal import TerminalView

        yield TerminalView(self)
