"""`symderiv check`: is a student's formula for dL/dX, dL/dW or dL/db right?"""

from __future__ import annotations

import click

from ..conventions import VARIABLES
from . import cli
from .options import convention_option, names_option, size_options


@cli.command()
@click.argument("formula")
@click.option(
    "--wrt",
    type=click.Choice(list(VARIABLES)),
    required=True,
    help="The variable the formula is the derivative by: X, W or b.",
)
@size_options
@convention_option
@names_option(" The formula may use them.")
def check(
    formula: str,
    wrt: str,
    n: int,
    d: int,
    m: int,
    convention: str,
    names: dict[str, str],
) -> None:
    """Check a candidate formula for dL/dX, dL/dW or dL/db, entry by entry.

    FORMULA is numpy-like: the convention's names (X, W, b, Y, dY; x, y in torch; A, Z,
    dLdZ in column), sizes N, D, M, numbers, @ * + - /, .T, ones(N) (or 1 in a product
    such as 1.T @ dY) and sum(E, axis=0). It is parsed by symderiv's own small parser,
    never evaluated as Python, so it is safe on untrusted input.

    Exit status: 0 right; 1 wrong, with the reason (shapes that do not fit, or the first
    entry that differs, with both values); 2 if FORMULA cannot be read. Put -- before a
    formula that starts with a minus sign.

    \b
    Examples:
      symderiv check --wrt W "X.T @ dY"
      symderiv check --convention torch --wrt W "dY.T @ X"
      symderiv check --convention column --wrt b "dLdZ.T @ ones(N)"
      symderiv check --wrt b -- "-sum(-dY, axis=0)"
    """
    from ..check import check_formula
    from ..conventions import Config

    config = Config(n=n, d=d, m=m, convention=convention, wrt=(wrt,), names=names)
    result = check_formula(config, wrt, formula)
    mark = click.style("✓", fg="green") if result.ok else click.style("✗", fg="red")
    click.echo(f"{mark} {result.message}")
    if not result.ok:
        raise click.exceptions.Exit(1)
