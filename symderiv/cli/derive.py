"""`symderiv derive`: the main job (filled in with the engine)."""

from __future__ import annotations

from . import cli


@cli.command()
def derive() -> None:
    """Derive dL/dX, dL/dW and dL/db of the affine layer, step by step."""
