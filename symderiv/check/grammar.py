"""The grammar of ``symderiv check``: a student's numpy, read safely into notation.

``symderiv check`` takes formulas such as ``X.T @ dY`` from untrusted users (autograders),
so nothing here ever hands user text to Python or sympy (no ``eval``, ``exec``,
``sympify``, ``parse_expr`` or ``ast``). A hand-written tokenizer and recursive-descent
parser build a tree of :mod:`symderiv.notation` nodes (``Sym`` for a named matrix, ``T``
for a transpose, ``Prod`` for ``@``, ``Scalar`` for a number) plus the few student-only
nodes defined here (sizes, ``np.ones``, sums and means along an axis, elementwise
arithmetic, reshapes). :mod:`.shapes` gives it numpy's shapes and :mod:`.values` its
value, with symderiv's own algebra.

Grammar (numpy as students write it; precedence as in Python, lowest first)::

    expr    := term (("+" | "-") term)*
    term    := unary (("@" | "*" | "/") unary)*
    unary   := ("-" | "+") unary | postfix
    postfix := primary ("." "T" | "." METHOD "(" args ")" | "." "shape" ["[" INT "]"]
                | "[" AXIS ("," AXIS)* [","] "]")*
    primary := NUMBER | NAME | FUNCTION "(" args ")" | "len" "(" expr ")" | "(" expr ")"
               | "(" expr "," [expr ("," expr)*] ")" | "[" expr ("," expr)* [","] "]"
    FUNCTION := ["np." | "numpy." | "torch."] (sum | mean | ones | dot | matmul | mm
                | transpose | reshape)
    METHOD   := sum | mean | dot | transpose | reshape | t | mm | matmul
    AXIS     := ":" | None | np.newaxis | numpy.newaxis
    args     := expr ("," expr)* ("," NAME "=" (expr | True | False | None))*

PyTorch's spellings mean what they mean in torch: ``.t()`` transposes, ``mm`` and
``matmul`` multiply, ``dim=`` and ``keepdim=`` are numpy's ``axis=`` and ``keepdims=``, and
``torch.ones(N, 1)`` (sizes as arguments) is ``np.ones((N, 1))``. A transpose may
name its axes, ``E.transpose(1, 0)``, ``np.transpose(E, (1, 0))`` or
``torch.transpose(E, 0, 1)`` (:class:`Swap`: a 2-D array only, as in numpy).

Sizes may be read off an operand, as course code does: ``X.shape[0]`` and ``len(X)`` are
the size of X's axis at whatever sizes the formula is checked (:class:`DimOf`), and a
whole ``X.shape`` is a shape, as in ``np.ones(X.shape)`` or ``E.reshape(X.shape)``. A
shape may be a tuple or a list, ``np.ones([1, N])``. A subscript holds only whole axes
``:`` and new axes ``None`` / ``np.newaxis`` (:class:`NewAxes`), so ``E[None, :]`` is a
row and ``E[:, None]`` a column; integer indices, bounded slices, index arrays and
``...`` are refused.

Limits keep hostile input cheap: at most :data:`MAX_LENGTH` characters, nesting at most
:data:`MAX_DEPTH` deep, numbers at most :data:`MAX_NUMBER` in magnitude (and denominators
at most :data:`MAX_DENOMINATOR`); :mod:`.shapes` bounds the work.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

from ..conventions import DELTA, NAMEABLE, Config
from ..errors import DisplayNameError, FormulaError, SymderivError, clip
from ..notation import Node, Prod, Scalar, Sym, T

#: Longest formula accepted, in characters.
MAX_LENGTH = 500
#: Deepest nesting of parentheses, calls and unary signs.
MAX_DEPTH = 50
#: Largest number accepted, in magnitude.
MAX_NUMBER = 10**6
#: Largest denominator of a number (``1e-12`` is the smallest step).
MAX_DENOMINATOR = 10**12
#: The size keys of a Config, in the order of ``Convention.sizes``.
SIZE_KEYS: tuple[str, str, str] = ("n", "d", "m")
#: Size names every convention accepts (besides its own, such as C_in and C_out).
SIZE_NAMES: tuple[str, str, str] = ("N", "D", "M")
#: Names the upstream derivative dY is also known by in course code (CS231n's dout, ...).
UPSTREAM_ALIASES: tuple[str, ...] = ("dout", "dy", "grad_out", "grad_output", "dLdY")
#: Functions, with or without an ``np.``/``numpy.`` prefix (and Python's ``len``, bare).
FUNCTIONS: tuple[str, ...] = (
    *("sum", "mean", "ones", "dot", "matmul", "mm", "transpose"),
    "reshape",  # np.reshape(E, shape), torch.reshape(E, shape)
)
#: Methods after an operand (``.T`` is an attribute).
METHODS: tuple[str, ...] = (
    *("sum", "mean", "dot", "transpose", "reshape"),
    *("t", "mm", "matmul"),  # PyTorch's
)
_MODULES = ("np", "numpy", "torch")


# -- errors ------------------------------------------------------------------------------
class FormulaSyntaxError(FormulaError):
    """The formula does not parse or uses a name or character that is not allowed (exit 2).

    Attributes:
        column: 1-based column of the offending token (0 when it is the whole formula).
    """

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


class FormulaLimitError(FormulaError):
    """The formula is too long, too deep, has too large a number or too much work (exit 2)."""


class FormulaShapeError(SymderivError):
    """Shapes inside the formula do not fit at some sizes: a wrong answer, explained (exit 1).

    Attributes:
        operation: the source text of the operation that fails, e.g. ``"X @ dY"``.
    """

    exit_code = 1

    def __init__(self, message: str, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


def beyond_two_axes(source: str, ndim: int, shape: str = "") -> FormulaError:
    """The refusal of an array of more than two axes, wherever it shows: a shape of
    three sizes as the formula is read (``E.reshape(1, N, M)``), or ``E[None]`` of a
    matrix in the shape pass. Check cannot hold such an array, which says nothing of
    the formula (numpy computes it), so it is not graded: exit 2, ``gradable: false``,
    never a wrong answer.

    >>> str(beyond_two_axes("dY[None]", 3, ", (1, 2, 4)"))[:40]
    'dY[None] is 3-D, (1, 2, 4): check works '
    """
    return FormulaError(
        f"{source} is {ndim}-D{shape}: check works with arrays of at most 2 "
        "dimensions, so it cannot check this formula (which is not to say it is "
        "wrong)"
    )


# -- the names a formula may use -----------------------------------------------------------
@dataclass(frozen=True)
class Names:
    """The names a formula may use and what each stands for.

    Attributes:
        matrices: spelling -> role, e.g. ``{"A": "X", "X": "X", "dLdZ": "dY", ...}``.
        sizes: spelling -> size key ``"n"``, ``"d"`` or ``"m"``, e.g. ``{"C_in": "d"}``.
        shown: display letters first, in role order (for messages).
    """

    matrices: Mapping[str, str]
    sizes: Mapping[str, str]
    shown: tuple[str, ...]

    @classmethod
    def for_config(cls, config: Config) -> Names:
        """The names of ``config``'s convention, with its ``--names`` overrides.

        Display letters win over role names (``--names X=W,W=V`` makes ``W`` mean X), role
        names over the upstream's aliases (``dout``, ``dy``, ``grad_out``, ``dLdY``, and
        d or dLd before the output's letter, such as ``dZ``) and CS231n's lower-case ``x``
        and ``w``, and matrix names over sizes.

        >>> names = Names.for_config(Config(convention="column"))
        >>> names.matrices["A"], names.matrices["dout"], names.sizes["C_out"]
        ('X', 'dY', 'm')
        """
        letters = config.letters
        display = [letters.of(role) for role in NAMEABLE]
        matrices = {role: role for role in NAMEABLE}
        matrices.update(zip(display, NAMEABLE, strict=True))
        out = letters.of("Y")
        for alias in (*UPSTREAM_ALIASES, f"d{out}", f"dLd{out}"):
            matrices.setdefault(alias, "dY")
        # CS231n's affine_backward: dx = dout.dot(w.T) with lower-case x and w
        for role in ("X", "W"):
            matrices.setdefault(role.lower(), role)
        sizes = dict(zip(SIZE_NAMES, SIZE_KEYS, strict=True))
        sizes.update(zip(config.size_names, SIZE_KEYS, strict=True))  # --names N=B
        sizes = {k: key for k, key in sizes.items() if k not in matrices}
        aliases = [r for r in NAMEABLE if r not in display and matrices[r] == r]
        return cls(matrices, sizes, tuple(display + aliases))

    def describe(self) -> str:
        """``names X, W, b, Y, dY, T, sizes N, D, M`` (for messages)."""
        return f"names {', '.join(self.shown)}, sizes {', '.join(self.sizes)}"


class CheckConfig(Config):
    """The Config of ``symderiv check``, whose display names may be Python identifiers
    with underscores, as course code names its arrays (``--names X=A_prev,dY=dZ,N=m``):
    they reach check's messages only, never LaTeX. A name the grammar reads as
    something else is refused: np, numpy, torch, a function (sum, len, ...) or a Python
    keyword (None, lambda, ...); two roles of one name are refused by Config.

    Raises:
        DisplayNameError: a name that is not allowed (exit 2).
    """

    identifiers: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for role, name in self.names.items():
            if role == DELTA:  # the delta is printed, never written in a formula
                continue
            if name in _MODULES:
                what = f"a module, as in {name}.sum(...)"
            elif name in (*FUNCTIONS, "len"):
                what = f"a function, {name}(...)"
            elif keyword.iskeyword(name) or keyword.issoftkeyword(name):
                what = "a Python keyword"
            else:
                continue
            raise DisplayNameError(
                f"--names: {role}={name} is not allowed in check, where {name} is "
                f"{what}; choose another name"
            )


# -- tokens --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    """A token of a formula: ``kind`` is "name", "number", "op" or "end"."""

    kind: str
    text: str
    start: int  # 0-based offset in the formula

    @property
    def end(self) -> int:
        """Offset just past the token."""
        return self.start + len(self.text)

    @property
    def column(self) -> int:
        """1-based column, as messages give it."""
        return self.start + 1


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ENTRY_RE = re.compile(r"[A-Za-z]+(?:_[0-9]+)+\Z")
_SPACE = " \t\r\n"
_OPS = "@*+-/(),=.[]:"


def _by_char(*groups: tuple[str, str]) -> dict[str, str]:
    """Characters -> why they are refused (each group of characters shares its reason)."""
    return {char: why for chars, why in groups for char in chars}


_ASCII_HINTS = _by_char(
    ("'\"", "strings are not allowed"),
    ("{}", "braces are not allowed"),
    (";", "write a single formula"),
    ("#", "comments are not allowed"),
    ("^", "powers are not supported; use @ for a matrix product"),
    ("%!&|~", "only @ * + - / are operators"),
    ("<>", "comparisons are not allowed"),
    ("\\", "backslashes are not allowed"),
    ("`", "backquotes are not allowed"),
    ("$", "write plain names such as X, without $"),
)
_UNICODE_HINTS = _by_char(
    ("ᵀ⊤ᵗ′", "write .T for a transpose, e.g. X.T"),
    ("·⋅∙×", "use @ for a matrix product or * for an elementwise one"),
    ("⊙∘", "use * for an elementwise product"),
    ("−–—", "use the ASCII minus '-'"),
    ("∑Σ", "use np.sum(E, axis=0) or np.sum(E, axis=1)"),
    ("𝟙", "use np.ones(N), or 1 in a product such as 1.T @ dY"),
    ("\u00a0", "use an ordinary space"),
)
# Letters that look like ASCII ones but that NFKC leaves alone (Greek, Cyrillic).
_CONFUSABLES = dict(
    zip(
        "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧаАВЕКМНОРСТХеорсухᴡ",
        "ABEZHIKMNOPTYXaABEKMHOPCTXeopcyxw",
        strict=True,
    )
)


def _unicode_message(ch: str, start: int) -> str:
    """Why the non-ASCII character ``ch`` at offset ``start`` is refused, with a fix."""
    code = f"U+{ord(ch):04X}"
    try:
        name = unicodedata.name(ch)
    except ValueError:
        name = "unnamed character"
    # Never echo invisible or control characters (bidi overrides, escapes) to a terminal.
    shown = f"{ch!r} " if ch.isprintable() else ""
    hint = _UNICODE_HINTS.get(ch)
    if hint is None:
        twin = _CONFUSABLES.get(ch) or unicodedata.normalize("NFKC", ch)
        if twin.isascii() and twin.isprintable() and twin.strip():
            hint = f"it looks like {twin!r}: type the ASCII character"
        else:
            hint = "formulas use ASCII characters only"
    return (
        f"character {shown}({code} {name}) at column {start + 1} is not allowed; {hint}"
    )


def tokenize(text: str, names: Names) -> list[Token]:
    """Split ``text`` into tokens, refusing anything outside the grammar.

    Args:
        text: the formula, at most :data:`MAX_LENGTH` characters.
        names: what the formula may name (used for messages only).

    Returns:
        The tokens, ending with one of kind "end".

    Raises:
        FormulaLimitError: too long, or a number too large.
        FormulaSyntaxError: a character that is not allowed, or an empty formula.

    >>> [t.text for t in tokenize("X.T @ dY", Names.for_config(Config()))]
    ['X', '.', 'T', '@', 'dY', '']
    """
    return list(_tokens(text, names))


def _tokens(text: str, names: Names) -> Iterator[Token]:
    """The tokens of ``text``, one at a time, so that errors come in reading order."""
    if len(text) > MAX_LENGTH:
        raise FormulaLimitError(
            f"the formula is {len(text):,} characters long; the limit is {MAX_LENGTH}"
        )
    if not text.strip(_SPACE):
        raise FormulaSyntaxError(
            f"the formula is empty; it may use {names.describe()}{SEE_HELP}"
        )
    previous = Token("op", "", -1)  # before the first token: glued to nothing
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch in _SPACE:
            pos += 1
            continue
        if not ch.isascii():
            raise FormulaSyntaxError(_unicode_message(ch, pos), pos + 1)
        token: Token
        if ch.isdigit() or (ch == "." and text[pos + 1 : pos + 2].isdigit()):
            token = _number(text, pos)
        elif ch.isalpha() or ch == "_":
            match = _NAME_RE.match(text, pos)
            assert match is not None
            token = Token("name", match.group(), pos)
            if "__" in token.text:
                start, shown = pos, token.text
                if previous.text == "." and previous.end == pos:
                    start, shown = pos - 1, "." + token.text
                raise _refused(
                    f"unexpected {clip(shown)!r}",
                    start + 1,
                    ": names with '__' are never allowed",
                )
        elif text[pos : pos + 2] in ("**", "//"):
            pair = text[pos : pos + 2]
            what = "powers are" if pair == "**" else "floor division is"
            raise _refused(f"unexpected {pair!r}", pos + 1, f": {what} not supported")
        elif ch in _OPS:
            token = Token("op", ch, pos)
        else:
            why = _ASCII_HINTS.get(ch, "this character is not part of a formula")
            if (
                ch == "'"
                and previous.end == pos
                and (previous.kind == "name" or previous.text == ")")
            ):  # X' as in MATLAB or on paper
                what = previous.text if previous.kind == "name" else "(...)"
                why = f"write {what}.T for a transpose"
            raise _refused(f"unexpected {ch!r}", pos + 1, f": {why}")
        yield token
        previous = token
        pos = token.end
    yield Token("end", "", len(text))


def _number(text: str, pos: int) -> Token:
    """The number starting at ``pos``, as numpy writes them: ``2``, ``1.``, ``.5``, ``1e-3``."""
    match = _NUMBER_RE.match(text, pos)
    assert match is not None
    digits = match.group()
    if digits.endswith(".") and _NAME_RE.match(text, match.end()):
        digits = digits[:-1]  # 1.T is the ones vector transposed, not 1. then T
    follow = _NAME_RE.match(text, pos + len(digits))
    if follow:
        glued = text[pos : follow.end()]
        raise _refused(
            f"unexpected {clip(glued)!r}",
            pos + 1,
            ": a number cannot be followed by a name; "
            f"write {digits}*{clip(follow.group())}",
        )
    exponent = digits.lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 12:
        raise FormulaLimitError(
            f"number {clip(digits)} at column {pos + 1} is out of range; exponents go "
            "from -12 to 12"
        )
    value = Fraction(digits)
    if value > MAX_NUMBER or value.denominator > MAX_DENOMINATOR:
        raise FormulaLimitError(
            f"number {clip(digits)} at column {pos + 1} is out of range; numbers are at "
            f"most {MAX_NUMBER:,} in magnitude, with at most 12 decimals"
        )
    return Token("number", digits, pos)


#: The end of a refusal that says no more than where: the help lists the grammar.
SEE_HELP = "; symderiv check --help lists what a formula may use"


def _refused(what: str, column: int, why: str) -> FormulaSyntaxError:
    """``<what> at column <column><why>``, one line: ``why`` brings its own ": " (or
    "; "), and without one the message points to the help (the whole grammar is too
    long to end every message with, and a platform such as Gradescope shows it all)."""
    return FormulaSyntaxError(f"{what} at column {column}{why or SEE_HELP}", column)


# -- the tree: notation nodes, plus the student-only ones ------------------------------------
# A formula is a tree of notation nodes (Sym, T, Prod for @, Scalar for a number) and the
# nodes below, which only a student's numpy needs. Source positions live in the Formula
# (keyed by node identity), since notation nodes compare by value.


@dataclass(frozen=True)
class Size(Node):
    """A size such as N or C_in (``key`` "n", "d" or "m"): a whole number."""

    key: str
    spelled: str = ""


@dataclass(frozen=True)
class Neg(Node):
    """``-arg``."""

    arg: Node


@dataclass(frozen=True)
class Elementwise(Node):
    """``left op right`` for ``op`` in ``* + - /``, broadcast as numpy does."""

    op: str
    left: Node
    right: Node


class Dot(Prod):
    """``np.dot(a, b)`` / ``a.dot(b)``: ``@``, except that a scalar operand scales."""


class Matmul(Prod):
    """``np.matmul(a, b)`` / ``a.matmul(b)`` / ``torch.matmul(a, b)``: ``@`` written as a
    call, which takes arrays only (numpy raises ValueError for a scalar, torch TypeError),
    so the literal 1 beside it is a number, not the ones vector of ``1.T @ dY``."""


class TorchDot(Prod):
    """``torch.dot(a, b)``: the product of two 1-D tensors only; torch raises
    RuntimeError for any other (numpy's ``np.dot`` of 2-D arrays is a matrix product,
    torch's ``dot`` is not). A method ``.dot()`` may be either library's: :class:`Dot`."""

    ndim = 1


class TorchMm(Prod):
    """``torch.mm(a, b)`` / ``a.mm(b)`` (numpy has no mm): the product of two 2-D
    tensors only; torch raises RuntimeError for a 1-D one."""

    ndim = 2


@dataclass(frozen=True)
class Reduce(Node):
    """``np.sum``/``np.mean`` (``how``) of ``arg`` along ``axis`` (None: every entry)."""

    how: str
    arg: Node
    axis: int | None = None
    keepdims: bool = False
    #: How the axis was written: numpy's ``axis`` or PyTorch's ``dim`` (for hints).
    keyword: str = "axis"


@dataclass(frozen=True)
class Swap(T):
    """``E.transpose(1, 0)``, ``np.transpose(E, (1, 0))``: ``E.T`` with its axes
    written out, which numpy (and PyTorch) allow for a 2-D array only."""


@dataclass(frozen=True)
class NpOnes(Node):
    """``np.ones(shape)``: 1-D for one size, 2-D for a pair ``(r, c)``."""

    shape: tuple[Node, ...]


@dataclass(frozen=True)
class Reshape(Node):
    """``arg.reshape(shape)`` in row-major order; one entry of ``shape`` may be -1."""

    arg: Node
    shape: tuple[Node, ...]


@dataclass(frozen=True)
class Pair(Node):
    """A tuple ``(a, b)`` or a list ``[a, b]``: only a shape, inside ones(...) or
    reshape(...)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class ShapeOf(Node):
    """``arg.shape``: a shape, only as the argument of ones(...) or reshape(...)."""

    arg: Node


@dataclass(frozen=True)
class DimOf(Node):
    """``arg.shape[index]``, or ``len(arg)`` (``length``, index 0): a whole number, the
    size of that axis of ``arg`` at whatever sizes the formula is computed."""

    arg: Node
    index: int
    length: bool = False


@dataclass(frozen=True)
class NewAxes(Node):
    """``arg[...]`` with whole axes ``:`` (False) and new axes ``None`` (True), in order;
    the axes not named follow, as in numpy."""

    arg: Node
    axes: tuple[bool, ...]


@dataclass(frozen=True)
class Constant(Node):
    """``True``, ``False`` or ``None`` as a positional argument, as in ``torch.sum(E, 0,
    True)`` or ``np.sum(E, 0, None, None, True)``: read by sum and mean into their axis
    and keepdims, and refused anywhere else, so it never stays in a tree."""

    value: bool | None


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its source text, its tree and where each node came from.

    ``target``: what a leading assignment assigns, as written (``dX``, ``self.dW``), or
    "" (the verdict refuses a target that names another variable's derivative).
    """

    text: str
    tree: Node
    spans: Mapping[int, tuple[int, int]] = field(default_factory=dict, compare=False)
    target: str = ""

    def source(self, node: Node) -> str:
        """The source text of ``node`` (shortened past 40 characters)."""
        start, end = self.spans.get(id(node), (0, len(self.text)))
        return clip(self.text[start:end].strip())

    def written_float(self, node: Node) -> bool:
        """Whether the number ``node`` is a Python float as written: a float literal
        (``2.0``, ``1e3``) in it, or a ``/`` (``N / 2`` is a float even at even N),
        outside any ``E.shape[k]`` or ``len(E)``, which are ints."""
        if isinstance(node, Scalar):
            return _float_text(self.source(node))
        if isinstance(node, Elementwise):
            parts = (node.left, node.right)
            return node.op == "/" or any(map(self.written_float, parts))
        if isinstance(node, Neg):
            return self.written_float(node.arg)
        return False

    def literals(self) -> set[int]:
        """Whole numbers a size must avoid: every literal's numerator and denominator.

        ``X.T @ dY * N / 2`` is right at N = 2 only; ``0.5 * N`` too.
        """
        numbers = [n.value for n in walk(self.tree) if isinstance(n, Scalar)]
        return {k for v in numbers for k in (abs(v.numerator), v.denominator)}


def walk(tree: Node) -> Iterator[Node]:
    """``tree`` and every node under it, in reading order (a node's fields, tuples
    opened)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        children: list[Node] = []
        for value in vars(node).values():
            children.extend(value if isinstance(value, tuple) else [value])
        stack.extend(reversed([c for c in children if isinstance(c, Node)]))


# -- the parser ------------------------------------------------------------------------------
@dataclass
class _Call:
    """The arguments of a call, as written."""

    name: Token
    args: list[Node]
    keywords: dict[str, tuple[Token, Node | bool | None]]
    end: int


#: Each function's least and most positional arguments, a method's receiver included.
_ARITY = {
    "sum": (1, 2),
    "mean": (1, 2),
    "dot": (2, 2),
    "matmul": (2, 2),
    "mm": (2, 2),
    "transpose": (1, 3),  # E.transpose(1, 0), np.transpose(E, (1, 0))
    "t": (1, 1),
    "ones": (1, 2),
    "reshape": (2, 3),  # E.reshape(r, c); np.reshape(E, (r, c)) takes 2 only
}
#: The positional arguments of sum and mean, for a message about their count.
_SIGNATURES = {
    how: f" (numpy's {how}(a, axis, dtype, out, keepdims), torch's {how}(input, dim, "
    "keepdim))"
    for how in ("sum", "mean")
}
#: Python's constants, as arguments: ``keepdims=True``, ``torch.sum(E, 0, True)``.
_CONSTANTS: dict[str, bool | None] = {"True": True, "False": False, "None": None}
#: Why a token that closes or slices is out of place.
_STRAY = {
    ")": "this ')' has no matching '('",
    "]": "this ']' has no matching '['",
    ":": "':' only appears in a subscript, as in E[:, None]",
}
#: The binary operators by precedence, lowest first.
_LEVELS = (("+", "-"), ("@", "*", "/"))
#: The start of ``dX = …`` or ``self.dW = …`` (not ``==``).
_ASSIGNMENT = re.compile(r"\s*[A-Za-z_]\w*(\s*\.\s*[A-Za-z_]\w*)*\s*=(?!=)", re.ASCII)


class _Parser:
    """Recursive descent over the tokens; one method per grammar rule."""

    def __init__(self, text: str, tokens: Iterator[Token], names: Names) -> None:
        self.text = text
        self.stream = tokens  # read lazily: the first error in reading order wins
        self.tokens: list[Token] = []
        self.names = names
        self.pos = 0
        self.depth = 0
        self.spans: dict[int, tuple[int, int]] = {}
        self.target = ""

    # -- helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        while len(self.tokens) <= self.pos + ahead:
            if self.tokens and self.tokens[-1].kind == "end":
                return self.tokens[-1]
            self.tokens.append(next(self.stream))
        return self.tokens[self.pos + ahead]

    def advance(self) -> Token:
        token = self.peek()
        self.pos += 1
        return token

    def at(self, *ops: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text in ops

    def expect(self, op: str, opened: Token) -> Token:
        if not self.at(op):
            raise self.unexpected(
                self.peek(),
                f"expected {op!r} to close {opened.text!r} at column {opened.column}",
            )
        return self.advance()

    def unexpected(self, token: Token, why: str = "") -> FormulaSyntaxError:
        shown = "end of formula" if token.kind == "end" else repr(token.text)
        reason = f": {why}" if why else ""
        return _refused(f"unexpected {shown}", token.column, reason)

    def node(self, node: Node, start: int, end: int) -> Node:
        self.spans[id(node)] = (start, end)
        return node

    def span(self, node: Node) -> tuple[int, int]:
        return self.spans[id(node)]

    @contextmanager
    def nested(self, token: Token) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaLimitError(
                f"the formula is nested too deeply at column {token.column}: more than "
                f"{MAX_DEPTH} levels of parentheses, calls or signs"
            )
        try:
            yield
        finally:
            self.depth -= 1

    # -- rules ---------------------------------------------------------------------------
    def formula(self) -> Node:
        self.assignment()
        node = self.expr()
        token = self.peek()
        if token.kind != "end":
            if token.text in _STRAY:
                why = _STRAY[token.text]
            elif token.text in (",", "="):
                why = f"{token.text!r} only appears inside a call such as np.sum(...)"
            else:
                why = "an operator such as @, * or + is missing before it"
            raise self.unexpected(token, why)
        return node

    def assignment(self) -> None:
        """Pass over a leading ``dX =`` or ``self.dW =`` (a line copied from a submitted
        backward pass): the formula is its right-hand side; the target is kept.
        The text says whether it starts so (tokens are read lazily, so the first error in
        reading order still wins); the tokens up to its ``=`` are then names and dots."""
        if _ASSIGNMENT.match(self.text):
            while not self.at("="):
                self.target += self.advance().text
            self.advance()

    def expr(self, level: int = 0) -> Node:
        """Operators left to right, ``+ -`` (level 0) binding looser than ``@ * /``."""
        # the tightest level's operands are unary expressions, the others' the next level
        last = level == len(_LEVELS) - 1
        operand = self.unary if last else lambda: self.expr(level + 1)
        node = operand()
        while self.at(*_LEVELS[level]):
            op = self.advance().text
            right = operand()
            joined = Prod(node, right) if op == "@" else Elementwise(op, node, right)
            node = self.node(joined, self.span(node)[0], self.span(right)[1])
        return node

    def unary(self) -> Node:
        if self.at("-", "+"):
            sign = self.advance()
            with self.nested(sign):
                arg = self.unary()
            end = self.span(arg)[1]
            if sign.text == "+":
                return self.node(arg, sign.start, end)
            return self.node(Neg(arg), sign.start, end)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.at(".", "["):
            start = self.span(node)[0]
            if self.at("["):
                node = self.subscript(node, start)
                continue
            dot = self.advance()
            attr = self.peek()
            if attr.kind == "name" and attr.text in ("T", "shape"):
                self.advance()
                attribute = T(node) if attr.text == "T" else ShapeOf(node)
                node = self.node(attribute, start, attr.end)
                continue
            if attr.kind != "name" or attr.text not in METHODS:
                shown = "." + attr.text if attr.kind == "name" else "."
                raise _refused(
                    f"unexpected {clip(shown)!r}",
                    dot.column,
                    ": only .T, .shape, .sum(...), .mean(...), .dot(...), .transpose(), "
                    ".reshape(...), .t(), .mm(...) and .matmul(...) may follow an operand",
                )
            self.advance()
            call = self.call_args(attr)
            node = self.node(self.apply(call, node), start, call.end)
        if self.at("("):
            hint = " (write X.T for a transpose)" if node == Sym("T") else ""
            raise self.unexpected(
                self.peek(), f"only {', '.join(FUNCTIONS)} and len can be called{hint}"
            )
        return node

    def subscript(self, node: Node, start: int) -> Node:
        """``[`` ... ``]`` after an operand: ``E.shape[k]``, or whole and new axes."""
        opened = self.advance()
        with self.nested(opened):
            if isinstance(node, ShapeOf):
                index = self.shape_index()
                close = self.expect("]", opened)
                return self.node(DimOf(node.arg, index), start, close.end)
            axes = [self.axis_item()]
            while self.at(","):
                self.advance()
                if self.at("]"):
                    break
                axes.append(self.axis_item())
            close = self.expect("]", opened)
        return self.node(NewAxes(node, tuple(axes)), start, close.end)

    def shape_index(self) -> int:
        """The whole number in ``E.shape[k]`` (any, as numpy: the shape pass checks it)."""
        sign = -1 if self.at("-") else 1
        if sign < 0:
            self.advance()
        token = self.peek()
        if (
            token.kind != "number"
            or not token.text.isdigit()
            or not self.at("]", ahead=1)
        ):
            raise self.unexpected(
                token, "E.shape takes one whole-number index, as in X.shape[0]"
            )
        self.advance()
        return sign * int(token.text)

    def axis_item(self) -> bool:
        """One item of a subscript: True for a new axis (None, np.newaxis), False for a
        whole axis (``:``); anything else is refused, saying what is allowed."""
        token = self.peek()
        if self.at(":"):
            self.advance()
            if self.at(",", "]"):
                return False
            token, what = self.peek(), "slices with bounds or a step are"
        elif token.kind == "name" and token.text == "None":
            self.advance()
            return True
        elif (
            token.text in ("np", "numpy")
            and self.at(".", ahead=1)
            and self.peek(2).text == "newaxis"
        ):
            self.pos += 3
            return True
        elif token.kind == "number" or token.text == "-":
            bounded = self.at(":", ahead=1) or self.at(":", ahead=2)  # 1:, -1:
            what = "slices with bounds are" if bounded else "integer indices are"
        elif token.text in ("[", "."):
            what = "index lists are" if token.text == "[" else "'...' is"
        else:
            what = "this index is"
        raise self.unexpected(
            token,
            f"{what} not supported; a subscript holds only ':' (a whole axis) and None "
            "or np.newaxis (a new axis), as in E[:, None]",
        )

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return self.node(Scalar(Fraction(token.text)), token.start, token.end)
        if token.kind == "name":
            if token.text in _MODULES and self.at(".", ahead=1):
                return self.module_call()
            known = token.text in self.names.matrices or token.text in self.names.sizes
            if not known and (
                keyword.iskeyword(token.text) or keyword.issoftkeyword(token.text)
            ):
                raise _refused(
                    f"keyword {token.text!r}",
                    token.column,
                    " is not allowed",
                )
            if self.at("(", ahead=1) and not known:
                return self.function(self.advance(), bare=True)
            self.advance()
            return self.name(token)
        if self.at("(", "["):  # (E), a tuple (N, 1) or a list [N, 1]
            opened = self.advance()
            closer = ")" if opened.text == "(" else "]"
            with self.nested(opened):
                items = [self.expr()]
                is_tuple = self.at(",") or closer == "]"
                while self.at(","):
                    self.advance()
                    if self.at(closer):
                        break
                    items.append(self.expr())
                close = self.expect(closer, opened)
            inner = Pair(tuple(items)) if is_tuple else items[0]
            return self.node(inner, opened.start, close.end)
        if token.kind == "end":
            raise self.unexpected(token, "the formula stops before an operand")
        why = _STRAY.get(token.text, "")
        if token.text in ("@", "*", "/"):
            why = "an operand is missing before it"
        elif token.text in (",", "="):
            why = f"{token.text!r} only appears inside a call such as np.sum(...)"
        raise self.unexpected(token, why)

    def module_call(self) -> Node:
        module = self.advance()
        self.advance()  # "."
        function = self.peek()
        if function.kind != "name" or function.text not in FUNCTIONS:
            shown = f"{module.text}.{function.text}" if function.kind == "name" else ""
            why = f"of numpy and torch only {', '.join(FUNCTIONS)} are allowed"
            if function.text == "newaxis":
                why = "np.newaxis only appears in a subscript, as in E[:, np.newaxis]"
            raise _refused(
                f"unexpected {clip(shown or module.text + '.')!r}",
                module.column,
                f": {why}",
            )
        if function.text == "mm" and module.text != "torch":
            raise _refused(
                f"unexpected '{module.text}.mm'",
                module.column,
                ": numpy has no mm (numpy raises AttributeError); write "
                f"{module.text}.matmul(A, B) or A @ B (torch.mm is PyTorch's)",
            )
        self.advance()
        if not self.at("("):
            raise self.unexpected(self.peek(), f"{function.text} must be called")
        node = self.function(function, module=module.text)
        return self.node(node, module.start, self.span(node)[1])

    def name(self, token: Token) -> Node:
        word = token.text
        if word in self.names.matrices:
            return self.node(Sym(self.names.matrices[word]), token.start, token.end)
        if word in self.names.sizes:
            return self.node(Size(self.names.sizes[word], word), token.start, token.end)
        if word in FUNCTIONS:
            raise self.unexpected(token, f"{word} must be called, e.g. np.{word}(...)")
        raise _refused(
            f"unknown name {clip(word)!r}",
            token.column,
            self.suggest(word) or f"; the formula may use {self.names.describe()}",
        )

    def suggest(self, word: str) -> str:
        for known in (*self.names.matrices, *self.names.sizes):
            if known.lower() == word.lower():
                return f" (did you mean {known!r}? names are case-sensitive)"
        if word in _MODULES:
            return " (numpy functions are called as np.sum(...), np.dot(...), ...)"
        if word == "t":
            return " (write X.T for a transpose)"
        if _ENTRY_RE.match(word):
            return " (single entries cannot be named; use the whole matrix, e.g. X)"
        return ""

    def call_args(self, name: Token) -> _Call:
        """``(`` args ``)`` after a function or method name."""
        if not self.at("("):
            example = "X.T" if name.text == "T" else f"E.{name.text}(...)"
            raise self.unexpected(
                self.peek(), f"{name.text} must be called, e.g. {example}"
            )
        opened = self.advance()
        args: list[Node] = []
        keywords: dict[str, tuple[Token, Node | bool | None]] = {}
        with self.nested(opened):
            while not self.at(")"):
                token = self.peek()
                if token.kind == "name" and self.at("=", ahead=1):
                    self.advance()
                    self.advance()
                    if token.text in keywords:
                        raise self.unexpected(token, f"{token.text}= is given twice")
                    keywords[token.text] = (token, self.keyword_value())
                elif keywords:
                    raise self.unexpected(
                        token, "a positional argument cannot follow a keyword one"
                    )
                elif token.text in _CONSTANTS and self.at(",", ")", ahead=1):
                    self.advance()
                    constant = Constant(_CONSTANTS[token.text])
                    args.append(self.node(constant, token.start, token.end))
                else:
                    args.append(self.expr())
                if not self.at(","):
                    break
                self.advance()
            close = self.expect(")", opened)
        return _Call(name, args, keywords, close.end)

    def no_constants(self, word: str, args: list[Node]) -> None:
        """Refuse True, False or None where an array or a number belongs."""
        for arg in args:
            if isinstance(arg, Constant):
                start, end = self.span(arg)
                token = Token("name", self.text[start:end], start)
                raise self.unexpected(
                    token, f"{word}(...) takes arrays or numbers here, not {token.text}"
                )

    def keyword_value(self) -> Node | bool | None:
        token = self.peek()
        if token.kind == "name" and token.text in _CONSTANTS:
            self.advance()
            return _CONSTANTS[token.text]
        return self.expr()

    def function(self, name: Token, bare: bool = False, module: str = "") -> Node:
        """A call of one of :data:`FUNCTIONS` (the ``module`` prefix already read).

        ``bare``: written without ``np.``. A bare ``sum(E)`` is Python's built-in sum,
        which adds the rows of an array: ``np.sum(E, axis=0)``, not a sum of every entry
        (with an axis or keepdims it can only mean numpy's, and is read so).
        """
        if bare and name.text == "len":  # Python's len(E): E.shape[0]
            call = self.call_args(name)
            self.arity(call, 1, 1)
            self.no_constants("len", call.args)
            length = DimOf(call.args[0], 0, length=True)
            return self.node(length, name.start, call.end)
        if name.text not in FUNCTIONS:
            hint = " (write X.T for a transpose)" if name.text in ("T", "t") else ""
            raise _refused(
                f"unexpected call {clip(name.text + '(')!r}",
                name.column,
                f": only {', '.join(FUNCTIONS)} and len can be called{hint}",
            )
        call = self.call_args(name)
        if bare and name.text == "sum" and len(call.args) == 1 and not call.keywords:
            self.no_constants("sum", call.args)
            return self.node(Reduce("sum", call.args[0], 0), name.start, call.end)
        return self.node(self.apply(call, module=module), name.start, call.end)

    def apply(
        self, call: _Call, receiver: Node | None = None, module: str = ""
    ) -> Node:
        """``np.f(args)``, or ``receiver.f(args)``: a method's receiver is its first
        argument, so it takes one positional argument less."""
        word = call.name.text
        args = call.args if receiver is None else [receiver, *call.args]
        less = len(args) - len(call.args)
        if word == "reshape" and len(args) < 2:
            raise self.unexpected(
                call.name, "reshape needs a shape, e.g. reshape(-1, 1)"
            )
        least, most = _ARITY[word]
        library = bool(module) or receiver is not None  # not Python's own sum(E, start)
        reduces = word in ("sum", "mean") and library
        self.no_constants(word, args[: 1 if reduces else None])
        if reduces:
            # np.sum(a, axis, dtype, out, keepdims), torch.sum(input, dim, keepdim); a
            # method may be either library's: E.sum(axis, dtype, out, keepdims)
            most = 3 if module == "torch" else 5
        if word == "reshape" and receiver is None:  # np.reshape(E, shape, order)
            most = 2
        elif len(call.args) > 2 and (
            word == "reshape" or (word == "ones" and module == "torch")
        ):  # E.reshape(1, N, M), torch.ones(N, 1, 1): more than 2-D
            start = self.span(receiver)[0] if receiver is not None else call.name.start
            source = clip(self.text[start : call.end])
            raise beyond_two_axes(source, len(call.args))
        self.arity(call, least - less, most - less)
        if word in ("sum", "mean"):
            if module in ("np", "numpy"):
                self.numpy_keywords(call, module)
            return self.reduce(word, args[0], call, 1 - less, module)
        if word == "mm":  # torch.mm or a tensor's .mm: numpy has neither
            return TorchMm(*args)
        if word == "dot" and module == "torch":
            return TorchDot(*args)
        if word in ("dot", "matmul"):
            return Dot(*args) if word == "dot" else Matmul(*args)
        if word in ("transpose", "t"):
            if receiver is None:
                self.transpose_arguments(call, module)
            if len(args) > 1:
                return self.swap(args[0], args[1:], call, module)
            return T(args[0])
        if word == "ones":
            if len(args) == 2 and module != "torch":  # np.ones(N, 1): 1 is a dtype
                raise self.unexpected(
                    call.name, "np.ones takes one shape: np.ones((N, 1)) for a column"
                )
            return NpOnes(tuple(args) if len(args) == 2 else self.shape(args[0], call))
        # reshape(r, c) or reshape((r, c)) or reshape(k), or np.reshape(E, (r, c))
        if len(args) == 2:
            return Reshape(args[0], self.shape(args[1], call))
        return Reshape(args[0], tuple(args[1:]))

    def numpy_keywords(self, call: _Call, module: str) -> None:
        """Refuse PyTorch's ``dim=`` and ``keepdim=`` in numpy's ``np.sum`` and
        ``np.mean``, which raise TypeError for them (torch takes numpy's names too, and a
        method such as ``E.sum(dim=0)`` may be either library's, so those pass)."""
        for key, numpy_key in (("dim", "axis"), ("keepdim", "keepdims")):
            if key in call.keywords:
                raise self.unexpected(
                    call.keywords[key][0],
                    f"{module}.{call.name.text} takes {numpy_key}=, not {key}= (numpy "
                    f"raises TypeError: unexpected keyword argument '{key}'); "
                    f"{key}= is PyTorch's",
                )

    def transpose_arguments(self, call: _Call, module: str) -> None:
        """Refuse what each library's transpose function raises TypeError for:
        ``np.transpose(E, 1, 0)`` (numpy takes the axes as one tuple) and
        ``torch.transpose(E)`` or ``torch.transpose(E, (1, 0))`` (torch takes the two
        dims to swap)."""
        args = call.args
        if module in ("np", "numpy") and len(args) == 3:
            why = (
                f"{module}.transpose takes the axes as one tuple, "
                f"{module}.transpose(E, (1, 0)) (numpy raises TypeError for two)"
            )
        elif module == "torch" and (len(args) != 3 or isinstance(args[1], Pair)):
            why = (
                "torch.transpose takes the two dims to swap, torch.transpose(E, 0, 1) "
                "(torch raises TypeError otherwise)"
            )
        else:
            return
        raise self.unexpected(call.name, f"{why}; or write E.T")

    def whole_axis(self, node: Node | bool, call: _Call) -> None:
        """Refuse an axis written as a float, ``axis=0.0`` or ``1e0``: numpy and torch
        raise TypeError for it."""
        if isinstance(node, Neg):
            node = node.arg
        if not isinstance(node, Scalar):
            return
        written = self.text[slice(*self.span(node))].strip("() ")
        if _float_text(written):
            raise self.unexpected(
                call.name,
                f"the axis {written} is a float, and numpy and torch raise TypeError "
                f"for it: an axis is an integer, such as {int(node.value)}",
            )

    def swap(self, arg: Node, axes: list[Node], call: _Call, module: str) -> Node:
        """``transpose`` with its axes: (1, 0) (or -1, -2) is ``.T`` of a 2-D array;
        (0, 1) too in PyTorch's ``torch.transpose(E, 0, 1)``, which swaps the two
        axes it names, but it leaves a numpy array as it is, so a method that could be
        either is refused."""
        if len(axes) == 1 and isinstance(axes[0], Pair):
            axes = list(axes[0].items)
        for axis in axes:
            self.whole_axis(axis, call)
        # each axis as 0 or 1 (-2 is 0, -1 is 1), None where it is not an axis
        values = [None if value is None else value % 2 for value in map(_axis, axes)]
        if values == [1, 0] or (values == [0, 1] and module == "torch"):
            return Swap(arg)
        if values == [0, 1]:
            why = (
                "np.transpose(E, (0, 1)) is E itself"
                if module
                else "E.transpose(0, 1) swaps the axes in PyTorch but is E itself "
                "in numpy"
            )
            raise self.unexpected(
                call.name, f"{why}; for the transpose write E.T or transpose(1, 0)"
            )
        raise self.unexpected(
            call.name,
            "a 2-D array's axes are 0 and 1: transpose(1, 0) swaps them (or write E.T)",
        )

    def arity(self, call: _Call, least: int, most: int) -> None:
        word = call.name.text
        keywords = (
            ("axis", "keepdims", "dim", "keepdim") if word in ("sum", "mean") else ()
        )
        for key, (token, _) in call.keywords.items():
            if key not in keywords:
                raise self.unexpected(
                    token,
                    f"{word}(...) takes no keyword {key!r}"
                    + (f"; it takes {', '.join(keywords)}" if keywords else ""),
                )
        if not least <= len(call.args) <= most:
            want = str(least) if least == most else f"{least} to {most}"
            raise self.unexpected(
                call.name,
                f"{word}(...) takes {want} positional argument"
                f"{'' if most == 1 else 's'}, not {len(call.args)}"
                + _SIGNATURES.get(word, ""),
            )

    def shape(self, arg: Node, call: _Call) -> tuple[Node, ...]:
        if isinstance(arg, Pair):
            if len(arg.items) > 2:
                shown = clip(self.text[slice(*self.span(arg))])
                raise beyond_two_axes(f"the shape {shown}", len(arg.items))
            return arg.items
        return (arg,)

    def reduce(
        self, how: str, arg: Node, call: _Call, first: int = 1, module: str = ""
    ) -> Reduce:
        """``sum`` or ``mean`` of ``arg``; ``call.args[first:]`` are its positional
        arguments after the array, in numpy's order (axis, dtype, out, keepdims) or
        torch's (dim, keepdim): a method takes torch's for ``E.sum(0, True)``."""
        axes = [call.keywords[k] for k in ("axis", "dim") if k in call.keywords]
        keeps: list[tuple[Token, Node | bool | None]] = [
            call.keywords[k] for k in ("keepdims", "keepdim") if k in call.keywords
        ]
        rest = call.args[first:]
        if rest:
            axis = rest[0]
            axes.insert(
                0, (call.name, axis.value if isinstance(axis, Constant) else axis)
            )
        positional = self.positional_keepdims(call, rest, module)
        if positional is not None:
            keeps.insert(0, positional)
        for given, what in ((axes, "the axis"), (keeps, "keepdims")):
            if len(given) > 1:  # torch's dim= and keepdim= are axis= and keepdims=
                raise self.unexpected(given[1][0], f"{what} is given twice")
        axis_node = axes[0][1] if axes else None
        token, keep = keeps[0] if keeps else (call.name, False)
        if not isinstance(keep, bool):
            raise self.unexpected(token, "keepdims is True or False")
        keyword = "dim" if "dim" in call.keywords else "axis"
        return Reduce(how, arg, self.axis(axis_node, call), keep, keyword)

    def positional_keepdims(
        self, call: _Call, rest: list[Node], module: str
    ) -> tuple[Token, bool] | None:
        """keepdims given by position: torch's ``sum(E, dim, keepdim)`` (a method's
        too, when its second argument is True or False), else numpy's ``sum(a, axis,
        dtype, out, keepdims)``, whose dtype and out must be None. Anything else is
        refused as the library refuses it (TypeError), never read as something else."""
        word = call.name.text
        torch = module == "torch" or (
            not module
            and len(rest) == 2
            and isinstance(rest[1], Constant)
            and isinstance(rest[1].value, bool)
        )
        layout = ("keepdim",) if torch else ("dtype", "out", "keepdims")
        keep: tuple[Token, bool] | None = None
        for name, node in zip(layout, rest[1:], strict=False):
            value = node.value if isinstance(node, Constant) else node
            start, end = self.span(node)
            token = Token("name", self.text[start:end], start)
            if name.startswith("keep"):
                if not isinstance(value, bool):
                    raise self.unexpected(
                        token, f"{name} is True or False (given by position here)"
                    )
                keep = (token, value)
            elif value is not None:
                order = "(a, axis, dtype, out, keepdims)"
                raise self.unexpected(
                    token,
                    f"numpy's {word}{order} takes {token.text} as its {name}, and "
                    f"raises TypeError for it; write keepdims={token.text}"
                    if name == "dtype" and isinstance(value, bool)
                    else f"numpy's {word}{order} takes {token.text} as its {name}, "
                    "which must be None here; give keepdims= by name",
                )
        return keep

    def axis(self, node: Node | bool | None, call: _Call) -> int | None:
        if node is None:
            return None
        self.whole_axis(node, call)
        value = _axis(node)
        if value is None:  # axis=True, axis=2
            raise self.unexpected(call.name, "the axis is 0, 1, -1, -2 or None")
        return value


def _float_text(written: str) -> bool:
    """Whether the number ``written`` (as the formula spells it) is a Python float:
    ``2.0``, ``.5``, ``1e3``; ``2`` is an int."""
    return any(char in ".eE" for char in written)


def _axis(node: Node | bool) -> int | None:
    """A 2-D array's axis written as a number, 0, 1, -1 or -2; else None."""
    value = node.value if isinstance(node, Scalar) else None
    if isinstance(node, Neg) and isinstance(node.arg, Scalar):
        value = -node.arg.value
    if value is None or value not in (0, 1, -1, -2):
        return None
    return int(value)


def parse(text: str, names: Names) -> Formula:
    """Parse a candidate formula.

    Args:
        text: the formula, e.g. ``"X.T @ dY"`` (at most :data:`MAX_LENGTH` characters).
        names: the names it may use (:meth:`Names.for_config`).

    Returns:
        The Formula (text, tree and source positions).

    Raises:
        FormulaSyntaxError: it does not parse, or uses a name or character not allowed;
            the message names the offending token and its column.
        FormulaLimitError: it is too long or nested too deeply, or a number is too large.

    >>> parse("X.T @ dY", Names.for_config(Config())).tree
    Prod(args=(T(arg=Sym(role='X')), Sym(role='dY')))
    """
    parser = _Parser(text, _tokens(text, names), names)
    tree = parser.formula()
    return Formula(text, tree, parser.spans, parser.target)


# -- notation to the grammar's text ----------------------------------------------------------------
def numpy_text(node: Node, config: Config) -> str:
    """A closed form such as ``Prod(T(Sym("X")), Sym("dY"))`` as check reads it: ``X.T @ dY``.

    The NumPy printer of the handouts and codegen (:func:`symderiv.render.code.numpy_code`)
    with ``config``'s display letters and the convention's size names, so
    :func:`symderiv.check.check_formula` of the text, at ``config``'s sizes and any
    others, is right exactly when the closed form is.

    Raises:
        TypeError: a node with no NumPy form (I, K, ⊗, vec).

    >>> numpy_text(Prod(T(Sym("X")), Sym("dY")), Config(convention="column"))
    'A.T @ dLdZ'
    """
    from ..render.code import numpy_code

    letters = config.letters
    names = {role: letters.of(role) for role in ("X", "W", "b", "Y", "dY")}
    sizes = dict(zip(SIZE_NAMES, config.conv.sizes, strict=True))
    return numpy_code(node, names, sizes, flat_rows=config.conv.bias_vector)


__all__ = [
    "FUNCTIONS",
    "CheckConfig",
    "MAX_DENOMINATOR",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NUMBER",
    "METHODS",
    "SIZE_KEYS",
    "DimOf",
    "Dot",
    "Elementwise",
    "Formula",
    "FormulaLimitError",
    "FormulaShapeError",
    "FormulaSyntaxError",
    "Matmul",
    "Names",
    "Neg",
    "NewAxes",
    "NpOnes",
    "Pair",
    "Reduce",
    "Reshape",
    "ShapeOf",
    "Size",
    "Swap",
    "Token",
    "TorchDot",
    "TorchMm",
    "beyond_two_axes",
    "numpy_text",
    "parse",
    "tokenize",
    "walk",
]
