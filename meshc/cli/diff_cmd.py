"""`meshc diff`: a structured changelog between two versions of a contract."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from meshc.diagnostics import Diagnostic
    from meshc.evolution.changes import ContractDiff


class DiffFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    github = "github"


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff(
        paths: list[str] = typer.Argument(
            None,
            help="OLD.yaml NEW.yaml; with --base, the contract "
            "files or directories to compare [default: contracts/].",
        ),
        fmt: DiffFormat = typer.Option(DiffFormat.text, "--format", "-f", help="Output format."),
        base: str = typer.Option(
            None,
            "--base",
            help="Compare contracts with their version at this git ref instead of two files.",
        ),
    ) -> None:
        """Show what changed between two contract versions and whom it breaks.

        Each change is tightening, loosening, both or neutral, and graded breaking or not for
        consumers and producers (docs/evolution.md). `meshc diff` reports; the version policy
        (a breaking change needs a major bump) is enforced by `meshc check --base REF`.

        Exit 0 when no change is breaking, 1 when some change is breaking, 2 on errors (a file
        missing or invalid, a base ref not found)."""
        from meshc.cli.output import stdout

        diffs = _from_base(base, paths or ["contracts"]) if base else _from_files(paths or [])
        from meshc.evolution.render import render

        text = render(diffs, fmt.value, color=fmt is DiffFormat.text and stdout().is_terminal)
        if text:
            typer.echo(text)
        raise typer.Exit(1 if any(d.breaking for d in diffs) else 0)


def _from_files(paths: list[str]) -> list[ContractDiff]:
    from meshc.errors import ContractError
    from meshc.evolution.diff import diff_contracts
    from meshc.loader import load_contract

    if len(paths) != 2:
        typer.echo("error: meshc diff needs OLD.yaml and NEW.yaml (or --base REF)", err=True)
        raise typer.Exit(2)
    try:
        old, new = (load_contract(p, compile_rules=False) for p in paths)
    except ContractError as exc:
        _fail(exc.diagnostics)
    return [diff_contracts(old, new)]


def _from_base(base: str, paths: list[str]) -> list[ContractDiff]:
    from meshc.discovery import find_contracts
    from meshc.evolution.gitbase import compare_with_base

    files, problems = find_contracts(paths)
    comparison = compare_with_base(files, base)
    errors = [d for d in [*problems, *comparison.diagnostics] if d.severity.value == "error"]
    if errors:
        _fail(errors)
    return comparison.diffs


def _fail(diagnostics: Sequence[Diagnostic]) -> NoReturn:
    for d in diagnostics:
        typer.echo(d.render(), err=True)
    raise typer.Exit(2)
