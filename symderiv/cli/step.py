"""The terminal in the lecture hall: ``--step`` and ``--svg``.

``--step`` prints the derivation one step at a time and waits for Enter after each, so a
lecturer can talk through it; ``q`` then Enter, or Ctrl-D (end of input), stops cleanly
(when a pause reads from a pipe: :func:`symderiv.cli.console.step_reads_input`).
``--svg FILE`` saves the same view as an SVG picture for slides.

Colour follows https://no-color.org through :func:`symderiv.cli.console.make_console`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .console import make_console

if TYPE_CHECKING:
    from rich.console import Console

    from ..steps import Derivation

#: Width of the SVG picture in columns (fixed, so the picture is the same on every run).
SVG_WIDTH = 100
#: The words a lecturer types at a pause to stop.
QUIT_WORDS = ("q", "quit", "exit")


def _read_line() -> str | None:
    """One line from stdin, or None at end of input (Ctrl-D)."""
    return sys.stdin.readline() or None


def step_through(
    derivation: Derivation,
    console: Console,
    *,
    max_entries: int = 12,
    pause: bool = True,
    read_line: Callable[[], str | None] = _read_line,
    prompt: bool = True,
) -> bool:
    """Print ``derivation`` step by step, waiting for Enter after each step.

    Args:
        derivation: what to show.
        console: where to show it.
        max_entries: display limit for matrices.
        pause: wait after each step.
        read_line: reads the answer to a pause (None at end of input).
        prompt: show the "Enter: next step · q: quit" line at each pause (not when the
            output goes to a pipe or file: the answers then come from a script).

    Returns:
        True when everything was shown, False when the user stopped early (q, Ctrl-D).
    """
    from rich.control import Control
    from rich.segment import ControlType
    from rich.text import Text

    from ..render.terminal import TerminalView

    view = TerminalView(derivation, max_entries=max_entries)
    header, steps, closing = view.sections(console.width)
    total = len(steps)
    console.print(header)
    console.print()
    for number, step in enumerate(steps, start=1):
        console.print(step)
        if not pause:
            continue
        what = "the certificate" if number == total else f"step {number + 1}"
        if prompt:
            console.print(
                Text(
                    f"── step {number} of {total} · Enter: {what} · q: quit ",
                    style="dim reverse",
                ),
                end="",
            )
        answer = read_line()
        if prompt and answer is None:  # Ctrl-D: the cursor is still on the prompt line
            console.print()
        elif prompt and console.is_terminal and console.color_system is not None:
            # Remove the prompt line so that the steps read as one derivation.
            console.control(
                Control((ControlType.CURSOR_UP, 1), (ControlType.ERASE_IN_LINE, 2))
            )
        if answer is None or answer.strip().lower() in QUIT_WORDS:
            console.print(Text(f"Stopped after step {number} of {total}.", style="dim"))
            return False
    for item in closing:
        console.print(item)
    return True


def svg_of(derivation: Derivation, *, max_entries: int = 12, title: str = "") -> str:
    """The terminal view as an SVG picture (colours on, ``SVG_WIDTH`` columns)."""
    import io

    from ..render.svgfont import offline_svg_format
    from ..render.terminal import TerminalView

    console = make_console(
        file=io.StringIO(),
        record=True,
        width=SVG_WIDTH,
        force_terminal=True,
        color_system="truecolor",  # colours on, whatever NO_COLOR says
        legacy_windows=False,
    )
    console.print(TerminalView(derivation, max_entries=max_entries))
    # Rich's own template loads a web font; this one uses system fonts (no network).
    return console.export_svg(
        title=title or "symderiv", code_format=offline_svg_format()
    )
