"""The size guard: what a derivation will cost, estimated from the sizes alone, and refusal.

:func:`estimate` counts the work of ``derive(config)`` and its output (:func:`cost_features`)
and multiplies by unit costs measured on the reference machine (:data:`UNIT_COST`, fitted with
``tests/benchmarks/calibrate.py``). :func:`guard` refuses, before any work, what would take
longer than :data:`MAX_SECONDS` or more memory than :data:`MAX_BYTES` unless ``force``; it
answers at once, without sympy and without allocating anything size-dependent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from .conventions import Config
from .errors import TooLargeError

#: Work refused without ``force``: estimated to take longer or need more memory than this.
MAX_SECONDS = 120.0
MAX_BYTES = 6 * 2**30
#: Sizes up to this (each of N, D, M) always run, whatever the estimate says.
ALWAYS_RUNS = 32
#: Beyond this many Jacobian nonzeros nothing is attempted, even with ``force``; nor
#: when the estimated memory exceeds the machine's physical memory.
HARD_LIMIT_NONZEROS = 50_000_000

#: (seconds, bytes) per unit of each :func:`cost_features` count: derive with its
#: certificate, then the JSON text. Fitted with tests/benchmarks/calibrate.py on the
#: reference machine (2-core AMD EPYC, Python 3.11, CPython's cycle collector paused).
UNIT_COST: dict[str, tuple[float, float]] = {
    "outputs": (10e-6, 2500),
    "output_terms": (1.5e-6, 160),
    "nonzeros": (10e-6, 1300),
    "entries": (10e-6, 2500),
    "loss_terms": (0.2e-6, 80),
    "index_terms": (8e-6, 700),
    "tensor_terms": (8e-6, 700),
}
#: The interpreter and symderiv; the index and tensor views also load sympy.
BASE_BYTES = 25 * 2**20
SYMPY_BYTES = 40 * 2**20


@dataclass(frozen=True)
class Estimate:
    """What a derivation at some size will cost, before any work is done."""

    jacobian_entries: int  # entries of the explicit Jacobians (zeros included)
    nonzeros: int  # their nonzero entries (what is actually stored)
    terms: int  # polynomial terms built in total (JSON text included)
    bytes: int  # peak memory of the process
    seconds: float  # derive with its certificate, then JSON, on the reference machine

    def describe(self) -> str:
        """One line for the user: entries, memory, time."""
        return (
            f"{_amount(self.jacobian_entries)} Jacobian entries "
            f"({_amount(self.nonzeros)} nonzero), about {_memory(self.bytes)} of memory "
            f"and {_duration(self.seconds)}"
        )


def _amount(k: int) -> str:
    return f"{k:,}" if k < 10**15 else f"{k:.1e}"


def _memory(size: float) -> str:
    """Bytes as MiB, GiB, TiB or PiB."""
    size /= 2**20
    unit = "MiB"
    for bigger in ("GiB", "TiB", "PiB"):
        if size < 1000:
            break
        size, unit = size / 1024, bigger
    if size >= 10**6:
        return f"{size:.1e} {unit}"
    return f"{size:,.1f} {unit}" if size < 10 else f"{size:,.0f} {unit}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    for limit, unit, scale in (
        (120, "s", 1),
        (7200, "min", 60),
        (172800, "h", 3600),
        (365 * 86400, "days", 86400),
    ):
        if seconds < limit:
            return f"{seconds / scale:,.0f} {unit}"
    years = seconds / (365 * 86400)
    return f"{years:,.0f} years" if years < 10**6 else f"{years:.1e} years"


def cost_features(config: Config) -> dict[str, int]:
    """What the work of ``derive(config)`` + JSON is made of, counted from the sizes alone.

    outputs: entries of Y (and of dY), N·M; output_terms: terms of Y, N·M·(D+1);
    nonzeros: Jacobian nonzeros, which are also the chain-rule and closed-form terms
    (N·M·D for X and W, N·M for b); entries: entries of the derivatives; loss_terms: with
    ``--loss mse`` the JSON writes dY = (Y − T)/N (D+2 terms) into every term;
    index_terms / tensor_terms: the nonzeros again, for each extra view.
    """
    n, d, m = config.n, config.d, config.m
    size = {"X": n * d, "W": d * m, "b": m}
    nnz = {"X": n * m * d, "W": n * m * d, "b": n * m}
    nonzeros = sum(nnz[v] for v in config.wrt)
    method = config.method
    return {
        "outputs": n * m,
        "output_terms": n * m * (d + 1),
        "nonzeros": nonzeros,
        "entries": sum(size[v] for v in config.wrt),
        "loss_terms": nonzeros * (d + 2) if config.loss == "mse" else 0,
        "index_terms": nonzeros if method in ("index", "all") else 0,
        "tensor_terms": nonzeros if method in ("tensor", "all") else 0,
    }


def estimate(config: Config) -> Estimate:
    """The cost of ``derive(config)`` and its JSON, from the sizes alone (no allocation).

    Exact counts (:func:`cost_features`) times measured unit costs (:data:`UNIT_COST`);
    time and memory are good to about a factor of two on the reference machine, which
    is what a guard needs. Python integers keep the counts exact at any size.
    """
    n, d, m = config.n, config.d, config.m
    rows = n * m
    cols = {"X": n * d, "W": d * m, "b": m}
    features = cost_features(config)
    seconds = sum(UNIT_COST[k][0] * v for k, v in features.items())
    size = BASE_BYTES + sum(UNIT_COST[k][1] * v for k, v in features.items())
    if config.method != "jacobian":
        size += SYMPY_BYTES
    terms = sum(v for k, v in features.items() if k not in ("outputs", "entries"))
    return Estimate(
        jacobian_entries=sum(rows * cols[v] for v in config.wrt),
        nonzeros=features["nonzeros"],
        terms=terms,
        bytes=int(size),
        seconds=float(seconds),
    )


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, or None where the system does not say."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page if pages > 0 and page > 0 else None


def _within_limits(config: Config) -> bool:
    """True when ``config`` runs without ``force``."""
    if max(config.n, config.d, config.m) <= ALWAYS_RUNS:
        return True
    est = estimate(config)
    return est.seconds <= MAX_SECONDS and est.bytes <= MAX_BYTES


def largest_cube(config: Config) -> int:
    """The largest K such that N = D = M = K runs without ``force`` (other settings kept)."""
    low, high = ALWAYS_RUNS, 2 * ALWAYS_RUNS
    while _within_limits(replace(config, n=high, d=high, m=high)):
        low, high = high, 2 * high
    while high - low > 1:  # low runs, high does not
        mid = (low + high) // 2
        if _within_limits(replace(config, n=mid, d=mid, m=mid)):
            low = mid
        else:
            high = mid
    return low


def guard(config: Config, force: bool = False) -> Estimate:
    """Refuse, before any work, sizes that would take too long or too much memory.

    Sizes up to :data:`ALWAYS_RUNS` (each of N, D, M) always run. Above, work estimated
    beyond :data:`MAX_SECONDS` or :data:`MAX_BYTES` is refused unless ``force``; beyond
    :data:`HARD_LIMIT_NONZEROS` Jacobian nonzeros, or more memory than the machine has,
    it is refused even with ``force``. Answers at once from the sizes alone.

    Returns:
        The estimate (the CLI shows a progress bar when it says more than a few seconds).

    Raises:
        TooLargeError: with the estimate and how to go on.
    """
    est = estimate(config)
    if max(config.n, config.d, config.m) <= ALWAYS_RUNS:
        return est
    ram = physical_memory()
    hard = est.nonzeros > HARD_LIMIT_NONZEROS or (ram is not None and est.bytes > ram)
    if not hard and (force or _within_limits(config)):
        return est
    sizes = f"--n {config.n} --d {config.d} --m {config.m}"
    if hard:
        why = (
            f"over the limit of {HARD_LIMIT_NONZEROS:,} nonzeros"
            if est.nonzeros > HARD_LIMIT_NONZEROS
            else f"more than this machine's {_memory(ram or 0)}"
        )
        how = "Not even --force runs it; choose smaller sizes"
    else:
        why = (
            f"the limit without --force is {_duration(MAX_SECONDS)} and "
            f"{_memory(MAX_BYTES)}"
        )
        how = "Pass --force to run anyway, or choose smaller sizes"
    k = largest_cube(config)
    raise TooLargeError(
        f"{sizes} is too large to derive explicitly: {est.describe()}; {why}. {how} "
        f"(sizes up to {ALWAYS_RUNS}x{ALWAYS_RUNS}x{ALWAYS_RUNS} always run; "
        f"--n {k} --d {k} --m {k} runs without --force)"
    )


__all__ = [
    "ALWAYS_RUNS",
    "BASE_BYTES",
    "HARD_LIMIT_NONZEROS",
    "MAX_BYTES",
    "MAX_SECONDS",
    "SYMPY_BYTES",
    "UNIT_COST",
    "Estimate",
    "cost_features",
    "estimate",
    "guard",
    "largest_cube",
    "physical_memory",
]
