"""Ctrl-C and failures part-way: exit 130 (or 1), one line, nothing partial left behind.

The subprocess tests send a real SIGINT to ``python -m symderiv`` while it works. Each
runs with TMPDIR pointing at a private folder, so a temporary folder left behind (by a
PDF compile, say) is seen. The in-process tests raise KeyboardInterrupt at chosen points
(rendering, the rename of the atomic write) to cover moments a timer cannot hit.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import cli

#: stderr lines that may come before the error: the progress note of a long run.
PROGRESS_PREFIX = "symderiv: working"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _start(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    scratch = cwd / "tmp"
    scratch.mkdir(exist_ok=True)
    environment = {**os.environ, "TMPDIR": str(scratch), **(env or {})}
    environment.pop("NO_COLOR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "symderiv", *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt_after(
    proc: subprocess.Popen[str], seconds: float, wait_for: str | None = None
) -> tuple[int, str, str]:
    """SIGINT ``seconds`` after the start (or after a stderr line starting ``wait_for``).

    Waiting for the progress line makes sure the signal lands inside the command, not
    during interpreter start-up, however slow the machine. The process must still be
    working when the signal is sent.
    """
    first = ""
    if wait_for is not None:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready, "no progress line within 60 s"
        first = proc.stderr.readline()
        assert first.startswith(wait_for), first
    time.sleep(seconds)
    assert proc.poll() is None, (
        "finished before it could be interrupted; use larger sizes"
    )
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, first + err


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if not ln.startswith(PROGRESS_PREFIX)]


def _leftovers(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.name != "tmp"
    )


def _assert_interrupted(code: int, out: str, err: str) -> None:
    assert code == 130, (code, err[-2000:])
    assert "Traceback" not in err
    assert _error_lines(err) == [
        "Error: interrupted (Ctrl-C); no partial file was left."
    ], err


def test_ctrl_c_during_a_long_derivation_leaves_no_file(tmp_path: Path) -> None:
    proc = _start(
        [
            "derive",
            "--n",
            "72",
            "--d",
            "72",
            "--m",
            "72",
            "--format",
            "json",
            "-o",
            "out.json",
            "--force",
        ],  # fmt: skip
        tmp_path,
    )
    code, out, err = _interrupt_after(proc, 0.5, wait_for=PROGRESS_PREFIX)
    _assert_interrupted(code, out, err)
    assert out == ""
    assert _leftovers(tmp_path) == []  # no out.json, no .out.json.*.tmp
    assert list((tmp_path / "tmp").iterdir()) == []


def test_ctrl_c_during_a_long_derivation_to_stdout(tmp_path: Path) -> None:
    proc = _start(
        ["derive", "--n", "60", "--d", "60", "--m", "60", "--format", "text"], tmp_path
    )
    code, out, err = _interrupt_after(proc, 0.5, wait_for=PROGRESS_PREFIX)
    _assert_interrupted(code, out, err)
    assert out == ""  # nothing half-printed: the text is rendered before it is written


def test_ctrl_c_during_verify(tmp_path: Path) -> None:
    proc = _start(
        ["verify", "--n", "100", "--d", "100", "--m", "100", "--force"], tmp_path
    )
    code, out, err = _interrupt_after(proc, 2.5)
    _assert_interrupted(code, out, err)
    assert _leftovers(tmp_path) == []


# -- in-process: interruptions at precise moments ------------------------------------------
def test_ctrl_c_while_rendering_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    render_module = importlib.import_module("symderiv.render")

    def interrupted(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(render_module, "render", interrupted)
    monkeypatch.setattr(render_module, "stream", interrupted)  # JSON is streamed
    target = tmp_path / "out.json"
    result = CliRunner().invoke(cli, ["derive", "--format", "json", "-o", str(target)])
    assert result.exit_code == 130
    assert result.stderr == "Error: interrupted (Ctrl-C); no partial file was left.\n"
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_at_the_rename_leaves_neither_file_nor_temporary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)  # what write_atomic renames with
    target = tmp_path / "out.json"
    result = CliRunner().invoke(cli, ["derive", "--format", "json", "-o", str(target)])
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "Error: interrupted (Ctrl-C); no partial file was left."
    ]
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_at_the_rename_keeps_the_old_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    target.write_text("old\n")

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)  # what write_atomic renames with
    result = CliRunner().invoke(cli, ["derive", "--format", "json", "-o", str(target)])
    assert result.exit_code == 130
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_the_cli_maps_keyboard_interrupt_to_130_wherever_it_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's default SIGINT handler raises KeyboardInterrupt; nothing may swallow it."""
    derive_module = importlib.import_module("symderiv.derive")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(derive_module, "derive", interrupted)
    result = CliRunner().invoke(cli, ["derive", "--format", "json"])
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "Error: interrupted (Ctrl-C); no partial file was left."
    ]


# -- PDF: Ctrl-C during pdflatex, a failed compile, no TeX ------------------------------------
needs_pdf = pytest.mark.skipif(
    importlib.util.find_spec("symderiv.pdf") is None,
    reason="symderiv.pdf has not landed",
)


def _fake_tex(folder: Path, body: str) -> dict[str, str]:
    """A PATH whose pdflatex is the shell script ``body`` (and nothing else of TeX)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pdflatex"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


@needs_pdf
def test_ctrl_c_during_pdflatex_leaves_no_pdf_and_no_temporary_folder(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # A pdflatex that starts writing its PDF and then hangs (a slow compile).
    env = _fake_tex(
        tmp_path,
        'for a in "$@"; do case "$a" in -output-directory=*) out="${a#*=}";; esac; done\n'
        'printf "%%PDF-1.5 partial" > "${out:-.}/notes.pdf" 2>/dev/null\n'
        "sleep 30\n",
    )
    proc = _start(
        ["derive", "--format", "latex", "-o", "notes.tex", "--pdf"], work, env
    )
    code, out, err = _interrupt_after(proc, 2.0)
    _assert_interrupted(code, out, err)
    assert not (work / "notes.pdf").exists()
    assert list((work / "tmp").iterdir()) == []  # the compile folder is gone
    # The .tex was complete before the compile started; it stays, whole.
    assert sorted(p.name for p in work.iterdir()) == ["notes.tex", "tmp"]
    assert (work / "notes.tex").read_text().rstrip().endswith("\\end{document}")


@needs_pdf
def test_a_failed_pdflatex_leaves_no_half_written_pdf(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = _fake_tex(
        tmp_path,
        'for a in "$@"; do case "$a" in -output-directory=*) out="${a#*=}";; esac; done\n'
        'printf "%%PDF-1.5 partial" > "${out:-.}/notes.pdf" 2>/dev/null\n'
        'echo "! Undefined control sequence."\n'
        "exit 1\n",
    )
    proc = _start(
        ["derive", "--format", "latex", "-o", "notes.tex", "--pdf"], work, env
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert len(_error_lines(err)) == 1 and err.startswith("Error: "), err
    assert "Traceback" not in err
    assert not (work / "notes.pdf").exists()
    assert list((work / "tmp").iterdir()) == []


@needs_pdf
def test_no_tex_installed_is_exit_1_with_one_line(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = _start(
        ["derive", "--format", "latex", "-o", "notes.tex", "--pdf"],
        work,
        {"PATH": str(empty)},
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    lines = _error_lines(err)
    assert len(lines) == 1, err
    assert "tex" in lines[0].lower(), lines[0]
    assert not (work / "notes.pdf").exists()
