"""Grading with symderiv: formulas, whole classes, and a student's backward function.

For autograders (Gradescope, PrairieLearn, otter, nbgrader, a plain script):

- :func:`formula` checks one formula string, as ``symderiv check`` does (never evaluated
  as Python), and returns a :class:`~symderiv.check.CheckResult`;
- :func:`batch` checks many rows (id, variable, formula, optional convention and sizes),
  or, in the wide layout, one row per student with a column per answer (id, dX, dW,
  db), read by :func:`read_rows` from CSV or JSON Lines; a variable may be written in
  any case (w, DW, dL/dW) when that names one; a malformed row or an empty answer gives
  a result with ``gradable: false`` and never stops the batch;
- :func:`gradescope` and :func:`prairielearn` turn a result into each platform's
  ``results.json``;
- :func:`function` checks a student's backward **function** by calling it on numpy object
  arrays whose entries are symbols, and compares what it returns entry by entry with the
  derivation. **It runs the student's code**: call it only inside the autograder's
  sandbox. It is reachable from this API only, never from the command line, whose
  "nothing is evaluated" promise stays.

>>> formula("np.sum(dout, axis=0)", "b").ok
True
>>> formula("np.mean(dout, axis=0)", "b").reason
'scale'
"""

from __future__ import annotations

import ast
import csv
import difflib
import io
import json
import linecache
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

from .algebra import Poly, PolyMatrix
from .check.grammar import CheckConfig, Formula
from .check.shapes import Dim, sizes_listed, sizes_text
from .check.values import _grid
from .check.verdict import (
    MAX_DEGREE,
    CheckResult,
    Triple,
    _Checker,
    _Outcome,
    _reference,
    _result,
    check_dict,
    check_formula,
    expected_shape,
    further_sizes,
    gradient_of,
    parse_error_dict,
    resolve_variable,
)
from .conventions import CONVENTIONS, VARIABLES, Config, check_size, get_convention
from .errors import ChoiceError, ShapeError, SymderivError, UsageError, clip
from .fileio import read_text
from .notation import Scalar

#: The most rows one batch reads.
MAX_ROWS = 1_000_000


def formula(
    text: str,
    var: str,
    *,
    convention: str = "xw",
    n: int = 2,
    d: int = 3,
    m: int = 4,
    names: Mapping[str, str] | None = None,
) -> CheckResult:
    """Check ``text`` as ∂L/∂var: :func:`symderiv.check.check_formula` with keywords.

    Raises:
        FormulaError: the formula cannot be read
            (:func:`symderiv.check.parse_error_dict` gives its JSON).
    """
    config = CheckConfig(n=n, d=d, m=m, convention=convention, names=dict(names or {}))
    return check_formula(config, var, text)


def dumps(document: Mapping[str, Any]) -> str:
    """One JSON document on one line (UTF-8 text, keys in their given order)."""
    return json.dumps(document, ensure_ascii=False) + "\n"


# -- platform formats -------------------------------------------------------------------------
#: One checked answer: :func:`symderiv.check.check_dict`'s JSON, or a :func:`batch` result.
Result = Mapping[str, Any]


def _title(data: Result) -> str:
    """A test's name: ∂L/∂W, or for a batch line read as no answer, ``line 3``."""
    letter = data.get("letter") or data.get("variable")
    if not letter and data.get("line") is not None:
        return f"line {data['line']}"
    return f"∂L/∂{letter or '?'}"


def _submission(results: Sequence[Result]) -> list[Result]:
    """``results`` (of :func:`batch`) as the answers of one submission, for a platform's
    ``results.json``, which holds one student's.

    Raises:
        UsageError: there are none; they carry the ids of two students or more (a
            class: its results are a table, one row per answer); or one variable is
            answered twice (each answer would score).
    """
    answers = list(results)
    if not answers:
        raise UsageError("there are no answers to grade")
    students = dict.fromkeys(
        None if a.get("id") is None or str(a["id"]).strip() == "" else str(a["id"])
        for a in answers
    )
    if len(students) > 1:
        listed = ", ".join(
            "no id" if s is None else clip(repr(s), 40) for s in list(students)[:3]
        )
        raise UsageError(
            f"a results.json holds one submission, but these are the answers of "
            f"{len(students)} students ({listed}{', …' if len(students) > 3 else ''}); "
            "grade a class with check --batch --format csv or json (one row per "
            "answer), or run check once per submission"
        )
    lines: dict[str, list[Any]] = {}  # variable -> the lines answering it
    for answer in answers:
        if answer.get("variable"):
            lines.setdefault(answer["variable"], []).append(answer.get("line"))
    for answer in answers:
        at = lines.get(answer.get("variable") or "", [])
        if len(at) > 1:
            raise UsageError(
                f"a results.json scores each answer once, but {_title(answer)} is "
                f"answered {len(at)} times (lines {', '.join(map(str, at))}): keep one"
            )
    return answers


def gradescope(data: Result | Sequence[Result], points: float = 1.0) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one submission: one checked answer, or the
    answers of one student's batch (:func:`batch`'s results: ``check --batch FILE``
    with the answers of one submission), one test each, in order.

    Each test: ``name`` ∂L/∂W, ``score`` ``points`` or 0 of ``max_score`` ``points``,
    ``status`` passed or failed, ``output`` the message (text). The top ``score`` is
    their sum; its ``output`` is the message of one answer (whose check JSON goes to
    ``extra_data``), or of several "2 of 3 answers right." (each test has its own JSON
    in ``extra_data``). An unreadable formula or an empty answer scores 0 with its
    message (Gradescope has no "not gradable").

    Raises:
        UsageError: ``points`` is negative, nan or infinite (JSON has no NaN or
            Infinity, and Gradescope rejects a document with them); or the results
            are no one submission's (see :func:`_submission`).
    """
    if not (math.isfinite(points) and points >= 0):
        raise UsageError(f"points must be a finite number >= 0, got {points!r}")
    one = isinstance(data, Mapping)
    answers = [data] if isinstance(data, Mapping) else _submission(data)
    tests = [
        {
            "name": _title(answer),
            "score": points if answer["ok"] else 0.0,
            "max_score": points,
            "status": "passed" if answer["ok"] else "failed",
            "output": answer["message"],
            "output_format": "text",
            **({} if one else {"extra_data": dict(answer)}),
        }
        for answer in answers
    ]
    right = sum(1 for answer in answers if answer["ok"])
    document = {
        "score": sum(test["score"] for test in tests),
        "output": answers[0]["message"]
        if one
        else f"{right} of {len(answers)} answers right.",
        "output_format": "text",
        "tests": tests,
    }
    return {**document, "extra_data": dict(answers[0])} if one else document


def prairielearn(data: Result | Sequence[Result]) -> dict[str, Any]:
    """PrairieLearn's external-grader ``results.json`` for one submission: one checked
    answer, or the answers of one student's batch (a question with several fields,
    whose ``submitted_answers`` are one wide JSON line), one test each, in order.

    ``score`` in [0, 1], the fraction right; ``message``; each test ``points`` of
    ``max_points`` 1. An unreadable formula or an empty answer makes the submission
    ``gradable: false`` with ``format_errors`` (each named by its variable when there
    are several), as PrairieLearn's own fields do, so the student loses no attempt.

    Raises:
        UsageError: the results are no one submission's (see :func:`_submission`).
    """
    one = isinstance(data, Mapping)
    answers = [data] if isinstance(data, Mapping) else _submission(data)
    errors = [
        a["message"] if one else f"{_title(a)}: {a['message']}"
        for a in answers
        if not a["gradable"]
    ]
    if errors:
        return {
            "gradable": False,
            "format_errors": errors,
            "message": "\n".join(errors),
        }
    right = sum(1 for answer in answers if answer["ok"])
    return {
        "gradable": True,
        "score": right / len(answers),
        "message": answers[0]["message"]
        if one
        else f"{right} of {len(answers)} answers right.",
        "tests": [
            {
                "name": _title(answer),
                "points": 1.0 if answer["ok"] else 0.0,
                "max_points": 1,
                "message": answer["message"],
            }
            for answer in answers
        ],
    }


# -- a whole class ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Defaults:
    """What a batch row that does not say takes: sizes, convention, display letters."""

    n: int = 2
    d: int = 3
    m: int = 4
    convention: str = "xw"
    names: Mapping[str, str] = field(default_factory=dict)


class Column(NamedTuple):
    """An answer column of the wide layout: its name as the header writes it (``dW``),
    the role it names (``W``), and that role's display letter (in the convention that
    read it: the batch's default one when it can)."""

    name: str
    role: str
    letter: str


@dataclass(frozen=True)
class RowError:
    """A line of a batch file that could not be read as a row (``id`` when it has one).

    In the wide layout it stands for one unreadable answer per column of ``columns``.
    """

    line: int
    message: str
    id: Any = None
    columns: tuple[Column, ...] = ()


Row = dict[str, Any]


@dataclass(frozen=True)
class WideRow:
    """A row of the wide layout, one row per student and one column per answer.

    Attributes:
        settings: the row's ``id``, ``line``, ``convention`` and sizes, as a long row's.
        answers: (the column; the formula in it, or None when the cell is empty), in
            the columns' order.
    """

    settings: Row
    answers: tuple[tuple[Column, Any], ...]


#: The columns a row may name its variable in (the first one present wins).
VARIABLE_COLUMNS = ("variable", "wrt", "var")
#: The columns of a row besides its variable and formula (``line`` is the reader's own).
SETTINGS = ("id", "convention", "n", "d", "m", "sizes", "line")
#: The columns that may hold a row's id, in any case, a space or hyphen read as ``_``
#: (``Student ID``): the first of these the header has is the id, the others are data.
ID_COLUMNS = (
    "id",
    "student_id",
    "sid",
    "student",
    "username",
    "login",
    "email",
    "name",
)
#: A wide column that names no variable but looks like an answer (dWW, dw1, grad_WW, W2,
#: x): refused, so that a typo in a header never drops a question unseen.
_ANSWER_LIKE = re.compile(
    r"(?:d(?:l[/_]?d)?|∂(?:l/∂)?|grad_)[^\W\d_]\w?|[^\W\d_]\d?", re.IGNORECASE
)
#: What a batch file's header must say, for the message that refuses one.
_LAYOUTS = (
    "it needs 'formula' and 'variable' (or 'wrt'), optionally 'id', 'convention', "
    "'n', 'd', 'm' or 'sizes'; or, for one row per student (the wide layout), a "
    "column per answer named for its variable, such as dX, dW, db, besides those"
)
#: The columns of the long layout, in lower case (the id's other names aside).
_LONG = ("formula", *VARIABLE_COLUMNS, *SETTINGS)
#: The long columns a typo of which can be told (n, d and m are too short).
_TYPO_OF = ("formula", *VARIABLE_COLUMNS, "convention", "sizes")


def read_rows(
    path: str, defaults: Defaults | None = None, notes: list[str] | None = None
) -> list[Row | RowError | WideRow]:
    """The rows of a CSV file (a header line, then rows) or a JSON Lines file.

    JSON Lines is recognised by its first non-blank character ``{``; a ``.jsonl`` or
    ``.ndjson`` name also says so. Each row gets its ``line`` number. A line that is not
    a JSON object, or a CSV line with too few fields, becomes a :class:`RowError` (with
    its id when it has one); the rest of the file is still read. In CSV a formula may be
    quoted (``"np.sum(dY, axis=0)"``) or not: only a formula has commas, so the fields a
    line has beyond the header's are the rest of its formula. The id is the first
    column of :data:`ID_COLUMNS` the header has (``id``, else ``student_id``, ``sid``,
    ``student``, ...).

    Two layouts: long, one answer per row (``id, variable, formula``); or wide, one
    row per student with one column per answer (``id, dX, dW, db``), read when the
    header (a JSON object's keys) has no ``formula`` or ``variable`` and a column
    names a variable (in any case, in some convention, with ``defaults.names``), each a
    different one. A wide row is a :class:`WideRow`: :func:`batch` gives one result per
    answer, as for a long row per (id, variable), an empty cell included. Its other
    columns (name, email, comment, ...) are not graded, and ``notes`` gets one line
    naming them, unless one looks like a mistyped answer (``dWW``, ``dw1``, a single
    letter): that header is refused. With several formula columns, a formula's commas
    cannot be told from the separators: such a formula must be quoted.

    A long row's columns (a JSON object's keys too) are read in any case, and the
    others are not read: ``notes`` gets one line naming them, unless one looks like a
    mistyped column (``conv``, ``formulas``) or two name one column (``Formula`` and
    ``formula``, ``variable`` and ``wrt``): that header is refused (that JSON line is
    a :class:`RowError`).

    Raises:
        UsageError: the file cannot be read at all, its CSV header fits neither
            layout, or it has more than :data:`MAX_ROWS`.
    """
    defaults = defaults or Defaults()
    names = tuple(sorted(defaults.names.items()))
    shown = "--batch " + ("standard input" if path == "-" else repr(path))
    text = read_text(path, shown, "a CSV or JSON Lines file", stdin=True)
    ignored: dict[str, None] = {}  # the wide columns not graded, in order
    skipped: dict[str, None] = {}  # the long ones not read
    if path.endswith((".jsonl", ".ndjson")) or text.lstrip().startswith("{"):
        rows = list(_json_lines(text, names, defaults.convention, ignored, skipped))
        what = "key"
    else:
        rows = list(_csv_rows(text, path, names, defaults.convention, ignored, skipped))
        what = "column"
    if len(rows) > MAX_ROWS:
        raise UsageError(
            f"the batch file has {len(rows):,} rows; the limit is {MAX_ROWS:,}"
        )
    if notes is not None:
        unread = "{are} not read (a row's are id, variable, formula, convention, "
        unread += "n, d, m, sizes)"
        for keys, said in (
            (ignored, "name{s} no variable: not graded"),  # wide
            (skipped, unread),  # long
        ):
            if keys:
                listed = ", ".join(clip(repr(k), 40) for k in list(keys)[:8])
                more = f" and {len(keys) - 8} more" if len(keys) > 8 else ""
                one = len(keys) == 1
                verb = said.format(s="s" * one, are="is" if one else "are")
                notes.append(f"the {what}{'s' * (not one)} {listed}{more} {verb}")
    return rows


def _normal(key: str) -> str:
    """A column's name as :data:`ID_COLUMNS` says it: lower case, spaces and hyphens _."""
    return re.sub(r"[\s-]+", "_", key.strip().lower())


@lru_cache(maxsize=64)  # the lines of a JSON Lines file mostly have the same keys
def _long_keys(keys: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The keys of a long header that are not read, as written: of the pairs (a key
    as written, in lower case with the id's column named ``id``), those whose lower
    case is not of :data:`_LONG` (a key without a name is left out).

    Raises:
        UsageError: a key looks like a mistyped column (``conv`` for convention: its
            rows would be graded in the default convention), or two keys name one
            column (``Formula`` and ``formula``; ``variable`` and ``wrt``).
    """
    seen: dict[str, tuple[int, str]] = {}  # column -> (where, its key as written)
    unread: list[str] = []
    typos: list[tuple[str, str]] = []  # (the key, the column it looks like)
    for at, (written, key) in enumerate(keys):
        if key in _LONG:
            column = "variable" if key in VARIABLE_COLUMNS else key
            first = seen.setdefault(column, (at, written))
            if first[0] != at:
                what = "the variable" if column == "variable" else repr(column)
                raise UsageError(f"{first[1]!r} and {written!r} both name {what}")
        elif key.strip() and (typo := _typo(key)) is not None:
            typos.append((clip(repr(written), 40), repr(typo)))
        elif key.strip():
            unread.append(written)
    if typos:
        keys_, meant = (", ".join(t[k] for t in typos[:3]) for k in (0, 1))
        more = ", …" if len(typos) > 3 else ""
        are = "is no column" if len(typos) == 1 else "are no columns"
        raise UsageError(f"{keys_}{more} {are} it reads (did you mean {meant}?)")
    return tuple(unread)


@lru_cache(maxsize=1024)
def _typo(key: str) -> str | None:
    """The long column ``key`` (lower case, not one of them) looks like a typo of:
    ``conv``, ``convension`` for convention; ``formulas``, ``formula2`` for formula;
    ``size`` for sizes. None for any other column (comment, email, score) and for
    the id's other names (sid, name)."""
    if _normal(key) in ID_COLUMNS:
        return None
    for name in _TYPO_OF:  # formula2, Formula (dW); conv, form
        if key.startswith(name) or (len(key) >= 3 and name.startswith(key)):
            return name
    close = difflib.get_close_matches(key, _TYPO_OF, n=1, cutoff=0.75)
    return close[0] if close else None


def _id_column(keys: Iterable[str]) -> str | None:
    """The key of ``keys`` that holds the id: the first of :data:`ID_COLUMNS` there."""
    found: dict[str, str] = {}
    for key in keys:
        found.setdefault(_normal(key), key)
    return next((found[c] for c in ID_COLUMNS if c in found), None)


def _json_lines(
    text: str,
    names: tuple[tuple[str, str], ...],
    convention: str,
    ignored: dict[str, None],
    skipped: dict[str, None],
) -> Iterator[Row | RowError | WideRow]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield RowError(number, f"line {number} is not JSON: {exc}")
            continue
        if not isinstance(row, dict):
            yield RowError(number, f"line {number} is not a JSON object")
            continue
        row = {k: v for k, v in row.items() if k.strip().lower() != "line"}  # ours
        key = _id_column(row)  # {"student": "ana", ...} or {"ID": 7, ...}: its id
        # a long row's keys in any case, as a CSV header's: {"Variable": "W", ...}
        lower = {k: "id" if k == key else k.strip().lower() for k in row}
        if (
            "formula" in lower.values()
            or set(VARIABLE_COLUMNS) & set(lower.values())
            or all(k in SETTINGS for k in lower.values())
        ):
            try:
                skipped.update(dict.fromkeys(_long_keys(tuple(lower.items()))))
            except UsageError as exc:
                yield RowError(
                    number,
                    f"line {number} has the keys {clip(', '.join(row), 200)}; "
                    f"{_LAYOUTS}: {exc}",
                    row.get(key) if key is not None else None,
                )
                continue
            read = {lower[k]: v for k, v in row.items() if lower[k] in _LONG}
            yield {**read, "line": number}  # a long row (or with no answer: check_row)
            continue
        row = {("id" if k == key else k): v for k, v in row.items()}
        row["line"] = number
        keys = tuple(k for k in row if k != "line")
        try:
            columns, unread = _answer_columns(keys, names, convention)
        except UsageError as exc:
            yield RowError(
                number,
                f"line {number} has the keys {clip(', '.join(keys), 200)}; "
                f"{_LAYOUTS}: {exc}",
                row.get("id"),
            )
            continue
        ignored.update(dict.fromkeys(unread))
        answers = {c.name for c in columns}
        settings = {
            k.strip().lower(): v
            for k, v in row.items()
            if k not in answers and k.strip().lower() in SETTINGS
        }
        yield WideRow(settings, tuple((c, row[c.name]) for c in columns))


@lru_cache(maxsize=64)
def _answer_columns(
    keys: tuple[str, ...], names: tuple[tuple[str, str], ...], convention: str
) -> tuple[tuple[Column, ...], tuple[str, ...]]:
    """The columns of a wide header (a JSON object's keys) that hold answers, and those
    that are not graded: of the keys but :data:`SETTINGS` (in any case) and those
    without a name, each that names a variable (in any case) in some convention with
    the display letters ``names`` is an answer (its role and letter as ``convention``
    says, else as the first convention that reads it); each row's convention says
    which at last. The rest are not graded, unless one looks like an answer.

    Raises:
        UsageError: why ``keys`` are no wide header: no answer is left, one looks
            like an answer but names no variable, or two name the same one.
    """
    # a column without a name (a spreadsheet's trailing comma) holds no answer
    keys = tuple(k for k in keys if k.strip() and k.strip().lower() not in SETTINGS)
    configs = []
    for name in sorted(CONVENTIONS, key=lambda c: c != convention):
        try:
            configs.append(_config(2, 3, 4, name, names))
        except SymderivError:  # names that do not fit this convention
            continue
    seen: dict[tuple[str, str], tuple[int, str]] = {}  # (convention, role) -> column
    columns: list[Column] = []
    unknown: list[str] = []
    ignored: list[str] = []
    # a few keys at most are read: 3 roles, 4 conventions
    for at, key in enumerate(keys):
        column = None
        for config in configs:
            try:
                role = resolve_variable(key.strip(), config, any_case=True)
            except ChoiceError:
                continue
            column = column or Column(key, role, config.letters.of(role))
            first = seen.setdefault((config.convention, role), (at, key))
            if first[0] != at:
                raise UsageError(
                    f"{first[1]!r} and {key!r} both name ∂L/∂{config.letters.of(role)}"
                )
        if column is not None:
            columns.append(column)
        elif _ANSWER_LIKE.fullmatch(key.strip()):
            unknown.append(clip(repr(key), 60))
            if len(unknown) > 3:
                break
        else:
            ignored.append(key)
    if unknown:
        listed = ", ".join(unknown[:3]) + (", …" if len(unknown) > 3 else "")
        raise UsageError(f"{listed} name{'s' * (len(unknown) == 1)} no variable")
    if not columns:
        shown = ", ".join(clip(repr(k), 60) for k in ignored[:3])
        also = f" ({shown}{', …' if len(ignored) > 3 else ''} name"
        also += f"{'s' * (len(ignored) == 1)} no variable)"
        raise UsageError(f"it has no answer column{also if ignored else ''}")
    return tuple(columns), tuple(ignored)


def _cut(text: Any) -> bool:
    """Whether ``text`` opens more parentheses or brackets than it closes, as a formula
    cut at an unquoted comma does (``np.sum(dY``)."""
    return isinstance(text, str) and (
        text.count("(") > text.count(")") or text.count("[") > text.count("]")
    )


def _csv_rows(
    text: str,
    path: str,
    names: tuple[tuple[str, str], ...],
    convention: str,
    ignored: dict[str, None],
    skipped: dict[str, None],
) -> Iterator[Row | RowError | WideRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        written = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise UsageError(f"cannot read the batch file {path!r} as CSV: {exc}") from exc
    # column names in any case: a spreadsheet's "ID,Variable,Formula" is the same file
    header = [h.lower() for h in written]
    key = _id_column(written)
    if key is not None:  # Student ID, SID, email, ...: the id
        header[written.index(key)] = "id"
    refused = (
        f"the batch file {path!r} has the columns {clip(', '.join(written), 200)}; "
        f"{_LAYOUTS}"
    )
    columns: tuple[Column, ...] = ()  # the wide layout's answer columns
    if any(header) and ("formula" in header or set(VARIABLE_COLUMNS) & set(header)):
        if "formula" not in header or not set(VARIABLE_COLUMNS) & set(header):
            # every row would be ungradable: say it once, before grading anything
            raise UsageError(refused)
        try:  # conv for convention would grade every row in the default one
            pairs = tuple(zip(written, header, strict=True))
            skipped.update(dict.fromkeys(_long_keys(pairs)))
        except UsageError as exc:
            raise UsageError(f"{refused}: {exc}") from None
    elif any(header):
        keys = tuple(
            "id" if h == "id" else w for h, w in zip(header, written, strict=True)
        )
        try:
            columns, unread = _answer_columns(keys, names, convention)
        except UsageError as exc:
            raise UsageError(f"{refused}: {exc}") from None
        ignored.update(dict.fromkeys(unread))
    if columns:  # the fields a formula may be in
        at = {c.name: written.index(c.name) for c in columns}
        formulas = list(at.values())
    else:
        formulas = [header.index("formula")] if "formula" in header else []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number = reader.line_num
            yield RowError(number, f"line {number} is not valid CSV: {exc}")
            continue
        number = reader.line_num
        if not cells or not any(c.strip() for c in cells):
            continue
        extra = len(cells) - len(header)
        if extra > 0 and len(formulas) == 1:
            # Only a formula has commas (np.sum(dY, axis=0)): unquoted, they split it
            # into more fields than the header has, and the surplus is the formula's.
            first = formulas[0]
            cells[first : first + extra + 1] = [
                ",".join(cells[first : first + extra + 1])
            ]
        if len(cells) != len(header):
            where = header.index("id") if "id" in header else len(cells)
            why = (
                ": with several formula columns, a formula with commas must be quoted "
                '("np.sum(dY, axis=0)")'
                if extra > 0 and any(_cut(c) for c in cells)
                else ""
            )
            yield RowError(
                number,
                f"line {number} has {len(cells)} fields, but the header has "
                f"{len(header)} ({', '.join(written)}){why}",
                (cells[where].strip() or None) if where < len(cells) else None,
                columns,
            )
            continue
        row: Row = {k: v for k, v in zip(header, cells, strict=True) if v.strip() != ""}
        row["line"] = number
        if columns:
            settings = {k: v for k, v in row.items() if k in SETTINGS}
            yield WideRow(
                settings,
                tuple(
                    (c, cells[at[c.name]] if cells[at[c.name]].strip() else None)
                    for c in columns
                ),
            )
        else:
            yield row


def _size(row: Row, key: str, default: int) -> int:
    value = row.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{key} must be a whole number >= 1, got {value!r}")
    try:
        return check_size(key, value)
    except ShapeError as exc:  # a row's column n, not the option --n
        raise ShapeError(str(exc).removeprefix("--")) from None


def _sizes(row: Row, defaults: Defaults) -> tuple[int, int, int]:
    """A row's N, D, M: its ``sizes`` (``2x3x4``, or ``[2, 3, 4]`` in JSON Lines) or
    its ``n``, ``d``, ``m``, else the defaults'.

    Raises:
        UsageError: one is no whole number >= 1 (or too large), or ``sizes`` and
            ``n``, ``d`` or ``m`` disagree.
    """
    fallback = (defaults.n, defaults.d, defaults.m)
    own = tuple(_size(row, k, f) for k, f in zip("ndm", fallback, strict=True))
    sizes = row.get("sizes")
    if sizes is None:
        return (own[0], own[1], own[2])
    parts = (
        list(sizes)
        if isinstance(sizes, list)
        else str(sizes).lower().replace("×", "x").split("x")
    )
    if len(parts) != 3:
        raise UsageError(
            f"sizes must be NxDxM such as 2x3x4 (or [2, 3, 4]), got {sizes!r}"
        )
    listed = tuple(_size({k: p}, k, 0) for k, p in zip("ndm", parts, strict=True))
    clash = [
        f"{k} {row[k]!r}"
        for k, mine, theirs in zip("ndm", own, listed, strict=True)
        if row.get(k) is not None and mine != theirs
    ]
    if clash:
        raise UsageError(
            f"the columns disagree: sizes {sizes!r} but {', '.join(clash)}; "
            "give the sizes once"
        )
    return (listed[0], listed[1], listed[2])


def check_row(
    row: Row,
    defaults: Defaults,
    column: str | Column | None = None,
) -> dict[str, Any]:
    """One batch row's result: the check's JSON with ``id`` and ``line`` in front.

    ``column`` is the wide layout's answer column (``dW``; ``row["formula"]`` is its
    cell, None when empty); else the row names its variable in a column of
    :data:`VARIABLE_COLUMNS`. The variable may be written in any case when that names
    one role (``w``, ``DW``, ``dL/dW``); ``variable`` is the role, ``letter`` its
    display letter, and ``given`` what the row wrote when it is neither (a wide
    column's name always, so that every result of a column says the same, whatever
    happens to its row).

    A row without a variable or formula (a wide row's empty cell: "no answer"), with
    an unknown convention or variable, or with sizes that are not whole numbers (or
    are too large, or disagree) gets ``gradable: false`` and reason ``row``; a formula
    that cannot be read gets reason ``parse``.
    """
    head = {"id": row.get("id"), "line": row.get("line")}
    wide = column is not None
    role = letter = ""  # until the variable is known
    if isinstance(column, Column):  # the role and letter its header names
        role, letter = column.role, column.letter
        column = column.name
    if column is None:
        column = next((k for k in VARIABLE_COLUMNS if k in row), "variable")
        var = row.get(column)
    else:
        var = column
        head["given"] = column
    text = row.get("formula")
    convention = row.get("convention", defaults.convention)
    try:
        if not isinstance(var, str) or not var.strip():
            raise UsageError("the row has no variable (a column 'variable': X, W or b)")
        if not isinstance(convention, str):
            raise UsageError(f"convention must be text, got {convention!r}")
        try:
            convention = get_convention(convention.strip().lower()).name
            n, d, m = _sizes(row, defaults)
        except SymderivError as exc:
            if _cut(text):  # np.sum(dY, 0) unquoted: " 0)" landed in the next column
                raise UsageError(
                    f"the formula {clip(str(text), 60)!r} seems cut at a comma: quote it, "
                    f'as in "np.sum(dY, axis=0)" ({exc})'
                ) from None
            raise
        names = tuple(sorted(defaults.names.items()))
        config = _config(n, d, m, convention, names)
        role = resolve_variable(
            var.strip(), config, f"column {column!r}", any_case=True
        )
        letter = config.letters.of(role)
        if not wide and var.strip() not in (role, letter):
            head["given"] = var.strip()
        if text is None or (wide and isinstance(text, str) and not text.strip()):
            raise UsageError(
                f"no answer: the column {column!r} is empty"
                if wide
                else "the row has no formula (a column 'formula')"
            )
        if not isinstance(text, str):
            raise UsageError(f"formula must be text, got {text!r}")
        _guard(n, d, m, convention, role)
    except SymderivError as exc:
        out = _row_error(role or var, text, convention, str(exc))
        if role:
            out["letter"] = letter  # the row's, else the one its column names
        return {**head, **out}
    return {**head, **check_dict(config, role, text)}


@lru_cache(maxsize=256)
def _config(
    n: int, d: int, m: int, convention: str, names: tuple[tuple[str, str], ...]
) -> Config:
    """A row's Config (cached: a class has few distinct settings)."""
    return CheckConfig(n=n, d=d, m=m, convention=convention, names=dict(names))


@lru_cache(maxsize=256)
def _guard(n: int, d: int, m: int, convention: str, role: str) -> None:
    """The size guard of a row's derivation, in check's words (cached; raises
    TooLargeError)."""
    from .guard import check_guard

    check_guard(Config(n=n, d=d, m=m, convention=convention, wrt=(role,)))


def _row_error(var: Any, text: Any, convention: Any, message: str) -> dict[str, Any]:
    out = parse_error_dict(
        var if isinstance(var, str) else "",
        text if isinstance(text, str) else "",
        convention if isinstance(convention, str) else "",
        message,
    )
    out["reason"] = "row"
    return out


def _line_error(row: RowError, column: Column | None) -> dict[str, Any]:
    """The result of an unreadable line (for the wide ``column``: its answer's)."""
    head = {"id": row.id, "line": row.line}
    if column is None:
        return {**head, **_row_error(None, None, None, row.message)}
    out = _row_error(column.role, None, None, row.message)
    out["letter"] = column.letter
    return {**head, "given": column.name, **out}


def batch(
    rows: Iterable[Row | RowError | WideRow],
    defaults: Defaults | None = None,
    notes: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """One result per row, in order (a wide row: one per answer, in its columns'
    order); a malformed row never stops the batch.

    Every row is graded, a second answer of one id to one variable too; once all are,
    ``notes`` gets a line naming such repeats, and one naming the rows without an id,
    for a TA to look at.
    """
    defaults = defaults or Defaults()
    lines: dict[tuple[str, str], list[int]] = {}  # (id, variable) -> its lines
    anonymous: list[int] = []  # the lines of rows without an id
    for row in rows:
        if isinstance(row, RowError):
            # a wide line: each answer's zero
            results = [_line_error(row, column) for column in row.columns or (None,)]
        elif isinstance(row, WideRow):
            results = [
                check_row({**row.settings, "formula": text}, defaults, column)
                for column, text in row.answers
            ]
        else:
            results = [check_row(row, defaults)]
        for result in results:
            student = result["id"]
            if student is None or str(student).strip() == "":
                if not isinstance(row, RowError) and result is results[0]:
                    anonymous.append(result["line"])
            elif result["variable"]:
                key = (str(student).strip(), result["variable"])
                lines.setdefault(key, []).append(result["line"])
            yield result
    if notes is None:
        return
    repeats = [(key, at) for key, at in lines.items() if len(at) > 1]
    if repeats:
        shown = "; ".join(
            f"{clip(repr(student), 40)} {var} {len(at)} times (lines "
            f"{', '.join(map(str, at[:5]))}{', …' if len(at) > 5 else ''})"
            for (student, var), at in repeats[:3]
        )
        more = f"; and {len(repeats) - 3} more" if len(repeats) > 3 else ""
        notes.append(f"answered more than once, each graded: {shown}{more}")
    if anonymous:
        listed = ", ".join(map(str, anonymous[:5])) + (
            ", …" if len(anonymous) > 5 else ""
        )
        rows_ = "a row has" if len(anonymous) == 1 else f"{len(anonymous)} rows have"
        notes.append(f"{rows_} no id (line{'s' * (len(anonymous) > 1)} {listed})")


# -- a student's function -----------------------------------------------------------------------
class Entry:
    """An entry of a symbolic array: an exact polynomial that numpy can add and multiply.

    numpy object arrays of Entry go through ``@``, ``.T``, ``np.dot``, ``np.sum``,
    ``np.mean``, ``reshape`` and broadcasting as numbers would; comparisons and
    functions such as ``np.exp`` are refused (TypeError), as they have no exact value.
    """

    __slots__ = ("poly",)

    def __init__(self, poly: Poly) -> None:
        self.poly = poly

    @staticmethod
    def of(value: Any) -> Poly:
        """``value`` as a Poly: an Entry, or a Python or numpy number (floats exactly)."""
        if isinstance(value, Entry):
            return value.poly
        if isinstance(value, bool):
            return Poly.const(int(value))
        if isinstance(value, (int, Fraction)):
            return Poly.const(value)
        if isinstance(value, float) or hasattr(value, "dtype"):
            number = float(value)
            if not math.isfinite(number):
                raise TypeError(f"{value!r} is not a finite number")
            exact = Fraction(number).limit_denominator(10**9)
            return Poly.const(exact)
        raise TypeError(f"cannot use a {type(value).__name__} in a symbolic entry")

    def __add__(self, other: Any) -> Entry:
        return Entry(self.poly + Entry.of(other))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Entry:
        return Entry(self.poly - Entry.of(other))

    def __rsub__(self, other: Any) -> Entry:
        return Entry(Entry.of(other) - self.poly)

    def __mul__(self, other: Any) -> Entry:
        return Entry(self.poly * Entry.of(other))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Entry:
        divisor = Entry.of(other).constant()
        if divisor is None or divisor == 0:
            raise TypeError("a symbolic entry divides by a nonzero number only")
        return Entry(self.poly.scale(Fraction(1) / Fraction(divisor)))

    def __neg__(self) -> Entry:
        return Entry(-self.poly)

    def __pos__(self) -> Entry:
        return self

    def __bool__(self) -> bool:
        raise TypeError("a symbolic entry has no truth value (no comparisons, no if)")

    def __repr__(self) -> str:
        return self.poly.to_str()


class Inputs:
    """The symbolic arrays a backward function is called with.

    Attributes (numpy object arrays of :class:`Entry`, stored as the convention stores
    them): ``X`` (N, D), ``W`` (D, M) or (M, D), ``b`` (M,) in xw and torch or (M, 1) in
    column, ``Y`` the forward output (N, M), ``dY`` the upstream ∂L/∂Y (N, M). The
    convention's letters name them too (``A``, ``Z``, ``dLdZ``; ``x``, ``y``), and
    ``dout`` is dY.
    """

    def __init__(
        self, config: Config, layer: Any, values: Mapping[str, Poly] | None = None
    ) -> None:
        self.config, self.layer, self.values = config, layer, values
        self.arrays: dict[str, Any] = {}  # role -> array, built when first asked for
        letters = config.letters
        self.roles = {"dout": "dY"}
        for role in ("X", "W", "b", "Y", "dY"):
            self.roles.setdefault(role, role)
            self.roles.setdefault(letters.of(role), role)

    def array(self, role: str) -> Any:
        """The array of ``role`` (X, W, b, Y or dY), stored as the convention does."""
        import numpy as np

        if role not in self.arrays:
            layer = self.layer
            matrix = layer.Y if role == "Y" else layer.matrix(role)
            entries = matrix.vec("row")
            if self.values is None:  # symbols, in an object array
                array = np.array([Entry(p) for p in entries], dtype=object)
            else:  # the entries' whole-number values, in a float array
                values = [float(p.subs(self.values).constant() or 0) for p in entries]
                array = np.array(values)
            one_d = role == "b" and not self.config.conv.bias_column  # b stored (M,)
            shape = (matrix.cols,) if one_d else matrix.shape
            self.arrays[role] = array.reshape(shape)  # row-major, as numpy
        return self.arrays[role]

    def __getattr__(self, name: str) -> Any:
        role = self.__dict__.get("roles", {}).get(name)
        if role is None:
            raise AttributeError(name)
        return self.array(role)


@dataclass(frozen=True)
class FunctionReport:
    """The verdict on a student's backward function.

    Attributes:
        ok: every output is right at every size triple, and the function never raised.
        results: variable -> CheckResult (formula ``"<function>"``), one per output.
        message: every verdict in words, one per output.
        error: what the function raised and at which sizes (the first time), else "".
    """

    ok: bool
    results: Mapping[str, CheckResult]
    message: str
    error: str = ""


def function(
    fn: Callable[[Inputs], Any],
    *,
    convention: str = "xw",
    n: int = 2,
    d: int = 3,
    m: int = 4,
    outputs: Sequence[str] = VARIABLES,
    further: Iterable[Triple] | None = None,
) -> FunctionReport:
    """Check a student's backward function symbolically, entry by entry. **Runs ``fn``.**

    ``fn`` is called once per size triple (the given one and :func:`further_sizes`) with
    :class:`Inputs`, and returns the gradients named in ``outputs``, as a tuple in that
    order or a dict keyed by them; for example, a CS231n-style function::

        report = grade.function(lambda s: affine_backward(s.dout, (s.X, s.W, s.b)))

    Each output must have its variable's shape (a bias may be 1-D in xw and torch) and
    equal the derivation's result exactly, at every size triple.

    Which sizes: a function can compute with its sizes in any way, so no finite set of
    sizes proves it right in general (``* (1 + (N-2)*(N-3)*(N-6))`` is wrong only away
    from the sizes tried). When its source (``fn`` and all it reaches: the functions,
    classes and objects it names, a module's attributes it names however the module
    was loaded, a dict's or list's items; see :func:`_uses_sizes`) never reads a shape,
    ``len`` or ``size``, names a size (N, D, M) or loops, it is checked on the degree-1
    grid (4 more triples), as a formula without sizes is. Otherwise, or when some of
    that code cannot be read (``exec``, a lookup by string such as ``getattr`` or
    ``importlib.import_module``), it is checked on the degree-6 grid
    (:data:`~symderiv.check.verdict.MAX_DEGREE`, 84 more triples, the most ``check``
    uses), about 0.3 to 0.8 s for a whole layer: a dependence on the sizes through a
    polynomial of degree up to 6 in them is caught. A higher degree, a branch on a
    size, or a size got without naming it (``np.ones_like(x).sum()``) can still escape.

    A function that keeps its arrays as floats (``dw = np.zeros(w.shape)``, then
    ``dw[:] = ...``; ``.astype(float)``) cannot hold symbols; where calling it on symbols
    raises, it is called again on float arrays of random whole numbers (±1..999) and
    checked there, exactly (such sums and products are exact in float64), against the
    derivation's result at the same numbers. The report's message says so.

    When ``fn`` raises at some sizes (``np.ones(2) @ dout`` is right at N=2 only), the
    report's ``error`` says where and what, and each output is judged on its own, as a
    course grades each gradient:

    - the output whose computation raised (found from the traceback: the line assigning
      ``db = ...``, or the item of a returned tuple or dict) is wrong there, reason
      ``error``, its message naming the sizes and the exception;
    - an output it had already finished is read back from the student's frames (a local
      named for it, ``dx``, ``dLdW``, ``grad_b``, that no later line changes or uses
      but to return it; or ``self.dX`` set before the line that raised) and judged at
      those sizes too, so a sound dX is never blamed for db's crash, and a wrong one
      cannot hide behind it;
    - an output that could not be read back (computed inside the returned tuple,
      changed after the line that raised, in a loop around it, or the crash came before
      it) is not checked there, and so never credited: it is wrong with reason
      ``error``, its message naming the sizes where it could not be checked and why,
      even if it was right wherever it was checked (no credit on fewer sizes than a
      check needs).

    Returns:
        A FunctionReport; the first wrong entry of each output is named in its result.
    """
    config = Config(n=n, d=d, m=m, convention=convention)
    roles = [resolve_variable(v, config) for v in outputs]
    given: Triple = (n, d, m)
    if further is None:
        degree = MAX_DEGREE if _uses_sizes(fn, config) else 1
        further = further_sizes(given, (), degree)
    triples = (given, *further)
    placeholder = Formula("<function>", Scalar(Fraction(0)))
    checkers = {role: _Checker(config, role, placeholder) for role in roles}
    seen: dict[str, list[_Outcome]] = {role: [] for role in roles}  # in size order
    skipped: dict[str, list[Triple]] = {role: [] for role in roles}
    why_skipped: dict[str, str] = {}
    error, numbers = "", False
    for triple in triples:
        layer = _reference(triple, convention, roles[0])[1]
        point: dict[str, Poly] | None = None
        symbolic: dict[str, Any] = {}  # read back from the run on symbols, if it raised
        in_symbols: set[str] = set()  # outputs judged in symbols though point is set
        try:
            try:
                values = _outputs(fn(Inputs(config, layer)), roles)
            except Exception as first:  # np.zeros(...) cannot hold symbols: try numbers
                symbolic = _computed(first, roles, config)
                point = _whole_numbers(layer, triple)
                values = _outputs(fn(Inputs(config, layer, point)), roles)
        except Exception as exc:  # the student's code may raise anything
            raised = f"{type(exc).__name__}: {exc}"
            at = sizes_text(config.size_names, triple)
            error = error or f"at {at} the function raised {raised}"
            culprit = _culprit(exc, roles, config)
            # what it had computed by then, in symbols where the first run had
            values = {**_computed(exc, roles, config), **symbolic}
            in_symbols = set(symbolic)
            for role in roles:
                if role == culprit:
                    why = f"at {at} computing it raised {raised}"
                    seen[role].append(_Outcome(triple, "error", why))
                elif role not in values:
                    skipped[role].append(triple)
                    letter = config.letters.of(role)
                    why_skipped.setdefault(
                        role,
                        f"at {at} the function raised {raised}; by then ∂L/∂{letter} "
                        f"was not final in a variable of its own (d{letter}, "
                        f"self.d{letter}), where it could have been read back",
                    )
            values.pop(culprit or "", None)
        for role in values:
            # judged until it is first wrong, or on while wrong only by a factor: the
            # hint names a size only if the factor is that size at every triple
            if all(o.ok or o.reason == "scale" for o in seen[role]):
                at_point = None if role in in_symbols else point
                numbers = numbers or at_point is not None
                seen[role].append(
                    _check_array(checkers[role], triple, values[role], at_point)
                )
    results: dict[str, CheckResult] = {}
    for role in roles:
        outcomes = seen[role] or [_Outcome(given, "error")]
        final = next((o for o in outcomes if not o.ok), outcomes[0])
        if final.reason == "scale":
            factors = [(o.triple, Fraction(1) if o.ok else o.ratio) for o in outcomes]
            factors.sort(key=lambda pair: pair[0] != final.triple)  # its own first
            final = replace(final, hint=checkers[role].scale_hint(final, factors))
        checked = tuple(o.triple for o in seen[role])  # where it was judged, no more
        results[role] = _result(checkers[role], final, checked, outcomes[0])
        if final.ok or not seen[role]:  # never wrong, but not checked everywhere
            results[role] = _unchecked(
                results[role], checked, skipped[role], why_skipped.get(role, "")
            )
    ok = not error and all(r.ok for r in results.values())
    message = "\n".join(r.message for r in results.values())
    if numbers:
        message += (
            "\n(the function stores entries in float arrays, where symbols cannot go, so "
            "where it did it was checked on random whole numbers, exactly)"
        )
    return FunctionReport(ok, results, message, error=error)


def _unchecked(
    result: CheckResult,
    checked: tuple[Triple, ...],
    skipped: Sequence[Triple],
    why: str,
) -> CheckResult:
    """``result`` (right wherever it was judged, if anywhere) when the function raised
    before computing it at ``skipped``: not credited, reason ``error``; no evidence
    from fewer sizes than a check needs counts."""
    if not skipped:
        return result
    names = result.size_names
    head = f"∂L/∂{result.letter} from the function could not be checked at "
    judged = (
        f"it is right where it was checked ({sizes_listed(names, checked)}), but "
        "fewer sizes than a check needs are no evidence, so it gets no credit"
        if checked
        else "it was never computed"
    )
    message = (
        f"{head}{sizes_listed(names, skipped)} (convention {result.convention}): "
        f"{judged}.\n  {why}"
    )
    return replace(
        result,
        ok=False,
        reason="error",
        message=message,
        hint="",
        failed_at=skipped[0],
        got_shape=None,
    )


#: Code that reads the sizes: ``x.shape``, ``len(x)``, ``x.size``, ``np.shape(x)``, or
#: counts them in a loop (``for row in x``).
_SIZES = (
    r"\.\s*shape\b|\bshape\s*\(|\blen\s*\(|\.\s*size\b|\bsize\s*\("
    r"|\bfor\b|\bwhile\b"
)
#: The most functions, classes, modules and containers :func:`_uses_sizes` follows.
MAX_SOURCES = 40
#: Names through which code reaches code that its source does not name (an attribute
#: or a module looked up by a string, code run from a string): code that uses one
#: cannot be read, so it may compute with the sizes.
_DYNAMIC = frozenset(
    {
        "__dict__",
        "__getattribute__",
        "__globals__",
        "__import__",
        "attrgetter",
        "compile",
        "eval",
        "exec",
        "exec_module",
        "getattr",
        "globals",
        "import_module",
        "load_module",
        "locals",
        "methodcaller",
        "module_from_spec",
        "run_module",
        "run_path",
        "spec_from_file_location",
        "vars",
    }
)
#: Modules whose code is trusted not to hide the sizes (they are never the student's).
_TRUSTED = ("numpy", "symderiv")


def _uses_sizes(fn: Callable[..., Any], config: Config) -> bool:
    """Whether the student's code may compute with the sizes: its source (``fn`` and
    everything it reaches, followed up to :data:`MAX_SOURCES`) reads a shape or names
    N, D or M (the convention's sizes).

    What is followed: the names a function uses (globals, closure cells, defaults); a
    module's attributes it names (``frank.affine_backward``, however the module was
    loaded); the items of a dict, list or tuple (``ns["affine_backward"]``); an
    object's methods (up its classes) and attributes; a bound method's object; a
    ``functools.partial``'s function and arguments. Safe by default, anything that
    cannot be read counts as using the sizes: code whose source is not on disk
    (``exec``), a callable of unknown kind, a lookup by string (``getattr``,
    ``import_module``, ``eval``: :data:`_DYNAMIC`), more than :data:`MAX_SOURCES`
    things to read."""
    import functools
    import inspect
    import numbers

    import numpy as np

    names = "|".join(re.escape(n) for n in config.conv.sizes)
    sizes = re.compile(rf"{_SIZES}|\b(?:{names})\b")
    libraries = _libraries()
    plain = (str, bytes, numbers.Number, np.ndarray, np.generic, type(None))
    # each item with the names the code that reached it uses (a module's attributes)
    todo: list[tuple[Any, frozenset[str]]] = [(fn, frozenset())]
    done: set[int] = set()
    while todo and len(done) < MAX_SOURCES:
        item, named = todo.pop()
        if id(item) in done or isinstance(item, plain):
            continue
        done.add(id(item))
        if inspect.ismodule(item):
            if item.__name__.partition(".")[0] in _TRUSTED:
                continue
            table = vars(item)
            if any(a not in table for a in named) and "__getattr__" in table:
                return True  # a module that makes attributes up (PEP 562)
            todo.extend((table[a], named) for a in sorted(named) if a in table)
            continue
        if isinstance(item, (Mapping, list, tuple, set, frozenset)):
            items = list(item.values() if isinstance(item, Mapping) else item)
            if len(items) > MAX_SOURCES:
                return True
            todo.extend((v, named) for v in items)
            continue
        if inspect.isbuiltin(item):  # C code of Python's or numpy's
            if item.__name__ in _DYNAMIC:  # exec or getattr held as a value
                return True
            continue
        if isinstance(item, functools.partial):
            parts = [item.func, *item.args, *item.keywords.values()]
            todo.extend((v, named) for v in parts)
            continue
        if inspect.isclass(item) or not callable(item):  # a class or object: methods
            owner = item if inspect.isclass(item) else type(item)
            for klass in inspect.getmro(owner):
                if klass.__module__.partition(".")[0] in ("builtins", *_TRUSTED):
                    continue
                for value in vars(klass).values():
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    parts = (
                        [value.fget, value.fset]
                        if isinstance(value, property)
                        else [value]
                    )
                    todo.extend((v, named) for v in parts if inspect.isfunction(v))
            if not inspect.isclass(item) and hasattr(item, "__dict__"):
                todo.extend((v, named) for v in vars(item).values())  # its attributes
            continue
        if inspect.ismethod(item):
            todo.append((item.__self__, named))  # what self.impl(...) reaches
        function = inspect.unwrap(item.__func__ if inspect.ismethod(item) else item)
        if not inspect.isfunction(function):  # a callable object
            call = inspect.getattr_static(type(item), "__call__", None)
            if not inspect.isfunction(call):  # a ufunc, a C extension's callable, ...
                if type(item).__module__.partition(".")[0] == "numpy":
                    continue
                return True  # what it calls cannot be read: assume it may
            todo.extend([(call, named), (type(item), named)])
            if hasattr(item, "__dict__"):
                todo.extend((v, named) for v in vars(item).values())
            continue
        code = function.__code__
        if os.path.abspath(code.co_filename).startswith(libraries):
            continue
        try:
            source = inspect.getsource(code)
        except (OSError, TypeError):
            return True
        if sizes.search(re.sub(r"#.*", "", source)):  # comments aside
            return True
        read, attributes = _code_names(code)
        used = frozenset(attributes)  # what a module it reads is asked for
        if (read | attributes) & _DYNAMIC:
            return True
        scope = {**function.__globals__}
        for name, cell in zip(
            code.co_freevars, function.__closure__ or (), strict=False
        ):
            try:
                scope[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        defaults = [
            *(function.__defaults__ or ()),
            *(function.__kwdefaults__ or {}).values(),
        ]
        todo.extend((v, used) for v in defaults)
        todo.extend((scope[name], used) for name in sorted(read) if name in scope)
    return bool(todo)  # more code than was read: assume it may


#: The opcodes that read a global (or module-level) name, and those that name an attribute.
_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_ATTR_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "LOAD_SUPER_ATTR"})


def _code_names(code: Any) -> tuple[set[str], set[str]]:
    """The global and free names ``code`` and its nested functions read (``frank``,
    ``np``), and the attribute names they use (``affine_backward``, ``sum``), apart:
    a module's attribute is followed only when the code names it, and a global only
    when the code reads it, not when an attribute happens to share its name."""
    import dis

    names, attributes = set(code.co_freevars), set()
    for op in dis.get_instructions(code):
        if op.opname in _GLOBAL_OPS:
            names.add(op.argval)
        elif op.opname in _ATTR_OPS:
            attributes.add(op.argval)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            inner, attrs = _code_names(const)
            names |= inner
            attributes |= attrs
    return names, attributes


def _whole_numbers(layer: Any, triple: Triple) -> dict[str, Poly]:
    """Random whole numbers for every entry of X, W, b and dY (the same at the same
    sizes). Sums and products of them are exact in float64, so a function that keeps its
    arrays as floats is still checked exactly at this point; a wrong answer of degree 2
    in the entries agrees with the right one at a random point of ±1..999 with chance at
    most 2 in 1998 (Schwartz-Zippel), at each size triple independently."""
    import random

    draw = random.Random(repr(triple))
    atoms = sorted(
        {
            atom
            for role in ("X", "W", "b", "dY")
            for p in layer.matrix(role).vec("row")
            for atom in p.atoms()
        }
    )
    return {a: Poly.const(draw.choice((-1, 1)) * draw.randint(1, 999)) for a in atoms}


def _libraries() -> tuple[str, ...]:
    """The folders of numpy and symderiv: their frames are never the student's."""
    import numpy as np

    return tuple(
        os.path.dirname(os.path.abspath(path)) + os.sep
        for path in (np.__file__, __file__)
    )


def _student_frames(exc: BaseException) -> list[tuple[Any, Any]]:
    """Each frame of ``exc``'s traceback in the student's code, outermost first, with
    its ``traceback.FrameSummary`` (the line and columns it stood at)."""
    import traceback

    libraries = _libraries()
    tb = exc.__traceback__
    return [
        (frame, where)
        for (frame, _), where in zip(
            traceback.walk_tb(tb), traceback.extract_tb(tb), strict=True
        )
        if not os.path.abspath(where.filename).startswith(libraries)
    ]


def _computed(
    exc: BaseException, roles: Sequence[str], config: Config
) -> dict[str, Any]:
    """The gradients the function had finished when it raised ``exc``, from its frames'
    variables (innermost first): a local named for one (``dx``, ``dLdW``, ``grad_b``)
    that no later line of its function changes or uses but to pass it on
    (``return dx, dw, db``, ``self.dX = dx``), or an attribute of ``self`` (``self.dX``)
    the function set before the statement that raised and does not change later. A
    loop around it runs its body again, so the loop counts as later. Anything less
    certain is left out: then that output is not checked at these sizes."""
    found: dict[str, Any] = {}
    for frame, where in reversed(_student_frames(exc)):
        scope = _scope(where)
        around = _around(scope, where, ast.stmt)  # the statement that raised last
        loops = [s for s in around if isinstance(s, (ast.For, ast.AsyncFor, ast.While))]
        start = (loops or around[-1:] or [where])[0].lineno
        assigned = {  # self.dX = ..., self.dX[:] = ..., self.dX += ...
            ast.unparse(node.value if isinstance(node, ast.Subscript) else node)
            for node in ast.walk(scope)
            if isinstance(node, (ast.Attribute, ast.Subscript))
            and isinstance(node.ctx, ast.Store)
            and node.lineno < start
        }
        names = dict(frame.f_locals)  # the locals, then self's attributes
        owner = names.get("self")
        if hasattr(owner, "__dict__"):
            names.update({f"self.{k}": v for k, v in vars(owner).items()})
        for name, value in names.items():
            role = gradient_of(name, config)
            local = "." not in name  # a local must be passed on; self.dX set before
            if (
                role is not None
                and role in roles
                and role not in found
                and (local or name in assigned)
                and _passed_on(scope, name, start, must_leave=local)
            ):
                found[role] = value
    return found


def _scope(where: Any) -> ast.AST:
    """The innermost function (or lambda) in the source of ``where``'s file around the
    point it stood at, else the file's whole tree (empty when its source cannot be
    read). The source is only parsed, never run."""
    try:
        tree = _parse("".join(linecache.getlines(where.filename)))
    except (SyntaxError, ValueError):  # not Python, or no longer what ran
        tree = _parse("")
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    scopes: list[ast.AST] = [tree, *_around(tree, where, kinds)]
    return scopes[-1]


#: ast.parse, remembering the last few files (a function raises at every size triple).
_parse = lru_cache(maxsize=8)(ast.parse)


def _around(tree: ast.AST, where: Any, kinds: Any) -> list[Any]:
    """The nodes of ``kinds`` in ``tree`` around the point ``where`` (a FrameSummary)
    stood at, outermost first (anywhere on its line when the column is unknown)."""
    col = where.colno
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and (node.lineno, node.col_offset if col is not None else 0)
        <= (where.lineno, col or 0)
        < (node.end_lineno, node.end_col_offset if col is not None else math.inf)
    ]


def _passed_on(scope: ast.AST, name: str, start: int, must_leave: bool) -> bool:
    """Every mention of ``name`` in ``scope`` from line ``start`` on only passes it on,
    as a whole item (``return dx, x.T @ dout, db``, ``grads = {"X": dx}``,
    ``self.dX = dx``): no operator, call, index or attribute touches it, and nothing
    assigns it. With ``must_leave``, one must pass it on (a local never returned is
    not the output)."""
    parents = {
        child: node for node in ast.walk(scope) for child in ast.iter_child_nodes(node)
    }
    passed = False
    for node in ast.walk(scope):
        mention = isinstance(node, (ast.Name, ast.Attribute)) and node.lineno >= start
        if not mention or ast.unparse(node) != name:
            continue
        item: ast.AST = node
        while isinstance(parents[item], (ast.Tuple, ast.List, ast.Dict)):
            item = parents[item]
        home = parents[item]
        if isinstance(home, ast.Lambda):  # what a lambda returns
            home = ast.Return(home.body)
        kinds = (ast.Return, ast.Yield, ast.Assign, ast.AnnAssign, ast.Expr)
        if not isinstance(home, kinds) or item is not home.value:
            return False
        passed = True
    return passed or not must_leave


def _culprit(exc: Exception, roles: Sequence[str], config: Config) -> str | None:
    """The output whose computation raised ``exc``, from the student's line that raised
    (the innermost frame outside numpy and symderiv): the name it assigns (db, dLdb, dw,
    self.dLdW), or the item of a returned tuple or dict the error's column falls in.
    None when the line says neither (shared code): then no output can be blamed alone."""
    frames = _student_frames(exc)
    if not frames:
        return None
    where = frames[-1][1]
    scope = _scope(where)
    stmt = ([scope] + _around(scope, where, ast.stmt))[-1]  # a lambda has none
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        first = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        role = gradient_of(ast.unparse(first), config)  # db, self.dLdW; not db[:]
        if role in roles:
            return role
    returned = stmt.value if isinstance(stmt, ast.Return) else None
    if isinstance(stmt, ast.Lambda):
        returned = stmt.body
    items = returned.elts if isinstance(returned, ast.Tuple) else [returned]
    if isinstance(returned, ast.Dict):
        items = returned.values  # {"b": ...}: the key names it
    hit = [k for k, item in enumerate(items) if item and _around(item, where, ast.expr)]
    if len(items) != len(roles) or not hit or where.colno is None:
        return None
    key = returned.keys[hit[0]] if isinstance(returned, ast.Dict) else None
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        role = gradient_of("d" + key.value, config) or key.value
        return role if role in roles else None
    return roles[hit[0]]


def _outputs(returned: Any, roles: Sequence[str]) -> dict[str, Any]:
    if isinstance(returned, Mapping):
        missing = [r for r in roles if r not in returned]
        if missing:
            raise TypeError(f"the returned dict has no {', '.join(missing)}")
        return {r: returned[r] for r in roles}
    if len(roles) == 1 and not isinstance(returned, (tuple, list)):
        return {roles[0]: returned}
    items = list(returned)
    if len(items) != len(roles):
        raise TypeError(
            f"it returned {len(items)} values, expected {len(roles)} ({', '.join(roles)})"
        )
    return dict(zip(roles, items, strict=True))


def _check_array(
    checker: _Checker,
    triple: Triple,
    value: Any,
    point: Mapping[str, Poly] | None = None,
) -> _Outcome:
    """``value`` judged as ∂L/∂var at ``triple``; at whole numbers ``point`` when the
    function ran on them."""
    import numpy as np

    array = np.asarray(value, dtype=object)
    got = tuple(int(s) for s in array.shape)
    if len(got) > 2:
        want = expected_shape(checker, triple)
        return _Outcome(
            triple,
            "shape",
            f"it is {got}-shaped, but ∂L/∂{checker.letter} is {want}",
            got=got,
        )
    grid = array.reshape(_grid(got))
    entries: dict[tuple[int, int], Poly] = {}
    for (i, j), item in np.ndenumerate(grid):
        try:
            poly = Entry.of(item)
        except TypeError as exc:
            why = f"entry ({i + 1}, {j + 1}): {exc}"
            return _Outcome(triple, "entry", why, got=got)
        if not poly.is_zero():
            entries[i, j] = poly
    matrix = PolyMatrix(grid.shape[0], grid.shape[1], entries)
    labels = tuple(Dim(s, str(s)) for s in got)
    return checker.judge(triple, labels, matrix, point)


__all__ = [
    "Defaults",
    "Entry",
    "FunctionReport",
    "Inputs",
    "RowError",
    "WideRow",
    "batch",
    "check_row",
    "dumps",
    "formula",
    "function",
    "gradescope",
    "prairielearn",
    "read_rows",
]
