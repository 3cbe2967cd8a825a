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
certificate. :func:`sheet_latex` and :func:`sheet_markdown` print either version.

>>> sheet = make_sheet(n=1, d=2, m=1, wrt="W")
>>> [a.key for a in sheet.answers()][:3]
['W.rows', 'W.cols', 'W.jacobian.1.1']
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .algebra import Poly, PolyMatrix
from .conventions import (
    CONVENTIONS,
    VARIABLES,
    VEC_ORDERS,
    Config,
    Letters,
    check_size,
    parse_wrt,
)
from .errors import ShapeError
from .notation import Deriv, Jac, Node, Prod, Sym, T

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


#: Kinds of question: the step-by-step exercise (today's sheet), the shapes only, and a
#: multiple choice among look-alike formulas. ``--loss mse`` adds the loss's own question.
KINDS: tuple[str, ...] = ("steps", "shapes", "choice")


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
        out: list[Answer] = []
        for k, (_, rows, cols) in enumerate(self.items, start=1):
            out += [
                Answer(f"{self.var}.shape_rows.{k}", rows),
                Answer(f"{self.var}.shape_cols.{k}", cols),
            ]
        return out


@dataclass(frozen=True)
class ChoiceQuestion:
    """Which formula is ∂L/∂V? The closed form among look-alikes (dY·Wᵀ, Wᵀ·dY, dYᵀ·W).

    Attributes:
        var: X, W or b.
        options: the formulas in the order printed (a, b, c, d).
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


Question = ShapesQuestion | ChoiceQuestion | LossQuestion


def _flip(node: Node) -> Node:
    """Nᵀ, with (Nᵀ)ᵀ = N."""
    return node.arg if isinstance(node, T) else T(node)


def look_alikes(closed: Node) -> tuple[Node, ...]:
    """Three formulas a student confuses with the closed form A·B: B·A, Aᵀ·Bᵀ and A·Bᵀ
    (dY·Wᵀ gives Wᵀ·dY, dYᵀ·W and dY·W), never equal to it as written.

    >>> from symderiv.notation import Sym
    >>> [type(n).__name__ for n in look_alikes(Prod(Sym("dY"), T(Sym("W"))))]
    ['Prod', 'Prod', 'Prod']
    """
    if not isinstance(closed, Prod) or len(closed.args) != 2:
        raise ValueError("a look-alike needs a product of two factors")
    a, b = closed.args
    out: list[Node] = []
    for cand in (Prod(b, a), Prod(_flip(a), _flip(b)), Prod(a, _flip(b))):
        if cand != closed and cand not in out:
            out.append(cand)
    return tuple(out)


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
    """The closed form of ∂L/∂V (in the layout asked) and three look-alikes, shuffled."""
    closed = derivation.results[var].closed_form
    options = [closed, *look_alikes(closed)]
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
    for var in derivation.config.wrt:
        if "shapes" in kinds:
            out.append(question_shapes(derivation, var))
        if "choice" in kinds:
            out.append(question_choice(derivation, var, rng))
    return tuple(out)


def parse_kinds(text: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"shapes,choice"`` -> ("shapes", "choice") in :data:`KINDS` order.

    Raises:
        ChoiceError: empty, unknown or repeated kinds.
    """
    from .errors import ChoiceError

    if text is None:
        return ("steps",)
    items = (
        [k.strip() for k in text.split(",")] if isinstance(text, str) else list(text)
    )
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
    kinds: str | tuple[str, ...] | None = None,
    loss: str = "generic",
) -> Sheet:
    """Choose the layer and the blanks, derive, and return the sheet.

    ``kinds`` picks the questions (:data:`KINDS`, default the step-by-step exercise
    only); ``loss="mse"`` adds the loss's own question (∂L/∂y_ij and dY = (Y − T)/N).

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
    chosen_kinds = parse_kinds(kinds)
    config = Config(
        loss=loss,
        **{
            key: value
            if value is not None
            else (defaults if seed is None else drawn)[key]
            for key, value in given.items()
        },
    )
    derivation = derive(config)
    exercises = tuple(_blanks(rng, derivation, var) for var in config.wrt)
    if "steps" not in chosen_kinds:
        exercises = ()
    extras = extra_questions(derivation, chosen_kinds, seed)
    return Sheet(config, seed, derivation, exercises, extras=extras, kinds=chosen_kinds)


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


# -- printing: LaTeX and Markdown from the same walk -------------------------------------------
class _Printer:
    """Prints a sheet; ``answers`` fills the blanks, ``markdown`` targets MathJax."""

    def __init__(self, sheet: Sheet, answers: bool, markdown: bool) -> None:
        self.sheet = sheet
        self.answers = answers
        self.markdown = markdown
        self.letters: Letters = sheet.config.letters

    # blanks and answers
    def blank(self, tex: str, size: str = "short") -> str:
        """A box to fill in, or (answer key) the box filled with ``tex``.

        ``size`` is "short" (one symbol), "medium" (a sum inside a matrix) or "long" (a
        formula on its own line): the same for every blank of a task, so that the size
        of a box does not give its answer away.
        """
        if self.answers:
            if self.markdown:
                return rf"\boxed{{\color{{blue}}{{{tex}}}}}"
            return rf"\sdanswer{{{tex}}}"
        if self.markdown:
            room = {
                "short": r"\phantom{00}",
                "medium": r"\phantom{00}\qquad\quad",
                "long": r"\phantom{00}\qquad\qquad\qquad\qquad",
            }
            return rf"\boxed{{{room[size]}}}"
        return {
            "short": r"\sdblank",
            "medium": r"\sdmidblank",
            "long": r"\sdlongblank",
        }[size]

    def entry(self, poly: Poly) -> str:
        return answer_tex(Answer("", poly), self.letters)

    def formula(self, node: Node) -> str:
        from .render.formula import formula_latex

        return formula_latex(node, self.letters)

    def matrix(
        self,
        matrix: PolyMatrix,
        blanks: tuple[tuple[int, int], ...],
        size: str = "short",
    ) -> str:
        """A bmatrix, one row per source line, with the blank entries boxed."""
        holes = set(blanks)
        lines = [r"\begin{bmatrix}"]
        for i in range(matrix.rows):
            cells = []
            for j in range(matrix.cols):
                tex = self.entry(matrix[i, j])
                cells.append(self.blank(tex, size) if (i, j) in holes else tex)
            end = r" \\" if i < matrix.rows - 1 else ""
            lines.append(" & ".join(cells) + end)
        lines.append(r"\end{bmatrix}")
        return "\n".join(lines)

    def display(self, tex: str) -> str:
        if self.markdown:
            return f"$$\n{tex}\n$$"
        return f"\\[\n\\sdfit{{{tex}}}\n\\]"

    def inline(self, tex: str) -> str:
        return f"${tex}$"

    def text(self, words: str) -> str:
        if self.markdown:
            return words
        from .render.latex import latex_escape

        return latex_escape(words)

    # the sheet
    def given(self) -> list[str]:
        """The layer: its formula, sizes, matrices and the vec order."""
        from .render.latex import latex_matrix

        c, d = self.sheet.config, self.sheet.derivation
        conv = c.conv
        sizes = conv.sizes
        y = self.letters.entry("Y")
        forward = self.formula(conv.forward())
        shapes = ", ".join(
            f"{self.formula(Sym(r))} \\in \\mathbb{{R}}^{{{a} \\times {b}}}"
            for r in ("X", "W", "b")
            for a, b in [c.shape(r)]
        )
        order = (
            "row order: vec stacks the rows, as NumPy's reshape(-1) does"
            if c.vec == "row"
            else "column order: vec stacks the columns (the textbook vec)"
        )
        names = f"{sizes[0]} = {c.n}, {sizes[1]} = {c.d}, {sizes[2]} = {c.m}"
        out = [
            self.text(
                f"The layer computes, in the {conv.name} convention ({conv.source}),"
            )
            + " "
            + self.inline(f"{self.formula(Sym('Y'))} = {forward}")
            + self.text(f" with {names}: ")
            + self.inline(shapes)
            + self.text(". Every entry is its own symbol:"),
            self.display(
                r",\quad ".join(
                    f"{self.formula(Sym(r))} = {latex_matrix(d.layer.matrix(r), self.letters)}"
                    for r in ("X", "W", "b")
                )
            ),
            self.text("The upstream derivatives are given as symbols; write ")
            + self.inline(rf"\bar{{{y}}}_{{i,j}} = \partial L / \partial {y}_{{i,j}}")
            + self.text(":"),
            self.display(
                f"{self.formula(Sym('dY'))} = {self.formula(Deriv('L', 'Y'))} = "
                + latex_matrix(
                    d.upstream, self.letters, max_entries=MAX_SIZE, upstream="bar"
                )
            ),
            self.text(
                f"Vectors use the {order}; the Jacobians are taken in that order and in "
                "denominator layout (the derivative by a matrix has that matrix's shape):"
            ),
            self.display(
                rf"\operatorname{{vec}}({self.formula(Sym('Y'))}) = "
                + self.vector(d.layer.outputs.vec(c.vec))
            ),
        ]
        return out

    def vector(self, entries: list[Poly]) -> str:
        """A column vector written as a transposed row: (a, b, c)ᵀ."""
        inner = r",\; ".join(self.entry(p) for p in entries)
        return rf"\bigl({inner}\bigr)^{{T}}"

    def exercise(self, number: int, ex: Exercise) -> list[str]:
        c, d = self.sheet.config, self.sheet.derivation
        result = d.results[ex.var]
        v = ex.var
        lv = self.formula(Sym(v))
        rows, cols = result.jacobian.shape
        vec_v = d.layer.matrix(v).vec(c.vec)
        entry = vec_v[ex.chain_column]
        entry_tex = self.entry(entry)
        jac_lhs = self.formula(Deriv("Y", v, vec=True))
        small = self.letters.entry(v)
        chain_lhs = rf"\frac{{\partial L}}{{\partial {entry_tex}}}"
        chain_tex = self.entry(chain_entry(self.sheet, ex))
        shape = f"{self.blank(str(rows))} \\times {self.blank(str(cols))}"
        items = [
            (
                "a",
                self.text("The Jacobian ")
                + self.inline(f"J_y({small}) = {jac_lhs}")
                + self.text(
                    " has one row per entry of vec(Y) and one column per entry of "
                )
                + self.inline(rf"\operatorname{{vec}}({lv})")
                + self.text(", here")
                + "\n\n"
                + self.display(rf"\operatorname{{vec}}({lv}) = {self.vector(vec_v)}")
                + "\n\n"
                + self.text("Its shape is ")
                + self.inline(shape)
                + self.text(". Fill in the blank entries:"),
                self.display(
                    f"{jac_lhs} = {self.matrix(result.jacobian, ex.jacobian_blanks)}"
                ),
            ),
            (
                "b",
                self.text("The chain rule gives the row ")
                + self.inline(f"J_L({small}) = J_h(y) \\, J_y({small})")
                + self.text(f"; its entry {ex.chain_column + 1} is ")
                + self.inline(chain_lhs)
                + self.text(
                    ". Write it out as a sum over the outputs, keeping only the nonzero "
                    "terms:"
                ),
                self.display(f"{chain_lhs} = {self.blank(chain_tex, 'long')}"),
            ),
            (
                "c",
                self.text("Put the entries of ")
                + self.inline(f"J_L({small})")
                + self.text(" back in the shape of ")
                + self.inline(lv)
                + self.text(" (undo vec) and fill in the blanks:"),
                self.display(
                    f"{self.formula(Deriv('L', v))} = "
                    f"{self.matrix(result.derivative, ex.derivative_blanks, 'medium')}"
                ),
            ),
            (
                "d",
                self.text(
                    "Which product of the layer's matrices is this? Give the closed "
                    "form:"
                ),  # fmt: skip
                self.display(
                    f"{self.formula(Deriv('L', v))} = "
                    f"{self.blank(self.formula(result.closed_form), 'long')}"
                ),
            ),
        ]
        what = {"X": "the input", "W": "the weights", "b": "the bias"}[v]
        title = f"Exercise {number}: the derivative by {what}"
        if self.markdown:
            out = [f"## {title} ${lv}$", ""]
            for label, words, math in items:
                out += [f"**({label})** {words}", "", math, ""]
            return out
        out = [rf"\subsection*{{{self.text(title)} ${lv}$}}", r"\begin{enumerate}"]
        for label, words, math in items:
            out += [rf"\item[({label})] {words}", math]
        out.append(r"\end{enumerate}")
        return out

    # questions beyond the step-by-step exercise (--kind, --loss mse)
    def question(self, number: int, q: Question) -> list[str]:
        """A shapes, multiple-choice or loss question, as its lines."""
        c = self.sheet.config
        items: list[tuple[str, str, str]] = []
        if isinstance(q, ShapesQuestion):
            lv = self.formula(Sym(q.var))
            what = {"X": "the input", "W": "the weights", "b": "the bias"}[q.var]
            title = f"Exercise {number}: shapes, for the derivative by {what}"
            lines = [
                rf"{self.formula(node)} &:\quad "
                rf"{self.blank(str(rows))} \times {self.blank(str(cols))}"
                for node, rows, cols in q.items
            ]
            items.append(
                (
                    "a",
                    self.text(
                        "Give the shape (rows × columns) of each object in the "
                        "derivative by "
                    )
                    + self.inline(lv)
                    + self.text(", at the sizes of this sheet:"),
                    self.display(
                        "\\begin{aligned}\n"
                        + " \\\\\n".join(lines)
                        + "\n\\end{aligned}"
                    ),
                )
            )
        elif isinstance(q, ChoiceQuestion):
            lv = self.formula(Sym(q.var))
            what = {"X": "the input", "W": "the weights", "b": "the bias"}[q.var]
            title = f"Exercise {number}: which formula, for the derivative by {what}"
            layout = (
                "the shape of its transpose (numerator layout)"
                if c.layout == "numerator"
                else "the shape of the variable (denominator layout)"
            )
            options = []
            for k, node in enumerate(q.options):
                box = (
                    self.blank(r"\checkmark")
                    if (self.answers and k == q.correct)
                    else r"\square"
                )
                options.append(rf"({'abcd'[k]})\; {box}\; {self.formula(node)}")
            items.append(
                (
                    "a",
                    self.text("Exactly one of these is ")
                    + self.inline(self.formula(Deriv("L", q.var)))
                    + self.text(f", written in {layout}. Tick it:"),
                    self.display("\\qquad ".join(options)),
                )
            )
        else:
            y, t = self.letters.entry("Y"), self.letters.entry("T")
            n = c.size_names[0]
            i, j = q.at
            entry = f"{y}_{{{i + 1},{j + 1}}}"
            title = f"Exercise {number}: the loss"
            items.append(
                (
                    "a",
                    self.text("The loss is the mean squared error against the targets ")
                    + self.inline(
                        f"{self.formula(Sym('T'))}"
                        rf" = \bigl[{t}_{{i,j}}\bigr]"
                    )
                    + self.text(", the values the outputs should take:"),
                    self.display(
                        rf"L = \frac{{1}}{{2{n}}} \sum_{{i=1}}^{{{n}}} "
                        rf"\lVert {y}_{{i}} - {t}_{{i}} \rVert^{{2}}"
                    ),
                ),
            )
            items.append(
                (
                    "b",
                    self.text("Differentiate L by one output entry:"),
                    self.display(
                        rf"\frac{{\partial L}}{{\partial {entry}}} = "
                        f"{self.blank(self.entry(q.entry), 'long')}"
                    ),
                )
            )
            items.append(
                (
                    "c",
                    self.text(
                        "and write the whole upstream derivative as one formula:"
                    ),
                    self.display(
                        f"{self.formula(Sym('dY'))} = "
                        f"{self.blank(self.formula(q.formula), 'long')}"
                    ),
                )
            )
        if self.markdown:
            out = [f"## {title}", ""]
            for label, words, math in items:
                out += [f"**({label})** {words}", "", math, ""]
            return out
        out = [rf"\subsection*{{{self.text(title)}}}", r"\begin{enumerate}"]
        for label, words, math in items:
            out += [rf"\item[({label})] {words}", math]
        out.append(r"\end{enumerate}")
        return out


#: The sheet's own LaTeX macros: blanks of three sizes and the answer box.
SHEET_MACROS: tuple[str, ...] = (
    r"\usepackage{xcolor}",
    r"\newcommand{\sdblank}{\boxed{\vphantom{x_{1}}\hspace{1.8em}}}",
    r"\newcommand{\sdmidblank}{\boxed{\vphantom{x_{1}}\hspace{7em}}}",
    r"\newcommand{\sdlongblank}{\boxed{\vphantom{\dfrac{1}{2}}\hspace{14em}}}",
    r"\newcommand{\sdanswer}[1]{\fbox{$\color{blue!60!black}#1$}}",
    r"\setlength{\parindent}{0pt}",
    r"\setlength{\parskip}{0.6em}",
)


def sheet_latex(sheet: Sheet, answers: bool = False) -> str:
    """The sheet (or, with ``answers``, its key) as a standalone LaTeX article."""
    from .render.latex import latex_escape, latex_preamble, max_matrix_cols

    p = _Printer(sheet, answers, markdown=False)
    body: list[str] = []
    for para in p.given():
        body += [para, ""]
    for k, ex in enumerate(sheet.exercises, start=1):
        body += p.exercise(k, ex)
        body.append("")
    for k, q in enumerate(sheet.extras, start=len(sheet.exercises) + 1):
        body += p.question(k, q)
        body.append("")
    body_tex = "\n".join(body)
    title = "Answer key" if answers else "Exercise sheet"
    if sheet.student is not None:
        title += f" for {latex_escape(sheet.student)}"
    preamble = latex_preamble(
        max_matrix_cols=max_matrix_cols(body_tex), tikz=False, extra=SHEET_MACROS
    )
    lines = [
        preamble,
        r"\begin{document}",
        rf"\section*{{{title}: backpropagation through an affine layer}}",
        body_tex,
        r"\vfill",
        r"{\small\raggedright "
        + p.text(
            (
                "Answers filled in from the derivation; reproduce with: "
                if answers
                else "Made with: "
            )  # fmt: skip
            + sheet.command(answers)
        )
        + r"\par}",
        r"\end{document}",
        "",
    ]
    return "\n".join(lines)


def sheet_markdown(sheet: Sheet, answers: bool = False) -> str:
    """The sheet (or its key) as Markdown with $…$ and $$…$$ maths."""
    p = _Printer(sheet, answers, markdown=True)
    title = "Answer key" if answers else "Exercise sheet"
    if sheet.student is not None:
        title += f" for {sheet.student}"
    lines = [f"# {title}: backpropagation through an affine layer", ""]
    for para in p.given():
        lines += [para, ""]
    for k, ex in enumerate(sheet.exercises, start=1):
        lines += p.exercise(k, ex)
    for k, q in enumerate(sheet.extras, start=len(sheet.exercises) + 1):
        lines += p.question(k, q)
    how = (
        "Answers filled in from the derivation; reproduce with"
        if answers
        else "Made with"
    )
    lines += [f"_{how}: `{sheet.command(answers)}`_", ""]
    return "\n".join(lines)


def answer_tex(answer: Answer, letters: Letters) -> str:
    """How an answer is printed in the key (the LaTeX inside its box)."""
    from .render.formula import formula_latex
    from .render.latex import latex_entry

    value: Any = answer.value
    if isinstance(value, Poly):
        # ∂L/∂y_{i,j} is written ȳ_{i,j}: sums of products stay on one line.
        return latex_entry(
            value, letters, max_terms=10**6, upstream="bar", dfrac=False
        ).tex
    if isinstance(value, int):
        return str(value)
    return formula_latex(value, letters)


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

    from .check import readable
    from .formula import numpy_text

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
        elif var not in config.wrt:  # dY = (Y − T)/N: not a derivative check grades
            from .render.formula import formula_text

            blank["answer"] = formula_text(value, config.letters)
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


# -- a class roster: one sheet per student ----------------------------------------------
#: Most names a roster may hold (a lecture hall, not a phone book).
MAX_ROSTER = 2000


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
    import hashlib
    import unicodedata

    key = " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def parse_roster(text: str, source: str = "the roster") -> tuple[str, ...]:
    """Student names from a roster: one name per line; blank lines and lines starting
    with ``#`` are skipped.

    Raises:
        UsageError: no names, a name given twice, or more than :data:`MAX_ROSTER`.
    """
    from .errors import UsageError

    names: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name = " ".join(line.split())
        if not name or name.startswith("#"):
            continue
        if any(not c.isprintable() for c in name):
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
            "(blank lines and lines starting with # are skipped)"
        )
    return tuple(names)


def read_roster(path: str) -> tuple[str, ...]:
    """The names in the roster file ``path`` (UTF-8, see :func:`parse_roster`).

    Raises:
        UsageError: the file cannot be read, is not UTF-8 text, or names no students.
    """
    import os

    from .errors import UsageError

    shown = repr(os.fspath(path))
    try:
        if os.path.isdir(path):
            raise UsageError(f"--roster {shown} is a folder; give a file of names")
        with open(path, "rb") as f:
            data = f.read(1_000_001)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise UsageError(f"--roster {shown} cannot be read: {reason}") from None
    if len(data) > 1_000_000:
        raise UsageError(f"--roster {shown} is larger than 1 MB; one name per line")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f"--roster {shown} is not UTF-8 text; save it as UTF-8, one name per line"
        ) from None
    return parse_roster(text, f"--roster {shown}")


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
        """A file-name part per student (``ada-lovelace``), unique within the roster."""
        out: list[str] = []
        taken: set[str] = set()
        for name in self.names:
            base = _slug(name) or "student"
            slug, k = base, 2
            while slug in taken:
                slug, k = f"{base}-{k}", k + 1
            taken.add(slug)
            out.append(slug)
        return tuple(out)


def _slug(name: str) -> str:
    """``"Ada Lovelace"`` -> ``"ada-lovelace"``: ASCII letters and digits only."""
    import unicodedata

    flat = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in flat.lower()).split()
    return "-".join(words)[:40].strip("-")


def make_roster(
    names: tuple[str, ...] | list[str],
    *,
    salt: int = 0,
    n: int | None = None,
    d: int | None = None,
    m: int | None = None,
    convention: str | None = None,
    vec: str | None = None,
    wrt: str | tuple[str, ...] | None = None,
    kinds: str | tuple[str, ...] | None = None,
    loss: str = "generic",
) -> Roster:
    """A sheet for every student: a layer and blanks drawn from the name's seed.

    Options given fix that choice for the whole class; everything else differs from
    student to student, and a student's sheet is the same on every run.

    Raises:
        SymderivError: no names, or a bad option.
    """
    names = parse_roster("\n".join(names)) if names else parse_roster("")
    sheets = tuple(
        replace(
            make_sheet(
                n,
                d,
                m,
                convention=convention,
                vec=vec,
                wrt=wrt,
                seed=student_seed(name, salt),
                kinds=kinds,
                loss=loss,
            ),
            student=name,
        )
        for name in names
    )
    return Roster(tuple(names), sheets, salt)


def roster_key_latex(roster: Roster) -> str:
    """One answer key for the whole class: each student's key on its own page."""
    from .render.latex import latex_preamble, max_matrix_cols

    parts: list[str] = []
    for sheet in roster.sheets:
        # each student's key, as its own document prints it, one page apart
        doc = sheet_latex(sheet, answers=True)
        body = doc.partition("\\begin{document}\n")[2].partition("\\end{document}")[0]
        parts.append(body.rstrip())
    body_tex = "\n\\clearpage\n".join(parts)
    preamble = latex_preamble(
        max_matrix_cols=max_matrix_cols(body_tex), tikz=False, extra=SHEET_MACROS
    )
    return "\n".join([preamble, "\\begin{document}", body_tex, "\\end{document}", ""])


def roster_key_markdown(roster: Roster) -> str:
    """One answer key for the whole class, a section per student."""
    out: list[str] = []
    for sheet in roster.sheets:
        out += [sheet_markdown(sheet, answers=True).strip(), "", "---", ""]
    return "\n".join(out[:-2]) + "\n"


__all__ = [
    "MAX_SIZE",
    "Answer",
    "Exercise",
    "Roster",
    "Sheet",
    "answer_tex",
    "make_roster",
    "make_sheet",
    "parse_roster",
    "read_roster",
    "roster_key_latex",
    "roster_key_markdown",
    "sheet_json",
    "student_seed",
    "sheet_latex",
    "sheet_markdown",
]
