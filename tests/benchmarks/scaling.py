"""How symderiv scales, and what a lecturer waits for, each next to a yardstick.

Run from the repository root (it is not part of the default test run)::

    python tests/benchmarks/scaling.py              # everything, 2 … 64 and 128³ (~10 min)
    python tests/benchmarks/scaling.py --quick      # 2, 4, 8, 16; 3 pairs; no 64³/128³
    python tests/benchmarks/scaling.py --sizes 2,8,32 --no-cli

The machine it runs on may be busy, so every figure that a goal is about is a **ratio to
a yardstick measured in the same run, side by side**: the two are alternated and the
median of the pair-by-pair ratios is reported (with the medians of each side).

1. **Scaling** (n = d = m; each case in a fresh process, imports excluded):

   - **symderiv**: ``derive(...)`` of all three derivatives with the jacobian method,
     certificate included, then ``to_json()``;
   - **string floor**, in the same process, alternated with symderiv: the same JSON
     document (within a few per cent of its bytes) built with list comprehensions and
     f-strings (``"x_1_1*w_1_1 + … + b_1"``, the Jacobian triples, the three
     derivatives, name matrices and vec lists) and ``json.dumps(indent=2,
     sort_keys=True, ensure_ascii=False)``, cycle collector paused as in symderiv: no
     program that writes this document can do much less;
   - **sympy closed forms**: sympy forming dY·Wᵀ, Xᵀ·dY and 1ᵀ·dY as explicit matrices
     (symbols made beforehand). It is *not* a floor: symderiv derives, proves and writes
     everything faster than sympy merely multiplies these out;
   - **textbook sympy**: Matrices, ``Matrix.jacobian``, row times matrix, ``expand`` and
     ``is_zero_matrix``; skipped where its measured growth predicts more than
     ``--textbook-limit`` seconds.

2. **Whole processes** (the console script, as a lecturer types it), each alternated with
   its yardstick: ``python -c "import sympy"`` for the commands, one bare ``pdflatex``
   run on the same .tex in a fresh folder for ``--pdf``; peak memory (max RSS, from GNU
   time) of ``derive --n 64 --d 64 --m 64 --format json -o f.json`` and of 128³ with
   ``--force``; and whether the 64³ run draws a progress bar on a terminal.

It prints the machine and the load average (at the start and at the end), the tables,
and each goal of issues 6 and 16 with ✓ or ✗.
"""

from __future__ import annotations

import argparse
import gc
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = (2, 4, 8, 12, 16, 24, 32, 48, 64)
QUICK_SIZES = (2, 4, 8, 16)
GiB = 2**30
MiB = 2**20
GNU_TIME = "/usr/bin/time"
PDFLATEX_ARGS = ("-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error")


# -- the cases, run inside a worker process -----------------------------------------------


def string_floor(n: int, d: int, m: int) -> str:
    """The JSON document of ``derive(n, d, m)`` (xw, row order, generic loss), written
    with list comprehensions and ``json.dumps``: the floor for producing it in Python."""
    rn, rd, rm = range(1, n + 1), range(1, d + 1), range(1, m + 1)
    x = [[f"x_{i}_{k}" for k in rd] for i in rn]
    w = [[f"w_{k}_{j}" for j in rm] for k in rd]
    b = [[f"b_{j}" for j in rm]]
    dy = [[f"dy_{i}_{j}" for j in rm] for i in rn]
    y = [
        [" + ".join([*(f"x_{i}_{k}*w_{k}_{j}" for k in rd), f"b_{j}"]) for j in rm]
        for i in rn
    ]
    outputs = [(i, j) for i in rn for j in rm]
    jac_x = [
        [r, (i - 1) * d + k - 1, f"w_{k}_{j}"]
        for r, (i, j) in enumerate(outputs)
        for k in rd
    ]
    jac_w = [
        [r, (k - 1) * m + j - 1, f"x_{i}_{k}"]
        for r, (i, j) in enumerate(outputs)
        for k in rd
    ]
    jac_b = [[r, j - 1, "1"] for r, (i, j) in enumerate(outputs)]
    d_x = [[" + ".join(f"dy_{i}_{j}*w_{k}_{j}" for j in rm) for k in rd] for i in rn]
    d_w = [[" + ".join(f"x_{i}_{k}*dy_{i}_{j}" for i in rn) for j in rm] for k in rd]
    d_b = [[" + ".join(f"dy_{i}_{j}" for i in rn) for j in rm]]

    def result(
        shape: list[int], nonzeros: list[list[Any]], derivative: list[list[str]]
    ) -> dict[str, Any]:
        return {
            "jacobian": {"shape": shape, "nonzeros": nonzeros},
            "kronecker": {
                "text": "I_N ⊗ Wᵀ",
                "latex": "I_{N} \\otimes W^{T}",
                "verified": True,
            },
            "derivative": derivative,
            "closed_form": {"text": "dY·Wᵀ", "latex": "dY \\, W^{T}"},
            "verified": True,
        }

    document = {
        "schema": 1,
        "version": "0.1.0",
        "config": {
            "n": n,
            "d": d,
            "m": m,
            "convention": "xw",
            "vec": "row",
            "layout": "denominator",
            "loss": "generic",
            "method": "jacobian",
            "wrt": ["X", "W", "b"],
        },
        "matrices": {"X": x, "W": w, "b": b, "Y": y, "dY": dy},
        "vec": {
            "Y": [[i, j] for i, j in outputs],
            "X": [e for r in x for e in r],
            "W": [e for r in w for e in r],
            "b": b[0],
        },
        "results": {
            "X": result([n * m, n * d], jac_x, d_x),
            "W": result([n * m, d * m], jac_w, d_w),
            "b": result([n * m, m], jac_b, d_b),
        },
        "certificate": [
            {"wrt": v, "claim": c, "passed": True, "detail": "checked entry by entry"}
            for v in ("X", "W", "b")
            for c in ("Jacobian = Kronecker form", "chain rule = closed form")
        ],
        "verified": True,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def case_symderiv(size: int, repeat: int) -> dict[str, Any]:
    """derive + to_json and the string floor, alternated ``repeat`` times."""
    from symderiv.derive import derive

    derive(n=1, d=1, m=1).to_json()  # loads every module the path needs
    string_floor(1, 1, 1)
    pairs: list[tuple[float, float, float, float]] = []
    json_bytes = floor_bytes = 0
    ok = True
    peak = 0
    for k in range(repeat):
        t_derive, derivation = _timed(
            lambda: derive(n=size, d=size, m=size, force=True)
        )
        t_json, text = _timed(derivation.to_json)
        ok = ok and derivation.verified
        json_bytes = len(text.encode())
        del derivation, text
        if k == 0:
            peak = peak_rss()  # before the floor ever ran
        gc.disable()  # as symderiv's bulk_work
        try:
            t_floor, floor = _timed(lambda: string_floor(size, size, size))
        finally:
            gc.enable()
        floor_bytes = len(floor.encode())
        del floor
        pairs.append((t_derive, t_json, t_derive + t_json, t_floor))
    return {
        "seconds": statistics.median(p[2] for p in pairs),
        "derive": statistics.median(p[0] for p in pairs),
        "json": statistics.median(p[1] for p in pairs),
        "floor": statistics.median(p[3] for p in pairs),
        "ratio": statistics.median(p[2] / p[3] for p in pairs),
        "json_bytes": json_bytes,
        "floor_bytes": floor_bytes,
        "runs": repeat,
        "ok": ok,
        "peak": peak,
    }


def _symbols(prefix: str, rows: int, cols: int) -> Any:
    import sympy as sp

    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}_{j + 1}"))


def case_textbook(size: int, repeat: int) -> dict[str, Any]:
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
    return {"seconds": time.perf_counter() - start, "ok": ok, "peak": peak_rss()}


def case_closed_forms(size: int, repeat: int) -> dict[str, Any]:
    """sympy forming dY·Wᵀ, Xᵀ·dY and 1ᵀ·dY explicitly, and nothing else."""
    import sympy as sp

    n = d = m = size
    X, W, dY = _symbols("x", n, d), _symbols("w", d, m), _symbols("dy", n, m)
    ones = sp.ones(1, n)
    times = []
    forms: tuple[Any, ...] = ()
    for _ in range(max(1, min(repeat, 3))):
        start = time.perf_counter()
        forms = (dY * W.T, X.T * dY, ones * dY)
        times.append(time.perf_counter() - start)
    return {
        "seconds": statistics.median(times),
        "ok": all(f.shape for f in forms),
        "peak": peak_rss(),
    }


CASES: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "symderiv": case_symderiv,
    "textbook": case_textbook,
    "closed_forms": case_closed_forms,
}


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


def worker(kind: str, size: int, repeat: int) -> None:
    """Entry point of a child process: run one case, print its result as JSON."""
    print(json.dumps(CASES[kind](size, repeat)), flush=True)


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


def run_child(
    argv: list[str],
    *,
    timeout: float | None = None,
    cwd: Path | None = None,
    pipe: bool = False,
) -> Run:
    """Run ``argv``: its wall time and peak RSS.

    The peak comes from GNU time's ``%M`` when it is installed: Linux keeps a process's
    memory high-water mark across fork and exec, so ``os.wait4`` on a child of this
    (large) Python process would report at least this process's own size. Without GNU
    time it falls back to ``os.wait4`` (an overestimate for small commands). With
    ``pipe`` the child's stdout is a pipe that this process reads to the end (as in
    ``symderiv derive | less``); otherwise a temporary file.
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
            wrapped,
            stdout=subprocess.PIPE if pipe else out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
        piped = b""
        if pipe:
            assert proc.stdout is not None
            piped = proc.stdout.read()  # to the end: the child has closed its stdout
            proc.stdout.close()
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
            time.sleep(0.001)
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
            stdout=(piped or out.read()).decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=timed_out,
        )


@dataclass
class Measure:
    """One case at one size, measured in a worker process."""

    seconds: float | None = None
    max_rss: int | None = None
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def measure(kind: str, size: int, repeat: int, timeout: float | None) -> Measure:
    argv = [sys.executable, __file__, "--worker", kind, str(size), str(repeat)]
    run = run_child(argv, timeout=timeout, cwd=ROOT)
    if run.timed_out:
        return Measure(note=f"stopped after {timeout:.0f} s")
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["?"])[-1]
        return Measure(note=f"failed: {last}")
    data = json.loads(run.stdout.strip().splitlines()[-1])
    return Measure(data["seconds"], data["peak"], data["ok"], extra=data)


# -- the machine ----------------------------------------------------------------------------


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


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

    def installed(name: str) -> str:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            return f"{name} not installed"

    tex = shutil.which("pdflatex")
    tex_version = "no pdflatex"
    if tex:
        first = subprocess.run(
            [tex, "--version"], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        tex_version = first[0] if first else "pdflatex"
    return [
        f"CPU: {cpu}, {cores} cores ({usable} usable); memory {memory}",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{installed('sympy')}, {installed('rich')}, {installed('click')}, "
        f"{installed('symderiv')}",
        f"TeX: {tex_version}",
        f"load average (1, 5, 15 min) at start: {load_average()}",
    ]


def compile_bytecode() -> str:
    """Compile symderiv's bytecode once, as ``pip install`` does for sympy's.

    With ``PYTHONDONTWRITEBYTECODE`` set (some shells and containers set it) an editable
    install never caches its bytecode, so every command would recompile symderiv's sources
    (about 60 ms) while sympy, compiled by pip at install, would not: the comparison would
    measure the environment, not the program.
    """
    import compileall

    package = ROOT / "symderiv"
    ok = compileall.compile_dir(str(package), quiet=1, force=False)
    flag = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "unset"
    state = "compiled" if ok else "could not be compiled"
    return (
        f"bytecode: symderiv's {state} before timing (PYTHONDONTWRITEBYTECODE {flag})"
    )


# -- whole processes ------------------------------------------------------------------------


def console_script() -> list[str]:
    """The ``symderiv`` console script of this interpreter (not a pyenv shim)."""
    beside = Path(sys.executable).with_name("symderiv")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("symderiv")
    return [found] if found else [sys.executable, "-m", "symderiv"]


@dataclass
class Paired:
    """A command alternated with its yardstick: medians and the median pair ratio."""

    label: str
    yardstick: str
    seconds: float | None = None
    reference: float | None = None
    ratio: float | None = None
    max_rss: int | None = None
    runs: int = 0
    note: str = ""


Setup = Callable[[Path], None]


def paired(
    label: str,
    command: list[str],
    yardstick_label: str,
    yardstick: list[str],
    pairs: int,
    *,
    pipe: bool = False,
    setup: Setup | None = None,
    yardstick_setup: Setup | None = None,
    timeout: float = 600,
) -> Paired:
    """Run ``command`` and ``yardstick`` alternately ``pairs`` times, each in a fresh
    folder (``setup`` prepares it); the median of the pair-by-pair ratios."""
    result = Paired(label, yardstick_label)
    mine: list[float] = []
    theirs: list[float] = []
    peak = 0
    for _ in range(pairs):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            if setup is not None:
                setup(Path(a))
            if yardstick_setup is not None:
                yardstick_setup(Path(b))
            run = run_child(command, timeout=timeout, cwd=Path(a), pipe=pipe)
            if run.returncode != 0 or run.timed_out:
                last = (run.stderr.strip().splitlines() or ["timed out"])[-1]
                result.note = f"failed: {last}"
                return result
            ref = run_child(yardstick, timeout=timeout, cwd=Path(b))
            if ref.returncode != 0 or ref.timed_out:
                last = (ref.stderr.strip().splitlines() or ["timed out"])[-1]
                result.note = f"yardstick failed: {last[:120]}"
                return result
        mine.append(run.seconds)
        theirs.append(ref.seconds)
        peak = max(peak, run.max_rss)
    result.seconds = statistics.median(mine)
    result.reference = statistics.median(theirs)
    result.ratio = statistics.median(a / b for a, b in zip(mine, theirs, strict=True))
    result.max_rss = peak
    result.runs = pairs
    return result


def single(label: str, command: list[str], timeout: float = 3600) -> Paired:
    """One run of a big command (its wall time and peak memory; no yardstick)."""
    with tempfile.TemporaryDirectory() as folder:
        run = run_child(command, timeout=timeout, cwd=Path(folder))
    result = Paired(label, "", run.seconds, runs=1, max_rss=run.max_rss)
    if run.returncode != 0 or run.timed_out:
        last = (run.stderr.strip().splitlines() or ["timed out"])[-1]
        result.note = f"failed: {last}"
        result.seconds = None
    return result


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
    return f"{size / 1024:,.0f} kB" if size < MiB else f"{size / MiB:,.0f} MiB"


def fmt_ratio(a: float | None, b: float | None = 1.0) -> str:
    if a is None or b is None or b <= 0:
        return "—"
    return f"{a / b:,.1f}×" if a / b >= 10 else f"{a / b:.2f}×"


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
    """The cases at one size."""

    size: int
    symderiv: Measure
    textbook: Measure
    closed_forms: Measure


def in_process_repeats(size: int, quick: bool) -> int:
    if size >= 64:
        return 3
    if size >= 32:
        return 3 if quick else 5
    return 3 if quick else 7


def scaling(sizes: tuple[int, ...], limit: float, quick: bool) -> list[Row]:
    """Measure the cases at each size; print progress, the table and its notes."""
    say("## Scaling, n = d = m (each case in a fresh process, imports excluded)")
    rows: list[Row] = []
    history: list[tuple[int, float]] = []  # (size, seconds) of the textbook route
    notes: list[str] = []
    stopped = False  # the textbook route is skipped from here on
    for size in sizes:
        engine = measure("symderiv", size, in_process_repeats(size, quick), 1800)
        closed = measure("closed_forms", size, 3, 1800)
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
            textbook = measure("textbook", size, 1, 2 * limit)
            if textbook.seconds is not None:
                history.append((size, textbook.seconds))
            else:
                notes.append(
                    f"textbook at {size}: {textbook.note}; larger sizes skipped"
                )
                stopped = True
        for name, m in (("symderiv", engine), ("closed forms", closed)):
            if m.ok is False:
                notes.append(f"{name} at {size}: NOT VERIFIED")
            elif m.note:
                notes.append(f"{name} at {size}: {m.note}")
        rows.append(Row(size, engine, textbook, closed))
        say(
            f"  {size:>3}: symderiv {fmt_s(engine.seconds)}, string floor "
            f"{fmt_s(engine.extra.get('floor'))}, ratio "
            f"{fmt_ratio(engine.extra.get('ratio'))}; sympy closed forms "
            f"{fmt_s(closed.seconds)}; textbook "
            f"{fmt_s(textbook.seconds) if textbook.seconds else textbook.note}"
        )
    say()
    say(
        "| n = d = m | symderiv: derive + JSON | string floor | ÷ floor | peak | JSON "
        "(floor's) | sympy closed forms | ÷ symderiv | textbook sympy | ÷ symderiv |"
    )
    say("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        e, t, c = row.symderiv, row.textbook, row.closed_forms
        x = e.extra
        engine_time = (
            f"{fmt_s(e.seconds)} ({fmt_s(x['derive'])} + {fmt_s(x['json'])})"
            if e.seconds is not None
            else e.note
        )
        say(
            f"| {row.size} | {engine_time} | {fmt_s(x.get('floor'))} "
            f"| {fmt_ratio(x.get('ratio'))} | {fmt_mb(e.max_rss)} "
            f"| {fmt_mb(x.get('json_bytes'))} ({fmt_mb(x.get('floor_bytes'))}) "
            f"| {fmt_s(c.seconds)} | {fmt_ratio(c.seconds, e.seconds)} "
            f"| {fmt_s(t.seconds) if t.seconds is not None else t.note or '—'} "
            f"| {fmt_ratio(t.seconds, e.seconds)} |"
        )
    say()
    say(
        "Medians of the in-process runs (7 up to 24³, 5 at 32³–48³, 3 at 64³); "
        "÷ floor is the median of the run-by-run ratios; peak is the worker's VmHWM "
        "after its first derive + JSON (interpreter and imports included)."
    )
    for note in notes:
        say(f"- {note}")
    return rows


@dataclass
class Whole:
    """The whole-process measurements."""

    timings: list[Paired] = field(default_factory=list)
    progress: tuple[bool, str] | None = None

    def get(self, label: str) -> Paired | None:
        for t in self.timings:
            if t.label == label:
                return t
        return None


DERIVE_SMALL = "`derive --n 2 --d 2 --m 3` to a pipe"
CHECK = '`check --wrt W "X.T @ dY"`'
LATEX_PDF = "`derive --format latex -o a.tex --pdf`"
BEAMER_PDF = "`derive --format beamer -o s.tex --pdf`"
JSON_64 = "`derive --n 64 --d 64 --m 64 --format json -o f.json`"
JSON_128 = "`derive --n 128 --d 128 --m 128 --format json -o f.json --force`"
IMPORT_SYMPY = '`python -c "import sympy"`'
BARE_PDFLATEX = "one bare `pdflatex`"


def whole_processes(pairs: int, big: bool, huge: bool) -> Whole:
    """Time the commands a lecturer types, each next to its yardstick."""
    script = console_script()
    sympy = [sys.executable, "-c", "import sympy"]
    say()
    say(f"## Whole processes ({' '.join(script)}; each alternated with its yardstick)")
    whole = Whole()
    small = ["derive", "--n", "2", "--d", "2", "--m", "3"]
    jobs: list[Callable[[], Paired]] = [
        lambda: paired(
            "`symderiv --help`", [*script, "--help"], IMPORT_SYMPY, sympy, pairs
        ),
        lambda: paired(
            DERIVE_SMALL, [*script, *small], IMPORT_SYMPY, sympy, pairs, pipe=True
        ),
        lambda: paired(
            "`derive --n 2 --d 2 --m 3 --format json` to a pipe",
            [*script, *small, "--format", "json"],
            IMPORT_SYMPY,
            sympy,
            pairs,
            pipe=True,
        ),
        lambda: paired(
            CHECK,
            [*script, "check", "--wrt", "W", "X.T @ dY"],
            IMPORT_SYMPY,
            sympy,
            pairs,
        ),
        lambda: paired(
            "`derive --n 16 --d 16 --m 16 --format text` to a pipe",
            [
                *script,
                "derive",
                "--n",
                "16",
                "--d",
                "16",
                "--m",
                "16",
                "--format",
                "text",
            ],
            IMPORT_SYMPY,
            sympy,
            pairs,
            pipe=True,
        ),
    ]
    tex = shutil.which("pdflatex")
    for label, fmt, name in (
        (LATEX_PDF, "latex", "a.tex"),
        (BEAMER_PDF, "beamer", "s.tex"),
    ):
        if tex is None:
            whole.timings.append(Paired(label, BARE_PDFLATEX, note="no pdflatex"))
            continue
        source = subprocess.run(
            [*script, *small, "--format", fmt],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

        def write_source(folder: Path, name: str = name, source: str = source) -> None:
            (folder / name).write_text(source, encoding="utf-8")

        jobs.append(
            lambda label=label, fmt=fmt, name=name, write_source=write_source: paired(
                label,
                [*script, *small, "--format", fmt, "-o", name, "--pdf"],
                BARE_PDFLATEX,
                [tex, *PDFLATEX_ARGS, name],  # type: ignore[list-item]
                min(pairs, 5),
                yardstick_setup=write_source,
            )
        )
    for job in jobs:
        timing = job()
        whole.timings.append(timing)
        say(
            f"  {timing.label}: {fmt_s(timing.seconds)} vs {fmt_s(timing.reference)}, "
            f"ratio {fmt_ratio(timing.ratio)} {timing.note}"
        )
    if big:
        for label, size, extra in ((JSON_64, 64, []), (JSON_128, 128, ["--force"])):
            if size == 128 and not huge:
                continue
            args = [
                "derive",
                "--n",
                str(size),
                "--d",
                str(size),
                "--m",
                str(size),
                "--format",
                "json",
                "-o",
                "f.json",
                *extra,
            ]
            timing = single(label, [*script, *args])
            whole.timings.append(timing)
            say(
                f"  {label}: {fmt_s(timing.seconds)}, peak {fmt_mb(timing.max_rss)} "
                f"{timing.note}"
            )
        with tempfile.TemporaryDirectory() as tmp:
            whole.progress = progress_on_terminal(script, 64, Path(tmp))
    say()
    say(
        "| command | wall (median) | yardstick | yardstick wall | ratio (median of "
        "pairs) | peak | runs | note |"
    )
    say("|---|---:|---|---:|---:|---:|---:|---|")
    for t in whole.timings:
        say(
            f"| {t.label} | {fmt_s(t.seconds)} | {t.yardstick or '—'} "
            f"| {fmt_s(t.reference)} | {fmt_ratio(t.ratio)} | {fmt_mb(t.max_rss)} "
            f"| {t.runs} | {t.note} |"
        )
    if whole.progress is not None:
        say()
        say(f"- progress bar at 64×64×64 on a terminal: {whole.progress[1]}")
    return whole


def goals(rows: list[Row], whole: Whole | None) -> None:
    """Each goal of issues 16 and 6 with ✓ (met), ✗ (missed) or — (not measured)."""
    by_size = {row.size: row for row in rows}
    say()
    say("## Goals of issue 16 (ratios measured side by side in this run)")
    say()
    say("| figure | goal | measured | |")
    say("|---|---:|---:|---|")

    def line(figure: str, goal: str, value: str, met: bool | None) -> None:
        mark = "—" if met is None else ("✓" if met else "✗")
        say(f"| {figure} | {goal} | {value} | {mark} |")

    def ratio_goal(label: str, yardstick: str, limit: float) -> None:
        t = whole.get(label) if whole else None
        figure = f"{label} ÷ {yardstick}"
        if t is None or t.ratio is None:
            line(figure, f"≤ {limit}", t.note if t else "not measured", None)
            return
        value = f"{t.ratio:.2f} ({fmt_s(t.seconds)} vs {fmt_s(t.reference)})"
        line(figure, f"≤ {limit}", value, t.ratio <= limit)

    ratio_goal(DERIVE_SMALL, IMPORT_SYMPY, 0.8)
    ratio_goal(CHECK, IMPORT_SYMPY, 0.8)
    ratio_goal(LATEX_PDF, BARE_PDFLATEX, 1.6)
    ratio_goal(BEAMER_PDF, BARE_PDFLATEX, 1.3)
    if 64 in by_size and by_size[64].symderiv.extra.get("ratio") is not None:
        x = by_size[64].symderiv.extra
        line(
            "derive + JSON at 64³ ÷ the string floor (in process)",
            "≤ 2",
            f"{x['ratio']:.2f} ({fmt_s(x['seconds'])} vs {fmt_s(x['floor'])})",
            x["ratio"] <= 2,
        )
    else:
        line(
            "derive + JSON at 64³ ÷ the string floor (in process)",
            "≤ 2",
            "not measured",
            None,
        )
    for label, limit in ((JSON_64, 500 * MiB), (JSON_128, 3 * GiB)):
        t = whole.get(label) if whole else None
        if t is None or t.seconds is None:
            line(
                f"peak memory, {label}",
                f"≤ {fmt_mb(limit)}",
                t.note if t else "not measured",
                None,
            )
        else:
            line(
                f"peak memory, {label}",
                f"≤ {fmt_mb(limit)}",
                f"{fmt_mb(t.max_rss)} ({fmt_s(t.seconds)})",
                t.max_rss is not None and t.max_rss <= limit,
            )

    say()
    say("## Goals of issue 6")
    if 16 in by_size:
        e, t = by_size[16].symderiv, by_size[16].textbook
        ratio = t.seconds / e.seconds if t.seconds and e.seconds else None
        mark = "—" if ratio is None else ("✓" if ratio >= 30 else "✗")
        value = "not measured" if ratio is None else f"{ratio:,.0f}×"
        say(f"- {mark} 16×16×16 at least 30× faster than the textbook route: {value}")
    if 32 in by_size:
        e, c = by_size[32].symderiv, by_size[32].closed_forms
        ratio = e.seconds / c.seconds if e.seconds and c.seconds else None
        mark = "—" if ratio is None else ("✓" if ratio <= 2 else "✗")
        value = "not measured" if ratio is None else f"{ratio:.2f}×"
        say(
            f"- {mark} 32×32×32 at most 2× sympy forming the closed forms (issue 6 "
            f"called it the floor): {value}"
        )
    if whole is not None:
        t = whole.get(JSON_64)
        if t is not None:
            ok = t.seconds is not None and (t.max_rss or 0) < 4 * GiB
            bar = whole.progress[0] if whole.progress else None
            mark = "✓" if ok and bar is not False else "✗"
            say(
                f"- {mark} 64×64×64 completes (derive + verify + JSON), peak < 4 GB, "
                f"progress bar: {fmt_s(t.seconds)}, peak {fmt_mb(t.max_rss)}"
                + ("" if whole.progress is None else f"; {whole.progress[1]}")
            )
        for label, limit, text in (
            ("`symderiv --help`", 0.3, "`symderiv --help` < 0.3 s"),
            (DERIVE_SMALL, 2.0, "`derive --n 2 --d 2 --m 3` < 2 s"),
            (
                "`derive --n 16 --d 16 --m 16 --format text` to a pipe",
                3.0,
                "terminal view of 16×16×16 < 3 s",
            ),
        ):
            t = whole.get(label)
            if t is not None:
                met = t.seconds is not None and t.seconds < limit
                say(f"- {'✓' if met else '✗'} {text}: {fmt_s(t.seconds)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated n = d = m (default 2,4,…,64)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="sizes 2,4,8,16; 3 pairs per command; no 64³/128³ runs",
    )
    parser.add_argument("--pairs", type=int, help="pairs per whole-process timing (7)")
    parser.add_argument(
        "--textbook-limit",
        type=float,
        default=60.0,
        help="skip the textbook route where it is predicted to take longer (60 s)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip whole processes")
    parser.add_argument("--no-128", action="store_true", help="skip the 128³ run")
    parser.add_argument(
        "--worker", nargs=3, metavar=("CASE", "SIZE", "REPEAT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return 0
    if args.sizes:
        sizes = tuple(sorted({int(s) for s in args.sizes.split(",") if s.strip()}))
    else:
        sizes = QUICK_SIZES if args.quick else SIZES
    pairs = args.pairs or (3 if args.quick else 7)

    say("## Machine")
    for line in machine():
        say(f"- {line}")
    say(f"- {compile_bytecode()}")
    say()
    rows = scaling(sizes, args.textbook_limit, args.quick)
    whole = None
    if not args.no_cli:
        whole = whole_processes(pairs, big=not args.quick, huge=not args.no_128)
    goals(rows, whole)
    say()
    say(f"Load average (1, 5, 15 min) at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
