"""A Jupyter notebook (nbformat 4): a Markdown cell per step, code cells that redo the work.

The Markdown cells are the Markdown printer's steps. The code cells reproduce the
derivation with the Python API (``from symderiv import derive``), check each result
against its closed form, and finally substitute small random integers to compare the
symbolic result with the NumPy one-liners, exactly (integers, no rounding). The cells are
executed while the notebook is written, so it opens with its outputs; those are plain
text, and cell ids and metadata are fixed, so the file is byte-identical from run to run.
"""

from __future__ import annotations

import contextlib
import io
import keyword
from collections.abc import Mapping
from typing import Any, ClassVar

from ..conventions import Config
from ..steps import Derivation, Step, StepKind
from .base import Renderer
from .code import numpy_code
from .latex import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_TERMS,
    intro_blocks,
)
from .markdown import MarkdownRenderer

#: Names the generated code uses itself; display letters equal to one of them are not
#: used as NumPy variable names (the role names X, W, b, dY are used instead).
_RESERVED = {
    "np",
    "sp",
    "d",
    "r",
    "rng",
    "values",
    "numeric",
    "name",
    "matrix",
    "var",
    "i",
    "j",
    "v",
    "derive",
    "print",
    "int",
    "max",
    "dtype",
    "array",
    "True",
    "False",
    "None",
}


def _nbformat() -> Any:
    """nbformat, imported when a notebook is written (it is untyped: used as Any)."""
    import importlib

    return importlib.import_module("nbformat")


def _python_repr(value: object) -> str:
    if isinstance(value, tuple):
        return (
            "("
            + ", ".join(_python_repr(v) for v in value)
            + ("," if len(value) == 1 else "")
            + ")"
        )
    return repr(value)


def derive_call(config: Config) -> str:
    """``derive(n=2, d=2, m=3, ...)`` with the options that differ from the defaults."""
    defaults = Config()
    args = [f"n={config.n}", f"d={config.d}", f"m={config.m}"]
    for name in ("convention", "vec", "layout", "loss", "method"):
        value = getattr(config, name)
        if value != getattr(defaults, name):
            args.append(f"{name}={value!r}")
    if config.wrt != defaults.wrt:
        args.append(f"wrt={_python_repr(config.wrt)}")
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


class NotebookRenderer(Renderer[list[dict[str, Any]]]):
    """Each step as a Markdown cell, followed by a code cell where there is work to redo."""

    name = "ipynb"
    defaults: ClassVar[Mapping[str, object]] = {
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "upstream": "bar",
        "execute": True,
    }

    def __init__(self, **settings: object) -> None:
        super().__init__(**settings)
        md_settings = {k: v for k, v in self.settings.items() if k != "execute"}
        self.markdown = MarkdownRenderer(**md_settings)
        self._derivation: Derivation | None = None
        self._namespace: dict[str, Any] = {}
        self._count = 0

    @property
    def derivation(self) -> Derivation:
        assert self._derivation is not None
        return self._derivation

    # -- cells ---------------------------------------------------------------------------
    @staticmethod
    def markdown_cell(cell_id: str, source: str) -> dict[str, Any]:
        nbformat = _nbformat()

        cell = nbformat.v4.new_markdown_cell(source.rstrip("\n"))
        cell["id"] = cell_id
        return dict(cell)

    def code_cell(self, cell_id: str, source: str) -> dict[str, Any]:
        """A code cell, run now (when ``execute``) so that the notebook opens with outputs."""
        nbformat = _nbformat()

        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = cell_id
        if self.settings["execute"]:
            self._count += 1
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(source, f"<cell {cell_id}>", "exec"), self._namespace)  # noqa: S102
            cell["execution_count"] = self._count
            text = buffer.getvalue()
            if text:
                cell["outputs"] = [
                    nbformat.v4.new_output("stream", name="stdout", text=text)
                ]
        return dict(cell)

    def step_cells(self, step: Step, number: int) -> list[dict[str, Any]]:
        cells = [
            self.markdown_cell(f"step-{number:02d}", self.markdown.step(step, number))
        ]
        d = self.derivation
        var = step.wrt
        if (
            step.kind is StepKind.JACOBIAN
            and var in d.results
            and step.view == "jacobian"
        ):
            cells.append(
                self.code_cell(
                    f"jacobian-{var}",
                    f"J = d.results[{var!r}].jacobian  # explicit, sparse\n"
                    'print("shape", J.shape, "nonzero", J.nnz(), "of", J.rows * J.cols)',
                )
            )
        if (
            step.kind is StepKind.RESULT
            and step.id == f"closed_{var}"
            and var in d.results
        ):
            cells.append(
                self.code_cell(
                    f"closed-{var}",
                    f"r = d.results[{var!r}]\n"
                    "# The chain-rule result and the closed form, compared entry by entry\n"
                    "print(r.derivative.to_sympy() == r.closed.to_sympy())",
                )
            )
        return cells

    def define(self, step: Step, number: int) -> list[dict[str, Any]]:
        return self.step_cells(step, number)

    def jacobian(self, step: Step, number: int) -> list[dict[str, Any]]:
        return self.step_cells(step, number)

    def chain(self, step: Step, number: int) -> list[dict[str, Any]]:
        return self.step_cells(step, number)

    def simplify(self, step: Step, number: int) -> list[dict[str, Any]]:
        return self.step_cells(step, number)

    def result(self, step: Step, number: int) -> list[dict[str, Any]]:
        return self.step_cells(step, number)

    # -- the notebook --------------------------------------------------------------------
    def numeric_source(self) -> str:
        """Random small integers in, symbolic result and NumPy closed form compared."""
        d = self.derivation
        c = d.config
        names = _variable_names(c)
        from ..conventions import PREFIX

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
        checks = 0
        for var in c.wrt:
            res = d.results.get(var)
            if res is None:
                continue
            expr = numpy_code(res.closed_form, names)
            lines.append(f"print({var!r}, np.array_equal(numeric({var!r}), {expr}))")
            checks += 1
        return "\n".join(lines) if checks else ""

    def render(self, d: Derivation) -> str:
        nbformat = _nbformat()

        self._derivation = d
        self._namespace = {"__name__": "__symderiv_notebook__"}
        self._count = 0
        md = self.markdown
        md.bind(d)
        intro = (
            f"# {md.title()}\n\n*{md.subtitle()}.*\n\n## What is derived\n\n"
            + md.blocks(intro_blocks(d))
        )
        cells: list[dict[str, Any]] = [self.markdown_cell("intro", intro)]
        cells.append(
            self.code_cell(
                "setup",
                "from symderiv import derive\n\n"
                f"d = {derive_call(d.config)}\n"
                "print(d.verified)  # True: every result was checked exactly",
            )
        )
        for step_cells in self.steps(d):
            cells.extend(step_cells)
        numeric = self.numeric_source()
        if numeric:
            cells.append(
                self.markdown_cell(
                    "numbers",
                    "## With numbers\n\nThe symbolic results, evaluated at small random "
                    "integers, equal the NumPy one-liners of the closed forms.",
                )
            )
            cells.append(self.code_cell("numeric", numeric))
        cells.append(self.markdown_cell("certificate", md.certificate()))
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


def render_ipynb(derivation: Derivation, **settings: Any) -> str:
    """The derivation as a Jupyter notebook (nbformat 4 JSON).

    Settings: max_entries (12), max_terms (4), upstream ("bar" or "frac"), execute (True:
    run the code cells now, so that the notebook opens with its outputs).
    """
    return NotebookRenderer(**settings).render(derivation)


__all__ = ["NotebookRenderer", "derive_call", "render_ipynb"]
