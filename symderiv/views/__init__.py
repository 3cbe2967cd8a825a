"""Two more views of the same derivatives: index notation and derivative tensors.

Each view is a pure function of a :class:`~symderiv.views.calculus.Context` (the settings,
the upstream derivative and the jacobian view's results, which it is checked against)
and returns a :class:`View`: its steps, its certificate rows and per-variable extras as
data (sympy objects, which the printers format). Nothing here changes the engine's state.

- ``--method index`` (:mod:`.index`): the entry-wise derivation with Kronecker deltas, for
  general sizes, computed by sympy.
- ``--method tensor`` (:mod:`.tensor`): ∂Y/∂X, ∂Y/∂W, ∂Y/∂b as sparse arrays, contracted
  with ∂L/∂Y.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..algebra import PolyMatrix
from ..conventions import Config
from ..steps import Result
from .calculus import Context, IndexCalculus, View, always, settle
from .index import index_view
from .tensor import tensor_view


def run_views(
    config: Config, upstream: PolyMatrix, results: Mapping[str, Result]
) -> list[View]:
    """The index and/or tensor view, as ``config.method`` asks, after the jacobian view."""
    ctx = Context(config, IndexCalculus(config), upstream, results)
    views = []
    if config.method in ("index", "all"):
        views.append(index_view(ctx))
    if config.method in ("tensor", "all"):
        views.append(tensor_view(ctx))
    return views


__all__ = ["IndexCalculus", "always", "run_views", "settle"]
