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
from ..algebra import PolyMatrix, bulk_work, vec_positions
from ..steps import Derivation
from .formula import formula_latex, formula_text, prose_plain

#: One level of indentation, as ``json.dumps(indent=2)``.
_INDENT = "  "
#: Rows or nonzeros turned into one chunk of text at a time while streaming.
_BATCH = 2048


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
        # a row's items one level further in: its line breaks as json's item separator
        # (json's C encoder, fast, takes separators but not indent)
        row_json = json.JSONEncoder(
            ensure_ascii=False, separators=("," + inner + _INDENT, ": ")
        ).encode

        def written(row: list[Any]) -> str:
            items = row_json(row)[1:-1]
            return f"{inner}[{inner}{_INDENT}{items}{inner}]" if row else f"{inner}[]"

        rows = map(written, self.rows())
        opening = "["  # then "," before each further batch
        while batch := list(islice(rows, _BATCH)):
            yield opening + ",".join(batch)
            opening = ","
        yield "[]" if opening == "[" else outer + "]"


class _Strings(_Table):
    """A matrix as rows of sympy-readable strings (``PolyMatrix.to_strings``)."""

    def __init__(self, matrix: PolyMatrix, bindings: dict[str, str] | None = None):
        self.matrix = matrix
        self.bindings = bindings

    def rows(self) -> Iterator[list[Any]]:
        m = self.matrix
        for i in range(m.rows):
            row = (m.entries.get((i, j)) for j in range(m.cols))
            yield ["0" if p is None else p.to_str(self.bindings) for p in row]


class _Nonzeros(_Table):
    """[row, col, entry] of every nonzero of a matrix, row by row (0-based)."""

    def __init__(self, matrix: PolyMatrix):
        self.matrix = matrix

    def rows(self) -> Iterator[list[Any]]:
        for i, j, v in self.matrix.nonzeros():
            yield [i, j, v.to_str()]


#: Stands in for a table while json.dumps writes the rest of the document: a lone
#: surrogate, which no text of a derivation holds.
_HOLE = "\udc00table\udc00"


def _encode(value: Any, level: int) -> Iterator[str]:
    """``value`` as ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`` writes it
    at nesting ``level``: by json.dumps, each table then written lazily in its place."""
    tables: list[_Table] = []

    def hole(table: Any) -> str:
        if not isinstance(table, _Table):
            name = type(table).__name__
            raise TypeError(f"Object of type {name} is not JSON serializable")
        tables.append(table)
        return _HOLE

    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=hole)
    *pieces, last = text.replace("\n", "\n" + _INDENT * level).split(f'"{_HOLE}"')
    for piece, table in zip(pieces, tables, strict=True):
        yield piece
        line = piece.rsplit("\n", 1)[-1]  # the table's key, indented to its level
        yield from table.encode((len(line) - len(line.lstrip(" "))) // len(_INDENT))
    yield last


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
