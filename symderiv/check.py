"""Check a student's formula for ∂L/∂X, ∂L/∂W or ∂L/∂b against the derivation.

The formula is parsed safely (:mod:`symderiv.formula`, never ``eval``), its shape checked
at the given sizes, and, when the shape is right, its value compared entry by entry with
the engine's chain-rule result (``derive(...).results[var].derivative``), in denominator
layout (the variable's own shape) with a generic symbolic upstream dY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .conventions import VARIABLES, Config, choose, split_entry
from .formula import (
    Dim,
    Env,
    Formula,
    FormulaShapeError,
    Names,
    Shape,
    SumAxis,
    evaluate,
    format_shape,
    infer,
    parse,
    symbol_matrices,
)

#: Longest entry shown in a message, in characters.
MAX_SHOWN = 400

#: var, config -> (expected derivative, role -> leaf matrix), both sympy.
Expected = Callable[[Config, str], tuple[Any, Callable[[str], Any]]]


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one formula, with what a student (or an autograder) needs.

    Attributes:
        ok: the formula equals the derivative at these sizes.
        var: X, W or b.
        formula: the formula as given.
        sizes: ``N=2, D=2, M=3, convention xw``: what was checked.
        message: the verdict in words; the first line says right or wrong, the next
            lines why (no ✓/✗: the CLI adds them).
        expected_shape: (rows, columns) of ∂L/∂var, the variable's own shape.
        got_shape: the formula's shape; None when it is a scalar or its shapes do not
            fit inside.
        entry: the first entry (1-based row, column) that differs, if any.
        expected_entry, got_entry: the two values there, as text.
        hint: a short suggestion ("did you mean its transpose?"), or "".
    """

    ok: bool
    var: str
    formula: str
    sizes: str
    message: str
    expected_shape: tuple[int, int]
    got_shape: tuple[int, int] | None = None
    entry: tuple[int, int] | None = None
    expected_entry: str | None = None
    got_entry: str | None = None
    hint: str = ""


def engine_expected(config: Config, var: str) -> tuple[Any, Callable[[str], Any]]:
    """∂L/∂var from the derivation engine, and the engine's own X, W, b, Y, dY.

    Returns:
        (derivative as a sympy ImmutableMatrix in var's shape, role -> sympy matrix).
    """
    from .derive import derive

    derivation = derive(config)
    expected = derivation.results[var].derivative.to_sympy()
    own = symbol_matrices(config)
    layer = derivation.layer
    cache: dict[str, Any] = {}

    def leaf(role: str) -> Any:
        if role not in cache:
            cache[role] = own(role) if role == "T" else layer.matrix(role).to_sympy()
        return cache[role]

    return expected, leaf


def check_formula(
    config: Config, var: str, text: str, *, expected: Expected | None = None
) -> CheckResult:
    """Check ``text`` as a formula for ∂L/∂var at ``config``'s sizes and convention.

    Args:
        config: sizes, convention and ``names``; layout, loss and method are ignored
            (the answer is always in var's own shape, with a symbolic upstream dY).
        var: "X", "W" or "b".
        text: the candidate, e.g. ``"X.T @ dY"``.
        expected: where the right answer comes from (default: :func:`engine_expected`).

    Returns:
        A CheckResult: ok, or why not (a shape inside or at the end that does not fit,
        or the first entry that differs, with both values).

    Raises:
        FormulaError: the formula does not parse, uses unknown names or characters, is
            too long, too deep or too large (exit 2).
        ChoiceError: ``var`` is not X, W or b.

    >>> check_formula(Config(n=1, d=2, m=1), "W", "X.T @ dY").ok
    True
    """
    choose(var, VARIABLES, "variable (--wrt)")
    config = replace(
        config, wrt=(var,), layout="denominator", loss="generic", method="jacobian"
    )
    formula = parse(text, Names.for_config(config))
    env = Env.from_config(config)
    sizes = f"{env.sizes_text()}, convention {config.convention}"
    want = env.shape(var)
    want_pair = (want[0].size, want[1].size)
    verdict = _Verdict(formula, var, sizes, want, config.letters.of(var))

    try:
        info = infer(formula, env)
    except FormulaShapeError as exc:
        return verdict.wrong(str(exc))
    if info.shape is None:
        hint = ""
        if isinstance(formula.tree, SumAxis) and formula.tree.axis is None:
            hint = (
                "sum(E) without an axis adds every entry; did you mean sum(E, axis=0)?"
            )
        return verdict.wrong(
            f"it gives a scalar, but dL/d{var} is {format_shape(want)}", hint=hint
        )
    got_pair = (info.shape[0].size, info.shape[1].size)
    if got_pair != want_pair:
        hint = "did you mean its transpose?" if got_pair[::-1] == want_pair else ""
        return verdict.wrong(
            f"it is {format_shape(info.shape)}, but dL/d{var} has the shape of "
            f"{verdict.letter}, {format_shape(want)}",
            got=got_pair,
            hint=hint,
        )

    import sympy as sp

    right, leaf = (expected or engine_expected)(config, var)
    got = evaluate(formula, replace(env, leaf=leaf))
    for i in range(want_pair[0]):
        for j in range(want_pair[1]):
            if not _equal(sp, right[i, j], got[i, j]):
                return verdict.wrong(
                    f"entry ({i + 1}, {j + 1}): expected {_show(right[i, j])}, "
                    f"got {_show(got[i, j])}",
                    got=got_pair,
                    entry=(i + 1, j + 1),
                    values=(_show(right[i, j]), _show(got[i, j])),
                    hint=_hint(sp, right, got),
                )
    return CheckResult(
        ok=True,
        var=var,
        formula=text,
        sizes=sizes,
        expected_shape=want_pair,
        got_shape=got_pair,
        message=f"dL/d{var} = {_clip(' '.join(text.split()))} is right ({sizes}).",
    )


@dataclass(frozen=True)
class _Verdict:
    """Builds the CheckResult of a wrong answer."""

    formula: Formula
    var: str
    sizes: str
    want: Shape
    letter: str

    def wrong(
        self,
        why: str,
        *,
        got: tuple[int, int] | None = None,
        entry: tuple[int, int] | None = None,
        values: tuple[str, str] | None = None,
        hint: str = "",
    ) -> CheckResult:
        text = _clip(" ".join(self.formula.text.split()))
        lines = [f"dL/d{self.var} = {text} is not right ({self.sizes}).", f"  {why}"]
        if hint:
            lines.append(f"  hint: {hint}")
        return CheckResult(
            ok=False,
            var=self.var,
            formula=self.formula.text,
            sizes=self.sizes,
            message="\n".join(lines),
            expected_shape=_pair(self.want),
            got_shape=got,
            entry=entry,
            expected_entry=values[0] if values else None,
            got_entry=values[1] if values else None,
            hint=hint,
        )


def _pair(shape: tuple[Dim, Dim]) -> tuple[int, int]:
    return shape[0].size, shape[1].size


def _equal(sp: Any, a: Any, b: Any) -> bool:
    """a == b as polynomials (identical sympy trees are equal without expanding)."""
    return bool(a == b or sp.expand(a - b) == 0)


_ORDER = {"X": 0, "dY": 1, "Y": 2, "W": 3, "b": 4, "T": 5}


def _factor_key(symbol: Any) -> tuple[int, tuple[int, ...], str]:
    """x before dy before w before b, then by index numerically (x_2_1 before x_10_1)."""
    name = str(symbol)
    try:
        role, index = split_entry(name)
    except ValueError:
        return (9, (), name)
    return (_ORDER.get(role, 9), index, name)


def _show(value: Any) -> str:
    """An entry as text, terms and factors in reading order: x_1_1*dy_1_2 + x_2_1*dy_2_2."""
    import sympy as sp

    expr = sp.expand(value)
    if not expr.is_polynomial():
        return _clip(str(sp.sstr(expr)))
    terms = []
    for term in sp.Add.make_args(expr):
        coeff, rest = term.as_coeff_Mul()
        powers = sorted(rest.as_powers_dict().items(), key=lambda p: _factor_key(p[0]))
        factors = [str(b) if e == 1 else f"{b}**{e}" for b, e in powers if b != 1]
        terms.append((tuple(_factor_key(b) for b, _ in powers), coeff, factors))
    terms.sort(key=lambda t: t[0])
    text = ""
    for _, coeff, factors in terms:
        magnitude = abs(coeff)
        body = "*".join(factors)
        if not body:
            body = str(magnitude)
        elif magnitude != 1:
            body = f"{magnitude}*{body}"
        if not text:
            text = f"-{body}" if coeff < 0 else body
        else:
            text += f" - {body}" if coeff < 0 else f" + {body}"
    return _clip(text or "0")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _hint(sp: Any, right: Any, got: Any) -> str:
    """A guess at what went wrong when the shape is right but entries are not."""

    def same(a: Any, b: Any) -> bool:
        return all(_equal(sp, x, y) for x, y in zip(a, b, strict=True))

    if right.shape[0] == right.shape[1] and same(right.T, got):
        return "you have its transpose: a .T is missing or misplaced"
    if same(-right, got):
        return "the sign is wrong"
    k = next((j for j, value in enumerate(right) if sp.expand(value) != 0), None)
    if k is not None:
        ratio = sp.cancel(got[k] / right[k])
        if ratio.is_number and ratio != 0 and same(ratio * right, got):
            return f"it is {ratio} times the right answer"
    return ""


__all__ = ["CheckResult", "Expected", "check_formula", "engine_expected"]
