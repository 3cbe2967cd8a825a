"""How long networks take: the goals of issue 12, and the size guard's estimate.

Run from the repository root (not part of the default test run)::

    python tests/benchmarks/nets.py            # about a minute
    python tests/benchmarks/nets.py --quick    # one repeat each

Measures, each case in a fresh subprocess (the median of several runs, whole process:
imports included, since that is what a lecturer waits for):

1. ``symderiv derive --net affine:3,relu,affine:2 --loss softmax-ce --n 2 --d 2`` in the
   terminal (plain text), against ``symderiv derive --n 2 --d 2 --m 3`` (goal: within 2×);
2. every width 16 as JSON: ``--net affine:16,relu,affine:16 --loss softmax-ce --n 16
   --d 16 --format json`` and the same with tanh and sigmoid (goal: under 10 s);

then, in this process, the guard's estimate (:func:`symderiv.net.cost.estimate_net`)
against the measured time of derive + JSON, for a few networks. Prints a Markdown table
and each goal with ✓ or ✗.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args: list[str], repeats: int) -> float:
    env = {**os.environ, "PYTHONPATH": ROOT}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "symderiv", *args],
            check=True,
            env=env,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat each")
    options = parser.parse_args()
    repeats = 1 if options.quick else 5
    rows: list[tuple[str, float]] = []
    single = _run(
        ["derive", "--n", "2", "--d", "2", "--m", "3", "--format", "text"], repeats
    )
    rows.append(("derive --n 2 --d 2 --m 3 (text)", single))
    net = _run(
        [
            "derive",
            "--net",
            "affine:3,relu,affine:2",
            "--loss",
            "softmax-ce",
            "--n",
            "2",
            "--d",
            "2",
            "--format",
            "text",
        ],
        repeats,
    )
    rows.append(
        (
            "derive --net affine:3,relu,affine:2 --loss softmax-ce --n 2 --d 2 (text)",
            net,
        )
    )
    wide: list[float] = []
    for act in ("relu", "tanh", "sigmoid"):
        t = _run(
            [
                "derive",
                "--net",
                f"affine:16,{act},affine:16",
                "--loss",
                "softmax-ce",
                "--n",
                "16",
                "--d",
                "16",
                "--format",
                "json",
            ],
            max(1, repeats // 2),
        )
        wide.append(t)
        rows.append(
            (
                f"derive --net affine:16,{act},affine:16 --loss softmax-ce --n 16 --d 16 (json)",
                t,
            )
        )
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print("| command | seconds (median, whole process) |")
    print("|---|---:|")
    for name, t in rows:
        print(f"| `{name}` | {t:.2f} |")
    print()
    ratio = net / single
    print(
        f"{'✓' if ratio <= 2 else '✗'} 2·2·3·2 network in the terminal: "
        f"{ratio:.2f}× the 2×2×3 layer (goal ≤ 2×)"
    )
    print(
        f"{'✓' if max(wide) < 10 else '✗'} every width 16 as JSON: "
        f"at most {max(wide):.1f} s (goal < 10 s)"
    )
    print()
    sys.path.insert(0, ROOT)
    from symderiv.net import NetConfig, derive_net
    from symderiv.net.cost import estimate_net
    from symderiv.net.data import render_net_json

    print("| network | N = D | estimate (s) | measured derive + JSON (s) |")
    print("|---|---:|---:|---:|")
    for net_text, size in (
        ("affine:16,relu,affine:16", 16),
        ("affine:8,tanh,affine:8,sigmoid,affine:8", 8),
        ("affine:24,relu,affine:24", 24),
        ("affine:6,relu,affine:6,relu,affine:6,relu,affine:6", 6),
    ):
        config = NetConfig(net=net_text, n=size, d=size, loss="softmax-ce")
        est = estimate_net(config)
        start = time.perf_counter()
        render_net_json(derive_net(config, force=True))
        print(
            f"| `{net_text}` | {size} | {est.seconds:.1f} | {time.perf_counter() - start:.1f} |"
        )


if __name__ == "__main__":
    main()
