"""The size guard for networks: estimate the work from the sizes, refuse what is too large.

The same limits as for one layer (:mod:`symderiv.derive`): more than MAX_SECONDS or
MAX_BYTES is refused unless ``force``; past HARD_LIMIT_NONZEROS Jacobian nonzeros (or the
machine's memory) it is refused even with ``force``. The count that grows fastest is the
composed derivative: each layer down multiplies the terms of every entry by the width
above it (dA = dZ·Wᵀ sums over it), so a deep network is refused even at small widths.
"""

from __future__ import annotations

from ..errors import TooLargeError
from ..guard import Estimate, refusal
from .spec import NetConfig

#: (seconds, bytes) per Jacobian nonzero and per term of a composed derivative, measured
#: with tests/benchmarks/nets.py on the reference machine (2-core AMD EPYC).
NONZERO_COST = (6e-6, 1300)
TERM_COST = (3.5e-6, 300)
BASE_BYTES = 25 * 2**20


def estimate_net(config: NetConfig) -> Estimate:
    """Counts of the explicit work for ``config`` and their time and memory, from sizes."""
    from .engine import stages

    n = config.n
    entries = nonzeros = terms = 0
    # terms of one entry of the current upstream
    up = {"generic": 1, "sum": 1, "mse": 2, "softmax-ce": 2}[config.loss]
    if config.loss == "softmax-ce":
        k_out = config.widths()[-1]
        entries += (n * k_out) ** 2
        nonzeros += n * k_out * k_out
    for st in reversed(stages(config)):
        if st.kind == "affine":
            d_in, k = st.in_width, st.out_width
            rows = n * k
            for cols, nnz in (
                (n * d_in, rows * d_in),
                (d_in * k, rows * d_in),
                (k, rows),
            ):
                entries += rows * cols
                nonzeros += nnz
            terms += d_in * k * n * up + k * n * up  # dW and db composed
            up = up * k  # dA = dZ·Wᵀ: each entry sums over the k outputs
            terms += n * d_in * up
        else:
            width = st.out_width
            entries += (n * width) ** 2
            nonzeros += n * width
            up = up * (1 if st.kind == "relu" else 2)
            terms += n * width * up
    seconds = NONZERO_COST[0] * nonzeros + TERM_COST[0] * terms
    size = BASE_BYTES + NONZERO_COST[1] * nonzeros + TERM_COST[1] * terms
    return Estimate(
        jacobian_entries=entries,
        nonzeros=nonzeros,
        terms=terms,
        bytes=int(size),
        seconds=float(seconds),
    )


def guard_net(config: NetConfig, force: bool = False) -> Estimate:
    """Refuse, before any work, a network that would take too long or too much memory.

    Raises:
        TooLargeError: with the estimate and how to go on.
    """
    est = estimate_net(config)
    why = refusal(est, force, "a smaller or shallower network")
    if why is None:
        return est
    raise TooLargeError(
        f"--net {config.net.text} --n {config.n} --d {config.d} is too large to derive "
        f"explicitly: {est.describe()}, {est.terms:,} terms in the composed derivatives; "
        f"{why}"
    )


__all__ = ["estimate_net", "guard_net"]
