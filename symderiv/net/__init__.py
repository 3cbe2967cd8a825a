"""Backpropagation through a network: affine layers, activations and softmax cross-entropy.

``derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)`` derives every
layer's backward pass explicitly, top down, in the values the forward pass caches.
"""

from __future__ import annotations

from .engine import NetDerivation, derive_net
from .spec import NetConfig, NetSpec, NetSpecError, parse_net

__all__ = [
    "NetConfig",
    "NetDerivation",
    "NetSpec",
    "NetSpecError",
    "derive_net",
    "parse_net",
]
