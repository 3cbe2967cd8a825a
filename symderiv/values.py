"""A numeric companion: small exact integers in place of the symbols (``--values SEED``).

A student following the derivation by hand wants numbers beside the symbols: the same X,
W, b (and dY, or the targets T for the MSE loss) filled with small integers, then every
step's matrices evaluated with them: Y, vec(Y), each Jacobian, each chain-rule row, each
reshaped result. The numbers are exact (integers, and fractions when the MSE loss divides
by N), and the final results are checked against the closed forms computed directly in
integer arithmetic (``dY @ W.T`` with numpy object arrays of ``Fraction``), independently
of the symbolic engine.

Every loss whose numbers stay exact has a companion: the generic loss (an integer dY),
``sum`` (dY all ones) and ``mse`` (dY = (Y − T)/N, halves or thirds). The softmax
cross-entropy has none: its probabilities exp(y_ij)/Σ_k exp(y_ik) are irrational for every
integer Y, and a companion with rounded decimals would be neither exact nor checkable by
hand, so ``--values`` with ``--loss softmax-ce`` is refused (one line, exit 2) and points
to the exact losses; every step after dY is the same for each loss.

Values are drawn with ``random.Random(seed)`` from ±1, ±2, ±3, in the order X, W, b, then dY
(generic loss) or T (MSE loss): a fixed order, so a seed gives the same numbers on every
machine.

>>> from symderiv.derive import derive
>>> c = companion(derive(n=1, d=2, m=1), seed=0)
>>> c.values["X"].to_strings(), c.variables["X"].derivative.to_strings(), c.verified
([['1', '1']], [['-3', '-1']], True)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .algebra import Poly, PolyMatrix
from .conventions import check_values_loss, check_values_seed
from .maths import column

if TYPE_CHECKING:
    from .steps import Derivation

#: The integers drawn: small enough to multiply in one's head, and never 0 (a zero would
#: hide a term of the very sums a student is following).
CHOICES: tuple[int, ...] = (-3, -2, -1, 1, 2, 3)


@dataclass(frozen=True)
class VariableNumbers:
    """The numbers of one variable's steps.

    Attributes:
        var: X, W or b.
        jacobian: ∂vec(Y)/∂vec(V) evaluated, (N·M, #V).
        chain: J_L(v) = J_f(y)·J_y(v) evaluated, (1, #V).
        derivative: the reshaped result, in the layout asked.
        closed: the closed form (dY·Wᵀ, ...) computed directly in integer arithmetic,
            same shape as ``derivative``.
        verified: ``derivative`` equals ``closed`` entry by entry.
    """

    var: str
    jacobian: PolyMatrix
    chain: PolyMatrix
    derivative: PolyMatrix
    closed: PolyMatrix
    verified: bool


@dataclass(frozen=True)
class Companion:
    """Every step's numbers for one seed.

    Attributes:
        seed: the ``--values`` seed.
        assignment: canonical entry name -> its number (x_1_1 -> 2, dy_1_1 -> -1, ...).
        values: X, W, b, Y, dY (and T for the MSE loss) as constant matrices.
        vec_y: vec(Y) as a column, (N·M, 1).
        variables: per variable asked for, in X, W, b order.
    """

    seed: int
    assignment: Mapping[str, Fraction]
    values: Mapping[str, PolyMatrix]
    vec_y: PolyMatrix
    variables: Mapping[str, VariableNumbers]

    @property
    def verified(self) -> bool:
        """True when every result equals its closed form computed in integers."""
        return all(v.verified for v in self.variables.values())


def _draw(rng: random.Random, matrix: PolyMatrix, into: dict[str, Fraction]) -> None:
    """One integer per distinct entry of ``matrix``, row by row."""
    for entry in matrix.vec("row"):
        for name in sorted(entry.atoms()):
            if name not in into:
                into[name] = Fraction(rng.choice(CHOICES))


def companion(derivation: Derivation, seed: int) -> Companion:
    """Substitute small integers into the derivation and evaluate every step.

    Args:
        derivation: any derivation (every convention, order, layout and loss).
        seed: a whole number >= 0.

    Returns:
        The numbers of every step, each result checked against its closed form computed
        in integers.

    Raises:
        UsageError: a bad seed, or a loss without exact numbers (softmax-ce).
    """
    seed = check_values_seed(seed)
    config, layer = derivation.config, derivation.layer
    check_values_loss(config.loss)
    rng = random.Random(seed)
    assignment: dict[str, Fraction] = {}
    drawn = {"generic": ("dY",), "mse": ("T",)}.get(config.loss, ())
    for role in ("X", "W", "b", *drawn):
        _draw(rng, layer.matrix(role), assignment)
    consts = {name: Poly.const(v) for name, v in assignment.items()}
    shown = ("X", "W", "b", "Y", "T") if config.loss == "mse" else ("X", "W", "b", "Y")
    values = {r: layer.matrix(r).subs(consts) for r in shown}
    if config.loss == "mse":
        assert derivation.loss_upstream is not None
        y_values = values["Y"].by_name("y")
        upstream = derivation.loss_upstream.subs(y_values).subs(consts)
    else:
        upstream = derivation.upstream.subs(consts)
    values["dY"] = upstream
    # dy_i_j -> its number: the chain rule's row is the upstream dY
    everything = {**consts, **upstream.by_name("dy")}
    vec_y = column(values["Y"].vec(config.vec))
    reference = _closed_forms(config.convention, config.layout, values)
    variables: dict[str, VariableNumbers] = {}
    for var, result in derivation.results.items():
        derivative = result.derivative.subs(everything)
        closed = reference[var]
        variables[var] = VariableNumbers(
            var,
            result.jacobian.subs(everything),
            result.chain.subs(everything),
            derivative,
            closed,
            derivative == closed,
        )
    return Companion(seed, assignment, values, vec_y, variables)


def _array(matrix: PolyMatrix) -> Any:
    """A numpy object array of Fractions, (rows, cols)."""
    import numpy as np

    out = np.empty(matrix.shape, dtype=object)
    for i in range(matrix.rows):
        for j in range(matrix.cols):
            value = matrix[i, j].constant()
            if value is None:
                raise ValueError(f"entry ({i}, {j}) is not a number")
            out[i, j] = Fraction(value)
    return out


def _matrix(array: Any) -> PolyMatrix:
    import numpy as np

    rows, cols = array.shape
    entries = {at: Poly.const(v) for at, v in np.ndenumerate(array) if v != 0}
    return PolyMatrix(rows, cols, entries)


#: dX, dW, db from X, W and dY as each convention's backward pass writes them in numpy
#: (dY is M×N in wx, where samples are columns).
_BACKWARD: dict[str, Callable[[Any, Any, Any], tuple[Any, Any, Any]]] = {
    "xw": lambda X, W, dY: (dY @ W.T, X.T @ dY, dY.sum(axis=0, keepdims=True)),
    "torch": lambda X, W, dY: (dY @ W, dY.T @ X, dY.sum(axis=0, keepdims=True)),
    "column": lambda X, W, dY: (dY @ W, dY.T @ X, dY.sum(axis=0, keepdims=True).T),
    "wx": lambda X, W, dY: (W.T @ dY, dY @ X.T, dY.sum(axis=1, keepdims=True)),
}


def _closed_forms(
    convention: str, layout: str, values: Mapping[str, PolyMatrix]
) -> dict[str, PolyMatrix]:
    """dX, dW, db by :data:`_BACKWARD` (not via the notation or the engine), in exact
    arithmetic; transposed in numerator layout."""
    found = _BACKWARD[convention](*(_array(values[r]) for r in ("X", "W", "dY")))
    if layout == "numerator":
        found = tuple(v.T for v in found)
    return {var: _matrix(v) for var, v in zip(("X", "W", "b"), found, strict=True)}
