"""Printers: one per format, all walking the same steps.

``render(derivation, fmt, **settings)`` is the way in; ``RENDERERS`` maps each format name
to the module of its function ``render_<format>(derivation, **settings) -> str``. Printers
are imported lazily so that a format costs nothing until it is used.

The package itself is callable as :func:`render` (``symderiv.render(d, "latex")``), so
that ``symderiv.render`` can stay this package: ``import symderiv.render.beamer as B``
then finds the printer module rather than a function of the same name.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ChoiceError

if TYPE_CHECKING:
    from ..steps import Derivation

#: format -> the module (relative to this package) of its function ``render_<format>``.
RENDERERS: dict[str, str] = {
    "text": "terminal",
    "json": "data",
    "latex": "latex",
    "beamer": "beamer",
    "markdown": "markdown",
    "ipynb": "notebook",
    "html": "html",
}


def render(derivation: Derivation, fmt: str, **settings: Any) -> str:
    """``derivation`` in format ``fmt`` (text, json, latex, beamer, markdown, ipynb, html).

    Raises:
        ChoiceError: ``fmt`` is not a known format.
    """
    if fmt not in RENDERERS:
        raise ChoiceError(
            f"unknown format {fmt!r}; choose from {', '.join(sorted(RENDERERS))}"
        )
    module = importlib.import_module(f".{RENDERERS[fmt]}", __name__)
    fn: Callable[..., str] = getattr(module, f"render_{fmt}")
    return fn(derivation, **settings)


def stream(derivation: Derivation, fmt: str, **settings: Any) -> Iterator[str]:
    """:func:`render` as consecutive chunks of text, to be written as they come.

    JSON is produced while it is written (its big tables row by row), so a document of
    tens of megabytes is never held in memory whole; the other formats are one chunk.
    """
    if fmt == "json" and not settings:
        from .data import iter_json

        yield from iter_json(derivation)
    else:
        yield render(derivation, fmt, **settings)


class _CallablePackage(types.ModuleType):
    """This package, callable as its function :func:`render` (a global, so looked up
    on each call: a patched ``render`` is the one called)."""

    def __call__(self, derivation: Derivation, fmt: str, **settings: Any) -> str:
        return render(derivation, fmt, **settings)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["RENDERERS", "render", "stream"]
