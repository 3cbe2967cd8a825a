"""Compile a .tex file written by symderiv into a PDF beside it, safely.

``compile_pdf("notes.tex")`` runs ``pdflatex -no-shell-escape -interaction=nonstopmode
-halt-on-error`` on a copy of the file in a fresh temporary folder (so auxiliary files never
litter the user's folder), with a time limit, once, or again only when the document reads
something back (references, Beamer's frame total) and the log asks for it, and copies the
PDF next to the source with the same stem, atomically: ``notes.pdf`` is either the
complete new PDF or untouched. The temporary folder is removed in every case, Ctrl-C
included. TeX may only read and write inside that folder (``openin_any`` and
``openout_any`` are set to paranoid).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import TexError
from .fileio import write_atomic

#: Seconds one pdflatex run may take before it is stopped.
DEFAULT_TIMEOUT = 180.0
#: At most this many runs (references, beamer's frame count) per compile.
MAX_RUNS = 3
PDFLATEX_ARGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error")
INSTALL_HINT = (
    "pdflatex not found; install TeX Live (e.g. apt-get install texlive-latex-base "
    "texlive-latex-recommended texlive-pictures)"
)
_RERUN = re.compile(
    r"Rerun to get|Label\(s\) may have changed|There were undefined references|"
    r"rerun LaTeX|Rerun LaTeX"
)
_JOB = "document"
#: What a document reads back from its .aux (or .toc, .nav) on the next run: only then can
#: a rerun change the PDF. The article has labels but no references, so the "Label(s) may
#: have changed" of its first run is ignored and it compiles in one run.
_READS_BACK = re.compile(
    rb"\\(?:ref|eqref|pageref|autoref|nameref|cref|Cref|cite|tableofcontents|"
    rb"listoffigures|listoftables|inserttotalframenumber)(?![A-Za-z])"
)


def first_error(log: str) -> str:
    """The first TeX error of a log, with its line number when TeX gives one.

    >>> first_error("...\\n! Undefined control sequence.\\nl.12 \\\\foo\\n")
    'Undefined control sequence. (line 12)'
    """
    lines = log.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("!"):
            message = line.lstrip("! ").strip()
            for follow in lines[k + 1 : k + 12]:
                m = re.match(r"l\.(\d+)", follow)
                if m:
                    return f"{message} (line {m.group(1)})"
            return message
    return ""


def _run(exe: str, folder: Path, timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            [exe, *PDFLATEX_ARGS, f"{_JOB}.tex"],
            cwd=folder,
            # TeX may read and write only inside the compile folder (and its own tree).
            env={**os.environ, "openin_any": "p", "openout_any": "p"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TexError(
            f"pdflatex took longer than {timeout:.0f} s and was stopped"
        ) from None
    except OSError as exc:
        raise TexError(f"cannot run pdflatex: {exc.strerror or exc}") from None


def compile_pdf(
    tex_path: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    runs: int | None = None,
) -> Path:
    """Compile ``tex_path`` with pdflatex and write the PDF beside it (same stem).

    Args:
        tex_path: the .tex file (``notes.tex`` gives ``notes.pdf``).
        timeout: seconds each pdflatex run may take.
        runs: exactly this many runs; default: one, and more (up to 3) while the log asks
            for a rerun (cross references, Beamer's total frame count).

    Returns:
        The path of the PDF.

    Raises:
        TexError: no pdflatex on PATH, the compile failed (with TeX's first error line),
            or it took too long. No PDF is written then, and an old one is left as it was.
    """
    source = Path(tex_path)
    target = source.with_suffix(".pdf")
    exe = shutil.which("pdflatex")
    if exe is None:
        raise TexError(INSTALL_HINT)
    try:
        text = source.read_bytes()
    except OSError as exc:
        raise TexError(f"cannot read {source}: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="symderiv-tex-") as tmp:
        folder = Path(tmp)
        (folder / f"{_JOB}.tex").write_bytes(text)
        for k in range(MAX_RUNS if runs is None else runs):
            result = _run(exe, folder, timeout)
            out = result.stdout.decode("utf-8", errors="replace")
            log_path = folder / f"{_JOB}.log"
            log = log_path.read_text("utf-8", "replace") if log_path.exists() else out
            if result.returncode != 0 or not (folder / f"{_JOB}.pdf").exists():
                line = first_error(log) or first_error(out)
                reason = line or f"pdflatex exited with status {result.returncode}"
                raise TexError(f"pdflatex failed on {source}: {reason}")
            if runs is None and not _needs_rerun(text, log, folder, k):
                break
        write_atomic(target, (folder / f"{_JOB}.pdf").read_bytes())
    return target


def _needs_rerun(text: bytes, log: str, folder: Path, run: int) -> bool:
    """True when another pdflatex run can change the PDF.

    Only a document that reads something back (references, contents, Beamer's frame
    total) can change on a rerun, and then only when the log asks for one, or, for
    Beamer's total, after the first run wrote the .nav file.
    """
    if not _READS_BACK.search(text):
        return False
    if _RERUN.search(log):
        return True
    total = b"\\inserttotalframenumber" in text
    return total and run == 0 and (folder / f"{_JOB}.nav").exists()


__all__ = [
    "DEFAULT_TIMEOUT",
    "INSTALL_HINT",
    "compile_pdf",
    "first_error",
]
