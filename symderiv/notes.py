"""Every sentence a learner reads around a derivation, written once, maths marked.

A sentence is a tuple of segments: plain ``str`` text, ``M`` (maths, with its Unicode
and its TeX spelled out), ``F`` (a formula of :mod:`symderiv.notation`, printed in the
derivation's letters) and ``Code`` (program text). No printer guesses which words are
maths: a letter is maths because it sits in ``M`` or ``F``, never because it looks short.

Most sentences are written in a tiny markup, :func:`prose`: ``$x$`` is maths that reads
the same in Unicode and TeX, ``{name}`` inserts a segment passed by keyword.

``Para(prose, short=...)`` carries a short variant where the slides need one
(``short=None``: the slides use the full sentence; ``short=()``: the slides leave it out).
``Math`` is a displayed formula; ``Title`` heads a remark or a part of the background.

This module imports no printer and no sympy; :mod:`symderiv.render.page` places these
sentences on the page, and each printer sets the segments in its own format.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from .notation import Comm, Deriv, Node, Ones, Prod, Sum, Sym, T, Vec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .conventions import Config


# -- segments ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class M:
    """Maths written out: ``text`` in Unicode, ``tex`` in LaTeX (``text`` when empty)."""

    text: str
    tex: str = ""

    @property
    def latex(self) -> str:
        return self.tex or self.text


@dataclass(frozen=True)
class F:
    """A formula of the notation, printed in the derivation's letters by each printer."""

    node: Node


@dataclass(frozen=True)
class Code:
    """Program text (set in a monospace font)."""

    text: str


Segment = str | M | F | Code
Prose = tuple[Segment, ...]


@dataclass(frozen=True)
class Para:
    """A paragraph; ``short`` replaces it on slides (None: the same; (): left out)."""

    prose: Prose
    short: Prose | None = None


@dataclass(frozen=True)
class Math:
    """A displayed formula: Unicode ``text`` (may span lines) and its LaTeX."""

    text: str
    tex: str
    slides: bool = True


@dataclass(frozen=True)
class Title:
    """The title of a remark or of a part of the background."""

    prose: Prose


@dataclass(frozen=True)
class Items:
    """A list of short items (the settings of the derivation)."""

    items: tuple[Prose, ...]


Part = Para | Math | Title | Items


# -- the markup ------------------------------------------------------------------------------
#: ``$$``, ``{{``, ``}}`` (literal characters), ``$maths$``, ``{name}``, or a stray marker.
_MARKUP = re.compile(r"\$\$|\{\{|\}\}|\$([^$]+)\$|\{(\w+)\}|[${}]")
_LITERAL = {"$$": "$", "{{": "{", "}}": "}"}


def prose(text: str, /, **parts: Segment | Prose) -> Prose:
    """A sentence written in a tiny markup, for sentences that are mostly words.

    ``$x = 1$`` is maths written the same in Unicode and TeX, ``M("x = 1")``; maths that
    differs (``Wᵀ`` and ``W^{T}``) is an ``M`` passed by keyword. ``{name}`` inserts the
    segment, or the tuple of segments, passed as ``name=``; everything else is plain
    text. ``$$``, ``{{`` and ``}}`` write a literal ``$``, ``{`` and ``}`` (so words put
    into ``text`` with an f-string must hold none of ``$ { }``: pass them by keyword).
    Adjacent plain text is joined and empty text dropped, which no printer tells apart.

    >>> prose("{j} for $m = 1$", j=M("J_f", "J_{f}"))
    (M(text='J_f', tex='J_{f}'), ' for ', M(text='m = 1', tex=''))

    Malformed markup raises ValueError at once: an unclosed ``$``, a lone brace, a
    ``{name}`` with no keyword, or a keyword the text never uses.
    """
    out: list[Segment] = []
    used: set[str] = set()

    def add(segments: Prose) -> None:
        for seg in segments:
            if isinstance(seg, str) and out and isinstance(out[-1], str):
                out[-1] += seg
            elif seg != "":
                out.append(seg)

    pos = 0
    for match in _MARKUP.finditer(text):
        add((text[pos : match.start()],))
        pos = match.end()
        token, maths, name = match.group(0), match.group(1), match.group(2)
        if token in _LITERAL:
            add((_LITERAL[token],))
        elif maths is not None:
            add((M(maths),))
        elif name is not None:
            if name not in parts:
                raise ValueError(f"prose: no keyword for {{{name}}} in {text!r}")
            used.add(name)
            part = parts[name]
            add(part if isinstance(part, tuple) else (part,))
        else:
            raise ValueError(f"prose: a lone {token!r} at {match.start()} in {text!r}")
    add((text[pos:],))
    if unused := sorted(set(parts) - used):
        raise ValueError(f"prose: unused keywords {unused} for {text!r}")
    return tuple(out)


# -- small maths helpers ----------------------------------------------------------------------
def sym(role: str) -> F:
    """The letter of a role (X, W, b, Y, dY, T) in the derivation's letters."""
    return F(Sym(role))


def syms(*roles: str) -> dict[str, F]:
    """The letters of roles as keywords of :func:`prose`: ``**syms("X", "W")``."""
    return {role: sym(role) for role in roles}


def partial(of: M, by: M) -> M:
    """∂of/∂by written inline with a slash (a fraction makes lines of text uneven)."""
    return M(f"∂{of.text}/∂{by.text}", rf"\partial {of.latex}/\partial {by.latex}")


def join_m(*parts: M | str, sep: str = "") -> M:
    """Marked maths put together: each part's Unicode and TeX side by side (a ``str``
    reads the same in both)."""
    ms = [M(p) if isinstance(p, str) else p for p in parts]
    return M(sep.join(m.text for m in ms), sep.join(m.latex for m in ms))


def letter_m(letters: str) -> M:
    """A letter (or a word) as maths."""
    return M(letters, tex_letters(letters))


def vec_m(of: M) -> M:
    """vec(of)."""
    return M(f"vec({of.text})", rf"\operatorname{{vec}}({of.latex})")


#: The loss, as maths.
LOSS = M("L")


def dl(c: Config, role: str) -> M:
    """∂L/∂V in the derivation's letters."""
    return partial(LOSS, letter_m(c.letters.of(role)))


def size_equations(c: Config, eq: str = " = ") -> list[M]:
    """N = 2, D = 2 and M = 3 in the convention's size names (``eq`` between them in
    Unicode)."""
    return [
        M(f"{name}{eq}{value}", f"{size_m(name).latex} = {value}")
        for name, value in zip(c.size_names, (c.n, c.d, c.m), strict=True)
    ]


def sizes_m(c: Config) -> M:
    """N = 2, D = 2, M = 3 as one formula."""
    return join_m(*size_equations(c), sep=", ")


def _transposed_m(letters: str) -> M:
    """Wᵀ."""
    return M(f"{letters}ᵀ", f"{tex_letters(letters)}^{{T}}")


def _gradient_m(letters: str) -> M:
    """∇_W L = (∂L/∂W)ᵀ, the gradient in numerator layout."""
    t = tex_letters(letters)
    return M(
        f"∇_{letters} L = (∂L/∂{letters})ᵀ",
        rf"\nabla_{{{t}}} L = (\partial L/\partial {t})^{{T}}",
    )


def tex_letters(letters: str) -> str:
    """A letter as TeX: one letter stays, a word is one italic name (\\mathit{dLdZ})."""
    return letters if len(letters) == 1 else rf"\mathit{{{letters}}}"


def size_m(name: str) -> M:
    """A size name: N, or C_in set as C with a roman subscript."""
    if "_" in name:
        base, _, sub = name.partition("_")
        return M(name, rf"{base}_{{\mathrm{{{sub}}}}}")
    return M(name)


def entry_m(letter: str, index: str) -> M:
    """An entry such as y_ij: yᵢⱼ in Unicode, y_{ij} in TeX."""
    subs = str.maketrans("ijklmnrhN", "ᵢⱼₖₗₘₙᵣₕN")
    text = letter + (index.translate(subs) if index.isalpha() else index)
    return M(text, f"{tex_letters(letter)}_{{{index}}}")


#: vec, the operator that stacks a matrix into a column.
VEC = M("vec", r"\operatorname{vec}")


def _vec(c: Config, role: str) -> M:
    """vec(V) in the derivation's letters."""
    return vec_m(letter_m(c.letters.of(role)))


def _dvec(c: Config, role: str) -> M:
    return partial(_vec(c, "Y"), _vec(c, role))


# -- headings ---------------------------------------------------------------------------------
WHAT_IS_DERIVED: Prose = ("What is derived",)
SUMMARY: Prose = ("Summary",)
CERTIFICATE: Prose = ("Certificate",)
REMARKS: Prose = ("Where learners trip",)
BACKGROUND: Prose = ("Mathematical background",)
BACKGROUND_SHORT: Prose = ("The chain rule in higher dimensions",)
VARIABLE = {"X": "the input", "W": "the weights", "b": "the bias"}


def group_heading(view: str, wrt: str | None, first: bool) -> Prose:
    """The heading of a group of steps: the set-up, one variable, a view."""
    if view == "jacobian" and wrt is None:
        return ("The layer, written out" if first else "Shared steps",)
    head = "" if view == "jacobian" else f"The {view} view"
    if wrt is None:
        return (head,)
    lead = f"{head}: the" if head else "The"
    return (f"{lead} derivative with respect to {VARIABLE.get(wrt, wrt)} ", sym(wrt))


def title(c: Config) -> Prose:
    """The title of the page: what the layer is."""
    return prose("Backpropagation through an affine layer, {layer}", layer=layer(c))


def layer(c: Config) -> Prose:
    """Y = X W + 1 b, the convention's forward map in the derivation's letters."""
    return (sym("Y"), M(" = "), F(c.conv.forward()))


def settings(c: Config) -> tuple[Prose, ...]:
    """The sizes and settings, one item each (the subtitle)."""
    return (
        (sizes_m(c),),
        (f"convention {c.conv.name}",),
        (f"{c.vec} order",),
        (f"{c.layout} layout",),
        (f"loss {c.loss}",),
        (f"method {c.method}",),
    )


# -- the introduction -------------------------------------------------------------------------
SOURCES: dict[str, Prose] = {
    "xw": ("CS231n-style notes and affine-layer write-ups",),
    "torch": prose(
        "PyTorch {code}, {y}",
        code=Code("nn.Linear"),
        y=M("y = x Wᵀ + b", r"y = x W^{T} + b"),
    ),
    "column": prose(
        "the “mytorch” Linear class, {z}",
        z=M("Z = A Wᵀ + 1 bᵀ", r"Z = A W^{T} + \mathbf{1} b^{T}"),
    ),
    "wx": prose(
        "deeplearning.ai's course, samples as columns: its {z} is {Y}$ = ${wx} here",
        z=M("Z = W·A + b", r"Z = W A + b"),
        Y=sym("Y"),
        wx=F(Sum(Prod(Sym("W"), Sym("X")), Prod(Sym("b"), T(Ones("N"))))),
    ),
}
#: Sources that write the layer in the convention's own letters: on a derivation's page
#: their formula (the last segment above) is the convention's forward map, printed by
#: the notation (so --bold and --names apply).
SOURCE_FORMULA = ("column",)


def source(c: Config) -> Prose:
    """Where the convention comes from (its own words when notes has none for it)."""
    words = SOURCES.get(c.conv.name, (c.conv.source,))
    if c.conv.name in SOURCE_FORMULA:
        return (*words[:-1], *layer(c))
    return words


#: How each view goes, after "the derivative ... with respect to X, W and b".
_ROUTES = {
    "jacobian": "write every matrix out, vectorize, compute each Jacobian, apply the "
    "chain rule, reshape, and recognise the closed form",
    "index": "write one output entry as a sum for any sizes, differentiate it with "
    "respect to one entry of the variable (a Kronecker delta), sum the chain rule over "
    "all outputs, let the delta collapse the sum, and recognise an entry of the closed "
    "form",
    "tensor": "write the derivative of the outputs with respect to a variable as an "
    "array with four indices (three for the bias), contract it with the upstream "
    "derivatives over the two output indices, with no vectorization, and recognise the "
    "closed form",
}


#: What the route of each view is introduced with.
_LEADS = {
    "jacobian": ", the way one does it on the board: ",
    "index": " in index notation: ",
    "tensor": " as arrays: ",
}


def _route(c: Config) -> Prose:
    """How the page derives its results: the steps of its view (or of all three)."""
    if c.method != "all":
        return (_LEADS[c.method] + _ROUTES[c.method] + ".",)
    return (
        " in three ways. The Jacobian view, the way one does it on the board: "
        f"{_ROUTES['jacobian']}. The index view: {_ROUTES['index']}. The tensor view: "
        f"{_ROUTES['tensor']}. The certificate checks that the three agree.",
    )


def intro(c: Config, closed: dict[str, Node]) -> list[Part]:
    """What is derived, in which convention, order, layout and loss."""
    L = c.letters
    wanted = [(f"{VARIABLE[v]} ", sym(v)) for v in c.wrt]
    parts: list[Part] = [
        Para(
            prose(
                "An affine (fully connected) layer maps a batch of inputs to outputs, "
                "{layer}, with {sizes}. We derive, entry by entry, the derivative of a "
                "loss $L$ with respect to {wanted}{route}",
                layer=layer(c),
                sizes=sizes_m(c),
                wanted=joined(wanted, ", ", last=" and "),
                route=_route(c),
            ),
            short=(),
        )
    ]
    lines_text, lines_tex = [], []
    for role in ("X", "W", "b", "Y"):
        rn, cn = _shape_names(c, role)
        r, col = c.shape(role)
        letter = L.of(role)
        text = f"{letter} ∈ ℝ^({rn}×{cn})"
        shown = rf"\mathbf{{{letter}}}" if c.bold else tex_letters(letter)
        tex = (
            rf"{shown} \in \mathbb{{R}}^{{{size_m(rn).latex} \times "
            rf"{size_m(cn).latex}}}"
        )
        if (rn, cn) != (str(r), str(col)):
            text += f" = ℝ^({r}×{col})"
            tex += rf" = \mathbb{{R}}^{{{r} \times {col}}}"
        lines_text.append(text)
        lines_tex.append(tex)
    parts.append(
        Math(
            ",   ".join(lines_text[:2]) + ",\n" + ",   ".join(lines_text[2:]) + ".",
            "\\begin{gathered}\n"
            + r",\qquad ".join(lines_tex[:2])
            + ", \\\\\n"
            + r",\qquad ".join(lines_tex[2:])
            + ".\n\\end{gathered}",
        )
    )
    y, t = L.entry("Y"), L.entry("T")
    order = (
        prose(
            "Vectorization in row order: the rows of a matrix are stacked, as NumPy's "
            "{code} does.",
            code=Code("reshape(-1)"),
        )
        if c.vec == "row"
        else (
            "Vectorization in column order: the columns of a matrix are stacked, "
            "the textbook vec.",
        )
    )
    if c.method in ("index", "tensor"):  # the order only enters the certificate
        order += (
            f" The {c.method} view itself never vectorizes; only the Jacobians that the "
            "certificate checks do.",
        )
    shape = "the shape" if c.layout == "denominator" else "the transposed shape"
    layout = (
        f"{c.layout.capitalize()} layout: each derivative has {shape} of its variable."
    )
    loss: Prose = {
        "generic": ("Loss: generic, the upstream derivatives stay symbols.",),
        "mse": prose(
            "Loss: mean squared error, {L}, where {T} holds the targets.",
            L=M(
                f"L = 1/(2N) Σᵢ ‖{y}ᵢ − {t}ᵢ‖²",
                rf"L = \frac{{1}}{{2N}} \sum_{{i}} \lVert {tex_letters(y)}_{{i}} - "
                rf"{tex_letters(t)}_{{i}} \rVert^{{2}}",
            ),
            **syms("T"),
        ),
        "sum": prose(
            "Loss: the sum of the outputs, {L}.",
            L=M(f"L = Σᵢⱼ {y}ᵢⱼ", rf"L = \sum_{{ij}} {tex_letters(y)}_{{ij}}"),
        ),
        "softmax-ce": prose(
            "Loss: softmax cross-entropy, {L}, with $P$ the row-wise softmax of {Y} and "
            "one-hot rows of {T}.",
            L=M(
                f"L = −(1/N) Σᵢⱼ {t}ᵢⱼ log pᵢⱼ",
                rf"L = -\frac{{1}}{{N}} \sum_{{ij}} {tex_letters(t)}_{{ij}} \log p_{{ij}}",
            ),
            **syms("Y", "T"),
        ),
    }[c.loss]
    items: list[Prose] = [
        (f"Convention: {c.conv.name} (", *source(c), ")."),
        order,
        (layout,),
        loss,
    ]
    if c.method != "jacobian":
        items.append((f"Method: {c.method}.",))
    parts.append(Items(tuple(items)))
    if closed:
        parts.append(
            Para(
                ("The results, proved below for these sizes:",),
                short=("Goal: prove, entry by entry,",),
            )
        )
    return parts


# -- notes placed by the page ---------------------------------------------------------------
def commutation(c: Config) -> Prose:
    """What K is, said where a Kronecker form uses it."""
    w = c.letters.of("W")
    return prose(
        "$K$ is the commutation matrix: it reorders a vectorized matrix into its "
        "transpose, {k}. It appears because {W} is used transposed in the forward map.",
        k=M(
            f"K·vec({w}) = vec({w}ᵀ)",
            rf"K \operatorname{{vec}}({tex_letters(w)}) = "
            rf"\operatorname{{vec}}({tex_letters(w)}^{{T}})",
        ),
        **syms("W"),
    )


def chain_jacobians(c: Config, var: str) -> tuple[M, M]:
    """J_f(y) and J_y(v), the two factors of the chain rule, in the output's entry letter
    (z in the column convention)."""
    y, v = c.letters.entry("Y"), c.letters.entry(var)
    return (
        M(f"J_f({y})", rf"J_f({tex_letters(y)})"),
        M(f"J_{y}({v})", rf"J_{{{tex_letters(y)}}}({tex_letters(v)})"),
    )


def entry_title(c: Config, var: str) -> Prose:
    """The sentence above a chain-rule entry written out as a sum."""
    jh, jy = chain_jacobians(c, var)
    # indexed from 0, "entry 1" would name the second entry: say "the first"
    first = c.index_base == 1
    return prose(
        "{entry} written out: the row {jh} times {column} of {jy}:",
        entry="Entry 1" if first else "The first entry",
        jh=jh,
        column="column 1" if first else "the first column",
        jy=jy,
    )


def entry_zeros(count: int) -> Prose:
    """The zeros of the Jacobian's column that drop out of the sum."""
    return (f"The other {count} entries of that column are 0 and drop out.",)


def entry_hidden(count: int) -> Prose:
    """The nonzero terms of an entry written out that the display limit leaves out."""
    word = "term" if count == 1 else "terms"
    return prose(
        f"The ⋯ stands for {count:,} more nonzero {word}, left out by the display limit "
        "({code}).",
        code=Code("--max-entries"),
    )


def upstream_notation(c: Config) -> tuple[Prose, Math, Prose]:
    """Introduces ȳ_ij := ∂L/∂y_ij (the index style of the other notes) for the upstream
    entries: in the large matrices (by default), or everywhere (``--upstream bar``)."""
    bar = _bar_m(c, display=True)
    math = Math(f"{bar.text},", f"{bar.tex},")
    if c.upstream == "bar":
        return (
            prose(
                "As asked ({code}), every upstream derivative is written in the adjoint "
                "notation of automatic differentiation,",
                code=Code("--upstream bar"),
            ),
            math,
            prose("where the bar marks a derivative of $L$, not a mean."),
        )
    return (
        (
            "Inside the large matrices below we write the upstream derivatives compactly,",
        ),
        math,
        prose(
            "in the adjoint notation of automatic differentiation (the bar marks a "
            "derivative of $L$, not a mean): a fraction would make each matrix row three "
            "times as tall and each entry twice as wide."
        ),
    )


def upstream_notation_short(c: Config) -> Prose:
    """The ȳ notation on a slide, one line."""
    return prose(
        ("Throughout" if c.upstream == "bar" else "Below")
        + ", {bar} (the bar marks a derivative of $L$).",
        bar=_bar_m(c, display=False),
    )


def _bar_m(c: Config, display: bool) -> M:
    """ȳᵢⱼ := ∂L/∂yᵢⱼ, the derivative a fraction when ``display`` (else with a slash)."""
    y = c.letters.entry("Y")
    letter = tex_letters(y)
    # ȳ, or the letter with a combining macron
    bar = "ȳ" if y == "y" else y + chr(0x304)
    dl = (
        rf"\frac{{\partial L}}{{\partial {letter}_{{ij}}}}"
        if display
        else rf"\partial L/\partial {letter}_{{ij}}"
    )
    return M(f"{bar}ᵢⱼ := ∂L/∂{y}ᵢⱼ", rf"\bar{{{letter}}}_{{ij}} := {dl}")


CODE_INTRO: Prose = (
    "In NumPy, each gradient in the shape of its variable, as a backward pass stores it:",
)
LEDGER: Prose = ("Shapes:",)
CERTIFICATE_INTRO: Prose = (
    "Each claim was checked exactly, entry by entry, on the symbolic matrices above "
    "(no floating point, no sampling).",
)
VERIFIED: Prose = ("All results are verified.",)


def _is_array(lhs: Deriv) -> bool:
    """∂Y/∂V of whole matrices: the tensor view's 4-D (3-D for b) array, drawn as a matrix."""
    return lhs.of == "Y" and not lhs.vec


def _drawn(c: Config, lhs: Deriv) -> M:
    """The derivative a sparsity picture draws: ∂vec(Y)/∂vec(V), ∂Y/∂V or ∂L/∂V."""
    if lhs.vec:
        return _dvec(c, lhs.wrt)
    if _is_array(lhs):
        return _dyv(c, lhs.wrt)
    return dl(c, lhs.wrt)


def sparsity_legend(c: Config, lhs: Deriv) -> Prose | None:
    """The line above a text drawing of the tensor view's array (# nonzero, . zero);
    None for an explicit Jacobian, whose rules separate its Kronecker blocks."""
    if not _is_array(lhs):
        return None
    return prose(
        "Nonzero pattern of {what} (# nonzero, . zero; the rules separate the {grid} "
        "grid of blocks {block}):",
        what=_dyv(c, lhs.wrt),
        grid=_dims_m(_shape_names(c, "Y")),
        block=partial(_entry(c, "Y", "ij"), letter_m(c.letters.of(lhs.wrt))),
    )


def sparsity_caption(
    c: Config,
    lhs: Deriv,
    shape: tuple[int, int],
    nnz: int,
    blocks: tuple[int, int] | None,
) -> Prose:
    """What a sparsity picture shows: which derivative, how sparse, what the rules mean."""
    rows, cols = shape
    total = rows * cols
    share = 100.0 * nnz / total if total else 0.0
    array = _is_array(lhs)
    out = prose(
        "Sparsity of {what}"
        + (f", the {3 if lhs.wrt == 'b' else 4}-D array" if array else "")
        + ", drawn as a {size} matrix: each filled square is a nonzero "
        f"entry, {nnz} of {total} {{share}}.",
        what=_drawn(c, lhs),
        size=times(rows, cols),
        share=M(f"({share:.1f} %)", rf"({share:.1f}\,\%)"),
    )
    if blocks is not None and (blocks[0] < rows or blocks[1] < cols):
        if array:  # the tensor view: an N×M grid of blocks ∂y_ij/∂V
            out += prose(
                " The rules separate its {grid} grid of blocks {block}, each {size} "
                "(the shape of {v}).",
                grid=times(rows // blocks[0], cols // blocks[1]),
                block=partial(_entry(c, "Y", "ij"), letter_m(c.letters.of(lhs.wrt))),
                size=times(*blocks),
                v=sym(lhs.wrt),
            )
        else:
            out += prose(
                " The rules separate its {size} blocks"
                + (", those of its Kronecker form." if lhs.vec else "."),
                size=times(*blocks),
            )
    if total >= 4096:
        out += (
            " A framework never builds this matrix: the closed form gives the same "
            "product at the cost of the forward pass.",
        )
    return out


# -- where learners trip ----------------------------------------------------------------------
def _arranged(c: Config, var: str) -> Prose:
    """How the views shown arrive at the matrix ∂L/∂V (which is no gradient vector)."""
    jacobian = (
        "the chain rule is carried out with vectors and Jacobians, and only its result "
        "is reshaped into a matrix"
    )
    index = (
        "index notation computes each entry on its own, as a sum over all outputs, and "
        "only then arranges the entries as a matrix"
    )
    tensor = prose(
        "contracting the array {dyv} with {dly} merely produces the components "
        "directly in this arrangement",
        dyv=_dyv(c, var),
        dly=dl(c, "Y"),
    )
    if c.method == "jacobian":
        return (jacobian + ".",)
    if c.method == "index":
        return (index + ".",)
    if c.method == "tensor":
        return (*tensor, ".")
    index = index.replace("index notation", "the index view", 1)
    return prose(
        f"in the Jacobian view {jacobian}; {index}; in the tensor view {{tensor}}.",
        tensor=tensor,
    )


def remarks(c: Config) -> list[Part]:
    """Gradient vs. rearranged matrix, and the layout (the shapes follow on the page)."""
    first = c.wrt[0]
    v, w = c.letters.of(first), c.letters.of("W")
    vt = tex_letters(v)
    parts: list[Part] = [
        Title(("The matrix of partial derivatives is not a gradient vector",)),
        Para(
            prose(
                "The loss is one function of all entries at once. Its gradient with "
                "respect to the entries of {v} is the column vector {grad}. The matrix "
                "{dl} holds the same numbers, rearranged into the shape of {v}"
                + (" transposed (numerator layout)" if c.layout == "numerator" else "")
                + ". It is a convenient arrangement of the gradient's components, not "
                "itself a gradient vector: {how}",
                how=_arranged(c, first),
                v=sym(first),
                grad=M(
                    f"∇_vec({v}) L = J_L(vec({v}))ᵀ",
                    rf"\nabla_{{\operatorname{{vec}}({vt})}} L = "
                    rf"J_L(\operatorname{{vec}}({vt}))^{{T}}",
                ),
                dl=dl(c, first),
            ),
            short=prose(
                "{dl} holds the components of the gradient {grad} rearranged into a "
                "matrix: it is not itself a gradient vector.",
                dl=dl(c, first),
                grad=M(f"∇_vec({v}) L", rf"\nabla_{{\operatorname{{vec}}({vt})}} L"),
            ),
        ),
        Title(("Layout, and why the shapes match",)),
    ]
    wt = tex_letters(w)
    if c.layout == "denominator":
        layout = Para(
            prose(
                "This derivation uses the denominator layout, the habit of "
                "deep-learning code: each derivative has the shape of its variable, "
                "so that a gradient step {step} subtracts matrices of the same shape. "
                "The shapes in each closed form fit together and give exactly that "
                "shape:",
                step=M(
                    f"{w} ← {w} − η·∂L/∂{w}",
                    rf"{wt} \leftarrow {wt} - \eta \, \partial L/\partial {wt}",
                ),
            ),
            short=(
                "Denominator layout: each derivative has the shape of its "
                "variable. Why the shapes match:",
            ),
        )
    else:
        layout = Para(
            prose(
                "This derivation uses the numerator layout, common in handwritten "
                "notes: each derivative has the transposed shape of its variable, and "
                "the gradient in the variable's own shape is its transpose, {grad}; a "
                "gradient step is {step}. The shapes in each closed form fit together "
                "and give the transposed shape:",
                grad=_gradient_m(w),
                step=M(
                    f"{w} ← {w} − η·∇_{w} L",
                    rf"{wt} \leftarrow {wt} - \eta \, \nabla_{{{wt}}} L",
                ),
            ),
            short=(
                "Numerator layout: each derivative has the transposed shape; the "
                "gradient is its transpose. Why the shapes match:",
            ),
        )
    return [*parts, layout]


def _order_remark(c: Config, kron_now: Node, kron_other: Node) -> list[Part]:
    """The vectorization order: what it changes (the Kronecker forms) and what not."""
    first = c.wrt[0]
    other = "col" if c.vec == "row" else "row"
    names = {"row": "row", "col": "column"}
    if c.method in ("index", "tensor"):  # these views never vectorize
        kron = {c.vec: kron_now, other: kron_other}
        return [
            Title(("No vectorization, no order",)),
            Para(
                prose(
                    f"The {c.method} view never vectorizes: every entry keeps its indices, "
                    "so nothing in it depends on an order. Only the Jacobians of the "
                    "vectorized map, which the certificate also checks, depend on it: in "
                    "row order {dvec}$ = ${row}, in column order {col}.",
                    dvec=_dvec(c, first),
                    row=F(kron["row"]),
                    col=F(kron["col"]),
                ),
                short=(f"The {c.method} view never vectorizes: no order enters it.",),
            ),
        ]
    return [
        Title(("The vectorization order matters",)),
        Para(
            prose(
                "The Jacobians depend on the order in which {vec} stacks the entries. "
                f"In {names[c.vec]} order, used here, {{dvec}}$ = ${{now}}; in "
                f"{names[other]} order it would be {{other}}. The final matrices do not "
                "depend on the order: reshaping undoes exactly the stacking that "
                "vectorizing did, as long as both use the same order.",
                vec=VEC,
                dvec=_dvec(c, first),
                now=F(kron_now),
                other=F(kron_other),
            ),
            short=(
                "The Kronecker form depends on the vectorization order; the final "
                "matrices do not.",
            ),
        ),
    ]


def entries_nonzero(total: M, count: int, nnz: int) -> Prose:
    """ "6×4 = 24 entries, of which only 12 are nonzero" in good English at every count:
    "1×1 = 1 entry, which is nonzero", "3×2 = 6 entries, all of them nonzero"."""
    if count == 1:
        return (total, " entry, which is " + ("nonzero" if nnz else "zero"))
    if nnz == count:
        return (total, " entries, all of them nonzero")
    if nnz == 1:
        return (total, " entries, of which only 1 is nonzero")
    return (total, f" entries, of which only {nnz} are nonzero")


def _held(c: Config, var: str) -> M:
    """What a framework would have to hold of Y's derivative by ``var`` in the view shown:
    the array ∂Y/∂V (tensor), the derivatives ∂y_ij/∂v_hk (index), else the Jacobian
    ∂vec(Y)/∂vec(V)."""
    return {"tensor": _dyv, "index": _index_entry}.get(c.method, _dvec)(c, var)


def _size_remark(c: Config, shape: tuple[int, int], nnz: int) -> list[Part]:
    """Why the Jacobian (the array, the derivatives) is never formed: its size."""
    first = c.wrt[0]
    jr, jc = shape
    size = jr * jc
    if c.method in ("tensor", "index"):  # ∂Y/∂V as an array: the Jacobian's entries
        total = join_m(_dims_m((), _array_dims(c, first)[1]), " = ", M(str(size)))
    else:
        total = M(f"{jr}×{jc} = {size}", rf"{jr} \times {jc} = {size}")
    title: Prose
    held = _held(c, first)
    what = prose("{d} has", d=held)
    if c.method == "tensor":
        title = prose("Why no framework builds {d}", d=held)
        why = (
            "Its delta structure is what makes a closed form possible: contracting it "
        )
        never = "the array"
    elif c.method == "index":
        title = ("Why no framework stores these derivatives",)
        what = prose(
            "Stored for all indices, the derivatives {d} would fill an array of", d=held
        )
        why = "The Kronecker delta is what makes a closed form possible: summing them "
        never = "them"
    else:
        title = ("Why no framework builds the Jacobian",)
        why = "Its Kronecker structure is what makes a closed form possible: "
        never = "the Jacobian"
    grows = "with the square of the batch" if first == "X" else "with the batch"
    collapse = (
        "the upstream row times the Jacobian"
        if c.method not in ("tensor", "index")
        else "with the upstream derivatives"
    )
    return [
        Title(title),
        Para(
            prose(
                f"{{what}} {{entries}}, and the count grows {grows}. {why}{collapse} "
                "collapses to a product of the small matrices, which costs about as "
                "much as the forward pass. Backpropagation code therefore never forms "
                f"{never}; it evaluates the closed form.",
                what=what,
                entries=entries_nonzero(total, size, nnz),
            ),
            short=(),
        ),
    ]


def _shape_names(c: Config, role: str) -> tuple[str, ...]:
    """The shape of ``role`` in the derivation's size names (--names D=d_in: N×d_in)."""
    return tuple(c.conv.shapes[role].names(c.letters.sizes))


def _entries_of(c: Config, var: str) -> tuple[str, ...]:
    """The size names whose product counts the entries of ``var``: N, D for X (in its
    shape's order), M for the bias (a row or a column alike)."""
    return (c.size_names[2],) if var == "b" else _shape_names(c, var)


def _count_m(names: tuple[str, ...]) -> M:
    """A number of entries as a product of size names: N·M (TeX: N M, as in ℝ^{N M})."""
    return M("·".join(names), " ".join(size_m(n).latex for n in names))


def _array_dims(c: Config, var: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The size names and sizes of ∂Y/∂V as an array, Y's indices first: N×M×N×D
    (M×N×D×N when samples are columns), N×M×M for b."""
    if var == "b":  # one index: b_k
        return (*_shape_names(c, "Y"), c.size_names[2]), (*c.shape("Y"), c.m)
    names = (*_shape_names(c, "Y"), *_shape_names(c, var))
    return names, (*c.shape("Y"), *c.shape(var))


def _index_entry(c: Config, var: str) -> M:
    """∂y_ij/∂x_hk, the index view's entry derivative (∂y_ij/∂b_k for the bias)."""
    return partial(_entry(c, "Y", "ij"), _entry(c, var, "k" if var == "b" else "hk"))


def remarks_after_shapes(
    c: Config,
    kron_now: Node,
    kron_other: Node,
    jacobian_shape: tuple[int, int] | None,
    nnz: int,
) -> list[Part]:
    """The remarks that follow the shapes: vec order, the Jacobian's size, the bias."""
    # The bias fills Y along the batch: every row (samples as rows), every column in wx.
    line, axis = ("column", 1) if c.conv.samples_as_columns else ("row", 0)
    count = f", a column of {c.n} ones" if c.n > 1 else ", here the single number 1"
    parts: list[Part] = _order_remark(c, kron_now, kron_other)
    if jacobian_shape is not None:
        parts += [*_size_remark(c, jacobian_shape, nnz), memory(c)]
    parts += [
        Title(("The bias is broadcast",)),
        Para(
            prose(
                f"The same bias is added to every {line} of {{Y}} through {{ones}}{count}. "
                f"Each bias entry therefore influences one output in every {line}, and its "
                "derivative adds up the upstream derivatives over the batch: that sum is "
                f"the product with the ones vector, NumPy's sum over axis {axis}.",
                ones=F(Ones("N")),
                **syms("Y"),
            ),
            short=(),
        ),
    ]
    return parts


# -- the mathematical background --------------------------------------------------------------
#: The gradient and the Jacobian matrix written out, one matrix row a line.
_GRADIENT_TEX = r"""\nabla f(x) = \begin{bmatrix}
\frac{\partial f}{\partial x_{1}}(x) & \cdots & \frac{\partial f}{\partial x_{n}}(x)
\end{bmatrix}^{T}."""
_JACOBIAN_TEX = r"""J_{g}(x) = \begin{bmatrix}
\frac{\partial g_{1}}{\partial x_{1}} & \cdots & \frac{\partial g_{1}}{\partial x_{n}} \\
\vdots & \ddots & \vdots \\
\frac{\partial g_{m}}{\partial x_{1}} & \cdots & \frac{\partial g_{m}}{\partial x_{n}}
\end{bmatrix} = \begin{bmatrix}
\nabla g_{1}(x)^{T} \\
\vdots \\
\nabla g_{m}(x)^{T}
\end{bmatrix}."""


def background(method: str = "jacobian") -> list[Part]:
    """Gradient, Jacobian matrix, chain rule, vectorization and the Kronecker product.

    ``method``: the view(s) on the page; the index and tensor views keep every index
    and do not vectorize, which the background then says where it speaks of vec."""
    keeps = method in ("index", "tensor")
    view = f" The {method} view keeps every index instead and needs no vectorization."
    f_rn = M("f: ℝⁿ → ℝ", r"f\colon \mathbb{R}^n \to \mathbb{R}")
    g_rn = M("g: ℝⁿ → ℝᵐ", r"g\colon \mathbb{R}^n \to \mathbb{R}^m")
    m_n = M("m×n", r"m \times n")
    f_g = M("f∘g", r"f \circ g")
    return [
        Title(("Gradient",)),
        Para(
            prose(
                "Let {f} be differentiable. Its gradient at {x} collects the partial "
                "derivatives in a column vector,",
                f=f_rn,
                x=M("x ∈ ℝⁿ", r"x \in \mathbb{R}^n"),
            ),
            short=(),
        ),
        Math("∇f(x) = [∂f/∂x₁(x) … ∂f/∂xₙ(x)]ᵀ.", _GRADIENT_TEX, slides=False),
        Para(
            (
                "It points in the direction of steepest ascent; gradient descent steps "
                "against it. It is defined for a function of a vector, which is why matrices "
                "are vectorized before anything is differentiated"
                + (" in Jacobian form." + view if keeps else "."),
            ),
            short=(),
        ),
        Title(("Jacobian matrix",)),
        Para(
            prose(
                "Let {g} be differentiable. Its Jacobian matrix at $x$ is the {mn} matrix "
                "whose row $i$ holds the partial derivatives of output $i$, {gi}:",
                g=g_rn,
                mn=m_n,
                gi=M("gᵢ", "g_i"),
            ),
            short=prose(
                "For {g} the Jacobian $J_g(x)$ is the {mn} matrix of partial derivatives "
                "{dg}.",
                g=g_rn,
                mn=m_n,
                dg=M("∂gᵢ/∂xₖ", r"\partial g_i/\partial x_k"),
            ),
        ),
        Math(
            "J_g(x) = [∂gᵢ/∂xₖ]ᵢₖ = [∇g₁(x)ᵀ; …; ∇gₘ(x)ᵀ].", _JACOBIAN_TEX, slides=False
        ),
        Para(
            prose(
                "For a scalar function ($m = 1$) the Jacobian is a single row, the "
                "transposed gradient: {jf}. Row $i$ answers how output $i$ moves; column "
                "$k$ answers what input $k$ moves.",
                jf=M("J_f(x) = ∇f(x)ᵀ", r"J_f(x) = \nabla f(x)^{T}"),
            ),
            short=(),
        ),
        Title(("Chain rule in higher dimensions",)),
        Para(
            prose(
                "Let {g} and {f} be differentiable. Then {fg} is differentiable, and its "
                "Jacobian is the product of the Jacobians, the outer one taken at the "
                "inner value:",
                g=g_rn,
                f=M("f: ℝᵐ → ℝᵖ", r"f\colon \mathbb{R}^m \to \mathbb{R}^p"),
                fg=f_g,
            ),
            short=prose("For {fg}, the chain rule in higher dimensions:", fg=f_g),
        ),
        Math(
            "J_(f∘g)(x) = J_f(g(x))·J_g(x).",
            r"J_{f \circ g}(x) = J_{f}\bigl(g(x)\bigr) \, J_{g}(x).",
        ),
        Para(
            ("Entry by entry, this is a sum over the intermediate values:",), short=()
        ),
        Math(
            "∂(f∘g)ᵢ/∂xₖ(x) = Σᵣ ∂fᵢ/∂gᵣ(g(x))·∂gᵣ/∂xₖ(x):",
            r"\frac{\partial (f\circ g)_{i}}{\partial x_{k}}(x) = "
            r"\sum_{r=1}^{m} \frac{\partial f_{i}}{\partial g_{r}}\bigl(g(x)\bigr) \, "
            r"\frac{\partial g_{r}}{\partial x_{k}}(x):",
        ),
        Para(
            prose(
                "every path from {xk} to the output through an intermediate {gr} "
                "contributes. In backpropagation the loss is $L = f(y(v))$ with $p = 1$: "
                "$J_f$ is the row of upstream derivatives, $J_y$ the layer's Jacobian, and "
                "the product is the row $J_L(v)$, the transposed gradient.",
                xk=M("xₖ", "x_k"),
                gr=M("gᵣ", "g_r"),
            ),
            short=prose(
                "Backpropagation: $L = f(y(v))$, $J_f$ is the row of upstream "
                "derivatives, $J_y$ the layer's Jacobian; matrices are vectorized first, "
                "so that every derivative is an ordinary matrix."
                + (view if keeps else "")
            ),
        ),
        Title(("Vectorization and the Kronecker product",)),
        Para(
            prose(
                "{vec} stacks the entries of a matrix into one column, row after row (row "
                "order) or column after column (column order). The Kronecker product {ab} "
                "of an {mn} matrix $A$ with $B$ is the block matrix whose block $(i, j)$ "
                "is {aij}. With column order, {col}; with row order, {row}. These "
                "identities are where the Kronecker forms of the Jacobians come from. The "
                "commutation matrix $K$ reorders a vectorized matrix into its transpose: "
                "{k}.",
                vec=M("vec(A)", r"\operatorname{vec}(A)"),
                ab=M("A ⊗ B", r"A \otimes B"),
                mn=m_n,
                aij=M("aᵢⱼ·B", "a_{ij} B"),
                col=M(
                    "vec(A X B) = (Bᵀ ⊗ A)·vec(X)",
                    r"\operatorname{vec}(A X B) = (B^{T} \otimes A)\operatorname{vec}(X)",
                ),
                row=M(
                    "vec(A X B) = (A ⊗ Bᵀ)·vec(X)",
                    r"\operatorname{vec}(A X B) = (A \otimes B^{T})\operatorname{vec}(X)",
                ),
                k=M(
                    "K·vec(A) = vec(Aᵀ)",
                    r"K \operatorname{vec}(A) = \operatorname{vec}(A^{T})",
                ),
            ),
            short=(),
        ),
    ]


# -- certificate claims -----------------------------------------------------------------------
class Claim(StrEnum):
    """What a line of the certificate claims; the value is its plain-text name (JSON)."""

    KRONECKER = "Jacobian = Kronecker form"
    CLOSED_FORM = "chain rule = closed form"
    INDEX = "index notation = chain rule"
    TENSOR = "tensor contraction = chain rule"
    # a network's (symderiv.net)
    DIAGONAL = "Jacobian = diagonal form"
    NETWORK = "through the whole network"
    SOFTMAX = "softmax Jacobian = block form"
    ROUTES = "chain rule = fused log-softmax route"
    ONE_HOT = "both routes = (P − T)/N, as Σⱼ tᵢⱼ = 1"


#: The claims whose sentence has maths (the others are their plain-text name).
CLAIMS: dict[str, Prose] = {
    Claim.ONE_HOT: prose(
        "both routes = {pt}, as {sum}",
        pt=M("(P − T)/N", "(P - T)/N"),
        sum=M("Σⱼ tᵢⱼ = 1", r"\sum_{j} t_{ij} = 1"),
    ),
}


def claim(text: str) -> Prose:
    """The sentence of a certificate claim (a Claim's value)."""
    return CLAIMS.get(text, (text,))


# -- a network's layers and its backward pass (symderiv.net) ----------------------------------
def net_layer(kind: str, index: int, width: int) -> str:
    """A layer of a network, named alike in every title: "Layer 1 (affine, 3 outputs)",
    or "Activation after layer 1 (relu)"; ``width``: its number of outputs."""
    if kind == "affine":
        return f"Layer {index} (affine, {width} output{'' if width == 1 else 's'})"
    return f"Activation after layer {index} ({kind})"


def net_summary_uses(loss: str, upstream: F, targets: F) -> Prose:
    """What each line of a network's backward pass reads, exactly: results of lines above
    it (never only the line just before: dW2 and dA1 both read dZ2), the weights, the
    loss's data (``upstream`` dY handed in, or the ``targets``) and cached values."""
    data: Prose = {
        "generic": (", the upstream derivative ", upstream),
        "mse": (", the targets ", targets),
        "softmax-ce": (", the targets ", targets),
    }.get(loss, ())
    return prose(
        "The backward pass a student implements, top down: each line uses only results "
        "of lines above it, the weights{data} and values the forward pass cached.",
        data=data,
    )


# -- the steps of the Jacobian method (titles and notes, placed by symderiv.derive) ------------
def _entry(c: Config, role: str, index: str) -> M:
    return entry_m(c.letters.entry(role), index)


def define_note(c: Config) -> Prose:
    """The layer and its symbols."""
    nouns = ("sample", "input feature", "output feature")
    sizes = [
        prose("{size} " + noun + ("" if value == 1 else "s"), size=size)
        for size, value, noun in zip(
            size_equations(c), (c.n, c.d, c.m), nouns, strict=True
        )
    ]
    return prose(
        f"{{sizes}}; convention {c.conv.name} ({{source}}). Every entry is its own "
        f"symbol, indexed from {c.index_base}.",
        sizes=joined(sizes, ", "),
        source=source(c),
    )


def forward_note(c: Config) -> Prose:
    """Y = X W + 1_N b, entry by entry (Y = W X + b 1_Nᵀ with samples as columns)."""
    if c.conv.samples_as_columns:
        return prose(
            "Column $j$ of {Y} is the output for sample $j$; the bias is added to every "
            "column ({b1} repeats {b} in each of the {N} columns).",
            b1=F(Prod(Sym("b"), T(Ones("N")))),
            N=size_m("N"),
            **syms("Y", "b"),
        )
    return prose(
        "Row $i$ of {Y} is the output for sample $i$; the bias is added to every row "
        "({ones} is a column of {n}ones).",
        ones=F(Ones("N")),
        # --bold writes 1 without its length (seed 000): say it here
        n=(size_m(c.size_names[0]), " ") if c.bold else (),
        **syms("Y"),
    )


def upstream_note(c: Config) -> Prose:
    """What the upstream derivative is, for each loss, and f (what J_f(y) of the chain
    rule is, said before the chain rule uses it; the index and tensor views use none)."""
    y = c.letters.entry("Y")
    if c.method in ("index", "tensor"):
        return _upstream_value(c)
    return _upstream_value(c) + prose(
        " Write {L}, with $f$ everything after this layer ("
        + ("the layers above and the loss" if c.loss == "generic" else "here the loss")
        + "): in vec order these derivatives form the row Jacobian of $f$.",
        L=M(f"L = f({y})", f"L = f({tex_letters(y)})"),
    )


def _upstream_value(c: Config) -> Prose:
    """What the upstream derivative is, for each loss."""
    y = c.letters.entry("Y")
    yt = tex_letters(y)
    dy = _dl_entry(c, "Y", "ij")
    if c.loss == "generic":
        return prose(
            "Backpropagation hands the layer the upstream derivatives {dy} from the "
            "layers above; they stay symbols here{numbers}.",
            dy=dy,
            # --values: the numbers just shown stand in for them
            numbers=(
                (
                    ", and the numbers above stand in for them where the steps are "
                    "evaluated",
                )
                if c.values is not None
                else ()
            ),
        )
    if c.loss == "sum":
        return prose(
            "For {L} every upstream derivative is 1.",
            L=M(f"L = Σᵢⱼ {y}ᵢⱼ", rf"L = \sum_{{ij}} {yt}_{{ij}}"),
        )
    if c.loss == "softmax-ce":
        return prose(
            "Softmax cross-entropy: $P$ is the row-wise softmax of {Y} and each row of "
            "{T} is one-hot, so {dp} (derive --net with this loss derives it through the "
            "softmax Jacobian). Below, {dy} stands for this value.",
            dp=_loss_upstream(c, "ᵢⱼ"),
            dy=dy,
            **syms("Y", "T"),
        )
    return prose(
        "The chain starts one step earlier, at the loss: {dt}, where {T} holds the "
        "targets. Below, {dy} stands for this value; the identities hold for any "
        "upstream derivative, so in particular for this one.",
        dt=_loss_upstream(c, "ᵢⱼ"),
        dy=dy,
        **syms("T"),
    )


def _loss_upstream(c: Config, ij: str) -> M:
    """∂L/∂y_ij = (y_ij − t_ij)/N for mse, (p_ij − t_ij)/N for softmax-ce; ``ij`` is the
    Unicode subscript (ᵢⱼ, or _ij in the index view)."""
    y, t = c.letters.entry("Y"), c.letters.entry("T")
    yt, tt = tex_letters(y), tex_letters(t)
    p, pt = ("p", "p") if c.loss == "softmax-ce" else (y, yt)
    return M(
        f"∂L/∂{y}{ij} = ({p}{ij} − {t}{ij})/N",
        rf"\partial L/\partial {yt}_{{ij}} = ({pt}_{{ij}} - {tt}_{{ij}})/N",
    )


def vec_title(c: Config) -> Prose:
    return prose(f"Vectorize: {{Y}} as one vector ({c.vec} order)", **syms("Y"))


def vec_note(c: Config) -> Prose:
    return prose(
        "{vec} stacks the entries of a matrix into one column, here {order}. Every "
        "vector below uses the same order, so the Jacobians are ordinary matrices.",
        vec=VEC,
        order=prose("rows stacked ({code})", code=Code("reshape(-1)"))
        if c.vec == "row"
        else "columns stacked",
    )


def jacobian_title(c: Config, var: str) -> Prose:
    return prose("Jacobian of {y} with respect to {v}", y=_vec(c, "Y"), v=_vec(c, var))


def jacobian_note(c: Config, var: str, nnz: int, total: int) -> Prose:
    """Which entries of Y depend on which entries of var."""
    # y_ij is output j of sample i, or output i of sample j with samples as columns
    sample, output = ("j", "i") if c.conv.samples_as_columns else ("i", "j")
    line = "column" if c.conv.samples_as_columns else "row"
    weights = "row" if c.conv.weight_transposed or line == "column" else "column"
    where = {
        "X": f"depends on {line} ${sample}$ of {{v}} only",
        "W": f"depends only on the weights of output ${output}$ ({weights} ${output}$ "
        "of {v})",
        "b": "depends on {v} only, with derivative 1",
    }[var]
    return prose(
        f"Row $k$: output $k$ differentiated with respect to each entry of "
        f"{VARIABLE[var]}; {{yij}} {where}. Nonzero entries: {nnz} of {total}.",
        yij=_entry(c, "Y", "ij"),
        v=_entry(c, "b", output) if var == "b" else sym(var),
    )


def chain_title(c: Config, var: str) -> Prose:
    return ("Chain rule for ", sym(var))


def chain_note(c: Config, var: str) -> Prose:
    y, v = c.letters.entry("Y"), c.letters.entry(var)
    yt, vt = tex_letters(y), tex_letters(v)
    row = _count_m(_shape_names(c, "Y"))  # J_f(y) is 1×(N·M), as the shape lines say
    jh, jy = chain_jacobians(c, var)
    return prose(
        "As {L}, with $f$ everything after this layer, the chain rule in higher "
        "dimensions multiplies the {row} row {jh} of upstream derivatives by the "
        "Jacobian {jy}. Entry $k$ of the result is {sum}.",
        L=M(f"L = f({y}({v}))", f"L = f({yt}({vt}))"),
        jh=jh,
        jy=jy,
        row=M(f"1×({row.text})", rf"1 \times ({row.latex})"),
        sum=M(
            f"Σᵣ ∂L/∂{y}ᵣ · ∂{y}ᵣ/∂{v}ₖ",
            rf"\sum_{{r}} \partial L/\partial {yt}_{{r}} \cdot "
            rf"\partial {yt}_{{r}}/\partial {vt}_{{k}}",
        ),
    )


def reshape_title(c: Config, var: str) -> Prose:
    return ("Reshape into a matrix: ", dl(c, var))


def reshape_note(c: Config, var: str) -> Prose:
    v = sym(var)
    if c.layout == "numerator":
        lv = c.letters.of(var)
        y = c.letters.entry("Y")
        out = prose(
            "Numerator layout: {dl} takes the shape of {vt}, as in notes that write {dy} "
            "with one row per output; the gradient in {v}'s own shape is its transpose, "
            "{grad}.",
            dl=dl(c, var),
            vt=_transposed_m(lv),
            dy=partial(LOSS, letter_m(y)),
            v=v,
            grad=_gradient_m(lv),
        )
    else:
        out = prose(
            "Entry by entry, $J_L$ lists {dv} for every entry $v$ of {v}; putting each "
            "back where $v$ sits in {v} (undoing {vec}) gives a matrix of {v}'s shape.",
            dv=M("∂L/∂v", r"\partial L/\partial v"),
            v=v,
            vec=VEC,
        )
    if var == "X":
        out += prose(
            " Note that {dl} is a rearrangement of the components of the gradient of $L$, "
            "not itself a gradient vector.",
            dl=dl(c, var),
        )
    return out


def closed_title(c: Config, var: str) -> Prose:
    return ("Closed form of ", dl(c, var))


CLOSED_NOTE: Prose = (
    "The matrix above is exactly this product, entry by entry (see the certificate).",
)
SUMMARY_TITLE: Prose = ("Backpropagation through the layer",)


def summary_note(c: Config) -> Prose:
    out: Prose = (
        "These are the formulas a backward pass implements; every one was checked "
        + (
            "against the explicit chain rule above."
            if c.method in ("jacobian", "all")
            else "against the explicit chain rule (see the certificate)."
        ),
    )
    if c.conv.samples_as_columns:  # where deeplearning.ai's 1/m goes
        out += prose(
            " deeplearning.ai writes {dw} and {db}: its cost {cost} averages over the $m$ "
            "samples, but its $dZ$ is the un-averaged derivative of the batch, {mdj} "
            "(each column is the derivative of its own sample's {loss}), so the $1/m$ is "
            "applied in the parameter gradients. Here {dy} is the derivative of the whole "
            "loss, which already holds that factor (for the mean loss, {mean}), so {ours} "
            "is the same number.",
            dw=M("dW = 1/m·dZ·Aᵀ", r"dW = \frac{1}{m}\, dZ\, A^{T}"),
            db=M("db = 1/m·Σ dZ", r"db = \frac{1}{m} \sum dZ"),
            cost=M("J = 1/m·Σ ℒ", r"J = \frac{1}{m} \sum \mathcal{L}"),
            mdj=M("m·∂J/∂Z", r"m\, \partial J/\partial Z"),
            loss=M("ℒ", r"\mathcal{L}"),
            dy=M("dY = ∂L/∂Y", r"dY = \partial L/\partial Y"),
            mean=M("dY = (Y − T)/N", "dY = (Y - T)/N"),
            ours=M("dW = dY·Xᵀ", r"dW = dY\, X^{T}"),
        )
    return out


# -- teaching devices (issue 15): the memory argument, the function view, both slicings,
# -- the numbers of --values ------------------------------------------------------------------
#: Digits, signs and parentheses as superscripts: "(12)" -> "⁽¹²⁾".
SUPERSCRIPT = str.maketrans("0123456789()-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻")


def _sup(k: int) -> str:
    return str(k).translate(SUPERSCRIPT)


def sci_m(value: int) -> M:
    """A large count as 6.9·10¹⁰ (two digits), or written out below 10⁴."""
    if value < 10_000:
        return M(str(value))
    exponent = len(str(value)) - 1
    mantissa = value / 10**exponent
    return M(
        f"{mantissa:.1f}·10{_sup(exponent)}",
        rf"{mantissa:.1f} \cdot 10^{{{exponent}}}",
    )


def bytes_m(nbytes: int) -> str:
    """256 GiB, 1 MiB: the binary unit that keeps the number readable (plain words)."""
    from .teaching import binary_size

    value, unit = binary_size(nbytes)
    shown = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
    return f"{shown} {unit}"


def memory(c: Config) -> Para:
    """The memory argument at a real layer (CS231n's, N = 64, D = M = 4096): the explicit
    Jacobian against the vector-Jacobian product, with every number computed by
    :mod:`symderiv.teaching`."""
    from .teaching import memory_argument

    arg = memory_argument()
    n, d, m = c.size_names
    x = arg.cost("X")
    tn, td, tm = (size_m(name).latex for name in c.size_names)
    same = arg.d == arg.m  # N = 64, D = M = 4096
    at = M(
        f"{n} = {arg.n}, {d} = "
        + (f"{m} = {arg.d}" if same else f"{arg.d}, {m} = {arg.m}"),
        f"{tn} = {arg.n},\\ {td} = "
        + (f"{tm} = {arg.d}" if same else f"{arg.d},\\ {tm} = {arg.m}"),
    )
    held, entries = _held(c, "X"), sci_m(x.entries)
    size, result = bytes_m(x.bytes), bytes_m(x.vjp_bytes)
    # what would be stored: the Jacobian, or ∂Y/∂X as an array (the views that keep
    # every index); and what computes the result instead
    if c.method in ("tensor", "index"):
        real = dict(zip(c.size_names, (arg.n, arg.d, arg.m), strict=True))
        array = _dims_m((), tuple(real[k] for k in _array_dims(c, "X")[0]))
        stored = prose(
            "the derivatives {d} alone would fill a {s} array"
            if c.method == "index"
            else "{d} alone would be a {s} array",
            d=held,
            s=array,
        )
        product = "The closed form"
    else:
        stored = prose(
            "{d} alone would be a {s} matrix", d=held, s=times(x.rows, x.cols)
        )
        product = "The vector-Jacobian product"
    return Para(
        prose(
            "At the size of a real layer, {at} (a minibatch of 64 through a 4096-wide "
            f"layer), {{stored}}: {{entries}} entries, "
            f"{size} in float32 (4 bytes each), though only {{nonzeros}} of them are "
            f"nonzero. {product} {{vjp}} needs {{flops}} multiply-adds and "
            f"stores a result the size of {{X}}: {result}.",
            at=at,
            stored=stored,
            entries=entries,
            nonzeros=sci_m(x.nonzeros),
            vjp=F(c.conv.closed_form("X")),
            flops=sci_m(x.vjp_flops),
            **syms("X"),
        ),
        short=prose(
            f"At {{at}}: {{dvec}} has {{entries}} entries ({size} in float32); the closed "
            f"form never builds it, and its result takes {result}.",
            at=at,
            dvec=held,
            entries=entries,
        ),
    )


def function_view(
    c: Config, var: str, domain: int, codomain: int, symbols: bool = True
) -> Para:
    """Seed 002's route: the layer as a function of one variable's entries.

    ``symbols``: the Jacobian's matrix of symbols is shown (else only its values, and
    the sentence says so)."""
    others = [r for r in ("X", "W", "b") if r != var]
    # the entries of var and of Y, counted as the shape lines count them: torch's W
    # (M×D) has M·D entries, wx's Y (M×N) M·N
    count = _count_m(_entries_of(c, var))
    outputs = _count_m(_shape_names(c, "Y"))
    held = {"a": sym(others[0]), "b": sym(others[1])}
    # vec(V) ↦ vec(Y) written out: a bare letter would name both a matrix and its
    # vector (torch's x and y), or the map and a matrix
    vv, vy = _vec(c, var), _vec(c, "Y")
    maps = M(f"{vv.text} ↦ {vy.text}", rf"{vv.latex} \mapsto {vy.latex}")
    jy = chain_jacobians(c, var)[1]
    dims = M(
        f"ℝ{_sup(domain)} → ℝ{_sup(codomain)}",
        rf"\mathbb{{R}}^{{{domain}}} \to \mathbb{{R}}^{{{codomain}}}",
    )
    return Para(
        prose(
            "Seen as a function of the entries of {v} alone, the layer is the map {map} "
            "from {domain} to {codomain}, here {dims}, with {a} and {b} held constant: "
            "their entries are numbers here, not variables. Its Jacobian {jy} "
            + (
                "is first the matrix of symbols "
                if symbols
                else "holds the derivatives "
            )
            + "{d}, one row per output and one column per entry of {v}"
            # no longer than the sentence was: the slides size a frame by its notes
            + ("; then each is evaluated." if symbols else ", shown evaluated."),
            v=sym(var),
            map=maps,
            domain=M(f"ℝ^({count.text})", rf"\mathbb{{R}}^{{{count.latex}}}"),
            codomain=M(f"ℝ^({outputs.text})", rf"\mathbb{{R}}^{{{outputs.latex}}}"),
            dims=dims,
            jy=jy,
            d=partial(*_slice_entries(c, var)),
            **held,
        ),
        short=prose(
            "{map}, {dims}, {a} and {b} held constant: its Jacobian"
            + (" as symbols, then evaluated." if symbols else ", evaluated."),
            map=maps,
            dims=dims,
            **held,
        ),
    )


def _slice_entries(c: Config, var: str) -> tuple[M, M]:
    """y_ij and v_kl (v_k for the bias), the entries of the function view and the slicing."""
    y, v = c.letters.entry("Y"), c.letters.entry(var)
    idx, sub = ("k", "ₖ") if var == "b" else ("kl", "ₖₗ")
    return M(f"{y}ᵢⱼ", f"{y}_{{ij}}"), M(f"{v}{sub}", f"{v}_{{{idx}}}")


def slicing(c: Config, var: str, shown: int = 0, total: int = 0) -> Para:
    """The other slicing of the derivative tensor (CS231n, seed 003), and why both
    slicings give the same numbers; ``shown`` of the ``total`` slices are displayed
    (all of them are checked)."""
    yij, vkl = _slice_entries(c, var)
    partial_slices = 0 < shown < total
    terms: dict[str, Segment] = {
        "dyv": partial(yij, vkl),
        "slice": partial(letter_m(c.letters.of("Y")), vkl),
        "dlv": partial(LOSS, vkl),
        **syms("Y", "dY"),
    }
    return Para(
        prose(
            "The same derivatives {dyv} can be sliced the other way: fix one entry {vkl} "
            "and collect its effect on every output in a matrix shaped like {Y}, {slice}. "
            "Multiplying it entry by entry with {dY} and adding up gives {dlv}. The "
            "Jacobian above slices by output instead: its row for {yij} holds {dyv} for "
            "every entry of {v}. Both give the same numbers, because both add up the same "
            "products {products}, once grouped by input entry and once by output entry "
            "(checked entry by "
            + (
                f"entry; the first {shown} of {total} slices shown, all {total} checked):"
                if partial_slices
                else "entry):"
            ),
            vkl=vkl,
            yij=yij,
            v=sym(var),
            products=M(
                f"{partial(LOSS, yij).text} · {partial(yij, vkl).text}",
                rf"\frac{{\partial L}}{{\partial {yij.latex}}} \, "
                rf"\frac{{\partial {yij.latex}}}{{\partial {vkl.latex}}}",
            ),
            **terms,
        ),
        short=prose(
            "The other slicing: {slice} is shaped like {Y}; contracted with {dY} it "
            "gives {dlv}, the same numbers"
            + (
                f" (the first {shown} of {total} shown, all checked)."
                if partial_slices
                else "."
            ),
            **{k: terms[k] for k in ("slice", "Y", "dY", "dlv")},
        ),
    )


def values_note(c: Config, first: bool = True) -> Prose:
    """The numbers of ``--values``: what they are (in full the first time)."""
    if not first:
        return ("With the numbers:",)
    return prose(
        "With numbers ({code}): small integers in place of the symbols, so that each "
        "step can be followed by hand.",
        code=Code(f"--values {c.values}"),
    )


# -- the index and tensor views (titles and notes, placed by symderiv.views) ------------------
def joined(items: Sequence[Segment | Prose], sep: str, last: str = "") -> Prose:
    """The items (segments or sentences) with ``sep`` between them, ``last`` (when
    given) before the last one: N, D, M or the input X, the weights W and the bias b."""
    out: list[Segment] = []
    for n, item in enumerate(items):
        if n:
            out.append(last if last and n == len(items) - 1 else sep)
        out += item if isinstance(item, tuple) else (item,)
    return tuple(out)


def _and(pairs: list[tuple[str, str]]) -> Prose:
    """k = i and l = j, each equation maths."""
    return joined([M(f"{a} = {b}") for a, b in pairs], " and ")


def _range(name: str, size: str, base: int) -> M:
    """i = 1…N (or i = 0…N−1), the size in the convention's size names."""
    s = size_m(size)
    if base == 1:
        return M(f"{name} = 1…{size}", rf"{name} = 1, \dots, {s.latex}")
    return M(f"{name} = 0…{size}−1", rf"{name} = 0, \dots, {s.latex} - 1")


def _sizes_eq(c: Config) -> Prose:
    """N=2, D=2, M=3 as maths, one equation per size."""
    return joined(size_equations(c, "="), ", ")


def _dl_entry(c: Config, var: str, index: str) -> M:
    """∂L/∂w_hk."""
    return partial(LOSS, entry_m(c.letters.entry(var), index))


def _dyv(c: Config, var: str) -> M:
    """∂Y/∂W (whole matrices)."""
    return partial(letter_m(c.letters.of("Y")), letter_m(c.letters.of(var)))


def _dims_m(names: tuple[str, ...], sizes: tuple[int, ...] = ()) -> M:
    """N×M×N×D, or 2×3×2×2 (sizes given)."""
    if sizes:
        return M("×".join(map(str, sizes)), r"\times ".join(map(str, sizes)))
    return M("×".join(names), r"\times ".join(size_m(n).latex for n in names))


def index_forward_title() -> Prose:
    return ("Index notation: the forward pass for any sizes",)


def index_forward_note(c: Config, ranges: tuple[tuple[str, str], ...]) -> Prose:
    """The sizes stay symbols; ``ranges`` pairs each index with its size name."""
    return prose(
        "The sizes {sizes} stay symbols and every entry carries its indices ({ranges}). "
        "sympy expands {layer} entry by entry; every step of this view is computed by "
        "sympy from here.",
        sizes=joined([size_m(name) for name in c.size_names], ", "),
        ranges=joined([_range(i, size, c.index_base) for i, size in ranges], ", "),
        layer=layer(c),
    )


def index_partial_title(c: Config, var: str, index: str) -> Prose:
    return ("Index notation: ", partial(_entry(c, "Y", "ij"), _entry(c, var, index)))


def index_partial_note(deltas: list[tuple[str, str]], var: str = "X") -> Prose:
    """The Kronecker delta; ``deltas`` are the index equations it leaves.

    For b no sum is differentiated: each output entry holds one bias entry, alone."""
    how = (
        "Each output entry contains exactly one bias entry, added with coefficient 1, so "
        "sympy's derivative is that delta itself"
        if var == "b"
        else "sympy differentiates the sum term by term and the sum keeps only the term "
        "where the delta is 1"
    )
    return prose(
        "The derivative of one entry with respect to another is 1 when they are the same "
        "entry and 0 "
        f"otherwise: a Kronecker delta. {how}{{tail}}.",
        tail=("; what is left is nonzero only when ", *_and(deltas)) if deltas else (),
    )


def index_chain_title(c: Config, var: str, index: str) -> Prose:
    return ("Index notation: chain rule for ", _dl_entry(c, var, index))


def index_chain_note(c: Config, var: str, index: str) -> Prose:
    y = c.letters.entry("Y")
    yt = tex_letters(y)
    loss: Prose = {
        "generic": (),
        "sum": prose(
            " For {L} every {dy} is 1.",
            L=M(f"L = Σ {y}_ij", rf"L = \sum {yt}_{{ij}}"),
            dy=M(f"∂L/∂{y}_ij", rf"\partial L/\partial {yt}_{{ij}}"),
        ),
        "mse": prose(" For the MSE loss {dy}.", dy=_loss_upstream(c, "_ij")),
        "softmax-ce": prose(
            " For softmax cross-entropy {dy}.", dy=_loss_upstream(c, "_ij")
        ),
    }[c.loss]
    return prose(
        "$L$ depends on {v} through every output {y}, so the chain rule sums over all of "
        "them.{loss}",
        v=entry_m(c.letters.entry(var), index),
        y=entry_m(y, "ij"),
        loss=loss,
    )


def index_closed_title(c: Config, var: str) -> Prose:
    return ("Index notation: collapse the delta, read off ", dl(c, var))


def index_closed_note(c: Config, index: str, pinned: list[str]) -> Prose:
    """The collapsed sum is entry ``index`` of the closed form; ``pinned``: summed indices."""
    return prose(
        "{pinned}What is left is entry {where} of the closed form (sympy expands the "
        "product entry by entry and finds the same sum), for all sizes"
        + (
            "; in numerator layout it is the transposed entry"
            if c.layout == "numerator"
            else ""
        )
        + ". Summed at {sizes} it gives the matrix above, equal to the chain-rule result "
        "(see the certificate).",
        pinned=prose(
            "The delta keeps one term of the sum over {i}. ", i=M(", ".join(pinned))
        )
        if pinned
        else (),
        where=M(index) if len(index) == 1 else M(f"({', '.join(index)})"),
        sizes=_sizes_eq(c),
    )


def index_detail(entry: M, value: M, general: bool, c: Config, detail: Prose) -> Prose:
    """The certificate line of the index view: the entry for all sizes, then summed."""
    return prose(
        ("{eq} for all sizes" if general else "{eq} NOT for all sizes")
        + " (sympy); summed at {sizes} it {detail}",
        eq=join_m(entry, " = ", value),
        sizes=_sizes_eq(c),
        detail=detail,
    )


def index_differs(at: tuple[int, int], got: Code, want: Code) -> Prose:
    where = differs(at, "index notation gives", got, "the chain rule", want)
    return prose("differs at {where}", where=where)


INDEX_AGREES: Prose = ("equals the chain-rule result",)


def tensor_title(c: Config, var: str, ndim: int) -> Prose:
    return ("Tensor view: ", _dyv(c, var), f" as a {ndim}-D array")


def tensor_note(
    c: Config,
    var: str,
    symbolic: tuple[str, ...],
    shape: tuple[int, ...],
    nnz: int,
    deltas: list[tuple[str, str]],
) -> Prose:
    """The array's shape, its nonzeros and how it is drawn (a grid of blocks)."""
    size = math.prod(shape)
    return prose(
        f"{{dyv}} has shape {{shape}}: {size} entr{'y' if size == 1 else 'ies'}, {nnz} "
        "nonzero{where}. It is drawn as an {grid} grid of blocks: block $(i, j)$ is "
        "{block}, shaped like {v} ({dims}). Built one nonzero at a time from the delta "
        "structure of the entry formula above.",
        dyv=_dyv(c, var),
        shape=join_m(_dims_m(symbolic), " = ", _dims_m((), shape)),
        where=(" (only where ", *_and(deltas), ")") if deltas else (),
        grid=join_m(_dims_m(symbolic[:2]), " = ", _dims_m((), c.shape("Y"))),
        block=partial(_entry(c, "Y", "ij"), letter_m(c.letters.of(var))),
        v=sym(var),
        dims=_dims_m((), c.shape(var)),
    )


def tensor_contract_title(c: Config, var: str) -> Prose:
    return ("Tensor view: contract ", _dyv(c, var), " with ", dl(c, "Y"))


def tensor_contract_note(c: Config, var: str) -> Prose:
    lv = c.letters.of(var)
    numerator = c.layout == "numerator"
    return prose(
        "Summing over the two output indices $i$, $j$ of {dyv} against {dly} leaves {dlv} "
        + (
            "directly, here in numerator layout ({v}'s shape)"
            if numerator
            else "directly, in {v}'s shape"
        )
        + "; no vectorization is needed. It equals the chain-rule result (see the "
        "certificate).",
        dyv=_dyv(c, var),
        dly=dl(c, "Y"),
        dlv=dl(c, var),
        v=_transposed_m(lv) if numerator else sym(var),
    )


def tensor_agrees(c: Config, nnz: int) -> Prose:
    return prose(
        f"contracted with {{dly}} it equals the chain-rule result; its {nnz} nonzeros are "
        "the explicit Jacobian's",
        dly=dl(c, "Y"),
    )


def tensor_entry_differs(
    c: Config, var: str, ij: tuple[int, int], rest: tuple[int, ...]
) -> Prose:
    y = c.letters.entry("Y")
    yij = M(f"{y}_{ij[0]},{ij[1]}", f"{tex_letters(y)}_{{{ij[0]},{ij[1]}}}")
    return (
        partial(yij, letter_m(c.letters.of(var))),
        f" entry {rest} differs from the explicit Jacobian",
    )


def differs(
    at: tuple[int, int], got_name: str, got: Code, want_name: str, want: Code
) -> Prose:
    """The first entry where two matrices differ (1-based), values as program text."""
    return (f"entry ({at[0]}, {at[1]}): {got_name} ", got, f" but {want_name} ", want)


KRONECKER_AGREES: Prose = ("explicit Jacobian = Kronecker form, entry by entry",)
CLOSED_AGREES = prose(
    "chain-rule result {minus} closed form $= 0$, entry by entry", minus=M("−", "-")
)


def tensor_count_differs(nnz: int, jac_nnz: int) -> Prose:
    return (f"{nnz} nonzeros, but the explicit Jacobian has {jac_nnz}",)


# -- the conventions page (symderiv conventions) ----------------------------------------------
#: What each role is, in the first column of the shapes table.
ROLE_WORDS = {
    "X": "input",
    "W": "weights",
    "b": "bias",
    "Y": "output",
    "dY": "upstream",
}
FORWARD_PASS: Prose = ("forward pass",)
WHY_THEY_AGREE: Prose = ("Why they agree",)
ROWS_VERIFIED: Prose = ("Every row verified.",)
ROWS_FAILED: Prose = ("Verification FAILED (see ", M("✗", r"\times"), " above).")


def times(a: object, b: object) -> M:
    """a×b as maths: ``2×3``, ``N×D``."""
    return M(f"{a}×{b}", rf"{a} \times {b}")


def conventions_title(n: int, d: int, m: int) -> Prose:
    return ("The conventions side by side at ", M(f"N = {n}, D = {d}, M = {m}"))


def conventions_sizes() -> Prose:
    """The column convention's size names, which the tables use."""
    return prose(
        "In column, {cin}$ = D$ and {cout}$ = M$.",
        cin=size_m("C_in"),
        cout=size_m("C_out"),
    )


def _number(k: int) -> str:
    """Eight, not 8, in running text (up to twelve)."""
    words = (
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
    return words[k] if k < len(words) else str(k)


def conventions_intro(derivations: int) -> Prose:
    return prose(
        "Every {tick} below was checked at these sizes by running the derivation for each "
        f"convention in both vec orders ({_number(derivations)} derivations) and reading "
        "its certificate, or by comparing with its matrices.",
        tick=M("✓", r"\checkmark"),
    )


def slash(var: str, vec: bool = False, transposed: bool = False) -> M:
    """∂L/∂W, ∂vec(Y)/∂vec(W) or (∂L/∂W)ᵀ in xw's letters, written with a slash (a
    fraction would make the rows of a table uneven)."""
    m = partial(vec_m(M("Y")), vec_m(M(var))) if vec else partial(LOSS, M(var))
    return M(f"({m.text})ᵀ", rf"({m.tex})^{{T}}") if transposed else m


TABLE_FORMS = prose(
    "Forward pass, shapes and closed forms ({dl} has $V$'s shape)", dl=slash("V")
)
TABLE_KRONECKER = prose(
    "Jacobians {d}: Kronecker forms in both vec orders", d=slash("V", vec=True)
)
TABLE_AGREEMENT = prose(
    "The same derivatives (their {W} is xw's {Wt})", Wt=F(T(Sym("W"))), **syms("W")
)


def xw_derivative(var: str, transposed: bool) -> Prose:
    """A cell of the agreement table: xw's ∂L/∂W, or its transpose."""
    return ("xw's ", slash(var, transposed=transposed))


def conventions_commutation(rows: int, cols: int) -> Prose:
    """What K is, under the Kronecker table (K·vec(W) = vec(Wᵀ) for the stored W)."""
    w = Sym("W")
    return prose(
        "$K$ is the commutation matrix with {kw}$ = ${wt} for the stored {W} ({md}{size}), "
        "a {perm} permutation matrix: it puts the entries of {vw} in the order of xw's "
        "weights.",
        kw=F(Prod(Comm("M", "D"), Vec(w))),
        wt=F(Vec(T(w))),
        md=M("M×D = ", r"M \times D = "),
        size=times(rows, cols),
        perm=times(rows * cols, rows * cols),
        vw=F(Vec(w)),
        **syms("W"),
    )


def conventions_why(c: Config) -> list[Prose]:
    """Why the conventions agree, and what the vec order changes (in xw's letters)."""
    X, W, dY, one = Sym("X"), Sym("W"), Sym("dY"), Ones("N")
    return [
        prose(
            "All four write the same layer. torch and column store {W} transposed (one "
            "row per output, {md}), so their {dlw} is the transpose of xw's: {dw}$ = "
            "${dwt}. column also stores {b} as a column, so its {dlb} is {db}$ = ${dbt}; "
            "its letters differ too ({azd} for $X, Y, dY$). wx puts the samples in "
            "columns: its $X, Y$ and $dY$ are xw's transposes and it stores {W} and {b} "
            "as torch and column do, so each of its derivatives is the transpose of "
            "xw's, e.g. {dx}$ = ${dxt} (written {own} in its own letters).",
            md=times("M", "D"),
            dlw=dl(c, "W"),
            dw=F(T(Prod(T(X), dY))),
            dwt=F(Prod(T(dY), X)),
            dlb=dl(c, "b"),
            db=F(T(Prod(T(one), dY))),
            dbt=F(Prod(T(dY), one)),
            azd=M("A, Z, dLdZ", r"A, Z, \mathit{dLdZ}"),
            dx=F(T(Prod(dY, T(W)))),
            dxt=F(Prod(W, T(dY))),
            own=F(Prod(T(W), dY)),
            **syms("W", "b"),
        ),
        prose(
            "The vectorization order changes only the Kronecker forms (the two factors "
            "swap, and $K$ appears where {W} is stored transposed), never the closed "
            "forms: row stacks rows as NumPy's {code} does, col stacks columns as the "
            "textbook vec does.",
            code=Code("reshape(-1)"),
            **syms("W"),
        ),
    ]


def conventions_failure(convention: str, row: str, detail: str) -> Prose:
    """A check of the conventions page that failed: where, and the first difference."""
    return (M("✗", r"\times"), f" {convention}, row ", Code(row), ": ", Code(detail))


def conventions_sources(names: tuple[str, ...], fallback: dict[str, str]) -> Prose:
    """Where each convention comes from, in one sentence."""
    each = [(f"{name}: ", *SOURCES.get(name, (fallback[name],))) for name in names]
    return ("Sources: ", *joined(each, "; "), ".")
