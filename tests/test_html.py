"""The HTML page: self-contained, every formula converted, and right in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser import luminance, print_pdf, probe, screenshot

from symderiv import derive
from symderiv.cli import cli
from symderiv.render import render
from symderiv.render.mathml import mathml_errors, tex_to_mathml

CONFIGS = [
    {"n": 2, "d": 2, "m": 3},
    {"n": 1, "d": 11, "m": 12},
    {"n": 2, "d": 3, "m": 2, "convention": "torch", "vec": "col"},
    {"n": 2, "d": 2, "m": 2, "convention": "column", "method": "all"},
    {"n": 3, "d": 2, "m": 2, "loss": "mse", "layout": "numerator"},
    {"n": 2, "d": 1, "m": 2, "loss": "sum", "wrt": ("W",)},
]


def page(**config: object) -> str:
    return render(derive(**config), "html")  # type: ignore[arg-type]


# -- the maths layer ----------------------------------------------------------------------
def test_matrix_with_superscript_is_one_group() -> None:
    m = tex_to_mathml(r"\begin{bmatrix} a & b \end{bmatrix}^{T}")
    # The brackets and the table form the base of the superscript.
    assert re.search(r"<msup><mrow><mo>\[</mo><mtable>.*</mtable><mo>\]</mo></mrow>", m)
    assert not mathml_errors(m)


def test_block_rules_become_cell_borders() -> None:
    m = tex_to_mathml(
        r"\left[\begin{array}{cc|c} a & b & c \\ \hline d & e & f \end{array}\right]"
    )
    assert "columnlines" not in m and "rowlines" not in m
    assert m.count("border-left:1px solid") == 2  # column 3 of both rows
    assert m.count("border-top:1px solid") == 3  # every cell of row 2


def test_aligned_is_a_table_not_line_breaks() -> None:
    m = tex_to_mathml(
        r"\begin{aligned} a &= b \\[1ex] &= c \end{aligned}", display=True
    )
    assert m.startswith('<math display="block">')
    assert m.count("<mtr>") == 2 and "linebreak" not in m and "1ex" not in m
    assert not mathml_errors(m)


def test_boxed_and_bold_are_mathml_core() -> None:
    m = tex_to_mathml(r"\boxed{\mathbf{1}_{N}} \operatorname{vec}(Y)")
    assert "menclose" not in m and 'class="boxed"' in m
    assert "\U0001d7cf" in m and "mathvariant" not in m  # bold digit one
    assert "<mi>vec</mi>" in m


def test_what_cannot_be_read_is_an_merror() -> None:
    assert mathml_errors(tex_to_mathml(r"\frac{a}{b}")) == []
    assert mathml_errors(tex_to_mathml(r"a & b")) == ["cannot show &amp;"]


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(map(str, c.values()))
)
def test_every_formula_converts(config: dict[str, object]) -> None:
    text = page(**config)
    assert mathml_errors(text) == []
    assert "<math" in text and "\\frac" not in text and "$" not in text


# -- self-contained -----------------------------------------------------------------------
def test_page_loads_nothing_from_elsewhere() -> None:
    text = page(n=2, d=2, m=3)
    assert not re.search(r"https?://", text)
    assert not re.search(r"<(link|img|iframe|object|embed|audio|video)\b", text)
    assert not re.search(r"\b(src|href)\s*=", text)
    assert "@import" not in text and "url(" not in text
    assert "default-src 'none'" in text  # and the page forbids it


def test_page_has_the_article_blocks() -> None:
    d = derive(n=2, d=2, m=3, convention="torch")
    text = render(d, "html")
    for k in range(1, len(d.steps) + 1):
        assert f'id="step-{k}"' in text
    for heading in (
        "What is derived",
        "Certificate",
        "Where learners trip",
        "Mathematical background",
    ):
        assert f"<h2>{heading}</h2>" in text
    assert "<svg" in text  # the sparsity pictures
    assert (
        "db = dY.sum(axis=0)</code>" in text
    )  # the NumPy lines (torch: b has length M)
    assert text.count("✓") == len(d.checks)


def test_cli_writes_html(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "a.html"
    result = runner.invoke(cli, ["derive", "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.endswith("</html>\n")
    assert text == page(n=2, d=2, m=3)


# -- in a real browser --------------------------------------------------------------------
def check_in_browser(
    text: str, folder: Path, *, dark: bool = False, width: int = 1280
) -> dict[str, object]:
    r = probe(text, folder, width=width, dark=dark)
    assert r["mathml"], "the browser has no MathML"
    assert r["merror"] == 0
    assert r["math"] == text.count("<math")
    # Laid out as MathML: a display fraction is about two lines of text tall.
    assert r["frac_height"] is not None and r["frac_height"] > 1.8 * r["font_size"]
    # Nothing wider than the window: wide matrices scroll inside their own box.
    assert r["scroll_width"] <= r["inner_width"], r
    assert r["resources"] == []
    # Lecture mode: the first part, then two more, one back, then all again.
    parts = r["parts"]
    assert isinstance(parts, int) and parts > 10
    assert (r["lecture_start"], r["lecture_two_more"], r["lecture_back"]) == (1, 3, 2)
    assert r["lecture_off"] == parts
    return r


@pytest.mark.slow
@pytest.mark.browser
def test_small_page_in_chromium(tmp_path: Path) -> None:
    text = page(n=2, d=2, m=3)
    r = check_in_browser(text, tmp_path / "light")
    assert luminance(str(r["background"])) > 0.8
    dark = check_in_browser(text, tmp_path / "dark", dark=True)
    assert luminance(str(dark["background"])) < 0.2
    html_path = tmp_path / "a.html"
    html_path.write_text(text, encoding="utf-8")
    screenshot(html_path, tmp_path / "a.png")
    # Printed (print CSS), every step is there.
    pdf = print_pdf(html_path, tmp_path / "a.pdf")
    if shutil.which("pdftotext"):
        printed = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        steps = len(derive(n=2, d=2, m=3).steps)
        assert f"Step {steps}" in printed and "Mathematical background" in printed
        assert "Lecture mode" not in printed  # the hint is for screens


@pytest.mark.slow
@pytest.mark.browser
def test_large_page_in_chromium(tmp_path: Path) -> None:
    text = page(n=16, d=16, m=16)
    check_in_browser(text, tmp_path / "wide")
    # In a narrow window the wide displays scroll, each in its own box, not the page.
    narrow = check_in_browser(text, tmp_path / "narrow", width=640)
    assert narrow["scrolling_displays"] > 0
    html_path = tmp_path / "b.html"
    html_path.write_text(text, encoding="utf-8")
    screenshot(html_path, tmp_path / "b.png")


def test_conventions_page(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "c.html"
    result = runner.invoke(cli, ["conventions", "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and mathml_errors(text) == []
    assert not re.search(r"https?://|\b(src|href)\s*=", text)
    assert text.count("<table>") == 3 and "Every row verified." in text


@pytest.mark.slow
@pytest.mark.browser
def test_conventions_page_in_chromium(tmp_path: Path) -> None:
    from symderiv.compare import compare
    from symderiv.render.comparison import comparison_html

    text = comparison_html(compare(2, 2, 3))
    r = probe(text, tmp_path)
    assert r["merror"] == 0 and r["resources"] == []
    assert r["scroll_width"] <= r["inner_width"], r


# -- no line starts with the punctuation after a formula -------------------------------------
#: Punctuation right after a formula, or a bracket right before one, outside a no-wrap span.
LOOSE = re.compile(
    r"(?<!<span class=\"nowrap\">)[(\[]<math|</math>[,.;:!?)\]](?![^<]*</span>)"
)

#: For body widths 280…900 px, counts the formulas followed (in the same no-wrap span or
#: not) by punctuation that the browser set at the start of the next line.
BREAKS = """
<script>
(function () {
  var pairs = [];
  document.querySelectorAll("math").forEach(function (m) {
    var next = m.nextSibling;
    if (next && next.nodeType === 3 && /^[,.;:!?)\\]]/.test(next.data)) {
      pairs.push([m, next]);
    }
  });
  var breaks = 0;
  for (var w = 280; w <= 900; w += 4) {
    document.body.style.maxWidth = w + "px";
    pairs.forEach(function (p) {
      var r = document.createRange();
      r.setStart(p[1], 0); r.setEnd(p[1], 1);
      var mark = r.getBoundingClientRect(), math = p[0].getBoundingClientRect();
      if (mark.left < math.right - 1) { breaks += 1; }
    });
  }
  var out = document.createElement("pre");
  out.id = "symderiv-breaks";
  out.textContent = JSON.stringify({pairs: pairs.length, breaks: breaks});
  document.body.appendChild(out);
})();
</script>
"""


def line_breaks_after_maths(text: str, folder: Path) -> dict[str, int]:
    """How often Chromium starts a line with the punctuation after a formula."""
    import html
    import json

    from browser import _run

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "breaks.html"
    path.write_text(text.replace("</body>", BREAKS + "</body>"), encoding="utf-8")
    dom = _run(["--dump-dom", path.as_uri()], folder, 1280, 900)
    found = re.search(r'<pre id="symderiv-breaks">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    result: dict[str, int] = json.loads(html.unescape(found.group(1)))
    return result


def net_page() -> str:
    from symderiv.net import derive_net
    from symderiv.net.commands import render_net

    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
    return render_net(d, "html")


@pytest.mark.parametrize("which", ["layer", "net"])
def test_formula_and_its_punctuation_share_a_no_wrap_span(which: str) -> None:
    text = page(n=2, d=2, m=3, convention="torch") if which == "layer" else net_page()
    assert text.count('<span class="nowrap">') > 20
    assert not LOOSE.search(text), LOOSE.search(text)


@pytest.mark.slow
@pytest.mark.browser
def test_no_line_starts_with_the_punctuation_after_a_formula(tmp_path: Path) -> None:
    r = line_breaks_after_maths(net_page(), tmp_path)
    assert r["pairs"] > 60  # 73 formulas followed by , . ; : or )
    assert r["breaks"] == 0, r


def test_a_function_name_is_spaced_from_its_argument() -> None:
    """exp z and log p as TeX sets them (the converter glued them: "expz", "logp");
    a bracketed argument, vec(A) or max(0, z), needs no space."""
    from symderiv.render.mathml import tex_to_mathml

    out = tex_to_mathml(r"\exp z + t \log p + \operatorname{vec}(A) + \max(0, z)")
    assert out.count('<mi>exp</mi><mspace width="0.1667em"') == 1
    assert out.count('<mspace width="0.1667em"></mspace><mi>log</mi><mspace') == 1
    assert "<mi>vec</mi><mo" in out and "<mi>max</mi><mo" in out
