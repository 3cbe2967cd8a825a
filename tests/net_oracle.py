"""An independent oracle for networks: the composed loss typed in with sympy, then diff.

Nothing here uses symderiv. Affine layers are written per convention from SPEC section 1;
ReLU is r·z with a constant mask r; tanh is ``sympy.tanh`` and sigmoid a sympy function
whose derivative is σ(1 − σ), both replaced by their cached outputs aℓ_i_j after
differentiating; softmax cross-entropy is −(1/N) Σ t_ij (z_ij − log Σ_k exp z_ik) with
exp(z_ik) then replaced by p_ik (Σ_k p_ik = 1) and one-hot targets.

In the wx convention (samples as columns) every per-sample matrix is typed in transposed,
width × N, with Z = W·A + b·1ᵀ; the softmax then runs down each column.
"""

from __future__ import annotations

import sympy as sp


class Sigmoid(sp.Function):
    """σ(x) with σ' = σ(1 − σ) (sympy's own derivative rule, not symderiv's)."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = Sigmoid(self.args[0])
        return s * (1 - s)


def mat(prefix: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i + 1}_{j + 1}"))


def bias(k: int, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"b{k}_{max(i, j) + 1}"))


def parse(net: str) -> list[tuple[str, int]]:
    out = []
    for item in net.split(","):
        name, _, width = item.partition(":")
        out.append((name, int(width) if width else 0))
    return out


class Oracle:
    """The network typed in; ``gradient(var)`` differentiates L by every entry of var."""

    def __init__(self, net: str, n: int, d: int, convention: str, loss: str) -> None:
        self.n, self.loss = n, loss
        cols = convention == "wx"  # samples as columns

        def per_sample(prefix: str, width: int) -> sp.Matrix:
            return mat(prefix, width, n) if cols else mat(prefix, n, width)

        self.vars: dict[str, sp.Matrix] = {"X": per_sample("x", d)}
        self.act: dict[sp.Expr, sp.Symbol] = {}  # tanh(z-expression) -> a symbol
        self.cached: dict[str, sp.Matrix] = {}  # z and relu-a names -> expression
        H = self.vars["X"]
        k = 0
        for name, width in parse(net):
            if name == "affine":
                k += 1
                d_in = H.rows if cols else H.cols
                if cols:
                    W, b = mat(f"w{k}", width, d_in), bias(k, width, 1)
                    Z = W * H + b * sp.ones(1, n)
                elif convention == "xw":
                    W, b = mat(f"w{k}", d_in, width), bias(k, 1, width)
                    Z = H * W + sp.ones(n, 1) * b
                elif convention == "torch":
                    W, b = mat(f"w{k}", width, d_in), bias(k, 1, width)
                    Z = H * W.T + sp.ones(n, 1) * b
                else:
                    W, b = mat(f"w{k}", width, d_in), bias(k, width, 1)
                    Z = H * W.T + sp.ones(n, 1) * b.T
                self.vars[f"W{k}"], self.vars[f"b{k}"] = W, b
                self.cached[f"z{k}"] = Z
                H = Z
            elif name == "relu":
                R = mat(f"r{k}", H.rows, H.cols)
                H = R.multiply_elementwise(H)
                self.cached[f"a{k}"] = H
            else:
                f = sp.tanh if name == "tanh" else Sigmoid
                A = H.applyfunc(f)
                for i in range(H.rows):
                    for j in range(H.cols):
                        self.act[A[i, j]] = sp.Symbol(f"a{k}_{i + 1}_{j + 1}")
                H = A
        self.out = H
        c = H.rows if cols else H.cols
        T = per_sample("t", c)
        if loss == "generic":
            self.L = sum(
                (a * b for a, b in zip(per_sample("dy", c), H, strict=True)), sp.S(0)
            )
        elif loss == "sum":
            self.L = sum(H, sp.S(0))
        elif loss == "mse":
            self.L = sp.Rational(1, 2 * n) * sum(
                ((y - t) ** 2 for y, t in zip(H, T, strict=True)), sp.S(0)
            )
        else:

            def at(i: int, q: int) -> tuple[int, int]:  # sample i, class q
                return (q, i) if cols else (i, q)

            def name(prefix: str, i: int, q: int) -> sp.Symbol:
                r, s_ = at(i, q)
                return sp.Symbol(f"{prefix}_{r + 1}_{s_ + 1}")

            self.L = -sp.Rational(1, n) * sum(
                (
                    T[at(i, j)]
                    * (H[at(i, j)] - sp.log(sum(sp.exp(H[at(i, q)]) for q in range(c))))
                    for i in range(n)
                    for j in range(c)
                ),
                sp.S(0),
            )
            self.exp = {}
            for i in range(n):
                for q in range(c):
                    p = name("p", i, q)
                    # exp(z)/exp(z) may already be folded into exp(-z)·exp(z)
                    self.exp[sp.exp(H[at(i, q)])] = p
                    self.exp[sp.exp(-H[at(i, q)])] = 1 / p
            self.onehot = {}
            for i in range(n):
                last = c - 1
                self.onehot[name("p", i, last)] = 1 - sum(
                    (name("p", i, q) for q in range(c - 1)), sp.S(0)
                )
                self.onehot[name("t", i, last)] = 1 - sum(
                    (name("t", i, q) for q in range(c - 1)), sp.S(0)
                )

    def _clean(self, e: sp.Expr) -> sp.Expr:
        if self.loss == "softmax-ce":
            e = e.xreplace(self.exp)
        e = e.xreplace(self.act)
        if self.loss == "softmax-ce":
            e = e.xreplace(self.onehot)
        return e

    def gradient(self, var: str) -> sp.Matrix:
        V = self.vars[var]
        return sp.Matrix(
            V.rows, V.cols, lambda i, j: self._clean(sp.diff(self.L, V[i, j]))
        )

    def from_engine(self, m: sp.Matrix) -> sp.Matrix:
        """An engine result in cached names, written in the oracle's terms."""
        subs: dict[sp.Symbol, sp.Expr] = {}
        for name, E in self.cached.items():
            for i in range(E.rows):
                for j in range(E.cols):
                    subs[sp.Symbol(f"{name}_{i + 1}_{j + 1}")] = E[i, j].xreplace(
                        self.act
                    )
        out = m.xreplace(subs)
        if self.loss == "softmax-ce":
            out = out.xreplace(self.onehot)
        return out


def same(a: sp.Matrix, b: sp.Matrix) -> bool:
    """Exact equality (rational functions cancelled)."""
    return a.shape == b.shape and all(
        sp.cancel(sp.expand(x - y)) == 0 for x, y in zip(a, b, strict=True)
    )
