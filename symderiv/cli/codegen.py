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
    from .console import check_outputs, printable, show

    if output == "-":
        output = None
    check_outputs({"-o": output})
    show(generate_linear(convention, target), "text", output)
    if output is not None:
        click.echo(f"wrote {printable(output)}", err=True)
