"""A network as data: the ``--net`` text, its layers, variables and canonical names.

``parse_net("affine:3,relu,affine:2")`` gives three layers. Affine layers are counted from
1 (W1, b1, W2, b2, ...); an activation belongs to the affine layer just below it and takes
its number (A1 = relu(Z1), mask R1). The last item may be ``softmax-ce``, which is the same
as ``--loss softmax-ce``: the softmax of the last affine output with the cross-entropy.

Canonical entry names (the JSON contract): x_i_j, wℓ_i_j, bℓ_j, t_i_j, dy_i_j, zℓ_i_j,
aℓ_i_j, rℓ_i_j, p_i_j. This module is pure data (no sympy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..conventions import (
    CONVENTIONS,
    LAYOUTS,
    MAX_SIZE,
    VEC_ORDERS,
    Convention,
    check_size,
    choose,
    comma_list,
)
from ..errors import UsageError

#: The elementwise activations and their cached value.
ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid")
#: Losses of a network: those of the single layer and the softmax cross-entropy.
NET_LOSSES: tuple[str, ...] = ("generic", "mse", "sum", "softmax-ce")
_KINDS = ("affine", *ACTIVATIONS)


class NetSpecError(UsageError):
    """The ``--net`` text is empty or malformed (exit 2)."""


@dataclass(frozen=True)
class LayerSpec:
    """One item of ``--net``: ``affine`` with its width K, or an activation.

    Attributes:
        kind: "affine", "relu", "tanh" or "sigmoid".
        width: K, the number of outputs of an affine layer (None for an activation).
        index: ℓ, the number of the affine layer this item is or follows (from 1).
    """

    kind: str
    width: int | None
    index: int

    @property
    def text(self) -> str:
        """The item as written in ``--net``."""
        return f"affine:{self.width}" if self.kind == "affine" else self.kind


@dataclass(frozen=True)
class NetSpec:
    """The parsed ``--net``: its layers, and whether it ended with ``softmax-ce``."""

    layers: tuple[LayerSpec, ...]
    softmax_ce: bool = False

    @property
    def text(self) -> str:
        """The network as ``--net`` text (canonical spelling)."""
        items = [layer.text for layer in self.layers]
        return ",".join(items + (["softmax-ce"] if self.softmax_ce else []))


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def parse_net(text: str) -> NetSpec:
    """The network described by ``text``, e.g. ``"affine:3,relu,affine:2"``.

    >>> [layer.text for layer in parse_net("affine:3, relu, affine:2").layers]
    ['affine:3', 'relu', 'affine:2']

    Raises:
        NetSpecError: one line naming the problem (empty, a bad item, a bad order).
    """
    shown = repr(_clip(text))
    if not text.strip():
        raise NetSpecError(
            "--net is empty; list layers such as 'affine:3,relu,affine:2'"
        )
    items = [s.strip() for s in text.split(",")]
    layers: list[LayerSpec] = []
    softmax_ce = False
    index = 0
    for pos, item in enumerate(items, start=1):
        where = f"--net {shown}: item {pos}"
        if softmax_ce:
            raise NetSpecError(f"{where} comes after softmax-ce, which must be last")
        if not item:
            raise NetSpecError(
                f"{where} is empty (two commas in a row, or one at an end)"
            )
        name, sep, arg = item.partition(":")
        name = name.strip().lower()
        if name == "softmax-ce":
            if sep:
                raise NetSpecError(f"{where}: softmax-ce takes no width")
            if not layers or layers[-1].kind != "affine":
                after = layers[-1].kind if layers else "nothing"
                raise NetSpecError(
                    f"{where}: softmax-ce must follow an affine layer (its logits), "
                    f"not {after}"
                )
            softmax_ce = True
            continue
        if name not in _KINDS:
            raise NetSpecError(
                f"{where}: unknown layer {_clip(item, 20)!r}; use affine:K, "
                f"{', '.join(ACTIVATIONS)} (or softmax-ce last)"
            )
        if name == "affine":
            digits = arg.strip()
            if not digits:
                raise NetSpecError(
                    f"{where}: affine needs its width, e.g. affine:3 (K outputs)"
                )
            if not digits.isascii() or not digits.isdigit():
                raise NetSpecError(
                    f"{where}: width {_clip(digits, 20)!r} of affine is not a whole "
                    "number >= 1"
                )
            width = int(digits) if len(digits) <= 10 else MAX_SIZE + 1
            if not 1 <= width <= MAX_SIZE:
                raise NetSpecError(
                    f"{where}: width {_clip(digits, 20)} of affine must be from 1 to "
                    f"{MAX_SIZE}"
                )
            index += 1
            layers.append(LayerSpec("affine", width, index))
            continue
        if sep:
            raise NetSpecError(f"{where}: {name} takes no width (write just {name})")
        if not layers:
            raise NetSpecError(
                f"{where}: the network must start with an affine layer, not {name}"
            )
        if layers[-1].kind != "affine":
            raise NetSpecError(
                f"{where}: two activations in a row ({layers[-1].kind}, {name}); put "
                "an affine layer between them"
            )
        layers.append(LayerSpec(name, None, index))
    return NetSpec(tuple(layers), softmax_ce)


def parse_net_wrt(text: str | tuple[str, ...] | None, spec: NetSpec) -> tuple[str, ...]:
    """Variables of the network from ``"X,W1,b1"`` (None: all), in network order.

    Raises:
        UsageError: empty, unknown or repeated variables.
    """
    allowed = variables(spec)
    if text is None:
        return allowed
    items = comma_list(text)
    if not items or any(not s for s in items):
        raise UsageError(f"--wrt {text!r} is empty or has an empty item; use e.g. X,W1")
    for s in items:
        if s not in allowed:
            raise UsageError(
                f"--wrt: unknown variable {s!r} for this network; choose from "
                f"{', '.join(allowed)}"
            )
    if len(set(items)) != len(items):
        raise UsageError(f"--wrt {','.join(items)!r} names a variable twice")
    return tuple(v for v in allowed if v in items)


def variables(spec: NetSpec) -> tuple[str, ...]:
    """X, W1, b1, W2, b2, ... for the affine layers of ``spec``."""
    out = ["X"]
    for layer in spec.layers:
        if layer.kind == "affine":
            out += [f"W{layer.index}", f"b{layer.index}"]
    return tuple(out)


@dataclass(frozen=True)
class NetConfig:
    """Everything a network derivation depends on; validated on construction.

    Attributes:
        net: the network (a NetSpec or its ``--net`` text).
        n: batch size N; d: input width D.
        convention, vec, layout: as for one layer (every affine layer uses the convention).
        loss: generic (symbolic dy_i_j), mse, sum or softmax-ce.
        wrt: variables to report (X, W1, b1, ...); default all.
        method: jacobian (explicit Jacobians), index (index notation, Kronecker
            deltas collapsed) or all (both, each checked against the other).
    """

    net: NetSpec
    n: int = 2
    d: int = 2
    convention: str = "xw"
    vec: str = "row"
    layout: str = "denominator"
    loss: str = "generic"
    wrt: tuple[str, ...] = field(default=())
    method: str = "jacobian"

    def __post_init__(self) -> None:
        net = self.net
        if isinstance(net, str):
            net = parse_net(net)
            object.__setattr__(self, "net", net)
        check_size("n", self.n)
        check_size("d", self.d)
        choose(self.convention, CONVENTIONS, "convention")
        choose(self.vec, VEC_ORDERS, "vectorization order (--vec)")
        choose(self.layout, LAYOUTS, "layout")
        choose(self.loss, NET_LOSSES, "loss")
        if net.softmax_ce:
            if self.loss not in ("generic", "softmax-ce"):
                raise NetSpecError(
                    f"--net ends with softmax-ce but --loss is {self.loss}; give one loss"
                )
            object.__setattr__(self, "loss", "softmax-ce")
            object.__setattr__(self, "net", NetSpec(net.layers, False))
        if self.loss == "softmax-ce" and self.net.layers[-1].kind != "affine":
            raise NetSpecError(
                f"--loss softmax-ce needs the network to end with an affine layer (its "
                f"logits), but it ends with {self.net.layers[-1].kind}"
            )
        object.__setattr__(self, "wrt", parse_net_wrt(self.wrt or None, self.net))
        choose(self.method, NET_METHODS, "method (--method, with --net)")

    @property
    def conv(self) -> Convention:
        """The Convention object (the same for every affine layer)."""
        return CONVENTIONS[self.convention]

    def widths(self) -> list[int]:
        """The width of each affine layer's input, then the last output: [D, K1, K2, ...]."""
        return [self.d, *(ly.width for ly in self.net.layers if ly.width is not None)]

    def sizes(self) -> dict[str, int]:
        """The sizes by name: N, D, then K1, K2, ... (the affine layers' widths)."""
        widths = self.widths()[1:]
        return {"N": self.n, "D": self.d} | {
            f"K{k}": w for k, w in enumerate(widths, 1)
        }

    def to_dict(self) -> dict[str, object]:
        """The ``config`` object of the JSON output."""
        out = {name: getattr(self, name) for name in ("n", "d", *SETTINGS)}
        out.update(net=self.net.text, widths=self.widths(), wrt=list(self.wrt))
        return out


#: The settings a command line passes on, and a page repeats when they differ from the
#: defaults (with ``wrt`` when not every variable).
SETTINGS: tuple[str, ...] = ("convention", "vec", "layout", "loss", "method")

#: How a network can be derived: explicit Jacobians, index notation, or both. The tensor
#: view is the single layer's only: a network's derivatives are taken layer by layer, so
#: each layer's derivative tensor would be the single layer's.
NET_METHODS: tuple[str, ...] = ("jacobian", "index", "all")


__all__ = [
    "ACTIVATIONS",
    "LayerSpec",
    "NET_LOSSES",
    "NET_METHODS",
    "NetConfig",
    "NetSpec",
    "NetSpecError",
    "parse_net",
    "parse_net_wrt",
    "variables",
]
