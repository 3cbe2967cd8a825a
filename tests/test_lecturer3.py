"""The lecturer's round: the generated Linear takes a 1-D bias, the tanh network's
matrices in full at 80 columns, and ``symderiv.render`` is the printers' package."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from symderiv.codegen import generate_linear
from symderiv.conventions import CONVENTIONS
from symderiv.numeric import central_difference

#: (N, D, M): N == M too, where a 1-D bias broadcast by numpy would go along the wrong
#: axis of a wx Y (M, N) without an error.
SIZES = [(1, 1, 1), (3, 2, 4), (3, 2, 3)]


def _linear(convention: str, d: int, m: int) -> Any:
    """The generated Linear(d, m) of ``convention``, executed as a student would."""
    namespace: dict[str, Any] = {}
    exec(compile(generate_linear(convention), "<generated>", "exec"), namespace)
    return namespace["Linear"](d, m, rng=np.random.default_rng(1))


def _bias_shapes(convention: str, m: int) -> list[tuple[int, ...]]:
    """b as SPEC stores it, (1, M) or (M, 1), and 1-D, (M,), as numpy/PyTorch code does
    (torch: (M,) is SPEC's, and (1, M) the row the xw convention stores)."""
    conv = CONVENTIONS[convention]
    return [(m, 1) if conv.bias_column else (1, m), (m,)]


def _torch_grads(
    torch: Any, convention: str, X: Any, W: Any, b: Any, dY: Any
) -> tuple[Any, ...]:
    """Y and ∂L/∂X, ∂L/∂W, ∂L/∂b of L = Σ dY ⊙ Y by torch.autograd, Y from SPEC's
    formula with b as stored (reshaped to the formula's shape inside the graph, so its
    gradient comes back in the stored shape, as PyTorch gives a parameter's)."""
    x, w, bias = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    m = bias.numel()
    if convention == "xw":
        Y = x @ w + torch.ones(x.shape[0], 1, dtype=x.dtype) @ bias.reshape(1, m)
    elif convention == "torch":
        Y = x @ w.T + bias.reshape(m)
    elif convention == "column":
        Y = x @ w.T + torch.ones(x.shape[0], 1, dtype=x.dtype) @ bias.reshape(m, 1).T
    else:  # wx: samples as columns
        Y = w @ x + bias.reshape(m, 1) @ torch.ones(x.shape[1], 1, dtype=x.dtype).T
    (Y * torch.tensor(dY)).sum().backward()
    return Y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), bias.grad.numpy()


# -- codegen: a bias stored 1-D or 2-D, db in b's shape ------------------------------------
@pytest.mark.parametrize("convention", list(CONVENTIONS))
@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("stored", [0, 1], ids=["2-D", "1-D"])
def test_generated_linear_takes_the_bias_1d_or_2d(
    convention: str, sizes: tuple[int, int, int], stored: int
) -> None:
    """forward and backward agree with torch.autograd and with finite differences for b
    of shape (M,) and of SPEC's 2-D shape, and db comes back in b's shape."""
    torch = pytest.importorskip("torch")
    n, d, m = sizes
    conv = CONVENTIONS[convention]
    layer = _linear(convention, d, m)
    rng = np.random.default_rng(7)
    b_shape = _bias_shapes(convention, m)[stored]
    W, b = layer.W.copy(), rng.normal(size=b_shape)
    X = rng.normal(size=conv.shape("X", n, d, m))
    dY = rng.normal(size=conv.shape("Y", n, d, m))
    layer.b = b.copy()
    Y = layer.forward(X)
    dX = layer.backward(dY)
    assert layer.b.shape == b_shape and layer.db.shape == b_shape
    assert np.array_equal(layer.b, b)  # forward does not change what the user stored
    Y_t, dX_t, dW_t, db_t = _torch_grads(torch, convention, X, W, b, dY)
    assert np.allclose(Y, Y_t) and np.allclose(dX, dX_t)
    assert np.allclose(layer.dW, dW_t) and np.allclose(layer.db, db_t)

    def loss(b_: Any) -> float:
        probe = _linear(convention, d, m)
        probe.W, probe.b = W, b_
        return float(np.sum(dY * probe.forward(X)))

    fd = central_difference(loss, b)
    assert fd.shape == b_shape and np.allclose(layer.db, fd, atol=1e-7)


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_generated_linear_refuses_a_bias_of_another_shape(convention: str) -> None:
    """b of the wrong length, transposed (where that is not (M,)), or 3-D is refused in
    one line that names the shapes taken (numpy would broadcast some of them silently)."""
    d, m = 2, 3
    conv = CONVENTIONS[convention]
    X = np.ones(conv.shape("X", m, d, m))  # N == M: a broadcast would not fail
    row, column = (1, m), (m, 1)
    accepted = _bias_shapes(convention, m)
    wrong = [(m + 1,), (1, 1, m), column if row in accepted else row, (m, m)]
    for shape in wrong:
        layer = _linear(convention, d, m)
        layer.b = np.zeros(shape)
        with pytest.raises(ValueError, match=r"^b must have shape .*; got shape"):
            layer.forward(X)


# -- symderiv.render: the package, callable as render(d, fmt) ----------------------------
def test_render_submodules_import_under_their_own_names() -> None:
    """``import symderiv.render.beamer as B`` gives the module (the function ``render``
    no longer shadows the package), and the function is still there."""
    import symderiv
    import symderiv.render.beamer as B
    import symderiv.render.terminal as T
    from symderiv.render import render

    assert B is importlib.import_module("symderiv.render.beamer")
    assert callable(B.render_beamer) and callable(T.render_text)
    assert symderiv.render is importlib.import_module("symderiv.render")
    assert symderiv.render.beamer is B
    d = symderiv.derive(n=1, d=1, m=1)
    assert symderiv.render(d, "latex") == render(d, "latex")  # callable as before


def test_the_package_calls_a_patched_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """``symderiv.render(...)`` calls the package's ``render`` of the moment."""
    import symderiv

    package = importlib.import_module("symderiv.render")
    monkeypatch.setattr(package, "render", lambda *args, **kwargs: "patched")
    assert symderiv.render(symderiv.derive(n=1, d=1, m=1), "text") == "patched"


# -- the terminal: long entries broken over lines rather than left out -------------------
def _net_page(columns: int, activation: str = "tanh") -> list[str]:
    from click.testing import CliRunner

    from symderiv.cli import cli

    args = ["derive", "--net", f"affine:3,{activation},affine:2"]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def _step(lines: list[str], title: str) -> list[str]:
    """The lines of the step whose heading has ``title``, up to the next step."""
    start = next(k for k, line in enumerate(lines) if title in line)
    end = next(
        (k for k in range(start + 1, len(lines)) if lines[k].startswith("Step ")),
        len(lines),
    )
    return lines[start:end]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_small_network_shows_z2_and_dx_in_full_at_80_columns(
    activation: str,
) -> None:
    """At 80 columns (a projector) Z2 = A1·W2 + 1_N·b2 and ∂L/∂X have entries too long
    for one line: each is broken over lines, every term shown, instead of a ⋯."""
    lines = _net_page(80, activation)
    assert max(len(line) for line in lines) <= 80
    z2 = _step(lines, "Layer 2 (affine, 2 outputs)")
    dx = _step(lines, "Reshape into a matrix: ∂L/∂X")
    for step in (z2, dx):
        assert not any("⋯" in line for line in step), "\n".join(step)
    z2_text = "\n".join(z2)
    for i in (1, 2):
        for j in (1, 2):  # every term of z⁽²⁾ᵢⱼ = Σₖ a⁽¹⁾ᵢₖ w⁽²⁾ₖⱼ + b⁽²⁾ⱼ
            for k in (1, 2, 3):
                assert (
                    f"a⁽¹⁾{'₁₂'[i - 1]},{'₁₂₃'[k - 1]}⋅w⁽²⁾{'₁₂₃'[k - 1]},{'₁₂'[j - 1]}"
                    in z2_text
                )
    assert "  + a⁽¹⁾₁,₃⋅w⁽²⁾₃,₁ + b⁽²⁾₁" in z2_text  # continued with its sign
    assert "dz⁽¹⁾₁,₂" in "\n".join(dx)


def test_160_columns_keep_each_entry_on_one_line() -> None:
    """Where the entries fit, nothing is broken: 160 columns draw Z2 as before."""
    z2 = _step(_net_page(160), "Layer 2 (affine, 2 outputs)")
    row = "a⁽¹⁾₁,₁⋅w⁽²⁾₁,₁ + a⁽¹⁾₁,₂⋅w⁽²⁾₂,₁ + a⁽¹⁾₁,₃⋅w⁽²⁾₃,₁ + b⁽²⁾₁  a⁽¹⁾₁,₁⋅w⁽²⁾₁,₂"
    assert any(row in line for line in z2)
    assert not any("⎢  + " in line for line in z2)


def test_a_broken_entry_is_never_read_as_a_number() -> None:
    """tanh's diagonal 1 − a², too wide for 80 columns even broken, keeps its terms (a
    column of whole numbers shows only its first line: 1 over − a² would read as 1)."""
    step = _step(_net_page(80), "Jacobian of vec(A1) with respect to vec(Z1)")
    assert any("1 − a⁽¹⁾₁,₁²" in line for line in step), "\n".join(step)


def test_wrap_terms() -> None:
    from symderiv.render.terminal import wrap_terms

    assert wrap_terms("a + b − c + d", 2) == ["a + b", "  − c + d"]
    assert wrap_terms("x₁,₁w₁,₁ + b₁", 1) == ["x₁,₁w₁,₁", "  + b₁"]
    assert wrap_terms("−a⋅b", 1) == ["−a⋅b"]  # a leading sign is no break
