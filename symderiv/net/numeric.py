"""Numbers for a network: a random instance, its forward pass and cache, and checks.

:func:`verify_net` evaluates the network's closed forms (dW1 = Xᵀ·((dZ2·W2ᵀ) ⊙ R1), ...)
in float64 at a random instance, from the values the forward pass cached, and compares
them with central finite differences of L and, where PyTorch is installed, with
``torch.autograd``. The instance is drawn from ``numpy.random.default_rng(seed)`` in this
order: X (N, D), T (N, C) (made one-hot by each row's argmax for softmax-ce), then W1, b1,
W2, b2, ... in the convention's shapes, then dY (N, C) for the generic loss. A network
with ReLUs takes the first such draw (the generator goes on) on which every ReLU passes at
least one entry and, where it has two or more, blocks one, with no pre-activation within
:data:`KINK_MARGIN` of 0, and on which no variable's gradient is zero: otherwise a dead
layer makes gradients zero and the check says nothing, and central differences straddle
the kink.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import numeric
from ..notation import Node
from ..numeric import (
    FD_RTOL,
    TORCH_RTOL,
    Array,
    VariableCheck,
    _broadcast,
    _error,
    autograd,
    central_difference,
    log_softmax,
    loss_of,
    one_hot,
    torch_version,
)
from .engine import Stage, loss_form, network_forms, stages
from .notation import Had, Slope
from .spec import NetConfig, variables

__all__ = [
    "NetInstance",
    "NetReport",
    "draw_net_instance",
    "forms",
    "verify_net",
]


#: The activations in NumPy (the ReLU as its cached mask times its input).
_NUMPY: dict[str, Callable[[Array], Array]] = {
    "relu": lambda H: H * (H > 0).astype(np.float64),
    "tanh": np.tanh,
    "sigmoid": lambda H: 1.0 / (1.0 + np.exp(-H)),
}


def run_layers(
    config: NetConfig,
    values: Mapping[str, Any],
    activations: Mapping[str, Callable[[Any], Any]],
) -> list[tuple[Stage, Any, Any]]:
    """The forward pass, NumPy or torch: each stage with its input and output (an affine
    layer broadcast as one layer's forward pass, else its activation)."""
    out = []
    H = values["X"]
    for st in stages(config):
        before, k = H, st.index
        if st.kind == "affine":
            H = _broadcast(config.conv, H, values[f"W{k}"], values[f"b{k}"])
        else:
            H = activations[st.kind](H)
        out.append((st, before, H))
    return out


@dataclass(frozen=True, eq=False)
class NetInstance:
    """A random network and loss: X, T, parameters W1, b1, ... and (generic) dY."""

    config: NetConfig
    X: Array
    T: Array
    params: dict[str, Array]
    dY: Array | None

    def variables(self) -> dict[str, Array]:
        """X, W1, b1, W2, b2, ... (what L is differentiated by)."""
        return {"X": self.X, **self.params}

    def forward(self, **override: Array) -> tuple[Array, dict[str, Array]]:
        """The network's output and its cache (Zℓ, Aℓ, Rℓ, P), with X/Wℓ/bℓ overridden."""
        values = {**self.variables(), **override}
        cache: dict[str, Array] = {"X": values["X"]}
        for st, before, H in run_layers(self.config, values, _NUMPY):
            if st.kind == "relu":
                cache[f"R{st.index}"] = (before > 0).astype(np.float64)
            cache[st.output] = H
        if self.config.loss == "softmax-ce":
            cache["P"] = np.exp(log_softmax(H))
        return H, cache

    def loss_value(self, out: Array) -> float:
        """L at the network's output ``out`` (N, C)."""
        return loss_of(self.config.loss, out, self.T, self.dY, len(out))


#: A ReLU's pre-activations are kept at least this far from 0 (the kink); central
#: differences step by about 1e-5 there.
KINK_MARGIN = 1e-3
#: Draws tried before the last one is taken as it is.
MAX_DRAWS = 100


def draw_net_instance(config: NetConfig, seed: int = 0) -> NetInstance:
    """Draw an instance as the module docstring fixes it (read-only float64 arrays)."""
    rng = np.random.default_rng(seed)
    for _ in range(MAX_DRAWS):
        instance = _draw(config, rng)
        if _informative(instance):
            break
    return instance


def _draw(config: NetConfig, rng: np.random.Generator) -> NetInstance:
    """X, T, W1, b1, W2, b2, ... and dY, drawn in that order from ``rng``."""
    n, conv = config.n, config.conv
    widths = config.widths()
    X = rng.normal(size=(n, config.d))
    T_ = rng.normal(size=(n, widths[-1]))
    if config.loss == "softmax-ce":
        T_ = one_hot(T_)
    params: dict[str, Array] = {}
    for k in range(1, len(widths)):
        d_in, width = widths[k - 1], widths[k]
        params[f"W{k}"] = rng.normal(size=conv.shape("W", n, d_in, width))
        params[f"b{k}"] = rng.normal(size=width).reshape(
            conv.shape("b", n, d_in, width)
        )
    dY = rng.normal(size=(n, widths[-1])) if config.loss == "generic" else None
    for a in (X, T_, *params.values(), *(() if dY is None else (dY,))):
        a.setflags(write=False)
    return NetInstance(config, X, T_, params, dY)


def _informative(instance: NetInstance) -> bool:
    """Every ReLU's input (N × width) has an entry > 0, one < 0 where it has two or
    more, and none within :data:`KINK_MARGIN` of 0; and no variable's gradient is 0."""
    values = instance.variables()
    for st, before, _ in run_layers(instance.config, values, _NUMPY):
        if st.kind == "relu" and not (
            np.all(np.abs(before) > KINK_MARGIN)
            and np.any(before > 0)
            and (before.size < 2 or np.any(before < 0))
        ):
            return False
    return all(np.any(g != 0) for g in closed_values(instance).values())


# -- the closed forms ---------------------------------------------------------------------
def forms(config: NetConfig) -> tuple[Node, dict[str, Node]]:
    """The loss's upstream formula and each variable's closed form through the network
    (:func:`~symderiv.net.engine.network_forms`: no polynomials)."""
    through = network_forms(config)
    return loss_form(config), {var: through[var] for var in variables(config.net)}


class _Evaluate(numeric._Evaluate):
    """The single layer's evaluator, with Had and Slope (read from the cached A or R)."""

    def visit_Had(self, node: Had) -> Array:
        return self.visit(node.left) * self.visit(node.right)

    def visit_Slope(self, node: Slope) -> Array:
        k = node.index
        if node.kind == "relu":
            return self.values[f"R{k}"]
        a = self.values[f"A{k}"]
        return 1.0 - a * a if node.kind == "tanh" else a * (1.0 - a)


# -- the check ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NetReport:
    """What :func:`verify_net` found."""

    instance: NetInstance
    loss_value: float
    checks: tuple[VariableCheck, ...]
    torch_version: str | None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def closed_values(instance: NetInstance) -> dict[str, Array]:
    """Every variable's closed form evaluated at the instance (from the cache)."""
    config = instance.config
    _, cache = instance.forward()  # the cache holds the output too
    top_form, var_forms = forms(config)
    values: dict[str, Array] = {**instance.variables(), **cache, "T": instance.T}
    if instance.dY is not None:
        values["dY"] = instance.dY
    top, sizes = stages(config)[-1].output, config.sizes()
    values[f"d{top}"] = _Evaluate(values, sizes).visit(top_form)
    return {var: _Evaluate(values, sizes).visit(var_forms[var]) for var in config.wrt}


def torch_net_gradients(instance: NetInstance) -> dict[str, Array] | None:
    """∂L/∂X, ∂L/∂Wℓ, ∂L/∂bℓ by torch.autograd (float64); None without PyTorch."""
    config = instance.config

    def forward(torch: Any, leaves: dict[str, Any]) -> Any:
        activations = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
        return run_layers(config, leaves, activations)[-1][2]

    loss = (config.loss, instance.T, instance.dY, config.n)
    return autograd(instance.variables(), forward, loss)


def verify_net(config: NetConfig, seed: int = 0, use_torch: bool = True) -> NetReport:
    """Check every closed form of the network numerically at a random instance."""
    instance = draw_net_instance(config, seed)
    closed = closed_values(instance)
    _, var_forms = forms(config)
    grads = torch_net_gradients(instance) if use_torch else None
    checks = []
    variables = instance.variables()
    for var in config.wrt:

        def loss_at(value: Array, var: str = var) -> float:
            return instance.loss_value(instance.forward(**{var: value})[0])

        fd = central_difference(loss_at, variables[var])
        value = closed[var]
        by_torch = (
            (None, None) if grads is None else _error(value, grads[var], TORCH_RTOL)
        )
        found = (value, *_error(value, fd, FD_RTOL), *by_torch)
        checks.append(VariableCheck(var, var_forms[var], fd.shape, *found))
    out, _ = instance.forward()
    return NetReport(
        instance,
        instance.loss_value(out),
        tuple(checks),
        torch_version() if grads is not None else None,
    )
