"""Network formulas and entry names as Unicode text and as LaTeX (no sympy).

Matrices print as their role (W1, dZ2, ...; W_{1}, \\mathrm{d}Z_{2} in LaTeX); entries of
layer ℓ carry it as a superscript in parentheses: w1_2_3 is w⁽¹⁾₂,₃ or w^{(1)}_{2,3}, and
the upstream symbol dz2_1_1 is dz⁽²⁾₁,₁. ip_i_j (1/p_i_j) prints as p_i_j⁻¹.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from ..notation import (
    Comm,
    Deriv,
    Explicit,
    Eye,
    Grad,
    Jac,
    Kron,
    Node,
    Ones,
    Prod,
    Recip,
    Scalar,
    Sum,
    Sym,
    T,
    Text,
    Vec,
)
from .notation import Diag, Had, Slope

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻")
_ROLE = re.compile(r"(d?)([A-Za-z]+?)(\d*)\Z")
_ATOM = re.compile(r"(ip|dz|da|dy|[a-z])(\d*)_(\d+)(?:_(\d+))?\Z")


# -- names ------------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def entry_text(atom: str) -> str:
    """w1_2_3 -> "w⁽¹⁾₂,₃"; dz2_1_1 -> "dz⁽²⁾₁,₁"; ip_1_2 -> "p₁,₂⁻¹"; x_1_1 -> "x₁,₁"."""
    m = _ATOM.match(atom)
    if not m:
        return atom
    prefix, layer, i, j = m.groups()
    index = ",".join(s.translate(_SUB) for s in (i, j) if s)
    if prefix == "ip":
        return f"p{index}⁻¹"
    sup = f"({layer})".translate(_SUP) if layer else ""
    return f"{prefix}{sup}{index}"


@lru_cache(maxsize=65536)
def entry_latex(atom: str) -> str:
    """w1_2_3 -> "w^{(1)}_{2,3}"; dz2_1_1 -> "\\mathrm{d}z^{(2)}_{1,1}"; ip_1_2 -> p_{1,2}^{-1}."""
    m = _ATOM.match(atom)
    if not m:
        return atom
    prefix, layer, i, j = m.groups()
    index = ",".join(s for s in (i, j) if s)
    if prefix == "ip":
        return f"p_{{{index}}}^{{-1}}"
    base = prefix if not prefix.startswith("d") else f"\\mathrm{{d}}{prefix[1:]}"
    sup = f"^{{({layer})}}" if layer else ""
    return f"{base}{sup}_{{{index}}}"


def role_text(role: str) -> str:
    """Matrix roles print as themselves in text: W1, dZ2, P."""
    return role


def role_latex(role: str) -> str:
    """W1 -> W_{1}; dZ2 -> \\mathrm{d}Z_{2}; dY -> \\mathrm{d}Y; X -> X."""
    m = _ROLE.match(role)
    if not m:
        return role
    d, letters, num = m.groups()
    out = ("\\mathrm{d}" if d else "") + letters
    return out + (f"_{{{num}}}" if num else "")


def _lower_text(name: str) -> str:
    """The entry letters of a role: z2 -> z⁽²⁾ (for Jacobian subscripts)."""
    m = re.match(r"([a-z]+)(\d*)\Z", name)
    if not m or not m.group(2):
        return name
    return m.group(1) + f"({m.group(2)})".translate(_SUP)


def _lower_latex(name: str) -> str:
    m = re.match(r"([a-z]+)(\d*)\Z", name)
    if not m or not m.group(2):
        return name
    return f"{m.group(1)}^{{({m.group(2)})}}"


# -- formulas -----------------------------------------------------------------------------
def _neg(node: Node) -> bool:
    return (
        isinstance(node, Prod)
        and bool(node.args)
        and isinstance(node.args[0], Scalar)
        and node.args[0].value < 0
    )


def _atomic(node: Node) -> bool:
    return isinstance(node, (Sym, Ones, Eye, Comm, Slope)) and not (
        isinstance(node, Slope) and node.kind != "relu"
    )


def formula_text(node: Node) -> str:
    """One line of Unicode text: "Xᵀ·((dZ2·W2ᵀ) ⊙ R1)".

    >>> formula_text(Prod(T(Sym("X")), Sym("dZ1")))
    'Xᵀ·dZ1'
    """
    if isinstance(node, Sym):
        return role_text(node.role)
    if isinstance(node, Ones):
        return f"1_{node.size}"
    if isinstance(node, Eye):
        return f"I_{node.size}"
    if isinstance(node, Comm):
        return "K"
    if isinstance(node, Scalar):
        return _fraction(node.value)
    if isinstance(node, Recip):
        return f"1/{node.size}"
    if isinstance(node, T):
        inner = formula_text(node.arg)
        return f"{inner}ᵀ" if _atomic(node.arg) else f"({inner})ᵀ"
    if isinstance(node, Slope):
        k = node.index
        return {
            "relu": f"R{k}",
            "tanh": f"(1 − A{k}⊙A{k})",
            "sigmoid": f"A{k}⊙(1 − A{k})",
        }[node.kind]
    if isinstance(node, Diag):
        return f"diag(vec {formula_text(node.arg)})"
    if isinstance(node, Had):
        return f"{_factor_text(node.left)} ⊙ {_factor_text(node.right)}"
    if isinstance(node, Kron):
        return f"{_factor_text(node.left)} ⊗ {_factor_text(node.right)}"
    if isinstance(node, Prod):
        return _prod_text(node)
    if isinstance(node, Sum):
        out = formula_text(node.args[0])
        for a in node.args[1:]:
            if _neg(a):
                assert isinstance(a, Prod)
                out += " − " + _prod_text(_negated(a))
            else:
                out += " + " + formula_text(a)
        return out
    if isinstance(node, Deriv):
        if node.vec:
            return f"∂vec {node.of}/∂vec {node.wrt}"
        return f"∂{node.of}/∂{node.wrt}"
    if isinstance(node, Grad):
        return f"∇_{node.wrt} {node.of}"
    if isinstance(node, Jac):
        return f"J_{_lower_text(node.fn)}({_lower_text(node.at)})"
    if isinstance(node, Vec):
        return f"vec({formula_text(node.arg)})"
    if isinstance(node, Text):
        return node.text
    if isinstance(node, Explicit):
        r, c = node.matrix.shape
        return f"[{r}×{c} matrix]"
    raise TypeError(f"no text for {type(node).__name__}")


def _negated(node: Prod) -> Prod:
    first = node.args[0]
    assert isinstance(first, Scalar)
    rest = node.args[1:]
    if first.value == -1:
        return Prod(*rest)
    return Prod(Scalar(-first.value), *rest)


def _fraction(value: Fraction) -> str:
    return (
        str(value.numerator)
        if value.denominator == 1
        else f"{value.numerator}/{value.denominator}"
    )


def _factor_text(node: Node) -> str:
    text = formula_text(node)
    if isinstance(node, (Sum, Had, Kron)) or (
        isinstance(node, Prod) and len(node.args) > 1
    ):
        return f"({text})"
    return text


def _prod_text(node: Prod) -> str:
    parts: list[str] = []
    args = list(node.args)
    if len(args) == 2 and isinstance(args[0], Recip):
        return f"{_factor_text(args[1])}/{args[0].size}"
    if len(args) >= 2 and isinstance(args[0], Scalar):
        scalar = args.pop(0)
        assert isinstance(scalar, Scalar)
        v = scalar.value
        if v.numerator == 1 and v.denominator > 1 and len(args) == 1:
            return f"{_factor_text(args[0])}/{v.denominator}"
        parts.append(_fraction(v))
    for a in args:
        parts.append(
            _factor_text(a)
            if isinstance(a, (Sum, Had, Kron, Prod))
            else formula_text(a)
        )
    return "·".join(parts)


def formula_latex(node: Node) -> str:
    """The same formula in LaTeX (amsmath): ``X^{T} (\\mathrm{d}Z_{2} W_{2}^{T} \\odot R_{1})``."""
    if isinstance(node, Sym):
        return role_latex(node.role)
    if isinstance(node, Ones):
        return f"\\mathbf{{1}}_{{{_size_latex(node.size)}}}"
    if isinstance(node, Eye):
        return f"I_{{{_size_latex(node.size)}}}"
    if isinstance(node, Comm):
        return "K"
    if isinstance(node, Recip):
        return f"\\tfrac{{1}}{{{_size_latex(node.size)}}}"
    if isinstance(node, Scalar):
        v = node.value
        if v.denominator == 1:
            return str(v.numerator)
        sign = "-" if v < 0 else ""
        return f"{sign}\\tfrac{{{abs(v.numerator)}}}{{{v.denominator}}}"
    if isinstance(node, T):
        inner = formula_latex(node.arg)
        return (
            f"{inner}^{{T}}" if _atomic(node.arg) else f"\\left({inner}\\right)^{{T}}"
        )
    if isinstance(node, Slope):
        k = node.index
        return {
            "relu": f"R_{{{k}}}",
            "tanh": f"(1 - A_{{{k}}} \\odot A_{{{k}}})",
            "sigmoid": f"A_{{{k}}} \\odot (1 - A_{{{k}}})",
        }[node.kind]
    if isinstance(node, Diag):
        return (
            f"\\operatorname{{diag}}(\\operatorname{{vec}} {formula_latex(node.arg)})"
        )
    if isinstance(node, Had):
        return f"{_factor_latex(node.left)} \\odot {_factor_latex(node.right)}"
    if isinstance(node, Kron):
        return f"{_factor_latex(node.left)} \\otimes {_factor_latex(node.right)}"
    if isinstance(node, Prod):
        args = list(node.args)
        parts: list[str] = []
        if len(args) >= 2 and isinstance(args[0], (Scalar, Recip)):
            parts.append(formula_latex(args.pop(0)))
        for a in args:
            parts.append(
                _factor_latex(a)
                if isinstance(a, (Sum, Had, Kron, Prod))
                else formula_latex(a)
            )
        return " \\, ".join(parts)
    if isinstance(node, Sum):
        out = formula_latex(node.args[0])
        for a in node.args[1:]:
            if _neg(a):
                assert isinstance(a, Prod)
                out += " - " + formula_latex(_negated(a))
            else:
                out += " + " + formula_latex(a)
        return out
    if isinstance(node, Deriv):
        of, wrt = role_latex(node.of), role_latex(node.wrt)
        if node.vec:
            return (
                f"\\frac{{\\partial \\operatorname{{vec}} {of}}}"
                f"{{\\partial \\operatorname{{vec}} {wrt}}}"
            )
        return f"\\frac{{\\partial {of}}}{{\\partial {wrt}}}"
    if isinstance(node, Grad):
        return f"\\nabla_{{{role_latex(node.wrt)}}} {node.of}"
    if isinstance(node, Jac):
        return f"J_{{{_lower_latex(node.fn)}}}({_lower_latex(node.at)})"
    if isinstance(node, Vec):
        return f"\\operatorname{{vec}}({formula_latex(node.arg)})"
    if isinstance(node, Text):
        return text_latex(node.text)
    raise TypeError(f"no LaTeX for {type(node).__name__}")


def _size_latex(size: str | int) -> str:
    """K2 -> K_{2}; N -> N."""
    if isinstance(size, int):
        return str(size)
    m = re.match(r"([A-Za-z]+)(\d+)\Z", size)
    return f"{m.group(1)}_{{{m.group(2)}}}" if m else size


def _factor_latex(node: Node) -> str:
    text = formula_latex(node)
    if isinstance(node, (Sum, Had, Kron)) or (
        isinstance(node, Prod) and len(node.args) > 1
    ):
        return f"\\left({text}\\right)"
    return text


_TEXT_MATH = {
    "Σ": "\\sum ",
    "−": "-",
    "·": " \\cdot ",
    "δ": "\\delta ",
    "σ": "\\sigma ",
    "‖": "\\|",
    "²": "^{2}",
    "ᵀ": "^{T}",
    "∂": "\\partial ",
    "⊙": " \\odot ",
}
_WORD = re.compile(
    r"(exp|log|tanh|max|diag|since|block|rows|and|columns|permuted|col|order|i =|= diag)"
)


def text_latex(text: str) -> str:
    """A formula written as text in the engine (Σ_j t_ij …) in LaTeX math."""
    out = []
    for ch in text:
        out.append(_TEXT_MATH.get(ch, ch))
    s = "".join(out)
    s = re.sub(r"_([a-z]+)(\d*)", lambda m: "_{" + m.group(1) + m.group(2) + "}", s)
    s = re.sub(
        r"\b([a-z])(\d)_\{", lambda m: m.group(1) + "^{(" + m.group(2) + ")}_{", s
    )
    s = re.sub(r"\b(exp|log|tanh|max)\b", r"\\\1", s)
    s = re.sub(
        r"\b(since|block diagonal: block|rows and columns permuted, col order)\b",
        r"\\text{\1}",
        s,
    )
    return s


__all__ = [
    "entry_latex",
    "entry_text",
    "formula_latex",
    "formula_text",
    "role_latex",
    "role_text",
    "text_latex",
]
