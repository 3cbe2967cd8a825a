"""The size guard: what a derivation will cost, estimated from the sizes alone, and refusal.

:func:`estimate` counts the work of ``derive(config)`` and its output (:func:`cost_features`)
and multiplies by unit costs measured on the reference machine (:data:`UNIT_COST`, fitted with
``tests/benchmarks/calibrate.py``). :func:`guard` refuses, before any work, what would take
longer than :data:`MAX_SECONDS` or more memory than :data:`MAX_BYTES` unless ``force``; it
answers at once, without sympy and without allocating anything size-dependent.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Sequence
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
#: certificate, then the JSON text (or another format). Fitted with
#: tests/benchmarks/calibrate.py (non-negative least squares of the CPU seconds and of the
#: peak memory, VmHWM, less the fixed bytes) on the reference machine (2-core AMD EPYC,
#: Python 3.11, shared and loaded, hence CPU time), after the engine's leaner storage;
#: tests/test_guard_calibration.py holds the estimate to a factor of two over skewed shapes.
UNIT_COST: dict[str, tuple[float, float]] = {
    "outputs": (17e-6, 2600),
    "output_terms": (0.45e-6, 115),
    "nonzeros": (3.9e-6, 570),
    "symbols": (7e-6, 1170),
    "entries": (5e-6, 875),
    "loss_terms": (0.3e-6, 62),
    "index_terms": (5.2e-6, 75),
    "tensor_terms": (6.7e-6, 270),
    "notebook_terms": (110e-6, 0),
    "text_cells": (0.04, 0),
    "tex_cells": (0.012, 0),
}
#: The display's costs (fitted apart); the others are derive + JSON's.
DISPLAY_COSTS = ("notebook_terms", "text_cells", "tex_cells")
#: derive + JSON's fitted seconds times this: on 2026-12-02 the quiet machine measured
#: 1.5x the fit at 64³ and 80³ and 2.0-2.3x at 100³-170³ (a model linear in the counts
#: misses the larger heap's slower memory); times two is right at 100³ and errs high below.
#: A new fit from calibrate.py replaces UNIT_COST and leaves this factor to be re-measured.
TIME_MARGIN = 2.0
#: The interpreter and symderiv; the index and tensor views also load sympy.
BASE_BYTES = 20 * 2**20
SYMPY_BYTES = 40 * 2**20
#: Formats whose display limit (``--max-entries``) costs: the terminal's and TeX's grids.
TEXT_FORMATS = ("rich", "text")
TEX_FORMATS = ("latex", "beamer", "markdown", "ipynb")
#: The display limit's default and its upper bound: the grids of matrices cost more than
#: linearly in it, and sizes up to ALWAYS_RUNS run whatever the estimate says.
DEFAULT_MAX_ENTRIES = 12
MAX_ENTRIES_LIMIT = 50


@dataclass(frozen=True)
class Estimate:
    """What a derivation at some size will cost, before any work is done."""

    jacobian_entries: int  # entries of the explicit Jacobians (zeros included)
    nonzeros: int  # their nonzero entries (what is actually stored)
    terms: int  # polynomial terms built in total (JSON text included)
    bytes: int  # peak memory of the process
    # derive with its certificate, then the output, on the reference machine
    seconds: float

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
            value = seconds / scale
            # rounded up: 121 s is "2.1 min", never "2 min" beside the 2-minute limit
            tenths = math.ceil(value * 10) / 10
            if unit == "s" or tenths >= 10 or seconds % scale == 0:
                return f"{value:,.0f} {unit}"
            return f"{tenths:.1f} {unit}"
    years = seconds / (365 * 86400)
    return f"{years:,.0f} years" if years < 10**6 else f"{years:.1e} years"


def cost_features(
    config: Config, fmt: str = "json", max_entries: int = DEFAULT_MAX_ENTRIES
) -> dict[str, int]:
    """What the work of ``derive(config)`` + its output is made of, from the sizes alone.

    outputs: entries of Y (and of dY), N·M; output_terms: terms of Y, N·M·(D+1);
    nonzeros: Jacobian nonzeros, which are also the chain-rule and closed-form terms
    (N·M·D for X and W, N·M for b); symbols: the entries of X, W and b, N·D + D·M + M,
    built (and written out) whatever ``--wrt`` asks for; entries: entries of the
    derivatives asked for; loss_terms: with ``--loss mse`` the JSON writes
    dY = (Y − T)/N (D+2 terms) into every term; index_terms / tensor_terms: the nonzeros
    again, for each extra view; notebook_terms: the nonzeros again when the notebook
    (``ipynb``) executes its cells; text_cells / tex_cells: the display limit times the
    variables shown, for the terminal's and TeX's matrix grids.
    """
    n, d, m = config.n, config.d, config.m
    size = {"X": n * d, "W": d * m, "b": m}
    nnz = {"X": n * m * d, "W": n * m * d, "b": n * m}
    nonzeros = sum(nnz[v] for v in config.wrt)
    method = config.method
    shown = max_entries * len(config.wrt)
    return {
        "outputs": n * m,
        "output_terms": n * m * (d + 1),
        "nonzeros": nonzeros,
        "symbols": n * d + d * m + m,
        "entries": sum(size[v] for v in config.wrt),
        "loss_terms": nonzeros * (d + 2) if config.loss == "mse" else 0,
        "index_terms": nonzeros if method in ("index", "all") else 0,
        "tensor_terms": nonzeros if method in ("tensor", "all") else 0,
        "notebook_terms": nonzeros if fmt == "ipynb" else 0,
        "text_cells": shown if fmt in TEXT_FORMATS else 0,
        "tex_cells": shown if fmt in TEX_FORMATS else 0,
    }


def estimate(
    config: Config, fmt: str = "json", max_entries: int = DEFAULT_MAX_ENTRIES
) -> Estimate:
    """The cost of ``derive(config)`` and its output in ``fmt``, from the sizes alone.

    Exact counts (:func:`cost_features`) times measured unit costs (:data:`UNIT_COST`);
    time and memory are good to about a factor of two on the reference machine, which
    is what a guard needs. Python integers keep the counts exact at any size; nothing
    size-dependent is allocated.
    """
    features = cost_features(config, fmt, max_entries)
    seconds = sum(
        UNIT_COST[k][0] * v * (1 if k in DISPLAY_COSTS else TIME_MARGIN)
        for k, v in features.items()
    )
    size = _fixed_bytes(config, fmt) + sum(
        UNIT_COST[k][1] * v for k, v in features.items()
    )
    counted = ("outputs", "symbols", "entries", "text_cells", "tex_cells")
    terms = sum(v for k, v in features.items() if k not in counted)
    return Estimate(
        # each Jacobian has N·M rows and a column per entry of its variable
        jacobian_entries=config.n * config.m * features["entries"],
        nonzeros=features["nonzeros"],
        terms=terms,
        bytes=int(size),
        seconds=float(seconds),
    )


def _fixed_bytes(config: Config, fmt: str) -> int:
    """Memory whatever the sizes: the interpreter, and sympy where it is loaded."""
    uses_sympy = config.method != "jacobian" or fmt == "ipynb"
    return BASE_BYTES + (SYMPY_BYTES if uses_sympy else 0)


def _total(
    configs: Sequence[Config], fmt: str = "json", max_entries: int = DEFAULT_MAX_ENTRIES
) -> Estimate:
    """The cost of several derivations kept in memory together (``conventions``)."""
    parts = [estimate(c, fmt, max_entries) for c in configs]
    fixed = [_fixed_bytes(c, fmt) for c in configs]  # the interpreter counts once
    return Estimate(
        jacobian_entries=sum(p.jacobian_entries for p in parts),
        nonzeros=sum(p.nonzeros for p in parts),
        terms=sum(p.terms for p in parts),
        bytes=max(fixed) + sum(p.bytes - f for p, f in zip(parts, fixed, strict=True)),
        seconds=sum(p.seconds for p in parts),
    )


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, or None where the system does not say."""
    try:
        pages, page = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page if pages > 0 and page > 0 else None


def _within_limits(est: Estimate) -> bool:
    """True when work estimated as ``est`` runs without ``force``."""
    return est.seconds <= MAX_SECONDS and est.bytes <= MAX_BYTES


def largest_cube(
    config: Config | Sequence[Config],
    fmt: str = "json",
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> int:
    """The largest K such that N = D = M = K runs without ``force`` (other settings kept).

    ``config`` may be several configurations run together (``conventions``' six).
    """
    configs = [config] if isinstance(config, Config) else list(config)

    def runs(k: int) -> bool:
        cubes = [replace(c, n=k, d=k, m=k) for c in configs]  # k > ALWAYS_RUNS
        return _within_limits(_total(cubes, fmt, max_entries))

    low, high = ALWAYS_RUNS, 2 * ALWAYS_RUNS
    while runs(high):
        low, high = high, 2 * high
    # low runs, high does not: the first size above low that does not run, less one
    sizes = range(low + 1, high + 1)
    return low + bisect.bisect_left(sizes, True, key=lambda k: not runs(k))


def refusal(est: Estimate, force: bool, smaller: str) -> str | None:
    """None when work estimated as ``est`` runs (:func:`guard`, ``net.cost.guard_net``);
    else why not and how to go on, choosing ``smaller`` ("smaller sizes"): beyond
    :data:`HARD_LIMIT_NONZEROS` or the machine's memory not even with ``force``."""
    ram = physical_memory()
    if est.nonzeros > HARD_LIMIT_NONZEROS:
        why = f"over the limit of {HARD_LIMIT_NONZEROS:,} nonzeros"
    elif ram is not None and est.bytes > ram:
        why = f"more than this machine's {_memory(ram)}"
    elif force or _within_limits(est):
        return None
    else:
        return (
            f"the limit without --force is {_duration(MAX_SECONDS)} and "
            f"{_memory(MAX_BYTES)}. Pass --force to run anyway, or choose {smaller}"
        )
    return f"{why}. Not even --force runs it; choose {smaller}"


def guard(
    config: Config | Sequence[Config],
    force: bool = False,
    *,
    fmt: str = "json",
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> Estimate:
    """Refuse, before any work, sizes that would take too long or too much memory.

    Sizes up to :data:`ALWAYS_RUNS` (each of N, D, M) always run. Above, work estimated
    beyond :data:`MAX_SECONDS` or :data:`MAX_BYTES` is refused unless ``force``; beyond
    :data:`HARD_LIMIT_NONZEROS` Jacobian nonzeros, or more memory than the machine has,
    it is refused even with ``force``. Answers at once from the sizes alone.

    Args:
        config: the derivation, or several kept in memory together (``conventions``),
            whose costs add up.
        force: run beyond the soft limits.
        fmt: the output format (the notebook and the display grids cost extra).
        max_entries: the display limit of the grids.

    Returns:
        The estimate, of all of them together (the CLI shows a progress bar when it
        says more than a few seconds).

    Raises:
        TooLargeError: with the estimate and how to go on.
    """
    configs = [config] if isinstance(config, Config) else list(config)
    if not configs:
        raise ValueError("guard needs at least one configuration")
    est = _total(configs, fmt, max_entries)
    if all(max(c.n, c.d, c.m) <= ALWAYS_RUNS for c in configs):
        return est
    why = refusal(est, force, "smaller sizes")
    if why is None:
        return est
    first = configs[0]
    sizes = f"--n {first.n} --d {first.d} --m {first.m}"
    k = largest_cube(configs, fmt, max_entries)
    what = "derive explicitly" if len(configs) == 1 else f"derive {len(configs)} times"
    raise TooLargeError(
        f"{sizes} is too large to {what}: {est.describe()}; {why} "
        f"(sizes up to {ALWAYS_RUNS}x{ALWAYS_RUNS}x{ALWAYS_RUNS} always run; "
        f"--n {k} --d {k} --m {k} runs without --force)"
    )


def check_guard(config: Config) -> Estimate:
    """The size guard of ``symderiv check`` (and of a batch row): :func:`guard`'s
    limits, in check's words.

    check derives ∂L/∂var explicitly at the sizes given, to compare the formula with
    it there; it has no ``--force``, and needs none: a formula is checked in general
    at further sizes whatever the sizes given, so smaller ones lose nothing.

    Returns:
        The estimate (the CLI shows progress when it says more than a few seconds).

    Raises:
        TooLargeError: what it would cost, the limit, and the largest sizes that run.
    """
    try:
        return guard(config)  # derive's limits, without --force
    except TooLargeError:
        est, k = estimate(config), largest_cube(config)
    letters = ", ".join(f"∂L/∂{config.letters.of(v)}" for v in config.wrt)
    raise TooLargeError(
        f"--n {config.n} --d {config.d} --m {config.m} is too large to check a formula "
        f"at: check derives {letters} explicitly at the sizes given to compare with "
        f"it, {est.describe()}; the limit is {_duration(MAX_SECONDS)} and "
        f"{_memory(MAX_BYTES)}. Choose smaller sizes: the formula is checked in "
        f"general at further sizes anyway (sizes up to {ALWAYS_RUNS}x{ALWAYS_RUNS}x"
        f"{ALWAYS_RUNS} always run; --n {k} --d {k} --m {k} is the largest cube that "
        "runs)"
    )
