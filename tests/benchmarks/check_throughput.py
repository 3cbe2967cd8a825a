"""How fast ``check`` grades: checks per second in one process, and one check at 32³.

Run from the repository root (not part of the default test run)::

    python tests/benchmarks/check_throughput.py            # 2,000 checks at 2×3×4, 32³, CLI
    python tests/benchmarks/check_throughput.py --rows 500 --no-cli

It measures, in this process (imports and the first derivation at each size excluded,
as a grading server keeps them warm):

1. **throughput**: :func:`symderiv.grade.batch` over ``--rows`` rows at N=2, D=3, M=4,
   a mix of right and wrong answers in several spellings and conventions, each checked at
   the given sizes and the grid of further triples its degree in the sizes needs (goal of
   issue 11: ≥ 500 checks/s);
2. **32³**: ``check_formula(... "X.T @ dY")`` at N = D = M = 32 (its size triples, the
   derivation at 32³ included) next to ``derive`` + JSON of the same layer (goal: within
   2×);

then, unless ``--no-cli``, whole processes: ``symderiv check --wrt W "X.T @ dY"`` next to
``python -c "import sympy"`` (issue 16's yardstick; goal ≤ 0.8), and whether that check
imported sympy at all.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ROWS = [
    ("W", "X.T @ dY", "xw"),
    ("W", "np.dot(X.T, dout)", "xw"),
    ("X", "dY @ W.T", "xw"),
    ("b", "np.sum(dout, axis=0)", "xw"),
    ("b", "np.mean(dout, axis=0)", "xw"),
    ("W", "dY.T @ X", "xw"),
    ("b", "ones(D).T @ dY", "xw"),
    ("W", "dY.T @ x", "torch"),
    ("X", "dLdZ @ W", "column"),
    ("b", "np.sum(dLdZ, axis=0)", "column"),
    ("b", "dLdZ.sum(axis=0, keepdims=True).T", "column"),
    ("W", "X.T @@ dY", "xw"),
]


def throughput(count: int) -> tuple[float, int]:
    from symderiv import grade

    rows = [
        {"id": k, "variable": v, "formula": f, "convention": c, "sizes": "2x3x4"}
        for k, (v, f, c) in zip(
            range(count), ROWS * (count // len(ROWS) + 1), strict=False
        )
    ]
    list(grade.batch(rows[: len(ROWS)]))  # warm: the derivations at each size
    start = time.perf_counter()
    results = list(grade.batch(rows))
    seconds = time.perf_counter() - start
    assert len(results) == count
    return count / seconds, sum(1 for r in results if r["ok"])


def at_32() -> tuple[float, float]:
    from symderiv.check import check_formula
    from symderiv.check.verdict import _reference
    from symderiv.conventions import Config
    from symderiv.derive import derive
    from symderiv.render import render

    config = Config(n=32, d=32, m=32)
    check_formula(Config(), "W", "X.T @ dY")  # imports and small sizes warm
    start = time.perf_counter()
    result = check_formula(config, "W", "X.T @ dY")
    check_seconds = time.perf_counter() - start
    assert result.ok
    _reference.cache_clear()
    start = time.perf_counter()
    render(derive(config), "json")
    derive_seconds = time.perf_counter() - start
    return check_seconds, derive_seconds


def process_seconds(argv: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--no-cli", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}, "
        f"Python {platform.python_version()}\n"
    )
    rate, right = throughput(args.rows)
    mark = "✓" if rate >= 500 else "✗"
    print(
        f"throughput: {rate:,.0f} checks/s at 2×3×4 in one process "
        f"({args.rows} rows, {right} right) — goal ≥ 500 {mark}"
    )
    check_s, derive_s = at_32()
    ratio = check_s / derive_s
    mark = "✓" if ratio <= 2 else "✗"
    print(
        f"32³: check {check_s:.3f} s, derive + JSON {derive_s:.3f} s, "
        f"ratio {ratio:.2f} — goal ≤ 2 {mark}"
    )
    if args.no_cli:
        return
    env_python = sys.executable
    check = process_seconds(
        [env_python, "-m", "symderiv", "check", "--wrt", "W", "X.T @ dY"]
    )
    sympy = process_seconds([env_python, "-c", "import sympy"])
    mark = "✓" if check / sympy <= 0.8 else "✗"
    print(
        f'process: `symderiv check --wrt W "X.T @ dY"` {check:.3f} s, '
        f'`python -c "import sympy"` {sympy:.3f} s, ratio {check / sympy:.2f} '
        f"— goal ≤ 0.8 {mark}"
    )
    probe = subprocess.run(
        [
            env_python,
            "-c",
            "import sys, symderiv.cli\n"
            "try:\n symderiv.cli.main(['check', '--wrt', 'W', 'X.T @ dY'])\n"
            "except SystemExit: pass\n"
            "print('sympy' in sys.modules, file=sys.stderr)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"sympy imported by check: {probe.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
