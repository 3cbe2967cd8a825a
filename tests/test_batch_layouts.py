"""``check --batch`` reads the files courses have: variables in any case, and the wide layout.

A spreadsheet typed by hand says ``w``, ``dw``, ``DW`` or ``dL/dW``; a course's export
(Gradescope, Moodle, Canvas) has one row per student and one column per answer
(``id,dX,dW,db``). Both are read, and neither may ever credit a wrong answer.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from symderiv import grade
from symderiv.check import resolve_variable
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import ChoiceError


def _batch(
    tmp_path: Path, text: str, name: str = "class.csv", **defaults: Any
) -> list[dict[str, Any]]:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    options = grade.Defaults(**defaults)
    return list(grade.batch(grade.read_rows(str(source), options), options))


def _run(
    runner: CliRunner, tmp_path: Path, text: str, *args: str, name: str = "a.csv"
) -> Result:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return runner.invoke(cli, ["check", "--batch", str(source), *args])


# -- variables in any case ---------------------------------------------------------------------
#: (convention, the row's variable, a right formula, a wrong one, the role, the letter)
CASES = [
    ("xw", "w", "X.T @ dY", "X @ dY", "W", "W"),
    ("xw", "dw", "X.T @ dY", "dY.T @ X", "W", "W"),
    ("xw", "DW", "X.T @ dY", "-X.T @ dY", "W", "W"),
    ("xw", "dL/dW", "X.T @ dY", "X.T @ dY / N", "W", "W"),
    ("xw", "∂L/∂w", "X.T @ dY", "dY @ W.T", "W", "W"),
    ("xw", "dL_dW", "X.T @ dY", "2 * X.T @ dY", "W", "W"),
    ("xw", "x", "dY @ W.T", "dY @ W", "X", "X"),
    ("xw", "B", "np.sum(dY, axis=0)", "np.mean(dY, axis=0)", "b", "b"),
    ("xw", "DB", "dY.sum(axis=0)", "dY.sum(axis=1)", "b", "b"),
    ("torch", "DX", "dY @ W", "dY @ W.T", "X", "x"),
    ("torch", "Dx", "dY @ W", "dY.T @ x", "X", "x"),
    ("torch", "dw", "dY.T @ x", "x.T @ dY", "W", "W"),
    ("column", "a", "dLdZ @ W", "dLdZ @ W.T", "X", "A"),
    ("column", "DLDA", "dLdZ @ W", "-dLdZ @ W", "X", "A"),
    ("column", "da", "dLdZ @ W", "dLdZ", "X", "A"),
    ("column", "DB", "dLdZ.sum(axis=0, keepdims=True).T", "dLdZ.sum(axis=0)", "b", "b"),
    ("wx", "w", "dY @ X.T", "X.T @ dY", "W", "W"),
    ("wx", "DX", "W.T @ dY", "dY @ W", "X", "X"),
    ("wx", "Db", "dY.sum(axis=1, keepdims=True)", "dY.sum(axis=0)", "b", "b"),
]


@pytest.mark.parametrize(
    ("convention", "var", "right", "wrong", "role", "letter"), CASES
)
def test_a_variable_in_any_case_is_graded_as_the_one_it_names(
    tmp_path: Path,
    convention: str,
    var: str,
    right: str,
    wrong: str,
    role: str,
    letter: str,
) -> None:
    rows = [{"id": "s1", "variable": var, "formula": right, "convention": convention}]
    rows.append({**rows[0], "id": "s2", "formula": wrong})
    source = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    good, bad = _batch(tmp_path, source, "class.jsonl")
    assert good["ok"] and good["gradable"], good["message"]
    assert not bad["ok"] and bad["gradable"] and bad["reason"] != "ok", bad["message"]
    for out in (good, bad):
        # variable is the role, letter how the convention writes it, given the row's own
        assert (out["variable"], out["letter"], out["given"]) == (role, letter, var)


def test_an_exact_spelling_keeps_the_row_as_it_was(tmp_path: Path) -> None:
    out = _batch(
        tmp_path,
        "id,variable,formula,convention\na,W,X.T @ dY,xw\nb,A,dLdZ @ W,column\n"
        "c,dLdA,dLdZ @ W,column\nd,x,dY @ W,torch\n",
    )
    assert all(r["ok"] for r in out)
    assert [(r["variable"], r["letter"], r.get("given")) for r in out] == [
        ("W", "W", None),  # neither the role nor the letter is repeated
        ("X", "A", None),
        ("X", "A", "dLdA"),
        ("X", "x", None),
    ]


def test_a_case_that_names_two_variables_is_refused_with_both(
    runner: CliRunner, tmp_path: Path
) -> None:
    """--names X=Dw: 'dW' is ∂L/∂W and 'Dw' is X; 'dw' or 'DW' could be either."""
    text = "id,variable,formula\na,dW,X.T @ dY\nb,Dw,dY @ W.T\nc,dw,X.T @ dY\nd,DW,dY @ W.T\n"
    result = _run(runner, tmp_path, text, "--names", "X=Dw")
    assert result.exit_code == 0, result.stderr
    a, b, c, d = (json.loads(line) for line in result.stdout.splitlines())
    assert (a["ok"], a["variable"], b["ok"], b["variable"], b["letter"]) == (
        True,
        "W",
        True,
        "X",
        "Dw",
    )
    for out in (c, d):
        assert not out["ok"] and not out["gradable"] and out["reason"] == "row"
        assert "did you mean 'dW' or 'Dw'?" in out["message"]
        assert "given" not in out  # variable stays what the row said
    assert c["variable"] == "dw" and d["variable"] == "DW"
    # in a wide header too: refused once, before grading anything
    wide = _run(runner, tmp_path, "id,dw\na,X.T @ dY\n", "--names", "X=Dw")
    assert wide.exit_code == 2 and wide.stdout == ""


def test_the_resolver_suggests_on_the_command_line_and_accepts_in_a_file() -> None:
    xw, torch = Config(), Config(convention="torch")
    assert resolve_variable("w", xw, any_case=True) == "W"
    assert resolve_variable("dL/dW", xw, any_case=True) == "W"
    assert resolve_variable("DX", torch, any_case=True) == "X"
    with pytest.raises(
        ChoiceError, match=r"unknown variable 'w' \(did you mean 'W'\?\)"
    ):
        resolve_variable("w", xw)  # --wrt stays exact: it says what it takes
    with pytest.raises(ChoiceError, match=r"unknown variable 'q'; choose from"):
        resolve_variable("q", xw, any_case=True)  # nothing alike: the old message
    with pytest.raises(ChoiceError, match="A, W, b"):
        resolve_variable("dz", Config(convention="column"), any_case=True)


def test_wrt_on_the_command_line_suggests_the_spelling(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--wrt", "w", "X.T @ dY"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "unknown variable 'w' (did you mean 'W'?)" in result.stderr
    column = runner.invoke(
        cli, ["check", "--convention", "column", "--wrt", "dlda", "dLdZ @ W"]
    )
    assert column.exit_code == 2 and "(did you mean 'dLdA'?)" in column.stderr
    assert runner.invoke(cli, ["check", "--wrt", "W", "X.T @ dY"]).exit_code == 0


# -- the wide layout -----------------------------------------------------------------------------
WIDE = (
    "id,dX,dW,db\n"
    's1,dY @ W.T,X.T @ dY,"dY.sum(axis=0)"\n'  # all right
    "s2,dY @ W,X @ dY,np.mean(dY, axis=0)\n"  # all wrong: shape, shape, scale (a comma!)
    "s3,dY @ W.T,,\n"  # two unanswered
    "s4,dY @@ W.T,X.T @ dY,dY.sum(axis=0)\n"  # one unreadable
)


def test_a_wide_csv_gives_one_result_per_answer_in_column_order(tmp_path: Path) -> None:
    text = WIDE.replace("np.mean(dY, axis=0)", '"np.mean(dY, axis=0)"')
    out = _batch(tmp_path, text)
    assert [(r["id"], r["line"], r["variable"], r["given"]) for r in out] == [
        (student, line, role, f"d{role}")
        for line, student in enumerate(("s1", "s2", "s3", "s4"), 2)
        for role in ("X", "W", "b")
    ]
    assert [(r["ok"], r["gradable"], r["reason"]) for r in out] == [
        (True, True, "ok"),
        (True, True, "ok"),
        (True, True, "ok"),
        (False, True, "shape"),
        (False, True, "shape"),
        (False, True, "scale"),
        (True, True, "ok"),
        (False, False, "row"),
        (False, False, "row"),
        (False, False, "parse"),
        (True, True, "ok"),
        (True, True, "ok"),
    ]
    assert out[7]["message"] == "no answer: the column 'dW' is empty"
    assert out[8]["message"] == "no answer: the column 'db' is empty"
    assert (out[7]["letter"], out[7]["score"]) == ("W", 0.0)


def test_a_wide_line_with_unquoted_commas_is_refused_for_each_answer(
    tmp_path: Path,
) -> None:
    """With several formula columns the commas of np.mean(dY, axis=0) cannot be told
    from the separators: each answer of the line gets a zero with the reason, so the
    student's total counts every question; the other lines are read."""
    out = _batch(tmp_path, WIDE)
    s2 = [r for r in out if r["id"] == "s2"]
    assert [
        (r["variable"], r["letter"], r["given"], r["gradable"], r["reason"]) for r in s2
    ] == [
        ("X", "X", "dX", False, "row"),
        ("W", "W", "dW", False, "row"),
        ("b", "b", "db", False, "row"),
    ]
    assert "must be quoted" in s2[0]["message"]
    assert "line 3 has 5 fields, but the header has 4" in s2[0]["message"]
    assert len(out) == 12 and out[0]["ok"] and out[-1]["ok"]
    trailing = _batch(
        tmp_path, "id,dW,db,\ns1,X.T @ dY,dY.sum(0),\n"
    )  # a spreadsheet's
    assert [(r["variable"], r["ok"]) for r in trailing] == [("W", True), ("b", True)]
    short = _batch(tmp_path, "id,dW,db\ns1,X.T @ dY\n")
    assert [(r["variable"], r["given"], r["reason"]) for r in short] == [
        ("W", "dW", "row"),
        ("b", "db", "row"),
    ]
    assert "must be quoted" not in short[0]["message"]


def test_one_formula_column_keeps_the_long_layout_s_rule_for_commas(
    tmp_path: Path,
) -> None:
    (right, wrong) = _batch(
        tmp_path, "id,db\ns1,np.sum(dY, axis=0)\ns2,np.sum(dY,axis=1,keepdims=True)\n"
    )
    assert right["ok"] and right["formula"] == "np.sum(dY, axis=0)"
    assert not wrong["ok"] and wrong["gradable"]


def test_wide_columns_in_any_case_with_conventions_and_sizes(tmp_path: Path) -> None:
    text = (
        "Student ID,DA,dw,B,Convention,Sizes\n"
        'a,dLdZ @ W,dLdZ.T @ A,"dLdZ.sum(axis=0, keepdims=True).T",column,3x2x5\n'
        "b,dY @ W.T,X.T @ dY,dY.sum(0),xw,2x3x4\n"
        "c,dY @ W,dY.T @ x,dY.sum(1),torch,2x3x4\n"
    )
    out = _batch(tmp_path, text)  # Student ID is the id, as ID is
    assert out == _batch(tmp_path, text.replace("Student ID", "ID"))
    assert [(r["id"], r["variable"], r["letter"], r["ok"]) for r in out] == [
        ("a", "X", "A", True),
        ("a", "W", "W", True),
        ("a", "b", "b", True),
        ("b", "X", "A", False),  # A is column's letter: in xw this row cannot say it
        ("b", "W", "W", True),
        ("b", "b", "b", True),
        ("c", "X", "A", False),
        ("c", "W", "W", True),
        ("c", "b", "b", False),  # torch sums over the batch, axis 0
    ]
    assert out[0]["sizes"][0] == {"N": 3, "C_in": 2, "C_out": 5}
    assert (
        out[3]["reason"] == "row"
        and out[3]["given"] == "DA"
        and "column 'DA': unknown variable" in out[3]["message"]
    )


def test_a_wide_header_with_renamed_letters(runner: CliRunner, tmp_path: Path) -> None:
    text = "id,dH,dW,db\ns1,dY @ W.T,H.T @ dY,dY.sum(0)\n"
    plain = _run(runner, tmp_path, text)
    assert plain.exit_code == 2 and "'dH' names no variable" in plain.stderr
    named = _run(runner, tmp_path, text, "--names", "X=H")
    assert named.exit_code == 0, named.stderr
    out = [json.loads(line) for line in named.stdout.splitlines()]
    assert [(r["variable"], r["letter"], r["ok"]) for r in out] == [
        ("X", "H", True),
        ("W", "W", True),
        ("b", "b", True),
    ]


def test_wide_json_lines(tmp_path: Path) -> None:
    """A PrairieLearn submitted_answers object, or any {"id", "dW", "db"} line, is read
    as a wide row; null and "" are unanswered, not unreadable."""
    lines = [
        {"id": "s1", "dX": "dY @ W.T", "DW": "X.T @ dY", "db": "np.sum(dY, axis=0)"},
        {"id": "s2", "dX": "dY @ W", "DW": "X @ dY", "db": "dY.mean(0)"},
        {"id": "s3", "dX": None, "DW": "", "db": "  "},
        {"id": "s4", "dX": "dY @@ W.T", "DW": 5, "db": "dY.sum(0)", "n": 3},
        {"id": "s5", "dW": "X.T @ dY", "email": "s5@uni.edu"},
        {"id": "s6", "dW": "X.T @ dY", "W": "X.T @ dY"},
        {"id": "s7"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines) + "[1]\n"
    out = _batch(tmp_path, text, "class.jsonl")
    summary = [
        (r["id"], r["variable"], r["ok"], r["gradable"], r["reason"]) for r in out
    ]
    assert summary == [
        ("s1", "X", True, True, "ok"),
        ("s1", "W", True, True, "ok"),
        ("s1", "b", True, True, "ok"),
        ("s2", "X", False, True, "shape"),
        ("s2", "W", False, True, "shape"),
        ("s2", "b", False, True, "scale"),
        ("s3", "X", False, False, "row"),
        ("s3", "W", False, False, "row"),
        ("s3", "b", False, False, "row"),
        ("s4", "X", False, False, "parse"),
        ("s4", "W", False, False, "row"),
        ("s4", "b", True, True, "ok"),
        ("s5", "W", True, True, "ok"),  # the email is not graded
        ("s6", "", False, False, "row"),
        ("s7", "", False, False, "row"),
        (None, "", False, False, "row"),
    ]
    assert {r["message"] for r in out[6:9]} == {
        "no answer: the column 'dX' is empty",
        "no answer: the column 'DW' is empty",
        "no answer: the column 'db' is empty",
    }
    assert out[10]["message"] == "formula must be text, got 5"
    assert out[11]["sizes"][0] == {"N": 3, "D": 3, "M": 4}
    assert "'dW' and 'W' both name ∂L/∂W" in out[13]["message"]
    assert out[14]["message"].startswith("the row has no variable")  # as before


def test_a_wide_file_in_every_output_format(runner: CliRunner, tmp_path: Path) -> None:
    text = WIDE.replace("np.mean(dY, axis=0)", '"np.mean(dY, axis=0)"')
    lines = _run(runner, tmp_path, text, "--format", "json", "--points", "2")
    assert lines.exit_code == 0, lines.stderr
    out = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r["score"] for r in out] == [2.0] * 3 + [0.0] * 3 + [2.0, 0, 0, 0, 2, 2]
    table = _run(runner, tmp_path, text, "--format", "csv")
    assert table.exit_code == 0, table.stderr
    rows = list(csv.DictReader(table.stdout.splitlines(keepends=True)))
    assert [(r["id"], r["variable"], r["ok"], r["reason"]) for r in rows][6:9] == [
        ("s3", "X", "true", "ok"),
        ("s3", "W", "false", "row"),
        ("s3", "b", "false", "row"),
    ]
    assert rows[5]["formula"] == "np.mean(dY, axis=0)" and rows[5]["reason"] == "scale"
    # one results.json is one submission: a class's file is refused, once, with no
    # output, saying what to use instead (one student's answers are graded: test_batch3)
    for fmt in ("gradescope", "prairielearn"):
        refused = _run(runner, tmp_path, text, "--format", fmt)
        assert refused.exit_code == 2 and refused.stdout == ""
        assert "a results.json holds one submission" in refused.stderr
        assert "--format csv or json" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (
            "student,question,answer",
            "it has no answer column ('question', 'answer' name no variable)",
        ),
        ("id,dX,dWW,db", "'dWW' names no variable"),
        ("id,dW,W", "'dW' and 'W' both name ∂L/∂W"),
        ("id,dx,DX", "'dx' and 'DX' both name ∂L/∂X"),
        ("id,n,sizes", "it has no answer column"),
        ("id,dW,formula", ""),  # a formula column: the long layout, without a variable
        ("id,variable", ""),
        ("ID,Variable,Answer", ""),
    ],
)
def test_a_header_that_fits_neither_layout_is_refused_once(
    runner: CliRunner, tmp_path: Path, header: str, why: str
) -> None:
    result = _run(runner, tmp_path, f"{header}\na,b,c\nd,e,f\n")
    assert result.exit_code == 2 and result.stdout == ""
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert f"has the columns {header.replace(',', ', ')};" in message
    assert "needs 'formula' and 'variable'" in message and "wide layout" in message
    assert message.endswith(f": {why}" if why else "besides those")


# -- a course's export as it is -------------------------------------------------------------------
def _notes(result: Result) -> list[str]:
    """The notes a batch printed on stderr."""
    return [line for line in result.stderr.splitlines() if "note:" in line]


def test_an_export_s_other_columns_are_not_graded_and_named_once(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A course's export has a name, an email, a timestamp, a comment: they are not
    answers, so they are left alone (one note on stderr names them), and stdout holds
    the results only."""
    text = (
        "Timestamp,Email,Name,id,dX,dW,db,comment,Section,date,grade\n"
        '9:01,a@u.edu,Ana,s1,dY @ W.T,X.T @ dY,"np.sum(dY, axis=0)",late,B,1/2,7\n'
        "9:02,b@u.edu,Bo,s2,dY @ W,X.T @ dY,dY.sum(0),,B,1/2,3\n"
    )
    result = _run(runner, tmp_path, text, "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["variable"], r["ok"]) for r in out] == [
        ("s1", "X", True),
        ("s1", "W", True),
        ("s1", "b", True),
        ("s2", "X", False),
        ("s2", "W", True),
        ("s2", "b", True),
    ]
    assert _notes(result) == [
        "symderiv: note: the columns 'Timestamp', 'Email', 'Name', 'comment', "
        "'Section', 'date', 'grade' name no variable: not graded"
    ]
    one = _run(runner, tmp_path, "id,dX,dW,db,comment\na,dY @ W.T,X.T @ dY,,late\n")
    assert _notes(one) == [
        "symderiv: note: the column 'comment' names no variable: not graded"
    ]
    plain = _run(runner, tmp_path, WIDE.replace("np.mean(dY, axis=0)", "dY.mean(0)"))
    assert plain.exit_code == 0 and plain.stderr == ""  # nothing to say, nothing said


@pytest.mark.parametrize(
    ("header", "student"),
    [
        ("student,X,W,b", "ana"),
        ("Student ID,Name,Email,dX,dW,db", "ana"),  # an id before a name or an email
        ("Name,Email,dX,dW,db", "ana@u.edu"),
        ("SID,dX,dW,db", "ana"),
        ("username,login,dX,dW,db", "ana"),
        ("Name,dX,dW,db", "ana"),
        ("dX,dW,db,ID", "ana"),  # wherever it stands
    ],
)
def test_the_usual_id_columns_name_the_student(
    tmp_path: Path, header: str, student: str
) -> None:
    cells = {
        "student": "ana",
        "student id": "ana",
        "sid": "ana",
        "username": "ana",
        "login": "bob",
        "name": "ana" if "Email" not in header else "Ana",
        "email": "ana@u.edu",
        "id": "ana",
        "x": "dY @ W.T",
        "dx": "dY @ W.T",
        "w": "X.T @ dY",
        "dw": "X.T @ dY",
        "b": '"np.sum(dY, axis=0)"',
        "db": '"np.sum(dY, axis=0)"',
    }
    row = ",".join(cells[h.lower()] for h in header.split(","))
    out = _batch(tmp_path, f"{header}\n{row}\n")
    assert [(r["id"], r["variable"], r["ok"]) for r in out] == [
        (student, "X", True),
        (student, "W", True),
        (student, "b", True),
    ]


def test_the_long_layout_and_json_lines_read_the_usual_id_columns(
    tmp_path: Path,
) -> None:
    (row,) = _batch(tmp_path, "Student,Variable,Formula\nana,W,X.T @ dY\n")
    assert (row["id"], row["ok"]) == ("ana", True)
    lines = [
        {"student": "ana", "variable": "W", "formula": "X.T @ dY"},
        {"SID": 7, "dW": "X.T @ dY", "comment": "late"},
        {"id": "bo", "email": "bo@u.edu", "dW": "X @ dY"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    notes: list[str] = []
    source = tmp_path / "class.jsonl"
    source.write_text(text, encoding="utf-8")
    rows = grade.read_rows(str(source), notes=notes)
    out = list(grade.batch(rows, notes=notes))
    assert [(r["id"], r["variable"], r["ok"]) for r in out] == [
        ("ana", "W", True),
        (7, "W", True),
        ("bo", "W", False),
    ]
    assert notes == ["the keys 'comment', 'email' name no variable: not graded"]


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ("id,dX,dw1,db,comment", "'dw1' names no variable"),
        ("id,dX,grad_WW,db", "'grad_WW' names no variable"),
        ("id,dX,dL/dWW,db", "'dL/dWW' names no variable"),
        ("id,dX,W2,db", "'W2' names no variable"),
        ("name,dX,q,db", "'q' names no variable"),
        ("id,dX,∂WW,db", "'∂WW' names no variable"),
    ],
)
def test_a_column_that_looks_like_a_mistyped_answer_is_still_refused(
    runner: CliRunner, tmp_path: Path, header: str, why: str
) -> None:
    """A typo in a header (dWW for dW) must never drop a question unseen: a column
    that looks like an answer but names none refuses the file, as before."""
    result = _run(runner, tmp_path, f"{header}\na,b,c,d\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().endswith(f": {why}")
    jsonl = [{k: "X.T @ dY" for k in header.split(",")}]
    out = _batch(tmp_path, json.dumps(jsonl[0]) + "\n", "class.jsonl")
    assert {r["reason"] for r in out} == {"row"}
    assert why in out[0]["message"]


def test_every_result_of_a_wide_column_says_its_variable_the_same_way(
    tmp_path: Path,
) -> None:
    """A pivot on ``variable`` must not split a question in two: a wide column's
    results all carry the role, the letter and the header's spelling, whether the row
    was graded, unanswered or unreadable; a stray field past the last column is said
    as such, not as a formula to quote."""
    text = (
        "id,dA,dW,db\n"
        's1,dLdZ @ W,dLdZ.T @ A,"dLdZ.sum(axis=0, keepdims=True).T"\n'
        "s2,,dLdZ.T @ A,dLdZ.sum(axis=0)\n"
        's3,dLdZ @ W,dLdZ.T @ A,"dLdZ.sum(axis=0, keepdims=True).T",late\n'
    )
    for convention in ("column", "xw"):  # xw cannot say dA: the column still names X
        out = _batch(tmp_path, text, convention=convention)
        keys = {(r["variable"], r["letter"], r["given"]) for r in out}
        assert keys == {("X", "A", "dA"), ("W", "W", "dW"), ("b", "b", "db")}
    assert [r["reason"] for r in out if r["id"] == "s3"] == ["row"] * 3
    assert out[-1]["message"] == (
        "line 4 has 5 fields, but the header has 4 (id, dA, dW, db)"
    )
    plain = _batch(tmp_path, "id,X,W,b\ns1,dY @ W.T,,\ns2\n")
    assert {(r["variable"], r["given"]) for r in plain} == {
        ("X", "X"),
        ("W", "W"),
        ("b", "b"),
    }


# -- repeated answers and missing ids ----------------------------------------------------------
def test_two_columns_for_one_variable_are_refused(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = _run(runner, tmp_path, "id,dW,dW\na,X.T @ dY,dY.T @ X\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().endswith(": 'dW' and 'dW' both name ∂L/∂W")


def test_a_repeated_answer_is_graded_and_named_in_a_note(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Every row gets its result (a TA decides which counts), and stderr names each
    (id, variable) answered more than once and the rows without an id."""
    text = (
        "id,variable,formula\n"
        "bob,w,X.T @ dY\n"
        "bob,DW,X @ dY\n"
        "bob,dL/dW,X.T @ dY\n"
        "bob,b,dY.sum(0)\n"
        ",W,X.T @ dY\n"
        "ana,W,X.T @ dY\n"
    )
    result = _run(runner, tmp_path, text, "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["variable"], r["ok"]) for r in out] == [
        ("bob", "W", True),
        ("bob", "W", False),
        ("bob", "W", True),
        ("bob", "b", True),
        (None, "W", True),
        ("ana", "W", True),
    ]
    assert _notes(result) == [
        "symderiv: note: answered more than once, each graded: 'bob' W 3 times "
        "(lines 2, 3, 4)",
        "symderiv: note: a row has no id (line 6)",
    ]
    wide = _run(runner, tmp_path, "id,dW,db\na,X.T @ dY,\n,X.T @ dY,\na,X @ dY,\n")
    assert wide.exit_code == 0
    assert _notes(wide) == [
        "symderiv: note: answered more than once, each graded: 'a' W 2 times "
        "(lines 2, 4); 'a' b 2 times (lines 2, 4)",
        "symderiv: note: a row has no id (line 3)",
    ]


# -- sizes ----------------------------------------------------------------------------------------
def test_a_formula_cut_at_a_comma_before_a_size_column_says_so(tmp_path: Path) -> None:
    out = _batch(
        tmp_path,
        "id,variable,formula,n\n"
        "a,b,np.sum(dY, 0)\n"  # " 0)" lands in n
        "b,b,np.sum(dY, 0),3\n"  # one field more: the formula's
        'c,b,"np.sum(dY",3\n',  # quoted, sizes fine: a formula that cannot be read
    )
    assert (out[0]["reason"], out[0]["gradable"]) == ("row", False)
    assert out[0]["message"].startswith(
        "the formula 'np.sum(dY' seems cut at a comma: quote it"
    )
    assert "got ' 0)'" in out[0]["message"]
    assert out[1]["ok"] and out[1]["formula"] == "np.sum(dY, 0)"
    assert out[2]["reason"] == "parse"
    (bad,) = _batch(tmp_path, "id,variable,formula,n\na,b,np.sum(dY),two\n")
    assert bad["message"] == "n must be a whole number >= 1, got 'two'"  # as before


def test_sizes_and_n_d_m_that_disagree_are_a_row_error(tmp_path: Path) -> None:
    text = (
        "id,variable,formula,sizes,n,d,m\n"
        "s1,W,X.T @ dY,2x3x4,9,,\n"
        "s2,W,X.T @ dY,2x3x4,5,6,7\n"
        "s3,W,X.T @ dY,2x3x4,2,3,\n"  # they agree
        "s4,W,X.T @ dY,,5,6,7\n"
    )
    out = _batch(tmp_path, text)
    assert [(r["ok"], r["gradable"], r["reason"]) for r in out] == [
        (False, False, "row"),
        (False, False, "row"),
        (True, True, "ok"),
        (True, True, "ok"),
    ]
    assert out[0]["message"] == (
        "the columns disagree: sizes '2x3x4' but n '9'; give the sizes once"
    )
    assert "but n '5', d '6', m '7'" in out[1]["message"]
    assert out[2]["sizes"][0] == {"N": 2, "D": 3, "M": 4}
    lines = [
        {"id": "j", "variable": "W", "formula": "X.T @ dY", "sizes": [2, 3, 4], "m": 5},
        {"id": "k", "dW": "X.T @ dY", "sizes": "2x3x4", "n": 2},
    ]
    jsonl = _batch(
        tmp_path, "".join(json.dumps(x) + "\n" for x in lines), "class.jsonl"
    )
    assert [r["reason"] for r in jsonl] == ["row", "ok"]
    assert "sizes [2, 3, 4] but m 5" in jsonl[0]["message"]
