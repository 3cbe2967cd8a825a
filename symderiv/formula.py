"""A student's candidate formula: read safely, shape-checked as numpy would, evaluated exactly.

``symderiv check`` takes formulas such as ``X.T @ dY`` from untrusted users (autograders),
so nothing here ever hands user text to Python or sympy (no ``eval``, ``exec``,
``sympify``, ``parse_expr`` or ``ast``). A hand-written tokenizer and recursive-descent
parser build a tree of :mod:`symderiv.notation` nodes (``Sym`` for a named matrix, ``T``
for a transpose, ``Prod`` for ``@``, ``Scalar`` for a number) plus the few student-only
nodes defined here (sizes, ``ones``, sums and means along an axis, elementwise arithmetic,
reshapes). :func:`infer` checks its shapes with numpy's rules and bounds the work;
:func:`evaluate` then computes it with symderiv's own exact algebra
(:class:`~symderiv.algebra.PolyMatrix`), so no sympy is imported.

Grammar (numpy as students write it; precedence as in Python, lowest first)::

    expr    := term (("+" | "-") term)*
    term    := unary (("@" | "*" | "/") unary)*
    unary   := ("-" | "+") unary | postfix
    postfix := primary ("." "T" | "." METHOD "(" args ")")*
    primary := NUMBER | NAME | FUNCTION "(" args ")" | "(" expr ")" | "(" expr "," [expr] ")"
    FUNCTION := ["np." | "numpy."] (sum | mean | ones | dot | matmul | transpose)
    METHOD   := sum | mean | dot | transpose | reshape
    args     := expr ("," expr)* ("," NAME "=" (expr | True | False | None))*

Shapes follow numpy exactly: ``sum(E, axis=0)`` of an r×c array is 1-D of length c
(``keepdims=True`` keeps it 1×c), ``.T`` of a 1-D array is the same array, ``@`` of a 1-D
and a 2-D array is 1-D, ``np.ones(k)`` is 1-D and ``np.ones((k, 1))`` a column, and
``* + -`` broadcast. One extension from the maths: the literal ``1`` next to ``@`` is
the ones vector 1_k, a k×1 column (``1.T`` a 1×k row), k read off the other operand.

Limits keep hostile input cheap: at most :data:`MAX_LENGTH` characters, nesting at most
:data:`MAX_DEPTH` deep, numbers at most :data:`MAX_NUMBER` in magnitude (and denominators
at most :data:`MAX_DENOMINATOR`), and a bound on the polynomial terms built in all
(:func:`work_limit`), estimated before any arithmetic.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .algebra import ONE, Poly, PolyMatrix
from .conventions import NAMEABLE, Config, Convention
from .errors import FormulaError, SymderivError
from .notation import Node, Prod, Scalar, Sym, T

if TYPE_CHECKING:
    from .layer import AffineLayer

#: Longest formula accepted, in characters.
MAX_LENGTH = 500
#: Deepest nesting of parentheses, calls and unary signs.
MAX_DEPTH = 50
#: Largest number accepted, in magnitude.
MAX_NUMBER = 10**6
#: Largest denominator of a number (``1e-12`` is the smallest step).
MAX_DENOMINATOR = 10**12
#: Polynomial terms a formula may build in all at small sizes (the sum over its
#: operations of entries × terms per entry); :func:`work_limit` grows it with the sizes.
MAX_WORK = 150_000
#: Per N·D·M, the further work allowed at large sizes: ``X.T @ dY`` costs N·D·M, so a right
#: answer written a few times over still fits; the size guard bounds N·D·M itself.
WORK_PER_CELL = 8
#: A term count past this is "too many" already; keeps the estimate's integers small.
_TERMS_CAP = 10**15

#: The size keys of a Config, in the order of ``Convention.sizes``.
SIZE_KEYS: tuple[str, str, str] = ("n", "d", "m")
#: Size names every convention accepts (besides its own, such as C_in and C_out).
SIZE_NAMES: tuple[str, str, str] = ("N", "D", "M")
#: Names the upstream derivative dY is also known by in course code (CS231n's dout, ...).
UPSTREAM_ALIASES: tuple[str, ...] = ("dout", "dy", "grad_out", "grad_output", "dLdY")
#: Functions, with or without an ``np.``/``numpy.`` prefix.
FUNCTIONS: tuple[str, ...] = ("sum", "mean", "ones", "dot", "matmul", "transpose")
#: Methods after an operand (``.T`` is an attribute).
METHODS: tuple[str, ...] = ("sum", "mean", "dot", "transpose", "reshape")
_MODULES = ("np", "numpy")


def work_limit(n: int, d: int, m: int) -> int:
    """The most polynomial terms a formula may build at sizes N=n, D=d, M=m."""
    return MAX_WORK + WORK_PER_CELL * n * d * m


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
        d or dLd before the output's letter, such as ``dZ``), and matrix names over sizes.

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
        sizes = dict(zip(SIZE_NAMES, SIZE_KEYS, strict=True))
        sizes.update(zip(config.conv.sizes, SIZE_KEYS, strict=True))
        for spelled in list(sizes):
            if spelled in matrices:
                del sizes[spelled]
        aliases = [r for r in NAMEABLE if r not in display and matrices[r] == r]
        return cls(matrices, sizes, tuple(display + aliases))

    def describe(self) -> str:
        """``names X, W, b, Y, dY, T, sizes N, D, M`` (for messages)."""
        return f"names {', '.join(self.shown)}, sizes {', '.join(self.sizes)}"

    def allowed(self) -> str:
        """The whole grammar in one clause, for the end of an error message."""
        return (
            f"allowed: {self.describe()}, numbers, operators @ * + - / .T, "
            "np.sum/np.mean(E, axis=0, keepdims=True), np.ones(N), np.dot, .reshape"
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

    def describe(self) -> str:
        """``'X'`` or ``end of formula``."""
        return "end of formula" if self.kind == "end" else repr(self.text)


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ENTRY_RE = re.compile(r"[A-Za-z]+(?:_[0-9]+)+\Z")
_SPACE = " \t\r\n"
_OPS = "@*+-/(),=."
_ASCII_HINTS = {
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "[": "subscripts are not allowed",
    "]": "subscripts are not allowed",
    "{": "braces are not allowed",
    "}": "braces are not allowed",
    ":": "slices and lambdas are not allowed",
    ";": "write a single formula",
    "#": "comments are not allowed",
    "^": "powers are not supported; use @ for a matrix product",
    "%": "only @ * + - / are operators",
    "!": "only @ * + - / are operators",
    "&": "only @ * + - / are operators",
    "|": "only @ * + - / are operators",
    "~": "only @ * + - / are operators",
    "<": "comparisons are not allowed",
    ">": "comparisons are not allowed",
    "\\": "backslashes are not allowed",
    "`": "backquotes are not allowed",
    "$": "write plain names such as X, without $",
}
_UNICODE_HINTS = {
    "ᵀ": "write .T for a transpose, e.g. X.T",
    "⊤": "write .T for a transpose, e.g. X.T",
    "ᵗ": "write .T for a transpose, e.g. X.T",
    "′": "write .T for a transpose, e.g. X.T",
    "·": "use @ for a matrix product or * for an elementwise one",
    "⋅": "use @ for a matrix product or * for an elementwise one",
    "∙": "use @ for a matrix product or * for an elementwise one",
    "×": "use @ for a matrix product or * for an elementwise one",
    "⊙": "use * for an elementwise product",
    "∘": "use * for an elementwise product",
    "−": "use the ASCII minus '-'",
    "–": "use the ASCII minus '-'",
    "—": "use the ASCII minus '-'",
    "∑": "use np.sum(E, axis=0) or np.sum(E, axis=1)",
    "Σ": "use np.sum(E, axis=0) or np.sum(E, axis=1)",
    "𝟙": "use np.ones(N), or 1 in a product such as 1.T @ dY",
    "\u00a0": "use an ordinary space",
}
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
        raise FormulaSyntaxError(f"the formula is empty; {names.allowed()}")
    previous: Token | None = None
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch in _SPACE:
            pos += 1
            continue
        if not ch.isascii():
            raise FormulaSyntaxError(
                f"{_unicode_message(ch, pos)}; {names.allowed()}", pos + 1
            )
        token: Token
        if ch.isdigit() or (ch == "." and text[pos + 1 : pos + 2].isdigit()):
            token = _number(text, pos, names)
        elif ch.isalpha() or ch == "_":
            match = _NAME_RE.match(text, pos)
            assert match is not None
            token = Token("name", match.group(), pos)
            if "__" in token.text:
                start, shown = pos, token.text
                if (
                    previous is not None
                    and previous.text == "."
                    and previous.end == pos
                ):
                    start, shown = pos - 1, "." + token.text
                raise FormulaSyntaxError(
                    f"unexpected {_clip(shown)!r} at column {start + 1}: names with '__' "
                    f"are never allowed; {names.allowed()}",
                    start + 1,
                )
        elif text[pos : pos + 2] in ("**", "//"):
            pair = text[pos : pos + 2]
            what = "powers" if pair == "**" else "floor division"
            raise FormulaSyntaxError(
                f"unexpected {pair!r} at column {pos + 1}: {what} are not supported; "
                f"{names.allowed()}",
                pos + 1,
            )
        elif ch in _OPS:
            token = Token("op", ch, pos)
        else:
            why = _ASCII_HINTS.get(ch, "this character is not part of a formula")
            raise FormulaSyntaxError(
                f"unexpected {ch!r} at column {pos + 1}: {why}; {names.allowed()}",
                pos + 1,
            )
        yield token
        previous = token
        pos = token.end
    yield Token("end", "", len(text))


def _number(text: str, pos: int, names: Names) -> Token:
    """The number starting at ``pos``, as numpy writes them: ``2``, ``1.``, ``.5``, ``1e-3``."""
    match = _NUMBER_RE.match(text, pos)
    assert match is not None
    digits = match.group()
    if digits.endswith(".") and _NAME_RE.match(text, match.end()):
        digits = digits[:-1]  # 1.T is the ones vector transposed, not 1. then T
    follow = _NAME_RE.match(text, pos + len(digits))
    if follow:
        glued = text[pos : follow.end()]
        raise FormulaSyntaxError(
            f"unexpected {_clip(glued)!r} at column {pos + 1}: a number cannot be "
            f"followed by a name; write {digits}*{_clip(follow.group())}; "
            f"{names.allowed()}",
            pos + 1,
        )
    exponent = digits.lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 12:
        raise FormulaLimitError(
            f"number {_clip(digits)} at column {pos + 1} is out of range; exponents go "
            "from -12 to 12"
        )
    value = Fraction(digits)
    if value > MAX_NUMBER or value.denominator > MAX_DENOMINATOR:
        raise FormulaLimitError(
            f"number {_clip(digits)} at column {pos + 1} is out of range; numbers are at "
            f"most {MAX_NUMBER:,} in magnitude, with at most 12 decimals"
        )
    return Token("number", digits, pos)


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


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


@dataclass(frozen=True)
class Reduce(Node):
    """``np.sum``/``np.mean`` (``how``) of ``arg`` along ``axis`` (None: every entry)."""

    how: str
    arg: Node
    axis: int | None = None
    keepdims: bool = False


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
    """A parenthesised tuple ``(a, b)``: only a shape, inside ones(...) or reshape(...)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its source text, its tree and where each node came from."""

    text: str
    tree: Node
    spans: Mapping[int, tuple[int, int]] = field(default_factory=dict, compare=False)

    def source(self, node: Node) -> str:
        """The source text of ``node`` (shortened past 40 characters)."""
        start, end = self.spans.get(id(node), (0, len(self.text)))
        return _clip(self.text[start:end].strip())

    def literals(self) -> set[int]:
        """Whole numbers a size must avoid: every literal's numerator and denominator.

        ``X.T @ dY * N / 2`` is right at N = 2 only; ``0.5 * N`` too.
        """
        out: set[int] = set()
        stack = [self.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, Scalar):
                out.update((abs(node.value.numerator), node.value.denominator))
            stack.extend(_children(node))
        return out


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (T, Neg)):
        return (node.arg,)
    if isinstance(node, Reduce):
        return (node.arg,)
    if isinstance(node, Reshape):
        return (node.arg, *node.shape)
    if isinstance(node, Elementwise):
        return (node.left, node.right)
    if isinstance(node, Prod):
        return node.args
    if isinstance(node, NpOnes):
        return node.shape
    if isinstance(node, Pair):
        return node.items
    return ()


# -- the parser ------------------------------------------------------------------------------
@dataclass
class _Call:
    """The arguments of a call, as written."""

    name: Token
    args: list[Node]
    keywords: dict[str, tuple[Token, Node | bool | None]]
    end: int


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
        reason = f": {why}" if why else ""
        return FormulaSyntaxError(
            f"unexpected {token.describe()} at column {token.column}{reason}; "
            f"{self.names.allowed()}",
            token.column,
        )

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
        node = self.expr()
        token = self.peek()
        if token.kind != "end":
            if token.text == ")":
                why = "this ')' has no matching '('"
            elif token.text in (",", "="):
                why = f"{token.text!r} only appears inside a call such as np.sum(...)"
            elif token.text == "(":
                why = f"only {', '.join(FUNCTIONS)} can be called"
            else:
                why = "an operator such as @, * or + is missing before it"
            raise self.unexpected(token, why)
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.at("+", "-"):
            op = self.advance().text
            right = self.term()
            node = self.node(
                Elementwise(op, node, right), self.span(node)[0], self.span(right)[1]
            )
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at("@", "*", "/"):
            op = self.advance().text
            right = self.unary()
            joined: Node = (
                Prod(node, right) if op == "@" else Elementwise(op, node, right)
            )
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
        while self.at("."):
            dot = self.advance()
            attr = self.peek()
            start = self.span(node)[0]
            if attr.kind == "name" and attr.text == "T":
                self.advance()
                node = self.node(T(node), start, attr.end)
                continue
            if attr.kind != "name" or attr.text not in METHODS:
                shown = "." + attr.text if attr.kind == "name" else "."
                raise FormulaSyntaxError(
                    f"unexpected {_clip(shown)!r} at column {dot.column}: only .T, "
                    f".sum(...), .mean(...), .dot(...), .transpose() and .reshape(...) "
                    f"may follow an operand; {self.names.allowed()}",
                    dot.column,
                )
            self.advance()
            call = self.call_args(attr)
            node = self.node(self.method(node, call), start, call.end)
        if self.at("("):
            hint = " (write X.T for a transpose)" if node == Sym("T") else ""
            raise self.unexpected(
                self.peek(), f"only {', '.join(FUNCTIONS)} can be called{hint}"
            )
        return node

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
                raise FormulaSyntaxError(
                    f"keyword {token.text!r} at column {token.column} is not allowed; "
                    f"{self.names.allowed()}",
                    token.column,
                )
            if self.at("(", ahead=1) and not known:
                return self.function(self.advance())
            self.advance()
            return self.name(token)
        if self.at("("):
            opened = self.advance()
            with self.nested(opened):
                inner = self.expr()
                if self.at(","):
                    items = [inner]
                    while self.at(","):
                        self.advance()
                        if self.at(")"):
                            break
                        items.append(self.expr())
                    close = self.expect(")", opened)
                    return self.node(Pair(tuple(items)), opened.start, close.end)
                close = self.expect(")", opened)
            return self.node(inner, opened.start, close.end)
        if token.kind == "end":
            raise self.unexpected(token, "the formula stops before an operand")
        raise self.unexpected(token)

    def module_call(self) -> Node:
        module = self.advance()
        self.advance()  # "."
        function = self.peek()
        if function.kind != "name" or function.text not in FUNCTIONS:
            shown = f"{module.text}.{function.text}" if function.kind == "name" else ""
            raise FormulaSyntaxError(
                f"unexpected {_clip(shown or module.text + '.')!r} at column "
                f"{module.column}: of numpy only {', '.join(FUNCTIONS)} are allowed; "
                f"{self.names.allowed()}",
                module.column,
            )
        self.advance()
        if not self.at("("):
            raise self.unexpected(self.peek(), f"{function.text} must be called")
        node = self.function(function)
        return self.node(node, module.start, self.span(node)[1])

    def name(self, token: Token) -> Node:
        word = token.text
        if word in self.names.matrices:
            return self.node(Sym(self.names.matrices[word]), token.start, token.end)
        if word in self.names.sizes:
            return self.node(Size(self.names.sizes[word], word), token.start, token.end)
        if word in FUNCTIONS:
            raise self.unexpected(token, f"{word} must be called, e.g. np.{word}(...)")
        raise FormulaSyntaxError(
            f"unknown name {_clip(word)!r} at column {token.column}{self.suggest(word)}; "
            f"{self.names.allowed()}",
            token.column,
        )

    def suggest(self, word: str) -> str:
        for known in (*self.names.matrices, *self.names.sizes):
            if known.lower() == word.lower():
                return f" (did you mean {known!r}? names are case-sensitive)"
        if word in _MODULES or word == "torch":
            return " (numpy functions are called as np.sum(...), np.dot(...), ...)"
        if word in ("t",):
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
                else:
                    args.append(self.expr())
                if not self.at(","):
                    break
                self.advance()
            close = self.expect(")", opened)
        return _Call(name, args, keywords, close.end)

    def keyword_value(self) -> Node | bool | None:
        token = self.peek()
        if token.kind == "name" and token.text in ("True", "False", "None"):
            self.advance()
            return {"True": True, "False": False, "None": None}[token.text]
        return self.expr()

    def function(self, name: Token) -> Node:
        """A call of one of :data:`FUNCTIONS` (the module prefix already read)."""
        if name.text not in FUNCTIONS:
            hint = " (write X.T for a transpose)" if name.text in ("T", "t") else ""
            raise FormulaSyntaxError(
                f"unexpected call {_clip(name.text + '(')!r} at column {name.column}: "
                f"only {', '.join(FUNCTIONS)} can be called{hint}; "
                f"{self.names.allowed()}",
                name.column,
            )
        call = self.call_args(name)
        word = name.text
        if word in ("sum", "mean"):
            self.arity(call, 1, 2, ("axis", "keepdims"))
            return self.node(
                self.reduce(word, call.args[0], call), name.start, call.end
            )
        if word == "ones":
            self.arity(call, 1, 1, ())
            return self.node(
                NpOnes(self.shape(call.args[0], call)), name.start, call.end
            )
        if word in ("dot", "matmul"):
            self.arity(call, 2, 2, ())
            left, right = call.args
            node: Node = Dot(left, right) if word == "dot" else Prod(left, right)
            return self.node(node, name.start, call.end)
        self.arity(call, 1, 1, ())  # transpose
        return self.node(T(call.args[0]), name.start, call.end)

    def method(self, node: Node, call: _Call) -> Node:
        word = call.name.text
        if word in ("sum", "mean"):
            self.arity(call, 0, 1, ("axis", "keepdims"))
            return self.reduce(word, node, call, first=0)
        if word == "dot":
            self.arity(call, 1, 1, ())
            return Dot(node, call.args[0])
        if word == "transpose":
            self.arity(call, 0, 0, ())
            return T(node)
        # reshape(r, c) or reshape((r, c)) or reshape(k)
        if not call.args:
            raise self.unexpected(
                call.name, "reshape needs a shape, e.g. reshape(-1, 1)"
            )
        self.arity(call, 1, 2, ())
        items = call.args
        if len(items) == 1:
            return Reshape(node, self.shape(items[0], call))
        return Reshape(node, tuple(items))

    def arity(
        self, call: _Call, least: int, most: int, keywords: tuple[str, ...]
    ) -> None:
        word = call.name.text
        for key, (token, _) in call.keywords.items():
            if key not in keywords:
                hint = ""
                if key in ("keepdim", "dim"):
                    hint = " (numpy spells it axis= and keepdims=)"
                raise self.unexpected(
                    token,
                    f"{word}(...) takes no keyword {key!r}{hint}"
                    + (f"; it takes {', '.join(keywords)}" if keywords else ""),
                )
        if not least <= len(call.args) <= most:
            want = str(least) if least == most else f"{least} to {most}"
            raise self.unexpected(
                call.name,
                f"{word}(...) takes {want} positional argument"
                f"{'' if most == 1 else 's'}, not {len(call.args)}",
            )

    def shape(self, arg: Node, call: _Call) -> tuple[Node, ...]:
        if isinstance(arg, Pair):
            if len(arg.items) > 2:
                raise self.unexpected(
                    call.name, "shapes have one or two sizes here, such as (N, 1)"
                )
            return arg.items
        return (arg,)

    def reduce(self, how: str, arg: Node, call: _Call, first: int = 1) -> Reduce:
        axis_node: Node | bool | None = None
        if len(call.args) > first:
            axis_node = call.args[first]
            if "axis" in call.keywords:
                raise self.unexpected(call.keywords["axis"][0], "axis is given twice")
        elif "axis" in call.keywords:
            axis_node = call.keywords["axis"][1]
        keep = call.keywords.get("keepdims", (call.name, False))
        if not isinstance(keep[1], bool):
            raise self.unexpected(keep[0], "keepdims is True or False")
        return Reduce(how, arg, self.axis(axis_node, call), keep[1])

    def axis(self, node: Node | bool | None, call: _Call) -> int | None:
        if node is None:
            return None
        value: Fraction | None = None
        if isinstance(node, Scalar):
            value = node.value
        elif isinstance(node, Neg) and isinstance(node.arg, Scalar):
            value = -node.arg.value
        if value is None or isinstance(node, bool) or value not in (0, 1, -1, -2):
            raise self.unexpected(call.name, "the axis is 0, 1, -1, -2 or None")
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
    return Formula(text, tree, parser.spans)


# -- shapes and work, before any arithmetic ----------------------------------------------------
@dataclass(frozen=True)
class Dim:
    """One axis of a shape: its size and how to name it (``N``, ``C_in``, ``1``)."""

    size: int
    label: str

    def describe(self) -> str:
        """``D=3``, or ``3`` when the label is the number itself."""
        return (
            str(self.size)
            if self.label == str(self.size)
            else f"{self.label}={self.size}"
        )


#: A numpy shape: () for a scalar, (k,) for a 1-D array, (r, c) for a matrix.
Shape = tuple[Dim, ...]


def format_shape(shape: Shape) -> str:
    """``N×D (2×3)``, ``1-D of length M (4)``, ``a scalar``; plain sizes print once."""
    if not shape:
        return "a scalar"
    labels = "×".join(d.label for d in shape)
    sizes = "×".join(str(d.size) for d in shape)
    text = sizes if labels == sizes else f"{labels} ({sizes})"
    return f"1-D of length {text}" if len(shape) == 1 else text


def numpy_shape(shape: Shape) -> str:
    """numpy's own spelling: ``(2, 3)``, ``(4,)``, ``()``."""
    if len(shape) == 1:
        return f"({shape[0].size},)"
    return "(" + ", ".join(str(d.size) for d in shape) + ")"


@dataclass(frozen=True)
class Info:
    """What :func:`infer` knows about a (sub)formula before computing it.

    Attributes:
        shape: its numpy shape.
        value: a scalar's value when it is a constant (numbers and sizes), else None.
        terms: at most this many terms in each entry once multiplied out.
    """

    shape: Shape
    value: Fraction | None = None
    terms: int = 1


@dataclass(frozen=True)
class Env:
    """What a formula's names stand for at one size triple.

    Attributes:
        n, d, m: the sizes N, D, M.
        convention: gives each role's shape and the size labels (N, C_in, C_out, ...).
        leaves: role -> explicit matrix (X, W, b, Y, dY, T), read only by :func:`evaluate`.
    """

    n: int
    d: int
    m: int
    convention: Convention
    leaves: Mapping[str, PolyMatrix] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> Env:
        """The environment of ``config``, leaves the layer's own symbolic matrices."""
        from .layer import AffineLayer

        layer = AffineLayer(config.n, config.d, config.m, config.conv)
        return cls(config.n, config.d, config.m, config.conv, LayerLeaves(layer))

    def size(self, key: str) -> int:
        """The size called ``key`` ("n", "d" or "m")."""
        return {"n": self.n, "d": self.d, "m": self.m}[key]

    def label(self, key: str) -> str:
        """The convention's name of size ``key``: N, D, M or N, C_in, C_out."""
        return self.convention.sizes[SIZE_KEYS.index(key)]

    def shape(self, role: str) -> Shape:
        """The shape of ``role`` with its labels, e.g. (N=2, D=3) for X."""
        rows, cols = self.convention.shape(role, self.n, self.d, self.m)
        labels = self.convention.shape_names(role)
        return Dim(rows, labels[0]), Dim(cols, labels[1])

    def sizes_text(self) -> str:
        """``N=2, D=2, M=3`` (``N=2, C_in=2, C_out=3`` in column)."""
        return ", ".join(
            f"{label}={self.size(key)}"
            for label, key in zip(self.convention.sizes, SIZE_KEYS, strict=True)
        )


class LayerLeaves(Mapping[str, PolyMatrix]):
    """role -> the layer's matrix (Y is the forward map), built on first use."""

    def __init__(self, layer: AffineLayer) -> None:
        self.layer = layer

    def __getitem__(self, role: str) -> PolyMatrix:
        return self.layer.Y if role == "Y" else self.layer.matrix(role)

    def __iter__(self) -> Iterator[str]:
        return iter(NAMEABLE)

    def __len__(self) -> int:
        return len(NAMEABLE)


_ONE = Dim(1, "1")


def _ones_literal(node: Node) -> str | None:
    """ "col" for the literal 1, "row" for ``1.T``: a ones vector if a product allows."""
    if isinstance(node, Scalar) and node.value == 1:
        return "col"
    if isinstance(node, T) and _ones_literal(node.arg) == "col":
        return "row"
    return None


class _Shapes:
    """The shape pass: numpy shapes, constant scalars and a bound on the work, per node.

    ``infos`` keeps each node's Info (by identity) for the evaluation pass, which then
    needs no shape rules of its own.
    """

    def __init__(self, formula: Formula, env: Env) -> None:
        self.formula = formula
        self.env = env
        self.work = 0
        self.limit = work_limit(env.n, env.d, env.m)
        self.infos: dict[int, Info] = {}

    def src(self, node: Node) -> str:
        return self.formula.source(node)

    def fail(self, node: Node, why: str) -> FormulaShapeError:
        return FormulaShapeError(f"{self.src(node)}: {why}", self.src(node))

    def info(self, node: Node) -> Info:
        info = self._info(node)
        entries = 1
        for dim in info.shape:
            entries *= dim.size
        info = Info(info.shape, info.value, min(info.terms, _TERMS_CAP))
        self.work += entries * info.terms
        if self.work > self.limit:
            raise FormulaLimitError(
                f"{self.src(node)!r} is too large to check at {self.env.sizes_text()}: "
                f"more than {self.limit:,} polynomial terms"
            )
        self.infos[id(node)] = info
        return info

    def _info(self, node: Node) -> Info:
        if isinstance(node, Sym):
            terms = self.env.d + 1 if node.role == "Y" else 1
            return Info(self.env.shape(node.role), terms=terms)
        if isinstance(node, Size):
            return Info((), Fraction(self.env.size(node.key)))
        if isinstance(node, Scalar):
            return Info((), node.value)
        if isinstance(node, NpOnes):
            return Info(tuple(self.whole(arg, node) for arg in node.shape))
        if isinstance(node, T):
            inner = self.info(node.arg)
            return Info(inner.shape[::-1], inner.value, inner.terms)
        if isinstance(node, Neg):
            inner = self.info(node.arg)
            value = -inner.value if inner.value is not None else None
            return Info(inner.shape, value, inner.terms)
        if isinstance(node, Reduce):
            return self.reduce(node, self.info(node.arg))
        if isinstance(node, Reshape):
            return self.reshape(node, self.info(node.arg))
        if isinstance(node, Prod):
            return self.matmul(node)
        if isinstance(node, Elementwise):
            return self.elementwise(node)
        if isinstance(node, Pair):
            raise FormulaError(
                f"{self.src(node)!r}: a tuple is only a shape, as in np.ones((N, 1)) or "
                ".reshape((M, 1))"
            )
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def constant(self, arg: Node, call: Node, what: str) -> tuple[int, str]:
        """A whole-number argument of ones(...) or reshape(...), with its label."""
        info = self.info(arg)
        value = info.value
        if info.shape or value is None or value.denominator != 1:
            raise FormulaError(
                f"{self.src(call)!r}: {what} takes sizes, whole numbers such as N or 1, "
                f"but {self.src(arg)!r} is not one"
            )
        label = arg.spelled if isinstance(arg, Size) else str(int(value))
        return int(value), label

    def whole(self, arg: Node, call: Node) -> Dim:
        size, label = self.constant(arg, call, "np.ones(...)")
        if size < 1:
            raise self.fail(call, f"np.ones needs sizes >= 1, and {label} is {size}")
        if size > self.limit:
            raise FormulaLimitError(
                f"{self.src(call)!r} is too large: {size:,} entries (at most "
                f"{self.limit:,})"
            )
        return Dim(size, label)

    def reduce(self, node: Reduce, inner: Info) -> Info:
        shape, axis = inner.shape, node.axis
        name = f"np.{node.how}"
        if axis is not None:
            if axis >= len(shape) or axis < -len(shape):
                what = "a scalar" if not shape else f"{len(shape)}-D"
                raise self.fail(
                    node, f"{name} along axis {axis}, but its argument is {what}"
                )
            axis %= len(shape)
        kept = [
            (dim if (axis is not None and k != axis) else _ONE)
            for k, dim in enumerate(shape)
        ]
        count = 1
        for k, dim in enumerate(shape):
            if axis is None or k == axis:
                count *= dim.size
        out = (
            tuple(kept)
            if node.keepdims
            else tuple(
                dim for k, dim in enumerate(shape) if axis is not None and k != axis
            )
        )
        value = None
        if inner.value is not None and not shape:
            value = inner.value
        return Info(out, value, inner.terms * count)

    def reshape(self, node: Reshape, inner: Info) -> Info:
        total = 1
        for dim in inner.shape:
            total *= dim.size
        dims: list[tuple[int, str]] = [
            self.constant(arg, node, ".reshape(...)") for arg in node.shape
        ]
        free = [k for k, (size, _) in enumerate(dims) if size == -1]
        if len(free) > 1 or any(size < -1 or size == 0 for size, _ in dims):
            raise FormulaError(
                f"{self.src(node)!r}: a shape has sizes >= 1 and at most one -1"
            )
        known = 1
        for size, _ in dims:
            if size != -1:
                known *= size
        if free:
            if total % known:
                raise self.fail(
                    node,
                    f"cannot reshape {format_shape(inner.shape)} ({total} entries) "
                    f"to {numpy_shape(tuple(Dim(s, lab) for s, lab in dims))}",
                )
            size = total // known
            label = next((d.label for d in inner.shape if d.size == size), str(size))
            dims[free[0]] = (size, label)
        shape = tuple(Dim(size, label) for size, label in dims)
        if known * (total // known if free else 1) != total:
            raise self.fail(
                node,
                f"cannot reshape {format_shape(inner.shape)} ({total} entries) to "
                f"{format_shape(shape)}",
            )
        return Info(shape, None, inner.terms)

    def operands(self, node: Prod) -> tuple[Info, Info]:
        """The two operands of ``@``; a literal 1 takes its length from the other side."""
        left, right = node.args
        kinds = _ones_literal(left), _ones_literal(right)
        if kinds[0] == "row" and kinds[1] is None:
            b = self.info(right)
            if len(b.shape) == 2:
                a = Info((_ONE, b.shape[0]))
                self.infos[id(left)] = a
                return a, b
            return self.info(left), b
        a = self.info(left)
        if kinds[1] == "col" and kinds[0] is None and len(a.shape) == 2:
            b = Info((a.shape[1], _ONE))
            self.infos[id(right)] = b
            return a, b
        return a, self.info(right)

    def matmul(self, node: Prod) -> Info:
        left, right = node.args
        a, b = self.operands(node)
        if isinstance(node, Dot) and (not a.shape or not b.shape):
            return self.scale(node, "*", a, b)  # np.dot with a scalar multiplies
        for side, part in ((left, a), (right, b)):
            if not part.shape:
                hint = (
                    " (the length of this 1 is not clear here: write np.ones(N) or "
                    "1.T @ dY)"
                    if _ones_literal(side)
                    else "; use * to scale by a number"
                )
                raise self.fail(
                    node,
                    f"@ multiplies arrays, but {self.src(side)} is a scalar{hint}",
                )
        inner_a, inner_b = a.shape[-1], b.shape[0]
        if inner_a.size != inner_b.size:
            where_a = "columns" if len(a.shape) == 2 else "entries"
            where_b = "rows" if len(b.shape) == 2 else "entries"
            raise self.fail(
                node,
                f"cannot multiply {format_shape(a.shape)} by {format_shape(b.shape)}; "
                f"{self.src(left)} has {inner_a.describe()} {where_a} but "
                f"{self.src(right)} has {inner_b.describe()} {where_b}",
            )
        # (r, k) @ (k, c) -> (r, c); a 1-D operand drops its axis from the result.
        shape = a.shape[:-1] + b.shape[1:]
        return Info(shape, None, inner_a.size * a.terms * b.terms)

    def scale(self, node: Node, op: str, a: Info, b: Info) -> Info:
        """Elementwise ``op`` of a scalar and an array (or two scalars)."""
        shape = a.shape or b.shape
        value = None
        if a.value is not None and b.value is not None:
            value = {"*": a.value * b.value, "+": a.value + b.value}.get(
                op, a.value - b.value
            )
        if op == "*":
            constant = a.value is not None or b.value is not None
            terms = max(a.terms, b.terms) if constant else a.terms * b.terms
        else:
            terms = a.terms + b.terms
        return Info(shape, value, terms)

    def elementwise(self, node: Elementwise) -> Info:
        a, b = self.info(node.left), self.info(node.right)
        op = node.op
        if op == "/":
            if b.shape or b.value is None:
                raise FormulaError(
                    f"{self.src(node)!r}: / divides by a number or a size only (such as "
                    f"2 or N), and {self.src(node.right)!r} is not one"
                )
            if b.value == 0:
                raise self.fail(node, f"it divides by zero at {self.env.sizes_text()}")
            value = a.value / b.value if a.value is not None else None
            return Info(a.shape, value, a.terms)
        if not a.shape or not b.shape:
            return self.scale(node, op, a, b)
        # numpy broadcasting: align the trailing axes; a size-1 axis stretches.
        width = max(len(a.shape), len(b.shape))
        pa = (_ONE,) * (width - len(a.shape)) + a.shape
        pb = (_ONE,) * (width - len(b.shape)) + b.shape
        dims: list[Dim] = []
        for left, right in zip(pa, pb, strict=True):
            if left.size == right.size:
                dims.append(left if left.label != "1" else right)
            elif left.size == 1 or right.size == 1:
                dims.append(right if left.size == 1 else left)
            else:
                verb = {"*": "multiply elementwise", "+": "add", "-": "subtract"}[op]
                joint = "and" if op != "-" else "from"
                first, second = (a, b) if op != "-" else (b, a)
                raise self.fail(
                    node,
                    f"cannot {verb} {format_shape(first.shape)} {joint} "
                    f"{format_shape(second.shape)}; numpy broadcasts only equal sizes "
                    "or a size 1",
                )
        terms = a.terms * b.terms if op == "*" else a.terms + b.terms
        return Info(tuple(dims), None, terms)


def infer(formula: Formula, env: Env) -> Info:
    """The numpy shape of ``formula`` at ``env``'s sizes, checked without computing it.

    Args:
        formula: a parsed formula.
        env: sizes and convention (the leaves are not read).

    Returns:
        Info: the shape, a constant value, and a term bound.

    Raises:
        FormulaShapeError: shapes inside the formula do not fit (a wrong answer).
        FormulaError: ones(...) of something that is not a size, / by an array.
        FormulaLimitError: computing it would build more than :func:`work_limit` terms.

    >>> env = Env(2, 3, 4, Config().conv)
    >>> f = parse("np.sum(dY, axis=0)", Names.for_config(Config()))
    >>> format_shape(infer(f, env).shape)
    '1-D of length M (4)'
    """
    return _Shapes(formula, env).info(formula.tree)


# -- evaluation with symderiv's own algebra -------------------------------------------------
@dataclass(frozen=True)
class Value:
    """An evaluated (sub)formula: a numpy shape and its entries as a PolyMatrix.

    A scalar is held as 1×1 and a 1-D array of length k as 1×k; ``shape`` says which.
    """

    shape: tuple[int, ...]
    matrix: PolyMatrix

    def as_matrix(self) -> PolyMatrix:
        """The entries in the value's own 2-D form (1-D as a 1×k row)."""
        return self.matrix


def _const(value: Fraction) -> Poly:
    return Poly.const(value.numerator if value.denominator == 1 else value)


def _scalar(poly: Poly) -> Value:
    return Value((), PolyMatrix(1, 1, {} if poly.is_zero() else {(0, 0): poly}))


def _reshaped(matrix: PolyMatrix, rows: int, cols: int) -> PolyMatrix:
    """The same entries, row-major, in a rows×cols matrix."""
    width = matrix.cols
    out = {}
    for (i, j), v in matrix.entries.items():
        flat = i * width + j
        out[flat // cols, flat % cols] = v
    return PolyMatrix(rows, cols, out)


def _grid(shape: tuple[int, ...]) -> tuple[int, int]:
    """How a value of numpy ``shape`` is held: () -> 1×1, (k,) -> 1×k, (r, c) -> r×c."""
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return 1, shape[0]
    return shape[0], shape[1]


class _Evaluator:
    """Computes a formula whose shapes :func:`infer` has checked, with PolyMatrix."""

    def __init__(self, env: Env, infos: Mapping[int, Info]) -> None:
        self.env = env
        self.infos = infos

    def shape(self, node: Node) -> tuple[int, ...]:
        return tuple(d.size for d in self.infos[id(node)].shape)

    def value(self, node: Node) -> Value:
        info = self.infos[id(node)]
        if info.value is not None and not info.shape:
            return _scalar(_const(info.value))
        shape = self.shape(node)
        if _ones_literal(node) is not None:  # 1 or 1.T next to @: a ones vector
            return Value(shape, PolyMatrix.ones(*_grid(shape)))
        if isinstance(node, Sym):
            return Value(shape, self.env.leaves[node.role])
        if isinstance(node, NpOnes):
            return Value(shape, PolyMatrix.ones(*_grid(shape)))
        if isinstance(node, T):
            inner = self.value(node.arg)
            if len(inner.shape) < 2:
                return Value(shape, inner.matrix)
            return Value(shape, inner.matrix.transpose())
        if isinstance(node, Neg):
            return Value(shape, self.value(node.arg).matrix.scale(-1))
        if isinstance(node, Reduce):
            return self.reduce(node, shape)
        if isinstance(node, Reshape):
            held = self.value(node.arg).matrix
            return Value(shape, _reshaped(held, *_grid(shape)))
        if isinstance(node, Prod):
            return self.matmul(node, shape)
        if isinstance(node, Elementwise):
            return self.elementwise(node, shape)
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def reduce(self, node: Reduce, shape: tuple[int, ...]) -> Value:
        inner = self.value(node.arg)
        rows, cols = inner.matrix.shape
        ndim = len(inner.shape)
        axis = None if node.axis is None else node.axis % max(ndim, 1)
        # Which axis of the held matrix runs along numpy's axis: a 1-D array is 1×k.
        if axis is None:
            sums: dict[tuple[int, int], list[Poly]] = {(0, 0): []}
            for v in inner.matrix.entries.values():
                sums[0, 0].append(v)
            count = rows * cols
        elif ndim == 2 and axis == 0:  # (r, c) -> c column sums
            sums = {}
            for (_, j), v in sorted(inner.matrix.entries.items()):
                sums.setdefault((0, j), []).append(v)
            count = rows
        elif ndim == 2:  # axis 1: (r, c) -> r row sums
            sums = {}
            for (i, _), v in sorted(inner.matrix.entries.items()):
                sums.setdefault((i, 0), []).append(v)
            count = cols
        else:  # 1-D along its only axis
            sums = {(0, 0): [v for _, v in sorted(inner.matrix.entries.items())]}
            count = cols
        scale = Fraction(1, count) if node.how == "mean" else Fraction(1)
        out_rows = (
            1 if (axis is None or (ndim == 2 and axis == 0) or ndim < 2) else rows
        )
        out_cols = cols if (ndim == 2 and axis == 0) else 1
        entries = {}
        for key, parts in sums.items():
            total = Poly.dot((p, ONE) for p in parts)
            if scale != 1:
                total = total.scale(scale)
            if not total.is_zero():
                entries[key] = total
        reduced = PolyMatrix(out_rows, out_cols, entries)
        # Held 2-D now; give it the result's own layout (1-D as a row, keepdims as is).
        rows_out, cols_out = _grid(shape)
        if reduced.shape != (rows_out, cols_out):
            reduced = _reshaped(reduced, rows_out, cols_out)
        return Value(shape, reduced)

    def matmul(self, node: Prod, shape: tuple[int, ...]) -> Value:
        left, right = node.args
        a, b = self.value(left), self.value(right)
        if isinstance(node, Dot) and (not a.shape or not b.shape):
            return self.scaled("*", a, b, shape)
        ma = a.matrix  # a 1-D left operand is already a 1×k row
        mb = b.matrix if len(b.shape) == 2 else b.matrix.transpose()  # k×1 column
        product = ma @ mb
        return Value(shape, _reshaped(product, *_grid(shape)))

    def scaled(self, op: str, a: Value, b: Value, shape: tuple[int, ...]) -> Value:
        """``op`` of a scalar with an array (either side), or of two scalars."""
        if not a.shape and not b.shape:
            x, y = a.matrix[0, 0], b.matrix[0, 0]
            return _scalar(x * y if op == "*" else (x + y if op == "+" else x - y))
        scalar_first = not a.shape
        s = (a if scalar_first else b).matrix[0, 0]
        array = (b if scalar_first else a).matrix
        constant = s.constant()
        out: dict[tuple[int, int], Poly] = {}
        if op == "*":
            if constant is not None:
                return Value(shape, array.scale(constant))
            for key, v in array.entries.items():
                p = v * s
                if not p.is_zero():
                    out[key] = p
            return Value(shape, PolyMatrix(array.rows, array.cols, out))
        rows, cols = array.shape
        for i in range(rows):
            for j in range(cols):
                v = array[i, j]
                if op == "+":
                    p = v + s
                elif scalar_first:
                    p = s - v
                else:
                    p = v - s
                if not p.is_zero():
                    out[i, j] = p
        return Value(shape, PolyMatrix(rows, cols, out))

    def elementwise(self, node: Elementwise, shape: tuple[int, ...]) -> Value:
        a, b = self.value(node.left), self.value(node.right)
        if node.op == "/":
            divisor = self.infos[id(node.right)].value
            assert divisor is not None
            return Value(shape, a.matrix.scale(1 / divisor))
        if not a.shape or not b.shape:
            return self.scaled(node.op, a, b, shape)
        rows, cols = _grid(shape)
        fa = self.stretch(a, shape)
        fb = self.stretch(b, shape)
        out: dict[tuple[int, int], Poly] = {}
        for i in range(rows):
            for j in range(cols):
                x, y = fa(i, j), fb(i, j)
                if node.op == "*":
                    p = x * y if not (x.is_zero() or y.is_zero()) else Poly()
                elif node.op == "+":
                    p = x + y
                else:
                    p = x - y
                if not p.is_zero():
                    out[i, j] = p
        return Value(shape, PolyMatrix(rows, cols, out))

    def stretch(self, value: Value, shape: tuple[int, ...]) -> Any:
        """Entry (i, j) of ``value`` broadcast to ``shape`` (numpy's rules)."""
        full = (1,) * (len(shape) - len(value.shape)) + value.shape
        matrix = value.matrix
        if len(shape) == 1:  # both 1-D: held as 1×k rows
            return lambda i, j: matrix[0, j if full[0] > 1 else 0]
        if len(value.shape) == 1:  # a 1-D (k,) is a 1×k row
            return lambda i, j: matrix[0, j if full[1] > 1 else 0]
        return lambda i, j: matrix[i if full[0] > 1 else 0, j if full[1] > 1 else 0]


def evaluate(formula: Formula, env: Env) -> Value:
    """The value of ``formula``: its numpy shape and its entries, exact.

    Runs :func:`infer` first, so a shape that does not fit, or too much work, is reported
    before any arithmetic.

    Raises:
        FormulaShapeError, FormulaError, FormulaLimitError: as :func:`infer`.

    >>> config = Config(n=1, d=2, m=1)
    >>> value = evaluate(parse("X.T @ dY", Names.for_config(config)), Env.from_config(config))
    >>> value.shape, value.matrix.to_strings()
    ((2, 1), [['x_1_1*dy_1_1'], ['x_1_2*dy_1_1']])
    """
    shapes = _Shapes(formula, env)
    shapes.info(formula.tree)
    return _Evaluator(env, shapes.infos).value(formula.tree)


# -- notation to the grammar's text ----------------------------------------------------------------
def numpy_text(node: Node, config: Config) -> str:
    """A closed form such as ``Prod(T(Sym("X")), Sym("dY"))`` as check reads it: ``X.T @ dY``.

    Names are ``config``'s display letters and 1_N is ``np.ones((N, 1))`` with the
    convention's name of the batch size, so :func:`symderiv.check.check_formula` of the
    text, at ``config``'s sizes and any others, is right exactly when the closed form is.

    Raises:
        TypeError: a node this grammar has no spelling for (I, K, ⊗, vec).

    >>> numpy_text(Prod(T(Sym("X")), Sym("dY")), Config(convention="column"))
    'A.T @ dLdZ'
    """
    from .notation import Ones as OnesVector
    from .notation import Sum

    letters = config.letters

    def size(value: object) -> str:
        if isinstance(value, str):
            return value
        if value == config.n:
            return config.conv.sizes[0]
        return str(value)

    def text(part: Node, inner: bool = False) -> str:
        if isinstance(part, Sym):
            return letters.of(part.role)
        if isinstance(part, OnesVector):
            return f"np.ones(({size(part.size)}, 1))"
        if isinstance(part, Scalar):
            return str(part.value)
        if isinstance(part, T):
            return f"{text(part.arg, inner=True)}.T"
        if isinstance(part, Prod):
            body = " @ ".join(
                text(a, inner=True) for a in part.args if not isinstance(a, Scalar)
            )
            scalars = [a for a in part.args if isinstance(a, Scalar)]
            if scalars:
                body = " * ".join([f"({body})", *(text(a) for a in scalars)])
            return f"({body})" if inner and len(part.args) > 1 else body
        if isinstance(part, Sum):
            body = " + ".join(text(a) for a in part.args)
            return f"({body})" if inner else body
        raise TypeError(f"no numpy spelling for {type(part).__name__}")

    return text(node)


__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NUMBER",
    "MAX_WORK",
    "METHODS",
    "Dim",
    "Dot",
    "Elementwise",
    "Env",
    "Formula",
    "FormulaLimitError",
    "FormulaShapeError",
    "FormulaSyntaxError",
    "Info",
    "LayerLeaves",
    "Names",
    "Neg",
    "NpOnes",
    "Pair",
    "Reduce",
    "Reshape",
    "Shape",
    "Size",
    "Token",
    "Value",
    "evaluate",
    "format_shape",
    "infer",
    "numpy_shape",
    "numpy_text",
    "parse",
    "tokenize",
    "work_limit",
]
