"""A class roster's files (review of 2026-12-03): JSON sheets, the index a TA builds a
``check --batch`` file from, output paths checked before the first write, CSV rosters
from a learning platform, names pdflatex cannot print, and the MSE loss's JSON answer."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from symderiv.cli import cli
from symderiv.errors import UsageError
from symderiv.exercise import make_roster, make_sheet, parse_roster, sheet_json

NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper")


def _roster(tmp_path: Path, names: tuple[str, ...] = NAMES) -> Path:
    path = tmp_path / "class.txt"
    path.write_text("\n".join(names) + "\n", encoding="utf-8")
    return path


def _index(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _single_json(runner: CliRunner, command: str) -> dict:  # type: ignore[type-arg]
    """What `symderiv exercise ... --format json` prints for ``command`` (a sheet's
    own reproduce command)."""
    args = shlex.split(command)
    assert args[:2] == ["symderiv", "exercise"]
    result = runner.invoke(cli, [*args[1:], "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# -- 1. --format json with --roster ----------------------------------------------------------
@pytest.mark.parametrize("extra", [[], ["--loss", "mse", "--kind", "steps,choice"]])
def test_roster_json_sheets_are_the_single_sheet_json(
    runner: CliRunner, tmp_path: Path, extra: list[str]
) -> None:
    """`--roster r.txt --format json -o j.json` wrote Markdown into j-*.json: each file
    is now the JSON one `exercise --format json` gives for that student's sheet, with
    the student's name, and the key holds every student's document."""
    out = tmp_path / "j.json"
    args = ["exercise", "--roster", str(_roster(tmp_path)), "--format", "json"]
    result = runner.invoke(cli, [*args, "-o", str(out), *extra])
    assert result.exit_code == 0, result.stderr
    rows = _index(tmp_path / "j-index.csv")
    assert [row["name"] for row in rows] == list(NAMES)
    docs = []
    for row in rows:
        doc = json.loads((tmp_path / row["file"]).read_text(encoding="utf-8"))
        assert doc["student"] == row["name"]
        single = _single_json(runner, doc["command"])
        assert "student" not in single
        assert {k: v for k, v in doc.items() if k != "student"} == single
        docs.append(doc)
    key = json.loads((tmp_path / "j-key.json").read_text(encoding="utf-8"))
    assert key == {"sheets": docs}
    written = sorted(p.name for p in tmp_path.iterdir())
    assert all(p.endswith((".json", ".csv", ".txt")) for p in written)


def test_a_roster_without_a_suffix_writes_json_files(
    runner: CliRunner, tmp_path: Path
) -> None:
    args = ["exercise", "--roster", str(_roster(tmp_path, ("Ada",))), "-o"]
    result = runner.invoke(cli, [*args, str(tmp_path / "s"), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    json.loads((tmp_path / "s-ada.json").read_text(encoding="utf-8"))
    json.loads((tmp_path / "s-key.json").read_text(encoding="utf-8"))


# -- 2. the index: what a TA needs for check --batch ------------------------------------------
def test_the_index_gives_each_students_layer_for_check_batch(
    runner: CliRunner, tmp_path: Path
) -> None:
    """class-index.csv had only name,file: it now gives each student's convention, sizes,
    order, variables, seed and commands, enough to build a `check --batch` file; the
    key's closed forms graded with that file are all right."""
    out = tmp_path / "c.json"
    args = ["exercise", "--roster", str(_roster(tmp_path)), "--format", "json"]
    assert runner.invoke(cli, [*args, "-o", str(out)]).exit_code == 0
    rows = _index(tmp_path / "c-index.csv")
    with open(tmp_path / "c-index.csv", encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header[:2] == ["name", "file"]
    for column in ("convention", "n", "d", "m", "vec", "wrt", "seed", "command"):
        assert column in header
    batch = [["id", "variable", "formula", "convention", "n", "d", "m"]]
    for row in rows:
        # the index agrees with the sheet its command prints again
        config = _single_json(runner, row["command"])["config"]
        assert row["convention"] == config["convention"]
        assert [int(row[k]) for k in "ndm"] == [config[k] for k in "ndm"]
        assert row["vec"] == config["vec"]
        assert row["wrt"].split(",") == config["wrt"]
        assert f"--seed {row['seed']}" in row["command"]
        assert row["key_command"] == row["command"] + " --answers"
        doc = json.loads((tmp_path / row["file"]).read_text(encoding="utf-8"))
        for blank in doc["blanks"]:
            if blank["kind"] == "closed_form":
                sizes = [row[k] for k in "ndm"]
                batch.append(
                    [row["name"], blank["variable"], blank["answer"], row["convention"]]
                    + sizes
                )
    assert len(batch) > len(rows)
    batch_file = tmp_path / "batch.csv"
    with open(batch_file, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(batch)
    result = runner.invoke(cli, ["check", "--batch", str(batch_file)])
    assert result.exit_code == 0, result.stderr
    results = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(results) == len(batch) - 1
    assert all(r["ok"] for r in results), results


# -- 3. output paths ---------------------------------------------------------------------------
@pytest.mark.parametrize("slash", [True, False])
def test_a_folder_as_output_is_refused_as_for_one_sheet(
    runner: CliRunner, tmp_path: Path, slash: bool
) -> None:
    """`--roster r.txt -o keyc/` wrote keyc-*.tex into the folder's parent; the single
    sheet refuses a folder, and so does the roster, in one line, writing nothing."""
    roster = _roster(tmp_path)
    folder = tmp_path / "keyc"
    folder.mkdir()
    target = str(folder) + ("/" if slash else "")
    before = sorted(tmp_path.rglob("*"))
    single = runner.invoke(cli, ["exercise", "-o", target])
    result = runner.invoke(cli, ["exercise", "--roster", str(roster), "-o", target])
    assert result.exit_code == single.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "it is a folder" in result.stderr
    assert sorted(tmp_path.rglob("*")) == before


def test_pdf_over_the_sources_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    """`--roster -o c.pdf --pdf` wrote the .tex sources to c-*.pdf, then the PDFs over
    them: refused as the single sheet refuses -o c.pdf --pdf."""
    roster = _roster(tmp_path)
    out = str(tmp_path / "c.pdf")
    before = sorted(tmp_path.iterdir())
    single = runner.invoke(cli, ["exercise", "-o", out, "--pdf"])
    result = runner.invoke(
        cli, ["exercise", "--roster", str(roster), "-o", out, "--pdf"]
    )
    assert result.exit_code == single.exit_code == 2
    assert "name the same file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("blocked", "extra"), [("d-alan-turing.tex", []), ("d-key.pdf", ["--pdf"])]
)
def test_every_target_is_checked_before_the_first_write(
    runner: CliRunner, tmp_path: Path, blocked: str, extra: list[str]
) -> None:
    """A folder where one sheet (or its PDF) goes: the command wrote the sheets before it
    and exited 1 with no key and no index. Now nothing is written."""
    roster = _roster(tmp_path)
    (tmp_path / blocked).mkdir()
    before = sorted(tmp_path.iterdir())
    out = str(tmp_path / "d.tex")
    result = runner.invoke(
        cli, ["exercise", "--roster", str(roster), "-o", out, *extra]
    )
    assert result.exit_code == 1
    assert blocked in result.stderr and "it is a folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == before


# -- 4. CSV rosters and names pdflatex cannot print ------------------------------------------
@pytest.mark.parametrize(
    ("text", "names"),
    [
        # an LMS export: the header is not a student, quotes are read
        (
            'name,email\n"Alice",a@x\n"Lovelace, Ada",ada@x\n',
            ("Alice", "Lovelace, Ada"),
        ),
        (
            '\ufeff"Email","Name"\r\nb@x,Bob\r\n\r\nc@x,"Carol ""C"" King"\r\n',
            ("Bob", 'Carol "C" King'),
        ),
        ("id;NAME;group\n1;Émile Borel;A\n2;王伟;B\n", ("Émile Borel", "王伟")),
        ("NAME\tmail\nDan\td@x\n", ("Dan",)),
        # one name per line, as before (a comma is part of the name)
        ("# week 3\nAlice\nLovelace, Ada\n", ("Alice", "Lovelace, Ada")),
    ],
)
def test_csv_rosters_use_the_name_column(text: str, names: tuple[str, ...]) -> None:
    assert parse_roster(text) == names


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name,email\n,x@y\n", "line 2: the name column is empty"),
        ('name,email\n"Alice,a@x\n', "line 2: not CSV"),
        ("name,email\nAda,a@x\nada,b@x\n", "also on line 2"),
        ("name,email\n\n", "names no students"),
        # Moodle's export has no name column: its header must not become a student
        ("First name,Surname,Email address\nAda,L,a@x\n", "no column called name"),
    ],
)
def test_bad_csv_rosters(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_roster(text)


def test_names_given_to_make_roster_are_never_read_as_csv() -> None:
    assert make_roster(["Name", "Smith, Name"], wrt="b", kinds="steps").names == (
        "Name",
        "Smith, Name",
    )


def test_a_csv_roster_on_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    roster = tmp_path / "export.csv"
    roster.write_text('name,email\n"Alice",a@x\n"Bob",b@x\n', encoding="utf-8")
    args = ["exercise", "--roster", str(roster), "--wrt", "b", "--kind", "steps"]
    result = runner.invoke(cli, [*args, "-o", str(tmp_path / "c.tex")])
    assert result.exit_code == 0, result.stderr
    assert [r["name"] for r in _index(tmp_path / "c-index.csv")] == ["Alice", "Bob"]
    text = (tmp_path / "c-alice.tex").read_text(encoding="utf-8")
    assert "Exercise sheet for Alice:" in text and "a@x" not in text


def test_names_pdflatex_cannot_print_are_named_on_stderr(
    runner: CliRunner, tmp_path: Path
) -> None:
    """王伟 printed as [U+738B][U+4F1F] on the sheet with no word said: the command now
    warns, naming those students (no Debian TeX Live package here typesets CJK or
    Cyrillic with pdflatex: no CJK, no T2A fonts)."""
    roster = _roster(tmp_path, ("Alice", "王伟", "Émile", "Анна"))
    args = ["exercise", "--roster", str(roster), "--wrt", "b", "--kind", "steps"]
    result = runner.invoke(cli, [*args, "-o", str(tmp_path / "c.tex")])
    assert result.exit_code == 0, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "Warning" in line]
    assert "王伟" in warning and "Анна" in warning and "[U+738B]" in warning
    assert "Alice" not in warning and "Émile" not in warning
    assert "[U+738B][U+4F1F]" in (tmp_path / "c-student-2.tex").read_text("utf-8")
    # Markdown prints every script: nothing to warn about
    md = runner.invoke(cli, [*args, "--format", "markdown", "-o", str(tmp_path / "m")])
    assert md.exit_code == 0 and "Warning" not in md.stderr
    latin = _roster(tmp_path, ("Alice", "Émile"))
    plain = runner.invoke(
        cli, ["exercise", "--roster", str(latin), "-o", str(tmp_path / "l.tex")]
    )
    assert plain.exit_code == 0 and "Warning" not in plain.stderr


# -- 5. the MSE loss's JSON answer --------------------------------------------------------------
@pytest.mark.parametrize("convention", ["xw", "torch", "column", "wx"])
def test_the_loss_formula_answer_is_numpy_that_check_reads(convention: str) -> None:
    """dY.loss_formula was "(Y − T)/N" with U+2212: it is now NumPy in ASCII, in the
    convention's letters and size names like the closed forms of the same JSON, and
    check's parser reads it to (Y − T)/N entry by entry."""
    import sympy as sp

    from symderiv.check import Env
    from symderiv.check.grammar import Names, parse
    from symderiv.check.values import evaluate

    sheet = make_sheet(seed=1, loss="mse", convention=convention, wrt="W")
    doc = json.loads(sheet_json(sheet))
    (blank,) = [b for b in doc["blanks"] if b["key"] == "dY.loss_formula"]
    answer = blank["answer"]
    assert answer.isascii(), answer
    assert "check" not in blank and "−" in blank["text"]
    (closed,) = [b for b in doc["blanks"] if b["kind"] == "closed_form"]
    letters = sheet.config.letters
    assert letters.of("Y") in answer and letters.of("T") in answer
    assert closed["answer"].isascii()
    names, env = Names.for_config(sheet.config), Env.from_config(sheet.config)

    def value(text: str) -> sp.Matrix:
        got = evaluate(parse(text, names), env)
        return sp.Matrix(sp.sympify(got.matrix.to_strings()))

    y, t = value(letters.of("Y")), value(letters.of("T"))
    assert y.shape == t.shape == sheet.derivation.upstream.shape
    assert t[0, 0] == sp.Symbol("t_1_1")
    difference = value(answer) - (y - t) / sheet.config.n
    assert difference.expand() == sp.zeros(*y.shape)
