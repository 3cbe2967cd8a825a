"""Property tests (hypothesis): any sizes, convention, order and layout."""

from __future__ import annotations

import json

import oracle
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv import Config, derive

sizes = st.integers(1, 4)
configs = st.builds(
    Config,
    n=sizes,
    d=sizes,
    m=sizes,
    convention=st.sampled_from(["xw", "torch", "column", "wx"]),
    vec=st.sampled_from(["row", "col"]),
    layout=st.sampled_from(["denominator", "numerator"]),
    loss=st.sampled_from(["generic", "mse", "sum"]),
)


@settings(max_examples=25, deadline=None)
@given(configs)
def test_results_match_closed_forms_typed_in_sympy(config: Config) -> None:
    deriv = derive(config)
    assert deriv.verified
    mats = oracle.layer(config.convention, config.n, config.d, config.m)
    ones_y = sp.ones(*mats["Y"].shape)  # dY of L = Σ y_ij
    dY = {"generic": mats["dY"], "sum": ones_y}.get(config.loss)
    if dY is None:  # mse keeps dy symbols in the derivative; compare generically
        dY = mats["dY"]
    X, W = mats["X"], mats["W"]
    ones = sp.ones(config.n, 1)
    if config.convention == "xw":
        closed = {"X": dY * W.T, "W": X.T * dY, "b": ones.T * dY}
    elif config.convention == "torch":
        closed = {"X": dY * W, "W": dY.T * X, "b": ones.T * dY}
    elif config.convention == "wx":  # samples as columns: dY is M×N
        closed = {"X": W.T * dY, "W": dY * X.T, "b": dY * ones}
    else:
        closed = {"X": dY * W, "W": dY.T * X, "b": dY.T * ones}
    for var, expected in closed.items():
        if config.layout == "numerator":
            expected = expected.T
        got = deriv.results[var].derivative.to_sympy()
        assert oracle.same(got, expected), var
        rows, cols = deriv.results[var].jacobian.shape
        assert rows == config.n * config.m
        assert cols == mats[var].rows * mats[var].cols


@settings(max_examples=15, deadline=None)
@given(configs)
def test_json_is_deterministic_and_consistent(config: Config) -> None:
    a = derive(config).to_json()
    b = derive(config).to_json()
    assert a == b
    data = json.loads(a)
    assert data["config"]["n"] == config.n
    for var, result in data["results"].items():
        shape = result["jacobian"]["shape"]
        for r, c, _ in result["jacobian"]["nonzeros"]:
            assert 0 <= r < shape[0] and 0 <= c < shape[1]
        assert len(data["vec"][var]) == shape[1]
