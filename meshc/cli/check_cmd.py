"""`meshc check`: lint contracts for CI and pre-commit. Imports no dataframe engine."""

from __future__ import annotations

from pathlib import Path

import typer

from meshc.cli.output import CheckFormat


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        paths: list[str] = typer.Argument(
            None, help="Contract files, directories or globs \\[default: contracts/]."
        ),
        fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Output format."),
        strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
        mesh: Path = typer.Option(
            None,
            "--mesh",
            help="mesh.yaml with governance policies \\[default: ./mesh.yaml when present].",
        ),
        base: str = typer.Option(
            None, "--base", help="Git ref to compare against for breaking changes."
        ),
    ) -> None:
        """Validate contracts: JSON Schema, rule compilation, governance and breaking changes.

        Exit 0 when clean, 1 when there are findings, 2 on usage errors."""
        from meshc.checking import run_check

        result = run_check(paths or ["contracts"], mesh_path=mesh, base_ref=base)
        _emit(result, fmt)
        failing = result.errors or (strict and result.warnings)
        raise typer.Exit(1 if failing else 0)


def _emit(result, fmt: CheckFormat) -> None:
    from meshc import diagnostics as dg
    from meshc.cli.output import render_diagnostics_text

    if fmt is CheckFormat.text:
        render_diagnostics_text(result.diagnostics, len(result.files))
    elif fmt is CheckFormat.json:
        typer.echo(dg.to_json(result.diagnostics, len(result.files)))
    elif fmt is CheckFormat.junit:
        typer.echo(dg.to_junit(result.diagnostics, [str(f) for f in result.files], "meshc check"))
    else:
        out = dg.to_github(result.diagnostics)
        if out:
            typer.echo(out)
