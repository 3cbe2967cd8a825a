"""Words a lecturer brings from other tools (``--order``, ``pytorch``, ``tex``) and near
misses (``colum``) get the symderiv name in the one-line error, and are still refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from symderiv.cli import cli
from symderiv.cli.__init__ import OPTION_SYNONYMS
from symderiv.cli.options import CHOICE_SYNONYMS


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["derive", "--order", "col"], "Did you mean '--vec'?"),
        (["derive", "--vectorization=col"], "Did you mean '--vec'?"),
        (["derive", "--view", "index"], "Did you mean '--method'?"),
        (["derive", "--conv", "torch"], "Did you mean '--convention'?"),
        (["derive", "--layers", "affine:3"], "Did you mean '--net'?"),
        (["verify", "--view", "index"], "No such option '--view'"),
        (["derive", "--convention", "pytorch"], "(did you mean 'torch'?)"),
        (["derive", "--convention", "Torch"], "(did you mean 'torch'?)"),
        (["derive", "--convention", "colum"], "(did you mean 'column'?)"),
        (["derive", "--format", "tex"], "(did you mean 'latex'?)"),
        (["derive", "--format", "pdf"], "(did you mean 'latex' with --pdf?)"),
        (["derive", "--format", "notebook"], "(did you mean 'ipynb'?)"),
        (["derive", "--vec", "column-major"], "(did you mean 'col'?)"),
        (["derive", "--method", "tensors"], "(did you mean 'tensor'?)"),
        (["derive", "--flavor", "jupiter"], "(did you mean 'jupyter'?)"),
        (["check", "--wrt", "X", "--convention", "pytorch", "dY @ W.T"], "'torch'?"),
        (["verify", "--convention", "pytorch"], "(did you mean 'torch'?)"),
    ],
)
def test_the_meant_name_is_suggested(
    runner: CliRunner, args: list[str], hint: str
) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert hint in result.stderr, result.stderr
    assert "Did you mean one of" not in result.stderr


def test_a_synonym_only_suggests_an_option_the_command_has(runner: CliRunner) -> None:
    # verify has no --method: "--view" must not point at an option verify lacks.
    result = runner.invoke(cli, ["verify", "--view", "index"])
    assert "--method" not in result.stderr


def test_nothing_close_gets_no_guess(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["derive", "--convention", "zzz"])
    assert result.exit_code == 2
    assert "did you mean" not in result.stderr.lower()


def test_every_synonym_points_at_a_real_name(runner: CliRunner) -> None:
    """A renamed option or choice must not leave a hint pointing at nothing."""
    derive = cli.commands["derive"]
    options = {opt for param in derive.params for opt in param.opts}
    assert set(OPTION_SYNONYMS.values()) <= options
    choices = {
        str(choice)
        for param in derive.params
        for choice in getattr(param.type, "choices", ())
    }
    assert {meant.split()[0] for meant in CHOICE_SYNONYMS.values()} <= choices
