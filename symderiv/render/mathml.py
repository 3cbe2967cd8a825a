"""LaTeX display maths as MathML Core, the MathML that browsers render natively.

The HTML page gets its maths from the LaTeX printer's portable (MathJax-friendly) TeX, so
the web page shows exactly the formulas of the article. :func:`tex_to_mathml` converts it
with latex2mathml and then repairs what that converter emits in MathML 3 but browsers
(MathML Core: Chromium 109+, Firefox, Safari) ignore or draw wrongly:

- ``aligned``/``gathered`` (a table in MathML, not line breaks, which browsers do not do);
- the rules of an ``array`` between Kronecker blocks (``columnlines``/``rowlines``), drawn
  as cell borders; column alignment, as ``text-align``;
- ``\\boxed`` (``menclose``, not in MathML Core), as a bordered ``mrow``;
- bold letters and digits (``mathvariant="bold"``), as Unicode mathematical bold;
- a name of several letters (``\\mathit{dY}``), as one identifier in mathematical italic;
- ``\\operatorname{vec}`` (an ``mo``, spaced like an operator), as an upright ``mi``;
- a row gap such as ``\\\\[1ex]`` (which the converter prints as the text "[1ex]");
- a matrix with a superscript (``\\end{bmatrix}^{T}``), which the converter leaves as
  loose brackets and a table under one ``msup``.

Anything the converter could not read (an unknown command, a stray ``&``) becomes an
``merror`` element, so a test (or a browser) sees it; :func:`mathml_errors` lists them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..errors import SymderivError

_ROW_GAP = re.compile(r"\\\\\s*\[[^\]]*\]")
#: TeX the converter misreads, and what it reads as intended.
_REPLACEMENTS = {
    r"\begin{aligned}": r"\begin{split}",
    r"\end{aligned}": r"\end{split}",
    r"\begin{gathered}": r"\begin{array}{c}",
    r"\end{gathered}": r"\end{array}",
}
_MATRIX = re.compile(r"\\(begin|end)\{([bBpvV]?matrix)\}")
#: Elements with a fixed number of children (base and scripts, numerator and denominator).
_ARITY = dict.fromkeys(("msub", "msup", "mfrac", "munder", "mover", "mroot"), 2)
_ARITY |= dict.fromkeys(("msubsup", "munderover"), 3)
_XMLNS = re.compile(r'\s+xmlns="[^"]*"')


class MathMLError(SymderivError):
    """A formula that the LaTeX-to-MathML converter could not read at all."""


def _alphabet(first: str, last: str, start: int) -> dict[int, str]:
    """A ``str.translate`` table: ``first`` to ``last`` to the characters from ``start``."""
    return {c: chr(start + c - ord(first)) for c in range(ord(first), ord(last) + 1)}


#: Unicode mathematical bold letters and digits, and italic letters (ℎ for h).
_BOLD = _alphabet("A", "Z", 0x1D400) | _alphabet("a", "z", 0x1D41A)
_BOLD |= _alphabet("0", "9", 0x1D7CE)
_ITALIC = _alphabet("A", "Z", 0x1D434) | _alphabet("a", "z", 0x1D44E) | {ord("h"): "ℎ"}


def _one_name(el: ET.Element) -> bool:
    """``\\mathit{dY}`` (an mrow of italic letters) as one identifier 𝑑𝑌, not d·Y (a
    name of several letters in MathML Core is upright unless its letters are italic);
    ``\\mathbf{dY}`` likewise in bold."""
    kids = list(el)
    variant = kids[0].get("mathvariant") if kids else None
    if (
        len(kids) < 2
        or variant not in ("italic", "bold")
        or any(
            k.tag != "mi" or k.get("mathvariant") != variant or len(k.text or "") != 1
            for k in kids
        )
    ):
        return False
    style = _ITALIC if variant == "italic" else _BOLD
    text = "".join(k.text or "" for k in kids).translate(style)
    for k in kids:
        el.remove(k)
    el.tag = "mi"
    el.attrib.clear()
    el.text = text
    return True


def _prepare(tex: str) -> str:
    """TeX the converter reads as intended.

    ``aligned`` becomes ``split`` (a two-column table aligned at ``&``), ``gathered`` a
    one-column ``array``; a row gap ``\\\\[1ex]`` a plain ``\\\\`` (the page's CSS spaces
    rows).
    """
    tex = _ROW_GAP.sub(r"\\\\", tex)
    # A matrix as one group, so that a superscript (^{T}) applies to all of it and its
    # brackets stretch to it alone (the converter leaves the bracket, table, bracket loose).
    tex = _MATRIX.sub(
        lambda m: "{" + m.group(0) if m.group(1) == "begin" else m.group(0) + "}", tex
    )
    for old, new in _REPLACEMENTS.items():
        tex = tex.replace(old, new)
    return tex


def _style(el: ET.Element, css: str) -> None:
    old = el.get("style", "")
    el.set("style", f"{old};{css}" if old else css)


def _merror(el: ET.Element, message: str) -> None:
    """Turn ``el`` into an ``merror`` holding ``message`` (visible, and easy to test for)."""
    el.clear()
    el.tag = "merror"
    text = ET.SubElement(el, "mtext")
    text.text = message


def _fix_table(table: ET.Element) -> None:
    """Rules between blocks and column alignment as CSS on the cells."""
    collines = table.attrib.pop("columnlines", "").split()
    rowlines = table.attrib.pop("rowlines", "").split()
    tight = table.attrib.pop("columnspacing", "").split()[:1] == ["0em"]
    table.attrib.pop("rowspacing", None)
    rows = [r for r in table if r.tag == "mtr"]
    for r, row in enumerate(rows):
        cells = [c for c in row if c.tag == "mtd"]
        for c, cell in enumerate(cells):
            align = cell.attrib.pop("columnalign", None)
            if align in ("left", "right"):
                _style(cell, f"text-align:{align}")
            if tight:
                _style(cell, "padding-left:0;padding-right:0")
            # the last line given repeats, as in MathML
            for k, lines, side in ((c, collines, "left"), (r, rowlines, "top")):
                if k > 0 and lines and lines[min(k, len(lines)) - 1] == "solid":
                    _style(cell, f"border-{side}:1px solid")


def _is_function(el: ET.Element) -> bool:
    """An upright name of several letters (exp, log, max, vec) as the converter left it."""
    text = el.text or ""
    return el.tag == "mi" and len(text) > 1 and text.isascii() and text.isalpha()


def _space_functions(el: ET.Element) -> None:
    """Thin spaces around a function name as TeX sets ``t \\log p`` and ``\\exp z``: after
    it unless its argument is bracketed, before it after a symbol (not an operator). The
    converter glued them ("t logp", "expz"). A name that is the base of a script
    (``\\tanh'``, ``\\tanh^{2}``) is left as it is: a space inside ``msup`` would be a
    third part, which MathML cannot show."""
    if el.tag in _ARITY:
        return
    kids = list(el)
    gaps = []
    for k, kid in enumerate(kids):
        if not _is_function(kid):
            continue
        if k > 0 and kids[k - 1].tag != "mo":
            gaps.append(k)
        after = kids[k + 1] if k + 1 < len(kids) else None
        if after is not None and not (
            after.tag == "mo" and (after.text or "") in ("(", "[", "{", "|")
        ):
            gaps.append(k + 1)
    for k in reversed(gaps):
        el.insert(k, ET.Element("mspace", width="0.1667em"))


def _fix(el: ET.Element) -> None:
    """Repair ``el`` and its descendants in place (see the module docstring)."""
    if el.tag == "mrow" and _one_name(el):
        return
    for child in list(el):
        _fix(child)
    _space_functions(el)
    tag = el.tag
    if tag in _ARITY and len(el) != _ARITY[tag]:
        _merror(el, f"{tag} with {len(el)} parts")
        return
    if tag == "mtable":
        _fix_table(el)
    elif tag == "menclose":
        notation = el.attrib.pop("notation", "")
        el.tag = "mrow"
        if notation == "box":
            el.set("class", "boxed")
    elif tag == "mspace":
        if el.get("linebreak"):
            _merror(el, "line break")
        elif not re.fullmatch(r"-?[\d.]+(em|ex|pt|px)", el.get("width", "0em")):
            # A named width such as negativethinmathspace is not MathML Core.
            el.set("width", "0em")
    elif tag in ("mi", "mn", "mo", "mtext"):
        text = el.text or ""
        if text.startswith("\\") and len(text) > 1 or text == "&":
            _merror(el, f"cannot show {text}")
            return
        variant = el.attrib.pop("mathvariant", None)
        if variant == "bold":
            el.text = text.translate(_BOLD)
        elif variant == "normal" and tag == "mi":
            el.set("mathvariant", "normal")
        if tag == "mo" and text == "/":
            # ∂L/∂y: TeX sets the slash as an ordinary symbol, without space around it.
            el.set("lspace", "0")
            el.set("rspace", "0")
        if tag == "mo" and len(text) > 1 and text.isalpha():
            # \operatorname{vec}: a name, not an operator (no operator spacing).
            el.tag = "mi"
            el.attrib.clear()


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """LaTeX maths (as the LaTeX printer writes it) as one ``<math>`` element.

    Args:
        tex: a formula in math mode, without ``$`` or ``\\[``.
        display: a display formula (``display="block"``) rather than one in running text.

    Returns:
        The MathML, without namespace declaration (HTML needs none).

    Raises:
        MathMLError: the converter failed on ``tex`` altogether.

    >>> tex_to_mathml(r"x_{1,2}")
    '<math><mrow><msub><mi>x</mi><mrow><mn>1</mn><mo>,</mo><mn>2</mn></mrow></msub></mrow></math>'
    """
    from latex2mathml.converter import convert

    try:
        raw = convert(_prepare(tex))
        # The converter writes a stray & (outside a table) unescaped.
        raw = re.sub(r"&(?!#?\w+;)", "&amp;", _XMLNS.sub("", raw, count=1))
        root = ET.fromstring(raw)
    except Exception as exc:  # the converter raises assorted types on bad input
        raise MathMLError(f"cannot convert to MathML: {tex[:80]!r} ({exc})") from exc
    root.attrib.pop("display", None)
    if display:
        root.set("display", "block")
    _fix(root)
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


def mathml_errors(html: str) -> list[str]:
    """The messages of every ``merror`` in ``html`` (empty when all maths converted).

    >>> mathml_errors(tex_to_mathml(r"\\frac{a}{b}"))
    []
    """
    return re.findall(r"<merror><mtext>(.*?)</mtext></merror>", html)


__all__ = ["MathMLError", "mathml_errors", "tex_to_mathml"]
