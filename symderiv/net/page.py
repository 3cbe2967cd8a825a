"""A network derivation as the format-neutral page every printer walks.

:func:`net_page` turns a :class:`~symderiv.net.engine.NetDerivation` into the block kinds
of :mod:`symderiv.render.page` (headings, displays, notes with marked maths, explicit
matrices, sparsity pictures, the entry written out, NumPy lines, the certificate,
remarks), so the ordinary printers (terminal, LaTeX, Beamer, Markdown, notebook, HTML)
print a network as they print one layer. What differs from one layer is decided here:
the parts (the forward pass, the loss, one part per layer top down, the summary), the
entry written out for every chain rule, the NumPy lines of the backward pass and the
remarks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from ..algebra import Poly, PolyMatrix
from ..conventions import Config, Letters, get_convention
from ..maths import atom_names
from ..notation import (
    Deriv,
    Equation,
    Explicit,
    Jac,
    Node,
    Prod,
    Sym,
    Written,
)
from ..notation import Shape as NodeShape
from ..notes import Code, F, M, Prose, net_layer, net_summary_uses, prose
from ..render.names import slope_atom
from ..render.page import (
    DEFAULT_MAX_ENTRIES,
    Block,
    CertificateTable,
    Display,
    EntrySum,
    Heading,
    Note,
    PageTitle,
    Remarks,
    Section,
    Shapes,
    Sparsity,
    StepGroup,
    shown_terms,
)
from ..render.page import (
    Code as CodeBlock,
)
from ..steps import Check, Step, StepKind
from .notation import slope_poly
from .notes import ent, mat, math, slash, widths_math

if TYPE_CHECKING:
    from .engine import NetDerivation
    from .spec import NetConfig


class NetPageConfig(Config):
    """The printers' configuration for a network page: the network's convention, order,
    layout and loss, with N, D and the last width as n, d, m.

    A network's matrices print as their roles in every convention (X, W1, Z1, A1, dZ2:
    the column convention's A for X would collide with the activations A1, A2).
    """

    @property
    def letters(self) -> Letters:
        return Letters(upstream=self.upstream)


def page_config(c: NetConfig) -> NetPageConfig:
    """The printers' configuration for network ``c``."""
    return NetPageConfig(
        n=c.n,
        d=c.d,
        m=c.widths()[-1],
        convention=c.convention,
        vec=c.vec,
        layout=c.layout,
        # The single layer's softmax-ce needs samples as rows; a wx network runs it down
        # the columns. The printers read no loss from here (the page's settings say it).
        loss="generic" if c.conv.samples_as_columns else c.loss,
    )


def _changed(c: NetConfig) -> list[tuple[str, str | tuple[str, ...]]]:
    """The settings of ``c`` that differ from the defaults, and the variables if not all."""
    from .spec import SETTINGS, parse_net_wrt

    defaults = {f.name: f.default for f in fields(c)}
    out: list[tuple[str, str | tuple[str, ...]]] = [
        (name, getattr(c, name))
        for name in SETTINGS
        if getattr(c, name) != defaults[name]
    ]
    if c.wrt != parse_net_wrt(None, c.net):
        out.append(("wrt", c.wrt))
    return out


def command_line(c: NetConfig) -> str:
    """The ``symderiv derive --net ...`` command that reproduces the page."""
    parts = [f'symderiv derive --net "{c.net.text}" --n {c.n} --d {c.d}']
    for name, value in _changed(c):
        parts.append(f"--{name} {value if isinstance(value, str) else ','.join(value)}")
    return " ".join(parts)


def setup_code(c: NetConfig) -> str:
    """The notebook's first code cell: the same derivation in Python."""
    args = [f"net={c.net.text!r}", f"n={c.n}", f"d={c.d}"]
    args += [f"{name}={value!r}" for name, value in _changed(c)]
    var = c.wrt[0] if c.wrt else "X"
    return (
        "from symderiv.net import derive_net\n\n"
        f"d = derive_net({', '.join(args)})\n"
        "print(d.verified)  # True: every result was checked exactly\n"
        f"# entry (1, 1) of dL/d{var} in the cached names, as the JSON holds it:\n"
        f"print(d.composed_strings({var!r})[0][0])"
    )


# -- the parts ---------------------------------------------------------------------------------
def _part_of(step: Step) -> str:
    """Which part of the page a step belongs to: forward, loss, a layer output, summary."""
    if step.id == "define" or step.id.startswith("forward_"):
        return "forward"
    if step.id in ("network", "summary"):
        return "summary"
    if step.id == "loss":  # the loss's first step (softmax-ce's others follow it)
        return "loss"
    if step.id.startswith("upstream_"):
        return step.id.removeprefix("upstream_")
    return ""  # the part of the step before it


_PART_TITLES = {
    "forward": "The network and its forward pass",
    "loss": "The loss and the upstream derivative of the output",
    "summary": "Summary: the backward pass",
}


def _part_title(d: NetDerivation, key: str) -> Prose:
    if key in _PART_TITLES:
        return (_PART_TITLES[key],)
    stage = next(st for st in d.stages if st.output == key)
    return (f"{net_layer(*stage.name)}: ", mat(stage.output), ", its derivatives")


def _sections(d: NetDerivation, max_entries: int) -> Iterator[Section]:
    shown = _Factored(d)
    keyed: list[tuple[str, StepGroup]] = []
    key = ""
    for number, step in enumerate(d.steps, start=1):
        key = _part_of(step) or key
        blocks = step_blocks(d, step, max_entries, shown)
        # the step as its display shows it (printers compare the two)
        keyed.append((key, StepGroup(shown.step(step), number, tuple(blocks))))
    for key, run in groupby(keyed, key=itemgetter(0)):
        yield Section(_part_title(d, key), tuple(group for _, group in run))


# -- one step ----------------------------------------------------------------------------------
def step_blocks(
    d: NetDerivation, step: Step, max_entries: int, shown: _Factored
) -> list[Block]:
    """What one step of a network shows: its equations (hand-written formulas displayed
    apart; an activation's slope factored, da⋅(1 − a²), by ``shown``), the sparsity of
    a Jacobian, the entry written out, the note, NumPy lines."""
    summary = step.id == "summary"
    found = (
        _sparsity(step) if step.kind is StepKind.JACOBIAN else None,
        _entry_sum(d, step, max_entries, shown),
        NetShapes(d).ledger(step),
    )
    blocks: list[Block] = [
        Display(shown.step(step).equations, step.kind, boxed=summary)
    ]
    blocks += [b for b in found if b is not None]
    if step.note:
        note = (step.note,) if isinstance(step.note, str) else step.note
        # a slide has no room for more than what each line uses
        short = (
            net_summary_uses(d.config.loss, mat("dY"), mat("T")) if summary else None
        )
        blocks.append(Note(note, short, aside=True))
    if summary and (lines := code_lines(d)):
        intro = ("The same backward pass in NumPy, top down:",)
        blocks.append(CodeBlock(intro, tuple(lines)))
    return blocks


def _sparsity(step: Step) -> Sparsity | None:
    for eq in step.equations:
        lhs = eq.parts[0]
        for p in eq.parts[1:]:
            if isinstance(p, Explicit) and isinstance(lhs, Deriv):
                m: PolyMatrix = p.matrix
                rows, cols = m.shape
                caption = prose(
                    "Sparsity of {jac}, a {shape} matrix: each filled square is a "
                    "nonzero entry, {nnz} of {total}.",
                    jac=slash(lhs.of, lhs.wrt, vec=lhs.vec),
                    shape=M(f"{rows}×{cols}", rf"{rows} \times {cols}"),
                    nnz=str(m.nnz()),
                    total=str(rows * cols),
                )
                return Sparsity(m, p.blocks, lhs, caption)
    return None


def _entry_sum(
    d: NetDerivation, step: Step, max_entries: int, factored: _Factored
) -> EntrySum | None:
    """Entry 1 of a chain rule's row times its Jacobian, written out as a sum (each
    Jacobian entry as ``factored`` writes it: da⋅(1 − a²))."""
    if step.kind is not StepKind.CHAIN or len(step.equations) < 2:
        return None
    product = step.equations[1].parts[-1]
    if not (
        isinstance(product, Prod)
        and len(product.args) == 2
        and all(isinstance(a, Explicit) for a in product.args)
    ):
        return None
    row, jac = (a.matrix for a in product.args)  # type: ignore[attr-defined]
    result = step.equations[-1].parts[-1]
    if not isinstance(result, Explicit) or jac.cols < 1 or row.cols != jac.rows:
        return None
    first = result.matrix[0, 0]
    var = step.wrt or ""
    if not var or var == "P" or first.is_zero():
        return None
    nonzero = [r for r in range(jac.rows) if not jac[r, 0].is_zero()]
    kept, hidden = shown_terms(len(nonzero), max_entries)
    terms = tuple(
        (row[0, nonzero[k]], factored.entry(jac[nonzero[k], 0], factor=True))
        for k in kept
    )
    title: Prose = (
        "Entry 1 written out: the row of upstream derivatives times column 1 of the "
        "Jacobian",
        ":",
    )
    # the canonical name of the first entry of var: w2_1_1, a1_1_1, x_1_1, b1_1
    atom = atom_names(d.matrices[var], "row")[0]
    return EntrySum(var, atom, terms, jac.rows - len(nonzero), title, hidden)


# -- an activation's slope, factored for display -------------------------------------------
#: The smooth activations, and the a-degree of the lowest term of their local derivative
#: in the cached output a: tanh 1 − a² (0), sigmoid a − a² = a(1 − a) (1).
_SLOPE_LOW = {"tanh": 0, "sigmoid": 1}


class _Factored:
    """Entries shown with their activation's slope factored: da⁽¹⁾₁,₁⋅(1 − a⁽¹⁾₁,₁²)
    and 1 − a⁽¹⁾₁,₁² where the algebra holds da − a⋅a⋅da and 1 − a⋅a (sigmoid:
    da⋅a(1 − a)). Display only: an entry is rewritten only when the factored form
    multiplied out is exactly the polynomial the derivation computed and checked, with
    :func:`~symderiv.render.names.slope_atom` standing for the factor."""

    def __init__(self, d: NetDerivation) -> None:
        self.slopes: dict[str, str] = {}  # a1_1_1 -> tanh (an entry of a smooth A)
        for st in d.stages:
            if st.kind in _SLOPE_LOW and st.output in d.matrices:
                for _, _, entry in d.matrices[st.output].nonzeros():
                    self.slopes[next(iter(entry.atoms()))] = st.kind
        self.steps: dict[str, Step] = {}

    def entry(self, p: Poly, factor: bool = False) -> Poly:
        """``p`` factored as u⋅slope(a) when it is exactly that, u one term; ``factor``:
        a factor of a product (tanh's 1 − a² in parentheses)."""
        for a in sorted(p.atoms() & self.slopes.keys()):
            kind = self.slopes[a]
            low = _SLOPE_LOW[kind]
            degree = {mono: mono.count(a) for mono in p.terms}
            least = min(degree.values())
            lowest = [(m, c) for m, c in p.terms.items() if degree[m] == least]
            if len(lowest) != 1 or least < low:
                continue
            ((mono, coeff),) = lowest
            rest = list(mono)
            for _ in range(low):
                rest.remove(a)
            u = Poly.term(tuple(rest), coeff)
            if u * slope_poly(kind, Poly.atom(a)) != p:
                continue
            # 1 − a² alone; in parentheses as a factor (da⋅(1 − a²), −(1 − a²))
            alone = not (factor or rest or coeff != 1)
            name = "(tanh)" if kind == "tanh" and not alone else kind
            return Poly({(*rest, slope_atom(name, a)): coeff})
        return p

    def matrix(self, m: PolyMatrix) -> PolyMatrix:
        """``m`` with each entry factored (``m`` itself when nothing is)."""
        if not self.slopes:
            return m
        out = {(i, j): self.entry(p) for i, j, p in m.nonzeros()}
        if all(out[ij] is m[ij] for ij in out):
            return m
        return PolyMatrix(m.rows, m.cols, out)

    def node(self, node: Node) -> Node:
        """``node`` with every explicit matrix in it factored."""
        if isinstance(node, Explicit):
            shown = self.matrix(node.matrix)
            return node if shown is node.matrix else replace(node, matrix=shown)
        if isinstance(node, Prod):
            args = tuple(self.node(a) for a in node.args)
            if any(a is not b for a, b in zip(args, node.args, strict=True)):
                return Prod(*args)
        return node

    def equations(self, eqs: tuple[Equation, ...]) -> tuple[Equation, ...]:
        """``eqs`` with every explicit matrix factored."""
        return tuple(Equation(*(self.node(p) for p in eq.parts)) for eq in eqs)

    def step(self, step: Step) -> Step:
        """``step`` as it is shown (itself when nothing is factored; one object per
        step, so that its display's equations are the step's)."""
        if step.id not in self.steps:
            eqs = self.equations(step.equations)
            same = all(
                a is b
                for old, new in zip(step.equations, eqs, strict=True)
                for a, b in zip(old.parts, new.parts, strict=True)
            )
            self.steps[step.id] = step if same else replace(step, equations=eqs)
        return self.steps[step.id]


# -- shapes ------------------------------------------------------------------------------------
class NetShapes(Shapes):
    """The shape of every formula of a network, in size names (N, D, K1, …) and numbers."""

    #: explicit matrices and the chain's rows (Written, Jac) show their own shapes
    shown = (Explicit, Written, Jac)

    def __init__(self, d: NetDerivation) -> None:
        c = d.config
        conv = c.conv
        # The steps show every derivative in its variable's shape (the layout applies
        # to the results), so the shapes here are the denominator layout's.
        self.numerator = False
        self.sizes, self.size_names = c.sizes(), {}
        self.roles = {}

        for st in d.stages:
            k = st.index
            # the single layer's shapes, its D and M this layer's input and output widths
            widths = {"D": "D" if k == 1 else f"K{k - 1}", "M": f"K{k}"}
            layer = {
                role: NodeShape(
                    tuple(widths.get(str(f), f) for f in shape.rows),
                    tuple(widths.get(str(f), f) for f in shape.cols),
                )
                for role, shape in conv.shapes.items()
            }
            if st.kind == "affine":
                own = {st.input: "X", f"W{k}": "W", f"b{k}": "b", st.output: "Y"}
            else:
                own = {f"R{k}": "Y", st.output: "Y"}
            for role, single in own.items():
                self.roles[role] = self.roles[f"d{role}"] = layer[single]
        for role in ("P", "T", "dY"):
            self.roles[role] = layer["Y"]


# -- the summary's NumPy lines -------------------------------------------------------------------
def code_lines(d: NetDerivation) -> list[str]:
    """``dW1 = X.T @ dZ1`` for each line of the summary, as a backward pass computes them
    (the one NumPy printer, :mod:`symderiv.render.code`; the substituted forms that
    repeat a line are left out). In torch each bias is a vector, as in ``codegen --net``
    and nn.Linear: ``db1 = dZ1.sum(axis=0)``. The lines run as printed, given the
    variables and what the forward pass caches under their names (X, W1, b1, Z1, A1,
    R1, P, T): the loss's 1/N reads the batch off the output, ``(Z2 - T) / Z2.shape[0]``.
    """
    from ..render.code import numpy_code

    conv = get_convention(d.config.convention)
    flat = conv.bias_vector
    # The batch read off the output, as the single layer's (Y - T) / Y.shape[0]: a size
    # name such as N is no NumPy name, so the printed lines would not run.
    sizes = {"N": f"{d.top}.shape[{1 if conv.samples_as_columns else 0}]"}
    out: list[str] = []
    seen: set[str] = set()
    for eq in d.step("summary").equations:
        lhs, rhs = eq.parts[0], eq.parts[-1]
        if not isinstance(lhs, Sym) or lhs.role in seen:
            continue
        seen.add(lhs.role)
        if d.config.loss == "sum" and not out:  # L = Σ of the output: dZ is all ones
            out.append(f"{lhs.role} = np.ones_like({d.top})")
            continue
        code = numpy_code(rhs, _Names(), sizes, flat_rows=flat)
        out.append(f"{lhs.role} = {code}")
    return out


class _Names(dict[str, str]):
    """Every role is its own NumPy name (X, W1, dZ2, R1)."""

    def __missing__(self, key: str) -> str:
        return key


# -- the page ------------------------------------------------------------------------------------
#: The most rows and variables one certificate table holds (a page, a slide's width).
CERTIFICATE_ROWS = 24
CERTIFICATE_VARIABLES = 8


def certificate_parts(checks: tuple[Check, ...]) -> list[tuple[Check, ...]]:
    """The checks in tables of at most ``CERTIFICATE_ROWS`` rows and
    ``CERTIFICATE_VARIABLES`` variables, a variable's rows never split (a deep network's
    certificate would not fit one page or one slide)."""
    parts: list[list[Check]] = []
    for _, run in groupby(checks, key=lambda c: c.wrt):
        group = list(run)
        last = parts[-1] if parts else None
        if (
            last is None
            or len(last) + len(group) > CERTIFICATE_ROWS
            or len({c.wrt for c in last} | {group[0].wrt}) > CERTIFICATE_VARIABLES
        ):
            parts.append(list(group))
        else:
            last.extend(group)
    return [tuple(p) for p in parts]


def _intro(d: NetDerivation) -> list[Block]:
    c = d.config
    intro = prose(
        "The derivative of the loss $L$ with respect to every input and parameter of "
        "the network {net}, layer by layer from the top. Each layer gets the single "
        "layer's explicit route: the upstream derivative it receives, its local Jacobian "
        "written out, the chain rule as a row times that Jacobian, the reshape and the "
        "closed form, each checked exactly. Every entry is written in what the forward "
        "pass caches ({cached}), so every derivative is a polynomial a backward pass can "
        "evaluate.",
        net=Code(c.net.text),
        cached=tuple(_cached(d)),
    )
    out: list[Block] = [Note(intro)]
    if c.layout == "numerator":
        numerator = prose(
            "Numerator layout: each result ({json}) is the transpose of the matrix "
            "shown; the steps write every derivative in the shape of its variable, as "
            "the backward pass stores it.",
            json=Code("--format json"),
        )
        out.append(Note(numerator))
    eqs = tuple(
        Equation(Sym(f"d{v}"), d.results[v].extra["network_form"]) for v in d.results
    )
    if eqs:
        out.append(Display(eqs, StepKind.RESULT))
    return out


def _cached(d: NetDerivation) -> list[str | M | F]:
    out: list[str | M | F] = []
    for st in d.stages:
        if out:
            out.append(", ")
        out.append(mat(st.output))
        if st.kind == "relu":
            out += [" and the mask ", mat(f"R{st.index}")]
    if d.config.loss == "softmax-ce":
        out += [", ", mat("P")]
    return out


def _remarks(d: NetDerivation) -> list[Block]:
    c = d.config
    first = next(st for st in d.stages if st.kind == "affine")
    k = first.index
    transposes = prose(
        "Each closed form has the shape of the matrix it differentiates by: {dW} is "
        "{shape} like {W}. The transposes are what the Kronecker forms of the Jacobians "
        "turn into when the row of upstream derivatives is reshaped back: no shape rule "
        "is needed, the certificate checks every entry.",
        dW=math(f"dW{k} = Xᵀ·dZ{k}", rf"dW_{{{k}}} = X^{{T}} \, dZ_{{{k}}}")
        if c.convention == "xw"
        else mat(f"dW{k}"),
        shape=math(f"D × K{k}", rf"D \times K_{{{k}}}")
        if not c.conv.weight_transposed
        else math(f"K{k} × D", rf"K_{{{k}}} \times D"),
        W=mat(f"W{k}"),
    )
    hadamard = prose(
        "An activation acts entry by entry, so its Jacobian is diagonal and the chain "
        "rule through it multiplies entry by entry: {rule}. Writing a matrix product "
        "there is the most common mistake in a hand-written backward pass; the shapes "
        "would not even match.",
        rule=math("dZ = dA ⊙ f′(Z)", r"dZ = dA \odot f'(Z)"),
    )
    if c.loss in ("mse", "softmax-ce"):
        batch = prose(
            "The batch average of the loss puts $1/N$ into the upstream derivative of "
            "the output once; every layer below inherits it through the chain rule, so "
            "no layer divides by $N$ again."
        )
    else:
        batch = prose(
            "This loss has no batch average, so no $1/N$ appears; with {mse} or {ce} it "
            "enters once, at the output, and every layer below inherits it.",
            mse=Code("--loss mse"),
            ce=Code("--loss softmax-ce"),
        )
    out: list[Block] = [
        Heading(("Why the transposes",)),
        Note(transposes),
        Heading((math("⊙", r"\odot"), " is not a matrix product")),
        Note(hadamard),
        Heading(prose("Where the $1/N$ goes")),
        Note(batch),
    ]
    if c.loss == "softmax-ce":
        cancel = prose(
            "Neither the softmax Jacobian nor {dP} is simple, but their product is: the "
            "{inverse} of the cross-entropy cancels the {p} of the softmax, and the "
            "rank-one part brings in {one}. Frameworks fuse the two layers for this "
            "reason (and because {entry} can underflow).",
            dP=math("∂L/∂P", r"\partial L/\partial P"),
            inverse=math("1/pᵢⱼ", "1/p_{ij}"),
            p=math("pᵢⱼ", "p_{ij}"),
            one=math("Σⱼ tᵢⱼ = 1", r"\sum_{j} t_{ij} = 1"),
            entry=ent("p", None),
        )
        out += [Heading(("Why ", math("(P − T)/N", "(P - T)/N"))), Note(cancel)]
    return out


def net_page(
    d: NetDerivation, max_entries: int = DEFAULT_MAX_ENTRIES
) -> tuple[Block, ...]:
    """The whole page of a network derivation, in reading order, for every format."""
    c = d.config
    out: list[Block] = [
        PageTitle(
            ("Backpropagation through the network ", Code(c.net.text)),
            (
                (math(f"N = {c.n}"), ", widths ", widths_math(c.widths())),
                (f"convention {c.convention}",),
                (f"{c.vec} order",),
                (f"{c.layout} layout",),
                (f"loss {c.loss}",),
                (f"method {c.method}",),
            ),
            command_line(c),
            page_config(c),
            setup=setup_code(c),
        ),
        Section(("What is derived",), tuple(_intro(d))),
    ]
    out += _sections(d, max_entries)
    intro: Prose = (
        "Every claim below was checked exactly, entry by entry, with the polynomial "
        "algebra of the derivation:",
    )
    parts = certificate_parts(d.checks)
    verified = all(c.passed for c in d.checks)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        out.append(CertificateTable(intro, part, verified, i > 0, not last))
        intro = ("The certificate, continued:",)
    out.append(Remarks(("Where learners trip",), tuple(_remarks(d))))
    return tuple(out)


__all__ = ["NetPageConfig", "command_line", "net_page", "page_config", "step_blocks"]
