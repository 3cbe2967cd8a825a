"""Compile LaTeX in a test and fail on any TeX error or overfull box.

``compile_tex(text, tmp_path)`` runs ``pdflatex -no-shell-escape -interaction=nonstopmode
-halt-on-error`` (as ``symderiv --pdf`` does) and fails the test on any ``!`` line or
``Overfull \\hbox`` in the log (and, by default, ``Overfull \\vbox``: content running off a
page or a slide), and on bitmap (Type 3) fonts, which mean a font was missing. Without
pdflatex the test is skipped, unless ``SYMDERIV_REQUIRE_TEX=1`` (CI sets it): then it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error")


def require_tex() -> str:
    """The pdflatex executable, or skip (fail when SYMDERIV_REQUIRE_TEX=1)."""
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("SYMDERIV_REQUIRE_TEX") == "1":
            pytest.fail(
                "pdflatex is required (SYMDERIV_REQUIRE_TEX=1) but not installed"
            )
        pytest.skip("pdflatex is not installed")
    return exe


def problems(log: str, *, vbox: bool = True, hbox: bool = True) -> list[str]:
    """The lines of a pdflatex log that make a document unacceptable."""
    bad = []
    for k, line in enumerate(log.splitlines()):
        if (
            line.startswith("!")
            or (hbox and "Overfull \\hbox" in line)
            or (vbox and "Overfull \\vbox" in line)
        ):
            bad.append(f"log line {k + 1}: {line}")
    return bad


def compile_tex(
    text: str,
    folder: Path,
    *,
    name: str = "doc",
    runs: int = 1,
    vbox: bool = True,
    hbox: bool = True,
    timeout: float = 120.0,
) -> Path:
    """Compile ``text`` in ``folder``; fail the test on errors or overfull boxes.

    ``hbox=False`` accepts overfull lines (a document pandoc made, whose wide matrices
    symderiv does not lay out), ``vbox=False`` overfull pages.

    Returns:
        The PDF's path.
    """
    exe = require_tex()
    folder.mkdir(parents=True, exist_ok=True)
    tex = folder / f"{name}.tex"
    tex.write_text(text, encoding="utf-8")
    for _ in range(runs):
        result = subprocess.run(
            [exe, *FLAGS, tex.name],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    bad = problems(log, vbox=vbox, hbox=hbox)
    assert result.returncode == 0 and not bad, "\n".join(bad) or log[-3000:]
    pdf = folder / f"{name}.pdf"
    assert pdf.exists()
    fonts = shutil.which("pdffonts")
    if fonts is not None:
        listing = subprocess.run(
            [fonts, str(pdf)], capture_output=True, text=True, check=False
        ).stdout
        assert not re.search(r"\bType 3\b", listing), (
            "bitmap (Type 3) fonts: a font is missing\n" + listing
        )
    return pdf
