"""`symderiv exercise`: an exercise sheet with blanks, or its answer key."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..conventions import CONVENTIONS, VEC_ORDERS
from ..errors import OutputError, UsageError
from . import cli
from .options import SIZE, Choice, flavor_option, output_option, resolve_wrt

if TYPE_CHECKING:
    from ..exercise import Roster, Sheet

#: The formats of an exercise sheet (json: the blanks and their answers, for a platform).
FORMATS: tuple[str, ...] = ("latex", "markdown", "json")
#: A roster's file suffix where -o names none (-o class writes class-<name>.tex).
SUFFIXES: dict[str, str] = {"latex": ".tex", "markdown": ".md", "json": ".json"}


@cli.command()
@click.option(
    "--n",
    type=SIZE,
    default=None,
    help="Batch size N [default: 2, or drawn from 2-3 by --seed; see --kind].",
)
@click.option(
    "--d",
    type=SIZE,
    default=None,
    help="Input features D [default: 2, or drawn from 2-3 by --seed; see --kind].",
)
@click.option(
    "--m",
    type=SIZE,
    default=None,
    help="Output features M [default: 3, or drawn from 2-3 by --seed; see --kind].",
)
@click.option(
    "--convention",
    type=Choice(list(CONVENTIONS)),
    default=None,
    help="xw, torch, column or wx [default: xw].",
)
@click.option(
    "--vec",
    type=Choice(list(VEC_ORDERS)),
    default=None,
    help="Vectorization order [default: row].",
)
@click.option(
    "--wrt",
    default=None,
    metavar="X,W,b",
    help="Variables to ask about, also in the convention's letters (A,W,b in "
    "column) [default: all].",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Draw whatever is not given (sizes 2-3, or 2-4 pairwise different when "
    "shapes or choice questions are asked; convention, order, variables) and the "
    "blanks from random.Random(SEED).",
)
@click.option(
    "--kind",
    "kinds",
    default=None,
    metavar="KINDS",
    help="Questions to ask, comma-separated: steps (blanks in each step), shapes "
    "(rows and columns only), choice (which look-alike formula is right), index "
    "(blanks in the index-notation derivation) [default: steps; with --roster "
    "steps,index]. Shape and choice questions need N, D, M pairwise different: a "
    "size not given that repeats one given or chosen before it moves to a free one of "
    "2-4 (the defaults become N=2, D=3, M=4).",
)
@click.option(
    "--loss",
    type=Choice(["generic", "mse"]),
    default="generic",
    show_default=True,
    help="mse: the upstream derivative comes from L = 1/(2N)·Σ‖y−t‖², and the sheet "
    "asks for it too.",
)
@click.option(
    "--format",
    "fmt",
    type=Choice(FORMATS),
    default="latex",
    show_default=True,
    help="Output format (json: the blanks with their answers, for a learning platform).",
)
@click.option(
    "--answers",
    is_flag=True,
    help="Write the answer key: the same sheet, blanks filled.",
)
@flavor_option()
@output_option("the sheet")
@click.option(
    "--roster",
    type=str,  # an input file, read (and refused in one line) by read_roster
    default=None,
    metavar="FILE",
    help="One sheet per student named in FILE (one name per line, or a CSV file "
    "whose header has a name column), each with its own layer and blanks drawn from "
    "the name, plus one answer key for the class: -o class.tex writes "
    "class-<name>.tex for each, class-key.tex and class-index.csv (each name with "
    "its file, layer, seed and command). --seed then changes every sheet (a new "
    "term).",
)
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
    kinds: str | None,
    loss: str,
    fmt: str,
    answers: bool,
    flavor: str | None,
    output: str | None,
    roster: str | None,
    pdf: bool,
) -> None:
    """Write an exercise sheet: blanks in a Jacobian, the chain rule, the reshaped
    result and the closed form, for each variable; --answers writes the key.

    Sizes go from 1 to 4 so that every matrix fits on paper; shape and choice
    questions need N, D, M pairwise different, so sizes not given are then drawn
    from 2-4 (the defaults too). The same options (and seed) give the same sheet, so
    the key always matches the sheet it was made for.

    \b
    Examples:
      symderiv exercise -o sheet.tex
      symderiv exercise --answers -o key.tex --pdf
      symderiv exercise --seed 7 --format markdown -o sheet.md
      symderiv exercise --format markdown --flavor jupyter -o sheet.md
      symderiv exercise --seed 7 --format json -o blanks.json
      symderiv exercise --roster class.txt -o class.tex --pdf
    """
    from ..exercise import make_sheet, parse_kinds, sheet_json
    from ..render.sheet import sheet_latex, sheet_markdown
    from .console import check_outputs, pdf_next_to, show

    if pdf and (fmt != "latex" or output is None):
        raise UsageError("--pdf needs --format latex and -o FILE.tex")
    if flavor is not None and fmt != "markdown":
        raise UsageError(f"--flavor needs --format markdown, not {fmt!r}")
    markdown = partial(sheet_markdown, flavor=flavor or "github")
    # --wrt in the convention's letters too (A in column), as check takes it
    roles = None if wrt is None else resolve_wrt(wrt, convention)
    sheet_options: dict[str, Any] = dict(
        n=n, d=d, m=m, convention=convention, vec=vec, wrt=roles, kinds=kinds, loss=loss
    )
    parse_kinds(kinds)  # a bad --kind is refused before any file is read or written
    if roster is not None:
        _roster(roster, output, fmt, answers, pdf, seed, flavor, sheet_options)
        return
    pdf_path = pdf_next_to(output) if pdf else None
    check_outputs([("-o", output), ("--pdf", pdf_path)])  # before any work
    sheet = make_sheet(seed=seed, **sheet_options)
    if fmt == "json":  # the blanks with their answers, for a learning platform
        text = sheet_json(sheet)
    else:
        printer = sheet_latex if fmt == "latex" else markdown
        text = printer(sheet, answers=answers)
    show(text, "text", output)
    if pdf and output is not None:
        from ..pdf import compile_pdf

        compile_pdf(output)
    if not sheet.derivation.verified:
        raise click.exceptions.Exit(1)


def _roster(
    path: str,
    output: str | None,
    fmt: str,
    answers: bool,
    pdf: bool,
    seed: int | None,
    flavor: str | None,
    options: dict[str, Any],
) -> None:
    """Write one sheet per student, the class's answer key and the index (nothing when
    a check fails: every document is made, and every file it goes to checked, before
    the first file is written); ``flavor``: the Markdown's maths syntax."""
    from ..exercise import make_roster, read_roster, roster_key_json, sheet_json
    from ..fileio import write_atomic
    from ..render.sheet import (
        roster_key_latex,
        roster_key_markdown,
        sheet_latex,
        sheet_markdown,
    )
    from .console import check_outputs

    if answers:
        raise UsageError("--roster writes the answer key itself; leave out --answers")
    if output is None:
        raise UsageError(
            "--roster needs -o FILE: -o class.tex writes class-<name>.tex per student "
            "and class-key.tex"
        )
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        # as for one sheet: -o names a file (keyc/ wrote keyc-*.tex beside the folder)
        raise OutputError(f"cannot write {output!r}: it is a folder; give a file name")
    if pdf and Path(output).suffix.lower() == ".pdf":
        # the PDFs go beside the .tex sources with the same stem: they would replace them
        raise UsageError(
            f"-o {output!r} and --pdf {output!r} name the same file; one would overwrite "
            "the other (give -o FILE.tex)"
        )
    names = read_roster(path)
    roster = make_roster(names, salt=0 if seed is None else seed, **options)
    target = Path(output)
    suffix = target.suffix or SUFFIXES[fmt]
    stem = target.with_suffix("") if target.suffix else target
    # each format's printer of one sheet, and of the class's answer key
    printers: dict[str, tuple[Callable[[Sheet], str], Callable[[Roster], str]]] = {
        "latex": (sheet_latex, roster_key_latex),
        "markdown": (
            partial(sheet_markdown, flavor=flavor or "github"),
            partial(roster_key_markdown, flavor=flavor or "github"),
        ),
        "json": (sheet_json, roster_key_json),
    }
    print_sheet, print_key = printers[fmt]
    documents = [
        (Path(f"{stem}-{slug}{suffix}"), print_sheet(sheet))
        for slug, sheet in zip(roster.slugs(), roster.sheets, strict=True)
    ]
    documents.append((Path(f"{stem}-key{suffix}"), print_key(roster)))
    # who gets which file and which layer: a name in any script (李小龙 is
    # class-student-1.tex), and what a check --batch file needs
    index = Path(f"{stem}-index.csv")
    listed = roster.index_csv([file.name for file, _ in documents[:-1]])
    files = [file for file, _ in documents] + [index]
    pdfs = [file.with_suffix(".pdf") for file, _ in documents] if pdf else []
    # before the first write: two outputs that are one file, or one that cannot be written
    check_outputs([("-o", f) for f in files] + [("--pdf", f) for f in pdfs])
    if fmt == "latex":
        _warn_untypeset(roster.names, index)
    for file, text in [*documents, (index, listed)]:
        write_atomic(file, text)
    if pdf:
        from ..pdf import compile_pdf

        for file, _ in documents:
            compile_pdf(str(file))
    count = len(roster.sheets)
    click.echo(
        f"Wrote {count} sheet{'s' if count > 1 else ''}, the answer key {documents[-1][0]} and "
        f"{index}, which lists who gets which sheet",
        err=True,
    )
    if not all(sheet.derivation.verified for sheet in roster.sheets):
        raise click.exceptions.Exit(1)


def _warn_untypeset(names: tuple[str, ...], index: Path) -> None:
    """Say on stderr which names pdflatex cannot print (no font of a standard TeX Live
    has 王 or Ж for pdflatex's default encoding: the sheet shows [U+738B] in its place);
    ``index`` lists each name with its file."""
    from ..render.latex import latex_escape

    def lost(name: str) -> list[str]:
        return [ch for ch in name if latex_escape(ch) == f"[U+{ord(ch):04X}]"]

    missing = [name for name in names if lost(name)]
    if not missing:
        return
    shown = ", ".join(missing[:5])
    if len(missing) > 5:
        shown += f" and {len(missing) - 5} more"
    code = f"[U+{ord(lost(missing[0])[0]):04X}]"
    click.echo(
        f"Warning: pdflatex cannot print the letters of {shown}: their sheets and the "
        f"key show codes such as {code} instead; {index} lists who gets which sheet",
        err=True,
    )
