"""`symderiv conventions`: the three conventions and both vec orders side by side."""

from __future__ import annotations

import click

from . import cli
from .options import format_option, output_option, size_options

#: The formats of the comparison page.
FORMATS: tuple[str, ...] = ("rich", "text", "latex", "markdown", "html")


@cli.command()
@size_options
@format_option(FORMATS)
@output_option()
@click.option("--force", is_flag=True, help="Run even when the sizes look too large.")
def conventions(
    n: int, d: int, m: int, fmt: str | None, output: str | None, force: bool
) -> None:
    """Compare the conventions xw, torch and column, in both vec orders.

    Shows, side by side, the forward formula, the shape of every object, the closed forms
    of dL/dX, dL/dW and dL/db and the Kronecker forms of the three Jacobians (with the
    commutation matrix K where it appears). Every row is checked by running the
    derivation at the given sizes; exits 1 if any check fails.

    \b
    Examples:
      symderiv conventions
      symderiv conventions --n 3 --d 4 --m 2 --format latex -o conventions.tex
    """
    import sys

    from ..compare import (
        compare,
        comparison_latex,
        comparison_markdown,
        comparison_renderable,
        comparison_text,
    )
    from ..conventions import CONVENTIONS, VEC_ORDERS, Config
    from ..fileio import write_atomic
    from ..guard import guard
    from .live import make_console, text_width
    from .output import TEXT_WIDTH, progress_reporter

    seconds = sum(
        guard(Config(n=n, d=d, m=m, convention=c, vec=v), force).seconds
        for c in CONVENTIONS
        for v in VEC_ORDERS
    )
    if output == "-":
        output = None  # -o - is standard output, as for codegen and derive
    if fmt is None:
        fmt = "rich" if sys.stdout.isatty() and output is None else "text"
    with progress_reporter(seconds) as progress:
        comparison = compare(n, d, m, progress=progress, force=True)
    if fmt == "rich" and output is None:
        make_console().print(comparison_renderable(comparison))
    else:
        if fmt in ("rich", "text"):
            text = comparison_text(comparison, text_width(output, TEXT_WIDTH))
        elif fmt == "latex":
            text = comparison_latex(comparison)
        elif fmt == "html":
            from ..render.html import comparison_html

            text = comparison_html(comparison)
        else:
            text = comparison_markdown(comparison)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_atomic(output, text)
    if not comparison.verified:
        raise click.exceptions.Exit(1)
