"""What ``derive --net``, ``verify --net`` and ``codegen --net`` do (the CLI calls these).

Kept here, apart from ``symderiv/cli``, so the commands only gain one option and one
call each.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import UsageError

#: Formats a network can be written in.
NET_FORMATS: tuple[str, ...] = ("rich", "text", "latex", "beamer", "markdown", "json")


def refuse_m(ctx: click.Context) -> None:
    """--m is the single layer's output width; a network's widths come from --net."""
    source = ctx.get_parameter_source("m")
    if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
        raise UsageError(
            "--m cannot be used with --net: the widths come from the network "
            "(affine:K gives K outputs)"
        )


def net_config(net: str, n: int, d: int, options: dict[str, Any]) -> Any:
    """A NetConfig from the command's options (wrt given as X,W,b defaults to all)."""
    from .spec import NetConfig, parse_net

    spec = parse_net(net)
    wrt = options.get("wrt")
    if wrt is not None and tuple(wrt) == ("X", "W", "b"):
        wrt = None  # the single layer's default: every variable of the network
    return NetConfig(
        net=spec,
        n=n,
        d=d,
        convention=options.get("convention", "xw"),
        vec=options.get("vec", "row"),
        layout=options.get("layout", "denominator"),
        loss=options.get("loss", "generic"),
        wrt=tuple(wrt) if wrt else (),
    )


def derive_command(
    ctx: click.Context,
    net: str,
    n: int,
    d: int,
    fmt: str | None,
    output: str | None,
    pdf: bool,
    max_entries: int,
    force: bool,
    options: dict[str, Any],
) -> None:
    """``symderiv derive --net ...``: derive, render, write; exit 1 if a check failed."""
    import sys

    from ..fileio import write_atomic
    from .cost import guard_net
    from .engine import derive_net
    from .render import render_net

    refuse_m(ctx)
    if options.get("method", "jacobian") not in ("jacobian",):
        raise UsageError("--method: a network is derived with explicit Jacobians only")
    if options.get("names"):
        raise UsageError("--names cannot be used with --net (a network's names are fixed)")
    config = net_config(net, n, d, options)
    guard_net(config, force)
    if output is not None and output != "-":
        from ..cli.output import preflight

        preflight(output)
    if fmt is None:
        fmt = "text"
    if fmt not in NET_FORMATS:
        raise UsageError(
            f"--format {fmt} is not available with --net; use one of "
            f"{', '.join(NET_FORMATS)}"
        )
    if pdf and (fmt not in ("latex", "beamer") or output in (None, "-")):
        raise UsageError("--pdf needs --format latex or beamer and -o FILE.tex")
    derivation = derive_net(config, force=True)
    settings: dict[str, object] = {}
    if fmt != "json":
        settings["max_entries"] = max_entries
    if fmt in ("rich", "text"):
        settings["width"] = 100
    text = render_net(derivation, fmt, **settings)
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)
        if pdf:
            from ..pdf import compile_pdf

            compile_pdf(output)
    if not derivation.verified:
        raise click.exceptions.Exit(1)
