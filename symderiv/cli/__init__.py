"""The command line: a thin shell over the library.

Each command lives in its own module of this package and imports the heavy library
(sympy) only inside its function body, so ``symderiv --help`` stays fast. Errors are
mapped to messages and exit codes in one place, :func:`main`: one line on stderr, exit 2
for usage errors, 1 for failures at run time, 130 for Ctrl-C, never a traceback for bad
input.
"""

from __future__ import annotations

from .. import _interrupt

_interrupt.install()  # a Ctrl-C during the imports below: one line, exit 130

import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

from .. import __version__  # noqa: E402
from ..errors import SymderivError  # noqa: E402

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(code)


class _Interrupted(Exception):
    """Ctrl-C inside a command, carried past click (which would print a blank line)."""


class SymderivGroup(click.Group):
    """A click group whose errors are one line on stderr, under CliRunner too."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if os.environ.get("NO_COLOR", "") or os.environ.get("TERM") == "dumb":
            extra.setdefault("color", False)  # click.echo/style: no escape codes
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except (_Interrupted, click.exceptions.Abort, KeyboardInterrupt):
            _fail("interrupted (Ctrl-C); no partial file was left.", 130)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # bare `symderiv`: the help as it is (stderr, exit 2), not one line
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            hint = _formula_hint(exc)  # "" unless check's formula was mistyped
            message = _meant_option(exc) or exc.format_message()
            _fail(message.rstrip(".") + hint if hint else message, exc.exit_code)
        except SymderivError as exc:
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            # Output piped into `head`: stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except MemoryError:
            _fail("out of memory; choose smaller sizes", 1)
        except UnicodeEncodeError as exc:
            if not _is_stream_encoding(exc.encoding):
                _internal(exc)
            _fail(_encoding_message(exc), 1)
        except ImportError as exc:
            if not _out_of_memory(exc):
                _internal(exc)
            _fail(
                "out of memory (a library could not be loaded); raise the memory "
                "limit (ulimit -v) or choose smaller sizes",
                1,
            )
        except Exception as exc:
            _internal(exc)
        sys.exit(code if isinstance(code, int) else 0)


#: Option names from other tools and papers, and the symderiv option each means.
OPTION_SYNONYMS = {
    "--order": "--vec",
    "--vectorization": "--vec",
    "--vectorisation": "--vec",
    "--vectorize": "--vec",
    "--view": "--method",
    "--views": "--method",
    "--conv": "--convention",
    "--layers": "--net",
    "--network": "--net",
    "--batch-size": "--n",
    "--in-features": "--d",
    "--out-features": "--m",
}


def _meant_option(exc: click.ClickException) -> str | None:
    """The message for an unknown option that is another tool's name for one of this
    command's options (``--order`` for ``--vec``): that option alone, not click's
    closest spellings; None for any other error."""
    ctx = getattr(exc, "ctx", None)
    if not isinstance(exc, click.NoSuchOption) or ctx is None:
        return None
    meant = OPTION_SYNONYMS.get(exc.option_name.partition("=")[0].lower())
    known = {opt for param in ctx.command.params for opt in param.opts}
    if meant is None or meant not in known:
        return None
    return f"{exc.message} Did you mean {meant!r}?"


def _formula_hint(exc: click.ClickException) -> str:
    """How to type check's formula, when the shell split it (unquoted spaces) or click
    took it for options (a leading minus); "" for any other error."""
    ctx = getattr(exc, "ctx", None)
    if ctx is None or ctx.command.name != "check":
        return ""
    if isinstance(exc, click.NoSuchOption) and not exc.option_name.startswith("--"):
        return (
            "; a formula that starts with a minus goes after --: "
            'symderiv check --wrt X -- "-dY @ W.T"'
        )
    if "unexpected extra argument" in exc.format_message():
        return '; put the formula in quotes: symderiv check --wrt W "X.T @ dY"'
    return ""


def _internal(exc: Exception) -> None:
    """A bug, not bad input: still one line in front of a class, unless debugging."""
    if os.environ.get("SYMDERIV_DEBUG"):
        raise exc
    _fail(
        f"internal error ({type(exc).__name__}: {exc}); this is a bug in "
        "symderiv, please report it with the command line "
        "(SYMDERIV_DEBUG=1 shows the traceback)",
        1,
    )


def _codec(name: str | None) -> str:
    import codecs

    try:
        return codecs.lookup(name or "").name
    except LookupError:
        return name or ""


def _is_stream_encoding(encoding: str) -> bool:
    """True when ``encoding`` is that of standard output or standard error."""
    streams = (sys.stdout, sys.stderr)
    return _codec(encoding) in {_codec(getattr(s, "encoding", None)) for s in streams}


def _encoding_message(exc: UnicodeEncodeError) -> str:
    """What to set when standard output cannot encode the output (ASCII only)."""
    char = exc.object[exc.start : exc.start + 1]
    return (
        f"standard output uses the encoding {exc.encoding!r}, which cannot show "
        f"U+{ord(char):04X} in symderiv's output; set PYTHONIOENCODING=utf-8 "
        "(or a UTF-8 locale such as LANG=C.UTF-8), or write a file with -o FILE"
    )


def _out_of_memory(exc: ImportError) -> bool:
    """True when a library failed to load for lack of memory (e.g. under ulimit -v)."""
    text = str(exc).lower()
    signs = ("failed to map segment", "cannot allocate memory", "out of memory")
    return any(sign in text for sign in signs) or isinstance(
        exc.__cause__ or exc.__context__, MemoryError
    )


@click.group(cls=SymderivGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="symderiv")
def cli() -> None:
    """Derive, step by step, the backpropagation formulas of an affine layer.

    \b
    Y = X W + 1 b   gives   dX = dY Wᵀ,  dW = Xᵀ dY,  db = 1ᵀ dY
    Start with:  symderiv derive --n 2 --d 2 --m 3
    """


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so no temporary file stays.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (the console script ``symderiv``)."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    if sys.stdout is None:  # started with stdout closed (`symderiv ... >&-`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    cli.main(args=argv, prog_name="symderiv")


# Register the commands: each module adds itself to ``cli`` (light imports only).
from . import check as _check  # noqa: E402,F401
from . import codegen as _codegen  # noqa: E402,F401
from . import conventions as _conventions  # noqa: E402,F401
from . import derive as _derive  # noqa: E402,F401
from . import exercise as _exercise  # noqa: E402,F401
from . import verify as _verify  # noqa: E402,F401
