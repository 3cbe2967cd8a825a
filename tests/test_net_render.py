"""A network in every format, printed by the ordinary printers from its page.

The network's page (:mod:`symderiv.net.page`) is made of the single layer's block kinds,
so these tests check what a reader must find in each format (every layer's Jacobian, the
entry written out, both softmax routes, dW1 through the whole network, the certificate)
and that LaTeX and Beamer compile without an overfull box.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from symderiv.net import derive_net
from symderiv.net.commands import render_net
from symderiv.net.page import net_page
from symderiv.render.page import (
    KINDS,
    CertificateTable,
    Code,
    EntrySum,
    PageTitle,
    ShapeLedger,
    Sparsity,
    StepGroup,
    walk,
)
from tests.texutil import compile_tex

HEADLINE = dict(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
FORMATS = ("text", "latex", "beamer", "markdown", "ipynb", "html")


@pytest.fixture(scope="module")
def headline():  # type: ignore[no-untyped-def]
    return derive_net(**HEADLINE)


def test_text_shows_every_layer_and_both_softmax_routes(headline) -> None:  # type: ignore[no-untyped-def]
    text = render_net(headline, "text")
    flat = " ".join(text.split())  # a sentence may wrap anywhere
    for piece in (
        "Jacobian of the softmax",
        "Route 1: the chain rule",
        "Route 2: fused",
        "(P − T)/N",
        "∂vec(A1)/∂vec(Z1) = diag(vec R1)",
        "∂vec(Z1)/∂vec(W1) = X ⊗ I_K1",
        "dZ1 = dA1 ⊙ R1",
        "dW1 = Xᵀ·dZ1",
        "dW1 = Xᵀ·((dZ2·W2ᵀ) ⊙ R1)",
        "Backpropagation through the network",
        # the entry written out, in the network's entry names
        "∂L/∂w⁽²⁾₁,₁ = a⁽¹⁾₁,₁⋅dz⁽²⁾₁,₁ + a⁽¹⁾₂,₁⋅dz⁽²⁾₂,₁",
        # the summary's NumPy lines and the size argument
        "dZ1 = dA1 * R1",
        "dW1 = X.T @ dZ1",
        "6,576,668,672 entries",
        "All results verified.",
        "Where learners trip",
        # the shape of every formula, each product's sizes checked
        "dW1 2×3 (D×K1); Xᵀ·dZ1: (2×2)·(2×3) → 2×3",
    ):
        assert piece in text or piece in flat, piece
    titles = [line for line in text.splitlines() if line.startswith("Step ")]
    assert [int(t.split()[1]) for t in titles] == list(range(1, len(titles) + 1))


def test_text_fits_80_columns(headline) -> None:  # type: ignore[no-untyped-def]
    text = render_net(headline, "text", width=80)
    assert max(len(line) for line in text.splitlines()) <= 80


def test_text_is_deterministic() -> None:
    assert render_net(derive_net(**HEADLINE), "text") == render_net(
        derive_net(**HEADLINE), "text"
    )


def test_page_uses_the_single_layers_block_kinds(headline) -> None:  # type: ignore[no-untyped-def]
    blocks = net_page(headline)
    assert isinstance(blocks[0], PageTitle)
    kinds = {type(b) for b in walk(blocks)}
    assert kinds <= set(KINDS)
    for kind in (StepGroup, EntrySum, Sparsity, ShapeLedger, Code, CertificateTable):
        assert kind in kinds, kind.__name__
    steps = [b for b in walk(blocks) if isinstance(b, StepGroup)]
    assert [s.step.id for s in steps] == [s.id for s in headline.steps]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_prints_a_network(fmt: str, headline) -> None:  # type: ignore[no-untyped-def]
    out = render_net(headline, fmt)
    if fmt == "text":
        markers = ["w⁽²⁾₁,₁", "diag(vec R1)", "Certificate"]
    else:
        # LaTeX maths in every other format (MathML keeps the TeX as an annotation)
        markers = ["w^{(2)}_{1,1}", "\\odot", "Certificate"]
    if fmt == "html":
        markers = ["<math", "⊙", "Certificate"]
    for marker in markers:
        assert marker in out, (fmt, marker)
    assert "softmax Jacobian = block form" in out


def test_notebook_is_valid_and_its_setup_cell_runs(headline) -> None:  # type: ignore[no-untyped-def]
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.reads(render_net(headline, "ipynb"), as_version=4)
    nbformat.validate(nb)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert "derive_net(net='affine:3,relu,affine:2'" in setup.source
    printed = "".join(o.get("text", "") for o in setup.outputs)
    assert printed.startswith("True\n")
    # what the cell prints is the JSON's dL/dX
    data = json.loads(render_net(headline, "json"))
    assert printed == f"True\n{data['results']['X']['derivative'][0][0]}\n"


@pytest.mark.slow
def test_notebook_runs_in_a_kernel(headline) -> None:  # type: ignore[no-untyped-def]
    from tests.test_notebook_run import execute

    nb = execute(render_net(headline, "ipynb"))
    errors = [
        o
        for c in nb.cells  # type: ignore[attr-defined]
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []


@pytest.mark.parametrize("fmt", ["ipynb", "html", "markdown"])
def test_cli_writes_every_format(fmt: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from symderiv.cli import cli

    out = tmp_path / f"net.{fmt}"
    args = ["derive", "--net", "affine:2,relu,affine:2", "--n", "1", "--d", "1"]
    result = CliRunner().invoke(cli, [*args, "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Certificate" in out.read_text(encoding="utf-8")


def test_svg_is_the_terminal_view(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from symderiv.cli import cli

    svg = tmp_path / "net.svg"
    args = ["derive", "--net", "affine:2,relu", "--n", "1", "--d", "1"]
    result = CliRunner().invoke(cli, [*args, "--svg", str(svg), "--format", "text"])
    assert result.exit_code == 0, result.output
    picture = svg.read_text(encoding="utf-8")
    assert picture.startswith("<svg") and "affine:2,relu" in picture
    assert "Backpropagation through the network" in result.output


def test_step_walks_the_networks_steps() -> None:
    import io

    from rich.console import Console

    from symderiv.cli.step import step_through

    d = derive_net(net="affine:2,relu", n=1, d=1)
    answers = iter(["", "", "q"])
    console = Console(file=io.StringIO(), width=80)
    done = step_through(d, console, pause=True, read_line=lambda: next(answers))  # type: ignore[arg-type]
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert not done and f"step 3 of {len(d.steps)}" in out
    assert (
        "Stopped after step 3" in out and "Activation after layer 1 (relu): A1" in out
    )


def test_markdown_keeps_maths_in_blocks(headline) -> None:  # type: ignore[no-untyped-def]
    md = render_net(headline, "markdown")
    assert md.count("$$") % 2 == 0 and "\\odot" in md
    assert "```" in md and "dW1 = X.T @ dZ1" in md


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.parametrize("fmt", ["latex", "beamer"])
@pytest.mark.parametrize(
    "options",
    [
        HEADLINE,
        dict(
            net="affine:2,tanh,affine:3,sigmoid",
            loss="mse",
            n=3,
            d=1,
            convention="column",
            vec="col",
            layout="numerator",
        ),
        dict(
            net="affine:5,tanh,affine:4,relu,affine:3",
            loss="sum",
            n=4,
            d=3,
            convention="torch",
        ),
        dict(HEADLINE, convention="wx", vec="col", method="all"),
    ],
)
def test_latex_compiles_without_overfull_boxes(
    fmt: str, options: dict, tmp_path: Path
) -> None:
    compile_tex(render_net(derive_net(**options), fmt, max_entries=12), tmp_path)


def test_golden_text_of_the_headline_network(golden, headline) -> None:  # type: ignore[no-untyped-def]
    golden("net_affine3_relu_affine2_softmax_ce.txt", render_net(headline, "text"))


@pytest.mark.parametrize("method", ["index", "all"])
@pytest.mark.parametrize("convention", ["xw", "torch", "column"])
def test_index_view_collapses_the_deltas(method: str, convention: str) -> None:
    d = derive_net(
        net="affine:3,relu,affine:2,tanh",
        loss="mse",
        n=2,
        d=2,
        convention=convention,
        method=method,
    )
    assert d.verified
    index = [c for c in d.checks if c.claim == "index notation = chain rule"]
    # every derivative taken: W2, b2, A1 (affine), Z2 and Z1 (elementwise), X, W1, b1
    assert sorted(c.wrt for c in index) == sorted(
        ["Z2", "A1", "W2", "b2", "Z1", "X", "W1", "b1"]
    )
    ids = [s.id for s in d.steps]
    assert ("dZ1_dW1" in ids) == (method == "all")  # the Jacobian route too, or not
    seen: set[str] = set()
    for s in d.steps:
        assert set(s.uses) <= seen, (s.id, s.uses)
        seen.add(s.id)
    text = render_net(d, "text")
    assert "∂a⁽¹⁾ᵢⱼ/∂z⁽¹⁾ₖₗ = δᵢₖ δⱼₗ r⁽¹⁾ᵢⱼ" in text
    assert "= da⁽¹⁾ₖₗ r⁽¹⁾ₖₗ" in text
    w = "Σᵢ xᵢₖ dz⁽¹⁾ᵢₗ" if convention == "xw" else "Σᵢ dz⁽¹⁾ᵢₖ xᵢₗ"
    assert w in text


def test_tensor_method_is_refused_with_its_reason() -> None:
    from click.testing import CliRunner

    from symderiv.cli import cli

    args = ["derive", "--net", "affine:2", "--method", "tensor"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "layer by layer" in result.stderr


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.parametrize("fmt", ["latex", "beamer"])
def test_index_view_compiles(fmt: str, tmp_path: Path) -> None:
    d = derive_net(**HEADLINE, method="all")
    compile_tex(render_net(d, fmt), tmp_path)


def test_samples_as_columns_run_the_softmax_down_each_column() -> None:
    d = derive_net(**HEADLINE, convention="wx")
    assert d.verified and d.matrices["X"].shape == (2, 2)
    text = render_net(d, "text")
    assert "Column j of P" in text and "Σᵢ tᵢⱼ = 1" in text
    assert "dW1 = dZ1·Xᵀ" in text and "dW1 = ((W2ᵀ·dZ2) ⊙ R1)·Xᵀ" in text


@pytest.mark.parametrize("command", ["verify", "codegen"])
def test_verify_and_codegen_refuse_samples_as_columns(command: str) -> None:
    from click.testing import CliRunner

    from symderiv.cli import cli

    args = [command, "--net", "affine:2,relu", "--convention", "wx"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "samples as columns" in result.stderr


def test_a_deep_certificate_is_split_into_tables_that_fit() -> None:
    from symderiv.net.page import (
        CERTIFICATE_ROWS,
        CERTIFICATE_VARIABLES,
        certificate_parts,
    )

    d = derive_net(
        net="affine:2,relu,affine:2,relu,affine:2,relu,affine:2",
        loss="softmax-ce",
        n=1,
        d=1,
    )
    parts = certificate_parts(d.checks)
    assert len(parts) > 1
    assert [c for p in parts for c in p] == list(d.checks)  # nothing lost or moved
    for part in parts:
        assert len(part) <= CERTIFICATE_ROWS
        assert len({c.wrt for c in part}) <= CERTIFICATE_VARIABLES
    tables = [b for b in net_page(d) if isinstance(b, CertificateTable)]
    assert [t.checks for t in tables] == parts


def test_the_page_names_the_command_and_code_that_reproduce_it() -> None:
    import contextlib
    import io
    import shlex

    from click.testing import CliRunner

    from symderiv.cli import cli
    from symderiv.net.page import command_line, setup_code

    options = dict(
        net="affine:2,relu,affine:2",
        n=2,
        d=1,
        loss="mse",
        convention="torch",
        vec="col",
        method="all",
        wrt=("W1", "b2"),
    )
    d = derive_net(**options)  # type: ignore[arg-type]
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(setup_code(d.config), namespace)  # the notebook's first cell
    assert namespace["d"].config == d.config  # type: ignore[attr-defined]
    args = shlex.split(command_line(d.config))[1:]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"] == d.config.to_dict()


def test_latex_headings_set_their_maths_as_maths(headline) -> None:  # type: ignore[no-untyped-def]
    """No heading writes vec(P) or Z2 in roman text: its maths sits between dollars."""
    import re

    tex = render_net(headline, "latex")
    headings = re.findall(r"\\(?:sub)*section\{(.*)\}", tex)
    assert headings
    for heading in headings:
        prose = re.sub(r"\$[^$]*\$", "", heading)
        assert "vec(" not in prose and not re.search(r"\b[A-Z]\d\b", prose), heading


def test_the_whole_network_step_accounts_for_every_derivative(headline) -> None:  # type: ignore[no-untyped-def]
    """Shown composed, or named as using the top upstream directly: none goes missing."""
    text = render_net(headline, "text", width=200)
    step = text[text.index("The lower layers through the whole network, in dZ2") :]
    step = step[: step.index("\nStep ")]
    shown = {line.split(" = ")[0] for line in step.splitlines() if " = " in line}
    assert shown == {"dX", "dW1", "db1"}
    assert "dW2 and db2 use dZ2 directly" in step
    assert "down to the loss" not in step


def test_upstream_entries_are_one_italic_name_as_their_matrix(headline) -> None:  # type: ignore[no-untyped-def]
    """dz⁽²⁾₁,₁ is \\mathit{dz}, as the matrix \\mathit{dZ}_{2}: an upright d reads as a
    differential, and the product dz·w as a differential form."""
    tex = render_net(headline, "latex")
    assert r"\mathrm{d}" not in tex
    assert r"\mathit{dz}^{(2)}_{1,1}" in tex and r"\mathit{dZ}_{2}" in tex


def test_a_layer_is_named_alike_in_every_title(headline) -> None:  # type: ignore[no-untyped-def]
    """ "Layer 1 (affine, 3 outputs): Z1" in the forward pass and over its derivatives,
    never "Affine layer 1" in one place and "Layer affine:3 (Z1)" in another."""
    text = render_net(headline, "text", width=200)
    assert "Step 2 · Layer 1 (affine, 3 outputs): Z1, entry by entry" in text
    assert "Step 4 · Layer 2 (affine, 2 outputs): Z2, entry by entry" in text
    assert "Step 3 · Activation after layer 1 (relu): A1" in text
    for heading in (
        "Layer 2 (affine, 2 outputs): Z2, its derivatives",
        "Activation after layer 1 (relu): A1, its derivatives",
        "Layer 1 (affine, 3 outputs): Z1, its derivatives",
    ):
        assert f"\n{heading}\n" in text
    for old in ("Affine layer", "Layer affine:", "Layer relu", "Activation relu"):
        assert old not in text
    # and the progress shown on stderr for a large network
    tasks: list[str] = []
    derive_net(**HEADLINE, progress=lambda task, done, total: tasks.append(task))
    assert "Layer 1 (affine, 3 outputs): Z1" in tasks
    assert "Activation after layer 1 (relu): A1" in tasks


@pytest.mark.parametrize(
    ("loss", "data"),
    [("generic", {"dY"}), ("mse", {"T"}), ("softmax-ce", {"T"}), ("sum", set())],
)
def test_the_summary_says_exactly_what_each_line_uses(
    loss: str, data: set[str]
) -> None:
    """Each line of the backward pass reads results of lines above it (dW2 and dA1 both
    read dZ2, so not only the line before), weights, the loss's data and cached values:
    the note says so, and the lines bear it out."""
    from symderiv.net.notes import plain
    from symderiv.notation import Sym

    d = derive_net(net="affine:3,tanh,affine:2", loss=loss, n=2, d=2)
    summary = d.step("summary")
    above: set[str] = set()
    cached = {"X", "Z1", "A1", "Z2", "P"}
    used_data: set[str] = set()
    for eq in summary.equations:
        lhs, rhs = eq.parts[0], eq.parts[-1]
        assert isinstance(lhs, Sym)
        roles = {n.role for n in _leaves(rhs) if isinstance(n, Sym)}
        derivatives = {r for r in roles if r.startswith("d") and r != "dY"}
        assert derivatives <= above, (lhs.role, derivatives - above)
        used_data |= roles & {"dY", "T"}
        assert roles - derivatives - {"dY", "T"} <= cached | {"W1", "W2"}
        above.add(lhs.role)
    assert used_data == data
    note = plain(summary.note)
    assert "each line uses only results of lines above it, the weights" in note
    assert "the line before it" not in note
    assert ("the upstream derivative dY" in note) == ("dY" in data)
    assert ("the targets T" in note) == ("T" in data)
    page = render_net(d, "beamer")
    assert "the line before it" not in page


def _leaves(node):  # type: ignore[no-untyped-def]
    """Every node of a formula tree."""
    yield node
    for name in ("arg", "left", "right"):
        child = getattr(node, name, None)
        if child is not None and hasattr(child, "__dataclass_fields__"):
            yield from _leaves(child)
    for child in getattr(node, "args", ()):
        yield from _leaves(child)


def test_latex_keeps_the_certificate_heading_with_its_table(
    headline, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The heading, its sentence and the table share a page: the headline network's
    certificate used to leave "Certificate" and one sentence at the foot of page 12."""
    import shutil
    import subprocess

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    pdf = compile_tex(render_net(headline, "latex"), tmp_path)
    args = ["pdftotext", str(pdf), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")  # pdftotext ends each page with a form feed
    heads = [p for p in pages if re.search(r"^\d+\s+Certificate$", p, re.M)]
    assert heads, "no Certificate heading"
    for text in heads:
        assert "softmax Jacobian = block" in text or "Jacobian = Kronecker form" in text


@pytest.mark.parametrize("convention", ["xw", "torch"])
def test_the_summary_code_is_the_generated_backward_pass(convention: str) -> None:
    """The page's NumPy lines are the lines ``codegen --net`` writes (``self.`` and the
    comments aside): in torch each bias is a vector, so ``db1 = dZ1.sum(axis=0)`` on the
    page too (it printed ``keepdims=True``, a (1, K) gradient for a (K,) bias)."""
    from symderiv.net.codegen import generate_net
    from symderiv.net.page import code_lines

    net = "affine:3,relu,affine:2"
    d = derive_net(net=net, loss="softmax-ce", n=2, d=2, convention=convention)
    module = generate_net(net, convention=convention, loss="softmax-ce")
    backward = module.split("    def backward(", 1)[1].split("        return dX", 1)[0]
    generated = [
        f"{target} = {code.replace('self.', '')}"
        for target, code in re.findall(
            r"^ {8}(?:self\.)?(d\w+) = (.+?)  # ", backward, flags=re.M
        )
    ]
    page = code_lines(d)
    assert page[0] == "dZ2 = (P - T) / Z2.shape[0]"  # the upstream codegen is given
    assert page[1:] == generated
    assert any(".sum(axis=0" in line for line in generated)


DEEP = dict(
    net="affine:2,relu,affine:2,relu,affine:2,relu,affine:2",
    loss="softmax-ce",
    n=1,
    d=1,
)


@pytest.mark.parametrize(
    ("fmt", "heading", "verdict"),
    [
        ("latex", r"\section{Certificate}", "All results are verified."),
        ("markdown", "## Certificate", "All results are verified."),
        ("html", 'id="certificate"', "All results are verified."),
        ("beamer", r"\begin{frame}[t]{Certificate}", "all results hold."),
        ("text", "Certificate\n", "All results verified."),
    ],
)
def test_a_split_certificate_is_one_section_with_one_verdict(
    fmt: str, heading: str, verdict: str
) -> None:
    """A deep network's certificate spans several tables under one heading (the LaTeX
    article printed "Certificate" as a new section before every table, and HTML repeated
    its id), and the verdict, which speaks for every table, comes once, after the last."""
    d = derive_net(**DEEP)  # type: ignore[arg-type]
    tables = [b for b in net_page(d) if isinstance(b, CertificateTable)]
    assert len(tables) > 1
    page = render_net(d, fmt)  # type: ignore[arg-type]
    assert page.count(heading) == 1
    assert page.count(verdict) == 1
    later = (
        "Certificate (continued)"
        if fmt in ("beamer", "text")
        else "The certificate, continued:"
    )
    assert page.count(later) == len(tables) - 1  # slides: a frame per table
    assert page.index(heading) < page.rindex(later) < page.index(verdict)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "softmax-ce"])
def test_html_of_every_activation_has_no_mathml_error(
    activation: str, loss: str
) -> None:
    """Every formula of a network's web page converts to MathML: the tanh note's
    ``\\tanh' = 1 - \\tanh^{2}`` showed "msup with 3 parts" twice (a thin space after the
    function name was put inside the ``msup``)."""
    from symderiv.render.mathml import mathml_errors

    d = derive_net(net=f"affine:3,{activation},affine:2", loss=loss, n=2, d=2)
    assert mathml_errors(render_net(d, "html")) == []


def _printed_code(page: str, fmt: str) -> list[str]:
    """The NumPy lines of the summary as ``fmt`` prints them."""
    after = page.split("The same backward pass in NumPy, top down:", 1)[1]
    if fmt == "markdown":
        return after.split("```python\n", 1)[1].split("\n```", 1)[0].splitlines()
    lines = []
    for line in after.splitlines()[1:]:  # text: indented lines, up to a blank one
        if not line.strip():
            break
        lines.append(line.strip())
    return lines


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("convention", ["xw", "torch", "column"])
@pytest.mark.parametrize(
    ("net", "loss"),
    [("affine:3,tanh,affine:2", "mse"), ("affine:3,relu,affine:2", "softmax-ce")],
)
def test_the_printed_numpy_lines_run_and_give_the_closed_forms(
    net: str, loss: str, convention: str, fmt: str
) -> None:
    """The page's NumPy lines run as printed, at another batch size than the page's, and
    give every closed form's value: they printed ``dZ2 = (Z2 - T) / N`` (and
    ``(P - T) / N``), and N is no NumPy name."""
    from dataclasses import replace

    import numpy as np

    from symderiv.net.numeric import closed_values, draw_net_instance

    d = derive_net(net=net, loss=loss, n=2, d=2, convention=convention)
    lines = _printed_code(render_net(d, fmt), fmt)  # type: ignore[arg-type]
    assert lines and lines[0].startswith("dZ2 = ")
    instance = draw_net_instance(replace(d.config, n=5), seed=1)
    _, cache = instance.forward()
    names = {"np": np, **instance.variables(), **cache, "T": instance.T}
    for line in lines:
        exec(line, names)  # noqa: S102 -- the page's own code, the point of the test
    for var, expected in closed_values(instance).items():
        got = names[f"d{var}"]
        assert got.size == expected.size and got.shape[-1] == expected.shape[-1], var
        if not var.startswith("b"):
            assert got.shape == instance.variables()[var].shape, var
        np.testing.assert_allclose(
            got.ravel(), expected.ravel(), rtol=1e-12, err_msg=var
        )


@pytest.mark.parametrize(
    ("fmt", "defined"),
    [
        ("text", "D = 2, K1 = 3, K2 = 2"),
        ("latex", "$D = 2, K_{1} = 3, K_{2} = 2$"),
        ("beamer", "$D = 2, K_{1} = 3, K_{2} = 2$"),
        ("markdown", "D = 2, K_{1} = 3, K_{2} = 2"),
        ("ipynb", "D = 2, K_{1} = 3, K_{2} = 2"),
        (
            "html",
            "<msub><mi>K</mi><mrow><mn>1</mn></mrow></msub><mo>=</mo><mn>3</mn>",
        ),
    ],
)
def test_the_width_names_are_defined_in_every_format(fmt: str, defined: str) -> None:
    """The shapes and Kronecker forms say W1 is D×K1 and A1 ⊗ I_K2: the title and Step 1
    say what D, K1 and K2 are (they gave only "widths 2 → 3 → 2")."""
    d = derive_net(net="affine:3,tanh,affine:2", loss="mse", n=2, d=2)
    page = render_net(d, fmt)  # type: ignore[arg-type]
    assert page.count(defined) >= 2  # the title and Step 1


_FACTORED = {
    "tanh": {
        "text": ("1 − a⁽¹⁾₁,₁²", "∂L/∂z⁽¹⁾₁,₁ = da⁽¹⁾₁,₁⋅(1 − a⁽¹⁾₁,₁²)"),
        "latex": (
            r"1 - {a^{(1)}_{1,1}}^{2} & 0",
            r"\mathit{da}^{(1)}_{1,1} \, (1 - {a^{(1)}_{1,1}}^{2})",
        ),
    },
    "sigmoid": {
        "text": ("a⁽¹⁾₁,₁(1 − a⁽¹⁾₁,₁)", "∂L/∂z⁽¹⁾₁,₁ = da⁽¹⁾₁,₁"),
        "latex": (
            r"a^{(1)}_{1,1} (1 - a^{(1)}_{1,1}) & 0",
            r"\mathit{da}^{(1)}_{1,1} \, a^{(1)}_{1,1} (1 - a^{(1)}_{1,1})",
        ),
    },
}


@pytest.mark.parametrize("fmt", ["text", "latex", "markdown"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_a_smooth_activations_entries_are_shown_factored(
    activation: str, fmt: str
) -> None:
    """∂L/∂Z1 reads da⋅(1 − a²) (sigmoid da⋅a(1 − a)) in every format, as the closed form
    dA1 ⊙ (1 − A1 ⊙ A1) and the note's 1 − a² say: the entries printed expanded
    (da − a⋅a⋅da), the terminal's entry written out differed from the article's, and the
    Jacobian's diagonal read 1 − a⋅a."""
    d = derive_net(net=f"affine:3,{activation},affine:2", loss="mse", n=2, d=2)
    page = render_net(d, fmt)  # type: ignore[arg-type]
    diagonal, entry = _FACTORED[activation]["text" if fmt == "text" else "latex"]
    assert diagonal in page and entry in page
    for expanded in (  # a⋅a (not da⋅a: sigmoid's da⋅a(1 − a)), da − ...
        r"(?<!d)a⁽¹⁾₁,₁⋅?a⁽¹⁾₁,₁",
        r"da⁽¹⁾₁,₁ ?− ?",
        r"a\^\{\(1\)\}_\{1,1\} \\, a\^\{\(1\)\}_\{1,1\}",
        r"\\mathit\{da\}\^\{\(1\)\}_\{1,1\} - ",
    ):
        assert not re.search(expanded, page), expanded


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_the_factored_entries_are_the_checked_polynomials(activation: str) -> None:
    """Display only: each factored entry, its factor multiplied out, is exactly the entry
    the derivation computed and the certificate checked."""
    from symderiv.algebra import ONE, Poly
    from symderiv.net.page import _Factored
    from symderiv.notation import Explicit
    from symderiv.render.names import SLOPE, slope_atom

    d = derive_net(net=f"affine:3,{activation},affine:2", loss="mse", n=2, d=2)
    shown = _Factored(d)
    factors = {}
    for entry in d.matrices["A1"].entries.values():
        a = Poly.atom(next(iter(entry.atoms())))
        for kind, value in (
            ("tanh", ONE - a * a),
            ("(tanh)", ONE - a * a),
            ("sigmoid", a - a * a),
        ):
            factors[slope_atom(kind, next(iter(entry.atoms())))] = value
    factored = 0
    for step in d.steps:
        pairs = [
            (old, new)
            for eq, shown_eq in zip(
                step.equations, shown.equations(step.equations), strict=True
            )
            for p, q in zip(eq.parts, shown_eq.parts, strict=True)
            for old, new in zip(_leaves(p), _leaves(q), strict=True)
            if isinstance(old, Explicit)
        ]
        for old, new in pairs:
            assert new.matrix.shape == old.matrix.shape
            for (i, j), p in old.matrix.entries.items():
                q = new.matrix[i, j]
                if any(f.startswith(SLOPE) for f in q.atoms()):
                    factored += 1
                    assert q.subs(factors) == p, (step.id, i, j)
                else:
                    assert q is p
    # the diagonal Jacobian (6), the chain rule's result, the reshape, the closed form
    assert factored == (0 if activation == "relu" else 6 * 5)


@pytest.mark.parametrize("kind", ["tanh", "(tanh)", "sigmoid"])
def test_a_factored_slope_is_drawn_without_sympy(kind: str) -> None:
    """The terminal draws a factored entry itself, as sympy would (a name sympy leaves
    alone), instead of importing sympy to print it (a second more for a tanh network)."""
    from symderiv.algebra import Poly
    from symderiv.conventions import Letters
    from symderiv.render.names import slope_atom, unicode_name
    from symderiv.render.pretty import pretty_poly

    atom = slope_atom(kind, "a1_2_3")
    for poly in (Poly({(atom,): 1}), Poly({("da1_2_3", atom): -2})):
        assert pretty_poly(poly, lambda a: unicode_name(a, Letters())) is not None


def test_a_tanh_network_at_80_columns_shows_more_of_its_diagonal() -> None:
    """At 80 columns the 6×6 diagonal Jacobian of tanh showed 1 − a⋅a in the first two
    columns and the last; written 1 − a², its first three and the last fit, and no line
    is longer than 80 (the 2×2 matrices of 4- and 3-term sums, Z2 and ∂L/∂X, need about
    100 columns in full, so they keep their ⋯)."""
    d = derive_net(net="affine:3,tanh,affine:2", loss="mse", n=2, d=2)
    text = render_net(d, "text", width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    jacobian = text.split("Jacobian of vec(A1) with respect to vec(Z1)")[1]
    jacobian = jacobian.split("diag(vec")[0]
    for i, j in ((1, 1), (1, 2), (1, 3), (2, 3)):
        assert f"1 − a⁽¹⁾{'₁₂'[i - 1]},{'₁₂₃'[j - 1]}²" in jacobian
