"""Code generation: a numpy ``Linear`` layer written from the derived closed forms.

:func:`generate_linear` prints the notation trees of :meth:`Convention.forward` and
:meth:`Convention.closed_form` with the one NumPy printer (``render.code``), so the
generated ``backward`` is the closed form the derivation proves, for every convention,
without a hand-written template per convention, and reads as the article's code does.

Only pure-Python modules are imported here (no sympy, no numpy), so the CLI stays fast.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping

from . import __version__
from .conventions import (
    DELTA,
    Config,
    Convention,
    Letters,
    choose,
    derivative_name,
    get_convention,
    parse_names,
)
from .errors import DisplayNameError
from .render.code import numpy_code
from .render.formula import formula_text

#: Code generation targets (``--target``).
TARGETS: tuple[str, ...] = ("numpy",)


# -- the module -----------------------------------------------------------------------
_MODULE = '''\
"""{title}

Convention: {name}, as in {source}.
{regenerate}

Sizes: {L.N} = batch, {L.D} = in_features, {L.M} = out_features.

Forward:
    {forward}
    {shape_line}

{backward_head}
{backward_doc}
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _check_shape(
    array: NDArray[np.float64], name: str, shape: str, sizes: tuple[int | None, ...]
) -> None:
    """Refuse ``array`` unless it is 2-D with these sizes (None: any batch size)."""
    got = np.shape(array)
    if len(got) == 2 and all(s in (None, g) for g, s in zip(got, sizes, strict=True)):
        return
    names = shape.strip("()").split(", ")
    pairs = zip(names, sizes, strict=True)
    here = ", ".join(n if s is None else str(s) for n, s in pairs)
    raise ValueError(
        f"{{name}} must be a 2-D array of shape {{shape}} = ({{here}}); got shape {{got}}"
    )


def _bias(b: NDArray[np.float64], out_features: int) -> NDArray[np.float64]:
    """The bias b as the formulas use it, {b_shape_code}, from b stored so
    or as {b_other}: backward gives ∂L/∂b the shape b is stored in."""
    shape, other = {b_shape_code}, {b_other}
    if np.shape(b) not in (shape, other):
        raise ValueError(
            f"{L.b} must have shape {b_shape_code} or {b_other}"
            f" = {{shape}} or {{other}}; got shape {{np.shape(b)}}"
        )
    return np.reshape(b, shape)


class Linear:
    """Affine layer {forward} ({name} convention).

    Attributes:
        {L.W}: weights, {W_shape_code}.
        {L.b}: bias, {b_shape_code} or {b_other}.
        {L.X}: the input saved by forward, {X_shape_code}.
        N: the batch size saved by forward.
{grad_attrs}
    """

    {L.W}: NDArray[np.float64]
    {L.b}: NDArray[np.float64]
    {L.X}: NDArray[np.float64]
    N: int
{grad_decls}

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: np.random.Generator | None = None,
    ) -> None:
        """W ~ Normal(0, 1/in_features) drawn from ``rng``; b = 0."""
        rng = np.random.default_rng() if rng is None else rng
        scale = 1.0 / np.sqrt(in_features)
        self.{L.W} = rng.normal(scale=scale, size={W_shape_code})
        self.{L.b} = np.zeros({b_shape_code})

    def forward(self, {L.X}: NDArray[np.float64]) -> NDArray[np.float64]:
        {forward_doc}
{X_check}
{b_line}
        self.{L.X} = {L.X}
        self.N = {L.X}.shape[{batch_axis}]
        {L.Y} = {forward_code}
        return {L.Y}

    def backward(self, {L.dY}: NDArray[np.float64]) -> NDArray[np.float64]:
        {backward_doc_line}
        if not hasattr(self, "N"):  # forward saves the input (and N) backward uses
            raise RuntimeError(
                "call forward({L.X}) before backward({L.dY})"
                ": backward uses the input that forward saves"
            )
{dY_check}
{backward_code}
'''


#: Names the generated module uses itself: a role named so would shadow them.
_TAKEN = frozenset(
    {"self", "np", "NDArray", "annotations", "rng", "scale", "in_features"}
    | {"out_features", "Linear", "forward", "backward", "N", "int", "None"}
    | {"_check_shape", "_bias", "ValueError"}
)


def code_names(
    conv: Convention, names: str | Mapping[str, str] | None = None
) -> tuple[Letters, dict[str, str]]:
    """The letters of ``--names`` for code, and the name of each gradient.

    ``--names X=x,dY=dout`` gives seed 000's ``backward(self, dout)`` with ``dx`` and
    ``self.x``; a renamed variable's gradient is d + its letters (dLd + letters in the
    column convention, as the course writes dLdA), the others keep their names (dX, dW,
    db). The sizes' names reach the docstring only.

    Raises:
        DisplayNameError: letters that are no Python name, that the module uses itself,
            or that two things would share (X=out with dY=dout makes dX = dout too);
            T or the delta, which a Linear class does not have.
    """
    given = parse_names(names)
    for role in ("T", DELTA):
        if role in given:
            raise DisplayNameError(
                f"--names {role}={given[role]}: a Linear class has no "
                f"{'targets' if role == 'T' else 'delta'}; name X, W, b, Y, dY or "
                "the sizes"
            )
    letters = conv.letters
    if given:  # a Config checks the letters given for collisions
        letters = Config(convention=conv.name, names=given).letters
    prefix = "dLd" if conv.name == "column" else "d"
    grads = {
        var: prefix + letters.of(var) if var in given else derivative_name(conv, var)
        for var in ("X", "W", "b")
    }
    used: dict[str, str] = {}
    for what, name in [
        *((role, letters.of(role)) for role in ("X", "W", "b", "Y", "dY")),
        *((f"∂L/∂{var}", g) for var, g in grads.items()),
    ]:
        if not name.isidentifier() or keyword.iskeyword(name) or name in _TAKEN:
            raise DisplayNameError(
                f"--names: {what} would be {name!r} in the code, which is "
                + (
                    "no Python name"
                    if not name.isidentifier()
                    else "a Python keyword"
                    if keyword.iskeyword(name)
                    else "taken by the module"
                )
                + "; choose other letters"
            )
        if name in used:
            raise DisplayNameError(
                f"--names: {used[name]} and {what} would both be {name!r} in the code; "
                "choose other letters"
            )
        used[name] = what
    return letters, grads


def generate_linear(
    convention: str | Convention,
    target: str = "numpy",
    names: str | Mapping[str, str] | None = None,
) -> str:
    """Python source of a ``Linear`` class whose backward is the derived closed forms.

    The module is deterministic (same convention, same bytes), passes ``ruff check``
    and imports only numpy. Shapes follow :meth:`Convention.shape`, except that torch
    holds b and db as nn.Linear does, vectors of length M (SPEC section 1).

    Args:
        convention: xw, torch, column or wx (a name or a Convention).
        target: the array library; only "numpy" for now.
        names: ``--names`` for the code: the letters of X, W, b, Y and dY (``dY=dout``,
            ``X=x``) and the sizes' names in the docstring.

    Returns:
        The module's source text.

    Raises:
        ChoiceError: an unknown convention or target.
        DisplayNameError: ``names`` that cannot be Python names (:func:`code_names`).

    >>> source = generate_linear("xw")
    >>> "self.dW = self.X.T @ dY" in source
    True
    """
    conv = (
        convention if isinstance(convention, Convention) else get_convention(convention)
    )
    choose(target, TARGETS, "code generation target (--target)")
    L, grads = code_names(conv, names)
    code_dims = {"N": L.N, "D": "in_features", "M": "out_features"}
    flat = conv.bias_vector  # torch: b and db are vectors of length M, as in nn.Linear

    def shape_of(role: str, dims: Mapping[str, str] = L.sizes) -> str:
        """``(N, D)`` in the sizes' names (``dims``); ``(M,)`` for a flat bias."""
        names = conv.shapes[role].names(dims)
        return f"({names[1]},)" if flat and role == "b" else "({}, {})".format(*names)

    def shape_code(role: str) -> str:
        """``(N, in_features)``: the shape in the code's names."""
        return shape_of(role, code_dims)

    w_dims = conv.shapes["W"].names(code_dims)

    def check_call(name: str, role: str, batch: str) -> str:
        """``_check_shape(X, "X", "(N, in_features)", (None, self.W.shape[0]))``: the
        array ``name`` must have the shape of ``role``, with the sizes the layer knows;
        ``batch`` is N's size."""
        known = [
            batch if dim == L.N else f"self.{L.W}.shape[{w_dims.index(dim)}]"
            for dim in conv.shapes[role].names(code_dims)
        ]
        args = f'{name}, "{name}", "{shape_code(role)}", ({", ".join(known)})'
        line = f"        _check_shape({args})"
        if len(line) <= _WIDTH:
            return line
        return f"        _check_shape(\n            {args}\n        )"

    sizes = {"N": "self.N"}
    forward = conv.forward()
    forward_rhs = formula_text(forward, L)
    # b as the formulas use it (from b stored so or 1-D, as numpy and PyTorch code do),
    # a local of forward; backward gives db the shape b is stored in.
    other = "(1, out_features)" if flat else "(out_features,)"
    out_axis = w_dims.index("out_features")
    b_line = _commented(
        f"        {L.b} = _bias(self.{L.b}, self.{L.W}.shape[{out_axis}])",
        f"{shape_code('b')}, however {L.b} is stored",
    )
    fwd_names = {"X": L.X, "W": f"self.{L.W}", "b": L.b}
    bwd_names = {"X": f"self.{L.X}", "W": f"self.{L.W}", "b": f"self.{L.b}", "dY": L.dY}

    formulas, code_lines, grad_attrs, grad_decls, stored = [], [], [], [], []
    # dX first: it is what backward returns to the layer below.
    for var in ("X", "W", "b"):
        tree = conv.closed_form(var)
        name = grads[var]
        text = formula_text(tree, L)
        shape_text = shape_of(var)  # the closed form has its variable's shape
        formulas.append((f"{name} = {text}", shape_text))
        expr = numpy_code(tree, bwd_names, sizes, flat_rows=flat)
        target_name = name if var == "X" and conv.name != "column" else f"self.{name}"
        line = f"        {target_name} = {expr}"
        comment = f"  # {text}, {shape_text}"
        if len(line + comment) <= _WIDTH:
            code_lines.append(line + comment)
        else:  # long --names: the comment above the line
            code_lines += [f"        # {text}, {shape_text}", line]
        if var == "b":
            code_lines.append(
                _commented(
                    f"        {target_name} = {target_name}.reshape(self.{L.b}.shape)",
                    f"in the shape {L.b} is stored in",
                )
            )
            shape_text += f" or (1, {L.M})" if flat else f" or ({L.M},)"
        if target_name.startswith("self."):
            what = f"∂L/∂{L.of(var)} after backward"
            attr = f"        {name}: {what}, {shape_text}."
            if len(attr) > _WIDTH:  # long --names: the shapes on a line of their own
                attr = f"        {name}: {what},\n            {shape_text}."
            grad_attrs.append(attr)
            grad_decls.append(f"    {name}: NDArray[np.float64]")
            stored.append(name)
    if conv.name == "column" and not {"dW", "db"} & set(grads.values()):
        # The names of the generic interface, as aliases of the course's names.
        dW, db = grads["W"], grads["b"]
        code_lines += [f"        self.dW = self.{dW}", f"        self.db = self.{db}"]
        grad_attrs.append(f"        dW, db: aliases of {dW} and {db}.")
        grad_decls += ["    dW: NDArray[np.float64]", "    db: NDArray[np.float64]"]
    dX = grads["X"]
    code_lines.append(f"        return {'self.' + dX if conv.name == 'column' else dX}")

    return _MODULE.format(
        L=L,
        forward=f"{L.Y} = {forward_rhs}",
        name=conv.name,
        source=conv.source,
        regenerate=_regenerate(conv.name, names),
        shape_line=_wrap(
            [f"{L.of(r)}: {shape_of(r)}" for r in ("X", "W", "b", "Y")], ", ", 4
        ),
        title=_wrap(
            f"A Linear layer, {L.Y} = {forward_rhs}, generated by symderiv "
            f"{__version__}.".split(" "),
            " ",
            3,  # after the opening quotes
        ).replace("\n   ", "\n"),
        backward_head=_wrap(
            f"Backward, given {L.dY} = ∂L/∂{L.Y} of shape {shape_of('Y')} (the closed "
            "forms symderiv derives):".split(" "),
            " ",
            0,
        ),
        forward_doc=_docstring(
            f"{L.Y} = {forward_rhs}: {shape_code('X')} -> {shape_code('Y')}."
        ),
        backward_doc_line=_docstring(
            f"Store {', '.join(stored)} from {L.dY} = ∂L/∂{L.Y} {shape_code('Y')}; "
            f"return {dX}."
        ),
        backward_doc="\n".join(
            f"    {eq.ljust(max(len(e) for e, _ in formulas))}    {sh}"
            for eq, sh in formulas
        ),
        W_shape_code=shape_code("W"),
        X_shape_code=shape_code("X"),
        X_check=check_call(L.X, "X", "None"),  # any batch size
        dY_check=check_call(L.dY, "Y", "self.N"),  # the batch forward saw
        batch_axis=1 if conv.samples_as_columns else 0,
        b_shape_code=shape_code("b"),
        b_other=other,
        b_line=b_line,
        grad_attrs="\n".join(grad_attrs),
        grad_decls="\n".join(grad_decls),
        forward_code=numpy_code(forward, fwd_names, sizes, flat_rows=flat),
        backward_code="\n".join(code_lines),
    )


#: The generated module keeps to 88 columns (ruff's E501), also with long --names.
_WIDTH = 88


def _wrap(parts: list[str], sep: str, indent: int) -> str:
    """``parts`` joined by ``sep``, on more lines (indented) where one is too long."""
    lines = [""]
    for part in parts:
        joined = lines[-1] + (sep if lines[-1] else "") + part
        if lines[-1] and indent + len(joined) > _WIDTH:
            lines[-1] += sep.rstrip()
            lines.append(part)
        else:
            lines[-1] = joined
    return ("\n" + " " * indent).join(lines)


def _commented(line: str, comment: str) -> str:
    """``line`` with ``# comment`` after it when that keeps to 88 columns."""
    whole = f"{line}  # {comment}"
    return whole if len(whole) <= _WIDTH else line


def _docstring(text: str) -> str:
    """A method's docstring at 8 spaces: one line if it fits, else wrapped."""
    if 8 + len(text) + 6 <= _WIDTH:
        return f'"""{text}"""'
    body = _wrap(text.split(" "), " ", 8)
    return f'"""\n        {body}\n        """'


def _regenerate(convention: str, names: str | Mapping[str, str] | None) -> str:
    """The docstring's command line that writes the module again, within 88 columns."""
    line = f"Regenerate with: symderiv codegen --convention {convention} --target numpy"
    given = parse_names(names)
    if not given:
        return line
    pairs = ",".join(f"{k}={v}" for k, v in given.items())
    one = f"{line} --names {pairs}"
    if len(one) <= _WIDTH:
        return one
    return f"Regenerate with (one command line):\n    {line[17:]}\n    --names {pairs}"
