"""`symderiv verify`: the closed forms checked with numbers (SPEC section 3).

numpy, rich and torch are imported inside the command, so ``symderiv --help`` stays
fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import VerificationError
from . import cli
from .options import (
    LOSS_HELP,
    convention_option,
    force_option,
    loss_option,
    net_option,
    size_options,
    wrt_option,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import Console
    from rich.table import Table

    from ..numeric import VerifyReport


def _seed(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """A seed for numpy.random.default_rng: a whole number >= 0."""
    try:
        number = int(str(value).strip(), 10)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a whole number; use an integer >= 0", ctx, param
        ) from None
    if number < 0:
        raise click.BadParameter(
            f"{number} is negative; use an integer >= 0", ctx, param
        )
    return number


def held_shapes(gradients: Iterable[tuple[str, tuple[int, ...], bool]]) -> str:
    """The line above a checks table: each gradient (name, shape in the table, whether it
    is held flat) as the generated code holds it. Where a bias is held flat (torch's
    nn.Linear), a second line says it is the table's row, so that (3,) above 1×3 reads
    as one thing."""
    parts, flat, rows = [], [], []
    for name, shape, held_flat in gradients:
        parts.append(_held(f"{name} {(shape[-1],) if held_flat else shape}"))
        if held_flat:
            flat.append(name)
            rows.append("×".join(map(str, shape)))
    line = "gradients as NumPy holds them: " + ", ".join(parts)
    if flat:
        their, s = ("its", "") if len(flat) == 1 else ("their", "s")
        line += (
            f"\n(nn.Linear holds {', '.join(flat)} flat; the table has {their} "
            f"{', '.join(rows)} row{s})"
        )
    return line


def _held(formula: str) -> str:
    """``formula`` with its spaces held, so that the line never breaks inside it."""
    from ..render.terminal import HOLD

    return formula.replace(" ", HOLD)


def _loss_text(report: VerifyReport) -> str:
    """The loss in words, each formula held together (see :func:`_held`)."""
    inst = report.instance
    L = inst.convention.letters
    y, t = L.entry("Y"), L.entry("T")
    h = _held
    if inst.loss == "mse":
        return (
            f"mse: {h(f'L = 1/(2N)·Σ_i ‖{y}_i − {t}_i‖²')}, "
            f"so {h(f'{L.dY} = ({L.Y} − {L.T})/N')}"
        )
    if inst.loss == "sum":
        return f"sum: {h(f'L = Σ_ij {y}_ij')}, so {h(f'{L.dY} = 1')}"
    if inst.loss == "softmax-ce":
        return (
            f"softmax-ce: {h(f'L = −(1/N)·Σ_ij {t}_ij log p_ij')}, "
            f"{h(f'P = softmax({L.Y})')} by rows, one-hot {L.T}, "
            f"so {h(f'{L.dY} = (P − {L.T})/N')}"
        )
    return (
        f"generic: {h(f'L = Σ {L.dY} ⊙ {L.Y}')}, with {h(f'{L.dY} = ∂L/∂{L.Y}')} "
        "drawn at random"
    )


def _error(value: float | None) -> str:
    return "—" if value is None else f"{value:.1e}"


def checks_table(
    title: str, rows: Iterable[tuple[str, str, str, str, str, bool]]
) -> Table:
    """The closed forms against numbers: one row (variable, closed form, shape, FD error,
    autograd error, passed) per variable; a layer's and a network's verify share it."""
    from rich.table import Table
    from rich.text import Text

    from ..render.terminal import mark

    table = Table(title=title, title_justify="left")
    table.add_column("variable")
    table.add_column("closed form")
    table.add_column("shape")
    table.add_column("max |closed − FD|", justify="right")
    table.add_column("max |closed − autograd|", justify="right")
    table.add_column("ok", justify="center")
    for *cells, passed in rows:
        table.add_row(*map(Text, cells), mark(passed))
    return table


def _table(report: VerifyReport) -> Table:
    from ..conventions import derivative_name
    from ..render.formula import formula_text

    conv = report.instance.convention
    torch_missing = report.torch_version is None
    rows = []
    for c in report.checks:
        name = derivative_name(conv, c.var)
        torch_cell = torch_cell_missing() if torch_missing else _error(c.torch_error)
        rows.append(
            (
                conv.letters.of(c.var),
                f"{name} = {formula_text(c.formula, conv.letters)}",
                "×".join(map(str, c.shape)),
                "—" if c.problem else _error(c.fd_error),
                "—" if c.problem else torch_cell,
                c.passed,
            )
        )
    return checks_table("Closed forms of ∂L/∂variable against numbers (float64)", rows)


def torch_cell_missing() -> str:
    """A checks table's autograd cell when torch did not import."""
    from ..numeric import torch_unavailable

    why = torch_unavailable()
    return f"torch {why}" if why == "not installed" else "torch unavailable"


def footer(console: Console, torch_version: str | None, passed: bool) -> None:
    """Under a checks table, for a layer and a network alike: how each column was got and
    when it passes, then the verdict (✓ or ✗)."""
    from ..numeric import FD_RTOL, TORCH_RTOL, torch_unavailable
    from ..render.terminal import KeptText, mark

    if torch_version is None:
        why = torch_unavailable()
        hint = (
            " (pip install 'symderiv[torch]' to compare)"
            if why == "not installed"
            else ""
        )
        autograd = f"torch {why}{hint}."
    else:
        autograd = (
            f"torch {torch_version}, float64; "
            "pass when "
            + _held(f"max error ≤ {TORCH_RTOL:g}·max(1, max|autograd|)")
            + "."
        )
    for line in (
        "FD: central differences, step "
        + _held("h = ∛ε·max(1, |entry|)")
        + "; pass when "
        + _held(f"max error ≤ {FD_RTOL:g}·max(1, max|FD|)")
        + ".",
        f"autograd: {autograd}",
    ):
        console.print(KeptText(line, width=console.width))
    agree = "every closed form agrees" if passed else "a closed form disagrees"
    console.print(mark(passed, f" {agree} with the numbers."))


def _failure(report: VerifyReport) -> str:
    letters = report.instance.convention.letters
    parts = []
    for c in report.failures:
        var = letters.of(c.var)  # x in torch, A in column: as the table names it
        if c.problem:
            parts.append(f"{var}: {c.problem}")
            continue
        for what, error, tol in (
            ("FD", c.fd_error, c.fd_tol),
            ("autograd", c.torch_error, c.torch_tol),  # None without PyTorch
        ):
            if error is not None and tol is not None and not error <= tol:
                parts.append(f"{var}: max |closed − {what}| = {error:.2e} > {tol:.1e}")
    return "verification failed: " + "; ".join(parts)


@cli.command()
@size_options
@convention_option
@loss_option("generic: L = Σ dY⊙Y with random dY; " + LOSS_HELP)
@click.option(
    "--seed",
    default="0",
    show_default=True,
    callback=_seed,
    metavar="INTEGER",
    help="Seed of numpy.random.default_rng (a whole number >= 0).",
)
@wrt_option(
    "Variables to check: any of X,W,b, or the convention's letters (x in torch, "
    "A in column)."
)
@force_option("Run even when the finite differences would take long.")
@net_option(
    "Check a network instead, e.g. 'affine:3,relu,affine:2' (see derive --net)."
)
def verify(
    n: int,
    d: int,
    m: int,
    convention: str,
    loss: str,
    seed: int,
    wrt: tuple[str, ...],
    force: bool,
    net: str | None,
) -> None:
    """Check the closed forms numerically in float64.

    Draws X, T, W, b (and dY for the generic loss) from numpy.random.default_rng(SEED)
    and compares each closed form with central finite differences of L and, when
    PyTorch is installed, with torch.autograd. Exit 0 when all agree, 1 otherwise.
    """
    if net is not None:
        from ..net.commands import verify_command

        ctx = click.get_current_context()
        verify_command(ctx, net, n, d, convention, loss, seed, wrt, force)
        return
    from rich.text import Text

    from ..conventions import derivative_name
    from ..numeric import verify as run
    from ..render.formula import formula_text
    from ..render.terminal import KeptText
    from .console import make_console
    from .options import resolve_wrt

    wrt = resolve_wrt(wrt, convention)
    report = run(n, d, m, convention, loss, seed, wrt, force=force)
    conv = report.instance.convention
    console = make_console()
    forward = formula_text(conv.forward(), conv.letters)
    d_name, m_name = conv.sizes[1:]
    equation = _held(f"{conv.letters.Y} = {forward}")
    for line in (
        f"symderiv verify: {conv.name} convention, {equation}, "
        f"N={n}, {d_name}={d}, {m_name}={m}, seed {seed}",
        f"loss {_loss_text(report)}",
    ):
        console.print(KeptText(line, width=console.width))
    console.print(Text(f"L = {report.loss_value:.6f}"))
    # torch keeps b (and so db) as a vector of length M, xw as a 1×M row, column as
    # a C_out×1 column
    flat = conv.bias_vector
    gradients = (
        (derivative_name(conv, c.var), tuple(c.shape), flat and c.var == "b")
        for c in report.checks
    )
    console.print(KeptText(held_shapes(gradients), width=console.width))
    console.print()
    console.print(_table(report))
    footer(console, report.torch_version, report.passed)
    if not report.passed:
        raise VerificationError(_failure(report))
