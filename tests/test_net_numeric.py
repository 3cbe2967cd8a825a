"""Networks with numbers: JSON against torch.autograd, generated Net against finite
differences, verify --net, and the CLI's error paths."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from symderiv.cli import cli
from symderiv.net import NetConfig, derive_net
from symderiv.net.codegen import generate_net
from symderiv.net.data import render_net_json
from symderiv.net.notes import formula_text
from symderiv.net.numeric import (
    draw_net_instance,
    forms,
    torch_net_gradients,
    verify_net,
)
from symderiv.net.spec import parse_net
from symderiv.numeric import central_difference

torch = pytest.importorskip("torch")

NETS = [
    "affine:3,relu,affine:2",
    "affine:2,tanh,affine:3",
    "affine:2,sigmoid,affine:2",
    "affine:3,tanh",
]


def _point(
    config: NetConfig, seed: int
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Every canonical name's value at a random instance, after its forward pass."""
    inst = draw_net_instance(config, seed)
    out, cache = inst.forward()
    values: dict[str, float] = {}

    def put(prefix: str, a: np.ndarray, bias: bool = False) -> None:
        for (i, j), v in np.ndenumerate(a):
            name = f"{prefix}_{max(i, j) + 1}" if bias else f"{prefix}_{i + 1}_{j + 1}"
            values[name] = float(v)

    put("x", inst.X)
    put("t", inst.T)
    if inst.dY is not None:
        put("dy", inst.dY)
    for name, a in inst.params.items():
        put(name.lower(), a, bias=name.startswith("b"))
    for name, a in cache.items():
        if name != "X":
            put(name.lower(), a)
    return values, inst.variables()


def _evaluate_json(doc: dict, var: str, values: dict[str, float]) -> np.ndarray:
    rows = doc["results"][var]["derivative"]
    out = np.empty((len(rows), len(rows[0])))
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            expr = sp.parse_expr(text)
            out[i, j] = float(
                expr.xreplace({s: values[str(s)] for s in expr.free_symbols})
            )
    return out


CASES = [
    (net, loss, conv)
    for net, loss, conv in itertools.product(
        NETS, ("generic", "mse", "sum", "softmax-ce"), ("xw", "torch", "column")
    )
    if not (loss == "softmax-ce" and not net.split(",")[-1].startswith("affine"))
]


@pytest.mark.parametrize("net,loss,conv", CASES)
def test_json_at_a_point_equals_autograd(net: str, loss: str, conv: str) -> None:
    config = NetConfig(net=net, n=2, d=3, loss=loss, convention=conv)
    doc = json.loads(render_net_json(derive_net(config)))
    assert doc["verified"]
    values, _ = _point(config, seed=7)
    grads = torch_net_gradients(draw_net_instance(config, 7))
    assert grads is not None
    for var in config.wrt:
        got = _evaluate_json(doc, var, values)
        np.testing.assert_allclose(got, grads[var], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("net,loss,conv", CASES[::3])
def test_verify_net_passes(net: str, loss: str, conv: str) -> None:
    assert verify_net(
        NetConfig(net=net, n=3, d=2, loss=loss, convention=conv), seed=1
    ).passed


@pytest.mark.parametrize("conv", ["xw", "torch", "column"])
def test_forms_match_the_derivation(conv: str) -> None:
    config = NetConfig(
        net="affine:3,relu,affine:2,tanh,affine:2",
        n=2,
        d=2,
        convention=conv,
        loss="softmax-ce",
    )
    derivation = derive_net(config)
    _, var_forms = forms(config)
    for var in config.wrt:
        assert formula_text(var_forms[var]) == formula_text(
            derivation.results[var].extra["network_form"]
        )


def _load(source: str, tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "net,conv,loss",
    [
        ("affine:3,relu,affine:2", "xw", "softmax-ce"),
        ("affine:4,tanh,affine:3,sigmoid", "torch", "mse"),
        ("affine:2,sigmoid,affine:3,relu,affine:2", "column", "softmax-ce"),
        ("affine:2,affine:3", "xw", "generic"),
    ],
)
def test_generated_net_matches_finite_differences(
    net: str, conv: str, loss: str, tmp_path: Path
) -> None:
    module = _load(
        generate_net(net, conv, loss), tmp_path, f"gen_{abs(hash((net, conv, loss)))}"
    )
    rng = np.random.default_rng(3)
    d, n = 3, 4
    model = module.Net(d, seed=0)
    for name in dir(model):
        if name[0] == "b" and name[1:].isdigit():
            setattr(model, name, rng.normal(size=getattr(model, name).shape))
    X = rng.normal(size=(n, d))
    out = model.forward(X)
    if loss == "softmax-ce":
        T = np.zeros_like(out)
        T[np.arange(n), rng.integers(0, out.shape[1], size=n)] = 1.0

        def loss_of(o: np.ndarray) -> tuple[float, np.ndarray]:
            return module.softmax_ce(o, T)
    elif loss == "mse":
        T = rng.normal(size=out.shape)

        def loss_of(o: np.ndarray) -> tuple[float, np.ndarray]:
            return float(np.sum((o - T) ** 2) / (2 * n)), (o - T) / n
    else:
        G = rng.normal(size=out.shape)

        def loss_of(o: np.ndarray) -> tuple[float, np.ndarray]:
            return float(np.sum(G * o)), G

    _, d_out = loss_of(out)
    dX = model.backward(d_out)
    grads = {"X": dX}
    names = [a for a in vars(model) if a[0] in "Wb" and a[1:].isdigit()]
    for a in names:
        grads[a] = getattr(model, "d" + a)

    def loss_at(var: str):  # type: ignore[no-untyped-def]
        def f(value: np.ndarray) -> float:
            fresh = module.Net(d, seed=0)
            for a in names:
                setattr(fresh, a, getattr(model, a).copy())
            if var == "X":
                return loss_of(fresh.forward(value))[0]
            setattr(fresh, var, value)
            return loss_of(fresh.forward(X))[0]

        return f

    for var, grad in grads.items():
        at = X if var == "X" else getattr(model, var)
        fd = central_difference(loss_at(var), at)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


# -- the CLI -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "",
        "affine",
        "affine:0",
        "relu,affine:2",
        "affine:2,,",
        "affine:2,softmax",
        "affine:2,relu,tanh",
        "affine:2,relu,softmax-ce",
    ],
)
def test_bad_net_is_one_line_exit_2(text: str) -> None:
    result = CliRunner().invoke(cli, ["derive", "--net", text])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_softmax_ce_after_activation_via_loss_is_refused() -> None:
    result = CliRunner().invoke(
        cli, ["derive", "--net", "affine:2,relu", "--loss", "softmax-ce"]
    )
    assert result.exit_code == 2 and "ends with relu" in result.stderr


def test_m_is_refused_with_net() -> None:
    for command in ("derive", "verify"):
        result = CliRunner().invoke(cli, [command, "--net", "affine:2", "--m", "3"])
        assert result.exit_code == 2 and "--m" in result.stderr


def test_unknown_wrt_for_the_network() -> None:
    result = CliRunner().invoke(cli, ["derive", "--net", "affine:2", "--wrt", "W2"])
    assert result.exit_code == 2 and "W2" in result.stderr


def test_verify_net_exit_0() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "verify",
            "--net",
            "affine:3,relu,affine:2",
            "--loss",
            "softmax-ce",
            "--n",
            "2",
            "--d",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "every closed form agrees" in result.stdout


def test_derive_net_json_and_text() -> None:
    args = [
        "derive",
        "--net",
        "affine:3,relu,affine:2",
        "--loss",
        "softmax-ce",
        "--n",
        "2",
        "--d",
        "2",
    ]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["verified"] and set(doc["results"]) == {"X", "W1", "b1", "W2", "b2"}
    text = CliRunner().invoke(cli, [*args, "--format", "text"])
    assert text.exit_code == 0
    assert "Xᵀ·((dZ2·W2ᵀ) ⊙ R1)" in text.stdout and "(P − T)/N" in text.stdout


def test_codegen_net_cli(tmp_path: Path) -> None:
    out = tmp_path / "net.py"
    result = CliRunner().invoke(
        cli,
        [
            "codegen",
            "--net",
            "affine:3,relu,affine:2",
            "--loss",
            "softmax-ce",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0
    module = _load(out.read_text(encoding="utf-8"), tmp_path, "cli_net")
    assert hasattr(module, "Net") and hasattr(module, "softmax_ce")


def test_size_guard_covers_networks() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "derive",
            "--net",
            ",".join(["affine:64", "relu"] * 6) + ",affine:64",
            "--n",
            "64",
            "--d",
            "64",
        ],
    )
    assert result.exit_code == 2 and "too large" in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["--method", "tensor"],
        ["--names", "X=A"],
        ["--step", "-o", "net.txt"],
        ["--index-base", "0"],
        ["--upstream", "bar"],
        ["--bold"],
        ["--values", "1"],
        ["--flavor", "gitlab"],
    ],
)
def test_options_a_network_does_not_take(extra: list[str]) -> None:
    result = CliRunner().invoke(cli, ["derive", "--net", "affine:2", *extra])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_single_layer_softmax_ce() -> None:
    from symderiv.derive import derive

    d = derive(n=2, d=2, m=3, loss="softmax-ce")
    assert d.verified
    values = d.upstream_values()
    assert values["dy_1_1"].to_str() == "(p_1_1 - t_1_1)/2"
    result = CliRunner().invoke(cli, ["verify", "--loss", "softmax-ce"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("net", "n", "d", "conv"),
    [
        ("affine:3,relu,affine:2,softmax-ce", 2, 2, "xw"),
        ("affine:1,relu,affine:1", 1, 1, "xw"),
        ("affine:4,relu,affine:3,relu,affine:2", 3, 2, "torch"),
        ("affine:2,relu,affine:2", 2, 3, "column"),
    ],
)
def test_a_relu_network_is_checked_where_its_gradients_are_not_zero(
    net: str, n: int, d: int, conv: str
) -> None:
    """Seed 0 of affine:3,relu,affine:2 once drew a dead ReLU layer: every gradient but db2
    was exactly 0, and verify's ✓ said nothing. Each seed's instance now keeps every ReLU
    alive, blocking at least one entry where it can, and away from the kink."""
    from symderiv.net.numeric import KINK_MARGIN, closed_values

    spec = parse_net(net)
    loss = "softmax-ce" if spec.softmax_ce else "mse"
    for seed in range(12):
        config = NetConfig(net=spec, n=n, d=d, convention=conv, loss=loss)
        inst = draw_net_instance(config, seed)
        _, cache = inst.forward()
        masks = [cache[k] for k in cache if k.startswith("R")]
        assert masks and all(r.any() and (r.size < 2 or not r.all()) for r in masks)
        zs = [cache[f"Z{k[1:]}"] for k in cache if k.startswith("R")]
        assert all(np.abs(z).min() > KINK_MARGIN for z in zs)
        assert all(np.abs(g).max() > 0 for g in closed_values(inst).values()), seed


def test_a_network_and_a_layer_say_the_same_under_their_checks() -> None:
    """verify --net wrote its own shorter footer (no step h, no pip hint): the two now
    print one, so they cannot drift apart."""
    env = {"COLUMNS": "100"}
    layer = CliRunner().invoke(cli, ["verify"], env=env).stdout
    net = CliRunner().invoke(cli, ["verify", "--net", "affine:3,tanh"], env=env).stdout
    tail = layer[layer.index("FD: central differences") :]
    assert tail.startswith("FD: central differences, step h = ∛ε")
    assert net[net.index("FD: central differences") :] == tail
