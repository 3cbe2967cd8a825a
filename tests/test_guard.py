"""The size guard (SPEC section 8): estimate first, refuse what is too large, explain how to go on.

Sizes up to 32×32×32 always run; larger work estimated beyond the limits exits 2 with the
estimate (entries, memory, time) unless ``--force``; 10**9 is refused at once even with
``--force``, before anything is allocated.
"""

from __future__ import annotations

import importlib
import itertools
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv import derive
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import TooLargeError, UsageError
from symderiv.guard import (
    ALWAYS_RUNS,
    HARD_LIMIT_NONZEROS,
    MAX_BYTES,
    MAX_SECONDS,
    cost_features,
    estimate,
    guard,
    largest_cube,
)

# The module holding the cost model (its constants are monkeypatched below).
engine = importlib.import_module("symderiv.guard")

HUGE = 10**9
METHODS = ("jacobian", "index", "tensor", "all")
LOSSES = ("generic", "mse", "sum")


def config(k: int | tuple[int, int, int], **options: object) -> Config:
    n, d, m = (k, k, k) if isinstance(k, int) else k
    return Config(n=n, d=d, m=m, **options)  # type: ignore[arg-type]


# -- up to 32×32×32: always runs ----------------------------------------------------------


@pytest.mark.parametrize(("method", "loss"), list(itertools.product(METHODS, LOSSES)))
@pytest.mark.parametrize(
    "sizes", [(32, 32, 32), (1, 32, 32), (32, 1, 32), (32, 32, 1), (1, 1, 32)]
)
def test_up_to_32_always_runs_without_force(
    sizes: tuple[int, int, int], method: str, loss: str
) -> None:
    for wrt in ("X,W,b", "W", "b"):
        est = guard(config(sizes, method=method, loss=loss, wrt=wrt))
        assert est.nonzeros > 0


def test_up_to_32_runs_even_if_the_estimate_were_huge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The promise does not hang on the calibration: with absurd unit costs, 32 still runs.
    monkeypatch.setattr(engine, "UNIT_COST", {k: (1.0, 1e9) for k in engine.UNIT_COST})
    guard(config(32, loss="mse", method="all"))
    with pytest.raises(TooLargeError):
        guard(config(33))


def test_32_through_the_cli_runs_and_verifies(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["derive", "--n", "32", "--d", "32", "--m", "32", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    assert '"verified": true' in result.stdout[-200:]


# -- refused without --force --------------------------------------------------------------


def test_too_large_is_refused_with_the_estimate_and_the_way_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "physical_memory", lambda: None)  # any machine
    c = config(200)
    est = estimate(c)
    assert est.seconds > MAX_SECONDS or est.bytes > MAX_BYTES
    with pytest.raises(TooLargeError) as info:
        guard(c)
    message = str(info.value)
    assert isinstance(info.value, UsageError) and info.value.exit_code == 2
    assert "--n 200 --d 200 --m 200" in message
    assert f"{est.jacobian_entries:,} Jacobian entries" in message
    assert f"({est.nonzeros:,} nonzero)" in message
    assert "GiB of memory" in message and "min" in message
    assert "--force" in message and "smaller sizes" in message
    k = largest_cube(c)
    assert f"--n {k} --d {k} --m {k} runs without --force" in message
    # With force the guard lets it through (and says what it will cost).
    assert guard(c, force=True) == est


def test_refused_sizes_exit_2_with_one_line_and_no_output(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(engine, "physical_memory", lambda: None)  # any machine
    out = tmp_path / "never.json"
    result = runner.invoke(
        cli, ["derive", "--n", "200", "--d", "200", "--m", "200", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --n 200 --d 200 --m 200")
    assert "Traceback" not in result.stderr
    assert "Pass --force to run anyway, or choose smaller sizes" in lines[0]


def test_the_python_api_refuses_too() -> None:
    start = time.perf_counter()
    with pytest.raises(TooLargeError):
        derive(n=500, d=500, m=500)
    assert time.perf_counter() - start < 5


def test_largest_cube_is_the_boundary() -> None:
    for c in (config(100), config(100, loss="mse"), config(100, method="all")):
        k = largest_cube(c)
        assert k > ALWAYS_RUNS
        guard(replace(c, n=k, d=k, m=k))
        with pytest.raises(TooLargeError):
            guard(replace(c, n=k + 1, d=k + 1, m=k + 1))
    # mse writes (Y − T)/N into every term of the JSON: it reaches the limit sooner.
    assert largest_cube(config(100, loss="mse")) < largest_cube(config(100))
    # 64×64×64 is the scale benchmark: it runs without --force.
    assert largest_cube(config(64)) >= 64


# -- 10**9: refused at once, even with --force --------------------------------------------


@pytest.mark.parametrize(
    "sizes", [(HUGE, HUGE, HUGE), (1, 1, HUGE), (HUGE, 1, 1), (1, HUGE, 1)]
)
def test_huge_sizes_are_refused_at_once_even_with_force(
    sizes: tuple[int, int, int],
) -> None:
    c = config(sizes)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(TooLargeError) as info:
            guard(c, force=True)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 5  # "at once": no work is attempted (that would take hours)
    assert peak < 1_000_000, "nothing is allocated"
    assert "Not even --force runs it; choose smaller sizes" in str(info.value)
    assert estimate(c).nonzeros > HARD_LIMIT_NONZEROS


def test_huge_through_the_cli_exits_2_at_once(runner: CliRunner) -> None:
    start = time.perf_counter()
    result = runner.invoke(
        cli,
        ["derive", "--n", str(HUGE), "--d", str(HUGE), "--m", str(HUGE), "--force"],
    )
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "too large to derive explicitly" in result.stderr
    assert "Not even --force" in result.stderr
    assert "Traceback" not in result.stderr


def test_more_than_the_machine_has_is_refused_even_with_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = config(150)
    monkeypatch.setattr(engine, "physical_memory", lambda: estimate(c).bytes - 1)
    with pytest.raises(TooLargeError, match="more than this machine's"):
        guard(c, force=True)
    monkeypatch.setattr(engine, "physical_memory", lambda: None)
    assert guard(c, force=True) == estimate(c)


# -- the estimate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"wrt": "W"},
        {"wrt": "X,b"},
        {"convention": "torch", "vec": "col"},
        {"convention": "column"},
        {"loss": "mse", "layout": "numerator"},
    ],
)
def test_counts_are_exact(options: dict[str, str]) -> None:
    c = Config(n=3, d=4, m=5, **options)  # type: ignore[arg-type]
    d = derive(c)
    est = estimate(c)
    jacobians = [r.jacobian for r in d.results.values()]
    assert est.jacobian_entries == sum(j.rows * j.cols for j in jacobians)
    assert est.nonzeros == sum(j.nnz() for j in jacobians)
    features = cost_features(c)
    assert features["outputs"] == 15
    assert features["output_terms"] == sum(len(p) for _, _, p in d.layer.Y.nonzeros())
    assert features["entries"] == sum(
        r.derivative.rows * r.derivative.cols for r in d.results.values()
    )
    # Every Jacobian nonzero becomes one term of the chain-rule result (generic dY).
    if c.loss == "generic":
        assert est.nonzeros == sum(
            len(p) for r in d.results.values() for _, _, p in r.derivative.nonzeros()
        )


def test_the_estimate_grows_with_the_work() -> None:
    small, big = estimate(config(40)), estimate(config(48))
    assert big.seconds > small.seconds and big.bytes > small.bytes
    base = estimate(config(40))
    for options in ({"loss": "mse"}, {"method": "tensor"}, {"method": "all"}):
        more = estimate(config(40, **options))
        assert more.seconds > base.seconds and more.bytes > base.bytes
    assert (
        estimate(config(40, method="all")).seconds
        > estimate(config(40, method="index")).seconds
    )
    assert estimate(config(40, wrt="b")).seconds < base.seconds


def test_the_estimate_is_calibrated() -> None:
    # Measured on the reference machine (tests/benchmarks/calibrate.py, fresh processes,
    # after the engine's leaner storage): (sizes, options, CPU seconds, peak bytes VmHWM)
    # of derive + certificate + JSON. tests/test_guard_calibration.py measures afresh.
    measured: list[tuple[int | tuple[int, int, int], dict[str, str], float, int]] = [
        (32, {}, 0.33, 69 * 2**20),
        (64, {}, 2.97, 385 * 2**20),
        (96, {}, 10.6, 1302 * 2**20),
        (64, {"loss": "mse"}, 10.5, 2147 * 2**20),
        (64, {"method": "all"}, 8.5, 618 * 2**20),
        ((1, 200, 200), {}, 1.08, 144 * 2**20),
        ((1, 100000, 1), {"wrt": "b"}, 1.52, 263 * 2**20),
    ]
    for sizes, options, seconds, peak in measured:
        est = estimate(config(sizes, **options))
        assert seconds / 2.5 < est.seconds < seconds * 2.5, (sizes, options)
        assert peak / 2 < est.bytes < peak * 2, (sizes, options)


def test_the_64_cube_shows_progress_and_32_does_not() -> None:
    from symderiv.cli.console import PROGRESS_AFTER_SECONDS

    assert estimate(config(64)).seconds > PROGRESS_AFTER_SECONDS
    assert estimate(config(32)).seconds < PROGRESS_AFTER_SECONDS


def test_progress_is_reported_to_the_end() -> None:
    ticks: list[tuple[str, int, int]] = []
    derive(n=2, d=2, m=2, progress=lambda *t: ticks.append(t))
    dones = [done for _, done, _ in ticks]
    assert dones == sorted(dones)
    assert ticks[-1][1] == ticks[-1][2]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.4, "under a second"),
        (119.4, "119 s"),
        (120, "2 min"),
        (120.5, "2.1 min"),  # rounded up, never "2 min" beside the 2-minute limit
        (138, "2.3 min"),
        (599, "10 min"),
        (16200, "4.5 h"),
        (3 * 86400, "3 days"),
    ],
)
def test_durations_over_a_limit_never_read_as_the_limit(
    seconds: float, shown: str
) -> None:
    assert engine._duration(seconds) == shown


def test_refusal_just_over_two_minutes_says_more_than_the_limit() -> None:
    config = Config(n=123, d=123, m=123, method="all")
    est = estimate(config, "json")
    assert 120 < est.seconds < 240 and est.bytes < MAX_BYTES
    with pytest.raises(TooLargeError) as refused:
        guard(config, fmt="json")
    message = str(refused.value)
    assert f"and {engine._duration(est.seconds)};" in message
    assert (
        "about 3.5 GiB of memory and 2.1 min; the limit without --force is 2 min"
        in message
    )
