"""`symderiv exercise`: an exercise sheet with blanks, or its answer key."""

from __future__ import annotations

import click

from ..conventions import CONVENTIONS, VEC_ORDERS
from . import cli
from .options import SIZE, output_option

#: The formats of an exercise sheet.
FORMATS: tuple[str, ...] = ("latex", "markdown", "json")


@cli.command()
@click.option("--n", "n", type=SIZE, default=None, help="Batch size N [default: 2].")
@click.option(
    "--d", "d", type=SIZE, default=None, help="Input features D [default: 2]."
)
@click.option(
    "--m", "m", type=SIZE, default=None, help="Output features M [default: 3]."
)
@click.option(
    "--convention",
    type=click.Choice(list(CONVENTIONS)),
    default=None,
    help="xw, torch or column [default: xw].",
)
@click.option(
    "--vec",
    type=click.Choice(list(VEC_ORDERS)),
    default=None,
    help="Vectorization order [default: row].",
)
@click.option(
    "--wrt",
    default=None,
    metavar="X,W,b",
    help="Variables to ask about [default: all].",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Draw whatever is not given (sizes 2-3, convention, order, variables) and "
    "the blanks from random.Random(SEED).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="latex",
    show_default=True,
    help="Output format (json: the blanks with their answers, for a learning platform).",
)
@click.option(
    "--answers",
    is_flag=True,
    help="Write the answer key: the same sheet, blanks filled.",
)
@output_option("the sheet")
@click.option(
    "--pdf",
    is_flag=True,
    help="Also compile the LaTeX with pdflatex (the PDF goes next to FILE).",
)
def exercise(
    n: int | None,
    d: int | None,
    m: int | None,
    convention: str | None,
    vec: str | None,
    wrt: str | None,
    seed: int | None,
    fmt: str,
    answers: bool,
    output: str | None,
    pdf: bool,
) -> None:
    """Write an exercise sheet: blanks in a Jacobian, the chain rule, the reshaped
    result and the closed form, for each variable; --answers writes the key.

    Sizes go from 1 to 4 so that every matrix fits on paper. The same options (and
    seed) give the same sheet, so the key always matches the sheet it was made for.

    \b
    Examples:
      symderiv exercise -o sheet.tex
      symderiv exercise --answers -o key.tex --pdf
      symderiv exercise --seed 7 --format markdown -o sheet.md
    """
    from pathlib import Path

    from ..errors import UsageError
    from ..exercise import make_sheet, sheet_json
    from ..render.sheet import sheet_latex, sheet_markdown
    from .console import check_outputs, show

    if output == "-":
        output = None  # -o - is standard output, as for codegen and derive
    if pdf and (fmt != "latex" or output is None):
        raise UsageError("--pdf needs --format latex and -o FILE.tex")
    pdf_path = None
    if pdf and output:
        try:
            pdf_path = str(Path(output).with_suffix(".pdf"))
        except ValueError:  # "/" or "..": refused as a path below
            pdf_path = None
    check_outputs({"-o": output, "--pdf": pdf_path})  # before any work
    sheet = make_sheet(n, d, m, convention=convention, vec=vec, wrt=wrt, seed=seed)
    if fmt == "json":  # the blanks with their answers, for a learning platform
        text = sheet_json(sheet)
    else:
        printer = sheet_latex if fmt == "latex" else sheet_markdown
        text = printer(sheet, answers=answers)
    show(text, "text", output)
    if pdf and output is not None:
        from ..pdf import compile_pdf

        compile_pdf(output)
    if not sheet.derivation.verified:
        raise click.exceptions.Exit(1)
