"""A derivation in a Python session or notebook: short repr, summary, sympy matrices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp
from texutil import compile_tex

from symderiv import derive
from symderiv.errors import SymderivError
from symderiv.render.display import KEYS, DisplaySymbol


class Printer:
    """Stands in for IPython's pretty printer (``p.text``)."""

    def __init__(self) -> None:
        self.out = ""

    def text(self, s: str) -> None:
        self.out += s


@pytest.mark.parametrize(
    "config",
    [
        {"n": 2, "d": 2, "m": 3},
        {"n": 1, "d": 11, "m": 12, "convention": "column", "loss": "mse"},
        {"n": 2, "d": 2, "m": 2, "wrt": ("W",), "method": "all", "names": {"X": "Inp"}},
    ],
)
def test_repr_and_pretty_are_short(config: dict[str, object]) -> None:
    d = derive(**config)  # type: ignore[arg-type]
    assert len(repr(d)) < 300 and repr(d).startswith("Derivation(")
    p = Printer()
    d._repr_pretty_(p, False)
    assert 0 < len(p.out) < 400 and len(p.out.splitlines()) == 3
    assert "verified ✓" in p.out


def test_pretty_names_the_results() -> None:
    p = Printer()
    derive(n=2, d=2, m=3, convention="torch")._repr_pretty_(p, False)
    assert "∂L/∂W = dYᵀ·x" in p.out and "convention torch" in p.out


def test_display_matrices_print_as_the_derivation_writes() -> None:
    m = derive(n=1, d=11, m=12).matrices()
    assert list(m) == list(KEYS)
    x = m["X"]
    assert sp.latex(x[0, 10]) == "x_{1,11}"
    assert sp.pretty(x[0, 10]) == "x₁,₁₁"
    assert str(m["dY"][0, 11]) == "∂L/∂y₁,₁₂"
    assert sp.latex(m["dY"][0, 11]) == r"\frac{\partial L}{\partial y_{1,12}}"
    assert "x_{1 11}" not in sp.latex(m["dW"]) and "x_{1,11}" in sp.latex(m["dW"])


def test_display_and_canonical_hold_the_same_matrices() -> None:
    d = derive(n=2, d=3, m=2, convention="torch", layout="numerator")
    shown, canonical = d.matrices(), d.matrices("canonical")
    assert shown.keys() == canonical.keys()
    for key in shown:
        back = {
            s: sp.Symbol(_canonical(s))
            for s in shown[key].free_symbols
            if isinstance(s, DisplaySymbol)
        }
        assert shown[key].xreplace(back) == canonical[key], key
    # The derivative is the chain rule's, in the layout asked (numerator: Wᵀ's shape).
    assert canonical["dW"].shape == (3, 2)
    assert canonical["dW"] == d.results["W"].derivative.to_sympy()


def _canonical(s: DisplaySymbol) -> str:
    """x₁,₂ -> x_1_2, ∂L/∂y₁,₂ -> dy_1_2 (the inverse of the display name)."""
    text = s.unicode()
    upstream = text.startswith("∂L/∂")
    text = text.removeprefix("∂L/∂")
    index = text[1:].translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
    return ("d" if upstream else "") + text[0] + "_" + index.replace(",", "_")


def test_only_the_variables_derived() -> None:
    m = derive(n=2, d=2, m=2, wrt=("b",)).matrices()
    assert "db" in m and "J_b" in m and "dW" not in m and "J_X" not in m


def test_unknown_names_is_refused() -> None:
    with pytest.raises(SymderivError, match="display"):
        derive(n=1, d=1, m=1).matrices("pretty")


@pytest.mark.latex
@pytest.mark.parametrize(
    "config", [{"n": 2, "d": 2, "m": 3}, {"n": 1, "d": 11, "m": 12}]
)
def test_repr_latex_compiles_with_the_packages_it_names(
    config: dict[str, int], tmp_path: Path
) -> None:
    """Pasted into a plain article with exactly the packages its header names."""
    fragment = derive(**config)._repr_latex_()  # type: ignore[arg-type]
    needs = re.search(
        r"^% A fragment: needs (\\usepackage\{[a-z,]+\})\.$", fragment, re.M
    )
    assert needs, fragment[:300]
    for package in ("amsmath", "array", "booktabs"):
        assert package in needs.group(1)
    doc = (
        "\\documentclass{article}\n"
        + needs.group(1)
        + "\n\\begin{document}\n"
        + fragment
        + "\n\\end{document}\n"
    )
    compile_tex(doc, tmp_path, vbox=False, hbox=False)
