"""Options shared by several commands, as decorators (one place for each flag)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..conventions import (
    CONVENTIONS,
    LAYOUTS,
    LOSSES,
    MAX_SIZE,
    METHODS,
    VEC_ORDERS,
    check_values_seed,
    parse_names,
    parse_wrt,
)
from ..errors import SymderivError, clip

F = TypeVar("F", bound=Callable[..., Any])


#: Words from other tools and papers for a choice symderiv spells differently: a value
#: given here gets "did you mean" the symderiv name (the value itself stays refused).
CHOICE_SYNONYMS = {
    "pytorch": "torch",
    "linear": "torch",
    "nn.linear": "torch",
    "tex": "latex",
    "pdf": "latex with --pdf",
    "slides": "beamer",
    "md": "markdown",
    "notebook": "ipynb",
    "jupyter": "ipynb",
    "terminal": "rich",
    "plain": "text",
    "txt": "text",
    "column-major": "col",
    "row-major": "row",
    "f": "col",
    "c": "row",
}


class Choice(click.Choice[str]):
    """click's Choice, whose refusal names the choice that was probably meant: the
    symderiv name of a synonym (``pytorch`` → ``torch``) or a close spelling."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        import difflib

        message = super().get_invalid_choice_message(value, ctx)
        choices = [str(c) for c in self.choices]
        text = str(value).strip().lower()
        meant = CHOICE_SYNONYMS.get(text)
        if meant is None or meant.split()[0] not in choices:
            close = difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
            meant = close[0] if close else None
        if meant is None:
            return message
        name, _, extra = meant.partition(" ")
        return f"{message.rstrip('.')} (did you mean {name!r}{' ' + extra if extra else ''}?)"


class Size(click.ParamType[int]):
    """A size: a whole number >= 1 written in ASCII digits (``3``, not ``3.0``, ``３``).

    Numbers above :data:`~symderiv.conventions.MAX_SIZE` are refused here, before any
    arithmetic; below it the size guard refuses, with an estimate, what is too large.
    """

    name = "integer"

    def __init__(self, limit: int = MAX_SIZE) -> None:
        self.limit = limit

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        text = str(value).strip()
        digits = text.lstrip("+-").lstrip("0")
        if not _SIZE_RE.match(text):
            shown, why = repr(value), "is not a whole number; use an integer >= 1"
        elif text.startswith("-") and digits:
            shown, why = text, "is negative; use an integer >= 1"
        elif not digits:
            shown, why = text, "is zero; use an integer >= 1"
        elif len(digits) > len(str(self.limit)) or int(digits) > self.limit:
            shown, why = digits, f"is too large; use an integer from 1 to {self.limit}"
        else:
            return int(digits)
        self.fail(f"{clip(shown, count=True)} {why}", param, ctx)


_SIZE_RE = re.compile(r"[+-]?[0-9]+\Z", re.ASCII)


#: A size: a whole number >= 1 (the size guard refuses what is too large).
SIZE = Size()


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def _unprefixed(exc: Exception, flag: str) -> str:
    """The library's message without its leading flag (click names the flag itself)."""
    return re.sub(rf"\A{re.escape(flag)}:? ", "", str(exc))


def wrt_callback(
    ctx: click.Context, param: click.Parameter, value: str
) -> tuple[str, ...]:
    """--wrt split into its items (the command resolves them with :func:`resolve_wrt`,
    once the convention and --names are known: click reads options in the order given).
    """
    try:
        return parse_wrt(value)
    except SymderivError as exc:
        items = tuple(s.strip() for s in value.split(","))
        if not all(items):
            raise click.BadParameter(_unprefixed(exc, "--wrt"), ctx, param) from exc
        # letters such as A or x (resolve_wrt knows the convention), or a network's
        # W1, b2 (checked against the network with --net)
        return items


def resolve_wrt(
    items: str | tuple[str, ...],
    convention: str | None,
    names: dict[str, str] | None = None,
) -> tuple[str, ...]:
    """The roles (in the order X, W, b) that --wrt's ``items`` name.

    The spellings are those ``check --wrt`` accepts (one resolver,
    :func:`symderiv.check.resolve_variable`): the roles X, W, b, the convention's
    letters (A in column, x in torch), letters renamed by ``names``, and derivative names
    (dA, dLdW). ``convention`` None (not given) is xw's: X, W, b.

    Raises:
        ChoiceError: an unknown or repeated variable.
    """
    from ..check.verdict import resolve_variable
    from ..conventions import VARIABLES, Config, comma_list
    from ..errors import ChoiceError

    text = items if isinstance(items, str) else ",".join(items)
    given = comma_list(items)
    if not given or not all(given):
        raise ChoiceError(
            f"--wrt {text!r} is empty or has an empty item; use e.g. X,W,b"
        )
    config = Config(convention=convention or "xw", names=names or {})
    roles = [resolve_variable(item, config) for item in given]
    if len(set(roles)) != len(roles):
        raise ChoiceError(f"--wrt {text!r} names a variable twice")
    return tuple(v for v in VARIABLES if v in roles)


def _parsed(parse: Callable[[str], Any], flag: str, missing: Any = None) -> Any:
    """A click callback: ``parse`` of the value given (``missing()`` when none), its
    error as click's own, which names the flag."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None if missing is None else missing()
        try:
            return parse(value)
        except SymderivError as exc:
            raise click.BadParameter(_unprefixed(exc, flag), ctx, param) from exc

    return callback


def size_options(func: F) -> F:
    """--n, --d, --m."""
    return _stack(
        *(
            click.option(flag, type=SIZE, default=default, show_default=True, help=help)
            for flag, default, help in (
                ("--n", 2, "Batch size N (rows of X)."),
                ("--d", 2, "Input features D (C_in)."),
                ("--m", 3, "Output features M (C_out)."),
            )
        )
    )(func)


def choice_option(
    flag: str, choices: tuple[str, ...] | list[str], help: str
) -> Callable[[F], F]:
    """An option taking one of ``choices``, the first being the default."""
    return click.option(
        flag,
        type=Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


convention_option = choice_option(
    "--convention",
    list(CONVENTIONS),
    "xw: Y = X W + 1b; torch: y = x Wᵀ + b; column: Z = A Wᵀ + 1bᵀ; "
    "wx (samples as columns): Y = W X + b1ᵀ.",
)

#: How --loss explains the three losses after "generic" (derive, verify).
LOSS_HELP = "mse: 1/(2N)·Σ‖y−t‖²; sum: Σ y_ij; softmax-ce: −(1/N)·Σ t·log softmax(y)."


def loss_option(help: str) -> Callable[[F], F]:
    """--loss (generic, mse, sum, softmax-ce)."""
    return choice_option("--loss", LOSSES, help)


def wrt_option(help: str) -> Callable[[F], F]:
    """--wrt X,W,b (split by :func:`wrt_callback`)."""
    return click.option(
        "--wrt", default="X,W,b", show_default=True, callback=wrt_callback, help=help
    )


def net_option(help: str) -> Callable[[F], F]:
    """--net LAYERS: a network instead of one layer."""
    return click.option("--net", default=None, metavar="LAYERS", help=help)


def force_option(help: str) -> Callable[[F], F]:
    """--force: run past the size guard."""
    return click.option("--force", is_flag=True, help=help)


def derivation_options(func: F) -> F:
    """--convention, --vec, --layout, --loss, --wrt, --names: shared by derive, check, ..."""
    return _stack(
        convention_option,
        choice_option(
            "--vec",
            VEC_ORDERS,
            "Vectorization: row stacks rows (reshape(-1)), col stacks columns.",
        ),
        choice_option(
            "--layout",
            LAYOUTS,
            "denominator: dL/dW has W's shape; numerator: its transpose.",
        ),
        loss_option("generic: symbolic upstream dL/dy_ij; " + LOSS_HELP),
        wrt_option(
            "Variables to differentiate by: any of X,W,b, or the convention's "
            "letters (x in torch, A in column) or those renamed by --names."
        ),
        names_option(),
    )(func)


def names_option(extra_help: str = "", identifiers: bool = False) -> Callable[[F], F]:
    """--names ROLE=LETTERS,... (validated: nothing else ever reaches LaTeX); with
    ``identifiers`` (check only) a role's name may have underscores, X=A_prev."""
    return click.option(
        "--names",
        default=None,
        callback=_parsed(lambda text: parse_names(text, identifiers), "--names", dict),
        metavar="ROLE=LETTERS,...",
        help="Display letters, e.g. X=A,Y=Z,dY=dLdZ (roles X, W, b, Y, dY, T); sizes "
        "too, e.g. D=C_in,M=C_out or N=B, and the delta, delta=Id." + extra_help,
    )


def notation_options(func: F) -> F:
    """--index-base, --upstream, --bold, --values: the notation profile (issue 15)."""
    return _stack(
        click.option(
            "--index-base",
            type=Choice(["1", "0"]),
            default="1",
            show_default=True,
            callback=lambda ctx, param, value: int(value),
            help="Number rows and columns from 1 (x_1,1) or from 0 (x_0,0).",
        ),
        click.option(
            "--upstream",
            type=Choice(["partial", "bar"]),
            default=None,
            help="Write the upstream derivative as ∂L/∂y_ij or as the adjoint ȳ_ij, in "
            "every format [default: ȳ where a matrix would not fit otherwise].",
        ),
        click.option(
            "--bold",
            is_flag=True,
            help="Bold matrices and vectors (LaTeX and Markdown), as in X W + b.",
        ),
        click.option(
            "--values",
            default=None,
            metavar="SEED",
            callback=_parsed(check_values_seed, "--values"),
            help="Also show every step with small integers (drawn from SEED) in place "
            "of the symbols, to follow by hand (exact numbers, so not with --loss "
            "softmax-ce).",
        ),
    )(func)


method_option = choice_option(
    "--method",
    METHODS,
    "jacobian: explicit Jacobians; index: Kronecker deltas; tensor: 4-D arrays; "
    "all: every view.",
)


def output_option(what: str = "the output") -> Callable[[F], F]:
    """-o/--output FILE: written atomically; ``-`` means standard output (None)."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(allow_dash=True),
        default=None,
        callback=lambda ctx, param, value: None if value == "-" else value,
        metavar="FILE",
        help=f"Write {what} to FILE (atomically) instead of standard output.",
    )


def flavor_option() -> Callable[[F], F]:
    """--flavor: the maths syntax of Markdown output (:data:`symderiv.render.mdmath.FLAVORS`)."""
    return click.option(
        "--flavor",
        type=Choice(["github", "gitlab", "jupyter"]),
        default=None,
        help="Markdown for GitHub (the default: ```math fences), GitLab (the same, at most "
        "1000 characters a maths block) or Jupyter ($$ maths, which VS Code, pandoc and "
        "Quarto read too).",
    )


def format_option(formats: tuple[str, ...]) -> Callable[[F], F]:
    """--format, one of ``formats`` (default: rich on a terminal, else text)."""
    return click.option(
        "--format",
        "fmt",
        type=Choice(formats),
        default=None,
        help="Output format [default: rich on a terminal, else text].",
    )
