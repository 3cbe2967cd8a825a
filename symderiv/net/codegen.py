"""Code generation for a network: a numpy ``Net`` class whose backward is the derivation.

Each layer's backward line is the closed form the derivation certifies, printed as numpy
(dW2 = A1ᵀ·dZ2 becomes ``self.dW2 = self.A1.T @ dZ2``; dZ1 = dA1 ⊙ R1 becomes
``dZ1 = dA1 * self.R1``), so the generated code reads like the closed forms.
"""

from __future__ import annotations

from .. import __version__
from ..conventions import get_convention
from ..notation import Sym
from ..render.code import numpy_code
from .engine import layer_form, stages
from .notation import Had, Slope
from .notes import formula_text
from .spec import NetConfig, parse_net

#: The network's batch size N in the generated code (saved by forward).
_SIZES = {"N": "self.N"}
#: Any batch size works; the configuration needs one to be valid.
_BATCH = 1


def generate_net(net: str, convention: str = "xw", loss: str = "generic") -> str:
    """Python source of a module with ``Net(d, seed=0)`` (and ``softmax_ce`` for that loss).

    Raises:
        UsageError: a bad network, convention or loss.

    >>> "self.dW1 = self.X.T @ dZ1" in generate_net("affine:3,relu,affine:2")
    True
    """
    from .commands import refuse_columns

    conv = get_convention(convention)
    refuse_columns(conv, "codegen")
    config = NetConfig(
        net=parse_net(net), n=_BATCH, d=1, convention=conv.name, loss=loss
    )
    all_stages = stages(config)
    # torch: each bias and its gradient a vector, as nn.Linear's
    flat = conv.bias_vector
    init: list[str] = []
    fwd: list[str] = ["self.X = X", "self.N = X.shape[0]"]
    bwd: list[str] = []
    doc_fwd: list[str] = []
    doc_bwd: list[str] = []
    for st in all_stages:
        k, width = st.index, st.out_width
        if st.kind == "affine":
            d_in = "d" if k == 1 else str(st.in_width)
            w_shape = (
                f"({width}, {d_in})" if conv.weight_transposed else f"({d_in}, {width})"
            )
            if conv.bias_column:
                b_shape = f"({width}, 1)"
            else:
                b_shape = f"({width},)" if flat else f"(1, {width})"
            init.append(
                f"self.W{k} = rng.normal(scale=1 / np.sqrt({d_in}), size={w_shape})"
            )
            init.append(f"self.b{k} = np.zeros({b_shape})")
            form = layer_form(conv.forward(), st)
            names = {role: f"self.{role}" for role in (st.input, f"W{k}", f"b{k}")}
            code = numpy_code(form, names, _SIZES, flat_rows=flat)
            fwd.append(f"self.{st.output} = {code}  # {formula_text(form)}")
            doc_fwd.append(f"{st.output} = {formula_text(form)}")
        else:
            fwd += [line.format(k=k) for line in _ACTIVATION_LINES[st.kind]]
            doc_fwd.append(f"A{k} = {st.kind}(Z{k})")
    top = all_stages[-1].output
    fwd.append(f"return self.{top}")
    up = f"d{top}"
    for st in reversed(all_stages):
        k = st.index
        if st.kind == "affine":
            names = {role: f"self.{role}" for role in (st.input, f"W{k}", f"b{k}")}
            names[up] = up
            for role, target in (
                ("W", f"self.dW{k}"),
                ("b", f"self.db{k}"),
                ("X", f"d{st.input}"),
            ):
                node = layer_form(conv.closed_form(role), st, dY=up)
                code = numpy_code(node, names, _SIZES, flat_rows=flat)
                bwd.append(f"{target} = {code}  # {formula_text(node)}")
                doc_bwd.append(f"{target.removeprefix('self.')} = {formula_text(node)}")
            up = f"d{st.input}"
        else:
            node = Had(Sym(up), Slope(st.kind, k))
            names = {up: up, f"R{k}": f"self.R{k}", f"A{k}": f"self.A{k}"}
            bwd.append(f"dZ{k} = {numpy_code(node, names)}  # {formula_text(node)}")
            doc_bwd.append(f"dZ{k} = {formula_text(node)}")
            up = f"dZ{k}"
    bwd.append("return dX")
    grads = ", ".join(f"dW{k}, db{k}" for k in range(1, all_stages[-1].index + 1))
    source = _MODULE.format(
        net=config.net.text,
        version=__version__,
        convention=conv.name,
        loss=loss,
        doc_fwd=_indented(doc_fwd, 4),
        doc_bwd=_indented(doc_bwd, 4),
        top=top,
        init=_indented(init, 8),
        forward=_indented(fwd, 8),
        backward=_indented(bwd, 8),
        grads=grads,
    )
    if loss == "softmax-ce":
        source += _SOFTMAX_CE
    return source


#: An activation's lines in the generated forward pass (``k``: its layer).
_ACTIVATION_LINES = {
    "relu": (
        "self.R{k} = (self.Z{k} > 0).astype(self.Z{k}.dtype)  # mask",
        "self.A{k} = self.Z{k} * self.R{k}  # relu(Z{k}) = Z{k} ⊙ R{k}",
    ),
    "tanh": ("self.A{k} = np.tanh(self.Z{k})",),
    "sigmoid": ("self.A{k} = 1 / (1 + np.exp(-self.Z{k}))  # sigmoid",),
}


def _indented(lines: list[str], spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in lines)


_MODULE = '''\
"""The network {net} ({convention} convention), generated by symderiv {version}.

Regenerate with: symderiv codegen --net {net} --convention {convention} --loss {loss}

Forward (cached for the backward pass):
{doc_fwd}

Backward, given d{top} = ∂L/∂{top} (the closed forms symderiv derives and certifies):
{doc_bwd}
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class Net:
    """{net}: parameters W1, b1, ... in the {convention} convention's shapes.

    backward(d{top}) stores {grads} and returns dX.
    """

    def __init__(self, d: int, seed: int = 0) -> None:
        """Weights ~ Normal(0, 1/fan_in) from numpy.random.default_rng(seed); biases 0."""
        rng = np.random.default_rng(seed)
{init}

    def forward(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """The network's output {top} for X (N, d); caches what backward needs."""
{forward}

    def backward(self, d{top}: NDArray[np.float64]) -> NDArray[np.float64]:
        """Store the parameter gradients from d{top} = ∂L/∂{top}; return dX = ∂L/∂X."""
        if not hasattr(self, "N"):  # forward caches what backward uses
            raise RuntimeError(
                "call forward(X) before backward(d{top})"
                ": backward uses what forward caches"
            )
{backward}
'''

_SOFTMAX_CE = '''

def softmax_ce(
    Z: NDArray[np.float64], T: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """L = −(1/N) Σ_ij t_ij log p_ij with P = softmax(Z) by rows, and dZ = (P − T)/N.

    T holds one-hot rows (Σ_j t_ij = 1), which is what makes dZ = (P − T)/N.
    """
    N = Z.shape[0]
    shifted = Z - Z.max(axis=1, keepdims=True)  # the same softmax, no overflow
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    P = np.exp(log_P)
    L = float(-np.sum(T * log_P) / N)
    dZ = (P - T) / N
    return L, dZ
'''


__all__ = ["generate_net"]
