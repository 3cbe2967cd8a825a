"""Rich's SVG template without its web font: ``--svg`` pictures that need no network.

Rich's ``Console.export_svg`` loads Fira Code from a CDN (``@font-face … url(https://…)``),
so offline the picture falls back to some other font, differently on every machine. Its
template is taken here with the ``@font-face`` rules removed and the font set to monospace
fonts that systems have (DejaVu Sans Mono on Linux, Menlo on macOS, Consolas on Windows).
Rich places every run of text at its own x and stretches it to its width (``textLength``),
so the columns of a matrix stay aligned whatever font is found.
"""

from __future__ import annotations

import inspect
import re
from functools import cache

#: Monospace fonts found on common systems, then the generic family.
MONOSPACE = (
    '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, "Cascadia Mono", '
    '"Noto Sans Mono", monospace'
)

_FONT_FACE = re.compile(r"\s*@font-face\s*\{\{.*?\}\}", re.S)
_FAMILY = re.compile(r"font-family:\s*Fira Code,\s*monospace;")
_TITLE_FAMILY = re.compile(r"font-family:\s*arial;")
_COMMENT = re.compile(r"\s*<!--.*?-->", re.S)


@cache
def offline_svg_format() -> str:
    """Rich's ``export_svg`` template with system fonts and no URL of any resource.

    Raises:
        RuntimeError: Rich's template changed so that the font can no longer be replaced.
    """
    from rich.console import Console

    template = inspect.signature(Console.export_svg).parameters["code_format"].default
    assert isinstance(template, str)
    text, faces = _FONT_FACE.subn("", template)
    text, families = _FAMILY.subn(f"font-family: {MONOSPACE};", text)
    text = _TITLE_FAMILY.sub(
        'font-family: "DejaVu Sans", Arial, Helvetica, sans-serif;', text
    )
    text = _COMMENT.sub("", text)
    if not faces or not families or "url(http" in text:
        raise RuntimeError("Rich's SVG template changed: cannot set its font offline")
    return text


__all__ = ["MONOSPACE", "offline_svg_format"]
