"""symderiv: see why backpropagation through an affine layer gives dX = dY·Wᵀ.

>>> from symderiv import derive
>>> d = derive(n=2, d=2, m=3)
>>> d.verified
True
>>> d.results["W"].derivative.shape
(2, 3)
"""

from __future__ import annotations

__version__ = "0.1.0"

# The command line only: a Ctrl-C during the imports below is one line, not a traceback.
from . import _interrupt  # noqa: E402

if _interrupt.is_command():
    _interrupt.install()

# Nothing here imports sympy at import time, so the CLI starts fast.
from . import render  # noqa: E402  (the printers' package, callable as render(d, fmt))
from .conventions import CONVENTIONS, Config, Convention  # noqa: E402
from .derive import derive  # noqa: E402
from .errors import SymderivError  # noqa: E402
from .guard import Estimate, estimate, guard  # noqa: E402
from .layer import AffineLayer  # noqa: E402
from .steps import Check, Derivation, Result, Step, StepKind  # noqa: E402

__all__ = [
    "CONVENTIONS",
    "AffineLayer",
    "Check",
    "Config",
    "Convention",
    "Derivation",
    "Estimate",
    "Result",
    "Step",
    "StepKind",
    "SymderivError",
    "__version__",
    "derive",
    "estimate",
    "guard",
    "render",
]
