"""The slides in teaching order (issue 15): the first chain-rule entry is built term by
term with the row of ȳ and column 1 of the Jacobian coloured, before the whole product
row; the teaching devices keep each slice beside its contraction; the maths stays at a
size a projector shows (measured in the compiled PDF, not estimated)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from symderiv.derive import derive
from symderiv.render import render

FRAME = re.compile(
    r"\\begin\{frame\}(?:\[[^\]]*\])?\{([^\n]*)\}\n(.*?)\\end\{frame\}", re.S
)
COLOURED = re.compile(r"\\textcolor<(\d+)-(\d+)>\{sdrow\}\{(.*?)\}(?= &| \\\\|\n)")
CURRENT = re.compile(r"\\textcolor<(\d+)>\{sdcur\}\{(.*)\}$")


def _slides(**options: object) -> str:
    return render(derive(**options), "beamer")  # type: ignore[arg-type]


def _chain_frame(tex: str, var: str) -> str:
    frames = [
        body for title, body in FRAME.findall(tex) if f"Chain rule for ${var}$" in title
    ]
    assert frames, var
    return frames[0]  # the step's own frame; the teaching devices follow


def _rows(tex: str, env: str) -> list[list[str]]:
    """The cells of the first matrix opened by ``env`` in ``tex``."""
    start = tex.index(env)
    body = tex[tex.index("\n", start) + 1 : tex.index("\\end{", start)]
    return [
        [c.strip() for c in line.rstrip(" \\").split(" & ")]
        for line in body.splitlines()
        if line.strip() and line.strip() != "\\hline"
    ]


def _uncovers(tex: str) -> list[tuple[int, int, str]]:
    """(position, slide, rest of the line) of each \\uncover<k->."""
    return [
        (m.start(), int(m[1]), m[2])
        for m in re.finditer(r"\\uncover<(\d+)->\{(.*)", tex)
    ]


CASES = [
    {},
    {"convention": "torch", "vec": "col", "loss": "mse"},
    {"convention": "column", "layout": "numerator"},
    {"convention": "wx"},
    {"n": 5, "d": 4, "m": 3},  # the row and the Jacobian elided on the slide
]


@pytest.mark.parametrize("options", CASES)
@pytest.mark.parametrize("var", ["X", "W", "b"])
def test_first_entry_is_built_with_its_row_and_column_coloured(
    options: dict[str, object], var: str
) -> None:
    tex = _slides(**options)
    d = derive(**options)  # type: ignore[arg-type]
    letter = d.config.letters.of(var)
    frame = _chain_frame(tex, letter)
    row_matrix = _rows(frame, "\\begin{bmatrix}")
    jacobian = _rows(
        frame, "\\begin{array}" if "\\begin{array}" in frame else "\\cdot\n"
    )
    assert len(row_matrix) == 1  # the upstream row
    row = row_matrix[0]
    # slides: 1 J_L = J_f·J_y, 2 the row, 3 the Jacobian, 4 the entry (coloured), then
    # one term per slide, then the whole product
    uncovers = _uncovers(frame)
    assert [k for _, k, _ in uncovers[:2]] == [2, 3]
    entry_at = frame.index("Entry 1 written out")
    terms = [(k, b) for at, k, b in uncovers if at > entry_at]
    assert terms
    assert frame.count("\\uncover<4->{%") == 1  # the left side and the sentence
    shown = [k for k, b in terms if "\\cdots" not in b]
    assert shown == list(range(5, 5 + len(shown)))
    # the whole row only after the entry, in place of the factors (same frame size)
    last = max(k for k, _ in terms)
    factors, whole = re.findall(r"\\only<(-?\d+)-?>", frame)
    assert (factors, whole) == (f"-{last}", str(last + 1))
    product = frame[
        frame.index(f"\\only<{whole}->") : frame.index("\\end{overlayarea}")
    ]
    assert "\\bar{" in product and "sdcur" not in product
    assert product.count("\\textcolor{sdrow}") == 1  # its first entry: the one built
    # the row of ȳ: every shown entry coloured from the entry's slide to its last term
    span = (4, last)
    cells = [c for c in row if c != "\\cdots"]
    for c in cells:
        m = re.fullmatch(r"\\textcolor<(\d+)-(\d+)>\{sdrow\}\{(.*)\}", c)
        assert m and (int(m[1]), int(m[2])) == span, c
    # the Jacobian: column 1 coloured, no other column
    for line in jacobian:
        if line[0] in ("\\vdots", "\\ddots"):
            continue
        assert line[0].startswith(f"\\textcolor<{span[0]}-{span[1]}>{{sdrow}}"), line
        assert all("sdrow" not in c for c in line[1:]), line
    # each term's slide colours exactly its pair: ȳ_r in the row, J[r, 1] in the column
    for k, body in terms:
        if "\\cdots" in body:
            assert "sdcur" not in body
            continue
        in_row = [c for c in cells if f"\\textcolor<{k}>{{sdcur}}" in c]
        in_col = [
            line[0] for line in jacobian if f"\\textcolor<{k}>{{sdcur}}" in line[0]
        ]
        if not in_row and "\\cdots" in row:  # ȳ_r is among the entries elided
            assert not in_col
            continue
        assert len(in_row) == 1 and len(in_col) == 1, (k, in_row, in_col)
        y = re.search(r"\{sdcur\}\{(.*)\}\}$", in_row[0])
        j = re.search(r"\{sdcur\}\{(.*)\}\}$", in_col[0])
        assert y and j
        term = re.search(r"\\textcolor<\d+>\{sdcur\}\{(.*)\}\}$", body)
        assert term, body
        want = [y[1]] if j[1] == "1" else [y[1], j[1]]  # the product, in either order
        assert sorted(term[1].lstrip("- ").split(" \\, ")) == sorted(want), (
            term[1],
            want,
        )


def test_slices_keep_each_pair_on_one_line() -> None:
    tex = _slides()
    device = [
        body
        for title, body in FRAME.findall(tex)
        if "Chain rule for $X$" in title and "other slicing" in body
    ]
    assert len(device) == 1
    lines = device[0].split("\\\\[0.8ex]")
    assert len(lines) == 4  # x_11, x_12, x_21, x_22: one line each
    for line, at in zip(lines, ["1,1", "1,2", "2,1", "2,2"], strict=True):
        assert f"\\partial Y}}{{\\partial x_{{{at}}}}}" in line
        assert f"\\partial L}}{{\\partial x_{{{at}}}}}" in line


# -- compiled: no overfull box, and the maths at a size a projector shows ----------------------
_INSTRUMENT = (
    r"\sbox{\sd@box}{$\displaystyle #2$}%",
    r"\sbox{\sd@box}{$\displaystyle #2$}\typeout{SDNAT \the\wd\sd@box}%",
)
_REPORT = (
    r"\usebox{\sd@box}}%",
    r"\typeout{SDFIT \the\c@framenumber\space\the\wd\sd@box}\usebox{\sd@box}}%",
)


def _scales(tex: str, folder: Path) -> dict[int, float]:
    """The smallest scale \\sdfit applied on each frame, read from pdflatex's log."""
    from texutil import compile_tex

    for old, new in (_INSTRUMENT, _REPORT):
        assert old in tex
        tex = tex.replace(old, new)
    pdf = compile_tex(tex, folder, name="slides")
    log = pdf.with_suffix(".log").read_text(encoding="latin-1")
    natural = [float(w) for w in re.findall(r"SDNAT ([\d.]+)pt", log)]
    fitted = re.findall(r"SDFIT (\d+) ([\d.]+)pt", log)
    assert natural and len(natural) == len(fitted)
    out: dict[int, float] = {}
    for nat, (frame, width) in zip(natural, fitted, strict=True):
        scale = float(width) / nat if nat else 1.0
        out[int(frame)] = min(out.get(int(frame), 1.0), scale)
    return out


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.parametrize(
    "options,floor",
    [
        ({}, 0.7),
        ({"convention": "column", "loss": "mse"}, 0.7),
        ({"n": 3, "d": 2, "m": 2}, 0.7),
        ({"method": "all"}, 0.7),  # index notation was 65 % (a sum's height misjudged)
        ({"n": 5, "d": 4, "m": 3}, 0.6),  # its 15×20 Jacobians, elided to 8×8
    ],
)
def test_slides_compile_at_projector_size(
    tmp_path: Path, options: dict[str, object], floor: float
) -> None:
    """No frame shrinks its maths below 70 % at the lecture's sizes (11 pt → 7.7 pt);
    the chain-rule frames and the slices beside them, the ones a lecturer talks over,
    stay at 75 % or more at every size (the summary with MSE's four formulas was 51 %,
    the slices at N = 5 42 %, the chain rule for W at N = 5 44 %)."""
    tex = _slides(**options)
    scales = _scales(tex, tmp_path)
    titles = [t for t, _ in FRAME.findall(tex)]
    titles.insert(0, "title")  # \titlepage's frame has no title argument
    assert min(scales.values()) >= floor, scales
    for frame, scale in scales.items():
        if "Chain rule" in titles[frame - 1] or "Backpropagation" in titles[frame - 1]:
            assert scale >= 0.75, (titles[frame - 1], scale)


@pytest.mark.slow
@pytest.mark.latex
def test_highlighted_frames_as_pictures(tmp_path: Path) -> None:
    """The entry's first slide shows the row and column in colour, the next one the pair
    in the second colour: pixels of both colours appear on the rendered pages."""
    import shutil

    from texutil import compile_tex

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed")
    np = pytest.importorskip("numpy")
    tex = _slides()
    pdf = compile_tex(tex, tmp_path, name="slides")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\f")
    chain = [k + 1 for k, page in enumerate(text) if "Chain rule for X" in page]
    # the step's frame: 1 + 2 + 1 (entry) + 3 terms + 1 (whole row) = 8 pages
    first = chain[0]
    colours = {}
    for page in (first + 2, first + 3, first + 4, first + 7):
        out = tmp_path / f"p{page}"
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "60",
                "-f",
                str(page),
                "-l",
                str(page),
                str(pdf),
                str(out),
            ],
            check=True,
        )
        ppm = next(tmp_path.glob(f"p{page}*.ppm"))
        colours[page] = _colour_counts(np, ppm)
    # the frame title is blue in Beamer's default theme: count against slide 3's
    base_blue, base_orange = colours[first + 2]
    assert base_orange == 0  # slide 3: the row and the Jacobian, nothing coloured yet
    blue4, orange4 = colours[first + 3]
    assert blue4 > base_blue + 50 and orange4 == 0  # slide 4: the row and the column
    blue5, orange5 = colours[first + 4]
    assert blue5 > base_blue + 20 and orange5 > 20  # slide 5: the first pair and term
    blue8, orange8 = colours[first + 7]
    # the whole row: its first entry (the one built) in the row's colour, no pair
    assert blue8 > base_blue + 10 and orange8 == 0


def _colour_counts(np, ppm: Path) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Pixels that are clearly blue (sdrow) and clearly orange (sdcur) in a binary PPM."""
    data = ppm.read_bytes()
    magic, width, height, depth = data.split(maxsplit=4)[:4]
    assert magic == b"P6" and depth == b"255"
    pixels = data[len(data) - int(width) * int(height) * 3 :]
    img = np.frombuffer(pixels, dtype=np.uint8).astype(np.int64).reshape(-1, 3)
    r, g, b = img[:, 0], img[:, 1], img[:, 2]
    blue = int(np.sum((b > r + 60) & (b > g + 30)))
    orange = int(np.sum((r > b + 80) & (g > b + 20) & (r > g + 20)))
    return blue, orange


# -- review: "Where learners trip" ------------------------------------------------------------
@pytest.mark.parametrize("layout", ["denominator", "numerator"])
def test_the_shapes_stay_with_the_bullet_that_announces_them(layout: str) -> None:
    """ "Why the shapes match:" is followed by the shapes, inside its own bullet, not by
    two unrelated bullets."""
    tex = _slides(layout=layout)
    (body,) = [b for t, b in FRAME.findall(tex) if t == "Where learners trip"]
    items = body.split("\\item ")[1:]
    (why,) = [i for i in items if "Why the shapes match:" in i]
    assert "\\underbrace" in why and "\\begin{aligned}" in why
    assert "\\underbrace" not in body[body.index("\\end{itemize}") :]


def test_the_memory_remark_says_what_takes_1_mib() -> None:
    """W alone is 64 MiB: only the closed form's result is 1 MiB."""
    tex = _slides()
    assert "the closed form needs" not in tex
    assert "its result takes 1 MiB" in tex
    article = render(derive(), "latex")  # the long remark: a result the size of X
    assert "stores a result the size of" in article


# -- review: hyperref's PDF strings -------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["beamer", "latex"])
def test_titles_with_maths_give_hyperref_readable_pdf_strings(
    tmp_path: Path, fmt: str
) -> None:
    """No "Token not allowed in a PDF string" warning, and the PDF's title reads as the
    formula does (not "Y = X  W + 1N  b")."""
    import shutil

    from texutil import compile_tex

    tex = render(derive(convention="column"), fmt)
    pdf = compile_tex(tex, tmp_path, name="doc")
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert "Token not allowed" not in log
    if shutil.which("pdfinfo"):
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        (title,) = [line for line in info.splitlines() if line.startswith("Title:")]
        assert "Z = A·Wᵀ + 1_N·bᵀ" in title
        assert "C_in = 2" in title or fmt == "latex"  # beamer adds the subtitle


def test_bold_reaches_the_convention_line() -> None:
    """--bold sets every matrix bold, the source's Z = A Wᵀ + 1 bᵀ included (it comes
    from the convention's forward map, not a hand-written string)."""
    tex = _slides(convention="column", bold=True)
    (line,) = [x for x in tex.splitlines() if "Convention: column" in x]
    assert (
        r"\mathbf{Z} = \mathbf{A} \, \mathbf{W}^{T}" in line and "Z = A W" not in line
    )
    plain = [x for x in _slides(convention="column").splitlines() if "Convention:" in x]
    assert r"Z = A \, W^{T}" in plain[0]


def test_the_jacobian_as_symbols_comes_before_its_values() -> None:
    """The function view says "its Jacobian as symbols, then evaluated": so do the frames."""
    from symderiv import derive
    from symderiv.render.beamer import render_beamer

    tex = render_beamer(derive(n=2, d=2, m=3))
    step5 = tex[tex.index("{Step 5:") : tex.index("{Step 6:")]
    symbols = step5.index(r"\dfrac{\partial y_{1,1}}{\partial x_{1,1}}")
    values = step5.index(r"I_{N} \otimes W^{T}")
    assert step5.index("as symbols, then evaluated") < symbols < values


@pytest.mark.parametrize("upstream", [None, "bar"])
def test_the_bar_notation_follows_the_sentence_that_introduces_it(
    upstream: str | None,
) -> None:
    """Step 3's frame: the upstream derivatives first, then what ȳ means (it used to sit
    above that sentence); with --upstream bar it holds throughout, not only below."""
    frames = [
        body
        for title, body in FRAME.findall(_slides(upstream=upstream))
        if "The upstream derivative" in title
    ]
    assert len(frames) == 1
    body = frames[0]
    lead = "Throughout" if upstream == "bar" else "Below"
    assert body.index("Backpropagation hands the layer") < body.index(
        lead + r", $\bar{y}_{ij}"
    )


def test_upstream_bar_says_the_notation_is_used_everywhere() -> None:
    """--upstream bar writes ȳ in every matrix: no 'inside the large matrices below we
    write … compactly', no reason about fractions being too tall."""
    text = render(derive(upstream="bar"), "text")  # type: ignore[arg-type]
    flat = " ".join(text.split())
    assert "compactly" not in flat and "a fraction would make" not in flat
    assert "every upstream derivative is written in the adjoint notation" in flat
    assert "compactly" in render(derive(), "text")  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.latex
def test_a_forward_pass_breaks_after_its_formula_rather_than_shrink(
    tmp_path: Path,
) -> None:
    """Y = XW + 1_N b = [2×3 matrix] on one line was scaled to fit the slide's width
    while two thirds of the frame stood empty (the lecturer review); the matrix now
    goes under its formula, at full size."""
    tex = _slides()
    scales = _scales(tex, tmp_path)
    titles = [t for t, _ in FRAME.findall(tex)]
    titles.insert(0, "title")
    (frame,) = [k for k, t in enumerate(titles, 1) if "forward pass" in t]
    assert scales[frame] >= 0.95, scales[frame]
    step = tex.split("The forward pass, entry by entry")[1].split(r"\end{frame}")[0]
    assert "\\begin{aligned}\nY &=" in step
