"""Numeric truth: the closed forms checked in float64 on a random instance.

The symbolic derivation proves ``dW = Xᵀ·dY`` entry by entry; this module checks the
same formulas the way an engineer would, with numbers:

1. draw a random instance (X, T, W, b and, for the generic loss, dY) from a seeded
   generator, in the order fixed by SPEC section 3;
2. evaluate each closed form of :meth:`Convention.closed_form` (a notation tree) with
   numpy, at the instance;
3. compare it with central finite differences of the scalar loss L, and with
   ``torch.autograd`` in float64 when PyTorch is installed.

Nothing here prints: :func:`verify` returns a :class:`VerifyReport` and the CLI draws
it. numpy is imported at module level, so the CLI imports this module inside its
commands (``symderiv --help`` stays fast).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .conventions import (
    VARIABLES,
    Config,
    Convention,
    check_size,
    mse_upstream,
    parse_wrt,
    softmax_ce_upstream,
)
from .errors import TooLargeError, UsageError, clip
from .notation import Eye, Kron, Node, Ones, Prod, Recip, Scalar, Sum, Sym, T, Visitor

Array = NDArray[np.float64]


#: Finite differences pass when max|closed − FD| ≤ FD_RTOL · max(1, max|FD|).
#: All three losses are at most quadratic in each variable, so the central difference
#: has no truncation error; what remains is rounding, about ε·|L|/h ≈ 1e-10·|L|.
FD_RTOL = 1e-6
#: torch.autograd (float64) passes when max|closed − autograd| ≤ TORCH_RTOL · max(1,
#: max|autograd|): both sides are exact formulas, so only rounding separates them.
TORCH_RTOL = 1e-10
#: Refuse sizes whose finite differences would take more than about this many flops
#: (N = D = M = 32 needs 1.5e8, about 0.1 s; ``force=True`` lifts the limit up to
#: _HARD_LIMIT, which stops 10**9-sized requests at once).
FLOP_LIMIT = 2e10
_FLOPS_PER_SECOND = 1e10  # measured: N = D = M = 64 (4.5e9 flops) takes about 0.5 s
_HARD_LIMIT = 1e13
_EPS = float(np.finfo(np.float64).eps)


# -- evaluating notation --------------------------------------------------------------
class _Evaluate(Visitor[Array]):
    def __init__(self, values: Mapping[str, Array], sizes: Mapping[str, int]) -> None:
        self.values, self.sizes = values, sizes

    def visit_Sym(self, node: Sym) -> Array:
        return np.asarray(self.values[node.role], dtype=np.float64)

    def visit_T(self, node: T) -> Array:
        return self.visit(node.arg).T  # a 0-d array is its own transpose

    def visit_Ones(self, node: Ones) -> Array:
        return np.ones((self.sizes[node.size], 1))  # 1_k is a column, (k, 1)

    def visit_Eye(self, node: Eye) -> Array:
        return np.eye(self.sizes[node.size])

    def visit_Scalar(self, node: Scalar) -> Array:
        return np.array(float(node.value), dtype=np.float64)

    def visit_Recip(self, node: Recip) -> Array:
        return np.array(1.0 / self.sizes[node.size], dtype=np.float64)

    def visit_Prod(self, node: Prod) -> Array:
        return functools.reduce(_times, [self.visit(a) for a in node.args])

    def visit_Sum(self, node: Sum) -> Array:
        return functools.reduce(_plus, [self.visit(a) for a in node.args])

    def visit_Kron(self, node: Kron) -> Array:
        left, right = self.visit(node.left), self.visit(node.right)
        return np.asarray(np.kron(left, right), dtype=np.float64)


def evaluate(
    node: Node, values: Mapping[str, Array], sizes: Mapping[str, int] | None = None
) -> Array:
    """The value of a notation tree, with ``values`` giving each role's matrix.

    Shapes are checked, never broadcast: a sum of a (1, M) and an (N, M) matrix is an
    error, so a formula with the wrong shape cannot pass by accident. A ``Scalar``
    evaluates to a 0-d array and multiplies whatever it stands next to in a product.

    Args:
        node: a tree of Sym, T, Prod, Sum, Ones, Eye, Scalar, Recip (and Kron) nodes.
        values: role -> float64 matrix, e.g. {"X": (N, D), "W": (D, M), "dY": (N, M)}.
        sizes: size name -> value, {"N": n, ...}, for 1_N, I_M and 1/N.

    Returns:
        The matrix the formula stands for (a 0-d array for a lone Scalar).

    Raises:
        KeyError: the formula uses a role (or size) that ``values`` (``sizes``) lacks.
        ValueError: the shapes do not fit (a product or a sum of mismatched matrices).
        TypeError: a node that has no numeric value (Deriv, Vec, Comm, ...).

    >>> X = np.array([[1.0, 2.0]])                      # (1, 2)
    >>> W = np.array([[3.0], [4.0]])                    # (2, 1)
    >>> evaluate(Prod(Sym("X"), Sym("W")), {"X": X, "W": W})
    array([[11.]])
    >>> evaluate(T(Ones("N")), {}, {"N": 2})
    array([[1., 1.]])
    """
    return _Evaluate(values, sizes or {}).visit(node)


def _times(out: Array, f: Array) -> Array:
    if out.ndim == 0 or f.ndim == 0:
        return out * f  # a scalar times a matrix
    if out.shape[1] != f.shape[0]:
        raise ValueError(f"product of shapes {out.shape} and {f.shape} is undefined")
    return out @ f  # (a, k) @ (k, c) -> (a, c)


def _plus(out: Array, t: Array) -> Array:
    if t.shape != out.shape:
        raise ValueError(f"sum of shapes {out.shape} and {t.shape} is undefined")
    return out + t


# -- the random instance --------------------------------------------------------------
def _readonly(a: Array) -> Array:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Instance:
    """A random layer and loss, drawn by :func:`draw_instance`; arrays are read-only.

    Attributes:
        convention: the convention the arrays are shaped for.
        loss: "generic" (L = Σ dY ⊙ Y), "mse" (1/(2N) Σ‖y_i − t_i‖²) or "sum" (Σ y_ij).
        seed: the seed of ``numpy.random.default_rng``.
        X: inputs, (N, D).
        T: MSE targets, (N, M); drawn for every loss so the stream is the same.
        W: weights, (D, M) for xw, (M, D) for torch and column.
        b: bias, (1, M) for xw and torch, (M, 1) for column.
        dY: the fixed upstream derivative of the generic loss, (N, M); None otherwise.
    """

    convention: Convention
    loss: str
    seed: int
    X: Array
    T: Array
    W: Array
    b: Array
    dY: Array | None = None

    @property
    def sizes(self) -> dict[str, int]:
        """{"N": n, "D": d, "M": m}, read off X and T."""
        if self.convention.samples_as_columns:  # X (D, N), T (M, N)
            (d, n), m = self.X.shape, self.T.shape[0]
        else:  # X (N, D), T (N, M)
            (n, d), m = self.X.shape, self.T.shape[1]
        return {"N": n, "D": d, "M": m}

    def variables(self) -> dict[str, Array]:
        """The arrays the loss is differentiated by: {"X": ..., "W": ..., "b": ...}."""
        return {"X": self.X, "W": self.W, "b": self.b}

    def output(self, **override: Array) -> Array:
        """Y (N, M) by the convention's forward formula; ``override`` swaps X/W/b."""
        values = {**self.variables(), **override}
        return evaluate(self.convention.forward(), values, self.sizes)

    def loss_value(self, Y: Array) -> float:
        """L at the output ``Y`` (N, M)."""
        return loss_of(self.loss, Y, self.T, self.dY, self.sizes["N"])

    def upstream(self, Y: Array) -> Array:
        """dY = ∂L/∂Y at ``Y``, (N, M): dY itself, (Y − T)/N, or ones."""
        if self.loss == "generic":
            assert self.dY is not None
            return self.dY
        if self.loss == "mse":
            # dY = 1/N·(Y + (−1)·T): the formula the derivation shows, evaluated
            return evaluate(mse_upstream(), {"Y": Y, "T": self.T}, self.sizes)
        if self.loss == "softmax-ce":
            P = np.exp(log_softmax(Y))
            return evaluate(softmax_ce_upstream(), {"P": P, "T": self.T}, self.sizes)
        return np.ones_like(Y)

    def values(self) -> dict[str, Array]:
        """Every role at the instance: X, W, b, T, Y and dY (to evaluate formulas)."""
        Y = self.output()
        return {**self.variables(), "T": self.T, "Y": Y, "dY": self.upstream(Y)}


def draw_instance(
    n: int, d: int, m: int, convention: str = "xw", loss: str = "generic", seed: int = 0
) -> Instance:
    """Draw a random instance exactly as SPEC section 3 fixes it.

    ``rng = numpy.random.default_rng(seed)``, then ``rng.normal(size=...)`` for X
    (N, D), T (N, M), W (the convention's shape), b (length M, then shaped 1×M or M×1)
    and, only for the generic loss, dY (N, M).

    Args:
        n, d, m: sizes N, D, M, each >= 1.
        convention: xw, torch, column or wx.
        loss: generic, mse or sum.
        seed: an integer >= 0.

    Returns:
        The instance, with read-only float64 arrays.

    Raises:
        UsageError: a bad size, convention, loss or seed (exit 2 in the CLI).

    >>> inst = draw_instance(1, 2, 3, "torch", "mse", seed=0)
    >>> inst.X.shape, inst.W.shape, inst.b.shape, inst.dY is None
    ((1, 2), (3, 2), (1, 3), True)
    """
    # the sizes, convention and loss as a derivation checks them, in the same order
    conv = Config(n=n, d=d, m=m, convention=convention, loss=loss).conv
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=conv.shape("X", n, d, m))  # (N, D), or (D, N) in wx
    T_ = rng.normal(size=conv.shape("Y", n, d, m))  # Y's shape
    if loss == "softmax-ce":  # the same draws, made one-hot (each row's argmax)
        T_ = one_hot(T_)
    W = rng.normal(size=conv.shape("W", n, d, m))
    b = rng.normal(size=m).reshape(conv.shape("b", n, d, m))
    dY = rng.normal(size=conv.shape("Y", n, d, m)) if loss == "generic" else None
    X, T_, W, b = map(_readonly, (X, T_, W, b))
    if dY is not None:
        dY = _readonly(dY)
    return Instance(conv, loss, seed, X, T_, W, b, dY)


def one_hot(scores: Array) -> Array:
    """One-hot rows, (N, C): 1 at each row's largest entry (softmax-ce targets)."""
    out = np.zeros_like(scores)
    out[np.arange(len(scores)), np.argmax(scores, axis=1)] = 1.0
    return out


def log_softmax(Y: Array) -> Array:
    """log softmax of each row, computed stably (the row maximum subtracted), (N, C)."""
    shifted = Y - np.max(Y, axis=1, keepdims=True)
    return np.asarray(
        shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True)),
        dtype=np.float64,
    )


def loss_of(loss: str, Y: Array, T: Array, dY: Array | None, n: int) -> float:
    """L at the output ``Y`` (N, M) of one layer or a network: Σ dY ⊙ Y (generic),
    1/(2N) Σ‖y_i − t_i‖² (mse), −(1/N) Σ t_ij log softmax(Y)_ij (softmax-ce, rows are
    samples) or Σ y_ij (sum); ``T`` and ``dY`` are Y's shape, ``n`` is N."""
    if loss == "generic":
        assert dY is not None
        return float(np.sum(dY * Y))
    if loss == "mse":
        r = Y - T
        return float(np.sum(r * r)) / (2 * n)
    if loss == "softmax-ce":
        return float(-np.sum(T * log_softmax(Y))) / n
    return float(np.sum(Y))


def check_seed(seed: object) -> int:
    """``seed`` as an integer >= 0.

    Raises:
        UsageError: not a whole number, or negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise UsageError(f"--seed must be a whole number >= 0, got {seed!r}")
    if seed < 0:
        raise UsageError(f"--seed must be a whole number >= 0, got {seed}")
    return int(seed)


def forward_reference(instance: Instance) -> Array:
    """Y written directly with numpy broadcasting, as code does (not via the notation).

    ``X @ W + b`` (xw), ``X @ W.T + b`` (torch), ``A @ W.T + b.T`` (column),
    ``W @ X + b`` (wx): an independent check of :meth:`Convention.forward`. Shape
    (N, M), or (M, N) in wx.
    """
    Y: Array = _broadcast(instance.convention, instance.X, instance.W, instance.b)
    return Y


def _broadcast(c: Convention, X: Any, W: Any, b: Any) -> Any:
    """Y from NumPy arrays or torch tensors alike, by broadcasting: X @ W + b, ..."""
    if c.samples_as_columns:
        return W @ X + b  # (M, D) @ (D, N) + (M, 1)
    return X @ (W.T if c.weight_transposed else W) + (b.T if c.bias_column else b)


# -- finite differences ---------------------------------------------------------------
def fd_step(value: float) -> float:
    """The central-difference step for an entry of size ``value``: ∛ε · max(1, |value|).

    ∛ε ≈ 6e-6 balances truncation (O(h²)) against rounding (O(ε/h)) for a smooth
    function; scaling by the entry keeps the relative step the same for large values.
    """
    return float(np.cbrt(_EPS)) * max(1.0, abs(value))


def central_difference(f: Callable[[Array], float], at: Array) -> Array:
    """∂f/∂at by central differences, entry by entry, in the shape of ``at``.

    (f(at + h·E_k) − f(at − h·E_k)) / 2h for each entry k, with h = :func:`fd_step`.

    Args:
        f: a scalar function of a matrix of ``at``'s shape.
        at: the point, any shape; it is not modified.

    Returns:
        The finite-difference derivative, same shape as ``at``.

    >>> g = central_difference(lambda a: float(np.sum(a**2)), np.array([[1.0, -2.0]]))
    >>> np.allclose(g, [[2.0, -4.0]])
    True
    """
    point = np.array(at, dtype=np.float64)  # a private, writable copy
    grad = np.empty_like(point)
    for k in np.ndindex(point.shape):
        v = float(point[k])
        h = fd_step(v)
        point[k] = v + h
        up = f(point)
        point[k] = v - h
        down = f(point)
        point[k] = v
        # (v + h) − (v − h) is not exactly 2h in floating point; divide by the real step
        grad[k] = (up - down) / ((v + h) - (v - h))
    return grad


def _fd_gradient(instance: Instance, var: str) -> Array:
    def loss_at(value: Array) -> float:
        return instance.loss_value(instance.output(**{var: value}))

    return central_difference(loss_at, instance.variables()[var])


# -- torch.autograd -------------------------------------------------------------------
@functools.cache
def _torch() -> tuple[ModuleType | None, str]:
    """PyTorch and "", or None and why not: an optional extra (symderiv[torch]) that may
    be missing, or installed but broken (a CUDA library that does not load raises
    OSError or RuntimeError on import); the finite differences run either way."""
    try:
        return importlib.import_module("torch"), ""
    except ImportError:
        return None, "not installed"
    except Exception as exc:  # noqa: BLE001 - any failure of a third-party import
        return (
            None,
            f"could not be imported ({type(exc).__name__}: {clip(str(exc), 60)})",
        )


def torch_unavailable() -> str:
    """Why torch.autograd is not compared: "not installed", "could not be imported
    (...)", or "" when PyTorch imports."""
    return _torch()[1]


def torch_gradients(instance: Instance) -> dict[str, Array] | None:
    """∂L/∂X, ∂L/∂W, ∂L/∂b from ``torch.autograd`` in float64; None without PyTorch.

    The forward pass and loss are written with torch operations and broadcasting, as a
    PyTorch user would, independently of the notation trees.
    """
    c, i = instance.convention, instance
    return autograd(
        i.variables(),
        lambda torch, v: _broadcast(c, v["X"], v["W"], v["b"]),
        (i.loss, i.T, i.dY, i.sizes["N"]),
    )


def autograd(
    variables: Mapping[str, Array],
    forward: Callable[[Any, dict[str, Any]], Any],
    loss: tuple[str, Array, Array | None, int],
) -> dict[str, Array] | None:
    """∂L/∂V for each of ``variables`` by ``torch.autograd`` in float64 (arrays of their
    shapes); None without PyTorch. ``forward(torch, leaves)`` is the output Y (N, M) from
    the variables as tensors; ``loss`` is (name, T, dY, N) as for :func:`loss_of`, here
    written with torch operations."""
    torch = _torch()[0]
    if torch is None:
        return None
    leaves: dict[str, Any] = {
        k: torch.tensor(np.array(v), dtype=torch.float64, requires_grad=True)
        for k, v in variables.items()
    }
    Y = forward(torch, leaves)
    name, T_, dY, n = loss
    t = torch.tensor(np.array(T_), dtype=torch.float64)
    if name == "generic":
        L = torch.sum(torch.tensor(np.array(dY), dtype=torch.float64) * Y)
    elif name == "mse":
        L = 0.5 / n * torch.sum((Y - t) ** 2)
    elif name == "softmax-ce":
        L = -torch.sum(t * torch.log_softmax(Y, dim=1)) / n
    else:
        L = torch.sum(Y)
    L.backward()
    return {
        k: np.asarray(v.grad.detach().numpy(), dtype=np.float64).copy()
        for k, v in leaves.items()
    }


def torch_version() -> str | None:
    """The installed PyTorch version, or None."""
    torch = _torch()[0]
    return None if torch is None else str(torch.__version__)


# -- the check ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class VariableCheck:
    """The numeric check of one closed form.

    Attributes:
        var: "X", "W" or "b".
        formula: the closed form that was evaluated (a notation tree).
        shape: the variable's shape, e.g. (M, D) for W in torch.
        closed: the closed form's value, or None when it could not be evaluated.
        fd_error: max |closed − finite difference| (inf when the shapes differ).
        fd_tol: the tolerance fd_error was held to.
        torch_error: max |closed − torch.autograd|; None when PyTorch is not installed.
        torch_tol: the tolerance torch_error was held to (None without PyTorch).
        problem: why the formula could not be compared ("" when it could).
    """

    var: str
    formula: Node
    shape: tuple[int, ...]
    closed: Array | None
    fd_error: float
    fd_tol: float
    torch_error: float | None = None
    torch_tol: float | None = None
    problem: str = ""

    @property
    def passed(self) -> bool:
        """Within tolerance against finite differences and (if installed) autograd."""
        if self.problem or not self.fd_error <= self.fd_tol:
            return False
        if self.torch_error is None or self.torch_tol is None:
            return True
        return self.torch_error <= self.torch_tol


@dataclass(frozen=True, eq=False)
class VerifyReport:
    """What :func:`verify` found: the instance, L and one check per variable.

    Attributes:
        instance: the random instance the formulas were evaluated at.
        loss_value: L at the instance.
        checks: one VariableCheck per requested variable, in the order X, W, b.
        torch_version: the PyTorch version used, or None when it is not installed.
    """

    instance: Instance
    loss_value: float
    checks: tuple[VariableCheck, ...]
    torch_version: str | None = None

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[VariableCheck, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.passed)


def _error(value: Array | None, ref: Array, rtol: float) -> tuple[float, float]:
    """max |value − ref| (inf without a value or when the shapes differ) and its
    tolerance, relative to ref: rtol · max(1, max|ref|)."""
    tol = rtol * max(1.0, float(np.max(np.abs(ref))))
    if value is None or value.shape != ref.shape:
        return float("inf"), tol
    return float(np.max(np.abs(value - ref))), tol


def estimate_flops(n: int, d: int, m: int) -> float:
    """Rough cost of the finite differences: 2 forward passes per entry of X, W, b."""
    entries = n * d + d * m + m
    return 2.0 * entries * (n * d * m + 3.0 * n * m)


#: Seconds of one loss evaluation beyond its flops (measured, one BLAS thread): a fixed
#: cost for the NumPy calls, and a cost per element of the (N, M) arrays and of X and W
#: that every evaluation builds or reads. Skewed shapes (N = 48 000, D = M = 1) are all
#: elements and calls, few flops.
_SECONDS_PER_CALL = 12e-6
_SECONDS_PER_OUTPUT = 10e-9
_SECONDS_PER_INPUT = 1e-9


def estimate_seconds(n: int, d: int, m: int) -> float:
    """The time of the finite differences: 2 loss evaluations per entry of X, W and b.

    Each evaluation costs its flops (:func:`estimate_flops`), the NumPy calls and a pass
    over its arrays; good to about a factor of two from cubes to N = 48 000, D = M = 1.
    """
    evaluations = 2.0 * (n * d + d * m + m)
    each = (
        _SECONDS_PER_CALL
        + _SECONDS_PER_OUTPUT * n * m
        + _SECONDS_PER_INPUT * (n * d + d * m)
    )
    return evaluations * each + estimate_flops(n, d, m) / _FLOPS_PER_SECOND


def refuse_fd(
    what: str, flops: float, force: bool, seconds: float | None = None
) -> None:
    """Refuse the finite differences of ``what`` (one layer's or a network's sizes, as
    given) when their ``flops``, or ``seconds`` where estimated apart, are too many.

    Raises:
        TooLargeError: above FLOP_LIMIT's time (unless ``force``), or above a hard limit.
    """
    time = flops / _FLOPS_PER_SECOND if seconds is None else seconds
    hard = flops > _HARD_LIMIT or time > _HARD_LIMIT / _FLOPS_PER_SECOND
    if hard or (time > FLOP_LIMIT / _FLOPS_PER_SECOND and not force):
        how = "use smaller sizes" if hard else "use --force or smaller sizes"
        took = "" if seconds is None else f", ~{seconds:,.0f} s"
        raise TooLargeError(
            f"{what} is too large to verify by finite differences "
            f"(about {flops:.1e} flops{took}); {how}"
        )


def verify(
    n: int = 2,
    d: int = 2,
    m: int = 3,
    convention: str = "xw",
    loss: str = "generic",
    seed: int = 0,
    wrt: str | Iterable[str] = VARIABLES,
    *,
    formulas: Mapping[str, Node] | None = None,
    use_torch: bool = True,
    force: bool = False,
) -> VerifyReport:
    """Check the closed forms numerically on a random float64 instance.

    For each variable V in ``wrt`` the closed form ∂L/∂V (from
    :meth:`Convention.closed_form`, or ``formulas[V]`` to test another formula) is
    evaluated at the instance and compared with central finite differences of L and,
    when PyTorch is installed and ``use_torch``, with ``torch.autograd``.

    Args:
        n, d, m: sizes N, D, M, each >= 1.
        convention: xw, torch, column or wx.
        loss: generic (L = Σ dY ⊙ Y), mse (1/(2N) Σ‖y_i − t_i‖²) or sum (Σ y_ij).
        seed: seed of ``numpy.random.default_rng``, an integer >= 0.
        wrt: the variables to check, "X,W,b" or an iterable of them.
        formulas: replacement formulas by variable (tests use this to see a wrong
            formula fail).
        use_torch: compare with torch.autograd when PyTorch is installed.
        force: run even above FLOP_LIMIT.

    Returns:
        The report; ``report.passed`` says whether every check passed.

    Raises:
        UsageError: bad sizes, convention, loss, seed or wrt.
        TooLargeError: the finite differences would take too long.

    >>> report = verify(1, 2, 3, "xw", "sum", seed=0, use_torch=False)
    >>> report.passed, [c.var for c in report.checks]
    (True, ['X', 'W', 'b'])
    """
    n, d, m = (check_size(k, v) for k, v in (("n", n), ("d", d), ("m", m)))
    variables = parse_wrt(wrt)
    sizes = f"--n {n} --d {d} --m {m}"
    refuse_fd(sizes, estimate_flops(n, d, m), force, estimate_seconds(n, d, m))
    instance = draw_instance(n, d, m, convention, loss, seed)
    conv = instance.convention
    values = instance.values()
    grads = torch_gradients(instance) if use_torch else None

    checks = []
    for var in variables:
        given = (formulas or {}).get(var)
        formula = conv.closed_form(var) if given is None else given
        fd = _fd_gradient(instance, var)
        closed: Array | None = None
        try:
            closed = evaluate(formula, values, instance.sizes)
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"cannot evaluate: {exc}"
        else:
            problem = ""
            if closed.shape != fd.shape:
                problem = f"shape {closed.shape}, but {var} is {fd.shape}"
        # compared with autograd only when it could be evaluated in the right shape
        torch_found: tuple[float | None, float | None] = (None, None)
        if grads is not None and not problem:
            torch_found = _error(closed, grads[var], TORCH_RTOL)
        found = (closed, *_error(closed, fd, FD_RTOL), *torch_found, problem)
        checks.append(VariableCheck(var, formula, fd.shape, *found))
    return VerifyReport(
        instance,
        instance.loss_value(values["Y"]),
        tuple(checks),
        torch_version() if grads is not None else None,
    )
