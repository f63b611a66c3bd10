"""`meshc check` without typer (meshc.cli.check_fast): the same options, output and exit codes
as the typer command, and no typer, pydantic, rich or ruamel.yaml on a clean check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meshc.cli import check_fast
from meshc.cli.output import CheckFormat
from tests.conftest import FIXTURES, ROOT, run_meshc


def _through_typer(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys\nfrom meshc.cli.app import app\napp(['check', *sys.argv[1:]])\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )


def test_the_fast_parser_knows_the_typer_commands_options() -> None:
    import typer.main

    from meshc.cli.app import app

    command = typer.main.get_command(app).commands["check"]  # type: ignore[attr-defined]
    options = {o for p in command.params for o in p.opts if o.startswith("-")}
    # --daemon never reaches the parser: meshc.cli.app takes it off the line (meshc.cli.daemon)
    assert options == set(check_fast.VALUED) | set(check_fast.FLAGS) | {"--daemon"}


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["check"], check_fast.CheckArgs()),
        (
            ["check", "a.yaml", "--strict", "-f", "json", "b.yaml", "--mesh=m.yaml"],
            check_fast.CheckArgs(
                ("a.yaml", "b.yaml"), CheckFormat.json, True, Path("m.yaml"), None
            ),
        ),
        (
            ["check", "--base", "HEAD", "--", "-odd.yaml"],
            check_fast.CheckArgs(("-odd.yaml",), base="HEAD"),
        ),
    ],
)
def test_plain_command_lines_are_parsed(argv: list[str], expected: check_fast.CheckArgs) -> None:
    assert check_fast.parse(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--help"],
        ["check", "--format", "xml"],  # typer names the choices, exit 2
        ["check", "--format"],
        ["check", "--format="],
        ["check", "-fjson"],
        ["check", "--strict", "--strict"],
        ["check", "-f", "json", "--format", "text"],
        ["check", "--strict=yes"],
        ["check", "--base", "--strict"],
        ["check", "--unknown"],
        ["run", "-c", "x.yaml"],
        ["--version"],
        [],
    ],
)
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert check_fast.parse(argv) is None


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "github"])
def test_same_output_and_exit_code_as_the_typer_command(fmt: str, seed_contract: Path) -> None:
    args = ("--format", fmt, str(FIXTURES / "five_problems.yaml"), str(seed_contract))
    fast, typer_path = run_meshc("check", *args), _through_typer(*args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        typer_path.returncode,
        typer_path.stdout,
        typer_path.stderr,
    )
    assert fast.returncode == 1 and "MC201" in fast.stdout


def test_clean_check_output_matches_rich(seed_contract: Path) -> None:
    clean = str(ROOT / "contracts" / "crm" / "orders.yaml")
    fast, typer_path = run_meshc("check", clean), _through_typer(clean)
    assert fast.stdout == typer_path.stdout == "✓ 1 contract(s) OK\n"
    assert fast.returncode == typer_path.returncode == 0


def test_help_and_usage_errors_still_come_from_typer() -> None:
    help_text = run_meshc("check", "--help")
    assert help_text.returncode == 0 and "--strict" in help_text.stdout
    assert run_meshc("check", "--format", "xml").returncode == 2


def test_clean_check_imports_neither_typer_nor_ruamel() -> None:
    """The pre-commit hook's path: no CLI framework, no pydantic, no rich, libyaml for YAML."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['meshc', 'check', sys.argv[1]]\n"
        "try:\n    runpy.run_module('meshc', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "heavy = ('typer', 'pydantic', 'rich', 'ruamel.yaml', 'xml.sax', 'polars', 'pyarrow')\n"
        "print('LOADED=' + ','.join(m for m in heavy if m in sys.modules), 'EXIT=' + str(code))\n"
    )
    contract = str(ROOT / "contracts" / "crm" / "orders.yaml")
    proc = subprocess.run(
        [sys.executable, "-c", code, contract], capture_output=True, text=True, cwd=ROOT
    )
    assert "LOADED= EXIT=0" in proc.stdout, proc.stdout + proc.stderr
