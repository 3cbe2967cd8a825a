"""`symderiv check`: is a student's formula for dL/dX, dL/dW or dL/db right?"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import UsageError
from . import cli
from .options import SIZE, Choice, convention_option, names_option, output_option

if TYPE_CHECKING:
    from ..grade import Defaults

#: Output formats of check: words, one JSON object, or a grading platform's results.json.
FORMATS: tuple[str, ...] = ("text", "json", "gradescope", "prairielearn", "csv")
#: The columns of ``check --batch FILE --format csv``, one row per answer.
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "line",
    "variable",
    "formula",
    "ok",
    "score",
    "reason",
    "hint",
    "message",
    "given",  # last: it came later, and sheets that read the columns by place still do
)


@cli.command()
@click.argument("formula", required=False)
@click.option(
    "--wrt",
    default=None,
    metavar="VAR",
    help="The variable the formula is the derivative by: X, W or b, or the "
    "convention's letter (A in column) or name (dLdA, dW, db).",
)
@click.option("--n", type=SIZE, default=2, show_default=True, help="Batch size N.")
@click.option(
    "--d", type=SIZE, default=3, show_default=True, help="Input features D (C_in)."
)
@click.option(
    "--m", type=SIZE, default=4, show_default=True, help="Output features M (C_out)."
)
@convention_option
@names_option(" The formula may use them, with underscores too: X=A_prev.", True)
@click.option(
    "--format",
    "fmt",
    type=Choice(FORMATS),
    default="text",
    show_default=True,
    help="text; json (one object; with --batch one per line); gradescope or "
    "prairielearn (their results.json; with --batch, of one submission's answers, a "
    "test each); csv (with --batch: one row per answer; a cell that starts with "
    "= + - @ gets a ' in front, so no formula runs).",
)
@click.option(
    "--points",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    callback=lambda _ctx, _param, value: _finite_points(value),
    help="max_score of each answer with --format gradescope, and each right "
    "answer's score with --batch (a finite number >= 0).",
)
@click.option(
    "--batch",
    metavar="FILE",  # an input file: read by grade.read_rows, which names any problem
    help="Check every answer in a CSV or JSON Lines file: one per row (id, variable, "
    "formula, and optionally convention, n, d, m or sizes), or one row per student "
    "with a column per answer named for its variable (id, dX, dW, db; a formula with "
    "commas quoted); column names and variables in any case; a column not read is "
    "named on stderr, one that looks mistyped (conv) refuses FILE; the id "
    "column may be named id, student_id, sid, student, username, login, email or "
    "name. Writes one JSON result per answer, or with --format csv a table a "
    "spreadsheet opens; with --format gradescope or prairielearn, FILE holds one "
    "submission (one student's answers) and gets one results.json.",
)
@output_option("the result")
def check(
    formula: str | None,
    wrt: str | None,
    n: int,
    d: int,
    m: int,
    convention: str,
    names: dict[str, str],
    fmt: str,
    points: float,
    batch: str | None,
    output: str | None,
) -> None:
    """Check a formula for dL/dX, dL/dW or dL/db, entry by entry, in general.

    FORMULA is numpy as students write it, read by symderiv's own small parser and
    never evaluated as Python, so it is safe on untrusted input:

    \b
    - names: the convention's letters (X W b Y dY; x y in torch; A Z dLdZ in column),
      the role names X W b Y dY T, and dout, dy, grad_out, dLdY for dY;
      sizes N D M (N C_in C_out in column) are whole numbers;
    - numbers: 2, 0.5, 1., .5, 1e-3;
    - operators @ * + - / and parentheses; / divides by a number or size only;
    - an optional np. or numpy. prefix on sum, mean, ones, dot, matmul, transpose,
      reshape; methods .T .sum() .mean() .dot() .transpose() .reshape(); axis= and
      keepdims=; a 2-D transpose may name its axes: .transpose(1, 0),
      np.transpose(E, (1, 0));
    - sizes read off an operand, X.shape[0] and len(X), at every size checked; a
      whole X.shape as a shape, np.ones(X.shape); shapes as tuples or lists, [1, N];
    - subscripts of whole axes : and new axes None or np.newaxis only: E[None, :],
      E[:, np.newaxis] (no integer indices, bounded slices or index arrays);
    - PyTorch's spellings: torch. prefix, .t() .mm() .matmul(), dim= and keepdim=,
      torch.ones(N, 1); what a library refuses is refused (np.sum(E, dim=0),
      axis=0.0, np.mm, np.ones(-N)), saying what numpy or torch would do.

    \b
    Shapes follow numpy exactly: np.sum(E, axis=0) of an r×c array is 1-D of
    length c (keepdims=True keeps 1×c); .T of a 1-D array changes nothing;
    np.ones(N) is 1-D and np.ones((N, 1)) a column; 1-D @ 2-D is 1-D; * + -
    broadcast; E[:, None] of a 1-D E is a column; an array of more than 2-D is
    not graded (check cannot hold it). One extension from the maths: 1 next to
    @ is the ones vector (1.T @ dY sums the rows of dY). The answer must have
    the variable's shape; a bias may be 1-D of length M in xw and torch (b is
    stored that way), but in column b is C_out×1, so a 1-D sum is the wrong
    shape.

    \b
    A formula is right only if it is right in general: it is checked at the sizes
    given and at a grid of further triples, each of pairwise distinct sizes >= 3,
    enough that no polynomial in the sizes it builds can vanish at all of them (4
    triples for X.T @ dY, more for each size or count multiplied in), so neither
    N / 2 nor (N-(1+1)) * ... can pass for the sizes picked.

    Exit status: 0 right; 1 wrong, with the reason (shapes that do not fit, or the
    first entry that differs, with both values, and the sizes where it fails); 2 if
    FORMULA cannot be read or checked (with --format json: gradable false).
    --batch exits 0 once every row has its result, 2 when FILE cannot be read or
    has no rows (or, for gradescope and prairielearn, is no one submission). Put --
    before a formula that starts with a minus.

    \b
    Examples:
      symderiv check --wrt W "X.T @ dY"
      symderiv check --wrt b "np.sum(dout, axis=0)"
      symderiv check --convention torch --wrt W "dY.T @ X"
      symderiv check --convention column --wrt A "dLdZ @ W"
      symderiv check --convention column --wrt b "dLdZ.sum(axis=0, keepdims=True).T"
      symderiv check --wrt W --format gradescope "X.T.dot(dY)"
    """
    from ..grade import Defaults

    defaults = Defaults(n, d, m, convention, names)
    if batch is not None:
        if formula is not None or wrt is not None:
            raise UsageError(
                "--batch reads the formulas and variables from FILE; "
                "give neither FORMULA nor --wrt"
            )
        _batch(batch, defaults, output, fmt, points)
        return
    if fmt == "csv":
        raise UsageError("--format csv is for --batch FILE (one row per answer)")
    if formula is None:
        raise UsageError("give the FORMULA to check (or --batch FILE)")
    if wrt is None:
        raise UsageError("give --wrt, the variable the formula is the derivative by")
    _one(formula, wrt, defaults, fmt, points, output)


def _finite_points(value: float) -> float:
    """``--points`` as given, when finite: nan and inf pass FloatRange(min=0) but
    become NaN and Infinity in results.json, which is not JSON (Gradescope rejects it).

    Raises:
        click.BadParameter: ``value`` is nan or infinite (exit 2).
    """
    import math

    if not math.isfinite(value):
        raise click.BadParameter(
            f"{value} is not a finite number; give the answer's max_score as a finite "
            "number >= 0, such as 1 or 2.5"
        )
    return value


def _one(
    formula: str,
    wrt: str,
    defaults: Defaults,
    fmt: str,
    points: float,
    output: str | None,
) -> None:
    from dataclasses import asdict, replace

    from .. import grade
    from ..check import CheckConfig, check_dict, check_formula, resolve_variable
    from ..check.verdict import read_formula, reporting
    from ..guard import check_guard
    from .console import check_outputs, progress, show, terminal_width

    check_outputs([("-o", output)])
    config = CheckConfig(**asdict(defaults))  # after -o: a bad --names is refused here
    var = resolve_variable(wrt, config)
    estimate = check_guard(replace(config, wrt=(var,)))
    if fmt == "text":
        read_formula(config, formula)  # unreadable: refused before any wait
        with progress(estimate.seconds) as report, reporting(report):
            result = check_formula(config, var, formula)
        mark = click.style("✓", fg="green") if result.ok else click.style("✗", fg="red")
        message = result.message
        width = terminal_width() if output is None else None
        if width is not None:  # a terminal: wrap at spaces, keeping each line's indent
            message = _wrapped(message, width - 2)
        show(f"{mark} {message}\n", "text", output)
        if not result.ok:
            raise click.exceptions.Exit(1)
        return
    with progress(estimate.seconds) as report, reporting(report):
        data = check_dict(config, var, formula)
    document = {
        "json": data,
        "gradescope": grade.gradescope(data, points),
        "prairielearn": grade.prairielearn(data),
    }[fmt]
    show(grade.dumps(document), "text", output)
    if not data["gradable"]:
        raise click.exceptions.Exit(2)
    if not data["ok"]:
        raise click.exceptions.Exit(1)


def _batch(
    path: str, defaults: Defaults, output: str | None, fmt: str, points: float
) -> None:
    """Every row of ``path`` checked: JSON Lines (text, json), CSV (csv), or, for one
    submission's answers, the platform's results.json (gradescope, prairielearn); a
    right answer scores ``points``."""
    import csv
    import io

    from .. import grade
    from .console import check_outputs, show

    check_outputs([("-o", output)])
    notes: list[str] = []  # for the TA, on stderr: stdout has the results alone
    rows = grade.read_rows(path, defaults, notes)
    if not rows:  # a header alone, or nothing: say so rather than exit 0 in silence
        shown = "standard input" if path == "-" else repr(path)
        raise UsageError(
            f"--batch {shown} has no rows to check (a header line, then one row per "
            "answer: id, variable, formula; or one row per student: id, dX, dW, db)"
        )
    platform = fmt in ("gradescope", "prairielearn")
    convention = defaults.convention
    # a submission without an id is the usual one; a repeat is refused below
    results = [
        {**result, "score": points if result["ok"] else 0.0}
        for result in grade.batch(rows, defaults, None if platform else notes)
    ]
    for note in notes:
        click.echo(f"symderiv: note: {note}", err=True)
    if platform:  # one student's answers: one results.json, a test per answer
        # a student's file must not pick the convention its answer is right in
        own = [r for r in results if r["gradable"] and r["convention"] != convention]
        if own:
            raise UsageError(
                f"line {own[0]['line']} is graded in convention "
                f"{own[0]['convention']!r}, but --convention is {convention!r}: a "
                "submission's answers are graded in the command's convention (leave "
                "out its 'convention' column)"
            )
        document = (
            grade.gradescope(results, points)
            if fmt == "gradescope"
            else grade.prairielearn(results)
        )
        show(grade.dumps(document), "text", output)
        return
    if fmt != "csv":
        show("".join(grade.dumps(result) for result in results), "text", output)
        return
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow(CSV_COLUMNS)
    for result in results:
        table.writerow(
            "true" if value is True else "false" if value is False else _cell(value)
            for value in (result.get(column, "") for column in CSV_COLUMNS)
        )
    show(out.getvalue(), "text", output)


#: What a spreadsheet reads a cell starting with as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows as text: a string that starts as a
    formula does (``=HYPERLINK(...)``, ``-X.T @ dY``) gets a ``'`` in front, as OWASP
    advises, so that a student's answer never runs in the TA's spreadsheet. A carriage
    return inside is written as a line break, which the writer quotes (it would not
    quote a lone \\r, and the row would break in two)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _wrapped(message: str, width: int) -> str:
    """Each line of a verdict wrapped at spaces to ``width`` columns, a continued line
    indented two more than its own (piped or written with -o, it is left as it is)."""
    import textwrap

    out: list[str] = []
    for line in message.splitlines():
        indent = " " * (len(line) - len(line.lstrip(" ")))
        out += textwrap.wrap(
            line,
            max(width, 20),
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    return "\n".join(out)
