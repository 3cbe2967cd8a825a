"""JSON output (SPEC section 6): the derivation as data, with no per-step code.

The document is written the way ``json.dumps(doc, indent=2, sort_keys=True,
ensure_ascii=False)`` writes it, byte for byte, but as a stream of chunks: its big tables
(the entries of every matrix and the nonzeros of the Jacobians, tens of megabytes at
64×64×64) are turned into text row by row while they are written, so the whole document
never sits in memory as Python strings (:func:`iter_json`; the CLI writes the chunks
straight to the output file). :func:`derivation_to_dict` gives the same document as
Python data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from .. import __version__
from ..algebra import Poly, PolyMatrix, bulk_work, vec_positions
from ..steps import Derivation
from .formula import formula_latex, formula_text, prose_plain

#: One level of indentation, as ``json.dumps(indent=2)``.
_INDENT = "  "
#: Rows or nonzeros turned into one chunk of text at a time while streaming.
_BATCH = 2048

_encode_str = json.encoder.encode_basestring  # the C version: "…" with JSON escapes


class _Table:
    """A big list of lists, produced lazily: written row by row, or materialised."""

    def rows(self) -> Iterator[list[Any]]:
        raise NotImplementedError

    def value(self) -> list[list[Any]]:
        return list(self.rows())

    def encode(self, level: int) -> Iterator[str]:
        """The list as ``json.dumps(indent=2)`` writes it at nesting ``level``."""
        outer = "\n" + _INDENT * level
        inner = outer + _INDENT
        item = inner + _INDENT
        rows = (self.encode_row(row, inner, item) for row in self.rows())
        opening = "["  # then "," before each further batch
        while batch := list(islice(rows, _BATCH)):
            yield opening + ",".join(batch)
            opening = ","
        yield "[]" if opening == "[" else outer + "]"

    @staticmethod
    def encode_row(row: list[Any], inner: str, item: str) -> str:
        """One row, opening at indentation ``inner``, its items at ``item``."""
        raise NotImplementedError


class _Strings(_Table):
    """A matrix as rows of sympy-readable strings (``PolyMatrix.to_strings``)."""

    def __init__(self, matrix: PolyMatrix, bindings: dict[str, str] | None = None):
        self.matrix = matrix
        self.bindings = bindings

    def rows(self) -> Iterator[list[Any]]:
        m, bindings = self.matrix, self.bindings
        get = m.entries.get
        for i in range(m.rows):
            yield [_to_str(get((i, j)), bindings) for j in range(m.cols)]

    @staticmethod
    def encode_row(row: list[Any], inner: str, item: str) -> str:
        if not row:
            return f"{inner}[]"
        sep = "," + item
        return f"{inner}[{item}{sep.join(map(_encode_str, row))}{inner}]"


class _Nonzeros(_Table):
    """[row, col, entry] of every nonzero of a matrix, row by row (0-based)."""

    def __init__(self, matrix: PolyMatrix):
        self.matrix = matrix

    def rows(self) -> Iterator[list[Any]]:
        for i, j, v in self.matrix.nonzeros():
            yield [i, j, v.to_str()]

    @staticmethod
    def encode_row(row: list[Any], inner: str, item: str) -> str:
        i, j, text = row
        return f"{inner}[{item}{i:d},{item}{j:d},{item}{_encode_str(text)}{inner}]"


def _to_str(entry: Poly | None, bindings: dict[str, str] | None) -> str:
    return "0" if entry is None else entry.to_str(bindings)


#: The values json.dumps writes as they are, and takes as dictionary keys too.
_SCALARS = (type(None), bool, int, float)


def _key(key: Any) -> str:
    """A dictionary key as json.dumps turns it into a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, _SCALARS):
        return json.dumps(key)
    raise TypeError(
        f"keys must be str, int, float, bool or None, not {type(key).__name__}"
    )


def _encode(value: Any, level: int) -> Iterator[str]:
    """``value`` as ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`` writes it
    at nesting ``level`` (tuples as lists; tables lazily)."""
    if isinstance(value, str):
        yield _encode_str(value)
    elif isinstance(value, _SCALARS):
        yield json.dumps(value)
    elif isinstance(value, _Table):
        yield from value.encode(level)
    elif isinstance(value, (list, tuple, dict)):
        brackets = "{}" if isinstance(value, dict) else "[]"
        if not value:
            yield brackets
            return
        # (what goes before each item, the item): its key in a dictionary
        items = (
            ((_encode_str(_key(k)) + ": ", v) for k, v in sorted(value.items()))
            if isinstance(value, dict)
            else (("", v) for v in value)
        )
        inner = "\n" + _INDENT * (level + 1)
        yield brackets[0]
        for k, (key, item) in enumerate(items):
            yield ("," + inner if k else inner) + key
            yield from _encode(item, level + 1)
        yield "\n" + _INDENT * level + brackets[1]
    else:
        # Whatever json.dumps cannot write either: its own TypeError.
        yield json.dumps(value)


def _materialise(value: Any) -> Any:
    if isinstance(value, _Table):
        return value.value()
    if isinstance(value, dict):
        return {k: _materialise(v) for k, v in value.items()}
    return value


def _document(derivation: Derivation) -> dict[str, Any]:
    """The JSON document, its big tables left as lazy :class:`_Table` objects."""
    c, layer = derivation.config, derivation.layer
    values = derivation.upstream_values()
    bindings = {name: v.to_str() for name, v in values.items()}
    # dY written out in x, w, b, t (--loss mse, softmax-ce), else as it is
    upstream = derivation.upstream.subs(values) if values else derivation.upstream
    targets = ("T",) if c.loss in ("mse", "softmax-ce") else ()
    matrices: dict[str, Any] = {
        role: _Strings(layer.matrix(role)) for role in ("X", "W", "b", "Y", *targets)
    }
    matrices["dY"] = _Strings(upstream)
    if c.loss == "softmax-ce":
        matrices["P"] = [[f"p_{i + 1}_{j + 1}" for j in range(c.m)] for i in range(c.n)]
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
                "nonzeros": _Nonzeros(r.jacobian),
            },
            "kronecker": {
                "text": formula_text(r.kronecker, letters),
                "latex": formula_latex(r.kronecker, letters),
                "verified": r.kronecker_verified,
            },
            "derivative": _Strings(r.derivative, bindings),
            "closed_form": {
                "text": formula_text(r.closed_form, letters),
                "latex": formula_latex(r.closed_form, letters),
            },
            "verified": r.verified,
        }
        results[var].update(_extras(r.extra))
    doc: dict[str, Any] = {
        "schema": 1,
        "version": __version__,
        "config": c.to_dict(),
        "matrices": matrices,
        "vec": vec,
        "results": results,
        "certificate": [
            {
                "wrt": k.wrt,
                "claim": k.claim,
                "passed": k.passed,
                "detail": prose_plain(k.detail, c.letters),
            }
            for k in derivation.checks
        ],
        "verified": derivation.verified,
    }
    if c.values is not None:
        doc["values"] = _numbers(derivation, c.values)
    return doc


def _numbers(derivation: Derivation, seed: int) -> dict[str, Any]:
    """``--values``: the companion's numbers (exact strings, "3/2"), as the other formats
    show them beside the symbols."""
    from ..values import companion

    numbers = companion(derivation, seed)
    return {
        "seed": seed,
        "matrices": {k: _Strings(v) for k, v in numbers.values.items()},
        "vec_Y": _Strings(numbers.vec_y),
        "results": {
            var: {
                "jacobian": _Strings(v.jacobian),
                "chain": _Strings(v.chain),
                "derivative": _Strings(v.derivative),
                "closed": _Strings(v.closed),
                "verified": v.verified,
            }
            for var, v in numbers.variables.items()
        },
        "verified": numbers.verified,
    }


def derivation_to_dict(derivation: Derivation) -> dict[str, Any]:
    """The JSON document of SPEC section 6 as Python data (roles as keys, 0-based nonzeros).

    Entries are strings that ``sympy.parse_expr`` reads, in canonical names (x_1_2, ...).
    With ``--loss mse`` the upstream derivative dY = (Y − T)/N is written out and
    substituted into the derivatives; with ``--loss sum`` it is 1.
    """
    with bulk_work():
        result: dict[str, Any] = _materialise(_document(derivation))
        return result


def iter_json(derivation: Derivation) -> Iterator[str]:
    """:func:`render_json` as consecutive chunks of text (tables converted as written).

    Joined, the chunks are exactly ``render_json(derivation)``; each is at most a few
    thousand rows of a table, so writing them one by one keeps memory flat.
    """
    with bulk_work():
        yield from _encode(_document(derivation), 0)
        yield "\n"


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
    if indent == 2:
        return "".join(iter_json(derivation))
    doc = derivation_to_dict(derivation)
    return json.dumps(doc, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"
