"""Load a page in headless Chromium and report what the browser saw.

``probe(html, folder)`` writes the page with a small script appended that measures it after
layout (``merror`` elements, the page's scroll width against the window, resources the page
fetched, its background colour, whether MathML is laid out natively, lecture mode) and
writes the results as JSON into the DOM; ``chromium --dump-dom`` prints that DOM, and the
JSON is read back. ``screenshot(html_path, png)`` takes a picture of a page.

Chromium runs with no network: every host name resolves to nothing and background
networking is off, so a page that tried to fetch anything would show it in ``resources``
(and fail to get it). Without Chromium the test is skipped, unless
``SYMDERIV_REQUIRE_BROWSER=1`` (CI sets it): then it fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """
<script>
(function () {
  var r = {};
  var root = document.documentElement;
  r.merror = document.getElementsByTagName("merror").length;
  r.math = document.getElementsByTagName("math").length;
  r.mathml = typeof MathMLElement !== "undefined" &&
    document.querySelector("math") instanceof MathMLElement;
  var frac = document.querySelector(".display mfrac");
  r.frac_height = frac ? frac.getBoundingClientRect().height : null;
  r.font_size = parseFloat(getComputedStyle(document.body).fontSize);
  r.scroll_width = root.scrollWidth;
  r.inner_width = window.innerWidth;
  r.body_width = document.body.getBoundingClientRect().width;
  r.resources = performance.getEntriesByType("resource").map(function (e) {
    return e.name;
  });
  r.background = getComputedStyle(root).backgroundColor;
  r.displays = document.querySelectorAll(".display").length;
  r.scrolling_displays = [].filter.call(document.querySelectorAll(".display"),
    function (d) { return d.scrollWidth > d.clientWidth; }).length;
  var parts = document.querySelectorAll(".reveal");
  function shown() { return [].filter.call(parts, function (p) { return !p.hidden; }).length; }
  function key(k) { document.dispatchEvent(new KeyboardEvent("keydown", {key: k})); }
  r.parts = parts.length;
  key("l"); r.lecture_start = shown();
  key("ArrowRight"); key("ArrowRight"); r.lecture_two_more = shown();
  key("ArrowLeft"); r.lecture_back = shown();
  key("l"); r.lecture_off = shown();
  var out = document.createElement("pre");
  out.id = "symderiv-probe";
  out.textContent = JSON.stringify(r);
  document.body.appendChild(out);
})();
</script>
"""


def require_chromium() -> str:
    """The Chromium executable, or skip (fail when SYMDERIV_REQUIRE_BROWSER=1)."""
    for name in NAMES:
        exe = shutil.which(name)
        if exe is not None:
            return exe
    if os.environ.get("SYMDERIV_REQUIRE_BROWSER") == "1":
        pytest.fail(
            "Chromium is required (SYMDERIV_REQUIRE_BROWSER=1) but not installed"
        )
    pytest.skip("Chromium is not installed")


def _run(args: list[str], folder: Path, width: int, height: int) -> str:
    exe = require_chromium()
    profile = folder / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    command = [
        exe,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        # No network: every host name fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        *args,
    ]
    result = subprocess.run(
        command,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def probe(
    page: str,
    folder: Path,
    *,
    width: int = 1280,
    height: int = 900,
    dark: bool = False,
) -> dict[str, Any]:
    """Open ``page`` (HTML text) at ``width``×``height`` px and return the measurements.

    ``dark`` asks for the dark colour scheme (``prefers-color-scheme: dark``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "probe.html"
    assert page.count("</body>") == 1
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    args = ["--force-dark-mode"] if dark else []
    dom = _run([*args, "--dump-dom", path.as_uri()], folder, width, height)
    found = re.search(r'<pre id="symderiv-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run:\n" + dom[-2000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def screenshot(
    page: Path, png: Path, *, width: int = 1280, height: int = 2000, dark: bool = False
) -> Path:
    """A PNG of the top ``height`` px of ``page`` (an HTML file) at ``width`` px."""
    args = ["--force-dark-mode"] if dark else []
    _run([*args, f"--screenshot={png}", page.as_uri()], png.parent, width, height)
    assert png.exists() and png.stat().st_size > 10_000, "no screenshot"
    return png


def print_pdf(page: Path, pdf: Path) -> Path:
    """``page`` (an HTML file) printed to PDF, as a browser's Print does (print CSS)."""
    _run(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        pdf.parent,
        1280,
        900,
    )
    assert pdf.exists() and pdf.stat().st_size > 10_000, "no PDF"
    return pdf


def luminance(css_colour: str) -> float:
    """Relative brightness (0 black … 1 white) of a CSS ``rgb(r, g, b)`` colour."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
