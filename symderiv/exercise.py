"""Exercise sheets: the derivation with blanks to fill in, and its answer key.

``make_sheet(...)`` picks the layer (sizes, convention, vec order, variables: given, or drawn
with ``random.Random(seed)``), runs the engine once and chooses which entries to leave
blank. For each variable V the student fills in

(a) entries of the Jacobian ∂vec(Y)/∂vec(V), and its shape;
(b) one entry of the chain-rule product J_L(v) = J_f(y)·J_y(v), written as a sum;
(c) entries of the reshaped result ∂L/∂V;
(d) the closed form of ∂L/∂V.

``--kind`` adds other questions: the shapes only, a multiple choice among look-alike
formulas, and index-notation blanks (∂y_ij/∂v_hk with its Kronecker delta, the sum the
delta leaves of ∂L/∂v_hk, and which entry of a product of the layer's matrices that is),
taken from the engine's index view; ``--loss mse`` asks for the loss's own step.

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

import csv
import hashlib
import io
import json
import os
import random
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import product
from typing import TYPE_CHECKING, Any

from .algebra import Poly, PolyMatrix, evaluate
from .conventions import (
    CONVENTIONS,
    VARIABLES,
    VEC_ORDERS,
    Config,
    check_size,
    comma_list,
    parse_wrt,
)
from .errors import ChoiceError, ShapeError, UsageError
from .fileio import read_text
from .notation import Deriv, Expr, Jac, Node, Ones, Prod, Recip, Sym, T, transpose
from .notes import M

if TYPE_CHECKING:
    from .steps import Derivation

#: The largest size an exercise sheet takes: every matrix must fit on paper.
MAX_SIZE = 4
#: Sizes drawn when a seed chooses them.
RANDOM_SIZES: tuple[int, ...] = (2, 3)
#: Sizes drawn for shape and multiple-choice questions, which need N, D, M pairwise
#: different (``--help`` says so).
DISTINCT_SIZES: tuple[int, ...] = (2, 3, 4)


@dataclass(frozen=True)
class Answer:
    """One blank of the sheet and what fills it.

    Attributes:
        key: stable name, e.g. ``"W.jacobian.3.1"`` (1-based row, column).
        value: a Poly (an entry), an int (a number of rows or columns), a notation
            tree (a closed form), or marked maths (an index-notation formula, M).
    """

    key: str
    value: Poly | int | Node | M


#: Entries left blank, (row, column) 0-based, row by row.
Blanks = tuple[tuple[int, int], ...]


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
    jacobian_blanks: Blanks
    chain_column: int
    derivative_blanks: Blanks


#: The letters of a multiple choice's options, as the sheet prints them.
CHOICE_LETTERS = "ABCD"
#: Kinds of question: the step-by-step exercise (today's sheet), the shapes only, a
#: multiple choice among look-alike formulas, and blanks in the index-notation derivation.
#: ``--loss mse`` adds the loss's own question.
KINDS: tuple[str, ...] = ("steps", "shapes", "choice", "index")
#: What a class roster asks when ``--kind`` is not given: the steps and index notation.
ROSTER_KINDS: tuple[str, ...] = ("steps", "index")


@dataclass(frozen=True)
class ShapesQuestion:
    """Shapes only: the rows and columns of each object of one variable's derivation.

    Attributes:
        var: X, W or b.
        items: (what, rows, cols): the variable, dY, ∂vec(Y)/∂vec(V), J_L(v) and ∂L/∂V
            (in the layout asked), as notation trees with their shapes.
    """

    var: str
    items: tuple[tuple[Node, int, int], ...]

    def answers(self) -> list[Answer]:
        return [
            Answer(f"{self.var}.shape_{what}.{k}", size)
            for k, (_, rows, cols) in enumerate(self.items, start=1)
            for what, size in (("rows", rows), ("cols", cols))
        ]


@dataclass(frozen=True)
class ChoiceQuestion:
    """Which formula is ∂L/∂V? The closed form among wrong look-alikes (dY·Wᵀ among
    Wᵀ·dY, dYᵀ·W, ...), exactly one right at the sheet's sizes (:func:`distractors`).

    Attributes:
        var: X, W or b.
        options: the formulas in the order printed (A, B, C, D; three where the sizes
            leave only two wrong ones).
        correct: the position of the closed form in ``options``.
    """

    var: str
    options: tuple[Node, ...]
    correct: int

    def answers(self) -> list[Answer]:
        return [Answer(f"{self.var}.choice", self.options[self.correct])]


@dataclass(frozen=True)
class LossQuestion:
    """The MSE loss's own step: ∂L/∂y_ij for one entry, and dY as a formula.

    Attributes:
        at: 0-based (i, j) of the entry asked for.
        entry: ∂L/∂y_ij = (y_ij − t_ij)/N as a polynomial.
        formula: dY = (Y − T)/N as a notation tree.
    """

    at: tuple[int, int]
    entry: Poly
    formula: Node

    def answers(self) -> list[Answer]:
        i, j = self.at
        return [
            Answer(f"dY.loss_entry.{i + 1}.{j + 1}", self.entry),
            Answer("dY.loss_formula", self.formula),
        ]


@dataclass(frozen=True)
class IndexQuestion:
    """Blanks in the index-notation derivation of one variable, from the index view.

    Attributes:
        var: X, W or b.
        forward: y_ij = Σ_l x_il·w_lj + b_j (given).
        entry_lhs: ∂y_ij/∂v_hk; ``partial``: its value with a Kronecker delta (a blank),
            e.g. δ_hj·x_ik.
        loss_lhs: ∂L/∂v_hk; ``chain``: Σ_i Σ_j ∂L/∂y_ij·∂y_ij/∂v_hk (given);
            ``collapsed``: the sum the delta leaves (a blank), e.g. Σ_i ∂L/∂y_ih·x_ik.
        entry: which entry of a product of the layer's matrices that is (a blank),
            e.g. (Xᵀ·dY)_hk.
    """

    var: str
    forward: M
    entry_lhs: M
    partial: M
    loss_lhs: M
    chain: M
    collapsed: M
    entry: M

    def answers(self) -> list[Answer]:
        return [
            Answer(f"{self.var}.index_partial", self.partial),
            Answer(f"{self.var}.index_sum", self.collapsed),
            Answer(f"{self.var}.index_entry", self.entry),
        ]


Question = ShapesQuestion | ChoiceQuestion | LossQuestion | IndexQuestion


def look_alikes(closed: Node) -> tuple[Node, ...]:
    """The formulas a student makes of the closed form A·B by misplacing a transpose or
    swapping the factors: B·A, Aᵀ·Bᵀ, A·Bᵀ, then Aᵀ·B, Bᵀ·Aᵀ, Bᵀ·A and B·Aᵀ
    (dY·Wᵀ gives Wᵀ·dY, dYᵀ·W, dY·W, ...), each different from it as written. At some
    sizes one of them still equals it (with N = 1, dYᵀ·... and ...·dY can coincide),
    and with a size of 1 some do not multiply (Wᵀ·dY with N = 1): :func:`distractors`
    checks both.

    >>> from symderiv.notation import Sym, T
    >>> [type(n).__name__ for n in look_alikes(Prod(Sym("dY"), T(Sym("W"))))][:3]
    ['Prod', 'Prod', 'Prod']
    """
    if not isinstance(closed, Prod) or len(closed.args) != 2:
        raise ValueError("a look-alike needs a product of two factors")
    a, b = closed.args
    at, bt = transpose(a), transpose(b)
    pairs = ((b, a), (at, bt), (a, bt), (at, b), (bt, at), (bt, a), (b, at))
    out = dict.fromkeys(Prod(x, y) for x, y in pairs)  # each once, in this order
    out.pop(closed, None)
    return tuple(out)


def _prod(*factors: Node) -> Prod:
    """The product of ``factors`` as one flat product (a product among them spliced in)."""
    out: list[Node] = []
    for f in factors:
        out += f.args if isinstance(f, Prod) else (f,)
    return Prod(*out)


def _put(closed: Node, role: str, new: Node) -> Prod:
    """``closed`` with ``new`` in place of the matrix ``role`` (and newᵀ for roleᵀ):
    Xᵀ·dY with Y for dY is Xᵀ·Y."""
    assert isinstance(closed, Prod)
    return _prod(
        *(
            new if f == Sym(role) else transpose(new) if f == T(Sym(role)) else f
            for f in closed.args
        )
    )


def _same(a: PolyMatrix, b: PolyMatrix) -> bool:
    return a.shape == b.shape and a.first_difference(b) is None


def distractors(derivation: Derivation, var: str) -> tuple[Node, ...]:
    """Three wrong options for ∂L/∂var (two where the sizes leave no more), each
    evaluated at the derivation's sizes: none equals the chain rule's result, and no
    two are equal.

    Options with the answer's shape come first, so that shapes alone do not give the
    answer away; tried in this order: the output Y for dY, the mean over the batch
    (·/N) for the sum, the :func:`look_alikes` (transposes misplaced, factors swapped;
    at pairwise different sizes none has the right shape), both mistakes at once, and
    all ones for dY (the upstream derivative left out, as if L = ΣY). Only where fewer
    than three of these are left (a size of 1) does a formula of another shape fill in.
    A formula that does not multiply at these sizes (Wᵀ·dY with N = 1) is never
    offered: a student must rule a distractor out by the chain rule, not because it is
    undefined.

    Raises:
        ShapeError: fewer than two wrong options exist at these sizes.
    """
    result = derivation.results[var]
    closed, right = result.closed_form, result.derivative
    layer = derivation.layer
    rows, cols = derivation.config.conv.shapes["dY"].names()
    ones = Prod(Ones(rows), T(Ones(cols)))  # dY's shape, all ones
    with_y = _put(closed, "dY", Sym("Y"))
    pool = [
        with_y,
        _prod(Recip("N"), closed),
        *look_alikes(closed),
        _prod(Recip("N"), with_y),
        _put(closed, "dY", ones),
    ]
    env = {r: layer.matrix(r) for r in ("X", "W", "b")}
    env |= {"dY": derivation.upstream, "Y": layer.outputs}
    values = [right]
    shaped: list[Node] = []  # wrong, with the answer's shape
    other: list[Node] = []  # wrong, of another shape
    for cand in pool:
        try:
            value = evaluate(cand, env, layer.sizes, derivation.config.vec)
        except ValueError:  # does not multiply at these sizes: not a formula to offer
            continue
        if not any(_same(value, v) for v in values):  # right after all, or a repeat
            values.append(value)
            (shaped if value.shape == right.shape else other).append(cand)
    wrong = shaped + other
    if len(wrong) < 2:
        c = derivation.config
        raise ShapeError(
            f"--kind choice: at {c.n}×{c.d}×{c.m} there are not two wrong formulas for "
            f"∂L/∂{var} that differ from it; use larger sizes"
        )
    return tuple(wrong[:3])


def question_shapes(derivation: Derivation, var: str) -> ShapesQuestion:
    """The shapes of V, dY, ∂vec(Y)/∂vec(V), J_L(v) and ∂L/∂V, from the derivation."""
    result = derivation.results[var]
    layer = derivation.layer
    small = derivation.config.letters.entry(var)
    items: tuple[tuple[Node, int, int], ...] = (
        (Sym(var), *layer.shape(var)),
        (Sym("dY"), *derivation.upstream.shape),
        (Deriv("Y", var, vec=True), *result.jacobian.shape),
        (Jac("L", small), *result.chain.shape),
        (Deriv("L", var), *result.derivative.shape),
    )
    return ShapesQuestion(var, items)


def question_choice(
    derivation: Derivation, var: str, rng: random.Random
) -> ChoiceQuestion:
    """The closed form of ∂L/∂V (in the layout asked) and its :func:`distractors`,
    shuffled: exactly one option is right at the sheet's sizes."""
    closed = derivation.results[var].closed_form
    options = [closed, *distractors(derivation, var)]
    rng.shuffle(options)
    return ChoiceQuestion(var, tuple(options), options.index(closed))


def question_loss(derivation: Derivation, rng: random.Random) -> LossQuestion:
    """For the MSE loss: one entry of dY and its formula, from the upstream step."""
    if derivation.loss_upstream is None:
        raise ValueError("the loss question needs --loss mse")
    n, m = derivation.config.n, derivation.config.m
    at = (rng.randrange(n), rng.randrange(m))
    # the upstream step states dY = ∂L/∂Y = (Y − T)/N = [explicit]
    (equation,) = [
        e for e in derivation.step("upstream").equations if isinstance(e.parts[0], Sym)
    ]
    return LossQuestion(at, derivation.loss_upstream[at], equation.parts[2])


@lru_cache(maxsize=64)
def _indexed(config: Config) -> Derivation:
    """The same layer derived with the index view (sympy), for the index questions: a
    class roster repeats layers (sizes 2–3, four conventions), so each is derived once."""
    from .derive import derive

    return derive(replace(config, method="index"))


def question_index(indexed: Derivation, var: str) -> IndexQuestion:
    """Index-notation blanks for ``var``, every formula from the index view's steps and
    checks (``indexed``: a derivation with the index view), never typed by hand.

    Raises:
        ValueError: ``indexed`` has no index view, or its view disagreed.
    """
    from .render.indexnotation import latex_of, text_of

    extra = indexed.results[var].extra.get("index")
    if extra is None or not extra["verified"]:
        raise ValueError(f"no verified index view of {var}")

    def m(*objs: Any) -> M:
        """The display objects as one formula, a = b = c."""
        return M(
            " = ".join(text_of(o) for o in objs), " = ".join(latex_of(o) for o in objs)
        )

    def shown(node: Node) -> Any:
        assert isinstance(node, Expr)  # the index view's steps hold display objects
        return node.expr

    (forward,) = indexed.step("index_forward").equations
    (chain,) = indexed.step(f"index_dL_d{var}").equations
    entry_lhs, partial = extra["entry"]
    loss_lhs, _, collapsed, entry = extra["equation"][-4:]
    return IndexQuestion(
        var,
        m(*(shown(p) for p in forward.parts)),
        m(entry_lhs),
        m(partial),
        m(loss_lhs),
        m(shown(chain.parts[1])),  # Σ_i Σ_j ∂L/∂y_ij·∂y_ij/∂v_hk, (a) not yet put in
        m(collapsed),
        m(entry),
    )


def extra_questions(
    derivation: Derivation, kinds: tuple[str, ...], seed: int | None
) -> tuple[Question, ...]:
    """The questions of ``kinds`` beyond "steps", drawn from their own generator (so the
    step-by-step blanks of a seed stay as they were): the MSE loss's question first,
    then per variable its shapes and its multiple choice."""
    rng = random.Random(f"extras:{0 if seed is None else seed}")
    out: list[Question] = []
    if derivation.config.loss == "mse":
        out.append(question_loss(derivation, rng))
    indexed = _indexed(derivation.config) if "index" in kinds else None
    for var in derivation.config.wrt:
        if "shapes" in kinds:
            out.append(question_shapes(derivation, var))
        if "choice" in kinds:
            out.append(question_choice(derivation, var, rng))
        if indexed is not None:
            out.append(question_index(indexed, var))
    return tuple(out)


def parse_kinds(text: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"shapes,choice"`` -> ("shapes", "choice") in :data:`KINDS` order.

    Raises:
        ChoiceError: empty, unknown or repeated kinds.
    """
    if text is None:
        return ("steps",)
    items = comma_list(text)
    if not items or any(k not in KINDS for k in items) or len(set(items)) != len(items):
        raise ChoiceError(
            f"--kind {','.join(items)!r}: choose one or more of {', '.join(KINDS)}, "
            "comma-separated, each once"
        )
    return tuple(k for k in KINDS if k in items)


@dataclass(frozen=True)
class Sheet:
    """An exercise sheet: the layer, its derivation and the blanks."""

    config: Config
    seed: int | None
    derivation: Derivation
    exercises: tuple[Exercise, ...]
    #: The student the sheet is for (``--roster``), printed in its title.
    student: str | None = None
    #: Questions beyond the step-by-step exercises (``--kind``), after them.
    extras: tuple[Question, ...] = ()
    #: The kinds of question asked (``--kind``).
    kinds: tuple[str, ...] = ("steps",)

    def answers(self) -> list[Answer]:
        """Every blank with its value from the derivation, in the order printed."""
        out: list[Answer] = []
        for ex in self.exercises:
            result = self.derivation.results[ex.var]
            v = ex.var
            rows, cols = result.jacobian.shape
            out += [Answer(f"{v}.rows", rows), Answer(f"{v}.cols", cols)]
            out += _filled(f"{v}.jacobian", result.jacobian, ex.jacobian_blanks)
            chain = ex.chain_column
            out.append(Answer(f"{v}.chain.{chain + 1}", result.chain[0, chain]))
            out += _filled(f"{v}.derivative", result.derivative, ex.derivative_blanks)
            out.append(Answer(f"{v}.closed_form", result.closed_form))
        for q in self.extras:
            out += q.answers()
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
        if self.kinds != ("steps",):
            parts.append(f"--kind {','.join(self.kinds)}")
        if c.loss != "generic":
            parts.append(f"--loss {c.loss}")
        if answers:
            parts.append("--answers")
        return " ".join(parts)


def _filled(key: str, matrix: PolyMatrix, blanks: Blanks) -> list[Answer]:
    """The answers of the (0-based) ``blanks`` of ``matrix``, keyed 1-based."""
    return [Answer(f"{key}.{i + 1}.{j + 1}", matrix[i, j]) for i, j in blanks]


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
    kinds: str | tuple[str, ...] | None = None,
    loss: str = "generic",
) -> Sheet:
    """Choose the layer and the blanks, derive, and return the sheet.

    ``kinds`` picks the questions (:data:`KINDS`, default the step-by-step exercise
    only); ``loss="mse"`` adds the loss's own question (∂L/∂y_ij and dY = (Y − T)/N).

    Every choice not given is drawn from ``random.Random(seed)`` (sizes 2 or 3, or
    2 to 4 pairwise different with shape or choice questions; any convention, order
    and non-empty set of variables); without a seed the defaults are
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
    given: dict[str, Any] = {**sizes, "convention": convention, "vec": vec}
    given["wrt"] = parse_wrt(wrt) if wrt is not None else None
    chosen_kinds = parse_kinds(kinds)
    # without a seed, what is not given keeps Config's defaults
    chosen = {k: v for k, v in given.items() if v is not None}
    config = Config(loss=loss, **{**(drawn if seed is not None else {}), **chosen})
    if {"shapes", "choice"} & set(chosen_kinds):
        n_, d_, m_ = _distinct_sizes(config, sizes, seed)
        config = replace(config, n=n_, d=d_, m=m_)
    derivation = derive(config)
    exercises = tuple(
        _blanks(rng, derivation, var) for var in config.wrt if "steps" in chosen_kinds
    )
    extras = extra_questions(derivation, chosen_kinds, seed)
    return Sheet(config, seed, derivation, exercises, extras=extras, kinds=chosen_kinds)


def _distinct_sizes(
    config: Config, given: dict[str, int | None], seed: int | None
) -> tuple[int, int, int]:
    """Sizes N, D, M that differ pairwise, for shape and multiple-choice questions (with
    a square X, Xᵀ·dY and X·dY have the same shape and a transpose goes unnoticed).

    Sizes given on the command line stay as given; a drawn (or default) size that repeats
    an earlier one is replaced by another of :data:`DISTINCT_SIZES`, drawn from its own
    generator so the sheet stays reproducible by seed (and by name in a roster)."""
    rng = random.Random(f"sizes:{0 if seed is None else seed}")
    out = {"n": config.n, "d": config.d, "m": config.m}
    used = {v for k, v in given.items() if v is not None}
    for key in ("n", "d", "m"):
        if given[key] is not None:
            continue
        if out[key] in used:  # the other two sizes leave one of three free at least
            free = [v for v in DISTINCT_SIZES if v not in used]
            out[key] = free[0] if seed is None else rng.choice(free)
        used.add(out[key])
    return out["n"], out["d"], out["m"]


def _blanks(rng: random.Random, derivation: Derivation, var: str) -> Exercise:
    """Which entries to leave blank: some nonzeros and some zeros of the Jacobian, one
    entry of the chain rule, about half of the reshaped result."""
    result = derivation.results[var]
    jac = result.jacobian
    nonzero = sorted(jac.entries)
    zero = [
        at for at in product(range(jac.rows), range(jac.cols)) if at not in jac.entries
    ]
    take_nz = min(len(nonzero), max(2, len(nonzero) // 3))
    take_z = min(len(zero), max(1, take_nz // 2))
    jacobian_blanks = sorted(rng.sample(nonzero, take_nz) + rng.sample(zero, take_z))
    chain_column = rng.randrange(jac.cols)
    rows, cols = result.derivative.shape
    cells = list(product(range(rows), range(cols)))
    derivative_blanks = sorted(rng.sample(cells, max(1, len(cells) // 2)))
    return Exercise(var, tuple(jacobian_blanks), chain_column, tuple(derivative_blanks))


def loss_numpy(node: Node, config: Config) -> str:
    """The MSE loss's dY = (Y − T)/N as NumPy with ASCII operators, written as the
    closed forms of :func:`sheet_json` are (:func:`symderiv.check.numpy_text`: the
    convention's letters and size names), e.g. ``(Z - T) / N`` in the column convention.

    >>> from symderiv.conventions import mse_upstream
    >>> loss_numpy(mse_upstream(), Config(convention="column"))
    '(Z - T) / N'
    """
    from .check.grammar import SIZE_NAMES
    from .render.code import numpy_code

    names = {role: config.letters.of(role) for role in ("Y", "T")}
    sizes = dict(zip(SIZE_NAMES, config.conv.sizes, strict=True))
    return numpy_code(node, names, sizes)


def sheet_document(sheet: Sheet) -> dict[str, Any]:
    """The blanks of ``sheet`` with their answers, as JSON data, for a learning platform.

    One object: ``student`` (a roster's sheet only: the name as in the roster),
    ``config``, ``seed``, ``command`` (the sheet) and ``key_command`` (its
    key), and ``blanks`` in the order printed. Each blank has its ``key`` (as
    :meth:`Sheet.answers`), ``variable``, ``kind`` (``rows``, ``cols``, ``jacobian``,
    ``chain``, ``derivative``, ``closed_form``, ``choice``, ``index_partial``,
    ``index_sum``, ``index_entry``, …), its 1-based ``index`` where it has one,
    and the ``answer``: a number, or an entry in canonical names (``x_1_1*dy_1_1``) with
    ``text``, its readable form (``x₁,₁·∂L/∂y₁,₁``). A closed form's answer is a formula
    that ``symderiv check`` reads, and its ``check`` object gives the arguments with which
    a platform grades the student's formula for that blank; a multiple choice adds its
    ``options`` as printed (``letter``, ``text`` in Unicode, ``latex``) and the
    ``correct`` letter. An index-notation answer is its formula in Unicode
    (``δ_hj·x_ik``) with ``latex``.
    """
    from .check import numpy_text, readable
    from .render.formula import formula_latex, formula_text

    config = sheet.config
    choices = {
        f"{q.var}.choice": q for q in sheet.extras if isinstance(q, ChoiceQuestion)
    }
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
        elif isinstance(value, M):  # index notation: the formula, read by a person
            blank["answer"] = value.text
            blank["latex"] = value.latex
        elif var not in config.wrt:  # dY = (Y − T)/N: not a derivative check grades
            blank["answer"] = loss_numpy(value, config)
            blank["text"] = formula_text(value, config.letters)
        else:
            blank["answer"] = numpy_text(value, config)
            sizes = {"n": config.n, "d": config.d, "m": config.m}
            args = ["check", "--convention", config.convention]
            args += [part for k, v in sizes.items() for part in (f"--{k}", str(v))]
            blank["check"] = {
                "variable": var,
                "convention": config.convention,
                **sizes,
                "args": [*args, "--wrt", var],
            }
        if answer.key in choices:  # the options as printed, and the one to tick
            q = choices[answer.key]
            blank["options"] = [
                {
                    "letter": letter,
                    "text": formula_text(node, config.letters),
                    "latex": formula_latex(node, config.letters),
                }
                for letter, node in zip(CHOICE_LETTERS, q.options, strict=False)
            ]
            blank["correct"] = CHOICE_LETTERS[q.correct]
        blanks.append(blank)
    named = {} if sheet.student is None else {"student": sheet.student}
    return {
        **named,  # a roster's sheet: the student it is for
        "config": config.to_dict(),
        "seed": sheet.seed,
        "command": sheet.command(),
        "key_command": sheet.command(answers=True),
        "blanks": blanks,
    }


def sheet_json(sheet: Sheet) -> str:
    """The blanks of ``sheet`` with their answers, as JSON (:func:`sheet_document`)."""
    return _dumps(sheet_document(sheet))


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def roster_key_json(roster: Roster) -> str:
    """The class's answer key as JSON: ``{"sheets": [...]}``, each student's document
    exactly as their own file holds it (:func:`sheet_document`, with ``student``), in
    roster order."""
    return _dumps({"sheets": [sheet_document(s) for s in roster.sheets]})


# -- a class roster: one sheet per student ----------------------------------------------
#: Most names a roster may hold (a lecture hall, not a phone book).
MAX_ROSTER = 2000
#: The class's own files beside the students' sheets (class-key.tex, class-index.csv).
ROSTER_FILES: tuple[str, ...] = ("key", "index")
#: The columns of class-index.csv (:meth:`Roster.index_csv`).
INDEX_COLUMNS: tuple[str, ...] = (
    "name",
    "file",
    "convention",
    "n",
    "d",
    "m",
    "vec",
    "wrt",
    "seed",
    "command",
    "key_command",
)


def student_seed(name: str, salt: int = 0) -> int:
    """The seed of a student's sheet: stable across runs, machines and Python versions.

    The first 8 bytes of SHA-256 of ``"<salt>:<name>"``, the name normalised (NFC,
    whitespace collapsed, case folded) so that "Ada  Lovelace" and "ada lovelace" get the
    same sheet. Python's ``hash()`` would change with every run (hash randomisation).

    >>> student_seed("Ada Lovelace") == student_seed("  ada lovelace ")
    True
    >>> student_seed("Ada Lovelace") == student_seed("Ada Lovelace", salt=1)
    False
    """
    key = " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


#: Separators tried on a roster's first line to find a CSV header with a name column.
CSV_DELIMITERS: tuple[str, ...] = (",", ";", "\t")


#: Column titles of a platform's export: a first line with one of them (and no ``name``
#: column) is a CSV header, not a student (Moodle: First name, Surname, Email address).
OTHER_HEADERS: frozenset[str] = frozenset(
    {
        "email",
        "e-mail",
        "email address",
        "first name",
        "last name",
        "surname",
        "full name",
        "username",
        "user name",
        "student id",
        "id",
    }
)


def _header(first: tuple[int, str], source: str) -> tuple[str, int] | None:
    """(separator, column of ``name``) when the roster's first line is a CSV header with
    a ``name`` column (any case, in quotes or not), else None.

    Raises:
        UsageError: the line is a CSV header without a ``name`` column, which would
            otherwise become a student ("First name,Surname,Email address").
    """
    number, line = first
    split = [
        (
            delimiter,
            [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])],
        )
        for delimiter in CSV_DELIMITERS
    ]
    for delimiter, cells in split:
        folded = [c.casefold() for c in cells]
        if "name" in folded:
            return delimiter, folded.index("name")
    for _, cells in split:
        if len(cells) > 1 and any(c.casefold() in OTHER_HEADERS for c in cells):
            raise UsageError(
                f"{source} line {number} is a CSV header with no column called name "
                f"({', '.join(cells)}); add a name column with each student's name, "
                "or write one name per line"
            )
    return None


def _roster_rows(text: str, source: str) -> list[tuple[int, str]]:
    """(line number, name) of each student in a roster's text.

    A CSV file whose first line is a header with a ``name`` column (an LMS export:
    ``name,email`` then ``"Lovelace, Ada",ada@x``; separated by commas, semicolons or
    tabs) gives that column of each row, quotes read by the csv module; a row with no
    cells is skipped. Any other file gives one name per line, skipping blank lines and
    lines starting with ``#``.

    Raises:
        UsageError: a CSV row with no name in the name column.
    """
    lines = text.splitlines()
    plain = _plain_rows(lines)
    first = plain[0] if plain else (0, "")
    found = _header(first, source)
    if found is None:  # one name per line
        return plain
    delimiter, column = found
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, str]] = []
    try:
        for cells in reader:
            # blank lines and comments before the header, the header, empty rows
            if reader.line_num <= first[0] or not any(c.strip() for c in cells):
                continue
            name = cells[column] if column < len(cells) else ""
            if not name.strip():
                raise UsageError(
                    f"{source} line {reader.line_num}: the name column is empty; "
                    "give every row a name (or remove the row)"
                )
            rows.append((reader.line_num, name))
    except csv.Error as exc:  # an unclosed quote, a NUL byte
        raise UsageError(
            f"{source} line {reader.line_num}: not CSV ({exc}); check its quotes"
        ) from None
    return rows


def _plain_rows(lines: list[str] | tuple[str, ...]) -> list[tuple[int, str]]:
    """(line number, name) of each line that is not blank and not a # comment."""
    return [
        (number, line)
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.strip().startswith("#")
    ]


def parse_roster(text: str, source: str = "the roster") -> tuple[str, ...]:
    """Student names from a roster: one name per line (blank lines and lines starting
    with ``#`` skipped), or the ``name`` column of a CSV file with a header
    (:func:`_roster_rows`).

    Raises:
        UsageError: no names, a name given twice, or more than :data:`MAX_ROSTER`.
    """
    return _checked_names(_roster_rows(text, source), source)


def _checked_names(rows: list[tuple[int, str]], source: str) -> tuple[str, ...]:
    """The names of ``rows`` (line number, name), whitespace collapsed, each checked.

    Raises:
        UsageError: no names, a name given twice, or more than :data:`MAX_ROSTER`.
    """
    names: list[str] = []
    seen: dict[str, int] = {}
    for number, line in rows:
        name = " ".join(line.split())
        if not name.isprintable():
            raise UsageError(
                f"{source} line {number}: the name has a control character; "
                "write one name per line, in plain text"
            )
        key = name.casefold()
        if key in seen:
            raise UsageError(
                f"{source} line {number}: {name!r} is also on line {seen[key]}; "
                "every student needs their own line (add an initial to tell them apart)"
            )
        seen[key] = number
        names.append(name)
        if len(names) > MAX_ROSTER:
            raise UsageError(f"{source} has more than {MAX_ROSTER} names")
    if not names:
        raise UsageError(
            f"{source} names no students; write one name per line "
            "(blank lines and lines starting with # are skipped), or a CSV file with "
            "a name column"
        )
    return tuple(names)


def read_roster(path: str) -> tuple[str, ...]:
    """The names in the roster file ``path`` (UTF-8, see :func:`parse_roster`).

    Raises:
        UsageError: the file cannot be read, is not UTF-8 text, or names no students.
    """
    shown = f"--roster {os.fspath(path)!r}"
    text = read_text(path, shown, "a file of names", "one name per line", 1_000_000)
    return parse_roster(text, shown)


@dataclass(frozen=True)
class Roster:
    """One sheet per student, each drawn from :func:`student_seed` of the name.

    Attributes:
        names: the students, in roster order.
        sheets: their sheets, in the same order.
        salt: mixed into every seed (a new term's sheets differ from the last).
    """

    names: tuple[str, ...]
    sheets: tuple[Sheet, ...]
    salt: int = 0

    def slugs(self) -> tuple[str, ...]:
        """A file-name part per student (``ada-lovelace``), unique within the roster:
        ``student-3`` for the third name when it has no Latin letters (李小龙), and never
        ``key`` or ``index``, the class's own files (:data:`ROSTER_FILES`)."""
        out: list[str] = []
        taken: set[str] = set(ROSTER_FILES)
        for number, name in enumerate(self.names, start=1):
            base = _slug(name) or f"student-{number}"
            slug, k = base, 2
            while slug in taken:
                slug, k = f"{base}-{k}", k + 1
            taken.add(slug)
            out.append(slug)
        return tuple(out)

    def index_csv(self, files: list[str]) -> str:
        """Who gets which file and which layer, as CSV (UTF-8), a row per student:
        :data:`INDEX_COLUMNS`, i.e. the name as written in the roster, their sheet's
        file, the layer (``convention``, ``n``, ``d``, ``m``, ``vec``, ``wrt`` as
        comma-separated roles X,W,b), the sheet's ``seed`` and the ``command`` and
        ``key_command`` that print that sheet and its key again. ``convention``, ``n``,
        ``d``, ``m`` and a variable of ``wrt`` are the columns of a ``symderiv check
        --batch`` file."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(INDEX_COLUMNS)
        for name, file, sheet in zip(self.names, files, self.sheets, strict=True):
            c = sheet.config
            layer = [c.convention, c.n, c.d, c.m, c.vec, ",".join(c.wrt)]
            commands = [sheet.command(), sheet.command(answers=True)]
            writer.writerow([name, file, *layer, sheet.seed, *commands])
        return out.getvalue()


def _slug(name: str) -> str:
    """``"Ada Lovelace"`` -> ``"ada-lovelace"``: ASCII letters and digits only."""
    flat = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in flat.lower()).split()
    return "-".join(words)[:40].strip("-")


def make_roster(
    names: tuple[str, ...] | list[str],
    *,
    salt: int = 0,
    kinds: str | tuple[str, ...] | None = None,
    **options: Any,
) -> Roster:
    """A sheet for every student: a layer and blanks drawn from the name's seed.

    ``options`` are :func:`make_sheet`'s (n, d, m, convention, vec, wrt, loss): those
    given fix that choice for the whole class; everything else differs from student to
    student, and a student's sheet is the same on every run. Without ``kinds`` a student
    answers the step-by-step exercise and the index-notation blanks
    (:data:`ROSTER_KINDS`).

    Raises:
        SymderivError: no names, or a bad option.
    """
    # names as given, never read as CSV again ("Name" or "Lovelace, Ada" stay names)
    names = _checked_names(_plain_rows(list(names)), "the roster")
    kinds = ROSTER_KINDS if kinds is None else kinds
    sheets = tuple(
        replace(
            make_sheet(seed=student_seed(name, salt), kinds=kinds, **options),
            student=name,
        )
        for name in names
    )
    return Roster(tuple(names), sheets, salt)


__all__ = [
    "KINDS",
    "MAX_SIZE",
    "ROSTER_KINDS",
    "Answer",
    "IndexQuestion",
    "Exercise",
    "Roster",
    "Sheet",
    "make_roster",
    "make_sheet",
    "parse_roster",
    "read_roster",
    "sheet_json",
    "student_seed",
]
