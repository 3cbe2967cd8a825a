"""A student's candidate formula: read safely, shape-checked, evaluated exactly.

``symderiv check`` takes formulas such as ``X.T @ dY`` from untrusted users (autograders),
so nothing here ever hands user text to Python or sympy (no ``eval``, ``exec``,
``sympify``, ``parse_expr`` or ``ast``). A hand-written tokenizer and recursive-descent
parser build a small tree of frozen dataclasses; :func:`infer` checks its shapes and bounds
the work without touching sympy; :func:`evaluate` then computes it over exact sympy
matrices whose entries are the canonical symbols (x_1_1, w_2_3, b_1, dy_1_2, ...).

Grammar (numpy-like; precedence as in Python, lowest first)::

    expr    := term (("+" | "-") term)*
    term    := unary (("@" | "*" | "/") unary)*
    unary   := ("-" | "+") unary | postfix
    postfix := primary ("." "T" | "." "sum" "(" [axis] ")")*
    primary := NUMBER | NAME | "(" expr ")"
             | "ones" "(" expr ["," expr] ")"
             | "sum" "(" expr ["," axis] ")"
    axis    := ["axis" "="] ("0" | "1")

Names are the convention's display letters (with ``--names`` applied), the role names
X, W, b, Y, dY, T (always accepted), and the sizes N, D, M (C_in, C_out in ``column``),
which stand for whole numbers. The literal ``1`` is the ones vector where a product makes
its length unambiguous (``1.T @ dY`` is 1_Nᵀ·dY, ``dY.T @ 1`` is dYᵀ·1_N); elsewhere it
is the number 1. ``sum(E, axis=0)`` is a 1×k row, ``sum(E, axis=1)`` a k×1 column and
``sum(E)`` the scalar total, as in numpy; ``*``, ``+`` and ``-`` broadcast 1×k rows and
k×1 columns as numpy does.

Limits keep hostile input cheap: at most :data:`MAX_LENGTH` characters, nesting at most
:data:`MAX_DEPTH` deep, numbers at most :data:`MAX_NUMBER` in magnitude, and at most
:data:`MAX_WORK` polynomial terms built in all (estimated before any sympy work).
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from .conventions import NAMEABLE, Config, Convention, entry_name
from .errors import FormulaError, SymderivError

#: Longest formula accepted, in characters.
MAX_LENGTH = 500
#: Deepest nesting of parentheses, calls and unary signs.
MAX_DEPTH = 50
#: Largest number accepted, in magnitude.
MAX_NUMBER = 10**6
#: Most polynomial terms a formula may build in all (sum over its operations of entries ×
#: terms per entry). sympy expands about 30 000 such terms a second, so this is a few
#: seconds at worst; ``X.T @ dY`` at N = D = M = 32 needs about 36 000.
MAX_WORK = 150_000

#: The size keys of a Config, in the order of ``Convention.sizes``.
SIZE_KEYS: tuple[str, str, str] = ("n", "d", "m")


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
    """Shapes inside the formula do not fit: a wrong answer, explained (exit 1).

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

        Display letters win over role names (``--names X=W,W=V`` makes ``W`` mean X), and
        matrix names win over size names.

        >>> names = Names.for_config(Config(convention="column"))
        >>> names.matrices["A"], names.matrices["X"], names.sizes["C_out"]
        ('X', 'X', 'm')
        """
        letters = config.letters
        display = [letters.of(role) for role in NAMEABLE]
        matrices = {role: role for role in NAMEABLE}
        matrices.update(zip(display, NAMEABLE, strict=True))
        sizes = dict(zip(("N", "D", "M"), SIZE_KEYS, strict=True))
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
            "ones(N), sum(E, axis=0)"
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
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
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
    "∑": "use sum(E, axis=0) or sum(E, axis=1)",
    "Σ": "use sum(E, axis=0) or sum(E, axis=1)",
    "𝟙": "use ones(N), or 1 in a product such as 1.T @ dY",
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
    """The number starting at ``pos`` (digits, optionally a decimal point and digits)."""
    match = _NUMBER_RE.match(text, pos)
    assert match is not None
    digits = match.group()
    follow = _NAME_RE.match(text, match.end())
    if follow:
        glued = text[pos : follow.end()]
        raise FormulaSyntaxError(
            f"unexpected {_clip(glued)!r} at column {pos + 1}: a number cannot be "
            f"followed by a name; write {digits}*{_clip(follow.group())}; "
            f"{names.allowed()}",
            pos + 1,
        )
    if Fraction(digits) > MAX_NUMBER:
        raise FormulaLimitError(
            f"number {_clip(digits)} at column {pos + 1} is too large; numbers are at "
            f"most {MAX_NUMBER:,} in magnitude"
        )
    return Token("number", digits, pos)


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the tree ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """A node of a parsed formula. ``span`` is its (start, end) in the source text."""

    span: tuple[int, int] = field(
        default=(0, 0), compare=False, repr=False, kw_only=True
    )


@dataclass(frozen=True)
class Name(Node):
    """A matrix by its role (X, W, b, Y, dY, T) and the spelling used (``A`` for X)."""

    role: str
    spelled: str = ""


@dataclass(frozen=True)
class Size(Node):
    """A size N, D or M (key "n", "d" or "m"): a whole number."""

    key: str
    spelled: str = ""


@dataclass(frozen=True)
class Number(Node):
    """A number, exact (``0.5`` is 1/2)."""

    value: Fraction


@dataclass(frozen=True)
class Ones(Node):
    """``ones(k)`` (k×1) or ``ones(r, c)``: a matrix of ones."""

    args: tuple[Node, ...]


@dataclass(frozen=True)
class Transpose(Node):
    """``arg.T``."""

    arg: Node


@dataclass(frozen=True)
class Neg(Node):
    """``-arg``."""

    arg: Node


@dataclass(frozen=True)
class SumAxis(Node):
    """``sum(arg, axis=0)`` (1×k), ``axis=1`` (k×1) or no axis (a scalar)."""

    arg: Node
    axis: int | None = None


@dataclass(frozen=True)
class BinOp(Node):
    """``left op right`` with ``op`` one of ``@ * + - /``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its source text and its tree."""

    text: str
    tree: Node

    def source(self, node: Node) -> str:
        """The source text of ``node`` (shortened past 40 characters)."""
        return _clip(self.text[node.span[0] : node.span[1]].strip())


# -- the parser ------------------------------------------------------------------------------
class _Parser:
    """Recursive descent over the tokens; one method per grammar rule."""

    def __init__(self, text: str, tokens: Iterator[Token], names: Names) -> None:
        self.text = text
        self.stream = tokens  # read lazily: the first error in reading order wins
        self.tokens: list[Token] = []
        self.names = names
        self.pos = 0
        self.depth = 0

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
                why = f"{token.text!r} only appears inside ones(...) and sum(...)"
            elif token.text == "(":
                why = "only ones(...) and sum(...) can be called"
            else:
                why = "an operator such as @, * or + is missing before it"
            raise self.unexpected(token, why)
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.at("+", "-"):
            op = self.advance().text
            right = self.term()
            node = BinOp(op, node, right, span=(node.span[0], right.span[1]))
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.at("@", "*", "/"):
            op = self.advance().text
            right = self.unary()
            node = BinOp(op, node, right, span=(node.span[0], right.span[1]))
        return node

    def unary(self) -> Node:
        if self.at("-", "+"):
            sign = self.advance()
            with self.nested(sign):
                arg = self.unary()
            span = (sign.start, arg.span[1])
            return Neg(arg, span=span) if sign.text == "-" else replace(arg, span=span)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.at("."):
            dot = self.advance()
            attr = self.peek()
            if attr.kind != "name" or attr.text not in ("T", "sum"):
                shown = "." + attr.text if attr.kind == "name" else "."
                raise FormulaSyntaxError(
                    f"unexpected {_clip(shown)!r} at column {dot.column}: only .T and "
                    f".sum(axis=0) may follow an operand; {self.names.allowed()}",
                    dot.column,
                )
            self.advance()
            if attr.text == "T":
                node = Transpose(node, span=(node.span[0], attr.end))
                continue
            opened = self.expect_call(attr)
            with self.nested(opened):
                axis = None if self.at(")") else self.axis()
                close = self.expect(")", opened)
            node = SumAxis(node, axis, span=(node.span[0], close.end))
        if self.at("("):
            raise self.unexpected(
                self.peek(), "only ones(...) and sum(...) can be called"
            )
        return node

    def expect_call(self, name: Token) -> Token:
        if not self.at("("):
            raise self.unexpected(
                self.peek(),
                f"{name.text} must be called, e.g. "
                f"{'E.sum(axis=0)' if name.text == 'sum' else 'ones(N)'}",
            )
        return self.advance()

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return Number(Fraction(token.text), span=(token.start, token.end))
        if token.kind == "name":
            known = token.text in self.names.matrices or token.text in self.names.sizes
            if not known and (
                keyword.iskeyword(token.text) or keyword.issoftkeyword(token.text)
            ):
                raise FormulaSyntaxError(
                    f"keyword {token.text!r} at column {token.column} is not allowed; "
                    f"{self.names.allowed()}",
                    token.column,
                )
            if self.at("(", ahead=1):
                return self.call()
            self.advance()
            return self.name(token)
        if self.at("("):
            opened = self.advance()
            with self.nested(opened):
                inner = self.expr()
                close = self.expect(")", opened)
            return replace(inner, span=(opened.start, close.end))
        if token.kind == "end":
            raise self.unexpected(token, "the formula stops before an operand")
        raise self.unexpected(token)

    def name(self, token: Token) -> Node:
        word = token.text
        span = (token.start, token.end)
        if word in self.names.matrices:
            return Name(self.names.matrices[word], word, span=span)
        if word in self.names.sizes:
            return Size(self.names.sizes[word], word, span=span)
        if word in ("ones", "sum"):
            call = "ones(N)" if word == "ones" else "sum(E, axis=0)"
            raise self.unexpected(token, f"{word} must be called, e.g. {call}")
        raise FormulaSyntaxError(
            f"unknown name {_clip(word)!r} at column {token.column}{self.suggest(word)}; "
            f"{self.names.allowed()}",
            token.column,
        )

    def suggest(self, word: str) -> str:
        for known in (*self.names.matrices, *self.names.sizes):
            if known.lower() == word.lower():
                return f" (did you mean {known!r}? names are case-sensitive)"
        if word in ("np", "numpy", "torch"):
            return " (write ones(N) and sum(E, axis=0) without a module prefix)"
        if word in ("transpose", "t"):
            return " (write X.T for a transpose)"
        if _ENTRY_RE.match(word):
            return " (single entries cannot be named; use the whole matrix, e.g. X)"
        return ""

    def call(self) -> Node:
        function = self.advance()
        opened = self.advance()  # "("
        if function.text not in ("ones", "sum"):
            hint = (
                " (write X.T for a transpose)"
                if function.text in ("T", "t", "transpose")
                else ""
            )
            raise FormulaSyntaxError(
                f"unexpected call {_clip(function.text + '(')!r} at column "
                f"{function.column}: only ones(...) and sum(...) can be called{hint}; "
                f"{self.names.allowed()}",
                function.column,
            )
        with self.nested(opened):
            node: Node
            if function.text == "ones":
                args = [self.argument(function)]
                if self.at(","):
                    self.advance()
                    args.append(self.argument(function))
                close = self.expect(")", opened)
                node = Ones(tuple(args), span=(function.start, close.end))
            else:
                arg = self.argument(function)
                axis = None
                if self.at(","):
                    self.advance()
                    axis = self.axis()
                close = self.expect(")", opened)
                node = SumAxis(arg, axis, span=(function.start, close.end))
        return node

    def argument(self, function: Token) -> Node:
        """A positional argument of ``ones`` or ``sum`` (keywords are refused here)."""
        if self.peek().kind == "name" and self.at("=", ahead=1):
            keyword_ = self.peek()
            raise self.unexpected(
                keyword_,
                f"{function.text}(...) takes no keyword {keyword_.text!r}; "
                "use ones(N), ones(N, 1), ones(1, N) or sum(E, axis=0)",
            )
        if self.at(")"):
            raise self.unexpected(
                self.peek(), f"{function.text}(...) needs an argument"
            )
        return self.expr()

    def axis(self) -> int:
        """``axis=0``, ``axis=1``, ``0`` or ``1``."""
        token = self.peek()
        if token.kind == "name" and self.at("=", ahead=1):
            if token.text != "axis":
                why = (
                    "not needed: sum(E, axis=0) is already a 1×k row"
                    if (token.text == "keepdims")
                    else "sum takes only axis=0 or axis=1"
                )
                raise self.unexpected(token, why)
            self.advance()
            self.advance()
            token = self.peek()
        if token.kind == "number" and token.text in ("0", "1"):
            self.advance()
            return int(token.text)
        raise self.unexpected(token, "the axis must be 0 or 1")


def parse(text: str, names: Names) -> Formula:
    """Parse a candidate formula.

    Args:
        text: the formula, e.g. ``"X.T @ dY"`` (at most :data:`MAX_LENGTH` characters).
        names: the names it may use (:meth:`Names.for_config`).

    Returns:
        The Formula (text and tree).

    Raises:
        FormulaSyntaxError: it does not parse, or uses a name or character not allowed;
            the message names the offending token and its column.
        FormulaLimitError: it is too long or nested too deeply, or a number is too large.

    >>> parse("X.T @ dY", Names.for_config(Config())).tree
    BinOp(op='@', left=Transpose(arg=Name(role='X', spelled='X')), \
right=Name(role='dY', spelled='dY'))
    """
    return Formula(text, _Parser(text, _tokens(text, names), names).formula())


# -- shapes and work, before any sympy -------------------------------------------------------
@dataclass(frozen=True)
class Dim:
    """One side of a shape: its size and how to name it (``N``, ``C_in``, ``1``)."""

    size: int
    label: str

    def describe(self) -> str:
        """``D=3``, or ``3`` when the label is the number itself."""
        return (
            str(self.size)
            if self.label == str(self.size)
            else f"{self.label}={self.size}"
        )


Shape = tuple[Dim, Dim]


def format_shape(shape: Shape) -> str:
    """``N×D (2×3)``, or ``2×3`` when both sides are plain numbers."""
    labels = f"{shape[0].label}×{shape[1].label}"
    sizes = f"{shape[0].size}×{shape[1].size}"
    return sizes if labels == sizes else f"{labels} ({sizes})"


@dataclass(frozen=True)
class Info:
    """What :func:`infer` knows about a (sub)formula before computing it.

    Attributes:
        shape: (rows, columns), or None for a scalar.
        value: a scalar's value when it is a constant (numbers and sizes), else None.
        terms: at most this many terms in each entry once expanded.
    """

    shape: Shape | None
    value: Fraction | None = None
    terms: int = 1


@dataclass(frozen=True)
class Env:
    """What a formula's names stand for: sizes, their labels, and the leaf matrices.

    Attributes:
        n, d, m: the sizes N, D, M.
        convention: gives each role's shape and the size labels (N, C_in, C_out, ...).
        leaf: role -> sympy ImmutableMatrix (X, W, b, Y, dY, T); called only by
            :func:`evaluate`, once per role used.
    """

    n: int
    d: int
    m: int
    convention: Convention
    leaf: Callable[[str], Any]

    @classmethod
    def from_config(
        cls, config: Config, leaf: Callable[[str], Any] | None = None
    ) -> Env:
        """The environment of ``config``; ``leaf`` defaults to :func:`symbol_matrices`."""
        return cls(
            config.n,
            config.d,
            config.m,
            config.conv,
            leaf if leaf is not None else symbol_matrices(config),
        )

    def size(self, key: str) -> int:
        """The size called ``key`` ("n", "d" or "m")."""
        return {"n": self.n, "d": self.d, "m": self.m}[key]

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


def symbol_matrices(config: Config) -> Callable[[str], Any]:
    """role -> sympy ImmutableMatrix of canonical symbols (x_i_j, ...), Y = the forward map.

    The engine's own matrices are used by :mod:`symderiv.check`; this builds the same
    names, for the targets T and for tests.
    """
    cache: dict[str, Any] = {}

    def leaf(role: str) -> Any:
        if role not in cache:
            import sympy as sp

            if role == "Y":
                x, w, b = leaf("X"), leaf("W"), leaf("b")
                conv = config.conv
                w = w.T if conv.weight_transposed else w
                b = b.T if conv.bias_column else b
                cache[role] = sp.ImmutableMatrix(x @ w + sp.ones(config.n, 1) @ b)
            else:
                rows, cols = config.shape(role)
                cache[role] = sp.ImmutableMatrix(
                    rows,
                    cols,
                    [
                        # b_j for a row or column bias alike: its one index is i + j + 1
                        sp.Symbol(
                            entry_name(role, i + j + 1)
                            if role == "b"
                            else entry_name(role, i + 1, j + 1)
                        )
                        for i in range(rows)
                        for j in range(cols)
                    ],
                )
        return cache[role]

    return leaf


def _ones_literal(node: Node) -> str | None:
    """ "col" for the literal 1, "row" for ``1.T``: a ones vector if a product allows."""
    if isinstance(node, Number) and node.value == 1:
        return "col"
    if isinstance(node, Transpose) and _ones_literal(node.arg) == "col":
        return "row"
    return None


def _ones_shape(node: Node, other: Shape | None, side: str) -> Shape | None:
    """The shape the literal 1 (or 1.T) takes as the ``side`` operand of ``@``.

    1 next to a matrix is 1_k with k read off the other operand: ``1.T @ B`` is (1, rows
    of B) and ``A @ 1`` is (columns of A, 1). ``1 @ B`` and ``A @ 1.T`` leave k open, so
    there 1 stays the number.
    """
    kind = _ones_literal(node)
    if kind is None or other is None:
        return None
    if side == "left" and kind == "row":
        return Dim(1, "1"), other[0]
    if side == "right" and kind == "col":
        return other[1], Dim(1, "1")
    return None


class _Shapes:
    """The shape pass: shapes, constant scalars and a bound on the work, per node."""

    def __init__(self, formula: Formula, env: Env) -> None:
        self.formula = formula
        self.env = env
        self.work = 0

    def src(self, node: Node) -> str:
        return self.formula.source(node)

    def charge(self, node: Node, info: Info) -> Info:
        if info.shape is not None:
            self.work += info.shape[0].size * info.shape[1].size * info.terms
        else:
            self.work += info.terms
        if self.work > MAX_WORK:
            raise FormulaLimitError(
                f"{self.src(node)!r} is too large to check at {self.env.sizes_text()}: "
                f"more than {MAX_WORK:,} polynomial terms; use smaller sizes, "
                "e.g. --n 2 --d 2 --m 3"
            )
        return info

    def info(self, node: Node) -> Info:
        return self.charge(node, self._info(node))

    def _info(self, node: Node) -> Info:
        match node:
            case Name(role=role):
                terms = self.env.d + 1 if role == "Y" else 1
                return Info(self.env.shape(role), terms=terms)
            case Size(key=key):
                return Info(None, Fraction(self.env.size(key)))
            case Number(value=value):
                return Info(None, value)
            case Ones(args=args):
                dims = [self.whole(arg, node) for arg in args]
                return Info((dims[0], dims[1] if len(dims) > 1 else Dim(1, "1")))
            case Transpose(arg=arg):
                inner = self.info(arg)
                if inner.shape is None:
                    return inner
                return replace(inner, shape=(inner.shape[1], inner.shape[0]))
            case Neg(arg=arg):
                inner = self.info(arg)
                negated = -inner.value if inner.value is not None else None
                return replace(inner, value=negated)
            case SumAxis(arg=arg, axis=axis):
                return self.sum_axis(node, self.info(arg), axis)
            case BinOp(op="@"):
                return self.matmul(node)
            case BinOp(op="/", left=left, right=right):
                return self.divide(node, self.info(left), self.info(right))
            case BinOp(op=op, left=left, right=right):
                return self.elementwise(node, op, self.info(left), self.info(right))
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def whole(self, arg: Node, call: Node) -> Dim:
        """An argument of ones(...): a whole number >= 1, with its label."""
        info = self.info(arg)
        value = info.value
        if value is None or value.denominator != 1 or value < 1:
            raise FormulaError(
                f"{self.src(call)!r}: ones(...) takes sizes, whole numbers >= 1 such as "
                f"N or 1, but {self.src(arg)!r} is not one; use ones(N), ones(N, 1) or "
                "ones(1, N)"
            )
        size = int(value)
        if size > MAX_WORK:
            raise FormulaLimitError(
                f"{self.src(call)!r} is too large: {size:,} entries (at most {MAX_WORK:,})"
            )
        label = arg.spelled if isinstance(arg, Size) else str(size)
        return Dim(size, label)

    def sum_axis(self, node: Node, inner: Info, axis: int | None) -> Info:
        if inner.shape is None:
            if axis is None:
                return inner
            raise FormulaShapeError(
                f"{self.src(node)}: cannot sum a scalar along axis {axis}",
                self.src(node),
            )
        rows, cols = inner.shape
        if axis == 0:  # (r, c) -> (1, c): each column's sum
            return Info((Dim(1, "1"), cols), terms=rows.size * inner.terms)
        if axis == 1:  # (r, c) -> (r, 1): each row's sum
            return Info((rows, Dim(1, "1")), terms=cols.size * inner.terms)
        return Info(None, terms=rows.size * cols.size * inner.terms)

    def operand(self, node: Node, other: Info | None, side: str) -> Info:
        shape = _ones_shape(node, other.shape if other else None, side)
        return Info(shape) if shape is not None else self.info(node)

    def matmul(self, node: BinOp) -> Info:
        src = self.src(node)
        left_is_one = _ones_literal(node.left) is not None
        right_is_one = _ones_literal(node.right) is not None
        if left_is_one and not right_is_one:
            b = self.info(node.right)
            a = self.operand(node.left, b, "left")
        else:
            a = self.info(node.left)
            b = (
                self.operand(node.right, a, "right")
                if not left_is_one
                else self.info(node.right)
            )
        for side, part in ((node.left, a), (node.right, b)):
            if part.shape is None:
                hint = (
                    " (the length of this 1 is not clear here: write ones(N) for a "
                    "column or ones(N).T for a row)"
                    if _ones_literal(side)
                    else "; use * to scale by a number"
                )
                raise FormulaShapeError(
                    f"{src}: @ multiplies two matrices, but {self.src(side)} is a "
                    f"scalar{hint}",
                    src,
                )
        assert a.shape is not None and b.shape is not None
        if a.shape[1].size != b.shape[0].size:
            raise FormulaShapeError(
                f"{src}: cannot multiply {format_shape(a.shape)} by "
                f"{format_shape(b.shape)}; {self.src(node.left)} has "
                f"{a.shape[1].describe()} columns but {self.src(node.right)} has "
                f"{b.shape[0].describe()} rows",
                src,
            )
        # (r, k) @ (k, c) -> (r, c); each entry sums k products.
        return Info((a.shape[0], b.shape[1]), terms=a.shape[1].size * a.terms * b.terms)

    def divide(self, node: BinOp, a: Info, b: Info) -> Info:
        if b.shape is not None or b.value is None:
            raise FormulaError(
                f"{self.src(node)!r}: / divides by a number or a size only (such as 2 or "
                f"N), and {self.src(node.right)!r} is not one"
            )
        if b.value == 0:
            raise FormulaError(f"{self.src(node)!r} divides by zero")
        value = a.value / b.value if a.value is not None else None
        return replace(a, value=value)

    def elementwise(self, node: BinOp, op: str, a: Info, b: Info) -> Info:
        terms = a.terms * b.terms if op == "*" else a.terms + b.terms
        if a.shape is None and b.shape is None:
            value = None
            if a.value is not None and b.value is not None:
                value = {
                    "*": a.value * b.value,
                    "+": a.value + b.value,
                    "-": a.value - b.value,
                }[op]
            return Info(None, value, terms)
        if op == "*" and (a.value is not None or b.value is not None):
            terms = max(a.terms, b.terms)  # scaling by a constant adds no terms
        if a.shape is None or b.shape is None:
            shape = a.shape or b.shape
            assert shape is not None
            return Info(shape, terms=terms)
        dims = []
        for left, right in zip(a.shape, b.shape, strict=True):
            if left.size == right.size:
                dims.append(left)
            elif left.size == 1 or right.size == 1:
                dims.append(right if left.size == 1 else left)
            else:
                verb = {"*": "multiply elementwise", "+": "add", "-": "subtract"}[op]
                joint = "and" if op != "-" else "from"
                first, second = (a, b) if op != "-" else (b, a)
                assert first.shape is not None and second.shape is not None
                raise FormulaShapeError(
                    f"{self.src(node)}: cannot {verb} {format_shape(first.shape)} {joint} "
                    f"{format_shape(second.shape)}; shapes must match, or one side must "
                    "be a 1×k row or k×1 column that numpy broadcasts",
                    self.src(node),
                )
        return Info((dims[0], dims[1]), terms=terms)


def infer(formula: Formula, env: Env) -> Info:
    """The shape of ``formula`` at ``env``'s sizes, checked without computing anything.

    Args:
        formula: a parsed formula.
        env: sizes, convention and labels.

    Returns:
        Info: the shape (None for a scalar), a constant value, and a term bound.

    Raises:
        FormulaShapeError: shapes inside the formula do not fit (a wrong answer).
        FormulaError: ones(...) of something that is not a size, / by a matrix or zero.
        FormulaLimitError: computing it would build more than :data:`MAX_WORK` terms.

    >>> env = Env.from_config(Config(n=2, d=3, m=4))
    >>> f = parse("X.T @ dY", Names.for_config(Config()))
    >>> format_shape(infer(f, env).shape)
    'D×M (3×4)'
    """
    return _Shapes(formula, env).info(formula.tree)


# -- evaluation --------------------------------------------------------------------------------
class _Evaluator:
    """Computes a formula whose shapes :func:`infer` has checked, over sympy matrices."""

    def __init__(self, env: Env) -> None:
        import sympy as sp

        self.sp = sp
        self.env = env

    def value(self, node: Node) -> Any:
        sp = self.sp
        match node:
            case Name(role=role):
                return self.env.leaf(role)
            case Size(key=key):
                return sp.Integer(self.env.size(key))
            case Number(value=value):
                return sp.Rational(value.numerator, value.denominator)
            case Ones(args=args):
                sizes = [int(self.value(arg)) for arg in args]
                return sp.ImmutableMatrix(
                    sp.ones(sizes[0], sizes[1] if len(sizes) > 1 else 1)
                )
            case Transpose(arg=arg):
                inner = self.value(arg)
                return inner.T if self.is_matrix(inner) else inner
            case Neg(arg=arg):
                return -self.value(arg)
            case SumAxis(arg=arg, axis=axis):
                return self.sum_axis(self.value(arg), axis)
            case BinOp(op="@", left=left, right=right):
                return self.matmul(left, right)
            case BinOp(op="/", left=left, right=right):
                return self.value(left) / self.value(right)
            case BinOp(op=op, left=left, right=right):
                return self.elementwise(op, self.value(left), self.value(right))
        raise AssertionError(f"unknown node {node!r}")  # pragma: no cover

    def is_matrix(self, value: Any) -> bool:
        return isinstance(value, self.sp.MatrixBase)

    def shape(self, value: Any) -> Shape:
        rows, cols = value.shape
        return Dim(rows, str(rows)), Dim(cols, str(cols))

    def ones_or_value(self, node: Node, other: Any, side: str) -> Any:
        other_shape = self.shape(other) if self.is_matrix(other) else None
        shape = _ones_shape(node, other_shape, side)
        if shape is None:
            return self.value(node)
        return self.sp.ImmutableMatrix(self.sp.ones(shape[0].size, shape[1].size))

    def matmul(self, left: Node, right: Node) -> Any:
        # (r, k) @ (k, c) -> (r, c); a literal 1 takes its length from the other side.
        if _ones_literal(left) is not None and _ones_literal(right) is None:
            b = self.value(right)
            a = self.ones_or_value(left, b, "left")
        else:
            a = self.value(left)
            b = (
                self.ones_or_value(right, a, "right")
                if _ones_literal(left) is None
                else self.value(right)
            )
        return self.sp.ImmutableMatrix(a @ b)

    def broadcast(self, value: Any, rows: int, cols: int) -> Any:
        if not self.is_matrix(value):
            return self.sp.ImmutableMatrix(rows, cols, [value] * (rows * cols))
        if value.shape == (rows, cols):
            return value
        return self.sp.ImmutableMatrix(
            rows,
            cols,
            [
                value[i if value.rows > 1 else 0, j if value.cols > 1 else 0]
                for i in range(rows)
                for j in range(cols)
            ],
        )

    def elementwise(self, op: str, a: Any, b: Any) -> Any:
        if not self.is_matrix(a) and not self.is_matrix(b):
            return {"*": a * b, "+": a + b, "-": a - b}[op]
        if op == "*" and not (self.is_matrix(a) and self.is_matrix(b)):
            return self.sp.ImmutableMatrix(a * b)  # scaling
        shapes = [v.shape for v in (a, b) if self.is_matrix(v)]
        rows = max(s[0] for s in shapes)
        cols = max(s[1] for s in shapes)
        a, b = self.broadcast(a, rows, cols), self.broadcast(b, rows, cols)
        if op == "*":
            return self.sp.ImmutableMatrix(a.multiply_elementwise(b))
        return self.sp.ImmutableMatrix(a + b if op == "+" else a - b)

    def sum_axis(self, value: Any, axis: int | None) -> Any:
        sp = self.sp
        if not self.is_matrix(value):
            return value
        rows, cols = value.shape
        if axis == 0:  # (r, c) -> (1, c)
            return sp.ImmutableMatrix(
                1,
                cols,
                [sp.Add(*(value[i, j] for i in range(rows))) for j in range(cols)],
            )
        if axis == 1:  # (r, c) -> (r, 1)
            return sp.ImmutableMatrix(
                rows,
                1,
                [sp.Add(*(value[i, j] for j in range(cols))) for i in range(rows)],
            )
        return sp.Add(*value)


def evaluate(formula: Formula, env: Env) -> Any:
    """The value of ``formula``: a sympy ImmutableMatrix, or a sympy scalar.

    Runs :func:`infer` first, so a shape that does not fit, or too much work, is reported
    before any sympy arithmetic.

    Args:
        formula: a parsed formula.
        env: sizes, convention and the leaf matrices.

    Returns:
        The exact value, entries in the canonical symbols.

    Raises:
        FormulaShapeError, FormulaError, FormulaLimitError: as :func:`infer`.

    >>> config = Config(n=1, d=2, m=1)
    >>> evaluate(parse("X.T @ dY", Names.for_config(config)), Env.from_config(config))
    Matrix([
    [dy_1_1*x_1_1],
    [dy_1_1*x_1_2]])
    """
    infer(formula, env)
    return _Evaluator(env).value(formula.tree)


__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NUMBER",
    "MAX_WORK",
    "BinOp",
    "Dim",
    "Env",
    "Formula",
    "FormulaLimitError",
    "FormulaShapeError",
    "FormulaSyntaxError",
    "Info",
    "Name",
    "Names",
    "Neg",
    "Node",
    "Number",
    "Ones",
    "Shape",
    "Size",
    "SumAxis",
    "Token",
    "Transpose",
    "evaluate",
    "format_shape",
    "infer",
    "parse",
    "symbol_matrices",
    "tokenize",
]
