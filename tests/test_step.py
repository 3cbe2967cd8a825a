"""`symderiv derive --step`: one step at a time in a terminal, or one line of a pipe."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from rich.console import Console

from symderiv import derive
from symderiv.cli import cli, console, step

STEPS = 17  # steps of the default 2×2×3 derivation
PROMPT = re.compile(rb"step (\d+) of (\d+) \xc2\xb7 Enter")


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=100, color_system=None), buffer


def _answers(*lines: str | None) -> Iterator[str | None]:
    yield from lines
    raise AssertionError("asked for more input than the test gave")


# -- the walk, with a scripted reader ------------------------------------------------------------
def test_enter_enter_q_stops_after_step_3() -> None:
    console, buffer = _console()
    answers = _answers("\n", "\n", "q\n")
    done = step.step_through(
        derive(), console, pause=True, read_line=lambda: next(answers)
    )
    out = buffer.getvalue()
    assert done is False
    assert "Step 3 · " in out and "Step 4 · " not in out
    assert out.count("Enter: ") == 3
    assert out.rstrip().endswith("Stopped after step 3 of 17.")
    assert "Certificate" not in out


def test_end_of_input_stops_cleanly() -> None:
    console, buffer = _console()
    answers = _answers(None)
    done = step.step_through(
        derive(), console, pause=True, read_line=lambda: next(answers)
    )
    assert done is False
    assert "Step 1 · " in buffer.getvalue() and "Step 2 · " not in buffer.getvalue()
    assert "Stopped after step 1 of 17." in buffer.getvalue()


def test_enter_through_every_step_shows_the_certificate() -> None:
    console, buffer = _console()
    answers = _answers(*(["\n"] * STEPS))
    assert step.step_through(
        derive(), console, pause=True, read_line=lambda: next(answers)
    )
    out = buffer.getvalue()
    assert out.count("Enter: ") == STEPS
    assert "Enter: the certificate" in out
    assert "Certificate" in out and "All results verified." in out


def test_without_pauses_it_is_the_whole_view() -> None:
    console, buffer = _console()
    assert step.step_through(derive(), console, pause=False, read_line=lambda: None)
    whole, reference = _console()
    from symderiv.render.terminal import TerminalView

    whole.print(TerminalView(derive()))
    assert buffer.getvalue() == reference.getvalue()


# -- through the CLI ----------------------------------------------------------------------------
def test_input_from_a_pipe_is_honoured(runner: CliRunner) -> None:
    """CliRunner's stdin is no terminal: each pause reads a line, q stops, no prompt."""
    plain = runner.invoke(cli, ["derive"])
    stepped = runner.invoke(cli, ["derive", "--step"], input="\nq\n")
    assert stepped.exit_code == 0, stepped.stderr
    assert "Step 2 · " in stepped.stdout and "Step 3 · " not in stepped.stdout
    assert "Stopped after step 2 of 17." in stepped.stdout
    assert "Enter:" not in stepped.stdout  # stdout is no terminal: no prompt
    whole = runner.invoke(cli, ["derive", "--step"], input="\n" * STEPS)
    assert whole.exit_code == 0, whole.stderr
    assert "All results verified." in whole.stdout and "Stopped" not in whole.stdout
    assert "Certificate" in plain.stdout


def test_stdin_a_terminal_stdout_a_pipe_does_not_pause(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(console, "interactive", lambda: False)
    assert not console.step_reads_input()


def test_cli_input_steps_and_quits(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "interactive", lambda: True)
    result = runner.invoke(cli, ["derive", "--step"], input="\n\nq\n")
    assert result.exit_code == 0, result.stderr
    assert "Step 3 · " in result.stdout and "Step 4 · " not in result.stdout
    assert "Stopped after step 3 of 17." in result.stdout
    assert result.stderr == ""


def test_cli_quits_at_end_of_input(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "interactive", lambda: True)
    result = runner.invoke(cli, ["derive", "--step", "--wrt", "b"], input="\n")
    assert result.exit_code == 0
    assert "Stopped after step 2 of 9." in result.stdout


def test_cli_all_steps(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "interactive", lambda: True)
    result = runner.invoke(
        cli, ["derive", "--step", "--wrt", "X", "--format", "text"], input="\n" * 9
    )
    assert result.exit_code == 0
    assert "All results verified." in result.stdout
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize(
    "args", [["-o", "x.txt"], ["--format", "json"], ["--format", "latex"]]
)
def test_step_needs_the_terminal_view(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, ["derive", "--step", *args])
    assert result.exit_code == 2
    assert "--step" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# -- in a real pseudo-terminal ------------------------------------------------------------------
needs_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")


class Pty:
    """``symderiv ARGS`` on a pseudo-terminal of 80×40; every wait is bounded."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        import fcntl
        import struct
        import termios

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
        environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        environment.update({"TERM": "xterm-256color", "COLUMNS": "80"})
        environment.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "symderiv", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            close_fds=True,
        )
        os.close(slave)
        self.out = b""

    def read_until(
        self, pattern: re.Pattern[bytes], timeout: float = 60
    ) -> re.Match[bytes]:
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self.out)
            if match:
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; got {self.out[-400:]!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 1.0))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    raise AssertionError(f"exited early; got {self.out[-400:]!r}")
                self.out += chunk

    def __enter__(self) -> Pty:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def drain(self, seconds: float) -> None:
        """Read whatever arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    return

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:
                    break
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 1))


@needs_pty
def test_pty_steps_then_quits_with_q() -> None:
    with Pty(["derive", "--step"]) as term:
        _quit_after_two(term)


def _quit_after_two(term: Pty) -> None:
    first = term.read_until(PROMPT)
    assert first.group(1, 2) == (b"1", b"17")
    term.drain(0.5)
    assert b"Step 2 \xc2\xb7" not in term.out  # it waits for Enter
    term.send(b"\r")
    second = term.read_until(re.compile(rb"step 2 of 17 \xc2\xb7 Enter"))
    assert b"Step 2 \xc2\xb7 The forward pass" in term.out[first.end() :]
    assert second
    term.send(b"q\r")
    term.read_until(re.compile(rb"Stopped after step 2 of 17\."))
    assert term.finish() == 0
    assert b"Step 3 \xc2\xb7" not in term.out
    assert b"\x1b[" in term.out  # colour on a terminal


@needs_pty
def test_pty_ctrl_d_quits() -> None:
    with Pty(["derive", "--step", "--wrt", "W"]) as term:
        term.read_until(PROMPT)
        term.send(b"\x04")  # Ctrl-D on an empty line: end of input
        term.read_until(re.compile(rb"Stopped after step 1 of 9\."))
        assert term.finish() == 0


@needs_pty
def test_pty_no_color_means_no_escape_codes_while_stepping() -> None:
    with Pty(["derive", "--step", "--wrt", "b"], env={"NO_COLOR": "1"}) as term:
        term.read_until(PROMPT)
        term.send(b"\r")
        term.read_until(re.compile(rb"step 2 of 9"))
        term.send(b"q\r")
        term.read_until(re.compile(rb"Stopped after step 2 of 9\."))
        assert term.finish() == 0
    assert b"\x1b" not in term.out, term.out[:300]


@needs_pty
def test_pty_conventions_is_coloured_unless_no_color() -> None:
    with Pty(["conventions"]) as coloured:
        assert coloured.finish() == 0
    assert b"\x1b[" in coloured.out and b"Every row verified." in coloured.out
    with Pty(["conventions"], env={"NO_COLOR": "1"}) as plain:
        assert plain.finish() == 0
    assert b"\x1b" not in plain.out
    width = max(len(line.decode()) for line in plain.out.splitlines())
    assert width <= 80
