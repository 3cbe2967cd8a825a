"""Grading: JSON and the platforms' results.json, a whole class in one run, a student's function.

The platform formats are checked against the fields their documentation lists:
Gradescope's autograder specification (https://gradescope-autograders.readthedocs.io/en/
latest/specs/, "Output format") and PrairieLearn's external grading docs
(docs/externalGrading.md, "Grading results").
"""

from __future__ import annotations

import csv
import functools
import io
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from symderiv import grade
from symderiv.check import REASONS
from symderiv.cli import cli
from symderiv.errors import UsageError

# -- the platforms' documented fields ----------------------------------------------------------
GRADESCOPE_TOP = {
    "score": (int, float),
    "execution_time": (int, float),
    "output": str,
    "output_format": str,
    "test_output_format": str,
    "test_name_format": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
    "leaderboard": list,
}
GRADESCOPE_TEST = {
    "score": (int, float),
    "max_score": (int, float),
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
    "extra_data": dict,
}
GRADESCOPE_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
PRAIRIELEARN_TOP = {
    "gradable": bool,
    "score": (int, float),
    "message": str,
    "output": str,
    "images": list,
    "tests": list,
    "format_errors": (str, list),
}
PRAIRIELEARN_TEST = {
    "name": str,
    "description": str,
    "points": (int, float),
    "max_points": (int, float),
    "message": str,
    "output": str,
    "images": list,
}


def _fields(obj: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    unknown = set(obj) - set(schema)
    assert not unknown, f"{where}: fields the platform does not document: {unknown}"
    for key, value in obj.items():
        assert isinstance(value, schema[key]), (where, key, value)
        assert not isinstance(value, bool) or schema[key] is bool, (where, key)


def validate_gradescope(doc: dict[str, Any]) -> None:
    """Gradescope's results.json: a score at the top or on every test."""
    _fields(doc, GRADESCOPE_TOP, "results.json")
    tests = doc.get("tests", [])
    assert "score" in doc or (tests and all("score" in t for t in tests))
    for fmt_key in ("output_format", "test_output_format"):
        assert doc.get(fmt_key, "text") in GRADESCOPE_FORMATS
    for test in tests:
        _fields(test, GRADESCOPE_TEST, "tests[]")
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("output_format", "text") in GRADESCOPE_FORMATS
        if "max_score" in test:
            assert 0 <= test["score"] <= test["max_score"]


def validate_prairielearn(doc: dict[str, Any]) -> None:
    """PrairieLearn's results.json: score in [0, 1] unless gradable is false; < 1 MB."""
    _fields(doc, PRAIRIELEARN_TOP, "results.json")
    assert len(json.dumps(doc).encode()) < 1_000_000
    if doc.get("gradable", True):
        assert 0.0 <= doc["score"] <= 1.0
        assert "format_errors" not in doc
    else:
        errors = doc["format_errors"]
        assert isinstance(errors, str) or all(isinstance(e, str) for e in errors)
    for test in doc.get("tests", []):
        _fields(test, PRAIRIELEARN_TEST, "tests[]")
        assert 0 <= test["points"] <= test["max_points"]


def validate_json(doc: dict[str, Any]) -> None:
    """symderiv's own result object (issue: ok, gradable, reason, message, hint, ...)."""
    for key in (
        "ok",
        "gradable",
        "reason",
        "message",
        "hint",
        "sizes",
        "expected_shape",
        "got_shape",
        "entry",
        "score",
        "variable",
        "formula",
        "convention",
    ):
        assert key in doc, key
    assert doc["reason"] in REASONS
    assert doc["ok"] == (doc["reason"] == "ok")
    assert doc["gradable"] == (doc["reason"] != "parse")
    if doc["entry"] is not None:
        assert {"index", "expected", "got"} <= set(doc["entry"])


CASES = [
    (["--wrt", "W", "X.T @ dY"], 0, "ok"),
    (["--wrt", "W", "dY.T @ X"], 1, "transpose"),
    (["--wrt", "b", "np.mean(dout, axis=0)"], 1, "scale"),
    (["--wrt", "X", "--", "-dY @ W.T"], 1, "sign"),
    (["--n", "2", "--d", "2", "--m", "3", "--wrt", "b", "ones(D).T @ dY"], 1, "sizes"),
    (["--convention", "column", "--wrt", "b", "np.sum(dLdZ, axis=0)"], 1, "shape"),
    (["--wrt", "W", "X.T @ dY + X.T @ dY @ np.ones((M, M))"], 1, "entry"),
    (["--wrt", "W", "X.T @@ dY"], 2, "parse"),
    (["--wrt", "W", "np.exp(X)"], 2, "parse"),
]


@pytest.mark.parametrize(("args", "code", "reason"), CASES)
def test_formats_validate_and_keep_the_exit_codes(
    runner: CliRunner, args: list[str], code: int, reason: str
) -> None:
    outputs = {}
    for fmt in ("json", "gradescope", "prairielearn"):
        result = runner.invoke(cli, ["check", "--format", fmt, *args])
        assert result.exit_code == code, (fmt, result.output)
        assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
        outputs[fmt] = json.loads(result.stdout)
    data = outputs["json"]
    validate_json(data)
    assert data["reason"] == reason and data["gradable"] == (code != 2)
    validate_gradescope(outputs["gradescope"])
    test = outputs["gradescope"]["tests"][0]
    assert test["status"] == ("passed" if code == 0 else "failed")
    assert test["output"] == data["message"]
    validate_prairielearn(outputs["prairielearn"])
    if code == 2:
        assert outputs["prairielearn"]["gradable"] is False
        assert outputs["prairielearn"]["format_errors"] == [data["message"]]
    else:
        assert outputs["prairielearn"]["score"] == (1.0 if code == 0 else 0.0)


def test_json_names_the_sizes_shapes_and_the_first_differing_entry(
    runner: CliRunner,
) -> None:
    result = runner.invoke(
        cli, ["check", "--format", "json", "--wrt", "b", "np.mean(dout, axis=0)"]
    )
    data = json.loads(result.stdout)
    # checked until first wrong: at the sizes given only
    assert data["sizes"] == [{"N": 2, "D": 3, "M": 4}]
    assert data["failed_at"] == {"N": 2, "D": 3, "M": 4}
    assert data["expected_shape"] == [1, 4] and data["got_shape"] == [4]
    assert data["accepted_shapes"] == [[1, 4], [4]]
    assert data["entry"] == {
        "index": [1],  # got_shape is 1-D
        "expected": "∂L/∂y₁,₁ + ∂L/∂y₂,₁",
        "got": "1/2·∂L/∂y₁,₁ + 1/2·∂L/∂y₂,₁",
        "expected_canonical": "dy_1_1 + dy_2_1",
        "got_canonical": "(dy_1_1 + dy_2_1)/2",
    }


def test_gradescope_points_and_an_output_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "results.json"
    result = runner.invoke(
        cli,
        [
            "check",
            "--format",
            "gradescope",
            "--points",
            "2.5",
            "--wrt",
            "W",
            "X.T @ dY",
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0 and result.stdout == ""
    doc = json.loads(target.read_text(encoding="utf-8"))
    validate_gradescope(doc)
    assert (
        doc["score"] == doc["tests"][0]["score"] == doc["tests"][0]["max_score"] == 2.5
    )


@pytest.mark.parametrize("points", ["nan", "inf", "-inf", "-1"])
def test_gradescope_points_must_be_finite(runner: CliRunner, points: str) -> None:
    # nan and inf passed FloatRange(min=0) and printed "score": NaN, not JSON
    args = ["check", "--format", "gradescope", "--wrt", "W", "X.T @ dY"]
    result = runner.invoke(cli, [*args, "--points", points])
    assert result.exit_code == 2 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "--points" in last and points.lstrip("-") in last
    data = grade.formula("X.T @ dY", "W").to_dict()
    with pytest.raises(UsageError, match="finite"):
        grade.gradescope(data, float(points))


# -- a whole class -------------------------------------------------------------------------------
GOOD = [
    ("W", "X.T @ dY"),
    ("W", "np.dot(X.T, dout)"),
    ("X", "dY @ W.T"),
    ("b", "np.sum(dout, axis=0)"),
    ("b", "np.mean(dout, axis=0)"),
    ("W", "dY.T @ X"),
    ("b", "ones(D).T @ dY"),
]
MALFORMED = [
    {"variable": "W", "formula": "X.T @@ dY"},
    {"variable": "Q", "formula": "X.T @ dY"},
    {"variable": "W"},
    {"variable": "W", "formula": "X.T @ dY", "convention": "nope"},
    {"variable": "W", "formula": "X.T @ dY", "n": "zero"},
    {"variable": "W", "formula": "X.T @ dY", "sizes": "2x3"},
    {"variable": "W", "formula": "__import__('os')"},
    {"formula": "X.T @ dY"},
]


def _rows(
    count: int, bad_share: float, seed: int = 0
) -> tuple[list[dict[str, Any]], set[str]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    bad: set[str] = set()
    for k in range(count):
        ident = f"s{k:04d}"
        if rng.random() < bad_share:
            row = {"id": ident, **rng.choice(MALFORMED)}
            bad.add(ident)
        else:
            var, text = rng.choice(GOOD)
            row = {"id": ident, "variable": var, "formula": text}
            if rng.random() < 0.3:
                row["convention"] = "xw"
                row["sizes"] = rng.choice(["2x3x4", "3x2x5"])
        rows.append(row)
    return rows, bad


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_batch_of_1000_rows_with_malformed_ones(
    runner: CliRunner, tmp_path: Path, kind: str
) -> None:
    rows, bad = _rows(1000, 0.05)
    assert 30 <= len(bad) <= 80
    source = tmp_path / f"class.{kind}"
    if kind == "jsonl":
        source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        keys = ["id", "variable", "formula", "convention", "sizes", "n"]
        with source.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, keys)
            writer.writeheader()
            writer.writerows(rows)
    target = tmp_path / "results.jsonl"
    result = runner.invoke(cli, ["check", "--batch", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    results = [
        json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()
    ]
    assert len(results) == 1000
    assert [r["id"] for r in results] == [r["id"] for r in rows]
    for row, out in zip(rows, results, strict=True):
        validate_json(out) if out["reason"] != "row" else None
        if row["id"] in bad:
            assert out["gradable"] is False, (row, out)
            assert out["reason"] in ("parse", "row") and out["message"]
        else:
            assert out["gradable"] is True, (row, out)
    verdicts = {
        (r["variable"], r["formula"], r["ok"]) for r in results if r["gradable"]
    }
    assert ("W", "X.T @ dY", True) in verdicts and (
        "b",
        "np.mean(dout, axis=0)",
        False,
    ) in verdicts


def test_batch_lines_that_are_not_rows_never_stop_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = tmp_path / "class.jsonl"
    source.write_text(
        '{"id": 1, "variable": "W", "formula": "X.T @ dY"}\n'
        "not json\n"
        "[1, 2]\n"
        "\n"
        '{"id": 4, "variable": "b", "formula": "dY.sum(0)", "n": 3, "d": 2, "m": 5}\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["check", "--batch", str(source)])
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["line"], r["gradable"], r["ok"]) for r in out] == [
        (1, 1, True, True),
        (None, 2, False, False),
        (None, 3, False, False),
        (4, 5, True, True),
    ]
    assert out[3]["sizes"][0] == {"N": 3, "D": 2, "M": 5}


def test_batch_of_a_csv_with_a_ragged_line(tmp_path: Path) -> None:
    source = tmp_path / "class.csv"
    source.write_text(
        'id,variable,formula\na,W,"X.T @ dY"\nb,W\nc,b,"np.sum(dY, axis=0)"\n',
        encoding="utf-8",
    )
    out = list(grade.batch(grade.read_rows(str(source))))
    assert [(r["id"], r["gradable"], r["ok"]) for r in out] == [
        ("a", True, True),
        ("b", False, False),  # the id is kept, so the grade reaches the student
        ("c", True, True),
    ]
    assert "has 2 fields" in out[1]["message"]


def test_batch_reads_a_formula_with_unquoted_commas(tmp_path: Path) -> None:
    # a spreadsheet or a shell loop writes np.sum(dY, axis=0) without quotes: only a
    # formula has commas, so the surplus fields are its own
    source = tmp_path / "class.csv"
    source.write_text(
        "id,variable,formula\ns1,b,np.sum(dY, axis=0)\ns2,b,np.sum(dY,axis=0,keepdims=True)\n"
        "s3,b,np.mean(dY, axis=0)\n",
        encoding="utf-8",
    )
    out = list(grade.batch(grade.read_rows(str(source))))
    assert [(r["id"], r["ok"], r["reason"]) for r in out] == [
        ("s1", True, "ok"),
        ("s2", True, "ok"),
        ("s3", False, "scale"),
    ]
    assert out[0]["formula"] == "np.sum(dY, axis=0)"
    middle = tmp_path / "middle.csv"
    middle.write_text(
        "formula,variable,id\nnp.sum(dY, axis=0),b,s4\n", encoding="utf-8"
    )
    (row,) = grade.batch(grade.read_rows(str(middle)))
    assert (row["id"], row["ok"], row["formula"]) == ("s4", True, "np.sum(dY, axis=0)")


def test_batch_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(cli, ["check", "--batch", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "cannot be read: no such file" in missing.stderr
    source = tmp_path / "a.csv"
    source.write_text("id,variable,formula\n", encoding="utf-8")
    both = runner.invoke(cli, ["check", "--batch", str(source), "--wrt", "W"])
    assert both.exit_code == 2 and "give neither FORMULA nor --wrt" in both.stderr
    fmt = runner.invoke(
        cli, ["check", "--batch", str(source), "--format", "gradescope"]
    )
    assert fmt.exit_code == 2
    empty = runner.invoke(cli, ["check", "--batch", str(source)])
    assert (
        empty.exit_code == 2 and empty.stdout == ""
    )  # a usage error, said in one line
    assert "has no rows to check" in empty.stderr


# -- the Python API --------------------------------------------------------------------------------
def test_formula_api() -> None:
    assert grade.formula("X.T @ dY", "W").ok
    result = grade.formula("dLdZ @ W", "dLdA", convention="column", n=3, d=2, m=4)
    assert result.ok and result.letter == "A"


def affine_backward_mean(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    """A CS231n-style submission with the classic bias bug."""
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.mean(dout, axis=0)


def affine_backward(dout: Any, cache: Any) -> tuple[Any, Any, Any]:
    x, w, b = cache
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def test_function_catches_a_mean_for_db_and_names_the_first_wrong_entry() -> None:
    report = grade.function(lambda s: affine_backward_mean(s.dout, (s.X, s.W, s.b)))
    assert not report.ok
    assert report.results["X"].ok and report.results["W"].ok
    db = report.results["b"]
    assert db.reason == "scale" and db.entry == (1,)
    assert db.expected_entry == "∂L/∂y₁,₁ + ∂L/∂y₂,₁"
    assert db.got_entry == "1/2·∂L/∂y₁,₁ + 1/2·∂L/∂y₂,₁"
    assert "a mean where a sum belongs?" in db.message
    assert "∂L/∂b from the function is not right" in report.message


def test_function_passes_a_right_backward_in_every_convention() -> None:
    assert grade.function(lambda s: affine_backward(s.dout, (s.X, s.W, s.b))).ok

    def torch_style(s: Any) -> dict[str, Any]:
        return {"X": s.dY @ s.W, "W": s.dY.T @ s.x, "b": s.dY.sum(0)}

    assert grade.function(torch_style, convention="torch").ok

    class Linear:  # the seed-003 "mytorch" class
        def __init__(self, W: Any, b: Any) -> None:
            self.W, self.b = W, b

        def forward(self, A: Any) -> Any:
            self.A, self.N = A, A.shape[0]
            self.Ones = np.ones((self.N, 1))
            return A @ self.W.T + self.Ones @ self.b.T

        def backward(self, dLdZ: Any) -> Any:
            self.dLdW = dLdZ.T @ self.A
            self.dLdb = dLdZ.T @ self.Ones
            return dLdZ @ self.W

    def run(s: Any) -> tuple[Any, Any, Any]:
        layer = Linear(s.W, s.b)
        layer.forward(s.A)
        dA = layer.backward(s.dLdZ)
        return dA, layer.dLdW, layer.dLdb

    report = grade.function(run, convention="column", n=3, d=2, m=4)
    assert report.ok, report.message
    assert report.results["X"].letter == "A"


def test_function_that_hard_codes_a_size_is_caught_at_other_sizes() -> None:
    def hard_coded(s: Any) -> Any:
        return s.dY.T @ np.ones(2)  # N = 2 typed in

    report = grade.function(hard_coded, outputs=("b",), convention="torch")
    assert not report.ok
    assert report.results["b"].reason == "error"  # it raises at N=3
    assert "is right at N=2, D=3, M=4 but not for N=3, D=4, M=5" in report.message


@pytest.mark.slow
def test_a_crash_at_other_sizes_blames_only_the_output_that_crashed() -> None:
    def backward(s: Any) -> tuple[Any, Any, Any]:
        dx = s.dout @ s.W.T
        dw = s.X.T @ s.dout
        db = np.ones(2) @ s.dout  # right at N=2 only; raises at other N
        return dx, dw, db

    report = grade.function(backward)
    assert not report.ok
    assert report.results["X"].ok and report.results["W"].ok
    db = report.results["b"]
    assert not db.ok and db.reason == "error" and db.failed_at == (3, 4, 5)
    assert "at N=3, D=4, M=5" in db.message and "ValueError" in db.message
    assert "at N=3, D=4, M=5" in report.error and "ValueError" in report.error
    # in one returned tuple, the item that raised is found by its column; the others
    # were never stored where they could be read back, so they are not credited
    report = grade.function(
        lambda s: (s.dout @ s.W.T, s.X.T @ s.dout, np.ones(2) @ s.dout)
    )
    assert [r.reason for r in report.results.values()] == ["error"] * 3
    assert not any(r.ok for r in report.results.values())
    x = report.results["X"]
    assert x.message.startswith("∂L/∂X from the function could not be checked at N=3")
    assert "right where it was checked (N=2, D=3, M=4)" in x.message
    assert "no credit" in x.message and "is not right" not in x.message
    assert "could not be checked" not in report.results["b"].message  # b is wrong
    report = grade.function(
        lambda s: {"b": np.ones(2) @ s.dY, "X": s.dY @ s.W, "W": s.dY.T @ s.x},
        convention="torch",
    )
    assert [r.reason for r in report.results.values()] == ["error"] * 3
    assert "could not be checked" in report.results["X"].message
    # raising at the given sizes: the others are not credited either
    report = grade.function(
        lambda s: (s.dout @ s.W.T, s.X.T @ s.dout, np.ones(3) @ s.dout)
    )
    assert not report.results["X"].ok and not report.results["W"].ok
    assert "could not be checked at N=2, D=3, M=4" in report.results["X"].message
    assert report.results["b"].failed_at == (2, 3, 4)

    def shared(s: Any) -> tuple[Any, Any, Any]:
        x = s.X.reshape(2, s.X.shape[1])  # raises before any gradient exists
        return s.dout @ s.W.T, x.T @ s.dout, s.dout.sum(0)

    report = grade.function(shared)
    assert [r.reason for r in report.results.values()] == ["error"] * 3
    assert all("could not be checked" in r.message for r in report.results.values())


@pytest.mark.slow
def test_an_output_computed_before_a_crash_is_judged_where_it_crashed() -> None:
    # the review's case: dX is wrong for every N but 2, db raises for every N but 2
    def wrong_dx(s: Any) -> tuple[Any, Any, Any]:
        x, w, dout = s.X, s.W, s.dout
        n = x.shape[0]
        dx = dout @ w.T * (n - 1)
        dw = x.T @ dout
        db = np.ones(2) @ dout
        return dx, dw, db

    report = grade.function(wrong_dx)
    assert not report.ok
    assert [r.reason for r in report.results.values()] == ["sizes", "ok", "error"]
    assert report.results["X"].failed_at == (3, 4, 5)
    assert "2 times the right answer" in report.results["X"].message
    assert "w₁,₁" in report.results["X"].message  # read back from the run on symbols
    assert report.results["W"].ok and len(report.results["W"].sizes) == 85

    def right_dx(s: Any) -> tuple[Any, Any, Any]:
        x, w, dout = s.X, s.W, s.dout
        dx = dout @ w.T
        dw = x.T @ dout
        grad_b = np.ones(2) @ dout  # raises at N != 2
        return dx, dw, grad_b

    report = grade.function(right_dx)
    assert [r.reason for r in report.results.values()] == ["ok", "ok", "error"]
    assert len(report.results["X"].sizes) == 5  # every size, the crashing ones too

    def changed_after(s: Any) -> tuple[Any, Any, Any]:
        x, w, dout = s.X, s.W, s.dout
        dx = dout @ w.T
        db = np.ones(2) @ dout
        dx = dx * (x.shape[0] - 1)  # after the crash: dx as it was is not the output
        return dx, x.T @ dout, db

    x = grade.function(changed_after).results["X"]
    assert not x.ok and x.reason == "error" and "could not be checked" in x.message

    def looped(s: Any) -> tuple[Any, Any, Any]:
        dx = 0 * (s.dout @ s.W.T)
        for _ in range(2):
            dx = dx + s.dout @ s.W.T / 2  # half done when the next line raises
            db = np.ones(2) @ s.dout
        return dx, s.X.T @ s.dout, db

    x = grade.function(looped).results["X"]
    assert x.reason == "error" and "could not be checked" in x.message

    class Layer:
        def backward(self, s: Any) -> tuple[Any, Any, Any]:
            self.dX = s.dout @ s.W.T
            self.dW = s.X.T @ s.dout
            self.db = np.ones(2) @ s.dout
            return self.dX, self.dW, self.db

    layer = Layer()
    report = grade.function(layer.backward)
    assert [r.reason for r in report.results.values()] == ["ok", "ok", "error"]

    class Late:
        def backward(self, s: Any) -> tuple[Any, Any, Any]:
            self.db = np.ones(2) @ s.dout  # raises before self.dX is set again
            self.dX = s.dout @ s.W.T
            return self.dX, s.X.T @ s.dout, self.db

    late = Late()
    report = grade.function(late.backward)  # self.dX of an earlier call: not read
    assert "could not be checked" in report.results["X"].message


def test_a_function_that_computes_with_the_sizes_is_checked_at_more_sizes() -> None:
    def vanishing(s: Any) -> tuple[Any, Any, Any]:  # wrong, but not at N = 2, 3 or 6
        n = s.X.shape[0]
        dx = s.dout @ s.W.T * (1 + (n - 2) * (n - 3) * (n - 6))
        return dx, s.X.T @ s.dout, s.dout.sum(axis=0)

    report = grade.function(vanishing)
    assert not report.results["X"].ok and report.results["X"].reason == "sizes"

    def plain(s: Any) -> tuple[Any, Any, Any]:
        return s.dout @ s.W.T, s.X.T @ s.dout, s.dout.sum(axis=0)

    assert len(grade.function(plain).results["X"].sizes) == 5  # no sizes: degree 1
    outer = grade.function(lambda s: vanishing(s))  # the code it calls is read too
    assert not outer.results["X"].ok

    def counted(s: Any) -> tuple[Any, Any, Any]:  # N counted in a loop, never named
        k = 0
        for _ in s.X:
            k += 1
        dx = s.dout @ s.W.T * (1 + (k - 2) * (k - 3) * (k - 6))
        return dx, s.X.T @ s.dout, s.dout.sum(axis=0)

    assert not grade.function(counted).results["X"].ok

    class Layer:
        def __call__(self, s: Any) -> tuple[Any, Any, Any]:
            return vanishing(s)

    assert not grade.function(Layer()).results["X"].ok
    # code that cannot be read (what a partial calls) is assumed to use the sizes
    assert not grade.function(functools.partial(vanishing)).results["X"].ok


#: A student's file whose dW is wrong at every N but 2, 3 and 6 (the grid of degree 1
#: has N = 3 and 6 only, so only the degree-6 grid catches it).
FRANK = """\
import numpy as np
def student_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = dout @ w.T
    dw = x.T @ dout * (1 + (N - 2) * (N - 3) * (N - 6))
    db = dout.sum(axis=0)
    return dx, dw, db
"""
#: The same file, right and never reading a size. (student_backward: no global of this
#: file has the name, so only following the module can find its code.)
PLAIN = """\
def student_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
"""


def _load_by_spec(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(
    "route", ["import", "spec", "import_module", "exec", "dict", "object", "getattr"]
)
def test_a_function_reached_through_a_module_or_a_dict_is_read_for_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    # frank.student_backward was read as no code at all (modules were never followed):
    # checked on the degree-1 grid, the wrong dW passed
    import importlib
    import sys
    import types

    (tmp_path / "frank_sub.py").write_text(FRANK)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "frank_sub", raising=False)
    if route in ("import", "import_module", "dict", "object", "getattr"):
        module = importlib.import_module("frank_sub")
    elif route == "spec":
        module = _load_by_spec(tmp_path / "frank_sub.py")
    else:
        namespace: dict[str, Any] = {}
        exec(FRANK, namespace)  # noqa: S102 - the student's file, as a grader runs it
        module = types.SimpleNamespace(**namespace)

    def call(f: Any, s: Any) -> Any:
        return f(s.dout, (s.X, s.W, s.b))

    if route in ("import", "spec", "import_module"):
        student = lambda s: call(module.student_backward, s)  # noqa: E731
    elif route == "exec":
        student = lambda s: call(namespace["student_backward"], s)  # noqa: E731
    elif route == "dict":
        table = {"frank": module}
        student = lambda s: call(table["frank"].student_backward, s)  # noqa: E731
    elif route == "object":
        holder = types.SimpleNamespace(impl=module.student_backward)
        student = lambda s: call(holder.impl, s)  # noqa: E731
    else:
        student = lambda s: call(getattr(module, "student_" + "backward"), s)  # noqa: E731
    report = grade.function(student)
    assert not report.ok and report.results["W"].reason == "sizes", report.message
    assert report.results["X"].ok and report.results["b"].ok


def test_a_module_function_that_never_reads_a_size_stays_on_the_small_grid(
    tmp_path: Path,
) -> None:
    # following the module reads its code: no size there, so 4 further triples suffice
    module = _load_by_spec(_write(tmp_path / "plain_sub.py", PLAIN))
    report = grade.function(lambda s: module.student_backward(s.dout, (s.X, s.W, s.b)))
    assert report.ok and len(report.results["W"].sizes) == 5, report.message
    frank = _load_by_spec(_write(tmp_path / "frank_sub2.py", FRANK))
    wrong = functools.partial(frank.student_backward)  # a partial's function is read
    report = grade.function(lambda s: wrong(s.dout, (s.X, s.W, s.b)))
    assert report.results["W"].reason == "sizes"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_function_s_scale_names_a_size_only_if_it_is_that_size_everywhere() -> None:
    def twice(s: Any) -> tuple[Any, Any, Any]:
        return s.dout @ s.W.T, 2 * (s.X.T @ s.dout), s.dout.mean(axis=0)

    report = grade.function(twice)
    assert report.results["W"].hint == "it is 2 times the right answer"
    assert report.results["b"].hint.endswith("1/N at N=2 (a mean where a sum belongs?)")


@pytest.mark.slow
def test_a_function_that_stores_into_float_arrays_is_checked_on_whole_numbers() -> None:
    # a right answer in numpy: symbols cannot live in np.zeros(...), whole numbers can
    def preallocated(s: Any) -> tuple[Any, Any, Any]:
        dx, dw, db = np.zeros(s.X.shape), np.zeros(s.W.shape), np.zeros(s.W.shape[1])
        dx[:] = s.dout @ s.W.T
        dw[:] = s.X.T @ s.dout
        db += s.dout.sum(axis=0)
        return dx, dw, db

    report = grade.function(preallocated)
    assert report.ok, report.message
    assert "whole numbers" in report.message

    def mean(s: Any) -> tuple[Any, Any, Any]:
        db = np.zeros(s.W.shape[1])
        db += s.dout.mean(axis=0)
        return s.dout @ s.W.T, s.X.T @ s.dout.astype(float), db

    report = grade.function(mean)
    assert report.results["X"].ok and report.results["W"].ok
    assert report.results["b"].reason == "scale" and "1/N at N=2" in report.message


def test_function_errors_are_reported_not_raised() -> None:
    wrong_count = grade.function(lambda s: (s.X, s.W))
    assert "it returned 2 values, expected 3" in wrong_count.error
    assert not grade.function(lambda s: np.maximum(s.dY, 0), outputs=("X",)).ok


def test_the_command_line_never_calls_a_student_function() -> None:
    root = Path(grade.__file__).parent / "cli"
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "grade.function" not in text and "Inputs(" not in text, path


# -- grading a filled exercise sheet ---------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 8])
def test_exercise_json_gives_every_blank_with_an_answer_check_accepts(
    runner: CliRunner, seed: int
) -> None:
    from symderiv.exercise import make_sheet

    result = runner.invoke(cli, ["exercise", "--seed", str(seed), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    sheet = make_sheet(seed=seed)
    assert [b["key"] for b in doc["blanks"]] == [a.key for a in sheet.answers()]
    assert doc["command"] == sheet.command()
    kinds = {b["kind"] for b in doc["blanks"]}
    assert kinds == {"rows", "cols", "jacobian", "chain", "derivative", "closed_form"}
    for blank in doc["blanks"]:
        if blank["kind"] == "closed_form":
            # the platform grades the student's closed form with check: the key passes
            args = [*blank["check"]["args"], blank["answer"]]
            graded = runner.invoke(cli, [*args, "--format", "prairielearn"])
            assert graded.exit_code == 0, (args, graded.output)
            assert json.loads(graded.stdout)["score"] == 1.0
        elif blank["kind"] in ("rows", "cols"):
            assert isinstance(blank["answer"], int)
        else:
            assert isinstance(blank["answer"], str) and "text" in blank


# -- the README's Grading section runs as written ------------------------------------------
README = Path(__file__).parent.parent / "README.md"


def _grading_blocks(language: str) -> list[str]:
    import re

    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Grading\n")[1].split("\n## ")[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def _run_script(script: str, root: Path, prefix: str) -> None:
    """Run a README shell script with its absolute folder moved under ``root``."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).parent.parent
    shim = f'symderiv() {{ "{sys.executable}" -m symderiv "$@"; }}\n'
    body = script.replace(prefix, str(root / prefix.strip("/")))
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        ["bash", "-c", shim + body],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("answer", "score"), [("X.T @ dY", 2.0), ("-X.T @ dY", 0.0), ("X.T @@ dY", 0.0)]
)
def test_readme_gradescope_run_autograder(
    tmp_path: Path, answer: str, score: float
) -> None:
    (script,) = [b for b in _grading_blocks("shell") if "run_autograder" in b]
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir(parents=True)
    (submission / "answer.txt").write_text(answer, encoding="utf-8")
    _run_script(script, tmp_path, "/autograder")
    doc = json.loads((tmp_path / "autograder/results/results.json").read_text("utf-8"))
    validate_gradescope(doc)
    assert doc["score"] == score and doc["tests"][0]["max_score"] == 2


@pytest.mark.parametrize(
    ("answer", "gradable", "score"),
    [("dY.T @ x", True, 1.0), ("x.T @ dY", True, 0.0), ("dY.T @", False, None)],
)
def test_readme_prairielearn_entrypoint(
    tmp_path: Path, answer: str, gradable: bool, score: float | None
) -> None:
    (script,) = [b for b in _grading_blocks("shell") if "run.sh" in b]
    data = tmp_path / "grade" / "data"
    data.mkdir(parents=True)
    (data / "data.json").write_text(
        json.dumps({"submitted_answers": {"dW": answer}}), encoding="utf-8"
    )
    _run_script(script, tmp_path, "/grade")
    doc = json.loads((tmp_path / "grade/results/results.json").read_text("utf-8"))
    validate_prairielearn(doc)
    assert doc["gradable"] is gradable and doc.get("score") == score


def test_readme_python_example_prints_what_it_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (block,) = _grading_blocks("python")
    exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's own code
    printed = capsys.readouterr().out.splitlines()
    comments = [
        line.split("# ", 1)[1] if line.startswith("# ") else line.removeprefix("#")
        for line in block.splitlines()
        if line.startswith("#")
    ]
    assert printed == ["False", *comments]


def test_readme_text_example_is_the_real_output(runner: CliRunner) -> None:
    text = README.read_text(encoding="utf-8").split("\n## Grading\n")[1]
    example = text.split("```text\n")[1].split("```")[0].splitlines()
    command = example[0].removeprefix("$ ")
    import shlex

    result = runner.invoke(cli, shlex.split(command)[1:])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == example[1:]


def test_batch_reads_a_spreadsheets_header_and_conventions_in_any_case(
    tmp_path: Path,
) -> None:
    source = tmp_path / "class.csv"
    source.write_text(
        'ID,Variable,Formula,Convention\na,W,"X.T @ dY",XW\nb,x,"dY @ W",Torch\n',
        encoding="utf-8",
    )
    out = list(grade.batch(grade.read_rows(str(source))))
    assert [(r["id"], r["ok"], r["convention"]) for r in out] == [
        ("a", True, "xw"),
        ("b", True, "torch"),
    ]


def test_batch_without_formula_or_variable_columns_stops_at_once(
    runner: CliRunner, tmp_path: Path
) -> None:
    """200 rows of 'the row has no variable' with exit 0 would grade a class as zeros."""
    for header in ("student,question,answer", "id,formula", "id,variable"):
        source = tmp_path / "class.csv"
        source.write_text(f"{header}\nal,W,X.T @ dY\n", encoding="utf-8")
        result = runner.invoke(cli, ["check", "--batch", str(source)])
        assert result.exit_code == 2 and result.stdout == ""
        assert "needs 'formula' and 'variable'" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_batch_as_csv_is_a_table_a_spreadsheet_opens(tmp_path: Path) -> None:
    """A TA got JSON Lines only, and --points was silently ignored with --batch: --format
    csv writes one row per answer, and a right answer scores --points in both."""
    rows = tmp_path / "rows.csv"
    rows.write_text(
        'id,variable,formula\nada,W,X.T @ dY\nada,b,"np.sum(dY, axis=0)"\nbob,X,dY @ W\n'
    )
    args = ["check", "--batch", str(rows), "--points", "2.5"]
    result = CliRunner().invoke(cli, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(result.stdout.splitlines(keepends=True)))
    assert [(r["id"], r["variable"], r["ok"], r["score"]) for r in table] == [
        ("ada", "W", "true", "2.5"),
        ("ada", "b", "true", "2.5"),
        ("bob", "X", "false", "0.0"),
    ]
    assert table[1]["formula"] == "np.sum(dY, axis=0)"
    assert table[2]["reason"] == "shape" and "W.T" in table[2]["hint"]
    lines = CliRunner().invoke(cli, args).stdout.splitlines()
    assert [json.loads(line)["score"] for line in lines] == [2.5, 2.5, 0.0]
    alone = CliRunner().invoke(
        cli, ["check", "--wrt", "W", "--format", "csv", "X.T@dY"]
    )
    assert alone.exit_code == 2 and "--format csv is for --batch" in alone.stderr


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_batch_as_csv_never_runs_a_student_s_cell_as_a_spreadsheet_formula(
    tmp_path: Path, kind: str
) -> None:
    """Cells were written as typed: =HYPERLINK(...) became a live link in Excel, =1+1
    showed 2, -X.T @ dY showed #NAME?. Every text cell that starts with = + - @, a tab
    or a carriage return gets a ' in front (OWASP's advice on CSV injection), in every
    column; JSON Lines stays exact."""
    typed = [
        ('=HYPERLINK("http://x","a")', "W", "X.T @ dY"),
        ("mal", "W", "=1+1"),
        ("neg", "W", "-X.T @ dY"),
        ("plus", "W", "+X.T @ dY"),
        ("at", "W", "@SUM(1,2)"),
        ("\tab", "W", "\tX.T @ dY"),
        ("-cr", "W", "\rX.T @ dY"),
        ("+wide", "=cmd|' /C calc'!A0", "X.T @ dY"),
    ]
    rows = tmp_path / f"rows.{kind}"
    if kind == "csv":
        with rows.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "variable", "formula"])
            writer.writerows(typed)
    else:
        rows.write_text(
            "".join(
                json.dumps({"id": i, "variable": v, "formula": f}) + "\n"
                for i, v, f in typed
            )
        )
    args = ["check", "--batch", str(rows)]
    result = CliRunner().invoke(cli, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout, newline="")))

    def shown(cell: str) -> str:  # a lone \r would break the row: a line break
        return ("'" + cell if cell[0] in "=+-@\t\r" else cell).replace("\r", "\n")

    assert [(r["id"], r["formula"]) for r in table] == [
        (shown(i), shown(f)) for i, _, f in typed
    ]
    assert table[-1]["variable"] == "'=cmd|' /C calc'!A0"
    assert [r["ok"] for r in table[2:4]] == ["false", "true"]  # graded as typed
    for row in table:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    lines = CliRunner().invoke(cli, [*args, "--format", "json"]).stdout.splitlines()
    assert [(r["id"], r["formula"]) for r in map(json.loads, lines)] == [
        (i, f) for i, _, f in typed
    ]


def test_batch_rows_in_their_own_words(tmp_path: Path) -> None:
    """JSON Lines sizes as a list were refused ("must be NxDxM"), a row's n = 0 was
    blamed on the option --n, and a formula that is a number was called missing."""
    rows = tmp_path / "rows.jsonl"
    lines = [
        {"id": "a", "variable": "W", "formula": "X.T @ dY", "sizes": [3, 4, 5]},
        {"id": "b", "variable": "W", "formula": "X.T @ dY", "n": 0},
        {"id": "c", "variable": "W", "formula": 5},
    ]
    rows.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = CliRunner().invoke(cli, ["check", "--batch", str(rows)])
    a, b, c = (json.loads(line) for line in result.stdout.splitlines())
    assert a["ok"] and a["sizes"][0] == {"N": 3, "D": 4, "M": 5}
    assert b["message"] == "n must be >= 1, got 0"
    assert c["message"] == "formula must be text, got 5"
