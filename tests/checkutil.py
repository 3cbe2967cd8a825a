"""``refused_everywhere``: a formula check cannot grade, refused alike by the library and
the CLI in every output format (shared by the check review and JSON tests)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from symderiv.check import check_dict, check_formula
from symderiv.cli import cli
from symderiv.conventions import Config
from symderiv.errors import FormulaError


def refused_everywhere(convention: str, var: str, text: str, needle: str) -> None:
    """Refused (exit 2, one line saying ``needle``) by the library, and in text, json
    (gradable false) and gradescope alike, at check's default sizes N=2, D=3, M=4."""
    config = Config(n=2, d=3, m=4, convention=convention)
    with pytest.raises(FormulaError, match=re.escape(needle)):
        check_formula(config, var, text)
    data = check_dict(config, var, text)
    assert (data["gradable"], data["reason"]) == (False, "parse"), data
    common = ["check", "--convention", convention, "--wrt", var]
    result = CliRunner().invoke(cli, [*common, text])
    assert result.exit_code == 2 and needle in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    result = CliRunner().invoke(cli, [*common, "--format", "json", text])
    data = json.loads(result.stdout)
    assert result.exit_code == 2 and data["gradable"] is False, result.output
    assert needle in data["message"], data
    result = CliRunner().invoke(cli, [*common, "--format", "gradescope", text])
    assert result.exit_code == 2, result.output
