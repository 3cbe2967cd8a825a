"""`symderiv codegen`: a numpy ``Linear`` class generated from the derived formulas."""

from __future__ import annotations

import click

from ..codegen import TARGETS
from . import cli
from .options import (
    choice_option,
    convention_option,
    loss_option,
    names_option,
    net_option,
    output_option,
)


@cli.command()
@convention_option
@choice_option("--target", list(TARGETS), "Array library of the generated code.")
@output_option("the module")
@names_option(
    " In the code: X, W, b, Y and dY (dY=dout gives backward(self, dout)), and the "
    "sizes in its docstring."
)
@net_option("A class Net for a network instead, e.g. 'affine:3,relu,affine:2'.")
@loss_option("With --net: softmax-ce also writes softmax_ce(Z, T) -> (L, dZ).")
def codegen(
    convention: str,
    target: str,
    output: str | None,
    net: str | None,
    loss: str,
    names: dict[str, str],
) -> None:
    """Write a Python module with a Linear class (forward, backward) for the layer.

    backward stores dW and db (dLdW, dLdb in the column convention) and returns dX:
    the closed forms symderiv derives, printed as numpy code. With --net, a class
    Net(d, seed=0) whose backward(dOut) stores dW1, db1, ... and returns dX.
    """
    from ..codegen import generate_linear
    from ..errors import UsageError
    from .console import check_outputs, show

    check_outputs([("-o", output)])
    if net is not None:
        from ..net.codegen import generate_net

        if names:
            raise UsageError(
                "--names cannot be used with --net (a network's names are fixed)"
            )
        source = generate_net(net, convention, loss)
    elif loss != "generic":
        raise UsageError(
            f"--loss {loss} is for --net only: a single Linear layer's backward takes "
            "dY, whatever the loss (derive --loss shows dY for each loss)"
        )
    else:
        source = generate_linear(convention, target, names)
    show(source, "text", output)
    if output is not None:
        shown = output if output.isprintable() else repr(output)  # no raw escapes
        click.echo(f"wrote {shown}", err=True)
