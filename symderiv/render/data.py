"""JSON output (SPEC section 6): the derivation as data, with no per-step code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import __version__
from ..algebra import PolyMatrix, bulk_work, vec_positions
from ..steps import Derivation
from .formula import formula_latex, formula_text


def _strings(
    matrix: PolyMatrix, bindings: dict[str, str] | None = None
) -> list[list[str]]:
    return matrix.to_strings(bindings)


def derivation_to_dict(derivation: Derivation) -> dict[str, Any]:
    """The JSON document of SPEC section 6 as Python data (roles as keys, 0-based nonzeros).

    Entries are strings that ``sympy.parse_expr`` reads, in canonical names (x_1_2, ...).
    With ``--loss mse`` the upstream derivative dY = (Y − T)/N is written out and
    substituted into the derivatives; with ``--loss sum`` it is 1.
    """
    c, layer = derivation.config, derivation.layer
    values = derivation.upstream_values()
    bindings = {name: v.to_str() for name, v in values.items()}
    if values:
        rows, cols = c.shape("Y")
        upstream = PolyMatrix(
            rows,
            cols,
            {
                (i, j): values[f"dy_{i + 1}_{j + 1}"]
                for i in range(rows)
                for j in range(cols)
            },
        )
    else:
        upstream = derivation.upstream
    matrices: dict[str, Any] = {
        "X": _strings(layer.X),
        "W": _strings(layer.W),
        "b": _strings(layer.b),
        "Y": _strings(layer.Y),
        "dY": _strings(upstream),
    }
    if c.loss == "mse":
        matrices["T"] = _strings(layer.matrix("T"))
    order = c.vec
    vec: dict[str, Any] = {
        "Y": [[i + 1, j + 1] for i, j in vec_positions(c.shape("Y"), order)],
    }
    for role in ("X", "W", "b"):
        vec[role] = [p.to_str() for p in layer.matrix(role).vec(order)]
    letters = c.letters
    results: dict[str, Any] = {}
    for var, r in derivation.results.items():
        results[var] = {
            "jacobian": {
                "shape": list(r.jacobian.shape),
                "nonzeros": [[i, j, v.to_str()] for i, j, v in r.jacobian.nonzeros()],
            },
            "kronecker": {
                "text": formula_text(r.kronecker, letters),
                "latex": formula_latex(r.kronecker, letters),
                "verified": r.kronecker_verified,
            },
            "derivative": _strings(r.derivative, bindings),
            "closed_form": {
                "text": formula_text(r.closed_form, letters),
                "latex": formula_latex(r.closed_form, letters),
            },
            "verified": r.verified,
        }
        results[var].update(_extras(r.extra))
    return {
        "schema": 1,
        "version": __version__,
        "config": c.to_dict(),
        "matrices": matrices,
        "vec": vec,
        "results": results,
        "certificate": [
            {"wrt": k.wrt, "claim": k.claim, "passed": k.passed, "detail": k.detail}
            for k in derivation.checks
        ],
        "verified": derivation.verified,
    }


def _extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The index and tensor views' extras, their sympy equations printed as text and LaTeX."""
    if not extra:
        return {}
    from .indexnotation import latex_of, text_of

    def printed(parts: tuple[Any, ...]) -> dict[str, str]:
        return {
            "text": " = ".join(text_of(p) for p in parts),
            "latex": " = ".join(latex_of(p) for p in parts),
        }

    out: dict[str, Any] = {}
    for view, values in extra.items():
        shown = {k: v for k, v in values.items() if k != "equation"}
        shown["entry"] = printed(values["entry"])
        if "equation" in values:
            shown.update(printed(values["equation"]))
        out[view] = shown
    return out


def render_json(derivation: Derivation, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`derivation_to_dict`, keys sorted, ending in a newline."""
    with bulk_work():
        return (
            json.dumps(
                derivation_to_dict(derivation),
                indent=indent,
                sort_keys=True,
                ensure_ascii=False,
            )
            + "\n"
        )
