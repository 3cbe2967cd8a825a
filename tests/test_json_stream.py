"""The JSON document is streamed, and the stream is byte for byte ``json.dumps``.

``symderiv.render.data`` writes the document itself (so that the big tables become text
row by row while they are written) instead of ``json.dumps`` of one big dict; here its
output is compared with ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`` on
random JSON values and on derivations (with table batches of every small size, so that
each batch boundary is crossed), and ``write_atomic`` is checked with chunks: the same
file, and nothing left behind when producing a chunk fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv import Config, derive, fileio
from symderiv.cli import cli
from symderiv.fileio import write_atomic
from symderiv.render import data
from symderiv.render.data import derivation_to_dict, iter_json, render_json


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


# -- the writer against json.dumps --------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=40,
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(values)
def test_any_json_value_is_written_as_json_dumps_writes_it(value: Any) -> None:
    assert "".join(data._encode(value, 0)) == dumps(value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.integers() | st.booleans() | st.none(), scalars, max_size=4))
def test_keys_that_are_not_strings_too(value: dict[Any, Any]) -> None:
    try:
        expected = dumps(value)
    except TypeError:  # keys of mixed types cannot be sorted by json.dumps either
        with pytest.raises(TypeError):
            "".join(data._encode(value, 0))
        return
    assert "".join(data._encode(value, 0)) == expected


def test_values_json_cannot_write_fail_alike() -> None:
    with pytest.raises(TypeError):
        "".join(data._encode({"a": object()}, 0))


# -- derivations --------------------------------------------------------------------------
CONFIGS = [
    Config(n=2, d=2, m=3),
    Config(n=1, d=1, m=1),
    Config(n=3, d=2, m=4, loss="mse", convention="column", layout="numerator"),
    Config(n=2, d=3, m=2, loss="sum", convention="torch", vec="col"),
    Config(n=2, d=2, m=2, method="all", loss="mse"),
    Config(n=3, d=1, m=2, wrt="W", names="X=A1,Y=Z,dY=dLdZ"),
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("batch", [1, 2, 3, 5, 2048])
def test_the_stream_is_json_dumps_of_the_document(
    config: Config, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "_BATCH", batch)
    derivation = derive(config)
    expected = dumps(derivation_to_dict(derivation)) + "\n"
    chunks = list(iter_json(derivation))
    assert "".join(chunks) == expected
    assert render_json(derivation) == expected
    assert derivation.to_json() == expected


def test_big_tables_come_in_many_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "_BATCH", 64)  # rows or nonzeros per chunk
    chunks = list(iter_json(derive(n=12, d=12, m=12)))
    assert len(chunks) > 50
    assert max(len(c) for c in chunks) < len("".join(chunks)) // 10


def test_other_indents_still_go_through_json_dumps() -> None:
    derivation = derive(n=2, d=1, m=2)
    document = derivation_to_dict(derivation)
    for indent in (None, 0, 4):
        expected = json.dumps(
            document, indent=indent, sort_keys=True, ensure_ascii=False
        )
        assert render_json(derivation, indent=indent) == expected + "\n"


# -- writing chunks -----------------------------------------------------------------------
def test_write_atomic_takes_chunks(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_atomic(target, iter(["{", '"ä": ', "1", "}\n"]))
    assert target.read_text(encoding="utf-8") == '{"ä": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_failing_chunk_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_text("old\n")

    def chunks() -> Iterator[str]:
        yield "new " * 1_000_000  # more than one piece is written before the failure
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, chunks())
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_derive_writes_the_json_file_streamed(
    tmp_path: Path, runner: CliRunner
) -> None:
    target = tmp_path / "f.json"
    argv = ["derive", "--n", "3", "--d", "2", "--m", "4", "--loss", "mse"]
    done = runner.invoke(cli, [*argv, "--format", "json", "-o", str(target)])
    assert done.exit_code == 0, done.output
    expected = render_json(derive(n=3, d=2, m=4, loss="mse"))
    assert target.read_text(encoding="utf-8") == expected
    done = runner.invoke(cli, [*argv, "--format", "json"])
    assert done.exit_code == 0
    assert done.stdout == expected


def test_ctrl_c_in_the_middle_of_the_stream_leaves_the_old_file(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.json"
    target.write_text("old\n")
    monkeypatch.setattr(data, "_BATCH", 4)
    monkeypatch.setattr(fileio, "_PIECE", 16)  # written to the temporary file at once
    rows = data._Nonzeros.rows

    def interrupted(self: data._Nonzeros) -> Iterator[list[Any]]:
        for k, row in enumerate(rows(self)):
            if k == 10:  # the start of the document is in the temporary file
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(data._Nonzeros, "rows", interrupted)
    argv = ["derive", "--n", "3", "--d", "3", "--m", "3", "--format", "json"]
    done = runner.invoke(cli, [*argv, "-o", str(target)])
    assert done.exit_code == 130
    assert done.stderr == "Error: interrupted (Ctrl-C); no partial file was left.\n"
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
