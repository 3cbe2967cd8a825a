"""How symderiv scales: its engine against the textbook sympy route and against the floor.

Run from the repository root (it is not part of the default test run)::

    python tests/benchmarks/scaling.py              # the full table, 2 … 64 (a few minutes)
    python tests/benchmarks/scaling.py --quick      # 2, 4, 8, 16 and fewer repeats
    python tests/benchmarks/scaling.py --sizes 2,8,32 --no-cli

For each size n = d = m it measures, each case in a fresh subprocess (wall time in the
process, imports excluded; peak memory is the child's maximum resident set size, read with
``os.wait4``, so C allocations count too):

1. **symderiv**: ``derive(...)`` of all three derivatives with the jacobian method, the
   certificate included, plus ``to_json()``;
2. **textbook**: sympy Matrices, ``Y = X*W + ones*b``, ``reshape``, ``Matrix.jacobian``,
   row times matrix, ``reshape`` back, ``expand`` and ``is_zero_matrix`` against the closed
   form, for X, W and b; skipped past the size where its measured growth predicts more
   than ``--textbook-limit`` seconds (the reason is printed);
3. **floor**: sympy forming the three closed forms dY·Wᵀ, Xᵀ·dY, 1ᵀ·dY as explicit
   matrices (symbols made beforehand): no exact method can return less.

Then it times whole processes (the median of several runs): ``symderiv --help``,
``derive --n 2 --d 2 --m 3``, the terminal view of 16×16×16 and its LaTeX with
``--pdf``; and checks that the 64×64×64 run draws a progress bar on a terminal (stderr
attached to a pseudo-terminal). It prints the machine, a Markdown table and each goal of
issue 6 with ✓ or ✗.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = (2, 4, 8, 12, 16, 24, 32, 48, 64)
QUICK_SIZES = (2, 4, 8, 16)
GiB = 2**30
MiB = 2**20


# -- the cases, run inside a worker process -----------------------------------------------


def case_symderiv(size: int) -> dict[str, Any]:
    """derive (jacobian method, certificate) + to_json, imports and a warm-up excluded."""
    from symderiv.derive import derive

    derive(n=1, d=1, m=1).to_json()  # loads every module the path needs
    start = time.perf_counter()
    derivation = derive(n=size, d=size, m=size, force=True)
    middle = time.perf_counter()
    text = derivation.to_json()
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "derive": middle - start,
        "json": end - middle,
        "json_bytes": len(text.encode()),
        "ok": derivation.verified,
    }


def _symbols(prefix: str, rows: int, cols: int) -> Any:
    import sympy as sp

    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}_{j + 1}"))


def case_textbook(size: int) -> dict[str, Any]:
    """The route of a sympy textbook: Matrix.jacobian, row times matrix, expand."""
    import sympy as sp

    n = d = m = size
    X, W, dY = _symbols("x", n, d), _symbols("w", d, m), _symbols("dy", n, m)
    b = sp.Matrix(1, m, lambda i, j: sp.Symbol(f"b_{j + 1}"))
    start = time.perf_counter()
    Y = X * W + sp.ones(n, 1) * b
    y = Y.reshape(n * m, 1)
    g = dY.reshape(1, n * m)
    ok = True
    for V, closed in ((X, dY * W.T), (W, X.T * dY), (b, sp.ones(1, n) * dY)):
        J = y.jacobian(V.reshape(V.rows * V.cols, 1))
        result = (g * J).reshape(V.rows, V.cols)
        ok = ok and bool((result - closed).expand().is_zero_matrix)
    return {"seconds": time.perf_counter() - start, "ok": ok}


def case_floor(size: int) -> dict[str, Any]:
    """sympy forming dY·Wᵀ, Xᵀ·dY and 1ᵀ·dY explicitly, and nothing else."""
    import sympy as sp

    n = d = m = size
    X, W, dY = _symbols("x", n, d), _symbols("w", d, m), _symbols("dy", n, m)
    ones = sp.ones(1, n)
    start = time.perf_counter()
    forms = (dY * W.T, X.T * dY, ones * dY)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "ok": all(f.shape for f in forms)}


CASES = {"symderiv": case_symderiv, "textbook": case_textbook, "floor": case_floor}


def peak_rss() -> int:
    """This process's peak resident set size in bytes (VmHWM: since its exec, C included).

    ``getrusage`` is the fallback where /proc is missing; on Linux its ru_maxrss also
    counts the parent's memory at fork time, which VmHWM does not.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def worker(kind: str, size: int) -> None:
    """Entry point of a child process: run one case, print its result as JSON."""
    result = CASES[kind](size)
    result["peak"] = peak_rss()
    print(json.dumps(result), flush=True)


# -- running children and reading their peak memory ----------------------------------------


@dataclass
class Run:
    """One finished child process."""

    seconds: float  # wall time of the whole process
    max_rss: int  # bytes
    returncode: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False


GNU_TIME = "/usr/bin/time"


def run_child(
    argv: list[str], *, timeout: float | None = None, cwd: Path | None = None
) -> Run:
    """Run ``argv``: its wall time and peak RSS.

    The peak comes from GNU time's ``%M`` when it is installed: Linux keeps a process's
    memory high-water mark across fork and exec, so ``os.wait4`` on a child of this
    (large) Python process would report at least this process's own size. Without GNU
    time it falls back to ``os.wait4`` (an overestimate for small commands).
    """
    start = time.perf_counter()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as peak,
    ):
        wrapped = argv
        if os.access(GNU_TIME, os.X_OK):
            wrapped = [GNU_TIME, "-f", "%M", "-o", peak.name, *argv]
        proc = subprocess.Popen(
            wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd
        )
        timed_out = False
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                timed_out = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        max_rss = usage.ru_maxrss * 1024  # kilobytes on Linux
        reported = peak.read().strip().splitlines()
        if wrapped is not argv and reported and reported[-1].isdigit():
            max_rss = int(reported[-1]) * 1024
        return Run(
            seconds=seconds,
            max_rss=max_rss,
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=timed_out,
        )


@dataclass
class Measure:
    """One case at one size: its in-process time and its process's peak memory."""

    seconds: float | None = None
    max_rss: int | None = None
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def measure(kind: str, size: int, timeout: float | None) -> Measure:
    argv = [sys.executable, __file__, "--worker", kind, str(size)]
    run = run_child(argv, timeout=timeout, cwd=ROOT)
    if run.timed_out:
        return Measure(max_rss=run.max_rss, note=f"stopped after {timeout:.0f} s")
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["?"])[-1]
        return Measure(max_rss=run.max_rss, note=f"failed: {last}")
    data = json.loads(run.stdout.strip().splitlines()[-1])
    return Measure(data["seconds"], data["peak"], data["ok"], extra=data)


# -- the machine ----------------------------------------------------------------------------


def machine() -> list[str]:
    """CPU model, cores, memory, OS, Python and library versions, load."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) * 1024 / GiB:.1f} GiB"
                break
    except OSError:
        pass
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    from importlib.metadata import PackageNotFoundError, version

    try:  # versions without importing (this process stays small)
        symengine_version = f"symengine {version('symengine')} installed (unused)"
    except PackageNotFoundError:
        symengine_version = "symengine not installed"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"CPU: {cpu}, {cores} cores ({usable} usable); memory {memory}",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"sympy {version('sympy')}, symderiv {version('symderiv')}, {symengine_version}",
        f"load average at start: {load:.2f}",
    ]


# -- whole processes ------------------------------------------------------------------------


def console_script() -> list[str]:
    """The ``symderiv`` console script of this interpreter (not a pyenv shim)."""
    beside = Path(sys.executable).with_name("symderiv")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("symderiv")
    return [found] if found else [sys.executable, "-m", "symderiv"]


@dataclass
class Timing:
    label: str
    seconds: float | None
    max_rss: int | None
    runs: int
    note: str = ""


def time_command(
    label: str, args: list[str], repeat: int, cwd: Path, timeout: float = 300
) -> Timing:
    """Median wall time of ``args`` over ``repeat`` runs (each must exit 0)."""
    times: list[float] = []
    peak = 0
    for _ in range(repeat):
        run = run_child(args, timeout=timeout, cwd=cwd)
        if run.returncode != 0 or run.timed_out:
            last = (run.stderr.strip().splitlines() or ["timed out"])[-1]
            return Timing(label, None, run.max_rss, len(times), f"failed: {last}")
        times.append(run.seconds)
        peak = max(peak, run.max_rss)
    return Timing(label, statistics.median(times), peak, repeat)


def latex_available() -> bool:
    from symderiv.render import RENDERERS

    return "latex" in RENDERERS


def progress_on_terminal(script: list[str], size: int, cwd: Path) -> tuple[bool, str]:
    """Run ``derive`` at ``size`` with stderr on a pseudo-terminal: is a bar drawn?"""
    master, slave = pty.openpty()
    out = cwd / "progress.json"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*script, "derive", "--n", str(size), "--d", str(size), "--m", str(size)]
        + ["--format", "json", "-o", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"},
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait()
    os.close(master)
    seconds = time.perf_counter() - start
    seen = b"".join(chunks).decode(errors="replace")
    drawn = "━" in seen and "Jacobian of Y by" in seen
    return drawn and proc.returncode == 0, (
        f"exit {proc.returncode} after {seconds:.1f} s; "
        f"{'bar with task names drawn' if drawn else 'no bar seen'} on stderr"
    )


# -- the report ------------------------------------------------------------------------------


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mb(size: int | None) -> str:
    if size is None:
        return "—"
    return f"{size / 1024:,.0f} kB" if size < MiB else f"{size / MiB:,.0f} MB"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "—"
    return f"{a / b:,.1f}×" if a / b >= 1 else f"{a / b:.2f}×"


def textbook_forecast(
    history: list[tuple[int, float]], size: int
) -> tuple[float, float]:
    """(predicted seconds, exponent k) of the textbook route at ``size``: t ∝ n^k.

    k comes from the last two measured sizes (at least 3); with fewer, or while the
    times are too short to show the growth (< 1 s), nothing is predicted (0.0) and the
    case runs under a timeout instead.
    """
    if len(history) < 2 or history[-1][1] < 1.0:
        return 0.0, 0.0
    (s1, t1), (s2, t2) = history[-2], history[-1]
    exponent = max(3.0, math.log(t2 / t1) / math.log(s2 / s1))
    return t2 * (size / s2) ** exponent, exponent


def say(line: str = "") -> None:
    print(line, flush=True)


@dataclass
class Row:
    """The three cases at one size."""

    size: int
    symderiv: Measure
    textbook: Measure
    floor: Measure


def scaling(sizes: tuple[int, ...], limit: float) -> list[Row]:
    """Measure the three cases at each size; print progress, the table and its notes."""
    say("## Scaling, n = d = m (each case in a fresh process)")
    rows: list[Row] = []
    history: list[tuple[int, float]] = []  # (size, seconds) of the textbook route
    notes: list[str] = []
    stopped = False  # the textbook route is skipped from here on
    for size in sizes:
        engine = measure("symderiv", size, timeout=1800)
        floor = measure("floor", size, timeout=1800)
        predicted, exponent = textbook_forecast(history, size)
        if stopped:
            textbook = Measure(note="skipped")
        elif predicted > limit:
            textbook = Measure(note="skipped")
            notes.append(
                f"textbook from {size} on: skipped, its measured growth (like "
                f"n^{exponent:.1f} from {history[-2][0]} to {history[-1][0]}) predicts "
                f"{predicted:,.0f} s at {size}, over the {limit:.0f} s limit"
            )
            stopped = True
        else:
            textbook = measure("textbook", size, timeout=2 * limit)
            if textbook.seconds is not None:
                history.append((size, textbook.seconds))
            else:
                notes.append(
                    f"textbook at {size}: {textbook.note}; larger sizes skipped"
                )
                stopped = True
        for name, m in (("symderiv", engine), ("floor", floor), ("textbook", textbook)):
            if m.ok is False:
                notes.append(f"{name} at {size}: NOT VERIFIED")
            elif m.note.startswith(("failed", "stopped")) and name != "textbook":
                notes.append(f"{name} at {size}: {m.note}")
        rows.append(Row(size, engine, textbook, floor))
        say(
            f"  {size:>3}: symderiv {fmt_s(engine.seconds)} ({fmt_mb(engine.max_rss)}), "
            f"textbook {fmt_s(textbook.seconds) if textbook.seconds else textbook.note}, "
            f"floor {fmt_s(floor.seconds)}"
        )
    say()
    say(
        "| n = d = m | symderiv: derive + JSON | peak | JSON | textbook sympy | peak "
        "| floor | peak | textbook / symderiv | symderiv / floor |"
    )
    say("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        e, t, f = row.symderiv, row.textbook, row.floor
        engine_time = (
            f"{fmt_s(e.seconds)} ({fmt_s(e.extra['derive'])} + {fmt_s(e.extra['json'])})"
            if e.seconds is not None
            else e.note
        )
        say(
            f"| {row.size} | {engine_time} | {fmt_mb(e.max_rss)} "
            f"| {fmt_mb(e.extra.get('json_bytes'))} "
            f"| {fmt_s(t.seconds) if t.seconds is not None else t.note or '—'} "
            f"| {fmt_mb(t.max_rss)} | {fmt_s(f.seconds)} | {fmt_mb(f.max_rss)} "
            f"| {fmt_ratio(t.seconds, e.seconds)} | {fmt_ratio(e.seconds, f.seconds)} |"
        )
    if notes:
        say()
    for note in notes:
        say(f"- {note}")
    return rows


LATEX_16 = "derive 16×16×16 --format latex -o x.tex --pdf"


def whole_processes(
    repeat: int, with_progress: bool
) -> tuple[list[Timing], tuple[bool, str] | None]:
    """Time the commands a user types; check the progress bar at 64×64×64."""
    script = console_script()
    say()
    say(f"## Whole processes (median of {repeat} runs; {' '.join(script)})")
    timings: list[Timing] = []
    progress = None
    big = ["derive", "--n", "16", "--d", "16", "--m", "16"]
    commands = [
        ("symderiv --help", ["--help"], repeat),
        (
            "symderiv derive --n 2 --d 2 --m 3",
            [*big[:1], "--n", "2", "--d", "2", "--m", "3"],
            repeat,
        ),
        ("derive 16×16×16 --format text", [*big, "--format", "text"], repeat),
        (LATEX_16, [*big, "--format", "latex", "-o", "x.tex", "--pdf"], min(repeat, 3)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp)
        for label, args, runs in commands:
            if label == LATEX_16 and not latex_available():
                note = "not available yet: no latex printer in symderiv.render"
                timings.append(Timing(label, None, None, 0, note))
                continue
            timings.append(time_command(label, [*script, *args], runs, here))
        on_path = shutil.which("symderiv")
        if on_path and Path(on_path).resolve() != Path(script[0]).resolve():
            label = f"symderiv --help via PATH ({on_path})"
            timings.append(time_command(label, [on_path, "--help"], repeat, here))
        if with_progress:
            progress = progress_on_terminal(script, 64, here)
    say("| command | wall time | peak | note |")
    say("|---|---:|---:|---|")
    for t in timings:
        say(f"| `{t.label}` | {fmt_s(t.seconds)} | {fmt_mb(t.max_rss)} | {t.note} |")
    if progress is not None:
        say()
        say(f"- progress bar at 64×64×64 on a terminal: {progress[1]}")
    return timings, progress


def goals(
    rows: list[Row], timings: list[Timing], progress: tuple[bool, str] | None
) -> None:
    """Each goal of issue 6 with ✓ (met), ✗ (missed) or — (not measured)."""
    say()
    say("## Goals (issue 6)")
    by_size = {row.size: row for row in rows}

    def goal(text: str, met: bool | None, figure: str) -> None:
        mark = "—" if met is None else ("✓" if met else "✗")
        say(f"- {mark} {text}: {figure}")

    if 16 in by_size:
        e, t = by_size[16].symderiv, by_size[16].textbook
        ratio = t.seconds / e.seconds if t.seconds and e.seconds else None
        goal(
            "16×16×16 at least 30× faster than the textbook route",
            None if ratio is None else ratio >= 30,
            "not measured" if ratio is None else f"{ratio:,.0f}×",
        )
    if 32 in by_size:
        e, f = by_size[32].symderiv, by_size[32].floor
        ratio = e.seconds / f.seconds if e.seconds and f.seconds else None
        goal(
            "32×32×32 at most 2× the floor",
            None if ratio is None else ratio <= 2,
            "not measured" if ratio is None else f"{ratio:.2f}× the floor",
        )
    if 64 in by_size:
        e = by_size[64].symderiv
        done = e.seconds is not None and bool(e.ok)
        small = e.max_rss is not None and e.max_rss < 4 * GiB
        bar = progress[0] if progress else None
        goal(
            "64×64×64 completes (derive + verify + JSON), peak < 4 GB, progress bar",
            done and small and bar is not False,
            f"{fmt_s(e.seconds)}, verified {e.ok}, peak {fmt_mb(e.max_rss)}"
            + ("" if progress is None else f"; {progress[1]}"),
        )
    limits = {
        "symderiv --help": (0.3, "`symderiv --help` < 0.3 s"),
        "symderiv derive --n 2 --d 2 --m 3": (2.0, "`derive --n 2 --d 2 --m 3` < 2 s"),
        "derive 16×16×16 --format text": (3.0, "terminal view of 16×16×16 < 3 s"),
        LATEX_16: (30.0, "LaTeX of 16×16×16 with its PDF < 30 s"),
    }
    for timing in timings:
        if timing.label in limits:
            limit, text = limits[timing.label]
            met = None if timing.seconds is None else timing.seconds < limit
            goal(text, met, timing.note or fmt_s(timing.seconds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated n = d = m (default 2,4,…,64)")
    parser.add_argument(
        "--quick", action="store_true", help="sizes 2,4,8,16; 3 runs per command"
    )
    parser.add_argument("--repeat", type=int, help="runs per whole-process timing (5)")
    parser.add_argument(
        "--textbook-limit",
        type=float,
        default=60.0,
        help="skip the textbook route where it is predicted to take longer (60 s)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip whole processes")
    parser.add_argument(
        "--worker", nargs=2, metavar=("CASE", "SIZE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return 0
    if args.sizes:
        sizes = tuple(sorted({int(s) for s in args.sizes.split(",") if s.strip()}))
    else:
        sizes = QUICK_SIZES if args.quick else SIZES
    repeat = args.repeat or (3 if args.quick else 5)

    say("## Machine")
    for line in machine():
        say(f"- {line}")
    say()
    rows = scaling(sizes, args.textbook_limit)
    timings: list[Timing] = []
    progress = None
    if not args.no_cli:
        timings, progress = whole_processes(repeat, with_progress=64 in sizes)
    goals(rows, timings, progress)
    return 0


if __name__ == "__main__":
    sys.exit(main())
