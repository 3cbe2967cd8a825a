"""LaTeX: a standalone article (or a fragment) with the whole derivation, and reusable helpers.

The printer walks the same steps as every other format. Explicit matrices are drawn by
:func:`latex_matrix` (elided past ``max_entries`` rows and columns and past ``max_terms``
terms per entry, display only), formulas by ``formula_latex``, sympy leaves by
``sympy.latex``, and each Jacobian gets a TikZ picture of its sparsity and Kronecker blocks
(:func:`latex_sparsity`). The article compiles with pdflatex at every size without errors
and without overfull boxes:

* ``MaxMatrixCols`` is set to the widest matrix of the document (amsmath stops at 10);
* every matrix row sits on its own source line (TeX reads a source line into a buffer);
* each display goes through ``\\sdfit``, which scales it down to the line width (and, on
  slides, to a height) only when it would not fit; the printer first elides columns and
  terms so that scaling stays mild;
* a 1×K row that is too wide for one line is broken over several lines.

Nothing a user types reaches LaTeX unchecked: display letters are validated by
``conventions.parse_names`` (a letter, then letters or digits); everything else interpolated
here is a number or text written by symderiv, escaped by :func:`latex_escape`.

Helpers meant for reuse (exercise sheets, slides): :func:`latex_preamble`,
:func:`latex_macros`, :func:`latex_matrix`, :func:`latex_entry`, :func:`latex_sparsity`,
:func:`latex_escape`, :func:`prose_segments`, :func:`segments_latex`,
:func:`equation_latex`, :func:`max_matrix_cols`.

>>> from symderiv.algebra import PolyMatrix
>>> from symderiv.conventions import Letters
>>> print(latex_matrix(PolyMatrix.of_atoms("X", 1, 2), Letters()))
\\begin{bmatrix}
x_{1,1} & x_{1,2}
\\end{bmatrix}
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, ClassVar

from .. import __version__
from ..algebra import Poly, PolyMatrix
from ..conventions import Config, Letters, split_entry
from ..notation import (
    Deriv,
    Equation,
    Explicit,
    Expr,
    Eye,
    Node,
    Ones,
    Prod,
    Sym,
    T,
    Text,
    shape,
)
from ..steps import Derivation, Step, StepKind
from .base import Renderer
from .code import numpy_lines
from .formula import formula_latex
from .names import latex_name

#: At most this many rows and columns of a matrix are shown (then \cdots \vdots \ddots).
DEFAULT_MAX_ENTRIES = 12
#: A polynomial entry with more terms shows its first ones, \cdots and its last.
DEFAULT_MAX_TERMS = 4
#: Estimated width of the text block, in em of the body font (article: 16 cm at 11 pt).
ARTICLE_WIDTH_EM = 41.0
#: Displays estimated wider than width/MIN_SCALE lose columns or terms before TeX scales.
MIN_SCALE = 0.75
#: An equation breaks into lines only when wider than its budget/LINE_OVERRUN.
LINE_OVERRUN = 0.85
#: A Jacobian's sparsity picture is at most this many cells across (larger ones are binned).
SPARSITY_MAX_CELLS = 256

Segment = tuple[str, str]  # (kind, content), kind in {"text", "math", "code"}


# =============================================================================================
# Text: escaping and prose with mathematics
# =============================================================================================
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\ensuremath{\$}",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': "''",
    "—": "---",
    "–": "--",
    "…": r"\dots{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "✓": r"\sdyes{}",
    "✗": r"\sdno{}",
    "\u00a0": "~",
}
#: Accented letters that pdflatex's utf8 input handles in the default (OT1) font encoding.
_SAFE_LATIN = set("áàâäãåéèêëíìîïóòôöõúùûüçñýÿÁÀÂÄÃÅÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÇÑÝßæÆøØœŒ")
#: Unicode mathematics in symderiv's plain-text notes, and its LaTeX.
_MATH_MAP = {
    "∂": r"\partial ",
    "ᵀ": "^{T}",
    "⊗": r"\otimes ",
    "Σ": r"\sum",
    "∇": r"\nabla ",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "×": r"\times ",
    "−": "-",
    "²": "^{2}",
    "∈": r"\in ",
    "ℝ": r"\mathbb{R}",
    "⋯": r"\cdots ",
    "…": r"\dots ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "≈": r"\approx ",
    "→": r"\to ",
    "↦": r"\mapsto ",
    "∘": r"\circ ",
    "*": r"\cdot ",
    "δ": r"\delta ",
    "α": r"\alpha ",
    "β": r"\beta ",
    "η": r"\eta ",
    "λ": r"\lambda ",
    "σ": r"\sigma ",
    "ε": r"\varepsilon ",
}
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUBSCRIPT_DIGITS_SET = set("₀₁₂₃₄₅₆₇₈₉")
_MATH_TRIGGERS = set(_MATH_MAP) - {"*", "…"} | set("_₀₁₂₃₄₅₆₇₈₉")
_OPERATORS = {
    "=",
    "×",
    "+",
    "−",
    "-",
    "·",
    "⊗",
    "≤",
    "≥",
    "≠",
    "≈",
    "→",
    "∈",
    "<",
    ">",
    "↦",
}
#: Single letters that are mathematics in symderiv's notes (indices, sizes, the loss).
_MATH_LETTERS = {"i", "j", "k", "l", "h", "r", "v", "N", "D", "M", "L", "K"}
_CODE_RE = re.compile(
    r"\(?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w+)+\)?|\(?[A-Za-z_]\w*\([^()]*\)\)?"
)
_NUMBER_RE = re.compile(r"\(?-?\d+(?:[./]\d+)?\)?")
_ENTRY_RE = re.compile(r"(?<![A-Za-z\\])(dy|x|w|b|y|t)_(\d+)(?:_(\d+))?(?![A-Za-z0-9])")
_SUBSCRIPTS_RE = re.compile(r"((?:_[A-Za-z0-9]+)+)")
_UNICODE_SUB_RE = re.compile(r"([₀₁₂₃₄₅₆₇₈₉]+(?:,[₀₁₂₃₄₅₆₇₈₉]+)*)")


def latex_escape(text: str) -> str:
    """Plain text for LaTeX's text mode: special characters escaped, nothing interpreted.

    Characters pdflatex cannot print in its default font encoding become ``[U+XXXX]``.

    >>> latex_escape("50% of x_1 & {y}")
    '50\\\\% of x\\\\_1 \\\\& \\\\{y\\\\}'
    """
    out: list[str] = []
    for ch in text:
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch.isascii() or ch in _SAFE_LATIN:
            out.append(ch if ch.isprintable() or ch in "\n" else " ")
        elif ch in _MATH_MAP:
            out.append(f"${_MATH_MAP[ch].strip()}$")
        elif ch in _SUBSCRIPT_DIGITS_SET:
            out.append(f"$_{{{ch.translate(_SUBSCRIPT_DIGITS)}}}$")
        else:
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in tex:
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
    return depth == 0


def math_latex(text: str, letters: Letters | None = None) -> str | None:
    """A piece of plain-text mathematics (``∂L/∂y_ij``, ``I_2 ⊗ Wᵀ``) as LaTeX math.

    Canonical entry names (``x_1_12``) print as their display names. Returns None when
    the text holds characters that have no business in a formula (then treat it as text).

    >>> math_latex("∂L/∂y_ij")
    '\\\\partial L/\\\\partial y_{ij}'
    >>> math_latex("x_1_12*w_12_1")
    'x_{1,12}\\\\cdot w_{12,1}'
    """
    if any(ch in "#$%&~\\@`\"'" for ch in text) or not _balanced(text):
        return None
    if any(
        not ch.isascii()
        and ch not in _MATH_MAP
        and ch not in _SUBSCRIPT_DIGITS_SET
        and ch != "‖"
        for ch in text
    ):
        return None
    letters = letters or Letters()
    placeholders: list[str] = []

    def hold(tex: str) -> str:
        # A private-use character stands for finished LaTeX until the end.
        placeholders.append(tex)
        return chr(0xE000 + len(placeholders) - 1)

    s = re.sub(r"(?<![A-Za-z0-9_])1(?=_)", lambda m: hold(r"\mathbf{1}"), text)
    s = _ENTRY_RE.sub(
        lambda m: hold(
            latex_name("_".join(g for g in m.groups() if g is not None), letters)
        ),
        s,
    )
    s = re.sub(r"\bvec\(", lambda m: hold(r"\operatorname{vec}("), s)
    s = _UNICODE_SUB_RE.sub(lambda m: "_" + m.group(1).translate(_SUBSCRIPT_DIGITS), s)

    def subscripts(m: re.Match[str]) -> str:
        parts = [p for p in m.group(1).split("_") if p]
        if len(parts) == 1 and parts[0] in ("in", "out"):
            return hold(rf"_{{\mathrm{{{parts[0]}}}}}")
        return hold("_{" + ",".join(parts) + "}")

    s = _SUBSCRIPTS_RE.sub(subscripts, s)
    out: list[str] = []
    bars = 0
    for ch in s:
        if ch == "‖":
            out.append(r"\lVert " if bars % 2 == 0 else r"\rVert ")
            bars += 1
        else:
            out.append(_MATH_MAP.get(ch, ch))
    tex = "".join(out)
    tex = re.sub(
        "[\ue000-\uf8ff]", lambda m: placeholders[ord(m.group(0)) - 0xE000], tex
    )
    tex = re.sub(r" +", " ", tex).strip()
    tex = re.sub(r"(\d+)/\(([^()]*)\)", r"\\frac{\1}{\2}", tex)
    # A script needs an argument, and a base takes one subscript and one superscript.
    if re.search(r"[_^](?![{A-Za-z0-9\\])", tex) or re.search(
        r"_(\{[^{}]*\}|\w)\s*_|\^(\{[^{}]*\}|\w)\s*\^", tex
    ):
        return None
    return tex if _balanced(tex) else None


def _classify(core: str, math_words: set[str]) -> str:
    bare = core.strip("()")
    if not core:
        return "space"
    if core in _OPERATORS:
        return "op"
    if re.fullmatch(r"\(?vec\(.*\)\)?", core) or re.fullmatch(
        r"[A-Za-z](?:\(.*\))+", core
    ):
        return "math"
    if _CODE_RE.fullmatch(core) and not bare.startswith("vec("):
        head = bare.split("(")[0]
        if "." in head and len(head.rsplit(".", 1)[1]) < 2:
            return "text"
        return "code"
    if _NUMBER_RE.fullmatch(core):
        return "number"
    if any(ch in _MATH_TRIGGERS for ch in core) or bare in math_words:
        return "math"
    if re.search(r"\w=\w", core):
        return "math"
    return "text"


def prose_segments(
    text: str, letters: Letters | None = None, math_words: Iterable[str] = ()
) -> list[Segment]:
    """Split symderiv's plain-text prose into text, math (as LaTeX) and code segments.

    Words holding mathematics (``∂L/∂y_ij``, ``Xᵀ``, ``vec(Y)``, ``1_N``), the display
    letters in ``math_words`` and the index letters i, j, k become math; operators and
    numbers between them join them (``N = 2``); ``reshape(-1)`` and ``nn.Linear`` become code.

    >>> prose_segments("Row i of Y, here 1_N.", math_words={"Y"})
    [('text', 'Row '), ('math', 'i'), ('text', ' of '), ('math', 'Y'), ('text', ', here '), \
('math', '\\\\mathbf{1}_{N}'), ('text', '.')]
    """
    letters = letters or Letters()
    words = set(math_words) | _MATH_LETTERS
    tokens = re.split(r"(\s+)", text)
    # Each word: (leading text, core, trailing punctuation, kind).
    items: list[tuple[str, str, str]] = []
    kinds: list[str] = []
    for tok in tokens:
        if not tok:
            continue
        if tok.isspace():
            items.append(("", tok, ""))
            kinds.append("space")
            continue
        m = re.fullmatch(r"(.*?)((?:'s)?[.,;:!?]*)", tok, flags=re.S)
        assert m is not None
        core, trail = m.group(1), m.group(2)
        while core.endswith(")") and core.count(")") > core.count("("):
            core, trail = core[:-1], ")" + trail
        if core.startswith("(") and core.count("(") > core.count(")"):
            lead, core = "(", core[1:]
        else:
            lead = ""
        items.append((lead, core, trail))
        kinds.append(_classify(core, words))

    # Operators and numbers are mathematics when they sit between mathematics.
    def neighbour(k: int, step: int) -> str:
        j = k + step
        while 0 <= j < len(kinds) and kinds[j] == "space":
            j += step
        return kinds[j] if 0 <= j < len(kinds) else ""

    for _ in range(2):
        for k, kind in enumerate(kinds):
            around = {neighbour(k, -1), neighbour(k, 1)}
            if kind == "op" and around & {"math", "number", "mathnum"}:
                kinds[k] = "math"
            elif kind == "number" and ("math" in around):
                prev, nxt = neighbour(k, -1), neighbour(k, 1)
                if (prev == "math" and _is_op_word(items, k, -1)) or (
                    nxt == "math" and _is_op_word(items, k, 1)
                ):
                    kinds[k] = "mathnum"
    segments: list[Segment] = []

    def add(kind: str, content: str) -> None:
        if segments and segments[-1][0] == kind:
            segments[-1] = (kind, segments[-1][1] + content)
        else:
            segments.append((kind, content))

    k = 0
    while k < len(items):
        lead, core, trail = items[k]
        kind = kinds[k]
        if kind in ("math", "mathnum"):
            # Gather a span of math words separated by spaces (and commas inside it).
            span = [core]
            add("text", lead)
            j = k
            while (
                trail in ("", ",")
                and j + 2 < len(items)
                and kinds[j + 1] == "space"
                and kinds[j + 2] in ("math", "mathnum")
                and not items[j + 2][0]
            ):
                span.append(trail + " ")
                span.append(items[j + 2][1])
                trail = items[j + 2][2]
                j += 2
            source = "".join(span)
            if trail.startswith(")") and source.count("(") > source.count(")"):
                source += ")"
                trail = trail[1:]
            tex = math_latex(source, letters)
            if tex is None:
                add("text", source)
            else:
                add("math", tex)
            add("text", trail)
            k = j + 1
            continue
        if kind == "code":
            if core.startswith("(") and core.endswith(")"):
                lead, core, trail = lead + "(", core[1:-1], ")" + trail
            add("text", lead)
            add("code", core)
            add("text", trail)
        else:
            add("text", lead + core + trail)
        k += 1
    return [s for s in segments if s[1]]


def _is_op_word(items: list[tuple[str, str, str]], k: int, step: int) -> bool:
    j = k + step
    while 0 <= j < len(items) and items[j][1].isspace():
        j += step
    return 0 <= j < len(items) and items[j][1] in _OPERATORS


def segments_latex(segments: Iterable[Segment]) -> str:
    """Segments as LaTeX: text escaped, math in ``$…$``, code in ``\\texttt``."""
    out: list[str] = []
    for kind, content in segments:
        if kind == "math":
            out.append(f"${content}$")
        elif kind == "code":
            out.append(rf"\texttt{{{latex_escape(content)}}}")
        else:
            out.append(latex_escape(content))
    return "".join(out)


def prose_latex(
    text: str, letters: Letters | None = None, math_words: Iterable[str] = ()
) -> str:
    """Plain-text prose (a step's note or title) as LaTeX with inline mathematics."""
    return segments_latex(prose_segments(text, letters, math_words))


def authored(text: str) -> list[Segment]:
    """Prose written by symderiv with ``$…$`` LaTeX math (trusted) as segments."""
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced $ in {text!r}")
    return [("math" if k % 2 else "text", p) for k, p in enumerate(parts) if p]


# =============================================================================================
# Width estimates (in em of the surrounding font), used to elide and to break lines
# =============================================================================================
_CHAR_EM = 0.55
_SCRIPT = 0.7
_OP_EM = 1.3  # a binary operator with its spaces: + - = \cdot
_COLSEP_EM = 0.92  # 2\arraycolsep between matrix columns
_BRACKETS_EM = 0.9
_CONTROL_EM = {
    r"\partial": 0.6,
    r"\otimes": 1.4,
    r"\cdot": 0.85,
    r"\,": 0.17,
    r"\;": 0.28,
    r"\quad": 1.0,
    r"\qquad": 2.0,
    r"\nabla": 0.9,
    r"\sum": 1.4,
    r"\cdots": 1.3,
    r"\vdots": 0.5,
    r"\ddots": 1.3,
    r"\times": 1.3,
    r"\left": 0.0,
    r"\right": 0.0,
    r"\mathbf": 0.0,
    r"\mathit": 0.0,
    r"\mathrm": 0.0,
    r"\operatorname": 0.0,
    r"\bar": 0.0,
    r"\lVert": 0.5,
    r"\rVert": 0.5,
    r"\in": 1.2,
    r"\to": 1.5,
    r"\bigl": 0.4,
    r"\bigr": 0.4,
    r"\Bigl": 0.5,
    r"\Bigr": 0.5,
    r"\mathbb": 0.0,
}


def tex_width(tex: str) -> float:
    """A rough width (em) of a line of LaTeX math, good enough to decide where to break."""
    width = 0.0
    k = 0
    n = len(tex)
    while k < n:
        ch = tex[k]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[k:])
            assert m is not None
            name = "\\" + m.group(1)
            k += len(m.group(0))
            if name == r"\frac" or name == r"\tfrac":
                num, k = _group(tex, k)
                den, k = _group(tex, k)
                scale = 0.75 if name == r"\tfrac" else 1.0
                width += scale * max(tex_width(num), tex_width(den)) + 0.25
            elif name in (r"\hphantom", r"\phantom"):
                inner, k = _group(tex, k)
                width += tex_width(inner)
            else:
                width += _CONTROL_EM.get(name, 0.8 if len(name) > 2 else 0.3)
        elif ch in "_^":
            k += 1
            if k < n and tex[k] == "{":
                inner, k = _group(tex, k)
            else:
                inner, k = tex[k : k + 1], k + 1
            width += _SCRIPT * tex_width(inner)
        elif ch in "{}":
            k += 1
        elif ch in "=+-<>":
            width += _OP_EM
            k += 1
        elif ch == "&":
            width += _COLSEP_EM
            k += 1
        elif ch in " \n":
            k += 1
        elif ch in ",.;":
            width += 0.28
            k += 1
        elif ch in "()[]|":
            width += 0.39
            k += 1
        else:
            width += _CHAR_EM
            k += 1
    return width


def _group(tex: str, k: int) -> tuple[str, int]:
    """The braced group starting at tex[k] (skipping spaces) and the index after it."""
    while k < len(tex) and tex[k] == " ":
        k += 1
    if k >= len(tex) or tex[k] != "{":
        return tex[k : k + 1], k + 1
    depth = 0
    for j in range(k, len(tex)):
        depth += tex[j] == "{"
        depth -= tex[j] == "}"
        if depth == 0:
            return tex[k + 1 : j], j + 1
    return tex[k + 1 :], len(tex)


# =============================================================================================
# Entries and matrices
# =============================================================================================
@dataclass(frozen=True)
class Cell:
    """One printed matrix entry: its LaTeX, estimated width (em) and whether it is tall."""

    tex: str
    width: float
    tall: bool = False


@lru_cache(maxsize=65536)  # one Cell per name: a matrix repeats its names many times
def _atom(name: str, letters: Letters, upstream: str) -> Cell:
    role, _ = split_entry(name)
    # one place for display names: the index base and --upstream live in latex_name
    tex = latex_name(name, letters, "bar" if upstream == "bar" else None)
    return Cell(tex, tex_width(tex), tex.startswith("\\frac"))


def _coeff_tex(c: int | Fraction) -> str:
    if isinstance(c, Fraction) and c.denominator != 1:
        return rf"\frac{{{c.numerator}}}{{{c.denominator}}}"
    return str(int(c))


def latex_entry(
    poly: Poly,
    letters: Letters,
    *,
    max_terms: int = DEFAULT_MAX_TERMS,
    upstream: str = "frac",
    dfrac: bool = True,
) -> Cell:
    """One polynomial entry in LaTeX, terms in the order the maths built them.

    Past ``max_terms`` terms it shows the first ``max_terms - 1``, ``\\cdots`` and the last
    (display only). ``upstream="bar"`` prints the upstream entries ∂L/∂y_{i,j} as
    \\bar y_{i,j}; ``"frac"`` as fractions (a lone fraction at display size when ``dfrac``).
    A common denominator is factored out.

    >>> from symderiv.algebra import Poly
    >>> p = Poly.atom("x_1_1") * Poly.atom("w_1_1") + Poly.atom("b_1")
    >>> latex_entry(p, Letters()).tex
    'x_{1,1} \\\\, w_{1,1} + b_{1}'
    """
    if poly.is_zero():
        return Cell("0", _CHAR_EM)
    if poly.is_atom():
        cell = _atom(next(iter(poly.terms))[0], letters, upstream)
        if dfrac and cell.tex.startswith(r"\frac"):
            # A fraction alone in a matrix cell is printed at display size.
            return Cell(r"\dfrac" + cell.tex[len(r"\frac") :], cell.width * 1.3, True)
        return cell
    # type() not isinstance(): Fraction is an ABC subclass, so isinstance is slow here.
    den = math.lcm(*(c.denominator for c in poly.terms.values() if type(c) is not int))
    if den > 1 and len(poly) > 1:
        inner = latex_entry(
            poly.scale(den), letters, max_terms=max_terms, upstream=upstream
        )
        tex = rf"\frac{{1}}{{{den}}} \bigl({inner.tex}\bigr)"
        return Cell(tex, inner.width + 2.0, True)
    items = list(poly.terms.items())
    if len(items) > max_terms:
        keep = max(max_terms - 1, 1)
        shown: list[tuple[tuple[str, ...], int | Fraction] | None] = [
            *items[:keep],
            None,
        ]
        if max_terms > 1:
            shown.append(items[-1])
    else:
        shown = list(items)
    parts: list[str] = []
    width = 0.0
    tall = False
    for k, item in enumerate(shown):
        if item is None:
            parts.append(r" + \cdots" if k else r"\cdots")
            width += _OP_EM + 1.3
            continue
        mono, c = item
        negative = c < 0
        mag = -c if negative else c
        factors = [_atom(f, letters, upstream) for f in mono]
        body = [f.tex for f in factors]
        width += sum(f.width for f in factors) + 0.17 * max(len(factors) - 1, 0)
        tall = tall or any(f.tall for f in factors)
        if not factors or mag != 1:
            ctex = _coeff_tex(mag)
            body.insert(0, ctex)
            width += tex_width(ctex)
            tall = tall or "frac" in ctex
        term = r" \, ".join(body)
        if k == 0:
            parts.append(f"-{term}" if negative else term)
            width += 0.8 * negative
        else:
            parts.append(f" - {term}" if negative else f" + {term}")
            width += _OP_EM
    return Cell("".join(parts), width, tall)


def shown_indices(count: int, limit: int) -> list[int | None]:
    """Indices shown of ``count``: all, or the first ``limit - 2``, None (an ellipsis), the last.

    >>> shown_indices(5, 12), shown_indices(16, 5)
    ([0, 1, 2, 3, 4], [0, 1, 2, None, 15])
    """
    if count <= limit:
        return list(range(count))
    if limit <= 1:
        return [0, None]
    keep = max(limit - 2, 1)
    return [*range(keep), None, count - 1]


@dataclass
class Piece:
    """A part of an equation: its LaTeX (one or more lines), widths and height (em).

    ``lines`` has several entries only for a long row vector broken over lines; the
    equation layout then puts each on its own line.
    """

    lines: list[str]
    widths: list[float]
    height: float = 1.2
    cols: int = 0

    @property
    def tex(self) -> str:
        return "\n".join(self.lines)

    @property
    def width(self) -> float:
        return max(self.widths)


@dataclass(frozen=True)
class MatrixStyle:
    """How explicit matrices are drawn.

    Attributes:
        max_entries: rows and columns shown before eliding.
        max_terms: terms shown per entry before eliding.
        upstream: "bar" (\\bar y_{i,j}) or "frac" (\\frac{\\partial L}{\\partial y_{i,j}}).
        portable: MathJax-friendly LaTeX (no ``@{}`` in array preambles), for Markdown.
        budget: width (em) a display may take before it is elided further; None: no limit.
        row_lines: a 1×K row may break over at most this many lines.
    """

    max_entries: int = DEFAULT_MAX_ENTRIES
    max_terms: int = DEFAULT_MAX_TERMS
    upstream: str = "frac"
    portable: bool = False
    budget: float | None = None
    row_lines: int = 4


def _grid(
    matrix: PolyMatrix,
    cells: Callable[[int, int], Cell],
    rows: list[int | None],
    cols: list[int | None],
    blocks: tuple[int, int] | None,
    portable: bool,
) -> Piece:
    """The bracketed grid of the shown rows and columns, one matrix row per source line."""
    grid: list[list[Cell]] = []
    for i in rows:
        line: list[Cell] = []
        for j in cols:
            if i is None and j is None:
                line.append(Cell(r"\ddots", 1.3))
            elif i is None:
                line.append(Cell(r"\vdots", 0.5))
            elif j is None:
                line.append(Cell(r"\cdots", 1.3))
            else:
                line.append(cells(i, j))
        grid.append(line)
    ncols = len(cols)
    widths = [max(r[c].width for r in grid) for c in range(ncols)]
    tall_rows = [any(c.tall for c in r) for r in grid]
    vsep = [False] * ncols
    hsep = [False] * len(rows)
    if blocks is not None:
        br, bc = blocks
        for c in range(1, ncols):
            j, prev = cols[c], cols[c - 1]
            if j is not None and prev is not None and bc < matrix.cols and j % bc == 0:
                vsep[c] = True
        for r in range(1, len(rows)):
            i, prev_i = rows[r], rows[r - 1]
            if (
                i is not None
                and prev_i is not None
                and br < matrix.rows
                and i % br == 0
            ):
                hsep[r] = True
    body: list[str] = []
    for r, line in enumerate(grid):
        if hsep[r]:
            body.append(r"\hline")
        row_tex = " & ".join(c.tex for c in line)
        if r < len(grid) - 1:
            if tall_rows[r] and tall_rows[r + 1]:
                # Fractions in consecutive rows would touch: add a gap (unconditionally; a
                # length after \\ only raises the strut, which tall rows exceed anyway).
                row_tex += r" \\[1ex]" if portable else r" \\ \noalign{\vskip 1.2ex}"
            else:
                row_tex += r" \\"
        body.append(row_tex)
    width = sum(widths) + _COLSEP_EM * (ncols - 1) + _BRACKETS_EM
    height = sum(2.3 if t else 1.25 for t in tall_rows) + 0.3 * sum(hsep)
    if any(vsep) or any(hsep):
        spec = "".join(("|" if vsep[c] else "") + "c" for c in range(ncols))
        if not portable:
            spec = "@{}" + spec + "@{}"
        head = rf"\left[\begin{{array}}{{{spec}}}"
        tail = r"\end{array}\right]"
        width += 0.2 * sum(vsep)
    else:
        head, tail = r"\begin{bmatrix}", r"\end{bmatrix}"
    tex = "\n".join([head, *body, tail])
    return Piece([tex], [width], height, ncols)


def _row_lines(cells: list[Cell], budget: float, tall: bool) -> Piece:
    """A 1×K row broken over lines of at most ``budget`` em: [e1 e2 / e3 e4]."""
    left, right = (r"\Bigl[\;", r"\;\Bigr]") if tall else (r"\bigl[\;", r"\;\bigr]")
    lines: list[list[str]] = [[]]
    widths = [0.0]
    for c in cells:
        add = c.width + (1.0 if lines[-1] else 0.0)
        if lines[-1] and widths[-1] + add > budget:
            lines.append([])
            widths.append(0.0)
            add = c.width
        lines[-1].append(c.tex)
        widths[-1] += add
    if len(lines) > 1:
        # As many lines as needed, the entries spread evenly over them.
        per = math.ceil(len(cells) / len(lines))
        even = [cells[k : k + per] for k in range(0, len(cells), per)]
        even_widths = [sum(c.width for c in g) + 1.0 * (len(g) - 1) for g in even]
        if max(even_widths) <= max(widths):
            lines = [[c.tex for c in g] for g in even]
            widths = even_widths
    texts = [r" \quad ".join(line) for line in lines]
    texts[0] = f"{left} {texts[0]}"
    texts[-1] = f"{texts[-1]} {right}"
    widths = [w + 1.0 for w in widths]
    per_line = 2.3 if tall else 1.4
    return Piece(
        texts, widths, per_line * len(texts) + 0.3 * (len(texts) - 1), len(cells)
    )


def matrix_piece(
    matrix: PolyMatrix,
    letters: Letters,
    style: MatrixStyle,
    blocks: tuple[int, int] | None = None,
    *,
    budget: float | None = None,
) -> Piece:
    """An explicit matrix as a :class:`Piece`, elided to fit ``budget`` em where it can.

    Past ``style.max_entries`` rows or columns only the first ones, an ellipsis and the last
    are shown. When the result is wider than budget/MIN_SCALE, it shows fewer terms per
    entry, then fewer columns, then one term; a 1×K row is broken over lines first, when
    that suffices.
    """
    budget = style.budget if budget is None else budget
    rows = shown_indices(matrix.rows, style.max_entries)
    terms = style.max_terms
    limit = style.max_entries

    def make(terms: int, dfrac: bool) -> Callable[[int, int], Cell]:
        cache: dict[tuple[int, int], Cell] = {}

        def cell(i: int, j: int) -> Cell:
            key = (i, j)
            if key not in cache:
                cache[key] = latex_entry(
                    matrix[i, j],
                    letters,
                    max_terms=terms,
                    upstream=style.upstream,
                    dfrac=dfrac,
                )
            return cache[key]

        return cell

    while True:
        cols = shown_indices(matrix.cols, limit)
        # Display-size fractions only in small matrices (a 12x12 grid of them fills a page).
        cell = make(terms, len(cols) <= 6 and len(rows) <= 6)
        if matrix.rows == 1 and matrix.cols > 1 and budget is not None:
            row = [Cell(r"\cdots", 1.3) if j is None else cell(0, j) for j in cols]
            one = _grid(matrix, cell, rows, cols, blocks, style.portable)
            if one.width <= budget / MIN_SCALE:
                return one
            tall = any(c.tall for c in row)
            piece = _row_lines(row, budget, tall)
            if len(piece.lines) <= style.row_lines or (terms <= 2 and limit <= 3):
                if piece.width <= budget / MIN_SCALE or (terms <= 1 and limit <= 3):
                    return piece
        else:
            piece = _grid(matrix, cell, rows, cols, blocks, style.portable)
            if budget is None or piece.width <= budget / MIN_SCALE:
                return piece
        # Fewer columns first (down to five shown; a row, whose columns have no structure
        # to show, keeps them), then fewer terms (down to first + ⋯ + last), then down to
        # three columns and one term.
        if limit > 5 and len(cols) > 5 and matrix.rows > 1:
            limit = min(limit, len(cols)) - 1
        elif terms > 2:
            terms -= 1
        elif limit > 3 and len(cols) > 3:
            limit = min(limit, len(cols)) - 1
        elif terms > 1:
            terms -= 1
        else:
            return piece


def latex_matrix(
    matrix: PolyMatrix,
    letters: Letters,
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_terms: int = DEFAULT_MAX_TERMS,
    blocks: tuple[int, int] | None = None,
    upstream: str = "frac",
    portable: bool = False,
) -> str:
    """An explicit matrix as LaTeX: ``bmatrix``, or an ``array`` with Kronecker block rules.

    Args:
        matrix: the matrix (r, c) of polynomials.
        letters: display letters (x_{1,2}, a_{1,2}, ...).
        max_entries: rows and columns shown before \\cdots \\vdots \\ddots (display only).
        max_terms: terms shown per entry before ``+ \\cdots +``.
        blocks: (rows, cols) of the Kronecker blocks, drawn as rules between them.
        upstream: "frac" (\\frac{\\partial L}{\\partial y_{i,j}}) or "bar" (\\bar y_{i,j}).
        portable: MathJax-friendly output (for Markdown and Jupyter).

    Returns:
        The LaTeX, one matrix row per source line. A document that shows it needs amsmath
        and ``\\setcounter{MaxMatrixCols}{k}`` for k > 10 columns (see :func:`max_matrix_cols`).
    """
    style = MatrixStyle(max_entries, max_terms, upstream, portable, None)
    return matrix_piece(matrix, letters, style, blocks).tex


_MATRIX_ENVS = (
    "matrix",
    "bmatrix",
    "pmatrix",
    "vmatrix",
    "Bmatrix",
    "Vmatrix",
    "smallmatrix",
)
_ENV_RE = re.compile(r"\\(begin|end)\{(\w+)\}|(&)|(\\\\)")


def max_matrix_cols(tex: str) -> int:
    """The most columns of any amsmath matrix environment in ``tex`` (0 if none).

    >>> max_matrix_cols(r"\\begin{bmatrix} a & b \\\\ c & d & e \\end{bmatrix}")
    3
    """
    stack: list[
        list[int]
    ] = []  # per open environment: [is_matrix, columns in this row]
    best = 0
    for m in _ENV_RE.finditer(tex):
        kind, env, amp, newline = m.groups()
        if kind == "begin":
            stack.append([env in _MATRIX_ENVS, 1])
        elif kind == "end":
            if stack:
                is_matrix, count = stack.pop()
                if is_matrix:
                    best = max(best, count)
        elif stack:
            if amp:
                stack[-1][1] += 1
            elif newline:
                if stack[-1][0]:
                    best = max(best, stack[-1][1])
                stack[-1][1] = 1
    return best


# =============================================================================================
# sympy leaves
# =============================================================================================
def sympy_latex(
    expr: Any, letters: Letters, max_entries: int = DEFAULT_MAX_ENTRIES
) -> str:
    """A sympy object (expression, Matrix or Array) in LaTeX with display entry names.

    Canonical entry symbols (``x_1_12``) print as ``x_{1,12}``; matrices as ``bmatrix``,
    one row per source line, elided past ``max_entries`` rows and columns; arrays of rank
    3 and 4 as matrices of matrices (the outer levels elided earlier).
    """
    import sympy as sp

    names: dict[Any, str] = {}
    atoms = expr.atoms(sp.Symbol) if hasattr(expr, "atoms") else set()
    for s in atoms:
        try:
            split_entry(s.name)
        except (ValueError, IndexError):
            continue
        names[s] = latex_name(s.name, letters)

    def scalar(e: Any) -> str:
        return str(sp.latex(e, symbol_names=names, mat_str="bmatrix", mat_delim=""))

    def matrix_of(
        shape: tuple[int, int], get: Callable[[int, int], str], limit: int
    ) -> str:
        rows = shown_indices(shape[0], limit)
        cols = shown_indices(shape[1], limit)
        body: list[str] = []
        for r, i in enumerate(rows):
            line: list[str] = []
            for j in cols:
                if i is None:
                    line.append(r"\ddots" if j is None else r"\vdots")
                elif j is None:
                    line.append(r"\cdots")
                else:
                    line.append(get(i, j))
            body.append(" & ".join(line) + (r" \\" if r < len(rows) - 1 else ""))
        return "\n".join([r"\begin{bmatrix}", *body, r"\end{bmatrix}"])

    if isinstance(expr, sp.MatrixBase):
        return matrix_of(expr.shape, lambda i, j: scalar(expr[i, j]), max_entries)
    if isinstance(expr, sp.NDimArray):
        shape = tuple(expr.shape)
        outer = max(3, max_entries // 3)
        if len(shape) == 1:
            return matrix_of((1, shape[0]), lambda i, j: scalar(expr[j]), max_entries)
        if len(shape) == 2:
            return matrix_of(
                (shape[0], shape[1]), lambda i, j: scalar(expr[i, j]), max_entries
            )
        if len(shape) == 3:
            return matrix_of(
                (1, shape[0]),
                lambda i, j: matrix_of(
                    (shape[1], shape[2]),
                    lambda k, l_: scalar(expr[j, k, l_]),
                    max_entries,
                ),
                outer,
            )
        if len(shape) == 4:
            return matrix_of(
                (shape[0], shape[1]),
                lambda i, j: matrix_of(
                    (shape[2], shape[3]),
                    lambda k, l_: scalar(expr[i, j, k, l_]),
                    max_entries,
                ),
                outer,
            )
    return scalar(expr)


# =============================================================================================
# Sparsity pictures
# =============================================================================================
def _num(value: float) -> str:
    """A coordinate with at most 3 decimals and no trailing zeros (deterministic)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def latex_sparsity(
    matrix: PolyMatrix,
    blocks: tuple[int, int] | None = None,
    *,
    size_cm: float = 7.0,
    max_cells: int = SPARSITY_MAX_CELLS,
) -> str:
    """A TikZ picture of the nonzero pattern of ``matrix``, with its Kronecker block grid.

    Each nonzero entry is a small filled square (cells of a large matrix merge into
    rectangles; past ``max_cells`` rows or columns, cells are binned so that the picture
    stays small and quick to compile). Thin lines separate the blocks. Needs ``tikz`` and
    the colours ``sdnonzero``, ``sdzero``, ``sdblock`` (see :func:`latex_macros`).

    Args:
        matrix: the matrix (r, c); only which entries are nonzero matters.
        blocks: (rows, cols) of a Kronecker block, or None.
        size_cm: length of the longer side of the picture.
        max_cells: at most this many cells across before binning.
    """
    rows, cols = matrix.rows, matrix.cols
    factor = max(1, math.ceil(max(rows, cols) / max_cells))
    grid_r, grid_c = math.ceil(rows / factor), math.ceil(cols / factor)
    unit = min(size_cm / max(grid_r, grid_c), 0.45)
    cells = sorted({(i // factor, j // factor) for (i, j) in matrix.entries})
    small = unit >= 0.12  # big enough to draw each cell as its own inset square
    lines: list[str] = [
        rf"\begin{{tikzpicture}}[x={_num(unit)}cm, y=-{_num(unit)}cm]",
        rf"\fill[sdzero] (0,0) rectangle ({grid_c},{grid_r});",
    ]
    rects: list[tuple[float, float, float, float]] = []
    if small:
        inset = 0.1
        rects = [(j + inset, i + inset, j + 1 - inset, i + 1 - inset) for i, j in cells]
    else:
        # Horizontal runs per row, then identical runs in consecutive rows merged.
        runs_by_row: dict[int, list[tuple[int, int]]] = {}
        for i, j in cells:
            runs = runs_by_row.setdefault(i, [])
            if runs and runs[-1][1] == j:
                runs[-1] = (runs[-1][0], j + 1)
            else:
                runs.append((j, j + 1))
        open_runs: dict[tuple[int, int], int] = {}
        for i in range(grid_r + 1):
            current = set(runs_by_row.get(i, ()))
            for run in sorted(set(open_runs) - current):
                start = open_runs.pop(run)
                rects.append((run[0], start, run[1], i))
            for run in sorted(current - set(open_runs)):
                open_runs[run] = i
        rects.sort(key=lambda r: (r[1], r[0]))
    for start in range(0, len(rects), 400):
        chunk = rects[start : start + 400]
        body = [
            f"({_num(a)},{_num(b)}) rectangle ({_num(c)},{_num(d)})"
            for a, b, c, d in chunk
        ]
        lines.append(r"\fill[sdnonzero]")
        for k in range(0, len(body), 6):
            lines.append(" ".join(body[k : k + 6]))
        lines[-1] += ";"
    if blocks is not None:
        br, bc = blocks
        segs: list[str] = []
        if bc < cols and cols // bc <= 128:
            for k in range(bc, cols, bc):
                x = _num(k / factor)
                segs.append(f"({x},0) -- ({x},{_num(rows / factor)})")
        if br < rows and rows // br <= 128:
            for k in range(br, rows, br):
                y = _num(k / factor)
                segs.append(f"(0,{y}) -- ({_num(cols / factor)},{y})")
        if segs:
            lines.append(
                r"\draw[sdblock]" if len(segs) <= 16 else r"\draw[sdblock, sdthin]"
            )
            for k in range(0, len(segs), 6):
                lines.append(" ".join(segs[k : k + 6]))
            lines[-1] += ";"
    lines.append(
        rf"\draw[sdframe] (0,0) rectangle ({_num(cols / factor)},{_num(rows / factor)});"
    )
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


# =============================================================================================
# Preamble
# =============================================================================================
def latex_macros(*, max_height: str | None = None, colors: bool = True) -> str:
    """The macros symderiv's LaTeX uses, safe to load twice (``\\providecommand``-style).

    * ``\\sdfit{math}``: typesets ``math`` in display style and scales it down to the line
      width only when it is wider (and, on slides, to ``\\sdmaxheight``; the optional
      argument ``\\sdfit[h]{…}`` gives a height for one display). Needs graphicx.
    * ``\\sdyes`` and ``\\sdno``: the ✓ and ✗ of the certificate (amssymb).
    * colours ``sdnonzero``, ``sdzero``, ``sdblock``, ``sdframe`` of the sparsity pictures
      (xcolor, loaded by tikz).
    """
    height = max_height or r"\maxdimen"
    lines = [
        r"\makeatletter",
        r"\@ifundefined{sdfit}{%",
        r"\newsavebox{\sd@box}%",
        r"\newlength{\sdmaxheight}%",
        rf"\setlength{{\sdmaxheight}}{{{height}}}%",
        r"\newcommand{\sdfit}[2][\sdmaxheight]{%",
        r"\sbox{\sd@box}{$\displaystyle #2$}%",
        r"\ifdim\wd\sd@box>\linewidth",
        r"\sbox{\sd@box}{\resizebox{\linewidth}{!}{\usebox{\sd@box}}}\fi",
        r"\ifdim\dimexpr\ht\sd@box+\dp\sd@box\relax>#1\relax",
        r"\sbox{\sd@box}{\resizebox*{!}{#1}{\usebox{\sd@box}}}\fi",
        r"\usebox{\sd@box}}%",
        r"}{}",
        r"\makeatother",
    ]
    if colors:
        lines += [
            r"\providecommand{\sdyes}{\textcolor{green!45!black}{$\checkmark$}}",
            r"\providecommand{\sdno}{\textcolor{red!75!black}{$\boldsymbol{\times}$}}",
            r"\definecolor{sdnonzero}{RGB}{40,90,160}",
            r"\colorlet{sdzero}{black!4}",
            r"\tikzset{sdblock/.style={red!65!black, line width=0.4pt},"
            r" sdthin/.style={red!50, line width=0.2pt},"
            r" sdframe/.style={black!60, line width=0.4pt}}",
        ]
    else:
        lines += [
            r"\providecommand{\sdyes}{$\checkmark$}",
            r"\providecommand{\sdno}{$\times$}",
        ]
    return "\n".join(lines)


def latex_preamble(
    *,
    document_class: str = "article",
    options: str = "11pt,a4paper",
    max_matrix_cols: int = 10,
    geometry: str | None = "margin=2.5cm",
    tikz: bool = True,
    max_height: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """The preamble of a symderiv document, up to and including ``\\begin{document}``.

    Packages come from texlive-latex-base/-recommended/-pictures only: amsmath, amssymb,
    graphicx, booktabs, geometry (articles) and tikz. The PDF is made reproducible (no
    creation date, no random trailer id) when the engine is pdfTeX.

    Args:
        document_class: "article" or "beamer" (any class works).
        options: class options.
        max_matrix_cols: ``MaxMatrixCols`` (at least 10, the amsmath default).
        geometry: options for the geometry package, or None not to load it.
        tikz: load tikz (needed for sparsity pictures and the colours).
        max_height: default height limit of ``\\sdfit`` (slides), or None.
        extra: more preamble lines.
    """
    lines = [
        rf"\documentclass[{options}]{{{document_class}}}",
        r"\ifdefined\pdftrailerid",
        r"  \pdfinfoomitdate=1",
        r"  \pdftrailerid{}",
        r"  \pdfsuppressptexinfo=-1",
        r"\fi",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{graphicx}",
        r"\usepackage{booktabs}",
        r"\usepackage{array}",
    ]
    if geometry:
        lines.append(rf"\usepackage[{geometry}]{{geometry}}")
    if tikz:
        lines.append(r"\usepackage{tikz}")
    lines.append(rf"\setcounter{{MaxMatrixCols}}{{{max(10, max_matrix_cols)}}}")
    lines.append(latex_macros(max_height=max_height, colors=tikz))
    lines.extend(extra)
    return "\n".join(lines)


# =============================================================================================
# Equations
# =============================================================================================
def merge_equations(equations: Iterable[Equation]) -> list[Equation]:
    """Consecutive equations with the same left side as one chain: a = b, a = c -> a = b = c.

    >>> from symderiv.notation import Sym, T
    >>> merge_equations([Equation(Sym("Y"), Sym("X")), Equation(Sym("Y"), T(Sym("W")))])
    [Equation(parts=(Sym(role='Y'), Sym(role='X'), T(arg=Sym(role='W'))))]
    """
    out: list[Equation] = []
    for eq in equations:
        if (
            out
            and len(eq.parts) > 1
            and len(out[-1].parts) > 1
            and out[-1].parts[0] == eq.parts[0]
        ):
            out[-1] = Equation(*out[-1].parts, *eq.parts[1:])
        else:
            out.append(eq)
    return out


def _flatten(node: Node) -> list[tuple[str, Node]]:
    """A product holding explicit matrices as (operator, factor) pairs: A · B · C."""
    if isinstance(node, Prod) and any(isinstance(a, Explicit) for a in node.args):
        out: list[tuple[str, Node]] = []
        for k, a in enumerate(node.args):
            out.append((r"\cdot" if k else "", a))
        return out
    return [("", node)]


def equation_latex(
    pieces: Sequence[tuple[str, Piece]],
    budget: float | None,
    overlays: Sequence[int | None] | None = None,
) -> tuple[str, float, float]:
    """Lay out ``lhs = p1 = p2 …`` (pieces with their operators) within ``budget`` em.

    Everything on one line when it fits; else an ``aligned`` block with one line per
    part (greedily packed), a long row continuing on the next lines. ``overlays`` (Beamer)
    gives, per piece, the slide from which it is shown (``uncover<k->``), or None.
    Returns the LaTeX and its estimated width and height (em).
    """
    _, lhs = pieces[0]
    # (operator, line, width, height, continues a row, overlay)
    flat: list[tuple[str, str, float, float, bool, int | None]] = []
    for k, (op, piece) in enumerate(pieces[1:], start=1):
        overlay = overlays[k] if overlays is not None else None
        per_line = piece.height / len(piece.lines)
        for j, (line, w) in enumerate(zip(piece.lines, piece.widths, strict=True)):
            flat.append((op if j == 0 else "", line, w, per_line, j > 0, overlay))

    def body(op: str, line: str, overlay: int | None) -> str:
        text = f"{op}\n{line}" if op else line
        if overlay is None:
            return text
        return rf"\uncover<{overlay}->{{{{}}{text}}}"

    one_width = lhs.width + sum(f[2] + (_OP_EM if f[0] else 0.0) for f in flat)
    multi = any(len(p.lines) > 1 for _, p in pieces)
    # A line may run a little over the budget (\sdfit scales it slightly) rather than
    # break: one line scaled to 85 % reads better than two.
    limit = None if budget is None else budget / LINE_OVERRUN
    if not multi and (limit is None or one_width <= limit):
        tex = lhs.tex
        for op, line, _, _, _, overlay in flat:
            tex += " " + body(op, line, overlay)
        return tex, one_width, max(p.height for _, p in pieces)
    lines: list[str] = []
    widths: list[float] = []
    heights: list[float] = []
    current = lhs.tex
    width = lhs.width
    height = lhs.height
    started = False  # the alignment point & is placed
    for op, line, w, h, cont, overlay in flat:
        add = w + (_OP_EM if op else 0.0)
        fits = limit is None or width + add <= limit
        if cont or (started and not fits):
            lines.append(current)
            widths.append(width)
            heights.append(height)
            if cont:
                indent = r"\hphantom{{}=\bigl[{}}\;"
                current = f"&{indent} " + body("", line, overlay)
                width = lhs.width + 2.0 + w
            elif op == r"\cdot":
                current = r"&\quad " + body(op, line, overlay)
                width = lhs.width + 1.0 + add
            else:
                current = "&" + body(op, line, overlay)
                width = lhs.width + add
            height = h
            continue
        current += (
            " &" + body(op, line, overlay)
            if not started
            else " " + body(op, line, overlay)
        )
        started = True
        width += add
        height = max(height, h)
    lines.append(current)
    widths.append(width)
    heights.append(height)
    tex = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
    return tex, max(widths), sum(heights) + 0.3 * (len(lines) - 1)


# =============================================================================================
# Shared content: what is derived, remarks, mathematical background
# =============================================================================================
Block = tuple[
    str, Any
]  # ("p", segments) | ("eq", latex) | ("items", [segments]) | ("h", str)


def _size_tex(name: str) -> str:
    return math_latex(name) or name


def shapes_latex(node: Node, config: Config) -> str | None:
    """A closed form with each factor's shape underneath: X^T (D×N) · dY (N×M).

    Returns None when the formula is not a plain product of named matrices.
    """
    if not isinstance(node, Prod):
        return None
    parts: list[str] = []
    for a in node.args:
        if not isinstance(a, (Sym, T, Ones, Eye)):
            return None
        of = shape(a, config.conv.shapes)
        assert of is not None
        names = of.names(config.letters.sizes)
        tex = formula_latex(a, config.letters)
        label = rf"{_size_tex(names[0])}\times {_size_tex(names[1])}"
        parts.append(rf"\underbrace{{{tex}}}_{{{label}}}")
    return r" \, ".join(parts)


def _math_words(config: Config) -> set[str]:
    letters = config.letters
    words = {letters.of(r) for r in ("X", "W", "b", "Y", "dY", "T")}
    words |= {letters.entry(r) for r in ("X", "W", "b", "Y")}
    words |= set(config.conv.sizes)
    words -= {"a", "A", "I"}
    return words


def _role_tex(config: Config, role: str) -> str:
    return formula_latex(Sym(role), config.letters)


def intro_blocks(d: Derivation) -> list[Block]:
    """What is derived, in which convention, order, layout and loss (for every format)."""
    c = d.config
    conv = c.conv
    L = c.letters
    forward = formula_latex(conv.forward(), L)
    y = _role_tex(c, "Y")
    names = conv.sizes
    size_pairs = ", ".join(
        rf"{_size_tex(nm)} = {v}" for nm, v in zip(names, (c.n, c.d, c.m), strict=True)
    )
    blocks: list[Block] = []
    what = {"X": "the input", "W": "the weights", "b": "the bias"}
    wanted = ", ".join(f"{what[v]} ${_role_tex(c, v)}$" for v in c.wrt)
    blocks.append(
        (
            "p",
            authored(
                f"An affine (fully connected) layer maps a batch of inputs to outputs, "
                f"${y} = {forward}$, with ${size_pairs}$. We derive, entry by entry, the "
                f"derivative of a loss $L$ with respect to {wanted}, the way one does it on "
                "the board: write every matrix out, vectorize, compute each Jacobian, apply "
                "the chain rule, reshape, and recognise the closed form."
            ),
        )
    )
    shapes = []
    for role in ("X", "W", "b", "Y"):
        rn, cn = conv.shape_names(role)
        r, col = c.shape(role)
        shapes.append(
            rf"{_role_tex(c, role)} \in \mathbb{{R}}^{{{_size_tex(rn)} \times {_size_tex(cn)}}}"
            + (
                rf" = \mathbb{{R}}^{{{r} \times {col}}}"
                if (rn, cn) != (str(r), str(col))
                else ""
            )
        )
    blocks.append(
        (
            "eq",
            "\\begin{gathered}\n"
            + r",\qquad ".join(shapes[:2])
            + ", \\\\\n"
            + r",\qquad ".join(shapes[2:])
            + ".\n\\end{gathered}",
        )
    )
    order = (
        "row order: the rows of a matrix are stacked, as NumPy's reshape(-1) does"
        if c.vec == "row"
        else "column order: the columns of a matrix are stacked, the textbook vec"
    )
    layout = (
        "denominator layout: each derivative has the shape of its variable"
        if c.layout == "denominator"
        else "numerator layout: each derivative has the transposed shape of its variable"
    )
    y, t = c.letters.entry("Y"), c.letters.entry("T")
    loss = {
        "generic": "generic: the upstream derivatives stay symbols",
        "mse": f"mean squared error, L = 1/(2N) Σ_i ‖{y}_i − {t}_i‖²",
        "sum": f"the sum of the outputs, L = Σ_ij {y}_ij",
    }[c.loss]
    items: list[list[Segment]] = [
        [("text", f"Convention: {conv.name} (")]
        + prose_segments(conv.source, L, _math_words(c))
        + [("text", ").")],
        prose_segments(f"Vectorization in {order}.", L, _math_words(c)),
        [("text", f"{layout[0].upper()}{layout[1:]}.")],
        prose_segments(f"Loss: {loss}.", L, _math_words(c)),
    ]
    if c.method != "jacobian":
        items.append([("text", f"Method: {c.method}.")])
    blocks.append(("items", items))
    targets = [
        rf"\frac{{\partial L}}{{\partial {_role_tex(c, v)}}} = "
        + formula_latex(d.results[v].closed_form, L)
        for v in c.wrt
        if v in d.results
    ]
    if targets:
        blocks.append(("p", authored("The results, proved below for these sizes:")))
        blocks.append(("eq", r",\qquad ".join(targets)))
    return blocks


def upstream_definition(config: Config) -> str:
    """The compact notation for the upstream entries: \\bar y_{i,j} := ∂L/∂y_{i,j}."""
    letter = config.letters.entry("Y")
    base = letter if len(letter) == 1 else rf"\mathit{{{letter}}}"
    return rf"\bar{{{base}}}_{{i,j}} := \frac{{\partial L}}{{\partial {base}_{{i,j}}}}"


def _dl(config: Config, role: str) -> str:
    """∂L/∂V written inline with a slash (fractions make lines of text uneven)."""
    return rf"\partial L/\partial {_role_tex(config, role)}"


def _dvec(config: Config, role: str) -> str:
    """∂vec(Y)/∂vec(V) written inline with a slash."""
    return (
        rf"\partial \operatorname{{vec}}({_role_tex(config, 'Y')})/"
        rf"\partial \operatorname{{vec}}({_role_tex(config, role)})"
    )


def remarks_blocks(d: Derivation) -> list[Block]:
    """Where learners trip: gradient vs. rearranged matrix, layout and shapes, order, size."""
    c = d.config
    L = c.letters
    blocks: list[Block] = []
    first = c.wrt[0]
    v = _role_tex(c, first)
    w = _role_tex(c, "W")
    blocks.append(("h", "The matrix of partial derivatives is not a gradient vector"))
    blocks.append(
        (
            "p",
            authored(
                "The loss is one function of all entries at once. Its gradient with "
                f"respect to the entries of ${v}$ is the column vector "
                rf"$\nabla_{{\operatorname{{vec}}({v})}} L = "
                rf"J_L(\operatorname{{vec}}({v}))^{{T}}$. The matrix ${_dl(c, first)}$ "
                f"holds the same numbers, rearranged into the shape of ${v}$"
                + (" transposed (numerator layout)" if c.layout == "numerator" else "")
                + ". It is a convenient arrangement of the gradient's components, not itself "
                "a gradient vector: the chain rule is carried out with vectors and "
                "Jacobians, and only its result is reshaped into a matrix."
            ),
        )
    )
    blocks.append(("h", "Layout, and why the shapes match"))
    if c.layout == "denominator":
        why = (
            "This derivation uses the denominator layout, the habit of deep-learning code: "
            "each derivative has the shape of its variable, so that a gradient step "
            rf"${w} \leftarrow {w} - \eta \, {_dl(c, 'W')}$ subtracts matrices of the "
            "same shape. The shapes in each closed form fit together and give exactly that "
            "shape:"
        )
    else:
        why = (
            "This derivation uses the numerator layout, common in handwritten notes: each "
            "derivative has the transposed shape of its variable, and the gradient in the "
            "variable's own shape is its transpose, "
            rf"$\nabla_{{{w}}} L = ({_dl(c, 'W')})^{{T}}$; a gradient step is "
            rf"${w} \leftarrow {w} - \eta \, \nabla_{{{w}}} L$. The shapes in each closed "
            "form fit together and give the transposed shape:"
        )
    blocks.append(("p", authored(why)))
    rows = []
    for var in c.wrt:
        res = d.results.get(var)
        if res is None:
            continue
        shapes = shapes_latex(res.closed_form, c)
        if shapes is None:
            continue
        r, col = res.derivative.shape
        target = _role_tex(c, var)
        if c.layout == "numerator":
            target = f"{target}^{{T}}"
        rows.append(
            rf"\frac{{\partial L}}{{\partial {_role_tex(c, var)}}} &= {shapes}"
            rf" &&\text{{is }} {r} \times {col}\text{{, like }} {target}"
        )
    if rows:
        blocks.append(
            ("eq", "\\begin{aligned}\n" + ", \\\\\n".join(rows) + ".\n\\end{aligned}")
        )
    other = "col" if c.vec == "row" else "row"
    names = {"row": "row", "col": "column"}
    kron_now = formula_latex(c.conv.kronecker(first, c.vec), L)
    kron_other = formula_latex(c.conv.kronecker(first, other), L)
    blocks.append(("h", "The vectorization order matters"))
    blocks.append(
        (
            "p",
            authored(
                "The Jacobians depend on the order in which $\\operatorname{vec}$ stacks "
                f"the entries. In {names[c.vec]} order, used here, "
                f"${_dvec(c, first)} = {kron_now}$; in {names[other]} order it would be "
                f"${kron_other}$. The final matrices do not depend on the order: reshaping "
                "undoes exactly the stacking that vectorizing did, as long as both use the "
                "same order."
            ),
        )
    )
    res0 = d.results.get(first)
    if res0 is not None:
        jr, jc = res0.jacobian.shape
        nnz = res0.jacobian.nnz()
        blocks.append(("h", "Why no framework builds the Jacobian"))
        blocks.append(
            (
                "p",
                authored(
                    f"${_dvec(c, first)}$ has ${jr} \\times {jc} = {jr * jc}$ "
                    f"entries, of which only {nnz} are nonzero, and the count grows with the "
                    "square of the batch. Its Kronecker structure is what makes a closed "
                    "form possible: the upstream row times the Jacobian collapses to a "
                    "product of the small matrices, which costs about as much as the "
                    "forward pass. Backpropagation code therefore never forms the Jacobian; "
                    "it evaluates the closed form."
                ),
            )
        )
    blocks.append(("h", "The bias is broadcast"))
    ones = formula_latex(Ones("N"), L)
    blocks.append(
        (
            "p",
            authored(
                f"The same bias is added to every row of ${_role_tex(c, 'Y')}$ through "
                f"${ones}$, a column of {c.n} ones. Each bias entry therefore influences "
                "one output in every row, and its derivative adds up the upstream "
                "derivatives over the batch: that sum is the product with the ones vector, "
                "NumPy's sum over axis 0."
            ),
        )
    )
    return blocks


def background_blocks() -> list[Block]:
    """The mathematical background: gradient, Jacobian matrix, chain rule (own prose)."""
    return [
        ("h", "Gradient"),
        (
            "p",
            authored(
                r"Let $f\colon \mathbb{R}^n \to \mathbb{R}$ be differentiable. Its gradient at "
                r"$x \in \mathbb{R}^n$ collects the partial derivatives in a column vector,"
            ),
        ),
        (
            "eq",
            r"\nabla f(x) = \begin{bmatrix}"
            "\n"
            r"\frac{\partial f}{\partial x_{1}}(x) & \cdots & "
            r"\frac{\partial f}{\partial x_{n}}(x)"
            "\n"
            r"\end{bmatrix}^{T}.",
        ),
        (
            "p",
            authored(
                "It points in the direction of steepest ascent; gradient descent steps "
                "against it. It is defined for a function of a vector, which is why matrices "
                "are vectorized before anything is differentiated."
            ),
        ),
        ("h", "Jacobian matrix"),
        (
            "p",
            authored(
                r"Let $g\colon \mathbb{R}^n \to \mathbb{R}^m$ be differentiable. Its Jacobian "
                r"matrix at $x$ is the $m \times n$ matrix whose row $i$ holds the partial "
                r"derivatives of the $i$-th output $g_i$:"
            ),
        ),
        (
            "eq",
            r"J_{g}(x) = \begin{bmatrix}"
            "\n"
            r"\frac{\partial g_{1}}{\partial x_{1}} & \cdots & "
            r"\frac{\partial g_{1}}{\partial x_{n}} \\"
            "\n"
            r"\vdots & \ddots & \vdots \\"
            "\n"
            r"\frac{\partial g_{m}}{\partial x_{1}} & \cdots & "
            r"\frac{\partial g_{m}}{\partial x_{n}}"
            "\n"
            r"\end{bmatrix}"
            r" = \begin{bmatrix}"
            "\n"
            r"\nabla g_{1}(x)^{T} \\"
            "\n"
            r"\vdots \\"
            "\n"
            r"\nabla g_{m}(x)^{T}"
            "\n"
            r"\end{bmatrix}.",
        ),
        (
            "p",
            authored(
                r"For a scalar function ($m = 1$) the Jacobian is a single row, the "
                r"transposed gradient: $J_f(x) = \nabla f(x)^{T}$. Row $i$ answers how output "
                r"$i$ moves; column $k$ answers what input $k$ moves."
            ),
        ),
        ("h", "Chain rule in higher dimensions"),
        (
            "p",
            authored(
                r"Let $g\colon \mathbb{R}^n \to \mathbb{R}^m$ and "
                r"$h\colon \mathbb{R}^m \to \mathbb{R}^p$ be differentiable. Then "
                r"$h \circ g$ is differentiable, and its Jacobian is the product of the "
                r"Jacobians, the outer one taken at the inner value:"
            ),
        ),
        ("eq", r"J_{h \circ g}(x) = J_{h}\bigl(g(x)\bigr) \, J_{g}(x)."),
        ("p", authored("Entry by entry, this is a sum over the intermediate values:")),
        (
            "eq",
            r"\frac{\partial (h\circ g)_{i}}{\partial x_{k}}(x) = "
            r"\sum_{r=1}^{m} \frac{\partial h_{i}}{\partial g_{r}}\bigl(g(x)\bigr) \, "
            r"\frac{\partial g_{r}}{\partial x_{k}}(x):",
        ),
        (
            "p",
            authored(
                r"every path from $x_k$ to the output through an intermediate $g_r$ "
                r"contributes. In backpropagation the loss is "
                r"$L = h(y(v))$ with $p = 1$: $J_h$ is the row of upstream derivatives, "
                r"$J_y$ the layer's Jacobian, and the product is the row $J_L(v)$, the "
                r"transposed gradient."
            ),
        ),
        ("h", "Vectorization and the Kronecker product"),
        (
            "p",
            authored(
                r"$\operatorname{vec}(A)$ stacks the entries of a matrix into one column, "
                r"row after row (row order) or column after column (column order). The "
                r"Kronecker product $A \otimes B$ of an $m \times n$ matrix $A$ with $B$ is "
                r"the block matrix whose block $(i, j)$ is $a_{ij} B$. With column order, "
                r"$\operatorname{vec}(A X B) = (B^{T} \otimes A)\operatorname{vec}(X)$; with "
                r"row order, $\operatorname{vec}(A X B) = (A \otimes B^{T})"
                r"\operatorname{vec}(X)$. These identities are where the Kronecker forms of "
                r"the Jacobians come from. The commutation matrix $K$ reorders a vectorized "
                r"matrix into its transpose: $K \operatorname{vec}(A) = "
                r"\operatorname{vec}(A^{T})$."
            ),
        ),
    ]


def certificate_rows(
    d: Derivation,
) -> list[tuple[str, list[Segment], bool, list[Segment]]]:
    """(variable as math, claim, passed, how it was checked) for each line of the certificate."""
    c = d.config
    words = _math_words(c)
    rows = []
    for check in d.checks:
        rows.append(
            (
                _role_tex(c, check.wrt) if check.wrt in ("X", "W", "b") else check.wrt,
                prose_segments(check.claim, c.letters, words),
                check.passed,
                prose_segments(check.detail, c.letters, words),
            )
        )
    return rows


def command_line(config: Config) -> str:
    """The ``symderiv derive`` command that reproduces this derivation."""
    parts = [f"symderiv derive --n {config.n} --d {config.d} --m {config.m}"]
    defaults = Config()
    for name in ("convention", "vec", "layout", "loss", "method"):
        value = getattr(config, name)
        if value != getattr(defaults, name):
            parts.append(f"--{name} {value}")
    if config.wrt != defaults.wrt:
        parts.append("--wrt " + ",".join(config.wrt))
    if config.names:
        parts.append("--names " + ",".join(f"{k}={v}" for k, v in config.names.items()))
    return " ".join(parts)


# =============================================================================================
# The article
# =============================================================================================
@dataclass
class _Context:
    derivation: Derivation
    words: set[str] = field(default_factory=set)


class LatexRenderer(Renderer[str]):
    """Each step as a numbered subsection: its title, its displays, its note as prose."""

    name = "latex"
    defaults: ClassVar[Mapping[str, object]] = {
        "standalone": True,
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "upstream": "bar",
        "sparsity": None,
        "paper": "a4",
    }
    #: Width of a display line (em) before eliding more.
    width_em = ARTICLE_WIDTH_EM
    #: Equations narrower than this share of the line may share a display line.
    share_width = 0.45
    portable = False

    def __init__(self, **settings: object) -> None:
        super().__init__(**settings)
        from ..errors import UnknownSettingError

        if self.settings["upstream"] not in ("bar", "frac"):
            raise UnknownSettingError(
                f"{self.name}: upstream must be 'bar' or 'frac', "
                f"not {self.settings['upstream']!r}"
            )
        if self.settings.get("paper", "a4") not in ("a4", "letter"):
            raise UnknownSettingError(
                f"{self.name}: paper must be 'a4' or 'letter', not {self.settings['paper']!r}"
            )
        for key in ("max_entries", "max_terms"):
            value = self.settings[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UnknownSettingError(f"{self.name}: {key} must be an integer >= 1")
        self._ctx: _Context | None = None

    # -- settings ------------------------------------------------------------------------
    def bind(self, derivation: Derivation) -> None:
        """Print ``derivation`` from now on (its letters, sizes and results)."""
        self._ctx = _Context(derivation, _math_words(derivation.config))

    @property
    def ctx(self) -> _Context:
        assert self._ctx is not None, "call render(derivation) first"
        return self._ctx

    @property
    def config(self) -> Config:
        return self.ctx.derivation.config

    @property
    def letters(self) -> Letters:
        return self.config.letters

    @property
    def standalone(self) -> bool:
        return bool(self.settings["standalone"])

    @property
    def sparsity(self) -> bool:
        value = self.settings["sparsity"]
        return self.standalone if value is None else bool(value)

    def style(self, step: Step | None) -> MatrixStyle:
        """Matrix style for ``step``: upstream entries as \\bar y outside definitions."""
        upstream = str(self.settings["upstream"])
        if step is not None and step.kind is StepKind.DEFINE:
            upstream = "frac"
        return MatrixStyle(
            max_entries=int(self.settings["max_entries"]),  # type: ignore[call-overload]
            max_terms=int(self.settings["max_terms"]),  # type: ignore[call-overload]
            upstream=upstream,
            portable=self.portable,
            budget=self.width_em,
        )

    def prose(self, text: str) -> list[Segment]:
        return prose_segments(text, self.letters, self.ctx.words)

    def text(self, segments: Iterable[Segment]) -> str:
        return segments_latex(segments)

    # -- parts and equations -------------------------------------------------------------
    def part(self, node: Node, style: MatrixStyle, budget: float | None) -> Piece:
        """One side of an equation as a Piece."""
        if isinstance(node, Explicit):
            matrix = node.matrix
            assert isinstance(matrix, PolyMatrix)
            if (
                matrix.cols == 1
                and matrix.rows > 1
                and matrix.nnz() == matrix.rows
                and all(p.is_atom() for p in matrix.entries.values())
            ):
                # A column of names reads as well as a transposed row and takes one line.
                row = matrix_piece(matrix.T, self.letters, style, budget=budget)
                row.lines[-1] += "^{T}"
                row.widths[-1] += 0.5
                return row
            return matrix_piece(matrix, self.letters, style, node.blocks, budget=budget)
        if isinstance(node, Expr):
            tex = sympy_latex(node.expr, self.letters, style.max_entries)
            return Piece([tex], [_tex_block_width(tex)], _tex_block_height(tex))
        if isinstance(node, Text):
            text = math_latex(node.text, self.letters)
            if text is None:
                text = rf"\text{{{latex_escape(node.text)}}}"
            return Piece([text], [tex_width(text)])
        tex = formula_latex(node, self.letters, leaf=self._leaf(style))
        tall = r"\frac" in tex
        return Piece([tex], [_tex_block_width(tex)], 2.4 if tall else 1.2)

    def _leaf(self, style: MatrixStyle) -> Callable[[Node], str]:
        def leaf(node: Node) -> str:
            return self.part(node, style, None).tex

        return leaf

    def equation(
        self, eq: Equation, style: MatrixStyle, budget: float | None = None
    ) -> tuple[str, float, float]:
        """One Equation laid out within the budget: LaTeX, width and height (em)."""
        budget = self.width_em if budget is None else budget
        pieces: list[tuple[str, Piece]] = []
        for k, node in enumerate(eq.parts):
            for j, (op, factor) in enumerate(_flatten(node)):
                part_budget = budget * 0.9
                piece = self.part(factor, style, part_budget)
                pieces.append((op if j else ("=" if k else ""), piece))
        return equation_latex(pieces, budget)

    def display(self, tex: str, height: str | None = None) -> str:
        """A display line, scaled down only if it would not fit."""
        opt = f"[{height}]" if height else ""
        return f"\\[\n\\sdfit{opt}{{%\n{tex}\n}}\n\\]"

    def display_items(self, step: Step) -> list[tuple[str, float]]:
        """The step's equations as display contents with estimated heights (em).

        Equations with the same left side are chained; short ones share a line.
        """
        style = self.style(step)
        out: list[tuple[str, float]] = []
        pending: list[tuple[str, float, float]] = []

        def flush() -> None:
            if pending:
                tex = r",\qquad ".join(t for t, _, _ in pending)
                out.append((tex, max(h for _, _, h in pending)))
                pending.clear()

        for eq in merge_equations(step.equations):
            tex, width, height = self.equation(eq, style)
            if "\\begin{aligned}" in tex or width > self.width_em * self.share_width:
                flush()
                out.append((tex, height))
                continue
            used = sum(w for _, w, _ in pending) + 2.0 * len(pending)
            if pending and used + width > self.width_em * self.share_width * 2.2:
                flush()
            pending.append((tex, width, height))
        flush()
        return out

    def displays(self, step: Step) -> list[str]:
        """The step's equations as display LaTeX."""
        return [self.display(tex) for tex, _ in self.display_items(step)]

    def notation_line(self) -> str:
        """Introduces \\bar y_{i,j} for the upstream entries in the matrices below."""
        return (
            "Inside the large matrices below we write the upstream derivatives compactly,\n"
            + self.display(upstream_definition(self.config) + r",")
            + "\nin the adjoint notation of automatic differentiation (the bar marks a "
            "derivative of $L$, not a mean): a fraction would make each matrix row three "
            "times as tall and each entry twice as wide."
        )

    def sparsity_figure(self, step: Step) -> str:
        """The TikZ sparsity picture of the step's explicit Jacobian, with a caption."""
        if not self.sparsity:
            return ""
        for eq in step.equations:
            for part in eq.parts:
                if isinstance(part, Explicit) and isinstance(part.matrix, PolyMatrix):
                    lhs = eq.parts[0]
                    if isinstance(lhs, Deriv):
                        return self.figure(part.matrix, part.blocks, lhs)
        return ""

    def caption(
        self, matrix: PolyMatrix, blocks: tuple[int, int] | None, lhs: Deriv
    ) -> str:
        """What the picture shows: which derivative, how sparse, what the lines mean."""
        rows, cols = matrix.shape
        nnz = matrix.nnz()
        total = rows * cols
        share = 100.0 * nnz / total if total else 0.0
        of, wrt = _role_tex(self.config, lhs.of), _role_tex(self.config, lhs.wrt)
        if lhs.vec:
            what = rf"\partial \operatorname{{vec}}({of})/\partial \operatorname{{vec}}({wrt})"
        else:
            what = rf"\partial {of}/\partial {wrt}"
        text = (
            f"Sparsity of ${what}$, drawn as a ${rows} \\times {cols}$ matrix: each "
            f"filled square is a nonzero entry, {nnz} of {total} ({share:.1f}\\,\\%)."
        )
        if blocks is not None and (blocks[0] < rows or blocks[1] < cols):
            text += (
                f" The red lines separate its ${blocks[0]} \\times {blocks[1]}$ blocks"
                + (", those of its Kronecker form." if lhs.vec else ".")
            )
        if total >= 4096:
            text += (
                " A framework never builds this matrix: the closed form gives the same "
                "product at the cost of the forward pass."
            )
        return text

    def figure(
        self, matrix: PolyMatrix, blocks: tuple[int, int] | None, lhs: Deriv
    ) -> str:
        """The sparsity picture, centred, with its caption underneath."""
        pic = latex_sparsity(matrix, blocks, size_cm=self.picture_cm(matrix))
        # One minipage: the picture and its caption never part at a page break.
        return (
            "\\begin{center}\n\\begin{minipage}{0.85\\linewidth}\\centering\n"
            + pic
            + "\n\\par\\smallskip\n{\\small "
            + self.caption(matrix, blocks, lhs)
            + "\\par}\n\\end{minipage}\n\\end{center}"
        )

    def picture_cm(self, matrix: PolyMatrix) -> float:
        rows, cols = matrix.shape
        return 7.0 if max(rows, cols) > 12 else 0.45 * max(rows, cols)

    # -- steps -----------------------------------------------------------------------------
    def render_step(self, step: Step, number: int) -> str:
        parts = [
            f"\\setcounter{{subsection}}{{{number - 1}}}",
            f"\\subsection{{{self.text(self.prose(step.title))}}}",
            f"\\label{{step:{_label(step.id)}}}",
        ]
        parts.extend(self.displays(step))
        if step.kind is StepKind.JACOBIAN:
            fig = self.sparsity_figure(step)
            if fig:
                parts.append(fig)
        if step.note:
            parts.append(self.text(self.prose(step.note)))
        if step.id == "upstream" and self.settings["upstream"] == "bar":
            parts.append(self.notation_line())
        return "\n".join(parts) + "\n"

    def define(self, step: Step, number: int) -> str:
        return self.render_step(step, number)

    def jacobian(self, step: Step, number: int) -> str:
        return self.render_step(step, number)

    def chain(self, step: Step, number: int) -> str:
        return self.render_step(step, number)

    def simplify(self, step: Step, number: int) -> str:
        return self.render_step(step, number)

    def result(self, step: Step, number: int) -> str:
        if step.id == "summary":
            return self.summary(step, number)
        return self.render_step(step, number)

    def summary(self, step: Step, number: int) -> str:
        """The formulas to keep, boxed, and the lines of NumPy that implement them."""
        parts = [
            f"\\setcounter{{subsection}}{{{number - 1}}}",
            f"\\subsection{{{self.text(self.prose(step.title))}}}",
            f"\\label{{step:{_label(step.id)}}}",
            self.display(self.boxed_results(step)),
        ]
        if step.note:
            parts.append(self.text(self.prose(step.note)))
        code = numpy_lines(self.ctx.derivation)
        if code:
            # In a minipage, so that the sentence and its code stay on one page.
            parts.append(
                "\\par\\medskip\\noindent\\begin{minipage}{\\linewidth}\n"
                "In NumPy, each gradient in the shape of its variable, as a backward pass "
                "stores it:\n\\begin{center}\n\\begin{tabular}{@{}l@{}}\n"
                + " \\\\\n".join(rf"\texttt{{{latex_escape(c)}}}" for c in code)
                + "\n\\end{tabular}\n\\end{center}\n\\end{minipage}"
            )
        return "\n".join(parts) + "\n"

    # -- the document ----------------------------------------------------------------------
    def blocks(self, blocks: list[Block], level: str = "subsection*") -> str:
        out: list[str] = []
        for kind, content in blocks:
            if kind == "h":
                out.append(f"\\{level}{{{latex_escape(content)}}}")
            elif kind == "p":
                out.append(self.text(content) + "\n")
            elif kind == "eq":
                out.append(self.display(content))
            elif kind == "items":
                # An explicit label: the default text bullet needs fonts (TS1) that
                # texlive-latex-base does not have as outlines.
                out.append(
                    "\\begin{itemize}\n"
                    + "\n".join(
                        f"\\item[$\\bullet$] {self.text(item)}" for item in content
                    )
                    + "\n\\end{itemize}"
                )
        return "\n".join(out)

    def certificate(self) -> str:
        d = self.ctx.derivation
        rows = []
        for var, claim, passed, detail in certificate_rows(d):
            mark = r"\sdyes" if passed else r"\sdno"
            rows.append(
                f"${var}$ & {self.text(claim)} & {mark} & {self.text(detail)} \\\\"
            )
        verdict = (
            "All results are verified."
            if d.verified
            else r"\textbf{Verification failed} (see \sdno{} above): a result is wrong."
        )
        return (
            "\\section{Certificate}\n"
            "Each claim was checked exactly, entry by entry, on the symbolic matrices "
            "above (no floating point, no sampling).\n"
            "\\begin{center}\n"
            "\\begin{tabular}{@{}c >{\\raggedright\\arraybackslash}p{0.3\\linewidth} c "
            ">{\\raggedright\\arraybackslash}p{0.45\\linewidth}@{}}\n"
            "\\toprule\n"
            "variable & claim & & how it was checked \\\\\n"
            "\\midrule\n" + "\n".join(rows) + "\n\\bottomrule\n\\end{tabular}\n"
            "\\end{center}\n" + verdict + "\n"
        )

    def sections(self, d: Derivation) -> str:
        """Steps grouped into sections: set-up, one per variable, views, summary."""
        out: list[str] = []
        current: tuple[str, str | None] | None = None
        rendered = self.steps(d)
        for k, (step, tex) in enumerate(zip(d.steps, rendered, strict=True)):
            key = (step.view, step.wrt)
            if step.id == "summary":
                key = ("summary", None)
            if key != current:
                out.append(self.section_title(key, k == 0))
                current = key
            out.append(tex)
        return "\n".join(out)

    def section_heading(
        self, key: tuple[str, str | None], first: bool
    ) -> list[Segment]:
        """The heading of a group of steps (set-up, one variable, a view, the summary)."""
        view, wrt = key
        if view == "summary":
            return [("text", "Summary")]
        if view == "jacobian" and wrt is None:
            return [("text", "The layer, written out" if first else "Shared steps")]
        head = "" if view == "jacobian" else f"The {view} view"
        if wrt is None:
            return [("text", head)]
        what = {"X": "the input", "W": "the weights", "b": "the bias"}.get(wrt, wrt)
        lead = f"{head}: the" if head else "The"
        return [
            ("text", f"{lead} derivative with respect to {what} "),
            ("math", _role_tex(self.config, wrt)),
        ]

    def section_title(self, key: tuple[str, str | None], first: bool) -> str:
        return f"\\section{{{self.text(self.section_heading(key, first))}}}"

    def boxed_results(self, step: Step, stacked: bool = False) -> str:
        """The formulas of the summary step, each boxed: in a row, or one per line."""
        style = self.style(step)
        lines = []
        for eq in step.equations:
            tex, _, _ = self.equation(eq, style)
            lines.append(rf"\boxed{{{tex}}}")
        if stacked or len(lines) > 3:
            gap = "[1ex]" if stacked else ""
            return (
                "\\begin{gathered}\n"
                + f" \\\\{gap}\n".join(lines)
                + "\n\\end{gathered}"
            )
        return r" \qquad ".join(lines)

    def title(self) -> str:
        c = self.config
        forward = formula_latex(c.conv.forward(), c.letters)
        return (
            f"Backpropagation through an affine layer, "
            f"${_role_tex(c, 'Y')} = {forward}$"
        )

    def subtitle(self) -> str:
        c = self.config
        sizes = ", ".join(
            rf"{_size_tex(nm)} = {v}"
            for nm, v in zip(c.conv.sizes, (c.n, c.d, c.m), strict=True)
        )
        return (
            f"${sizes}$; convention {c.conv.name}, {c.vec} order, {c.layout} layout, "
            f"loss {c.loss}"
        )

    def body(self, d: Derivation) -> str:
        parts = [
            "\\section{What is derived}",
            self.blocks(intro_blocks(d)),
            self.sections(d),
            self.certificate(),
            "\\section{Where learners trip}",
            self.blocks(remarks_blocks(d), "paragraph"),
            "\\appendix",
            "\\section{Mathematical background}",
            self.blocks(background_blocks(), "paragraph"),
        ]
        return "\n".join(parts)

    def render(self, d: Derivation) -> str:
        """The whole document (or the fragment, when ``standalone`` is False)."""
        self.bind(d)
        body = self.body(d)
        cols = max_matrix_cols(body)
        head = (
            f"% Generated by symderiv {__version__}: {command_line(d.config)}\n"
            "% Compile with pdflatex (twice for references).\n"
        )
        if not self.standalone:
            return (
                head
                + "% A fragment: needs amsmath, amssymb, graphicx"
                + (" and tikz" if self.sparsity else "")
                + ".\n"
                + f"\\setcounter{{MaxMatrixCols}}{{{max(10, cols)}}}\n"
                + latex_macros(colors=self.sparsity)
                + "\n"
                + f"\\section*{{{self.title()}}}\n{self.subtitle()}\n\n"
                + body
                + "\n"
            )
        paper = "a4paper" if self.settings["paper"] == "a4" else "letterpaper"
        preamble = latex_preamble(
            options=f"11pt,{paper}",
            max_matrix_cols=cols,
            extra=[
                r"\renewcommand{\thesubsection}{Step \arabic{subsection}}",
                r"\setlength{\parindent}{0pt}",
                r"\renewcommand{\arraystretch}{1.15}",
                r"\setlength{\parskip}{0.6ex plus 0.3ex}",
                r"\allowdisplaybreaks",
                r"\emergencystretch=2em",
                # The subtitle goes with the title, which may wrap (\author may not).
                f"\\title{{{self.title()}\\\\[1.5ex]\\large {self.subtitle()}}}",
                f"\\author{{Derived and verified by symderiv {__version__}}}",
                r"\date{}",
            ],
        )
        return (
            head
            + preamble
            + "\n\\begin{document}\n\\maketitle\n\n"
            + body
            + "\n\\end{document}\n"
        )


def _label(step_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "-", step_id)


def _tex_block_width(tex: str) -> float:
    lines = tex.split("\\\\")
    return max(tex_width(line) for line in lines)


def _tex_block_height(tex: str) -> float:
    return 1.3 * (tex.count("\\\\") + 1)


def render_latex(derivation: Derivation, **settings: Any) -> str:
    """The derivation as a LaTeX article (``standalone=False``: a fragment to \\input).

    Settings: standalone (True), max_entries (12), max_terms (4), upstream ("bar" or
    "frac"), sparsity (pictures; default: as standalone), paper ("a4" or "letter").
    """
    return LatexRenderer(**settings).render(derivation)


__all__ = [
    "Cell",
    "LatexRenderer",
    "MatrixStyle",
    "Piece",
    "authored",
    "background_blocks",
    "certificate_rows",
    "command_line",
    "equation_latex",
    "intro_blocks",
    "latex_entry",
    "latex_escape",
    "latex_macros",
    "latex_matrix",
    "latex_preamble",
    "latex_sparsity",
    "math_latex",
    "matrix_piece",
    "max_matrix_cols",
    "prose_latex",
    "prose_segments",
    "remarks_blocks",
    "segments_latex",
    "shapes_latex",
    "shown_indices",
    "sympy_latex",
    "tex_width",
    "upstream_definition",
]
