"""A derivation in a Python session: a short summary, and its matrices for sympy.

``sympy_matrices(d)`` gives the layer's matrices, the Jacobians and the derivatives as
``sympy.ImmutableMatrix`` objects, with either the canonical entry symbols (``x_1_12``,
``dy_1_1``: what the JSON and ``check`` use) or *display* symbols that print the way the
derivation writes them: ``x₁,₁₂`` and ``∂L/∂y₁,₁`` in text, ``x_{1,12}`` and
``\\frac{\\partial L}{\\partial y_{1,1}}`` in LaTeX (so Jupyter shows them as maths).
``summary(d)`` is what an IPython prompt shows for a derivation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.pretty.stringpict import prettyForm

from ..conventions import unicode_subscript
from .formula import formula_text
from .names import latex_name, renamed

if TYPE_CHECKING:
    from ..algebra import PolyMatrix
    from ..steps import Derivation

#: The keys of :func:`sympy_matrices`, in order.
KEYS = ("X", "W", "b", "Y", "dY", "J_X", "J_W", "J_b", "dX", "dW", "db")

_LATEX_NAME = re.compile(
    r"(?P<d>\\frac\{\\partial L\}\{\\partial )?(?:\\mathit\{)?(?P<letter>[A-Za-z]+)\}?"
    r"_\{(?P<index>[\d,]+)\}\}?"
)


class DisplaySymbol(sp.Symbol):  # type: ignore[misc]
    """An entry named by its LaTeX display name (``x_{1,12}``, as ``sympy.latex`` prints
    it); the text printers show it in Unicode (``x₁,₁₂``, ``∂L/∂y₁,₁``).

    >>> str(DisplaySymbol("x_{1,12}"))
    'x₁,₁₂'
    """

    def unicode(self) -> str:
        """The name in Unicode: x_{1,12} -> x₁,₁₂."""
        m = _LATEX_NAME.fullmatch(self.name)
        if m is None:
            return str(self.name)
        index = tuple(int(k) for k in m["index"].split(","))
        base = m["letter"] + unicode_subscript(index)
        return f"∂L/∂{base}" if m["d"] else base

    def _sympystr(self, printer: Any) -> str:
        return self.unicode()

    def _pretty(self, printer: Any) -> Any:
        return prettyForm(self.unicode())


class Matrices(Mapping[str, Any]):
    """The derivation's matrices by key, each made into a sympy matrix when first asked
    for (a large Jacobian costs time and memory as a sympy matrix)."""

    def __init__(self, d: Derivation, names: str) -> None:
        self._names = names
        self._letters = d.config.letters
        poly: dict[str, PolyMatrix] = {"dY": d.upstream}
        for role in ("X", "W", "b", "Y"):
            poly[role] = d.layer.matrix(role)
        for var, r in d.results.items():
            poly |= {f"J_{var}": r.jacobian, f"d{var}": r.derivative}
        self._poly = {k: poly[k] for k in KEYS if k in poly}
        self._made: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._made:
            matrix = self._poly[key].to_sympy()
            if self._names == "display":  # every entry symbol a display symbol
                letters = self._letters
                matrix = sp.ImmutableMatrix(
                    renamed(matrix, lambda a: DisplaySymbol(latex_name(a, letters)))
                )
            self._made[key] = matrix
        return self._made[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._poly)

    def __len__(self) -> int:
        return len(self._poly)

    def shape(self, key: str) -> tuple[int, int]:
        """The shape of matrix ``key``, without making it."""
        return self._poly[key].shape


def sympy_matrices(d: Derivation, names: str = "display") -> Matrices:
    """The derivation's matrices as ``sympy.ImmutableMatrix``, keyed by role.

    Keys (only the variables derived appear): ``X``, ``W``, ``b``, ``Y`` (the layer, in
    the convention's shapes), ``dY`` (the upstream derivative, (N, M)), ``J_X``, ``J_W``,
    ``J_b`` (the explicit Jacobians ∂vec(Y)/∂vec(V), (N·M, #V)), ``dX``, ``dW``, ``db``
    (the derivatives ∂L/∂V from the chain rule, in the layout asked). Each matrix is made
    when first looked up.

    Args:
        d: a derivation.
        names: "display" (x₁,₁₂, ∂L/∂y₁,₁; LaTeX x_{1,12}) or "canonical" (x_1_12, dy_1_1).

    Raises:
        ChoiceError: ``names`` is neither.

    >>> from symderiv import derive
    >>> m = derive(n=1, d=1, m=2).matrices()
    >>> m["dW"]
    Matrix([[∂L/∂y₁,₁*x₁,₁, ∂L/∂y₁,₂*x₁,₁]])
    """
    from ..errors import ChoiceError

    if names not in ("display", "canonical"):
        raise ChoiceError(f"names must be 'display' or 'canonical', not {names!r}")
    return Matrices(d, names)


def summary(d: Derivation) -> str:
    """A few lines: the configuration, the results, whether they are verified.

    >>> from symderiv import derive
    >>> print(summary(derive(n=2, d=2, m=3)))  # doctest: +NORMALIZE_WHITESPACE
    Derivation N=2, D=2, M=3 · convention xw · row order · denominator layout · loss generic
      ∂L/∂X = dY·Wᵀ   ∂L/∂W = Xᵀ·dY   ∂L/∂b = 1_Nᵀ·dY   (verified ✓)
      d.to_text(): the whole derivation; d.matrices(): the matrices for sympy
    """
    c = d.config
    sizes = ", ".join(
        f"{name}={value}"
        for name, value in zip(c.conv.sizes, (c.n, c.d, c.m), strict=True)
    )
    head = (
        f"Derivation {sizes} · convention {c.conv.name} · {c.vec} order · "
        f"{c.layout} layout · loss {c.loss}"
    )
    formulas = "   ".join(
        f"∂L/∂{c.letters.of(var)} = {formula_text(r.closed_form, c.letters)}"
        for var, r in d.results.items()
    )
    verdict = "verified ✓" if d.verified else "NOT verified ✗"
    return (
        f"{head}\n  {formulas}   ({verdict})\n"
        "  d.to_text(): the whole derivation; d.matrices(): the matrices for sympy"
    )


def short_repr(d: Derivation) -> str:
    """``Derivation(2×2×3, xw, row, denominator, generic, verified=True)``."""
    c = d.config
    wrt = "" if c.wrt == ("X", "W", "b") else f", wrt={','.join(c.wrt)}"
    return (
        f"Derivation({c.n}×{c.d}×{c.m}, {c.conv.name}, {c.vec}, {c.layout}, {c.loss}, "
        f"{c.method}{wrt}, verified={d.verified})"
    )


__all__ = [
    "KEYS",
    "DisplaySymbol",
    "Matrices",
    "short_repr",
    "summary",
    "sympy_matrices",
]
