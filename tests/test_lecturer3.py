"""The lecturer's round: the generated Linear takes a 1-D bias, the tanh network's
matrices in full at 80 columns, and ``symderiv.render`` is the printers' package."""

from __future__ import annotations

import importlib

import pytest


# -- symderiv.render: the package, callable as render(d, fmt) ----------------------------
def test_render_submodules_import_under_their_own_names() -> None:
    """``import symderiv.render.beamer as B`` gives the module (the function ``render``
    no longer shadows the package), and the function is still there."""
    import symderiv
    import symderiv.render.beamer as B
    import symderiv.render.terminal as T
    from symderiv.render import render

    assert B is importlib.import_module("symderiv.render.beamer")
    assert callable(B.render_beamer) and callable(T.render_text)
    assert symderiv.render is importlib.import_module("symderiv.render")
    assert symderiv.render.beamer is B
    d = symderiv.derive(n=1, d=1, m=1)
    assert symderiv.render(d, "latex") == render(d, "latex")  # callable as before


def test_the_package_calls_a_patched_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """``symderiv.render(...)`` calls the package's ``render`` of the moment."""
    import symderiv

    package = importlib.import_module("symderiv.render")
    monkeypatch.setattr(package, "render", lambda *args, **kwargs: "patched")
    assert symderiv.render(symderiv.derive(n=1, d=1, m=1), "text") == "patched"
