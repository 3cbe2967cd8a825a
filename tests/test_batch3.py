"""``check --batch`` as a TA grading a course meets it: one submission of several answers
to Gradescope or PrairieLearn, the CSV's ``given`` column, and the long layout's columns
read as strictly as the wide layout's.

Gradescope's results.json (gradescope-autograders.readthedocs.io, "Output format") and
PrairieLearn's (docs/externalGrading.md, "Grading results") each hold one submission: a
batch of one student's answers gives one, a test per answer; a class's file is refused,
saying what to use instead.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from symderiv import grade
from symderiv.cli import cli
from symderiv.errors import UsageError
from tests.test_grade import (
    _grading_blocks,
    _run_script,
    validate_gradescope,
    validate_prairielearn,
)


def _run(
    runner: CliRunner,
    tmp_path: Path,
    text: str,
    *args: str,
    name: str = "a.csv",
) -> Result:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return runner.invoke(cli, ["check", "--batch", str(source), *args])


def _doc(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1  # one results.json
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _refused(result: Result) -> str:
    """The one-line message of a refusal (exit 2, nothing on stdout)."""
    assert result.exit_code == 2 and result.stdout == "", result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    return message


# -- one submission to a platform ----------------------------------------------------------------
#: One student's answers in each convention: (convention, the file, what each scores).
SUBMISSIONS = [
    (
        "xw",
        'variable,formula\nX,dY @ W.T\nW,X @ dY\nb,"np.sum(dY, axis=0)"\n',
        [True, False, True],
    ),
    (  # the right xw answer for W is wrong in torch (W is C_out×C_in there)
        "torch",
        "variable,formula\nx,dY @ W\nW,X.T @ dY\nb,dY.sum(0)\n",
        [True, False, True],
    ),
    (  # a 1-D bias gradient is the wrong shape in column
        "column",
        "variable,formula\nA,dLdZ @ W\nW,dLdZ.T @ A\nb,dLdZ.sum(axis=0)\n",
        [True, True, False],
    ),
    (
        "wx",
        "variable,formula\nX,W.T @ dY\nW,dY @ X.T\nb,dY.sum(axis=0)\n",
        [True, True, False],
    ),
]


@pytest.mark.parametrize(("convention", "text", "right"), SUBMISSIONS)
def test_one_submission_gives_one_gradescope_results_json(
    runner: CliRunner, tmp_path: Path, convention: str, text: str, right: list[bool]
) -> None:
    args = ["--convention", convention, "--format", "gradescope", "--points", "2"]
    doc = _doc(_run(runner, tmp_path, text, *args))
    validate_gradescope(doc)
    tests = doc["tests"]
    assert [t["status"] == "passed" for t in tests] == right
    assert [t["score"] for t in tests] == [2.0 if ok else 0.0 for ok in right]
    assert {t["max_score"] for t in tests} == {2.0}
    assert doc["score"] == 2.0 * sum(right)
    assert doc["output"] == f"{sum(right)} of 3 answers right."
    for test, line in zip(tests, (2, 3, 4), strict=True):
        data = test["extra_data"]  # each answer's own check JSON
        assert data["line"] == line and data["convention"] == convention
        assert test["output"] == data["message"]
        assert test["name"] == f"∂L/∂{data['letter']}"


@pytest.mark.parametrize(("convention", "text", "right"), SUBMISSIONS)
def test_one_submission_gives_one_prairielearn_results_json(
    runner: CliRunner, tmp_path: Path, convention: str, text: str, right: list[bool]
) -> None:
    args = ["--convention", convention, "--format", "prairielearn"]
    doc = _doc(_run(runner, tmp_path, text, *args))
    validate_prairielearn(doc)
    assert doc["gradable"] is True and doc["score"] == sum(right) / 3
    assert [t["points"] for t in doc["tests"]] == [1.0 if ok else 0.0 for ok in right]
    assert doc["message"] == f"{sum(right)} of 3 answers right."


def test_an_unreadable_or_empty_answer_in_a_submission(
    runner: CliRunner, tmp_path: Path
) -> None:
    """PrairieLearn: the whole submission is not gradable (no attempt lost), each
    error named by its variable; Gradescope has no such state: that answer scores 0."""
    text = '{"id": "ana", "dX": "dY @ W.T", "dW": "X.T @@ dY", "db": ""}\n'
    pl = _doc(_run(runner, tmp_path, text, "--format", "prairielearn", name="a.jsonl"))
    validate_prairielearn(pl)
    assert pl["gradable"] is False and "score" not in pl
    assert [e.split(":")[0] for e in pl["format_errors"]] == ["∂L/∂W", "∂L/∂b"]
    assert pl["format_errors"][1] == "∂L/∂b: no answer: the column 'db' is empty"
    gs = _doc(_run(runner, tmp_path, text, "--format", "gradescope", name="a.jsonl"))
    validate_gradescope(gs)
    assert [t["score"] for t in gs["tests"]] == [1.0, 0.0, 0.0] and gs["score"] == 1.0
    only = '{"dW": "X.T @ dY"}\n'  # one answer and no id: as the one-answer mode says
    one = _doc(_run(runner, tmp_path, only, "--format", "gradescope", name="a.jsonl"))
    alone = _doc(
        runner.invoke(
            cli, ["check", "--wrt", "W", "--format", "gradescope", "X.T @ dY"]
        )
    )
    assert one["score"] == alone["score"] == 1.0
    keys = ("name", "score", "max_score", "status", "output")
    assert [one["tests"][0][k] for k in keys] == [alone["tests"][0][k] for k in keys]


def test_prairielearn_submitted_answers_from_standard_input(runner: CliRunner) -> None:
    """A question with the fields dX, dW, db: its submitted_answers are one wide line."""
    answers = {"dX": "dY @ W", "dW": "dY.T @ x", "db": "dY.sum(0)"}
    result = runner.invoke(
        cli,
        ["check", "--convention", "torch", "--batch", "-", "--format", "prairielearn"],
        input=json.dumps(answers) + "\n",
    )
    doc = _doc(result)
    assert doc["score"] == 1.0 and [t["name"] for t in doc["tests"]] == [
        "∂L/∂x",
        "∂L/∂W",
        "∂L/∂b",
    ]
    assert result.stderr == ""  # no id is the usual submission: no note


@pytest.mark.parametrize(
    ("fields", "gradable", "score"),
    [
        ({"dX": "dY @ W", "dW": "dY.T @ x", "db": "dY.sum(0)"}, True, 1.0),
        ({"dX": "dY @ W.T", "dW": "dY.T @ x", "db": "dY.sum(0)"}, True, 2 / 3),
        ({"dX": "dY @ W", "dW": "x.T @ dY", "db": "dY.mean(0)"}, True, 1 / 3),
        ({"dX": "dY @ W", "dW": "dY.T @", "db": "dY.sum(0)"}, False, None),
    ],
)
def test_readme_prairielearn_entrypoint_grades_several_fields(
    tmp_path: Path, fields: dict[str, str], gradable: bool, score: float | None
) -> None:
    (script,) = [b for b in _grading_blocks("shell") if "run.sh" in b]
    data = tmp_path / "grade" / "data"
    data.mkdir(parents=True)
    (data / "data.json").write_text(
        json.dumps({"submitted_answers": fields}), encoding="utf-8"
    )
    _run_script(script, tmp_path, "/grade")
    doc = json.loads((tmp_path / "grade/results/results.json").read_text("utf-8"))
    validate_prairielearn(doc)
    assert doc["gradable"] is gradable and doc.get("score") == score


@pytest.mark.parametrize("fmt", ["gradescope", "prairielearn"])
def test_what_is_no_one_submission_is_refused(
    runner: CliRunner, tmp_path: Path, fmt: str
) -> None:
    """A class's file, a variable answered twice (each would score), or a row that
    picks its own convention (one its wrong answer is right in): exit 2, one line,
    saying what to do instead."""
    wide = "id,dX,dW,db\na,dY @ W.T,X.T @ dY,dY.sum(0)\nb,dY @ W,X @ dY,dY.sum(0)\n"
    several = _refused(_run(runner, tmp_path, wide, "--format", fmt))
    assert "a results.json holds one submission" in several
    assert "the answers of 2 students ('a', 'b')" in several
    assert "--format csv or json" in several
    mixed = "id,variable,formula\na,W,X.T @ dY\n,b,dY.sum(0)\n"
    assert "2 students ('a', no id)" in _refused(
        _run(runner, tmp_path, mixed, "--format", fmt)
    )
    twice = "variable,formula\nW,X.T @ dY\nw,X @ dY\ndL/dW,X.T @ dY\n"
    assert _refused(_run(runner, tmp_path, twice, "--format", fmt)).endswith(
        "∂L/∂W is answered 3 times (lines 2, 3, 4): keep one"
    )
    # torch's answer for W, right only in torch, in a course graded in xw
    own = "variable,formula,convention\nW,dY.T @ X,torch\n"
    message = _refused(_run(runner, tmp_path, own, "--format", fmt))
    assert message.endswith(
        "line 2 is graded in convention 'torch', but --convention is 'xw': a "
        "submission's answers are graded in the command's convention (leave out "
        "its 'convention' column)"
    )
    same = "variable,formula,convention\nW,dY.T @ X,Torch\n"
    args = ["--convention", "torch", "--format", fmt]
    assert _run(runner, tmp_path, same, *args).exit_code == 0


def test_the_library_takes_one_answer_or_one_submission() -> None:
    rows = [
        {"id": "s", "variable": "W", "formula": "X.T @ dY", "line": 2},
        {"id": "s", "variable": "b", "formula": "dY.mean(0)", "line": 3},
    ]
    results = list(grade.batch(rows))
    doc = grade.gradescope(results, 1.5)
    assert doc["score"] == 1.5 and "extra_data" not in doc
    assert grade.prairielearn(results)["score"] == 0.5
    with pytest.raises(UsageError, match="no answers to grade"):
        grade.prairielearn([])
    other = [*results, {**results[0], "id": "t"}]
    with pytest.raises(UsageError, match="answers of 2 students"):
        grade.gradescope(other)


# -- the CSV's given column ----------------------------------------------------------------------
def test_csv_has_the_given_column_last_with_its_cells_safe(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = (
        "id,variable,formula\n"
        "a,W,X.T @ dY\n"  # as the role: given empty, as in JSON
        "b,dL/dW,X.T @ dY\n"
        "c,=dW,X.T @ dY\n"  # no variable: said as typed, in variable, as text
        "d,DW,X @ dY\n"
    )
    result = _run(runner, tmp_path, text, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert table[0] == [
        "id",
        "line",
        "variable",
        "formula",
        "ok",
        "score",
        "reason",
        "hint",
        "message",
        "given",
    ]
    assert [(row[2], row[-1]) for row in table[1:]] == [
        ("W", ""),
        ("W", "dL/dW"),
        ("'=dW", ""),
        ("W", "DW"),
    ]
    assert [row[4] for row in table[1:]] == ["true", "true", "false", "false"]
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for row in table for cell in row
    )
    lines = _run(runner, tmp_path, text, "--format", "json").stdout.splitlines()
    assert [json.loads(line).get("given", "") for line in lines] == [
        "",
        "dL/dW",
        "",
        "DW",
    ]
    wide = _run(runner, tmp_path, "id,DW,db\na,X.T @ dY,\n", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(wide.stdout, newline="")))
    assert [(r["variable"], r["given"]) for r in rows] == [("W", "DW"), ("b", "db")]


# -- the long layout's columns -------------------------------------------------------------
def _notes(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if "note:" in line]


def test_the_long_layout_names_the_columns_it_does_not_read(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = (
        "Timestamp,ID,Name,Variable,Formula,comment,SID,q\n"
        "9:01,a,Ana,W,X.T @ dY,late,7,1\n"
    )
    result = _run(runner, tmp_path, text, "--format", "json")
    assert result.exit_code == 0, result.stderr
    (row,) = map(json.loads, result.stdout.splitlines())
    assert (row["id"], row["ok"]) == ("a", True)
    assert _notes(result) == [
        "symderiv: note: the columns 'Timestamp', 'Name', 'comment', 'SID', 'q' are "
        "not read (a row's are id, variable, formula, convention, n, d, m, sizes)"
    ]
    plain = _run(
        runner,
        tmp_path,
        "id,variable,formula,convention,n,d,m,sizes\na,W,X.T @ dY,xw,,,,\n",
    )
    assert plain.exit_code == 0 and plain.stderr == ""  # every column read: no note


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("conv", "'conv' is no column it reads (did you mean 'convention'?)"),
        (
            "Convension",
            "'Convension' is no column it reads (did you mean 'convention'?)",
        ),
        ("formulas", "'formulas' is no column it reads (did you mean 'formula'?)"),
        ("Formula 2", "'Formula 2' is no column it reads (did you mean 'formula'?)"),
        ("size", "'size' is no column it reads (did you mean 'sizes'?)"),
        ("Formula", "'formula' and 'Formula' both name 'formula'"),
        ("wrt", "'variable' and 'wrt' both name the variable"),
        ("VAR", "'variable' and 'VAR' both name the variable"),
        ("N", "'n' and 'N' both name 'n'"),
    ],
)
def test_a_mistyped_or_repeated_long_column_is_refused(
    runner: CliRunner, tmp_path: Path, extra: str, why: str
) -> None:
    """``conv`` for ``convention`` was silently dropped: a torch class was graded in xw,
    where the torch answer ``X.T @ dY`` for W is right."""
    header = f"id,variable,formula,n,{extra}"
    message = _refused(_run(runner, tmp_path, f"{header}\na,W,X.T @ dY,2,torch\n"))
    assert message.startswith(f"Error: the batch file '{tmp_path / 'a.csv'}' has the ")
    assert "needs 'formula' and 'variable'" in message
    assert message.endswith(f": {why}")
    row = {"id": "a", "variable": "W", "formula": "X.T @ dY", "n": 2, extra: "torch"}
    text = json.dumps(row) + "\n" + json.dumps({**row, "id": "b"}) + "\n"
    text += '{"id": "c", "variable": "W", "formula": "X.T @ dY"}\n'
    out = list(
        map(
            json.loads, _run(runner, tmp_path, text, name="a.jsonl").stdout.splitlines()
        )
    )
    assert [(r["id"], r["gradable"], r["reason"]) for r in out] == [
        ("a", False, "row"),
        ("b", False, "row"),
        ("c", True, "ok"),  # the other lines are graded
    ]
    assert out[0]["message"].endswith(f": {why}")


@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_json_lines_keys_in_any_case_are_read_as_csv_headers_are(
    runner: CliRunner, tmp_path: Path, convention: str
) -> None:
    """{"Variable": ..., "Formula": ...} was a row error, and {"Convention": "torch"}
    was dropped; now they read as a CSV header's columns do, right and wrong alike."""
    right = {
        "xw": ("W", "X.T @ dY", "dY.T @ X"),
        "torch": ("W", "dY.T @ x", "x.T @ dY"),
        "column": ("A", "dLdZ @ W", "dLdZ @ W.T"),
        "wx": ("W", "dY @ X.T", "X.T @ dY"),
    }[convention]
    var, good, bad = right
    lines = [
        {"Student": "a", "Variable": var, "Formula": good, "Convention": convention},
        {"STUDENT": "b", "VARIABLE": var, "FORMULA": bad, " convention ": convention},
        {
            "id": "c",
            "Wrt": var.lower(),
            "formula": good,
            "CONVENTION": convention,
            "N": 3,
            "Sizes": "3x4x5",
            "Line": 99,
        },
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    result = _run(runner, tmp_path, text, "--format", "json", name="a.jsonl")
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    out = list(map(json.loads, result.stdout.splitlines()))
    assert [(r["id"], r["line"], r["ok"], r["gradable"]) for r in out] == [
        ("a", 1, True, True),
        ("b", 2, False, True),
        ("c", 3, True, True),
    ]
    assert {r["convention"] for r in out} == {convention}
    assert list(out[2]["sizes"][0].values()) == [3, 4, 5]
    assert out[2]["given"] == var.lower() or var.lower() == out[2]["letter"]
    noted = _run(
        runner,
        tmp_path,
        '{"id": "a", "Variable": "W", "Formula": "X.T @ dY", "Comment": "late"}\n',
        name="a.jsonl",
    )
    assert _notes(noted) == [
        "symderiv: note: the key 'Comment' is not read (a row's are id, variable, "
        "formula, convention, n, d, m, sizes)"
    ]
