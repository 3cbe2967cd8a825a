"""Code generation: a numpy ``Linear`` layer written from the derived closed forms.

:func:`generate_linear` walks the notation trees of :meth:`Convention.forward` and
:meth:`Convention.closed_form` and prints each node as a numpy expression, so the
generated ``backward`` is the closed form the derivation proves, for every convention,
without a hand-written template per convention. The same walk prints the formulas as
Unicode text (``dYᵀ·x``) for the module's docstring and for ``symderiv verify``.

Only pure-Python modules are imported here (no sympy, no numpy), so the CLI stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction

from . import __version__
from .conventions import Convention, Letters, choose, get_convention
from .notation import Eye, Kron, Node, Ones, Prod, Scalar, Sum, Sym, T

__all__ = ["TARGETS", "derivative_name", "formula_text", "generate_linear"]

#: Code generation targets (``--target``).
TARGETS: tuple[str, ...] = ("numpy",)

#: The notation trees take a concrete batch size N. Code works for every N, so the
#: trees are built with this stand-in, which no other size in a closed form uses.
_BATCH = 1_000_003

_ATOMS = (Sym, Ones, Eye)


# -- formulas as Unicode text ---------------------------------------------------------
def _is_negative_term(node: Node) -> bool:
    return (
        isinstance(node, Prod)
        and bool(node.args)
        and isinstance(node.args[0], Scalar)
        and node.args[0].value < 0
    )


def formula_text(node: Node, letters: Letters, n: int, batch: str = "N") -> str:
    """A formula as one line of text in the convention's letters, e.g. "dYᵀ·x".

    Args:
        node: a tree of Sym, T, Prod, Sum, Ones, Eye, Scalar and Kron nodes.
        letters: display letters of the roles (x in torch, A in column, ...).
        n: the batch size the tree was built with; Ones(n) prints as 1_N, Eye(n) as I_N.
        batch: the name of the batch size.

    Returns:
        One line of text, products with "·", transposes with "ᵀ".

    Raises:
        TypeError: a node this printer does not know.

    >>> from symderiv.conventions import TORCH
    >>> formula_text(TORCH.closed_form("W", 5), TORCH.letters, 5)
    'dYᵀ·x'
    >>> formula_text(TORCH.closed_form("b", 5), TORCH.letters, 5)
    '1_Nᵀ·dY'
    """

    def size(k: int) -> str:
        return batch if k == n else str(k)

    def walk(node: Node) -> str:
        if isinstance(node, Sym):
            return letters.of(node.role)
        if isinstance(node, Ones):
            return f"1_{size(node.size)}"
        if isinstance(node, Eye):
            return f"I_{size(node.size)}"
        if isinstance(node, Scalar):
            return str(node.value)
        if isinstance(node, T):
            inner = walk(node.arg)
            return f"{inner}ᵀ" if isinstance(node.arg, _ATOMS) else f"({inner})ᵀ"
        if isinstance(node, Prod):
            args = list(node.args)
            sign = ""
            if args and isinstance(args[0], Scalar) and args[0].value == -1:
                sign, args = "−", args[1:]
            parts = [
                f"({walk(a)})" if isinstance(a, (Sum, Kron)) else walk(a) for a in args
            ]
            return sign + "·".join(parts)
        if isinstance(node, Sum):
            out = walk(node.args[0]) if node.args else "0"
            for term in node.args[1:]:
                if isinstance(term, Prod) and _is_negative_term(term):
                    # a + (−c)·b prints as a − c·b
                    first, rest = term.args[0], term.args[1:]
                    assert isinstance(first, Scalar)
                    head = () if first.value == -1 else (Scalar(-first.value),)
                    out += f" − {walk(Prod(*head, *rest))}"
                else:
                    out += f" + {walk(term)}"
            return out
        if isinstance(node, Kron):
            left, right = node.left, node.right
            return f"{_wrap(walk(left), left)} ⊗ {_wrap(walk(right), right)}"
        raise TypeError(f"cannot print {type(node).__name__} as text")

    return walk(node)


def _wrap(text: str, node: Node) -> str:
    return f"({text})" if isinstance(node, (Sum, Prod)) else text


# -- formulas as numpy code -----------------------------------------------------------
def _numpy_expr(
    node: Node, names: Mapping[str, str], batch: Callable[[int], str]
) -> str:
    """A formula as a numpy expression; ``names`` maps roles to Python expressions."""

    def walk(node: Node) -> str:
        if isinstance(node, Sym):
            return names[node.role]
        if isinstance(node, Ones):
            return f"np.ones(({batch(node.size)}, 1))"  # 1_k is a column, (k, 1)
        if isinstance(node, Eye):
            return f"np.eye({batch(node.size)})"
        if isinstance(node, Scalar):
            v = Fraction(node.value)
            if v.denominator == 1:
                return f"({v.numerator})" if v < 0 else str(v.numerator)
            return f"({v.numerator} / {v.denominator})"
        if isinstance(node, T):
            inner = walk(node.arg)
            # a name or a call needs no parentheses: X.T, np.ones((N, 1)).T
            return f"{inner}.T" if isinstance(node.arg, _ATOMS) else f"({inner}).T"
        if isinstance(node, Prod):
            out = ""
            for i, a in enumerate(node.args):
                text = f"({walk(a)})" if isinstance(a, Sum) else walk(a)
                if i:
                    # a scalar scales (*), matrices multiply (@); equal precedence in
                    # Python, applied left to right as the product is written
                    pair = (node.args[i - 1], a)
                    scalar = any(isinstance(f, Scalar) for f in pair)
                    out += " * " if scalar else " @ "
                out += text
            return out
        if isinstance(node, Sum):
            return " + ".join(walk(a) for a in node.args)
        if isinstance(node, Kron):
            return f"np.kron({walk(node.left)}, {walk(node.right)})"
        raise TypeError(f"cannot print {type(node).__name__} as numpy code")

    return walk(node)


def _shape_text(node: Node, shapes: Mapping[str, tuple[str, str]], batch: str) -> str:
    """The shape of a product formula in size names, e.g. "(M, D)"."""

    def walk(node: Node) -> tuple[str, str]:
        if isinstance(node, Sym):
            return shapes[node.role]
        if isinstance(node, Ones):
            return (batch, "1")
        if isinstance(node, T):
            r, c = walk(node.arg)
            return (c, r)
        if isinstance(node, Prod):
            dims = [walk(a) for a in node.args if not isinstance(a, Scalar)]
            return (dims[0][0], dims[-1][1])
        if isinstance(node, Sum):
            return walk(node.args[0])
        raise TypeError(f"no shape for {type(node).__name__}")

    r, c = walk(node)
    return f"({r}, {c})"


def derivative_name(convention: Convention, var: str) -> str:
    """The attribute name of ∂L/∂var: dX, dW, db, or dLdA, dLdW, dLdb (column).

    >>> from symderiv.conventions import COLUMN, XW
    >>> derivative_name(XW, "X"), derivative_name(COLUMN, "X")
    ('dX', 'dLdA')
    """
    if convention.name == "column":
        return "dLd" + convention.letters.of(var)  # as in the course's Linear class
    return "d" + var


# -- the module -----------------------------------------------------------------------
_MODULE = '''\
"""A Linear layer, {forward}, generated by symderiv {version}.

Convention: {name}, as in {source}.
Regenerate with: symderiv codegen --convention {name} --target numpy

Sizes: N = batch, {d_name} = in_features, {m_name} = out_features.

Forward:
    {forward}
    {shape_line}

Backward, given {dY} = ∂L/∂{Y} of shape {Y_shape} (the closed forms symderiv derives):
{backward_doc}
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class Linear:
    """Affine layer {forward} ({name} convention).

    Attributes:
        W: weights, {W_shape_code}.
        b: bias, {b_shape_code}.
        {X}: the input saved by forward, (N, in_features).
        N: the batch size saved by forward.
{grad_attrs}
    """

    W: NDArray[np.float64]
    b: NDArray[np.float64]
    {X}: NDArray[np.float64]
    N: int
{grad_decls}

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: np.random.Generator | None = None,
    ) -> None:
        """W ~ Normal(0, 1/in_features) drawn from ``rng``; b = 0."""
        rng = np.random.default_rng() if rng is None else rng
        scale = 1.0 / np.sqrt(in_features)
        self.W = rng.normal(scale=scale, size={W_shape_code})
        self.b = np.zeros({b_shape_code})

    def forward(self, {X}: NDArray[np.float64]) -> NDArray[np.float64]:
        """{Y} = {forward_rhs}: (N, in_features) -> (N, out_features)."""
        self.{X} = {X}
        self.N = {X}.shape[0]
        {Y} = {forward_code}
        return {Y}

    def backward(self, {dY}: NDArray[np.float64]) -> NDArray[np.float64]:
        """Store {stored} from {dY} = ∂L/∂{Y} (N, out_features); return {dX}."""
{backward_code}
'''


def generate_linear(convention: str | Convention, target: str = "numpy") -> str:
    """Python source of a ``Linear`` class whose backward is the derived closed forms.

    The module is deterministic (same convention, same bytes), passes ``ruff check``
    and imports only numpy. Shapes follow :meth:`Convention.shape`: in torch, b is
    stored 1×M, as SPEC section 1 shows it.

    Args:
        convention: xw, torch or column (a name or a Convention).
        target: the array library; only "numpy" for now.

    Returns:
        The module's source text.

    Raises:
        ChoiceError: an unknown convention or target.

    >>> source = generate_linear("xw")
    >>> "self.dW = self.X.T @ dY" in source
    True
    """
    if isinstance(convention, Convention):
        conv = convention
    else:
        conv = get_convention(convention)
    choose(target, TARGETS, "code generation target (--target)")
    L = conv.letters
    _, d_name, m_name = conv.sizes
    code_dims = {d_name: "in_features", m_name: "out_features", "1": "1"}

    def shape_code(role: str) -> str:
        r, c = conv.shape_names(role)
        return f"({code_dims[r]}, {code_dims[c]})"

    def batch_code(k: int) -> str:
        if k != _BATCH:
            raise TypeError(f"a closed form uses a size {k} other than the batch size")
        return "self.N"

    shapes = {role: conv.shape_names(role) for role in ("X", "W", "b", "Y", "dY")}
    forward = conv.forward(_BATCH)
    forward_rhs = formula_text(forward, L, _BATCH)
    fwd_names = {"X": L.X, "W": "self.W", "b": "self.b"}
    bwd_names = {"X": f"self.{L.X}", "W": "self.W", "b": "self.b", "dY": L.dY}

    formulas, code_lines, grad_attrs, grad_decls, stored = [], [], [], [], []
    # dX first: it is what backward returns to the layer below.
    for var in ("X", "W", "b"):
        tree = conv.closed_form(var, _BATCH)
        name = derivative_name(conv, var)
        text = formula_text(tree, L, _BATCH)
        shape = _shape_text(tree, shapes, "N")
        formulas.append((f"{name} = {text}", shape))
        expr = _numpy_expr(tree, bwd_names, batch_code)
        target_name = name if var == "X" and conv.name != "column" else f"self.{name}"
        code_lines.append(f"        {target_name} = {expr}  # {text}, {shape}")
        if target_name.startswith("self."):
            what = f"∂L/∂{L.of(var)} after backward"
            grad_attrs.append(f"        {name}: {what}, {shape}.")
            grad_decls.append(f"    {name}: NDArray[np.float64]")
            stored.append(name)
    if conv.name == "column":
        # The names of the generic interface, as aliases of the course's names.
        code_lines += ["        self.dW = self.dLdW", "        self.db = self.dLdb"]
        grad_attrs.append("        dW, db: aliases of dLdW and dLdb.")
        grad_decls += ["    dW: NDArray[np.float64]", "    db: NDArray[np.float64]"]
    dX = derivative_name(conv, "X")
    code_lines.append(f"        return {'self.' + dX if conv.name == 'column' else dX}")

    return _MODULE.format(
        forward=f"{L.Y} = {forward_rhs}",
        forward_rhs=forward_rhs,
        version=__version__,
        name=conv.name,
        source=conv.source,
        shape_line=", ".join(
            f"{L.of(r)}: {_shape_text(Sym(r), shapes, 'N')}"
            for r in ("X", "W", "b", "Y")
        ),
        dY=L.dY,
        Y=L.Y,
        X=L.X,
        Y_shape=_shape_text(Sym("Y"), shapes, "N"),
        backward_doc="\n".join(
            f"    {eq.ljust(max(len(e) for e, _ in formulas))}    {shape}"
            for eq, shape in formulas
        ),
        d_name=d_name,
        m_name=m_name,
        W_shape_code=shape_code("W"),
        b_shape_code=shape_code("b"),
        grad_attrs="\n".join(grad_attrs),
        grad_decls="\n".join(grad_decls),
        forward_code=_numpy_expr(forward, fwd_names, batch_code),
        stored=", ".join(stored),
        dX=dX,
        backward_code="\n".join(code_lines),
    )
