"""The verdict on a student's formula for ∂L/∂X, ∂L/∂W or ∂L/∂b, against the derivation.

A formula is right only if it is right in general. It is parsed safely
(:mod:`.grammar`, never ``eval``), then checked at the sizes given *and* at further
size triples whose sizes are pairwise distinct, at least 2, and equal to no number written
in the formula (so ``X.T @ dY * N / 2`` cannot pass at N = 2, nor ``ones(D).T @ dY`` at
N = D). At each triple its numpy shape is checked and its value compared entry by entry,
exactly, with the engine's result (``derive(...).results[var].derivative``, denominator
layout, a symbolic upstream dY). Everything runs on symderiv's own algebra: no sympy.

A verdict carries a machine-readable ``reason``: ``ok``; ``shape`` (shapes that do not
fit, or the wrong shape); ``transpose``, ``sign`` or ``scale`` (the right answer
transposed, negated or scaled); ``entry`` (some other entry differs); ``sizes`` (right at
the sizes given, wrong at others); ``error`` (a student's function, graded by
:func:`symderiv.grade.function`, raised computing it). A formula that cannot be read
raises FormulaError (reason ``parse`` in :func:`parse_error_dict`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..algebra import Poly, PolyMatrix
from ..conventions import VARIABLES, Config, Letters
from ..errors import ChoiceError, FormulaError, SymderivError, clip
from ..notation import Node, Prod, Sym, T
from .grammar import (
    Formula,
    FormulaLimitError,
    FormulaShapeError,
    FormulaSyntaxError,
    Names,
    Reduce,
    parse,
    walk,
)
from .shapes import Dim, Env, Shapes, format_shape, sizes_listed, sizes_text
from .values import Evaluator

#: Longest entry shown in a message, in characters.
MAX_SHOWN = 400
#: The sizes further triples are drawn from (each at least 2, pairwise distinct).
FURTHER_SIZES = range(2, 33)
#: The highest degree in the sizes a formula is checked up to (84 further triples).
MAX_DEGREE = 6
#: The reasons a verdict can give (``parse`` for a formula that cannot be read).
REASONS: tuple[str, ...] = (
    "ok",
    "parse",
    "shape",
    "transpose",
    "sign",
    "scale",
    "entry",
    "sizes",
    "error",
)

if TYPE_CHECKING:
    from ..layer import AffineLayer

Triple = tuple[int, int, int]


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one formula, with what a student (or an autograder) needs.

    Attributes:
        ok: the formula equals the derivative at every size triple checked.
        var: X, W or b (the role; ``letter`` is how the convention writes it).
        formula: the formula as given.
        convention: xw, torch, column or wx.
        reason: one of :data:`REASONS`.
        message: the verdict in words; the first line says right or wrong, the next
            lines why (no ✓/✗: the CLI adds them).
        hint: a short suggestion ("a .T is missing or misplaced"), or "".
        sizes: every (N, D, M) checked, the given sizes first: all of them when the
            formula is right, else those up to and including ``failed_at`` (it is
            checked at one triple after another until it is first wrong).
        failed_at: the sizes of the verdict when it is wrong, else None.
        expected_shape: numpy shape of ∂L/∂var there (the variable's own shape).
        accepted_shapes: every shape accepted there, ``expected_shape`` first: a row
            bias (xw, torch) may be 1-D of length M or 1×M.
        got_shape: the formula's numpy shape there; None when shapes inside do not fit.
        entry: the first differing entry, 1-based, if any: (row, column) in a 2-D
            answer, (k,) in a 1-D one, indexed as the formula's own shape.
        expected_entry, got_entry: the two values there, readable (``a₁,₁·∂L/∂z₁,₁``).
        expected_value, got_value: the same in canonical names (``x_1_1*dy_1_1``).
        letter: the variable's display letter (A for X in the column convention).
        size_names: the convention's names of N, D, M (N, C_in, C_out in column).
    """

    ok: bool
    var: str
    formula: str
    convention: str
    reason: str
    message: str
    hint: str = ""
    sizes: tuple[Triple, ...] = ()
    failed_at: Triple | None = None
    expected_shape: tuple[int, ...] = ()
    accepted_shapes: tuple[tuple[int, ...], ...] = ()
    got_shape: tuple[int, ...] | None = None
    entry: tuple[int, ...] | None = None
    expected_entry: str | None = None
    got_entry: str | None = None
    expected_value: str | None = None
    got_value: str | None = None
    letter: str = ""
    size_names: tuple[str, str, str] = ("N", "D", "M")

    @property
    def score(self) -> float:
        """1.0 when right, else 0.0."""
        return 1.0 if self.ok else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` object (keys in a fixed order)."""

        def sizes(triple: Triple) -> dict[str, int]:
            return dict(zip(self.size_names, triple, strict=True))

        entry = None
        if self.entry is not None:
            entry = {
                "index": list(self.entry),
                "expected": self.expected_entry,
                "got": self.got_entry,
                "expected_canonical": self.expected_value,
                "got_canonical": self.got_value,
            }
        return {
            "ok": self.ok,
            "gradable": True,
            "score": self.score,
            "reason": self.reason,
            "variable": self.var,
            "letter": self.letter,
            "formula": self.formula,
            "convention": self.convention,
            "message": self.message,
            "hint": self.hint,
            "sizes": [sizes(t) for t in self.sizes],
            "failed_at": sizes(self.failed_at) if self.failed_at else None,
            "expected_shape": list(self.expected_shape),
            "accepted_shapes": [list(shape) for shape in self.accepted_shapes],
            "got_shape": list(self.got_shape) if self.got_shape is not None else None,
            "entry": entry,
        }


def parse_error_dict(
    var: str, formula: str, convention: str, message: str
) -> dict[str, Any]:
    """The ``--format json`` object of a formula that cannot be read (gradable: false)."""
    result = CheckResult(False, var, formula, convention, "parse", message, letter=var)
    return {
        **result.to_dict(),
        "gradable": False,
        "expected_shape": None,
        "accepted_shapes": None,
    }


# -- which variable -------------------------------------------------------------------------
def variable_names(config: Config) -> dict[str, str]:
    """Every spelling ``--wrt`` accepts -> the role X, W or b.

    The roles, the convention's letters (A in column, x in torch), and the derivative's
    names d<letter> and dLd<letter> (dA, dLdA, dX, dLdW, db, ...).

    >>> variable_names(Config(convention="column"))["dLdA"]
    'X'
    """
    letters = config.letters
    out: dict[str, str] = {}
    for role in VARIABLES:
        for spelled in (role, letters.of(role)):
            out.setdefault(spelled, role)
    for role in VARIABLES:
        for spelled in (role, letters.of(role)):
            out.setdefault(f"d{spelled}", role)
            out.setdefault(f"dLd{spelled}", role)
    return out


#: A name for the gradient of v, lower case, underscores dropped: dv, dldv, gradv, vgrad.
_GRADIENT_NAME = re.compile(
    r"(?:dld|d|grad|gradient)(?P<a>[a-z]\w*)|(?P<b>[a-z]\w*?)grad"
)


def gradient_of(target: str, config: Config) -> str | None:
    """The role (X, W or b) whose gradient ``target`` names, as students write it, or
    None when it names none (``grad``, ``out``, ``dY``).

    Any case, with or without ``self.`` and underscores, in the convention's letters:
    ``dX``, ``dx``, ``dLdX``, ``dL_dX``, ``grad_X``, ``X_grad``, ``X.grad``,
    ``self.dW``, ``self.W.grad`` (torch's ``x.grad``; column's ``dA``).

    >>> torch = Config(convention="torch")
    >>> gradient_of("self.x.grad", torch), gradient_of("dL_dW", torch), gradient_of("grad", torch)
    ('X', 'W', None)
    """
    letters = {
        spelled.lower(): role
        for role in VARIABLES
        for spelled in (role, config.letters.of(role))
    }
    parts = [p.strip() for p in target.split(".") if p.strip()]
    if len(parts) >= 2 and parts[-1].lower() == "grad":  # X.grad, self.W.grad
        return letters.get(parts[-2].lower())
    name = parts[-1].lower().replace("_", "") if parts else ""
    match = _GRADIENT_NAME.fullmatch(name)
    return letters.get(match.group("a") or match.group("b")) if match else None


def resolve_variable(
    name: str, config: Config, where: str = "--wrt", *, any_case: bool = False
) -> str:
    """The role (X, W or b) that ``name`` stands for in ``config``'s convention.

    ``where`` says where the user wrote ``name`` (``--wrt``, or a batch file's column
    ``column 'variable'``), for the message. A spelling of :func:`variable_names` in
    another case, or written ``dL/dW``, ``∂L/∂W`` or ``dL_dW``, is suggested in the
    message; with ``any_case`` (a batch file typed by hand) it is accepted when it
    names one role only.

    >>> resolve_variable("dL/dw", Config(), any_case=True)
    'W'

    Raises:
        ChoiceError: it names none of them, or (in another case) more than one.
    """
    table = variable_names(config)
    if name in table:
        return table[name]
    alike = {s: r for s, r in table.items() if _folded(s) == _folded(name)}
    if any_case and len(set(alike.values())) == 1:
        return next(iter(alike.values()))
    # one spelling per role: dX, not dX and dx as well (torch)
    shown = {r: s for s, r in reversed(alike.items())}
    guess = (
        f" (did you mean {' or '.join(map(repr, shown.values()))}?)" if alike else ""
    )
    raise ChoiceError(
        f"{where}: unknown variable {name!r}{guess}; {variable_choices(config)}"
    )


def _folded(name: str) -> str:
    """``name`` in lower case, ∂ as d, without slashes or underscores: dL/dW, ∂L/∂W,
    dL_dW and DLDW are dldw (display letters have none of these, so nothing is lost)."""
    return (
        name.strip().lower().replace("∂", "d").translate({ord("/"): "", ord("_"): ""})
    )


def variable_choices(config: Config) -> str:
    """``choose from A, W, b (or X, W, b), or a derivative name such as dLdA``: each
    spelling once (in xw the letters are the roles, so they are not repeated)."""
    letters = ", ".join(dict.fromkeys(config.letters.of(v) for v in VARIABLES))
    roles = ", ".join(VARIABLES)
    also = f" (or {roles})" if letters != roles else ""
    return (
        f"choose from {letters}{also}, or a derivative name such as "
        f"dLd{config.letters.of('X')}"
    )


@lru_cache(maxsize=64)
def _names(config: Config) -> Names:
    """The names of ``config`` (cached: a batch asks for the same few again and again)."""
    return Names.for_config(config)


def read_formula(config: Config, text: str) -> Formula:
    """``text`` parsed with ``config``'s names, as :func:`check_formula` reads it (the
    CLI reads it first, so a formula that cannot be read is refused before any wait).

    Raises:
        FormulaError: it cannot be read.
    """
    return parse(text, _names(config))


# -- the right answer -------------------------------------------------------------------------
#: Where the derivations :func:`_reference` runs report their progress (None: nowhere).
_PROGRESS: ContextVar[Callable[[str, int, int], None] | None] = ContextVar(
    "symderiv_check_progress", default=None
)


@contextmanager
def reporting(progress: Callable[[str, int, int], None] | None) -> Iterator[None]:
    """Within the block, the derivations a check runs report to ``progress`` (called
    as progress(task, done, total), as :func:`symderiv.derive` does): the CLI's
    progress bar for sizes whose derivation takes a while."""
    token = _PROGRESS.set(progress)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


@lru_cache(maxsize=256)
def _reference(
    triple: Triple, convention: str, var: str
) -> tuple[PolyMatrix, AffineLayer]:
    """∂L/∂var from the engine at these sizes, and the engine's layer (for X, W, b, Y, dY)."""
    from ..derive import derive

    n, d, m = triple
    config = Config(n=n, d=d, m=m, convention=convention, wrt=(var,))
    derivation = derive(config, progress=_PROGRESS.get())
    return derivation.results[var].derivative, derivation.layer


# -- size triples ---------------------------------------------------------------------------
def further_sizes(
    given: Triple, literals: Iterable[int], degree: int = 1
) -> list[Triple]:
    """Size triples to check besides ``given``, enough for a formula of ``degree``.

    Why these are enough: the coefficients of a formula's entries depend on the sizes
    only as P/Q, polynomials of degree at most ``degree`` (:data:`.shapes.Degree`: a
    size named, or a count of equal terms summed, each adds one), so a wrong formula
    differs from the right answer by P - R·Q, a polynomial of that degree that is not
    zero. Such a polynomial cannot vanish on the whole triangular grid
    {(a_i, b_j, c_k) : i + j + k <= degree} when the a's, the b's and the c's are each
    distinct (Newton interpolation in M: each divided difference has degree one less
    and vanishes on the grid one size smaller, down to one variable, where degree + 1
    roots are too many). So ``X.T @ dY * (N-(1+1))*(N-(1+1+1))`` cannot pass for
    vanishing at the sizes checked, whatever numbers it avoids writing. The a's, b's
    and c's are disjoint, at least 3 and free of the formula's numbers, so every triple
    also has pairwise distinct sizes: neither N = D nor an order of the sizes is
    special. (A reshape between two matrix shapes moves entries by index arithmetic,
    not by polynomials; for it the distinct sizes are the check.)

    The first triple is (3, 4, 5) when nothing is excluded; then one size at a time.

    Raises:
        FormulaLimitError: the degree is above :data:`MAX_DEGREE`, or the formula uses
            so many different numbers that no grid is left among :data:`FURTHER_SIZES`.

    >>> further_sizes((2, 2, 3), {2})
    [(4, 5, 6), (7, 5, 6), (4, 8, 6), (4, 5, 9)]
    """
    if degree > MAX_DEGREE:
        raise FormulaLimitError(
            f"the formula multiplies sizes and sums {degree} deep (at most "
            f"{MAX_DEGREE}); that is too many to be checked in general, and a right "
            "answer needs few"
        )
    banned = set(literals)
    free = [v for v in FURTHER_SIZES if v not in banned]
    if len(free) < 4 + 3 * degree:
        raise FormulaLimitError(
            "the formula uses too many different numbers to be checked in general "
            f"(sizes from {FURTHER_SIZES.start} to {FURTHER_SIZES.stop - 1} must stay "
            "free of them); a right answer needs few"
        )
    n, d, m = (free[1 + k :: 3] for k in range(3))
    grid = [
        (n[i], d[j], m[k])
        for total in range(degree + 1)
        for i in range(total + 1)[::-1]
        for j in range(total - i + 1)[::-1]
        for k in [total - i - j]
    ]
    return [triple for triple in grid if triple != given]


# -- readable entries -----------------------------------------------------------------------
def readable(poly: Poly, letters: Letters) -> str:
    """An entry as a student reads it: ``a₁,₁·∂L/∂z₁,₁ + a₂,₁·∂L/∂z₂,₁``, ``1/2·b₁``."""
    from ..render.names import unicode_name

    if poly.is_zero():
        return "0"
    out: list[str] = []
    for mono, c in poly.terms.items():
        factors = [
            name if power == 1 else f"{name}^{power}"
            for atom, power in Counter(mono).items()
            for name in [unicode_name(atom, letters)]
        ]
        if abs(c) != 1 or not factors:
            factors.insert(0, str(abs(c)))
        sign = (" - " if c < 0 else " + ") if out else ("-" if c < 0 else "")
        out.append(sign + "·".join(factors))
    return clip("".join(out), MAX_SHOWN)


# -- one size triple ------------------------------------------------------------------------
_TRANSPOSED = "it is the transpose of the right answer: a .T is missing or misplaced"


@dataclass(frozen=True)
class _Outcome:
    """The verdict at one size triple."""

    triple: Triple
    reason: str
    why: str = ""
    hint: str = ""
    inner: bool = False  # shapes inside the formula do not fit
    got: tuple[int, ...] | None = None
    entry: tuple[int, ...] | None = None
    values: tuple[str | None, ...] = (None, None, None, None)
    ratio: Fraction | None = None  # reason scale: the factor there
    # the one fix left when nothing else is wrong (the right entries as a 1-D array
    # where b is a column, or transposed), said after a repair's hint
    rest: str = ""
    # the hint when no repair (:func:`_fix_hint`) is found: what the shape alone says
    fallback: str = ""

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


class _Checker:
    """Checks one parsed formula at any number of size triples."""

    def __init__(self, config: Config, var: str, formula: Formula) -> None:
        self.config = config
        # the convention with config's letters: --names N=B renames the sizes too, in
        # the shapes and sizes of every message
        self.conv = replace(config.conv, letters=config.letters)
        self.var = var
        self.formula = formula
        self.letters = config.letters
        self.letter = self.letters.of(var)
        self.deriv = f"∂L/∂{self.letter}"

    def env(self, triple: Triple, layer: AffineLayer | None = None) -> Env:
        return Env(*triple, self.conv, layer)

    def shapes(self, triple: Triple) -> Shapes | _Outcome:
        """The shape pass at ``triple``, or the shape error inside the formula there."""
        shapes = Shapes(self.formula, self.env(triple))
        try:
            shapes.info(self.formula.tree)
        except FormulaShapeError as exc:
            return _Outcome(triple, "shape", str(exc), inner=True)
        return shapes

    def degree(self, triple: Triple) -> int:
        """How many further sizes the formula needs (:func:`further_sizes`): the degree
        in the sizes of its difference from the right answer, whose coefficients are
        0 or 1; at least 1. 1 when shapes inside do not fit (it is wrong already)."""
        shapes = self.shapes(triple)
        if isinstance(shapes, _Outcome):
            return 1
        return max(1, *shapes.infos[id(self.formula.tree)].degree)

    def at(self, triple: Triple) -> _Outcome:
        shapes = self.shapes(triple)
        if isinstance(shapes, _Outcome):
            return shapes
        tree = self.formula.tree
        layer = _reference(triple, self.conv.name, self.var)[1]
        value = Evaluator(self.env(triple, layer), shapes.infos).value(tree)
        return self.judge(triple, shapes.infos[id(tree)].shape, value.matrix)

    def judge(
        self,
        triple: Triple,
        got_shape: tuple[Dim, ...],
        got: PolyMatrix,
        point: Mapping[str, Poly] | None = None,
    ) -> _Outcome:
        """Compare entries when the shape is the variable's, else explain the wrong shape.

        A row bias (xw: stored 1×M; torch: length M, as nn.Linear) is the vector b, and
        SPEC shows it as the 1×M row: 1-D of length M and 1×M are both its shape there
        (:meth:`accepted`)."""
        right = _reference(triple, self.conv.name, self.var)[0]
        if point is not None:  # ``got`` was computed on these values of the entries
            right = right.subs(point)
        want_shape = self.env(triple).shape(self.var)
        want = tuple(d.size for d in want_shape)
        got_sizes = tuple(d.size for d in got_shape)
        accepted = self.accepted(triple)
        row = next(shape for shape in accepted if len(shape) == 2)
        if got_sizes in accepted:
            return self.compare(triple, got_sizes, right, got)
        what = (
            f"{self.deriv} has the shape of {self.letter}, {format_shape(want_shape)}"
        )
        reason, why, hint = "shape", f"it is {format_shape(got_shape)}, but {what}", ""
        rest = fallback = ""
        if not got_shape:
            why = f"it gives a scalar, but {what}"
            tree = self.formula.tree
            if isinstance(tree, Reduce) and tree.axis is None:
                hint = "a sum without an axis adds every entry; did you mean axis=0?"
        elif (
            len(got_sizes) == 2 and got_sizes == row[::-1] and got.transpose() == right
        ):
            reason, hint = "transpose", _TRANSPOSED
            if self.var == "b":
                rest = f"then add .T ({what})"
        elif self.var == "b" and self.conv.bias_column and got_sizes == (want[0],):
            first = "its entries are right, but " if got.transpose() == right else ""
            # keepdims keeps the summed axis: a column only when summing along axis 1
            tree = self.formula.tree
            flipped = isinstance(tree, T)
            while isinstance(tree, T):
                tree = tree.arg
            summed = tree.axis if isinstance(tree, Reduce) else None
            if summed is None:
                fix = "add .reshape(-1, 1)"
            elif summed % 2 or flipped:  # along axis 1, or .T already there
                fix = "sum with keepdims=True, or add .reshape(-1, 1)"
                if flipped:
                    fix += " (.T leaves a 1-D array as it is)"
            else:
                fix = "sum with keepdims=True and add .T, or add .reshape(-1, 1)"
            stored = (
                f"{self.letter} is stored as a column {format_shape(want_shape)}: {fix}"
            )
            hint = f"{first}numpy gives a 1-D array here and {stored}"
            rest = stored if first else ""
            if not first:  # the entries are wrong too: a repair may say why
                hint, fallback = "", hint
        elif len(got_sizes) == 1 and want[0] == 1 and got_sizes == (want[1],):
            hint = "write it as a 1×k row: keepdims=True or .reshape(1, -1)"
        return _Outcome(
            triple, reason, why, hint, got=got_sizes, rest=rest, fallback=fallback
        )

    def accepted(self, triple: Triple) -> tuple[tuple[int, ...], ...]:
        """The numpy shapes ∂L/∂var may have at ``triple``, the variable's own first.

        A row bias (xw: stored 1×M; torch: length M, as nn.Linear) is the vector b:
        1-D of length M and 1×M are both accepted; any other variable has one shape."""
        want = tuple(d.size for d in self.env(triple).shape(self.var))
        if self.var == "b" and not self.conv.bias_column:  # the vector b
            other = (want[-1],) if len(want) == 2 else (1, want[-1])
            return want, other
        return (want,)

    def compare(
        self,
        triple: Triple,
        got_shape: tuple[int, ...],
        right: PolyMatrix,
        got: PolyMatrix,
    ) -> _Outcome:
        # A 1-D bias (torch, xw) is held as a 1×M row, as b itself.
        where = right.first_difference(got)
        if where is None:
            return _Outcome(triple, "ok", got=got_shape)
        i, j = where
        r, g = right[i, j], got[i, j]
        values = (
            readable(r, self.letters),
            readable(g, self.letters),
            clip(r.to_str(), MAX_SHOWN),
            clip(g.to_str(), MAX_SHOWN),
        )
        # indexed as the formula's own shape: (row, column), or (k,) when it is 1-D
        index = (i + 1, j + 1) if len(got_shape) == 2 else (j + 1,)
        shown = f"({index[0]}, {index[1]})" if len(index) == 2 else f"{index[0]}"
        why = f"entry {shown}: expected {values[0]}, got {values[1]}"
        reason, hint, ratio = self.diagnose(triple, right, got)
        return _Outcome(
            triple,
            reason,
            why,
            hint,
            got=got_shape,
            entry=index,
            values=values,
            ratio=ratio,
        )

    def diagnose(
        self, triple: Triple, right: PolyMatrix, got: PolyMatrix
    ) -> tuple[str, str, Fraction | None]:
        """transpose, sign, scale or entry, a hint, and the factor (scale only).

        The hint of a scale names the number only: which size it is, if any, takes
        the other triples (:meth:`scale_hint`)."""
        if right.rows == right.cols and got == right.transpose() and got != right:
            return "transpose", _TRANSPOSED, None
        if got == right.scale(-1):
            return "sign", "the sign is wrong", None
        ratio = _ratio(right, got)
        if ratio is not None and ratio not in (0, 1):
            return "scale", f"it is {ratio} times the right answer", ratio
        return "entry", "", None

    def scale_hint(
        self, outcome: _Outcome, ratios: Iterable[tuple[Triple, Fraction | None]]
    ) -> str:
        """The hint of ``outcome``, a scale: the factor there, and what it is in general.

        ``ratios`` gives each triple checked with the factor there (1 where the formula
        is right, None where it is no multiple of the right answer), ``outcome``'s own
        first. The factor is named as c·N^p·D^q·M^r (:data:`_SCALES`, c a number) only
        when that one form gives the factor at every triple, at least two: ``2/N at
        N=4`` for ``mean(...) * 2``, ``M/N at N=2, M=4``; a number alone when it is the
        same number everywhere. A factor that is neither (``* (N+1)``: 3, then 4) is
        said to change with the sizes, and never named by a size it merely equals at
        one triple."""
        text = f"it is {outcome.ratio} times the right answer"
        # each candidate form, with its number c once a triple has fixed it
        Form = tuple[tuple[int, int, int], Fraction | None]
        left: list[Form] = [(powers, None) for powers in _SCALES]
        varied: list[set[int]] = [set(), set(), set()]  # each size's values seen
        for triple, ratio in ratios:
            if ratio is None or ratio == 0:  # no multiple of the right answer there
                left = []
                break
            for values, size in zip(varied, triple, strict=True):
                values.add(size)
            kept: list[Form] = []
            for powers, number in left:
                scale = math.prod(map(pow, map(Fraction, triple), powers))
                if number is None or number * scale == ratio:
                    kept.append((powers, ratio / scale))
            left = kept
            if not left:
                break
        # a size that kept one value cannot be told from a number: not named
        named = [
            (powers, number)
            for powers, number in left
            if all(len(varied[k]) > 1 for k in range(3) if powers[k])
        ]
        if named and not any(named[0][0]):  # the same number everywhere
            return text
        if len(named) != 1:  # no form fits every triple, or two do: none is named
            at = sizes_text(self.conv.sizes, outcome.triple)
            return f"{text} at {at}; the factor differs at other sizes"
        powers, number = named[0]
        assert number is not None
        names = self.conv.sizes
        label = _scale_label(number, powers, names)
        at = ", ".join(f"{names[k]}={outcome.triple[k]}" for k in range(3) if powers[k])
        mean = " (a mean where a sum belongs?)" if label == f"1/{names[0]}" else ""
        return f"{text}, {label} at {at}{mean}"


def _scale_label(
    number: Fraction, powers: tuple[int, int, int], names: tuple[str, str, str]
) -> str:
    """``2/N``, ``N/2``, ``M/N``, ``3/(2*N*N)``: number·N^p·D^q·M^r as a formula
    writes it."""
    tops = [names[k] for k, p in enumerate(powers) for _ in range(p)]
    bottoms = [names[k] for k, p in enumerate(powers) for _ in range(-p)]
    if abs(number.numerator) != 1 or not tops:
        tops.insert(0, str(abs(number.numerator)))
    if number.denominator != 1:
        bottoms.insert(0, str(number.denominator))
    label = "*".join(tops)
    if bottoms:
        below = "*".join(bottoms)
        label += f"/{below}" if len(bottoms) == 1 else f"/({below})"
    return ("-" if number < 0 else "") + label


#: The forms a scale's factor may take, as powers of (N, D, M), simplest first (each
#: times a number): a number alone, a size or one over it, a ratio of two sizes
#: (mean(...) * M is M/N times a sum), a size squared or one over it.
_SCALES: list[tuple[int, int, int]] = [
    (0, 0, 0),
    (1, 0, 0),
    (0, 1, 0),
    (0, 0, 1),
    (-1, 0, 0),
    (0, -1, 0),
    (0, 0, -1),
    (1, -1, 0),
    (1, 0, -1),
    (-1, 1, 0),
    (0, 1, -1),
    (-1, 0, 1),
    (0, -1, 1),
    (2, 0, 0),
    (0, 2, 0),
    (0, 0, 2),
    (-2, 0, 0),
    (0, -2, 0),
    (0, 0, -2),
]


def _named_scale(
    checker: _Checker, outcome: _Outcome, triples: Iterable[Triple]
) -> _Outcome:
    """``outcome`` with its scale hint naming a size only if the factor is that size
    at every triple (the formula is computed again at each, its own first; stops at
    the first triple that rules every size out)."""
    if outcome.reason != "scale" or outcome.ratio is None:
        return outcome

    def ratios() -> Iterator[tuple[Triple, Fraction | None]]:
        yield outcome.triple, outcome.ratio
        for triple in triples:
            if triple == outcome.triple:
                continue
            try:
                other = checker.at(triple)
            except SymderivError:
                yield triple, None
                continue
            yield triple, Fraction(1) if other.ok else other.ratio

    return replace(outcome, hint=checker.scale_hint(outcome, ratios()))


def _ratio(right: PolyMatrix, got: PolyMatrix) -> Fraction | None:
    """c when ``got`` = c·``right`` for a number c, else None."""
    for key, value in right.entries.items():
        mono, coeff = next(iter(value.terms.items()))
        other = got[key].terms.get(mono)
        if other is None:
            return None
        ratio = Fraction(other) / Fraction(coeff)
        return ratio if got == right.scale(ratio) else None
    return None


# -- the verdict ------------------------------------------------------------------------------
def check_formula(
    config: Config,
    var: str,
    text: str,
    *,
    further: Iterable[Triple] | None = None,
) -> CheckResult:
    """Check ``text`` as a formula for ∂L/∂var, at ``config``'s sizes and further ones.

    Args:
        config: sizes, convention and ``names``; layout, loss and method are ignored
            (the answer is always in var's own shape, with a symbolic upstream dY).
        var: X, W or b, or how the convention writes it (A, dLdA, dW, db, ...).
        text: the candidate, e.g. ``"X.T @ dY"`` or ``"np.sum(dout, axis=0)"``.
        further: size triples to check besides the given one (default
            :func:`further_sizes`: two triples of pairwise distinct sizes >= 2 that avoid
            every number in the formula).

    Returns:
        A CheckResult: ok, or why not (a reason code, the sizes where it fails, shapes,
        the first differing entry with both values, a hint).

    Raises:
        FormulaError: the formula does not parse, uses unknown names or characters, is
            too long, too deep or too large (exit 2).
        ChoiceError: ``var`` names no variable.

    >>> check_formula(Config(n=1, d=2, m=1), "W", "X.T @ dY").ok
    True
    >>> check_formula(Config(n=2, d=2, m=3), "W", "X.T @ dY * N / 2").reason
    'sizes'
    """
    var = resolve_variable(var, config)
    # layout, loss, method and wrt do not change the question: the answer is always in
    # var's own shape, with a symbolic upstream dY (the engine is asked exactly that).
    formula = parse(text, _names(config))
    _check_target(formula, var, config)
    given: Triple = (config.n, config.d, config.m)
    checker = _Checker(config, var, formula)
    first = checker.at(given)
    extra = (
        list(further)
        if further is not None
        else further_sizes(given, formula.literals(), checker.degree(given))
    )
    triples = (given, *extra)
    outcome = first
    if first.ok:  # the verdict where it is first wrong, if anywhere
        later = (checker.at(triple) for triple in extra)
        outcome = next((other for other in later if not other.ok), first)
    elif not first.inner:
        # Wrong at the user's own sizes: that is shown first (the entry there, with
        # both values); a shape error that shows only at other sizes ((M×D)·(N×M)
        # multiplies when N = D) is said after it.
        inner = (checker.shapes(triple) for triple in extra)
        elsewhere = next((o for o in inner if isinstance(o, _Outcome)), None)
        if elsewhere is not None:
            at = sizes_text(checker.conv.sizes, elsewhere.triple)
            why = f"{first.why}\n  at {at} its shapes do not even fit: {elsewhere.why}"
            outcome = replace(first, why=why)
    if not first.ok and not outcome.hint:
        hint = _fix_hint(checker, triples) or outcome.fallback
        outcome = replace(outcome, hint=hint)
    outcome = _named_scale(checker, outcome, triples)
    return _result(checker, outcome, triples, first)


def _check_target(formula: Formula, var: str, config: Config) -> None:
    """Refuse ``dX = X.T @ dY`` checked as ∂L/∂W: the line says it is another
    variable's derivative (a target that names none, ``grad = ...``, is left alone).

    Raises:
        FormulaSyntaxError: the target names the derivative by another variable.
    """
    other = gradient_of(formula.target, config)
    if other is None or other == var:
        return
    letters = config.letters
    raise FormulaSyntaxError(
        f"the formula assigns {formula.target}, but it is checked as "
        f"∂L/∂{letters.of(var)}; {formula.target} names ∂L/∂{letters.of(other)}: "
        f"check it as that (--wrt {letters.of(other)}) or leave out "
        f"'{formula.target} ='",
        1,
    )


#: At most this many one-edit repairs are tried for a hint (each is a full check).
MAX_REPAIRS = 12


def _fix_hint(checker: _Checker, triples: tuple[Triple, ...]) -> str:
    """A hint from the algebra, the first that is right at every size triple (one that
    cannot be computed is not): ``this is ∂L/∂W, not ∂L/∂X`` when the formula is another
    variable's derivative, else a one-edit repair of it (a transpose added or dropped,
    two factors swapped, a sum along the other axis), said as the fix; "" when none is.

    A repair after which only the bias's form is left to fix (its right entries as a
    1-D array where b is a column, or transposed: :attr:`_Outcome.rest`) is said with
    that fix, so summing the wrong axis is named in every convention, also where the
    right axis alone still gives a 1-D array (column: axis=0, wx: axis=1)."""
    config, formula, var = checker.config, checker.formula, checker.var
    others = [_Checker(config, other, formula) for other in VARIABLES if other != var]
    candidates = [
        (other, f"this is {other.deriv}, not {checker.deriv}", False)
        for other in others
    ]
    candidates += [
        (_Checker(config, var, replace(formula, tree=tree)), hint, True)
        for tree, hint in _repairs(formula, checker.letters)[:MAX_REPAIRS]
    ]
    for candidate, hint, repair in candidates:
        try:
            left = _left_to_fix(candidate, triples, repair)
        except SymderivError:
            continue
        if left is not None:
            return f"{hint}; {left}" if left else hint
    return ""


def _left_to_fix(
    candidate: _Checker, triples: tuple[Triple, ...], rest: bool
) -> str | None:
    """The empty string when ``candidate`` is right at every triple; with
    ``rest``, the one fix left (:attr:`_Outcome.rest`) when at each triple it is right
    or only that is wrong; else None. Stops at the first triple that rules it out."""
    left = ""
    for triple in triples:
        outcome = candidate.at(triple)
        if outcome.ok:
            continue
        if not (rest and outcome.rest):
            return None
        left = left or outcome.rest
    return left


def _repairs(formula: Formula, letters: Letters) -> list[tuple[Node, str]]:
    """The formula's one-edit variants, each with the hint that names the edit: the
    output Y where its gradient dY belongs first (they share a shape, so nothing else
    tells them apart), then a transpose, the order of two factors, a mean's axis and
    kind (a mean over the wrong axis is a sum over the other one: one slip in the
    student's mind, though two edits)."""
    out: list[tuple[Node, str]] = []
    for node in walk(formula.tree):
        if isinstance(node, Sym) and node.role == "Y":
            written, upstream = formula.source(node), letters.of("dY")
            out.insert(
                0,
                (
                    _rebuild(formula.tree, node, Sym("dY")),
                    f"did you mean {upstream}? ({written} is the layer's output, "
                    f"{upstream} its gradient ∂L/∂{letters.of('Y')})",
                ),
            )
    for node in walk(formula.tree):
        if isinstance(node, Prod) and len(node.args) == 2:
            a, b = node.args
            for k, arg in ((1, b), (0, a)):
                if isinstance(arg, T):
                    fixed, say = arg.arg, f"did you mean {formula.source(arg.arg)}? "
                    say += f"({formula.source(arg)} has a .T too many)"
                else:
                    fixed, say = T(arg), f"did you mean {formula.source(arg)}.T? "
                    say += "(a transpose is missing)"
                args = (a, fixed) if k == 1 else (fixed, b)
                out.append((_rebuild(formula.tree, node, type(node)(*args)), say))
            out.append(
                (
                    _rebuild(formula.tree, node, type(node)(b, a)),
                    "the factors are in the wrong order: "
                    f"{formula.source(b)} @ {formula.source(a)}",
                )
            )
        if isinstance(node, Reduce) and node.axis in (0, 1):
            other = 1 - node.axis
            verb = "sum" if node.how == "sum" else "average"
            out.append(
                (
                    _rebuild(formula.tree, node, replace(node, axis=other)),
                    f"{verb} over the batch: {node.keyword}={other}",
                )
            )
            if node.how == "mean":
                summed = replace(node, axis=other, how="sum")
                out.append(
                    (
                        _rebuild(formula.tree, node, summed),
                        f"sum over the batch, not a mean over axis {node.axis}: "
                        f"a sum with {node.keyword}={other}",
                    )
                )
        if isinstance(node, Reduce) and node.how == "mean":
            out.append(
                (
                    _rebuild(formula.tree, node, replace(node, how="sum")),
                    "a sum, not a mean: the batch's terms add up",
                )
            )
    return out


def _rebuild(tree: Node, old: Node, new: Node) -> Node:
    """``tree`` with the node ``old`` (that very object) replaced by ``new``."""
    if tree is old:
        return new
    if isinstance(tree, Prod):
        return type(tree)(*(_rebuild(a, old, new) for a in tree.args))
    changed = {
        key: _rebuild(value, old, new)
        for key, value in vars(tree).items()
        if isinstance(value, Node)
    }
    return type(tree)(**{**vars(tree), **changed}) if changed else tree


def _result(
    checker: _Checker, outcome: _Outcome, triples: tuple[Triple, ...], given: _Outcome
) -> CheckResult:
    """The verdict ``outcome`` in words; ``given`` is the outcome at the given sizes
    (right there, a wrong ``outcome`` is right only at some sizes: reason ``sizes``)."""
    conv = checker.conv
    written = checker.formula.text
    if checker.formula.target:  # "dW = X.T @ dY": the verdict reads ∂L/∂W = X.T @ dY
        written = written.split("=", 1)[1]
    text = clip(" ".join(written.split()), MAX_SHOWN)
    head = (
        f"{checker.deriv} = {text}"
        if checker.formula.text != "<function>"
        else f"{checker.deriv} from the function"
    )
    at = sizes_text(conv.sizes, outcome.triple)
    convention = f"convention {conv.name}"
    reason = outcome.reason
    if outcome.ok:
        others = sizes_listed(conv.sizes, triples[1:], "more ")
        also = f", and at {others}" if others else ""
        message = f"{head} is right (at {at}{also}; {convention})."
    elif given.ok:
        right_at = sizes_text(conv.sizes, given.triple)
        message = f"{head} is right at {right_at} but not for {at} ({convention}).\n  {outcome.why}"
        reason = "sizes" if reason != "error" else reason
    else:
        message = f"{head} is not right (at {at}; {convention}).\n  {outcome.why}"
    if outcome.hint:
        message += f"\n  hint: {outcome.hint}"
    expected_entry, got_entry, expected_value, got_value = outcome.values
    if not outcome.ok and outcome.triple in triples:  # checked until first wrong
        triples = triples[: triples.index(outcome.triple) + 1]
    return CheckResult(
        ok=outcome.ok,
        var=checker.var,
        formula=checker.formula.text,
        convention=conv.name,
        reason=reason,
        message=message,
        hint=outcome.hint,
        sizes=triples,
        failed_at=None if outcome.ok else outcome.triple,
        expected_shape=expected_shape(checker, outcome.triple),
        accepted_shapes=checker.accepted(outcome.triple),
        got_shape=outcome.got,
        entry=outcome.entry,
        expected_entry=expected_entry,
        got_entry=got_entry,
        expected_value=expected_value,
        got_value=got_value,
        letter=checker.letter,
        size_names=conv.sizes,
    )


def expected_shape(checker: _Checker, triple: Triple) -> tuple[int, ...]:
    """numpy's shape of ∂L/∂var at ``triple``: the variable's (1-D for torch's bias)."""
    return tuple(d.size for d in checker.env(triple).shape(checker.var))


def check_dict(config: Config, var: str, text: str) -> dict[str, Any]:
    """:func:`check_formula` as its JSON object; a formula that cannot be read gives
    ``gradable: false`` (reason ``parse``) instead of raising."""
    try:
        return check_formula(config, var, text).to_dict()
    except FormulaError as exc:
        return parse_error_dict(var, text, config.convention, str(exc))


__all__ = [
    "REASONS",
    "CheckResult",
    "check_dict",
    "check_formula",
    "further_sizes",
    "gradient_of",
    "parse_error_dict",
    "readable",
    "resolve_variable",
    "variable_names",
]
