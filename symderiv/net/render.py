"""Printers for a network derivation: plain text, LaTeX (article), Beamer and Markdown.

Self-contained (the format-neutral page model may replace the walk later): each printer
walks ``NetDerivation.steps`` and draws every ``Equation`` with :mod:`.formula`; explicit
matrices are drawn entry by entry, elided past ``max_entries`` rows or columns (display
only), long entries shortened to their first terms. The certificate comes last.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from ..algebra import Poly, PolyMatrix
from ..notation import Equation, Explicit, Node, Prod, Text
from ..notes import F, Prose
from .engine import NetDerivation
from .formula import entry_latex, entry_text, formula_latex, formula_text

MAX_TERMS = 4


# -- entries ---------------------------------------------------------------------------------
def poly_text(p: Poly, max_terms: int = MAX_TERMS) -> str:
    """A polynomial as Unicode text: "x₁,₁·w⁽¹⁾₁,₁ + b⁽¹⁾₁", long sums elided with ⋯."""
    return _poly(p, entry_text, "·", max_terms, "⋯", lambda a, b: f"{a}/{b}")


def poly_latex(p: Poly, max_terms: int = MAX_TERMS) -> str:
    """A polynomial in LaTeX: "x_{1,1} w^{(1)}_{1,1} + b^{(1)}_{1}"."""
    return _poly(
        p, entry_latex, " ", max_terms, "\\cdots", lambda a, b: f"\\tfrac{{{a}}}{{{b}}}"
    )


def _poly(
    p: Poly,
    name: Callable[[str], str],
    times: str,
    max_terms: int,
    dots: str,
    frac: Callable[[str, str], str],
) -> str:
    if not p.terms:
        return "0"
    items = list(p.terms.items())
    shown = items if len(items) <= max_terms else items[: max_terms - 1] + [items[-1]]
    out: list[str] = []
    for k, (mono, c) in enumerate(shown):
        if k == max_terms - 1 and len(items) > max_terms:
            out.append(f" + {dots}")
        neg = c < 0
        mag = -c if neg else c
        factors = [name(f) for f in mono]
        num, den = (
            (mag.numerator, mag.denominator)
            if hasattr(mag, "denominator")
            else (mag, 1)
        )
        body = times.join(factors)
        if not factors:
            body = str(num) if den == 1 else frac(str(num), str(den))
        elif den != 1:
            lead = "" if num == 1 else f"{num}{times}"
            body = (
                frac(lead.rstrip(times) or "1", str(den)) + times + body
                if num != 1
                else frac("1", str(den)) + times + body
            )
        elif num != 1:
            body = f"{num}{times}{body}"
        if not out:
            out.append(
                f"−{body}" if neg and dots == "⋯" else (f"-{body}" if neg else body)
            )
        else:
            out.append(
                (" − " if dots == "⋯" else " - ") + body if neg else " + " + body
            )
    return "".join(out)


def _words(prose: str | Prose) -> str:
    """A title or note as plain text (the network engine writes plain strings)."""
    if isinstance(prose, str):
        return prose
    out = []
    for seg in prose:
        if isinstance(seg, str):
            out.append(seg)
        elif isinstance(seg, F):
            out.append(formula_text(seg.node))
        else:
            out.append(seg.text)
    return "".join(out)


def _shown(size: int, limit: int) -> list[int | None]:
    """Indices to show, None where ⋯ goes (first limit-2, ⋯, last)."""
    if size <= limit:
        return list(range(size))
    head = max(1, limit - 2)
    return [*range(head), None, size - 1]


# -- text ------------------------------------------------------------------------------------
def matrix_text(m: PolyMatrix, max_entries: int) -> list[str]:
    """Bracketed lines of a matrix, columns aligned; ⋯ ⋮ ⋱ past ``max_entries``."""
    rows, cols = _shown(m.rows, max_entries), _shown(m.cols, max_entries)
    cells = [
        [
            (
                "⋱"
                if i is None and j is None
                else "⋮"
                if i is None
                else "⋯"
                if j is None
                else poly_text(m[i, j])
            )
            for j in cols
        ]
        for i in rows
    ]
    widths = [max(len(r[c]) for r in cells) for c in range(len(cols))]
    lines = [
        "  ".join(
            cell.center(widths[c]) if cell in "⋮⋱" else cell.rjust(widths[c])
            for c, cell in enumerate(r)
        )
        for r in cells
    ]
    if len(lines) == 1:
        return [f"[{lines[0]}]"]
    out = []
    for k, line in enumerate(lines):
        left, right = (
            ("⎡", "⎤") if k == 0 else ("⎣", "⎦") if k == len(lines) - 1 else ("⎢", "⎥")
        )
        out.append(f"{left}{line}{right}")
    return out


def _hjoin(blocks: list[list[str]], sep: str = " = ") -> list[str]:
    height = max(len(b) for b in blocks)
    mid = (height - 1) // 2
    out = [""] * height
    for k, b in enumerate(blocks):
        w = max(len(s) for s in b)
        top = mid - (len(b) - 1) // 2
        for r in range(height):
            src = r - top
            piece = b[src] if 0 <= src < len(b) else ""
            if k:
                out[r] += sep if r == mid else " " * len(sep)
            out[r] += piece.ljust(w)
    return [s.rstrip() for s in out]


def equation_text(eq: Equation, max_entries: int) -> list[str]:
    blocks: list[list[str]] = []
    for part in eq.parts:
        if isinstance(part, Explicit):
            m = part.matrix
            blocks.append([*matrix_text(m, max_entries)])
            blocks[-1][(len(blocks[-1]) - 1) // 2] += f" ({m.rows}×{m.cols})"
        elif isinstance(part, Prod) and all(isinstance(a, Explicit) for a in part.args):
            blocks.append(
                _hjoin([matrix_text(a.matrix, max_entries) for a in part.args], "·")  # type: ignore[attr-defined]
            )
        else:
            blocks.append([formula_text(part)])
    return _hjoin(blocks)


def render_net_text(
    derivation: NetDerivation, width: int = 100, max_entries: int = 8
) -> str:
    """The plain-text view: every step titled and numbered, then the certificate."""
    c = derivation.config
    out = [
        f"Backpropagation through the network {c.net.text}",
        f"N={c.n}, widths {' → '.join(map(str, c.widths()))} · convention {c.convention} · "
        f"vec order {c.vec} · {c.layout} layout · loss {c.loss}",
        "",
    ]
    for k, step in enumerate(derivation.steps, start=1):
        title = f"Step {k} · {step.title} "
        out.append(title + "─" * max(3, width - len(title)))
        for eq in step.equations:
            lines = equation_text(eq, max_entries)
            if len(lines) > 1 and out[-1] != "" and not out[-1].endswith("─"):
                out.append("")  # a matrix stands apart from one-line equations
            out += lines
            if len(lines) > 1:
                out.append("")
        if out[-1] != "":
            out.append("")
        if step.note:
            out += textwrap.wrap(_words(step.note), width)
        out.append("")
    out.append("Certificate " + "─" * (width - 12))
    for check in derivation.checks:
        mark = "✓" if check.passed else "✗"
        out.append(f"{mark} {check.wrt:<4} {check.claim}: {check.detail}")
    verdict = "every check passed" if derivation.verified else "A CHECK FAILED"
    out.append(
        f"{verdict} ({sum(ch.passed for ch in derivation.checks)} of {len(derivation.checks)})"
    )
    return "\n".join(out) + "\n"


# -- LaTeX -----------------------------------------------------------------------------------
def matrix_latex(m: PolyMatrix, max_entries: int) -> str:
    rows, cols = _shown(m.rows, max_entries), _shown(m.cols, max_entries)
    lines = []
    for i in rows:
        cells = []
        for j in cols:
            if i is None:
                cells.append("\\ddots" if j is None else "\\vdots")
            elif j is None:
                cells.append("\\cdots")
            else:
                cells.append(poly_latex(m[i, j], 3))
        lines.append(" & ".join(cells) + " \\\\")
    body = "\n".join(lines)
    return f"\\begin{{bmatrix}}\n{body}\n\\end{{bmatrix}}"


def _part_latex(part: Node, max_entries: int) -> str:
    if isinstance(part, Text):
        return "\\text{" + prose_latex(part.text) + "}"
    if isinstance(part, Explicit):
        return matrix_latex(part.matrix, max_entries)
    if isinstance(part, Prod) and all(isinstance(a, Explicit) for a in part.args):
        return " ".join(matrix_latex(a.matrix, max_entries) for a in part.args)  # type: ignore[attr-defined]
    return formula_latex(part)


def _fits(eq: Equation, max_entries: int) -> bool:
    return True


def equation_latex(eq: Equation, max_entries: int) -> str:
    """One equation as a display (scaled to the line width when wide)."""
    parts = [_part_latex(p, max_entries) for p in eq.parts]
    body = " = ".join(parts)
    fit = "\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi"  # shrink, never grow
    return f"\\[\n\\resizebox{{{fit}}}{{!}}{{$\\displaystyle {body}$}}\n\\]"


def _text_latex(text: str) -> str:
    """Prose with its maths: Unicode letters and symbols mapped, specials escaped."""
    from ..render.latex import tex_escape_text  # type: ignore[attr-defined]

    return str(tex_escape_text(text))


_SUPERS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻", "0123456789()-", strict=True))
_SUBS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True))
_PROSE_MATH = {
    "→": "\\to",
    "−": "-",
    "·": "\\cdot",
    "Σ": "\\Sigma",
    "∂": "\\partial",
    "δ": "\\delta",
    "σ": "\\sigma",
    "⊙": "\\odot",
    "⊗": "\\otimes",
    "ᵀ": "^{T}",
    "²": "^{2}",
    "×": "\\times",
    "≠": "\\neq",
    "ℓ": "\\ell",
    "≤": "\\le",
    "‖": "\\|",
    "✓": "\\checkmark",
    "✗": "\\times",
}
_PROSE_TEXT = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
    "’": "'",
    ">": "$>$",
    "<": "$<$",
    "|": "$|$",
    "—": "---",
    "–": "--",
}
_IDENT = re.compile(r"([A-Za-z]+)(\d*)_([A-Za-z0-9]+)")


def prose_latex(text: str) -> str:
    """Plain prose to LaTeX text mode: names like z1_ij and Unicode maths become math."""
    out: list[str] = []
    k = 0
    while k < len(text):
        m = _IDENT.match(text, k)
        if m and (k == 0 or not text[k - 1].isalnum()):
            letters, layer, index = m.groups()
            sup = f"^{{({layer})}}" if layer else ""
            out.append(f"${letters}{sup}_{{{index}}}$")
            k = m.end()
            continue
        ch = text[k]
        sub = re.match(r"_([A-Za-z0-9]+)", text[k:])
        if (
            sub and out and out[-1].endswith("$")
        ):  # Σ_ij: a subscript of the maths before
            out.append(f"$_{{{sub.group(1)}}}$")
            k += sub.end()
            continue
        if ch in _SUPERS or ch in _SUBS:
            table, mark = (_SUPERS, "^") if ch in _SUPERS else (_SUBS, "_")
            run = ""
            while k < len(text) and text[k] in table:
                run += table[text[k]]
                k += 1
            out.append(f"${mark}{{{run}}}$")
            continue
        if ch in _PROSE_MATH:
            out.append(f"${_PROSE_MATH[ch]}$")
        elif ch in _PROSE_TEXT:
            out.append(_PROSE_TEXT[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
        k += 1
    return "".join(out).replace("$$", "${}$")  # "$$" would open display maths


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb,graphicx,longtable}
\setcounter{MaxMatrixCols}{40}
\title{Backpropagation through the network %s}
\author{symderiv}
\date{}
\begin{document}
\maketitle
"""


def _certificate_rows(derivation: NetDerivation) -> list[str]:
    rows = []
    for check in derivation.checks:
        mark = "$\\checkmark$" if check.passed else "$\\times$"
        rows.append(
            f"{mark} & {prose_latex(check.wrt)} & {prose_latex(check.claim)} \\\\"
        )
    return rows


def _certificate_latex(rows: list[str], env: str = "tabular") -> str:
    return (
        f"\\begin{{{env}}}{{llp{{0.8\\linewidth}}}}\n\\hline\n & var & claim \\\\\n\\hline\n"
        + "\n".join(rows)
        + f"\n\\hline\n\\end{{{env}}}\n"
    )


def render_net_latex(
    derivation: NetDerivation, max_entries: int = 8, standalone: bool = True
) -> str:
    """A LaTeX article: every step a subsection, its equations displayed, the certificate."""
    c = derivation.config
    out = [_PREAMBLE % prose_latex(c.net.text)] if standalone else []
    out.append(
        prose_latex(
            f"N = {c.n}, widths {' → '.join(map(str, c.widths()))}; convention {c.convention}, "
            f"vec order {c.vec}, {c.layout} layout, loss {c.loss}. Entries of layer ℓ carry "
            "(ℓ) as a superscript; dz and da are the upstream derivatives ∂L/∂z and ∂L/∂a."
        )
        + "\n"
    )
    for k, step in enumerate(derivation.steps, start=1):
        out.append(f"\\subsection*{{{k}. {prose_latex(_words(step.title))}}}")
        for eq in step.equations:
            out.append(equation_latex(eq, max_entries))
        if step.note:
            out.append(prose_latex(_words(step.note)) + "\n")
    out.append("\\section*{Certificate}")
    out.append(_certificate_latex(_certificate_rows(derivation), "longtable"))
    if standalone:
        out.append("\\end{document}")
    return "\n".join(out) + "\n"


def render_net_beamer(derivation: NetDerivation, max_entries: int = 6) -> str:
    """Beamer slides: one frame per step (long steps continue on the next frame)."""
    c = derivation.config
    max_entries = min(max_entries, 6)  # a slide holds about six matrix rows
    out = [
        "\\documentclass[aspectratio=169]{beamer}",
        "\\usepackage{amsmath,amssymb,graphicx}",
        "\\setcounter{MaxMatrixCols}{40}",
        "\\setbeamertemplate{navigation symbols}{}",
        "\\setbeamertemplate{frametitle continuation}{}",
        f"\\title{{Backpropagation through {prose_latex(c.net.text)}}}",
        "\\author{symderiv}\\date{}",
        "\\begin{document}",
        "\\frame{\\titlepage}",
    ]
    for step in derivation.steps:
        out.append(f"\\begin{{frame}}[allowframebreaks]{{{prose_latex(_words(step.title))}}}")
        out.append("\\small")
        for k, eq in enumerate(step.equations, start=1):
            out.append(
                f"\\uncover<{k}->{{"
                if len(step.equations) > 1 and step.kind.value == "chain"
                else "{"
            )
            out.append(equation_latex(eq, max_entries))
            out.append("}")
        if step.note:
            out.append("{\\footnotesize " + prose_latex(_words(step.note)) + "}")
        out.append("\\end{frame}")
    rows = _certificate_rows(derivation)
    for start in range(0, len(rows), 12):  # a tabular cannot break across frames
        out.append("\\begin{frame}{Certificate}\\scriptsize")
        out.append(_certificate_latex(rows[start : start + 12]))
        out.append("\\end{frame}")
    out.append("\\end{document}")
    return "\n".join(out) + "\n"


def render_net_markdown(derivation: NetDerivation, max_entries: int = 8) -> str:
    """Markdown with $$ … $$ maths (the LaTeX printer's equations)."""
    c = derivation.config
    out = [f"# Backpropagation through the network `{c.net.text}`", ""]
    for k, step in enumerate(derivation.steps, start=1):
        out.append(f"## {k}. {_words(step.title)}")
        out.append("")
        for eq in step.equations:
            body = " = ".join(_part_latex(p, max_entries) for p in eq.parts).replace(
                "\n", " "
            )
            out += ["$$", body, "$$", ""]
        if step.note:
            out += [_words(step.note), ""]
    out.append("## Certificate")
    out.append("")
    for check in derivation.checks:
        out.append(f"- {'✓' if check.passed else '✗'} {check.wrt}: {check.claim}")
    return "\n".join(out) + "\n"


def render_net(derivation: NetDerivation, fmt: str, **settings: object) -> str:
    """``derivation`` in format ``fmt``: text, json, latex, beamer or markdown."""
    from ..errors import ChoiceError

    if fmt in ("text", "rich"):
        return render_net_text(derivation, **settings)  # type: ignore[arg-type]
    if fmt == "json":
        from .data import render_net_json

        return render_net_json(derivation)
    if fmt == "latex":
        return render_net_latex(derivation, **settings)  # type: ignore[arg-type]
    if fmt == "beamer":
        return render_net_beamer(derivation, **settings)  # type: ignore[arg-type]
    if fmt == "markdown":
        return render_net_markdown(derivation, **settings)  # type: ignore[arg-type]
    raise ChoiceError(
        f"--net: format {fmt!r} is not available for networks; use text, json, "
        "latex, beamer or markdown"
    )


__all__ = [
    "render_net",
    "render_net_beamer",
    "render_net_latex",
    "render_net_markdown",
    "render_net_text",
]
