"""Calibrate the size guard: measure derive + JSON over many shapes, fit, compare with estimate().

Run from the repository root (a few minutes; not part of the test run)::

    python tests/benchmarks/calibrate.py            # measure, fit, compare
    python tests/benchmarks/calibrate.py --quick    # fewer configurations

Each configuration runs in a fresh process (``derive(...)`` with the certificate, then
``to_json()``; imports excluded; time is the process's CPU time, so a loaded machine does
not inflate it; peak memory is the process's VmHWM). The features are the
counts :func:`symderiv.guard.cost_features` computes from the sizes alone; a least-squares
fit of seconds and bytes on them gives the coefficients to put in ``symderiv/guard.py``.
The last columns compare each measurement with the current :func:`symderiv.guard.estimate`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaling import ROOT, peak_rss, run_child  # noqa: E402


def case(settings: dict[str, Any]) -> dict[str, Any]:
    """One configuration, in this (fresh) process."""
    from symderiv.derive import derive

    warm = {k: v for k, v in settings.items() if k not in ("n", "d", "m")}
    derive(n=1, d=1, m=1, **warm).to_json()
    start = time.process_time()  # CPU time: the machine may be shared and loaded
    text = derive(force=True, **settings).to_json()
    seconds = time.process_time() - start
    return {"seconds": seconds, "peak": peak_rss(), "json": len(text)}


def grid(quick: bool) -> list[dict[str, Any]]:
    """Cubes, thin and flat shapes; every method and loss; single variables."""
    shapes = [
        (k, k, k) for k in ((8, 16, 24, 32) if quick else (8, 16, 24, 32, 40, 48))
    ]
    shapes += [(1, 1, 8000), (8000, 1, 1), (1, 8000, 1), (100, 1, 100), (1, 200, 200)]
    shapes += [(200, 200, 1), (16, 64, 16), (64, 16, 16), (16, 16, 64)]
    shapes += [(1, 64, 64), (64, 1, 64), (256, 4, 4), (4, 256, 4), (2000, 1, 1)]
    # large cubes: the guard refuses the views' (--method all) by time from about 120³
    shapes += [(64, 64, 64), (80, 80, 80), (100, 100, 100)] if not quick else []
    out: list[dict[str, Any]] = []
    for n, d, m in shapes:
        out.append({"n": n, "d": d, "m": m})
    for k in (16, 32) if quick else (16, 24, 32, 40):
        for loss in ("mse", "sum"):
            out.append({"n": k, "d": k, "m": k, "loss": loss})
        for method in ("index", "tensor", "all"):
            out.append({"n": k, "d": k, "m": k, "method": method})
        out.append({"n": k, "d": k, "m": k, "method": "all", "loss": "mse"})
        out.append({"n": k, "d": k, "m": k, "wrt": "X"})
        out.append({"n": k, "d": k, "m": k, "wrt": "b"})
        out.append({"n": k, "d": k, "m": k, "convention": "torch", "vec": "col"})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(case(json.loads(args.worker))), flush=True)
        return 0

    import numpy as np

    from symderiv.conventions import Config
    from symderiv.guard import cost_features, estimate

    rows: list[tuple[dict[str, Any], dict[str, int], dict[str, Any]]] = []
    print("configuration | seconds | peak MB | estimate s | estimate MB", flush=True)
    for settings in grid(args.quick):
        argv_ = [sys.executable, __file__, "--worker", json.dumps(settings)]
        run = run_child(argv_, timeout=900, cwd=ROOT)
        if run.returncode != 0:
            print(f"{settings}: failed: {run.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(run.stdout.strip().splitlines()[-1])
        config = Config(**settings)
        est = estimate(config)
        rows.append((settings, cost_features(config), result))
        print(
            f"{settings} | {result['seconds']:.2f} | {result['peak'] / 2**20:.0f} | "
            f"{est.seconds:.2f} | {est.bytes / 2**20:.0f}",
            flush=True,
        )
    # Only the features this grid exercises (the other formats' costs are fitted apart).
    names = [k for k in sorted(rows[0][1]) if any(f[k] for _, f, _ in rows)]
    a = np.array([[f[k] for k in names] + [1.0] for _, f, _ in rows], dtype=float)
    for target in ("seconds", "peak"):
        b = np.array([r[target] for _, _, r in rows], dtype=float)
        # Relative least squares: every configuration counts, small or large; costs are
        # never negative (non-negative least squares when scipy is there).
        weights = 1.0 / np.maximum(b, 1e-3 if target == "seconds" else 2**20)
        try:
            from scipy.optimize import nnls

            coef, _ = nnls(a * weights[:, None], b * weights)
        except ImportError:
            coef, *_ = np.linalg.lstsq(a * weights[:, None], b * weights, rcond=None)
        fitted = a @ coef
        worst = max(abs(f / t - 1) for f, t in zip(fitted, b, strict=True))
        print(f"\n{target}: fit (worst relative error {worst:.0%})")
        for name, c in zip([*names, "constant"], coef, strict=True):
            print(f"  {name:>16}: {c:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
