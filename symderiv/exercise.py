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
from .notation import Deriv, Node, Sym

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
    #: The student the sheet is for (``--roster``), printed in its title.
    student: str | None = None

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
        forward = self.formula(conv.forward(c.n))
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
        r"{\small "
        + p.text(
            (
                "Answers filled in from the derivation; reproduce with: "
                if answers
                else "Made with: "
            )  # fmt: skip
            + sheet.command(answers)
        )
        + "}",
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
    "student_seed",
    "sheet_latex",
    "sheet_markdown",
]
