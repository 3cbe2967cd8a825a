"""Regenerate the README's pictures: a page of the article, a slide, the terminal, the web page.

Run from the repository root (needs pdflatex, pdftoppm and pdftotext from poppler-utils, and
Chromium)::

    python tests/docs/make_images.py            # writes tests/docs/images/
    python tests/docs/make_images.py --out DIR  # somewhere else

Every picture is made with the ``symderiv`` command line, the way a reader would make it,
for the README's example ``symderiv derive --n 2 --d 2 --m 3``:

- ``article.png``: the article's page holding the chain rule for X (``--format latex --pdf``);
- ``slide.png``: the chain-rule slide for X with every overlay shown (``--format beamer``);
- ``terminal.svg``: the terminal view of the derivative with respect to W (``--svg``);
- ``web.png``: the web page at 1280 px (``--format html``): its title, then Step 5 on (the
  set-up steps before it are hidden for the picture, since a headless screenshot cannot
  scroll);
- ``network-article.png``: the page of the network article (``symderiv derive --net
  affine:3,relu,affine:2 --loss softmax-ce --n 2 --d 2 --format latex --pdf``) with the
  ReLU layer's diagonal Jacobian, for the README's Networks section.

The pictures are deterministic (the same bytes on every run with the same TeX, poppler and
Chromium), so a changed picture in ``git diff`` means the page changed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = ["--n", "2", "--d", "2", "--m", "3"]
NET = "--net affine:3,relu,affine:2 --loss softmax-ce --n 2 --d 2".split()
NAMES = ("article.png", "slide.png", "terminal.svg", "web.png", "network-article.png")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def symderiv(*args: str, cwd: Path) -> None:
    """Run ``python -m symderiv ARGS`` with this repository's package."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    subprocess.run(
        [sys.executable, "-m", "symderiv", *args], cwd=cwd, env=env, check=True
    )


def tool(name: str, *candidates: str) -> str:
    for candidate in (name, *candidates):
        found = shutil.which(candidate)
        if found:
            return found
    raise SystemExit(f"make_images: {name} is not installed")


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        [tool("pdftotext"), "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pages(pdf: Path) -> int:
    info = subprocess.run(
        [tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return int(
        next(ln.split()[1] for ln in info.splitlines() if ln.startswith("Pages:"))
    )


def footer(pdf: Path, page: int) -> str:
    """The last line of a page's text: a Beamer frame's number, ``10 / 28``."""
    lines = [line for line in page_text(pdf, page).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def find_page(pdf: Path, text: str, *, last_of_frame: bool = False) -> int:
    """The first page whose text holds ``text`` (or the last page of the Beamer frame
    that starts there, every overlay shown: its pages share the frame number; the next
    frame may have the same title, as the chain rule's other slicing does)."""
    hits = [p for p in range(1, pages(pdf) + 1) if text in page_text(pdf, p)]
    if not hits:
        raise SystemExit(f"make_images: no page of {pdf.name} says {text!r}")
    page = hits[0]
    frame = footer(pdf, page)
    while last_of_frame and page + 1 in hits and footer(pdf, page + 1) == frame:
        page += 1
    return page


def png_of_page(pdf: Path, page: int, out: Path, dpi: int) -> None:
    stem = out.with_suffix("")
    subprocess.run(
        [
            tool("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )


#: Hides the page's first two parts (what is derived; Steps 1-4), so the picture shows
#: the Jacobians.
SKIP_TO_STEP_5 = "<style>.hint,main>section:nth-of-type(-n+2){display:none}</style>"


def screenshot(html: Path, out: Path, *, width: int, height: int) -> None:
    text = html.read_text(encoding="utf-8")
    html.write_text(text.replace("</head>", SKIP_TO_STEP_5 + "</head>"), "utf-8")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                tool(*CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={out}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


def make(out: Path) -> list[Path]:
    """Write the pictures (:data:`NAMES`) into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        symderiv(
            "derive",
            *SIZES,
            "--format",
            "latex",
            "-o",
            "article.tex",
            "--pdf",
            cwd=work,
        )
        pdf = work / "article.pdf"
        png_of_page(pdf, find_page(pdf, "Chain rule for X"), out / "article.png", 80)

        symderiv(
            "derive",
            *SIZES,
            "--format",
            "beamer",
            "-o",
            "slides.tex",
            "--pdf",
            cwd=work,
        )
        pdf = work / "slides.pdf"
        slide = find_page(pdf, "Chain rule for X", last_of_frame=True)
        png_of_page(pdf, slide, out / "slide.png", 110)

        symderiv(
            "derive",
            *SIZES,
            "--wrt",
            "W",
            "--svg",
            str(out / "terminal.svg"),
            "-o",
            "terminal.txt",
            cwd=work,
        )

        symderiv("derive", *SIZES, "--format", "html", "-o", "page.html", cwd=work)
        screenshot(
            work / "page.html",
            out / "web.png",
            width=1280,
            height=1100,
        )

        symderiv(
            "derive", *NET, "--format", "latex", "-o", "net.tex", "--pdf", cwd=work
        )
        pdf = work / "net.pdf"
        page = find_page(pdf, "with respect to vec(Z1 ): diagonal")
        png_of_page(pdf, page, out / "network-article.png", 72)
    return [out / n for n in NAMES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "images")
    for path in make(parser.parse_args().out):
        print(f"wrote {path} ({path.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
