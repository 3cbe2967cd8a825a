"""Markdown (GitHub and Jupyter): prose, with the mathematics in ``$$ … $$`` blocks.

Every formula comes from the LaTeX printer (:mod:`symderiv.render.latex`) in its portable
(MathJax-friendly) mode; this module never builds TeX itself. It only arranges the
pieces: headings, paragraphs, ``$$`` blocks (no blank line inside, no line that Markdown
could take for a list or a heading), the certificate as a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from .. import __version__
from ..algebra import PolyMatrix
from ..notation import Deriv, Explicit
from ..steps import Derivation, Step, StepKind
from .code import numpy_lines
from .latex import (
    ARTICLE_WIDTH_EM,
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_TERMS,
    Block,
    LatexRenderer,
    Segment,
    background_blocks,
    certificate_rows,
    command_line,
    intro_blocks,
    remarks_blocks,
    upstream_definition,
)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~])")
#: A line of a math block that Markdown could read as a list item, quote or heading.
_RISKY_LINE = re.compile(r"^\s*([-+*>#|=]|\d+[.)])")


def markdown_escape(text: str) -> str:
    """Plain text for Markdown: characters with a meaning escaped with a backslash.

    >>> markdown_escape("x_1 * y")
    'x\\\\_1 \\\\* y'
    """
    return _MD_SPECIAL.sub(r"\\\1", text)


def segments_markdown(segments: Iterable[Segment]) -> str:
    """Segments as Markdown: text escaped, math in ``$…$``, code in backticks."""
    out: list[str] = []
    for kind, content in segments:
        if kind == "math":
            out.append(f"${content.strip()}$")
        elif kind == "code":
            out.append(f"`{content}`")
        else:
            out.append(markdown_escape(content))
    return "".join(out)


def sparsity_text(matrix: PolyMatrix, blocks: tuple[int, int], limit: int = 24) -> str:
    """A fenced block drawing the nonzeros (■) and zeros (·), rules between the blocks.

    Empty for matrices with more than ``limit`` rows or columns.
    """
    if matrix.rows > limit or matrix.cols > limit:
        return ""
    br, bc = blocks
    lines: list[str] = []
    for i in range(matrix.rows):
        cells: list[str] = []
        for j in range(matrix.cols):
            if j and j % bc == 0 and bc < matrix.cols:
                cells.append("│")
            cells.append("■" if (i, j) in matrix.entries else "·")
        row = " ".join(cells)
        if i and i % br == 0 and br < matrix.rows:
            lines.append("".join("┼" if ch == "│" else "─" for ch in row))
        lines.append(row)
    return (
        "Nonzero pattern (■ nonzero, · zero; the rules separate the Kronecker blocks):\n\n"
        "```text\n" + "\n".join(lines) + "\n```"
    )


def math_block(tex: str) -> str:
    """``tex`` in a ``$$`` block: no blank line inside, no risky line start."""
    lines = []
    for line in tex.split("\n"):
        if not line.strip():
            continue
        lines.append("{}" + line if _RISKY_LINE.match(line) else line)
    return "$$\n" + "\n".join(lines) + "\n$$"


class MarkdownRenderer(LatexRenderer):
    """Each step as a level-3 heading, its displays as ``$$`` blocks, its note as prose."""

    name = "markdown"
    defaults: ClassVar[Mapping[str, object]] = {
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "upstream": "bar",
    }
    portable = True
    # Rendered Markdown is about as wide as the article; wider maths scrolls sideways.
    width_em = ARTICLE_WIDTH_EM

    @property
    def standalone(self) -> bool:
        return True

    @property
    def sparsity(self) -> bool:
        return False

    def text(self, segments: Iterable[Segment]) -> str:
        return segments_markdown(segments)

    def display(self, tex: str, height: str | None = None) -> str:
        return math_block(tex)

    # -- steps -----------------------------------------------------------------------------
    def render_step(self, step: Step, number: int) -> str:
        parts = [f"### Step {number} · {self.text(self.prose(step.title))}", ""]
        for display in self.displays(step):
            parts += [display, ""]
        if step.kind is StepKind.JACOBIAN:
            pattern = self.pattern(step)
            if pattern:
                parts += [pattern, ""]
        if step.note:
            parts += [self.text(self.prose(step.note)), ""]
        if step.id == "upstream" and self.settings["upstream"] == "bar":
            parts += [
                "Inside the large matrices below the upstream derivatives are written "
                "compactly (the bar marks a derivative of $L$, not a mean):",
                "",
                math_block(upstream_definition(self.config)),
                "",
            ]
        return "\n".join(parts)

    def pattern(self, step: Step) -> str:
        """The nonzero pattern of a small Jacobian as text (■ nonzero, · zero), with blocks."""
        for eq in step.equations:
            lhs = eq.parts[0]
            for part in eq.parts:
                if (
                    isinstance(part, Explicit)
                    and isinstance(part.matrix, PolyMatrix)
                    and isinstance(lhs, Deriv)
                    and part.blocks is not None
                ):
                    return sparsity_text(part.matrix, part.blocks)
        return ""

    def summary(self, step: Step, number: int) -> str:
        parts = [
            f"### Step {number} · {self.text(self.prose(step.title))}",
            "",
            math_block(self.boxed_results(step)),
            "",
        ]
        if step.note:
            parts += [self.text(self.prose(step.note)), ""]
        code = numpy_lines(self.ctx.derivation)
        if code:
            parts += ["In NumPy:", "", "```python", *code, "```", ""]
        return "\n".join(parts)

    # -- the document ----------------------------------------------------------------------
    def blocks(self, blocks: list[Block], level: str = "###") -> str:
        out: list[str] = []
        for kind, content in blocks:
            if kind == "h":
                out += [f"{level} {markdown_escape(content)}", ""]
            elif kind == "p":
                out += [self.text(content), ""]
            elif kind == "eq":
                out += [math_block(content), ""]
            elif kind == "items":
                out += [f"- {self.text(item)}" for item in content] + [""]
        return "\n".join(out)

    def certificate(self) -> str:
        d = self.ctx.derivation
        rows = [
            "## Certificate",
            "",
            "Each claim was checked exactly, entry by entry, on the symbolic matrices above.",
            "",
            "| variable | claim | | how it was checked |",
            "|---|---|:-:|---|",
        ]
        for var, claim, passed, detail in certificate_rows(d):
            rows.append(
                f"| ${var}$ | {self.text(claim)} | {'✓' if passed else '✗'} | "
                f"{self.text(detail)} |"
            )
        rows += [
            "",
            "All results are verified."
            if d.verified
            else "**Verification failed** (see ✗ above): a result is wrong.",
            "",
        ]
        return "\n".join(rows)

    def section_title(self, key: tuple[str, str | None], first: bool) -> str:
        return "## " + self.text(self.section_heading(key, first)) + "\n"

    def render(self, d: Derivation) -> str:
        self.bind(d)
        parts = [
            f"# {self.title()}",
            "",
            f"*{self.subtitle()}. Derived and verified by symderiv {__version__}:* "
            f"`{command_line(d.config)}`",
            "",
            "## What is derived",
            "",
            self.blocks(intro_blocks(d)),
            self.sections(d),
            self.certificate(),
            "## Where learners trip",
            "",
            self.blocks(remarks_blocks(d), "####"),
            "## Mathematical background",
            "",
            self.blocks(background_blocks(), "####"),
        ]
        text = "\n".join(parts)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.rstrip("\n") + "\n"


def render_markdown(derivation: Derivation, **settings: Any) -> str:
    """The derivation as Markdown with ``$$ … $$`` maths (GitHub, Jupyter).

    Settings: max_entries (12), max_terms (4), upstream ("bar" or "frac").
    """
    return MarkdownRenderer(**settings).render(derivation)


__all__ = [
    "MarkdownRenderer",
    "markdown_escape",
    "math_block",
    "render_markdown",
    "segments_markdown",
]
