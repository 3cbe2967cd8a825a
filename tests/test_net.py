"""Networks: the engine against an independent sympy oracle, the spec parser, the JSON."""

from __future__ import annotations

import itertools
import json

import pytest
import sympy as sp

from symderiv.net import NetConfig, NetSpecError, derive_net, parse_net
from symderiv.net.data import render_net_json
from tests.net_oracle import Oracle, same

NETS = [
    ("affine:3,relu,affine:2", 2, 2),
    ("affine:2,tanh,affine:3", 1, 3),
    ("affine:1,sigmoid,affine:2", 3, 1),
    ("affine:2,relu", 2, 1),
    ("affine:3,tanh", 1, 2),
    ("affine:2,sigmoid", 2, 2),
    ("affine:2,affine:1", 2, 3),
    ("affine:1", 1, 1),
]
LOSSES = ("generic", "mse", "sum", "softmax-ce")
SETTINGS = list(
    itertools.product(
        ("xw", "torch", "column", "wx"), ("row", "col"), ("denominator", "numerator")
    )
)


def _cases(full: bool) -> list[tuple[str, int, int, str, str, str, str]]:
    out = []
    k = 0
    for (net, n, d), loss in itertools.product(NETS, LOSSES):
        if loss == "softmax-ce" and not net.split(",")[-1].startswith("affine"):
            continue
        chosen = (
            SETTINGS
            if full
            else [SETTINGS[k % len(SETTINGS)], SETTINGS[(k + 5) % len(SETTINGS)]]
        )
        k += 1
        for conv, vec, layout in chosen:
            out.append((net, n, d, loss, conv, vec, layout))
    return out


def _check_against_oracle(
    net: str, n: int, d: int, loss: str, conv: str, vec: str, layout: str
) -> None:
    derivation = derive_net(
        net=net, n=n, d=d, loss=loss, convention=conv, vec=vec, layout=layout
    )
    assert derivation.verified, [c for c in derivation.checks if not c.passed]
    oracle = Oracle(net, n, d, conv, loss)
    for var in derivation.config.wrt:
        mine = derivation.composed(var).to_sympy()
        if layout == "numerator":
            mine = mine.T
        expected = oracle.gradient(var)
        assert same(oracle.from_engine(sp.Matrix(mine)), expected), (
            var,
            mine,
            expected,
        )


@pytest.mark.parametrize(
    "case", _cases(full=False), ids=lambda c: "-".join(map(str, c))
)
def test_oracle(case: tuple[str, int, int, str, str, str, str]) -> None:
    _check_against_oracle(*case)


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [c for c in _cases(full=True) if c not in _cases(full=False)],
    ids=lambda c: "-".join(map(str, c)),
)
def test_oracle_every_setting(case: tuple[str, int, int, str, str, str, str]) -> None:
    _check_against_oracle(*case)


def test_oracle_two_activations_deep() -> None:
    _check_against_oracle(
        "affine:2,tanh,affine:2,sigmoid,affine:2",
        2,
        2,
        "softmax-ce",
        "torch",
        "col",
        "denominator",
    )


def test_wrt_subset_and_order() -> None:
    d = derive_net(net="affine:3,relu,affine:2", n=2, d=2, wrt=("b2", "W1"))
    assert list(d.results) == ["W1", "b2"]
    assert d.verified


def test_softmax_routes_are_both_shown_and_checked() -> None:
    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
    ids = [s.id for s in d.steps]
    assert "dP_dZ" in ids and "dL_dZ2_chain" in ids and "dL_dZ2_fused" in ids
    claims = [c.claim for c in d.checks if c.wrt == "P"]
    assert any("fused" in c for c in claims) and any("(P − T)/N" in c for c in claims)
    # J_p(z): N blocks of C × C
    jac = d.step("dP_dZ").equations[1].parts[1].matrix
    assert jac.nnz() == 2 * 2 * 2


def test_steps_use_earlier_steps() -> None:
    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
    seen: set[str] = set()
    for s in d.steps:
        assert set(s.uses) <= seen | {s.id}, (s.id, s.uses)
        assert s.id not in seen
        seen.add(s.id)


def test_network_form_of_w1() -> None:
    from symderiv.net.notes import formula_text

    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
    assert formula_text(d.results["W1"].extra["network_form"]) == "Xᵀ·((dZ2·W2ᵀ) ⊙ R1)"
    assert formula_text(d.results["W1"].closed_form) == "Xᵀ·dZ1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "affine",
        "affine:0",
        "affine:-1",
        "affine:x",
        "relu,affine:2",
        "affine:2,,",
        "affine:2,foo",
        "affine:2,relu,tanh",
        "affine:2,relu,softmax-ce",
        "affine:2,softmax-ce,relu",
        "affine:2,relu:3",
        "softmax-ce",
        "affine:99999999999",
    ],
)
def test_bad_specs_raise_one_line(text: str) -> None:
    with pytest.raises(NetSpecError) as info:
        parse_net(text)
    assert "\n" not in str(info.value)


def test_softmax_after_activation_with_loss_option() -> None:
    with pytest.raises(NetSpecError, match="ends with relu"):
        NetConfig(net=parse_net("affine:2,relu"), loss="softmax-ce")


def test_spec_softmax_ce_sets_the_loss() -> None:
    c = NetConfig(net=parse_net("affine:3,relu,affine:2,softmax-ce"))
    assert c.loss == "softmax-ce" and c.net.text == "affine:3,relu,affine:2"


def test_json_is_keyed_by_variables_and_parses() -> None:
    d = derive_net(net="affine:3,relu,affine:2", loss="softmax-ce", n=2, d=2)
    doc = json.loads(render_net_json(d))
    assert list(doc["results"]) == sorted(["X", "W1", "b1", "W2", "b2"])
    assert doc["verified"] is True
    for r in doc["results"].values():
        for row in r["derivative"]:
            for entry in row:
                sp.parse_expr(entry)
    names = {
        str(s)
        for row in doc["results"]["W1"]["derivative"]
        for e in row
        for s in sp.parse_expr(e).free_symbols
    }
    assert names <= {
        f"{p}_{i}_{j}"
        for p in ("x", "r1", "w2", "p", "t")
        for i in range(1, 4)
        for j in range(1, 4)
    }


@pytest.mark.parametrize("conv", ["xw", "torch", "column"])
@pytest.mark.parametrize("sizes", [(1, 1, 1), (2, 3, 2), (3, 1, 4)])
def test_single_layer_softmax_ce_against_the_oracle(
    conv: str, sizes: tuple[int, int, int]
) -> None:
    from symderiv.derive import derive

    n, d, m = sizes
    derivation = derive(n=n, d=d, m=m, convention=conv, loss="softmax-ce")
    assert derivation.verified
    oracle = Oracle(f"affine:{m}", n, d, conv, "softmax-ce")
    for var, net_var in (("X", "X"), ("W", "W1"), ("b", "b1")):
        mine = sp.Matrix(derivation.explicit_derivative(var))
        layer_names = {
            s: sp.Symbol(str(s).replace("w_", "w1_", 1).replace("b_", "b1_", 1))
            for s in mine.free_symbols
            if str(s).startswith(("w_", "b_"))
        }
        mine = oracle.from_engine(mine.xreplace(layer_names))
        assert same(mine, oracle.gradient(net_var)), var
