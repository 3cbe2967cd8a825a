"""Maths in Markdown for each renderer: the syntax it reads and the limits it enforces.

Three flavours (``derive --format markdown --flavor …``):

- ``github`` (the default): display maths in ```` ```math ```` fences and inline maths as
  ``$`…`$``. Markdown never touches the inside of either, so ``\\,``, ``\\;``, ``\\{`` and
  ``\\\\`` reach the maths renderer as written (GitHub runs its Markdown parser before the
  maths one, and ``$$`` blocks lose their backslash escapes). GitHub stops rendering a
  block with more than 99 sub- or superscripts (``x_{1}``, ``y^{T}``); blocks stay at
  ``MAX_SCRIPTS`` or fewer.
- ``gitlab``: the same syntax (GitLab and Gitea read it), and at most 1000 characters per
  maths block, GitLab's and Gitea's limit.
- ``jupyter``: ``$$ … $$`` and ``$…$``, which Jupyter, VS Code and pandoc read (and
  GitHub's fences are shown as code there); no limits.

A display too large for its flavour is split (at the ``,\\qquad`` between equations, the
lines of an ``aligned`` block, or the ``=`` of a chain) by :func:`split_display`; what still
does not fit is left to the printer, which elides the matrices further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

#: Sub- and superscripts per block on GitHub (it fails at 100; a margin for safety).
MAX_SCRIPTS = 90
#: Characters per maths block on GitLab and Gitea.
MAX_CHARS = 1000


@dataclass(frozen=True)
class Flavor:
    """How one family of Markdown renderers takes maths.

    Attributes:
        fenced: display maths in ```` ```math ```` fences and inline maths as ``$`…`$``
            (else ``$$ … $$`` and ``$…$``).
        max_chars: characters per maths block, or None.
        max_scripts: sub- and superscripts per maths block, or None.
    """

    fenced: bool
    max_chars: int | None
    max_scripts: int | None


FLAVORS: dict[str, Flavor] = {
    "github": Flavor(True, None, MAX_SCRIPTS),
    "gitlab": Flavor(True, MAX_CHARS, MAX_SCRIPTS),
    "jupyter": Flavor(False, None, None),
}

_SCRIPT = re.compile(r"(?<!\\)[_^]")


def scripts(tex: str) -> int:
    """The sub- and superscripts in ``tex`` (``x_{1,2}``, ``W^{T}``; not ``\\_``).

    >>> scripts(r"x_{1,2} + W^{T} + a\\_b")
    2
    """
    return len(_SCRIPT.findall(tex))


def fits(tex: str, flavor: Flavor) -> bool:
    """True when the block ``tex`` is within the flavour's limits.

    >>> fits("x_{1}" * 91, FLAVORS["github"]), fits("x_{1}" * 91, FLAVORS["jupyter"])
    (False, True)
    """
    if flavor.max_chars is not None and len(tex) > flavor.max_chars:
        return False
    return flavor.max_scripts is None or scripts(tex) <= flavor.max_scripts


#: A line of a ``$$`` block that Markdown could read as a list item, quote or heading.
_RISKY_LINE = re.compile(r"^\s*([-+*>#|=]|\d+[.)])")


def display_math(tex: str, flavor: Flavor) -> str:
    """``tex`` as a display block of the flavour (no blank line inside).

    >>> print(display_math("a = b", FLAVORS["github"]))
    ```math
    a = b
    ```
    """
    lines = [line for line in tex.split("\n") if line.strip()]
    if flavor.fenced:
        return "```math\n" + "\n".join(lines) + "\n```"
    safe = ["{}" + line if _RISKY_LINE.match(line) else line for line in lines]
    return "$$\n" + "\n".join(safe) + "\n$$"


def inline_math(tex: str, flavor: Flavor) -> str:
    """``tex`` as inline maths of the flavour.

    >>> inline_math("x_{1}", FLAVORS["github"]), inline_math("x_{1}", FLAVORS["jupyter"])
    ('$`x_{1}`$', '$x_{1}$')
    """
    tex = " ".join(tex.split())
    return f"$`{tex}`$" if flavor.fenced else f"${tex}$"


_TOKEN = re.compile(
    r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\left\b|\\right\b|\\\\|\\[A-Za-z]+|\\.|[{}=&]|,\\qquad"
)


def _top_level(tex: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Spans of the tokens in ``wanted`` outside every group, environment and \\left…\\right.

    ``wanted`` may hold ``"\\\\"`` (a row end), ``"="``, ``",\\qquad"``.
    """
    depth = 0
    spans = []
    for m in _TOKEN.finditer(tex):
        tok = m.group(0)
        if tok in ("{", r"\left") or tok.startswith(r"\begin"):
            depth += 1
        elif tok in ("}", r"\right") or tok.startswith(r"\end"):
            depth -= 1
        elif depth == 0 and tok in wanted:
            spans.append(m.span())
    return spans


def _pieces(tex: str, spans: list[tuple[int, int]], keep: bool) -> list[str]:
    """``tex`` cut at ``spans``; ``keep``: each cut token starts the next piece."""
    out, start = [], 0
    for a, b in spans:
        out.append(tex[start:a])
        start = a if keep else b
    out.append(tex[start:])
    return [p.strip() for p in out if p.strip()]


def _pack(parts: list[str], flavor: Flavor, join: str) -> list[str]:
    """Consecutive parts joined while the result fits."""
    out: list[str] = []
    for part in parts:
        if out and fits(out[-1] + join + part, flavor):
            out[-1] = out[-1] + join + part
        else:
            out.append(part)
    return out


_ALIGNED = re.compile(r"\A\\begin\{aligned\}(.*)\\end\{aligned\}\Z", re.S)


def split_display(tex: str, flavor: Flavor) -> list[str]:
    """``tex`` as one or more display blocks, each within the flavour's limits if it can be.

    Cuts, in order: between equations set side by side (``,\\qquad``); between the lines
    of an ``aligned`` block (each piece stays an ``aligned`` block); at the ``=`` of a
    chain ``a = b = c`` (the next block starts with ``=``). A piece that still does not
    fit is returned as it is; the caller elides it.

    >>> split_display(r"a = b,\\qquad c = d", Flavor(True, 6, None))
    ['a = b', 'c = d']
    """
    if fits(tex, flavor):
        return [tex]
    sides = _pieces(tex, _top_level(tex, {r",\qquad"}), keep=False)
    if len(sides) > 1:
        return [
            piece
            for side in _pack(sides, flavor, r",\qquad ")
            for piece in split_display(side, flavor)
        ]
    m = _ALIGNED.match(tex.strip())
    if m:
        body = m.group(1)
        rows = _pieces(body, _top_level(body, {"\\\\"}), keep=False)
        if len(rows) > 1:
            wrap = "\\begin{{aligned}}\n{}\n\\end{{aligned}}".format
            max_chars = flavor.max_chars
            room = None if max_chars is None else max_chars - len(wrap(""))
            packed = _pack(rows, replace(flavor, max_chars=room), " \\\\\n")
            return [
                piece
                for rows_tex in packed
                for piece in split_display(wrap(rows_tex), flavor)
            ]
        tex = body.replace("&", "")
    chain = _pieces(tex, _top_level(tex, {"="}), keep=True)
    if len(chain) > 1:
        return _pack(chain, flavor, " ")
    return [tex]


__all__ = [
    "FLAVORS",
    "MAX_CHARS",
    "MAX_SCRIPTS",
    "Flavor",
    "display_math",
    "fits",
    "inline_math",
    "scripts",
    "split_display",
]
