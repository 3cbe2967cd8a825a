"""``symderiv check``: is a student's formula for ∂L/∂X, ∂L/∂W or ∂L/∂b right, in general?

Four steps, one module each:

- :mod:`.grammar`: the student's numpy, tokenized and parsed safely (never ``eval``) into
  :mod:`symderiv.notation` nodes plus a few student-only ones;
- :mod:`.shapes`: numpy's shapes of every node, and a bound on the work, before any
  arithmetic (a shape that does not fit is a wrong answer, explained);
- :mod:`.values`: the exact value, with symderiv's own algebra (no sympy);
- :mod:`.verdict`: the check at the given sizes and at further ones, against the engine's
  result, with a reason code, a message and a hint.

>>> from symderiv.conventions import Config
>>> check_formula(Config(n=2, d=3, m=4), "b", "np.sum(dout, axis=0)").ok
True
"""

from __future__ import annotations

from .grammar import (
    CheckConfig,
    FormulaLimitError,
    FormulaShapeError,
    FormulaSyntaxError,
    Names,
    numpy_text,
    parse,
)
from .shapes import Env, format_shape, infer
from .values import evaluate
from .verdict import (
    REASONS,
    CheckResult,
    Triple,
    check_dict,
    check_formula,
    further_sizes,
    gradient_of,
    parse_error_dict,
    readable,
    resolve_variable,
    variable_choices,
    variable_names,
)

__all__ = [
    "REASONS",
    "CheckConfig",
    "CheckResult",
    "Env",
    "FormulaLimitError",
    "FormulaShapeError",
    "FormulaSyntaxError",
    "Names",
    "Triple",
    "check_dict",
    "check_formula",
    "evaluate",
    "format_shape",
    "further_sizes",
    "gradient_of",
    "infer",
    "numpy_text",
    "parse",
    "parse_error_dict",
    "readable",
    "resolve_variable",
    "variable_choices",
    "variable_names",
]
