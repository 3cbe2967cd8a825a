"""Exercise sheets: the derivation with blanks to fill in, and its answer key.

``make_sheet(...)`` picks the layer (sizes, convention, vec order, variables: given, or drawn
with ``random.Random(seed)``), runs the engine once and chooses which entries to leave
blank. For each variable V the student fills in

(a) entries of the Jacobian ∂vec(Y)/∂vec(V), and its shape;
(b) one entry of the chain-rule product J_L(v) = J_h(y)·J_y(v), written as a sum;
(c) entries of the reshaped result ∂L/∂V;
(d) the closed form of ∂L/∂V.

The answer key is the same sheet with every blank filled from the derivation's results
(:meth:`Sheet.answers`): nothing is typed in by hand, so the key cannot disagree with the
certificate. :func:`symderiv.render.sheet.sheet_latex` and
:func:`symderiv.render.sheet.sheet_markdown` print either version; :func:`sheet_json` gives
the blanks as data.

>>> sheet = make_sheet(n=1, d=2, m=1, wrt="W")
>>> [a.key for a in sheet.answers()][:3]
['W.rows', 'W.cols', 'W.jacobian.1.1']
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .algebra import Poly
from .conventions import (
    CONVENTIONS,
    VARIABLES,
    VEC_ORDERS,
    Config,
    check_size,
    parse_wrt,
)
from .errors import ShapeError
from .notation import Node

if TYPE_CHECKING:
    from .steps import Derivation

#: The largest size an exercise sheet takes: every matrix must fit on paper.
MAX_SIZE = 4
#: Sizes drawn when a seed chooses them.
RANDOM_SIZES: tuple[int, ...] = (2, 3)


@dataclass(frozen=True)
class Answer:
    """One blank of the sheet and what fills it.

    Attributes:
        key: stable name, e.g. ``"W.jacobian.3.1"`` (1-based row, column).
        value: a Poly (an entry), an int (a number of rows or columns), or a notation
            tree (a closed form).
    """

    key: str
    value: Poly | int | Node


@dataclass(frozen=True)
class Exercise:
    """The blanks of one variable's exercise (0-based positions).

    Attributes:
        var: X, W or b.
        jacobian_blanks: entries of ∂vec(Y)/∂vec(V) left blank, row by row.
        chain_column: the entry of J_L(v) to write out as a sum.
        derivative_blanks: entries of ∂L/∂V left blank, row by row.
    """

    var: str
    jacobian_blanks: tuple[tuple[int, int], ...]
    chain_column: int
    derivative_blanks: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Sheet:
    """An exercise sheet: the layer, its derivation and the blanks."""

    config: Config
    seed: int | None
    derivation: Derivation
    exercises: tuple[Exercise, ...]

    def answers(self) -> list[Answer]:
        """Every blank with its value from the derivation, in the order printed."""
        out: list[Answer] = []
        for ex in self.exercises:
            result = self.derivation.results[ex.var]
            v = ex.var
            rows, cols = result.jacobian.shape
            out += [Answer(f"{v}.rows", rows), Answer(f"{v}.cols", cols)]
            for i, j in ex.jacobian_blanks:
                out.append(
                    Answer(f"{v}.jacobian.{i + 1}.{j + 1}", result.jacobian[i, j])
                )
            out.append(
                Answer(f"{v}.chain.{ex.chain_column + 1}", chain_entry(self, ex))
            )
            for i, j in ex.derivative_blanks:
                out.append(
                    Answer(f"{v}.derivative.{i + 1}.{j + 1}", result.derivative[i, j])
                )
            out.append(Answer(f"{v}.closed_form", result.closed_form))
        return out

    def command(self, answers: bool = False) -> str:
        """The command line that prints this sheet again."""
        c = self.config
        parts = [
            f"symderiv exercise --n {c.n} --d {c.d} --m {c.m}",
            f"--convention {c.convention} --vec {c.vec} --wrt {','.join(c.wrt)}",
        ]
        if self.seed is not None:
            parts.append(f"--seed {self.seed}")
        if answers:
            parts.append("--answers")
        return " ".join(parts)


def chain_entry(sheet: Sheet, ex: Exercise) -> Poly:
    """Entry ``chain_column`` of J_L(v), straight from the derivation's chain-rule row."""
    return sheet.derivation.results[ex.var].chain[0, ex.chain_column]


def _size(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    check_size(name, value)
    if value > MAX_SIZE:
        raise ShapeError(
            f"--{name} {value} is too large for an exercise sheet: use 1 to {MAX_SIZE} "
            "so that every matrix fits on paper"
        )
    return value


def make_sheet(
    n: int | None = None,
    d: int | None = None,
    m: int | None = None,
    *,
    convention: str | None = None,
    vec: str | None = None,
    wrt: str | tuple[str, ...] | None = None,
    seed: int | None = None,
) -> Sheet:
    """Choose the layer and the blanks, derive, and return the sheet.

    Every choice not given is drawn from ``random.Random(seed)`` (sizes 2 or 3, any
    convention, order and non-empty set of variables); without a seed the defaults are
    N=2, D=2, M=3, xw, row, X,W,b. The blanks are drawn from the same generator (seed 0
    when none is given), always in the same order, so a sheet is reproducible.

    Raises:
        SymderivError: a bad choice, or a size above :data:`MAX_SIZE`.
    """
    from .derive import derive

    sizes = {"n": _size("n", n), "d": _size("d", d), "m": _size("m", m)}
    rng = random.Random(0 if seed is None else seed)
    # Draw every choice, used or not, so that fixing one option leaves the others alone.
    drawn: dict[str, Any] = {k: rng.choice(RANDOM_SIZES) for k in ("n", "d", "m")}
    drawn["convention"] = rng.choice(sorted(CONVENTIONS))
    drawn["vec"] = rng.choice(VEC_ORDERS)
    picked = rng.sample(VARIABLES, rng.randint(1, len(VARIABLES)))
    drawn["wrt"] = tuple(v for v in VARIABLES if v in picked)
    defaults: dict[str, Any] = {"n": 2, "d": 2, "m": 3, "convention": "xw"}
    defaults.update(vec="row", wrt=VARIABLES)
    given: dict[str, Any] = {**sizes, "convention": convention, "vec": vec}
    given["wrt"] = parse_wrt(wrt) if wrt is not None else None
    config = Config(
        **{
            key: value
            if value is not None
            else (defaults if seed is None else drawn)[key]
            for key, value in given.items()
        }
    )
    derivation = derive(config)
    exercises = tuple(_blanks(rng, derivation, var) for var in config.wrt)
    return Sheet(config, seed, derivation, exercises)


def _blanks(rng: random.Random, derivation: Derivation, var: str) -> Exercise:
    """Which entries to leave blank: some nonzeros and some zeros of the Jacobian, one
    entry of the chain rule, about half of the reshaped result."""
    result = derivation.results[var]
    jac = result.jacobian
    nonzero = sorted(jac.entries)
    zero = sorted(
        (i, j)
        for i in range(jac.rows)
        for j in range(jac.cols)
        if (i, j) not in jac.entries
    )
    take_nz = min(len(nonzero), max(2, len(nonzero) // 3))
    take_z = min(len(zero), max(1, take_nz // 2))
    jacobian_blanks = sorted(rng.sample(nonzero, take_nz) + rng.sample(zero, take_z))
    chain_column = rng.randrange(jac.cols)
    rows, cols = result.derivative.shape
    cells = [(i, j) for i in range(rows) for j in range(cols)]
    derivative_blanks = sorted(rng.sample(cells, max(1, len(cells) // 2)))
    return Exercise(var, tuple(jacobian_blanks), chain_column, tuple(derivative_blanks))


def sheet_json(sheet: Sheet) -> str:
    """The blanks of ``sheet`` with their answers, as JSON, for a learning platform.

    One object: ``config``, ``seed``, ``command`` (the sheet) and ``key_command`` (its
    key), and ``blanks`` in the order printed. Each blank has its ``key`` (as
    :meth:`Sheet.answers`), ``variable``, ``kind`` (``rows``, ``cols``, ``jacobian``,
    ``chain``, ``derivative``, ``closed_form``), its 1-based ``index`` where it has one,
    and the ``answer``: a number, or an entry in canonical names (``x_1_1*dy_1_1``) with
    ``text``, its readable form (``x₁,₁·∂L/∂y₁,₁``). A closed form's answer is a formula
    that ``symderiv check`` reads, and its ``check`` object gives the arguments with which
    a platform grades the student's formula for that blank.
    """
    import json

    from .check import numpy_text, readable

    config = sheet.config
    blanks: list[dict[str, Any]] = []
    for answer in sheet.answers():
        var, kind, *index = answer.key.split(".")
        blank: dict[str, Any] = {"key": answer.key, "variable": var, "kind": kind}
        if index:
            blank["index"] = [int(i) for i in index]
        value: Any = answer.value
        if isinstance(value, Poly):
            blank["answer"] = value.to_str()
            blank["text"] = readable(value, config.letters)
        elif isinstance(value, int):
            blank["answer"] = value
        else:
            formula = numpy_text(value, config)
            blank["answer"] = formula
            blank["check"] = {
                "variable": var,
                "convention": config.convention,
                "n": config.n,
                "d": config.d,
                "m": config.m,
                "args": [
                    "check",
                    "--convention",
                    config.convention,
                    "--n",
                    str(config.n),
                    "--d",
                    str(config.d),
                    "--m",
                    str(config.m),
                    "--wrt",
                    var,
                ],
            }
        blanks.append(blank)
    document = {
        "config": config.to_dict(),
        "seed": sheet.seed,
        "command": sheet.command(),
        "key_command": sheet.command(answers=True),
        "blanks": blanks,
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


__all__ = [
    "MAX_SIZE",
    "Answer",
    "Exercise",
    "Sheet",
    "make_sheet",
    "sheet_json",
]
