"""A page as the text a reader sees, for the review tests: ``out(fmt, **config)``."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from symderiv import derive
from symderiv.render import render

#: Every format that prints a page.
FORMATS = ["text", "latex", "beamer", "markdown", "ipynb", "html"]


@cache
def _derived(**kwargs: Any) -> Any:
    return derive(**kwargs)


def out(fmt: str, width: int = 80, **kwargs: Any) -> str:
    """The page in ``fmt``; a notebook as the text of its cells, HTML unescaped."""
    d = _derived(**kwargs)
    text = render(d, fmt, width=width) if fmt == "text" else render(d, fmt)
    if fmt == "ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    if fmt == "html":
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text
