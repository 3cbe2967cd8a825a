"""Conventions, choices and names: everything a derivation is parameterised by.

Four conventions are in use for the same affine layer (SPEC section 1, issue 15):

=========  =====================  =====  =====  ==========  =========  =========  ==========
name       forward                X      W      b           dX         dW         db
=========  =====================  =====  =====  ==========  =========  =========  ==========
xw         Y = X W + 1_N b        N×D    D×M    1×M         dY Wᵀ      Xᵀ dY      1_Nᵀ dY
torch      Y = X Wᵀ + 1_N b       N×D    M×D    1×M         dY W       dYᵀ X      1_Nᵀ dY
column     Z = A Wᵀ + 1_N bᵀ      N×C_in C_out× C_out×1     dLdZ W     dLdZᵀ A    dLdZᵀ 1_N
wx         Y = W X + b 1_Nᵀ       D×N    M×D    M×1         Wᵀ dY      dY Xᵀ      dY 1_N
=========  =====================  =====  =====  ==========  =========  =========  ==========

In wx the samples are the columns (deeplearning.ai's Z = W·A + b), so Y and dY are M×N.

No other module decides these. This module is pure data (no sympy) so the CLI loads fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Any, ClassVar, TypeVar

from .errors import ChoiceError, DisplayNameError, ShapeError, clip
from .notation import (
    SIZES,
    Comm,
    Eye,
    Kron,
    Node,
    Ones,
    Prod,
    Recip,
    Scalar,
    Shape,
    Sum,
    Sym,
    T,
)

VEC_ORDERS: tuple[str, ...] = ("row", "col")
LAYOUTS: tuple[str, ...] = ("denominator", "numerator")
LOSSES: tuple[str, ...] = ("generic", "mse", "sum", "softmax-ce")
METHODS: tuple[str, ...] = ("jacobian", "index", "tensor", "all")
VARIABLES: tuple[str, ...] = ("X", "W", "b")
#: Roles whose display letters ``--names`` may change.
NAMEABLE: tuple[str, ...] = ("X", "W", "b", "Y", "dY", "T")
#: The ``--names`` key of the Kronecker delta (``delta=Id``, as seed 001 writes Id_kj).
DELTA = "delta"
#: Everything ``--names`` may rename.
RENAMEABLE: tuple[str, ...] = (*NAMEABLE, *SIZES, DELTA)
#: ``--index-base``: indices from 1 (x_1,1) or from 0 (seed 001 sums i = 0 … N−1).
INDEX_BASES: tuple[int, ...] = (1, 0)
#: ``--upstream``: ∂L/∂y_ij written as a fraction, or as the adjoint ȳ_ij.
UPSTREAM_STYLES: tuple[str, ...] = ("partial", "bar")
#: Prefix of the canonical entry names: x_1_2, w_2_3, b_3, dy_1_1, t_1_1, p_1_1 (and y_1_1).
PREFIX: Mapping[str, str] = {
    "X": "x",
    "W": "w",
    "b": "b",
    "Y": "y",
    "dY": "dy",
    "T": "t",
    "P": "p",  # softmax outputs (--loss softmax-ce)
}

#: A display name: a letter, then letters or digits (ASCII only, as are the classes).
_LETTERS_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
#: A display name in ``symderiv check`` only: a Python identifier, letters and digits
#: after a letter with single underscores between them (A_prev, dA_prev); never LaTeX.
_IDENTIFIER_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*\Z")
#: A size name: letters or digits after a letter, optionally one subscript (C_in, d_out).
_SIZE_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?\Z")
#: The largest size accepted at all; below it :func:`symderiv.derive.guard` refuses, with
#: an estimate, what would take too long (10**9 is refused there, even with ``force``).
MAX_SIZE = 10**9
_MAX_NAME = 12
_V = TypeVar("_V")


@dataclass(frozen=True)
class Letters:
    """Display letters of each role and size, e.g. A/W/b/Z/dLdZ and C_in/C_out (column)."""

    X: str = "X"
    W: str = "W"
    b: str = "b"
    Y: str = "Y"
    dY: str = "dY"
    T: str = "T"
    N: str = "N"
    D: str = "D"
    M: str = "M"
    #: The notation profile (``Config``): every printer reads it here, through the
    #: display names of :mod:`symderiv.render.names` and the formula printers.
    #: Indices shown from 1 or from 0 (the canonical names stay 1-based).
    index_base: int = 1
    #: ∂L/∂y_ij as "partial" (a fraction) or "bar" (ȳ_ij); None: each format's habit.
    upstream: str | None = None
    #: Matrices in bold (LaTeX, Markdown).
    bold: bool = False
    #: The Kronecker delta's name (None: δ; "Id" as in seed 001).
    delta: str | None = None

    @property
    def sizes(self) -> dict[str, str]:
        """Display names of the sizes N, D, M: {"N": "N", "D": "C_in", "M": "C_out"}."""
        return {s: self.of(s) for s in SIZES}

    def of(self, role: str) -> str:
        """The display letters of ``role`` ("L" and unknown roles print as themselves)."""
        value = getattr(self, role, None)
        return value if isinstance(value, str) else role

    def entry(self, role: str) -> str:
        """The lower-case letters used for the entries of ``role`` (x for X, a for A)."""
        if role == "dY":
            return self.entry("Y")
        return self.of(role).lower()


@dataclass(frozen=True)
class Convention:
    """How the layer is written: Y = X W + 1 b (xw), Y = X Wᵀ + 1 b (torch), ...

    Attributes:
        name: the ``--convention`` key.
        weight_transposed: W is stored (M, D) (and used as Wᵀ when samples are rows).
        bias_column: b is stored (M, 1) (and broadcast as 1_N bᵀ when samples are rows).
        letters: display letters of X, W, b, Y, dY, T and the sizes N, D, M.
        source: where the convention comes from, for the reader.
        samples_as_columns: X is D×N and Y = W X + b 1_Nᵀ is M×N (wx).
        bias_vector: b is held as numpy holds it, 1-D of length M (torch: nn.Linear's
            bias); the maths still shows it as the 1×M row.
    """

    name: str
    weight_transposed: bool
    bias_column: bool
    letters: Letters
    source: str
    samples_as_columns: bool = False
    bias_vector: bool = False

    # -- shapes ------------------------------------------------------------------------
    @property
    def sizes(self) -> tuple[str, str, str]:
        """Display names of the sizes N, D, M, e.g. ("N", "C_in", "C_out")."""
        return (self.letters.N, self.letters.D, self.letters.M)

    @property
    def shapes(self) -> dict[str, Shape]:
        """The shape of every role in size names: the one table of shapes."""
        w = Shape(("M",), ("D",)) if self.weight_transposed else Shape(("D",), ("M",))
        b = Shape(("M",), ()) if self.bias_column else Shape((), ("M",))
        x, y = Shape(("N",), ("D",)), Shape(("N",), ("M",))
        if self.samples_as_columns:
            x, y = x.T, y.T
        return {"X": x, "W": w, "b": b, "Y": y, "dY": y, "T": y, "P": y}

    def shape(self, role: str, n: Any, d: Any, m: Any) -> tuple[Any, Any]:
        """Shape of ``role`` for sizes N=n, D=d, M=m (b is 1×M or M×1)."""
        if role not in self.shapes:
            raise ChoiceError(f"unknown role {role!r}; roles are {', '.join(NAMEABLE)}")
        return self.shapes[role].numbers({"N": n, "D": d, "M": m})

    def shape_names(self, role: str) -> tuple[str, str]:
        """Shape of ``role`` in size names, e.g. ("N", "C_in")."""
        return self.shapes[role].names(self.letters.sizes)

    # -- formulas ----------------------------------------------------------------------
    def forward(self) -> Node:
        """The forward map: X W + 1_N b, X Wᵀ + 1_N b, X Wᵀ + 1_N bᵀ or W X + b 1_Nᵀ."""
        if self.samples_as_columns:
            return Sum(Prod(Sym("W"), Sym("X")), Prod(Sym("b"), T(Ones("N"))))
        w: Node = T(Sym("W")) if self.weight_transposed else Sym("W")
        b: Node = T(Sym("b")) if self.bias_column else Sym("b")
        return Sum(Prod(Sym("X"), w), Prod(Ones("N"), b))

    def closed_form(self, var: str) -> Node:
        """The closed form of ∂L/∂var in denominator layout (var's own shape)."""
        dY, X, W, ones = Sym("dY"), Sym("X"), Sym("W"), Ones("N")
        if self.samples_as_columns:
            forms = {
                "X": Prod(T(W), dY),  # (D, M)·(M, N)
                "W": Prod(dY, T(X)),  # (M, N)·(N, D)
                "b": Prod(dY, ones),  # (M, N)·(N, 1): the row sums
            }
        else:
            forms = {
                "X": Prod(dY, W if self.weight_transposed else T(W)),
                "W": Prod(T(dY), X) if self.weight_transposed else Prod(T(X), dY),
                "b": Prod(T(dY), ones) if self.bias_column else Prod(T(ones), dY),
            }
        return _of_variable(forms, var)

    def kronecker(self, var: str, order: str) -> Node:
        """The Kronecker closed form of ∂vec(Y)/∂vec(var) for vectorization ``order``.

        Shapes: (N·M, N·D) for X, (N·M, D·M) for W, (N·M, M) for b.

        With samples as columns (Y = W X + b 1_Nᵀ), column order is the textbook
        vec(A B C) = (Cᵀ ⊗ A) vec(B): vec(W X) = (I_N ⊗ W) vec(X) = (Xᵀ ⊗ I_M) vec(W),
        vec(b 1_Nᵀ) = (1_N ⊗ I_M) vec(b). Row order stacks the rows, which is column
        order of the transpose, Yᵀ = Xᵀ Wᵀ + 1_N bᵀ: W ⊗ I_N, I_M ⊗ Xᵀ, I_M ⊗ 1_N.
        """
        W, X, I_N, I_M, ones = Sym("W"), Sym("X"), Eye("N"), Eye("M"), Ones("N")
        if self.samples_as_columns:
            factors = {"X": (W, I_N), "W": (I_M, T(X)), "b": (I_M, ones)}
        else:
            w: Node = W if self.weight_transposed else T(W)
            factors = {"X": (I_N, w), "W": (X, I_M), "b": (ones, I_M)}
        first, second = _of_variable(factors, var)
        # column order: the factors of row order, swapped
        form = Kron(first, second) if order == "row" else Kron(second, first)
        if var == "W" and self.weight_transposed and not self.samples_as_columns:
            return Prod(form, Comm("M", "D"))  # K for the stored W, M×D
        return form


def _of_variable(forms: Mapping[str, _V], var: str) -> _V:
    """``forms[var]``, or a ChoiceError for a name that is not X, W or b."""
    if var not in forms:
        raise ChoiceError(f"unknown variable {var!r}; choose from X, W, b")
    return forms[var]


XW = Convention(
    "xw",
    False,
    False,
    Letters(),
    "CS231n-style notes and affine-layer write-ups",
)
TORCH = Convention(
    "torch",
    True,
    False,
    Letters(X="x", Y="y", T="t"),
    "PyTorch nn.Linear, y = x Wᵀ + b",
    bias_vector=True,
)
COLUMN = Convention(
    "column",
    True,
    True,
    Letters(X="A", Y="Z", dY="dLdZ", D="C_in", M="C_out"),
    "the 'mytorch' Linear class, Z = A Wᵀ + 1 bᵀ",
)
WX = Convention(
    "wx",
    True,
    True,
    Letters(),
    "deeplearning.ai (samples as columns), Z = W A + b",
    samples_as_columns=True,
)
CONVENTIONS: Mapping[str, Convention] = {c.name: c for c in (XW, TORCH, COLUMN, WX)}


def get_convention(name: str) -> Convention:
    """The convention called ``name``.

    Raises:
        ChoiceError: ``name`` is not xw, torch, column or wx.
    """
    return CONVENTIONS[choose(name, CONVENTIONS, "convention")]


def choose(value: str, allowed: Iterable[str], what: str) -> str:
    """``value`` if it is one of ``allowed``, else a ChoiceError naming both."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ChoiceError(f"unknown {what} {value!r}; choose from {', '.join(allowed)}")
    return value


def comma_list(text: str | Iterable[str]) -> list[str]:
    """The items of ``"a, b,c"`` stripped (``["a", "b", "c"]``), or of a given sequence."""
    return [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)


def parse_wrt(text: str | Iterable[str]) -> tuple[str, ...]:
    """Variables from ``"X,W,b"`` (any subset, in the canonical order X, W, b).

    >>> parse_wrt("b,W")
    ('W', 'b')

    Raises:
        ChoiceError: empty, unknown or repeated variables.
    """
    items = comma_list(text)
    if not items or any(not s for s in items):
        raise ChoiceError(
            f"--wrt {text!r} is empty or has an empty item; use e.g. X,W,b"
        )
    for s in items:
        if s not in VARIABLES:
            raise ChoiceError(f"--wrt: unknown variable {s!r}; choose from X, W, b")
    if len(set(items)) != len(items):
        raise ChoiceError(f"--wrt {','.join(items)!r} names a variable twice")
    return tuple(v for v in VARIABLES if v in items)


def parse_names(
    text: str | Mapping[str, str] | None, identifiers: bool = False
) -> dict[str, str]:
    """Display-letter overrides from ``"X=A,Y=Z,dY=dLdZ"``.

    Each value is a letter followed by letters or digits (at most 12 characters): nothing
    else ever reaches LaTeX. With ``identifiers`` (``symderiv check``, whose names only
    ever reach its messages) a role's name may have underscores, as Python names do:
    ``X=A_prev,dY=dZ``.

    >>> parse_names("X=A,dY=dLdZ")
    {'X': 'A', 'dY': 'dLdZ'}

    Raises:
        DisplayNameError: a malformed pair, an unknown role, or letters that are not allowed.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        pairs = list(text.items())
    else:
        if not text.strip():
            raise DisplayNameError(
                f"--names {text!r} is empty; use role=letters pairs, e.g. X=A,Y=Z"
            )
        pairs = []
        for item in text.split(","):
            role, sep, letters = item.partition("=")
            if not sep:
                raise DisplayNameError(
                    f"--names: {item!r} is not a role=letters pair, e.g. X=A"
                )
            pairs.append((role.strip(), letters.strip()))
    names: dict[str, str] = {}
    for role, letters in pairs:
        if role not in RENAMEABLE:
            raise DisplayNameError(
                f"--names: unknown role {role!r}; roles are {', '.join(NAMEABLE)}, "
                f"sizes {', '.join(SIZES)} and {DELTA}"
            )
        if role in names:
            raise DisplayNameError(f"--names: role {role!r} is given twice")
        pattern = _SIZE_NAME_RE if role in SIZES else _LETTERS_RE
        if identifiers and role in NAMEABLE:
            pattern = _IDENTIFIER_RE
        if not pattern.match(letters) or len(letters) > _MAX_NAME:
            odd = next((c for c in letters if not c.isascii()), None)
            why = f" ({odd!r} is U+{ord(odd):04X}, not ASCII)" if odd else ""
            sub = ", optionally one _subscript" if role in SIZES else ""
            if pattern is _IDENTIFIER_RE:
                sub = ", single underscores between them"
            # the value as typed: repr would double the backslash of \alpha; it is kept
            # for what would not print (a tab, a no-break space)
            shown = f"'{letters}'" if letters.isprintable() else repr(letters)
            raise DisplayNameError(
                f"--names: {role}={shown} is not allowed{why}; use a letter followed "
                f"by letters or digits{sub} (at most {_MAX_NAME}, ASCII only)"
            )
        names[role] = letters
    return names


#: Letters the formulas print on their own: the loss L, identities I_N, commutation K.
RESERVED_LETTERS: tuple[str, ...] = ("L", "I", "K")


def _check_letters(letters: Letters, names: Mapping[str, str]) -> None:
    """Refuse display letters that would make two things print alike.

    Matrices must differ (X vs W), and so must their entries, which print in lower case
    (``--names X=w`` would show x_{1,1} and w_{1,1} both as w₁,₁); size names must differ
    from each other, from every matrix and its entries (``--names D=W``, ``X=N``), and
    the delta's name from all of them.

    Raises:
        DisplayNameError: naming the ``--names`` pair at fault.
    """
    given = ",".join(f"{role}={value}" for role, value in names.items())
    for role in NAMEABLE:
        shown = letters.of(role)
        if shown in SIZES:
            which = f"a size ({', '.join(SIZES)} are the sizes)"
        elif shown in RESERVED_LETTERS:
            which = (
                f"reserved ({', '.join(RESERVED_LETTERS)} are the loss, identity and "
                "commutation matrices)"
            )
        else:
            continue
        raise DisplayNameError(
            f"--names {given!r}: {role} would print as {shown!r}, which is {which}; "
            "choose other letters"
        )
    # what each printed name stands for: "the matrix X", "the entries of W", ...
    matrices: dict[str, str] = {}
    for role in NAMEABLE:
        key = letters.of(role)
        if key in matrices:
            raise DisplayNameError(
                f"--names {given!r}: two roles would print as {key!r} ({matrices[key]} "
                f"and {role}); every role needs its own letters"
            )
        matrices[key] = role
    entries: dict[str, str] = {}
    for role in ("X", "W", "b", "Y", "T"):  # dY's entries are written ∂L/∂y_ij
        key = letters.entry(role)
        if key in entries:
            raise DisplayNameError(
                f"--names {given!r}: the entries of {entries[key]} and {role} would "
                f"both print as {key}_ij; choose letters that differ in lower case"
            )
        entries[key] = role
    # Sizes and the delta print beside the matrices: 1_N, i = 1 … N, ℝ^{N×D}, δ_jk.
    # What each printed name is taken by (a reserved letter over a matrix over entries).
    taken = {key: f"the entries of {role}" for key, role in entries.items()}
    taken |= {key: f"the matrix {role}" for key, role in matrices.items()}
    reserved = f"({', '.join(RESERVED_LETTERS)} are taken)"
    taken |= {key: f"the reserved letter {key} {reserved}" for key in RESERVED_LETTERS}
    extra = [(f"the size {s}", letters.of(s)) for s in SIZES]
    if letters.delta is not None:
        extra.append(("the delta", letters.delta))
    for what, shown in extra:
        if shown in taken:
            raise DisplayNameError(
                f"--names {given!r}: {what} would print as {shown!r}, like "
                f"{taken[shown]}; choose another name"
            )
        taken[shown] = what


def check_size(name: str, value: object) -> int:
    """``value`` as a size from 1 to :data:`MAX_SIZE`.

    Raises:
        ShapeError: not an integer, below 1 or above MAX_SIZE.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"--{name} must be a whole number >= 1, got {value!r}")
    if 1 <= value <= MAX_SIZE:
        return value
    # str() of a huge int is slow, or refused past 4300 digits: describe it instead.
    shown = (
        str(value)
        if abs(value) < 10**40
        else f"a number of about {int(value.bit_length() * 0.30103)} digits"
    )
    if value < 1:
        raise ShapeError(f"--{name} must be >= 1, got {shown}")
    raise ShapeError(f"--{name} must be from 1 to {MAX_SIZE}, got {shown}")


@dataclass(frozen=True)
class Config:
    """Everything a derivation depends on; validated on construction.

    Attributes:
        n, d, m: sizes N (batch), D (inputs), M (outputs), each >= 1.
        convention: xw, torch, column or wx.
        vec: vectorization order, "row" (reshape(-1)) or "col" (textbook vec).
        layout: "denominator" (derivative in the variable's shape) or "numerator" (transposed).
        loss: "generic" (symbolic upstream), "mse", "sum" or "softmax-ce" (row-wise
            softmax of Y, cross-entropy against one-hot rows of T, batch average).
        method: jacobian, index, tensor or all.
        wrt: the variables to differentiate by, a subset of X, W, b.
        names: display-name overrides: role -> letters, size (N, D, M) -> name, and
            "delta" -> the delta's name.
        index_base: 1 (x_1,1 … x_N,D) or 0 (x_0,0 … x_N−1,D−1), for display only: the
            canonical entry names stay 1-based.
        upstream: how ∂L/∂y_ij is written, "partial" (a fraction) or "bar" (ȳ_ij);
            None: each format's habit (ȳ inside the article's large matrices).
        bold: matrices and vectors in bold (LaTeX and Markdown).
        values: a seed for the numeric companion (small integers beside the symbols),
            or None.
    """

    n: int = 2
    d: int = 2
    m: int = 3
    convention: str = "xw"
    vec: str = "row"
    layout: str = "denominator"
    loss: str = "generic"
    method: str = "jacobian"
    wrt: tuple[str, ...] = VARIABLES
    names: Mapping[str, str] = field(default_factory=dict)
    index_base: int = 1
    upstream: str | None = None
    bold: bool = False
    values: int | None = None
    #: Whether a role's display name may have underscores (:func:`parse_names`): only
    #: ``symderiv check``'s Config (:class:`symderiv.check.CheckConfig`), never a printer's.
    identifiers: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for name in ("n", "d", "m"):
            check_size(name, getattr(self, name))
        get_convention(self.convention)
        choose(self.vec, VEC_ORDERS, "vectorization order (--vec)")
        choose(self.layout, LAYOUTS, "layout")
        choose(self.loss, LOSSES, "loss")
        choose(self.method, METHODS, "method")
        check_loss(self.conv, self.loss)
        object.__setattr__(self, "wrt", parse_wrt(self.wrt))
        names = parse_names(self.names, self.identifiers)
        object.__setattr__(self, "names", dict(sorted(names.items())))
        _check_letters(self.letters, self.names)
        if isinstance(self.index_base, bool) or self.index_base not in INDEX_BASES:
            raise ChoiceError(f"--index-base must be 1 or 0, got {self.index_base!r}")
        if self.upstream is not None:
            choose(self.upstream, UPSTREAM_STYLES, "upstream style (--upstream)")
        if not isinstance(self.bold, bool):
            raise ChoiceError(f"bold must be True or False, got {self.bold!r}")
        if self.values is not None:
            object.__setattr__(self, "values", check_values_seed(self.values))
            check_values_loss(self.loss)

    @property
    def conv(self) -> Convention:
        """The Convention object."""
        return CONVENTIONS[self.convention]

    @property
    def letters(self) -> Letters:
        """Display letters: the convention's, with ``names`` applied."""
        # roles and sizes (--names D=C_in), and the rest of the notation profile
        shown = {k: v for k, v in self.names.items() if k in NAMEABLE + SIZES}
        return replace(
            self.conv.letters,
            **shown,
            index_base=self.index_base,
            upstream=self.upstream,
            bold=self.bold,
            delta=self.names.get(DELTA),
        )

    @property
    def size_names(self) -> tuple[str, str, str]:
        """Display names of N, D, M: the convention's (C_in, C_out), or ``--names``."""
        letters = self.letters
        return (letters.N, letters.D, letters.M)

    @property
    def delta(self) -> str | None:
        """The delta's display name from ``--names delta=Id``, or None for δ."""
        return self.names.get(DELTA)

    @property
    def sizes(self) -> dict[str, int]:
        """The sizes by name, for evaluating formulas: {"N": n, "D": d, "M": m}."""
        return {"N": self.n, "D": self.d, "M": self.m}

    def shape(self, role: str) -> tuple[int, int]:
        """Shape of ``role`` at these sizes."""
        return self.conv.shape(role, self.n, self.d, self.m)

    def to_dict(self) -> dict[str, object]:
        """The ``config`` object of the JSON output (SPEC section 6)."""
        defaults = Config()
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            # names and the notation profile only where they differ from the defaults
            if f.name in _OPTIONAL and value == getattr(defaults, f.name):
                continue
            if isinstance(value, (tuple, Mapping)):  # wrt and names, as JSON has them
                value = list(value) if isinstance(value, tuple) else dict(value)
            out[f.name] = value
        return out

    def __hash__(self) -> int:
        # names (a dict, sorted by __post_init__) hashes as its items
        values = (getattr(self, f.name) for f in fields(self))
        return hash(
            tuple(tuple(v.items()) if isinstance(v, Mapping) else v for v in values)
        )


#: Config fields that ``to_dict`` leaves out while they keep their defaults.
_OPTIONAL = ("names", "index_base", "upstream", "bold", "values")


def check_values_seed(seed: object) -> int:
    """A ``--values`` seed: a whole number >= 0 (the text "7" is accepted).

    Raises:
        ChoiceError: anything else ("1.5", "x", -1, True).
    """
    if isinstance(seed, str):
        text = seed.strip()
        if text.isascii() and text.isdigit() and len(text) <= 30:
            return int(text)
    elif isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 10**30:
        return seed
    raise ChoiceError(
        f"--values must be a whole number >= 0 (a seed for the numbers), got "
        f"{clip(repr(seed))}"
    )


def check_values_loss(loss: str) -> None:
    """Refuse ``--values`` where the numbers cannot be exact: the softmax cross-entropy.

    The companion promises numbers a student can check by hand, exactly; the softmax's
    probabilities exp(y_ij)/Σ_k exp(y_ik) are irrational for every integer Y. Every step
    after dY is the same for each loss, so the message points to the exact ones.

    Raises:
        ChoiceError: ``loss`` is softmax-ce.
    """
    if loss == "softmax-ce":
        raise ChoiceError(
            "--values cannot follow --loss softmax-ce: its probabilities "
            "exp(y_ij)/Σ_k exp(y_ik) are not exact numbers to check by hand; the steps "
            "after dY are the same for every loss, so try --loss generic, sum or mse"
        )


def derivative_name(convention: Convention, var: str) -> str:
    """The attribute name of ∂L/∂var: dX, dW, db, or dLdA, dLdW, dLdb (column).

    >>> from symderiv.conventions import COLUMN, XW
    >>> derivative_name(XW, "X"), derivative_name(COLUMN, "X")
    ('dX', 'dLdA')
    """
    if convention.name == "column":
        return "dLd" + convention.letters.of(var)  # as in the course's Linear class
    return "d" + var


def check_loss(conv: Convention, loss: str) -> None:
    """Refuse a loss the convention cannot take: softmax-ce with samples as columns.

    The softmax runs along each sample, a row of Y; in wx a sample is a column, and the
    loss's formulas, notes and numeric checks are written for rows only.

    Raises:
        ChoiceError: softmax-ce in a samples-as-columns convention.
    """
    if loss == "softmax-ce" and conv.samples_as_columns:
        raise ChoiceError(
            f"--loss softmax-ce needs samples as rows; convention {conv.name} has samples "
            "as columns (use xw, torch or column)"
        )


def _residual_over_n(role: str) -> Node:
    """(role − T)/N, written 1/N·(role + (−1)·T)."""
    return Prod(Recip("N"), Sum(Sym(role), Prod(Scalar(Fraction(-1)), Sym("T"))))


def softmax_ce_upstream() -> Node:
    """dY = (P − T)/N for L = −(1/N) Σ_ij t_ij log p_ij, P the row-wise softmax of Y."""
    return _residual_over_n("P")


def mse_upstream() -> Node:
    """dY = (Y − T)/N as a formula."""
    return _residual_over_n("Y")


# -- canonical and display names of entries --------------------------------------------
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def entry_name(role: str, *index: int) -> str:
    """Canonical machine name of an entry, 1-based: ``entry_name("W", 1, 10) == "w_1_10"``."""
    return "_".join((PREFIX[role], *map(str, index)))


def split_entry(name: str) -> tuple[str, tuple[int, ...]]:
    """Inverse of :func:`entry_name`: ``"w_1_10"`` -> ("W", (1, 10))."""
    prefix, *rest = name.split("_")
    for role, p in PREFIX.items():
        if p == prefix:
            return role, tuple(int(r) for r in rest)
    raise ValueError(f"not a canonical entry name: {name!r}")


def unicode_subscript(index: tuple[int, ...]) -> str:
    """(1, 12) -> "₁,₁₂" (commas keep x₁,₁₂ apart from x₁₁,₂)."""
    return ",".join(str(i).translate(_SUB) for i in index)


def command_line(config: Config) -> str:
    """The ``symderiv derive`` command that reproduces this derivation (defaults left out).

    >>> command_line(Config(n=2, d=2, m=3, convention="torch", index_base=0))
    'symderiv derive --n 2 --d 2 --m 3 --convention torch --index-base 0'
    """
    parts = [f"symderiv derive --n {config.n} --d {config.d} --m {config.m}"]
    defaults = Config()
    for f in fields(Config)[3:]:  # after n, d, m
        value = getattr(config, f.name)
        if value == getattr(defaults, f.name):
            continue
        if f.name == "wrt":
            value = ",".join(value)
        elif f.name == "names":
            value = ",".join(f"{k}={v}" for k, v in value.items())
        flag = "--" + f.name.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)
