"""`symderiv derive`: the main job."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from ..guard import DEFAULT_MAX_ENTRIES, MAX_ENTRIES_LIMIT
from . import cli
from .options import (
    Size,
    derivation_options,
    flavor_option,
    force_option,
    format_option,
    method_option,
    net_option,
    notation_options,
    output_option,
    size_options,
)

#: Every --format; "rich" draws in the terminal (plain text when stdout is not a terminal).
FORMATS: tuple[str, ...] = (
    "rich",
    "text",
    "latex",
    "beamer",
    "markdown",
    "ipynb",
    "html",
    "json",
)


@cli.command()
@size_options
@derivation_options
@method_option
@notation_options
@format_option(FORMATS)
@output_option()
@click.option(
    "--pdf",
    is_flag=True,
    help="Also compile latex/beamer output with pdflatex (next to FILE).",
)
@click.option(
    "--max-entries",
    type=Size(MAX_ENTRIES_LIMIT),
    default=DEFAULT_MAX_ENTRIES,
    show_default=True,
    help=f"Show at most this many rows and columns of a matrix (display only; "
    f"at most {MAX_ENTRIES_LIMIT}).",
)
@force_option("Run even when the sizes look too large.")
@flavor_option()
@click.option(
    "--step",
    is_flag=True,
    help="Pause after each step until Enter (q quits): for live lectures. With "
    "input from a pipe or file, each pause reads one line (q or its end stops).",
)
@net_option(
    "A network instead of one layer, e.g. 'affine:3,relu,affine:2' "
    "(affine:K, relu, tanh, sigmoid); --loss softmax-ce for classification."
)
@click.option(
    "--svg",
    type=click.Path(),  # a folder or "" is refused by write_atomic (exit 1, like -o)
    default=None,
    help="Also save the terminal view as an SVG picture (for slides).",
)
def derive(
    n: int,
    d: int,
    m: int,
    fmt: str | None,
    output: str | None,
    pdf: bool,
    max_entries: int,
    force: bool,
    flavor: str | None,
    step: bool,
    svg: str | None,
    net: str | None,
    **options: Any,
) -> None:
    """Derive dL/dX, dL/dW and dL/db of the affine layer, step by step.

    Writes Y = X W + b entry by entry, vectorizes it, computes each Jacobian explicitly,
    applies the chain rule with symbolic upstream derivatives dL/dy_ij, reshapes the
    result and proves that it equals the closed form. Exits 1 if any check fails.

    \b
    Examples:
      symderiv derive --n 2 --d 2 --m 3
      symderiv derive --convention torch --vec col --format json -o affine.json
      symderiv derive --net affine:3,relu,affine:2 --loss softmax-ce --n 2 --d 2
    """
    from .console import ViewSettings, check_outputs, progress, show, step_reads_input

    run: Callable[..., Any]  # the derivation, and the command that reproduces it
    command_line: Callable[[Any], str]
    # A network has its own checks, config, size guard (run before the output checks)
    # and command line; everything after them is shared.
    if net is not None:
        from ..net.commands import derive_config
        from ..net.engine import derive_net as run
        from ..net.page import command_line

        ctx = click.get_current_context()
        config, estimate = derive_config(ctx, net, n, d, force, options)
    else:
        from ..conventions import Config, command_line
        from ..derive import derive as run
        from .options import resolve_wrt

        options["wrt"] = resolve_wrt(
            options["wrt"], options["convention"], options["names"]
        )
        config, estimate = Config(n=n, d=d, m=m, **options), None
    settings = ViewSettings(max_entries=max_entries, flavor=flavor)
    if fmt is None:
        fmt = "rich" if sys.stdout.isatty() and output is None else "text"
    # Every usage error and every bad output path fails now: no work, no file written.
    pdf_path = _check_options(fmt, output, pdf, step, svg, flavor)
    check_outputs([("-o", output), ("--svg", svg), ("--pdf", pdf_path)])
    if estimate is None:
        from ..guard import guard

        estimate = guard(config, force, fmt=fmt, max_entries=max_entries)
    with progress(estimate.seconds) as report:
        derivation = run(config, progress=report, force=True)
        if output is not None:
            # Rendering a large derivation takes seconds too: keep the bar until written.
            if report is not None:
                report(f"writing {output}", 1, 1)
            show(derivation, fmt, output, settings)
            if pdf:
                from ..pdf import compile_pdf

                compile_pdf(output)
    if svg is not None:
        from ..fileio import write_atomic
        from .step import svg_of

        title = command_line(derivation.config)  # the command that reproduces it
        write_atomic(svg, svg_of(derivation, max_entries=max_entries, title=title))
    if output is None:
        if step and step_reads_input():
            from .console import make_console
            from .step import step_through

            # one line of input read after each step; the prompt only at a terminal
            plain = fmt == "text"
            console = make_console(color_system=None) if plain else make_console()
            if not step_through(
                derivation, console, max_entries=max_entries, prompt=console.is_terminal
            ):
                return  # stopped with q (or at the end of the input) during --step
        else:
            # stdin a terminal, stdout not: nobody sees a prompt, so nothing pauses.
            show(derivation, fmt, None, settings)
    if not derivation.verified:
        raise click.exceptions.Exit(1)


def _check_options(
    fmt: str,
    output: str | None,
    pdf: bool,
    step: bool,
    svg: str | None,
    flavor: str | None,
) -> str | None:
    """Refuse conflicting options; the path of the PDF ``--pdf`` will write, if any.

    Raises:
        UsageError: ``--pdf`` without latex/beamer or without ``-o``; ``--step`` with
            ``-o`` or another format than rich/text; ``--svg -``; ``--flavor`` without
            markdown.
    """
    from ..errors import UsageError
    from .console import pdf_next_to

    if pdf and fmt not in ("latex", "beamer"):
        raise UsageError(f"--pdf needs --format latex or beamer, not {fmt!r}")
    if pdf and output is None:
        raise UsageError("--pdf needs -o FILE.tex (the PDF is written next to it)")
    if flavor is not None and fmt != "markdown":
        raise UsageError(f"--flavor needs --format markdown, not {fmt!r}")
    if step and (output is not None or fmt not in ("rich", "text")):
        raise UsageError(
            "--step shows the derivation in the terminal; use it without -o and with "
            f"--format rich or text (got {'-o ' + output if output else '--format ' + fmt})"
        )
    if svg == "-":
        raise UsageError(
            "--svg needs a file name (- means standard output only for -o)"
        )
    return pdf_next_to(output) if pdf else None
