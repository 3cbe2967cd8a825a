"""JSON for a network (schema 1, extended; the README's "Networks" section documents it).

Every derivative is a string that ``sympy.parse_expr`` reads, a polynomial in the
canonical names x_i_j, wℓ_i_j, bℓ_j, t_i_j, dy_i_j, zℓ_i_j, aℓ_i_j, rℓ_i_j, p_i_j: evaluate
it at a point after a forward pass (with its cached z, a, r, p) to get the gradient.
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..algebra import PolyMatrix, bulk_work
from ..notation import Node
from .engine import NetDerivation
from .notes import formula_latex, formula_text, plain
from .spec import variables


def net_to_dict(derivation: NetDerivation) -> dict[str, Any]:
    """The JSON document as Python data, keyed by variable names (X, W1, b1, ...)."""
    c = derivation.config
    mats = derivation.matrices
    given = list(variables(c.net))  # X, W1, b1, ...
    cached = [st.output for st in derivation.stages]
    cached += [f"R{st.index}" for st in derivation.stages if st.kind == "relu"]
    if c.loss == "softmax-ce":
        cached.append("P")
    if c.loss in ("mse", "softmax-ce"):
        given.append("T")
    if c.loss == "generic":
        given.append("dY")
    layers = []
    for st in derivation.stages:
        item: dict[str, Any] = {
            "kind": st.kind,
            "index": st.index,
            "input": st.input,
            "output": st.output,
            "shape": list(mats[st.output].shape),
        }
        if st.kind == "affine":
            item["forward"] = derivation.forward[st.output].to_strings()
        layers.append(item)
    results: dict[str, Any] = {}
    for var, r in derivation.results.items():
        raw: PolyMatrix = r.extra["composed_raw"]
        results[var] = {
            "shape": list(raw.shape),
            "derivative": derivation.composed_strings(var),
            "closed_form": _formula(r.closed_form),
            "network_form": _formula(r.extra["network_form"]),
            "verified": r.verified,
        }
    upstreams = {
        f"d{role}": derivation.upstream_strings(role)
        for role in derivation.upstreams_raw
    }
    return {
        "schema": 1,
        "kind": "network",
        "version": __version__,
        "config": c.to_dict(),
        "layers": layers,
        "matrices": {role: mats[role].to_strings() for role in given},
        "cached": {role: mats[role].to_strings() for role in cached},
        "upstreams": upstreams,
        "results": results,
        "certificate": [
            {
                "wrt": k.wrt,
                "claim": k.claim,
                "passed": k.passed,
                "detail": plain(k.detail),
            }
            for k in derivation.checks
        ],
        "verified": derivation.verified,
    }


def _formula(node: Node) -> dict[str, str]:
    return {"text": formula_text(node), "latex": formula_latex(node)}


def render_net_json(derivation: NetDerivation, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`net_to_dict`, keys sorted, ending in a newline."""
    with bulk_work():
        return (
            json.dumps(
                net_to_dict(derivation),
                indent=indent,
                sort_keys=True,
                ensure_ascii=False,
            )
            + "\n"
        )


__all__ = ["net_to_dict", "render_net_json"]
