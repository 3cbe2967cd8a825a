"""One self-contained web page: the article's blocks, maths as MathML, no network at all.

A lecturer can put the file on a course site or open it offline: it loads no script,
stylesheet, font or picture from anywhere (the CSS and the few lines of script are inline,
the maths is MathML that browsers draw natively, sparsity pictures are inline SVG). Every
formula is the LaTeX printer's portable TeX, converted by :mod:`symderiv.render.mathml`,
so the page shows exactly the formulas of the article.

The page:

- wide matrices scroll sideways inside their own box; the page itself never does;
- light and dark colour schemes follow the reader's system (``prefers-color-scheme``);
- printing gives every step in full, without the hint and with no box cut off;
- lecture mode: press L (or open the page with ``#lecture``); → and ← then reveal and hide
  the steps one at a time. Without script the whole page shows.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .. import __version__
from ..algebra import PolyMatrix
from ..notation import Deriv, Explicit
from ..steps import Derivation, Step, StepKind
from .code import numpy_lines
from .latex import (
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
from .mathml import tex_to_mathml

if TYPE_CHECKING:
    from ..compare import Comparison

#: Width (em) of a display line before the LaTeX layout breaks or elides it; wider displays
#: scroll in their box. A little under the text column (measured in Chromium: at 40 em no
#: display of 2×2×3 to 4×4×4 or 1×11×12 needs to scroll).
HTML_WIDTH_EM = 40.0
#: Sparsity pictures are drawn up to this many rows and columns.
SPARSITY_LIMIT = 64

CSS = """\
:root{color-scheme:light dark;--fg:#1d1f23;--bg:#fdfdfb;--muted:#5c626b;--rule:#d3d7dd;
--accent:#1f5fad;--box:#f3f4f6;--ok:#17803d;--bad:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e4e6ea;--bg:#15171b;--muted:#a3a9b2;
--rule:#3b4048;--accent:#8ab4f8;--box:#22252b;--ok:#63d38f;--bad:#ff8a80}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg)}
body{margin:0 auto;max-width:58rem;padding:1.5rem 1.25rem 4rem;
font:17px/1.55 "Latin Modern Roman","STIX Two Text","Cambria","DejaVu Serif",Georgia,serif}
math{font-family:"Latin Modern Math","STIX Two Math","Cambria Math","DejaVu Math TeX Gyre",math}
h1{font-size:1.7rem;line-height:1.25;margin:.5rem 0}
h2{font-size:1.35rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--rule)}
h3{font-size:1.1rem;margin:1.6rem 0 .4rem}
h4{font-size:1rem;margin:1.2rem 0 .3rem}
a{color:var(--accent)}
.subtitle,.meta{color:var(--muted)}
.hint{color:var(--muted);font-size:.9rem}
kbd{border:1px solid var(--rule);border-radius:3px;padding:0 .3em;font-size:.85em}
code,pre{font-family:"Latin Modern Mono","DejaVu Sans Mono",Menlo,Consolas,monospace;
font-size:.92em}
pre{background:var(--box);padding:.6rem .8rem;border-radius:4px;overflow-x:auto}
.display{overflow-x:auto;overflow-y:hidden;margin:.7rem 0;padding:.3rem 0;text-align:center}
.display>math{display:inline math;text-align:initial}
.display:focus-visible{outline:2px solid var(--accent)}
mrow.boxed{border:1px solid currentColor;padding:.25em .4em}
figure{margin:.8rem 0;text-align:center}
figure svg{max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:.9rem}
.sparsity .nz{fill:currentColor}
.sparsity .frame{fill:none;stroke:var(--muted);stroke-width:1}
.sparsity .cut{stroke:var(--accent);stroke-width:1}
.table{overflow-x:auto}
table{border-collapse:collapse;margin:.6rem 0}
th,td{border-bottom:1px solid var(--rule);padding:.3rem .6rem;text-align:left;vertical-align:top}
td.mark{text-align:center}
.ok{color:var(--ok)}.bad{color:var(--bad);font-weight:bold}.muted{color:var(--muted)}
tr.group td{border-top:2px solid var(--rule)}
body.lecture .hint{visibility:hidden}
@media print{
body{max-width:none;font-size:11pt;padding:0}
.hint{display:none}
.display,pre,.table{overflow:visible}
.step,figure,table{break-inside:avoid}
h2,h3{break-after:avoid}
[hidden]{display:block!important}
}
"""

SCRIPT = """\
(function () {
  // Lecture mode: L toggles it; → (or space) reveals the next part, ← hides it again.
  var parts = [].slice.call(document.querySelectorAll(".reveal")), k = 0, on = false;
  function show() {
    parts.forEach(function (p, i) { p.hidden = on && i > k; });
    if (on) { parts[k].scrollIntoView({block: "start"}); }
  }
  function toggle() { on = !on; document.body.classList.toggle("lecture", on); show(); }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var key = e.key;
    if (key === "l" || key === "L") { toggle(); }
    else if (on && (key === "ArrowRight" || key === " " || key === "PageDown")) {
      k = Math.min(k + 1, parts.length - 1); show();
    } else if (on && (key === "ArrowLeft" || key === "PageUp")) {
      k = Math.max(k - 1, 0); show();
    } else { return; }
    e.preventDefault();
  });
  if (location.hash === "#lecture") { toggle(); }
})();
"""


def escape(text: str) -> str:
    """Text for HTML (``&``, ``<``, ``>`` and quotes escaped).

    >>> escape("a < b & c")
    'a &lt; b &amp; c'
    """
    return html.escape(text, quote=True)


def segments_html(segments: Iterable[Segment]) -> str:
    """Prose segments as HTML: text escaped, maths as inline MathML, code in ``<code>``."""
    out: list[str] = []
    for kind, content in segments:
        if kind == "math":
            out.append(tex_to_mathml(content.strip()))
        elif kind == "code":
            out.append(f"<code>{escape(content)}</code>")
        else:
            out.append(escape(content))
    return "".join(out)


def display_html(tex: str) -> str:
    """A display formula in its own box, which scrolls sideways when the formula is wide."""
    return f'<div class="display" tabindex="0">{tex_to_mathml(tex, display=True)}</div>'


def sparsity_svg(
    matrix: PolyMatrix, blocks: tuple[int, int] | None, limit: int = SPARSITY_LIMIT
) -> str:
    """The nonzero pattern of ``matrix`` as an inline SVG, the Kronecker blocks ruled.

    Empty for matrices with more than ``limit`` rows or columns. Nonzeros are filled
    squares in the text colour, so the picture follows the colour scheme.
    """
    rows, cols = matrix.rows, matrix.cols
    if rows > limit or cols > limit:
        return ""
    cell = max(4, min(16, 320 // max(rows, cols)))
    w, h = cols * cell, rows * cell
    dots = "".join(
        f"M{j * cell + 1} {i * cell + 1}h{cell - 2}v{cell - 2}h{2 - cell}z"
        for i, j in sorted(matrix.entries)
    )
    cuts: list[str] = []
    if blocks is not None:
        br, bc = blocks
        cuts += [f"M{j * cell} 0V{h}" for j in range(bc, cols, bc) if bc < cols]
        cuts += [f"M0 {i * cell}H{w}" for i in range(br, rows, br) if br < rows]
    label = (
        f"Nonzero pattern of a {rows} by {cols} matrix: "
        f"{len(matrix.entries)} nonzero entries"
    )
    svg = (
        f'<svg class="sparsity" width="{w}" '
        f'height="{h}" viewBox="-1 -1 {w + 2} {h + 2}" role="img" '
        f'aria-label="{escape(label)}">'
        f'<rect class="frame" x="0" y="0" width="{w}" height="{h}"/>'
        f'<path class="nz" d="{dots}"/>'
        + (f'<path class="cut" d="{"".join(cuts)}"/>' if cuts else "")
        + "</svg>"
    )
    return (
        f"<figure>{svg}<figcaption>Nonzero pattern (filled: nonzero); the lines "
        "separate the Kronecker blocks.</figcaption></figure>"
    )


def html_document(head_title: str, body: str) -> str:
    """A complete HTML5 page around ``body``: inline CSS and script, nothing fetched.

    Args:
        head_title: the title as plain text, for the browser tab.
        body: the page's content (HTML).
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="symderiv {escape(__version__)}">\n'
        # Nothing may load from elsewhere, even if the page is edited later by hand.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{escape(head_title)}</title>\n"
        f"<style>\n{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n"
        f"<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )


class HtmlRenderer(LatexRenderer):
    """The article as a web page: a section per group of steps, MathML displays."""

    name = "html"
    defaults: ClassVar[Mapping[str, object]] = {
        "max_entries": DEFAULT_MAX_ENTRIES,
        "max_terms": DEFAULT_MAX_TERMS,
        "upstream": "bar",
    }
    portable = True
    width_em = HTML_WIDTH_EM

    @property
    def standalone(self) -> bool:
        return True

    @property
    def sparsity(self) -> bool:
        return True

    def text(self, segments: Iterable[Segment]) -> str:
        return segments_html(segments)

    def display(self, tex: str, height: str | None = None) -> str:
        return display_html(tex)

    # -- steps -----------------------------------------------------------------------------
    def heading(self, step: Step, number: int) -> str:
        return (
            f'<section class="step reveal" id="step-{number}">\n'
            f"<h3>Step {number} · {self.text(self.prose(step.title))}</h3>"
        )

    def render_step(self, step: Step, number: int) -> str:
        parts = [self.heading(step, number), *self.displays(step)]
        if step.kind is StepKind.JACOBIAN:
            parts.append(self.pattern(step))
        if step.note:
            parts.append(f"<p>{self.text(self.prose(step.note))}</p>")
        if step.id == "upstream" and self.settings["upstream"] == "bar":
            parts += [
                "<p>Inside the large matrices below the upstream derivatives are "
                "written compactly (the bar marks a derivative of "
                f"{tex_to_mathml('L')}, not a mean):</p>",
                display_html(upstream_definition(self.config)),
            ]
        return "\n".join(p for p in parts if p) + "\n</section>"

    def pattern(self, step: Step) -> str:
        """The nonzero pattern of a Jacobian (an SVG), when the step shows one."""
        for eq in step.equations:
            lhs = eq.parts[0]
            for part in eq.parts:
                if (
                    isinstance(part, Explicit)
                    and isinstance(part.matrix, PolyMatrix)
                    and isinstance(lhs, Deriv)
                    and part.blocks is not None
                ):
                    return sparsity_svg(part.matrix, part.blocks)
        return ""

    def summary(self, step: Step, number: int) -> str:
        parts = [self.heading(step, number), display_html(self.boxed_results(step))]
        if step.note:
            parts.append(f"<p>{self.text(self.prose(step.note))}</p>")
        code = numpy_lines(self.ctx.derivation)
        if code:
            parts += [
                "<p>In NumPy, each gradient in the shape of its variable, as a backward "
                "pass stores it:</p>",
                "<pre><code>" + escape("\n".join(code)) + "</code></pre>",
            ]
        return "\n".join(parts) + "\n</section>"

    # -- the document ----------------------------------------------------------------------
    def blocks(self, blocks: list[Block], level: str = "h3") -> str:
        out: list[str] = []
        for kind, content in blocks:
            if kind == "h":
                out.append(f"<{level}>{escape(content)}</{level}>")
            elif kind == "p":
                out.append(f"<p>{self.text(content)}</p>")
            elif kind == "eq":
                out.append(display_html(content))
            elif kind == "items":
                out.append(
                    "<ul>\n"
                    + "\n".join(f"<li>{self.text(item)}</li>" for item in content)
                    + "\n</ul>"
                )
        return "\n".join(out)

    def certificate(self) -> str:
        d = self.ctx.derivation
        rows = []
        for var, claim, passed, detail in certificate_rows(d):
            mark = (
                '<td class="mark ok">✓</td>'
                if passed
                else '<td class="mark bad">✗</td>'
            )
            rows.append(
                f"<tr><td>{tex_to_mathml(var)}</td><td>{self.text(claim)}</td>{mark}"
                f"<td>{self.text(detail)}</td></tr>"
            )
        verdict = (
            '<p class="ok">All results are verified.</p>'
            if d.verified
            else '<p class="bad">Verification failed (see ✗ above): a result is wrong.</p>'
        )
        return (
            '<section class="reveal" id="certificate">\n<h2>Certificate</h2>\n'
            "<p>Each claim was checked exactly, entry by entry, on the symbolic matrices "
            "above (no floating point, no sampling).</p>\n"
            '<div class="table"><table>\n<thead><tr><th>variable</th><th>claim</th>'
            "<th></th><th>how it was checked</th></tr></thead>\n<tbody>\n"
            + "\n".join(rows)
            + "\n</tbody></table></div>\n"
            + verdict
            + "\n</section>"
        )

    def section_title(self, key: tuple[str, str | None], first: bool) -> str:
        return f"<h2>{self.text(self.section_heading(key, first))}</h2>"

    def render(self, d: Derivation) -> str:
        self.bind(d)
        title = self.title()  # "… affine layer, $Y = …$"
        words, _, formula = title.partition("$")
        title_html = escape(words) + tex_to_mathml(formula.rstrip("$"))
        head_title = words.rstrip(", ") + f" ({d.config.n}×{d.config.d}×{d.config.m})"
        sub, _, rest = self.subtitle().partition("$; ")
        subtitle = tex_to_mathml(sub.lstrip("$")) + "; " + escape(rest)
        body = [
            f"<header>\n<h1>{title_html}</h1>",
            f'<p class="subtitle">{subtitle}</p>',
            f'<p class="meta">Derived and verified by symderiv {escape(__version__)}: '
            f"<code>{escape(command_line(d.config))}</code></p>",
            '<p class="hint">Lecture mode: press <kbd>L</kbd>, then <kbd>→</kbd> and '
            "<kbd>←</kbd> reveal and hide the steps.</p>\n</header>",
            "<main>",
            '<section class="reveal" id="what">\n<h2>What is derived</h2>',
            self.blocks(intro_blocks(d)),
            "</section>",
            self.sections(d),
            self.certificate(),
            '<section class="reveal" id="remarks">\n<h2>Where learners trip</h2>',
            self.blocks(remarks_blocks(d), "h4"),
            "</section>",
            '<section class="reveal" id="background">\n<h2>Mathematical background</h2>',
            self.blocks(background_blocks(), "h4"),
            "</section>",
            "</main>",
        ]
        return html_document(head_title, "\n".join(body))


def _pieces_html(pieces: Iterable[tuple[str, str]]) -> str:
    """Pieces of the conventions page (:mod:`symderiv.compare`) as HTML."""
    out: list[str] = []
    for kind, text in pieces:
        if kind in ("math", "dim-math"):
            math = tex_to_mathml(text)
            out.append(
                f'<span class="muted">{math}</span>' if kind == "dim-math" else math
            )
        elif kind == "dim":
            out.append(f'<span class="muted">{escape(text)}</span>')
        elif kind == "mark":
            out.append(
                f'<span class="{"ok" if text == "✓" else "bad"}">{escape(text)}</span>'
            )
        else:
            out.append(escape(text))
    return "".join(out)


def _words_and_maths(
    tex: list[tuple[str, str]], text: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The words of the text version of a paragraph with the formulas of its LaTeX one."""
    return [
        a if b[0] in ("math", "dim-math") else b for a, b in zip(tex, text, strict=True)
    ]


def comparison_html(c: Comparison) -> str:
    """``symderiv conventions`` as one self-contained page (see :func:`render_html`)."""
    from ..compare import notes, tables

    page, words = notes(c, latex=True), notes(c)

    def paragraphs(key: str) -> list[str]:
        return [
            f"<p>{_pieces_html(_words_and_maths(a, b))}</p>"
            for a, b in zip(page[key], words[key], strict=True)
        ]

    title = f"The conventions side by side at N={c.n}, D={c.d}, M={c.m}"
    body = [
        f"<header>\n<h1>{escape(title)}</h1>",
        "<p>In column, C_in = D and C_out = M.</p>",
    ]
    body += paragraphs("intro") + ["</header>", "<main>"]
    for k, table in enumerate(tables(c, latex=True)):
        head = "".join(f"<th>{_pieces_html(h)}</th>" for h in table.header)
        rows = []
        for r, row in enumerate(table.rows):
            cls = ' class="group"' if r in table.sections else ""
            cells = "".join(f"<td>{_pieces_html(cell)}</td>" for cell in row)
            rows.append(f"<tr{cls}>{cells}</tr>")
        body += [
            f"<section>\n<h2>{escape(table.title)}</h2>",
            f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>',
            *rows,
            "</tbody></table></div>",
        ]
        if k == 1:
            body += paragraphs("k")
        body.append("</section>")
    body += ["<section>\n<h2>Why they agree</h2>", *paragraphs("why"), "</section>"]
    body.append(f'<p class="meta"><em>{_pieces_html(words["sources"][0])}</em></p>')
    verdict = (
        '<p class="ok">Every row verified.</p>'
        if c.verified
        else '<p class="bad">Verification FAILED.</p>'
    )
    body += [verdict, "</main>"]
    return html_document(title, "\n".join(body))


def render_html(derivation: Derivation, **settings: Any) -> str:
    """The derivation as one self-contained HTML page with MathML maths.

    Settings: max_entries (12), max_terms (4), upstream ("bar" or "frac").
    """
    return HtmlRenderer(**settings).render(derivation)


__all__ = [
    "HtmlRenderer",
    "comparison_html",
    "html_document",
    "render_html",
    "segments_html",
    "sparsity_svg",
]
