"""Ctrl-C while the command line is still starting: one line and exit 130, no traceback.

Python raises KeyboardInterrupt wherever it is when SIGINT arrives; in the first tenth of
a second that is inside an import, before :func:`symderiv.cli.main` can catch anything,
and the interpreter prints a traceback. :func:`install` sets a ``sys.excepthook`` that
prints the CLI's own line for an uncaught KeyboardInterrupt instead (any other exception
goes to the previous hook). Only the ``symderiv`` command installs it, never a program
that imports the library.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

MESSAGE = "Error: interrupted (Ctrl-C); no partial file was left.\n"


def _hook(
    kind: type[BaseException],
    value: BaseException,
    traceback: TracebackType | None,
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        try:
            sys.stderr.write(MESSAGE)
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
        os._exit(130)
    sys.__excepthook__(kind, value, traceback)


def is_command() -> bool:
    """True when this process is the ``symderiv`` command (script or ``python -m``)."""
    argv = getattr(sys, "argv", None) or [""]
    first = os.path.basename(str(argv[0]))
    return first in ("-m", "symderiv", "symderiv.exe")


def install() -> None:
    """Print one line and exit 130 for a Ctrl-C no code catches (idempotent)."""
    sys.excepthook = _hook
