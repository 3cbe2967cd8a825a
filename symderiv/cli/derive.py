"""`symderiv derive`: the main job."""

from __future__ import annotations

import sys
from typing import Any

import click

from . import cli
from .options import (
    SIZE,
    derivation_options,
    format_option,
    method_option,
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
    type=SIZE,
    default=12,
    show_default=True,
    help="Show at most this many rows and columns of a matrix (display only).",
)
@click.option("--force", is_flag=True, help="Run even when the sizes look too large.")
@click.option(
    "--step",
    is_flag=True,
    help="Pause after each step until Enter (q quits): for live lectures.",
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
    step: bool,
    svg: str | None,
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
    """
    from ..conventions import Config
    from ..derive import derive as run
    from ..guard import guard
    from .output import emit, preflight, progress_reporter

    config = Config(n=n, d=d, m=m, **options)
    estimate = guard(config, force)
    preflight(output, svg)  # a bad -o or --svg fails now: no work, no file written
    if fmt is None:
        fmt = "rich" if sys.stdout.isatty() and output is None else "text"
    to_file = output is not None and not step and svg is None
    with progress_reporter(estimate.seconds) as progress:
        derivation = run(config, progress=progress, force=True)
        if to_file:
            # Rendering a large derivation takes seconds too: keep the bar until written.
            if progress is not None:
                progress(f"writing {output}", 1, 1)
            emit(derivation, fmt, output=output, pdf=pdf, max_entries=max_entries)
    if step or svg is not None:
        from .live import present

        finished = present(
            derivation,
            fmt,
            output=output,
            pdf=pdf,
            max_entries=max_entries,
            step=step,
            svg=svg,
        )
        if not finished:
            return  # stopped with q during --step: a clean exit
    elif not to_file:
        emit(derivation, fmt, output=output, pdf=pdf, max_entries=max_entries)
    if not derivation.verified:
        raise click.exceptions.Exit(1)
