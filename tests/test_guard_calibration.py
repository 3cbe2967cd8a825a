"""The size guard's estimate against measurement, over skewed shapes (issue 14).

Each shape runs ``derive(...)`` with its certificate and ``to_json()`` in a fresh Python
process, as the CLI does for ``derive --format json``. The measured peak memory is the
child's VmHWM (interpreter and imports included, as the estimate's ``BASE_BYTES`` is); it
must be within a factor of two of :func:`symderiv.guard.estimate` — the promise the README
and SPEC 8 make.

Time is measured as the child's CPU time for derive + JSON (imports excluded, as in
``tests/benchmarks/calibrate.py``), not wall time. Its unit costs are in seconds of the
machine they were fitted on, so the test asserts the model's shape (measured ÷ estimated
is the same for every skewed shape) rather than an absolute bound that a slower or shared
machine would break; it is skipped while the load average exceeds the cores. Every case
needs well under 30 s and 2 GiB (the 64 cube, the
largest, about 3 CPU s and 400 MiB); all of them together about 10 s.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.conventions import Config
from symderiv.guard import estimate

ROOT = Path(__file__).resolve().parents[1]

#: Skewed shapes (N, D, M), and a cube for reference.
SHAPES = [
    (1, 64, 64),
    (64, 1, 64),
    (256, 4, 4),
    (4, 256, 4),
    (2000, 1, 1),
    (1, 200, 200),
    (16, 16, 16),
    (32, 32, 32),
    (64, 64, 64),
]

WORKER = """
import json, sys, time
from pathlib import Path
from symderiv.derive import derive

settings = json.loads(sys.argv[1])
start = time.process_time()
text = derive(force=True, **settings).to_json()
seconds = time.process_time() - start
peak = 0
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "json": len(text)}))
"""


def measure(n: int, d: int, m: int) -> dict[str, float]:
    """CPU seconds of derive + JSON and the peak memory of a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps({"n": n, "d": d, "m": m})],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def busy() -> str:
    """Why CPU time cannot be trusted now, or "" when it can.

    On a virtual machine whose cores are shared, a process's CPU time grows with the load
    (steal time and cache contention count as its own): at a load average of 5 on two
    cores the 64 cube measured 7-10 CPU s against 2.4 s alone. The memory bound holds
    whatever the load and is always asserted.
    """
    if not hasattr(os, "getloadavg"):
        return ""
    load = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if load > cores + 0.5:
        return f"load average {load:.1f} on {cores} cores"
    return ""


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="needs /proc for VmHWM"
)


@pytest.fixture(scope="module")
def measured() -> dict[tuple[int, int, int], dict[str, float]]:
    """Every shape measured once, in its own fresh process."""
    return {shape: measure(*shape) for shape in SHAPES}


@pytest.fixture(scope="module")
def loaded(measured: dict[tuple[int, int, int], dict[str, float]]) -> str:
    """Whether the machine was busy just after the measurements (see :func:`busy`)."""
    return busy()


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_memory_estimate_within_a_factor_of_two(
    shape: tuple[int, int, int],
    measured: dict[tuple[int, int, int], dict[str, float]],
) -> None:
    n, d, m = shape
    est = estimate(Config(n=n, d=d, m=m), "json")
    got = measured[shape]
    assert got["json"] > 0
    assert est.bytes / 2 <= got["peak"] <= 2 * est.bytes, (
        f"{shape}: peak {got['peak'] / 2**20:.0f} MiB, "
        f"estimate {est.bytes / 2**20:.0f} MiB"
    )


@needs_proc
def test_time_estimate_follows_the_shapes(
    measured: dict[tuple[int, int, int], dict[str, float]],
    loaded: str,
) -> None:
    """The cost model's time is right in its shape: measured ÷ estimated CPU time is the
    same, within 2.5× either way, for every skewed shape (the ratio is this machine's
    speed against the one the unit costs were fitted on: it has ranged from 0.7 to 4.5 on
    this shared VM, where a uniform slowdown would fail any absolute bound), and that speed
    is within 6× of the fit. A cost term missing for a shape shows as an outlier."""
    if loaded:
        pytest.skip(f"CPU time not comparable while the machine is busy: {loaded}")
    slack = 0.05  # the shortest cases' CPU time is mostly noise
    ratios = {
        shape: (got["seconds"] + slack)
        / (estimate(Config(n=shape[0], d=shape[1], m=shape[2]), "json").seconds + slack)
        for shape, got in measured.items()
    }
    mean = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
    report = {"x".join(map(str, k)): f"{r:.2f}" for k, r in ratios.items()}
    assert all(mean / 2.5 <= r <= 2.5 * mean for r in ratios.values()), (mean, report)
    assert 1 / 6 <= mean <= 6, (mean, report)


@needs_proc
def test_memory_estimate_is_not_biased(
    measured: dict[tuple[int, int, int], dict[str, float]],
) -> None:
    """Calibrated, not merely bounded: over all shapes the estimate is neither mostly high
    nor mostly low (geometric mean of estimate/measured within 1.4 of 1). The
    coefficients from before the engine's leaner storage overestimated by about 1.7."""
    ratios = [
        estimate(Config(n=n, d=d, m=m), "json").bytes / measured[(n, d, m)]["peak"]
        for n, d, m in SHAPES
    ]
    mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    assert 1 / 1.4 < mean < 1.4, [f"{r:.2f}" for r in ratios]
