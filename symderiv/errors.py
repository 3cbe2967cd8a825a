"""Errors symderiv reports to its users.

The library raises these and never prints or exits; only the CLI turns them into a
message and an exit code. ``UsageError`` subclasses mean "the request itself is wrong"
(exit 2); every other ``SymderivError`` is a failure at run time (exit 1).
"""

from __future__ import annotations


def clip(text: str, width: int = 40, count: bool = False) -> str:
    """``text`` for a one-line message: past ``width`` characters cut with "…" (and,
    with ``count``, its length said: "… (95 characters)")."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" + (f" ({len(text)} characters)" if count else "")


class SymderivError(Exception):
    """Base class for problems symderiv reports to its users (exit 1)."""

    exit_code: int = 1


class UsageError(SymderivError):
    """The request is malformed: a bad size, choice, name or formula (exit 2)."""

    exit_code = 2


class ShapeError(UsageError):
    """Sizes or shapes do not fit together, or a size is not allowed."""


class ChoiceError(UsageError):
    """A value is not one of the allowed choices (convention, format, method, ...)."""


class DisplayNameError(UsageError):
    """A display name given with ``--names`` is not allowed."""


class FormulaError(UsageError):
    """A candidate formula does not parse, uses unknown names, or is too large."""


class TooLargeError(UsageError):
    """The requested sizes would take too long or too much memory (see ``--force``)."""


class UnknownSettingError(UsageError):
    """A printer was given a setting it does not know."""


class OutputError(SymderivError):
    """An output file cannot be written."""


class TexError(SymderivError):
    """TeX is missing, or compiling the LaTeX output failed."""


class VerificationError(SymderivError):
    """A certificate or numeric check failed (a mathematical error, never hidden)."""
