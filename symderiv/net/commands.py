"""The network's side of ``derive --net`` (its checks), ``verify --net`` and
``codegen --net`` (the CLI calls these).

Kept here, apart from ``symderiv/cli``, so the commands only gain one option and one
call each.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import click

from ..errors import UsageError

#: Why --method tensor is not offered for a network.
NET_METHODS_WHY = (
    "a network is derived layer by layer, so each layer's derivative tensor is the "
    "single layer's (symderiv derive --method tensor); use jacobian, index or all"
)


def _given(ctx: click.Context, name: str) -> bool:
    """Whether option ``name`` was given (on the command line or by the environment)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def refuse_m(ctx: click.Context) -> None:
    """--m is the single layer's output width; a network's widths come from --net."""
    if _given(ctx, "m"):
        raise UsageError(
            "--m cannot be used with --net: the widths come from the network "
            "(affine:K gives K outputs)"
        )


#: Single-layer options a network does not take, and why.
NOT_FOR_NETS: dict[str, str] = {
    "index_base": "a network's entries are indexed from 1",
    "upstream": "a network writes each layer's upstream as dz⁽ℓ⁾ᵢⱼ",
    "bold": "a network's matrices are set as W1, dZ2",
}


def refuse_single_layer_options(ctx: click.Context) -> None:
    """One line for the first single-layer option given on the command line."""
    for name, why in NOT_FOR_NETS.items():
        if _given(ctx, name):
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} cannot be used with --net ({why})")


def refuse_columns(conv: Any, command: str) -> None:
    """verify and codegen run a network with samples as rows only (wx: derive only)."""
    if conv.samples_as_columns:
        raise UsageError(
            f"{command} --net runs samples as rows; convention {conv.name} has samples as "
            "columns (derive --net --convention wx derives and proves it; use xw, torch "
            f"or column for {command})"
        )


def net_config(net: str, n: int, d: int, options: dict[str, Any]) -> Any:
    """A NetConfig from the command's options (wrt given as X,W,b defaults to all)."""
    from .spec import SETTINGS, NetConfig, parse_net

    spec = parse_net(net)
    wrt = options.get("wrt")
    if wrt is not None and tuple(wrt) == ("X", "W", "b"):
        wrt = None  # the single layer's default: every variable of the network
    # The options given; NetConfig's defaults for the others.
    given = {name: options[name] for name in SETTINGS if name in options}
    return NetConfig(net=spec, n=n, d=d, wrt=tuple(wrt) if wrt else (), **given)


def derive_config(
    ctx: click.Context, net: str, n: int, d: int, force: bool, options: dict[str, Any]
) -> tuple[Any, Any]:
    """``symderiv derive --net ...`` before any work: the options a network refuses,
    then its NetConfig and the size guard's estimate (``symderiv.cli.derive`` does the
    rest, as for one layer: the printers print the network's page,
    :mod:`symderiv.net.page`)."""
    from .cost import guard_net
    from .spec import NET_METHODS

    if options.get("values") is not None:  # not silently ignored
        raise UsageError("--values is not available with --net yet")
    refuse_m(ctx)
    refuse_single_layer_options(ctx)
    method = options.get("method", "jacobian")
    if method not in NET_METHODS:
        raise UsageError(f"--method {method}: {NET_METHODS_WHY}")
    if options.get("names"):
        raise UsageError(
            "--names cannot be used with --net (a network's names are fixed)"
        )
    config = net_config(net, n, d, options)
    return config, guard_net(config, force)


def render_net(derivation: Any, fmt: str, **settings: Any) -> str:
    """``derivation`` in format ``fmt``: JSON by its own printer, every other format by
    the ordinary printers from the network's page (:mod:`symderiv.net.page`)."""
    if fmt == "json":
        from .data import render_net_json

        return render_net_json(derivation)
    from ..render import render

    return render(derivation, "text" if fmt == "rich" else fmt, **settings)


def verify_command(
    ctx: click.Context,
    net: str,
    n: int,
    d: int,
    convention: str,
    loss: str,
    seed: int,
    wrt: tuple[str, ...],
    force: bool,
) -> None:
    """``symderiv verify --net ...``: closed forms against FD and autograd; exit 1 if not."""
    from rich.text import Text

    from ..cli.console import make_console
    from ..cli.verify import checks_table, footer, held_shapes, torch_cell_missing
    from ..errors import VerificationError
    from ..render.terminal import KeptText
    from .notes import formula_text
    from .numeric import verify_net

    refuse_m(ctx)
    config = net_config(net, n, d, {"convention": convention, "loss": loss, "wrt": wrt})
    refuse_columns(config.conv, "verify")
    _fd_budget(config, force)
    report = verify_net(config, seed)
    console: Any = make_console()
    widths = " → ".join(map(str, config.widths()))
    console.print(
        Text(
            f"symderiv verify: network {config.net.text}, {config.convention} convention, "
            f"N={n}, widths {widths}, loss {config.loss}, seed {seed}"
        )
    )
    console.print(Text(f"L = {report.loss_value:.6f}"))
    flat = config.conv.bias_vector  # the generated Net holds torch's biases as vectors
    gradients = (
        (f"d{c.var}", c.shape, flat and c.var[0] == "b") for c in report.checks
    )
    console.print(KeptText(held_shapes(gradients), width=console.width))
    rows = (
        (
            c.var,
            f"d{c.var} = {formula_text(c.formula)}",
            "×".join(map(str, c.shape)),
            f"{c.fd_error:.1e}",
            torch_cell_missing() if c.torch_error is None else f"{c.torch_error:.1e}",
            c.passed,
        )
        for c in report.checks
    )
    title = "Closed forms through the network against numbers (float64)"
    console.print()
    console.print(checks_table(title, rows))
    footer(console, report.torch_version, report.passed)
    if not report.passed:
        bad = ", ".join(c.var for c in report.checks if not c.passed)
        raise VerificationError(f"verification failed for {bad}")


def _fd_budget(config: Any, force: bool) -> None:
    """Refuse networks whose finite differences would take too long (as for one layer)."""
    from ..numeric import refuse_fd

    n, layers = config.n, list(pairwise(config.widths()))  # (input, output) widths
    forward = sum(n * a * b for a, b in layers) * 2.0
    entries = n * config.d + sum(a * b + b for a, b in layers)
    sizes = f"--net {config.net.text} --n {n} --d {config.d}"
    refuse_fd(sizes, 2.0 * entries * forward, force)
