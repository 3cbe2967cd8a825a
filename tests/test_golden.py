"""Golden files: the exact text and JSON of a few derivations (pytest --update-golden)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from symderiv import derive, render

CASES = [(1, 1, 1), (2, 2, 3), (3, 2, 1), (1, 11, 2)]


@pytest.mark.parametrize("size", CASES, ids=lambda s: "x".join(map(str, s)))
def test_json_golden(
    size: tuple[int, int, int], golden: Callable[[str, str], None]
) -> None:
    n, d, m = size
    golden(f"affine_{n}x{d}x{m}.json", render(derive(n=n, d=d, m=m), "json"))


@pytest.mark.parametrize(
    "size", [(1, 1, 1), (2, 2, 3)], ids=lambda s: "x".join(map(str, s))
)
def test_text_golden(
    size: tuple[int, int, int], golden: Callable[[str, str], None]
) -> None:
    n, d, m = size
    golden(f"affine_{n}x{d}x{m}.txt", render(derive(n=n, d=d, m=m), "text", width=100))
