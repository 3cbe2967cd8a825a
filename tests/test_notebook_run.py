"""The notebook as a student opens it: run by a real kernel, and converted through LaTeX."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from texutil import compile_tex

from symderiv import derive
from symderiv.render import render


def execute(text: str) -> object:
    """The notebook ``text`` run top to bottom by a Python kernel (nbclient)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:  # start from a clean notebook, as a student would
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    # A kernel may split one print into several stream messages when the machine is busy;
    # Jupyter's front ends show them as one, and so does ``coalesce_streams``.
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", coalesce_streams=True
    ).execute()
    return nb


def pandoc() -> str:
    exe = shutil.which("pandoc")
    if exe is None:
        if os.environ.get("SYMDERIV_REQUIRE_TEX") == "1":
            pytest.fail("pandoc is required (SYMDERIV_REQUIRE_TEX=1) but not installed")
        pytest.skip("pandoc is not installed")
    return exe


@pytest.mark.slow
def test_notebook_runs_and_shows_matrices() -> None:
    nb = execute(render(derive(n=2, d=2, m=3, convention="torch"), "ipynb"))
    code = [c for c in nb.cells if c.cell_type == "code"]  # type: ignore[attr-defined]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    shown = [
        o.data for c in code for o in c.outputs if o.output_type == "execute_result"
    ]
    # Every Jacobian and every derivative is displayed as a matrix, in the page's names.
    assert len(shown) == 6
    for data in shown:
        assert data["text/latex"].startswith("$\\displaystyle \\left[")
    assert any("x_{1,1}" in data["text/latex"] for data in shown)
    assert any(
        "\\frac{\\partial L}{\\partial y_{1,1}}" in d["text/latex"] for d in shown
    )


@pytest.mark.slow
def test_stored_outputs_are_what_a_kernel_shows() -> None:
    """The outputs symderiv stores equal those of a real run (same kinds, same text)."""
    text = render(derive(n=1, d=2, m=2), "ipynb")
    nbformat = pytest.importorskip("nbformat")
    stored = nbformat.reads(text, as_version=4)
    ran = execute(text)
    for a, b in zip(stored.cells, ran.cells, strict=True):  # type: ignore[attr-defined]
        if a.cell_type == "code":
            assert [o.output_type for o in a.outputs] == [
                o.output_type for o in b.outputs
            ]
            for x, y in zip(a.outputs, b.outputs, strict=True):
                if x.output_type == "execute_result":
                    assert x.data["text/latex"] == y.data["text/latex"]


@pytest.mark.slow
@pytest.mark.latex
def test_notebook_converts_to_pdf_through_latex(tmp_path: Path) -> None:
    """1×11×12: matrices past amsmath's 10 columns, in Markdown cells and in outputs."""
    nbformat = pytest.importorskip("nbformat")
    nb = execute(render(derive(n=1, d=11, m=12), "ipynb"))
    path = tmp_path / "nb.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    tex = subprocess.run(
        [pandoc(), "-f", "ipynb", "-s", "-t", "latex", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "MaxMatrixCols" not in tex
    assert "\\displaystyle \\left[" in tex  # the displayed matrices came along
    compile_tex(tex, tmp_path / "pdf", vbox=False, hbox=False)
