"""The README's pictures exist, and the script that makes them still runs."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SCRIPT = Path(__file__).parent / "docs" / "make_images.py"
NAMES = ("article.png", "slide.png", "terminal.svg", "web.png", "network-article.png")


def test_readme_shows_the_pictures() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]+\]\((tests/docs/images/[^)]+)\)", readme)
    assert sorted(Path(p).name for p in linked) == sorted(NAMES)
    for path in linked:
        assert (ROOT / path).stat().st_size > 5_000, path
    assert "python tests/docs/make_images.py" in readme


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.browser
def test_the_script_makes_every_picture(tmp_path: Path) -> None:
    from browser import require_chromium
    from texutil import require_tex

    require_tex()
    require_chromium()
    for tool in ("pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    spec = importlib.util.spec_from_file_location("make_images", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.make(tmp_path)
    assert [p.name for p in made] == list(NAMES)
    for path in made:
        assert path.stat().st_size > 5_000, path
    assert (tmp_path / "terminal.svg").read_text(encoding="utf-8").startswith("<svg")
