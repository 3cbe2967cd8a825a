"""Same command, same bytes: under any PYTHONHASHSEED, for every format and command.

Set and dict iteration order of strings depends on PYTHONHASHSEED, which is fixed when the
interpreter starts; so each seed gets its own fresh interpreter. That interpreter runs
every case below through the CLI (in-process, click's runner) and reports, per case, the
exit code and SHA-256 digests of stdout, stderr and any file written with ``-o``. The
digests must be identical across seeds 0, 1 and 12345 (and the cases must succeed).

Cases are built from the registered commands: every ``derive --format`` choice whose
printer module exists, in a few configurations (all conventions, both vec orders and
layouts, all losses, ``--names``, every method whose views exist), and ``check``,
``verify``, ``codegen``, ``conventions`` and ``exercise`` once they are registered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from symderiv.cli import cli

SEEDS = ("0", "1", "12345")

#: derive configurations: together they touch every convention, order, layout and loss.
DERIVE_CONFIGS: list[list[str]] = [
    ["--n", "2", "--d", "2", "--m", "3"],
    [
        "--n",
        "3",
        "--d",
        "2",
        "--m",
        "2",
        "--convention",
        "torch",
        "--vec",
        "col",
        "--layout",
        "numerator",
        "--loss",
        "mse",
    ],  # fmt: skip
    [
        "--n",
        "2",
        "--d",
        "3",
        "--m",
        "2",
        "--convention",
        "column",
        "--loss",
        "sum",
        "--wrt",
        "b,W",
        "--names",
        "Y=Out,X=In,dY=G",
    ],  # fmt: skip
]

#: Other commands: the arguments of each case (only registered commands run).
OTHER_CASES: list[list[str]] = [
    ["check", "--wrt", "W", "X.T @ dY"],
    ["check", "--wrt", "X", "dY @ W"],  # wrong: the explanation must be stable too
    ["check", "--convention", "column", "--wrt", "b", "dLdZ.T @ np.ones((N, 1))"],
    ["verify", "--seed", "3"],
    ["verify", "--convention", "torch", "--loss", "mse", "--seed", "5"],
    ["codegen"],
    ["codegen", "--convention", "column", "-o", "linear.py"],
    ["conventions", "--format", "text"],
    ["conventions", "--format", "latex"],
    ["conventions", "--format", "markdown"],
    ["exercise", "-o", "sheet.tex"],
    ["exercise", "--seed", "7", "--answers", "--format", "markdown"],
    [
        "derive",
        "--n",
        "2",
        "--d",
        "3",
        "--m",
        "2",
        "--format",
        "json",
        "--svg",
        "view.svg",
    ],
]


def _derive_formats() -> list[str]:
    option = next(p for p in cli.commands["derive"].params if p.name == "fmt")
    assert isinstance(option.type, click.Choice)
    return [str(c) for c in option.type.choices]


def _methods() -> list[str]:
    return ["jacobian", "index", "tensor", "all"]


def cases() -> list[list[str]]:
    """Argument vectors: every format of derive, every method, every other command."""
    out: list[list[str]] = []
    extension = {"latex": "tex", "beamer": "tex", "markdown": "md", "ipynb": "ipynb"}
    for fmt in _derive_formats():
        for k, config in enumerate(DERIVE_CONFIGS):
            args = ["derive", *config, "--format", fmt]
            if fmt in extension and k == 0:
                args += ["-o", f"out.{extension[fmt]}"]  # the file, not stdout
            out.append(args)
    for method in _methods()[1:]:
        out.append(["derive", "--method", method, "--format", "json"])
        out.append(["derive", "--method", method, "--format", "text"])
        out.append(["derive", "--method", method, "--format", "latex"])
    for args in OTHER_CASES:
        assert args[0] in cli.commands, f"{args[0]} is not a command"
        out.append(args)
    return out


SCRIPT = r"""
import hashlib, json, os, sys
from click.testing import CliRunner
from symderiv.cli import cli

def digest(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()

report = []
for k, args in enumerate(json.load(open(sys.argv[1], encoding="utf-8"))):
    folder = f"case{k}"
    os.mkdir(folder)
    os.chdir(folder)
    result = CliRunner().invoke(cli, args, prog_name="symderiv")
    files = {
        name: digest(open(name, "rb").read()) for name in sorted(os.listdir("."))
    }
    os.chdir("..")
    report.append({
        "args": args,
        "exit": result.exit_code,
        "stdout": digest(result.stdout),
        "stderr": digest(result.stderr),
        "files": files,
        "error": result.stderr[-300:] if result.exit_code else "",
    })
json.dump(report, sys.stdout)
"""


def _run(seed: str, argvs: list[list[str]], folder: Path) -> subprocess.Popen[str]:
    folder.mkdir()
    listing = folder.parent / f"cases-{seed}.json"
    listing.write_text(json.dumps(argvs), encoding="utf-8")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    for key in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        env.pop(key, None)
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(listing)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_same_bytes_under_every_hash_seed(tmp_path: Path) -> None:
    argvs = cases()
    assert len(argvs) >= 5
    procs = {seed: _run(seed, argvs, tmp_path / f"seed{seed}") for seed in SEEDS}
    reports: dict[str, list[dict[str, Any]]] = {}
    for seed, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        reports[seed] = json.loads(out)
    first = reports[SEEDS[0]]
    failures = [
        f"{' '.join(r['args'])}: exit {r['exit']}: {r['error']}"
        for r in first
        if r["exit"] != 0 and r["args"][:4] != ["check", "--wrt", "X", "dY @ W"]
    ]
    assert not failures, "\n".join(failures)
    for seed in SEEDS[1:]:
        for a, b in zip(first, reports[seed], strict=True):
            assert a == b, (
                f"{' '.join(a['args'])} differs between seeds {SEEDS[0]} and {seed}"
            )
    written = [r for r in first if r["files"]]
    assert all(r["files"] for r in first if "-o" in r["args"]), written


def test_the_wrong_check_answer_is_a_stable_exit_1() -> None:
    """The one case above allowed a non-zero exit is a wrong answer: exit 1, not a crash."""
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["check", "--wrt", "X", "dY @ W"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
