"""The network engine: a NetConfig becomes a NetDerivation, layer by layer, top down.

Design principle: each nonlinear layer's Jacobian is written in the values its forward
pass caches (the ReLU mask rℓ_i_j, the tanh or sigmoid output aℓ_i_j, the softmax output
p_i_j), exactly as a student's backward code does. Every entry then stays a polynomial,
so :mod:`symderiv.algebra` carries over and each layer gets the single layer's explicit
route: the upstream it receives (as symbols dzℓ_i_j / daℓ_i_j), its local Jacobian
written out, the chain rule as a row times a matrix, the reshape, the closed form and the
certificate. Substituting each upstream's value then gives every derivative of the whole
network as a polynomial in the cached names (what the JSON holds).

The softmax cross-entropy (1/p is not a polynomial) uses one more atom, ip_i_j = 1/p_i_j,
which cancels against the p_i_j of the softmax Jacobian; Σ_j t_ij = 1 (one-hot targets) is
applied by writing the last target of each row as 1 − the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from .. import maths
from ..algebra import (
    ONE,
    Poly,
    PolyMatrix,
    affine_jacobian,
    bulk_work,
    vec_positions,
)
from ..conventions import mse_upstream, softmax_ce_upstream
from ..derive import Progress
from ..notation import (
    Deriv,
    Equation,
    Explicit,
    Jac,
    Node,
    Ones,
    Prod,
    Sum,
    Sym,
    T,
    Vec,
    transpose,
)
from ..notes import (
    Claim,
    Code,
    F,
    M,
    Prose,
    joined,
    net_layer,
    net_summary_uses,
    prose,
)
from ..steps import Check, Result, Step, StepKind
from .notation import (
    Diag,
    Had,
    Slope,
    diag_of,
    evaluate,
    hadamard,
    rename,
    slope_matrix,
    substitute,
)
from .notes import Written, ent, mat, math, slash, widths_math
from .notes import ent_tex as _t
from .notes import ent_text as _e
from .spec import LayerSpec, NetConfig, variables

#: A factor of an index formula: "δ", the slope "f", or an entry's (letters, layer).
Name = str | tuple[str, int | None]
#: The summed index letter (None: no sum), ∂out_ij/∂var_kl and the collapsed sum, as
#: products of factors (name, index letters).
Formula = tuple[str | None, Sequence[tuple[Name, str]], Sequence[tuple[Name, str]]]


# -- names ---------------------------------------------------------------------------
def atoms(prefix: str, rows: int, cols: int, bias: bool = False) -> PolyMatrix:
    """The matrix of entry names prefix_i_j (1-based): x_1_1, w2_1_3, dz1_2_1, ...; with
    ``bias``, the one index of a bias row (1, K) or column (K, 1): b2_3."""
    return PolyMatrix(
        rows,
        cols,
        {
            (i, j): Poly.atom(
                f"{prefix}_{max(i, j) + 1}" if bias else f"{prefix}_{i + 1}_{j + 1}"
            )
            for i in range(rows)
            for j in range(cols)
        },
    )


def entry_prefix(role: str) -> str:
    """The entry prefix of a matrix role: X -> x, W2 -> w2, dZ1 -> dz1, P -> p."""
    if role.startswith("d") and len(role) > 1:
        return "d" + role[1:].lower()
    return role.lower()


@dataclass(frozen=True)
class Stage(LayerSpec):
    """One layer of the network as the engine sees it: its ``--net`` item (the
    :class:`LayerSpec` fields), and where it sits among the network's matrices.

    Attributes:
        input: role of its input matrix (X, A1, Z1, ...).
        output: role of its output (Zℓ for affine ℓ, Aℓ for the activation after it).
        in_width, out_width: widths of input and output (N rows each).
    """

    input: str
    output: str
    in_width: int
    out_width: int

    @property
    def name(self) -> tuple[str, int, int]:
        """(kind, ℓ, outputs): what :func:`symderiv.notes.net_layer` names it by."""
        return self.kind, self.index, self.out_width


def stages(config: NetConfig) -> tuple[Stage, ...]:
    """The layers with their input and output roles, bottom up."""
    out: list[Stage] = []
    current, width = "X", config.d
    for layer in config.net.layers:
        role = f"{'Z' if layer.kind == 'affine' else 'A'}{layer.index}"
        out_width = width if layer.width is None else layer.width
        out.append(
            Stage(layer.kind, layer.width, layer.index, current, role, width, out_width)
        )
        current, width = role, out_width
    return tuple(out)


def loss_form(config: NetConfig) -> Node:
    """∂L/∂(the network's output) as a formula: dY, 1_N·1_Kᵀ, (Z − T)/N or (P − T)/N."""
    last = stages(config)[-1]
    if config.loss == "generic":
        return Sym("dY")
    if config.loss == "sum":
        ones_k = Ones(f"K{last.index}")
        if config.conv.samples_as_columns:
            return Prod(ones_k, T(Ones("N")))
        return Prod(Ones("N"), T(ones_k))
    if config.loss == "softmax-ce":
        return softmax_ce_upstream()
    return rename(mse_upstream(), {"Y": last.output})


def layer_form(node: Node, st: Stage, **roles: str) -> Node:
    """A single-layer formula as affine layer st's: X, W, b -> its input, Wℓ, bℓ (and
    ``roles``, e.g. dY -> dZℓ); the sizes D, M -> its widths D or Kℓ₋₁, Kℓ."""
    k = st.index
    own = {"X": st.input, "W": f"W{k}", "b": f"b{k}", **roles}
    sizes = {"N": "N", "D": "D" if k == 1 else f"K{k - 1}", "M": f"K{k}"}
    return rename(node, own, sizes)


def network_forms(config: NetConfig) -> dict[str, Node]:
    """∂L/∂(every matrix) as a formula through the network: each layer's upstream (dZ2,
    dA1, ...) and X, Wℓ, bℓ, built top down from the convention's closed forms alone,
    exactly as the derivation states them: dAℓ = dZℓ₊₁·W(ℓ+1)ᵀ, dZℓ = dAℓ ⊙ f'(Zℓ),
    dWℓ = Hᵀ·dZℓ, ..."""
    all_stages = stages(config)
    top = all_stages[-1].output
    through: dict[str, Node] = {top: Sym(f"d{top}")}
    for st in reversed(all_stages):
        up, k = through[st.output], st.index
        if st.kind == "affine":
            for role, var in {"X": st.input, "W": f"W{k}", "b": f"b{k}"}.items():
                closed = layer_form(config.conv.closed_form(role), st)
                through[var] = substitute(closed, {"dY": up})
        else:
            through[f"Z{k}"] = Had(up, Slope(st.kind, k))
    return through


@dataclass(frozen=True)
class NetDerivation:
    """A whole network derivation: steps, results, certificate and composed derivatives.

    Attributes:
        config: the network and its settings.
        stages: the layers, bottom up.
        matrices: every named matrix: X, Wℓ, bℓ, Zℓ, Aℓ, Rℓ (cached names), P, T, dY.
        forward: Zℓ written through its input (X Wℓ + 1 bℓ in the input's names).
        steps: the derivation, in order (the forward pass, then the layers top down).
        results: per requested variable (X, W1, b1, ...): the local derivation, with
            ``extra["composed_raw"]`` the derivative of L as a polynomial in the cached
            names (layout applied) divided by ``scale``, and ``extra["network_form"]``
            its formula through the net (see :meth:`composed`).
        upstreams_raw: ∂L/∂(each layer output): dZ2, dA1, ... in the cached names, in
            the output's own shape, divided by ``scale``.
        scale: 1/N for mse and softmax-ce (factored out: integer coefficients are much
            faster than fractions), else 1.
        top: the role of the network's output (Z2, A2, ...).
        checks: the certificate.
    """

    config: NetConfig
    stages: tuple[Stage, ...]
    matrices: Mapping[str, PolyMatrix]
    forward: Mapping[str, PolyMatrix]
    steps: tuple[Step, ...]
    results: Mapping[str, Result]
    upstreams_raw: Mapping[str, PolyMatrix]
    scale: Fraction
    top: str
    checks: tuple[Check, ...]

    @property
    def verified(self) -> bool:
        """True when every check of the certificate passed."""
        return all(c.passed for c in self.checks)

    def step(self, step_id: str) -> Step:
        """The step with id ``step_id``."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def composed(self, var: str) -> PolyMatrix:
        """∂L/∂var of the whole network, a polynomial in the cached names."""
        raw: PolyMatrix = self.results[var].extra["composed_raw"]
        return raw.scale(self.scale)

    def composed_strings(self, var: str) -> list[list[str]]:
        """∂L/∂var as sympy-readable strings: ``(…)/N`` with integer terms inside."""
        raw: PolyMatrix = self.results[var].extra["composed_raw"]
        return scaled_strings(raw, self.scale)

    def upstream_strings(self, role: str) -> list[list[str]]:
        """∂L/∂role (an upstream such as dZ2 or dA1) as sympy-readable strings."""
        return scaled_strings(self.upstreams_raw[role], self.scale)

    def page(self, max_entries: int = 12) -> tuple[Any, ...]:
        """The format-neutral page every printer walks (:mod:`symderiv.net.page`)."""
        from .page import net_page

        return net_page(self, max_entries)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema 1, extended for networks: see the README)."""
        from .data import net_to_dict

        return net_to_dict(self)


def derive_net(
    config: NetConfig | None = None,
    *,
    progress: Progress | None = None,
    force: bool = False,
    **options: Any,
) -> NetDerivation:
    """Derive ∂L/∂X, ∂L/∂Wℓ, ∂L/∂bℓ of a network, layer by layer.

    Args:
        config: the network and settings; or keywords (net="affine:3,relu,affine:2", ...).
        progress: optional callback progress(task, done, total).
        force: run even when the size guard estimates the work as too large.

    Raises:
        SymderivError: bad settings, or sizes the guard refuses.

    >>> d = derive_net(net="affine:1,relu", n=1, d=1)
    >>> d.composed("W1").to_strings(), d.verified
    ([['x_1_1*dy_1_1*r1_1_1']], True)
    """
    if config is None:
        config = NetConfig(**options)
    elif options:
        raise TypeError("pass either a NetConfig or keyword options, not both")
    from .cost import guard_net

    guard_net(config, force)
    with bulk_work():
        return _NetEngine(config, progress).run()


def scaled_strings(raw: PolyMatrix, scale: Fraction) -> list[list[str]]:
    """Entries of scale·raw as strings, the scale (1/N or 1) written once:
    ``(x_1_1*p_1_1 - …)/16``."""
    if scale == 1:
        return raw.to_strings()

    def entry(p: Poly) -> str:
        if len(p) <= 1:
            return p.scale(scale).to_str()
        return f"({p.to_str()})/{scale.denominator}"

    return [[entry(raw[i, j]) for j in range(raw.cols)] for i in range(raw.rows)]


def cancel_reciprocals(p: Poly) -> Poly:
    """Cancel ip_i_j (= 1/p_i_j) against p_i_j in every term."""
    acc: dict[tuple[str, ...], Any] = {}
    for mono, c in p.terms.items():
        factors = list(mono)
        for f in mono:
            if f.startswith("ip_") and f[1:] in factors:  # ip_i_j·p_i_j = 1
                factors.remove(f)
                factors.remove(f[1:])
        key = tuple(factors)
        acc[key] = acc.get(key, 0) + c
    return Poly({m: c for m, c in acc.items() if c})


class _NetEngine:
    """Builds the steps of a network derivation; each method adds Steps (never text)."""

    def __init__(self, config: NetConfig, progress: Progress | None) -> None:
        self.config = config
        self.conv = config.conv
        self.order = config.vec
        self.n = config.n
        self.progress = progress or _silent
        self.stages = stages(config)
        self.steps: list[Step] = []
        self.checks: list[Check] = []
        self.results: dict[str, Result] = {}
        self.upstreams: dict[str, PolyMatrix] = {}
        self.upstream_forms = network_forms(config)
        self.local_forms: dict[str, Node] = {}
        self.mats: dict[str, PolyMatrix] = {}
        self.forward: dict[str, PolyMatrix] = {}
        #: Samples as rows (N × width), or as columns (width × N: the wx convention).
        self.columns = self.conv.samples_as_columns
        self.mats["X"] = atoms("x", *self.act_shape(config.d))
        for st in self.stages:
            k = st.index
            if st.kind == "affine":
                sizes = (self.n, st.in_width, st.out_width)
                self.mats[f"W{k}"] = atoms(f"w{k}", *self.conv.shape("W", *sizes))
                self.mats[f"b{k}"] = atoms(
                    f"b{k}", *self.conv.shape("b", *sizes), bias=True
                )
                self.forward[st.output] = self.value(
                    layer_form(self.conv.forward(), st)
                )
            elif st.kind == "relu":
                self.mats[f"R{k}"] = atoms(f"r{k}", *self.act_shape(st.out_width))
            self.mats[st.output] = atoms(
                entry_prefix(st.output), *self.act_shape(st.out_width)
            )
        self.top = self.stages[-1].output
        for role in ("T", "dY", "P") if config.loss == "softmax-ce" else ("T", "dY"):
            shape = self.act_shape(self.stages[-1].out_width)
            self.mats[role] = atoms(entry_prefix(role), *shape)
        # The variables whose derivatives are reported.
        self.wanted = set(config.wrt)
        # A sample's index (i, the row) and its class index (j, the column); wx swaps them.
        self.sample_word, self.sample_letter, self.class_letter = (
            ("column", "j", "i") if self.columns else ("row", "i", "j")
        )

    def raw(self, pattern: str) -> str:
        """Index letters of ``pattern`` in matrix order: "ic" is the sample i's entry c
        (i = the sample, c = its class j, K/L = the other sample's k/l); wx swaps them."""
        letters = str.maketrans("icKL", "jilk" if self.columns else "ijkl")
        out = pattern.translate(letters)
        if len(pattern) == 2 and pattern[0] == "i" and self.columns:
            out = out[::-1]  # (sample, class) is (row, column) in matrix order
        return out

    def sub(self, pattern: str) -> str:
        """The index letters as Unicode subscripts (δᵢₖ, Σⱼ)."""
        return _e("", None, self.raw(pattern))

    def u(self, letter: str, pattern: str, layer: int | None = None) -> str:
        return _e(letter, layer, self.raw(pattern))

    def x(self, letter: str, pattern: str, layer: int | None = None) -> str:
        return _t(letter, layer, self.raw(pattern))

    def sums_to_one(self, letter: str) -> M:
        """Σⱼ tᵢⱼ = 1 (a sample's entries sum to one), the indices in matrix order."""
        return math(
            f"Σ{self.sub('c')} {self.u(letter, 'ic')} = 1",
            rf"\sum_{{{self.class_letter}}} {self.x(letter, 'ic')} = 1",
        )

    def act_shape(self, width: int) -> tuple[int, int]:
        """The shape of a matrix with one row per sample (one column in wx)."""
        return (width, self.n) if self.columns else (self.n, width)

    def env(self, st: Stage) -> dict[str, PolyMatrix]:
        """The single layer's X, W, b as affine layer st's input, Wℓ and bℓ."""
        k = st.index
        return {
            "X": self.mats[st.input],
            "W": self.mats[f"W{k}"],
            "b": self.mats[f"b{k}"],
        }

    def value(self, node: Node, **more: PolyMatrix) -> PolyMatrix:
        """A network formula's value: its roles read from the network's matrices (and
        ``more``: upstreams such as dZ2), its sizes N, D, Kℓ the network's."""
        return evaluate(node, {**self.mats, **more}, self.order, self.config.sizes())

    # -- the whole run -----------------------------------------------------------------
    def run(self) -> NetDerivation:
        total = len(self.stages) + 2
        self.progress("forward pass", 0, total)
        self.define_step()
        self.forward_steps()
        self.progress("loss", 1, total)
        top_value, self.top_form = self.loss_steps()
        # The 1/N of mse and softmax-ce is factored out while composing (integer
        # coefficients are much faster than Fractions) and applied once at the end.
        self.scale = Fraction(
            1, self.n if self.config.loss in ("mse", "softmax-ce") else 1
        )
        self.upstreams[self.top] = top_value.scale(1 / self.scale)
        lowest = self._lowest_needed()
        top_down = range(len(self.stages) - 1, lowest - 1, -1)
        for done, pos in enumerate(top_down, start=2):
            st = self.stages[pos]
            self.progress(f"{net_layer(*st.name)}: {st.output}", done, total)
            self.steps.append(self._upstream_step(st))
            if st.kind == "affine":
                self.affine_backward(st, need_input=pos > lowest or "X" in self.wanted)
            else:
                self.activation_backward(st)
        self.summary_step()
        self.progress("done", total, total)
        return NetDerivation(
            config=self.config,
            stages=self.stages,
            matrices=dict(self.mats),
            forward=dict(self.forward),
            steps=tuple(self.steps),
            results={v: self.results[v] for v in self.config.wrt},
            upstreams_raw=dict(self.upstreams),
            scale=self.scale,
            top=self.top,
            checks=tuple(self.checks),
        )

    def _lowest_needed(self) -> int:
        """Position of the lowest stage the backward pass must go through."""
        if "X" in self.wanted:
            return 0
        return min(
            pos
            for pos, st in enumerate(self.stages)
            if st.kind == "affine" and {f"W{st.index}", f"b{st.index}"} & self.wanted
        )

    # -- forward -------------------------------------------------------------------------
    def define_step(self) -> None:
        c = self.config
        # X, W1, b1, W2, b2, ...
        eqs = [Equation(Sym(v), Explicit(self.mats[v])) for v in variables(c.net)]
        affine = len(c.widths()) - 1
        ell = math("ℓ", r"\ell")
        self.steps.append(
            Step(
                "define",
                StepKind.DEFINE,
                "The network and its symbols",
                tuple(eqs),
                note=prose(
                    "Network {net}: {n} samples; widths {widths} ($D$ of the input, {k} "
                    "of the output of affine layer {layer}); every affine layer in the "
                    "{conv} convention ({source}). The weights and bias of affine layer "
                    "{ell} have the entries {w} and {b}; every entry is its own symbol, "
                    "indexed from 1.",
                    net=Code(c.net.text),
                    n=math(f"N = {c.n}"),
                    widths=widths_math(c.widths()),
                    k=math("Kℓ", r"K_{\ell}") if affine > 1 else math("K1", "K_{1}"),
                    layer=ell if affine > 1 else "1",
                    conv=self.conv.name,
                    source=self.conv.source,
                    ell=ell,
                    w=math("w⁽ℓ⁾ᵢⱼ", r"w^{(\ell)}_{ij}"),
                    b=math("b⁽ℓ⁾ⱼ", r"b^{(\ell)}_{j}"),
                ),
            )
        )

    def forward_steps(self) -> None:
        top_k = self.stages[-1].index
        self.steps += [self._forward_step(st) for st in self.stages]
        if self.config.loss == "softmax-ce":
            self.steps.append(
                Step(
                    "forward_P",
                    StepKind.DEFINE,
                    f"Softmax of the last output, {self.sample_word} by "
                    f"{self.sample_word}",
                    (
                        Equation(
                            Written(
                                f"{self.u('p', 'ic')} = exp({self.u('z', 'ic', top_k)}) / "
                                f"Σₖ exp({self.u('z', 'ik', top_k)})",
                                rf"{self.x('p', 'ic')} = \frac{{\exp "
                                rf"{self.x('z', 'ic', top_k)}}}"
                                rf"{{\sum_{{k}} \exp {self.x('z', 'ik', top_k)}}}",
                            )
                        ),
                        Equation(Sym("P"), Explicit(self.mats["P"])),
                    ),
                    note=prose(
                        "{word} {i} of {P} is a probability vector ({one}); the forward "
                        "pass caches {P}, and the backward pass is written in its entries.",
                        word=self.sample_word.capitalize(),
                        i=math(self.sample_letter),
                        P=mat("P"),
                        one=self.sums_to_one("p"),
                    ),
                    wrt="P",
                )
            )

    def _forward_step(self, st: Stage) -> Step:
        """Layer st's forward pass: Zℓ entry by entry, or an activation, what it caches
        and its slope in the cached values."""
        k, kind, out = st.index, st.kind, st.output
        title: Prose = (f"{net_layer(*st.name)}: ", mat(out))
        if kind == "affine":
            form = layer_form(self.conv.forward(), st)
            return Step(
                f"forward_{out}",
                StepKind.DEFINE,
                (*title, ", entry by entry"),
                (
                    Equation(Sym(out), form, Explicit(self.forward[out])),
                    Equation(Sym(out), Explicit(self.mats[out])),
                    *self._index_forward(st),
                ),
                note=prose(
                    "The forward pass keeps {out} (entries {z}) and its input {input}; "
                    "the backward pass below writes everything in these cached values.",
                    out=mat(out),
                    z=ent("z", k),
                    input=mat(st.input),
                ),
                wrt=out,
            )
        a, z, r = (_e(x, k, "ij") for x in "azr")
        at, zt, rt = (_t(x, k, "ij") for x in "azr")
        da_dz = math(f"∂{a}/∂{z}", rf"\partial {at}/\partial {zt}")
        note: Prose
        cached: tuple[Equation, ...] = ()
        if kind == "relu":
            written = (
                f"{a} = max(0, {z}) = {r}·{z}",
                rf"{at} = \max(0, {zt}) = {rt} \, {zt}",
            )
            cached = (Equation(Sym(f"R{k}"), Explicit(self.mats[f"R{k}"])),)
            note = prose(
                "The forward pass caches the mask {r} (1 where {positive}, else 0); the "
                "derivative of {max} is that mask: {da_dz}{slope}.",
                r=ent("r", k),
                positive=math(f"{z} > 0", f"{zt} > 0"),
                max=math("max(0, z)", r"\max(0, z)"),
                da_dz=da_dz,
                slope=math(f" = {r}", f" = {rt}"),
            )
        else:
            # The forward formula, the derivative's identity and the slope it gives.
            written, identity, slope = {
                "tanh": (
                    (f"{a} = tanh({z})", rf"{at} = \tanh {zt}"),
                    ("tanh′ = 1 − tanh²", r"\tanh' = 1 - \tanh^{2}"),
                    (f" = 1 − {a}²", f" = 1 - {{{at}}}^{{2}}"),
                ),
                "sigmoid": (
                    (
                        f"{a} = σ({z}) = 1/(1 + exp(−{z}))",
                        rf"{at} = \sigma({zt}) = \frac{{1}}{{1 + \exp(-{zt})}}",
                    ),
                    ("σ′ = σ(1 − σ)", r"\sigma' = \sigma(1 - \sigma)"),
                    (f" = {a}(1 − {a})", f" = {at}(1 - {at})"),
                ),
            }[kind]
            note = prose(
                "The forward pass caches the output {a}; since {identity}, "
                "{da_dz}{slope}, a polynomial in what is cached.",
                a=ent("a", k),
                identity=math(*identity),
                da_dz=da_dz,
                slope=math(*slope),
            )
        return Step(
            f"forward_{out}",
            StepKind.DEFINE,
            title,
            (
                Equation(Written(*written)),
                *cached,
                Equation(Sym(out), Explicit(self.mats[out])),
            ),
            note=note,
            wrt=out,
        )

    # -- the loss --------------------------------------------------------------------------
    def loss_steps(self) -> tuple[PolyMatrix, Node]:
        """The upstream derivative of the network's output: its value and formula."""
        c, top, n = self.config, self.top, self.n
        if c.loss == "softmax-ce":
            return self.softmax_ce_steps()
        form = loss_form(c)
        letter, layer = _split(top)
        y, yt = _e(letter, layer, "ij"), _t(letter, layer, "ij")
        note: Prose
        written: tuple[Equation, ...] = ()
        if c.loss == "generic":
            value = self.mats["dY"]
            note = prose(
                "The layers above hand the network the upstream derivatives {dy} (the "
                "entries of {dY}); they stay symbols.",
                dy=math(f"∂L/∂{y}", rf"\partial L/\partial {yt}"),
                dY=mat("dY"),
            )
        elif c.loss == "sum":
            value = PolyMatrix.ones(*self.act_shape(self.stages[-1].out_width))
            sum_y = math(f"L = Σᵢⱼ {y}", rf"L = \sum_{{ij}} {yt}")
            written = (Equation(Written(sum_y.text, sum_y.latex)),)
            note = prose("For {sum_y} every upstream derivative is 1.", sum_y=sum_y)
        else:  # mse
            value = (self.mats[top] - self.mats["T"]).scale(Fraction(1, n))
            written = (
                Equation(
                    Written(
                        f"L = 1/(2N) Σᵢ ‖{_e(letter, layer, 'i')} − tᵢ‖²",
                        rf"L = \frac{{1}}{{2N}} \sum_{{i}} \lVert "
                        rf"{_t(letter, layer, 'i')} - t_{{i}} \rVert^{{2}}",
                    )
                ),
            )
            note = prose(
                "{dy}: the $1/N$ of the batch average is here, once, and every layer "
                "below inherits it through the chain rule.",
                dy=math(
                    f"∂L/∂{y} = ({y} − tᵢⱼ)/N",
                    rf"\partial L/\partial {yt} = ({yt} - t_{{ij}})/N",
                ),
            )
        self.steps.append(
            Step(
                "loss",
                StepKind.DEFINE,
                "The loss and the upstream derivative of the output",
                (
                    *written,
                    Equation(Sym("d" + top), Deriv("L", top), form, Explicit(value)),
                ),
                note=note,
                wrt=top,
            )
        )
        return value, form

    def softmax_ce_steps(self) -> tuple[PolyMatrix, Node]:
        """Softmax + cross-entropy: both routes to ∂L/∂Z = (P − T)/N, each checked."""
        n, order = self.n, self.order
        k = self.stages[-1].index
        width = self.stages[-1].out_width
        P, T_ = self.mats["P"], self.mats["T"]
        scale = Fraction(1, n)
        shape = self.act_shape(width)
        pos = vec_positions(shape, order)
        word = self.sample_word
        # The order in which each sample's entries are contiguous in vec(P), and which
        # index of a position is its sample.
        contiguous, sample = ("col", 1) if self.columns else ("row", 0)

        # J_L(p): ∂L/∂p_ij = −t_ij/(N p_ij), a row in vec order (ip_i_j stands for 1/p_i_j).
        ip = atoms("ip", *shape)
        row = maths.column(hadamard(T_, ip).scale(-scale).vec(order)).T
        self.steps.append(
            Step(
                "loss",
                StepKind.DEFINE,
                "The loss: softmax cross-entropy, averaged over the batch",
                (
                    Equation(
                        Written(
                            f"L = −(1/N) Σ{self.sub('i')} Σ{self.sub('c')} "
                            f"{self.u('t', 'ic')} log {self.u('p', 'ic')},   "
                            f"Σ{self.sub('c')} {self.u('t', 'ic')} = 1",
                            rf"L = -\frac{{1}}{{N}} \sum_{{{self.sample_letter}}} "
                            rf"\sum_{{{self.class_letter}}} {self.x('t', 'ic')} \log "
                            rf"{self.x('p', 'ic')}, \qquad \sum_{{{self.class_letter}}} "
                            rf"{self.x('t', 'ic')} = 1",
                        )
                    ),
                    Equation(Sym("T"), Explicit(T_)),
                    Equation(Jac("L", "p"), Explicit(row)),
                ),
                note=prose(
                    "Each target {word} is one-hot ({one}). {dp} is not a polynomial, "
                    "but its {inverse} cancels against the {p} of the softmax Jacobian "
                    "below (written {power}).",
                    word=word,
                    one=self.sums_to_one("t"),
                    dp=math(
                        "∂L/∂pᵢⱼ = −tᵢⱼ/(N pᵢⱼ)",
                        r"\partial L/\partial p_{ij} = -t_{ij}/(N p_{ij})",
                    ),
                    inverse=math("1/pᵢⱼ", "1/p_{ij}"),
                    p=math("pᵢⱼ", "p_{ij}"),
                    power=math("pᵢⱼ⁻¹", "p_{ij}^{-1}"),
                ),
                wrt="P",
            )
        )
        # J_p(z), explicit: ∂p_ij/∂z_kl = δ_ik p_ij (δ_jl − p_il).
        size = len(pos)
        jac = PolyMatrix(size, size, {})
        for r, here in enumerate(pos):
            for c, there in enumerate(pos):
                if there[sample] == here[sample]:
                    value = P[here] * ((ONE if here == there else Poly()) - P[there])
                    if not value.is_zero():
                        jac.entries[r, c] = value
        # Structured form, each sample's entries contiguous: block diagonal with blocks
        # diag(p_i) − p_i p_iᵀ, i.e. diag(vec P) − (I_N ⊗ 1 1ᵀ) ⊙ (vec P)(vec P)ᵀ.
        vec_p = maths.column(P.vec(contiguous))
        same_sample = PolyMatrix.eye(n).kron(PolyMatrix.ones(width, width))
        structured = diag_of(P.vec(contiguous)) - hadamard(vec_p @ vec_p.T, same_sample)
        if order != contiguous:
            # K·vec(P) = vec(Pᵀ) in the contiguous order: the vec of P in the other one
            perm = PolyMatrix.commutation(*shape, contiguous)
            structured = perm @ structured @ perm.T
        self._check("P", Claim.SOFTMAX, jac, structured)
        block_rows = (width, width) if order == contiguous else None
        self.steps.append(
            Step(
                "dP_dZ",
                StepKind.JACOBIAN,
                ("Jacobian of the softmax: ", *_jacobian_title("P", f"Z{k}")[1:]),
                (
                    Equation(
                        Written(
                            f"∂pᵢⱼ/∂{_e('z', k, 'kl')} = "
                            f"δ{self.sub('iK')} {self.u('p', 'ic')} "
                            f"(δ{self.sub('cL')} − {self.u('p', 'iL')})",
                            rf"\partial p_{{ij}}/\partial {_t('z', k, 'kl')} = "
                            rf"\delta_{{{self.raw('iK')}}} \, {self.x('p', 'ic')} "
                            rf"(\delta_{{{self.raw('cL')}}} - {self.x('p', 'iL')})",
                        )
                    ),
                    Equation(Deriv("P", f"Z{k}", vec=True), Explicit(jac, block_rows)),
                ),
                note=prose(
                    "{Word} {i} of {P} depends on {word} {i} of {Z} only, so the "
                    "Jacobian is block diagonal{permuted}: $N$ blocks {block} of "
                    "{width} × {width}, each diagonal minus a rank-one correction; "
                    "{nnz} nonzero entries of {size}.",
                    Word=word.capitalize(),
                    i=math(self.sample_letter),
                    P=mat("P"),
                    word=word,
                    Z=mat(f"Z{k}"),
                    permuted=""
                    if order == contiguous
                    else f" (in {contiguous} order; {order} order permutes it)",
                    block=math(
                        "diag(pᵢ) − pᵢ pᵢᵀ",
                        r"\operatorname{diag}(p_{i}) - p_{i} p_{i}^{T}",
                    ),
                    width=str(width),
                    nnz=str(jac.nnz()),
                    size=str(size * size),
                ),
                uses=("forward_P",),
                wrt="P",
            )
        )
        # Route 1: the chain rule J_L(z) = J_L(p)·J_p(z), with p·p⁻¹ = 1.
        chain = PolyMatrix(1, size, {})
        for key, v in (row @ jac).entries.items():
            if not (cancelled := cancel_reciprocals(v)).is_zero():
                chain.entries[key] = cancelled
        unfused = maths.unvec(chain, shape, order)
        # Route 2 (fused, log-softmax): ∂L/∂z_ij = −(1/N)(t_ij − p_ij Σ_l t_il).
        ones = PolyMatrix.ones(width, width)
        # every entry of a sample: that sample's Σ_l t_il
        sums = ones @ T_ if self.columns else T_ @ ones
        fused = (T_ - hadamard(P, sums)).scale(-scale)
        self._check("P", Claim.ROUTES, unfused, fused)
        # Σ_j t_ij = 1: write the last target of each sample as 1 − the others.
        by_sample = T_.transpose() if self.columns else T_  # a row per sample
        onehot = {
            next(iter(by_sample[i, width - 1].atoms())): ONE
            - sum((by_sample[i, l_] for l_ in range(width - 1)), Poly())
            for i in range(n)
        }
        target = (P - T_).scale(scale)
        left, right = unfused.subs(onehot), target.subs(onehot)
        self._check("P", Claim.ONE_HOT, left, right)
        self.steps.append(
            Step(
                f"dL_dZ{k}_chain",
                StepKind.CHAIN,
                "Route 1: the chain rule through the softmax Jacobian",
                (
                    Equation(Jac("L", f"z{k}"), Prod(Jac("L", "p"), Jac("p", f"z{k}"))),
                    Equation(Jac("L", f"z{k}"), Explicit(chain)),
                    Equation(Deriv("L", f"Z{k}"), Explicit(unfused)),
                ),
                note=prose(
                    "Entry $(i, j)$: {entry}: the $1/p$ cancels, and the rank-one "
                    "correction brings in the {word} sum of {T}.",
                    word=word,
                    T=mat("T"),
                    entry=math(
                        f"Σₗ (−{self.u('t', 'il')}/(N {self.u('p', 'il')})) "
                        f"{self.u('p', 'il')} (δ{self.sub('lc')} − {self.u('p', 'ic')}) = "
                        f"−(1/N)({self.u('t', 'ic')} − {self.u('p', 'ic')} Σₗ "
                        f"{self.u('t', 'il')})",
                        rf"\sum_{{l}} \bigl(-\tfrac{{{self.x('t', 'il')}}}"
                        rf"{{N {self.x('p', 'il')}}}\bigr) {self.x('p', 'il')} "
                        rf"(\delta_{{{self.raw('lc')}}} - {self.x('p', 'ic')}) = "
                        rf"-\tfrac{{1}}{{N}}\bigl({self.x('t', 'ic')} - {self.x('p', 'ic')} "
                        rf"\sum_{{l}} {self.x('t', 'il')}\bigr)",
                    ),
                ),
                uses=("loss", "dP_dZ"),
                wrt="P",
            )
        )
        self.steps.append(
            Step(
                f"dL_dZ{k}_fused",
                StepKind.SIMPLIFY,
                "Route 2: fused with the cross-entropy (log-softmax)",
                (
                    Equation(
                        Written(
                            f"L = −(1/N) Σ{self.sub('i')} (Σ{self.sub('c')} "
                            f"{self.u('t', 'ic')} {self.u('z', 'ic', k)} − "
                            f"(Σ{self.sub('c')} {self.u('t', 'ic')}) "
                            f"log Σₗ exp({self.u('z', 'il', k)}))",
                            rf"L = -\frac{{1}}{{N}} \sum_{{{self.sample_letter}}} "
                            rf"\Bigl(\sum_{{{self.class_letter}}} {self.x('t', 'ic')} "
                            rf"{self.x('z', 'ic', k)} - \Bigl(\sum_{{{self.class_letter}}} "
                            rf"{self.x('t', 'ic')}\Bigr) "
                            rf"\log \sum_{{l}} \exp {self.x('z', 'il', k)}\Bigr)",
                        )
                    ),
                    Equation(
                        Written(
                            f"∂L/∂{_e('z', k, 'ij')} = −(1/N)(tᵢⱼ − pᵢⱼ Σₗ "
                            f"{self.u('t', 'il')}) = (pᵢⱼ − tᵢⱼ)/N   since Σₗ "
                            f"{self.u('t', 'il')} = 1",
                            rf"\frac{{\partial L}}{{\partial {_t('z', k, 'ij')}}} = "
                            rf"-\frac{{1}}{{N}}\Bigl(t_{{ij}} - p_{{ij}} \sum_{{l}} "
                            rf"{self.x('t', 'il')}\Bigr) = "
                            r"\frac{p_{ij} - t_{ij}}{N} \quad \text{since } "
                            rf"\sum_{{l}} {self.x('t', 'il')} = 1",
                        )
                    ),
                    Equation(
                        Sym(f"dZ{k}"),
                        Deriv("L", f"Z{k}"),
                        loss_form(self.config),
                        Explicit(target),
                    ),
                ),
                note=prose(
                    "Both routes agree entry by entry (see the certificate); with one-hot "
                    "targets the result is {result}. The $1/N$ is the batch average of "
                    "the loss, and every layer below inherits it.",
                    result=math("(P − T)/N", "(P - T)/N"),
                ),
                uses=(f"dL_dZ{k}_chain",),
                wrt="P",
            )
        )
        return target, loss_form(self.config)

    # -- layers, top down ------------------------------------------------------------------
    def _upstream_symbols(self, role: str) -> PolyMatrix:
        m = self.mats[role]
        return atoms(entry_prefix("d" + role), m.rows, m.cols)

    def _check(
        self,
        wrt: str,
        claim: str,
        left: PolyMatrix,
        right: PolyMatrix,
        detail: str | Prose = "",
    ) -> bool:
        """Certify left = right entry by entry (``detail``: what a pass says)."""
        diff = left.first_difference(right)
        text: str | Prose = detail or "equal entry by entry"
        if diff is not None:
            text = (
                f"entry ({diff[0] + 1}, {diff[1] + 1}): {left[diff].to_str()} but "
                f"{right[diff].to_str()}"
            )
        self.checks.append(Check(wrt, claim, diff is None, text))
        return diff is None

    def affine_backward(self, st: Stage, need_input: bool) -> None:
        """Affine layer ℓ: Jacobians of vec(Zℓ) by Wℓ, bℓ (and its input), chain, close."""
        k, out = st.index, st.output
        env = self.env(st)
        up_symbols = self._upstream_symbols(out)
        todo = [(r, f"{r}{k}") for r in "Wb" if f"{r}{k}" in self.wanted]
        if need_input:
            todo.insert(0, ("X", st.input))
        order = self.order
        z = self.forward[out]
        for role, var in todo:
            jac = affine_jacobian(z.vec(order), maths.atom_names(env[role], order))
            kron_node = layer_form(self.conv.kronecker(role, order), st)
            kron = self.value(kron_node)
            kron_ok = self._check(
                var,
                Claim.KRONECKER,
                jac,
                kron,
                _equal(Deriv(out, var, vec=True), kron_node),
            )
            blocks = (
                None  # samples as columns: no block rules drawn
                if self.columns
                else maths.blocks(
                    self.conv, role, order, self.n, st.in_width, st.out_width
                )
            )
            self.steps.append(
                Step(
                    f"d{out}_d{var}",
                    StepKind.JACOBIAN,
                    _jacobian_title(out, var),
                    (
                        Equation(Deriv(out, var, vec=True), Explicit(jac, blocks)),
                        Equation(Deriv(out, var, vec=True), kron_node),
                    ),
                    note=prose(
                        "Layer {k} is affine, so this is the single layer's Jacobian with "
                        "{input} as its input: {nnz} nonzero entries of {total}.",
                        k=str(k),
                        input=mat(st.input),
                        nnz=str(jac.nnz()),
                        total=str(jac.rows * jac.cols),
                    ),
                    uses=(f"forward_{out}",),
                    wrt=var,
                )
            )
            closed_node = layer_form(self.conv.closed_form(role), st, dY=f"d{out}")
            closed = self.value(closed_node, **{f"d{out}": up_symbols})
            reshape_note = prose(
                "Putting each {dv} back where $v$ sits in {var} (undoing vec) gives a "
                "matrix of the shape of {var}.",
                dv=math("∂L/∂v", r"\partial L/\partial v"),
                var=mat(var),
            )
            closed_note = "The matrix above is exactly this product, entry by entry."
            chain, local, ok = self._chain_and_close(
                st,
                var,
                jac,
                blocks,
                closed_node,
                closed,
                (reshape_note, (), closed_note),
            )
            composed, form = self._compose(var, out, local, closed_node)
            if var in self.wanted:
                # The network form, evaluated from its formula, against the composition.
                direct = self.value(form, **{f"d{self.top}": self.upstreams[self.top]})
                net_ok = self._check(
                    var,
                    Claim.NETWORK,
                    composed,
                    direct,
                    "equal to the composed chain rule, entry by entry",
                )
                derivative, closed_form = local, closed_node
                if self.config.layout == "numerator":
                    derivative, closed = local.transpose(), closed.transpose()
                    closed_form = transpose(closed_node)
                    composed = composed.transpose()
                self.results[var] = Result(
                    var=var,
                    jacobian=jac,
                    kronecker=kron_node,
                    chain=chain,
                    derivative=derivative,
                    closed_form=closed_form,
                    closed=closed,
                    kronecker_verified=kron_ok and ok,
                    verified=kron_ok and ok and net_ok,
                    extra={
                        # times self.scale (1/N or 1), applied when asked for
                        "composed_raw": composed,
                        "scale": self.scale,
                        "network_form": form,
                    },
                )
            if self.config.method != "jacobian":
                self._index_view(st, var, role, local, up_symbols, env)

    def activation_backward(self, st: Stage) -> None:
        """Elementwise layer: the diagonal Jacobian diag(vec f'), chain, Hadamard form."""
        k, kind, out = st.index, st.kind, st.output
        zrole = f"Z{k}"
        up_symbols = self._upstream_symbols(out)
        slope = slope_matrix(kind, k, up_symbols.shape)
        order = self.order
        # Explicit: ∂a_ij/∂z_kl = δ_ik δ_jl f'(z_ij), nonzero where the positions agree.
        jac = diag_of(slope.vec(order))
        diag_node = Diag(Slope(kind, k))
        structured = self.value(diag_node)
        self._check(
            zrole,
            Claim.DIAGONAL,
            jac,
            structured,
            _equal(Deriv(out, zrole, vec=True), diag_node),
        )
        slope_text, slope_tex = _slope(kind, k)
        self.steps.append(
            Step(
                f"d{out}_d{zrole}",
                StepKind.JACOBIAN,
                (*_jacobian_title(out, zrole), ": diagonal"),
                (
                    Equation(
                        Written(
                            f"∂{_e('a', k, 'ij')}/∂{_e('z', k, 'kl')} = δᵢₖ δⱼₗ "
                            f"{slope_text}",
                            rf"\frac{{\partial {_t('a', k, 'ij')}}}"
                            rf"{{\partial {_t('z', k, 'kl')}}} = \delta_{{ik}} "
                            rf"\delta_{{jl}} \, {slope_tex}",
                        )
                    ),
                    Equation(Deriv(out, zrole, vec=True), Explicit(jac)),
                    Equation(Deriv(out, zrole, vec=True), diag_node),
                ),
                note=prose(
                    "{kind} acts entry by entry, so {a} depends on {z} only: the Jacobian "
                    "is diagonal, {nnz} nonzero entries of {total}. A row times a "
                    "diagonal matrix scales each entry: a Hadamard product, not a matrix "
                    "product.",
                    kind=kind,
                    a=ent("a", k),
                    z=ent("z", k),
                    nnz=str(jac.nnz()),
                    total=str(jac.rows**2),
                ),
                uses=(f"forward_{out}",),
                wrt=zrole,
            )
        )
        closed_node = Had(Sym(f"d{out}"), Slope(kind, k))
        closed = self.value(closed_node, **{f"d{out}": up_symbols})
        reshape_note = prose(
            "Undoing vec puts {dz} back where {z} sits.",
            dz=math(
                f"∂L/∂{_e('z', k, 'ij')}",
                rf"\partial L/\partial {_t('z', k, 'ij')}",
            ),
            z=ent("z", k),
        )
        closed_note = prose(
            "{had} multiplies entry by entry: {dz} has the shape of {out}, and no "
            "transpose appears (the Jacobian is diagonal).",
            had=math("⊙", r"\odot"),
            dz=mat(f"d{zrole}"),
            out=mat(out),
        )
        _, local, _ = self._chain_and_close(
            st,
            zrole,
            jac,
            None,
            closed_node,
            closed,
            (reshape_note, (": a Hadamard product",), closed_note),
        )
        if self.config.method != "jacobian":
            self._index_view(st, zrole, "Z", local, up_symbols, {zrole: slope})
        self._compose(zrole, out, local, closed_node)

    # -- the index view (--method index or all) ----------------------------------------------
    def _index_forward(self, st: Stage) -> tuple[Equation, ...]:
        """zᵢⱼ = Σₘ inᵢₘ wₘⱼ + bⱼ (wⱼₘ when W is stored transposed), for the index view."""
        if self.config.method == "jacobian":
            return ()
        k = st.index
        z, x = _split(st.output), _split(st.input)
        w = ("w", k)
        if self.columns:  # wx: z_ij = Σ_m w_im in_mj + b_i
            product, bias = [(w, "im"), (x, "mj")], "i"
        else:
            product = [(x, "im"), (w, "jm" if self.conv.weight_transposed else "mj")]
            bias = "j"
        text, tex = _shown(product)
        return (
            Equation(
                Written(
                    f"{_e(*z, 'ij')} = Σₘ {text} + {_e('b', k, bias)}",
                    rf"{_t(*z, 'ij')} = \sum_{{m}} {tex} + {_t('b', k, bias)}",
                )
            ),
        )

    def _index_view(
        self,
        st: Stage,
        var: str,
        role: str,
        local: PolyMatrix,
        up: PolyMatrix,
        env: Mapping[str, PolyMatrix],
    ) -> None:
        """The derivative by ``var`` in index notation, its Kronecker deltas collapsed.

        ``role``: X (the layer's input), W, b, or Z (the input of an elementwise layer).
        Each formula is a product of factors (name, index letters); the collapsed sum is
        evaluated from the same factors (each name read from its matrix), entry by entry
        at these sizes, and checked against the chain rule's matrix ``local``; the steps
        go where the Jacobian route's are (``--method index``) or before its closed form
        (``--method all``).
        """
        out, k = st.output, st.index
        o = _split(out)
        i_ = _split(st.input)
        w, do = ("w", k), ("d" + o[0], o[1])
        wrt_name = ("b", k) if role == "b" else _split(var)
        # ∂out_ij/∂var_kl (its deltas) and the collapsed sum over ``letter``, by the
        # layer's formula: wx z_ij = Σ_m w_im in_mj + b_i, else z_ij = Σ_m in_im w_mj + b_j
        # (w_jm when W is stored transposed); a_ij = f(z_ij) for an elementwise layer.
        wx = self.columns
        formulas: dict[str, Formula] = {
            "Z": (
                None,
                [("δ", "ik"), ("δ", "jl"), ("f", "ij")],
                [(do, "kl"), ("f", "kl")],
            ),
            "b": (
                "j" if wx else "i",
                [("δ", "il" if wx else "jl")],
                [(do, "lj" if wx else "il")],
            ),
        }
        if wx:
            formulas["W"] = ("j", [("δ", "ik"), (i_, "lj")], [(do, "kj"), (i_, "lj")])
            formulas["X"] = ("i", [(w, "ik"), ("δ", "jl")], [(w, "ik"), (do, "il")])
        elif self.conv.weight_transposed:
            formulas["W"] = ("i", [("δ", "jk"), (i_, "il")], [(do, "ik"), (i_, "il")])
            formulas["X"] = ("j", [("δ", "ik"), (w, "jl")], [(do, "kj"), (w, "jl")])
        else:
            formulas["W"] = ("i", [(i_, "ik"), ("δ", "jl")], [(i_, "ik"), (do, "il")])
            formulas["X"] = ("j", [("δ", "ik"), (w, "lj")], [(do, "kj"), (w, "lj")])
        letter, part, factors = formulas[role]
        roles: dict[Name, str] = {i_: "X", w: "W", "f": var}
        matrices = {do: up, **{n: env[r] for n, r in roles.items() if r in env}}

        def value(r: int, c: int) -> Poly:
            at = {"l": max(r, c)} if role == "b" else {"k": r, "l": c}
            first, idx = factors[0]
            size = 1 if letter is None else matrices[first].shape[idx.index(letter)]
            total = Poly()
            for a in range(size):
                if letter is not None:
                    at[letter] = a
                term = ONE
                for name, idx in factors:
                    term = term * matrices[name][at[idx[0]], at[idx[1]]]
                total = total + term
            return total

        grid = vec_positions(local.shape, "row")
        collapsed = PolyMatrix.unvec([value(*rc) for rc in grid], local.shape, "row")
        self._check(
            var,
            Claim.INDEX,
            local,
            collapsed,
            "the collapsed sum = the chain rule's matrix, entry by entry",
        )
        p_text, p_tex = _shown(part, st.kind, k)
        done = _shown(factors, st.kind, k)
        if letter is not None:
            done = (
                f"{_e('Σ', None, letter)} {done[0]}",
                rf"\sum_{{{letter}}} {done[1]}",
            )
        wrt_idx = "l" if role == "b" else "kl"
        wrt = (_e(*wrt_name, wrt_idx), _t(*wrt_name, wrt_idx))
        z_ij = (_e(*o, "ij"), _t(*o, "ij"))
        partial = Step(
            f"index_d{out}_d{var}",
            StepKind.JACOBIAN,
            ("Index notation: ", slash(out, var), " entry by entry"),
            (
                Equation(
                    Written(
                        f"∂{z_ij[0]}/∂{wrt[0]} = {p_text}",
                        rf"\frac{{\partial {z_ij[1]}}}{{\partial {wrt[1]}}} = {p_tex}",
                    )
                ),
            ),
            note=prose(
                "The Kronecker delta {delta} is 1 where its two indices agree and 0 "
                "elsewhere: it says which entries of the output depend on which entry "
                "of {var}.",
                delta=math("δ", r"\delta"),
                var=mat(var),
            ),
            uses=(f"forward_{out}",),
            wrt=var,
            view="index",
        )
        chain = Step(
            f"index_dL_d{var}",
            StepKind.CHAIN,
            ("Index notation: the chain rule for ", mat(var)),
            (
                Equation(
                    Written(
                        f"∂L/∂{wrt[0]} = Σᵢ Σⱼ {_e(*do, 'ij')} {p_text} = {done[0]}",
                        rf"\frac{{\partial L}}{{\partial {wrt[1]}}} = \sum_{{i}} "
                        rf"\sum_{{j}} {_t(*do, 'ij')} \, {p_tex} = {done[1]}",
                    )
                ),
            ),
            note=prose(
                "The chain rule sums over every entry $(i, j)$ of the output; each delta "
                "keeps only the terms where its indices agree, so its sum collapses. "
                "What is left is entry {kl} of the closed form below (checked entry by "
                "entry in the certificate).",
                kl=math("(k, l)") if role != "b" else math("l"),
            ),
            uses=(f"upstream_{out}", f"index_d{out}_d{var}"),
            wrt=var,
            view="index",
        )
        # the Jacobian route's last steps: d{out}_d{var}, dL_d{var}, reshape_, closed_
        *route, closed = self.steps[-4:]
        if self.config.method == "index":  # the index route replaces the Jacobian's
            route = []
            closed = replace(
                closed,
                uses=(f"index_dL_d{var}",),
                note="Entry by entry, this product is the collapsed sum above.",
            )
        self.steps[-4:] = [*route, partial, chain, closed]

    # -- shared pieces -------------------------------------------------------------------------
    def _upstream_step(self, st: Stage) -> Step:
        out = st.output
        up = self._upstream_symbols(out)
        letter, layer = _split(out)
        # Its formula: the loss's at the top, else this layer's closed form and, when
        # they differ, the same through the layers above.
        forms = [self.top_form] if out == self.top else [self.local_forms[out]]
        if out != self.top and self.upstream_forms[out] != forms[0]:
            forms.append(self.upstream_forms[out])
        eqs = (
            Equation(Sym(f"d{out}"), Deriv("L", out), Explicit(up)),
            Equation(Sym(f"d{out}"), *forms),
        )
        return Step(
            f"upstream_{out}",
            StepKind.DEFINE,
            ("The upstream derivative ", mat(f"d{out}")),
            eqs,
            note=prose(
                "{up} stands for {dl}, what the layers above hand this one; the "
                "derivation of this layer keeps it as a symbol, and its value (written "
                "above) is substituted at the end.",
                up=ent("d" + letter, layer),
                dl=math(
                    f"∂L/∂{_e(letter, layer, 'ij')}",
                    rf"\partial L/\partial {_t(letter, layer, 'ij')}",
                ),
            ),
            wrt=out,
        )

    def _chain_and_close(
        self,
        st: Stage,
        var: str,
        jac: PolyMatrix,
        blocks: tuple[int, int] | None,
        closed_node: Node,
        closed: PolyMatrix,
        notes: tuple[Prose, Prose, str | Prose],
    ) -> tuple[PolyMatrix, PolyMatrix, bool]:
        """The chain rule for ``var``, its reshape into ``var``'s shape and the closed form
        (checked against it); ``notes``: the reshape's note, the closed form's title
        ending and its note. Returns the chain row, the reshaped matrix and the check."""
        out, order = st.output, self.order
        row, chain = maths.chain_rule(self._upstream_symbols(out), jac, order)
        o, v = entry_prefix(out), entry_prefix(var)
        of, by = _split(out), _split(var)  # entry letters and layer of out and var
        self.steps.append(
            Step(
                f"dL_d{var}",
                StepKind.CHAIN,
                ("Chain rule for ", mat(var)),
                (
                    Equation(Jac("L", v), Prod(Jac("L", o), Jac(o, v))),
                    Equation(
                        Jac("L", v),
                        Prod(Explicit(row), Explicit(jac, blocks)),
                    ),
                    Equation(Jac("L", v), Explicit(chain)),
                ),
                note=prose(
                    "The 1 × {rows} row of upstream derivatives times the {rows} × {cols} "
                    "Jacobian; entry $k$ is {entry}.",
                    rows=str(jac.rows),
                    cols=str(jac.cols),
                    entry=math(
                        f"Σᵣ ∂L/∂{_e(*of, 'r')} · ∂{_e(*of, 'r')}/∂{_e(*by, 'k')}",
                        rf"\sum_{{r}} \partial L/\partial {_t(*of, 'r')} \cdot "
                        rf"\partial {_t(*of, 'r')}/\partial {_t(*by, 'k')}",
                    ),
                ),
                uses=(f"upstream_{out}", f"d{out}_d{var}"),
                wrt=var,
            )
        )
        local = maths.unvec(chain, self.mats[var].shape, order)
        ok = self._check(
            var, Claim.CLOSED_FORM, local, closed, _equal(Sym(f"d{var}"), closed_node)
        )
        reshape_note, closed_title, closed_note = notes
        self.steps.append(
            Step(
                f"reshape_{var}",
                StepKind.SIMPLIFY,
                ("Reshape into a matrix: ", slash("L", var)),
                (Equation(Deriv("L", var), Explicit(local)),),
                note=reshape_note,
                uses=(f"dL_d{var}",),
                wrt=var,
            )
        )
        self.steps.append(
            Step(
                f"closed_{var}",
                StepKind.RESULT,
                ("Closed form of ", slash("L", var), *closed_title),
                (Equation(Sym(f"d{var}"), closed_node, Explicit(closed)),),
                note=closed_note,
                uses=(f"reshape_{var}",),
                wrt=var,
            )
        )
        return chain, local, ok

    def _compose(
        self, var: str, out: str, local: PolyMatrix, closed_node: Node
    ) -> tuple[PolyMatrix, Node]:
        """Substitute the upstream's value: ∂L/∂var of the whole network, and its formula
        through the network (:func:`network_forms`)."""
        names = maths.atom_names(self._upstream_symbols(out), "row")
        values = zip(names, self.upstreams[out].vec("row"), strict=True)
        composed = local.subs(dict(values))
        self.local_forms[var] = closed_node
        if var != "X" and var[0] in "ZA":  # a hidden output: the next layer's upstream
            self.upstreams[var] = composed
        return composed, self.upstream_forms[var]

    # -- summary -------------------------------------------------------------------------------
    def summary_step(self) -> None:
        c, top = self.config, self.top
        eqs = [Equation(Sym(f"d{top}"), self.top_form)]
        # Each layer's closed form as derived, top down (dWℓ, dbℓ, its input; dZℓ).
        for st in reversed(self.stages):
            k = st.index
            done = (f"W{k}", f"b{k}", st.input) if st.kind == "affine" else (f"Z{k}",)
            for var in done:
                if var in self.local_forms:
                    eqs.append(Equation(Sym(f"d{var}"), self.local_forms[var]))
        forms = {v: self.results[v].extra["network_form"] for v in c.wrt}
        # the derivatives through more than the closed form of their own layer
        whole = [Equation(Sym(f"d{v}"), f) for v, f in forms.items() if _depth(f) > 2]
        uses = tuple(f"closed_{v}" for v in c.wrt)
        dtop = F(Sym(f"d{top}"))
        rest = [F(Sym(f"d{v}")) for v, f in forms.items() if _depth(f) <= 2]
        direct: Prose = ()
        if rest:
            one = len(rest) == 1
            direct = prose(
                "; {rest} {verb} {top} directly ({their} above)",
                rest=joined(rest, ", ", " and "),
                verb="uses" if one else "use",
                top=dtop,
                their="its closed form" if one else "their closed forms",
            )
        if whole:
            self.steps.append(
                Step(
                    "network",
                    StepKind.RESULT,
                    ("The lower layers through the whole network, in ", dtop),
                    tuple(whole),
                    note=prose(
                        "Each closed form with every upstream derivative between it and "
                        "{top} substituted: what is left is {top} (its value above) and "
                        "what the forward pass cached{direct}. The certificate proves "
                        "each one against the composed chain rule, entry by entry.",
                        top=dtop,
                        direct=direct,
                    ),
                    uses=uses,
                )
            )
        self.steps.append(
            Step(
                "summary",
                StepKind.RESULT,
                "Backpropagation through the network",
                tuple(eqs),
                note=(
                    *net_summary_uses(self.config.loss, mat("dY"), mat("T")),
                    " No framework builds the Jacobians above: ",
                    *_framework_sizes(self.config.loss),
                ),
                uses=uses,
            )
        )


# -- helpers ---------------------------------------------------------------------------------
def _silent(task: str, done: int, total: int) -> None:
    """The progress callback when none is given."""


def _slope(kind: str, k: int, index: str = "ij") -> tuple[str, str]:
    """f′ of an activation at one entry, in what is cached, as (text, LaTeX)."""
    if kind == "relu":
        return _e("r", k, index), _t("r", k, index)
    a, at = _e("a", k, index), _t("a", k, index)
    if kind == "tanh":
        return f"(1 − {a}²)", f"(1 - {{{at}}}^{{2}})"
    return f"{a}(1 − {a})", f"{at}(1 - {at})"


def _shown(
    factors: Sequence[tuple[Name, str]], kind: str = "", k: int = 0
) -> tuple[str, str]:
    """A product of factors (name, index letters) as (text, LaTeX): a Kronecker delta δ,
    the slope f of activation ``kind`` after layer ``k``, or an entry (letters, layer)."""
    texts = []
    for name, idx in factors:
        if name == "δ":
            texts.append((_e("δ", None, idx), _t(r"\delta", None, idx)))
        elif name == "f":
            texts.append(_slope(kind, k, idx))
        else:
            assert isinstance(name, tuple)
            texts.append((_e(*name, idx), _t(*name, idx)))
    return " ".join(a for a, _ in texts), r" \, ".join(b for _, b in texts)


def _split(role: str) -> tuple[str, int | None]:
    """A role's entry letters and layer: Z2 -> ("z", 2); P -> ("p", None); dY -> ("dy",
    None)."""
    low = entry_prefix(role)
    head = low.rstrip("0123456789")
    tail = low[len(head) :]
    return head, int(tail) if tail else None


def _jacobian_title(out: str, var: str) -> Prose:
    return (
        "Jacobian of ",
        F(Vec(Sym(out))),
        " with respect to ",
        F(Vec(Sym(var))),
    )


def _equal(lhs: Node, rhs: Node) -> Prose:
    """The detail of a passed check: "lhs = rhs entry by entry"."""
    return (F(lhs), math(" = "), F(rhs), ", entry by entry")


def _depth(node: Node) -> int:
    """How many products and Hadamard products are nested (to skip trivial repeats)."""
    if isinstance(node, (Prod, Had, Sum)):
        args = node.args if isinstance(node, (Prod, Sum)) else (node.left, node.right)
        return 1 + max(_depth(a) for a in args)
    if isinstance(node, T):
        return _depth(node.arg)
    return 0


def _framework_sizes(loss: str) -> Prose:
    """Why the Jacobians stay on paper: their size at a real network's size (classes
    only for a classifier, softmax-ce; outputs for a regression)."""
    n, d, h, c = 128, 784, 256, 10
    entries = (n * h) * (d * h)
    outputs = "classes" if loss == "softmax-ce" else "outputs"
    return (
        "at ",
        math(f"N = {n}, D = {d}"),
        f", a hidden width of {h} and {c} {outputs}, ",
        slash("Z1", "W1", vec=True),
        f" alone has {entries:,} entries ({entries * 4 / 2**30:,.0f} GiB in float32), "
        "while ",
        math("dW1 = Xᵀ·dZ1", r"dW_{1} = X^{T} \, dZ_{1}"),
        f" is one {d} × {n} by {n} × {h} product.",
    )


__all__ = ["NetDerivation", "Stage", "atoms", "derive_net", "stages"]
