"""The affine layer: sizes, convention, symbolic matrices and the forward pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .algebra import PolyMatrix, evaluate
from .conventions import XW, Convention, check_size


@dataclass(frozen=True)
class AffineLayer:
    """Y = X W + 1_N b (or its convention's form) with every entry its own symbol.

    Shapes: X (N, D), Y (N, M); W (D, M) or (M, D); b (1, M) or (M, 1).

    >>> layer = AffineLayer(1, 2, 1)
    >>> layer.Y[0, 0].to_str()
    'x_1_1*w_1_1 + x_1_2*w_2_1 + b_1'
    """

    n: int
    d: int
    m: int
    convention: Convention = XW
    _cache: dict[str, PolyMatrix] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("n", "d", "m"):
            check_size(name, getattr(self, name))

    @property
    def sizes(self) -> dict[str, int]:
        """The sizes by name: {"N": n, "D": d, "M": m}."""
        return {"N": self.n, "D": self.d, "M": self.m}

    def shape(self, role: str) -> tuple[int, int]:
        """Shape of X, W, b, Y, dY or T in this layer."""
        return self.convention.shape(role, self.n, self.d, self.m)

    def matrix(self, role: str) -> PolyMatrix:
        """The symbolic matrix of ``role``: entries x_i_j, w_i_j, b_j, dy_i_j, t_i_j, or Y."""
        if role == "Y":
            return self.Y
        if role not in self._cache:
            self._cache[role] = PolyMatrix.of_atoms(role, *self.shape(role))
        return self._cache[role]

    @property
    def X(self) -> PolyMatrix:  # the maths name
        """Input, (N, D)."""
        return self.matrix("X")

    @property
    def W(self) -> PolyMatrix:
        """Weights, (D, M) in xw, (M, D) in torch and column."""
        return self.matrix("W")

    @property
    def b(self) -> PolyMatrix:
        """Bias, (1, M) or (M, 1) in column."""
        return self.matrix("b")

    @cached_property
    def Y(self) -> PolyMatrix:
        """Output, (N, M): y_ij = Σ_l x_il w_lj + b_j, built from the convention's formula."""
        env = {role: self.matrix(role) for role in ("X", "W", "b")}
        return evaluate(self.convention.forward(), env, self.sizes)

    @property
    def outputs(self) -> PolyMatrix:
        """The outputs as names y_i_j (what the loss sees), Y's shape."""
        return PolyMatrix.of_atoms("Y", *self.shape("Y"))
