"""``--svg`` pictures need no network: no web font, no URL of any resource."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from symderiv.cli import cli
from symderiv.render.svgfont import MONOSPACE, offline_svg_format


def test_template_has_no_web_font() -> None:
    template = offline_svg_format()
    assert "@font-face" not in template
    assert not re.search(r"url\((?!#)", template)  # only references inside the picture
    assert "cdnjs" not in template and "Fira Code" not in template
    assert MONOSPACE in template


def test_svg_loads_nothing(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "view.svg"
    result = runner.invoke(
        cli, ["derive", "--svg", str(out), "-o", str(tmp_path / "a.txt")]
    )
    assert result.exit_code == 0, result.output
    svg = out.read_text(encoding="utf-8")
    # The only URL is the SVG namespace, a name rather than something to fetch.
    assert re.findall(r"https?://[^\s\"')]+", svg) == ["http://www.w3.org/2000/svg"]
    assert "@font-face" not in svg and not re.search(r"url\((?!#)", svg)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # Every run of text is placed and stretched to its cells, whatever font is found.
    texts = root.findall(".//{http://www.w3.org/2000/svg}text")
    cells = [t for t in texts if not t.get("class", "").endswith("-title")]
    assert len(cells) > 100 and all(t.get("textLength") for t in cells)
