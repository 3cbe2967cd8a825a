"""Where a derivation goes: the terminal, standard output or a file (and its PDF).

Progress goes to stderr; results go to stdout or, with ``-o``, to a file written
atomically.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..steps import Derivation

#: Width of plain text written to a file or a pipe: fixed, so output is deterministic.
TEXT_WIDTH = 100
#: Work estimated to take longer than this shows a progress bar on stderr.
PROGRESS_AFTER_SECONDS = 2.0


def no_color_requested() -> bool:
    """True when the user asked for no colour (https://no-color.org: NO_COLOR set)."""
    return os.environ.get("NO_COLOR", "") != ""


def stdout_console(no_color: bool = False) -> object:
    """The Rich console for standard output (plain text when it is not a terminal).

    With NO_COLOR (or ``no_color``) nothing but text is written: no colour and no bold
    or dim either, so no escape code at all. TERM=dumb and pipes give plain text too
    (Rich detects them).
    """
    from rich.console import Console

    plain = no_color or no_color_requested()
    return Console(
        highlight=False,
        emoji=False,
        soft_wrap=False,
        no_color=plain or None,
        color_system=None if plain else "auto",
    )


@contextlib.contextmanager
def progress_reporter(
    seconds: float,
) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress callback drawing a bar on stderr, for work expected to take a while."""
    if seconds < PROGRESS_AFTER_SECONDS:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        # A log or a CI job: one line, no bar (and no blank lines from Rich).
        click.echo(f"symderiv: working (about {seconds:.0f} s)…", err=True)
        yield None
        return
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("deriving", total=1)

        def report(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        yield report


def preflight(*paths: str | None) -> None:
    """Refuse output paths that cannot be written, before any work or any file is written.

    The same checks (and messages) as :func:`symderiv.fileio.write_atomic`, done up front
    so that a typo in ``-o`` fails at once rather than after a long derivation, and so
    that a command with two outputs (``-o`` and ``--svg``) writes neither when one of
    them is bad. ``None`` and ``"-"`` (standard output) are skipped.

    Raises:
        OutputError: the path is empty, its folder is missing or not a folder, the path
            is a folder, or the folder is not writable.
    """
    from ..errors import OutputError

    for path in paths:
        if path is None or path == "-":
            continue
        if not path:
            raise OutputError("cannot write '': the output path is empty")
        target = os.path.realpath(path)
        folder = os.path.dirname(target)
        if not os.path.exists(folder):
            raise OutputError(
                f"cannot write {path!r}: folder {folder!r} does not exist"
            )
        if not os.path.isdir(folder):
            raise OutputError(f"cannot write {path!r}: {folder!r} is not a folder")
        if os.path.isdir(target):
            raise OutputError(
                f"cannot write {path!r}: it is a folder; give a file name"
            )
        if not os.access(folder, os.W_OK):
            raise OutputError(f"cannot write {path!r}: permission denied")


def emit(
    derivation: Derivation,
    fmt: str,
    *,
    output: str | None,
    pdf: bool = False,
    max_entries: int = 12,
    flavor: str | None = None,
) -> None:
    """Print or write ``derivation`` in format ``fmt`` (and compile the PDF if asked).

    ``output`` None or ``"-"`` means standard output (as for ``codegen -o -``);
    ``flavor`` (Markdown only) is github, gitlab or jupyter.
    """
    from ..fileio import write_atomic
    from ..render import render

    if output == "-":
        output = None
    if pdf and fmt not in ("latex", "beamer"):
        raise UsageError(f"--pdf needs --format latex or beamer, not {fmt!r}")
    if pdf and output is None:
        raise UsageError("--pdf needs -o FILE.tex (the PDF is written next to it)")
    if flavor is not None and fmt != "markdown":
        raise UsageError(f"--flavor needs --format markdown, not {fmt!r}")
    if fmt == "rich" and output is None:
        from ..render.terminal import TerminalView

        console = stdout_console()
        console.print(TerminalView(derivation, max_entries=max_entries))  # type: ignore[attr-defined]
        return
    if fmt in ("rich", "text"):
        from .live import text_width

        width = text_width(output, TEXT_WIDTH)
        text = render(derivation, "text", width=width, max_entries=max_entries)
    else:
        settings: dict[str, object] = {}
        if fmt in ("latex", "beamer", "markdown", "ipynb", "html"):
            settings["max_entries"] = max_entries
        if flavor is not None:
            settings["flavor"] = flavor
        text = render(derivation, fmt, **settings)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    if pdf:
        from ..pdf import compile_pdf

        compile_pdf(output)
