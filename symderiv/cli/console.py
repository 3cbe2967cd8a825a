"""The CLI's one console module: where output goes and how it looks.

Results go to stdout or, with ``-o``, to a file (:func:`symderiv.fileio.write_atomic`);
progress and errors go to stderr. :func:`show` is the one way to print or write an
object (a derivation, the conventions page, or ready text) in a format.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from ..compare import Comparison
    from ..derive import Progress
    from ..net.engine import NetDerivation
    from ..steps import Derivation

#: Width of plain text written to a file or a pipe: fixed, so output is deterministic.
TEXT_WIDTH = 100
#: Terminal widths are kept within these bounds (COLUMNS=100000 would draw 100 000-wide
#: rules; a width of 0 prints nothing at all).
MIN_WIDTH, MAX_WIDTH = 20, 500
#: Work estimated to take longer than this shows a progress bar on stderr.
PROGRESS_AFTER_SECONDS = 2.0


@dataclass(frozen=True)
class ViewSettings:
    """How a derivation is displayed; one object instead of loose keyword arguments.

    max_entries: at most this many rows and columns of a matrix are shown (display only).
    flavor: the Markdown flavour (github, gitlab, jupyter), or None for the default.
    """

    max_entries: int = 12
    flavor: str | None = None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def interactive() -> bool:
    """True when someone is at a terminal: stdin and stdout are both terminals."""
    return _is_terminal(sys.stdin) and _is_terminal(sys.stdout)


def step_reads_input() -> bool:
    """True when ``--step`` pauses for an answer after each step.

    At a terminal (stdin and stdout), a person presses Enter or types q. With stdin a
    pipe or a file (``printf '\\n\\nq\\n' | symderiv derive --step``) each pause reads
    one line: q stops there, as does the end of the input. With stdin a terminal but
    stdout a pipe nobody would see a prompt, so nothing pauses.
    """
    try:
        return interactive() or not sys.stdin.isatty()
    except (AttributeError, ValueError):  # stdin closed or replaced
        return False


def _clamp(columns: int) -> int:
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def _columns_variable() -> int | None:
    """COLUMNS when it is a positive whole number, else None (0, negative, junk)."""
    value = os.environ.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def terminal_width() -> int | None:
    """The columns of the terminal on stdout (COLUMNS when valid), or None if no terminal."""
    import shutil

    if not _is_terminal(sys.stdout):
        return None
    columns = _columns_variable()
    if columns is None:
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = shutil.get_terminal_size((TEXT_WIDTH, 24)).columns
    return _clamp(columns or TEXT_WIDTH)  # a terminal may report 0 columns


def text_width(output: str | None) -> int:
    """Columns for plain text: the terminal's when stdout is one, else :data:`TEXT_WIDTH`.

    Written with ``-o``: :data:`TEXT_WIDTH`. Piped: the same, or ``COLUMNS`` when it is a
    positive number, so the same command gives the same bytes wherever it runs (for a
    pager: ``COLUMNS=80 symderiv derive | less``).
    """
    if output is not None:
        return TEXT_WIDTH
    return terminal_width() or _clamp(_columns_variable() or TEXT_WIDTH)


def make_console(**options: Any) -> Console:
    """The Rich console for standard output.

    Colour on a terminal unless ``NO_COLOR`` is set, in which case no style at all is
    written (``color_system=None``; Rich's own ``no_color`` would still write bold and
    dim). TERM=dumb and pipes give plain text (Rich detects them). The width is
    :func:`text_width`: the terminal's (never 0, whatever COLUMNS says), or 100 piped.
    """
    from rich.console import Console

    settings: dict[str, Any] = {
        "highlight": False,
        "emoji": False,
        "soft_wrap": False,
        "width": text_width(None),
    }
    if os.environ.get("NO_COLOR", ""):  # https://no-color.org
        settings["color_system"] = None
    settings.update(options)
    return Console(**settings)


@contextlib.contextmanager
def progress(seconds: float) -> Iterator[Progress | None]:
    """A progress callback drawing a bar on stderr, for work expected to take a while.

    Yields None (nothing to report to) below :data:`PROGRESS_AFTER_SECONDS`; one line
    (``symderiv: working (about N s)…``) when stderr is not a terminal.
    """
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
    console = Console(stderr=True, width=_clamp(console.width or TEXT_WIDTH))
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


def check_outputs(outputs: Iterable[tuple[str, str | os.PathLike[str] | None]]) -> None:
    """Refuse, before any work, outputs that cannot be written or that collide.

    Args:
        outputs: (what writes the path: ``"-o"``, ``"--svg"``, ``"--pdf"``; the path, None
            or ``"-"`` for standard output), in the order the message names them.

    Raises:
        UsageError: two outputs name the same file (one would overwrite the other).
        OutputError: a path cannot be written (see :func:`symderiv.fileio.check_writable`).
    """
    from ..fileio import check_writable, file_key

    named = [
        (flag, str(path)) for flag, path in outputs if path is not None and path != "-"
    ]
    seen: dict[tuple[object, ...], tuple[str, str]] = {}
    for flag, path in named:
        if not path:
            continue  # an empty name is check_writable's to refuse
        first = seen.setdefault(file_key(path), (flag, path))
        if first != (flag, path):
            raise UsageError(
                f"{first[0]} {first[1]!r} and {flag} {path!r} name the same file; "
                "one would overwrite the other"
            )
    for _, path in named:
        check_writable(path)


def pdf_next_to(output: str | None) -> str | None:
    """The PDF ``--pdf`` writes next to ``output`` (FILE.tex -> FILE.pdf), or None."""
    try:
        return str(Path(output).with_suffix(".pdf")) if output else None
    except ValueError:  # "/" or "..": no file name; check_outputs refuses the path
        return None


def _renderable(obj: object, settings: ViewSettings) -> Any:
    """What Rich draws for ``obj`` in a terminal."""
    from ..compare import Comparison

    if isinstance(obj, str):
        from rich.text import Text

        return Text(obj)
    if isinstance(obj, Comparison):
        from ..render.comparison import comparison_renderable

        return comparison_renderable(obj)
    from ..render.terminal import TerminalView

    return TerminalView(obj, max_entries=settings.max_entries)  # type: ignore[arg-type]


def _text(obj: object, fmt: str, width: int, settings: ViewSettings) -> str:
    """``obj`` as text in format ``fmt`` (``rich`` off a terminal is plain ``text``)."""
    from ..compare import Comparison

    fmt = "text" if fmt == "rich" else fmt
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Comparison):
        from ..render.comparison import render_comparison

        return render_comparison(obj, fmt, width)
    from ..render import render

    options: dict[str, Any] = {"max_entries": settings.max_entries}
    if fmt == "text":
        options["width"] = width
    elif fmt == "markdown" and settings.flavor is not None:
        options["flavor"] = settings.flavor
    return render(obj, fmt, **options)  # type: ignore[arg-type]


def _json(obj: Derivation | NetDerivation) -> Iterator[str]:
    """The JSON document of a derivation in chunks (one layer's streamed as written: at
    64×64×64 it is 58 MB of text; a network's at once, by its own printer)."""
    from ..steps import Derivation

    if isinstance(obj, Derivation):
        from ..render import stream

        return stream(obj, "json")
    from ..net.data import render_net_json

    return iter([render_net_json(obj)])


def show(
    obj: Derivation | NetDerivation | Comparison | str,
    fmt: str,
    output: str | None = None,
    settings: ViewSettings | None = None,
) -> None:
    """Print ``obj`` in format ``fmt`` to standard output, or write it to ``output``.

    ``fmt`` ``rich`` draws with Rich when the output is the terminal; anywhere else it is
    the plain ``text`` format. ``output`` None is standard output (``-o -`` arrives as
    None: :func:`~symderiv.cli.options.output_option`); a file is written with
    :func:`symderiv.fileio.write_atomic`.
    """
    from ..fileio import write_atomic

    settings = settings or ViewSettings()
    if fmt == "rich" and output is None:
        make_console().print(_renderable(obj, settings))
        return
    if fmt == "json" and not isinstance(obj, str):
        chunks: Iterable[str] = _json(obj)  # type: ignore[arg-type]
    else:
        chunks = [_text(obj, fmt, text_width(output), settings)]
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
    else:
        write_atomic(output, chunks)
