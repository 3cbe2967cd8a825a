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

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape  # & < > and quotes
from typing import Any, ClassVar

from .. import __version__, notes
from ..algebra import PolyMatrix
from ..notes import Prose
from ..steps import Derivation
from .formula import prose_plain
from .latex import TexLayout
from .markdown import ProsePrinter, ProseSettings
from .mathml import tex_to_mathml
from .page import (
    Background,
    Block,
    CertificateTable,
    Code,
    Heading,
    Items,
    Level,
    PageTitle,
    Remarks,
    Section,
    ShapeLedger,
    Sparsity,
    StepGroup,
    Table,
    TableCell,
    Verdict,
)

#: Width (em) of a display line before the LaTeX layout breaks or elides it; wider displays
#: scroll in their box. A little under the text column (measured in Chromium: at 40 em no
#: display of 2×2×3 to 4×4×4 or 1×11×12 needs to scroll).
HTML_WIDTH_EM = 40.0
#: Sparsity pictures are drawn up to this many rows and columns.
SPARSITY_LIMIT = 64
#: Inline maths with the brackets before it and the punctuation after it, which must not
#: end or begin a line: a browser may break on either side of a <math> element. (Prose
#: reaches HTML escaped, so every <math> there is a formula.)
GLUED = re.compile(r"([(\[]*)(<math\b.*?</math>)([,.;:!?)\]]*)", re.S)

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
.nowrap{white-space:nowrap}
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


def display_html(tex: str, kind: str = "") -> str:
    """A display formula in its own box, which scrolls sideways when the formula is wide.

    ``kind`` is an extra class of the box (``entry``: a chain-rule entry written out).
    """
    cls = f"display {kind}" if kind else "display"
    math = tex_to_mathml(tex, display=True)
    return f'<div class="{cls}" tabindex="0">{math}</div>'


def sparsity_svg(
    matrix: PolyMatrix,
    blocks: tuple[int, int] | None,
    caption: str,
    limit: int = SPARSITY_LIMIT,
) -> str:
    """The nonzero pattern of ``matrix`` as an inline SVG, the Kronecker blocks ruled.

    Empty for matrices with more than ``limit`` rows or columns. Nonzeros are filled
    squares in the text colour, so the picture follows the colour scheme; ``caption`` is
    HTML.
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
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def mark(passed: bool, tag: str, cls: str = "") -> str:
    """✓ (class ok) or ✗ (class bad) as an element ``tag``; ``cls``: classes before."""
    ok, sign = ("ok", "✓") if passed else ("bad", "✗")
    return f'<{tag} class="{cls}{ok}">{sign}</{tag}>'


def table_html(header: Iterable[str], rows: Iterable[str]) -> str:
    """A table that scrolls sideways when it is wide: the header cells, then the rows
    (``<tr>…</tr>``), all HTML."""
    head = "".join(f"<th>{h}</th>" for h in header)
    return (
        f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
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


@dataclass(frozen=True)
class HtmlSettings(ProseSettings):
    """Settings of the HTML printer."""

    printer: ClassVar[str] = "html"


class HtmlPrinter(ProsePrinter[HtmlSettings]):
    """The page as HTML: parts and steps as sections, every formula as MathML."""

    name = "html"
    settings_type = HtmlSettings
    sep = "\n"
    width_em = HTML_WIDTH_EM

    def words(self, text: str) -> str:
        return escape(text)

    def code_span(self, code: str) -> str:
        return f"<code>{escape(code)}</code>"

    def inline(self, tex: str) -> str:
        return tex_to_mathml(tex)

    def subtitle(self, block: PageTitle) -> str:
        """The sizes, then the settings, as one sentence (its maths kept with the
        punctuation after it)."""
        sizes, *rest = block.settings
        return self.text((*sizes, "; ", *notes.joined(rest[:-1], ", ")))

    def text(self, prose: Prose) -> str:
        """Prose with its maths inline; maths and the punctuation touching it (x, or (x)
        in one no-wrap span, so that no line starts with the comma after a formula."""
        return GLUED.sub(
            lambda m: f'<span class="nowrap">{m[0]}</span>' if m[1] or m[3] else m[0],
            super().text(prose),
        )

    def math(self, tex: str) -> str:
        return display_html(tex)

    def displays(self, make: Callable[[TexLayout], list[str]], kind: str = "") -> str:
        return "\n".join(display_html(tex, kind) for tex in make(self.tex))

    def para(self, text: str) -> str:
        return f"<p>{text}</p>"

    def part(self, head: str, title: Prose, blocks: tuple[Block, ...]) -> str:
        """A ``<section>`` opened by ``head``, its title a level-2 heading."""
        return (
            f"{head}\n<h2>{self.text(title)}</h2>\n"
            + self.join(blocks)
            + "\n</section>"
        )

    def document(self, blocks: tuple[Block, ...]) -> str:
        title = blocks[0]
        assert isinstance(title, PageTitle)
        c = title.config
        head_title = f"{prose_plain(title.title, self.letters)} ({c.n}×{c.d}×{c.m})"
        body = self.blocks(blocks)
        main = "\n".join(out for out in body[1:] if out)
        return html_document(head_title, f"{body[0]}\n<main>\n{main}\n</main>")

    # -- the blocks ------------------------------------------------------------------------
    def page_title(self, block: PageTitle) -> str:
        return (
            f"<header>\n<h1>{self.text(block.title)}</h1>\n"
            f'<p class="subtitle">{self.subtitle(block)}</p>\n'
            f'<p class="meta">Derived and verified by symderiv {escape(__version__)}: '
            f"<code>{escape(block.command)}</code></p>\n"
            '<p class="hint">Lecture mode: press <kbd>L</kbd>, then <kbd>→</kbd> and '
            "<kbd>←</kbd> reveal and hide the steps.</p>\n</header>"
        )

    def section(self, block: Section) -> str:
        # A part holding steps shows its heading; the steps are revealed one by one.
        steps = any(isinstance(b, StepGroup) for b in block.blocks)
        cls = "part" if steps else "part reveal"
        return self.part(f'<section class="{cls}">', block.title, block.blocks)

    def step_group(self, block: StepGroup) -> str:
        return (
            f'<section class="step reveal" id="step-{block.number}">\n'
            f"<h3>Step {block.number} · {self.sentence(block.step.title)}</h3>\n"
            + self.join(block.blocks)
            + "\n</section>"
        )

    def heading(self, block: Heading) -> str:
        tag = {Level.PAGE: "h1", Level.PART: "h2"}.get(block.level, "h3")
        return f"<{tag}>{self.text(block.title)}</{tag}>"

    def items(self, block: Items) -> str:
        lis = "\n".join(f"<li>{self.text(i)}</li>" for i in block.items)
        return f"<ul>\n{lis}\n</ul>"

    def join_ledger(self, items: list[str]) -> str:
        """As in Markdown, each formula kept with its ";" (no line starts with it)."""
        kept = [f'<span class="nowrap">{item};</span>' for item in items[:-1]]
        return " ".join([*kept, *items[-1:]])

    def shape_ledger(self, block: ShapeLedger) -> str:
        ledger = self.ledger(block)
        return f'<p class="ledger"><em>{self.text(notes.LEDGER)}</em> {ledger}</p>'

    def sparsity(self, block: Sparsity) -> str:
        return sparsity_svg(block.matrix, block.blocks, self.text(block.caption))

    def code(self, block: Code) -> str:
        code = escape("\n".join(block.lines))
        return f"<p>{self.text(block.intro)}</p>\n<pre><code>{code}</code></pre>"

    def certificate(self, block: CertificateTable) -> str:
        rows = [
            f"<tr><td>{var}</td><td>{claim}</td>{mark(passed, 'td', 'mark ')}"
            f"<td>{detail}</td></tr>"
            for var, claim, passed, detail in self.checks(block)
        ]
        header = ("variable", "claim", "", "how it was checked")
        verdict = (
            f'<p class="ok">{self.text(notes.VERIFIED)}</p>'
            if block.verified
            else '<p class="bad">Verification failed (see ✗ above): a result is wrong.</p>'
        )
        # a certificate split over several tables: one heading (and one id), the verdict
        # after the last
        opening = (
            '<section class="reveal">\n'
            if block.continued
            else (
                '<section class="reveal" id="certificate">\n'
                f"<h2>{self.text(notes.CERTIFICATE)}</h2>\n"
            )
        )
        return (
            f"{opening}<p>{self.text(block.intro)}</p>\n{table_html(header, rows)}\n"
            + ("" if block.continues else f"{verdict}\n")
            + "</section>"
        )

    def cell(self, cell: TableCell) -> str:
        out = self.text(cell.prose)
        if cell.aside:
            out += f'<span class="muted">{self.text(cell.aside)}</span>'
        if cell.passed is not None:
            out += " " + mark(cell.passed, "span")
        return out

    def table(self, block: Table) -> str:
        rows = [
            ('<tr class="group">' if g and not r else "<tr>")
            + "".join(f"<td>{self.cell(c)}</td>" for c in row)
            + "</tr>"
            for g, group in enumerate(block.groups)
            for r, row in enumerate(group)
        ]
        header = (self.text(h) for h in block.header)
        return f"{self.heading(Heading(block.title, Level.PART))}\n" + table_html(
            header, rows
        )

    def verdict(self, block: Verdict) -> str:
        return (
            f'<p class="{"ok" if block.passed else "bad"}">{self.text(block.prose)}</p>'
        )

    def remarks(self, block: Remarks | Background) -> str:
        """The remarks or the background: a part revealed as one, with its id."""
        name = "remarks" if isinstance(block, Remarks) else "background"
        head = f'<section class="reveal" id="{name}">'
        return self.part(head, block.title, block.blocks)

    background = remarks


def render_html(derivation: Derivation, **settings: Any) -> str:
    """The derivation as one self-contained HTML page with MathML maths.

    Settings: max_entries (12), max_terms (6), upstream ("bar" or "frac").
    """
    return HtmlPrinter(**settings).render(derivation)


__all__ = [
    "HtmlPrinter",
    "HtmlSettings",
    "html_document",
    "render_html",
    "sparsity_svg",
]
