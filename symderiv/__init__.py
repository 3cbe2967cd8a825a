"""symderiv: see why backpropagation through an affine layer gives dX = dY·Wᵀ, dW = Xᵀ·dY."""

from __future__ import annotations

__version__ = "0.1.0"
