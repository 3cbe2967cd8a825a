"""The examples in the package's docstrings run and print what they say.

Docstrings are where a reader first meets the API (``help(symderiv.derive)``); an example
that no longer matches the code is worse than none. Each module's doctests run here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import symderiv

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(symderiv.__path__, prefix="symderiv.")
    if info.name != "symderiv.__main__"  # running it would start the CLI
)


def test_the_package_is_walked() -> None:
    assert {"symderiv.derive", "symderiv.render.latex", "symderiv.net.engine"} <= set(
        MODULES
    )


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) of {name} failed"
