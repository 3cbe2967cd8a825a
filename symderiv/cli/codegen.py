"""`symderiv codegen`: a numpy ``Linear`` class generated from the derived formulas."""

from __future__ import annotations

import click

from ..codegen import TARGETS
from . import cli
from .options import convention_option, output_option


@cli.command()
@convention_option
@click.option(
    "--target",
    type=click.Choice(list(TARGETS)),
    default="numpy",
    show_default=True,
    help="Array library of the generated code.",
)
@output_option("the module")
def codegen(convention: str, target: str, output: str | None) -> None:
    """Write a Python module with a Linear class (forward, backward) for the layer.

    backward stores dW and db (dLdW, dLdb in the column convention) and returns dX:
    the closed forms symderiv derives, printed as numpy code.
    """
    from ..codegen import generate_linear
    from ..fileio import write_atomic

    source = generate_linear(convention, target)
    if output is None or output == "-":
        click.echo(source, nl=False)
        return
    write_atomic(output, source)
    click.echo(f"wrote {output}", err=True)
