"""`symderiv conventions`: the three conventions and both vec orders side by side."""

from __future__ import annotations

import click

from . import cli
from .options import force_option, format_option, output_option, size_options

#: The formats of the comparison page.
FORMATS: tuple[str, ...] = ("rich", "text", "latex", "markdown", "html")


@cli.command()
@size_options
@format_option(FORMATS)
@output_option()
@force_option("Run even when the sizes look too large.")
@click.option(
    "--pdf",
    is_flag=True,
    help="Also compile the latex output with pdflatex (the PDF goes next to FILE).",
)
def conventions(
    n: int,
    d: int,
    m: int,
    fmt: str | None,
    output: str | None,
    force: bool,
    pdf: bool,
) -> None:
    """Compare the conventions xw, torch, column and wx, in both vec orders.

    Shows, side by side, the forward formula, the shape of every object, the closed forms
    of dL/dX, dL/dW and dL/db and the Kronecker forms of the three Jacobians (with the
    commutation matrix K where it appears). Every row is checked by running the
    derivation at the given sizes; exits 1 if any check fails.

    \b
    Examples:
      symderiv conventions
      symderiv conventions --n 3 --d 4 --m 2 --format latex -o conventions.tex
      symderiv conventions --format latex -o conventions.tex --pdf
    """
    import sys

    from ..compare import compare
    from ..conventions import CONVENTIONS, VEC_ORDERS, Config
    from ..errors import UsageError
    from ..guard import guard
    from .console import check_outputs, progress, show

    if pdf and (fmt != "latex" or output is None):
        # refused before any work, as derive does
        raise UsageError("--pdf needs --format latex and -o FILE.tex")
    check_outputs([("-o", output)])  # a bad -o fails now, before the derivations
    # The eight derivations (four conventions, two vec orders) are all kept for the
    # page: their costs add up.
    estimate = guard(
        [
            Config(n=n, d=d, m=m, convention=c, vec=v)
            for c in CONVENTIONS
            for v in VEC_ORDERS
        ],
        force,
    )
    if fmt is None:
        fmt = "rich" if sys.stdout.isatty() and output is None else "text"
    with progress(estimate.seconds) as report:
        comparison = compare(n, d, m, progress=report, force=True)
    show(comparison, fmt, output)
    if pdf and output is not None:
        from ..pdf import compile_pdf

        compile_pdf(output)
    if not comparison.verified:
        raise click.exceptions.Exit(1)
