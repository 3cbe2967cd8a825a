"""A Jupyter notebook (nbformat 4): a Markdown cell per step, code cells that redo the work.

The Markdown cells are the Markdown printer's blocks of the same page; the ``ApiCheck``
blocks of the page become code cells. The code cells reproduce the
derivation with the Python API (``from symderiv import derive``), check each result
against its closed form, and finally substitute small random integers to compare the
symbolic result with the NumPy one-liners, exactly (integers, no rounding). The cells are
executed while the notebook is written, so it opens with its outputs; those are plain
text, and cell ids and metadata are fixed, so the file is byte-identical from run to run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import keyword
from dataclasses import dataclass
from functools import partialmethod
from typing import Any, ClassVar

from ..conventions import PREFIX, Config
from ..steps import Derivation
from .base import PagePrinter
from .code import numpy_code
from .markdown import MarkdownPrinter, ProseSettings
from .page import (
    ApiCheck,
    Block,
    PageTitle,
    Section,
    StepGroup,
    page_of,
)

#: Names the generated code uses itself; display letters equal to one of them are not
#: used as NumPy variable names (the role names X, W, b, dY are used instead).
#: (Keywords such as None are refused as well.)
_RESERVED = frozenset(
    "np sp d r rng values numeric name matrix var i j v derive print int max dtype "
    "array".split()
)


def _nbformat() -> Any:
    """nbformat, imported when a notebook is written (it is untyped: used as Any)."""
    import importlib

    return importlib.import_module("nbformat")


def derive_call(config: Config) -> str:
    """``derive(n=2, d=2, m=3, ...)`` with the options that differ from the defaults."""
    defaults = Config()
    args = [f"n={config.n}", f"d={config.d}", f"m={config.m}"]
    for name in ("convention", "vec", "layout", "loss", "method", "wrt"):
        value = getattr(config, name)
        if value != getattr(defaults, name):
            args.append(f"{name}={value!r}")
    if config.names:
        args.append(f"names={dict(config.names)!r}")
    return f"derive({', '.join(args)})"


def _variable_names(config: Config) -> dict[str, str]:
    """Python names for X, W, b, dY: the display letters when they are safe to use."""
    letters = config.letters
    names = {role: letters.of(role) for role in ("X", "W", "b", "dY")}
    if len(set(names.values())) < len(names) or any(
        n in _RESERVED or keyword.iskeyword(n) or not n.isidentifier()
        for n in names.values()
    ):
        return {role: role for role in names}
    return names


@dataclass(frozen=True)
class NotebookSettings(ProseSettings):
    """Settings of the notebook: those of Markdown, and whether to run the code cells."""

    execute: bool = True
    printer: ClassVar[str] = "ipynb"


Cells = list[dict[str, Any]]


class NotebookPrinter(PagePrinter[Cells, NotebookSettings]):
    """Each block as cells: Markdown from the Markdown printer, code cells that redo work."""

    name = "ipynb"
    settings_type = NotebookSettings

    def __init__(self, **settings: object) -> None:
        super().__init__(**settings)
        self.markdown = MarkdownPrinter(
            max_entries=self.settings.max_entries,
            max_terms=self.settings.max_terms,
            upstream=self.settings.upstream,
            flavor="jupyter",  # $$ maths: what Jupyter and nbconvert read
        )
        self._derivation: Derivation | None = None

    def bind(self, config: Config) -> None:
        """A fresh notebook: no cell ids taken, the code cells' namespace empty."""
        super().bind(config)
        self.markdown.bind(config)
        self._namespace: dict[str, Any] = {"__name__": "__symderiv_notebook__"}
        self._count = 0
        self._ids: dict[str, int] = {}

    # -- cells ---------------------------------------------------------------------------
    def _id(self, base: str) -> str:
        """A cell id, unique in the notebook and the same from run to run."""
        count = self._ids.get(base, 0)
        self._ids[base] = count + 1
        return base if count == 0 else f"{base}-{count + 1}"

    def markdown_cell(self, cell_id: str, source: str) -> Cells:
        if not source.strip():
            return []
        cell = _nbformat().v4.new_markdown_cell(source.rstrip("\n"))
        cell["id"] = self._id(cell_id)
        return [dict(cell)]

    def code_cell(self, cell_id: str, source: str) -> Cells:
        """A code cell, run now (when ``execute``) so that the notebook opens with outputs.

        As in Jupyter, what the cell prints is a stream output and the value of a last
        line that is an expression is its result (plain text and, for sympy, LaTeX).
        """
        cell = _nbformat().v4.new_code_cell(source)
        cell["id"] = self._id(cell_id)
        if self.settings.execute:
            self._count += 1
            cell["execution_count"] = self._count
            cell["outputs"] = self.run(source, f"<cell {cell_id}>")
        return [dict(cell)]

    def run(self, source: str, filename: str) -> Cells:
        """The outputs of running ``source`` in the notebook's namespace."""
        new_output = _nbformat().v4.new_output
        tree = ast.parse(source)
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()
        buffer = io.StringIO()
        value = None
        with contextlib.redirect_stdout(buffer):
            exec(compile(tree, filename, "exec"), self._namespace)  # noqa: S102
            if isinstance(last, ast.Expr):
                expr = compile(ast.Expression(last.value), filename, "eval")
                value = eval(expr, self._namespace)  # noqa: S307
        outputs = []
        if text := buffer.getvalue():
            outputs.append(new_output("stream", name="stdout", text=text))
        if value is not None:
            data = {"text/plain": repr(value)}
            if callable(latex := getattr(value, "_repr_latex_", None)):
                data["text/latex"] = latex()
            result = new_output(
                "execute_result", data=data, execution_count=self._count
            )
            outputs.append(result)
        return outputs

    def md(self, cell_id: str, block: Block) -> Cells:
        return self.markdown_cell(cell_id, self.markdown.block(block))

    def empty(self) -> Cells:
        return []

    # -- the blocks ----------------------------------------------------------------------
    def page_title(self, block: PageTitle) -> Cells:
        cells = self.md("title", block)
        cells += self.code_cell(
            "setup",
            block.setup
            or "from symderiv import derive\n\n"
            f"d = {derive_call(block.config)}\n"
            "print(d.verified)  # True: every result was checked exactly\n"
            "m = d.matrices()  # sympy matrices, entries named as on this page",
        )
        return cells

    def section(self, block: Section) -> Cells:
        if not any(isinstance(b, StepGroup) for b in block.blocks):
            return self.md("section", block)
        cells = self.markdown_cell("section", f"## {self.markdown.text(block.title)}")
        for b in block.blocks:
            cells += self.block(b)
        return cells

    def step_group(self, block: StepGroup) -> Cells:
        shown = tuple(b for b in block.blocks if not isinstance(b, ApiCheck))
        cells = self.markdown_cell(
            f"step-{block.number:02d}",
            self.markdown.step_group(StepGroup(block.step, block.number, shown)),
        )
        for b in block.blocks:
            if isinstance(b, ApiCheck):
                cells += self.api_check(b)
        return cells

    # the other blocks are one Markdown cell each, with this id
    heading = partialmethod(md, "heading")
    display = partialmethod(md, "display")
    formula = partialmethod(md, "formula")
    note = partialmethod(md, "note")
    items = partialmethod(md, "items")
    notation = partialmethod(md, "notation")
    entry_sum = partialmethod(md, "entry")
    shape_ledger = partialmethod(md, "shapes")
    closed_shapes = partialmethod(md, "closed-shapes")
    sparsity = partialmethod(md, "sparsity")
    code = partialmethod(md, "code")
    certificate = partialmethod(md, "certificate")
    table = partialmethod(md, "table")
    verdict = partialmethod(md, "verdict")
    remarks = partialmethod(md, "remarks")
    background = partialmethod(md, "background")

    def shown(self, key: str, comment: str) -> str:
        """Code whose last line displays matrix ``key`` of ``d.matrices()`` (its top-left
        corner when it is larger than ``max_entries``; a summary when it is huge).

        ASCII only: code goes verbatim into LaTeX when the notebook is converted.
        """
        c = self.config
        var = key.removeprefix("J_").removeprefix("d")
        vr, vc = c.shape(var)
        if key.startswith("J_"):
            rows, cols = c.n * c.m, vr * vc  # ∂vec(Y)/∂vec(V)
        else:
            rows, cols = (vc, vr) if c.layout == "numerator" else (vr, vc)
        limit = self.settings.max_entries
        if rows * cols > SHOWN_ENTRIES:
            return f'print("{key}: {rows}x{cols}, too large to display")  # {comment}'
        if rows > limit or cols > limit:
            top, left = min(rows, limit), min(cols, limit)
            return (
                f"m[{key!r}][:{top}, :{left}]  "
                f"# {comment}: its top-left {top}x{left} corner"
            )
        return f"m[{key!r}]  # {comment}"

    def api_check(self, block: ApiCheck) -> Cells:
        var = block.var
        letter = self.letters.of(var)
        if block.what == "jacobian":
            return self.code_cell(
                f"jacobian-{var}",
                f"J = d.results[{var!r}].jacobian  # explicit and sparse\n"
                'print("shape", J.shape, "nonzero", J.nnz(), "of", J.rows * J.cols)\n'
                + self.shown(
                    f"J_{var}",
                    f"the Jacobian of vec({self.letters.of('Y')}) by vec({letter})",
                ),
            )
        if block.what == "closed":
            return self.code_cell(
                f"closed-{var}",
                f"r = d.results[{var!r}]\n"
                "# The chain-rule result and the closed form, compared entry by entry\n"
                "print(r.derivative.to_sympy() == r.closed.to_sympy())\n"
                + self.shown(f"d{var}", f"dL/d{letter} from the chain rule"),
            )
        numeric = self.numeric_source()
        if not numeric:
            return []
        return self.markdown_cell(
            "numbers",
            "## With numbers\n\nThe symbolic results, evaluated at small random "
            "integers, equal the NumPy one-liners of the closed forms.",
        ) + self.code_cell("numeric", numeric)

    # -- the notebook --------------------------------------------------------------------
    def numeric_source(self) -> str:
        """Random small integers in, symbolic result and NumPy closed form compared."""
        d = self._derivation
        if d is None:
            return ""
        c = d.config
        names = _variable_names(c)
        lines = [
            "import numpy as np",
            "import sympy as sp",
            "",
            "# Small random integers, so that the comparison is exact.",
            "rng = np.random.default_rng(0)",
        ]
        for role in ("X", "W", "b"):
            shape = c.shape(role)
            lines.append(f"{names[role]} = rng.integers(-3, 4, size={shape})")
        n, m = c.shape("dY")
        if c.loss == "sum":
            lines.append(
                f"{names['dY']} = np.ones(({n}, {m}), dtype=np.int64)  # L = sum of Y"
            )
        else:
            note = (
                "  # the identities hold for any upstream dY" if c.loss == "mse" else ""
            )
            lines.append(f"{names['dY']} = rng.integers(-3, 4, size=({n}, {m})){note}")
        lines += [
            "",
            "values = {}",
            f"for name, matrix in ({PREFIX['X']!r}, {names['X']}), "
            f"({PREFIX['W']!r}, {names['W']}), ({PREFIX['dY']!r}, {names['dY']}):",
            "    for (i, j), v in np.ndenumerate(matrix):",
            '        values[sp.Symbol(f"{name}_{i + 1}_{j + 1}")] = int(v)',
            f"for (i, j), v in np.ndenumerate({names['b']}):",
            '    values[sp.Symbol(f"b_{max(i, j) + 1}")] = int(v)',
            "",
            "",
            "def numeric(var):",
            '    """The chain-rule result for var with the numbers above substituted."""',
            "    matrix = d.results[var].derivative.to_sympy().xreplace(values)",
            "    return np.array(matrix.tolist(), dtype=np.int64)",
            "",
            "",
        ]
        checks = [
            f"print({v!r}, np.array_equal(numeric({v!r}), "
            f"{numpy_code(d.results[v].closed_form, names)}))"
            for v in c.wrt
            if v in d.results
        ]
        return "\n".join(lines + checks) if checks else ""

    def render(self, d: Derivation) -> str:
        nbformat = _nbformat()

        self._derivation = d
        blocks = page_of(d, self.settings.max_entries)
        self.bind(blocks[0].config)  # type: ignore[union-attr]
        cells: Cells = [c for out in self.blocks(blocks) for c in out]
        nb = nbformat.v4.new_notebook()
        nb["cells"] = [nbformat.from_dict(c) for c in cells]
        nb["metadata"] = {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        }
        nbformat.validate(nb)
        return str(nbformat.writes(nb)) + "\n"


#: Matrices with more entries than this are not displayed in a code cell (as a sympy
#: matrix they would take long to make and to draw).
SHOWN_ENTRIES = 40_000


def render_ipynb(derivation: Derivation, **settings: Any) -> str:
    """The derivation as a Jupyter notebook (nbformat 4 JSON).

    Settings: max_entries (12), max_terms (6), upstream ("bar" or "frac"), execute (True:
    run the code cells now, so that the notebook opens with its outputs).
    """
    return NotebookPrinter(**settings).render(derivation)


__all__ = ["NotebookPrinter", "NotebookSettings", "derive_call", "render_ipynb"]
